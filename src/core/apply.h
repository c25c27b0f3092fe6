#ifndef STORYSYNC_CORE_APPLY_H
#define STORYSYNC_CORE_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "detect.h"
#include "err.h"
#include "plan.h"
#include "report.h"
#include "store.h"

/*
 * Apply: carries the plan's actions out, inside the run's transaction: rows,
 * atomic file writes and moves, state, history, events and conflicts.
 */

struct apply_stage;
struct fsx_batch;

/* A file this run wrote, to record once its timestamp can be trusted. */
struct apply_written {
	char *id;
	char *path;
	char hash[BLOBID_HEX];
	int64_t mtime_ns; /* as read: the clock must pass it */
};

/* The file system's clock in a directory the run wrote in (fsx_fs_clock),
 * read once a round of the batch (apply_flush) */
struct apply_clock {
	char *dir;  /* beneath the root, "" for the root */
	int64_t ns; /* INT64_MIN: it could not be read */
};

struct journal;
struct journal_conflict;

struct apply_ctx {
	const struct config *c;
	int rootfd; /* the config root directory */
	struct store *store;
	int64_t run_id;
	const char *origin_file; /* "file", or "git" in git mode */
	const struct sync_report *report;
	struct sync_counts *counts;
	/* git attribution for status changes found by a diff, or NULL */
	const char *commit_id, *author;
	int64_t commit_time;
	int journal_fd;     /* the write journal (fsx_journal_*), or -1 */
	const char *spares; /* the batch's spare inodes' directory, or NULL */
	const char *spares_root; /* opened beneath it (dbhome's root) */
	/* the conflicts a killed run journaled with the writes the files
	 * found hold, which this run records at its commit (replayed in
	 * sync.c): a write over such a file journals them again with its
	 * own line, or a run killed again would leave them with a write
	 * no file holds any more (model seed 266) */
	const struct journal_conflict *const *replayed;
	size_t nreplayed;
	/* the write journal as the run read it (NULL: none): a write over
	 * a killed run's write carries the conflicts journaled with it
	 * whoever writes (note_write), also a write made before replayed
	 * is known: a rename's mirror key followed (reconcile_apply), model
	 * seed 1384 */
	const struct journal *journal;
	/* the files' writes, batched (fsx_batch), and the actions staged */
	struct fsx_batch *batch;
	struct apply_stage *stages;
	size_t nstages, capstages;
	/* filled in by apply: the files written that were racy when read
	 * back, for apply_settle */
	struct apply_written *written;
	size_t nwritten, capwritten;
	struct apply_clock *clocks;
	size_t nclocks, capclocks;
	char **touched; /* paths written, moved or removed, for git: commit */
	size_t ntouched, captouched;
	bool deferred; /* a story left for the next run (file edited since
			  the scan) */
};

enum apply_result {
	APPLY_DONE,
	APPLY_SKIPPED, /* this story could not be carried out (e says why);
			  the run goes on without it */
	APPLY_FATAL,   /* the run must stop and roll back */
};

/* Carries out one action for a story whose file side is fc and DB side d
 * (NULL when that side did not change) and whose state is se (NULL when
 * none). A file that changed since the scan is left alone (it wins on the
 * next run; ctx->deferred is set). */
enum apply_result apply_action(struct apply_ctx *ctx, const struct action *a,
			       const struct file_change *fc,
			       const struct db_side *d,
			       const struct state_entry *se, struct err *e);
/* Batched, as fsx_batch: apply_stage does the file work of each action
 * up to its temporary file written (slot i, any order), apply_flush makes
 * them all durable at once, apply_staged then carries each out as
 * apply_action would, and apply_sync fsyncs the directories changed;
 * false from it: the renames may be lost, the run must not commit. */
void apply_stage(struct apply_ctx *ctx, size_t i, const struct action *a,
		 const struct file_change *fc, const struct state_entry *se);
/* The one barrier for the contents of the files staged. */
void apply_flush(struct apply_ctx *ctx);
/* apply_action for the action staged in slot i (the same a, fc and se). */
enum apply_result apply_staged(struct apply_ctx *ctx, size_t i,
			       const struct action *a, const struct db_side *d,
			       const struct state_entry *se, struct err *e);
/* fsyncs each directory the actions changed since the last call, once. */
bool apply_sync(struct apply_ctx *ctx, struct err *e);
/* Has apply_settle record the stat data of the file at path again, as the
 * state of id holding hash, when st, read at recorded_ns, is racy;
 * nothing when it is not. Only the stat data: the entry's rev, base and
 * the rest are what the run agreed on (a same-value API update's rev). */
void apply_settle_later(struct apply_ctx *ctx, const char *id, const char *path,
			const char *hash, const struct file_stat *st,
			int64_t recorded_ns);
/* Records the stat data of the files this run wrote, or recorded the stat
 * data of, that were racy when read (apply_settle_later), once their
 * file system's clock (fsx_fs_clock) has passed their mtimes, where the
 * entry still holds the hash and path they were read with; the others'
 * are recorded already. It waits for the clock at most SETTLE_WAIT_NS
 * (apply.c): a file whose mtime it has not passed by then stays racy, and
 * the next run reads it. */
bool apply_settle(struct apply_ctx *ctx, struct err *e);
/* git: {commit: true}: commits the files this run wrote, moved or removed
 * as one commit, whose id goes to head. libgit2 runs no hooks, so the
 * commit does not re-enter storysync. */
bool apply_git_commit(const struct apply_ctx *ctx, char head[41],
		      struct err *e);
/* Frees what apply collected. */
void apply_ctx_finish(struct apply_ctx *ctx);

/* A dry run's apply_action: tells the report what carrying a out would
 * (the side written, the file's path after it: report's own line), and
 * carries out nothing; false, with e, for a story the run would skip
 * (no path its values can take). */
bool apply_tell(struct apply_ctx *ctx, const struct action *a,
		const struct file_change *fc, const struct state_entry *se,
		struct err *e);
/* Tells r of the action a: the side written (where) and the file at path;
 * the story's backlog is the agreed version's, or else its file's. */
void apply_report(const struct config *c, const struct sync_report *r,
		  const struct action *a, const char *where, const char *path);

#endif
