/*
 * The file side by a walk: every story file's stat data against the sync
 * state; a file is read and hashed only when they differ (or it is racy, or
 * the run is --full), and parsed only when its content differs.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "detect.h"
#include "mem.h"
#include "strmap.h"

/* A file read and parsed in this walk, before ids are matched. */
struct parsed {
	struct file_change fc;
};

struct walk {
	const struct config *c;
	const struct state_entry *state;
	size_t nstate;
	struct strmap by_path;
	bool full;
	bool *same; /* per state entry: the file there is unchanged */
	const struct config_backlog *backlog;
	size_t backlog_index;
	const struct config_stage *stage;
	size_t stage_len; /* strlen of "<backlog>/<stage>/" prefix */
	struct parsed *parsed;
	size_t nparsed, capparsed;
	struct scan_result *out;
	struct err *e;
};

static void add_error(struct scan_result *r, const char *path, const char *id,
		      const char *msg)
{
	struct file_error *fe;

	r->errors =
		xgrow(r->errors, &r->caperrors, r->nerrors + 1, sizeof(*fe));
	fe = &r->errors[r->nerrors++];
	fe->path = xstrdup(path);
	fe->id = xstrdup(id);
	fe->msg = xstrdup(msg);
}

static struct file_change *add_change(struct scan_result *r)
{
	struct file_change *fc;

	r->changes =
		xgrow(r->changes, &r->capchanges, r->nchanges + 1, sizeof(*fc));
	fc = &r->changes[r->nchanges++];
	memset(fc, 0, sizeof(*fc));
	return fc;
}

static void file_change_finish(struct file_change *fc)
{
	free(fc->id);
	free(fc->path);
	free(fc->old_path);
	story_finish(&fc->story);
	for (int m = 0; m < SM_COUNT; m++)
		free(fc->mirror[m]);
}

bool detect_location(const struct config *c, const char *rel,
		     const struct config_backlog **backlog,
		     const struct config_stage **stage, char **epic)
{
	for (size_t b = 0; b < c->nbacklogs; b++) {
		const char *bp = c->backlogs[b].path, *rest = rel;
		size_t bl = strlen(bp);

		if (strcmp(bp, ".") != 0) {
			if (strncmp(rel, bp, bl) != 0 || rel[bl] != '/')
				continue;
			rest = rel + bl + 1;
		}
		for (size_t s = 0; s < c->nstages; s++) {
			const char *dir = c->stages[s].dir, *file, *slash;
			size_t dl = strlen(dir);

			if (strncmp(rest, dir, dl) != 0 || rest[dl] != '/')
				continue;
			file = rest + dl + 1;
			slash = strchr(file, '/');
			if (slash && strchr(slash + 1, '/'))
				return false; /* deeper than one epic */
			*backlog = &c->backlogs[b];
			*stage = &c->stages[s];
			*epic = slash ? xstrndup(file, (size_t)(slash - file))
				      : NULL;
			return true;
		}
	}
	return false;
}

/* The story's location fields from where its file is. */
static bool set_location(struct walk *w, struct file_change *fc)
{
	const struct config_backlog *b;
	const struct config_stage *s;
	char *epic = NULL;

	if (!detect_location(w->c, fc->path, &b, &s, &epic))
		return false;
	story_set(&fc->story, SF_BACKLOG, b->name);
	story_set(&fc->story, SF_STATUS, s->status);
	free(fc->story.v[SF_EPIC]);
	fc->story.v[SF_EPIC] = epic;
	return true;
}

static size_t state_at(const struct walk *w, const char *rel)
{
	size_t i;

	return strmap_get(&w->by_path, rel, &i) ? i : SIZE_MAX;
}

static struct parsed *new_parsed(struct walk *w)
{
	struct parsed *p;

	if (w->nparsed == w->capparsed) {
		w->capparsed = w->capparsed ? w->capparsed * 2 : 64;
		w->parsed = xreallocarray(w->parsed, w->capparsed,
					  sizeof(*w->parsed));
	}
	p = &w->parsed[w->nparsed++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Reads, hashes and (when its content changed) parses one story file. */
static void visit_file(struct walk *w, int dirfd, const char *name,
		       const char *rel, const struct stat *lst)
{
	size_t si = state_at(w, rel);
	const struct state_entry *se = si == SIZE_MAX ? NULL : &w->state[si];
	struct file_stat fs;
	struct story_doc doc = {0};
	struct parsed *p;
	struct err e;
	char *text = NULL, hash[BLOBID_HEX];
	size_t len;
	int64_t now = fsx_now_ns();

	fsx_stat_from(&fs, lst);
	if (se && !w->full && fsx_stat_equal(&fs, &se->st) &&
	    !fsx_racy(&se->st, se->recorded_ns)) {
		w->same[si] = true;
		return;
	}
	if (!fsx_read_at(dirfd, name, &text, &len, &fs, &e)) {
		/* fsx names the file by its name only: say where it is */
		size_t n = strlen(name);
		char *msg = strncmp(e.msg, name, n) == 0
				    ? xasprintf("%s%s", rel, e.msg + n)
				    : xstrdup(e.msg);

		add_error(w->out, rel, se ? se->id : NULL, msg);
		free(msg);
		return;
	}
	blobid_hex(text, len, hash);
	if (se && strcmp(hash, se->hash) == 0) {
		w->same[si] = true;
		if (!fsx_stat_equal(&fs, &se->st) && !fsx_racy(&fs, now)) {
			struct file_change *fc = add_change(w->out);

			fc->id = xstrdup(se->id);
			fc->side = SIDE_SAME;
			fc->path = xstrdup(rel);
			fc->old_path = xstrdup(rel);
			memcpy(fc->hash, hash, BLOBID_HEX);
			fc->st = fs;
			fc->recorded_ns = now;
		}
		goto out;
	}
	if (!story_parse(&doc, rel, text, len, &e)) {
		char *id = se ? xstrdup(se->id) : story_id_from_filename(rel);

		add_error(w->out, rel, id, e.msg);
		free(id);
		goto out;
	}
	p = new_parsed(w);
	p->fc.path = xstrdup(rel);
	p->fc.story = doc.s;
	memset(&doc.s, 0, sizeof(doc.s));
	for (int m = 0; m < SM_COUNT; m++) {
		p->fc.mirror[m] = doc.mirror[m];
		doc.mirror[m] = NULL;
	}
	p->fc.id = xstrdup(p->fc.story.v[SF_ID]);
	memcpy(p->fc.hash, hash, BLOBID_HEX);
	p->fc.st = fs;
	p->fc.recorded_ns = now;
	set_location(w, &p->fc);
out:
	story_doc_finish(&doc);
	free(text);
}

static bool on_entry(void *ctx, int dirfd, const char *name, const char *rel,
		     enum fsx_entry_kind kind, const struct stat *st)
{
	struct walk *w = ctx;
	const char *slash;
	char *msg;

	switch (kind) {
	case FSX_FILE: break;
	case FSX_SYMLINK:
		msg = xasprintf("%s: symbolic link; not followed", rel);
		goto error;
	case FSX_DIR_MD:
		msg = xasprintf("%s: a directory, not a story file", rel);
		goto error;
	default: msg = xasprintf("%s: not a regular file", rel); goto error;
	}
	slash = strchr(rel + w->stage_len, '/');
	if (slash && strchr(slash + 1, '/')) {
		msg = xasprintf("%s: too deep: a story lives in "
				"<stage>/[<epic>/]<ID>-<slug>.md",
				rel);
		goto error;
	}
	w->out->files_per_backlog[w->backlog_index]++;
	w->out->nfiles++;
	visit_file(w, dirfd, name, rel, st);
	return true;
error : {
	size_t si = state_at(w, rel);
	char *id = si != SIZE_MAX ? xstrdup(w->state[si].id)
				  : story_id_from_filename(rel);

	add_error(w->out, rel, id, msg);
	free(id);
	free(msg);
	return true;
}
}

static bool walk_backlogs(struct walk *w, int rootfd)
{
	struct buf dir = BUF_INIT;
	bool ok = true;

	for (size_t b = 0; ok && b < w->c->nbacklogs; b++) {
		enum fsx_entry_kind kind;
		struct stat st;

		w->backlog = &w->c->backlogs[b];
		w->backlog_index = b;
		for (size_t s = 0; ok && s < w->c->nstages; s++) {
			bool gone = false;

			w->stage = &w->c->stages[s];
			buf_reset(&dir);
			if (strcmp(w->backlog->path, ".") != 0)
				buf_printf(&dir, "%s/", w->backlog->path);
			buf_puts(&dir, w->stage->dir);
			w->stage_len = dir.len + 1;
			ok = fsx_walk(rootfd, dir.data, on_entry, w, &gone,
				      w->e);
		}
		w->out->backlog_missing[b] =
			!fsx_lstat_at(rootfd, w->backlog->path, &st, &kind);
	}
	buf_finish(&dir);
	return ok;
}

struct claim {
	const char *id;
	const char *path;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = strcmp(x->id, y->id);

	return r ? r : strcmp(x->path, y->path);
}

/* Ids claimed by two files: each file is reported, naming another, and the
 * id is blocked: neither takes the other's row. */
static void find_twice(struct walk *w, struct strmap *blocked)
{
	struct strmap ids;
	struct claim *v;
	size_t n = 0;

	if (!w->nparsed)
		return;
	v = xcalloc(w->nparsed + w->nstate, sizeof(*v));
	strmap_init(&ids, w->nparsed);
	for (size_t i = 0; i < w->nparsed; i++) {
		strmap_put(&ids, w->parsed[i].fc.id, i);
		v[n++] = (struct claim){w->parsed[i].fc.id,
					w->parsed[i].fc.path};
	}
	for (size_t i = 0; i < w->nstate; i++)
		if (w->same[i] && strmap_get(&ids, w->state[i].id, NULL))
			v[n++] = (struct claim){w->state[i].id,
						w->state[i].path};
	qsort(v, n, sizeof(*v), claim_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j].id, v[i].id) == 0; j++)
			;
		if (j - i < 2)
			continue;
		strmap_put(blocked, v[i].id, 0);
		for (size_t k = i; k < j; k++) {
			const struct claim *other = &v[k + 1 < j ? k + 1 : i];
			char *msg = xasprintf("%s: id '%s' is also claimed by "
					      "%s",
					      v[k].path, v[k].id, other->path);

			add_error(w->out, v[k].path, v[k].id, msg);
			free(msg);
		}
	}
	strmap_finish(&ids);
	free(v);
}

/* Turns the parsed files and the state entries no file claims into
 * changes, matching them by id. */
static void match_ids(struct walk *w)
{
	struct scan_result *r = w->out;
	struct strmap blocked, by_id, claimed;

	strmap_init(&blocked, 16);
	find_twice(w, &blocked);
	for (size_t i = 0; i < r->nerrors; i++)
		if (r->errors[i].id)
			strmap_put(&blocked, r->errors[i].id, 0);
	strmap_init(&by_id, w->nparsed ? w->nstate : 0);
	if (w->nparsed)
		for (size_t i = 0; i < w->nstate; i++)
			strmap_put(&by_id, w->state[i].id, i);
	strmap_init(&claimed, w->nparsed);
	for (size_t i = 0; i < w->nparsed; i++) {
		struct file_change *fc;
		size_t si;

		if (strmap_get(&blocked, w->parsed[i].fc.id, NULL)) {
			file_change_finish(&w->parsed[i].fc);
			continue;
		}
		fc = add_change(r);
		*fc = w->parsed[i].fc;
		strmap_put(&claimed, fc->id, 0);
		if (strmap_get(&by_id, fc->id, &si)) {
			fc->side = SIDE_CHANGED;
			fc->old_path = xstrdup(w->state[si].path);
		} else {
			fc->side = SIDE_NEW;
		}
	}
	for (size_t i = 0; i < w->nstate; i++) {
		const struct state_entry *se = &w->state[i];
		struct file_change *fc;

		if (w->same[i] || strmap_get(&claimed, se->id, NULL) ||
		    strmap_get(&blocked, se->id, NULL))
			continue;
		fc = add_change(r);
		fc->id = xstrdup(se->id);
		fc->side = SIDE_DELETED;
		fc->old_path = xstrdup(se->path);
	}
	strmap_finish(&claimed);
	strmap_finish(&by_id);
	strmap_finish(&blocked);
}

static void walk_init(struct walk *w, const struct config *c,
		      const struct state_entry *state, size_t nstate,
		      struct scan_result *out, struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->c = c;
	w->state = state;
	w->nstate = nstate;
	w->out = out;
	w->e = e;
	memset(out, 0, sizeof(*out));
	out->files_per_backlog = xcalloc(c->nbacklogs, sizeof(size_t));
	out->backlog_missing = xcalloc(c->nbacklogs, sizeof(bool));
	w->same = xcalloc(nstate, sizeof(bool));
	strmap_init(&w->by_path, nstate);
	for (size_t i = 0; i < nstate; i++)
		strmap_put(&w->by_path, state[i].path, i);
}

static bool walk_finish(struct walk *w, bool ok)
{
	if (ok)
		match_ids(w);
	else
		for (size_t i = 0; i < w->nparsed; i++)
			file_change_finish(&w->parsed[i].fc);
	free(w->parsed);
	strmap_finish(&w->by_path);
	free(w->same);
	return ok;
}

bool detect_scan(const struct config *c, int rootfd,
		 const struct state_entry *state, size_t nstate, bool full,
		 struct scan_result *out, struct err *e)
{
	struct walk w;

	walk_init(&w, c, state, nstate, out, e);
	w.full = full;
	return walk_finish(&w, walk_backlogs(&w, rootfd));
}

/* Visits one candidate path, if it is a story path and exists. */
static bool visit_path(struct walk *w, int rootfd, const char *rel)
{
	const struct config_backlog *b;
	const struct config_stage *s;
	enum fsx_entry_kind kind;
	const char *slash = strrchr(rel, '/');
	char *epic = NULL, *dir;
	struct stat st;
	int dirfd;
	bool ok = true;

	if (!detect_location(w->c, rel, &b, &s, &epic) || !slash ||
	    strstr(rel, "/.") || rel[0] == '.')
		goto out;
	w->backlog = b;
	w->backlog_index = (size_t)(b - w->c->backlogs);
	w->stage = s;
	w->stage_len = (size_t)(strstr(rel, s->dir) - rel) + strlen(s->dir) + 1;
	dir = xstrndup(rel, (size_t)(slash - rel));
	dirfd = fsx_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	if (dirfd < 0)
		goto out; /* gone: the state entry becomes a deletion */
	if (fsx_lstat_at(dirfd, slash + 1, &st, &kind))
		ok = on_entry(w, dirfd, slash + 1, rel, kind, &st);
	close(dirfd);
out:
	free(epic);
	return ok;
}

bool detect_paths(const struct config *c, int rootfd,
		  const struct state_entry *state, size_t nstate,
		  char *const *paths, size_t npaths, struct scan_result *out,
		  struct err *e)
{
	struct strmap candidates;
	struct walk w;
	bool ok = true;

	walk_init(&w, c, state, nstate, out, e);
	out->partial = true;
	strmap_init(&candidates, npaths);
	for (size_t i = 0; i < npaths; i++)
		strmap_put(&candidates, paths[i], i);
	/* every state entry the diff does not name is unchanged */
	for (size_t i = 0; i < nstate; i++)
		w.same[i] = !strmap_get(&candidates, state[i].path, NULL);
	for (size_t i = 0; ok && i < npaths; i++) {
		size_t first;

		strmap_get(&candidates, paths[i], &first);
		if (first == i)
			ok = visit_path(&w, rootfd, paths[i]);
	}
	strmap_finish(&candidates);
	return walk_finish(&w, ok);
}

void scan_result_finish(struct scan_result *r)
{
	for (size_t i = 0; i < r->nchanges; i++)
		file_change_finish(&r->changes[i]);
	free(r->changes);
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].path);
		free(r->errors[i].id);
		free(r->errors[i].msg);
	}
	free(r->errors);
	free(r->files_per_backlog);
	free(r->backlog_missing);
	memset(r, 0, sizeof(*r));
}
