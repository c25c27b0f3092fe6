/* storysync history --backfill: status history from the git log. */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "history.h"

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	*(bool *)ctx = true; /* --backfill, the only one */
	return true;
}

static bool parse_options(struct cli *cli, int argc, char **argv,
			  bool *backfill)
{
	static const struct cli_flag flags[] = {
		{"backfill", no_argument, 'b'},
		{NULL, 0, 0},
	};
	int first;

	if (!cli_options(cli, argc, argv, flags, on_flag, backfill, 0, &first))
		return false;
	if (!*backfill) {
		fprintf(cli->err, "storysync: history: nothing to do "
				  "(history --backfill)\n");
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
	default: return cli_busy(e) ? EXIT_LOCKED : EXIT_FATAL;
	}
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	struct history_counts n = {0};
	struct err e;
	enum history_status st;
	bool backfill = false;
	int rc;

	if (!parse_options(cli, argc, argv, &backfill))
		return EXIT_USAGE;
	rc = cli_load_config(cli, &c);
	if (rc == EXIT_DONE)
		rc = cli_may_write(cli, &c);
	if (rc != EXIT_DONE) {
		config_finish(&c);
		return rc;
	}
	st = history_backfill(&c, &n, &e);
	rc = exit_code(st, &e);
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
	config_finish(&c);
	return rc;
}
