/*
 * libpq as the PostgreSQL backend (store_pg*.c) sees it: the functions it
 * calls, each forwarding to libpq.so.5, loaded by pq_load when a run
 * first opens a server's database. Linking libpq and its twenty-odd
 * dependencies (TLS, Kerberos, LDAP) costs every run about 15 ms of CPU
 * at start, the hook's no-op three times over; a run on SQLite never
 * needs them.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "pqload.h"

/* Every function the backend calls, resolved by name. */
static struct {
	__typeof__(PQclear) *clear;
	__typeof__(PQcmdTuples) *cmd_tuples;
	__typeof__(PQconnectdbParams) *connectdb_params;
	__typeof__(PQconninfoFree) *conninfo_free;
	__typeof__(PQconninfoParse) *conninfo_parse;
	__typeof__(PQconsumeInput) *consume_input;
	__typeof__(PQerrorMessage) *error_message;
	__typeof__(PQfinish) *finish;
	__typeof__(PQflush) *flush;
	__typeof__(PQgetResult) *get_result;
	__typeof__(PQgetisnull) *getisnull;
	__typeof__(PQgetvalue) *getvalue;
	__typeof__(PQisBusy) *is_busy;
	__typeof__(PQnfields) *nfields;
	__typeof__(PQntuples) *ntuples;
	__typeof__(PQputCopyData) *put_copy_data;
	__typeof__(PQputCopyEnd) *put_copy_end;
	__typeof__(PQresultErrorField) *result_error_field;
	__typeof__(PQresultStatus) *result_status;
	__typeof__(PQsendQuery) *send_query;
	__typeof__(PQsendQueryParams) *send_query_params;
	__typeof__(PQsetnonblocking) *setnonblocking;
	__typeof__(PQsocket) *socket;
	__typeof__(PQstatus) *status;
	__typeof__(PQtransactionStatus) *transaction_status;
} pq;

static const char *const names[] = {
	"PQclear",
	"PQcmdTuples",
	"PQconnectdbParams",
	"PQconninfoFree",
	"PQconninfoParse",
	"PQconsumeInput",
	"PQerrorMessage",
	"PQfinish",
	"PQflush",
	"PQgetResult",
	"PQgetisnull",
	"PQgetvalue",
	"PQisBusy",
	"PQnfields",
	"PQntuples",
	"PQputCopyData",
	"PQputCopyEnd",
	"PQresultErrorField",
	"PQresultStatus",
	"PQsendQuery",
	"PQsendQueryParams",
	"PQsetnonblocking",
	"PQsocket",
	"PQstatus",
	"PQtransactionStatus",
};

_Static_assert(sizeof(pq) == sizeof(names) / sizeof(*names) * sizeof(void *),
	       "one name per function");

/* libpq's SONAME, which has been 5 since PostgreSQL 8.0 */
#define LIBPQ "libpq.so.5"

static void *handle;
static char failure[ERR_MAX];

static void load_once(void)
{
	void *h = dlopen(LIBPQ, RTLD_NOW | RTLD_LOCAL);
	void **slot = (void **)&pq;

	if (!h) {
		snprintf(failure, sizeof(failure), "cannot load %s: %s", LIBPQ,
			 dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		slot[i] = dlsym(h, names[i]);
		if (!slot[i]) {
			snprintf(failure, sizeof(failure), "%s: no %s", LIBPQ,
				 names[i]);
			dlclose(h);
			return;
		}
	}
	handle = h;
}

bool pq_load(struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	return handle ? true : err_set(e, "postgresql: %s", failure);
}

/* The rest are called only once pq_load succeeded. */

void PQclear(PGresult *res)
{
	pq.clear(res);
}

char *PQcmdTuples(PGresult *res)
{
	return pq.cmd_tuples(res);
}

char *PQerrorMessage(const PGconn *conn)
{
	return pq.error_message(conn);
}

int PQsendQuery(PGconn *conn, const char *query)
{
	return pq.send_query(conn, query);
}

void PQfinish(PGconn *conn)
{
	pq.finish(conn);
}

PGresult *PQgetResult(PGconn *conn)
{
	return pq.get_result(conn);
}

int PQgetisnull(const PGresult *res, int tup_num, int field_num)
{
	return pq.getisnull(res, tup_num, field_num);
}

char *PQgetvalue(const PGresult *res, int tup_num, int field_num)
{
	return pq.getvalue(res, tup_num, field_num);
}

int PQnfields(const PGresult *res)
{
	return pq.nfields(res);
}

int PQntuples(const PGresult *res)
{
	return pq.ntuples(res);
}

int PQputCopyData(PGconn *conn, const char *buffer, int nbytes)
{
	return pq.put_copy_data(conn, buffer, nbytes);
}

int PQputCopyEnd(PGconn *conn, const char *errormsg)
{
	return pq.put_copy_end(conn, errormsg);
}

char *PQresultErrorField(const PGresult *res, int fieldcode)
{
	return pq.result_error_field(res, fieldcode);
}

ExecStatusType PQresultStatus(const PGresult *res)
{
	return pq.result_status(res);
}

ConnStatusType PQstatus(const PGconn *conn)
{
	return pq.status(conn);
}

PGTransactionStatusType PQtransactionStatus(const PGconn *conn)
{
	return pq.transaction_status(conn);
}

PGconn *PQconnectdbParams(const char *const *keywords,
			  const char *const *values, int expand_dbname)
{
	return pq.connectdb_params(keywords, values, expand_dbname);
}

void PQconninfoFree(PQconninfoOption *connOptions)
{
	pq.conninfo_free(connOptions);
}

PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg)
{
	return pq.conninfo_parse(conninfo, errmsg);
}

int PQconsumeInput(PGconn *conn)
{
	return pq.consume_input(conn);
}

int PQflush(PGconn *conn)
{
	return pq.flush(conn);
}

int PQisBusy(PGconn *conn)
{
	return pq.is_busy(conn);
}

int PQsendQueryParams(PGconn *conn, const char *command, int nParams,
		      const Oid *paramTypes, const char *const *paramValues,
		      const int *paramLengths, const int *paramFormats,
		      int resultFormat)
{
	return pq.send_query_params(conn, command, nParams, paramTypes,
				    paramValues, paramLengths, paramFormats,
				    resultFormat);
}

int PQsetnonblocking(PGconn *conn, int arg)
{
	return pq.setnonblocking(conn, arg);
}

int PQsocket(const PGconn *conn)
{
	return pq.socket(conn);
}
