/* Where unattended runs tell what they did: syslog or a file. */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fsx.h"

bool runlog_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!v || sscanf(v, "%llu:%llu%n", &dev, &ino, &n) != 2 || v[n] ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* The log: file, opened once for the run; else why not, and syslog. A
 * symlink in the tree on its way is the repository's (a branch that adds
 * one replaces an ignored log file on checkout): it may lead anywhere,
 * and the lines hold names the repository gave, so it is not followed. */
static void open_file(struct runlog *l, const char *path)
{
	bool linked = fsx_follows_tree_link(l->tree, path);

	if (!linked) {
		/* beneath the tree through no symlink: a link git puts
		 * there after the check above is not followed either */
		l->fd = fsx_open_in(l->tree, path,
				    O_WRONLY | O_APPEND | O_CREAT, 0640);
		linked = l->fd < 0 && (errno == ELOOP || errno == EXDEV);
	}
	if (l->fd >= 0) {
		fsx_own_like_parent(l->fd, path);
		l->to = RUNLOG_FILE;
		return;
	}
	if (linked)
		snprintf(l->error, sizeof(l->error),
			 "log: %s: a symlink in the tree on its way, which "
			 "storysync does not follow (its lines go to syslog)",
			 path);
	else
		snprintf(l->error, sizeof(l->error),
			 "log: %s: %s (its lines go to syslog)", path,
			 strerror(errno));
	l->to = RUNLOG_SYSLOG;
}

void runlog_open(struct runlog *l, const struct config *c, bool terminal,
		 bool journal)
{
	const char *to = c->log;

	l->tree = c->root;
	l->fd = -1;
	l->error[0] = '\0';
	if (!to)
		l->to = terminal ? RUNLOG_NONE : RUNLOG_SYSLOG;
	else if (strcmp(to, "none") == 0)
		l->to = RUNLOG_NONE;
	else if (strcmp(to, "syslog") == 0)
		l->to = RUNLOG_SYSLOG;
	else
		open_file(l, to);
	l->journal = journal && l->to == RUNLOG_SYSLOG;
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
	int n;

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
	if (write(l->fd, line, (size_t)n) < 0) {
		/* opened, then failed (a full disk): the exit code and
		 * status still tell the run's errors */
	}
}

static void vlog(struct runlog *l, int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(struct runlog *l, int priority, const char *fmt, va_list ap)
{
	char msg[ERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* one line: a message may hold newlines of the database's */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (l->to == RUNLOG_SYSLOG)
		syslog(priority, "%s: %s", l->tree, msg);
	else
		to_file(l, priority, msg);
}

void runlog(struct runlog *l, int priority, const char *fmt, ...)
{
	va_list ap;

	if (l->to == RUNLOG_NONE)
		return;
	va_start(ap, fmt);
	vlog(l, priority, fmt, ap);
	va_end(ap);
}

void runlog_shown(struct runlog *l, int priority, const char *fmt, ...)
{
	va_list ap;

	/* the journal has it from standard error */
	if (l->to == RUNLOG_NONE || l->journal)
		return;
	va_start(ap, fmt);
	vlog(l, priority, fmt, ap);
	va_end(ap);
}

void runlog_close(struct runlog *l)
{
	if (l->to == RUNLOG_SYSLOG)
		closelog();
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
