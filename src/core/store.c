/* store.c: the store's interface, backend-neutral: the backend a
 * database string names, and each call handed to it. */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "dbhome.h"
#include "json.h"
#include "mem.h"
#include "version.h"

#define DEFAULT_BUSY_MS 5000

static int server_wait_ms = CONFIG_SERVER_WAIT_DEFAULT * 1000;

/* The backends, each asked in turn whether a database string is its: a
 * server's URI scheme first (store_pg_ops, when built), SQLite, which
 * takes any path but a server's URI, last. */
static const struct store_ops *const backends[] = {
#if STORYSYNC_POSTGRESQL
	&store_pg_ops,
#endif
	&store_sqlite_ops,
};

static const struct store_ops *ops_of(const struct store *s)
{
	return ((const struct store_base *)(const void *)s)->ops;
}

/* The ops of s for a call about its tree: the tree is set for good. */
static const struct store_ops *tree_ops(struct store *s)
{
	((struct store_base *)(void *)s)->used = true;
	return ops_of(s);
}

void store_set_server_wait(int ms)
{
	server_wait_ms = ms;
}

int store_base_server_wait(void)
{
	return server_wait_ms;
}

const char *store_base_tree(const struct store *s)
{
	const char *t = ((const struct store_base *)(const void *)s)->tree;

	return t ? t : STORE_TREE_DEFAULT;
}

bool store_set_tree(struct store *s, const char *tree, struct err *e)
{
	struct store_base *b = (struct store_base *)(void *)s;

	if (b->used)
		return err_set(e, "store_set_tree: the store's tree is set "
				  "before any other call");
	free(b->tree);
	b->tree = strcmp(tree, STORE_TREE_DEFAULT) ? xstrdup(tree) : NULL;
	return true;
}

const char *store_tree(const struct store *s)
{
	return store_base_tree(s);
}

static const struct store_ops *backend_of(const char *database)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (backends[i]->claims(database))
			return backends[i];
	return NULL;
}

static bool open_with(struct store **out, const char *database, int busy_ms,
		      bool read_only, bool create, bool *busy, struct err *e)
{
	const struct store_ops *ops = backend_of(database);

	*out = NULL;
	if (busy)
		*busy = false;
	if (!ops) {
		char *shown = dbhome_mask(database);

		err_set(e,
			"%s: no storysync backend takes this database (a "
			"build without PostgreSQL?)",
			shown);
		free(shown);
		return false;
	}
	return ops->open(out, database, busy_ms, read_only, create, busy, e);
}

bool store_open_as(struct store **out, const char *database, int busy_ms,
		   bool read_only, bool *busy, struct err *e)
{
	return open_with(out, database, busy_ms, read_only, false, busy, e);
}

bool store_open(struct store **out, const char *database, struct err *e)
{
	return open_with(out, database, DEFAULT_BUSY_MS, false, false, NULL, e);
}

bool store_create(struct store **out, const char *database, int busy_ms,
		  struct err *e)
{
	return open_with(out, database, busy_ms, false, true, NULL, e);
}

void store_close(struct store *s)
{
	char *tree;

	if (s) {
		/* after the connection: SQLite holds it (storysync_tree) */
		tree = ((struct store_base *)(void *)s)->tree;
		ops_of(s)->close(s);
		free(tree);
	}
}

int store_schema_version(const struct store *s)
{
	return ops_of(s)->schema_version(s);
}

void store_set_busy_timeout(struct store *s, int ms)
{
	ops_of(s)->set_busy_timeout(s, ms);
}

bool store_busy(const struct store *s)
{
	return s && ops_of(s)->busy(s);
}

bool store_commit_unknown(const struct store *s)
{
	return s &&
	       ((const struct store_base *)(const void *)s)->commit_unknown;
}

bool store_begin(struct store *s, struct err *e)
{
	return tree_ops(s)->begin(s, e);
}

bool store_begin_read(struct store *s, struct err *e)
{
	return tree_ops(s)->begin_read(s, e);
}

bool store_commit(struct store *s, struct err *e)
{
	return tree_ops(s)->commit(s, e);
}

void store_rollback(struct store *s)
{
	tree_ops(s)->rollback(s);
}

bool store_lock_stories(struct store *s, char *const *ids, size_t n,
			struct err *e)
{
	return !n || !tree_ops(s)->lock_stories ||
	       tree_ops(s)->lock_stories(s, ids, n, e);
}

bool store_refused(const struct store *s)
{
	return s && ops_of(s)->refused && ops_of(s)->refused(s);
}

bool store_unit_begin(struct store *s, struct err *e)
{
	return tree_ops(s)->unit_begin(s, e);
}

bool store_unit_end(struct store *s, bool keep, struct err *e)
{
	return tree_ops(s)->unit_end(s, keep, e);
}

bool store_is_empty(struct store *s)
{
	return tree_ops(s)->is_empty(s);
}

bool store_bulk(struct store *s, bool on, struct err *e)
{
	return tree_ops(s)->bulk(s, on, e);
}

bool store_state_load(struct store *s, struct state_table *t, struct err *e)
{
	return tree_ops(s)->state_load(s, t, e);
}

bool store_state_find(struct store *s, const char *path, const char *id,
		      struct state_table *t, struct err *e)
{
	return tree_ops(s)->state_find(s, path, id, t, e);
}

bool store_state_count(struct store *s, size_t *n, struct err *e)
{
	return tree_ops(s)->state_count(s, n, e);
}

bool store_state_base(struct store *s, const char *id, struct story *base,
		      char *mirror[SM_COUNT], bool *mirror_known, bool *found,
		      struct err *e)
{
	return tree_ops(s)->state_base(s, id, base, mirror, mirror_known, found,
				       e);
}

bool store_state_put(struct store *s, const struct state_entry *se,
		     const struct story *base, char *const *mirror,
		     struct err *e)
{
	return tree_ops(s)->state_put(s, se, base, mirror, e);
}

bool store_state_restat(struct store *s, const struct state_entry *se,
			struct err *e)
{
	return tree_ops(s)->state_restat(s, se, e);
}

bool store_state_delete(struct store *s, const char *id, struct err *e)
{
	return tree_ops(s)->state_delete(s, id, e);
}

bool store_deleted_put(struct store *s, const struct deleted_file *d,
		       struct err *e)
{
	return !ops_of(s)->deleted_put || ops_of(s)->deleted_put(s, d, e);
}

bool store_deleted_get(struct store *s, const char *path, const char *id,
		       struct deleted_file *out, bool *found, struct err *e)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	return !ops_of(s)->deleted_get ||
	       ops_of(s)->deleted_get(s, path, id, out, found, e);
}

bool store_archived_get(struct store *s, const char *id, struct story *out,
			bool *found, struct err *e)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	return !ops_of(s)->archived_get ||
	       ops_of(s)->archived_get(s, id, out, found, e);
}

bool store_story_get(struct store *s, const char *id, struct story *out,
		     int64_t *rev, char **path, bool *found, struct err *e)
{
	return tree_ops(s)->story_get(s, id, out, rev, path, found, e);
}

bool store_story_put(struct store *s, const struct story *st, const char *path,
		     int64_t *rev, struct err *e)
{
	return tree_ops(s)->story_put(s, st, path, rev, e);
}

bool store_story_set_path(struct store *s, const char *id, const char *path,
			  int64_t *rev, struct err *e)
{
	return tree_ops(s)->story_set_path(s, id, path, rev, e);
}

bool store_story_delete(struct store *s, const char *id, struct err *e)
{
	return tree_ops(s)->story_delete(s, id, e);
}

bool store_changes(struct store *s, int64_t mark, bool all,
		   struct db_change **out, size_t *n, struct err *e)
{
	return tree_ops(s)->changes(s, mark, all, out, n, e);
}

bool store_changes_plan(struct store *s, char **plan, struct err *e)
{
	return tree_ops(s)->changes_plan(s, plan, e);
}

bool store_mark_get(struct store *s, int64_t *mark, struct err *e)
{
	return tree_ops(s)->mark_get(s, mark, e);
}

bool store_mark_set(struct store *s, struct err *e)
{
	return tree_ops(s)->mark_set(s, e);
}

bool store_clock_moved(struct store *s, bool *moved, struct err *e)
{
	return tree_ops(s)->clock_moved(s, moved, e);
}

bool store_meta_get(struct store *s, const char *key, char **value,
		    struct err *e)
{
	return tree_ops(s)->meta_get(s, key, value, e);
}

bool store_meta_set(struct store *s, const char *key, const char *value,
		    struct err *e)
{
	return tree_ops(s)->meta_set(s, key, value, e);
}

bool store_backlogs_sync(struct store *s, const struct config *c, struct err *e)
{
	return tree_ops(s)->backlogs_sync(s, c, e);
}

bool store_config_get(struct store *s, struct config_record *r, struct err *e)
{
	return tree_ops(s)->config_get(s, r, e);
}

bool store_config_put(struct store *s, const struct config *c,
		      char *const *former_status, char *const *former_backlog,
		      struct err *e)
{
	return tree_ops(s)->config_put(s, c, former_status, former_backlog, e);
}

bool store_locations(struct store *s, store_location_fn fn, void *ctx,
		     struct err *e)
{
	return tree_ops(s)->locations(s, fn, ctx, e);
}

bool store_story_relocate(struct store *s, const char *id, const char *backlog,
			  const char *status, const char *path, bool agreed,
			  int64_t *rev, struct err *e)
{
	return tree_ops(s)->story_relocate(s, id, backlog, status, path, agreed,
					   rev, e);
}

bool store_base_relocate(struct store *s, const char *id, const char *backlog,
			 const char *status, const char *path, struct err *e)
{
	return tree_ops(s)->base_relocate(s, id, backlog, status, path, e);
}

bool store_state_relocate(struct store *s, const char *id, const char *path,
			  struct err *e)
{
	return tree_ops(s)->state_relocate(s, id, path, e);
}

bool store_history_add(struct store *s, const struct history_row *h,
		       struct err *e)
{
	return tree_ops(s)->history_add(s, h, e);
}

bool store_event_add(struct store *s, const char *story_id, const char *change,
		     const char *origin, int64_t run_id, struct err *e)
{
	return tree_ops(s)->event_add(s, story_id, change, origin, run_id, e);
}

bool store_conflict_add(struct store *s, const struct conflict_row *c,
			struct err *e)
{
	return tree_ops(s)->conflict_add(s, c, e);
}

bool store_run_add(struct store *s, const struct run_record *r, int64_t *id,
		   struct err *e)
{
	return tree_ops(s)->run_add(s, r, id, e);
}

bool store_run_update(struct store *s, int64_t id, const struct run_record *r,
		      struct err *e)
{
	return tree_ops(s)->run_update(s, id, r, e);
}

bool store_story_path(struct store *s, const char *id, char **path, bool *found,
		      struct err *e)
{
	return tree_ops(s)->story_path(s, id, path, found, e);
}

bool store_story_forget(struct store *s, const char *id, struct err *e)
{
	return tree_ops(s)->story_forget(s, id, e);
}

bool store_story_id_by_path(struct store *s, const char *path, char **id,
			    struct err *e)
{
	return tree_ops(s)->story_id_by_path(s, path, id, e);
}

bool store_history_has_git(struct store *s, const char *story_id,
			   const char *commit_id, const char *to_status,
			   bool *yes, struct err *e)
{
	return tree_ops(s)->history_has_git(s, story_id, commit_id, to_status,
					    yes, e);
}

bool store_history_credits(struct store *s, const char *story_id,
			   const char *from, const char *to,
			   struct history_credit **v, size_t *n, struct err *e)
{
	return tree_ops(s)->history_credits(s, story_id, from, to, v, n, e);
}

bool store_history_recredit(struct store *s, int64_t id,
			    const struct history_row *h, struct err *e)
{
	return tree_ops(s)->history_recredit(s, id, h, e);
}

bool store_history_of(struct store *s, const char *story_id,
		      struct history_entry **v, size_t *n, bool *known,
		      struct err *e)
{
	return tree_ops(s)->history_of(s, story_id, v, n, known, e);
}

bool store_check(struct store *s, store_check_fn fn, void *ctx, struct err *e)
{
	return tree_ops(s)->check(s, fn, ctx, e);
}

bool store_runs_last(struct store *s, size_t max, struct run_row **out,
		     size_t *n, struct err *e)
{
	return tree_ops(s)->runs_last(s, max, out, n, e);
}

bool store_runs_failing(struct store *s, long *n, struct err *e)
{
	return tree_ops(s)->runs_failing(s, n, e);
}

bool store_conflicts_list(struct store *s, size_t max,
			  struct conflict_info **out, size_t *n, struct err *e)
{
	return tree_ops(s)->conflicts_list(s, max, out, n, e);
}

bool store_conflicts_count(struct store *s, long *n, struct err *e)
{
	return tree_ops(s)->conflicts_count(s, n, e);
}

bool store_conflicts_resolve(struct store *s, int64_t id, long *n,
			     struct err *e)
{
	return tree_ops(s)->conflicts_resolve(s, id, n, e);
}

bool store_events_unconsumed(struct store *s, long *n, struct err *e)
{
	return tree_ops(s)->events_unconsumed(s, n, e);
}

bool store_story_counts(struct store *s, store_count_fn fn, void *ctx,
			struct err *e)
{
	return tree_ops(s)->story_counts(s, fn, ctx, e);
}

bool store_rows_pending(struct store *s, store_count_fn fn, void *ctx,
			struct err *e)
{
	return tree_ops(s)->rows_pending(s, fn, ctx, e);
}

bool store_prune(struct store *s, const struct config_retention *r,
		 struct prune_counts *out, struct err *e)
{
	return tree_ops(s)->prune(s, r, out, e);
}

bool store_conflict_get(struct store *s, int64_t id, struct conflict_info *out,
			bool *found, struct err *e)
{
	return tree_ops(s)->conflict_get(s, id, out, found, e);
}

bool store_tree_claim(struct store *s, const char *host, const char *path,
		      bool take_over, char **holder, bool *moved, struct err *e)
{
	return tree_ops(s)->tree_claim(s, host, path, take_over, holder, moved,
				       e);
}

bool store_tree_other(struct store *s, const char *host, const char *path,
		      char **name, struct err *e)
{
	return tree_ops(s)->tree_other(s, host, path, name, e);
}

bool store_tree_release(struct store *s, const char *host, const char *path,
			struct err *e)
{
	return tree_ops(s)->tree_release(s, host, path, e);
}

bool store_trees_list(struct store *s, struct tree_info **out, size_t *n,
		      struct err *e)
{
	return tree_ops(s)->trees_list(s, out, n, e);
}
