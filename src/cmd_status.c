/* storysync status: last runs, pending changes, conflicts, errors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "health.h"
#include "mem.h"
#include "store.h"
#include "sync.h"

static const char *const pending_names[] = {
	[PENDING_OK] = "ok",
	[PENDING_LOCKED] = "locked",
	[PENDING_GUARDED] = "guarded",
	[PENDING_FAILED] = "failed",
	[PENDING_NO_DB] = "no_database",
	[PENDING_NOT_READ] = "not_read",
};

/* "1 created, 2 updated", or none when every count is zero. */
static void print_counts(FILE *f, long created, long updated, long moved,
			 long deleted, long conflicts, long errors,
			 const char *none)
{
	const long v[] = {created, updated, moved, deleted, conflicts, errors};
	static const char *const names[] = {
		"created", "updated",  "moved",
		"deleted", "conflict", "with errors",
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		if (!v[i])
			continue;
		fprintf(f, "%s%ld %s%s", sep, v[i], names[i],
			i == 4 && v[i] != 1 ? "s" : "");
		sep = ", ";
	}
	if (!*sep)
		fputs(none, f);
}

static void print_runs(FILE *f, const struct health *st)
{
	if (!st->nruns) {
		fputs("last runs: none\n", f);
		return;
	}
	fputs("last runs (newest first):\n", f);
	for (size_t i = 0; i < st->nruns; i++) {
		const struct run_row *r = &st->runs[i];

		fprintf(f, "  #%lld ", (long long)r->id);
		cli_put_safe(f, r->started ? r->started : "?");
		fputc(' ', f);
		cli_put_safe(f, r->mode ? r->mode : "?");
		fprintf(f, " exit %d: ", r->exit_code);
		print_counts(f, r->created, r->updated, r->moved, r->deleted,
			     r->conflicts, r->errors, "no changes");
		fputc('\n', f);
	}
}

static void print_pending(FILE *f, const struct health *st)
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
		fputs("the next run would be refused: ", f);
		cli_put_safe(f, st->pending_err.msg);
		break;
	case PENDING_FAILED:
		fputs("unknown: ", f);
		cli_put_safe(f, st->pending_err.msg);
		break;
	case PENDING_NO_DB:
		fputs("unknown, no database yet (storysync init creates it)",
		      f);
		break;
	case PENDING_NOT_READ: fputs("not read", f);
	}
	fputc('\n', f);
	if (st->pending != PENDING_OK || st->nbacklogs < 2)
		return;
	/* per backlog, when there is more than one: "  mobile: 2 updated" */
	for (size_t i = 0; i < st->nbacklogs; i++) {
		const struct backlog_pending *b = &st->backlogs[i];

		if (!b->n.file_changes && !b->n.row_changes && !b->n.conflicts)
			continue;
		fputs("  ", f);
		cli_put_safe(f, *b->backlog ? b->backlog : "(none)");
		fputs(": ", f);
		print_counts(f, b->n.created, b->n.updated, b->n.moved,
			     b->n.deleted, b->n.conflicts, 0, "nothing");
		fputc('\n', f);
	}
}

static void print_conflicts(FILE *f, const struct health *st)
{
	if (!st->nconflicts) {
		fputs("conflicts: none\n", f);
		return;
	}
	fprintf(f,
		"conflicts: %ld open (storysync conflicts lists them, "
		"conflicts --resolve marks them done)\n",
		st->nconflicts);
	for (size_t i = 0; i < st->nlatest; i++) {
		const struct conflict_info *c = &st->conflicts[i];

		const char *v[] = {c->at, c->story_id, c->kind};

		fprintf(f, "  #%lld", (long long)c->id);
		for (size_t k = 0; k < sizeof(v) / sizeof(*v); k++) {
			fputc(' ', f);
			cli_put_safe(f, v[k] ? v[k] : "?");
		}
		fputs(" kept ", f);
		cli_put_safe(f, c->kept ? c->kept : "?");
		if (c->fields) {
			fputs(": ", f);
			cli_put_safe(f, c->fields);
		}
		fputc('\n', f);
	}
}

static void print_errors(FILE *f, const struct health *st)
{
	const char *p = st->nruns ? st->runs[0].messages : NULL;

	if (!p || !*p)
		return;
	fputs("errors of the last run:\n", f);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n) {
			char *line = xstrndup(p, n);

			fputs("  ", f);
			cli_put_safe(f, line);
			fputc('\n', f);
			free(line);
		}
		p += n + (nl ? 1 : 0);
	}
}

/* What failed after the last runs: the notify command, the log. */
static void print_after(FILE *f, const struct health *st)
{
	const struct run_record_file *r = &st->rec;

	if (r->notify_failing) {
		fprintf(f, "notify: failed %ld time%s in a row: ",
			r->notify_failing, r->notify_failing == 1 ? "" : "s");
		cli_put_safe(f, r->notify_error);
		fputc('\n', f);
	}
	if (r->log_error[0]) {
		cli_put_safe(f, r->log_error);
		fputc('\n', f);
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

static void json_runs(FILE *f, const struct health *st)
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

static void json_pending(FILE *f, const struct health *st)
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
	fputs(",\"backlogs\":[", f);
	for (size_t i = 0; i < st->nbacklogs; i++) {
		const struct backlog_pending *b = &st->backlogs[i];

		fputs(i ? ",{\"backlog\":" : "{\"backlog\":", f);
		cli_json_string(f, b->backlog);
		if (ok)
			fprintf(f,
				",\"created\":%ld,\"updated\":%ld,"
				"\"moved\":%ld,\"deleted\":%ld,"
				"\"conflicts\":%ld,\"files\":%ld,"
				"\"rows\":%ld",
				b->n.created, b->n.updated, b->n.moved,
				b->n.deleted, b->n.conflicts, b->n.file_changes,
				b->n.row_changes);
		fprintf(f, ",\"rows_unsynced\":%ld}", b->rows_pending);
	}
	fputs("]}", f);
}

static void json_conflicts(FILE *f, const struct health *st)
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

static void json_time(FILE *f, const char *key, int64_t ns)
{
	if (ns)
		fprintf(f, ",\"%s\":%.3f", key, ns / 1e9);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void json_trees(FILE *f, const struct config *c, const struct health *st)
{
	fputs(",\"tree\":", f);
	cli_json_string(f, c->tree);
	fputs(",\"trees\":[", f);
	for (size_t i = 0; i < st->ntrees; i++) {
		const struct tree_info *t = &st->trees[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		cli_json_string(f, t->name);
		fputs(",\"host\":", f);
		cli_json_string(f, t->host);
		fputs(",\"path\":", f);
		cli_json_string(f, t->path);
		fprintf(f, ",\"stories\":%ld,\"last_run_at\":", t->stories);
		cli_json_string(f, t->last_run);
		if (t->last_run)
			fprintf(f, ",\"last_exit\":%d}", t->last_exit);
		else
			fputs(",\"last_exit\":null}", f);
	}
	fputc(']', f);
}

static void print_json(FILE *f, const struct config *c, const struct health *st)
{
	const struct run_record_file *r = &st->rec;

	fputs("{\"verdict\":", f);
	cli_json_string(f, verdict_names[st->verdict]);
	fputs(",\"summary\":", f);
	cli_json_string(f, st->summary);
	fputs(",\"database\":", f);
	cli_json_string(f, c->home.shown);
	fprintf(f, ",\"exists\":%s,\"failing_runs\":%ld,\"last_run\":",
		st->have_db ? "true" : "false", r->failing);
	cli_json_string(f, r->ended_ns ? run_result_names[r->result] : NULL);
	json_time(f, "last_run_at", r->ended_ns);
	json_time(f, "last_success_at", r->last_success_ns);
	json_time(f, "last_change_at", r->last_change_ns);
	json_time(f, "guarded_since", r->guarded_since_ns);
	fprintf(f,
		",\"notify_failing\":%ld,\"notify_error\":", r->notify_failing);
	cli_json_string(f, r->notify_failing ? r->notify_error : NULL);
	json_time(f, "notify_failing_since",
		  r->notify_failing ? r->notify_failing_since_ns : 0);
	fputs(",\"log_error\":", f);
	cli_json_string(f, r->log_error[0] ? r->log_error : NULL);
	fprintf(f,
		",\"files_in_error\":%ld,\"rows_in_error\":%ld,"
		"\"tree_writable\":%s,\"database_dir_writable\":%s,",
		r->errors - r->row_errors, r->row_errors,
		st->tree_writable ? "true" : "false",
		st->db_dir_writable ? "true" : "false");
	json_runs(f, st);
	json_pending(f, st);
	json_conflicts(f, st);
	fputs(",\"stories\":[", f);
	for (size_t i = 0; i < st->nstories; i++) {
		fputs(i ? ",{\"backlog\":" : "{\"backlog\":", f);
		cli_json_string(f, st->stories[i].backlog);
		fputs(",\"status\":", f);
		cli_json_string(f, st->stories[i].status);
		fprintf(f, ",\"count\":%ld}", st->stories[i].n);
	}
	fputc(']', f);
	json_trees(f, c, st);
	fputs(",\"last_run_errors\":", f);
	json_lines(f, st->nruns ? st->runs[0].messages : NULL);
	fputs("}\n", f);
}

/* "backlogs: mobile 19 (backlog 12, active 7); platform 20 (...)" */
static void print_backlogs(FILE *f, const struct health *st)
{
	const char *sep = "";

	if (!st->nstories)
		return;
	fputs("backlogs:", f);
	for (size_t i = 0; i < st->nstories;) {
		const char *b = st->stories[i].backlog;
		long n = 0;
		size_t j;

		for (j = i;
		     j < st->nstories && strcmp(st->stories[j].backlog, b) == 0;
		     j++)
			n += st->stories[j].n;
		fprintf(f, "%s ", sep);
		cli_put_safe(f, *b ? b : "(none)");
		fprintf(f, " %ld (", n);
		for (size_t k = i; k < j; k++) {
			fputs(k > i ? ", " : "", f);
			cli_put_safe(f, *st->stories[k].status
						? st->stories[k].status
						: "(none)");
			fprintf(f, " %ld", st->stories[k].n);
		}
		fputc(')', f);
		sep = ";";
		i = j;
	}
	fputc('\n', f);
}

/* The other trees of the database, a line each, when there are any:
 * "trees: this one is 'web'; also in the database:" then
 * "  api: 120 stories, synced by HOST:PATH, last run ... exit 0". */
static void print_trees(FILE *f, const struct config *c,
			const struct health *st)
{
	if (st->ntrees < 2 && strcmp(c->tree, "default") == 0)
		return;
	fputs("tree: ", f);
	cli_put_safe(f, c->tree);
	if (st->ntrees < 2) {
		fputs(" (the only one in the database)\n", f);
		return;
	}
	fputs("; the other trees in the database:\n", f);
	for (size_t i = 0; i < st->ntrees; i++) {
		const struct tree_info *t = &st->trees[i];

		if (strcmp(t->name, c->tree) == 0)
			continue;
		fputs("  ", f);
		cli_put_safe(f, t->name);
		fprintf(f, ": %ld stor%s, ", t->stories,
			t->stories == 1 ? "y" : "ies");
		if (t->host && t->path) {
			fputs("synced by ", f);
			cli_put_safe(f, t->host);
			fputc(':', f);
			cli_put_safe(f, t->path);
		} else
			fputs("no checkout registered", f);
		if (t->last_run) {
			fputs(", last run ", f);
			cli_put_safe(f, t->last_run);
			fprintf(f, " exit %d", t->last_exit);
		} else
			fputs(", no run yet", f);
		fputc('\n', f);
	}
}

static void print_permissions(FILE *f, const struct health *st)
{
	if (st->tree_writable && st->db_dir_writable)
		return;
	fputs("permissions: this user cannot write ", f);
	cli_put_safe(f, st->unwritable);
	fprintf(f, "%s\n",
		st->owner ? ""
			  : " (it does not own the database: not the "
			    "sync's user, only a reader)");
}

/* What status prints comes from the database, the run record and file
 * names: control characters escaped, as everywhere on the terminal. */
static void put_line(FILE *f, const char *s)
{
	cli_put_safe(f, s);
	fputc('\n', f);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	struct health st;
	int rc;

	rc = cli_start(cli, argc, argv, &c);
	if (rc != EXIT_DONE)
		return rc;
	health_read(&c, true, &st);
	if (cli->json) {
		print_json(cli->out, &c, &st);
	} else if (cli->verbosity >= 0) {
		put_line(cli->out, st.summary);
		print_runs(cli->out, &st);
		print_pending(cli->out, &st);
		print_conflicts(cli->out, &st);
		print_backlogs(cli->out, &st);
		print_trees(cli->out, &c, &st);
		print_errors(cli->out, &st);
		print_after(cli->out, &st);
		print_permissions(cli->out, &st);
	} else if (st.verdict != VERDICT_HEALTHY) {
		/* -q: a monitor's line, only when there is something to say */
		put_line(cli->out, st.summary);
	}
	rc = (int)st.verdict;
	health_finish(&st);
	config_finish(&c);
	return rc;
}
