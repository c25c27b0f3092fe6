/* sync_load.c: the first load, streamed: batches read, planned and applied in
 * one transaction (sync_impl.h). */
#include "sync_impl.h"

/* What the first load keeps beside the run: the ids seen, by a 32-bit
 * hash (a hit is checked against the rows: 4 bytes a story, not the ids);
 * the ids no file may take (claimed twice, or of a file in error), and
 * the first claimant of each claimed twice. */
struct load {
	struct run *run;
	struct id_set {
		uint32_t *v;
		size_t n, cap;
	} seen;
	struct strmap blocked;
	struct arena blocked_ids;
	char **first_claims;
	size_t nfirst_claims;
	size_t nimported;
};

static void load_finish(struct load *l)
{
	free(l->seen.v);
	strmap_finish(&l->blocked);
	arena_finish(&l->blocked_ids);
	for (size_t i = 0; i < l->nfirst_claims; i++)
		free(l->first_claims[i]);
	free(l->first_claims);
}

static uint32_t id_hash(const char *s)
{
	/* the high half: every byte of the id reaches it */
	uint32_t v = (uint32_t)(strmap_hash(s) >> 32);

	return v ? v : 1; /* 0 marks a free slot */
}

/* Adds h to the set of ids seen; false when it was there already. Linear
 * probing, at most four fifths full. */
static bool seen_add(struct load *l, uint32_t h)
{
	struct id_set *set = &l->seen;
	size_t i;

	if ((set->n + 1) * 5 > set->cap * 4) {
		struct id_set old = *set;

		set->cap = old.cap ? old.cap * 2 : 1024;
		set->v = xcalloc_written(set->cap, sizeof(*set->v));
		set->n = 0;
		for (size_t j = 0; j < old.cap; j++)
			if (old.v[j])
				seen_add(l, old.v[j]);
		free(old.v);
	}
	for (i = h & (set->cap - 1); set->v[i]; i = (i + 1) & (set->cap - 1))
		if (set->v[i] == h)
			return false;
	set->v[i] = h;
	set->n++;
	return true;
}

/* No file takes id any more; a later claim names first (NULL: is dropped
 * silently, as for an id whose file is in error). */
static void block(struct load *l, const char *id, const char *first)
{
	size_t at = 0;

	if (first) {
		l->first_claims = xreallocarray(
			l->first_claims, l->nfirst_claims + 1, sizeof(char *));
		l->first_claims[l->nfirst_claims++] = xstrdup(first);
		at = l->nfirst_claims;
	}
	strmap_put(&l->blocked, arena_strdup(&l->blocked_ids, id), at);
}

/* Takes back the story id that this load imported from another file. */
static bool unimport(struct run *run, const char *id)
{
	if (!store_story_forget(run->store, id, run->e))
		return false;
	run->n->created--;
	run->n->rows_written--;
	run->napplied--;
	return true;
}

/* fc claims an id already seen: when a row has it, both files are in
 * error and neither takes it (as detect_scan rules), the row is taken back
 * and the id blocked; *twice tells. Two ids may share a hash: no row, no
 * second claim. */
static bool claimed_twice(struct load *l, struct scan_result *b,
			  const struct file_change *fc, bool *twice)
{
	struct run *run = l->run;
	char *other = NULL, *msg;
	bool ok;

	if (!store_story_path(run->store, fc->id, &other, twice, run->e))
		return false;
	if (!*twice)
		return true;
	/* an archived copy of an id a live file holds is no claim */
	if (other && detect_archived(run->c, fc->path) &&
	    !detect_archived(run->c, other)) {
		scan_result_add_shadow(b, fc->path, fc->id, other);
		free(other);
		return true;
	}
	if (other && !detect_archived(run->c, fc->path) &&
	    detect_archived(run->c, other)) {
		scan_result_add_shadow(b, other, fc->id, fc->path);
		*twice = false;
		ok = unimport(run, fc->id);
		free(other);
		return ok;
	}
	msg = xasprintf("%s: id '%s' is also claimed by %s", fc->path, fc->id,
			other);
	scan_result_add_error(b, fc->path, fc->id, msg);
	free(msg);
	msg = xasprintf("%s: id '%s' is also claimed by %s", other, fc->id,
			fc->path);
	scan_result_add_error(b, other, fc->id, msg);
	free(msg);
	block(l, fc->id, other);
	ok = unimport(run, fc->id);
	free(other);
	return ok;
}

/* A file whose id is blocked: a later claim of an id claimed twice is in
 * error too, naming the first; one whose file is in error is left. */
static void claim_blocked(struct load *l, struct scan_result *b,
			  const struct file_change *fc, size_t first)
{
	char *msg;

	if (!first)
		return;
	msg = xasprintf("%s: id '%s' is also claimed by %s", fc->path, fc->id,
			l->first_claims[first - 1]);
	scan_result_add_error(b, fc->path, fc->id, msg);
	free(msg);
}

/* A file in error blocks its id: a story this load imported under it is
 * taken back. */
static bool block_errors(struct load *l, struct scan_result *b)
{
	struct run *run = l->run;

	for (size_t i = 0; i < b->nerrors; i++) {
		const char *id = b->errors[i].id;
		char *path = NULL;
		bool found = false;

		if (!id || strmap_get(&l->blocked, id, NULL))
			continue;
		block(l, id, NULL);
		if (!seen_add(l, id_hash(id)) &&
		    (!store_story_path(run->store, id, &path, &found, run->e) ||
		     (found && !unimport(run, id)))) {
			free(path);
			return false;
		}
		free(path);
	}
	return true;
}

/* One batch of the first load: each new story planned and applied. */
static bool import_batch(void *ctx, struct scan_result *b, struct err *e)
{
	struct load *l = ctx;
	struct run *run = l->run;
	size_t nerrors = b->nerrors;

	(void)e; /* run->e is e */
	if (!block_errors(l, b))
		return false;
	for (size_t i = 0; i < b->nchanges; i++) {
		struct file_change *fc = &b->changes[i];
		size_t first;
		bool twice = false;

		if (strmap_get(&l->blocked, fc->id, &first)) {
			claim_blocked(l, b, fc, first);
			continue;
		}
		if (!seen_add(l, id_hash(fc->id)) &&
		    !claimed_twice(l, b, fc, &twice))
			return false;
		if (twice)
			continue;
		/* one at a time: a second claim finds the first one's row */
		if (!plan_one(run, fc->id, fc, NULL))
			return false;
		/* the action was given the file's story (plan_story): it
		 * goes back to fc, which the reader frees with its batch */
		if (run->nplan == 1 && story_empty(&fc->story))
			run->hand_back = &fc->story;
		run->napplied += run->nplan;
		if (!apply_planned(run))
			return false;
	}
	run->n->file_changes += (long)(b->nchanges + nerrors);
	l->nimported += b->nchanges;
	return true;
}

/* Before the first batch, while the walk and the readers begin: bulk mode
 * (SQLite leaves WAL: a checkpoint and barriers) and the run's
 * transaction, which the reading does not need. */
static bool import_begin(void *ctx, struct err *e)
{
	struct run *run = ((struct load *)ctx)->run;

	(void)e; /* run->e is e */
	if (!store_bulk(run->store, true, run->e) || !open_run(run))
		return false;
	apply_begin(run);
	return true;
}

/* The first load: the tree read into an empty database in batches, each
 * parsed, planned and applied while the next ones are read, all in the one
 * transaction; memory holds a few batches, not the tree. The API waits
 * meanwhile, as it has nothing to read yet. */
bool import(struct run *run)
{
	int64_t t = fsx_now_ns(), cpu = fsx_thread_cpu_ns();
	struct load l = {.run = run};
	bool ok;

	strmap_init(&l.blocked, 16);
	ok = detect_scan_stream(run->c, run->rootfd, import_begin, import_batch,
				&l, run->r ? run->r->progress : NULL,
				&run->scan, run->e);
	if (ok) {
		report_scan(run, l.nimported);
		if (l.nimported)
			detect_git_head(run->c, &run->git);
		ok = apply_end(run) && close_run(run, t, cpu);
	}
	if (!ok)
		store_rollback(run->store);
	load_finish(&l);
	return ok;
}
