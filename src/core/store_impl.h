#ifndef STORYSYNC_CORE_STORE_IMPL_H
#define STORYSYNC_CORE_STORE_IMPL_H

#include <stdbool.h>

#include "err.h"
#include "store.h"

/*
 * The store module's own header: what a backend is. store.h is the one
 * interface the rest of storysync sees; store.c selects a backend by the
 * database string (store_open) and hands each call to the backend's
 * operations. A backend is a struct store_ops and its own struct store,
 * which begins with a struct store_base; its SQL, its schema and its
 * migrations stay in its own files, and only they include its library.
 *
 * The module is layered: a file calls only the layers below it (and its
 * own), never one above.
 *
 *   store.c                 the interface: the backend chosen at open, the
 *                           calls handed to it
 *   store_sqlite*.c         SQLite's backend, in the layers that
 *                           store_sqlite.h lists (db, schema, txn,
 *                           record; state, story, config, check; open)
 *   store_pg*.c             PostgreSQL's (issue 23), beside it, in the
 *                           layers store_pg.h lists, claiming the
 *                           postgresql:// and postgres:// URIs
 *
 *   store_result.c          what the calls return, freed: the bottom
 *                           layer, which store.c's callers and the
 *                           backends both use
 *
 * Nothing below store.c calls it back, and no backend calls another.
 */

struct store_ops;

/* The first member of every backend's struct store. */
struct store_base {
	const struct store_ops *ops;
	/* the tree the store is about (store_set_tree; NULL: the default),
	 * which every query of the backend filters by: read it with
	 * store_base_tree */
	char *tree;
	bool used;           /* a call was made: the tree is set for good */
	bool commit_unknown; /* store_commit_unknown: the backend sets it */
};

/* The tree s is about, never NULL. */
const char *store_base_tree(const struct store *s);
/* store_set_server_wait's, in ms, for a backend that opens a server's
 * connection. */
int store_base_server_wait(void);

/* One backend: the name it is known by, the database strings it takes,
 * its constructor, and an operation for each of store.h's functions on an
 * open store (same name without "store_", same contract). */
struct store_ops {
	const char *name;
	/* Whether database (the configuration's string) is this backend's. */
	bool (*claims)(const char *database);
	/* Opens database, creating it when create is set; as store_open_as. */
	bool (*open)(struct store **out, const char *database, int busy_ms,
		     bool read_only, bool create, bool *busy, struct err *e);
	void (*close)(struct store *s);
	int (*schema_version)(const struct store *s);
	void (*set_busy_timeout)(struct store *s, int ms);
	bool (*busy)(const struct store *s);
	bool (*begin)(struct store *s, struct err *e);
	bool (*begin_read)(struct store *s, struct err *e);
	bool (*commit)(struct store *s, struct err *e);
	void (*rollback)(struct store *s);
	/* NULL: nothing to do (see store_lock_stories) */
	bool (*lock_stories)(struct store *s, char *const *ids, size_t n,
			     struct err *e);
	bool (*unit_begin)(struct store *s, struct err *e);
	bool (*unit_end)(struct store *s, bool keep, struct err *e);
	bool (*refused)(const struct store *s); /* NULL: never */
	bool (*is_empty)(struct store *s);
	bool (*bulk)(struct store *s, bool on, struct err *e);
	bool (*state_load)(struct store *s, struct state_table *t,
			   struct err *e);
	bool (*state_find)(struct store *s, const char *path, const char *id,
			   struct state_table *t, struct err *e);
	bool (*state_count)(struct store *s, size_t *n, struct err *e);
	bool (*state_base)(struct store *s, const char *id, struct story *base,
			   char *mirror[SM_COUNT], bool *mirror_known,
			   bool *found, struct err *e);
	bool (*state_put)(struct store *s, const struct state_entry *se,
			  const struct story *base, char *const *mirror,
			  struct err *e);
	bool (*state_restat)(struct store *s, const struct state_entry *se,
			     struct err *e);
	bool (*state_delete)(struct store *s, const char *id, struct err *e);
	/* NULL: the backend keeps no deleted files (see store_deleted_put) */
	bool (*deleted_put)(struct store *s, const struct deleted_file *d,
			    struct err *e);
	bool (*deleted_get)(struct store *s, const char *path, const char *id,
			    struct deleted_file *out, bool *found,
			    struct err *e);
	/* NULL: no archive read (see store_archived_get) */
	bool (*archived_get)(struct store *s, const char *id, struct story *out,
			     bool *found, struct err *e);
	bool (*story_get)(struct store *s, const char *id, struct story *out,
			  int64_t *rev, char **path, bool *found,
			  struct err *e);
	bool (*story_put)(struct store *s, const struct story *st,
			  const char *path, int64_t *rev, struct err *e);
	bool (*story_set_path)(struct store *s, const char *id,
			       const char *path, int64_t *rev, struct err *e);
	bool (*story_delete)(struct store *s, const char *id, struct err *e);
	bool (*changes)(struct store *s, int64_t mark, bool all,
			struct db_change **out, size_t *n, struct err *e);
	bool (*changes_plan)(struct store *s, char **plan, struct err *e);
	bool (*mark_get)(struct store *s, int64_t *mark, struct err *e);
	bool (*mark_set)(struct store *s, struct err *e);
	bool (*clock_moved)(struct store *s, bool *moved, struct err *e);
	bool (*meta_get)(struct store *s, const char *key, char **value,
			 struct err *e);
	bool (*meta_set)(struct store *s, const char *key, const char *value,
			 struct err *e);
	bool (*backlogs_sync)(struct store *s, const struct config *c,
			      struct err *e);
	bool (*config_get)(struct store *s, struct config_record *r,
			   struct err *e);
	bool (*config_put)(struct store *s, const struct config *c,
			   char *const *former_status,
			   char *const *former_backlog, struct err *e);
	bool (*locations)(struct store *s, store_location_fn fn, void *ctx,
			  struct err *e);
	bool (*story_relocate)(struct store *s, const char *id,
			       const char *backlog, const char *status,
			       const char *path, bool agreed, int64_t *rev,
			       struct err *e);
	bool (*base_relocate)(struct store *s, const char *id,
			      const char *backlog, const char *status,
			      const char *path, struct err *e);
	bool (*state_relocate)(struct store *s, const char *id,
			       const char *path, struct err *e);
	bool (*history_add)(struct store *s, const struct history_row *h,
			    struct err *e);
	bool (*event_add)(struct store *s, const char *story_id,
			  const char *change, const char *origin,
			  int64_t run_id, struct err *e);
	bool (*conflict_add)(struct store *s, const struct conflict_row *c,
			     struct err *e);
	bool (*run_add)(struct store *s, const struct run_record *r,
			int64_t *id, struct err *e);
	bool (*run_update)(struct store *s, int64_t id,
			   const struct run_record *r, struct err *e);
	bool (*story_path)(struct store *s, const char *id, char **path,
			   bool *found, struct err *e);
	bool (*story_forget)(struct store *s, const char *id, struct err *e);
	bool (*story_id_by_path)(struct store *s, const char *path, char **id,
				 struct err *e);
	bool (*history_has_git)(struct store *s, const char *story_id,
				const char *commit_id, const char *to_status,
				bool *yes, struct err *e);
	bool (*history_credits)(struct store *s, const char *story_id,
				const char *from, const char *to,
				struct history_credit **v, size_t *n,
				struct err *e);
	bool (*history_recredit)(struct store *s, int64_t id,
				 const struct history_row *h, struct err *e);
	bool (*history_of)(struct store *s, const char *story_id,
			   struct history_entry **v, size_t *n, bool *known,
			   struct err *e);
	bool (*check)(struct store *s, store_check_fn fn, void *ctx,
		      struct err *e);
	bool (*runs_last)(struct store *s, size_t max, struct run_row **out,
			  size_t *n, struct err *e);
	bool (*runs_failing)(struct store *s, long *n, struct err *e);
	bool (*conflicts_list)(struct store *s, size_t max,
			       struct conflict_info **out, size_t *n,
			       struct err *e);
	bool (*conflicts_count)(struct store *s, long *n, struct err *e);
	bool (*conflicts_resolve)(struct store *s, int64_t id, long *n,
				  struct err *e);
	bool (*events_unconsumed)(struct store *s, long *n, struct err *e);
	bool (*story_counts)(struct store *s, store_count_fn fn, void *ctx,
			     struct err *e);
	bool (*rows_pending)(struct store *s, store_count_fn fn, void *ctx,
			     struct err *e);
	bool (*prune)(struct store *s, const struct config_retention *r,
		      struct prune_counts *out, struct err *e);
	bool (*conflict_get)(struct store *s, int64_t id,
			     struct conflict_info *out, bool *found,
			     struct err *e);
	bool (*tree_claim)(struct store *s, const char *host, const char *path,
			   bool take_over, char **holder, bool *moved,
			   struct err *e);
	bool (*tree_other)(struct store *s, const char *host, const char *path,
			   char **name, struct err *e);
	bool (*tree_release)(struct store *s, const char *host,
			     const char *path, struct err *e);
	bool (*trees_list)(struct store *s, struct tree_info **out, size_t *n,
			   struct err *e);
};

/* The digest of n values (NULL is a value of its own), as SQLite's
 * storysync_digest computes it in SQL (store_result.c). */
int64_t store_digest(const char *const *v, int n);
/* The digest of story s at path as sync_state keeps it: the fields before
 * parent, the path, then the parent unless it is NULL. */
int64_t store_story_digest(const struct story *s, const char *path);

/* What both backends keep alike (store_result.c). The sync_meta keys of
 * the configuration record (the backlogs are their own table). */
#define KEY_STAGES         "config.stages"
#define KEY_STATUS_FROM    "config.status_from"
#define KEY_FORMER_STATUS  "config.former_status"
#define KEY_FORMER_BACKLOG "config.former_backlog"
/* The NULL-terminated vector of an even number of strings of the JSON
 * array v (heap); an empty one when v is NULL or not such an array (a
 * record that cannot be read is as none: the run records it anew). */
char **store_meta_pairs(const char *v);

/* The backends there are (store.c asks each in turn). */
extern const struct store_ops store_sqlite_ops; /* store_sqlite.c */
extern const struct store_ops store_pg_ops;     /* store_pg.c, when built */

#endif
