/* What the commands share: loading the configuration, JSON output. */
#include "cli.h"

#include "fsx.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dbcheck.h"
#include "json.h"
#include "mem.h"
#include "owner.h"
#include "store.h"

int cli_load_config(struct cli *cli, struct config *c)
{
	struct err e;
	char *path = NULL, *cwd = getcwd(NULL, 0);
	bool ok;

	if (cli->config_path)
		path = xstrdup(cli->config_path);
	else if (cwd)
		path = config_find(cwd, &e);
	else
		err_set(&e, "cannot read the working directory");
	ok = path && config_load(c, path, &e);
	free(path);
	free(cwd);
	if (!ok) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return EXIT_USAGE;
	}
	fsx_set_read_limit(c->max_file_size);
	store_set_server_wait(c->server_wait_s * 1000);
	return EXIT_DONE;
}

void cli_warning(void *ctx, const char *msg)
{
	struct cli *cli = ctx;

	fputs("storysync: warning: ", cli->err);
	cli_put_safe(cli->err, msg);
	fputc('\n', cli->err);
}

int cli_may_write(struct cli *cli, struct config *c)
{
	struct err e;

	if (!owner_may_write(c, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return EXIT_USAGE;
	}
	/* before any of them is opened (the log and the told errors are,
	 * before the lock) */
	dbcheck_clear(c, &(struct dbcheck_report){.ctx = cli,
						  .warning = cli_warning});
	return EXIT_DONE;
}

int cli_start(struct cli *cli, int argc, char **argv, struct config *c)
{
	int first;

	if (!cli_options(cli, argc, argv, NULL, NULL, NULL, 0, &first))
		return EXIT_USAGE;
	return cli_load_config(cli, c);
}

void cli_json_string(FILE *f, const char *s)
{
	struct buf b = BUF_INIT;

	if (!s) {
		fputs("null", f);
		return;
	}
	json_put_string(&b, s, strlen(s));
	fputs(b.data, f);
	buf_finish(&b);
}

void cli_json_fields(FILE *f, const char *fields)
{
	const char *p = fields;

	fputc('[', f);
	while (p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		fprintf(f, "%s\"%.*s\"", p == fields ? "" : ",", (int)n, p);
		p = comma ? comma + 1 : NULL;
	}
	fputc(']', f);
}

void cli_json_conflict_head(FILE *f, const struct conflict_info *c)
{
	fprintf(f, "{\"id\":%lld,\"story\":", (long long)c->id);
	cli_json_string(f, c->story_id);
	fputs(",\"at\":", f);
	cli_json_string(f, c->at);
	fputs(",\"kind\":", f);
	cli_json_string(f, c->kind);
	fputs(",\"kept\":", f);
	cli_json_string(f, c->kept);
	fputs(",\"fields\":", f);
	cli_json_fields(f, c->fields);
	fputs(",\"policy\":", f);
	cli_json_string(f, c->policy);
	fputs(",\"resolved\":", f);
	cli_json_string(f, c->resolved);
}

bool cli_busy(const struct err *e)
{
	/* store_dberr's words: the core hands back no error kind, and a
	 * busy database is the one error whose advice is to try later */
	return strstr(e->msg, "; try later") != NULL;
}

void cli_put_safe(FILE *f, const char *s)
{
	/* values from the database reach the terminal: no escape sequences */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

enum { OPT_QUIET = 'q', OPT_VERBOSE = 'v', OPT_JSON = 0x100 };

/* The command's flags after the output options, as getopt_long wants. */
static struct option *long_options(const struct cli_flag *flags)
{
	static const struct option output[] = {
		{"quiet", no_argument, NULL, OPT_QUIET},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"json", no_argument, NULL, OPT_JSON},
	};
	size_t n = 0, nout = sizeof(output) / sizeof(*output);
	struct option *v;

	while (flags && flags[n].name)
		n++;
	v = xcalloc(nout + n + 1, sizeof(*v));
	memcpy(v, output, sizeof(output));
	for (size_t i = 0; i < n; i++)
		v[nout + i] = (struct option){flags[i].name, flags[i].has_arg,
					      NULL, flags[i].val};
	return v;
}

bool cli_set_verbosity(struct cli *cli, int v)
{
	if (cli->verbosity && cli->verbosity != v) {
		fputs("storysync: -q and -v cannot be used together\n",
		      cli->err);
		return false;
	}
	cli->verbosity = v;
	return true;
}

/* "storysync: CMD: unknown option 'WORD' (see storysync help CMD)", or
 * without CMD where it was given among the global options (sync
 * implied); false. */
static bool unknown(const struct cli *cli, char **argv, const char *word)
{
	fprintf(cli->err,
		"storysync: %s%sunknown option '%s' (see storysync help%s%s)\n",
		cli->implied ? "" : argv[0], cli->implied ? "" : ": ", word,
		cli->implied ? "" : " ", cli->implied ? "" : argv[0]);
	return false;
}

/* "storysync: CMD: " and what is wrong with an option; false. */
static bool misused(const struct cli *cli, char **argv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool misused(const struct cli *cli, char **argv, const char *fmt, ...)
{
	va_list ap;

	fprintf(cli->err, "storysync: %s%s", cli->implied ? "" : argv[0],
		cli->implied ? "" : ": ");
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fputc('\n', cli->err);
	return false;
}

static const struct option *find_long(const struct option *v, const char *s,
				      size_t n)
{
	for (; v->name; v++)
		if (strlen(v->name) == n && strncmp(v->name, s, n) == 0)
			return v;
	return NULL;
}

/* What getopt_long would take or misname, found in argv as given (before
 * it permutes it): a prefix of a name (--ful is not --full: a later
 * option must not change what a word means), a value given to an option
 * that takes none, a missing value, and an optional value given as the
 * next word (--wait 3). */
static bool check_long(const struct cli *cli, int argc, char **argv,
		       const struct option *longopts, int max_args)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a) - 2;
		const struct option *o;

		if (strncmp(a, "--", 2) != 0)
			continue;
		o = find_long(longopts, a + 2, n);
		if (!o)
			return unknown(cli, argv, a);
		if (eq && o->has_arg == no_argument)
			return misused(cli, argv, "--%s takes no value",
				       o->name);
		if (!eq && o->has_arg == required_argument && ++i == argc)
			return misused(cli, argv, "--%s needs a value",
				       o->name);
		if (!eq && o->has_arg == optional_argument && !max_args &&
		    i + 1 < argc && argv[i + 1][0] != '-')
			return misused(cli, argv,
				       "--%s takes its value attached: "
				       "--%s=%s",
				       o->name, o->name, argv[i + 1]);
	}
	return true;
}

bool cli_options(struct cli *cli, int argc, char **argv,
		 const struct cli_flag *flags, cli_flag_fn on, void *ctx,
		 int max_args, int *first)
{
	struct option *longopts = long_options(flags);
	bool ok = check_long(cli, argc, argv, longopts, max_args);
	int c;

	optind = 0;
	opterr = 0;
	while (ok &&
	       (c = getopt_long(argc, argv, "qv", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_QUIET: ok = cli_set_verbosity(cli, -1); break;
		case OPT_VERBOSE: ok = cli_set_verbosity(cli, 1); break;
		case OPT_JSON: cli->json = true; break;
		case '?': ok = unknown(cli, argv, argv[optind - 1]); break;
		default: ok = on(ctx, cli, c, optarg);
		}
	}
	if (ok && argc - optind > max_args) {
		fprintf(cli->err, "storysync: %s: unexpected '%s'\n", argv[0],
			argv[optind + max_args]);
		ok = false;
	}
	*first = optind;
	free(longopts);
	return ok;
}
