/* sync_record.c: the run's record: its messages, its sync_runs row, the run
 * record file (sync_impl.h). */
#include "sync_impl.h"

/* One line of the run's record: a newline in a file's name may not split
 * it, nor an escape sequence reach the terminal of whoever reads it. */
static void add_message(struct run *run, const char *msg)
{
	buf_put_escaped(&run->messages, msg, strlen(msg));
	buf_putc(&run->messages, '\n');
}

void problem(struct run *run, const char *msg)
{
	if (run->r && run->r->problem)
		run->r->problem(run->r->ctx, msg);
	add_message(run, msg);
	run->n->errors++;
}

void note(struct run *run, const char *msg)
{
	if (run->r && run->r->note)
		run->r->note(run->r->ctx, msg);
}

void run_note(void *ctx, const char *msg)
{
	note(ctx, msg);
}

void run_warning(void *ctx, const char *msg)
{
	struct run *run = ctx;

	if (run->r && run->r->warning)
		run->r->warning(run->r->ctx, msg);
}

void finish_record(struct run *run, int exit_code)
{
	run->rec.ended_ns = fsx_now_ns();
	run->rec.created = run->n->created;
	run->rec.updated = run->n->updated;
	run->rec.moved = run->n->moved;
	run->rec.deleted = run->n->deleted;
	run->rec.conflicts = run->n->conflicts;
	run->rec.errors = run->n->errors;
	run->rec.exit_code = exit_code;
	run->rec.messages = run->messages.len ? run->messages.data : NULL;
}

/* A run that failed still leaves its row, so "keeps failing" shows in
 * status; its id, or 0 when none could be written. */
int64_t record_failure(struct run *run, int exit_code)
{
	int64_t id = 0;

	/* a dry run (status asks for one) writes nothing, failed or not */
	if (!run->store || run->o->dry_run)
		return 0;
	add_message(run, run->e->msg);
	finish_record(run, exit_code);
	return store_run_add(run->store, &run->rec, &id, NULL) ? id : 0;
}

static enum run_result result_of(enum sync_status st)
{
	switch (st) {
	case SYNC_OK: return RUN_OK;
	case SYNC_SKIPPED: return RUN_SKIPPED;
	case SYNC_GUARDED: return RUN_GUARDED;
	case SYNC_BUSY: return RUN_BUSY;
	default: return RUN_FAILED;
	}
}

/* The run record beside the database: every run under the lock ends in
 * it, quiet or not, so that status knows when the last run was. */
void update_run_record(struct run *run, enum sync_status st)
{
	static const int exit_codes[] = {
		[SYNC_OK] = 0,    [SYNC_SKIPPED] = 1, [SYNC_USAGE] = 2,
		[SYNC_FATAL] = 3, [SYNC_GUARDED] = 4, [SYNC_LOCKED] = 75,
		[SYNC_BUSY] = 75,
	};
	const struct sync_counts *n = run->n;
	struct run_record_file rf;
	struct err e;
	const char *msg =
		st == SYNC_OK ? NULL
		: st == SYNC_SKIPPED
			? (run->messages.len ? run->messages.data : NULL)
			: run->e->msg;

	if (!run_record_read(&run->c->home, &rf, &e))
		memset(&rf, 0, sizeof(rf)); /* unreadable: start again */
	run_record_add(&rf, result_of(st), exit_codes[st],
		       (fsx_now_ns() - run->rec.started_ns) / 1e9, n->errors,
		       n->created || n->updated || n->moved || n->deleted ||
			       n->conflicts,
		       msg);
	rf.row_errors = n->row_errors;
	rf.index_none = run->index_none;
	rf.local_none = run->all->local_none;
	if (run->db_confirmed) {
		struct dbhome_file now;

		rf.db = run->db_file;
		rf.db_known = true;
		/* the file as it is now, while the run holds it open (so its
		 * inode is not free for another): the same inode is the same
		 * file, whose birth time opening it may have changed (an
		 * overlayfs copies a lower layer's file up: another birth
		 * time, the inode kept), and the next run compares with that */
		if (run->store &&
		    dbhome_file(&run->c->home, run->c->root, &now) &&
		    dbhome_same_root(&now, &run->db_file) &&
		    now.dev == run->db_file.dev && now.ino == run->db_file.ino)
			rf.db = now;
	}
	if (!run_record_write(&run->c->home, &rf, &e))
		problem(run, e.msg);
}
