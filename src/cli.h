#ifndef STORYSYNC_CLI_H
#define STORYSYNC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

/* Exit codes: storysync(1), EXIT STATUS. */
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
	bool implied; /* the command is sync, not named */
	FILE *out, *err;
};

/* A command: runs with argv[0] the command name; returns an exit code. */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

/* One option of a command's own, beside -q, -v and --json, which every
 * command takes after its name too. */
struct cli_flag {
	const char *name; /* the long name */
	int has_arg;      /* no_argument or optional_argument */
	int val;          /* what the handler is given */
};

/* Takes one of a command's own options; prints the usage error and
 * returns false when its argument is bad. */
typedef bool (*cli_flag_fn)(void *ctx, struct cli *cli, int val,
			    const char *arg);

/* Parses the options of the command argv[0]: the output options and flags
 * (NULL-terminated, may be NULL), each handed to on. At most max_args other
 * words may follow, left in argv from *first on. Prints "storysync: CMD:
 * unknown option 'X' (see --help)" or "storysync: CMD: unexpected 'X'" and
 * returns false on a usage error. */
bool cli_options(struct cli *cli, int argc, char **argv,
		 const struct cli_flag *flags, cli_flag_fn on, void *ctx,
		 int max_args, int *first);

/* For a command that takes only the output options: parses them, then
 * loads the configuration; EXIT_DONE, or the exit code to return. */
int cli_start(struct cli *cli, int argc, char **argv, struct config *c);
/* Finds (or takes -c) and loads the configuration; prints the error and
 * returns EXIT_USAGE when that fails. */
int cli_load_config(struct cli *cli, struct config *c);
/* For a command that writes the tree or its database: EXIT_DONE when this
 * user may (owner.h), else prints why and what to do and returns
 * EXIT_USAGE. The places of storysync's own files are cleared first of
 * what git may have put there (dbcheck_clear), each warned of. */
int cli_may_write(struct cli *cli, struct config *c);
/* "storysync: warning: MSG" on cli's standard error (ctx: the cli), the
 * handler of dbcheck's warnings. */
void cli_warning(void *ctx, const char *msg);
/* Sets the verbosity from -q (-1) or -v (1); false, with the usage error
 * printed, when the other was given already. */
bool cli_set_verbosity(struct cli *cli, int v);
/* Whether e is the store's busy error, "another writer held the database
 * for N s; try later": exit 75 (EXIT_LOCKED) as for sync, not 3. */
bool cli_busy(const struct err *e);
/* Writes s with control characters shown as \xNN: messages carry values
 * from the database, which must not drive the terminal. */
void cli_put_safe(FILE *f, const char *s);
/* Writes a comma-separated list of field names ("title,labels") as a JSON
 * array of strings; NULL is []. */
void cli_json_fields(FILE *f, const char *fields);
/* Writes a recorded conflict as an open JSON object: id, story, at, kind,
 * kept, fields; the caller adds what else it shows and the closing brace. */
void cli_json_conflict_head(FILE *f, const struct conflict_info *c);
/* Writes s as a JSON string literal (null for NULL). */
void cli_json_string(FILE *f, const char *s);

int cmd_backlogs(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_conflicts(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_install_hooks(struct cli *cli, int argc, char **argv);
int cmd_metrics(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_sync(struct cli *cli, int argc, char **argv);

#endif
