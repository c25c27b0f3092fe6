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

#include "githead.h"
#include "gitrepo.h"
#include "mem.h"

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
	repo = gitrepo_open(r->c->root, NULL);
	if (!repo || !gitrepo_prefix(repo, r->c->root, &prefix, NULL)) {
		gitrepo_destroy(repo);
		return;
	}
	base = base ? base + 1 : r->c->file;
	path = *prefix ? xasprintf("%s/%s", prefix, base) : xstrdup(base);
	ok = gitrepo_path_versions(repo, path, since, RECONCILE_HISTORY_COMMITS,
				   VERSION_LIMIT, on_version, &k, &found, NULL);
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
