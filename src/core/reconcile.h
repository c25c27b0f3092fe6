#ifndef STORYSYNC_CORE_RECONCILE_H
#define STORYSYNC_CORE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "apply.h"
#include "config.h"
#include "detect.h"
#include "err.h"
#include "githead.h"
#include "store.h"
#include "strmap.h"

/*
 * A change of the configuration since the last run (a stage's status
 * renamed, a backlog renamed or moved, a stage directory renamed, a stage
 * or backlog removed), followed by the rows as a step of its own:
 *
 *   detect  reconcile_detect: the configuration against what the database
 *           recorded, each recorded stage and backlog paired with the one
 *           it is now (by directory, else by name);
 *   plan    reconcile_state: the state's paths as the configuration has
 *           them now, before the scan compares the files with them, so
 *           that a renamed directory's files are the same stories;
 *   apply   reconcile_apply: in the run's transaction, before the DB side
 *           is read, the rows, state and saved bases follow, each story
 *           with a status_history row and a "moved" event of origin
 *           "config"; a file whose mirror key held the old name gets the
 *           new one.
 *
 * The rest of the run then sees the database as if the configuration had
 * always been the new one.
 */

/* The sync_meta key of the way files are read: the keys of the fields,
 * at_strings:, the id template. */
#define RECONCILE_KEY_READING "config.reading"

struct reconcile {
	const struct config *c;   /* the configuration now */
	struct config_record rec; /* what the database recorded (completed:
				     with nothing recorded, c's) */
	struct config was; /* c with the recorded backlogs and stages: where
			      a recorded path lies */
	/* each recorded stage and backlog now, NULL when removed */
	const struct config_stage **stage_now;
	const struct config_backlog **backlog_now;
	bool statuses;  /* status names follow: the location is the status,
			   then and now */
	bool changed;   /* the record is not the configuration: this run
			   records it */
	bool relocates; /* something renamed, moved or removed: rows follow */
	bool reread;    /* the way files are read changed (keys:, at_strings:,
			   file_name:'s id): every file is read again */
	char *reading;  /* that way now, as recorded (heap) */
	/* the renamed names to record and to read keys with (pairs: old
	   name, name now; NULL-terminated) */
	char **former_status, **former_backlog;
	/* the state entries reconcile_state moved, and those in a removed
	   stage or backlog, by id (borrowed from the state table) */
	struct strmap moved, gone;
	struct reconcile_entry {
		const char *id;
		char *was;                            /* the recorded path */
		const struct config_backlog *backlog; /* recorded */
		const struct config_stage *stage;     /* recorded */
	} * entries;
	size_t nentries;
	/* the stages and backlogs of each version of the configuration git
	   committed since the last synced commit, oldest first
	   (reconcile_history): renames are followed through them, so that a
	   name no run saw reads as the one it became */
	struct reconcile_version {
		struct config_stage *stages;
		size_t nstages;
		struct config_backlog *backlogs;
		size_t nbacklogs;
	} * history;
	size_t nhistory;
	bool history_read; /* reconcile_history was called */
	/* HEAD when reconcile_history read every version up to it (or
	   found there were too many): what it found is all there is for
	   those commits; "" when it read none or failed */
	char history_head[GITHEAD_HEX];
	/* the statuses and backlogs only those versions had, each with the
	   name it is now (pairs, NULL-terminated) */
	char **committed_status, **committed_backlog;
	struct strmap followed; /* ids whose file reconcile_apply rewrote */
	size_t napplied;        /* stories reconcile_apply relocated */
};

/* Detect and plan: reads what the database recorded of the configuration
 * (with none recorded for the stages, infers their old names from the
 * agreed rows) and pairs it with c. */
bool reconcile_detect(struct reconcile *r, struct store *s,
		      const struct config *c, struct err *e);
/* What changed, for -v ("status 'backlog' is now 'todo'; ..."), or NULL
 * when nothing that rows follow did. Heap. */
char *reconcile_describe(const struct reconcile *r);
/* Plan: sets each state entry's path to where the configuration has it
 * now, remembering where it was; an entry in a removed stage or backlog
 * keeps its path. */
void reconcile_state(struct reconcile *r, struct state_table *t);
/* Where the last run recorded id's file, when reconcile_state moved its
 * state entry to where the configuration has it now; else NULL. */
const char *reconcile_was(const struct reconcile *r, const char *id);
/* Guard: false (e set) when the scan would delete a story because the
 * configuration removed its stage or backlog, or moved its directory while
 * its file stayed where it was. */
bool reconcile_guard(const struct reconcile *r, const struct scan_result *scan,
		     int rootfd, struct err *e);
/* Told of a story reconcile_apply could not carry out (its row followed,
 * its file did not). */
typedef void (*reconcile_problem_fn)(void *ctx, const char *msg);
/* Apply, in ctx's transaction: the rows, the state of t (in the store and
 * in t), the saved bases, history and events (origin "config") and counts
 * follow; files scan found unchanged have the mirror key that held the old
 * name rewritten. dry: only counts and reports. */
bool reconcile_apply(struct reconcile *r, struct apply_ctx *ctx,
		     struct state_table *t, const struct scan_result *scan,
		     bool dry, reconcile_problem_fn problem, void *pctx,
		     struct err *e);
/* Records the configuration, the way files are read and the renamed
 * names, in the run's transaction. */
bool reconcile_record(const struct reconcile *r, struct store *s,
		      struct err *e);
/* Reads a file's mirror keys (SM_COUNT, heap strings, replaced in place)
 * as the configuration has them now: a key that holds a name the
 * configuration renamed holds the new one (a file from before the rename:
 * an old commit, a discarded rewrite). */
void reconcile_mirrors(const struct reconcile *r, char *mirror[]);
/* True when reconcile_apply rewrote id's file (its state is recorded). */
bool reconcile_followed(const struct reconcile *r, const char *id);

/* The versions of the configuration git committed after the commit since
 * (sync_meta git.last_commit), into r->history: each parsed as untrusted
 * input by config_load_version, only its stages and backlogs kept; one
 * that does not parse is left out (but counted). With no git, HEAD at
 * since, since not on HEAD's first-parent line within
 * RECONCILE_HISTORY_COMMITS commits (a merge's second parent is not
 * followed), more than RECONCILE_HISTORY_VERSIONS versions, or a version
 * with more than RECONCILE_HISTORY_STAGES stages or
 * RECONCILE_HISTORY_BACKLOGS backlogs: none, and the configuration is
 * compared with the record alone (a row holding a name only history had
 * is refused by name). The work on the names is then bounded, and so
 * are the renamed names recorded: at most RECONCILE_FORMER_MAX pairs of
 * each list (committed_status, committed_backlog, former_status,
 * former_backlog). Never fails the run. */
#define RECONCILE_HISTORY_COMMITS  1000
#define RECONCILE_HISTORY_VERSIONS 64
#define RECONCILE_HISTORY_STAGES   256
#define RECONCILE_HISTORY_BACKLOGS 256
#define RECONCILE_FORMER_MAX       256
void reconcile_history(struct reconcile *r, const char *since);
/* Frees r->history. */
void reconcile_history_finish(struct reconcile *r);
/* True when a row naming status and backlog names a status (when the
 * location is the status) or a backlog that is neither the
 * configuration's nor one of the names r translates. */
bool reconcile_unknown(const struct reconcile *r, const char *status,
		       const char *backlog);
/* The history read late, for a run whose record equals the configuration
 * (reconcile_detect read none) but a changed row names what
 * reconcile_unknown says: a rename and back between two runs (A -> B ->
 * A) the API wrote the middle name of. Reads the versions since since
 * and plans again; true when rows now follow (reconcile_apply has work:
 * the names only those versions had). Never fails the run. */
bool reconcile_history_late(struct reconcile *r, const char *since);
/* Sets *since (heap, NULL for none) to the commit the versions of the
 * configuration are read from: where the last run of every backlog
 * synced (config.since, which a --backlog run that moves
 * git.last_commit on keeps), else git.last_commit. */
bool reconcile_since(struct store *s, char **since, struct err *e);

/* The sync_meta key of the names a late read of the history left unknown
 * (issue 19: a row refused for such a name had the history read again by
 * every run): a JSON array of the last synced commit, HEAD, a digest of
 * what the names are followed to (the configuration's stages and
 * backlogs), then the names. */
#define RECONCILE_KEY_UNEXPLAINED "config.unexplained"
/* The names the changed rows of db hold that reconcile_unknown finds
 * unknown, each once: "s" and a status, "b" and a backlog; NULL-terminated
 * (heap, strv_free). NULL when there are more than RECONCILE_FORMER_MAX
 * (then nothing is kept of them). */
char **reconcile_unknown_names(const struct reconcile *r,
			       const struct db_result *db);
/* *spared true when a run read the history late with the last synced
 * commit since, HEAD as it is now and this configuration, and it left
 * every one of names unknown (RECONCILE_KEY_UNEXPLAINED): the same
 * versions would be read again to the same end. */
bool reconcile_history_spared(const struct reconcile *r, struct store *s,
			      const char *since, char *const *names,
			      bool *spared, struct err *e);
/* After reconcile_history_late: records that the versions it read left
 * names (reconcile_unknown_names, read again) unknown; nothing when it
 * did not read them all, or names is NULL. In the run's transaction. */
bool reconcile_history_unexplained(const struct reconcile *r, struct store *s,
				   const char *since, char *const *names,
				   struct err *e);

/* The pure part of reconcile_detect, for r->c and r->rec set: the pairs,
 * the flags and the renamed names. */
void reconcile_plan(struct reconcile *r);
/* Where a story file is now: RECONCILE_SAME (as it was, or not a story
 * path as recorded), RECONCILE_MOVED (*to, heap), or RECONCILE_GONE (its
 * stage or backlog was removed; *backlog and *stage are the recorded
 * ones). */
enum reconcile_where { RECONCILE_SAME, RECONCILE_MOVED, RECONCILE_GONE };
enum reconcile_where reconcile_path(const struct reconcile *r, const char *path,
				    char **to,
				    const struct config_backlog **backlog,
				    const struct config_stage **stage);
/* Where the record (the configuration the last run followed) had the
 * file at path, a path of the configuration now, when this change moved
 * its stage's or backlog's directory (heap); else NULL. */
char *reconcile_path_recorded(const struct reconcile *r, const char *path);
/* The name a recorded status or backlog has now; the name itself when it
 * is not one recorded, or was removed. */
const char *reconcile_status(const struct reconcile *r, const char *status);
const char *reconcile_backlog(const struct reconcile *r, const char *backlog);
/* Frees everything in r. */
void reconcile_finish(struct reconcile *r);

#endif
