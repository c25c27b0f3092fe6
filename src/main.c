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

struct command {
	const char *name;
	cli_command_fn fn;
	const char *help; /* what help NAME and NAME --help print */
};

static int cmd_help(struct cli *cli, int argc, char **argv);

/* usage and commands[], from src/interface.txt */
#include "interface.h"

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

/* storysync help [COMMAND] */
static int cmd_help(struct cli *cli, int argc, char **argv)
{
	const struct command *cmd;

	if (argc > 2) {
		fprintf(cli->err, "storysync: help: unexpected '%s'\n",
			argv[2]);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		fputs(usage, cli->out);
		return EXIT_DONE;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(cli->err,
			"storysync: help: unknown command '%s' (see "
			"storysync help)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	fputs(cmd->help, cli->out);
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
	char default_word[] = DEFAULT_COMMAND;
	char *default_argv[] = {default_word, NULL};
	int rc = EXIT_USAGE, first = parse_globals(&cli, argc, argv, &rc);

	if (first < 0)
		return rc;
	/* plain "storysync" and "storysync --full" are sync */
	if (first == argc) {
		argv = default_argv;
		argc = 1;
		first = 0;
	} else if (argv[first][0] == '-') {
		argv[--first] = default_word;
		cli.implied = true;
	}
	cmd = find_command(argv[first]);
	if (!cmd) {
		fprintf(cli.err,
			"storysync: unknown command '%s' (see storysync "
			"help)\n",
			argv[first]);
		return EXIT_USAGE;
	}
	if (cmd->fn != cmd_help && asks_help(argc - first, argv + first)) {
		fputs(cmd->help, cli.out);
		return EXIT_DONE;
	}
	return cmd->fn(&cli, argc - first, argv + first);
}
