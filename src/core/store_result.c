/* store_result.c: what the store's calls return, freed; the bottom layer,
 * below store.c and every backend, which free with it too. */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "strmap.h"

void config_record_finish(struct config_record *r)
{
	for (size_t i = 0; i < r->nbacklogs; i++) {
		free(r->backlogs[i].name);
		free(r->backlogs[i].path);
	}
	free(r->backlogs);
	for (size_t i = 0; i < r->nstages; i++) {
		free(r->stages[i].status);
		free(r->stages[i].dir);
	}
	free(r->stages);
	strv_free(r->former_status);
	strv_free(r->former_backlog);
	memset(r, 0, sizeof(*r));
}

void deleted_file_finish(struct deleted_file *d)
{
	free(d->id);
	free(d->path);
	memset(d, 0, sizeof(*d));
}

void store_conflicts_free(struct conflict_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_conflict_info_finish(&v[i]);
	free(v);
}

void store_runs_free(struct run_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].started);
		free(v[i].ended);
		free(v[i].mode);
		free(v[i].messages);
	}
	free(v);
}

void store_conflict_info_finish(struct conflict_info *c)
{
	free(c->story_id);
	free(c->at);
	free(c->kind);
	free(c->kept);
	free(c->fields);
	free(c->lost);
	free(c->resolved);
	free(c->policy);
	memset(c, 0, sizeof(*c));
}

void store_history_free(struct history_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].at);
		free(v[i].from);
		free(v[i].to);
		free(v[i].origin);
		free(v[i].commit);
		free(v[i].author);
	}
	free(v);
}

void state_table_finish(struct state_table *t)
{
	free(t->v);
	arena_finish(&t->strings);
	memset(t, 0, sizeof(*t));
}

void store_changes_free(struct db_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

void store_trees_free(struct tree_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].host);
		free(v[i].path);
		free(v[i].last_run);
	}
	free(v);
}

/* ---- the digest sync_state keeps, which every backend computes alike ---- */

int64_t store_digest(const char *const *v, int n)
{
	uint64_t h = (uint64_t)n;

	for (int i = 0; i < n; i++) {
		/* NULL is not "": an absent field is a change from an empty
		 * one */
		h = (h ^ (v[i] ? strmap_hash(v[i]) : 0x6a09e667f3bcc909ULL)) *
		    0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	return (int64_t)h;
}

int64_t store_story_digest(const struct story *s, const char *path)
{
	const char *v[SF_COUNT + 1];

	memcpy(v, s->v, SF_PARENT * sizeof(*v));
	v[SF_PARENT] = path;
	v[SF_PARENT + 1] = s->v[SF_PARENT];
	return store_digest(v, SF_PARENT + 1 + (s->v[SF_PARENT] != NULL));
}

char **store_meta_pairs(const char *v)
{
	char **out = NULL;
	size_t n = 0;

	if (v && (!json_parse_string_array(v, &out, &n) || n % 2)) {
		strv_free(out);
		out = NULL;
	}
	return out ? out : xcalloc(1, sizeof(char *));
}
