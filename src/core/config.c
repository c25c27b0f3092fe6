#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsx.h"
#include "gitrepo.h"
#include "mem.h"
#include "runrecord.h"
#include "version.h"
#include "yamlio.h"

/* A configuration file is a few lines; anything this big is a mistake. */
#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_DEPTH 8

static const struct {
	const char *status, *dir;
} default_stages[] = {
	{"refinement", "refinements"},
	{"backlog", "backlog"},
	{"active", "active"},
	{"completed", "completed"},
};

/* Ends every configuration init writes: this file is versioned. */
#define LOCAL_NOTE                                                             \
	"\n# This file is versioned: what runs a command or writes outside "   \
	"the tree\n# (notify, log, metrics_file, a database elsewhere) goes "  \
	"in\n# .storysync.local.yml beside it, which git must not track.\n"

static const char default_text[] =
	"# storysync configuration: see storysync.yml(5).\n"
	"# Paths are relative to the directory of this file.\n"
	"\n"
	"# The SQLite database that storysync and the API share.\n"
	"database: .storysync/stories.db\n"
	"\n"
	"# Backlogs: name: directory that holds the stage directories.\n"
	"# With none, this file's directory is one backlog named "
	"\"default\".\n"
	"#backlogs:\n"
	"#  platform: stories/platform\n"
	"#  mobile: stories/mobile\n"
	"\n"
	"# Stages: status: directory, in lifecycle order.\n"
	"stages:\n"
	"  refinement: refinements\n"
	"  backlog: backlog\n"
	"  active: active\n"
	"  completed: completed\n" LOCAL_NOTE;

struct bmd;

/* Which file is being read: what it may set depends on who writes it. */
enum source {
	SRC_VERSIONED, /* .storysync.yml: in the repository, written by
			  whoever can push */
	SRC_SERVICE,   /* another file given with -c: the service's own,
			  as long as git does not track it */
	SRC_LOCAL,     /* the untracked companion, .storysync.local.yml */
};

/* Where a value was written, for the checks made once both files are
 * read. */
struct at {
	const char *file; /* NULL: not written */
	enum source source;
	unsigned line, col;
};

/* What the files say that is resolved once they are all read. */
struct written {
	char *database;  /* as written, NULL for the default */
	char *create_in; /* resolved once the stages are known */
	struct at database_at, create_in_at, log_at, metrics_at, new_file_at;
};

struct parser {
	const char *name; /* the path as given, for messages */
	enum source source;
	const char *local; /* the companion's path, for messages */
	struct yreader *r;
	struct yev ev;
	struct err *e;
	struct config *c;
	struct written *w;
	uint32_t seen;         /* the top keys this file set */
	uint32_t overridden;   /* the top keys the local file set: this file's
				  are checked, then dropped */
	char *needs_untracked; /* what a service file sets that only an
				  untracked file may: "FILE:L:C: 'notify'
				  runs a command" */
	const char *policy_backlog; /* backlog_policy: the one being read */
	struct bmd *bmd;            /* reading a Backlog.md config.yml */
};

static bool fail(struct parser *p, unsigned line, unsigned col, const char *fmt,
		 ...) __attribute__((format(printf, 4, 5)));

static bool fail(struct parser *p, unsigned line, unsigned col, const char *fmt,
		 ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(p->e, p->name, line, col, fmt, ap);
	va_end(ap);
	return false;
}

static bool fail_at(const struct parser *p, const struct at *at,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail_at(const struct parser *p, const struct at *at,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(p->e, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
	return false;
}

/* Where the current event is. */
static struct at here(const struct parser *p)
{
	return (struct at){p->name, p->source, p->ev.line, p->ev.col};
}

static bool next(struct parser *p)
{
	return yreader_next(p->r, &p->ev, p->e);
}

static bool is_null(const struct yev *ev)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (ev->type != YEV_SCALAR || ev->style != YS_PLAIN)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(ev->value, nulls[i]) == 0)
			return true;
	return false;
}

static bool is_string(const struct yev *ev)
{
	return ev->type == YEV_SCALAR && !is_null(ev) && ev->value[0] != '\0';
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Backlog and status names end up in the database and on command lines. */
static bool name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

/* A stage directory is walked by name; a hidden one would be skipped. It
 * may be nested ("archive/tasks"), each part a plain name, or "." (the
 * backlog directory itself). */
static bool dir_name_ok(const char *s)
{
	if (strcmp(s, ".") == 0)
		return true;
	if (has_control(s) || strlen(s) > 1024)
		return false;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || n > 255 || s[0] == '.')
			return false;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

/* Drops empty and "." components; "" becomes ".". Sets *dotdot and *dotgit
 * when a component is ".." or ".git". */
static char *normalise(const char *path, bool *dotdot, bool *dotgit)
{
	struct buf b = BUF_INIT;
	const char *s = path;

	*dotdot = *dotgit = false;
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && strncmp(s, "..", 2) == 0)
			*dotdot = true;
		if (n == 4 && strncasecmp(s, ".git", 4) == 0)
			*dotgit = true;
		if (n && !(n == 1 && s[0] == '.')) {
			if (b.len)
				buf_putc(&b, '/');
			buf_add(&b, s, n);
		}
		s += n;
		s += *s == '/';
	}
	if (!b.len)
		buf_putc(&b, '.');
	return buf_detach(&b);
}

/* True when one of a and b is the other or lies beneath it. */
static bool nests(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n = la < lb ? la : lb;

	if (strcmp(a, ".") == 0 || strcmp(b, ".") == 0)
		return true;
	if (strncmp(a, b, n) != 0)
		return false;
	return la == lb || (la < lb ? b[n] : a[n]) == '/';
}

/* Reads the next event as a mapping key (copied into *key), or sets *end
 * at the end of the mapping. */
static bool read_key(struct parser *p, char **key, unsigned *line,
		     unsigned *col, bool *end)
{
	if (!next(p))
		return false;
	*end = p->ev.type == YEV_MAP_END;
	if (*end)
		return true;
	if (p->ev.type != YEV_SCALAR)
		return fail(p, p->ev.line, p->ev.col, "a key must be a string");
	*key = xstrdup(p->ev.value);
	*line = p->ev.line;
	*col = p->ev.col;
	return true;
}

/* The companion's file name, for messages. */
static const char *local_name(const struct parser *p)
{
	const char *slash = p->local ? strrchr(p->local, '/') : NULL;

	return slash ? slash + 1 : p->local;
}

/* A setting only an untracked file may hold (what: "'notify' runs a
 * command"), written at at. The versioned file refuses it whoever tracks
 * it (a checkout or a pull can make it tracked at any time) and says where
 * it goes; a service's file may hold it when git does not track that file,
 * which is checked once it is read. */
static bool local_only(struct parser *p, const struct at *at, const char *what)
{
	char *loc = at->line
			    ? xasprintf("%s:%u:%u", at->file, at->line, at->col)
			    : xstrdup(at->file);

	if (at->source == SRC_VERSIONED)
		err_set(p->e,
			"%s: %s: %s is versioned, so it may not set it; move "
			"it to %s, which git does not track",
			loc, what, CONFIG_FILE_NAME, CONFIG_LOCAL_FILE_NAME);
	else if (at->source == SRC_SERVICE && !p->needs_untracked)
		p->needs_untracked = xasprintf("%s: %s", loc, what);
	free(loc);
	return at->source != SRC_VERSIONED;
}

/* Why a database written as v is out of the tree's hands (heap): absolute,
 * through "..", or inside .git; else NULL. A symlink on the way is found
 * once the root is known. */
static char *database_outside(const char *v)
{
	bool dotdot, dotgit;
	char *what = NULL;

	free(normalise(v, &dotdot, &dotgit));
	if (v[0] == '/' || dotdot)
		what = xasprintf("'database': '%s' is outside the tree", v);
	else if (dotgit)
		what = xasprintf("'database': '%s' is inside .git", v);
	return what;
}

/* Such a database is written where the tree's authors have no say: only
 * an untracked file may name it. */
static bool local_database(struct parser *p)
{
	char *what = database_outside(p->w->database);
	bool ok = !what || local_only(p, &p->w->database_at, what);

	free(what);
	return ok;
}

/* A server's URI: its credentials and its host are the machine's, never
 * the tree's (an attacker's branch could point the hooks' runs at a
 * server of theirs): only an untracked file may name one; and only a
 * build with the backend can use it. The URI is shown masked. */
static bool server_database(struct parser *p)
{
	char *shown = dbhome_mask(p->w->database);
	char *what =
		xasprintf("'database': '%s' names a PostgreSQL server", shown);
	bool ok = local_only(p, &p->w->database_at, what);

	if (ok && !STORYSYNC_POSTGRESQL)
		ok = fail_at(p, &p->w->database_at,
			     "'database': '%s' names a PostgreSQL server, "
			     "but this storysync was built without "
			     "PostgreSQL (meson setup -Dpostgresql=enabled, "
			     "with libpq-dev)",
			     shown);
	free(what);
	free(shown);
	return ok;
}

static bool parse_database(struct parser *p)
{
	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	if (!is_string(&p->ev))
		return fail(p, p->ev.line, p->ev.col,
			    "'database' must be a file path or a "
			    "postgresql:// URI");
	if (has_control(p->ev.value))
		return fail(p, p->ev.line, p->ev.col,
			    "'database' has a control character");
	free(p->w->database);
	p->w->database = xstrdup(p->ev.value);
	p->w->database_at = here(p);
	if (dbhome_is_server(p->w->database))
		return server_database(p);
	return local_database(p);
}

static bool check_backlog_path(struct parser *p, const char *name, char **out)
{
	const struct yev *ev = &p->ev;
	bool dotdot, dotgit;

	if (!is_string(ev))
		return fail(p, ev->line, ev->col,
			    "backlog '%s' must have a path", name);
	if (ev->value[0] == '/')
		return fail(p, ev->line, ev->col,
			    "backlog '%s': path '%s' must be relative", name,
			    ev->value);
	if (has_control(ev->value))
		return fail(p, ev->line, ev->col,
			    "backlog '%s': path has a control character", name);
	*out = normalise(ev->value, &dotdot, &dotgit);
	if (dotdot || dotgit)
		xfree(out);
	if (dotdot)
		return fail(p, ev->line, ev->col,
			    "backlog '%s': path '%s' must not contain '..'",
			    name, ev->value);
	if (dotgit)
		return fail(p, ev->line, ev->col,
			    "backlog '%s': path '%s' must not be inside .git",
			    name, ev->value);
	return true;
}

static bool add_backlog(struct parser *p, char *name, unsigned line,
			unsigned col)
{
	struct config *c = p->c;
	char *path = NULL;

	if (!name_ok(name))
		return fail(p, line, col,
			    "bad backlog name '%s' (use a-z, 0-9, '_' and '-'; "
			    "start with a letter or digit)",
			    name);
	if (config_backlog(c, name))
		return fail(p, line, col, "duplicate key '%s' in 'backlogs'",
			    name);
	if (!next(p) || !check_backlog_path(p, name, &path))
		return false;
	for (size_t i = 0; i < c->nbacklogs; i++) {
		if (!nests(c->backlogs[i].path, path))
			continue;
		fail(p, p->ev.line, p->ev.col,
		     "backlog '%s': path '%s' overlaps backlog '%s' ('%s')",
		     name, path, c->backlogs[i].name, c->backlogs[i].path);
		free(path);
		return false;
	}
	c->backlogs = xreallocarray(c->backlogs, c->nbacklogs + 1,
				    sizeof(*c->backlogs));
	c->backlogs[c->nbacklogs].name = xstrdup(name);
	c->backlogs[c->nbacklogs].path = path;
	c->nbacklogs++;
	return true;
}

/* Runs add(p, key, line, col) for each key of the mapping that follows. */
static bool each_key(struct parser *p,
		     bool (*add)(struct parser *, char *, unsigned, unsigned))
{
	for (;;) {
		char *key = NULL;
		unsigned line = 0, col = 0;
		bool end, ok;

		if (!read_key(p, &key, &line, &col, &end))
			return false;
		if (end)
			return true;
		ok = add(p, key, line, col);
		free(key);
		if (!ok)
			return false;
	}
}

/* The next value: null (nothing to add), or a mapping whose keys go to
 * add; anything else is an error saying what it must be. */
static bool each_key_of(struct parser *p, const char *must,
			bool (*add)(struct parser *, char *, unsigned,
				    unsigned))
{
	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	if (p->ev.type != YEV_MAP_START)
		return fail(p, p->ev.line, p->ev.col, "%s", must);
	return each_key(p, add);
}

static bool parse_backlogs(struct parser *p)
{
	return each_key_of(p, "'backlogs' must be a mapping of name: path",
			   add_backlog);
}

static bool add_stage(struct parser *p, char *status, unsigned line,
		      unsigned col)
{
	struct config *c = p->c;
	const struct config_stage *other;

	if (!name_ok(status))
		return fail(p, line, col,
			    "bad status name '%s' (use a-z, 0-9, '_' and '-'; "
			    "start with a letter or digit)",
			    status);
	if (config_stage_by_status(c, status))
		return fail(p, line, col, "duplicate key '%s' in 'stages'",
			    status);
	if (!next(p))
		return false;
	if (!is_string(&p->ev))
		return fail(p, p->ev.line, p->ev.col,
			    "stage '%s' must have a directory", status);
	if (!dir_name_ok(p->ev.value))
		return fail(p, p->ev.line, p->ev.col,
			    "stage '%s': directory '%s' must be '.' or a "
			    "relative path of non-hidden directory names",
			    status, p->ev.value);
	/* one stage may lie inside another ('.' and 'archive'): a file
	 * belongs to the deepest; one directory is one stage */
	other = config_stage_by_dir(c, p->ev.value);
	if (other)
		return fail(p, p->ev.line, p->ev.col,
			    "stage '%s': directory '%s' is already stage "
			    "'%s'",
			    status, p->ev.value, other->status);
	c->stages =
		xreallocarray(c->stages, c->nstages + 1, sizeof(*c->stages));
	c->stages[c->nstages].status = xstrdup(status);
	c->stages[c->nstages].dir = xstrdup(p->ev.value);
	c->stages[c->nstages].archive = false;
	c->nstages++;
	return true;
}

static bool parse_stages(struct parser *p)
{
	unsigned line, col;

	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	if (p->ev.type != YEV_MAP_START)
		return fail(p, p->ev.line, p->ev.col,
			    "'stages' must be a mapping of status: directory");
	line = p->ev.line;
	col = p->ev.col;
	if (!each_key(p, add_stage))
		return false;
	if (!p->c->nstages)
		return fail(p, line, col,
			    "'stages' must list at least one stage");
	return true;
}

static bool parse_bool(struct parser *p, const char *key, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};
	const struct yev *ev = &p->ev;

	for (size_t i = 0; ev->type == YEV_SCALAR && ev->style == YS_PLAIN &&
			   i < sizeof(yes) / sizeof(yes[0]);
	     i++) {
		if (strcmp(ev->value, yes[i]) == 0 ||
		    strcmp(ev->value, no[i]) == 0) {
			*out = ev->value[0] != 'f' && ev->value[0] != 'F';
			return true;
		}
	}
	return fail(p, ev->line, ev->col, "'%s' must be true or false", key);
}

/* Splits "Name <email>" into its parts; false when it is not that form. */
static bool split_author(const char *s, char **name, char **email)
{
	const char *lt = strchr(s, '<');
	const char *gt = strchr(s, '>');
	size_t n;

	if (!lt || !gt || gt < lt || gt[1] != '\0' || strchr(lt + 1, '<') ||
	    gt == lt + 1 || has_control(s))
		return false;
	n = (size_t)(lt - s);
	while (n && s[n - 1] == ' ')
		n--;
	while (n && *s == ' ')
		s++, n--;
	if (!n || memchr(s, '>', n))
		return false;
	*name = xstrndup(s, n);
	*email = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	return true;
}

static bool add_git_key(struct parser *p, char *key, unsigned line,
			unsigned col)
{
	struct config *c = p->c;

	if (strcmp(key, "commit") == 0) {
		return next(p) && parse_bool(p, "git.commit", &c->git_commit);
	} else if (strcmp(key, "author") == 0) {
		if (!next(p))
			return false;
		xfree(&c->git_author_name);
		xfree(&c->git_author_email);
		if (p->ev.type != YEV_SCALAR ||
		    !split_author(p->ev.value, &c->git_author_name,
				  &c->git_author_email))
			return fail(p, p->ev.line, p->ev.col,
				    "'git.author' must be \"Name <email>\"");
		return true;
	}
	return fail(p, line, col, "unknown key '%s' in 'git'", key);
}

static bool parse_git(struct parser *p)
{
	return each_key_of(p, "'git' must be a mapping of commit and author",
			   add_git_key);
}

/* A list of non-empty strings, or null for none. */
static bool parse_strings(struct parser *p, const char *key, char ***out,
			  size_t *n)
{
	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	if (p->ev.type != YEV_SEQ_START)
		return fail(p, p->ev.line, p->ev.col,
			    "'%s' must be a list of strings", key);
	for (;;) {
		if (!next(p))
			return false;
		if (p->ev.type == YEV_SEQ_END)
			return true;
		if (!is_string(&p->ev) || has_control(p->ev.value))
			return fail(p, p->ev.line, p->ev.col,
				    "'%s' must be a list of strings", key);
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = xstrdup(p->ev.value);
	}
}

static bool parse_statuses(struct parser *p)
{
	return parse_strings(p, "statuses", &p->c->statuses, &p->c->nstatuses);
}

static bool parse_ignore(struct parser *p)
{
	return parse_strings(p, "ignore", &p->c->ignore, &p->c->nignore);
}

static bool parse_archive_stages(struct parser *p)
{
	return parse_strings(p, "archive_stages", &p->c->archive_stages,
			     &p->c->narchive_stages);
}

static bool parse_key_order(struct parser *p)
{
	return parse_strings(p, "key_order", &p->c->key_order,
			     &p->c->nkey_order);
}

static bool parse_list_style(struct parser *p)
{
	if (!next(p))
		return false;
	if (p->ev.type == YEV_SCALAR && (strcmp(p->ev.value, "block") == 0 ||
					 strcmp(p->ev.value, "flow") == 0)) {
		p->c->dialect.block_lists = strcmp(p->ev.value, "block") == 0;
		return true;
	}
	return fail(p, p->ev.line, p->ev.col,
		    "'list_style' must be flow ([a, b]) or block (one "
		    "\"- item\" a line)");
}

static bool parse_status_from(struct parser *p)
{
	if (!next(p))
		return false;
	if (p->ev.type == YEV_SCALAR && strcmp(p->ev.value, "key") == 0)
		p->c->dialect.status_from_key = true;
	else if (p->ev.type != YEV_SCALAR ||
		 strcmp(p->ev.value, "location") != 0)
		return fail(p, p->ev.line, p->ev.col,
			    "'status_from' must be location or key");
	return true;
}

/* A key a frontmatter line can start with, as story_parse reads keys. */
static bool key_name_ok(const char *s)
{
	return *s && !has_control(s) && !strchr("-?:,[]{}#&*!|>'\"%@` ", *s) &&
	       !strstr(s, ": ") && !strstr(s, " #") &&
	       s[strlen(s) - 1] != ':' && s[strlen(s) - 1] != ' ';
}

static bool add_key_name(struct parser *p, char *column, unsigned line,
			 unsigned col)
{
	struct config *c = p->c;
	int f = -1;

	for (int i = 0; i < SF_COUNT; i++)
		if (strcmp(column, story_field_names[i]) == 0)
			f = i;
	if (f < 0 || f == SF_EXTRA || f == SF_BODY)
		return fail(p, line, col,
			    "'keys': '%s' is not a column with a key (id, "
			    "backlog, status, epic, title, priority, points, "
			    "assignees, labels, depends_on, created, parent)",
			    column);
	if (c->keys[f])
		return fail(p, line, col, "duplicate key '%s' in 'keys'",
			    column);
	if (!next(p))
		return false;
	if (!is_string(&p->ev) || !key_name_ok(p->ev.value))
		return fail(p, p->ev.line, p->ev.col,
			    "'keys': '%s' must name a plain frontmatter key",
			    column);
	c->keys[f] = xstrdup(p->ev.value);
	return true;
}

/* policy: and backlog_policy: NAME: both field: file|db */
static bool add_rule(struct parser *p, const char *backlog, char *field,
		     unsigned line, unsigned col)
{
	struct config *c = p->c;
	int f = -1;
	bool db;

	for (int i = 1; i < SF_COUNT; i++) /* not the id: it is the key */
		if (strcmp(field, story_field_names[i]) == 0)
			f = i;
	if (f < 0)
		return fail(p, line, col,
			    "'%s': '%s' is not a field (backlog, status, epic, "
			    "title, priority, points, assignees, labels, "
			    "depends_on, created, extra, body, parent)",
			    backlog ? "backlog_policy" : "policy", field);
	for (size_t i = 0; i < c->npolicy; i++)
		if (c->policy[i].field == f &&
		    !backlog == !c->policy[i].backlog &&
		    (!backlog || strcmp(backlog, c->policy[i].backlog) == 0))
			return fail(p, line, col, "duplicate key '%s' in '%s'",
				    field,
				    backlog ? "backlog_policy" : "policy");
	if (!next(p))
		return false;
	if (p->ev.type != YEV_SCALAR || (strcmp(p->ev.value, "file") != 0 &&
					 strcmp(p->ev.value, "db") != 0))
		return fail(p, p->ev.line, p->ev.col, "'%s' must be file or db",
			    field);
	db = strcmp(p->ev.value, "db") == 0;
	c->policy =
		xreallocarray(c->policy, c->npolicy + 1, sizeof(*c->policy));
	c->policy[c->npolicy++] = (struct config_policy_rule){
		.backlog = backlog ? xstrdup(backlog) : NULL,
		.field = f,
		.db = db,
	};
	return true;
}

static bool add_policy_rule(struct parser *p, char *field, unsigned line,
			    unsigned col)
{
	return add_rule(p, NULL, field, line, col);
}

static bool parse_policy(struct parser *p)
{
	return each_key_of(p, "'policy' must be a mapping of field: file|db",
			   add_policy_rule);
}

static bool add_backlog_rule(struct parser *p, char *field, unsigned line,
			     unsigned col)
{
	return add_rule(p, p->policy_backlog, field, line, col);
}

static bool add_backlog_policy(struct parser *p, char *name, unsigned line,
			       unsigned col)
{
	bool ok;

	p->policy_backlog = name;
	ok = each_key_of(p,
			 "'backlog_policy' must map each backlog to a mapping "
			 "of field: file|db",
			 add_backlog_rule);
	p->policy_backlog = NULL;
	return ok;
}

static bool parse_backlog_policy(struct parser *p)
{
	return each_key_of(p,
			   "'backlog_policy' must be a mapping of backlog: "
			   "{field: file|db}",
			   add_backlog_policy);
}

void config_db_wins(const struct config *c, const char *backlog, bool db_wins[])
{
	for (int f = 0; f < SF_COUNT; f++)
		db_wins[f] = false;
	/* the shared rules first, the backlog's over them */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->npolicy; i++) {
			const struct config_policy_rule *r = &c->policy[i];

			if (pass == 0
				    ? r->backlog == NULL
				    : r->backlog && backlog &&
					      strcmp(r->backlog, backlog) == 0)
				db_wins[r->field] = r->db;
		}
}

static bool parse_keys(struct parser *p)
{
	return each_key_of(p, "'keys' must be a mapping of column: key",
			   add_key_name);
}

/* The tokens a file name template may hold. */
static bool template_ok(const char *t)
{
	static const char *const tokens[] = {"{id}", "{id:lower}", "{slug}",
					     "{title}"};
	size_t n = strlen(t);
	bool id = strstr(t, "{id}") || strstr(t, "{id:lower}");

	if (!id || n < 4 || strcmp(t + n - 3, ".md") != 0 || strchr(t, '/') ||
	    has_control(t) || t[0] == '.' || t[0] == '-')
		return false;
	for (const char *b = strchr(t, '{'); b; b = strchr(b + 1, '{')) {
		size_t i = 0;

		while (i < 4 && strncmp(b, tokens[i], strlen(tokens[i])) != 0)
			i++;
		if (i == 4)
			return false;
	}
	return (!strchr(t, '}') || strchr(t, '{')) &&
	       story_template_readable(t);
}

static bool parse_file_name(struct parser *p)
{
	if (!next(p))
		return false;
	if (!is_string(&p->ev) || !template_ok(p->ev.value))
		return fail(p, p->ev.line, p->ev.col,
			    "'file_name' must be a name ending in .md that "
			    "holds {id} or {id:lower} once (and may hold "
			    "{slug}, {title}), without '/'");
	free(p->c->file_name);
	p->c->file_name = xstrdup(p->ev.value);
	return true;
}

/* tree: this tree's name in a database that holds several (issue 22),
 * named like a backlog. */
static bool parse_tree(struct parser *p)
{
	if (!next(p))
		return false;
	if (!is_string(&p->ev) || !name_ok(p->ev.value))
		return fail(p, p->ev.line, p->ev.col,
			    "bad tree name '%s' (use a-z, 0-9, '_' and '-'; "
			    "start with a letter or digit)",
			    is_string(&p->ev) ? p->ev.value : "");
	free(p->c->tree);
	p->c->tree = xstrdup(p->ev.value);
	return true;
}

static bool parse_create_in(struct parser *p)
{
	if (!next(p))
		return false;
	if (!is_string(&p->ev))
		return fail(p, p->ev.line, p->ev.col,
			    "'create_in' must name a stage");
	free(p->w->create_in);
	p->w->create_in = xstrdup(p->ev.value);
	p->w->create_in_at = here(p);
	return true;
}

/* A size: bytes, or a number of KiB or MiB ("4MiB"), 1 KiB to 1 GiB. */
static bool parse_max_file_size(struct parser *p)
{
	const char *v;
	char *end;
	unsigned long long n;

	if (!next(p))
		return false;
	v = p->ev.value;
	errno = 0;
	n = p->ev.type == YEV_SCALAR ? strtoull(v, &end, 10) : 0;
	if (n && !errno && strcmp(end, "KiB") == 0)
		n <<= 10;
	else if (n && !errno && strcmp(end, "MiB") == 0)
		n <<= 20;
	else if (!n || errno || *end)
		n = 0;
	if (n < 1024 || n > (1ULL << 30))
		return fail(p, p->ev.line, p->ev.col,
			    "'max_file_size' must be a size from 1KiB to "
			    "1024MiB (bytes, or with KiB or MiB)");
	p->c->max_file_size = (size_t)n;
	return true;
}

/* A whole number from min to max, for key. */
static bool parse_int(struct parser *p, const char *key, long min, long max,
		      int *out)
{
	char *end;
	long n;

	if (!next(p))
		return false;
	errno = 0;
	n = p->ev.type == YEV_SCALAR && p->ev.style == YS_PLAIN
		    ? strtol(p->ev.value, &end, 10)
		    : -1;
	if (p->ev.type != YEV_SCALAR || p->ev.style != YS_PLAIN || errno ||
	    *end || end == p->ev.value || n < min || n > max)
		return fail(p, p->ev.line, p->ev.col,
			    "'%s' must be a whole number from %ld to %ld", key,
			    min, max);
	*out = (int)n;
	return true;
}

/* A non-empty string without control characters (what: "a file path",
 * "a shell command"), or null for none. */
static bool parse_text(struct parser *p, const char *key, const char *what,
		       char **out)
{
	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	if (!is_string(&p->ev) || !p->ev.value[0] || has_control(p->ev.value))
		return fail(p, p->ev.line, p->ev.col, "'%s' must be %s", key,
			    what);
	free(*out);
	*out = xstrdup(p->ev.value);
	return true;
}

/* A path from the configuration's directory, or absolute. */
static bool parse_path(struct parser *p, const char *key, char **out)
{
	return parse_text(p, key, "a file path", out);
}

static bool parse_busy_wait(struct parser *p)
{
	return parse_int(p, "busy_wait", 0, 3600, &p->c->busy_wait_s);
}

static bool parse_server_wait(struct parser *p)
{
	return parse_int(p, "server_wait", 1, 3600, &p->c->server_wait_s);
}

static bool parse_stale_after(struct parser *p)
{
	return parse_int(p, "stale_after", 60, 86400 * 365,
			 &p->c->stale_after_s);
}

static bool parse_notify_timeout(struct parser *p)
{
	return parse_int(p, "notify_timeout", 1, 3600, &p->c->notify_timeout_s);
}

static bool parse_log(struct parser *p)
{
	if (!parse_path(p, "log", &p->c->log))
		return false;
	p->w->log_at = here(p);
	return true;
}

static bool parse_metrics_file(struct parser *p)
{
	if (!parse_path(p, "metrics_file", &p->c->metrics_file))
		return false;
	p->w->metrics_at = here(p);
	return true;
}

static bool parse_notify(struct parser *p)
{
	return parse_text(p, "notify", "a shell command", &p->c->notify);
}

static bool add_retention_key(struct parser *p, char *key, unsigned line,
			      unsigned col)
{
	struct config_retention *r = &p->c->retention;

	if (strcmp(key, "days") == 0)
		return parse_int(p, "retention.days", 0, 36500, &r->days);
	if (strcmp(key, "runs") == 0)
		return parse_int(p, "retention.runs", 0, 100000000, &r->runs);
	if (strcmp(key, "deleted_days") == 0)
		return parse_int(p, "retention.deleted_days", 0, 36500,
				 &r->deleted_days);
	return fail(p, line, col, "unknown key '%s' in 'retention'", key);
}

static bool parse_retention(struct parser *p)
{
	return each_key_of(p,
			   "'retention' must be a mapping of days, runs and "
			   "deleted_days",
			   add_retention_key);
}

static bool parse_id_key(struct parser *p)
{
	bool on = true;

	if (!next(p) || !parse_bool(p, "id_key", &on))
		return false;
	p->c->dialect.no_id_key = !on;
	return true;
}

static bool parse_at_strings(struct parser *p)
{
	return next(p) &&
	       parse_bool(p, "at_strings", &p->c->dialect.at_strings);
}

static bool parse_created_format(struct parser *p)
{
	static const char *const names[] = {
		[SC_DATE] = "date",
		[SC_DATETIME] = "datetime",
		[SC_ISO] = "iso",
	};

	if (!next(p))
		return false;
	for (int f = SC_DATE; f <= SC_ISO; f++)
		if (p->ev.type == YEV_SCALAR &&
		    strcmp(p->ev.value, names[f]) == 0) {
			p->c->dialect.created_format = (enum story_created)f;
			return true;
		}
	return fail(p, p->ev.line, p->ev.col,
		    "'created_format' must be date (2026-02-14), datetime "
		    "('2026-02-14 21:22') or iso (2026-02-14T21:22:00Z)");
}

/* The first lines of a new file: checked once the keys are known. */
#define NEW_FILE_MAX 4096

static bool parse_new_file(struct parser *p)
{
	const char *v;

	if (!next(p))
		return false;
	if (is_null(&p->ev))
		return true;
	v = p->ev.value;
	if (!is_string(&p->ev) || p->ev.len > NEW_FILE_MAX ||
	    strlen(v) != p->ev.len)
		return fail(p, p->ev.line, p->ev.col,
			    "'new_file' must be text of at most %d bytes",
			    NEW_FILE_MAX);
	for (const char *s = v; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') ||
		    *s == 0x7f)
			return fail(p, p->ev.line, p->ev.col,
				    "'new_file' has a control character");
	free(p->c->new_file);
	p->c->new_file =
		v[p->ev.len - 1] == '\n' ? xstrdup(v) : xasprintf("%s\n", v);
	p->w->new_file_at = here(p);
	return true;
}

static bool parse_mirror_keys(struct parser *p)
{
	bool on = true;

	if (!next(p) || !parse_bool(p, "mirror_keys", &on))
		return false;
	p->c->dialect.no_mirror_keys = !on;
	return true;
}

static bool parse_allow_other_users(struct parser *p)
{
	bool on = false;

	if (!next(p) || !parse_bool(p, "allow_other_users", &on))
		return false;
	p->c->allow_other_users = on;
	free(p->c->allowed_by);
	p->c->allowed_by = on ? xstrdup(p->name) : NULL;
	return true;
}

/* The top keys; local_only says why a versioned file may not set one. */
static const struct {
	const char *key;
	bool (*parse)(struct parser *p);
	const char *local_only;
} top_keys[] = {
	{"tree", parse_tree, NULL},
	{"database", parse_database, NULL},
	{"backlogs", parse_backlogs, NULL},
	{"stages", parse_stages, NULL},
	{"git", parse_git, NULL},
	{"status_from", parse_status_from, NULL},
	{"statuses", parse_statuses, NULL},
	{"keys", parse_keys, NULL},
	{"file_name", parse_file_name, NULL},
	{"id_key", parse_id_key, NULL},
	{"at_strings", parse_at_strings, NULL},
	{"created_format", parse_created_format, NULL},
	{"new_file", parse_new_file, NULL},
	{"key_order", parse_key_order, NULL},
	{"list_style", parse_list_style, NULL},
	{"create_in", parse_create_in, NULL},
	{"ignore", parse_ignore, NULL},
	{"archive_stages", parse_archive_stages, NULL},
	{"mirror_keys", parse_mirror_keys, NULL},
	{"max_file_size", parse_max_file_size, NULL},
	{"policy", parse_policy, NULL},
	{"backlog_policy", parse_backlog_policy, NULL},
	{"busy_wait", parse_busy_wait, NULL},
	{"server_wait", parse_server_wait, NULL},
	{"retention", parse_retention, NULL},
	{"stale_after", parse_stale_after, NULL},
	{"log", parse_log, "'log' writes a file"},
	{"metrics_file", parse_metrics_file, "'metrics_file' writes a file"},
	{"notify", parse_notify, "'notify' runs a command"},
	{"notify_timeout", parse_notify_timeout,
	 "'notify_timeout' goes with notify, which runs a command"},
	{"allow_other_users", parse_allow_other_users,
	 "'allow_other_users' lets others than the tree's owner write it"},
};

#define NTOP (sizeof(top_keys) / sizeof(top_keys[0]))
_Static_assert(NTOP <= 32, "struct parser's key sets are 32 bits");

/* Reads key i's value into a scratch configuration, so that it is checked
 * but does not count: the local file set that key. */
static bool parse_overridden(struct parser *p, size_t i)
{
	struct config scratch = {0}, *c = p->c;
	struct written w = {0}, *keep = p->w;
	bool ok;

	p->c = &scratch;
	p->w = &w;
	ok = top_keys[i].parse(p);
	p->c = c;
	p->w = keep;
	free(w.database);
	free(w.create_in);
	config_finish(&scratch);
	return ok;
}

static bool parse_top_key(struct parser *p, size_t i, unsigned line,
			  unsigned col)
{
	struct at at = {p->name, p->source, line, col};

	if (top_keys[i].local_only &&
	    !local_only(p, &at, top_keys[i].local_only))
		return false;
	if (p->overridden & (UINT32_C(1) << i))
		return parse_overridden(p, i);
	return top_keys[i].parse(p);
}

static bool parse_top(struct parser *p)
{
	for (;;) {
		char *key = NULL;
		unsigned line = 0, col = 0;
		bool end, ok = false;
		size_t i;

		if (!read_key(p, &key, &line, &col, &end))
			return false;
		if (end)
			return true;
		for (i = 0; i < NTOP && strcmp(key, top_keys[i].key); i++)
			;
		if (i == NTOP)
			fail(p, line, col, "unknown key '%s'", key);
		else if (p->seen & (UINT32_C(1) << i))
			fail(p, line, col, "duplicate key '%s'", key);
		else
			ok = parse_top_key(p, i, line, col);
		if (ok)
			p->seen |= UINT32_C(1) << i;
		free(key);
		if (!ok)
			return false;
	}
}

/* The stream: nothing, an empty document, or one mapping. */
static bool parse_stream(struct parser *p)
{
	if (!next(p))
		return false;
	if (p->ev.type == YEV_DOC_START && !next(p))
		return false;
	if (p->ev.type == YEV_END)
		return true;
	if (p->ev.type == YEV_MAP_START) {
		if (!parse_top(p))
			return false;
	} else if (!is_null(&p->ev)) {
		return fail(p, p->ev.line, p->ev.col,
			    "the configuration must be a mapping of settings");
	}
	if (!next(p))
		return false;
	if (p->ev.type == YEV_DOC_END && !next(p))
		return false;
	if (p->ev.type != YEV_END)
		return fail(p, p->ev.line, p->ev.col,
			    "the configuration must be a single YAML document");
	return true;
}

static bool read_file(const char *path, char **data, size_t *len, struct err *e)
{
	struct buf b = BUF_INIT;

	if (!fsx_read_path(path, CONFIG_MAX_BYTES, &b, e)) {
		buf_finish(&b);
		return false;
	}
	*len = b.len;
	*data = buf_detach(&b);
	return true;
}

static char *join(const char *dir, const char *rel)
{
	size_t n = strlen(dir);

	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", rel);
}

/* Fills root, file and database once the file is known to be valid. */
static bool resolve(struct config *c, const char *path, const char *database,
		    struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : NULL;
	const char *d = dir ? (*dir ? dir : "/") : ".";
	bool dotdot, dotgit;
	char *rel;

	c->root = fsx_realpath(d, e);
	if (!c->root) {
		free(dir);
		return false;
	}
	free(dir);
	c->file = join(c->root, slash ? slash + 1 : path);
	if (!database)
		database = ".storysync/stories.db";
	if (database[0] == '/' || dbhome_is_server(database)) {
		c->database = xstrdup(database);
		return true;
	}
	rel = normalise(database, &dotdot, &dotgit);
	c->database = join(c->root, rel);
	free(rel);
	return true;
}

/* A path the configuration gave, from its directory. */
static void resolve_path(const struct config *c, char **path)
{
	char *abs;

	if (!*path || (*path)[0] == '/' || strcmp(*path, "syslog") == 0 ||
	    strcmp(*path, "none") == 0)
		return;
	abs = join(c->root, *path);
	free(*path);
	*path = abs;
}

static void set_defaults(struct config *c)
{
	size_t n = sizeof(default_stages) / sizeof(default_stages[0]);

	if (!c->nbacklogs) {
		c->backlogs = xcalloc(1, sizeof(*c->backlogs));
		c->backlogs[0].name = xstrdup("default");
		c->backlogs[0].path = xstrdup(".");
		c->nbacklogs = 1;
	}
	if (!c->nstages) {
		c->stages = xcalloc(n, sizeof(*c->stages));
		for (size_t i = 0; i < n; i++) {
			c->stages[i].status = xstrdup(default_stages[i].status);
			c->stages[i].dir = xstrdup(default_stages[i].dir);
		}
		c->nstages = n;
	}
}

static bool finish_dialect(struct parser *p);

static void init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->busy_wait_s = CONFIG_BUSY_WAIT_DEFAULT;
	c->server_wait_s = CONFIG_SERVER_WAIT_DEFAULT;
	c->tree = xstrdup(CONFIG_TREE_DEFAULT);
	c->retention = (struct config_retention){
		.days = CONFIG_RETENTION_DAYS_DEFAULT,
		.runs = CONFIG_RETENTION_RUNS_DEFAULT,
		.deleted_days = CONFIG_RETENTION_DELETED_DAYS_DEFAULT,
	};
	c->stale_after_s = CONFIG_STALE_AFTER_DEFAULT;
	c->notify_timeout_s = CONFIG_NOTIFY_TIMEOUT_DEFAULT;
}

/* Reads one file into p->c as source: its content given (given, glen),
 * else read from path. */
static bool parse_file(struct parser *p, const char *path, enum source source,
		       const char *given, size_t glen)
{
	char *text = NULL;
	size_t len = 0;
	bool ok;

	if (given) {
		if (glen > CONFIG_MAX_BYTES)
			return err_set(p->e, "%s: larger than %d bytes", path,
				       CONFIG_MAX_BYTES);
		text = xmalloc(glen + 1);
		memcpy(text, given, glen);
		text[glen] = '\0';
		len = glen;
	} else if (!read_file(path, &text, &len, p->e)) {
		return false;
	}
	p->name = path;
	p->source = source;
	p->seen = 0;
	p->r = yreader_create(path, text, len, 1, CONFIG_MAX_DEPTH);
	ok = parse_stream(p);
	yreader_destroy(p->r);
	p->r = NULL;
	free(text);
	return ok;
}

/* .storysync.yml is versioned whoever tracks it; another file given with
 * -c is the service's own. */
static enum source source_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strcmp(slash ? slash + 1 : path, CONFIG_FILE_NAME) == 0
		       ? SRC_VERSIONED
		       : SRC_SERVICE;
}

static bool check_local(const char *path, struct gitindex_stamp *stamp,
			struct err *e);
static bool local_checked(struct config *c, const char *local, bool loaded,
			  struct err *e);
static bool has_line(const char *text, const char *a, const char *b);
static bool check_after(struct parser *p, const char *local);

bool config_load(struct config *c, const char *path, struct err *e)
{
	return config_load_version(c, path, NULL, 0, e);
}

bool config_load_version(struct config *c, const char *path, const char *text,
			 size_t len, struct err *e)
{
	struct written w = {0};
	struct parser p = {.e = e, .c = c, .w = &w};
	char *local = config_local_path(path);
	bool ok = false;

	init_defaults(c);
	p.local = local;
	/* the companion first: the keys it sets, the main file's only check;
	 * whether git tracks it is asked at the end (local_checked) */
	if (local && fsx_exists(local) &&
	    !parse_file(&p, local, SRC_LOCAL, NULL, 0))
		goto out;
	p.overridden = p.seen;
	if (!parse_file(&p, path, source_of(path), text, len))
		goto out;
	set_defaults(c);
	ok = finish_dialect(&p) && resolve(c, path, w.database, e) &&
	     check_after(&p, local);
	if (ok) {
		resolve_path(c, &c->log);
		resolve_path(c, &c->metrics_file);
		if (w.database && w.database_at.file)
			c->database_at = xasprintf(
				"%s:%u:%u", w.database_at.file,
				w.database_at.line, w.database_at.col);
		dbhome_init(&c->home, c->database, c->database_at, c->tree,
			    c->root);
	}
out:
	ok = local_checked(c, local, ok, e) && ok;
	if (!ok)
		config_finish(c);
	free(w.database);
	free(w.create_in);
	free(p.needs_untracked);
	free(local);
	return ok;
}

/* new_file: read as a new file's frontmatter reads it: comments and keys
 * no column takes, which every new file gets (their JSON object in
 * new_file_extra). */
static bool check_new_file(struct parser *p)
{
	struct config *c = p->c;
	struct story_dialect *dl = &c->dialect;
	struct story_doc d;
	struct err e;
	struct buf t = BUF_INIT;
	bool ok, parsed;

	if (!c->new_file)
		return true;
	buf_printf(&t, "---\n%s%s: NEW-1\n%s: t\n---\n", c->new_file,
		   dl->key[SF_ID], dl->key[SF_TITLE]);
	ok = parsed = story_parse(&d, dl, "new_file", t.data, t.len, &e);
	if (!ok)
		fail_at(p, &p->w->new_file_at, "'new_file': %s", e.msg);
	for (size_t i = 0; ok && i + 2 < d.nkeys; i++)
		if (d.keys[i].field >= 0)
			ok = fail_at(p, &p->w->new_file_at,
				     "'new_file': '%s' is a column's key: a "
				     "new file takes it from the row",
				     d.keys[i].name);
	if (ok && d.s.v[SF_EXTRA])
		c->new_file_extra = xstrdup(d.s.v[SF_EXTRA]);
	dl->new_file = c->new_file;
	dl->new_file_extra = c->new_file_extra;
	if (parsed)
		story_doc_finish(&d);
	buf_finish(&t);
	return ok;
}

/* The dialect the keys read make, with the defaults for the rest; and the
 * settings that need the whole file to check. */
static bool finish_dialect(struct parser *p)
{
	struct config *c = p->c;
	struct story_dialect *dl = &c->dialect;

	for (int f = 0; f < SF_COUNT; f++)
		dl->key[f] =
			c->keys[f] ? c->keys[f] : story_dialect_default.key[f];
	for (int f = 0; f < SF_COUNT; f++)
		for (int g = f + 1; dl->key[f] && g < SF_COUNT; g++)
			if (dl->key[g] && strcmp(dl->key[f], dl->key[g]) == 0)
				return err_set(p->e,
					       "%s: 'keys': '%s' and '%s' "
					       "both read key '%s'",
					       p->name, story_field_names[f],
					       story_field_names[g],
					       dl->key[f]);
	dl->statuses = (const char *const *)c->statuses;
	dl->nstatuses = c->nstatuses;
	dl->file_name =
		c->file_name ? c->file_name : story_dialect_default.file_name;
	dl->id_template = c->file_name;
	dl->key_order = (const char *const *)c->key_order;
	dl->nkey_order = c->nkey_order;
	if (dl->no_id_key && !c->file_name)
		return err_set(p->e,
			       "%s: 'id_key: false' needs 'file_name': a new "
			       "file's name must hold its id",
			       p->name);
	if (!check_new_file(p))
		return false;
	if (c->nstatuses && !dl->status_from_key)
		return err_set(p->e,
			       "%s: 'statuses' needs 'status_from: key' (with "
			       "the location as the status, the stages are the "
			       "statuses)",
			       p->name);
	if (!c->max_file_size)
		c->max_file_size = FSX_READ_LIMIT_DEFAULT;
	for (size_t i = 0; i < c->npolicy; i++)
		if (c->policy[i].backlog &&
		    !config_backlog(c, c->policy[i].backlog))
			return err_set(p->e,
				       "%s: 'backlog_policy': no backlog '%s' "
				       "(see 'backlogs')",
				       p->name, c->policy[i].backlog);
	for (size_t i = 0; i < c->narchive_stages; i++) {
		struct config_stage *st =
			(struct config_stage *)config_stage_by_status(
				c, c->archive_stages[i]);

		if (!st)
			return err_set(p->e,
				       "%s: 'archive_stages': no stage '%s' "
				       "(see 'stages')",
				       p->name, c->archive_stages[i]);
		st->archive = true;
	}
	c->create_in = &c->stages[0];
	if (p->w->create_in) {
		c->create_in = config_stage_by_status(c, p->w->create_in);
		if (!c->create_in)
			return fail_at(p, &p->w->create_in_at,
				       "'create_in': no stage '%s'",
				       p->w->create_in);
	}
	return true;
}

/* ---- what only an untracked file may set; where a run may write ---- */

/* path (absolute) with the symlinks of the part that exists resolved and
 * the rest as written (heap); NULL when that cannot be told: a dangling
 * symlink, a directory that cannot be looked into, ".." below a missing
 * directory. */
static char *canonical(const char *path)
{
	char *head = xstrdup(path), *real, *rest = NULL, *out = NULL;
	char *slash;
	bool dotdot = false, dotgit;
	struct err e;

	while (!(real = fsx_realpath(*head ? head : "/", &e))) {
		slash = strrchr(head, '/');
		if (fsx_exists(head) || !slash)
			goto out;
		*slash = '\0';
	}
	if (path[strlen(head)])
		rest = normalise(path + strlen(head), &dotdot, &dotgit);
	if (!dotdot)
		out = rest ? xasprintf("%s/%s", strcmp(real, "/") ? real : "",
				       rest)
			   : xstrdup(real);
out:
	free(rest);
	free(real);
	free(head);
	return out;
}

static bool has_dotgit(const char *path)
{
	bool dotdot, dotgit;

	free(normalise(path, &dotdot, &dotgit));
	return dotgit;
}

/* True when path is dir or lies beneath it. */
static bool beneath(const char *path, const char *dir)
{
	size_t n = strcmp(dir, "/") == 0 ? 0 : strlen(dir);

	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '/' || (n && path[n] == '\0'));
}

/* path (absolute) with its directory made symlink-free (heap), as
 * gitrepo_tracked wants it. */
static char *real_file(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir =
		slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	char *real = fsx_realpath(*dir ? dir : "/", e), *out = NULL;

	if (real)
		out = join(real, slash ? slash + 1 : path);
	free(real);
	free(dir);
	return out;
}

/* The local file is refused when git tracks it: a branch that adds it
 * replaces the ignored one on checkout, and the hooks then sync. stamp
 * (or NULL) is that of an index that listed it not: while the index file
 * is that one, it is not read (every load asks, and git's index is 1.4 MB
 * at 10k stories); it is set to this answer's, or cleared. */
static bool check_local(const char *path, struct gitindex_stamp *stamp,
			struct err *e)
{
	char *real = real_file(path, e);
	struct buf lines = BUF_INIT;
	bool tracked = false, ok = real != NULL;

	if (ok && stamp) {
		enum gitindex_answer a =
			gitindex_prefixed(real, &lines, stamp, NULL);

		/* listed: tracked; a longer name listed only, or the index
		 * not the reader's: asked again, as without a stamp */
		tracked = a == GITINDEX_TRACKED &&
			  has_line(lines.data, real, real);
		if (a == GITINDEX_UNTRACKED || tracked)
			goto told;
		stamp->set = false;
	}
	ok = ok && gitrepo_tracked_head(real, &tracked, NULL, e);
told:
	if (ok && tracked)
		ok = err_set(e,
			     "%s: git tracks this file, but what it sets may "
			     "run commands and write files, which no file in "
			     "the repository may: untrack it (git rm --cached) "
			     "and keep it in .gitignore",
			     path);
	buf_finish(&lines);
	free(real);
	return ok;
}

/*
 * The companion's check, once the load is over (loaded: it succeeded, and
 * c->home says where the run record is): its stamp is the record's, so
 * the check is asked after the files are parsed, where the database is
 * known. Nothing a file set has been used yet, and a tracked companion's
 * refusal is the load's error whatever else failed, as when it was asked
 * first.
 */
static bool local_checked(struct config *c, const char *local, bool loaded,
			  struct err *e)
{
	struct run_record_file rf;
	struct err le;

	if (!local || !fsx_exists(local))
		return true;
	if (loaded && run_record_read(&c->home, &rf, &le))
		c->local_none = rf.local_none;
	if (check_local(local, loaded ? &c->local_none : NULL, &le))
		return true;
	*e = le;
	return false;
}

/* A server's database keeps the checkout's files (the run lock, the
 * record, the journal) in ROOT/.storysync: a symlink there is the
 * repository's, which may lead anywhere. */
static bool server_files(const struct config *c, struct err *e)
{
	char *base = dbhome_server_base(c->root);
	bool ok = !fsx_follows_tree_link(c->root, base);

	if (!ok)
		err_set(e,
			"%s: a symlink in the tree on its way: the checkout's "
			"files for the server's database (the run lock, the "
			"journal) would be written where it leads; remove it",
			base);
	free(base);
	return ok;
}

/* The database through a symlink that leaves the tree (or enters .git) is
 * outside it as much as an absolute path. */
static bool check_database(struct parser *p)
{
	const struct config *c = p->c;
	struct at at = p->w->database_at;
	const char *v = p->w->database;
	char *real, *what = NULL;
	bool ok = true;

	if (!at.file) /* the default: the main file's */
		at = (struct at){p->name, p->source, 0, 0};
	if (dbhome_is_server(c->database))
		return server_files(c, p->e);
	if (at.source == SRC_LOCAL)
		return true; /* it may name any */
	what = v ? database_outside(v) : NULL;
	if (what) { /* refused or noted as read */
		free(what);
		return true;
	}
	real = canonical(c->database);
	if (!real || !beneath(real, c->root) ||
	    has_dotgit(real + strlen(c->root)))
		what = xasprintf("'database': '%s' leads out of the tree (or "
				 "into .git) through a symlink",
				 v ? v : ".storysync/stories.db");
	if (what)
		ok = local_only(p, &at, what);
	free(what);
	free(real);
	return ok;
}

/* The database or a file of its family: DATABASE-wal, -shm, -journal,
 * .lock, .run, .writes, .statcache and their temporary files. */
static bool database_family(const char *path, const char *database)
{
	const char *a = strrchr(path, '/'), *b = strrchr(database, '/');
	size_t n = strlen(b);
	struct stat s1, s2;

	if (fsx_stat_path(path, &s1) && fsx_stat_path(database, &s2) &&
	    s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino)
		return true; /* a hard link: log: would append to it */
	return a - path == b - database &&
	       strncmp(path, database, (size_t)(b - database)) == 0 &&
	       strncmp(a, b, n) == 0 &&
	       (a[n] == '\0' || a[n] == '-' || a[n] == '.');
}

/* The stage directory that holds path (absolute, canonical), as
 * "BACKLOG/STAGE" (heap), or NULL. */
static char *stage_holding(const struct config *c, const char *path)
{
	char *found = NULL;

	for (size_t b = 0; !found && b < c->nbacklogs; b++)
		for (size_t i = 0; !found && i < c->nstages; i++) {
			char *dir = xasprintf("%s/%s/%s", c->root,
					      c->backlogs[b].path,
					      c->stages[i].dir);
			char *real = canonical(dir);

			if (beneath(path, real ? real : dir))
				found = xasprintf("'%s' of backlog '%s'",
						  c->stages[i].dir,
						  c->backlogs[b].name);
			free(real);
			free(dir);
		}
	return found;
}

/* path (absolute) as a run writes it: canonical, but for a last name
 * that is a symlink in the tree, the repository's (a checkout puts one
 * committed there), which a run removes and never follows
 * (dbcheck_clear): its directory's canonical path and that name then. */
static char *output_canonical(const struct config *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *out = NULL;
	struct stat st;

	if (!slash || lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return canonical(path);
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	real = canonical(dir);
	if (real && beneath(real, c->root))
		out = xasprintf("%s%s", real, slash);
	free(real);
	free(dir);
	return out ? out : canonical(path);
}

/* Why a run may not write path (absolute) besides the stories and the
 * database (heap), or NULL. */
static char *output_problem(const struct config *c, const char *path)
{
	char *base = dbhome_is_server(c->database) ? dbhome_server_base(c->root)
						   : xstrdup(c->database);
	char *real = output_canonical(c, path), *db = canonical(base), *why;
	char *file = canonical(c->file), *local = NULL, *stage = NULL;

	if (c->local)
		local = canonical(c->local);
	if (!real)
		why = xstrdup("cannot be resolved: a dangling symlink, or '..' "
			      "below a missing directory");
	else if (database_family(real, db ? db : base))
		why = xstrdup("is the database or one of its files (-wal, "
			      "-shm, -journal, .lock, .run, .writes, "
			      ".statcache)");
	else if (has_dotgit(real))
		why = xstrdup("lies inside .git");
	else if ((file && strcmp(real, file) == 0) ||
		 (local && strcmp(real, local) == 0))
		why = xstrdup("is a configuration file");
	else if ((stage = stage_holding(c, real)))
		why = xasprintf("lies in the stage directory %s, among the "
				"stories",
				stage);
	else
		why = NULL;
	free(stage);
	free(local);
	free(file);
	free(db);
	free(base);
	free(real);
	return why;
}

/* What a run writes besides the stories and the database (log:,
 * metrics_file:) may be none of them, nor lie inside .git. */
static bool check_output(struct parser *p, const char *key, const char *v,
			 const struct at *at)
{
	char *abs, *why;

	if (!v || strcmp(v, "syslog") == 0 || strcmp(v, "none") == 0)
		return true;
	abs = v[0] == '/' ? xstrdup(v) : join(p->c->root, v);
	why = output_problem(p->c, abs);
	if (why)
		fail_at(p, at, "'%s': '%s' %s", key, v, why);
	free(why);
	free(abs);
	return !why;
}

/* A service's file that sets what only an untracked file may: refused
 * when git tracks it. */
static bool check_service(struct parser *p)
{
	const char *name = local_name(p);
	bool tracked = false;

	if (!p->needs_untracked)
		return true;
	if (!gitrepo_tracked_head(p->c->file, &tracked, NULL, p->e))
		return false;
	if (tracked)
		return err_set(p->e,
			       "%s: git tracks this file, so it may not set "
			       "it; move it to %s%s",
			       p->needs_untracked,
			       name ? name : "a file git does not track",
			       name ? ", which git does not track" : "");
	return true;
}

static bool check_after(struct parser *p, const char *local)
{
	struct config *c = p->c;
	const char *slash = local ? strrchr(local, '/') : NULL;

	if (local && fsx_exists(local))
		c->local = join(c->root, slash ? slash + 1 : local);
	return check_database(p) &&
	       check_output(p, "log", c->log, &p->w->log_at) &&
	       check_output(p, "metrics_file", c->metrics_file,
			    &p->w->metrics_at) &&
	       check_service(p);
}

/* True when text has the line a or the line b. */
static bool has_line(const char *text, const char *a, const char *b)
{
	for (const char *l = text; *l;) {
		size_t n = strcspn(l, "\n");

		if ((strlen(a) == n && strncmp(l, a, n) == 0) ||
		    (strlen(b) == n && strncmp(l, b, n) == 0))
			return true;
		l += n + (l[n] == '\n');
	}
	return false;
}

bool config_ignore_local(const struct config *c, bool *added, struct err *e)
{
	char *local = config_local_path(c->file), *data = NULL, *line = NULL;
	struct file_stat old, st;
	struct stat lst;
	enum fsx_entry_kind kind;
	struct buf b = BUF_INIT;
	size_t len = 0;
	bool exists, stale, ok = false;
	int fd;

	*added = false;
	if (!local)
		return true;
	line = xasprintf("/%s",
			 strrchr(local, '/') ? strrchr(local, '/') + 1 : local);
	fd = fsx_open_root(c->root, e);
	if (fd < 0)
		goto out;
	exists = fsx_lstat_at(fd, ".gitignore", &lst, &kind);
	if (exists && !fsx_read_beneath(fd, ".gitignore", &data, &len, &old, e))
		goto out;
	ok = data && has_line(data, line, line + 1);
	if (ok)
		goto out;
	if (data)
		buf_add(&b, data, len);
	if (b.len && b.data[b.len - 1] != '\n')
		buf_putc(&b, '\n');
	buf_printf(&b,
		   "# storysync: this machine's settings, never in git "
		   "(storysync.yml(5))\n%s\n",
		   line);
	ok = fsx_write_atomic(fd, ".gitignore", b.data, b.len,
			      exists ? &old : NULL, &st, &stale, e);
	if (!ok && stale)
		err_set(e, "%s/.gitignore: changed while init added %s",
			c->root, line + 1);
	*added = ok;
out:
	if (fd >= 0)
		close(fd);
	buf_finish(&b);
	free(data);
	free(line);
	free(local);
	return ok;
}

char *config_local_path(const char *file)
{
	size_t n = strlen(file);
	size_t ext = n > 4 && strcmp(file + n - 4, ".yml") == 0    ? 4
		     : n > 5 && strcmp(file + n - 5, ".yaml") == 0 ? 5
								   : 0;

	/* NAME.yml's is NAME.local.yml; a companion has none */
	if (!ext || file[n - ext - 1] == '/' ||
	    (n - ext >= 6 && strncmp(file + n - ext - 6, ".local", 6) == 0))
		return NULL;
	return xasprintf("%.*s.local%s", (int)(n - ext), file, file + n - ext);
}

bool config_ignored(const struct config *c, const char *rel)
{
	const char *base = strrchr(rel, '/');

	base = base ? base + 1 : rel;
	for (size_t i = 0; i < c->nignore; i++) {
		const char *g = c->ignore[i];

		if (strchr(g, '/') ? fnmatch(g, rel, FNM_PATHNAME) == 0
				   : fnmatch(g, base, 0) == 0)
			return true;
	}
	return false;
}

const struct config_stage *config_stage_for(const struct config *c,
					    const char *status)
{
	if (c->dialect.status_from_key)
		return c->create_in;
	return status ? config_stage_by_status(c, status) : NULL;
}

void config_finish(struct config *c)
{
	for (size_t i = 0; i < c->nbacklogs; i++) {
		free(c->backlogs[i].name);
		free(c->backlogs[i].path);
	}
	for (size_t i = 0; i < c->nstages; i++) {
		free(c->stages[i].status);
		free(c->stages[i].dir);
	}
	free(c->backlogs);
	free(c->stages);
	free(c->file);
	free(c->database_at);
	dbhome_finish(&c->home);
	free(c->root);
	free(c->database);
	free(c->git_author_name);
	free(c->git_author_email);
	for (int f = 0; f < SF_COUNT; f++)
		free(c->keys[f]);
	strv_free_n(c->statuses, c->nstatuses);
	strv_free_n(c->ignore, c->nignore);
	strv_free_n(c->archive_stages, c->narchive_stages);
	strv_free_n(c->key_order, c->nkey_order);
	free(c->file_name);
	free(c->tree);
	free(c->new_file);
	free(c->new_file_extra);
	for (size_t i = 0; i < c->npolicy; i++)
		free(c->policy[i].backlog);
	free(c->policy);
	free(c->log);
	free(c->metrics_file);
	free(c->notify);
	free(c->allowed_by);
	free(c->local);
	memset(c, 0, sizeof(*c));
}

/* The parent of an absolute path in place; false at "/". */
static bool up(char *dir)
{
	char *slash = strrchr(dir, '/');

	if (strcmp(dir, "/") == 0 || !slash)
		return false;
	slash[slash == dir] = '\0';
	return true;
}

char *config_find(const char *dir, struct err *e)
{
	char *start = fsx_realpath(dir, e);
	char *cur, *path = NULL;
	struct stat st;

	if (!start)
		return NULL;
	cur = xstrdup(start);
	for (;;) {
		path = join(cur, CONFIG_FILE_NAME);
		if (fsx_stat_path(path, &st) && !S_ISDIR(st.st_mode))
			break;
		xfree(&path);
		if (!up(cur)) {
			err_set(e,
				"no %s found in %s or any parent directory "
				"(run 'storysync init')",
				CONFIG_FILE_NAME, start);
			break;
		}
	}
	free(cur);
	free(start);
	return path;
}

bool config_write_default(const char *path, struct err *e)
{
	bool written;

	return fsx_write_new(path, default_text, strlen(default_text), 0644,
			     &written, e);
}

char *config_backlog_md(const char *dir)
{
	char *path = join(dir, "backlog/config.yml");
	struct stat st;

	if (fsx_stat_path(path, &st) && S_ISREG(st.st_mode))
		return path;
	free(path);
	return NULL;
}

/* What the adoption takes from Backlog.md's config.yml. */
struct bmd {
	char **statuses;
	size_t nstatuses;
	char *prefix;
};

/* Skips the value that starts at p->ev (a scalar or a whole collection). */
static bool skip_value(struct parser *p)
{
	int depth = 0;

	do {
		if (p->ev.type == YEV_MAP_START || p->ev.type == YEV_SEQ_START)
			depth++;
		else if (p->ev.type == YEV_MAP_END || p->ev.type == YEV_SEQ_END)
			depth--;
	} while (depth > 0 && next(p));
	return depth == 0;
}

static bool bmd_prefix(struct parser *p, char *key, unsigned line, unsigned col)
{
	if (!next(p))
		return false;
	if (strcmp(key, "task") != 0 || !is_string(&p->ev))
		return skip_value(p);
	free(p->bmd->prefix);
	p->bmd->prefix = xstrdup(p->ev.value);
	return true;
}

static bool bmd_key(struct parser *p, char *key, unsigned line, unsigned col)
{
	struct bmd *b = p->bmd;

	if (strcmp(key, "statuses") == 0)
		return parse_strings(p, "statuses", &b->statuses,
				     &b->nstatuses);
	if (!next(p))
		return false;
	if (strcmp(key, "task_prefix") == 0 && is_string(&p->ev)) {
		free(b->prefix);
		b->prefix = xstrdup(p->ev.value);
		return true;
	}
	if (strcmp(key, "prefixes") == 0 && p->ev.type == YEV_MAP_START)
		return each_key(p, bmd_prefix);
	return skip_value(p);
}

static bool read_bmd(const char *path, struct bmd *b, struct err *e)
{
	struct parser p = {.name = path, .e = e, .bmd = b};
	char *text = NULL;
	size_t len = 0;
	bool ok = false;

	if (!read_file(path, &text, &len, e))
		return false;
	p.r = yreader_create(path, text, len, 1, CONFIG_MAX_DEPTH);
	if (!next(&p) || (p.ev.type == YEV_DOC_START && !next(&p)))
		goto out;
	if (p.ev.type != YEV_MAP_START) {
		ok = fail(&p, p.ev.line, p.ev.col,
			  "a Backlog.md config.yml is a mapping");
		goto out;
	}
	ok = each_key(&p, bmd_key);
out:
	yreader_destroy(p.r);
	free(text);
	return ok;
}

/* A YAML double-quoted scalar for any text without control characters. */
static void put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

bool config_write_backlog_md(const char *path, const char *bmd, bool *written,
			     struct err *e)
{
	static const char *const defaults[] = {"To Do", "In Progress", "Done"};
	struct bmd b = {0};
	struct buf t = BUF_INIT;
	bool ok;

	*written = false;
	if (!read_bmd(bmd, &b, e))
		goto fail;
	buf_puts(&t,
		 "# storysync configuration for the Backlog.md project in "
		 "backlog/, written\n"
		 "# by storysync init from backlog/config.yml: see "
		 "storysync.yml(5),\n"
		 "# ADOPTING A BACKLOG.MD PROJECT. Paths are relative to this "
		 "file.\n\n"
		 "database: .storysync/stories.db\n"
		 "backlogs:\n"
		 "  main: backlog\n\n"
		 "# The workflow state is the status: key; the folders do not "
		 "define it.\n"
		 "status_from: key\n"
		 "statuses: [");
	for (size_t i = 0; i < (b.nstatuses ? b.nstatuses : 3); i++) {
		if (i)
			buf_puts(&t, ", ");
		put_quoted(&t, b.nstatuses ? b.statuses[i] : defaults[i]);
	}
	buf_puts(&t, "]\n\n"
		     "# Backlog.md's folders, as stages that hold any status.\n"
		     "stages:\n"
		     "  task: tasks\n"
		     "  draft: drafts\n"
		     "  completed: completed\n"
		     "  archived-task: archive/tasks\n"
		     "  archived-draft: archive/drafts\n"
		     "# an archived copy of a task a live folder holds is "
		     "skipped, not an error\n"
		     "archive_stages: [archived-task, archived-draft]\n"
		     "# where a story the API creates goes\n"
		     "create_in: task\n\n"
		     "# Its key names, and its file names: \"task-12 - "
		     "Title-with-dashes.md\".\n"
		     "keys:\n"
		     "  depends_on: dependencies\n"
		     "  created: created_date\n"
		     "  parent: parent_task_id\n"
		     "file_name: \"{id:lower} - {title}.md\"\n"
		     "mirror_keys: false\n"
		     "# It reads \"assignee: @ana\" as text, and dates a new "
		     "task '2025-06-03 09:12'.\n"
		     "at_strings: true\n"
		     "created_format: datetime\n"
		     "# A new task's keys in its order, its lists one item a "
		     "line.\n"
		     "key_order: [id, title, status, assignee, created_date, "
		     "updated_date, labels,\n"
		     "  milestone, dependencies, references, documentation, "
		     "parent_task_id, priority,\n"
		     "  ordinal]\n"
		     "list_style: block\n");
	buf_printf(&t,
		   "\n# Backlog.md names new tasks %s-N: an API that creates "
		   "stories\n# should too.\n",
		   b.prefix ? b.prefix : "task");
	buf_puts(&t, LOCAL_NOTE);
	ok = fsx_write_new(path, t.data, strlen(t.data), 0644, written, e);
	buf_finish(&t);
	strv_free_n(b.statuses, b.nstatuses);
	free(b.prefix);
	return ok;
fail:
	strv_free_n(b.statuses, b.nstatuses);
	free(b.prefix);
	return false;
}

const struct config_backlog *config_backlog(const struct config *c,
					    const char *name)
{
	for (size_t i = 0; i < c->nbacklogs; i++)
		if (strcmp(c->backlogs[i].name, name) == 0)
			return &c->backlogs[i];
	return NULL;
}

char *config_stage_path(const struct config_backlog *b,
			const struct config_stage *st)
{
	bool top = strcmp(b->path, ".") == 0, here = strcmp(st->dir, ".") == 0;

	if (top || here)
		return xstrdup(top ? st->dir : b->path);
	return xasprintf("%s/%s", b->path, st->dir);
}

const struct config_stage *config_epic_stage(const struct config *c,
					     const struct config_stage *st,
					     const char *epic)
{
	char *dir = strcmp(st->dir, ".") == 0
			    ? xstrdup(epic)
			    : xasprintf("%s/%s", st->dir, epic);
	size_t n = strlen(dir);
	const struct config_stage *found = NULL;

	for (size_t i = 0; !found && i < c->nstages; i++)
		if (strncmp(c->stages[i].dir, dir, n) == 0 &&
		    (c->stages[i].dir[n] == '\0' || c->stages[i].dir[n] == '/'))
			found = &c->stages[i];
	free(dir);
	return found;
}

const struct config_stage *config_stage_by_dir(const struct config *c,
					       const char *dir)
{
	for (size_t i = 0; i < c->nstages; i++)
		if (strcmp(c->stages[i].dir, dir) == 0)
			return &c->stages[i];
	return NULL;
}

const struct config_stage *config_stage_by_status(const struct config *c,
						  const char *status)
{
	for (size_t i = 0; i < c->nstages; i++)
		if (strcmp(c->stages[i].status, status) == 0)
			return &c->stages[i];
	return NULL;
}
