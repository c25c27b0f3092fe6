/* store_pg_db.c: the connection's helpers: queries and what their errors
 * mean. */
#include "store_pg.h"

#include <string.h>

/* 55P03 lock_not_available (lock_timeout), 40P01 deadlock_detected,
 * 40001 serialization_failure: another writer, not a failure. */
static bool busy_state(const char *st)
{
	return st && (strcmp(st, "55P03") == 0 || strcmp(st, "40P01") == 0 ||
		      strcmp(st, "40001") == 0);
}

PGresult *pg_query(struct store *s, struct err *e, const char *sql, int n,
		   const char *const *params)
{
	PGresult *r =
		n ? PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0)
		  : PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	const char *state, *msg;
	size_t len;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg)
		msg = PQerrorMessage(s->conn);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		len--;
	if (busy_state(state))
		s->busy = true;
	if (e)
		err_set(e, "%s: %.*s%s", s->shown, (int)len, msg,
			busy_state(state)
				? " (another writer held the database: "
				  "try later)"
				: "");
	PQclear(r);
	return NULL;
}

bool pg_exec(struct store *s, const char *sql, struct err *e)
{
	PGresult *r = pg_query(s, e, sql, 0, NULL);

	PQclear(r);
	return r != NULL;
}
