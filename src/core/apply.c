/*
 * Apply: one action at a time, files first, then the row, the state and the
 * records. Files are written before the transaction commits: if the commit
 * is lost, the next run finds the file's content changed and converges.
 */
#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "detect.h"
#include "gitrepo.h"
#include "journal.h"
#include "json.h"
#include "mem.h"
#include "seam.h"

/* Remembers a path this run changed in the work tree. */
static void touch(struct apply_ctx *ctx, const char *path)
{
	ctx->touched = xgrow(ctx->touched, &ctx->captouched, ctx->ntouched + 1,
			     sizeof(char *));
	ctx->touched[ctx->ntouched++] = xstrdup(path);
}

/* Where one story's file is and ends up, and what it holds. */
struct target {
	const char *cur; /* where the file is now, or NULL */
	char *path;      /* where it is after this action */
	struct file_stat st;
	int64_t recorded_ns;
	char hash[BLOBID_HEX];
	char put[BLOBID_HEX]; /* the blob put in place ("": not known) */
	bool wrote;
	bool refused; /* the text storysync would write is not the row's */
	char *body;   /* the body as the file written holds it, where only
			 its line breaks differ from the row's (CRLF) */
};

static const enum story_field loc[SM_COUNT] = {
	[SM_BACKLOG] = SF_BACKLOG,
	[SM_STATUS] = SF_STATUS,
	[SM_EPIC] = SF_EPIC,
};

/* Refuses a story whose file would not read back as its row (a value the
 * edit or the renderer cannot write, or a fault of theirs): named, and
 * recorded by apply_action, the file left as it was. */
static bool refuse(struct target *t, const char *id, const char *why,
		   bool created, struct err *e)
{
	char msg[ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", why);
	t->refused = true;
	return err_set(e, "story %s: %s; refused: %s", id, msg,
		       created ? "no file written"
			       : "the file is left as it was");
}

/* What storysync writes, it reads back as the same story: out, at path,
 * must parse to want, its mirror keys to mirror. */
static bool check_back(const struct config *c, struct target *t,
		       const char *path, const struct buf *out,
		       const struct story *want,
		       const char *const mirror[SM_COUNT], bool created,
		       struct err *e)
{
	struct story_doc back;
	struct err why;
	char *msg;
	bool ok;

	if (story_reads_back(&c->dialect, path, out->data, out->len, want,
			     mirror, &back, &why)) {
		if (want->v[SF_BODY] &&
		    !story_field_equal(&back.s, want, SF_BODY))
			t->body = xstrdup(back.s.v[SF_BODY]);
		story_doc_finish(&back);
		return true;
	}
	msg = xasprintf("its file would not read back as the row (%s)",
			why.msg);
	ok = refuse(t, want->v[SF_ID], msg, created, e);
	free(msg);
	return ok;
}

static bool safe_component(const char *what, const char *id, const char *value,
			   struct err *e)
{
	/* a name the scan would not read back as this story (hidden, a
	 * directory named *.md, ...) would make the next run take the story
	 * for deleted */
	if (value && fsx_name_writable(value, strcmp(what, "epic") == 0))
		return true;
	return err_set(e, "story %s: %s '%s' is not a safe file name; skipped",
		       id, what, value ? value : "");
}

/* The stage directory of a story: its status's, or, where the status is a
 * key, the one its file is in (a status change moves nothing) or else the
 * one new stories are created in. */
static const struct config_stage *stage_of(const struct config *c,
					   const struct story *s,
					   const char *cur)
{
	const struct config_backlog *b;
	const struct config_stage *st = NULL;
	char *epic = NULL;

	if (!c->dialect.status_from_key)
		return config_stage_for(c, s->v[SF_STATUS]);
	if (cur && detect_location(c, cur, &b, &st, &epic)) {
		free(epic);
		return st;
	}
	return config_stage_for(c, s->v[SF_STATUS]);
}

/* A status the configuration's statuses: list allows (any, without one). */
static bool status_listed(const struct config *c, const char *status)
{
	if (!c->nstatuses || !status)
		return true;
	for (size_t i = 0; i < c->nstatuses; i++)
		if (strcmp(c->statuses[i], status) == 0)
			return true;
	return false;
}

/* True when path is a story path of backlog b, stage st and that epic. */
static bool reads_as(const struct config *c, const char *path,
		     const struct config_backlog *b,
		     const struct config_stage *st, const char *epic)
{
	const struct config_backlog *rb;
	const struct config_stage *rs;
	char *re = NULL;
	bool same = detect_location(c, path, &rb, &rs, &re) && rb == b &&
		    rs == st &&
		    (re && epic ? strcmp(re, epic) == 0 : re == epic);

	free(re);
	return same;
}

/* The path a story's file must have: <backlog>/<stage>/[<epic>/]<name>. */
static char *target_path(const struct config *c, const struct story *s,
			 const char *cur, struct err *e)
{
	const char *id = s->v[SF_ID];
	const struct config_backlog *b = NULL;
	const struct config_stage *st = NULL;
	const char *base;
	char *name, *path = NULL, *dir = NULL;
	struct buf p = BUF_INIT;

	if (s->v[SF_BACKLOG])
		b = config_backlog(c, s->v[SF_BACKLOG]);
	st = stage_of(c, s, cur);
	if (c->dialect.status_from_key && !status_listed(c, s->v[SF_STATUS])) {
		err_set(e,
			"story %s: status '%s' is not one of the configured "
			"statuses; skipped",
			id, s->v[SF_STATUS] ? s->v[SF_STATUS] : "");
		return NULL;
	}
	if (!b) {
		err_set(e, "story %s: backlog '%s' is not configured; skipped",
			id, s->v[SF_BACKLOG] ? s->v[SF_BACKLOG] : "");
		return NULL;
	}
	if (!st) {
		err_set(e,
			"story %s: status '%s' has no stage directory; "
			"skipped",
			id, s->v[SF_STATUS] ? s->v[SF_STATUS] : "");
		return NULL;
	}
	if (!safe_component("id", id, id, e) ||
	    (s->v[SF_EPIC] && !safe_component("epic", id, s->v[SF_EPIC], e)))
		return NULL;
	base = cur ? strrchr(cur, '/') : NULL;
	name = base ? xstrdup(base + 1) : story_filename(s, &c->dialect);
	/* a name a person gave is kept; one storysync makes must read back */
	if (!base && !safe_component("file name", id, name, e))
		goto out;
	dir = config_stage_path(b, st);
	if (strcmp(dir, ".") != 0)
		buf_printf(&p, "%s/", dir);
	if (s->v[SF_EPIC])
		buf_printf(&p, "%s/", s->v[SF_EPIC]);
	buf_puts(&p, name);
	path = buf_detach(&p);
	/* an epic named as a stage inside this one's would be that stage */
	if (!reads_as(c, path, b, st, s->v[SF_EPIC])) {
		err_set(e,
			"story %s: epic '%s' is the directory of another "
			"stage inside stage '%s'; skipped",
			id, s->v[SF_EPIC] ? s->v[SF_EPIC] : "", st->status);
		xfree(&path);
	}
out:
	free(dir);
	free(name);
	return path;
}

static bool has_key(const struct story_doc *d, int f)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i].field == f)
			return true;
	return false;
}

/* The text the existing file (cur, to be at t->path) must hold for
 * want; checked to read back as it. */
static bool edited_text(const struct config *c, const struct action *a,
			struct target *t, const char *text, size_t len,
			struct buf *out, struct err *e)
{
	struct story_doc doc = {0};
	struct story want = {0};
	const char *mirror[SM_COUNT] = {0};
	bool ok;

	if (!story_parse(&doc, &c->dialect, t->cur, text, len, e))
		return false;
	story_copy(&want, &a->want);
	/* on first sight, and for a key whose field did not change, the file
	 * keeps its key as it is */
	for (int k = 0; k < SM_COUNT; k++)
		if ((!a->rewrite_mirrors || a->keep_mirror[k]) &&
		    !(k == SM_STATUS && c->dialect.status_from_key))
			story_set(&want, loc[k], doc.mirror[k]);
	for (int k = 0; k < SM_COUNT; k++)
		if (has_key(&doc, loc[k]) &&
		    !(k == SM_STATUS && c->dialect.status_from_key))
			mirror[k] = want.v[loc[k]];
	ok = story_edit(&doc, text, len, &want, out, e);
	if (!ok)
		refuse(t, a->id, e->msg, false, e);
	else
		ok = check_back(c, t, t->path, out, &a->want, mirror, false, e);
	story_finish(&want);
	story_doc_finish(&doc);
	return ok;
}

/* The stat data of the file just moved to t->path (a rename changes its
 * ctime), so that the edit in place still checks it is the file read;
 * *stale when its content is no longer hash. */
static bool moved_stat(struct apply_ctx *ctx, const struct target *t,
		       const char *hash, struct file_stat *st, bool *stale,
		       struct err *e)
{
	char *text = NULL, now[BLOBID_HEX];
	size_t len;

	if (!fsx_read_beneath(ctx->rootfd, t->path, &text, &len, st, e))
		return false;
	blobid_hex(text, len, now);
	free(text);
	*stale = strcmp(now, hash) != 0;
	return !*stale;
}

/* The fields a write takes from the database (a->from_db), for the
 * journal: comma-separated, "*" for all, "-" for none (the id aside). */
static char *fields_from_db(const struct action *a)
{
	struct buf f = BUF_INIT;
	int n = 0;

	for (int i = SF_ID + 1; i < SF_COUNT; i++)
		if (a->from_db[i])
			buf_printf(&f, "%s%s", n++ ? "," : "",
				   story_field_names[i]);
	if (!n || n == SF_COUNT - 1) {
		buf_finish(&f);
		return xstrdup(n ? "*" : "-");
	}
	return buf_detach(&f);
}

/* The batch, which also makes the journal's lines durable before the
 * changes they describe. */
static struct fsx_batch *batch(struct apply_ctx *ctx)
{
	if (!ctx->batch)
		ctx->batch = fsx_batch_create(ctx->rootfd, ctx->journal_fd,
					      ctx->spares, ctx->spares_root);
	return ctx->batch;
}

/* The values line of a's rewrite, which will hold the blob hash (heap), or
 * NULL: the values it takes from the database of the fields that are data
 * (see journal_values_line). Not the location's fields (the path says
 * those: note_moved), nor the body or the keys kept whole, which may be
 * large and are merged as before. */
static bool values_of(const struct config *c, const struct action *a,
		      bool record[])
{
	bool any = false;

	for (int f = 0; f < SF_COUNT; f++) {
		record[f] = a->from_db[f] && a->differs[f] && f != SF_ID &&
			    f != SF_BACKLOG && f != SF_EPIC && f != SF_BODY &&
			    f != SF_EXTRA &&
			    (f != SF_STATUS || c->dialect.status_from_key);
		any |= record[f];
	}
	return any;
}

static char *values_line(const struct config *c, const struct action *a,
			 const char *hash)
{
	bool record[SF_COUNT];

	values_of(c, a, record);
	return journal_values_line(hash, a->id, &a->want, record);
}

/* The journal's note for the temporary files of a's write (heap), or
 * NULL with no journal: their names, journaled before they are made
 * (fsx_batch_stage), for the next run to remove a killed run's, and to
 * tell a write put in place from one still there. */
static char *temp_note(const struct apply_ctx *ctx, const struct action *a)
{
	return ctx->journal_fd < 0 ? NULL : journal_temp_note(a->id);
}

/* Appends conflict line c again to *line, for the file that is to hold
 * the blob hash. */
static void carry(char **line, const struct journal_conflict *c,
		  const char *hash)
{
	char *again = journal_conflict_again(c, hash);
	char *both = xasprintf("%s%s", *line, again);

	free(again);
	free(*line);
	*line = both;
}

/* Whether c is among the conflicts the run replayed (carried already). */
static bool replayed(const struct apply_ctx *ctx,
		     const struct journal_conflict *c)
{
	for (size_t i = 0; i < ctx->nreplayed; i++)
		if (ctx->replayed[i] == c)
			return true;
	return false;
}

/* Appends to *line the conflicts journaled with the write of story id
 * that the file held (the blob over) before this one (hash): a killed
 * run's, whose record only its lost commit held. Written over, that
 * write's blob is gone, and a run killed now would leave the record with
 * a line no file holds (model seed 1384: a rename's mirror key followed
 * over a discard written again, the run killed at "reconciled"; git's
 * value lost unrecorded). The conflicts the run replayed are carried
 * already (note_write). */
static void carry_over(const struct apply_ctx *ctx, const char *id,
		       const char *over, const char *hash, char **line)
{
	const struct journal *j = ctx->journal;

	if (!j || !over || strcmp(over, hash) == 0)
		return;
	for (size_t i = 0; i < j->nc; i++)
		if (strcmp(j->c[i].hash, over) == 0 &&
		    strcmp(j->c[i].id, id) == 0 && !replayed(ctx, &j->c[i]))
			carry(line, &j->c[i], hash);
}

/* Notes in the write journal that the file at path is about to hold the
 * len bytes of data, written for story id over the blob over (NULL: no
 * file), and which of its fields the
 * write took from the database ("*": all of them): a run killed before
 * its commit does not leave the next run to take this write for a
 * person's edit, nor the fields a person changed for the database's.
 * With there (no move goes before the write: the file is at path, or
 * is created there), the line is followed by a "> ID PATH" one in the
 * same append, as after a move made: the content is the run's own
 * making, so found at another place it is a person's move since, not
 * a move the run never made (model seed 3102). */
static bool note_write(struct apply_ctx *ctx, const struct action *a,
		       const char *fields, const char *path, const char *over,
		       const char *data, size_t len, bool there, bool values,
		       struct err *e)
{
	char hash[BLOBID_HEX], *line;
	bool ok;

	if (ctx->journal_fd < 0)
		return true;
	blobid_hex(data, len, hash);
	line = journal_line(hash, a->id, fields, path);
	/* a move from where git holds the version before: a discard after
	 * a kill puts it back there, no person's file (journal.h) */
	if (a->before[0] && a->before_path &&
	    strcmp(a->before_path, path) != 0) {
		char *o = journal_source_line(hash, a->id, a->before,
					      a->before_path);
		char *both = xasprintf("%s%s", o, line);

		free(o);
		free(line);
		line = both;
	}
	if (values) {
		char *w = values_line(ctx->c, a, hash);

		if (w) {
			char *both = xasprintf("%s%s", line, w);

			free(w);
			free(line);
			line = both;
		}
	}
	/* a conflict in which the file loses values to this write: if the
	 * run dies before its commit, the next finds the write and no
	 * record of what the file held, so the record goes with it */
	if (a->conflict && a->kept && strcmp(a->kept, "file") != 0) {
		char *c = journal_conflict_line(hash, a->id, a->conflict,
						a->kept, a->conflict_fields,
						a->conflict_policy, &a->lost);
		char *both = xasprintf("%s%s", line, c);

		free(c);
		free(line);
		line = both;
	}
	for (size_t i = 0; i < ctx->nreplayed; i++)
		if (strcmp(ctx->replayed[i]->id, a->id) == 0)
			carry(&line, ctx->replayed[i], hash);
	carry_over(ctx, a->id, over, hash, &line);
	if (there) {
		char *m = journal_moved_line(a->id, path);
		char *both = xasprintf("%s%s", line, m);

		free(m);
		free(line);
		line = both;
	}
	ok = fsx_batch_journal(batch(ctx), line, e);
	free(line);
	return ok;
}

/* One action's file work done ahead of the others (apply_stage): the text
 * made and checked, its temporary file written; the rest waits for
 * apply_staged. */
struct apply_stage {
	bool used;
	enum apply_result r; /* APPLY_DONE: the file work goes on */
	char *why;           /* the message, when not */
	struct target t;
	struct file_stat cur_st; /* the file read, at t.cur */
	char cur_hash[BLOBID_HEX];
	int slot;   /* the batch's, or -1: no new content */
	bool stale; /* a file to delete that holds another content */
	/* a rewrite with a values line whose identity is still to journal
	 * (note_ident): its story and blob */
	char ahead[2];
	const char *id;
	char hash[BLOBID_HEX];
};

/* Appends to out the line noting the identity the file a rewrite with
 * a values line stages will have in place (its temporary file's, as
 * written: the rename keeps its inode, mtime and size), for the write
 * journal: a file found holding its blob with another is a person's
 * write since. Journaled before the rename (an "@ " line: the barrier
 * covers it, or journal_durable before the rename), so that a kill
 * anywhere leaves the identity of every write placed; one never placed
 * is told by its temporary file, which still holds that inode (the next
 * run's unplaced_writes). */
static void ident_line(struct apply_ctx *ctx, struct apply_stage *s,
		       struct buf *out)
{
	struct file_stat st;
	char *line;

	if (!s->ahead[0] || s->slot < 0)
		return;
	if (!fsx_batch_ident(batch(ctx), s->slot, &st))
		return; /* not written: placed nowhere */
	line = journal_placed_line(s->hash, s->id, st.ino, st.mtime_ns,
				   st.size);
	buf_puts(out, line);
	free(line);
	/* not placed after all (a rename refused): said by this run */
	line = journal_unplaced_line(s->hash, s->id);
	fsx_batch_unplaced(batch(ctx), s->slot, line);
	free(line);
}

/* ident_line's, journaled now (a stage its batch's flush did not note:
 * synced before the rename by the batch); false when it cannot be. */
static bool note_ident(struct apply_ctx *ctx, struct apply_stage *s,
		       struct err *e)
{
	struct buf line = BUF_INIT;
	bool ok;

	ident_line(ctx, s, &line);
	ok = !line.len || fsx_batch_journal(batch(ctx), line.data, e);
	if (ok)
		s->ahead[0] = '\0';
	buf_finish(&line);
	return ok;
}

/* A file edited since the scan: it wins on the next run. */
static enum apply_result left(struct apply_ctx *ctx, const char *at,
			      struct err *e)
{
	ctx->deferred = true;
	err_set(e, "%s: changed since the scan; left for the next run", at);
	return APPLY_SKIPPED;
}

/* Reads the existing file and stages the text it must hold for want (at
 * t->path, where a move takes it first). */
static enum apply_result stage_rewrite(struct apply_ctx *ctx,
				       const struct action *a,
				       const char *expect_hash,
				       struct apply_stage *s, struct err *e)
{
	struct target *t = &s->t;
	struct buf out = BUF_INIT;
	char *text = NULL, *fields = fields_from_db(a);
	size_t len;
	bool stale = false;
	enum apply_result r = APPLY_SKIPPED;

	if (!fsx_read_beneath(ctx->rootfd, t->cur, &text, &len, &s->cur_st,
			      e)) {
		/* gone since the scan (a --git run does not walk the tree: a
		 * move not committed): the next run finds where it went */
		int fd = fsx_open_beneath(ctx->rootfd, t->cur,
					  O_RDONLY | O_NONBLOCK, 0);

		if (fd < 0 && errno == ENOENT)
			r = left(ctx, t->cur, e);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	blobid_hex(text, len, s->cur_hash);
	if (strcmp(s->cur_hash, expect_hash) != 0) {
		r = left(ctx, t->cur, e);
		goto out;
	}
	memcpy(t->put, s->cur_hash, BLOBID_HEX); /* a move only */
	if (!edited_text(ctx->c, a, t, text, len, &out, e))
		goto out;
	/* the content as it is, at the place the database gives */
	if (strcmp(t->path, t->cur) != 0 &&
	    !note_write(ctx, a, fields, t->path, s->cur_hash, text, len, false,
			false, e))
		goto out;
	if (out.len != len || memcmp(out.data, text, len) != 0) {
		char *note = temp_note(ctx, a);
		bool record[SF_COUNT];

		if (!note_write(ctx, a, fields, t->path, s->cur_hash, out.data,
				out.len, strcmp(t->path, t->cur) == 0, true,
				e)) {
			free(note);
			goto out;
		}
		blobid_hex(out.data, out.len, t->put);
		s->slot =
			fsx_batch_stage(batch(ctx), t->path, out.data, out.len,
					t->cur, &s->cur_st, note, &stale, e);
		free(note);
		if (s->slot >= 0 && ctx->journal_fd >= 0 &&
		    values_of(ctx->c, a, record)) {
			s->ahead[0] = '@';
			s->id = a->id;
			blobid_hex(out.data, out.len, s->hash);
		}
		if (s->slot < 0) {
			if (stale)
				r = left(ctx, t->cur, e);
			goto out;
		}
	}
	r = APPLY_DONE;
out:
	free(fields);
	buf_finish(&out);
	free(text);
	return r;
}

/* Notes the top directory the batch made on the way to path for a's
 * file, if any, for a run that removes the file a killed run left where
 * no backlog is (journal.h's "+ " line). Not synced, as note_moved's. */
static void note_made(struct apply_ctx *ctx, const struct action *a,
		      const char *path)
{
	const char *made = fsx_batch_made(ctx->batch, path);
	char *line;

	if (ctx->journal_fd < 0 || !made)
		return;
	line = journal_made_line(a->id, made);
	fsx_journal_add(ctx->journal_fd, line, NULL);
	free(line);
}

/* Notes in the write journal that a's file was moved to path (after the
 * rename: the move line before it is of a file that got there, and one
 * found back at its old place is a person's move back, not a move the run
 * never made). Not synced, and a failure is no failure of the move: a
 * note lost leaves the next run reading the move line as before. */
static void note_moved(struct apply_ctx *ctx, const struct action *a,
		       const char *path)
{
	char *line;

	if (ctx->journal_fd < 0)
		return;
	note_made(ctx, a, path);
	line = journal_moved_line(a->id, path);
	fsx_journal_add(ctx->journal_fd, line, NULL);
	free(line);
}

/* Moves the file when it must (before it is edited: a refused move, a
 * symlinked epic or a name taken, leaves the file as it was, not edited in
 * place), then puts the staged text in place. */
static enum apply_result place_rewrite(struct apply_ctx *ctx,
				       const struct action *a,
				       struct apply_stage *s, struct err *e)
{
	struct target *t = &s->t;
	struct file_stat cur_st = s->cur_st;
	const char *at = t->cur;
	bool stale = false;

	if (strcmp(t->path, t->cur) != 0) {
		if (!fsx_batch_move(batch(ctx), t->cur, t->path, e))
			return APPLY_SKIPPED;
		note_moved(ctx, a, t->path);
		touch(ctx, t->cur);
		test_seam_kill("after-move");
		at = t->path;
		if (!moved_stat(ctx, t, s->cur_hash, &cur_st, &stale, e))
			return stale ? left(ctx, at, e) : APPLY_SKIPPED;
	}
	if (s->slot >= 0) {
		int slot = s->slot;

		s->slot = -1;
		if (!fsx_batch_place(batch(ctx), slot, &cur_st, &stale, e))
			return stale ? left(ctx, at, e) : APPLY_SKIPPED;
		/* killed here, the batch's later files not placed */
		test_seam_kill("placed");
	}
	t->wrote = true;
	return APPLY_DONE;
}

/* "story ID: " before e's message, for a name another file took. */
static void name_story(const char *id, struct err *e)
{
	char msg[ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", e->msg);
	err_set(e, "story %s: %s", id, msg);
}

static enum apply_result stage_create(struct apply_ctx *ctx,
				      const struct action *a,
				      struct apply_stage *s, struct err *e)
{
	const struct story_dialect *dl = &ctx->c->dialect;
	struct target *t = &s->t;
	struct buf out = BUF_INIT;
	const char *mirror[SM_COUNT] = {0};
	bool stale = false, ok;

	for (int k = 0; k < SM_COUNT; k++)
		if (!dl->no_mirror_keys &&
		    !(k == SM_STATUS && dl->status_from_key))
			mirror[k] = a->want.v[loc[k]];
	story_render(&a->want, dl, &out);
	ok = check_back(ctx->c, t, t->path, &out, &a->want, mirror, true, e) &&
	     note_write(ctx, a, "*", t->path, NULL, out.data, out.len, true,
			false, e);
	if (ok) {
		char *note = temp_note(ctx, a);

		blobid_hex(out.data, out.len, t->put);
		s->slot = fsx_batch_stage(batch(ctx), t->path, out.data,
					  out.len, NULL, NULL, note, &stale, e);
		free(note);
		ok = s->slot >= 0;
	}
	buf_finish(&out);
	/* another file has the name (two ids that differ in case under
	 * {id:lower}): the story is named, not only the file */
	if (stale)
		name_story(a->id, e);
	return ok ? APPLY_DONE : APPLY_SKIPPED;
}

static enum apply_result place_create(struct apply_ctx *ctx,
				      const struct action *a,
				      struct apply_stage *s, struct err *e)
{
	int slot = s->slot;
	bool stale = false;

	s->slot = -1;
	if (!fsx_batch_place(batch(ctx), slot, NULL, &stale, e)) {
		if (stale)
			name_story(a->id, e);
		return APPLY_SKIPPED;
	}
	note_made(ctx, a, s->t.path);
	s->t.wrote = true;
	return APPLY_DONE;
}

/* The clock of the file system of path's directory (fsx_fs_clock), read
 * there once a round (fresh: read again), or INT64_MIN. A reading taken
 * before a stat is a time the clock had passed at the stat, however old:
 * an older one trusts fewer files, never one it should not. */
static int64_t dir_clock(struct apply_ctx *ctx, const char *path, bool fresh)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	struct apply_clock *k = NULL;
	int fd;

	for (size_t i = 0; i < ctx->nclocks && !k; i++)
		if (strlen(ctx->clocks[i].dir) == n &&
		    memcmp(ctx->clocks[i].dir, path, n) == 0)
			k = &ctx->clocks[i];
	if (k && !fresh)
		return k->ns;
	if (!k) {
		ctx->clocks = xgrow(ctx->clocks, &ctx->capclocks,
				    ctx->nclocks + 1, sizeof(*k));
		k = &ctx->clocks[ctx->nclocks++];
		k->dir = xstrndup(path, n);
	}
	k->ns = INT64_MIN;
	fd = n ? fsx_open_beneath(ctx->rootfd, k->dir, O_PATH | O_DIRECTORY, 0)
	       : ctx->rootfd;
	if (fd >= 0 && !fsx_fs_clock(fd, &k->ns))
		k->ns = INT64_MIN;
	if (fd >= 0 && fd != ctx->rootfd)
		close(fd);
	return k->ns;
}

/* Reads back what was written: its stat data and blob id for the state. */
static enum apply_result read_back(struct apply_ctx *ctx, struct target *t,
				   struct err *e)
{
	char *text = NULL;
	size_t len;
	/* the clock of its file system (git's rule, on the clock that gives
	 * the file its mtime, at its granularity), read before the stat, or
	 * the wall clock's where that cannot be read (fsx_recorded_wall:
	 * its now only where the mtime is not a whole second) */
	int64_t clock = dir_clock(ctx, t->path, false), now = fsx_now_ns();

	if (!fsx_read_beneath(ctx->rootfd, t->path, &text, &len, &t->st, e))
		return APPLY_SKIPPED;
	t->recorded_ns = clock == INT64_MIN
				 ? fsx_recorded_wall(now, t->st.mtime_ns)
				 : fsx_recorded_after(clock);
	blobid_hex(text, len, t->hash);
	free(text);
	/* not what was put there: a person wrote it since the rename. The
	 * state keeps the run's blob, the one the database agreed with, and
	 * stat data racy for ever (recorded at the mtime): the next run
	 * reads the person's and takes it. Taken for the run's, it was
	 * agreed, and no run read the file again */
	if (t->put[0] && strcmp(t->hash, t->put) != 0) {
		memcpy(t->hash, t->put, BLOBID_HEX);
		t->recorded_ns = t->st.mtime_ns;
	}
	return APPLY_DONE;
}

static enum apply_result stage_write(struct apply_ctx *ctx,
				     const struct action *a,
				     const struct file_change *fc,
				     const struct state_entry *se,
				     struct apply_stage *s, struct err *e)
{
	const char *expect = fc && fc->path ? fc->hash : se ? se->hash : NULL;
	struct target *t = &s->t;

	free(t->path);
	t->path = target_path(ctx->c, &a->want, t->cur, e);
	if (!t->path)
		return APPLY_SKIPPED;
	return t->cur ? stage_rewrite(ctx, a, expect, s, e)
		      : stage_create(ctx, a, s, e);
}

static enum apply_result place_write(struct apply_ctx *ctx,
				     const struct action *a,
				     struct apply_stage *s, struct err *e)
{
	enum apply_result r;

	if (s->r != APPLY_DONE) {
		err_set(e, "%s", s->why);
		return s->r;
	}
	/* its temporary file not written: nothing moved, as when the
	 * staging failed */
	if (s->slot >= 0 && !fsx_batch_written(batch(ctx), s->slot, e)) {
		s->slot = -1;
		return APPLY_SKIPPED;
	}
	/* not noted before the barrier (a lone action): noted now, and
	 * synced before the rename by the batch */
	if (!note_ident(ctx, s, e)) {
		name_story(a->id, e);
		return APPLY_SKIPPED;
	}
	r = s->t.cur ? place_rewrite(ctx, a, s, e) : place_create(ctx, a, s, e);
	if (r == APPLY_DONE && s->t.wrote) {
		touch(ctx, s->t.path);
		test_seam_stop("placed"); /* where a test writes the file */
		r = read_back(ctx, &s->t, e);
	}
	return r;
}

/* Notes in the write journal that the file t names, holding t->hash, is
 * about to be deleted for the API's deletion of a's row: a run killed
 * before its commit leaves the file gone and the state behind, which the
 * next run would take for a person's deletion; or, for a killed run's own
 * file no state knew (a->head without PLAN_STATE_FORGET: rendered_gone),
 * nothing at all, and the next run records its deletion from the line
 * (record_gone); or, for git's version put back over storysync's
 * deletion (no state, deleted again: undeleted), the file's version the
 * conflict keeps, which the next run records (replay_gone). */
static bool note_delete(struct apply_ctx *ctx, const struct action *a,
			const struct target *t, struct err *e)
{
	bool owed = a->state != PLAN_STATE_FORGET && !a->head[0] &&
		    a->conflict && a->kept && strcmp(a->kept, "file") != 0;
	char *line;
	bool ok;

	if (ctx->journal_fd < 0 ||
	    (a->state != PLAN_STATE_FORGET && !a->head[0] && !owed))
		return true;
	line = journal_deletion_line(t->hash, a->id, a->head, a->before,
				     t->cur);
	/* a conflict in which the file's version loses to the deletion
	 * (git's version put back over storysync's deletion, deleted
	 * again): killed before its commit, the run leaves the file gone
	 * and no record of it, so the record goes with the line
	 * (replay_gone in sync.c) */
	if (owed) {
		char *c = journal_conflict_line(t->hash, a->id, a->conflict,
						a->kept, a->conflict_fields,
						a->conflict_policy, &a->lost);
		char *both = xasprintf("%s%s", line, c);

		free(c);
		free(line);
		line = both;
	}
	ok = fsx_batch_journal(batch(ctx), line, e);
	free(line);
	return ok;
}

/* Checks the file to delete that s->t names and journals its deletion,
 * ahead of the batch's barrier (which makes the line durable with the
 * others): it must hold what was agreed (t->hash), not its stat data: a
 * checkout or a touch rewrites those and leaves the content. Its stat
 * data as read goes to s->cur_st, for the unlink to check again. */
static enum apply_result stage_delete(struct apply_ctx *ctx,
				      const struct action *a,
				      struct apply_stage *s, struct err *e)
{
	const struct target *t = &s->t;
	char *text = NULL;
	size_t len;

	s->cur_st = t->st;
	if (fsx_read_beneath(ctx->rootfd, t->cur, &text, &len, &s->cur_st,
			     NULL)) {
		blobid_hex(text, len, s->cur_hash);
		free(text);
		s->stale = strcmp(s->cur_hash, t->hash) != 0;
	}
	if (!s->stale && !note_delete(ctx, a, t, e))
		return APPLY_FATAL;
	return APPLY_DONE;
}

/* Deletes the file s->t names, staged by stage_delete. */
static enum apply_result delete_file(struct apply_ctx *ctx,
				     struct apply_stage *s, struct err *e)
{
	const struct target *t = &s->t;
	bool stale = s->stale;

	if (s->r != APPLY_DONE) {
		err_set(e, "%s", s->why);
		return s->r;
	}
	if (!stale &&
	    fsx_batch_unlink(batch(ctx), t->cur, &s->cur_st, &stale, e)) {
		touch(ctx, t->cur);
		return APPLY_DONE;
	}
	if (stale) {
		ctx->deferred = true;
		err_set(e, "%s: changed since the scan; left for the next run",
			t->cur);
	}
	return APPLY_SKIPPED;
}

static const char *origin_of(const struct apply_ctx *ctx,
			     const struct action *a)
{
	return a->origin && strcmp(a->origin, "db") == 0 ? "db"
							 : ctx->origin_file;
}

/* The row, then the records: history, event, conflict. */
static bool apply_db(struct apply_ctx *ctx, const struct action *a,
		     const struct db_side *d, const struct state_entry *se,
		     struct target *t, int64_t *rev, struct err *e)
{
	const char *origin = origin_of(ctx, a);

	*rev = d ? d->rev : se ? se->rev : 0;
	if (a->db == PLAN_DB_PUT) {
		if (!store_story_put(ctx->store, &a->want, t->path, rev, e))
			return false;
	} else if (a->db == PLAN_DB_DELETE) {
		if (!store_story_delete(ctx->store, a->id, e))
			return false;
	} else if (t->path && (!d || !d->path || strcmp(d->path, t->path))) {
		if (!store_story_set_path(ctx->store, a->id, t->path, rev, e))
			return false;
	}
	if (a->status_changed) {
		struct history_row h = {
			.story_id = a->id,
			.from_status = a->from_status,
			.to_status = a->want.v[SF_STATUS],
			.origin = origin,
		};

		if (strcmp(origin, "git") == 0) {
			h.commit_id = ctx->commit_id;
			h.author = ctx->author;
			h.changed_at = ctx->commit_time;
		}
		if (!store_history_add(ctx->store, &h, e))
			return false;
	}
	if (a->event && !store_event_add(ctx->store, a->id, a->event, origin,
					 ctx->run_id, e))
		return false;
	if (a->conflict) {
		struct conflict_row c = {
			.story_id = a->id,
			.kind = a->conflict,
			.kept = a->kept,
			.fields = a->conflict_fields,
			.policy = a->conflict_policy,
			.lost = &a->lost,
			.run_id = ctx->run_id,
		};

		if (!store_conflict_add(ctx->store, &c, e))
			return false;
	}
	return true;
}

static bool apply_state(struct apply_ctx *ctx, const struct action *a,
			struct target *t, int64_t rev, struct err *e)
{
	struct state_entry se = {
		.id = a->id,
		.path = t->path,
		.st = t->st,
		.recorded_ns = t->recorded_ns,
		.rev = rev,
	};

	for (int f = 0; f < SF_COUNT; f++)
		if (a->ours_after[f])
			se.ours |= 1u << f;
	memcpy(se.before, a->before, BLOBID_HEX);
	se.before_path = a->before_path;
	if (a->state == PLAN_STATE_FORGET &&
	    !store_state_delete(ctx->store, a->id, e))
		return false;
	if (a->state != PLAN_STATE_PUT) {
		/* the file deleted for the API's deletion (a killed run's
		 * own too, which no state knew), while git may put it back
		 * (see store_deleted_put) */
		struct deleted_file d = {
			.id = a->id,
			.path = (char *)t->cur,
		};

		if (a->file != PLAN_FILE_DELETE || !a->head[0] || !t->cur)
			return true;
		memcpy(d.hash, t->hash, BLOBID_HEX);
		memcpy(d.before, a->before, BLOBID_HEX);
		memcpy(d.head, a->head, BLOBID_HEX);
		return store_deleted_put(ctx->store, &d, e);
	}
	memcpy(se.hash, t->hash, BLOBID_HEX);
	if (!store_state_put(ctx->store, &se, &a->want, a->mirror_after, e))
		return false;
	/* racy (its mtime no older than the file system's clock read
	 * before it was read back): read again once the clock has passed
	 * it. A file staged before a barrier that took a tick of that
	 * clock is not: its mtime is its temporary file's, written before
	 * the barrier, not the rename's */
	if (t->wrote)
		apply_settle_later(ctx, a->id, t->path, t->hash, &t->st,
				   t->recorded_ns);
	return true;
}

void apply_settle_later(struct apply_ctx *ctx, const char *id, const char *path,
			const char *hash, const struct file_stat *st,
			int64_t recorded_ns)
{
	struct apply_written *w;

	if (!fsx_racy(st, recorded_ns))
		return;
	ctx->written = xgrow(ctx->written, &ctx->capwritten, ctx->nwritten + 1,
			     sizeof(*w));
	w = &ctx->written[ctx->nwritten++];
	w->id = xstrdup(id);
	w->path = xstrdup(path);
	memcpy(w->hash, hash, BLOBID_HEX);
	w->mtime_ns = st->mtime_ns;
}

void apply_report(const struct config *c, const struct sync_report *r,
		  const struct action *a, const char *where, const char *path)
{
	const struct config_backlog *b = NULL;
	const struct config_stage *st;
	char *epic = NULL;
	struct sync_change ch = {
		.verb = a->event,
		.where = where,
		.id = a->id,
		.backlog = a->want.v[SF_BACKLOG],
		.path = path,
	};

	if (!r || !r->change)
		return;
	if (!ch.backlog && path && detect_location(c, path, &b, &st, &epic))
		ch.backlog = b->name;
	free(epic);
	if (a->event)
		r->change(r->ctx, &ch);
	if (a->conflict) {
		ch.verb = "conflict";
		ch.where = a->kept;
		ch.detail = a->conflict;
		r->change(r->ctx, &ch);
	}
}

static void report(struct apply_ctx *ctx, const struct action *a,
		   const struct target *t)
{
	apply_report(ctx->c, ctx->report, a,
		     a->file != PLAN_FILE_NONE ? "file" : "db",
		     t->path ? t->path : t->cur);
}

/* A story refused at apply is a conflict the file won, the row kept in
 * full as the lost version; recorded once while the row stays as it is,
 * as the refusals before planning are. */
static bool record_refusal(struct apply_ctx *ctx, const struct action *a,
			   const struct db_side *d, struct err *e)
{
	struct conflict_row c = {
		.story_id = a->id,
		.kind = "refused",
		.kept = "file",
		.lost = d && d->side != SIDE_DELETED ? &d->story : &a->want,
		.run_id = ctx->run_id,
		.once = true,
	};

	return store_conflict_add(ctx->store, &c, e);
}

/* A story's writes failed (e): when the database refused its values (a
 * constraint or a trigger of the API's, a value its type does not take),
 * they are undone and the story is skipped by name, its row and state as
 * they were, so that the next run meets it again; any other failure (a
 * busy database, a full disk, no memory), or one that cannot undo them,
 * stops the run. */
static enum apply_result refused_by_db(struct apply_ctx *ctx,
				       const struct action *a, struct err *e)
{
	char msg[ERR_MAX];

	if (!store_refused(ctx->store) ||
	    !store_unit_end(ctx->store, false, NULL))
		return APPLY_FATAL;
	snprintf(msg, sizeof(msg), "%s", e->msg);
	err_set(e,
		"story %s: the database refused its row (%s); skipped, "
		"left as it is for the next run",
		a->id, msg);
	return APPLY_SKIPPED;
}

/* The file's place and identity before this action. */
static void target_init(struct target *t, const struct file_change *fc,
			const struct state_entry *se)
{
	memset(t, 0, sizeof(*t));
	if (fc && fc->path) {
		t->cur = fc->path;
		t->st = fc->st;
		t->recorded_ns = fc->recorded_ns;
		memcpy(t->hash, fc->hash, BLOBID_HEX);
	} else if (se && !(fc && fc->side == SIDE_DELETED)) {
		t->cur = se->path;
		t->st = se->st;
		t->recorded_ns = se->recorded_ns;
		memcpy(t->hash, se->hash, BLOBID_HEX);
	}
	t->path = xstrdup(t->cur);
}

/* Stages the file work of a into s. */
static void stage_one(struct apply_ctx *ctx, struct apply_stage *s,
		      const struct action *a, const struct file_change *fc,
		      const struct state_entry *se)
{
	struct err e = {{0}};

	memset(s, 0, sizeof(*s));
	s->used = true;
	s->slot = -1;
	s->r = APPLY_DONE;
	target_init(&s->t, fc, se);
	if (a->file == PLAN_FILE_WRITE)
		s->r = stage_write(ctx, a, fc, se, s, &e);
	else if (a->file == PLAN_FILE_DELETE && s->t.cur)
		s->r = stage_delete(ctx, a, s, &e);
	if (s->r != APPLY_DONE)
		s->why = xstrdup(e.msg);
}

static void stage_finish(struct apply_ctx *ctx, struct apply_stage *s)
{
	if (!s->used)
		return;
	if (s->slot >= 0)
		fsx_batch_drop(ctx->batch, s->slot);
	free(s->why);
	free(s->t.body);
	free(s->t.path);
	memset(s, 0, sizeof(*s));
}

/* The action whose file work s staged: the file put in place (or
 * removed), then the row, the state and the records. */
static enum apply_result act(struct apply_ctx *ctx, struct apply_stage *s,
			     const struct action *a, const struct db_side *d,
			     const struct state_entry *se, struct err *e)
{
	enum apply_result r = APPLY_DONE;
	struct target *t = &s->t;
	struct action fixed;
	int64_t rev = 0;

	if (a->file == PLAN_FILE_WRITE) {
		r = place_write(ctx, a, s, e);
	} else if (a->file == PLAN_FILE_DELETE && t->cur) {
		r = delete_file(ctx, s, e);
		/* no path for the row to take */
		xfree(&t->path);
	}
	if (r != APPLY_DONE) {
		if (t->refused && !record_refusal(ctx, a, d, e))
			r = APPLY_FATAL;
		return r;
	}
	if (t->body) {
		/* the row takes the body as the file holds it (a CRLF
		 * file's line breaks), so that both read the same */
		fixed = *a;
		story_copy(&fixed.want, &a->want);
		story_set(&fixed.want, SF_BODY, t->body);
		if (fixed.db == PLAN_DB_NONE)
			fixed.db = PLAN_DB_PUT;
		a = &fixed;
	}
	/* the story's writes as a unit: one the database refuses is undone
	 * alone, and the run goes on */
	if (!store_unit_begin(ctx->store, e)) {
		r = APPLY_FATAL;
		goto out;
	}
	if (!apply_db(ctx, a, d, se, t, &rev, e) ||
	    !apply_state(ctx, a, t, rev, e)) {
		r = refused_by_db(ctx, a, e);
		goto out;
	}
	if (!store_unit_end(ctx->store, true, e)) {
		r = APPLY_FATAL;
		goto out;
	}
	if (t->wrote)
		ctx->counts->files_written++;
	if (a->db != PLAN_DB_NONE)
		ctx->counts->rows_written++;
	report(ctx, a, t);
out:
	if (a == &fixed)
		story_finish(&fixed.want);
	return r;
}

bool apply_tell(struct apply_ctx *ctx, const struct action *a,
		const struct file_change *fc, const struct state_entry *se,
		struct err *e)
{
	struct target t;
	bool ok = true;

	target_init(&t, fc, se);
	if (a->file == PLAN_FILE_WRITE) {
		free(t.path);
		t.path = target_path(ctx->c, &a->want, t.cur, e);
		ok = t.path != NULL;
	} else if (a->file == PLAN_FILE_DELETE && t.cur) {
		xfree(&t.path);
	}
	if (ok)
		report(ctx, a, &t);
	free(t.path);
	return ok;
}

enum apply_result apply_action(struct apply_ctx *ctx, const struct action *a,
			       const struct file_change *fc,
			       const struct db_side *d,
			       const struct state_entry *se, struct err *e)
{
	struct apply_stage s;
	enum apply_result r;

	stage_one(ctx, &s, a, fc, se);
	r = act(ctx, &s, a, d, se, e);
	stage_finish(ctx, &s);
	if (r != APPLY_FATAL && !apply_sync(ctx, e))
		r = APPLY_FATAL;
	return r;
}

void apply_stage(struct apply_ctx *ctx, size_t i, const struct action *a,
		 const struct file_change *fc, const struct state_entry *se)
{
	if (i >= ctx->nstages) {
		ctx->stages = xgrow(ctx->stages, &ctx->capstages, i + 1,
				    sizeof(*ctx->stages));
		memset(ctx->stages + ctx->nstages, 0,
		       (i + 1 - ctx->nstages) * sizeof(*ctx->stages));
		ctx->nstages = i + 1;
	}
	stage_finish(ctx, &ctx->stages[i]);
	stage_one(ctx, &ctx->stages[i], a, fc, se);
}

static void clocks_reset(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nclocks; i++)
		free(ctx->clocks[i].dir);
	ctx->nclocks = 0;
}

void apply_flush(struct apply_ctx *ctx)
{
	struct buf lines = BUF_INIT;

	/* the round's files read back after a reading taken now */
	clocks_reset(ctx);
	if (!ctx->batch)
		return;
	/* the identities of the files staged, once written, covered by the
	 * barrier with the other lines, in one append; when it fails, each
	 * is journaled again (or fails its story) at its place */
	for (size_t i = 0; i < ctx->nstages; i++)
		if (ctx->stages[i].used)
			ident_line(ctx, &ctx->stages[i], &lines);
	if (lines.len && fsx_batch_journal(ctx->batch, lines.data, NULL))
		for (size_t i = 0; i < ctx->nstages; i++)
			ctx->stages[i].ahead[0] = '\0';
	buf_finish(&lines);
	fsx_batch_flush(ctx->batch);
}

enum apply_result apply_staged(struct apply_ctx *ctx, size_t i,
			       const struct action *a, const struct db_side *d,
			       const struct state_entry *se, struct err *e)
{
	enum apply_result r = act(ctx, &ctx->stages[i], a, d, se, e);

	stage_finish(ctx, &ctx->stages[i]);
	return r;
}

bool apply_sync(struct apply_ctx *ctx, struct err *e)
{
	return !ctx->batch || fsx_batch_sync_dirs(ctx->batch, e);
}

/* How long apply_settle waits at most for a file system's clock to pass
 * the mtimes of the files it reads again: a few ticks of the coarse clock
 * that stamps a fine-grained file system's files (one jiffy, <= 10 ms). A
 * file system whose timestamps are coarser (FAT's 2 s, an ext4 with
 * 128-byte inodes' 1 s) may not get there in time: its files stay racy,
 * and the next run reads them, as git reads its smudged entries. */
#define SETTLE_WAIT_NS (2 * FSX_RACY_NS)
#define SETTLE_POLL_NS 1000000LL

/* Whether the clock, not past mtime_ns, may pass it within the wait: not
 * an mtime set ahead by hand, nor a file system whose clock and mtimes
 * are whole seconds (its next second is mostly further off). */
static bool may_pass(int64_t clock, int64_t mtime_ns)
{
	return mtime_ns - clock < SETTLE_WAIT_NS &&
	       (clock % 1000000000LL || mtime_ns % 1000000000LL);
}

/* The clock of path's file system, read again until it is past mtime_ns,
 * may not pass it in the wait, or the wall clock is past deadline;
 * INT64_MIN where it cannot be read. */
static int64_t clock_past(struct apply_ctx *ctx, const char *path,
			  int64_t mtime_ns, int64_t deadline)
{
	const struct timespec poll = {0, SETTLE_POLL_NS};
	int64_t clock = dir_clock(ctx, path, false);

	while (clock != INT64_MIN && clock <= mtime_ns &&
	       may_pass(clock, mtime_ns) && fsx_now_ns() < deadline) {
		nanosleep(&poll, NULL);
		clock = dir_clock(ctx, path, true);
	}
	return clock;
}

bool apply_settle(struct apply_ctx *ctx, struct err *e)
{
	int64_t deadline;

	if (!ctx->nwritten)
		return true;
	/* the clocks read now, after every file was read back; without the
	 * wait (the test suite's switch) the files the clock has not passed
	 * yet stay racy: the next run reads and hashes them again */
	clocks_reset(ctx);
	deadline = fsx_test_nosync() ? 0 : fsx_now_ns() + SETTLE_WAIT_NS;
	for (size_t i = 0; i < ctx->nwritten; i++) {
		const struct apply_written *w = &ctx->written[i];
		struct state_entry se = {.id = w->id, .path = w->path};
		int64_t clock = clock_past(ctx, w->path, w->mtime_ns, deadline);
		char *text = NULL;
		size_t len;

		if (clock <= w->mtime_ns)
			continue; /* stays racy: the next run reads it */
		se.recorded_ns = fsx_recorded_after(clock);
		if (!fsx_read_beneath(ctx->rootfd, w->path, &text, &len, &se.st,
				      NULL))
			continue; /* gone: the next run sees it */
		blobid_hex(text, len, se.hash);
		free(text);
		if (strcmp(se.hash, w->hash) != 0)
			continue; /* edited meanwhile: stays racy, re-read */
		/* the stat data alone: a put would write back the rev the
		 * entry had when queued, over the one a same-value API
		 * update had the run agree on since (its base then lost) */
		if (!store_state_restat(ctx->store, &se, e))
			return false;
	}
	return true;
}

bool apply_git_commit(const struct apply_ctx *ctx, char head[41], struct err *e)
{
	const struct config *c = ctx->c;
	struct gitrepo *repo = gitrepo_open(c->root, e);
	struct buf msg = BUF_INIT;
	char *prefix = NULL, **paths = NULL;
	bool ok = false;

	if (!repo || !gitrepo_prefix(repo, c->root, &prefix, e))
		goto out;
	paths = xcalloc(ctx->ntouched + 1, sizeof(char *));
	buf_printf(&msg, "storysync: %zu file%s from the database\n\n",
		   ctx->ntouched, ctx->ntouched == 1 ? "" : "s");
	for (size_t i = 0; i < ctx->ntouched; i++) {
		paths[i] = *prefix ? xasprintf("%s/%s", prefix, ctx->touched[i])
				   : xstrdup(ctx->touched[i]);
		buf_printf(&msg, "%s\n", paths[i]);
	}
	ok = gitrepo_commit_paths(repo, (const char *const *)paths,
				  ctx->ntouched, msg.data, c->git_author_name,
				  c->git_author_email, head, e);
out:
	strv_free(paths);
	buf_finish(&msg);
	free(prefix);
	gitrepo_destroy(repo);
	return ok;
}

void apply_ctx_finish(struct apply_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nstages; i++)
		stage_finish(ctx, &ctx->stages[i]);
	free(ctx->stages);
	ctx->stages = NULL;
	ctx->nstages = ctx->capstages = 0;
	fsx_batch_destroy(ctx->batch);
	ctx->batch = NULL;
	for (size_t i = 0; i < ctx->nwritten; i++) {
		free(ctx->written[i].id);
		free(ctx->written[i].path);
	}
	free(ctx->written);
	ctx->written = NULL;
	ctx->nwritten = 0;
	clocks_reset(ctx);
	free(ctx->clocks);
	ctx->clocks = NULL;
	ctx->capclocks = 0;
	for (size_t i = 0; i < ctx->ntouched; i++)
		free(ctx->touched[i]);
	free(ctx->touched);
	ctx->touched = NULL;
	ctx->ntouched = 0;
}
