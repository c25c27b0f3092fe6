/* store_sqlite_config.c: the configuration a database was last synced with, and
 * the rows, state and bases that follow when it changes. */
#include "store_sqlite.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

/* This file's cached statements (store_stmt prepares them). */
const char *const store_config_sql[ST_COUNT] = {
	[ST_CONFIG_BACKLOGS] =
		"SELECT name, path FROM backlogs WHERE tree = " TREE
		" ORDER BY name",
	[ST_LOCATIONS] =
		"SELECT s.id, s.backlog, s.status, s.path,"
		" t.story_id IS NOT NULL, s.rev IS t.rev,"
		" b.story_id IS NOT NULL, json_extract(b.row, '$.backlog'),"
		" json_extract(b.row, '$.status'),"
		" json_extract(b.row, '$.path'), t.mirrors IS NOT NULL,"
		" json_extract(t.mirrors, '$[0]'),"
		" json_extract(t.mirrors, '$[1]'),"
		" json_extract(t.mirrors, '$[2]')"
		" FROM stories s LEFT JOIN sync_state t ON t.tree = s.tree"
		" AND t.story_id = s.id LEFT JOIN sync_base b ON"
		" b.tree = s.tree AND b.story_id = s.id WHERE s.tree = " TREE,
	[ST_STORY_RELOCATE] = "UPDATE stories SET backlog = ?2, status = ?3,"
			      " path = ?4, rev = ?5, updated = " NOW_ISO
			      " WHERE tree = " TREE " AND id = ?1",
	/* the relocated row is still the agreed version: its digest follows
	 * (else it would read as a row changed without the triggers) */
	[ST_STATE_REV] =
		"UPDATE sync_state SET rev = ?2, digest = (SELECT " DIGEST_ROW
		" FROM stories WHERE tree = " TREE " AND id = ?1)"
		" WHERE tree = " TREE " AND story_id = ?1",
	[ST_STATE_RELOCATE] = "UPDATE sync_state SET path = ?2"
			      " WHERE tree = " TREE " AND story_id = ?1",
	[ST_BASE_RELOCATE] = "UPDATE sync_base SET row = json_set(row,"
			     " '$.backlog', ?2, '$.status', ?3, '$.path', ?4)"
			     " WHERE tree = " TREE " AND story_id = ?1",
};

static bool backlog_row(void *ctx, sqlite3_stmt *st)
{
	struct config_record *r = ctx;

	r->backlogs = xreallocarray(r->backlogs, r->nbacklogs + 1,
				    sizeof(*r->backlogs));
	r->backlogs[r->nbacklogs++] = (struct config_backlog){
		.name = store_col_text(st, 0),
		.path = store_col_text(st, 1),
	};
	return true;
}

/* The pairs at key (store_meta_pairs). */
static bool meta_pairs(struct store *s, const char *key, char ***out,
		       struct err *e)
{
	char *v = NULL;

	*out = NULL;
	if (!sqlite_meta_get(s, key, &v, e))
		return false;
	*out = store_meta_pairs(v);
	free(v);
	return true;
}

static bool record_stages(struct store *s, struct config_record *r,
			  struct err *e)
{
	char **v, *from = NULL;
	size_t n = 0;

	if (!meta_pairs(s, KEY_STAGES, &v, e) ||
	    !sqlite_meta_get(s, KEY_STATUS_FROM, &from, e)) {
		strv_free(v);
		return false;
	}
	while (v[n])
		n++;
	r->stages = n ? xcalloc(n / 2 + 1, sizeof(*r->stages)) : NULL;
	for (size_t i = 0; i + 1 < n; i += 2) {
		r->stages[r->nstages++] =
			(struct config_stage){v[i], v[i + 1], false};
		v[i] = v[i + 1] = NULL;
	}
	r->status_from_key = from && strcmp(from, "key") == 0;
	free(from);
	free(v); /* its strings went to the stages */
	return true;
}

bool sqlite_config_get(struct store *s, struct config_record *r, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_CONFIG_BACKLOGS, e);

	memset(r, 0, sizeof(*r));
	if (st && store_rows_each(s, st, backlog_row, r, e) &&
	    record_stages(s, r, e) &&
	    meta_pairs(s, KEY_FORMER_STATUS, &r->former_status, e) &&
	    meta_pairs(s, KEY_FORMER_BACKLOG, &r->former_backlog, e))
		return true;
	config_record_finish(r);
	return false;
}

/* The strings of v (NULL-terminated, or NULL) as a JSON array, or NULL
 * when there are none. */
static char *pairs_json(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n ? json_string_array(v, n) : NULL;
}

bool sqlite_config_put(struct store *s, const struct config *c,
		       char *const *former_status, char *const *former_backlog,
		       struct err *e)
{
	char **stages = xcalloc(2 * c->nstages + 1, sizeof(char *));
	char *json[3];
	bool ok;

	for (size_t i = 0; i < c->nstages; i++) {
		stages[2 * i] = c->stages[i].status;
		stages[2 * i + 1] = c->stages[i].dir;
	}
	json[0] = pairs_json(stages);
	json[1] = pairs_json(former_status);
	json[2] = pairs_json(former_backlog);
	ok = sqlite_backlogs_sync(s, c, e) &&
	     sqlite_meta_set(s, KEY_STAGES, json[0], e) &&
	     sqlite_meta_set(s, KEY_STATUS_FROM,
			     c->dialect.status_from_key ? "key" : "location",
			     e) &&
	     sqlite_meta_set(s, KEY_FORMER_STATUS, json[1], e) &&
	     sqlite_meta_set(s, KEY_FORMER_BACKLOG, json[2], e);
	for (int i = 0; i < 3; i++)
		free(json[i]);
	free(stages); /* the strings are the configuration's */
	return ok;
}

struct locations {
	store_location_fn fn;
	void *ctx;
};

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static bool location_row(void *ctx, sqlite3_stmt *st)
{
	struct locations *l = ctx;
	struct row_location r = {
		.id = col(st, 0),
		.backlog = col(st, 1),
		.status = col(st, 2),
		.path = col(st, 3),
		.has_state = sqlite3_column_int(st, 4) != 0,
		.agreed = sqlite3_column_int(st, 5) != 0,
		.has_base = sqlite3_column_int(st, 6) != 0,
		.base_backlog = col(st, 7),
		.base_status = col(st, 8),
		.base_path = col(st, 9),
		.mirror_known = sqlite3_column_int(st, 10) != 0,
	};

	for (int m = 0; m < SM_COUNT; m++)
		r.mirror[m] = col(st, 11 + m);
	return l->fn(l->ctx, &r);
}

bool sqlite_locations(struct store *s, store_location_fn fn, void *ctx,
		      struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_LOCATIONS, e);
	struct locations l = {fn, ctx};

	return st && store_rows_each(s, st, location_row, &l, e);
}

bool sqlite_story_relocate(struct store *s, const char *id, const char *backlog,
			   const char *status, const char *path, bool agreed,
			   int64_t *rev, struct err *e)
{
	sqlite3_stmt *st;

	if (!store_writer_on(s, e) ||
	    !(st = store_stmt(s, ST_STORY_RELOCATE, e)))
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, backlog);
	store_bind_text(st, 3, status);
	store_bind_text(st, 4, path);
	sqlite3_bind_int64(st, 5, s->writer_rev);
	if (!store_exec_stmt(s, st, e))
		return false;
	*rev = s->writer_rev;
	/* the row stays the agreed version: its state has its rev */
	if (!agreed)
		return true;
	if (!(st = store_stmt(s, ST_STATE_REV, e)))
		return false;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, s->writer_rev);
	return store_exec_stmt(s, st, e);
}

bool sqlite_base_relocate(struct store *s, const char *id, const char *backlog,
			  const char *status, const char *path, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_BASE_RELOCATE, e);

	if (!st)
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, backlog);
	store_bind_text(st, 3, status);
	store_bind_text(st, 4, path);
	return store_exec_stmt(s, st, e);
}

bool sqlite_state_relocate(struct store *s, const char *id, const char *path,
			   struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_STATE_RELOCATE, e);

	if (!st)
		return false;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, path);
	return store_exec_stmt(s, st, e);
}
