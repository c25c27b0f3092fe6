#ifndef STORYSYNC_CORE_STORE_H
#define STORYSYNC_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blobid.h"
#include "config.h"
#include "err.h"
#include "fsx.h"
#include "mem.h"
#include "story.h"

/*
 * The database, as the rest of storysync sees it: stories, their sync
 * state, the changes since the mark, and what runs record. Which database
 * library holds them (SQLite for a file path) is the backend's business,
 * chosen by store_open from the database string (store_impl.h); nothing
 * here names one.
 *
 * Change tracking: every write of the API's to a story or its dependencies
 * gives the story a new rev from one change clock, so "changed since the
 * last run" is rev > mark, and costs O(changes). A deleted story is
 * archived in full with the clock value of its deletion.
 *
 * The base of the three-way merge costs nothing while nobody edits a row:
 * it is the row at the rev sync_state agreed on, and the backend keeps a
 * copy of that version just before the API's first change to it.
 */

struct store;

/* Opens (creating if needed) the database the configuration names (a
 * file path, for SQLite) and migrates it to the current schema, waiting
 * for another writer at most busy_ms (the configuration's busy_wait):
 * init's, the only command that creates a database. */
bool store_create(struct store **out, const char *database, int busy_ms,
		  struct err *e);
/* Opens the database, which must exist, and migrates it. */
bool store_open(struct store **out, const char *database, struct err *e);
/* The same with a writer wait (as store_set_busy_timeout), or read-only:
 * nothing is migrated, and an older schema is an error. *busy (may be
 * NULL) tells a failure from waiting past busy_ms. */
bool store_open_as(struct store **out, const char *database, int busy_ms,
		   bool read_only, bool *busy, struct err *e);
/* Closes the database; NULL is fine. */
void store_close(struct store *s);
/* How long the stores opened from now on wait for a database server
 * that does not answer (server_wait: a reply, a send, a connection),
 * beyond the writer wait, before the run gives up: the configuration's,
 * set once it is read. A file's database has no server to wait for. */
void store_set_server_wait(int ms);

/*
 * Trees. A database may hold several trees (one configuration's story
 * files each, named by tree:), and a story is (tree, id). An open store
 * is about one tree: every call below reads and writes that tree's rows,
 * state, mark, meta, history, events, conflicts and runs only. The tree
 * is a property of the store, set once right after it is opened, before
 * any other call; a store whose tree is never set is about the tree
 * named STORE_TREE_DEFAULT, as every database was before trees.
 */
#define STORE_TREE_DEFAULT "default"
/* Sets the tree s is about (a name config_tree_name accepts). An error
 * once any other call was made on s. */
bool store_set_tree(struct store *s, const char *tree, struct err *e);
/* The tree s is about. */
const char *store_tree(const struct store *s);

/* One tree the database holds: its name, the checkout that syncs it
 * (host and absolute path, NULL when none is registered), its last run's
 * end (ISO 8601 UTC, NULL when none) and exit code, and its stories. */
struct tree_info {
	char *name, *host, *path, *last_run;
	int last_exit;
	long stories;
};
/* Registers the checkout (host, path) as the one that syncs s's tree:
 * when no checkout holds it yet, or it is this one, or take_over. When
 * another checkout holds it (and not take_over), nothing is written and
 * *holder gets it as "HOST:PATH" (heap); else *holder is NULL, and
 * *moved says whether the tree moved from another checkout (its stat
 * data is forgotten: the next run reads every file). Reads only when
 * this checkout holds the tree already; outside a transaction, what it
 * writes commits on its own. */
bool store_tree_claim(struct store *s, const char *host, const char *path,
		      bool take_over, char **holder, bool *moved,
		      struct err *e);
/* The checkout (host, path) is registered for another tree than s's:
 * its name into *name (heap; the first by name), NULL when none. One
 * checkout syncs one tree: a configuration whose tree: changed there
 * names a tree the checkout does not hold. Reads only. */
bool store_tree_other(struct store *s, const char *host, const char *path,
		      char **name, struct err *e);
/* The checkout (host, path) gives up every tree but s's it is registered
 * for: they are synced by no checkout then (status says so). Outside a
 * transaction, what it writes commits on its own. */
bool store_tree_release(struct store *s, const char *host, const char *path,
			struct err *e);
/* Every tree the database knows (registered, or with rows), s's first,
 * the rest by name, into *out (heap). */
bool store_trees_list(struct store *s, struct tree_info **out, size_t *n,
		      struct err *e);
/* Frees what store_trees_list returned. */
void store_trees_free(struct tree_info *v, size_t n);
/* The schema version this build writes in s's backend (each backend
 * has its own). */
int store_schema_version(const struct store *s);
/* Sets how long a write waits for the API's writers (default 5000 ms; < 0
 * for as long as it takes). */
void store_set_busy_timeout(struct store *s, int ms);
/* True when an operation failed because another writer held the database
 * past that wait: the run should be tried later, not called failed. */
bool store_busy(const struct store *s);

/* Begins a write transaction that holds the write lock from its start (a
 * transaction that took it only at its first write could fail then, when
 * the API committed meanwhile), waiting up to the busy timeout for the
 * API's writers. */
bool store_begin(struct store *s, struct err *e);
/* Begins a read transaction: one snapshot, for a read-only store. */
bool store_begin_read(struct store *s, struct err *e);
/* Commits the transaction. */
bool store_commit(struct store *s, struct err *e);
/* True when the last store_commit failed after the commit was sent, the
 * server then silent or lost: it may have committed the transaction, or
 * not (the next run goes on from what it holds, as after a kill). */
bool store_commit_unknown(const struct store *s);
/* Rolls the transaction back, if one is open. */
void store_rollback(struct store *s);
/* Takes the row locks of the stories ids (n of them; those with no row
 * are left out) in (tree, id) order, before the run writes any row: an
 * API writer that locks its rows in that order then never deadlocks with
 * a run, which waits for its rows with none held (a configuration
 * change's moves, written before the plan, lock the tree's every row
 * first, so the plan's lock then waits for none). A backend whose
 * transaction holds the whole database's write lock (SQLite) does
 * nothing. */
bool store_lock_stories(struct store *s, char *const *ids, size_t n,
			struct err *e);
/* One story's writes as a unit inside the transaction: store_unit_begin,
 * then store_unit_end(s, true) keeps them, store_unit_end(s, false) undoes
 * them, and the transaction goes on (a backend whose failed statement
 * ends the whole transaction undoes to a savepoint). When a unit's write
 * failed because the database refused the values (store_refused), the run
 * skips that story and carries on. In bulk mode a unit is nothing: a
 * first load is kept or lost as a whole. */
bool store_unit_begin(struct store *s, struct err *e);
bool store_unit_end(struct store *s, bool keep, struct err *e);
/* True when the last failure was the database refusing a value (a
 * constraint, a trigger that raised, a value its type does not take),
 * not a fault of the database itself (a full disk, out of memory, a lost
 * connection) or a busy one. */
bool store_refused(const struct store *s);
/* True when the stories table is empty: a first load, which bulk mode
 * makes faster. */
bool store_is_empty(struct store *s);
/* Bulk mode on, for a first load: every story put is taken for a new one
 * (its id must not have a row), and the backend may load the way that is
 * fastest for an empty database as long as a killed load still rolls
 * back; off: back to the ordinary way. Only while no transaction is
 * open. */
bool store_bulk(struct store *s, bool on, struct err *e);

/* One story's sync state: what both sides last agreed on. */
struct state_entry {
	char *id;
	char *path; /* relative to the config root */
	struct file_stat st;
	int64_t recorded_ns; /* when st was taken, for the racy rule */
	char hash[BLOBID_HEX];
	int64_t rev; /* the row's rev when last agreed */
	/* the fields (bit 1 << field) whose value in the file at hash
	 * storysync wrote from the database and no person edited since */
	uint32_t ours;
	/* with ours: the version HEAD held when storysync's first
	 * of those writes went over it ("" when none): that version back is
	 * a discard of the writes, not an edit. Without: the version git
	 * holds of a file moved where git does not track it, for a later
	 * write's */
	char before[BLOBID_HEX];
	/* with before: the path storysync's write took the file from,
	 * where git held before then (NULL: none known): git's version
	 * back there is a discard; elsewhere a person moved it */
	char *before_path;
};

/* All the state: the entries, their strings in one arena. */
struct state_table {
	struct state_entry *v;
	size_t n, cap;
	struct arena strings;
};

/* Every state entry, without bases, in one sequential pass. */
bool store_state_load(struct store *s, struct state_table *t, struct err *e);
/* Appends to t the state entry at path (path non-NULL) or of id: a few
 * entries instead of all, when a git diff names the few files to look at. */
bool store_state_find(struct store *s, const char *path, const char *id,
		      struct state_table *t, struct err *e);
/* The number of state entries. */
bool store_state_count(struct store *s, size_t *n, struct err *e);
/* Frees what store_state_load filled in. */
void state_table_finish(struct state_table *t);
/* The base version of story id: the version both sides last agreed on,
 * which is the row itself while its rev is the state's, else the copy
 * kept before the API's first change to it; and the mirror keys
 * its file held then (*mirror_known false when unknown). *found false when
 * there is no base. */
bool store_state_base(struct store *s, const char *id, struct story *base,
		      char *mirror[SM_COUNT], bool *mirror_known, bool *found,
		      struct err *e);
/* Inserts or replaces the state of se->id. base non-NULL says the row now
 * holds the agreed version (any saved copy is dropped) and the file holds
 * the mirror keys mirror (NULL: none); base NULL records only the stat data,
 * path and rev. A deleted file recorded at the path is forgotten: a
 * story's file is there again (see store_deleted_put). */
bool store_state_put(struct store *s, const struct state_entry *se,
		     const struct story *base, char *const *mirror,
		     struct err *e);
/* Records se's stat data (and when it was taken) in id's state, while
 * the state still holds se's path and hash: the rest (the rev, the base)
 * is what the run agreed on, never the stale copy se is. */
bool store_state_restat(struct store *s, const struct state_entry *se,
			struct err *e);
/* Forgets the state of id, and the dependencies of a row no longer
 * there. */
bool store_state_delete(struct store *s, const char *id, struct err *e);

/* A story file storysync deleted itself (the API deleted its row, or it
 * was git's copy left beside storysync's move), while git may put it
 * back (a reset, a stash, a checkout of the path): what a later run needs
 * to tell that discard of storysync's deletion from a person's new story
 * or copy. One a path. */
struct deleted_file {
	char *id;                /* its story */
	char *path;              /* where the file was */
	char hash[BLOBID_HEX];   /* its content when deleted */
	char before[BLOBID_HEX]; /* HEAD's version of path then ("": none) */
	char head[BLOBID_HEX];   /* HEAD's commit then */
	/* no deletion of its story archived after it (deleted_stories): the
	 * row's latest deletion is the one this removal carried out (the
	 * API's), not a later run's for a person's deletion of the file */
	bool latest;
};
/* Records d (replacing any entry of its path); a store_state_put at the
 * path forgets it. A backend that keeps none does nothing: git putting
 * the file back is then a person's, as before. */
bool store_deleted_put(struct store *s, const struct deleted_file *d,
		       struct err *e);
/* The entry of path (path non-NULL), else the latest of story id, into
 * *out (zeroed before); *found false when none. */
bool store_deleted_get(struct store *s, const char *path, const char *id,
		       struct deleted_file *out, bool *found, struct err *e);
/* Frees what store_deleted_get filled in. */
void deleted_file_finish(struct deleted_file *d);
/* The row of story id as deleted_stories archived it at its latest
 * deletion, into *out (zeroed before); *found false when none, or when
 * the backend keeps none. */
bool store_archived_get(struct store *s, const char *id, struct story *out,
			bool *found, struct err *e);

/* The row of story id with its dependencies; *found false when none. */
bool store_story_get(struct store *s, const char *id, struct story *out,
		     int64_t *rev, char **path, bool *found, struct err *e);
/* Inserts or updates the row of st->v[SF_ID] (and replaces its
 * dependencies) at path; *rev gets the row's new rev. */
bool store_story_put(struct store *s, const struct story *st, const char *path,
		     int64_t *rev, struct err *e);
/* Sets only the path of story id (the file moved, nothing else changed). */
bool store_story_set_path(struct store *s, const char *id, const char *path,
			  int64_t *rev, struct err *e);
/* Deletes the row of id (archived, as the API's deletions are). */
bool store_story_delete(struct store *s, const char *id, struct err *e);

/* A story whose row changed since the mark. */
struct db_change {
	char *id;
	int64_t rev;  /* the row's rev; 0 when deleted */
	bool deleted; /* no row now */
	bool drifted; /* (all) not the version agreed at its rev: written
			 without the change tracking */
};
/* The stories whose row changed or was deleted after mark (all rows and
 * all state entries without a row, when all is set). */
bool store_changes(struct store *s, int64_t mark, bool all,
		   struct db_change **out, size_t *n, struct err *e);
/* Frees what store_changes returned. */
void store_changes_free(struct db_change *v, size_t n);
/* How the backend finds the changes since a mark (its query plan, a step
 * a line, heap), to prove it stays O(changes). */
bool store_changes_plan(struct store *s, char **plan, struct err *e);
/* The mark: the change clock's value when the last run ended (0 before
 * the first). */
bool store_mark_get(struct store *s, int64_t *mark, struct err *e);
/* Records the current clock as the mark. */
bool store_mark_set(struct store *s, struct err *e);
/* *moved is false only when no row of the store's tree was written or
 * deleted, by anyone, since the last run that set the mark (other trees'
 * writes move the clock, not this). One read. */
bool store_clock_moved(struct store *s, bool *moved, struct err *e);

/* A key of the sync_meta table (e.g. "git.last_commit"); *value NULL when
 * unset. */
bool store_meta_get(struct store *s, const char *key, char **value,
		    struct err *e);
/* Sets a sync_meta key. */
bool store_meta_set(struct store *s, const char *key, const char *value,
		    struct err *e);

/* Makes the backlogs table match the configuration. */
bool store_backlogs_sync(struct store *s, const struct config *c,
			 struct err *e);

/* The configuration a database was last synced with: its backlogs (the
 * backlogs table), its stages and where the status came from (sync_meta),
 * and the names configuration changes renamed, so that a file's key that
 * holds an old name reads as the new one. */
struct config_record {
	struct config_backlog *backlogs;
	size_t nbacklogs; /* 0: none recorded (a new database) */
	struct config_stage *stages;
	size_t nstages; /* 0: none recorded (a database older than 5) */
	bool status_from_key;
	/* NULL-terminated pairs: old name, name now, old name, ... */
	char **former_status;
	char **former_backlog;
};
/* Reads what the database recorded of the configuration. */
bool store_config_get(struct store *s, struct config_record *r, struct err *e);
/* Records c as the configuration the database is synced with, and the
 * renamed names (NULL-terminated pairs, or NULL for none). */
bool store_config_put(struct store *s, const struct config *c,
		      char *const *former_status, char *const *former_backlog,
		      struct err *e);
/* Frees what store_config_get filled in. */
void config_record_finish(struct config_record *r);

/* One story row's location, with its state's and its saved base's; the
 * strings are valid during the call only. */
struct row_location {
	const char *id, *backlog, *status, *path;
	bool has_state; /* a state entry knows the story */
	bool agreed;    /* the row is the version both sides agreed on */
	bool has_base;  /* the API changed it: the agreed version is saved */
	const char *base_backlog, *base_status, *base_path;
	bool mirror_known;            /* the state knows the file's keys */
	const char *mirror[SM_COUNT]; /* its keys at the agreed version */
};
/* Called for each row; false stops. It must not write to the store. */
typedef bool (*store_location_fn)(void *ctx, const struct row_location *l);
/* Calls fn with the location of every story row. */
bool store_locations(struct store *s, store_location_fn fn, void *ctx,
		     struct err *e);
/* Sets the backlog, status and path of story id's row, as storysync's own
 * write (*rev gets the row's new rev); agreed: its state's rev follows, so
 * that the row stays the agreed version. */
bool store_story_relocate(struct store *s, const char *id, const char *backlog,
			  const char *status, const char *path, bool agreed,
			  int64_t *rev, struct err *e);
/* Sets the backlog, status and path of the version saved as id's base. */
bool store_base_relocate(struct store *s, const char *id, const char *backlog,
			 const char *status, const char *path, struct err *e);
/* Sets the path of id's state entry. */
bool store_state_relocate(struct store *s, const char *id, const char *path,
			  struct err *e);

struct history_row {
	const char *story_id;
	const char *from_status; /* NULL for a new story */
	const char *to_status;
	const char *origin; /* "file", "db", "git", "config" */
	const char *commit_id;
	const char *author;
	int64_t changed_at; /* unix seconds; 0 for now */
};
/* Adds a status_history row. */
bool store_history_add(struct store *s, const struct history_row *h,
		       struct err *e);

/* Adds a sync_events outbox row: change is "created", "updated", "moved" or
 * "deleted"; origin "file", "db", "git" or "config". */
bool store_event_add(struct store *s, const char *story_id, const char *change,
		     const char *origin, int64_t run_id, struct err *e);

struct conflict_row {
	const char *story_id;
	const char *kind;         /* "both_changed", "deleted_in_db", ... */
	const char *kept;         /* "file", "db" or "mixed" */
	const char *fields;       /* comma-separated fields decided, or NULL */
	const char *policy;       /* who won each by the policy, or NULL */
	const struct story *lost; /* the losing version in full, or NULL */
	int64_t run_id;
	bool once; /* not when one of this kind already keeps this lost */
};
/* Records a conflict with the losing version in full (as JSON). */
bool store_conflict_add(struct store *s, const struct conflict_row *c,
			struct err *e);

struct run_record {
	int64_t started_ns;
	int64_t ended_ns;
	const char *mode; /* "scan", "full", "git", "dry-run" */
	long created, updated, moved, deleted, conflicts, errors;
	int exit_code;
	const char *messages; /* errors of the run, one per line, or NULL */
};
/* Inserts a sync_runs row; *id gets its id. */
bool store_run_add(struct store *s, const struct run_record *r, int64_t *id,
		   struct err *e);
/* Updates the sync_runs row id. */
bool store_run_update(struct store *s, int64_t id, const struct run_record *r,
		      struct err *e);

/* The path of story id's row; *found false when there is none. */
bool store_story_path(struct store *s, const char *id, char **path, bool *found,
		      struct err *e);
/* Removes every trace this transaction left of story id: its row (and
 * dependencies), state, history and events; a first load's story whose id
 * another file claims too. */
bool store_story_forget(struct store *s, const char *id, struct err *e);
/* The id of the row at path (relative to the config root) into *id (heap),
 * NULL when no row has that path. */
bool store_story_id_by_path(struct store *s, const char *path, char **id,
			    struct err *e);
/* *yes when status_history holds a git row for this story, commit and new
 * status: what makes history backfill safe to run again. */
bool store_history_has_git(struct store *s, const char *story_id,
			   const char *commit_id, const char *to_status,
			   bool *yes, struct err *e);

/* One git row of status_history: its id and the commit it credits. */
struct history_credit {
	int64_t id;
	char *commit; /* NULL when none */
};
/* The git rows of story_id's status change from -> to, oldest first, into
 * *v (heap, each commit too; NULL when none). */
bool store_history_credits(struct store *s, const char *story_id,
			   const char *from, const char *to,
			   struct history_credit **v, size_t *n, struct err *e);
/* Credits the status_history row id to h's commit, author and time. */
bool store_history_recredit(struct store *s, int64_t id,
			    const struct history_row *h, struct err *e);

/* One status_history row, as history ID shows it. */
struct history_entry {
	int64_t id;
	char *at;     /* changed_at, ISO 8601 UTC */
	char *from;   /* NULL: the story was new */
	char *to;     /* NULL when none */
	char *origin; /* "file", "db", "git" or "config" */
	char *commit; /* NULL when none */
	char *author; /* NULL when none */
};
/* The status history of story_id, newest first (by time, then by the
 * order recorded), into *v (heap; NULL when none); *known says whether
 * the database knows the story at all: a row, an archived deletion or a
 * history row. */
bool store_history_of(struct store *s, const char *story_id,
		      struct history_entry **v, size_t *n, bool *known,
		      struct err *e);
/* Frees what store_history_of returned. */
void store_history_free(struct history_entry *v, size_t n);

/* What check --db asks the database, a row at a time. */
enum store_finding {
	STORE_DAMAGED,       /* the database's own check's line, in detail */
	STORE_DEP_NO_STORY,  /* a dependency of id (on detail): no row of id */
	STORE_STATE_NO_ROW,  /* id's sync state (at path): no row, and no
				deletion of the API's pending */
	STORE_BASE_NO_STATE, /* id's saved base: no sync state */
	STORE_STATE_PATH,    /* not a problem: where id's state, with a row,
				has its file */
	STORE_ROW_PATH,      /* not a problem: the path of id's row, which no
				sync state knows */
};
struct store_check_row {
	enum store_finding kind;
	const char *id, *path, *detail; /* valid during the call; may be NULL */
};
/* Called for each row; false stops. */
typedef bool (*store_check_fn)(void *ctx, const struct store_check_row *r);
/* Runs the database's own integrity check, then (when it found nothing) the
 * queries of each other kind, in the order of the enum, calling fn on each row.
 */
bool store_check(struct store *s, store_check_fn fn, void *ctx, struct err *e);

/* One sync_runs row, as status shows it. */
struct run_row {
	int64_t id;
	char *started, *ended; /* ISO 8601 UTC; ended NULL if unfinished */
	char *mode;            /* "scan", "full", "git" */
	long created, updated, moved, deleted, conflicts, errors;
	int exit_code;
	char *messages; /* errors of the run, one per line, or NULL */
};
/* The last max runs, newest first; dry runs are left out. */
bool store_runs_last(struct store *s, size_t max, struct run_row **out,
		     size_t *n, struct err *e);
/* Frees what store_runs_last returned. */
void store_runs_free(struct run_row *v, size_t n);
/* How many of the latest runs in a row failed (exit code != 0), counting
 * back to the last run that exited 0; dry runs are left out. */
bool store_runs_failing(struct store *s, long *n, struct err *e);

/* One sync_conflicts row. */
struct conflict_info {
	int64_t id;
	char *story_id, *at, *kind, *kept;
	char *fields;   /* comma-separated, or NULL */
	char *lost;     /* JSON object field -> string or null, or NULL */
	int64_t run_id; /* 0 when none */
	char *resolved; /* when it was resolved, or NULL: open */
	char *policy;   /* "title=file,status=db", or NULL */
};
/* Recorded conflicts, newest first, at most max (0 for all). */
bool store_conflicts_list(struct store *s, size_t max,
			  struct conflict_info **out, size_t *n, struct err *e);
/* The number of open (not resolved) conflicts. */
bool store_conflicts_count(struct store *s, long *n, struct err *e);
/* Marks conflict id (0: every open one) resolved now; *n how many. */
bool store_conflicts_resolve(struct store *s, int64_t id, long *n,
			     struct err *e);

/* Events past the lowest cursor in sync_consumers (all, without one). */
bool store_events_unconsumed(struct store *s, long *n, struct err *e);
/* Calls fn with the number of stories of each backlog and status. */
typedef void (*store_count_fn)(void *ctx, const char *backlog,
			       const char *status, long n);
bool store_story_counts(struct store *s, store_count_fn fn, void *ctx,
			struct err *e);
/* Calls fn with the rows (and deletions) the API changed that no run has
 * taken yet, for each backlog (status NULL). */
bool store_rows_pending(struct store *s, store_count_fn fn, void *ctx,
			struct err *e);

/* What store_prune deleted, and what it refused to read. */
struct prune_counts {
	long runs, events, conflicts, deleted;
	char *refused; /* heap: one line for each value of the API's that
			  retention will not guess at, or NULL */
};
/* Deletes what the retention settings no longer keep: runs older than
 * r->days or past the newest r->runs, events older than r->days that every
 * registered consumer has read, conflicts resolved more than r->days ago,
 * deleted-story archives older than r->deleted_days (0 keeps for good).
 * Nothing pending goes: an archived deletion no run has applied stays.
 * An odd value the API wrote (a cursor that is not an integer, a resolved
 * that is not an ISO 8601 time) is refused by name in out->refused, and
 * what it governs is kept. status_history is data and is never pruned.
 * Inside the run's transaction. */
bool store_prune(struct store *s, const struct config_retention *r,
		 struct prune_counts *out, struct err *e);
/* The conflict numbered id; *found false when there is none. */
bool store_conflict_get(struct store *s, int64_t id, struct conflict_info *out,
			bool *found, struct err *e);
/* Frees the strings of one conflict_info and empties it. */
void store_conflict_info_finish(struct conflict_info *c);
/* Frees what store_conflicts_list returned. */
void store_conflicts_free(struct conflict_info *v, size_t n);

#endif
