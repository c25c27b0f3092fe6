#ifndef STORYSYNC_CORE_PLAN_H
#define STORYSYNC_CORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "detect.h"
#include "story.h"

/*
 * Plan: a pure function from the two sides of each story and its base to
 * the actions that bring both sides to one agreed version. No I/O: the
 * whole decision table of doc/design.md is unit-tested without a disk.
 */

/* Everything known of one story before deciding. */
struct plan_input {
	const char *id;
	enum side file; /* SIDE_SAME when the scan found nothing */
	const struct story *file_story; /* location from the path; NULL unless
					   CHANGED or NEW */
	struct story *file_story_given; /* file_story, or NULL: the caller's
					   to give away. A new story's want
					   takes its strings instead of a
					   copy of them, and plan_story
					   leaves it empty (a first load's:
					   its copy was a tenth of the
					   applying thread) */
	char *const *mirror; /* file's mirror keys (SM_COUNT), or NULL */
	bool status_is_data; /* status comes from its key: a change of it is
				an update, not a move */
	enum side db;        /* SIDE_SAME when the row did not change */
	const struct story *db_story; /* NULL unless CHANGED or NEW */
	const struct story *base;     /* NULL when there is no state */
	char *const *base_mirror;     /* the file's mirror keys (SM_COUNT) when
					 the base was agreed, or NULL: unknown */
	const bool *db_wins; /* SF_COUNT: the fields the database wins when
				both sides changed them (the conflict
				policy); NULL: the file wins every one */
	const bool *mirror_carried; /* SM_COUNT, or NULL: the file's keys
				       that are git's, not edits
				       (detect_git_carried): such a key
				       moves nothing and stays as it is */
	bool mirror_ours;           /* the file's mirror keys are as a write
				       of storysync's left them (a killed
				       run's, by the write journal): no
				       edit, and stale where they name
				       another location than want's */
	const bool *ours;    /* SF_COUNT: the fields whose value in the agreed
				file storysync wrote from the database and no
				person edited since (the state's); NULL: none */
	const bool *written; /* SF_COUNT: the fields the file holds from a
				write of storysync's own from the database
				that no run committed (a killed run's, by the
				write journal): no edit of a person's, so
				they merge as the base's (without a base,
				as the row's); NULL: none */
	bool killed_write;   /* written is a killed run's write, found by
				the write journal (not a discard's): a file
				that differs from the base in those fields
				alone holds no one's edit, and a row the API
				deleted since takes it */
	bool undeleted;      /* the file, NEW with no row, is git's version
				put back of one storysync deleted because
				the API deleted its row, git not having
				taken that deletion (sync_discard.c): a
				discard of storysync's deletion, not a new
				story. The deletion stands, the file goes
				again, and its story is kept as a conflict
				the database won (a person who meant to
				undelete it does so no tool can tell) */
	bool ours_gone;      /* the file, NEW with no row, is a killed run's
				whole render of a row no run agreed on, as
				it wrote it and where (the write journal),
				and the API has deleted the row since:
				storysync's own file, no one's edit, goes as
				the row did */
};

enum plan_db_op { PLAN_DB_NONE, PLAN_DB_PUT, PLAN_DB_DELETE };
enum plan_file_op {
	PLAN_FILE_NONE,
	/* create, or edit and/or move, to hold want; set exactly when the
	   file must change: want differs from the file's story (file_story,
	   or the base when the file is SAME) in any field, or the file
	   changed, rewrite_mirrors is set and a mirror key present in it
	   differs from want's location ("epic:" empty == no epic) */
	PLAN_FILE_WRITE,
	PLAN_FILE_DELETE,
};
enum plan_state_op { PLAN_STATE_NONE, PLAN_STATE_PUT, PLAN_STATE_FORGET };

/* What to do for one story. */
struct action {
	char *id;
	struct story want; /* the agreed version (empty when deleted) */
	enum plan_db_op db;
	enum plan_file_op file;
	bool rewrite_mirrors;       /* PLAN_FILE_WRITE: mirror keys follow want
				       (false on first sight: adopting a tree must
				       not rewrite it) */
	bool keep_mirror[SM_COUNT]; /* this key stays as the file has it even
				       so: its location did not change and
				       the key was not edited (a stale key
				       adopted on first sight is rewritten
				       only when its own field changes) */
	enum plan_state_op state;
	const char
		*event; /* "created", "updated", "moved", "deleted" or NULL */
	const char *origin; /* "file" or "db": the side the change came from;
			       NULL when event is NULL */
	char *from_status;  /* status before, when the status changed; NULL
			       with status_changed for "created" */
	bool status_changed;
	/* conflict, when both sides changed */
	const char *conflict;  /* kind, or NULL: "both_changed",
				  "deleted_in_db", "deleted_in_file",
				  "no_base" */
	const char *kept;      /* "file", "db" or "mixed": who won the fields
				  decided */
	char *conflict_fields; /* comma-separated fields decided */
	char *conflict_policy; /* "title=file,status=db": who won each, by
				  the policy; NULL when not a merge */
	struct story lost;     /* the losing version in full */
	/* the file's mirror keys after this action, for the state */
	char *mirror_after[SM_COUNT];
	/* PLAN_FILE_WRITE: the fields in which want is not the file's story
	 * as planned from (the file rendered or rewritten from the base:
	 * all): what the write takes from the database, for the journal */
	bool from_db[SF_COUNT];
	/* the fields in which want is not the base's (all without a base):
	 * of from_db, those a rewrite's values line holds (the others are
	 * the base's, which the next run has as the agreed one) */
	bool differs[SF_COUNT];
	/* PLAN_STATE_PUT: the fields of the file, once the action is
	 * carried out, whose value storysync wrote from the database and no
	 * person has edited since (plan_input.ours, less the fields the
	 * file's edit changed, plus what this write takes from the
	 * database): what a discard of the file takes back is not an edit
	 * of theirs */
	bool ours_after[SF_COUNT];
	/* with ours_after: the version HEAD held when the first of
	 * those writes went over it (state_entry.before); the caller's */
	char before[BLOBID_HEX];
	/* with before: the path a write took the file from, where git held
	 * before then (state_entry.before_path); NULL when none. The
	 * caller's, freed with the action */
	char *before_path;
	/* PLAN_FILE_DELETE of a row the API deleted: HEAD's commit (and in
	 * before, HEAD's version of the path), for the deleted file's record
	 * (store_deleted_put); "" when git holds no such thing. The
	 * caller's */
	char head[BLOBID_HEX];
};

/* Decides the action for one story; false when nothing at all is to be done
 * (out is then left empty). True with event NULL when only the state is to
 * be recorded (the story did not change as a story). */
bool plan_story(const struct plan_input *in, struct action *out);
/* Frees what plan_story filled in. */
void action_finish(struct action *a);

/* The file side's story with its location fields decided against the base:
 * a moved file wins, else an edited mirror key (one that differs from what
 * the key held at the base, base_mirror, or when that is unknown from the
 * base's location), else the location; on first sight (base NULL) the
 * location. Fills out (empty before). */
void plan_resolve_location(const struct story *file_story, char *const *mirror,
			   const struct story *base, char *const *base_mirror,
			   struct story *out);

/* True when plan_story would take the file's mirror key k as an edit: the
 * file's location did not change, and the key names another one than the
 * base's and than the key held at the base. The one case in which the
 * caller asks git whether the key is carried (mirror_carried). */
bool plan_mirror_edited(const struct plan_input *in, enum story_mirror k);
/* Fills in what an API insert may leave out of row: a NULL status is
 * create_in's (where the location is the status), a NULL backlog the only
 * one there is. True when it filled in something, which the row is then to
 * get too. */
bool plan_row_defaults(const struct config *c, struct story *row);
/* Fills in what a story the API creates (no file, no state) gets as the
 * tree's tool would give it: created (now_ns, in created_format:) when the
 * row has none, and new_file:'s keys in extra (story_new_extra). True when
 * it filled in something, which the row is then to get too. */
bool plan_new_row_defaults(const struct config *c, struct story *row,
			   int64_t now_ns);
/* Why row, as the API wrote it, cannot be written to its file as the same
 * story ("story ID: ...; refused: nothing written", heap), or NULL; *field
 * names the field. An unknown or missing backlog, a status with no stage
 * (or not among statuses:), or a value story_writable refuses. */
char *plan_row_refusal(const struct config *c, const struct story *row,
		       const char **field);

/* What a merge decided: the fields both sides changed to different values
 * (comma-separated, NULL when none), who won each by the policy
 * ("title=file,status=db"), and who won them all ("file", "db", or
 * "mixed"). */
struct merge_result {
	char *fields;
	char *policy;
	const char *kept;
	bool decided[SF_COUNT];
};

/* Three-way merge of file and db against base: a field changed on one side
 * takes that side's value; on both sides, the file's, or the database's
 * where db_wins (SF_COUNT, may be NULL) says so. */
void plan_merge(const struct story *base, const struct story *file,
		const struct story *db, const bool *db_wins, struct story *out,
		struct merge_result *r);

#endif
