#ifndef STORYSYNC_CORE_MEM_H
#define STORYSYNC_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Allocation that never returns NULL: when memory runs out, the handler
 * set with mem_on_oom runs (a sync rolls back and records the run), then
 * the program exits 3. A sync half done by an allocator failure is worse
 * than none; every allocation of storysync's own goes through malloc,
 * calloc and realloc here, which is the seam the out-of-memory sweep
 * wraps at link time (tests/oom). */
void *xmalloc(size_t n);
/* This thread's allocation failures do not run the handler: they wait
 * forever, and mem_oom_pending tells the thread that runs it, which must
 * then call mem_fail (a helper thread must not roll back a transaction
 * that its caller is still writing). */
void mem_defer_oom(void);
/* True once a deferring thread has run out of memory. */
bool mem_oom_pending(void);
/* Zeroed array of n elements of size sz; aborts on overflow. */
void *xcalloc(size_t n, size_t sz);
/* The same, cleared by writing every byte: for a table that is probed
 * (read) before it is written. A large calloc maps the shared zero page,
 * and the first store into each page of it then faults again and flushes
 * the TLB of every CPU the process's other threads run on. */
void *xcalloc_written(size_t n, size_t sz);
/* Resizes p to n elements of size sz; aborts on overflow. */
void *xreallocarray(void *p, size_t n, size_t sz);
/* Makes room for need elements of size sz in p, whose capacity *cap grows
 * geometrically (appending one at a time stays linear). */
void *xgrow(void *p, size_t *cap, size_t need, size_t sz);
/* Copy of s, or NULL when s is NULL. */
char *xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Strings that live and die together, allocated in large blocks: no
 * malloc per string, one free for all. */
struct arena {
	struct arena_block *head;
};
/* A copy of s in the arena. */
char *arena_strdup(struct arena *a, const char *s);
/* Frees every string of the arena. */
void arena_finish(struct arena *a);

/* What runs when an allocation fails, after a reserve kept for it is
 * released; it does not return. NULL restores the default: "out of
 * memory" on stderr and exit 3. */
typedef void (*mem_oom_fn)(void);
void mem_on_oom(mem_oom_fn fn);
/* Ends the program as a failed allocation does: the handler, then exit 3.
 * The git module's allocations end here too. */
_Noreturn void mem_fail(void);

/* Frees *p and sets it to NULL. */
void xfree(void *pp);

#endif
