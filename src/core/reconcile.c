/*
 * A configuration change, followed by the rows: detect (the configuration
 * against the record), plan (the pairs, the state's paths), the guard, and
 * the old names a file's keys are read with; reconcile_apply.c applies it.
 */
#include "reconcile.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- detect ---- */

static void copy_backlogs(struct config_record *rec, const struct config *c)
{
	rec->backlogs = xcalloc(c->nbacklogs + 1, sizeof(*rec->backlogs));
	for (size_t i = 0; i < c->nbacklogs; i++)
		rec->backlogs[i] =
			(struct config_backlog){xstrdup(c->backlogs[i].name),
						xstrdup(c->backlogs[i].path)};
	rec->nbacklogs = c->nbacklogs;
}

static void copy_stages(struct config_record *rec, const struct config *c)
{
	rec->stages = xcalloc(c->nstages + 1, sizeof(*rec->stages));
	for (size_t i = 0; i < c->nstages; i++)
		rec->stages[i] = (struct config_stage){
			xstrdup(c->stages[i].status), xstrdup(c->stages[i].dir),
			c->stages[i].archive};
	rec->nstages = c->nstages;
	rec->status_from_key = c->dialect.status_from_key;
}

/* With no stages recorded (a database written before they were), each
 * stage's old status is read from the rows both sides agreed on: all
 * those in its directory with one status that is no stage's now name it
 * (a rename made before this storysync, which left them behind). */
struct infer {
	const struct config *was; /* the recorded backlogs, the stages now */
	char **name;              /* per stage: the old name seen, or NULL */
	bool *mixed;              /* per stage: more than one seen */
};

static bool infer_row(void *ctx, const struct row_location *l)
{
	struct infer *k = ctx;
	const struct config_backlog *b;
	const struct config_stage *st;
	char *epic = NULL;
	size_t j;

	if (!l->agreed || !l->path || !l->status ||
	    config_stage_by_status(k->was, l->status) ||
	    !detect_location(k->was, l->path, &b, &st, &epic))
		return true;
	free(epic);
	j = (size_t)(st - k->was->stages);
	if (!k->name[j])
		k->name[j] = xstrdup(l->status);
	else if (strcmp(k->name[j], l->status) != 0)
		k->mixed[j] = true;
	return true;
}

static bool infer_stages(struct reconcile *r, struct store *s, struct err *e)
{
	struct config was = *r->c;
	struct infer k = {&was, NULL, NULL};
	size_t n = r->c->nstages;
	bool ok;

	copy_stages(&r->rec, r->c);
	if (r->c->dialect.status_from_key)
		return true;
	was.backlogs = r->rec.backlogs;
	was.nbacklogs = r->rec.nbacklogs;
	k.name = xcalloc(n + 1, sizeof(char *));
	k.mixed = xcalloc(n + 1, sizeof(bool));
	ok = store_locations(s, infer_row, &k, e);
	for (size_t j = 0; ok && j < n; j++) {
		bool twice = false;

		for (size_t i = 0; k.name[j] && i < n; i++)
			twice |= i != j && str_eq(k.name[i], k.name[j]);
		if (!k.name[j] || k.mixed[j] || twice)
			continue;
		free(r->rec.stages[j].status);
		r->rec.stages[j].status = xstrdup(k.name[j]);
	}
	for (size_t j = 0; j < n; j++)
		free(k.name[j]);
	free(k.name);
	free(k.mixed);
	return ok;
}

/* The record as this run would write it is not the one read. */
static bool record_differs(const struct reconcile *r,
			   const struct config_record *read)
{
	const struct config *c = r->c;

	if (read->nstages != c->nstages || read->nbacklogs != c->nbacklogs ||
	    read->status_from_key != c->dialect.status_from_key)
		return true;
	for (size_t i = 0; i < c->nstages; i++)
		if (!str_eq(read->stages[i].status, c->stages[i].status) ||
		    !str_eq(read->stages[i].dir, c->stages[i].dir))
			return true;
	for (size_t i = 0; i < read->nbacklogs; i++) {
		const struct config_backlog *b =
			config_backlog(c, read->backlogs[i].name);

		if (!b || !str_eq(b->path, read->backlogs[i].path))
			return true;
	}
	for (size_t i = 0; r->former_status[i] || read->former_status[i]; i++)
		if (!str_eq(r->former_status[i], read->former_status[i]))
			return true;
	for (size_t i = 0; r->former_backlog[i] || read->former_backlog[i]; i++)
		if (!str_eq(r->former_backlog[i], read->former_backlog[i]))
			return true;
	return false;
}

/* What of the configuration decides a file's row (its fields' keys, '@'
 * as text, the id a name holds), as the database records it: a file
 * whose content the state knows is read again when it changed. */
static char *reading_of(const struct config *c)
{
	const struct story_dialect *dl = &c->dialect;
	struct buf b = BUF_INIT;

	buf_puts(&b, "{\"keys\":[");
	for (int f = 0; f < SF_COUNT; f++) {
		if (f)
			buf_putc(&b, ',');
		if (dl->key[f])
			json_put_string(&b, dl->key[f], strlen(dl->key[f]));
		else
			buf_puts(&b, "null");
	}
	buf_printf(&b, "],\"at_strings\":%s,\"id_template\":",
		   dl->at_strings ? "true" : "false");
	if (dl->id_template)
		json_put_string(&b, dl->id_template, strlen(dl->id_template));
	else
		buf_puts(&b, "null");
	buf_putc(&b, '}');
	return buf_detach(&b);
}

/* The recorded stages are not the configuration's. */
static bool stages_differ(const struct reconcile *r)
{
	if (r->rec.nstages != r->c->nstages)
		return true;
	for (size_t i = 0; i < r->c->nstages; i++)
		if (!str_eq(r->rec.stages[i].status, r->c->stages[i].status) ||
		    !str_eq(r->rec.stages[i].dir, r->c->stages[i].dir))
			return true;
	return false;
}

/* The recorded backlogs are not the configuration's. */
static bool backlogs_differ(const struct reconcile *r)
{
	if (r->rec.nbacklogs != r->c->nbacklogs)
		return true;
	for (size_t i = 0; i < r->rec.nbacklogs; i++) {
		const struct config_backlog *b =
			config_backlog(r->c, r->rec.backlogs[i].name);

		if (!b || !str_eq(b->path, r->rec.backlogs[i].path))
			return true;
	}
	return false;
}

/* The versions git committed since the last synced commit, when the
 * stages or the backlogs changed: only then are there renames to follow
 * through them (else reconcile_history_late, when a row asks). */
static bool committed_versions(struct reconcile *r, struct store *s,
			       struct err *e)
{
	char *since = NULL;

	if (!reconcile_since(s, &since, e))
		return false;
	reconcile_history(r, since);
	free(since);
	return true;
}

bool reconcile_since(struct store *s, char **since, struct err *e)
{
	*since = NULL;
	if (!store_meta_get(s, "config.since", since, e))
		return false;
	if (*since && **since)
		return true;
	free(*since);
	*since = NULL;
	return store_meta_get(s, "git.last_commit", since, e);
}

bool reconcile_detect(struct reconcile *r, struct store *s,
		      const struct config *c, struct err *e)
{
	char *was = NULL;
	bool whole;

	memset(r, 0, sizeof(*r));
	r->c = c;
	if (!store_config_get(s, &r->rec, e))
		return false;
	whole = r->rec.nbacklogs && r->rec.nstages;
	if (!r->rec.nbacklogs)
		copy_backlogs(&r->rec, c); /* nothing recorded: a new one */
	if (!r->rec.nstages && !infer_stages(r, s, e))
		return false;
	if ((stages_differ(r) || backlogs_differ(r)) &&
	    !committed_versions(r, s, e))
		return false;
	reconcile_plan(r);
	if (!store_meta_get(s, RECONCILE_KEY_READING, &was, e))
		return false;
	r->reading = reading_of(c);
	/* none recorded (a database from before it was): nothing to compare
	 * with, and --full reads every file again */
	r->reread = was && strcmp(was, r->reading) != 0;
	/* what was read, completed or not, is what this run records */
	r->changed = !whole || record_differs(r, &r->rec) || !was || r->reread;
	free(was);
	return true;
}

/* ---- plan ---- */

/* One item of a side of a pairing: a stage (its status, its directory)
 * or a backlog (its name, its path). */
struct item {
	const char *name, *dir;
};

/* The items of one side: the record, a committed version, the
 * configuration now (v heap, the strings borrowed). */
struct item_list {
	struct item *v;
	size_t n;
};

/* Pairs each item of from not paired yet (now[i] SIZE_MAX) with one of to
 * no other is paired with, by directory first (renaming a status leaves
 * its files where they are), then by name; the rest are removed. */
static void pair_rest(const struct item_list *from, const struct item_list *to,
		      size_t *now)
{
	bool *taken = xcalloc(to->n + 1, sizeof(bool));

	for (size_t i = 0; i < from->n; i++)
		if (now[i] != SIZE_MAX)
			taken[now[i]] = true;
	for (size_t i = 0; i < from->n; i++)
		for (size_t j = 0; j < to->n && now[i] == SIZE_MAX; j++)
			if (!taken[j] && str_eq(from->v[i].dir, to->v[j].dir))
				taken[now[i] = j] = true;
	for (size_t i = 0; i < from->n; i++)
		for (size_t j = 0; j < to->n && now[i] == SIZE_MAX; j++)
			if (!taken[j] && str_eq(from->v[i].name, to->v[j].name))
				taken[now[i] = j] = true;
	free(taken);
}

/* pair_rest of none paired yet. */
static void pair(const struct item_list *from, const struct item_list *to,
		 size_t *now)
{
	for (size_t i = 0; i < from->n; i++)
		now[i] = SIZE_MAX;
	pair_rest(from, to, now);
}

static struct item_list stage_items(const struct config_stage *v, size_t n)
{
	struct item_list l = {xcalloc(n + 1, sizeof(struct item)), n};

	for (size_t i = 0; i < n; i++)
		l.v[i] = (struct item){v[i].status, v[i].dir};
	return l;
}

static struct item_list backlog_items(const struct config_backlog *v, size_t n)
{
	struct item_list l = {xcalloc(n + 1, sizeof(struct item)), n};

	for (size_t i = 0; i < n; i++)
		l.v[i] = (struct item){v[i].name, v[i].path};
	return l;
}

/* Side k of the chain of stages (or of backlogs): 0 the record,
 * 1..nhistory the committed versions, nhistory + 1 the configuration
 * now. */
static struct item_list chain_side(const struct reconcile *r, bool backlogs,
				   size_t k)
{
	const struct reconcile_version *v =
		k && k <= r->nhistory ? &r->history[k - 1] : NULL;

	if (backlogs)
		return k == 0 ? backlog_items(r->rec.backlogs, r->rec.nbacklogs)
		       : v    ? backlog_items(v->backlogs, v->nbacklogs)
			      : backlog_items(r->c->backlogs, r->c->nbacklogs);
	return k == 0 ? stage_items(r->rec.stages, r->rec.nstages)
	       : v    ? stage_items(v->stages, v->nstages)
		      : stage_items(r->c->stages, r->c->nstages);
}

/* The chain: its sides, and its steps: steps[k][i] is the item of side
 * k + 1 that side k's item i is (SIZE_MAX: removed), paired as the
 * record is with the configuration, by directory, then by name. */
struct chain {
	struct item_list *side;
	size_t nsides;
	size_t **steps;
};

static void chain_init(struct chain *ch, const struct reconcile *r,
		       bool backlogs)
{
	ch->nsides = r->nhistory + 2;
	ch->side = xcalloc(ch->nsides, sizeof(*ch->side));
	for (size_t k = 0; k < ch->nsides; k++)
		ch->side[k] = chain_side(r, backlogs, k);
	ch->steps = xcalloc(ch->nsides, sizeof(*ch->steps));
	for (size_t k = 0; k + 1 < ch->nsides; k++) {
		const struct item_list *from = &ch->side[k],
				       *to = &ch->side[k + 1];

		ch->steps[k] = xcalloc(from->n + 1, sizeof(size_t));
		pair(from, to, ch->steps[k]);
	}
}

static void chain_finish(struct chain *ch)
{
	for (size_t k = 0; k < ch->nsides; k++) {
		free(ch->side[k].v);
		free(ch->steps[k]);
	}
	free(ch->side);
	free(ch->steps);
}

/* Where side k's item i is in the configuration now, or SIZE_MAX. */
static size_t chain_follow(const struct chain *ch, size_t k, size_t i)
{
	for (; i != SIZE_MAX && k + 1 < ch->nsides; k++)
		i = ch->steps[k][i];
	return i;
}

/* Each recorded item now (now[i], SIZE_MAX: removed): followed through
 * the chain when the record differs from the configuration, else paired
 * with it directly (the same lists: each item is itself, whatever a
 * version between did). The history only translates names: an item the
 * chain loses (a version between lacked it, then it was put back) is
 * still paired by directory, then by name, so it is never gone while
 * the configuration has it (review6). */
static void chain_now(const struct chain *ch, bool differ, size_t *now)
{
	const struct item_list *from = &ch->side[0],
			       *to = &ch->side[ch->nsides - 1];

	for (size_t i = 0; i < from->n; i++)
		now[i] = differ ? chain_follow(ch, 0, i) : SIZE_MAX;
	pair_rest(from, to, now);
}

static bool in_items(const struct item_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (str_eq(l->v[i].name, name))
			return true;
	return false;
}

/* A vector of pairs (old, now) grown by add_pair. */
struct pairs {
	char **v;
	size_t n;
};

static void add_pair(struct pairs *p, const char *from, const char *to)
{
	for (size_t i = 0; i < p->n; i += 2)
		if (strcmp(p->v[i], from) == 0) {
			free(p->v[i + 1]);
			p->v[i + 1] = xstrdup(to);
			return;
		}
	/* bounded: a name past the cap is not translated (refused by name) */
	if (p->n >= 2 * RECONCILE_FORMER_MAX)
		return;
	p->v = xreallocarray(p->v, p->n + 3, sizeof(char *));
	p->v[p->n++] = xstrdup(from);
	p->v[p->n++] = xstrdup(to);
	p->v[p->n] = NULL;
}

/* The renamed names after this change: the recorded ones, each now under
 * the name its target has now (dropped when the target is gone, or the
 * old name is in use again), then this change's renames. now maps a name
 * as reconcile_status does; current tells a name in use. */
static char **former_names(const struct reconcile *r, char *const *old,
			   const char *(*now)(const struct reconcile *,
					      const char *),
			   bool (*current)(const struct config *, const char *),
			   const struct pairs *renamed)
{
	struct pairs p = {xcalloc(1, sizeof(char *)), 0};

	for (size_t i = 0; old && old[i] && old[i + 1]; i += 2) {
		const char *to = now(r, old[i + 1]);

		if (!current(r->c, old[i]) && current(r->c, to))
			add_pair(&p, old[i], to);
	}
	for (size_t i = 0; i < renamed->n; i += 2)
		if (!current(r->c, renamed->v[i]))
			add_pair(&p, renamed->v[i], renamed->v[i + 1]);
	return p.v;
}

static bool status_current(const struct config *c, const char *name)
{
	return config_stage_by_status(c, name) != NULL;
}

static bool backlog_current(const struct config *c, const char *name)
{
	return config_backlog(c, name) != NULL;
}

static void pairs_finish(struct pairs *p)
{
	strv_free(p->v);
	memset(p, 0, sizeof(*p));
}

static bool in_pairs(const struct pairs *p, const char *name)
{
	for (size_t i = 0; i < p->n; i += 2)
		if (str_eq(p->v[i], name))
			return true;
	return false;
}

/* The names only a committed version had (a rename no run saw, which the
 * API may have written meanwhile), the newest version's first, each with
 * the name it is now, into committed and renamed; true when there are
 * any. */
static bool chain_committed(const struct chain *ch, struct pairs *committed,
			    struct pairs *renamed)
{
	const struct item_list *now = &ch->side[ch->nsides - 1];
	bool any = false;

	for (size_t k = ch->nsides - 2; k >= 1; k--) {
		const struct item_list *v = &ch->side[k];

		for (size_t i = 0; i < v->n; i++) {
			const char *name = v->v[i].name;
			size_t j = chain_follow(ch, k, i);

			if (j == SIZE_MAX || in_items(now, name) ||
			    in_items(&ch->side[0], name) ||
			    in_pairs(committed, name))
				continue;
			add_pair(committed, name, now->v[j].name);
			add_pair(renamed, name, now->v[j].name);
			any = true;
		}
	}
	return any;
}

void reconcile_plan(struct reconcile *r)
{
	const struct config *c = r->c;
	const struct config_record *rec = &r->rec;
	size_t *sn = xcalloc(rec->nstages + 1, sizeof(size_t));
	size_t *bn = xcalloc(rec->nbacklogs + 1, sizeof(size_t));
	struct pairs st = {0}, bl = {0}, cst = {0}, cbl = {0};
	struct chain sc, bc;

	r->was = *c;
	r->was.backlogs = rec->backlogs;
	r->was.nbacklogs = rec->nbacklogs;
	r->was.stages = rec->stages;
	r->was.nstages = rec->nstages;
	r->statuses = !rec->status_from_key && !c->dialect.status_from_key;
	r->relocates = false;
	/* each recorded stage and backlog followed through the versions
	 * committed since (none: straight to the configuration now) */
	chain_init(&sc, r, false);
	chain_init(&bc, r, true);
	chain_now(&sc, stages_differ(r), sn);
	chain_now(&bc, backlogs_differ(r), bn);
	r->stage_now = xcalloc(rec->nstages + 1, sizeof(*r->stage_now));
	for (size_t i = 0; i < rec->nstages; i++) {
		const struct config_stage *now =
			sn[i] == SIZE_MAX ? NULL : &c->stages[sn[i]];

		r->stage_now[i] = now;
		r->relocates |= !now || strcmp(now->dir, rec->stages[i].dir) ||
				(r->statuses &&
				 strcmp(now->status, rec->stages[i].status));
		if (now && r->statuses &&
		    strcmp(now->status, rec->stages[i].status))
			add_pair(&st, rec->stages[i].status, now->status);
	}
	if (r->statuses)
		r->relocates |= chain_committed(&sc, &cst, &st);
	r->backlog_now = xcalloc(rec->nbacklogs + 1, sizeof(*r->backlog_now));
	for (size_t i = 0; i < rec->nbacklogs; i++) {
		const struct config_backlog *now =
			bn[i] == SIZE_MAX ? NULL : &c->backlogs[bn[i]];

		r->backlog_now[i] = now;
		r->relocates |= !now ||
				strcmp(now->path, rec->backlogs[i].path) ||
				strcmp(now->name, rec->backlogs[i].name);
		if (now && strcmp(now->name, rec->backlogs[i].name))
			add_pair(&bl, rec->backlogs[i].name, now->name);
	}
	r->relocates |= chain_committed(&bc, &cbl, &bl);
	r->committed_status = cst.v ? cst.v : xcalloc(1, sizeof(char *));
	r->committed_backlog = cbl.v ? cbl.v : xcalloc(1, sizeof(char *));
	chain_finish(&sc);
	chain_finish(&bc);
	/* a status from the key is data: no status is renamed there */
	r->former_status = r->statuses ? former_names(r, rec->former_status,
						      reconcile_status,
						      status_current, &st)
				       : xcalloc(1, sizeof(char *));
	r->former_backlog =
		former_names(r, rec->former_backlog, reconcile_backlog,
			     backlog_current, &bl);
	pairs_finish(&st);
	pairs_finish(&bl);
	free(sn);
	free(bn);
}

/* Frees what reconcile_plan made. */
static void plan_finish(struct reconcile *r)
{
	free(r->stage_now);
	free(r->backlog_now);
	strv_free(r->former_status);
	strv_free(r->former_backlog);
	strv_free(r->committed_status);
	strv_free(r->committed_backlog);
	r->stage_now = NULL;
	r->backlog_now = NULL;
	r->former_status = r->former_backlog = NULL;
	r->committed_status = r->committed_backlog = NULL;
}

bool reconcile_unknown(const struct reconcile *r, const char *status,
		       const char *backlog)
{
	if (r->statuses && status &&
	    !status_current(r->c, reconcile_status(r, status)))
		return true;
	return backlog && !backlog_current(r->c, reconcile_backlog(r, backlog));
}

/* Adds name, tagged, to the vector *v of *n (once); false when it is
 * full. */
static bool add_name(char ***v, size_t *n, char tag, const char *name)
{
	char *s = xasprintf("%c%s", tag, name);

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0) {
			free(s);
			return true;
		}
	if (*n == RECONCILE_FORMER_MAX) {
		free(s);
		return false;
	}
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return true;
}

char **reconcile_unknown_names(const struct reconcile *r,
			       const struct db_result *db)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	bool ok = true;

	for (size_t i = 0; ok && i < db->n; i++) {
		const char *st = db->rows[i].story.v[SF_STATUS];
		const char *bl = db->rows[i].story.v[SF_BACKLOG];

		if (db->rows[i].side == SIDE_DELETED)
			continue;
		if (st && reconcile_unknown(r, st, NULL))
			ok = add_name(&v, &n, 's', st);
		if (ok && bl && reconcile_unknown(r, NULL, bl))
			ok = add_name(&v, &n, 'b', bl);
	}
	if (!ok) {
		strv_free(v);
		v = NULL;
	}
	return v;
}

bool reconcile_history_late(struct reconcile *r, const char *since)
{
	if (r->history_read)
		return false;
	reconcile_history(r, since);
	if (!r->nhistory)
		return false;
	plan_finish(r);
	reconcile_plan(r);
	r->changed |= record_differs(r, &r->rec);
	return r->relocates;
}

const char *reconcile_status(const struct reconcile *r, const char *status)
{
	for (size_t i = 0; r->statuses && status && i < r->rec.nstages; i++)
		if (strcmp(r->rec.stages[i].status, status) == 0)
			return r->stage_now[i] ? r->stage_now[i]->status
					       : status;
	/* a name only a version committed since had */
	for (size_t i = 0; r->statuses && status && r->committed_status &&
			   r->committed_status[i];
	     i += 2)
		if (strcmp(r->committed_status[i], status) == 0)
			return r->committed_status[i + 1];
	return status;
}

const char *reconcile_backlog(const struct reconcile *r, const char *backlog)
{
	for (size_t i = 0; backlog && i < r->rec.nbacklogs; i++)
		if (strcmp(r->rec.backlogs[i].name, backlog) == 0)
			return r->backlog_now[i] ? r->backlog_now[i]->name
						 : backlog;
	/* a name only a version committed since had */
	for (size_t i = 0;
	     backlog && r->committed_backlog && r->committed_backlog[i]; i += 2)
		if (strcmp(r->committed_backlog[i], backlog) == 0)
			return r->committed_backlog[i + 1];
	return backlog;
}

/* The path of the file at path (in a stage, under epic) in stage st of
 * backlog b, as apply's target_path joins them (heap); NULL when that is
 * path itself. */
static char *relocated(const struct config_backlog *b,
		       const struct config_stage *st, const char *epic,
		       const char *path)
{
	const char *name = strrchr(path, '/');
	char *dir = config_stage_path(b, st);
	struct buf p = BUF_INIT;

	if (strcmp(dir, ".") != 0)
		buf_printf(&p, "%s/", dir);
	free(dir);
	if (epic)
		buf_printf(&p, "%s/", epic);
	buf_puts(&p, name ? name + 1 : path);
	if (strcmp(p.data, path) == 0) {
		buf_finish(&p);
		return NULL;
	}
	return buf_detach(&p);
}

enum reconcile_where reconcile_path(const struct reconcile *r, const char *path,
				    char **to,
				    const struct config_backlog **backlog,
				    const struct config_stage **stage)
{
	const struct config_backlog *b, *nb;
	const struct config_stage *st, *ns;
	char *epic = NULL;

	*to = NULL;
	if (!path || !detect_location(&r->was, path, &b, &st, &epic))
		return RECONCILE_SAME;
	*backlog = b;
	*stage = st;
	nb = r->backlog_now[b - r->was.backlogs];
	ns = r->stage_now[st - r->was.stages];
	if (!nb || !ns) {
		free(epic);
		return RECONCILE_GONE;
	}
	*to = relocated(nb, ns, epic, path);
	free(epic);
	if (!*to)
		return RECONCILE_SAME;
	return RECONCILE_MOVED;
}

char *reconcile_path_recorded(const struct reconcile *r, const char *path)
{
	const struct config_backlog *b;
	const struct config_stage *st;
	size_t i = 0, j = 0;
	char *epic = NULL, *was;

	if (!r->relocates || !path ||
	    !detect_location(r->c, path, &b, &st, &epic))
		return NULL;
	while (i < r->rec.nbacklogs && r->backlog_now[i] != b)
		i++;
	while (j < r->rec.nstages && r->stage_now[j] != st)
		j++;
	was = i < r->rec.nbacklogs && j < r->rec.nstages
		      ? relocated(&r->rec.backlogs[i], &r->rec.stages[j], epic,
				  path)
		      : NULL;
	free(epic);
	return was;
}

char *reconcile_describe(const struct reconcile *r)
{
	const struct config_record *rec = &r->rec;
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < rec->nstages; i++) {
		const struct config_stage *was = &rec->stages[i],
					  *now = r->stage_now[i];

		if (!now)
			buf_printf(&b, "; stage '%s' (%s) removed", was->status,
				   was->dir);
		else if (r->statuses && strcmp(was->status, now->status))
			buf_printf(&b, "; status '%s' is now '%s'", was->status,
				   now->status);
		if (now && strcmp(was->dir, now->dir))
			buf_printf(&b, "; stage '%s' is in %s/ now, not %s/",
				   now->status, now->dir, was->dir);
	}
	for (size_t i = 0; r->committed_status && r->committed_status[i];
	     i += 2)
		buf_printf(&b,
			   "; status '%s' (of a version committed since) is "
			   "now '%s'",
			   r->committed_status[i], r->committed_status[i + 1]);
	if (r->reread)
		buf_puts(&b, "; the way files are read (keys:, at_strings:, "
			     "file_name:) changed: every file is read again");
	for (size_t i = 0; i < rec->nbacklogs; i++) {
		const struct config_backlog *was = &rec->backlogs[i],
					    *now = r->backlog_now[i];

		if (!now)
			buf_printf(&b, "; backlog '%s' (%s) removed", was->name,
				   was->path);
		else if (strcmp(was->name, now->name))
			buf_printf(&b, "; backlog '%s' is now '%s'", was->name,
				   now->name);
		if (now && strcmp(was->path, now->path))
			buf_printf(&b, "; backlog '%s' is at %s now, not %s",
				   now->name, now->path, was->path);
	}
	for (size_t i = 0; r->committed_backlog && r->committed_backlog[i];
	     i += 2)
		buf_printf(&b,
			   "; backlog '%s' (of a version committed since) is "
			   "now '%s'",
			   r->committed_backlog[i],
			   r->committed_backlog[i + 1]);
	if (!b.len)
		return NULL;
	{
		char *msg = xasprintf("the configuration changed since the "
				      "last run: %s",
				      b.data + 2);

		buf_finish(&b);
		return msg;
	}
}

static void add_entry(struct reconcile *r, const char *id, char *was,
		      const struct config_backlog *b,
		      const struct config_stage *st)
{
	r->entries =
		xreallocarray(r->entries, r->nentries + 1, sizeof(*r->entries));
	r->entries[r->nentries++] = (struct reconcile_entry){id, was, b, st};
}

void reconcile_state(struct reconcile *r, struct state_table *t)
{
	strmap_init(&r->moved, 16);
	strmap_init(&r->gone, 16);
	for (size_t i = 0; r->relocates && i < t->n; i++) {
		struct state_entry *se = &t->v[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *to;

		switch (reconcile_path(r, se->path, &to, &b, &st)) {
		case RECONCILE_MOVED:
			strmap_put(&r->moved, se->id, r->nentries);
			add_entry(r, se->id, xstrdup(se->path), b, st);
			se->path = arena_strdup(&t->strings, to);
			free(to);
			break;
		case RECONCILE_GONE:
			strmap_put(&r->gone, se->id, r->nentries);
			add_entry(r, se->id, xstrdup(se->path), b, st);
			break;
		default: break;
		}
	}
}

const char *reconcile_was(const struct reconcile *r, const char *id)
{
	size_t at;

	return r->moved.cap && strmap_get(&r->moved, id, &at)
		       ? r->entries[at].was
		       : NULL;
}

/* ---- the guard ---- */

static bool exists_beneath(int rootfd, const char *rel)
{
	int fd = fsx_open_beneath(rootfd, rel, O_PATH, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether en's file is in stage st of backlog b, under its epic. */
static bool exists_in(const struct reconcile *r,
		      const struct reconcile_entry *en,
		      const struct config_backlog *b,
		      const struct config_stage *st, int rootfd)
{
	const struct config_backlog *wb;
	const struct config_stage *wst;
	char *epic = NULL, *path;
	bool there;

	if (!detect_location(&r->was, en->was, &wb, &wst, &epic))
		return false;
	path = relocated(b, st, epic, en->was);
	there = path && exists_beneath(rootfd, path);
	free(path);
	free(epic);
	return there;
}

/* Whether en's file stayed in a directory the configuration moved: at its
 * recorded path (its backlog's directory named when that moved: move it
 * first; else its stage's), or, when both its backlog and its stage's
 * directory moved, where the person followed one move only (model seed
 * 1195: the backlog moved, its old stage directory in it, is no deletion
 * either); the move not followed is named. Sets the directory it stayed
 * in and where the configuration has that now (heap) when so. */
static bool stayed_in(const struct reconcile *r,
		      const struct reconcile_entry *en, int rootfd,
		      char **from_dir, char **to_dir)
{
	const struct config_backlog *ob = en->backlog,
				    *nb = r->backlog_now[ob - r->was.backlogs];
	const struct config_stage *os = en->stage,
				  *ns = r->stage_now[os - r->was.stages];
	bool backlog_moved = strcmp(nb->path, ob->path) != 0;
	bool stage_moved = strcmp(os->dir, ns->dir) != 0;
	const struct config_backlog *in = NULL; /* whose stage did not move */

	if (exists_beneath(rootfd, en->was))
		in = backlog_moved ? NULL : nb;
	else if (!backlog_moved || !stage_moved)
		return false;
	else if (exists_in(r, en, nb, os, rootfd))
		in = nb;
	else if (!exists_in(r, en, ob, ns, rootfd))
		return false;
	if (in) {
		*from_dir = config_stage_path(in, os);
		*to_dir = config_stage_path(in, ns);
	} else {
		*from_dir = xstrdup(ob->path);
		*to_dir = xstrdup(nb->path);
	}
	return true;
}

static bool guard_gone(const struct reconcile *r,
		       const struct reconcile_entry *first, size_t n,
		       struct err *e)
{
	if (!r->backlog_now[first->backlog - r->was.backlogs])
		return err_set(e,
			       "backlog '%s' (%s) is gone from the "
			       "configuration but the database has %zu of its "
			       "stories; nothing written (put the backlog back "
			       "or move the stories to another one; --force "
			       "deletes their rows)",
			       first->backlog->name, first->backlog->path, n);
	return err_set(e,
		       "stage '%s' (%s) is gone from the configuration but the "
		       "database has %zu of its stories; nothing written (put "
		       "the stage back or move the stories to another one; "
		       "--force deletes their rows)",
		       first->stage->status, first->stage->dir, n);
}

static bool guard_stayed(const char *from_dir, const char *to_dir, size_t n,
			 struct err *e)
{
	return err_set(e,
		       "the configuration moved %s to %s, but %zu stor%s "
		       "still in %s; nothing written (move them there, e.g. "
		       "git mv %s %s; --force deletes their rows)",
		       from_dir, to_dir, n, n == 1 ? "y is" : "ies are",
		       from_dir, from_dir, to_dir);
}

/* True when b's story went with a's stage or backlog: the backlog, when
 * that was removed, else the stage (in any backlog that is still there). */
static bool gone_alike(const struct reconcile *r,
		       const struct reconcile_entry *a,
		       const struct reconcile_entry *b)
{
	if (!r->backlog_now[a->backlog - r->was.backlogs])
		return b->backlog == a->backlog;
	return b->stage == a->stage &&
	       r->backlog_now[b->backlog - r->was.backlogs];
}

bool reconcile_guard(const struct reconcile *r, const struct scan_result *scan,
		     int rootfd, struct err *e)
{
	const struct reconcile_entry *gone = NULL;
	char *stayed = NULL, *stayed_to = NULL;
	size_t ngone = 0, nstayed = 0;
	bool ok = true;

	/* each counted with the first one's stage, backlog or directory */
	for (size_t i = 0; r->relocates && i < scan->nchanges; i++) {
		const struct file_change *fc = &scan->changes[i];
		const struct reconcile_entry *en;
		char *from, *to;
		size_t at;

		if (fc->side != SIDE_DELETED)
			continue;
		if (strmap_get(&r->gone, fc->id, &at)) {
			en = &r->entries[at];
			gone = gone ? gone : en;
			ngone += gone_alike(r, gone, en);
		} else if (strmap_get(&r->moved, fc->id, &at) &&
			   stayed_in(r, &r->entries[at], rootfd, &from, &to)) {
			if (!stayed) {
				stayed = from;
				stayed_to = to;
				from = to = NULL;
			}
			nstayed += !from || strcmp(from, stayed) == 0;
			free(from);
			free(to);
		}
	}
	if (gone)
		ok = guard_gone(r, gone, ngone, e);
	else if (stayed)
		ok = guard_stayed(stayed, stayed_to, nstayed, e);
	free(stayed);
	free(stayed_to);
	return ok;
}

/* ---- reading keys ---- */

/* Replaces *v, when it names no configured item but an old name of one,
 * with that one's name now. */
static void read_former(char **v, char *const *former,
			bool (*current)(const struct config *, const char *),
			const struct config *c)
{
	if (!*v || current(c, *v))
		return;
	for (size_t i = 0; former && former[i] && former[i + 1]; i += 2)
		if (strcmp(former[i], *v) == 0) {
			free(*v);
			*v = xstrdup(former[i + 1]);
			return;
		}
}

void reconcile_mirrors(const struct reconcile *r, char *mirror[])
{
	if (!r->c)
		return;
	if (!r->c->dialect.status_from_key)
		read_former(&mirror[SM_STATUS], r->former_status,
			    status_current, r->c);
	read_former(&mirror[SM_BACKLOG], r->former_backlog, backlog_current,
		    r->c);
}

void reconcile_finish(struct reconcile *r)
{
	config_record_finish(&r->rec);
	free(r->reading);
	plan_finish(r);
	reconcile_history_finish(r);
	strmap_finish(&r->moved);
	strmap_finish(&r->gone);
	strmap_finish(&r->followed);
	for (size_t i = 0; i < r->nentries; i++)
		free(r->entries[i].was);
	free(r->entries);
	memset(r, 0, sizeof(*r));
}
