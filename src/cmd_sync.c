/* storysync sync: one run, and what it tells. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "fsx.h"
#include "json.h"
#include "mem.h"
#include "metrics.h"
#include "notify.h"
#include "progress.h"
#include "runlog.h"
#include "runrecord.h"
#include "told.h"

/* How much of notify's output the log keeps: lines, bytes of each. */
#define NOTIFY_LOG_LINES 5
#define NOTIFY_LOG_WIDTH 200
#include "sync.h"

/* What a run told, kept for --json, the summary, the log and notify. */
struct sync_out {
	struct cli *cli;
	const char *tree; /* the tree's name, on every change */
	bool dry_run;
	bool keep_changes;   /* for --json or notify */
	struct buf changes;  /* JSON objects, one a line */
	struct buf problems; /* JSON strings, comma-separated */
	struct runlog log;
	bool remember; /* -q: an error is printed when new (told.h) */
	struct told told;
	char *notify_error; /* the notify command failed: why */
	bool notify_ran;
	struct progress *progress; /* the line at a terminal, or NULL */
};

/* An error: on standard error, under -q only when it is new, changed, or
 * a day old (told.h), as "storysync: MSG" with prefix; in the log always
 * (as logged, or msg when NULL), and once in the journal. */
static void tell_as(struct sync_out *o, int priority, bool prefix,
		    const char *msg, const char *logged)
{
	if (!logged)
		logged = msg;
	if (o->remember && !told_due(&o->told, msg, fsx_now_ns())) {
		runlog(&o->log, priority, "%s", logged);
		return;
	}
	progress_hold(o->progress);
	if (prefix)
		fputs("storysync: ", o->cli->err);
	cli_put_safe(o->cli->err, msg);
	fputc('\n', o->cli->err);
	progress_release(o->progress);
	runlog_shown(&o->log, priority, "%s", logged);
}

static void tell(struct sync_out *o, int priority, bool prefix, const char *msg)
{
	tell_as(o, priority, prefix, msg, NULL);
}

/* Appends ,"key":"value" to b, when there is a value. */
static void json_field(struct buf *b, const char *key, const char *value)
{
	if (!value)
		return;
	buf_printf(b, ",\"%s\":", key);
	json_put_string(b, value, strlen(value));
}

static void on_change(void *ctx, const struct sync_change *c)
{
	struct sync_out *o = ctx;
	FILE *f = o->cli->out;

	if (o->keep_changes) {
		struct buf *b = &o->changes;

		buf_puts(b, "{\"change\":");
		json_put_string(b, c->verb, strlen(c->verb));
		json_field(b, "id", c->id);
		json_field(b, "written", c->where);
		json_field(b, "backlog", c->backlog);
		json_field(b, "path", c->path);
		json_field(b, "detail", c->detail);
		json_field(b, "tree", o->tree);
		buf_puts(b, "}\n");
	}
	if (o->cli->json)
		return;
	/* a dry run tells its changes unless -q, a run only with -v */
	if (o->cli->verbosity < (o->dry_run ? 0 : 1))
		return;
	progress_hold(o->progress);
	fprintf(f, "%s%-8s ", o->dry_run ? "would: " : "", c->verb);
	cli_put_safe(f, c->id);
	if (c->detail)
		fprintf(f, " (%s, kept %s)", c->detail, c->where);
	else
		fprintf(f, " -> %s", c->where);
	if (c->path) {
		fputc(' ', f);
		cli_put_safe(f, c->path);
	}
	fputc('\n', f);
	fflush(f); /* before the progress line is drawn again */
	progress_release(o->progress);
}

static void on_problem(void *ctx, const char *msg)
{
	struct sync_out *o = ctx;

	tell(o, LOG_WARNING, false, msg);
	if (o->cli->json) {
		if (o->problems.len)
			buf_putc(&o->problems, ',');
		json_put_string(&o->problems, msg, strlen(msg));
	}
}

static void on_warning(void *ctx, const char *msg)
{
	struct sync_out *o = ctx;
	char *m = xasprintf("warning: %s", msg);

	tell(o, LOG_WARNING, true, m);
	free(m);
}

static void on_note(void *ctx, const char *msg)
{
	struct sync_out *o = ctx;

	if (o->cli->verbosity >= 1 && !o->cli->json) {
		progress_hold(o->progress);
		fprintf(o->cli->err, "storysync: %s\n", msg);
		progress_release(o->progress);
	}
}

/* "2 created, 1 conflict", or false when nothing changed. */
static bool format_counts(struct buf *b, const struct sync_counts *n)
{
	const long v[] = {n->created, n->updated, n->moved, n->deleted,
			  n->conflicts};
	const char *names[] = {"created", "updated", "moved", "deleted",
			       "conflict"};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!v[i])
			continue;
		buf_printf(b, "%s%ld %s%s", sep, v[i], names[i],
			   i == 4 && v[i] != 1 ? "s" : "");
		sep = ", ";
	}
	return *sep;
}

static void print_summary(struct cli *cli, const struct sync_counts *n,
			  bool dry_run)
{
	struct buf b = BUF_INIT;

	if (format_counts(&b, n))
		fprintf(cli->out, "%s%s\n",
			dry_run ? "storysync: would sync: " : "storysync: ",
			b.data);
	buf_finish(&b);
}

/* Up to NOTIFY_LOG_LINES lines of what notify wrote, to the log at
 * priority, control characters escaped. */
static void log_output(struct runlog *log, int priority,
		       const struct notify_output *o)
{
	const char *p = o->head.data ? o->head.data : "";
	const char *end = p + o->head.len;
	int n = 0;

	while (p < end && n < NOTIFY_LOG_LINES) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct buf b = BUF_INIT;

		buf_put_escaped(
			&b, p, len < NOTIFY_LOG_WIDTH ? len : NOTIFY_LOG_WIDTH);
		runlog(log, priority, "notify: > %s%s", b.data ? b.data : "",
		       len > NOTIFY_LOG_WIDTH ? " ..." : "");
		buf_finish(&b);
		p += len + (nl != NULL);
		n++;
	}
	if (p < end || o->total > o->head.len)
		runlog(log, priority, "notify: > ... (%zu bytes in all)",
		       o->total);
}

/* The notify command with the run's events. Its output goes to the log,
 * never to standard output (cron would mail it); a failure is told. */
static void notify(struct sync_out *out, const struct config *c)
{
	struct notify_output o = {.head = BUF_INIT};
	struct err ne;
	bool ok = notify_run(c->notify, c->root, c->notify_timeout_s,
			     out->changes.data, out->changes.len, &o, &ne);

	out->notify_ran = true;
	if (ok) {
		runlog(&out->log, LOG_INFO, "notify: '%s' exited 0%s",
		       c->notify, o.total ? ", its output:" : "");
	} else {
		char *logged = xasprintf("%s%s", ne.msg,
					 o.total ? ", its output:" : "");

		tell_as(out, LOG_ERR, true, ne.msg, logged);
		free(logged);
		out->notify_error = xstrdup(ne.msg);
	}
	log_output(&out->log, ok ? LOG_INFO : LOG_ERR, &o);
	buf_finish(&o.head);
}

/* The notify command's and the log's failures, in the run record for
 * status and metrics (before the metrics file is written from it). */
static void record_after(struct sync_out *out, const struct config *c)
{
	const struct run_after a = {
		.notify_ran = out->notify_ran,
		.notify_error = out->notify_error,
		.log_error = out->log.error[0] ? out->log.error : NULL,
	};
	struct err e;

	if (!run_record_after(&c->home, &a, &e))
		tell(out, LOG_ERR, true, e.msg);
}

/* The errors a quiet run printed, remembered for the next (told.h): by a
 * run that read the files, not one refused or failed before. */
static void remember(struct sync_out *out, const struct config *c,
		     const struct sync_options *o, enum sync_status st)
{
	struct err e;

	if (!out->remember || (st != SYNC_OK && st != SYNC_SKIPPED))
		return;
	if (!told_write(&c->home, &out->told,
			o->mode == SYNC_GIT || o->nbacklogs, &e))
		tell(out, LOG_ERR, true, e.msg);
}

/* After the run: the log line, the notify command, the metrics file. What
 * fails here is told and logged; the sync is done. */
static void after_run(struct sync_out *out, const struct config *c,
		      enum sync_status st, const struct sync_counts *n,
		      const struct err *e)
{
	struct buf b = BUF_INIT;
	struct err ne;
	bool done = st == SYNC_OK || st == SYNC_SKIPPED;
	/* cmd_sync printed the error on standard error (see there) */
	bool shown = !out->cli->json &&
		     (st != SYNC_BUSY || out->cli->verbosity >= 1);
	void (*log)(struct runlog *, int, const char *, ...) =
		shown ? runlog_shown : runlog;

	if (out->dry_run)
		return;
	if (done && format_counts(&b, n))
		runlog(&out->log, LOG_INFO, "synced: %s", b.data);
	else if (st == SYNC_BUSY)
		log(&out->log, LOG_NOTICE, "%s", e->msg);
	else if (st == SYNC_GUARDED)
		log(&out->log, LOG_ERR, "refused: %s", e->msg);
	else if (!done && st != SYNC_LOCKED)
		log(&out->log, LOG_ERR, "failed, %s: %s",
		    n->commit_unknown ? "its commit not known"
				      : "nothing committed",
		    e->msg);
	buf_finish(&b);
	if (done && c->notify && out->changes.len)
		notify(out, c);
	if (st != SYNC_LOCKED)
		record_after(out, c);
	if (c->metrics_file && st != SYNC_LOCKED &&
	    !metrics_write_file(c, &ne)) {
		char *msg = xasprintf("metrics_file: %s", ne.msg);

		tell(out, LOG_ERR, true, msg);
		free(msg);
	}
}

static void print_json(struct sync_out *o, const struct sync_counts *n, int rc,
		       const char *error)
{
	FILE *f = o->cli->out;

	fprintf(f,
		"{\"exit\":%d,\"dry_run\":%s,\"created\":%ld,\"updated\":%ld,"
		"\"moved\":%ld,\"deleted\":%ld,\"conflicts\":%ld,"
		"\"errors\":%ld,\"tree\":",
		rc, o->dry_run ? "true" : "false", n->created, n->updated,
		n->moved, n->deleted, n->conflicts, n->errors);
	cli_json_string(f, o->tree);
	fputs(",\"error\":", f);
	cli_json_string(f, error);
	fputs(",\"changes\":[", f);
	/* the objects are one a line: commas between them */
	for (const char *p = o->changes.data, *nl; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		fprintf(f, "%s%.*s", p == o->changes.data ? "" : ",",
			(int)(nl - p), p);
	}
	fprintf(f, "],\"problems\":[%s]}\n",
		o->problems.len ? o->problems.data : "");
}

static int exit_code(enum sync_status st)
{
	switch (st) {
	case SYNC_OK: return EXIT_DONE;
	case SYNC_SKIPPED: return EXIT_SKIPPED;
	case SYNC_USAGE: return EXIT_USAGE;
	case SYNC_GUARDED: return EXIT_GUARDED;
	case SYNC_LOCKED:
	case SYNC_BUSY: return EXIT_LOCKED;
	default: return EXIT_FATAL;
	}
}

enum {
	OPT_FULL = 0x200,
	OPT_GIT,
	OPT_DRY_RUN,
	OPT_FORCE,
	OPT_WAIT,
	OPT_BACKLOG,
	OPT_EXIT_CODE
};

/* What sync's options set: the run's options, and the command's own. */
struct sync_args {
	struct sync_options o;
	bool exit_code; /* --exit-code: 1 when a dry run finds changes */
};

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	struct sync_args *a = ctx;
	struct sync_options *o = &a->o;
	char *end;
	long s;

	switch (val) {
	case OPT_EXIT_CODE: a->exit_code = true; break;
	case OPT_FULL:
	case OPT_GIT:
		if (o->mode != SYNC_SCAN &&
		    o->mode != (val == OPT_FULL ? SYNC_FULL : SYNC_GIT)) {
			fputs("storysync: sync: --full and --git cannot be "
			      "used together (a git run reads what the "
			      "commits changed, a full run every file)\n",
			      cli->err);
			return false;
		}
		o->mode = val == OPT_FULL ? SYNC_FULL : SYNC_GIT;
		break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_FORCE: o->force = true; break;
	case OPT_BACKLOG:
		/* argv outlives the run: the names are kept as they are */
		o->backlogs =
			xreallocarray((char **)o->backlogs, o->nbacklogs + 1,
				      sizeof(*o->backlogs));
		((char **)o->backlogs)[o->nbacklogs++] = (char *)arg;
		break;
	case OPT_WAIT:
		o->wait_s = 0;
		if (!arg)
			break;
		s = strtol(arg, &end, 10);
		if (*end || s <= 0 || s > 86400) {
			fprintf(cli->err,
				"storysync: --wait takes a number of seconds "
				"(1-86400), not '%s'\n",
				arg);
			return false;
		}
		o->wait_s = (int)s;
	}
	return true;
}

/* Parses sync's options into a; returns false on a usage error. */
static bool parse_options(struct cli *cli, int argc, char **argv,
			  struct sync_args *a)
{
	static const struct cli_flag flags[] = {
		{"full", no_argument, OPT_FULL},
		{"git", no_argument, OPT_GIT},
		{"dry-run", no_argument, OPT_DRY_RUN},
		{"force", no_argument, OPT_FORCE},
		{"wait", optional_argument, OPT_WAIT},
		{"backlog", required_argument, OPT_BACKLOG},
		{"exit-code", no_argument, OPT_EXIT_CODE},
		{NULL, 0, 0},
	};
	const struct sync_options *o = &a->o;
	int first;

	if (!cli_options(cli, argc, argv, flags, on_flag, a, 0, &first))
		return false;
	if (a->exit_code && !o->dry_run) {
		fputs("storysync: sync: --exit-code goes with --dry-run (it "
		      "tells whether changes are pending)\n",
		      cli->err);
		return false;
	}
	if (o->nbacklogs && o->mode == SYNC_GIT) {
		fputs("storysync: sync: --backlog and --git cannot be used "
		      "together (a git run covers what the commit changed)\n",
		      cli->err);
		return false;
	}
	return true;
}

/* A dry run's exit with --exit-code: 1 when it would change something,
 * as git diff --exit-code says there are differences. */
static int pending_exit(int rc, const struct sync_counts *n)
{
	struct buf b = BUF_INIT;
	bool pending = format_counts(&b, n);

	buf_finish(&b);
	return rc == EXIT_DONE && pending ? EXIT_SKIPPED : rc;
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	struct sync_args a = {.o = {.mode = SYNC_SCAN, .wait_s = -1}};
	struct sync_options *o = &a.o;
	struct config c = {0};
	struct sync_out out = {.cli = cli};
	struct sync_progress counts = {0};
	struct sync_report r = {
		.ctx = &out,
		.change = on_change,
		.problem = on_problem,
		.warning = on_warning,
	};
	struct sync_counts n = {0};
	struct err e = {{0}};
	enum sync_status st;
	int rc;

	if (!parse_options(cli, argc, argv, &a)) {
		free((char **)o->backlogs);
		return EXIT_USAGE;
	}
	rc = cli_load_config(cli, &c);
	if (rc == EXIT_DONE && !o->dry_run)
		rc = cli_may_write(cli, &c);
	if (rc != EXIT_DONE) {
		config_finish(&c);
		free((char **)o->backlogs);
		return rc;
	}
	/* notes cost the run work of their own (the files outside the
	 * stage folders): asked for only when they are shown */
	if (cli->verbosity >= 1 && !cli->json)
		r.note = on_note;
	out.dry_run = o->dry_run;
	out.tree = c.tree;
	out.keep_changes = cli->json || (c.notify && !o->dry_run);
	out.remember = cli->verbosity < 0 && !o->dry_run;
	if (out.remember)
		told_read(&c.home, &out.told);
	out.log = (struct runlog){.to = RUNLOG_NONE, .fd = -1};
	/* a dry run writes nothing, a log line neither */
	if (!o->dry_run)
		runlog_open(&out.log, &c, isatty(STDERR_FILENO),
			    runlog_stderr_is_journal());
	if (out.log.error[0])
		tell(&out, LOG_ERR, true, out.log.error);
	/* a long run at a terminal shows how far it is; never for -q, a
	 * program (--json) or cron (no terminal) */
	if (isatty(fileno(cli->err)) && cli->verbosity >= 0 && !cli->json) {
		r.progress = &counts;
		out.progress = progress_start(cli->err, &counts);
	}
	st = sync_run(&c, o, &r, &n, &e);
	progress_stop(out.progress, st == SYNC_OK || st == SYNC_SKIPPED);
	out.progress = NULL;
	rc = exit_code(st);
	if (a.exit_code)
		rc = pending_exit(rc, &n);
	if (cli->json)
		print_json(&out, &n, rc,
			   st == SYNC_OK || st == SYNC_SKIPPED ? NULL : e.msg);
	else if ((st == SYNC_LOCKED || st == SYNC_BUSY) && cli->verbosity >= 1)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	else if (st == SYNC_FATAL || st == SYNC_GUARDED || st == SYNC_USAGE)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	else if (cli->verbosity >= 0)
		print_summary(cli, &n, o->dry_run);
	after_run(&out, &c, st, &n, &e);
	remember(&out, &c, o, st);
	runlog_close(&out.log);
	told_finish(&out.told);
	free(out.notify_error);
	buf_finish(&out.changes);
	buf_finish(&out.problems);
	config_finish(&c);
	free((char **)o->backlogs);
	return rc;
}
