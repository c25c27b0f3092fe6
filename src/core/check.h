#ifndef STORYSYNC_CORE_CHECK_H
#define STORYSYNC_CORE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

/*
 * check: every story file parsed (as sync --full would), then the
 * dependency graph and the mirror keys. Reads the tree only: no database,
 * no lock, nothing written. check --db (check_db) reads the database too,
 * read-only.
 */

/* One problem found. */
struct check_problem {
	char *path; /* the file it is about, relative to the config root */
	char *msg;  /* "path: message" or "path:line:col: message" */
};

struct check_result {
	size_t nstories;                /* story files looked at */
	struct check_problem *problems; /* sorted by path, then message */
	size_t nproblems;
	char **notes; /* for -v: the *.md files that are no stories, as
			 sync -v names them ("path: ...; not a story") */
	size_t nnotes;
	char **shadows; /* no problem, but named: the archived copies of an
			   id a live file holds, skipped ("PATH: ...") */
	size_t nshadows;
};

/* Checks the configured tree; false (e set) only when the walk itself
 * fails, every problem with a story is in out. */
bool check_run(const struct config *c, struct check_result *out, struct err *e);
/* What ended check_db, beside its problems. */
enum check_db_status {
	CHECK_DB_OK,     /* checked: any problem is in the result */
	CHECK_DB_NONE,   /* no database yet (storysync init makes it) */
	CHECK_DB_LOCKED, /* a sync holds the run lock: try later */
	CHECK_DB_FAILED, /* it could not be read: e says why */
};
/*
 * check --db: the database against itself and against the tree, read-only
 * and in one read transaction, as restic check and git fsck do: PRAGMA
 * integrity_check; dependencies of no story; sync state with no row (and
 * no deletion pending) or whose file is missing; saved bases with no
 * state; rows whose path no file has and no state knows. Each is added to
 * out as "path: what is wrong; what to do", path the story's file, or the
 * database's for a problem of the tables alone.
 */
enum check_db_status check_db(const struct config *c, struct check_result *out,
			      struct err *e);
/* Frees a check result. */
void check_result_finish(struct check_result *r);

#endif
