#ifndef STORYSYNC_CORE_GITINDEX_H
#define STORYSYNC_CORE_GITINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A blob id in hex plus its NUL. */
#define GITINDEX_HEX 41

/* What git's index says of one path. */
enum gitindex_answer {
	GITINDEX_UNSURE,    /* only libgit2 may answer */
	GITINDEX_TRACKED,   /* the index lists it (any stage) */
	GITINDEX_UNTRACKED, /* it does not, or there is no repository */
};

#include "err.h"

/* Whether git tracks path (absolute, its directory canonical), read from
 * the work tree's index file (DIRC versions 2 to 4, split or not: a split
 * index's shared one is $GIT_DIR/sharedindex.<id>) without libgit2.
 * Unsure whenever it cannot answer as libgit2 would: GIT_DIR or
 * GIT_WORK_TREE set, a sparse index, a repository it does not
 * understand or does not own, an index it cannot read or parse. Like the
 * libgit2 path, it reads the repository's own index, not GIT_INDEX_FILE. */
enum gitindex_answer gitindex_tracked(const char *path);

/* The index file as a read of it found it (stat data, in ns) and what
 * was asked of it (a digest of its git directory, work tree and the path
 * asked): the same stamp, the same index and question. */
struct gitindex_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint64_t where;
	/* HEAD's commit as the caller found it with this answer (hex; ""
	 * when not known): gitindex_prefixed sets it to "" */
	char head[GITINDEX_HEX];
	bool set; /* false: none */
};

/* Whether a and b are both set and equal (their heads not compared). */
bool gitindex_stamp_equal(const struct gitindex_stamp *a,
			  const struct gitindex_stamp *b);

/* The files git's index lists whose path starts with path (absolute, its
 * directory canonical): each one's path (absolute), ending in '\n', added
 * to out. UNTRACKED when none is, UNSURE as gitindex_tracked. One read
 * of the index for a family of names (the database and its files).
 * stamp (or NULL) is the stamp of an earlier read that listed none: when
 * the index file's is that one still, UNTRACKED without reading it,
 * stamp unchanged. Else it is set to the stamp of this answer when that
 * is UNTRACKED from the index, stat'ed older than the racy window
 * (fsx_racy), else cleared. root (or NULL) gets the index's cache tree
 * root (gitindex_tree_open) when it was read and that is valid, else "". */
struct buf;
enum gitindex_answer gitindex_prefixed(const char *path, struct buf *out,
				       struct gitindex_stamp *stamp,
				       char root[GITINDEX_HEX]);

/* Whether the index in data (len bytes, all of the file) lists rel (a path
 * relative to the work tree, '/'-separated). Never reads outside data. */
enum gitindex_answer gitindex_lookup(const unsigned char *data, size_t len,
				     const char *rel);
/* The same of a split index in data whose shared index is shared (slen
 * bytes; NULL: not read, unsure). Never reads outside either. */
enum gitindex_answer gitindex_lookup_split(const unsigned char *data,
					   size_t len,
					   const unsigned char *shared,
					   size_t slen, const char *rel);

/* The blob id of rel's stage 0 entry in gitdir's index (split or not),
 * what libgit2's git_index_get_bypath(index, rel, 0) gives, for where
 * libgit2 cannot read the index: 1 and blob, 0 (blob "") when it has
 * none, -1 when it cannot be read or is not understood. The index is
 * read once and kept for the next paths while its file stays the same
 * (its stat data). */
int gitindex_staged(const char *gitdir, const char *rel,
		    char blob[GITINDEX_HEX]);

/* git's index read as a tree: the files it holds, by path. */
struct gitindex_tree;

/* The index of the work tree holding dir (absolute, canonical) as a tree, when
 * it provably is the tree tree (hex; HEAD's, as the caller knows it for HEAD's
 * commit: gitrepo_head_tree): its cache tree (the "TREE" extension, which git
 * invalidates along every path the index changes) has a valid root whose
 * id is tree. Then the index's blob at a path is that tree's, which git
 * reset --hard and git stash put back, and libgit2 need not read the
 * tree. NULL when unsure (a staged change anywhere, no cache tree, and
 * whatever gitindex_tracked is unsure of). */
struct gitindex_tree *gitindex_tree_open(const char *dir, const char *tree);
/* The same of the index in data (len bytes, all of the file): paths are
 * then relative to the work tree. Never reads outside data. */
struct gitindex_tree *gitindex_tree_of(const unsigned char *data, size_t len,
				       const char *tree);
/* The same of a split index, its shared index in shared (slen bytes). */
struct gitindex_tree *gitindex_tree_split(const unsigned char *data, size_t len,
					  const unsigned char *shared,
					  size_t slen, const char *tree);
/* The blob t holds at path (absolute, in t's work tree): TRACKED, blob
 * set; UNTRACKED, blob "", when the tree has no file there; UNSURE for a
 * path outside the work tree, or an entry no tree holds as a file (a
 * conflict, an entry added with --intent-to-add, a submodule). */
enum gitindex_answer gitindex_tree_blob(const struct gitindex_tree *t,
					const char *path,
					char blob[GITINDEX_HEX]);
void gitindex_tree_free(struct gitindex_tree *t);

/* git's index being changed: its lock held, its entries read. */
struct gitindex_edit;

/* Takes gitdir's index lock as git does (index.lock, made exclusively:
 * "File exists" while git holds it) and reads its index, split or not,
 * for the work tree workdir. NULL, e set, when it cannot; *unsure then
 * when the index is one this reader does not understand. */
struct gitindex_edit *gitindex_edit_open(const char *gitdir,
					 const char *workdir, bool *unsure,
					 struct err *e);
/* Sets rel's entry (relative to the work tree): every stage of it
 * replaced by stage 0 of blob (hex) with mode (git's: 0100644, 0100755
 * or 0120000) and the stat data of the work tree's file; blob NULL
 * removes rel. */
bool gitindex_edit_set(struct gitindex_edit *ed, const char *rel,
		       const char *blob, unsigned mode, struct err *e);
/* Writes the index, changed, as one plain file (version 2, or 3 when an
 * entry has extended flags; no extensions: git rebuilds its caches, and
 * splits it again under core.splitIndex) into the lock, then renames the
 * lock over the index. Frees ed, whatever it returns. */
bool gitindex_edit_commit(struct gitindex_edit *ed, struct err *e);
/* Removes the lock, the index unchanged, and frees ed (may be NULL). */
void gitindex_edit_abort(struct gitindex_edit *ed);

#endif
