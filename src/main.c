/*
 * storysync: global options, the command table, exit codes. Everything else
 * lives in the core library; commands print, the core never does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "version.h"

static const char usage[] =
	"usage: storysync [-C DIR] [-c FILE] [-q|-v] [--json] COMMAND "
	"[ARGS]\n"
	"\n"
	"Keeps a tree of Markdown story files and a SQLite database in step,\n"
	"in both directions, in one short run.\n"
	"\n"
	"Global options:\n"
	"  -C DIR          run as if started in DIR\n"
	"  -c FILE         use FILE as the configuration (default: "
	".storysync.yml,\n"
	"                  found from the working directory up)\n"
	"  -q, --quiet     print errors only\n"
	"  -v, --verbose   print one line per change\n"
	"  --json          print the same facts as JSON\n"
	"  --version       print the version and exit\n"
	"  -h, --help      print this help and exit (after a command: its "
	"help)\n"
	"\n"
	"Commands:\n"
	"  sync            sync files and database (the default command)\n"
	"    --full        ignore the stat cache: hash every file, compare "
	"every row\n"
	"    --git         find file changes from the git diff since the last "
	"sync\n"
	"    --dry-run     tell what would change, write nothing\n"
	"    --force       go past the guards (mass deletion, missing "
	"backlog)\n"
	"    --backlog NAME  sync only this backlog (repeatable); the others' "
	"changes,\n"
	"                  moves across backlogs and deletions wait for a "
	"later run\n"
	"    --wait[=SECONDS]  wait for another run's lock, and for the API's "
	"write\n"
	"                  transaction, that long (forever without SECONDS)\n"
	"  status          is sync healthy? the verdict first, then last "
	"runs,\n"
	"                  pending changes, conflicts, errors; exits 0 "
	"healthy,\n"
	"                  1 attention, 3 unreadable, 4 refused, 5 failing, "
	"6 stale,\n"
	"                  7 permission\n"
	"  metrics         print the Prometheus text format of the same "
	"facts\n"
	"  check           validate every story and the dependency graph; "
	"writes nothing\n"
	"  init            write .storysync.yml if missing, create or migrate "
	"the database\n"
	"  install-hooks   install the git hooks, chaining any already there\n"
	"    --uninstall   remove them and restore what was there\n"
	"  conflicts [ID]  list recorded conflicts, or show one in full\n"
	"    --resolve     mark conflict ID (or, without ID, every open "
	"one) resolved\n"
	"  history --backfill  rebuild status history from the git log\n"
	"  help [COMMAND]  print this help, or a command's\n"
	"\n"
	"Exit codes: 0 done; 1 done, some stories skipped for errors; 2 "
	"usage or\n"
	"configuration error; 3 fatal, nothing committed; 4 refused by a "
	"guard;\n"
	"75 try later: another run holds the lock, or the API's writer the\n"
	"database.\n"
	"\n"
	"See storysync(1), storysync.yml(5) and storysync-db(7).\n";

struct command {
	const char *name;
	cli_command_fn fn;
};

/* Sorted by name. */
static const struct command commands[] = {
	{"check", cmd_check},
	{"conflicts", cmd_conflicts},
	{"history", cmd_history},
	{"init", cmd_init},
	{"install-hooks", cmd_install_hooks},
	{"metrics", cmd_metrics},
	{"status", cmd_status},
	{"sync", cmd_sync},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Takes the value of "-X VALUE" or "-XVALUE"; NULL when missing. */
static const char *option_value(int argc, char **argv, int *i)
{
	if (argv[*i][2])
		return argv[*i] + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/* Parses the global options; returns the index of the first other word,
 * or -1 with an exit code in *rc. */
static int parse_globals(struct cli *cli, int argc, char **argv, int *rc)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			if (!cli_set_verbosity(cli, -1))
				goto usage;
		} else if (strcmp(a, "-v") == 0 ||
			   strcmp(a, "--verbose") == 0) {
			if (!cli_set_verbosity(cli, 1))
				goto usage;
		} else if (strcmp(a, "--json") == 0) {
			cli->json = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, cli->out);
			*rc = EXIT_DONE;
			return -1;
		} else if (strcmp(a, "--version") == 0) {
			fprintf(cli->out, "storysync %s\n", STORYSYNC_VERSION);
			*rc = EXIT_DONE;
			return -1;
		} else if (strncmp(a, "-C", 2) == 0) {
			if (!(v = option_value(argc, argv, &i)))
				goto missing;
			if (chdir(v) < 0) {
				fprintf(cli->err, "storysync: %s: %s\n", v,
					strerror(errno));
				*rc = EXIT_USAGE;
				return -1;
			}
		} else if (strncmp(a, "-c", 2) == 0) {
			if (!(v = option_value(argc, argv, &i)))
				goto missing;
			cli->config_path = v;
		} else {
			break;
		}
	}
	return i;
missing:
	fprintf(cli->err, "storysync: %s needs a value\n", argv[i]);
usage:
	*rc = EXIT_USAGE;
	return -1;
}

/* The help of one command: its lines of the usage text above (the line
 * that names it and the more indented ones after it), so that there is
 * one text to keep. False when usage has no such command. */
static bool command_help(FILE *f, const char *name)
{
	size_t n = strlen(name);
	const char *p = strstr(usage, "Commands:\n"), *end;

	for (p = p ? strchr(p, '\n') + 1 : NULL; p && *p == ' ';
	     p = strchr(p, '\n') + 1) {
		if (strncmp(p, "  ", 2) == 0 && p[2] != ' ' &&
		    strncmp(p + 2, name, n) == 0 &&
		    (p[2 + n] == ' ' || p[2 + n] == '\n'))
			break;
	}
	if (!p || *p != ' ')
		return false;
	fprintf(f, "usage: storysync [GLOBAL OPTIONS] %s ...\n\n", name);
	end = strchr(p, '\n') + 1;
	while (strncmp(end, "   ", 3) == 0)
		end = strchr(end, '\n') + 1;
	fprintf(f,
		"%.*s\n-q, -v and --json work after the command too. See "
		"storysync(1).\n",
		(int)(end - p), p);
	return true;
}

/* storysync help [COMMAND] */
static int help(struct cli *cli, int argc, char **argv)
{
	if (argc > 2) {
		fprintf(cli->err, "storysync: help: unexpected '%s'\n",
			argv[2]);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		fputs(usage, cli->out);
		return EXIT_DONE;
	}
	if (!command_help(cli->out, argv[1])) {
		fprintf(cli->err,
			"storysync: help: unknown command '%s' (see "
			"storysync help)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

/* CMD --help or CMD -h anywhere after the command: its help. */
static bool asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli cli = {.out = stdout, .err = stderr};
	const struct command *cmd;
	char sync_word[] = "sync";
	char *sync_argv[] = {sync_word, NULL};
	int rc = EXIT_USAGE, first = parse_globals(&cli, argc, argv, &rc);

	if (first < 0)
		return rc;
	/* plain "storysync" and "storysync --full" are sync */
	if (first == argc)
		return cmd_sync(&cli, 1, sync_argv);
	if (argv[first][0] == '-') {
		argv[first - 1] = sync_argv[0];
		cli.implied = true;
		return cmd_sync(&cli, argc - first + 1, argv + first - 1);
	}
	if (strcmp(argv[first], "help") == 0)
		return help(&cli, argc - first, argv + first);
	cmd = find_command(argv[first]);
	if (!cmd) {
		fprintf(cli.err,
			"storysync: unknown command '%s' (see storysync "
			"help)\n",
			argv[first]);
		return EXIT_USAGE;
	}
	if (asks_help(argc - first, argv + first)) {
		command_help(cli.out, cmd->name);
		return EXIT_DONE;
	}
	return cmd->fn(&cli, argc - first, argv + first);
}
