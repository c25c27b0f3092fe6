/* storysync check [--db]: every story and the dependency graph, and with
 * --db the database against itself and the tree; writes nothing. */
#include <getopt.h>
#include <string.h>

#include "check.h"
#include "cli.h"

/* check takes the output options after its word too, and --db; no
 * argument. */

static void print_json(struct cli *cli, const struct check_result *r, bool db)
{
	FILE *f = cli->out;

	fprintf(f, "{\"stories\":%zu,\"database\":%s,\"problems\":[",
		r->nstories, db ? "true" : "false");
	for (size_t i = 0; i < r->nproblems; i++) {
		fputs(i ? ",{\"path\":" : "{\"path\":", f);
		cli_json_string(f, r->problems[i].path);
		fputs(",\"message\":", f);
		cli_json_string(f, r->problems[i].msg);
		fputc('}', f);
	}
	fputs("],\"shadows\":[", f);
	for (size_t i = 0; i < r->nshadows; i++) {
		if (i)
			fputc(',', f);
		cli_json_string(f, r->shadows[i]);
	}
	fputs("]}\n", f);
}

static int db_exit(enum check_db_status st)
{
	switch (st) {
	case CHECK_DB_OK: return EXIT_DONE;
	case CHECK_DB_NONE: return EXIT_USAGE;
	case CHECK_DB_LOCKED: return EXIT_LOCKED;
	default: return EXIT_FATAL;
	}
}

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	*(bool *)ctx = true; /* --db, the only one */
	return true;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{"db", no_argument, 'd'},
		{NULL, 0, 0},
	};
	struct config c = {0};
	struct check_result r = {0};
	struct err e;
	bool db = false;
	int rc, first;

	if (!cli_options(cli, argc, argv, flags, on_flag, &db, 0, &first))
		return EXIT_USAGE;
	rc = cli_load_config(cli, &c);
	if (rc != EXIT_DONE)
		return rc;
	if (!check_run(&c, &r, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_FATAL;
		goto out;
	}
	if (db && (rc = db_exit(check_db(&c, &r, &e))) != EXIT_DONE) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		goto out;
	}
	if (cli->json) {
		print_json(cli, &r, db);
	} else {
		for (size_t i = 0; cli->verbosity >= 1 && i < r.nnotes; i++) {
			fputs("storysync: ", cli->err);
			cli_put_safe(cli->err, r.notes[i]);
			fputc('\n', cli->err);
		}
		for (size_t i = 0; i < r.nproblems; i++) {
			cli_put_safe(cli->err, r.problems[i].msg);
			fputc('\n', cli->err);
		}
		for (size_t i = 0; cli->verbosity >= 0 && i < r.nshadows; i++) {
			cli_put_safe(cli->out, r.shadows[i]);
			fputc('\n', cli->out);
		}
		if (cli->verbosity >= 0)
			fprintf(cli->out,
				"%zu stor%s%s checked, %zu problem%s\n",
				r.nstories, r.nstories == 1 ? "y" : "ies",
				db ? " and the database" : "", r.nproblems,
				r.nproblems == 1 ? "" : "s");
	}
	rc = r.nproblems ? EXIT_SKIPPED : EXIT_DONE;
out:
	check_result_finish(&r);
	config_finish(&c);
	return rc;
}
