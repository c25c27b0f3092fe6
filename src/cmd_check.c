/* storysync check: every story and the dependency graph; writes nothing. */
#include <string.h>

#include "check.h"
#include "cli.h"

/* check takes the output options after its word too; no argument. */

static void print_json(struct cli *cli, const struct check_result *r)
{
	FILE *f = cli->out;

	fprintf(f, "{\"stories\":%zu,\"problems\":[", r->nstories);
	for (size_t i = 0; i < r->nproblems; i++) {
		fputs(i ? ",{\"path\":" : "{\"path\":", f);
		cli_json_string(f, r->problems[i].path);
		fputs(",\"message\":", f);
		cli_json_string(f, r->problems[i].msg);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	struct check_result r = {0};
	struct err e;
	int rc;

	rc = cli_start(cli, argc, argv, &c);
	if (rc != EXIT_DONE)
		return rc;
	if (!check_run(&c, &r, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_FATAL;
		goto out;
	}
	if (cli->json) {
		print_json(cli, &r);
	} else {
		for (size_t i = 0; i < r.nproblems; i++) {
			cli_put_safe(cli->err, r.problems[i].msg);
			fputc('\n', cli->err);
		}
		if (cli->verbosity >= 0)
			fprintf(cli->out, "%zu stor%s checked, %zu problem%s\n",
				r.nstories, r.nstories == 1 ? "y" : "ies",
				r.nproblems, r.nproblems == 1 ? "" : "s");
	}
	rc = r.nproblems ? EXIT_SKIPPED : EXIT_DONE;
out:
	check_result_finish(&r);
	config_finish(&c);
	return rc;
}
