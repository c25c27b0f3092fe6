/* store_sqlite_schema.c: the schema, its triggers and forward migrations. */
#include "store_sqlite.h"

#include <stdio.h>

#include "store_sqlite_fresh.h"

/* The row as JSON, dependencies included: what a deletion archives, and
 * the base the triggers save; assignees as STORY_COLUMNS reads them, so
 * that a base compares with the row. */
#define ROW_JSON(R)                                                            \
	"json_object('id'," R ".id,'backlog'," R ".backlog,'status'," R        \
	".status,'epic'," R ".epic,'title'," R ".title,'priority'," R          \
	".priority,'points'," R ".points,'assignees',CASE WHEN " R             \
	".assignees IS NULL THEN NULL WHEN json_valid(" R ".assignees) AND"    \
	" json_type(" R ".assignees) IN ('array', 'object') THEN json(" R      \
	".assignees) ELSE json_array(" R ".assignees) END,"                    \
	"'labels',CASE WHEN json_valid(" R ".labels) THEN json(" R             \
	".labels) ELSE " R ".labels END,'depends_on',(SELECT "                 \
	"json_group_array(depends_on) FROM (SELECT depends_on FROM "           \
	"story_dependencies WHERE tree = " R ".tree AND story_id = " R         \
	".id ORDER BY depends_on)),'created'," R                               \
	".created,'extra',CASE WHEN json_valid(" R ".extra) THEN json(" R      \
	".extra) ELSE " R ".extra END,'body'," R ".body,'path'," R             \
	".path,'updated'," R ".updated,'rev'," R ".rev,'parent'," R ".parent)"

/* The statement is not storysync's own: storysync sets rev and updated
 * itself and marks its transaction with a sync_meta 'writer' row, which
 * only its own connection can see before the commit removes it. */
#define NOT_STORYSYNC                                                          \
	"NOT EXISTS (SELECT 1 FROM sync_meta WHERE key = 'writer')"

/* Saves the row of story ID as its base, if it is at the agreed version
 * and no base is saved yet. The row's JSON comes from the story_rows view:
 * written once there, not in each of the four triggers that save a base,
 * the schema every connection parses at its first statement is half as
 * long (it was most of the hook's no-op). */
#define SAVE_BASE(T, ID)                                                       \
	"INSERT INTO sync_base(tree, story_id, row) SELECT tree, id, row FROM" \
	" story_rows WHERE tree = " T " AND id = " ID                          \
	" AND " AGREED(T, "id", "rev") " AND NOT EXISTS (SELECT 1 FROM"        \
				       " sync_base WHERE tree = " T            \
				       " AND story_id = " ID ")"

/* origin is one of the three sides (NULL passes, as with IN). */
#define ORIGIN_IS(C) C " = 'file' OR " C " = 'db' OR " C " = 'git'"

/* Step 5's: origin is one of the three sides, or the configuration (a
 * rename the rows followed). */
#define ORIGIN_OR_CONFIG(C)                                                    \
	C " = 'file' OR " C " = 'db' OR " C " = 'git' OR " C " = 'config'"

/* The rows an UPDATE OR REPLACE deletes: those that hold its new id or
 * path. */
#define GONE_BY_UPDATE                                                         \
	"SELECT id FROM stories WHERE tree = NEW.tree AND (id = NEW.id OR"     \
	" path = NEW.path) AND id IS NOT OLD.id"

#define CLOCK_TICK "UPDATE rev_clock SET value = value + 1 WHERE id = 1;"

/* A new generation of TREE's sync_state (step 8): the triggers' statement
 * (an UPDATE: an upsert's conflict clause would override a REPLACE in
 * them), and storysync's own, which also makes the row of a tree that has
 * none yet (a tree with no row has no cache). */
#define NEW_GENERATION "random()"
#define RENEW_GENERATION(TREE)                                                 \
	"UPDATE sync_meta SET value = " NEW_GENERATION " WHERE tree = " TREE   \
	" AND key = 'state.generation';"
#define MAKE_GENERATION                                                        \
	"INSERT OR REPLACE INTO sync_meta(tree, key, value) VALUES"            \
	" (storysync_tree(), 'state.generation', " NEW_GENERATION ")"

/* The rows a REPLACE is about to delete beside the one it writes (IDS
 * selects their ids): their bases saved, and their rows archived as
 * deleted. SQLite runs no delete trigger for them unless the API turned
 * recursive_triggers on; an insert or update that is ignored (OR IGNORE)
 * instead leaves an archive of a row that still exists, which no run
 * takes for a deletion. */
/* clang-format off */
#define ARCHIVE_GONE(T, IDS)                                                   \
	"INSERT INTO sync_base(tree, story_id, row) SELECT tree, id, row FROM" \
	" story_rows v WHERE tree = " T " AND id IN (" IDS ") AND "            \
	AGREED("v.tree", "v.id", "v.rev") " AND NOT EXISTS"                    \
	" (SELECT 1 FROM sync_base WHERE tree = v.tree AND story_id = v.id);"  \
	" UPDATE rev_clock SET value = value + 1 WHERE id = 1 AND EXISTS"      \
	" (" IDS "); INSERT INTO deleted_stories(tree, story_id, rev,"         \
	" deleted_at, row) SELECT tree, id, " CLOCK ", " NOW_ISO ", row FROM"  \
	" story_rows WHERE tree = " T " AND id IN (" IDS ");"
/* clang-format on */

/* The secondary indexes a first load into an empty database makes after
 * its rows (store_indexes_drop), and stories_rev, which it keeps: their
 * definitions, here and in the migration that made them (the same text: a
 * step that changes one is a new step, and these follow it). */
#define INDEX_STORIES_REV "CREATE INDEX stories_rev ON stories(tree, rev)"
#define INDEX_SYNC_STATE_PATH                                                  \
	"CREATE INDEX sync_state_path ON sync_state(tree, path)"
#define INDEX_STATUS_HISTORY_STORY                                             \
	"CREATE INDEX status_history_story ON status_history(tree, story_id)"

/*
 * Migration steps, applied forward only, in order: the steps of version v
 * take user_version v - 1 to v. Never edit a released step; add one, and
 * regenerate store_sqlite_fresh.h (its unit test fresh_schema names how).
 *
 * The triggers never recurse: with recursive_triggers off a trigger does
 * not fire itself, and the WHEN of stories_au skips the updates the other
 * triggers make (they set rev to the clock just advanced, which no row can
 * hold already), while an API update that sets rev itself still fires it.
 */
static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{1, "CREATE TABLE backlogs(name TEXT PRIMARY KEY, path TEXT NOT NULL)"},
	{1, "CREATE TABLE stories(id TEXT PRIMARY KEY, backlog TEXT,"
	    " status TEXT, epic TEXT, title TEXT NOT NULL, priority TEXT,"
	    " points INTEGER, assignee TEXT, labels TEXT, extra TEXT,"
	    " body TEXT, path TEXT UNIQUE, created TEXT, updated TEXT,"
	    " rev INTEGER NOT NULL DEFAULT 0)"},
	{1, "CREATE INDEX stories_rev ON stories(rev)"},
	{1, "CREATE TABLE story_dependencies(story_id TEXT NOT NULL,"
	    " depends_on TEXT NOT NULL, PRIMARY KEY(story_id, depends_on))"},
	{1, "CREATE TABLE status_history(id INTEGER PRIMARY KEY,"
	    " story_id TEXT, from_status TEXT, to_status TEXT,"
	    " changed_at TEXT, origin TEXT"
	    " CHECK (origin IN ('file','db','git')), commit_id TEXT,"
	    " author TEXT)"},
	{1, "CREATE INDEX status_history_story ON status_history(story_id)"},
	{1, "CREATE TABLE sync_state(story_id TEXT PRIMARY KEY,"
	    " path TEXT NOT NULL, mtime_ns INTEGER, ctime_ns INTEGER,"
	    " size INTEGER, ino INTEGER, mode INTEGER, recorded_ns INTEGER,"
	    " hash TEXT, rev INTEGER, mirrors TEXT)"},
	{1, "CREATE INDEX sync_state_path ON sync_state(path)"},
	/* The agreed version of a story, saved by the triggers below just
	 * before the API's first change to it after a sync: the base costs
	 * nothing until someone edits the row. */
	{1, "CREATE TABLE sync_base(story_id TEXT PRIMARY KEY,"
	    " row TEXT NOT NULL)"},
	{1, "CREATE TABLE sync_runs(id INTEGER PRIMARY KEY, started TEXT,"
	    " ended TEXT, mode TEXT, created INTEGER, updated INTEGER,"
	    " moved INTEGER, deleted INTEGER, conflicts INTEGER,"
	    " errors INTEGER, exit_code INTEGER, messages TEXT)"},
	{1, "CREATE TABLE sync_conflicts(id INTEGER PRIMARY KEY, story_id TEXT,"
	    " at TEXT, kind TEXT, kept TEXT, fields TEXT, lost TEXT,"
	    " run_id INTEGER)"},
	{1, "CREATE TABLE sync_events(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " story_id TEXT, change TEXT CHECK (change IN"
	    " ('created','updated','moved','deleted')), origin TEXT"
	    " CHECK (origin IN ('file','db','git')), run_id INTEGER, at TEXT)"},
	{1, "CREATE TABLE deleted_stories(seq INTEGER PRIMARY KEY,"
	    " story_id TEXT, rev INTEGER, deleted_at TEXT, row TEXT)"},
	{1, "CREATE INDEX deleted_stories_rev ON deleted_stories(rev)"},
	{1, "CREATE TABLE rev_clock(id INTEGER PRIMARY KEY CHECK (id = 1),"
	    " value INTEGER NOT NULL)"},
	{1, "INSERT INTO rev_clock VALUES (1, 0)"},
	{1, "CREATE TABLE sync_meta(key TEXT PRIMARY KEY, value TEXT)"},
	/* 2: assignee may be a list: the assignees column holds them all, a
	 * JSON array; saved versions follow (the triggers are dropped while
	 * this runs, and made anew after) */
	{2, "ALTER TABLE stories ADD COLUMN assignees TEXT"},
	{2, "UPDATE stories SET assignees = json_array(assignee)"
	    " WHERE assignee IS NOT NULL"},
	{2, "ALTER TABLE stories DROP COLUMN assignee"},
	{2, "UPDATE sync_base SET row = json_set(json_remove(row,"
	    " '$.assignee'), '$.assignees', CASE WHEN json_extract(row,"
	    " '$.assignee') IS NULL THEN NULL ELSE json_array(json_extract("
	    "row, '$.assignee')) END) WHERE json_valid(row)"},
	{2, "UPDATE deleted_stories SET row = json_set(json_remove(row,"
	    " '$.assignee'), '$.assignees', CASE WHEN json_extract(row,"
	    " '$.assignee') IS NULL THEN NULL ELSE json_array(json_extract("
	    "row, '$.assignee')) END) WHERE json_valid(row)"},
	/* 3: running unattended: a conflict is open until someone resolves
	 * it; an event consumer keeps its cursor, so that what it has read
	 * can be pruned */
	{3, "ALTER TABLE sync_conflicts ADD COLUMN resolved TEXT"},
	{3, "ALTER TABLE sync_conflicts ADD COLUMN policy TEXT"},
	{3, "CREATE TABLE sync_consumers(name TEXT PRIMARY KEY,"
	    " seq INTEGER NOT NULL, updated TEXT)"},
	/* 4: the same CHECKs, as comparisons: SQLite builds a table for an
	 * IN list of three at every row it checks, which was a seventh of a
	 * first load. The tables are made anew (the rows, their numbers and
	 * sync_events' sequence kept: a consumer's cursor stays valid). */
	{4, "CREATE TABLE status_history_4(id INTEGER PRIMARY KEY,"
	    " story_id TEXT, from_status TEXT, to_status TEXT,"
	    " changed_at TEXT, origin TEXT CHECK (" ORIGIN_IS(
		    "origin") "),"
			      " commit_id TEXT, author TEXT)"},
	{4, "INSERT INTO status_history_4 SELECT id, story_id, from_status,"
	    " to_status, changed_at, origin, commit_id, author"
	    " FROM status_history ORDER BY id"},
	{4, "DROP TABLE status_history"},
	{4, "ALTER TABLE status_history_4 RENAME TO status_history"},
	{4, "CREATE INDEX status_history_story ON status_history(story_id)"},
	{4, "CREATE TABLE sync_events_4(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " story_id TEXT, change TEXT CHECK (change = 'created' OR"
	    " change = 'updated' OR change = 'moved' OR change = 'deleted'),"
	    " origin TEXT CHECK (" ORIGIN_IS("origin") "), run_id INTEGER,"
						       " at TEXT)"},
	{4, "INSERT INTO sync_events_4 SELECT seq, story_id, change, origin,"
	    " run_id, at FROM sync_events ORDER BY seq"},
	/* the sequence may be past the last row (pruned): it goes on */
	{4, "DELETE FROM sqlite_sequence WHERE name = 'sync_events_4'"},
	{4, "UPDATE sqlite_sequence SET name = 'sync_events_4'"
	    " WHERE name = 'sync_events'"},
	{4, "DROP TABLE sync_events"},
	{4, "ALTER TABLE sync_events_4 RENAME TO sync_events"},
	/* 5: a configuration change is an origin of its own: the rows that
	 * follow a renamed stage or backlog record it as 'config'. The
	 * tables are made anew as in 4 (rows, numbers and sequence kept). */
	{5, "CREATE TABLE status_history_cfg(id INTEGER PRIMARY KEY,"
	    " story_id TEXT, from_status TEXT, to_status TEXT,"
	    " changed_at TEXT, origin TEXT CHECK (" ORIGIN_OR_CONFIG(
		    "origin") "), commit_id TEXT, author TEXT)"},
	{5, "INSERT INTO status_history_cfg SELECT id, story_id, from_status,"
	    " to_status, changed_at, origin, commit_id, author"
	    " FROM status_history ORDER BY id"},
	{5, "DROP TABLE status_history"},
	{5, "ALTER TABLE status_history_cfg RENAME TO status_history"},
	{5, "CREATE INDEX status_history_story ON status_history(story_id)"},
	{5, "CREATE TABLE sync_events_cfg(seq INTEGER PRIMARY KEY"
	    " AUTOINCREMENT, story_id TEXT, change TEXT CHECK (change ="
	    " 'created' OR change = 'updated' OR change = 'moved' OR"
	    " change = 'deleted'), origin TEXT CHECK (" ORIGIN_OR_CONFIG(
		    "origin") "), run_id INTEGER, at TEXT)"},
	{5, "INSERT INTO sync_events_cfg SELECT seq, story_id, change, origin,"
	    " run_id, at FROM sync_events ORDER BY seq"},
	{5, "DELETE FROM sqlite_sequence WHERE name = 'sync_events_cfg'"},
	{5, "UPDATE sqlite_sequence SET name = 'sync_events_cfg'"
	    " WHERE name = 'sync_events'"},
	{5, "DROP TABLE sync_events"},
	{5, "ALTER TABLE sync_events_cfg RENAME TO sync_events"},
	/* And every statement form of the API is seen. sync_state keeps a
	 * digest of the agreed row, so that --full sees a row that differs
	 * from it though its rev did not move (a write with the triggers
	 * off, a restored backup); the digests of the rows agreed so far are
	 * taken from the row still at its agreed rev, else from its saved
	 * base. sync_replaced holds, for the one statement that inserts a
	 * story, what the row it replaces had (see stories_bi). */
	{5, "ALTER TABLE sync_state ADD COLUMN digest INTEGER"},
	{5, "UPDATE sync_state SET digest = (SELECT " DIGEST_ROW_5 " FROM"
	    " stories WHERE stories.id = sync_state.story_id AND stories.rev ="
	    " sync_state.rev)"},
	{5, "UPDATE sync_state SET digest = (SELECT " DIGEST_BASE_5 " FROM"
	    " sync_base b WHERE b.story_id = sync_state.story_id)"
	    " WHERE digest IS NULL"},
	{5, "CREATE TABLE sync_replaced(story_id TEXT PRIMARY KEY,"
	    " clock INTEGER, updated TEXT, deps TEXT)"},
	/* 6: the fields (bit 1 << field) whose value in the agreed file
	 * storysync wrote from the database and no person edited since, and
	 * the version git's index held when the first of those writes went
	 * over it: that version put back (a discard, a stash, a reset) takes
	 * back storysync's writes, which is no person's edit of those
	 * fields. Unknown for the states agreed so far: none. */
	{6, "ALTER TABLE sync_state ADD COLUMN ours INTEGER NOT NULL"
	    " DEFAULT 0"},
	{6, "ALTER TABLE sync_state ADD COLUMN before TEXT"},
	/* 7: a story's parent, another story's id (keys: names its key). A
	 * digest taken before is the digest of the row with no parent
	 * (DIGEST_ROW), so none is taken again; saved bases and archived
	 * rows without one have none. */
	{7, "ALTER TABLE stories ADD COLUMN parent TEXT"},
	/* 8: a database holds several trees (tree:, issue 22), and a story
	 * is (tree, id): every row of the tables that hold stories, their
	 * history, events, conflicts, runs and storysync's own state gets
	 * the tree it belongs to, every row there is now the tree
	 * 'default''s. The tables whose key changes are made anew (their
	 * rows kept; rowids are no one's); the others gain the column, so
	 * that ids, sequences and consumer cursors stay as they were. The
	 * trees table registers the checkout that syncs each tree. */
	{8, "CREATE TABLE trees(name TEXT PRIMARY KEY, host TEXT, path TEXT,"
	    " registered TEXT)"},
	{8, "CREATE TABLE backlogs_8(name TEXT NOT NULL, path TEXT NOT NULL,"
	    " tree TEXT NOT NULL DEFAULT 'default', PRIMARY KEY(tree, name))"},
	{8,
	 "INSERT INTO backlogs_8(name, path) SELECT name, path FROM backlogs"},
	{8, "DROP TABLE backlogs"},
	{8, "ALTER TABLE backlogs_8 RENAME TO backlogs"},
	{8, "CREATE TABLE stories_8(id TEXT, backlog TEXT, status TEXT,"
	    " epic TEXT, title TEXT NOT NULL, priority TEXT, points INTEGER,"
	    " labels TEXT, extra TEXT, body TEXT, path TEXT, created TEXT,"
	    " updated TEXT, rev INTEGER NOT NULL DEFAULT 0, assignees TEXT,"
	    " parent TEXT, tree TEXT NOT NULL DEFAULT 'default',"
	    " PRIMARY KEY(tree, id), UNIQUE(tree, path))"},
	{8, "INSERT INTO stories_8(id, backlog, status, epic, title, priority,"
	    " points, labels, extra, body, path, created, updated, rev,"
	    " assignees, parent) SELECT id, backlog, status, epic, title,"
	    " priority, points, labels, extra, body, path, created, updated,"
	    " rev, assignees, parent FROM stories ORDER BY rowid"},
	{8, "DROP TABLE stories"},
	{8, "ALTER TABLE stories_8 RENAME TO stories"},
	{8, INDEX_STORIES_REV},
	{8, "CREATE TABLE story_dependencies_8(story_id TEXT NOT NULL,"
	    " depends_on TEXT NOT NULL, tree TEXT NOT NULL DEFAULT 'default',"
	    " PRIMARY KEY(tree, story_id, depends_on))"},
	{8, "INSERT INTO story_dependencies_8(story_id, depends_on)"
	    " SELECT story_id, depends_on FROM story_dependencies"},
	{8, "DROP TABLE story_dependencies"},
	{8, "ALTER TABLE story_dependencies_8 RENAME TO story_dependencies"},
	{8, "CREATE TABLE sync_state_8(story_id TEXT NOT NULL,"
	    " path TEXT NOT NULL, mtime_ns INTEGER, ctime_ns INTEGER,"
	    " size INTEGER, ino INTEGER, mode INTEGER, recorded_ns INTEGER,"
	    " hash TEXT, rev INTEGER, mirrors TEXT, digest INTEGER,"
	    " ours INTEGER NOT NULL DEFAULT 0, before TEXT,"
	    " tree TEXT NOT NULL DEFAULT 'default',"
	    " PRIMARY KEY(tree, story_id))"},
	{8, "INSERT INTO sync_state_8(story_id, path, mtime_ns, ctime_ns,"
	    " size, ino, mode, recorded_ns, hash, rev, mirrors, digest, ours,"
	    " before) SELECT story_id, path, mtime_ns, ctime_ns, size, ino,"
	    " mode, recorded_ns, hash, rev, mirrors, digest, ours, before"
	    " FROM sync_state"},
	{8, "DROP TABLE sync_state"},
	{8, "ALTER TABLE sync_state_8 RENAME TO sync_state"},
	{8, INDEX_SYNC_STATE_PATH},
	{8, "CREATE TABLE sync_base_8(story_id TEXT NOT NULL,"
	    " row TEXT NOT NULL, tree TEXT NOT NULL DEFAULT 'default',"
	    " PRIMARY KEY(tree, story_id))"},
	{8, "INSERT INTO sync_base_8(story_id, row) SELECT story_id, row"
	    " FROM sync_base"},
	{8, "DROP TABLE sync_base"},
	{8, "ALTER TABLE sync_base_8 RENAME TO sync_base"},
	{8, "CREATE TABLE sync_replaced_8(story_id TEXT NOT NULL,"
	    " clock INTEGER, updated TEXT, deps TEXT,"
	    " tree TEXT NOT NULL DEFAULT 'default',"
	    " PRIMARY KEY(tree, story_id))"},
	{8, "INSERT INTO sync_replaced_8(story_id, clock, updated, deps)"
	    " SELECT story_id, clock, updated, deps FROM sync_replaced"},
	{8, "DROP TABLE sync_replaced"},
	{8, "ALTER TABLE sync_replaced_8 RENAME TO sync_replaced"},
	{8, "CREATE TABLE sync_meta_8(key TEXT NOT NULL, value TEXT,"
	    " tree TEXT NOT NULL DEFAULT 'default', PRIMARY KEY(tree, key))"},
	{8, "INSERT INTO sync_meta_8(key, value) SELECT key, value"
	    " FROM sync_meta"},
	{8, "DROP TABLE sync_meta"},
	{8, "ALTER TABLE sync_meta_8 RENAME TO sync_meta"},
	{8, "ALTER TABLE status_history ADD COLUMN tree TEXT NOT NULL"
	    " DEFAULT 'default'"},
	{8, "DROP INDEX status_history_story"},
	{8, INDEX_STATUS_HISTORY_STORY},
	{8, "ALTER TABLE deleted_stories ADD COLUMN tree TEXT NOT NULL"
	    " DEFAULT 'default'"},
	{8, "DROP INDEX deleted_stories_rev"},
	{8, "CREATE INDEX deleted_stories_rev ON deleted_stories(tree, rev)"},
	{8, "ALTER TABLE sync_events ADD COLUMN tree TEXT NOT NULL"
	    " DEFAULT 'default'"},
	{8, "ALTER TABLE sync_conflicts ADD COLUMN tree TEXT NOT NULL"
	    " DEFAULT 'default'"},
	{8, "ALTER TABLE sync_runs ADD COLUMN tree TEXT NOT NULL"
	    " DEFAULT 'default'"},
	{8, "CREATE INDEX sync_runs_tree ON sync_runs(tree, id)"},
	/* 8, too: the generation of sync_state, which the stat cache
	 * (statcache.h) is checked against: a random value per tree that
	 * the state_* triggers renew with every change of that tree's
	 * sync_state, whoever makes it. Random, not counted: a cache of
	 * another database, or of a backup's past, never holds it by
	 * chance. */
	{8, "INSERT OR REPLACE INTO sync_meta(tree, key, value)"
	    " VALUES ('default', 'state.generation', " NEW_GENERATION ")"},
	/* 8, too: the story files storysync deleted itself (for the API's
	 * deletion of the row, or git's copy left beside its move), while
	 * git may still put them back: where each was, its story, its
	 * content, HEAD's version of that path and HEAD's commit then.
	 * Git's version back there, with no commit or staged change of the
	 * path since, is a discard of storysync's deletion, not a person's
	 * new story or copy (sync_discard.c). A state put at the path
	 * forgets its entry; retention prunes them as deleted_stories. */
	{8, "CREATE TABLE sync_deleted(path TEXT NOT NULL,"
	    " story_id TEXT NOT NULL, hash TEXT NOT NULL, before TEXT,"
	    " head TEXT NOT NULL, deleted_at TEXT,"
	    " tree TEXT NOT NULL DEFAULT 'default', PRIMARY KEY(tree, path))"},
	/* 9: a story's archives, looked up by id (a deleted story git puts
	 * back, seed 414: the lookup scanned the tree's whole archive) */
	{9, "CREATE INDEX deleted_stories_story ON deleted_stories(tree,"
	    " story_id)"},
	/* 10: the path storysync's write took the file from, where git
	 * held the version before (sync_state.before) then: git's version
	 * back there is a discard, at any other path a person's move of it
	 * (issue 19). Unknown for the states agreed so far: none. */
	{10, "ALTER TABLE sync_state ADD COLUMN before_path TEXT"},
};

/* The change tracking (the triggers and the story_rows view they read),
 * made anew by every migration, so that they always read the columns the
 * schema has now. */
static const char *const trigger_names[] = {
	"stories_bi",      "stories_ai",      "stories_au",
	"stories_au_tree", "stories_au_id",   "stories_ad",
	"deps_ai",         "deps_au",         "deps_ad",
	"stories_bu_base", "stories_bu_gone", "stories_bd_base",
	"deps_bi_base",    "deps_bu_base",    "deps_bd_base",
	"state_ai",        "state_au",        "state_ad",
};

static const char *const triggers[] = {
	"CREATE VIEW story_rows(tree, id, rev, row) AS SELECT tree, id, "
	"rev, " ROW_JSON("stories") " FROM stories",
	/* clang-format off */
	/* An insert may replace a row (INSERT OR REPLACE, REPLACE INTO):
	 * SQLite then deletes the old row without a delete trigger, unless
	 * recursive_triggers is on. So before any insert, the row it may
	 * replace leaves its base, its dependencies and its updated time in
	 * sync_replaced, and a row whose path it takes is archived. (An
	 * upsert runs this trigger too, then the update triggers, which
	 * clear what it left; an insert that was ignored leaves it to the
	 * next statement.) Every story is (tree, id): a row of another tree
	 * is never touched. */
	"CREATE TRIGGER stories_bi BEFORE INSERT ON stories"
	    " WHEN " NOT_STORYSYNC " BEGIN DELETE FROM sync_replaced;"
	    " INSERT INTO sync_replaced(tree, story_id, clock, updated, deps)"
	    " VALUES (NEW.tree, NEW.id, " CLOCK ","
	    " (SELECT updated FROM stories WHERE tree = NEW.tree AND"
	    " id = NEW.id), CASE WHEN EXISTS (SELECT 1 FROM stories WHERE"
	    " tree = NEW.tree AND id = NEW.id) THEN (SELECT"
	    " json_group_array(depends_on) FROM story_dependencies WHERE"
	    " tree = NEW.tree AND story_id = NEW.id) END); "
	    SAVE_BASE("NEW.tree", "NEW.id") "; "
	    ARCHIVE_GONE("NEW.tree", "SELECT id FROM stories WHERE"
			 " tree = NEW.tree AND path = NEW.path AND"
			 " id IS NOT NEW.id")
	    " END",
	/* A row replaced is the same story, updated: it keeps its
	 * dependencies, and it was not deleted (with recursive_triggers on,
	 * stories_ad removed the ones and archived the other). */
	"CREATE TRIGGER stories_ai AFTER INSERT ON stories"
	    " WHEN " NOT_STORYSYNC " BEGIN "
	    CLOCK_TICK
	    " UPDATE stories SET rev = " CLOCK ", updated = CASE WHEN"
	    " NEW.updated IS NULL OR NEW.updated IS (SELECT updated FROM"
	    " sync_replaced WHERE tree = NEW.tree AND story_id = NEW.id) THEN "
	    NOW_ISO " ELSE NEW.updated END WHERE tree = NEW.tree AND"
	    " id = NEW.id;"
	    " INSERT INTO story_dependencies(tree, story_id, depends_on)"
	    " SELECT NEW.tree, NEW.id, j.value FROM"
	    " sync_replaced r, json_each(r.deps) j WHERE r.tree = NEW.tree"
	    " AND r.story_id = NEW.id AND NOT EXISTS (SELECT 1 FROM"
	    " story_dependencies d WHERE d.tree = NEW.tree AND"
	    " d.story_id = NEW.id AND d.depends_on = j.value);"
	    " DELETE FROM deleted_stories WHERE tree = NEW.tree AND"
	    " story_id = NEW.id AND rev > (SELECT clock FROM sync_replaced"
	    " WHERE tree = NEW.tree AND story_id = NEW.id);"
	    " DELETE FROM sync_replaced WHERE tree = NEW.tree AND"
	    " story_id = NEW.id; END",
	"CREATE TRIGGER stories_au AFTER UPDATE ON stories"
	    " WHEN (NEW.rev IS OLD.rev OR NEW.rev IS NOT " CLOCK ") AND "
	    NOT_STORYSYNC " BEGIN "
	    CLOCK_TICK
	    " UPDATE stories SET rev = " CLOCK ", updated = CASE WHEN"
	    " NEW.updated IS OLD.updated THEN " NOW_ISO " ELSE NEW.updated END"
	    " WHERE tree = NEW.tree AND id = NEW.id;"
	    " DELETE FROM sync_replaced; END",
	/* A row cannot change tree: an update of tree is put back, and
	 * recorded as a refused conflict of the row's own tree (the file
	 * won, lost the tree it was sent to); neither tree's files move. */
	"CREATE TRIGGER stories_au_tree AFTER UPDATE OF tree ON stories"
	    " WHEN NEW.tree IS NOT OLD.tree BEGIN"
	    " UPDATE stories SET tree = OLD.tree WHERE tree = NEW.tree AND"
	    " id = NEW.id;"
	    " INSERT INTO sync_conflicts(tree, story_id, at, kind, kept,"
	    " fields, lost) VALUES (OLD.tree, OLD.id, " NOW_ISO ", 'refused',"
	    " 'file', 'tree', json_object('tree', NEW.tree)); END",
	/* An id renamed by the API: the old id is gone, as if deleted. */
	"CREATE TRIGGER stories_au_id AFTER UPDATE OF id ON stories"
	    " WHEN NEW.id IS NOT OLD.id BEGIN "
	    CLOCK_TICK
	    " INSERT INTO deleted_stories(tree, story_id, rev, deleted_at,"
	    " row) VALUES (OLD.tree, OLD.id, " CLOCK ", " NOW_ISO ", "
	    ROW_JSON("OLD") ");"
	    " UPDATE story_dependencies SET story_id = NEW.id"
	    " WHERE tree = OLD.tree AND story_id = OLD.id; END",
	"CREATE TRIGGER stories_ad AFTER DELETE ON stories BEGIN "
	    CLOCK_TICK
	    " INSERT INTO deleted_stories(tree, story_id, rev, deleted_at,"
	    " row) VALUES (OLD.tree, OLD.id, " CLOCK ", " NOW_ISO ", "
	    ROW_JSON("OLD") ");"
	    " DELETE FROM story_dependencies WHERE tree = OLD.tree AND"
	    " story_id = OLD.id; END",
	"CREATE TRIGGER deps_ai AFTER INSERT ON story_dependencies"
	    " WHEN EXISTS (SELECT 1 FROM stories WHERE tree = NEW.tree AND"
	    " id = NEW.story_id) AND " NOT_STORYSYNC
	    " BEGIN "
	    CLOCK_TICK
	    " UPDATE stories SET rev = " CLOCK ", updated = " NOW_ISO
	    " WHERE tree = NEW.tree AND id = NEW.story_id; END",
	/* a dependency moved to another story changes both */
	"CREATE TRIGGER deps_au AFTER UPDATE ON story_dependencies"
	    " WHEN " NOT_STORYSYNC
	    " BEGIN "
	    CLOCK_TICK
	    " UPDATE stories SET rev = " CLOCK ", updated = " NOW_ISO
	    " WHERE (tree = OLD.tree AND id = OLD.story_id) OR"
	    " (tree = NEW.tree AND id = NEW.story_id); END",
	"CREATE TRIGGER deps_ad AFTER DELETE ON story_dependencies"
	    " WHEN EXISTS (SELECT 1 FROM stories WHERE tree = OLD.tree AND"
	    " id = OLD.story_id) AND " NOT_STORYSYNC
	    " BEGIN "
	    CLOCK_TICK
	    " UPDATE stories SET rev = " CLOCK ", updated = " NOW_ISO
	    " WHERE tree = OLD.tree AND id = OLD.story_id; END",
	/* no OR IGNORE: an outer statement's conflict clause overrides a
	 * trigger's, so the first saved version is kept by NOT EXISTS */
	"CREATE TRIGGER stories_bu_base BEFORE UPDATE ON stories"
	    " WHEN " AGREED("OLD.tree", "OLD.id", "OLD.rev") " AND "
	    NOT_STORYSYNC
	    " BEGIN " SAVE_BASE("OLD.tree", "OLD.id") "; END",
	/* UPDATE OR REPLACE of an id or a path another row holds deletes
	 * that row, as a REPLACE does */
	"CREATE TRIGGER stories_bu_gone BEFORE UPDATE OF id, path ON stories"
	    " WHEN " NOT_STORYSYNC " AND EXISTS (" GONE_BY_UPDATE ") BEGIN "
	    ARCHIVE_GONE("NEW.tree", GONE_BY_UPDATE) " END",
	"CREATE TRIGGER stories_bd_base BEFORE DELETE ON stories"
	    " WHEN " AGREED("OLD.tree", "OLD.id", "OLD.rev") " AND "
	    NOT_STORYSYNC
	    " BEGIN " SAVE_BASE("OLD.tree", "OLD.id") "; END",
	"CREATE TRIGGER deps_bi_base BEFORE INSERT ON story_dependencies"
	    " WHEN " NOT_STORYSYNC " BEGIN "
	    SAVE_BASE("NEW.tree", "NEW.story_id") "; END",
	"CREATE TRIGGER deps_bu_base BEFORE UPDATE ON story_dependencies"
	    " WHEN " NOT_STORYSYNC " BEGIN "
	    SAVE_BASE("OLD.tree", "OLD.story_id") "; "
	    SAVE_BASE("NEW.tree", "NEW.story_id") "; END",
	"CREATE TRIGGER deps_bd_base BEFORE DELETE ON story_dependencies"
	    " WHEN " NOT_STORYSYNC " BEGIN "
	    SAVE_BASE("OLD.tree", "OLD.story_id") "; END",
	/* Every change of sync_state that the stat cache holds, storysync's
	 * or a person's (check tells how to delete an entry by hand), renews
	 * its generation; an update that leaves the path and the stat data
	 * as they were (a --full run's) keeps it. */
	"CREATE TRIGGER state_ai AFTER INSERT ON sync_state BEGIN "
	    RENEW_GENERATION("NEW.tree") " END",
	"CREATE TRIGGER state_au AFTER UPDATE ON sync_state WHEN"
	    " NEW.path IS NOT OLD.path OR NEW.mtime_ns IS NOT OLD.mtime_ns OR"
	    " NEW.ctime_ns IS NOT OLD.ctime_ns OR NEW.size IS NOT OLD.size OR"
	    " NEW.ino IS NOT OLD.ino OR NEW.mode IS NOT OLD.mode OR"
	    " NEW.recorded_ns IS NOT OLD.recorded_ns OR"
	    " NEW.tree IS NOT OLD.tree BEGIN "
	    RENEW_GENERATION("OLD.tree") RENEW_GENERATION("NEW.tree") " END",
	"CREATE TRIGGER state_ad AFTER DELETE ON sync_state BEGIN "
	    RENEW_GENERATION("OLD.tree") " END",
	/* clang-format on */
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

#define SCHEMA_VERSION 10

static bool pragma_int(struct store *s, const char *sql, int *out,
		       struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok = false;

	if (!st)
		return false;
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_dberr(s, e);
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	ok = true;
out:
	sqlite3_finalize(st);
	return ok;
}

static bool version_check(struct store *s, int v, struct err *e)
{
	if (v > SCHEMA_VERSION)
		return err_set(e,
			       "%s: database schema version %d is newer "
			       "than this storysync (%d)",
			       s->path, v, SCHEMA_VERSION);
	return true;
}

bool store_triggers_drop(struct store *s, struct err *e)
{
	char sql[80];

	if (!store_exec(s, "DROP VIEW IF EXISTS story_rows", e))
		return false;
	for (size_t i = 0; i < sizeof(trigger_names) / sizeof(*trigger_names);
	     i++) {
		snprintf(sql, sizeof(sql), "DROP TRIGGER IF EXISTS %s",
			 trigger_names[i]);
		if (!store_exec(s, sql, e))
			return false;
	}
	return true;
}

/* Not stories_rev: a first load's rows all hold the run's rev, so its
 * entries come in rowid order and each row's is appended to its last page,
 * while making it after the load read the whole stories table back, bodies
 * and all (~21 MB at 10k), in the run's serial end: half of the commit's
 * index builds (14 of 29 ms, perf under SCHED_FIFO). */
static const char *const load_indexes[][2] = {
	{"sync_state_path", INDEX_SYNC_STATE_PATH},
	{"status_history_story", INDEX_STATUS_HISTORY_STORY},
};

bool store_indexes_drop(struct store *s, struct err *e)
{
	char sql[80];

	for (size_t i = 0; i < sizeof(load_indexes) / sizeof(*load_indexes);
	     i++) {
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s",
			 load_indexes[i][0]);
		if (!store_exec(s, sql, e))
			return false;
	}
	return true;
}

bool store_indexes_make(struct store *s, struct err *e)
{
	for (size_t i = 0; i < sizeof(load_indexes) / sizeof(*load_indexes);
	     i++)
		if (!store_exec(s, load_indexes[i][1], e))
			return false;
	return true;
}

bool store_triggers_make(struct store *s, struct err *e)
{
	for (size_t i = 0; i < sizeof(triggers) / sizeof(*triggers); i++)
		if (!store_exec(s, triggers[i], e))
			return false;
	return true;
}

bool store_generation_renew(struct store *s, struct err *e)
{
	return store_exec(s, MAKE_GENERATION, e);
}

bool store_schema_steps_only;

_Static_assert(FRESH_SCHEMA_VERSION == SCHEMA_VERSION,
	       "store_sqlite_fresh.h is stale: regenerate it "
	       "(tests/tools/gen_fresh_schema.c)");

/* Whether the database is brand-new: user_version 0 (read under the write
 * lock) and none of the schema's tables. */
static bool is_fresh(struct store *s, bool *fresh, struct err *e)
{
	int n;

	if (store_schema_steps_only) {
		*fresh = false;
		return true;
	}
	if (!pragma_int(s,
			"SELECT count(*) FROM sqlite_master WHERE name IN"
			" (" FRESH_TABLES ")",
			&n, e))
		return false;
	*fresh = n == 0;
	return true;
}

/* Makes a brand-new database at the latest schema: what the steps make
 * on an empty database (store_sqlite_fresh.h, generated from them), its
 * triggers included, with no table made and made anew on the way (each
 * rebuild made SQLite parse the whole schema again). */
static bool schema_fresh(struct store *s, struct err *e)
{
	for (size_t i = 0; i < sizeof(fresh_schema) / sizeof(*fresh_schema);
	     i++)
		if (!store_exec(s, fresh_schema[i], e))
			return false;
	return true;
}

/* Applies the missing steps in one transaction; the version is read again
 * under the write lock, in case another run migrated meanwhile. A
 * brand-new database is made at the latest schema directly. */
bool store_schema_migrate(struct store *s, struct err *e)
{
	char sql[64];
	bool fresh;
	int v;

	if (!pragma_int(s, "PRAGMA user_version", &v, e) ||
	    !version_check(s, v, e))
		return false;
	if (v == SCHEMA_VERSION)
		return true;
	/* the transactions' layer is above this one: BEGIN IMMEDIATE, as
	 * store_begin */
	if (!store_exec(s, "BEGIN IMMEDIATE", e))
		return false;
	if (!pragma_int(s, "PRAGMA user_version", &v, e) ||
	    !version_check(s, v, e))
		goto fail;
	if (v == 0 && !is_fresh(s, &fresh, e))
		goto fail;
	if (v == 0 && fresh) {
		if (!schema_fresh(s, e) || !store_generation_renew(s, e))
			goto fail;
	} else {
		if (!store_triggers_drop(s, e))
			goto fail;
		for (size_t i = 0; i < NMIGRATIONS; i++)
			if (migrations[i].version > v &&
			    !store_exec(s, migrations[i].sql, e))
				goto fail;
		/* the steps ran with the triggers dropped */
		if (!store_triggers_make(s, e) || !store_generation_renew(s, e))
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (!store_exec(s, sql, e) || !store_exec(s, "COMMIT", e))
		goto fail;
	return true;
fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

bool store_schema_check(struct store *s, struct err *e)
{
	int v;

	if (!pragma_int(s, "PRAGMA user_version", &v, e) ||
	    !version_check(s, v, e))
		return false;
	if (v < SCHEMA_VERSION)
		return err_set(e,
			       "%s: database schema version %d is older than "
			       "this storysync's (%d): a sync migrates it",
			       s->path, v, SCHEMA_VERSION);
	return true;
}

int sqlite_schema_version(const struct store *s)
{
	(void)s;
	return SCHEMA_VERSION;
}
