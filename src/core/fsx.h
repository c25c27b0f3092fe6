#ifndef STORYSYNC_CORE_FSX_H
#define STORYSYNC_CORE_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/*
 * All file system calls: walking, reading, paths beneath a root, atomic
 * writes, the run lock. Paths made from DB values go through here and never
 * leave their root, enter .git, or follow a symlink (openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
 */

/* The stat data the cache compares, as git's index keeps it. */
struct file_stat {
	int64_t mtime_ns;
	int64_t ctime_ns;
	int64_t size;
	uint64_t ino;
	uint32_t mode;
};

/* Fills fs from a struct stat. */
void fsx_stat_from(struct file_stat *fs, const struct stat *st);
/* True when a and b are the same stat data. */
bool fsx_stat_equal(const struct file_stat *a, const struct file_stat *b);

/* What the walker found. */
enum fsx_entry_kind {
	FSX_FILE,
	FSX_SYMLINK,
	FSX_DIR_MD,
	FSX_OTHER,
	FSX_TEMP,       /* a temporary file of fsx_write_atomic's, left by a run
			   that was killed (the walker reports these hidden files) */
	FSX_LINKED_DIR, /* a symlink of any other name that points at a
			   directory, or at nothing reachable: it may stand
			   for a directory of stories (an epic), and is not
			   followed */
};

/* Called for each *.md entry below the walked directory, and each
 * FSX_LINKED_DIR; rel is relative to the walk's root directory; st is the
 * entry's lstat data (NULL for a typed walk's regular file: see
 * fsx_walk_opts). Return false to stop the walk. */
typedef bool (*fsx_walk_fn)(void *ctx, int dirfd, const char *name,
			    const char *rel, enum fsx_entry_kind kind,
			    const struct stat *st);

/* How the walk's own directory was found. */
enum fsx_walk_start {
	FSX_START_WALKED,  /* there, and walked */
	FSX_START_MISSING, /* not there: nothing to walk, no error */
	FSX_START_SYMLINK, /* it, or a directory on the way, is a symlink: not
			followed, nothing walked, no error */
};

/* Walks dir (relative to rootfd, beneath it, through no symlink)
 * recursively, skipping hidden entries and never following symlinks,
 * calling fn for each entry named *.md (files, symlinks, directories) with
 * rel = "dir/sub/x.md", and for each symlink that may stand for a
 * directory (FSX_LINKED_DIR); *start says whether dir was walked. */
bool fsx_walk(int rootfd, const char *dir, fsx_walk_fn fn, void *ctx,
	      enum fsx_walk_start *start, struct err *e);
/* The same, each directory's entries in name order (strcmp), which holds
 * the names of the directories being walked. Rows inserted in that order
 * go into their indexes in order: a first load of 100k stories took a
 * fifth less of the thread that applies. */
bool fsx_walk_sorted(int rootfd, const char *dir, fsx_walk_fn fn, void *ctx,
		     enum fsx_walk_start *start, struct err *e);
/* How fsx_walk_with walks. */
struct fsx_walk_opts {
	bool sorted;              /* as fsx_walk_sorted */
	const char *const *prune; /* directories not entered (relative to
				     rootfd, as rel names them): another
				     stage's, inside this one */
	size_t nprune;
	bool typed; /* a *.md entry that readdir says is a regular file is
		       passed with st NULL, not lstat'ed: for a caller that
		       opens and fstats it anyway (a first load), and
		       stats it (fsx_lstat_at) when that fails, to tell as
		       the walk would have */
	/* called with a *.md entry's rel (and the walk's ctx) before its
	 * lstat, which then hides the fetch of what the caller will look
	 * it up in; NULL: none */
	void (*before)(void *ctx, const char *rel);
};
/* fsx_walk, as o says. */
bool fsx_walk_with(int rootfd, const char *dir, const struct fsx_walk_opts *o,
		   fsx_walk_fn fn, void *ctx, enum fsx_walk_start *start,
		   struct err *e);

/* Calls fn with each regular *.md file below dir (beneath rootfd, through
 * no symlink, hidden entries left out), rel from the root, each
 * directory's in name order; it enters at most depth levels of
 * subdirectories, and none for which enter (NULL: any) says false. What
 * cannot be read is left out: this names files, it judges nothing. */
void fsx_find_md(int rootfd, const char *dir, int depth,
		 bool (*enter)(void *ctx, const char *rel),
		 void (*fn)(void *ctx, const char *rel), void *ctx);

/* lstat of name in dirfd, classified as the walker does; false when it
 * does not exist (or cannot be looked at). */
bool fsx_lstat_at(int dirfd, const char *name, struct stat *st,
		  enum fsx_entry_kind *kind);

/* The largest file fsx reads, by default; fsx_set_read_limit changes it
 * (the configuration's max_file_size). A larger file is refused from its
 * size before a byte is read: a 1 GiB file costs nothing. */
#define FSX_READ_LIMIT_DEFAULT ((size_t)4 << 20)
void fsx_set_read_limit(size_t bytes);

/* Reads the regular file name in dirfd without following a symlink; fills
 * *data (heap, NUL-terminated), *len and *st (from fstat of the open fd). */
bool fsx_read_at(int dirfd, const char *name, char **data, size_t *len,
		 struct file_stat *st, struct err *e);

/* True when name is one safe path component: not empty, ".", "..", or
 * ".git", no '/', NUL or control characters, at most 255 bytes. */
bool fsx_name_ok(const char *name);
/* True when s (a name or a path) is valid UTF-8: what the database and
 * --json can hold. */
bool fsx_name_utf8(const char *s);
/* s for a message: each byte of it that is not valid UTF-8, and each
 * control character, as \xNN (heap). */
char *fsx_name_escaped(const char *s);
/* True when storysync may write name and read it back as the same story:
 * fsx_name_ok, not hidden, no leading '-', no bidirectional controls, line
 * or paragraph separators or BOM, and for a directory (an epic) no ".md"
 * ending, which the scan would take for a story file. */
bool fsx_name_writable(const char *name, bool dir);

/* Opens rel beneath rootfd (openat2, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS). Returns the fd or -1 with errno set. */
int fsx_open_beneath(int rootfd, const char *rel, int flags, mode_t mode);
/* Reads rel beneath rootfd, as fsx_read_at. */
bool fsx_read_beneath(int rootfd, const char *rel, char **data, size_t *len,
		      struct file_stat *st, struct err *e);
/* The directory of the last file fsx_read_cached read: files of one
 * directory, read one after the other, are each opened from it (one name
 * to resolve, not every component of the path from the root); and the
 * buffer each file is read into, one for all of them. */
struct fsx_dir_cache {
	char *dir;  /* relative to the root; NULL: none yet */
	int fd;     /* O_PATH, opened beneath the root; -1 when it failed */
	bool atime; /* O_NOATIME was refused (EPERM: not our files) */
	char *buf;  /* the last file read */
	size_t cap;
};
#define FSX_DIR_CACHE_INIT                                                     \
	{                                                                      \
		NULL, -1, false, NULL, 0                                       \
	}
/* fsx_read_beneath, the file opened from dc's directory when it is rel's
 * (dc then opens rel's); the same errors: a file that does not open
 * from there is opened from the root, as fsx_read_beneath does. *data is
 * dc's buffer, valid until the next read with dc or its finish. */
bool fsx_read_cached(struct fsx_dir_cache *dc, int rootfd, const char *rel,
		     char **data, size_t *len, struct file_stat *st,
		     struct err *e);
/* Closes dc's directory and frees its buffer. */
void fsx_dir_cache_finish(struct fsx_dir_cache *dc);
/* Creates the directories of rel's parent beneath rootfd (mkdir -p). */
bool fsx_mkdirs_beneath(int rootfd, const char *rel, struct err *e);
/* Removes the directory rel beneath rootfd, when it is empty (else false,
 * e says why: ENOTEMPTY for one that is not). */
bool fsx_rmdir_beneath(int rootfd, const char *rel, struct err *e);

/* Writes data atomically to rel beneath rootfd: a temporary file in the same
 * directory, fsync, rename, fsync of the directory. When expect is non-NULL
 * the file must still have that stat data just before the rename, else
 * nothing is written and false is returned with *stale set; when expect is
 * NULL the file must not exist. The old file's mode is kept (new files get
 * 0644 & ~umask). *st receives the new file's stat data. */
bool fsx_write_atomic(int rootfd, const char *rel, const void *data, size_t len,
		      const struct file_stat *expect, struct file_stat *st,
		      bool *stale, struct err *e);
/* Moves from to to beneath rootfd without replacing an existing file,
 * creating to's directories, then fsyncs both directories. */
bool fsx_move_beneath(int rootfd, const char *from, const char *to,
		      struct err *e);
/* Removes rel beneath rootfd if its stat data is still expect (else *stale,
 * and nothing is removed), then fsyncs its directory. */
bool fsx_unlink_beneath(int rootfd, const char *rel,
			const struct file_stat *expect, bool *stale,
			struct err *e);

/* Atomic writes in a batch, as git's core.fsyncMethod=batch: each file's
 * temporary file is written and its writeback started (fsx_batch_stage);
 * one barrier makes all their contents durable (fsx_batch_flush: the
 * fsync of the only one, or syncfs of each file system they are on); then
 * each is renamed into place (fsx_batch_place), and each directory a
 * rename, move or removal changed is fsynced once (fsx_batch_sync_dirs).
 * No file is visible before its content is on disk, and no rename is lost
 * once fsx_batch_sync_dirs returned true: the same durability as
 * fsx_write_atomic's, for two fsyncs of each directory in all instead of
 * two a file. Beneath rootfd, through no symlink, as the rest.
 * The batch also covers the write journal's lines (fsx_batch_journal):
 * every line is durable before any rename, move or removal of the batch
 * after it can be. The barrier makes them so (an fdatasync of the
 * journal on a thread beside it, unless it is a syncfs of the journal's
 * file system); a line appended after the barrier is synced before the
 * next change. */
struct fsx_batch;
/* A batch writing beneath rootfd, journaling to the write journal open as
 * journal (-1: none), both of which must outlive it; the files it
 * replaces are kept as spare inodes in the directory spares (NULL: none;
 * made when first needed; opened as fsx_open_in does, beneath root when
 * in it), and written again instead of new temporary files by later
 * batches (fsx.c: spare inodes). */
struct fsx_batch *fsx_batch_create(int rootfd, int journal, const char *spares,
				   const char *root);
/* Appends line (ending in a newline) to the batch's journal, durable
 * before the batch's next rename, move or removal (fsx_batch_flush, or
 * that change); true with no journal. */
bool fsx_batch_journal(struct fsx_batch *b, const char *line, struct err *e);
/* Stages data for rel: mkdir -p of its directory (but when like is rel),
 * a temporary file written beside it, on a thread of the batch's (a
 * failure of that is told by fsx_batch_written and fsx_batch_place). like
 * (or NULL: a new file, nothing may be at rel) is the file that rel
 * replaces, where it is now (rel, or where a move will take it from),
 * whose stat data must still be expect (else *stale) and whose mode and
 * owner the new file keeps. note (NULL: none) starts the journal lines
 * that name, before it is made, each file the data may be written in
 * ("NOTE tree PATH" for the temporary file beside the story, PATH beneath
 * the root; "NOTE spare NAME" for a spare and the name it takes in the
 * spares' directory), one append. Returns its slot, or -1 with e set. */
int fsx_batch_stage(struct fsx_batch *b, const char *rel, const void *data,
		    size_t len, const char *like,
		    const struct file_stat *expect, const char *note,
		    bool *stale, struct err *e);
/* Waits for slot's temporary file, written on a thread of the batch's
 * (fsx_batch_stage hands it over): false, with e set and the slot given
 * up, when it could not be. */
bool fsx_batch_written(struct fsx_batch *b, int slot, struct err *e);
/* Waits for slot's temporary file, and gives its identity (inode, mtime,
 * size) into st, which the file keeps once renamed or swapped into place;
 * false when it could not be written. */
bool fsx_batch_ident(struct fsx_batch *b, int slot, struct file_stat *st);
/* line (a "^ " line: the write never put in place) is journaled, and
 * synced, before slot's temporary file is removed unplaced (a failed
 * rename, a drop), once its identity is journaled as the file's in place:
 * a run that could not place a write says so itself, as the next run
 * would from a killed one's temporary file. */
void fsx_batch_unplaced(struct fsx_batch *b, int slot, const char *line);
/* The one barrier for the files staged since the last, and the journal's
 * lines appended since its last sync; a failure is told by fsx_batch_place
 * of each of them (the journal's by every change after it). */
void fsx_batch_flush(struct fsx_batch *b);
/* Renames slot's temporary file into place (flushing first when it was
 * not): over the file at its path, which must still have the stat data
 * expect (else *stale), or, for a new file, where there is none. On
 * failure the temporary file is removed. */
bool fsx_batch_place(struct fsx_batch *b, int slot,
		     const struct file_stat *expect, bool *stale,
		     struct err *e);
/* Gives slot up, unplaced: its temporary file removed. */
void fsx_batch_drop(struct fsx_batch *b, int slot);
/* fsx_move_beneath, its directories' fsyncs left to fsx_batch_sync_dirs. */
bool fsx_batch_move(struct fsx_batch *b, const char *from, const char *to,
		    struct err *e);
/* The top directory the batch made (staging a file or moving one) on the
 * way to rel, since its last fsx_batch_sync_dirs, or NULL. */
const char *fsx_batch_made(const struct fsx_batch *b, const char *rel);
/* fsx_unlink_beneath, its directory's fsync left to fsx_batch_sync_dirs. */
bool fsx_batch_unlink(struct fsx_batch *b, const char *rel,
		      const struct file_stat *expect, bool *stale,
		      struct err *e);
/* fsyncs each directory changed since the last call, once (side by side,
 * on threads; all waited for before it returns); when no slot
 * is left staged, the batch starts afresh (its directories closed). */
bool fsx_batch_sync_dirs(struct fsx_batch *b, struct err *e);
/* Removes what is still staged and frees b (NULL is fine). */
void fsx_batch_destroy(struct fsx_batch *b);

/* Begins the writeback of what is dirty of the file at path (a hint:
 * sync_file_range, no wait, no error), so that a barrier on it later
 * waits only for the rest. */
void fsx_writeback_begin(const char *path);

/* Begins the writeback of the file system fd is on, ahead of a batch, on
 * a thread (syncfs): the batch's barrier (fsx_batch_flush), which still
 * begins after its last temporary file, then waits only for what it did
 * not finish, while what other programs left dirty is written as the run
 * goes on. No barrier itself: its result is not used. NULL when it was
 * not begun (the test suite's switch, or no thread). */
struct fsx_preflush;
struct fsx_preflush *fsx_preflush_start(int fd);
/* Waits for it and frees p (NULL is fine). */
void fsx_preflush_finish(struct fsx_preflush *p);

/* Creates the missing parent directories of path (mkdir -p of its
 * dirname), 0755. */
bool fsx_mkdir_parents(const char *path, struct err *e);
/* Creates dir and its missing parents (mkdir -p) with mode (less the
 * umask). Errors: "DIR: <strerror>" for the first that cannot be made. */
bool fsx_mkdirs(const char *dir, mode_t mode, struct err *e);
/* Creates an empty file at path unless something is there (a new
 * database, so that it has its owner before SQLite writes it). */
bool fsx_create_empty(const char *path, struct err *e);
/* As root, gives the file fd just made at path (or path itself when fd
 * < 0) its directory's owner and group, when that directory is another
 * user's; best effort, as every file and folder this module makes: a root
 * run leaves nothing the tree's owner cannot change. */
void fsx_own_like_parent(int fd, const char *path);
/* True when something is at path, a dangling symlink included (lstat). */
bool fsx_exists(const char *path);
/* Which file is at path (symlinks followed): its device, inode and birth
 * time in ns (0 where the file system keeps none), which no write of the
 * file changes and a new file at its place does. */
struct file_id {
	uint64_t dev, ino;
	int64_t born_ns;
};
/* Fills id for path; false when nothing is there (or it cannot be
 * looked at). */
bool fsx_file_id(const char *path, struct file_id *id);
/* Renames from to to (not beneath a root: the hooks); "FROM: <strerror>". */
bool fsx_rename(const char *from, const char *to, struct err *e);
/* Removes the file at path; "PATH: <strerror>". */
bool fsx_unlink(const char *path, struct err *e);
/* stat of path, following symlinks; false when nothing is there (or it
 * cannot be looked at). */
bool fsx_stat_path(const char *path, struct stat *st);
/* The absolute path of path with no symlink, ".", or ".." (heap); NULL
 * with "PATH: <strerror>" when it cannot be resolved. */
char *fsx_realpath(const char *path, struct err *e);
/* Creates path with mode (less the umask) and writes data to it durably,
 * unless something is there already: then nothing is written, *written
 * is false and it is no error. "PATH: <strerror>" on failure. */
bool fsx_write_new(const char *path, const void *data, size_t len, mode_t mode,
		   bool *written, struct err *e);
/* True when every entry of dir starts with prefix (a directory that holds
 * only one file's family, such as a database and its -wal, -shm and .lock
 * files); false too when dir cannot be read. */
bool fsx_dir_holds_only(const char *dir, const char *prefix);
/* Opens the directory dir to work beneath it (O_DIRECTORY, close-on-exec);
 * -1 with e set on failure. */
int fsx_open_root(const char *dir, struct err *e);

/* Removes rel beneath rootfd when it is one of fsx_write_atomic's
 * temporary files (its name says so) and a regular file (never a symlink
 * nor what it names); only the run holding the lock may, for a name the
 * journal says a run of its made. Nothing there is no error. */
bool fsx_remove_temp(int rootfd, const char *rel, struct err *e);
/* The same for name in the spares' directory spares (opened as
 * fsx_batch_create's, beneath root when in it), where a batch makes its
 * temporary files when it can. */
bool fsx_spare_remove_temp(const char *spares, const char *root,
			   const char *name, struct err *e);
/* The stat data of the regular file at rel beneath rootfd (no symlink
 * followed) into st; false when there is none. */
bool fsx_temp_stat(int rootfd, const char *rel, struct file_stat *st);
/* The same for name in the spares' directory spares (opened as
 * fsx_batch_create's, beneath root when in it). */
bool fsx_spare_stat(const char *spares, const char *root, const char *name,
		    struct file_stat *st);

/* The write journal: a line for every file a run writes or moves from the
 * database, appended before the file is put in place; a run that commits
 * forgets the lines of the stories it committed. After a run killed in
 * between, it tells the next run which changed files are its own writes,
 * not edits. Opened to read only (write false), a missing journal is -1
 * with errno ENOENT. */
int fsx_journal_open(const char *root, const char *path, bool write,
		     struct err *e);
/* Appends line, which ends in a newline (no fsync: a batch's journal
 * lines are made durable by the batch, fsx_batch_journal). */
bool fsx_journal_add(int fd, const char *line, struct err *e);
/* Makes the lines appended so far durable (fdatasync), for a change made
 * outside a batch. */
bool fsx_journal_sync(int fd, struct err *e);
/* The largest write journal read: its own bound, not max_file_size (it
 * holds a line for every file a run wrote, and whole versions of stories
 * as JSON). */
#define FSX_JOURNAL_LIMIT ((size_t)1 << 30)
/* The journal's text (heap, "" when empty), from its start. */
bool fsx_journal_read(int fd, char **text, struct err *e);
/* Empties the journal. */
bool fsx_journal_reset(int fd, struct err *e);
/* Replaces the journal at path with text, at once (a temporary file,
 * fsync, rename, fsync of the directory): a kill or a power loss leaves
 * the old lines or the new ones. */
bool fsx_journal_replace(const char *root, const char *path, const char *text,
			 struct err *e);

/* True when resolving path (absolute) follows a symlink that lies in the
 * tree at root (absolute, real): the repository's, which may lead
 * anywhere. A link outside the tree (the admin's) is followed. */
bool fsx_follows_tree_link(const char *root, const char *path);
/* Takes the run lock: flock on path (created if needed, close-on-exec;
 * never through a symlink at path).
 * wait_s < 0: fail at once when held; 0: wait forever; > 0: wait that many
 * seconds. Returns the fd, -1 on error (e set), -2 when held by another
 * run. */
int fsx_lock(const char *root, const char *path, int wait_s, struct err *e);
/* True when another process holds the lock at path (a read-only probe: it
 * needs no write access and takes nothing). */
bool fsx_lock_held(const char *path);
/* How fsx_replace writes: mode 0 is 0644 (less the umask), else exactly
 * mode; durable fsyncs the file before the rename. NULL: both off. */
struct fsx_replace_opts {
	mode_t mode;
	bool durable;
	const char *root; /* the tree's: a path in it is written beneath
			     it (fsx_open_in) */
};
/* Opens path (flags as open's, O_CLOEXEC added): when it lies in root
 * (non-NULL; the tree's), beneath root through no symlink (openat2
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), so that a link put on the way
 * after any check (git's checkout beside a run) is not followed (ELOOP,
 * or EXDEV); else as it is. The tree's side files (the lock, the
 * journal, the run record, ...) and the operational paths that lie in
 * the tree are written this way (fsx_replace's with its root too). */
int fsx_open_in(const char *root, const char *path, int flags, mode_t mode);
/* Clears the place of one of storysync's own files at path (dir: a
 * directory) when it lies in root (the tree's) and something else is
 * there: a symbolic link (git checks out one committed at that name), a
 * directory where a file belongs (empty: a submodule's), a FIFO, ... is
 * removed (unlinkat, never followed), so that the file is made afresh.
 * A regular file (a directory for dir) is never touched, nor anything
 * out of root. 1 when something was removed (*kind says what it was:
 * "a symbolic link", ...), 0 when nothing was, -1 when it cannot be (a
 * directory that is not empty: e says so). */
int fsx_side_clear(const char *root, const char *path, bool dir,
		   const char **kind, struct err *e);
/* Replaces the file at path (not beneath a root: the configuration, the
 * hooks, reports) by data through a temporary file and a rename: a reader
 * sees the old file or the new, never half of one. Without durable, for
 * reports (the run record, metrics) that the next run writes anew. */
bool fsx_replace(const char *path, const void *data, size_t len,
		 const struct fsx_replace_opts *o, struct err *e);
/* Maps the regular file at path, read-only, into *data and *len when
 * this user owns it (a file another user could truncate under the map is
 * not read) and it is not empty; false otherwise. */
bool fsx_map_own(const char *path, void **data, size_t *len);
/* Unmaps what fsx_map_own mapped; NULL is fine. */
void fsx_unmap(void *data, size_t len);
/* Reads the whole file at path into out, NUL-terminated (not counted in
 * out->len); more than max bytes (0: no limit) is an error. */
bool fsx_read_path(const char *path, size_t max, struct buf *out,
		   struct err *e);
/* Releases the lock taken by fsx_lock. */
void fsx_unlock(int fd);

/* The racy rule, as git's index has it: stat data cannot prove a file
 * unchanged unless the file system's clock had passed the file's mtime
 * when they were taken (a second write within one timestamp tick keeps
 * mtime and maybe size). A recorded time (state_entry.recorded_ns) is
 * this much past a time that clock had passed: the wall clock's now, at
 * a stat, less this (Linux's file timestamps come from the coarse clock,
 * one jiffy, <= 10 ms, seen lagging 11 ms on a loaded VM; not so on a file
 * system with coarser timestamps), or a reading of the clock itself
 * (fsx_fs_clock, fsx_recorded_after), less 1 ns. */
#define FSX_RACY_NS 20000000LL

/* The current CLOCK_REALTIME in nanoseconds. */
int64_t fsx_now_ns(void);
/* The CPU time of the calling thread, or 0. */
int64_t fsx_thread_cpu_ns(void);
/* True when st, recorded at recorded_ns, cannot be trusted. */
bool fsx_racy(const struct file_stat *st, int64_t recorded_ns);
/* The file system's clock at dirfd as its files' mtimes have it, at their
 * granularity, into *ns: the mtime of a file made there now (unnamed
 * where the file system can, else named and removed at once). False, with
 * errno, when none could be made. */
bool fsx_fs_clock(int dirfd, int64_t *ns);
/* The recorded time of stat data taken after fsx_fs_clock read clock_ns
 * on the file's file system: fsx_racy then trusts a file whose mtime is
 * older than clock_ns, and no other (git's rule against its index file's
 * mtime). */
int64_t fsx_recorded_after(int64_t clock_ns);
/* The recorded time of stat data, whose mtime is mtime_ns, taken after the
 * wall clock read now_ns (no reading of the file system's clock): now_ns,
 * unless the mtime is a whole second, as every mtime is on a file system
 * of whole-second timestamps (FAT's: even seconds). Its clock is then
 * taken as the start of the tick (1 s, 2 s for an even second) that the
 * file system's clock, lagging the wall clock by up to FSX_RACY_NS, was
 * in at now_ns: a file written in that tick stays racy, where 20 ms of
 * the wall clock past its mtime would trust it, and a second write within
 * the tick, of the same size, would keep all its stat data. */
int64_t fsx_recorded_wall(int64_t now_ns, int64_t mtime_ns);
/* True when STORYSYNC_TEST_NOSYNC=1, for the test suite only: no fsync and
 * no wait for the racy window to pass (doc/design.md). */
bool fsx_test_nosync(void);

#endif
