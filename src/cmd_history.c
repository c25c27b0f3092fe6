/* storysync history ID: a story's status history, newest first; history
 * --backfill: status history from the git log. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "history.h"

/* How long an abbreviated commit id is, as git log --oneline gives it in
 * a big repository. */
#define SHORT_COMMIT 12

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	*(bool *)ctx = true; /* --backfill, the only one */
	return true;
}

/* Parses history's options: --backfill, or one story id into *id. */
static bool parse_options(struct cli *cli, int argc, char **argv,
			  bool *backfill, const char **id)
{
	static const struct cli_flag flags[] = {
		{"backfill", no_argument, 'b'},
		{NULL, 0, 0},
	};
	int first;

	if (!cli_options(cli, argc, argv, flags, on_flag, backfill, 1, &first))
		return false;
	*id = first < argc ? argv[first] : NULL;
	if (*backfill && *id) {
		fputs("storysync: history: --backfill records every story's "
		      "history: no story id with it\n",
		      cli->err);
		return false;
	}
	if (!*backfill && !*id) {
		fputs("storysync: history: which story? (history ID shows "
		      "one, history --backfill records them from the git "
		      "log)\n",
		      cli->err);
		return false;
	}
	return true;
}

static int exit_code(enum history_status st, const struct err *e)
{
	switch (st) {
	case HISTORY_OK: return EXIT_DONE;
	case HISTORY_USAGE: return EXIT_USAGE;
	case HISTORY_LOCKED: return EXIT_LOCKED;
	case HISTORY_GUARDED: return EXIT_GUARDED;
	default: return cli_busy(e) ? EXIT_LOCKED : EXIT_FATAL;
	}
}

static int backfill(struct cli *cli, const struct config *c)
{
	struct history_counts n = {0};
	struct err e;
	const struct dbcheck_report r = {.ctx = cli, .warning = cli_warning};
	enum history_status st = history_backfill(c, &r, &n, &e);
	int rc = exit_code(st, &e);

	if (cli->json) {
		fprintf(cli->out,
			"{\"exit\":%d,\"commits\":%ld,\"found\":%ld,"
			"\"recorded\":%ld,\"corrected\":%ld,\"error\":",
			rc, n.commits, n.found, n.recorded, n.corrected);
		cli_json_string(cli->out, st == HISTORY_OK ? NULL : e.msg);
		fputs("}\n", cli->out);
	} else if (st != HISTORY_OK) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
	} else if (cli->verbosity >= 0) {
		if (cli->verbosity >= 1)
			fprintf(cli->err,
				"storysync: %ld commits walked, %ld status "
				"changes found\n",
				n.commits, n.found);
		fprintf(cli->out, "storysync: %ld status changes recorded",
			n.recorded);
		if (n.corrected)
			fprintf(cli->out, ", %ld credited to another commit",
				n.corrected);
		fputc('\n', cli->out);
	}
	return rc;
}

/* One change, one line: "AT FROM -> TO (ORIGIN[ COMMIT][, AUTHOR])". */
static void print_entry(struct cli *cli, const struct history_entry *h)
{
	FILE *f = cli->out;

	cli_put_safe(f, h->at ? h->at : "?");
	fputc(' ', f);
	cli_put_safe(f, h->from ? h->from : "(new)");
	fputs(" -> ", f);
	cli_put_safe(f, h->to ? h->to : "(none)");
	fputs(" (", f);
	cli_put_safe(f, h->origin ? h->origin : "?");
	if (h->commit) {
		char short_id[SHORT_COMMIT + 1];

		snprintf(short_id, sizeof(short_id), "%s", h->commit);
		fputc(' ', f);
		cli_put_safe(f, cli->verbosity >= 1 ? h->commit : short_id);
	}
	if (h->author) {
		fputs(", ", f);
		cli_put_safe(f, h->author);
	}
	fputs(")\n", f);
}

static void print_json(struct cli *cli, const char *id,
		       const struct history_entry *v, size_t n)
{
	FILE *f = cli->out;

	fputs("{\"story\":", f);
	cli_json_string(f, id);
	fputs(",\"history\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"at\":" : "{\"at\":", f);
		cli_json_string(f, v[i].at);
		fputs(",\"from\":", f);
		cli_json_string(f, v[i].from);
		fputs(",\"to\":", f);
		cli_json_string(f, v[i].to);
		fputs(",\"origin\":", f);
		cli_json_string(f, v[i].origin);
		fputs(",\"commit\":", f);
		cli_json_string(f, v[i].commit);
		fputs(",\"author\":", f);
		cli_json_string(f, v[i].author);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

/* history ID: read-only, as status is: a reader who cannot write the
 * database gets the same answer, and nothing waits for a writer. */
static int show(struct cli *cli, const struct config *c, const char *id)
{
	struct store *s = NULL;
	struct history_entry *v = NULL;
	size_t n = 0;
	bool known = false;
	struct err e;
	int rc = EXIT_DONE;

	if (dbhome_exists(&c->home) &&
	    (!store_open_as(&s, c->database, 0, true, NULL, &e) ||
	     !store_set_tree(s, c->tree, &e) ||
	     !store_history_of(s, id, &v, &n, &known, &e))) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_FATAL;
		goto out;
	}
	if (!known) {
		fputs("storysync: history: no story '", cli->err);
		cli_put_safe(cli->err, id);
		fputs("' (no row, no deleted row, no status history)\n",
		      cli->err);
		rc = EXIT_USAGE;
	} else if (cli->json) {
		print_json(cli, id, v, n);
	} else if (cli->verbosity >= 0) {
		for (size_t i = 0; i < n; i++)
			print_entry(cli, &v[i]);
	}
out:
	store_history_free(v, n);
	store_close(s);
	return rc;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	bool backfilling = false;
	const char *id = NULL;
	int rc;

	if (!parse_options(cli, argc, argv, &backfilling, &id))
		return EXIT_USAGE;
	rc = cli_load_config(cli, &c);
	/* a backfill writes: only the tree's owner's run may */
	if (rc == EXIT_DONE && backfilling)
		rc = cli_may_write(cli, &c);
	if (rc != EXIT_DONE) {
		config_finish(&c);
		return rc;
	}
	rc = backfilling ? backfill(cli, &c) : show(cli, &c, id);
	config_finish(&c);
	return rc;
}
