/* store_sqlite_story.c: the stories rows, what changed since the mark, and the
 * counts status shows. */
#include "store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsx.h"
#include "json.h"
#include "mem.h"

/* Stories a first load puts between two writebacks begun (~6 MB). */
#define WRITEBACK_PUTS 2048

/* A story row's columns, ?1-?16 in this order and the tree last, and what
 * an upsert of one sets. */
#define UPSERT_COLUMNS                                                         \
	"id, backlog, status, epic, title, priority, points, assignees,"       \
	" labels, created, extra, body, path, rev, parent, updated, tree"
#define UPSERT_SET                                                             \
	" ON CONFLICT(tree, id) DO UPDATE SET"                                 \
	" backlog = excluded.backlog, status = excluded.status,"               \
	" epic = excluded.epic, title = excluded.title,"                       \
	" priority = excluded.priority, points = excluded.points,"             \
	" assignees = excluded.assignees, labels = excluded.labels,"           \
	" created = excluded.created, extra = excluded.extra,"                 \
	" body = excluded.body, path = excluded.path,"                         \
	" parent = excluded.parent,"                                           \
	" rev = excluded.rev, updated = excluded.updated"

/* This file's cached statements (store_stmt prepares them). */
const char *const store_story_sql[ST_COUNT] = {
	[ST_IS_EMPTY] =
		"SELECT NOT EXISTS (SELECT 1 FROM stories WHERE tree = " TREE
		")",
	[ST_STORY_GET] = "SELECT " STORY_COLUMNS ", rev, path FROM stories"
			 " WHERE tree = " TREE " AND id = ?1",
	[ST_STORY_UPSERT] =
		"INSERT INTO stories(" UPSERT_COLUMNS ") VALUES (?1, ?2, ?3,"
		" ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, " TREE ")" UPSERT_SET,
	/* a first load's rows, STORE_QUEUE_ROWS a statement (row_upsert) */
	[ST_STORY_UPSERT_MANY] =
		"INSERT INTO stories(" UPSERT_COLUMNS ") VALUES " ROWS_32(
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " TREE
			")") UPSERT_SET,
	[ST_STORY_TOUCH] = "UPDATE stories SET rev = ?2, updated = " NOW_ISO
			   " WHERE tree = " TREE " AND id = ?1",
	[ST_STORY_REV] =
		"SELECT rev FROM stories WHERE tree = " TREE " AND id = ?1",
	[ST_DEPS_DELETE] = "DELETE FROM story_dependencies WHERE tree = " TREE
			   " AND story_id = ?1",
	[ST_DEPS_INSERT] = "INSERT OR IGNORE INTO story_dependencies(tree,"
			   " story_id, depends_on) SELECT " TREE ", ?1, value"
			   " FROM json_each(?2) WHERE type = 'text'",
	[ST_DEP_INSERT] = "INSERT OR IGNORE INTO story_dependencies(tree,"
			  " story_id, depends_on) VALUES (" TREE ", ?1, ?2)",
	[ST_DEP_INSERT_MANY] =
		"INSERT OR IGNORE INTO story_dependencies(tree,"
		" story_id, depends_on) VALUES " ROWS_32("(" TREE ", ?, ?)"),
	[ST_STORY_SET_PATH] = "UPDATE stories SET path = ?2, rev = ?3,"
			      " updated = " NOW_ISO " WHERE tree = " TREE
			      " AND id = ?1 AND path IS NOT ?2",
	[ST_STORY_DELETE] =
		"DELETE FROM stories WHERE tree = " TREE " AND id = ?1",
	[ST_PATH_RELEASE] = "UPDATE stories SET path = NULL WHERE tree = " TREE
			    " AND path = ?2 AND id IS NOT ?1",
	[ST_CHANGES] = "SELECT id, rev, 0, 0 FROM stories WHERE tree = " TREE
		       " AND rev > ?1"
		       " UNION ALL SELECT DISTINCT story_id, 0, 1, 0"
		       " FROM deleted_stories d WHERE tree = " TREE
		       " AND rev > ?1 AND NOT EXISTS"
		       " (SELECT 1 FROM stories s WHERE s.tree = d.tree AND"
		       " s.id = d.story_id)",
	/* every row, and whether it differs from the version agreed at its
	 * rev (a write with the triggers off, a restored backup) */
	[ST_CHANGES_ALL] =
		"SELECT stories.id, stories.rev, 0, coalesce("
		"t.digest IS NOT NULL AND t.rev = stories.rev AND"
		" t.digest <> " DIGEST_ROW ", 0) FROM stories"
		" LEFT JOIN sync_state t ON t.tree = stories.tree"
		" AND t.story_id = stories.id WHERE stories.tree = " TREE
		" UNION ALL SELECT story_id, 0, 1, 0 FROM sync_state"
		" t WHERE t.tree = " TREE " AND NOT EXISTS (SELECT 1"
		" FROM stories s WHERE s.tree = t.tree AND"
		" s.id = t.story_id)",
	[ST_MARK_SET] = "INSERT INTO sync_meta(tree, key, value) VALUES (" TREE
			", 'mark', " CLOCK ") ON CONFLICT(tree, key) DO UPDATE"
			" SET value = excluded.value"
			" WHERE value IS NOT excluded.value",
	/* a row of this tree written, or deleted, since the mark (no mark:
	 * yes): the clock is the whole database's, and other trees' runs
	 * move it; two probes of the (tree, rev) indexes */
	[ST_CLOCK_MOVED] =
		"WITH m(v) AS (SELECT coalesce((SELECT CAST(value AS INTEGER)"
		" FROM sync_meta WHERE tree = " TREE " AND key = 'mark'), -1))"
		" SELECT m.v < 0 OR EXISTS (SELECT 1 FROM stories WHERE"
		" tree = " TREE " AND rev > m.v) OR EXISTS (SELECT 1 FROM"
		" deleted_stories WHERE tree = " TREE " AND rev > m.v) FROM m",
};

/* points is an INTEGER column: its canonical decimal text goes in as an
 * integer (true, *n), anything else as it is. */
static bool points_int(const char *v, long long *n)
{
	char canon[32];
	char *end;

	if (!v || !*v)
		return false;
	*n = strtoll(v, &end, 10);
	snprintf(canon, sizeof(canon), "%lld", *n);
	return !*end && strcmp(canon, v) == 0;
}

static void bind_points(sqlite3_stmt *st, int i, const char *v)
{
	long long n;

	if (points_int(v, &n))
		sqlite3_bind_int64(st, i, n);
	else
		store_bind_text(st, i, v);
}

bool sqlite_is_empty(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_IS_EMPTY, NULL);
	bool empty = false;

	if (st && store_step(s, st, NULL) == SQLITE_ROW)
		empty = sqlite3_column_int(st, 0) != 0;
	if (st)
		store_reset(st);
	return empty;
}

bool sqlite_story_get(struct store *s, const char *id, struct story *out,
		      int64_t *rev, char **path, bool *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, ST_STORY_GET, id, &st, e);

	*found = false;
	if (rc < 0)
		return false;
	if (rc == SQLITE_ROW) {
		store_col_story(st, out);
		if (rev)
			*rev = sqlite3_column_int64(st, SF_COUNT);
		if (path)
			*path = store_col_text(st, SF_COUNT + 1);
		*found = true;
	}
	store_reset(st);
	return true;
}

static bool story_rev(struct store *s, const char *id, int64_t *rev,
		      struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, ST_STORY_REV, id, &st, e);

	if (rc < 0)
		return false;
	*rev = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_reset(st);
	return true;
}

/* The path is storysync's: another row that holds it (the API wrote it
 * there, or the file now claims another id) lets it go, and gets its own
 * when its story is applied. A unique path must not stop every run. */
static bool path_release(struct store *s, const char *id, const char *path,
			 struct err *e)
{
	sqlite3_stmt *st;

	if (!path || s->first_load)
		return true; /* every row is new, and so is every path */
	st = store_stmt(s, ST_PATH_RELEASE, e);
	if (!st)
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, path);
	return store_exec_stmt(s, st, e);
}

/* A first load's row, queued to go in STORE_QUEUE_ROWS a statement: one
 * statement a story was a fifth of the row's cost (its start and end,
 * VdbeHalt's). The values are those row_upsert binds, in its order. */
static bool row_queue(struct store *s, const struct story *in, const char *path,
		      const char *now, const int *col, struct err *e)
{
	struct store_val v[16] = {{0}};
	long long n;

	for (int f = 0; f < SF_COUNT; f++) {
		struct store_val *c;

		if (f == SF_DEPENDS_ON)
			continue;
		c = &v[col[f] - 1];
		if (f == SF_POINTS && points_int(in->v[f], &n))
			*c = (struct store_val){.num = n, .is_int = true};
		else
			c->text = in->v[f];
	}
	v[12].text = path;
	v[13] = (struct store_val){.num = s->writer_rev, .is_int = true};
	v[15].text = now;
	return store_queue_row(s, ST_STORY_UPSERT, ST_STORY_UPSERT_MANY, v, 16,
			       e);
}

static bool row_upsert(struct store *s, const struct story *in,
		       const char *path, struct err *e)
{
	static const int col[SF_COUNT] = {
		[SF_ID] = 1,       [SF_BACKLOG] = 2,   [SF_STATUS] = 3,
		[SF_EPIC] = 4,     [SF_TITLE] = 5,     [SF_PRIORITY] = 6,
		[SF_POINTS] = 7,   [SF_ASSIGNEES] = 8, [SF_LABELS] = 9,
		[SF_CREATED] = 10, [SF_EXTRA] = 11,    [SF_BODY] = 12,
		[SF_PARENT] = 15,
	};
	sqlite3_stmt *st = store_stmt(s, ST_STORY_UPSERT, e);
	char now[64];

	if (!st || !path_release(s, in->v[SF_ID], path, e))
		return false;
	/* NOW_ISO's time, made here (the statement runs before it returns):
	 * SQLite's strftime, once a statement, costs more than the C of
	 * store_iso_time, and a first load runs this once a story */
	store_iso_time(now, 0, true);
	/* a row the database may refuse goes alone, after those queued, so
	 * that the refusal is its own (refused_by_db) */
	if (s->rows_queued && in->v[SF_TITLE])
		return row_queue(s, in, path, now, col, e);
	if (s->first_load && !store_queue_flush(s, e))
		return false;
	store_bind_text(st, 16, now);
	for (int f = 0; f < SF_COUNT; f++) {
		if (f == SF_DEPENDS_ON)
			continue;
		if (f == SF_POINTS)
			bind_points(st, col[f], in->v[f]);
		else
			store_bind_text(st, col[f], in->v[f]);
	}
	store_bind_text(st, 13, path);
	sqlite3_bind_int64(st, 14, s->writer_rev);
	return store_exec_stmt(s, st, e);
}

static bool deps_insert(struct store *s, const char *id, const char *deps,
			struct err *e)
{
	sqlite3_stmt *st;

	if (!deps)
		return true;
	st = store_stmt(s, ST_DEPS_INSERT, e);
	if (!st)
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, deps);
	return store_exec_stmt(s, st, e);
}

/* A first load's dependencies, a row each, queued to go in
 * STORE_QUEUE_ROWS a statement: json_each's table made and parsed for
 * each story was a sixth of the applying thread's time, and a statement
 * a row twice the CPU of 32 a statement. Only for an array of plain
 * strings (no escape: SQLite and json.c could read one differently);
 * *done false leaves the rest to deps_insert. */
static bool deps_insert_split(struct store *s, const char *id, const char *deps,
			      bool *done, struct err *e)
{
	char **items = NULL;
	size_t n = 0;
	bool ok = true;

	*done = false;
	if (!deps || strchr(deps, '\\') ||
	    !json_parse_string_array(deps, &items, &n))
		return true;
	for (size_t i = 0; ok && i < n; i++) {
		const struct store_val v[] = {{.text = id}, {.text = items[i]}};

		ok = store_queue_row(s, ST_DEP_INSERT, ST_DEP_INSERT_MANY, v, 2,
				     e);
	}
	strv_free(items);
	*done = true;
	return ok;
}

static bool deps_replace(struct store *s, const char *id, const char *deps,
			 struct err *e)
{
	return store_by_id(s, ST_DEPS_DELETE, id, e) &&
	       deps_insert(s, id, deps, e);
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* What differs between the row (cur, cur_path) and the wanted story. */
static void story_diff(const struct story *cur, const char *cur_path,
		       const struct story *want, const char *path, bool *row,
		       bool *deps)
{
	*row = !str_eq(cur_path, path);
	for (int f = 0; f < SF_COUNT && !*row; f++)
		if (f != SF_DEPENDS_ON && !story_field_equal(cur, want, f))
			*row = true;
	*deps = !story_field_equal(cur, want, SF_DEPENDS_ON);
}

/* Only the dependencies changed: the row takes this run's rev. */
static bool touch(struct store *s, const char *id, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STORY_TOUCH, e);

	if (!st)
		return false;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, s->writer_rev);
	return store_exec_stmt(s, st, e);
}

/* A story with no row yet: its dependencies, then the row. */
static bool story_insert(struct store *s, const struct story *st,
			 const char *path, struct err *e)
{
	const char *id = st->v[SF_ID];
	const char *deps = st->v[SF_DEPENDS_ON];
	bool split = false;

	if (s->first_load) {
		if (!deps_insert_split(s, id, deps, &split, e) ||
		    (!split && !deps_insert(s, id, deps, e)))
			return false;
	} else if (!deps_replace(s, id, deps, e)) {
		return false;
	}
	if (row_upsert(s, st, path, e))
		return true;
	store_by_id(s, ST_DEPS_DELETE, id, NULL);
	return false;
}

bool sqlite_story_put(struct store *s, const struct story *st, const char *path,
		      int64_t *rev, struct err *e)
{
	const char *id = st->v[SF_ID];
	struct story cur = {0};
	char *cur_path = NULL;
	bool found, row = true, deps = true;
	bool ok;

	/* a first load puts each story once, into an empty table */
	found = false;
	if (!s->first_load &&
	    !sqlite_story_get(s, id, &cur, rev, &cur_path, &found, e))
		return false;
	if (found)
		story_diff(&cur, cur_path, st, path, &row, &deps);
	ok = !(row || deps) || store_writer_on(s, e);
	if (ok && found) {
		ok = (!row || row_upsert(s, st, path, e)) &&
		     (!deps || deps_replace(s, id, st->v[SF_DEPENDS_ON], e)) &&
		     (row || !deps || touch(s, id, e));
	} else if (ok) {
		ok = story_insert(s, st, path, e);
	}
	if (ok && (row || deps))
		*rev = s->writer_rev;
	/* the pages a first load's cache let go are written out as it goes
	 * on, not all by the commit's barrier after it */
	if (ok && s->first_load && ++s->bulk_puts % WRITEBACK_PUTS == 0)
		fsx_writeback_begin(s->path);
	free(cur_path);
	story_finish(&cur);
	return ok;
}

bool sqlite_story_set_path(struct store *s, const char *id, const char *path,
			   int64_t *rev, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STORY_SET_PATH, e);

	if (!st || !store_writer_on(s, e) || !path_release(s, id, path, e))
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, path);
	sqlite3_bind_int64(st, 3, s->writer_rev);
	return store_exec_stmt(s, st, e) && story_rev(s, id, rev, e);
}

bool sqlite_story_delete(struct store *s, const char *id, struct err *e)
{
	return store_writer_on(s, e) && store_by_id(s, ST_STORY_DELETE, id, e);
}

/* ---- changes and the mark ---- */

static void change_from_row(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct db_change *c = elem;

	c->id = store_col_text(st, 0);
	c->rev = sqlite3_column_int64(st, 1);
	c->deleted = sqlite3_column_int(st, 2) != 0;
	c->drifted = sqlite3_column_int(st, 3) != 0;
}

bool sqlite_changes(struct store *s, int64_t mark, bool all,
		    struct db_change **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, all ? ST_CHANGES_ALL : ST_CHANGES, e);
	struct row_array a = {.size = sizeof(struct db_change)};

	if (!st)
		return false;
	if (!all)
		sqlite3_bind_int64(st, 1, mark);
	if (!store_rows_collect(s, st, &a, change_from_row, NULL, e)) {
		store_changes_free(a.v, a.n);
		return false;
	}
	*out = a.v;
	*n = a.n;
	return true;
}

bool sqlite_changes_plan(struct store *s, char **plan, struct err *e)
{
	char *sql =
		xasprintf("EXPLAIN QUERY PLAN %s", store_story_sql[ST_CHANGES]);
	struct buf b = BUF_INIT;
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok = false;

	if (!st)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW)
		buf_printf(&b, "%s\n", sqlite3_column_text(st, 3));
	*plan = buf_detach(&b);
	ok = true;
out:
	sqlite3_finalize(st);
	free(sql);
	return ok;
}

bool sqlite_mark_get(struct store *s, int64_t *mark, struct err *e)
{
	char *v;

	if (!sqlite_meta_get(s, "mark", &v, e))
		return false;
	*mark = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return true;
}

bool sqlite_mark_set(struct store *s, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_MARK_SET, e);

	return st && store_exec_stmt(s, st, e);
}

bool sqlite_clock_moved(struct store *s, bool *moved, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_CLOCK_MOVED, e);
	int rc;

	*moved = true;
	if (!st || (rc = store_step(s, st, e)) < 0)
		return false;
	*moved = rc != SQLITE_ROW || sqlite3_column_int(st, 0);
	store_reset(st);
	return true;
}

/* ---- history backfill (history.c) ---- */

/* The one text column sql selects for key, or NULL (*found false). */
static bool text_by_key(struct store *s, const char *sql, const char *key,
			char **out, bool *found, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	int rc;

	*out = NULL;
	*found = false;
	if (!st)
		return false;
	store_bind_text(st, 1, key);
	rc = store_step(s, st, e);
	if (rc == SQLITE_ROW) {
		*out = store_col_text(st, 0);
		*found = true;
	}
	sqlite3_finalize(st);
	return rc >= 0;
}

bool sqlite_story_id_by_path(struct store *s, const char *path, char **id,
			     struct err *e)
{
	bool found;

	return text_by_key(
		s, "SELECT id FROM stories WHERE tree = " TREE " AND path = ?1",
		path, id, &found, e);
}

bool sqlite_story_path(struct store *s, const char *id, char **path,
		       bool *found, struct err *e)
{
	return text_by_key(
		s, "SELECT path FROM stories WHERE tree = " TREE " AND id = ?1",
		id, path, found, e);
}

bool sqlite_story_forget(struct store *s, const char *id, struct err *e)
{
	/* ?2, ?3, ?4: the last event, history row and rev before this
	 * transaction; the row's deletion archives it (the trigger, when
	 * there is one), so the archived row goes too */
	static const char *const sql[] = {
		"DELETE FROM sync_events WHERE tree = " TREE " AND"
		" story_id = ?1 AND seq > ?2",
		"DELETE FROM status_history WHERE tree = " TREE " AND"
		" story_id = ?1 AND id > ?3",
		"DELETE FROM sync_state WHERE tree = " TREE
		" AND story_id = ?1",
		"DELETE FROM story_dependencies WHERE tree = " TREE " AND"
		" story_id = ?1",
		"DELETE FROM stories WHERE tree = " TREE " AND id = ?1",
		"DELETE FROM deleted_stories WHERE tree = " TREE " AND"
		" story_id = ?1 AND rev > ?4",
	};

	if (!s->writer_rev)
		return true; /* nothing written yet */
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		sqlite3_stmt *st = store_prepare(s, sql[i], e);
		bool ok;

		if (!st)
			return false;
		store_bind_text(st, 1, id);
		sqlite3_bind_int64(st, 2, s->events_floor);
		sqlite3_bind_int64(st, 3, s->history_floor);
		sqlite3_bind_int64(st, 4, s->writer_rev);
		ok = store_step(s, st, e) >= 0;
		sqlite3_finalize(st);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- what status shows ---- */

/* The caller's store_count_fn, called for each row. */
struct counts {
	store_count_fn fn;
	void *ctx;
};

static bool count_row(void *ctx, sqlite3_stmt *st)
{
	struct counts *c = ctx;

	c->fn(c->ctx, (const char *)sqlite3_column_text(st, 0),
	      (const char *)sqlite3_column_text(st, 1),
	      (long)sqlite3_column_int64(st, 2));
	return true;
}

/* fn for each row of sql: (backlog, status, count). */
static bool counts_query(struct store *s, const char *sql, store_count_fn fn,
			 void *ctx, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	struct counts c = {fn, ctx};
	bool ok;

	if (!st)
		return false;
	ok = store_rows_each(s, st, count_row, &c, e);
	sqlite3_finalize(st);
	return ok;
}

bool sqlite_story_counts(struct store *s, store_count_fn fn, void *ctx,
			 struct err *e)
{
	return counts_query(
		s,
		"SELECT backlog, status, count(*) FROM stories WHERE tree "
		"= " TREE " GROUP BY backlog, status ORDER BY backlog, status",
		fn, ctx, e);
}

bool sqlite_rows_pending(struct store *s, store_count_fn fn, void *ctx,
			 struct err *e)
{
	return counts_query(
		s,
		"WITH mark(rev) AS (SELECT coalesce((SELECT CAST(value AS"
		" INTEGER) FROM sync_meta WHERE tree = " TREE " AND"
		" key = 'mark'), 0))"
		/* past the mark (a superset: a --backlog run leaves it) and
		 * not agreed since */
		" SELECT backlog, NULL, count(*) FROM (SELECT s.backlog FROM"
		" stories s, mark WHERE s.tree = " TREE " AND s.rev > mark.rev"
		" AND NOT EXISTS (SELECT 1 FROM sync_state t WHERE"
		" t.tree = s.tree AND t.story_id = s.id AND"
		" t.rev >= s.rev) UNION ALL SELECT json_extract(d.row,"
		" '$.backlog') FROM deleted_stories d, mark WHERE d.tree "
		"= " TREE
		" AND d.rev > mark.rev AND EXISTS (SELECT 1 FROM sync_state t"
		" WHERE t.tree = d.tree AND t.story_id = d.story_id) AND NOT"
		" EXISTS (SELECT 1 FROM stories s WHERE s.tree = d.tree AND"
		" s.id = d.story_id))"
		" GROUP BY backlog ORDER BY backlog",
		fn, ctx, e);
}
