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

#include "seam.h"

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
	bool raced;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return true;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg)
		msg = PQerrorMessage(s->conn);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		len--;
	/* a first load's rows meet one only when another writer added it
	 * to the tree since the load found the tree empty */
	raced = s->first_load && s->in_txn && state &&
		strcmp(state, "23505") == 0;
	if (busy_state(state) || raced)
		s->busy = true;
	/* 22 data exception, 23 integrity constraint violation, P0001 a
	 * trigger's RAISE EXCEPTION */
	s->refused =
		state && !raced &&
		(strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
		 strcmp(state, "P0001") == 0);
	if (e)
		err_set(e, "%s: %.*s%s", s->shown, (int)len, msg,
			busy_state(state) ? " (another writer held the "
					    "database: try later)"
			: raced ? " (another writer added rows to the tree "
				  "during its first load: try later)"
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
static void put(struct pg_conninfo *ci, int *n, const char *key,
		const char *value)
{
	ci->keys[*n] = key;
	ci->values[(*n)++] = value;
}

void pg_conninfo_make(struct pg_conninfo *ci, const char *database,
		      int server_ms)
{
	int n = 0, secs = (server_ms + 999) / 1000;
	PQconninfoOption *opts = PQconninfoParse(database, NULL);
	bool service = getenv("PGSERVICE") != NULL;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "service") == 0 && o->val && *o->val)
			service = true;
	PQconninfoFree(opts);
	put(ci, &n, "fallback_application_name", "storysync");
	if (!service) {
		snprintf(ci->connect, sizeof(ci->connect), "%d",
			 secs < 2 ? 2 : secs);
		snprintf(ci->user_timeout, sizeof(ci->user_timeout), "%d",
			 server_ms);
		if (!getenv("PGCONNECT_TIMEOUT"))
			put(ci, &n, "connect_timeout", ci->connect);
		put(ci, &n, "keepalives", "1");
		put(ci, &n, "keepalives_idle", "30");
		put(ci, &n, "keepalives_interval", "10");
		put(ci, &n, "keepalives_count", "3");
		put(ci, &n, "tcp_user_timeout", ci->user_timeout);
	}
	put(ci, &n, "dbname", database);
	put(ci, &n, NULL, NULL);
}

bool pg_connect(struct store *s, const char *database, struct err *e)
{
	struct pg_conninfo ci;
	const char *msg;
	size_t len;

	pg_conninfo_make(&ci, database, s->server_ms);
	s->conn = PQconnectdbParams(ci.keys, ci.values, 1);
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

/* COPY's binary format: the header, then a row's field count, and each
 * field's length (-1: NULL) and bytes, in network byte order */
static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

static void put_be(struct buf *b, uint64_t v, int bytes)
{
	char out[8];

	for (int i = 0; i < bytes; i++)
		out[i] = (char)(v >> (8 * (bytes - 1 - i)));
	buf_add(b, out, (size_t)bytes);
}

/* v as a field of type t (pg_bulk.types); false when an i is not a
 * number (never: the callers print them). */
static bool copy_put(struct buf *b, char t, const char *v)
{
	size_t len;
	char *end;
	long long n;

	if (!v) {
		put_be(b, UINT32_MAX, 4);
		return true;
	}
	if (t == 'i') {
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return false;
		put_be(b, 8, 4);
		put_be(b, (uint64_t)n, 8);
		return true;
	}
	len = strlen(v);
	if (len > INT32_MAX)
		return false;
	put_be(b, len, 4);
	buf_add(b, v, len);
	return true;
}

/* Sends batch b as one query: a COPY to each table with rows, then the
 * server's time for the next batch's stories; and waits for its results,
 * each wait bounded as pg_round_trip's (the sender thread's waits too: a
 * silent server gives the connection up, and the thread ends). False,
 * b->e set from the first failure, when any failed (the server runs
 * none of the query's statements after a failed one). */
static bool batch_send(struct store *s, struct pg_batch *b)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int i = 0;
	bool ok = true, sent;

	b->now[0] = '\0';
	if (s->dead)
		return dead(s, &b->e);
	for (int k = 0; k < b->n; k++)
		buf_printf(&sql, "COPY %s FROM STDIN (FORMAT binary);",
			   b->copy[k]);
	buf_puts(&sql, "SELECT storysync_now()");
	sent = PQsendQuery(s->conn, sql.data);
	buf_finish(&sql);
	if (!sent)
		return lost(s, &b->e);
	/* every result, to the last (NULL): a failed one's rest too */
	for (;;) {
		ExecStatusType st;

		if (!next_result(s, &r, ok ? &b->e : NULL))
			return false; /* given up: e says why */
		if (!r)
			return ok;
		st = PQresultStatus(r);
		if (st == PGRES_COPY_IN) {
			PQclear(r);
			if (ok && i == b->n) /* not expected */
				ok = err_set(&b->e, "%s: a COPY without rows",
					     s->shown);
			/* non-blocking: both only queue what cannot be sent
			 * yet, which next_result sends, bounded */
			if (ok && (PQputCopyData(s->conn, b->rows[i].data,
						 (int)b->rows[i].len) != 1 ||
				   PQputCopyEnd(s->conn, NULL) != 1))
				return lost(s, &b->e);
			if (!ok &&
			    PQputCopyEnd(s->conn, "storysync: failed") != 1)
				return lost(s, NULL);
			i++;
			continue;
		}
		if (!ok) { /* what is left of a failed query's results */
			PQclear(r);
			continue;
		}
		if (!result_ok(s, r, &b->e)) {
			ok = false;
			continue;
		}
		/* the server's time after the batch */
		if (st == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		    PQnfields(r) == 1 && !PQgetisnull(r, 0, 0))
			snprintf(b->now, sizeof(b->now), "%s",
				 PQgetvalue(r, 0, 0));
		PQclear(r);
	}
}

static void *sender_main(void *arg)
{
	struct store *s = arg;

	s->batch.ok = batch_send(s, &s->batch);
	return NULL;
}

/* The last batch's results, its sender joined first: false, e set from
 * its failure (NULL e: not), when it failed. */
static bool settle(struct store *s, struct err *e)
{
	struct pg_batch *b = &s->batch;
	bool ok = true;

	if (s->sending)
		pthread_join(s->sender, NULL);
	s->sending = false;
	if (!b->n)
		return true;
	if (b->now[0])
		memcpy(s->load_now, b->now, sizeof(s->load_now));
	if (!b->ok) {
		if (e)
			*e = b->e;
		ok = false;
	}
	for (int k = 0; k < b->n; k++)
		buf_reset(&b->rows[k]);
	b->n = 0;
	return ok;
}

static void pending_clear(struct pg_pending *p)
{
	buf_reset(&p->rows);
	p->n = 0;
}

/* What pg_send kept, sent as the next batch once the last is settled:
 * by the sender thread while this one reads on, or, when wait, here,
 * with its results. */
static bool drain(struct store *s, bool wait, struct err *e)
{
	struct pg_batch *b = &s->batch;
	bool ok = settle(s, e);

	for (int i = 0; ok && i < s->nbulk; i++) {
		struct buf t;

		if (!s->bulk[i].n)
			continue;
		/* the trailer; the batch's buffers, emptied, take the next
		 * rows */
		put_be(&s->bulk[i].rows, UINT16_MAX, 2);
		t = b->rows[b->n];
		b->rows[b->n] = s->bulk[i].rows;
		s->bulk[i].rows = t;
		b->copy[b->n++] = s->bulk[i].to->copy;
	}
	for (int i = 0; i < s->nbulk; i++)
		pending_clear(&s->bulk[i]);
	s->bulk_bytes = 0;
	if (!ok || !b->n)
		return ok;
	if (!wait)
		/* where a test stops the server's side of a first load, its
		 * batch not sent yet (pg_silent.sh) */
		test_seam_stop("pg-batch");
	if (!wait && pthread_create(&s->sender, NULL, sender_main, s) == 0) {
		s->sending = true;
		return true;
	}
	b->ok = batch_send(s, b);
	return settle(s, e);
}

bool pg_drain(struct store *s, struct err *e)
{
	return drain(s, true, e);
}

void pg_bulk_reset(struct store *s)
{
	settle(s, NULL);
	for (int i = 0; i < s->nbulk; i++) {
		buf_finish(&s->bulk[i].rows);
		free(s->bulk[i].keys.v);
		s->bulk[i] = (struct pg_pending){0};
	}
	for (int k = 0;
	     k < (int)(sizeof(s->batch.rows) / sizeof(*s->batch.rows)); k++)
		buf_finish(&s->batch.rows[k]);
	s->nbulk = 0;
	s->bulk_bytes = 0;
	s->bulk_limit = 0;
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

/* what a first load keeps before it writes: the server writes a batch
 * while the next is parsed, and all but the last batch overlap. The
 * first batch is small, so that the server starts early; each next one
 * twice the last, up to BULK_MAX: the server's work a COPY beyond the
 * rows' (a slot for each row it buffers, up to 1000 a table, made anew
 * by every COPY; the statement triggers; a new ring of buffers). 8 MB
 * saved the server no more than 4 MB, and held more of the client's
 * memory (a 100k load's peak 68 MB against 42; 20 at 1 MB) */
#define BULK_MIN (1 << 20)
#define BULK_MAX (4 << 20)

static uint32_t key_hash(const char *key)
{
	uint32_t v = (uint32_t)(strmap_hash(key) >> 32);

	return v ? v : 1; /* 0 marks a free slot */
}

/* Whether h is in k; when add, it is afterwards. Linear probing, at most
 * four fifths full: 4 bytes a key, not the keys. */
static bool keys_has(struct pg_keys *k, uint32_t h, bool add)
{
	size_t i;

	if (add && (k->n + 1) * 5 > k->cap * 4) {
		struct pg_keys old = *k;

		k->cap = old.cap ? old.cap * 2 : 1024;
		k->v = xcalloc(k->cap, sizeof(*k->v));
		k->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.v[j])
				keys_has(k, old.v[j], true);
		free(old.v);
	}
	if (!k->cap)
		return false;
	for (i = h & (k->cap - 1); k->v[i]; i = (i + 1) & (k->cap - 1))
		if (k->v[i] == h)
			return true;
	if (add) {
		k->v[i] = h;
		k->n++;
	}
	return false;
}

static struct pg_pending *pending_of(struct store *s, const struct pg_bulk *b)
{
	for (int i = 0; i < s->nbulk; i++)
		if (s->bulk[i].to == b)
			return &s->bulk[i];
	return NULL;
}

bool pg_bulk_fresh(struct store *s, const struct pg_bulk *b, const char *key)
{
	struct pg_pending *p = pending_of(s, b);

	return s->first_load && s->in_txn && key &&
	       !(p && keys_has(&p->keys, key_hash(key), false));
}

static bool statement(struct store *s, struct err *e, const struct pg_bulk *b,
		      int n, const char *const *params)
{
	PGresult *r = pg_query(s, e, b->sql, n, params);

	PQclear(r);
	return r != NULL;
}

bool pg_send(struct store *s, struct err *e, const struct pg_bulk *b, int n,
	     const char *const *params)
{
	struct pg_pending *p;
	const char *key = b->key ? params[b->key - 1] : NULL;
	size_t len;

	if (!s->first_load || !s->in_txn || !b->copy || (b->key && !key))
		return statement(s, e, b, n, params);
	if (strlen(b->types) != (size_t)n)
		return err_set(e, "%s: %d values for %s", s->shown, n, b->copy);
	if (!(p = pending_of(s, b))) {
		if (s->nbulk == (int)(sizeof(s->bulk) / sizeof(*s->bulk)))
			return err_set(e, "%s: too many kinds of bulk writes",
				       s->shown);
		p = &s->bulk[s->nbulk++];
		*p = (struct pg_pending){.to = b};
	}
	/* a key copied before: the row may be there, the upsert after
	 * the rows kept (pg_query sends them) */
	if (key && keys_has(&p->keys, key_hash(key), true))
		return statement(s, e, b, n, params);
	len = p->rows.len;
	if (!p->n++)
		buf_add(&p->rows, copy_header, sizeof(copy_header));
	put_be(&p->rows, (uint64_t)n, 2);
	for (int i = 0; i < n; i++)
		if (!copy_put(&p->rows, b->types[i], params[i]))
			return err_set(e, "%s: %s: not a %s", s->shown,
				       params[i],
				       b->types[i] == 'i' ? "number" : "value");
	s->bulk_bytes += p->rows.len - len;
	if (!s->bulk_limit)
		s->bulk_limit = BULK_MIN;
	if (s->bulk_bytes < s->bulk_limit)
		return true;
	if (s->bulk_limit < BULK_MAX)
		s->bulk_limit *= 2;
	return drain(s, false, e);
}

bool pg_exec(struct store *s, const char *sql, struct err *e)
{
	PGresult *r = pg_query(s, e, sql, 0, NULL);

	PQclear(r);
	return r != NULL;
}
