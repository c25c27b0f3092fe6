/* storysync init: the configuration file if missing, the database. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "fsx.h"
#include "mem.h"
#include "sync.h"

/* A new configuration: the adoption of a Backlog.md project found beside
 * it (*bmd set), else the defaults. */
static bool write_config(const char *path, bool *bmd, struct err *e)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	char *found;
	bool ok;

	if (slash)
		*slash = '\0';
	found = config_backlog_md(slash ? dir : ".");
	*bmd = false;
	ok = found ? config_write_backlog_md(path, found, bmd, e)
		   : config_write_default(path, e);
	free(found);
	free(dir);
	return ok;
}

/* Whether the database's directory has a .gitignore of "*" (without a
 * "!" exception): sync_init writes one only while the directory holds the
 * database alone, so a second init finds it there, still in force. */
static bool ignored_already(const struct config *c)
{
	char *path =
		xasprintf("%.*s.gitignore",
			  (int)(strrchr(c->database, '/') + 1 - c->database),
			  c->database);
	struct buf b = BUF_INIT;
	struct err e;
	bool all = false, except = false;

	if (fsx_read_path(path, 65536, &b, &e)) {
		for (char *save = NULL, *l = strtok_r(b.data, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			all |= strcmp(l, "*") == 0;
			except |= *l == '!';
		}
	}
	buf_finish(&b);
	free(path);
	return all && !except;
}

static void print_local_ignored(struct cli *cli, const struct config *c)
{
	char *local = config_local_path(c->file);

	fprintf(cli->out,
		"storysync: .gitignore keeps %s out of git: what runs "
		"commands or writes outside the tree goes there\n",
		strrchr(local, '/') + 1);
	free(local);
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	const char *path =
		cli->config_path ? cli->config_path : CONFIG_FILE_NAME;
	struct config c = {0};
	struct err e;
	struct stat st;
	bool existed = stat(path, &st) == 0, ignored = false, bmd = false;
	bool local_ignored = false;
	int version = 0, rc = EXIT_FATAL, first;

	if (!cli_options(cli, argc, argv, NULL, NULL, NULL, 0, &first))
		return EXIT_USAGE;
	if (!existed && !write_config(path, &bmd, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!config_load(&c, path, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!sync_init(&c, &version, &ignored, &e) ||
	    !config_ignore_local(&c, &local_ignored, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		if (cli_busy(&e))
			rc = EXIT_LOCKED;
		goto out;
	}
	ignored = ignored || ignored_already(&c);
	if (cli->json) {
		fputs("{\"config\":", cli->out);
		cli_json_string(cli->out, c.file);
		fprintf(cli->out,
			",\"created_config\":%s,\"backlog_md\":%s,"
			"\"database\":",
			existed ? "false" : "true", bmd ? "true" : "false");
		cli_json_string(cli->out, c.database);
		fprintf(cli->out,
			",\"schema_version\":%d,\"ignored_by_git\":%s,"
			"\"local_config_ignored\":%s}\n",
			version, ignored ? "true" : "false",
			local_ignored ? "true" : "false");
	} else if (cli->verbosity >= 0) {
		if (!existed && bmd)
			fprintf(cli->out,
				"storysync: wrote %s to adopt the Backlog.md "
				"project in backlog/\n",
				path);
		else if (!existed)
			fprintf(cli->out, "storysync: wrote %s\n", path);
		fprintf(cli->out, "storysync: database %s ready (schema %d)\n",
			c.database, version);
		if (ignored)
			fprintf(cli->out,
				"storysync: its directory has a .gitignore "
				"of \"*\": git leaves it alone\n");
		if (local_ignored)
			print_local_ignored(cli, &c);
	}
	rc = EXIT_DONE;
out:
	config_finish(&c);
	return rc;
}
