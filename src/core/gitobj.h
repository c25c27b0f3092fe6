#ifndef STORYSYNC_CORE_GITOBJ_H
#define STORYSYNC_CORE_GITOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An object id in hex plus its NUL (as GITHEAD_HEX). */
#define GITOBJ_HEX 41

/* The tree id of commit (hex) in the repository of the work tree holding
 * dir (absolute), read from git's object store without libgit2: a loose
 * object, or a whole (not deltified) entry of a pack found by its .idx
 * (version 2). False, tree "", whenever unsure: GIT_DIR and the like set,
 * a ".git" file (a linked worktree, a submodule), alternates, a shallow or
 * grafted repository, replace refs, a SHA-256 one, a delta, an object that
 * does not hash to commit, anything it cannot read or parse. Then only
 * libgit2 may answer. */
bool gitobj_commit_tree(const char *dir, const char *commit,
			char tree[GITOBJ_HEX]);

/* The parts, for the tests; none reads outside what it is given. */
/* The tree of the loose object file data (len bytes, deflated) when it
 * is the commit commit. */
bool gitobj_loose_tree(const unsigned char *data, size_t len,
		       const char *commit, char tree[GITOBJ_HEX]);
/* What a pack index (len bytes, all of the .idx) says of id (20 bytes). */
enum gitobj_found {
	GITOBJ_UNSURE, /* not a version 2 index this reader trusts */
	GITOBJ_AT,     /* listed: *offset its entry's in the pack */
	GITOBJ_ABSENT, /* not listed */
};
enum gitobj_found gitobj_idx_find(const unsigned char *idx, size_t len,
				  const unsigned char id[20], uint64_t *offset);
/* The tree of the pack's (len bytes, all of the .pack) entry at offset
 * when it is a whole commit that hashes to commit. */
bool gitobj_pack_tree(const unsigned char *pack, size_t len, uint64_t offset,
		      const char *commit, char tree[GITOBJ_HEX]);

#endif
