#ifndef STORYSYNC_CORE_DBHOME_H
#define STORYSYNC_CORE_DBHOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Where the database lives: the database string of the configuration,
 * and the files that go with it, which no database holds: the run lock,
 * the run record (runrecord.c), the errors quiet runs told (told.c) and
 * the write journal (journal.c), the stat cache (statcache.c), the spare
 * inodes of the file writes (fsx.c). For
 * SQLite the database is a file and they lie beside it, DATABASE.lock,
 * .run, .told, .writes, .statcache and .spare/ (a tree other than the default:
 * DATABASE.TREE.lock, ...), where its writers can write. A server's
 * database (a postgresql:// or postgres:// URI, issue 23) has no file
 * here: its files are the checkout's own, ROOT/.storysync/server.lock,
 * .run, .told, .writes and .statcache (.TREE. as above), which init keeps
 * out of git as it does a database's directory. The rest of storysync
 * asks this object, and never takes the database string for a path.
 */
struct dbhome {
	char *database; /* the configuration's string */
	char *shown;    /* the same as messages may show it: a server URI's
			   password masked */
	char *root;     /* the tree's directory: the files below that lie
			   in it are written beneath it (fsx_open_in) */
	char *base;     /* what the files below are named after: the
			   database file, or ROOT/.storysync/server */
	bool server;    /* a server's URI, not a file */
	char *at;       /* "FILE:LINE:COL" of the key that named it, or NULL */
	char *lock;     /* the run lock: flock, never the database itself */
	char *run;      /* the run record */
	char *told;     /* what -q runs told, and when */
	char *writes;   /* the write journal */
	char *cache;    /* the stat cache, the tree's */
	char *spare;    /* a directory of spare inodes for the file writes */
	char *rewrite;  /* the write journal's rewrite, renamed over it */
	char *said;     /* the files a warning of this command said git
			   tracks ("PATH\n" each, or NULL): dbcheck_clear's
			   of a link it removed, not said again */
};

/* One file of the database's place, named for a message. */
struct dbhome_side {
	const char *path;
	const char *what; /* "the run lock", ... */
	bool dir;         /* a directory, not a file */
};

#define DBHOME_SIDES 9

/* h's files into v (DBHOME_SIDES at most), their count: the database
 * first with database (a file's; a server's is none), then the side
 * files, storysync's own, none of which is versioned content. */
size_t dbhome_sides(const struct dbhome *h, bool database,
		    struct dbhome_side *v);

/* Whether database is a server's URI (postgresql://, postgres://), not a
 * file path. */
bool dbhome_is_server(const char *database);
/* database as a message may show it (heap): a URI's password, in its user
 * part or as a password= parameter, replaced by "***". */
char *dbhome_mask(const char *database);
/* The checkout's name for a server database's files: ROOT/.storysync/server
 * (heap). */
char *dbhome_server_base(const char *root);
/* Fills h for database (absolute, or a server's URI), named at at (NULL:
 * the default), for the tree of that name whose configuration is at root:
 * each tree of a database has its own run lock, run record, told errors,
 * write journal and stat cache, DATABASE.TREE.lock and so on; the tree
 * "default" (and NULL) keeps DATABASE.lock, as before trees. */
void dbhome_init(struct dbhome *h, const char *database, const char *at,
		 const char *tree, const char *root);
/* Frees what dbhome_init filled in; a zeroed h is fine. */
void dbhome_finish(struct dbhome *h);

/* Whether the database is there: nothing is made to find out. */
bool dbhome_exists(const struct dbhome *h);
/* The same as a check: false, with e saying that init makes it (and
 * where the configuration named it), when it is not there. */
bool dbhome_need(const struct dbhome *h, struct err *e);
/* Makes the database's place, and the database as an empty file that
 * store_create then fills: init's, the only command that creates one. */
bool dbhome_make(const struct dbhome *h, struct err *e);
/* Keeps the database out of git (a 300 MB file at 100k stories must not
 * ride along with the next "git add -A"): a directory of its own, not
 * the tree's root, gets a .gitignore of "*". A directory it shares with
 * other files is left as it is; *ignored tells which. */
bool dbhome_ignore(const struct dbhome *h, const char *root, bool *ignored,
		   struct err *e);

/* Takes the run lock, as fsx_lock (wait_s < 0: not at all; 0: for as
 * long as it takes): the fd to give dbhome_unlock, -2 when another run
 * holds it, or -1; e set either way. */
int dbhome_lock(const struct dbhome *h, int wait_s, struct err *e);
/* Whether another process holds the run lock now (a check, not a take). */
bool dbhome_lock_held(const struct dbhome *h);
/* Releases what dbhome_lock took; < 0 is fine. */
void dbhome_unlock(int fd);

/* The directory the database and its files are written in (heap): the
 * one this user must be able to write. */
char *dbhome_dir(const struct dbhome *h);
/* Whether this user owns the database. */
bool dbhome_owned(const struct dbhome *h);

/* A version of the database as a whole: a reader that read it while it
 * changed compares the one before with the one after. */
struct dbhome_version {
	uint64_t ino;
	int64_t size, mtime_ns;
};
/* The version now; false when it cannot be known. */
bool dbhome_version(const struct dbhome *h, struct dbhome_version *v);
/* Whether a and b are the same version. */
bool dbhome_same_version(const struct dbhome_version *a,
			 const struct dbhome_version *b);

/* Which file the database is: SQLite writes a database in place and never
 * makes another file of it, but git does (a checkout, a merge, a reset of
 * a commit that tracks it unlinks the ignored file and writes its own),
 * and so do a restore and a copy. The inode alone does not tell: ext4
 * gives git's new file the inode just freed; its birth time differs. The
 * tree root's device and inode tell a copy of the whole tree. */
struct dbhome_file {
	uint64_t dev, ino;
	int64_t born_ns;   /* birth time (statx), 0 where none is kept */
	uint64_t root_dev; /* the tree root's */
	uint64_t root_ino;
};
/* The database file's now, with root's (the tree's); false for a
 * server's database, or when either cannot be stat'ed. */
bool dbhome_file(const struct dbhome *h, const char *root,
		 struct dbhome_file *f);
/* Whether a and b are one database file in one tree: the inode and birth
 * time, the device only where there is no birth time (a device number
 * may change when a file system is mounted again). */
bool dbhome_same_file(const struct dbhome_file *a, const struct dbhome_file *b);
/* Whether a and b are of one tree root (else the tree was copied or
 * moved, its database with it). */
bool dbhome_same_root(const struct dbhome_file *a, const struct dbhome_file *b);

#endif
