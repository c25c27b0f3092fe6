/* storysync init: the configuration file if missing, the database. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mem.h"
#include "sync.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *path =
		cli->config_path ? cli->config_path : CONFIG_FILE_NAME;
	struct config c = {0};
	struct err e;
	struct stat st;
	bool existed = stat(path, &st) == 0, ignored = false;
	int version = 0, rc = EXIT_FATAL, first;

	if (!cli_options(cli, argc, argv, NULL, NULL, NULL, 0, &first))
		return EXIT_USAGE;
	if (!config_write_default(path, &e) || !config_load(&c, path, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!sync_init(&c, &version, &ignored, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		goto out;
	}
	if (cli->json) {
		fputs("{\"config\":", cli->out);
		cli_json_string(cli->out, c.file);
		fprintf(cli->out, ",\"created_config\":%s,\"database\":",
			existed ? "false" : "true");
		cli_json_string(cli->out, c.database);
		fprintf(cli->out,
			",\"schema_version\":%d,\"ignored_by_git\":%s}\n",
			version, ignored ? "true" : "false");
	} else if (cli->verbosity >= 0) {
		if (!existed)
			fprintf(cli->out, "storysync: wrote %s\n", path);
		fprintf(cli->out, "storysync: database %s ready (schema %d)\n",
			c.database, version);
		if (ignored)
			fprintf(cli->out,
				"storysync: its directory has a .gitignore "
				"of \"*\": git leaves it alone\n");
	}
	rc = EXIT_DONE;
out:
	config_finish(&c);
	return rc;
}
