/* test_gitrepo.c: gitrepo against real repositories made with git. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fsx.h"
#include "githead.h"
#include "gitindex.h"
#include "gitobj.h"
#include "gitrepo.h"
#include "mem.h"

static char tmp[256]; /* realpath of this test's temp dir */
static char repo[300];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command in the temp dir; it must succeed. */
static void sh(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	char cmd[8192];

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf_printf(&b, "cd '%s' && { %s; } >/dev/null", tmp, cmd);
	if (system(b.data) != 0)
		fail_msg("command failed: %s", cmd);
	buf_finish(&b);
}

/* A command's standard output, its last newline dropped. */
static char *out(const char *fmt, ...)
{
	struct buf b = BUF_INIT, o = BUF_INIT;
	char chunk[512], cmd[4096];
	va_list ap;
	size_t n;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf_printf(&b, "cd '%s' && %s", tmp, cmd);
	f = popen(b.data, "r");
	assert_non_null(f);
	buf_add(&o, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&o, chunk, n);
	assert_int_equal(pclose(f), 0);
	if (o.len && o.data[o.len - 1] == '\n')
		o.data[--o.len] = '\0';
	buf_finish(&b);
	return buf_detach(&o);
}

static int setup(void **state)
{
	char t[] = "/tmp/test_gitrepo-XXXXXX", real[PATH_MAX];

	assert_non_null(mkdtemp(t));
	assert_non_null(realpath(t, real));
	assert_true(strlen(real) < sizeof(tmp));
	strcpy(tmp, real);
	snprintf(repo, sizeof(repo), "%s/repo", tmp);
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	setenv("GIT_AUTHOR_NAME", "Ann Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "ann@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Ann Author", 1);
	setenv("GIT_COMMITTER_EMAIL", "ann@example.com", 1);
	sh("git init -q -b main repo && mkdir -p repo/stories/backlog "
	   "repo/other && cd repo && echo a > stories/backlog/A.md && "
	   "echo b > stories/backlog/B.md && echo c > stories/backlog/C.md "
	   "&& echo x > other/x.md && git add . && "
	   "GIT_AUTHOR_DATE='@1700000000 +0000' git commit -q -m one");
	return 0;
}

static int teardown(void **state)
{
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	sh("rm -rf '%s'", tmp);
	return 0;
}

static struct gitrepo *open_ok(const char *dir)
{
	struct err e = {""};
	struct gitrepo *r = gitrepo_open(dir, &e);

	if (!r)
		fail_msg("gitrepo_open(%s): %s", dir, e.msg);
	return r;
}

static void check_open_fails(const char *dir, const char *want)
{
	struct err e = {""};

	assert_null(gitrepo_open(dir, &e));
	assert_string_equal(e.msg, want);
}

static void assert_head_is(struct gitrepo *r, const char *dir)
{
	char head[GITREPO_HEX];
	bool unborn = true;
	struct err e = {""};
	char *want = out("git -C '%s' rev-parse HEAD", dir);

	assert_true(gitrepo_head(r, head, &unborn, &e));
	assert_false(unborn);
	assert_string_equal(head, want);
	free(want);
}

static void test_open_subdir(void **state)
{
	char *sub = xasprintf("%s/stories/backlog", repo);
	struct gitrepo *r = open_ok(sub);
	char *prefix = NULL, *want = xasprintf("%s/.git", repo);
	struct err e = {""};
	char *msg;

	assert_string_equal(gitrepo_workdir(r), repo);
	assert_string_equal(gitrepo_gitdir(r), want);
	assert_false(gitrepo_is_shallow(r));
	assert_false(gitrepo_head_unborn(r));
	assert_false(gitrepo_head_detached(r));
	assert_head_is(r, repo);
	assert_true(gitrepo_prefix(r, sub, &prefix, &e));
	assert_string_equal(prefix, "stories/backlog");
	xfree(&prefix);
	assert_true(gitrepo_prefix(r, repo, &prefix, &e));
	assert_string_equal(prefix, "");
	xfree(&prefix);
	assert_false(gitrepo_prefix(r, tmp, &prefix, &e));
	msg = xasprintf("%s: outside the git work tree %s", tmp, repo);
	assert_string_equal(e.msg, msg);
	free(msg);
	gitrepo_destroy(r);
	free(want);
	free(sub);
}

static void test_open_not_a_repo(void **state)
{
	char *dir = xasprintf("%s/plain", tmp);
	char *msg = xasprintf("%s: not a git repository", dir);

	sh("mkdir plain");
	check_open_fails(dir, msg);
	free(msg);
	free(dir);
}

static void test_open_env(void **state)
{
	char *gitdir = xasprintf("%s/.git", repo);
	char *other = xasprintf("%s/other", repo);
	char *sep = xasprintf("%s/sep.git", tmp);
	char *wt = xasprintf("%s/wt", tmp);
	char *linked = xasprintf("%s/linked", tmp);
	char *linked_gitdir = xasprintf("%s/.git/worktrees/linked", repo);
	char cwd[PATH_MAX];
	struct gitrepo *r;

	/* As git sets them for hooks: GIT_DIR wins over the directory. */
	setenv("GIT_DIR", gitdir, 1);
	setenv("GIT_WORK_TREE", repo, 1);
	r = open_ok(tmp);
	assert_string_equal(gitrepo_workdir(r), repo);
	assert_head_is(r, repo);
	gitrepo_destroy(r);

	/* A linked worktree's own git dir, as git sets it there. */
	sh("git -C repo worktree add -q --detach ../linked");
	setenv("GIT_DIR", linked_gitdir, 1);
	setenv("GIT_WORK_TREE", linked, 1);
	r = open_ok(tmp);
	assert_string_equal(gitrepo_workdir(r), linked);
	assert_string_equal(gitrepo_gitdir(r), linked_gitdir);
	assert_true(gitrepo_head_detached(r));
	assert_head_is(r, linked);
	gitrepo_destroy(r);

	/* GIT_DIR alone, relative, from the top: the top is the work tree. */
	unsetenv("GIT_WORK_TREE");
	setenv("GIT_DIR", ".git", 1); /* cwd: the test's, not the tree */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(repo), 0);
	r = open_ok(other);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(gitrepo_workdir(r), repo);
	gitrepo_destroy(r);

	/* A git dir apart from its work tree, core.bare unset. */
	sh("git init -q --separate-git-dir sep.git wt && git -C wt "
	   "config --unset core.worktree || :");
	setenv("GIT_DIR", sep, 1);
	setenv("GIT_WORK_TREE", wt, 1);
	r = open_ok(tmp);
	assert_string_equal(gitrepo_workdir(r), wt);
	assert_true(gitrepo_head_unborn(r));
	gitrepo_destroy(r);
	free(linked_gitdir);
	free(linked);
	free(wt);
	free(sep);
	free(other);
	free(gitdir);
}

static void test_open_worktree(void **state)
{
	char *wt = xasprintf("%s/linked", tmp);
	char *sub = xasprintf("%s/stories", wt);
	char *gitdir = xasprintf("%s/.git/worktrees/linked", repo);
	char *hooks = NULL, *want = xasprintf("%s/.git/hooks", repo);
	struct err e = {""};
	struct gitrepo *r;

	sh("git -C repo worktree add -q -b feature ../linked");
	r = open_ok(sub);
	assert_string_equal(gitrepo_workdir(r), wt);
	assert_string_equal(gitrepo_gitdir(r), gitdir);
	assert_head_is(r, wt);
	assert_false(gitrepo_head_detached(r));
	/* Hooks are shared by all worktrees. */
	assert_true(gitrepo_hooks_dir(r, &hooks, &e));
	assert_string_equal(hooks, want);
	free(hooks);
	gitrepo_destroy(r);
	free(want);
	free(gitdir);
	free(sub);
	free(wt);
}

static void test_open_bare(void **state)
{
	char *bare = xasprintf("%s/bare.git", tmp);

	sh("git clone -q --bare repo bare.git");
	check_open_fails(bare, "bare repository: nothing to sync");
	setenv("GIT_DIR", bare, 1);
	check_open_fails(tmp, "bare repository: nothing to sync");
	free(bare);
}

static void test_open_shallow(void **state)
{
	char *dir = xasprintf("%s/shallow", tmp);
	struct gitrepo *r;

	sh("cd repo && echo 2 >> other/x.md && git commit -q -am two && "
	   "cd .. && git clone -q --depth 1 file://'%s' shallow",
	   repo);
	r = open_ok(dir);
	assert_true(gitrepo_is_shallow(r));
	gitrepo_destroy(r);
	r = open_ok(repo);
	assert_false(gitrepo_is_shallow(r));
	gitrepo_destroy(r);
	free(dir);
}

static void test_open_unborn(void **state)
{
	char *dir = xasprintf("%s/fresh", tmp);
	char head[GITREPO_HEX] = "x";
	bool unborn = false;
	struct err e = {""};
	struct gitrepo *r;

	sh("git init -q fresh");
	r = open_ok(dir);
	assert_true(gitrepo_head_unborn(r));
	assert_true(gitrepo_head(r, head, &unborn, &e));
	assert_true(unborn);
	assert_string_equal(head, "");
	gitrepo_destroy(r);
	free(dir);
}

static void test_open_detached(void **state)
{
	struct gitrepo *r;

	sh("git -C repo checkout -q --detach HEAD");
	r = open_ok(repo);
	assert_true(gitrepo_head_detached(r));
	assert_false(gitrepo_head_unborn(r));
	assert_head_is(r, repo);
	gitrepo_destroy(r);
}

/* Collects changes as sorted lines "S old -> new". */
static bool collect(void *ctx, const struct gitrepo_change *c)
{
	struct buf *b = ctx;

	buf_printf(b, "%c %s -> %s\n", c->status,
		   c->old_path ? c->old_path : "-",
		   c->new_path ? c->new_path : "-");
	return true;
}

static char *diff_lines(struct gitrepo *r, const char *from, const char *to,
			const char *const *ps)
{
	struct buf b = BUF_INIT;
	struct err e = {""};

	if (!gitrepo_diff(r, from, to, ps, collect, &b, &e))
		fail_msg("gitrepo_diff: %s", e.msg);
	buf_add(&b, "", 0);
	return buf_detach(&b);
}

static void make_changes(void)
{
	sh("cd repo && echo a2 >> stories/backlog/A.md && "
	   "echo d > stories/backlog/D.md && git rm -q stories/backlog/B.md "
	   "&& mkdir -p stories/active && "
	   "git mv stories/backlog/C.md stories/active/C.md && "
	   "echo x2 >> other/x.md && git add . && "
	   "git update-index --add --cacheinfo "
	   "160000,$(git rev-parse HEAD),stories/sub && "
	   "GIT_AUTHOR_NAME='Bob Builder' GIT_AUTHOR_EMAIL=bob@example.com "
	   "GIT_AUTHOR_DATE='@1700000100 +0130' git commit -q -m two");
}

static void test_diff(void **state)
{
	const char *stories[] = {"stories", NULL};
	const char *other[] = {"other", NULL};
	char *one, *got;
	struct gitrepo *r;

	one = out("git -C repo rev-parse HEAD");
	make_changes();
	r = open_ok(repo);
	got = diff_lines(r, one, "HEAD", stories);
	assert_string_equal(got, "R stories/backlog/C.md -> "
				 "stories/active/C.md\n"
				 "M stories/backlog/A.md -> "
				 "stories/backlog/A.md\n"
				 "D stories/backlog/B.md -> -\n"
				 "A - -> stories/backlog/D.md\n");
	free(got);
	got = diff_lines(r, one, "HEAD", other);
	assert_string_equal(got, "M other/x.md -> other/x.md\n");
	free(got);
	got = diff_lines(r, NULL, one, stories);
	assert_string_equal(got, "A - -> stories/backlog/A.md\n"
				 "A - -> stories/backlog/B.md\n"
				 "A - -> stories/backlog/C.md\n");
	free(got);
	got = diff_lines(r, one, one, NULL);
	assert_string_equal(got, "");
	free(got);
	gitrepo_destroy(r);
	free(one);
}

static void test_diff_bad_commit(void **state)
{
	struct gitrepo *r = open_ok(repo);
	struct buf b = BUF_INIT;
	struct err e = {""};

	assert_false(
		gitrepo_diff(r, "no-such-ref", "HEAD", NULL, collect, &b, &e));
	assert_string_equal(e.msg, "git: commit no-such-ref: revspec "
				   "'no-such-ref' not found");
	buf_finish(&b);
	gitrepo_destroy(r);
}

struct walked {
	struct buf b;
	int stop_after;
};

static bool walk_cb(void *ctx, const struct gitrepo_commit *c)
{
	struct walked *w = ctx;

	buf_printf(&w->b, "%.7s %s <%s> %lld %d %u\n", c->id, c->author_name,
		   c->author_email, (long long)c->time, c->tz_minutes,
		   c->nparents);
	for (size_t i = 0; i < c->nchanges; i++)
		collect(&w->b, &c->changes[i]);
	return --w->stop_after != 0;
}

static char *walk_lines(struct gitrepo *r, const char *from, const char *to,
			const char *const *ps, unsigned flags)
{
	struct walked w = {BUF_INIT, -1};
	struct err e = {""};

	if (!gitrepo_walk(r, from, to, ps, flags, walk_cb, &w, &e))
		fail_msg("gitrepo_walk: %s", e.msg);
	buf_add(&w.b, "", 0);
	return buf_detach(&w.b);
}

static void test_walk(void **state)
{
	const char *stories[] = {"stories", NULL};
	char *one, *two, *three, *got, *want;
	struct gitrepo *r;

	one = out("git -C repo rev-parse --short=7 HEAD");
	make_changes();
	two = out("git -C repo rev-parse --short=7 HEAD");
	sh("cd repo && echo x3 >> other/x.md && GIT_AUTHOR_NAME=Cid "
	   "GIT_AUTHOR_EMAIL=cid@example.com GIT_AUTHOR_DATE='@1700000200 "
	   "+0000' git commit -q -am three");
	three = out("git -C repo rev-parse --short=7 HEAD");
	r = open_ok(repo);

	/* The commit outside the pathspecs is not reported. */
	got = walk_lines(r, one, "HEAD", stories, 0);
	want = xasprintf("%s Bob Builder <bob@example.com> 1700000100 90 1\n"
			 "R stories/backlog/C.md -> stories/active/C.md\n"
			 "M stories/backlog/A.md -> stories/backlog/A.md\n"
			 "D stories/backlog/B.md -> -\n"
			 "A - -> stories/backlog/D.md\n",
			 two);
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* The whole history, oldest first, root against the empty tree. */
	got = walk_lines(r, NULL, "HEAD", (const char *[]){"other", NULL}, 0);
	want = xasprintf("%s Ann Author <ann@example.com> 1700000000 0 0\n"
			 "A - -> other/x.md\n"
			 "%s Bob Builder <bob@example.com> 1700000100 90 1\n"
			 "M other/x.md -> other/x.md\n"
			 "%s Cid <cid@example.com> 1700000200 0 1\n"
			 "M other/x.md -> other/x.md\n",
			 one, two, three);
	assert_string_equal(got, want);
	free(got);
	free(want);
	gitrepo_destroy(r);
	free(three);
	free(two);
	free(one);
}

static void test_walk_merge(void **state)
{
	char *side, *merge, *got, *want;
	struct gitrepo *r;
	char *one = out("git -C repo rev-parse HEAD");

	sh("cd repo && git checkout -q -b side && "
	   "git mv stories/backlog/A.md stories/A.md && "
	   "GIT_AUTHOR_DATE='@1700000300 +0000' git commit -q -m side && "
	   "git checkout -q main && echo x4 >> other/x.md && "
	   "GIT_AUTHOR_DATE='@1700000400 +0000' git commit -q -am main && "
	   "GIT_AUTHOR_DATE='@1700000500 +0000' git merge -q --no-edit side");
	side = out("git -C repo rev-parse --short=7 side");
	merge = out("git -C repo rev-parse --short=7 HEAD");
	r = open_ok(repo);

	/* Each change to the commit that made it; the merge skipped. */
	got = walk_lines(r, one, "HEAD", (const char *[]){"stories", NULL}, 0);
	want = xasprintf("%s Ann Author <ann@example.com> 1700000300 0 1\n"
			 "R stories/backlog/A.md -> stories/A.md\n",
			 side);
	assert_string_equal(got, want);
	free(got);
	free(want);

	/* First parents only: the merge brings the side's changes. */
	got = walk_lines(r, one, "HEAD", (const char *[]){"stories", NULL},
			 GITREPO_WALK_FIRST_PARENT);
	want = xasprintf("%s Ann Author <ann@example.com> 1700000500 0 2\n"
			 "R stories/backlog/A.md -> stories/A.md\n",
			 merge);
	assert_string_equal(got, want);
	free(got);
	free(want);
	gitrepo_destroy(r);
	free(merge);
	free(side);
	free(one);
}

static void test_walk_stop(void **state)
{
	struct walked w = {BUF_INIT, 1};
	struct err e = {"untouched"};
	struct gitrepo *r;

	sh("cd repo && echo 2 >> other/x.md && git commit -q -am two");
	r = open_ok(repo);
	assert_false(gitrepo_walk(r, NULL, "HEAD", NULL, 0, walk_cb, &w, &e));
	assert_string_equal(e.msg, "untouched");
	buf_finish(&w.b);
	gitrepo_destroy(r);
}

static bool ancestor(struct gitrepo *r, const char *a, const char *b)
{
	struct err e = {""};
	bool yes = true;

	if (!gitrepo_is_ancestor(r, a, b, &yes, &e))
		fail_msg("gitrepo_is_ancestor: %s", e.msg);
	return yes;
}

static void test_is_ancestor(void **state)
{
	char *one = out("git -C repo rev-parse HEAD"), *two, *amended;
	struct gitrepo *r;

	make_changes();
	two = out("git -C repo rev-parse HEAD");
	r = open_ok(repo);
	assert_true(ancestor(r, one, "HEAD"));
	assert_true(ancestor(r, two, two));
	assert_false(ancestor(r, two, one));
	assert_false(ancestor(r, "0123456789012345678901234567890123456789",
			      "HEAD"));
	assert_false(ancestor(r, "not-a-commit", "HEAD"));

	sh("git -C repo reset -q --hard HEAD~1");
	assert_false(ancestor(r, two, "HEAD"));
	assert_true(ancestor(r, one, "HEAD"));

	sh("git -C repo commit -q --amend -m amended");
	amended = out("git -C repo rev-parse HEAD");
	assert_false(ancestor(r, one, "HEAD"));
	assert_true(ancestor(r, amended, "HEAD"));
	gitrepo_destroy(r);
	free(amended);
	free(two);
	free(one);
}

/* Whether the object store holds commit (gitrepo_has_commit), asked of
 * the repository opened afresh, as a run does. */
static bool has_commit(const char *commit)
{
	struct gitrepo *r = open_ok(repo);
	struct err e = {""};
	bool yes = true;

	if (!gitrepo_has_commit(r, commit, &yes, &e))
		fail_msg("gitrepo_has_commit: %s", e.msg);
	gitrepo_destroy(r);
	return yes;
}

/* A commit an amend replaced is still there until gc prunes it (issue
 * 19: git's history can then no longer tell a person's move since the
 * last run's commit); an unknown or malformed id is none. */
static void test_has_commit(void **state)
{
	char *one;

	make_changes();
	one = out("git -C repo rev-parse HEAD");
	assert_true(has_commit(one));
	assert_false(has_commit("0123456789012345678901234567890123456789"));
	assert_false(has_commit("not-a-commit"));
	sh("git -C repo commit -q --amend -m amended");
	assert_true(has_commit(one));
	sh("git -C repo reflog expire --expire=now --all && "
	   "git -C repo gc -q --prune=now");
	assert_false(has_commit(one));
	free(one);
}

/* Whether path changed since commit since (gitrepo_path_changed), asked
 * of the repository opened afresh, as a run does. */
static bool changed_since(const char *path, const char *since)
{
	struct gitrepo *r = open_ok(repo);
	struct err e = {""};
	bool changed = false;

	assert_true(gitrepo_path_changed(r, path, NULL, since, &changed, &e));
	gitrepo_destroy(r);
	return changed;
}

/* A path's change since a commit: by a commit on HEAD's line, staged, or
 * not at all; and since a commit HEAD's first parents no longer reach
 * (the first commit amended): as that commit has the path, not as the
 * first commit adding it (taken so, every path of a tree whose synced
 * commit was amended had changed, model seed 1070). */
static void test_path_changed(void **state)
{
	char *one = out("git -C repo rev-parse HEAD"), *two;

	(void)state;
	assert_false(changed_since("stories/backlog/A.md", one));
	sh("cd repo && echo a2 >> stories/backlog/A.md && git add -A");
	assert_true(changed_since("stories/backlog/A.md", one));
	sh("cd repo && git commit -q -m two");
	two = out("git -C repo rev-parse HEAD");
	assert_true(changed_since("stories/backlog/A.md", one));
	assert_false(changed_since("stories/backlog/B.md", one));
	assert_false(changed_since("stories/backlog/A.md", two));
	/* both amended away: B as both had it, A as two had it, not one */
	sh("cd repo && git reset -q --soft HEAD~1 && "
	   "git commit -q --amend -m amended");
	assert_false(changed_since("stories/backlog/B.md", one));
	assert_true(changed_since("stories/backlog/A.md", one));
	assert_false(changed_since("stories/backlog/A.md", two));
	assert_false(changed_since("stories/backlog/D.md", one));
	free(two);
	free(one);
}

/* The value a version holds, in these tests: its first line. */
static bool first_line_is(void *ctx, const char *text, size_t len)
{
	size_t n = strlen(ctx);

	return len > n && memcmp(text, ctx, n) == 0 && text[n] == '\n';
}

/* "held arrived commit" for path's blob (a blob id, or a rev:path) and
 * value. */
static char *origin(struct gitrepo *r, const char *path, const char *blob,
		    const char *value)
{
	struct gitrepo_origin o;
	struct err e = {""};
	char *id = strchr(blob, ':') ? out("git -C repo rev-parse %s", blob)
				     : xstrdup(blob);

	if (!gitrepo_value_origin(r, path, id, first_line_is, (void *)value, &o,
				  &e))
		fail_msg("gitrepo_value_origin: %s", e.msg);
	free(id);
	return xasprintf("%d %d %s", o.held, o.arrived,
			 o.commit[0] ? o.commit : "-");
}

static void check_origin(const char *path, const char *blob, const char *value,
			 const char *want)
{
	struct gitrepo *r = open_ok(repo);
	char *got = origin(r, path, blob, value);

	assert_string_equal(got, want);
	free(got);
	gitrepo_destroy(r);
}

static void test_value_origin(void **state)
{
	char *c1, *c3, *c4, *w;

	sh("cd repo && mkdir -p stories/x stories/y && printf 'k1\\nbody\\n' "
	   "> stories/x/S.md && git add -A && git commit -qm c1");
	c1 = out("git -C repo rev-parse HEAD");
	sh("cd repo && printf 'k1\\nbody 2\\n' > stories/x/S.md && "
	   "git commit -qam c2");
	/* an edit of the rest: the value came with the file in c1 */
	w = xasprintf("1 1 %s", c1);
	check_origin("stories/x/S.md", "HEAD:stories/x/S.md", "k1", w);
	free(w);
	/* a content git does not hold, or a value the file does not hold */
	check_origin("stories/x/S.md",
		     "0123456789012345678901234567890123456789", "k1", "0 0 -");
	check_origin("stories/x/S.md", "HEAD:stories/x/S.md", "k9", "0 0 -");
	/* a commit that changes the value sets it there */
	sh("cd repo && printf 'k2\\nbody 2\\n' > stories/x/S.md && "
	   "git commit -qam c3");
	c3 = out("git -C repo rev-parse HEAD");
	w = xasprintf("1 0 %s", c3);
	check_origin("stories/x/S.md", "HEAD:stories/x/S.md", "k2", w);
	free(w);
	/* moved: the value came with the file in the move */
	sh("cd repo && git mv stories/x/S.md stories/y/S.md && "
	   "git commit -qm c4");
	c4 = out("git -C repo rev-parse HEAD");
	w = xasprintf("1 1 %s", c4);
	check_origin("stories/y/S.md", "HEAD:stories/y/S.md", "k2", w);
	free(w);
	/* staged: a change of the value, then a move of the file */
	sh("cd repo && printf 'k3\\nbody 2\\n' > stories/y/S.md && "
	   "git add stories/y/S.md");
	check_origin("stories/y/S.md", ":stories/y/S.md", "k3", "1 0 -");
	sh("cd repo && git checkout -q -- . && git reset -q --hard && "
	   "git mv stories/y/S.md stories/x/S.md");
	check_origin("stories/x/S.md", ":stories/x/S.md", "k2", "1 1 -");
	/* staged with the value as HEAD has it: traced on from HEAD */
	sh("cd repo && git reset -q --hard && printf 'k2\\nbody 3\\n' > "
	   "stories/y/S.md && git add stories/y/S.md");
	w = xasprintf("1 1 %s", c4);
	check_origin("stories/y/S.md", ":stories/y/S.md", "k2", w);
	free(w);
	free(c4);
	free(c3);
	free(c1);
}

static void test_hooks_dir(void **state)
{
	char *dir = NULL, *want = xasprintf("%s/.git/hooks", repo);
	struct err e = {""};
	struct gitrepo *r = open_ok(repo);

	assert_true(gitrepo_hooks_dir(r, &dir, &e));
	assert_string_equal(dir, want);
	xfree(&dir);
	free(want);
	gitrepo_destroy(r);

	sh("git -C repo config core.hooksPath .githooks");
	r = open_ok(repo);
	want = xasprintf("%s/.githooks", repo);
	assert_true(gitrepo_hooks_dir(r, &dir, &e));
	assert_string_equal(dir, want);
	xfree(&dir);
	free(want);
	gitrepo_destroy(r);

	sh("git -C repo config core.hooksPath '%s/shared-hooks/'", tmp);
	r = open_ok(repo);
	want = xasprintf("%s/shared-hooks", tmp);
	assert_true(gitrepo_hooks_dir(r, &dir, &e));
	assert_string_equal(dir, want);
	xfree(&dir);
	free(want);
	gitrepo_destroy(r);
}

static void test_commit_paths(void **state)
{
	const char *paths[] = {"stories/backlog/A.md", "stories/backlog/B.md",
			       "stories/active/N.md"};
	char id[GITREPO_HEX];
	struct err e = {""};
	struct gitrepo *r;
	char *got, *head;

	/* The user's own staged and unstaged work must stay as it is. */
	sh("cd repo && echo u > U.txt && git add U.txt && "
	   "echo wip >> other/x.md && echo a2 >> stories/backlog/A.md && "
	   "rm stories/backlog/B.md && mkdir -p stories/active && "
	   "echo n > stories/active/N.md");
	r = open_ok(repo);
	assert_true(gitrepo_commit_paths(r, paths, 3, "storysync: sync\n",
					 "storysync", "sync@example.com", id,
					 &e));
	head = out("git -C repo rev-parse HEAD");
	assert_string_equal(id, head);
	got = out("git -C repo show --name-status --format='%%an <%%ae> %%s' "
		  "HEAD");
	assert_string_equal(got, "storysync <sync@example.com> storysync: "
				 "sync\n\n"
				 "A\tstories/active/N.md\n"
				 "M\tstories/backlog/A.md\n"
				 "D\tstories/backlog/B.md");
	free(got);
	got = out("git -C repo status --porcelain");
	assert_string_equal(got, "A  U.txt\n M other/x.md");
	free(got);
	free(head);
	gitrepo_destroy(r);
}

static void test_commit_unborn(void **state)
{
	const char *paths[] = {"S.md"};
	char *dir = xasprintf("%s/fresh", tmp), *got;
	struct err e = {""};
	struct gitrepo *r;

	sh("git init -q fresh && echo s > fresh/S.md");
	r = open_ok(dir);
	assert_true(gitrepo_commit_paths(r, paths, 1, "first", "S", "s@e", NULL,
					 &e));
	got = out("git -C fresh log --format=%%s --name-only");
	assert_string_equal(got, "first\n\nS.md");
	free(got);
	gitrepo_destroy(r);
	free(dir);
}

/* githead_read gives what git rev-parse HEAD gives in dir, or is unsure. */
static void head_agrees(const char *dir, bool sure)
{
	char got[GITHEAD_HEX], *want = out("git -C '%s' rev-parse HEAD", dir);

	assert_int_equal(githead_read(dir, got), sure);
	assert_string_equal(got, sure ? want : "");
	free(want);
}

static void test_githead(void **state)
{
	char *sub = xasprintf("%s/stories/backlog", repo);
	char *wt = xasprintf("%s/wt", tmp);
	char got[GITHEAD_HEX];

	head_agrees(repo, true);
	head_agrees(sub, true); /* found upward, as git does */
	sh("cd repo && git commit -q --allow-empty -m two && "
	   "git pack-refs --all");
	head_agrees(repo, true); /* from packed-refs */
	sh("cd repo && git commit -q --allow-empty -m three");
	head_agrees(repo, true); /* the loose ref wins over the packed one */
	sh("cd repo && git checkout -q --detach HEAD~1");
	head_agrees(repo, true);
	sh("cd repo && git checkout -q main && "
	   "git worktree add -q ../wt -b side HEAD~2");
	head_agrees(wt, true); /* a .git file, refs in the common dir */
	head_agrees(repo, true);
	setenv("GIT_DIR", "repo/.git", 1);
	assert_false(githead_read(repo, got)); /* git's env: only libgit2 */
	unsetenv("GIT_DIR");
	sh("cd repo && git checkout -q --orphan fresh");
	assert_false(githead_read(repo, got)); /* unborn */
	assert_string_equal(got, "");
	assert_false(githead_read(tmp, got)); /* no repository */
	free(wt);
	free(sub);
}

/* The files git ls-files lists in the work tree wt (any stage), one a
 * line: the oracle, git's own reading of its index, asked once for all
 * the paths a check asks of it (a git a path made test_gitrepo's
 * slowest part). */
static char *ls_files(const char *wt)
{
	return out("cd '%s' && env -u GIT_DIR -u GIT_INDEX_FILE git ls-files "
		   "-z | tr '\\0' '\\n'",
		   wt);
}

/* Whether the lines of list (each ending in '\n' but the last) hold
 * line. */
static bool listed(const char *list, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = list; (p = strstr(p, line)); p++)
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/* gitindex_tracked agrees with git ls-files on each of rels in wt (and on
 * the gitrepo_tracked it fronts), or is unsure when sure is false. */
static void index_agrees(const char *wt, const char *const *rels, bool sure)
{
	char *list = ls_files(wt);

	for (size_t i = 0; rels[i]; i++) {
		char *path = xasprintf("%s/%s", wt, rels[i]);
		enum gitindex_answer got = gitindex_tracked(path);
		enum gitindex_answer want = listed(list, rels[i])
						    ? GITINDEX_TRACKED
						    : GITINDEX_UNTRACKED;
		struct err e = {""};
		bool tracked;

		if (got != (sure ? want : GITINDEX_UNSURE))
			fail_msg("%s: got %d, want %d", path, got,
				 sure ? want : GITINDEX_UNSURE);
		/* unsure: libgit2 answers, or fails (core.worktree elsewhere)
		 */
		if ((gitrepo_tracked(path, &tracked, &e) || sure) &&
		    tracked != (want == GITINDEX_TRACKED))
			fail_msg("%s: libgit2 says %d (%s)", path, tracked,
				 e.msg);
		assert_string_equal(e.msg, sure ? "" : e.msg);
		free(path);
	}
	free(list);
}

static const char *const some[] = {
	"stories/backlog/A.md",
	"stories/backlog/B.md",
	"other/x.md",
	"other/y.md",
	"new.md",
	"stories/backlog/A",
	"stories/backlog",
	"stories",
	"zz/deep/name with space.md",
	"stories/backlog/A.md.bak",
	".storysync.local.yml",
	"a/b/c/d/e/f/g/h/i/j/k.md",
	NULL,
};

static void test_gitindex_states(void **state)
{
	char *git = xasprintf("%s/.git", repo);

	sh("cd repo && echo n > new.md && mkdir -p zz/deep a/b/c/d/e/f/g/h/i/j "
	   "&& echo z > 'zz/deep/name with space.md' && echo k > "
	   "a/b/c/d/e/f/g/h/i/j/k.md && git add zz a && git commit -q -m z");
	index_agrees(repo, some, true); /* v2, tracked and untracked */
	fsx_set_read_limit(64);         /* a story's limit is not the index's */
	index_agrees(repo, some, true);
	fsx_set_read_limit(FSX_READ_LIMIT_DEFAULT);
	sh("cd repo && git rm -q --cached other/x.md stories/backlog/B.md");
	index_agrees(repo, some, true); /* after git rm --cached */
	sh("cd repo && echo l > .storysync.local.yml && git add -N "
	   ".storysync.local.yml && echo y > other/y.md && git add -N "
	   "other/y.md");
	index_agrees(repo, some, true); /* v3: intent-to-add's flags */
	sh("cd repo && git update-index --index-version 4");
	index_agrees(repo, some, true); /* v4: prefix-compressed paths */
	sh("cd repo && git update-index --index-version 2 && git reset -q "
	   "&& git add -A && git commit -q -m all && git update-index "
	   "--index-version 4");
	index_agrees(repo, some, true);
	setenv("GIT_INDEX_FILE", "/nonexistent/index", 1);
	index_agrees(repo, some, true); /* the repository's own, as libgit2 */
	unsetenv("GIT_INDEX_FILE");
	setenv("GIT_DIR", git, 1);
	index_agrees(repo, some, false); /* git's env: only libgit2 */
	unsetenv("GIT_DIR");
	sh("cd repo && git update-index --split-index && echo q > q.md && "
	   "git add q.md");
	index_agrees(repo, some, true); /* a split index: read here too */
	sh("cd repo && git update-index --no-split-index");
	index_agrees(repo, some, true);
	free(git);
}

static void test_gitindex_layouts(void **state)
{
	char *wt = xasprintf("%s/wt", tmp), *sub = xasprintf("%s/sub", tmp);
	char *nogit = xasprintf("%s/none/file", tmp);
	char *path = xasprintf("%s/other/x.md", repo);

	sh("cd repo && git worktree add -q ../wt -b side && cd ../wt && "
	   "git rm -q --cached stories/backlog/C.md && echo n > new.md && "
	   "git add new.md");
	index_agrees(wt, some, true); /* a .git file, its own index */
	index_agrees(repo, some, true);
	sh("git init -q --separate-git-dir sep.git sub && cd sub && "
	   "echo a > new.md && git add new.md");
	index_agrees(sub, some, true);
	sh("cd repo && git merge-base HEAD HEAD >/dev/null && git checkout -q "
	   "-b one && echo 1 > other/x.md && git commit -qam 1 && git checkout "
	   "-q main && echo 2 > other/x.md && git commit -qam 2 && "
	   "{ git merge -q one || true; }");
	index_agrees(repo, some, true); /* a conflict: stages 1 to 3 */
	sh("mkdir none");
	assert_int_equal(gitindex_tracked(nogit), GITINDEX_UNTRACKED);
	sh("cd repo && git reset -q --hard && git sparse-checkout set --cone "
	   "--sparse-index stories");
	/* a sparse index: libgit2 (whose search starts in a folder the
	 * sparse checkout removed, so no oracle here) */
	assert_int_equal(gitindex_tracked(path), GITINDEX_UNSURE);
	sh("cd repo && git sparse-checkout disable");
	index_agrees(repo, some, false); /* extensions.worktreeConfig set */
	sh("cd repo && git config core.ignorecase true");
	index_agrees(repo, some, false); /* paths compare another way */
	sh("cd repo && git config core.ignorecase false && "
	   "git config core.worktree /elsewhere");
	assert_int_equal(gitindex_tracked(path), GITINDEX_UNSURE);
	free(path);
	free(nogit);
	free(sub);
	free(wt);
}

/* gitindex_lookup of an exact heap copy of the first len bytes of data,
 * so that ASan sees any read past them. */
static enum gitindex_answer lookup_copy(const unsigned char *data, size_t len,
					const char *rel)
{
	unsigned char *copy = xmalloc(len ? len : 1);
	enum gitindex_answer a;

	memcpy(copy, data, len);
	a = gitindex_lookup(copy, len, rel);
	free(copy);
	return a;
}

/* Every prefix, every byte changed three ways, and random tails: the
 * reader never reads outside the file and only answers for the whole. */
static void corrupt_all(const char *index)
{
	char *path = xasprintf("%s/%s", repo, index), *data = NULL;
	const char *rels[] = {"stories/backlog/A.md", "nothere.md"};
	const unsigned char flips[] = {0x01, 0x80, 0xff};
	unsigned char *u, *m;
	struct file_stat st;
	struct err e = {""};
	size_t len;

	assert_true(fsx_read_at(AT_FDCWD, path, &data, &len, &st, &e));
	u = (unsigned char *)data;
	assert_int_equal(lookup_copy(u, len, rels[0]), GITINDEX_TRACKED);
	assert_int_equal(lookup_copy(u, len, rels[1]), GITINDEX_UNTRACKED);
	/* cut short: unsure, or (cut inside the trailing extensions, the
	 * hash not checked) the same answer from the same entries */
	for (size_t n = 0; n < len; n++)
		for (size_t r = 0; r < 2; r++) {
			enum gitindex_answer a = lookup_copy(u, n, rels[r]);

			if (a != GITINDEX_UNSURE)
				assert_int_equal(a, r ? GITINDEX_UNTRACKED
						      : GITINDEX_TRACKED);
		}
	m = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, u, len);
			m[i] ^= flips[f];
			for (size_t r = 0; r < 2; r++)
				(void)lookup_copy(m, len, rels[r]);
		}
	srand(23);
	for (int k = 0; k < 2000; k++) {
		size_t at = 12 + (size_t)rand() % (len - 12);

		memcpy(m, u, len);
		for (size_t i = at; i < len; i++)
			m[i] = (unsigned char)rand();
		(void)lookup_copy(m, len, rels[k % 2]);
	}
	free(m);
	free(data);
	free(path);
}

static void test_gitindex_corrupt(void **state)
{
	char *path = xasprintf("%s/stories/backlog/A.md", repo);

	sh("cd repo && cp .git/index v2 && echo y > other/y.md && git add -N "
	   "other/y.md && cp .git/index "
	   "v3 && git update-index --index-version 4 && cp .git/index v4");
	corrupt_all("v2");
	corrupt_all("v3");
	corrupt_all("v4");
	/* read from the repository: cut short, then empty */
	sh("cd repo && head -c 100 v2 > .git/index");
	assert_int_equal(gitindex_tracked(path), GITINDEX_UNSURE);
	sh("cd repo && : > .git/index");
	assert_int_equal(gitindex_tracked(path), GITINDEX_UNSURE);
	free(path);
}

/* git's blob for rel in HEAD's tree ("" when none, or not a file): the
 * oracle, git's own reading of HEAD. */
static char *git_head_blob(const char *rel)
{
	return out("cd repo && git ls-tree HEAD -- '%s' | "
		   "awk '$2 == \"blob\" { print $3 }'",
		   rel);
}

/* The index read as HEAD's tree agrees with git on every one of some;
 * false when gitindex_tree_open was unsure. */
static bool head_tree_agrees(void)
{
	char *tree = out("cd repo && git rev-parse 'HEAD^{tree}'");
	struct gitindex_tree *t = gitindex_tree_open(repo, tree);

	free(tree);
	if (!t)
		return false;
	for (size_t i = 0; some[i]; i++) {
		char *path = xasprintf("%s/%s", repo, some[i]);
		char *want = git_head_blob(some[i]), blob[GITINDEX_HEX];
		enum gitindex_answer a = gitindex_tree_blob(t, path, blob);

		if (a == GITINDEX_UNSURE || strcmp(blob, want) != 0)
			fail_msg("%s: got %d '%s', want '%s'", some[i], a, blob,
				 want);
		assert_int_equal(a,
				 *want ? GITINDEX_TRACKED : GITINDEX_UNTRACKED);
		free(want);
		free(path);
	}
	gitindex_tree_free(t);
	return true;
}

/* gitindex_tree_of of an exact heap copy (ASan sees any read past it);
 * a lookup in whatever it returns. */
static void tree_of_copy(const unsigned char *data, size_t len,
			 const char *tree)
{
	unsigned char *copy = xmalloc(len ? len : 1);
	struct gitindex_tree *t;
	char blob[GITINDEX_HEX];

	memcpy(copy, data, len);
	t = gitindex_tree_of(copy, len, tree);
	free(copy);
	if (t)
		(void)gitindex_tree_blob(t, "stories/backlog/A.md", blob);
	gitindex_tree_free(t);
}

/* A heap copy of the file at repo/rel, in *len. */
static unsigned char *read_copy(const char *rel, size_t *len)
{
	char *path = xasprintf("%s/%s", repo, rel), *data = NULL;
	struct file_stat st;
	struct err e = {""};

	assert_true(fsx_read_at(AT_FDCWD, path, &data, len, &st, &e));
	free(path);
	return (unsigned char *)data;
}

/* The size of the index's "link" extension, 0 when it has none: 20 bytes
 * of the shared index's id, then two EWAH bitmaps of 20 bytes or more,
 * more when a bit is set. */
static uint32_t link_size(const unsigned char *d, size_t len)
{
	for (size_t i = 12; i + 8 <= len; i++)
		if (memcmp(d + i, "link", 4) == 0)
			return (uint32_t)d[i + 4] << 24 |
			       (uint32_t)d[i + 5] << 16 |
			       (uint32_t)d[i + 6] << 8 | d[i + 7];
	return 0;
}

/* gitindex_staged agrees with git ls-files -s (stage 0) on each of some:
 * "BLOB<tab>PATH" lines of git's, one listing for all of them. */
static void staged_agrees(void)
{
	char *gitdir = xasprintf("%s/.git", repo);
	char *list = out("cd repo && git ls-files -s | awk -F'\t' "
			 "'{ split($1, a, \" \"); if (a[3] == 0) "
			 "print a[2] \"\t\" $2 }'");

	for (size_t i = 0; some[i]; i++) {
		char blob[GITINDEX_HEX], want[GITINDEX_HEX] = "";
		int rc = gitindex_staged(gitdir, some[i], blob);

		for (const char *p = list; *p;) {
			const char *nl = strchr(p, '\n'),
				   *end = nl ? nl : p + strlen(p);

			if (end - p > GITINDEX_HEX &&
			    (size_t)(end - p) - GITINDEX_HEX ==
				    strlen(some[i]) &&
			    memcmp(p + GITINDEX_HEX, some[i],
				   strlen(some[i])) == 0) {
				memcpy(want, p, GITINDEX_HEX - 1);
				want[GITINDEX_HEX - 1] = '\0';
			}
			p = nl ? nl + 1 : end;
		}
		if (rc != (*want ? 1 : 0) || strcmp(blob, want) != 0)
			fail_msg("%s: got %d '%s', want '%s'", some[i], rc,
				 blob, want);
	}
	free(list);
	free(gitdir);
}

/* The read system calls this process made so far (/proc/self/io's
 * syscr: the kernel's count, not the reader's). */
static long reads_made(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long n = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "syscr: %ld", &n) == 1)
			break;
	fclose(f);
	assert_true(n >= 0);
	return n;
}

/* gitindex_staged asked of many paths reads the index once, not once a
 * path (was: the whole file, and a split one's shared index, each). */
static void staged_read_once(void)
{
	char *gitdir = xasprintf("%s/.git", repo);
	char blob[GITINDEX_HEX];
	long before, after;
	size_t n = 0;

	sh("cd repo && touch .git/index"); /* another stamp: read again */
	assert_int_not_equal(gitindex_staged(gitdir, some[0], blob), -1);
	before = reads_made();
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; some[i]; i++, n++)
			assert_int_not_equal(
				gitindex_staged(gitdir, some[i], blob), -1);
	after = reads_made();
	/* the reads of /proc/self/io itself, two at most each */
	if (after - before > 4)
		fail_msg("%zu questions made %ld reads", n, after - before);
	free(gitdir);
}

/* git's split index (core.splitIndex; gitformat-index(5)): the shared
 * index's entries replaced and deleted by the two EWAH bitmaps of the
 * link extension, new ones added; read against git's own reading. */
static void test_gitindex_split(void **state)
{
	unsigned char *d;
	size_t len;

	sh("cd repo && git config splitIndex.maxPercentChange 100 && "
	   "git update-index --split-index && echo c > stories/backlog/A.md && "
	   "git add stories/backlog/A.md && git rm -q --cached other/x.md && "
	   "echo n > new.md && git add new.md && mkdir -p zz/deep && "
	   "echo z > 'zz/deep/name with space.md' && git add zz");
	d = read_copy(".git/index", &len);
	/* both bitmaps hold set bits: a word of literal bits each */
	assert_true(link_size(d, len) >= 20 + 2 * 28);
	free(d);
	index_agrees(repo, some, true);
	staged_agrees();
	sh("cd repo && git commit -q -m split && git rm -q --cached "
	   "other/y.md && git add -N .storysync.local.yml 2>/dev/null; "
	   "echo l > .storysync.local.yml && git add -N .storysync.local.yml");
	index_agrees(repo, some, true);
	staged_agrees();
	sh("cd repo && git reset -q && git commit -q --allow-empty -m t");
	assert_true(head_tree_agrees()); /* its cache tree in the split file */
	sh("cd repo && git update-index --index-version 4 && echo v4 > "
	   "other/y.md && git add other/y.md");
	index_agrees(repo, some, true); /* v4 names, nameless replacements */
	staged_agrees();
	staged_read_once();
}

/* Every prefix and every byte flipped of a split index and of its shared
 * index: never a read outside either (ASan), and the shared index not
 * the one the link names is never read. */
static void test_gitindex_split_corrupt(void **state)
{
	unsigned char *d, *sh_data, *m;
	size_t len, slen;
	char *name;
	const char *rel = "stories/backlog/A.md";

	sh("cd repo && git config splitIndex.maxPercentChange 100 && "
	   "git update-index --split-index && echo c > stories/backlog/A.md && "
	   "git add stories/backlog/A.md && git rm -q --cached other/x.md && "
	   "echo n > new.md && git add new.md");
	name = out("cd repo/.git && ls sharedindex.*");
	d = read_copy(".git/index", &len);
	{
		char *rel_shared = xasprintf(".git/%s", name);

		sh_data = read_copy(rel_shared, &slen);
		free(rel_shared);
	}
	assert_int_equal(gitindex_lookup_split(d, len, sh_data, slen, rel),
			 GITINDEX_TRACKED);
	assert_int_equal(
		gitindex_lookup_split(d, len, sh_data, slen, "other/x.md"),
		GITINDEX_UNTRACKED);
	assert_int_equal(gitindex_lookup_split(d, len, NULL, 0, rel),
			 GITINDEX_UNSURE); /* the shared one not read */
	assert_int_equal(gitindex_lookup(d, len, rel), GITINDEX_UNSURE);
	/* the shared index cut by its last byte: not the one named */
	assert_int_equal(gitindex_lookup_split(d, len, sh_data, slen - 1, rel),
			 GITINDEX_UNSURE);
	for (size_t n = 0; n <= len; n++) {
		m = xmalloc(n ? n : 1);
		memcpy(m, d, n);
		(void)gitindex_lookup_split(m, n, sh_data, slen, rel);
		free(m);
	}
	for (size_t n = 0; n <= slen; n++) {
		m = xmalloc(n ? n : 1);
		memcpy(m, sh_data, n);
		(void)gitindex_lookup_split(d, len, m, n, rel);
		gitindex_tree_free(gitindex_tree_split(
			d, len, m, n,
			"0123456789012345678901234567890123456789"));
		free(m);
	}
	m = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		for (unsigned f = 1; f < 256; f <<= 1) {
			memcpy(m, d, len);
			m[i] ^= (unsigned char)f;
			(void)gitindex_lookup_split(m, len, sh_data, slen, rel);
		}
	free(m);
	m = xmalloc(slen);
	for (size_t i = 0; i < slen; i++) {
		memcpy(m, sh_data, slen);
		m[i] ^= 0xff;
		(void)gitindex_lookup_split(d, len, m, slen, rel);
	}
	free(m);
	free(sh_data);
	free(d);
	free(name);
}

/* The index changed through gitindex_edit (a split one, written back
 * plain), against git's reading: ls-files -s, status, a split again; the
 * lock is git's index.lock. */
static void test_gitindex_edit(void **state)
{
	char *gitdir = xasprintf("%s/.git", repo), *blob, *want;
	struct gitindex_edit *ed;
	struct err e = {""};
	bool unsure;

	sh("cd repo && git config core.splitIndex true && "
	   "git config splitIndex.maxPercentChange 100 && "
	   "git update-index --split-index && echo s > staged.md && "
	   "git add staged.md && git rm -q --cached other/x.md && "
	   "echo c > stories/backlog/A.md && echo n > new.md && "
	   "rm stories/backlog/B.md");
	blob = out("cd repo && git hash-object -w stories/backlog/A.md");
	sh("cd repo && : > .git/index.lock");
	assert_null(gitindex_edit_open(gitdir, repo, &unsure, &e));
	assert_false(unsure);
	assert_non_null(strstr(e.msg, "index.lock: File exists"));
	sh("cd repo && rm .git/index.lock");
	ed = gitindex_edit_open(gitdir, repo, &unsure, &e);
	assert_non_null(ed);
	assert_true(gitindex_edit_set(ed, "stories/backlog/A.md", blob, 0100644,
				      &e));
	free(blob);
	blob = out("cd repo && git hash-object -w new.md");
	assert_true(gitindex_edit_set(ed, "new.md", blob, 0100644, &e));
	assert_true(gitindex_edit_set(ed, "stories/backlog/B.md", NULL, 0, &e));
	assert_true(gitindex_edit_commit(ed, &e));
	free(blob);
	want = out("cd repo && git status --porcelain | tr '\n' ,");
	assert_string_equal(want, "A  new.md,D  other/x.md,A  staged.md,"
				  "M  stories/backlog/A.md,"
				  "D  stories/backlog/B.md,?? other/,");
	free(want);
	want = out("cd repo && test ! -e .git/index.lock && git diff "
		   "--name-only | wc -l && git update-index --split-index && "
		   "git status --porcelain | wc -l");
	assert_string_equal(want, "0\n6");
	free(want);
	free(gitdir);
}

/* A file changed after its blob was hashed and before the edit took its
 * stat data (the user's write while a run commits): git must still see
 * the change, as it does for git add's (stat, then read). */
static void test_gitindex_edit_late(void **state)
{
	char *gitdir = xasprintf("%s/.git", repo), *blob, *got;
	struct gitindex_edit *ed;
	struct err e = {""};
	bool unsure;

	sh("cd repo && git config core.splitIndex true && "
	   "git update-index --split-index && echo c > stories/backlog/A.md");
	ed = gitindex_edit_open(gitdir, repo, &unsure, &e);
	assert_non_null(ed);
	blob = out("cd repo && git hash-object -w stories/backlog/A.md");
	sh("cd repo && echo d > stories/backlog/A.md"); /* the same size */
	assert_true(gitindex_edit_set(ed, "stories/backlog/A.md", blob, 0100644,
				      &e));
	assert_true(gitindex_edit_commit(ed, &e));
	free(blob);
	/* the index file's time a minute on, as seconds after the change:
	 * git no longer reads a file for its time alone (racy) */
	sh("cd repo && touch -d \"@$(($(date +%%s) + 60))\" .git/index");
	got = out("cd repo && git --no-optional-locks status --porcelain "
		  "stories/backlog/A.md && git diff stories/backlog/A.md | "
		  "grep '^[-+][cd]' | tr '\n' ,");
	assert_string_equal(got, "MM stories/backlog/A.md\n-c,+d,");
	free(got);
	free(gitdir);
}

/* The index as HEAD's tree (the cache tree's root), against git's HEAD:
 * only while nothing is staged; a wrong tree, a staged change, a conflict
 * and every damaged copy of the file make it unsure, never wrong. */
static void test_gitindex_head(void **state)
{
	char *tree, *index = xasprintf("%s/.git/index", repo), *data = NULL;
	struct gitindex_tree *t;
	struct file_stat st;
	struct err e = {""};
	size_t len;

	sh("cd repo && mkdir -p zz/deep && echo z > 'zz/deep/name with "
	   "space.md' && git add zz && git commit -q -m z");
	assert_true(head_tree_agrees()); /* git commit writes the cache tree */
	assert_null(gitindex_tree_open(
		repo, "0123456789012345678901234567890123456789"));
	sh("cd repo && echo edited > stories/backlog/A.md");
	assert_true(head_tree_agrees()); /* an edit not staged: HEAD's blob */
	sh("cd repo && git add stories/backlog/A.md");
	assert_false(head_tree_agrees()); /* staged: the index is not HEAD */
	sh("cd repo && git reset -q");
	/* unstaged, the root stays invalid (git reset --mixed leaves it so
	 * until the next commit, checkout or reset --hard): libgit2's */
	assert_false(head_tree_agrees());
	sh("cd repo && git reset -q --hard && git update-index "
	   "--index-version 4");
	assert_true(head_tree_agrees()); /* reset --hard writes it; v4 */
	sh("cd repo && echo n > new.md && git add -N new.md");
	if (head_tree_agrees()) { /* intent-to-add: new.md is no tree's */
		tree = out("cd repo && git rev-parse 'HEAD^{tree}'");
		t = gitindex_tree_open(repo, tree);
		char *p = xasprintf("%s/new.md", repo), blob[GITINDEX_HEX];

		assert_int_equal(gitindex_tree_blob(t, p, blob),
				 GITINDEX_UNSURE);
		free(p);
		gitindex_tree_free(t);
		free(tree);
	}
	sh("cd repo && git rm -q --cached new.md && rm new.md && "
	   "git update-index --index-version 2 && git reset -q --hard");
	assert_true(head_tree_agrees());
	tree = out("cd repo && git rev-parse 'HEAD^{tree}'");
	assert_true(fsx_read_at(AT_FDCWD, index, &data, &len, &st, &e));
	for (size_t n = 0; n < len; n++)
		tree_of_copy((unsigned char *)data, n, tree);
	for (size_t i = 0; i < len; i++)
		for (unsigned f = 1; f < 256; f <<= 1) {
			data[i] ^= (char)f;
			tree_of_copy((unsigned char *)data, len, tree);
			data[i] ^= (char)f;
		}
	free(data);
	free(tree);
	sh("cd repo && git checkout -q -b one && echo 1 > other/x.md && "
	   "git commit -qam 1 && git checkout -q main && echo 2 > other/x.md "
	   "&& git commit -qam 2 && { git merge -q one || true; }");
	assert_false(head_tree_agrees()); /* a conflict */
	free(index);
}

/* gitobj_commit_tree of rev (as git rev-parse names it) in dir: git's
 * own tree of it, the oracle, or (not sure) unsure. */
static void tree_agrees(const char *dir, const char *rev, bool sure)
{
	char *commit = out("git -C '%s' rev-parse '%s'", dir, rev);
	char *want = out("git -C '%s' rev-parse '%s^{tree}'", dir, rev);
	char got[GITOBJ_HEX];

	assert_int_equal(gitobj_commit_tree(dir, commit, got), sure);
	assert_string_equal(got, sure ? want : "");
	free(want);
	free(commit);
}

/* Right or unsure, for the commit rev. */
static bool tree_right_or_unsure(const char *dir, const char *rev)
{
	char *commit = out("git -C '%s' rev-parse '%s'", dir, rev);
	char *want = out("git -C '%s' rev-parse '%s^{tree}'", dir, rev);
	char got[GITOBJ_HEX];
	bool sure = gitobj_commit_tree(dir, commit, got);

	assert_string_equal(got, sure ? want : "");
	free(want);
	free(commit);
	return sure;
}

static void test_gitobj_loose(void **state)
{
	char *sub = xasprintf("%s/stories/backlog", repo);
	char *tree = out("cd repo && git rev-parse HEAD^{tree}");
	char *blob = out("cd repo && git rev-parse HEAD:other/x.md");
	char *commit = out("cd repo && git rev-parse HEAD");
	char got[GITOBJ_HEX];

	tree_agrees(repo, "HEAD", true); /* a loose commit */
	tree_agrees(sub, "HEAD", true);  /* found upward */
	/* ids of other objects, or of none: not a commit's tree */
	assert_false(gitobj_commit_tree(repo, tree, got));
	assert_string_equal(got, "");
	assert_false(gitobj_commit_tree(repo, blob, got));
	assert_false(gitobj_commit_tree(
		repo, "0123456789012345678901234567890123456789", got));
	assert_false(gitobj_commit_tree(repo, "HEAD", got));
	assert_false(gitobj_commit_tree(tmp, tree, got)); /* no repository */
	/* a loose commit that is some other object's bytes: its hash says */
	sh("cd repo && c=$(git rev-parse HEAD) && b=$(git rev-parse "
	   "HEAD:other/x.md) && f=.git/objects/${c%%${c#??}}/${c#??} && "
	   "chmod u+w $f && cp .git/objects/${b%%${b#??}}/${b#??} $f");
	assert_false(gitobj_commit_tree(repo, commit, got));
	assert_string_equal(got, "");
	free(commit);
	free(blob);
	free(tree);
	free(sub);
}

static void test_gitobj_packed(void **state)
{
	sh("cd repo && for i in 1 2 3 4 5 6; do echo $i >> other/x.md && "
	   "git commit -qam \"c$i\"; done && git gc -q && "
	   "test -z \"$(find .git/objects -path '*/pack' -prune -o -type f "
	   "-print | grep -v info)\"");
	tree_agrees(repo, "HEAD", true); /* the newest is never a delta */
	for (int i = 1; i <= 6; i++) {
		char rev[24];

		snprintf(rev, sizeof(rev), "HEAD~%d", i);
		(void)tree_right_or_unsure(repo, rev);
	}
	/* a newer loose commit beside the pack */
	sh("cd repo && git commit -q --allow-empty -m loose");
	tree_agrees(repo, "HEAD", true);
	tree_agrees(repo, "HEAD~1", true);
	/* a second pack */
	sh("cd repo && git repack -q && git commit -q --allow-empty -m x && "
	   "git repack -q");
	tree_agrees(repo, "HEAD", true);
	tree_agrees(repo, "HEAD~1", true);
}

/* Commits stored as deltas (git verify-pack lists a base for them): the
 * reader leaves them to libgit2; the whole ones it reads. */
static void test_gitobj_delta(void **state)
{
	char *list, *line, *trees;
	int deltas = 0, whole = 0;

	/* forty commits alike in one git fast-import (a git commit each
	 * was most of this test's time) */
	sh("cd repo && for i in $(seq 1 40); do printf 'commit "
	   "refs/heads/main\\ncommitter Ann <ann@example.com> %%d "
	   "+0000\\ndata <<EOM\\na long message that stays the same from "
	   "one commit to the next one, so that git repack finds the "
	   "commits alike: %%d\\nEOM\\n' $((1700000000 + i)) $i; "
	   "[ $i = 1 ] && echo 'from refs/heads/main^0'; done | "
	   "git fast-import --quiet && git repack -q -adf --depth=50 "
	   "--window=250");
	list = out("cd repo && git verify-pack -v .git/objects/pack/*.idx | "
		   "awk '$2 == \"commit\" { print $1, NF }'");
	/* the oracle: each commit's tree as git reads it, one git log */
	trees = out("cd repo && git log --format='%%H %%T' main");
	for (line = list; line && *line;) {
		char *nl = strchr(line, '\n'), id[GITOBJ_HEX], got[GITOBJ_HEX];
		char want[GITOBJ_HEX], *at;
		int nf = atoi(line + GITOBJ_HEX);
		bool sure;

		memcpy(id, line, GITOBJ_HEX - 1);
		id[GITOBJ_HEX - 1] = '\0';
		at = strstr(trees, id);
		assert_non_null(at);
		memcpy(want, at + GITOBJ_HEX, GITOBJ_HEX - 1);
		want[GITOBJ_HEX - 1] = '\0';
		sure = gitobj_commit_tree(repo, id, got);
		assert_string_equal(got, sure ? want : "");
		/* 5 fields whole, 7 with a delta's depth and base */
		assert_true(nf == 5 || nf == 7);
		assert_int_equal(sure, nf == 5);
		deltas += nf == 7;
		whole += nf == 5;
		line = nl ? nl + 1 : NULL;
	}
	assert_true(whole > 0);
	if (!deltas)
		print_message("no commit stored as a delta: none tested\n");
	free(trees);
	free(list);
}

/* whether path changed since since, a move from was (or NULL) not
 * counted: the repository opened for the question, as a run opens it */
static bool changed(const char *path, const char *was, const char *since)
{
	struct gitrepo *r = open_ok(repo);
	struct err e = {""};
	bool yes = false;

	if (!gitrepo_path_changed(r, path, was, since, &yes, &e))
		fail_msg("gitrepo_path_changed(%s): %s", path, e.msg);
	gitrepo_destroy(r);
	return yes;
}

/* A directory git mv'd (staged, then committed) moved its files' versions
 * unchanged: with the path they came from, no change; an edit after the
 * move, or a copy (the old path still there), is one. */
static void test_path_changed_moved(void **state)
{
	char *one = out("cd repo && git rev-parse HEAD");

	(void)state;
	assert_false(changed("stories/backlog/A.md", NULL, one));
	sh("cd repo && git mv stories/backlog stories/todo");
	assert_true(changed("stories/todo/A.md", NULL, one));
	assert_false(changed("stories/todo/A.md", "stories/backlog/A.md", one));
	/* not where it came from */
	assert_true(changed("stories/todo/A.md", "stories/backlog/B.md", one));
	sh("cd repo && git commit -q -m todo");
	assert_true(changed("stories/todo/A.md", NULL, one));
	assert_false(changed("stories/todo/A.md", "stories/backlog/A.md", one));
	sh("cd repo && echo more >> stories/todo/B.md && git commit -q -am b");
	assert_true(changed("stories/todo/B.md", "stories/backlog/B.md", one));
	assert_false(changed("stories/todo/C.md", "stories/backlog/C.md", one));
	/* a copy: the version it came from is still there */
	sh("cd repo && mkdir other2 && cp other/x.md other2/ && "
	   "git add other2 && git commit -q -m copy");
	assert_true(changed("other2/x.md", "other/x.md", one));
	free(one);
}

/* whether git's one change to path since since removed blob (path's
 * version at since) or, added, added it */
static bool one_change(const char *path, const char *blob, const char *since,
		       bool added)
{
	struct gitrepo *r = open_ok(repo);
	struct err e = {""};
	bool yes = false;

	if (!gitrepo_path_one_change(r, path, blob, since, added, &yes, &e))
		fail_msg("gitrepo_path_one_change(%s): %s", path, e.msg);
	gitrepo_destroy(r);
	return yes;
}

static bool removed(const char *path, const char *blob, const char *since)
{
	return one_change(path, blob, since, false);
}

static bool added(const char *path, const char *blob, const char *since)
{
	return one_change(path, blob, since, true);
}

/* A directory moved by hand (mv, git not told): its files' removal
 * staged (add -u) or committed (commit -a) is the one change at the old
 * paths, their addition after (staged, committed) the one at the new;
 * one still there, another version, an edit before the removal, a
 * removal before since, or one put back are not. */
static void test_path_one_change(void **state)
{
	char *one = out("cd repo && git rev-parse HEAD");
	char *a = out("cd repo && git rev-parse HEAD:stories/backlog/A.md");
	char *b = out("cd repo && git rev-parse HEAD:stories/backlog/B.md");
	char *two, *three, *c;

	(void)state;
	assert_false(removed("stories/backlog/A.md", a, one));
	sh("cd repo && mv stories/backlog stories/todo");
	/* git not told */
	assert_false(removed("stories/backlog/A.md", a, one));
	assert_false(added("stories/todo/A.md", a, one));
	sh("cd repo && git add -u");
	assert_true(removed("stories/backlog/A.md", a, one));
	assert_false(removed("stories/backlog/A.md", b, one));
	sh("cd repo && git commit -q -m todo");
	assert_true(removed("stories/backlog/A.md", a, one));
	assert_true(removed("stories/backlog/B.md", b, one));
	assert_false(added("stories/todo/A.md", a, one)); /* not in git */
	/* the new place added after: staged, then committed */
	sh("cd repo && git add stories/todo");
	assert_true(added("stories/todo/A.md", a, one));
	assert_false(added("stories/todo/A.md", b, one));
	sh("cd repo && git commit -q -m add");
	assert_true(added("stories/todo/A.md", a, one));
	assert_false(removed("stories/todo/A.md", a, one));
	sh("cd repo && git reset -q --soft HEAD~1 && git reset -q");
	two = out("cd repo && git rev-parse HEAD");
	/* removed before since: git's version at since is none */
	assert_false(removed("stories/backlog/A.md", a, two));
	/* an edit committed before the removal */
	sh("cd repo && mv stories/todo stories/backlog && git add -A && "
	   "git commit -q -m back");
	three = out("cd repo && git rev-parse HEAD");
	sh("cd repo && echo more >> stories/backlog/C.md && "
	   "git commit -q -am c && mv stories/backlog stories/todo && "
	   "git commit -q -am todo2");
	c = out("cd repo && git rev-parse HEAD~1:stories/backlog/C.md");
	assert_false(removed("stories/backlog/C.md", c, three));
	assert_true(removed("stories/backlog/A.md", a, three));
	/* not since one: removed, then added, between */
	assert_false(removed("stories/backlog/A.md", a, one));
	/* put back: git holds it again */
	sh("cd repo && git checkout -q HEAD~1 -- stories/backlog/A.md");
	assert_false(removed("stories/backlog/A.md", a, three));
	free(c);
	free(three);
	free(two);
	free(b);
	free(a);
	free(one);
}

/* The paths of a commit's tree (below a directory) holding a blob,
 * counted up to max: a copy counts twice, a later move or removal not at
 * all; a directory with none, a commit not in the store: none. */
static size_t holds(const char *commit, const char *dir, const char *blob,
		    size_t max)
{
	struct gitrepo *r = open_ok(repo);
	struct err e = {""};
	size_t n = 99;

	if (!gitrepo_commit_holds(r, commit, dir, blob, max, &n, &e))
		fail_msg("gitrepo_commit_holds(%s): %s", dir, e.msg);
	gitrepo_destroy(r);
	return n;
}

static void test_commit_holds(void **state)
{
	char *one = out("cd repo && git rev-parse HEAD");
	char *a = out("cd repo && git rev-parse HEAD:stories/backlog/A.md");
	char *x = out("cd repo && git rev-parse HEAD:other/x.md");
	char *two;
	struct gitrepo *r;
	struct err e = {""};
	size_t n = 99;

	(void)state;
	assert_int_equal(holds(one, "", a, 2), 1);
	assert_int_equal(holds(one, "stories", a, 2), 1);
	assert_int_equal(holds(one, "other", a, 2), 0);
	assert_int_equal(holds(one, "nowhere", a, 2), 0);
	assert_int_equal(holds(one, "other/x.md", x, 2), 0); /* a file */
	assert_int_equal(holds(one, "", a, 0), 0);
	/* a copy committed: two paths, counted up to max */
	sh("cd repo && mkdir -p stories/active && "
	   "cp stories/backlog/A.md stories/active/A.md && git add -A && "
	   "git commit -q -m copy");
	two = out("cd repo && git rev-parse HEAD");
	assert_int_equal(holds(two, "", a, 3), 2);
	assert_int_equal(holds(two, "", a, 1), 1);
	assert_int_equal(holds(two, "stories/active", a, 3), 1);
	/* moved since, staged and committed: the commit's tree decides */
	sh("cd repo && git mv stories todo && git commit -q -m moved");
	assert_int_equal(holds(two, "stories", a, 3), 2);
	assert_int_equal(holds(two, "todo", a, 3), 0);
	/* a commit the store does not hold: none, no error */
	assert_int_equal(
		holds("0123456789012345678901234567890123456789", "", a, 2), 0);
	r = open_ok(repo);
	assert_false(gitrepo_commit_holds(r, "not-a-commit", "", a, 2, &n, &e));
	assert_string_equal(e.msg, "git: not-a-commit: not a commit id");
	gitrepo_destroy(r);
	free(two);
	free(x);
	free(a);
	free(one);
}

/* History rewritten between two runs (an amend of the commit the last
 * run recorded, a rebase onto another line): HEAD's first parents no
 * longer reach since, and the commits on the way are replays, no one's
 * change (two's y.md, added again over side); git's version at since
 * against HEAD's and the index's decides. A commit since gone (gc'd): as
 * each question's answer that keeps both sides. */
static void test_path_rewritten(void **state)
{
	const char *gone = "0123456789abcdef0123456789abcdef01234567";
	char *a = out("cd repo && git rev-parse HEAD:stories/backlog/A.md");
	char *b = out("cd repo && git rev-parse HEAD:stories/backlog/B.md");
	char *two;

	(void)state;
	sh("cd repo && git branch side \"$(git commit-tree -p HEAD -m side "
	   "'HEAD^{tree}')\" && echo y > other/y.md && git add other && "
	   "git commit -q -m two");
	two = out("cd repo && git rev-parse HEAD");
	sh("cd repo && mv stories/backlog stories/todo && "
	   "git commit -q --amend -am todo");
	assert_true(removed("stories/backlog/A.md", a, two));
	assert_false(removed("stories/backlog/A.md", b, two));
	assert_false(changed("other/y.md", NULL, two));
	sh("cd repo && git add stories/todo && git commit -q -m add && "
	   "git rebase -q side");
	assert_true(removed("stories/backlog/A.md", a, two));
	assert_true(added("stories/todo/A.md", a, two));
	assert_false(changed("other/y.md", NULL, two));
	assert_false(changed("stories/todo/A.md", "stories/backlog/A.md", two));
	assert_true(changed("stories/todo/A.md", NULL, two));
	/* a change made after the rewrite is one */
	sh("cd repo && echo more >> stories/todo/B.md && git commit -q -am b");
	assert_true(changed("stories/todo/B.md", "stories/backlog/B.md", two));
	assert_false(added("stories/todo/B.md", b, two));
	/* since gone */
	assert_true(removed("stories/backlog/A.md", a, gone));
	assert_true(added("stories/todo/A.md", a, gone));
	assert_false(removed("stories/todo/A.md", a, gone));
	assert_false(changed("stories/todo/B.md", NULL, gone));
	sh("cd repo && echo z >> stories/todo/B.md && git add -u");
	assert_true(changed("stories/todo/B.md", NULL, gone));
	free(two);
	free(b);
	free(a);
}

static void test_gitobj_layouts(void **state)
{
	char *wt = xasprintf("%s/wt", tmp), *clone = xasprintf("%s/cl", tmp);
	char *sh_ = xasprintf("%s/sh", tmp), *git = xasprintf("%s/.git", repo);
	char *objects = xasprintf("%s/.git/objects", repo);

	tree_agrees(repo, "HEAD", true);
	setenv("GIT_DIR", git, 1);
	tree_agrees(repo, "HEAD", false); /* git's env: only libgit2 */
	unsetenv("GIT_DIR");
	setenv("GIT_OBJECT_DIRECTORY", objects, 1);
	tree_agrees(repo, "HEAD", false);
	unsetenv("GIT_OBJECT_DIRECTORY");
	sh("cd repo && git worktree add -q ../wt -b side");
	tree_agrees(wt, "HEAD", false); /* a .git file */
	sh("git clone -q -s repo cl");
	tree_agrees(clone, "HEAD", false); /* alternates */
	sh("cd repo && git commit -q --allow-empty -m two && cd .. && "
	   "git clone -q --depth 1 file://%s/repo sh",
	   tmp);
	tree_agrees(sh_, "HEAD", false); /* shallow */
	sh("cd repo && git replace -f HEAD HEAD~1");
	tree_agrees(repo, "HEAD", false); /* a replace ref */
	sh("cd repo && git replace -d HEAD && git pack-refs --all && "
	   "git replace -f HEAD HEAD~1 && git pack-refs --all");
	tree_agrees(repo, "HEAD", false); /* a packed replace ref */
	sh("cd repo && git replace -d HEAD && git pack-refs --all");
	tree_agrees(repo, "HEAD", true);
	sh("cd repo && git config include.path other.cfg");
	tree_agrees(repo, "HEAD", false);
	free(objects);
	free(git);
	free(sh_);
	free(clone);
	free(wt);
}

/* An exact heap copy of the first len bytes of data, so that ASan sees
 * any read past them. */
static unsigned char *copy_of(const unsigned char *data, size_t len)
{
	unsigned char *c = xmalloc(len ? len : 1);

	memcpy(c, data, len);
	return c;
}

static bool loose_copy(const unsigned char *data, size_t len,
		       const char *commit, char tree[GITOBJ_HEX])
{
	unsigned char *c = copy_of(data, len);
	bool ok = gitobj_loose_tree(c, len, commit, tree);

	free(c);
	return ok;
}

static bool pack_copy(const unsigned char *data, size_t len, uint64_t off,
		      const char *commit, char tree[GITOBJ_HEX])
{
	unsigned char *c = copy_of(data, len);
	bool ok = gitobj_pack_tree(c, len, off, commit, tree);

	free(c);
	return ok;
}

static enum gitobj_found idx_copy(const unsigned char *data, size_t len,
				  const unsigned char id[20], uint64_t *off)
{
	unsigned char *c = copy_of(data, len);
	enum gitobj_found f = gitobj_idx_find(c, len, id, off);

	free(c);
	return f;
}

static char *slurp_file(const char *path, size_t *len)
{
	struct file_stat st;
	struct err e = {""};
	char *data = NULL;

	if (!fsx_read_at(AT_FDCWD, path, &data, len, &st, &e))
		fail_msg("%s: %s", path, e.msg);
	return data;
}

static void raw_id(const char *hex, unsigned char id[20])
{
	for (int i = 0; i < 20; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		id[i] = (unsigned char)v;
	}
}

/* Every prefix, every byte changed three ways, and random tails, of a
 * loose commit, a pack index and a pack: never a read outside the file,
 * and the right tree or unsure. */
static void test_gitobj_corrupt(void **state)
{
	const unsigned char flips[] = {0x01, 0x80, 0xff};
	char *commit = out("cd repo && git rev-parse HEAD");
	char *want = out("cd repo && git rev-parse HEAD^{tree}");
	char *path =
		xasprintf("%s/.git/objects/%.2s/%s", repo, commit, commit + 2);
	char *idxp, *packp, got[GITOBJ_HEX];
	unsigned char id[20], *u, *m;
	size_t len, ilen, plen;
	uint64_t off = 0, o2;
	char *data, *idx, *pack;

	raw_id(commit, id);
	/* the loose object */
	data = slurp_file(path, &len);
	u = (unsigned char *)data;
	assert_true(loose_copy(u, len, commit, got));
	assert_string_equal(got, want);
	for (size_t n = 0; n < len; n++)
		if (loose_copy(u, n, commit, got))
			assert_string_equal(got, want);
	m = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, u, len);
			m[i] ^= flips[f];
			if (loose_copy(m, len, commit, got))
				assert_string_equal(got, want);
		}
	free(m);
	free(data);
	/* packed: one pack of this one commit's objects */
	sh("cd repo && git gc -q && cp .git/objects/pack/pack-*.idx the.idx && "
	   "cp .git/objects/pack/pack-*.pack the.pack");
	idxp = xasprintf("%s/the.idx", repo);
	packp = xasprintf("%s/the.pack", repo);
	idx = slurp_file(idxp, &ilen);
	pack = slurp_file(packp, &plen);
	assert_int_equal(idx_copy((unsigned char *)idx, ilen, id, &off),
			 GITOBJ_AT);
	assert_true(pack_copy((unsigned char *)pack, plen, off, commit, got));
	assert_string_equal(got, want);
	/* the index: cut short, changed; what it then gives is looked up in
	 * the intact pack */
	u = (unsigned char *)idx;
	m = xmalloc(ilen);
	for (size_t i = 0; i <= ilen; i++)
		for (size_t f = 0; f <= sizeof(flips); f++) {
			size_t n = f == sizeof(flips) ? i : ilen;

			if (i == ilen && n == ilen)
				continue;
			memcpy(m, u, ilen);
			if (n == ilen)
				m[i] ^= flips[f];
			if (idx_copy(m, n, id, &o2) == GITOBJ_AT &&
			    pack_copy((unsigned char *)pack, plen, o2, commit,
				      got))
				assert_string_equal(got, want);
		}
	free(m);
	/* the pack: cut short, changed, random tails from the entry on */
	u = (unsigned char *)pack;
	m = xmalloc(plen);
	for (size_t n = 0; n < plen; n++)
		if (pack_copy(u, n, off, commit, got))
			assert_string_equal(got, want);
	for (size_t i = 0; i < plen; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(m, u, plen);
			m[i] ^= flips[f];
			if (pack_copy(m, plen, off, commit, got))
				assert_string_equal(got, want);
		}
	srand(26);
	for (int k = 0; k < 2000; k++) {
		size_t at = (size_t)off + (size_t)rand() % (plen - (size_t)off);

		memcpy(m, u, plen);
		for (size_t i = at; i < plen; i++)
			m[i] = (unsigned char)rand();
		if (pack_copy(m, plen, off, commit, got))
			assert_string_equal(got, want);
		/* and any offset at all */
		(void)pack_copy(u, plen, (uint64_t)rand() % (plen + 4), commit,
				got);
	}
	free(m);
	/* from the repository: a pack cut short is unsure */
	sh("cd repo/.git/objects/pack && for p in pack-*.pack; do chmod u+w "
	   "$p && head -c 40 $p > x && mv x $p; done");
	assert_false(gitobj_commit_tree(repo, commit, got));
	free(pack);
	free(idx);
	free(packp);
	free(idxp);
	free(path);
	free(want);
	free(commit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_subdir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_not_a_repo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_worktree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_bare, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_shallow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_unborn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_detached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diff_bad_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_merge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_is_ancestor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_has_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_value_origin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hooks_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_unborn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_githead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_head, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_layouts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_split, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_split_corrupt,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_edit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_edit_late, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitindex_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitobj_loose, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitobj_packed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitobj_delta, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_one_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_rewritten, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_holds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_changed_moved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitobj_layouts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gitobj_corrupt, setup,
						teardown),
	};

	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
