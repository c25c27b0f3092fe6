#ifndef STORYSYNC_CORE_DBCHECK_H
#define STORYSYNC_CORE_DBCHECK_H

#include <stdbool.h>

#include "config.h"
#include "dbhome.h"
#include "err.h"
#include "gitindex.h"

/*
 * What every command that writes makes sure of before it writes (a run,
 * conflicts --resolve, history --backfill, init): the places of the
 * database's files hold storysync's own files, not a link git checked
 * out there (dbcheck_clear); git tracks none of them (dbcheck_tracked);
 * the database is the file the runs here synced (dbcheck_same).
 */

/* What a check tells as it goes; either handler may be NULL. */
struct dbcheck_report {
	void *ctx;
	/* a note for -v */
	void (*note)(void *ctx, const char *msg);
	/* a warning: said, never refusing */
	void (*warning)(void *ctx, const char *msg);
};

/* Whether git tracks the file at path (its directory made symlink-free):
 * its index, or HEAD when the index cannot be read (why then says why;
 * with why NULL, the index only). */
bool dbcheck_git_tracks(const char *path, bool *tracked, struct err *why,
			struct err *e);

/* Clears the place of each of storysync's own files in the tree (the
 * database's side files, the log: and metrics_file when they lie in the
 * tree) where something else is (fsx_side_clear): a warning names each
 * one removed, and says so when git tracks it (noted in c->home.said:
 * dbcheck_tracked does not say it again). */
void dbcheck_clear(struct config *c, const struct dbcheck_report *r);

/* Warns of each of the database's files that git tracks (with database,
 * the database too), or that HEAD's commit holds though the index no
 * more does (git rm --cached, not committed): a checkout of a commit
 * that does not hold it, or holds another, removes or replaces it, and
 * a reset or stash puts HEAD's copy back. One read of git's index, none
 * when stamp (or NULL) is the index's as a read listed none of them and
 * HEAD is the commit it was taken with (gitindex_prefixed, which sets it
 * to this answer's); HEAD's tree is asked only after such a read, when
 * the index's cache tree is not HEAD's commit's. Those h->said holds
 * are not warned of. */
void dbcheck_tracked(const struct dbhome *h, bool database,
		     const struct dbcheck_report *r,
		     struct gitindex_stamp *stamp);

/* The same as one message (heap), or NULL when git tracks none of them:
 * status's, the index not read when stamp (the run record's, or NULL)
 * holds, as a run's. */
char *dbcheck_tracked_message(const struct dbhome *h,
			      const struct gitindex_stamp *stamp);

/*
 * Whether the database is the file the runs here synced (the run record
 * keeps it: dbhome_file), before it is opened: false, *refused set and
 * e saying what happened and what to do, when git (or anyone) put
 * another file in its place, or git tracks it with no file recorded. *f
 * gets the file found, *confirmed whether it is the one to record. A
 * server's database (no file) passes. The index is not read when the
 * record's index_none stamp holds; *stamp (stamp may be NULL) gets the
 * one to record next.
 */
bool dbcheck_same(const struct config *c, struct dbhome_file *f,
		  bool *confirmed, bool *refused,
		  const struct dbcheck_report *r, struct gitindex_stamp *stamp,
		  struct err *e);

#endif
