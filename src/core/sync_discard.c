/* sync_discard.c: a discard of storysync's own writes, told from a person's
 * edit (sync_impl.h). */
#include "sync_impl.h"

#include <fcntl.h>

/* Whether git's index or HEAD holds blob at path: where a discard puts
 * it back. */
static bool git_holds(struct run *run, const char *path, const char *blob)
{
	char v[BLOBID_HEX];
	struct err e;

	return (detect_git_blob(&run->mirrors, run->c, path, GIT_INDEX, v,
				&e) &&
		strcmp(v, blob) == 0) ||
	       (detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, v, &e) &&
		strcmp(v, blob) == 0);
}

/* Whether a person changed path in git since the commit since (a
 * first-parent commit after it, a staged change), a move from was (NULL:
 * none) not counted: git's version there is then theirs, not one a
 * discard put back. When git cannot say, so. */
static bool changed_since(struct run *run, const char *path, const char *was,
			  const char *since)
{
	bool changed = true;
	struct err e;

	return !detect_git_path_changed(&run->mirrors, run->c, path, was, since,
					&changed, &e) ||
	       changed;
}

/* The same, where a configuration change since the last run that moved
 * path's directory (git mv'd, committed or staged) moved git's version
 * with it, no one's edit: the version is followed to where the last run
 * had it (model seed 1053: a stage's directory renamed after a stash had
 * put git's version back beside storysync's move, which took the API's
 * backlog). */
static bool path_changed_since(struct run *run, const char *path,
			       const char *since)
{
	char *was = reconcile_path_recorded(&run->rc, path);
	bool changed = changed_since(run, path, was, since);

	free(was);
	return changed;
}

/* The same, since the last run that recorded a commit. */
static bool path_changed(struct run *run, const char *path)
{
	return run->last_commit &&
	       path_changed_since(run, path, run->last_commit);
}

/* Whether git holds no version of path, neither in the index nor in
 * HEAD. When git cannot say, not. */
static bool git_holds_none(struct run *run, const char *path)
{
	char v[BLOBID_HEX];
	struct err e;

	return detect_git_blob(&run->mirrors, run->c, path, GIT_INDEX, v, &e) &&
	       !v[0] &&
	       detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, v, &e) &&
	       !v[0];
}

/* Whether git's one change to path since the commit since removed blob
 * (added false: the removal staged, or committed with commit -a) or added
 * it. When git cannot say, not. */
static bool one_change(struct run *run, const char *path, const char *blob,
		       const char *since, bool added)
{
	bool only = false;
	struct err e;

	return detect_git_path_one_change(&run->mirrors, run->c, path, blob,
					  since, added, &only, &e) &&
	       only;
}

/* Whether git's version blob of the file at path is one git put there
 * (a discard: reset --hard, stash, checkout --, restore), not a person's
 * move of it: git holds it there, unchanged since the commit since (NULL:
 * no commit recorded), or, where the configuration moved path's directory
 * since the last run and the admin moved it by hand (mv, git not told),
 * it is git's version of the path the last run had it at: git holds it
 * there, unchanged since, or git's one change there since removed it (the
 * move staged with add -u, or committed with commit -a) and git holds
 * nothing at path or only added it there since. The file's bytes decide,
 * not whether git tracks its new place (issue 19: the API's backlog was
 * lost with no sync_conflicts row), nor whether history was rewritten
 * since (an amend, a rebase: "since" is then that commit's tree against
 * HEAD's, see gitrepo.h). */
static bool git_put(struct run *run, const char *path, const char *blob,
		    const char *since)
{
	bool held = git_holds(run, path, blob);
	char *was;
	bool yes;

	if (held && (!since || !path_changed_since(run, path, since)))
		return true;
	was = reconcile_path_recorded(&run->rc, path);
	yes = was && ((!held && git_holds(run, was, blob) &&
		       (!since || !changed_since(run, was, NULL, since))) ||
		      (since && one_change(run, was, blob, since, false) &&
		       (held ? one_change(run, path, blob, since, true)
			     : git_holds_none(run, path))));
	free(was);
	return yes;
}

/* Whether git took storysync's write of se (its content at its path),
 * staged or committed since it was written (a day's slack for the
 * clocks): a version a person made after that is theirs, never a
 * discard. A commit older than the version the write was made over
 * (se->before, found at or below the last commit a run recorded, which
 * it saw at or after the write) that holds the same content (the API
 * wrote an older version's values back, model seed 24) took nothing.
 * When git cannot say, not. */
static bool write_taken(struct run *run, const struct state_entry *se)
{
	return git_took_write(run, se, NULL);
}

/* Whether the file fc is a discard of storysync's own writes: the
 * version HEAD held before them (se->before) is back, at the story's path
 * or where git holds it unchanged since the last run, and git has not
 * taken the writes: no one's edit of the fields storysync wrote. */
bool discarded(struct run *run, const struct file_change *fc,
	       const struct state_entry *se)
{
	char *msg;

	if (!se || !se->ours || !se->before[0] || fc->side != SIDE_CHANGED ||
	    strcmp(fc->hash, se->before) != 0)
		return false;
	/* git puts its version back where it holds it: elsewhere, the file
	 * is one a person moved (storysync's move of it, a content git
	 * held already, moved on); where storysync's write took the file
	 * from, git's, whichever commit took it there (git_put_beside) */
	if (strcmp(fc->path, se->path) != 0 &&
	    !git_put_beside(run, se, fc->path))
		return false;
	if (write_taken(run, se))
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
 * git has not taken that write (write_taken; else the file came from it).
 * A field the person changed holds git's version's value again, or a
 * value of their own that no tool can tell typed over storysync's write
 * from typed over git's. Then, for the fields storysync wrote, the
 * merge's base is git's version, and the agreed version is the
 * database's side: a field as git had it is no edit, and one changed is
 * a change made beside the database's (a conflict, the policy's side
 * winning), never a silent overwrite. *out (empty before) gets base so
 * rebased. */
/* Whether the scan found storysync's own file of id beside git's version
 * put back (a leftover, mine: discard_leftovers). */
static bool mine_removed(const struct run *run, const char *id)
{
	for (size_t i = 0; i < run->scan.nleftovers; i++)
		if (run->scan.leftovers[i].mine &&
		    strcmp(run->scan.leftovers[i].id, id) == 0)
			return true;
	return false;
}

/* Whether the file fc, with storysync's file of se gone (a stash -u, or
 * rm then checkout --), is git's version put back at the path
 * storysync's write took the file from (se->before_path) and moved on
 * by a person since (git mv, committed or staged, or mv): git's bytes
 * (se->before) at another path, git holding them there or at that
 * source, git not having taken storysync's write, and not storysync's
 * own file, which a person's move keeps as it is (its identity as
 * written, inode and mtime: git's checkout makes a new file). Where
 * storysync's move left git's bytes, nothing else tells the two apart
 * (model wide seed 1598: taken for a person's move of storysync's file,
 * the API's backlog was lost with nothing in sync_conflicts). */
static bool git_moved_on(struct run *run, const struct file_change *fc,
			 const struct state_entry *se)
{
	bool mine = strcmp(fc->hash, se->hash) == 0 &&
		    fc->st.ino == se->st.ino &&
		    fc->st.mtime_ns == se->st.mtime_ns;

	return se->before_path && !mine && strcmp(fc->hash, se->before) == 0 &&
	       strcmp(fc->path, se->path) != 0 &&
	       strcmp(fc->path, se->before_path) != 0 &&
	       (git_holds(run, fc->path, se->before) ||
		git_holds(run, se->before_path, se->before)) &&
	       !write_taken(run, se);
}

bool rebased(struct run *run, const struct file_change *fc,
	     const struct state_entry *se, const struct story *base,
	     struct story *out)
{
	static const enum story_field loc[SM_COUNT] = {
		[SM_BACKLOG] = SF_BACKLOG,
		[SM_STATUS] = SF_STATUS,
		[SM_EPIC] = SF_EPIC,
	};
	struct story old = {0};
	char *mirror[SM_COUNT] = {0};
	bool found = false, from_old = false, known[SF_COUNT] = {0}, copy;
	struct err e;
	char *msg;

	if (!se || !se->ours || !se->before[0] || fc->side != SIDE_CHANGED)
		return false;
	/* git's version in place of storysync's file: removed as its own
	 * leftover beside it, or gone with the discard */
	copy = mine_removed(run, fc->id) || git_moved_on(run, fc, se);
	if (strcmp(fc->hash, se->hash) == 0 && !copy)
		return false;
	if (!detect_git_version(&run->mirrors, run->c, se->before, fc->path,
				&old, mirror, &found, &e)) {
		msg = xasprintf("%s: %s (taken as an edit)", fc->path, e.msg);
		note(run, msg);
		free(msg);
		return false;
	}
	for (int f = SF_TITLE; f < SF_COUNT; f++)
		known[f] = true;
	/* git's version that a discard put back beside storysync's move,
	 * moved by a person since, in place of storysync's file (removed as
	 * its own leftover, seed 406, or gone with the discard, wide seed
	 * 1598): its location in git is the one its
	 * mirror keys name, as storysync wrote them, when they name one the
	 * configuration has. Not for a file moved otherwise: a person's move
	 * of storysync's file back to git's place is a move (seed 766). */
	reconcile_mirrors(&run->rc, mirror);
	for (int k = 0; found && copy && k < SM_COUNT; k++) {
		bool named =
			mirror[k] &&
			(k == SM_BACKLOG
				 ? config_backlog(run->c, mirror[k]) != NULL
			 : k == SM_STATUS ? !run->c->dialect.status_from_key &&
						    config_stage_by_status(
							    run->c, mirror[k])
					  : false);

		if (named) {
			story_set(&old, loc[k], mirror[k]);
			known[loc[k]] = true;
		} else {
			/* no key names it: git's location is not the agreed
			 * one in the fields storysync's write moved, whatever
			 * it was, a move only (git's bytes, issue 19) or one
			 * that took a person's edit too (model wide seed
			 * 1350: add -A took both files, the API's backlog was
			 * lost with nothing in sync_conflicts) */
			known[loc[k]] = true;
		}
	}
	for (int f = 0; found && f < SF_COUNT; f++)
		from_old |= known[f] && (se->ours >> f & 1) &&
			    !story_field_equal(&fc->story, base, f) &&
			    !story_field_equal(&old, base, f);
	/* once git took the write, the file came from it; not git's copy
	 * moved beside it (mine_removed: add -A took both, issue 19;
	 * git_moved_on asked already) */
	if (from_old && !copy && write_taken(run, se))
		from_old = false;
	if (from_old) {
		story_copy(out, base);
		for (int f = 0; f < SF_COUNT; f++)
			if (known[f] && (se->ours >> f & 1))
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
	for (int k = 0; k < SM_COUNT; k++)
		free(mirror[k]);
	return from_old;
}

/* The fields of the file's version, decided in fields (names, comma-
 * separated), that lose: for an action whose lost is a side in full (kept
 * "file": the database's), lost becomes the merge with each decided field
 * at the value that lost (kept "mixed"). */
static void lose_mixed(struct action *a, const struct story *want)
{
	struct story was = a->lost;

	memset(&a->lost, 0, sizeof(a->lost));
	story_copy(&a->lost, want);
	for (int f = SF_BACKLOG; a->conflict_fields && f < SF_COUNT; f++) {
		const char *name = story_field_names[f],
			   *p = a->conflict_fields;
		size_t n = strlen(name);

		for (; (p = strstr(p, name)); p += n)
			if ((p == a->conflict_fields || p[-1] == ',') &&
			    (p[n] == ',' || !p[n]))
				story_set(&a->lost, f, was.v[f]);
	}
	story_finish(&was);
	a->kept = "mixed";
}

/* Keeps the file's values in the fields lose[] as lost to the database:
 * a conflict of their own (both_changed, kept db), or added to the
 * merge's (kept mixed when the file won its fields), or, when the API
 * deleted the row the file re-creates, to that one. */
static void keep_lost(const struct story *file, const bool lose[],
		      struct action *a)
{
	struct buf fields = BUF_INIT;

	if (!a->conflict) {
		a->conflict = "both_changed";
		a->kept = "db";
		story_copy(&a->lost, file);
	} else if (strcmp(a->conflict, "deleted_in_db") == 0) {
		/* the row the API deleted (lost: its version, the agreed
		 * one) comes back from the file, with storysync's values in
		 * the fields it wrote: the file's there lose too */
		a->kept = "mixed";
	} else if (strcmp(a->kept, "file") == 0) {
		lose_mixed(a, &a->want);
	}
	if (a->conflict_fields)
		buf_puts(&fields, a->conflict_fields);
	for (int f = SF_BACKLOG; f < SF_COUNT; f++) {
		if (!lose[f])
			continue;
		story_set(&a->lost, f, file->v[f]);
		buf_printf(&fields, "%s%s", fields.len ? "," : "",
			   story_field_names[f]);
	}
	free(a->conflict_fields);
	a->conflict_fields = buf_detach(&fields);
}

/* Whether a's conflict, if any, is one keep_lost may add to. */
static bool joinable(const struct action *a)
{
	return !a->conflict || strcmp(a->conflict, "both_changed") == 0 ||
	       strcmp(a->conflict, "no_base") == 0;
}

/* A rebased merge (see rebased) gave the database the fields of the file
 * that hold git's version's value. A person may have typed that value
 * back on purpose, which no tool can tell from a discard: their value is
 * kept as a conflict the database won, so that neither side's is lost
 * unseen; in the merge's conflict when both sides changed another field
 * (model seed 204: a person's move beside it). */
void doubt_rebased(const struct plan_input *in, struct action *a)
{
	bool lose[SF_COUNT] = {0}, any = false;

	if (a->state != PLAN_STATE_PUT || !joinable(a))
		return;
	for (int f = SF_TITLE; f < SF_COUNT; f++) {
		lose[f] = story_field_equal(in->file_story, in->base, f) &&
			  !story_field_equal(in->file_story, &a->want, f);
		any |= lose[f];
	}
	if (any)
		keep_lost(in->file_story, lose, a);
}

/* A discard (discarded) gave the database the fields storysync wrote: the
 * file's value there, git's version's, may be a person's typed back on
 * purpose (seeds 326, 364), which no tool can tell from a discard, and a
 * discard found away from the story's path may be a person's move back by
 * hand (a stash -u leaves the same). Each such value of the file that is
 * neither the agreed one nor the one kept is recorded as a conflict the
 * database won, so that no one's is lost unseen: in the merge's conflict
 * when there is one (its other fields as the merge decided them). Once
 * per discard: the record goes with the state of the file written again
 * (one action, one transaction), so no later run meets the same discard.
 * When the API deleted the row meanwhile, the file re-creates it
 * (deleted_in_db) and its record keeps the file's values as well. */
void doubt_discarded(const struct plan_input *in, struct action *a)
{
	const struct story *file = in->file_story;
	bool lose[SF_COUNT] = {0}, any = false;

	if (!file || !in->ours || !in->base || a->state != PLAN_STATE_PUT)
		return;
	for (int f = SF_BACKLOG; f < SF_COUNT; f++) {
		lose[f] = in->ours[f] &&
			  !story_field_equal(file, &a->want, f) &&
			  !story_field_equal(file, in->base, f);
		any |= lose[f];
	}
	if (any && (joinable(a) || strcmp(a->conflict, "deleted_in_db") == 0))
		keep_lost(file, lose, a);
}

/* A killed run's write a person may have typed again, or typed the agreed
 * value back over (killed_values, killed_rewritten, killed_undone): each
 * value of the file in the fields maybe says that a loses is kept as a
 * conflict the database won. */
void doubt_retyped(const struct story *file, const bool maybe[],
		   struct action *a)
{
	bool lose[SF_COUNT] = {0}, any = false;

	if (a->state != PLAN_STATE_PUT || !joinable(a))
		return;
	for (int f = SF_BACKLOG; f < SF_COUNT; f++) {
		lose[f] = maybe[f] && !story_field_equal(file, &a->want, f);
		any |= lose[f];
	}
	if (any)
		keep_lost(file, lose, a);
}

/* a->before (see there): for a write, or a move, the version HEAD holds
 * now (which reset --hard and stash put back; a discard of the index's,
 * with a person's staged change, is rebased on it): the one before
 * storysync's earlier writes while they stay uncommitted, a newer one
 * once a commit took them; for a file HEAD does not hold at its path,
 * HEAD's at the path the story had, else the earlier one. Without a write or
 * a move, as it was. It matters only while some field is storysync's
 * (state_entry.ours). */
static void find_before(struct run *run, const struct file_change *fc,
			const struct state_entry *se, bool journaled,
			struct action *a)
{
	const char *path = fc && fc->path ? fc->path : se ? se->path : NULL;
	bool ours = false, earlier = se && se->before[0];
	bool moved = fc && fc->path && se && strcmp(fc->path, se->path) != 0;
	const char *was;
	char head[BLOBID_HEX];
	struct err e;

	for (int f = 0; f < SF_COUNT; f++)
		ours |= a->ours_after[f];
	if (a->state != PLAN_STATE_PUT || !path)
		return;
	if (!(ours && (a->file == PLAN_FILE_WRITE || journaled)) && !moved) {
		if (earlier)
			memcpy(a->before, se->before, BLOBID_HEX);
		return;
	}
	if (!detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, head, &e)) {
		char *msg = xasprintf("%s: %s (a discard of this write will "
				      "be taken for an edit)",
				      path, e.msg);

		if (ours)
			note(run, msg);
		free(msg);
		return;
	}
	/* a file HEAD does not hold at its path (moved by hand, or by
	 * storysync): a discard puts back HEAD's version where HEAD has the
	 * story, at the path the last run found it (a newer version than the
	 * earlier one once a commit took storysync's writes: model seed 4,
	 * git_before.sh); where HEAD holds it at neither, the earlier one,
	 * which a run that takes a move by hand learns */
	if (!head[0] && se && strcmp(se->path, path) != 0 &&
	    !detect_git_blob(&run->mirrors, run->c, se->path, GIT_HEAD, head,
			     &e))
		head[0] = '\0';
	/* nor at the path the configuration has now (a backlog's or a
	 * stage's directory moved, not committed: reconcile_state moved the
	 * state there): where the last run had the story, which a reset or
	 * a stash puts back with the configuration (model seed 240) */
	if (!head[0] && se && (was = reconcile_was(&run->rc, se->id)) &&
	    strcmp(was, path) != 0 &&
	    !detect_git_blob(&run->mirrors, run->c, was, GIT_HEAD, head, &e))
		head[0] = '\0';
	/* nor there (a run since followed that change): the index's
	 * version at the path the last run had it, which git mv staged from
	 * HEAD's and a reset or a stash puts back with the configuration
	 * (model seed 26) */
	if (!head[0] && !earlier && se &&
	    !detect_git_blob(&run->mirrors, run->c, se->path, GIT_INDEX, head,
			     &e))
		head[0] = '\0';
	if (!head[0] && earlier) {
		memcpy(a->before, se->before, BLOBID_HEX);
		return;
	}
	memcpy(a->before, head, BLOBID_HEX);
}

/* Whether HEAD or git's index holds blob at path: HEAD first, which
 * the run's fast path answers without reading the index. */
static bool head_or_index(struct run *run, const char *path, const char *blob)
{
	char v[BLOBID_HEX];
	struct err e;

	return (detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, v, &e) &&
		strcmp(v, blob) == 0) ||
	       (detect_git_blob(&run->mirrors, run->c, path, GIT_INDEX, v,
				&e) &&
		strcmp(v, blob) == 0);
}

/* a->before_path (see there): for storysync's move of the file at the
 * state's path (a write that moves it for the database), that path, or
 * the one the last run had it at (a configuration change since moved
 * it), where HEAD or git's index holds a->before: where a discard puts
 * git's version back, the place the move took the file from. Else the
 * state's, while before stays; else none. */
static void find_before_path(struct run *run, const struct file_change *fc,
			     const struct state_entry *se, bool journaled,
			     struct action *a)
{
	const char *from[2] = {0};
	const struct journal_line *jl;
	bool took[SF_COUNT];

	if (a->state != PLAN_STATE_PUT || !a->before[0] || !se)
		return;
	if (a->file == PLAN_FILE_WRITE && a->event &&
	    strcmp(a->event, "moved") == 0 &&
	    (!fc || !fc->path || strcmp(fc->path, se->path) == 0)) {
		from[0] = se->path;
		from[1] = reconcile_was(&run->rc, se->id);
	} else if (journaled && fc && fc->path && fc->hash[0] &&
		   strcmp(fc->path, se->path) != 0 &&
		   (jl = journal_find(&run->journal, fc->hash, se->id)) &&
		   strcmp(jl->path, fc->path) == 0) {
		/* the file where a killed run put it, as it wrote it (the
		 * journal names its content and place), its place one the run
		 * took from the database: that run's move from the state's
		 * path, this run's as if it had committed (killed_write.sh) */
		journal_written(jl, took);
		if (took[SF_BACKLOG] || took[SF_EPIC] ||
		    (took[SF_STATUS] && !run->c->dialect.status_from_key)) {
			from[0] = se->path;
			from[1] = reconcile_was(&run->rc, se->id);
		}
	}
	for (size_t i = 0; i < 2; i++)
		if (from[i] && head_or_index(run, from[i], a->before)) {
			a->before_path = xstrdup(from[i]);
			return;
		}
	if (se->before_path && strcmp(se->before, a->before) == 0)
		a->before_path = xstrdup(se->before_path);
}

void set_before(struct run *run, const struct file_change *fc,
		const struct state_entry *se, bool journaled, struct action *a)
{
	find_before(run, fc, se, journaled, a);
	find_before_path(run, fc, se, journaled, a);
}

/* a->head and a->before (see there) for the deletion of the file at
 * path that the API's deletion of its row makes: HEAD's commit, and
 * HEAD's version of the path, which a reset or a stash puts back. Asked
 * of git only for such a deletion; outside git, or when git cannot say,
 * nothing (git's version back is then a new story, as before). */
static bool deleted_head(struct run *run, const char *path, struct action *a)
{
	struct err e;
	char *msg;

	if (detect_git_head_commit(&run->mirrors, run->c, a->head, &e) &&
	    detect_git_blob(&run->mirrors, run->c, path, GIT_HEAD, a->before,
			    &e))
		return true;
	msg = xasprintf("%s: %s (git's version put back will be taken "
			"for a new story)",
			path, e.msg);

	note(run, msg);
	free(msg);
	a->head[0] = a->before[0] = '\0';
	return false;
}

void set_deleted(struct run *run, const struct state_entry *se,
		 const struct file_change *fc, bool ours_gone, struct action *a)
{
	a->head[0] = '\0';
	if (a->file != PLAN_FILE_DELETE)
		return;
	/* a killed run's file for a row the API deleted since, which no
	 * run agreed on (rendered_gone): a person may have committed it,
	 * and git puts it back as it does any file storysync deleted */
	if (!se && fc && ours_gone) {
		deleted_head(run, fc->path, a);
		return;
	}
	if (!se || a->state != PLAN_STATE_FORGET ||
	    !deleted_head(run, se->path, a))
		return;
	/* a file moved where git does not track it: HEAD's version at the
	 * path it came from (se->before), which git puts back there */
	if (!a->before[0] && se->before[0])
		memcpy(a->before, se->before, BLOBID_HEX);
}

/* The journal line of leftover l, noted before its removal (heap): HEAD's
 * commit and version of its path for its deletion's record (none when
 * git cannot say: git's version put back will then be taken for a
 * person's copy), and the fields that were storysync's when the copy may
 * hold a person's value in the others (doubt_leftover). */
char *leftover_line(struct run *run, const struct scan_leftover *l)
{
	const struct state_entry *se = NULL;
	char head[BLOBID_HEX] = "", before[BLOBID_HEX] = "";
	uint32_t ours = 0;
	struct err e;

	if (!detect_git_head_commit(&run->mirrors, run->c, head, &e) ||
	    !detect_git_blob(&run->mirrors, run->c, l->path, GIT_HEAD, before,
			     &e)) {
		char *msg = xasprintf("%s: %s (git's version put back will "
				      "be taken for a person's copy)",
				      l->path, e.msg);

		note(run, msg);
		free(msg);
		head[0] = before[0] = '\0';
	}
	/* linear: leftovers are rare */
	for (size_t i = 0; i < run->nstate && !se; i++)
		if (strcmp(run->state[i].id, l->id) == 0)
			se = &run->state[i];
	if (se && strcmp(se->before, l->hash) == 0 && l->story.v[SF_ID])
		ours = se->ours;
	return journal_leftover_line(l->hash, l->id, head, before, ours,
				     l->path, &l->story);
}

/* The deletion's record of leftover x, storysync's own, with HEAD's
 * commit and HEAD's version of its path then (see store_deleted_put):
 * git putting the copy back again is no person's copy (seed 83); nothing
 * outside git, or when git could not say. False when the store fails. */
static bool record_deletion(struct run *run, const struct journal_leftover *x)
{
	struct deleted_file d = {.id = (char *)x->id, .path = (char *)x->path};

	if (!x->head)
		return true;
	snprintf(d.hash, sizeof(d.hash), "%s", x->hash);
	snprintf(d.head, sizeof(d.head), "%s", x->head);
	snprintf(d.before, sizeof(d.before), "%s", x->before ? x->before : "");
	return store_deleted_put(run->store, &d, run->e);
}

/* The values of git's version x, removed from beside storysync's move of
 * the file (discard_leftovers), that the row does not keep: in the fields
 * that were not storysync's (state_entry.ours, journaled with it: the
 * copy was HEAD's version from before storysync's writes), those the
 * person who threw the move away had changed before storysync wrote over
 * them (uncommitted), which git's version holds as before. Storysync's
 * file keeps the person's thrown-away edit, so git's value there may be
 * one a person typed back by hand (model seed 247), which no tool can
 * tell from the discard's (as for a discard at the story's path,
 * doubt_discarded): it is kept in sync_conflicts as a conflict the
 * database won (both_changed, kept db, lost git's version), never dropped
 * unseen. A copy put back again is recorded again, unless the record
 * keeps it already (once). A row deleted since is compared as archived. */
static bool doubt_leftover(struct run *run, const struct journal_leftover *x)
{
	uint32_t ours = journal_leftover_ours(x);
	struct story row = {0}, copy = {0};
	struct buf fields = BUF_INIT;
	bool found = false, ok = true;
	struct err e;

	if (!ours || !journal_leftover_copy(x, &copy))
		goto out;
	/* a row the API deleted since (the record replayed by a later run):
	 * against the row its deletion archived, the last the database had */
	if (!store_story_get(run->store, x->id, &row, NULL, NULL, &found, &e) ||
	    (!found &&
	     !store_archived_get(run->store, x->id, &row, &found, &e))) {
		note(run, e.msg);
		goto out;
	}
	for (int f = SF_BACKLOG; found && f < SF_COUNT; f++)
		if (!(ours & (1u << f)) && !story_field_equal(&copy, &row, f))
			buf_printf(&fields, "%s%s", fields.len ? "," : "",
				   story_field_names[f]);
	if (fields.len) {
		struct conflict_row c = {
			.story_id = x->id,
			.kind = "both_changed",
			.kept = "db",
			.fields = fields.data,
			.lost = &copy,
			.run_id = run->run_id,
			.once = true,
		};
		struct sync_change ch = {
			.verb = "conflict",
			.where = "db",
			.id = x->id,
			.backlog = row.v[SF_BACKLOG],
			.path = x->path,
			.detail = "both_changed",
		};

		ok = store_conflict_add(run->store, &c, run->e);
		if (ok) {
			run->n->conflicts++;
			if (run->r && run->r->change)
				run->r->change(run->r->ctx, &ch);
		}
	}
out:
	buf_finish(&fields);
	story_finish(&copy);
	story_finish(&row);
	return ok;
}

/* Whether something is at path now: an earlier run's removal of it was
 * not made (killed at the unlink, or the file changed since its scan),
 * or a file came back, which the scan speaks for. */
static bool path_taken(struct run *run, const char *path)
{
	int fd = fsx_open_beneath(run->rootfd, path, O_PATH | O_CLOEXEC, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool record_leftovers(struct run *run)
{
	/* an earlier run's removals, made before a transaction that never
	 * committed (killed, or stopped by a guard, or busy): recorded from
	 * the journal, as this run's own are; a deletion only where it was
	 * made, the values in doubt in any case (once: the scan may have
	 * found the same copy again) */
	for (size_t i = 0; i < run->journal.nx; i++) {
		const struct journal_leftover *x = &run->journal.x[i];

		if ((!path_taken(run, x->path) && !record_deletion(run, x)) ||
		    !doubt_leftover(run, x))
			return false;
	}
	for (size_t i = 0; i < run->scan.nleftovers; i++) {
		const struct scan_leftover *l = &run->scan.leftovers[i];
		struct journal_leftover x;
		char *line;
		bool ok;

		if (!l->removed || l->mine || l->undone || !l->line)
			continue;
		line = xstrndup(l->line, strcspn(l->line, "\n"));
		ok = !journal_leftover_parse(line, &x) ||
		     (record_deletion(run, &x) && doubt_leftover(run, &x));
		free(line);
		if (!ok)
			return false;
	}
	return true;
}

/* Whether the deletion d that storysync made of the file fc's path is
 * undone by git, not by a person: fc is d's story, byte for byte the
 * content deleted or HEAD's version then, a version git's index or HEAD
 * holds there, and no first-parent commit since d's nor a staged change
 * touched the path (git did not take the deletion). */
static bool git_put_back(struct run *run, const struct file_change *fc,
			 const struct deleted_file *d)
{
	return d->head[0] && strcmp(d->id, fc->id) == 0 &&
	       (strcmp(fc->hash, d->hash) == 0 ||
		strcmp(fc->hash, d->before) == 0) &&
	       git_put(run, fc->path, fc->hash, d->head);
}

bool held_by_git(void *ctx, const char *path, const char *blob)
{
	static const enum git_version sides[] = {GIT_INDEX, GIT_HEAD};
	struct run *run = ctx;
	char v[BLOBID_HEX];
	struct err e;

	/* when git cannot say, held: the file is not storysync's to drop */
	for (size_t i = 0; i < sizeof(sides) / sizeof(*sides); i++)
		if (!detect_git_blob(&run->mirrors, run->c, path, sides[i], v,
				     &e) ||
		    (blob ? strcmp(v, blob) == 0 : v[0] != 0))
			return true;
	return false;
}

bool git_has(void *ctx, const char *path, const char *blob)
{
	const struct run *run = ctx;

	return git_put(ctx, path, blob, run->last_commit);
}

/* Whether path is where storysync's write took se's file from
 * (state_entry.before_path), or followed back to it through a
 * configuration change since the last run (a stage's directory renamed
 * by hand and committed with commit -a, git holding the file at neither
 * path: the bytes decide, as for git_put). */
static bool at_source(struct run *run, const struct state_entry *se,
		      const char *path)
{
	char *was;
	bool at;

	if (!se->before_path || !se->before[0])
		return false;
	at = strcmp(path, se->before_path) == 0;
	if (!at && (was = reconcile_path_recorded(&run->rc, path))) {
		at = strcmp(was, se->before_path) == 0;
		free(was);
	}
	return at;
}

/* Whether the last run's commit is gone from git's object store (an
 * amend or a rebase replaced it, gc pruned it): git's history then
 * cannot tell a person's move since from git's version put back. When
 * git cannot say, gone. */
static bool last_commit_gone(struct run *run)
{
	bool yes = false;
	struct err e;

	return run->last_commit &&
	       (!detect_git_has_commit(&run->mirrors, run->c, run->last_commit,
				       &yes, &e) ||
		!yes);
}

bool git_put_beside(void *ctx, const struct state_entry *se, const char *path)
{
	struct run *run = ctx;

	/* storysync's own record first: git's history cannot tell a
	 * person's git mv staged before storysync's move and committed
	 * after it (there: git's, model wide seed 1347) from one made
	 * after the discard (elsewhere: theirs, issue 19) */
	if (at_source(run, se, path))
		return true;
	if (se->before_path && last_commit_gone(run))
		return false;
	return git_put(run, path, se->before, run->last_commit);
}

bool git_took_write(void *ctx, const struct state_entry *se, const char *path)
{
	struct run *run = ctx;
	int64_t written = se->recorded_ns / 1000000000;
	const char *from[2] = {path, se->before_path};
	char *was[2] = {0};
	const char *alone[5] = {0};
	size_t n = 0;
	bool held = false;
	struct err e;

	/* each also where the last run had it, before a configuration
	 * change since moved its directory: a commit holding git's version
	 * there holds no move alone (model wide seed 153: a commit -a of
	 * storysync's move beside the backlog's folder git mv'd) */
	for (size_t i = 0; path && i < 2; i++) {
		if (!from[i])
			continue;
		alone[n++] = from[i];
		if ((was[i] = reconcile_path_recorded(&run->rc, from[i])))
			alone[n++] = was[i];
	}
	held = se->hash[0] &&
	       detect_git_committed(&run->mirrors, run->c, se->path, se->hash,
				    se->before, run->last_commit,
				    path ? alone : NULL, written,
				    written - 86400, &held, &e) &&
	       held;
	free(was[0]);
	free(was[1]);
	return held;
}

bool git_kept(void *ctx, const struct state_entry *se)
{
	struct run *run = ctx;
	/* storysync's move that left git's bytes: one path holding them
	 * is git's version (wherever a person's git mv took it before the
	 * run: model wide seed 1347), a second one storysync's file */
	size_t need = strcmp(se->hash, se->before) == 0 ? 2 : 1, n = 0;
	struct err e;

	return run->last_commit && se->hash[0] &&
	       detect_git_commit_holds(&run->mirrors, run->c, run->last_commit,
				       se->hash, need, &n, &e) &&
	       n >= need;
}

bool deleted_copy(void *ctx, const struct file_change *copy)
{
	struct run *run = ctx;
	struct deleted_file d;
	bool found = false, yes;
	struct err e;

	if (!copy->path ||
	    !store_deleted_get(run->store, copy->path, NULL, &d, &found, &e)) {
		if (copy->path)
			note(run, e.msg);
		return false;
	}
	yes = found && git_put_back(run, copy, &d);
	deleted_file_finish(&d);
	return yes;
}

/* The record of storysync's deletion of fc's story (into d, *found): the
 * one at fc's path, else the story's latest. git puts back the version it
 * holds where it holds it: a file moved where git does not track it, then
 * deleted, comes back at the path it had in git. False when the store
 * fails (run->e). */
static bool deleted_of(struct run *run, const struct file_change *fc,
		       struct deleted_file *d, bool *found)
{
	if (!store_deleted_get(run->store, fc->path, NULL, d, found, run->e))
		return false;
	if (*found && strcmp(d->id, fc->id) == 0)
		return true;
	deleted_file_finish(d);
	return store_deleted_get(run->store, NULL, fc->id, d, found, run->e);
}

/* Whether the file fc, a story file with no state and no row, is git's
 * version put back (reset --hard, stash, checkout --, restore) of the
 * file storysync deleted because the API deleted its row: at the path it
 * was deleted from (or, for a file moved where git did not track it, the
 * path git held it at), with the content it had then or the version HEAD
 * held then, a version git's index or HEAD holds there, and no commit since
 * the deletion nor a staged change touched that path (git did not take
 * the deletion: a person who committed it and then restored the file,
 * by a revert or a checkout of an older version, undeleted the story).
 * *yes says; false when the store fails (run->e set). */
bool undeleted(struct run *run, const struct file_change *fc, bool *yes)
{
	struct deleted_file d;
	bool found = false;
	char *msg;

	*yes = false;
	if (!fc->path)
		return true;
	if (!deleted_of(run, fc, &d, &found))
		return false;
	*yes = found && git_put_back(run, fc, &d);
	if (*yes) {
		msg = xasprintf("%s: git's version put back after storysync "
				"deleted it for the API's deletion of %s (a "
				"discard, not a new story): deleted again, "
				"the file's version kept in sync_conflicts",
				fc->path, fc->id);
		note(run, msg);
		free(msg);
	}
	deleted_file_finish(&d);
	return true;
}

/* Whether git's version where (the index's, HEAD's) has a file at path.
 * When git cannot say, not. */
static bool git_tracks(struct run *run, const char *path,
		       enum git_version where)
{
	char v[BLOBID_HEX];
	struct err e;

	return detect_git_blob(&run->mirrors, run->c, path, where, v, &e) &&
	       v[0];
}

/* Whether the row's latest deletion (archived in row) was the API's, the
 * file storysync deleted for it brought back by git and never taken by
 * it: the story's entry in sync_deleted (at fc's path, else its latest)
 * with no deletion archived after it, and no commit since removed the
 * file (git_put_back's discard, committed or moved by a person since;
 * undeleted took the rest). When git cannot say, so: the deletion is
 * then kept in sync_conflicts, never dropped unseen. False when the
 * store fails (run->e). */
static bool api_deletion(struct run *run, const struct file_change *fc,
			 bool *yes)
{
	struct deleted_file d;
	bool found = false, taken = false;
	struct err e;

	*yes = false;
	if (!deleted_of(run, fc, &d, &found))
		return false;
	if (found && d.latest &&
	    !detect_git_deletion_taken(&run->mirrors, run->c, d.path, fc->path,
				       d.head, &taken, &e)) {
		char *msg = xasprintf("%s: %s (whether a commit took the "
				      "API's deletion of %s: taken for not)",
				      fc->path, e.msg, fc->id);

		note(run, msg);
		free(msg);
		taken = false;
	}
	*yes = found && d.latest && !taken;
	deleted_file_finish(&d);
	return true;
}

bool resurrected(struct run *run, const struct file_change *fc,
		 struct story *row, bool *yes, bool *api)
{
	char *msg;

	*yes = *api = false;
	if (!fc->path || (!git_tracks(run, fc->path, GIT_HEAD) &&
			  !git_tracks(run, fc->path, GIT_INDEX)))
		return true;
	if (!store_archived_get(run->store, fc->id, row, yes, run->e))
		return false;
	if (*yes && !api_deletion(run, fc, api))
		return false;
	if (*api) {
		msg = xasprintf(
			"%s: git's version of %s's file, put back after "
			"storysync deleted it for the API's deletion of "
			"the row, then committed or moved (git never "
			"took the deletion): the row comes back from it, "
			"the row as deleted kept in sync_conflicts",
			fc->path, fc->id);
		note(run, msg);
		free(msg);
	} else if (*yes) {
		msg = xasprintf("%s: %s's row was deleted; a file git holds "
				"at this path brings it back (git's version "
				"put back, maybe edited): the row as deleted "
				"is kept in sync_conflicts where it differs",
				fc->path, fc->id);
		note(run, msg);
		free(msg);
	}
	return true;
}

bool stale_copy(struct run *run, const struct file_change *fc,
		const struct state_entry *se)
{
	char *msg;

	if (!se || !fc->path || fc->side != SIDE_CHANGED ||
	    strcmp(fc->path, se->path) == 0 ||
	    strcmp(fc->hash, se->hash) == 0 ||
	    !git_holds(run, fc->path, fc->hash) ||
	    (!git_tracks(run, se->path, GIT_INDEX) &&
	     path_changed(run, fc->path)))
		return false;
	msg = xasprintf("%s: a version git holds at this path, found in "
			"place of %s's file at %s (not a person's edit): the "
			"agreed version is kept in sync_conflicts where the "
			"file overrides it",
			fc->path, fc->id, se->path);
	note(run, msg);
	free(msg);
	return true;
}

void doubt_deleted(const struct story *file, const struct story *gone,
		   struct action *a)
{
	if (a->state != PLAN_STATE_PUT)
		return;
	if (a->conflict) {
		doubt_stale(file, gone, "deleted_in_db", a);
		return;
	}
	a->conflict = "deleted_in_db";
	a->kept = "file";
	story_finish(&a->lost);
	story_copy(&a->lost, gone);
}

/* doubt_stale: each field of other (the version the database held) that
 * the file's value overrode in a's outcome (want is the file's there, and
 * other's differs) is kept as lost: with no conflict, one of kind, kept
 * "file", lost other in full; with a merge's, added to it (kept
 * "mixed"); a deletion's keeps the deleted version in full already. */
void doubt_stale(const struct story *file, const struct story *other,
		 const char *kind, struct action *a)
{
	bool lose[SF_COUNT] = {0}, any = false;
	struct buf fields = BUF_INIT;

	/* a deletion's conflict keeps the deleted version in full already */
	if (a->state != PLAN_STATE_PUT || !joinable(a))
		return;
	for (int f = SF_BACKLOG; f < SF_COUNT; f++) {
		lose[f] = story_field_equal(&a->want, file, f) &&
			  !story_field_equal(file, other, f);
		/* already decided by the merge: its loser is kept */
		if (lose[f] && a->conflict_fields) {
			const char *name = story_field_names[f],
				   *p = a->conflict_fields;
			size_t n = strlen(name);

			for (; lose[f] && (p = strstr(p, name)); p += n)
				lose[f] = !((p == a->conflict_fields ||
					     p[-1] == ',') &&
					    (p[n] == ',' || !p[n]));
		}
		any |= lose[f];
	}
	if (!any)
		return;
	if (!a->conflict) {
		a->conflict = kind;
		a->kept = "file";
		story_finish(&a->lost);
		story_copy(&a->lost, other);
	} else {
		if (strcmp(a->kept, "mixed") != 0)
			lose_mixed(a, &a->want);
		for (int f = SF_BACKLOG; f < SF_COUNT; f++)
			if (lose[f])
				story_set(&a->lost, f, other->v[f]);
		a->kept = "mixed";
	}
	if (a->conflict_fields)
		buf_puts(&fields, a->conflict_fields);
	for (int f = SF_BACKLOG; f < SF_COUNT; f++)
		if (lose[f])
			buf_printf(&fields, "%s%s", fields.len ? "," : "",
				   story_field_names[f]);
	free(a->conflict_fields);
	a->conflict_fields = buf_detach(&fields);
}
