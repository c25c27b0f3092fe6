#ifndef STORYSYNC_CORE_APPLY_H
#define STORYSYNC_CORE_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "detect.h"
#include "err.h"
#include "plan.h"
#include "store.h"
#include "sync.h"

/*
 * Apply: carries the plan's actions out, inside the run's transaction: rows,
 * atomic file writes and moves, state, history, events and conflicts.
 */

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
};

/* Carries out one action for a story whose file side is fc (NULL when the
 * scan found nothing) and whose state is se (NULL when none). A file that
 * changed since the scan is left alone (it wins on the next run). False
 * with e set on an error that must abort the run. */
bool apply_action(struct apply_ctx *ctx, const struct action *a,
		  const struct file_change *fc, const struct state_entry *se,
		  struct err *e);

#endif
