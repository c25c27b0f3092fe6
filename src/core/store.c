#include "store_impl.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fsx.h"
#include "mem.h"
#include "strmap.h"

#define DEFAULT_BUSY_MS 5000

/* The error of the last call, with what to do where that is clear. A writer
 * that held the database past the wait is not a failure but "try later":
 * store_busy tells the run so. */
bool store_dberr(struct store *s, struct err *e)
{
	const char *hint = NULL;

	switch (sqlite3_errcode(s->db)) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		s->busy = true;
		return err_set(e,
			       "%s: another writer held the database for "
			       "%.1f s; try later (sync --wait, or busy_wait "
			       "in the configuration, waits longer)",
			       s->path, s->waited_ns / 1e9);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		hint = "the database is damaged: restore it from a backup, "
		       "or move it away and run 'storysync init' and "
		       "'storysync sync' to rebuild it from the files (its "
		       "history is lost)";
		break;
	case SQLITE_FULL:
		hint = "the disk is full: free space and run again; nothing "
		       "was committed";
		break;
	case SQLITE_IOERR:
		hint = "the disk failed a read or write: check it (dmesg), "
		       "then run again; nothing was committed";
		break;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		hint = "this user must be able to write the database file "
		       "and its directory";
		break;
	}
	if (hint)
		return err_set(e, "%s: %s (%s)", s->path, sqlite3_errmsg(s->db),
			       hint);
	return err_set(e, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

/* A one-shot statement, not cached: the reports run once a command, and
 * so do retention and the backlogs check; history backfill runs its few
 * hundred times, once. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, struct err *e)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_dberr(s, e);
		return NULL;
	}
	return st;
}

bool store_exec(struct store *s, const char *sql, struct err *e)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(s, e);
	return true;
}

/* The SQL of statement id, from the table of the file that runs it. */
static const char *stmt_text(enum stmt_id id)
{
	static const char *const *const tables[] = {
		store_state_sql, store_story_sql, store_record_sql,
		store_config_sql};
	const char *sql = NULL;

	for (size_t i = 0; !sql && i < sizeof(tables) / sizeof(*tables); i++)
		sql = tables[i][id];
	assert(sql);
	return sql;
}

sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id, struct err *e)
{
	if (!s->stmt[id] &&
	    sqlite3_prepare_v3(s->db, stmt_text(id), -1,
			       SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
			       NULL) != SQLITE_OK) {
		store_dberr(s, e);
		return NULL;
	}
	return s->stmt[id];
}

void store_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int store_step(struct store *s, sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	store_dberr(s, e);
	store_reset(st);
	return -1;
}

bool store_exec_stmt(struct store *s, sqlite3_stmt *st, struct err *e)
{
	int rc = store_step(s, st, e);

	if (rc < 0)
		return false;
	store_reset(st);
	return true;
}

bool store_rows_each(struct store *s, sqlite3_stmt *st, row_fn fn, void *ctx,
		     struct err *e)
{
	int rc;

	while ((rc = store_step(s, st, e)) == SQLITE_ROW)
		if (!fn(ctx, st))
			break;
	if (rc < 0)
		return false;
	store_reset(st);
	return true;
}

struct collect {
	struct row_array *a;
	row_read_fn read;
	void *ctx;
};

static bool collect_row(void *ctx, sqlite3_stmt *st)
{
	struct collect *c = ctx;
	struct row_array *a = c->a;

	a->v = xgrow(a->v, &a->cap, a->n + 1, a->size);
	c->read((char *)a->v + a->n++ * a->size, st, c->ctx);
	return true;
}

bool store_rows_collect(struct store *s, sqlite3_stmt *st, struct row_array *a,
			row_read_fn read, void *ctx, struct err *e)
{
	struct collect c = {a, read, ctx};

	return store_rows_each(s, st, collect_row, &c, e);
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

char *store_col_text(sqlite3_stmt *st, int i)
{
	return xstrdup((const char *)sqlite3_column_text(st, i));
}

/* Writes v as n decimal digits at p; returns the end. */
static char *digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* The proleptic Gregorian calendar from days since 1970-01-01 (Howard
 * Hinnant's days_from_civil, inverted): no time zone, no lock, unlike
 * gmtime_r, which a first load called twice a story. */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

void store_iso_time(char out[64], int64_t ns, bool ms)
{
	int64_t s, days, rem;
	unsigned m, d;
	int y;
	char *p = out;

	if (ns <= 0)
		ns = fsx_now_ns();
	s = ns / 1000000000;
	days = s / 86400;
	rem = s % 86400;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) { /* not a time a run records */
		snprintf(out, 64, "%lld", (long long)s);
		return;
	}
	p = digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, (unsigned)(rem / 3600), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(rem / 60 % 60), 2);
	*p++ = ':';
	p = digits(p, (unsigned)(rem % 60), 2);
	if (ms) {
		*p++ = '.';
		p = digits(p, (unsigned)(ns % 1000000000 / 1000000), 3);
	}
	*p++ = 'Z';
	*p = '\0';
}

static bool set_wal(struct store *s, struct err *e)
{
	return store_exec(
		s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", e);
}

/* SQLite's busy handler: ours, so that the message can tell how long the
 * run really waited. Sleeps 1, 2, 4 ... up to 50 ms between tries. */
static int on_busy(void *ctx, int count)
{
	struct store *s = ctx;
	int64_t now = fsx_now_ns(), left;
	struct timespec ts = {0};

	if (count == 0)
		s->busy_since = now;
	s->waited_ns = now - s->busy_since;
	left = s->busy_ms < 0 ? INT64_MAX
			      : (int64_t)s->busy_ms * 1000000 - s->waited_ns;
	if (left <= 0)
		return 0;
	ts.tv_nsec = (count < 6 ? 1L << count : 50) * 1000000L;
	if (ts.tv_nsec > left)
		ts.tv_nsec = (long)left;
	nanosleep(&ts, NULL);
	s->waited_ns = fsx_now_ns() - s->busy_since;
	return 1;
}

void store_set_busy_timeout(struct store *s, int ms)
{
	s->busy_ms = ms;
	sqlite3_busy_handler(s->db, on_busy, s);
}

bool store_busy(const struct store *s)
{
	return s && s->busy;
}

int64_t store_digest(const char *const *v, int n)
{
	uint64_t h = (uint64_t)n;

	for (int i = 0; i < n; i++) {
		/* NULL is not "": an absent field is a change from an empty
		 * one */
		h = (h ^ (v[i] ? strmap_hash(v[i]) : 0x6a09e667f3bcc909ULL)) *
		    0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return (int64_t)h;
}

int64_t store_story_digest(const struct story *s, const char *path)
{
	const char *v[SF_COUNT + 1];

	memcpy(v, s->v, SF_PARENT * sizeof(*v));
	v[SF_PARENT] = path;
	v[SF_PARENT + 1] = s->v[SF_PARENT];
	return store_digest(v, SF_PARENT + 1 + (s->v[SF_PARENT] != NULL));
}

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

/* Each connection is used by one thread only (the scan's threads never
 * touch the database), so neither the connection's mutex nor SQLite's
 * memory statistics, a global mutex taken on every allocation, are
 * needed: the first load makes millions of allocations. */
#define OPEN_FLAGS SQLITE_OPEN_NOMUTEX

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
 * the WAL files (see store_open_as), and when they are gone all that is
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

/* store_open_as, creating the database when create is set. */
static bool open_as(struct store **out, const char *path, int busy_ms,
		    bool read_only, bool create, bool *busy, struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int persist = 1;

	library_init();
	s->path = xstrdup(path);
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
	store_set_busy_timeout(s, busy_ms);
	/* direct only: no trigger or view may call it, as the API's
	 * connections do not have it */
	if (sqlite3_create_function(s->db, "storysync_digest", -1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC |
					    SQLITE_DIRECTONLY,
				    NULL, digest_fn, NULL, NULL) != SQLITE_OK) {
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
	 * memory: as temp files they made a 100k-story import quadratic. */
	if (!store_exec(s, "PRAGMA temp_store = MEMORY", e) || !set_wal(s, e) ||
	    !store_schema_migrate(s, e))
		goto fail;
	*out = s;
	return true;
fail:
	if (busy)
		*busy = s->busy;
	store_close(s);
	*out = NULL;
	return false;
}

bool store_open_as(struct store **out, const char *path, int busy_ms,
		   bool read_only, bool *busy, struct err *e)
{
	return open_as(out, path, busy_ms, read_only, false, busy, e);
}

bool store_open(struct store **out, const char *path, struct err *e)
{
	return open_as(out, path, DEFAULT_BUSY_MS, false, false, NULL, e);
}

bool store_create(struct store **out, const char *path, struct err *e)
{
	return open_as(out, path, DEFAULT_BUSY_MS, false, true, NULL, e);
}

bool store_begin_read(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN", e);
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

bool store_begin(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN IMMEDIATE", e);
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
	return ok;
}

bool store_commit(struct store *s, struct err *e)
{
	if (s->untracked && !store_triggers_make(s, e))
		return false;
	s->untracked = false;
	if (s->writer_rev &&
	    !store_exec(s, "DELETE FROM sync_meta WHERE key = 'writer'", e))
		return false;
	s->writer_rev = 0;
	return store_exec(s, "COMMIT", e);
}

void store_rollback(struct store *s)
{
	s->untracked = false;
	s->writer_rev = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

bool store_bulk(struct store *s, bool on, struct err *e)
{
	int rc;

	if (!sqlite3_get_autocommit(s->db))
		return err_set(e,
			       "%s: bulk mode cannot change inside a "
			       "transaction",
			       s->path);
	s->first_load = on;
	if (!on)
		return set_wal(s, e);
	/* A rollback journal of an empty database holds next to nothing:
	 * the first load writes each page once instead of twice (WAL, then
	 * checkpoint), and a run killed midway still rolls back cleanly.
	 * Leaving WAL needs the only connection; with the API connected the
	 * load goes on in WAL, only slower. */
	rc = sqlite3_exec(s->db, "PRAGMA journal_mode = DELETE", NULL, NULL,
			  NULL);
	if (rc == SQLITE_BUSY)
		return true;
	if (rc != SQLITE_OK)
		return store_dberr(s, e);
	return true;
}

/* Column i's text holding U+0000 (char(0) from the API), which no C
 * string holds: each one as U+FFFD, so that what follows it is kept in
 * the conflict that refuses the row (story.nul marks it). */
static char *col_text_nul(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	struct buf b = BUF_INIT;

	for (size_t k = 0; k < n; k++) {
		if (v[k])
			buf_putc(&b, v[k]);
		else
			buf_puts(&b, "\xEF\xBF\xBD");
	}
	return buf_detach(&b);
}

void store_col_story(sqlite3_stmt *st, struct story *out)
{
	out->nul = 0;
	for (int f = 0; f < SF_COUNT; f++) {
		out->v[f] = store_col_text(st, f);
		if (out->v[f] &&
		    strlen(out->v[f]) != (size_t)sqlite3_column_bytes(st, f)) {
			free(out->v[f]);
			out->v[f] = col_text_nul(st, f);
			out->nul |= 1u << f;
		}
	}
}

int store_lookup(struct store *s, enum stmt_id id, const char *key,
		 sqlite3_stmt **st, struct err *e)
{
	*st = store_stmt(s, id, e);
	if (!*st)
		return -1;
	store_bind_text(*st, 1, key);
	return store_step(s, *st, e);
}

bool store_by_id(struct store *s, enum stmt_id id, const char *key,
		 struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, id, e);

	if (!st)
		return false;
	store_bind_text(st, 1, key);
	return store_exec_stmt(s, st, e);
}
