#ifndef STORYSYNC_CORE_STORE_SQLITE_H
#define STORYSYNC_CORE_STORE_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "store.h"
#include "store_impl.h"
#include "story.h"

/*
 * SQLite's store, its own header: the connection, its statement cache,
 * and the helpers its files share. Only the store_sqlite*.c files include
 * it, and with it sqlite3.h; the rest of storysync sees store.h alone.
 *
 * How SQLite keeps store.h's promises: the schema version is PRAGMA
 * user_version, migrations go forward only; WAL mode, so that readers
 * never wait (a first load, in bulk mode, a rollback journal instead). A
 * write transaction is BEGIN IMMEDIATE. The change clock is the table
 * rev_clock, which triggers advance on every insert or update of a story
 * or a dependency, the story's rev taking the new value: rev > mark is an
 * index range scan. Deleted rows are archived in deleted_stories by a
 * trigger, and BEFORE triggers copy the agreed version of a row into
 * sync_base just before the API's first change to it. A transaction that
 * holds the writer row in sync_meta is storysync's own, which the
 * triggers leave be (store_writer_on).
 *
 * The files are layered: each calls only the layers below it (and its
 * own), never one above, so that each can be read, and changed, knowing
 * only what lies below.
 *
 * 1 store_sqlite_db.c      the connection's helpers: error mapping, the
 *                          statement cache, stepping, row loops, bind and
 *                          column helpers, the busy handler, the digest
 * 2 store_sqlite_schema.c  the schema, its triggers and forward
 *                          migrations
 * 3 store_sqlite_txn.c     transactions, the writer mark, bulk mode; the
 *                          triggers dropped for a first load
 * 4 store_sqlite_record.c  what runs record and report: meta, backlogs,
 *                          history, events, conflicts, runs, retention
 * 5 store_sqlite_state.c   sync_state: the stat cache and the base of the
 *                          merge
 *   store_sqlite_story.c   stories rows, their changes since the mark,
 *                          their counts (meta: 4)
 *   store_sqlite_config.c  the configuration recorded, and the rows that
 *                          follow a change of it (meta, backlogs: 4)
 *   store_sqlite_check.c   check --db: integrity, rows that point at no
 *                          row
 *   store_sqlite_tree.c    the trees the database holds, and the
 *                          checkout that syncs each
 * 6 store_sqlite.c         open (pragmas, the reader's fallbacks, the
 *                          migration: 2) and close; it hands the
 *                          connection the SQL tables of layers 4 and 5
 */

#define NOW_ISO "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

/* The row (tree, id, rev) is the version both sides last agreed on. */
#define AGREED(T, ID, REV)                                                     \
	REV " = (SELECT rev FROM sync_state WHERE tree = " T                   \
	    " AND story_id = " ID ")"

/* The tree the store is about (store_base_tree), in storysync's own SQL:
 * a function only its connections have, as storysync_digest. Every query
 * of a table that holds trees filters by it. */
#define TREE "storysync_tree()"

#define CLOCK "(SELECT value FROM rev_clock WHERE id = 1)"

/* The canonical forms of story.h, in enum story_field order: the columns
 * of schema 5, then parent. */
#define STORY_COLUMNS STORY_COLUMNS_5 ", parent"
#define STORY_FIELDS_5(DEPS)                                                   \
	"id, backlog, status, epic, title, priority, points,"                  \
	" CASE WHEN assignees IS NULL THEN NULL WHEN json_valid(assignees)"    \
	" AND json_type(assignees) IN ('array', 'object') THEN"                \
	" json(assignees)"                                                     \
	" ELSE json_array(assignees) END,"                                     \
	" CASE WHEN json_valid(labels) THEN json(labels) ELSE labels END,"     \
	" (SELECT nullif(json_group_array(depends_on), '[]') FROM"             \
	" (SELECT depends_on FROM story_dependencies d WHERE " DEPS            \
	" ORDER BY depends_on)), created,"                                     \
	" nullif(CASE WHEN json_valid(extra) THEN json(extra) ELSE extra END," \
	" '{}'), body"

/* Schema 8's: the dependencies of the row's own tree. */
#define STORY_COLUMNS_5                                                        \
	STORY_FIELDS_5("d.tree = stories.tree AND d.story_id = stories.id")
/* Before schema 8: no tree. */
#define STORY_COLUMNS_5_NOTREE STORY_FIELDS_5("d.story_id = stories.id")

/* The fields of a sync_base row, in the canonical forms of story.h. */
#define BASE_COLUMNS BASE_COLUMNS_5 ", json_extract(row,'$.parent')"
#define BASE_COLUMNS_5                                                         \
	"json_extract(row,'$.id'), json_extract(row,'$.backlog'),"             \
	" json_extract(row,'$.status'), json_extract(row,'$.epic'),"           \
	" json_extract(row,'$.title'), json_extract(row,'$.priority'),"        \
	" json_extract(row,'$.points'), json_extract(row,'$.assignees'),"      \
	" json_extract(row,'$.labels'),"                                       \
	" nullif(json_extract(row,'$.depends_on'), '[]'),"                     \
	" json_extract(row,'$.created'),"                                      \
	" nullif(json_extract(row,'$.extra'), '{}'), "                         \
	"json_extract(row,'$.body')"

/* The digest of a row, and of a saved base, as sync_state keeps it: a
 * function only storysync's connections have (store_digest), never in a
 * trigger the API runs. Schema 5's fields and the path, then the parent,
 * which counts only when it is not NULL: a digest taken before schema 7
 * is the same digest after it (store_story_digest). */
#define DIGEST_ROW                                                             \
	"storysync_digest(" STORY_COLUMNS_5 ", stories.path, stories.parent)"
#define DIGEST_BASE                                                            \
	"storysync_digest(" BASE_COLUMNS_5 ", json_extract(row,'$.path'),"     \
	" json_extract(row,'$.parent'))"
/* Schema 5's, for its migration step: the column parent is not there
 * yet. */
#define DIGEST_ROW_5                                                           \
	"storysync_digest(" STORY_COLUMNS_5_NOTREE ", stories.path)"
#define DIGEST_BASE_5                                                          \
	"storysync_digest(" BASE_COLUMNS_5 ", json_extract(row,'$.path'))"

_Static_assert(SF_COUNT == 14, "STORY_COLUMNS and BASE_COLUMNS list 14");
_Static_assert(SF_PARENT == SF_COUNT - 1, "parent is the last column");

/* The cached statements, each prepared on its first use; their SQL is in
 * the table of the file that runs them. */
enum stmt_id {
	/* store_sqlite_state.c */
	ST_STATE_LOAD,
	ST_STATE_BY_PATH,
	ST_STATE_BY_ID,
	ST_STATE_COUNT,
	ST_STATE_BASE,
	ST_STATE_AGREED,
	ST_STATE_MIRRORS,
	ST_BASE_DELETE,
	ST_STATE_PUT,
	ST_STATE_ADD,
	ST_STATE_ADD_MANY,
	ST_STATE_RESTAT,
	ST_STATE_DELETE,
	ST_DEPS_ORPHANS,
	ST_DELETED_PUT,
	ST_DELETED_GET,
	ST_DELETED_OF,
	ST_DELETED_FORGET,
	ST_ARCHIVED_GET,
	/* store_sqlite_story.c */
	ST_IS_EMPTY,
	ST_STORY_GET,
	ST_STORY_UPSERT,
	ST_STORY_UPSERT_MANY,
	ST_STORY_TOUCH,
	ST_STORY_REV,
	ST_DEPS_DELETE,
	ST_DEPS_INSERT,
	ST_DEP_INSERT,
	ST_DEP_INSERT_MANY,
	ST_STORY_SET_PATH,
	ST_STORY_DELETE,
	ST_PATH_RELEASE,
	ST_CHANGES,
	ST_CHANGES_ALL,
	ST_MARK_SET,
	ST_CLOCK_MOVED,
	/* store_sqlite_record.c */
	ST_META_GET,
	ST_META_SET,
	ST_BACKLOG_NAMES,
	ST_BACKLOG_DELETE,
	ST_BACKLOG_PUT,
	ST_HISTORY_ADD,
	ST_HISTORY_ADD_MANY,
	ST_EVENT_ADD,
	ST_EVENT_ADD_MANY,
	ST_CONFLICT_ADD,
	ST_CONFLICT_ADD_ONCE,
	ST_RUN_ADD,
	ST_RUN_UPDATE,
	/* store_sqlite_config.c */
	ST_CONFIG_BACKLOGS,
	ST_LOCATIONS,
	ST_STORY_RELOCATE,
	ST_STATE_REV,
	ST_STATE_RELOCATE,
	ST_BASE_RELOCATE,
	/* store_sqlite_txn.c */
	ST_UNIT_BEGIN,
	ST_UNIT_KEEP,
	ST_COUNT
};

/* The SQL of store_sqlite_state.c's cached statements. */
extern const char *const store_state_sql[ST_COUNT];
/* The SQL of store_sqlite_story.c's cached statements. */
extern const char *const store_story_sql[ST_COUNT];
/* The SQL of store_sqlite_record.c's cached statements. */
extern const char *const store_record_sql[ST_COUNT];
/* The SQL of store_sqlite_config.c's cached statements. */
extern const char *const store_config_sql[ST_COUNT];
/* The SQL of store_sqlite_txn.c's cached statements. */
extern const char *const store_txn_sql[ST_COUNT];

/* Rows a first load queues, inserted STORE_QUEUE_ROWS a statement
 * (store_queue_row): one statement a row costs SQLite twice the CPU for
 * rows as small as the events' and the history's. */
#define STORE_QUEUE_ROWS 32
#define STORE_QUEUE_COLS 16
#define STORE_QUEUES     5

/* R, STORE_QUEUE_ROWS times, for the rows of a queue's statement */
#define ROWS_2(R)  R ", " R
#define ROWS_8(R)  ROWS_2(ROWS_2(ROWS_2(R)))
#define ROWS_32(R) ROWS_2(ROWS_2(ROWS_8(R)))
_Static_assert(STORE_QUEUE_ROWS == 32, "ROWS_32 writes the rows");

/* A value of a queued row: text (NULL: SQL NULL), or an integer when
 * is_int. */
struct store_val {
	const char *text;
	int64_t num;
	bool is_int;
};

struct store_queue {
	enum stmt_id one, many; /* the row's INSERT, and its many rows' */
	char *table;            /* the table it inserts into */
	int ncols, n;
	/* the rows; a text that is not NULL is the one at off in texts */
	struct store_val v[STORE_QUEUE_ROWS][STORE_QUEUE_COLS];
	size_t off[STORE_QUEUE_ROWS][STORE_QUEUE_COLS];
	struct buf texts; /* the rows' texts, each ending in a NUL */
};

struct store {
	struct store_base base; /* first: store.c dispatches through it */
	sqlite3 *db;
	char *path;
	int busy_ms;        /* < 0: wait for as long as it takes */
	int64_t busy_since; /* when the current wait began */
	int64_t waited_ns;  /* how long the last wait took */
	bool busy;          /* an operation gave up waiting: try later */
	int64_t writer_rev; /* the rev of this transaction's own writes, 0
			       before the first */
	bool first_load;    /* bulk mode: every story put is a new one */
	bool left_wal;      /* and it left WAL for a rollback journal */
	bool untracked;     /* the triggers are dropped in this transaction
			       (a first load), to be made again at commit */
	bool unindexed;     /* so are the secondary indexes (a first load
			       into a database without a story) */
	bool baseless;      /* and sync_base holds no row of the tree: with
			       the triggers dropped none comes, and a story's
			       base needs no delete */
	unsigned bulk_puts; /* stories a first load put, for its writeback */
	bool unit_writer;   /* the writer mark was set before the unit */
	bool refused;       /* the last failure: a value refused */
	/* the last history row and event before this transaction's writes */
	int64_t history_floor, events_floor;
	/* NULL-terminated: the SQL tables of the files above, by statement
	 * id (store_sqlite.c) */
	const char *const *const *stmt_sql;
	sqlite3_stmt *stmt[ST_COUNT];
	/* rows queued, flushed before any statement that names their
	 * table (touches: 0 not known yet, else 1 + a bit a queue), before
	 * any one-shot statement and at commit; dropped at rollback */
	/* a first load's stories rows go by the queue: no trigger on stories
	 * may refuse one (sqlite_writer_on) */
	bool rows_queued;
	struct store_queue queue[STORE_QUEUES];
	unsigned char touches[ST_COUNT];
};

/* Sets e to the error of the last call, with what to do where that is
 * clear, and returns false; a writer that held the database past the wait
 * sets s->busy. */
bool store_dberr(struct store *s, struct err *e);
/* Runs sql (no rows wanted) with sqlite3_exec. */
bool store_exec(struct store *s, const char *sql, struct err *e);
/* A one-shot statement, not cached, for the caller to finalize; NULL with
 * e set on failure. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, struct err *e);
/* The cached statement id, prepared on first use, ready to bind. */
sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id, struct err *e);
/* Resets st and clears its bindings, ready for the next use. */
void store_reset(sqlite3_stmt *st);
/* Queues a row of ncols values (copied) for the statement one, whose
 * SQL is "INSERT INTO table(...) VALUES (...)"; many is the same with
 * STORE_QUEUE_ROWS rows of "?" parameters. Rows go in in the order
 * queued, before any other statement that names the table runs. */
bool store_queue_row(struct store *s, enum stmt_id one, enum stmt_id many,
		     const struct store_val *v, int ncols, struct err *e);
/* Inserts every row queued. */
bool store_queue_flush(struct store *s, struct err *e);
/* Forgets every row queued (the transaction rolled back). */
void store_queue_drop(struct store *s);
/* Steps st once: SQLITE_ROW or SQLITE_DONE, or -1 with e set (and st
 * reset). */
int store_step(struct store *s, sqlite3_stmt *st, struct err *e);
/* Runs a statement that returns no rows to its end, then resets it. */
bool store_exec_stmt(struct store *s, sqlite3_stmt *st, struct err *e);
/* Steps the cached statement id once with key bound to ?1: SQLITE_ROW or
 * SQLITE_DONE, *st then to be read and reset by the caller, or -1 with e
 * set (nothing to reset). */
int store_lookup(struct store *s, enum stmt_id id, const char *key,
		 sqlite3_stmt **st, struct err *e);
/* Runs the cached statement id with key bound to ?1. */
bool store_by_id(struct store *s, enum stmt_id id, const char *key,
		 struct err *e);

/* Called for each row of a statement; false stops the loop early. */
typedef bool (*row_fn)(void *ctx, sqlite3_stmt *st);
/* Steps st through its rows, calling fn on each until it returns false,
 * then resets st; false on a step error (e set). */
bool store_rows_each(struct store *s, sqlite3_stmt *st, row_fn fn, void *ctx,
		     struct err *e);

/* Fills in elem, one element of a row_array, from the row st is at. */
typedef void (*row_read_fn)(void *elem, sqlite3_stmt *st, void *ctx);
/* An array of elements of size bytes that store_rows_collect appends to. */
struct row_array {
	void *v;
	size_t n, cap, size;
};
/* Appends an element read by read (with ctx) to a for each row of st, as
 * store_rows_each; on failure a keeps the rows read, for the caller to
 * free. */
bool store_rows_collect(struct store *s, sqlite3_stmt *st, struct row_array *a,
			row_read_fn read, void *ctx, struct err *e);

/* Binds v (NULL: null) to parameter i, SQLITE_STATIC: every statement is
 * stepped and reset before the caller's strings change. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* A heap copy of column i's text, NULL for null. */
char *store_col_text(sqlite3_stmt *st, int i);
/* Reads the story columns of a row (STORY_COLUMNS' order) into out, from
 * column 0. */
void store_col_story(sqlite3_stmt *st, struct story *out);
/* ISO 8601 UTC of ns (now when 0), with milliseconds when ms is set. */
void store_iso_time(char out[64], int64_t ns, bool ms);

/* WAL, and the synchronous level it needs: every connection's journal
 * but a first load's (store_bulk). */
bool store_wal(struct store *s, struct err *e);
/* Marks the transaction as storysync's before its first story write (the
 * triggers then leave rev and updated to storysync); s->writer_rev is the
 * rev of its writes. An error outside a transaction. */
bool store_writer_on(struct store *s, struct err *e);

/* Checks a read-only store's schema: an error unless it is this build's
 * (older: a sync migrates it; newer: this storysync is too old). */
bool store_schema_check(struct store *s, struct err *e);
/* Migrates the database to this build's schema, the missing steps in one
 * transaction, and makes the triggers anew; a brand-new database is made
 * at it directly (store_sqlite_fresh.h, generated from the steps). */
bool store_schema_migrate(struct store *s, struct err *e);
/* Set: store_schema_migrate replays every step even on a brand-new
 * database (the generator of store_sqlite_fresh.h, which derives the
 * fresh schema from the steps, sets it; storysync never does). */
extern bool store_schema_steps_only;
/* Drops, and makes, the change tracking: the triggers and their view. */
bool store_triggers_drop(struct store *s, struct err *e);
bool store_triggers_make(struct store *s, struct err *e);
/* Drops, and makes, the secondary indexes (not those of a primary key or
 * a unique constraint): a first load into an empty database makes them
 * after its rows, one sort each instead of an insert a row. */
bool store_indexes_drop(struct store *s, struct err *e);
bool store_indexes_make(struct store *s, struct err *e);
/* Gives sync_state a new generation (sync_meta 'state.generation'), as
 * its triggers do: for the writes made while they were dropped. */
bool store_generation_renew(struct store *s, struct err *e);

/* SQLite's store: store_impl.h's operations, as store_sqlite_ops holds
 * them; each does what store.h says of the function of its name. */
/* Opens (creating it when create is set) the SQLite file at path, as
 * store_open_as. */
bool sqlite_open(struct store **out, const char *path, int busy_ms,
		 bool read_only, bool create, bool *busy, struct err *e);
void sqlite_close(struct store *s);
int sqlite_schema_version(const struct store *s);
void sqlite_set_busy_timeout(struct store *s, int ms);
bool sqlite_busy(const struct store *s);
bool sqlite_begin(struct store *s, struct err *e);
bool sqlite_begin_read(struct store *s, struct err *e);
bool sqlite_commit(struct store *s, struct err *e);
void sqlite_rollback(struct store *s);
bool sqlite_unit_begin(struct store *s, struct err *e);
bool sqlite_unit_end(struct store *s, bool keep, struct err *e);
bool sqlite_refused(const struct store *s);
bool sqlite_is_empty(struct store *s);
bool sqlite_bulk(struct store *s, bool on, struct err *e);
bool sqlite_state_load(struct store *s, struct state_table *t, struct err *e);
bool sqlite_state_find(struct store *s, const char *path, const char *id,
		       struct state_table *t, struct err *e);
bool sqlite_state_count(struct store *s, size_t *n, struct err *e);
bool sqlite_state_base(struct store *s, const char *id, struct story *base,
		       char *mirror[SM_COUNT], bool *mirror_known, bool *found,
		       struct err *e);
bool sqlite_state_put(struct store *s, const struct state_entry *se,
		      const struct story *base, char *const *mirror,
		      struct err *e);
bool sqlite_state_restat(struct store *s, const struct state_entry *se,
			 struct err *e);
bool sqlite_state_delete(struct store *s, const char *id, struct err *e);
bool sqlite_deleted_put(struct store *s, const struct deleted_file *d,
			struct err *e);
bool sqlite_archived_get(struct store *s, const char *id, struct story *out,
			 bool *found, struct err *e);
bool sqlite_deleted_get(struct store *s, const char *path, const char *id,
			struct deleted_file *out, bool *found, struct err *e);
bool sqlite_story_get(struct store *s, const char *id, struct story *out,
		      int64_t *rev, char **path, bool *found, struct err *e);
bool sqlite_story_put(struct store *s, const struct story *st, const char *path,
		      int64_t *rev, struct err *e);
bool sqlite_story_set_path(struct store *s, const char *id, const char *path,
			   int64_t *rev, struct err *e);
bool sqlite_story_delete(struct store *s, const char *id, struct err *e);
bool sqlite_changes(struct store *s, int64_t mark, bool all,
		    struct db_change **out, size_t *n, struct err *e);
bool sqlite_changes_plan(struct store *s, char **plan, struct err *e);
bool sqlite_mark_get(struct store *s, int64_t *mark, struct err *e);
bool sqlite_mark_set(struct store *s, struct err *e);
bool sqlite_clock_moved(struct store *s, bool *moved, struct err *e);
bool sqlite_meta_get(struct store *s, const char *key, char **value,
		     struct err *e);
bool sqlite_meta_set(struct store *s, const char *key, const char *value,
		     struct err *e);
bool sqlite_backlogs_sync(struct store *s, const struct config *c,
			  struct err *e);
bool sqlite_config_get(struct store *s, struct config_record *r, struct err *e);
bool sqlite_config_put(struct store *s, const struct config *c,
		       char *const *former_status, char *const *former_backlog,
		       struct err *e);
bool sqlite_locations(struct store *s, store_location_fn fn, void *ctx,
		      struct err *e);
bool sqlite_story_relocate(struct store *s, const char *id, const char *backlog,
			   const char *status, const char *path, bool agreed,
			   int64_t *rev, struct err *e);
bool sqlite_base_relocate(struct store *s, const char *id, const char *backlog,
			  const char *status, const char *path, struct err *e);
bool sqlite_state_relocate(struct store *s, const char *id, const char *path,
			   struct err *e);
bool sqlite_history_add(struct store *s, const struct history_row *h,
			struct err *e);
bool sqlite_event_add(struct store *s, const char *story_id, const char *change,
		      const char *origin, int64_t run_id, struct err *e);
bool sqlite_conflict_add(struct store *s, const struct conflict_row *c,
			 struct err *e);
bool sqlite_run_add(struct store *s, const struct run_record *r, int64_t *id,
		    struct err *e);
bool sqlite_run_update(struct store *s, int64_t id, const struct run_record *r,
		       struct err *e);
bool sqlite_story_path(struct store *s, const char *id, char **path,
		       bool *found, struct err *e);
bool sqlite_story_forget(struct store *s, const char *id, struct err *e);
bool sqlite_story_id_by_path(struct store *s, const char *path, char **id,
			     struct err *e);
bool sqlite_history_has_git(struct store *s, const char *story_id,
			    const char *commit_id, const char *to_status,
			    bool *yes, struct err *e);
bool sqlite_history_credits(struct store *s, const char *story_id,
			    const char *from, const char *to,
			    struct history_credit **v, size_t *n,
			    struct err *e);
bool sqlite_history_recredit(struct store *s, int64_t id,
			     const struct history_row *h, struct err *e);
bool sqlite_history_of(struct store *s, const char *story_id,
		       struct history_entry **v, size_t *n, bool *known,
		       struct err *e);
bool sqlite_check(struct store *s, store_check_fn fn, void *ctx, struct err *e);
bool sqlite_runs_last(struct store *s, size_t max, struct run_row **out,
		      size_t *n, struct err *e);
bool sqlite_runs_failing(struct store *s, long *n, struct err *e);
bool sqlite_conflicts_list(struct store *s, size_t max,
			   struct conflict_info **out, size_t *n,
			   struct err *e);
bool sqlite_conflicts_count(struct store *s, long *n, struct err *e);
bool sqlite_conflicts_resolve(struct store *s, int64_t id, long *n,
			      struct err *e);
bool sqlite_events_unconsumed(struct store *s, long *n, struct err *e);
bool sqlite_story_counts(struct store *s, store_count_fn fn, void *ctx,
			 struct err *e);
bool sqlite_rows_pending(struct store *s, store_count_fn fn, void *ctx,
			 struct err *e);
bool sqlite_prune(struct store *s, const struct config_retention *r,
		  struct prune_counts *out, struct err *e);
bool sqlite_conflict_get(struct store *s, int64_t id, struct conflict_info *out,
			 bool *found, struct err *e);
bool sqlite_tree_claim(struct store *s, const char *host, const char *path,
		       bool take_over, char **holder, bool *moved,
		       struct err *e);
bool sqlite_tree_other(struct store *s, const char *host, const char *path,
		       char **name, struct err *e);
bool sqlite_tree_release(struct store *s, const char *host, const char *path,
			 struct err *e);
bool sqlite_trees_list(struct store *s, struct tree_info **out, size_t *n,
		       struct err *e);

#endif
