#ifndef STORYSYNC_CORE_GITHEAD_H
#define STORYSYNC_CORE_GITHEAD_H

#include <stdbool.h>

/* A commit id in hex plus its NUL (as GITREPO_HEX). */
#define GITHEAD_HEX 41

/* HEAD's commit id of the work tree holding dir, read from the files as
 * git keeps them (.git, a linked worktree's gitdir, loose refs,
 * packed-refs) without starting libgit2. False, out "", whenever it is not
 * sure (GIT_DIR or GIT_WORK_TREE set, no repository, an unborn branch, a
 * reftable, anything unusual): then only libgit2 may answer. */
bool githead_read(const char *dir, char out[GITHEAD_HEX]);

/* The git directory of the work tree holding dir (absolute): a ".git"
 * directory, or the one a ".git" file names (a linked worktree, a
 * submodule); NULL when there is none. *workdir (heap, when asked) is the
 * directory holding that ".git"; *crossed says the search left dir's
 * filesystem, where libgit2 would have stopped. */
char *githead_gitdir(const char *dir, char **workdir, bool *crossed);
/* The directory all worktrees share: gitdir's "commondir", else gitdir. */
char *githead_common_dir(const char *gitdir);

#endif
