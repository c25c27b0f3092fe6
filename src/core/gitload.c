/*
 * gitrepo.h as the rest of the core sees it: calls into the module
 * storysync-git.so (gitrepo.c, the only user of libgit2), loaded on the
 * first call. Linking libgit2 and its twenty dependencies costs every run
 * about 2 ms at start; most runs (a no-op scan, the hook's no-op, a first
 * load) never use it. blobid.c hashes without it.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitindex.h"
#include "gitrepo.h"
#include "mem.h"
#include "version.h"

/* Every entry point of the module, resolved by name. */
static struct {
	__typeof__(gitrepo_open) *open;
	__typeof__(gitrepo_destroy) *destroy;
	__typeof__(gitrepo_workdir) *workdir;
	__typeof__(gitrepo_gitdir) *gitdir;
	__typeof__(gitrepo_is_shallow) *is_shallow;
	__typeof__(gitrepo_head_unborn) *head_unborn;
	__typeof__(gitrepo_head_detached) *head_detached;
	__typeof__(gitrepo_prefix) *prefix;
	__typeof__(gitrepo_head) *head;
	__typeof__(gitrepo_is_ancestor) *is_ancestor;
	__typeof__(gitrepo_diff) *diff;
	__typeof__(gitrepo_walk) *walk;
	__typeof__(gitrepo_value_origin) *value_origin;
	__typeof__(gitrepo_staged_blob) *staged_blob;
	__typeof__(gitrepo_head_blob) *head_blob;
	__typeof__(gitrepo_head_tree) *head_tree;
	__typeof__(gitrepo_blob_committed) *blob_committed;
	__typeof__(gitrepo_path_changed) *path_changed;
	__typeof__(gitrepo_blob_text) *blob_text;
	__typeof__(gitrepo_hooks_dir) *hooks_dir;
	__typeof__(gitrepo_commit_staged) *commit_staged;
	__typeof__(gitrepo_index_readable) *index_readable;
	__typeof__(gitrepo_tracked) *tracked;
	__typeof__(gitrepo_on_branch) *on_branch;
	__typeof__(gitrepo_path_versions) *path_versions;
	__typeof__(gitrepo_path_one_change) *path_one_change;
	__typeof__(gitrepo_has_commit) *has_commit;
	__typeof__(gitrepo_commit_holds) *commit_holds;
} mod;

/* one a line, as mod has them */
/* clang-format off */
static const char *const names[] = {
	"gitrepo_open",
	"gitrepo_destroy",
	"gitrepo_workdir",
	"gitrepo_gitdir",
	"gitrepo_is_shallow",
	"gitrepo_head_unborn",
	"gitrepo_head_detached",
	"gitrepo_prefix",
	"gitrepo_head",
	"gitrepo_is_ancestor",
	"gitrepo_diff",
	"gitrepo_walk",
	"gitrepo_value_origin",
	"gitrepo_staged_blob",
	"gitrepo_head_blob",
	"gitrepo_head_tree",
	"gitrepo_blob_committed",
	"gitrepo_path_changed",
	"gitrepo_blob_text",
	"gitrepo_hooks_dir",
	"gitrepo_commit_staged",
	"gitrepo_index_readable",
	"gitrepo_tracked",
	"gitrepo_on_branch",
	"gitrepo_path_versions",
	"gitrepo_path_one_change",
	"gitrepo_has_commit",
	"gitrepo_commit_holds",
};
/* clang-format on */

_Static_assert(sizeof(mod) == sizeof(names) / sizeof(*names) * sizeof(void *),
	       "one name per entry point");

static void *handle;
static char failure[ERR_MAX];

/* The module: $STORYSYNC_GIT_MODULE, else the build tree's when this
 * program runs from the build tree, else the installed one. */
static const char *module_path(void)
{
	static char exe[4096];
	const char *env = getenv("STORYSYNC_GIT_MODULE");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (strncmp(exe, STORYSYNC_BUILD_ROOT "/",
			    strlen(STORYSYNC_BUILD_ROOT) + 1) == 0)
			return STORYSYNC_GIT_MODULE_BUILT;
	}
	return STORYSYNC_GIT_MODULE_INSTALLED;
}

/* Loads the module and resolves its entry points; failure says why. */
static void load_once(void)
{
	const char *path = module_path();
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	void **slot = (void **)&mod;
	__typeof__(mem_on_oom) *set_oom;
	__typeof__(gitrepo_index_reader) *set_reader;

	if (!h) {
		snprintf(failure, sizeof(failure), "cannot load %s: %s", path,
			 dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		slot[i] = dlsym(h, names[i]);
		if (!slot[i]) {
			snprintf(failure, sizeof(failure), "%s: no %s", path,
				 names[i]);
			dlclose(h);
			return;
		}
	}
	/* the module has its own copy of mem.c: its allocation failures end
	 * the run as the program's do */
	*(void **)&set_oom = dlsym(h, "mem_on_oom");
	if (set_oom)
		set_oom(mem_fail);
	/* the index libgit2 cannot read (a split index), read here */
	*(void **)&set_reader = dlsym(h, "gitrepo_index_reader");
	if (set_reader)
		set_reader(gitindex_staged);
	__atomic_store_n(&handle, h, __ATOMIC_RELEASE);
}

/* Loads the module once, whichever thread asks first (the scan hashes on
 * two); false (the reason in failure) when it cannot be. */
static bool load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	return handle != NULL;
}

struct gitrepo *gitrepo_open(const char *dir, struct err *e)
{
	if (!load()) {
		err_set(e, "git: %s", failure);
		return NULL;
	}
	return mod.open(dir, e);
}

/* The others take a repository gitrepo_open made: the module is loaded. */

void gitrepo_destroy(struct gitrepo *r)
{
	if (r)
		mod.destroy(r);
}

const char *gitrepo_workdir(const struct gitrepo *r)
{
	return mod.workdir(r);
}

const char *gitrepo_gitdir(const struct gitrepo *r)
{
	return mod.gitdir(r);
}

bool gitrepo_is_shallow(const struct gitrepo *r)
{
	return mod.is_shallow(r);
}

bool gitrepo_head_unborn(const struct gitrepo *r)
{
	return mod.head_unborn(r);
}

bool gitrepo_head_detached(const struct gitrepo *r)
{
	return mod.head_detached(r);
}

bool gitrepo_prefix(const struct gitrepo *r, const char *dir, char **prefix,
		    struct err *e)
{
	return mod.prefix(r, dir, prefix, e);
}

bool gitrepo_head(struct gitrepo *r, char out[GITREPO_HEX], bool *unborn,
		  struct err *e)
{
	return mod.head(r, out, unborn, e);
}

bool gitrepo_is_ancestor(struct gitrepo *r, const char *a, const char *b,
			 bool *yes, struct err *e)
{
	return mod.is_ancestor(r, a, b, yes, e);
}

bool gitrepo_has_commit(struct gitrepo *r, const char *commit, bool *yes,
			struct err *e)
{
	return mod.has_commit(r, commit, yes, e);
}

bool gitrepo_commit_holds(struct gitrepo *r, const char *commit,
			  const char *dir, const char *blob, size_t max,
			  size_t *n, struct err *e)
{
	return mod.commit_holds(r, commit, dir, blob, max, n, e);
}

bool gitrepo_on_branch(struct gitrepo *r, const char *commit, bool *yes,
		       struct err *e)
{
	return mod.on_branch(r, commit, yes, e);
}

bool gitrepo_diff(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, gitrepo_change_fn fn, void *ctx,
		  struct err *e)
{
	return mod.diff(r, from, to, pathspecs, fn, ctx, e);
}

bool gitrepo_walk(struct gitrepo *r, const char *from, const char *to,
		  const char *const *pathspecs, unsigned flags,
		  gitrepo_commit_fn fn, void *ctx, struct err *e)
{
	return mod.walk(r, from, to, pathspecs, flags, fn, ctx, e);
}

bool gitrepo_value_origin(struct gitrepo *r, const char *path, const char *blob,
			  gitrepo_same_fn same, void *ctx,
			  struct gitrepo_origin *out, struct err *e)
{
	return mod.value_origin(r, path, blob, same, ctx, out, e);
}

bool gitrepo_blob_text(struct gitrepo *r, const char *blob, char **text,
		       size_t *len, struct err *e)
{
	return mod.blob_text(r, blob, text, len, e);
}

bool gitrepo_staged_blob(struct gitrepo *r, const char *path,
			 char blob[GITREPO_HEX], struct err *e)
{
	return mod.staged_blob(r, path, blob, e);
}

bool gitrepo_head_blob(struct gitrepo *r, const char *path,
		       char blob[GITREPO_HEX], struct err *e)
{
	return mod.head_blob(r, path, blob, e);
}

bool gitrepo_head_tree(struct gitrepo *r, char commit[GITREPO_HEX],
		       char tree[GITREPO_HEX], struct err *e)
{
	return mod.head_tree(r, commit, tree, e);
}

bool gitrepo_loaded(void)
{
	return __atomic_load_n(&handle, __ATOMIC_ACQUIRE) != NULL;
}

bool gitrepo_blob_committed(struct gitrepo *r, const char *path,
			    const char *blob, const char *before,
			    const char *seen, const char *const *alone,
			    int64_t written, int64_t since, bool *held,
			    struct err *e)
{
	return mod.blob_committed(r, path, blob, before, seen, alone, written,
				  since, held, e);
}

bool gitrepo_path_changed(struct gitrepo *r, const char *path, const char *was,
			  const char *since, bool *changed, struct err *e)
{
	return mod.path_changed(r, path, was, since, changed, e);
}

bool gitrepo_path_one_change(struct gitrepo *r, const char *path,
			     const char *blob, const char *since, bool added,
			     bool *only, struct err *e)
{
	return mod.path_one_change(r, path, blob, since, added, only, e);
}

bool gitrepo_path_versions(struct gitrepo *r, const char *path,
			   const char *from, const char *since, size_t max,
			   size_t limit, gitrepo_version_fn fn, void *ctx,
			   bool *found, struct err *e)
{
	return mod.path_versions(r, path, from, since, max, limit, fn, ctx,
				 found, e);
}

bool gitrepo_hooks_dir(struct gitrepo *r, char **dir, struct err *e)
{
	return mod.hooks_dir(r, dir, e);
}

static bool on_staged(void *ctx, const char *path, const char *blob,
		      unsigned mode, struct err *e)
{
	return gitindex_edit_set(ctx, path, blob, mode, e);
}

bool gitrepo_commit_paths(struct gitrepo *r, const char *const *paths,
			  size_t npaths, const char *message, const char *name,
			  const char *email, char out[GITREPO_HEX],
			  struct err *e)
{
	struct err ie = {{0}};
	struct gitindex_edit *ed;
	bool unsure;

	if (mod.index_readable(r, &ie))
		return mod.commit_staged(r, paths, npaths, message, name, email,
					 NULL, NULL, out, e);
	/* libgit2 cannot read git's index (a split index): the commit made
	 * from HEAD's tree as ever, the index read and written here, its
	 * lock held from before the commit to after */
	ed = gitindex_edit_open(mod.gitdir(r), mod.workdir(r), &unsure, e);
	if (!ed) {
		if (unsure)
			*e = ie;
		return false;
	}
	if (!mod.commit_staged(r, paths, npaths, message, name, email,
			       on_staged, ed, out, e)) {
		gitindex_edit_abort(ed);
		return false;
	}
	return gitindex_edit_commit(ed, e);
}

bool gitrepo_tracked(const char *path, bool *tracked, struct err *e)
{
	enum gitindex_answer a = gitindex_tracked(path);

	*tracked = a == GITINDEX_TRACKED;
	if (a != GITINDEX_UNSURE)
		return true; /* the index file said, the module not loaded */
	if (!load()) {
		*tracked = false;
		return err_set(e, "git: %s", failure);
	}
	return mod.tracked(path, tracked, e);
}

bool gitrepo_tracked_head(const char *path, bool *tracked, struct err *why,
			  struct err *e)
{
	struct err ie = {{0}};
	const char *slash = strrchr(path, '/');
	char *dir = NULL, *prefix = NULL, *rel = NULL, blob[GITREPO_HEX] = "";
	struct gitrepo *r = NULL;
	bool ok;

	if (why)
		why->msg[0] = '\0';
	if (gitrepo_tracked(path, tracked, &ie))
		return true;
	/* the index unread: HEAD's commit, read from the objects */
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	r = gitrepo_open(*dir ? dir : "/", NULL);
	ok = r && gitrepo_prefix(r, *dir ? dir : "/", &prefix, NULL);
	if (ok) {
		rel = *prefix ? xasprintf("%s/%s", prefix, slash + 1)
			      : xstrdup(slash + 1);
		ok = gitrepo_head_blob(r, rel, blob, NULL);
	}
	*tracked = ok && blob[0];
	if (ok && why)
		*why = ie;
	else if (!ok && e)
		*e = ie; /* that error, as gitrepo_tracked's */
	gitrepo_destroy(r);
	free(rel);
	free(prefix);
	free(dir);
	return ok;
}
