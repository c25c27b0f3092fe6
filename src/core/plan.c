#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"

/*
 * The decision table of doc/design.md ("Plan"), one function per row
 * of the table (the file side), each switching on the DB side.
 *
 * The file is written (PLAN_FILE_WRITE) exactly when its current content
 * must change: want differs from the file's story in any field (location
 * included: a differing location is a move), or, for a file that changed,
 * rewrite_mirrors is set and a mirror key present in the file names another
 * location than want's. An unchanged file holds the base: it is written
 * when want differs from the base, and its mirror keys are not consulted
 * (story_edit makes them follow want when it is written anyway). A run with
 * nothing to do writes nothing: a file is never rewritten to the bytes it
 * already holds.
 */

static const enum story_field loc_field[SM_COUNT] = {
	[SM_BACKLOG] = SF_BACKLOG,
	[SM_STATUS] = SF_STATUS,
	[SM_EPIC] = SF_EPIC,
};

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The location a mirror key names, false when it names none: an empty
 * "epic:" means no epic (NULL), but an empty backlog: or status: names
 * nothing (a story always has both) and is ignored. */
static bool mirror_value(char *const *mirror, enum story_mirror k,
			 const char **out)
{
	const char *m = mirror ? mirror[k] : NULL;

	if (!m)
		return false;
	if (*m == '\0') {
		if (k != SM_EPIC)
			return false;
		m = NULL;
	}
	*out = m;
	return true;
}

/* A present key that story_edit would rewrite to hold want's value; an empty
 * backlog: or status: counts, so that it gets repaired. */
static bool mirror_differs(char *const *mirror, enum story_mirror k,
			   const struct story *want)
{
	const char *m = mirror ? mirror[k] : NULL;
	const char *w = want->v[loc_field[k]];

	if (!m)
		return false;
	if (k == SM_EPIC && *m == '\0')
		return w != NULL;
	return !str_eq(m, w);
}

static bool file_needs_write(const struct story *cur, char *const *mirror,
			     const struct action *a)
{
	if (!story_equal(cur, &a->want))
		return true;
	if (!a->rewrite_mirrors)
		return false;
	for (int k = 0; k < SM_COUNT; k++)
		if (!a->keep_mirror[k] && mirror_differs(mirror, k, &a->want))
			return true;
	return false;
}

static bool carried(const struct plan_input *in, int k)
{
	return in->mirror_carried && in->mirror_carried[k];
}

/* The mirror keys an edit leaves alone: one whose location field is as at
 * the base and that was not edited since (the file is as the base, the
 * key holds what it held then, or git carried it there). One field changed
 * is one field's lines changed, even next to a key that was stale when
 * adopted; a key storysync wrote follows want. */
static void keep_mirrors(const struct plan_input *in, struct action *a)
{
	for (int k = 0; k < SM_COUNT; k++) {
		enum story_field f = loc_field[k];
		bool untouched = !in->mirror || carried(in, k) ||
				 (in->base_mirror &&
				  str_eq(in->mirror[k], in->base_mirror[k]));

		a->keep_mirror[k] = in->base && !in->mirror_ours &&
				    story_field_equal(in->base, &a->want, f) &&
				    untouched;
	}
}

/* The location the file's key k asks for, when it is an edit: the file did
 * not move in that field, and the key names another location than the
 * base's and than it held at the base. */
static bool key_edited(const struct story *file_story, char *const *mirror,
		       const struct story *base, char *const *base_mirror,
		       int k, const char **value)
{
	enum story_field f = loc_field[k];

	/* a moved file wins; it also wins when the key changed too */
	if (!str_eq(file_story->v[f], base->v[f]))
		return false;
	if (!mirror_value(mirror, k, value) || str_eq(*value, base->v[f]))
		return false;
	/* a key left as it was when adopted is no edit */
	return !base_mirror || !str_eq(mirror[k], base_mirror[k]);
}

static void resolve_location(const struct plan_input *in, struct story *out)
{
	story_copy(out, in->file_story);
	if (!in->base)
		return;
	for (int k = 0; k < SM_COUNT; k++) {
		const char *m;

		if (key_edited(in->file_story, in->mirror, in->base,
			       in->base_mirror, k, &m) &&
		    !carried(in, k))
			story_set(out, loc_field[k], m);
	}
}

void plan_resolve_location(const struct story *file_story, char *const *mirror,
			   const struct story *base, char *const *base_mirror,
			   struct story *out)
{
	const struct plan_input in = {
		.file_story = file_story,
		.mirror = mirror,
		.base = base,
		.base_mirror = base_mirror,
	};

	resolve_location(&in, out);
}

bool plan_mirror_edited(const struct plan_input *in, enum story_mirror k)
{
	const char *m;

	return in->file_story && in->base &&
	       key_edited(in->file_story, in->mirror, in->base, in->base_mirror,
			  k, &m);
}

void plan_merge(const struct story *base, const struct story *file,
		const struct story *db, const bool *db_wins, struct story *out,
		struct merge_result *r)
{
	struct buf cf = BUF_INIT, pol = BUF_INIT;
	int won[2] = {0, 0}; /* by the file, by the database */

	memset(r->decided, 0, sizeof(r->decided));
	for (int f = 0; f < SF_COUNT; f++) {
		const char *v = file->v[f];

		if (base && story_field_equal(file, base, f)) {
			v = db->v[f];
		} else if ((!base || !story_field_equal(db, base, f)) &&
			   !story_field_equal(db, file, f)) {
			bool to_db = db_wins && db_wins[f];

			if (to_db)
				v = db->v[f];
			won[to_db]++;
			r->decided[f] = true;
			buf_printf(&cf, "%s%s", cf.len ? "," : "",
				   story_field_names[f]);
			buf_printf(&pol, "%s%s=%s", pol.len ? "," : "",
				   story_field_names[f], to_db ? "db" : "file");
		}
		out->v[f] = xstrdup(v);
	}
	r->fields = cf.len ? buf_detach(&cf) : NULL;
	r->policy = pol.len ? buf_detach(&pol) : NULL;
	r->kept = won[1] && won[0] ? "mixed" : won[1] ? "db" : "file";
	buf_finish(&cf);
	buf_finish(&pol);
}

void action_finish(struct action *a)
{
	free(a->id);
	story_finish(&a->want);
	free(a->from_status);
	free(a->conflict_fields);
	free(a->conflict_policy);
	story_finish(&a->lost);
	for (int k = 0; k < SM_COUNT; k++)
		free(a->mirror_after[k]);
	free(a->before_path);
	memset(a, 0, sizeof(*a));
}

static bool location_changed(const struct story *a, const struct story *b,
			     bool status_is_data)
{
	for (int k = 0; k < SM_COUNT; k++)
		if (!(k == SM_STATUS && status_is_data) &&
		    !story_field_equal(a, b, loc_field[k]))
			return true;
	return false;
}

/* The event of want replacing prev, and the status history it makes; no
 * event when nothing changed. */
static void note_change(const struct plan_input *in, struct action *a,
			const struct story *prev, const char *origin)
{
	if (story_equal(prev, &a->want))
		return;
	a->event = location_changed(prev, &a->want, in->status_is_data)
			   ? "moved"
			   : "updated";
	a->origin = origin;
	if (story_field_equal(prev, &a->want, SF_STATUS))
		return;
	a->status_changed = true;
	a->from_status = xstrdup(prev->v[SF_STATUS]);
}

/* A row comes into being: its history starts from no status. */
static void note_created(struct action *a, const char *origin)
{
	a->event = "created";
	a->origin = origin;
	a->status_changed = true;
}

static void note_deleted(struct action *a, const char *origin)
{
	a->event = "deleted";
	a->origin = origin;
	a->state = PLAN_STATE_FORGET;
}

static void set_conflict(struct action *a, const char *kind,
			 const struct story *lost)
{
	a->conflict = kind;
	a->kept = "file";
	story_copy(&a->lost, lost);
}

/* A merge's conflict: the losing version is the side that lost every field
 * decided, in full; where each side won some, the merged story with every
 * decided field at its loser's value. */
static void set_merge_conflict(struct action *a, const char *kind,
			       struct merge_result *r, const struct story *file,
			       const struct story *db)
{
	a->conflict_fields = r->fields;
	a->conflict_policy = r->policy;
	if (!r->fields)
		return;
	a->conflict = kind;
	a->kept = r->kept;
	if (strcmp(r->kept, "mixed") != 0) {
		story_copy(&a->lost, strcmp(r->kept, "file") == 0 ? db : file);
		return;
	}
	story_copy(&a->lost, &a->want);
	for (int f = 0; f < SF_COUNT; f++)
		if (r->decided[f])
			story_set(&a->lost, f,
				  story_field_equal(&a->want, file, f)
					  ? db->v[f]
					  : file->v[f]);
}

/* The fields of want that are not the file's (NULL: the file gives none),
 * and those of storysync's own writes that unwrite took back (in, may be
 * NULL: in->written) where the file as read holds another value: the
 * write takes those from the database over it (git's version a discard
 * put back). A killed run's journal line names them, so that the run
 * taking its write keeps them storysync's (model wide seed 1640: the
 * API's emptied dependencies, written over a discard by a killed run,
 * were no longer storysync's once taken, and the next discard won as a
 * person's edit). */
static void set_from_db(struct action *a, const struct story *file,
			const struct plan_input *in)
{
	for (int f = 0; f < SF_COUNT; f++)
		a->from_db[f] = !file ||
				!story_field_equal(file, &a->want,
						   (enum story_field)f) ||
				(in && in->written && in->written[f] &&
				 in->file_story &&
				 !story_field_equal(in->file_story, &a->want,
						    (enum story_field)f));
}

/* The file is as the base: the DB side decides alone. */
static bool plan_file_same(const struct plan_input *in, enum side db,
			   struct action *a)
{
	switch (db) {
	case SIDE_CHANGED:
		story_copy(&a->want, in->db_story);
		set_from_db(a, NULL, NULL);
		a->rewrite_mirrors = true;
		keep_mirrors(in, a);
		/* the file holds the base; its keys are repaired only with a
		   real change, never for a row rewritten to the same values */
		if (!story_equal(in->base, &a->want))
			a->file = PLAN_FILE_WRITE;
		a->state = PLAN_STATE_PUT;
		note_change(in, a, in->base, "db");
		return true;
	case SIDE_DELETED:
		a->file = PLAN_FILE_DELETE;
		note_deleted(a, "db");
		return true;
	default: return false;
	}
}

/* The fields of file that storysync wrote there itself (in->written)
 * take from's values: they are no one's edit. */
static void unwrite(const struct plan_input *in, const struct story *from,
		    struct story *file)
{
	for (int f = 0; in->written && f < SF_COUNT; f++)
		if (in->written[f] && f != SF_ID)
			story_set(file, (enum story_field)f, from->v[f]);
}

/* The file changed: its location is decided against the base first. */
static bool plan_file_changed(const struct plan_input *in, enum side db,
			      struct action *a)
{
	struct story file = {0};

	resolve_location(in, &file);
	unwrite(in, in->base, &file);
	a->rewrite_mirrors = true;
	a->state = PLAN_STATE_PUT;
	switch (db) {
	case SIDE_SAME:
		a->want = file;
		if (!story_equal(&a->want, in->base))
			a->db = PLAN_DB_PUT;
		note_change(in, a, in->base, "file");
		break;
	case SIDE_CHANGED: {
		struct merge_result r;

		plan_merge(in->base, &file, in->db_story, in->db_wins, &a->want,
			   &r);
		set_from_db(a, &file, in);
		set_merge_conflict(a, "both_changed", &r, &file, in->db_story);
		if (!story_equal(&a->want, in->db_story))
			a->db = PLAN_DB_PUT;
		/* a file changed in its bytes only (a comment) did not make
		 * the change: the DB did */
		note_change(in, a, in->base,
			    story_equal(&file, in->base) ? "db" : "file");
		story_finish(&file);
		break;
	}
	default: /* SIDE_DELETED: the file re-creates the row */
		/* unless all it changed is a killed run's write of its own
		 * (in->killed_write): no one's edit, so the deletion takes
		 * it, as once that run committed */
		if (in->killed_write && story_equal(&file, in->base)) {
			story_finish(&file);
			a->rewrite_mirrors = false;
			a->file = PLAN_FILE_DELETE;
			note_deleted(a, "db");
			return true;
		}
		a->want = file;
		a->db = PLAN_DB_PUT;
		set_conflict(a, "deleted_in_db", in->base);
		note_created(a, "file");
		break;
	}
	keep_mirrors(in, a);
	if (file_needs_write(in->file_story, in->mirror, a))
		a->file = PLAN_FILE_WRITE;
	return true;
}

/* The file is gone: it wins over any DB edit (the edit is kept as a
 * conflict). */
static bool plan_file_deleted(const struct plan_input *in, enum side db,
			      struct action *a)
{
	a->state = PLAN_STATE_FORGET;
	if (db == SIDE_DELETED)
		return true;
	a->db = PLAN_DB_DELETE;
	if (db == SIDE_CHANGED)
		set_conflict(a, "deleted_in_file", in->db_story);
	note_deleted(a, "file");
	return true;
}

/* Both sides hold the story and no state knows it (a pre-filled database):
 * the file wins every differing field the policy gives it. */
static void plan_no_base(const struct plan_input *in, struct action *a)
{
	struct merge_result r;
	struct story file = {0};

	story_copy(&file, in->file_story);
	unwrite(in, in->db_story, &file);
	plan_merge(NULL, &file, in->db_story, in->db_wins, &a->want, &r);
	set_from_db(a, &file, in);
	set_merge_conflict(a, "no_base", &r, &file, in->db_story);
	story_finish(&file);
	if (!story_equal(&a->want, in->db_story))
		a->db = PLAN_DB_PUT;
	/* a field the policy gave the database is written to the file */
	if (!story_equal(&a->want, in->file_story))
		a->file = PLAN_FILE_WRITE;
	a->state = PLAN_STATE_PUT;
	note_change(in, a, in->db_story, "file");
}

/* No state: first sight of the story on one side or both. */
static bool plan_first_sight(const struct plan_input *in, enum side file,
			     enum side db, struct action *a, bool *given)
{
	if (file == SIDE_NEW && db == SIDE_NEW) {
		plan_no_base(in, a);
	} else if (file == SIDE_NEW && in->undeleted) {
		a->file = PLAN_FILE_DELETE;
		a->conflict = "deleted_in_db";
		a->kept = "db";
		story_copy(&a->lost, in->file_story);
	} else if (file == SIDE_NEW && in->ours_gone) {
		a->file = PLAN_FILE_DELETE;
	} else if (file == SIDE_NEW) {
		/* the location wins; a mismatched key is check's to report.
		 * A story given is shared until plan_story ends, which then
		 * leaves it empty: the rules after this read it */
		if (in->file_story_given == in->file_story && in->file_story) {
			a->want = *in->file_story_given;
			*given = true;
		} else {
			story_copy(&a->want, in->file_story);
		}
		a->db = PLAN_DB_PUT;
		a->state = PLAN_STATE_PUT;
		note_created(a, "file");
	} else if (db == SIDE_NEW) {
		story_copy(&a->want, in->db_story);
		set_from_db(a, NULL, NULL);
		/* the file made from the row has want's keys (mirror_after):
		 * also the one a killed run made there, which apply edits
		 * (model seed 150: its key kept a backlog's name renamed back
		 * since, read later as a person's edit, and every run after a
		 * person's move exited 1) */
		a->rewrite_mirrors = true;
		a->file = PLAN_FILE_WRITE;
		a->state = PLAN_STATE_PUT;
		note_created(a, "db");
	} else {
		return false;
	}
	return true;
}

/*
 * Folds the combinations outside the table into the nearest cell. With a
 * base, a side that is NEW holds the story the state knows, so it is
 * CHANGED; one that is ABSENT is gone, so DELETED. Without a base, a side
 * that holds its story is NEW and any other is ABSENT: there is no state to
 * forget, and a file that is SAME with no state was not seen (the caller
 * reports every story file without state as NEW). A CHANGED or NEW side
 * without its story cannot be read, so it counts as unchanged.
 */
static enum side normalize(enum side s, const struct story *story,
			   bool has_base)
{
	bool holds = (s == SIDE_CHANGED || s == SIDE_NEW) && story;

	if (!has_base)
		return holds ? SIDE_NEW : SIDE_ABSENT;
	if (s == SIDE_ABSENT)
		return SIDE_DELETED;
	if (s == SIDE_CHANGED || s == SIDE_NEW)
		return holds ? SIDE_CHANGED : SIDE_SAME;
	return s;
}

/* The mirror keys the file holds once the action is carried out: a new
 * file has all three (story_render writes them); a rewritten one has want's
 * values in the keys it had; an untouched one keeps its keys. */
static void set_mirror_after(const struct plan_input *in, enum side file,
			     struct action *a)
{
	char *const *cur = in->mirror ? in->mirror : in->base_mirror;
	bool create = file == SIDE_ABSENT || file == SIDE_DELETED;

	if (a->state != PLAN_STATE_PUT)
		return;
	for (int k = 0; k < SM_COUNT; k++) {
		const char *v = cur ? cur[k] : NULL;

		if (a->file == PLAN_FILE_WRITE &&
		    (create || (v && a->rewrite_mirrors && !a->keep_mirror[k])))
			v = a->want.v[loc_field[k]];
		a->mirror_after[k] = xstrdup(v);
	}
}

/* See action.ours_after. A field the file changed from the base is a
 * person's, unless storysync wrote it there itself (written): then it is
 * storysync's, as a field a write changes is (a killed run's write taken
 * from the journal is the write its run would have recorded; model seed
 * 47: recorded as no one's, a discard of it won as a person's edit). */
static void set_ours_after(const struct plan_input *in, struct action *a)
{
	/* what the file held before this action */
	const struct story *was = in->file_story ? in->file_story : in->base;

	if (a->state != PLAN_STATE_PUT)
		return;
	for (int f = 0; f < SF_COUNT; f++) {
		bool ours = in->ours && in->ours[f];

		if (in->file_story && in->base &&
		    !story_field_equal(in->file_story, in->base, f))
			ours = in->written && in->written[f];
		if (a->file == PLAN_FILE_WRITE &&
		    (!was || !story_field_equal(was, &a->want, f)))
			ours = true;
		a->ours_after[f] = ours;
	}
}

bool plan_story(const struct plan_input *in, struct action *out)
{
	bool has_base = in->base != NULL;
	enum side file = normalize(in->file, in->file_story, has_base);
	enum side db = normalize(in->db, in->db_story, has_base);
	bool todo, given = false;

	memset(out, 0, sizeof(*out));
	out->id = xstrdup(in->id);
	if (!has_base)
		todo = plan_first_sight(in, file, db, out, &given);
	else if (file == SIDE_SAME)
		todo = plan_file_same(in, db, out);
	else if (file == SIDE_CHANGED)
		todo = plan_file_changed(in, db, out);
	else
		todo = plan_file_deleted(in, db, out);
	if (todo) {
		for (int f = 0; f < SF_COUNT; f++)
			out->differs[f] =
				!in->base ||
				!story_field_equal(&out->want, in->base, f);
		set_mirror_after(in, file, out);
		set_ours_after(in, out);
	} else
		action_finish(out);
	/* want holds its strings now (a story given is planned to be put) */
	if (given)
		memset(in->file_story_given, 0, sizeof(*in->file_story_given));
	return todo;
}

bool plan_row_defaults(const struct config *c, struct story *row)
{
	bool filled = false;

	/* with the status from its key, create_in is a folder, no status */
	if (!row->v[SF_STATUS] && !c->dialect.status_from_key && c->create_in) {
		story_set(row, SF_STATUS, c->create_in->status);
		filled = true;
	}
	if (!row->v[SF_BACKLOG] && c->nbacklogs == 1) {
		story_set(row, SF_BACKLOG, c->backlogs[0].name);
		filled = true;
	}
	/* no body is the empty one, as the file reads back: else the row
	 * would differ from a fresh import of its own file */
	if (!row->v[SF_BODY]) {
		story_set(row, SF_BODY, "");
		filled = true;
	}
	return filled;
}

bool plan_new_row_defaults(const struct config *c, struct story *row,
			   int64_t now_ns)
{
	bool filled = false;
	char *v;

	if (!row->v[SF_CREATED] &&
	    (v = story_created_now(&c->dialect, now_ns))) {
		story_set(row, SF_CREATED, v);
		free(v);
		filled = true;
	}
	v = story_new_extra(&c->dialect, row->v[SF_EXTRA]);
	if (v && !str_eq(v, row->v[SF_EXTRA])) {
		story_set(row, SF_EXTRA, v);
		filled = true;
	}
	free(v);
	return filled;
}

/* "a, b": the configured backlogs' names. */
static char *backlog_names(const struct config *c)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < c->nbacklogs; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", c->backlogs[i].name);
	return buf_detach(&b);
}

static bool status_allowed(const struct config *c, const char *status)
{
	if (!c->dialect.status_from_key)
		return status && config_stage_by_status(c, status);
	if (!status || !c->nstatuses)
		return true;
	for (size_t i = 0; i < c->nstatuses; i++)
		if (strcmp(c->statuses[i], status) == 0)
			return true;
	return false;
}

#define REFUSED "; refused: nothing written"

char *plan_row_refusal(const struct config *c, const struct story *row,
		       const char **field)
{
	const char *id = row->v[SF_ID], *b = row->v[SF_BACKLOG];
	const char *st = row->v[SF_STATUS];
	struct err e;
	char *names, *msg;
	int f;

	*field = "backlog";
	if (!b) {
		names = backlog_names(c);
		msg = xasprintf("story %s: no backlog, and the configuration "
				"has %zu (%s)" REFUSED,
				id, c->nbacklogs, names);
		free(names);
		return msg;
	}
	if (!config_backlog(c, b))
		return xasprintf(
			"story %s: backlog '%s' is not configured" REFUSED, id,
			b);
	*field = "status";
	if (!status_allowed(c, st))
		return xasprintf(
			c->dialect.status_from_key
				? "story %s: status '%s' is not one of "
				  "the configured statuses" REFUSED
				: "story %s: status '%s' has no stage "
				  "directory" REFUSED,
			id, st ? st : "");
	if (story_writable(row, &c->dialect, &f, &e))
		return NULL;
	*field = story_field_names[f];
	return xasprintf("story %s: %s" REFUSED, id, e.msg);
}
