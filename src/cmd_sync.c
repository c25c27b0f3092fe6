/* storysync sync: one run, and what it tells. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "json.h"
#include "mem.h"
#include "sync.h"

/* What a run told, kept for --json and the summary. */
struct sync_out {
	struct cli *cli;
	bool dry_run;
	struct buf changes;  /* JSON objects, comma-separated */
	struct buf problems; /* JSON strings, comma-separated */
};

static void on_change(void *ctx, const char *verb, const char *where,
		      const char *id, const char *path, const char *detail)
{
	struct sync_out *o = ctx;
	FILE *f = o->cli->out;

	if (o->cli->json) {
		struct buf *b = &o->changes;

		if (b->len)
			buf_putc(b, ',');
		buf_puts(b, "{\"change\":");
		json_put_string(b, verb, strlen(verb));
		buf_puts(b, ",\"id\":");
		json_put_string(b, id, strlen(id));
		buf_puts(b, ",\"written\":");
		json_put_string(b, where, strlen(where));
		if (path) {
			buf_puts(b, ",\"path\":");
			json_put_string(b, path, strlen(path));
		}
		if (detail) {
			buf_puts(b, ",\"detail\":");
			json_put_string(b, detail, strlen(detail));
		}
		buf_putc(b, '}');
		return;
	}
	if (o->cli->verbosity < 1 && !o->dry_run)
		return;
	fprintf(f, "%s%-8s ", o->dry_run ? "would: " : "", verb);
	cli_put_safe(f, id);
	if (detail)
		fprintf(f, " (%s, kept %s)", detail, where);
	else
		fprintf(f, " -> %s", where);
	if (path) {
		fputc(' ', f);
		cli_put_safe(f, path);
	}
	fputc('\n', f);
}

static void on_problem(void *ctx, const char *msg)
{
	struct sync_out *o = ctx;

	cli_put_safe(o->cli->err, msg);
	fputc('\n', o->cli->err);
	if (o->cli->json) {
		if (o->problems.len)
			buf_putc(&o->problems, ',');
		json_put_string(&o->problems, msg, strlen(msg));
	}
}

static void on_note(void *ctx, const char *msg)
{
	struct sync_out *o = ctx;

	if (o->cli->verbosity >= 1 && !o->cli->json)
		fprintf(o->cli->err, "storysync: %s\n", msg);
}

static void print_summary(struct cli *cli, const struct sync_counts *n,
			  bool dry_run)
{
	const long v[] = {n->created, n->updated, n->moved, n->deleted,
			  n->conflicts};
	const char *names[] = {"created", "updated", "moved", "deleted",
			       "conflicts"};
	const char *sep = "";

	if (!v[0] && !v[1] && !v[2] && !v[3] && !v[4])
		return;
	fputs(dry_run ? "storysync: would sync: " : "storysync: ", cli->out);
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!v[i])
			continue;
		fprintf(cli->out, "%s%ld %s", sep, v[i], names[i]);
		sep = ", ";
	}
	fputc('\n', cli->out);
}

static void print_json(struct sync_out *o, const struct sync_counts *n, int rc,
		       const char *error)
{
	FILE *f = o->cli->out;

	fprintf(f,
		"{\"exit\":%d,\"dry_run\":%s,\"created\":%ld,\"updated\":%ld,"
		"\"moved\":%ld,\"deleted\":%ld,\"conflicts\":%ld,"
		"\"errors\":%ld,\"error\":",
		rc, o->dry_run ? "true" : "false", n->created, n->updated,
		n->moved, n->deleted, n->conflicts, n->errors);
	cli_json_string(f, error);
	fprintf(f, ",\"changes\":[%s],\"problems\":[%s]}\n",
		o->changes.len ? o->changes.data : "",
		o->problems.len ? o->problems.data : "");
}

static int exit_code(enum sync_status st)
{
	switch (st) {
	case SYNC_OK: return EXIT_DONE;
	case SYNC_SKIPPED: return EXIT_SKIPPED;
	case SYNC_USAGE: return EXIT_USAGE;
	case SYNC_GUARDED: return EXIT_GUARDED;
	case SYNC_LOCKED: return EXIT_LOCKED;
	default: return EXIT_FATAL;
	}
}

enum { OPT_FULL = 0x200, OPT_GIT, OPT_DRY_RUN, OPT_FORCE, OPT_WAIT };

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	struct sync_options *o = ctx;
	char *end;
	long s;

	switch (val) {
	case OPT_FULL: o->mode = SYNC_FULL; break;
	case OPT_GIT: o->mode = SYNC_GIT; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_FORCE: o->force = true; break;
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

/* Parses sync's options into o; returns false on a usage error. */
static bool parse_options(struct cli *cli, int argc, char **argv,
			  struct sync_options *o)
{
	static const struct cli_flag flags[] = {
		{"full", no_argument, OPT_FULL},
		{"git", no_argument, OPT_GIT},
		{"dry-run", no_argument, OPT_DRY_RUN},
		{"force", no_argument, OPT_FORCE},
		{"wait", optional_argument, OPT_WAIT},
		{NULL, 0, 0},
	};
	int first;

	return cli_options(cli, argc, argv, flags, on_flag, o, 0, &first);
}

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	struct sync_options o = {.mode = SYNC_SCAN, .wait_s = -1};
	struct config c = {0};
	struct sync_out out = {.cli = cli};
	struct sync_report r = {
		.ctx = &out,
		.change = on_change,
		.problem = on_problem,
		.note = on_note,
	};
	struct sync_counts n = {0};
	struct err e = {{0}};
	enum sync_status st;
	int rc;

	if (!parse_options(cli, argc, argv, &o))
		return EXIT_USAGE;
	rc = cli_load_config(cli, &c);
	if (rc != EXIT_DONE)
		return rc;
	out.dry_run = o.dry_run;
	st = sync_run(&c, &o, &r, &n, &e);
	rc = exit_code(st);
	if (cli->json)
		print_json(&out, &n, rc,
			   st == SYNC_OK || st == SYNC_SKIPPED ? NULL : e.msg);
	else if (st == SYNC_LOCKED && cli->verbosity >= 1)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	else if (st == SYNC_FATAL || st == SYNC_GUARDED || st == SYNC_USAGE)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	else if (cli->verbosity >= 0)
		print_summary(cli, &n, o.dry_run);
	buf_finish(&out.changes);
	buf_finish(&out.problems);
	config_finish(&c);
	return rc;
}
