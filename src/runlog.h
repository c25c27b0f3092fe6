#ifndef STORYSYNC_RUNLOG_H
#define STORYSYNC_RUNLOG_H

#include <stdbool.h>
#include <syslog.h>

#include "config.h"
#include "err.h"

/*
 * The log of unattended runs: a line for each run that changed something
 * and for every error, to syslog (which journald reads) or to the file the
 * configuration names (log:). Unset, runs log to syslog unless standard
 * error is a terminal: there, -v says it all already. A log: file that
 * cannot be opened is said (error), and its lines go to syslog.
 *
 * Under systemd, standard error is the journal too (JOURNAL_STREAM): a
 * line the command printed there is not sent to syslog again, so that
 * every error is in the journal once.
 */
struct runlog {
	enum { RUNLOG_NONE, RUNLOG_SYSLOG, RUNLOG_FILE } to;
	int fd; /* RUNLOG_FILE: the file, open for the run */
	const char *tree;
	bool journal;        /* syslog, and standard error is the journal */
	char error[ERR_MAX]; /* "log: PATH: why" when log: cannot be opened,
				else empty */
};

/* Whether standard error is the journal's stream: JOURNAL_STREAM, which
 * systemd sets to "DEVICE:INODE" of the stream it connects, names it. */
bool runlog_stderr_is_journal(void);
/* Opens the log of c; terminal: standard error is one; journal: it is
 * the journal (runlog_stderr_is_journal). */
void runlog_open(struct runlog *l, const struct config *c, bool terminal,
		 bool journal);
/* One line at priority (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO). */
void runlog(struct runlog *l, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a line the command printed on standard error as well: not
 * sent to syslog again when that is the journal. */
void runlog_shown(struct runlog *l, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void runlog_close(struct runlog *l);

#endif
