#ifndef STORYSYNC_NOTIFY_H
#define STORYSYNC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/*
 * After a run commits: the configuration's notify command (through
 * /bin/sh -c, in the tree's directory) gets the run's events on its
 * standard input, one JSON object a line. It runs at most timeout_s
 * seconds, then is killed with its process group. Its failure is the
 * caller's to log: the sync is done whatever it does.
 */
bool notify_run(const char *command, const char *dir, int timeout_s,
		const char *lines, size_t len, struct err *e);

#endif
