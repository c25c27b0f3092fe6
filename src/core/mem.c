#include "mem.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the handler may use: cleaning up after a failed allocation needs
 * some memory itself. */
#define OOM_RESERVE 65536

static mem_oom_fn on_oom;
static void *reserve;
/* a helper thread's failure, left to the thread that runs the handler */
static _Thread_local bool deferring;
static atomic_bool pending;

void mem_defer_oom(void)
{
	deferring = true;
}

bool mem_oom_pending(void)
{
	return atomic_load(&pending);
}

void mem_on_oom(mem_oom_fn fn)
{
	on_oom = fn;
	if (fn && !reserve)
		reserve = malloc(OOM_RESERVE);
}

_Noreturn void mem_fail(void)
{
	mem_oom_fn fn = on_oom;

	if (deferring) {
		/* the handler's thread sees it and ends the program */
		atomic_store(&pending, true);
		for (;;)
			pause();
	}
	/* a failure inside the handler ends the program at once */
	on_oom = NULL;
	free(reserve);
	reserve = NULL;
	if (fn)
		fn();
	fputs("storysync: out of memory\n", stderr);
	fflush(NULL);
	_exit(3); /* EXIT_FATAL; _exit: no leak report of a run cut short */
}

static void *check(void *p)
{
	if (!p)
		mem_fail();
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t sz)
{
	return check(calloc(n ? n : 1, sz ? sz : 1));
}

void *xcalloc_written(size_t n, size_t sz)
{
	void *p = xreallocarray(NULL, n ? n : 1, sz ? sz : 1);

	return memset(p, 0, (n ? n : 1) * (sz ? sz : 1));
}

void *xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		check(NULL);
	size_t total = n * sz;

	return check(realloc(p, total ? total : 1));
}

void *xgrow(void *p, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	*cap = c;
	return xreallocarray(p, c, sz);
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char first[256], *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(first, sizeof(first), fmt, ap);
	va_end(ap);
	if (n < 0)
		mem_fail(); /* only an impossible format fails */
	if ((size_t)n < sizeof(first))
		return xstrndup(first, (size_t)n);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

#define ARENA_BLOCK 65536

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena_block *b = a->head;
	char *p;

	if (!b || b->used + n > b->size) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->next = a->head;
		b->used = 0;
		b->size = size;
		a->head = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

void arena_finish(struct arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;

		free(a->head);
		a->head = next;
	}
}

void xfree(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}
