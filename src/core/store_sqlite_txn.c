/* store_sqlite_txn.c: transactions, the writer mark that tells
 * storysync's own writes from the API's, and bulk mode. */
#include "store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "mem.h"

/* This file's cached statements (store_stmt prepares them): a story's
 * unit is two statements a story, parsed once a run, not once a story. */
const char *const store_txn_sql[ST_COUNT] = {
	[ST_UNIT_BEGIN] = "SAVEPOINT story",
	[ST_UNIT_KEEP] = "RELEASE story",
};

/* synchronous first: a new database's switch (its header written through
 * a rollback journal) then syncs that journal once, not twice as FULL,
 * SQLite's default, does */
bool store_wal(struct store *s, struct err *e)
{
	return store_exec(
		s, "PRAGMA synchronous = NORMAL; PRAGMA journal_mode = WAL", e);
}

/* The load's commit deleted its journal (DELETE, synchronous NORMAL: the
 * unlink not synced; SQLite syncs the directory only at EXTRA). Until the
 * directory is synced, a power loss can bring the journal back, hot, and
 * the next open plays it back: the load undone, with whatever was
 * written in WAL after the switch (the API's edits, checkpointed into the
 * file, or still in the -wal, then applied over the pages of before). The
 * switch through a journal file synced the directory (a new journal's
 * first sync does), the one by way of MEMORY does not: so it is synced
 * here, before the header says WAL. Not skipped in the tests
 * (STORYSYNC_TEST_NOSYNC): it is the database's barrier, as SQLite's
 * own. */
static bool journal_gone(struct store *s, struct err *e)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	const char *slash = db ? strrchr(db, '/') : NULL;
	char *dir;
	int fd;
	bool ok;

	if (!slash)
		return true; /* in memory */
	dir = xstrndup(db, slash == db ? 1 : (size_t)(slash - db));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ok = fd >= 0 && fsync(fd) == 0;
	if (!ok)
		err_set(e, "%s: sync the load's journal's removal: %s", dir,
			strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
	return ok;
}

/* Back to WAL after a first load in a rollback journal, with one barrier,
 * not three. The switch rewrites the header's first bytes (the format
 * versions, the change counter) in a transaction of its own; from
 * journal_mode MEMORY SQLite makes it with no journal (OFF), so that no
 * journal file is made, synced, its directory synced and deleted, and the
 * database is synced once. Those bytes lie in the file's first sector and
 * the rest of the page is written back as it was: a crash leaves the old
 * header (a rollback journal: the next run switches again) or the new
 * one. synchronous stays NORMAL, for a journal another connection left
 * hot, which the switch plays back first. */
static bool wal_after_load(struct store *s, struct err *e)
{
	if (!journal_gone(s, e) ||
	    !store_exec(s, "PRAGMA journal_mode = MEMORY", e))
		return false;
	if (store_exec(s, "PRAGMA journal_mode = WAL", e))
		return true;
	/* never left in MEMORY: a write a crash cut short would leave
	 * the database corrupt */
	sqlite3_exec(s->db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	return false;
}

bool sqlite_begin_read(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN", e);
}

bool sqlite_begin(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN IMMEDIATE", e);
}

/* *none: the query of a NOT EXISTS, sql, is true. */
static bool none_of(struct store *s, const char *sql, bool *none, struct err *e)
{
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
		  sqlite3_step(st) == SQLITE_ROW;

	if (ok)
		*none = sqlite3_column_int(st, 0) != 0;
	else
		store_dberr(s, e);
	sqlite3_finalize(st);
	return ok;
}

/* Marks the transaction as storysync's before its first story write: the
 * triggers let such writes be (storysync sets rev and updated itself, to
 * one new clock value for the whole run), which saves a first load a fifth
 * of its time. */
bool store_writer_on(struct store *s, struct err *e)
{
	static const char sql[] =
		"UPDATE rev_clock SET value = value + 1 WHERE id = 1;"
		" INSERT INTO sync_meta(key, value) SELECT 'writer', value"
		" FROM rev_clock WHERE id = 1";
	sqlite3_stmt *st = NULL;
	bool ok;

	if (s->writer_rev)
		return true;
	/* the mark must go with the writes: outside a transaction it would
	 * be committed on its own and hide the API's writes for good */
	if (sqlite3_get_autocommit(s->db))
		return err_set(e, "%s: story writes need a transaction",
			       s->path);
	ok = store_exec(s, sql, e) &&
	     sqlite3_prepare_v2(s->db,
				"SELECT value, (SELECT coalesce(max(id), 0)"
				" FROM status_history), (SELECT"
				" coalesce(max(seq), 0) FROM sync_events)"
				" FROM rev_clock",
				-1, &st, NULL) == SQLITE_OK &&
	     sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		s->writer_rev = sqlite3_column_int64(st, 0);
		s->history_floor = sqlite3_column_int64(st, 1);
		s->events_floor = sqlite3_column_int64(st, 2);
	} else
		store_dberr(s, e);
	sqlite3_finalize(st);
	/* Every trigger is a no-op for storysync's own writes (their WHEN
	 * skips a transaction holding the writer row), but SQLite runs a
	 * trigger's program for each row to find that out: a quarter of a
	 * first load. So a first load drops them, inside its transaction,
	 * and makes them again before it commits: no other connection sees
	 * the schema without them, and a run that fails rolls back to it. */
	if (ok && s->first_load) {
		ok = store_triggers_drop(s, e);
		s->untracked = ok;
	}
	/* With storysync's triggers gone, none left on stories or sync_state
	 * (the API may have its own, which may refuse a row by name): their
	 * rows may be queued, as a refusal cannot be a later story's. */
	if (ok && s->first_load)
		ok = none_of(s,
			     "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master"
			     " WHERE type = 'trigger' AND lower(tbl_name)"
			     " IN ('stories', 'sync_state'))",
			     &s->rows_queued, e);
	/* Nothing adds a base without the triggers: with none there, a
	 * story's sync_state row needs no delete of its base (a statement
	 * a story, on an empty table). */
	if (ok && s->first_load)
		ok = none_of(s,
			     "SELECT NOT EXISTS (SELECT 1 FROM sync_base"
			     " WHERE tree = " TREE ")",
			     &s->baseless, e);
	/* The secondary indexes too (but stories_rev, see load_indexes),
	 * when no tree has a story yet (else making them again would sort
	 * the other trees' rows as well): an index made after the load is
	 * one sort, not an insert a story into a b-tree. The same
	 * transaction: other connections see the schema with them, a failed
	 * run rolls back to it. */
	if (ok && s->first_load) {
		bool none = false;

		ok = none_of(s, "SELECT NOT EXISTS (SELECT 1 FROM stories)",
			     &none, e) &&
		     (!none || store_indexes_drop(s, e));
		s->unindexed = ok && none;
	}
	return ok;
}

bool sqlite_commit(struct store *s, struct err *e)
{
	if (!store_queue_flush(s, e))
		return false;
	/* the disk writes out what the load left while the indexes are
	 * made, instead of after them at the commit's barrier */
	if (s->unindexed)
		fsx_writeback_begin(s->path);
	if (s->unindexed && !store_indexes_make(s, e))
		return false;
	s->unindexed = false;
	/* the triggers were off: sync_state changed without them */
	if (s->untracked &&
	    (!store_triggers_make(s, e) || !store_generation_renew(s, e)))
		return false;
	s->untracked = false;
	s->baseless = false;
	s->rows_queued = false;
	if (s->writer_rev &&
	    !store_exec(s, "DELETE FROM sync_meta WHERE key = 'writer'", e))
		return false;
	s->writer_rev = 0;
	return store_exec(s, "COMMIT", e);
}

void sqlite_rollback(struct store *s)
{
	store_queue_drop(s);
	s->untracked = false;
	s->unindexed = false;
	s->baseless = false;
	s->rows_queued = false;
	s->writer_rev = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A story's writes as a unit: a savepoint, so that one a constraint or
 * a trigger of the API's refuses is undone whole (SQLite undoes only the
 * failed statement). A writer mark set inside it goes with it. */
static bool unit_exec(struct store *s, enum stmt_id id, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, id, e);

	return st && store_exec_stmt(s, st, e);
}

bool sqlite_unit_begin(struct store *s, struct err *e)
{
	if (s->first_load)
		return true;
	s->unit_writer = s->writer_rev != 0;
	return unit_exec(s, ST_UNIT_BEGIN, e);
}

bool sqlite_unit_end(struct store *s, bool keep, struct err *e)
{
	if (s->first_load)
		return true;
	if (keep)
		return unit_exec(s, ST_UNIT_KEEP, e);
	if (!s->unit_writer)
		s->writer_rev = 0;
	return store_exec(s, "ROLLBACK TO story; RELEASE story", e);
}

bool sqlite_bulk(struct store *s, bool on, struct err *e)
{
	int rc;

	if (!sqlite3_get_autocommit(s->db))
		return err_set(e,
			       "%s: bulk mode cannot change inside a "
			       "transaction",
			       s->path);
	s->first_load = on;
	if (!on && s->left_wal) {
		s->left_wal = false;
		return wal_after_load(s, e);
	}
	if (!on)
		return store_wal(s, e);
	/* A rollback journal of an empty database holds next to nothing:
	 * the first load writes each page once instead of twice (WAL, then
	 * checkpoint), and a run killed midway still rolls back cleanly.
	 * Leaving WAL needs the only connection; with the API connected the
	 * load goes on in WAL, only slower. By way of MEMORY, as back (see
	 * wal_after_load): the WAL checkpointed as ever, then the header's
	 * bytes written with no journal file, one barrier instead of three;
	 * the load's own journal is on disk (DELETE), a change of this
	 * connection's only. */
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode = MEMORY", NULL, NULL,
			  NULL);
	if (rc == SQLITE_BUSY)
		return true;
	if (rc != SQLITE_OK)
		return store_dberr(s, e);
	if (!store_exec(s, "PRAGMA journal_mode = DELETE", e)) {
		store_wal(s, NULL);
		return false;
	}
	s->left_wal = true;
	return true;
}
