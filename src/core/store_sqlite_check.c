/* store_sqlite_check.c: check --db's questions to the database: its integrity,
 * the rows that point at no row, and where the database expects files. */
#include "store_sqlite.h"

#include <string.h>

/* Each query gives (id, path, detail) rows of one kind of finding. */
static const struct {
	enum store_finding kind;
	const char *sql;
} queries[] = {
	{STORE_DEP_NO_STORY,
	 "SELECT story_id, NULL, depends_on FROM story_dependencies d"
	 " WHERE d.tree = " TREE " AND NOT EXISTS (SELECT 1 FROM stories s"
	 " WHERE s.tree = d.tree AND s.id = d.story_id)"
	 " ORDER BY story_id, depends_on"},
	/* an archived deletion past the mark is the API's, pending: the next
	 * run deletes the file and forgets the state */
	{STORE_STATE_NO_ROW,
	 "SELECT story_id, path, NULL FROM sync_state t WHERE t.tree = " TREE
	 " AND NOT EXISTS (SELECT 1 FROM stories s WHERE s.tree = t.tree AND"
	 " s.id = t.story_id) AND NOT EXISTS (SELECT 1 FROM deleted_stories d"
	 " WHERE d.tree = t.tree AND d.story_id = t.story_id"
	 " AND d.rev > coalesce((SELECT CAST(value AS INTEGER) FROM sync_meta"
	 " WHERE tree = " TREE " AND key = 'mark'), 0)) ORDER BY story_id"},
	{STORE_BASE_NO_STATE,
	 "SELECT story_id, NULL, NULL FROM sync_base b WHERE b.tree = " TREE
	 " AND NOT EXISTS (SELECT 1 FROM sync_state t WHERE t.tree = b.tree"
	 " AND t.story_id = b.story_id) ORDER BY story_id"},
	{STORE_STATE_PATH,
	 "SELECT t.story_id, t.path, NULL FROM sync_state t"
	 " JOIN stories s ON s.tree = t.tree AND s.id = t.story_id"
	 " WHERE t.tree = " TREE " ORDER BY t.story_id"},
	{STORE_ROW_PATH,
	 "SELECT id, path, NULL FROM stories s WHERE s.tree = " TREE " AND"
	 " path IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync_state t WHERE"
	 " t.tree = s.tree AND t.story_id = s.id) ORDER BY id"},
};

struct each {
	store_check_fn fn;
	void *ctx;
	enum store_finding kind;
};

static bool check_row(void *ctx, sqlite3_stmt *st)
{
	const struct each *x = ctx;
	const struct store_check_row r = {
		.kind = x->kind,
		.id = (const char *)sqlite3_column_text(st, 0),
		.path = (const char *)sqlite3_column_text(st, 1),
		.detail = (const char *)sqlite3_column_text(st, 2),
	};

	return x->fn(x->ctx, &r);
}

static bool run_query(struct store *s, enum store_finding kind, const char *sql,
		      struct each *x, struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok;

	if (!st)
		return false;
	x->kind = kind;
	ok = store_rows_each(s, st, check_row, x, e);
	sqlite3_finalize(st);
	return ok;
}

bool sqlite_check(struct store *s, store_check_fn fn, void *ctx, struct err *e)
{
	struct each x = {fn, ctx, STORE_DAMAGED};
	bool damaged = false;
	sqlite3_stmt *st;
	int rc;

	/* PRAGMA integrity_check says "ok", or one line a problem */
	st = store_prepare(s, "PRAGMA integrity_check", e);
	if (!st)
		return false;
	while ((rc = store_step(s, st, e)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		const struct store_check_row r = {.kind = STORE_DAMAGED,
						  .detail = line};

		if (line && strcmp(line, "ok") == 0)
			continue;
		damaged = true;
		if (!fn(ctx, &r))
			break;
	}
	sqlite3_finalize(st);
	if (rc < 0)
		return false;
	/* a damaged database's other answers are not to be trusted */
	for (size_t i = 0; !damaged && i < sizeof(queries) / sizeof(*queries);
	     i++)
		if (!run_query(s, queries[i].kind, queries[i].sql, &x, e))
			return false;
	return true;
}
