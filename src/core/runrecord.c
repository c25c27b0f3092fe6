#include "runrecord.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsx.h"
#include "mem.h"

/*
 * The file is "key value" lines, times in nanoseconds since the epoch:
 *
 *   # storysync run record (see storysync(1), FILES)
 *   ended 1764739200123456789
 *   result ok
 *   ...
 *   runs_ok 1432
 *   database 2049 1311 1796664109411675478 2049 1305
 *   index_none DEV INO SIZE MTIME CTIME WHERE HEAD (gitindex_stamp)
 *   local_none DEV INO SIZE MTIME CTIME WHERE HEAD (the same)
 *
 * Unknown keys are skipped, so that an older storysync reads a newer file.
 */

const char *const run_result_names[RUN_RESULTS] = {
	[RUN_OK] = "ok",         [RUN_SKIPPED] = "skipped",
	[RUN_FAILED] = "failed", [RUN_GUARDED] = "guarded",
	[RUN_BUSY] = "busy",
};

/* An index_none or local_none line's value: the stamp's numbers, then
 * HEAD's commit ("-": not known). A line without HEAD (index_none's
 * first form) is none: the index is read. */
static void take_stamp(struct gitindex_stamp *s, const char *v)
{
	char head[GITINDEX_HEX + 1];
	size_t n;

	s->set = sscanf(v,
			"%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64
			" %" SCNd64 " %" SCNu64 " %41s",
			&s->dev, &s->ino, &s->size, &s->mtime_ns, &s->ctime_ns,
			&s->where, head) == 7;
	n = s->set ? strlen(head) : 0;
	if (n == 1 && head[0] == '-')
		head[0] = '\0';
	else if (n != GITINDEX_HEX - 1 || strspn(head, "0123456789abcdef") != n)
		s->set = false;
	memcpy(s->head, s->set ? head : "", s->set ? strlen(head) + 1 : 1);
}

static void put_stamp(struct buf *b, const char *key,
		      const struct gitindex_stamp *s)
{
	if (s->set)
		buf_printf(b,
			   "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
			   " %" PRId64 " %" PRIu64 " %s\n",
			   key, s->dev, s->ino, s->size, s->mtime_ns,
			   s->ctime_ns, s->where, s->head[0] ? s->head : "-");
}

static void take(struct run_record_file *r, const char *key, const char *v)
{
	static const struct {
		const char *key;
		size_t off;
	} times[] = {
		{"ended", offsetof(struct run_record_file, ended_ns)},
		{"last_success",
		 offsetof(struct run_record_file, last_success_ns)},
		{"last_change",
		 offsetof(struct run_record_file, last_change_ns)},
		{"failing_since",
		 offsetof(struct run_record_file, failing_since_ns)},
		{"guarded_since",
		 offsetof(struct run_record_file, guarded_since_ns)},
		{"notify_failing_since",
		 offsetof(struct run_record_file, notify_failing_since_ns)},
	};

	for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++)
		if (strcmp(key, times[i].key) == 0) {
			*(int64_t *)((char *)r + times[i].off) =
				strtoll(v, NULL, 10);
			return;
		}
	if (strcmp(key, "duration") == 0)
		r->duration_s = strtod(v, NULL);
	else if (strcmp(key, "exit") == 0)
		r->exit_code = atoi(v);
	else if (strcmp(key, "failing") == 0)
		r->failing = strtol(v, NULL, 10);
	else if (strcmp(key, "errors") == 0)
		r->errors = strtol(v, NULL, 10);
	else if (strcmp(key, "row_errors") == 0)
		r->row_errors = strtol(v, NULL, 10);
	else if (strcmp(key, "message") == 0)
		snprintf(r->message, sizeof(r->message), "%s", v);
	else if (strcmp(key, "log_error") == 0)
		snprintf(r->log_error, sizeof(r->log_error), "%s", v);
	else if (strcmp(key, "notify_error") == 0)
		snprintf(r->notify_error, sizeof(r->notify_error), "%s", v);
	else if (strcmp(key, "notify_failing") == 0)
		r->notify_failing = strtol(v, NULL, 10);
	else if (strcmp(key, "database") == 0)
		r->db_known = sscanf(v,
				     "%" SCNu64 " %" SCNu64 " %" SCNd64
				     " %" SCNu64 " %" SCNu64,
				     &r->db.dev, &r->db.ino, &r->db.born_ns,
				     &r->db.root_dev, &r->db.root_ino) == 5;
	else if (strcmp(key, "index_none") == 0)
		take_stamp(&r->index_none, v);
	else if (strcmp(key, "local_none") == 0)
		take_stamp(&r->local_none, v);
	for (int k = 0; k < RUN_RESULTS; k++) {
		if (strcmp(key, "result") == 0 &&
		    strcmp(v, run_result_names[k]) == 0)
			r->result = (enum run_result)k;
		if (strncmp(key, "runs_", 5) == 0 &&
		    strcmp(key + 5, run_result_names[k]) == 0)
			r->runs[k] = strtol(v, NULL, 10);
	}
}

bool run_record_read(const struct dbhome *h, struct run_record_file *r,
		     struct err *e)
{
	char *path = xstrdup(h->run);
	FILE *f = fopen(path, "re");
	char line[ERR_MAX + 64];

	memset(r, 0, sizeof(*r));
	if (!f) {
		bool missing = errno == ENOENT;

		if (!missing)
			err_set(e, "%s: %s", path, strerror(errno));
		free(path);
		return missing;
	}
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' '), *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (line[0] == '#' || !sp)
			continue;
		*sp = '\0';
		take(r, line, sp + 1);
	}
	fclose(f);
	free(path);
	return true;
}

void run_record_add(struct run_record_file *r, enum run_result result,
		    int exit_code, double duration_s, long errors, bool changed,
		    const char *message)
{
	int64_t now = fsx_now_ns();
	bool failed = result == RUN_FAILED;

	r->ended_ns = now;
	r->duration_s = duration_s;
	r->result = result;
	r->exit_code = exit_code;
	r->errors = errors;
	r->row_errors = 0;
	r->runs[result]++;
	if (result == RUN_OK || result == RUN_SKIPPED)
		r->last_success_ns = now;
	if (changed)
		r->last_change_ns = now;
	if (failed && !r->failing++)
		r->failing_since_ns = now;
	else if (!failed && result != RUN_BUSY)
		r->failing = r->failing_since_ns = 0;
	if (result != RUN_GUARDED)
		r->guarded_since_ns = 0;
	else if (!r->guarded_since_ns)
		r->guarded_since_ns = now;
	r->message[0] = '\0';
	/* one line: the first of the message's */
	if (message)
		snprintf(r->message, sizeof(r->message), "%.*s",
			 (int)strcspn(message, "\n"), message);
}

/* Sets to (its first line; NULL: empty) into out, n bytes; whether that
 * changed it. */
static bool set_line(char *out, size_t n, const char *to)
{
	char was[ERR_MAX];

	snprintf(was, sizeof(was), "%s", out);
	snprintf(out, n, "%.*s", to ? (int)strcspn(to, "\n") : 0, to ? to : "");
	return strcmp(was, out) != 0;
}

/* Applies a to r; whether that changed it. */
static bool add_after(struct run_record_file *r, const struct run_after *a)
{
	bool changed =
		set_line(r->log_error, sizeof(r->log_error), a->log_error);

	if (!a->notify_ran)
		return changed;
	if (!a->notify_error) {
		changed |= r->notify_failing != 0;
		r->notify_failing = r->notify_failing_since_ns = 0;
		r->notify_error[0] = '\0';
		return changed;
	}
	if (!r->notify_failing++)
		r->notify_failing_since_ns = fsx_now_ns();
	set_line(r->notify_error, sizeof(r->notify_error), a->notify_error);
	return true;
}

bool run_record_after(const struct dbhome *h, const struct run_after *a,
		      struct err *e)
{
	struct run_record_file r;
	int fd;
	bool ok;

	/* no database, no run to add it to (and no directory to make) */
	if (!dbhome_exists(h))
		return true;
	if (!run_record_read(h, &r, e))
		return false;
	if (!add_after(&r, a))
		return true;
	/* under the lock: a run that started meanwhile rewrites it too */
	fd = dbhome_lock(h, 10, e);
	if (fd < 0)
		return false;
	ok = run_record_read(h, &r, e);
	if (ok && add_after(&r, a))
		ok = run_record_write(h, &r, e);
	dbhome_unlock(fd);
	return ok;
}

bool run_record_forget_database(const struct dbhome *h, struct err *e)
{
	struct run_record_file r;
	int fd;
	bool ok;

	if (!run_record_read(h, &r, e))
		return false;
	if (!r.db_known)
		return true;
	fd = dbhome_lock(h, 10, e);
	if (fd < 0)
		return false;
	ok = run_record_read(h, &r, e);
	if (ok && r.db_known) {
		r.db_known = false;
		ok = run_record_write(h, &r, e);
	}
	dbhome_unlock(fd);
	return ok;
}

bool run_record_write(const struct dbhome *h, const struct run_record_file *r,
		      struct err *e)
{
	char *path = xstrdup(h->run);
	struct buf b = BUF_INIT;
	bool ok;

	buf_printf(&b,
		   "# storysync run record (see storysync(1), FILES)\n"
		   "ended %" PRId64 "\nduration %.6f\nresult %s\nexit %d\n"
		   "last_success %" PRId64 "\nlast_change %" PRId64 "\n"
		   "failing %ld\nfailing_since %" PRId64 "\n"
		   "guarded_since %" PRId64 "\nerrors %ld\nrow_errors %ld\n",
		   r->ended_ns, r->duration_s, run_result_names[r->result],
		   r->exit_code, r->last_success_ns, r->last_change_ns,
		   r->failing, r->failing_since_ns, r->guarded_since_ns,
		   r->errors, r->row_errors);
	for (int k = 0; k < RUN_RESULTS; k++)
		buf_printf(&b, "runs_%s %ld\n", run_result_names[k],
			   r->runs[k]);
	if (r->message[0])
		buf_printf(&b, "message %s\n", r->message);
	if (r->log_error[0])
		buf_printf(&b, "log_error %s\n", r->log_error);
	if (r->notify_failing)
		buf_printf(&b,
			   "notify_failing %ld\nnotify_failing_since %" PRId64
			   "\nnotify_error %s\n",
			   r->notify_failing, r->notify_failing_since_ns,
			   r->notify_error);
	if (r->db_known)
		buf_printf(&b,
			   "database %" PRIu64 " %" PRIu64 " %" PRId64
			   " %" PRIu64 " %" PRIu64 "\n",
			   r->db.dev, r->db.ino, r->db.born_ns, r->db.root_dev,
			   r->db.root_ino);
	put_stamp(&b, "index_none", &r->index_none);
	put_stamp(&b, "local_none", &r->local_none);
	ok = fsx_replace(path, b.data, b.len,
			 &(struct fsx_replace_opts){.root = h->root}, e);
	buf_finish(&b);
	free(path);
	return ok;
}
