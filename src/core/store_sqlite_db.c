/* store_sqlite_db.c: the connection's helpers, the lowest layer: error
 * mapping, the statement cache, stepping and row loops, bind and column
 * helpers, the busy handler, the digest, ISO times. */
#include "store_sqlite.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fsx.h"
#include "mem.h"
#include "strmap.h"

/* The error of the last call, with what to do where that is clear. A writer
 * that held the database past the wait is not a failure but "try later":
 * store_busy tells the run so. */
bool store_dberr(struct store *s, struct err *e)
{
	const char *hint = NULL;
	int code = sqlite3_errcode(s->db);

	/* a constraint (RAISE(ABORT) in a trigger too), a value too big */
	s->refused = code == SQLITE_CONSTRAINT || code == SQLITE_TOOBIG ||
		     code == SQLITE_MISMATCH;
	switch (code) {
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

	if (!store_queue_flush(s, e))
		return NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_dberr(s, e);
		return NULL;
	}
	return st;
}

bool store_exec(struct store *s, const char *sql, struct err *e)
{
	if (!store_queue_flush(s, e))
		return false;
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(s, e);
	return true;
}

/* The SQL of statement id, from the table of the file that runs it. */
static const char *stmt_text(const struct store *s, enum stmt_id id)
{
	const char *sql = NULL;

	for (size_t i = 0; !sql && s->stmt_sql[i]; i++)
		sql = s->stmt_sql[i][id];
	assert(sql);
	return sql;
}

/* Which queues' tables the SQL of id names (a bit a queue), its own
 * statements aside. */
static unsigned queues_touched(struct store *s, enum stmt_id id)
{
	unsigned bits = 0;

	if (!s->touches[id]) {
		for (int i = 0; i < STORE_QUEUES; i++) {
			const struct store_queue *q = &s->queue[i];

			if (q->table && id != q->one && id != q->many &&
			    strstr(stmt_text(s, id), q->table))
				bits |= 1u << i;
		}
		s->touches[id] = (unsigned char)(1 + bits);
	}
	return s->touches[id] - 1u;
}

static bool queue_flush_one(struct store *s, struct store_queue *q,
			    struct err *e);

sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id, struct err *e)
{
	unsigned bits = queues_touched(s, id);

	for (int i = 0; bits && i < STORE_QUEUES; i++)
		if ((bits & (1u << i)) && s->queue[i].n &&
		    !queue_flush_one(s, &s->queue[i], e))
			return NULL;
	if (!s->stmt[id] &&
	    sqlite3_prepare_v3(s->db, stmt_text(s, id), -1,
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

/* ---- rows queued ---- */

static void queue_clear(struct store_queue *q)
{
	buf_reset(&q->texts);
	q->n = 0;
}

/* Binds row r of q from parameter first on. */
static void queue_bind(sqlite3_stmt *st, const struct store_queue *q, int r,
		       int first)
{
	for (int c = 0; c < q->ncols; c++) {
		const struct store_val *v = &q->v[r][c];

		if (!v->is_int)
			store_bind_text(st, first + c,
					v->text ? q->texts.data + q->off[r][c]
						: NULL);
		else
			sqlite3_bind_int64(st, first + c, v->num);
	}
}

/* Inserts q's rows: STORE_QUEUE_ROWS of them with its many-rows
 * statement, fewer one by one (the last of a load). */
static bool queue_flush_one(struct store *s, struct store_queue *q,
			    struct err *e)
{
	bool full = q->n == STORE_QUEUE_ROWS;
	sqlite3_stmt *st = store_stmt(s, full ? q->many : q->one, e);
	bool ok = st != NULL;

	if (full && ok) {
		for (int r = 0; r < q->n; r++)
			queue_bind(st, q, r, 1 + r * q->ncols);
		ok = store_exec_stmt(s, st, e);
	}
	for (int r = 0; !full && ok && r < q->n; r++) {
		queue_bind(st, q, r, 1);
		ok = store_exec_stmt(s, st, e);
	}
	queue_clear(q);
	return ok;
}

bool store_queue_flush(struct store *s, struct err *e)
{
	for (int i = 0; i < STORE_QUEUES; i++)
		if (s->queue[i].n && !queue_flush_one(s, &s->queue[i], e))
			return false;
	return true;
}

void store_queue_drop(struct store *s)
{
	for (int i = 0; i < STORE_QUEUES; i++)
		queue_clear(&s->queue[i]);
}

/* The queue of the statement one, registered on its first row. */
static struct store_queue *queue_of(struct store *s, enum stmt_id one,
				    enum stmt_id many, int ncols)
{
	const char *sql, *name;
	int i;

	for (i = 0; i < STORE_QUEUES && s->queue[i].table; i++)
		if (s->queue[i].one == one)
			return &s->queue[i];
	assert(i < STORE_QUEUES && ncols <= STORE_QUEUE_COLS);
	sql = stmt_text(s, one);
	name = strstr(sql, " INTO ");
	assert(strncmp(sql, "INSERT ", 7) == 0 && name);
	name += 6;
	s->queue[i].table = xstrndup(name, strcspn(name, "( "));
	s->queue[i].one = one;
	s->queue[i].many = many;
	s->queue[i].ncols = ncols;
	/* which statements name a table is known again */
	memset(s->touches, 0, sizeof(s->touches));
	return &s->queue[i];
}

bool store_queue_row(struct store *s, enum stmt_id one, enum stmt_id many,
		     const struct store_val *v, int ncols, struct err *e)
{
	struct store_queue *q = queue_of(s, one, many, ncols);

	for (int c = 0; c < ncols; c++) {
		q->v[q->n][c] = v[c];
		q->off[q->n][c] = q->texts.len;
		if (v[c].text)
			buf_add(&q->texts, v[c].text, strlen(v[c].text) + 1);
	}
	if (++q->n < STORE_QUEUE_ROWS)
		return true;
	return queue_flush_one(s, q, e);
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

void sqlite_set_busy_timeout(struct store *s, int ms)
{
	s->busy_ms = ms;
	sqlite3_busy_handler(s->db, on_busy, s);
}

bool sqlite_refused(const struct store *s)
{
	return s->refused;
}

bool sqlite_busy(const struct store *s)
{
	return s && s->busy;
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
