/*
 * The file side by a walk: every story file's stat data against the sync
 * state; a file is read and hashed only when they differ (or it is racy, or
 * the run is --full), and parsed only when its content differs (or the run
 * is --full: the configuration may read it another way now).
 *
 * Two cores do the work, as git's preloaded index does: two threads walk
 * every other stage directory, comparing each file's stat data with its
 * state as they go (an unchanged file leaves nothing behind), and the files
 * to read are read, hashed and parsed by two threads. Each stage keeps the
 * walk's order, so the result does not depend on the threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "detect.h"
#include "json.h"
#include "mem.h"
#include "seam.h"
#include "statcache.h"
#include "strmap.h"

/* Fewer files than this to read are not worth a second thread. */
#define PARALLEL_MIN 32

/* One *.md entry found by the walk. */
struct entry {
	char *rel;
	struct file_stat st;
	enum fsx_entry_kind kind;
	unsigned backlog;   /* index in the configuration */
	unsigned stage_len; /* strlen of "<backlog>/<stage>/" */
	bool typed; /* a regular file by readdir's d_type, not lstat'ed: st
		       is zero (a first load's walk, fsx_walk_opts.typed) */
};

struct cmp;

/* One stage directory of one backlog, and what the walk found in it. */
struct dir_walk {
	char *dir; /* "<backlog>/<stage>" */
	unsigned backlog, stage_len;
	size_t slot;  /* backlog * nstages + stage, as the counts are kept */
	char **prune; /* the stage directories inside this one: theirs */
	struct fsx_walk_opts opts;
	struct scan_walk *w;
	struct entry *v; /* what was not unchanged */
	size_t n, cap;
	size_t files; /* story files seen */
	struct arena names;
	enum fsx_walk_start start;
	bool ok;
	struct err e;
};

/* One of the two walk threads: each takes the next directory not taken. */
struct walker {
	struct scan_walk *w;
	pthread_t thread;
	bool threaded;
};

struct scan_walk {
	const struct config *c;
	int rootfd;
	struct sync_progress *progress; /* may be NULL */
	struct dir_walk *dirs;
	size_t ndirs;
	struct walker part[2];
	/* the order the walkers take the directories in: the largest first
	 * by the stat cache's count (list order without one), so that the
	 * last taken are small and the walkers end together; in list
	 * order, a 10k tree's last one (a backlog's completed stories, a
	 * fifth of the files) was left to one walker alone */
	size_t *order;
	/* the next of them a walker takes: the stage directories differ
	 * in size, and every other one left one thread with 72% of a
	 * 100k no-op's walk; ndirs once cancelled */
	_Atomic size_t next_dir;
	/* the state to compare with as the walk goes, once it is loaded:
	 * the entries walked before are compared after the walk */
	struct cmp *_Atomic k;
	/* the stat cache, which drops a file whose stat data it holds as
	 * the walk goes, before any state is loaded; NULL: none */
	struct statcache *cache;
	bool joined;
	bool *missing; /* per backlog: its directory is missing */
	/* the entries of every directory, in order, once joined */
	struct entry *v;
	size_t n, cap;
	struct arena names;      /* the candidates of detect_paths */
	struct detect_asks asks; /* see detect_walk_ask */
	bool ok;
	struct err e;
};

/* What reading one file gave. */
enum outcome {
	READ_ERROR,
	READ_SAME,
	READ_RESTAT,
	READ_PARSED,
	READ_NOT_STORY,   /* no frontmatter, and never a story: a readme */
	READ_GONE,        /* typed, not read, and its lstat finds it gone: as
			     the walk leaves out an entry gone before its
			     lstat */
	READ_WALK_FAILED, /* typed, not read, and its lstat fails: the walk's
			     failure (msg), which ends the walk */
};

struct reading {
	size_t entry;
	size_t state; /* SIZE_MAX when none */
	enum outcome outcome;
	char *msg;
	char hash[BLOBID_HEX];
	struct file_stat st;
	int64_t recorded_ns;
	struct story story; /* READ_PARSED: the story and its mirror keys */
	char *mirror[SM_COUNT];
};

/* The comparison of a walk with the state. */
struct cmp {
	const struct config *c;
	int rootfd;
	struct sync_progress *progress; /* may be NULL */
	const struct state_entry *state;
	size_t nstate;
	struct strmap by_path;
	bool full;
	bool *same; /* per state entry: the file there is unchanged */
	struct entry *v;
	struct reading *reads;
	size_t nreads;
	struct file_change *parsed;
	size_t nparsed;
	bool *leftover; /* per parsed file: a discard's leftover (find_twice) */
	struct detect_asks asks; /* see detect_walk_ask */
	struct scan_result *out;
};

/* One more file walked, or read, for the progress line (p may be NULL). */
static void count_walked(struct sync_progress *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->walked, 1, memory_order_relaxed);
}

static void count_read(struct sync_progress *p)
{
	if (p)
		atomic_fetch_add_explicit(&p->parsed, 1, memory_order_relaxed);
}

void scan_result_add_error(struct scan_result *r, const char *path,
			   const char *id, const char *msg)
{
	struct file_error *fe;

	r->errors =
		xgrow(r->errors, &r->caperrors, r->nerrors + 1, sizeof(*fe));
	fe = &r->errors[r->nerrors++];
	/* shown to people and programs, who read UTF-8 */
	fe->path = fsx_name_utf8(path) ? xstrdup(path) : fsx_name_escaped(path);
	fe->id = xstrdup(id);
	fe->msg = xstrdup(msg);
}

static struct scan_leftover *add_leftover(struct scan_result *r,
					  const char *path, const char *id,
					  const char *hash,
					  const struct file_stat *st)
{
	struct scan_leftover *l;

	r->leftovers = xgrow(r->leftovers, &r->capleftovers, r->nleftovers + 1,
			     sizeof(*r->leftovers));
	l = &r->leftovers[r->nleftovers++];
	memset(l, 0, sizeof(*l));
	l->path = xstrdup(path);
	l->id = xstrdup(id);
	memcpy(l->hash, hash, BLOBID_HEX);
	l->st = *st;
	return l;
}

void scan_result_add_leftover(struct scan_result *r,
			      const struct file_change *fc)
{
	story_copy(&add_leftover(r, fc->path, fc->id, fc->hash, &fc->st)->story,
		   &fc->story);
}

static void add_held(struct scan_result *r, const char *id)
{
	r->held = xgrow(r->held, &r->capheld, r->nheld + 1, sizeof(char *));
	r->held[r->nheld++] = xstrdup(id);
}

/* A *.md file (file: a regular one, which the walk counted) that is not
 * a story, why (see not_a_story). */
static void add_temp(struct scan_result *r, const char *rel)
{
	r->temps = xgrow(r->temps, &r->captemps, r->ntemps + 1, sizeof(char *));
	r->temps[r->ntemps++] = xstrdup(rel);
}

static void add_skipped(struct scan_result *r, const char *path,
			const char *why, bool file)
{
	r->skipped = xgrow(r->skipped, &r->capskipped, r->nskipped + 1,
			   sizeof(char *));
	r->skipped[r->nskipped++] =
		xasprintf("%s: not a story (%s); skipped", path, why);
	r->nnot_stories += file;
}

/* The one rule of what a *.md file under a stage directory is, which sync
 * and check share: why the file at rel is not a story, or NULL when it is
 * one. A file a sync state knows (known) stays a story, so that its row
 * does not go; else an ignored path (ignore:) is none, nor is a file with
 * text and no frontmatter (a folder's readme). An empty file claims to be
 * a story, and is one in error. text NULL: not read yet, the path alone is
 * asked about. */
static const char *not_a_story(const struct config *c, const char *rel,
			       bool known, const char *text, size_t len)
{
	if (known)
		return NULL;
	if (!text)
		return config_ignored(c, rel) ? "it matches ignore:" : NULL;
	return len && !story_has_frontmatter(text, len) ? "no frontmatter"
							: NULL;
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

/* True when a component of path (up to its end) is hidden. */
static bool hidden_part(const char *path)
{
	for (const char *s = path; *s; s += strcspn(s, "/"), s += *s == '/')
		if (*s == '.')
			return true;
	return false;
}

/* The stage of rest (a path below a backlog directory) and where the part
 * below its directory starts: the deepest stage directory that holds it
 * ("." holds every path). */
static const struct config_stage *deepest_stage(const struct config *c,
						const char *rest, size_t *off)
{
	const struct config_stage *found = NULL;
	size_t best = 0;

	for (size_t s = 0; s < c->nstages; s++) {
		const char *dir = c->stages[s].dir;
		size_t dl = strcmp(dir, ".") == 0 ? 0 : strlen(dir);

		if (dl && (strncmp(rest, dir, dl) != 0 || rest[dl] != '/'))
			continue;
		if (!found || dl > best) {
			found = &c->stages[s];
			best = dl;
		}
	}
	*off = best ? best + 1 : 0;
	return found;
}

/* detect_location, and where the file's part below its stage directory
 * starts in rel. */
static bool locate(const struct config *c, const char *rel,
		   const struct config_backlog **backlog,
		   const struct config_stage **stage, char **epic, size_t *off)
{
	for (size_t b = 0; b < c->nbacklogs; b++) {
		const char *bp = c->backlogs[b].path, *rest = rel, *file;
		const char *slash;
		const struct config_stage *st;
		size_t bl = strlen(bp), so;

		if (strcmp(bp, ".") != 0) {
			if (strncmp(rel, bp, bl) != 0 || rel[bl] != '/')
				continue;
			rest = rel + bl + 1;
		}
		/* below its backlog's directory (which may be hidden), a
		 * story path holds no hidden directory: the walk skips them */
		if (hidden_part(rest) || !(st = deepest_stage(c, rest, &so)))
			return false;
		file = rest + so;
		slash = strchr(file, '/');
		if (slash && strchr(slash + 1, '/'))
			return false; /* deeper than one epic */
		*backlog = &c->backlogs[b];
		*stage = st;
		*epic = slash ? xstrndup(file, (size_t)(slash - file)) : NULL;
		*off = (size_t)(file - rel);
		return true;
	}
	return false;
}

bool detect_location(const struct config *c, const char *rel,
		     const struct config_backlog **backlog,
		     const struct config_stage **stage, char **epic)
{
	size_t off;

	return locate(c, rel, backlog, stage, epic, &off);
}

const char *detect_stage_status(const struct config *c, const char *rel)
{
	const struct config_backlog *b;
	const struct config_stage *s;
	char *epic = NULL;
	size_t n = strlen(rel);

	if (n < 3 || strcmp(rel + n - 3, ".md") != 0 ||
	    !detect_location(c, rel, &b, &s, &epic))
		return NULL;
	free(epic);
	return s->status;
}

bool detect_set_location(const struct config *c, const char *rel,
			 struct story *st)
{
	const struct config_backlog *b;
	const struct config_stage *s;
	char *epic = NULL;

	if (!detect_location(c, rel, &b, &s, &epic))
		return false;
	story_set(st, SF_BACKLOG, b->name);
	if (!c->dialect.status_from_key)
		story_set(st, SF_STATUS, s->status);
	free(st->v[SF_EPIC]);
	st->v[SF_EPIC] = epic;
	return true;
}

/* The story's location fields from where its file is. */
static void set_location(const struct config *c, struct file_change *fc)
{
	detect_set_location(c, fc->path, &fc->story);
}

/* ---- the walk ---- */

static void add_entry(struct entry **v, size_t *n, size_t *cap,
		      struct arena *names, const char *rel, unsigned backlog,
		      unsigned stage_len, enum fsx_entry_kind kind,
		      const struct stat *st)
{
	struct entry *en;

	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	en = &(*v)[(*n)++];
	en->rel = arena_strdup(names, rel);
	fsx_stat_from(&en->st, st);
	en->kind = kind;
	en->backlog = backlog;
	en->stage_len = stage_len;
	en->typed = false;
}

static bool unchanged(struct cmp *k, const char *rel, const struct stat *st);

/* True when rel lies deeper than <stage>/<epic>/. */
static bool too_deep(const char *rel, unsigned stage_len)
{
	const char *slash = strchr(rel + stage_len, '/');

	return slash && strchr(slash + 1, '/');
}

static bool on_entry(void *ctx, int dirfd, const char *name, const char *rel,
		     enum fsx_entry_kind kind, const struct stat *st)
{
	struct dir_walk *d = ctx;
	struct cmp *k = atomic_load_explicit(&d->w->k, memory_order_acquire);

	if (kind == FSX_FILE && !too_deep(rel, d->stage_len)) {
		d->files++;
		count_walked(d->w->progress);
		if (k ? unchanged(k, rel, st)
		      : d->w->cache &&
				    statcache_unchanged(d->w->cache, rel, st))
			return true;
	}
	add_entry(&d->v, &d->n, &d->cap, &d->names, rel, d->backlog,
		  d->stage_len, kind, st);
	return true;
}

/* A 10k no-op's lookups in the stat cache were a tenth of its CPU, most
 * of it waiting for memory: three misses each (the hash slot, the entry,
 * the path), the first now fetched while the file's lstat runs. */
static void before_entry(void *ctx, const char *rel)
{
	struct dir_walk *d = ctx;

	if (d->w->cache &&
	    !atomic_load_explicit(&d->w->k, memory_order_relaxed))
		statcache_prefetch(d->w->cache, rel);
}

static void walk_dir(struct scan_walk *w, struct dir_walk *d)
{
	struct fsx_walk_opts o = d->opts;

	o.before = w->cache ? before_entry : NULL;
	d->ok = fsx_walk_with(w->rootfd, d->dir, &o, on_entry, d, &d->start,
			      &d->e);
}

static void *walk_part(void *arg)
{
	struct walker *p = arg;
	struct scan_walk *w = p->w;

	for (size_t i; (i = atomic_fetch_add(&w->next_dir, 1)) < w->ndirs;)
		walk_dir(w, &w->dirs[w->order[i]]);
	return NULL;
}

static struct scan_walk *walk_create(const struct config *c, int rootfd,
				     struct sync_progress *progress)
{
	struct scan_walk *w = xcalloc(1, sizeof(*w));

	w->c = c;
	w->rootfd = rootfd;
	w->progress = progress;
	w->ok = true;
	w->missing = xcalloc(c->nbacklogs, sizeof(bool));
	return w;
}

static void walk_destroy(struct scan_walk *w)
{
	for (size_t i = 0; i < w->ndirs; i++) {
		strv_free(w->dirs[i].prune);
		free(w->dirs[i].dir);
		free(w->dirs[i].v);
		arena_finish(&w->dirs[i].names);
	}
	free(w->dirs);
	free(w->order);
	arena_finish(&w->names);
	free(w->v);
	free(w->missing);
	free(w);
}

/* The directories of the stages of backlog b inside stage s's, which
 * the walk of s's leaves to theirs (NULL-terminated, heap). */
static char **inner_stages(const struct config *c, size_t b, size_t s)
{
	const char *dir = c->stages[s].dir;
	size_t n = 0, dl = strlen(dir);
	char **v = xcalloc(c->nstages + 1, sizeof(*v));

	for (size_t i = 0; i < c->nstages; i++) {
		const char *in = c->stages[i].dir;

		if (i != s && strcmp(in, ".") != 0 &&
		    (strcmp(dir, ".") == 0 ||
		     (strncmp(in, dir, dl) == 0 && in[dl] == '/')))
			v[n++] = config_stage_path(&c->backlogs[b],
						   &c->stages[i]);
	}
	return v;
}

/* The stage directories of every backlog, in order. */
static void list_dirs(struct scan_walk *w)
{
	const struct config *c = w->c;

	w->dirs = xcalloc(c->nbacklogs * c->nstages, sizeof(*w->dirs));
	/* the archive stages last: a first load finds the live file of an
	 * id before its archived copies (claimed_twice) */
	for (size_t i = 0; i < 2 * c->nbacklogs * c->nstages; i++) {
		size_t b = (i / c->nstages) % c->nbacklogs, s = i % c->nstages;
		struct dir_walk *d;
		size_t np = 0;

		if (c->stages[s].archive != (i >= c->nbacklogs * c->nstages))
			continue;
		d = &w->dirs[w->ndirs++];
		d->slot = b * c->nstages + s;

		d->dir = config_stage_path(&c->backlogs[b], &c->stages[s]);
		d->backlog = (unsigned)b;
		d->w = w;
		d->stage_len = strcmp(d->dir, ".") == 0
				       ? 0
				       : (unsigned)strlen(d->dir) + 1;
		d->prune = inner_stages(c, b, s);
		while (d->prune[np])
			np++;
		d->opts = (struct fsx_walk_opts){
			.prune = (const char *const *)d->prune,
			.nprune = np,
		};
	}
	for (size_t b = 0; b < c->nbacklogs; b++) {
		enum fsx_entry_kind kind;
		struct stat st;

		w->missing[b] = !fsx_lstat_at(w->rootfd, c->backlogs[b].path,
					      &st, &kind);
	}
}

/* The order the walkers take w's directories in (scan_walk.order). An
 * insertion sort: one directory a stage of each backlog. */
static void order_dirs(struct scan_walk *w)
{
	size_t *size = xcalloc(w->ndirs + 1, sizeof(*size));

	w->order = xcalloc(w->ndirs + 1, sizeof(*w->order));
	for (size_t i = 0; i < w->ndirs; i++) {
		size_t j = i;

		if (w->cache)
			size[i] =
				statcache_count_under(w->cache, w->dirs[i].dir);
		for (; j > 0 && size[w->order[j - 1]] < size[i]; j--)
			w->order[j] = w->order[j - 1];
		w->order[j] = i;
	}
	free(size);
}

/* Starts the two walkers; walk_join waits for them. */
static void walk_start(struct scan_walk *w)
{
	for (int t = 0; t < 2; t++) {
		struct walker *p = &w->part[t];

		p->w = w;
		p->threaded =
			pthread_create(&p->thread, NULL, walk_part, p) == 0;
	}
}

/* Waits for the walk, and joins what each directory gave, in order. The
 * caller walks what is left to take meanwhile: it has nothing else to
 * do, and a core the walkers share with the run's own work (the
 * database's opening) would be idle at the end otherwise. */
static void walk_join(struct scan_walk *w)
{
	struct walker self = {.w = w};

	if (w->joined)
		return;
	w->joined = true;
	walk_part(&self);
	for (int t = 0; t < 2; t++) {
		if (w->part[t].threaded)
			pthread_join(w->part[t].thread, NULL);
		else
			walk_part(&w->part[t]); /* no thread: walk here */
	}
	for (size_t i = 0; i < w->ndirs; i++) {
		struct dir_walk *d = &w->dirs[i];

		if (!d->ok && w->ok) {
			w->ok = false;
			w->e = d->e;
		}
		if (!d->n)
			continue;
		w->v = xgrow(w->v, &w->cap, w->n + d->n, sizeof(*w->v));
		memcpy(w->v + w->n, d->v, d->n * sizeof(*d->v));
		w->n += d->n;
	}
}

/* ---- comparing with the state ---- */

static size_t state_at(const struct cmp *k, const char *rel)
{
	size_t i;

	return strmap_get(&k->by_path, rel, &i) ? i : SIZE_MAX;
}

/* The file at rel is unchanged by its stat data: its state says so, and it
 * was not recorded within a timestamp tick. Runs on both walk threads: it
 * writes only the one element of k->same that rel's state owns. */
static bool unchanged(struct cmp *k, const char *rel, const struct stat *st)
{
	size_t si = state_at(k, rel);
	struct file_stat fs;

	if (si == SIZE_MAX || k->full)
		return false;
	fsx_stat_from(&fs, st);
	if (!fsx_stat_equal(&fs, &k->state[si].st) ||
	    fsx_racy(&k->state[si].st, k->state[si].recorded_ns))
		return false;
	k->same[si] = true;
	return true;
}

static void result_init(struct scan_result *r, const struct config *c)
{
	memset(r, 0, sizeof(*r));
	r->files_per_backlog = xcalloc(c->nbacklogs, sizeof(size_t));
	r->backlog_missing = xcalloc(c->nbacklogs, sizeof(bool));
	r->files_per_stage = xcalloc(c->nbacklogs * c->nstages, sizeof(size_t));
	r->stage_missing = xcalloc(c->nbacklogs * c->nstages, sizeof(bool));
}

static void cmp_init(struct cmp *k, const struct config *c, int rootfd,
		     const struct state_entry *state, size_t nstate, bool full,
		     struct scan_result *out)
{
	memset(k, 0, sizeof(*k));
	k->c = c;
	k->rootfd = rootfd;
	k->state = state;
	k->nstate = nstate;
	k->full = full;
	k->out = out;
	result_init(out, c);
	k->same = xcalloc(nstate, sizeof(bool));
	strmap_init(&k->by_path, nstate);
	for (size_t i = 0; i < nstate; i++)
		strmap_put(&k->by_path, state[i].path, i);
}

/* Why an entry cannot be a story file, or NULL. */
static char *refusal(const struct entry *en)
{
	/* the database and --json hold UTF-8 only: such a path, stored,
	 * made the table unreadable to Python and the output not UTF-8 */
	if (!fsx_name_utf8(en->rel)) {
		char *shown = fsx_name_escaped(en->rel);
		char *msg =
			xasprintf("%s: the name is not UTF-8; not read", shown);

		free(shown);
		return msg;
	}
	switch (en->kind) {
	case FSX_FILE: break;
	case FSX_SYMLINK:
		return xasprintf("%s: symbolic link; not followed", en->rel);
	case FSX_DIR_MD:
		return xasprintf("%s: a directory, not a story file", en->rel);
	default: return xasprintf("%s: not a regular file", en->rel);
	}
	if (too_deep(en->rel, en->stage_len))
		return xasprintf("%s: too deep: a story lives in "
				 "<stage>/[<epic>/]<ID>-<slug>.md",
				 en->rel);
	return NULL;
}

/* The stories the state knows below dir stay as they are: none of them
 * looks deleted for a directory that was not walked. */
static size_t keep_below(struct cmp *k, const char *dir)
{
	size_t n = strlen(dir), kept = 0;

	for (size_t s = 0; s < k->nstate; s++)
		if (strncmp(k->state[s].path, dir, n) == 0 &&
		    k->state[s].path[n] == '/') {
			k->same[s] = true;
			add_held(k->out, k->state[s].id);
			kept++;
		}
	return kept;
}

/* A directory that is a symlink (or lies beyond one), at any level: never
 * walked, reported on every run, the stories the state knows below it
 * kept. */
static void refuse_linked(struct cmp *k, const char *dir)
{
	char *msg = xasprintf("%s: a symbolic link (or a path through one); "
			      "not followed, its stories left as they are",
			      dir);

	scan_result_add_error(k->out, dir, NULL, msg);
	free(msg);
	keep_below(k, dir);
}

/* A symlink that may stand for an epic folder: refused as a stage folder
 * is; one deeper (no story lives there) or ignored is left alone unless
 * the state knows stories below it. */
static void classify_linked(struct cmp *k, const struct entry *en)
{
	bool epic = !strchr(en->rel + en->stage_len, '/');

	if ((!epic || config_ignored(k->c, en->rel)) && !keep_below(k, en->rel))
		return;
	refuse_linked(k, en->rel);
}

/* Sorts each entry: refused, unchanged by its stat data, or to be read. */
static void classify(struct cmp *k, struct entry *v, size_t n)
{
	k->v = v;
	k->reads = xcalloc(n, sizeof(*k->reads));
	for (size_t i = 0; i < n; i++) {
		const struct entry *en = &v[i];
		size_t si = state_at(k, en->rel);
		const struct state_entry *se =
			si == SIZE_MAX ? NULL : &k->state[si];
		const char *why;
		char *msg;

		/* not a story: the journal names the killed runs' own,
		 * which report_scan removes; one it does not name (an older
		 * binary's) only where its bytes are a story's (old_temps) */
		if (en->kind == FSX_TEMP) {
			add_temp(k->out, en->rel);
			continue;
		}
		if (en->kind == FSX_LINKED_DIR) {
			classify_linked(k, en);
			continue;
		}
		why = not_a_story(k->c, en->rel, se != NULL, NULL, 0);
		if (why) {
			char *shown = fsx_name_escaped(en->rel);

			add_skipped(k->out, shown, why,
				    en->kind == FSX_FILE &&
					    !too_deep(en->rel, en->stage_len));
			free(shown);
			continue;
		}
		msg = refusal(en);
		if (msg) {
			char *id = se ? xstrdup(se->id)
				      : story_id_from_name(&k->c->dialect,
							   en->rel);

			scan_result_add_error(k->out, en->rel, id, msg);
			free(id);
			free(msg);
			continue;
		}
		if (se && !k->full && fsx_stat_equal(&en->st, &se->st) &&
		    !fsx_racy(&se->st, se->recorded_ns)) {
			k->same[si] = true;
			continue;
		}
		k->reads[k->nreads].entry = i;
		k->reads[k->nreads++].state = si;
	}
}

/* A typed entry (the walk did not lstat it) that did not read: lstat'ed
 * now, as the walk would have done before the read, the walk's outcome
 * is its: gone (left out), or the walk's failure (which ends it), with
 * the walk's message; found, the read's error stands, as it does for a
 * file changed between a walk's lstat and its read. */
static void typed_unread(const struct cmp *k, struct reading *rd,
			 const char *rel)
{
	const char *slash = strrchr(rel, '/');
	char *dir = slash ? xstrndup(rel, (size_t)(slash - rel)) : NULL;
	int dfd =
		dir ? fsx_open_beneath(k->rootfd, dir, O_PATH | O_DIRECTORY, 0)
		    : -1;
	struct stat st;
	int err = 0;

	if (dfd >= 0 && fstatat(dfd, slash + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
		err = errno;
	if (dfd >= 0)
		close(dfd);
	free(dir);
	if (err == ENOENT) {
		rd->outcome = READ_GONE;
		xfree(&rd->msg);
	} else if (err) {
		rd->outcome = READ_WALK_FAILED;
		free(rd->msg);
		rd->msg = xasprintf("%s: %s", rel, strerror(err));
	}
}

/* Reads, hashes and (when its content changed) parses one file. Touches
 * nothing but rd: it runs in two threads at once. */
static void read_one(const struct cmp *k, struct reading *rd,
		     struct fsx_dir_cache *dc)
{
	const char *rel = k->v[rd->entry].rel;
	const struct state_entry *se =
		rd->state == SIZE_MAX ? NULL : &k->state[rd->state];
	struct story_doc doc = {0};
	struct err e;
	char *text = NULL;
	size_t len;
	int64_t now = fsx_now_ns();

	count_read(k->progress);
	if (!fsx_read_cached(dc, k->rootfd, rel, &text, &len, &rd->st, &e)) {
		rd->outcome = READ_ERROR;
		rd->msg = xstrdup(e.msg);
		if (k->v[rd->entry].typed)
			typed_unread(k, rd, rel);
		return;
	}
	rd->recorded_ns = fsx_recorded_wall(now, rd->st.mtime_ns);
	blobid_hex(text, len, rd->hash);
	/* full: parsed even so, to be read as the configuration reads it
	 * now (the sync compares it with the agreed version) */
	if (se && strcmp(rd->hash, se->hash) == 0 && !k->full) {
		/* stat data read within a tick of the change is recorded
		 * all the same: the racy rule reads the file again until a
		 * run records it past the tick (apply_settle, or this read
		 * once it is past: a settle that could not wait, on whole
		 * seconds, left it racy, and every run read it again; not
		 * with the test suite's switch, whose files stay racy) */
		rd->outcome =
			fsx_stat_equal(&rd->st, &se->st) &&
					(fsx_test_nosync() ||
					 fsx_racy(&rd->st, rd->recorded_ns) ||
					 !fsx_racy(&se->st, se->recorded_ns))
				? READ_SAME
				: READ_RESTAT;
	} else if (not_a_story(k->c, rel, se != NULL, text, len)) {
		rd->outcome = READ_NOT_STORY;
	} else if (story_parse(&doc, &k->c->dialect, rel, text, len, &e)) {
		/* keep the story, not the layout: memory stays per story */
		rd->outcome = READ_PARSED;
		rd->story = doc.s;
		memset(&doc.s, 0, sizeof(doc.s));
		memcpy(rd->mirror, doc.mirror, sizeof(rd->mirror));
		memset(doc.mirror, 0, sizeof(doc.mirror));
		story_doc_finish(&doc);
	} else {
		rd->outcome = READ_ERROR;
		rd->msg = xstrdup(e.msg);
	}
	/* text is dc's, for the next file */
}

struct read_range {
	const struct cmp *k;
	size_t from, to;
};

static void *read_range(void *arg)
{
	const struct read_range *r = arg;
	struct fsx_dir_cache dc = FSX_DIR_CACHE_INIT;

	for (size_t i = r->from; i < r->to; i++)
		read_one(r->k, &r->k->reads[i], &dc);
	fsx_dir_cache_finish(&dc);
	return NULL;
}

/* Reads every file to read, on two threads when there are enough. */
static void read_all(struct cmp *k)
{
	struct read_range lo = {k, 0, k->nreads / 2};
	struct read_range hi = {k, k->nreads / 2, k->nreads};
	pthread_t t;

	if (k->nreads < PARALLEL_MIN ||
	    pthread_create(&t, NULL, read_range, &hi) != 0) {
		lo.to = k->nreads;
		read_range(&lo);
		return;
	}
	read_range(&lo);
	pthread_join(t, NULL);
}

/* Turns one reading into a change, an error or nothing, in walk order. */
static void take_reading(struct cmp *k, struct reading *rd)
{
	const char *rel = k->v[rd->entry].rel;
	const struct state_entry *se =
		rd->state == SIZE_MAX ? NULL : &k->state[rd->state];
	struct file_change *fc;

	if (rd->outcome == READ_ERROR) {
		char *id = se ? xstrdup(se->id)
			      : story_id_from_name(&k->c->dialect, rel);

		scan_result_add_error(k->out, rel, id, rd->msg);
		free(id);
		free(rd->msg);
		return;
	}
	if (rd->outcome == READ_NOT_STORY) {
		add_skipped(k->out, rel, "no frontmatter", true);
		return;
	}
	if (rd->outcome == READ_GONE || rd->outcome == READ_WALK_FAILED) {
		free(rd->msg); /* a stream's batch took the failure */
		return;
	}
	if (rd->outcome != READ_PARSED) {
		k->same[rd->state] = true;
		if (rd->outcome == READ_SAME)
			return;
		fc = add_change(k->out); /* only the stat data changed */
		fc->id = xstrdup(se->id);
		fc->side = SIDE_SAME;
		fc->path = xstrdup(rel);
		fc->old_path = xstrdup(rel);
	} else {
		fc = &k->parsed[k->nparsed++];
		memset(fc, 0, sizeof(*fc));
		fc->path = xstrdup(rel);
		fc->story = rd->story;
		memcpy(fc->mirror, rd->mirror, sizeof(fc->mirror));
		fc->id = xstrdup(fc->story.v[SF_ID]);
		set_location(k->c, fc);
	}
	memcpy(fc->hash, rd->hash, BLOBID_HEX);
	fc->st = rd->st;
	fc->recorded_ns = rd->recorded_ns;
}

struct claim {
	const char *id;
	const char *path;
	size_t parsed; /* its index in k->parsed, or SIZE_MAX: a state's */
	const struct state_entry *se; /* a state's: it */
	bool archive;                 /* in an archive stage */
};

/* The state entry of id, for a rare question: a linear search. */
static const struct state_entry *state_by_id(const struct cmp *k,
					     const char *id)
{
	for (size_t i = 0; i < k->nstate; i++)
		if (strcmp(k->state[i].id, id) == 0)
			return &k->state[i];
	return NULL;
}

/* Whether claim c is storysync's file of state se: at the state's path
 * (as agreed, or edited since), or its content moved by a person. */
static bool ours_claim(const struct cmp *k, const struct claim *c,
		       const struct state_entry *se)
{
	return strcmp(c->path, se->path) == 0 ||
	       (c->parsed != SIZE_MAX &&
		strcmp(k->parsed[c->parsed].hash, se->hash) == 0);
}

/* Whether the claims v[0..n) of one id are a file storysync moved (see
 * ours_claim) and git's versions of it put back at paths it had before by
 * a discard (reset --hard or a stash restores the old path and leaves the
 * new file, untracked, which a person may commit beside it): the version
 * the state says HEAD held before storysync's writes, or (asked of
 * k->asks.copy) git's version put back of a copy storysync removed so before,
 * which a person had committed with the move. Those copies are no claims:
 * they are removed, as the move was made. */
/* Whether git held storysync's file of se as it wrote it before the last
 * run (asked of k->asks.kept: git_kept), wherever it is now: moved since
 * with its directory (git mv, staged or committed, or mv), it is still
 * the file git took, not one a person's add -A took since. */
static bool kept(const struct cmp *k, const struct state_entry *se)
{
	return k->asks.kept && k->asks.kept(k->asks.ctx, se);
}

/* Whether git holds storysync's file of se as it wrote it only because a
 * person's commit or staged change added it since the last run (add -A
 * beside their move of git's version: issue 19). A change of the path
 * since that only moved a file git held (kept) is no add (model wide
 * seed 153: both copies committed, then their directory git mv'd back
 * where the configuration has it; storysync's file was taken for a
 * leftover, which git held, and every run exited 1). */
static bool added(const struct cmp *k, const struct state_entry *se)
{
	return k->asks.has && k->asks.held(k->asks.ctx, se->path, se->hash) &&
	       !k->asks.has(k->asks.ctx, se->path, se->hash) && !kept(k, se);
}

/* The stat data of storysync's file of se now, into *st, where the scan
 * took the claim from the state (the file unchanged, or only its stat
 * data: a touch, a chmod; or a diff's path it did not look at), for its
 * removal to compare: given the state's, the removal took the file for
 * one changed since the scan and left it, unsaid, while the row followed
 * the other file (seed 1506's shape, storysync's file touched: the next
 * run took it for the story's file, the person's move lost). False when
 * the file no longer holds se's content, or cannot be read. */
static bool state_file_now(const struct cmp *k, const struct state_entry *se,
			   struct file_stat *st)
{
	char hash[BLOBID_HEX], *text = NULL;
	size_t len;
	struct err e;

	if (!fsx_read_beneath(k->rootfd, se->path, &text, &len, st, &e))
		return false;
	blobid_hex(text, len, hash);
	free(text);
	return strcmp(hash, se->hash) == 0;
}

/* Whether git's version of se's file (se->before) at path is one a
 * discard put back, not a person's move of it (asked of k->asks.put:
 * git_put_beside in sync_discard.c). */
static bool git_version_put(const struct cmp *k, const struct state_entry *se,
			    const char *path)
{
	return k->asks.put && k->asks.put(k->asks.ctx, se, path);
}

/* Whether the two claims v[0..2) of one id are storysync's own file
 * (ours: at the state's path, as agreed, which git does not hold: an
 * uncommitted write or move of storysync's over git's version se->before)
 * and git's version of it that a discard put back and a person then moved
 * or edited (model seed 406): git holds neither file's path, so the path
 * git holds the story at is not in the tree any more. Storysync's file holds
 * only the agreed version, which the database has: it is removed (a leftover,
 * mine), and the person's file is the story's, merged as an edit of git's
 * version (rebased in sync_discard.c). */
static bool mine_leftover(struct cmp *k, const struct claim *v, size_t n,
			  const struct state_entry *se,
			  const struct claim *ours)
{
	const struct claim *other = &v[&v[0] == ours ? 1 : 0];
	const struct file_change *fc;
	struct file_stat st;
	const char *at;
	bool moved, hand, both;

	if (n != 2 || !k->asks.held || !se->before[0] || !se->hash[0] ||
	    strcmp(ours->path, se->path) != 0 || other->se ||
	    other->parsed == SIZE_MAX)
		return false;
	/* the other file, as storysync's: git's version, storysync's move
	 * of it a move only, that a person moved in git (committed or
	 * staged: its place is theirs, discard_leftovers), or a copy. Git
	 * holding it where it was, unchanged since the last run or where
	 * storysync's write took the file from (git_version_put: a discard
	 * put it back and a person edited it, model wide seeds 1362, 1347),
	 * is no move: git holds the other file's path, storysync's file is
	 * no leftover (seed 406), unless the person's add -A took both.
	 * Git holding no version there, away from that source, it is a
	 * person's plain mv (or cp) of it: theirs, as with any byte of it
	 * changed (model wide seed 1506: named both, every run exited 1) */
	at = k->parsed[other->parsed].path;
	moved = k->asks.held(k->asks.ctx, at, se->before) &&
		(added(k, se) || (k->asks.put && !git_version_put(k, se, at)));
	hand = !moved && k->asks.put && !k->asks.held(k->asks.ctx, at, NULL) &&
	       !git_version_put(k, se, at);
	if (strcmp(k->parsed[other->parsed].hash, se->hash) == 0 &&
	    (strcmp(se->hash, se->before) != 0 || !(moved || hand)))
		return false;
	/* untouched since the run that wrote it */
	if (ours->parsed != SIZE_MAX
		    ? strcmp(k->parsed[ours->parsed].hash, se->hash) != 0
		    : !ours->se)
		return false;
	/* only git's version moved away: git holds the story at a path
	 * that is neither storysync's file's (a copy of storysync's write
	 * over git's version is a person's new file with the id, review6)
	 * nor the other file's, which is then not in the tree any more */
	/* git holding storysync's file only because the person's add -A
	 * took it with git's version at the source, which they then moved
	 * with mv (model wide seed 150): as their add -A beside a git mv */
	/* git holding storysync's file before the last run (kept), at a
	 * place a person moved it from since, in git or not (the bytes
	 * decide), it is as held: no leftover */
	both = hand && se->before_path &&
	       k->asks.held(k->asks.ctx, se->before_path, se->before);
	if (((k->asks.held(k->asks.ctx, se->path, NULL) || kept(k, se)) &&
	     !((moved || both) && added(k, se))) ||
	    (!moved && k->asks.held(k->asks.ctx, at, NULL)))
		return false;
	if (ours->parsed != SIZE_MAX) {
		fc = &k->parsed[ours->parsed];
		k->leftover[ours->parsed] = true;
		add_leftover(k->out, fc->path, fc->id, fc->hash, &fc->st)
			->mine = true;
	} else {
		if (!state_file_now(k, se, &st))
			return false;
		add_leftover(k->out, se->path, se->id, se->hash, &st)->mine =
			true;
	}
	return true;
}

/* Whether the claims v[0..n) of an id with no state (its story deleted
 * since: by a person, or for the API) are one file and copies each of
 * which is git's version put back (asked of k->asks.copy: deleted_copy) of a
 * copy storysync removed as a leftover before the deletion (model seed
 * 742: a reset put git's version back beside storysync's move, `git add
 * -A` committed both, a run removed the copy, the person deleted the
 * story, a stash brought both back). Those are git undoing storysync's
 * removal, not a person's files: no claims, removed again (and recorded
 * again), and the other file is the id's, as any file of a deleted story
 * brought back. Two or more files no such record explains stay claims. */
static bool stateless_leftovers(struct cmp *k, const struct claim *v, size_t n)
{
	size_t keep = n;

	if (!k->asks.copy)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].se || v[i].parsed == SIZE_MAX)
			return false;
		if (k->asks.copy(k->asks.ctx, &k->parsed[v[i].parsed]))
			continue;
		if (keep != n)
			return false;
		keep = i;
	}
	if (keep == n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == keep)
			continue;
		k->leftover[v[i].parsed] = true;
		scan_result_add_leftover(k->out, &k->parsed[v[i].parsed]);
	}
	return true;
}

/* Whether a killed run moved content hash to moved's path (its move
 * line for that content there, and the "> " line after it). */
static bool moved_from(const struct cmp *k, const struct file_change *moved,
		       const char *hash)
{
	struct file_change there = *moved;

	memcpy(there.hash, hash, BLOBID_HEX);
	return k->asks.moved(k->asks.ctx, &there);
}

/* Whether the two claims v[0..2) of one id are the file at the state's
 * path holding the agreed content, untouched, and a file a killed run
 * moved there (asked of k->asks.moved: its move line and the "> " line after
 * it): git put the old place back after the move (reset --hard, a stash:
 * model seeds 79, 152), as for a move a run committed (see above). The
 * file at the state's path holds only what the database has: it is
 * removed as git's version put back (a leftover, recorded as
 * storysync's deletion), and the moved file is the story's, the killed
 * run's write (our_write in sync.c). Or the moved file edited by a
 * person since, and the file at the state's path holding what the run
 * moved from there (its move line's content): its place is the run's
 * (journal_story_written_at in sync.c). */
static bool killed_move_back(struct cmp *k, const struct claim *v, size_t n,
			     const struct state_entry *se,
			     const struct claim *ours)
{
	const struct claim *other = &v[&v[0] == ours ? 1 : 0];
	const struct file_change *moved;
	struct file_stat st;
	char hash[BLOBID_HEX], *text = NULL;
	size_t len;
	struct err e;

	if (n != 2 || !k->asks.moved || !se->hash[0] ||
	    strcmp(ours->path, se->path) != 0 || other->se ||
	    other->parsed == SIZE_MAX)
		return false;
	moved = &k->parsed[other->parsed];
	/* the file there as it is now (a diff's scan takes the paths it
	 * does not name as unchanged): the agreed content, or the moved
	 * file's (a person's edit committed, which the run moved as it
	 * found it) */
	if (ours->parsed != SIZE_MAX) {
		memcpy(hash, k->parsed[ours->parsed].hash, BLOBID_HEX);
		st = k->parsed[ours->parsed].st;
	} else {
		if (!fsx_read_beneath(k->rootfd, se->path, &text, &len, &st,
				      &e))
			return false;
		blobid_hex(text, len, hash);
		free(text);
	}
	if (k->asks.moved(k->asks.ctx, moved)) {
		/* the agreed content, the moved file's, what the run moved
		 * from there, or git's version of the path (a discard put
		 * back the index's or HEAD's, older than the agreed content,
		 * over which storysync wrote: model seed 1070; or the one
		 * git held there when the run moved the file away, its "o "
		 * line, a person's commit of the path since the last run's
		 * commit taking nothing of it: model wide seed 1563) */
		if (strcmp(hash, se->hash) != 0 &&
		    strcmp(hash, moved->hash) != 0 &&
		    !moved_from(k, moved, hash) &&
		    !(k->asks.has &&
		      k->asks.has(k->asks.ctx, se->path, hash)) &&
		    !(k->asks.source &&
		      k->asks.source(k->asks.ctx, moved, se->path, hash)))
			return false;
	} else if (!moved_from(k, moved, hash)) {
		/* or the moved file edited by a person since (no line names
		 * its content): the file at the state's path holds what the
		 * killed run moved from there to the moved file's path (model
		 * seed 255: the edit gave the moved file the bytes of the
		 * version before storysync's writes, taken for git's version
		 * put back; it was removed and the file put back, taken for
		 * a person's move back, lost the API's status and the edit) */
		return false;
	}
	if (ours->parsed != SIZE_MAX)
		k->leftover[ours->parsed] = true;
	add_leftover(k->out, se->path, se->id, hash, &st);
	return true;
}

/* Whether the two claims v[0..2) of one id are a file a killed run moved
 * (asked of k->asks.moved: untouched since, the move made) after finding the
 * agreed content (its move line's content), so that it holds the agreed
 * version and the database's values only, and at the state's path a file
 * neither killed_move_back takes: git's version put back there by a
 * discard and edited by a person since, who saw the story where it had
 * been (model seeds 1099, 215: both named, exit 1 on every run). The
 * person's file is the story's, as if the killed run had never moved it:
 * the moved file is removed (a leftover, undone), nothing of it
 * lost, and the run moves the story again where the database puts it
 * (no record: it is no one's edit). */
static bool killed_move_edited(struct cmp *k, const struct claim *v, size_t n,
			       const struct state_entry *se,
			       const struct claim *ours)
{
	const struct claim *other = &v[&v[0] == ours ? 1 : 0];
	const struct file_change *moved;
	struct scan_leftover *l;

	if (n != 2 || !k->asks.moved || !se->hash[0] ||
	    strcmp(ours->path, se->path) != 0 || other->se ||
	    other->parsed == SIZE_MAX)
		return false;
	moved = &k->parsed[other->parsed];
	if (!k->asks.moved(k->asks.ctx, moved) ||
	    !moved_from(k, moved, se->hash))
		return false;
	k->leftover[other->parsed] = true;
	l = add_leftover(k->out, moved->path, moved->id, moved->hash,
			 &moved->st);
	l->undone = true;
	return true;
}

/* Whether the file fc, at a place a killed run put the story's file (a
 * move line made: k->asks.placed), holds what the killed runs' moves held
 * there: the agreed content, the last move's (last), a move line's for
 * it there, or git's version of its path (a discard put it back:
 * k->asks.has). */
static bool killed_place(const struct cmp *k, const struct state_entry *se,
			 const struct file_change *fc,
			 const struct file_change *last)
{
	return k->asks.placed(k->asks.ctx, fc->id, fc->path) &&
	       (strcmp(fc->hash, se->hash) == 0 ||
		strcmp(fc->hash, last->hash) == 0 ||
		k->asks.moved(k->asks.ctx, fc) ||
		(k->asks.has && k->asks.has(k->asks.ctx, fc->path, fc->hash)));
}

/* The same for the file at the state's path, which the scan took for
 * unchanged (read now: its content into hash, its stat data into st):
 * the agreed content, the last move's, or git's version of the path
 * (k->asks.has, or the one git held there when a killed run moved the
 * file away: k->asks.source), as killed_move_back asks. */
static bool killed_source(const struct cmp *k, const struct state_entry *se,
			  const struct file_change *last, char *hash,
			  struct file_stat *st)
{
	char *text = NULL;
	size_t len;
	struct err e;

	if (!fsx_read_beneath(k->rootfd, se->path, &text, &len, st, &e))
		return false;
	blobid_hex(text, len, hash);
	free(text);
	return strcmp(hash, se->hash) == 0 || strcmp(hash, last->hash) == 0 ||
	       (k->asks.has && k->asks.has(k->asks.ctx, se->path, hash)) ||
	       (k->asks.source &&
		k->asks.source(k->asks.ctx, last, se->path, hash));
}

/* The parsed file of claim c, NULL where it has none (a state entry's
 * path the scan took for unchanged). */
static const struct file_change *claim_parsed(const struct cmp *k,
					      const struct claim *c)
{
	return c->parsed == SIZE_MAX ? NULL : &k->parsed[c->parsed];
}

/* Whether the claims v[0..n) of one id are the file the last of several
 * killed runs moved (asked of k->asks.moved: untouched since, the move
 * made) and files git put back at the places the story had before it:
 * the state's path (killed_source), and the places earlier killed runs
 * moved it to (killed_place: a person's add -A committed such a move
 * beside git's version put back, and a reset brings both back). As once
 * those runs committed (each a move from the place before), the files
 * put back are git's versions of the story's earlier places: removed
 * (leftovers, recorded as storysync's deletions), and the last move is
 * the story's (model wide seed 1549: three files, or the last two where
 * a --backlog run read only those, all named, exit 1 on every run, the
 * last one untracked). A file a person changed at any of those places
 * keeps them all named. */
static bool killed_move_chain(struct cmp *k, const struct claim *v, size_t n,
			      const struct state_entry *se)
{
	const struct file_change *last = NULL;
	char hash[BLOBID_HEX];
	struct file_stat st;
	bool at_state = false;

	if (n < 2 || !k->asks.moved || !k->asks.placed || !se->hash[0])
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct file_change *fc;

		if (v[i].se || v[i].parsed == SIZE_MAX)
			continue;
		fc = &k->parsed[v[i].parsed];
		if (strcmp(fc->path, se->path) == 0 ||
		    !k->asks.moved(k->asks.ctx, fc))
			continue;
		if (last)
			return false;
		last = fc;
	}
	if (!last)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct file_change *fc = claim_parsed(k, &v[i]);

		if (fc == last)
			continue;
		if (strcmp(v[i].path, se->path) == 0) {
			if (at_state || !killed_source(k, se, last, hash, &st))
				return false;
			at_state = true;
		} else if (!fc || v[i].se || !killed_place(k, se, fc, last)) {
			return false;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct file_change *fc = claim_parsed(k, &v[i]);

		if (fc == last)
			continue;
		if (fc)
			k->leftover[v[i].parsed] = true;
		if (strcmp(v[i].path, se->path) == 0)
			add_leftover(k->out, se->path, se->id, hash, &st);
		else
			add_leftover(k->out, fc->path, fc->id, fc->hash,
				     &fc->st);
	}
	return true;
}

/* Whether git took storysync's file of se (ours) as the story's one
 * file (asked of k->asks.took: a commit or the index since the write
 * holding it and nothing where another claim v[i] is): that claim came
 * after the move git took, a person's doing (git checkout HEAD~1 -- the
 * old path beside the committed move), never a discard's copy. Both
 * stay, two claims; before, the one at the move's source was removed as
 * git's version put back, a staged or committed file undone unseen, and
 * an edited one took storysync's committed file for its own leftover.
 */
static bool taken_alone(const struct cmp *k, const struct claim *v, size_t n,
			const struct state_entry *se, const struct claim *ours)
{
	if (!k->asks.took || !se->hash[0])
		return false;
	for (size_t i = 0; i < n; i++)
		if (&v[i] != ours && !v[i].se && v[i].parsed != SIZE_MAX &&
		    k->asks.took(k->asks.ctx, se, k->parsed[v[i].parsed].path))
			return true;
	return false;
}

static bool discard_leftovers(struct cmp *k, const struct claim *v, size_t n)
{
	const struct state_entry *se = NULL;
	const struct claim *ours = NULL;

	for (size_t i = 0; i < n && !se; i++)
		se = v[i].se;
	if (!se)
		se = state_by_id(k, v[0].id);
	if (!se)
		return stateless_leftovers(k, v, n);
	/* the one at the state's path, else the one with its content */
	for (size_t i = 0; i < n && !ours; i++)
		if (strcmp(v[i].path, se->path) == 0)
			ours = &v[i];
	/* not the one at the place storysync's write took the file
	 * from, where a discard puts git's version back, when another
	 * has it: that one is storysync's file, moved on by a person
	 * (model wide seed 1663: git's version taken for it, the
	 * person's move removed as git's version put back) */
	for (size_t i = 0; i < n && !ours; i++)
		if (ours_claim(k, &v[i], se) &&
		    !(se->before_path &&
		      strcmp(v[i].path, se->before_path) == 0))
			ours = &v[i];
	for (size_t i = 0; i < n && !ours; i++)
		if (ours_claim(k, &v[i], se))
			ours = &v[i];
	if (!ours)
		return false;
	if (killed_move_back(k, v, n, se, ours) ||
	    killed_move_edited(k, v, n, se, ours) ||
	    killed_move_chain(k, v, n, se))
		return true;
	if (taken_alone(k, v, n, se, ours))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct file_change *fc;

		if (&v[i] == ours)
			continue;
		if (v[i].se || v[i].parsed == SIZE_MAX)
			return mine_leftover(k, v, n, se, ours);
		fc = &k->parsed[v[i].parsed];
		/* git's version put back (git_version_put): a person's
		 * move of it in git is theirs (issue 19) */
		if (!(se->ours && se->before[0] &&
		      strcmp(fc->hash, se->before) == 0 &&
		      git_version_put(k, se, fc->path)) &&
		    !(k->asks.copy && k->asks.copy(k->asks.ctx, fc)))
			return mine_leftover(k, v, n, se, ours);
	}
	for (size_t i = 0; i < n; i++) {
		if (&v[i] == ours)
			continue;
		k->leftover[v[i].parsed] = true;
		scan_result_add_leftover(k->out, &k->parsed[v[i].parsed]);
	}
	return true;
}

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = strcmp(x->id, y->id);

	return r ? r : strcmp(x->path, y->path);
}

bool detect_archived(const struct config *c, const char *rel)
{
	const struct config_backlog *b;
	const struct config_stage *st;
	char *epic = NULL;
	bool yes = detect_location(c, rel, &b, &st, &epic) && st->archive;

	free(epic);
	return yes;
}

void scan_result_add_shadow(struct scan_result *r, const char *path,
			    const char *id, const char *live)
{
	r->shadows = xgrow(r->shadows, &r->capshadows, r->nshadows + 1,
			   sizeof(char *));
	r->shadows[r->nshadows++] =
		xasprintf("%s: an archived copy of %s, whose story is %s; "
			  "skipped",
			  path, id, live);
}

/* The claims of one id, v[0..n): archived copies of an id a live stage
 * holds are shadows (parsed ones are dropped: *shadow), and the live
 * claims are the id's; two or more of these are each an error naming
 * another, so that neither takes the other's row. */
static void claims_of_id(struct cmp *k, struct claim *v, size_t n, bool *shadow)
{
	const struct claim *live = NULL;
	size_t m = 0;

	for (size_t i = 0; i < n && !live; i++)
		if (!v[i].archive)
			live = &v[i];
	for (size_t i = 0; i < n; i++) {
		if (!live || !v[i].archive) {
			v[m++] = v[i];
			continue;
		}
		scan_result_add_shadow(k->out, v[i].path, v[i].id, live->path);
		if (v[i].parsed != SIZE_MAX)
			shadow[v[i].parsed] = true;
	}
	if (m >= 2)
		k->out->nclaimed++;
	for (size_t i = 0; m >= 2 && i < m; i++) {
		const struct claim *other = &v[i + 1 < m ? i + 1 : 0];
		char *msg = xasprintf("%s: id '%s' is also claimed by %s",
				      v[i].path, v[i].id, other->path);

		scan_result_add_error(k->out, v[i].path, v[i].id, msg);
		free(msg);
	}
}

/* Ids claimed by two files: each file is reported, naming another; its
 * error blocks the id: neither takes the other's row. An archived copy
 * of an id that a live file holds is no claim (claims_of_id). */
/* Whether the file of state entry se, which the scan did not look at,
 * claims its id still: a scan of named paths (sync --git) takes it for
 * unchanged, but a file of the same id it did look at may be that file
 * moved by hand (one stat, for such an id only). */
static bool still_there(const struct cmp *k, const struct state_entry *se)
{
	struct stat st;

	return !k->out->partial ||
	       fstatat(k->rootfd, se->path, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       errno != ENOENT;
}

static void find_twice(struct cmp *k, bool *shadow)
{
	const struct config *c = k->c;
	struct strmap ids;
	struct claim *v;
	size_t n = 0;

	if (!k->nparsed)
		return;
	v = xcalloc(k->nparsed + k->nstate, sizeof(*v));
	k->leftover = xcalloc(k->nparsed, sizeof(*k->leftover));
	strmap_init(&ids, k->nparsed);
	for (size_t i = 0; i < k->nparsed; i++) {
		strmap_put(&ids, k->parsed[i].id, i);
		v[n++] = (struct claim){k->parsed[i].id, k->parsed[i].path, i,
					NULL, false};
	}
	for (size_t i = 0; i < k->nstate; i++)
		if (k->same[i] && strmap_get(&ids, k->state[i].id, NULL) &&
		    still_there(k, &k->state[i]))
			v[n++] =
				(struct claim){k->state[i].id, k->state[i].path,
					       SIZE_MAX, &k->state[i], false};
	qsort(v, n, sizeof(*v), claim_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j].id, v[i].id) == 0; j++)
			;
		if (j - i < 2 || discard_leftovers(k, v + i, j - i))
			continue;
		for (size_t m = i; m < j; m++)
			v[m].archive = detect_archived(c, v[m].path);
		claims_of_id(k, v + i, j - i, shadow);
	}
	strmap_finish(&ids);
	free(v);
}

/* Turns the parsed files and the state entries no file claims into
 * changes, matching them by id. */
static void match_ids(struct cmp *k)
{
	struct scan_result *r = k->out;
	struct strmap blocked, by_id, claimed;
	bool *shadow = xcalloc(k->nparsed + 1, sizeof(bool));

	find_twice(k, shadow);
	/* the errors own their ids: a blocked file's own is freed below
	 */
	strmap_init(&blocked, 16);
	for (size_t i = 0; i < r->nerrors; i++)
		if (r->errors[i].id)
			strmap_put(&blocked, r->errors[i].id, 0);
	strmap_init(&by_id, k->nparsed ? k->nstate : 0);
	if (k->nparsed)
		for (size_t i = 0; i < k->nstate; i++)
			strmap_put(&by_id, k->state[i].id, i);
	strmap_init(&claimed, k->nparsed);
	for (size_t i = 0; i < k->nparsed; i++) {
		struct file_change *fc;
		size_t si;

		if ((k->leftover && k->leftover[i]) || shadow[i] ||
		    strmap_get(&blocked, k->parsed[i].id, NULL)) {
			file_change_finish(&k->parsed[i]);
			continue;
		}
		fc = add_change(r);
		*fc = k->parsed[i];
		strmap_put(&claimed, fc->id, 0);
		if (strmap_get(&by_id, fc->id, &si)) {
			fc->side = SIDE_CHANGED;
			fc->old_path = xstrdup(k->state[si].path);
		} else {
			fc->side = SIDE_NEW;
		}
	}
	for (size_t i = 0; i < k->nstate; i++) {
		const struct state_entry *se = &k->state[i];
		struct file_change *fc;

		if (k->same[i] || strmap_get(&claimed, se->id, NULL) ||
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
	free(shadow);
}

static void cmp_finish(struct cmp *k)
{
	free(k->parsed);
	free(k->leftover);
	free(k->reads);
	strmap_finish(&k->by_path);
	free(k->same);
}

/* classify, read, take the readings in order, match ids. */
static void compare(struct cmp *k, struct entry *v, size_t n)
{
	classify(k, v, n);
	read_all(k);
	k->parsed = xcalloc(k->nreads, sizeof(*k->parsed));
	for (size_t i = 0; i < k->nreads; i++)
		take_reading(k, &k->reads[i]);
	match_ids(k);
}

/* ---- what the walk does not see ---- */

size_t scan_result_stories(const struct scan_result *r)
{
	return r->nfiles - r->nnot_stories;
}

/* The backlog whose strays are being looked for. */
struct strays {
	const struct config *c;
	const struct config_backlog *b;
	void (*fn)(void *ctx, const char *msg);
	void *ctx;
	struct buf stages; /* "refinements/, backlog/, ..." */
};

/* The stage directory s of backlog b, from the root (heap). */
static char *stage_path(const struct config_backlog *b,
			const struct config_stage *s)
{
	return strcmp(b->path, ".") == 0 ? xstrdup(s->dir)
					 : xasprintf("%s/%s", b->path, s->dir);
}

/* A directory that may hold strays: no stage directory, no backlog's
 * own, not ignored. */
static bool stray_enter(void *ctx, const char *rel)
{
	const struct strays *x = ctx;
	const struct config *c = x->c;

	for (size_t b = 0; b < c->nbacklogs; b++) {
		if (strcmp(c->backlogs[b].path, rel) == 0)
			return false;
		for (size_t i = 0; i < c->nstages; i++) {
			char *p = stage_path(&c->backlogs[b], &c->stages[i]);
			bool stage = strcmp(p, rel) == 0;

			free(p);
			if (stage)
				return false;
		}
	}
	return !config_ignored(c, rel);
}

static void on_stray(void *ctx, const char *rel)
{
	const struct strays *x = ctx;
	char *shown, *msg;

	if (config_ignored(x->c, rel))
		return;
	shown = fsx_name_escaped(rel);
	msg = xasprintf("%s: outside the stage folders of backlog '%s' (%s); "
			"not a story: move it into one to sync it",
			shown, x->b->name, x->stages.data);
	x->fn(x->ctx, msg);
	free(msg);
	free(shown);
}

void detect_strays(const struct config *c, int rootfd,
		   void (*fn)(void *ctx, const char *msg), void *ctx)
{
	for (size_t b = 0; b < c->nbacklogs; b++) {
		struct strays x = {c, &c->backlogs[b], fn, ctx, BUF_INIT};
		bool whole = false; /* a stage is the backlog directory */

		for (size_t i = 0; i < c->nstages; i++) {
			whole |= strcmp(c->stages[i].dir, ".") == 0;
			buf_printf(&x.stages, "%s%s/", i ? ", " : "",
				   c->stages[i].dir);
		}
		/* a story lies at most two directories down:
		 * stage/epic/ */
		if (!whole)
			fsx_find_md(rootfd, c->backlogs[b].path, 2, stray_enter,
				    on_stray, &x);
		buf_finish(&x.stages);
	}
}

/* ---- the second look at the deletions ---- */

/* What the second walk looks for: a story file the first one did not
 * see. */
struct second_look {
	const struct strmap *seen;
	bool appeared;
};

static bool look_again(void *ctx, int dirfd, const char *name, const char *rel,
		       enum fsx_entry_kind kind, const struct stat *st)
{
	struct second_look *l = ctx;

	(void)dirfd;
	(void)name;
	(void)st;
	if (kind == FSX_FILE && !strmap_get(l->seen, rel, NULL))
		l->appeared = true;
	return !l->appeared; /* one is enough */
}

/* True when a story file is in the tree now that the walk did not see:
 * the tree changed under it (a file moved from a folder not yet walked
 * to one already walked is in neither). */
static bool tree_changed(const struct cmp *k, const struct scan_walk *w)
{
	struct second_look l = {0};
	struct strmap seen;

	strmap_init(&seen, w->n + k->nstate);
	for (size_t i = 0; i < w->n; i++)
		strmap_put(&seen, w->v[i].rel, i);
	for (size_t i = 0; i < k->nstate; i++)
		if (k->same[i])
			strmap_put(&seen, k->state[i].path, i);
	l.seen = &seen;
	for (size_t i = 0; i < w->ndirs && !l.appeared; i++) {
		enum fsx_walk_start start;
		struct err e;

		/* a directory that cannot be walked now has nothing new
		 */
		(void)fsx_walk_with(w->rootfd, w->dirs[i].dir, &w->dirs[i].opts,
				    look_again, &l, &start, &e);
	}
	strmap_finish(&seen);
	return l.appeared;
}

/* A story whose file the walk did not find is not deleted until a walk
 * that cannot have missed it says so: when there are deletions, a
 * second walk (names only) looks for a story file the first did not
 * see, and if there is one, the deletions wait for the next run, held
 * on both sides. */
static void confirm_deletions(struct cmp *k, const struct scan_walk *w)
{
	struct scan_result *r = k->out;
	size_t n = 0;
	bool any = false;

	for (size_t i = 0; i < r->nchanges && !any; i++)
		any = r->changes[i].side == SIDE_DELETED;
	if (!any)
		return;
	test_seam_stop("walked"); /* where a test moves a file */
	if (!tree_changed(k, w))
		return;
	for (size_t i = 0; i < r->nchanges; i++) {
		struct file_change *fc = &r->changes[i];

		if (fc->side == SIDE_DELETED) {
			add_held(r, fc->id);
			file_change_finish(fc);
		} else {
			r->changes[n++] = *fc;
		}
	}
	r->nchanges = n;
}

/* A stage directory that is a symlink (or lies beyond one) is reported
 * on every run and never walked; the stories the state knows below it
 * stay as they are instead of looking deleted. */
static void refuse_symlinked(struct cmp *k, const struct scan_walk *w)
{
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].start == FSX_START_SYMLINK)
			refuse_linked(k, w->dirs[i].dir);
}

/* The walk's counts: story files per backlog and per stage directory
 * (w->dirs is in that order), and which directories are missing. */
static void count_files(const struct scan_walk *w, struct scan_result *out)
{
	for (size_t i = 0; i < w->ndirs; i++) {
		size_t slot = w->dirs[i].slot;

		out->files_per_backlog[w->dirs[i].backlog] += w->dirs[i].files;
		out->files_per_stage[slot] = w->dirs[i].files;
		out->stage_missing[slot] =
			w->dirs[i].start == FSX_START_MISSING;
		out->nfiles += w->dirs[i].files;
	}
	memcpy(out->backlog_missing, w->missing,
	       w->c->nbacklogs * sizeof(bool));
}

struct scan_walk *detect_walk_start(const struct config *c, int rootfd,
				    struct sync_progress *progress,
				    struct statcache *cache)
{
	struct scan_walk *w = walk_create(c, rootfd, progress);

	w->cache = cache;
	list_dirs(w);
	order_dirs(w);
	walk_start(w);
	return w;
}

bool detect_walk_clean(struct scan_walk *w, struct scan_result *out)
{
	walk_join(w);
	if (!w->cache || !w->ok || w->n || !statcache_all_seen(w->cache))
		return false;
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i].start == FSX_START_SYMLINK)
			return false;
	result_init(out, w->c);
	count_files(w, out);
	walk_destroy(w);
	return true;
}

/* The state entries whose files the cache found unchanged are the same:
 * the state's stat data must be the cache's too, so the cache decides
 * nothing the state does not. False when the cache dropped a file that
 * no state entry confirms (a cache that lies): the walk must be made
 * again without it. */
static bool cached_same(struct cmp *k, const struct scan_walk *w)
{
	size_t confirmed = 0;

	for (size_t i = 0; i < k->nstate; i++)
		if (statcache_same(w->cache, &k->state[i])) {
			k->same[i] = true;
			confirmed++;
		}
	return confirmed == statcache_nseen(w->cache);
}

/* The walk w made again, without the cache: w is freed. */
static struct scan_walk *walk_again(struct scan_walk *w)
{
	struct scan_walk *again =
		detect_walk_start(w->c, w->rootfd, w->progress, NULL);

	detect_walk_ask(again, &w->asks);
	walk_destroy(w);
	return again;
}

void detect_walk_cancel(struct scan_walk *w)
{
	/* the directories not taken yet are left: only those being
	 * walked are waited for */
	atomic_store(&w->next_dir, w->ndirs);
	walk_join(w);
	walk_destroy(w);
}

bool detect_walk_compare(struct scan_walk *w, const struct state_entry *state,
			 size_t nstate, bool full, struct scan_result *out,
			 struct err *e)
{
	const struct config *c = w->c;
	struct cmp k;
	bool ok;

	cmp_init(&k, c, w->rootfd, state, nstate, full, out);
	k.progress = w->progress;
	if (w->cache) {
		walk_join(w);
		if (full || !cached_same(&k, w)) {
			memset(k.same, 0, nstate * sizeof(*k.same));
			w = walk_again(w);
		}
	}
	k.asks = w->asks;
	atomic_store_explicit(&w->k, &k, memory_order_release);
	walk_join(w);
	ok = w->ok;
	count_files(w, out);
	if (ok) {
		refuse_symlinked(&k, w);
		compare(&k, w->v, w->n);
		confirm_deletions(&k, w);
		cmp_finish(&k);
	} else {
		*e = w->e;
		cmp_finish(&k);
		scan_result_finish(out);
	}
	walk_destroy(w);
	return ok;
}

void detect_walk_ask(struct scan_walk *w, const struct detect_asks *asks)
{
	w->asks = asks ? *asks : (struct detect_asks){0};
}

bool detect_scan(const struct config *c, int rootfd,
		 const struct state_entry *state, size_t nstate, bool full,
		 struct scan_result *out, struct err *e)
{
	return detect_walk_compare(detect_walk_start(c, rootfd, NULL, NULL),
				   state, nstate, full, out, e);
}

/* ---- the first load, streamed ---- */

/* Files read at a time, batches read ahead of the caller, and entries
 * walked ahead of the readers: memory holds that many, whatever the size
 * of the tree, and the names of the directories being walked (sorted). */
#define STREAM_BATCH  64
#define STREAM_WINDOW 8
#define STREAM_AHEAD  (2 * STREAM_WINDOW * STREAM_BATCH)

/* Some entries, in walk order (their rel strings its own), and what
 * reading them gave. A batch the caller took is spent: the reader that
 * takes its slot next frees it, so that what the readers allocate is
 * freed on their side, not by the caller (glibc's free of another
 * thread's arena was 6.5% of a first load's applying thread). */
struct batch {
	struct entry v[STREAM_BATCH];
	size_t n;
	bool ready, spent;
	bool failed; /* a typed entry's lstat failed: the walk's failure
		      */
	struct err e;
	struct scan_result r;
};

/* A pipeline: one thread walks the stage directories in order (each
 * directory's entries in name order), at most STREAM_AHEAD entries
 * ahead of the readers; two threads claim batches of them in that order
 * and read them; the caller takes the ready ones in the same order. */
struct stream {
	struct scan_walk *w;
	pthread_mutex_t mu;
	pthread_cond_t ready;  /* a batch is read, or the stream ended */
	pthread_cond_t room;   /* a batch was taken, or entries were */
	pthread_cond_t walked; /* a batch's worth was walked, or all */
	struct entry *q;       /* walked, not claimed yet: q[head, tail) */
	size_t head, tail, cap;
	size_t claimed, consumed; /* batches */
	bool walk_done;           /* every directory walked */
	bool all_claimed;         /* and every entry in a batch */
	bool failed;              /* a walk failed: w->e says why */
	bool stop;
	struct batch slot[STREAM_WINDOW];
	pthread_t walker, thread[2];
	bool have_walker; /* else the walk ran first, not waiting for
			     room */
	int nthreads;
};

/* What the walk of one directory passes to stream_entry. */
struct stream_dir {
	struct stream *sm;
	struct dir_walk *d;
};

/* The walker's callback: queues the entry, waiting for room. Allocates
 * before it takes the lock: a thread out of memory waits
 * (mem_defer_oom), and must not hold it. */
static bool stream_entry(void *ctx, int dirfd, const char *name,
			 const char *rel, enum fsx_entry_kind kind,
			 const struct stat *st)
{
	struct stream_dir *sd = ctx;
	struct stream *sm = sd->sm;
	struct entry en = {
		.rel = xstrdup(rel),
		.kind = kind,
		.backlog = sd->d->backlog,
		.stage_len = sd->d->stage_len,
		.typed = !st,
	};

	(void)dirfd;
	(void)name;
	if (st)
		fsx_stat_from(&en.st, st);
	if (kind == FSX_FILE && !too_deep(rel, sd->d->stage_len)) {
		sd->d->files++;
		count_walked(sm->w->progress);
	}
	pthread_mutex_lock(&sm->mu);
	while (sm->have_walker && !sm->stop &&
	       sm->tail - sm->head >= STREAM_AHEAD)
		pthread_cond_wait(&sm->room, &sm->mu);
	if (sm->stop) {
		pthread_mutex_unlock(&sm->mu);
		free(en.rel);
		return false;
	}
	if (sm->tail == sm->cap && sm->head) { /* a walker: never grows */
		memmove(sm->q, sm->q + sm->head,
			(sm->tail - sm->head) * sizeof(*sm->q));
		sm->tail -= sm->head;
		sm->head = 0;
	} else if (sm->tail == sm->cap) {
		sm->q = xgrow(sm->q, &sm->cap, sm->tail + 1, sizeof(*sm->q));
	}
	sm->q[sm->tail++] = en;
	if ((sm->tail - sm->head) % STREAM_BATCH == 0)
		pthread_cond_broadcast(&sm->walked);
	pthread_mutex_unlock(&sm->mu);
	return true;
}

/* Walks every stage directory in order into the queue. */
static void walk_all(struct stream *sm)
{
	struct scan_walk *w = sm->w;
	struct dir_walk *failed = NULL;

	for (size_t i = 0; i < w->ndirs && !failed; i++) {
		struct dir_walk *d = &w->dirs[i];
		struct stream_dir sd = {sm, d};

		d->opts.sorted = true;
		d->opts.typed = true; /* no state: every file is read */
		d->ok = fsx_walk_with(w->rootfd, d->dir, &d->opts, stream_entry,
				      &sd, &d->start, &d->e);
		if (!d->ok)
			failed = d;
	}
	pthread_mutex_lock(&sm->mu);
	if (failed && !sm->stop && !sm->failed) {
		sm->failed = true;
		w->e = failed->e;
	}
	sm->walk_done = true;
	pthread_cond_broadcast(&sm->walked);
	pthread_cond_broadcast(&sm->ready);
	pthread_mutex_unlock(&sm->mu);
}

/* The pipeline's threads run at a lower priority than the caller's:
 * they work ahead of the thread that applies, which is the critical
 * path, and on two cores the three would otherwise share them evenly (a
 * 10k first load: 340 to 320 ms, medians of 12). Linux's nice is per
 * thread; this is best effort. */
static void behind_the_caller(void)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
}

static void *walk_work(void *arg)
{
	behind_the_caller();
	mem_defer_oom(); /* the caller is writing: it handles the
			    failure */
	walk_all(arg);
	return NULL;
}

/* Classifies, reads and parses one batch, as compare does, into b->r;
 * no state, so every story is new. */
static void read_batch(const struct scan_walk *w, struct batch *b)
{
	struct cmp k;
	struct fsx_dir_cache dc = FSX_DIR_CACHE_INIT;

	cmp_init(&k, w->c, w->rootfd, NULL, 0, false, &b->r);
	k.progress = w->progress;
	classify(&k, b->v, b->n);
	k.parsed = xcalloc(k.nreads + 1, sizeof(*k.parsed));
	b->failed = false;
	for (size_t i = 0; i < k.nreads; i++) {
		read_one(&k, &k.reads[i], &dc);
		if (k.reads[i].outcome == READ_WALK_FAILED && !b->failed) {
			b->failed = true;
			err_set(&b->e, "%s", k.reads[i].msg);
		}
		take_reading(&k, &k.reads[i]);
	}
	fsx_dir_cache_finish(&dc);
	for (size_t i = 0; i < k.nparsed; i++)
		k.parsed[i].side = SIDE_NEW;
	b->r.changes = k.parsed;
	b->r.nchanges = k.nparsed;
	b->r.capchanges = k.nreads + 1;
	k.parsed = NULL;
	cmp_finish(&k);
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].rel);
	b->n = 0;
	scan_result_finish(&b->r);
}

/* With the lock held: claims, reads and publishes one batch; false when
 * there is no room for one, or nothing left; true when it did, or when
 * it waited for the walk. */
static bool produce(struct stream *sm)
{
	size_t n = sm->tail - sm->head;
	struct batch *b, spent;

	if (sm->stop || sm->failed || sm->all_claimed ||
	    sm->claimed - sm->consumed >= STREAM_WINDOW)
		return false;
	if (n < STREAM_BATCH && !sm->walk_done) {
		pthread_cond_wait(&sm->walked, &sm->mu);
		return true; /* look again */
	}
	if (!n) {
		sm->all_claimed = true;
		pthread_cond_broadcast(&sm->ready);
		return false;
	}
	/* the slot and the entries are taken together, under the lock,
	 * so that batches keep the walk's order */
	b = &sm->slot[sm->claimed++ % STREAM_WINDOW];
	spent.spent = false;
	if (b->spent) {
		memcpy(&spent, b, sizeof(spent));
		b->spent = false;
	}
	b->n = n < STREAM_BATCH ? n : STREAM_BATCH;
	memcpy(b->v, sm->q + sm->head, b->n * sizeof(*b->v));
	sm->head += b->n;
	pthread_cond_broadcast(&sm->room); /* the walker may go on */
	pthread_mutex_unlock(&sm->mu);
	if (spent.spent)
		batch_free(&spent);
	read_batch(sm->w, b);
	pthread_mutex_lock(&sm->mu);
	/* as the walk's own failure: the first one ends the stream */
	if (b->failed && !sm->failed && !sm->stop) {
		sm->failed = true;
		sm->w->e = b->e;
	}
	b->ready = true;
	pthread_cond_broadcast(&sm->ready);
	return true;
}

static bool stream_over(const struct stream *sm)
{
	return sm->stop || sm->failed || sm->all_claimed;
}

static void *stream_work(void *arg)
{
	struct stream *sm = arg;

	behind_the_caller();
	mem_defer_oom(); /* the caller is writing: it handles the
			    failure */
	pthread_mutex_lock(&sm->mu);
	while (!stream_over(sm))
		if (!produce(sm) && !stream_over(sm))
			pthread_cond_wait(&sm->room, &sm->mu);
	pthread_mutex_unlock(&sm->mu);
	return NULL;
}

/* The next batch in walk order, or NULL at the end (or a failed walk).
 */
static struct batch *next_batch(struct stream *sm)
{
	struct batch *b = &sm->slot[sm->consumed % STREAM_WINDOW];

	pthread_mutex_lock(&sm->mu);
	while (!b->ready && !sm->failed &&
	       !(sm->all_claimed && sm->consumed == sm->claimed)) {
		struct timespec ts;

		if (!sm->nthreads) { /* no thread: read here */
			if (!produce(sm) && !sm->all_claimed)
				break;
			continue;
		}
		/* a thread out of memory waits for this one to end it
		 */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sm->ready, &sm->mu, &ts);
		if (mem_oom_pending())
			mem_fail();
	}
	pthread_mutex_unlock(&sm->mu);
	return b->ready ? b : NULL;
}

/* Moves a batch's errors, skipped files and leftovers to out, and
 * leaves the rest of it spent, for a reader to free. */
static void take_batch(struct stream *sm, struct batch *b,
		       struct scan_result *out)
{
	struct scan_result *r = &b->r;

	for (size_t i = 0; i < r->nerrors; i++) {
		out->errors = xgrow(out->errors, &out->caperrors,
				    out->nerrors + 1, sizeof(*out->errors));
		out->errors[out->nerrors++] = r->errors[i];
	}
	out->skipped = xgrow(out->skipped, &out->capskipped,
			     out->nskipped + r->nskipped, sizeof(char *));
	for (size_t i = 0; i < r->nskipped; i++)
		out->skipped[out->nskipped++] = r->skipped[i];
	out->nnot_stories += r->nnot_stories;
	for (size_t i = 0; i < r->nleftovers; i++) {
		out->leftovers =
			xgrow(out->leftovers, &out->capleftovers,
			      out->nleftovers + 1, sizeof(*out->leftovers));
		out->leftovers[out->nleftovers++] = r->leftovers[i];
	}
	for (size_t i = 0; i < r->nshadows; i++) {
		out->shadows = xgrow(out->shadows, &out->capshadows,
				     out->nshadows + 1, sizeof(char *));
		out->shadows[out->nshadows++] = r->shadows[i];
	}
	r->nerrors = r->nskipped = r->nleftovers = 0;
	r->nshadows = 0;
	pthread_mutex_lock(&sm->mu);
	b->ready = false;
	b->spent = true;
	sm->consumed++;
	pthread_cond_broadcast(&sm->room);
	pthread_mutex_unlock(&sm->mu);
}

static void stream_start(struct stream *sm, struct scan_walk *w)
{
	sm->w = w;
	pthread_mutex_init(&sm->mu, NULL);
	pthread_cond_init(&sm->ready, NULL);
	pthread_cond_init(&sm->room, NULL);
	pthread_cond_init(&sm->walked, NULL);
	sm->cap = STREAM_AHEAD;
	sm->q = xcalloc(sm->cap, sizeof(*sm->q));
	/* set before the thread starts, which reads it */
	sm->have_walker = true;
	if (pthread_create(&sm->walker, NULL, walk_work, sm) != 0) {
		sm->have_walker = false; /* no thread: the whole walk first */
		walk_all(sm);
	}
	for (int t = 0; t < 2; t++)
		if (pthread_create(&sm->thread[sm->nthreads], NULL, stream_work,
				   sm) == 0)
			sm->nthreads++;
}

/* Stops the walker and the readers and frees what they did ahead. */
static void stream_stop(struct stream *sm)
{
	pthread_mutex_lock(&sm->mu);
	sm->stop = true;
	pthread_cond_broadcast(&sm->room);
	pthread_cond_broadcast(&sm->walked);
	pthread_mutex_unlock(&sm->mu);
	if (sm->have_walker)
		pthread_join(sm->walker, NULL);
	for (int t = 0; t < sm->nthreads; t++)
		pthread_join(sm->thread[t], NULL);
	for (size_t i = 0; i < STREAM_WINDOW; i++)
		if (sm->slot[i].spent)
			batch_free(&sm->slot[i]);
	for (size_t i = sm->consumed; i < sm->claimed; i++)
		batch_free(&sm->slot[i % STREAM_WINDOW]);
	for (size_t i = sm->head; i < sm->tail; i++)
		free(sm->q[i].rel);
	free(sm->q);
	pthread_cond_destroy(&sm->walked);
	pthread_cond_destroy(&sm->room);
	pthread_cond_destroy(&sm->ready);
	pthread_mutex_destroy(&sm->mu);
}

bool detect_scan_stream(const struct config *c, int rootfd, scan_begin_fn begin,
			scan_batch_fn fn, void *ctx,
			struct sync_progress *progress, struct scan_result *out,
			struct err *e)
{
	struct scan_walk *w = walk_create(c, rootfd, progress);
	struct stream sm = {0};
	struct batch *b;
	struct cmp k;
	bool ok = true;

	/* the walk's comparison: no state, every story file is read */
	cmp_init(&k, c, rootfd, NULL, 0, false, out);
	list_dirs(w);
	atomic_store(&w->k, &k);
	stream_start(&sm, w);
	ok = !begin || begin(ctx, e);
	while (ok && (b = next_batch(&sm))) {
		ok = fn(ctx, &b->r, e);
		take_batch(&sm, b, out);
	}
	stream_stop(&sm);
	if (ok && sm.failed) {
		*e = w->e;
		ok = false;
	}
	count_files(w, out);
	if (ok)
		refuse_symlinked(&k, w);
	cmp_finish(&k);
	walk_destroy(w);
	return ok;
}

static bool is_md_name(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

/* A candidate's directory that is a symlink or lies beyond one: one
 * entry for it, which keeps the stories below it. */
static void look_at_linked(struct scan_walk *w, const char *dir,
			   unsigned backlog)
{
	struct stat st = {0};

	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].kind == FSX_LINKED_DIR &&
		    strcmp(w->v[i].rel, dir) == 0)
			return;
	/* stage_len at the end: refused whatever its depth */
	add_entry(&w->v, &w->n, &w->cap, &w->names, dir, backlog,
		  (unsigned)strlen(dir), FSX_LINKED_DIR, &st);
}

/* The entry of one candidate path, if it is a story path that exists.
 */
static void look_at(struct scan_walk *w, const char *rel)
{
	const struct config_backlog *b;
	const struct config_stage *s;
	enum fsx_entry_kind kind;
	const char *slash = strrchr(rel, '/');
	char *epic = NULL, *dir;
	struct stat st;
	size_t off;
	int dirfd;

	/* a hidden directory below the backlog's is not a story path */
	if (!locate(w->c, rel, &b, &s, &epic, &off) || !slash)
		goto out;
	dir = xstrndup(rel, (size_t)(slash - rel));
	dirfd = fsx_open_beneath(w->rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dirfd < 0 && errno == ELOOP)
		look_at_linked(w, dir, (unsigned)(b - w->c->backlogs));
	free(dir);
	if (dirfd < 0)
		goto out; /* gone: the state entry becomes a deletion */
	/* what the walk would report: *.md entries, and links that may
	 * stand for a directory (a diff names a symlink itself) */
	if (fsx_lstat_at(dirfd, slash + 1, &st, &kind) &&
	    (kind == FSX_LINKED_DIR || is_md_name(slash + 1)))
		add_entry(&w->v, &w->n, &w->cap, &w->names, rel,
			  (unsigned)(b - w->c->backlogs), (unsigned)off, kind,
			  &st);
	close(dirfd);
out:
	free(epic);
}

bool detect_paths(const struct config *c, int rootfd,
		  const struct state_entry *state, size_t nstate,
		  char *const *paths, size_t npaths,
		  const struct detect_asks *asks, struct scan_result *out,
		  struct err *e)
{
	struct scan_walk *w = walk_create(c, rootfd, NULL);
	struct strmap candidates;
	struct cmp k;

	strmap_init(&candidates, npaths);
	for (size_t i = 0; i < npaths; i++) {
		if (strmap_get(&candidates, paths[i], NULL))
			continue;
		strmap_put(&candidates, paths[i], i);
		look_at(w, paths[i]);
	}
	cmp_init(&k, c, rootfd, state, nstate, false, out);
	if (asks)
		k.asks = *asks;
	out->partial = true;
	/* every state entry the diff does not name is unchanged */
	for (size_t i = 0; i < nstate; i++)
		k.same[i] = !strmap_get(&candidates, state[i].path, NULL);
	compare(&k, w->v, w->n);
	cmp_finish(&k);
	for (size_t i = 0; i < w->n; i++)
		out->nfiles += w->v[i].kind == FSX_FILE;
	strmap_finish(&candidates);
	walk_destroy(w);
	return true;
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
	for (size_t i = 0; i < r->nskipped; i++)
		free(r->skipped[i]);
	free(r->skipped);
	for (size_t i = 0; i < r->nleftovers; i++) {
		free(r->leftovers[i].path);
		free(r->leftovers[i].id);
		free(r->leftovers[i].line);
		story_finish(&r->leftovers[i].story);
	}
	free(r->leftovers);
	for (size_t i = 0; i < r->nheld; i++)
		free(r->held[i]);
	free(r->held);
	for (size_t i = 0; i < r->nshadows; i++)
		free(r->shadows[i]);
	free(r->shadows);
	for (size_t i = 0; i < r->ntemps; i++)
		free(r->temps[i]);
	free(r->temps);
	free(r->files_per_backlog);
	free(r->backlog_missing);
	free(r->files_per_stage);
	free(r->stage_missing);
	memset(r, 0, sizeof(*r));
}
