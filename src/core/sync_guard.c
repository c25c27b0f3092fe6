/* sync_guard.c: the guards: what stops a run before it writes (exit 4, --force
 * goes on) (sync_impl.h). */
#include "sync_impl.h"

/* Share of all stories one run may delete without --force. */
#define GUARD_DELETE_SHARE 50

/* The stories each backlog and each of its stage directories lost: their
 * files are gone, and no file anywhere claims their id (a story moved to
 * another folder is no loss), the run does not hold them (a checkout off
 * the synced line of a commit without their folder: git's doing, no half
 * copy, and nothing is deleted), and no killed run deleted them for the
 * API (file_change.not_vanished). vb[b], and vs[b * nstages + s] unless
 * NULL. */
static void count_vanished(const struct run *run, size_t *vb, size_t *vs)
{
	const struct config *c = run->c;

	for (size_t i = 0; i < run->scan.nchanges; i++) {
		const struct file_change *fc = &run->scan.changes[i];
		const struct config_backlog *b;
		const struct config_stage *st;
		char *epic = NULL;

		if (fc->side != SIDE_DELETED || !fc->old_path ||
		    fc->not_vanished ||
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
bool guard_backlogs(struct run *run)
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
bool guard_stages(struct run *run)
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
bool guard_deletes(struct run *run)
{
	size_t deletes = 0;

	for (size_t i = 0; i < run->nplan; i++)
		/* a file git put back over storysync's deletion of it
		 * (plan_input.undeleted) is no story deleted */
		if (run->plan[i].a.db == PLAN_DB_DELETE ||
		    (run->plan[i].a.file == PLAN_FILE_DELETE &&
		     run->plan[i].a.state == PLAN_STATE_FORGET))
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
