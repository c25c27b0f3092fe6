#ifndef STORYSYNC_CORE_SYNC_IMPL_H
#define STORYSYNC_CORE_SYNC_IMPL_H

/*
 * The run's own header: struct run, and what its files call of each
 * other's. Only the sync*.c files include it; the rest of storysync sees
 * sync.h.
 *
 * sync.c          the run: sync_run, detect, plan, apply, its transaction
 * sync_load.c     the first load, streamed in batches
 * sync_guard.c    the guards: what stops a run before it writes
 * sync_discard.c  a discard of storysync's own writes, told from an edit
 * sync_record.c   the run's record: messages, its row, the record file
 * sync_cache.c    the stat cache: opened for the walk, written anew
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "buf.h"
#include "detect.h"
#include "fsx.h"
#include "githead.h"
#include "journal.h"
#include "mem.h"
#include "plan.h"
#include "reconcile.h"
#include "runrecord.h"
#include "seam.h"
#include "store.h"
#include "strmap.h"
#include "sync.h"

/* One action and the sides it was planned from. */
struct planned {
	struct action a;
	const struct file_change *fc; /* NULL when the file side is as the
					 state has it */
	const struct db_side *d;      /* NULL when the row is */
};

struct run {
	const struct config *c;   /* the configuration, or sel */
	const struct config *all; /* the configuration, whole */
	/* --backlog: the configuration with the selected backlogs only, the
	 * state entries of their stories, and the ids of the others' */
	struct config sel; /* selecting: c is &sel */
	struct state_entry *shown;
	struct strmap hidden;
	const struct sync_options *o;
	const struct sync_report *r;
	struct sync_counts *n;
	struct err *e;
	struct store *store;
	/* the database file, as found before it was opened, and whether it
	 * is the one the runs here synced (same_database): the run record
	 * then records it */
	struct dbhome_file db_file;
	bool db_confirmed;
	/* git's index listing none of the database's files, to record
	 * (dbcheck_same) */
	struct gitindex_stamp index_none;
	int rootfd;
	struct state_table table;
	const struct state_entry *state; /* table.v, table.n */
	size_t nstate;
	size_t total_state; /* all state entries, loaded or not */
	bool partial_state; /* git mode: only the entries the diff names */
	struct strmap state_by_id;
	struct scan_result scan;
	struct git_result git;
	struct git_mirrors mirrors; /* asked when a mirror key disagrees */
	bool by_diff;               /* the file side came from a git diff */
	char *last_commit;
	struct db_result db;
	struct reconcile rc;  /* the configuration since the last run */
	struct planned *plan; /* in the order planned, not yet applied */
	size_t nplan, capplan;
	size_t napplied; /* actions carried out by this run */
	struct apply_ctx apply;
	bool deferred; /* a DB change left for a later run */
	int64_t run_id;
	struct run_record rec;
	struct buf messages;
	int journal_fd;         /* the write journal, or -1 */
	char *journal_path;     /* its file */
	struct journal journal; /* what earlier runs, killed, wrote in it */
	/* the stories this run committed, and those it left for later: the
	 * journal keeps the lines of the second, forgets those of the first */
	struct strmap committed, waiting;
	/* the "t " lines of the killed runs' temporary files kept beside
	 * their stories (HEAD off the line), which the journal keeps for
	 * the run that removes them */
	struct buf kept_temps;
	struct arena journal_ids;
	/* the journal's conflicts of the writes this run found in place: a
	 * killed run's, recorded by this one (once) */
	const struct journal_conflict **replayed;
	size_t nreplayed, capreplayed;
	/* the journal's deletions of files for the API's deletions that a
	 * killed run made and did not commit, finished by this one */
	const struct journal_deletion **redeleted;
	size_t nredeleted, capredeleted;
	/* a plain run on a checkout that left the last synced commit's line
	 * (detect_git_left): the stories whose file is HEAD's version held,
	 * the last synced commit kept; asked once (off_line), when
	 * left_asked is still false */
	bool left_line, left_asked;
	/* HEAD read only for record_head (head_for_record): no file
	 * changed */
	bool head_late;
	bool bulk; /* the first load: store_bulk is on */
	/* the first load: the emptied story of the file change planned,
	 * where apply_one leaves the action's story it was given, to be
	 * freed with its batch by the reader that allocated it (sync_load.c) */
	struct story *hand_back;
	/* a row changed since the mark (quiet found it): files will likely
	 * be written, and the file system's writeback is begun ahead */
	bool clock_moved;
	struct fsx_preflush *preflush;
	struct refusal {
		size_t row;        /* in db.rows */
		const char *field; /* "id" or "epic" */
	} * refused;               /* DB changes refused at plan time */
	size_t nrefused;
	/* the stat cache (sync_cache.c) */
	struct statcache *cache; /* usable, or NULL */
	bool state_later;        /* the walk was the cache's: no state read */
	bool gen_known;          /* sync_state's generation when it began: */
	int64_t gen;
	bool table_at_gen; /* table is the whole of sync_state at gen */
	struct stat root_st;
	/* the walk started as the run began, with the cache of whatever
	 * generation it holds (cache_walk_ahead), and that cache */
	struct scan_walk *ahead;
	struct statcache *ahead_cache;
};

/* sync_cache.c */
/* The stat cache a walk of the whole tree may use, or NULL; reads the
 * generation of sync_state for cache_keep either way (full: the run reads
 * every file, and uses none). */
struct statcache *cache_open(struct run *run, bool full);
/* Starts the walk of a plain run (no --git, --full or --backlog) of a
 * tree with a stat cache as soon as the run holds its lock, so that it
 * goes on while the database opens and answers its first reads (a
 * server's connection takes as long as the walk): the cache is the one
 * the file holds, of whatever generation; cache_walk takes the walk only
 * when it is the one it would have started. Opens run->rootfd. */
void cache_walk_ahead(struct run *run);
/* The walk of the whole tree for detect_files (progress p), with the
 * stat cache cache_open gives: the walk started ahead when it has that
 * cache, else a new one, the walk ahead cancelled. */
struct scan_walk *cache_walk(struct run *run, bool full,
			     struct sync_progress *p);
/* The walk ahead, if any, joined and dropped with its cache. */
void cache_ahead_cancel(struct run *run);
/* After the state was loaded: whether the table is sync_state at the
 * generation cache_open read. */
void cache_loaded(struct run *run);
/* At the end of a run that ended with status: the cache written anew
 * when it was not usable and the run holds the state it needs. */
void cache_keep(struct run *run, enum sync_status status);

/* sync_record.c */
/* An error of the run: reported, recorded, counted. */
void problem(struct run *run, const char *msg);
/* A note the report shows (-v); nothing is recorded. */
void note(struct run *run, const char *msg);
/* note and the report's warning, as handlers (dbcheck.h): ctx is the run. */
void run_note(void *ctx, const char *msg);
void run_warning(void *ctx, const char *msg);
/* Fills the run's sync_runs row from its counts, with exit_code. */
void finish_record(struct run *run, int exit_code);
/* A failed run's row; its id, or 0 when none could be written. */
int64_t record_failure(struct run *run, int exit_code);
/* Adds the run, ended as st, to the run record file. */
void update_run_record(struct run *run, enum sync_status st);

/* sync_guard.c */
/* Guard: a backlog directory missing or empty while its stories vanished. */
bool guard_backlogs(struct run *run);
/* Guard: a stage directory missing or empty while its stories vanished. */
bool guard_stages(struct run *run);
/* Guard: more than GUARD_DELETE_SHARE% of all stories deleted at once. */
bool guard_deletes(struct run *run);

/* sync_discard.c */
/* Whether the file fc is a discard of storysync's own writes. */
bool discarded(struct run *run, const struct file_change *fc,
	       const struct state_entry *se);
/* Whether fc may be an edit on top of git's version from before storysync's
 * writes. */
bool rebased(struct run *run, const struct file_change *fc,
	     const struct state_entry *se, const struct story *base,
	     struct story *out);
/* Keeps the file's values a discard overrides, which may be a person's
 * typed back (or moved back), as a conflict the database won. */
void doubt_discarded(const struct plan_input *in, struct action *a);
/* Keeps the file's values in the fields maybe says (SF_COUNT) that a
 * loses, which may be a person's typing of a killed run's values again,
 * as a conflict the database won. */
void doubt_retyped(const struct story *file, const bool maybe[],
		   struct action *a);
/* Takes back a rebased merge's fields that may be a person's typing. */
void doubt_rebased(const struct plan_input *in, struct action *a);
/* Sets a->before: git's version a write or a move goes over (journaled:
 * the file holds a killed run's write, which is taken as this one's). */
void set_before(struct run *run, const struct file_change *fc,
		const struct state_entry *se, bool journaled, struct action *a);
/* Sets a->head and a->before for the deletion of se's file for the API,
 * or, with no state, of fc's when it is a killed run's own file for a
 * row the API deleted since (ours_gone). */
void set_deleted(struct run *run, const struct state_entry *se,
		 const struct file_change *fc, bool ours_gone,
		 struct action *a);
/* Whether fc is git's version put back of a file storysync deleted for
 * the API; false when the store fails. */
bool undeleted(struct run *run, const struct file_change *fc, bool *yes);
/* Whether copy is git's version put back of a copy storysync removed as a
 * leftover (a detect_copy_fn, ctx the run). */
bool deleted_copy(void *ctx, const struct file_change *copy);
/* Whether git's index or HEAD holds blob at path, or any version there
 * for a NULL blob (a detect_held_fn, ctx the run); held when git cannot
 * say. */
bool held_by_git(void *ctx, const char *path, const char *blob);
/* Whether git's index or HEAD holds blob at path, and no commit or staged
 * change since the last run's commit changed path (a discard put it
 * back, not a person's commit: a detect_held_fn, ctx the run); not when
 * git cannot say. */
bool git_has(void *ctx, const char *path, const char *blob);
/* Whether git's version of se's file (se->before, the caller's to
 * check) at path is one a discard put back, not a person's move of it:
 * at the path storysync's write took the file from (state_entry.
 * before_path, or followed back to it through a configuration change
 * since the last run), whichever commit took it there since; or where
 * git holds it unchanged since the last run's commit (git_has), when
 * git can say: with before_path known and that commit pruned since, a
 * copy elsewhere is the person's (a detect_put_fn, ctx the run). */
bool git_put_beside(void *ctx, const struct state_entry *se, const char *path);
/* Whether git took storysync's write of se (its content at its path),
 * staged or committed since it was written; with path (else NULL), in a
 * version holding nothing at path nor where the write took the file from
 * (se->before_path): git took storysync's file as the story's one file,
 * and a file at path since is a person's, never a discard's (a
 * detect_put_fn, ctx the run; not when git cannot say). */
bool git_took_write(void *ctx, const struct state_entry *se, const char *path);
/* Whether the last run's commit held storysync's file of se as it
 * wrote it (se->hash) at some path, a second path where storysync's move
 * left git's bytes (se->before: one is git's version): git had taken the
 * file before that run (a detect_kept_fn, ctx the run); not when git
 * cannot say. */
bool git_kept(void *ctx, const struct state_entry *se);
/* The journal line of the scan's leftover l (git's version beside
 * storysync's move), noted and made durable before its removal (heap). */
char *leftover_line(struct run *run, const struct scan_leftover *l);
/* Records the leftovers removed before the transaction, this run's and
 * the journal's (an earlier run's, never committed), as storysync's
 * deletions, and the values a person may have typed into them. */
bool record_leftovers(struct run *run);
/* Whether fc, a story file with no state and no row at a path git holds
 * a file at, brings back a story whose row a run deleted: *row gets the
 * row as deleted, *yes says, and *api whether that deletion was the
 * API's, whose file storysync deleted and git never took (the file is
 * git's version put back, then committed or moved: not undeleted); false
 * when the store fails (run->e). */
bool resurrected(struct run *run, const struct file_change *fc,
		 struct story *row, bool *yes, bool *api);
/* The deletion's conflict of a row the API deleted that the file fc's
 * story brings back (resurrected's api): the row as deleted is kept in
 * sync_conflicts in full (deleted_in_db, kept file), as when a run sees
 * the deletion against a changed file: the deletion itself is what the
 * file overrules, whether or not a field differs. */
void doubt_deleted(const struct story *file, const struct story *gone,
		   struct action *a);
/* Whether fc, found in place of se's file at another path, is a version
 * git holds there unchanged since the last run (a stale copy, not an
 * edit). */
bool stale_copy(struct run *run, const struct file_change *fc,
		const struct state_entry *se);
/* Keeps other's values that the file's overrode in a as lost. */
void doubt_stale(const struct story *file, const struct story *other,
		 const char *kind, struct action *a);

/* sync_load.c */
/* The first load, streamed: the tree read into an empty database. */
bool import(struct run *run);

/* sync.c */
/* The run's transaction begun: its row, and the configuration. */
bool open_run(struct run *run);
/* Everything applied: the refusals, the mark, HEAD, the run's row, the commit.
 * */
bool close_run(struct run *run, int64_t applied_at, int64_t cpu_at);
/* Gets apply ready for the actions to come. */
void apply_begin(struct run *run);
/* Carries out the actions planned so far, and forgets them. */
bool apply_planned(struct run *run);
/* What follows the last action: the stat data, the files committed. */
bool apply_end(struct run *run);
/* Plans one story from what each side found. */
bool plan_one(struct run *run, const char *id, struct file_change *fc,
	      const struct db_side *d);
/* Reports what the scan found beside the changes (changed of them). */
void report_scan(struct run *run, size_t changed);

#endif
