/* store_pg_db.c: the connection's helpers: queries, a first load's
 * rows sent by COPY, and what their errors mean. */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
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

/* Runs sql (with the tree as $1 when tree is not NULL) without writing
 * what pg_send kept first. */
static bool exec_now(struct store *s, const char *sql, const char *tree,
		     struct err *e)
{
	PGresult *r =
		tree ? PQexecParams(s->conn, sql, 1, NULL, &tree, NULL, NULL, 0)
		     : PQexec(s->conn, sql);

	if (!result_ok(s, r, e))
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

/* p's rows sent by COPY to its table, written by its statement, and the
 * table emptied. */
static bool flush_one(struct store *s, struct pg_pending *p, struct err *e)
{
	char sql[128];
	PGresult *r;
	bool ok = true;

	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", p->to->table);
	r = PQexec(s->conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		return result_ok(s, r, e); /* an error: false */
	PQclear(r);
	if (PQputCopyData(s->conn, p->rows.data, (int)p->rows.len) != 1 ||
	    PQputCopyEnd(s->conn, NULL) != 1)
		ok = err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
	/* the COPY's result, then the NULL after it */
	while ((r = PQgetResult(s->conn)))
		if (!result_ok(s, r, ok ? e : NULL))
			ok = false;
		else
			PQclear(r);
	if (!ok)
		return false;
	snprintf(sql, sizeof(sql), "TRUNCATE %s", p->to->table);
	return exec_now(s, p->to->insert, store_base_tree(s), e) &&
	       exec_now(s, sql, NULL, e);
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

bool pg_drain(struct store *s, struct err *e)
{
	bool ok = true;

	for (int i = 0; i < s->nbulk; i++) {
		struct pg_pending *p = &s->bulk[i];

		if (p->n && ok)
			ok = flush_one(s, p, e);
		pending_clear(p);
	}
	s->bulk_bytes = 0;
	return ok;
}

void pg_bulk_reset(struct store *s)
{
	for (int i = 0; i < s->nbulk; i++) {
		pending_clear(&s->bulk[i]);
		buf_finish(&s->bulk[i].rows);
	}
	s->nbulk = 0;
	s->bulk_bytes = 0;
}

PGresult *pg_query(struct store *s, struct err *e, const char *sql, int n,
		   const char *const *params)
{
	PGresult *r;

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

/* what a first load keeps before it writes: its rows' text, which then
 * fits the server's default temp_buffers (8 MB) and an unordered
 * INSERT ... SELECT reads it from there */
#define BULK_MAX (4 << 20)

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
	if (!p->made) {
		if (!table_make(s, b, n, e))
			return false;
		p->made = true;
	}
	if (b->key && params[b->key - 1]) {
		if (!p->keys.cap)
			strmap_init(&p->keys, 1024);
		strmap_put(&p->keys,
			   arena_strdup(&p->key_strings, params[b->key - 1]),
			   0);
	}
	len = p->rows.len;
	buf_printf(&p->rows, "%" PRId64, ++p->n);
	for (int i = 1; i < n; i++) {
		buf_putc(&p->rows, '\t');
		copy_put(&p->rows, params[i]);
	}
	buf_putc(&p->rows, '\n');
	s->bulk_bytes += p->rows.len - len;
	return s->bulk_bytes < BULK_MAX || pg_drain(s, e);
}

bool pg_exec(struct store *s, const char *sql, struct err *e)
{
	PGresult *r = pg_query(s, e, sql, 0, NULL);

	PQclear(r);
	return r != NULL;
}
