/*
 * check: the tree as sync --full would read it, with nothing to compare
 * against (an empty state), so every file is parsed and every parse error
 * and doubly claimed id is found; then what no single file shows: the
 * dependency graph and the mirror keys against the file's location.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "detect.h"
#include "fsx.h"
#include "json.h"
#include "mem.h"
#include "store.h"
#include "strmap.h"

/* A parsed story in the graph; deps index other nodes, and so does its
 * parent (SIZE_MAX: none among them). */
struct node {
	const struct file_change *fc;
	size_t *deps;
	size_t ndeps;
	size_t parent;
};

struct graph {
	struct node *nodes; /* sorted by id */
	size_t n;
	struct strmap by_id;
};

static void add_problem(struct check_result *r, const char *path,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_problem(struct check_result *r, const char *path,
			const char *fmt, ...)
{
	struct check_problem *p;
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s: ", path);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->problems = xreallocarray(r->problems, r->nproblems + 1, sizeof(*p));
	p = &r->problems[r->nproblems++];
	p->path = xstrdup(path);
	p->msg = buf_detach(&b);
}

static void add_scan_error(struct check_result *r, const struct file_error *fe)
{
	struct check_problem *p;

	r->problems = xreallocarray(r->problems, r->nproblems + 1, sizeof(*p));
	p = &r->problems[r->nproblems++];
	p->path = xstrdup(fe->path);
	p->msg = xstrdup(fe->msg);
}

static void add_note(void *ctx, const char *msg)
{
	struct check_result *r = ctx;

	r->notes = xreallocarray(r->notes, r->nnotes + 1, sizeof(char *));
	r->notes[r->nnotes++] = xstrdup(msg);
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The frontmatter's backlog:, status: and epic: against the location. */
static void check_mirrors(struct check_result *r, const struct config *c,
			  const struct file_change *fc)
{
	const struct story *s = &fc->story;
	const struct config_stage *st;
	const char *m, *epic;

	m = fc->mirror[SM_BACKLOG];
	if (m && !str_eq(m, s->v[SF_BACKLOG]))
		add_problem(r, fc->path,
			    "backlog: '%s' but the file is in backlog '%s'", m,
			    s->v[SF_BACKLOG]);
	m = fc->mirror[SM_STATUS];
	st = config_stage_by_status(c, s->v[SF_STATUS]);
	if (m && st && !str_eq(m, s->v[SF_STATUS]))
		add_problem(r, fc->path,
			    "status: '%s' but the file is in %s/ (status "
			    "'%s')",
			    m, st->dir, st->status);
	m = fc->mirror[SM_EPIC];
	if (!m)
		return;
	/* an empty epic: means no epic */
	epic = *m ? m : NULL;
	if (str_eq(epic, s->v[SF_EPIC]))
		return;
	if (s->v[SF_EPIC])
		add_problem(r, fc->path,
			    "epic: '%s' but the file is in epic directory '%s'",
			    m, s->v[SF_EPIC]);
	else
		add_problem(r, fc->path,
			    "epic: '%s' but the file is in no epic directory",
			    m);
}

static int node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return strcmp(x->fc->id, y->fc->id);
}

static void graph_init(struct graph *g, const struct scan_result *scan)
{
	g->nodes = xcalloc(scan->nchanges, sizeof(*g->nodes));
	g->n = 0;
	for (size_t i = 0; i < scan->nchanges; i++)
		if (scan->changes[i].path)
			g->nodes[g->n++].fc = &scan->changes[i];
	qsort(g->nodes, g->n, sizeof(*g->nodes), node_cmp);
	strmap_init(&g->by_id, g->n);
	for (size_t i = 0; i < g->n; i++)
		strmap_put(&g->by_id, g->nodes[i].fc->id, i);
}

static void graph_finish(struct graph *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->nodes[i].deps);
	free(g->nodes);
	strmap_finish(&g->by_id);
}

/* Reports the dependencies no story has (a file that fails to parse still
 * has its story: known holds those ids too) and links the others. */
static void link_deps(struct check_result *r, struct graph *g,
		      const struct strmap *known)
{
	for (size_t i = 0; i < g->n; i++) {
		struct node *nd = &g->nodes[i];
		const char *json = nd->fc->story.v[SF_DEPENDS_ON];
		char **deps = NULL;
		size_t ndeps = 0, to;

		if (!json || !json_parse_string_array(json, &deps, &ndeps))
			continue;
		nd->deps = xcalloc(ndeps, sizeof(*nd->deps));
		for (size_t d = 0; d < ndeps; d++) {
			if (strcmp(deps[d], nd->fc->id) == 0)
				add_problem(r, nd->fc->path,
					    "depends_on '%s': a story cannot "
					    "depend on itself",
					    deps[d]);
			else if (strmap_get(&g->by_id, deps[d], &to))
				nd->deps[nd->ndeps++] = to;
			else if (!strmap_get(known, deps[d], NULL))
				add_problem(r, nd->fc->path,
					    "depends_on '%s': no such story",
					    deps[d]);
		}
		strv_free(deps);
	}
}

enum color { WHITE, GRAY, BLACK };

/* The cycle closed by the edge top -> stack[from]. */
static void report_cycle(struct check_result *r, const struct graph *g,
			 const size_t *stack, size_t from, size_t top)
{
	struct buf b = BUF_INIT;
	const struct node *first = &g->nodes[stack[from]];

	for (size_t k = from; k <= top; k++)
		buf_printf(&b, "%s -> ", g->nodes[stack[k]].fc->id);
	buf_puts(&b, first->fc->id);
	add_problem(r, first->fc->path, "dependency cycle: %s", b.data);
	buf_finish(&b);
}

/* Depth-first, without recursion (a chain may be as long as the backlog):
 * every edge back to a node on the stack closes one cycle. */
static void find_cycles(struct check_result *r, const struct graph *g)
{
	unsigned char *color = xcalloc(g->n, 1);
	size_t *stack = xcalloc(g->n, sizeof(*stack));
	size_t *next = xcalloc(g->n, sizeof(*next));
	size_t *pos = xcalloc(g->n, sizeof(*pos));

	for (size_t root = 0; root < g->n; root++) {
		size_t sp = 0;

		if (color[root] != WHITE)
			continue;
		color[root] = GRAY;
		pos[root] = sp;
		stack[sp++] = root;
		while (sp) {
			size_t top = stack[sp - 1], v;
			const struct node *nd = &g->nodes[top];

			if (next[top] == nd->ndeps) {
				color[top] = BLACK;
				sp--;
				continue;
			}
			v = nd->deps[next[top]++];
			if (color[v] == GRAY) {
				report_cycle(r, g, stack, pos[v], sp - 1);
			} else if (color[v] == WHITE) {
				color[v] = GRAY;
				pos[v] = sp;
				stack[sp++] = v;
			}
		}
	}
	free(pos);
	free(next);
	free(stack);
	free(color);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reports a parent no story has (a file that fails to parse still has its
 * story: known holds those ids too), and links the others. */
static void link_parents(struct check_result *r, struct graph *g,
			 const struct strmap *known)
{
	for (size_t i = 0; i < g->n; i++) {
		struct node *nd = &g->nodes[i];
		const char *p = nd->fc->story.v[SF_PARENT];
		size_t to;

		nd->parent = SIZE_MAX;
		if (!p)
			continue;
		if (strcmp(p, nd->fc->id) == 0)
			add_problem(r, nd->fc->path,
				    "parent '%s': a story cannot be its own "
				    "parent",
				    p);
		else if (strmap_get(&g->by_id, p, &to))
			nd->parent = to;
		else if (!strmap_get(known, p, NULL))
			add_problem(r, nd->fc->path,
				    "parent '%s': no such story", p);
	}
}

/* Each node has one parent at most: following them from every node not
 * seen yet either ends, or comes back to a node of this walk, which closes
 * a cycle (reported once, from the node it closes at). */
static void find_parent_cycles(struct check_result *r, const struct graph *g)
{
	size_t *walk = xcalloc(g->n, sizeof(*walk)); /* 0: not seen yet */

	for (size_t root = 0; root < g->n; root++) {
		size_t v = root;

		while (v != SIZE_MAX && !walk[v]) {
			walk[v] = root + 1;
			v = g->nodes[v].parent;
		}
		if (v != SIZE_MAX && walk[v] == root + 1) {
			struct buf b = BUF_INIT;
			size_t u = v;

			do {
				buf_printf(&b, "%s -> ", g->nodes[u].fc->id);
				u = g->nodes[u].parent;
			} while (u != v);
			buf_puts(&b, g->nodes[v].fc->id);
			add_problem(r, g->nodes[v].fc->path, "parent cycle: %s",
				    b.data);
			buf_finish(&b);
		}
	}
	free(walk);
}

static int problem_cmp(const void *a, const void *b)
{
	const struct check_problem *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : strcmp(x->msg, y->msg);
}

static void check_graph(struct check_result *r, const struct config *c,
			const struct scan_result *scan)
{
	struct strmap known;
	struct graph g;

	graph_init(&g, scan);
	strmap_init(&known, scan->nerrors);
	for (size_t i = 0; i < scan->nerrors; i++)
		if (scan->errors[i].id)
			strmap_put(&known, scan->errors[i].id, 0);
	for (size_t i = 0; i < g.n; i++)
		check_mirrors(r, c, g.nodes[i].fc);
	link_deps(r, &g, &known);
	find_cycles(r, &g);
	link_parents(r, &g, &known);
	find_parent_cycles(r, &g);
	strmap_finish(&known);
	graph_finish(&g);
}

bool check_run(const struct config *c, struct check_result *out, struct err *e)
{
	struct scan_result scan;
	int rootfd;
	bool ok;

	memset(out, 0, sizeof(*out));
	rootfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(e, "%s: %s", c->root, strerror(errno));
	ok = detect_scan(c, rootfd, NULL, 0, true, &scan, e);
	if (!ok) {
		close(rootfd);
		scan_result_finish(&scan);
		return false;
	}
	/* what a story is, the scan says, as it does for sync */
	out->nstories = scan_result_stories(&scan);
	for (size_t i = 0; i < scan.nskipped; i++)
		add_note(out, scan.skipped[i]);
	detect_strays(c, rootfd, add_note, out);
	for (size_t i = 0; i < scan.nerrors; i++)
		add_scan_error(out, &scan.errors[i]);
	close(rootfd);
	out->shadows = scan.shadows;
	out->nshadows = scan.nshadows;
	scan.shadows = NULL;
	scan.nshadows = 0;
	if (out->nshadows)
		qsort(out->shadows, out->nshadows, sizeof(*out->shadows),
		      str_cmp);
	check_graph(out, c, &scan);
	if (out->nproblems)
		qsort(out->problems, out->nproblems, sizeof(*out->problems),
		      problem_cmp);
	scan_result_finish(&scan);
	return true;
}

/* ---- check --db ---- */

struct db_check {
	const struct config *c;
	struct check_result *r;
	int rootfd;
	const char *db; /* the database, as a problem names it */
};

/* s as an SQL string literal, for the statements a problem suggests. */
static char *sql_quote(const char *s)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(&b, '\'');
		buf_putc(&b, *s);
	}
	buf_putc(&b, '\'');
	return buf_detach(&b);
}

/* Whether the file at rel (beneath the root, through no symlink) is
 * missing; a path that cannot be looked at is not said to be. */
static bool file_missing(const struct db_check *k, const char *rel)
{
	int fd = fsx_open_beneath(k->rootfd, rel, O_PATH | O_NOFOLLOW, 0);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == ENOENT || errno == ENOTDIR;
}

/* One problem of the tables, the story's file, or of the files. */
static bool on_db_row(void *ctx, const struct store_check_row *row)
{
	struct db_check *k = ctx;
	const char *id = row->id ? row->id : "", *path = row->path;
	char *qid = sql_quote(id);

	switch (row->kind) {
	case STORE_DAMAGED:
		add_problem(k->r, k->db,
			    "damaged: %s; stop the sync and restore the "
			    "database from a backup (sqlite3's .recover "
			    "saves what it can)",
			    row->detail ? row->detail : "?");
		break;
	case STORE_DEP_NO_STORY:
		add_problem(k->r, k->db,
			    "story_dependencies: '%s' depends on '%s', but no "
			    "story '%s' has a row; nothing reads it: DELETE "
			    "FROM story_dependencies WHERE story_id = %s",
			    id, row->detail ? row->detail : "", id, qid);
		break;
	case STORE_STATE_NO_ROW:
		if (path && !file_missing(k, path))
			add_problem(k->r, path,
				    "story '%s': its sync state has no row "
				    "and no deletion is pending, so a --full "
				    "run deletes this file; to import the "
				    "file again instead: DELETE FROM "
				    "sync_state WHERE story_id = %s",
				    id, qid);
		else
			add_problem(k->r, path ? path : k->db,
				    "story '%s': its sync state has neither "
				    "a row nor a file; nothing uses it: "
				    "DELETE FROM sync_state WHERE story_id "
				    "= %s",
				    id, qid);
		break;
	case STORE_BASE_NO_STATE:
		add_problem(k->r, k->db,
			    "sync_base: story '%s' has a saved base but no "
			    "sync state; nothing reads it: DELETE FROM "
			    "sync_base WHERE story_id = %s",
			    id, qid);
		break;
	case STORE_STATE_PATH:
		if (path && file_missing(k, path))
			add_problem(k->r, path,
				    "story '%s': the file is missing, so the "
				    "next sync deletes its row; restore the "
				    "file to keep the story (a deleted row "
				    "stays in deleted_stories)",
				    id);
		break;
	case STORE_ROW_PATH:
		if (path && file_missing(k, path))
			add_problem(k->r, path,
				    "story '%s': its row names this file, "
				    "which is missing, and no sync state "
				    "knows the story; the next sync writes "
				    "its file from the row",
				    id);
		break;
	}
	free(qid);
	return true;
}

/* The database's path as a problem names it: from the root when inside. */
static const char *db_name(const struct config *c)
{
	size_t n = strlen(c->root);

	if (c->home.server)
		return c->home.shown;
	if (strncmp(c->database, c->root, n) == 0 && c->database[n] == '/')
		return c->database + n + 1;
	return c->database;
}

enum check_db_status check_db(const struct config *c, struct check_result *out,
			      struct err *e)
{
	struct db_check k = {c, out, -1, db_name(c)};
	enum check_db_status st = CHECK_DB_FAILED;
	struct store *s = NULL;

	if (!dbhome_exists(&c->home)) {
		st = CHECK_DB_NONE;
		err_set(e, "%s: no database yet (storysync init creates it)",
			c->home.shown);
		goto out;
	}
	/* a run's files and rows differ until its commit */
	if (dbhome_lock_held(&c->home)) {
		st = CHECK_DB_LOCKED;
		err_set(e,
			"a sync is running (it holds %s): check --db tries "
			"later",
			c->home.lock);
		goto out;
	}
	k.rootfd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k.rootfd < 0) {
		err_set(e, "%s: %s", c->root, strerror(errno));
		goto out;
	}
	if (!store_open_as(&s, c->database, 0, true, NULL, e) ||
	    !store_set_tree(s, c->tree, e) || !store_begin_read(s, e) ||
	    !store_check(s, on_db_row, &k, e))
		goto out;
	st = CHECK_DB_OK;
	if (out->nproblems)
		qsort(out->problems, out->nproblems, sizeof(*out->problems),
		      problem_cmp);
out:
	store_close(s);
	if (k.rootfd >= 0)
		close(k.rootfd);
	return st;
}

void check_result_finish(struct check_result *r)
{
	for (size_t i = 0; i < r->nproblems; i++) {
		free(r->problems[i].path);
		free(r->problems[i].msg);
	}
	free(r->problems);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	for (size_t i = 0; i < r->nshadows; i++)
		free(r->shadows[i]);
	free(r->shadows);
	memset(r, 0, sizeof(*r));
}
