/* store_sqlite.c: SQLite's store, the top layer: open (the pragmas,
 * the reader's fallbacks, the migration) and close. */
#include "store_sqlite.h"

#include <stdlib.h>

#include "buf.h"
#include "dbhome.h"
#include "mem.h"

/* storysync_digest(...): store_digest of its arguments' text; a NULL
 * last one (the parent, after the path) counts when there are the 15 of
 * a row (store_story_digest), and not otherwise. */
static void digest_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const char *v[SF_COUNT + 1];

	if (argc > SF_COUNT + 1) {
		sqlite3_result_error(cx, "storysync_digest: too many values",
				     -1);
		return;
	}
	for (int i = 0; i < argc; i++)
		v[i] = (const char *)sqlite3_value_text(argv[i]);
	if (argc == SF_COUNT + 1 && !v[argc - 1])
		argc--;
	sqlite3_result_int64(cx, store_digest(v, argc));
}

/* storysync_tree(): the tree the store is about (store_set_tree), not
 * copied: it is set before the first statement and freed after the
 * connection is closed, and a copy was a malloc and a free a statement
 * run, and more where a statement copies the value: ~9 a story of a
 * first load, a quarter of its applying thread's mallocs. */
static void tree_fn(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	sqlite3_result_text(cx, store_base_tree(sqlite3_user_data(cx)), -1,
			    SQLITE_STATIC);
}

/* Each connection is used by one thread only (the scan's threads never
 * touch the database), so neither the connection's mutex nor SQLite's
 * memory statistics, a global mutex taken on every allocation, are
 * needed: the first load makes millions of allocations. */
#define OPEN_FLAGS SQLITE_OPEN_NOMUTEX

/* The SQL of the cached statements: the table of each file that runs
 * some, above the layer (store_sqlite_db.c) that prepares them. */
static const char *const *const stmt_sql[] = {
	store_state_sql,  store_story_sql, store_record_sql,
	store_config_sql, store_txn_sql,   NULL};

static void library_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The reader cannot make the files a WAL reader needs: the -wal and -shm
 * are gone (the API's last connection closed, which removes them) or were
 * never there, and this user cannot create them in the directory. */
static bool cannot_make_wal_files(struct store *s)
{
	int rc = sqlite3_extended_errcode(s->db);

	return (rc & 0xff) == SQLITE_CANTOPEN ||
	       rc == SQLITE_READONLY_DIRECTORY;
}

/* A reader that cannot create the WAL's -shm file (a monitoring user, a
 * read-only directory) still reads, and writes nothing: the writer keeps
 * the WAL files (see sqlite_open), and when they are gone all that is
 * committed is in the database file, which is then read as immutable. A
 * checkpoint may rewrite it meanwhile (the API's writer may come back):
 * the caller reads again when the file changed (see health.c). */
static bool open_reader(struct store *s, struct err *e)
{
	struct buf uri = BUF_INIT;
	int rc;

	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY | OPEN_FLAGS,
			    NULL) == SQLITE_OK &&
	    sqlite3_exec(s->db, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL,
			 NULL, NULL) == SQLITE_OK)
		return true;
	if (!s->db)
		return err_set(e, "%s: out of memory", s->path);
	if (!cannot_make_wal_files(s))
		return store_dberr(s, e);
	sqlite3_close(s->db);
	s->db = NULL;
	buf_puts(&uri, "file:");
	for (const char *p = s->path; *p; p++)
		if (*p == '?' || *p == '#' || *p == '%')
			buf_printf(&uri, "%%%02X", (unsigned char)*p);
		else
			buf_putc(&uri, *p);
	buf_puts(&uri, "?immutable=1");
	rc = sqlite3_open_v2(
		uri.data, &s->db,
		SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | OPEN_FLAGS, NULL);
	buf_finish(&uri);
	if (rc == SQLITE_OK)
		return true;
	return s->db ? store_dberr(s, e)
		     : err_set(e, "%s: out of memory", s->path);
}

bool sqlite_open(struct store **out, const char *path, int busy_ms,
		 bool read_only, bool create, bool *busy, struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int persist = 1;

	library_init();
	s->base.ops = &store_sqlite_ops;
	s->path = xstrdup(path);
	s->stmt_sql = stmt_sql;
	if (read_only) {
		if (!open_reader(s, e))
			goto fail;
	} else if (sqlite3_open_v2(path, &s->db,
				   SQLITE_OPEN_READWRITE |
					   (create ? SQLITE_OPEN_CREATE : 0) |
					   OPEN_FLAGS,
				   NULL) != SQLITE_OK) {
		if (s->db)
			store_dberr(s, e);
		else
			err_set(e, "%s: out of memory", path);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite_set_busy_timeout(s, busy_ms);
	/* direct only: no trigger or view may call it, as the API's
	 * connections do not have it */
	if (sqlite3_create_function(s->db, "storysync_digest", -1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC |
					    SQLITE_DIRECTONLY,
				    NULL, digest_fn, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(s->db, "storysync_tree", 0,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC |
					    SQLITE_DIRECTONLY,
				    s, tree_fn, NULL, NULL) != SQLITE_OK) {
		store_dberr(s, e);
		goto fail;
	}
	if (read_only) {
		if (!store_schema_check(s, e))
			goto fail;
		*out = s;
		return true;
	}
	/* the WAL files stay when the last connection closes, so that a
	 * reader without write access to the directory can still read; the
	 * WAL emptied, so that the next run does not checkpoint it again */
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	/* A new database gets 8 KiB pages (an existing one keeps its own):
	 * a story row is about 2 KiB with its body, and at 4 KiB a first
	 * load spent a sixth of its time writing pages out one by one */
	if (!store_exec(s, "PRAGMA page_size = 8192", e) ||
	    !store_exec(s, "PRAGMA journal_size_limit = 0", e))
		goto fail;
	/* Statement journals (every trigger-firing statement has one) in
	 * memory: as temp files they made a 100k-story import quadratic.
	 * Pages this connection frees are not zero-filled (Debian builds
	 * SQLite with SECURE_DELETE on): a run frees the bases of the rows
	 * it synced, the agreed versions the files held, and zeroing them
	 * was 23 of an edits commit's 58 WAL frames, written again by the
	 * checkpoint (doc/design.md, "Deleted content"). FAST still clears
	 * what it frees on the pages it writes anyway. */
	if (!store_exec(s, "PRAGMA secure_delete = FAST", e) ||
	    !store_exec(s, "PRAGMA temp_store = MEMORY", e) ||
	    !store_wal(s, e) || !store_schema_migrate(s, e))
		goto fail;
	*out = s;
	return true;
fail:
	if (busy)
		*busy = s->busy;
	sqlite_close(s);
	*out = NULL;
	return false;
}

void sqlite_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	store_queue_drop(s);
	for (int i = 0; i < STORE_QUEUES; i++) {
		free(s->queue[i].table);
		buf_finish(&s->queue[i].texts);
	}
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

/* Any database string but a server's URI is a file path: a build
 * without the server's backend must not make a file of one. */
static bool claims(const char *database)
{
	return !dbhome_is_server(database);
}

const struct store_ops store_sqlite_ops = {
	.name = "SQLite",
	.claims = claims,
	.open = sqlite_open,
	.close = sqlite_close,
	.schema_version = sqlite_schema_version,
	.set_busy_timeout = sqlite_set_busy_timeout,
	.busy = sqlite_busy,
	.begin = sqlite_begin,
	.begin_read = sqlite_begin_read,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.unit_begin = sqlite_unit_begin,
	.unit_end = sqlite_unit_end,
	.refused = sqlite_refused,
	.is_empty = sqlite_is_empty,
	.bulk = sqlite_bulk,
	.state_load = sqlite_state_load,
	.state_find = sqlite_state_find,
	.state_count = sqlite_state_count,
	.state_base = sqlite_state_base,
	.state_put = sqlite_state_put,
	.state_restat = sqlite_state_restat,
	.state_delete = sqlite_state_delete,
	.deleted_put = sqlite_deleted_put,
	.deleted_get = sqlite_deleted_get,
	.archived_get = sqlite_archived_get,
	.story_get = sqlite_story_get,
	.story_put = sqlite_story_put,
	.story_set_path = sqlite_story_set_path,
	.story_delete = sqlite_story_delete,
	.changes = sqlite_changes,
	.changes_plan = sqlite_changes_plan,
	.mark_get = sqlite_mark_get,
	.mark_set = sqlite_mark_set,
	.clock_moved = sqlite_clock_moved,
	.meta_get = sqlite_meta_get,
	.meta_set = sqlite_meta_set,
	.backlogs_sync = sqlite_backlogs_sync,
	.config_get = sqlite_config_get,
	.config_put = sqlite_config_put,
	.locations = sqlite_locations,
	.story_relocate = sqlite_story_relocate,
	.base_relocate = sqlite_base_relocate,
	.state_relocate = sqlite_state_relocate,
	.history_add = sqlite_history_add,
	.event_add = sqlite_event_add,
	.conflict_add = sqlite_conflict_add,
	.run_add = sqlite_run_add,
	.run_update = sqlite_run_update,
	.story_path = sqlite_story_path,
	.story_forget = sqlite_story_forget,
	.story_id_by_path = sqlite_story_id_by_path,
	.history_has_git = sqlite_history_has_git,
	.history_credits = sqlite_history_credits,
	.history_recredit = sqlite_history_recredit,
	.history_of = sqlite_history_of,
	.check = sqlite_check,
	.runs_last = sqlite_runs_last,
	.runs_failing = sqlite_runs_failing,
	.conflicts_list = sqlite_conflicts_list,
	.conflicts_count = sqlite_conflicts_count,
	.conflicts_resolve = sqlite_conflicts_resolve,
	.events_unconsumed = sqlite_events_unconsumed,
	.story_counts = sqlite_story_counts,
	.rows_pending = sqlite_rows_pending,
	.prune = sqlite_prune,
	.conflict_get = sqlite_conflict_get,
	.tree_claim = sqlite_tree_claim,
	.tree_other = sqlite_tree_other,
	.tree_release = sqlite_tree_release,
	.trees_list = sqlite_trees_list,
};
