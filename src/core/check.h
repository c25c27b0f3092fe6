#ifndef STORYSYNC_CORE_CHECK_H
#define STORYSYNC_CORE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

/*
 * check: every story file parsed (as sync --full would), then the
 * dependency graph and the mirror keys. Reads the tree only: no database,
 * no lock, nothing written.
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
};

/* Checks the configured tree; false (e set) only when the walk itself
 * fails, every problem with a story is in out. */
bool check_run(const struct config *c, struct check_result *out, struct err *e);
/* Frees a check result. */
void check_result_finish(struct check_result *r);

#endif
