#ifndef STORYSYNC_CORE_HISTORY_H
#define STORYSYNC_CORE_HISTORY_H

#include <stdbool.h>

#include "config.h"
#include "dbcheck.h"
#include "err.h"

/*
 * Status history from the git log: each story whose stage directory changed
 * in a commit of HEAD's first-parent history gets a status_history row with
 * origin "git", that commit's id, author and time. Safe to run again: a row
 * already there (from an earlier backfill or a --git sync) is not added,
 * and a --git sync's row that credits the change to a later commit than
 * the one that made it is corrected.
 */

/* What a backfill found and did. */
struct history_counts {
	long commits;   /* commits that touched the backlogs */
	long found;     /* status changes seen in them */
	long recorded;  /* rows added (found minus those already there) */
	long corrected; /* rows a sync credited to a later commit, now
			   credited to the one that made the change */
};

/* What ended a backfill, mapped to an exit code by the command layer. */
enum history_status {
	HISTORY_OK,      /* 0 */
	HISTORY_USAGE,   /* 2: no work tree (bare, or no repository) */
	HISTORY_FATAL,   /* 3: nothing committed */
	HISTORY_GUARDED, /* 4: another checkout's tree, or another tree
			    than this checkout's: nothing written */
	HISTORY_LOCKED,  /* 75: another run holds the lock */
};

/* Walks HEAD's first-parent history oldest first and records every status
 * change (a rename across stage directories, or a delete and an add of one
 * story id in one commit) under the run lock, in one transaction. The
 * story id comes from the file name, else from the row at that path. An
 * unborn HEAD records nothing. Lock held: "another storysync run holds
 * DB.lock". Refused as a run is where another checkout holds the tree or
 * this one syncs another (sync_checkout_check), or where the database is
 * not the file the runs here synced (dbcheck_same: r hears its warnings). */
enum history_status history_backfill(const struct config *c,
				     const struct dbcheck_report *r,
				     struct history_counts *n, struct err *e);

#endif
