#ifndef STORYSYNC_CORE_STORE_PG_H
#define STORYSYNC_CORE_STORE_PG_H

#include "pqload.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "store.h"
#include "store_impl.h"
#include "strmap.h"

/*
 * PostgreSQL's store (issue 23), its own header: only the store_pg*.c
 * files include it, and with it libpq-fe.h (through pqload.h: libpq is
 * loaded when a run first opens a server's database).
 *
 * How PostgreSQL keeps store.h's promises: the schema version is the
 * table storysync_schema, migrations go forward only, under an advisory
 * lock (store_pg_schema.c). A run's transaction is REPEATABLE READ, with
 * lock_timeout the busy wait: an API writer that holds a row past it
 * (55P03), a deadlock (40P01) or a serialization failure (40001) is
 * "try later" (exit 75), never a lost edit. The change clock is xid8
 * against the snapshot of the last run (store_pg_schema.c). The run lock
 * is a session advisory lock per tree, taken at the first write
 * transaction: a killed run's lock goes with its connection. A commit
 * that added events sends NOTIFY storysync_events with the tree and the
 * last seq.
 *
 * The files are layered as SQLite's are:
 * 1 store_pg_db.c      the connection's helpers: queries, error mapping
 * 2 store_pg_schema.c  the schema, its triggers, its migrations
 * 3 store_pg.c         everything store_impl.h asks, and open and close
 */

#define PG_SCHEMA_VERSION 6
/* A new generation of a tree's sync_state (sync_meta 'state.generation',
 * statcache.h): 53 random bits, as text. */
#define PG_NEW_GENERATION "floor(random() * 9007199254740992)::bigint::text"
/* The advisory locks' first key: hashtext('storysync'); the second is
 * 0 for migrations, the tree's hashtext for its run lock. */
#define PG_LOCK_CLASS "hashtext('storysync')"

struct store {
	struct store_base base; /* first: store.c dispatches through it */
	PGconn *conn;
	char *shown;   /* the URI, its password masked */
	int busy_ms;   /* < 0: wait for as long as it takes */
	int server_ms; /* server_wait: how long a silent server is waited
			  for beyond busy_ms */
	bool dead;     /* the connection was given up (a silent server, or
			  lost): every round trip fails at once */
	bool busy;     /* an operation gave up waiting: try later */
	bool read_only;
	bool in_txn;
	bool locked;        /* holds its tree's run lock */
	bool first_load;    /* bulk mode */
	bool unit_writer;   /* the writer mark was set before the unit */
	bool refused;       /* the last failure: a value refused */
	int64_t writer_rev; /* this transaction's own writes' rev, 0 before */
	int64_t history_floor, events_floor;
	char *mark; /* the mark's snapshot as store_mark_get read it */
	/* the secondary indexes a first load dropped, as the statements that
	 * make them again before it commits (NULL: none dropped) */
	char *unindexed;
	/* a first load's writes, by COPY (pg_send): one a statement */
	struct pg_pending {
		const struct pg_bulk *to;
		struct buf rows; /* COPY's binary format */
		int64_t n;
		/* the keys (pg_bulk.key) sent by COPY in this transaction,
		 * by a 32-bit hash: a key again goes by the statement */
		struct pg_keys {
			uint32_t *v;
			size_t n, cap;
		} keys;
	} bulk[8];
	int nbulk;
	size_t bulk_bytes;
	size_t bulk_limit; /* the bytes this batch may keep: 0, BULK_MIN */
	/* the rows last sent, by the sender thread while this one reads on
	 * (sending: the connection is the sender's until it is joined) */
	struct pg_batch {
		struct buf rows[8];
		const char *copy[8]; /* the tables, as pg_bulk.copy */
		int n;
		bool ok;
		struct err e; /* !ok: why */
		char now[40]; /* the server's time after it */
	} batch;
	pthread_t sender;
	bool sending;
	/* the server's time (storysync_now()) for a first load's stories:
	 * read with the writer mark, then after each batch */
	char load_now[40];
	bool version_known; /* the schema's version read at the start */
	int version;
	/* the tree's first reads, made by one query before any transaction
	 * (store_pg.c, ahead_get): each answer serves its first read only */
	struct pg_ahead {
		PGresult *r;   /* NULL: not read, or dropped */
		bool tried;    /* never again once read or dropped */
		unsigned used; /* AHEAD_ bits of the answers served */
		char **keys;   /* the sync_meta keys served */
		size_t nkeys;
	} ahead;
};

/* The keywords and values the connection to database is made with
 * (PQconnectdbParams, expand_dbname): libpq's fallback_application_name,
 * and where no service is named, connect_timeout (server_ms in seconds,
 * at least 2; none when PGCONNECT_TIMEOUT is set), keepalives (after 30
 * s idle, 3 probes 10 s apart) and tcp_user_timeout (server_ms); then
 * the URI, whose own values win. Call after pq_load. */
struct pg_conninfo {
	const char *keys[10], *values[10]; /* NULL-terminated */
	char connect[16], user_timeout[16];
};
void pg_conninfo_make(struct pg_conninfo *ci, const char *database,
		      int server_ms);
/* The connection to database, non-blocking, with libpq's defaults of
 * keepalives and timeouts where neither the URI nor a service sets
 * them; false, e set, when it cannot be made. */
bool pg_connect(struct store *s, const char *database, struct err *e);
/* Sends sql with n text parameters (n 0: the simple protocol, several
 * statements) and waits for its last result, or its first error's, as
 * PQexec would, but never longer than the server may be silent: *r for
 * the caller to PQclear; false, *r NULL and e set (the connection then
 * given up) when the server did not answer in time or was lost. */
bool pg_round_trip(struct store *s, const char *sql, int n,
		   const char *const *params, PGresult **r, struct err *e);
/* Runs sql with n text parameters (NULL: null); the result (tuples or
 * command) for the caller to PQclear, or NULL with e set (NULL e: just
 * NULL) and s->busy set for a lock wait past the timeout, a deadlock or
 * a serialization failure. */
PGresult *pg_query(struct store *s, struct err *e, const char *sql, int n,
		   const char *const *params);
/* Runs sql (no parameters, no rows wanted). */
bool pg_exec(struct store *s, const char *sql, struct err *e);
/* A write whose result nobody reads, of one row, in two forms: the
 * statement for that row alone, and for a first load's rows, COPY
 * straight to the table, the rows kept until the next query or commit
 * (or BULK_MAX bytes) and sent as one message. A first load writes 10k
 * stories in a few statements, not 50k: the server's work per
 * statement, not the rows, was its time. The table is empty of the
 * tree's rows when a first load starts, and a row's key is checked
 * against those this transaction copied: no copied row meets one there
 * (a row another writer added meanwhile fails the COPY: busy). */
struct pg_bulk {
	const char *sql;
	/* the table and its columns, which COPY fills with the statement's
	 * parameters in order, $1 (the tree) first */
	const char *copy;
	/* each parameter's column in COPY's binary format: t text (json
	 * too: its binary form is its text), i bigint (the parameter its
	 * decimal text) */
	const char *types;
	/* the parameter (2...) that is the row's key: a key copied once in
	 * this transaction goes by the statement (an upsert) the next time,
	 * after the rows kept; 0: none (rows that cannot meet one) */
	int key;
};

/* Writes one row (b's parameters: $1 the tree, n in all): in a first
 * load's transaction, kept to be sent as a whole (the first failure is
 * then the next query's or commit's error, and the transaction is lost
 * as a whole, as a first load is); else at once. */
bool pg_send(struct store *s, struct err *e, const struct pg_bulk *b, int n,
	     const char *const *params);
/* Writes what pg_send kept; false with e set (NULL e: just false) when
 * it failed. Every query does it first. */
bool pg_drain(struct store *s, struct err *e);
/* Whether a row of b with this key would go by COPY now: a first load's,
 * the key not copied yet in this transaction. */
bool pg_bulk_fresh(struct store *s, const struct pg_bulk *b, const char *key);
/* Forgets what pg_send kept, and the keys it copied (at a transaction's
 * end). */
void pg_bulk_reset(struct store *s);
/* Forgets what the tree's first reads left unserved (a transaction or a
 * write comes: what the server holds from then on may differ). */
void pg_ahead_drop(struct store *s);

int pg_schema_version(const struct store *s);
/* An error unless the database is at this build's schema. */
bool pg_schema_check(struct store *s, struct err *e);
/* Migrates to this build's schema (create: from nothing too). */
bool pg_schema_migrate(struct store *s, bool create, struct err *e);

#endif
