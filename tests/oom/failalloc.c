/*
 * The link-time seam of the out-of-memory sweep: storysync-failalloc is
 * storysync linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * so every allocation of storysync's own code (mem.c's) comes here.
 *
 *   STORYSYNC_FAIL_ALLOC=k    the k-th allocation fails (and only it)
 *   STORYSYNC_ALLOC_COUNT=F   at exit, the number made is written to F
 *
 * The libraries' own allocations (SQLite's, libyaml's) are theirs: SQLite
 * reports a failure of its own as SQLITE_NOMEM, an error like any other.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t sz);
void *__wrap_realloc(void *p, size_t n);

static atomic_long calls;

/* True when this allocation is the one to fail. */
static bool fails(void)
{
	static long k = -1;
	long at = atomic_fetch_add(&calls, 1) + 1;

	if (k < 0) {
		const char *v = getenv("STORYSYNC_FAIL_ALLOC");

		k = v ? atol(v) : 0;
	}
	return k > 0 && at == k;
}

void *__wrap_malloc(size_t n)
{
	return fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t sz)
{
	return fails() ? NULL : __real_calloc(n, sz);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fails() ? NULL : __real_realloc(p, n);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("STORYSYNC_ALLOC_COUNT");
	FILE *f = path ? fopen(path, "w") : NULL;

	if (f) {
		fprintf(f, "%ld\n", atomic_load(&calls));
		fclose(f);
	}
}
