#ifndef STORYSYNC_CLI_H
#define STORYSYNC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Exit codes of DESIGN.md. */
enum {
	EXIT_DONE = 0,
	EXIT_SKIPPED = 1,
	EXIT_USAGE = 2,
	EXIT_FATAL = 3,
	EXIT_GUARDED = 4,
	EXIT_LOCKED = 75,
};

/* The global options, parsed by main before the command. */
struct cli {
	const char *config_path; /* -c FILE, or NULL to search */
	int verbosity;           /* -1 quiet, 0 normal, 1 verbose */
	bool json;
	FILE *out, *err;
};

/* A command: runs with argv[0] the command name; returns an exit code. */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

/* Finds (or takes -c) and loads the configuration; prints the error and
 * returns EXIT_USAGE when that fails. */
int cli_load_config(struct cli *cli, struct config *c);
/* Writes s with control characters shown as \xNN: messages carry values
 * from the database, which must not drive the terminal. */
void cli_put_safe(FILE *f, const char *s);
/* Writes s as a JSON string literal (null for NULL). */
void cli_json_string(FILE *f, const char *s);

int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_conflicts(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_install_hooks(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_sync(struct cli *cli, int argc, char **argv);

#endif
