/* Is sync healthy? The facts status and metrics report, and the verdict. */
#include "health.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dbcheck.h"
#include "fsx.h"
#include "mem.h"

#define HEALTH_RUNS      5
#define HEALTH_CONFLICTS 3

const char *const verdict_names[] = {
	[VERDICT_HEALTHY] = "healthy",       [VERDICT_ATTENTION] = "attention",
	[VERDICT_UNREADABLE] = "unreadable", [VERDICT_REFUSED] = "refused",
	[VERDICT_FAILING] = "failing",       [VERDICT_STALE] = "stale",
	[VERDICT_PERMISSION] = "permission",
};

void health_duration(char *out, size_t n, double s)
{
	long m = (long)(s / 60);

	if (s < 60)
		snprintf(out, n, "%.0f s", s < 0 ? 0 : s);
	else if (m < 60)
		snprintf(out, n, "%ld min", m);
	else if (m < 48 * 60)
		snprintf(out, n, "%ld h %ld min", m / 60, m % 60);
	else
		snprintf(out, n, "%ld days", m / (24 * 60));
}

static void add_count(void *ctx, const char *backlog, const char *status,
		      long n)
{
	struct health *h = ctx;
	struct story_count *sc;

	h->stories =
		xreallocarray(h->stories, h->nstories + 1, sizeof(*h->stories));
	sc = &h->stories[h->nstories++];
	sc->backlog = xstrdup(backlog ? backlog : "");
	sc->status = xstrdup(status ? status : "");
	sc->n = n;
}

/* The entry of backlog name (NULL: "", unknown), added when missing. */
static struct backlog_pending *backlog_entry(struct health *h, const char *name)
{
	struct backlog_pending *bp;

	if (!name)
		name = "";
	for (size_t i = 0; i < h->nbacklogs; i++)
		if (strcmp(h->backlogs[i].backlog, name) == 0)
			return &h->backlogs[i];
	h->backlogs = xreallocarray(h->backlogs, h->nbacklogs + 1,
				    sizeof(*h->backlogs));
	bp = &h->backlogs[h->nbacklogs++];
	memset(bp, 0, sizeof(*bp));
	bp->backlog = xstrdup(name);
	return bp;
}

static void add_rows_pending(void *ctx, const char *backlog, const char *status,
			     long n)
{
	struct health *h = ctx;

	(void)status;
	backlog_entry(h, backlog)->rows_pending += n;
	h->rows_pending += n;
}

/* The recorded facts, from a read-only connection. */
static bool read_database(const struct config *c, struct health *h)
{
	struct store *s = NULL;
	struct err *e = &h->e;
	bool ok = store_open_as(&s, c->database, 5000, true, NULL, e) &&
		  store_set_tree(s, c->tree, e) && store_begin_read(s, e) &&
		  store_runs_last(s, HEALTH_RUNS, &h->runs, &h->nruns, e) &&
		  store_conflicts_count(s, &h->nconflicts, e) &&
		  store_conflicts_list(s, HEALTH_CONFLICTS, &h->conflicts,
				       &h->nlatest, e) &&
		  store_events_unconsumed(s, &h->events_unconsumed, e) &&
		  store_rows_pending(s, add_rows_pending, h, e) &&
		  store_story_counts(s, add_count, h, e) &&
		  store_trees_list(s, &h->trees, &h->ntrees, e);

	store_close(s);
	return ok;
}

/* One change the dry run would make, counted in its backlog as sync_run
 * counts it in the whole, and by the side it was made on: the side the run
 * does not write. A conflict is a story changed on both sides; its action's
 * event (reported just before it) counted one of them already. */
static void add_pending(void *ctx, const struct sync_change *ch)
{
	struct health *h = ctx;
	struct sync_counts *n = &backlog_entry(h, ch->backlog)->n;
	bool files = strcmp(ch->where, "db") == 0; /* the DB is written */

	if (strcmp(ch->verb, "conflict") == 0) {
		n->conflicts++;
		if (ch->id != h->last_event_id || !h->last_event_files)
			n->file_changes++;
		if (ch->id != h->last_event_id || h->last_event_files)
			n->row_changes++;
		h->last_event_id = NULL;
		return;
	}
	if (strcmp(ch->verb, "created") == 0)
		n->created++;
	else if (strcmp(ch->verb, "updated") == 0)
		n->updated++;
	else if (strcmp(ch->verb, "moved") == 0)
		n->moved++;
	else if (strcmp(ch->verb, "deleted") == 0)
		n->deleted++;
	if (files)
		n->file_changes++;
	else
		n->row_changes++;
	h->last_event_id = ch->id;
	h->last_event_files = files;
}

/* What status's pending line counts, by side: the backlogs' changes, and
 * the files in error (every run reads them again). */
static void sum_pending(struct health *h)
{
	h->pending_files = h->counts.errors;
	h->pending_rows = 0;
	for (size_t i = 0; i < h->nbacklogs; i++) {
		h->pending_files += h->backlogs[i].n.file_changes;
		h->pending_rows += h->backlogs[i].n.row_changes;
	}
}

/* A dry run, not waiting for anything: what the next run would do. */
static void read_pending(const struct config *c, struct health *h)
{
	struct sync_options o = {
		.mode = SYNC_SCAN, .dry_run = true, .wait_s = -1};
	struct sync_report r = {.ctx = h, .change = add_pending};

	switch (sync_run(c, &o, &r, &h->counts, &h->pending_err)) {
	case SYNC_OK:
	case SYNC_SKIPPED:
		h->pending = PENDING_OK;
		sum_pending(h);
		break;
	case SYNC_LOCKED: h->pending = PENDING_LOCKED; break;
	case SYNC_GUARDED: h->pending = PENDING_GUARDED; break;
	default: h->pending = PENDING_FAILED;
	}
}

/* A directory not made yet is as writable as the nearest one there is:
 * the run makes it. */
static bool writable(const char *dir, char **first)
{
	char *up = xstrdup(dir), *slash;
	int rc;

	while ((rc = access(up, W_OK | X_OK)) < 0 && errno == ENOENT &&
	       (slash = strrchr(up, '/')) && slash != up)
		*slash = '\0';
	free(up);
	if (rc == 0)
		return true;
	if (!*first)
		*first = xstrdup(dir);
	return false;
}

/* Can this user write each epic directory of the stage directory p (rel
 * from the root)? Hidden and ignored ones hold no story; a symlink is
 * never followed. */
static bool epics_writable(const struct config *c, const char *p,
			   const char *rel, char **first)
{
	DIR *d = opendir(p);
	struct dirent *de;
	bool ok = true;

	if (!d)
		return true; /* a stage that cannot be read: its own check */
	while ((de = readdir(d))) {
		char *sub, *subrel;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s", p, de->d_name);
		subrel = xasprintf("%s/%s", rel, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !config_ignored(c, subrel))
			ok &= writable(sub, first);
		free(subrel);
		free(sub);
	}
	closedir(d);
	return ok;
}

/* Can this user write the story tree (its root, each stage directory
 * there is and each epic directory in them) and the database's
 * directory? */
static void read_permissions(const struct config *c, struct health *h)
{
	char *dir = dbhome_dir(&c->home);
	struct stat st;

	h->owner = dbhome_owned(&c->home);
	h->db_dir_writable = writable(dir, &h->unwritable);
	free(dir);
	h->tree_writable = writable(c->root, &h->unwritable);
	for (size_t b = 0; b < c->nbacklogs; b++)
		for (size_t i = 0; i < c->nstages; i++) {
			char *rel = xasprintf("%s/%s", c->backlogs[b].path,
					      c->stages[i].dir);
			char *p = xasprintf("%s/%s", c->root, rel);

			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				h->tree_writable &=
					writable(p, &h->unwritable) &
					epics_writable(c, p, rel,
						       &h->unwritable);
			free(p);
			free(rel);
		}
}

/* An ISO 8601 UTC time of the database, as nanoseconds. */
static int64_t iso_ns(const char *iso)
{
	struct tm tm = {0};

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm) * 1000000000;
}

/* A database from before the run record: its runs tell the same. */
static void record_from_runs(struct health *h)
{
	struct run_record_file *r = &h->rec;

	if (r->ended_ns || !h->nruns)
		return;
	r->ended_ns = iso_ns(h->runs[0].ended ? h->runs[0].ended
					      : h->runs[0].started);
	r->exit_code = h->runs[0].exit_code;
	r->errors = h->runs[0].errors;
	r->result = r->exit_code == 0   ? RUN_OK
		    : r->exit_code == 1 ? RUN_SKIPPED
		    : r->exit_code == 4 ? RUN_GUARDED
					: RUN_FAILED;
	for (size_t i = 0; i < h->nruns && !r->last_success_ns; i++)
		if (h->runs[i].exit_code <= 1)
			r->last_success_ns = iso_ns(h->runs[i].started);
	for (size_t i = 0; i < h->nruns && h->runs[i].exit_code > 1; i++)
		r->failing++;
	if (r->result == RUN_GUARDED)
		r->guarded_since_ns = r->ended_ns;
	if (h->runs[0].messages)
		snprintf(r->message, sizeof(r->message), "%.*s",
			 (int)strcspn(h->runs[0].messages, "\n"),
			 h->runs[0].messages);
}

static void stamp(char *out, size_t n, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Appends ", " (after "attention: ", nothing) and the printf of fmt to
 * the summary, whose first k bytes are written. */
static void add_part(struct health *h, size_t *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_part(struct health *h, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*k >= sizeof(h->summary))
		return;
	if (*k > strlen("attention: "))
		*k += (size_t)snprintf(h->summary + *k, sizeof(h->summary) - *k,
				       ", ");
	if (*k >= sizeof(h->summary))
		return;
	va_start(ap, fmt);
	n = vsnprintf(h->summary + *k, sizeof(h->summary) - *k, fmt, ap);
	va_end(ap);
	*k += n > 0 ? (size_t)n : 0;
}

/* The other trees of the database with stories and no checkout that
 * syncs them (given up by init --take-over, or never registered): the
 * API's edits of their rows reach no file. The first into *first. */
static size_t unsynced_trees(const struct config *c, const struct health *h,
			     const struct tree_info **first)
{
	size_t n = 0;

	*first = NULL;
	for (size_t i = 0; i < h->ntrees; i++) {
		const struct tree_info *t = &h->trees[i];

		if (strcmp(t->name, c->tree) == 0 || t->stories <= 0 ||
		    (t->host && t->path))
			continue;
		if (!n++)
			*first = t;
	}
	return n;
}

/* "attention: 1 open conflict, 2 files in error, notify failing ..." */
static void attention(const struct config *c, struct health *h)
{
	const struct tree_info *t;
	size_t trees = unsynced_trees(c, h, &t);
	const struct run_record_file *r = &h->rec;
	long files = r->errors - r->row_errors;
	char since[32];
	size_t k =
		(size_t)snprintf(h->summary, sizeof(h->summary), "attention: ");

	if (h->nconflicts)
		add_part(h, &k, "%ld open conflict%s", h->nconflicts,
			 h->nconflicts == 1 ? "" : "s");
	if (files)
		add_part(h, &k, "%ld file%s in error", files,
			 files == 1 ? "" : "s");
	if (r->row_errors)
		add_part(h, &k, "%ld row%s in error", r->row_errors,
			 r->row_errors == 1 ? "" : "s");
	if (r->notify_failing) {
		stamp(since, sizeof(since), r->notify_failing_since_ns);
		add_part(h, &k,
			 "notify failed %ld time%s in a row (since %s): %s",
			 r->notify_failing, r->notify_failing == 1 ? "" : "s",
			 since, r->notify_error);
	}
	if (r->log_error[0])
		add_part(h, &k, "%s", r->log_error);
	if (h->tracked)
		add_part(h, &k, "%s", h->tracked);
	if (trees == 1)
		add_part(h, &k,
			 "tree '%s' of the database (%ld stor%s) is synced by "
			 "no checkout",
			 t->name, t->stories, t->stories == 1 ? "y" : "ies");
	else if (trees)
		add_part(h, &k,
			 "%zu trees of the database ('%s', ...) are synced by "
			 "no checkout",
			 trees, t->name);
	h->verdict = VERDICT_ATTENTION;
}

static void decide(const struct config *c, struct health *h)
{
	const struct run_record_file *r = &h->rec;
	double now = fsx_now_ns() / 1e9;
	char ago[32], since[32], changed[32];
	const struct tree_info *unsynced;
	long n = 0;

	for (size_t i = 0; i < h->nstories; i++)
		n += h->stories[i].n;
	health_duration(ago, sizeof(ago), now - r->ended_ns / 1e9);
	if (h->e.msg[0]) {
		h->verdict = VERDICT_UNREADABLE;
		snprintf(h->summary, sizeof(h->summary), "unreadable: %s",
			 h->e.msg);
	} else if (!h->have_db || !r->ended_ns) {
		h->verdict = VERDICT_STALE;
		snprintf(h->summary, sizeof(h->summary), "stale: %s",
			 h->have_db ? "no run recorded yet"
				    : "never synced (no database yet: "
				      "storysync init creates it)");
	} else if (r->result == RUN_FAILED) {
		stamp(since, sizeof(since), r->failing_since_ns);
		snprintf(h->summary, sizeof(h->summary),
			 "failing: the last %ld run%s failed (since %s, "
			 "exit %d): %s",
			 r->failing, r->failing == 1 ? "" : "s",
			 r->failing_since_ns ? since : "?", r->exit_code,
			 r->message[0] ? r->message : "no message");
		h->verdict = VERDICT_FAILING;
	} else if (r->result == RUN_GUARDED) {
		stamp(since, sizeof(since), r->guarded_since_ns);
		snprintf(h->summary, sizeof(h->summary),
			 "refused: a guard has held since %s: %s", since,
			 r->message);
		h->verdict = VERDICT_REFUSED;
	} else if (!r->last_success_ns ||
		   now - r->last_success_ns / 1e9 > c->stale_after_s) {
		health_duration(since, sizeof(since),
				now - r->last_success_ns / 1e9);
		snprintf(h->summary, sizeof(h->summary),
			 "stale: no successful run for %s (the last run "
			 "ended %s ago: %s)",
			 r->last_success_ns ? since : "ever", ago,
			 run_result_names[r->result]);
		h->verdict = VERDICT_STALE;
	} else if (h->owner && (!h->tree_writable || !h->db_dir_writable)) {
		snprintf(h->summary, sizeof(h->summary),
			 "permission: this user runs the sync but cannot write "
			 "%s",
			 h->unwritable);
		h->verdict = VERDICT_PERMISSION;
	} else if (h->nconflicts || r->errors || r->notify_failing ||
		   r->log_error[0] || h->tracked ||
		   unsynced_trees(c, h, &unsynced)) {
		attention(c, h);
	} else {
		health_duration(changed, sizeof(changed),
				now - r->last_change_ns / 1e9);
		snprintf(h->summary, sizeof(h->summary),
			 "healthy: last run %s ago, last change %s%s; %ld "
			 "stor%s",
			 ago, r->last_change_ns ? changed : "never",
			 r->last_change_ns ? " ago" : "", n,
			 n == 1 ? "y" : "ies");
		h->verdict = VERDICT_HEALTHY;
	}
}

static void read_once(const struct config *c, bool pending, struct health *h)
{
	struct err e;

	memset(h, 0, sizeof(*h));
	h->pending = PENDING_NO_DB;
	/* nothing is created: no database means never synced */
	h->have_db = dbhome_exists(&c->home);
	for (size_t i = 0; i < c->nbacklogs; i++)
		backlog_entry(h, c->backlogs[i].name);
	if (!run_record_read(&c->home, &h->rec, &e))
		h->e = e;
	/* on failure h->e says why */
	if (h->have_db && !h->e.msg[0])
		read_database(c, h);
	record_from_runs(h);
	h->pending = PENDING_NOT_READ;
	if (!h->have_db)
		h->pending = PENDING_NO_DB;
	else if (pending && !h->e.msg[0])
		read_pending(c, h);
	read_permissions(c, h);
	h->tracked = dbcheck_tracked_message(&c->home, &h->rec.index_none);
	decide(c, h);
}

/* A reader that cannot make the WAL's files reads the database file as
 * immutable (store.c): a checkpoint that rewrites it meanwhile may have
 * shown a mix of two versions, so the facts are read again, at most
 * three times, until the file stayed the same while they were read. */
void health_read(const struct config *c, bool pending, struct health *h)
{
	struct dbhome_version before, after;

	for (int tries = 1;; tries++) {
		bool known = dbhome_version(&c->home, &before);

		read_once(c, pending, h);
		if (tries == 3 || !known || !dbhome_version(&c->home, &after) ||
		    dbhome_same_version(&before, &after))
			return;
		health_finish(h);
	}
}

void health_finish(struct health *h)
{
	store_runs_free(h->runs, h->nruns);
	store_conflicts_free(h->conflicts, h->nlatest);
	for (size_t i = 0; i < h->nstories; i++) {
		free(h->stories[i].backlog);
		free(h->stories[i].status);
	}
	free(h->stories);
	for (size_t i = 0; i < h->nbacklogs; i++)
		free(h->backlogs[i].backlog);
	free(h->backlogs);
	free(h->unwritable);
	free(h->tracked);
	store_trees_free(h->trees, h->ntrees);
}
