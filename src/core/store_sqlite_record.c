/* store_sqlite_record.c: what runs record and status reports: meta, backlogs,
 * history, events, conflicts, runs, and retention. */
#include "store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsx.h"
#include "json.h"
#include "mem.h"

/* This file's cached statements (store_stmt prepares them). */
const char *const store_record_sql[ST_COUNT] = {
	[ST_META_GET] = "SELECT value FROM sync_meta WHERE tree = " TREE
			" AND key = ?1",
	[ST_META_SET] = "INSERT INTO sync_meta(tree, key, value) VALUES (" TREE
			", ?1, ?2) ON CONFLICT(tree, key) DO UPDATE SET"
			" value = excluded.value"
			" WHERE value IS NOT excluded.value",
	[ST_BACKLOG_NAMES] = "SELECT name FROM backlogs WHERE tree = " TREE,
	[ST_BACKLOG_DELETE] =
		"DELETE FROM backlogs WHERE tree = " TREE " AND name = ?1",
	[ST_BACKLOG_PUT] =
		"INSERT INTO backlogs(tree, name, path) VALUES (" TREE
		", ?1, ?2) ON CONFLICT(tree, name) DO UPDATE SET"
		" path = excluded.path"
		" WHERE path IS NOT excluded.path",
	[ST_HISTORY_ADD] =
		"INSERT INTO status_history(story_id, from_status,"
		" to_status, changed_at, origin, commit_id, author,"
		" tree) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " TREE ")",
	[ST_HISTORY_ADD_MANY] =
		"INSERT INTO status_history(story_id, from_status,"
		" to_status, changed_at, origin, commit_id, author,"
		" tree) VALUES " ROWS_32("(?, ?, ?, ?, ?, ?, ?, " TREE ")"),
	[ST_EVENT_ADD] =
		"INSERT INTO sync_events(story_id, change, origin,"
		" run_id, at, tree) VALUES (?1, ?2, ?3, ?4, ?5, " TREE ")",
	[ST_EVENT_ADD_MANY] =
		"INSERT INTO sync_events(story_id, change, origin,"
		" run_id, at, tree) VALUES " ROWS_32("(?, ?, ?, ?, ?, " TREE
						     ")"),
	[ST_CONFLICT_ADD] =
		"INSERT INTO sync_conflicts(story_id, at, kind,"
		" kept, fields, lost, run_id, policy, tree)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " TREE ")",
	[ST_CONFLICT_ADD_ONCE] =
		"INSERT INTO sync_conflicts(story_id, at,"
		" kind, kept, fields, lost, run_id, policy,"
		" tree) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, " TREE
		" WHERE NOT EXISTS (SELECT 1 FROM"
		" sync_conflicts WHERE tree = " TREE " AND"
		" story_id = ?1 AND kind = ?3 AND lost IS ?6)",
	[ST_RUN_ADD] = "INSERT INTO sync_runs(started, ended, mode, created,"
		       " updated, moved, deleted, conflicts, errors,"
		       " exit_code, messages, tree) VALUES (?1, ?2, ?3, ?4,"
		       " ?5, ?6, ?7, ?8, ?9, ?10, ?11, " TREE ")",
	[ST_RUN_UPDATE] = "UPDATE sync_runs SET started = ?1, ended = ?2,"
			  " mode = ?3, created = ?4, updated = ?5,"
			  " moved = ?6, deleted = ?7, conflicts = ?8,"
			  " errors = ?9, exit_code = ?10, messages = ?11"
			  " WHERE id = ?12",
};

/* ---- meta, backlogs ---- */

bool sqlite_meta_get(struct store *s, const char *key, char **value,
		     struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, ST_META_GET, key, &st, e);

	*value = NULL;
	if (rc < 0)
		return false;
	if (rc == SQLITE_ROW)
		*value = store_col_text(st, 0);
	store_reset(st);
	return true;
}

bool sqlite_meta_set(struct store *s, const char *key, const char *value,
		     struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_SET, e);

	if (!st)
		return false;
	store_bind_text(st, 1, key);
	store_bind_text(st, 2, value);
	return store_exec_stmt(s, st, e);
}

/* Reads the names of backlogs rows that the configuration no longer
 * has. */
struct stale {
	const struct config *c;
	char **v;
	size_t n;
};

static bool stale_row(void *ctx, sqlite3_stmt *st)
{
	struct stale *b = ctx;
	const char *name = (const char *)sqlite3_column_text(st, 0);

	if (name && config_backlog(b->c, name))
		return true;
	b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = xstrdup(name);
	return true;
}

/* The names in backlogs that the configuration no longer has. */
static bool backlogs_stale(struct store *s, const struct config *c, char ***out,
			   size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_BACKLOG_NAMES, e);
	struct stale b = {c, NULL, 0};
	bool ok = st && store_rows_each(s, st, stale_row, &b, e);

	*out = b.v;
	*n = b.n;
	return ok;
}

bool sqlite_backlogs_sync(struct store *s, const struct config *c,
			  struct err *e)
{
	sqlite3_stmt *st;
	char **stale;
	size_t n;
	bool ok = backlogs_stale(s, c, &stale, &n, e);

	for (size_t i = 0; i < n; i++) {
		ok = ok && store_by_id(s, ST_BACKLOG_DELETE, stale[i], e);
		free(stale[i]);
	}
	free(stale);
	for (size_t i = 0; ok && i < c->nbacklogs; i++) {
		st = store_stmt(s, ST_BACKLOG_PUT, e);
		if (!st)
			return false;
		store_bind_text(st, 1, c->backlogs[i].name);
		store_bind_text(st, 2, c->backlogs[i].path);
		ok = store_exec_stmt(s, st, e);
	}
	return ok;
}

/* ---- history, events, conflicts, runs ---- */

bool sqlite_history_add(struct store *s, const struct history_row *h,
			struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_HISTORY_ADD, e);
	char at[64];

	if (!st)
		return false;
	store_iso_time(at, h->changed_at * 1000000000, h->changed_at == 0);
	if (s->first_load) {
		const struct store_val v[] = {
			{.text = h->story_id},  {.text = h->from_status},
			{.text = h->to_status}, {.text = at},
			{.text = h->origin},    {.text = h->commit_id},
			{.text = h->author},
		};

		return store_queue_row(s, ST_HISTORY_ADD, ST_HISTORY_ADD_MANY,
				       v, 7, e);
	}
	store_bind_text(st, 1, h->story_id);
	store_bind_text(st, 2, h->from_status);
	store_bind_text(st, 3, h->to_status);
	store_bind_text(st, 4, at);
	store_bind_text(st, 5, h->origin);
	store_bind_text(st, 6, h->commit_id);
	store_bind_text(st, 7, h->author);
	return store_exec_stmt(s, st, e);
}

bool sqlite_event_add(struct store *s, const char *story_id, const char *change,
		      const char *origin, int64_t run_id, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_EVENT_ADD, e);
	char at[64];

	if (!st)
		return false;
	store_iso_time(at, 0, true);
	if (s->first_load) {
		const struct store_val v[] = {
			{.text = story_id},
			{.text = change},
			{.text = origin},
			{.num = run_id, .is_int = run_id > 0},
			{.text = at},
		};

		return store_queue_row(s, ST_EVENT_ADD, ST_EVENT_ADD_MANY, v, 5,
				       e);
	}
	store_bind_text(st, 1, story_id);
	store_bind_text(st, 2, change);
	store_bind_text(st, 3, origin);
	if (run_id > 0)
		sqlite3_bind_int64(st, 4, run_id);
	store_bind_text(st, 5, at);
	return store_exec_stmt(s, st, e);
}

bool sqlite_conflict_add(struct store *s, const struct conflict_row *c,
			 struct err *e)
{
	sqlite3_stmt *st = store_stmt(
		s, c->once ? ST_CONFLICT_ADD_ONCE : ST_CONFLICT_ADD, e);
	char *lost = c->lost ? story_json(c->lost) : NULL;
	char at[64];
	bool ok;

	if (!st) {
		free(lost);
		return false;
	}
	store_iso_time(at, 0, true);
	store_bind_text(st, 1, c->story_id);
	store_bind_text(st, 2, at);
	store_bind_text(st, 3, c->kind);
	store_bind_text(st, 4, c->kept);
	store_bind_text(st, 5, c->fields);
	store_bind_text(st, 6, lost);
	if (c->run_id > 0)
		sqlite3_bind_int64(st, 7, c->run_id);
	store_bind_text(st, 8, c->policy);
	ok = store_exec_stmt(s, st, e);
	free(lost);
	return ok;
}

static void bind_run(sqlite3_stmt *st, const struct run_record *r,
		     char started[64], char ended[64])
{
	store_iso_time(started, r->started_ns, true);
	store_bind_text(st, 1, started);
	if (r->ended_ns > 0) {
		store_iso_time(ended, r->ended_ns, true);
		store_bind_text(st, 2, ended);
	}
	store_bind_text(st, 3, r->mode);
	sqlite3_bind_int64(st, 4, r->created);
	sqlite3_bind_int64(st, 5, r->updated);
	sqlite3_bind_int64(st, 6, r->moved);
	sqlite3_bind_int64(st, 7, r->deleted);
	sqlite3_bind_int64(st, 8, r->conflicts);
	sqlite3_bind_int64(st, 9, r->errors);
	sqlite3_bind_int(st, 10, r->exit_code);
	store_bind_text(st, 11, r->messages);
}

bool sqlite_run_add(struct store *s, const struct run_record *r, int64_t *id,
		    struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_RUN_ADD, e);
	char started[64], ended[64];

	if (!st)
		return false;
	bind_run(st, r, started, ended);
	if (!store_exec_stmt(s, st, e))
		return false;
	*id = sqlite3_last_insert_rowid(s->db);
	return true;
}

bool sqlite_run_update(struct store *s, int64_t id, const struct run_record *r,
		       struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_RUN_UPDATE, e);
	char started[64], ended[64];

	if (!st)
		return false;
	bind_run(st, r, started, ended);
	sqlite3_bind_int64(st, 12, id);
	return store_exec_stmt(s, st, e);
}

/* ---- history backfill (history.c) ---- */

bool sqlite_history_has_git(struct store *s, const char *story_id,
			    const char *commit_id, const char *to_status,
			    bool *yes, struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"SELECT 1 FROM status_history WHERE tree = " TREE " AND"
		" story_id = ?1 AND"
		" origin = 'git' AND commit_id = ?2 AND to_status IS ?3",
		e);
	int rc;

	*yes = false;
	if (!st)
		return false;
	store_bind_text(st, 1, story_id);
	store_bind_text(st, 2, commit_id);
	store_bind_text(st, 3, to_status);
	rc = store_step(s, st, e);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc >= 0;
}

static void read_credit(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct history_credit *c = elem;

	(void)ctx;
	c->id = sqlite3_column_int64(st, 0);
	c->commit = store_col_text(st, 1);
}

bool sqlite_history_credits(struct store *s, const char *story_id,
			    const char *from, const char *to,
			    struct history_credit **v, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"SELECT id, commit_id FROM status_history WHERE tree = " TREE
		" AND story_id = ?1"
		" AND origin = 'git' AND from_status IS ?2 AND to_status IS ?3"
		" ORDER BY id",
		e);
	struct row_array a = {.size = sizeof(**v)};
	bool ok;

	*v = NULL;
	*n = 0;
	if (!st)
		return false;
	store_bind_text(st, 1, story_id);
	store_bind_text(st, 2, from);
	store_bind_text(st, 3, to);
	ok = store_rows_collect(s, st, &a, read_credit, NULL, e);
	sqlite3_finalize(st);
	*v = a.v;
	*n = a.n;
	return ok;
}

bool sqlite_history_recredit(struct store *s, int64_t id,
			     const struct history_row *h, struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"UPDATE status_history SET commit_id = ?2, author = ?3,"
		" changed_at = ?4 WHERE id = ?1",
		e);
	char at[64];
	bool ok;

	if (!st)
		return false;
	store_iso_time(at, h->changed_at * 1000000000, h->changed_at == 0);
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, h->commit_id);
	store_bind_text(st, 3, h->author);
	store_bind_text(st, 4, at);
	ok = store_exec_stmt(s, st, e);
	sqlite3_finalize(st);
	return ok;
}

static void read_history(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct history_entry *h = elem;

	(void)ctx;
	h->id = sqlite3_column_int64(st, 0);
	h->at = store_col_text(st, 1);
	h->from = store_col_text(st, 2);
	h->to = store_col_text(st, 3);
	h->origin = store_col_text(st, 4);
	h->commit = store_col_text(st, 5);
	h->author = store_col_text(st, 6);
}

/* Whether story_id has a row or an archived deletion. */
static bool story_known(struct store *s, const char *story_id, bool *known,
			struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"SELECT 1 FROM stories WHERE tree = " TREE " AND id = ?1"
		" UNION ALL SELECT 1 FROM deleted_stories WHERE tree = " TREE
		" AND story_id = ?1 LIMIT 1",
		e);
	int rc;

	if (!st)
		return false;
	store_bind_text(st, 1, story_id);
	rc = store_step(s, st, e);
	*known = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc >= 0;
}

bool sqlite_history_of(struct store *s, const char *story_id,
		       struct history_entry **v, size_t *n, bool *known,
		       struct err *e)
{
	/* changed_at is ISO 8601 text (git's to the second, a run's to the
	 * millisecond): it sorts as time does; a backfill adds old changes
	 * after newer ones, so the id only breaks ties */
	sqlite3_stmt *st = store_prepare(
		s,
		"SELECT id, changed_at, from_status, to_status, origin,"
		" commit_id, author FROM status_history WHERE tree = " TREE
		" AND story_id = ?1"
		" ORDER BY changed_at DESC, id DESC",
		e);
	struct row_array a = {.size = sizeof(**v)};
	bool ok;

	*v = NULL;
	*n = 0;
	*known = false;
	if (!st)
		return false;
	store_bind_text(st, 1, story_id);
	ok = store_rows_collect(s, st, &a, read_history, NULL, e);
	sqlite3_finalize(st);
	*v = a.v;
	*n = a.n;
	if (ok && !a.n)
		ok = story_known(s, story_id, known, e);
	else
		*known = a.n > 0;
	return ok;
}

/* ---- what status and conflicts show ---- */

/* One count from a query with no parameters. */
static bool count_report(struct store *s, const char *sql, long *n,
			 struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	int rc;

	if (!st)
		return false;
	rc = store_step(s, st, e);
	*n = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc >= 0;
}

static void run_row_from(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct run_row *r = elem;

	r->id = sqlite3_column_int64(st, 0);
	r->started = store_col_text(st, 1);
	r->ended = store_col_text(st, 2);
	r->mode = store_col_text(st, 3);
	r->created = (long)sqlite3_column_int64(st, 4);
	r->updated = (long)sqlite3_column_int64(st, 5);
	r->moved = (long)sqlite3_column_int64(st, 6);
	r->deleted = (long)sqlite3_column_int64(st, 7);
	r->conflicts = (long)sqlite3_column_int64(st, 8);
	r->errors = (long)sqlite3_column_int64(st, 9);
	r->exit_code = sqlite3_column_int(st, 10);
	r->messages = store_col_text(st, 11);
}

/* The rows of the one-shot query sql with ?1 bound to limit, appended to a
 * as rows_collect does. */
static bool report_rows(struct store *s, const char *sql, int64_t limit,
			struct row_array *a, row_read_fn read, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, limit);
	ok = store_rows_collect(s, st, a, read, NULL, e);
	sqlite3_finalize(st);
	return ok;
}

bool sqlite_runs_last(struct store *s, size_t max, struct run_row **out,
		      size_t *n, struct err *e)
{
	static const char sql[] =
		"SELECT id, started, ended, mode, created, updated, moved,"
		" deleted, conflicts, errors, exit_code, messages"
		" FROM sync_runs WHERE tree = " TREE " AND mode IS NOT"
		" 'dry-run' ORDER BY id DESC LIMIT ?1";
	struct row_array a = {.size = sizeof(struct run_row)};

	*out = NULL;
	*n = 0;
	if (!report_rows(s, sql, (int64_t)max, &a, run_row_from, e)) {
		store_runs_free(a.v, a.n);
		return false;
	}
	*out = a.v;
	*n = a.n;
	return true;
}

bool sqlite_runs_failing(struct store *s, long *n, struct err *e)
{
	return count_report(s,
			    "SELECT count(*) FROM sync_runs WHERE tree = " TREE
			    " AND mode IS NOT 'dry-run' AND id > coalesce("
			    "(SELECT max(id) FROM sync_runs WHERE tree = " TREE
			    " AND exit_code = 0 AND mode IS NOT 'dry-run'), 0)",
			    n, e);
}

#define CONFLICT_COLUMNS                                                       \
	"SELECT id, story_id, at, kind, kept, fields, lost, run_id, resolved," \
	" policy FROM sync_conflicts WHERE tree = " TREE

static void conflict_from_row(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct conflict_info *c = elem;

	c->id = sqlite3_column_int64(st, 0);
	c->story_id = store_col_text(st, 1);
	c->at = store_col_text(st, 2);
	c->kind = store_col_text(st, 3);
	c->kept = store_col_text(st, 4);
	c->fields = store_col_text(st, 5);
	c->lost = store_col_text(st, 6);
	c->run_id = sqlite3_column_int64(st, 7);
	c->resolved = store_col_text(st, 8);
	c->policy = store_col_text(st, 9);
}

bool sqlite_conflicts_list(struct store *s, size_t max,
			   struct conflict_info **out, size_t *n, struct err *e)
{
	struct row_array a = {.size = sizeof(struct conflict_info)};

	*out = NULL;
	*n = 0;
	if (!report_rows(s, CONFLICT_COLUMNS " ORDER BY id DESC LIMIT ?1",
			 max ? (int64_t)max : -1, &a, conflict_from_row, e)) {
		store_conflicts_free(a.v, a.n);
		return false;
	}
	*out = a.v;
	*n = a.n;
	return true;
}

bool sqlite_conflicts_count(struct store *s, long *n, struct err *e)
{
	return count_report(s,
			    "SELECT count(*) FROM sync_conflicts"
			    " WHERE tree = " TREE " AND resolved IS NULL",
			    n, e);
}

bool sqlite_conflicts_resolve(struct store *s, int64_t id, long *n,
			      struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"UPDATE sync_conflicts SET resolved = ?1 WHERE tree = " TREE
		" AND resolved IS NULL AND (?2 = 0 OR id = ?2)",
		e);
	char at[64];
	bool ok;

	if (!st)
		return false;
	store_iso_time(at, 0, true);
	store_bind_text(st, 1, at);
	sqlite3_bind_int64(st, 2, id);
	ok = store_step(s, st, e) == SQLITE_DONE;
	*n = ok ? sqlite3_changes(s->db) : 0;
	sqlite3_finalize(st);
	return ok;
}

bool sqlite_conflict_get(struct store *s, int64_t id, struct conflict_info *out,
			 bool *found, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, CONFLICT_COLUMNS " AND id = ?1", e);
	int rc;

	*found = false;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	rc = store_step(s, st, e);
	if (rc == SQLITE_ROW) {
		conflict_from_row(out, st, NULL);
		*found = true;
	}
	sqlite3_finalize(st);
	return rc >= 0;
}

bool sqlite_events_unconsumed(struct store *s, long *n, struct err *e)
{
	return count_report(
		s,
		"SELECT count(*) FROM sync_events WHERE tree = " TREE
		" AND seq >"
		" coalesce((SELECT min(seq) FROM sync_consumers), 0)",
		n, e);
}

/* ---- retention ---- */

/* A resolved time as the API must write it: ISO 8601 text that SQLite
 * reads as a time (julianday would also take a bare number for a day). */
#define RESOLVED_IS_TIME                                                       \
	"typeof(resolved) = 'text' AND resolved GLOB"                          \
	" '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' AND"                   \
	" julianday(resolved) IS NOT NULL"

/* Each with the cut-off time ?1 (or the run count ?2); a run is never its
 * own victim, the newest run being the one under way. */
static const char *const prune_sql[] = {
	/* runs older than the cut, and past the newest ?2 */
	"DELETE FROM sync_runs WHERE tree = " TREE " AND started < ?1",
	"DELETE FROM sync_runs WHERE tree = " TREE " AND ?2 > 0 AND id <="
	" (SELECT id FROM sync_runs WHERE tree = " TREE " ORDER BY id DESC"
	" LIMIT 1 OFFSET ?2)",
	/* events every consumer has read (all, when none is registered);
	 * seq follows time, and so the cut is one index range, not a scan;
	 * a cursor that is no integer stops it (see refuse_odd) */
	"DELETE FROM sync_events WHERE tree = " TREE " AND seq < (SELECT"
	" min(seq) FROM sync_events WHERE at >= ?1) AND seq <= "
	"coalesce((SELECT min(seq) FROM"
	" sync_consumers), seq) AND NOT EXISTS (SELECT 1 FROM sync_consumers"
	" WHERE typeof(seq) != 'integer')",
	/* resolved is the API's: a time, compared as one */
	"DELETE FROM sync_conflicts WHERE tree = " TREE " AND " RESOLVED_IS_TIME
	" AND julianday(resolved) < julianday(?1)",
	/* deleted-story archives: ?1 is the deleted_days cut here; one past
	 * the mark whose story the state still knows is a deletion no run has
	 * applied yet (a --backlog run left it): pending, kept */
	"DELETE FROM deleted_stories WHERE tree = " TREE " AND deleted_at < ?1"
	" AND NOT (rev > coalesce((SELECT CAST(value AS INTEGER) FROM"
	" sync_meta WHERE tree = " TREE " AND key = 'mark'), 0) AND EXISTS"
	" (SELECT 1 FROM sync_state t WHERE t.tree = deleted_stories.tree AND"
	" t.story_id = deleted_stories.story_id))",
	/* the files storysync deleted for the API, by the same cut: git
	 * putting one back so long after is a person's doing */
	"DELETE FROM sync_deleted WHERE tree = " TREE " AND deleted_at < ?1",
};

/* The first of the API's odd values: a consumer's cursor that is not an
 * integer (it would compare above every seq: every event read), and the
 * resolved times that are not ISO 8601 text (an integer compares below
 * every cut: pruned at once); each with how many such rows. */
static const char *const odd_sql[] = {
	"SELECT count(*), (SELECT name FROM sync_consumers WHERE typeof(seq) !="
	" 'integer' ORDER BY name), (SELECT quote(seq) FROM sync_consumers"
	" WHERE typeof(seq) != 'integer' ORDER BY name) FROM sync_consumers"
	" WHERE typeof(seq) != 'integer'",
	"SELECT count(*), min(id), (SELECT quote(resolved) FROM sync_conflicts"
	" WHERE tree = " TREE
	" AND resolved IS NOT NULL AND NOT (" RESOLVED_IS_TIME
	") ORDER BY id) FROM sync_conflicts WHERE tree = " TREE
	" AND resolved IS NOT NULL AND NOT (" RESOLVED_IS_TIME ")",
};

/* Names the API's odd values of one kind (odd_sql[which]) in b. */
static bool refuse_odd(struct store *s, int which, struct buf *b, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, odd_sql[which], e);
	long n;
	bool ok;

	if (!st)
		return false;
	ok = store_step(s, st, e) == SQLITE_ROW;
	n = ok ? (long)sqlite3_column_int64(st, 0) : 0;
	if (n && which == 0)
		buf_printf(b,
			   "sync_consumers '%s': seq %s is not an integer; "
			   "no event is pruned until it is\n",
			   (const char *)sqlite3_column_text(st, 1),
			   (const char *)sqlite3_column_text(st, 2));
	if (n && which == 1) {
		buf_printf(b, "sync_conflicts %lld",
			   (long long)sqlite3_column_int64(st, 1));
		if (n > 1)
			buf_printf(b, " and %ld more", n - 1);
		buf_printf(b,
			   ": resolved %s is not an ISO 8601 time; not "
			   "pruned\n",
			   (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return ok;
}

static bool prune_one(struct store *s, const char *sql, const char *cut,
		      int runs, long *n, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok;

	if (!st)
		return false;
	store_bind_text(st, 1, cut);
	sqlite3_bind_int(st, 2, runs);
	ok = store_step(s, st, e) == SQLITE_DONE;
	if (ok)
		*n += sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return ok;
}

bool sqlite_prune(struct store *s, const struct config_retention *r,
		  struct prune_counts *out, struct err *e)
{
	int64_t now = fsx_now_ns(), day = 86400LL * 1000000000LL;
	char cut[64] = "", deleted_cut[64] = "";
	long files = 0; /* sync_deleted's: storysync's own, not reported */
	long *counts[] = {&out->runs,      &out->runs,    &out->events,
			  &out->conflicts, &out->deleted, &files};
	struct buf refused = BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (r->days)
		store_iso_time(cut, now - r->days * day, true);
	if (r->deleted_days)
		store_iso_time(deleted_cut, now - r->deleted_days * day, true);
	if (r->days && (!refuse_odd(s, 0, &refused, e) ||
			!refuse_odd(s, 1, &refused, e))) {
		buf_finish(&refused);
		return false;
	}
	if (refused.len) {
		refused.data[--refused.len] = '\0'; /* the last line break */
		out->refused = buf_detach(&refused);
	}
	for (size_t i = 0; i < sizeof(prune_sql) / sizeof(*prune_sql); i++) {
		const char *c = i >= 4 ? deleted_cut : cut;
		int runs = i == 1 ? r->runs : 0;

		if (i == 1 ? !runs : !*c)
			continue; /* 0: kept for good */
		if (!prune_one(s, prune_sql[i], c, runs, counts[i], e)) {
			xfree(&out->refused);
			return false;
		}
	}
	return true;
}
