/* gitrepo.c: the only libgit2 user. */
#include "gitrepo.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/repository.h>

#include "mem.h"

struct gitrepo {
	git_repository *repo;
	char *workdir;
	char *gitdir;
	bool shallow;
	bool unborn;
	bool detached;
};

/* "git: <what>: <libgit2's message>". */
static bool gerr(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool gerr(struct err *e, const char *fmt, ...)
{
	const git_error *ge = git_error_last();
	char what[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(e, "git: %s: %s", what,
		       ge && ge->message ? ge->message : "unknown error");
}

static char *strip_slash(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	return xstrndup(p, n);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* git's rule for GIT_DIR without GIT_WORK_TREE: when the repository has no
 * work tree of its own and is not declared bare, the current directory is
 * the top of the work tree. */
static bool default_workdir(git_repository *repo, struct err *e)
{
	git_config *cfg = NULL;
	int bare = 0;
	char cwd[PATH_MAX];
	bool ok = false;

	if (!git_repository_is_bare(repo))
		return true;
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return gerr(e, "read config");
	if (git_config_get_bool(&bare, cfg, "core.bare") < 0)
		bare = 0;
	if (bare) {
		ok = true;
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		err_set(e, "current directory: %s", strerror(errno));
		goto out;
	}
	if (git_repository_set_workdir(repo, cwd, 0) < 0) {
		gerr(e, "set work tree %s", cwd);
		goto out;
	}
	ok = true;
out:
	git_config_free(cfg);
	return ok;
}

/* Opens the repository as git would find it from dir; *none (when not
 * NULL) tells that there is none. */
static bool open_repo(git_repository **repo, const char *dir, bool *none,
		      struct err *e)
{
	const char *gitdir = env("GIT_DIR");
	const char *worktree = env("GIT_WORK_TREE");
	const char *path = gitdir ? gitdir : dir;
	unsigned flags = gitdir ? GIT_REPOSITORY_OPEN_NO_SEARCH : 0;
	int rc;

	/* Opened bare, the work tree set next replaces none: libgit2 1.5
	 * leaks the one it would replace. */
	if (worktree)
		flags |= GIT_REPOSITORY_OPEN_BARE;
	rc = git_repository_open_ext(repo, path, flags, NULL);

	if (rc == GIT_ENOTFOUND && none)
		*none = true;
	if (rc == GIT_ENOTFOUND)
		return err_set(e, "%s: not a git repository", path);
	if (rc < 0)
		return gerr(e, "open %s", path);
	if (worktree) {
		if (git_repository_set_workdir(*repo, worktree, 0) < 0)
			return gerr(e, "set work tree %s", worktree);
		return true;
	}
	return gitdir ? default_workdir(*repo, e) : true;
}

static bool fill_info(struct gitrepo *r, struct err *e)
{
	char real[PATH_MAX];
	int rc;

	if (!realpath(git_repository_workdir(r->repo), real))
		return err_set(e, "%s: %s", git_repository_workdir(r->repo),
			       strerror(errno));
	r->workdir = strip_slash(real);
	r->gitdir = strip_slash(git_repository_path(r->repo));
	if ((rc = git_repository_is_shallow(r->repo)) < 0)
		return gerr(e, "read shallow state");
	r->shallow = rc;
	if ((rc = git_repository_head_unborn(r->repo)) < 0)
		return gerr(e, "read HEAD");
	r->unborn = rc;
	if ((rc = git_repository_head_detached(r->repo)) < 0)
		return gerr(e, "read HEAD");
	r->detached = rc;
	return true;
}

struct gitrepo *gitrepo_open(const char *dir, struct err *e)
{
	struct gitrepo *r = xcalloc(1, sizeof(*r));

	git_libgit2_init();
	/* as git does: an object read is not hashed again to check it; a
	 * diff of large trees spent a fifth of its time verifying them */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* the diff and the walk read the same large trees: keep them (by
	 * default only trees under 4 KiB are cached) */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
			 (size_t)4 << 20);
	if (!open_repo(&r->repo, dir, NULL, e))
		goto fail;
	if (git_repository_is_bare(r->repo)) {
		err_set(e, "bare repository: nothing to sync");
		goto fail;
	}
	if (!fill_info(r, e))
		goto fail;
	return r;
fail:
	gitrepo_destroy(r);
	return NULL;
}

void gitrepo_destroy(struct gitrepo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->workdir);
	free(r->gitdir);
	free(r);
	git_libgit2_shutdown();
}

const char *gitrepo_workdir(const struct gitrepo *r)
{
	return r->workdir;
}

const char *gitrepo_gitdir(const struct gitrepo *r)
{
	return r->gitdir;
}

bool gitrepo_is_shallow(const struct gitrepo *r)
{
	return r->shallow;
}

bool gitrepo_head_unborn(const struct gitrepo *r)
{
	return r->unborn;
}

bool gitrepo_head_detached(const struct gitrepo *r)
{
	return r->detached;
}

bool gitrepo_prefix(const struct gitrepo *r, const char *dir, char **prefix,
		    struct err *e)
{
	char real[PATH_MAX];
	size_t n = strlen(r->workdir);

	if (!realpath(dir, real))
		return err_set(e, "%s: %s", dir, strerror(errno));
	if (strcmp(real, r->workdir) == 0) {
		*prefix = xstrdup("");
		return true;
	}
	if (strcmp(r->workdir, "/") == 0) {
		*prefix = xstrdup(real + 1);
		return true;
	}
	if (strncmp(real, r->workdir, n) != 0 || real[n] != '/')
		return err_set(e, "%s: outside the git work tree %s", dir,
			       r->workdir);
	*prefix = xstrdup(real + n + 1);
	return true;
}

/* path relative to the work tree of repo (heap), or NULL when outside it. */
static char *in_workdir(git_repository *repo, const char *path)
{
	const char *wd = git_repository_workdir(repo);
	char real[PATH_MAX];
	size_t n;

	if (!wd || !realpath(wd, real))
		return NULL;
	n = strlen(real);
	if (strcmp(real, "/") == 0)
		return xstrdup(path + 1);
	if (strncmp(path, real, n) != 0 || path[n] != '/')
		return NULL;
	return xstrdup(path + n + 1);
}

bool gitrepo_tracked(const char *path, bool *tracked, struct err *e)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	char *dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	char *rel = NULL;
	bool none = false, ok = false;
	size_t pos;

	*tracked = false;
	git_libgit2_init();
	if (!open_repo(&repo, *dir ? dir : "/", &none, e)) {
		ok = none; /* no repository: nothing is tracked */
		goto out;
	}
	rel = in_workdir(repo, path);
	ok = true;
	if (!rel)
		goto out; /* bare, or not in its work tree */
	if (git_repository_index(&idx, repo) < 0) {
		ok = gerr(e, "read the index");
		goto out;
	}
	/* any stage: a file in a merge conflict is tracked too */
	*tracked = git_index_find(&pos, idx, rel) == 0;
out:
	git_index_free(idx);
	git_repository_free(repo);
	free(rel);
	free(dir);
	git_libgit2_shutdown();
	return ok;
}

bool gitrepo_head(struct gitrepo *r, char out[GITREPO_HEX], bool *unborn,
		  struct err *e)
{
	git_oid oid;
	int rc = git_repository_head_unborn(r->repo);

	out[0] = '\0';
	*unborn = rc == 1;
	if (rc < 0)
		return gerr(e, "read HEAD");
	if (*unborn)
		return true;
	if (git_reference_name_to_id(&oid, r->repo, "HEAD") < 0)
		return gerr(e, "read HEAD");
	git_oid_tostr(out, GITREPO_HEX, &oid);
	return true;
}

/* The commit named by spec (a commit id, or anything git rev-parse takes). */
static bool lookup_commit(git_repository *repo, const char *spec,
			  git_commit **c, struct err *e)
{
	git_object *obj = NULL;
	int rc = git_revparse_single(&obj, repo, spec);

	if (rc == 0)
		rc = git_object_peel((git_object **)c, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	return rc < 0 ? gerr(e, "commit %s", spec) : true;
}

bool gitrepo_has_commit(struct gitrepo *r, const char *commit, bool *yes,
			struct err *e)
{
	git_commit *c = NULL;
	git_oid oid;
	int rc;

	*yes = false;
	if (strlen(commit) != GITREPO_HEX - 1 ||
	    git_oid_fromstr(&oid, commit) < 0)
		return true;
	rc = git_commit_lookup(&c, r->repo, &oid);
	if (rc == GIT_ENOTFOUND)
		return true;
	if (rc < 0)
		return gerr(e, "commit %s", commit);
	*yes = true;
	git_commit_free(c);
	return true;
}

bool gitrepo_is_ancestor(struct gitrepo *r, const char *a, const char *b,
			 bool *yes, struct err *e)
{
	git_commit *ca = NULL, *cb = NULL;
	git_oid oid;
	bool ok = false;
	int rc;

	*yes = false;
	if (strlen(a) != GITREPO_HEX - 1 || git_oid_fromstr(&oid, a) < 0)
		return true;
	rc = git_commit_lookup(&ca, r->repo, &oid);
	if (rc == GIT_ENOTFOUND)
		return true;
	if (rc < 0)
		return gerr(e, "commit %s", a);
	if (!lookup_commit(r->repo, b, &cb, e))
		goto out;
	if (git_oid_equal(git_commit_id(ca), git_commit_id(cb))) {
		*yes = true;
	} else {
		rc = git_graph_descendant_of(r->repo, git_commit_id(cb),
					     git_commit_id(ca));
		if (rc < 0 && rc != GIT_ENOTFOUND) {
			gerr(e, "is %s an ancestor of %s", a, b);
			goto out;
		}
		*yes = rc == 1;
	}
	ok = true;
out:
	git_commit_free(cb);
	git_commit_free(ca);
	return ok;
}

bool gitrepo_on_branch(struct gitrepo *r, const char *commit, bool *yes,
		       struct err *e)
{
	git_branch_iterator *it = NULL;
	git_reference *ref = NULL;
	git_branch_t type;
	git_oid oid;
	int rc = 0;

	*yes = false;
	if (strlen(commit) != GITREPO_HEX - 1 ||
	    git_oid_fromstr(&oid, commit) < 0)
		return true;
	if (git_branch_iterator_new(&it, r->repo, GIT_BRANCH_LOCAL) < 0)
		return gerr(e, "list the branches");
	while (!*yes && (rc = git_branch_next(&ref, &type, it)) == 0) {
		git_reference *direct = NULL;
		const git_oid *tip = NULL;

		if (git_reference_resolve(&direct, ref) == 0)
			tip = git_reference_target(direct);
		if (tip && git_oid_equal(tip, &oid))
			*yes = true;
		else if (tip)
			*yes = git_graph_descendant_of(r->repo, tip, &oid) == 1;
		git_reference_free(direct);
		git_reference_free(ref);
	}
	git_branch_iterator_free(it);
	if (!*yes && rc != GIT_ITEROVER)
		return gerr(e, "list the branches");
	return true;
}

static bool commit_tree(git_repository *repo, const char *spec, git_tree **tree,
			struct err *e)
{
	git_commit *c = NULL;
	bool ok;

	*tree = NULL;
	if (!spec)
		return true;
	if (!lookup_commit(repo, spec, &c, e))
		return false;
	ok = git_commit_tree(tree, c) == 0 || gerr(e, "tree of %s", spec);
	git_commit_free(c);
	return ok;
}

static size_t count(const char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* The diff between two trees (NULL: empty) limited to pathspecs, with
 * exact renames found. */
static bool tree_diff(git_repository *repo, git_tree *a, git_tree *b,
		      const char *const *pathspecs, git_diff **diff,
		      struct err *e)
{
	git_diff_options o;
	git_diff_find_options fo;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	/* libgit2 only reads the pathspec strings. */
	o.pathspec.strings = (char **)(uintptr_t)pathspecs;
	o.pathspec.count = count(pathspecs);
	/* literal paths: a backlog named "a[1]" or "*" is a directory, not a
	 * pattern */
	o.flags = GIT_DIFF_SKIP_BINARY_CHECK | GIT_DIFF_DISABLE_PATHSPEC_MATCH;
	o.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
	if (git_diff_tree_to_tree(diff, repo, a, b, &o) < 0)
		return gerr(e, "diff trees");
	fo.flags = GIT_DIFF_FIND_RENAMES | GIT_DIFF_FIND_EXACT_MATCH_ONLY;
	/* Exact matching compares ids only, so a large move stays cheap;
	 * git's default limit would turn a mass move into adds and deletes. */
	fo.rename_limit = 1000000;
	if (git_diff_find_similar(*diff, &fo) < 0)
		return gerr(e, "find renames");
	return true;
}

static bool is_submodule(const git_diff_delta *d)
{
	return d->old_file.mode == GIT_FILEMODE_COMMIT ||
	       d->new_file.mode == GIT_FILEMODE_COMMIT;
}

/* The change a delta stands for; false for one to skip. */
static bool delta_change(const git_diff_delta *d, struct gitrepo_change *c)
{
	if (is_submodule(d))
		return false;
	c->old_path = d->old_file.path;
	c->new_path = d->new_file.path;
	switch (d->status) {
	case GIT_DELTA_ADDED:
		c->status = 'A';
		c->old_path = NULL;
		return true;
	case GIT_DELTA_DELETED:
		c->status = 'D';
		c->new_path = NULL;
		return true;
	case GIT_DELTA_MODIFIED:
	case GIT_DELTA_TYPECHANGE: c->status = 'M'; return true;
	case GIT_DELTA_RENAMED: c->status = 'R'; return true;
	default: return false;
	}
}

bool gitrepo_diff(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, gitrepo_change_fn fn, void *ctx,
		  struct err *e)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	struct gitrepo_change c;
	bool ok = false;

	if (!commit_tree(r->repo, from, &a, e) ||
	    !commit_tree(r->repo, to, &b, e) ||
	    !tree_diff(r->repo, a, b, pathspecs, &diff, e))
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		if (delta_change(git_diff_get_delta(diff, i), &c) &&
		    !fn(ctx, &c))
			goto out;
	ok = true;
out:
	git_diff_free(diff);
	git_tree_free(b);
	git_tree_free(a);
	return ok;
}

/* Reports one walked commit: its first-parent diff, when not empty. */
static bool walk_commit(git_repository *repo, git_commit *c,
			const char *const *pathspecs, gitrepo_commit_fn fn,
			void *ctx, struct err *e)
{
	struct gitrepo_commit gc = {0};
	const git_signature *author = git_commit_author(c);
	git_commit *parent = NULL;
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	struct gitrepo_change *changes = NULL;
	size_t n = 0;
	bool ok = false;

	git_oid_tostr(gc.id, sizeof(gc.id), git_commit_id(c));
	gc.nparents = git_commit_parentcount(c);
	if (gc.nparents && (git_commit_parent(&parent, c, 0) < 0 ||
			    git_commit_tree(&a, parent) < 0)) {
		gerr(e, "first parent of %s", gc.id);
		goto out;
	}
	if (git_commit_tree(&b, c) < 0) {
		gerr(e, "tree of %s", gc.id);
		goto out;
	}
	if (!tree_diff(repo, a, b, pathspecs, &diff, e))
		goto out;
	changes = xcalloc(git_diff_num_deltas(diff) + 1, sizeof(*changes));
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		if (delta_change(git_diff_get_delta(diff, i), &changes[n]))
			n++;
	ok = true;
	if (n == 0)
		goto out;
	gc.author_name = author->name;
	gc.author_email = author->email;
	gc.time = author->when.time;
	gc.tz_minutes = author->when.offset;
	gc.changes = changes;
	gc.nchanges = n;
	ok = fn(ctx, &gc);
out:
	free(changes);
	git_diff_free(diff);
	git_tree_free(b);
	git_tree_free(a);
	git_commit_free(parent);
	return ok;
}

static bool walk_setup(git_repository *repo, git_revwalk *w, const char *from,
		       const char *to, unsigned flags, struct err *e)
{
	git_commit *c = NULL;
	bool ok;

	git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME |
				       GIT_SORT_REVERSE);
	if ((flags & GITREPO_WALK_FIRST_PARENT) &&
	    git_revwalk_simplify_first_parent(w) < 0)
		return gerr(e, "walk");
	if (!lookup_commit(repo, to, &c, e))
		return false;
	ok = git_revwalk_push(w, git_commit_id(c)) == 0 || gerr(e, "walk");
	git_commit_free(c);
	if (!ok || !from)
		return ok;
	if (!lookup_commit(repo, from, &c, e))
		return false;
	ok = git_revwalk_hide(w, git_commit_id(c)) == 0 || gerr(e, "walk");
	git_commit_free(c);
	return ok;
}

bool gitrepo_walk(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, unsigned flags,
		  gitrepo_commit_fn fn, void *ctx, struct err *e)
{
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_oid oid;
	bool ok = false;
	int rc;

	if (git_revwalk_new(&w, r->repo) < 0)
		return gerr(e, "walk");
	if (!walk_setup(r->repo, w, from, to, flags, e))
		goto out;
	while ((rc = git_revwalk_next(&oid, w)) == 0) {
		if (git_commit_lookup(&c, r->repo, &oid) < 0) {
			gerr(e, "walk");
			goto out;
		}
		if ((flags & GITREPO_WALK_FIRST_PARENT) ||
		    git_commit_parentcount(c) < 2)
			if (!walk_commit(r->repo, c, pathspecs, fn, ctx, e))
				goto out;
		git_commit_free(c);
		c = NULL;
	}
	if (rc != GIT_ITEROVER) {
		gerr(e, "walk");
		goto out;
	}
	ok = true;
out:
	git_commit_free(c);
	git_revwalk_free(w);
	return ok;
}

/* The blob at path in commit c into *id: 1, 0 when there is none (or
 * not a file), -1 on error. */
static int blob_at(git_commit *c, const char *path, git_oid *id)
{
	git_tree *t = NULL;
	git_tree_entry *ent = NULL;
	int rc = git_commit_tree(&t, c);

	if (rc == 0)
		rc = git_tree_entry_bypath(&ent, t, path);
	if (rc == 0) {
		rc = git_tree_entry_type(ent) == GIT_OBJECT_BLOB;
		git_oid_cpy(id, git_tree_entry_id(ent));
	} else if (rc == GIT_ENOTFOUND) {
		rc = 0;
	} else {
		rc = -1;
	}
	git_tree_entry_free(ent);
	git_tree_free(t);
	return rc;
}

/* Whether the blob id holds the value: 1, 0, -1 on error. */
static int blob_same(git_repository *repo, const git_oid *id,
		     gitrepo_same_fn same, void *ctx)
{
	git_blob *b = NULL;
	int rc;

	if (git_blob_lookup(&b, repo, id) < 0)
		return -1;
	rc = same(ctx, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	git_blob_free(b);
	return rc;
}

/* From c, whose version of path (at) holds the value, back along first
 * parents while the versions of path hold it. */
static bool trace_history(struct gitrepo *r, git_commit *c, git_oid at,
			  const char *path, gitrepo_same_fn same, void *ctx,
			  struct gitrepo_origin *out, struct err *e)
{
	git_commit *cur = c, *parent = NULL;
	git_oid pid;
	bool ok = false;
	int rc = 0;

	for (;;) {
		/* a root, or the cut of a shallow clone: the history's
		 * start */
		if (git_commit_parentcount(cur) == 0 ||
		    git_commit_parent(&parent, cur, 0) < 0) {
			out->arrived = true;
			break;
		}
		rc = blob_at(parent, path, &pid);
		if (rc == 1 && !git_oid_equal(&pid, &at)) {
			rc = blob_same(r->repo, &pid, same, ctx);
			if (rc == 1)
				git_oid_cpy(&at, &pid);
			else if (rc == 0)
				rc = 2; /* a version of path changed it */
		}
		if (rc < 0) {
			gerr(e, "read %s", path);
			goto out;
		}
		if (rc != 1) {
			out->arrived = rc == 0;
			break;
		}
		if (cur != c)
			git_commit_free(cur);
		cur = parent;
		parent = NULL;
	}
	git_oid_tostr(out->commit, sizeof(out->commit), git_commit_id(cur));
	ok = true;
out:
	git_commit_free(parent);
	if (cur != c)
		git_commit_free(cur);
	return ok;
}

static gitrepo_index_fn index_reader;

void gitrepo_index_reader(gitrepo_index_fn fn)
{
	index_reader = fn;
}

/* The index's blob at path into *id: 1, 0 when it has none, -1 (e set)
 * when the index cannot be read. One libgit2 refuses (a split index) is
 * read by the core's reader, when it understands it. */
static int index_blob(struct gitrepo *r, const char *path, git_oid *id,
		      struct err *e)
{
	git_index *idx = NULL;
	const git_index_entry *ie;
	char hex[GITREPO_HEX];
	int rc;

	if (git_repository_index(&idx, r->repo) < 0) {
		rc = index_reader ? index_reader(r->gitdir, path, hex) : -1;
		if (rc < 0)
			gerr(e, "read index");
		else if (rc == 1 && git_oid_fromstr(id, hex) < 0)
			rc = -1;
		return rc;
	}
	ie = git_index_get_bypath(idx, path, 0);
	if ((rc = ie != NULL))
		git_oid_cpy(id, &ie->id);
	git_index_free(idx);
	return rc;
}

bool gitrepo_value_origin(struct gitrepo *r, const char *path, const char *blob,
			  gitrepo_same_fn same, void *ctx,
			  struct gitrepo_origin *out, struct err *e)
{
	git_commit *head = NULL;
	git_oid want, hid, iid;
	bool ok = false, staged;
	int in_head = 0, rc, irc;

	memset(out, 0, sizeof(*out));
	if (git_oid_fromstr(&want, blob) < 0)
		return err_set(e, "git: %s: not a blob id", blob);
	if ((irc = index_blob(r, path, &iid, e)) < 0)
		goto out;
	rc = git_repository_head_unborn(r->repo);
	if (rc < 0 || (rc == 0 && !lookup_commit(r->repo, "HEAD", &head, e))) {
		if (rc < 0)
			gerr(e, "read HEAD");
		goto out;
	}
	if (head && (in_head = blob_at(head, path, &hid)) < 0) {
		gerr(e, "read %s", path);
		goto out;
	}
	staged = irc == 1 && git_oid_equal(&iid, &want) &&
		 !(in_head && git_oid_equal(&hid, &want));
	if (!staged && !(in_head && git_oid_equal(&hid, &want))) {
		ok = true; /* not a version git holds */
		goto out;
	}
	if ((rc = blob_same(r->repo, &want, same, ctx)) != 1) {
		ok = rc == 0 || gerr(e, "read %s", path);
		goto out; /* it does not hold the value */
	}
	ok = true;
	out->held = true;
	if (staged && !in_head) {
		out->arrived = true; /* added or moved there in the index */
		goto out;
	}
	if (staged && (rc = blob_same(r->repo, &hid, same, ctx)) != 1) {
		ok = rc == 0 || gerr(e, "read %s", path);
		goto out; /* rc 0: the staged version changed it */
	}
	ok = trace_history(r, head, hid, path, same, ctx, out, e);
out:
	git_commit_free(head);
	return ok;
}

bool gitrepo_blob_text(struct gitrepo *r, const char *blob, char **text,
		       size_t *len, struct err *e)
{
	git_oid id;
	git_blob *b = NULL;

	*text = NULL;
	*len = 0;
	if (git_oid_fromstr(&id, blob) < 0)
		return err_set(e, "git: %s: not a blob id", blob);
	if (git_blob_lookup(&b, r->repo, &id) < 0)
		return gerr(e, "read blob %s", blob);
	*len = (size_t)git_blob_rawsize(b);
	*text = xmalloc(*len + 1);
	memcpy(*text, git_blob_rawcontent(b), *len);
	(*text)[*len] = '\0';
	git_blob_free(b);
	return true;
}

bool gitrepo_staged_blob(struct gitrepo *r, const char *path,
			 char blob[GITREPO_HEX], struct err *e)
{
	git_oid id;
	int rc = index_blob(r, path, &id, e);

	blob[0] = '\0';
	if (rc == 1)
		git_oid_tostr(blob, GITREPO_HEX, &id);
	return rc >= 0;
}

/* HEAD's commit into *out, NULL when HEAD is unborn. */
static bool head_commit(struct gitrepo *r, git_commit **out, struct err *e)
{
	git_oid id;
	int rc;

	/* HEAD read once, its commit from libgit2's cache after the first
	 * time: asked before each of a run's writes, reading HEAD twice
	 * (whether unborn, then a revparse) cost as much as the lookup */
	*out = NULL;
	if (git_reference_name_to_id(&id, r->repo, "HEAD") == 0 &&
	    git_commit_lookup(out, r->repo, &id) == 0)
		return true;
	/* unborn, or HEAD names no commit: as git answers those */
	*out = NULL;
	rc = git_repository_head_unborn(r->repo);
	if (rc < 0)
		return gerr(e, "read HEAD");
	return rc == 1 || lookup_commit(r->repo, "HEAD", out, e);
}

bool gitrepo_head_blob(struct gitrepo *r, const char *path,
		       char blob[GITREPO_HEX], struct err *e)
{
	git_commit *head;
	git_oid id;
	int rc = 0;

	blob[0] = '\0';
	if (!head_commit(r, &head, e))
		return false;
	if (head && (rc = blob_at(head, path, &id)) == 1)
		git_oid_tostr(blob, GITREPO_HEX, &id);
	git_commit_free(head);
	return rc >= 0 || gerr(e, "read %s", path);
}

bool gitrepo_head_tree(struct gitrepo *r, char commit[GITREPO_HEX],
		       char tree[GITREPO_HEX], struct err *e)
{
	git_commit *head;

	commit[0] = tree[0] = '\0';
	if (!head_commit(r, &head, e))
		return false;
	if (head) {
		git_oid_tostr(commit, GITREPO_HEX, git_commit_id(head));
		git_oid_tostr(tree, GITREPO_HEX, git_commit_tree_id(head));
	}
	git_commit_free(head);
	return true;
}

/* A search of a tree for a blob anywhere but at one path. */
struct blob_search {
	const git_oid *blob;
	const char *but;
	bool found;
};

static int search_entry(const char *root, const git_tree_entry *ent, void *ctx)
{
	struct blob_search *q = ctx;
	size_t n = strlen(root);
	const char *name = git_tree_entry_name(ent);

	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB ||
	    !git_oid_equal(git_tree_entry_id(ent), q->blob))
		return 0;
	/* root is "" or "dir/" */
	if (strncmp(q->but, root, n) == 0 && strcmp(q->but + n, name) == 0)
		return 0;
	q->found = true;
	return 1; /* stops the walk */
}

/* Whether commit c holds nothing at each of the paths alone (NULL or
 * NULL-terminated) and, with copy, the blob copy nowhere but at path (a
 * copy moved elsewhere, with a directory the configuration moved: model
 * wide seed 153): 1, 0, -1 on error. */
static int none_at(git_commit *c, const char *const *alone, const git_oid *copy,
		   const char *path)
{
	struct blob_search q = {copy, path, false};
	git_tree *t = NULL;
	git_oid id;
	int rc = 0;

	for (size_t i = 0; rc == 0 && alone && alone[i]; i++)
		rc = blob_at(c, alone[i], &id);
	if (rc == 0 && alone && copy) {
		if (git_commit_tree(&t, c) < 0 ||
		    (git_tree_walk(t, GIT_TREEWALK_PRE, search_entry, &q) < 0 &&
		     !q.found))
			rc = -1;
		else
			rc = q.found;
		git_tree_free(t);
	}
	return rc < 0 ? -1 : rc == 0;
}

/* The same for the index: 1 when it holds nothing at the paths alone and
 * copy nowhere but at path, 0, -1 on error. */
static int index_none_at(struct gitrepo *r, const char *const *alone,
			 const git_oid *copy, const char *path, struct err *e)
{
	git_index *idx = NULL;
	git_oid id;
	int rc = 0;

	for (size_t i = 0; rc == 0 && alone && alone[i]; i++)
		rc = index_blob(r, alone[i], &id, e);
	if (rc != 0 || !alone || !copy)
		return rc < 0 ? -1 : rc == 0;
	/* an index libgit2 cannot read (split): its paths said enough */
	if (git_repository_index(&idx, r->repo) < 0)
		return 1;
	for (size_t i = 0; rc == 0 && i < git_index_entrycount(idx); i++) {
		const git_index_entry *ie = git_index_get_byindex(idx, i);

		rc = ie && git_oid_equal(&ie->id, copy) &&
		     strcmp(ie->path, path) != 0;
	}
	git_index_free(idx);
	return rc == 0;
}

bool gitrepo_blob_committed(struct gitrepo *r, const char *path,
			    const char *blob, const char *before,
			    const char *seen, const char *const *alone,
			    int64_t written, int64_t since, bool *held,
			    struct err *e)
{
	git_commit *c = NULL, *parent;
	git_oid want, old, id, mark;
	bool ok = true, has_old = before && *before, stop = false,
	     below = !seen || !*seen || git_oid_fromstr(&mark, seen) < 0;
	int rc;

	*held = false;
	if (git_oid_fromstr(&want, blob) < 0)
		return err_set(e, "git: %s: not a blob id", blob);
	if (has_old && git_oid_fromstr(&old, before) < 0)
		return err_set(e, "git: %s: not a blob id", before);
	if ((rc = index_blob(r, path, &id, e)) < 0)
		return false;
	*held = rc == 1 && git_oid_equal(&id, &want);
	if (*held && alone) {
		if ((rc = index_none_at(r, alone, has_old ? &old : NULL, path,
					e)) < 0)
			return false;
		*held = rc == 1;
	}
	if (*held || !head_commit(r, &c, e))
		return *held;
	/* seen amended or rebased away since (HEAD no longer reaches it;
	 * model seed 13: an amend of the commit the writing run saw, and an
	 * older commit holding the content the API restored, took the
	 * discard for a person's edit): the commits below are those HEAD's
	 * line shares with it, from where the two parted. When seen itself
	 * is the version the write was made over, nothing there or below
	 * it is younger than the write: the walk stops where they part */
	if (!below && c &&
	    !git_graph_descendant_of(r->repo, git_commit_id(c), &mark) &&
	    !git_oid_equal(git_commit_id(c), &mark)) {
		git_commit *s = NULL;

		if (has_old && git_commit_lookup(&s, r->repo, &mark) == 0 &&
		    blob_at(s, path, &id) == 1 && git_oid_equal(&id, &old) &&
		    git_commit_time(s) <= written)
			stop = true;
		git_commit_free(s);
		if (git_merge_base(&mark, r->repo, git_commit_id(c), &mark))
			stop = false;
	}
	for (int n = 0; c && n < 1000 && git_commit_time(c) >= since; n++) {
		if (stop && git_oid_equal(git_commit_id(c), &mark))
			break;
		rc = blob_at(c, path, &id);
		if (rc < 0) {
			ok = gerr(e, "read %s", path);
			break;
		}
		if (rc == 1 && git_oid_equal(&id, &want)) {
			/* beside a version at alone: no take of the blob
			 * alone, the walk goes on */
			int none =
				none_at(c, alone, has_old ? &old : NULL, path);

			if (none < 0) {
				ok = gerr(e, "read %s", path);
				break;
			}
			if (none) {
				*held = true;
				break;
			}
		}
		/* the version the write was made over, committed before it:
		 * what is older did not take the write (model seed 24);
		 * above the commit a run saw since, a revert of a write git
		 * took, made in the same second, is not that version */
		below |= git_oid_equal(git_commit_id(c), &mark);
		if (below && rc == 1 && has_old && git_oid_equal(&id, &old) &&
		    git_commit_time(c) <= written)
			break;
		if (git_commit_parentcount(c) == 0 ||
		    git_commit_parent(&parent, c, 0) < 0)
			break; /* the history's start, or a shallow cut */
		git_commit_free(c);
		c = parent;
	}
	git_commit_free(c);
	return ok;
}

/* A path's versions since a commit, newest first (path_walk): the
 * index's (top), then each one older; changes counts where one differs
 * from the next, a move from was unchanged not counted; rc and id are the
 * oldest read, since's once the walk is done. */
struct path_walk {
	const char *path, *was;
	int top_rc, rc;
	git_oid top, id;
	int changes;
	bool gone;
};

/* The newer version's side of a move from w->was: 0 when it has no
 * version there, -1 without was (or unread). */
static int was_in(git_commit *newer, const struct path_walk *w)
{
	git_oid id;

	return w->was ? blob_at(newer, w->was, &id) : -1;
}

/* One step of w down to older's version, the newer's at w->was being
 * wrc (was_in): older's version at was, the one w holds, where the newer
 * has none at was and older none at the path, moved there unchanged (git
 * mv of a directory the configuration moved): the walk goes on at was,
 * no change. */
static bool walk_step(struct path_walk *w, git_commit *older, int wrc,
		      struct err *e)
{
	git_oid id, wid;
	int rc = blob_at(older, w->path, &id);

	if (rc < 0)
		return gerr(e, "read %s", w->path);
	if (rc == 0 && w->rc == 1 && wrc == 0 &&
	    blob_at(older, w->was, &wid) == 1 && git_oid_equal(&wid, &w->id)) {
		w->path = w->was;
		w->was = NULL;
		return true;
	}
	w->changes += rc != w->rc || (rc == 1 && !git_oid_equal(&id, &w->id));
	w->rc = rc;
	if (rc == 1)
		git_oid_cpy(&w->id, &id);
	return true;
}

/* The walk from HEAD's version (w, the index's counted) down its first
 * parents to since (stop); false in *reached when they do not reach it
 * within a thousand. */
static bool walk_line(struct path_walk *w, git_commit *head,
		      const git_oid *stop, bool *reached, struct err *e)
{
	git_commit *c = head, *parent = NULL;
	bool ok = true;

	*reached = false;
	for (int n = 0; ok && c && n < 1000; n++) {
		if (git_oid_equal(git_commit_id(c), stop)) {
			*reached = true;
			break;
		}
		if (git_commit_parentcount(c) == 0 ||
		    git_commit_parent(&parent, c, 0) < 0)
			break; /* the history's start, or a shallow cut */
		ok = walk_step(w, parent, was_in(c, w), e);
		if (c != head)
			git_commit_free(c);
		c = parent;
	}
	if (c != head)
		git_commit_free(c);
	return ok;
}

/* Walks path's versions since the commit since into w (path and was
 * set): the index's, HEAD's, each first parent's down to since. When
 * those do not reach since (history rewritten between two runs: an
 * amend, a rebase, a reset to another line), the commits on the way are
 * replays of older ones, no one's change since: the walk is HEAD's
 * version against since's own (still in the object store), and, since's
 * commit gone too (gc'd), ends at HEAD's, w->gone set: the caller takes
 * since's as its question's conservative answer. */
static bool path_walk(struct gitrepo *r, struct path_walk *w, const char *since,
		      struct err *e)
{
	git_commit *head = NULL, *s = NULL;
	struct path_walk at_head;
	git_oid stop, id;
	bool ok = true, reached = false;
	int wrc;

	w->changes = 0;
	w->gone = false;
	if (git_oid_fromstr(&stop, since) < 0)
		return err_set(e, "git: %s: not a commit id", since);
	if ((w->top_rc = index_blob(r, w->path, &w->top, e)) < 0 ||
	    !head_commit(r, &head, e))
		return false;
	w->rc = w->top_rc;
	git_oid_cpy(&w->id, &w->top);
	wrc = w->was ? index_blob(r, w->was, &id, e) : -1;
	if (head) {
		ok = walk_step(w, head, wrc, e);
		wrc = was_in(head, w);
	}
	at_head = *w;
	if (ok && head)
		ok = walk_line(w, head, &stop, &reached, e);
	if (ok && !reached) {
		*w = at_head;
		if (git_commit_lookup(&s, r->repo, &stop) == 0)
			ok = walk_step(w, s, wrc, e);
		else
			w->gone = true;
	}
	git_commit_free(s);
	git_commit_free(head);
	return ok;
}

bool gitrepo_path_changed(struct gitrepo *r, const char *path, const char *was,
			  const char *since, bool *changed, struct err *e)
{
	struct path_walk w = {.path = path, .was = was};

	*changed = false;
	if (!path_walk(r, &w, since, e))
		return false;
	*changed = w.changes > 0;
	return true;
}

struct holds_walk {
	git_oid want;
	size_t max, n;
};

/* git_tree_walk's callback: counts the blobs h wants, and stops at max. */
static int on_holds(const char *root, const git_tree_entry *ent, void *ctx)
{
	struct holds_walk *h = ctx;

	(void)root;
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB ||
	    !git_oid_equal(git_tree_entry_id(ent), &h->want))
		return 0;
	return ++h->n < h->max ? 0 : -1;
}

bool gitrepo_commit_holds(struct gitrepo *r, const char *commit,
			  const char *dir, const char *blob, size_t max,
			  size_t *n, struct err *e)
{
	struct holds_walk h = {.max = max};
	git_commit *c = NULL;
	git_tree *t = NULL, *sub = NULL;
	git_tree_entry *ent = NULL;
	git_oid oid;
	bool ok = true;
	int rc;

	*n = 0;
	if (git_oid_fromstr(&oid, commit) < 0)
		return err_set(e, "git: %s: not a commit id", commit);
	if (git_oid_fromstr(&h.want, blob) < 0)
		return err_set(e, "git: %s: not a blob id", blob);
	if (!max)
		return true;
	rc = git_commit_lookup(&c, r->repo, &oid);
	if (rc == GIT_ENOTFOUND)
		return true;
	if (rc < 0 || git_commit_tree(&t, c) < 0) {
		ok = gerr(e, "commit %s", commit);
		goto out;
	}
	if (*dir) {
		rc = git_tree_entry_bypath(&ent, t, dir);
		if (rc == GIT_ENOTFOUND ||
		    (rc == 0 && git_tree_entry_type(ent) != GIT_OBJECT_TREE))
			goto out;
		if (rc < 0 || git_tree_lookup(&sub, r->repo,
					      git_tree_entry_id(ent)) < 0) {
			ok = gerr(e, "read %s", dir);
			goto out;
		}
	}
	rc = git_tree_walk(sub ? sub : t, GIT_TREEWALK_PRE, on_holds, &h);
	if (rc < 0 && h.n < max)
		ok = gerr(e, "read the tree of %s", commit);
	*n = h.n;
out:
	git_tree_free(sub);
	git_tree_entry_free(ent);
	git_tree_free(t);
	git_commit_free(c);
	return ok;
}

/* What a version read (rc, id) is to want: 0 none, 1 want, -1 another. */
static int version_kind(int rc, const git_oid *id, const git_oid *want)
{
	return rc == 0 ? 0 : git_oid_equal(id, want) ? 1 : -1;
}

bool gitrepo_path_one_change(struct gitrepo *r, const char *path,
			     const char *blob, const char *since, bool added,
			     bool *only, struct err *e)
{
	struct path_walk w = {.path = path};
	git_oid want;
	int now = added ? 1 : 0, then;

	*only = false;
	if (git_oid_fromstr(&want, blob) < 0)
		return err_set(e, "git: %s: not a blob id", blob);
	if (!path_walk(r, &w, since, e))
		return false;
	/* since's commit gone: as it had the other (the answer that keeps
	 * both sides, the caller's discard) */
	then = version_kind(w.rc, &w.id, &want);
	w.changes += w.gone && then != !now;
	*only = version_kind(w.top_rc, &w.top, &want) == now &&
		w.changes == 1 && (w.gone || then == !now);
	return true;
}

/* Calls fn with the blob id's content, or NULL when has is false or the
 * blob is larger than limit (its size read from the header first). */
static int version_text(git_repository *repo, bool has, const git_oid *id,
			size_t limit, gitrepo_version_fn fn, void *ctx)
{
	git_odb *odb = NULL;
	git_blob *b = NULL;
	git_object_t type;
	size_t size = 0;
	int rc;

	if (!has)
		return fn(ctx, NULL, 0) ? 1 : 0;
	if (git_repository_odb(&odb, repo) < 0)
		return -1;
	rc = git_odb_read_header(&size, &type, odb, id);
	git_odb_free(odb);
	if (rc < 0)
		return -1;
	if (type != GIT_OBJECT_BLOB || size > limit)
		return fn(ctx, NULL, 0) ? 1 : 0;
	if (git_blob_lookup(&b, repo, id) < 0)
		return -1;
	rc = fn(ctx, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)) ? 1
									  : 0;
	git_blob_free(b);
	return rc;
}

bool gitrepo_path_versions(struct gitrepo *r, const char *path,
			   const char *from, const char *since, size_t max,
			   size_t limit, gitrepo_version_fn fn, void *ctx,
			   bool *found, struct err *e)
{
	git_commit *c = NULL, *parent = NULL;
	git_oid stop, start, *ids = NULL;
	bool *has = NULL, ok = true, last_has = false;
	git_oid last;
	size_t n = 0;

	*found = false;
	if (git_oid_fromstr(&stop, since) < 0)
		return err_set(e, "git: %s: not a commit id", since);
	if (from && *from) {
		if (git_oid_fromstr(&start, from) < 0 ||
		    git_commit_lookup(&c, r->repo, &start) < 0)
			return gerr(e, "commit %s", from);
	} else if (!head_commit(r, &c, e)) {
		return false;
	}
	/* back from HEAD to since, each commit's version of path */
	ids = xcalloc(max + 1, sizeof(*ids));
	has = xcalloc(max + 1, sizeof(*has));
	while (c && n <= max) {
		int rc = blob_at(c, path, &ids[n]);

		if (rc < 0) {
			ok = gerr(e, "read %s", path);
			break;
		}
		has[n++] = rc == 1;
		if (git_oid_equal(git_commit_id(c), &stop)) {
			*found = true;
			break;
		}
		if (git_commit_parentcount(c) == 0)
			break;
		if (git_commit_parent(&parent, c, 0) < 0) {
			ok = gerr(e, "read the parent of a commit");
			break;
		}
		git_commit_free(c);
		c = parent;
		parent = NULL;
	}
	git_commit_free(c);
	/* then forward from since's version, each change once */
	for (size_t i = n; ok && *found && i-- > 0;) {
		int rc;

		if (i == n - 1 ||
		    (has[i] == last_has &&
		     (!has[i] || git_oid_equal(&ids[i], &last)))) {
			last_has = has[i];
			git_oid_cpy(&last, &ids[i]);
			continue;
		}
		last_has = has[i];
		git_oid_cpy(&last, &ids[i]);
		rc = version_text(r->repo, has[i], &ids[i], limit, fn, ctx);
		if (rc < 0)
			ok = gerr(e, "read %s", path);
		else if (rc == 0)
			ok = false;
	}
	free(ids);
	free(has);
	return ok;
}

bool gitrepo_hooks_dir(struct gitrepo *r, char **dir, struct err *e)
{
	git_config *cfg = NULL;
	git_buf b = GIT_BUF_INIT;
	bool ok = false;
	int rc;

	if (git_repository_config_snapshot(&cfg, r->repo) < 0)
		return gerr(e, "read config");
	rc = git_config_get_path(&b, cfg, "core.hooksPath");
	if (rc == 0) {
		*dir = b.ptr[0] == '/' ? strip_slash(b.ptr)
				       : xasprintf("%s/%s", r->workdir, b.ptr);
	} else if (rc == GIT_ENOTFOUND) {
		if (git_repository_item_path(&b, r->repo,
					     GIT_REPOSITORY_ITEM_HOOKS) < 0) {
			gerr(e, "hooks directory");
			goto out;
		}
		*dir = strip_slash(b.ptr);
	} else {
		gerr(e, "read core.hooksPath");
		goto out;
	}
	ok = true;
out:
	git_buf_dispose(&b);
	git_config_free(cfg);
	return ok;
}

/* Where the commit's paths go besides its tree: the repository's index
 * (idx), or the caller's staged (idx NULL). */
struct stage_to {
	git_index *idx;
	gitrepo_staged_fn staged;
	void *ctx;
};

/* Puts path, as the work tree has it, into the tree's index and where to
 * says, or removes it from both when the work tree has no such file. */
static bool stage_path(struct gitrepo *r, git_index *tree_idx,
		       const struct stage_to *to, const char *path,
		       struct err *e)
{
	char hex[GITREPO_HEX];
	char *full = xasprintf("%s/%s", r->workdir, path);
	git_index_entry ent = {0};
	struct stat st;
	bool ok = false;

	if (lstat(full, &st) < 0) {
		if (errno != ENOENT) {
			err_set(e, "%s: %s", full, strerror(errno));
			goto out;
		}
		if (git_index_remove_bypath(tree_idx, path) < 0 ||
		    (to->idx && git_index_remove_bypath(to->idx, path) < 0)) {
			gerr(e, "unstage %s", path);
			goto out;
		}
		ok = to->idx || to->staged(to->ctx, path, NULL, 0, e);
		goto out;
	}
	ent.path = path;
	ent.mode = S_ISLNK(st.st_mode)   ? GIT_FILEMODE_LINK
		   : (st.st_mode & 0100) ? GIT_FILEMODE_BLOB_EXECUTABLE
					 : GIT_FILEMODE_BLOB;
	if (git_blob_create_from_workdir(&ent.id, r->repo, path) < 0 ||
	    git_index_add(tree_idx, &ent) < 0 ||
	    (to->idx && git_index_add_bypath(to->idx, path) < 0)) {
		gerr(e, "stage %s", path);
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), &ent.id);
	ok = to->idx || to->staged(to->ctx, path, hex, ent.mode, e);
out:
	free(full);
	return ok;
}

/* The tree HEAD's tree (parent may be NULL) becomes with paths staged. */
static bool build_tree(struct gitrepo *r, git_commit *parent,
		       const struct stage_to *to, const char *const *paths,
		       size_t npaths, git_tree **tree, struct err *e)
{
	git_index *tree_idx = NULL;
	git_tree *base = NULL;
	git_oid oid;
	bool ok = false;

	if (git_index_new(&tree_idx) < 0 ||
	    (parent && (git_commit_tree(&base, parent) < 0 ||
			git_index_read_tree(tree_idx, base) < 0))) {
		gerr(e, "commit: read HEAD's tree");
		goto out;
	}
	for (size_t i = 0; i < npaths; i++)
		if (!stage_path(r, tree_idx, to, paths[i], e))
			goto out;
	if (git_index_write_tree_to(&oid, tree_idx, r->repo) < 0 ||
	    git_tree_lookup(tree, r->repo, &oid) < 0) {
		gerr(e, "commit: write tree");
		goto out;
	}
	ok = true;
out:
	git_tree_free(base);
	git_index_free(tree_idx);
	return ok;
}

static bool create_commit(struct gitrepo *r, git_commit *parent, git_tree *tree,
			  const char *message, const char *name,
			  const char *email, git_oid *oid, struct err *e)
{
	git_signature *sig = NULL;
	const git_commit *parents[1] = {parent};
	bool ok = false;
	int rc;

	/* no configured author: the repository's user, else storysync */
	if (name && email
		    ? git_signature_now(&sig, name, email) < 0
		    : git_signature_default(&sig, r->repo) < 0 &&
			      git_signature_now(&sig, "storysync",
						"storysync@localhost") < 0)
		return gerr(e, "commit: author %s <%s>", name ? name : "",
			    email ? email : "");
	rc = git_commit_create(oid, r->repo, "HEAD", sig, sig, NULL, message,
			       tree, parent ? 1 : 0, parents);
	if (rc == GIT_EMODIFIED)
		err_set(e, "git: commit: HEAD moved");
	else if (rc < 0)
		gerr(e, "commit");
	else
		ok = true;
	git_signature_free(sig);
	return ok;
}

bool gitrepo_index_readable(struct gitrepo *r, struct err *e)
{
	git_index *idx = NULL;

	if (git_repository_index(&idx, r->repo) < 0)
		return gerr(e, "commit: read index");
	git_index_free(idx);
	return true;
}

bool gitrepo_commit_staged(struct gitrepo *r, const char *const *paths,
			   size_t npaths, const char *message, const char *name,
			   const char *email, gitrepo_staged_fn staged,
			   void *ctx, char out[GITREPO_HEX], struct err *e)
{
	char head[GITREPO_HEX];
	bool unborn;
	git_commit *parent = NULL;
	git_index *idx = NULL;
	git_tree *tree = NULL;
	git_oid oid;
	bool ok = false;

	struct stage_to to = {NULL, staged, ctx};
	git_index *mem = NULL;

	if (!gitrepo_head(r, head, &unborn, e))
		return false;
	if (!unborn && !lookup_commit(r->repo, head, &parent, e))
		return false;
	if (!staged && git_repository_index(&idx, r->repo) < 0) {
		gerr(e, "commit: read index");
		goto out;
	}
	/* the filters' attributes read from the index, which libgit2 cannot
	 * read: an empty one in its place for the commit (a .gitattributes
	 * only staged, not in the work tree, is not seen) */
	if (staged && (git_index_new(&mem) < 0 ||
		       git_repository_set_index(r->repo, mem) < 0)) {
		gerr(e, "commit: index");
		goto out;
	}
	to.idx = idx;
	if (!build_tree(r, parent, &to, paths, npaths, &tree, e) ||
	    !create_commit(r, parent, tree, message, name, email, &oid, e))
		goto out;
	if (idx && git_index_write(idx) < 0) {
		gerr(e, "commit: write index");
		goto out;
	}
	if (out)
		git_oid_tostr(out, GITREPO_HEX, &oid);
	ok = true;
out:
	if (mem)
		git_repository_set_index(r->repo, NULL);
	git_index_free(mem);
	git_tree_free(tree);
	git_index_free(idx);
	git_commit_free(parent);
	return ok;
}
