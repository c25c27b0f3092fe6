/* test_hooks.c: installing the hooks, and the hooks run by a real git. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "gitrepo.h"
#include "hooks.h"
#include "mem.h"

/* How the hooks call storysync for the tree at the top of the work tree. */
#define HOOK_CALL "-c .storysync.yml sync --git -q --wait=120"

static char tmp[256]; /* realpath of this test's temp dir */
static char src[PATH_MAX];
static char fake[PATH_MAX];
static char *hooks; /* repo/.git/hooks */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *slurp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command in the temp dir; returns its exit status. */
static int sh(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf_printf(&b, "cd '%s' && { %s; }", tmp, cmd);
	rc = system(b.data);
	buf_finish(&b);
	return rc;
}

/* The contents of a file below the temp dir ("" when missing). */
static char *slurp(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char rel[1024], *path;
	char chunk[512];
	va_list ap;
	size_t n;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	path = xasprintf("%s/%s", tmp, rel);
	buf_add(&b, "", 0);
	if ((f = fopen(path, "r"))) {
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, n);
		fclose(f);
	}
	free(path);
	return buf_detach(&b);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits up to 60 s for the file rel (below the temp dir) to hold want: a
 * hook's background run writes it when it gets to it. */
static void wait_file(const char *rel, const char *want)
{
	double deadline = now() + 60;
	char *got = NULL;

	for (;;) {
		free(got);
		got = slurp("%s", rel);
		if (strcmp(got, want) == 0 || now() > deadline)
			break;
		usleep(10000);
	}
	assert_string_equal(got, want);
	free(got);
}

/* Waits for the fake storysync's call log to hold want. */
static void wait_calls(const char *want)
{
	wait_file("calls", want);
}

/* Checks that no sync started. The hooks run with
 * STORYSYNC_HOOK_FOREGROUND=1 (run_hook): a sync they start is over when
 * they return, so an empty log now is no call at all, not a late one
 * (test_hook_skips checks that a call is there at once). */
static void assert_no_call(void)
{
	char *got = slurp("calls");

	assert_string_equal(got, "");
	free(got);
}

static int setup(void **state)
{
	char t[] = "/tmp/test_hooks-XXXXXX", real[PATH_MAX];
	const char *root = getenv("SOURCE_ROOT");

	assert_non_null(root);
	snprintf(src, sizeof(src), "%s/hooks", root);
	assert_non_null(mkdtemp(t));
	assert_non_null(realpath(t, real));
	assert_true(strlen(real) < sizeof(tmp));
	strcpy(tmp, real);
	hooks = xasprintf("%s/repo/.git/hooks", tmp);
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Ann", 1);
	setenv("GIT_AUTHOR_EMAIL", "ann@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Ann", 1);
	setenv("GIT_COMMITTER_EMAIL", "ann@example.com", 1);
	unsetenv("STORYSYNC_RUNNING");
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	/* A fake storysync that logs how it was called. */
	snprintf(fake, sizeof(fake), "%s/fake-storysync", tmp);
	setenv("STORYSYNC", fake, 1);
	assert_int_equal(
		sh("printf '#!/bin/sh\\n"
		   "echo \"$*|${GIT_INDEX_FILE-unset}|$(pwd)\" >> %s/calls\\n"
		   "echo fake stderr >&2\\n' > fake-storysync && "
		   "chmod +x fake-storysync && git init -q -b main repo && "
		   "rm -rf repo/.git/hooks && cd repo && echo a > a.md && "
		   "touch .storysync.yml && "
		   "git add a.md && git commit -q -m one",
		   tmp),
		0);
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf '%s'", tmp);
	xfree(&hooks);
	unsetenv("STORYSYNC_RUNNING");
	return 0;
}

static void install_ok(const char *dir, const enum hooks_action *want)
{
	enum hooks_action got[HOOKS_COUNT];
	struct err e = {""};

	if (!hooks_install(dir, src, got, &e))
		fail_msg("hooks_install: %s", e.msg);
	for (size_t i = 0; i < HOOKS_COUNT; i++)
		assert_int_equal(got[i], want[i]);
}

static void uninstall_ok(const char *dir, const enum hooks_action *want)
{
	enum hooks_action got[HOOKS_COUNT];
	struct err e = {""};

	if (!hooks_uninstall(dir, got, &e))
		fail_msg("hooks_uninstall: %s", e.msg);
	for (size_t i = 0; i < HOOKS_COUNT; i++)
		assert_int_equal(got[i], want[i]);
}

static void assert_mode_0755(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void add_old_hook(const char *dir, const char *name)
{
	assert_int_equal(sh("mkdir -p '%s' && printf '#!/bin/sh\\n"
			    "echo \"$*\" >> %s/old-%s-ran\\n' > '%s/%s' && "
			    "chmod 755 '%s/%s'",
			    dir, tmp, name, dir, name, dir, name),
			 0);
}

static void test_install_chains(void **state)
{
	const enum hooks_action want[] = {HOOKS_CHAINED, HOOKS_INSTALLED,
					  HOOKS_INSTALLED, HOOKS_INSTALLED};
	char *path = xasprintf("%s/post-commit", hooks);
	char *got, *log;

	add_old_hook(hooks, "post-commit");
	install_ok(hooks, want);
	assert_true(hooks_is_ours(path));
	assert_mode_0755(path);
	got = slurp("repo/.git/hooks/post-commit.storysync-chained");
	assert_non_null(strstr(got, "old-post-commit-ran"));
	free(got);

	/* git runs ours, ours runs the old one, then a sync. */
	assert_int_equal(sh("cd repo && echo b > b.md && git add b.md && "
			    "git commit -q -m two"),
			 0);
	got = slurp("old-post-commit-ran");
	assert_string_equal(got, "\n");
	free(got);
	log = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp);
	wait_calls(log);
	free(log);
	/* The sync's stderr is kept, in the git dir. */
	wait_file("repo/.git/storysync.log", "fake stderr\n");
	free(path);
}

static void test_install_idempotent(void **state)
{
	const enum hooks_action first[] = {HOOKS_INSTALLED, HOOKS_INSTALLED,
					   HOOKS_INSTALLED, HOOKS_INSTALLED};
	const enum hooks_action again[] = {HOOKS_UNCHANGED, HOOKS_UNCHANGED,
					   HOOKS_UNCHANGED, HOOKS_UNCHANGED};
	const enum hooks_action updated[] = {HOOKS_UNCHANGED, HOOKS_UPDATED,
					     HOOKS_UNCHANGED, HOOKS_UNCHANGED};
	char *before, *after;

	install_ok(hooks, first);
	assert_int_equal(sh("ls -l --time-style=+%%s%%N repo/.git/hooks > "
			    "before"),
			 0);
	install_ok(hooks, again);
	assert_int_equal(sh("ls -l --time-style=+%%s%%N repo/.git/hooks > "
			    "after"),
			 0);
	before = slurp("before");
	after = slurp("after");
	assert_string_equal(after, before);
	free(after);
	free(before);

	/* An older version of ours is replaced, not chained. */
	assert_int_equal(sh("echo '# old' >> repo/.git/hooks/post-merge"), 0);
	install_ok(hooks, updated);
	assert_int_equal(sh("cmp -s '%s/post-merge' repo/.git/hooks/post-merge"
			    " && ! test -e repo/.git/hooks/"
			    "post-merge.storysync-chained",
			    src),
			 0);
}

static void test_install_hooks_path(void **state)
{
	const enum hooks_action want[] = {HOOKS_INSTALLED, HOOKS_CHAINED,
					  HOOKS_INSTALLED, HOOKS_INSTALLED};
	char *repo = xasprintf("%s/repo", tmp);
	struct err e = {""};
	struct gitrepo *r;
	char *dir = NULL, *want_dir = xasprintf("%s/.githooks", repo), *log;

	assert_int_equal(sh("git -C repo config core.hooksPath .githooks"), 0);
	r = gitrepo_open(repo, &e);
	assert_non_null(r);
	assert_true(gitrepo_hooks_dir(r, &dir, &e));
	assert_string_equal(dir, want_dir);
	add_old_hook(dir, "post-merge");
	install_ok(dir, want);
	assert_int_equal(sh("test ! -e repo/.git/hooks/post-commit"), 0);

	assert_int_equal(sh("cd repo && echo b > b.md && git add b.md && "
			    "git commit -q -m two"),
			 0);
	log = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp);
	wait_calls(log);
	free(log);
	gitrepo_destroy(r);
	free(want_dir);
	free(dir);
	free(repo);
}

static void test_uninstall_restores(void **state)
{
	const enum hooks_action chained[] = {HOOKS_CHAINED, HOOKS_INSTALLED,
					     HOOKS_INSTALLED, HOOKS_INSTALLED};
	const enum hooks_action removed[] = {HOOKS_RESTORED, HOOKS_REMOVED,
					     HOOKS_REMOVED, HOOKS_REMOVED};
	const enum hooks_action again[] = {HOOKS_FOREIGN, HOOKS_ABSENT,
					   HOOKS_ABSENT, HOOKS_ABSENT};
	char *before, *after;

	add_old_hook(hooks, "post-commit");
	before = slurp("repo/.git/hooks/post-commit");
	install_ok(hooks, chained);
	uninstall_ok(hooks, removed);
	after = slurp("repo/.git/hooks/post-commit");
	assert_string_equal(after, before);
	free(after);
	free(before);
	assert_int_equal(sh("ls repo/.git/hooks > list"), 0);
	after = slurp("list");
	assert_string_equal(after, "post-commit\n");
	free(after);
	uninstall_ok(hooks, again);
}

static void test_chain_conflict(void **state)
{
	const enum hooks_action chained[] = {HOOKS_CHAINED, HOOKS_INSTALLED,
					     HOOKS_INSTALLED, HOOKS_INSTALLED};
	struct err e = {""};
	char *msg;

	add_old_hook(hooks, "post-commit");
	install_ok(hooks, chained);
	/* Someone put another hook over ours: chaining it would lose the
	 * first one. */
	add_old_hook(hooks, "post-commit");
	assert_false(hooks_install(hooks, src, NULL, &e));
	msg = xasprintf("%s/post-commit: not a storysync hook, and "
			"%s/post-commit.storysync-chained already exists",
			hooks, hooks);
	assert_string_equal(e.msg, msg);
	free(msg);
}

static void test_foreign_helper(void **state)
{
	struct err e = {""};
	char *msg;

	add_old_hook(hooks, "storysync-hook");
	assert_false(hooks_install(hooks, src, NULL, &e));
	msg = xasprintf("%s/storysync-hook: exists and is not storysync's",
			hooks);
	assert_string_equal(e.msg, msg);
	free(msg);
}

static void test_missing_source(void **state)
{
	char *empty = xasprintf("%s/empty", tmp);
	char *msg = xasprintf("%s/storysync-hook: No such file or directory",
			      empty);
	struct err e = {""};

	assert_int_equal(sh("mkdir empty"), 0);
	assert_false(hooks_install(hooks, empty, NULL, &e));
	assert_string_equal(e.msg, msg);
	free(msg);
	free(empty);
}

/* Runs an installed hook by hand from the repository's top, its stderr
 * into the file "err", its sync (if any) in the foreground: over when it
 * returns. Returns its exit status. */
static int run_hook(const char *hook, const char *args)
{
	return sh("cd repo && STORYSYNC_HOOK_FOREGROUND=1 .git/hooks/%s %s "
		  "</dev/null 2>../err",
		  hook, args);
}

static void install_plain(void)
{
	const enum hooks_action want[] = {HOOKS_INSTALLED, HOOKS_INSTALLED,
					  HOOKS_INSTALLED, HOOKS_INSTALLED};

	install_ok(hooks, want);
}

static void test_hook_storysync_missing(void **state)
{
	char *err;

	install_plain();
	setenv("STORYSYNC", "/nonexistent", 1);
	assert_int_equal(run_hook("post-commit", ""), 0);
	err = slurp("err");
	assert_string_equal(err, "storysync hook: storysync not found; story "
				 "sync skipped\n");
	free(err);

	/* Not on PATH either. */
	unsetenv("STORYSYNC");
	assert_int_equal(sh("cd repo && PATH=/usr/bin:/bin "
			    "/bin/sh .git/hooks/post-merge 0 2>../err"),
			 0);
	err = slurp("err");
	assert_string_equal(err, "storysync hook: storysync not found; story "
				 "sync skipped\n");
	free(err);
}

static void test_hook_returns_at_once(void **state)
{
	char *log = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp);
	char *done = xasprintf("%sreleased\n", log), *got;

	install_plain();
	/* A sync that goes on until the test lets it (60 s at most). */
	assert_int_equal(sh("printf '#!/bin/sh\\necho \"$*|${GIT_INDEX_FILE-"
			    "unset}|$(pwd)\" >> %s/calls\\ni=0\\n"
			    "while [ ! -e %s/release ] && [ $i -lt 6000 ]; do"
			    " sleep 0.01; i=$((i + 1)); done\\n"
			    "echo released >> %s/calls\\n' > fake-storysync",
			    tmp, tmp, tmp),
			 0);
	/* Through a pipe: the sync must not hold git's output open. Were
	 * the hook to wait for the sync, it would not return before the
	 * release. */
	assert_int_equal(sh("cd repo && GIT_INDEX_FILE=.git/index "
			    ".git/hooks/post-merge 0 2>&1 | cat"),
			 0);
	got = slurp("calls");
	assert_null(strstr(got, "released"));
	free(got);
	wait_calls(log);
	assert_int_equal(sh("touch release"), 0);
	wait_calls(done);
	free(done);
	free(log);
}

static void test_hook_skips(void **state)
{
	char *err, *log, *want;

	install_plain();
	/* A rebase in progress. */
	assert_int_equal(sh("mkdir repo/.git/rebase-merge"), 0);
	assert_int_equal(run_hook("post-commit", ""), 0);
	assert_no_call();
	assert_int_equal(sh("rmdir repo/.git/rebase-merge"), 0);
	/* A merge stopped for conflicts. */
	assert_int_equal(sh("git -C repo rev-parse HEAD > "
			    "repo/.git/MERGE_HEAD"),
			 0);
	assert_int_equal(run_hook("post-commit", ""), 0);
	assert_no_call();
	assert_int_equal(sh("rm repo/.git/MERGE_HEAD"), 0);
	/* storysync's own commit. */
	setenv("STORYSYNC_RUNNING", "1", 1);
	assert_int_equal(run_hook("post-commit", ""), 0);
	assert_no_call();
	unsetenv("STORYSYNC_RUNNING");
	/* A file checkout, not a branch switch. */
	assert_int_equal(run_hook("post-checkout", "a b 0"), 0);
	assert_no_call();
	err = slurp("err");
	assert_string_equal(err, "");
	free(err);
	/* A branch switch calls, and the call is there when run_hook
	 * returns: the checks above could not miss a late one. */
	assert_int_equal(run_hook("post-checkout", "a b 1"), 0);
	log = slurp("calls");
	want = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp);
	assert_string_equal(log, want);
	free(want);
	free(log);
}

static void test_hook_post_rewrite(void **state)
{
	const enum hooks_action want[] = {HOOKS_INSTALLED, HOOKS_INSTALLED,
					  HOOKS_INSTALLED, HOOKS_CHAINED};
	char *log = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp), *got;

	/* The old hook reads what was rewritten from stdin. */
	assert_int_equal(sh("mkdir -p '%s' && printf '#!/bin/sh\\n"
			    "cat > %s/rewritten\\n' > '%s/post-rewrite' && "
			    "chmod 755 '%s/post-rewrite'",
			    hooks, tmp, hooks, hooks),
			 0);
	install_ok(hooks, want);
	/* A rebase runs post-rewrite at its end, its state still there. */
	assert_int_equal(sh("mkdir repo/.git/rebase-merge && cd repo && "
			    "echo 'old new' | .git/hooks/post-rewrite rebase"),
			 0);
	wait_calls(log);
	/* An amend while a rebase is stopped: not yet (a sync would be over
	 * when the hook returns, in the foreground). */
	assert_int_equal(sh("cd repo && echo 'old new' | "
			    "STORYSYNC_HOOK_FOREGROUND=1 "
			    ".git/hooks/post-rewrite amend"),
			 0);
	got = slurp("calls");
	assert_string_equal(got, log);
	free(got);
	got = slurp("rewritten");
	assert_string_equal(got, "old new\n");
	free(got);
	free(log);
}

static void test_hook_branch_switch(void **state)
{
	char *log = xasprintf(HOOK_CALL "|unset|%s/repo\n", tmp);

	install_plain();
	assert_int_equal(sh("cd repo && git checkout -q -b other"), 0);
	wait_calls(log);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_chains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_install_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_install_hooks_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_uninstall_restores, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_conflict, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_helper, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_source, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hook_storysync_missing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_returns_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_skips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hook_post_rewrite, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hook_branch_switch, setup,
						teardown),
	};

	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
