/* store_pg_db.c: the connection's helpers: queries, a first load's
 * pipeline, and what their errors mean. */
#include "store_pg.h"

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

/* Reads the results up to a new sync point of the pipeline: the first
 * failure sets e; those after it were aborted by it. */
static bool drain_sync(struct store *s, struct err *e)
{
	bool ok = true;

	s->pending = 0;
	if (PQpipelineSync(s->conn) != 1)
		return err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
	for (;;) {
		PGresult *r = PQgetResult(s->conn);
		ExecStatusType st;

		if (!r) {
			if (PQstatus(s->conn) != CONNECTION_OK)
				break;
			continue; /* the end of one query's results */
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (st == PGRES_PIPELINE_ABORTED) {
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

bool pg_drain(struct store *s, struct err *e)
{
	bool ok;

	if (PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF)
		return true;
	ok = drain_sync(s, e);
	PQexitPipelineMode(s->conn);
	if (!ok) { /* a prepare after the failure was never made */
		s->nprepared = 0;
		PQclear(PQexec(s->conn, "DEALLOCATE ALL"));
	}
	return ok;
}

/* The name of sql's prepared statement, prepared (in the pipeline) on
 * its first use; NULL when the cache is full: sent as it is. */
static const char *prepared(struct store *s, const char *sql, int n,
			    char name[16])
{
	int i;

	for (i = 0; i < s->nprepared && s->prepared[i] != sql; i++)
		;
	if (i == (int)(sizeof(s->prepared) / sizeof(*s->prepared)))
		return NULL;
	snprintf(name, 16, "ss%d", i);
	if (i == s->nprepared) {
		if (PQsendPrepare(s->conn, name, sql, n, NULL) != 1)
			return NULL;
		s->prepared[s->nprepared++] = sql;
	}
	return name;
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

bool pg_send(struct store *s, struct err *e, const char *sql, int n,
	     const char *const *params)
{
	const char *name;
	char buf[16];

	if (!s->first_load || !s->in_txn) {
		PGresult *r = pg_query(s, e, sql, n, params);

		PQclear(r);
		return r != NULL;
	}
	if (PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(s->conn) != 1)
		return err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
	name = prepared(s, sql, n, buf);
	if ((name ? PQsendQueryPrepared(s->conn, name, n, params, NULL, NULL, 0)
		  : PQsendQueryParams(s->conn, sql, n, NULL, params, NULL, NULL,
				      0)) != 1)
		return err_set(e, "%s: %s", s->shown, PQerrorMessage(s->conn));
	/* read now and then: the server's results must not fill the socket
	 * while this side still sends */
	if (++s->pending >= 256)
		return drain_sync(s, e);
	return true;
}

bool pg_exec(struct store *s, const char *sql, struct err *e)
{
	PGresult *r = pg_query(s, e, sql, 0, NULL);

	PQclear(r);
	return r != NULL;
}
