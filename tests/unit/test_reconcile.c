/* test_reconcile.c: a configuration change's plan, pure: which recorded
 * stage and backlog each one is now, the names and paths they give, and
 * the old names a file's keys are read with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "mem.h"
#include "reconcile.h"

/* A configuration of "status:dir" stages and "name:path" backlogs (a
 * NULL-terminated list each), its strings borrowed. */
struct layout {
	struct config c;
	struct config_stage st[8];
	struct config_backlog bl[8];
};

static void layout(struct layout *l, const char *const *stages,
		   const char *const *backlogs)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; stages[i]; i++) {
		const char *colon = strchr(stages[i], ':');

		l->st[i].status = xstrndup(stages[i], colon - stages[i]);
		l->st[i].dir = xstrdup(colon + 1);
		l->c.nstages++;
	}
	for (size_t i = 0; backlogs[i]; i++) {
		const char *colon = strchr(backlogs[i], ':');

		l->bl[i].name = xstrndup(backlogs[i], colon - backlogs[i]);
		l->bl[i].path = xstrdup(colon + 1);
		l->c.nbacklogs++;
	}
	l->c.stages = l->st;
	l->c.backlogs = l->bl;
}

static void layout_finish(struct layout *l)
{
	for (size_t i = 0; i < l->c.nstages; i++) {
		free(l->st[i].status);
		free(l->st[i].dir);
	}
	for (size_t i = 0; i < l->c.nbacklogs; i++) {
		free(l->bl[i].name);
		free(l->bl[i].path);
	}
}

/* r planned from the record was (taken over) to the configuration now,
 * through the versions r->history holds. */
static void plan_keep(struct reconcile *r, struct layout *was,
		      const struct layout *now, char **former_status)
{
	r->c = &now->c;
	r->rec.stages = xcalloc(was->c.nstages + 1, sizeof(*r->rec.stages));
	memcpy(r->rec.stages, was->st, was->c.nstages * sizeof(*was->st));
	r->rec.nstages = was->c.nstages;
	r->rec.backlogs =
		xcalloc(was->c.nbacklogs + 1, sizeof(*r->rec.backlogs));
	memcpy(r->rec.backlogs, was->bl, was->c.nbacklogs * sizeof(*was->bl));
	r->rec.nbacklogs = was->c.nbacklogs;
	r->rec.status_from_key = was->c.dialect.status_from_key;
	r->rec.former_status =
		former_status ? former_status : xcalloc(1, sizeof(char *));
	r->rec.former_backlog = xcalloc(1, sizeof(char *));
	/* the record owns its strings now */
	was->c.nstages = was->c.nbacklogs = 0;
	reconcile_plan(r);
}

/* plan_keep with no versions. */
static void plan(struct reconcile *r, struct layout *was,
		 const struct layout *now, char **former_status)
{
	memset(r, 0, sizeof(*r));
	plan_keep(r, was, now, former_status);
}

static const char *const one[] = {"default:.", NULL};
static const char *const four[] = {"refinement:refinements", "backlog:backlog",
				   "active:active", "completed:completed",
				   NULL};

/* where(r, path): "same", "gone", or the path it moves to */
static char *where(const struct reconcile *r, const char *path)
{
	const struct config_backlog *b = NULL;
	const struct config_stage *st = NULL;
	char *to = NULL;

	switch (reconcile_path(r, path, &to, &b, &st)) {
	case RECONCILE_SAME: return xstrdup("same");
	case RECONCILE_GONE:
		return xasprintf("gone %s:%s %s:%s", b->name, b->path,
				 st->status, st->dir);
	default: return to;
	}
}

#define assert_where(r, path, want)                                            \
	do {                                                                   \
		char *got_ = where(r, path);                                   \
		assert_string_equal(got_, want);                               \
		free(got_);                                                    \
	} while (0)

static char *former(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return json_string_array(v, n);
}

/* where the record had the file at path (now), or "none" */
#define assert_recorded(r, path, want)                                         \
	do {                                                                   \
		char *got_ = reconcile_path_recorded(r, path);                 \
		assert_string_equal(got_ ? got_ : "none", want);               \
		free(got_);                                                    \
	} while (0)

#define assert_former(v, want)                                                 \
	do {                                                                   \
		char *got_ = former(v);                                        \
		assert_string_equal(got_, want);                               \
		free(got_);                                                    \
	} while (0)

static void test_nothing_changed(void **state)
{
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, four, one);
	layout(&now, four, one);
	plan(&r, &was, &now, NULL);
	assert_false(r.relocates);
	assert_string_equal(reconcile_status(&r, "backlog"), "backlog");
	assert_where(&r, "backlog/epic/X-1-one.md", "same");
	assert_where(&r, "elsewhere/X-1.md", "same");
	assert_former(r.former_status, "[]");
	reconcile_finish(&r);
	layout_finish(&now);
}

/* backlog: backlog -> todo: backlog: the directory pairs them */
static void test_status_renamed(void **state)
{
	static const char *const renamed[] = {"refinement:refinements",
					      "todo:backlog", "active:active",
					      "completed:completed", NULL};
	struct layout was, now;
	struct reconcile r;
	char *mirror[SM_COUNT] = {xstrdup("default"), xstrdup("backlog"), NULL};

	(void)state;
	layout(&was, four, one);
	layout(&now, renamed, one);
	plan(&r, &was, &now, NULL);
	assert_true(r.relocates);
	assert_true(r.statuses);
	assert_string_equal(reconcile_status(&r, "backlog"), "todo");
	assert_string_equal(reconcile_status(&r, "active"), "active");
	assert_string_equal(reconcile_status(&r, "bogus"), "bogus");
	assert_null(reconcile_status(&r, NULL));
	assert_where(&r, "backlog/X-1-one.md", "same");
	assert_former(r.former_status, "[\"backlog\",\"todo\"]");
	/* a key that held the old name reads as the new one */
	reconcile_mirrors(&r, mirror);
	assert_string_equal(mirror[SM_STATUS], "todo");
	assert_string_equal(mirror[SM_BACKLOG], "default");
	free(mirror[SM_STATUS]);
	mirror[SM_STATUS] = xstrdup("active");
	reconcile_mirrors(&r, mirror);
	assert_string_equal(mirror[SM_STATUS], "active");
	for (int m = 0; m < SM_COUNT; m++)
		free(mirror[m]);
	reconcile_finish(&r);
	layout_finish(&now);
}

/* backlog: backlog -> backlog: todo-dir: the status pairs them */
static void test_stage_dir_renamed(void **state)
{
	static const char *const renamed[] = {
		"refinement:refinements", "backlog:todo-dir", "active:active",
		"completed:completed", NULL};
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, four, one);
	layout(&now, renamed, one);
	plan(&r, &was, &now, NULL);
	assert_true(r.relocates);
	assert_string_equal(reconcile_status(&r, "backlog"), "backlog");
	assert_where(&r, "backlog/X-1-one.md", "todo-dir/X-1-one.md");
	assert_where(&r, "backlog/auth/X-2.md", "todo-dir/auth/X-2.md");
	assert_where(&r, "active/X-3.md", "same");
	/* and back: where git's version moved with the directory was */
	assert_recorded(&r, "todo-dir/X-1-one.md", "backlog/X-1-one.md");
	assert_recorded(&r, "todo-dir/auth/X-2.md", "backlog/auth/X-2.md");
	assert_recorded(&r, "active/X-3.md", "none");
	assert_recorded(&r, "elsewhere/X-4.md", "none");
	assert_former(r.former_status, "[]");
	reconcile_finish(&r);
	layout_finish(&now);
}

/* two statuses swapped: each row takes the other's, at once */
static void test_swap(void **state)
{
	static const char *const swapped[] = {
		"refinement:refinements", "active:backlog", "backlog:active",
		"completed:completed", NULL};
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, four, one);
	layout(&now, swapped, one);
	plan(&r, &was, &now, NULL);
	assert_string_equal(reconcile_status(&r, "backlog"), "active");
	assert_string_equal(reconcile_status(&r, "active"), "backlog");
	assert_where(&r, "backlog/X-1.md", "same");
	/* both names are in use: neither is an old one */
	assert_former(r.former_status, "[]");
	reconcile_finish(&r);
	layout_finish(&now);
}

/* a stage removed, and one whose status and directory both changed */
static void test_removed(void **state)
{
	static const char *const fewer[] = {"todo:todo", "active:active",
					    "completed:completed", NULL};
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, four, one);
	layout(&now, fewer, one);
	plan(&r, &was, &now, NULL);
	assert_true(r.relocates);
	assert_where(&r, "refinements/X-1.md",
		     "gone default:. refinement:refinements");
	assert_where(&r, "backlog/X-2.md", "gone default:. backlog:backlog");
	/* a stage added: no recorded one is it */
	assert_recorded(&r, "todo/X-1.md", "none");
	assert_string_equal(reconcile_status(&r, "backlog"), "backlog");
	assert_former(r.former_status, "[]");
	reconcile_finish(&r);
	layout_finish(&now);
}

/* backlogs: one renamed (the path pairs them), one moved (the name) */
static void test_backlogs(void **state)
{
	static const char *const stages[] = {"todo:todo", "done:done", NULL};
	static const char *const before[] = {"web:stories/web",
					     "mobile:stories/mobile", NULL};
	static const char *const after[] = {"frontend:stories/web",
					    "mobile:apps/mobile", NULL};
	struct layout was, now;
	struct reconcile r;
	char *mirror[SM_COUNT] = {xstrdup("web"), xstrdup("todo"), NULL};

	(void)state;
	layout(&was, stages, before);
	layout(&now, stages, after);
	plan(&r, &was, &now, NULL);
	assert_true(r.relocates);
	assert_string_equal(reconcile_backlog(&r, "web"), "frontend");
	assert_string_equal(reconcile_backlog(&r, "mobile"), "mobile");
	assert_where(&r, "stories/web/todo/X-1.md", "same");
	assert_where(&r, "stories/mobile/done/ep/M-1.md",
		     "apps/mobile/done/ep/M-1.md");
	assert_recorded(&r, "apps/mobile/done/ep/M-1.md",
			"stories/mobile/done/ep/M-1.md");
	assert_recorded(&r, "stories/web/todo/X-1.md", "none");
	assert_former(r.former_backlog, "[\"web\",\"frontend\"]");
	reconcile_mirrors(&r, mirror);
	assert_string_equal(mirror[SM_BACKLOG], "frontend");
	for (int m = 0; m < SM_COUNT; m++)
		free(mirror[m]);
	reconcile_finish(&r);
	layout_finish(&now);
}

/* the old names recorded: a chain renamed again, a name used again */
static void test_former_chain(void **state)
{
	static const char *const was_stages[] = {"todo:backlog",
						 "active:active", NULL};
	static const char *const now_stages[] = {
		"next:backlog", "active:active", "backlog:review", NULL};
	struct layout was, now;
	struct reconcile r;
	char **old = xcalloc(3, sizeof(char *));
	char *mirror[SM_COUNT] = {NULL, xstrdup("todo"), NULL};

	(void)state;
	old[0] = xstrdup("backlog"); /* renamed todo before */
	old[1] = xstrdup("todo");
	layout(&was, was_stages, one);
	layout(&now, now_stages, one);
	plan(&r, &was, &now, old);
	/* backlog names a stage again: no longer an old name; todo is
	 * next's */
	assert_former(r.former_status, "[\"todo\",\"next\"]");
	reconcile_mirrors(&r, mirror);
	assert_string_equal(mirror[SM_STATUS], "next");
	free(mirror[SM_STATUS]);
	reconcile_finish(&r);
	layout_finish(&now);
}

/* with the status from the key, stages name folders: no status follows */
static void test_status_from_key(void **state)
{
	static const char *const was_stages[] = {"task:tasks", NULL};
	static const char *const now_stages[] = {"todo:tasks", NULL};
	struct layout was, now;
	struct reconcile r;
	char *mirror[SM_COUNT] = {NULL, xstrdup("task"), NULL};

	(void)state;
	layout(&was, was_stages, one);
	layout(&now, now_stages, one);
	was.c.dialect.status_from_key = true;
	now.c.dialect.status_from_key = true;
	plan(&r, &was, &now, NULL);
	assert_false(r.relocates);
	assert_false(r.statuses);
	assert_string_equal(reconcile_status(&r, "task"), "task");
	assert_former(r.former_status, "[]");
	reconcile_mirrors(&r, mirror);
	assert_string_equal(mirror[SM_STATUS], "task");
	free(mirror[SM_STATUS]);
	reconcile_finish(&r);
	layout_finish(&now);
}

/* A committed version of "status:dir" stages and "name:path" backlogs
 * (heap, as reconcile_history keeps them), appended to r->history. */
static void version(struct reconcile *r, const char *const *stages,
		    const char *const *backlogs)
{
	struct layout l;
	struct reconcile_version *v;

	layout(&l, stages, backlogs);
	r->history =
		xreallocarray(r->history, r->nhistory + 1, sizeof(*r->history));
	v = &r->history[r->nhistory++];
	v->stages = xcalloc(l.c.nstages + 1, sizeof(*v->stages));
	memcpy(v->stages, l.st, l.c.nstages * sizeof(*l.st));
	v->nstages = l.c.nstages;
	v->backlogs = xcalloc(l.c.nbacklogs + 1, sizeof(*v->backlogs));
	memcpy(v->backlogs, l.bl, l.c.nbacklogs * sizeof(*l.bl));
	v->nbacklogs = l.c.nbacklogs;
}

/* plan, through the committed versions vs (stages, backlogs, ...,
 * NULL) */
static void plan_history(struct reconcile *r, struct layout *was,
			 const struct layout *now, const char *const *const *vs)
{
	struct reconcile h = {0};

	for (size_t i = 0; vs[i]; i += 2)
		version(&h, vs[i], vs[i + 1]);
	memset(r, 0, sizeof(*r));
	r->history = h.history;
	r->nhistory = h.nhistory;
	plan_keep(r, was, now, NULL);
}

/* the record equal to the configuration: each stage is itself whatever
 * the versions between did (directories renamed, then the names swapped
 * across them, would chain a to b); only the names those versions
 * alone had are translated (A -> B -> A, the API wrote B) */
static void test_history_equal_ends(void **state)
{
	static const char *const ab[] = {"a:x", "b:y", NULL};
	static const char *const v1[] = {"a:q", "b:r", NULL};
	static const char *const v2[] = {"b:q", "a:r", NULL};
	static const char *const v3[] = {"c:x", "b:y", NULL};
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, ab, one);
	layout(&now, ab, one);
	plan_history(
		&r, &was, &now,
		(const char *const *const[]){v1, one, v2, one, v3, one, NULL});
	assert_false(reconcile_unknown(&r, "a", "default"));
	assert_string_equal(reconcile_status(&r, "a"), "a");
	assert_string_equal(reconcile_status(&r, "b"), "b");
	assert_string_equal(reconcile_status(&r, "c"), "a");
	assert_where(&r, "x/X-1.md", "same");
	assert_where(&r, "y/X-2.md", "same");
	assert_true(r.relocates); /* c's rows follow */
	assert_former(r.former_status, "[\"c\",\"a\"]");
	assert_true(reconcile_unknown(&r, "d", "default"));
	assert_true(reconcile_unknown(&r, "a", "web"));
	reconcile_finish(&r);
	layout_finish(&now);
}

/* a backlog renamed, moved, renamed again, one step a version: the
 * record (web at web) and the configuration (ui at fe) share neither
 * name nor path, the chain pairs them; the name in between reads as
 * the one now */
static void test_history_backlogs(void **state)
{
	static const char *const st[] = {"todo:todo", NULL};
	static const char *const web[] = {"web:web", NULL};
	static const char *const v1[] = {"frontend:web", NULL};
	static const char *const v2[] = {"frontend:fe", NULL};
	static const char *const ui[] = {"ui:fe", NULL};
	struct layout was, now;
	struct reconcile r;

	(void)state;
	layout(&was, st, web);
	layout(&now, st, ui);
	plan_history(&r, &was, &now,
		     (const char *const *const[]){st, v1, st, v2, NULL});
	assert_true(r.relocates);
	assert_string_equal(reconcile_backlog(&r, "web"), "ui");
	assert_string_equal(reconcile_backlog(&r, "frontend"), "ui");
	assert_string_equal(reconcile_backlog(&r, "mobile"), "mobile");
	assert_where(&r, "web/todo/X-1.md", "fe/todo/X-1.md");
	assert_former(r.former_backlog, "[\"web\",\"ui\",\"frontend\",\"ui\"]");
	reconcile_finish(&r);
	layout_finish(&now);
	/* without the versions: one removed, one added */
	layout(&was, st, web);
	layout(&now, st, ui);
	plan(&r, &was, &now, NULL);
	assert_where(&r, "web/todo/X-1.md", "gone web:web todo:todo");
	reconcile_finish(&r);
	layout_finish(&now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_changed),
		cmocka_unit_test(test_status_renamed),
		cmocka_unit_test(test_stage_dir_renamed),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_backlogs),
		cmocka_unit_test(test_former_chain),
		cmocka_unit_test(test_status_from_key),
		cmocka_unit_test(test_history_equal_ends),
		cmocka_unit_test(test_history_backlogs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
