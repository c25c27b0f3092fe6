/* test_plan.c: the decision table, the location rules and the merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

/* The three stories of a test: the base, the file's and the DB's. */
struct fixture {
	struct story base, file, db;
	char *mirror[SM_COUNT];
	struct action a;
};

static void fill_story(struct story *s)
{
	story_set(s, SF_ID, "INF-014");
	story_set(s, SF_BACKLOG, "platform");
	story_set(s, SF_STATUS, "active");
	story_set(s, SF_EPIC, "infra");
	story_set(s, SF_TITLE, "File system sync");
	story_set(s, SF_PRIORITY, "high");
	story_set(s, SF_POINTS, "8");
	story_set(s, SF_ASSIGNEES, "[\"ana\"]");
	story_set(s, SF_LABELS, "[\"sync\",\"sqlite\"]");
	story_set(s, SF_DEPENDS_ON, "[\"INF-012\",\"INF-013\"]");
	story_set(s, SF_CREATED, "2026-11-20");
	story_set(s, SF_BODY, "# Body\n");
	story_set(s, SF_PARENT, "INF-001");
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fill_story(&fx->base);
	fill_story(&fx->file);
	fill_story(&fx->db);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	story_finish(&fx->base);
	story_finish(&fx->file);
	story_finish(&fx->db);
	for (int k = 0; k < SM_COUNT; k++)
		free(fx->mirror[k]);
	action_finish(&fx->a);
	free(fx);
	return 0;
}

static void set_mirror(struct fixture *fx, enum story_mirror k, const char *v)
{
	free(fx->mirror[k]);
	fx->mirror[k] = v ? strdup(v) : NULL;
}

static void assert_str(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_non_null(got);
	if (want)
		assert_string_equal(got, want);
}

static void assert_story(const struct story *got, const struct story *want)
{
	for (int f = 0; f < SF_COUNT; f++)
		assert_str(got->v[f], want ? want->v[f] : NULL);
}

/* Every output field of one action. */
struct expect {
	enum plan_db_op db;
	enum plan_file_op file;
	bool rewrite_mirrors;
	enum plan_state_op state;
	const char *event, *origin;
	bool status_changed;
	const char *from_status;
	const char *conflict, *kept, *fields;
	const struct story *want, *lost; /* NULL: empty */
};

static void check(const struct action *a, const struct expect *x)
{
	assert_string_equal(a->id, "INF-014");
	assert_int_equal(a->db, x->db);
	assert_int_equal(a->file, x->file);
	assert_int_equal(a->rewrite_mirrors, x->rewrite_mirrors);
	assert_int_equal(a->state, x->state);
	assert_str(a->event, x->event);
	assert_str(a->origin, x->origin);
	assert_int_equal(a->status_changed, x->status_changed);
	assert_str(a->from_status, x->from_status);
	assert_str(a->conflict, x->conflict);
	assert_str(a->kept, x->kept);
	assert_str(a->conflict_fields, x->fields);
	assert_story(&a->want, x->want);
	assert_story(&a->lost, x->lost);
}

/* Plans with the given sides; a NULL story for a side that has none. */
static bool run(struct fixture *fx, enum side file, enum side db, bool base)
{
	bool fs = file == SIDE_CHANGED || file == SIDE_NEW;
	bool ds = db == SIDE_CHANGED || db == SIDE_NEW;
	struct plan_input in = {
		.id = "INF-014",
		.file = file,
		.file_story = fs ? &fx->file : NULL,
		.mirror = fx->mirror,
		.db = db,
		.db_story = ds ? &fx->db : NULL,
		.base = base ? &fx->base : NULL,
	};

	return plan_story(&in, &fx->a);
}

static void assert_action_empty(const struct action *a)
{
	struct action zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(a, &zero, sizeof(zero));
}

/* file SAME, db SAME */

static void same_same_does_nothing(void **state)
{
	struct fixture *fx = *state;

	assert_false(run(fx, SIDE_SAME, SIDE_SAME, true));
	assert_action_empty(&fx->a);
}

/* file SAME, db CHANGED */

static void same_changed_rewrites_file(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_TITLE, "Renamed in the API");
	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "db",
			      .want = &fx->db,
		      });
}

static void same_changed_status_moves_file(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_STATUS, "completed");
	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "db",
			      .status_changed = true,
			      .from_status = "active",
			      .want = &fx->db,
		      });
}

static void same_changed_epic_removed_is_moved(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_EPIC, NULL);
	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "db",
			      .want = &fx->db,
		      });
}

/* The API rewrote the row with the values it had: only the rev moved. */
static void same_changed_to_base_records_state_only(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .want = &fx->base,
		      });
}

/* a first-sight mismatch left in an unchanged file: a row rewritten to the
 * same values does not touch it, a real change does (and fixes the key) */
static void same_changed_stale_mirror_needs_real_change(void **state)
{
	struct fixture *fx = *state;

	set_mirror(fx, SM_STATUS, "backlog");
	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_null(fx->a.event);
	assert_int_equal(fx->a.state, PLAN_STATE_PUT);
	action_finish(&fx->a);
	story_set(&fx->db, SF_POINTS, "1");
	assert_true(run(fx, SIDE_SAME, SIDE_CHANGED, true));
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_true(fx->a.rewrite_mirrors);
	assert_string_equal(fx->a.event, "updated");
}

/* Plans like sync does: a SAME file is not read (no mirror), a changed one
 * brings its keys; base_mirror holds the keys when the base was agreed. */
static bool run_mirrors(struct fixture *fx, enum side file, enum side db,
			char *const *base_mirror)
{
	struct plan_input in = {
		.id = "INF-014",
		.file = file,
		.file_story = file == SIDE_CHANGED ? &fx->file : NULL,
		.mirror = file == SIDE_CHANGED ? fx->mirror : NULL,
		.db = db,
		.db_story = db == SIDE_CHANGED ? &fx->db : NULL,
		.base = &fx->base,
		.base_mirror = base_mirror,
	};

	return plan_story(&in, &fx->a);
}

/* a key adopted stale is rewritten only when its own field changes: the
 * API's edit of another field keeps it, and so the state says */
static void same_changed_keeps_stale_key(void **state)
{
	struct fixture *fx = *state;
	char backlog[] = "backlog";
	char *adopted[SM_COUNT] = {NULL, backlog, NULL};

	story_set(&fx->db, SF_PRIORITY, "low");
	assert_true(run_mirrors(fx, SIDE_SAME, SIDE_CHANGED, adopted));
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_true(fx->a.rewrite_mirrors);
	assert_true(fx->a.keep_mirror[SM_STATUS]);
	assert_true(fx->a.keep_mirror[SM_BACKLOG]);
	assert_true(fx->a.keep_mirror[SM_EPIC]);
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "backlog");
	action_finish(&fx->a);
	story_set(&fx->db, SF_STATUS, "completed");
	assert_true(run_mirrors(fx, SIDE_SAME, SIDE_CHANGED, adopted));
	assert_false(fx->a.keep_mirror[SM_STATUS]);
	assert_true(fx->a.keep_mirror[SM_BACKLOG]);
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "completed");
}

/* a person's edit of another field does not make storysync rewrite the
 * stale key either: the file holds what it should, nothing is written */
static void changed_same_keeps_stale_key(void **state)
{
	struct fixture *fx = *state;
	char backlog[] = "backlog";
	char *adopted[SM_COUNT] = {NULL, backlog, NULL};

	story_set(&fx->file, SF_TITLE, "Edited by hand");
	set_mirror(fx, SM_STATUS, "backlog");
	assert_true(run_mirrors(fx, SIDE_CHANGED, SIDE_SAME, adopted));
	assert_int_equal(fx->a.db, PLAN_DB_PUT);
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_true(fx->a.keep_mirror[SM_STATUS]);
	assert_string_equal(fx->a.want.v[SF_STATUS], "active");
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "backlog");
	action_finish(&fx->a);
	/* moved and the key edited: the location wins, the key follows */
	story_set(&fx->file, SF_STATUS, "completed");
	set_mirror(fx, SM_STATUS, "refinement");
	assert_true(run_mirrors(fx, SIDE_CHANGED, SIDE_SAME, adopted));
	assert_false(fx->a.keep_mirror[SM_STATUS]);
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "completed");
}

/* a key git carried to the file's path (a discarded rewrite) is no edit:
 * nothing moves, the key stays as the file has it, and the state records
 * it; without the fact the same key is an edit that moves the file */
static void changed_same_carried_key_moves_nothing(void **state)
{
	struct fixture *fx = *state;
	char active[] = "active";
	char *agreed[SM_COUNT] = {NULL, active, NULL};
	bool carried[SM_COUNT] = {false, true, false};
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.mirror = fx->mirror,
		.db = SIDE_SAME,
		.base = &fx->base,
		.base_mirror = agreed,
	};

	set_mirror(fx, SM_STATUS, "refinement");
	assert_true(plan_mirror_edited(&in, SM_STATUS));
	assert_false(plan_mirror_edited(&in, SM_BACKLOG));
	assert_true(plan_story(&in, &fx->a));
	assert_string_equal(fx->a.want.v[SF_STATUS], "refinement");
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	action_finish(&fx->a);
	in.mirror_carried = carried;
	assert_true(plan_story(&in, &fx->a));
	assert_string_equal(fx->a.want.v[SF_STATUS], "active");
	assert_int_equal(fx->a.db, PLAN_DB_NONE);
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_null(fx->a.event);
	assert_int_equal(fx->a.state, PLAN_STATE_PUT);
	assert_true(fx->a.keep_mirror[SM_STATUS]);
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "refinement");
	action_finish(&fx->a);
	/* another field edited with it: the row follows, the key stays */
	story_set(&fx->file, SF_TITLE, "Edited in git");
	assert_true(plan_story(&in, &fx->a));
	assert_int_equal(fx->a.db, PLAN_DB_PUT);
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_string_equal(fx->a.event, "updated");
	assert_string_equal(fx->a.want.v[SF_STATUS], "active");
	action_finish(&fx->a);
	/* the database moves it meanwhile: the key follows the new status */
	story_set(&fx->db, SF_TITLE, "Edited in git");
	story_set(&fx->db, SF_STATUS, "completed");
	in.db = SIDE_CHANGED;
	in.db_story = &fx->db;
	assert_true(plan_story(&in, &fx->a));
	assert_string_equal(fx->a.want.v[SF_STATUS], "completed");
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_false(fx->a.keep_mirror[SM_STATUS]);
	assert_string_equal(fx->a.mirror_after[SM_STATUS], "completed");
	assert_null(fx->a.conflict);
	action_finish(&fx->a);
	/* a moved file: the location decides, git is not asked */
	story_set(&fx->file, SF_STATUS, "completed");
	assert_false(plan_mirror_edited(&in, SM_STATUS));
}

/* file SAME, db DELETED */

static void same_deleted_deletes_file(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_SAME, SIDE_DELETED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_DELETE,
			      .state = PLAN_STATE_FORGET,
			      .event = "deleted",
			      .origin = "db",
		      });
}

/* file CHANGED, db SAME */

static void changed_same_updates_row(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_POINTS, "13");
	set_mirror(fx, SM_STATUS, "active");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .want = &fx->file,
		      });
}

/* a moved file wins, and its stale status: key is rewritten */
static void changed_same_moved_file_rewrites_key(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_STATUS, "completed");
	set_mirror(fx, SM_STATUS, "active");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "active",
			      .want = &fx->file,
		      });
}

/* a moved file with no mirror key: nothing to rewrite */
static void changed_same_moved_file_without_key(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_BACKLOG, "mobile");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .want = &fx->file,
		      });
}

/* an edited status: key wins: the row follows and the file moves */
static void changed_same_edited_key_moves_file(void **state)
{
	struct fixture *fx = *state;

	set_mirror(fx, SM_STATUS, "completed");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	story_set(&fx->base, SF_STATUS, "completed");
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "active",
			      .want = &fx->base,
		      });
}

/* moved and key edited to another place: the location wins, key rewritten */
static void changed_same_both_moved_location_wins(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_STATUS, "completed");
	set_mirror(fx, SM_STATUS, "backlog");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "active",
			      .want = &fx->file,
		      });
}

/* moved file whose key was edited to the same new place: nothing to fix */
static void changed_same_moved_and_key_agree(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_EPIC, "sync");
	set_mirror(fx, SM_EPIC, "sync");
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .want = &fx->file,
		      });
}

/* only the bytes changed (a comment): the state learns the new hash */
static void changed_same_bytes_only(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .want = &fx->base,
		      });
}

/* file CHANGED, db CHANGED */

static void changed_changed_disjoint_edits(void **state)
{
	struct fixture *fx = *state;
	struct story want = {0};

	story_set(&fx->file, SF_TITLE, "Title from the file");
	story_set(&fx->db, SF_ASSIGNEES, "[\"bob\"]");
	story_copy(&want, &fx->file);
	story_set(&want, SF_ASSIGNEES, "[\"bob\"]");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .want = &want,
		      });
	story_finish(&want);
}

static void changed_changed_same_field_conflicts(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_TITLE, "Title from the file");
	story_set(&fx->db, SF_TITLE, "Title from the API");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .conflict = "both_changed",
			      .kept = "file",
			      .fields = "title",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

/* The file holds a killed run's write: the priority it took from the
 * database then is no edit, the title is the person's; the API changed
 * the priority again since. */
static void changed_changed_written_fields_are_the_base(void **state)
{
	struct fixture *fx = *state;
	bool written[SF_COUNT] = {[SF_PRIORITY] = true};
	struct story want = {0};
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.mirror = fx->mirror,
		.db = SIDE_CHANGED,
		.db_story = &fx->db,
		.base = &fx->base,
		.written = written,
	};

	story_set(&fx->file, SF_TITLE, "Title from the file");
	story_set(&fx->file, SF_PRIORITY, "low");
	story_set(&fx->db, SF_PRIORITY, "critical");
	story_copy(&want, &fx->file);
	story_set(&want, SF_PRIORITY, "critical");
	assert_true(plan_story(&in, &fx->a));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .want = &want,
		      });
	/* the write takes the priority from the database, the title not */
	for (int f = 0; f < SF_COUNT; f++)
		assert_int_equal(fx->a.from_db[f], f == SF_PRIORITY);
	story_finish(&want);
}

/* Every field written from the database: the row decides alone, and the
 * file is rewritten to it. */
static void changed_changed_all_written_takes_the_row(void **state)
{
	struct fixture *fx = *state;
	bool written[SF_COUNT];
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.mirror = fx->mirror,
		.db = SIDE_CHANGED,
		.db_story = &fx->db,
		.base = &fx->base,
		.written = written,
	};

	for (int f = 0; f < SF_COUNT; f++)
		written[f] = true;
	story_set(&fx->file, SF_STATUS, "completed");
	story_set(&fx->db, SF_STATUS, "backlog");
	assert_true(plan_story(&in, &fx->a));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "db",
			      .status_changed = true,
			      .from_status = "active",
			      .want = &fx->db,
		      });
}

static void changed_changed_same_change_no_conflict(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_PRIORITY, "low");
	story_set(&fx->db, SF_PRIORITY, "low");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .want = &fx->file,
		      });
}

/* labels and depends_on merge as whole fields */
static void changed_changed_lists_conflict(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_LABELS, "[\"sync\",\"fs\"]");
	story_set(&fx->db, SF_LABELS, "[\"sync\",\"db\"]");
	story_set(&fx->file, SF_DEPENDS_ON, NULL);
	story_set(&fx->db, SF_DEPENDS_ON, "[\"INF-012\"]");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .conflict = "both_changed",
			      .kept = "file",
			      .fields = "labels,depends_on",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

static void changed_changed_lists_disjoint(void **state)
{
	struct fixture *fx = *state;
	struct story want = {0};

	story_set(&fx->file, SF_LABELS, "[\"sync\"]");
	story_set(&fx->db, SF_DEPENDS_ON, "[\"INF-001\",\"INF-012\"]");
	story_copy(&want, &fx->file);
	story_set(&want, SF_DEPENDS_ON, "[\"INF-001\",\"INF-012\"]");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .want = &want,
		      });
	story_finish(&want);
}

/* conflict fields come in enum order; status moves count as conflicts too */
static void changed_changed_fields_in_order(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_BODY, "file body\n");
	story_set(&fx->db, SF_BODY, "db body\n");
	story_set(&fx->file, SF_STATUS, "completed");
	story_set(&fx->db, SF_STATUS, "backlog");
	story_set(&fx->file, SF_EXTRA, "{\"x\":1}");
	story_set(&fx->db, SF_EXTRA, "{\"x\":2}");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "active",
			      .conflict = "both_changed",
			      .kept = "file",
			      .fields = "status,extra,body",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

/* the DB moved the story, the file edited its key elsewhere: the file's
 * edit (through the key) wins, the file moves and the key stays */
static void changed_changed_key_against_db_move(void **state)
{
	struct fixture *fx = *state;

	set_mirror(fx, SM_STATUS, "completed");
	story_set(&fx->db, SF_STATUS, "backlog");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	story_set(&fx->file, SF_STATUS, "completed");
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "active",
			      .conflict = "both_changed",
			      .kept = "file",
			      .fields = "status",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

/* the file changed in its bytes only: the DB's change goes to the file */
static void changed_changed_file_bytes_only(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_ASSIGNEES, "[\"bob\"]");
	assert_true(run(fx, SIDE_CHANGED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "db",
			      .want = &fx->db,
		      });
}

/* file CHANGED, db DELETED */

static void changed_deleted_recreates_row(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->file, SF_TITLE, "Still wanted");
	assert_true(run(fx, SIDE_CHANGED, SIDE_DELETED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "file",
			      .status_changed = true,
			      .conflict = "deleted_in_db",
			      .kept = "file",
			      .want = &fx->file,
			      .lost = &fx->base,
		      });
}

/* file DELETED, db SAME */

static void deleted_same_deletes_row(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_DELETED, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_DELETE,
			      .file = PLAN_FILE_NONE,
			      .state = PLAN_STATE_FORGET,
			      .event = "deleted",
			      .origin = "file",
		      });
}

/* file DELETED, db CHANGED */

static void deleted_changed_deletes_row_with_conflict(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_POINTS, "3");
	assert_true(run(fx, SIDE_DELETED, SIDE_CHANGED, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_DELETE,
			      .file = PLAN_FILE_NONE,
			      .state = PLAN_STATE_FORGET,
			      .event = "deleted",
			      .origin = "file",
			      .conflict = "deleted_in_file",
			      .kept = "file",
			      .lost = &fx->db,
		      });
}

/* file DELETED, db DELETED */

static void deleted_deleted_forgets_state(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_DELETED, SIDE_DELETED, true));
	check(&fx->a, &(struct expect){
			      .state = PLAN_STATE_FORGET,
		      });
}

/* file NEW, db ABSENT */

static void new_absent_inserts_row(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_NEW, SIDE_ABSENT, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "file",
			      .status_changed = true,
			      .want = &fx->file,
		      });
}

/* first sight: the location wins in the DB and the file stays as it is */
static void new_absent_mismatch_location_wins(void **state)
{
	struct fixture *fx = *state;

	set_mirror(fx, SM_STATUS, "backlog");
	set_mirror(fx, SM_EPIC, "other");
	assert_true(run(fx, SIDE_NEW, SIDE_ABSENT, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "file",
			      .status_changed = true,
			      .want = &fx->file,
		      });
}

/* file ABSENT, db NEW */

static void absent_new_creates_file(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_ABSENT, SIDE_NEW, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_NONE,
			      .file = PLAN_FILE_WRITE,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "db",
			      .status_changed = true,
			      .rewrite_mirrors = true,
			      .want = &fx->db,
		      });
}

/* file NEW, db NEW */

static void new_new_file_wins_no_base(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_ASSIGNEES, "[\"bob\"]");
	story_set(&fx->db, SF_BODY, "Filled in by the API\n");
	story_set(&fx->db, SF_STATUS, "backlog");
	set_mirror(fx, SM_STATUS, "backlog");
	assert_true(run(fx, SIDE_NEW, SIDE_NEW, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .file = PLAN_FILE_NONE,
			      .state = PLAN_STATE_PUT,
			      .event = "moved",
			      .origin = "file",
			      .status_changed = true,
			      .from_status = "backlog",
			      .conflict = "no_base",
			      .kept = "file",
			      .fields = "status,assignees,body",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

static void new_new_equal_records_state(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_NEW, SIDE_NEW, false));
	check(&fx->a, &(struct expect){
			      .state = PLAN_STATE_PUT,
			      .want = &fx->file,
		      });
}

static void new_new_field_update(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_CREATED, NULL);
	assert_true(run(fx, SIDE_NEW, SIDE_NEW, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "file",
			      .conflict = "no_base",
			      .kept = "file",
			      .fields = "created",
			      .want = &fx->file,
			      .lost = &fx->db,
		      });
}

/* combinations outside the table */

static void absent_absent_does_nothing(void **state)
{
	struct fixture *fx = *state;

	assert_false(run(fx, SIDE_ABSENT, SIDE_ABSENT, false));
	assert_action_empty(&fx->a);
}

/* a state exists, so a NEW row is a changed one */
static void same_new_with_base_is_changed(void **state)
{
	struct fixture *fx = *state;

	story_set(&fx->db, SF_TITLE, "Renamed in the API");
	assert_true(run(fx, SIDE_SAME, SIDE_NEW, true));
	check(&fx->a, &(struct expect){
			      .file = PLAN_FILE_WRITE,
			      .rewrite_mirrors = true,
			      .state = PLAN_STATE_PUT,
			      .event = "updated",
			      .origin = "db",
			      .want = &fx->db,
		      });
}

/* a state exists, so a file ABSENT is a deleted one */
static void absent_same_with_base_is_deleted(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_ABSENT, SIDE_SAME, true));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_DELETE,
			      .state = PLAN_STATE_FORGET,
			      .event = "deleted",
			      .origin = "file",
		      });
}

/* no state: a file DELETED is absent, and a row SAME was not seen */
static void deleted_new_without_base_creates_file(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_DELETED, SIDE_NEW, false));
	check(&fx->a, &(struct expect){
			      .file = PLAN_FILE_WRITE,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "db",
			      .status_changed = true,
			      .rewrite_mirrors = true,
			      .want = &fx->db,
		      });
}

static void changed_same_without_base_inserts(void **state)
{
	struct fixture *fx = *state;

	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, false));
	check(&fx->a, &(struct expect){
			      .db = PLAN_DB_PUT,
			      .state = PLAN_STATE_PUT,
			      .event = "created",
			      .origin = "file",
			      .status_changed = true,
			      .want = &fx->file,
		      });
}

/* plan_resolve_location */

static void resolve(struct fixture *fx, bool base, struct story *out)
{
	plan_resolve_location(&fx->file, fx->mirror, base ? &fx->base : NULL,
			      NULL, out);
}

static void resolve_empty_epic_key_means_none(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	set_mirror(fx, SM_EPIC, "");
	resolve(fx, true, &out);
	story_set(&fx->file, SF_EPIC, NULL);
	assert_story(&out, &fx->file);
	story_finish(&out);
}

static void resolve_empty_epic_key_matches_no_epic(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	story_set(&fx->base, SF_EPIC, NULL);
	story_set(&fx->file, SF_EPIC, NULL);
	set_mirror(fx, SM_EPIC, "");
	resolve(fx, true, &out);
	assert_story(&out, &fx->file);
	story_finish(&out);
	/* nothing to rewrite either */
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_null(fx->a.event);
}

static void resolve_empty_status_key_is_ignored(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	set_mirror(fx, SM_STATUS, "");
	resolve(fx, true, &out);
	assert_story(&out, &fx->file);
	story_finish(&out);
	/* but the blank key is repaired */
	assert_true(run(fx, SIDE_CHANGED, SIDE_SAME, true));
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_int_equal(fx->a.db, PLAN_DB_NONE);
}

static void resolve_key_edits_every_location_field(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	set_mirror(fx, SM_BACKLOG, "mobile");
	set_mirror(fx, SM_STATUS, "completed");
	set_mirror(fx, SM_EPIC, "ux");
	resolve(fx, true, &out);
	story_set(&fx->file, SF_BACKLOG, "mobile");
	story_set(&fx->file, SF_STATUS, "completed");
	story_set(&fx->file, SF_EPIC, "ux");
	assert_story(&out, &fx->file);
	story_finish(&out);
}

static void resolve_first_sight_takes_location(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	set_mirror(fx, SM_BACKLOG, "mobile");
	resolve(fx, false, &out);
	assert_story(&out, &fx->file);
	story_finish(&out);
}

static void resolve_no_mirror_vector(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};

	plan_resolve_location(&fx->file, NULL, &fx->base, NULL, &out);
	assert_story(&out, &fx->file);
	story_finish(&out);
}

/* Adopted with "status: backlog" in active/: the key did not change since,
 * so a later edit of the file is no request to move. */
static void resolve_adopted_mismatched_key_is_no_edit(void **state)
{
	struct fixture *fx = *state;
	char *was[SM_COUNT] = {NULL, (char *)"backlog", NULL};
	struct story out = {0};

	set_mirror(fx, SM_STATUS, "backlog");
	story_set(&fx->file, SF_TITLE, "Edited by hand");
	plan_resolve_location(&fx->file, fx->mirror, &fx->base, was, &out);
	assert_story(&out, &fx->file);
	story_finish(&out);
	/* but an edit of that key is one */
	set_mirror(fx, SM_STATUS, "completed");
	plan_resolve_location(&fx->file, fx->mirror, &fx->base, was, &out);
	assert_str(out.v[SF_STATUS], "completed");
	story_finish(&out);
}

/* The mirror keys the state records: a created file has all three; a
 * rewritten one has want's values in the keys it had; an untouched one
 * keeps its own. */
static void mirror_after_follows_the_file(void **state)
{
	struct fixture *fx = *state;
	char *was[SM_COUNT] = {NULL, (char *)"active", NULL};
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_SAME,
		.db = SIDE_CHANGED,
		.db_story = &fx->db,
		.base = &fx->base,
		.base_mirror = was,
	};

	story_set(&fx->db, SF_STATUS, "completed");
	assert_true(plan_story(&in, &fx->a));
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_null(fx->a.mirror_after[SM_BACKLOG]);
	assert_str(fx->a.mirror_after[SM_STATUS], "completed");
	assert_null(fx->a.mirror_after[SM_EPIC]);
	action_finish(&fx->a);

	in.file = SIDE_ABSENT;
	in.db = SIDE_NEW;
	in.base = NULL;
	in.base_mirror = NULL;
	assert_true(plan_story(&in, &fx->a));
	assert_str(fx->a.mirror_after[SM_BACKLOG], "platform");
	assert_str(fx->a.mirror_after[SM_STATUS], "completed");
	assert_str(fx->a.mirror_after[SM_EPIC], "infra");
	action_finish(&fx->a);

	/* a changed file that needs no write keeps its keys */
	set_mirror(fx, SM_EPIC, "infra");
	story_set(&fx->file, SF_TITLE, "Edited by hand");
	in = (struct plan_input){
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.mirror = fx->mirror,
		.db = SIDE_SAME,
		.base = &fx->base,
		.base_mirror = was,
	};
	assert_true(plan_story(&in, &fx->a));
	assert_int_equal(fx->a.file, PLAN_FILE_NONE);
	assert_null(fx->a.mirror_after[SM_STATUS]);
	assert_str(fx->a.mirror_after[SM_EPIC], "infra");
}

/* plan_merge */

static void merge_without_conflict_gives_null_fields(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};
	struct merge_result r;

	story_set(&fx->db, SF_POINTS, "5");
	plan_merge(&fx->base, &fx->file, &fx->db, NULL, &out, &r);
	assert_null(r.fields);
	assert_null(r.policy);
	assert_story(&out, &fx->db);
	story_finish(&out);
}

static void merge_without_base_takes_file(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};
	struct merge_result r;

	story_set(&fx->file, SF_ID, "INF-014");
	story_set(&fx->file, SF_TITLE, "file");
	story_set(&fx->db, SF_PRIORITY, NULL);
	plan_merge(NULL, &fx->file, &fx->db, NULL, &out, &r);
	assert_string_equal(r.fields, "title,priority");
	assert_string_equal(r.policy, "title=file,priority=file");
	assert_string_equal(r.kept, "file");
	assert_story(&out, &fx->file);
	free(r.fields);
	free(r.policy);
	story_finish(&out);
}

/* a field the file removed while the DB kept it: the removal wins */
static void merge_file_removal_wins_over_db_edit(void **state)
{
	struct fixture *fx = *state;
	struct story out = {0};
	struct merge_result r;

	story_set(&fx->file, SF_ASSIGNEES, NULL);
	story_set(&fx->db, SF_ASSIGNEES, "[\"bob\"]");
	story_set(&fx->db, SF_EXTRA, "{\"team\":\"core\"}");
	plan_merge(&fx->base, &fx->file, &fx->db, NULL, &out, &r);
	assert_string_equal(r.fields, "assignees");
	assert_null(out.v[SF_ASSIGNEES]);
	assert_string_equal(out.v[SF_EXTRA], "{\"team\":\"core\"}");
	free(r.fields);
	free(r.policy);
	story_finish(&out);
}

/*
 * The conflict policy, cell by cell: for every field, each way the two
 * sides can stand against the base, with the file winning and with the
 * database winning that field. Only a field both sides changed to
 * different values is decided by the policy, and only it is recorded.
 */
static const char *const other_value[SF_COUNT] = {
	[SF_ID] = "INF-014",         [SF_BACKLOG] = "mobile",
	[SF_STATUS] = "backlog",     [SF_EPIC] = "web",
	[SF_TITLE] = "Other",        [SF_PRIORITY] = "low",
	[SF_POINTS] = "3",           [SF_ASSIGNEES] = "[\"bo\"]",
	[SF_LABELS] = "[\"x\"]",     [SF_DEPENDS_ON] = "[\"INF-001\"]",
	[SF_CREATED] = "2020-01-01", [SF_EXTRA] = "{\"k\":1}",
	[SF_BODY] = "Other body\n",  [SF_PARENT] = "INF-002",
};
static const char *const third_value[SF_COUNT] = {
	[SF_ID] = "INF-014",
	[SF_BACKLOG] = "web",
	[SF_STATUS] = "completed",
	[SF_EPIC] = "api",
	[SF_TITLE] = "Third",
	[SF_PRIORITY] = "medium",
	[SF_POINTS] = "13",
	[SF_ASSIGNEES] = NULL,
	[SF_LABELS] = "[]",
	[SF_DEPENDS_ON] = NULL,
	[SF_CREATED] = NULL,
	[SF_EXTRA] = "{\"k\":2}",
	[SF_BODY] = "",
	[SF_PARENT] = NULL,
};

static void merge_policy_cell_by_cell(void **state)
{
	struct fixture *fx = *state;
	/* file, db: 0 as the base, 1 changed, 2 changed differently */
	static const int cells[][2] = {{0, 0}, {1, 0}, {0, 1},
				       {1, 1}, {1, 2}, {2, 1}};

	for (int f = 1; f < SF_COUNT; f++) /* the id is the story's key */
		for (size_t c = 0; c < sizeof(cells) / sizeof(*cells); c++)
			for (int to_db = 0; to_db < 2; to_db++) {
				const char *vals[3] = {fx->base.v[f],
						       other_value[f],
						       third_value[f]};
				const char *fv = vals[cells[c][0]];
				const char *dv = vals[cells[c][1]];
				bool wins[SF_COUNT] = {false};
				bool conflict = cells[c][0] && cells[c][1] &&
						cells[c][0] != cells[c][1];
				struct story out = {0};
				struct merge_result r;
				char *want_policy;

				wins[f] = to_db;
				story_set(&fx->file, f, fv);
				story_set(&fx->db, f, dv);
				plan_merge(&fx->base, &fx->file, &fx->db, wins,
					   &out, &r);
				/* one side changed: it wins, whatever the
				 * policy; both: the policy decides */
				assert_str(out.v[f], !cells[c][0]        ? dv
						     : !cells[c][1]      ? fv
						     : conflict && to_db ? dv
									 : fv);
				if (!conflict) {
					assert_null(r.fields);
					assert_null(r.policy);
					assert_string_equal(r.kept, "file");
				} else {
					want_policy = NULL;
					assert_string_equal(
						r.fields, story_field_names[f]);
					assert_string_equal(
						r.kept, to_db ? "db" : "file");
					assert_true(
						asprintf(&want_policy, "%s=%s",
							 story_field_names[f],
							 to_db ? "db"
							       : "file") > 0);
					assert_string_equal(r.policy,
							    want_policy);
					free(want_policy);
				}
				assert_int_equal(r.decided[f], conflict);
				free(r.fields);
				free(r.policy);
				story_finish(&out);
				story_set(&fx->file, f, fx->base.v[f]);
				story_set(&fx->db, f, fx->base.v[f]);
			}
}

/* Each side wins some: kept "mixed", and the lost version holds each
 * decided field at its loser's value. */
static void both_changed_mixed_policy(void **state)
{
	struct fixture *fx = *state;
	bool wins[SF_COUNT] = {[SF_STATUS] = true};
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.db = SIDE_CHANGED,
		.db_story = &fx->db,
		.base = &fx->base,
		.db_wins = wins,
	};

	story_set(&fx->file, SF_TITLE, "File title");
	story_set(&fx->file, SF_STATUS, "completed");
	story_set(&fx->db, SF_TITLE, "DB title");
	story_set(&fx->db, SF_STATUS, "backlog");
	story_set(&fx->db, SF_POINTS, "5"); /* the DB's alone: no conflict */
	assert_true(plan_story(&in, &fx->a));
	assert_string_equal(fx->a.conflict, "both_changed");
	assert_string_equal(fx->a.kept, "mixed");
	assert_string_equal(fx->a.conflict_fields, "status,title");
	assert_string_equal(fx->a.conflict_policy, "status=db,title=file");
	assert_string_equal(fx->a.want.v[SF_TITLE], "File title");
	assert_string_equal(fx->a.want.v[SF_STATUS], "backlog");
	assert_string_equal(fx->a.want.v[SF_POINTS], "5");
	assert_string_equal(fx->a.lost.v[SF_TITLE], "DB title");
	assert_string_equal(fx->a.lost.v[SF_STATUS], "completed");
	assert_string_equal(fx->a.lost.v[SF_POINTS], "5");
	assert_int_equal(fx->a.db, PLAN_DB_PUT);
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE); /* moved to backlog */
}

/* The database wins all it changed: kept "db", the file's version lost. */
static void both_changed_db_policy(void **state)
{
	struct fixture *fx = *state;
	bool wins[SF_COUNT] = {[SF_TITLE] = true};
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_CHANGED,
		.file_story = &fx->file,
		.db = SIDE_CHANGED,
		.db_story = &fx->db,
		.base = &fx->base,
		.db_wins = wins,
	};

	story_set(&fx->file, SF_TITLE, "File title");
	story_set(&fx->db, SF_TITLE, "DB title");
	assert_true(plan_story(&in, &fx->a));
	assert_string_equal(fx->a.kept, "db");
	assert_string_equal(fx->a.conflict_policy, "title=db");
	assert_string_equal(fx->a.want.v[SF_TITLE], "DB title");
	assert_story(&fx->a.lost, &fx->file);
	assert_int_equal(fx->a.file, PLAN_FILE_WRITE);
	assert_int_equal(fx->a.db, PLAN_DB_NONE);
}

/* ---- the rows the API writes: defaults and refusals ---- */

static char n_platform[] = "platform", n_mobile[] = "mobile", p_p[] = "p",
	    p_m[] = "m", s_ref[] = "refinement", d_ref[] = "refinements",
	    s_act[] = "active";
static struct config_backlog two_backlogs[] = {
	{.name = n_platform, .path = p_p},
	{.name = n_mobile, .path = p_m},
};
static struct config_stage two_stages[] = {
	{.status = s_ref, .dir = d_ref},
	{.status = s_act, .dir = s_act},
};

static void api_config(struct config *c, size_t nbacklogs)
{
	memset(c, 0, sizeof(*c));
	c->backlogs = two_backlogs;
	c->nbacklogs = nbacklogs;
	c->stages = two_stages;
	c->nstages = 2;
	c->create_in = &two_stages[1];
	c->dialect = story_dialect_default;
}

static void row_defaults(void **state)
{
	struct config c;
	struct story row = {0};

	api_config(&c, 1);
	story_set(&row, SF_ID, "N-1");
	story_set(&row, SF_TITLE, "New");
	assert_true(plan_row_defaults(&c, &row));
	assert_string_equal(row.v[SF_STATUS], "active");
	assert_string_equal(row.v[SF_BACKLOG], "platform");
	assert_string_equal(row.v[SF_BODY], "");
	assert_false(plan_row_defaults(&c, &row));
	story_finish(&row);
	/* several backlogs: none is taken; the status from its key: none */
	api_config(&c, 2);
	c.dialect.status_from_key = true;
	story_set(&row, SF_ID, "N-1");
	story_set(&row, SF_BODY, "");
	assert_false(plan_row_defaults(&c, &row));
	assert_null(row.v[SF_STATUS]);
	assert_null(row.v[SF_BACKLOG]);
	story_finish(&row);
}

static void check_refusal(const struct config *c, enum story_field f,
			  const char *value, const char *field, const char *msg)
{
	struct story row = {0};
	const char *got_field = NULL;
	char *why;

	story_set(&row, SF_ID, "N-1");
	story_set(&row, SF_TITLE, "New");
	story_set(&row, SF_BACKLOG, "mobile");
	story_set(&row, SF_STATUS, "active");
	story_set(&row, f, value);
	why = plan_row_refusal(c, &row, &got_field);
	if (!msg) {
		assert_null(why);
	} else {
		assert_non_null(why);
		assert_string_equal(why, msg);
		assert_string_equal(got_field, field);
	}
	free(why);
	story_finish(&row);
}

static void row_refusals(void **state)
{
	struct config c;
	static const char *const statuses[] = {"To Do", "Done"};

	api_config(&c, 2);
	check_refusal(&c, SF_TITLE, "Fine", NULL, NULL);
	check_refusal(&c, SF_BACKLOG, NULL, "backlog",
		      "story N-1: no backlog, and the configuration has 2 "
		      "(platform, mobile); refused: nothing written");
	check_refusal(&c, SF_BACKLOG, "web", "backlog",
		      "story N-1: backlog 'web' is not configured; refused: "
		      "nothing written");
	check_refusal(&c, SF_STATUS, "done", "status",
		      "story N-1: status 'done' has no stage directory; "
		      "refused: nothing written");
	check_refusal(&c, SF_POINTS, "abc", "points",
		      "story N-1: points is not an integer: abc; refused: "
		      "nothing written");
	check_refusal(&c, SF_TITLE, "", "title",
		      "story N-1: title must not be empty; refused: nothing "
		      "written");
	/* with the status from its key, statuses: decides */
	c.dialect.status_from_key = true;
	check_refusal(&c, SF_STATUS, "anything", NULL, NULL);
	c.statuses = (char **)statuses;
	c.nstatuses = 2;
	c.dialect.statuses = statuses;
	c.dialect.nstatuses = 2;
	check_refusal(&c, SF_STATUS, "Done", NULL, NULL);
	check_refusal(&c, SF_STATUS, NULL, NULL, NULL);
	check_refusal(&c, SF_STATUS, "Blocked", "status",
		      "story N-1: status 'Blocked' is not one of the "
		      "configured statuses; refused: nothing written");
}

/* A first load gives the file's story away: the new story's action is
 * the one a copy plans (want, mirror and ours rules alike), holds the
 * given strings themselves, and the story given is left empty. */
static void new_file_story_given(void **state)
{
	struct fixture *fx = *state;
	struct story given = {0}, want = {0};
	char *body;
	struct plan_input in = {
		.id = "INF-014",
		.file = SIDE_NEW,
		.file_story = &fx->file,
		.mirror = fx->mirror,
		.db = SIDE_ABSENT,
	};
	struct action copied;

	set_mirror(fx, SM_STATUS, "active");
	assert_true(plan_story(&in, &copied));
	story_copy(&given, &fx->file);
	body = given.v[SF_BODY];
	in.file_story = &given;
	in.file_story_given = &given;
	assert_true(plan_story(&in, &fx->a));
	assert_ptr_equal(fx->a.want.v[SF_BODY], body);
	for (int f = 0; f < SF_COUNT; f++)
		assert_null(given.v[f]);
	check(&fx->a, &(struct expect){.db = PLAN_DB_PUT,
				       .state = PLAN_STATE_PUT,
				       .event = "created",
				       .origin = "file",
				       .status_changed = copied.status_changed,
				       .from_status = copied.from_status,
				       .want = &fx->file});
	assert_true(copied.status_changed);
	assert_int_equal(fx->a.file, copied.file);
	assert_int_equal(fx->a.rewrite_mirrors, copied.rewrite_mirrors);
	for (int k = 0; k < SM_COUNT; k++) {
		assert_int_equal(fx->a.keep_mirror[k], copied.keep_mirror[k]);
		assert_str(fx->a.mirror_after[k], copied.mirror_after[k]);
	}
	assert_memory_equal(fx->a.ours_after, copied.ours_after,
			    sizeof(copied.ours_after));
	/* given but not the file story planned: copied, kept */
	action_finish(&fx->a);
	story_copy(&want, &fx->file);
	in.file_story = &fx->file;
	in.file_story_given = &want;
	assert_true(plan_story(&in, &fx->a));
	assert_story(&want, &fx->file);
	assert_true(fx->a.want.v[SF_BODY] != want.v[SF_BODY]);
	story_finish(&want);
	action_finish(&copied);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(same_same_does_nothing),
		T(new_file_story_given),
		T(merge_policy_cell_by_cell),
		T(both_changed_mixed_policy),
		T(both_changed_db_policy),
		T(same_changed_rewrites_file),
		T(same_changed_status_moves_file),
		T(same_changed_epic_removed_is_moved),
		T(same_changed_to_base_records_state_only),
		T(same_changed_stale_mirror_needs_real_change),
		T(same_changed_keeps_stale_key),
		T(changed_same_keeps_stale_key),
		T(changed_same_carried_key_moves_nothing),
		T(same_deleted_deletes_file),
		T(changed_same_updates_row),
		T(changed_same_moved_file_rewrites_key),
		T(changed_same_moved_file_without_key),
		T(changed_same_edited_key_moves_file),
		T(changed_same_both_moved_location_wins),
		T(changed_same_moved_and_key_agree),
		T(changed_same_bytes_only),
		T(changed_changed_disjoint_edits),
		T(changed_changed_same_field_conflicts),
		T(changed_changed_same_change_no_conflict),
		T(changed_changed_written_fields_are_the_base),
		T(changed_changed_all_written_takes_the_row),
		T(changed_changed_lists_conflict),
		T(changed_changed_lists_disjoint),
		T(changed_changed_fields_in_order),
		T(changed_changed_key_against_db_move),
		T(changed_changed_file_bytes_only),
		T(changed_deleted_recreates_row),
		T(deleted_same_deletes_row),
		T(deleted_changed_deletes_row_with_conflict),
		T(deleted_deleted_forgets_state),
		T(new_absent_inserts_row),
		T(new_absent_mismatch_location_wins),
		T(absent_new_creates_file),
		T(new_new_file_wins_no_base),
		T(new_new_equal_records_state),
		T(new_new_field_update),
		T(absent_absent_does_nothing),
		T(same_new_with_base_is_changed),
		T(absent_same_with_base_is_deleted),
		T(deleted_new_without_base_creates_file),
		T(changed_same_without_base_inserts),
		T(resolve_empty_epic_key_means_none),
		T(resolve_empty_epic_key_matches_no_epic),
		T(resolve_empty_status_key_is_ignored),
		T(resolve_key_edits_every_location_field),
		T(resolve_first_sight_takes_location),
		T(resolve_adopted_mismatched_key_is_no_edit),
		T(mirror_after_follows_the_file),
		T(resolve_no_mirror_vector),
		T(merge_without_conflict_gives_null_fields),
		T(merge_without_base_takes_file),
		T(merge_file_removal_wins_over_db_edit),
		cmocka_unit_test(row_defaults),
		cmocka_unit_test(row_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
