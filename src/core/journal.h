#ifndef STORYSYNC_CORE_JOURNAL_H
#define STORYSYNC_CORE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "story.h"
#include "strmap.h"

/*
 * The write journal's lines (the file is fsx_journal_*'s): one for every
 * file a run writes or moves from the database, appended before the file
 * is put in place, "HASH ID FIELDS PATH\n": the blob id the file at PATH
 * holds once written, the story, and the fields the write took from the
 * database (comma-separated names, "*" for all, "-" for none). A run that
 * commits forgets the lines of the stories it committed; a run that looked
 * at every file also those of the stories it left nothing pending for.
 * The others wait for the run that does.
 *
 * A write that overrides values of the file (a conflict the database won,
 * a discard) is followed by "! HASH ID KIND KEPT FIELDS POLICY LOST\n":
 * the conflict its run records, for the same blob ("-" for a NULL FIELDS
 * or POLICY; LOST the losing version as a JSON object). A run killed
 * before its commit leaves the file with the database's values and no
 * record: the next run that finds that blob records the conflict from
 * here (an older binary skips the line).
 *
 * A file deleted because the API deleted its row is noted before the
 * unlink as "- HASH ID HEAD BEFORE PATH\n": the blob the file held, the
 * story, HEAD's commit and HEAD's version of the path then ("-" outside
 * git; see store_deleted_put), and the path. A run killed before its
 * commit leaves the file gone and the story's state behind: the next run
 * that finds that file still gone finishes the deletion from here (the
 * event, the deleted file's record, the state forgotten) instead of
 * taking it for a person's deletion (an older binary skips the line).
 *
 * A leftover the scan removes (git's version put back beside storysync's
 * move, discard_leftovers) is noted before the unlink, and the journal
 * made durable, as "x HASH ID HEAD BEFORE OURS PATH\tCOPY\n": the blob it
 * held, the story, HEAD's commit and HEAD's version of the path ("-"
 * outside git), the fields that were storysync's when the copy may hold
 * a person's value there ("-": none may, see doubt_leftover), the path,
 * and the copy's values as a JSON object (which holds no tab: the last
 * tab ends the path). The removal comes before the run's transaction, so
 * a run killed before its commit (or one that stops on a guard, or
 * finds the database busy) leaves the copy gone and no record: the next
 * run that commits records it from here (an older binary skips the
 * line). Every such line is recorded by the run that commits with it.
 *
 * A move made is noted right after the rename as "> ID PATH\n": the
 * lines of story id naming path before it are of a file that got there.
 * Without it, a killed run's move line whose content is found at the old
 * place is a move the run never made; with it, that file is a person's
 * move back (model seed 140). A write that no move goes before (in
 * place, or a creation) appends its "> " line with its own: its content
 * is the run's making, and found elsewhere is a person's move made
 * after the run (model seed 3102). One lost to a crash leaves the move
 * line read as a move not made (an older binary skips the line).
 *
 * A rewrite's line is followed by "= HASH ID VALUES\n": the values the
 * write took from the database, for the fields that are data (not the
 * location's, nor the body or the keys kept whole: see apply.c's
 * values_of) and that it changed from the base, as a JSON object of those
 * fields alone. A person who edits the file
 * after a killed run edits the run's write, as if that run had committed:
 * the next run takes these values as the base of those fields, so that
 * the file's value the run wrote is no edit (the API's later change of it
 * wins) and another is an edit of the run's, against the API's later one
 * (status_from: key; an older binary skips the line, and a journal without
 * it keeps the rules before). "@ HASH ID INO MTIME SIZE\n" gives the
 * identity (inode, mtime in ns, size) the file will have in place: its
 * temporary file's once written, which the rename keeps; journaled
 * before the rename (covered by the batch's barrier, as every line), so
 * that a kill at any point leaves the identity of every write put in
 * place. A file that holds that blob with another identity was written
 * again since, by a person who may have typed the run's values. A write
 * never put in place (killed first) is told by its temporary file, one
 * the "t " lines name, which still holds that identity: the next run
 * says so, "^ HASH ID\n", synced before it removes that file, and the
 * write is taken as never placed. An older binary's "~ " line, the same
 * fields read back after the rename, says the write was placed; an older
 * binary skips the "@ " and "^ " lines (a write then without identity:
 * the rules before).
 *
 * Each temporary file a write may be made in is named before it is
 * made, "t ID WHERE NAME\n": WHERE "tree" (NAME a path beneath the root,
 * beside the story), or "spare" (NAME in the spares' directory: a
 * temporary file made there, out of git's sight, or a spare written
 * again). The next run removes a killed run's temporary files by these
 * names, and no other file: one a person or a commit put there under
 * such a name is not storysync's (an older binary skips the line).
 *
 * A write that moves the file for the database, git holding at the place
 * it takes the file from the version the state's before names then (the
 * action's before and before_path, which a run that commits records), is
 * preceded by "o HASH ID BEFORE PATH\n": that version and that place.
 * A discard after a killed run puts that version back there: the next run
 * tells it from a person's file by these bytes, as it tells a committed
 * run's by the state's before (model wide seed 1563: a person's commit
 * of the path since the last run that committed made git's version
 * there look like theirs, and both files were named; an older binary
 * skips the line).
 *
 * A move that made directories for its file notes the top one before its
 * "> " line, as "+ ID DIR\n": the run made DIR and those below it on the
 * way to the file. A killed run's move left where no configuration has a
 * backlog (the change it followed thrown away) is removed by the next
 * run when it holds the run's write untouched and the story is
 * elsewhere, and so are the directories the line says it made, once
 * empty (an older binary skips the line).
 */

/* One line, its strings pointing into the journal's text. */
struct journal_line {
	const char *hash, *id, *fields, *path;
	size_t at; /* its place among the journal's lines */
};

/* One conflict line, its strings pointing into the journal's text (fields
 * and policy NULL for "-"). */
struct journal_conflict {
	const char *hash, *id, *kind, *kept, *fields, *policy, *lost;
};

/* One deletion line, its strings pointing into the journal's text (head
 * and before NULL for "-"). */
struct journal_deletion {
	const char *hash, *id, *head, *before, *path;
};

/* One leftover line, its strings pointing into the journal's text (head,
 * before and ours NULL for "-"). */
struct journal_leftover {
	const char *hash, *id, *head, *before, *ours, *path, *copy;
};

/* One source line ("o "), its strings pointing into the journal's text. */
struct journal_source {
	const char *hash, *id, *before, *path;
};

/* One directory made line, its strings pointing into the journal's text. */
struct journal_made {
	const char *id, *path;
};

/* One values line, its strings pointing into the journal's text. */
struct journal_values {
	const char *hash, *id, *json;
	size_t at; /* its place among the journal's lines */
};

/* One identity line, its strings pointing into the journal's text. */
struct journal_ident {
	const char *hash, *id;
	uint64_t ino;
	int64_t mtime_ns, size;
	bool ahead; /* an "@ " line: journaled before the rename */
};

/* One temporary file line, its strings pointing into the journal's text. */
struct journal_temp {
	const char *id, *name; /* name: beneath the root, or a spare's */
	bool spare;            /* in the spares' directory */
};

struct journal {
	char *text; /* owned; its line breaks become NULs */
	struct journal_ident *i;
	size_t ni;
	struct strmap idents;   /* "HASH ID" -> index in i; the last wins */
	struct strmap unplaced; /* "HASH ID" of "^ " lines */
	struct journal_temp *t;
	size_t nt;
	struct journal_values *w;
	size_t nw;
	struct journal_made *m;
	size_t nm;
	struct journal_source *o;
	size_t no;
	struct journal_leftover *x;
	size_t nx;
	struct journal_deletion *d;
	size_t nd;
	struct journal_line *v;
	size_t n;
	struct journal_conflict *c;
	size_t nc;
	struct strmap by_key; /* "HASH ID" -> index in v; the last wins */
	struct strmap moved;  /* "ID PATH" -> the place of its last "> "
				 line */
	struct strmap last;   /* "ID" -> the place of its last write line */
	struct strmap values; /* "ID" -> index in w of its last values
				 line */
	struct arena keys;
};

/* A line to append, for story id whose file at path is to hold the blob
 * hash, fields as above (heap). */
char *journal_line(const char *hash, const char *id, const char *fields,
		   const char *path);
/* The conflict line to append after a write's line (heap): the conflict
 * kind, kept, fields and policy (NULL: "-") and the losing version lost
 * that a run records for story id, whose file is to hold the blob hash. */
char *journal_conflict_line(const char *hash, const char *id, const char *kind,
			    const char *kept, const char *fields,
			    const char *policy, const struct story *lost);
/* Conflict line c again, for its story's file that is to hold the blob
 * hash (heap): a write over the file a killed run's write left carries
 * the conflicts journaled with that write. */
char *journal_conflict_again(const struct journal_conflict *c,
			     const char *hash);
/* The deletion line for story id's file at path, which held the blob
 * hash, with HEAD's commit and HEAD's version of path (NULL or "": "-")
 * (heap). */
char *journal_deletion_line(const char *hash, const char *id, const char *head,
			    const char *before, const char *path);
/* The leftover line for story id's copy at path, which held the blob
 * hash, with HEAD's commit and HEAD's version of path (NULL or "": "-"),
 * the fields (bit 1 << field) that were storysync's where the copy may
 * hold a person's value (0: "-") and the copy's values (heap). */
char *journal_leftover_line(const char *hash, const char *id, const char *head,
			    const char *before, uint32_t ours, const char *path,
			    const struct story *copy);
/* Splits a leftover line (NUL-terminated, no line break; changed in place)
 * into x; false when it is not one. */
bool journal_leftover_parse(char *line, struct journal_leftover *x);
/* The fields (bit 1 << field) of x's OURS (0 for "-"). */
uint32_t journal_leftover_ours(const struct journal_leftover *x);
/* The copy's values of x, into out (empty before); false when its JSON
 * is not a story's. */
bool journal_leftover_copy(const struct journal_leftover *x, struct story *out);
/* The values line for story id's file that is to hold the blob hash: the
 * fields of want that record says (SF_COUNT) as a JSON object (heap), or
 * NULL when record names none. */
char *journal_values_line(const char *hash, const char *id,
			  const struct story *want, const bool record[]);
/* The last write line of the story id in j, or NULL. */
const struct journal_line *journal_last_write(const struct journal *j,
					      const char *id);
/* The values line that follows story id's last write line, or NULL (none
 * does: no such line, an older binary's write, a move made last). */
const struct journal_values *journal_last_values(const struct journal *j,
						 const char *id);
/* The values of w into out (empty before), and which fields it holds
 * (SF_COUNT) into has; false when its JSON is not a story's. */
bool journal_values_get(const struct journal_values *w, struct story *out,
			bool has[]);
/* The identity line of story id's file, which holds the blob hash, with
 * the inode, mtime (ns) and size given (heap). */
char *journal_ident_line(const char *hash, const char *id, uint64_t ino,
			 int64_t mtime_ns, int64_t size);
/* The identity line journaled ahead of the rename (an "@ " line), from
 * the temporary file as written: the same fields (heap). */
char *journal_placed_line(const char *hash, const char *id, uint64_t ino,
			  int64_t mtime_ns, int64_t size);
/* The start of the lines naming story id's temporary files, which
 * fsx_batch_stage completes (heap). */
char *journal_temp_note(const char *id);
/* The line saying story id's write of the blob hash was never put in
 * place (heap). */
char *journal_unplaced_line(const char *hash, const char *id);
/* Takes the write of the blob hash for story id as never put in place, as
 * a "^ " line does. */
void journal_set_unplaced(struct journal *j, const char *hash, const char *id);
/* The last identity line of story id's file holding the blob hash, or
 * NULL; one journaled ahead ("@ ") that a "^ " line says was never put in
 * place is none. */
const struct journal_ident *journal_find_ident(const struct journal *j,
					       const char *hash,
					       const char *id);
/* The same, whether put in place or not. */
const struct journal_ident *journal_any_ident(const struct journal *j,
					      const char *hash, const char *id);
/* The line to append once story id's file is moved to path (heap). */
char *journal_moved_line(const char *id, const char *path);
/* Whether a move of l's story to l's path was made after l was written
 * (a "> " line follows it, and no "< " line follows that). */
bool journal_move_made(const struct journal *j, const struct journal_line *l);
/* The line to append once a move of story id's file made the directory
 * dir and those below it (heap). */
char *journal_made_line(const char *id, const char *dir);
/* The line to note before a move of story id's file, which is to hold
 * the blob hash, from path, where git holds the version before (heap). */
char *journal_source_line(const char *hash, const char *id, const char *before,
			  const char *path);
/* Whether an "o " line says that story id's write of the blob hash moved
 * the file from path, where git held the version before then. */
bool journal_moved_over(const struct journal *j, const char *hash,
			const char *id, const char *path, const char *before);
/* Whether a "+ " line of story id says the run made dir (it, or one above
 * it, on the way to the file). */
bool journal_made_dir(const struct journal *j, const char *id, const char *dir);
/* The line to append once the file a killed run moved story id to, at
 * path, is removed, the move undone (heap). */
char *journal_undone_line(const char *id, const char *path);
/* Takes j's move of story id to path as not made, as a "< " line does. */
void journal_move_undo(struct journal *j, const char *id, const char *path);
/* The last deletion line of story id, or NULL. */
const struct journal_deletion *journal_find_deletion(const struct journal *j,
						     const char *id);
/* The losing version of conflict line c, into out (empty before); false
 * when its JSON is not a story's. */
bool journal_conflict_lost(const struct journal_conflict *c, struct story *out);
/* Reads the journal's text (taken over) into j; a line cut short by a
 * kill is left out. */
void journal_load(struct journal *j, char *text);
/* True when j has no line (of any kind). */
bool journal_empty(const struct journal *j);
/* The line saying that storysync wrote the blob hash for id, or NULL: a
 * file of id that holds it is a write of storysync's own, not a person's
 * edit (but where the line's path is not the file's, a person moved it
 * since). */
const struct journal_line *journal_find(const struct journal *j,
					const char *hash, const char *id);
/* The conflict lines for story id's file holding the blob hash, in order:
 * calls fn with each. */
void journal_conflicts(const struct journal *j, const char *hash,
		       const char *id,
		       void (*fn)(void *ctx, const struct journal_conflict *c),
		       void *ctx);
/* Every conflict line of story id, whatever blob it names, in order:
 * calls fn with each. */
void journal_story_conflicts(const struct journal *j, const char *id,
			     void (*fn)(void *ctx,
					const struct journal_conflict *c),
			     void *ctx);
/* The fields the line's write took from the database (SF_COUNT). */
void journal_written(const struct journal_line *l, bool written[]);
/* The fields any line of story id took from the database (SF_COUNT);
 * false when no line names id. */
bool journal_story_written(const struct journal *j, const char *id,
			   bool written[]);
/* The fields the lines of story id naming path, each a move (or write)
 * the journal says was made (a "> " line after it), took from the
 * database (SF_COUNT); false when no such line. */
bool journal_story_written_at(const struct journal *j, const char *id,
			      const char *path, bool written[]);
/* The lines of text (a journal's, untouched) of the stories keep says
 * to keep, in order (heap; "" for none); never a leftover line, which the
 * run that commits has recorded. */
char *journal_keep(const char *text, bool (*keep)(void *ctx, const char *id),
		   void *ctx);
/* Frees j. */
void journal_finish(struct journal *j);

#endif
