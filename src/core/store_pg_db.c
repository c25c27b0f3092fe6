/* store_pg_db.c: the connection's helpers: queries, a first load's
 * rows sent by COPY, and what their errors mean. */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The results of what the last drain sent and did not wait for; false,
 * e set from the first failure (NULL e: not), when any failed. */
static bool collect(struct store *s, struct err *e)
{
	PGresult *r;
	bool ok = true;

	if (!s->in_flight)
		return true;
	s->in_flight = false;
	while ((r = PQgetResult(s->conn))) {
		if (PQresultStatus(r) == PGRES_COPY_IN) { /* not expected */
			PQputCopyEnd(s->conn, "storysync: no rows");
			PQclear(r);
			continue;
		}
		if (!result_ok(s, r, ok ? e : NULL)) {
			ok = false;
			continue;
		}
		/* the server's time after the batch (drain_sql) */
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		    PQnfields(r) == 1 && !PQgetisnull(r, 0, 0))
			snprintf(s->load_now, sizeof(s->load_now), "%s",
				 PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	return ok;
}

/* One string for the simple query protocol: a COPY to each table with
 * rows, then the server's time for the next batch's stories. */
static void drain_sql(struct store *s, struct buf *sql)
{
	for (int i = 0; i < s->nbulk; i++)
		if (s->bulk[i].n)
			buf_printf(sql, "COPY %s FROM STDIN;",
				   s->bulk[i].to->copy);
	buf_puts(sql, "SELECT storysync_now()");
}

/* Sends every table's rows as one query, and waits only for the server
 * to take each COPY's data: the server writes the rows while this
 * process parses the next ones; the results are the next query's to
 * collect. */
static bool send_all(struct store *s, struct err *e)
{
	struct buf sql = BUF_INIT;
	PGresult *r;
	int i = 0;
	bool ok = true;

	drain_sql(s, &sql);
	if (!PQsendQuery(s->conn, sql.data))
		ok = err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
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
		r = PQgetResult(s->conn);
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
		if (PQputCopyData(s->conn, p->rows.data, (int)p->rows.len) !=
			    1 ||
		    PQputCopyEnd(s->conn, NULL) != 1) {
			ok = err_set(e, "%s: %s", s->shown,
				     PQerrorMessage(s->conn));
			collect(s, NULL);
			return false;
		}
		while (i < s->nbulk && !s->bulk[i].n)
			i++;
		if (i == s->nbulk)
			return true; /* all sent: the rest runs meanwhile */
		/* the COPY's own result, before the next one's COPY_IN */
		r = PQgetResult(s->conn);
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
	p->n = 0;
}

/* What pg_send kept, sent; when wait, also its results. */
static bool drain(struct store *s, bool wait, struct err *e)
{
	bool ok = collect(s, e), any = false;

	for (int i = 0; i < s->nbulk; i++)
		any = any || s->bulk[i].n;
	if (ok && any)
		ok = send_all(s, e);
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
		free(s->bulk[i].keys.v);
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
	if (!pg_drain(s, e))
		return NULL;
	r = n ? PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0)
	      : PQexec(s->conn, sql);
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

/* what a first load keeps before it writes: the server writes a batch
 * while the next is parsed, and all but the last batch overlap (10k
 * stories, paired under load: 1 MB 4.7 s against 5.7 s for 4 MB) */
#define BULK_MAX (1 << 20)

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

	if (!s->first_load || !s->in_txn || (b->key && !key))
		return statement(s, e, b, n, params);
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
	p->n++;
	for (int i = 0; i < n; i++) {
		if (i)
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
