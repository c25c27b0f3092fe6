/* sync_cache.c: the stat cache in a run (statcache.h): opened for a walk
 * of the whole tree, written anew once a run holds the state at the
 * generation it read (sync_impl.h). */
#include "sync_impl.h"

#include "statcache.h"

/* sync_state's generation now; false when the database keeps none. */
static bool generation(struct run *run, int64_t *gen)
{
	char *v = NULL, *end;
	struct err e;
	bool ok;

	if (!store_meta_get(run->store, "state.generation", &v, &e) || !v) {
		free(v);
		return false;
	}
	errno = 0;
	*gen = strtoll(v, &end, 10);
	ok = errno == 0 && end != v && !*end;
	free(v);
	return ok;
}

struct statcache *cache_open(struct run *run, bool full)
{
	const struct config *c = run->all;

	run->gen_known = fstat(run->rootfd, &run->root_st) == 0 &&
			 generation(run, &run->gen);
	/* a selection walks some backlogs, a moved configuration's files
	 * are not where the cache has them, and a killed run's files are
	 * the journal's */
	if (!run->gen_known || full || run->c != c || run->rc.relocates ||
	    run->rc.reread || !journal_empty(&run->journal))
		return NULL;
	if (run->ahead && statcache_generation(run->ahead_cache) == run->gen)
		return run->cache = run->ahead_cache;
	run->cache = statcache_open(c->home.cache, &run->gen, &run->root_st);
	return run->cache;
}

void cache_walk_ahead(struct run *run)
{
	const struct config *c = run->all;
	struct err e;

	if (run->o->mode != SYNC_SCAN || run->c != c)
		return;
	if (run->rootfd < 0 && (run->rootfd = fsx_open_root(c->root, &e)) < 0)
		return; /* said when the run opens it */
	if (fstat(run->rootfd, &run->root_st) != 0 ||
	    !(run->ahead_cache =
		      statcache_open(c->home.cache, NULL, &run->root_st)))
		return;
	run->ahead = detect_walk_start(c, run->rootfd,
				       run->r ? run->r->progress : NULL,
				       run->ahead_cache);
}

struct scan_walk *cache_walk(struct run *run, bool full,
			     struct sync_progress *p)
{
	struct statcache *cache = cache_open(run, full);
	struct scan_walk *w = run->ahead;

	if (w && cache == run->ahead_cache) {
		run->ahead = NULL;
		run->ahead_cache = NULL;
		return w;
	}
	cache_ahead_cancel(run);
	return detect_walk_start(run->c, run->rootfd, p, cache);
}

void cache_ahead_cancel(struct run *run)
{
	if (run->ahead)
		detect_walk_cancel(run->ahead);
	statcache_close(run->ahead_cache);
	run->ahead = NULL;
	run->ahead_cache = NULL;
}

void cache_loaded(struct run *run)
{
	int64_t now;

	run->table_at_gen = run->gen_known && !run->partial_state &&
			    generation(run, &now) && now == run->gen;
}

void cache_keep(struct run *run, enum sync_status status)
{
	int64_t now;
	struct err e;

	/* a run that changed sync_state has it in memory only in part: the
	 * next run, which reads it all, writes the cache */
	if (run->o->dry_run || run->cache || !run->table_at_gen ||
	    run->rc.relocates ||
	    (status != SYNC_OK && status != SYNC_SKIPPED) ||
	    !generation(run, &now) || now != run->gen)
		return;
	/* a cache that cannot be written costs the next run its time */
	(void)statcache_write(run->all->home.cache, run->all->home.root,
			      run->gen, &run->root_st, run->table.v,
			      run->table.n, &e);
}
