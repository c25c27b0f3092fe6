/* Where the database lives, and the files that go with it (dbhome.h). */
#include "dbhome.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "mem.h"

void dbhome_init(struct dbhome *h, const char *database, const char *at,
		 const char *tree)
{
	/* the default tree's keep the names they had before trees */
	const char *sep = tree && strcmp(tree, "default") != 0 ? "." : "";
	const char *t = *sep ? tree : "";

	h->database = xstrdup(database);
	h->at = at ? xstrdup(at) : NULL;
	h->lock = xasprintf("%s%s%s.lock", database, sep, t);
	h->run = xasprintf("%s%s%s.run", database, sep, t);
	h->told = xasprintf("%s%s%s.told", database, sep, t);
	h->writes = xasprintf("%s%s%s.writes", database, sep, t);
	h->cache = xasprintf("%s%s%s.statcache", database, sep, t);
}

void dbhome_finish(struct dbhome *h)
{
	free(h->database);
	free(h->at);
	free(h->lock);
	free(h->run);
	free(h->told);
	free(h->writes);
	free(h->cache);
	memset(h, 0, sizeof(*h));
}

bool dbhome_exists(const struct dbhome *h)
{
	return fsx_exists(h->database);
}

bool dbhome_need(const struct dbhome *h, struct err *e)
{
	if (dbhome_exists(h))
		return true;
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
	return fsx_mkdir_parents(h->database, e) &&
	       fsx_create_empty(h->database, e);
}

int dbhome_lock(const struct dbhome *h, int wait_s, struct err *e)
{
	return fsx_lock(h->lock, wait_s, e);
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
	const char *slash = strrchr(h->database, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == h->database)
		return xstrdup("/");
	return xstrndup(h->database, (size_t)(slash - h->database));
}

bool dbhome_owned(const struct dbhome *h)
{
	struct stat st;

	return stat(h->database, &st) == 0 && st.st_uid == geteuid();
}

bool dbhome_version(const struct dbhome *h, struct dbhome_version *v)
{
	struct stat st;

	if (stat(h->database, &st) != 0)
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

bool dbhome_ignore(const struct dbhome *h, const char *root, bool *ignored,
		   struct err *e)
{
	static const char all[] = "# storysync's database: never in git\n*\n";
	char *dir = xstrdup(h->database), *slash = strrchr(dir, '/');
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
