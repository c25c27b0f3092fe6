/* Unit tests of config.c: real files in a fresh temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"

struct fixture {
	char dir[64]; /* the temp dir as made */
	char *real;   /* its realpath */
	char *file;   /* dir/.storysync.yml */
	char *local;  /* dir/.storysync.local.yml */
	char cwd[PATH_MAX];
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_config.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->real = realpath(f->dir, NULL);
	assert_non_null(f->real);
	f->file = xasprintf("%s/%s", f->dir, CONFIG_FILE_NAME);
	f->local = xasprintf("%s/%s", f->dir, CONFIG_LOCAL_FILE_NAME);
	assert_non_null(getcwd(f->cwd, sizeof(f->cwd)));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(chdir(f->cwd), 0);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->real);
	free(f->file);
	free(f->local);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = xcalloc(1, 65536);

	assert_non_null(fp);
	fread(s, 1, 65535, fp);
	fclose(fp);
	return s;
}

/* Loads text as the fixture's configuration file; must succeed. */
static void load_ok(struct fixture *f, const char *text, struct config *c)
{
	struct err e = {{0}};

	write_text(f->file, text);
	if (!config_load(c, f->file, &e))
		fail_msg("config_load: %s", e.msg);
}

/* Loads text; must fail with "FILE:" followed by want. */
static void load_fails(struct fixture *f, const char *text, const char *want)
{
	struct config c;
	struct err e = {{0}};
	char *full = xasprintf("%s:%s", f->file, want);

	write_text(f->file, text);
	assert_false(config_load(&c, f->file, &e));
	assert_string_equal(e.msg, full);
	assert_null(c.stages);
	assert_null(c.backlogs);
	free(full);
}

/* Loads an empty main file with text as the local file; must fail with
 * "LOCAL:" followed by want. */
static void local_fails(struct fixture *f, const char *text, const char *want)
{
	struct config c;
	struct err e = {{0}};
	char *full = xasprintf("%s:%s", f->local, want);

	write_text(f->file, "");
	write_text(f->local, text);
	assert_false(config_load(&c, f->file, &e));
	assert_string_equal(e.msg, full);
	assert_null(c.stages);
	assert_int_equal(unlink(f->local), 0);
	free(full);
}

static void assert_default_stages(const struct config *c)
{
	static const char *const want[][2] = {
		{"refinement", "refinements"},
		{"backlog", "backlog"},
		{"active", "active"},
		{"completed", "completed"},
	};

	assert_int_equal(c->nstages, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(c->stages[i].status, want[i][0]);
		assert_string_equal(c->stages[i].dir, want[i][1]);
	}
}

static void assert_defaults(struct fixture *f, const struct config *c)
{
	char *file = xasprintf("%s/%s", f->real, CONFIG_FILE_NAME);
	char *db = xasprintf("%s/.storysync/stories.db", f->real);

	assert_string_equal(c->root, f->real);
	assert_string_equal(c->file, file);
	assert_string_equal(c->database, db);
	assert_int_equal(c->nbacklogs, 1);
	assert_string_equal(c->backlogs[0].name, "default");
	assert_string_equal(c->backlogs[0].path, ".");
	assert_default_stages(c);
	assert_false(c->git_commit);
	assert_null(c->git_author_name);
	assert_null(c->git_author_email);
	free(file);
	free(db);
}

static void test_empty_file(void **state)
{
	struct fixture *f = *state;
	struct config c;

	load_ok(f, "", &c);
	assert_defaults(f, &c);
	config_finish(&c);
}

static void test_comments_and_nulls(void **state)
{
	struct fixture *f = *state;
	struct config c;

	load_ok(f, "# nothing set\n", &c);
	assert_defaults(f, &c);
	config_finish(&c);
	load_ok(f, "---\n", &c);
	assert_defaults(f, &c);
	config_finish(&c);
	load_ok(f, "database:\nbacklogs:\nstages: ~\ngit: null\n", &c);
	assert_defaults(f, &c);
	config_finish(&c);
}

static void test_full(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char *db;

	load_ok(f,
		"database: ./data//stories.sqlite\n"
		"backlogs:\n"
		"  platform: stories/platform/\n"
		"  mobile: ./stories//mobile\n"
		"  web_2-x: web\n"
		"stages:\n"
		"  idea: ideas\n"
		"  doing: wip\n"
		"  done: \"done\"\n"
		"git:\n"
		"  commit: true\n"
		"  author: \"Story Bot <bot@example.com>\"\n",
		&c);
	db = xasprintf("%s/data/stories.sqlite", f->real);
	assert_string_equal(c.database, db);
	assert_int_equal(c.nbacklogs, 3);
	assert_string_equal(c.backlogs[0].name, "platform");
	assert_string_equal(c.backlogs[0].path, "stories/platform");
	assert_string_equal(c.backlogs[1].name, "mobile");
	assert_string_equal(c.backlogs[1].path, "stories/mobile");
	assert_string_equal(c.backlogs[2].name, "web_2-x");
	assert_string_equal(c.backlogs[2].path, "web");
	assert_int_equal(c.nstages, 3);
	assert_string_equal(c.stages[0].status, "idea");
	assert_string_equal(c.stages[0].dir, "ideas");
	assert_string_equal(c.stages[1].status, "doing");
	assert_string_equal(c.stages[1].dir, "wip");
	assert_string_equal(c.stages[2].status, "done");
	assert_string_equal(c.stages[2].dir, "done");
	assert_true(c.git_commit);
	assert_string_equal(c.git_author_name, "Story Bot");
	assert_string_equal(c.git_author_email, "bot@example.com");

	assert_ptr_equal(config_backlog(&c, "mobile"), &c.backlogs[1]);
	assert_null(config_backlog(&c, "default"));
	assert_ptr_equal(config_stage_by_dir(&c, "wip"), &c.stages[1]);
	assert_null(config_stage_by_dir(&c, "doing"));
	assert_ptr_equal(config_stage_by_status(&c, "doing"), &c.stages[1]);
	assert_null(config_stage_by_status(&c, "wip"));
	free(db);
	config_finish(&c);
}

static void test_absolute_database_and_false(void **state)
{
	struct fixture *f = *state;
	struct config c;

	write_text(f->local, "database: /var/lib/storysync/x.db\n");
	load_ok(f, "git:\n  commit: False\n", &c);
	assert_string_equal(c.database, "/var/lib/storysync/x.db");
	assert_false(c.git_commit);
	assert_default_stages(&c);
	config_finish(&c);
}

static void test_stage_order_kept(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = {"completed", "active", "backlog",
					   "refinement"};
	struct config c;

	load_ok(f,
		"stages:\n"
		"  completed: completed\n"
		"  active: active\n"
		"  backlog: backlog\n"
		"  refinement: refinements\n",
		&c);
	assert_int_equal(c.nstages, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(c.stages[i].status, want[i]);
	assert_int_equal(c.nbacklogs, 1);
	assert_string_equal(c.backlogs[0].path, ".");
	config_finish(&c);
}

static void test_relative_path_as_given(void **state)
{
	struct fixture *f = *state;
	struct config c;
	struct err e = {{0}};

	assert_int_equal(chdir(f->dir), 0);
	write_text("cfg.yml", "stages:\n  a: x\n");
	assert_true(config_load(&c, "cfg.yml", &e));
	assert_string_equal(c.root, f->real);
	config_finish(&c);
	write_text("cfg.yml", "x: 1\n");
	assert_false(config_load(&c, "cfg.yml", &e));
	assert_string_equal(e.msg, "cfg.yml:1:1: unknown key 'x'");
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct config c;
	struct err e = {{0}};
	char *want = xasprintf("%s: No such file or directory", f->file);

	assert_false(config_load(&c, f->file, &e));
	assert_string_equal(e.msg, want);
	free(want);
}

static void test_unknown_keys(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "databse: x\n", "1:1: unknown key 'databse'");
	load_fails(f, "database: a.db\nbacklog:\n  a: b\n",
		   "2:1: unknown key 'backlog'");
	load_fails(f, "git:\n  commit: true\n  comit: true\n",
		   "3:3: unknown key 'comit' in 'git'");
}

/* The keys for running unattended and the conflict policy: defaults,
 * values, and each bad value's exact error. */
static void test_unattended_and_policy(void **state)
{
	struct fixture *f = *state;
	struct config c;
	bool wins[SF_COUNT];

	load_ok(f, "", &c); /* an empty file: the defaults */
	assert_int_equal(c.busy_wait_s, 5);
	assert_int_equal(c.server_wait_s, 60);
	assert_int_equal(c.retention.days, 90);
	assert_int_equal(c.retention.runs, 10000);
	assert_int_equal(c.retention.deleted_days, 365);
	assert_int_equal(c.stale_after_s, 600);
	assert_int_equal(c.notify_timeout_s, 10);
	assert_null(c.log);
	assert_null(c.notify);
	config_finish(&c);
	write_text(f->local, "log: logs/sync.log\nmetrics_file: /m.prom\n"
			     "notify: cat >x\nnotify_timeout: 1\n");
	load_ok(f,
		"busy_wait: 0\nretention: {days: 0, runs: 3}\n"
		"stale_after: 60\nserver_wait: 1\n"
		"backlogs: {a: a, b: b}\npolicy: {status: db, title: db}\n"
		"backlog_policy: {b: {title: file}}\n",
		&c);
	assert_int_equal(c.busy_wait_s, 0);
	assert_int_equal(c.server_wait_s, 1);
	assert_int_equal(c.retention.days, 0);
	assert_int_equal(c.retention.runs, 3);
	assert_int_equal(c.retention.deleted_days, 365);
	assert_non_null(strstr(c.log, "/logs/sync.log"));
	assert_true(c.log[0] == '/');
	assert_string_equal(c.metrics_file, "/m.prom");
	assert_string_equal(c.notify, "cat >x");
	config_db_wins(&c, "a", wins);
	assert_true(wins[SF_STATUS] && wins[SF_TITLE] && !wins[SF_BODY]);
	config_db_wins(&c, "b", wins);
	assert_true(wins[SF_STATUS] && !wins[SF_TITLE]);
	config_finish(&c);
	assert_int_equal(unlink(f->local), 0);
	load_fails(f, "busy_wait: 3601\n",
		   "1:12: 'busy_wait' must be a whole number from 0 to 3600");
	load_fails(f, "busy_wait: \"5\"\n",
		   "1:12: 'busy_wait' must be a whole number from 0 to 3600");
	load_fails(f, "server_wait: 0\n",
		   "1:14: 'server_wait' must be a whole number from 1 to 3600");
	load_fails(f, "stale_after: 59\n",
		   "1:14: 'stale_after' must be a whole number from 60 to "
		   "31536000");
	load_fails(f, "retention: {days: -1}\n",
		   "1:19: 'retention.days' must be a whole number from 0 to "
		   "36500");
	load_fails(f, "retention: {weeks: 2}\n",
		   "1:13: unknown key 'weeks' in 'retention'");
	load_fails(f, "retention: 30\n",
		   "1:12: 'retention' must be a mapping of days, runs and "
		   "deleted_days");
	local_fails(f, "log: \"\"\n", "1:6: 'log' must be a file path");
	local_fails(f, "notify: [a]\n",
		    "1:9: 'notify' must be a shell command");
	local_fails(f, "notify_timeout: 0\n",
		    "1:17: 'notify_timeout' must be a whole number from 1 to "
		    "3600");
}

/* What runs a command or writes outside the tree: never from
 * .storysync.yml, tracked or not; the message says where it goes. */
static void test_versioned_refuses(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *text, *what;
		unsigned col; /* the key's, or the value's for database */
	} keys[] = {
		{"notify: id > owned\n", "'notify' runs a command", 1},
		{"notify_timeout: 3\n",
		 "'notify_timeout' goes with notify, which runs a command", 1},
		{"log: sync.log\n", "'log' writes a file", 1},
		{"log: none\n", "'log' writes a file", 1},
		{"metrics_file: /m.prom\n", "'metrics_file' writes a file", 1},
		{"database: /var/x.db\n",
		 "'database': '/var/x.db' is outside the tree", 11},
		{"database: ../x.db\n",
		 "'database': '../x.db' is outside the tree", 11},
		{"database: a/../../x.db\n",
		 "'database': 'a/../../x.db' is outside the tree", 11},
		{"database: .git/x.db\n",
		 "'database': '.git/x.db' is inside .git", 11},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		char *text = xasprintf("stages: {a: a}\n%s", keys[i].text);
		char *want = xasprintf(
			"2:%u: %s: .storysync.yml is versioned, so it may not "
			"set it; move it to .storysync.local.yml, which git "
			"does not track",
			keys[i].col, keys[i].what);

		load_fails(f, text, want);
		/* a local file that sets it too changes nothing */
		write_text(f->local, keys[i].text);
		load_fails(f, text, want);
		assert_int_equal(unlink(f->local), 0);
		free(want);
		free(text);
	}
}

/* The local file replaces the keys it sets, whole; the main file's value
 * of such a key is still checked. */
static void test_local_overrides(void **state)
{
	struct fixture *f = *state;
	struct config c;
	struct err e = {{0}};
	char *db = xasprintf("%s/other.db", f->real), *want;

	write_text(f->local, "stages: {x: x}\nbusy_wait: 9\n"
			     "database: other.db\nnotify: cat\n");
	load_ok(f, "stages: {a: a, b: b}\nbusy_wait: 3\nstale_after: 120\n",
		&c);
	assert_int_equal(c.nstages, 1);
	assert_string_equal(c.stages[0].status, "x");
	assert_int_equal(c.busy_wait_s, 9);
	assert_int_equal(c.stale_after_s, 120);
	assert_string_equal(c.database, db);
	assert_string_equal(c.notify, "cat");
	assert_non_null(c.local);
	assert_non_null(strstr(c.local, "/" CONFIG_LOCAL_FILE_NAME));
	config_finish(&c);
	load_fails(f, "busy_wait: 99999\n",
		   "1:12: 'busy_wait' must be a whole number from 0 to 3600");
	/* an error found once both are read names the file it is in */
	write_text(f->local, "create_in: nope\n");
	write_text(f->file, "stages: {a: a}\n");
	assert_false(config_load(&c, f->file, &e));
	want = xasprintf("%s:1:12: 'create_in': no stage 'nope'", f->local);
	assert_string_equal(e.msg, want);
	assert_int_equal(unlink(f->local), 0);
	free(want);
	free(db);
}

/* log: and metrics_file: may not name the database, its files, a story's
 * place, the configuration or a path inside .git. */
static void test_output_paths(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[][2] = {
		{".storysync/stories.db",
		 "is the database or one of its files (-wal, -shm, -journal, "
		 ".lock, .run, .writes, .statcache)"},
		{".storysync/stories.db-wal",
		 "is the database or one of its files (-wal, -shm, -journal, "
		 ".lock, .run, .writes, .statcache)"},
		{"./.storysync//stories.db.writes",
		 "is the database or one of its files (-wal, -shm, -journal, "
		 ".lock, .run, .writes, .statcache)"},
		{"backlog/A-1.md", "lies in the stage directory 'backlog' of "
				   "backlog 'default', among the stories"},
		{"active/x/y.log", "lies in the stage directory 'active' of "
				   "backlog 'default', among the stories"},
		{".git/sync.log", "lies inside .git"},
		{"sub/.git/x", "lies inside .git"},
		{".storysync.yml", "is a configuration file"},
		{".storysync.local.yml", "is a configuration file"},
	};
	static const char *const keys[] = {"log", "metrics_file"};
	struct config c;

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			char *text = xasprintf("%s: %s\n", keys[k], bad[i][0]);
			char *want = xasprintf("1:%zu: '%s': '%s' %s",
					       strlen(keys[k]) + 3, keys[k],
					       bad[i][0], bad[i][1]);

			local_fails(f, text, want);
			free(want);
			free(text);
		}
	/* beside them, or a stage's name outside the stages, is fine */
	write_text(f->local, "log: .storysync/sync.log\n"
			     "metrics_file: backlog.prom\n");
	load_ok(f, "", &c);
	config_finish(&c);
	assert_int_equal(unlink(f->local), 0);
}

static void test_local_path(void **state)
{
	static const char *const cases[][2] = {
		{"/a/.storysync.yml", "/a/.storysync.local.yml"},
		{".storysync.yml", ".storysync.local.yml"},
		{"web.yml", "web.local.yml"},
		{"/etc/s/web.yaml", "/etc/s/web.local.yaml"},
		{"/a/.storysync.local.yml", NULL},
		{"/a/web.conf", NULL},
		{"/a/.yml", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = config_local_path(cases[i][0]);

		if (cases[i][1])
			assert_string_equal(got, cases[i][1]);
		else
			assert_null(got);
		free(got);
	}
}

static void test_duplicate_keys(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "database: a\ndatabase: b\n",
		   "2:1: duplicate key 'database'");
	load_fails(f, "backlogs:\n  a: x\n  a: y\n",
		   "3:3: duplicate key 'a' in 'backlogs'");
	load_fails(f, "stages:\n  a: x\n  a: y\n",
		   "3:3: duplicate key 'a' in 'stages'");
}

static void test_bad_backlog_paths(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "backlogs:\n  a: ../x\n",
		   "2:6: backlog 'a': path '../x' must not contain '..'");
	load_fails(f, "backlogs:\n  a: x/../../y\n",
		   "2:6: backlog 'a': path 'x/../../y' must not contain '..'");
	load_fails(f, "backlogs:\n  a: /srv/stories\n",
		   "2:6: backlog 'a': path '/srv/stories' must be relative");
	load_fails(f, "backlogs:\n  a: .git/x\n",
		   "2:6: backlog 'a': path '.git/x' must not be inside .git");
	load_fails(f, "backlogs:\n  a: x/.git\n",
		   "2:6: backlog 'a': path 'x/.git' must not be inside .git");
	load_fails(f, "backlogs:\n  a: .GIT/x\n",
		   "2:6: backlog 'a': path '.GIT/x' must not be inside .git");
	load_fails(f, "backlogs:\n  a: [x]\n",
		   "2:6: backlog 'a' must have a path");
	load_fails(f, "backlogs:\n  a: \"\"\n",
		   "2:6: backlog 'a' must have a path");
	load_fails(f, "backlogs:\n  a: \"x\\ty\"\n",
		   "2:6: backlog 'a': path has a control character");
}

static void test_overlapping_backlogs(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "backlogs:\n  a: stories\n  b: stories/b\n",
		   "3:6: backlog 'b': path 'stories/b' overlaps backlog 'a' "
		   "('stories')");
	load_fails(f, "backlogs:\n  a: x/y\n  b: ./x/\n",
		   "3:6: backlog 'b': path 'x' overlaps backlog 'a' ('x/y')");
	load_fails(f, "backlogs:\n  a: x\n  b: x/\n",
		   "3:6: backlog 'b': path 'x' overlaps backlog 'a' ('x')");
	load_fails(f, "backlogs:\n  a: .\n  b: b\n",
		   "3:6: backlog 'b': path 'b' overlaps backlog 'a' ('.')");
}

static void test_prefix_is_not_nesting(void **state)
{
	struct fixture *f = *state;
	struct config c;

	load_ok(f, "backlogs:\n  a: stories\n  b: stories-b\n", &c);
	assert_int_equal(c.nbacklogs, 2);
	config_finish(&c);
}

static void test_bad_names(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "backlogs:\n  Platform: x\n",
		   "2:3: bad backlog name 'Platform' (use a-z, 0-9, '_' and "
		   "'-'; start with a letter or digit)");
	load_fails(f, "backlogs:\n  _a: x\n",
		   "2:3: bad backlog name '_a' (use a-z, 0-9, '_' and "
		   "'-'; start with a letter or digit)");
	load_fails(f, "stages:\n  in progress: x\n",
		   "2:3: bad status name 'in progress' (use a-z, 0-9, '_' "
		   "and '-'; start with a letter or digit)");
}

static void test_dialect(void **state)
{
	struct fixture *f = *state;
	struct config c;

	load_ok(f,
		"status_from: key\n"
		"statuses: [To Do, \"In Progress\", Done]\n"
		"stages:\n  task: tasks\n  old: archive/tasks\n"
		"create_in: old\n"
		"keys:\n  depends_on: dependencies\n  created: created_date\n"
		"file_name: \"{id:lower} - {title}.md\"\n"
		"mirror_keys: false\n"
		"ignore: [readme.md, \"backlog/*/notes-*.md\"]\n",
		&c);
	assert_true(c.dialect.status_from_key);
	assert_int_equal(c.dialect.nstatuses, 3);
	assert_string_equal(c.dialect.statuses[1], "In Progress");
	assert_string_equal(c.stages[1].dir, "archive/tasks");
	assert_string_equal(c.create_in->status, "old");
	assert_string_equal(c.dialect.key[SF_DEPENDS_ON], "dependencies");
	assert_string_equal(c.dialect.key[SF_CREATED], "created_date");
	assert_string_equal(c.dialect.key[SF_ASSIGNEES], "assignee");
	assert_string_equal(c.dialect.file_name, "{id:lower} - {title}.md");
	assert_true(c.dialect.no_mirror_keys);
	assert_true(config_ignored(&c, "backlog/tasks/readme.md"));
	assert_true(config_ignored(&c, "backlog/tasks/notes-1.md"));
	assert_false(config_ignored(&c, "backlog/tasks/sub/notes-1.md"));
	assert_false(config_ignored(&c, "backlog/tasks/task-1.md"));
	assert_true(config_stage_for(&c, "Whatever") == c.create_in);
	config_finish(&c);
	load_ok(f, "stages:\n  a: x\n", &c);
	assert_false(c.dialect.status_from_key);
	assert_string_equal(c.dialect.file_name, "{id}-{slug}.md");
	assert_true(c.create_in == &c.stages[0]);
	assert_true(config_stage_for(&c, "a") == &c.stages[0]);
	assert_null(config_stage_for(&c, "b"));
	config_finish(&c);
}

/* Issue 24's shapes: a hidden backlog, '.' a stage with stages inside. */
static void test_shapes(void **state)
{
	struct fixture *f = *state;
	struct config c;
	char *p;

	load_ok(f,
		"backlogs:\n  tasks: .tasks\n"
		"stages:\n  open: .\n  archived: archive\n"
		"  old: archive/old\n",
		&c);
	assert_string_equal(c.backlogs[0].path, ".tasks");
	p = config_stage_path(&c.backlogs[0], &c.stages[0]);
	assert_string_equal(p, ".tasks");
	free(p);
	p = config_stage_path(&c.backlogs[0], &c.stages[2]);
	assert_string_equal(p, ".tasks/archive/old");
	free(p);
	assert_true(config_epic_stage(&c, &c.stages[0], "archive") ==
		    &c.stages[1]);
	assert_true(config_epic_stage(&c, &c.stages[1], "old") == &c.stages[2]);
	assert_null(config_epic_stage(&c, &c.stages[0], "arch"));
	assert_null(config_epic_stage(&c, &c.stages[1], "older"));
	config_finish(&c);
	load_ok(f, "stages:\n  open: .\n", &c);
	p = config_stage_path(&c.backlogs[0], &c.stages[0]);
	assert_string_equal(p, ".");
	free(p);
	assert_null(c.dialect.id_template);
	assert_false(c.dialect.no_id_key);
	assert_false(c.dialect.at_strings);
	config_finish(&c);
	load_ok(f,
		"file_name: \"{id}--{slug}.md\"\nid_key: false\n"
		"at_strings: true\n",
		&c);
	assert_string_equal(c.dialect.id_template, "{id}--{slug}.md");
	assert_true(c.dialect.no_id_key);
	assert_true(c.dialect.at_strings);
	config_finish(&c);
	load_fails(f, "id_key: false\n",
		   " 'id_key: false' needs 'file_name': a new file's name must "
		   "hold its id");
	load_fails(f, "file_name: \"{id}-{id:lower}.md\"\n",
		   "1:12: 'file_name' must be a name ending in .md that holds "
		   "{id} or {id:lower} once (and may hold {slug}, {title}), "
		   "without '/'");
	load_fails(f, "at_strings: yes\n",
		   "1:13: 'at_strings' must be true or false");
	load_ok(f,
		"stages:\n  open: .\n  closed: archive\n"
		"archive_stages: [closed]\n",
		&c);
	assert_false(c.stages[0].archive);
	assert_true(c.stages[1].archive);
	config_finish(&c);
	load_fails(f, "archive_stages: [done]\n",
		   " 'archive_stages': no stage 'done' (see 'stages')");
	load_ok(f,
		"created_format: iso\nkeys:\n  parent: parent_task_id\n"
		"new_file: |\n  # a comment\n  type: task\n"
		"  tags: [a, b]",
		&c);
	assert_int_equal(c.dialect.created_format, SC_ISO);
	assert_string_equal(c.dialect.key[SF_PARENT], "parent_task_id");
	assert_string_equal(c.dialect.new_file,
			    "# a comment\ntype: task\ntags: [a, b]\n");
	assert_string_equal(c.dialect.new_file_extra,
			    "{\"type\":\"task\",\"tags\":[\"a\",\"b\"]}");
	config_finish(&c);
	load_ok(f, "", &c);
	assert_null(c.dialect.key[SF_PARENT]);
	assert_int_equal(c.dialect.created_format, SC_NONE);
	assert_null(c.dialect.new_file);
	config_finish(&c);
	load_fails(f, "created_format: rfc\n",
		   "1:17: 'created_format' must be date (2026-02-14), datetime "
		   "('2026-02-14 21:22') or iso (2026-02-14T21:22:00Z)");
	load_fails(f, "new_file: \"priority: high\"\n",
		   "1:11: 'new_file': 'priority' is a column's key: a new file "
		   "takes it from the row");
	load_fails(f, "new_file: \"a: [\"\n",
		   "1:11: 'new_file': new_file:4:6: did not find expected ',' "
		   "or ']'");
	load_fails(f, "new_file: \"a\\x01\"\n",
		   "1:11: 'new_file' has a control character");
	load_ok(f, "key_order: [title, status, ordinal]\nlist_style: block\n",
		&c);
	assert_int_equal(c.dialect.nkey_order, 3);
	assert_string_equal(c.dialect.key_order[2], "ordinal");
	assert_true(c.dialect.block_lists);
	config_finish(&c);
	load_ok(f, "list_style: flow\n", &c);
	assert_false(c.dialect.block_lists);
	assert_int_equal(c.dialect.nkey_order, 0);
	config_finish(&c);
	load_fails(f, "list_style: yes\n",
		   "1:13: 'list_style' must be flow ([a, b]) or block (one "
		   "\"- item\" a line)");
	load_fails(f, "key_order: title\n",
		   "1:12: 'key_order' must be a list of strings");
}

static void test_bad_dialect(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "status_from: folder\n",
		   "1:14: 'status_from' must be location or key");
	load_fails(f, "statuses: [a]\n",
		   " 'statuses' needs 'status_from: key' (with the location "
		   "as the status, the stages are the statuses)");
	load_fails(f, "statuses: a\n",
		   "1:11: 'statuses' must be a list of "
		   "strings");
	load_fails(f, "keys:\n  body: text\n",
		   "2:3: 'keys': 'body' is not a column with a key (id, "
		   "backlog, status, epic, title, priority, points, "
		   "assignees, labels, depends_on, created, parent)");
	load_fails(f, "keys:\n  created: \"-x\"\n",
		   "2:12: 'keys': 'created' must name a plain frontmatter key");
	load_fails(f, "keys:\n  created: title\n",
		   " 'keys': 'title' and 'created' both read key 'title'");
	load_fails(f, "file_name: \"{slug}.md\"\n",
		   "1:12: 'file_name' must be a name ending in .md that holds "
		   "{id} or {id:lower} once (and may hold {slug}, {title}), "
		   "without '/'");
	load_fails(f, "file_name: \"{id}/{slug}.md\"\n",
		   "1:12: 'file_name' must be a name ending in .md that holds "
		   "{id} or {id:lower} once (and may hold {slug}, {title}), "
		   "without '/'");
	load_fails(f, "file_name: \"{id}-{name}.md\"\n",
		   "1:12: 'file_name' must be a name ending in .md that holds "
		   "{id} or {id:lower} once (and may hold {slug}, {title}), "
		   "without '/'");
	load_fails(f, "create_in: done\n",
		   "1:12: 'create_in': no stage 'done'");
	load_fails(f, "mirror_keys: maybe\n",
		   "1:14: 'mirror_keys' must be true or false");
}

static void test_bad_stages(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "stages:\n  a: x\n  b: x\n",
		   "3:6: stage 'b': directory 'x' is already stage 'a'");
	load_fails(f, "stages:\n  a: .\n  b: .\n",
		   "3:6: stage 'b': directory '.' is already stage 'a'");
	load_fails(f, "stages:\n  a: ./x\n",
		   "2:6: stage 'a': directory './x' must be '.' or a relative "
		   "path of non-hidden directory names");
	load_fails(f, "stages:\n  a: x/\n",
		   "2:6: stage 'a': directory 'x/' must be '.' or a "
		   "relative path of non-hidden directory names");
	load_fails(f, "stages:\n  a: ..\n",
		   "2:6: stage 'a': directory '..' must be '.' or a "
		   "relative path of non-hidden directory names");
	load_fails(f, "stages:\n  a: .git\n",
		   "2:6: stage 'a': directory '.git' must be '.' or a "
		   "relative path of non-hidden directory names");
	load_fails(f, "stages:\n  a: x/.git\n",
		   "2:6: stage 'a': directory 'x/.git' must be '.' or a "
		   "relative path of non-hidden directory names");
	load_fails(f, "stages:\n  a:\n",
		   "2:5: stage 'a' must have a directory");
	load_fails(f, "stages: {}\n",
		   "1:9: 'stages' must list at least one "
		   "stage");
}

static void test_not_mappings(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "- a\n- b\n",
		   "1:1: the configuration must be a mapping of settings");
	load_fails(f, "just words\n",
		   "1:1: the configuration must be a mapping of settings");
	load_fails(f, "backlogs: [a, b]\n",
		   "1:11: 'backlogs' must be a mapping of name: path");
	load_fails(f, "stages: active\n",
		   "1:9: 'stages' must be a mapping of status: directory");
	load_fails(f, "git: true\n",
		   "1:6: 'git' must be a mapping of commit and author");
	load_fails(f, "database: {a: b}\n",
		   "1:11: 'database' must be a file path or a "
		   "postgresql:// URI");
	load_fails(f, "database: a\n---\ndatabase: b\n",
		   "2:1: the configuration must be a single YAML document");
}

static void test_bad_git_values(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "git:\n  commit: yes\n",
		   "2:11: 'git.commit' must be true or false");
	load_fails(f, "git:\n  commit: \"true\"\n",
		   "2:11: 'git.commit' must be true or false");
	load_fails(f, "git:\n  author: bot\n",
		   "2:11: 'git.author' must be \"Name <email>\"");
	load_fails(f, "git:\n  author: <bot@example.com>\n",
		   "2:11: 'git.author' must be \"Name <email>\"");
	load_fails(f, "git:\n  author: Bot <>\n",
		   "2:11: 'git.author' must be \"Name <email>\"");
}

static void test_yaml_syntax_error(void **state)
{
	struct fixture *f = *state;

	load_fails(f, "database: a\nstages:\n  a: x\n   b: y\n",
		   "4:5: mapping values are not allowed in this context");
	load_fails(f, "stages:\n  a: &d x\n  b: *d\n",
		   "3:6: YAML aliases are not allowed");
}

static void test_find_nested(void **state)
{
	struct fixture *f = *state;
	static const char *const dirs[] = {"a", "a/b", "a/b/c"};
	struct err e = {{0}};
	char *want = xasprintf("%s/%s", f->real, CONFIG_FILE_NAME);
	char *sub = NULL, *got;

	for (size_t i = 0; i < 3; i++) {
		free(sub);
		sub = xasprintf("%s/%s", f->dir, dirs[i]);
		assert_int_equal(mkdir(sub, 0755), 0);
	}
	write_text(f->file, "");
	got = config_find(sub, &e);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	got = config_find(f->dir, &e);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(sub);
}

static void test_find_fails(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	char *sub = xasprintf("%s/x", f->dir);
	char *want = xasprintf("no .storysync.yml found in %s/x or any parent "
			       "directory (run 'storysync init')",
			       f->real);

	assert_int_equal(mkdir(sub, 0755), 0);
	assert_null(config_find(sub, &e));
	assert_string_equal(e.msg, want);
	free(want);
	free(sub);
	sub = xasprintf("%s/nowhere", f->dir);
	want = xasprintf("%s: No such file or directory", sub);
	assert_null(config_find(sub, &e));
	assert_string_equal(e.msg, want);
	free(want);
	free(sub);
}

static void test_write_default(void **state)
{
	struct fixture *f = *state;
	struct config c;
	struct err e = {{0}};
	char *text;

	assert_true(config_write_default(f->file, &e));
	text = read_text(f->file);
	assert_non_null(strstr(text, "\ndatabase: .storysync/stories.db\n"));
	assert_non_null(strstr(text, "\n#backlogs:\n"));
	assert_non_null(strstr(text, "\nstages:\n  refinement: refinements\n"));
	free(text);
	assert_true(config_load(&c, f->file, &e));
	assert_defaults(f, &c);
	config_finish(&c);
}

static void test_write_default_keeps_existing(void **state)
{
	struct fixture *f = *state;
	struct err e = {{0}};
	char *text, *bad;

	write_text(f->file, "database: mine.db\n");
	assert_true(config_write_default(f->file, &e));
	text = read_text(f->file);
	assert_string_equal(text, "database: mine.db\n");
	free(text);
	bad = xasprintf("%s/no/such/dir/.storysync.yml", f->dir);
	text = xasprintf("%s: No such file or directory", bad);
	assert_false(config_write_default(bad, &e));
	assert_string_equal(e.msg, text);
	free(text);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_nulls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_absolute_database_and_false, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_order_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_relative_path_as_given,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unattended_and_policy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_versioned_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_local_overrides, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_output_paths, setup,
						teardown),
		cmocka_unit_test(test_local_path),
		cmocka_unit_test_setup_teardown(test_duplicate_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_backlog_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_overlapping_backlogs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefix_is_not_nesting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dialect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dialect, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_stages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_mappings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_git_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_yaml_syntax_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_find_nested, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_find_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_default, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_write_default_keeps_existing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
