#ifndef STORYSYNC_CORE_SYNC_H
#define STORYSYNC_CORE_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "report.h"

struct store;

/*
 * One run: detect -> plan -> apply. The core never prints: every change and
 * every problem goes to the report's handlers, which the command layer set.
 */

enum sync_mode { SYNC_SCAN, SYNC_FULL, SYNC_GIT };

struct sync_options {
	enum sync_mode mode;
	bool dry_run;
	bool force;            /* go past the guards */
	char *const *backlogs; /* --backlog: sync only these (names), or */
	size_t nbacklogs;      /* 0: every backlog */
	int wait_s; /* for the lock and the API's writer: < 0 not for the
		       lock (the configuration's busy_wait for the writer),
		       0 forever, > 0 seconds */
};

/* What ended the run, mapped to an exit code by the command layer. */
enum sync_status {
	SYNC_OK,      /* 0 */
	SYNC_SKIPPED, /* 1: done, some stories skipped for errors */
	SYNC_USAGE,   /* 2: nothing to sync here (a bare repository, no
			 database) */
	SYNC_FATAL,   /* 3: nothing committed */
	SYNC_GUARDED, /* 4: refused by a guard, nothing written */
	SYNC_LOCKED,  /* 75: another run holds the lock */
	SYNC_BUSY,    /* 75: the API's writer held the database past the
			 wait: nothing committed, try later */
};

/* Creates the database (and its directory) if missing, migrates it,
 * registers this checkout as the one that syncs the tree (c->tree), and
 * records the configured backlogs: what init does beside the config file.
 * Another checkout's tree is refused (*refused, e naming it), unless
 * take_over moves it here (*moved). A database directory of its own gets
 * a .gitignore of "*" (*ignored set when this call wrote it). *version
 * gets the schema version. */
bool sync_init(const struct config *c, bool take_over, int *version,
	       bool *ignored, bool *refused, bool *moved, struct err *e);
/* For a command other than sync that writes the tree's database
 * (conflicts --resolve, history --backfill), on s opened with c's tree
 * set: false with *refused and e, as a run is refused (exit 4), when
 * another checkout holds the tree or this one syncs another tree (a
 * renamed tree:); a database inside the tree goes with it, as a run
 * takes a copy's checkout over. Registers nothing. */
bool sync_checkout_check(struct store *s, const struct config *c, bool *refused,
			 struct err *e);
/* This machine's name, as a checkout is registered with. */
void sync_host(char *out, size_t size);

/* Runs one sync of the configured tree, whose database init made (else
 * SYNC_USAGE). e holds the fatal or guard message. A run with nothing to do
 * writes nothing to the database; every run but a dry run or a locked one
 * updates the run record (runrecord.h). A dry run takes no lock and opens the
 * database read-only. */
enum sync_status sync_run(const struct config *c, const struct sync_options *o,
			  const struct sync_report *r, struct sync_counts *n,
			  struct err *e);

#endif
