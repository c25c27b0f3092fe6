#ifndef STORYSYNC_CORE_STATCACHE_H
#define STORYSYNC_CORE_STATCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"
#include "fsx.h"
#include "store.h"

/*
 * The stat cache: sync_state's stat data in one file, sorted by path and
 * mapped, as git reads its index, so that a run in which no file changed
 * never reads sync_state at all. It is only a cache: the database is the
 * truth, and the cache holds the generation of sync_state it was made
 * from (a random value the triggers on sync_state renew with every change
 * of it, sync_meta 'state.generation'), and the device and inode of the
 * tree's root. A cache that is missing, of another version, another
 * generation or another tree, truncated, or whose checksum fails is not
 * used, and the run reads sync_state as it would without one. Its paths
 * are only compared with the walk's, never opened.
 */

struct statcache;

/* The cache at path if it is sound and of generation *gen (NULL: of any,
 * which statcache_generation tells) and the tree whose root has the stat
 * data root; NULL otherwise (a file this user does not own is not read). */
struct statcache *statcache_open(const char *path, const int64_t *gen,
				 const struct stat *root);
/* Unmaps c; NULL is fine. */
void statcache_close(struct statcache *c);
/* Whether the file at rel with the stat data st is the one the cache
 * has (the stat data equal, and not racy against the time they were
 * recorded, which the entry copies from sync_state: a time that may lie
 * past the cache's own writing, fsx_recorded_after); marks its entry seen.
 * Safe on several threads at once: each entry's mark is its own byte. */
bool statcache_unchanged(struct statcache *c, const char *rel,
			 const struct stat *st);
/* Starts fetching the slot of rel's hash into the CPU's cache, for a
 * statcache_unchanged of it after a system call (its lstat). */
void statcache_prefetch(const struct statcache *c, const char *rel);
/* Whether every entry of the cache was marked seen. */
bool statcache_all_seen(const struct statcache *c);
/* The number of entries marked seen. */
size_t statcache_nseen(const struct statcache *c);
/* Whether the file at the path of se was found unchanged by the walk
 * (statcache_unchanged) with the stat data se holds: se's file is
 * unchanged without the cache being trusted at all. */
bool statcache_same(const struct statcache *c, const struct state_entry *se);
/* The number of entries whose path lies beneath dir ("dir/..."; "."
 * or "": all of them), by two binary searches of the sorted paths: a
 * walk's estimate of a directory's size (a forged order only misleads
 * it). */
size_t statcache_count_under(const struct statcache *c, const char *dir);
/* The generation c was made from. */
int64_t statcache_generation(const struct statcache *c);
/* Writes the cache of the n entries of state, of generation gen and the
 * tree root (its stat data; tree its path: a path in it is written
 * beneath it, fsx_open_in), at path, through a temporary file and a
 * rename (no fsync: a cache lost in a crash costs one run its time). */
bool statcache_write(const char *path, const char *tree, int64_t gen,
		     const struct stat *root, const struct state_entry *state,
		     size_t n, struct err *e);

#endif
