/* storysync conflicts [ID]: the recorded conflicts, or one in full. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dbcheck.h"
#include "json.h"
#include "store.h"
#include "sync.h"

/* conflicts takes the output options after its word too, and one ID. */

/* The conflict number of "3" or "#3"; 0 when arg is none. */
static int64_t conflict_number(const char *arg)
{
	char *end;
	long long n;

	if (*arg == '#')
		arg++;
	if (*arg < '1' || *arg > '9')
		return 0;
	n = strtoll(arg, &end, 10);
	return *end || n <= 0 ? 0 : n;
}

static void print_line(FILE *f, const struct conflict_info *c)
{
	fprintf(f, "#%lld %s %s %s kept %s", (long long)c->id, c->at,
		c->story_id, c->kind, c->kept);
	if (c->fields)
		fprintf(f, ": %s", c->fields);
	if (c->resolved)
		fprintf(f, " (resolved %s)", c->resolved);
	fputc('\n', f);
}

static void json_conflict(FILE *f, const struct conflict_info *c,
			  bool with_lost)
{
	struct json_member *m;
	size_t n;

	cli_json_conflict_head(f, c);
	if (c->run_id)
		fprintf(f, ",\"run\":%lld", (long long)c->run_id);
	else
		fputs(",\"run\":null", f);
	if (with_lost) {
		fputs(",\"lost\":", f);
		/* storysync wrote it as an object; anything else is shown as
		 * the text it is */
		if (c->lost && json_parse_object(c->lost, &m, &n)) {
			fputs(c->lost, f);
			json_members_free(m, n);
		} else {
			cli_json_string(f, c->lost);
		}
	}
	fputc('}', f);
}

/* One field of the losing version; a value of several lines goes below
 * its name, indented. */
static void print_value(FILE *f, const char *key, const char *raw)
{
	char *v = json_string_value(raw);
	const char *p;

	if (!v) {
		fprintf(f, "  %s: %s\n", key,
			strcmp(raw, "null") == 0 ? "(none)" : raw);
		return;
	}
	if (!strchr(v, '\n')) {
		fprintf(f, "  %s: %s\n", key, v);
		free(v);
		return;
	}
	fprintf(f, "  %s: |\n", key);
	for (p = v; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n)
			fprintf(f, "    %.*s\n", (int)n, p);
		else
			fputc('\n', f);
		p += n + (nl ? 1 : 0);
	}
	free(v);
}

static void print_full(FILE *f, const struct conflict_info *c)
{
	struct json_member *m;
	size_t n;

	fprintf(f, "conflict #%lld\n", (long long)c->id);
	fprintf(f, "story:  %s\n", c->story_id);
	fprintf(f, "at:     %s\n", c->at);
	fprintf(f, "kind:   %s\n", c->kind);
	fprintf(f, "kept:   %s\n", c->kept);
	fprintf(f, "fields: %s\n", c->fields ? c->fields : "(none)");
	if (c->policy)
		fprintf(f, "policy: %s\n", c->policy);
	if (c->resolved)
		fprintf(f, "resolved: %s\n", c->resolved);
	if (c->run_id)
		fprintf(f, "run:    %lld\n", (long long)c->run_id);
	if (!c->lost) {
		fputs("lost:   (nothing recorded)\n", f);
		return;
	}
	fprintf(f, "lost version (%s):\n",
		!c->kept || strcmp(c->kept, "mixed") == 0
			? "each field decided at the value that lost"
		: strcmp(c->kept, "file") == 0 ? "db"
					       : "file");
	if (!json_parse_object(c->lost, &m, &n)) {
		fprintf(f, "  %s\n", c->lost);
		return;
	}
	for (size_t i = 0; i < n; i++)
		print_value(f, m[i].key, m[i].value);
	json_members_free(m, n);
}

/* The exit code of a failed store call: 75, try later, when the API's
 * writer held the database past busy_wait. */
static int failed(const struct store *s)
{
	return store_busy(s) ? EXIT_LOCKED : EXIT_FATAL;
}

static int list(struct cli *cli, struct store *s)
{
	struct conflict_info *v;
	size_t n;
	struct err e;

	if (!store_conflicts_list(s, 0, &v, &n, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return failed(s);
	}
	if (cli->json)
		fputs("{\"conflicts\":[", cli->out);
	for (size_t i = 0; i < n; i++) {
		if (!cli->json) {
			print_line(cli->out, &v[i]);
			continue;
		}
		if (i)
			fputc(',', cli->out);
		json_conflict(cli->out, &v[i], false);
	}
	if (cli->json)
		fputs("]}\n", cli->out);
	store_conflicts_free(v, n);
	return EXIT_DONE;
}

static int show(struct cli *cli, struct store *s, const char *arg)
{
	int64_t id = conflict_number(arg);
	struct conflict_info c = {0};
	bool found = false;
	struct err e;

	if (id && !store_conflict_get(s, id, &c, &found, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return failed(s);
	}
	if (!found) {
		fprintf(cli->err, "storysync: no conflict %s\n", arg);
		return EXIT_USAGE;
	}
	if (cli->json) {
		json_conflict(cli->out, &c, true);
		fputc('\n', cli->out);
	} else {
		print_full(cli->out, &c);
	}
	store_conflict_info_finish(&c);
	return EXIT_DONE;
}

/* --resolve ID resolved nothing: ID was resolved before, a no-op as git's
 * second "git add" is, or there is no such conflict. */
static int resolved_already(struct cli *cli, struct store *s, int64_t id,
			    const char *arg)
{
	struct conflict_info c = {0};
	bool found = false;
	struct err e;
	int rc = EXIT_DONE;

	if (!store_conflict_get(s, id, &c, &found, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return failed(s);
	}
	if (!found || !c.resolved) {
		fprintf(cli->err, "storysync: no conflict %s\n", arg);
		rc = EXIT_USAGE;
	} else if (cli->json) {
		fputs("{\"resolved\":0}\n", cli->out);
	} else if (cli->verbosity >= 0) {
		fprintf(cli->out,
			"storysync: conflict #%lld was resolved already (%s)\n",
			(long long)id, c.resolved);
	}
	store_conflict_info_finish(&c);
	return rc;
}

/* Marks conflict arg (NULL: every open one) resolved. */
static int resolve(struct cli *cli, struct store *s, const char *arg)
{
	int64_t id = arg ? conflict_number(arg) : 0;
	long n = 0;
	struct err e;

	if (arg && !id) {
		fprintf(cli->err, "storysync: no conflict %s\n", arg);
		return EXIT_USAGE;
	}
	if (!store_conflicts_resolve(s, id, &n, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return failed(s);
	}
	if (arg && !n)
		return resolved_already(cli, s, id, arg);
	if (cli->json)
		fprintf(cli->out, "{\"resolved\":%ld}\n", n);
	else if (cli->verbosity >= 0)
		fprintf(cli->out, "storysync: %ld conflict%s resolved\n", n,
			n == 1 ? "" : "s");
	return EXIT_DONE;
}

/* A resolve writes as a run does: under the run lock (held: exit 75, as
 * a run's), into the database file the runs here synced (dbcheck_same:
 * another is refused, exit 4, as by a run). EXIT_DONE, *lockfd held. */
static int lock_checked(struct cli *cli, const struct config *c, int *lockfd)
{
	const struct dbcheck_report r = {.ctx = cli, .warning = cli_warning};
	struct dbhome_file file;
	bool confirmed, refused;
	struct err e;

	*lockfd = dbhome_lock(&c->home, -1, &e);
	if (*lockfd == -2) {
		fprintf(cli->err, "storysync: another storysync run holds %s\n",
			c->home.lock);
		return EXIT_LOCKED;
	}
	if (*lockfd < 0) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return EXIT_FATAL;
	}
	if (dbcheck_same(c, &file, &confirmed, &refused, &r, NULL, &e))
		return EXIT_DONE;
	fprintf(cli->err, "storysync: %s\n", e.msg);
	return refused ? EXIT_GUARDED : EXIT_FATAL;
}

enum { OPT_RESOLVE = 0x200 };

static bool on_flag(void *ctx, struct cli *cli, int val, const char *arg)
{
	*(bool *)ctx = val == OPT_RESOLVE;
	return true;
}

int cmd_conflicts(struct cli *cli, int argc, char **argv)
{
	static const struct cli_flag flags[] = {
		{"resolve", no_argument, OPT_RESOLVE},
		{NULL, 0, 0},
	};
	struct config c = {0};
	struct store *s = NULL;
	const char *id;
	bool resolving = false, busy = false, refused = false;
	struct err e;
	int rc, first, lockfd = -1;

	if (!cli_options(cli, argc, argv, flags, on_flag, &resolving, 1,
			 &first))
		return EXIT_USAGE;
	id = first < argc ? argv[first] : NULL;
	rc = cli_load_config(cli, &c);
	if (rc == EXIT_DONE && resolving)
		rc = cli_may_write(cli, &c);
	if (rc != EXIT_DONE) {
		config_finish(&c);
		return rc;
	}
	/* only init creates the database; the API's writer is waited for
	 * as by sync */
	if (!dbhome_need(&c.home, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (resolving && (rc = lock_checked(cli, &c, &lockfd)) != EXIT_DONE)
		goto out;
	if (!store_open_as(&s, c.database, c.busy_wait_s * 1000, false, &busy,
			   &e) ||
	    !store_set_tree(s, c.tree, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = busy ? EXIT_LOCKED : EXIT_FATAL;
		goto out;
	}
	/* a resolve writes: refused where a run is, another checkout's
	 * tree, or another tree than this checkout's */
	if (resolving && !sync_checkout_check(s, &c, &refused, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = refused ? EXIT_GUARDED : failed(s);
		goto out;
	}
	if (resolving)
		rc = resolve(cli, s, id);
	else if (id)
		rc = show(cli, s, id);
	else
		rc = list(cli, s);
out:
	store_close(s);
	dbhome_unlock(lockfd);
	config_finish(&c);
	return rc;
}
