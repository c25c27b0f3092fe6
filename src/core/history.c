/*
 * Status history from the git log. The walk and the id lookups happen
 * before the DB write lock is taken; the rows go in under one BEGIN
 * IMMEDIATE transaction, each checked first so that a second run adds
 * nothing.
 */
#include "history.h"

#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "fsx.h"
#include "gitrepo.h"
#include "json.h"
#include "mem.h"
#include "store.h"
#include "story.h"
#include "strmap.h"
#include "sync.h"

/* One side of a change: a story that left or entered a stage. */
struct touched {
	char *id;
	const char *status; /* owned by the config */
};

/* A status change to record. */
struct pending {
	char *id;
	const char *from, *to;
	char commit[GITREPO_HEX];
	char *author;
	int64_t time;
	size_t at;         /* its commit's place in the walk */
	size_t prev, next; /* the pending rows of the same change before and
			      after it, or SIZE_MAX */
};

struct walk {
	const struct config *c;
	struct store *store;
	const char *prefix;          /* the config root inside the repository */
	struct touched *gone, *came; /* of the current commit */
	size_t ngone, ncame;
	struct pending *rows;
	size_t nrows;
	char (*ids)[GITREPO_HEX]; /* the commits walked, in order */
	size_t capids;
	long commits;
	struct err *e;
	bool failed;
};

/* The story id of the file at rel: its name's prefix, else the row there. */
static char *id_of(struct walk *w, const char *rel)
{
	char *id = story_id_from_name(&w->c->dialect, rel);

	if (!id && !store_story_id_by_path(w->store, rel, &id, w->e))
		w->failed = true;
	return id;
}

static void push_touched(struct touched **v, size_t *n, char *id,
			 const char *st)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct touched){id, st};
}

static void add_row(struct walk *w, const struct gitrepo_commit *cm,
		    const char *id, const char *from, const char *to)
{
	struct pending *p;

	w->rows = xreallocarray(w->rows, w->nrows + 1, sizeof(*p));
	p = &w->rows[w->nrows++];
	p->id = xstrdup(id);
	p->from = from;
	p->to = to;
	memcpy(p->commit, cm->id, sizeof(p->commit));
	p->author = xasprintf("%s <%s>", cm->author_name, cm->author_email);
	p->time = cm->time;
	p->at = (size_t)w->commits - 1;
	p->prev = p->next = SIZE_MAX;
}

/* A rename within the config root between two story paths. */
static void on_rename(struct walk *w, const struct gitrepo_commit *cm,
		      const char *old_rel, const char *new_rel)
{
	const char *from = detect_stage_status(w->c, old_rel);
	const char *to = detect_stage_status(w->c, new_rel);
	char *id;

	if (!from || !to || strcmp(from, to) == 0)
		return;
	id = story_id_from_name(&w->c->dialect, new_rel);
	if (!id)
		id = story_id_from_name(&w->c->dialect, old_rel);
	if (!id)
		id = id_of(w, new_rel);
	if (!id && !w->failed)
		id = id_of(w, old_rel);
	if (id)
		add_row(w, cm, id, from, to);
	free(id);
}

/* Sorts one change into a rename, a story gone or a story come. */
static void on_change(struct walk *w, const struct gitrepo_commit *cm,
		      const struct gitrepo_change *ch)
{
	const char *old_rel = detect_git_relative(w->prefix, ch->old_path);
	const char *new_rel = detect_git_relative(w->prefix, ch->new_path);
	const char *st;
	char *id;

	if (ch->status == 'R' && old_rel && new_rel) {
		on_rename(w, cm, old_rel, new_rel);
		return;
	}
	if (ch->status == 'M')
		return;
	/* a delete, an add, or a rename half outside the root */
	if (old_rel && (st = detect_stage_status(w->c, old_rel)) &&
	    (id = id_of(w, old_rel)))
		push_touched(&w->gone, &w->ngone, id, st);
	if (new_rel && (st = detect_stage_status(w->c, new_rel)) &&
	    (id = id_of(w, new_rel)))
		push_touched(&w->came, &w->ncame, id, st);
}

static int touched_cmp(const void *a, const void *b)
{
	const struct touched *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static void free_touched(struct touched *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

/* A story deleted in one stage and added in another by the same commit
 * moved: pairs them by id. */
static void pair_sides(struct walk *w, const struct gitrepo_commit *cm)
{
	size_t i = 0, j = 0;

	if (!w->ngone || !w->ncame)
		goto out;
	qsort(w->gone, w->ngone, sizeof(*w->gone), touched_cmp);
	qsort(w->came, w->ncame, sizeof(*w->came), touched_cmp);
	while (i < w->ngone && j < w->ncame) {
		int r = strcmp(w->gone[i].id, w->came[j].id);

		if (r == 0 && strcmp(w->gone[i].status, w->came[j].status))
			add_row(w, cm, w->gone[i].id, w->gone[i].status,
				w->came[j].status);
		if (r <= 0)
			i++;
		if (r >= 0)
			j++;
	}
out:
	free_touched(w->gone, w->ngone);
	free_touched(w->came, w->ncame);
	w->gone = w->came = NULL;
	w->ngone = w->ncame = 0;
}

static bool on_commit(void *ctx, const struct gitrepo_commit *cm)
{
	struct walk *w = ctx;

	w->ids = xgrow(w->ids, &w->capids, (size_t)w->commits + 1,
		       sizeof(*w->ids));
	memcpy(w->ids[w->commits++], cm->id, GITREPO_HEX);
	for (size_t i = 0; !w->failed && i < cm->nchanges; i++)
		on_change(w, cm, &cm->changes[i]);
	pair_sides(w, cm);
	return !w->failed;
}

/* Walks HEAD's first-parent history into w->rows. */
static bool walk_history(struct gitrepo *repo, struct walk *w, const char *head)
{
	char *prefix = NULL, **specs = NULL;
	bool ok = false;

	if (!gitrepo_prefix(repo, w->c->root, &prefix, w->e))
		return false;
	specs = detect_git_pathspecs(w->c, prefix);
	w->prefix = prefix;
	ok = gitrepo_walk(repo, NULL, head, (const char *const *)specs,
			  GITREPO_WALK_FIRST_PARENT, on_commit, w, w->e);
	free_touched(w->gone, w->ngone);
	free_touched(w->came, w->ncame);
	w->gone = w->came = NULL;
	w->ngone = w->ncame = 0;
	strv_free(specs);
	free(prefix);
	w->prefix = NULL;
	return ok && !w->failed;
}

/* Links each pending row to the rows of the same change (story, from, to)
 * before and after it. */
static void link_changes(struct walk *w)
{
	struct strmap last;
	struct arena keys = {0};

	strmap_init(&last, w->nrows);
	for (size_t i = 0; i < w->nrows; i++) {
		struct pending *p = &w->rows[i];
		char *k = xasprintf("%s\n%s\n%s", p->id, p->from, p->to);
		size_t j;

		if (strmap_get(&last, k, &j)) {
			p->prev = j;
			w->rows[j].next = i;
		}
		strmap_put(&last, arena_strdup(&keys, k), i);
		free(k);
	}
	strmap_finish(&last);
	arena_finish(&keys);
}

/* How the git rows of p's change stand to it, between the change's
 * occurrences before and after p: a row that credits an earlier commit
 * (the key edit a sync credited, before the file followed) means p is
 * recorded (*there); one that credits a later commit (a sync that credited
 * the last commit to touch the story) is credited to p's commit
 * (*fixed). */
static bool credit_rows(struct walk *w, const struct strmap *at,
			const struct pending *p, const struct history_row *h,
			bool *there, bool *fixed)
{
	struct history_credit *v = NULL;
	size_t n = 0, c, fix = SIZE_MAX;
	size_t since = p->prev == SIZE_MAX ? 0 : w->rows[p->prev].at + 1;
	size_t until = p->next == SIZE_MAX ? SIZE_MAX : w->rows[p->next].at;
	bool ok = store_history_credits(w->store, p->id, p->from, p->to, &v, &n,
					w->e);

	for (size_t i = 0; ok && !*there && i < n; i++) {
		if (!v[i].commit || !strmap_get(at, v[i].commit, &c) ||
		    c < since || c >= until)
			continue;
		if (c < p->at)
			*there = true;
		else if (fix == SIZE_MAX)
			fix = i;
	}
	if (ok && !*there && fix != SIZE_MAX)
		ok = *fixed =
			store_history_recredit(w->store, v[fix].id, h, w->e);
	for (size_t i = 0; i < n; i++)
		free(v[i].commit);
	free(v);
	return ok;
}

/* Adds the rows not already there, and credits the right commit with a
 * change a sync credited to a later one, in one transaction. */
static bool record(struct walk *w, struct history_counts *n)
{
	struct strmap at;
	bool ok = true;

	strmap_init(&at, (size_t)w->commits);
	for (long i = 0; i < w->commits; i++)
		strmap_put(&at, w->ids[i], (size_t)i);
	link_changes(w);
	for (size_t i = 0; ok && i < w->nrows; i++) {
		const struct pending *p = &w->rows[i];
		struct history_row h = {
			.story_id = p->id,
			.from_status = p->from,
			.to_status = p->to,
			.origin = "git",
			.commit_id = p->commit,
			.author = p->author,
			.changed_at = p->time,
		};
		bool there = false, fixed = false;

		ok = store_history_has_git(w->store, p->id, p->commit, p->to,
					   &there, w->e) &&
		     (there || credit_rows(w, &at, p, &h, &there, &fixed));
		if (!ok || there)
			continue;
		if (fixed)
			n->corrected++;
		else if ((ok = store_history_add(w->store, &h, w->e)))
			n->recorded++;
	}
	strmap_finish(&at);
	return ok;
}

static void free_rows(struct walk *w)
{
	for (size_t i = 0; i < w->nrows; i++) {
		free(w->rows[i].id);
		free(w->rows[i].author);
	}
	free(w->rows);
	free(w->ids);
}

/* Under the lock: walk, then write. */
static enum history_status backfill_locked(struct walk *w, struct gitrepo *repo,
					   struct history_counts *n)
{
	char head[GITREPO_HEX];
	bool unborn = false, refused = false;

	if (!store_open_as(&w->store, w->c->database, w->c->busy_wait_s * 1000,
			   false, NULL, w->e) ||
	    !store_set_tree(w->store, w->c->tree, w->e))
		return HISTORY_FATAL;
	if (!sync_checkout_check(w->store, w->c, &refused, w->e))
		return refused ? HISTORY_GUARDED : HISTORY_FATAL;
	if (!gitrepo_head(repo, head, &unborn, w->e))
		return HISTORY_FATAL;
	if (unborn)
		return HISTORY_OK;
	if (!walk_history(repo, w, head))
		return HISTORY_FATAL;
	n->commits = w->commits;
	n->found = (long)w->nrows;
	if (!store_begin(w->store, w->e))
		return HISTORY_FATAL;
	if (!record(w, n) || !store_commit(w->store, w->e)) {
		store_rollback(w->store);
		n->recorded = n->corrected = 0;
		return HISTORY_FATAL;
	}
	return HISTORY_OK;
}

enum history_status history_backfill(const struct config *c,
				     const struct dbcheck_report *r,
				     struct history_counts *n, struct err *e)
{
	struct walk w = {.c = c, .e = e};
	enum history_status st = HISTORY_FATAL;
	struct gitrepo *repo;
	struct dbhome_file file;
	bool confirmed, refused = false;
	int lockfd;

	memset(n, 0, sizeof(*n));
	repo = gitrepo_open(c->root, e);
	if (!repo)
		return HISTORY_USAGE;
	/* init makes the database, and the directory where the lock lives */
	if (!dbhome_need(&c->home, e)) {
		gitrepo_destroy(repo);
		return HISTORY_USAGE;
	}
	lockfd = dbhome_lock(&c->home, -1, e);
	if (lockfd == -2) {
		err_set(e, "another storysync run holds %s", c->home.lock);
		st = HISTORY_LOCKED;
	} else if (lockfd >= 0 &&
		   !dbcheck_same(c, &file, &confirmed, &refused, r, NULL, e)) {
		/* as a run: never written into a file git put in place of
		 * the one synced */
		st = refused ? HISTORY_GUARDED : HISTORY_FATAL;
	} else if (lockfd >= 0) {
		st = backfill_locked(&w, repo, n);
	}
	store_close(w.store);
	free_rows(&w);
	dbhome_unlock(lockfd);
	gitrepo_destroy(repo);
	return st;
}
