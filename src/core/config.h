#ifndef STORYSYNC_CORE_CONFIG_H
#define STORYSYNC_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "dbhome.h"
#include "err.h"
#include "gitindex.h"
#include "story.h"

#define CONFIG_FILE_NAME ".storysync.yml"
/* Beside it, this machine's settings: git must not track it. */
#define CONFIG_LOCAL_FILE_NAME ".storysync.local.yml"

struct config_backlog {
	char *name;
	char *path; /* relative to the config root, normalised, no trailing / */
};

struct config_stage {
	char *status; /* "refinement" */
	char *dir;    /* "refinements" */
	bool archive; /* archive_stages: names it: its copy of an id a live
			 stage holds is a shadow, skipped */
};

struct config {
	char *file;         /* absolute path of the configuration file */
	char *local;        /* absolute path of its untracked companion when
			       there is one (.storysync.local.yml), else NULL */
	char *root;         /* absolute path of its directory */
	char *tree;         /* tree: this tree's name in the database
			       (CONFIG_TREE_DEFAULT when not set) */
	char *database;     /* absolute path of the database file */
	char *database_at;  /* "FILE:LINE:COL" of the database: key that named
			       it, or NULL for the default */
	struct dbhome home; /* where the database lives, and its files */
	/* git's index as the load found it not listing the companion
	 * (check_local): from the run record when that index is unchanged,
	 * else from the read; a run records it (runrecord.h) */
	struct gitindex_stamp local_none;
	struct config_backlog *backlogs; /* in file order; one "default" at "."
					    when none is configured */
	size_t nbacklogs;
	struct config_stage *stages; /* in lifecycle order */
	size_t nstages;
	bool git_commit;       /* git: {commit: true} */
	char *git_author_name; /* git: {author: "Name <mail>"}, or NULL */
	char *git_author_email;
	/* how the tree writes its stories (keys:, status_from:, statuses:,
	   file_name:); its strings live in the fields below */
	struct story_dialect dialect;
	char *keys[SF_COUNT]; /* keys: column: key, NULL for the default */
	char **statuses;      /* statuses: (status_from: key only) */
	size_t nstatuses;
	char *file_name;      /* file_name:, NULL for the default */
	char *new_file;       /* new_file:, ending in '\n', or NULL */
	char *new_file_extra; /* its keys as a JSON object, or NULL */
	const struct config_stage *create_in; /* create_in: the stage of a
						 story the API creates when
						 its status names none */
	size_t max_file_size; /* max_file_size: bytes; a larger file is refused
				unread */
	char **ignore;        /* ignore: globs of paths that are not stories */
	size_t nignore;
	char **archive_stages; /* archive_stages: as written (the stages'
				  archive flags say it once resolved) */
	size_t narchive_stages;
	char **key_order; /* key_order: a new file's keys first, in this
			     order (the dialect has them) */
	size_t nkey_order;
	/* conflict policy: who wins a field both sides changed */
	struct config_policy_rule {
		char *backlog; /* NULL: every backlog (policy:) */
		int field;     /* enum story_field */
		bool db;       /* the database wins it, else the file */
	} * policy;
	size_t npolicy;
	/* running unattended */
	int busy_wait_s;          /* busy_wait: how long a run waits for
				     the API's write transaction */
	int server_wait_s;        /* server_wait: and for a server that
				     does not answer, beyond that */
	struct config_retention { /* retention: what a run prunes; 0 keeps */
		int days;         /* runs, consumed events, resolved
				     conflicts older than this */
		int runs;         /* at most this many runs */
		int deleted_days; /* deleted-story archives */
	} retention;
	int stale_after_s;    /* stale_after: status's "stale" */
	char *log;            /* log: "syslog", "none" or a file path
				 (absolute); NULL: syslog unless at a
				 terminal */
	char *metrics_file;   /* metrics_file: absolute, or NULL */
	char *notify;         /* notify: a shell command, or NULL */
	int notify_timeout_s; /* notify_timeout */
	/* allow_other_users: true: users other than the owner of the tree's
	 * directory may write it (untracked files only); counted only when
	 * the file that says so, allowed_by, is the running user's or
	 * root's (owner.h) */
	bool allow_other_users;
	char *allowed_by;
};

/* A tree's name when tree: names none: every database before trees. */
#define CONFIG_TREE_DEFAULT "default"

/* The defaults of the keys for running unattended (storysync.yml(5)). */
#define CONFIG_BUSY_WAIT_DEFAULT              5  /* seconds */
#define CONFIG_SERVER_WAIT_DEFAULT            60 /* seconds */
#define CONFIG_RETENTION_DAYS_DEFAULT         90
#define CONFIG_RETENTION_RUNS_DEFAULT         10000
#define CONFIG_RETENTION_DELETED_DAYS_DEFAULT 365
#define CONFIG_STALE_AFTER_DEFAULT            600 /* seconds */
#define CONFIG_NOTIFY_TIMEOUT_DEFAULT         10  /* seconds */

/* Fills db_wins (SF_COUNT) with the fields the database wins in backlog
 * (NULL: by policy: alone): backlog_policy: first, then policy:, else the
 * file wins. */
void config_db_wins(const struct config *c, const char *backlog,
		    bool db_wins[]);

/* Finds .storysync.yml from dir upwards, as git finds .git. Returns the
 * absolute path (heap) or NULL with e set. */
char *config_find(const char *dir, struct err *e);
/* Reads and validates the file at path and its untracked companion
 * (config_local_path), whose keys replace the same keys of path's. An
 * unknown key or a bad value is an error naming "file:line:col". What runs
 * a command or writes outside the tree (notify, notify_timeout, log,
 * metrics_file, a database outside the tree), or lets another user write
 * it (allow_other_users), is an error in a .storysync.yml, and in any
 * file git tracks; a tracked companion is an
 * error. log and metrics_file may not name the database or its files, a
 * story's place, the configuration, or a path inside .git. */
bool config_load(struct config *c, const char *path, struct err *e);
/* config_load of another version of the file at path: its content text
 * (len bytes, e.g. an old commit's, attacker-controlled like any), read
 * and checked the same way, with the companion as it is now; nothing is
 * run or written. */
bool config_load_version(struct config *c, const char *path, const char *text,
			 size_t len, struct err *e);
/* The untracked companion of the configuration file at path (heap):
 * NAME.local.yml beside NAME.yml (.storysync.local.yml beside
 * .storysync.yml); NULL when path is not a .yml or .yaml file, or is a
 * companion itself. */
char *config_local_path(const char *path);
/* Frees everything in c. */
void config_finish(struct config *c);
/* Keeps the untracked companion out of git: a line "/NAME.local.yml" in
 * the .gitignore beside the configuration, added (*added) unless that line
 * is there. */
bool config_ignore_local(const struct config *c, bool *added, struct err *e);
/* Writes a default configuration file at path unless it exists. */
bool config_write_default(const char *path, struct err *e);
/* The Backlog.md project's own configuration, beside a config file in dir:
 * "backlog/config.yml" when that exists, else NULL. */
char *config_backlog_md(const char *dir);
/* Writes at path (unless it exists) the configuration that adopts the
 * Backlog.md project whose config.yml is bmd (its folder a backlog named
 * "main", the status from the status: key, its statuses and key names and
 * file names); *written false when path was there already. */
bool config_write_backlog_md(const char *path, const char *bmd, bool *written,
			     struct err *e);
/* The backlog with that name, or NULL. */
const struct config_backlog *config_backlog(const struct config *c,
					    const char *name);
/* The directory of stage st of backlog b, relative to the config root
 * (heap): "BACKLOG/STAGE", without the "." of either ("." when both are
 * "."). */
char *config_stage_path(const struct config_backlog *b,
			const struct config_stage *st);
/* The stage inside st whose directory an epic directory named epic in st
 * would be (or lie on the way to), or NULL: such an epic cannot be. */
const struct config_stage *config_epic_stage(const struct config *c,
					     const struct config_stage *st,
					     const char *epic);
/* The stage whose directory is dir, or NULL. */
const struct config_stage *config_stage_by_dir(const struct config *c,
					       const char *dir);
/* True when rel (a path from the config root) matches an ignore: glob: a
 * glob without '/' matches the file's name, one with '/' the whole path
 * ('*' stays within a directory). */
bool config_ignored(const struct config *c, const char *rel);
/* The stage of a story with that status: its stage directory when the
 * location is the status; with status_from: key, create_in. NULL when
 * none. */
const struct config_stage *config_stage_for(const struct config *c,
					    const char *status);
/* The stage whose status is status, or NULL. */
const struct config_stage *config_stage_by_status(const struct config *c,
						  const char *status);

#endif
