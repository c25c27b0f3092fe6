/*
 * A configuration change, applied: in the run's transaction, the rows,
 * state and saved bases follow the plan of reconcile.c, with history and
 * events of origin "config", and the mirror keys that held an old name.
 */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* One story's location before ([0]) and after ([1]). */
struct place {
	char *backlog, *status, *path;
};

struct relocation {
	char *id;
	struct place row[2], base[2];
	bool has_state, agreed, has_base;
	bool follow[SM_COUNT];  /* the file's key held the value that changed */
	char *mirror[SM_COUNT]; /* the file's keys */
};

struct collect {
	struct reconcile *r;
	const struct strmap *busy; /* ids the scan found changed or in error */
	struct relocation *v;
	size_t n;
	char **all; /* every row's id, to lock them all before a write */
	size_t nall;
};

static void place_now(const struct reconcile *r, const char *backlog,
		      const char *status, const char *path, struct place *was,
		      struct place *now)
{
	const struct config_backlog *b;
	const struct config_stage *st;
	char *to = NULL;

	was->backlog = xstrdup(backlog);
	was->status = xstrdup(status);
	was->path = xstrdup(path);
	now->backlog = xstrdup(reconcile_backlog(r, backlog));
	now->status = xstrdup(reconcile_status(r, status));
	reconcile_path(r, path, &to, &b, &st);
	now->path = to ? to : xstrdup(path);
}

static bool place_moves(const struct place *p)
{
	return !str_eq(p[0].backlog, p[1].backlog) ||
	       !str_eq(p[0].status, p[1].status) ||
	       !str_eq(p[0].path, p[1].path);
}

static void place_finish(struct place *p)
{
	free(p->backlog);
	free(p->status);
	free(p->path);
}

static void relocation_finish(struct relocation *rl)
{
	free(rl->id);
	for (int i = 0; i < 2; i++) {
		place_finish(&rl->row[i]);
		place_finish(&rl->base[i]);
	}
	for (int m = 0; m < SM_COUNT; m++)
		free(rl->mirror[m]);
}

static bool collect_row(void *ctx, const struct row_location *l)
{
	struct collect *k = ctx;
	struct relocation rl = {
		.has_state = l->has_state,
		.agreed = l->has_state && l->agreed,
		.has_base = l->has_base,
	};

	k->all = xreallocarray(k->all, k->nall + 1, sizeof(*k->all));
	k->all[k->nall++] = xstrdup(l->id);
	place_now(k->r, l->backlog, l->status, l->path, &rl.row[0], &rl.row[1]);
	if (l->has_base)
		place_now(k->r, l->base_backlog, l->base_status, l->base_path,
			  &rl.base[0], &rl.base[1]);
	if (!place_moves(rl.row) && !(l->has_base && place_moves(rl.base))) {
		relocation_finish(&rl);
		return true;
	}
	rl.id = xstrdup(l->id);
	/* a key that mirrored the location follows it: only in a file the
	 * scan found as it was, whose row is the agreed version */
	if (rl.agreed && l->mirror_known && !strmap_get(k->busy, l->id, NULL)) {
		rl.follow[SM_STATUS] =
			k->r->statuses &&
			str_eq(l->mirror[SM_STATUS], rl.row[0].status) &&
			!str_eq(rl.row[0].status, rl.row[1].status);
		rl.follow[SM_BACKLOG] =
			str_eq(l->mirror[SM_BACKLOG], rl.row[0].backlog) &&
			!str_eq(rl.row[0].backlog, rl.row[1].backlog);
	}
	for (int m = 0; m < SM_COUNT; m++)
		rl.mirror[m] = xstrdup(l->mirror[m]);
	k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
	k->v[k->n++] = rl;
	return true;
}

/* The ids the scan found changed, new, deleted or in error: their files
 * are the run's to plan, not this step's to rewrite. */
static void busy_ids(const struct scan_result *scan, struct strmap *busy)
{
	strmap_init(busy, scan->nchanges + scan->nerrors);
	for (size_t i = 0; i < scan->nchanges; i++)
		if (scan->changes[i].side != SIDE_SAME)
			strmap_put(busy, scan->changes[i].id, 0);
	for (size_t i = 0; i < scan->nerrors; i++)
		if (scan->errors[i].id)
			strmap_put(busy, scan->errors[i].id, 0);
}

static void report_moved(const struct apply_ctx *ctx,
			 const struct relocation *rl, const struct place *now)
{
	struct sync_change ch = {
		.verb = "moved",
		.where = "db",
		.id = rl->id,
		.backlog = now->backlog,
		.path = now->path,
	};

	ctx->counts->moved++;
	if (ctx->report && ctx->report->change)
		ctx->report->change(ctx->report->ctx, &ch);
}

/* The history and event of a story the state knows, from the version both
 * sides agreed on: the row, or the base the API's change saved. */
static bool record_moved(struct apply_ctx *ctx, const struct reconcile *r,
			 const struct relocation *rl, bool dry, struct err *e)
{
	const struct place *p = rl->agreed     ? rl->row
				: rl->has_base ? rl->base
					       : NULL;

	if (!rl->has_state || !p || !place_moves(p))
		return true;
	report_moved(ctx, rl, &p[1]);
	if (dry)
		return true;
	if (r->statuses && !str_eq(p[0].status, p[1].status)) {
		struct history_row h = {
			.story_id = rl->id,
			.from_status = p[0].status,
			.to_status = p[1].status,
			.origin = "config",
		};

		if (!store_history_add(ctx->store, &h, e))
			return false;
	}
	return store_event_add(ctx->store, rl->id, "moved", "config",
			       ctx->run_id, e);
}

static struct state_entry *entry_of(struct state_table *t,
				    const struct strmap *by_id, const char *id)
{
	size_t i;

	return strmap_get(by_id, id, &i) ? &t->v[i] : NULL;
}

static bool relocate(struct apply_ctx *ctx, const struct relocation *rl,
		     struct state_entry *se, struct err *e)
{
	int64_t rev;

	if (place_moves(rl->row)) {
		if (!store_story_relocate(ctx->store, rl->id,
					  rl->row[1].backlog, rl->row[1].status,
					  rl->row[1].path, rl->agreed, &rev, e))
			return false;
		if (rl->agreed && se)
			se->rev = rev;
		ctx->counts->rows_written++;
	}
	return !rl->has_base || !place_moves(rl->base) ||
	       store_base_relocate(ctx->store, rl->id, rl->base[1].backlog,
				   rl->base[1].status, rl->base[1].path, e);
}

/* Rewrites the mirror keys of a file the scan found as agreed that held
 * the old name: one line each, through apply, so that the write is
 * journaled, atomic, and checked against an edit since the scan. */
static enum apply_result follow(struct apply_ctx *ctx,
				const struct relocation *rl,
				const struct state_entry *se, struct err *e)
{
	static const enum story_field loc[SM_COUNT] = {
		[SM_BACKLOG] = SF_BACKLOG,
		[SM_STATUS] = SF_STATUS,
		[SM_EPIC] = SF_EPIC,
	};
	struct action a = {
		.file = PLAN_FILE_WRITE,
		.rewrite_mirrors = true,
		.state = PLAN_STATE_PUT,
	};
	enum apply_result res = APPLY_FATAL;
	bool found = false;

	a.id = xstrdup(rl->id);
	if (!store_story_get(ctx->store, rl->id, &a.want, NULL, NULL, &found,
			     e))
		goto out;
	for (int k = 0; k < SM_COUNT; k++) {
		a.keep_mirror[k] = !rl->follow[k];
		a.mirror_after[k] = xstrdup(rl->follow[k] ? a.want.v[loc[k]]
							  : rl->mirror[k]);
	}
	/* the keys follow a rename, which is no one's edit: what the file
	 * held of storysync's writes, it still holds */
	for (int f = 0; f < SF_COUNT; f++)
		a.ours_after[f] = se && (se->ours >> f & 1);
	if (se) {
		memcpy(a.before, se->before, BLOBID_HEX);
		if (se->before_path)
			a.before_path = xstrdup(se->before_path);
	}
	res = found ? apply_action(ctx, &a, NULL, NULL, se, e) : APPLY_DONE;
out:
	action_finish(&a);
	return res;
}

static bool follow_all(struct reconcile *r, struct apply_ctx *ctx,
		       struct state_table *t, const struct strmap *by_id,
		       struct collect *k, reconcile_problem_fn problem,
		       void *pctx, struct err *e)
{
	if (!r->followed.cap) /* applied again: reconcile_history_late */
		strmap_init(&r->followed, 16);
	for (size_t i = 0; i < k->n; i++) {
		const struct relocation *rl = &k->v[i];
		struct state_entry *se = entry_of(t, by_id, rl->id);
		struct err fe;

		if (!se || (!rl->follow[SM_STATUS] && !rl->follow[SM_BACKLOG]))
			continue;
		switch (follow(ctx, rl, se, &fe)) {
		case APPLY_DONE: strmap_put(&r->followed, se->id, 0); break;
		case APPLY_SKIPPED:
			/* the row followed; the file keeps its key, which
			 * reads as the new name */
			problem(pctx, fe.msg);
			break;
		case APPLY_FATAL: *e = fe; return false;
		}
	}
	return true;
}

/* The state entries whose path moved, in the store. */
static bool relocate_state(const struct reconcile *r, struct apply_ctx *ctx,
			   const struct state_table *t,
			   const struct strmap *by_id, struct err *e)
{
	for (size_t i = 0; i < r->nentries; i++) {
		size_t at;

		if (!strmap_get(&r->moved, r->entries[i].id, NULL) ||
		    !strmap_get(by_id, r->entries[i].id, &at))
			continue;
		if (!store_state_relocate(ctx->store, t->v[at].id,
					  t->v[at].path, e))
			return false;
	}
	return true;
}

bool reconcile_apply(struct reconcile *r, struct apply_ctx *ctx,
		     struct state_table *t, const struct scan_result *scan,
		     bool dry, reconcile_problem_fn problem, void *pctx,
		     struct err *e)
{
	struct collect k = {.r = r};
	struct strmap busy, by_id;
	bool ok;

	if (!r->relocates)
		return true;
	busy_ids(scan, &busy);
	k.busy = &busy;
	strmap_init(&by_id, t->n);
	for (size_t i = 0; i < t->n; i++)
		strmap_put(&by_id, t->v[i].id, i);
	/* read first, then written: no write under an open query. Before
	 * the first write, the row locks of every story of the tree, in the
	 * order an API's writers take theirs (store_lock_stories): the rows
	 * moved here are written before the run's plan is known, and the
	 * plan's rows, locked later, could sort before them, so a run that
	 * held these and waited for those could deadlock with a writer
	 * holding one of those and waiting for one of these. Holding all
	 * of them, it waits for none later (a row new since its snapshot is
	 * in neither). Only when a configuration change moves rows. */
	ok = store_locations(ctx->store, collect_row, &k, e) &&
	     (dry || !k.n || store_lock_stories(ctx->store, k.all, k.nall, e));
	for (size_t i = 0; ok && i < k.n; i++) {
		ok = record_moved(ctx, r, &k.v[i], dry, e) &&
		     (dry || relocate(ctx, &k.v[i],
				      entry_of(t, &by_id, k.v[i].id), e));
		r->napplied++;
	}
	if (ok && !dry)
		ok = relocate_state(r, ctx, t, &by_id, e) &&
		     follow_all(r, ctx, t, &by_id, &k, problem, pctx, e);
	for (size_t i = 0; i < k.n; i++)
		relocation_finish(&k.v[i]);
	free(k.v);
	for (size_t i = 0; i < k.nall; i++)
		free(k.all[i]);
	free(k.all);
	strmap_finish(&by_id);
	strmap_finish(&busy);
	return ok;
}

bool reconcile_record(const struct reconcile *r, struct store *s, struct err *e)
{
	return store_config_put(s, r->c, r->former_status, r->former_backlog,
				e) &&
	       (!r->reading ||
		store_meta_set(s, RECONCILE_KEY_READING, r->reading, e));
}

bool reconcile_followed(const struct reconcile *r, const char *id)
{
	return r->followed.cap && strmap_get(&r->followed, id, NULL);
}
