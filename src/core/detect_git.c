/*
 * The file side from git: the tree diff between the last synced commit and
 * HEAD names the candidate paths (work proportional to the diff, not the
 * tree); their content is read from the work tree, since the file system
 * wins. Status changes are attributed to the commit that made them.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"
#include "gitrepo.h"
#include "json.h"
#include "mem.h"
#include "story.h"

struct collect {
	const char *prefix; /* the config root inside the repository */
	char **paths;
	size_t npaths;
	struct git_author *authors;
	size_t nauthors;
};

const char *detect_git_relative(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	if (!path)
		return NULL;
	if (!n)
		return path;
	if (strncmp(path, prefix, n) != 0 || path[n] != '/')
		return NULL;
	return path + n + 1;
}

static void add_path(struct collect *c, const char *repo_path)
{
	const char *rel = detect_git_relative(c->prefix, repo_path);

	if (!rel)
		return;
	c->paths = xreallocarray(c->paths, c->npaths + 1, sizeof(char *));
	c->paths[c->npaths++] = xstrdup(rel);
}

static bool on_change(void *ctx, const struct gitrepo_change *ch)
{
	add_path(ctx, ch->old_path);
	add_path(ctx, ch->new_path);
	return true;
}

/* Oldest commit first: a later commit's entry replaces an earlier one. */
static bool on_commit(void *ctx, const struct gitrepo_commit *cm)
{
	struct collect *c = ctx;

	for (size_t i = 0; i < cm->nchanges; i++) {
		const char *rel =
			detect_git_relative(c->prefix, cm->changes[i].new_path);
		struct git_author *a;

		if (!rel)
			continue;
		c->authors =
			xreallocarray(c->authors, c->nauthors + 1, sizeof(*a));
		a = &c->authors[c->nauthors++];
		a->path = xstrdup(rel);
		memcpy(a->commit, cm->id, sizeof(a->commit));
		a->author =
			xasprintf("%s <%s>", cm->author_name, cm->author_email);
		a->time = cm->time;
	}
	return true;
}

/* The walk is oldest first; the order breaks ties so that the latest
 * commit to touch a path is the one kept. */
struct ordered {
	struct git_author a;
	size_t order;
};

static int ordered_cmp(const void *x, const void *y)
{
	const struct ordered *a = x, *b = y;
	int r = strcmp(a->a.path, b->a.path);

	if (r)
		return r;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Moves the collected authors into g, sorted by path, latest per path. */
static void keep_latest(struct git_result *g, struct collect *c)
{
	struct ordered *v = xcalloc(c->nauthors, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < c->nauthors; i++)
		v[i] = (struct ordered){c->authors[i], i};
	qsort(v, c->nauthors, sizeof(*v), ordered_cmp);
	g->authors = xcalloc(c->nauthors, sizeof(*g->authors));
	for (size_t i = 0; i < c->nauthors; i++) {
		if (n && strcmp(g->authors[n - 1].path, v[i].a.path) == 0) {
			free(g->authors[n - 1].path);
			free(g->authors[n - 1].author);
			n--;
		}
		g->authors[n++] = v[i].a;
	}
	g->nauthors = n;
	free(v);
	free(c->authors);
	c->authors = NULL;
	c->nauthors = 0;
}

static int author_cmp(const void *key, const void *elem)
{
	const struct git_author *a = elem;

	return strcmp(key, a->path);
}

const struct git_author *git_result_author(const struct git_result *g,
					   const char *path)
{
	if (!g || !g->nauthors)
		return NULL;
	return bsearch(path, g->authors, g->nauthors, sizeof(*g->authors),
		       author_cmp);
}

void git_result_finish(struct git_result *g)
{
	for (size_t i = 0; i < g->npaths; i++)
		free(g->paths[i]);
	free(g->paths);
	g->paths = NULL;
	g->npaths = 0;
	for (size_t i = 0; i < g->nauthors; i++) {
		free(g->authors[i].path);
		free(g->authors[i].author);
	}
	free(g->authors);
	g->authors = NULL;
	g->nauthors = 0;
}

char **detect_git_pathspecs(const struct config *c, const char *prefix)
{
	char **v = xcalloc(c->nbacklogs + 1, sizeof(char *));

	for (size_t b = 0; b < c->nbacklogs; b++) {
		const char *p = c->backlogs[b].path;
		bool here = strcmp(p, ".") == 0;

		if (here && !*prefix) {
			/* a backlog at the top of the work tree: every path
			 * may be a story, and no pathspec names "all" */
			strv_free(v);
			return NULL;
		}
		if (here)
			v[b] = xstrdup(prefix);
		else if (*prefix)
			v[b] = xasprintf("%s/%s", prefix, p);
		else
			v[b] = xstrdup(p);
	}
	return v;
}

/* Why the diff from last to HEAD cannot be trusted, or NULL; a question
 * git cannot answer is a reason too, kept in why. */
static const char *distrust(struct gitrepo *repo, const char *last,
			    const char *head, struct err *why)
{
	bool yes = false;

	if (!*head)
		return "HEAD is unborn";
	if (!last || !*last)
		return "no last synced commit";
	if (gitrepo_is_shallow(repo))
		return "a shallow clone";
	if (!gitrepo_is_ancestor(repo, last, head, &yes, why))
		return why->msg;
	if (!yes)
		return "the last synced commit is no longer in the history "
		       "(rebase or reset)";
	return NULL;
}

bool detect_git(const struct config *c, const char *last, struct git_result *g,
		struct err *e)
{
	struct collect col = {0};
	struct gitrepo *repo;
	char *prefix = NULL, **specs = NULL;
	bool unborn = false, ok = false;

	memset(g, 0, sizeof(*g));
	repo = gitrepo_open(c->root, e);
	if (!repo) {
		g->unusable = true;
		return false;
	}
	if (!gitrepo_head(repo, g->head, &unborn, e))
		goto out;
	ok = true;
	g->fallback = distrust(repo, last, g->head, &g->why);
	if (g->fallback)
		goto out;
	/* past here, whatever git cannot answer is a reason to scan, never
	 * to skip: the last synced commit must not move past a change */
	if (!gitrepo_prefix(repo, c->root, &prefix, &g->why))
		goto distrusted;
	specs = detect_git_pathspecs(c, prefix);
	col.prefix = prefix;
	if (!gitrepo_diff(repo, last, g->head, (const char *const *)specs,
			  on_change, &col, &g->why) ||
	    !gitrepo_walk(repo, last, g->head, (const char *const *)specs, 0,
			  on_commit, &col, &g->why))
		goto distrusted;
	keep_latest(g, &col);
	g->paths = col.paths;
	g->npaths = col.npaths;
	col.paths = NULL;
	col.npaths = 0;
	goto out;
distrusted:
	g->fallback = g->why.msg;
out:
	for (size_t i = 0; i < col.nauthors; i++) {
		free(col.authors[i].path);
		free(col.authors[i].author);
	}
	free(col.authors);
	for (size_t i = 0; i < col.npaths; i++)
		free(col.paths[i]);
	free(col.paths);
	strv_free(specs);
	free(prefix);
	gitrepo_destroy(repo);
	return ok;
}

void detect_git_head(const struct config *c, struct git_result *g)
{
	struct gitrepo *repo = gitrepo_open(c->root, NULL);
	bool unborn = false;

	g->head[0] = '\0';
	if (repo && !gitrepo_head(repo, g->head, &unborn, NULL))
		g->head[0] = '\0';
	gitrepo_destroy(repo);
}

/* The question asked of each version of a file: does its key k hold
 * value? */
struct key_question {
	const struct config *c;
	const char *path;
	enum story_mirror k;
	const char *value;
};

static bool holds_value(void *ctx, const char *text, size_t len)
{
	const struct key_question *q = ctx;
	struct story_doc d = {0};
	const char *m;
	struct err e;
	bool same;

	/* a version that does not parse holds no key */
	if (!story_parse(&d, &q->c->dialect, q->path, text, len, &e))
		return false;
	m = d.mirror[q->k];
	same = m && q->value ? strcmp(m, q->value) == 0 : m == q->value;
	story_doc_finish(&d);
	return same;
}

/* The repository, on the first question; false when there is none. */
static bool mirrors_open(struct git_mirrors *gm, const struct config *c)
{
	if (!gm->tried) {
		gm->tried = true;
		gm->repo = gitrepo_open(c->root, NULL);
		if (gm->repo &&
		    !gitrepo_prefix(gm->repo, c->root, &gm->prefix, NULL)) {
			gitrepo_destroy(gm->repo);
			gm->repo = NULL;
		}
	}
	return gm->repo != NULL;
}

/* Where the value q asks about in the file fc came from, in git. */
static bool value_origin(struct git_mirrors *gm, const struct file_change *fc,
			 struct key_question *q, struct gitrepo_origin *o,
			 struct err *e)
{
	char *path = *gm->prefix ? xasprintf("%s/%s", gm->prefix, fc->path)
				 : xstrdup(fc->path);
	bool ok = gitrepo_value_origin(gm->repo, path, fc->hash, holds_value, q,
				       o, e);

	free(path);
	return ok;
}

bool detect_git_carried(struct git_mirrors *gm, const struct config *c,
			const struct file_change *fc, enum story_mirror k,
			bool *carried, struct err *e)
{
	struct key_question q = {c, fc->path, k, fc->mirror[k]};
	struct gitrepo_origin o;
	bool ok;

	*carried = false;
	if (!mirrors_open(gm, c))
		return true;
	ok = value_origin(gm, fc, &q, &o, e);
	/* a key a commit (or the index) changed in place is an edit, even
	 * one a run saw: the committed edit stands */
	*carried = ok && o.held && o.arrived;
	return ok;
}

void git_mirrors_finish(struct git_mirrors *gm)
{
	gitrepo_destroy(gm->repo);
	free(gm->prefix);
	memset(gm, 0, sizeof(*gm));
}
