#ifndef STORYSYNC_CORE_RUNRECORD_H
#define STORYSYNC_CORE_RUNRECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "dbhome.h"
#include "err.h"
#include "gitindex.h"

/*
 * The run record: how the last run ended and how many runs ended each way,
 * kept in a small file of the database's place (dbhome.h: DATABASE.run
 * beside an SQLite file), not in the database, so
 * that a run with nothing to do writes nothing to the database. Written by
 * the run under its lock, replaced whole (a reader sees one version); read
 * by status and metrics without any lock or write access.
 */

enum run_result {
	RUN_OK,      /* exit 0 */
	RUN_SKIPPED, /* exit 1: done, some stories in error */
	RUN_FAILED,  /* exit 2 or 3: nothing committed */
	RUN_GUARDED, /* exit 4: a guard refused it */
	RUN_BUSY,    /* exit 75: the API's writer held the database */
	RUN_RESULTS
};

extern const char *const run_result_names[RUN_RESULTS];

struct run_record_file {
	int64_t ended_ns; /* 0: no run recorded yet */
	double duration_s;
	enum run_result result;
	int exit_code;
	int64_t last_success_ns;  /* the last run that ended 0 or 1 */
	int64_t last_change_ns;   /* the last run that changed something */
	long failing;             /* runs failed in a row (a busy one is
				     not a failure, nor does it end them) */
	int64_t failing_since_ns; /* when the first of them ended */
	int64_t guarded_since_ns; /* a guard has refused every run since */
	long errors;              /* stories in error at the last run */
	long row_errors;          /* of them, rows it refused (the rest are
				     files) */
	long runs[RUN_RESULTS];   /* every run recorded, by result */
	char message[ERR_MAX];    /* the last run's error, or empty */
	/* what the command did after its run (run_record_after) */
	char log_error[ERR_MAX]; /* the log: file cannot be written: why,
				    or empty */
	long notify_failing;     /* notify commands failed in a row */
	int64_t notify_failing_since_ns; /* when the first of them ran */
	char notify_error[ERR_MAX];      /* the last one's failure, or empty */
	/* the database file the runs synced (dbhome_file): a run that
	 * finds another file there refuses it */
	bool db_known;
	struct dbhome_file db;
	/* git's index as a run found it listing none of the database's
	 * files, HEAD's commit holding none either (dbcheck_tracked): while
	 * it is that file still and HEAD that commit, the next run need not
	 * read it */
	struct gitindex_stamp index_none;
	/* the same for the configuration's untracked companion (config.h:
	 * local_none), which every load checks */
	struct gitindex_stamp local_none;
};

/* What the command did after a run, beside the sync itself. */
struct run_after {
	bool notify_ran;          /* the notify command ran */
	const char *notify_error; /* it failed: why; NULL when it exited 0 */
	const char *log_error;    /* the log: file could not be opened: why,
				     or NULL */
};

/* Reads the record; a missing file is an empty record (ended_ns 0). False
 * with e set when it exists and cannot be read. */
bool run_record_read(const struct dbhome *h, struct run_record_file *r,
		     struct err *e);
/* Adds a run that ended now to r: result, exit code, duration, stories in
 * error, whether it changed anything, and its error message (or NULL). */
void run_record_add(struct run_record_file *r, enum run_result result,
		    int exit_code, double duration_s, long errors, bool changed,
		    const char *message);
/* Records what the command did after the run (a failing notify command,
 * a log: file it cannot write: status and metrics tell them), taking the
 * run lock again for a few seconds at most; nothing is written when the
 * record says so already. */
bool run_record_after(const struct dbhome *h, const struct run_after *a,
		      struct err *e);
/* Forgets which database file the runs synced (init's: the next run
 * takes the file there, unless git tracks it), under the run lock, as
 * run_record_after; nothing is written when the record keeps none. */
bool run_record_forget_database(const struct dbhome *h, struct err *e);
/* Replaces the record file. */
bool run_record_write(const struct dbhome *h, const struct run_record_file *r,
		      struct err *e);

#endif
