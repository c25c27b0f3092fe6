/* The Prometheus text format of a tree's health, for storysync metrics and
 * for the metrics_file a run writes for node_exporter's textfile
 * collector. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

#include "fsx.h"
#include "mem.h"
#include "seam.h"

/* A label value: backslash, double quote and newline escaped. */
static void put_label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

static void head(struct buf *b, const char *name, const char *type,
		 const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The tree's name in its database (tree:), which every sample carries
 * beside tree, its checkout's directory: two trees of one database, and
 * two databases' trees on one machine, are series of their own. */
static const char *tree_name;

/* name{tree="...",tree_name="...",extra} value */
static void sample(struct buf *b, const char *name, const char *tree,
		   const char *extra, double v)
{
	buf_printf(b, "%s{tree=\"", name);
	put_label(b, tree);
	buf_puts(b, "\",tree_name=\"");
	put_label(b, tree_name ? tree_name : "default");
	buf_printf(b, "\"%s%s} %.17g\n", extra ? "," : "", extra ? extra : "",
		   v);
}

static void gauge(struct buf *b, const char *name, const char *help,
		  const char *tree, double v)
{
	head(b, name, "gauge", help);
	sample(b, name, tree, NULL, v);
}

/* storysync_backlog_pending_changes{backlog,side} */
static void backlog_sample(struct buf *b, const char *tree, const char *backlog,
			   const char *side, long n)
{
	struct buf l = BUF_INIT;

	buf_puts(&l, "backlog=\"");
	put_label(&l, backlog);
	buf_printf(&l, "\",side=\"%s\"", side);
	sample(b, "storysync_backlog_pending_changes", tree, l.data, (double)n);
	buf_finish(&l);
}

void metrics_render(const struct config *c, const struct health *h,
		    struct buf *b)
{
	const struct run_record_file *r = &h->rec;
	const char *tree = c->root;
	/* the dry run's, as status tells them; without one, the files in
	 * error and the rows no run has taken yet */
	long files = h->pending == PENDING_OK ? h->pending_files
					      : r->errors - r->row_errors;
	long rows =
		h->pending == PENDING_OK ? h->pending_rows : h->rows_pending;

	tree_name = c->tree;

	head(b, "storysync_runs_total", "counter",
	     "Sync runs of this tree by how they ended (a run that found "
	     "another holding the lock is not counted).");
	for (int k = 0; k < RUN_RESULTS; k++) {
		char *l = xasprintf("result=\"%s\"", run_result_names[k]);

		sample(b, "storysync_runs_total", tree, l, (double)r->runs[k]);
		free(l);
	}
	gauge(b, "storysync_last_run_timestamp_seconds",
	      "When the last run ended (0: never).", tree, r->ended_ns / 1e9);
	gauge(b, "storysync_last_success_timestamp_seconds",
	      "When the last run that ended 0 or 1 ended (0: never).", tree,
	      r->last_success_ns / 1e9);
	gauge(b, "storysync_last_run_duration_seconds",
	      "How long the last run took.", tree, r->duration_s);
	gauge(b, "storysync_last_run_exit_code",
	      "The exit code of the last run.", tree, r->exit_code);
	head(b, "storysync_stories", "gauge",
	     "Stories in the database by backlog and status.");
	for (size_t i = 0; i < h->nstories; i++) {
		struct buf l = BUF_INIT;

		buf_puts(&l, "backlog=\"");
		put_label(&l, h->stories[i].backlog);
		buf_puts(&l, "\",status=\"");
		put_label(&l, h->stories[i].status);
		buf_putc(&l, '"');
		sample(b, "storysync_stories", tree, l.data,
		       (double)h->stories[i].n);
		buf_finish(&l);
	}
	gauge(b, "storysync_conflicts_open",
	      "Recorded conflicts not marked resolved.", tree,
	      (double)h->nconflicts);
	gauge(b, "storysync_files_in_error",
	      "Story files the last run skipped for an error.", tree,
	      (double)(r->errors - r->row_errors));
	gauge(b, "storysync_rows_in_error",
	      "Rows the last run refused: values no file can hold.", tree,
	      (double)r->row_errors);
	head(b, "storysync_pending_changes", "gauge",
	     "Changes not synced yet, by the side they were made on.");
	sample(b, "storysync_pending_changes", tree, "side=\"db\"",
	       (double)rows);
	sample(b, "storysync_pending_changes", tree, "side=\"files\"",
	       (double)files);
	head(b, "storysync_backlog_pending_changes", "gauge",
	     "Stories a run would change, by backlog and the side changed "
	     "on (without a dry run: the rows no run has taken yet).");
	for (size_t i = 0; i < h->nbacklogs; i++) {
		const struct backlog_pending *bp = &h->backlogs[i];
		bool dry = h->pending == PENDING_OK;

		backlog_sample(b, tree, bp->backlog, "db",
			       dry ? bp->n.row_changes : bp->rows_pending);
		if (dry)
			backlog_sample(b, tree, bp->backlog, "files",
				       bp->n.file_changes);
	}
	gauge(b, "storysync_notify_failures",
	      "Notify commands failed in a row (0: the last one exited 0).",
	      tree, (double)r->notify_failing);
	gauge(b, "storysync_log_failing",
	      "1 when the last run could not open its log: file, else 0.", tree,
	      r->log_error[0] != '\0');
	gauge(b, "storysync_events_unconsumed",
	      "sync_events rows past the lowest consumer cursor.", tree,
	      (double)h->events_unconsumed);
	gauge(b, "storysync_healthy",
	      "1 when storysync status would say healthy, else 0.", tree,
	      h->verdict == VERDICT_HEALTHY);
	gauge(b, "storysync_status_code",
	      "The exit code storysync status would give (0: healthy).", tree,
	      (double)h->verdict);
}

bool metrics_write_file(const struct config *c, struct err *e)
{
	struct health h;
	struct buf b = BUF_INIT;
	bool ok;

	/* a symlink in the tree is the repository's: it may lead anywhere */
	if (fsx_follows_tree_link(c->root, c->metrics_file))
		return err_set(e,
			       "%s: a symlink in the tree on its way, which "
			       "storysync does not follow; not written",
			       c->metrics_file);
	health_read(c, false, &h);
	metrics_render(c, &h, &b);
	test_seam_stop("metrics-checked"); /* where a test puts a link */
	/* and one put on the way since is not followed either */
	ok = fsx_replace(c->metrics_file, b.data, b.len,
			 &(struct fsx_replace_opts){.root = c->root}, e);
	buf_finish(&b);
	health_finish(&h);
	return ok;
}
