/* storysync status: last runs, pending changes, conflicts, errors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mem.h"
#include "store.h"
#include "sync.h"

#define STATUS_RUNS      5
#define STATUS_CONFLICTS 3

/* What the next run would do, found by a dry run. */
enum pending_state {
	PENDING_OK,
	PENDING_LOCKED,  /* a sync is running */
	PENDING_GUARDED, /* the next run would be refused */
	PENDING_FAILED,  /* the dry run failed: error says why */
	PENDING_NO_DB,   /* never initialised: nothing to compare with */
};

struct status {
	bool have_db;
	struct run_row *runs;
	size_t nruns;
	long failing;
	long nconflicts;
	struct conflict_info *conflicts;
	size_t nlatest;
	enum pending_state pending;
	struct sync_counts counts;
	struct err pending_err;
};

static const char *const pending_names[] = {
	[PENDING_OK] = "ok",
	[PENDING_LOCKED] = "locked",
	[PENDING_GUARDED] = "guarded",
	[PENDING_FAILED] = "failed",
	[PENDING_NO_DB] = "no_database",
};

/* status takes the output options after its word too; no argument. */

/* The recorded facts: runs and conflicts. */
static bool read_records(const struct config *c, struct status *st,
			 struct err *e)
{
	struct store *s = NULL;
	bool ok = store_open(&s, c->database, e) &&
		  store_runs_last(s, STATUS_RUNS, &st->runs, &st->nruns, e) &&
		  store_runs_failing(s, &st->failing, e) &&
		  store_conflicts_count(s, &st->nconflicts, e) &&
		  store_conflicts_list(s, STATUS_CONFLICTS, &st->conflicts,
				       &st->nlatest, e);

	store_close(s);
	return ok;
}

/* A dry run, not waiting for the lock: what the next run would do. */
static void read_pending(const struct config *c, struct status *st)
{
	struct sync_options o = {
		.mode = SYNC_SCAN, .dry_run = true, .wait_s = -1};

	switch (sync_run(c, &o, NULL, &st->counts, &st->pending_err)) {
	case SYNC_OK:
	case SYNC_SKIPPED: st->pending = PENDING_OK; break;
	case SYNC_LOCKED: st->pending = PENDING_LOCKED; break;
	case SYNC_GUARDED: st->pending = PENDING_GUARDED; break;
	default: st->pending = PENDING_FAILED;
	}
}

/* "1 created, 2 updated", or none when every count is zero. */
static void print_counts(FILE *f, long created, long updated, long moved,
			 long deleted, long conflicts, long errors,
			 const char *none)
{
	const long v[] = {created, updated, moved, deleted, conflicts, errors};
	static const char *const names[] = {
		"created", "updated",   "moved",
		"deleted", "conflicts", "with errors",
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!v[i])
			continue;
		fprintf(f, "%s%ld %s", sep, v[i], names[i]);
		sep = ", ";
	}
	if (!*sep)
		fputs(none, f);
}

static void print_runs(FILE *f, const struct status *st)
{
	if (!st->nruns) {
		fputs("last runs: none\n", f);
		return;
	}
	fputs("last runs (newest first):\n", f);
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run_row *r = &st->runs[i];

		fprintf(f, "  #%lld %s %s exit %d: ", (long long)r->id,
			r->started ? r->started : "?", r->mode ? r->mode : "?",
			r->exit_code);
		print_counts(f, r->created, r->updated, r->moved, r->deleted,
			     r->conflicts, r->errors, "no changes");
		fputc('\n', f);
	}
}

static void print_pending(FILE *f, const struct status *st)
{
	const struct sync_counts *n = &st->counts;

	fputs("pending: ", f);
	switch (st->pending) {
	case PENDING_OK:
		print_counts(f, n->created, n->updated, n->moved, n->deleted,
			     n->conflicts, n->errors, "nothing");
		break;
	case PENDING_LOCKED: fputs("unknown, a sync is running", f); break;
	case PENDING_GUARDED:
		fprintf(f, "the next run would be refused: %s",
			st->pending_err.msg);
		break;
	case PENDING_FAILED:
		fprintf(f, "unknown: %s", st->pending_err.msg);
		break;
	case PENDING_NO_DB:
		fputs("unknown, no database yet (storysync init creates it)",
		      f);
	}
	fputc('\n', f);
}

static void print_conflicts(FILE *f, const struct status *st)
{
	if (!st->nconflicts) {
		fputs("conflicts: none\n", f);
		return;
	}
	fprintf(f, "conflicts: %ld recorded (storysync conflicts lists them)\n",
		st->nconflicts);
	for (size_t i = 0; i < st->nlatest; i++) {
		const struct conflict_info *c = &st->conflicts[i];

		fprintf(f, "  #%lld %s %s %s kept %s", (long long)c->id, c->at,
			c->story_id, c->kind, c->kept);
		if (c->fields)
			fprintf(f, ": %s", c->fields);
		fputc('\n', f);
	}
}

static void print_errors(FILE *f, const struct status *st)
{
	const char *p = st->nruns ? st->runs[0].messages : NULL;

	if (!p || !*p)
		return;
	fputs("errors of the last run:\n", f);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n)
			fprintf(f, "  %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* The lines of text as a JSON array of strings. */
static void json_lines(FILE *f, const char *text)
{
	const char *p = text;
	bool first = true;

	fputc('[', f);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n);

		if (n) {
			fputs(first ? "" : ",", f);
			cli_json_string(f, line);
			first = false;
		}
		free(line);
		p += n + (nl ? 1 : 0);
	}
	fputc(']', f);
}

static void json_runs(FILE *f, const struct status *st)
{
	fputs("\"runs\":[", f);
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run_row *r = &st->runs[i];

		fprintf(f, "%s{\"id\":%lld,\"started\":", i ? "," : "",
			(long long)r->id);
		cli_json_string(f, r->started);
		fputs(",\"ended\":", f);
		cli_json_string(f, r->ended);
		fputs(",\"mode\":", f);
		cli_json_string(f, r->mode);
		fprintf(f,
			",\"created\":%ld,\"updated\":%ld,\"moved\":%ld,"
			"\"deleted\":%ld,\"conflicts\":%ld,\"errors\":%ld,"
			"\"exit\":%d,\"messages\":",
			r->created, r->updated, r->moved, r->deleted,
			r->conflicts, r->errors, r->exit_code);
		json_lines(f, r->messages);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_pending(FILE *f, const struct status *st)
{
	const struct sync_counts *n = &st->counts;
	bool ok = st->pending == PENDING_OK;

	fputs(",\"pending\":{\"state\":", f);
	cli_json_string(f, pending_names[st->pending]);
	fputs(",\"error\":", f);
	cli_json_string(f, st->pending == PENDING_GUARDED ||
					   st->pending == PENDING_FAILED
				   ? st->pending_err.msg
				   : NULL);
	if (ok)
		fprintf(f,
			",\"created\":%ld,\"updated\":%ld,\"moved\":%ld,"
			"\"deleted\":%ld,\"conflicts\":%ld,\"errors\":%ld",
			n->created, n->updated, n->moved, n->deleted,
			n->conflicts, n->errors);
	fputc('}', f);
}

static void json_conflicts(FILE *f, const struct status *st)
{
	fprintf(f, ",\"conflicts\":{\"count\":%ld,\"latest\":[",
		st->nconflicts);
	for (size_t i = 0; i < st->nlatest; i++) {
		const struct conflict_info *c = &st->conflicts[i];

		if (i)
			fputc(',', f);
		cli_json_conflict_head(f, c);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void print_json(FILE *f, const struct config *c, const struct status *st)
{
	fputs("{\"database\":", f);
	cli_json_string(f, c->database);
	fprintf(f,
		",\"exists\":%s,\"failing_runs\":%ld,\"last_run_failed\":%s,",
		st->have_db ? "true" : "false", st->failing,
		st->nruns && st->runs[0].exit_code ? "true" : "false");
	json_runs(f, st);
	json_pending(f, st);
	json_conflicts(f, st);
	fputs(",\"last_run_errors\":", f);
	json_lines(f, st->nruns ? st->runs[0].messages : NULL);
	fputs("}\n", f);
}

/* Loud first: runs that keep failing are what status is for. */
static void warn_failing(struct cli *cli, const struct status *st)
{
	if (!st->failing || !st->nruns || !st->runs[0].exit_code)
		return;
	if (st->failing == 1)
		fprintf(cli->err, "storysync: the last run failed (exit %d)\n",
			st->runs[0].exit_code);
	else
		fprintf(cli->err,
			"storysync: the last %ld runs failed (latest exit "
			"%d)\n",
			st->failing, st->runs[0].exit_code);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	struct status st = {.pending = PENDING_NO_DB};
	struct err e;
	int rc, first;

	if (!cli_options(cli, argc, argv, NULL, NULL, NULL, 0, &first))
		return EXIT_USAGE;
	rc = cli_load_config(cli, &c);
	if (rc != EXIT_DONE)
		return rc;
	/* status creates nothing: no database means never synced */
	st.have_db = access(c.database, F_OK) == 0;
	if (st.have_db && !read_records(&c, &st, &e)) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		rc = EXIT_FATAL;
		goto out;
	}
	if (st.have_db)
		read_pending(&c, &st);
	warn_failing(cli, &st);
	if (cli->json) {
		print_json(cli->out, &c, &st);
	} else if (cli->verbosity >= 0) {
		print_runs(cli->out, &st);
		print_pending(cli->out, &st);
		print_conflicts(cli->out, &st);
		print_errors(cli->out, &st);
	}
	rc = st.nruns && st.runs[0].exit_code ? EXIT_SKIPPED : EXIT_DONE;
out:
	store_runs_free(st.runs, st.nruns);
	store_conflicts_free(st.conflicts, st.nlatest);
	config_finish(&c);
	return rc;
}
