#ifndef STORYSYNC_PROGRESS_H
#define STORYSYNC_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

/*
 * The progress line of a long run at a terminal, as git draws it: once the
 * run has taken longer than a threshold, a thread of its own redraws one
 * line on the terminal ("\r"-updated) a few times a second from the run's
 * counters, and at the end writes it a last time with ", done." (or
 * ", stopped.") and a newline. The caller decides whether there is to be
 * one at all (a terminal, not -q, not --json).
 */
struct progress;

/* How long a run goes before its progress is shown, in ms; the test-only
 * STORYSYNC_TEST_PROGRESS_MS replaces it. */
#define PROGRESS_AFTER_MS 1000

/* Starts drawing counts' progress on f once the run has taken longer than
 * the threshold. NULL (nothing drawn) when no thread can be started. */
struct progress *progress_start(FILE *f, struct sync_progress *counts);
/* Takes the terminal for a line of the caller's: the progress line, if
 * drawn, is erased, and drawn again after progress_release. NULL is
 * fine. */
void progress_hold(struct progress *p);
void progress_release(struct progress *p);
/* Stops the thread; a progress line that was drawn is drawn a last time,
 * ending ", done." when the run finished (exit 0 or 1), ", stopped." when
 * it did not. NULL is fine. */
void progress_stop(struct progress *p, bool finished);

#endif
