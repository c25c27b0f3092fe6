/* The checks of the database's place that every command that writes
 * makes: dbcheck.h. */
#include "dbcheck.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsx.h"
#include "gitindex.h"
#include "gitrepo.h"
#include "mem.h"
#include "runrecord.h"

static void say(void (*fn)(void *, const char *), void *ctx, const char *m)
{
	if (fn)
		fn(ctx, m);
}

bool dbcheck_git_tracks(const char *path, bool *tracked, struct err *why,
			struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir =
		slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	char *real = fsx_realpath(*dir ? dir : "/", e), *file = NULL;
	bool ok = real != NULL;

	*tracked = false;
	if (ok) {
		file = xasprintf("%s/%s", real, slash ? slash + 1 : path);
		ok = why ? gitrepo_tracked_head(file, tracked, why, e)
			 : gitrepo_tracked(file, tracked, e);
	}
	free(file);
	free(real);
	free(dir);
	return ok;
}

/* What a warning adds when git tracks the file. */
static const char untrack[] = "untrack it: git rm --cached, and commit";

/* Clears one place: said when something was removed, or cannot be. */
static void clear_one(const char *root, const char *path, const char *what,
		      bool dir, const struct dbcheck_report *r)
{
	const char *kind = NULL;
	struct err e = {{0}}, ignored;
	bool tracked = false;
	int k = fsx_side_clear(root, path, dir, &kind, &e);
	char *m;

	if (k == 0)
		return;
	if (k < 0) {
		m = xasprintf("%s (storysync's %s)", e.msg, what);
		say(r->warning, r->ctx, m);
		free(m);
		return;
	}
	dbcheck_git_tracks(path, &tracked, NULL, &ignored);
	m = xasprintf("%s: %s where storysync keeps its %s, never versioned "
		      "content: removed (not followed), made afresh%s%s",
		      path, kind, what, tracked ? "; git tracks it: " : "",
		      tracked ? untrack : "");
	say(r->warning, r->ctx, m);
	free(m);
}

void dbcheck_clear(const struct config *c, const struct dbcheck_report *r)
{
	const struct dbhome *h = &c->home;
	struct dbhome_side v[DBHOME_SIDES];
	size_t n = dbhome_sides(h, false, v);

	for (size_t i = 0; i < n; i++)
		clear_one(h->root, v[i].path, v[i].what, v[i].dir, r);
	if (c->log && c->log[0] == '/')
		clear_one(c->root, c->log, "log", false, r);
	if (c->metrics_file)
		clear_one(c->root, c->metrics_file, "metrics file", false, r);
}

/* The warning for side, which git tracks (heap). */
static char *tracked_one(const struct dbhome_side *side)
{
	return xasprintf("%s: git tracks this file, storysync's %s: a "
			 "checkout, merge or reset of a commit that does not "
			 "hold it removes it, and one that holds another "
			 "puts that in its place%s; %s",
			 side->path, side->what,
			 strcmp(side->what, "database") == 0
				 ? " (the rows the API wrote since the last "
				   "run go with it)"
				 : "",
			 untrack);
}

/* Whether git tracks side: in the index's lines of tracked (from
 * gitindex_prefixed), or asked one by one when that was unsure. */
static bool is_tracked(const struct dbhome_side *side, const char *dir,
		       const char *real, const char *lines, bool unsure)
{
	const char *name = side->path + strlen(dir);
	char *abs = xasprintf("%s%s\n", real, name);
	bool tracked = false;
	struct err why, ignored;

	if (unsure) {
		abs[strlen(abs) - 1] = '\0';
		dbcheck_git_tracks(abs, &tracked, &why, &ignored);
	} else {
		for (const char *p = lines; p && (p = strstr(p, abs)); p++)
			if (p == lines || p[-1] == '\n') {
				tracked = true;
				break;
			}
	}
	free(abs);
	return tracked;
}

/* Each of h's files git tracks, given to fn. */
static void each_tracked(const struct dbhome *h, bool database,
			 void (*fn)(void *, const struct dbhome_side *),
			 void *ctx, struct gitindex_stamp *stamp)
{
	struct dbhome_side v[DBHOME_SIDES];
	size_t n = dbhome_sides(h, database, v);
	const char *slash = strrchr(h->base, '/');
	char *dir = slash ? xstrndup(h->base, (size_t)(slash - h->base))
			  : xstrdup(".");
	struct err ignored;
	char *real = fsx_realpath(*dir ? dir : "/", &ignored), *prefix;
	struct buf lines = BUF_INIT;
	enum gitindex_answer a;

	if (!real) {
		if (stamp)
			stamp->set = false;
		goto out; /* no place yet: nothing there to track */
	}
	prefix = xasprintf("%s%s", real, h->base + strlen(dir));
	a = gitindex_prefixed(prefix, &lines, stamp);
	free(prefix);
	for (size_t i = 0; a != GITINDEX_UNTRACKED && i < n; i++)
		if (is_tracked(&v[i], dir, real, lines.data,
			       a == GITINDEX_UNSURE))
			fn(ctx, &v[i]);
out:
	buf_finish(&lines);
	free(real);
	free(dir);
}

static void warn_tracked(void *ctx, const struct dbhome_side *side)
{
	const struct dbcheck_report *r = ctx;
	char *m = tracked_one(side);

	say(r->warning, r->ctx, m);
	free(m);
}

void dbcheck_tracked(const struct dbhome *h, bool database,
		     const struct dbcheck_report *r,
		     struct gitindex_stamp *stamp)
{
	if (r->warning)
		each_tracked(h, database, warn_tracked, (void *)r, stamp);
}

static void join_tracked(void *ctx, const struct dbhome_side *side)
{
	struct buf *b = ctx;
	char *m = tracked_one(side);

	if (b->len)
		buf_puts(b, "; ");
	buf_puts(b, m);
	free(m);
}

char *dbcheck_tracked_message(const struct dbhome *h)
{
	struct buf b = BUF_INIT;
	struct run_record_file rf;
	struct err ignored;
	struct gitindex_stamp stamp = {0};

	/* the runs' stamp of an index that listed none of the files: while
	 * the index is that file, status does not read it either */
	if (run_record_read(h, &rf, &ignored))
		stamp = rf.index_none;
	each_tracked(h, true, join_tracked, &b, &stamp);
	if (!b.len) {
		buf_finish(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* The refusal of a database file other than the one recorded, or one
 * git tracks (e; false). */
static bool refuse(const char *database, bool tracked, bool known,
		   struct err *e)
{
	if (tracked && known)
		return err_set(
			e,
			"%s: git tracks this file, storysync's database, and "
			"put its copy in place of the one the last run here "
			"synced (a checkout, merge or reset of a commit that "
			"tracks it): the rows the API wrote since that run are "
			"not in it; nothing written: untrack it (git rm "
			"--cached, and commit), put back the database this "
			"checkout synced (a backup), then run 'storysync "
			"init' here (without the backup: init syncs with "
			"git's copy as it is)",
			database);
	if (tracked)
		return err_set(e,
			       "%s: git tracks this file, storysync's "
			       "database: a checkout, merge or reset of a "
			       "commit that tracks it puts git's copy in its "
			       "place, without the rows the API wrote since "
			       "the last run; nothing written: untrack it "
			       "(git rm --cached, and commit), then run "
			       "'storysync init' here",
			       database);
	return err_set(e,
		       "%s: not the database file the last run here synced "
		       "(another file took its place since: git's, a "
		       "backup's, a copy's), and the rows the API wrote "
		       "since that run may not be in it; nothing written: "
		       "put back the database this checkout synced (a "
		       "backup) and run 'storysync init' here, or run it to "
		       "sync with this one as it is",
		       database);
}

/*
 * The database is the file the runs here synced, or git may have put its
 * own in its place: a commit that tracks it (git add -f) replaces the
 * ignored file when it is checked out, merged or reset to, and the rows
 * the API wrote since the last run are gone with the file, by git. The
 * run record (read and written by every run anyway) keeps which file the
 * last run found (device, inode, birth time: dbhome_file), so the check
 * is a statx of it before it is opened: another file, in the same tree
 * (a copy of the whole tree is a pair of its own), is refused, nothing
 * written, never synced as the truth. A database git tracks with no
 * file recorded (the first run after init, or of this version), or a
 * record of another tree root (a copy's, or the committer's when git put
 * the record there with the database), is refused too. A file that is
 * the one recorded and that git tracks all the same (force-added since,
 * not yet replaced by any checkout) is warned of, as its side files are
 * (dbcheck_tracked): nothing is lost yet.
 */
bool dbcheck_same(const struct config *c, struct dbhome_file *f,
		  bool *confirmed, bool *refused,
		  const struct dbcheck_report *r, struct gitindex_stamp *stamp,
		  struct err *e)
{
	struct run_record_file rf;
	struct err ignored;
	struct gitindex_stamp own;
	bool tracked = false;

	*confirmed = *refused = false;
	if (!run_record_read(&c->home, &rf, &ignored))
		memset(&rf, 0, sizeof(rf)); /* unreadable: as if none */
	if (!stamp)
		stamp = &own;
	*stamp = rf.index_none;
	if (!dbhome_file(&c->home, c->root, f)) {
		dbcheck_tracked(&c->home, false, r, stamp);
		return true; /* a server's, or gone: opening it says */
	}
	/* another tree root's record is none of this tree's: a copy of the
	 * whole tree, or a record git put here with its database (git add -f
	 * .storysync), which names the committer's root; either way git's
	 * index says whether the file is git's */
	if (rf.db_known && !dbhome_same_root(&rf.db, f))
		rf.db_known = false;
	if (rf.db_known && dbhome_same_file(&rf.db, f)) {
		*confirmed = true;
		dbcheck_tracked(&c->home, true, r, stamp);
		return true;
	}
	if (!dbcheck_git_tracks(c->home.database, &tracked, NULL, &ignored)) {
		/* an index libgit2 cannot read (a split index: git's
		 * core.splitIndex) would have every run refused, none ever
		 * recording the file: whether git tracks it is not known,
		 * and the file there is taken (a recorded one still tells
		 * another file) */
		char *m = xasprintf("%s: whether git tracks it is not known "
				    "(%s): taken as the database to sync",
				    c->home.database, ignored.msg);

		say(r->note, r->ctx, m);
		free(m);
		tracked = false;
	}
	if (!tracked && !rf.db_known) {
		*confirmed = true;
		dbcheck_tracked(&c->home, false, r, stamp);
		return true;
	}
	*refused = true;
	return refuse(c->home.database, tracked, rf.db_known, e);
}
