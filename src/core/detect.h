#ifndef STORYSYNC_CORE_DETECT_H
#define STORYSYNC_CORE_DETECT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blobid.h"
#include "config.h"
#include "err.h"
#include "fsx.h"
#include "report.h"
#include "store.h"
#include "story.h"

/*
 * Detect: what changed on each side since the last run. The file side comes
 * from a walk (detect_scan.c) or a git tree diff (detect_git.c), the DB side
 * from rev and the deletion archive (detect_db.c). Nothing here writes.
 */

struct scan_walk;
struct statcache;

/* How one side of a story stands against its sync state. */
enum side {
	SIDE_SAME,    /* as the base */
	SIDE_CHANGED, /* differs from the base */
	SIDE_DELETED, /* gone, but the state knows it */
	SIDE_NEW,     /* present, and no state knows it */
	SIDE_ABSENT,  /* neither present nor known */
};

/* One story file that differs from its sync state. */
struct file_change {
	char *id;
	enum side side; /* SIDE_CHANGED, SIDE_NEW, SIDE_DELETED, or SIDE_SAME
			   when only the stat data needs recording */
	char *path;     /* where the file is now; NULL when deleted */
	char *old_path; /* where the state had it; NULL when new */
	struct story story; /* parsed; backlog, status, epic from the path */
	char *mirror[SM_COUNT]; /* the frontmatter's backlog:, status:, epic: */
	char hash[BLOBID_HEX];
	struct file_stat st;
	int64_t recorded_ns;
	bool not_vanished; /* gone, but no story vanished (the guards): held
			      on a checkout off the synced line
			      (hold_checkout in sync.c), or the file a
			      killed run deleted for the API (our_deletion) */
};

/* A file that could not be read or parsed, or an id claimed twice. The
 * story keeps its last good row and is left alone on both sides. */
struct file_error {
	char *path;
	char *id;  /* the story it blocks, when known */
	char *msg; /* "path:line:col: message" */
};

struct scan_result {
	struct file_change *changes;
	size_t nchanges, capchanges;
	struct file_error *errors;
	size_t nerrors, caperrors;
	size_t *files_per_backlog; /* story files seen, per config backlog */
	bool *backlog_missing;     /* per config backlog: directory missing */
	size_t *files_per_stage;   /* story files seen, per config backlog and
				      stage ([b * nstages + s]): a walk's */
	bool *stage_missing;       /* likewise: the stage directory missing */
	size_t nfiles;             /* *.md files seen in all, stories or not */
	char **skipped; /* *.md entries that are not stories (no frontmatter,
			   or matched by ignore:), each "path: not a story
			   (why); skipped" (for -v) */
	size_t nskipped, capskipped;
	size_t nnot_stories; /* of nfiles, those skipped */
	/* git's versions a discard put back at the old path of a file
	 * storysync moved, beside the moved one (find_twice): to remove,
	 * as the move was made (git holds them) */
	struct scan_leftover {
		char *path;
		char *id;
		char hash[BLOBID_HEX];
		struct file_stat st;
		bool removed; /* the caller's: it removed it */
		char *line;   /* the caller's: its journal line, noted
				 before the removal (heap) */
		bool kept;    /* the caller's: it kept it, HEAD being off
				 the last synced commit's line (the story
				 held: hold_checkout) */
		bool mine;    /* storysync's own uncommitted file, untouched,
				 beside git's version a person moved or
				 edited (discard_leftovers) */
		bool undone;  /* as mine, a killed run's move, beside
				 git's version put back at the old place
				 and edited since: the move undone */
		struct story story; /* git's version's values, as read
				       (empty: not read, or mine) */
	} * leftovers;
	size_t nleftovers, capleftovers;
	bool partial; /* only some paths were looked at (git mode): the
			 per-backlog counts say nothing of the rest */
	char **held;  /* stories whose file this scan could not speak for
			 (below a symlink, or gone while the tree changed
			 under the walk): both sides wait, unreported */
	size_t nheld, capheld;
	/* ids two or more files claim, each file named: nothing of them
	 * agreed (claims_of_id) */
	size_t nclaimed;
	char **shadows; /* archived copies of an id a live file holds,
			   skipped: "PATH: an archived copy of ID, whose
			   story is LIVE; skipped" (for -v and check) */
	size_t nshadows, capshadows;
	char **temps; /* regular files the walk met named as storysync's
			 temporary files (no story, no error): the
			 caller's to remove, where it knows them */
	size_t ntemps, captemps;
};

/* Adds the leftover fc (see scan_result.leftovers). */
void scan_result_add_leftover(struct scan_result *r,
			      const struct file_change *fc);

/* Walks every backlog's stage directories and compares them with the state
 * (looked up by path): a file whose stat data match its state and is not
 * racy is not read, unless full is set. */
bool detect_scan(const struct config *c, int rootfd,
		 const struct state_entry *state, size_t nstate, bool full,
		 struct scan_result *out, struct err *e);
/* detect_scan in two steps: the walk starts on two threads at once, and
 * compares as it goes only from when the state is given; loading the state
 * meanwhile costs no time. detect_walk_compare finishes and frees it;
 * detect_walk_cancel only frees it. progress (may be NULL) counts the
 * files walked and read. With a stat cache (statcache.h; may be NULL),
 * the walk drops each file the cache holds unchanged as it goes, and
 * compares the rest once the state is given; the cache must outlive w. */
struct scan_walk *detect_walk_start(const struct config *c, int rootfd,
				    struct sync_progress *progress,
				    struct statcache *cache);
/* Waits for a walk started with a cache; when every file was the cache's
 * and unchanged, every file of the cache was found, and there was
 * nothing else to report, out gets the walk's counts and no change, w is
 * freed, and true: no state needs loading. Else false, and w goes on to
 * detect_walk_compare (which trusts the cache only where the state agrees
 * with it) or detect_walk_cancel. */
bool detect_walk_clean(struct scan_walk *w, struct scan_result *out);
bool detect_walk_compare(struct scan_walk *w, const struct state_entry *state,
			 size_t nstate, bool full, struct scan_result *out,
			 struct err *e);
void detect_walk_cancel(struct scan_walk *w);
/* Whether the file copy (parsed), which claims the id of a story whose
 * file is elsewhere, is git's version put back of a copy storysync
 * deleted itself (see discard_leftovers): the caller's question, asked
 * only of such a second claim. */
typedef bool (*detect_copy_fn)(void *ctx, const struct file_change *copy);
/* Whether git's index or HEAD holds blob at path (relative to the root),
 * or any version there when blob is NULL (true when git cannot say):
 * asked of the two files of a story that a second file claims. */
typedef bool (*detect_held_fn)(void *ctx, const char *path, const char *blob);
/* Whether git's version of the file of se (se->before) at path, beside
 * storysync's file, is one a discard put back, not a person's move of it
 * (see discard_leftovers). */
typedef bool (*detect_put_fn)(void *ctx, const struct state_entry *se,
			      const char *path);
/* Whether blob at path is the version git held there when a killed run
 * moved the file moved (parsed) away from path, git holding it there
 * still: a discard put it back (the write journal's "o " line). */
typedef bool (*detect_source_fn)(void *ctx, const struct file_change *moved,
				 const char *path, const char *blob);
/* Whether a move line of story id that the journal says was made (a "> "
 * line after it) names path: a place a killed run put the file. */
typedef bool (*detect_placed_fn)(void *ctx, const char *id, const char *path);
/* Whether git held storysync's file of se as it wrote it (se->hash)
 * before the last run: a move of it since (git mv, staged or committed,
 * or mv) is no one's add of it. */
typedef bool (*detect_kept_fn)(void *ctx, const struct state_entry *se);
/* The caller's questions about the second claims of an id, each with
 * ctx, each NULL when not asked: copy (detect_copy_fn above) and held;
 * moved, whether such a file (parsed) holds a move of its story to its
 * path that a killed run made (the write journal); has, whether git's
 * index or HEAD holds blob at path as a discard puts it back (git's
 * version, no person's change committed or staged since the last run;
 * false when git cannot say); put, source and placed (detect_put_fn,
 * detect_source_fn and detect_placed_fn above); took (a detect_put_fn
 * too), whether git took storysync's file of se as the
 * story's one file, in a version (the index, a commit since the write)
 * holding nothing at path: a file there since is no discard's; kept
 * (detect_kept_fn above). A walk
 * and a diff's paths ask the same, so that a --git run meets a
 * discard's copies as a scan does. */
struct detect_asks {
	detect_copy_fn copy;
	detect_held_fn held;
	detect_copy_fn moved;
	detect_held_fn has;
	detect_put_fn put;
	detect_source_fn source;
	detect_placed_fn placed;
	detect_put_fn took;
	detect_kept_fn kept;
	void *ctx;
};
/* Has the walk w ask those questions (copied; NULL: none). */
void detect_walk_ask(struct scan_walk *w, const struct detect_asks *asks);
/* Detects the file side of exactly these paths (relative to the root; a
 * path may repeat), taking every other state entry as unchanged: the
 * candidates of a git diff. asks (may be NULL): as detect_walk_ask's. */
bool detect_paths(const struct config *c, int rootfd,
		  const struct state_entry *state, size_t nstate,
		  char *const *paths, size_t npaths,
		  const struct detect_asks *asks, struct scan_result *out,
		  struct err *e);
/* Receives one batch of a streamed scan: its new stories (changes, every
 * one SIDE_NEW) and its errors, in walk order. The callback may add errors
 * to the batch; false stops the scan. */
typedef bool (*scan_batch_fn)(void *ctx, struct scan_result *batch,
			      struct err *e);
/* Runs once the walk and the readers have begun, before the first batch:
 * what the caller readies meanwhile (its transaction); false stops the
 * scan. */
typedef bool (*scan_begin_fn)(void *ctx, struct err *e);
/* The first load's walk (no state): walks, reads and parses as detect_scan
 * does, but hands the stories over in batches as they are parsed, while
 * two threads read the next ones, so that memory holds a few batches, not
 * the tree. begin (may be NULL) runs while the first files are read. out
 * gets the rest: every error, skipped file and temporary, the
 * counts, and no changes. Ids claimed twice are the callback's to find.
 * progress (may be NULL) counts the files walked and read. */
bool detect_scan_stream(const struct config *c, int rootfd, scan_begin_fn begin,
			scan_batch_fn fn, void *ctx,
			struct sync_progress *progress, struct scan_result *out,
			struct err *e);
/* The story files a scan saw: the *.md files but those that are not
 * stories, by the rule sync and check share. */
size_t scan_result_stories(const struct scan_result *r);
/* Names each *.md file that lies outside every stage directory of its
 * backlog, down to where a story could be (backlog/x.md,
 * backlog/not-a-stage/[epic/]x.md), hidden and ignored paths left out:
 * fn gets "path: ...; not a story: ...". Nothing when a stage is the backlog
 * directory itself. What cannot be read is not named. */
void detect_strays(const struct config *c, int rootfd,
		   void (*fn)(void *ctx, const char *msg), void *ctx);
/* Notes that the file at path is an archived copy of id, whose story is
 * the file at live: skipped, no error. */
void scan_result_add_shadow(struct scan_result *r, const char *path,
			    const char *id, const char *live);
/* True when rel lies in a stage of archive_stages:. */
bool detect_archived(const struct config *c, const char *rel);
/* Adds an error for the file at path, blocking id (NULL: none). */
void scan_result_add_error(struct scan_result *r, const char *path,
			   const char *id, const char *msg);
/* Frees a scan result. */
void scan_result_finish(struct scan_result *r);

/* Splits rel ("stories/p/active/api/X.md") into its backlog, status and
 * epic per the configuration; false when rel is not a story path. */
bool detect_location(const struct config *c, const char *rel,
		     const struct config_backlog **backlog,
		     const struct config_stage **stage, char **epic);
/* Sets st's location fields (backlog, epic, and status unless a key gives
 * it) to where rel is; false, st untouched, when rel is not a story
 * path. */
bool detect_set_location(const struct config *c, const char *rel,
			 struct story *st);
/* The status the stage of the story file at rel gives, or NULL (not a
 * story path, or a stage that defines none). */
const char *detect_stage_status(const struct config *c, const char *rel);

/* One commit of the diffed range: who made it, and when. */
struct git_author {
	char commit[41];
	char *author; /* "Name <email>" */
	int64_t time;
};

/* Before the range: a status a story had at the last synced commit. */
#define GIT_BEFORE SIZE_MAX

/* A story path at HEAD and how its story got there in the range. */
struct git_trail {
	char *path; /* relative to the config root */
	struct git_first {
		const char *status; /* owned by the config */
		size_t commit;      /* the first commit (in commits) whose
				       tree has the story in that stage, or
				       GIT_BEFORE */
	} * firsts;
	size_t nfirsts;
	size_t last; /* the last commit that changed it */
};

/* What the git change source found beside the file changes. */
struct git_result {
	char head[41];        /* HEAD now ("" when unborn or no repository) */
	const char *fallback; /* why the diff cannot be trusted (the caller
				 scans instead), or NULL; may point into
				 why */
	struct err why;       /* a git error that made the diff unusable */
	bool unusable;        /* no work tree to sync (bare, or no repository):
				 a usage error */
	struct git_author *commits; /* the range's first-parent commits that
				       changed a backlog, oldest first */
	size_t ncommits;
	struct git_trail *trails; /* sorted by path */
	size_t ntrails;
	char **paths; /* the diff's paths (old and new), relative to the config
			 root; a path may repeat */
	size_t npaths;
};

/* HEAD of the repository holding the config root, into g->head ("" when
 * there is none); never fails: a tree outside git simply has no HEAD. */
void detect_git_head(const struct config *c, struct git_result *g);
/* The candidate paths of the tree diff between last (the last synced
 * commit, or NULL) and HEAD, with exact renames, and the range's
 * first-parent commits with each story's trail through them; sets
 * g->fallback instead when the diff cannot be trusted, and g->unusable when
 * there is no work tree. Work in proportion to the diff and the range. */
bool detect_git(const struct config *c, const char *last, struct git_result *g,
		struct err *e);
/* The backlog directories as repository pathspecs, for a config root at
 * prefix ("" at the top) inside the repository; NULL-terminated. */
char **detect_git_pathspecs(const struct config *c, const char *prefix);
/* A repository path made relative to the config root at prefix, or NULL
 * when it lies outside. */
const char *detect_git_relative(const char *prefix, const char *path);
/* Frees a git result. */
void git_result_finish(struct git_result *g);

/* Git's answers about mirror keys, for one run: the repository is opened
 * on the first question (zero it before). */
struct git_mirrors {
	struct gitrepo *repo;
	char *prefix; /* the config root inside the repository */
	bool tried;   /* opened, or found none */
	/* "COMMIT TREE": HEAD's tree an earlier run learned
	 * (detect_git_head_tree, kept in sync_meta as git.head_tree), or
	 * NULL; set by the caller, freed here */
	char *head_tree;
	struct gitindex_tree *index; /* the index as that tree, or NULL */
	bool index_tried;
	bool index_reading; /* on index_thread (detect_git_index_ahead) */
	pthread_t index_thread;
	const char *index_root;
};

/* Whether the mirror key k of the file fc (at the path its state has, the
 * key naming another location than the file's) is git's, not a person's
 * edit, into *carried: the file is the index's or HEAD's version of its
 * path, and the key's value came to that path with the file (the commit
 * or the staged change that moved or created it there). A key that a
 * version git does not hold, or a version of that path, changed is an
 * edit. False (e set, *carried false) when git cannot answer; a tree
 * outside git has no carried keys. */
bool detect_git_carried(struct git_mirrors *gm, const struct config *c,
			const struct file_change *fc, enum story_mirror k,
			bool *carried, struct err *e);
/* The story git's blob blob holds, read as a version of path (its
 * location fields unset), into *out (empty before), and its mirror keys
 * into mirror (SM_COUNT heap strings, NULL when absent; mirror may be
 * NULL); *found false outside git. False (e set) when git cannot read it
 * or it does not parse. */
bool detect_git_version(struct git_mirrors *gm, const struct config *c,
			const char *blob, const char *path, struct story *out,
			char *mirror[], bool *found, struct err *e);
/* The versions of a path git holds: the index's, which `git checkout --`
 * and `restore` put back, and HEAD's, which `reset --hard` and `stash`
 * do. */
enum git_version { GIT_INDEX, GIT_HEAD };
/* Starts reading git's index as HEAD's tree (see detect_git_blob) on a
 * thread, ahead of the first question (head_tree set before): a run that
 * writes the API's edits reads it beside its reads of the rows. */
void detect_git_index_ahead(struct git_mirrors *gm, const struct config *c);
/* The blob id of git's version v of path (relative to the config root);
 * "" when none, or outside git. False (e set) when git cannot answer.
 * HEAD's is read from git's index without libgit2 when HEAD is the commit
 * of gm->head_tree and the index is that tree (gitindex_tree_open). */
bool detect_git_blob(struct git_mirrors *gm, const struct config *c,
		     const char *path, enum git_version v,
		     char blob[BLOBID_HEX], struct err *e);
/* Whether git took blob, written at the time written (seconds) over the
 * version before, as path's version since the time since (seconds): the
 * index holds it, or a commit HEAD reaches by first parents, made at or
 * after since and after the write, which was made at or below the commit
 * seen (see gitrepo_blob_committed); with alone (else NULL; NULL-
 * terminated), a version that holds nothing at those paths (relative to
 * the root). *held false outside git. */
bool detect_git_committed(struct git_mirrors *gm, const struct config *c,
			  const char *path, const char *blob,
			  const char *before, const char *seen,
			  const char *const *alone, int64_t written,
			  int64_t since, bool *held, struct err *e);
/* Whether HEAD left the line of the last synced commit last by a checkout
 * that can come back, into *left: HEAD is neither last nor a descendant of
 * it, and last is still on a local branch (a checkout of an older commit
 * or another branch, which the hooks' --git run did not follow; an amend,
 * a rebase or a reset that left last on no branch is not). *left false
 * outside git, or without last. False (e set) when git cannot answer. */
bool detect_git_left(struct git_mirrors *gm, const struct config *c,
		     const char *last, bool *left, struct err *e);
/* Whether git's object store still holds the commit last (an amend or a
 * rebase replaced it, then gc pruned it: not), into *yes. *yes true
 * outside git. False (e set) when git cannot answer. */
bool detect_git_has_commit(struct git_mirrors *gm, const struct config *c,
			   const char *last, bool *yes, struct err *e);
/* HEAD's commit into out; "" when unborn, or outside git. False (e set)
 * when git cannot answer. */
bool detect_git_head_commit(struct git_mirrors *gm, const struct config *c,
			    char out[BLOBID_HEX], struct err *e);
/* Whether a person changed path in git since the commit since, a move
 * from was (NULL: none) not counted (see gitrepo_path_changed); *changed
 * false outside git. */
bool detect_git_path_changed(struct git_mirrors *gm, const struct config *c,
			     const char *path, const char *was,
			     const char *since, bool *changed, struct err *e);
/* How many paths of the tree the commit since held blob at, up to max,
 * into *n (see gitrepo_commit_holds); 0 outside git. */
bool detect_git_commit_holds(struct git_mirrors *gm, const struct config *c,
			     const char *since, const char *blob, size_t max,
			     size_t *n, struct err *e);
/* Whether git's one change to path since the commit since removed its
 * version blob (added false) or added it (see gitrepo_path_one_change);
 * *only false outside git. */
bool detect_git_path_one_change(struct git_mirrors *gm, const struct config *c,
				const char *path, const char *blob,
				const char *since, bool added, bool *only,
				struct err *e);
/* Whether git took storysync's deletion of a file at path (its story's
 * file now at now, which may be path) made with HEAD at the commit since
 * ("": unborn), into *taken: the first commit after since on HEAD's
 * first-parent line that changed either path removed one and put the file
 * at neither (the deletion committed, or the person's own). No such
 * commit (none since, or each only added, changed or moved the file): not
 * taken, the file git's version put back then committed or moved. *taken
 * false outside git; false (e set) when git cannot say. */
bool detect_git_deletion_taken(struct git_mirrors *gm, const struct config *c,
			       const char *path, const char *now,
			       const char *since, bool *taken, struct err *e);
/* The commit of the diffed range credited with the file fc's story
 * reaching status: the first, in first-parent order, whose tree has it in
 * that stage, else (a status its key gives) the one whose version of the
 * file set the key, else the last that changed the file; NULL when no
 * commit of the range changed it. */
const struct git_author *detect_git_credit(struct git_mirrors *gm,
					   const struct config *c,
					   const struct git_result *g,
					   const struct file_change *fc,
					   const char *status);
/* Closes what the questions opened. */
/* HEAD's commit and its tree's id ("" when unborn or outside git), asked
 * of libgit2: "COMMIT TREE" (heap) for gm->head_tree, or NULL. */
char *detect_git_head_tree(struct git_mirrors *gm, const struct config *c,
			   struct err *e);
void git_mirrors_finish(struct git_mirrors *gm);

/* One story row that changed since the last run. */
struct db_side {
	char *id;
	enum side side;     /* SIDE_CHANGED, SIDE_NEW or SIDE_DELETED */
	struct story story; /* the row (empty when deleted) */
	char *path;
	int64_t rev;
	bool filled; /* the story has defaults the row left out (NULL
			status or backlog): the row is to get them too */
};

struct db_result {
	struct db_side *rows;
	size_t n;
};

/* The DB side: rows whose rev is past the mark (every row when full) and
 * differs from their state, and deleted rows the state still knows. The
 * state is t; when it holds only some entries (complete false: git mode),
 * the entries of the changed rows are looked up and added to it. Runs
 * inside the run's transaction. */
bool detect_db(struct store *s, struct state_table *t, bool complete, bool full,
	       struct db_result *out, struct err *e);
/* Frees a DB result. */
void db_result_finish(struct db_result *r);

#endif
