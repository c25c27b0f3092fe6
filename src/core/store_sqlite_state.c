/* store_sqlite_state.c: sync_state, what both sides last agreed on, and the
 * base of the merge. */
#include "store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

#define STATE_COLUMNS                                                          \
	"story_id, path, mtime_ns, ctime_ns, size, ino, mode, recorded_ns,"    \
	" hash, rev, ours, before, before_path"

/* An entry of sync_deleted, and whether no deletion of its story was
 * archived after it (deleted_file.latest): ISO times of one clock,
 * compared as text */
#define DELETED_COLUMNS                                                        \
	"path, story_id, hash, before, head, deleted_at >= coalesce((SELECT"   \
	" max(d.deleted_at) FROM deleted_stories d WHERE d.tree ="             \
	" sync_deleted.tree AND d.story_id = sync_deleted.story_id), '')"

/* The columns of a first load's sync_state row (ST_STATE_ADD), and what
 * its upsert sets: all of them, as ST_STATE_PUT's with a base. */
#define STATE_ADD_COLUMNS                                                      \
	"story_id, path, mtime_ns, ctime_ns, size, ino, mode, recorded_ns,"    \
	" hash, rev, mirrors, digest, ours, before, before_path, tree"
#define STATE_ADD_SET                                                          \
	" ON CONFLICT(tree, story_id) DO UPDATE SET path = excluded.path,"     \
	" mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,"         \
	" size = excluded.size, ino = excluded.ino, mode = excluded.mode,"     \
	" recorded_ns = excluded.recorded_ns, hash = excluded.hash,"           \
	" rev = excluded.rev, ours = excluded.ours,"                           \
	" before = excluded.before, before_path = excluded.before_path,"       \
	" mirrors = excluded.mirrors, digest = excluded.digest"

/* This file's cached statements (store_stmt prepares them). */
const char *const store_state_sql[ST_COUNT] = {
	[ST_STATE_LOAD] = "SELECT " STATE_COLUMNS " FROM sync_state"
			  " WHERE tree = " TREE,
	[ST_STATE_BY_PATH] = "SELECT " STATE_COLUMNS " FROM sync_state"
			     " WHERE tree = " TREE " AND path = ?1",
	[ST_STATE_BY_ID] = "SELECT " STATE_COLUMNS " FROM sync_state"
			   " WHERE tree = " TREE " AND story_id = ?1",
	[ST_STATE_COUNT] = "SELECT count(*) FROM sync_state WHERE tree = " TREE,
	[ST_STATE_BASE] = "SELECT " BASE_COLUMNS " FROM sync_base"
			  " WHERE tree = " TREE " AND story_id = ?1",
	/* at the agreed rev, and as agreed: a row changed without the
	 * triggers has no base */
	/* clang-format off */
	[ST_STATE_AGREED] = "SELECT " STORY_COLUMNS " FROM stories"
			    " WHERE tree = " TREE " AND id = ?1 AND "
			    AGREED(TREE, "?1", "rev") " AND"
			    " coalesce((SELECT digest FROM sync_state WHERE"
			    " tree = " TREE " AND story_id = ?1) = " DIGEST_ROW
			    ", 1)",
	/* clang-format on */
	[ST_STATE_MIRRORS] =
		"SELECT json_extract(mirrors, '$[0]'),"
		" json_extract(mirrors, '$[1]'),"
		" json_extract(mirrors, '$[2]'), mirrors IS NOT NULL"
		" FROM sync_state WHERE tree = " TREE " AND story_id = ?1",
	[ST_BASE_DELETE] =
		"DELETE FROM sync_base WHERE tree = " TREE " AND story_id = ?1",
	[ST_STATE_PUT] =
		"INSERT INTO sync_state(story_id, path, mtime_ns, ctime_ns,"
		" size, ino, mode, recorded_ns, hash, rev, mirrors, digest,"
		" ours, before, before_path, tree) VALUES (?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?14, ?15, ?16, " TREE ")"
		" ON CONFLICT(tree, story_id) DO UPDATE SET path = "
		"excluded.path,"
		" mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,"
		" size = excluded.size, ino = excluded.ino,"
		" mode = excluded.mode, recorded_ns = excluded.recorded_ns,"
		" hash = excluded.hash, rev = excluded.rev,"
		" ours = CASE WHEN ?12 THEN excluded.ours ELSE sync_state.ours"
		" END, before = CASE WHEN ?12 THEN excluded.before ELSE"
		" sync_state.before END, before_path = CASE WHEN ?12 THEN"
		" excluded.before_path ELSE sync_state.before_path END,"
		" mirrors = CASE WHEN ?12 THEN excluded.mirrors"
		" ELSE sync_state.mirrors END, digest = CASE WHEN ?12 THEN"
		" excluded.digest ELSE sync_state.digest END",
	/* a first load's rows, with a base each, STORE_QUEUE_ROWS a
	 * statement: ST_STATE_PUT's values, ?12 true, numbered in order */
	[ST_STATE_ADD] = "INSERT INTO sync_state(" STATE_ADD_COLUMNS
			 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
			 " ?11, ?12, ?13, ?14, ?15, " TREE ")" STATE_ADD_SET,
	[ST_STATE_ADD_MANY] =
		"INSERT INTO sync_state(" STATE_ADD_COLUMNS ") VALUES " ROWS_32(
			"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " TREE
			")") STATE_ADD_SET,
	/* the stat data only, and only of the version the run left there */
	[ST_STATE_RESTAT] = "UPDATE sync_state SET mtime_ns = ?3,"
			    " ctime_ns = ?4, size = ?5, ino = ?6, mode = ?7,"
			    " recorded_ns = ?8 WHERE tree = " TREE " AND"
			    " story_id = ?1 AND path = ?2 AND hash IS ?9",
	[ST_STATE_DELETE] = "DELETE FROM sync_state WHERE tree = " TREE
			    " AND story_id = ?1",
	/* a row a REPLACE deleted without the delete trigger left them */
	[ST_DEPS_ORPHANS] = "DELETE FROM story_dependencies WHERE tree = " TREE
			    " AND story_id = ?1 AND NOT EXISTS (SELECT 1 FROM"
			    " stories WHERE tree = " TREE " AND id = ?1)",
	[ST_DELETED_PUT] =
		"INSERT OR REPLACE INTO sync_deleted(story_id,"
		" path, hash, before, head, deleted_at, tree)"
		" VALUES (?1, ?2, ?3, ?4, ?5, " NOW_ISO ", " TREE ")",
	[ST_DELETED_GET] = "SELECT " DELETED_COLUMNS " FROM sync_deleted"
			   " WHERE tree = " TREE " AND path = ?1",
	[ST_DELETED_OF] = "SELECT " DELETED_COLUMNS " FROM sync_deleted"
			  " WHERE tree = " TREE " AND story_id = ?1"
			  " ORDER BY deleted_at DESC LIMIT 1",
	[ST_DELETED_FORGET] =
		"DELETE FROM sync_deleted WHERE tree = " TREE " AND path = ?1",
	[ST_ARCHIVED_GET] = "SELECT " BASE_COLUMNS " FROM deleted_stories"
			    " WHERE tree = " TREE " AND story_id = ?1"
			    " ORDER BY seq DESC LIMIT 1",
};

static const char *col_arena(sqlite3_stmt *st, int i, struct arena *a)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v ? arena_strdup(a, v) : NULL;
}

static void state_from_row(void *elem, sqlite3_stmt *st, void *arena)
{
	struct state_entry *se = elem;
	struct arena *a = arena;
	const char *hash = (const char *)sqlite3_column_text(st, 8);

	/* the entries are read-only: their strings live in the arena */
	se->id = (char *)col_arena(st, 0, a);
	se->path = (char *)col_arena(st, 1, a);
	se->st.mtime_ns = sqlite3_column_int64(st, 2);
	se->st.ctime_ns = sqlite3_column_int64(st, 3);
	se->st.size = sqlite3_column_int64(st, 4);
	se->st.ino = (uint64_t)sqlite3_column_int64(st, 5);
	se->st.mode = (uint32_t)sqlite3_column_int64(st, 6);
	se->recorded_ns = sqlite3_column_int64(st, 7);
	se->hash[0] = '\0';
	if (hash && sqlite3_column_bytes(st, 8) == BLOBID_HEX - 1)
		memcpy(se->hash, hash, BLOBID_HEX);
	se->rev = sqlite3_column_int64(st, 9);
	se->ours = (uint32_t)sqlite3_column_int64(st, 10);
	hash = (const char *)sqlite3_column_text(st, 11);
	se->before[0] = '\0';
	if (hash && sqlite3_column_bytes(st, 11) == BLOBID_HEX - 1)
		memcpy(se->before, hash, BLOBID_HEX);
	se->before_path = se->before[0] ? (char *)col_arena(st, 12, a) : NULL;
}

/* Appends the rows of a prepared state query to t. */
static bool state_rows(struct store *s, sqlite3_stmt *st, struct state_table *t,
		       struct err *e)
{
	struct row_array a = {t->v, t->n, t->cap, sizeof(*t->v)};
	bool ok = store_rows_collect(s, st, &a, state_from_row, &t->strings, e);

	t->v = a.v;
	t->n = a.n;
	t->cap = a.cap;
	return ok;
}

bool sqlite_state_load(struct store *s, struct state_table *t, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STATE_LOAD, e);

	memset(t, 0, sizeof(*t));
	if (st && state_rows(s, st, t, e))
		return true;
	state_table_finish(t);
	return false;
}

bool sqlite_state_find(struct store *s, const char *path, const char *id,
		       struct state_table *t, struct err *e)
{
	sqlite3_stmt *st =
		store_stmt(s, path ? ST_STATE_BY_PATH : ST_STATE_BY_ID, e);

	if (!st)
		return false;
	store_bind_text(st, 1, path ? path : id);
	return state_rows(s, st, t, e);
}

bool sqlite_state_count(struct store *s, size_t *n, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STATE_COUNT, e);
	int rc;

	*n = 0;
	if (!st)
		return false;
	rc = store_step(s, st, e);
	if (rc < 0)
		return false;
	*n = (size_t)sqlite3_column_int64(st, 0);
	store_reset(st);
	return true;
}

/* The base: saved by a trigger when the row changed since the sync, else
 * the row itself while it is still at the agreed rev. */
static bool base_story(struct store *s, const char *id, struct story *base,
		       bool *found, struct err *e)
{
	static const enum stmt_id from[] = {ST_STATE_BASE, ST_STATE_AGREED};
	int rc = SQLITE_DONE;

	*found = false;
	for (size_t i = 0; i < 2 && rc == SQLITE_DONE; i++) {
		sqlite3_stmt *st;

		rc = store_lookup(s, from[i], id, &st, e);
		if (rc < 0)
			return false;
		if (rc == SQLITE_ROW) {
			store_col_story(st, base);
			*found = true;
		}
		store_reset(st);
	}
	return true;
}

static bool state_mirrors(struct store *s, const char *id,
			  char *mirror[SM_COUNT], bool *known, struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, ST_STATE_MIRRORS, id, &st, e);

	*known = false;
	if (rc < 0)
		return false;
	if (rc == SQLITE_ROW && sqlite3_column_int(st, SM_COUNT)) {
		for (int m = 0; m < SM_COUNT; m++)
			mirror[m] = store_col_text(st, m);
		*known = true;
	}
	store_reset(st);
	return true;
}

bool sqlite_state_base(struct store *s, const char *id, struct story *base,
		       char *mirror[SM_COUNT], bool *mirror_known, bool *found,
		       struct err *e)
{
	*mirror_known = false;
	if (!base_story(s, id, base, found, e))
		return false;
	return !*found || state_mirrors(s, id, mirror, mirror_known, e);
}

static void put_value(struct buf *b, const char *v)
{
	if (v)
		json_put_string(b, v, strlen(v));
	else
		buf_puts(b, "null");
}

/* The file's mirror keys as a JSON array of strings or null. */
static char *mirror_array(char *const *mirror)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '[');
	for (int m = 0; m < SM_COUNT; m++) {
		if (m)
			buf_putc(&b, ',');
		put_value(&b, mirror ? mirror[m] : NULL);
	}
	buf_putc(&b, ']');
	return buf_detach(&b);
}

/* ?1-?9, as both state statements number them: the id, the path, the
 * stat data and when it was taken, the hash. */
static void bind_where(sqlite3_stmt *st, const struct state_entry *se)
{
	store_bind_text(st, 1, se->id);
	store_bind_text(st, 2, se->path);
	sqlite3_bind_int64(st, 3, se->st.mtime_ns);
	sqlite3_bind_int64(st, 4, se->st.ctime_ns);
	sqlite3_bind_int64(st, 5, se->st.size);
	sqlite3_bind_int64(st, 6, (int64_t)se->st.ino);
	sqlite3_bind_int64(st, 7, se->st.mode);
	sqlite3_bind_int64(st, 8, se->recorded_ns);
	store_bind_text(st, 9, se->hash[0] ? se->hash : NULL);
}

/* A first load's row, queued (store_queue_row): a statement a row was
 * most of the row's cost. The values bind_where and sqlite_state_put bind,
 * ?12 left out. */
static bool state_queue(struct store *s, const struct state_entry *se,
			const char *json, int64_t digest, struct err *e)
{
	const struct store_val v[] = {
		{.text = se->id},
		{.text = se->path},
		{.num = se->st.mtime_ns, .is_int = true},
		{.num = se->st.ctime_ns, .is_int = true},
		{.num = se->st.size, .is_int = true},
		{.num = (int64_t)se->st.ino, .is_int = true},
		{.num = se->st.mode, .is_int = true},
		{.num = se->recorded_ns, .is_int = true},
		{.text = se->hash[0] ? se->hash : NULL},
		{.num = se->rev, .is_int = true},
		{.text = json},
		{.num = digest, .is_int = true},
		{.num = se->ours, .is_int = true},
		{.text = se->before[0] ? se->before : NULL},
		{.text = se->before[0] ? se->before_path : NULL},
	};

	return store_queue_row(s, ST_STATE_ADD, ST_STATE_ADD_MANY, v, 15, e);
}

bool sqlite_state_put(struct store *s, const struct state_entry *se,
		      const struct story *base, char *const *mirror,
		      struct err *e)
{
	sqlite3_stmt *st;
	char *json = base ? mirror_array(mirror) : NULL;
	bool ok;

	if (s->rows_queued && base) {
		ok = state_queue(s, se, json,
				 store_story_digest(base, se->path), e);
		free(json);
		return ok && (s->baseless ||
			      store_by_id(s, ST_BASE_DELETE, se->id, e));
	}
	/* after the rows queued (it names their table) */
	st = store_stmt(s, ST_STATE_PUT, e);
	if (!st) {
		free(json);
		return false;
	}
	bind_where(st, se);
	sqlite3_bind_int64(st, 10, se->rev);
	store_bind_text(st, 11, json);
	sqlite3_bind_int(st, 12, base != NULL);
	sqlite3_bind_int64(st, 14, se->ours);
	store_bind_text(st, 15, se->before[0] ? se->before : NULL);
	store_bind_text(st, 16, se->before[0] ? se->before_path : NULL);
	if (base)
		sqlite3_bind_int64(st, 13, store_story_digest(base, se->path));
	ok = store_exec_stmt(s, st, e);
	free(json);
	/* agreed now: a saved base is history */
	if (ok && base && !s->baseless)
		ok = store_by_id(s, ST_BASE_DELETE, se->id, e);
	/* a story's file is there again (a first load has no deleted
	 * files) */
	if (ok && !s->first_load)
		ok = store_by_id(s, ST_DELETED_FORGET, se->path, e);
	return ok;
}

bool sqlite_state_restat(struct store *s, const struct state_entry *se,
			 struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STATE_RESTAT, e);

	if (!st)
		return false;
	bind_where(st, se);
	return store_exec_stmt(s, st, e);
}

bool sqlite_state_delete(struct store *s, const char *id, struct err *e)
{
	return store_by_id(s, ST_STATE_DELETE, id, e) &&
	       store_by_id(s, ST_BASE_DELETE, id, e) &&
	       store_by_id(s, ST_DEPS_ORPHANS, id, e);
}

bool sqlite_deleted_put(struct store *s, const struct deleted_file *d,
			struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_DELETED_PUT, e);

	if (!st)
		return false;
	store_bind_text(st, 1, d->id);
	store_bind_text(st, 2, d->path);
	store_bind_text(st, 3, d->hash);
	store_bind_text(st, 4, d->before[0] ? d->before : NULL);
	store_bind_text(st, 5, d->head);
	return store_exec_stmt(s, st, e);
}

/* A hex id column into out (BLOBID_HEX), "" for null or any other text. */
static void col_hex(sqlite3_stmt *st, int i, char out[BLOBID_HEX])
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	out[0] = '\0';
	if (v && strlen(v) == BLOBID_HEX - 1)
		memcpy(out, v, BLOBID_HEX);
}

bool sqlite_archived_get(struct store *s, const char *id, struct story *out,
			 bool *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, ST_ARCHIVED_GET, id, &st, e);

	if (rc < 0)
		return false;
	if (rc == SQLITE_ROW && sqlite3_column_text(st, SF_ID)) {
		store_col_story(st, out);
		*found = true;
	}
	store_reset(st);
	return true;
}

bool sqlite_deleted_get(struct store *s, const char *path, const char *id,
			struct deleted_file *out, bool *found, struct err *e)
{
	sqlite3_stmt *st;
	int rc = store_lookup(s, path ? ST_DELETED_GET : ST_DELETED_OF,
			      path ? path : id, &st, e);

	if (rc < 0)
		return false;
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    sqlite3_column_text(st, 1)) {
		*found = true;
		out->path = store_col_text(st, 0);
		out->id = store_col_text(st, 1);
		col_hex(st, 2, out->hash);
		col_hex(st, 3, out->before);
		col_hex(st, 4, out->head);
		out->latest = sqlite3_column_int(st, 5) != 0;
	}
	store_reset(st);
	return true;
}
