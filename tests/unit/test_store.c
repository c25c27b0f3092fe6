/* Unit tests of store.c: a real SQLite file in a fresh temp dir, and a
 * second connection that writes plain SQL as the API does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mem.h"
#include "store.h"
#include "store_sqlite.h"

struct fixture {
	char dir[64];
	char *db;
	struct store *s;
	sqlite3 *api; /* the API's connection */
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct err e = {{0}};

	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db = xasprintf("%s/stories.db", f->dir);
	if (!store_create(&f->s, f->db, 5000, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(sqlite3_open(f->db, &f->api), SQLITE_OK);
	sqlite3_busy_timeout(f->api, 5000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sqlite3_close(f->api);
	store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->db);
	free(f);
	return 0;
}

static void api_exec(struct fixture *f, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(f->api, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* The first column of the first row of sql on the API's connection, as
 * heap text ("NULL" for NULL). */
static char *api_text(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	char *out;

	if (sqlite3_prepare_v2(f->api, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(f->api));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		out = xstrdup("NULL");
	else
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int64_t api_int(struct fixture *f, const char *sql)
{
	char *t = api_text(f, sql);
	int64_t v = strtoll(t, NULL, 10);

	free(t);
	return v;
}

static void assert_api_text(struct fixture *f, const char *sql,
			    const char *want)
{
	char *got = api_text(f, sql);

	assert_string_equal(got, want);
	free(got);
}

static void full_story(struct story *s)
{
	memset(s, 0, sizeof(*s));
	story_set(s, SF_ID, "INF-014");
	story_set(s, SF_BACKLOG, "platform");
	story_set(s, SF_STATUS, "refinement");
	story_set(s, SF_EPIC, "infrastructure");
	story_set(s, SF_TITLE, "File \"sync\" service");
	story_set(s, SF_PRIORITY, "high");
	story_set(s, SF_POINTS, "8");
	story_set(s, SF_ASSIGNEES, "[\"ana\"]");
	story_set(s, SF_LABELS, "[\"sync\",\"sqlite\"]");
	story_set(s, SF_DEPENDS_ON, "[\"INF-012\",\"INF-013\"]");
	story_set(s, SF_CREATED, "2026-11-20");
	story_set(s, SF_EXTRA, "{\"any\":\"kept\",\"n\":[1,2]}");
	story_set(s, SF_BODY, "# Body\n\ntext\n");
	story_set(s, SF_PARENT, "INF-001");
}

/* A put in a transaction of its own, as sync makes them. */
static void put(struct fixture *f, const struct story *s, const char *path,
		int64_t *rev)
{
	struct err e = {{0}};

	if (!store_begin(f->s, &e) ||
	    !store_story_put(f->s, s, path, rev, &e) || !store_commit(f->s, &e))
		fail_msg("%s", e.msg);
}

static void put_simple(struct fixture *f, const char *id, const char *path)
{
	struct story s = {0};
	int64_t rev;

	story_set(&s, SF_ID, id);
	story_set(&s, SF_TITLE, id);
	put(f, &s, path, &rev);
	story_finish(&s);
}

/* A put inside the caller's transaction. */
static void put_within(struct fixture *f, const char *id, const char *path)
{
	struct story s = {0};
	struct err e = {{0}};
	int64_t rev;

	story_set(&s, SF_ID, id);
	story_set(&s, SF_TITLE, id);
	if (!store_story_put(f->s, &s, path, &rev, &e))
		fail_msg("%s", e.msg);
	story_finish(&s);
}

static int64_t clock_value(struct fixture *f)
{
	return api_int(f, "SELECT value FROM rev_clock");
}

static void test_open_twice(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct store *s2;
	char *schema = api_text(
		f, "SELECT group_concat(name, ',') FROM (SELECT name FROM "
		   "sqlite_master ORDER BY name)");

	assert_int_equal(store_schema_version(f->s), 10);
	if (!store_open(&s2, f->db, &e))
		fail_msg("%s", e.msg);
	store_close(s2);
	assert_api_text(f,
			"SELECT group_concat(name, ',') FROM (SELECT name "
			"FROM sqlite_master ORDER BY name)",
			schema);
	assert_non_null(strstr(schema, "stories_au"));
	assert_non_null(strstr(schema, "stories_rev"));
	assert_int_equal(api_int(f, "PRAGMA user_version"), 10);
	assert_api_text(f, "PRAGMA journal_mode", "wal");
	assert_int_equal(api_int(f, "SELECT count(*) FROM rev_clock"), 1);
	assert_true(store_is_empty(f->s));
	free(schema);
}

/* The tree is the store's, set once before any call about it. */
static void test_tree_set_once(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct store *s2;

	if (!store_open(&s2, f->db, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(store_tree(s2), STORE_TREE_DEFAULT);
	assert_true(store_set_tree(s2, "web", &e));
	assert_string_equal(store_tree(s2), "web");
	assert_true(store_set_tree(s2, "default", &e));
	assert_string_equal(store_tree(s2), "default");
	assert_true(store_set_tree(s2, "web", &e));
	(void)store_is_empty(s2);
	assert_false(store_set_tree(s2, "api", &e));
	assert_non_null(strstr(e.msg, "before any other call"));
	assert_string_equal(store_tree(s2), "web");
	store_close(s2);
}

/* Two trees in one file: the same id in each, every call about its own
 * tree, the mark per tree, and a row that cannot change tree. */
static void test_two_trees(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct store *web;
	struct story got = {0};
	struct db_change *v;
	struct tree_info *t;
	size_t n;
	int64_t rev, mark;
	char *path;
	bool found, moved;

	put_simple(f, "T-1", "a/T-1.md");
	if (!store_open(&web, f->db, &e) || !store_set_tree(web, "web", &e))
		fail_msg("%s", e.msg);
	assert_true(store_is_empty(web));
	story_set(&got, SF_ID, "T-1");
	story_set(&got, SF_TITLE, "web's");
	assert_true(store_begin(web, &e));
	assert_true(store_story_put(web, &got, "a/T-1.md", &rev, &e));
	assert_true(store_mark_set(web, &e));
	assert_true(store_commit(web, &e));
	story_finish(&got);
	assert_true(
		store_story_get(f->s, "T-1", &got, &rev, &path, &found, &e));
	assert_true(found);
	assert_string_equal(got.v[SF_TITLE], "T-1");
	story_finish(&got);
	free(path);
	assert_true(store_story_get(web, "T-1", &got, &rev, &path, &found, &e));
	assert_string_equal(got.v[SF_TITLE], "web's");
	story_finish(&got);
	free(path);
	assert_int_equal(api_int(f, "SELECT count(*) FROM stories"), 2);
	/* the API edits default's row: web's clock check and changes stay
	 * still */
	api_exec(f, "UPDATE stories SET title = 'x' WHERE tree = 'default'");
	assert_true(store_clock_moved(web, &moved, &e));
	assert_false(moved);
	assert_true(store_mark_get(web, &mark, &e));
	assert_true(store_changes(web, mark, false, &v, &n, &e));
	assert_int_equal(n, 0);
	store_changes_free(v, n);
	assert_true(store_changes(f->s, 0, false, &v, &n, &e));
	assert_int_equal(n, 1);
	store_changes_free(v, n);
	/* a row cannot change tree: put back, recorded as refused */
	api_exec(f, "UPDATE stories SET tree = 'api' WHERE tree = 'web'");
	assert_int_equal(api_int(f, "SELECT count(*) FROM stories WHERE"
				    " tree = 'web' AND id = 'T-1'"),
			 1);
	assert_api_text(f,
			"SELECT tree || ' ' || kind || ' ' || fields || ' ' ||"
			" lost FROM sync_conflicts",
			"web refused tree {\"tree\":\"api\"}");
	assert_true(store_trees_list(web, &t, &n, &e));
	assert_int_equal(n, 2);
	assert_string_equal(t[0].name, "web");
	assert_int_equal(t[0].stories, 1);
	assert_string_equal(t[1].name, "default");
	store_trees_free(t, n);
	store_close(web);
}

static void test_newer_version(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct store *s2 = (struct store *)1;
	char *want;

	api_exec(f, "PRAGMA user_version = 11");
	assert_false(store_open(&s2, f->db, &e));
	assert_null(s2);
	want = xasprintf("%s: database schema version 11 is newer than this "
			 "storysync (10)",
			 f->db);
	assert_string_equal(e.msg, want);
	free(want);
}

static void test_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct store *s2;
	char *path = xasprintf("%s/junk.db", f->dir);
	char *want = xasprintf(
		"%s: file is not a database (the database is damaged: "
		"restore it from a backup, or move it away and run 'storysync "
		"init' and 'storysync sync' to rebuild it from the files (its "
		"history is lost))",
		path);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs("this is not SQLite, but long enough to have a header......"
	      "..............................................................",
	      fp);
	fclose(fp);
	assert_false(store_open(&s2, path, &e));
	assert_string_equal(e.msg, want);
	free(want);
	free(path);
}

static void test_put_get_round_trip(void **state)
{
	struct fixture *f = *state;
	struct story s, got = {0};
	struct err e = {{0}};
	int64_t rev, rev2, rev_got;
	char *path = NULL;
	bool found;

	full_story(&s);
	put(f, &s, "stories/refinements/INF-014-x.md", &rev);
	assert_true(rev > 0);
	assert_false(store_is_empty(f->s));
	assert_true(store_story_get(f->s, "INF-014", &got, &rev_got, &path,
				    &found, &e));
	assert_true(found);
	for (int i = 0; i < SF_COUNT; i++)
		assert_string_equal(got.v[i], s.v[i]);
	assert_int_equal(rev_got, rev);
	assert_string_equal(path, "stories/refinements/INF-014-x.md");
	assert_int_equal(api_int(f, "SELECT typeof(points) = 'integer' FROM "
				    "stories"),
			 1);
	assert_api_text(f, "SELECT count(*) FROM story_dependencies", "2");

	/* An identical put writes nothing. */
	int64_t clock = clock_value(f);
	put(f, &s, "stories/refinements/INF-014-x.md", &rev2);
	assert_int_equal(rev2, rev);
	assert_int_equal(clock_value(f), clock);

	/* One field, then the dependencies only. */
	story_set(&s, SF_PRIORITY, "low");
	put(f, &s, "stories/refinements/INF-014-x.md", &rev2);
	assert_true(rev2 > rev);
	rev = rev2;
	story_set(&s, SF_DEPENDS_ON, "[\"INF-001\"]");
	put(f, &s, "stories/refinements/INF-014-x.md", &rev2);
	assert_true(rev2 > rev);
	assert_api_text(f,
			"SELECT group_concat(depends_on) FROM "
			"story_dependencies WHERE story_id = 'INF-014'",
			"INF-001");
	story_set(&s, SF_DEPENDS_ON, NULL);
	put(f, &s, "stories/refinements/INF-014-x.md", &rev2);
	assert_api_text(f, "SELECT count(*) FROM story_dependencies", "0");

	/* A move sets the path only; the same path again writes nothing. */
	rev = rev2;
	assert_true(store_begin(f->s, &e));
	assert_true(store_story_set_path(f->s, "INF-014", "stories/a/x.md",
					 &rev2, &e));
	assert_true(store_commit(f->s, &e));
	assert_true(rev2 > rev);
	rev = rev2;
	assert_true(store_begin(f->s, &e));
	assert_true(store_story_set_path(f->s, "INF-014", "stories/a/x.md",
					 &rev2, &e));
	assert_true(store_commit(f->s, &e));
	assert_int_equal(rev2, rev);
	/* storysync's own writes leave no mark once committed */
	assert_api_text(
		f, "SELECT count(*) FROM sync_meta WHERE key = 'writer'", "0");

	story_finish(&got);
	free(path);
	assert_true(
		store_story_get(f->s, "NOPE", &got, NULL, NULL, &found, &e));
	assert_false(found);
	story_finish(&s);
}

static void test_canonical_read(void **state)
{
	struct fixture *f = *state;
	struct story got = {0};
	struct err e = {{0}};
	int64_t rev;
	bool found;

	api_exec(f, "INSERT INTO stories(id, title, labels, extra, points) "
		    "VALUES ('API-1', 't', '[ \"a\" , \"b\" ]', '{ }', 5);"
		    "INSERT INTO story_dependencies(story_id, depends_on) "
		    "VALUES ('API-1', 'Z-2'), "
		    "('API-1', 'A-1'), ('API-1', 'M-3')");
	assert_true(
		store_story_get(f->s, "API-1", &got, &rev, NULL, &found, &e));
	assert_true(found);
	assert_string_equal(got.v[SF_LABELS], "[\"a\",\"b\"]");
	assert_null(got.v[SF_EXTRA]);
	assert_string_equal(got.v[SF_POINTS], "5");
	assert_string_equal(got.v[SF_DEPENDS_ON], "[\"A-1\",\"M-3\",\"Z-2\"]");
	assert_null(got.v[SF_STATUS]);
	assert_null(got.v[SF_BODY]);
	assert_int_equal(rev, clock_value(f));
	story_finish(&got);
}

/* A path is storysync's: a row that holds the one a story's file has now
 * lets it go (the API wrote it there, or the file claims another id), so
 * that a unique path never stops a run. */
static void test_path_conflict(void **state)
{
	struct fixture *f = *state;
	struct story s = {0};
	struct err e = {{0}};
	int64_t rev;
	char *want;

	put_simple(f, "A-1", "x.md");
	story_set(&s, SF_ID, "B-1");
	story_set(&s, SF_TITLE, "b");
	put(f, &s, "x.md", &rev);
	assert_api_text(f,
			"SELECT id || ':' || ifnull(path, 'NULL') FROM"
			" stories ORDER BY id",
			"A-1:NULL");
	assert_api_text(f, "SELECT path FROM stories WHERE id = 'B-1'", "x.md");
	/* and back, by the path alone */
	assert_true(store_begin(f->s, &e));
	assert_true(store_story_set_path(f->s, "A-1", "x.md", &rev, &e));
	assert_true(store_commit(f->s, &e));
	assert_api_text(f,
			"SELECT ifnull(path, 'NULL') FROM stories WHERE"
			" id = 'B-1'",
			"NULL");
	/* outside a transaction, a story write is refused */
	want = xasprintf("%s: story writes need a transaction", f->db);
	assert_false(store_story_put(f->s, &s, "y.md", &rev, &e));
	assert_string_equal(e.msg, want);
	free(want);
	story_finish(&s);
}

/* Finds id in the change list, or fails. */
static const struct db_change *change_of(const struct db_change *v, size_t n,
					 const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	fail_msg("no change for %s", id);
	return NULL;
}

static void test_api_changes(void **state)
{
	struct fixture *f = *state;
	struct db_change *v;
	struct err e = {{0}};
	int64_t mark;
	size_t n;

	put_simple(f, "A-1", "a.md");
	put_simple(f, "B-1", "b.md");
	put_simple(f, "C-1", "c.md");
	assert_true(store_mark_get(f->s, &mark, &e));
	assert_int_equal(mark, 0);
	assert_true(store_mark_set(f->s, &e));
	assert_true(store_mark_get(f->s, &mark, &e));
	assert_int_equal(mark, clock_value(f));
	assert_true(store_changes(f->s, mark, false, &v, &n, &e));
	assert_int_equal(n, 0);
	store_changes_free(v, n);

	api_exec(f, "UPDATE stories SET title = 'new' WHERE id = 'A-1'");
	int64_t rev_a = clock_value(f);
	api_exec(f, "INSERT INTO stories(id, title) VALUES ('D-1', 'd')");
	int64_t rev_d = clock_value(f);
	api_exec(f, "DELETE FROM stories WHERE id = 'B-1'");
	/* An update that sets rev itself still ends at the clock. */
	api_exec(f, "UPDATE stories SET rev = 1 WHERE id = 'C-1'");
	int64_t rev_c = clock_value(f);
	assert_int_equal(api_int(f, "SELECT rev FROM stories WHERE id='C-1'"),
			 rev_c);
	/* Re-created after a delete: a row, not a deletion. */
	api_exec(f, "INSERT INTO stories(id, title) VALUES ('E-1', 'e');"
		    "DELETE FROM stories WHERE id = 'E-1';"
		    "INSERT INTO stories(id, title) VALUES ('E-1', 'e2')");

	assert_true(store_changes(f->s, mark, false, &v, &n, &e));
	assert_int_equal(n, 5);
	assert_int_equal(change_of(v, n, "A-1")->rev, rev_a);
	assert_false(change_of(v, n, "A-1")->deleted);
	assert_int_equal(change_of(v, n, "D-1")->rev, rev_d);
	assert_int_equal(change_of(v, n, "C-1")->rev, rev_c);
	assert_true(change_of(v, n, "B-1")->deleted);
	assert_int_equal(change_of(v, n, "B-1")->rev, 0);
	assert_false(change_of(v, n, "E-1")->deleted);
	store_changes_free(v, n);

	/* Past the new mark, only what changes next. */
	assert_true(store_mark_set(f->s, &e));
	assert_true(store_mark_get(f->s, &mark, &e));
	api_exec(f, "UPDATE stories SET status = 'active' WHERE id = 'D-1'");
	assert_true(store_changes(f->s, mark, false, &v, &n, &e));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, "D-1");
	assert_int_equal(v[0].rev, clock_value(f));
	store_changes_free(v, n);
}

static void test_changes_plan(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	char *plan;

	assert_true(store_changes_plan(f->s, &plan, &e));
	assert_non_null(strstr(
		plan,
		"SEARCH stories USING INDEX stories_rev (tree=? AND rev>?)"));
	assert_non_null(strstr(
		plan, "SEARCH d USING INDEX deleted_stories_rev (tree=? AND "
		      "rev>?)"));
	assert_null(strstr(plan, "SCAN"));
	free(plan);
}

static void test_changes_all(void **state)
{
	struct fixture *f = *state;
	char id[] = "GONE-1", path[] = "gone.md";
	struct state_entry se = {.id = id, .path = path};
	struct db_change *v;
	struct err e = {{0}};
	size_t n;

	put_simple(f, "A-1", "a.md");
	assert_true(store_mark_set(f->s, &e));
	assert_true(store_state_put(f->s, &se, NULL, NULL, &e));
	assert_true(store_changes(f->s, 0, true, &v, &n, &e));
	assert_int_equal(n, 2);
	assert_false(change_of(v, n, "A-1")->deleted);
	assert_true(change_of(v, n, "GONE-1")->deleted);
	store_changes_free(v, n);
}

static void test_api_dependency_bumps_rev(void **state)
{
	struct fixture *f = *state;
	int64_t before;

	put_simple(f, "A-1", "a.md");
	before = api_int(f, "SELECT rev FROM stories WHERE id = 'A-1'");
	api_exec(f, "INSERT INTO story_dependencies(story_id, depends_on) "
		    "VALUES ('A-1', 'B-1')");
	int64_t after = api_int(f, "SELECT rev FROM stories WHERE id='A-1'");
	assert_true(after > before);
	assert_int_equal(after, clock_value(f));
	api_exec(f, "DELETE FROM story_dependencies WHERE story_id = 'A-1'");
	assert_true(api_int(f, "SELECT rev FROM stories WHERE id='A-1'") >
		    after);
	/* A dependency of no known story touches nothing. */
	int64_t clock = clock_value(f);
	api_exec(f, "INSERT INTO story_dependencies(story_id, depends_on) "
		    "VALUES ('X-9', 'A-1')");
	assert_int_equal(clock_value(f), clock);
}

static void test_delete_archives(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	struct story s;
	int64_t rev;

	full_story(&s);
	put(f, &s, "p/INF-014.md", &rev);
	assert_true(store_begin(f->s, &e));
	assert_true(store_story_delete(f->s, "INF-014", &e));
	assert_true(store_commit(f->s, &e));
	assert_api_text(f, "SELECT count(*) FROM stories", "0");
	assert_api_text(f, "SELECT count(*) FROM story_dependencies", "0");
	assert_api_text(
		f,
		"SELECT json_remove(row, '$.updated', '$.rev') FROM "
		"deleted_stories",
		"{\"id\":\"INF-014\",\"backlog\":\"platform\","
		"\"status\":\"refinement\",\"epic\":\"infrastructure\","
		"\"title\":\"File \\\"sync\\\" service\",\"priority\":\"high\","
		"\"points\":8,\"assignees\":[\"ana\"],"
		"\"labels\":[\"sync\",\"sqlite\"],"
		"\"depends_on\":[\"INF-012\",\"INF-013\"],"
		"\"created\":\"2026-11-20\","
		"\"extra\":{\"any\":\"kept\",\"n\":[1,2]},"
		"\"body\":\"# Body\\n\\ntext\\n\",\"path\":\"p/INF-014.md\","
		"\"parent\":\"INF-001\"}");
	assert_int_equal(api_int(f, "SELECT row->>'rev' FROM deleted_stories"),
			 rev);
	assert_int_equal(api_int(f, "SELECT rev FROM deleted_stories"),
			 clock_value(f));
	assert_api_text(f, "SELECT story_id FROM deleted_stories", "INF-014");
	story_finish(&s);
}

static void test_api_rename_archives_old_id(void **state)
{
	struct fixture *f = *state;
	struct db_change *v;
	struct err e = {{0}};
	size_t n;

	put_simple(f, "A-1", "a.md");
	api_exec(f, "INSERT INTO story_dependencies(story_id, depends_on) "
		    "VALUES ('A-1', 'Q-1')");
	assert_true(store_mark_set(f->s, &e));
	api_exec(f, "UPDATE stories SET id = 'A-2' WHERE id = 'A-1'");
	assert_true(store_changes(f->s, 0, false, &v, &n, &e));
	assert_int_equal(n, 2);
	assert_true(change_of(v, n, "A-1")->deleted);
	assert_false(change_of(v, n, "A-2")->deleted);
	store_changes_free(v, n);
	assert_api_text(f, "SELECT story_id FROM story_dependencies", "A-2");
}

/* An agreed story INF-014 (full_story) at p.md, its state recorded. */
static void agreed_story(struct fixture *f)
{
	char id[] = "INF-014", path[] = "p.md";
	struct state_entry se = {.id = id, .path = path};
	struct story s;
	struct err e = {{0}};

	full_story(&s);
	put(f, &s, path, &se.rev);
	if (!store_state_put(f->s, &se, &s, NULL, &e))
		fail_msg("%s", e.msg);
	story_finish(&s);
}

/* The base store_state_base finds, as its title and dependencies. */
static void assert_base(struct fixture *f, const char *title, const char *deps)
{
	struct story got = {0};
	char *mirror[SM_COUNT] = {0};
	struct err e = {{0}};
	bool found, known;

	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_true(found);
	assert_string_equal(got.v[SF_TITLE], title);
	assert_string_equal(got.v[SF_DEPENDS_ON], deps);
	story_finish(&got);
	for (int m = 0; m < SM_COUNT; m++)
		free(mirror[m]);
}

/* Every statement form moves the rev and saves the base first; a REPLACE
 * keeps the dependencies and archives nothing, recursive_triggers on or
 * off. */
static void test_api_statement_forms(void **state)
{
	static const char *const forms[] = {
		"UPDATE story_dependencies SET depends_on = 'X-1'"
		" WHERE depends_on = 'INF-012'",
		"INSERT OR REPLACE INTO stories(id, title, path)"
		" VALUES ('INF-014', 'Replaced', 'p.md')",
		"PRAGMA recursive_triggers = ON; REPLACE INTO stories(id,"
		" title, path) VALUES ('INF-014', 'Replaced', 'p.md')",
		"INSERT INTO stories(id, title) VALUES ('INF-014', 'Upsert')"
		" ON CONFLICT(tree, id) DO UPDATE SET title = excluded.title",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		int64_t clock;

		agreed_story(f);
		clock = clock_value(f);
		api_exec(f, forms[i]);
		assert_true(api_int(f, "SELECT rev FROM stories") > clock);
		assert_base(f, "File \"sync\" service",
			    "[\"INF-012\",\"INF-013\"]");
		assert_api_text(f,
				"SELECT count(*) FROM story_dependencies"
				" WHERE story_id = 'INF-014'",
				"2");
		assert_api_text(f,
				"SELECT (SELECT count(*) FROM deleted_stories)"
				" + (SELECT count(*) FROM sync_replaced)",
				"0");
		api_exec(f, "PRAGMA recursive_triggers = OFF;"
			    " DELETE FROM sync_base; DELETE FROM stories;"
			    " DELETE FROM deleted_stories;"
			    " DELETE FROM story_dependencies;"
			    " DELETE FROM sync_state");
	}
}

/* --full: a row written without the triggers differs from its digest,
 * and has no base then. */
static void test_drift(void **state)
{
	struct fixture *f = *state;
	struct db_change *v;
	struct story got = {0};
	char *mirror[SM_COUNT] = {0};
	struct err e = {{0}};
	bool found = true, known;
	size_t n;

	agreed_story(f);
	assert_true(store_changes(f->s, 0, true, &v, &n, &e));
	assert_int_equal(n, 1);
	assert_false(v[0].drifted);
	store_changes_free(v, n);
	api_exec(f, "DROP TRIGGER stories_au; DROP TRIGGER stories_bu_base;"
		    " UPDATE stories SET priority = 'low'");
	assert_true(store_changes(f->s, 0, true, &v, &n, &e));
	assert_int_equal(n, 1);
	assert_true(v[0].drifted);
	store_changes_free(v, n);
	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_false(found);
}

static void free_mirrors(char **mirror)
{
	for (int m = 0; m < SM_COUNT; m++)
		xfree(&mirror[m]);
}

/* The base is the row while it stays at the agreed rev; the API's first
 * change saves it (sync_base) before it is lost. */
static void test_state_round_trip(void **state)
{
	struct fixture *f = *state;
	char id[] = "INF-014", path_x[] = "stories/x.md",
	     path_y[] = "stories/y.md";
	struct state_entry se = {
		.id = id,
		.path = path_x,
		.st = {.mtime_ns = 1700000000123456789LL,
		       .ctime_ns = 1700000000987654321LL,
		       .size = 4242,
		       .ino = 0xfedcba9876543210ULL,
		       .mode = 0100644},
		.recorded_ns = 1700000001000000000LL,
		.hash = "95d09f2b10159347eece71399a7e2e907ea3df4f",
	};
	struct story base, got = {0}, now = {0};
	struct state_table t;
	struct state_entry *v;
	struct err e = {{0}};
	char *mirror[SM_COUNT] = {0};
	char platform[] = "platform", active[] = "active";
	char *file_mirror[SM_COUNT] = {platform, active, NULL};
	bool found, known;
	int64_t rev;
	size_t n;

	full_story(&base);
	story_set(&base, SF_EPIC, NULL);
	story_set(&base, SF_BODY, "line\n\"quoted\"\ttab\n");
	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_false(found);
	put(f, &base, path_x, &rev);
	se.rev = rev;
	assert_true(store_state_put(f->s, &se, &base, file_mirror, &e));
	assert_true(store_state_load(f->s, &t, &e));
	v = t.v;
	n = t.n;
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, se.id);
	assert_string_equal(v[0].path, se.path);
	assert_true(fsx_stat_equal(&v[0].st, &se.st));
	assert_int_equal(v[0].st.ino, se.st.ino);
	assert_int_equal(v[0].recorded_ns, se.recorded_ns);
	assert_string_equal(v[0].hash, se.hash);
	assert_int_equal(v[0].rev, rev);
	state_table_finish(&t);

	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_true(found);
	assert_true(story_equal(&got, &base));
	story_finish(&got);
	/* the file's mirror keys come back with the base */
	assert_true(known);
	assert_string_equal(mirror[SM_BACKLOG], "platform");
	assert_string_equal(mirror[SM_STATUS], "active");
	assert_null(mirror[SM_EPIC]);
	free_mirrors(mirror);
	assert_api_text(f, "SELECT count(*) FROM sync_base", "0");

	/* The API edits the row, then its dependencies: the agreed version
	 * is saved once, before the first change. */
	api_exec(f, "UPDATE stories SET title = 'By the API' WHERE id = "
		    "'INF-014'");
	api_exec(f, "INSERT INTO story_dependencies(story_id, depends_on) "
		    "VALUES ('INF-014', "
		    "'INF-001')");
	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_true(found);
	assert_true(story_equal(&got, &base));
	story_finish(&got);
	free_mirrors(mirror);
	assert_true(
		store_story_get(f->s, "INF-014", &now, &rev, NULL, &found, &e));
	assert_string_equal(now.v[SF_TITLE], "By the API");

	/* Agreed again: the saved base is dropped, the row is the base. A
	 * put without a base keeps the mirror keys. */
	se.rev = rev;
	assert_true(store_state_put(f->s, &se, &now, file_mirror, &e));
	assert_api_text(f, "SELECT count(*) FROM sync_base", "0");
	se.path = path_y;
	assert_true(store_state_put(f->s, &se, NULL, NULL, &e));
	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_true(found && known);
	assert_true(story_equal(&got, &now));
	assert_string_equal(mirror[SM_STATUS], "active");
	story_finish(&got);
	free_mirrors(mirror);
	assert_api_text(f, "SELECT path FROM sync_state", "stories/y.md");

	/* The API deletes the row: its agreed version stays the base. */
	api_exec(f, "DELETE FROM stories WHERE id = 'INF-014'");
	assert_true(store_state_base(f->s, "INF-014", &got, mirror, &known,
				     &found, &e));
	assert_true(found);
	assert_true(story_equal(&got, &now));
	story_finish(&got);
	free_mirrors(mirror);

	assert_true(store_state_delete(f->s, "INF-014", &e));
	assert_api_text(f, "SELECT count(*) FROM sync_base", "0");
	assert_true(store_state_load(f->s, &t, &e));
	assert_int_equal(t.n, 0);
	state_table_finish(&t);
	story_finish(&now);
	story_finish(&base);
}

static void test_meta_and_backlogs(void **state)
{
	struct fixture *f = *state;
	char n1[] = "platform", p1[] = "stories/platform", n2[] = "mobile",
	     p2[] = "stories/mobile";
	struct config_backlog bl[2] = {{n1, p1}, {n2, p2}};
	struct config c = {.backlogs = bl, .nbacklogs = 2};
	struct err e = {{0}};
	char *value;

	assert_true(store_meta_get(f->s, "git.last_commit", &value, &e));
	assert_null(value);
	assert_true(store_meta_set(f->s, "git.last_commit", "abc", &e));
	assert_true(store_meta_get(f->s, "git.last_commit", &value, &e));
	assert_string_equal(value, "abc");
	free(value);

	api_exec(f, "INSERT INTO backlogs(name, path) VALUES ('old', "
		    "'stories/old'),"
		    " ('mobile', 'elsewhere')");
	assert_true(store_backlogs_sync(f->s, &c, &e));
	assert_api_text(f,
			"SELECT group_concat(name || '=' || path, ' ') FROM "
			"(SELECT * FROM backlogs ORDER BY name)",
			"mobile=stories/mobile platform=stories/platform");
}

static void test_history_events_conflicts_runs(void **state)
{
	struct fixture *f = *state;
	struct history_row h = {"INF-014", "backlog", "active",  "git",
				"0123abc", "ana",     1767225600};
	struct run_record r = {.started_ns = 1767225600123000000LL,
			       .mode = "scan",
			       .created = 1,
			       .updated = 2};
	struct conflict_row c = {.story_id = "INF-014",
				 .kind = "both_changed",
				 .kept = "file",
				 .fields = "title"};
	struct err e = {{0}};
	struct story lost = {0};
	int64_t run_id;

	assert_true(store_run_add(f->s, &r, &run_id, &e));
	assert_true(run_id > 0);
	assert_api_text(f,
			"SELECT started || '|' || ifnull(ended, '-') || '|' "
			"|| mode || '|' || created || updated FROM sync_runs",
			"2026-01-01T00:00:00.123Z|-|scan|12");
	r.ended_ns = 1767225601000000000LL;
	r.exit_code = 1;
	r.errors = 1;
	r.messages = "x.md:1:1: bad";
	assert_true(store_run_update(f->s, run_id, &r, &e));
	assert_api_text(f,
			"SELECT ended || '|' || errors || exit_code || '|' || "
			"messages FROM sync_runs",
			"2026-01-01T00:00:01.000Z|11|x.md:1:1: bad");

	assert_true(store_history_add(f->s, &h, &e));
	assert_api_text(f,
			"SELECT story_id || '|' || from_status || '|' || "
			"to_status || '|' || changed_at || '|' || origin || "
			"'|' || commit_id || '|' || author FROM "
			"status_history",
			"INF-014|backlog|active|2026-01-01T00:00:00Z|git|"
			"0123abc|ana");

	assert_true(
		store_event_add(f->s, "INF-014", "moved", "file", run_id, &e));
	assert_api_text(f,
			"SELECT seq || story_id || change || origin || run_id"
			" FROM sync_events",
			"1INF-014movedfile1");
	assert_api_text(f,
			"SELECT at LIKE '____-__-__T__:__:__.___Z' FROM "
			"sync_events",
			"1");

	story_set(&lost, SF_ID, "INF-014");
	story_set(&lost, SF_TITLE, "DB \"title\"");
	c.lost = &lost;
	c.run_id = run_id;
	assert_true(store_conflict_add(f->s, &c, &e));
	assert_api_text(
		f,
		"SELECT story_id || '|' || kind || '|' || kept || '|' || "
		"fields || '|' || run_id || '|' || lost FROM sync_conflicts",
		"INF-014|both_changed|file|title|1|{\"id\":\"INF-014\","
		"\"backlog\":null,\"status\":null,\"epic\":null,"
		"\"title\":\"DB \\\"title\\\"\",\"priority\":null,"
		"\"points\":null,\"assignees\":null,\"labels\":null,"
		"\"depends_on\":null,\"created\":null,\"extra\":null,"
		"\"body\":null,\"parent\":null}");
	/* once: a second record of the same kind and lost row is not made,
	 * another lost row is */
	c.kind = "refused";
	c.once = true;
	assert_true(store_conflict_add(f->s, &c, &e));
	assert_true(store_conflict_add(f->s, &c, &e));
	story_set(&lost, SF_TITLE, "DB title 2");
	assert_true(store_conflict_add(f->s, &c, &e));
	assert_api_text(f, "SELECT group_concat(kind, ',') FROM sync_conflicts",
			"both_changed,refused,refused");
	story_finish(&lost);

	/* A bad origin is the database's error, with its path. */
	h.origin = "ftp";
	char *want = xasprintf("%s: CHECK constraint failed: origin = "
			       "'file' OR origin = 'db' OR origin = 'git' OR "
			       "origin = 'config'",
			       f->db);
	assert_false(store_history_add(f->s, &h, &e));
	assert_string_equal(e.msg, want);
	free(want);
	/* a configuration change is an origin of its own (schema 5) */
	h.origin = "config";
	assert_true(store_history_add(f->s, &h, &e));
	assert_true(store_event_add(f->s, "INF-014", "moved", "config", 0, &e));
}

static void test_busy(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	char *head =
		xasprintf("%s: another writer held the database for ", f->db);
	const char *tail = " s; try later (sync --wait, or busy_wait in the "
			   "configuration, waits longer)";
	char *end;
	double waited;

	api_exec(f, "BEGIN IMMEDIATE");
	store_set_busy_timeout(f->s, 100);
	assert_false(store_busy(f->s));
	assert_false(store_begin(f->s, &e));
	/* the time it says is the time it waited: at least the 0.1 s set,
	 * more on a busy machine */
	assert_int_equal(strncmp(e.msg, head, strlen(head)), 0);
	waited = strtod(e.msg + strlen(head), &end);
	assert_true(waited >= 0.1 && waited < 60);
	assert_string_equal(end, tail);
	free(head);
	assert_true(store_busy(f->s));
	api_exec(f, "ROLLBACK");
	assert_true(store_begin(f->s, &e));
	put_within(f, "A-1", "a.md");
	store_rollback(f->s);
	assert_true(store_is_empty(f->s));
	assert_true(store_begin(f->s, &e));
	put_within(f, "A-1", "a.md");
	assert_true(store_commit(f->s, &e));
	assert_api_text(f, "SELECT id FROM stories", "A-1");
	store_rollback(f->s); /* none open: a no-op */
}

/* The database header's write version: 1 rollback journal, 2 WAL. */
static int db_write_version(const char *path)
{
	unsigned char h[32] = {0};
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
	fclose(fp);
	return h[18];
}

static void test_bulk(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	char *want = xasprintf("%s: bulk mode cannot change inside a "
			       "transaction",
			       f->db);
	char *wal = xasprintf("%s-wal", f->db);
	struct stat st;

	/* With the API connected the database stays in WAL. */
	assert_api_text(f, "SELECT count(*) FROM stories", "0");
	assert_true(store_bulk(f->s, true, &e));
	assert_api_text(f, "PRAGMA journal_mode", "wal");
	assert_true(store_bulk(f->s, false, &e));

	sqlite3_close(f->api); /* leaving WAL needs the only connection */
	f->api = NULL;
	assert_true(store_begin(f->s, &e));
	assert_false(store_bulk(f->s, true, &e));
	assert_string_equal(e.msg, want);
	store_rollback(f->s);
	assert_true(store_bulk(f->s, true, &e));
	assert_int_equal(db_write_version(f->db), 1); /* out of WAL mode */
	assert_true(store_begin(f->s, &e));
	put_within(f, "A-1", "a.md");
	assert_true(store_commit(f->s, &e));
	assert_int_equal(db_write_version(f->db), 1);
	assert_true(store_bulk(f->s, false, &e));
	assert_int_equal(sqlite3_open(f->db, &f->api), SQLITE_OK);
	assert_api_text(f, "PRAGMA journal_mode", "wal");
	assert_api_text(f, "SELECT id FROM stories", "A-1");
	assert_int_equal(db_write_version(f->db), 2);
	/* the WAL stays, empty, for readers without write access */
	assert_int_equal(stat(wal, &st), 0);
	free(wal);
	free(want);
}

/* Retention keeps what it must: the newest runs, events a consumer has
 * not read, open conflicts, recent archives, and all status history. */
static void test_prune(void **state)
{
	struct fixture *f = *state;
	struct config_retention r = {.days = 30, .runs = 3, .deleted_days = 90};
	struct prune_counts p;
	struct err e = {{0}};
	long n;

	/* 6 runs: 2 older than 30 days, then 4 recent; the newest is the
	 * run under way */
	api_exec(f, "INSERT INTO sync_runs(id, started) VALUES"
		    " (1, '2020-01-01T00:00:00.000Z'),"
		    " (2, '2020-01-02T00:00:00.000Z'),"
		    " (3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')),"
		    " (4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 days')),"
		    " (5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
		    " (6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
	/* events 1-3 old, 4 new; the consumer has read up to 2 */
	api_exec(f, "INSERT INTO sync_events(seq, story_id, change, origin, at)"
		    " VALUES (1, 'A', 'created', 'file', '2020-01-01T00:00Z'),"
		    " (2, 'A', 'updated', 'db', '2020-01-01T00:00Z'),"
		    " (3, 'A', 'updated', 'db', '2020-01-01T00:00Z'),"
		    " (4, 'A', 'updated', 'file',"
		    " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
	api_exec(f, "INSERT INTO sync_consumers VALUES ('api', 2, NULL)");
	/* conflicts: resolved long ago, resolved today, open and old */
	api_exec(f, "INSERT INTO sync_conflicts(id, story_id, at, kind,"
		    " resolved) VALUES (1, 'A', '2020-01-01T00:00Z', 'x',"
		    " '2020-01-02T00:00Z'), (2, 'A', '2020-01-01T00:00Z', 'x',"
		    " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
		    " (3, 'A', '2020-01-01T00:00Z', 'x', NULL)");
	api_exec(f, "INSERT INTO deleted_stories(seq, story_id, deleted_at)"
		    " VALUES (1, 'OLD', '2020-01-01T00:00:00Z'),"
		    " (2, 'NEW', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
	api_exec(f, "INSERT INTO status_history(story_id, changed_at, origin)"
		    " VALUES ('A', '2001-01-01T00:00:00Z', 'file')");

	assert_true(store_begin(f->s, &e));
	assert_true(store_prune(f->s, &r, &p, &e));
	assert_true(store_commit(f->s, &e));
	assert_int_equal(p.runs, 3);
	assert_int_equal(p.events, 2);
	assert_int_equal(p.conflicts, 1);
	assert_int_equal(p.deleted, 1);
	assert_api_text(f, "SELECT group_concat(id) FROM sync_runs", "4,5,6");
	assert_api_text(f, "SELECT group_concat(seq) FROM sync_events", "3,4");
	assert_api_text(f, "SELECT group_concat(id) FROM sync_conflicts",
			"2,3");
	assert_api_text(f, "SELECT group_concat(story_id) FROM deleted_stories",
			"NEW");
	assert_api_text(f, "SELECT count(*) FROM status_history", "1");

	/* 0 keeps for good; with no consumer, old events go */
	api_exec(f, "DELETE FROM sync_consumers");
	r = (struct config_retention){.days = 30};
	assert_true(store_prune(f->s, &r, &p, &e));
	assert_int_equal(p.runs + p.conflicts + p.deleted, 0);
	assert_int_equal(p.events, 1);
	r = (struct config_retention){0};
	api_exec(f, "UPDATE sync_runs SET started = '2000-01-01T00:00Z'");
	assert_true(store_prune(f->s, &r, &p, &e));
	assert_int_equal(p.runs + p.events + p.conflicts + p.deleted, 0);

	assert_null(p.refused);

	/* odd values of the API's are named, and what they govern kept: a
	 * cursor that is text, a resolved that is a number */
	api_exec(f,
		 "INSERT INTO sync_consumers VALUES ('api', 'v3', NULL);"
		 " INSERT INTO sync_events(seq, story_id, change, origin, at)"
		 " VALUES (5, 'A', 'created', 'file', '2020-01-01T00:00Z');"
		 " INSERT INTO sync_conflicts(id, story_id, at, kind,"
		 " resolved) VALUES (7, 'A', '2020-01-01T00:00Z', 'x',"
		 " 1577836800), (8, 'A', '2020-01-01T00:00Z', 'x',"
		 " '2459000.5')");
	r = (struct config_retention){.days = 30};
	assert_true(store_prune(f->s, &r, &p, &e));
	assert_int_equal(p.events + p.conflicts, 0);
	assert_string_equal(p.refused,
			    "sync_consumers 'api': seq 'v3' is not an integer;"
			    " no event is pruned until it is\n"
			    "sync_conflicts 7 and 1 more: resolved '1577836800'"
			    " is not an ISO 8601 time; not pruned");
	free(p.refused);
	api_exec(f,
		 "DELETE FROM sync_consumers; DELETE FROM sync_conflicts"
		 " WHERE id IN (7, 8); DELETE FROM sync_events WHERE seq = 5");

	/* resolving: one, then every open one */
	assert_true(store_conflicts_count(f->s, &n, &e));
	assert_int_equal(n, 1);
	assert_true(store_conflicts_resolve(f->s, 3, &n, &e));
	assert_int_equal(n, 1);
	assert_true(store_conflicts_resolve(f->s, 0, &n, &e));
	assert_int_equal(n, 0);
	assert_true(store_conflicts_count(f->s, &n, &e));
	assert_int_equal(n, 0);
}

/* A read-only store reads without creating anything and refuses an
 * older schema. */
static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct store *ro = NULL;
	struct err e = {{0}};
	long n;
	char *want;

	assert_true(store_open_as(&ro, f->db, 100, true, NULL, &e));
	assert_true(store_begin_read(ro, &e));
	assert_true(store_conflicts_count(ro, &n, &e));
	assert_false(store_conflicts_resolve(ro, 0, &n, &e));
	assert_non_null(strstr(e.msg, "readonly database"));
	store_rollback(ro);
	store_close(ro);
	api_exec(f, "PRAGMA user_version = 2");
	assert_false(store_open_as(&ro, f->db, 100, true, NULL, &e));
	want = xasprintf("%s: database schema version 2 is older than this "
			 "storysync's (10): a sync migrates it",
			 f->db);
	assert_string_equal(e.msg, want);
	free(want);
	api_exec(f, "PRAGMA user_version = 6");
}

/* store_iso_time against gmtime_r: the epoch, leap days, century ends
 * (1900 was no leap year, 2000 was, 2100 will not be), the last second of
 * a year, and a spread of times to 2200. */
static void test_iso_time(void **state)
{
	static const int64_t at[] = {
		1,          /* 1970-01-01T00:00:00.000 */
		951782400,  /* 2000-02-29 */
		951868799,  /* 2000-02-29T23:59:59 */
		4107542399, /* 2100-02-28T23:59:59 */
		4107542400, /* 2100-03-01 */
		1798761599, /* 2026-12-31T23:59:59 */
		1798761600, /* 2027-01-01 */
		7258118399, /* 2199-12-31T23:59:59 */
	};
	char got[64], want[64];
	struct tm tm;

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(*at) + 2000; i++) {
		int64_t s = i < sizeof(at) / sizeof(*at)
				    ? at[i]
				    : (int64_t)(i * 3627419ULL % 7258118400ULL);
		int64_t ns =
			s * 1000000000 + (int64_t)(i * 7919 % 1000) * 1000000;
		time_t t = (time_t)s;

		if (ns <= 0)
			continue;
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ns % 1000000000 / 1000000));
		store_iso_time(got, ns, true);
		assert_string_equal(got, want);
		want[19] = 'Z';
		want[20] = '\0';
		store_iso_time(got, ns, false);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open_twice),
		T(test_tree_set_once),
		T(test_two_trees),
		T(test_newer_version),
		cmocka_unit_test(test_iso_time),
		T(test_not_a_database),
		T(test_put_get_round_trip),
		T(test_canonical_read),
		T(test_path_conflict),
		T(test_api_changes),
		T(test_changes_plan),
		T(test_changes_all),
		T(test_api_dependency_bumps_rev),
		T(test_delete_archives),
		T(test_api_rename_archives_old_id),
		T(test_api_statement_forms),
		T(test_drift),
		T(test_state_round_trip),
		T(test_meta_and_backlogs),
		T(test_history_events_conflicts_runs),
		T(test_busy),
		T(test_bulk),
		T(test_prune),
		T(test_read_only),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
