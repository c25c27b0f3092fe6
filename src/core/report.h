#ifndef STORYSYNC_CORE_REPORT_H
#define STORYSYNC_CORE_REPORT_H

#include <stdatomic.h>

/*
 * What a run tells as it goes, and its counts: shared by the run (sync.h)
 * and its apply stage (apply.h), so that neither header needs the other.
 */

/* One change, as a run tells it. */
struct sync_change {
	const char *verb;    /* "created", "updated", "moved", "deleted" or
				"conflict" */
	const char *where;   /* the side written, "file" or "db"; for a
				conflict, who won: "file", "db" or "mixed" */
	const char *id;      /* the story */
	const char *backlog; /* the story's, after the change (before it, when
				deleted); NULL when unknown */
	const char *path;    /* its file, or NULL */
	const char *detail;  /* a conflict's kind, or NULL */
};

/* How far a run has got: counters the run's threads add to as they go,
 * for a progress line that another thread of the caller's reads. */
struct sync_progress {
	atomic_long walked;  /* story files the walk found */
	atomic_long parsed;  /* files read (and parsed when they changed) */
	atomic_long written; /* actions carried out: rows and files */
};

/* What a run tells as it goes. Any handler may be NULL. */
struct sync_report {
	void *ctx;
	struct sync_progress *progress; /* may be NULL */
	void (*change)(void *ctx, const struct sync_change *c);
	/* A story skipped for an error: "path:line:col: message". */
	void (*problem)(void *ctx, const char *msg);
	/* A note for -v (fallbacks, timings). */
	void (*note)(void *ctx, const char *msg);
	/* A warning: said whatever the verbosity, the run goes on (a
	 * file of the database's place that git tracks). */
	void (*warning)(void *ctx, const char *msg);
};

/* Counts of one run. */
struct sync_counts {
	long created, updated, moved, deleted, conflicts, errors;
	long row_errors; /* of the errors, rows refused (the rest: files) */
	long files_written, rows_written;
	long file_changes, row_changes; /* what detection found, each side */
	/* a failed run whose commit may have been made all the same (a
	 * server silent once the COMMIT was sent): store_commit_unknown */
	bool commit_unknown;
};

#endif
