/*
 * The versions of the configuration git committed between the last run
 * and this one: renames made in several commits between two runs are
 * followed through each (model seed 723). Each version is read from git,
 * never from the work tree, as attacker-controlled text: its size checked
 * before it is read, parsed by the configuration's own parser, and only
 * its stages' and backlogs' names and directories kept, which are
 * compared as strings; the paths a run writes are always the
 * configuration's now.
 */
#include "reconcile.h"

#include <stdlib.h>
#include <string.h>

#include "blobid.h"
#include "buf.h"
#include "githead.h"
#include "gitrepo.h"
#include "json.h"
#include "mem.h"
#include "seam.h"

/* The largest version read: a configuration file's own limit. */
#define VERSION_LIMIT (1024 * 1024)

struct versions {
	const struct config *c;
	struct reconcile_version *v;
	size_t n;
	size_t seen; /* versions read, parsed or not */
	bool over;   /* more versions, stages or backlogs than are followed */
};

static bool on_version(void *ctx, const char *text, size_t len)
{
	struct versions *k = ctx;
	struct reconcile_version *rv;
	struct config old;
	struct err e;

	if (k->seen++ >= RECONCILE_HISTORY_VERSIONS) {
		k->over = true;
		return false;
	}
	/* absent, too large, or not a configuration: nothing to follow */
	if (!text || !config_load_version(&old, k->c->file, text, len, &e))
		return true;
	/* more stages or backlogs than any configuration needs: the names'
	 * work is bounded, the history not followed (refused by name,
	 * nothing lost) */
	if (old.nstages > RECONCILE_HISTORY_STAGES ||
	    old.nbacklogs > RECONCILE_HISTORY_BACKLOGS) {
		config_finish(&old);
		k->over = true;
		return false;
	}
	k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
	rv = &k->v[k->n++];
	rv->stages = xcalloc(old.nstages + 1, sizeof(*rv->stages));
	for (size_t i = 0; i < old.nstages; i++)
		rv->stages[i] = (struct config_stage){
			xstrdup(old.stages[i].status),
			xstrdup(old.stages[i].dir), old.stages[i].archive};
	rv->nstages = old.nstages;
	rv->backlogs = xcalloc(old.nbacklogs + 1, sizeof(*rv->backlogs));
	for (size_t i = 0; i < old.nbacklogs; i++)
		rv->backlogs[i] =
			(struct config_backlog){xstrdup(old.backlogs[i].name),
						xstrdup(old.backlogs[i].path)};
	rv->nbacklogs = old.nbacklogs;
	config_finish(&old);
	return true;
}

static void versions_free(struct reconcile_version *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < v[i].nstages; j++) {
			free(v[i].stages[j].status);
			free(v[i].stages[j].dir);
		}
		free(v[i].stages);
		for (size_t j = 0; j < v[i].nbacklogs; j++) {
			free(v[i].backlogs[j].name);
			free(v[i].backlogs[j].path);
		}
		free(v[i].backlogs);
	}
	free(v);
}

void reconcile_history(struct reconcile *r, const char *since)
{
	struct versions k = {.c = r->c};
	struct gitrepo *repo;
	const char *base = strrchr(r->c->file, '/');
	char *prefix = NULL, *path;
	char head[GITHEAD_HEX];
	bool found = false, ok;

	r->history_read = true;
	/* HEAD still the last synced commit: no version in between, and no
	 * libgit2 to load to say so */
	if (!since || !*since ||
	    (githead_read(r->c->root, head) && strcmp(head, since) == 0))
		return;
	test_seam_stop("history-head"); /* where a test resets HEAD */
	repo = gitrepo_open(r->c->root, NULL);
	if (!repo || !gitrepo_prefix(repo, r->c->root, &prefix, NULL)) {
		gitrepo_destroy(repo);
		return;
	}
	base = base ? base + 1 : r->c->file;
	path = *prefix ? xasprintf("%s/%s", prefix, base) : xstrdup(base);
	/* from the HEAD read above, not HEAD again: a reset in between
	 * would have the versions of one commit kept as another's */
	ok = gitrepo_path_versions(repo, path, head, since,
				   RECONCILE_HISTORY_COMMITS, VERSION_LIMIT,
				   on_version, &k, &found, NULL);
	/* every version read, or too many: the same commits give the same */
	if (ok || k.over)
		memcpy(r->history_head, head, sizeof(head));
	if (ok && found && !k.over) {
		r->history = k.v;
		r->nhistory = k.n;
	} else {
		versions_free(k.v, k.n);
	}
	free(path);
	free(prefix);
	gitrepo_destroy(repo);
}

void reconcile_history_finish(struct reconcile *r)
{
	versions_free(r->history, r->nhistory);
	r->history = NULL;
	r->nhistory = 0;
}

/* What the names are followed to, and from where: the configuration's
 * file, stages and backlogs (in the late read, the record's equal them)
 * and whether statuses follow, as a SHA-1 in hex. */
static void plan_digest(const struct reconcile *r, char out[BLOBID_HEX])
{
	const struct config *c = r->c;
	struct buf b = BUF_INIT;

	buf_add(&b, c->file, strlen(c->file) + 1);
	buf_putc(&b, r->statuses ? 's' : '-');
	for (size_t i = 0; i < c->nstages; i++) {
		buf_add(&b, c->stages[i].status,
			strlen(c->stages[i].status) + 1);
		buf_add(&b, c->stages[i].dir, strlen(c->stages[i].dir) + 1);
	}
	buf_putc(&b, '\n'); /* no name holds one */
	for (size_t i = 0; i < c->nbacklogs; i++) {
		buf_add(&b, c->backlogs[i].name,
			strlen(c->backlogs[i].name) + 1);
		buf_add(&b, c->backlogs[i].path,
			strlen(c->backlogs[i].path) + 1);
	}
	sha1_hex(b.data, b.len, out);
	buf_finish(&b);
}

static bool in_strv(char *const *v, const char *s)
{
	for (size_t i = 0; v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool reconcile_history_spared(const struct reconcile *r, struct store *s,
			      const char *since, char *const *names,
			      bool *spared, struct err *e)
{
	char head[GITHEAD_HEX], digest[BLOBID_HEX];
	char *value = NULL, **v = NULL;
	size_t n = 0;

	*spared = false;
	if (!names || !since || !githead_read(r->c->root, head))
		return true;
	if (!store_meta_get(s, RECONCILE_KEY_UNEXPLAINED, &value, e))
		return false;
	if (!value || !json_parse_string_array(value, &v, &n) || n < 3)
		goto done;
	plan_digest(r, digest);
	if (strcmp(v[0], since) != 0 || strcmp(v[1], head) != 0 ||
	    strcmp(v[2], digest) != 0)
		goto done;
	*spared = true;
	for (size_t i = 0; *spared && names[i]; i++)
		*spared = in_strv(v + 3, names[i]);
done:
	strv_free(v);
	free(value);
	return true;
}

bool reconcile_history_unexplained(const struct reconcile *r, struct store *s,
				   const char *since, char *const *names,
				   struct err *e)
{
	char digest[BLOBID_HEX];
	const char *key[] = {since, r->history_head, digest};
	struct buf b = BUF_INIT;
	bool ok;

	if (!names || !since || !r->history_head[0])
		return true;
	plan_digest(r, digest);
	buf_putc(&b, '[');
	for (size_t i = 0; i < 3; i++) {
		json_put_string(&b, key[i], strlen(key[i]));
		buf_putc(&b, ',');
	}
	for (size_t i = 0; names[i]; i++) {
		json_put_string(&b, names[i], strlen(names[i]));
		buf_putc(&b, ',');
	}
	b.data[b.len - 1] = ']';
	ok = store_meta_set(s, RECONCILE_KEY_UNEXPLAINED, b.data, e);
	buf_finish(&b);
	return ok;
}
