/* store_pg_schema.c: PostgreSQL's schema, its triggers (PL/pgSQL) and its
 * forward migrations, with a version of its own (storysync_schema), apart
 * from SQLite's user_version. */
#include "store_pg.h"

#include <stdio.h>
#include <stdlib.h>

/* The row of story (T, I) as JSON, dependencies included: what a deletion
 * archives and the base the triggers save; assignees as PG_STORY_COLUMNS
 * reads them (a plain string is a list of one), or a base saved from a
 * row that holds one differs from the row it was saved from. */
#define PG_ROW_JSON(R)                                                         \
	"json_build_object('id'," R ".id,'backlog'," R ".backlog,'status'," R  \
	".status,'epic'," R ".epic,'title'," R ".title,'priority'," R          \
	".priority,'points'," R ".points,'assignees'," PG_ASSIGNEES(           \
		R) ","                                                         \
		   "'labels'," R                                               \
		   ".labels,'depends_on',coalesce((SELECT ('[' ||"             \
		   " string_agg(to_json(d.depends_on)::text, ',' ORDER BY "    \
		   "d.depends_on)"                                             \
		   " || ']')::json FROM story_dependencies d WHERE d.tree "    \
		   "= " R ".tree"                                              \
		   " AND d.story_id = " R ".id), '[]'::json),'created'," R     \
		   ".created,"                                                 \
		   "'extra'," R ".extra,'body'," R ".body,'path'," R           \
		   ".path,'updated'," R ".updated,'rev'," R ".rev,'parent'," R \
		   ".parent)"

#define PG_ASSIGNEES(A)                                                        \
	"CASE WHEN json_typeof(" A ".assignees) IN ('string', 'number',"       \
	" 'boolean') THEN json_build_array(" A ".assignees) ELSE " A           \
	".assignees END"
/* JSON object ROW with its member assignees a list of one when it is a
 * scalar, its members' order kept */
#define PG_ROW_ASSIGNEES(ROW)                                                  \
	"(SELECT json_object_agg(k, CASE WHEN k = 'assignees' AND"             \
	" json_typeof(v) IN ('string', 'number', 'boolean') THEN"              \
	" json_build_array(v) ELSE v END ORDER BY n) FROM json_each(" ROW      \
	") WITH ORDINALITY AS e(k, v, n))"

/* The columns of a sync_state entry that the stat cache holds. */
#define STATE_STAT                                                             \
	"tree, story_id, path, mtime_ns, ctime_ns, size, ino, mode,"           \
	" recorded_ns"
/* A new generation for the trees TREES selects. */
#define RENEW_GENERATION(TREES)                                                \
	"UPDATE sync_meta SET value = " PG_NEW_GENERATION " WHERE key ="       \
	" 'state.generation' AND tree IN (" TREES ")"

/*
 * Migration steps, forward only: the steps of version v take version
 * v - 1 to v. Never edit a released step; add one. Every table has the
 * tree (issue 22) from the start: a story is (tree, id).
 *
 * The change clock: rev comes from the sequence storysync_rev (unique,
 * but taken in the order transactions ask, not the order they commit);
 * rev_xid is the writing transaction (xid8), NULL for storysync's own
 * writes. A run records the snapshot its transaction read (the mark),
 * and the next takes the rows whose writer was not visible in it: a
 * transaction that took its number before a run and committed after it
 * was in progress in that snapshot, so the next run still sees it (PgQ's
 * batches work the same way).
 */
static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{1, "CREATE SEQUENCE storysync_rev"},
	{1,
	 "CREATE TABLE backlogs(tree text NOT NULL DEFAULT 'default',"
	 " name text NOT NULL, path text NOT NULL, PRIMARY KEY(tree, name))"},
	{1, "CREATE TABLE stories(tree text NOT NULL DEFAULT 'default',"
	    " id text NOT NULL, backlog text, status text, epic text,"
	    " title text NOT NULL, priority text, points text,"
	    " assignees json, labels json, extra json, body text, path text,"
	    " created text, updated text, rev bigint NOT NULL DEFAULT 0,"
	    " rev_xid xid8, parent text, PRIMARY KEY(tree, id),"
	    " UNIQUE(tree, path))"},
	{1, "CREATE INDEX stories_rev_xid ON stories(tree, rev_xid)"},
	{1, "CREATE TABLE story_dependencies(tree text NOT NULL DEFAULT"
	    " 'default', story_id text NOT NULL, depends_on text NOT NULL,"
	    " PRIMARY KEY(tree, story_id, depends_on))"},
	{1, "CREATE TABLE status_history(id bigserial PRIMARY KEY,"
	    " tree text NOT NULL DEFAULT 'default', story_id text,"
	    " from_status text, to_status text, changed_at text, origin text"
	    " CHECK (origin IN ('file','db','git','config')), commit_id text,"
	    " author text)"},
	{1, "CREATE INDEX status_history_story ON status_history(tree,"
	    " story_id)"},
	{1, "CREATE TABLE sync_state(tree text NOT NULL DEFAULT 'default',"
	    " story_id text NOT NULL, path text NOT NULL, mtime_ns bigint,"
	    " ctime_ns bigint, size bigint, ino bigint, mode bigint,"
	    " recorded_ns bigint, hash text, rev bigint, mirrors json,"
	    " digest bigint, ours bigint NOT NULL DEFAULT 0, before text,"
	    " PRIMARY KEY(tree, story_id))"},
	{1, "CREATE INDEX sync_state_path ON sync_state(tree, path)"},
	{1, "CREATE TABLE sync_base(tree text NOT NULL DEFAULT 'default',"
	    " story_id text NOT NULL, row json NOT NULL,"
	    " PRIMARY KEY(tree, story_id))"},
	{1, "CREATE TABLE sync_runs(id bigserial PRIMARY KEY,"
	    " tree text NOT NULL DEFAULT 'default', started text, ended text,"
	    " mode text, created bigint, updated bigint, moved bigint,"
	    " deleted bigint, conflicts bigint, errors bigint,"
	    " exit_code integer, messages text)"},
	{1, "CREATE TABLE sync_conflicts(id bigserial PRIMARY KEY,"
	    " tree text NOT NULL DEFAULT 'default', story_id text, at text,"
	    " kind text, kept text, fields text, lost text, run_id bigint,"
	    " resolved text, policy text)"},
	{1, "CREATE TABLE sync_events(seq bigserial PRIMARY KEY,"
	    " tree text NOT NULL DEFAULT 'default', story_id text,"
	    " change text CHECK (change IN ('created','updated','moved',"
	    "'deleted')), origin text CHECK (origin IN ('file','db','git',"
	    "'config')), run_id bigint, at text)"},
	{1, "CREATE TABLE deleted_stories(seq bigserial PRIMARY KEY,"
	    " tree text NOT NULL DEFAULT 'default', story_id text, rev bigint,"
	    " rev_xid xid8, deleted_at text, row json)"},
	{1, "CREATE INDEX deleted_stories_xid ON deleted_stories(tree,"
	    " rev_xid)"},
	{1, "CREATE TABLE sync_meta(tree text NOT NULL DEFAULT 'default',"
	    " key text NOT NULL, value text, PRIMARY KEY(tree, key))"},
	{1, "CREATE TABLE sync_consumers(tree text NOT NULL DEFAULT"
	    " 'default', name text NOT NULL, seq bigint NOT NULL,"
	    " updated text, PRIMARY KEY(tree, name))"},
	{1, "CREATE TABLE trees(name text PRIMARY KEY, host text, path text,"
	    " registered text)"},
	/* 2: the story files storysync deleted itself (SQLite's
	 * sync_deleted, its schema 8), by path: git putting one back is
	 * a discard of that deletion, not a person's new story
	 * (sync_discard.c) */
	{2, "CREATE TABLE sync_deleted(tree text NOT NULL DEFAULT 'default',"
	    " path text NOT NULL, story_id text NOT NULL, hash text NOT NULL,"
	    " before text, head text NOT NULL, deleted_at text,"
	    " PRIMARY KEY(tree, path))"},
	/* 2: the generation of each tree's sync_state, which the stat cache
	 * (statcache.h) is made from: a random value that the triggers on
	 * sync_state (state_ai, state_au, state_ad below) renew with every
	 * change of it, as SQLite's schema 8 does; here for every tree that
	 * has a state or a registration (a first load makes the row of a
	 * tree that has neither yet, pg_commit) */
	{2, "INSERT INTO sync_meta(tree, key, value) SELECT t,"
	    " 'state.generation', " PG_NEW_GENERATION " FROM (SELECT tree AS t"
	    " FROM sync_state UNION SELECT name FROM trees) x ON CONFLICT"
	    " (tree, key) DO UPDATE SET value = excluded.value"},
	/* 3: a consumer's cursor is a seq, and seq is one sequence over every
	 * tree: a cursor is the consumer's, keyed by name alone, as SQLite's
	 * (the API's documented ON CONFLICT(name) upsert failed here). A name
	 * that had a cursor in several trees keeps its lowest, which prunes
	 * nothing it has not read. */
	{3, "DELETE FROM sync_consumers a USING sync_consumers b WHERE"
	    " a.name = b.name AND (a.seq > b.seq OR (a.seq = b.seq AND"
	    " a.tree > b.tree))"},
	{3, "ALTER TABLE sync_consumers DROP CONSTRAINT sync_consumers_pkey"},
	{3, "ALTER TABLE sync_consumers DROP COLUMN tree"},
	{3, "ALTER TABLE sync_consumers ADD PRIMARY KEY (name)"},
	/* 3: the bases and archives the triggers save hold assignees as
	 * storysync reads them (PG_ROW_JSON; the triggers are made anew
	 * below): a base saved from a row whose assignees was a plain
	 * string differed from that row, so an API write of another column
	 * read as a change of assignees too */
	{3, "UPDATE sync_base SET row = " PG_ROW_ASSIGNEES(
		    "row") " WHERE json_typeof(row -> 'assignees') IN"
			   " ('string', 'number', 'boolean')"},
	{3, "UPDATE deleted_stories SET row = " PG_ROW_ASSIGNEES(
		    "row") " WHERE json_typeof(row -> 'assignees') IN"
			   " ('string', 'number', 'boolean')"},
	/* 4: the clock's indexes hold the API's writes only: storysync's
	 * own have no rev_xid, and every query of the clock asks rev_xid >=
	 * a snapshot's xmin, which no NULL passes. An index of every row
	 * was 10k equal keys (tree, NULL) after a first load, and their
	 * inserts more than half the server's time for its stories */
	{4, "DROP INDEX stories_rev_xid"},
	{4, "CREATE INDEX stories_rev_xid ON stories(tree, rev_xid) WHERE"
	    " rev_xid IS NOT NULL"},
	{4, "DROP INDEX deleted_stories_xid"},
	{4, "CREATE INDEX deleted_stories_xid ON deleted_stories(tree,"
	    " rev_xid) WHERE rev_xid IS NOT NULL"},
	/* 5: a story's archives, looked up by id (a deleted story git puts
	 * back, seed 414: the lookup scanned the tree's whole archive) */
	{5, "CREATE INDEX IF NOT EXISTS deleted_stories_story ON"
	    " deleted_stories(tree, story_id)"},
	/* 6: the path storysync's write took the file from, where git
	 * held the version before (sync_state.before) then: git's version
	 * back there is a discard, at any other path a person's move of it
	 * (issue 19). Unknown for the states agreed so far: none */
	{6, "ALTER TABLE sync_state ADD COLUMN IF NOT EXISTS before_path"
	    " text"},
};

/* The change tracking, made anew by every migration (CREATE OR REPLACE),
 * so that it always reads the columns the schema has now; each trigger's
 * WHEN skips storysync's own writes without entering PL/pgSQL. A transaction
 * that set storysync.writer (set_config(..., true): it ends with the
 * transaction) is storysync's own: its writes set rev themselves. After
 * set_config the setting reads '' in later transactions of the session,
 * not NULL. */
static const char *const triggers[] = {
	"CREATE OR REPLACE FUNCTION storysync_writer() RETURNS boolean"
	" LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting("
	"'storysync.writer', true), '') <> '' $$",
	"CREATE OR REPLACE FUNCTION storysync_now() RETURNS text"
	" LANGUAGE sql STABLE AS $$ SELECT to_char(clock_timestamp() AT TIME"
	" ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') $$",
	/* the row of (t, i) saved as its base, when it is at the agreed rev
	 * and none is saved yet */
	"CREATE OR REPLACE FUNCTION storysync_save_base(t text, i text)"
	" RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
	" INSERT INTO sync_base(tree, story_id, row) SELECT s.tree, "
	"s.id, " PG_ROW_JSON(
		"s") " FROM stories s JOIN sync_state st ON st.tree ="
		     " s.tree AND st.story_id = s.id AND st.rev = s.rev"
		     " WHERE s.tree = t AND s.id = i"
		     " ON CONFLICT DO NOTHING; END $$",
	"CREATE OR REPLACE FUNCTION storysync_stories_before()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP = 'UPDATE' AND NEW.tree IS DISTINCT FROM OLD.tree THEN"
	" RAISE EXCEPTION 'storysync: a story cannot change tree (% to %)',"
	" OLD.tree, NEW.tree; END IF;"
	" IF storysync_writer() THEN RETURN NEW; END IF;"
	" IF TG_OP = 'UPDATE' THEN PERFORM storysync_save_base(OLD.tree,"
	" OLD.id);"
	" IF NEW.updated IS NOT DISTINCT FROM OLD.updated THEN"
	" NEW.updated := storysync_now(); END IF;"
	" ELSIF NEW.updated IS NULL THEN NEW.updated := storysync_now();"
	" END IF;"
	" NEW.rev := nextval('storysync_rev');"
	" NEW.rev_xid := pg_current_xact_id(); RETURN NEW; END $$",
	/* an id renamed by the API: the old id is gone, as if deleted */
	"CREATE OR REPLACE FUNCTION storysync_stories_after()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE w boolean :="
	" storysync_writer(); BEGIN"
	" IF TG_OP = 'DELETE' OR OLD.id IS DISTINCT FROM NEW.id THEN"
	" INSERT INTO deleted_stories(tree, story_id, rev, rev_xid,"
	" deleted_at, row) VALUES (OLD.tree, OLD.id, CASE WHEN w THEN"
	" current_setting('storysync.writer')::bigint ELSE"
	" nextval('storysync_rev') END, CASE WHEN w THEN NULL ELSE"
	" pg_current_xact_id() END, storysync_now(), " PG_ROW_JSON(
		"OLD") ");"
		       " IF TG_OP = 'DELETE' THEN DELETE FROM "
		       "story_dependencies WHERE"
		       " tree = OLD.tree AND story_id = OLD.id; ELSE UPDATE"
		       " story_dependencies SET story_id = NEW.id WHERE tree = "
		       "OLD.tree AND"
		       " story_id = OLD.id; END IF; END IF; RETURN NULL; END "
		       "$$",
	"CREATE OR REPLACE FUNCTION storysync_stories_before_delete()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM"
	" storysync_save_base(OLD.tree, OLD.id); RETURN OLD; END $$",
	/* a dependency changed changes its story (both, when moved) */
	"CREATE OR REPLACE FUNCTION storysync_deps_before()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF storysync_writer() THEN RETURN coalesce(NEW, OLD); END IF;"
	" IF TG_OP <> 'INSERT' THEN PERFORM storysync_save_base(OLD.tree,"
	" OLD.story_id); END IF;"
	" IF TG_OP <> 'DELETE' THEN PERFORM storysync_save_base(NEW.tree,"
	" NEW.story_id); END IF; RETURN coalesce(NEW, OLD); END $$",
	"CREATE OR REPLACE FUNCTION storysync_deps_after()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF storysync_writer() THEN RETURN NULL; END IF;"
	" IF TG_OP <> 'INSERT' THEN UPDATE stories SET updated ="
	" storysync_now() WHERE tree = OLD.tree AND id = OLD.story_id;"
	" END IF; IF TG_OP <> 'DELETE' THEN UPDATE stories SET updated ="
	" storysync_now() WHERE tree = NEW.tree AND id = NEW.story_id;"
	" END IF; RETURN NULL; END $$",
	/* a new generation for the trees whose entries a statement on
	 * sync_state inserted, deleted, or updated in their path or stat data
	 * (what the stat cache holds; a --full run's update that leaves them
	 * keeps it): a statement trigger, once for a first load's rows */
	"CREATE OR REPLACE FUNCTION storysync_state_changed()"
	" RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
	" IF TG_OP = 'INSERT' THEN " RENEW_GENERATION(
		"SELECT tree FROM new_rows") ";"
					     " ELSIF TG_OP = 'DELETE' "
					     "THEN " RENEW_GENERATION(
						     "SELECT tree FROM "
						     "old_rows") ";"
								 " ELSE"
								 " " RENEW_GENERATION(
									 "SELEC"
									 "T "
									 "tree "
									 "FROM "
									 "(("
									 "SELEC"
									 "T"
									 " " STATE_STAT
									 " FROM"
									 " new_"
									 "rows "
									 "EXCEP"
									 "T"
									 " ALL "
									 "SELEC"
									 "T"
									 " " STATE_STAT
									 " FROM"
									 " old_"
									 "rows)"
									 " UNIO"
									 "N "
									 "ALL "
									 "(SELE"
									 "CT"
									 " " STATE_STAT
									 " FROM"
									 " old_"
									 "rows "
									 "EXCEP"
									 "T "
									 "ALL "
									 "SELEC"
									 "T"
									 " " STATE_STAT
									 " FROM"
									 " new_"
									 "rows)"
									 ") c") ";"
										" END IF; RETURN NULL; END $$",
	"DROP TRIGGER IF EXISTS state_ai ON sync_state",
	"CREATE TRIGGER state_ai AFTER INSERT ON sync_state REFERENCING NEW"
	" TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION"
	" storysync_state_changed()",
	"DROP TRIGGER IF EXISTS state_au ON sync_state",
	"CREATE TRIGGER state_au AFTER UPDATE ON sync_state REFERENCING OLD"
	" TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE"
	" FUNCTION storysync_state_changed()",
	"DROP TRIGGER IF EXISTS state_ad ON sync_state",
	"CREATE TRIGGER state_ad AFTER DELETE ON sync_state REFERENCING OLD"
	" TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION"
	" storysync_state_changed()",
	"DROP TRIGGER IF EXISTS stories_before ON stories",
	"CREATE TRIGGER stories_before BEFORE INSERT OR UPDATE ON stories"
	" FOR EACH ROW WHEN (NOT storysync_writer()) EXECUTE FUNCTION"
	" storysync_stories_before()",
	"DROP TRIGGER IF EXISTS stories_before_delete ON stories",
	"CREATE TRIGGER stories_before_delete BEFORE DELETE ON stories"
	" FOR EACH ROW WHEN (NOT storysync_writer()) EXECUTE FUNCTION"
	" storysync_stories_before_delete()",
	"DROP TRIGGER IF EXISTS stories_after ON stories",
	"CREATE TRIGGER stories_after AFTER DELETE OR UPDATE OF id ON stories"
	" FOR EACH ROW EXECUTE FUNCTION storysync_stories_after()",
	"DROP TRIGGER IF EXISTS deps_before ON story_dependencies",
	"CREATE TRIGGER deps_before BEFORE INSERT OR UPDATE OR DELETE ON"
	" story_dependencies FOR EACH ROW WHEN (NOT storysync_writer())"
	" EXECUTE FUNCTION storysync_deps_before()",
	"DROP TRIGGER IF EXISTS deps_after ON story_dependencies",
	"CREATE TRIGGER deps_after AFTER INSERT OR UPDATE OR DELETE ON"
	" story_dependencies FOR EACH ROW WHEN (NOT storysync_writer())"
	" EXECUTE FUNCTION storysync_deps_after()",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int pg_schema_version(const struct store *s)
{
	(void)s;
	return PG_SCHEMA_VERSION;
}

/* v, unless newer than this storysync knows. */
static bool version_newer(struct store *s, int v, struct err *e)
{
	if (v > PG_SCHEMA_VERSION)
		return err_set(e,
			       "%s: database schema version %d is newer than "
			       "this storysync (%d)",
			       s->shown, v, PG_SCHEMA_VERSION);
	return true;
}

/* The version the database is at: 0 before storysync made anything. */
static bool version_read(struct store *s, int *v, struct err *e)
{
	PGresult *r;
	bool made;

	*v = s->version; /* once: a migration's lock reads it again */
	if (s->version_known) {
		s->version_known = false;
		return version_newer(s, *v, e);
	}
	r = pg_query(s, e, "SELECT to_regclass('storysync_schema') IS NOT NULL",
		     0, NULL);
	if (!r)
		return false;
	made = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	*v = 0;
	if (made) {
		r = pg_query(s, e, "SELECT max(version) FROM storysync_schema",
			     0, NULL);
		if (!r)
			return false;
		*v = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	return version_newer(s, *v, e);
}

bool pg_schema_check(struct store *s, struct err *e)
{
	int v;

	if (!version_read(s, &v, e))
		return false;
	if (v == 0)
		return err_set(e,
			       "%s: no storysync schema in this database "
			       "(storysync init creates it)",
			       s->shown);
	if (v < PG_SCHEMA_VERSION)
		return err_set(e,
			       "%s: database schema version %d is older than "
			       "this storysync's (%d): a sync migrates it",
			       s->shown, v, PG_SCHEMA_VERSION);
	return true;
}

/* Applies the missing steps in one transaction, under the migration's
 * advisory lock (two runs, or two machines, migrating at once: the
 * second waits, then finds the work done). */
bool pg_schema_migrate(struct store *s, bool create, struct err *e)
{
	struct buf steps = BUF_INIT;
	bool ok;
	int v;

	if (!version_read(s, &v, e))
		return false;
	if (v == PG_SCHEMA_VERSION)
		return true;
	if (v == 0 && !create)
		return err_set(e,
			       "%s: no storysync schema in this database "
			       "(storysync init creates it)",
			       s->shown);
	if (!pg_exec(s,
		     "BEGIN; SELECT pg_advisory_xact_lock(" PG_LOCK_CLASS
		     ", 0)",
		     e) ||
	    !version_read(s, &v, e))
		goto fail;
	if (v == PG_SCHEMA_VERSION)
		return pg_exec(s, "COMMIT", e);
	/* the steps, the triggers and the version as one query: one round
	 * trip, not 80 (the server stops at the first that fails) */
	buf_puts(&steps, "CREATE TABLE IF NOT EXISTS storysync_schema(version"
			 " integer)");
	for (size_t i = 0; i < NMIGRATIONS; i++)
		if (migrations[i].version > v)
			buf_printf(&steps, ";\n%s", migrations[i].sql);
	for (size_t i = 0; i < sizeof(triggers) / sizeof(*triggers); i++)
		buf_printf(&steps, ";\n%s", triggers[i]);
	buf_printf(&steps,
		   ";\nDELETE FROM storysync_schema; INSERT INTO"
		   " storysync_schema VALUES (%d)",
		   PG_SCHEMA_VERSION);
	ok = pg_exec(s, steps.data, e) && pg_exec(s, "COMMIT", e);
	buf_finish(&steps);
	if (ok)
		return true;
fail:
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
		pg_exec(s, "ROLLBACK", NULL);
	return false;
}
