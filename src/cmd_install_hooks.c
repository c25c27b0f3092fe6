/* storysync install-hooks: the git hooks in, or out with --uninstall. */
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "gitrepo.h"
#include "hooks.h"
#include "mem.h"
#include "owner.h"
#include "version.h"

/* Keywords for --json, in enum hooks_action order. */
static const char *const action_keys[] = {
	[HOOKS_UNCHANGED] = "unchanged", [HOOKS_INSTALLED] = "installed",
	[HOOKS_CHAINED] = "chained",     [HOOKS_UPDATED] = "updated",
	[HOOKS_REMOVED] = "removed",     [HOOKS_RESTORED] = "restored",
	[HOOKS_ABSENT] = "absent",       [HOOKS_FOREIGN] = "foreign",
	[HOOKS_KEPT] = "kept",
};

/* Where the hook scripts come from: the environment, the installed share
 * directory, else the source tree this binary was built from. */
static const char *hooks_source(void)
{
	const char *env = getenv("STORYSYNC_HOOKS_DIR");
	struct stat st;

	if (env && *env)
		return env;
	if (stat(STORYSYNC_HOOKS_DIR "/" HOOKS_HELPER, &st) == 0)
		return STORYSYNC_HOOKS_DIR;
	return STORYSYNC_SOURCE_HOOKS_DIR;
}

/* The directory whose repository gets the hooks: the config root when there
 * is a configuration (its file into *config), else the working directory
 * (*config NULL). NULL after a printed configuration error. */
static char *start_dir(struct cli *cli, char **config)
{
	struct config c = {0};
	struct err e;
	char *cwd, *found, *dir;

	*config = NULL;
	if (cli->config_path) {
		if (cli_load_config(cli, &c) != EXIT_DONE)
			return NULL;
		dir = xstrdup(c.root);
		*config = xstrdup(c.file);
		config_finish(&c);
		return dir;
	}
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		fprintf(cli->err,
			"storysync: cannot read the working directory\n");
		return NULL;
	}
	found = config_find(cwd, &e);
	if (!found)
		return cwd;
	*config = found;
	dir = xstrdup(found);
	dirname(dir); /* in place: found ends in "/.storysync.yml" */
	free(cwd);
	return dir;
}

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	*(bool *)ctx = true; /* --uninstall, the only one */
	return true;
}

static bool parse_options(struct cli *cli, int argc, char **argv,
			  bool *uninstall)
{
	static const struct cli_flag flags[] = {
		{"uninstall", no_argument, 'u'},
		{NULL, 0, 0},
	};
	int first;

	return cli_options(cli, argc, argv, flags, on_flag, uninstall, 0,
			   &first);
}

static void print_json(struct cli *cli, int rc, const char *dir, bool uninstall,
		       const char *tree, const enum hooks_action *actions,
		       const char *error)
{
	FILE *f = cli->out;

	fprintf(f, "{\"exit\":%d,\"uninstall\":%s,\"hooks_dir\":", rc,
		uninstall ? "true" : "false");
	cli_json_string(f, dir);
	fputs(",\"tree\":", f);
	cli_json_string(f, tree);
	fputs(",\"error\":", f);
	cli_json_string(f, error);
	fputs(",\"hooks\":[", f);
	for (int i = 0; actions && i < HOOKS_COUNT; i++) {
		fprintf(f, "%s{\"name\":\"%s\",\"action\":\"%s\"}",
			i ? "," : "", hooks_names[i], action_keys[actions[i]]);
	}
	fputs("]}\n", f);
}

static void print_text(struct cli *cli, const char *dir, const char *tree,
		       bool uninstall, size_t left,
		       const enum hooks_action *actions)
{
	if (cli->verbosity < 0)
		return;
	for (int i = 0; i < HOOKS_COUNT; i++)
		fprintf(cli->out, "%s/%s: %s\n", dir, hooks_names[i],
			hooks_action_str(actions[i]));
	if (uninstall && left)
		fprintf(cli->out,
			"%s: no longer synced; the hooks stay for %zu other "
			"tree%s\n",
			tree, left, left == 1 ? "" : "s");
	else if (!uninstall && cli->verbosity > 0)
		fprintf(cli->out, "%s/%s: syncs %s\n", dir, HOOKS_TREES, tree);
}

/* The configuration file as the hooks name it: relative to the work
 * tree's top. With none, the default name in the start directory, so that
 * hooks installed before init find the tree init makes. */
static char *tree_config(struct gitrepo *repo, const char *start,
			 const char *config, struct err *e)
{
	const char *name = config ? strrchr(config, '/') + 1 : CONFIG_FILE_NAME;
	char *prefix = NULL, *rel;

	if (!gitrepo_prefix(repo, start, &prefix, e))
		return NULL;
	rel = *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
	free(prefix);
	return rel;
}

/* Opens the repository and finds its hooks directory and the tree's entry
 * in the hooks' list; *rc says why not. */
static char *find_hooks_dir(const char *start, const char *config, char **tree,
			    int *rc, struct err *e)
{
	struct gitrepo *repo = gitrepo_open(start, e);
	char *dir = NULL;

	*rc = EXIT_USAGE;
	if (!repo)
		return NULL;
	*rc = EXIT_FATAL;
	*tree = tree_config(repo, start, config, e);
	if (*tree && !gitrepo_hooks_dir(repo, &dir, e))
		dir = NULL;
	gitrepo_destroy(repo);
	return dir;
}

/* Whether this user may put hooks in the repository of the tree in start:
 * as for init, it owns the directory, or the untracked configuration file
 * beside config (or in start) allows others. A hook runs as whoever
 * commits; one written by another user, root, is not theirs to change. */
static bool may_install(const char *start, const char *config, struct err *e)
{
	char *local =
		config ? config_local_path(config)
		       : xasprintf("%s/%s", start, CONFIG_LOCAL_FILE_NAME);
	bool ok = owner_may_init(start, local, e);

	free(local);
	return ok;
}

/* Installs the hooks and lists the tree; uninstalling takes the tree off
 * the list and the hooks out once no tree is left. */
static bool install(const char *dir, const char *tree, bool uninstall,
		    enum hooks_action *actions, size_t *left, struct err *e)
{
	bool added;

	*left = 0;
	if (!uninstall)
		return hooks_install(dir, hooks_source(), actions, e) &&
		       hooks_add_tree(dir, tree, &added, e);
	if (!hooks_remove_tree(dir, tree, left, e))
		return false;
	if (!*left)
		return hooks_uninstall(dir, actions, e);
	for (int i = 0; i < HOOKS_COUNT; i++)
		actions[i] = HOOKS_KEPT;
	return true;
}

int cmd_install_hooks(struct cli *cli, int argc, char **argv)
{
	enum hooks_action actions[HOOKS_COUNT];
	bool uninstall = false;
	char *start, *config, *dir = NULL, *tree = NULL;
	struct err e;
	size_t left = 0;
	int rc = EXIT_USAGE;

	if (!parse_options(cli, argc, argv, &uninstall))
		return EXIT_USAGE;
	start = start_dir(cli, &config);
	if (!start)
		return EXIT_USAGE;
	if (may_install(start, config, &e))
		dir = find_hooks_dir(start, config, &tree, &rc, &e);
	if (dir)
		rc = install(dir, tree, uninstall, actions, &left, &e)
			     ? EXIT_DONE
			     : EXIT_FATAL;
	if (cli->json)
		print_json(cli, rc, dir, uninstall, tree,
			   rc == EXIT_DONE ? actions : NULL,
			   rc == EXIT_DONE ? NULL : e.msg);
	else if (rc != EXIT_DONE)
		fprintf(cli->err, "storysync: %s\n", e.msg);
	else
		print_text(cli, dir, tree, uninstall, left, actions);
	free(tree);
	free(dir);
	free(config);
	free(start);
	return rc;
}
