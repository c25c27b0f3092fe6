/* sync_discard.c: a discard of storysync's own writes, told from a person's
 * edit (sync_impl.h). */
#include "sync_impl.h"

/* Whether the file fc is a discard of storysync's own writes: the
 * version git's index held before them (se->before) is back, at the
 * story's path or where the index holds it, which is no one's edit of the
 * fields storysync wrote. */
bool discarded(struct run *run, const struct file_change *fc,
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
bool rebased(struct run *run, const struct file_change *fc,
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
void doubt_rebased(const struct plan_input *in, struct action *a)
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
void set_before(struct run *run, const struct file_change *fc,
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
