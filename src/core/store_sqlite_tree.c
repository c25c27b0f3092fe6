/* store_sqlite_tree.c: the trees a database holds, and the checkout that
 * syncs each (layer 4, beside what runs record). */
#include "store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

bool sqlite_tree_claim(struct store *s, const char *host, const char *path,
		       bool take_over, char **holder, bool *moved,
		       struct err *e)
{
	(void)s;
	(void)host;
	(void)path;
	(void)take_over;
	(void)e;
	*holder = NULL;
	*moved = false;
	return true;
}

bool sqlite_trees_list(struct store *s, struct tree_info **out, size_t *n,
		       struct err *e)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT count(*) FROM stories", e);
	struct tree_info *v;

	*out = NULL;
	*n = 0;
	if (!st)
		return false;
	if (store_step(s, st, e) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return false;
	}
	v = xcalloc(1, sizeof(*v));
	v->name = xstrdup(store_base_tree(s));
	v->stories = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	*out = v;
	*n = 1;
	return true;
}
