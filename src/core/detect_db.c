/*
 * The DB side: the rows whose rev moved past the last run's mark, and the
 * deleted rows the state still knows. O(changes): the mark is a clock value
 * and rev is indexed.
 */
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "mem.h"
#include "strmap.h"

static void db_side_finish(struct db_side *d)
{
	free(d->id);
	free(d->path);
	story_finish(&d->story);
}

/* The side of one changed row against its state; false when it is our own
 * write or a row never known and now gone. */
static bool classify(struct store *s, const struct db_change *ch,
		     const struct state_entry *se, struct db_side *d,
		     struct err *e, bool *ok)
{
	bool found = false;

	*ok = true;
	memset(d, 0, sizeof(*d));
	if (ch->deleted) {
		if (!se)
			return false;
		d->side = SIDE_DELETED;
		d->id = xstrdup(ch->id);
		return true;
	}
	if (se && se->rev == ch->rev && !ch->drifted)
		return false;
	if (!store_story_get(s, ch->id, &d->story, &d->rev, &d->path, &found,
			     e)) {
		*ok = false;
		return false;
	}
	if (!found) {
		db_side_finish(d);
		if (!se)
			return false;
		d->side = SIDE_DELETED;
		d->id = xstrdup(ch->id);
		return true;
	}
	d->id = xstrdup(ch->id);
	d->side = se ? SIDE_CHANGED : SIDE_NEW;
	return true;
}

/* The state entry of id: in t, or (t incomplete) looked up and added. */
static bool state_of(struct store *s, struct state_table *t, bool complete,
		     struct strmap *by_id, const char *id,
		     const struct state_entry **se, struct err *e)
{
	size_t i, n = t->n;

	*se = NULL;
	if (strmap_get(by_id, id, &i)) {
		*se = &t->v[i];
		return true;
	}
	if (complete)
		return true;
	if (!store_state_find(s, NULL, id, t, e))
		return false;
	for (i = n; i < t->n; i++)
		strmap_put(by_id, t->v[i].id, i);
	if (t->n > n)
		*se = &t->v[n];
	return true;
}

bool detect_db(struct store *s, struct state_table *t, bool complete, bool full,
	       struct db_result *out, struct err *e)
{
	struct db_change *ch = NULL;
	struct strmap by_id;
	size_t n = 0;
	int64_t mark = 0;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!store_mark_get(s, &mark, e) ||
	    !store_changes(s, full ? 0 : mark, full, &ch, &n, e))
		return false;
	strmap_init(&by_id, n ? t->n : 0);
	if (n)
		for (size_t i = 0; i < t->n; i++)
			strmap_put(&by_id, t->v[i].id, i);
	out->rows = xcalloc(n, sizeof(*out->rows));
	for (size_t i = 0; i < n; i++) {
		const struct state_entry *se;
		bool row_ok;

		if (!state_of(s, t, complete, &by_id, ch[i].id, &se, e))
			goto done;
		if (classify(s, &ch[i], se, &out->rows[out->n], e, &row_ok))
			out->n++;
		else if (!row_ok)
			goto done;
	}
	ok = true;
done:
	strmap_finish(&by_id);
	store_changes_free(ch, n);
	if (!ok)
		db_result_finish(out);
	return ok;
}

void db_result_finish(struct db_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		db_side_finish(&r->rows[i]);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}
