#ifndef STORYSYNC_CORE_GITINDEX_H
#define STORYSYNC_CORE_GITINDEX_H

#include <stdbool.h>
#include <stddef.h>

/* What git's index says of one path. */
enum gitindex_answer {
	GITINDEX_UNSURE,    /* only libgit2 may answer */
	GITINDEX_TRACKED,   /* the index lists it (any stage) */
	GITINDEX_UNTRACKED, /* it does not, or there is no repository */
};

/* Whether git tracks path (absolute, its directory canonical), read from
 * the work tree's index file (DIRC versions 2 to 4) without libgit2.
 * Unsure whenever it cannot answer as libgit2 would: GIT_DIR or
 * GIT_WORK_TREE set, a split or sparse index, a repository it does not
 * understand or does not own, an index it cannot read or parse. Like the
 * libgit2 path, it reads the repository's own index, not GIT_INDEX_FILE. */
enum gitindex_answer gitindex_tracked(const char *path);

/* Whether the index in data (len bytes, all of the file) lists rel (a path
 * relative to the work tree, '/'-separated). Never reads outside data. */
enum gitindex_answer gitindex_lookup(const unsigned char *data, size_t len,
				     const char *rel);

#endif
