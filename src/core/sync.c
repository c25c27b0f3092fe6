/*
 * One run: detect -> plan -> apply.
 *
 * Walking and parsing happen before the DB write lock is taken; the DB side
 * is read, the plan made and carried out inside one BEGIN IMMEDIATE
 * transaction, so the API is stalled only while applying.
 */
#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "buf.h"
#include "detect.h"
#include "fsx.h"
#include "githead.h"
#include "journal.h"
#include "mem.h"
#include "plan.h"
#include "reconcile.h"
#include "runrecord.h"
#include "seam.h"
#include "store.h"
#include "strmap.h"

/* Share of all stories one run may delete without --force. */
#define GUARD_DELETE_SHARE 50

/* One action and the sides it was planned from. */
struct planned {
	struct action a;
	const struct file_change *fc; /* NULL when the file side is as the
					 state has it */
	const struct db_side *d;      /* NULL when the row is */
};

struct run {
	const struct config *c;   /* the configuration, or sel */
	const struct config *all; /* the configuration, whole */
	/* --backlog: the configuration with the selected backlogs only, the
	 * state entries of their stories, and the ids of the others' */
	struct config sel; /* selecting: c is &sel */
	struct state_entry *shown;
	struct strmap hidden;
	const struct sync_options *o;
	const struct sync_report *r;
	struct sync_counts *n;
	struct err *e;
	struct store *store;
	int rootfd;
	struct state_table table;
	const struct state_entry *state; /* table.v, table.n */
	size_t nstate;
	size_t total_state; /* all state entries, loaded or not */
	bool partial_state; /* git mode: only the entries the diff names */
	struct strmap state_by_id;
	struct scan_result scan;
	struct git_result git;
	struct git_mirrors mirrors; /* asked when a mirror key disagrees */
	bool by_diff;               /* the file side came from a git diff */
	char *last_commit;
	struct db_result db;
	struct reconcile rc;  /* the configuration since the last run */
	struct planned *plan; /* in the order planned, not yet applied */
	size_t nplan, capplan;
	size_t napplied; /* actions carried out by this run */
	/* the first load: the ids seen, by a 32-bit hash (a hit is checked
	 * against the rows: 4 bytes a story, not the ids); the ids no file
	 * may take (claimed twice, or of a file in error), and the first
	 * claimant of each claimed twice */
	struct id_set {
		uint32_t *v;
		size_t n, cap;
	} seen;
	struct strmap blocked;
	struct arena blocked_ids;
	char **first_claims;
	size_t nfirst_claims;
	size_t nimported;
	struct apply_ctx apply;
	bool deferred; /* a DB change left for a later run */
	int64_t run_id;
	struct run_record rec;
	struct buf messages;
	int journal_fd;         /* the write journal, or -1 */
	char *journal_path;     /* its file */
	struct journal journal; /* what earlier runs, killed, wrote in it */
	/* the stories this run committed, and those it left for later: the
	 * journal keeps the lines of the second, forgets those of the first */
	struct strmap committed, waiting;
	struct arena journal_ids;
	bool bulk; /* the first load: store_bulk is on */
	struct refusal {
		size_t row;        /* in db.rows */
		const char *field; /* "id" or "epic" */
	} * refused;               /* DB changes refused at plan time */
	size_t nrefused;
};

/* The run an allocation failure ends (see out_of_memory). */
static struct run *oom_run;

/* One line of the run's record: a newline in a file's name may not split
 * it, nor an escape sequence reach the terminal of whoever reads it. */
static void add_message(struct run *run, const char *msg)
{
	buf_put_escaped(&run->messages, msg, strlen(msg));
	buf_putc(&run->messages, '\n');
}

static void problem(struct run *run, const char *msg)
{
	if (run->r && run->r->problem)
		run->r->problem(run->r->ctx, msg);
	add_message(run, msg);
	run->n->errors++;
}

static void note(struct run *run, const char *msg)
{
	if (run->r && run->r->note)
		run->r->note(run->r->ctx, msg);
}

static const char *mode_name(const struct sync_options *o)
{
	if (o->dry_run)
		return "dry-run";
	switch (o->mode) {
	case SYNC_FULL: return "full";
	case SYNC_GIT: return "git";
	default: return "scan";
	}
}

static const struct state_entry *state_of(const struct run *run, const char *id)
{
	size_t i;

	return strmap_get(&run->state_by_id, id, &i) ? &run->state[i] : NULL;
}

/* The state by id, built only once there is something to plan: a no-op
 * run does not pay for it. */
static void index_state(struct run *run)
{
	strmap_init(&run->state_by_id, run->nstate);
	for (size_t i = 0; i < run->nstate; i++)
		strmap_put(&run->state_by_id, run->state[i].id, i);
}

/* run->state: the table's entries; with --backlog, only those of the
 * selected backlogs (the others' are left alone: neither deleted for a
 * file not scanned nor planned), their ids in run->hidden. */
static void state_view(struct run *run)
{
	run->state = run->table.v;
	run->nstate = run->table.n;
	if (run->c == run->all)
		return;
	free(run->shown);
	run->shown = xcalloc(run->table.n + 1, sizeof(*run->shown));
	strmap_finish(&run->hidden);
	strmap_init(&run->hidden, 16);
	run->nstate = 0;
	for (size_t i = 0; i < run->table.n; i++) {
		const struct state_entry *se = &run->table.v[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *epic = NULL;

		if (detect_location(run->c, se->path, &b, &st, &epic))
			run->shown[run->nstate++] = *se;
		else
			strmap_put(&run->hidden, se->id, 0);
		free(epic);
	}
	run->state = run->shown;
}

/* --backlog: a change that touches a backlog not selected waits for a run
 * of every backlog, or of both: a story moved across backlogs is applied
 * only when both are selected, and a file gone from a selected backlog may
 * have moved to another, so its deletion waits too. */
static bool outside_selection(struct run *run, const struct file_change *fc,
			      const struct db_side *d)
{
	const char *b;

	if (run->c == run->all)
		return false;
	if (strmap_get(&run->hidden, fc ? fc->id : d->id, NULL))
		return true; /* its file is in a backlog not selected */
	if (fc && fc->side == SIDE_DELETED)
		return true;
	if (d && d->side != SIDE_DELETED) {
		b = d->story.v[SF_BACKLOG];
		return !b || !config_backlog(run->c, b);
	}
	return false;
}

/* The configuration's backlogs that o->backlogs names, as run->sel. */
static bool select_backlogs(struct run *run, const struct config *c,
			    const struct sync_options *o)
{
	run->all = c;
	run->c = c;
	if (!o->nbacklogs)
		return true;
	run->sel = *c;
	run->sel.backlogs = xcalloc(o->nbacklogs, sizeof(*run->sel.backlogs));
	run->sel.nbacklogs = 0;
	for (size_t i = 0; i < o->nbacklogs; i++) {
		const struct config_backlog *b =
			config_backlog(c, o->backlogs[i]);

		if (!b)
			return err_set(run->e,
				       "--backlog: no backlog '%s' in %s",
				       o->backlogs[i], c->file);
		if (!config_backlog(&run->sel, b->name))
			run->sel.backlogs[run->sel.nbacklogs++] = *b;
	}
	/* every backlog named: a whole run */
	run->c = run->sel.nbacklogs < c->nbacklogs ? &run->sel : c;
	strmap_init(&run->hidden, 1);
	return true;
}

/* The stories each backlog and each of its stage directories lost: their
 * files are gone, and no file anywhere claims their id (a story moved to
 * another folder is no loss). vb[b], and vs[b * nstages + s] unless NULL. */
static void count_vanished(const struct run *run, size_t *vb, size_t *vs)
{
	const struct config *c = run->c;

	for (size_t i = 0; i < run->scan.nchanges; i++) {
		const struct file_change *fc = &run->scan.changes[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *epic = NULL;

		if (fc->side != SIDE_DELETED || !fc->old_path ||
		    !detect_location(c, fc->old_path, &b, &st, &epic))
			continue;
		free(epic);
		vb[b - c->backlogs]++;
		if (vs)
			vs[(size_t)(b - c->backlogs) * c->nstages +
			   (size_t)(st - c->stages)]++;
	}
}

/* Whether a directory that lost n stories is the guards' business: a
 * missing one always; an empty one (it is there, with no story left) when
 * it lost more than one: a person deleting the last story of a folder is
 * no half copy, and what they deleted is archived as ever. */
static bool vanished_with(bool missing, size_t n)
{
	return missing ? n > 0 : n > 1;
}

/* The guard's message for a directory (what: named, with its backlog),
 * empty or missing, that lost n stories. */
static bool guarded(struct run *run, const char *what, bool missing, size_t n)
{
	return err_set(run->e,
		       "%s is %s but the database has %zu of its stories; "
		       "nothing written (--force to sync anyway)",
		       what, missing ? "missing" : "empty", n);
}

/* Guard: a backlog directory missing or empty while stories the state
 * knows there vanished with it (an unmounted disk, a half checkout);
 * stories that moved out of it do not count. */
static bool guard_backlogs(struct run *run)
{
	const struct config *c = run->c;
	size_t *vb;
	bool ok = true;

	if (run->scan.partial)
		return true;
	vb = xcalloc(c->nbacklogs, sizeof(*vb));
	count_vanished(run, vb, NULL);
	for (size_t b = 0; ok && b < c->nbacklogs; b++) {
		const struct config_backlog *bl = &c->backlogs[b];
		char *what;

		if (!vanished_with(run->scan.backlog_missing[b], vb[b]) ||
		    run->scan.files_per_backlog[b])
			continue;
		what = xasprintf("backlog '%s' (%s)", bl->name, bl->path);
		ok = guarded(run, what, run->scan.backlog_missing[b], vb[b]);
		free(what);
	}
	free(vb);
	return ok;
}

/* Guard: a stage directory missing or empty while stories the state knows
 * there vanished with it (a sparse checkout, a half copy). Checked after
 * the deletion share: a mass deletion says so first. */
static bool guard_stages(struct run *run)
{
	const struct config *c = run->c;
	size_t *vb, *vs;
	bool ok = true;

	/* a --git run follows what git itself just did to the work tree (a
	 * checkout of a commit without the folder is no half checkout), be
	 * it by the tree diff or by a scan when HEAD is no descendant */
	if (run->scan.partial || run->o->mode == SYNC_GIT)
		return true;
	vb = xcalloc(c->nbacklogs, sizeof(*vb));
	vs = xcalloc(c->nbacklogs * c->nstages, sizeof(*vs));
	count_vanished(run, vb, vs);
	for (size_t i = 0; ok && i < c->nbacklogs * c->nstages; i++) {
		const struct config_backlog *bl = &c->backlogs[i / c->nstages];
		char *dir, *what;

		if (!vanished_with(run->scan.stage_missing[i], vs[i]) ||
		    run->scan.files_per_stage[i])
			continue;
		dir = config_stage_path(bl, &c->stages[i % c->nstages]);
		what = xasprintf("stage directory '%s' of backlog '%s'", dir,
				 bl->name);
		ok = guarded(run, what, run->scan.stage_missing[i], vs[i]);
		free(what);
		free(dir);
	}
	free(vs);
	free(vb);
	return ok;
}

/* Guard: more than GUARD_DELETE_SHARE% of all stories deleted at once. */
static bool guard_deletes(struct run *run)
{
	size_t deletes = 0;

	for (size_t i = 0; i < run->nplan; i++)
		if (run->plan[i].a.db == PLAN_DB_DELETE ||
		    run->plan[i].a.file == PLAN_FILE_DELETE)
			deletes++;
	/* git mode read only some of the state: count it all, when needed */
	if (deletes && run->partial_state &&
	    !store_state_count(run->store, &run->total_state, run->e))
		return false;
	if (deletes && deletes * 100 > run->total_state * GUARD_DELETE_SHARE)
		return err_set(run->e,
			       "this run would delete %zu of %zu stories "
			       "(more than %d%%); nothing written (--force to "
			       "sync anyway)",
			       deletes, run->total_state, GUARD_DELETE_SHARE);
	return true;
}

static void add_action(struct run *run, struct action *a,
		       const struct file_change *fc, const struct db_side *d)
{
	run->plan = xgrow(run->plan, &run->capplan, run->nplan + 1,
			  sizeof(*run->plan));
	run->plan[run->nplan++] = (struct planned){*a, fc, d};
}

/* The journal's line when the file fc found holds what an earlier run
 * wrote or moved from the database before it died, uncommitted: the
 * journal names its id with its very content. */
static const struct journal_line *our_write(const struct run *run,
					    const struct file_change *fc)
{
	return journal_find(&run->journal, fc->hash, fc->id);
}

/* Remembers id in one of the journal's sets (a no-op in the first load,
 * which writes no file). */
static void journal_note(struct run *run, struct strmap *set, const char *id)
{
	if (run->bulk || run->journal_fd < 0 || strmap_get(set, id, NULL))
		return;
	strmap_put(set, arena_strdup(&run->journal_ids, id), 0);
}

/* The file's mirror keys that git carried to its path, not edits (see
 * detect_git_carried): asked only of a key plan would take as an edit of
 * a file at the path its state has, so a run with nothing to do never
 * asks. When git cannot say, the key is an edit, as without git. */
static void carried_keys(struct run *run, const struct file_change *fc,
			 const struct state_entry *se, struct plan_input *in,
			 bool carried[SM_COUNT])
{
	if (!in->file_story || !se || strcmp(fc->path, se->path) != 0)
		return;
	for (int k = 0; k < SM_COUNT; k++) {
		struct err e;

		if (!plan_mirror_edited(in, k))
			continue;
		if (!detect_git_carried(&run->mirrors, run->c, fc, k,
					&carried[k], &e)) {
			char *msg = xasprintf("%s: %s (its key taken as an "
					      "edit)",
					      fc->path, e.msg);

			note(run, msg);
			free(msg);
		}
		if (carried[k])
			in->mirror_carried = carried;
	}
}

/* The agreed version of story se->id from its file, when the database has
 * none: the file still holds the content agreed (its hash), so it is that
 * version, with its mirror keys. *found false when it does not. */
static bool base_from_file(struct run *run, const struct state_entry *se,
			   struct story *base, char *mirror[SM_COUNT],
			   bool *found)
{
	struct scan_result r;
	struct file_change *fc;

	*found = false;
	if (!se->hash[0] || !detect_paths(run->c, run->rootfd, NULL, 0,
					  &se->path, 1, &r, run->e))
		return !se->hash[0];
	fc = r.nchanges == 1 ? &r.changes[0] : NULL;
	if (fc && fc->path && strcmp(fc->id, se->id) == 0 &&
	    strcmp(fc->hash, se->hash) == 0) {
		story_finish(base);
		*base = fc->story;
		memset(&fc->story, 0, sizeof(fc->story));
		for (int m = 0; m < SM_COUNT; m++) {
			free(mirror[m]);
			mirror[m] = fc->mirror[m];
			fc->mirror[m] = NULL;
		}
		*found = true;
	}
	scan_result_finish(&r);
	return true;
}

/* Whether the file fc is a discard of storysync's own writes: the
 * version git's index held before them (se->before) is back, at the
 * story's path or where the index holds it, which is no one's edit of the
 * fields storysync wrote. */
static bool discarded(struct run *run, const struct file_change *fc,
		      const struct state_entry *se)
{
	char staged[BLOBID_HEX], *msg;
	struct err e;

	if (!se || !se->ours || !se->before[0] || fc->side != SIDE_CHANGED ||
	    strcmp(fc->hash, se->before) != 0)
		return false;
	/* git puts its version back where it holds it: elsewhere, the file
	 * is one a person moved (storysync's move of it, a content git
	 * held already, moved on) */
	if (strcmp(fc->path, se->path) != 0 &&
	    (!detect_git_staged(&run->mirrors, run->c, fc->path, staged, &e) ||
	     strcmp(staged, se->before) != 0))
		return false;
	msg = xasprintf("%s: git's version put back over storysync's "
			"uncommitted write (a discard, not an edit): written "
			"again",
			fc->path);
	note(run, msg);
	free(msg);
	return true;
}

/* Whether the file fc may have been edited on top of git's version from
 * before storysync's writes (a discard, then an edit, with no run
 * between): a field storysync wrote no longer holds what it wrote, and
 * git's index does not hold that write (else any discard puts it back).
 * A field the person changed holds git's version's value again, or a
 * value of their own that no tool can tell typed over storysync's write
 * from typed over git's. Then, for the fields storysync wrote, the
 * merge's base is git's version, and the agreed version is the
 * database's side: a field as git had it is no edit, and one changed is
 * a change made beside the database's (a conflict, the policy's side
 * winning), never a silent overwrite. *out (empty before) gets base so
 * rebased. */
static bool rebased(struct run *run, const struct file_change *fc,
		    const struct state_entry *se, const struct story *base,
		    struct story *out)
{
	struct story old = {0};
	bool found = false, from_old = false;
	char staged[BLOBID_HEX];
	struct err e;
	char *msg;

	if (!se || !se->ours || !se->before[0] || fc->side != SIDE_CHANGED ||
	    strcmp(fc->hash, se->hash) == 0)
		return false;
	if (!detect_git_version(&run->mirrors, run->c, se->before, fc->path,
				&old, &found, &e)) {
		msg = xasprintf("%s: %s (taken as an edit)", fc->path, e.msg);
		note(run, msg);
		free(msg);
		return false;
	}
	for (int f = SF_TITLE; found && f < SF_COUNT; f++)
		from_old |= (se->ours >> f & 1) &&
			    !story_field_equal(&fc->story, base, f) &&
			    !story_field_equal(&old, base, f);
	/* once git holds the write, the file came from it */
	if (from_old &&
	    detect_git_staged(&run->mirrors, run->c, fc->path, staged, &e))
		from_old = strcmp(staged, se->hash) != 0;
	if (from_old) {
		story_copy(out, base);
		for (int f = SF_TITLE; f < SF_COUNT; f++)
			if (se->ours >> f & 1)
				story_set(out, f, old.v[f]);
		msg = xasprintf("%s: a field storysync wrote and git does not "
				"hold is edited (maybe on git's version put "
				"back over the write): merged with that "
				"version",
				fc->path);
		note(run, msg);
		free(msg);
	}
	story_finish(&old);
	return from_old;
}

/* A rebased merge (see rebased) gave the database the fields of the file
 * that hold git's version's value. A person may have typed that value
 * back on purpose, which no tool can tell from a discard: their value is
 * kept as a conflict the database won, so that neither side's is lost
 * unseen. */
static void doubt_rebased(const struct plan_input *in, struct action *a)
{
	struct buf fields = BUF_INIT;

	if (a->conflict || a->state != PLAN_STATE_PUT)
		return;
	for (int f = SF_TITLE; f < SF_COUNT; f++)
		if (story_field_equal(in->file_story, in->base, f) &&
		    !story_field_equal(in->file_story, &a->want, f))
			buf_printf(&fields, "%s%s", fields.len ? "," : "",
				   story_field_names[f]);
	if (!fields.len)
		return;
	a->conflict = "both_changed";
	a->kept = "db";
	a->conflict_fields = buf_detach(&fields);
	story_copy(&a->lost, in->file_story);
}

/* a->before (see there): for a write, or a move, the version git's index
 * holds now (which a discard puts back): the one before storysync's earlier
 * writes while they stay uncommitted, a newer one once a commit took them;
 * for a file the index does not hold at its path, the earlier one, else
 * the index's at the path the story had. Without either, as it was. It
 * matters only while some field is storysync's (state_entry.ours). */
static void set_before(struct run *run, const struct file_change *fc,
		       const struct state_entry *se, struct action *a)
{
	const char *path = fc && fc->path ? fc->path : se ? se->path : NULL;
	bool ours = false, earlier = se && se->before[0];
	bool moved = fc && fc->path && se && strcmp(fc->path, se->path) != 0;
	char staged[BLOBID_HEX];
	struct err e;

	for (int f = 0; f < SF_COUNT; f++)
		ours |= a->ours_after[f];
	if (a->state != PLAN_STATE_PUT || !path)
		return;
	if (!(ours && a->file == PLAN_FILE_WRITE) && !moved) {
		if (earlier)
			memcpy(a->before, se->before, BLOBID_HEX);
		return;
	}
	if (!detect_git_staged(&run->mirrors, run->c, path, staged, &e)) {
		char *msg = xasprintf("%s: %s (a discard of this write will "
				      "be taken for an edit)",
				      path, e.msg);

		if (ours)
			note(run, msg);
		free(msg);
		return;
	}
	/* a file git does not track at its path (moved by hand, or by
	 * storysync): a discard puts back what the index holds at the path
	 * it came from, which a run that takes a move by hand learns */
	if (!staged[0] && earlier) {
		memcpy(a->before, se->before, BLOBID_HEX);
		return;
	}
	if (!staged[0] && se && strcmp(se->path, path) != 0 &&
	    !detect_git_staged(&run->mirrors, run->c, se->path, staged, &e))
		staged[0] = '\0';
	memcpy(a->before,
	       earlier && strcmp(staged, se->before) == 0 ? se->before : staged,
	       BLOBID_HEX);
}

/* Plans one story from what each side found. */
static bool plan_one(struct run *run, const char *id, struct file_change *fc,
		     const struct db_side *d)
{
	const struct state_entry *se = state_of(run, id);
	struct story base = {0}, row = {0}, rebase = {0};
	struct plan_input in = {
		.id = id,
		.status_is_data = run->c->dialect.status_from_key,
	};
	struct action a;
	const struct journal_line *jl;
	char *base_mirror[SM_COUNT] = {0};
	bool db_wins[SF_COUNT], carried[SM_COUNT] = {0}, written[SF_COUNT],
				ours[SF_COUNT] = {0};
	bool has_base = false, mirror_known = false, found = false, ok = true,
	     rebase_db = false;
	int64_t rev;
	char *path = NULL;

	if (se && !store_state_base(run->store, id, &base, base_mirror,
				    &mirror_known, &has_base, run->e))
		return false;
	if (se && !has_base) {
		/* the row changed without the triggers (or before they saved
		 * its base): that change is the DB side, and the agreed
		 * version is the file, while it holds what was agreed */
		if (!d && !store_story_get(run->store, id, &row, &rev, &path,
					   &found, run->e))
			goto fail;
		if (!base_from_file(run, se, &base, base_mirror, &has_base))
			goto fail;
		mirror_known = has_base;
		if (!has_base && found && fc && fc->side == SIDE_DELETED) {
			/* the file is gone: the row goes as it is, and its
			 * archive keeps it */
			story_copy(&base, &row);
			has_base = true;
			found = false;
		}
	}
	/* a file read again (--full, or the way files are read changed)
	 * that holds the agreed content and reads as agreed: unchanged, but
	 * for its stat data */
	if (fc && fc->side == SIDE_CHANGED && se && has_base &&
	    strcmp(fc->hash, se->hash) == 0 &&
	    strcmp(fc->path, se->path) == 0 && story_equal(&fc->story, &base)) {
		fc->side = SIDE_SAME;
		free(fc->old_path);
		fc->old_path = xstrdup(fc->path);
		/* as the scan keeps an unchanged file's: nothing to record */
		if (fsx_stat_equal(&fc->st, &se->st) ||
		    fsx_racy(&fc->st, fc->recorded_ns)) {
			fc->st = se->st;
			fc->recorded_ns = se->recorded_ns;
		}
		story_finish(&fc->story);
		fc = NULL;
	}
	in.base = has_base ? &base : NULL;
	/* a key holding a name the configuration renamed holds the new one,
	 * in the file and in what it agreed on alike */
	reconcile_mirrors(&run->rc, base_mirror);
	in.base_mirror = mirror_known ? base_mirror : NULL;
	in.file = fc ? fc->side : se ? SIDE_SAME : SIDE_ABSENT;
	if (fc && (fc->side == SIDE_CHANGED || fc->side == SIDE_NEW)) {
		in.file_story = &fc->story;
		reconcile_mirrors(&run->rc, fc->mirror);
		in.mirror = fc->mirror;
	}
	/* the fields the file holds from storysync's writes; git putting
	 * an older version back over them is no one's edit of those */
	for (int f = 0; se && f < SF_COUNT; f++)
		ours[f] = se->ours >> f & 1;
	in.ours = ours;
	if (in.file_story && has_base && discarded(run, fc, se)) {
		memcpy(written, ours, sizeof(written));
		in.written = written;
	} else if (in.file_story && has_base &&
		   rebased(run, fc, se, &base, &rebase)) {
		in.base = &rebase;
		rebase_db = true;
	}
	/* written or moved by a run that died before its commit: what it
	 * took from the database is no edit, so a later API change wins */
	if (in.file_story && !(d && d->side == SIDE_DELETED) &&
	    (jl = our_write(run, fc))) {
		bool moved = strcmp(jl->path, fc->path) != 0;
		bool journal[SF_COUNT];

		journal_written(jl, journal);
		for (int f = 0; f < SF_COUNT; f++)
			written[f] = (in.written && written[f]) || journal[f];
		/* the mirror keys are as the run wrote them: no edit */
		in.base_mirror = fc->mirror;
		/* moved since by a person: the place is the person's */
		if (moved) {
			written[SF_BACKLOG] = written[SF_EPIC] = false;
			written[SF_STATUS] &= run->c->dialect.status_from_key;
		}
		in.written = written;
		/* a file rendered whole from a row no run agreed on: the row
		 * is created now, into that file */
		if (!se && d && !moved && strcmp(jl->fields, "*") == 0) {
			in.file = SIDE_ABSENT;
			in.file_story = NULL;
			in.mirror = NULL;
		}
	}
	in.db = d ? d->side : se ? SIDE_SAME : SIDE_ABSENT;
	if (d && d->side != SIDE_DELETED)
		in.db_story = &d->story;
	if (found) {
		in.db = SIDE_CHANGED;
		in.db_story = &row;
	}
	/* the agreed version holds storysync's writes: against the base
	 * rebased on git's version, it is the database's change */
	if (rebase_db && in.db == SIDE_SAME) {
		in.db = SIDE_CHANGED;
		in.db_story = &base;
	}
	if (!d && !se && in.file == SIDE_NEW &&
	    (run->total_state || run->partial_state)) {
		/* a row the state does not know, older than the mark */
		ok = store_story_get(run->store, id, &row, &rev, &path, &found,
				     run->e);
		if (!ok)
			goto out;
		if (found) {
			in.db = SIDE_NEW;
			in.db_story = &row;
		}
	}
	/* the policy of the story's backlog: the one both sides last agreed
	 * on, not where either side has moved it since; a new story's, where
	 * the file has it, else the row */
	config_db_wins(run->c,
		       has_base        ? base.v[SF_BACKLOG]
		       : in.file_story ? in.file_story->v[SF_BACKLOG]
		       : in.db_story   ? in.db_story->v[SF_BACKLOG]
				       : NULL,
		       db_wins);
	in.db_wins = db_wins;
	carried_keys(run, fc, se, &in, carried);
	if (plan_story(&in, &a)) {
		set_before(run, fc, se, &a);
		if (rebase_db)
			doubt_rebased(&in, &a);
		/* a default filled in goes to the row as well */
		if (d && d->filled && a.state == PLAN_STATE_PUT &&
		    a.db == PLAN_DB_NONE)
			a.db = PLAN_DB_PUT;
		add_action(run, &a, fc, d);
	}
	/* the action holds what apply needs of the story: one copy of each
	 * story in memory, not two */
	if (fc)
		story_finish(&fc->story);
out:
	for (int m = 0; m < SM_COUNT; m++)
		free(base_mirror[m]);
	free(path);
	story_finish(&row);
	story_finish(&base);
	story_finish(&rebase);
	return ok;
fail:
	ok = false;
	goto out;
}

static int fc_cmp(const void *a, const void *b)
{
	const struct file_change *x = a, *y = b;

	return strcmp(x->id, y->id);
}

/* Why a row the API wrote cannot be written back as the same story (the
 * next scan would not read its file, or not as this story), or NULL. */
static char *unwritable(const struct run *run, const struct db_side *d,
			const char **field)
{
	const char *epic = d->story.v[SF_EPIC];
	const struct config_stage *st, *inner;

	*field = "id";
	if (!story_id_valid(d->id))
		return xasprintf("story %s: id '%s' is not valid (1-64 of A-Z "
				 "a-z 0-9 . _ -, not starting with '.' or "
				 "'-'); refused: nothing moved or deleted",
				 d->id, d->id);
	for (int f = 0; f < SF_COUNT; f++) {
		*field = story_field_names[f];
		if (d->story.nul & (1u << f))
			return xasprintf("story %s: %s holds U+0000 (char(0)), "
					 "which no story file can hold; "
					 "refused: nothing moved or deleted",
					 d->id, *field);
	}
	*field = "epic";
	if (epic && !fsx_name_writable(epic, true))
		return xasprintf("story %s: epic '%s' is not a directory name "
				 "the scan reads back (no '/', '.', '..', "
				 "hidden, *.md, leading '-', control, bidi or "
				 "separator characters); refused: nothing "
				 "moved or deleted",
				 d->id, epic);
	st = run->c->dialect.status_from_key
		     ? NULL
		     : config_stage_for(run->all, d->story.v[SF_STATUS]);
	if (epic && st && (inner = config_epic_stage(run->all, st, epic)))
		return xasprintf("story %s: epic '%s' is where stage '%s' "
				 "lies inside stage '%s'; refused: nothing "
				 "moved or deleted",
				 d->id, epic, inner->status, st->status);
	/* the whole configuration: a --backlog run refuses no row for
	 * being in a backlog it did not select */
	return plan_row_refusal(run->all, &d->story, field);
}

/* Refuses every DB change that cannot be written back as the same story,
 * before anything is planned: its row and its file stay as they are, and
 * so does the story it was renamed from (an id the API changed to an
 * unsafe one must not delete the old file). Each is recorded as a conflict
 * the file won (see record_refusals). */
static void refuse_unwritable(struct run *run, struct strmap *blocked,
			      const struct strmap *file_ids)
{
	for (size_t i = 0; i < run->db.n; i++) {
		struct db_side *d = &run->db.rows[i];
		const char *field;
		char *why = NULL;

		bool no_status = !d->story.v[SF_STATUS];
		bool no_backlog = !d->story.v[SF_BACKLOG];

		if (d->side != SIDE_DELETED) {
			d->filled = plan_row_defaults(run->all, &d->story);
			why = unwritable(run, d, &field);
		}
		/* a story the API creates, no file claiming its id: it is
		 * written as the tree's tool writes a new one */
		if (!why && d->side == SIDE_NEW && !state_of(run, d->id) &&
		    !strmap_get(file_ids, d->id, NULL))
			d->filled |= plan_new_row_defaults(run->all, &d->story,
							   run->rec.started_ns);
		if (!why)
			continue;
		/* the conflict keeps the row as the API wrote it */
		if (no_status)
			story_set(&d->story, SF_STATUS, NULL);
		if (no_backlog)
			story_set(&d->story, SF_BACKLOG, NULL);
		problem(run, why);
		run->n->row_errors++;
		free(why);
		run->refused = xreallocarray(run->refused, run->nrefused + 1,
					     sizeof(*run->refused));
		run->refused[run->nrefused++] =
			(struct refusal){.row = i, .field = field};
		strmap_put(blocked, d->id, 0);
		for (size_t j = 0; d->path && j < run->nstate; j++)
			if (strcmp(run->state[j].path, d->path) == 0)
				strmap_put(blocked, run->state[j].id, 0);
	}
}

/* A refused row is a conflict the file won, the row kept in full as the
 * lost version; recorded once while the row stays as it is, not once a
 * run: it is refused again by every run until someone mends it. */
static bool record_refusals(struct run *run)
{
	for (size_t i = 0; i < run->nrefused; i++) {
		const struct db_side *d = &run->db.rows[run->refused[i].row];
		struct conflict_row c = {
			.story_id = d->id,
			.kind = "refused",
			.kept = "file",
			.fields = run->refused[i].field,
			.lost = &d->story,
			.run_id = run->run_id,
			.once = true,
		};

		if (!store_conflict_add(run->store, &c, run->e))
			return false;
	}
	return true;
}

/* Retention, in the run's transaction, before its apply (a quiet run
 * prunes nothing: it adds nothing either). */
static bool prune(struct run *run)
{
	struct prune_counts p;
	char *msg;

	if (!store_prune(run->store, &run->c->retention, &p, run->e))
		return false;
	/* an odd value of the API's: named on every run until mended */
	for (char *line = p.refused, *nl; line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		problem(run, line);
	}
	free(p.refused);
	if (!p.runs && !p.events && !p.conflicts && !p.deleted)
		return true;
	msg = xasprintf("pruned %ld run%s, %ld event%s, %ld resolved "
			"conflict%s, %ld deleted stor%s",
			p.runs, p.runs == 1 ? "" : "s", p.events,
			p.events == 1 ? "" : "s", p.conflicts,
			p.conflicts == 1 ? "" : "s", p.deleted,
			p.deleted == 1 ? "y" : "ies");
	note(run, msg);
	free(msg);
	return true;
}

/* Pairs the file side and the DB side of each story and plans it. */
static bool plan_all(struct run *run)
{
	struct strmap blocked, outside, file_ids, db_ids;
	bool ok = true;

	if (!run->scan.nchanges && !run->db.n)
		return true;
	index_state(run);
	strmap_init(&blocked, run->scan.nerrors + run->scan.nheld);
	for (size_t i = 0; i < run->scan.nerrors; i++)
		if (run->scan.errors[i].id) {
			strmap_put(&blocked, run->scan.errors[i].id, 0);
			journal_note(run, &run->waiting,
				     run->scan.errors[i].id);
		}
	for (size_t i = 0; i < run->scan.nheld; i++) {
		strmap_put(&blocked, run->scan.held[i], 0);
		journal_note(run, &run->waiting, run->scan.held[i]);
	}
	if (run->scan.nchanges) /* changes is NULL when there are none */
		qsort(run->scan.changes, run->scan.nchanges,
		      sizeof(*run->scan.changes), fc_cmp);
	strmap_init(&file_ids, run->scan.nchanges);
	for (size_t i = 0; i < run->scan.nchanges; i++)
		strmap_put(&file_ids, run->scan.changes[i].id, i);
	refuse_unwritable(run, &blocked, &file_ids);
	/* --backlog: what it leaves for a later run, on both sides */
	strmap_init(&outside, 1);
	for (size_t i = 0; i < run->scan.nchanges; i++)
		if (outside_selection(run, &run->scan.changes[i], NULL))
			strmap_put(&outside, run->scan.changes[i].id, 0);
	for (size_t i = 0; i < run->db.n; i++)
		if (outside_selection(run, NULL, &run->db.rows[i]))
			strmap_put(&outside, run->db.rows[i].id, 0);
	for (size_t i = 0; ok && i < run->db.n; i++) {
		const struct db_side *d = &run->db.rows[i];
		size_t fi;
		struct file_change *fc = NULL;

		if (strmap_get(&blocked, d->id, NULL) ||
		    strmap_get(&outside, d->id, NULL)) {
			run->deferred = true;
			journal_note(run, &run->waiting, d->id);
			continue;
		}
		if (strmap_get(&file_ids, d->id, &fi)) {
			fc = &run->scan.changes[fi];
			if (fc->side == SIDE_SAME)
				fc = NULL; /* only its stat changed */
		}
		ok = plan_one(run, d->id, fc, d);
	}
	strmap_init(&db_ids, run->db.n);
	for (size_t i = 0; i < run->db.n; i++)
		strmap_put(&db_ids, run->db.rows[i].id, i);
	for (size_t i = 0; ok && i < run->scan.nchanges; i++) {
		struct file_change *fc = &run->scan.changes[i];

		/* those with a DB side were planned above */
		if (fc->side == SIDE_SAME || strmap_get(&db_ids, fc->id, NULL))
			continue;
		if (strmap_get(&outside, fc->id, NULL) ||
		    strmap_get(&blocked, fc->id, NULL)) {
			run->deferred = true;
			journal_note(run, &run->waiting, fc->id);
		} else {
			ok = plan_one(run, fc->id, fc, NULL);
		}
	}
	strmap_finish(&db_ids);
	strmap_finish(&file_ids);
	strmap_finish(&blocked);
	strmap_finish(&outside);
	return ok;
}

static void count(struct run *run, const struct action *a)
{
	if (a->conflict)
		run->n->conflicts++;
	if (!a->event)
		return;
	if (strcmp(a->event, "created") == 0)
		run->n->created++;
	else if (strcmp(a->event, "updated") == 0)
		run->n->updated++;
	else if (strcmp(a->event, "moved") == 0)
		run->n->moved++;
	else if (strcmp(a->event, "deleted") == 0)
		run->n->deleted++;
}

/* Tells what a dry run would do. */
static void report_planned(struct run *run, const struct action *a,
			   const struct file_change *fc)
{
	const struct state_entry *se = state_of(run, a->id);

	apply_report(run->all, run->r, a,
		     a->origin && strcmp(a->origin, "db") == 0 ? "file" : "db",
		     fc && fc->path ? fc->path
		     : se           ? se->path
				    : NULL);
}

/* Records the stat data of files whose content only looked changed. */
static bool restat(struct run *run)
{
	for (size_t i = 0; i < run->scan.nchanges; i++) {
		const struct file_change *fc = &run->scan.changes[i];
		const struct state_entry *se;
		struct state_entry ne;

		/* one reconcile rewrote has its state recorded */
		if (fc->side != SIDE_SAME ||
		    reconcile_followed(&run->rc, fc->id))
			continue;
		se = state_of(run, fc->id);
		if (!se)
			continue;
		ne = *se;
		ne.st = fc->st;
		ne.recorded_ns = fc->recorded_ns;
		if (!store_state_restat(run->store, &ne, run->e))
			return false;
	}
	return true;
}

static void apply_begin(struct run *run)
{
	run->apply = (struct apply_ctx){
		.c = run->c,
		.rootfd = run->rootfd,
		.journal_fd = run->journal_fd,
		.store = run->store,
		.run_id = run->run_id,
		.origin_file = run->by_diff ? "git" : "file",
		.report = run->r,
		.counts = run->n,
	};
}

/* Carries out the actions planned so far, and forgets them. */
static bool apply_planned(struct run *run)
{
	struct apply_ctx *ctx = &run->apply;
	bool ok = true;

	for (size_t i = 0; ok && i < run->nplan; i++) {
		struct action *a = &run->plan[i].a;
		const struct file_change *fc = run->plan[i].fc;
		const struct git_author *who =
			run->by_diff && a->status_changed
				? detect_git_credit(&run->mirrors, run->c,
						    &run->git, fc,
						    a->want.v[SF_STATUS])
				: NULL;
		struct err e;

		ctx->commit_id = who ? who->commit : NULL;
		ctx->author = who ? who->author : NULL;
		ctx->commit_time = who ? who->time : 0;
		switch (apply_action(ctx, a, fc, run->plan[i].d,
				     state_of(run, a->id), &e)) {
		case APPLY_DONE:
			count(run, a);
			journal_note(run, &run->committed, a->id);
			break;
		case APPLY_SKIPPED:
			/* its data stays untouched on both sides, and its
			 * DB change is seen again by the next run */
			run->deferred = true;
			journal_note(run, &run->waiting, a->id);
			problem(run, e.msg);
			break;
		case APPLY_FATAL: *run->e = e; ok = false;
		}
		if (run->r && run->r->progress)
			atomic_fetch_add_explicit(&run->r->progress->written, 1,
						  memory_order_relaxed);
		/* done with it: memory stays at one story per change */
		action_finish(a);
	}
	for (size_t i = 0; i < run->nplan; i++)
		action_finish(&run->plan[i].a);
	run->nplan = 0;
	return ok;
}

/* What follows the last action: the stat data to record, and the commit
 * of the files written. */
static bool apply_end(struct run *run)
{
	struct apply_ctx *ctx = &run->apply;

	if (!restat(run) || !apply_settle(ctx, run->e))
		return false;
	if (run->c->git_commit && ctx->ntouched) {
		struct err e;

		/* files and rows already agree: a failed commit is reported,
		 * not fatal */
		if (!apply_git_commit(ctx, run->git.head, &e))
			problem(run, e.msg);
	}
	run->deferred |= ctx->deferred;
	return true;
}

/* run->state and run->nstate follow the table, which may grow. */
static bool load_state(struct run *run)
{
	if (!store_state_load(run->store, &run->table, run->e))
		return false;
	/* where the configuration has the files now, before the scan
	 * compares them */
	reconcile_state(&run->rc, &run->table);
	state_view(run);
	run->total_state = run->nstate;
	return true;
}

/* The state a diff needs: the entries at its paths and of the ids their
 * files claim now; a commit of one story costs a few lookups, not a read
 * of every entry. */
static bool load_state_for(struct run *run, char *const *paths, size_t n)
{
	struct scan_result now;
	struct strmap seen, ids;
	bool ok;

	if (!detect_paths(run->c, run->rootfd, NULL, 0, paths, n, &now, run->e))
		return false;
	run->partial_state = true;
	ok = true;
	strmap_init(&seen, n);
	for (size_t i = 0; ok && i < n; i++) {
		if (strmap_get(&seen, paths[i], NULL))
			continue;
		strmap_put(&seen, paths[i], i);
		ok = store_state_find(run->store, paths[i], NULL, &run->table,
				      run->e);
	}
	strmap_init(&ids, run->table.n + now.nchanges);
	for (size_t i = 0; i < run->table.n; i++)
		strmap_put(&ids, run->table.v[i].id, i);
	for (size_t i = 0; ok && i < now.nchanges + now.nerrors; i++) {
		const char *id = i < now.nchanges
					 ? now.changes[i].id
					 : now.errors[i - now.nchanges].id;
		size_t had = run->table.n;

		if (!id || strmap_get(&ids, id, NULL))
			continue;
		ok = store_state_find(run->store, NULL, id, &run->table,
				      run->e);
		for (size_t j = had; j < run->table.n; j++)
			strmap_put(&ids, run->table.v[j].id, j);
	}
	strmap_finish(&ids);
	strmap_finish(&seen);
	scan_result_finish(&now);
	state_view(run);
	return ok;
}

/* An empty database and no state: a first load. */
static bool first_load(struct run *run)
{
	size_t n = 1;

	return !run->o->dry_run && store_is_empty(run->store) &&
	       store_state_count(run->store, &n, NULL) && n == 0;
}

/* The file side by git diff, falling back to a scan where the diff cannot
 * be trusted. */
static bool detect_by_git(struct run *run, enum sync_status *status)
{
	const struct git_result *g = &run->git;
	char *msg;

	if (!detect_git(run->c, run->last_commit, &run->git, run->e)) {
		if (g->unusable)
			*status = SYNC_USAGE;
		return false;
	}
	if (!g->fallback && run->rc.relocates)
		run->git.fallback = "the configuration changed since the last "
				    "run";
	if (!g->fallback) {
		/* the diff's paths, and those a killed run wrote or moved:
		 * no commit names them, and they are its own */
		size_t n = g->npaths + run->journal.n;
		char **paths = xcalloc(n + 1, sizeof(char *));
		bool ok;

		if (g->npaths) /* paths is NULL when there are none */
			memcpy(paths, g->paths, g->npaths * sizeof(char *));
		for (size_t i = 0; i < run->journal.n; i++)
			paths[g->npaths + i] = (char *)run->journal.v[i].path;
		run->by_diff = true;
		ok = load_state_for(run, paths, n) &&
		     detect_paths(run->c, run->rootfd, run->state, run->nstate,
				  paths, n, &run->scan, run->e);
		free(paths);
		return ok;
	}
	msg = xasprintf("falling back to a scan: %s", g->fallback);
	note(run, msg);
	free(msg);
	if (first_load(run))
		return run->bulk = true;
	return load_state(run) &&
	       detect_scan(run->c, run->rootfd, run->state, run->nstate, false,
			   &run->scan, run->e);
}

static void note_stray(void *ctx, const char *msg)
{
	note(ctx, msg);
}

/* What the scan found beside the changes (changed of them): errors, the
 * leftovers of a killed run (removed), files that are not stories. */
static void report_scan(struct run *run, size_t changed)
{
	for (size_t i = 0; i < run->scan.nerrors; i++)
		problem(run, run->scan.errors[i].msg);
	/* under the run lock, no other run's write is under way: these are
	 * the leftovers of a killed one */
	for (size_t i = 0; !run->o->dry_run && i < run->scan.ntemps; i++) {
		struct err e;

		if (!fsx_remove_temp(run->rootfd, run->scan.temps[i], &e))
			problem(run, e.msg);
	}
	for (size_t i = 0; i < run->scan.nleftovers; i++) {
		const struct scan_leftover *l = &run->scan.leftovers[i];
		struct err e;
		bool stale = false;
		char *msg = xasprintf("%s: git's version put back beside "
				      "storysync's uncommitted move of it (a "
				      "discard, not a copy): %s",
				      l->path,
				      run->o->dry_run ? "would be removed"
						      : "removed, as git "
							"holds it");

		note(run, msg);
		free(msg);
		if (!run->o->dry_run &&
		    !fsx_unlink_beneath(run->rootfd, l->path, &l->st, &stale,
					&e) &&
		    !stale)
			problem(run, e.msg);
	}
	for (size_t i = 0; i < run->scan.nskipped; i++)
		note(run, run->scan.skipped[i]);
	for (size_t i = 0; i < run->scan.nshadows; i++)
		note(run, run->scan.shadows[i]);
	if (run->r && run->r->note) {
		size_t n = scan_result_stories(&run->scan);
		char *msg;

		/* named only when asked: it walks more of the tree */
		if (!run->by_diff)
			detect_strays(run->c, run->rootfd, note_stray, run);
		msg = xasprintf("scanned %zu story file%s: %zu changed, "
				"%zu with errors (%.0f ms)",
				n, n == 1 ? "" : "s", changed,
				run->scan.nerrors,
				(fsx_now_ns() - run->rec.started_ns) / 1e6);
		note(run, msg);
		free(msg);
	}
}

/* Detect of the configuration's change: what the database recorded of it
 * against what it is now. */
static bool detect_config(struct run *run, enum sync_status *status)
{
	char *msg;

	if (!reconcile_detect(&run->rc, run->store, run->all, run->e))
		return false;
	msg = reconcile_describe(&run->rc);
	if (msg)
		note(run, msg);
	free(msg);
	/* a run of some backlogs would leave the others' rows behind */
	if ((run->rc.relocates || run->rc.reread) && run->c != run->all &&
	    !first_load(run)) {
		*status = SYNC_USAGE;
		return err_set(run->e,
			       "the configuration changed since the last run "
			       "(see -v); a run of every backlog follows it "
			       "first: nothing written");
	}
	return true;
}

static bool detect_files(struct run *run, enum sync_status *status)
{
	bool full, ok;

	if (!detect_config(run, status))
		return false;
	/* files read another way now: every one is read again, by a walk
	 * (a --git run's diff would leave the unchanged ones as they were) */
	full = run->o->mode == SYNC_FULL || run->rc.reread;
	if (!run->last_commit && !store_meta_get(run->store, "git.last_commit",
						 &run->last_commit, run->e))
		return false;
	if (run->o->mode == SYNC_GIT && !run->rc.reread) {
		ok = detect_by_git(run, status);
	} else if (first_load(run)) {
		return run->bulk = true; /* streamed: see import */
	} else {
		/* the walk goes on while the state loads */
		struct scan_walk *w = detect_walk_start(
			run->c, run->rootfd, run->r ? run->r->progress : NULL);

		ok = load_state(run);
		if (ok)
			ok = detect_walk_compare(w, run->state, run->nstate,
						 full, &run->scan, run->e);
		else
			detect_walk_cancel(w);
		/* remembered when files changed, so that the next --git diffs
		 * from here; a no-op run does not pay for opening the repo */
		if (ok && run->scan.nchanges)
			detect_git_head(run->c, &run->git);
	}
	if (!ok)
		return false;
	if (!run->bulk)
		report_scan(run, run->scan.nchanges);
	return true;
}

static void finish_record(struct run *run, int exit_code)
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
static int64_t record_failure(struct run *run, int exit_code)
{
	int64_t id = 0;

	/* a dry run (status asks for one) writes nothing, failed or not */
	if (!run->store || run->o->dry_run)
		return 0;
	add_message(run, run->e->msg);
	finish_record(run, exit_code);
	return store_run_add(run->store, &run->rec, &id, NULL) ? id : 0;
}

/* Memory ran out: the transaction rolls back, as it would for any other
 * fatal error, and the run is recorded as failed, with the reserve
 * mem.c released for this. Files written before the failure are in the
 * write journal, as after a kill. */
static _Noreturn void out_of_memory(void)
{
	struct run *run = oom_run;
	int64_t id = 0;

	oom_run = NULL;
	if (run && run->store) {
		store_rollback(run->store);
		if (run->bulk)
			store_bulk(run->store, false, NULL);
		err_set(run->e, "out of memory");
		id = record_failure(run, 3);
	}
	if (id)
		fprintf(stderr,
			"storysync: out of memory: nothing committed "
			"(recorded as run #%lld)\n",
			(long long)id);
	else
		fputs("storysync: out of memory: nothing committed\n", stderr);
	fflush(NULL);
	_exit(3); /* EXIT_FATAL */
}

/* Remembers HEAD as the last synced commit, when it moved and the run
 * covered every story path that changed up to it. A diff whose paths were
 * not all applied (a file in error, a change left for later) keeps the old
 * commit, so that the next --git run diffs them again; a scan covered the
 * whole tree, and whatever it could not read it reads again. */
static bool record_head(struct run *run)
{
	const char *head = run->git.head;

	if (!*head || (run->last_commit && !strcmp(run->last_commit, head)))
		return true;
	if (run->by_diff && (run->n->errors || run->deferred)) {
		note(run, "the last synced commit stays: not every changed "
			  "story was applied");
		return true;
	}
	return store_meta_set(run->store, "git.last_commit", head, run->e);
}

/* The hook's no-op, decided before anything is read or written: HEAD is
 * the last synced commit and no row changed since the last run. */
static bool git_up_to_date(struct run *run)
{
	bool moved = true;

	if (!store_meta_get(run->store, "git.last_commit", &run->last_commit,
			    NULL) ||
	    !run->last_commit)
		return false;
	/* HEAD from git's files, without starting libgit2, when they are
	 * plain; libgit2 otherwise */
	if (!githead_read(run->c->root, run->git.head))
		detect_git_head(run->c, &run->git);
	if (strcmp(run->git.head, run->last_commit) != 0 ||
	    !store_clock_moved(run->store, &moved, NULL) || moved)
		return false;
	note(run, "HEAD is the last synced commit and no row changed: "
		  "nothing to do");
	return true;
}

/* The run's transaction begun: its row, and the configuration. */
static bool open_run(struct run *run)
{
	if (run->o->dry_run)
		return store_begin_read(run->store, run->e);
	if (!store_begin(run->store, run->e))
		return false;
	finish_record(run, 0);
	return store_run_add(run->store, &run->rec, &run->run_id, run->e) &&
	       reconcile_record(&run->rc, run->store, run->e);
}

/* A journal line the committed run keeps: its story is not committed,
 * and either the run did not look at every file (a --backlog run, whose
 * story may have its file in another backlog; a --git run), or the story
 * waits for a later run. A whole scan forgets the rest: lines for files
 * it found otherwise (a person's edit since) are stale. */
static bool journal_keeps(void *ctx, const char *id)
{
	struct run *run = ctx;

	if (strmap_get(&run->committed, id, NULL))
		return false;
	return run->c != run->all || run->by_diff ||
	       strmap_get(&run->waiting, id, NULL);
}

/* After the commit: the journal forgets the lines of what it committed.
 * A failure leaves lines that only make the next run careful. */
static void forget_committed(struct run *run)
{
	char *text = NULL, *kept;
	struct err e;

	if (run->journal_fd < 0)
		return;
	if (!fsx_journal_read(run->journal_fd, &text, &e) || !*text) {
		free(text);
		return;
	}
	kept = journal_keep(text, journal_keeps, run);
	if (*kept)
		fsx_journal_replace(run->journal_path, kept, NULL);
	else
		fsx_journal_reset(run->journal_fd, NULL);
	free(kept);
	free(text);
}

/* Everything applied: the refusals, the mark, HEAD and the run's row, then
 * the commit. */
static bool close_run(struct run *run, int64_t applied_at, int64_t cpu_at)
{
	bool dirty = run->napplied || run->db.n;

	if (!record_refusals(run))
		return false;
	if (run->napplied && run->r && run->r->note) {
		char *msg =
			xasprintf("applied %zu action%s (%.0f ms, %.0f ms of "
				  "CPU in this thread)",
				  run->napplied, run->napplied == 1 ? "" : "s",
				  (fsx_now_ns() - applied_at) / 1e6,
				  (fsx_thread_cpu_ns() - cpu_at) / 1e6);

		note(run, msg);
		free(msg);
	}
	if (dirty && !run->deferred && !store_mark_set(run->store, run->e))
		return false;
	if (!record_head(run))
		return false;
	finish_record(run, run->n->errors ? 1 : 0);
	if (!store_run_update(run->store, run->run_id, &run->rec, run->e) ||
	    !store_commit(run->store, run->e))
		return false;
	/* what follows cannot undo the commit: a failure is a plain one */
	mem_on_oom(NULL);
	/* committed: the files it wrote are agreed versions now */
	forget_committed(run);
	return true;
}

static void reconcile_problem(void *ctx, const char *msg)
{
	problem(ctx, msg);
}

static bool in_transaction(struct run *run, enum sync_status *status)
{
	int64_t t, cpu;

	if (!open_run(run))
		goto fail;
	/* the configuration first: the rest sees the rows as it has them */
	apply_begin(run);
	if (!reconcile_apply(&run->rc, &run->apply, &run->table, &run->scan,
			     run->o->dry_run, reconcile_problem, run, run->e))
		goto fail;
	/* its files written, its rows not committed */
	test_seam_kill("reconciled");
	run->napplied = run->rc.napplied;
	if (!detect_db(run->store, &run->table, !run->partial_state,
		       run->o->mode == SYNC_FULL, &run->db, run->e))
		goto fail;
	state_view(run); /* the DB's changes may have added entries */
	run->n->file_changes = (long)(run->scan.nchanges + run->scan.nerrors);
	run->n->row_changes = (long)run->db.n;
	if (!plan_all(run))
		goto fail;
	if (!run->o->force && (!guard_deletes(run) || !guard_stages(run))) {
		*status = SYNC_GUARDED;
		goto fail;
	}
	if (run->o->dry_run) {
		for (size_t i = 0; i < run->nplan; i++) {
			count(run, &run->plan[i].a);
			report_planned(run, &run->plan[i].a, run->plan[i].fc);
		}
		store_rollback(run->store);
		return true;
	}
	/* before the apply: an archived deletion this run applies was
	 * pending when it began, and is kept at least until the next one */
	if (!prune(run))
		goto fail;
	t = fsx_now_ns();
	cpu = fsx_thread_cpu_ns();
	run->napplied += run->nplan;
	if (!apply_planned(run))
		goto fail;
	/* the files written and moved, nothing committed */
	test_seam_kill("after-writes");
	if (!apply_end(run) || !close_run(run, t, cpu))
		goto fail;
	return true;
fail:
	store_rollback(run->store);
	return false;
}

/* ---- the first load, streamed ---- */

static uint32_t id_hash(const char *s)
{
	/* the high half: every byte of the id reaches it */
	uint32_t v = (uint32_t)(strmap_hash(s) >> 32);

	return v ? v : 1; /* 0 marks a free slot */
}

/* Adds h to the set of ids seen; false when it was there already. Linear
 * probing, at most four fifths full. */
static bool seen_add(struct run *run, uint32_t h)
{
	struct id_set *set = &run->seen;
	size_t i;

	if ((set->n + 1) * 5 > set->cap * 4) {
		struct id_set old = *set;

		set->cap = old.cap ? old.cap * 2 : 1024;
		set->v = xcalloc_written(set->cap, sizeof(*set->v));
		set->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.v[j])
				seen_add(run, old.v[j]);
		free(old.v);
	}
	for (i = h & (set->cap - 1); set->v[i]; i = (i + 1) & (set->cap - 1))
		if (set->v[i] == h)
			return false;
	set->v[i] = h;
	set->n++;
	return true;
}

/* No file takes id any more; a later claim names first (NULL: is dropped
 * silently, as for an id whose file is in error). */
static void block(struct run *run, const char *id, const char *first)
{
	size_t at = 0;

	if (first) {
		run->first_claims =
			xreallocarray(run->first_claims, run->nfirst_claims + 1,
				      sizeof(char *));
		run->first_claims[run->nfirst_claims++] = xstrdup(first);
		at = run->nfirst_claims;
	}
	strmap_put(&run->blocked, arena_strdup(&run->blocked_ids, id), at);
}

/* Takes back the story id that this load imported from another file. */
static bool unimport(struct run *run, const char *id)
{
	if (!store_story_forget(run->store, id, run->e))
		return false;
	run->n->created--;
	run->n->rows_written--;
	run->napplied--;
	return true;
}

/* fc claims an id already seen: when a row has it, both files are in
 * error and neither takes it (as detect_scan rules), the row is taken back
 * and the id blocked; *twice tells. Two ids may share a hash: no row, no
 * second claim. */
static bool claimed_twice(struct run *run, struct scan_result *b,
			  const struct file_change *fc, bool *twice)
{
	char *other = NULL, *msg;
	bool ok;

	if (!store_story_path(run->store, fc->id, &other, twice, run->e))
		return false;
	if (!*twice)
		return true;
	/* an archived copy of an id a live file holds is no claim */
	if (other && detect_archived(run->c, fc->path) &&
	    !detect_archived(run->c, other)) {
		scan_result_add_shadow(b, fc->path, fc->id, other);
		free(other);
		return true;
	}
	if (other && !detect_archived(run->c, fc->path) &&
	    detect_archived(run->c, other)) {
		scan_result_add_shadow(b, other, fc->id, fc->path);
		*twice = false;
		ok = unimport(run, fc->id);
		free(other);
		return ok;
	}
	msg = xasprintf("%s: id '%s' is also claimed by %s", fc->path, fc->id,
			other);
	scan_result_add_error(b, fc->path, fc->id, msg);
	free(msg);
	msg = xasprintf("%s: id '%s' is also claimed by %s", other, fc->id,
			fc->path);
	scan_result_add_error(b, other, fc->id, msg);
	free(msg);
	block(run, fc->id, other);
	ok = unimport(run, fc->id);
	free(other);
	return ok;
}

/* A file whose id is blocked: a later claim of an id claimed twice is in
 * error too, naming the first; one whose file is in error is left. */
static void claim_blocked(struct run *run, struct scan_result *b,
			  const struct file_change *fc, size_t first)
{
	char *msg;

	if (!first)
		return;
	msg = xasprintf("%s: id '%s' is also claimed by %s", fc->path, fc->id,
			run->first_claims[first - 1]);
	scan_result_add_error(b, fc->path, fc->id, msg);
	free(msg);
}

/* A file in error blocks its id: a story this load imported under it is
 * taken back. */
static bool block_errors(struct run *run, struct scan_result *b)
{
	for (size_t i = 0; i < b->nerrors; i++) {
		const char *id = b->errors[i].id;
		char *path = NULL;
		bool found = false;

		if (!id || strmap_get(&run->blocked, id, NULL))
			continue;
		block(run, id, NULL);
		if (!seen_add(run, id_hash(id)) &&
		    (!store_story_path(run->store, id, &path, &found, run->e) ||
		     (found && !unimport(run, id)))) {
			free(path);
			return false;
		}
		free(path);
	}
	return true;
}

/* One batch of the first load: each new story planned and applied. */
static bool import_batch(void *ctx, struct scan_result *b, struct err *e)
{
	struct run *run = ctx;
	size_t nerrors = b->nerrors;

	(void)e; /* run->e is e */
	if (!block_errors(run, b))
		return false;
	for (size_t i = 0; i < b->nchanges; i++) {
		struct file_change *fc = &b->changes[i];
		size_t first;
		bool twice = false;

		if (strmap_get(&run->blocked, fc->id, &first)) {
			claim_blocked(run, b, fc, first);
			continue;
		}
		if (!seen_add(run, id_hash(fc->id)) &&
		    !claimed_twice(run, b, fc, &twice))
			return false;
		if (twice)
			continue;
		/* one at a time: a second claim finds the first one's row */
		if (!plan_one(run, fc->id, fc, NULL))
			return false;
		run->napplied += run->nplan;
		if (!apply_planned(run))
			return false;
	}
	run->n->file_changes += (long)(b->nchanges + nerrors);
	run->nimported += b->nchanges;
	return true;
}

/* The first load: the tree read into an empty database in batches, each
 * parsed, planned and applied while the next ones are read, all in the one
 * transaction; memory holds a few batches, not the tree. The API waits
 * meanwhile, as it has nothing to read yet. */
static bool import(struct run *run)
{
	int64_t t = fsx_now_ns(), cpu = fsx_thread_cpu_ns();

	strmap_init(&run->blocked, 16);
	if (!open_run(run))
		goto fail;
	apply_begin(run);
	if (!detect_scan_stream(run->c, run->rootfd, import_batch, run,
				run->r ? run->r->progress : NULL, &run->scan,
				run->e))
		goto fail;
	report_scan(run, run->nimported);
	if (run->nimported)
		detect_git_head(run->c, &run->git);
	if (!apply_end(run) || !close_run(run, t, cpu))
		goto fail;
	return true;
fail:
	store_rollback(run->store);
	return false;
}

static void run_finish(struct run *run)
{
	for (size_t i = 0; i < run->nplan; i++)
		action_finish(&run->plan[i].a);
	free(run->plan);
	apply_ctx_finish(&run->apply);
	free(run->seen.v);
	strmap_finish(&run->blocked);
	arena_finish(&run->blocked_ids);
	for (size_t i = 0; i < run->nfirst_claims; i++)
		free(run->first_claims[i]);
	free(run->first_claims);
	free(run->refused);
	free(run->shown);
	if (run->sel.backlogs != run->all->backlogs)
		free(run->sel.backlogs);
	strmap_finish(&run->hidden);
	db_result_finish(&run->db);
	reconcile_finish(&run->rc);
	git_result_finish(&run->git);
	git_mirrors_finish(&run->mirrors);
	free(run->last_commit);
	scan_result_finish(&run->scan);
	strmap_finish(&run->state_by_id);
	journal_finish(&run->journal);
	strmap_finish(&run->committed);
	strmap_finish(&run->waiting);
	arena_finish(&run->journal_ids);
	free(run->journal_path);
	if (run->journal_fd >= 0)
		close(run->journal_fd);
	state_table_finish(&run->table);
	if (run->rootfd >= 0)
		close(run->rootfd);
	store_close(run->store);
	buf_finish(&run->messages);
}

/* Keeps the database out of git (a 300 MB file at 100k stories must not
 * ride along with the next "git add -A"): a directory of its own gets a
 * .gitignore of "*". A directory it shares with other files is left as it
 * is; *ignored tells which. */
static bool ignore_database(const struct config *c, bool *ignored,
			    struct err *e)
{
	static const char all[] = "# storysync's database: never in git\n*\n";
	char *dir = xstrdup(c->database), *slash = strrchr(dir, '/');
	struct file_stat st;
	bool stale, ok = true;
	int fd = -1;

	*ignored = false;
	*slash = '\0';
	if (strcmp(dir, c->root) == 0 || !fsx_dir_holds_only(dir, slash + 1))
		goto out;
	fd = fsx_open_root(dir, e);
	ok = fd >= 0 && fsx_write_atomic(fd, ".gitignore", all, sizeof(all) - 1,
					 NULL, &st, &stale, e);
	*ignored = ok;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return ok;
}

/* Records the configuration in a database that has none recorded; a
 * changed one is left for the next sync to follow (recording it here
 * would lose what changed). */
static bool init_record(struct store *s, const struct config *c, struct err *e)
{
	struct config_record rec;
	bool ok = store_config_get(s, &rec, e);

	if (ok && !rec.nbacklogs)
		ok = store_begin(s, e) &&
		     store_config_put(s, c, NULL, NULL, e) &&
		     store_commit(s, e);
	if (!ok)
		store_rollback(s);
	config_record_finish(&rec);
	return ok;
}

bool sync_init(const struct config *c, int *version, bool *ignored,
	       struct err *e)
{
	struct store *s = NULL;
	bool ok = fsx_mkdir_parents(c->database, e) &&
		  fsx_create_empty(c->database, e) &&
		  store_create(&s, c->database, e) && init_record(s, c, e);

	*version = store_schema_version();
	store_close(s);
	return ok && ignore_database(c, ignored, e);
}

bool sync_database_exists(const struct config *c, struct err *e)
{
	if (fsx_exists(c->database))
		return true;
	if (c->database_at)
		return err_set(e,
			       "%s: no database at %s (storysync init creates "
			       "one; a typo in 'database'?); nothing written",
			       c->database_at, c->database);
	return err_set(e,
		       "no database at %s (storysync init creates one); "
		       "nothing written",
		       c->database);
}

/* The write journal beside the lock (a dry run only reads it). */
static bool open_journal(struct run *run, const char *lock_path)
{
	char *text = NULL;
	bool ok;

	run->journal_path = xasprintf("%.*s.writes",
				      (int)(strlen(lock_path) - 5), lock_path);
	run->journal_fd =
		fsx_journal_open(run->journal_path, !run->o->dry_run, run->e);
	if (run->journal_fd < 0 && run->o->dry_run &&
	    (errno == ENOENT || errno == EACCES))
		ok = true; /* nothing was ever written, or not ours to read */
	else
		ok = run->journal_fd >= 0 &&
		     fsx_journal_read(run->journal_fd, &text, run->e);
	if (ok)
		journal_load(&run->journal, text);
	else
		free(text);
	if (run->o->dry_run && run->journal_fd >= 0) {
		close(run->journal_fd);
		run->journal_fd = -1;
	}
	return ok;
}

/* Nothing to do, found before any transaction: no file changed or in
 * error, no leftover of a killed run, no row changed since the last run,
 * the configuration recorded as it is. Such a run writes nothing at all.
 * (--full is an admin's run, and a --git run that moved HEAD records it.) */
static bool quiet(struct run *run)
{
	bool moved = true;

	return run->o->mode == SYNC_SCAN && !run->o->dry_run &&
	       !run->scan.nchanges && !run->scan.nerrors && !run->scan.ntemps &&
	       journal_empty(&run->journal) &&
	       store_clock_moved(run->store, &moved, NULL) && !moved &&
	       !run->rc.changed;
}

/* The writer wait: --wait's, else the configuration's. */
static int busy_ms(const struct config *c, const struct sync_options *o)
{
	if (o->wait_s == 0)
		return -1;
	return (o->wait_s > 0 ? o->wait_s : c->busy_wait_s) * 1000;
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
static void update_run_record(struct run *run, enum sync_status st)
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

	if (!run_record_read(run->c->database, &rf, &e))
		memset(&rf, 0, sizeof(rf)); /* unreadable: start again */
	run_record_add(&rf, result_of(st), exit_codes[st],
		       (fsx_now_ns() - run->rec.started_ns) / 1e9, n->errors,
		       n->created || n->updated || n->moved || n->deleted ||
			       n->conflicts,
		       msg);
	rf.row_errors = n->row_errors;
	if (!run_record_write(run->c->database, &rf, &e))
		problem(run, e.msg);
}

enum sync_status sync_run(const struct config *c, const struct sync_options *o,
			  const struct sync_report *r, struct sync_counts *n,
			  struct err *e)
{
	struct run run = {
		.c = c,
		.o = o,
		.r = r,
		.n = n,
		.e = e,
		.rootfd = -1,
		.journal_fd = -1,
	};
	enum sync_status status = SYNC_FATAL;
	char *lock_path = xasprintf("%s.lock", c->database);
	int lockfd = -1;
	bool busy = false;

	memset(n, 0, sizeof(*n));
	if (!select_backlogs(&run, c, o)) {
		status = SYNC_USAGE;
		goto out;
	}
	oom_run = &run;
	mem_on_oom(out_of_memory);
	run.rec.started_ns = fsx_now_ns();
	run.rec.mode = mode_name(o);
	if (!sync_database_exists(c, e)) {
		status = SYNC_USAGE;
		goto out;
	}
	if (o->dry_run) {
		/* a report: no lock, nothing written, read-only access will
		 * do */
		if (fsx_lock_held(lock_path)) {
			status = SYNC_LOCKED;
			err_set(e, "another storysync run holds %s", lock_path);
			goto out;
		}
	} else {
		lockfd = fsx_lock(lock_path, o->wait_s, e);
		if (lockfd == -2) {
			status = SYNC_LOCKED;
			err_set(e, "another storysync run holds %s", lock_path);
			goto out;
		}
		if (lockfd < 0) {
			if (errno == EACCES || errno == EPERM || errno == EROFS)
				err_set(e,
					"%s: %s (this user must be able to "
					"write the database's directory)",
					lock_path, strerror(errno));
			goto out;
		}
	}
	if (!store_open_as(&run.store, c->database, busy_ms(c, o), o->dry_run,
			   &busy, e)) {
		if (busy)
			status = SYNC_BUSY;
		goto out;
	}
	if (o->mode == SYNC_GIT && !o->dry_run && git_up_to_date(&run)) {
		status = SYNC_OK;
		goto out;
	}
	run.rootfd = fsx_open_root(c->root, e);
	if (run.rootfd < 0 || !open_journal(&run, lock_path))
		goto out;
	if (!detect_files(&run, &status))
		goto failed;
	if (run.bulk) {
		if (!store_bulk(run.store, true, e) || !import(&run))
			goto failed;
		status = n->errors ? SYNC_SKIPPED : SYNC_OK;
		goto out;
	}
	if (!o->force && (!reconcile_guard(&run.rc, &run.scan, run.rootfd, e) ||
			  !guard_backlogs(&run))) {
		status = SYNC_GUARDED;
		goto failed;
	}
	if (quiet(&run)) {
		note(&run, "nothing changed on either side: nothing written");
		status = SYNC_OK;
		goto out;
	}
	if (!in_transaction(&run, &status))
		goto failed;
	status = n->errors ? SYNC_SKIPPED : SYNC_OK;
	goto out;
failed:
	/* busy: the next run is the retry, and a row would wait again */
	if (store_busy(run.store))
		status = SYNC_BUSY;
	else
		record_failure(&run, status == SYNC_GUARDED ? 4
				     : status == SYNC_USAGE ? 2
							    : 3);
out:
	mem_on_oom(NULL);
	oom_run = NULL;
	if (run.bulk)
		store_bulk(run.store, false, NULL);
	if (lockfd >= 0)
		update_run_record(&run, status);
	run_finish(&run);
	fsx_unlock(lockfd);
	free(lock_path);
	return status;
}
