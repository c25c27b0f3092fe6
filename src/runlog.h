#ifndef STORYSYNC_RUNLOG_H
#define STORYSYNC_RUNLOG_H

#include <stdbool.h>
#include <syslog.h>

#include "config.h"

/*
 * The log of unattended runs: a line for each run that changed something
 * and for every error, to syslog (which journald reads) or to the file the
 * configuration names (log:). Unset, runs log to syslog unless standard
 * error is a terminal: there, -v says it all already.
 */
struct runlog {
	enum { RUNLOG_NONE, RUNLOG_SYSLOG, RUNLOG_FILE } to;
	const char *path; /* RUNLOG_FILE */
	const char *tree;
};

void runlog_open(struct runlog *l, const struct config *c, bool terminal);
/* One line at priority (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO). */
void runlog(struct runlog *l, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void runlog_close(struct runlog *l);

#endif
