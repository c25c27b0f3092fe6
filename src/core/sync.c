/*
 * One run: detect -> plan -> apply.
 *
 * Walking and parsing happen before the DB write lock is taken; the DB side
 * is read, the plan made and carried out inside one BEGIN IMMEDIATE
 * transaction, so the API is stalled only while applying.
 */
#include "sync_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply.h"
#include "buf.h"
#include "dbcheck.h"
#include "detect.h"
#include "fsx.h"
#include "githead.h"
#include "gitobj.h"
#include "gitrepo.h"
#include "journal.h"
#include "json.h"
#include "mem.h"
#include "plan.h"
#include "reconcile.h"
#include "runrecord.h"
#include "seam.h"
#include "statcache.h"
#include "store.h"
#include "strmap.h"

/* The run an allocation failure ends (see out_of_memory). */
static struct run *oom_run;

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

/* The file fc, with no state and no row, is a killed run's whole render
 * of a row no run agreed on, as it wrote it and where: the row it was
 * made for is gone, deleted by the API since (or renamed: UPDATE of id).
 * Taken for a person's new story, it brought the row back and the API's
 * deletion was undone unseen (campaign19); the run that had committed
 * would have deleted its file. */
static bool rendered_gone(struct run *run, const struct file_change *fc)
{
	const struct journal_line *jl = our_write(run, fc);
	char *msg;

	if (!jl || strcmp(jl->path, fc->path) != 0 ||
	    strcmp(jl->fields, "*") != 0)
		return false;
	msg = xasprintf("%s: made for %s's row by a run that did not commit, "
			"the row deleted since: deleted",
			fc->path, fc->id);
	note(run, msg);
	free(msg);
	return true;
}

static void replay_one(void *ctx, const struct journal_conflict *c)
{
	struct run *run = ctx;

	run->replayed = xgrow(run->replayed, &run->capreplayed,
			      run->nreplayed + 1, sizeof(*run->replayed));
	run->replayed[run->nreplayed++] = c;
}

/* The conflicts a killed run journaled with the write the file fc holds:
 * the file's values it overrode, which only its lost commit recorded. A
 * write may give the file the agreed content back (a discard written
 * again): the journal's line is all that is left of it then. */
static void replay_conflicts(struct run *run, const struct file_change *fc)
{
	if (fc && fc->id && fc->side != SIDE_DELETED)
		journal_conflicts(&run->journal, fc->hash, fc->id, replay_one,
				  run);
}

/* Records the conflicts replay_conflicts found (once each: a run killed
 * after its commit, before it rewrote the journal, recorded them). */
static bool record_replayed(struct run *run)
{
	bool ok = true;

	for (size_t i = 0; ok && i < run->nreplayed; i++) {
		const struct journal_conflict *j = run->replayed[i];
		struct story lost = {0};
		struct conflict_row c = {
			.story_id = j->id,
			.kind = j->kind,
			.kept = j->kept,
			.fields = j->fields,
			.policy = j->policy,
			.lost = &lost,
			.run_id = run->run_id,
			.once = true,
		};

		if (journal_conflict_lost(j, &lost)) {
			ok = store_conflict_add(run->store, &c, run->e);
			run->n->conflicts++;
		}
		story_finish(&lost);
	}
	return ok;
}

/* The base whose place is where the journal's line jl says a killed
 * run put the file, into *out (empty before): a person who moved the file
 * from there moved it from the place the database gave it, which they
 * saw, so the place they chose is their edit and the database's is no
 * change of its own. False when jl's path is no story path. */
static bool journal_place(const struct run *run, const struct journal_line *jl,
			  const struct story *base, struct story *out)
{
	story_copy(out, base);
	return detect_set_location(run->c, jl->path, out);
}

/* Whether jl, the journal's line of the content fc holds, is a move the
 * killed run never made: fc is not at jl's path but where the agreed
 * version (base) places the story. A move goes before the write that
 * follows it (place_rewrite), so a move line names the content the run
 * found, not a write of its own: taken for a person's move back from
 * jl's path, the file's old place won over the database's change that
 * moved it (model seed 38: the API's status, a run killed after
 * another story's move). Unless the journal says the move was made (a
 * "> " line after jl): then the file there is a person's move back
 * (model seed 140: taken for a move not made, the run moved it again and
 * the person's move was lost). A write in place or a creation has its
 * "> " line with it (note_write): its content, the run's own making,
 * found elsewhere is a person's move made after the run (model seed
 * 3102: a write of the status key in place at the person's first move,
 * taken for a move not made, lost the person's move back). */
static bool move_not_made(const struct run *run, const struct journal_line *jl,
			  const struct file_change *fc,
			  const struct story *base)
{
	static const int where[] = {SF_BACKLOG, SF_STATUS, SF_EPIC};
	struct story here, there;
	bool same, found, took[SF_COUNT];

	if (!base || strcmp(jl->path, fc->path) == 0 ||
	    journal_move_made(&run->journal, jl))
		return false;
	story_copy(&here, base);
	same = detect_set_location(run->c, fc->path, &here);
	/* or where the run found it: jl's place but for what the run took
	 * from the database (model seed 118: the file a person had moved to
	 * another stage, the API's backlog; taken for a person's move from
	 * jl's place, back to the old backlog, both edits were lost) */
	found = journal_place(run, jl, base, &there) && same;
	journal_written(jl, took);
	for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++) {
		same = same && story_field_equal(&here, base, where[i]);
		found = found && (took[where[i]] ||
				  story_field_equal(&here, &there, where[i]));
	}
	story_finish(&here);
	story_finish(&there);
	return same || found;
}

/* Whether the file fc is where the agreed version base places the story
 * (its backlog, status and epic). */
static bool at_base(const struct run *run, const struct file_change *fc,
		    const struct story *base)
{
	struct story here;
	bool same;

	story_copy(&here, base);
	same = detect_set_location(run->c, fc->path, &here) &&
	       story_field_equal(&here, base, SF_BACKLOG) &&
	       story_field_equal(&here, base, SF_STATUS) &&
	       story_field_equal(&here, base, SF_EPIC);
	story_finish(&here);
	return same;
}

/* Remembers id in one of the journal's sets (a no-op in the first load,
 * which writes no file). */
static void journal_note(struct run *run, struct strmap *set, const char *id)
{
	if (run->bulk || run->journal_fd < 0 || strmap_get(set, id, NULL))
		return;
	strmap_put(set, arena_strdup(&run->journal_ids, id), 0);
}

/* Whether the journal's deletion jd took the file the state se agreed on:
 * its content at its path, or a killed run's write of the story there
 * (a write the row's deletion took since, plan_input.killed_write), which
 * holds nothing but what the run took from the database. */
static bool deleted_agreed(const struct run *run,
			   const struct journal_deletion *jd,
			   const struct state_entry *se)
{
	const struct journal_line *jl;

	if (strcmp(jd->hash, se->hash) == 0 && strcmp(jd->path, se->path) == 0)
		return true;
	jl = journal_find(&run->journal, jd->hash, se->id);
	return jl && strcmp(jl->path, jd->path) == 0;
}

/* The journal's deletion of se's file that a killed run made for the
 * API's deletion of its row, uncommitted, when that is why the file fc
 * is gone: the file the state agreed on, at its path, deleted by the
 * journal's line, and the row deleted or written since the last run (the
 * API's deletion, or its insert of the id again after it). NULL when the
 * file is gone for another reason (a person's deletion). */
static const struct journal_deletion *our_deletion(const struct run *run,
						   const struct state_entry *se,
						   const struct file_change *fc,
						   const struct db_side *d)
{
	const struct journal_deletion *jd;

	if (!se || !fc || fc->side != SIDE_DELETED || !d)
		return NULL;
	jd = journal_find_deletion(&run->journal, se->id);
	return jd && deleted_agreed(run, jd, se) ? jd : NULL;
}

/* A file gone that a --backlog run leaves for a later run (it may be
 * in another backlog now), and so never plans: when a killed run deleted
 * it for the API (the journal's deletion of the file the state agreed
 * on, at its path), no story vanished with its folder (model seed 4 at
 * 120 steps: a partial run, never planning the story, tripped the guard
 * on a folder git removed once that deletion emptied it). The later run
 * finishes the deletion (our_deletion). */
static void left_deleted(const struct run *run, struct file_change *fc)
{
	const struct state_entry *se;
	const struct journal_deletion *jd;

	if (fc->side != SIDE_DELETED || !(se = state_of(run, fc->id)))
		return;
	jd = journal_find_deletion(&run->journal, fc->id);
	if (jd && deleted_agreed(run, jd, se))
		fc->not_vanished = true;
}

/* Records jd, a journal's deletion line of a file HEAD held (its commit
 * and blob known), in sync_deleted: git putting that version back is
 * then no new story. */
static bool deleted_put(struct run *run, const struct journal_deletion *jd)
{
	struct deleted_file d = {
		.id = (char *)jd->id,
		.path = (char *)jd->path,
	};

	if (!jd->head || !jd->before)
		return true;
	snprintf(d.hash, sizeof(d.hash), "%s", jd->hash);
	snprintf(d.head, sizeof(d.head), "%s", jd->head);
	snprintf(d.before, sizeof(d.before), "%s", jd->before);
	return store_deleted_put(run->store, &d, run->e);
}

/* Finishes the deletions our_deletion found, before the apply: the event,
 * the deleted file's record (git putting it back is then no new story)
 * and the state forgotten, as the killed run's commit would have; what
 * the row holds now is planned as a story no run agreed on. */
static bool record_redeleted(struct run *run)
{
	for (size_t i = 0; i < run->nredeleted; i++) {
		const struct journal_deletion *jd = run->redeleted[i];
		struct action a = {
			.id = (char *)jd->id,
			.event = "deleted",
			.origin = "db",
		};
		char *msg = xasprintf("%s: deleted for the API's deletion of "
				      "%s by a run that did not commit: "
				      "deletion finished",
				      jd->path, jd->id);

		note(run, msg);
		free(msg);
		run->n->deleted++;
		apply_report(run->all, run->r, &a, "file", jd->path);
		if (run->o->dry_run)
			continue;
		if (!store_state_delete(run->store, jd->id, run->e) ||
		    !store_event_add(run->store, jd->id, "deleted", "db",
				     run->run_id, run->e))
			return false;
		journal_note(run, &run->committed, jd->id);
		if (!deleted_put(run, jd))
			return false;
	}
	return true;
}

/* Whether story id has a state entry: one of a backlog --backlog did
 * not select too, and asked of the store when the run read only some of
 * them (--git). */
static bool has_state(struct run *run, const char *id, bool *found)
{
	struct state_table t = {0};
	bool ok = true;

	*found = state_of(run, id) != NULL ||
		 (run->c != run->all && strmap_get(&run->hidden, id, NULL));
	if (!*found && run->partial_state) {
		ok = store_state_find(run->store, NULL, id, &t, run->e);
		*found = ok && t.n;
		state_table_finish(&t);
	}
	return ok;
}

/* The journal's deletions of a killed run's own files that no state knew
 * (rendered_gone: made for a row the API deleted since), made before the
 * run that made them was killed, are recorded as its commit would have
 * (sync_deleted): git putting back the version a person committed is
 * then no new story. A deletion line of a story that has a state is
 * our_deletion's. */
static bool record_gone(struct run *run)
{
	for (size_t i = 0; i < run->journal.nd; i++) {
		const struct journal_deletion *jd = &run->journal.d[i];
		bool found = false;

		if (!jd->head || !jd->before)
			continue;
		if (!has_state(run, jd->id, &found))
			return false;
		if (found)
			continue;
		if (!deleted_put(run, jd))
			return false;
		journal_note(run, &run->committed, jd->id);
	}
	return true;
}

/* Whether the scan found a file of story id (new or changed). */
static bool file_found(const struct run *run, const char *id)
{
	for (size_t i = 0; i < run->scan.nchanges; i++)
		if (run->scan.changes[i].side != SIDE_DELETED &&
		    run->scan.changes[i].id &&
		    strcmp(run->scan.changes[i].id, id) == 0)
			return true;
	return false;
}

/* The conflicts a killed run journaled with its deletion of a file no
 * state knew (git's version put back over storysync's deletion for the
 * API's, deleted again: undeleted, the file kept as deleted_in_db), the
 * file gone since: only the lost commit recorded the file's version,
 * owed all the same (model wide seed 1587: the run killed after its
 * writes, then commit -a took the deletion, and the file's values were
 * lost unrecorded). A file of the id still there is planned again. */
static bool replay_gone(struct run *run)
{
	for (size_t i = 0; i < run->journal.nd; i++) {
		const struct journal_deletion *jd = &run->journal.d[i];
		bool found = false;

		if (!has_state(run, jd->id, &found))
			return false;
		if (found || file_found(run, jd->id))
			continue;
		journal_conflicts(&run->journal, jd->hash, jd->id, replay_one,
				  run);
		journal_note(run, &run->committed, jd->id);
	}
	return true;
}

/* The file's mirror keys that git carried to its path, not edits (see
 * detect_git_carried): asked only of a key plan would take as an edit of
 * a file at the path its state has, so a run with nothing to do never
 * asks. When git cannot say, the key is an edit, as without git. */
static void carried_keys(struct run *run, const struct file_change *fc,
			 const struct state_entry *se, struct plan_input *in,
			 bool carried[SM_COUNT])
{
	if (!in->file_story || !fc || !se || strcmp(fc->path, se->path) != 0)
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
					  &se->path, 1, NULL, &r, run->e))
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

/* The base's status and backlog as the configuration names them now. */
static void renamed_base(const struct run *run, struct story *base)
{
	const char *st = reconcile_status(&run->rc, base->v[SF_STATUS]),
		   *bl = reconcile_backlog(&run->rc, base->v[SF_BACKLOG]);

	if (st != base->v[SF_STATUS])
		story_set(base, SF_STATUS, st);
	if (bl != base->v[SF_BACKLOG])
		story_set(base, SF_BACKLOG, bl);
}

/* Whether field f is data a values line (journal_values_line) gives the
 * base of: not the location's, nor one merged as before. */
static bool value_field(const struct run *run, int f)
{
	return f != SF_ID && f != SF_BACKLOG && f != SF_EPIC && f != SF_BODY &&
	       f != SF_EXTRA &&
	       (f != SF_STATUS || run->c->dialect.status_from_key);
}

/* The fields a values line (journal_values_line) gives, whose value the
 * killed run's rewrite changed from base's, into ran (SF_COUNT), and
 * their values into v (empty before); false when there is none. */
static bool killed_changed(const struct run *run, const char *hash,
			   const char *id, const struct story *base,
			   struct story *v, bool ran[])
{
	const struct journal_values *w = journal_last_values(&run->journal, id);
	bool has[SF_COUNT], any = false;

	if (!w || (hash && strcmp(w->hash, hash) != 0) ||
	    !journal_values_get(w, v, has))
		return false;
	for (int f = 0; f < SF_COUNT; f++) {
		ran[f] = has[f] && value_field(run, f) &&
			 !story_field_equal(v, base, f);
		any |= ran[f];
	}
	return any;
}

/* A file a person wrote after a killed run's rewrite of it (no line names
 * its blob now), the values that run took from the database journaled:
 * the person edited that write, as if its run had committed. In each
 * field the run changed: the run's value there is its write, merged as
 * the base's (written), so the API's change of it since wins (before,
 * with the status set back to the agreed value, the run's value counted
 * as the person's and the API's was lost, nothing in sync_conflicts); as
 * the person may have typed that very value again, the file's is kept as
 * a conflict the database won where the API changed it since (maybe).
 * Neither the run's value nor the agreed one is the person's edit of the
 * run's: its base is the run's value (typed, a copy of in->base), so an
 * API change since is a conflict, not an API change lost; where the API
 * left the run's value, the agreed value stays the base (the edit may be
 * of git's version put back over the write: a conflict); that only when
 * the run put its write in place (its identity line), else the agreed
 * value stays its base, and the API's change is a conflict too. The agreed
 * value is merged as before: git's version put back (reset, stash,
 * checkout) holds it, and no one can tell it from one typed back. True
 * when the journal gives such values. */
static bool killed_values(const struct run *run, const char *path,
			  struct plan_input *in, bool written[],
			  struct story *typed, bool maybe[])
{
	const struct journal_line *jl =
		journal_last_write(&run->journal, in->id);
	struct story v = {0};
	bool ran[SF_COUNT],
		ok = killed_changed(run, NULL, in->id, in->base, &v, ran);
	const struct journal_values *w =
		ok ? journal_last_values(&run->journal, in->id) : NULL;
	bool made = w && journal_find_ident(&run->journal, w->hash, in->id);
	/* only the file at the place the run wrote is an edit of its write:
	 * one elsewhere (git's version at the old place after a change of
	 * the configuration the killed run followed was thrown away, model
	 * seed 1355) never held the run's values, and taking them as its
	 * base lost the API's value, nothing in sync_conflicts; its agreed
	 * values are kept where they lose, as below */
	bool here = jl && path && strcmp(jl->path, path) == 0;

	if (ok)
		story_copy(typed, in->base);
	for (int f = 0; ok && f < SF_COUNT; f++) {
		if (!ran[f])
			continue;
		/* the agreed value over the run's: merged as before (the
		 * API's change wins), the file's kept where it loses: a
		 * person may have typed it back */
		if (story_field_equal(in->file_story, in->base, f)) {
			maybe[f] = !story_field_equal(in->db_story,
						      in->file_story, f);
			continue;
		}
		if (!here)
			continue;
		/* only over a write the run made (its identity journaled,
		 * read back after the rename): one journaled but never put
		 * in place (killed first) left the agreed value, which the
		 * person typed over; taken for the run's, the API's change
		 * lost to the person's with no record (model seed 1006). One
		 * put in place whose identity line was lost (killed before
		 * the batch's append) is a conflict, as before: none lost */
		/* a third value: the person's edit of the run's write, or of
		 * git's version put back over it (checkout, restore, stash:
		 * the agreed value then edited, model seed 39 --wider), which
		 * no one can tell apart. Where the API left the run's value,
		 * the agreed value stays the base: a conflict, the API's
		 * value kept where it loses (taken for the base, it was lost
		 * to the person's with no record) */
		if (!story_field_equal(in->file_story, &v, f)) {
			if (made && !story_field_equal(in->db_story, &v, f))
				story_set(typed, (enum story_field)f, v.v[f]);
			continue;
		}
		if (!in->written) {
			memset(written, 0, sizeof(bool) * SF_COUNT);
			in->written = written;
		}
		written[f] = true;
		maybe[f] = !story_field_equal(in->db_story, &v, f);
	}
	if (ok && here)
		in->base = typed;
	story_finish(&v);
	return ok && here;
}

/* The same, a file that holds the killed run's rewrite, blob for blob,
 * written again since: its identity (journal_find_ident) is not the one
 * the run read back. A person saved it, and may have typed the run's
 * values again: where the API changed one since, which wins as the run's
 * write is merged as before, the file's is kept as a conflict the
 * database won (maybe). A file the journal gives no identity for (an
 * older binary, a line lost) is the run's write, as before. */
static void killed_rewritten(const struct run *run,
			     const struct file_change *fc,
			     const struct plan_input *in, bool maybe[])
{
	const struct journal_ident *x =
		journal_find_ident(&run->journal, fc->hash, in->id);
	struct story v = {0};
	bool ran[SF_COUNT];

	if (x && fc->st.ino &&
	    (x->ino != fc->st.ino || x->mtime_ns != fc->st.mtime_ns ||
	     x->size != fc->st.size) &&
	    killed_changed(run, fc->hash, in->id, in->base, &v, ran))
		for (int f = 0; f < SF_COUNT; f++)
			maybe[f] = ran[f] &&
				   !story_field_equal(in->db_story, &v, f);
	story_finish(&v);
}

/* The same, a file that holds the agreed version again (git's put back:
 * checkout, reset, stash; or the run's values typed back), over the
 * killed run's rewrite, which it made (its identity journaled): the
 * API's value wins, as the agreed one merges as before, and the file's
 * is kept as a conflict the database won (maybe), as a discard of a
 * committed run's write keeps it (doubt_discarded). Before, nothing was
 * kept: a person's status typed back over the run's was lost. */
static bool killed_undone(const struct run *run, const struct state_entry *se,
			  const struct plan_input *in, bool maybe[])
{
	const struct journal_values *w =
		journal_last_values(&run->journal, in->id);
	struct story v = {0};
	bool ran[SF_COUNT], any = false;

	if (w && strcmp(w->hash, se->hash) != 0 &&
	    journal_find_ident(&run->journal, w->hash, in->id) &&
	    killed_changed(run, w->hash, in->id, in->base, &v, ran))
		for (int f = 0; f < SF_COUNT; f++) {
			maybe[f] = ran[f] && !story_field_equal(in->db_story,
								in->base, f);
			any |= maybe[f];
		}
	story_finish(&v);
	return any;
}

/* Plans one story from what each side found. */
bool plan_one(struct run *run, const char *id, struct file_change *fc,
	      const struct db_side *d)
{
	const struct state_entry *se = state_of(run, id);
	const struct journal_deletion *jd = our_deletion(run, se, fc, d);
	struct story base = {0}, row = {0}, rebase = {0}, place = {0},
		     gone = {0}, here = {0}, typed = {0};
	struct plan_input in = {
		.id = id,
		.status_is_data = run->c->dialect.status_from_key,
	};
	struct action a;
	const struct journal_line *jl;
	char *base_mirror[SM_COUNT] = {0};
	bool db_wins[SF_COUNT], carried[SM_COUNT] = {0}, written[SF_COUNT],
				journal[SF_COUNT], ours[SF_COUNT] = {0},
				maybe[SF_COUNT] = {0};
	bool has_base = false, mirror_known = false, found = false, ok = true,
	     rebase_db = false, discard = false, back = false, stale = false,
	     journaled = false, reborn = false, api_gone = false,
	     undone = false;
	int64_t rev;
	char *path = NULL;

	if (jd) {
		/* the deletion finished first (record_redeleted): no state;
		 * no story vanished either (model seed 4 at 120 steps: a
		 * folder git removed once that deletion emptied it tripped
		 * the guard) */
		if (fc)
			fc->not_vanished = true;
		run->redeleted =
			xgrow(run->redeleted, &run->capredeleted,
			      run->nredeleted + 1, sizeof(*run->redeleted));
		run->redeleted[run->nredeleted++] = jd;
		/* the deleted file's blob may owe a conflict record (a
		 * killed run's write that overrode the file's values, the
		 * agreed content written back by a discard): gone with the
		 * file, the journal's line is all that is left of it */
		journal_conflicts(&run->journal, jd->hash, jd->id, replay_one,
				  run);
		se = NULL;
	}
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
	/* a base the configuration's change did not relocate (the row the
	 * API deleted after a rename, before the run: reconcile_apply moves
	 * the rows there are, seed 624) holds the names the configuration
	 * has now */
	if (has_base)
		renamed_base(run, &base);
	replay_conflicts(run, fc);
	/* a file a killed run wrote, edited by a person since (no line
	 * names its blob now): the conflicts journaled with the write, the
	 * file's values it overrode, are owed all the same (model seed 106
	 * at 120 steps: a discard written again, then another field edited;
	 * git's value was lost with nothing recorded) */
	if (fc && fc->side == SIDE_CHANGED && !our_write(run, fc))
		journal_story_conflicts(&run->journal, id, replay_one, run);
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
		if (fsx_stat_equal(&fc->st, &se->st)) {
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
		/* a first load's file story: read by nothing after the plan
		 * (no resurrection, no base: doubt_stale is not called) */
		if (run->bulk)
			in.file_story_given = &fc->story;
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
		discard = true;
		/* its mirror keys are git's version's, which the run that
		 * wrote over it saw and overruled: no edit, and stale where
		 * they name another location (the file moved by hand since:
		 * model seed 4, git_before.sh) */
		in.base_mirror = fc->mirror;
		in.mirror_ours = true;
	} else if (in.file_story && has_base &&
		   rebased(run, fc, se, &base, &rebase)) {
		in.base = &rebase;
		rebase_db = true;
	}
	/* written or moved by a run that died before its commit: what it
	 * took from the database is no edit, so a later API change wins */
	if (in.file_story && (jl = our_write(run, fc)) &&
	    !move_not_made(run, jl, fc, has_base ? &base : NULL)) {
		bool moved = strcmp(jl->path, fc->path) != 0;

		journaled = true;
		in.killed_write = true;
		journal_written(jl, journal);
		for (int f = 0; f < SF_COUNT; f++)
			written[f] = (in.written && written[f]) || journal[f];
		/* the mirror keys are as the run wrote them: no edit */
		in.base_mirror = fc->mirror;
		in.mirror_ours = true;
		/* moved since by a person: the place is the person's, moved
		 * from where the run put it */
		if (moved) {
			written[SF_BACKLOG] = written[SF_EPIC] = false;
			written[SF_STATUS] &= run->c->dialect.status_from_key;
			if (in.base && journal_place(run, jl, in.base, &place))
				in.base = &place;
		}
		in.written = written;
		/* a file rendered whole from a row no run agreed on: the row
		 * is created now, into that file */
		if (!se && d && d->side != SIDE_DELETED && !moved &&
		    strcmp(jl->fields, "*") == 0) {
			in.file = SIDE_ABSENT;
			in.file_story = NULL;
			in.file_story_given = NULL;
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
	/* a file a killed run wrote from the database and a person edited
	 * since (its line's blob is gone): a field the journal says the run
	 * took from the database, holding the database's changed value, is
	 * that write, storysync's, not a person's (model seed 8: taken for
	 * the person's, a discard of the file afterwards won as an edit and
	 * the API's title was lost). One typed by hand to the same value
	 * cannot be told from it; either way nothing is lost */
	if (in.file_story && in.base && !journaled && in.db == SIDE_CHANGED &&
	    in.db_story && journal_story_written(&run->journal, id, journal)) {
		for (int f = 0; f < SF_COUNT; f++) {
			if (!journal[f] || f == SF_ID ||
			    story_field_equal(in.file_story, in.base, f) ||
			    !story_field_equal(in.file_story, in.db_story, f))
				continue;
			if (!in.written) {
				memset(written, 0, sizeof(written));
				in.written = written;
			}
			written[f] = journaled = true;
		}
	}
	/* the same, a file still at the path a killed run moved it to (its
	 * journal line's move made: a "> " line after it), edited by a
	 * person since: the place its path gives is that run's write, not
	 * a person's move, whatever the row says now (model seed 249: the
	 * API set the status back to the agreed one; the file's, taken for
	 * a person's move, won and the API's last status was lost, nothing
	 * in sync_conflicts). Only the fields the path gives and the run
	 * took from the database: a key in the file may be the person's
	 * edit, and a place the person gave before the run is not the
	 * run's (its line does not name those fields) */
	if (in.file_story && in.base && !in.killed_write &&
	    journal_story_written_at(&run->journal, id, fc->path, journal)) {
		static const int where[] = {SF_BACKLOG, SF_STATUS, SF_EPIC};

		for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++) {
			int f = where[i];

			if (!journal[f] ||
			    (f == SF_STATUS && run->c->dialect.status_from_key))
				continue;
			if (!in.written) {
				memset(written, 0, sizeof(written));
				in.written = written;
			}
			written[f] = journaled = true;
		}
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
	/* a story file with no state and no row that a killed run rendered
	 * whole for the row, the API's deletion of the row since */
	if (!se && in.file == SIDE_NEW && in.db == SIDE_ABSENT && !run->bulk)
		in.ours_gone = rendered_gone(run, fc);
	/* a story file with no state and no row: git's version put back
	 * over storysync's deletion of it for the API? (a first load has no
	 * deleted files) */
	if (!se && in.file == SIDE_NEW && in.db == SIDE_ABSENT && !run->bulk &&
	    !in.ours_gone && !undeleted(run, fc, &in.undeleted))
		goto fail;
	/* else, a story whose row a run deleted, brought back by a file git
	 * holds at its path (a person's deletion, then a stash or a
	 * checkout, seed 414): the row's values then are no one's to drop;
	 * where that deletion was the API's and no commit took it (git's
	 * version put back, then committed or moved: model seed 1201), the
	 * deletion itself is what the file overrules, kept whole */
	if (!se && in.file == SIDE_NEW && in.db == SIDE_ABSENT && !run->bulk &&
	    !in.undeleted && !in.ours_gone &&
	    !resurrected(run, fc, &gone, &back, &api_gone))
		goto fail;
	/* or a file a killed run made for a row no run agreed on (the
	 * journal's), edited or moved by a person since, and the row the API
	 * deleted: the person's file brings it back, and the row as deleted
	 * is kept where it differs, as once that run committed
	 * (deleted_in_db; before, the deletion was overruled unseen) */
	if (!se && in.file == SIDE_NEW && in.db == SIDE_ABSENT && !run->bulk &&
	    !in.undeleted && !in.ours_gone && !back &&
	    journal_story_written(&run->journal, id, journal) &&
	    !store_archived_get(run->store, id, &gone, &reborn, run->e))
		goto fail;
	/* a version git holds, found in place of the story's file at
	 * another path (seed 411): the agreed values it overrides are kept */
	stale = in.file_story && has_base && !discard &&
		stale_copy(run, fc, se);
	/* the file at the agreed place, holding the agreed content, that a
	 * killed run moved from there (a move line for that content and a
	 * "> " line after it: the move was made): a person moved it back
	 * since, a move that changed no byte (model seed 140: taken for
	 * nothing, the run moved it again and the person's move was lost).
	 * As for a journaled file moved since (below): the place is the
	 * person's edit of the one the run left */
	if (!fc && se && has_base && d && d->side == SIDE_CHANGED &&
	    (jl = journal_find(&run->journal, se->hash, id)) &&
	    strcmp(jl->path, se->path) != 0 &&
	    journal_move_made(&run->journal, jl) &&
	    journal_place(run, jl, &base, &place)) {
		story_copy(&here, &base);
		in.file = SIDE_CHANGED;
		in.file_story = &here;
		in.mirror = base_mirror;
		in.base = &place;
		in.base_mirror = base_mirror;
		in.mirror_ours = true;
		journal_written(jl, written);
		written[SF_BACKLOG] = written[SF_EPIC] = false;
		written[SF_STATUS] &= run->c->dialect.status_from_key;
		in.written = written;
		journaled = true;
	} else if (fc && fc->side == SIDE_CHANGED && !journaled && se &&
		   has_base && d && d->side == SIDE_CHANGED &&
		   !our_write(run, fc) &&
		   (jl = journal_find(&run->journal, se->hash, id)) &&
		   strcmp(jl->path, se->path) != 0 &&
		   journal_move_made(&run->journal, jl) &&
		   at_base(run, fc, &base) &&
		   journal_place(run, jl, &base, &place)) {
		/* the same, the file edited by a person as well (no line
		 * names its blob): back at the agreed place after the killed
		 * run's move was made, the place is the person's move back,
		 * against the one the run left (model seed 189 at 120 steps:
		 * taken for no move, the run moved it again and the
		 * person's move was lost, nothing in sync_conflicts) */
		in.base = &place;
	}
	/* a file a person wrote after a killed run's rewrite, which
	 * journaled the values it took from the database */
	if (fc && fc->side == SIDE_CHANGED && in.file_story && in.base &&
	    !in.killed_write && !discard && !rebase_db && !stale &&
	    in.db == SIDE_CHANGED && in.db_story &&
	    killed_values(run, fc->path, &in, written, &typed, maybe))
		journaled = true;
	else if (fc && in.killed_write && in.file_story &&
		 in.db == SIDE_CHANGED && in.db_story)
		killed_rewritten(run, fc, &in, maybe);
	else if (!fc && se && !jd && in.base && in.file == SIDE_SAME &&
		 in.db == SIDE_CHANGED && in.db_story &&
		 killed_undone(run, se, &in, maybe))
		undone = true;
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
		set_before(run, fc, se, journaled, &a);
		set_deleted(run, se, fc, in.ours_gone, &a);
		if (rebase_db)
			doubt_rebased(&in, &a);
		if (discard)
			doubt_discarded(&in, &a);
		if (api_gone)
			doubt_deleted(in.file_story, &gone, &a);
		else if (back)
			doubt_stale(in.file_story, &gone, "deleted_in_file",
				    &a);
		if (reborn)
			doubt_stale(in.file_story, &gone, "deleted_in_db", &a);
		if (stale)
			doubt_stale(in.file_story, &base, "both_changed", &a);
		doubt_retyped(undone ? in.base : in.file_story, maybe, &a);
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
	story_finish(&place);
	story_finish(&gone);
	story_finish(&here);
	story_finish(&typed);
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

/* The value of an id in plan_all's blocked set that hold_checkout held
 * (the others are 0). */
#define HELD_BY_CHECKOUT 1

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
		size_t held;

		bool no_status = !d->story.v[SF_STATUS];
		bool no_backlog = !d->story.v[SF_BACKLOG];

		/* held by the checkout (hold_checkout): nothing of the row is
		 * written here, so nothing is refused; it waits for HEAD to
		 * come back, whose configuration may name its status (model
		 * seed 117: a stage renamed twice, the API's middle name) */
		if (strmap_get(blocked, d->id, &held) &&
		    held == HELD_BY_CHECKOUT)
			continue;
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

/*
 * Whether HEAD is off the last synced commit's line (detect_git_left: a
 * checkout of an older commit or another branch that no hook followed,
 * the synced commit still on a branch), for a plain run: sync --git (the
 * hooks' run) and a first load follow HEAD. Asked of git once a run, when
 * first needed (the leftovers of report_scan, config_held,
 * hold_checkout), and only when HEAD is not the last synced commit, as
 * most runs find it: libgit2 not started. When git cannot say, not (the
 * run follows HEAD as before), and the run says why.
 */
static bool off_line(struct run *run)
{
	char head[GITHEAD_HEX];
	struct err e;
	char *msg;

	if (run->left_asked)
		return run->left_line;
	run->left_asked = true;
	/* HEAD as the run read it after the walk, when it did
	 * (head_for_record): git's files are not read again */
	if (run->git.head[0])
		memcpy(head, run->git.head, sizeof(head));
	if (run->o->mode == SYNC_GIT || run->by_diff || run->bulk ||
	    !run->last_commit ||
	    ((run->git.head[0] || githead_read(run->c->root, head)) &&
	     strcmp(head, run->last_commit) == 0))
		return false;
	if (!detect_git_left(&run->mirrors, run->c, run->last_commit,
			     &run->left_line, &e)) {
		run->left_line = false;
		msg = xasprintf("git: %s (HEAD taken as on the last synced "
				"commit's line)",
				e.msg);
		note(run, msg);
		free(msg);
	}
	return run->left_line;
}

/* Whether a file of path holding hash ("" for no file) is HEAD's
 * version of path (or HEAD has none there either). When git cannot say,
 * not. */
static bool head_version(struct run *run, const char *path, const char *hash)
{
	char v[BLOBID_HEX];
	struct err e;

	return path &&
	       detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, v, &e) &&
	       strcmp(v, hash) == 0;
}

/* Whether the file at path (a journal line's) is gone from the tree and
 * other has its name: the file moved there with its folder. */
static bool moved_with_folder(const struct run *run, const char *path,
			      const char *other)
{
	const char *a = strrchr(path, '/'), *b = strrchr(other, '/');
	enum fsx_entry_kind kind;
	struct stat st;

	return strcmp(a ? a + 1 : path, b ? b + 1 : other) == 0 &&
	       !fsx_lstat_at(run->rootfd, path, &st, &kind) && errno == ENOENT;
}

/* Whether the file fc holds a move of its story to its path that a run
 * killed before its commit made: a line of the write journal for its
 * content at its path, or at the path a change of the configuration since
 * moved it to (model seed 228: the folder renamed after the kill, git mv
 * taking the moved file along; both copies were named on every run), or,
 * when no file is at the line's path, at a path of the same name in
 * another folder (model seeds 1036, 190: the run followed a change of the
 * configuration not committed, which a person threw away, moving the
 * folders back by hand: no configuration has the line's folder; a file
 * still at the line's path is the move, and one of its name elsewhere a
 * copy: model seed 26), and a "> " line after it (see detect_walk_ask). */
static bool killed_move(void *ctx, const struct file_change *fc)
{
	const struct run *run = ctx;
	const struct journal_line *jl =
		journal_find(&run->journal, fc->hash, fc->id);
	const struct config_backlog *b;
	const struct config_stage *st;
	char *to = NULL;
	bool here;

	if (!jl || !journal_move_made(&run->journal, jl))
		return false;
	here = strcmp(jl->path, fc->path) == 0 ||
	       (reconcile_path(&run->rc, jl->path, &to, &b, &st) ==
			RECONCILE_MOVED &&
		strcmp(to, fc->path) == 0) ||
	       moved_with_folder(run, jl->path, fc->path);
	free(to);
	return here;
}

/* Whether blob at path is the version git held there when a killed run
 * moved moved's file away from path (its journal's "o " line), git
 * holding it there still, followed back through a change of the
 * configuration since (reconcile_path_recorded): a discard put it back
 * (detect_source_fn). */
static bool killed_move_source(void *ctx, const struct file_change *moved,
			       const char *path, const char *blob)
{
	struct run *run = ctx;
	char *was = reconcile_path_recorded(&run->rc, path);
	bool yes = (journal_moved_over(&run->journal, moved->hash, moved->id,
				       path, blob) ||
		    (was && journal_moved_over(&run->journal, moved->hash,
					       moved->id, was, blob))) &&
		   killed_move(ctx, moved) && held_by_git(ctx, path, blob);

	free(was);
	return yes;
}

/* detect_placed_fn: a move of id to path the journal says was made. */
static bool killed_placed(void *ctx, const char *id, const char *path)
{
	const struct run *run = ctx;
	bool took[SF_COUNT];

	return journal_story_written_at(&run->journal, id, path, took);
}

/* Holds id, on both sides, for a later run. */
static void hold(struct run *run, struct strmap *blocked, const char *id,
		 size_t *n)
{
	if (strmap_get(blocked, id, NULL))
		return;
	strmap_put(blocked, id, HELD_BY_CHECKOUT);
	journal_note(run, &run->waiting, id);
	(*n)++;
}

/*
 * A plain run on a checkout of an older commit or another branch that the
 * hooks did not follow (detect_git_left): a file that is HEAD's version
 * (or gone where HEAD has none) is git's, put there by the checkout, not
 * a person's edit, and writing the database's change into it would leave
 * a file git refuses to check out over. Such stories are held on both
 * sides (the changes wait, the mark stays) and the last synced commit
 * stays, so that the run after the checkout back finds them as they were;
 * a file a person changed on the checkout is synced as ever. sync --git
 * (the hooks' run) follows the checkout instead.
 */
static void hold_checkout(struct run *run, struct strmap *blocked)
{
	struct strmap seen;
	size_t nfile = 0, ncopy = 0, nrow = 0;
	struct buf msg = BUF_INIT;

	if (!off_line(run))
		return;
	/* a copy of the id git's checkout put there, which a run on the
	 * synced line removes as a leftover: kept (report_scan), and which
	 * of the files is the story's is for the run back on the line */
	for (size_t i = 0; i < run->scan.nleftovers; i++)
		if (run->scan.leftovers[i].kept)
			hold(run, blocked, run->scan.leftovers[i].id, &ncopy);
	for (size_t i = 0; i < run->scan.nchanges; i++) {
		struct file_change *fc = &run->scan.changes[i];

		if (fc->side == SIDE_SAME)
			continue;
		if (fc->path ? head_version(run, fc->path, fc->hash)
			     : head_version(run, fc->old_path, "")) {
			hold(run, blocked, fc->id, &nfile);
			fc->not_vanished = true;
		}
	}
	strmap_init(&seen, run->scan.nchanges);
	for (size_t i = 0; i < run->scan.nchanges; i++)
		if (run->scan.changes[i].side != SIDE_SAME)
			strmap_put(&seen, run->scan.changes[i].id, i);
	/*
	 * a row changed whose file did not: the file the state agreed on; a
	 * row the API added, with no file yet, has none where HEAD has none
	 * (its file made here would be in this commit's layout, not the
	 * synced line's, and stay behind when HEAD comes back: model seed
	 * 121, a backlog's folder moved since)
	 */
	for (size_t i = 0; i < run->db.n; i++) {
		const struct db_side *d = &run->db.rows[i];
		const struct state_entry *se = state_of(run, d->id);

		if (!strmap_get(&seen, d->id, NULL) &&
		    (!se || head_version(run, se->path, se->hash)))
			hold(run, blocked, d->id, se ? &nfile : &nrow);
	}
	strmap_finish(&seen);
	buf_printf(&msg,
		   "HEAD is off the last synced commit's line (a checkout of "
		   "another commit or branch): %zu stor%s whose file is HEAD's "
		   "version held",
		   nfile, nfile == 1 ? "y" : "ies");
	if (ncopy)
		buf_printf(&msg, ", %zu whose copy git put back beside it",
			   ncopy);
	if (nrow)
		buf_printf(&msg, ", %zu added by the API with no file yet",
			   nrow);
	buf_puts(&msg, ", and the last synced commit kept, until HEAD comes "
		       "back or sync --git follows the checkout");
	note(run, msg.data);
	buf_finish(&msg);
	if (nfile + ncopy + nrow)
		run->deferred = true;
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
	hold_checkout(run, &blocked);
	if (run->scan.nchanges) /* changes is NULL when there are none */
		qsort(run->scan.changes, run->scan.nchanges,
		      sizeof(*run->scan.changes), fc_cmp);
	strmap_init(&file_ids, run->scan.nchanges);
	for (size_t i = 0; i < run->scan.nchanges; i++) {
		strmap_put(&file_ids, run->scan.changes[i].id, i);
		/* only its stat changed: a killed run's write may have put
		 * the agreed content back (plan_one sees the others) */
		if (run->scan.changes[i].side == SIDE_SAME &&
		    !strmap_get(&blocked, run->scan.changes[i].id, NULL))
			replay_conflicts(run, &run->scan.changes[i]);
	}
	refuse_unwritable(run, &blocked, &file_ids);
	/* --backlog: what it leaves for a later run, on both sides */
	strmap_init(&outside, 1);
	for (size_t i = 0; i < run->scan.nchanges; i++)
		if (outside_selection(run, &run->scan.changes[i], NULL)) {
			strmap_put(&outside, run->scan.changes[i].id, 0);
			left_deleted(run, &run->scan.changes[i]);
		}
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

/* Tells what a dry run would do: apply's own line for each action, the
 * file's path as the run would leave it (not where the scan found it),
 * and the story the run would skip for the same reason. */
static void report_planned(struct run *run, const struct action *a,
			   const struct file_change *fc)
{
	struct err e;

	if (apply_tell(&run->apply, a, fc, state_of(run, a->id), &e))
		count(run, a);
	else
		problem(run, e.msg);
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
		/* new stat data read within a timestamp tick of the change
		 * (git wrote the file just before): read again once past it */
		if (!fsx_stat_equal(&se->st, &ne.st))
			apply_settle_later(&run->apply, se->id, se->path,
					   se->hash, &ne.st, ne.recorded_ns);
	}
	return true;
}

void apply_begin(struct run *run)
{
	run->apply = (struct apply_ctx){
		.c = run->c,
		.rootfd = run->rootfd,
		.journal_fd = run->journal_fd,
		.journal = &run->journal,
		.spares = run->c->home.spare,
		.spares_root = run->c->home.root,
		.store = run->store,
		.run_id = run->run_id,
		.origin_file = run->by_diff ? "git" : "file",
		.report = run->r,
		.counts = run->n,
	};
}

/* Carries out the planned action i, staged in slot; false when the run
 * must stop. */
static bool apply_one(struct run *run, size_t i, size_t slot)
{
	struct apply_ctx *ctx = &run->apply;
	struct action *a = &run->plan[i].a;
	const struct file_change *fc = run->plan[i].fc;
	const struct git_author *who =
		run->by_diff && a->status_changed
			? detect_git_credit(&run->mirrors, run->c, &run->git,
					    fc, a->want.v[SF_STATUS])
			: NULL;
	bool ok = true;
	struct err e;

	ctx->commit_id = who ? who->commit : NULL;
	ctx->author = who ? who->author : NULL;
	ctx->commit_time = who ? who->time : 0;
	switch (apply_staged(ctx, slot, a, run->plan[i].d, state_of(run, a->id),
			     &e)) {
	case APPLY_DONE:
		count(run, a);
		journal_note(run, &run->committed, a->id);
		break;
	case APPLY_SKIPPED:
		/* its data stays untouched on both sides, and its DB change
		 * is seen again by the next run */
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
	if (run->hand_back) {
		*run->hand_back = a->want;
		memset(&a->want, 0, sizeof(a->want));
		run->hand_back = NULL;
	}
	action_finish(a);
	return ok;
}

/* Actions staged at once: their temporary files written, then one flush
 * for all (apply_stage); the batch holds a descriptor for each directory
 * they write in, move from or to. */
#define APPLY_BATCH 128

/* Carries out the actions planned so far, and forgets them: a batch of
 * them at a time, their files' contents made durable at once and their
 * directories fsynced once, before the commit. */
bool apply_planned(struct run *run)
{
	struct apply_ctx *ctx = &run->apply;
	bool ok = true;

	for (size_t from = 0; ok && from < run->nplan; from += APPLY_BATCH) {
		size_t to = run->nplan - from < APPLY_BATCH
				    ? run->nplan
				    : from + APPLY_BATCH;

		for (size_t i = from; i < to; i++)
			apply_stage(ctx, i - from, &run->plan[i].a,
				    run->plan[i].fc,
				    state_of(run, run->plan[i].a.id));
		apply_flush(ctx);
		for (size_t i = from; ok && i < to; i++)
			ok = apply_one(run, i, i - from);
		if (ok && !apply_sync(ctx, run->e))
			ok = false;
	}
	for (size_t i = 0; i < run->nplan; i++)
		action_finish(&run->plan[i].a);
	run->nplan = 0;
	run->hand_back = NULL;
	return ok;
}

/* What follows the last action: the stat data to record, and the commit
 * of the files written. */
bool apply_end(struct run *run)
{
	struct apply_ctx *ctx = &run->apply;

	if (!restat(run) || !apply_settle(ctx, run->e))
		return false;
	/* where a test edits a file whose stat data the run took (the
	 * settle's, or the read back's where it was not racy) */
	test_seam_stop("settled");
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
	cache_loaded(run);
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

	if (!detect_paths(run->c, run->rootfd, NULL, 0, paths, n, NULL, &now,
			  run->e))
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
/* The run's answers to a comparison's questions about the second claims
 * of an id: the same for a walk and for a --git run's paths, so that the
 * hook's run meets git's copies put back as the next scan would. */
static struct detect_asks run_asks(struct run *run)
{
	return (struct detect_asks){
		.copy = deleted_copy,
		.held = held_by_git,
		.moved = killed_move,
		.has = git_has,
		.put = git_put_beside,
		.source = killed_move_source,
		.placed = killed_placed,
		.took = git_took_write,
		.kept = git_kept,
		.ctx = run,
	};
}

static bool detect_by_git(struct run *run, enum sync_status *status)
{
	const struct git_result *g = &run->git;
	const struct detect_asks asks = run_asks(run);
	struct scan_walk *w;
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
		size_t n = g->npaths + run->journal.n + run->journal.nd;
		char **paths = xcalloc(n + 1, sizeof(char *));
		bool ok;

		if (g->npaths) /* paths is NULL when there are none */
			memcpy(paths, g->paths, g->npaths * sizeof(char *));
		for (size_t i = 0; i < run->journal.n; i++)
			paths[g->npaths + i] = (char *)run->journal.v[i].path;
		for (size_t i = 0; i < run->journal.nd; i++)
			paths[g->npaths + run->journal.n + i] =
				(char *)run->journal.d[i].path;
		run->by_diff = true;
		ok = load_state_for(run, paths, n) &&
		     detect_paths(run->c, run->rootfd, run->state, run->nstate,
				  paths, n, &asks, &run->scan, run->e);
		free(paths);
		return ok;
	}
	msg = xasprintf("falling back to a scan: %s", g->fallback);
	note(run, msg);
	free(msg);
	if (first_load(run))
		return run->bulk = true;
	w = detect_walk_start(run->c, run->rootfd, NULL, NULL);
	detect_walk_ask(w, &asks);
	if (!load_state(run)) {
		detect_walk_cancel(w);
		return false;
	}
	return detect_walk_compare(w, run->state, run->nstate, false,
				   &run->scan, run->e);
}

static void note_stray(void *ctx, const char *msg)
{
	note(ctx, msg);
}

/* Notes leftover l in the write journal, durable, before its removal. */
static bool journal_leftover(struct run *run, struct scan_leftover *l,
			     struct err *e)
{
	l->line = leftover_line(run, l);
	return fsx_journal_add(run->journal_fd, l->line, e) &&
	       fsx_journal_sync(run->journal_fd, e);
}

/* Notes in the write journal, durable, that the move of leftover l's
 * story to its path is undone, before its removal. */
static bool journal_undone(struct run *run, const struct scan_leftover *l,
			   struct err *e)
{
	char *line = journal_undone_line(l->id, l->path);
	bool ok = fsx_journal_add(run->journal_fd, line, e) &&
		  fsx_journal_sync(run->journal_fd, e);

	free(line);
	return ok;
}

/* The state entry of id, also before state_by_id is built (index_state,
 * at plan time): a look through the entries, for the few ids that need
 * it; NULL when none, or no state is loaded (the stat cache's walk). */
static const struct state_entry *state_find(const struct run *run,
					    const char *id)
{
	const struct state_entry *se = state_of(run, id);

	for (size_t i = 0; !se && i < run->nstate; i++)
		if (strcmp(run->state[i].id, id) == 0)
			se = &run->state[i];
	return se;
}

/* Whether the story se's file is in the tree elsewhere than path: at a
 * path the scan found, or at the state's, which the scan did not find
 * gone. */
static bool story_elsewhere(const struct run *run, const struct state_entry *se,
			    const char *path)
{
	bool gone = false;

	for (size_t i = 0; i < run->scan.nchanges; i++) {
		const struct file_change *fc = &run->scan.changes[i];

		if (!fc->id || strcmp(fc->id, se->id) != 0)
			continue;
		if (fc->path && strcmp(fc->path, path) != 0)
			return true;
		gone = gone || fc->side == SIDE_DELETED;
	}
	return !gone && strcmp(se->path, path) != 0;
}

/* Removes the directories above path that the journal says a move of
 * id's file made, each once empty, from the deepest up. */
static void remove_made_dirs(struct run *run, const char *id, const char *path)
{
	char *dir = xstrdup(path), *slash;
	struct err e;

	while ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		if (!journal_made_dir(&run->journal, id, dir) ||
		    !fsx_rmdir_beneath(run->rootfd, dir, &e))
			break;
	}
	free(dir);
}

/* Removes the killed run's file at jl's path, untouched (st: its stat
 * data as read), with the directories the run made for it once empty,
 * and says so: "a killed run's uncommitted WHAT of ID, untouched, where
 * no backlog is now (...): removed, WHY". */
static void stray_remove(struct run *run, const struct journal_line *jl,
			 const struct file_stat *st, const char *what,
			 const char *why)
{
	bool stale = false;
	struct err e;
	char *msg;

	if (!run->o->dry_run &&
	    !fsx_unlink_beneath(run->rootfd, jl->path, st, &stale, &e)) {
		if (!stale)
			problem(run, e.msg);
		return;
	}
	msg = xasprintf("%s: a killed run's uncommitted %s of %s, untouched, "
			"where no backlog is now (the change of the "
			"configuration it followed thrown away): %s, %s",
			jl->path, what, jl->id,
			run->o->dry_run ? "would be removed" : "removed", why);
	note(run, msg);
	free(msg);
	if (!run->o->dry_run)
		remove_made_dirs(run, jl->id, jl->path);
}

/* The file a killed run created at jl's path for a row no run agreed on
 * (no state: rendered whole from the row), where no backlog is now: the
 * configuration change it followed thrown away, the walk never meets it,
 * and the run that commits creates the story's file where the row says
 * now. When it holds that write, untouched, it holds the database's
 * values only: removed, as a move's (stray_move). A file a person
 * touched stays. */
static void stray_created(struct run *run, const struct journal_line *jl)
{
	char *text = NULL, hash[BLOBID_HEX];
	const struct journal_line *w;
	struct file_stat st;
	size_t len;

	if (!fsx_read_beneath(run->rootfd, jl->path, &text, &len, &st, NULL))
		return;
	blobid_hex(text, len, hash);
	free(text);
	w = journal_find(&run->journal, hash, jl->id);
	if (!w || strcmp(w->path, jl->path) != 0 || strcmp(w->fields, "*") != 0)
		return;
	stray_remove(run, jl, &st, "new file",
		     "it held the database's values only");
}

/* The file a killed run moved to jl's path, where no backlog is now: the
 * configuration change it followed thrown away (model wide seed 1053's
 * stories/web21), the walk never meets it. When it holds the run's write
 * there untouched, made from the agreed content moved there (so that
 * what the write did not take from the database is the agreed
 * version's, no person's edit the run met), and the story's file is
 * elsewhere, it is clutter that holds nothing the database and the
 * story's file do not: removed, as the other leftovers of a killed run,
 * with the directories the move made once empty. A file a person
 * touched (another content, or stat data changed since the read)
 * stays. */
static void stray_move(struct run *run, const struct journal_line *jl)
{
	const struct state_entry *se = state_find(run, jl->id);
	char *text = NULL, hash[BLOBID_HEX];
	const struct journal_line *w, *from;
	struct file_stat st;
	size_t len;

	if (!se) {
		stray_created(run, jl);
		return;
	}
	if (!se->hash[0] ||
	    !fsx_read_beneath(run->rootfd, jl->path, &text, &len, &st, NULL))
		return;
	blobid_hex(text, len, hash);
	free(text);
	w = journal_find(&run->journal, hash, jl->id);
	from = journal_find(&run->journal, se->hash, jl->id);
	if (!w || strcmp(w->path, jl->path) != 0 || !from ||
	    strcmp(from->path, jl->path) != 0 ||
	    !story_elsewhere(run, se, jl->path))
		return;
	stray_remove(run, jl, &st, "move", "the story's file being elsewhere");
}

/* stray_move for each path of the journal's lines that no backlog's
 * stage holds now; in a run of every backlog, not one that keeps a
 * killed run's leftovers (a dry run only tells). */
static void stray_moves(struct run *run, bool keep)
{
	struct strmap seen;

	if (keep || run->c != run->all || !run->journal.n)
		return;
	strmap_init(&seen, 4);
	for (size_t i = 0; i < run->journal.n; i++) {
		const struct journal_line *jl = &run->journal.v[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *epic = NULL;
		bool located =
			detect_location(run->all, jl->path, &b, &st, &epic);

		free(epic);
		if (located || strmap_get(&seen, jl->path, NULL))
			continue;
		strmap_put(&seen, jl->path, i);
		stray_move(run, jl);
	}
	strmap_finish(&seen);
}

/* Whether the story text (read as the file at path) holds, beside what
 * storysync wrote from the database (se->ours), only git's version from
 * before those writes (se->before): no person's edit that git or the
 * database lacks. The location fields are the path's. */
static bool ours_over_git(struct run *run, const struct state_entry *se,
			  const char *path, const char *text, size_t len)
{
	struct story_doc doc;
	struct story old = {0};
	bool found = false, same;
	struct err e;

	if (!story_parse(&doc, &run->c->dialect, path, text, len, &e))
		return false;
	same = detect_git_version(&run->mirrors, run->c, se->before, path, &old,
				  NULL, &found, &e) &&
	       found;
	for (int f = 0; same && f < SF_COUNT; f++)
		same = f == SF_BACKLOG || f == SF_EPIC ||
		       (f == SF_STATUS && !run->c->dialect.status_from_key) ||
		       (se->ours >> f & 1) ||
		       story_field_equal(&doc.s, &old, f);
	story_finish(&old);
	story_doc_finish(&doc);
	return same;
}

/* The file a run that completed moved or wrote at the path it recorded
 * (reconcile_was: the state's path before this run's configuration
 * followed), where no backlog is now: the configuration change it
 * followed thrown away since (a stash, reset --hard), git's version back
 * elsewhere, and the walk never meets it (model wide seed 1053's
 * stories/web2, discard_config.sh). No journal line is left to say it is
 * storysync's, but the state is: untouched since that run agreed it (its
 * stat data and content the state's), git holding nothing there, and
 * storysync's writes over git's version its only difference from it, it
 * holds nothing git and the database do not; with the story's file
 * elsewhere it is clutter: removed. Its folders stay (which the run made
 * is not known). Else it stays (a person's file, an edit, a copy). */
static void stray_agreed(struct run *run, const struct reconcile_entry *re)
{
	const struct state_entry *se = state_find(run, re->id);
	char *text = NULL, hash[BLOBID_HEX], *msg;
	struct file_stat st;
	bool stale = false, ok;
	size_t len;
	struct err e;

	if (!se || !se->ours || !se->before[0] || !se->hash[0] ||
	    !fsx_read_beneath(run->rootfd, re->was, &text, &len, &st, NULL))
		return;
	blobid_hex(text, len, hash);
	ok = strcmp(hash, se->hash) == 0 && fsx_stat_equal(&st, &se->st) &&
	     story_elsewhere(run, se, re->was) &&
	     !held_by_git(run, re->was, NULL) &&
	     (strcmp(hash, se->before) == 0 ||
	      ours_over_git(run, se, re->was, text, len));
	free(text);
	if (!ok ||
	    (!run->o->dry_run &&
	     !fsx_unlink_beneath(run->rootfd, re->was, &st, &stale, &e))) {
		if (ok && !stale)
			problem(run, e.msg);
		return;
	}
	msg = xasprintf("%s: storysync's file of %s, untouched since the run "
			"that wrote it, where no backlog is now (the change "
			"of the configuration it followed thrown away): %s, "
			"the story's file being elsewhere (it held git's "
			"version and the database's values only)",
			re->was, re->id,
			run->o->dry_run ? "would be removed" : "removed");
	note(run, msg);
	free(msg);
}

/* stray_agreed for each state entry this run's configuration moved from
 * a path no backlog's stage holds now, which no journal line names (a
 * killed run's are stray_moves'); as stray_moves, in a run of every
 * backlog that keeps no leftovers. */
static void strays_agreed(struct run *run, bool keep)
{
	if (keep || run->c != run->all || run->state_later)
		return;
	for (size_t i = 0; i < run->rc.nentries; i++) {
		const struct reconcile_entry *re = &run->rc.entries[i];
		const struct config_backlog *b;
		const struct config_stage *stage;
		char *epic = NULL;
		bool located = !re->was || detect_location(run->all, re->was,
							   &b, &stage, &epic);
		bool journaled = false;

		free(epic);
		for (size_t k = 0; !located && k < run->journal.n; k++)
			journaled |=
				strcmp(run->journal.v[k].path, re->was) == 0;
		if (!located && !journaled)
			stray_agreed(run, re);
	}
}

/* Whether the temporary file t names holds the write x's identity says:
 * the run that made it was killed before it put the write in place. */
static bool temp_holds(const struct run *run, const struct journal_temp *t,
		       const struct journal_ident *x)
{
	struct file_stat st;
	bool found = t->spare ? fsx_spare_stat(run->c->home.spare,
					       run->c->home.root, t->name, &st)
			      : fsx_temp_stat(run->rootfd, t->name, &st);

	return found && st.ino == x->ino && st.mtime_ns == x->mtime_ns &&
	       st.size == x->size;
}

/* The killed runs' writes whose identity was journaled ahead of the rename
 * ("@ ") and which were never put in place: a temporary file the journal
 * names for their story still holds them. Said in the journal, synced,
 * before this run removes any such file (report_scan, the spares'
 * listing), so that a later run, this one killed too, does not take the
 * write for placed (killed_values: the run's value the base of a
 * person's edit of git's, the API's change lost, model seed 1006). */
static void unplaced_writes(struct run *run)
{
	struct buf lines = BUF_INIT;
	struct err e;

	for (size_t i = 0; i < run->journal.ni; i++) {
		const struct journal_ident *x = &run->journal.i[i];

		if (!x->ahead ||
		    !journal_find_ident(&run->journal, x->hash, x->id))
			continue;
		for (size_t k = 0; k < run->journal.nt; k++) {
			const struct journal_temp *t = &run->journal.t[k];
			char *line;

			if (strcmp(t->id, x->id) != 0 || !temp_holds(run, t, x))
				continue;
			journal_set_unplaced(&run->journal, x->hash, x->id);
			line = journal_unplaced_line(x->hash, x->id);
			buf_puts(&lines, line);
			free(line);
			break;
		}
	}
	if (lines.len && run->journal_fd >= 0 &&
	    (!fsx_journal_add(run->journal_fd, lines.data, &e) ||
	     !fsx_journal_sync(run->journal_fd, &e)))
		problem(run, e.msg);
	buf_finish(&lines);
}

/* Removes the temporary files the journal says a killed run made beside
 * the stories (the names journaled before each was made), and no other:
 * a file a person or a commit put there under such a name is not ours
 * (nor followed, a symlink). Kept (said) where keep. */
static void remove_temps(struct run *run, bool keep)
{
	for (size_t i = 0; !run->o->dry_run && i < run->journal.nt; i++) {
		const struct journal_temp *t = &run->journal.t[i];
		struct file_stat st;
		struct err e;
		char *msg;

		/* the spares' own are the spares' listing's; a temporary
		 * file there is out of git's sight: removed in any case */
		if (t->spare) {
			if (t->name[0] == '.' &&
			    !fsx_spare_remove_temp(run->c->home.spare,
						   run->c->home.root, t->name,
						   &e))
				problem(run, e.msg);
			continue;
		}
		if (!fsx_temp_stat(run->rootfd, t->name, &st))
			continue;
		if (keep) {
			msg = xasprintf("%s: a killed run's temporary file: "
					"kept, HEAD being off the last synced "
					"commit's line",
					t->name);
			note(run, msg);
			free(msg);
			/* named still, for the run back on the line */
			msg = journal_temp_note(t->id);
			buf_printf(&run->kept_temps, "%s tree %s\n", msg,
				   t->name);
			free(msg);
		} else if (!fsx_remove_temp(run->rootfd, t->name, &e)) {
			problem(run, e.msg);
		}
	}
}

/* The story file an older binary's temporary file at rel was made for
 * (heap): rel is DIR/.NAME.md.storysync-XXXXXX, the name fsx's atomic
 * write gives (six letters or digits), and this DIR/NAME.md; else NULL. */
static char *temp_story(const char *rel)
{
	static const char tag[] = ".storysync-";
	const char *base = strrchr(rel, '/'), *end;
	size_t n;

	base = base ? base + 1 : rel;
	n = strlen(base);
	if (base[0] != '.' || n < 1 + 3 + sizeof(tag) - 1 + 6)
		return NULL;
	end = base + n - 6;
	for (const char *c = end; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return NULL;
	end -= sizeof(tag) - 1;
	if (strncmp(end, tag, sizeof(tag) - 1) != 0 ||
	    strncmp(end - 3, ".md", 3) != 0 || end - 3 <= base + 1)
		return NULL;
	return xasprintf("%.*s%.*s", (int)(base - rel), rel,
			 (int)(end - base - 1), base + 1);
}

/* Whether hash is the content of the story file at path, as it is now or
 * as the state agreed it there. */
static bool story_bytes(struct run *run, const char *path, const char *hash)
{
	char *text = NULL, now[BLOBID_HEX];
	struct file_stat st;
	size_t len;

	for (size_t i = 0; i < run->nstate; i++)
		if (strcmp(run->state[i].path, path) == 0 &&
		    strcmp(run->state[i].hash, hash) == 0)
			return true;
	if (!fsx_read_beneath(run->rootfd, path, &text, &len, &st, NULL))
		return false;
	blobid_hex(text, len, now);
	free(text);
	return strcmp(now, hash) == 0;
}

/* A temporary file no journal line names, met by the walk: an older
 * binary's (before the journal's "t" lines), killed before its rename,
 * or another's look-alike. Removed only when nothing in it is lost: a
 * regular file (no symlink followed, beneath the root), git holding
 * nothing at its path, named as the atomic write names one beside its
 * story file, and holding that file's bytes, as they are now or as the
 * state agreed them (the killed write, which the run after it made
 * again). Else it stays: a person's, a commit's, or a write no run made
 * again (named with -v, each run). */
static void old_temp(struct run *run, const char *rel)
{
	char *story = temp_story(rel), *text = NULL, hash[BLOBID_HEX], *msg;
	const char *what = NULL;
	struct file_stat st;
	bool stale = false;
	size_t len;
	struct err e;

	for (size_t i = 0; story && i < run->journal.nt; i++)
		if (!run->journal.t[i].spare &&
		    strcmp(run->journal.t[i].name, rel) == 0)
			goto out; /* remove_temps' */
	if (!story ||
	    !fsx_read_beneath(run->rootfd, rel, &text, &len, &st, NULL) ||
	    !S_ISREG(st.mode))
		goto out;
	blobid_hex(text, len, hash);
	if (held_by_git(run, rel, NULL))
		what = "kept, git holding a file there";
	else if (!story_bytes(run, story, hash))
		what = "kept, holding what its story's file does not";
	else if (run->o->dry_run)
		what = "would be removed";
	else if (fsx_unlink_beneath(run->rootfd, rel, &st, &stale, &e))
		what = "removed";
	else if (!stale)
		problem(run, e.msg);
	if (what) {
		msg = xasprintf("%s: a temporary file no journal line names "
				"(an older binary's, killed before its "
				"rename?): %s",
				rel, what);
		note(run, msg);
		free(msg);
	}
out:
	free(text);
	free(story);
}

/* old_temp for each temporary file the walk met, in a run that keeps no
 * killed run's leftovers. */
static void old_temps(struct run *run, bool keep)
{
	for (size_t i = 0; !keep && i < run->scan.ntemps; i++)
		old_temp(run, run->scan.temps[i]);
}

/* What a note of id's leftover adds where its state does not record the
 * path storysync's move took the file from (agreed by a binary before
 * sync_state.before_path): why git's version beside it, wherever it is,
 * was taken for a person's move. */
static const char *source_unknown(const struct run *run, const char *id)
{
	const struct state_entry *se = state_find(run, id);

	return se && se->before[0] && !se->before_path
		       ? "; where storysync's move took the file from is not "
			 "recorded (a state agreed before schema 10, "
			 "PostgreSQL's 6): git's version is taken for a "
			 "person's move, the database's values kept in "
			 "sync_conflicts where they differ"
		       : "";
}

/* What the scan found beside the changes (changed of them): errors, the
 * leftovers of a killed run (removed), files that are not stories. */
void report_scan(struct run *run, size_t changed)
{
	for (size_t i = 0; i < run->scan.nerrors; i++)
		problem(run, run->scan.errors[i].msg);
	/* on a checkout off the synced line, git's checkout put the files
	 * there: a run there changes none of them, its removals held as its
	 * writes are (hold_checkout holds the leftovers' stories); that
	 * commit may hold a killed run's temporary file too, which a person
	 * committed (model seed 156) */
	bool keep = (run->journal.nt || run->scan.nleftovers) && off_line(run);

	/* under the run lock, no other run's write is under way: these are
	 * the leftovers of a killed one, whose writes placed or not are
	 * told first */
	unplaced_writes(run);
	remove_temps(run, keep);
	old_temps(run, keep);
	for (size_t i = 0; i < run->scan.nleftovers; i++) {
		struct scan_leftover *l = &run->scan.leftovers[i];
		struct err e;
		bool stale = false;
		const char *what =
			keep ? "kept, HEAD being off the last synced "
			       "commit's line (the story held)"
			: run->o->dry_run ? "would be removed"
					  : "removed";
		char *msg =
			l->undone
				? xasprintf("%s: a killed run's uncommitted "
					    "move of %s, untouched, beside "
					    "git's version put back at the old "
					    "place and edited since: %s, the "
					    "move undone (it held the agreed "
					    "version and the database's values "
					    "only)",
					    l->path, l->id, what)
			: l->mine
				? xasprintf("%s: storysync's uncommitted file "
					    "of %s, untouched, beside git's "
					    "version a person moved or edited "
					    "since: %s (it held the agreed "
					    "version only)%s",
					    l->path, l->id, what,
					    source_unknown(run, l->id))
				: xasprintf("%s: git's version put back beside "
					    "storysync's uncommitted move of "
					    "it (a discard, not a copy): %s%s",
					    l->path, what,
					    keep || run->o->dry_run
						    ? ""
						    : ", as git holds it");

		note(run, msg);
		free(msg);
		l->kept = keep;
		/* the story as if the killed run had not moved it: its move
		 * line no longer says the file at the old place is a
		 * person's move back (at_base) */
		if (l->undone && !keep)
			journal_move_undo(&run->journal, l->id, l->path);
		if (keep || run->o->dry_run)
			continue;
		/* said durably before the file goes: a run killed after
		 * the removal finds the move undone */
		if (l->undone && !journal_undone(run, l, &e)) {
			problem(run, e.msg);
			continue;
		}
		/* what records git's copy is durable before it is gone: its
		 * record is the transaction's, which may never commit (a
		 * kill, a guard, the database busy), so the next run that
		 * commits records it from the journal. Storysync's own file
		 * held the agreed version only, which the database has */
		if (!l->mine && !l->undone && !journal_leftover(run, l, &e)) {
			problem(run, e.msg);
			continue;
		}
		if (fsx_unlink_beneath(run->rootfd, l->path, &l->st, &stale,
				       &e))
			run->scan.leftovers[i].removed = true;
		else if (!stale)
			problem(run, e.msg);
	}
	stray_moves(run, keep);
	strays_agreed(run, keep);
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
	if (!run->mirrors.head_tree &&
	    !store_meta_get(run->store, "git.head_tree",
			    &run->mirrors.head_tree, run->e))
		return false;
	if (run->o->mode == SYNC_GIT && !run->rc.reread) {
		ok = detect_by_git(run, status);
	} else if (first_load(run)) {
		cache_ahead_cancel(run);
		return run->bulk = true; /* streamed: see import */
	} else {
		/* with the stat cache, a walk that finds every file as it
		 * has them needs no state; without, the walk goes on while
		 * the state loads */
		struct scan_walk *w =
			cache_walk(run, full, run->r ? run->r->progress : NULL);
		const struct detect_asks asks = run_asks(run);

		detect_walk_ask(w, &asks);
		if (run->cache && detect_walk_clean(w, &run->scan))
			ok = run->state_later = true;
		else if ((ok = load_state(run)))
			ok = detect_walk_compare(w, run->state, run->nstate,
						 full, &run->scan, run->e);
		else
			detect_walk_cancel(w);
		/* remembered when files changed, so that the next --git diffs
		 * from here; a no-op run does not pay for opening the repo.
		 * And when the configuration changed: it came with a commit,
		 * which a checkout off the line then leaves (config_held) */
		if (ok && (run->scan.nchanges || run->rc.changed))
			detect_git_head(run->c, &run->git);
	}
	if (!ok)
		return false;
	if (!run->bulk)
		report_scan(run, run->scan.nchanges);
	return true;
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

/* config.since, where the versions of the configuration are read from
 * (reconcile_since): a --backlog run that moves git.last_commit on keeps
 * the commit the last run of every backlog synced, so that a name only a
 * version in between had (a rename and back, A -> B -> A, the API writing
 * B) is still followed by the next run of every backlog (model seed 142:
 * refused by name); a run of every backlog that records HEAD clears it.
 * Read only by a run that records HEAD. */
static bool record_since(struct run *run)
{
	bool partial = run->c != run->all, ok = true;
	char *since = NULL;

	if (partial && !run->last_commit)
		return true;
	if (!store_meta_get(run->store, "config.since", &since, run->e))
		return false;
	if (partial && !(since && *since))
		ok = store_meta_set(run->store, "config.since",
				    run->last_commit, run->e);
	else if (!partial && since && *since)
		ok = store_meta_set(run->store, "config.since", "", run->e);
	free(since);
	return ok;
}

/* Remembers HEAD as the last synced commit, when it moved and the run
 * covered every story path that changed up to it. A diff whose paths were
 * not all applied (a file in error, a change left for later) keeps the old
 * commit, so that the next --git run diffs them again; a scan covered the
 * whole tree, and whatever it could not read it reads again. But an id two
 * files claim keeps it too, scan or diff: which copy is git's version put
 * back is asked of git as what changed since the last synced commit
 * (git_put), and a commit that run did not agree on for that id, a
 * person's edit of git's copy committed with both, would be taken for git's
 * version by the next run and removed (model wider seed 131: the comment
 * lost; the run before had named both). */
static bool record_head(struct run *run)
{
	const char *head = run->git.head;
	bool same = run->last_commit && !strcmp(run->last_commit, head);

	if (!*head || (same && run->c != run->all))
		return true;
	if (run->left_line)
		return true; /* see hold_checkout */
	/* a row refused for a name no version explains keeps the commit
	 * its versions are read from (the note of them, below "A change of
	 * the configuration" in design.md), as a run that read HEAD for no
	 * file did before head_for_record */
	if (run->head_late && run->nrefused)
		return true;
	if ((run->by_diff && (run->n->errors || run->deferred)) ||
	    run->scan.nclaimed) {
		if (!same)
			note(run, "the last synced commit stays: not every "
				  "changed story was applied");
		return true;
	}
	return record_since(run) &&
	       (same ||
		store_meta_set(run->store, "git.last_commit", head, run->e));
}

/* HEAD for record_head, read after the walk by a scan that found no file
 * changed (detect_files reads it when one did) but goes on to write: the
 * rows' changes. Such a run covered the whole tree as much, and left the
 * last synced commit behind HEAD: a commit since (an amend, or one of
 * storysync's own writes) then kept every later run with a row changed
 * asking libgit2 whether HEAD left the line (off_line), and a rename
 * committed after the amend, the API writing its name, was refused as
 * no version's, its history read from a commit gone from the line
 * (model seed 1404). From git's files only (githead_read): where they
 * are not plain, or there is no git, the run records no HEAD, as
 * before, and loads no libgit2 for it; nor while it refuses a row
 * (record_head). */
static void head_for_record(struct run *run)
{
	char head[GITHEAD_HEX];

	if (run->git.head[0] || run->by_diff || run->o->dry_run ||
	    !githead_read(run->c->root, head))
		return;
	memcpy(run->git.head, head, sizeof(head));
	run->head_late = true;
}

/* Keeps HEAD's tree (sync_meta git.head_tree, "COMMIT TREE"), asked of
 * the git module when it is loaded anyway, else read from git's files
 * (githead.c, gitobj.c) when they are plain, for the later runs that write the
 * API's edits to files: they then read HEAD's versions of those files from
 * git's index (detect_git_blob), not through libgit2, whose loading was a tenth
 * of such a run's CPU. A commit's tree never changes: the value is right
 * for as long as HEAD is that commit, and unused once it is not. */
static bool record_head_tree(struct run *run)
{
	char head[GITHEAD_HEX], tree[GITOBJ_HEX];
	const char *k = run->mirrors.head_tree;
	char *v = NULL;
	bool ok = true;

	if (gitrepo_loaded()) {
		v = detect_git_head_tree(&run->mirrors, run->c, NULL);
	} else if (githead_read(run->c->root, head)) {
		/* without libgit2: HEAD from git's files, and its commit's
		 * tree from the object store, only when the noted value is
		 * of another commit (a few file reads; else nothing) */
		if (k && strncmp(k, head, GITHEAD_HEX - 1) == 0 &&
		    k[GITHEAD_HEX - 1] == ' ')
			return true;
		if (gitobj_commit_tree(run->c->root, head, tree))
			v = xasprintf("%s %s", head, tree);
	}
	if (v &&
	    (!run->mirrors.head_tree || strcmp(v, run->mirrors.head_tree) != 0))
		ok = store_meta_set(run->store, "git.head_tree", v, run->e);
	free(v);
	return ok;
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
	 * plain; libgit2 otherwise (detect_git_head) */
	detect_git_head(run->c, &run->git);
	if (strcmp(run->git.head, run->last_commit) != 0 ||
	    !store_clock_moved(run->store, &moved, NULL) || moved)
		return false;
	note(run, "HEAD is the last synced commit and no row changed: "
		  "nothing to do");
	return true;
}

/* The run's transaction begun: its row, and the configuration. */
bool open_run(struct run *run)
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
	/* the temporary files kept: their lines stay, the run back on the
	 * line removes them (a story's kept lines have them already) */
	for (const char *l = run->kept_temps.data; l && *l;) {
		const char *nl = strchr(l, '\n');
		const char *id = l + 2, *sp = strchr(id, ' ');
		char *sid = xstrndup(id, (size_t)(sp - id));

		if (!journal_keeps(run, sid)) {
			char *more =
				xasprintf("%s%.*s", kept, (int)(nl + 1 - l), l);

			free(kept);
			kept = more;
		}
		free(sid);
		l = nl + 1;
	}
	if (*kept)
		fsx_journal_replace(run->c->home.root, run->journal_path, kept,
				    NULL);
	else
		fsx_journal_reset(run->journal_fd, NULL);
	free(kept);
	free(text);
}

/* Everything applied: the refusals, the mark, HEAD and the run's row, then
 * the commit. */
bool close_run(struct run *run, int64_t applied_at, int64_t cpu_at)
{
	bool dirty = run->napplied || run->db.n;

	if (!record_refusals(run) || !record_replayed(run))
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
	if (!record_head(run) || !record_head_tree(run))
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

/* The state entries at the paths the changed rows take, beside those of
 * the rows' ids that detect_db found. */
static bool state_at_rows(struct run *run)
{
	struct strmap have;
	bool ok = true;

	strmap_init(&have, run->table.n + run->db.n);
	for (size_t i = 0; i < run->table.n; i++)
		strmap_put(&have, run->table.v[i].path, i);
	for (size_t i = 0; ok && i < run->db.n; i++) {
		const char *path = run->db.rows[i].path;

		if (!path || strmap_get(&have, path, NULL))
			continue;
		strmap_put(&have, path, i);
		ok = store_state_find(run->store, path, NULL, &run->table,
				      run->e);
	}
	strmap_finish(&have);
	return ok;
}

/* The rows the plan writes, locked before the first is written, in the
 * order an API's writers lock theirs (store_lock_stories). */
static bool lock_planned(struct run *run)
{
	char **ids = xcalloc(run->nplan + 1, sizeof(*ids));
	bool ok;

	for (size_t i = 0; i < run->nplan; i++)
		ids[i] = run->plan[i].a.id;
	ok = store_lock_stories(run->store, ids, run->nplan, run->e);
	free(ids);
	return ok;
}

/* The versions read late rename what rows hold: the rows follow, the
 * configuration is recorded, and the DB side read again. */
static bool follow_late(struct run *run)
{
	char *msg = reconcile_describe(&run->rc);

	if (msg)
		note(run, msg);
	free(msg);
	/* the versions were followed up to HEAD: the next run reads from
	 * there (as a run whose configuration changed) */
	if (!run->git.head[0])
		detect_git_head(run->c, &run->git);
	db_result_finish(&run->db);
	if ((!run->o->dry_run &&
	     !reconcile_record(&run->rc, run->store, run->e)) ||
	    !reconcile_apply(&run->rc, &run->apply, &run->table, &run->scan,
			     run->o->dry_run, reconcile_problem, run, run->e))
		return false;
	run->napplied = run->rc.napplied;
	return detect_db(run->store, &run->table, !run->partial_state,
			 run->o->mode == SYNC_FULL, &run->db, run->e);
}

/* A changed row naming a status or backlog the configuration has not,
 * while the record is the configuration (detect read no history): renames
 * made and undone between two runs (A -> B -> A), the API writing the name
 * in between. The versions committed since are read only now (a no-op
 * loads no libgit2), the rows follow them as reconcile_apply has them
 * follow any rename, and the DB side is read again. The names they leave
 * unknown are noted with the commits read, so that the runs that refuse
 * such a row again read them only once HEAD moved or another name came
 * (issue 19). A --backlog run leaves it to a run of every backlog (the
 * row refused by name). */
static bool late_history(struct run *run)
{
	char **names, *since = NULL;
	bool spared = false, ok = false;

	/* read already (the record is not the configuration): nothing new */
	if (run->c != run->all || run->rc.history_read)
		return true;
	names = reconcile_unknown_names(&run->rc, &run->db);
	if (names && !names[0]) {
		free(names);
		return true;
	}
	/* from where the last run of every backlog synced (config.since) */
	if (!reconcile_since(run->store, &since, run->e) ||
	    !reconcile_history_spared(&run->rc, run->store, since, names,
				      &spared, run->e))
		goto done;
	if (spared || !reconcile_history_late(&run->rc, since)) {
		ok = spared || run->o->dry_run ||
		     reconcile_history_unexplained(&run->rc, run->store, since,
						   names, run->e);
		goto done;
	}
	ok = follow_late(run);
	strv_free(names);
	names = ok ? reconcile_unknown_names(&run->rc, &run->db) : NULL;
	if (ok && names && names[0] && !run->o->dry_run)
		ok = reconcile_history_unexplained(&run->rc, run->store, since,
						   names, run->e);
done:
	free(since);
	strv_free(names);
	return ok;
}

/* Sets *v to now when it differs (heap). */
static void set_if_other(char **v, const char *now)
{
	if (*v && now && strcmp(*v, now) != 0) {
		char *was = *v;

		*v = xstrdup(now);
		free(was);
	}
}

/* --dry-run: the changed rows as reconcile_apply would have left them (it
 * only counted): their status, backlog and path under the names now, so
 * that the plan is the one the run would make, not a refusal of a row
 * that holds a name the configuration renamed. */
static void dry_relocate(struct run *run)
{
	for (size_t i = 0;
	     run->o->dry_run && run->rc.relocates && i < run->db.n; i++) {
		struct db_side *d = &run->db.rows[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *to = NULL;

		if (d->side == SIDE_DELETED)
			continue;
		set_if_other(&d->story.v[SF_STATUS],
			     reconcile_status(&run->rc, d->story.v[SF_STATUS]));
		set_if_other(
			&d->story.v[SF_BACKLOG],
			reconcile_backlog(&run->rc, d->story.v[SF_BACKLOG]));
		if (reconcile_path(&run->rc, d->path, &to, &b, &st) ==
		    RECONCILE_MOVED)
			set_if_other(&d->path, to);
		free(to);
	}
}

static bool in_transaction(struct run *run, enum sync_status *status)
{
	int64_t t, cpu;

	if (!open_run(run))
		goto fail;
	/* the copies git put back that the scan removed, as storysync's
	 * deletions: git putting them back again is no person's copy */
	if (!run->o->dry_run && !record_leftovers(run))
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
		       run->o->mode == SYNC_FULL, &run->db, run->e) ||
	    !late_history(run))
		goto fail;
	dry_relocate(run);
	/* no file changed: the state entries of the changed rows, and of
	 * the stories at the paths they take, as a --git run has them */
	if (run->state_later && run->partial_state && !state_at_rows(run))
		goto fail;
	state_view(run); /* the DB's changes may have added entries */
	run->n->file_changes = (long)(run->scan.nchanges + run->scan.nerrors);
	run->n->row_changes = (long)run->db.n;
	if (!plan_all(run) || !replay_gone(run))
		goto fail;
	run->apply.replayed = run->replayed;
	run->apply.nreplayed = run->nreplayed;
	if (!run->o->force && (!guard_deletes(run) || !guard_stages(run))) {
		*status = SYNC_GUARDED;
		goto fail;
	}
	if (run->o->dry_run) {
		if (!record_redeleted(run))
			goto fail;
		for (size_t i = 0; i < run->nplan; i++)
			report_planned(run, &run->plan[i].a, run->plan[i].fc);
		store_rollback(run->store);
		return true;
	}
	/* before the apply: an archived deletion this run applies was
	 * pending when it began, and is kept at least until the next one */
	if (!prune(run) || !lock_planned(run) || !record_redeleted(run) ||
	    !record_gone(run))
		goto fail;
	t = fsx_now_ns();
	cpu = fsx_thread_cpu_ns();
	run->napplied += run->nplan;
	if (!apply_planned(run))
		goto fail;
	/* the files written and moved, nothing committed */
	test_seam_kill("after-writes");
	test_seam_stop("after-writes"); /* where a test edits a file written */
	if (!apply_end(run) || !close_run(run, t, cpu))
		goto fail;
	return true;
fail:
	store_rollback(run->store);
	return false;
}

static void run_finish(struct run *run)
{
	cache_ahead_cancel(run); /* its threads use rootfd */
	for (size_t i = 0; i < run->nplan; i++)
		action_finish(&run->plan[i].a);
	free(run->plan);
	free(run->refused);
	free(run->replayed);
	free(run->redeleted);
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
	buf_finish(&run->kept_temps);
	arena_finish(&run->journal_ids);
	free(run->journal_path);
	if (run->journal_fd >= 0)
		close(run->journal_fd);
	state_table_finish(&run->table);
	if (run->rootfd >= 0)
		close(run->rootfd);
	/* the database closed (its checkpoint's fsyncs) before the batch
	 * joins its reapers, whose closes free the files the renames
	 * replaced: the two wait for the disk side by side */
	store_close(run->store);
	apply_ctx_finish(&run->apply);
	fsx_preflush_finish(run->preflush);
	statcache_close(run->cache);
	buf_finish(&run->messages);
}

void sync_host(char *out, size_t size)
{
	if (gethostname(out, size) != 0 || !*out)
		snprintf(out, size, "localhost");
	out[size - 1] = '\0';
}

/* The database lies inside the tree (the default .storysync/): it goes
 * wherever the tree goes, and a copy of both is a pair of its own, not a
 * second checkout of one tree: the checkout there is simply taken over. */
static bool db_in_tree(const struct config *c)
{
	size_t n = strlen(c->root);

	return strncmp(c->database, c->root, n) == 0 &&
	       (c->database[n] == '/' || (n && c->root[n - 1] == '/'));
}

/* The refusal of a tree another checkout holds (e, and false). */
static bool held_elsewhere(const struct config *c, const char *holder,
			   const char *host, struct err *e)
{
	return err_set(e,
		       "tree '%s' of %s is synced by the checkout %s, not "
		       "this one (%s:%s): nothing written. To sync it from "
		       "here instead, run 'storysync init --take-over' here "
		       "(its next run reads every file again). If this is "
		       "another tree that shared the database before trees "
		       "had names, give it one of its own (tree: NAME in "
		       "%s); never --force",
		       c->tree, c->home.shown, holder, host, c->root, c->file);
}

/* The refusal of a configuration whose tree: is not the tree this
 * checkout syncs, other (e, and false): a renamed tree is not followed,
 * or the API's rows of the old name would be synced by no one, silently. */
static bool renamed_here(const struct config *c, const char *other,
			 const char *host, struct err *e)
{
	return err_set(e,
		       "%s names tree '%s', but this checkout (%s:%s) syncs "
		       "tree '%s' of %s: nothing written. A tree renamed in "
		       "the configuration is not followed: put 'tree: %s' "
		       "back, or, to sync tree '%s' from here instead, run "
		       "'storysync init --take-over' here (tree '%s' is "
		       "then synced by no checkout: its rows stay in the "
		       "database, and no file gets the API's edits of them)",
		       c->file, c->tree, host, c->root, other, c->home.shown,
		       other, c->tree, other);
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

bool sync_init(const struct config *c, bool take_over, int *version,
	       bool *ignored, bool *refused, bool *moved, struct err *e)
{
	struct store *s = NULL;
	char host[256], *holder = NULL, *other = NULL;
	bool ok;

	*refused = *moved = false;
	sync_host(host, sizeof(host));
	ok = dbhome_make(&c->home, e) &&
	     store_create(&s, c->database, c->busy_wait_s * 1000, e) &&
	     store_set_tree(s, c->tree, e) &&
	     (take_over || store_tree_other(s, host, c->root, &other, e));
	if (ok && other) {
		*refused = true;
		ok = renamed_here(c, other, host, e);
	}
	ok = ok &&
	     store_tree_claim(s, host, c->root, take_over || db_in_tree(c),
			      &holder, moved, e);
	if (ok && holder) {
		*refused = true;
		ok = held_elsewhere(c, holder, host, e);
	}
	/* the checkout moves to this tree: the one it synced is no one's */
	ok = ok && (!take_over || store_tree_release(s, host, c->root, e));
	free(other);
	free(holder);
	ok = ok && init_record(s, c, e);
	*version = s ? store_schema_version(s) : 0;
	store_close(s);
	/* the database there is the one to sync, whichever file it is
	 * (same_database): the next run records it */
	return ok && run_record_forget_database(&c->home, e) &&
	       dbhome_ignore(&c->home, c->root, ignored, e);
}

/* A journal with lines must be storysync's: the database's directory is
 * ignored, and git overwrites an ignored file when a branch it checks out
 * (or merges) tracks that path, so a journal git tracks came from the
 * repository, its lines anyone's (conflicts and deletions recorded, files
 * taken for a killed run's). Asked only when there are lines: git's index
 * is not read by a run with none; before they are read (a journal from
 * the repository may be of any size). */
static bool journal_untracked(struct run *run, const char *path, int fd,
			      struct err *e)
{
	struct stat st;
	struct err why = {0};
	bool tracked = false;

	if (fstat(fd, &st) < 0 || st.st_size == 0)
		return true;
	/* an index libgit2 cannot read (a split index) would refuse every
	 * run, the killed run's writes never finished: HEAD answers then */
	if (!dbcheck_git_tracks(path, &tracked, &why, e))
		return false;
	if (why.msg[0] && !tracked) {
		char *m = xasprintf("%s: whether git's index tracks it is not "
				    "known (%s): HEAD does not hold it, its "
				    "lines are read",
				    path, why.msg);

		note(run, m);
		free(m);
	}
	if (tracked)
		return err_set(
			e,
			"%s: git tracks this file, storysync's write "
			"journal: its lines came from the repository and "
			"are not read; nothing written: untrack it (git rm "
			"--cached) and remove it",
			path);
	return true;
}

/* The database's place checked (dbcheck.h): refused (exit 4) when the
 * file is not the one the runs here synced, or git tracks it; warned of
 * when git tracks any of its files. */
static bool same_database(struct run *run, enum sync_status *status)
{
	const struct dbcheck_report r = {
		.ctx = run, .note = run_note, .warning = run_warning};
	bool refused;

	if (dbcheck_same(run->c, &run->db_file, &run->db_confirmed, &refused,
			 &r, &run->index_none, run->e))
		return true;
	if (refused)
		*status = SYNC_GUARDED;
	return false;
}

/* The write journal (a dry run only reads it). */
static bool open_journal(struct run *run)
{
	char *text = NULL;
	bool ok;

	run->journal_path = xstrdup(run->c->home.writes);
	run->journal_fd = fsx_journal_open(run->c->home.root, run->journal_path,
					   !run->o->dry_run, run->e);
	if (run->journal_fd < 0 && run->o->dry_run &&
	    (errno == ENOENT || errno == EACCES))
		ok = true; /* nothing was ever written, or not ours to read */
	else
		ok = run->journal_fd >= 0 &&
		     journal_untracked(run, run->journal_path, run->journal_fd,
				       run->e) &&
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
	       !run->scan.nchanges && !run->scan.nerrors &&
	       !run->scan.nleftovers && journal_empty(&run->journal) &&
	       store_clock_moved(run->store, &moved, NULL) &&
	       !(run->clock_moved = moved) && !run->rc.changed;
}

/* The writer wait: --wait's, else the configuration's. */
static int busy_ms(const struct config *c, const struct sync_options *o)
{
	if (o->wait_s == 0)
		return -1;
	return (o->wait_s > 0 ? o->wait_s : c->busy_wait_s) * 1000;
}

/* The run lock, held from here to the end (*lockfd), or for a dry run, a
 * report that writes nothing, only found free. False, with *status and
 * e set, when another run holds it or it cannot be taken. */
static bool take_lock(struct run *run, int *lockfd, enum sync_status *status)
{
	const struct dbhome *h = &run->all->home;

	if (run->o->dry_run) {
		if (!dbhome_lock_held(h))
			return true;
	} else {
		*lockfd = dbhome_lock(h, run->o->wait_s, run->e);
		if (*lockfd >= 0)
			return true;
		if (*lockfd != -2) {
			if (errno == EACCES || errno == EPERM || errno == EROFS)
				err_set(run->e,
					"%s: %s (this user must be able to "
					"write the database's directory)",
					h->lock, strerror(errno));
			return false;
		}
	}
	*status = SYNC_LOCKED;
	return err_set(run->e, "another storysync run holds %s", h->lock);
}

/* The checkout other than this one registered for c's tree, as
 * "HOST:PATH" into *holder (heap; NULL when none or this one). */
static bool registered_elsewhere(struct store *s, const struct config *c,
				 const char *host, char **holder, struct err *e)
{
	struct tree_info *t;
	size_t n;

	*holder = NULL;
	if (!store_trees_list(s, &t, &n, e))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, c->tree) == 0 && t[i].host && t[i].path &&
		    (strcmp(t[i].host, host) != 0 ||
		     strcmp(t[i].path, c->root) != 0))
			*holder = xasprintf("%s:%s", t[i].host, t[i].path);
	store_trees_free(t, n);
	return true;
}

/* The refusals of a checkout that another holds c's tree for (asked only
 * with holder_too: a run's claim finds it itself), or that syncs another
 * tree (*refused, e, false). */
static bool checkout_check(struct store *s, const struct config *c,
			   const char *host, bool holder_too, bool *refused,
			   struct err *e)
{
	char *other = NULL, *holder = NULL;
	bool ok;

	*refused = false;
	ok = store_tree_other(s, host, c->root, &other, e);
	if (ok && other) {
		*refused = true;
		ok = renamed_here(c, other, host, e);
	}
	/* a database inside the tree goes with it: a copy's first run
	 * takes the checkout over (store_tree_claim) */
	ok = ok && (!holder_too || db_in_tree(c) ||
		    registered_elsewhere(s, c, host, &holder, e));
	if (ok && holder) {
		*refused = true;
		ok = held_elsewhere(c, holder, host, e);
	}
	free(holder);
	free(other);
	return ok;
}

bool sync_checkout_check(struct store *s, const struct config *c, bool *refused,
			 struct err *e)
{
	char host[256];

	sync_host(host, sizeof(host));
	return checkout_check(s, c, host, true, refused, e);
}

/* This checkout holds the run's tree: registered by its first run, and
 * refused (exit 4, before anything is written) when another holds it, or
 * when this checkout syncs another tree (a renamed tree:). */
static bool claim_tree(struct run *run, const struct config *c,
		       enum sync_status *status)
{
	char host[256], *holder = NULL;
	bool moved = false, refused = false;

	sync_host(host, sizeof(host));
	/* a dry run (status's too) writes nothing: it only tells that the
	 * run would be refused */
	if (!checkout_check(run->store, c, host, run->o->dry_run, &refused,
			    run->e)) {
		if (refused)
			*status = SYNC_GUARDED;
		else if (store_busy(run->store))
			*status = SYNC_BUSY;
		return false;
	}
	if (run->o->dry_run)
		return true;
	if (!store_tree_claim(run->store, host, c->root, db_in_tree(c), &holder,
			      &moved, run->e)) {
		if (store_busy(run->store))
			*status = SYNC_BUSY;
		return false;
	}
	if (!holder)
		return true;
	*status = SYNC_GUARDED;
	held_elsewhere(c, holder, host, run->e);
	free(holder);
	return false;
}

/* Everything before detect: the selection, the run lock, the database,
 * the tree and the journal. False when the run ends here, with *status
 * (and e) saying how; nothing is recorded in the database then. */
static bool start(struct run *run, const struct config *c, int *lockfd,
		  enum sync_status *status)
{
	const struct sync_options *o = run->o;
	bool busy = false;

	*status = SYNC_USAGE;
	if (!select_backlogs(run, c, o))
		return false;
	oom_run = run;
	mem_on_oom(out_of_memory);
	run->rec.started_ns = fsx_now_ns();
	run->rec.mode = mode_name(o);
	if (!dbhome_need(&c->home, run->e))
		return false;
	*status = SYNC_FATAL;
	if (!take_lock(run, lockfd, status) || !same_database(run, status))
		return false;
	cache_walk_ahead(run);
	if (!store_open_as(&run->store, c->database, busy_ms(c, o), o->dry_run,
			   &busy, run->e)) {
		if (busy)
			*status = SYNC_BUSY;
		return false;
	}
	if (!store_set_tree(run->store, c->tree, run->e) ||
	    !claim_tree(run, c, status))
		return false;
	if (o->mode == SYNC_GIT && !o->dry_run && git_up_to_date(run)) {
		*status = SYNC_OK;
		return false;
	}
	if (run->rootfd < 0)
		run->rootfd = fsx_open_root(c->root, run->e);
	return run->rootfd >= 0 && open_journal(run);
}

/*
 * A configuration that is not the one synced, on a checkout off the
 * synced line (hold_checkout): it came with the commit checked out, as
 * git's versions of the files did, and is no admin's change. Following
 * it would move every row to that commit's layout, and back on the branch
 * the change since would be two at once (a stage's name and its
 * directory) that no run can pair: every run stopped until --force
 * deleted the rows (model seed 2). The run holds every story, writes
 * nothing and keeps the last synced commit, until HEAD comes back or
 * sync --git follows the checkout.
 */
static bool config_held(struct run *run)
{
	if (!run->rc.changed || !off_line(run))
		return false;
	note(run, "HEAD is off the last synced commit's line (a checkout "
		  "of another commit or branch) and its configuration is not "
		  "the one synced: every story held, nothing written, until "
		  "HEAD comes back or sync --git follows the checkout");
	return true;
}

/* detect -> guards -> plan -> apply, once start has opened everything;
 * a run that fails here leaves its row, unless it was busy. */
static enum sync_status steps(struct run *run)
{
	enum sync_status status = SYNC_FATAL;

	if (!detect_files(run, &status))
		goto failed;
	if (config_held(run))
		return SYNC_OK;
	if (run->bulk) {
		if (!import(run))
			goto failed;
		return run->n->errors ? SYNC_SKIPPED : SYNC_OK;
	}
	if (!run->o->force &&
	    (!reconcile_guard(&run->rc, &run->scan, run->rootfd, run->e) ||
	     !guard_backlogs(run))) {
		status = SYNC_GUARDED;
		goto failed;
	}
	if (quiet(run)) {
		note(run, "nothing changed on either side: nothing written");
		return SYNC_OK;
	}
	head_for_record(run);
	/* rows changed: their files' barrier then waits for their own
	 * writeback, not for what others left dirty (fsx_preflush_start) */
	if (run->clock_moved && !run->o->dry_run)
		run->preflush = fsx_preflush_start(run->rootfd);
	/* and HEAD's versions of their files (set_before), read beside the
	 * reads of the rows */
	if (run->clock_moved)
		detect_git_index_ahead(&run->mirrors, run->c);
	/* the walk was the stat cache's, and the rows changed (or the
	 * configuration, which may move every file: all of it then) */
	if (run->state_later && run->rc.changed && !load_state(run))
		goto failed;
	if (run->state_later && !run->rc.changed) {
		run->partial_state = true;
		state_view(run);
	}
	if (!in_transaction(run, &status))
		goto failed;
	return run->n->errors ? SYNC_SKIPPED : SYNC_OK;
failed:
	/* busy: the next run is the retry, and a row would wait again */
	if (store_busy(run->store))
		return SYNC_BUSY;
	record_failure(run, status == SYNC_GUARDED ? 4
			    : status == SYNC_USAGE ? 2
						   : 3);
	return status;
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
	enum sync_status status;
	int lockfd = -1;

	memset(n, 0, sizeof(*n));
	if (start(&run, c, &lockfd, &status)) {
		status = steps(&run);
		cache_keep(&run, status);
	}
	mem_on_oom(NULL);
	oom_run = NULL;
	n->commit_unknown =
		status == SYNC_FATAL && store_commit_unknown(run.store);
	if (run.bulk)
		store_bulk(run.store, false, NULL);
	if (lockfd >= 0)
		update_run_record(&run, status);
	run_finish(&run);
	dbhome_unlock(lockfd);
	return status;
}
