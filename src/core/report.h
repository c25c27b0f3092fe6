#ifndef STORYSYNC_CORE_REPORT_H
#define STORYSYNC_CORE_REPORT_H

/*
 * What a run tells as it goes, and its counts: shared by the run (sync.h)
 * and its apply stage (apply.h), so that neither header needs the other.
 */

/* What a run tells as it goes. Any handler may be NULL. */
struct sync_report {
	void *ctx;
	/* One change: verb ("created", "updated", "moved", "deleted",
	 * "conflict", "restat"), where ("file" side written or "db"), the
	 * story and its path. */
	void (*change)(void *ctx, const char *verb, const char *where,
		       const char *id, const char *path, const char *detail);
	/* A story skipped for an error: "path:line:col: message". */
	void (*problem)(void *ctx, const char *msg);
	/* A note for -v (fallbacks, timings). */
	void (*note)(void *ctx, const char *msg);
};

/* Counts of one run. */
struct sync_counts {
	long created, updated, moved, deleted, conflicts, errors;
	long files_written, rows_written;
	long file_changes, row_changes; /* what detection found, each side */
};

#endif
