#ifndef STORYSYNC_CORE_GITREPO_H
#define STORYSYNC_CORE_GITREPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The only libgit2 user: opening the repository as git would, tree diffs
 * with exact renames, the commit walk that attributes changes, and the
 * optional commit of synced files. Every libgit2 error comes back as
 * "git: <what was being done>: <libgit2's message>". Commit ids are 40
 * lowercase hex digits (libgit2 1.5 knows only SHA-1).
 */

/* A commit id in hex plus its NUL. */
#define GITREPO_HEX 41

struct gitrepo;

/* Opens the repository holding dir, searched upward as git does (linked
 * worktrees included). GIT_DIR and GIT_WORK_TREE, when set (as git sets
 * them for hooks), win over dir; with GIT_DIR alone the work tree is the
 * one git would use (core.worktree, the parent of a ".git" directory, else
 * the current directory). A bare repository fails with "bare repository:
 * nothing to sync"; no repository with "DIR: not a git repository". */
struct gitrepo *gitrepo_open(const char *dir, struct err *e);
/* Closes the repository; r may be NULL. */
void gitrepo_destroy(struct gitrepo *r);

/* The work tree's absolute, symlink-free path, without a trailing '/'. */
const char *gitrepo_workdir(const struct gitrepo *r);
/* The git directory (a linked worktree's own one), without a trailing '/'. */
const char *gitrepo_gitdir(const struct gitrepo *r);
/* True when the repository is a shallow clone: its history is cut. */
bool gitrepo_is_shallow(const struct gitrepo *r);
/* True when HEAD names a branch with no commit yet (as at opening). */
bool gitrepo_head_unborn(const struct gitrepo *r);
/* True when HEAD points at a commit, not a branch (as at opening). */
bool gitrepo_head_detached(const struct gitrepo *r);

/* The path of dir relative to the work tree ("" for the top, else
 * "a/b" without a trailing '/'), in *prefix (heap). dir must exist;
 * outside the work tree: "DIR: outside the git work tree WORKDIR". */
bool gitrepo_prefix(const struct gitrepo *r, const char *dir, char **prefix,
		    struct err *e);

/* *tracked when git tracks the file at path (absolute, symlink-free
 * directories): its index, in any stage, holds it. The repository is the
 * one git would find from path's directory; with none, or path outside its
 * work tree, false. It needs no repository opened before. */
bool gitrepo_tracked(const char *path, bool *tracked, struct err *e);
/* The same, answered by HEAD's commit when git's index cannot be read
 * (libgit2 refuses a split index, git's core.splitIndex, whose every run
 * would otherwise fail): *tracked when HEAD holds path, why then set to
 * the index's error (else empty; why may be NULL). Asked of a file git
 * must not have put there: git replaces an ignored file on checkout,
 * merge or reset with the version of the commit that tracks it, which
 * HEAD then is. The core's side only (gitload.c). */
bool gitrepo_tracked_head(const char *path, bool *tracked, struct err *why,
			  struct err *e);

/* HEAD's commit id into out, read now; *unborn set (out = "") when the
 * branch has no commit yet. */
bool gitrepo_head(struct gitrepo *r, char out[GITREPO_HEX], bool *unborn,
		  struct err *e);

/* *yes when commit a is b or in b's history. A missing or malformed a
 * (history rewritten, object pruned) is a plain no, not an error. */
bool gitrepo_is_ancestor(struct gitrepo *r, const char *a, const char *b,
			 bool *yes, struct err *e);

/* *yes when commit (a full id) is in the object store: a commit an amend
 * or a rebase replaced, then pruned (gc), is not. A malformed id is a
 * plain no. */
bool gitrepo_has_commit(struct gitrepo *r, const char *commit, bool *yes,
			struct err *e);

/* *yes when commit (a full id) is a local branch's tip or in its history:
 * a HEAD that left it by a checkout can come back, while one that amended,
 * rebased or reset it away left it for good. A missing or malformed
 * commit is a plain no. */
bool gitrepo_on_branch(struct gitrepo *r, const char *commit, bool *yes,
		       struct err *e);

/* One changed file: 'A' added, 'M' modified (content, mode or type), 'D'
 * deleted, 'R' renamed with the same content. old_path is NULL for 'A',
 * new_path NULL for 'D'. Paths are relative to the work tree's top. */
struct gitrepo_change {
	char status;
	const char *old_path;
	const char *new_path;
};

/* Called once per change; return false to stop (the caller's error in its
 * own ctx: gitrepo_diff then returns false with e untouched). */
typedef bool (*gitrepo_change_fn)(void *ctx, const struct gitrepo_change *c);

/* The tree diff from commit `from` (NULL: the empty tree) to commit `to`,
 * limited to pathspecs (NULL-terminated, git pathspecs relative to the top:
 * "dir" covers everything below it; NULL: everything), exact renames
 * detected among the paths within the pathspecs. Submodules are skipped.
 * Calls fn per change in path order. */
bool gitrepo_diff(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, gitrepo_change_fn fn, void *ctx,
		  struct err *e);

/* One commit of a walk and what it changed against its first parent
 * (the empty tree for a root commit), limited as the walk asked. */
struct gitrepo_commit {
	char id[GITREPO_HEX];
	const char *author_name;
	const char *author_email;
	int64_t time;   /* author time, seconds since the epoch */
	int tz_minutes; /* the author's UTC offset */
	unsigned nparents;
	const struct gitrepo_change *changes;
	size_t nchanges;
};

/* Called once per commit that changed something within the pathspecs;
 * return false to stop (gitrepo_walk then returns false, e untouched). */
typedef bool (*gitrepo_commit_fn)(void *ctx, const struct gitrepo_commit *c);

/* Walk flags. */
enum {
	/* Follow only first parents: a merge then reports, as one commit,
	 * everything its side branch brought (git log --first-parent). */
	GITREPO_WALK_FIRST_PARENT = 1 << 0,
};

/* Walks the commits reachable from `to` and not from `from` (NULL: the
 * whole history), oldest first (parents before children, then by time),
 * and calls fn for each with its first-parent diff as gitrepo_diff makes
 * it. Without GITREPO_WALK_FIRST_PARENT every commit is walked and merges
 * are skipped, so each change is attributed to the commit that made it; a
 * change made only while resolving a merge is then not reported (attribute
 * it to `to`). For "who last touched path P in from..to" keep the last
 * commit seen for P. */
bool gitrepo_walk(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, unsigned flags,
		  gitrepo_commit_fn fn, void *ctx, struct err *e);

/* Where the value a file at path holds came from in git. */
struct gitrepo_origin {
	bool held;    /* the file is the index's or HEAD's version of path,
			 and holds the value */
	bool arrived; /* held, and the value came to path with the file: the
			 oldest of the newest versions that hold it is the
			 path's first (added, moved there, or the history's
			 start); false when a version of path changed it */
	char commit[GITREPO_HEX]; /* held: the commit of that version, ""
				     when it is only staged */
};

/* True when text (a version of the path, len bytes) holds the value
 * asked about. */
typedef bool (*gitrepo_same_fn)(void *ctx, const char *text, size_t len);

/* Traces the value of the file whose content is blob (a blob id) at path
 * (relative to the top): when it is the index's or HEAD's version, goes
 * back through the staged version, then HEAD's first-parent history, for
 * as long as the versions of path hold the same value (asked of same), and
 * says where that run of versions began. Work in proportion to that run. */
bool gitrepo_value_origin(struct gitrepo *r, const char *path, const char *blob,
			  gitrepo_same_fn same, void *ctx,
			  struct gitrepo_origin *out, struct err *e);

/* The content of the blob blob (a blob id), in *text (heap, NUL-ended)
 * and *len. */
bool gitrepo_blob_text(struct gitrepo *r, const char *blob, char **text,
		       size_t *len, struct err *e);
/* The blob id of path's version (relative to the top) in the index, what
 * `git checkout -- path` puts back; "" when the index has none. */
bool gitrepo_staged_blob(struct gitrepo *r, const char *path,
			 char blob[GITREPO_HEX], struct err *e);

/* The blob id of path's version in HEAD's tree; "" when HEAD has none
 * (or is unborn): what `git reset --hard` and `git stash` put back. */
bool gitrepo_head_blob(struct gitrepo *r, const char *path,
		       char blob[GITREPO_HEX], struct err *e);
/* Whether the module (libgit2, libcrypto) is loaded already, by some
 * earlier call: more calls then cost little. The program's side only. */
bool gitrepo_loaded(void);
/* HEAD's commit id and its tree's (both "" when HEAD is unborn): a
 * commit's tree never changes, so what this says may be kept for as long
 * as HEAD is that commit (gitindex_head_blob). */
bool gitrepo_head_tree(struct gitrepo *r, char commit[GITREPO_HEX],
		       char tree[GITREPO_HEX], struct err *e);
/* Whether git took the blob, written at the time written over the
 * version before (a blob id, or NULL), as path's version: the index holds
 * it, or a commit does that HEAD reaches by first parents, committed at or
 * after since (seconds since the epoch; the walk stops at the first older
 * one, and after a thousand) and after the write. The commits above seen
 * (a commit id a run saw after the write, or NULL) are all after it; at
 * seen and below it (or everywhere without seen), the walk stops at a
 * commit holding before made at or before written: the one the write was
 * made over, or an older one, where the blob held (the same content, an
 * older version the write happened to restore) is no take of it. A seen
 * HEAD no longer reaches (amended, rebased) counts from where HEAD's line
 * and its parted, and when seen holds before, made at or before written,
 * the walk stops there: what the two share is older than the write.
 * With alone (else NULL; NULL-terminated), only a version that holds
 * nothing at each path of alone, nor before anywhere but at path, counts:
 * git took the blob as its file's only copy (a move's). */
bool gitrepo_blob_committed(struct gitrepo *r, const char *path,
			    const char *blob, const char *before,
			    const char *seen, const char *const *alone,
			    int64_t written, int64_t since, bool *held,
			    struct err *e);

/* The two questions below read one walk of path's versions since the
 * commit since (a hex id), newest first: the index's, HEAD's, then each
 * commit's HEAD reaches by first parents down to since (within a
 * thousand). Where those do not reach since (history rewritten between
 * two runs: an amend, a rebase, a reset to another line, a forced pull),
 * the commits on the way are replays of older ones, no one's change
 * since: the walk is then the index's, HEAD's and since's own version
 * (its commit is still in the object store; gone, gc'd, as each question
 * says). */

/* Whether a version in that walk differs from the next older: a
 * person's doing since (a commit's change, a staged one). With was (else
 * NULL), the one change that moved the version unchanged from was to
 * path (was no longer there) is none: the walk goes on at was (a
 * directory the configuration moved, git mv'd). Since's commit gone: as
 * HEAD's (unchanged, the answer that takes the file for git's, whose
 * values the caller keeps). */
bool gitrepo_path_changed(struct gitrepo *r, const char *path, const char *was,
			  const char *since, bool *changed, struct err *e);

/* How many paths below dir (a directory relative to the top, "" for all
 * of it) the tree of commit (a hex id) holds blob (a blob id) at, counted
 * up to max, into *n: 0 when the object store no longer holds the
 * commit. Reads the trees below dir until it has counted max: for a rare
 * question. */
bool gitrepo_commit_holds(struct gitrepo *r, const char *commit,
			  const char *dir, const char *blob, size_t max,
			  size_t *n, struct err *e);

/* Whether git's one change to path since removed its version blob (a
 * blob id; added false) or added it (added true), into *only: the walk's
 * versions are none (removed) or blob (added), then, from one of them
 * on, the other, since's among these; since's commit gone, as it had
 * the other. A directory moved by hand (mv, git not told), the move
 * staged (add -u) or committed (commit -a), which records the old
 * paths' removal only, its new place perhaps added after. */
bool gitrepo_path_one_change(struct gitrepo *r, const char *path,
			     const char *blob, const char *since, bool added,
			     bool *only, struct err *e);

/* Called with each version of a path, oldest first: its text (NULL when
 * the commit has none, or it is larger than the limit) and len. Return
 * false to stop (gitrepo_path_versions then returns false, e untouched). */
typedef bool (*gitrepo_version_fn)(void *ctx, const char *text, size_t len);

/* The versions of path (relative to the top) in the commits from (a hex
 * id: the HEAD the caller read, which a reset since does not change;
 * NULL or "": HEAD now) reaches by first parents after the commit since
 * (a hex id), oldest first, each once where it changed: fn is called with
 * each. *found is false, and fn never called, when since is not on that
 * line within max commits (a history rewritten, another branch, too long
 * ago). A version's size is read before its content: one larger than
 * limit bytes is never read. */
bool gitrepo_path_versions(struct gitrepo *r, const char *path,
			   const char *from, const char *since, size_t max,
			   size_t limit, gitrepo_version_fn fn, void *ctx,
			   bool *found, struct err *e);

/* The directory git runs hooks from, in *dir (heap): core.hooksPath
 * (relative to the work tree's top, as git resolves it) or the common git
 * directory's hooks/ (shared by linked worktrees). It may not exist. */
bool gitrepo_hooks_dir(struct gitrepo *r, char **dir, struct err *e);

/* Called with each path a commit stages (relative to the top): its blob
 * id and git mode as committed, or blob NULL when it was removed. */
typedef bool (*gitrepo_staged_fn)(void *ctx, const char *path, const char *blob,
				  unsigned mode, struct err *e);

/* Whether libgit2 reads git's index (not a split index); else e says why.
 * The module's side. */
bool gitrepo_index_readable(struct gitrepo *r, struct err *e);
/* gitrepo_commit_paths, the index neither read nor written: each path
 * committed given to staged instead (NULL: the index updated, as
 * gitrepo_commit_paths). The module's side. */
bool gitrepo_commit_staged(struct gitrepo *r, const char *const *paths,
			   size_t npaths, const char *message, const char *name,
			   const char *email, gitrepo_staged_fn staged,
			   void *ctx, char out[GITREPO_HEX], struct err *e);

/* The reader of the index the module calls where libgit2 cannot read it
 * (a split index): the blob id of path's stage 0 entry in gitdir's index,
 * 1; 0 when none; -1 when it cannot say. Given by the core at loading
 * (gitindex_staged). */
typedef int (*gitrepo_index_fn)(const char *gitdir, const char *path,
				char blob[GITREPO_HEX]);
void gitrepo_index_reader(gitrepo_index_fn fn);

/* Commits exactly these paths (relative to the top; a path missing from the
 * work tree is committed as deleted) on HEAD as name <email>, whatever else
 * is staged: the new tree is HEAD's tree with these paths as they are in
 * the work tree (name NULL: the repository's user.name and user.email).
 * The index is then updated for these paths only, so other
 * staged changes stay staged. The new commit's id goes to out (may be
 * NULL). libgit2 runs no hooks, so this never re-enters storysync; callers
 * still set STORYSYNC_RUNNING=1 for any git they spawn. Fails with
 * "git: commit: HEAD moved" when HEAD changed since it was read. An index
 * libgit2 cannot read (a split index) is read and written by gitindex.c
 * (the core's side: gitload.c), as one plain index. */
bool gitrepo_commit_paths(struct gitrepo *r, const char *const *paths,
			  size_t npaths, const char *message, const char *name,
			  const char *email, char out[GITREPO_HEX],
			  struct err *e);

#endif
