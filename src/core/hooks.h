#ifndef STORYSYNC_CORE_HOOKS_H
#define STORYSYNC_CORE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/*
 * Installs and removes storysync's git hooks in a hooks directory (from
 * gitrepo_hooks_dir). Each hook is a small script marked by the line
 * "# storysync hook" that runs the shared helper storysync-hook, installed
 * beside it. A hook already there that is not ours is kept as
 * <name>.storysync-chained, and ours runs it first with the same arguments
 * and standard input.
 */

/* The hooks installed, in this order. */
enum { HOOKS_COUNT = 4 };
extern const char *const hooks_names[HOOKS_COUNT];

/* The helper every hook runs; installed and removed with them. */
#define HOOKS_HELPER "storysync-hook"
/* The suffix of a replaced hook kept for chaining. */
#define HOOKS_CHAINED_SUFFIX ".storysync-chained"

/* What happened to one hook. */
enum hooks_action {
	HOOKS_UNCHANGED, /* ours already, same content: nothing done */
	HOOKS_INSTALLED, /* there was none: ours installed */
	HOOKS_CHAINED,   /* another hook was there: kept, ours runs it first */
	HOOKS_UPDATED,   /* ours, older content: replaced */
	HOOKS_REMOVED,   /* uninstall: ours removed, nothing to restore */
	HOOKS_RESTORED,  /* uninstall: ours removed, the chained one back */
	HOOKS_ABSENT,    /* uninstall: none of ours there */
	HOOKS_FOREIGN,   /* uninstall: not ours; left alone */
	HOOKS_KEPT,      /* uninstall: ours, kept for the other trees */
};

/* Copies the hooks and the helper from src_dir (the source tree's hooks/ or
 * the installed share directory) into hooks_dir (created if missing) with
 * mode 0755, chaining any foreign hook; idempotent. actions (may be NULL)
 * receives what happened per hooks_names entry. Errors: "PATH: <strerror>"
 * for a file that cannot be read or written (a missing source included);
 * "DIR/NAME: not a storysync hook, and DIR/NAME.storysync-chained already
 * exists" when chaining would lose a hook; "DIR/storysync-hook: exists and
 * is not storysync's" for a foreign file in the helper's place. */
bool hooks_install(const char *hooks_dir, const char *src_dir,
		   enum hooks_action actions[HOOKS_COUNT], struct err *e);

/* Removes our hooks and the helper from hooks_dir and renames each chained
 * hook back to its name; a foreign hook is left alone; idempotent. */
bool hooks_uninstall(const char *hooks_dir,
		     enum hooks_action actions[HOOKS_COUNT], struct err *e);

/* The list, beside the hooks, of the story trees they sync: one
 * configuration file a line, relative to the top of the work tree (where
 * git runs hooks, in every worktree). */
#define HOOKS_TREES "storysync-trees"

/* Adds config (a path relative to the work tree's top, no newline) to
 * hooks_dir's list, written atomically; *added false when it was there. */
bool hooks_add_tree(const char *hooks_dir, const char *config, bool *added,
		    struct err *e);
/* Removes config from the list; *left gets how many trees stay listed (the
 * list file goes with the last). */
bool hooks_remove_tree(const char *hooks_dir, const char *config, size_t *left,
		       struct err *e);

/* True when the file at path is one of our hooks (has the marker line). */
bool hooks_is_ours(const char *path);

/* A short English phrase for an action ("installed", "chained the existing
 * hook", ...), for the command layer. */
const char *hooks_action_str(enum hooks_action a);

#endif
