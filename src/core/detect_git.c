/*
 * The file side from git: the tree diff between the last synced commit and
 * HEAD names the candidate paths (work proportional to the diff, not the
 * tree); their content is read from the work tree, since the file system
 * wins. Status changes are attributed to the commit that made them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "detect.h"
#include "githead.h"
#include "gitindex.h"
#include "gitrepo.h"
#include "json.h"
#include "mem.h"
#include "story.h"
#include "strmap.h"

/* A story's path through the range, as it is built. */
struct trail_build {
	const char *path; /* in the arena; NULL once the story is gone */
	struct git_first *firsts;
	size_t nfirsts;
	size_t last;
};

struct collect {
	const struct config *c;
	const char *prefix; /* the config root inside the repository */
	char **paths;
	size_t npaths;
	struct git_author *commits;
	size_t ncommits, capcommits;
	struct trail_build *trails;
	size_t ntrails, captrails;
	struct strmap at;   /* path -> the trail there (checked: stale when
			       the trail moved on) */
	struct arena names; /* the trails' paths */
	size_t *touched;    /* trails the current commit changed */
	size_t ntouched, captouched;
	struct pending_side {
		size_t trail; /* gone: the trail; came: unused */
		const char *path;
	} * gone, *came; /* of the current commit */
	size_t ngone, capgone, ncame, capcame;
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

static void add_first(struct trail_build *t, const char *status, size_t at)
{
	if (!status)
		return;
	for (size_t i = 0; i < t->nfirsts; i++)
		if (strcmp(t->firsts[i].status, status) == 0)
			return;
	t->firsts =
		xreallocarray(t->firsts, t->nfirsts + 1, sizeof(*t->firsts));
	t->firsts[t->nfirsts++] = (struct git_first){status, at};
}

/* Puts trail i at rel. */
static void trail_move(struct collect *c, size_t i, const char *rel)
{
	c->trails[i].path = arena_strdup(&c->names, rel);
	strmap_put(&c->at, c->trails[i].path, i);
}

static size_t trail_new(struct collect *c, const char *rel)
{
	c->trails = xgrow(c->trails, &c->captrails, c->ntrails + 1,
			  sizeof(*c->trails));
	c->trails[c->ntrails] = (struct trail_build){0};
	trail_move(c, c->ntrails, rel);
	return c->ntrails++;
}

/* The trail at rel, a path the parent commit has: a story seen first here
 * was in its stage before the range. */
static size_t trail_at(struct collect *c, const char *rel)
{
	size_t i;

	if (strmap_get(&c->at, rel, &i) && c->trails[i].path &&
	    strcmp(c->trails[i].path, rel) == 0)
		return i;
	i = trail_new(c, rel);
	add_first(&c->trails[i], detect_stage_status(c->c, rel), GIT_BEFORE);
	return i;
}

static void touch(struct collect *c, size_t i)
{
	c->touched = xgrow(c->touched, &c->captouched, c->ntouched + 1,
			   sizeof(*c->touched));
	c->touched[c->ntouched++] = i;
}

static void push_side(struct pending_side **v, size_t *n, size_t *cap,
		      size_t trail, const char *path)
{
	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct pending_side){trail, path};
}

/* One change of a commit: a rename moves its trail; a delete and an add
 * wait to be paired. */
static void trail_change(struct collect *c, const struct gitrepo_change *ch)
{
	const char *old_rel = detect_git_relative(c->prefix, ch->old_path);
	const char *new_rel = detect_git_relative(c->prefix, ch->new_path);
	size_t i;

	if (old_rel && new_rel) { /* 'R' or 'M' */
		i = trail_at(c, old_rel);
		if (ch->status == 'R')
			trail_move(c, i, new_rel);
		touch(c, i);
		return;
	}
	if (old_rel)
		push_side(&c->gone, &c->ngone, &c->capgone,
			  trail_at(c, old_rel), old_rel);
	if (new_rel)
		push_side(&c->came, &c->ncame, &c->capcame, 0, new_rel);
}

/* A story deleted at one path and added at another by one commit (moved
 * and edited: their file names give one id) keeps its trail; an add alone
 * starts one. */
static void pair_sides(struct collect *c)
{
	struct strmap ids;
	struct arena names = {0};
	size_t k;

	strmap_init(&ids, c->ngone);
	for (k = 0; k < c->ngone; k++) {
		char *id = story_id_from_name(&c->c->dialect, c->gone[k].path);

		if (id)
			strmap_put(&ids, arena_strdup(&names, id), k);
		free(id);
	}
	for (size_t j = 0; j < c->ncame; j++) {
		char *id = story_id_from_name(&c->c->dialect, c->came[j].path);
		size_t i;

		if (id && strmap_get(&ids, id, &k) && c->gone[k].path) {
			i = c->gone[k].trail;
			c->gone[k].path = NULL;
			trail_move(c, i, c->came[j].path);
		} else {
			i = trail_new(c, c->came[j].path);
		}
		free(id);
		touch(c, i);
	}
	for (k = 0; k < c->ngone; k++)
		if (c->gone[k].path)
			c->trails[c->gone[k].trail].path = NULL;
	c->ngone = c->ncame = 0;
	strmap_finish(&ids);
	arena_finish(&names);
}

/* Oldest commit first, first parents only: each story's trail follows its
 * renames, and records the first commit that put it in each stage. */
static bool on_commit(void *ctx, const struct gitrepo_commit *cm)
{
	struct collect *c = ctx;
	size_t at = c->ncommits;
	struct git_author *a;

	c->commits = xgrow(c->commits, &c->capcommits, c->ncommits + 1,
			   sizeof(*c->commits));
	a = &c->commits[c->ncommits++];
	memcpy(a->commit, cm->id, sizeof(a->commit));
	a->author = xasprintf("%s <%s>", cm->author_name, cm->author_email);
	a->time = cm->time;
	c->ntouched = 0;
	for (size_t i = 0; i < cm->nchanges; i++)
		trail_change(c, &cm->changes[i]);
	pair_sides(c);
	for (size_t i = 0; i < c->ntouched; i++) {
		struct trail_build *t = &c->trails[c->touched[i]];

		if (!t->path)
			continue;
		t->last = at;
		add_first(t, detect_stage_status(c->c, t->path), at);
	}
	return true;
}

static int trail_cmp(const void *x, const void *y)
{
	const struct git_trail *a = x, *b = y;

	return strcmp(a->path, b->path);
}

/* Moves the trails of the stories there at HEAD into g, by path. */
static void keep_trails(struct git_result *g, struct collect *c)
{
	g->trails = xcalloc(c->ntrails + 1, sizeof(*g->trails));
	for (size_t i = 0; i < c->ntrails; i++) {
		struct trail_build *t = &c->trails[i];
		struct git_trail *o = &g->trails[g->ntrails];

		if (!t->path) /* gone by HEAD */
			continue;
		o->path = xstrdup(t->path);
		o->firsts = t->firsts;
		o->nfirsts = t->nfirsts;
		o->last = t->last;
		t->firsts = NULL;
		g->ntrails++;
	}
	qsort(g->trails, g->ntrails, sizeof(*g->trails), trail_cmp);
	g->commits = c->commits;
	g->ncommits = c->ncommits;
	c->commits = NULL;
	c->ncommits = 0;
}

static void collect_finish(struct collect *c)
{
	for (size_t i = 0; i < c->ncommits; i++)
		free(c->commits[i].author);
	free(c->commits);
	for (size_t i = 0; i < c->ntrails; i++)
		free(c->trails[i].firsts);
	free(c->trails);
	strmap_finish(&c->at);
	arena_finish(&c->names);
	free(c->touched);
	free(c->gone);
	free(c->came);
	for (size_t i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	free(c->paths);
}

static int trail_key_cmp(const void *key, const void *elem)
{
	const struct git_trail *t = elem;

	return strcmp(key, t->path);
}

static const struct git_trail *trail_of(const struct git_result *g,
					const char *path)
{
	if (!g->ntrails || !path)
		return NULL;
	return bsearch(path, g->trails, g->ntrails, sizeof(*g->trails),
		       trail_key_cmp);
}

void git_result_finish(struct git_result *g)
{
	for (size_t i = 0; i < g->npaths; i++)
		free(g->paths[i]);
	free(g->paths);
	g->paths = NULL;
	g->npaths = 0;
	for (size_t i = 0; i < g->ncommits; i++)
		free(g->commits[i].author);
	free(g->commits);
	g->commits = NULL;
	g->ncommits = 0;
	for (size_t i = 0; i < g->ntrails; i++) {
		free(g->trails[i].path);
		free(g->trails[i].firsts);
	}
	free(g->trails);
	g->trails = NULL;
	g->ntrails = 0;
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
	struct collect col = {.c = c};
	struct gitrepo *repo;
	char *prefix = NULL, **specs = NULL;
	bool unborn = false, ok = false;

	memset(g, 0, sizeof(*g));
	repo = gitrepo_open(c->root, e);
	if (!repo) {
		g->unusable = true;
		return false;
	}
	strmap_init(&col.at, 16);
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
	    !gitrepo_walk(repo, last, g->head, (const char *const *)specs,
			  GITREPO_WALK_FIRST_PARENT, on_commit, &col, &g->why))
		goto distrusted;
	keep_trails(g, &col);
	g->paths = col.paths;
	g->npaths = col.npaths;
	col.paths = NULL;
	col.npaths = 0;
	goto out;
distrusted:
	g->fallback = g->why.msg;
out:
	collect_finish(&col);
	strv_free(specs);
	free(prefix);
	gitrepo_destroy(repo);
	return ok;
}

void detect_git_head(const struct config *c, struct git_result *g)
{
	struct gitrepo *repo;
	bool unborn = false;

	/* from git's files when they are plain: a first load (or a scan that
	 * found changes) then never starts libgit2, 10 ms and more */
	if (githead_read(c->root, g->head))
		return;
	repo = gitrepo_open(c->root, NULL);
	g->head[0] = '\0';
	if (repo && !gitrepo_head(repo, g->head, &unborn, NULL))
		g->head[0] = '\0';
	gitrepo_destroy(repo);
}

/* The question asked of each version of a file: does its key k hold
 * value? (With status, the status: key of a tree that takes the status
 * from it.) */
struct key_question {
	const struct config *c;
	const char *path;
	enum story_mirror k;
	const char *value;
	bool status; /* ask the story's status, not a mirror key */
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
	m = q->status ? d.s.v[SF_STATUS] : d.mirror[q->k];
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
	struct key_question q = {c, fc->path, k, fc->mirror[k], false};
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

/* path (relative to the config root) as the repository names it */
static char *repo_path(const struct git_mirrors *gm, const char *path)
{
	return *gm->prefix ? xasprintf("%s/%s", gm->prefix, path)
			   : xstrdup(path);
}

bool detect_git_version(struct git_mirrors *gm, const struct config *c,
			const char *blob, const char *path, struct story *out,
			char *mirror[], bool *found, struct err *e)
{
	struct story_doc doc;
	char *text;
	size_t len;
	bool ok;

	*found = false;
	if (!mirrors_open(gm, c))
		return true;
	if (!gitrepo_blob_text(gm->repo, blob, &text, &len, e))
		return false;
	ok = story_parse(&doc, &c->dialect, path, text, len, e);
	free(text);
	if (!ok)
		return false;
	*out = doc.s;
	memset(&doc.s, 0, sizeof(doc.s));
	for (int k = 0; mirror && k < SM_COUNT; k++) {
		mirror[k] = doc.mirror[k];
		doc.mirror[k] = NULL;
	}
	story_doc_finish(&doc);
	*found = true;
	return true;
}

/* git's index at root, read as HEAD's tree when HEAD is the commit of k
 * ("COMMIT TREE"), else NULL. */
static struct gitindex_tree *index_of_head(const char *k, const char *root)
{
	char head[GITHEAD_HEX];

	if (k && strlen(k) == 2 * (GITHEAD_HEX - 1) + 1 &&
	    k[GITHEAD_HEX - 1] == ' ' && githead_read(root, head) &&
	    strncmp(k, head, GITHEAD_HEX - 1) == 0)
		return gitindex_tree_open(root, k + GITHEAD_HEX);
	return NULL;
}

static void *index_read(void *arg)
{
	struct git_mirrors *gm = arg;

	/* the caller handles an allocation failure (it waits for this) */
	mem_defer_oom();
	gm->index = index_of_head(gm->head_tree, gm->index_root);
	return NULL;
}

void detect_git_index_ahead(struct git_mirrors *gm, const struct config *c)
{
	if (gm->index_tried)
		return;
	gm->index_tried = true;
	gm->index_root = c->root;
	gm->index_reading =
		pthread_create(&gm->index_thread, NULL, index_read, gm) == 0;
	if (!gm->index_reading)
		gm->index = index_of_head(gm->head_tree, c->root);
}

/* Waits for the index read ahead, if it is; a thread out of memory
 * waits for this one to end the program. */
static void index_join(struct git_mirrors *gm)
{
	struct timespec ts;

	if (!gm->index_reading)
		return;
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(gm->index_thread, NULL, &ts) == 0)
			break;
		if (mem_oom_pending())
			mem_fail();
	}
	gm->index_reading = false;
}

/* HEAD's blob at path from git's index (see detect_git_blob); false when
 * that cannot say. */
static bool index_head_blob(struct git_mirrors *gm, const struct config *c,
			    const char *path, char blob[BLOBID_HEX])
{
	char *abs;
	enum gitindex_answer a;

	index_join(gm);
	if (!gm->index_tried) {
		gm->index_tried = true;
		gm->index = index_of_head(gm->head_tree, c->root);
	}
	if (!gm->index)
		return false;
	abs = xasprintf("%s/%s", c->root, path);
	a = gitindex_tree_blob(gm->index, abs, blob);
	free(abs);
	return a != GITINDEX_UNSURE;
}

bool detect_git_blob(struct git_mirrors *gm, const struct config *c,
		     const char *path, enum git_version v,
		     char blob[BLOBID_HEX], struct err *e)
{
	char *p;
	bool ok;

	blob[0] = '\0';
	if (v == GIT_HEAD && index_head_blob(gm, c, path, blob))
		return true;
	if (!mirrors_open(gm, c))
		return true;
	p = repo_path(gm, path);
	ok = v == GIT_HEAD ? gitrepo_head_blob(gm->repo, p, blob, e)
			   : gitrepo_staged_blob(gm->repo, p, blob, e);
	free(p);
	return ok;
}

bool detect_git_committed(struct git_mirrors *gm, const struct config *c,
			  const char *path, const char *blob,
			  const char *before, const char *seen,
			  const char *const *alone, int64_t written,
			  int64_t since, bool *held, struct err *e)
{
	size_t n = 0;
	char *p, **a = NULL;
	bool ok;

	*held = false;
	if (!mirrors_open(gm, c))
		return true;
	p = repo_path(gm, path);
	while (alone && alone[n])
		n++;
	if (alone) {
		a = xcalloc(n + 1, sizeof(*a));
		for (size_t i = 0; i < n; i++)
			a[i] = repo_path(gm, alone[i]);
	}
	ok = gitrepo_blob_committed(gm->repo, p, blob, before, seen,
				    (const char *const *)a, written, since,
				    held, e);
	for (size_t i = 0; i < n; i++)
		free(a[i]);
	free(a);
	free(p);
	return ok;
}

bool detect_git_left(struct git_mirrors *gm, const struct config *c,
		     const char *last, bool *left, struct err *e)
{
	char head[GITREPO_HEX];
	bool unborn = false, yes = false;

	*left = false;
	if (!last || !*last || !mirrors_open(gm, c))
		return true;
	if (!gitrepo_head(gm->repo, head, &unborn, e))
		return false;
	if (unborn || strcmp(head, last) == 0)
		return true;
	if (!gitrepo_is_ancestor(gm->repo, last, head, &yes, e))
		return false;
	if (yes)
		return true;
	if (!gitrepo_on_branch(gm->repo, last, &yes, e))
		return false;
	*left = yes;
	return true;
}

bool detect_git_has_commit(struct git_mirrors *gm, const struct config *c,
			   const char *last, bool *yes, struct err *e)
{
	*yes = true;
	if (!last || !*last || !mirrors_open(gm, c))
		return true;
	return gitrepo_has_commit(gm->repo, last, yes, e);
}

bool detect_git_head_commit(struct git_mirrors *gm, const struct config *c,
			    char out[BLOBID_HEX], struct err *e)
{
	bool unborn = false;

	out[0] = '\0';
	if (!mirrors_open(gm, c))
		return true;
	if (!gitrepo_head(gm->repo, out, &unborn, e)) {
		out[0] = '\0';
		return false;
	}
	if (unborn)
		out[0] = '\0';
	return true;
}

bool detect_git_path_changed(struct git_mirrors *gm, const struct config *c,
			     const char *path, const char *was,
			     const char *since, bool *changed, struct err *e)
{
	char *p, *w;
	bool ok;

	*changed = false;
	if (!mirrors_open(gm, c))
		return true;
	p = repo_path(gm, path);
	w = was ? repo_path(gm, was) : NULL;
	ok = gitrepo_path_changed(gm->repo, p, w, since, changed, e);
	free(p);
	free(w);
	return ok;
}

bool detect_git_commit_holds(struct git_mirrors *gm, const struct config *c,
			     const char *since, const char *blob, size_t max,
			     size_t *n, struct err *e)
{
	*n = 0;
	if (!mirrors_open(gm, c))
		return true;
	return gitrepo_commit_holds(gm->repo, since, gm->prefix, blob, max, n,
				    e);
}

bool detect_git_path_one_change(struct git_mirrors *gm, const struct config *c,
				const char *path, const char *blob,
				const char *since, bool added, bool *only,
				struct err *e)
{
	char *p;
	bool ok;

	*only = false;
	if (!mirrors_open(gm, c))
		return true;
	p = repo_path(gm, path);
	ok = gitrepo_path_one_change(gm->repo, p, blob, since, added, only, e);
	free(p);
	return ok;
}

struct taken_walk {
	char *paths[2];
	bool seen, taken;
};

/* The first commit that changed one of w's paths decides (stops the
 * walk); one that matched the pathspecs only by a pattern goes on. */
static bool on_taken(void *ctx, const struct gitrepo_commit *gc)
{
	struct taken_walk *w = ctx;
	bool removed = false, put = false;

	for (size_t i = 0; i < gc->nchanges; i++) {
		const struct gitrepo_change *ch = &gc->changes[i];

		for (size_t k = 0; k < 2; k++) {
			if (ch->status != 'A' && ch->old_path &&
			    strcmp(ch->old_path, w->paths[k]) == 0) {
				w->seen = true;
				removed |= ch->status == 'D';
			}
			if (ch->status != 'D' && ch->new_path &&
			    strcmp(ch->new_path, w->paths[k]) == 0)
				w->seen = put = true;
		}
	}
	w->taken = removed && !put;
	return !w->seen;
}

bool detect_git_deletion_taken(struct git_mirrors *gm, const struct config *c,
			       const char *path, const char *now,
			       const char *since, bool *taken, struct err *e)
{
	struct taken_walk w = {{NULL, NULL}, false, false};
	char head[GITREPO_HEX];
	bool unborn = false, ok;

	*taken = false;
	if (!mirrors_open(gm, c))
		return true;
	if (!gitrepo_head(gm->repo, head, &unborn, e))
		return false;
	if (unborn)
		return true;
	w.paths[0] = repo_path(gm, path);
	w.paths[1] = repo_path(gm, now);
	ok = gitrepo_walk(gm->repo, *since ? since : NULL, head,
			  (const char *const[]){w.paths[0], w.paths[1], NULL},
			  GITREPO_WALK_FIRST_PARENT, on_taken, &w, e) ||
	     w.seen;
	*taken = ok && w.taken;
	free(w.paths[0]);
	free(w.paths[1]);
	return ok;
}

/* The range's commit whose version of fc set its status key to status,
 * or NULL. */
static const struct git_author *key_credit(struct git_mirrors *gm,
					   const struct config *c,
					   const struct git_result *g,
					   const struct file_change *fc,
					   const char *status)
{
	struct key_question q = {c, fc->path, SM_STATUS, status,
				 c->dialect.status_from_key};
	struct gitrepo_origin o;
	struct err e;

	if (!mirrors_open(gm, c) || !value_origin(gm, fc, &q, &o, &e) ||
	    !o.held || !o.commit[0])
		return NULL;
	for (size_t i = 0; i < g->ncommits; i++)
		if (strcmp(g->commits[i].commit, o.commit) == 0)
			return &g->commits[i];
	return NULL;
}

const struct git_author *detect_git_credit(struct git_mirrors *gm,
					   const struct config *c,
					   const struct git_result *g,
					   const struct file_change *fc,
					   const char *status)
{
	const struct git_trail *t = trail_of(g, fc ? fc->path : NULL);
	const struct git_author *a;

	if (!t)
		return NULL;
	for (size_t i = 0; status && i < t->nfirsts; i++)
		if (strcmp(t->firsts[i].status, status) == 0 &&
		    t->firsts[i].commit != GIT_BEFORE)
			return &g->commits[t->firsts[i].commit];
	a = status ? key_credit(gm, c, g, fc, status) : NULL;
	return a ? a : &g->commits[t->last];
}

char *detect_git_head_tree(struct git_mirrors *gm, const struct config *c,
			   struct err *e)
{
	char commit[GITREPO_HEX], tree[GITREPO_HEX];

	if (!mirrors_open(gm, c) ||
	    !gitrepo_head_tree(gm->repo, commit, tree, e) || !*commit)
		return NULL;
	return xasprintf("%s %s", commit, tree);
}

void git_mirrors_finish(struct git_mirrors *gm)
{
	index_join(gm);
	gitrepo_destroy(gm->repo);
	gitindex_tree_free(gm->index);
	free(gm->head_tree);
	free(gm->prefix);
	memset(gm, 0, sizeof(*gm));
}
