#ifndef STORYSYNC_HEALTH_H
#define STORYSYNC_HEALTH_H

#include <stdbool.h>

#include "config.h"
#include "runrecord.h"
#include "store.h"
#include "sync.h"

/*
 * Is sync healthy? What status and metrics report, read without a lock and
 * with read access only: the run record, the database (read-only) and,
 * when asked, a dry run for what is pending.
 */

/* The verdict, worst first; each is status's exit code. */
enum verdict {
	VERDICT_HEALTHY = 0,
	VERDICT_ATTENTION = 1,  /* open conflicts or files in error */
	VERDICT_UNREADABLE = 3, /* the database or the tree cannot be read */
	VERDICT_REFUSED = 4,    /* a guard has refused every run since */
	VERDICT_FAILING = 5,    /* the last runs failed */
	VERDICT_STALE = 6,      /* no successful run for stale_after */
	VERDICT_PERMISSION = 7, /* the sync's user cannot write what it must */
};

enum pending_state {
	PENDING_OK,
	PENDING_LOCKED,  /* a sync is running */
	PENDING_GUARDED, /* the next run would be refused */
	PENDING_FAILED,  /* the dry run failed: pending_err says why */
	PENDING_NO_DB,   /* never initialised: nothing to compare with */
	PENDING_NOT_READ /* not asked for */
};

struct story_count {
	char *backlog, *status;
	long n;
};

/* What is pending in one backlog. */
struct backlog_pending {
	char *backlog;
	struct sync_counts n; /* of the dry run: created to conflicts, and
				 file_changes and row_changes: the stories
				 changed on each side */
	long rows_pending;    /* rows the API changed since the last run */
};

struct health {
	bool have_db;
	struct run_record_file rec;
	struct run_row *runs; /* the last few, newest first */
	size_t nruns;
	long nconflicts;                 /* open */
	struct conflict_info *conflicts; /* the latest open ones */
	size_t nlatest;
	long events_unconsumed;
	long rows_pending;
	/* the trees of the database, this one first (store_trees_list) */
	struct tree_info *trees;
	size_t ntrees;
	struct story_count *stories;
	size_t nstories;
	struct backlog_pending *backlogs; /* every configured backlog first,
					     then any other a change names */
	size_t nbacklogs;
	enum pending_state pending;
	struct sync_counts counts; /* of the dry run */
	/* PENDING_OK: the stories the next run would change, by the side
	 * they were changed on, as status counts them (a conflict on both
	 * sides, a file in error on the files' side) */
	long pending_files, pending_rows;
	const char *last_event_id; /* the dry run's last event, its side */
	bool last_event_files;
	struct err pending_err;
	/* permissions: what this user can write; checked against the
	 * verdict only when this user owns the database (is the sync's) */
	bool owner;
	bool tree_writable, db_dir_writable;
	char *unwritable; /* the first directory that is not, or NULL */
	char *tracked;    /* the database's files git tracks, as a warning
			     (dbcheck_tracked_message), or NULL */
	enum verdict verdict;
	char summary[ERR_MAX + 128]; /* the verdict's line */
	struct err e;                /* VERDICT_UNREADABLE: why */
};

/* Reads it all (with a dry run when pending); the verdict is in h. */
void health_read(const struct config *c, bool pending, struct health *h);
void health_finish(struct health *h);

/* "3 min", "2 h 5 min", "4 days": a duration for a person. */
void health_duration(char *out, size_t n, double seconds);

extern const char *const verdict_names[];

#endif
