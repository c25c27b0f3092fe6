#ifndef STORYSYNC_CORE_OWNER_H
#define STORYSYNC_CORE_OWNER_H

#include <stdbool.h>

#include "config.h"
#include "err.h"

/*
 * Whose tree it is. A run by a user who does not own the tree's directory
 * would leave files and folders its owner cannot change (root's, say), and
 * would run the tree's notify command as that user: as git does with
 * safe.directory, a command that writes refuses, unless an untracked
 * configuration file that the running user (or root) owns says
 * allow_other_users: true. The versioned .storysync.yml cannot say so,
 * and neither can a file of the tree's owner: the tree's owner is not who
 * decides what another user runs. What a run does create takes its
 * directory's owner (fsx.c), as far as the system lets it.
 */

/* Whether this user may write the tree of c: it owns the directory, or c
 * allows it in a file of this user's or root's. Else false, with e saying
 * whose the tree is and what to do: run as its owner (User= in the
 * systemd unit), or allow it. */
bool owner_may_write(const struct config *c, struct err *e);

/* The same for init in dir, before a configuration is there: local is
 * the companion file that may allow it (read when it exists). */
bool owner_may_init(const char *dir, const char *local, struct err *e);

#endif
