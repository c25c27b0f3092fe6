/* Where the database lives, and the files that go with it (dbhome.h). */
#include "dbhome.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsx.h"
#include "mem.h"
#include "runrecord.h"

bool dbhome_is_server(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 ||
	       strncmp(database, "postgres://", 11) == 0;
}

char *dbhome_mask(const char *database)
{
	const char *rest, *at, *colon, *end, *p;
	struct buf b = BUF_INIT;
	char *out;

	if (!dbhome_is_server(database))
		return xstrdup(database);
	rest = strstr(database, "://") + 3;
	end = rest + strcspn(rest, "/?");
	at = memchr(rest, '@', (size_t)(end - rest));
	/* the user part, user:password@: its password goes */
	colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (colon) {
		buf_add(&b, database, (size_t)(colon + 1 - database));
		buf_puts(&b, "***");
		p = at;
	} else {
		p = database;
	}
	/* and any password=VALUE of the query, up to the next & */
	for (const char *q = strchr(end, '?'); q && *q;) {
		const char *key = q + 1, *amp = strchr(key, '&');

		if (strncmp(key, "password=", 9) == 0) {
			buf_add(&b, p, (size_t)(key + 9 - p));
			buf_puts(&b, "***");
			p = amp ? amp : key + strlen(key);
		}
		q = amp;
	}
	buf_puts(&b, p);
	out = xstrdup(b.data);
	buf_finish(&b);
	return out;
}

char *dbhome_server_base(const char *root)
{
	return xasprintf("%s/.storysync/server", root);
}

/* Whether the database file's directory lies, as the file system has it
 * now, out of the tree root through a link on its way: the checkout's own
 * choice, which only .storysync.local.yml may make (config.c refuses it in
 * the versioned file), e.g. .storysync linked to another disk. */
static bool leads_out(const char *database, const char *root)
{
	const char *slash = strrchr(database, '/');
	char *dir = slash && slash != database
			    ? xstrndup(database, (size_t)(slash - database))
			    : NULL;
	struct err ignored;
	char *real = dir ? fsx_realpath(dir, &ignored) : NULL;
	size_t n = strlen(root);
	bool out = real && strncmp(dir, root, n) == 0 && dir[n] == '/' &&
		   (strncmp(real, root, n) != 0 ||
		    (real[n] != '/' && real[n] != '\0'));

	free(real);
	free(dir);
	return out;
}

void dbhome_init(struct dbhome *h, const char *database, const char *at,
		 const char *tree, const char *root)
{
	/* the default tree's keep the names they had before trees */
	const char *sep = tree && strcmp(tree, "default") != 0 ? "." : "";
	const char *t = *sep ? tree : "";

	h->database = xstrdup(database);
	/* the side files beside a database in the tree are opened beneath
	 * the root through no link (fsx_open_in); a database the checkout's
	 * own configuration put out of the tree through a link (checked at
	 * load) has them where the link leads, as the database itself */
	h->root = root && (dbhome_is_server(database) ||
			   !leads_out(database, root))
			  ? xstrdup(root)
			  : NULL;
	h->server = dbhome_is_server(database);
	h->shown = dbhome_mask(database);
	h->base = h->server ? dbhome_server_base(root) : xstrdup(database);
	h->at = at ? xstrdup(at) : NULL;
	h->lock = xasprintf("%s%s%s.lock", h->base, sep, t);
	h->run = xasprintf("%s%s%s.run", h->base, sep, t);
	h->told = xasprintf("%s%s%s.told", h->base, sep, t);
	h->writes = xasprintf("%s%s%s.writes", h->base, sep, t);
	h->cache = xasprintf("%s%s%s.statcache", h->base, sep, t);
	h->spare = xasprintf("%s%s%s.spare", h->base, sep, t);
	h->rewrite = xasprintf("%s.new", h->writes);
}

void dbhome_finish(struct dbhome *h)
{
	free(h->database);
	free(h->root);
	free(h->shown);
	free(h->base);
	free(h->at);
	free(h->lock);
	free(h->run);
	free(h->told);
	free(h->writes);
	free(h->cache);
	free(h->spare);
	free(h->rewrite);
	free(h->said);
	memset(h, 0, sizeof(*h));
}

size_t dbhome_sides(const struct dbhome *h, bool database,
		    struct dbhome_side *v)
{
	size_t n = 0;

	if (database && !h->server)
		v[n++] = (struct dbhome_side){h->database, "database", false};
	v[n++] = (struct dbhome_side){h->lock, "run lock", false};
	v[n++] = (struct dbhome_side){h->run, "run record", false};
	v[n++] = (struct dbhome_side){h->told, "told errors", false};
	v[n++] = (struct dbhome_side){h->writes, "write journal", false};
	v[n++] = (struct dbhome_side){h->rewrite, "write journal's rewrite",
				      false};
	v[n++] = (struct dbhome_side){h->cache, "stat cache", false};
	v[n++] =
		(struct dbhome_side){h->spare, "spare inodes' directory", true};
	return n;
}

/* A server's database is there for all this side knows: connecting says
 * (the store's open), not a file. */
bool dbhome_exists(const struct dbhome *h)
{
	return h->server || fsx_exists(h->database);
}

/* The run record says the runs here synced a database file: the one
 * missing now was there, and something removed it. */
static bool was_synced(const struct dbhome *h)
{
	struct run_record_file r;
	struct err ignored;

	return !h->server && run_record_read(h, &r, &ignored) && r.db_known;
}

bool dbhome_need(const struct dbhome *h, struct err *e)
{
	if (dbhome_exists(h))
		return true;
	/* git removes a file it tracks (force-added) on a checkout, merge
	 * or reset of a commit that does not hold it, ignored or not; init
	 * would make an empty database, the API's rows gone */
	if (was_synced(h))
		return err_set(
			e,
			"no database at %s, where the runs here synced one "
			"(its run record says so): git removes a database it "
			"tracks (force-added) on a checkout, merge or reset "
			"of a commit that does not hold it ('git log --all "
			"-- %s' lists the commits that do); nothing written: "
			"put it back (a backup, or git's copy: 'git show "
			"COMMIT:PATH'), untrack it (git rm --cached, and "
			"commit), and run 'storysync init' here; init alone "
			"makes an empty one",
			h->database, h->database);
	if (h->at)
		return err_set(e,
			       "%s: no database at %s (storysync init creates "
			       "one; a typo in 'database'?); nothing written",
			       h->at, h->database);
	return err_set(e,
		       "no database at %s (storysync init creates one); "
		       "nothing written",
		       h->database);
}

bool dbhome_make(const struct dbhome *h, struct err *e)
{
	if (h->server) /* the server's database is the server's to make */
		return fsx_mkdir_parents(h->base, e);
	return fsx_mkdir_parents(h->database, e) &&
	       fsx_create_empty(h->database, e);
}

int dbhome_lock(const struct dbhome *h, int wait_s, struct err *e)
{
	return fsx_lock(h->root, h->lock, wait_s, e);
}

bool dbhome_lock_held(const struct dbhome *h)
{
	return fsx_lock_held(h->lock);
}

void dbhome_unlock(int fd)
{
	fsx_unlock(fd);
}

char *dbhome_dir(const struct dbhome *h)
{
	const char *slash = strrchr(h->base, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == h->base)
		return xstrdup("/");
	return xstrndup(h->base, (size_t)(slash - h->base));
}

bool dbhome_owned(const struct dbhome *h)
{
	struct stat st;

	if (h->server) /* the server's roles decide, not a file's owner */
		return true;
	return stat(h->database, &st) == 0 && st.st_uid == geteuid();
}

bool dbhome_version(const struct dbhome *h, struct dbhome_version *v)
{
	struct stat st;

	if (h->server || stat(h->database, &st) != 0)
		return false;
	v->ino = (uint64_t)st.st_ino;
	v->size = (int64_t)st.st_size;
	v->mtime_ns =
		(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return true;
}

bool dbhome_same_version(const struct dbhome_version *a,
			 const struct dbhome_version *b)
{
	return a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

bool dbhome_file(const struct dbhome *h, const char *root,
		 struct dbhome_file *f)
{
	struct file_id db, tree;

	if (h->server || !fsx_file_id(h->database, &db) ||
	    !fsx_file_id(root, &tree))
		return false;
	*f = (struct dbhome_file){.dev = db.dev,
				  .ino = db.ino,
				  .born_ns = db.born_ns,
				  .root_dev = tree.dev,
				  .root_ino = tree.ino};
	return true;
}

bool dbhome_same_file(const struct dbhome_file *a, const struct dbhome_file *b)
{
	/* a device number is the mount's, which NFS, btrfs's subvolumes
	 * and loop devices number anew when mounted again: with a birth
	 * time, it and the inode tell the file (git's new file that ext4
	 * gives the inode just freed has another), else the device too */
	return dbhome_same_root(a, b) && a->ino == b->ino &&
	       a->born_ns == b->born_ns &&
	       (a->born_ns != 0 || a->dev == b->dev);
}

bool dbhome_same_root(const struct dbhome_file *a, const struct dbhome_file *b)
{
	return a->root_dev == b->root_dev && a->root_ino == b->root_ino;
}

bool dbhome_ignore(const struct dbhome *h, const char *root, bool *ignored,
		   struct err *e)
{
	static const char all[] = "# storysync's database: never in git\n*\n";
	char *dir = xstrdup(h->base), *slash = strrchr(dir, '/');
	struct file_stat st;
	bool stale, ok = true;
	int fd = -1;

	*ignored = false;
	*slash = '\0';
	if (strcmp(dir, root) == 0 || !fsx_dir_holds_only(dir, slash + 1))
		goto out;
	fd = fsx_open_root(dir, e);
	ok = fd >= 0 && fsx_write_atomic(fd, ".gitignore", all, sizeof(all) - 1,
					 NULL, &st, &stale, e);
	*ignored = ok;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return ok;
}
