#ifndef STORYSYNC_NOTIFY_H
#define STORYSYNC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* How much of the command's output is kept for the log. */
#define NOTIFY_OUTPUT_MAX 4096

/* What the command wrote to its standard output and error. */
struct notify_output {
	struct buf head; /* the first NOTIFY_OUTPUT_MAX bytes */
	size_t total;    /* how many there were */
};

/*
 * After a run commits: the configuration's notify command (through
 * /bin/sh -c, in the tree's directory) gets the run's events on its
 * standard input, one JSON object a line. Its standard output and error
 * are one pipe that storysync reads (into out, bounded), never its own
 * output: cron mails that. It runs at most timeout_s seconds, then is
 * killed with its process group. Its failure and its output are the
 * caller's to log: the sync is done whatever it does.
 */
bool notify_run(const char *command, const char *dir, int timeout_s,
		const char *lines, size_t len, struct notify_output *out,
		struct err *e);

#endif
