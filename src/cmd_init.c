/* storysync init: the configuration file if missing, the database. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "fsx.h"
#include "mem.h"
#include "owner.h"
#include "store.h"
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
	char *dir = dbhome_dir(&c->home);
	char *path = xasprintf("%s/.gitignore", strcmp(dir, "/") ? dir : "");
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
	free(dir);
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

/* Whether a configuration above the working directory takes it in its
 * tree already (then said so): a second one here would split that tree,
 * as git init inside a work tree starts another repository. */
static bool configured_above(struct cli *cli)
{
	char *cwd = getcwd(NULL, 0), *found = NULL;
	struct err e;
	bool above;

	if (cwd)
		found = config_find(cwd, &e);
	above = found != NULL;
	if (above)
		fprintf(cli->err,
			"storysync: init: %s already configures the tree this "
			"directory is in: nothing written (storysync finds it "
			"from here; for a tree of its own here: storysync -c "
			"%s init)\n",
			found, CONFIG_FILE_NAME);
	free(found);
	free(cwd);
	return above;
}

/* Whether this user may write a new configuration at path (owner.h):
 * init of a tree whose directory is another user's is refused, unless a
 * companion file there of this user's or root's allows it. */
static int may_init(struct cli *cli, const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	char *local = config_local_path(path), *abs, *abs_local = NULL;
	struct err e;
	bool ok;

	if (slash)
		slash[slash == dir] = '\0';
	abs = fsx_realpath(slash ? dir : ".", &e);
	if (abs && local)
		abs_local = xasprintf(
			"%s/%s", abs,
			strrchr(local, '/') ? strrchr(local, '/') + 1 : local);
	ok = abs && owner_may_init(abs, abs_local, &e);
	if (!ok)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	free(abs_local);
	free(abs);
	free(local);
	free(dir);
	return ok ? EXIT_DONE : EXIT_USAGE;
}

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	(void)cli;
	(void)val;
	(void)arg;
	*(bool *)ctx = true;
	return true;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{"take-over", no_argument, 't'},
		{NULL, 0, 0},
	};
	bool take_over = false, refused = false, moved = false;
	const char *path =
		cli->config_path ? cli->config_path : CONFIG_FILE_NAME;
	struct config c = {0};
	struct err e;
	struct stat st;
	bool existed = stat(path, &st) == 0, ignored = false, bmd = false;
	bool local_ignored = false;
	int version = 0, rc = EXIT_FATAL, first;

	if (!cli_options(cli, argc, argv, flags, on_flag, &take_over, 0,
			 &first))
		return EXIT_USAGE;
	if (!existed && !cli->config_path && configured_above(cli))
		return EXIT_USAGE;
	if (!existed && (rc = may_init(cli, path)) != EXIT_DONE)
		goto out;
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
	if (existed && (rc = cli_may_write(cli, &c)) != EXIT_DONE)
		goto out;
	store_set_server_wait(c.server_wait_s * 1000);
	rc = EXIT_FATAL;
	if (!sync_init(&c, take_over, &version, &ignored, &refused, &moved,
		       &e) ||
	    !config_ignore_local(&c, &local_ignored, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		if (refused)
			rc = EXIT_GUARDED;
		else if (cli_busy(&e))
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
			"\"local_config_ignored\":%s,\"tree\":",
			version, ignored ? "true" : "false",
			local_ignored ? "true" : "false");
		cli_json_string(cli->out, c.tree);
		fprintf(cli->out, ",\"taken_over\":%s}\n",
			moved ? "true" : "false");
	} else if (cli->verbosity >= 0) {
		if (!existed && bmd)
			fprintf(cli->out,
				"storysync: wrote %s to adopt the Backlog.md "
				"project in backlog/\n",
				path);
		else if (!existed)
			fprintf(cli->out, "storysync: wrote %s\n", path);
		fprintf(cli->out, "storysync: database %s ready (schema %d)\n",
			c.home.shown, version);
		if (moved)
			fprintf(cli->out,
				"storysync: tree '%s' moved to this checkout; "
				"its next run reads every file again\n",
				c.tree);
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
