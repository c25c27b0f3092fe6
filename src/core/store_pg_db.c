/* store_pg_db.c: the connection's helpers: queries, a first load's
 * rows sent by COPY, and what their errors mean. */
#include "store_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 55P03 lock_not_available (lock_timeout), 40P01 deadlock_detected,
 * 40001 serialization_failure: another writer, not a failure. */
static bool busy_state(const char *st)
{
	return st && (strcmp(st, "55P03") == 0 || strcmp(st, "40P01") == 0 ||
		      strcmp(st, "40001") == 0);
}

/* Whether r is a success; else e set from it (NULL e: not), s->busy set
 * for the busy states, and r freed. */
static bool result_ok(struct store *s, PGresult *r, struct err *e)
{
	ExecStatusType st = PQresultStatus(r);
	const char *state, *msg;
	size_t len;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return true;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg)
		msg = PQerrorMessage(s->conn);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		len--;
	if (busy_state(state))
		s->busy = true;
	/* 22 data exception, 23 integrity constraint violation, P0001 a
	 * trigger's RAISE EXCEPTION */
	s->refused = state && (strncmp(state, "22", 2) == 0 ||
			       strncmp(state, "23", 2) == 0 ||
			       strcmp(state, "P0001") == 0);
	if (e)
		err_set(e, "%s: %.*s%s", s->shown, (int)len, msg,
			busy_state(state)
				? " (another writer held the database: "
				  "try later)"
				: "");
	PQclear(r);
	return false;
}

/* ---- the connection: nothing waits on the server unbounded ----
 *
 * libpq's blocking calls wait for the server as long as it takes: a
 * server that stops answering, a send that failed halfway through a
 * message (the server then waits for its rest, and libpq for a reply),
 * a peer gone without a reset, and the run would hold its lock for
 * good. So the connection is non-blocking, and every wait on its socket
 * is a poll bounded by how long the server may be silent: the writer
 * wait (which the server bounds itself, lock_timeout) and server_wait
 * beyond it; forever only when the run waits forever (--wait). Past it
 * the connection is given up: the server ends the session, its
 * transaction and its run lock with it, when it reads again. */

/* The connection given up: why, in e, from now on for every call. */
static bool give_up(struct store *s, struct err *e, const char *why)
{
	s->dead = true;
	return err_set(e, "%s: %s", s->shown, why);
}

static bool dead(struct store *s, struct err *e)
{
	return err_set(e,
		       "%s: the connection was given up earlier in this "
		       "run",
		       s->shown);
}

/* libpq's message, its first line, for a connection lost. */
static bool lost(struct store *s, struct err *e)
{
	const char *msg = PQerrorMessage(s->conn);
	char why[256];

	snprintf(why, sizeof(why), "connection lost: %.*s",
		 (int)strcspn(msg, "\n"), msg);
	return give_up(s, e, why);
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until the socket can be read (or written, when out): false, e
 * set, the connection given up, when the server was silent past the
 * bound. */
static bool ready(struct store *s, bool out, struct err *e)
{
	struct pollfd p = {.fd = PQsocket(s->conn),
			   .events = (short)(POLLIN | (out ? POLLOUT : 0))};
	int64_t bound =
		s->busy_ms < 0 ? -1 : (int64_t)s->busy_ms + s->server_ms;
	int64_t end = now_ms() + bound;
	char why[256];
	int rc;

	if (p.fd < 0)
		return lost(s, e);
	for (;;) {
		int64_t left = bound < 0 ? -1 : end - now_ms();

		rc = poll(&p, 1, left < 0 && bound >= 0 ? 0 : (int)left);
		if (rc > 0)
			return true;
		if (rc == 0)
			break;
		if (errno != EINTR)
			return give_up(s, e, strerror(errno));
	}
	snprintf(why, sizeof(why),
		 "the server did not answer for %.1f s (busy_wait, then "
		 "server_wait): the run gives up, and the next goes on from "
		 "what the server committed",
		 (double)bound / 1000);
	return give_up(s, e, why);
}

/* Everything libpq keeps to send, sent. */
static bool flush_all(struct store *s, struct err *e)
{
	int rc;

	while ((rc = PQflush(s->conn)) == 1)
		if (!ready(s, true, e) || !PQconsumeInput(s->conn))
			return !s->dead && lost(s, e);
	return rc == 0 || lost(s, e);
}

/* The next result of what was sent (*r NULL: there is no more). */
static bool next_result(struct store *s, PGresult **r, struct err *e)
{
	*r = NULL;
	if (s->dead)
		return dead(s, e);
	if (!flush_all(s, e))
		return false;
	while (PQisBusy(s->conn))
		if (!ready(s, false, e) || !PQconsumeInput(s->conn))
			return !s->dead && lost(s, e);
	*r = PQgetResult(s->conn);
	return true;
}

bool pg_round_trip(struct store *s, const char *sql, int n,
		   const char *const *params, PGresult **r, struct err *e)
{
	PGresult *one;

	*r = NULL;
	if (s->dead)
		return dead(s, e);
	if (!(n ? PQsendQueryParams(s->conn, sql, n, NULL, params, NULL, NULL,
				    0)
		: PQsendQuery(s->conn, sql)))
		return lost(s, e);
	/* the last result, or the first error's (the server runs no
	 * statement after one that failed) */
	while (next_result(s, &one, e)) {
		ExecStatusType st;

		if (!one)
			return true;
		st = PQresultStatus(one);
		if (st == PGRES_COPY_IN) { /* not expected */
			PQputCopyEnd(s->conn, "storysync: no rows");
			PQclear(one);
			continue;
		}
		if (*r && PQresultStatus(*r) != PGRES_TUPLES_OK &&
		    PQresultStatus(*r) != PGRES_COMMAND_OK) {
			PQclear(one);
			continue;
		}
		PQclear(*r);
		*r = one;
	}
	PQclear(*r);
	*r = NULL;
	return false;
}

/* libpq's defaults, where the URI does not set them (a service's file
 * may: then none): a connection attempt, and a peer gone without a
 * reset (the keepalives, and data unacknowledged), are found within
 * about the bound. In the order PQconnectdbParams reads them, before
 * the URI (dbname, expanded), whose own values win. */
bool pg_connect(struct store *s, const char *database, struct err *e)
{
	char connect[16], user_timeout[16];
	const char *keys[16], *values[16];
	int n = 0, secs = (s->server_ms + 999) / 1000;
	PQconninfoOption *opts = PQconninfoParse(database, NULL);
	bool service = getenv("PGSERVICE") != NULL;
	const char *msg;
	size_t len;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "service") == 0 && o->val && *o->val)
			service = true;
	PQconninfoFree(opts);
	keys[n] = "fallback_application_name", values[n++] = "storysync";
	if (!service) {
		snprintf(connect, sizeof(connect), "%d", secs < 2 ? 2 : secs);
		snprintf(user_timeout, sizeof(user_timeout), "%d",
			 s->server_ms);
		if (!getenv("PGCONNECT_TIMEOUT"))
			keys[n] = "connect_timeout", values[n++] = connect;
		keys[n] = "keepalives", values[n++] = "1";
		keys[n] = "keepalives_idle", values[n++] = "30";
		keys[n] = "keepalives_interval", values[n++] = "10";
		keys[n] = "keepalives_count", values[n++] = "3";
		keys[n] = "tcp_user_timeout", values[n++] = user_timeout;
	}
	keys[n] = "dbname", values[n++] = database;
	keys[n] = NULL, values[n] = NULL;
	s->conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(s->conn);
		len = strlen(msg);
		while (len && msg[len - 1] == '\n')
			len--;
		/* libpq's message names the host, never the password */
		return err_set(e, "%s: cannot connect: %.*s", s->shown,
			       (int)len, msg);
	}
	if (PQsetnonblocking(s->conn, 1) != 0)
		return lost(s, e);
	return true;
}

/* Runs sql (with the tree as $1 when tree is not NULL) without writing
 * what pg_send kept first. */
static bool exec_now(struct store *s, const char *sql, const char *tree,
		     struct err *e)
{
	PGresult *r;

	if (!pg_round_trip(s, sql, tree ? 1 : 0, tree ? &tree : NULL, &r, e) ||
	    !result_ok(s, r, e))
		return false;
	PQclear(r);
	return true;
}

/* The temporary table of b's rows: ord, then a text column for each
 * parameter after the tree; dropped at the transaction's end. */
static bool table_make(struct store *s, const struct pg_bulk *b, int n,
		       struct err *e)
{
	struct buf sql = BUF_INIT;
	bool ok;

	buf_printf(&sql, "CREATE TEMPORARY TABLE %s(ord bigint", b->table);
	for (int i = 2; i <= n; i++)
		buf_printf(&sql, ", p%d text", i);
	buf_puts(&sql, ") ON COMMIT DROP");
	ok = exec_now(s, sql.data, NULL, e);
	buf_finish(&sql);
	return ok;
}

/* sql with each $1 (not $10...) replaced by lit. */
static void put_with_tree(struct buf *b, const char *sql, const char *lit)
{
	for (const char *p; (p = strstr(sql, "$1"));) {
		buf_add(b, sql, (size_t)(p - sql));
		if (p[2] >= '0' && p[2] <= '9')
			buf_puts(b, "$1");
		else
			buf_puts(b, lit);
		sql = p + 2;
	}
	buf_puts(b, sql);
}

/* The results of what the last drain sent and did not wait for; false,
 * e set from the first failure (NULL e: not), when any failed. */
static bool collect(struct store *s, struct err *e)
{
	PGresult *r;
	bool ok = true;

	if (!s->in_flight)
		return true;
	s->in_flight = false;
	for (;;) {
		if (!next_result(s, &r, ok ? e : NULL))
			return false;
		if (!r)
			break;
		if (PQresultStatus(r) == PGRES_COPY_IN) { /* not expected */
			PQputCopyEnd(s->conn, "storysync: no rows");
			PQclear(r);
			continue;
		}
		if (result_ok(s, r, ok ? e : NULL))
			PQclear(r);
		else
			ok = false;
	}
	return ok;
}

/* One string for the simple query protocol: a COPY to each table with
 * rows, then each table's statement, then one TRUNCATE of them all. */
static bool drain_sql(struct store *s, struct buf *sql, struct err *e)
{
	char *lit = PQescapeLiteral(s->conn, store_base_tree(s),
				    strlen(store_base_tree(s)));
	const char *sep = "TRUNCATE ";

	if (!lit)
		return err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
	for (int i = 0; i < s->nbulk; i++)
		if (s->bulk[i].n)
			buf_printf(sql, "COPY %s FROM STDIN;",
				   s->bulk[i].to->copy ? s->bulk[i].to->copy
						       : s->bulk[i].to->table);
	for (int i = 0; i < s->nbulk; i++)
		if (s->bulk[i].n && !s->bulk[i].to->copy) {
			put_with_tree(sql, s->bulk[i].to->insert, lit);
			buf_putc(sql, ';');
		}
	for (int i = 0; i < s->nbulk; i++)
		if (s->bulk[i].n && !s->bulk[i].to->copy) {
			buf_printf(sql, "%s%s", sep, s->bulk[i].to->table);
			sep = ", ";
		}
	PQfreemem(lit);
	return true;
}

/* Sends every table's rows and their statements as one query, and
 * waits only for the server to take each COPY: the statements, most of
 * a first load's server time, run while this process parses the next
 * rows; their results are the next query's to collect. */
static bool send_all(struct store *s, struct err *e)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int i = 0;
	bool ok = drain_sql(s, &sql, e);

	if (ok && s->dead)
		ok = dead(s, e);
	else if (ok && !PQsendQuery(s->conn, sql.data))
		ok = lost(s, e);
	buf_finish(&sql);
	if (!ok)
		return false;
	s->in_flight = true;
	for (;;) {
		struct pg_pending *p;

		while (i < s->nbulk && !s->bulk[i].n)
			i++;
		if (i == s->nbulk)
			return true; /* all sent: the rest runs meanwhile */
		if (!next_result(s, &r, e))
			return false;
		if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
			if (r && !result_ok(s, r, e))
				ok = false;
			else
				PQclear(r);
			return collect(s, ok ? e : NULL) && ok &&
			       err_set(e, "%s: COPY did not start", s->shown);
		}
		PQclear(r);
		p = &s->bulk[i++];
		/* non-blocking: both only queue what cannot be sent yet,
		 * which flush_all sends, bounded */
		if (PQputCopyData(s->conn, p->rows.data, (int)p->rows.len) !=
			    1 ||
		    PQputCopyEnd(s->conn, NULL) != 1) {
			lost(s, e);
			return false;
		}
		if (!flush_all(s, e))
			return false;
		while (i < s->nbulk && !s->bulk[i].n)
			i++;
		if (i == s->nbulk)
			return true; /* all sent: the rest runs meanwhile */
		/* the COPY's own result, before the next one's COPY_IN */
		if (!next_result(s, &r, e))
			return false;
		if (r && !result_ok(s, r, e)) {
			collect(s, NULL);
			return false;
		}
		PQclear(r);
	}
}

static void pending_clear(struct pg_pending *p)
{
	buf_reset(&p->rows);
	strmap_finish(&p->keys);
	p->keys = (struct strmap){0};
	arena_finish(&p->key_strings);
	p->key_strings = (struct arena){0};
	p->n = 0;
}

/* Every table made (the statements of send_all name only those). */
static bool tables_made(struct store *s, struct err *e)
{
	for (int i = 0; i < s->nbulk; i++) {
		struct pg_pending *p = &s->bulk[i];

		if (p->n && !p->made && !p->to->copy) {
			if (!table_make(s, p->to, p->nparams, e))
				return false;
			p->made = true;
		}
	}
	return true;
}

/* What pg_send kept, sent; when wait, also its results. */
static bool drain(struct store *s, bool wait, struct err *e)
{
	bool ok = collect(s, e), any = false;

	for (int i = 0; i < s->nbulk; i++)
		any = any || s->bulk[i].n;
	if (ok && any)
		ok = tables_made(s, e) && send_all(s, e);
	for (int i = 0; i < s->nbulk; i++)
		pending_clear(&s->bulk[i]);
	s->bulk_bytes = 0;
	if (ok && wait)
		ok = collect(s, e);
	else if (!ok)
		collect(s, NULL);
	return ok;
}

bool pg_drain(struct store *s, struct err *e)
{
	return drain(s, true, e);
}

void pg_bulk_reset(struct store *s)
{
	collect(s, NULL);
	for (int i = 0; i < s->nbulk; i++) {
		pending_clear(&s->bulk[i]);
		buf_finish(&s->bulk[i].rows);
	}
	s->nbulk = 0;
	s->bulk_bytes = 0;
}

void pg_ahead_drop(struct store *s)
{
	struct pg_ahead *a = &s->ahead;

	PQclear(a->r);
	for (size_t i = 0; i < a->nkeys; i++)
		free(a->keys[i]);
	free(a->keys);
	*a = (struct pg_ahead){.tried = true};
}

PGresult *pg_query(struct store *s, struct err *e, const char *sql, int n,
		   const char *const *params)
{
	PGresult *r;

	/* anything but a read (BEGIN too): the first reads' answers are
	 * from before it */
	if (strncmp(sql, "SELECT ", 7) != 0)
		pg_ahead_drop(s);
	if (!pg_drain(s, e) || !pg_round_trip(s, sql, n, params, &r, e))
		return NULL;
	return result_ok(s, r, e) ? r : NULL;
}

/* v in COPY's text format: NULL is \N, and a backslash, a tab, a
 * newline and a carriage return are escaped. */
static void copy_put(struct buf *b, const char *v)
{
	const char *from = v;

	if (!v) {
		buf_puts(b, "\\N");
		return;
	}
	for (const char *p = v;; p++) {
		const char *esc = *p == '\\'   ? "\\\\"
				  : *p == '\t' ? "\\t"
				  : *p == '\n' ? "\\n"
				  : *p == '\r' ? "\\r"
					       : NULL;

		if (!esc && *p)
			continue;
		buf_add(b, from, (size_t)(p - from));
		if (!*p)
			return;
		buf_puts(b, esc);
		from = p + 1;
	}
}

/* what a first load keeps before it writes: its rows' text, which then
 * fits the server's default temp_buffers (8 MB) and an unordered
 * INSERT ... SELECT reads it from there; 1 MB rather than 4: the server
 * writes a batch while the next is parsed, and all but the last batch
 * overlap (10k stories, paired under load: 4.7 s against 5.7 s) */
#define BULK_MAX (1 << 20)

bool pg_send(struct store *s, struct err *e, const struct pg_bulk *b, int n,
	     const char *const *params)
{
	struct pg_pending *p = NULL;
	size_t len;

	if (!s->first_load || !s->in_txn) {
		PGresult *r = pg_query(s, e, b->sql, n, params);

		PQclear(r);
		return r != NULL;
	}
	for (int i = 0; i < s->nbulk && !p; i++)
		if (s->bulk[i].to == b)
			p = &s->bulk[i];
	if (!p) {
		if (s->nbulk == (int)(sizeof(s->bulk) / sizeof(*s->bulk)))
			return err_set(e, "%s: too many kinds of bulk writes",
				       s->shown);
		p = &s->bulk[s->nbulk++];
		*p = (struct pg_pending){.to = b};
	}
	/* an upsert's key again: the rows before it are written first */
	if (b->key && p->keys.cap && params[b->key - 1] &&
	    strmap_get(&p->keys, params[b->key - 1], NULL) && !pg_drain(s, e))
		return false;
	p->nparams = n;
	if (b->key && params[b->key - 1]) {
		if (!p->keys.cap)
			strmap_init(&p->keys, 1024);
		strmap_put(&p->keys,
			   arena_strdup(&p->key_strings, params[b->key - 1]),
			   0);
	}
	len = p->rows.len;
	p->n++;
	if (b->copy)
		copy_put(&p->rows, params[0]);
	else
		buf_printf(&p->rows, "%" PRId64, p->n);
	for (int i = 1; i < n; i++) {
		buf_putc(&p->rows, '\t');
		copy_put(&p->rows, params[i]);
	}
	buf_putc(&p->rows, '\n');
	s->bulk_bytes += p->rows.len - len;
	return s->bulk_bytes < BULK_MAX || drain(s, false, e);
}

bool pg_exec(struct store *s, const char *sql, struct err *e)
{
	PGresult *r = pg_query(s, e, sql, 0, NULL);

	PQclear(r);
	return r != NULL;
}
