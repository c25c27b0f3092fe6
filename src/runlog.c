/* Where unattended runs tell what they did: syslog or a file. */
#include "runlog.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

void runlog_open(struct runlog *l, const struct config *c, bool terminal)
{
	const char *to = c->log;

	l->tree = c->root;
	l->path = NULL;
	if (!to)
		l->to = terminal ? RUNLOG_NONE : RUNLOG_SYSLOG;
	else if (strcmp(to, "none") == 0)
		l->to = RUNLOG_NONE;
	else if (strcmp(to, "syslog") == 0)
		l->to = RUNLOG_SYSLOG;
	else {
		l->to = RUNLOG_FILE;
		l->path = to;
	}
	if (l->to == RUNLOG_SYSLOG)
		openlog("storysync", LOG_PID, LOG_USER);
}

/* A file line: time, pid, level, tree, message; one write, O_APPEND, so
 * that runs of several trees can share the file. */
static void to_file(const struct runlog *l, int priority, const char *msg)
{
	static const char *const level[] = {[LOG_ERR] = "error",
					    [LOG_WARNING] = "warning",
					    [LOG_NOTICE] = "notice",
					    [LOG_INFO] = "info"};
	char line[2 * ERR_MAX], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	int fd, n;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s storysync[%ld] %s %s: %s\n", stamp,
		     (long)getpid(),
		     priority <= LOG_INFO && level[priority] ? level[priority]
							     : "info",
		     l->tree, msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1, line[n - 1] = '\n';
	fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return; /* nowhere to tell: the exit code still does */
	if (write(fd, line, (size_t)n) < 0) {
		/* as above */
	}
	close(fd);
}

void runlog(struct runlog *l, int priority, const char *fmt, ...)
{
	char msg[ERR_MAX];
	va_list ap;

	if (l->to == RUNLOG_NONE)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one line: a message may hold newlines of the database's */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (l->to == RUNLOG_SYSLOG)
		syslog(priority, "%s: %s", l->tree, msg);
	else
		to_file(l, priority, msg);
}

void runlog_close(struct runlog *l)
{
	if (l->to == RUNLOG_SYSLOG)
		closelog();
}
