/* store_sqlite_tree.c: the trees a database holds, and the checkout that
 * syncs each (layer 4, beside what runs record). */
#include "store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* The checkout registered for the store's tree into *host and *path
 * (heap, NULL when none). */
static bool holder_get(struct store *s, char **host, char **path, struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s, "SELECT host, path FROM trees WHERE name = " TREE, e);
	int rc;

	*host = *path = NULL;
	if (!st)
		return false;
	rc = store_step(s, st, e);
	if (rc == SQLITE_ROW) {
		*host = store_col_text(st, 0);
		*path = store_col_text(st, 1);
	}
	sqlite3_finalize(st);
	return rc >= 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool sqlite_tree_claim(struct store *s, const char *host, const char *path,
		       bool take_over, char **holder, bool *moved,
		       struct err *e)
{
	/* registers when no checkout holds the tree, or take_over; a
	 * checkout that registered meanwhile keeps it (read again below) */
	static const char put[] =
		"INSERT INTO trees(name, host, path, registered) VALUES (" TREE
		", ?1, ?2, " NOW_ISO ") ON CONFLICT(name) DO UPDATE SET"
		" host = excluded.host, path = excluded.path,"
		" registered = excluded.registered WHERE ?3 OR trees.path IS"
		" NULL OR trees.host IS NULL";
	/* the files are read again by the next run: another checkout's stat
	 * data says nothing of this one's */
	static const char restat[] =
		"UPDATE sync_state SET mtime_ns = NULL, ctime_ns = NULL,"
		" size = NULL, ino = NULL, recorded_ns = NULL WHERE tree "
		"= " TREE;
	char *h = NULL, *p = NULL;
	sqlite3_stmt *st = NULL;
	bool ok = false;

	*holder = NULL;
	*moved = false;
	if (!holder_get(s, &h, &p, e))
		return false;
	if (same(h, host) && same(p, path)) {
		ok = true;
		goto out;
	}
	if (h && p && !take_over) {
		*holder = xasprintf("%s:%s", h, p);
		ok = true;
		goto out;
	}
	*moved = h && p;
	st = store_prepare(s, put, e);
	if (!st)
		goto out;
	store_bind_text(st, 1, host);
	store_bind_text(st, 2, path);
	sqlite3_bind_int(st, 3, take_over);
	if (store_step(s, st, e) < 0)
		goto out;
	free(h);
	free(p);
	if (!holder_get(s, &h, &p, e))
		goto out;
	if (!same(h, host) || !same(p, path)) {
		*holder = xasprintf("%s:%s", h ? h : "?", p ? p : "?");
		*moved = false;
	} else if (*moved && !store_exec(s, restat, e))
		goto out;
	ok = true;
out:
	sqlite3_finalize(st);
	free(h);
	free(p);
	return ok;
}

/* The first tree, by name, other than the store's that the checkout
 * (host, path) is registered for. */
bool sqlite_tree_other(struct store *s, const char *host, const char *path,
		       char **name, struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"SELECT name FROM trees WHERE host = ?1 AND path = ?2 AND"
		" name <> " TREE " ORDER BY name LIMIT 1",
		e);
	int rc;

	*name = NULL;
	if (!st)
		return false;
	store_bind_text(st, 1, host);
	store_bind_text(st, 2, path);
	rc = store_step(s, st, e);
	if (rc == SQLITE_ROW)
		*name = store_col_text(st, 0);
	sqlite3_finalize(st);
	return rc >= 0;
}

bool sqlite_tree_release(struct store *s, const char *host, const char *path,
			 struct err *e)
{
	sqlite3_stmt *st = store_prepare(
		s,
		"UPDATE trees SET host = NULL, path = NULL, registered "
		"= " NOW_ISO " WHERE host = ?1 AND path = ?2 AND name <> " TREE,
		e);
	bool ok;

	if (!st)
		return false;
	store_bind_text(st, 1, host);
	store_bind_text(st, 2, path);
	ok = store_step(s, st, e) >= 0;
	sqlite3_finalize(st);
	return ok;
}

static void tree_from_row(void *elem, sqlite3_stmt *st, void *ctx)
{
	struct tree_info *t = elem;

	(void)ctx;
	t->name = store_col_text(st, 0);
	t->host = store_col_text(st, 1);
	t->path = store_col_text(st, 2);
	t->last_run = store_col_text(st, 3);
	t->last_exit = sqlite3_column_type(st, 4) == SQLITE_NULL
			       ? -1
			       : sqlite3_column_int(st, 4);
	t->stories = (long)sqlite3_column_int64(st, 5);
}

bool sqlite_trees_list(struct store *s, struct tree_info **out, size_t *n,
		       struct err *e)
{
	/* the registered trees, the store's own, and the trees that hold
	 * rows without a registration (the default of a database older
	 * than trees, before its first run) */
	static const char sql[] =
		"WITH names(name) AS (SELECT name FROM trees UNION SELECT " TREE
		" UNION SELECT 'default' WHERE EXISTS (SELECT 1 FROM stories"
		" WHERE tree = 'default')) SELECT n.name, t.host, t.path,"
		" (SELECT ended FROM sync_runs r WHERE r.tree = n.name AND"
		" r.mode IS NOT 'dry-run' ORDER BY r.id DESC LIMIT 1),"
		" (SELECT exit_code FROM sync_runs r WHERE r.tree = n.name AND"
		" r.mode IS NOT 'dry-run' ORDER BY r.id DESC LIMIT 1),"
		" (SELECT count(*) FROM stories s WHERE s.tree = n.name)"
		" FROM names n LEFT JOIN trees t ON t.name = n.name"
		" ORDER BY n.name IS NOT " TREE ", n.name";
	struct row_array a = {.size = sizeof(struct tree_info)};
	sqlite3_stmt *st = store_prepare(s, sql, e);
	bool ok;

	*out = NULL;
	*n = 0;
	if (!st)
		return false;
	ok = store_rows_collect(s, st, &a, tree_from_row, NULL, e);
	sqlite3_finalize(st);
	if (!ok) {
		store_trees_free(a.v, a.n);
		return false;
	}
	*out = a.v;
	*n = a.n;
	return true;
}
