/* store_pg.c: PostgreSQL's store (issue 23): open and close, the
 * transactions and the run lock, and store_impl.h's operations in SQL of
 * PostgreSQL's dialect. Every query is about the store's tree ($1). */
#include "store_pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dbhome.h"
#include "json.h"
#include "mem.h"
#include "seam.h"

/* The canonical forms of story.h, in enum story_field order (as SQLite's
 * STORY_COLUMNS). */
#define PG_STORY_COLUMNS                                                       \
	"id, backlog, status, epic, title, priority, points,"                  \
	" CASE WHEN assignees IS NULL THEN NULL WHEN json_typeof(assignees)"   \
	" IN ('array', 'object') THEN assignees::text ELSE '[' ||"             \
	" assignees::text || ']' END, labels::text, (SELECT '[' ||"            \
	" string_agg(to_json(d.depends_on)::text, ',' ORDER BY d.depends_on)"  \
	" || ']' FROM story_dependencies d WHERE d.tree = stories.tree AND"    \
	" d.story_id = stories.id), created, nullif(extra::text, '{}'), body," \
	" parent"
/* The fields of a sync_base row. */
#define PG_BASE_COLUMNS                                                        \
	"row->>'id', row->>'backlog', row->>'status', row->>'epic',"           \
	" row->>'title', row->>'priority', row->>'points',"                    \
	" row->>'assignees', row->>'labels',"                                  \
	" nullif(row->>'depends_on', '[]'), row->>'created',"                  \
	" nullif(row->>'extra', '{}'), row->>'body', row->>'parent'"

_Static_assert(SF_COUNT == 14, "PG_STORY_COLUMNS lists 14");

/* The mark's snapshot, or one in which nothing is visible (before the
 * first run every row is a change). */
#define NO_MARK "1:1:"
#define MARK_OF(M)                                                             \
	"(SELECT coalesce((SELECT value FROM sync_meta WHERE tree = $1 AND"    \
	" key = 'mark'), '" NO_MARK "')::pg_snapshot AS m) " M
/* The writer of row R was not done in the snapshot M. */
#define UNSEEN(R, M)                                                           \
	R ".rev_xid >= pg_snapshot_xmin(" M ") AND NOT"                        \
	  " pg_visible_in_snapshot(" R ".rev_xid, " M ")"

/* Whether a row changed since the mark (the API's change, or a deleted
 * story's archive) */
/* clang-format off */
#define CLOCK_MOVED                                                            \
	"EXISTS (SELECT 1 FROM stories, " MARK_OF("m") " WHERE tree = $1"      \
	" AND " UNSEEN("stories", "m.m") ") OR EXISTS (SELECT 1 FROM"          \
	" deleted_stories d, " MARK_OF("m") " WHERE tree = $1 AND"             \
	" " UNSEEN("d", "m.m") ")"
/* clang-format on */

static const char *tree(const struct store *s)
{
	return store_base_tree(s);
}

/* sql with the tree as $1 and the n - 1 strings after it. */
#define Q(s, e, sql, ...)                                                      \
	pg_query((s), (e), (sql),                                              \
		 (int)(sizeof((const char *[]){tree(s), __VA_ARGS__}) /        \
		       sizeof(const char *)),                                  \
		 (const char *[]){tree(s), __VA_ARGS__})
#define Q0(s, e, sql) pg_query((s), (e), (sql), 1, (const char *[]){tree(s)})
/* The write of one row of B (a struct pg_bulk), its result unread
 * (pg_send). */
#define S(s, e, B, ...)                                                        \
	pg_send((s), (e), &(B),                                                \
		(int)(sizeof((const char *[]){tree(s), __VA_ARGS__}) /         \
		      sizeof(const char *)),                                   \
		(const char *[]){tree(s), __VA_ARGS__})

static bool done(PGresult *r)
{
	PQclear(r);
	return r != NULL;
}

static char *val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL
					: xstrdup(PQgetvalue(r, row, col));
}

static const char *cval(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t ival(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col)
		       ? 0
		       : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool bval(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

#define I64(buf, v)                                                            \
	(snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), (buf))

static void iso_time(char out[64], int64_t ns)
{
	struct tm tm;
	time_t t;
	struct timespec now;

	if (!ns) {
		clock_gettime(CLOCK_REALTIME, &now);
		ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	}
	t = (time_t)(ns / 1000000000);
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ns % 1000000000 / 1000000));
}

/* JSON text without the whitespace between its tokens, in place: the
 * compact form SQLite's json() gives, which is the canonical form of the
 * story's JSON fields (a json column keeps the text as the API wrote it,
 * spaces and all; its key order too, which is why it is not jsonb). */
static void json_compact(char *v)
{
	bool in_string = false;
	char *w = v;

	for (const char *p = v; *p; p++) {
		if (in_string) {
			*w++ = *p;
			if (*p == '\\' && p[1])
				*w++ = *++p;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
			*w++ = *p;
		} else if (*p != ' ' && *p != '\t' && *p != '\n' &&
			   *p != '\r') {
			*w++ = *p;
		}
	}
	*w = '\0';
}

static void read_story(const PGresult *r, int row, int col0, struct story *out)
{
	out->nul = 0;
	for (int f = 0; f < SF_COUNT; f++) {
		out->v[f] = val(r, row, col0 + f);
		if (out->v[f] &&
		    (f == SF_ASSIGNEES || f == SF_LABELS || f == SF_EXTRA))
			json_compact(out->v[f]);
	}
}

/* ---- the tree's first reads, ahead ---- */

/*
 * What a run reads first about its tree, outside any transaction: the
 * checkout that holds it, its configuration and sync_meta, whether it
 * has stories, whether a row changed since the mark. One query instead
 * of six (a no-op run's round trips were most of what it cost over
 * SQLite), all from one snapshot. Each answer serves the first read of
 * it only: a later read asks the server (a run compares the generation
 * it read first with the one it reads at its end), and any statement
 * but a read (a BEGIN, a write) drops what is left, so nothing is
 * answered from before a write (pg_query). An answer served is as if
 * the read were made a little earlier, with nothing of this run written
 * in between: the run lock and the tree's claim keep other runs of the
 * tree out, and an API change made since is the next run's (a run that
 * finds nothing to do writes nothing, the mark included), as one made
 * just after the read would have been.
 */

enum {
	AHEAD_TREE = 1,   /* the trees row (holder_get) */
	AHEAD_CONFIG = 2, /* the backlogs and the configuration's keys */
	AHEAD_EMPTY = 4,  /* no story in the tree */
	AHEAD_MOVED = 8,  /* a row changed since the mark */
	AHEAD_OTHER = 16, /* the other trees' checkouts (pg_tree_other) */
};

/* (kind, key, value, host) rows, in kind order: b the backlogs by name,
 * c the clock moved, e the tree empty, m sync_meta, o the other trees'
 * checkouts (name, path, host), t the trees row. */
/* clang-format off */
#define AHEAD_SQL                                                              \
	"SELECT 'b', name, path, NULL FROM backlogs WHERE tree = $1"           \
	" UNION ALL SELECT 'c', NULL, NULL, NULL WHERE " CLOCK_MOVED           \
	" UNION ALL SELECT 'e', NULL, NULL, NULL WHERE NOT EXISTS (SELECT 1"   \
	" FROM stories WHERE tree = $1)"                                       \
	" UNION ALL SELECT 'm', key, value, NULL FROM sync_meta WHERE tree ="  \
	" $1"                                                                  \
	" UNION ALL SELECT 'o', name, path, host FROM trees WHERE name <> $1"  \
	" AND path IS NOT NULL AND host IS NOT NULL"                           \
	" UNION ALL SELECT 't', host, path, NULL FROM trees WHERE name = $1"   \
	" ORDER BY 1, 2"
/* clang-format on */

/* The answers, read at the first call outside a transaction; NULL once
 * dropped, or when what (an AHEAD_ bit) was served already. */
static PGresult *ahead_get(struct store *s, unsigned what)
{
	struct pg_ahead *a = &s->ahead;

	if (!a->tried && !s->in_txn) {
		a->tried = true;
		a->r = pg_query(s, NULL, AHEAD_SQL, 1,
				(const char *[]){tree(s)});
	}
	if (!a->r || (a->used & what))
		return NULL;
	a->used |= what;
	return a->r;
}

/* The first row of kind k, or -1. */
static int ahead_row(const PGresult *r, char k)
{
	for (int i = 0; i < PQntuples(r); i++)
		if (PQgetvalue(r, i, 0)[0] == k)
			return i;
	return -1;
}

/* sync_meta's value of key, from the answers: false when it was
 * served already (or there are none). */
static bool ahead_meta(struct store *s, const char *key, char **value)
{
	struct pg_ahead *a = &s->ahead;
	const PGresult *r = ahead_get(s, 0);

	*value = NULL;
	if (!r)
		return false;
	for (size_t i = 0; i < a->nkeys; i++)
		if (!strcmp(a->keys[i], key))
			return false;
	a->keys = xreallocarray(a->keys, a->nkeys + 1, sizeof(*a->keys));
	a->keys[a->nkeys++] = xstrdup(key);
	for (int i = 0; i < PQntuples(r); i++)
		if (PQgetvalue(r, i, 0)[0] == 'm' &&
		    !strcmp(PQgetvalue(r, i, 1), key)) {
			*value = val(r, i, 2);
			break;
		}
	return true;
}

/* ---- open, close, transactions ---- */

static bool claims(const char *database)
{
	return dbhome_is_server(database);
}

/* The session's settings, and the schema's version read in the same
 * round trip (a no-op run makes a handful of queries, and this was
 * three): version_read takes it. Where there is no schema yet (init, or
 * a database that is not storysync's) the query fails, which undoes the
 * settings (one implicit transaction): they are made again, and
 * version_read asks whether the table is there. (Reading the version
 * through query_to_xml, so that the statement parsed either way, cost
 * the server more than any other query of a no-op run.) */
static bool session_start(struct store *s, struct err *e)
{
	static const char set[] = "SET client_min_messages = warning;"
				  " SET client_connection_check_interval = 500";
	PGresult *r;

	if (!pg_round_trip(s,
			   "SET client_min_messages = warning;"
			   " SET client_connection_check_interval = 500;"
			   " SELECT max(version) FROM storysync_schema",
			   0, NULL, &r, e))
		return false;
	s->version_known =
		PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	s->version = s->version_known && !PQgetisnull(r, 0, 0)
			     ? atoi(PQgetvalue(r, 0, 0))
			     : 0;
	PQclear(r);
	if (s->version_known)
		return true;
	if (!pg_round_trip(s, set, 0, NULL, &r, e))
		return false;
	PQclear(r);
	return true;
}

static bool pg_open(struct store **out, const char *database, int busy_ms,
		    bool read_only, bool create, bool *busy, struct err *e)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->base.ops = &store_pg_ops;
	s->shown = dbhome_mask(database);
	if (!pq_load(e))
		goto fail;
	s->busy_ms = busy_ms;
	s->server_ms = store_base_server_wait();
	s->read_only = read_only;
	/* a killed run's session ends within half a second even while it
	 * waits for a row lock: its run lock goes with it */
	if (!pg_connect(s, database, e) || !session_start(s, e))
		goto fail;
	if (read_only ? !pg_schema_check(s, e)
		      : !pg_schema_migrate(s, create, e))
		goto fail;
	*out = s;
	return true;
fail:
	if (busy)
		*busy = s->busy;
	store_close(s);
	return false;
}

static void pg_close(struct store *s)
{
	pg_bulk_reset(s);
	pg_ahead_drop(s);
	if (s->conn)
		PQfinish(s->conn);
	free(s->shown);
	free(s->mark);
	free(s->unindexed);
	/* the tree's name is the store's base: store_close frees it */
	free(s);
}

static void pg_set_busy_timeout(struct store *s, int ms)
{
	s->busy_ms = ms;
}

static bool pg_busy(const struct store *s)
{
	return s->busy;
}

/* The tree's run lock, for the session: runs of one tree on two machines
 * exclude each other, and a killed run's goes with its connection. */
static bool run_lock(struct store *s, struct err *e)
{
	PGresult *r;
	bool got;

	if (s->locked)
		return true;
	r = Q0(s, e,
	       "SELECT pg_try_advisory_lock(" PG_LOCK_CLASS ", hashtext($1))");
	if (!r)
		return false;
	got = bval(r, 0, 0);
	PQclear(r);
	if (!got) {
		s->busy = true;
		return err_set(e,
			       "%s: another run of tree '%s' holds its lock "
			       "(on this or another machine): try later",
			       s->shown, tree(s));
	}
	s->locked = true;
	return true;
}

/* A first load compresses its story bodies with lz4 where the server
 * has it (pglz was a tenth of the server's work of a 10k load; lz4
 * takes a fraction of that): for the transaction only, and what it
 * stores any server with lz4, which a server that has these values has,
 * reads back. Without lz4 the setting stays. */
#define LOAD_LZ4                                                               \
	"; SELECT set_config('default_toast_compression', 'lz4', true) FROM"   \
	" pg_settings WHERE name = 'default_toast_compression' AND 'lz4' ="    \
	" ANY(enumvals)"

static bool begin_as(struct store *s, const char *sql, struct err *e)
{
	char set[256];

	if (!pg_exec(s, sql, e))
		return false;
	snprintf(set, sizeof(set), "SET LOCAL lock_timeout = %d%s",
		 s->busy_ms < 0 ? 0
		 : s->busy_ms   ? s->busy_ms
				: 1,
		 s->first_load ? LOAD_LZ4 : "");
	if (!pg_exec(s, set, e)) {
		pg_exec(s, "ROLLBACK", NULL);
		return false;
	}
	s->in_txn = true;
	return true;
}

static bool pg_begin(struct store *s, struct err *e)
{
	if (!run_lock(s, e) ||
	    !begin_as(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", e))
		return false;
	/* where a test stops the server's side of the run (pg_silent.sh) */
	test_seam_stop("pg-begun");
	return true;
}

static bool pg_begin_read(struct store *s, struct err *e)
{
	return begin_as(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			e);
}

/* The secondary indexes of a first load's tables, each dropped when its
 * table has no row of any tree yet and no tree has a story (a database
 * nobody uses yet), s->unindexed the statements that make them again:
 * an index made after the load is one sort, not a b-tree insert a row
 * (at 100k, a tenth of the server's work), and the sync_state and
 * history rows are two of a first load's five tables. Only when empty,
 * or making it again would sort the other trees' rows too, and the lock
 * would keep their readers waiting. In the load's transaction: other
 * sessions never see the tables without them (DROP INDEX locks the table
 * until the commit; sync_state is storysync's alone, and a history
 * nobody has written yet is read by nobody), and a run that fails rolls
 * back to them. The unique indexes stay: they are the ON CONFLICT
 * arbiters of a key copied twice, and what fails a row another writer
 * added meanwhile. */
static bool indexes_drop(struct store *s, struct err *e)
{
	PGresult *r = pg_query(
		s, e,
		"SELECT string_agg(c.oid::regclass::text, ', '),"
		" string_agg(pg_get_indexdef(c.oid), '; ') FROM pg_class c"
		" WHERE NOT EXISTS (SELECT 1 FROM stories) AND ((c.oid ="
		" to_regclass('sync_state_path') AND NOT EXISTS (SELECT 1 FROM"
		" sync_state)) OR (c.oid = to_regclass('status_history_story')"
		" AND NOT EXISTS (SELECT 1 FROM status_history)))",
		0, NULL);
	char *drop;
	bool ok;

	if (!r)
		return false;
	if (PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return true;
	}
	drop = xasprintf("DROP INDEX %s", cval(r, 0, 0));
	s->unindexed = val(r, 0, 1);
	PQclear(r);
	ok = pg_exec(s, drop, e);
	free(drop);
	return ok;
}

/* Makes again what indexes_drop dropped (before the commit). */
static bool indexes_make(struct store *s, struct err *e)
{
	bool ok = !s->unindexed || pg_exec(s, s->unindexed, e);

	free(s->unindexed);
	s->unindexed = NULL;
	return ok;
}

/* Marks the transaction as storysync's before its first story write: the
 * triggers leave rev to it (one new value for the run), and its rows
 * have no writer xid (they are not the API's changes). */
static bool writer_on(struct store *s, struct err *e)
{
	PGresult *r;

	if (s->writer_rev)
		return true;
	if (!s->in_txn)
		return err_set(e, "%s: story writes need a transaction",
			       s->shown);
	r = Q0(s, e,
	       "SELECT v, set_config('storysync.writer', v::text, true),"
	       " (SELECT coalesce(max(id), 0) FROM status_history WHERE"
	       " tree = $1), (SELECT coalesce(max(seq), 0) FROM sync_events"
	       " WHERE tree = $1), storysync_now() FROM (SELECT"
	       " nextval('storysync_rev') v) x");
	if (!r)
		return false;
	s->writer_rev = ival(r, 0, 0);
	s->history_floor = ival(r, 0, 2);
	s->events_floor = ival(r, 0, 3);
	snprintf(s->load_now, sizeof(s->load_now), "%s", PQgetvalue(r, 0, 4));
	PQclear(r);
	return !s->first_load || indexes_drop(s, e);
}

/* A COMMIT that failed: the server's error is a rollback, but a server
 * silent or lost once the COMMIT was sent may have committed it (it
 * reads the COMMIT when it answers again): e says that the outcome is
 * unknown. Either way the next run goes on from what the server holds,
 * the files this run wrote in the write journal, as after a kill. */
static bool commit_failed(struct store *s, struct err *e)
{
	char why[ERR_MAX];

	if (!s->dead)
		return false;
	s->base.commit_unknown = true;
	if (!e)
		return false;
	snprintf(why, sizeof(why), "%s", e->msg);
	return err_set(e,
		       "%s; this run's COMMIT had been sent: whether the "
		       "server committed it is not known (either way the "
		       "next run converges, as after a kill)",
		       why);
}

static bool pg_commit(struct store *s, struct err *e)
{
	char floor[32];

	/* the API may LISTEN instead of polling: the last event's seq,
	 * delivered at commit */
	if (s->writer_rev &&
	    !done(Q(s, e,
		    "SELECT pg_notify('storysync_events', json_build_object("
		    "'tree', $1::text, 'seq', max(seq))::text) FROM"
		    " sync_events WHERE tree = $1 AND seq > $2::bigint"
		    " HAVING count(*) > 0",
		    I64(floor, s->events_floor))))
		return false;
	/* a first load's tree may have had no generation yet (its triggers
	 * renew only a row that exists): it has one from now on */
	if (s->first_load &&
	    !done(Q0(s, e,
		     "INSERT INTO sync_meta(tree, key, value) VALUES ($1,"
		     " 'state.generation', " PG_NEW_GENERATION ") ON CONFLICT"
		     " (tree, key) DO UPDATE SET value = excluded.value")))
		return false;
	if (!pg_drain(s, e) || !indexes_make(s, e))
		return false;
	s->writer_rev = 0;
	s->in_txn = false;
	/* where a test stops the server's side as the COMMIT goes
	 * (pg_silent.sh) */
	test_seam_stop("pg-commit");
	if (!pg_exec(s, "COMMIT", e))
		return commit_failed(s, e);
	pg_bulk_reset(s); /* the keys copied were this transaction's */
	return true;
}

static void pg_rollback(struct store *s)
{
	pg_bulk_reset(s);
	free(s->unindexed); /* the rollback makes them again */
	s->unindexed = NULL;
	s->writer_rev = 0;
	if (s->in_txn || PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		pg_exec(s, "ROLLBACK", NULL);
	s->in_txn = false;
}

/* The rows in (tree, id) order, locked by one statement (LockRows takes
 * them as the sort hands them on): the order of the primary key, which
 * an API that avoids deadlocks of its own locks in too. */
static bool pg_lock_stories(struct store *s, char *const *ids, size_t n,
			    struct err *e)
{
	char *json;
	bool ok;

	if (s->first_load)
		return true;
	json = json_string_array(ids, n);
	ok = done(Q(s, e,
		    "SELECT 1 FROM stories WHERE tree = $1 AND id IN (SELECT"
		    " json_array_elements_text($2::json)) ORDER BY tree, id"
		    " FOR UPDATE",
		    json));
	free(json);
	return ok;
}

/* A story's writes as a unit: a failed statement ends PostgreSQL's
 * whole transaction, a savepoint only what came after it. The writer
 * mark (set_config(..., true)) set inside it goes with it. */
static bool pg_unit_begin(struct store *s, struct err *e)
{
	if (s->first_load)
		return true;
	s->unit_writer = s->writer_rev != 0;
	return pg_exec(s, "SAVEPOINT story", e);
}

static bool pg_unit_end(struct store *s, bool keep, struct err *e)
{
	if (s->first_load)
		return true;
	if (keep)
		return pg_exec(s, "RELEASE SAVEPOINT story", e);
	if (!s->unit_writer)
		s->writer_rev = 0;
	return pg_exec(s, "ROLLBACK TO SAVEPOINT story", e) &&
	       pg_exec(s, "RELEASE SAVEPOINT story", e);
}

static bool pg_refused(const struct store *s)
{
	return s->refused;
}

static bool pg_is_empty(struct store *s)
{
	const PGresult *a = ahead_get(s, AHEAD_EMPTY);
	PGresult *r;

	if (a)
		return ahead_row(a, 'e') >= 0;
	r = Q0(s, NULL,
	       "SELECT NOT EXISTS (SELECT 1 FROM stories WHERE"
	       " tree = $1)");
	bool empty = r && bval(r, 0, 0);

	PQclear(r);
	return empty;
}

static bool pg_bulk(struct store *s, bool on, struct err *e)
{
	if (s->in_txn)
		return err_set(e,
			       "%s: bulk mode cannot change inside a "
			       "transaction",
			       s->shown);
	s->first_load = on;
	return true;
}

/* ---- sync_state ---- */

#define STATE_COLUMNS                                                          \
	"story_id, path, mtime_ns, ctime_ns, size, ino, mode, recorded_ns,"    \
	" hash, rev, ours, before, before_path"

static bool state_rows(PGresult *r, struct state_table *t)
{
	int n = PQntuples(r);

	for (int i = 0; i < n; i++) {
		struct state_entry *se;
		const char *h;

		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 64;
			t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
		}
		se = &t->v[t->n++];
		memset(se, 0, sizeof(*se));
		se->id = arena_strdup(&t->strings, PQgetvalue(r, i, 0));
		se->path = arena_strdup(&t->strings, PQgetvalue(r, i, 1));
		se->st.mtime_ns = ival(r, i, 2);
		se->st.ctime_ns = ival(r, i, 3);
		se->st.size = ival(r, i, 4);
		se->st.ino = (uint64_t)ival(r, i, 5);
		se->st.mode = (uint32_t)ival(r, i, 6);
		se->recorded_ns = ival(r, i, 7);
		h = cval(r, i, 8);
		if (h && strlen(h) == BLOBID_HEX - 1)
			memcpy(se->hash, h, BLOBID_HEX);
		se->rev = ival(r, i, 9);
		se->ours = (uint32_t)ival(r, i, 10);
		h = cval(r, i, 11);
		if (h && strlen(h) == BLOBID_HEX - 1)
			memcpy(se->before, h, BLOBID_HEX);
		h = cval(r, i, 12);
		if (h && se->before[0])
			se->before_path = arena_strdup(&t->strings, h);
	}
	PQclear(r);
	return true;
}

static bool pg_state_load(struct store *s, struct state_table *t, struct err *e)
{
	PGresult *r = Q0(s, e,
			 "SELECT " STATE_COLUMNS " FROM sync_state WHERE"
			 " tree = $1");

	memset(t, 0, sizeof(*t));
	return r && state_rows(r, t);
}

static bool pg_state_find(struct store *s, const char *path, const char *id,
			  struct state_table *t, struct err *e)
{
	PGresult *r = path ? Q(s, e,
			       "SELECT " STATE_COLUMNS " FROM sync_state"
			       " WHERE tree = $1 AND path = $2",
			       path)
			   : Q(s, e,
			       "SELECT " STATE_COLUMNS " FROM sync_state"
			       " WHERE tree = $1 AND story_id = $2",
			       id);

	return r && state_rows(r, t);
}

static bool pg_state_count(struct store *s, size_t *n, struct err *e)
{
	PGresult *r =
		Q0(s, e, "SELECT count(*) FROM sync_state WHERE tree = $1");

	*n = r ? (size_t)ival(r, 0, 0) : 0;
	return done(r);
}

static bool pg_state_base(struct store *s, const char *id, struct story *base,
			  char *mirror[SM_COUNT], bool *mirror_known,
			  bool *found, struct err *e)
{
	PGresult *r;

	*found = *mirror_known = false;
	r = Q(s, e,
	      "SELECT " PG_BASE_COLUMNS " FROM sync_base WHERE tree = $1 AND"
	      " story_id = $2",
	      id);
	if (!r)
		return false;
	if (PQntuples(r)) {
		read_story(r, 0, 0, base);
		*found = true;
	}
	PQclear(r);
	if (!*found) {
		/* the row itself, while at the agreed rev and as agreed */
		r = Q(s, e,
		      "SELECT " PG_STORY_COLUMNS ", stories.path, t.digest"
		      " FROM stories JOIN sync_state t ON t.tree ="
		      " stories.tree AND t.story_id = stories.id AND t.rev ="
		      " stories.rev WHERE stories.tree = $1 AND"
		      " stories.id = $2",
		      id);
		if (!r)
			return false;
		if (PQntuples(r)) {
			read_story(r, 0, 0, base);
			*found = PQgetisnull(r, 0, SF_COUNT + 1) ||
				 store_story_digest(base,
						    cval(r, 0, SF_COUNT)) ==
					 ival(r, 0, SF_COUNT + 1);
			if (!*found)
				story_finish(base);
		}
		PQclear(r);
	}
	if (!*found)
		return true;
	r = Q(s, e,
	      "SELECT mirrors->>0, mirrors->>1, mirrors->>2, mirrors IS NOT"
	      " NULL FROM sync_state WHERE tree = $1 AND story_id = $2",
	      id);
	if (!r)
		return false;
	if (PQntuples(r) && bval(r, 0, SM_COUNT)) {
		for (int m = 0; m < SM_COUNT; m++)
			mirror[m] = val(r, 0, m);
		*mirror_known = true;
	}
	PQclear(r);
	return true;
}

static char *mirror_array(char *const *mirror)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '[');
	for (int m = 0; m < SM_COUNT; m++) {
		const char *v = mirror ? mirror[m] : NULL;

		if (m)
			buf_putc(&b, ',');
		if (v)
			json_put_string(&b, v, strlen(v));
		else
			buf_puts(&b, "null");
	}
	buf_putc(&b, ']');
	return buf_detach(&b);
}

/* The stat data, hash and rev of an entry; its base's digest, mirrors and
 * ours and before only with a base, which is when the digest is given
 * ($13). */
#define STATE_PUT_BASE "excluded.digest IS NOT NULL"
#define STATE_PUT_SET                                                          \
	" ON CONFLICT (tree, story_id) DO UPDATE SET path = excluded.path,"    \
	" mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns, size ="  \
	" excluded.size, ino = excluded.ino, mode = excluded.mode,"            \
	" recorded_ns = excluded.recorded_ns, hash = excluded.hash, rev ="     \
	" excluded.rev, ours = CASE WHEN " STATE_PUT_BASE " THEN"              \
	" excluded.ours ELSE sync_state.ours END, before = CASE WHEN"          \
	" " STATE_PUT_BASE " THEN excluded.before ELSE sync_state.before END," \
	" before_path = CASE WHEN " STATE_PUT_BASE " THEN"                     \
	" excluded.before_path ELSE sync_state.before_path END,"               \
	" mirrors = CASE WHEN " STATE_PUT_BASE " THEN excluded.mirrors ELSE"   \
	" sync_state.mirrors END, digest = CASE WHEN " STATE_PUT_BASE " THEN"  \
	" excluded.digest ELSE sync_state.digest END"
#define STATE_PUT_COLUMNS                                                      \
	"sync_state(tree, story_id, path, mtime_ns, ctime_ns, size, ino,"      \
	" mode, recorded_ns, hash, rev, mirrors, digest, ours, before,"        \
	" before_path)"

static const struct pg_bulk state_put = {
	.sql = "INSERT INTO " STATE_PUT_COLUMNS
	       " VALUES ($1, $2, $3, $4::bigint, $5::bigint, $6::bigint,"
	       " $7::bigint, $8::bigint, $9::bigint, $10, $11::bigint,"
	       " $12::json, $13::bigint, $14::bigint, $15, $16)" STATE_PUT_SET,
	.copy = STATE_PUT_COLUMNS,
	.types = "tttiiiiiititiitt",
	.key = 2,
};

static bool pg_state_put(struct store *s, const struct state_entry *se,
			 const struct story *base, char *const *mirror,
			 struct err *e)
{
	char n[8][32], digest[32];
	char *json = base ? mirror_array(mirror) : NULL;
	bool ok;

	if (base)
		I64(digest, store_story_digest(base, se->path));
	ok = S(s, e, state_put, se->id, se->path, I64(n[0], se->st.mtime_ns),
	       I64(n[1], se->st.ctime_ns), I64(n[2], se->st.size),
	       I64(n[3], (int64_t)se->st.ino), I64(n[4], se->st.mode),
	       I64(n[5], se->recorded_ns), se->hash[0] ? se->hash : NULL,
	       I64(n[6], se->rev), json, base ? digest : NULL,
	       I64(n[7], se->ours), se->before[0] ? se->before : NULL,
	       se->before[0] ? se->before_path : NULL);
	free(json);
	/* agreed now: a saved base is history (a first load has none) */
	if (ok && base && !s->first_load)
		ok = done(Q(s, e,
			    "DELETE FROM sync_base WHERE tree = $1 AND"
			    " story_id = $2",
			    se->id));
	/* a story's file is there again (a first load has no deleted
	 * files) */
	if (ok && !s->first_load)
		ok = done(Q(s, e,
			    "DELETE FROM sync_deleted WHERE tree = $1 AND"
			    " path = $2",
			    se->path));
	return ok;
}

static bool pg_deleted_put(struct store *s, const struct deleted_file *d,
			   struct err *e)
{
	return done(Q(s, e,
		      "INSERT INTO sync_deleted(tree, story_id, path, hash,"
		      " before, head, deleted_at) VALUES ($1, $2, $3, $4, $5,"
		      " $6, storysync_now()) ON CONFLICT (tree, path) DO"
		      " UPDATE SET story_id = excluded.story_id, hash ="
		      " excluded.hash, before = excluded.before, head ="
		      " excluded.head, deleted_at = excluded.deleted_at",
		      d->id, d->path, d->hash, d->before[0] ? d->before : NULL,
		      d->head));
}

static void hex_of(const PGresult *r, int col, char out[BLOBID_HEX])
{
	const char *v = cval(r, 0, col);

	out[0] = '\0';
	if (v && strlen(v) == BLOBID_HEX - 1)
		memcpy(out, v, BLOBID_HEX);
}

/* An entry of sync_deleted s, and whether no deletion of its story was
 * archived after it (deleted_file.latest): ISO times of one clock
 * (storysync_now), compared as bytes */
#define PG_DELETED_COLUMNS                                                     \
	"path, story_id, hash, before, head, s.deleted_at COLLATE \"C\" >="    \
	" coalesce((SELECT max(d.deleted_at COLLATE \"C\") FROM"               \
	" deleted_stories d WHERE d.tree = s.tree AND d.story_id ="            \
	" s.story_id), '')"

static bool pg_deleted_get(struct store *s, const char *path, const char *id,
			   struct deleted_file *out, bool *found, struct err *e)
{
	PGresult *r = path ? Q(s, e,
			       "SELECT " PG_DELETED_COLUMNS " FROM sync_deleted"
			       " s WHERE tree = $1 AND path = $2",
			       path)
			   : Q(s, e,
			       "SELECT " PG_DELETED_COLUMNS " FROM sync_deleted"
			       " s WHERE tree = $1 AND story_id = $2 ORDER BY"
			       " deleted_at DESC LIMIT 1",
			       id);

	if (!r)
		return false;
	if (PQntuples(r)) {
		*found = true;
		out->path = val(r, 0, 0);
		out->id = val(r, 0, 1);
		hex_of(r, 2, out->hash);
		hex_of(r, 3, out->before);
		hex_of(r, 4, out->head);
		out->latest = cval(r, 0, 5) && strcmp(cval(r, 0, 5), "t") == 0;
	}
	PQclear(r);
	return true;
}

static bool pg_archived_get(struct store *s, const char *id, struct story *out,
			    bool *found, struct err *e)
{
	PGresult *r = Q(s, e,
			"SELECT " PG_BASE_COLUMNS " FROM deleted_stories"
			" WHERE tree = $1 AND story_id = $2 ORDER BY seq DESC"
			" LIMIT 1",
			id);

	if (!r)
		return false;
	if (PQntuples(r) && !PQgetisnull(r, 0, SF_ID)) {
		read_story(r, 0, 0, out);
		*found = true;
	}
	PQclear(r);
	return true;
}

static bool pg_state_restat(struct store *s, const struct state_entry *se,
			    struct err *e)
{
	char n[6][32];

	return done(Q(s, e,
		      "UPDATE sync_state SET mtime_ns = $4::bigint, ctime_ns ="
		      " $5::bigint, size = $6::bigint, ino = $7::bigint, mode ="
		      " $8::bigint, recorded_ns = $9::bigint WHERE tree = $1"
		      " AND story_id = $2 AND path = $3 AND hash IS NOT"
		      " DISTINCT FROM $10",
		      se->id, se->path, I64(n[0], se->st.mtime_ns),
		      I64(n[1], se->st.ctime_ns), I64(n[2], se->st.size),
		      I64(n[3], (int64_t)se->st.ino), I64(n[4], se->st.mode),
		      I64(n[5], se->recorded_ns),
		      se->hash[0] ? se->hash : NULL));
}

static bool pg_state_delete(struct store *s, const char *id, struct err *e)
{
	return done(Q(s, e,
		      "DELETE FROM sync_state WHERE tree = $1 AND story_id ="
		      " $2; ",
		      id)) &&
	       done(Q(s, e,
		      "DELETE FROM sync_base WHERE tree = $1 AND story_id = $2",
		      id)) &&
	       done(Q(s, e,
		      "DELETE FROM story_dependencies WHERE tree = $1 AND"
		      " story_id = $2 AND NOT EXISTS (SELECT 1 FROM stories"
		      " WHERE tree = $1 AND id = $2)",
		      id));
}

/* ---- stories ---- */

static bool pg_story_get(struct store *s, const char *id, struct story *out,
			 int64_t *rev, char **path, bool *found, struct err *e)
{
	PGresult *r = Q(s, e,
			"SELECT " PG_STORY_COLUMNS ", rev, path FROM stories"
			" WHERE tree = $1 AND id = $2",
			id);

	*found = false;
	if (!r)
		return false;
	if (PQntuples(r)) {
		read_story(r, 0, 0, out);
		if (rev)
			*rev = ival(r, 0, SF_COUNT);
		if (path)
			*path = val(r, 0, SF_COUNT + 1);
		*found = true;
	}
	PQclear(r);
	return true;
}

/* The path is storysync's: another row that holds it lets it go. */
static bool path_release(struct store *s, const char *id, const char *path,
			 struct err *e)
{
	if (!path || s->first_load)
		return true;
	return done(Q(s, e,
		      "UPDATE stories SET path = NULL WHERE tree = $1 AND"
		      " path = $3 AND id <> $2",
		      id, path));
}

#define STORY_PUT_COLUMNS                                                      \
	"stories(tree, id, backlog, status, epic, title, priority, points,"    \
	" assignees, labels, created, extra, body, path, rev, parent,"         \
	" updated)"
#define STORY_PUT_SET                                                          \
	" ON CONFLICT (tree, id) DO UPDATE SET backlog = excluded.backlog,"    \
	" status = excluded.status, epic = excluded.epic, title ="             \
	" excluded.title, priority = excluded.priority, points ="              \
	" excluded.points, assignees = excluded.assignees, labels ="           \
	" excluded.labels, created = excluded.created, extra ="                \
	" excluded.extra, body = excluded.body, path = excluded.path, parent"  \
	" = excluded.parent, rev = excluded.rev, rev_xid = NULL, updated ="    \
	" excluded.updated"

/* $17, updated: the server's time, given for a first load's rows (one
 * a batch, pg_send), NULL for the statement to read it */
static const struct pg_bulk story_put = {
	.sql = "INSERT INTO " STORY_PUT_COLUMNS
	       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10::json,"
	       " $11, $12::json, $13, $14, $15::bigint, $16, coalesce($17,"
	       " storysync_now()))" STORY_PUT_SET,
	.copy = STORY_PUT_COLUMNS,
	.types = "ttttttttttttttitt",
	.key = 2,
};

static bool row_upsert(struct store *s, const struct story *in,
		       const char *path, struct err *e)
{
	char rev[32];

	return path_release(s, in->v[SF_ID], path, e) &&
	       S(s, e, story_put, in->v[SF_ID], in->v[SF_BACKLOG],
		 in->v[SF_STATUS], in->v[SF_EPIC], in->v[SF_TITLE],
		 in->v[SF_PRIORITY], in->v[SF_POINTS], in->v[SF_ASSIGNEES],
		 in->v[SF_LABELS], in->v[SF_CREATED], in->v[SF_EXTRA],
		 in->v[SF_BODY], path, I64(rev, s->writer_rev),
		 in->v[SF_PARENT], s->first_load ? s->load_now : NULL);
}

static const struct pg_bulk deps_put = {
	.sql = "INSERT INTO story_dependencies(tree, story_id, depends_on)"
	       " SELECT $1, $2, v #>> '{}' FROM json_array_elements($3::json) v"
	       " WHERE json_typeof(v) = 'string' ON CONFLICT DO NOTHING",
};

/* one dependency of a story whose row a first load copied */
static const struct pg_bulk dep_copy = {
	.sql = "INSERT INTO story_dependencies(tree, story_id, depends_on)"
	       " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	.copy = "story_dependencies(tree, story_id, depends_on)",
	.types = "ttt",
};

/* copied: the story's row went by COPY (a first load's new row), so it
 * has none yet, and they go the same way, each once. */
static bool deps_replace(struct store *s, const char *id, const char *deps,
			 bool copied, struct err *e)
{
	char **v;
	size_t n;
	bool ok = true;

	if (!copied && !done(Q(s, e,
			       "DELETE FROM story_dependencies WHERE"
			       " tree = $1 AND story_id = $2",
			       id)))
		return false;
	if (!deps)
		return true;
	/* the statement's reading where the client's cannot (a string
	 * with a NUL, which text cannot hold, fails there) */
	if (!copied || strstr(deps, "\\u0000") ||
	    !json_parse_string_array(deps, &v, &n))
		return S(s, e, deps_put, id, deps);
	for (size_t i = 0; ok && i < n; i++) {
		bool again = false;

		for (size_t j = 0; j < i && !again; j++)
			again = strcmp(v[i], v[j]) == 0;
		if (!again)
			ok = S(s, e, dep_copy, id, v[i]);
	}
	strv_free(v);
	return ok;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool pg_story_put(struct store *s, const struct story *st,
			 const char *path, int64_t *rev, struct err *e)
{
	const char *id = st->v[SF_ID];
	struct story cur = {0};
	char *cur_path = NULL, n[32];
	bool found = false, row = true, deps = true, copied, ok;

	if (!s->first_load &&
	    !pg_story_get(s, id, &cur, rev, &cur_path, &found, e))
		return false;
	if (found) {
		row = !str_eq(cur_path, path);
		for (int f = 0; f < SF_COUNT && !row; f++)
			if (f != SF_DEPENDS_ON &&
			    !story_field_equal(&cur, st, f))
				row = true;
		deps = !story_field_equal(&cur, st, SF_DEPENDS_ON);
	}
	ok = !(row || deps) || writer_on(s, e);
	copied = ok && row && pg_bulk_fresh(s, &story_put, id);
	if (ok && row)
		ok = row_upsert(s, st, path, e);
	if (ok && deps)
		ok = deps_replace(s, id, st->v[SF_DEPENDS_ON], copied, e);
	if (ok && deps && !row)
		ok = done(Q(s, e,
			    "UPDATE stories SET rev = $3::bigint, rev_xid ="
			    " NULL, updated = storysync_now() WHERE tree = $1"
			    " AND id = $2",
			    id, I64(n, s->writer_rev)));
	if (ok && (row || deps))
		*rev = s->writer_rev;
	free(cur_path);
	story_finish(&cur);
	return ok;
}

static bool story_rev(struct store *s, const char *id, int64_t *rev,
		      struct err *e)
{
	PGresult *r =
		Q(s, e, "SELECT rev FROM stories WHERE tree = $1 AND id = $2",
		  id);

	*rev = r && PQntuples(r) ? ival(r, 0, 0) : 0;
	return done(r);
}

static bool pg_story_set_path(struct store *s, const char *id, const char *path,
			      int64_t *rev, struct err *e)
{
	char n[32];

	return writer_on(s, e) && path_release(s, id, path, e) &&
	       done(Q(s, e,
		      "UPDATE stories SET path = $3, rev = $4::bigint, rev_xid"
		      " = NULL, updated = storysync_now() WHERE tree = $1 AND"
		      " id = $2 AND path IS DISTINCT FROM $3",
		      id, path, I64(n, s->writer_rev))) &&
	       story_rev(s, id, rev, e);
}

static bool pg_story_delete(struct store *s, const char *id, struct err *e)
{
	return writer_on(s, e) &&
	       done(Q(s, e, "DELETE FROM stories WHERE tree = $1 AND id = $2",
		      id));
}

/* ---- changes and the mark ---- */

static bool pg_changes(struct store *s, int64_t mark, bool all,
		       struct db_change **out, size_t *n, struct err *e)
{
	PGresult *r;
	int rows;

	*out = NULL;
	*n = 0;
	if (all) {
		r = Q0(s, e,
		       "SELECT " PG_STORY_COLUMNS ", stories.id, stories.rev,"
		       " false, t.digest, t.rev, stories.path FROM stories"
		       " LEFT JOIN sync_state t ON t.tree = stories.tree AND"
		       " t.story_id = stories.id WHERE stories.tree = $1"
		       " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL,"
		       " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
		       " story_id, 0, true, NULL, NULL, NULL FROM sync_state t"
		       " WHERE tree = $1 AND NOT EXISTS (SELECT 1 FROM stories"
		       " s WHERE s.tree = $1 AND s.id = t.story_id)");
	} else {
		r =
			Q0(s, e,
			   "SELECT id, rev, false FROM stories, " MARK_OF("m") " WHERE tree = $1 AND " UNSEEN(
				   "stories",
				   "m.m") " UNION ALL SELECT DISTINCT "
					  "story_id, 0, true"
					  " FROM deleted_stories d, " MARK_OF(
						  "m") " WHERE tree = $1 "
						       "AND " UNSEEN("d",
								     "m."
								     "m") " AND"
									  " NOT"
									  " EXI"
									  "STS "
									  "(SEL"
									  "ECT "
									  "1 "
									  "FROM"
									  " sto"
									  "ries"
									  " s "
									  "WHER"
									  "E "
									  "s."
									  "tree"
									  " = "
									  "$1 "
									  "AND "
									  "s."
									  "id ="
									  " d."
									  "stor"
									  "y_"
									  "id"
									  ")");
	}
	(void)mark;
	if (!r)
		return false;
	rows = PQntuples(r);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct db_change *c = &(*out)[i];

		if (all) {
			struct story st = {0};

			c->id = val(r, i, SF_COUNT);
			c->rev = ival(r, i, SF_COUNT + 1);
			c->deleted = bval(r, i, SF_COUNT + 2);
			if (!c->deleted && !PQgetisnull(r, i, SF_COUNT + 3) &&
			    ival(r, i, SF_COUNT + 4) == c->rev) {
				read_story(r, i, 0, &st);
				c->drifted = store_story_digest(
						     &st, cval(r, i,
							       SF_COUNT + 5)) !=
					     ival(r, i, SF_COUNT + 3);
				story_finish(&st);
			}
		} else {
			c->id = val(r, i, 0);
			c->rev = ival(r, i, 1);
			c->deleted = bval(r, i, 2);
		}
	}
	*n = (size_t)rows;
	PQclear(r);
	return true;
}

static bool pg_changes_plan(struct store *s, char **plan, struct err *e)
{
	PGresult *r = Q0(
		s, e,
		"EXPLAIN SELECT id, rev FROM stories, " MARK_OF(
			"m") " WHERE tree = $1 AND " UNSEEN("stories", "m.m"));
	struct buf b = BUF_INIT;

	if (!r)
		return false;
	for (int i = 0; i < PQntuples(r); i++)
		buf_printf(&b, "%s\n", PQgetvalue(r, i, 0));
	PQclear(r);
	*plan = buf_detach(&b);
	return true;
}

static bool pg_meta_get(struct store *s, const char *key, char **value,
			struct err *e)
{
	PGresult *r;

	if (ahead_meta(s, key, value))
		return true;
	r = Q(s, e,
	      "SELECT value FROM sync_meta WHERE tree = $1 AND"
	      " key = $2",
	      key);

	*value = r && PQntuples(r) ? val(r, 0, 0) : NULL;
	return done(r);
}

static bool pg_meta_set(struct store *s, const char *key, const char *value,
			struct err *e)
{
	return done(Q(s, e,
		      "INSERT INTO sync_meta(tree, key, value) VALUES ($1, $2,"
		      " $3) ON CONFLICT (tree, key) DO UPDATE SET value ="
		      " excluded.value WHERE sync_meta.value IS DISTINCT FROM"
		      " excluded.value",
		      key, value));
}

/* The mark is the snapshot of the last run's transaction (sync_meta
 * 'mark'); *mark says only whether there is one. */
static bool pg_mark_get(struct store *s, int64_t *mark, struct err *e)
{
	free(s->mark);
	s->mark = NULL;
	if (!pg_meta_get(s, "mark", &s->mark, e))
		return false;
	*mark = s->mark != NULL;
	return true;
}

/* This transaction's snapshot: what it read is done, and whatever was in
 * progress then is the next run's, whenever it commits. */
static bool pg_mark_set(struct store *s, struct err *e)
{
	return done(Q0(s, e,
		       "INSERT INTO sync_meta(tree, key, value) VALUES ($1,"
		       " 'mark', pg_current_snapshot()::text) ON CONFLICT"
		       " (tree, key) DO UPDATE SET value = excluded.value"));
}

static bool pg_clock_moved(struct store *s, bool *moved, struct err *e)
{
	const PGresult *a = ahead_get(s, AHEAD_MOVED);
	PGresult *r;

	if (a) {
		*moved = ahead_row(a, 'c') >= 0;
		return true;
	}
	r = Q0(s, e, "SELECT " CLOCK_MOVED);
	*moved = !r || bval(r, 0, 0);
	return done(r);
}

/* ---- configuration ---- */

static bool pg_backlogs_sync(struct store *s, const struct config *c,
			     struct err *e)
{
	char **names = xcalloc(c->nbacklogs + 1, sizeof(char *));
	char *json;
	bool ok;

	for (size_t i = 0; i < c->nbacklogs; i++)
		names[i] = c->backlogs[i].name;
	json = json_string_array(names, c->nbacklogs);
	ok = done(Q(s, e,
		    "DELETE FROM backlogs WHERE tree = $1 AND name NOT IN"
		    " (SELECT json_array_elements_text($2::json))",
		    json));
	for (size_t i = 0; ok && i < c->nbacklogs; i++)
		ok = done(Q(s, e,
			    "INSERT INTO backlogs(tree, name, path) VALUES"
			    " ($1, $2, $3) ON CONFLICT (tree, name) DO UPDATE"
			    " SET path = excluded.path WHERE backlogs.path IS"
			    " DISTINCT FROM excluded.path",
			    c->backlogs[i].name, c->backlogs[i].path));
	free(json);
	free(names);
	return ok;
}

/* The value at key K (a string literal) as a column. */
#define META(K)                                                                \
	"(SELECT value FROM sync_meta WHERE tree = $1 AND key = '" K "')"
/* The record in one query: the meta values in the columns 2-5 of every
 * row, beside the backlogs (one row of NULL names when there are none). */
/* clang-format off */
#define CONFIG_SQL                                                             \
	"SELECT b.name, b.path, m.* FROM (SELECT " META(KEY_STAGES) ", "       \
	META(KEY_STATUS_FROM) ", " META(KEY_FORMER_STATUS) ", "                \
	META(KEY_FORMER_BACKLOG) ") m LEFT JOIN backlogs b ON b.tree = $1"     \
	" ORDER BY b.name"
/* clang-format on */

/* The record from its backlogs (the first nbacklogs rows of q, their
 * name in column c and path in c + 1) and its four keys' values. */
static void config_fill(struct config_record *r, const PGresult *q, int c,
			size_t nbacklogs, const char *const meta[4])
{
	char **v = store_meta_pairs(meta[0]);
	size_t n = 0;

	r->nbacklogs = nbacklogs;
	r->backlogs = xcalloc(r->nbacklogs + 1, sizeof(*r->backlogs));
	for (size_t i = 0; i < r->nbacklogs; i++)
		r->backlogs[i] =
			(struct config_backlog){.name = val(q, (int)i, c),
						.path = val(q, (int)i, c + 1)};
	while (v[n])
		n++;
	r->stages = n ? xcalloc(n / 2 + 1, sizeof(*r->stages)) : NULL;
	for (size_t i = 0; i + 1 < n; i += 2) {
		r->stages[r->nstages++] =
			(struct config_stage){v[i], v[i + 1], false};
		v[i] = v[i + 1] = NULL;
	}
	free(v);
	r->status_from_key = meta[1] && strcmp(meta[1], "key") == 0;
	r->former_status = store_meta_pairs(meta[2]);
	r->former_backlog = store_meta_pairs(meta[3]);
}

/* The configuration's keys, in config_fill's order. */
static const char *const config_keys[4] = {
	KEY_STAGES, KEY_STATUS_FROM, KEY_FORMER_STATUS, KEY_FORMER_BACKLOG};

static bool pg_config_get(struct store *s, struct config_record *r,
			  struct err *e)
{
	const PGresult *a = ahead_get(s, AHEAD_CONFIG);
	const char *meta[4] = {NULL};
	PGresult *q;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	if (a) {
		/* the b rows come first, (kind, name, path); the m rows
		 * are (kind, key, value) */
		for (int i = 0; i < PQntuples(a); i++) {
			const char *k = PQgetvalue(a, i, 0);

			if (k[0] == 'b')
				n++;
			else if (k[0] == 'm')
				for (int m = 0; m < 4; m++)
					if (!strcmp(PQgetvalue(a, i, 1),
						    config_keys[m]))
						meta[m] = cval(a, i, 2);
		}
		config_fill(r, a, 1, n, meta);
		return true;
	}
	q = Q0(s, e, CONFIG_SQL);
	if (!q)
		return false;
	for (int m = 0; m < 4; m++)
		meta[m] = cval(q, 0, 2 + m);
	config_fill(r, q, 0,
		    PQntuples(q) == 1 && PQgetisnull(q, 0, 0)
			    ? 0
			    : (size_t)PQntuples(q),
		    meta);
	PQclear(q);
	return true;
}

static char *pairs_json(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n ? json_string_array(v, n) : NULL;
}

static bool pg_config_put(struct store *s, const struct config *c,
			  char *const *former_status,
			  char *const *former_backlog, struct err *e)
{
	char **stages = xcalloc(2 * c->nstages + 1, sizeof(char *));
	char *json[3];
	bool ok;

	for (size_t i = 0; i < c->nstages; i++) {
		stages[2 * i] = c->stages[i].status;
		stages[2 * i + 1] = c->stages[i].dir;
	}
	json[0] = pairs_json(stages);
	json[1] = pairs_json(former_status);
	json[2] = pairs_json(former_backlog);
	ok = pg_backlogs_sync(s, c, e) &&
	     pg_meta_set(s, KEY_STAGES, json[0], e) &&
	     pg_meta_set(s, KEY_STATUS_FROM,
			 c->dialect.status_from_key ? "key" : "location", e) &&
	     pg_meta_set(s, KEY_FORMER_STATUS, json[1], e) &&
	     pg_meta_set(s, KEY_FORMER_BACKLOG, json[2], e);
	for (int i = 0; i < 3; i++)
		free(json[i]);
	free(stages);
	return ok;
}

static bool pg_locations(struct store *s, store_location_fn fn, void *ctx,
			 struct err *e)
{
	PGresult *r = Q0(
		s, e,
		"SELECT s.id, s.backlog, s.status, s.path, t.story_id IS NOT"
		" NULL, s.rev IS NOT DISTINCT FROM t.rev, b.story_id IS NOT"
		" NULL, b.row->>'backlog', b.row->>'status', b.row->>'path',"
		" t.mirrors IS NOT NULL, t.mirrors->>0, t.mirrors->>1,"
		" t.mirrors->>2 FROM stories s LEFT JOIN sync_state t ON"
		" t.tree = s.tree AND t.story_id = s.id LEFT JOIN sync_base b"
		" ON b.tree = s.tree AND b.story_id = s.id WHERE s.tree = $1");
	bool ok = r != NULL;

	for (int i = 0; ok && i < PQntuples(r); i++) {
		struct row_location l = {
			.id = cval(r, i, 0),
			.backlog = cval(r, i, 1),
			.status = cval(r, i, 2),
			.path = cval(r, i, 3),
			.has_state = bval(r, i, 4),
			.agreed = bval(r, i, 5),
			.has_base = bval(r, i, 6),
			.base_backlog = cval(r, i, 7),
			.base_status = cval(r, i, 8),
			.base_path = cval(r, i, 9),
			.mirror_known = bval(r, i, 10),
		};

		for (int m = 0; m < SM_COUNT; m++)
			l.mirror[m] = cval(r, i, 11 + m);
		if (!fn(ctx, &l))
			break;
	}
	PQclear(r);
	return ok;
}

static bool pg_story_relocate(struct store *s, const char *id,
			      const char *backlog, const char *status,
			      const char *path, bool agreed, int64_t *rev,
			      struct err *e)
{
	struct story st = {0};
	char n[32], digest[32];
	bool found, ok;

	/* a row that is not the agreed version keeps its writer's rev_xid:
	 * the change the API made is this run's and the next one's to find
	 * (detection reads rev_xid, not rev; NULL would hide it for good) */
	if (!writer_on(s, e) ||
	    !done(Q(s, e,
		    "UPDATE stories SET backlog = $3, status = $4, path = $5,"
		    " rev = $6::bigint, rev_xid = CASE WHEN $7::boolean THEN"
		    " NULL ELSE rev_xid END, updated = storysync_now() WHERE"
		    " tree = $1 AND id = $2",
		    id, backlog, status, path, I64(n, s->writer_rev),
		    agreed ? "true" : "false")))
		return false;
	*rev = s->writer_rev;
	if (!agreed)
		return true;
	/* the row stays the agreed version: its state has its rev and its
	 * digest */
	if (!pg_story_get(s, id, &st, NULL, NULL, &found, e))
		return false;
	I64(digest, found ? store_story_digest(&st, path) : 0);
	story_finish(&st);
	ok = done(Q(s, e,
		    "UPDATE sync_state SET rev = $3::bigint, digest ="
		    " $4::bigint WHERE tree = $1 AND story_id = $2",
		    id, n, digest));
	return ok;
}

static bool pg_base_relocate(struct store *s, const char *id,
			     const char *backlog, const char *status,
			     const char *path, struct err *e)
{
	/* the three keys replaced in place, as json: through jsonb the base
	 * would come back with its keys (and extra's) in jsonb's order, and
	 * its extra would differ from the row's when the row's has not */
	return done(Q(s, e,
		      "UPDATE sync_base SET row = (SELECT json_object_agg(k,"
		      " CASE k WHEN 'backlog' THEN to_json($3::text) WHEN"
		      " 'status' THEN to_json($4::text) WHEN 'path' THEN"
		      " to_json($5::text) ELSE v END ORDER BY n) FROM"
		      " json_each(row) WITH ORDINALITY AS j(k, v, n)) WHERE"
		      " tree = $1 AND story_id = $2",
		      id, backlog, status, path));
}

static bool pg_state_relocate(struct store *s, const char *id, const char *path,
			      struct err *e)
{
	return done(Q(s, e,
		      "UPDATE sync_state SET path = $3 WHERE tree = $1 AND"
		      " story_id = $2",
		      id, path));
}

/* ---- what runs record ---- */

#define HISTORY_COLUMNS                                                        \
	"INSERT INTO status_history(tree, story_id, from_status, to_status,"   \
	" changed_at, origin, commit_id, author)"

static const struct pg_bulk history_put = {
	.sql = HISTORY_COLUMNS " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	.copy = "status_history(tree, story_id, from_status, to_status,"
		" changed_at, origin, commit_id, author)",
	.types = "tttttttt",
};

static bool pg_history_add(struct store *s, const struct history_row *h,
			   struct err *e)
{
	char at[64];

	iso_time(at, h->changed_at * 1000000000);
	if (h->changed_at)
		at[19] = 'Z', at[20] = '\0';
	return S(s, e, history_put, h->story_id, h->from_status, h->to_status,
		 at, h->origin, h->commit_id, h->author);
}

#define EVENT_COLUMNS                                                          \
	"INSERT INTO sync_events(tree, story_id, change, origin, run_id, at)"

static const struct pg_bulk event_put = {
	.sql = EVENT_COLUMNS " VALUES ($1, $2, $3, $4, $5::bigint, $6)",
	.copy = "sync_events(tree, story_id, change, origin, run_id, at)",
	.types = "ttttit",
};

static bool pg_event_add(struct store *s, const char *story_id,
			 const char *change, const char *origin, int64_t run_id,
			 struct err *e)
{
	char at[64], n[32];

	iso_time(at, 0);
	return S(s, e, event_put, story_id, change, origin,
		 run_id > 0 ? I64(n, run_id) : NULL, at);
}

static bool pg_conflict_add(struct store *s, const struct conflict_row *c,
			    struct err *e)
{
	char *lost = c->lost ? story_json(c->lost) : NULL;
	char at[64], n[32];
	bool ok;

	iso_time(at, 0);
	ok = done(Q(s, e,
		    "INSERT INTO sync_conflicts(tree, story_id, at, kind,"
		    " kept, fields, lost, run_id, policy) SELECT $1, $2, $3,"
		    " $4, $5, $6, $7, $8::bigint, $9 WHERE NOT $10::boolean OR"
		    " NOT EXISTS (SELECT 1 FROM sync_conflicts WHERE tree = $1"
		    " AND story_id = $2 AND kind = $4 AND lost IS NOT DISTINCT"
		    " FROM $7)",
		    c->story_id, at, c->kind, c->kept, c->fields, lost,
		    c->run_id > 0 ? I64(n, c->run_id) : NULL, c->policy,
		    c->once ? "true" : "false"));
	free(lost);
	return ok;
}

/* $2-$12 of a run: started, ended, mode, the counts, exit, messages */
#define RUN_PARAMS(r, t, n)                                                    \
	(iso_time(t[0], (r)->started_ns), t[0]),                               \
		(r)->ended_ns > 0 ? (iso_time(t[1], (r)->ended_ns), t[1])      \
				  : NULL,                                      \
		(r)->mode, I64(n[0], (r)->created), I64(n[1], (r)->updated),   \
		I64(n[2], (r)->moved), I64(n[3], (r)->deleted),                \
		I64(n[4], (r)->conflicts), I64(n[5], (r)->errors),             \
		I64(n[6], (r)->exit_code), (r)->messages

static bool pg_run_add(struct store *s, const struct run_record *rec,
		       int64_t *id, struct err *e)
{
	char t[2][64], n[7][32];
	PGresult *r = Q(s, e,
			"INSERT INTO sync_runs(tree, started, ended, mode,"
			" created, updated, moved, deleted, conflicts, errors,"
			" exit_code, messages) VALUES ($1, $2, $3, $4,"
			" $5::bigint, $6::bigint, $7::bigint, $8::bigint,"
			" $9::bigint, $10::bigint, $11::integer, $12)"
			" RETURNING id",
			RUN_PARAMS(rec, t, n));

	*id = r ? ival(r, 0, 0) : 0;
	return done(r);
}

static bool pg_run_update(struct store *s, int64_t id,
			  const struct run_record *rec, struct err *e)
{
	char t[2][64], n[7][32], idv[32];

	return done(Q(s, e,
		      "UPDATE sync_runs SET started = $2, ended = $3, mode ="
		      " $4, created = $5::bigint, updated = $6::bigint, moved ="
		      " $7::bigint, deleted = $8::bigint, conflicts ="
		      " $9::bigint, errors = $10::bigint, exit_code ="
		      " $11::integer, messages = $12 WHERE tree = $1 AND id ="
		      " $13::bigint",
		      RUN_PARAMS(rec, t, n), I64(idv, id)));
}

static bool pg_story_path(struct store *s, const char *id, char **path,
			  bool *found, struct err *e)
{
	PGresult *r =
		Q(s, e, "SELECT path FROM stories WHERE tree = $1 AND id = $2",
		  id);

	*found = r && PQntuples(r);
	*path = *found ? val(r, 0, 0) : NULL;
	return done(r);
}

static bool pg_story_id_by_path(struct store *s, const char *path, char **id,
				struct err *e)
{
	PGresult *r =
		Q(s, e, "SELECT id FROM stories WHERE tree = $1 AND path = $2",
		  path);

	*id = r && PQntuples(r) ? val(r, 0, 0) : NULL;
	return done(r);
}

static bool pg_story_forget(struct store *s, const char *id, struct err *e)
{
	static const char *const sql[] = {
		"DELETE FROM sync_events WHERE tree = $1 AND story_id = $2"
		" AND seq > $3::bigint",
		"DELETE FROM status_history WHERE tree = $1 AND story_id = $2"
		" AND id > $4::bigint",
		"DELETE FROM sync_state WHERE tree = $1 AND story_id = $2",
		"DELETE FROM story_dependencies WHERE tree = $1 AND"
		" story_id = $2",
		"DELETE FROM stories WHERE tree = $1 AND id = $2",
		"DELETE FROM deleted_stories WHERE tree = $1 AND story_id = $2"
		" AND rev >= $5::bigint AND rev_xid IS NULL",
	};
	char n[3][32];

	if (!s->writer_rev)
		return true;
	I64(n[0], s->events_floor);
	I64(n[1], s->history_floor);
	I64(n[2], s->writer_rev);
	for (size_t i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		/* every statement takes $1-$5, typed in each */
		char q[512];

		snprintf(q, sizeof(q),
			 "%s AND $3::bigint IS NOT NULL AND $4::bigint IS"
			 " NOT NULL AND $5::bigint IS NOT NULL",
			 sql[i]);
		if (!done(Q(s, e, q, id, n[0], n[1], n[2])))
			return false;
	}
	return true;
}

/* ---- reports ---- */

static bool pg_runs_last(struct store *s, size_t max, struct run_row **out,
			 size_t *n, struct err *e)
{
	char m[32];
	PGresult *r = Q(s, e,
			"SELECT id, started, ended, mode, created, updated,"
			" moved, deleted, conflicts, errors, exit_code,"
			" messages FROM sync_runs WHERE tree = $1 AND mode IS"
			" DISTINCT FROM 'dry-run' ORDER BY id DESC LIMIT"
			" $2::bigint",
			I64(m, max));
	int rows;

	*out = NULL;
	*n = 0;
	if (!r)
		return false;
	rows = PQntuples(r);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		(*out)[i] = (struct run_row){
			.id = ival(r, i, 0),
			.started = val(r, i, 1),
			.ended = val(r, i, 2),
			.mode = val(r, i, 3),
			.created = (long)ival(r, i, 4),
			.updated = (long)ival(r, i, 5),
			.moved = (long)ival(r, i, 6),
			.deleted = (long)ival(r, i, 7),
			.conflicts = (long)ival(r, i, 8),
			.errors = (long)ival(r, i, 9),
			.exit_code = (int)ival(r, i, 10),
			.messages = val(r, i, 11),
		};
	*n = (size_t)rows;
	PQclear(r);
	return true;
}

static bool count_of(struct store *s, const char *sql, long *n, struct err *e)
{
	PGresult *r = Q0(s, e, sql);

	*n = r ? (long)ival(r, 0, 0) : 0;
	return done(r);
}

static bool pg_runs_failing(struct store *s, long *n, struct err *e)
{
	return count_of(s,
			"SELECT count(*) FROM sync_runs WHERE tree = $1 AND"
			" mode IS DISTINCT FROM 'dry-run' AND id > coalesce("
			"(SELECT max(id) FROM sync_runs WHERE tree = $1 AND"
			" exit_code = 0 AND mode IS DISTINCT FROM 'dry-run'),"
			" 0)",
			n, e);
}

#define CONFLICT_COLUMNS                                                       \
	"SELECT id, story_id, at, kind, kept, fields, lost, run_id,"           \
	" resolved, policy FROM sync_conflicts WHERE tree = $1"

static void conflict_read(const PGresult *r, int i, struct conflict_info *c)
{
	*c = (struct conflict_info){
		.id = ival(r, i, 0),
		.story_id = val(r, i, 1),
		.at = val(r, i, 2),
		.kind = val(r, i, 3),
		.kept = val(r, i, 4),
		.fields = val(r, i, 5),
		.lost = val(r, i, 6),
		.run_id = ival(r, i, 7),
		.resolved = val(r, i, 8),
		.policy = val(r, i, 9),
	};
}

static bool pg_conflicts_list(struct store *s, size_t max,
			      struct conflict_info **out, size_t *n,
			      struct err *e)
{
	char m[32];
	PGresult *r = Q(s, e,
			CONFLICT_COLUMNS " ORDER BY id DESC LIMIT"
					 " nullif($2::bigint, 0)",
			I64(m, max));
	int rows;

	*out = NULL;
	*n = 0;
	if (!r)
		return false;
	rows = PQntuples(r);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		conflict_read(r, i, &(*out)[i]);
	*n = (size_t)rows;
	PQclear(r);
	return true;
}

static bool pg_conflicts_count(struct store *s, long *n, struct err *e)
{
	return count_of(s,
			"SELECT count(*) FROM sync_conflicts WHERE tree = $1"
			" AND resolved IS NULL",
			n, e);
}

static bool pg_conflicts_resolve(struct store *s, int64_t id, long *n,
				 struct err *e)
{
	char at[64], idv[32];
	PGresult *r;

	iso_time(at, 0);
	r = Q(s, e,
	      "UPDATE sync_conflicts SET resolved = $2 WHERE tree = $1 AND"
	      " resolved IS NULL AND ($3::bigint = 0 OR id = $3::bigint)",
	      at, I64(idv, id));
	*n = r ? atol(PQcmdTuples(r)) : 0;
	return done(r);
}

static bool pg_conflict_get(struct store *s, int64_t id,
			    struct conflict_info *out, bool *found,
			    struct err *e)
{
	char idv[32];
	PGresult *r =
		Q(s, e, CONFLICT_COLUMNS " AND id = $2::bigint", I64(idv, id));

	*found = r && PQntuples(r);
	if (*found)
		conflict_read(r, 0, out);
	return done(r);
}

static bool pg_events_unconsumed(struct store *s, long *n, struct err *e)
{
	return count_of(s,
			"SELECT count(*) FROM sync_events WHERE tree = $1 AND"
			" seq > coalesce((SELECT min(seq) FROM sync_consumers),"
			" 0)",
			n, e);
}

static bool counts(struct store *s, const char *sql, store_count_fn fn,
		   void *ctx, struct err *e)
{
	PGresult *r = Q0(s, e, sql);

	for (int i = 0; r && i < PQntuples(r); i++)
		fn(ctx, cval(r, i, 0), cval(r, i, 1), (long)ival(r, i, 2));
	return done(r);
}

static bool pg_story_counts(struct store *s, store_count_fn fn, void *ctx,
			    struct err *e)
{
	return counts(s,
		      "SELECT backlog, status, count(*) FROM stories WHERE"
		      " tree = $1 GROUP BY backlog, status ORDER BY backlog,"
		      " status",
		      fn, ctx, e);
}

static bool pg_rows_pending(struct store *s, store_count_fn fn, void *ctx,
			    struct err *e)
{
	return counts(
		s,
		"SELECT backlog, NULL, count(*) FROM (SELECT s.backlog FROM"
		" stories s, " MARK_OF("m") " WHERE s.tree = $1 AND " UNSEEN(
			"s", "m.m") " AND NOT EXISTS (SELECT 1 FROM sync_state"
				    " t WHERE t.tree = $1 AND t.story_id ="
				    " s.id AND t.rev = s.rev) UNION ALL"
				    " SELECT d.row->>'backlog' FROM"
				    " deleted_stories d, " MARK_OF(
					    "m") " WHERE d.tree = $1 "
						 "AND " UNSEEN("d",
							       "m.m") " AND "
								      "EXISTS "
								      "(SELECT "
								      "1 FROM "
								      "sync_"
								      "state t "
								      "WHERE "
								      "t.tree "
								      "= $1 "
								      "AND "
								      "t.story_"
								      "id = "
								      "d.story_"
								      "id) AND "
								      "NOT "
								      "EXISTS "
								      "(SELECT "
								      "1 FROM "
								      "stories "
								      "s WHERE "
								      "s.tree "
								      "= $1 "
								      "AND "
								      "s.id = "
								      "d.story_"
								      "id)) x "
								      "GROUP "
								      "BY "
								      "backlog "
								      "ORDER "
								      "BY "
								      "backlog",
		fn, ctx, e);
}

/* ---- retention ---- */

/* A resolved time as the API must write it: ISO 8601 text. */
#define RESOLVED_IS_TIME                                                       \
	"resolved ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]*Z?)?$'"

/* Each with the tree ($1) and the cut-off time (or the run count, $2);
 * a run is never its own victim, the newest being the one under way. */
static const char *const prune_sql[] = {
	"DELETE FROM sync_runs WHERE tree = $1 AND started < $2",
	"DELETE FROM sync_runs WHERE tree = $1 AND id <= (SELECT id FROM"
	" sync_runs WHERE tree = $1 ORDER BY id DESC LIMIT 1 OFFSET"
	" $2::bigint)",
	/* events every consumer has read (a cursor is over every tree) */
	"DELETE FROM sync_events WHERE tree = $1 AND seq < (SELECT min(seq)"
	" FROM sync_events WHERE tree = $1 AND at >= $2) AND seq <="
	" coalesce((SELECT min(seq) FROM sync_consumers), seq)",
	"DELETE FROM sync_conflicts WHERE tree = $1 AND " RESOLVED_IS_TIME
	" AND resolved < $2",
	/* an archived deletion no run has applied yet (the mark did not see
	 * its writer, and the state still knows the story) is kept */
	"DELETE FROM deleted_stories d USING " MARK_OF(
		"m") " WHERE d.tree = $1 AND d.deleted_at < $2 AND NOT"
		     " (d.rev_xid IS NOT NULL AND " UNSEEN(
			     "d", "m.m") " AND EXISTS (SELECT 1 FROM"
					 " sync_state t WHERE t.tree = $1 AND"
					 " t.story_id = d.story_id))",
	/* the files storysync deleted for the API, by the same cut: git
	 * putting one back so long after is a person's doing */
	"DELETE FROM sync_deleted WHERE tree = $1 AND deleted_at < $2",
};

static bool pg_prune(struct store *s, const struct config_retention *r,
		     struct prune_counts *out, struct err *e)
{
	int64_t day = 86400;
	char cut[64] = "", deleted_cut[64] = "", runs[32];
	long files = 0; /* sync_deleted's: storysync's own, not reported */
	long *counts[] = {&out->runs,      &out->runs,    &out->events,
			  &out->conflicts, &out->deleted, &files};
	struct timespec now;
	PGresult *q;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_REALTIME, &now);
	if (r->days)
		iso_time(cut, (now.tv_sec - r->days * day) * 1000000000);
	if (r->deleted_days)
		iso_time(deleted_cut,
			 (now.tv_sec - r->deleted_days * day) * 1000000000);
	I64(runs, r->runs);
	if (r->days) { /* the API's odd resolved values, named, kept */
		q = Q0(s, e,
		       "SELECT count(*), min(id), (SELECT quote_literal("
		       "resolved) FROM sync_conflicts WHERE tree = $1 AND"
		       " resolved IS NOT NULL AND NOT (" RESOLVED_IS_TIME ")"
		       " ORDER BY id LIMIT 1) FROM sync_conflicts WHERE tree ="
		       " $1 AND resolved IS NOT NULL AND NOT (" RESOLVED_IS_TIME
		       ")");
		if (!q)
			return false;
		if (ival(q, 0, 0)) {
			long n = (long)ival(q, 0, 0);
			struct buf b = BUF_INIT;

			buf_printf(&b, "sync_conflicts %lld",
				   (long long)ival(q, 0, 1));
			if (n > 1)
				buf_printf(&b, " and %ld more", n - 1);
			buf_printf(&b,
				   ": resolved %s is not an ISO 8601 time; "
				   "not pruned",
				   cval(q, 0, 2));
			out->refused = buf_detach(&b);
		}
		PQclear(q);
	}
	for (size_t i = 0; i < sizeof(prune_sql) / sizeof(*prune_sql); i++) {
		const char *c = i == 1 ? runs : i >= 4 ? deleted_cut : cut;

		if (i == 1 ? !r->runs : !*c)
			continue; /* 0: kept for good */
		q = Q(s, e, prune_sql[i], c);
		if (!q) {
			xfree(&out->refused);
			return false;
		}
		*counts[i] += atol(PQcmdTuples(q));
		PQclear(q);
	}
	return true;
}

static bool pg_history_has_git(struct store *s, const char *story_id,
			       const char *commit_id, const char *to_status,
			       bool *yes, struct err *e)
{
	PGresult *r = Q(s, e,
			"SELECT 1 FROM status_history WHERE tree = $1 AND"
			" story_id = $2 AND origin = 'git' AND commit_id = $3"
			" AND to_status IS NOT DISTINCT FROM $4",
			story_id, commit_id, to_status);

	*yes = r && PQntuples(r);
	return done(r);
}

static bool pg_history_credits(struct store *s, const char *story_id,
			       const char *from, const char *to,
			       struct history_credit **v, size_t *n,
			       struct err *e)
{
	PGresult *r = Q(s, e,
			"SELECT id, commit_id FROM status_history WHERE tree ="
			" $1 AND story_id = $2 AND origin = 'git' AND"
			" from_status IS NOT DISTINCT FROM $3 AND to_status IS"
			" NOT DISTINCT FROM $4 ORDER BY id",
			story_id, from, to);
	int rows;

	*v = NULL;
	*n = 0;
	if (!r)
		return false;
	rows = PQntuples(r);
	if (rows)
		*v = xcalloc((size_t)rows, sizeof(**v));
	for (int i = 0; i < rows; i++)
		(*v)[i] = (struct history_credit){ival(r, i, 0), val(r, i, 1)};
	*n = (size_t)rows;
	PQclear(r);
	return true;
}

static bool pg_history_recredit(struct store *s, int64_t id,
				const struct history_row *h, struct err *e)
{
	char at[64], idv[32];

	iso_time(at, h->changed_at * 1000000000);
	at[19] = 'Z', at[20] = '\0';
	return done(Q(s, e,
		      "UPDATE status_history SET commit_id = $3, author = $4,"
		      " changed_at = $5 WHERE tree = $1 AND id = $2::bigint",
		      I64(idv, id), h->commit_id, h->author, at));
}

static bool pg_history_of(struct store *s, const char *story_id,
			  struct history_entry **v, size_t *n, bool *known,
			  struct err *e)
{
	PGresult *r = Q(s, e,
			"SELECT id, changed_at, from_status, to_status, origin,"
			" commit_id, author, EXISTS (SELECT 1 FROM stories"
			" WHERE tree = $1 AND id = $2) OR EXISTS (SELECT 1"
			" FROM deleted_stories WHERE tree = $1 AND story_id ="
			" $2) FROM status_history WHERE tree = $1 AND story_id"
			" = $2 ORDER BY changed_at DESC, id DESC",
			story_id);
	int rows;

	*v = NULL;
	*n = 0;
	*known = false;
	if (!r)
		return false;
	rows = PQntuples(r);
	if (rows)
		*v = xcalloc((size_t)rows, sizeof(**v));
	for (int i = 0; i < rows; i++)
		(*v)[i] = (struct history_entry){
			.id = ival(r, i, 0),
			.at = val(r, i, 1),
			.from = val(r, i, 2),
			.to = val(r, i, 3),
			.origin = val(r, i, 4),
			.commit = val(r, i, 5),
			.author = val(r, i, 6),
		};
	*n = (size_t)rows;
	*known = rows > 0;
	PQclear(r);
	if (!*known) {
		r = Q(s, e,
		      "SELECT 1 FROM stories WHERE tree = $1 AND id = $2"
		      " UNION ALL SELECT 1 FROM deleted_stories WHERE tree = $1"
		      " AND story_id = $2 LIMIT 1",
		      story_id);
		*known = r && PQntuples(r);
		return done(r);
	}
	return true;
}

/* check --db's questions, each of one kind of finding: (id, path,
 * detail) rows. The server keeps its own pages' integrity (there is no
 * PRAGMA integrity_check to ask): no STORE_DAMAGED row comes from here. */
static const struct {
	enum store_finding kind;
	const char *sql;
} check_queries[] = {
	{STORE_DEP_NO_STORY,
	 "SELECT story_id, NULL, depends_on FROM story_dependencies d"
	 " WHERE tree = $1 AND NOT EXISTS (SELECT 1 FROM stories s WHERE"
	 " s.tree = $1 AND s.id = d.story_id) ORDER BY story_id, depends_on"},
	/* an archived deletion the mark did not see is the API's, pending */
	{STORE_STATE_NO_ROW,
	 "SELECT story_id, path, NULL FROM sync_state t WHERE tree = $1 AND"
	 " NOT EXISTS (SELECT 1 FROM stories s WHERE s.tree = $1 AND s.id ="
	 " t.story_id) AND NOT EXISTS (SELECT 1 FROM deleted_stories d,"
	 " " MARK_OF("m") " WHERE d.tree = $1 AND d.story_id = t.story_id"
			  " AND " UNSEEN("d", "m.m") ") ORDER BY story_id"},
	{STORE_BASE_NO_STATE,
	 "SELECT story_id, NULL, NULL FROM sync_base b WHERE tree = $1 AND"
	 " NOT EXISTS (SELECT 1 FROM sync_state t WHERE t.tree = $1 AND"
	 " t.story_id = b.story_id) ORDER BY story_id"},
	{STORE_STATE_PATH,
	 "SELECT t.story_id, t.path, NULL FROM sync_state t JOIN stories s ON"
	 " s.tree = t.tree AND s.id = t.story_id WHERE t.tree = $1 ORDER BY"
	 " t.story_id"},
	{STORE_ROW_PATH,
	 "SELECT id, path, NULL FROM stories s WHERE tree = $1 AND path IS"
	 " NOT NULL AND NOT EXISTS (SELECT 1 FROM sync_state t WHERE t.tree ="
	 " $1 AND t.story_id = s.id) ORDER BY id"},
};

static bool pg_check(struct store *s, store_check_fn fn, void *ctx,
		     struct err *e)
{
	bool go = true;

	for (size_t i = 0;
	     go && i < sizeof(check_queries) / sizeof(*check_queries); i++) {
		PGresult *r = Q0(s, e, check_queries[i].sql);

		if (!r)
			return false;
		for (int k = 0; go && k < PQntuples(r); k++) {
			const struct store_check_row row = {
				.kind = check_queries[i].kind,
				.id = cval(r, k, 0),
				.path = cval(r, k, 1),
				.detail = cval(r, k, 2),
			};

			go = fn(ctx, &row);
		}
		PQclear(r);
	}
	return true;
}

/* The checkout that holds the tree, (NULL, NULL) when none. */
static bool holder_get(struct store *s, char **host, char **path, struct err *e)
{
	const PGresult *a = ahead_get(s, AHEAD_TREE);
	PGresult *r;
	int i;

	*host = *path = NULL;
	if (a) {
		if ((i = ahead_row(a, 't')) >= 0) {
			*host = val(a, i, 1);
			*path = val(a, i, 2);
		}
		return true;
	}
	r = Q0(s, e, "SELECT host, path FROM trees WHERE name = $1");
	if (r && PQntuples(r)) {
		*host = val(r, 0, 0);
		*path = val(r, 0, 1);
	}
	return done(r);
}

/* As SQLite's: registers when no checkout holds the tree, or take_over;
 * one that registered meanwhile keeps it (read again); a tree that moved
 * forgets its stat data, so that the next run reads every file. */
static bool pg_tree_claim(struct store *s, const char *host, const char *path,
			  bool take_over, char **holder, bool *moved,
			  struct err *e)
{
	char *h = NULL, *p = NULL, at[64];
	bool ok = false;

	*holder = NULL;
	*moved = false;
	if (!holder_get(s, &h, &p, e))
		return false;
	if (str_eq(h, host) && str_eq(p, path)) {
		ok = true;
		goto out;
	}
	if (h && p && !take_over) {
		*holder = xasprintf("%s:%s", h, p);
		ok = true;
		goto out;
	}
	*moved = h && p;
	iso_time(at, 0);
	if (!done(Q(s, e,
		    "INSERT INTO trees(name, host, path, registered) VALUES"
		    " ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET host ="
		    " excluded.host, path = excluded.path, registered ="
		    " excluded.registered WHERE $5::boolean OR trees.path IS"
		    " NULL OR trees.host IS NULL",
		    host, path, at, take_over ? "true" : "false")))
		goto out;
	free(h);
	free(p);
	if (!holder_get(s, &h, &p, e))
		goto out;
	if (!str_eq(h, host) || !str_eq(p, path)) {
		*holder = xasprintf("%s:%s", h ? h : "?", p ? p : "?");
		*moved = false;
	} else if (*moved &&
		   !done(Q0(s, e,
			    "UPDATE sync_state SET mtime_ns = NULL, ctime_ns"
			    " = NULL, size = NULL, ino = NULL, recorded_ns ="
			    " NULL WHERE tree = $1"))) {
		goto out;
	}
	ok = true;
out:
	free(h);
	free(p);
	return ok;
}

/* As SQLite's; a run's first read of it is answered ahead. */
static bool pg_tree_other(struct store *s, const char *host, const char *path,
			  char **name, struct err *e)
{
	const PGresult *a = ahead_get(s, AHEAD_OTHER);
	PGresult *r;

	*name = NULL;
	if (a) {
		/* the o rows come by name */
		for (int i = 0; i < PQntuples(a) && !*name; i++)
			if (PQgetvalue(a, i, 0)[0] == 'o' &&
			    str_eq(cval(a, i, 2), path) &&
			    str_eq(cval(a, i, 3), host))
				*name = val(a, i, 1);
		return true;
	}
	r = Q(s, e,
	      "SELECT name FROM trees WHERE host = $2 AND path = $3 AND name"
	      " <> $1 ORDER BY name LIMIT 1",
	      host, path);
	if (r && PQntuples(r))
		*name = val(r, 0, 0);
	return done(r);
}

static bool pg_tree_release(struct store *s, const char *host, const char *path,
			    struct err *e)
{
	char at[64];

	iso_time(at, 0);
	return done(Q(s, e,
		      "UPDATE trees SET host = NULL, path = NULL, registered ="
		      " $4 WHERE host = $2 AND path = $3 AND name <> $1",
		      host, path, at));
}

static bool pg_trees_list(struct store *s, struct tree_info **out, size_t *n,
			  struct err *e)
{
	PGresult *r = Q0(
		s, e,
		"SELECT n.name, t.host, t.path, (SELECT ended FROM sync_runs"
		" WHERE tree = n.name ORDER BY id DESC LIMIT 1), (SELECT"
		" exit_code FROM sync_runs WHERE tree = n.name ORDER BY id DESC"
		" LIMIT 1), (SELECT count(*) FROM stories WHERE tree = n.name)"
		" FROM (SELECT name FROM trees UNION SELECT DISTINCT tree FROM"
		" stories UNION SELECT $1) n LEFT JOIN trees t ON t.name ="
		" n.name ORDER BY n.name <> $1, n.name");
	int rows;

	*out = NULL;
	*n = 0;
	if (!r)
		return false;
	rows = PQntuples(r);
	*out = xcalloc((size_t)rows + 1, sizeof(**out));
	for (int i = 0; i < rows; i++)
		(*out)[i] = (struct tree_info){
			.name = val(r, i, 0),
			.host = val(r, i, 1),
			.path = val(r, i, 2),
			.last_run = val(r, i, 3),
			.last_exit = (int)ival(r, i, 4),
			.stories = (long)ival(r, i, 5),
		};
	*n = (size_t)rows;
	PQclear(r);
	return true;
}

const struct store_ops store_pg_ops = {
	.name = "PostgreSQL",
	.claims = claims,
	.open = pg_open,
	.close = pg_close,
	.schema_version = pg_schema_version,
	.set_busy_timeout = pg_set_busy_timeout,
	.busy = pg_busy,
	.begin = pg_begin,
	.begin_read = pg_begin_read,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lock_stories = pg_lock_stories,
	.unit_begin = pg_unit_begin,
	.unit_end = pg_unit_end,
	.refused = pg_refused,
	.deleted_put = pg_deleted_put,
	.deleted_get = pg_deleted_get,
	.archived_get = pg_archived_get,
	.is_empty = pg_is_empty,
	.bulk = pg_bulk,
	.state_load = pg_state_load,
	.state_find = pg_state_find,
	.state_count = pg_state_count,
	.state_base = pg_state_base,
	.state_put = pg_state_put,
	.state_restat = pg_state_restat,
	.state_delete = pg_state_delete,
	.story_get = pg_story_get,
	.story_put = pg_story_put,
	.story_set_path = pg_story_set_path,
	.story_delete = pg_story_delete,
	.changes = pg_changes,
	.changes_plan = pg_changes_plan,
	.mark_get = pg_mark_get,
	.mark_set = pg_mark_set,
	.clock_moved = pg_clock_moved,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.backlogs_sync = pg_backlogs_sync,
	.config_get = pg_config_get,
	.config_put = pg_config_put,
	.locations = pg_locations,
	.story_relocate = pg_story_relocate,
	.base_relocate = pg_base_relocate,
	.state_relocate = pg_state_relocate,
	.history_add = pg_history_add,
	.event_add = pg_event_add,
	.conflict_add = pg_conflict_add,
	.run_add = pg_run_add,
	.run_update = pg_run_update,
	.story_path = pg_story_path,
	.story_forget = pg_story_forget,
	.story_id_by_path = pg_story_id_by_path,
	.history_has_git = pg_history_has_git,
	.history_credits = pg_history_credits,
	.history_recredit = pg_history_recredit,
	.history_of = pg_history_of,
	.check = pg_check,
	.runs_last = pg_runs_last,
	.runs_failing = pg_runs_failing,
	.conflicts_list = pg_conflicts_list,
	.conflicts_count = pg_conflicts_count,
	.conflicts_resolve = pg_conflicts_resolve,
	.events_unconsumed = pg_events_unconsumed,
	.story_counts = pg_story_counts,
	.rows_pending = pg_rows_pending,
	.prune = pg_prune,
	.conflict_get = pg_conflict_get,
	.tree_claim = pg_tree_claim,
	.tree_other = pg_tree_other,
	.tree_release = pg_tree_release,
	.trees_list = pg_trees_list,
};
