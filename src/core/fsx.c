#include "fsx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "seam.h"

#define TEMP_TAG ".storysync-"

void fsx_stat_from(struct file_stat *fs, const struct stat *st)
{
	fs->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL +
		       st->st_mtim.tv_nsec;
	fs->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL +
		       st->st_ctim.tv_nsec;
	fs->size = (int64_t)st->st_size;
	fs->ino = (uint64_t)st->st_ino;
	fs->mode = (uint32_t)st->st_mode;
}

bool fsx_stat_equal(const struct file_stat *a, const struct file_stat *b)
{
	return a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	       a->size == b->size && a->ino == b->ino && a->mode == b->mode;
}

int64_t fsx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t fsx_thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool fsx_racy(const struct file_stat *st, int64_t recorded_ns)
{
	return st->mtime_ns + FSX_RACY_NS > recorded_ns;
}

int64_t fsx_recorded_after(int64_t clock_ns)
{
	return clock_ns - 1 + FSX_RACY_NS;
}

int64_t fsx_recorded_wall(int64_t now_ns, int64_t mtime_ns)
{
	int64_t tick = mtime_ns % 2000000000LL == 0   ? 2000000000LL
		       : mtime_ns % 1000000000LL == 0 ? 1000000000LL
						      : 0;
	int64_t clock = now_ns - FSX_RACY_NS;

	if (!tick)
		return now_ns;
	clock -= clock % tick;
	return fsx_recorded_after(clock);
}

static bool nosync;

static void nosync_read(void)
{
	const char *v = getenv("STORYSYNC_TEST_NOSYNC");

	nosync = v && strcmp(v, "1") == 0;
}

bool fsx_test_nosync(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, nosync_read);
	return nosync;
}

/* fsync, unless the test suite asked for none: a test's machine crashing
 * loses nothing it needs, and a write run waits on several. */
static int sync_fd(int fd)
{
	return fsx_test_nosync() ? 0 : fsync(fd);
}

/* ---- walking ---- */

struct walk {
	fsx_walk_fn fn;
	void *ctx;
	struct buf rel;
	struct err *e;
	bool sorted; /* each directory in name order */
	const struct fsx_walk_opts *o;
};

static bool is_md(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && memcmp(name + n - 3, ".md", 3) == 0;
}

static enum fsx_entry_kind kind_of(mode_t mode)
{
	if (S_ISREG(mode))
		return FSX_FILE;
	if (S_ISLNK(mode))
		return FSX_SYMLINK;
	if (S_ISDIR(mode))
		return FSX_DIR_MD;
	return FSX_OTHER;
}

static bool linked_dir(int dirfd, const char *name);

bool fsx_lstat_at(int dirfd, const char *name, struct stat *st,
		  enum fsx_entry_kind *kind)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	*kind = kind_of(st->st_mode);
	if (*kind == FSX_SYMLINK && !is_md(name) && linked_dir(dirfd, name))
		*kind = FSX_LINKED_DIR;
	return true;
}

/* A user's name, else "uid N". */
static void user_name(uid_t uid, char *out, size_t n)
{
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		snprintf(out, n, "%s", found->pw_name);
	else
		snprintf(out, n, "uid %u", (unsigned)uid);
}

/* e for a call on rel that failed with err. Denied (EACCES, EPERM), it
 * says who storysync runs as, whose the directory dir is (its stat data
 * st; NULL when unknown) and what to do: the fix is the admin's. */
static bool fail_in(struct err *e, const char *rel, int err, const char *dir,
		    const struct stat *st)
{
	char me[64], owner[64];

	if ((err != EACCES && err != EPERM) || !st)
		return err_set(e, "%s: %s", rel, strerror(err));
	user_name(geteuid(), me, sizeof(me));
	user_name(st->st_uid, owner, sizeof(owner));
	if (st->st_uid == geteuid())
		return err_set(e,
			       "%s: %s: storysync runs as %s, who owns %s but "
			       "may not write it (mode %04o): chmod u+rwx "
			       "'%s'",
			       rel, strerror(err), me, dir,
			       (unsigned)(st->st_mode & 07777), dir);
	return err_set(e,
		       "%s: %s: storysync runs as %s, and %s is %s's (mode "
		       "%04o): run the sync as %s (systemd: User=%s), or give "
		       "%s the %s (chown %s%s '%s')",
		       rel, strerror(err), me, dir, owner,
		       (unsigned)(st->st_mode & 07777), owner, owner, me,
		       S_ISDIR(st->st_mode) ? "directory" : "file",
		       S_ISDIR(st->st_mode) ? "-R " : "", me, dir);
}

/* fail_in for a change of the open directory dirfd, dir its path. */
static bool fail_at(struct err *e, const char *rel, int err, int dirfd,
		    const char *dir)
{
	struct stat st;

	return fail_in(e, rel, err, dir, fstat(dirfd, &st) == 0 ? &st : NULL);
}

/* fail_at for a change of rel's own directory, dirfd. */
static bool fail_dir(struct err *e, const char *rel, int err, int dirfd)
{
	const char *slash = strrchr(rel, '/');
	char *dir = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup(".");

	fail_at(e, rel, err, dirfd, dir);
	free(dir);
	return false;
}

static bool walk_dir(struct walk *w, int fd);

/* True when the directory rel names is one the walk does not enter. */
static bool pruned(const struct walk *w)
{
	for (size_t i = 0; w->o && i < w->o->nprune; i++)
		if (strcmp(w->rel.data, w->o->prune[i]) == 0)
			return true;
	return false;
}

/* Enters the subdirectory name of dirfd; rel already names it. */
static bool walk_sub(struct walk *w, int dirfd, const char *name)
{
	int fd;

	if (pruned(w))
		return true;
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		struct stat st;

		/* Gone or replaced by a non-directory since readdir. */
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return true;
		return fail_in(w->e, w->rel.data, err, w->rel.data,
			       fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ==
					       0
				       ? &st
				       : NULL);
	}
	return walk_dir(w, fd);
}

/* A symlink that may stand for a directory: its target is one, or cannot
 * be reached (gone, or on a disk not mounted). Only stat'ed, to tell it
 * from a link to a plain file, never walked. */
static bool linked_dir(int dirfd, const char *name)
{
	struct stat target;

	return fstatat(dirfd, name, &target, 0) < 0 || S_ISDIR(target.st_mode);
}

/* Handles one entry; d_type saves the stat of every non-story entry. */
static bool walk_entry(struct walk *w, int dirfd, const char *name,
		       unsigned char type)
{
	size_t keep = w->rel.len;
	struct stat st;
	bool md = is_md(name);
	bool ok = true;

	if (!md && type != DT_DIR && type != DT_UNKNOWN && type != DT_LNK)
		return true;
	if (keep)
		buf_putc(&w->rel, '/');
	buf_puts(&w->rel, name);
	if (md && type == DT_REG && w->o->typed) {
		ok = w->fn(w->ctx, dirfd, name, w->rel.data, FSX_FILE, NULL);
		goto out;
	}
	if (md && w->o->before)
		w->o->before(w->ctx, w->rel.data);
	if (md || type == DT_UNKNOWN || type == DT_LNK) {
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				ok = err_set(w->e, "%s: %s", w->rel.data,
					     strerror(errno));
			goto out;
		}
		type = S_ISDIR(st.st_mode)   ? DT_DIR
		       : S_ISLNK(st.st_mode) ? DT_LNK
					     : DT_REG;
	}
	if (md)
		ok = w->fn(w->ctx, dirfd, name, w->rel.data,
			   kind_of(st.st_mode), &st);
	else if (type == DT_DIR)
		ok = walk_sub(w, dirfd, name);
	else if (type == DT_LNK && !pruned(w) && linked_dir(dirfd, name))
		ok = w->fn(w->ctx, dirfd, name, w->rel.data, FSX_LINKED_DIR,
			   &st);
out:
	w->rel.len = keep;
	if (w->rel.data)
		w->rel.data[keep] = '\0';
	return ok;
}

/* Reports a temporary file a killed run left behind. */
static bool walk_temp(struct walk *w, int dirfd, const char *name)
{
	size_t keep = w->rel.len;
	struct stat st;
	bool ok = true;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		if (w->rel.len)
			buf_putc(&w->rel, '/');
		buf_puts(&w->rel, name);
		ok = w->fn(w->ctx, dirfd, name, w->rel.data, FSX_TEMP, &st);
		w->rel.len = keep;
		w->rel.data[keep] = '\0';
	}
	return ok;
}

/* Handles one directory entry: a temporary file a killed run left, or
 * anything not hidden. */
static bool walk_name(struct walk *w, int dirfd, const char *name,
		      unsigned char type)
{
	if (name[0] == '.')
		return !strstr(name, TEMP_TAG) || walk_temp(w, dirfd, name);
	return walk_entry(w, dirfd, name, type);
}

/* A directory entry kept to be walked in name order. */
struct dir_name {
	char *name;
	unsigned char type;
};

static int dir_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dir_name *)a)->name,
		      ((const struct dir_name *)b)->name);
}

/* Walks the open directory fd, which it takes over: as readdir gives the
 * entries, or, sorted, in name order (holding this directory's names). */
static bool walk_dir(struct walk *w, int fd)
{
	DIR *d = fdopendir(fd);
	struct dir_name *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool ok = true;

	if (!d) {
		ok = err_set(w->e, "%s: %s", w->rel.data, strerror(errno));
		close(fd);
		return ok;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				ok = err_set(w->e, "%s: %s", w->rel.data,
					     strerror(errno));
			break;
		}
		if (de->d_name[0] == '.' && !strstr(de->d_name, TEMP_TAG))
			continue;
		if (w->sorted) {
			v = xgrow(v, &cap, n + 1, sizeof(*v));
			v[n].name = xstrdup(de->d_name);
			v[n++].type = de->d_type;
		} else if (!walk_name(w, dirfd(d), de->d_name, de->d_type)) {
			ok = false;
			break;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), dir_name_cmp);
	for (size_t i = 0; i < n; i++) {
		ok = ok && walk_name(w, dirfd(d), v[i].name, v[i].type);
		free(v[i].name);
	}
	free(v);
	closedir(d);
	return ok;
}

/* The message for a stage directory that cannot be opened. */
static bool walk_denied(int rootfd, const char *dir, int err, struct err *e)
{
	struct stat st;
	int fd;
	bool ok;

	if (err != EACCES && err != EPERM)
		return fail_in(e, dir, err, dir, NULL);
	fd = fsx_open_beneath(rootfd, dir, O_PATH, 0);
	ok = fail_in(e, dir, err, dir,
		     fd >= 0 && fstat(fd, &st) == 0 ? &st : NULL);
	if (fd >= 0)
		close(fd);
	return ok;
}

bool fsx_walk_with(int rootfd, const char *dir, const struct fsx_walk_opts *o,
		   fsx_walk_fn fn, void *ctx, enum fsx_walk_start *start,
		   struct err *e)
{
	struct walk w = {fn, ctx, BUF_INIT, e, o->sorted, o};
	bool top = !dir[0] || strcmp(dir, ".") == 0;
	bool ok;
	int fd;

	*start = FSX_START_WALKED;
	/* never through a symlink: every file below would be refused when
	 * read, so its stories would look deleted */
	fd = top ? openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		 : fsx_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		if (errno == ENOENT) {
			*start = FSX_START_MISSING;
			return true;
		}
		if (errno == ELOOP) {
			*start = FSX_START_SYMLINK;
			return true;
		}
		return walk_denied(rootfd, dir, errno, e);
	}
	buf_puts(&w.rel, top ? "" : dir);
	ok = walk_dir(&w, fd);
	buf_finish(&w.rel);
	return ok;
}

struct find {
	bool (*enter)(void *ctx, const char *rel);
	void (*fn)(void *ctx, const char *rel);
	void *ctx;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fsx_find_md in the open directory fd (taken over), rel its path. */
static void find_in(const struct find *f, int fd, const char *rel, int depth)
{
	DIR *d = fdopendir(fd);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			names = xgrow(names, &cap, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *sub = *rel ? xasprintf("%s/%s", rel, names[i])
				 : xstrdup(names[i]);
		struct stat st;
		int subfd;

		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			;
		else if (S_ISREG(st.st_mode) && is_md(names[i]))
			f->fn(f->ctx, sub);
		else if (S_ISDIR(st.st_mode) && depth > 0 &&
			 (!f->enter || f->enter(f->ctx, sub)) &&
			 (subfd = openat(dirfd(d), names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC)) >= 0)
			find_in(f, subfd, sub, depth - 1);
		free(sub);
		free(names[i]);
	}
	free(names);
	closedir(d);
}

void fsx_find_md(int rootfd, const char *dir, int depth,
		 bool (*enter)(void *ctx, const char *rel),
		 void (*fn)(void *ctx, const char *rel), void *ctx)
{
	struct find f = {enter, fn, ctx};
	bool top = !dir[0] || strcmp(dir, ".") == 0;
	int fd = top ? openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
		     : fsx_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);

	if (fd >= 0)
		find_in(&f, fd, top ? "" : dir, depth);
}

bool fsx_walk(int rootfd, const char *dir, fsx_walk_fn fn, void *ctx,
	      enum fsx_walk_start *start, struct err *e)
{
	const struct fsx_walk_opts o = {.sorted = false};

	return fsx_walk_with(rootfd, dir, &o, fn, ctx, start, e);
}

bool fsx_walk_sorted(int rootfd, const char *dir, fsx_walk_fn fn, void *ctx,
		     enum fsx_walk_start *start, struct err *e)
{
	const struct fsx_walk_opts o = {.sorted = true};

	return fsx_walk_with(rootfd, dir, &o, fn, ctx, start, e);
}

/* ---- reading ---- */

/* Reads all of the regular file fd, whose fstat is st; label names it. */
static size_t read_limit = FSX_READ_LIMIT_DEFAULT;

void fsx_set_read_limit(size_t bytes)
{
	read_limit = bytes;
}

static bool too_large(const char *label, size_t limit, struct err *e)
{
	return err_set(e, "%s: larger than %zu bytes%s; not read", label, limit,
		       limit == read_limit ? " (max_file_size)" : "");
}

/* The buffer read_fd reads into: keep's when given (grown as needed),
 * else a new one of cap bytes. */
static char *read_buffer(struct fsx_dir_cache *keep, size_t cap)
{
	if (!keep)
		return xmalloc(cap);
	if (keep->cap < cap) {
		free(keep->buf);
		keep->cap = cap > 2 * keep->cap ? cap : 2 * keep->cap;
		keep->buf = xmalloc(keep->cap);
	}
	return keep->buf;
}

/* Reads fd as read_open does, limit bytes at most: into keep's buffer when
 * keep is given (*data is then keep's), else into one of the caller's. */
static bool read_fd(int fd, const struct stat *st, const char *label,
		    size_t limit, char **data, size_t *len,
		    struct fsx_dir_cache *keep, struct err *e)
{
	size_t cap, n = 0;
	char *p;
	ssize_t r;

	if ((uint64_t)st->st_size > limit)
		return too_large(label, limit, e);
	cap = (size_t)st->st_size + 1;
	p = read_buffer(keep, cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > limit) { /* it grew past the limit */
				if (!keep)
					free(p);
				return too_large(label, limit, e);
			}
			cap *= 2;
			p = xreallocarray(p, cap + 1, 1);
			if (keep) {
				keep->buf = p;
				keep->cap = cap + 1;
			}
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (!keep)
				free(p);
			return err_set(e, "%s: %s", label, strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* a regular file's short read is its end: the fstat's size
		 * read in one call, without a second one to find the end (a
		 * tenth of a first load's system calls) */
		if (n < cap && n == (size_t)st->st_size)
			break;
	}
	p[n] = '\0';
	*data = p;
	*len = n;
	return true;
}

/* Checks that fd is a regular file and reads it; closes fd. */
static bool read_open(int fd, const char *label, char **data, size_t *len,
		      struct file_stat *fs, struct fsx_dir_cache *keep,
		      struct err *e)
{
	struct stat st;
	bool ok = false;

	if (fstat(fd, &st) < 0) {
		err_set(e, "%s: %s", label, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, "%s: %s", label, strerror(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", label);
		goto out;
	}
	ok = read_fd(fd, &st, label, read_limit, data, len, keep, e);
	if (ok && fs)
		fsx_stat_from(fs, &st);
out:
	close(fd);
	return ok;
}

bool fsx_read_at(int dirfd, const char *name, char **data, size_t *len,
		 struct file_stat *st, struct err *e)
{
	/* O_NONBLOCK so that a FIFO named *.md cannot hang the run. */
	int fd = openat(dirfd, name,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return err_set(e, "%s: %s", name, strerror(errno));
	return read_open(fd, name, data, len, st, NULL, e);
}

/* ---- paths beneath a root ---- */

bool fsx_name_ok(const char *name)
{
	size_t n = 0;

	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strcmp(name, ".git") == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return false;
		n++;
	}
	return n <= 255;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned long cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, min = 0x80, cp = s[0] & 0x1fUL;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, min = 0x800, cp = s[0] & 0x0fUL;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, min = 0x10000, cp = s[0] & 0x07UL;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fUL);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool fsx_name_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_len(p + i, n - i)))
			return false;
	return true;
}

char *fsx_name_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	struct buf b = BUF_INIT;

	buf_add(&b, "", 0);
	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_len(p + i, n - i);
		if (!k || p[i] < 0x20 || p[i] == 0x7f) {
			buf_printf(&b, "\\x%02x", p[i]);
			k = 1;
		} else {
			buf_add(&b, s + i, k);
		}
	}
	return buf_detach(&b);
}

/* Code points that reorder or hide text: names holding them look like
 * other names (U+202E makes "x\u202egpj.md" read "xdm.jpg"). */
static bool deceptive(unsigned long cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfeff;
}

bool fsx_name_writable(const char *name, bool dir)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name);

	if (!fsx_name_ok(name) || name[0] == '.' || name[0] == '-')
		return false;
	if (dir && n >= 3 && strcasecmp(name + n - 3, ".md") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned long cp;

		if (p[i] < 0x80)
			continue;
		if ((p[i] & 0xe0) == 0xc0 && i + 1 < n) {
			cp = ((p[i] & 0x1fUL) << 6) | (p[i + 1] & 0x3f);
			i += 1;
		} else if ((p[i] & 0xf0) == 0xe0 && i + 2 < n) {
			cp = ((p[i] & 0x0fUL) << 12) |
			     ((p[i + 1] & 0x3fUL) << 6) | (p[i + 2] & 0x3f);
			i += 2;
		} else {
			continue;
		}
		if (deceptive(cp))
			return false;
	}
	return true;
}

static bool has_git_component(const char *rel)
{
	const char *p = rel;

	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 4 && memcmp(p, ".git", 4) == 0)
			return true;
		if (!p[n])
			return false;
		p += n + 1;
	}
}

/* The message for a failed open beneath the root, with errno err. */
static bool beneath_err(struct err *e, const char *rel, int err)
{
	if (has_git_component(rel))
		return err_set(e, "%s: path enters .git", rel);
	if (err == EXDEV)
		return err_set(e, "%s: path leaves the root", rel);
	if (err == ELOOP)
		return err_set(e, "%s: path goes through a symlink", rel);
	return err_set(e, "%s: %s", rel, strerror(err));
}

int fsx_open_beneath(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};

	if (!rel[0]) {
		errno = ENOENT;
		return -1;
	}
	if (has_git_component(rel)) {
		errno = EPERM;
		return -1;
	}
	/* openat2 refuses a mode without O_CREAT or O_TMPFILE. */
	if (flags & (O_CREAT | __O_TMPFILE))
		how.mode = mode;
	return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

/* fsx_read_beneath, into keep's buffer when keep is given. */
static bool read_beneath(int rootfd, const char *rel, char **data, size_t *len,
			 struct file_stat *st, struct fsx_dir_cache *keep,
			 struct err *e)
{
	int fd = fsx_open_beneath(rootfd, rel, O_RDONLY | O_NONBLOCK, 0);

	if (fd < 0)
		return beneath_err(e, rel, errno);
	return read_open(fd, rel, data, len, st, keep, e);
}

bool fsx_read_beneath(int rootfd, const char *rel, char **data, size_t *len,
		      struct file_stat *st, struct err *e)
{
	return read_beneath(rootfd, rel, data, len, st, NULL, e);
}

static void dir_cache_close(struct fsx_dir_cache *dc);

bool fsx_read_cached(struct fsx_dir_cache *dc, int rootfd, const char *rel,
		     char **data, size_t *len, struct file_stat *st,
		     struct err *e)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;
	int fd;

	if (!n || has_git_component(rel))
		return read_beneath(rootfd, rel, data, len, st, dc, e);
	if (!dc->dir || strlen(dc->dir) != n || memcmp(dc->dir, rel, n) != 0) {
		dir_cache_close(dc);
		dc->dir = xstrndup(rel, n);
		dc->fd = fsx_open_beneath(rootfd, dc->dir, O_PATH | O_DIRECTORY,
					  0);
	}
	/* the name alone, beneath the directory: no symlink, no "..". Read
	 * without touching the access time, as git reads its objects: under
	 * relatime a file's first read after its change dirties its inode
	 * (a tenth of a first load's reading); only the owner (or
	 * CAP_FOWNER) may ask, so another's files are read as before */
	fd = dc->fd < 0 ? -1
			: fsx_open_beneath(dc->fd, slash + 1,
					   O_RDONLY | O_NONBLOCK |
						   (dc->atime ? 0 : O_NOATIME),
					   0);
	if (fd < 0 && errno == EPERM && !dc->atime) {
		dc->atime = true;
		fd = fsx_open_beneath(dc->fd, slash + 1, O_RDONLY | O_NONBLOCK,
				      0);
	}
	if (fd < 0)
		return read_beneath(rootfd, rel, data, len, st, dc, e);
	return read_open(fd, rel, data, len, st, dc, e);
}

/* Closes dc's directory, keeping its buffer. */
static void dir_cache_close(struct fsx_dir_cache *dc)
{
	if (dc->fd >= 0)
		close(dc->fd);
	free(dc->dir);
	dc->dir = NULL;
	dc->fd = -1;
}

void fsx_dir_cache_finish(struct fsx_dir_cache *dc)
{
	dir_cache_close(dc);
	free(dc->buf);
	dc->buf = NULL;
	dc->cap = 0;
}

/* ---- whose files ---- */

/* As root, gives what was just made in a directory of another user's (the
 * file fd, or the entry name of dirfd when fd < 0) that directory's owner
 * and group: a root run (owner.h lets it write another's tree only when
 * allowed) must leave nothing the tree's owner cannot change. Best
 * effort: without CAP_CHOWN (the systemd unit's empty
 * CapabilityBoundingSet=) it stays root's. */
static void own_like(const struct stat *dir, int dirfd, int fd,
		     const char *name)
{
	int r;

	if (dir->st_uid == geteuid())
		return;
	if (fd >= 0 || !name)
		r = fchown(fd, dir->st_uid, dir->st_gid);
	else
		r = fchownat(dirfd, name, dir->st_uid, dir->st_gid,
			     AT_SYMLINK_NOFOLLOW);
	(void)r;
}

/* own_like for an entry of the directory dirfd. */
static void own_like_at(int dirfd, int fd, const char *name)
{
	struct stat dir;

	if (geteuid() == 0 && fstat(dirfd, &dir) == 0)
		own_like(&dir, dirfd, fd, name);
}

void fsx_own_like_parent(int fd, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat st;

	if (geteuid() != 0)
		return;
	dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
		    : xstrdup(".");
	if (stat(dir, &st) == 0)
		own_like(&st, AT_FDCWD, fd, path);
	free(dir);
}

/* Splits rel into its directory (heap, "." when none) and its last name. */
static char *split(const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');

	if (!slash) {
		*base = rel;
		return xstrdup(".");
	}
	*base = slash + 1;
	/* "/x" keeps its "/", which openat2 refuses as leaving the root. */
	return xstrndup(rel, slash == rel ? 1 : (size_t)(slash - rel));
}

/* Checks the last name of rel, which the caller will create or remove. */
static bool base_ok(const char *rel, const char *base, struct err *e)
{
	if (has_git_component(rel))
		return beneath_err(e, rel, EPERM);
	if (!fsx_name_ok(base))
		return err_set(e, "%s: bad file name", rel);
	return true;
}

/* Opens the directory dir beneath the root ("." is the root itself). */
static int open_dir(int rootfd, const char *dir)
{
	return fsx_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
}

/* Creates the directory dir, whose parent exists, beneath the root; rel is
 * the caller's path, for messages. */
static bool mkdir_beneath(int rootfd, const char *dir, const char *rel,
			  bool *made, struct err *e)
{
	const char *base;
	char *parent = split(dir, &base);
	int fd = open_dir(rootfd, parent);
	bool ok = true;

	if (fd < 0) {
		ok = beneath_err(e, rel, errno);
		goto out;
	}
	if (!fsx_name_ok(base))
		ok = err_set(e, "%s: bad file name", rel);
	else if (mkdirat(fd, base, 0755) == 0) {
		*made = true;
		own_like_at(fd, -1, base);
	} else if (errno != EEXIST) {
		ok = fail_at(e, rel, errno, fd, parent);
	}
	close(fd);
out:
	free(parent);
	return ok;
}

/* fsx_mkdirs_beneath; *made counts the directories made (the deepest
 * *made of rel's parent, once one is made). */
static bool mkdirs_beneath(int rootfd, const char *rel, size_t *made,
			   struct err *e)
{
	const char *base;
	char *dir = split(rel, &base);
	size_t n = strlen(dir);
	bool ok = true, one = false;

	if (rel[0] == '/')
		ok = beneath_err(e, rel, EXDEV);
	/* Each prefix is opened beneath the root, so no step follows a link. */
	for (size_t i = 1; i <= n && ok; i++) {
		int fd;

		if (i < n && dir[i] != '/')
			continue;
		if (dir[i - 1] == '/')
			continue;
		dir[i] = '\0';
		fd = open_dir(rootfd, dir);
		if (fd >= 0)
			close(fd);
		else if (errno != ENOENT)
			ok = beneath_err(e, rel, errno);
		else {
			one = false;
			ok = mkdir_beneath(rootfd, dir, rel, &one, e);
			*made += one;
		}
		if (i < n)
			dir[i] = '/';
	}
	free(dir);
	return ok;
}

bool fsx_mkdirs_beneath(int rootfd, const char *rel, struct err *e)
{
	size_t made = 0;

	return mkdirs_beneath(rootfd, rel, &made, e);
}

/* ---- writing ---- */

/* Writes all of data to fd. */
static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return false;
		p += r;
		len -= (size_t)r;
	}
	return true;
}

/* A temporary file's name next to base, its six last characters random,
 * into tmp; false when no random bytes could be had. */
static bool temp_name(const char *base, char *tmp, size_t size)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	char suffix[7];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return false;
	for (size_t i = 0; i < sizeof(rnd); i++)
		suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
	suffix[6] = '\0';
	/* A long name is cut so that the temporary one still fits. */
	snprintf(tmp, size, ".%.200s" TEMP_TAG "%s", base, suffix);
	return true;
}

/* Creates a new temporary file next to base in dirfd; fills tmp. */
static int create_temp(int dirfd, const char *base, mode_t mode, char *tmp,
		       size_t size)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];

	for (int tries = 0; tries < 100; tries++) {
		char suffix[7];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -1;
		for (size_t i = 0; i < sizeof(rnd); i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[6] = '\0';
		/* A long name is cut so that the temporary one still fits. */
		snprintf(tmp, size, ".%.200s" TEMP_TAG "%s", base, suffix);
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

bool fsx_fs_clock(int dirfd, int64_t *ns)
{
	char tmp[256];
	struct stat st;
	bool ok;
	int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	/* no unnamed files there (FAT, NFS): a named one, removed at once
	 * (a killed run's is a temporary file the walk reports) */
	if (fd < 0 &&
	    (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		fd = create_temp(dirfd, "clock", 0600, tmp, sizeof(tmp));
		if (fd >= 0)
			unlinkat(dirfd, tmp, 0);
	}
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0;
	if (ok)
		*ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL +
		      st.st_mtim.tv_nsec;
	close(fd);
	return ok;
}

/* The target's state just before the rename: true when it is what the
 * caller expects, else *stale with the message. */
static bool still_expected(int dirfd, const char *base, const char *rel,
			   const struct file_stat *expect, struct stat *old,
			   bool *stale, struct err *e)
{
	struct file_stat now;

	if (fstatat(dirfd, base, old, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return err_set(e, "%s: %s", rel, strerror(errno));
		if (!expect)
			return true;
		*stale = true;
		return err_set(e, "%s: changed since the scan; left alone",
			       rel);
	}
	*stale = true;
	if (!expect)
		return err_set(e, "%s: exists; left alone", rel);
	fsx_stat_from(&now, old);
	if (!fsx_stat_equal(&now, expect))
		return err_set(e, "%s: changed since the scan; left alone",
			       rel);
	*stale = false;
	return true;
}

/* Renames tmp (in fromfd) over base (in dirfd): replacing it, or only
 * when base does not exist. */
static bool put_in_place(int fromfd, const char *tmp, int dirfd,
			 const char *base, const char *rel, bool replace,
			 bool *stale, struct err *e)
{
	int r;

	if (replace)
		r = renameat(fromfd, tmp, dirfd, base);
	else
		r = renameat2(fromfd, tmp, dirfd, base, RENAME_NOREPLACE);
	/* File systems without RENAME_NOREPLACE: link(2) never replaces. */
	if (r < 0 && !replace && errno == EINVAL) {
		r = linkat(fromfd, tmp, dirfd, base, 0);
		if (r == 0)
			unlinkat(fromfd, tmp, 0);
	}
	if (r == 0)
		return true;
	if (errno == EEXIST) {
		*stale = true;
		return err_set(e, "%s: exists; left alone", rel);
	}
	return fail_dir(e, rel, errno, dirfd);
}

/* Gives the file fd the old file's owner, where allowed: a root run must
 * not take over someone's file. */
static bool keep_owner(int fd, const struct stat *old)
{
	return (old->st_uid == geteuid() && old->st_gid == getegid()) ||
	       fchown(fd, old->st_uid, old->st_gid) == 0 || errno == EPERM;
}

/* Gives the temporary file fd the old file's mode and, where allowed, its
 * owner. */
static bool keep_mode(int fd, const struct stat *old)
{
	return fchmod(fd, old->st_mode & 07777) == 0 && keep_owner(fd, old);
}

struct target {
	const char *rel;
	const char *base;
	int dirfd;
};

/* Writes the temporary file and renames it over t's file. */
static bool write_temp(const struct target *t, const void *data, size_t len,
		       const struct file_stat *expect, struct file_stat *st,
		       bool *stale, struct err *e)
{
	char tmp[256];
	struct stat old, now;
	bool placed = false, ok = false;
	int fd;

	/* A new file gets 0644 & ~umask from the kernel itself. */
	fd = create_temp(t->dirfd, t->base, expect ? 0600 : 0644, tmp,
			 sizeof(tmp));
	if (fd < 0)
		return fail_dir(e, t->rel, errno, t->dirfd);
	if (!expect)
		own_like_at(t->dirfd, fd, NULL);
	if (!write_all(fd, data, len)) {
		err_set(e, "%s: %s", t->rel, strerror(errno));
		goto out;
	}
	/* Checked twice: for the mode to keep, and again after the slow
	 * fsync, to narrow the window in which an edit could be lost. */
	if (!still_expected(t->dirfd, t->base, t->rel, expect, &old, stale, e))
		goto out;
	if ((expect && !keep_mode(fd, &old)) || sync_fd(fd) < 0) {
		err_set(e, "%s: %s", t->rel, strerror(errno));
		goto out;
	}
	if (!still_expected(t->dirfd, t->base, t->rel, expect, &old, stale, e))
		goto out;
	if (!put_in_place(t->dirfd, tmp, t->dirfd, t->base, t->rel,
			  expect != NULL, stale, e))
		goto out;
	placed = true;
	/* The rename changed ctime: stat after it, through our own fd. */
	if (fstat(fd, &now) < 0 || sync_fd(t->dirfd) < 0) {
		err_set(e, "%s: %s", t->rel, strerror(errno));
		goto out;
	}
	if (st)
		fsx_stat_from(st, &now);
	ok = true;
out:
	if (!placed)
		unlinkat(t->dirfd, tmp, 0);
	close(fd);
	return ok;
}

bool fsx_write_atomic(int rootfd, const char *rel, const void *data, size_t len,
		      const struct file_stat *expect, struct file_stat *st,
		      bool *stale, struct err *e)
{
	struct target t = {.rel = rel};
	char *dir = split(rel, &t.base);
	bool ok = false;

	*stale = false;
	if (!base_ok(rel, t.base, e))
		goto out;
	if (!expect && !fsx_mkdirs_beneath(rootfd, rel, e))
		goto out;
	t.dirfd = open_dir(rootfd, dir);
	if (t.dirfd < 0) {
		beneath_err(e, rel, errno);
		goto out;
	}
	ok = write_temp(&t, data, len, expect, st, stale, e);
	close(t.dirfd);
out:
	free(dir);
	return ok;
}

/* ---- moving and removing ---- */

/* Opens the directory of rel beneath rootfd; *base gets the last name. */
static int open_parent(int rootfd, const char *rel, const char **base,
		       struct err *e)
{
	char *dir = split(rel, base);
	int fd = -1;

	if (!base_ok(rel, *base, e))
		goto out;
	fd = open_dir(rootfd, dir);
	if (fd < 0)
		beneath_err(e, rel, errno);
out:
	free(dir);
	return fd;
}

/* fsyncs the directory fd; rel names a file in it for the message. */
static bool sync_dir(int fd, const char *rel, struct err *e)
{
	if (sync_fd(fd) < 0)
		return err_set(e, "%s: %s", rel, strerror(errno));
	return true;
}

/* A move refused: the directory this user may not write, the target's
 * unless only the source's is. */
static void moved_denied(struct err *e, const char *from, const char *to,
			 int err, int ffd, int tfd)
{
	char *msg;

	if (faccessat(tfd, ".", W_OK | X_OK, AT_EACCESS) == 0 &&
	    faccessat(ffd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		fail_dir(e, from, err, ffd);
		return;
	}
	fail_dir(e, to, err, tfd);
	msg = xasprintf("%s -> %s", from, e->msg);
	err_set(e, "%s", msg);
	free(msg);
}

/* Spare inodes (issue 26): the files a batch's renames replace are kept
 * in a directory of the database's (dbhome's spare: DATABASE.spare/), and
 * a later batch writes a replacing file's text into one of them instead
 * of creating a temporary file, then swaps it with the file it replaces
 * (renameat2 RENAME_EXCHANGE), the replaced inode becoming the spare. No
 * inode is created or freed for an edit: on ext4 without a journal the
 * creation steps over every inode freed in the last minutes, and with
 * -o discard each free waits for the disk (together 20-30 ms of 100
 * edits' threads after a few runs). A spare is named after its inode
 * number and mtime (spare_name), which a file git or anyone else puts
 * there cannot know, and is used only when it still has that name, is a
 * regular file of ours with one link and on the story's file system: the
 * directory may be anywhere the configuration says, and nothing but a
 * file of storysync's is ever written through it. */
#define SPARE_NAME     48
#define SPARES_MAX     256
#define SPARE_SIZE_MAX (64 * 1024)
struct spares {
	const char *path; /* the directory, or NULL: none */
	const char *root; /* opened beneath it (fsx_open_in), or NULL */
	int fd;           /* open (made when the first is kept), or -1 */
	dev_t dev;
	uint64_t mnt;  /* its mount (mount_of) */
	bool listed;   /* looked for (fd -1: none there) */
	bool unusable; /* could not be made or opened */
	bool dirty;    /* changed since its last fsync */
	char (*names)[SPARE_NAME];
	size_t n, cap, next; /* listed; the next to hand out */
	size_t count;        /* entries there: listed and kept since */
};

/* A directory the batch writes in: open once, fsynced once. */
struct batch_dir {
	char *rel; /* "." for the root */
	int fd;
	dev_t dev;
	uint64_t mnt; /* its mount (mount_of), once asked, else 0 */
	bool dirty;   /* a rename or removal in it waits for its fsync */
	int plain;    /* no setgid, no extended attribute (a default ACL, a
			 label): 1, else -1; 0 until asked (spares_hide) */
};

/* A temporary file's writing, handed to the writers: the inputs copied,
 * the outcome kept until the batch's thread takes it (write_wait). */
struct batch_job {
	struct batch_job *next; /* in the writers' queue */
	size_t dir;             /* the batch's */
	int dirfd;              /* its, open while the file is live */
	char *rel, *data;
	size_t len;
	bool replace;
	struct stat old;        /* the file replaced: mode and owner to keep */
	int spare_fd;           /* the spares' directory, when spare is set */
	dev_t dev;              /* the directory's file system */
	char spare[SPARE_NAME]; /* a spare to write in, or "" */
	char keep[SPARE_NAME];  /* its name once written, or "": the file
				   it replaces, which the swap puts there */
	bool named;  /* name chosen by the batch's thread (and journaled):
			a temporary file made has that one */
	bool hidden; /* made in the spares' directory (spare_fd), where
			git does not look, not beside the story */
	char name[256];
	/* filled by the writer */
	bool done;
	bool created;    /* tmp exists */
	bool from_spare; /* tmp is in the spares' dir: a spare, or hidden */
	bool ok;
	char tmp[256];
	struct stat st; /* tmp's once written: its identity in place */
	struct err e;
};

/* A file staged: its temporary file written, not yet in place. */
struct batch_file {
	char *rel;
	const char *base; /* in rel */
	size_t dir;       /* in dirs */
	int fd;           /* the temporary file, while it is written */
	char tmp[256];
	struct batch_job *job; /* its writing, until waited for */
	char *werr;            /* the writing's failure, or NULL */
	bool replace;        /* over the file there, else only where none is */
	bool spare;          /* tmp is in the spares' directory */
	bool hidden;         /* tmp, in the spares' directory, is a new file */
	bool live;           /* neither placed nor dropped */
	bool synced;         /* the flush ran since it was staged */
	int err;             /* the flush's errno, or 0 */
	struct file_stat st; /* the written file's (fsx_batch_ident) */
	char *unplaced;      /* journaled, synced, before tmp is given up
				unplaced (fsx_batch_unplaced), or NULL */
};

/* The threads that write the temporary files while the batch's thread
 * makes the next ones' texts: creating a file is not cheap (on ext4
 * without a journal, the inode allocator steps over each inode freed in
 * the last minutes, a buffer lookup each: 0.1-0.3 ms a file after a
 * hundred files were replaced), nor is starting its writeback. Two, that
 * create files side by side, never in the same directory at once: a
 * creation holds its directory's lock, for which the other would spin
 * (rwsem_spin_on_owner: 8-15% of the run's samples when they did). */
#define WRITERS 2
struct writers {
	pthread_mutex_t mu;
	pthread_cond_t work, done_cv;
	struct batch_job *head, *tail;
	size_t busy[WRITERS]; /* the directory each writes in, or SIZE_MAX */
	bool stop;
	int nthreads;
	pthread_t threads[WRITERS];
};

/* The files a rename replaced, closed off the thread that renames: the
 * last reference to a replaced file frees it, and on a file system
 * mounted with -o discard, ext4 discards its blocks there and waits for
 * the disk (0.2-2 ms a file here, more on a busy disk). Held by an O_PATH
 * descriptor (no open of the file itself) from before the rename, so the
 * rename does not free it, and handed to two threads that close them
 * while the run goes on, their discards waited for side by side. */
#define REAPERS 2
struct reaper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int *fds;
	size_t nfds, capfds;
	bool done;
	int nthreads;
	pthread_t threads[REAPERS];
};

struct fsx_batch {
	int rootfd;
	int journal; /* the write journal (not ours), or -1 */
	dev_t journal_dev;
	bool journal_dirty; /* lines appended since its last sync */
	int journal_err;    /* a failed sync of it, for good, or 0 */
	struct batch_dir *dirs;
	size_t ndirs, capdirs;
	struct batch_file *files;
	size_t nfiles, capfiles;
	struct reaper *reaper;
	struct writers *writers;
	struct spares spares;
	/* the top directory of each chain the batch made (fsx_batch_made) */
	char **made;
	size_t nmade, capmade;
};

static void *reap(void *arg)
{
	struct reaper *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		int fd;

		while (!r->nfds && !r->done)
			pthread_cond_wait(&r->cv, &r->mu);
		if (!r->nfds)
			break;
		fd = r->fds[--r->nfds];
		pthread_mutex_unlock(&r->mu);
		close(fd);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Closes fd on a reaper thread, or here when none could be started. */
static void reaper_close(struct fsx_batch *b, int fd)
{
	struct reaper *r = b->reaper;

	if (!r) {
		r = b->reaper = xcalloc(1, sizeof(*r));
		pthread_mutex_init(&r->mu, NULL);
		pthread_cond_init(&r->cv, NULL);
		while (r->nthreads < REAPERS &&
		       pthread_create(&r->threads[r->nthreads], NULL, reap,
				      r) == 0)
			r->nthreads++;
	}
	if (!r->nthreads) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->fds = xgrow(r->fds, &r->capfds, r->nfds + 1, sizeof(*r->fds));
	r->fds[r->nfds++] = fd;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Waits for the reapers to close what they were given. */
static void reaper_finish(struct reaper *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->done = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	for (size_t i = 0; i < r->nfds; i++)
		close(r->fds[i]);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->fds);
	free(r);
}

/* The name of a spare whose stat data is st: its inode and mtime. */
static void spare_name(char out[SPARE_NAME], const struct stat *st)
{
	snprintf(out, SPARE_NAME, "%jx-%jx.%09ld", (uintmax_t)st->st_ino,
		 (uintmax_t)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* The mount the file open as fd is on (statx's mount id), or 1 when the
 * kernel does not tell (before Linux 5.8): a rename or a swap between two
 * directories needs them on one mount, not only one file system (a bind
 * mount of a folder of the tree has the tree's st_dev, and EXDEV). */
static uint64_t mount_of(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID,
		  &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 1;
	return stx.stx_mnt_id + 2;
}

/* Whether the spares' directory and d are on one mount (d's asked once). */
static bool spares_beside(const struct spares *sp, struct batch_dir *d)
{
	if (sp->dev != d->dev)
		return false;
	if (!d->mnt)
		d->mnt = mount_of(d->fd);
	return sp->mnt == d->mnt;
}

/* Opens the spares' directory at path when it is a directory of ours
 * (no symlink), made 0700 when it is not (made by another: git checking
 * out a branch that tracks a file there makes it 0755, and the spares
 * keep old texts of stories); -1 otherwise. */
static int spares_open(struct spares *sp)
{
	struct stat st;
	int fd = fsx_open_in(sp->root, sp->path,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)) {
		close(fd);
		return -1;
	}
	sp->dev = st.st_dev;
	sp->mnt = mount_of(fd);
	return sp->fd = fd;
}

static bool spare_named(const char *name);

/* Whether st, at name in the spares' directory, is a spare: a regular
 * file of ours with one link, named after its inode and mtime. */
static bool spare_is(const char *name, const struct stat *st)
{
	char want[SPARE_NAME];

	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 ||
	    st->st_uid != geteuid())
		return false;
	spare_name(want, st);
	return strcmp(want, name) == 0;
}

/* Lists the spares kept, once (none when their directory is not there).
 * A file of ours named as a spare but another inode's (a copy of the
 * directory, cp -a or a backup put back; a run killed between a swap and
 * its spare's renaming) is never one, and is removed. */
static void spares_list(struct spares *sp)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (sp->listed || !sp->path)
		return;
	sp->listed = true;
	if (spares_open(sp) < 0)
		return;
	fd = fcntl(sp->fd, F_DUPFD_CLOEXEC, 0);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) && sp->count < SPARES_MAX) {
		if (de->d_name[0] == '.' ||
		    fstatat(sp->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!spare_is(de->d_name, &st)) {
			if (S_ISREG(st.st_mode) && st.st_nlink == 1 &&
			    st.st_uid == geteuid() && spare_named(de->d_name) &&
			    unlinkat(sp->fd, de->d_name, 0) == 0)
				continue;
			sp->count++;
			continue;
		}
		sp->count++;
		sp->names = xgrow(sp->names, &sp->cap, sp->n + 1,
				  sizeof(*sp->names));
		memcpy(sp->names[sp->n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
}

static int dir_in(const char *root, const char *path, const char **base);

/* The spares' directory, made (0700, its parent fsynced) when it is not
 * there: false when none can be had. */
static bool spares_made(struct spares *sp)
{
	const char *base;
	int dir;

	if (sp->fd >= 0)
		return true;
	if (!sp->path || sp->unusable)
		return false;
	/* its parent (the database's directory) beneath the root through
	 * no link, as the other side files; a root run's is its parent's
	 * owner's (own_like), which spares_open then refuses to root: a
	 * root run on another's tree keeps no spare and makes its
	 * temporary files beside the story */
	dir = dir_in(sp->root, sp->path, &base);
	if (dir >= 0 && mkdirat(dir, base, 0700) == 0) {
		own_like_at(dir, -1, base);
		sync_fd(dir);
	}
	if (dir >= 0)
		close(dir);
	sp->unusable = spares_open(sp) < 0;
	return !sp->unusable;
}

static bool has_xattr(int fd);

/* Whether a new temporary file for directory d is made in the spares'
 * directory (made now when it is not there): on d's mount, so that the
 * rename out of it is one, as beside the story, and only where a file
 * made in d takes nothing of d's (its group when setgid, its default
 * ACL, its security label: d has no extended attribute), which one made
 * in the spares' directory would lack. Its files are never a spare
 * (spares_list skips a hidden name). */
static bool spares_hide(struct fsx_batch *b, struct batch_dir *d)
{
	struct spares *sp = &b->spares;
	struct stat st;

	if (!d->plain) {
		bool plain = fstat(d->fd, &st) == 0 &&
			     !(st.st_mode & S_ISGID) && !has_xattr(d->fd);

		d->plain = plain ? 1 : -1;
	}
	if (!sp->path || d->plain < 0)
		return false;
	spares_list(sp);
	return spares_made(sp) && spares_beside(sp, d);
}

/* A spare for a file of directory d, to write in: its name, or NULL. */
static const char *spare_take(struct fsx_batch *b, struct batch_dir *d)
{
	struct spares *sp = &b->spares;

	spares_list(sp);
	if (sp->fd < 0 || sp->unusable || sp->next >= sp->n ||
	    !spares_beside(sp, d))
		return NULL;
	return sp->names[sp->next++];
}

/* Whether old may be a spare: a small regular file of ours, writable,
 * with no other link. */
static bool spare_fits(const struct stat *old)
{
	return S_ISREG(old->st_mode) && old->st_nlink == 1 &&
	       old->st_uid == geteuid() && (old->st_mode & S_IWUSR) &&
	       old->st_size <= SPARE_SIZE_MAX;
}

/* Whether old, which a rename is about to replace in d, is kept as a
 * spare: it may be one (spare_fits), on d's file system, and there is
 * room for it. */
static bool spare_keeps(struct fsx_batch *b, struct batch_dir *d,
			const struct stat *old)
{
	struct spares *sp = &b->spares;

	if (!sp->path || sp->unusable || sp->count >= SPARES_MAX ||
	    !spare_fits(old))
		return false;
	spares_list(sp);
	return spares_made(sp) && spares_beside(sp, d);
}

/* Whether name has the form of a spare's name (spare_name). */
static bool spare_named(const char *name)
{
	uintmax_t ino, sec;
	long nsec;
	int end = 0;

	return sscanf(name, "%jx-%jx.%9ld%n", &ino, &sec, &nsec, &end) == 3 &&
	       end > 0 && !name[end];
}

/* Whether no one but us has the file open as fd (ours, open for writing):
 * a write lease is granted only then (fs/locks.c counts every other open
 * descriptor, reader or writer, and each mapping's). A spare was a story
 * file, which anyone who could read it may have opened before it was
 * replaced: the next text written into it would be read (another user
 * reading a private story through a public one's descriptor) or written
 * over (a writer's descriptor writing into another story) through it. */
static bool open_only_here(int fd)
{
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		return false;
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return true;
}

/* Whether the file open as fd has an extended attribute (or cannot be
 * asked): the replaced story's, which the next story must not take (an
 * access ACL, which chmod's mask would not take back from its named
 * users and groups; a security label; a user's own attribute). */
static bool has_xattr(int fd)
{
	ssize_t n = flistxattr(fd, NULL, 0);

	return n != 0 && !(n < 0 && errno == ENOTSUP);
}

/* Opens j's spare for writing, if it is still one (spare_is), on the
 * file system of j's directory, open nowhere else and with no extended
 * attribute, and
 * gives it, before any text is written, the mode and group of the file
 * it replaces (its own are another story's); -1 otherwise. On a
 * writer's thread. */
static int spare_open(const struct batch_job *j, off_t *size)
{
	struct stat st;
	int fd = openat(j->spare_fd, j->spare,
			O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && spare_is(j->spare, &st) &&
	    st.st_dev == j->dev && open_only_here(fd) && !has_xattr(fd) &&
	    (st.st_gid == j->old.st_gid ||
	     fchown(fd, (uid_t)-1, j->old.st_gid) == 0) &&
	    fchmod(fd, j->old.st_mode & 07777) == 0) {
		*size = st.st_size;
		return fd;
	}
	close(fd);
	return -1;
}

static bool dir_changed(struct fsx_batch *b, const char *rel, int fd,
			struct err *e);
static bool journal_durable(struct fsx_batch *b, struct err *e);

/* fsx_move_beneath; with a batch, the directories' fsyncs wait for
 * fsx_batch_sync_dirs. */
static void note_made(struct fsx_batch *b, const char *rel, size_t made);

static bool move_beneath(int rootfd, const char *from, const char *to,
			 struct fsx_batch *b, struct err *e)
{
	size_t made = 0;
	const char *fbase, *tbase;
	int ffd, tfd = -1;
	bool ok = false;

	ffd = open_parent(rootfd, from, &fbase, e);
	if (ffd < 0)
		return false;
	if (!mkdirs_beneath(rootfd, to, &made, e))
		goto out;
	if (b)
		note_made(b, to, made);
	tfd = open_parent(rootfd, to, &tbase, e);
	if (tfd < 0 || (b && !journal_durable(b, e)))
		goto out;
	if (renameat2(ffd, fbase, tfd, tbase, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			err_set(e, "%s: exists; %s not moved", to, from);
		else if (errno == ENOENT)
			err_set(e, "%s: %s", from, strerror(errno));
		else if (errno == EACCES || errno == EPERM)
			moved_denied(e, from, to, errno, ffd, tfd);
		else
			err_set(e, "%s -> %s: %s", from, to, strerror(errno));
		goto out;
	}
	ok = dir_changed(b, to, tfd, e) && dir_changed(b, from, ffd, e);
out:
	if (tfd >= 0)
		close(tfd);
	close(ffd);
	return ok;
}

bool fsx_move_beneath(int rootfd, const char *from, const char *to,
		      struct err *e)
{
	return move_beneath(rootfd, from, to, NULL, e);
}

bool fsx_batch_move(struct fsx_batch *b, const char *from, const char *to,
		    struct err *e)
{
	return move_beneath(b->rootfd, from, to, b, e);
}

/* Notes that the batch made the deepest made directories of rel's
 * parent. */
static void note_made(struct fsx_batch *b, const char *rel, size_t made)
{
	char *dir;

	if (!made)
		return;
	dir = xstrdup(rel);
	for (size_t i = 0; i < made && strrchr(dir, '/'); i++)
		*strrchr(dir, '/') = '\0';
	b->made = xgrow(b->made, &b->capmade, b->nmade + 1, sizeof(*b->made));
	b->made[b->nmade++] = dir;
}

const char *fsx_batch_made(const struct fsx_batch *b, const char *rel)
{
	for (size_t i = 0; b && i < b->nmade; i++) {
		size_t n = strlen(b->made[i]);

		if (strncmp(rel, b->made[i], n) == 0 && rel[n] == '/')
			return b->made[i];
	}
	return NULL;
}

/* fsx_unlink_beneath; with a batch, as move_beneath. */
static bool unlink_beneath(int rootfd, const char *rel,
			   const struct file_stat *expect, bool *stale,
			   struct fsx_batch *b, struct err *e)
{
	const char *base;
	struct stat old;
	bool ok = false;
	int fd;

	*stale = false;
	fd = open_parent(rootfd, rel, &base, e);
	if (fd < 0)
		return false;
	if (expect && !still_expected(fd, base, rel, expect, &old, stale, e))
		goto out;
	if (b && !journal_durable(b, e))
		goto out;
	if (unlinkat(fd, base, 0) < 0) {
		fail_dir(e, rel, errno, fd);
		goto out;
	}
	ok = dir_changed(b, rel, fd, e);
out:
	close(fd);
	return ok;
}

bool fsx_unlink_beneath(int rootfd, const char *rel,
			const struct file_stat *expect, bool *stale,
			struct err *e)
{
	return unlink_beneath(rootfd, rel, expect, stale, NULL, e);
}

bool fsx_rmdir_beneath(int rootfd, const char *rel, struct err *e)
{
	const char *base;
	int fd = open_parent(rootfd, rel, &base, e);
	bool ok;

	if (fd < 0)
		return false;
	ok = unlinkat(fd, base, AT_REMOVEDIR) == 0;
	if (!ok)
		fail_dir(e, rel, errno, fd);
	close(fd);
	return ok;
}

bool fsx_batch_unlink(struct fsx_batch *b, const char *rel,
		      const struct file_stat *expect, bool *stale,
		      struct err *e)
{
	return unlink_beneath(b->rootfd, rel, expect, stale, b, e);
}

/* ---- batched writes ---- */

struct fsx_batch *fsx_batch_create(int rootfd, int journal, const char *spares,
				   const char *root)
{
	struct fsx_batch *b = xcalloc(1, sizeof(*b));
	struct stat st;

	b->rootfd = rootfd;
	b->journal = journal;
	b->spares.path = spares;
	b->spares.root = root;
	b->spares.fd = -1;
	if (journal >= 0 && fstat(journal, &st) == 0)
		b->journal_dev = st.st_dev;
	return b;
}

bool fsx_batch_journal(struct fsx_batch *b, const char *line, struct err *e)
{
	if (b->journal < 0)
		return true;
	b->journal_dirty = true;
	return fsx_journal_add(b->journal, line, e);
}

/* fdatasync of the journal's lines appended since the last (none in the
 * test suite's no-sync mode); a failure stays: after it the kernel may
 * have dropped the lines and a second fdatasync would say nothing of
 * them. Returns the errno, or 0. */
static int journal_sync(struct fsx_batch *b)
{
	if (b->journal_err || !b->journal_dirty)
		return b->journal_err;
	if (!fsx_test_nosync() && fdatasync(b->journal) < 0)
		return b->journal_err = errno;
	b->journal_dirty = false;
	return 0;
}

/* Before a rename, move or removal of the batch: every journal line
 * durable (synced now if the barrier did not). */
static bool journal_durable(struct fsx_batch *b, struct err *e)
{
	int err = journal_sync(b);

	if (err)
		return err_set(e, "write journal: %s", strerror(err));
	return true;
}

/* The directory dir (fd: open already, to duplicate; -1: to open beneath
 * the root), added once; -1 with errno when it cannot be opened. */
static ssize_t batch_dir(struct fsx_batch *b, const char *dir, int fd)
{
	struct batch_dir *d;
	struct stat st;

	for (size_t i = 0; i < b->ndirs; i++)
		if (strcmp(b->dirs[i].rel, dir) == 0)
			return (ssize_t)i;
	fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : open_dir(b->rootfd, dir);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	b->dirs = xgrow(b->dirs, &b->capdirs, b->ndirs + 1, sizeof(*d));
	d = &b->dirs[b->ndirs];
	*d = (struct batch_dir){
		.rel = xstrdup(dir), .fd = fd, .dev = st.st_dev};
	return (ssize_t)b->ndirs++;
}

/* Marks the directory of rel, open as fd, for the fsync of
 * fsx_batch_sync_dirs; without a batch, fsyncs it now. */
static bool dir_changed(struct fsx_batch *b, const char *rel, int fd,
			struct err *e)
{
	const char *base;
	char *dir;
	ssize_t i;

	if (!b)
		return sync_dir(fd, rel, e);
	dir = split(rel, &base);
	i = batch_dir(b, dir, fd);
	free(dir);
	if (i < 0)
		return err_set(e, "%s: %s", rel, strerror(errno));
	b->dirs[i].dirty = true;
	return true;
}

/* Writes j's temporary file: created, filled, its mode and owner those
 * of the file it replaces, its writeback started. On a writer's thread. */
static void job_write(struct batch_job *j)
{
	const char *slash = strrchr(j->rel, '/');
	const char *base = slash ? slash + 1 : j->rel;
	off_t size = 0;
	int fd = j->spare[0] ? spare_open(j, &size) : -1;
	bool reused = fd >= 0; /* a spare, given the old file's mode */

	if (reused) {
		j->from_spare = true;
		/* named now after the file it will replace, which the swap
		 * puts at this name (in the spares' directory: no story's;
		 * and not a spare until then), so no rename follows it */
		if (j->keep[0] &&
		    renameat(j->spare_fd, j->spare, j->spare_fd, j->keep) == 0)
			memcpy(j->tmp, j->keep, sizeof(j->keep));
		else
			memcpy(j->tmp, j->spare, sizeof(j->spare));
	} else if (j->named) {
		/* the name journaled: that one or none (a file there already
		 * is not ours, and another name would not be journaled) */
		memcpy(j->tmp, j->name, sizeof(j->tmp));
		j->from_spare = j->hidden;
		fd = openat(j->hidden ? j->spare_fd : j->dirfd, j->tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    j->replace ? 0600 : 0644);
	} else {
		fd = create_temp(j->dirfd, base, j->replace ? 0600 : 0644,
				 j->tmp, sizeof(j->tmp));
	}
	if (fd < 0) {
		/* fail_dir's message, with no allocation on this thread (an
		 * allocation failure's handler is the batch's thread's) */
		int err = errno;
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s",
			 slash ? (int)(slash - j->rel) : 1,
			 slash ? j->rel : ".");
		fail_at(&j->e, j->rel, err, j->dirfd, dir);
		return;
	}
	j->created = true;
	if (!j->replace)
		own_like_at(j->dirfd, fd, NULL);
	/* a spare's old text cut after the new one's; its mode is the old
	 * file's already (spare_open), unless the write cleared a set-id bit */
	if (!write_all(fd, j->data, j->len) ||
	    (size > (off_t)j->len && ftruncate(fd, (off_t)j->len) < 0) ||
	    (j->replace &&
	     !(reused && !(j->old.st_mode & 06000) ? keep_owner(fd, &j->old)
						   : keep_mode(fd, &j->old)))) {
		err_set(&j->e, "%s: %s", j->rel, strerror(errno));
	} else {
		/* the writeback starts now, while the next files are
		 * written; the flush waits for all of it at once */
		if (!fsx_test_nosync())
			sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		/* its identity once in place: a rename keeps the inode and
		 * the mtime, which nothing after the write changes */
		j->ok = fstat(fd, &j->st) == 0;
		if (!j->ok)
			err_set(&j->e, "%s: %s", j->rel, strerror(errno));
	}
	/* closed: a batch holds no more descriptors than directories */
	close(fd);
}

/* The first job queued in a directory no other writer is in, taken off
 * the queue; NULL when there is none. */
static struct batch_job *write_next(struct writers *w, int me)
{
	for (struct batch_job **p = &w->head, *prev = NULL; *p;
	     prev = *p, p = &(*p)->next) {
		struct batch_job *j = *p;
		bool taken = false;

		for (int i = 0; i < WRITERS && !taken; i++)
			taken = i != me && w->busy[i] == j->dir;
		if (taken)
			continue;
		*p = j->next;
		if (w->tail == j)
			w->tail = prev;
		w->busy[me] = j->dir;
		return j;
	}
	return NULL;
}

struct writer_arg {
	struct writers *w;
	int me;
};

static void *write_run(void *arg)
{
	struct writers *w = ((struct writer_arg *)arg)->w;
	int me = ((struct writer_arg *)arg)->me;

	free(arg);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct batch_job *j;

		while (!(j = write_next(w, me)) && !(w->stop && !w->head))
			pthread_cond_wait(&w->work, &w->mu);
		if (!j)
			break;
		pthread_mutex_unlock(&w->mu);
		job_write(j);
		pthread_mutex_lock(&w->mu);
		j->done = true;
		w->busy[me] = SIZE_MAX;
		pthread_cond_broadcast(&w->done_cv);
		/* a job held back by this directory may go now */
		if (w->head)
			pthread_cond_broadcast(&w->work);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands j to the writers (a thread more for each file staged, up to
 * WRITERS), or writes it here when none could be started. */
static void write_queue(struct fsx_batch *b, struct batch_job *j)
{
	struct writers *w = b->writers;

	if (!w) {
		w = b->writers = xcalloc(1, sizeof(*w));
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->work, NULL);
		pthread_cond_init(&w->done_cv, NULL);
		for (int i = 0; i < WRITERS; i++)
			w->busy[i] = SIZE_MAX;
	}
	if (w->nthreads < WRITERS) {
		struct writer_arg *a = xmalloc(sizeof(*a));

		*a = (struct writer_arg){.w = w, .me = w->nthreads};
		if (pthread_create(&w->threads[w->nthreads], NULL, write_run,
				   a) == 0)
			w->nthreads++;
		else
			free(a);
	}
	if (!w->nthreads) {
		job_write(j);
		j->done = true;
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

/* The directory f's temporary file is in: its own, or the spares'. */
static int tmp_dir(const struct fsx_batch *b, const struct batch_file *f)
{
	return f->spare ? b->spares.fd : b->dirs[f->dir].fd;
}

/* Waits for f's temporary file to be written, and takes the outcome: on
 * a failure, its message kept for fsx_batch_place and the file given up. */
static void write_wait(struct fsx_batch *b, struct batch_file *f)
{
	struct batch_job *j = f->job;
	struct writers *w = b->writers;

	if (!j)
		return;
	if (w) {
		pthread_mutex_lock(&w->mu);
		while (!j->done)
			pthread_cond_wait(&w->done_cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
	f->job = NULL;
	memcpy(f->tmp, j->tmp, sizeof(f->tmp));
	f->spare = j->from_spare;
	f->hidden = j->hidden;
	fsx_stat_from(&f->st, &j->st);
	if (!j->ok) {
		f->werr = xstrdup(j->e.msg);
		if (j->created)
			unlinkat(tmp_dir(b, f), f->tmp, 0);
		f->live = false;
	}
	free(j->rel);
	free(j->data);
	free(j);
}

/* Stops the writers, each having written what it was given. */
static void writers_finish(struct writers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	pthread_cond_destroy(&w->done_cv);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Gives f up: its temporary file removed. */
static void batch_drop(struct fsx_batch *b, struct batch_file *f)
{
	write_wait(b, f);
	if (!f->live)
		return;
	/* its identity journaled as the file's in place ("@ "): said never
	 * placed, synced, before the file that tells it goes; when it cannot
	 * be, the file stays for the next run to tell (and remove) */
	if (!f->unplaced || b->journal < 0 ||
	    (fsx_batch_journal(b, f->unplaced, NULL) &&
	     journal_durable(b, NULL)))
		unlinkat(tmp_dir(b, f), f->tmp, 0);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->live = false;
}

/* Checks like (when not NULL: the file whose mode and owner the new one
 * keeps, which must have the stat data expect) or, for a new file, that
 * nothing is at rel; fills *old. */
static bool batch_check(struct fsx_batch *b, size_t di, const char *rel,
			const char *base, const char *like,
			const struct file_stat *expect, struct stat *old,
			bool *stale, struct err *e)
{
	const char *lbase;
	char *ldir;
	ssize_t li;

	if (!like)
		return still_expected(b->dirs[di].fd, base, rel, NULL, old,
				      stale, e);
	ldir = split(like, &lbase);
	li = batch_dir(b, ldir, -1);
	free(ldir);
	if (li < 0)
		return beneath_err(e, like, errno);
	return still_expected(b->dirs[li].fd, lbase, like, expect, old, stale,
			      e);
}

/* Journals the names j's file may be written under before any is made
 * (note: the line's start, "t ID"; NULL: none): its temporary file's, in
 * the spares' directory ("spare NAME") or beside the story ("tree PATH",
 * PATH beneath the root), and a spare's and the name the spare takes
 * ("spare NAME"), so that the next run removes a killed run's temporary
 * files, and only those, and tells a write put in place from one still
 * there (journal.h's "t " line). */
static bool journal_names(struct fsx_batch *b, struct batch_job *j,
			  const char *note, struct err *e)
{
	const char *slash = strrchr(j->rel, '/');
	struct buf line = BUF_INIT;
	bool ok;

	if (!note || b->journal < 0)
		return true;
	if (j->hidden)
		buf_printf(&line, "%s spare %s\n", note, j->name);
	else if (slash)
		buf_printf(&line, "%s tree %.*s/%s\n", note,
			   (int)(slash - j->rel), j->rel, j->name);
	else
		buf_printf(&line, "%s tree %s\n", note, j->name);
	if (j->spare[0])
		buf_printf(&line, "%s spare %s\n", note, j->spare);
	if (j->keep[0])
		buf_printf(&line, "%s spare %s\n", note, j->keep);
	ok = fsx_batch_journal(b, line.data, e);
	buf_finish(&line);
	return ok;
}

/* Has the temporary file of f, whose directory is dirfd, written by the
 * writers: data copied, old the file replaced (NULL for a new file), its
 * names journaled first (journal_names); false, nothing made, when they
 * could not be. */
static bool batch_write(struct fsx_batch *b, struct batch_file *f, int dirfd,
			const void *data, size_t len, const struct stat *old,
			const char *note, struct err *e)
{
	struct batch_job *j = xcalloc(1, sizeof(*j));

	j->dir = f->dir;
	j->dirfd = dirfd;
	j->rel = xstrdup(f->rel);
	j->len = len;
	j->replace = f->replace;
	if (f->replace) {
		const char *spare = spare_take(b, &b->dirs[f->dir]);

		j->old = *old;
		if (spare) {
			j->spare_fd = b->spares.fd;
			j->dev = b->dirs[f->dir].dev;
			memcpy(j->spare, spare, sizeof(j->spare));
			if (spare_fits(old))
				spare_name(j->keep, old);
		}
	}
	/* made where git does not see it (a killed run's would be taken in
	 * by a person's add -A) when the spares' directory is on the
	 * story's mount, from which the rename then puts it in place */
	if (!j->spare[0] && spares_hide(b, &b->dirs[f->dir])) {
		j->hidden = true;
		j->spare_fd = b->spares.fd;
	}
	j->named = temp_name(f->base, j->name, sizeof(j->name));
	if (!j->named || !journal_names(b, j, note, e)) {
		if (!j->named)
			err_set(e, "%s: %s", f->rel, strerror(errno));
		free(j->rel);
		free(j);
		return false;
	}
	j->data = xmalloc(len ? len : 1);
	memcpy(j->data, data, len);
	f->job = j;
	f->live = true;
	write_queue(b, j);
	return true;
}

int fsx_batch_stage(struct fsx_batch *b, const char *rel, const void *data,
		    size_t len, const char *like,
		    const struct file_stat *expect, const char *note,
		    bool *stale, struct err *e)
{
	struct batch_file *f;
	const char *base;
	char *dir = split(rel, &base);
	struct stat old;
	ssize_t di = -1;
	int slot = -1;
	size_t made = 0;

	*stale = false;
	if (!base_ok(rel, base, e))
		goto out;
	/* a file replaced in place is in a directory that exists */
	if ((!like || strcmp(like, rel) != 0) &&
	    !mkdirs_beneath(b->rootfd, rel, &made, e))
		goto out;
	note_made(b, rel, made);
	di = batch_dir(b, dir, -1);
	if (di < 0) {
		beneath_err(e, rel, errno);
		goto out;
	}
	if (!batch_check(b, (size_t)di, rel, base, like, expect, &old, stale,
			 e))
		goto out;
	b->files = xgrow(b->files, &b->capfiles, b->nfiles + 1, sizeof(*f));
	f = &b->files[b->nfiles];
	*f = (struct batch_file){.rel = xstrdup(rel),
				 .dir = (size_t)di,
				 .fd = -1,
				 .replace = like != NULL};
	f->base = f->rel + (base - rel);
	slot = (int)b->nfiles++;
	/* not written: the slot stays, not live, as one dropped */
	if (!batch_write(b, f, b->dirs[di].fd, data, len, &old, note, e))
		slot = -1;
out:
	free(dir);
	return slot;
}

/* fsyncs the temporary file of f, open again. */
static int sync_one(const struct fsx_batch *b, const struct batch_file *f)
{
	int fd = openat(tmp_dir(b, f), f->tmp,
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int err = 0;

	if (fd < 0 || fsync(fd) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	return err;
}

/* The journal's fdatasync, on a thread of its own beside the barrier. */
struct journal_sync_job {
	struct fsx_batch *b;
	int err;
	pthread_t thread;
};

static void *journal_sync_run(void *arg)
{
	struct journal_sync_job *j = arg;

	j->err = journal_sync(j->b);
	return NULL;
}

/* The files' barrier for n of them, one (when n is 1) or more: the fsync
 * of the only one, or syncfs of each file system they are on (the
 * writeback of each was started when it was written); *journal is true
 * when a syncfs was the journal's file system's. */
static int files_barrier(struct fsx_batch *b, size_t n, struct batch_file *one,
			 bool *journal)
{
	if (n == 1)
		return sync_one(b, one);
	for (size_t i = 0; i < b->ndirs; i++) {
		bool seen = false, used = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = b->dirs[j].dev == b->dirs[i].dev;
		for (size_t j = 0; j < b->nfiles && !used; j++)
			used = b->files[j].live && !b->files[j].synced &&
			       b->dirs[b->files[j].dir].dev == b->dirs[i].dev;
		if (seen || !used)
			continue;
		if (syncfs(b->dirs[i].fd) < 0)
			return errno;
		*journal |= b->journal >= 0 && b->dirs[i].dev == b->journal_dev;
	}
	return 0;
}

/* One barrier for every file staged since the last, and for the journal's
 * lines appended since its last sync: the files' (files_barrier), and the
 * journal's fdatasync beside it on a thread, unless the files' barrier
 * is a syncfs of the journal's file system (which holds its lines too).
 * With no file staged, the journal's fdatasync alone: a round of moves
 * and removals has its lines durable before the first of them. The
 * journal's failure is told by every rename, move and removal after it
 * (journal_durable); the files' by fsx_batch_place of each of them. */
static int batch_barrier(struct fsx_batch *b)
{
	struct batch_file *one = NULL;
	struct journal_sync_job job = {.b = b};
	bool covered = false, started = false;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < b->nfiles; i++)
		if (b->files[i].live && !b->files[i].synced) {
			one = &b->files[i];
			n++;
		}
	if (!n || fsx_test_nosync()) {
		journal_sync(b);
		return 0;
	}
	if (b->journal_dirty && !b->journal_err) {
		/* a syncfs of the journal's file system covers it */
		for (size_t i = 0; n > 1 && i < b->nfiles && !covered; i++)
			covered =
				b->files[i].live && !b->files[i].synced &&
				b->dirs[b->files[i].dir].dev == b->journal_dev;
		if (!covered)
			started = pthread_create(&job.thread, NULL,
						 journal_sync_run, &job) == 0;
		if (!covered && !started)
			journal_sync(b);
	}
	covered = false;
	err = files_barrier(b, n, one, &covered);
	if (started)
		pthread_join(job.thread, NULL);
	if (!err && covered)
		b->journal_dirty = false;
	return err;
}

void fsx_batch_flush(struct fsx_batch *b)
{
	int err;

	for (size_t i = 0; i < b->nfiles; i++)
		write_wait(b, &b->files[i]);
	err = batch_barrier(b);

	for (size_t i = 0; i < b->nfiles; i++) {
		struct batch_file *f = &b->files[i];

		if (!f->live || f->synced)
			continue;
		f->synced = true;
		f->err = err;
	}
}

/* Swaps f's file with the file it replaces in d, whose stat data is old,
 * and keeps that one as a spare: 1 done, 0 failed (e set), -1 when the
 * file system cannot swap (the caller renames as before). */
static int place_swap(struct fsx_batch *b, struct batch_file *f,
		      struct batch_dir *d, const struct stat *old, bool *stale,
		      struct err *e)
{
	struct spares *sp = &b->spares;
	int from = tmp_dir(b, f), held;
	char name[SPARE_NAME];

	if (renameat2(from, f->tmp, d->fd, f->base, RENAME_EXCHANGE) < 0) {
		if (errno == EINVAL || errno == ENOSYS || errno == EXDEV ||
		    errno == EOPNOTSUPP) {
			sp->unusable = true;
			return -1;
		}
		if (errno == ENOENT) {
			*stale = true;
			err_set(e, "%s: changed since the scan; left alone",
				f->rel);
		} else {
			fail_dir(e, f->rel, errno, d->fd);
		}
		return 0;
	}
	d->dirty = true;
	sp->dirty |= f->spare;
	/* killed here, a temporary file beside the story holds the old
	 * text (the next run removes it, as any a killed run left) */
	test_seam_kill("swapped");
	/* over nothing but a spare that was this very inode, killed (an
	 * inode and mtime are the name of one file) */
	spare_name(name, old);
	if (f->spare && strcmp(f->tmp, name) == 0)
		return 1; /* named so before (job_write) */
	if (renameat(from, f->tmp, sp->fd, name) == 0) {
		sp->dirty = true;
		sp->count += !f->spare || f->hidden;
		return 1;
	}
	/* kept nowhere: freed as a replaced file is, off this thread */
	held = openat(from, f->tmp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	unlinkat(from, f->tmp, 0);
	if (held >= 0)
		reaper_close(b, held);
	return 1;
}

bool fsx_batch_place(struct fsx_batch *b, int slot,
		     const struct file_stat *expect, bool *stale, struct err *e)
{
	struct batch_file *f = &b->files[slot];
	struct batch_dir *d = &b->dirs[f->dir];
	struct stat old;
	int held = -1, swapped = -1;

	*stale = false;
	if (!f->synced)
		fsx_batch_flush(b);
	if (f->werr)
		return err_set(e, "%s", f->werr);
	if (f->err) {
		err_set(e, "%s: %s", f->rel, strerror(f->err));
		goto drop;
	}
	if (!journal_durable(b, e) ||
	    !still_expected(d->fd, f->base, f->rel, f->replace ? expect : NULL,
			    &old, stale, e))
		goto drop;
	if (f->replace && spare_keeps(b, d, &old))
		swapped = place_swap(b, f, d, &old, stale, e);
	if (swapped == 0)
		goto drop;
	if (swapped == 1) {
		f->live = false;
		return true;
	}
	/* the file the rename replaces, freed by the reapers (none held:
	 * the rename frees it) */
	if (f->replace)
		held = openat(d->fd, f->base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (!put_in_place(tmp_dir(b, f), f->tmp, d->fd, f->base, f->rel,
			  f->replace, stale, e)) {
		if (held >= 0)
			close(held);
		goto drop;
	}
	if (held >= 0)
		reaper_close(b, held);
	f->live = false;
	d->dirty = true;
	b->spares.dirty |= f->spare;
	return true;
drop:
	batch_drop(b, f);
	return false;
}

bool fsx_batch_written(struct fsx_batch *b, int slot, struct err *e)
{
	struct batch_file *f = &b->files[slot];

	write_wait(b, f);
	return !f->werr || err_set(e, "%s", f->werr);
}

bool fsx_batch_ident(struct fsx_batch *b, int slot, struct file_stat *st)
{
	struct batch_file *f = &b->files[slot];

	write_wait(b, f);
	if (!f->live)
		return false;
	*st = f->st;
	return true;
}

void fsx_batch_unplaced(struct fsx_batch *b, int slot, const char *line)
{
	struct batch_file *f = &b->files[slot];

	free(f->unplaced);
	f->unplaced = xstrdup(line);
}

void fsx_batch_drop(struct fsx_batch *b, int slot)
{
	if (slot >= 0 && (size_t)slot < b->nfiles)
		batch_drop(b, &b->files[slot]);
}

/* Forgets the files and directories once none is staged. */
static void batch_reset(struct fsx_batch *b)
{
	for (size_t i = 0; i < b->nfiles; i++) {
		batch_drop(b, &b->files[i]);
		free(b->files[i].rel);
		free(b->files[i].werr);
		free(b->files[i].unplaced);
	}
	b->nfiles = 0;
	for (size_t i = 0; i < b->ndirs; i++) {
		close(b->dirs[i].fd);
		free(b->dirs[i].rel);
	}
	b->ndirs = 0;
	for (size_t i = 0; i < b->nmade; i++)
		free(b->made[i]);
	b->nmade = 0;
}

/* At most this many directories' fsyncs on threads at once (a batch may
 * change a hundred directories); the rest on the calling thread. */
#define DIR_SYNC_THREADS 15

/* A directory's fsync, on a thread of its own (see fsx_batch_sync_dirs). */
struct dir_sync {
	int fd;
	int err; /* errno, or 0 */
	bool started;
	pthread_t thread;
};

static void *dir_sync_run(void *arg)
{
	struct dir_sync *ds = arg;

	ds->err = sync_fd(ds->fd) < 0 ? errno : 0;
	return NULL;
}

/* The directories' fsyncs are issued side by side, each on a thread of
 * its own (here, for the last, past DIR_SYNC_THREADS, or when no thread
 * starts): on a journaled file system they wait for one journal commit,
 * where one after the other each waited for its own flush of the disk's
 * cache. All are waited for before this returns, as before; the first
 * directory, in the batch's order, whose fsync failed is told. */
bool fsx_batch_sync_dirs(struct fsx_batch *b, struct err *e)
{
	struct dir_sync *ds = xcalloc(b->ndirs + 1, sizeof(*ds));
	struct dir_sync *spares = &ds[b->ndirs];
	bool ok = true, live = false;
	size_t last = b->ndirs, nthreads = 0;

	/* the spares' directory, which the swaps changed, beside them: its
	 * entries are storysync's, and a failure there fails no story */
	if (b->spares.dirty) {
		spares->fd = b->spares.fd;
		spares->started = pthread_create(&spares->thread, NULL,
						 dir_sync_run, spares) == 0;
		if (!spares->started)
			dir_sync_run(spares);
	}
	for (size_t i = 0; i < b->ndirs; i++)
		if (b->dirs[i].dirty)
			last = i;
	for (size_t i = 0; i < b->ndirs; i++) {
		if (!b->dirs[i].dirty)
			continue;
		ds[i].fd = b->dirs[i].fd;
		ds[i].started = i != last && nthreads < DIR_SYNC_THREADS &&
				pthread_create(&ds[i].thread, NULL,
					       dir_sync_run, &ds[i]) == 0;
		if (ds[i].started)
			nthreads++;
		else
			dir_sync_run(&ds[i]);
	}
	for (size_t i = 0; i < b->ndirs; i++) {
		struct batch_dir *d = &b->dirs[i];

		if (ds[i].started)
			pthread_join(ds[i].thread, NULL);
		if (!d->dirty)
			continue;
		if (ds[i].err) {
			if (ok)
				err_set(e, "%s: %s", d->rel,
					strerror(ds[i].err));
			ok = false;
		} else {
			d->dirty = false;
		}
	}
	if (spares->started)
		pthread_join(spares->thread, NULL);
	b->spares.dirty = false;
	free(ds);
	for (size_t i = 0; i < b->nfiles && !live; i++)
		live = b->files[i].live;
	if (ok && !live)
		batch_reset(b);
	return ok;
}

void fsx_batch_destroy(struct fsx_batch *b)
{
	if (!b)
		return;
	batch_reset(b);
	writers_finish(b->writers);
	reaper_finish(b->reaper);
	if (b->spares.fd >= 0)
		close(b->spares.fd);
	free(b->spares.names);
	free(b->files);
	free(b->dirs);
	free(b->made);
	free(b);
}

/* ---- the writeback begun ahead of a batch ---- */

void fsx_writeback_begin(const char *path)
{
	int fd;

	if (fsx_test_nosync())
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	close(fd);
}

struct fsx_preflush {
	int fd;
	pthread_t thread;
};

static void *preflush_run(void *arg)
{
	struct fsx_preflush *p = arg;

	/* not a barrier: a failure is the barrier's to find */
	(void)syncfs(p->fd);
	return NULL;
}

struct fsx_preflush *fsx_preflush_start(int fd)
{
	struct fsx_preflush *p;

	if (fsx_test_nosync())
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (p->fd >= 0 &&
	    pthread_create(&p->thread, NULL, preflush_run, p) == 0)
		return p;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}

void fsx_preflush_finish(struct fsx_preflush *p)
{
	if (!p)
		return;
	pthread_join(p->thread, NULL);
	close(p->fd);
	free(p);
}

/* ---- the run lock ---- */

/* The directory of path (heap): "." for a bare name, "/" for "/name". */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/")
			     : xstrndup(path, (size_t)(slash - path));
}

/* The directory holding path, opened for the *at calls (and an fsync):
 * beneath root, through no symlink (openat2), when path lies in root
 * (non-NULL), so that a link git put on the way since any check (a
 * checkout beside a run) is not followed; else as it is. *base gets
 * path's last name. -1 with errno set. */
static int dir_in(const char *root, const char *path, const char **base)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	const char *slash = strrchr(path, '/');
	size_t n = root ? strlen(root) : 0;
	char *dir = slash ? xstrndup(path,
				     slash == path ? 1 : (size_t)(slash - path))
			  : xstrdup(".");
	int rootfd, fd, saved;

	*base = slash ? slash + 1 : path;
	if (!n || n == 1 || strncmp(dir, root, n) != 0 ||
	    (dir[n] != '/' && dir[n] != '\0')) {
		fd = open(dir, flags);
		goto out;
	}
	rootfd = open(root, flags);
	fd = rootfd < 0 || !dir[n]
		     ? rootfd
		     : fsx_open_beneath(rootfd, dir + n + 1, flags, 0);
	saved = errno;
	if (rootfd >= 0 && fd != rootfd)
		close(rootfd);
	errno = saved;
out:
	free(dir);
	return fd;
}

int fsx_open_in(const char *root, const char *path, int flags, mode_t mode)
{
	size_t n = root ? strlen(root) : 0;
	int rootfd, fd, saved;

	if (n <= 1 || strncmp(path, root, n) != 0 || path[n] != '/')
		return open(path, flags | O_CLOEXEC, mode);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = fsx_open_beneath(rootfd, path + n + 1, flags, mode);
	saved = errno;
	close(rootfd);
	errno = saved;
	return fd;
}

/* What st is, for a message. */
static const char *kind_named(mode_t m)
{
	return S_ISLNK(m)    ? "a symbolic link"
	       : S_ISDIR(m)  ? "a directory"
	       : S_ISREG(m)  ? "a regular file"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket"
			     : "a device";
}

/* Whether name in dirfd is there and not what storysync makes there. */
static bool misplaced(int dirfd, const char *name, bool dir, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       !(dir ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode));
}

int fsx_side_clear(const char *root, const char *path, bool dir,
		   const char **kind, struct err *e)
{
	size_t n = root ? strlen(root) : 0;
	const char *base;
	struct stat st;
	int dirfd, r = 0;

	if (n <= 1 || strncmp(path, root, n) != 0 || path[n] != '/')
		return 0; /* not the repository's to put there */
	dirfd = dir_in(root, path, &base);
	if (dirfd < 0 || !misplaced(dirfd, base, dir, &st))
		goto out; /* a link on the way: the open says so */
	/* two commands may find it at once: one removes it and makes its
	 * file (the run lock, held), which the other, looking again under
	 * the directory's lock or not getting it, never removes */
	/* and a live run holds the directory shared (fsx_lock): what git
	 * put at its lock's name then is left, never removed, or the next
	 * run would make a lock of its own beside the live one's, which
	 * holds the file git unlinked (two runs at once) */
	while (flock(dirfd, LOCK_EX | LOCK_NB) < 0)
		if (errno != EINTR)
			goto out;
	if (!misplaced(dirfd, base, dir, &st))
		goto out;
	*kind = kind_named(st.st_mode);
	if (unlinkat(dirfd, base, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0)
		r = 1;
	else
		r = -1;
	if (r < 0)
		err_set(e, "%s: %s, not storysync's file, not removed: %s",
			path, *kind, strerror(errno));
out:
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

/* Creates the lock file's directory when it is missing (one level). */
static void make_parent(const char *path)
{
	char *dir;

	if (!strchr(path, '/') || strrchr(path, '/') == path)
		return;
	dir = parent_of(path);
	if (mkdir(dir, 0755) == 0)
		fsx_own_like_parent(-1, dir);
	free(dir);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Takes the lock on fd as wait_s says: 0 = true when taken, 1 = held
 * elsewhere, -1 = error. */
static int take(int fd, int wait_s)
{
	int64_t deadline = mono_ns() + (int64_t)wait_s * 1000000000LL;

	if (wait_s == 0) {
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return -1;
		return 0;
	}
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (wait_s < 0 || mono_ns() >= deadline)
			return 1;
		sleep_ms(50);
	}
}

/* e for path, a file that could not be opened with err: denied, it names
 * who storysync runs as and whose the file is (or, when it is not there,
 * its directory). */
static void denied(struct err *e, const char *path, int err)
{
	struct stat st;
	char *dir;

	if (stat(path, &st) == 0) {
		fail_in(e, path, err, path, &st);
		return;
	}
	dir = parent_of(path);
	fail_in(e, path, err, dir, stat(dir, &st) == 0 ? &st : NULL);
	free(dir);
}

bool fsx_follows_tree_link(const char *root, const char *path)
{
	size_t n = strlen(root);
	char *copy = xstrdup(path);
	bool found = false;

	for (char *s = copy + 1; !found; s++) {
		char c = *s;
		struct stat st;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (s > copy && lstat(copy, &st) == 0 && S_ISLNK(st.st_mode)) {
			char *slash = strrchr(copy, '/');
			char *dir = slash == copy
					    ? xstrdup("/")
					    : xstrndup(copy,
						       (size_t)(slash - copy));
			char *real = realpath(dir, NULL);

			found = real && strncmp(real, root, n) == 0 &&
				(real[n] == '/' || real[n] == '\0' ||
				 strcmp(root, "/") == 0);
			free(real);
			free(dir);
		}
		*s = c;
		if (!c)
			break;
	}
	free(copy);
	return found;
}

/* The lock's directory a run holds shared beside each lock it holds in
 * the tree (fsx_lock), closed with it (fsx_unlock); each fd plus one (0:
 * a free place). */
static struct {
	int lock, dir;
} lock_dirs[8];

/* The directory of path (in root) held shared while the run lock is,
 * so that no command clears the lock's place (fsx_side_clear) while a
 * run is live: git may have put a link there over the file the run
 * holds. -1 when path is not in the tree (nothing clears there) or the
 * directory is not there yet. */
static int hold_dir(const char *root, const char *path)
{
	size_t n = root ? strlen(root) : 0;
	const char *base;
	int dirfd;

	if (n <= 1 || strncmp(path, root, n) != 0 || path[n] != '/')
		return -1;
	dirfd = dir_in(root, path, &base);
	if (dirfd < 0)
		return -1;
	while (flock(dirfd, LOCK_SH) < 0)
		if (errno != EINTR) {
			close(dirfd);
			return -1;
		}
	return dirfd;
}

int fsx_lock(const char *root, const char *path, int wait_s, struct err *e)
{
	/* the lock is storysync's own file, never a link: one committed at
	 * its name would have it made wherever it leads */
	const int flags = O_RDWR | O_CREAT | O_NOFOLLOW;
	int dirfd = hold_dir(root, path);
	int fd = fsx_open_in(root, path, flags, 0644);
	int r, saved;

	if (fd < 0 && errno == ENOENT) {
		make_parent(path);
		if (dirfd < 0)
			dirfd = hold_dir(root, path);
		fd = fsx_open_in(root, path, flags, 0644);
	}
	if (fd < 0 && errno == ELOOP && dirfd >= 0) {
		/* a link at the lock's name the clear left: a live run holds
		 * the directory (git put it over that run's lock) */
		err_set(e,
			"%s: a symbolic link, left while another run "
			"holds the directory: held by another run",
			path);
		close(dirfd);
		return -2;
	}
	if (fd < 0) {
		saved = errno;
		if (dirfd >= 0)
			close(dirfd);
		denied(e, path, saved);
		return -1;
	}
	fsx_own_like_parent(fd, path);
	r = take(fd, wait_s);
	if (r == 0) {
		for (size_t i = 0; dirfd >= 0 && i < 8; i++)
			if (lock_dirs[i].lock == 0) {
				lock_dirs[i].lock = fd + 1;
				lock_dirs[i].dir = dirfd + 1;
				dirfd = -1;
			}
		if (dirfd >= 0)
			close(dirfd); /* more locks than places: unheld */
		return fd;
	}
	if (r > 0)
		err_set(e, "%s: held by another run", path);
	else
		err_set(e, "%s: %s", path, strerror(errno));
	close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return r > 0 ? -2 : -1;
}

bool fsx_lock_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	/* shared and for a moment: a run starting just then waits for no
	 * one but may see the lock taken, as when two runs race */
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

bool fsx_replace(const char *path, const void *data, size_t len,
		 const struct fsx_replace_opts *o, struct err *e)
{
	const char *base;
	int dirfd = dir_in(o ? o->root : NULL, path, &base), fd = -1;
	char *tmp = xasprintf("%s.tmp-%ld", base, (long)getpid());
	mode_t mode = o && o->mode ? o->mode : 0644;
	bool ok = dirfd >= 0;

	if (ok)
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				    O_NOFOLLOW,
			    mode);
	if (fd >= 0)
		fsx_own_like_parent(fd, path);
	ok = fd >= 0 && write_all(fd, data, len) &&
	     (!o || !o->mode || fchmod(fd, mode) == 0) &&
	     (!o || !o->durable || sync_fd(fd) == 0);

	if (fd >= 0 && close(fd) < 0)
		ok = false;
	if (ok && renameat(dirfd, tmp, dirfd, base) < 0)
		ok = false;
	if (!ok) {
		err_set(e, "%s: %s", path, strerror(errno));
		if (dirfd >= 0)
			unlinkat(dirfd, tmp, 0);
	}
	if (dirfd >= 0)
		close(dirfd);
	free(tmp);
	return ok;
}

bool fsx_map_own(const char *path, void **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	void *p = MAP_FAILED;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && st.st_size > 0)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
			 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	*data = p;
	*len = (size_t)st.st_size;
	return true;
}

void fsx_unmap(void *data, size_t len)
{
	if (data)
		munmap(data, len);
}

bool fsx_read_path(const char *path, size_t max, struct buf *out, struct err *e)
{
	/* not blocked by a FIFO put there */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	/* sized once (a 14 MB git index is not copied by doubling), with a
	 * byte to spare for the read that finds the end; read in place, not
	 * through a copy (a 10k tree's 1.4 MB index is read by every run
	 * whose .storysync.local.yml is checked) */
	buf_reserve(out, fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
					 st.st_size > 0 &&
					 (!max || (uint64_t)st.st_size <= max)
				 ? (size_t)st.st_size + 1
				 : 65536);
	for (;;) {
		if (out->cap - out->len < 2)
			buf_reserve(out, 65536);
		n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (max && out->len + (size_t)n > max) {
			close(fd);
			out->data[out->len] = '\0';
			return err_set(e, "%s: larger than %zu bytes", path,
				       max);
		}
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0'; /* NUL-terminated, even when empty */
	if (n < 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

void fsx_unlock(int fd)
{
	if (fd < 0)
		return;
	for (size_t i = 0; i < 8; i++)
		if (lock_dirs[i].lock == fd + 1) {
			close(lock_dirs[i].dir - 1);
			lock_dirs[i].lock = lock_dirs[i].dir = 0;
		}
	close(fd);
}

bool fsx_mkdirs(const char *dir, mode_t mode, struct err *e)
{
	char *copy = xstrdup(dir);
	bool ok = true;

	/* each prefix that ends before a '/', then the whole */
	for (char *p = copy + (*copy != '\0'); ok && *copy; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(copy, mode) == 0)
			fsx_own_like_parent(-1, copy);
		else if (errno != EEXIST)
			ok = err_set(e, "%s: %s", copy, strerror(errno));
		if (end)
			break;
		*p = '/';
	}
	free(copy);
	return ok;
}

bool fsx_mkdir_parents(const char *path, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	bool ok;

	if (!slash)
		return true;
	dir = xstrndup(path, (size_t)(slash - path));
	ok = fsx_mkdirs(dir, 0755, e);
	free(dir);
	return ok;
}

bool fsx_create_empty(const char *path, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 && errno == EEXIST)
		return true;
	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	fsx_own_like_parent(fd, path);
	close(fd);
	return true;
}

bool fsx_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool fsx_file_id(const char *path, struct file_id *id)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &sx) != 0)
		return false;
	id->dev = (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor);
	id->ino = (uint64_t)sx.stx_ino;
	id->born_ns = sx.stx_mask & STATX_BTIME
			      ? (int64_t)sx.stx_btime.tv_sec * 1000000000 +
					sx.stx_btime.tv_nsec
			      : 0;
	return true;
}

bool fsx_rename(const char *from, const char *to, struct err *e)
{
	if (rename(from, to) < 0)
		return err_set(e, "%s: %s", from, strerror(errno));
	return true;
}

bool fsx_unlink(const char *path, struct err *e)
{
	if (unlink(path) < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	return true;
}

bool fsx_stat_path(const char *path, struct stat *st)
{
	return stat(path, st) == 0;
}

char *fsx_realpath(const char *path, struct err *e)
{
	char *abs = realpath(path, NULL);

	if (!abs)
		err_set(e, "%s: %s", path, strerror(errno));
	return abs;
}

bool fsx_write_new(const char *path, const void *data, size_t len, mode_t mode,
		   bool *written, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	*written = false;
	if (fd < 0 && errno == EEXIST)
		return true;
	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	fsx_own_like_parent(fd, path);
	if (!write_all(fd, data, len) || sync_fd(fd) != 0) {
		err_set(e, "%s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	if (close(fd) != 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	*written = true;
	return true;
}

bool fsx_dir_holds_only(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = strlen(prefix);
	bool only = d != NULL;

	while (only && (de = readdir(d)))
		only = strcmp(de->d_name, ".") == 0 ||
		       strcmp(de->d_name, "..") == 0 ||
		       strncmp(de->d_name, prefix, n) == 0;
	if (d)
		closedir(d);
	return only;
}

/* The directory of rel beneath rootfd, opened, and rel's last name in
 * *base; -1 when it cannot be. */
static int temp_dir(int rootfd, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	char *dir;
	int fd;

	*base = slash ? slash + 1 : rel;
	if (!slash)
		return fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	dir = xstrndup(rel, (size_t)(slash - rel));
	fd = fsx_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	return fd;
}

bool fsx_temp_stat(int rootfd, const char *rel, struct file_stat *out)
{
	const char *base;
	int fd = temp_dir(rootfd, rel, &base);
	struct stat st;
	bool ok = fd >= 0 && fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		  S_ISREG(st.st_mode);

	if (ok)
		fsx_stat_from(out, &st);
	if (fd >= 0)
		close(fd);
	return ok;
}

bool fsx_spare_stat(const char *spares, const char *root, const char *name,
		    struct file_stat *out)
{
	int fd = spares ? fsx_open_in(root, spares,
				      O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
			: -1;
	struct stat st;
	bool ok = fd >= 0 && !strchr(name, '/') &&
		  fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		  S_ISREG(st.st_mode);

	if (ok)
		fsx_stat_from(out, &st);
	if (fd >= 0)
		close(fd);
	return ok;
}

bool fsx_spare_remove_temp(const char *spares, const char *root,
			   const char *name, struct err *e)
{
	int fd;
	struct stat st;
	bool ok = true;

	if (name[0] != '.' || !strstr(name, TEMP_TAG) || strchr(name, '/'))
		return err_set(e, "%s: not a temporary file", name);
	fd = spares ? fsx_open_in(root, spares,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
		    : -1;
	if (fd < 0)
		return true; /* no directory: nothing in it */
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && unlinkat(fd, name, 0) < 0 && errno != ENOENT)
		ok = err_set(e, "%s/%s: %s", spares, name, strerror(errno));
	close(fd);
	return ok;
}

bool fsx_remove_temp(int rootfd, const char *rel, struct err *e)
{
	const char *base;
	int fd;
	struct stat st;
	bool ok = true;

	if (!strchr(rel, '/') ? rel[0] != '.' || !strstr(rel, TEMP_TAG)
			      : strrchr(rel, '/')[1] != '.' ||
					!strstr(strrchr(rel, '/'), TEMP_TAG))
		return err_set(e, "%s: not a temporary file", rel);
	fd = temp_dir(rootfd, rel, &base);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ||
		       err_set(e, "%s: %s", rel, strerror(errno));
	/* a regular file only: a symlink or a directory of that name is
	 * not a file this run's kind made (a commit's, a person's) */
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && unlinkat(fd, base, 0) < 0 && errno != ENOENT)
		ok = err_set(e, "%s: %s", rel, strerror(errno));
	close(fd);
	return ok;
}

int fsx_journal_open(const char *root, const char *path, bool write,
		     struct err *e)
{
	int flags = write ? O_RDWR | O_CREAT | O_APPEND : O_RDONLY;
	int fd = fsx_open_in(root, path, flags | O_NOFOLLOW, 0600);

	if (fd < 0)
		err_set(e, "%s: %s", path, strerror(errno));
	else if (write)
		fsx_own_like_parent(fd, path);
	return fd;
}

bool fsx_journal_add(int fd, const char *line, struct err *e)
{
	if (!write_all(fd, line, strlen(line)))
		return err_set(e, "write journal: %s", strerror(errno));
	return true;
}

bool fsx_journal_read(int fd, char **text, struct err *e)
{
	struct stat st;

	*text = NULL;
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return err_set(e, "read journal: %s", strerror(errno));
	/* not a story's limit: the journal holds a line a file a run wrote,
	 * and git's versions in full (conflicts, leftovers), each of which may
	 * be near that limit (and twice it as JSON) */
	return read_fd(fd, &st, "journal", FSX_JOURNAL_LIMIT, text,
		       &(size_t){0}, NULL, e);
}

bool fsx_journal_reset(int fd, struct err *e)
{
	if (ftruncate(fd, 0) < 0)
		return err_set(e, "empty journal: %s", strerror(errno));
	return true;
}

bool fsx_journal_replace(const char *root, const char *path, const char *text,
			 struct err *e)
{
	const char *base;
	int dirfd = dir_in(root, path, &base), fd = -1;
	char *tmp = xasprintf("%s.new", base);
	bool ok;

	if (dirfd >= 0)
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				    O_NOFOLLOW,
			    0600);
	ok = fd >= 0;
	if (!ok)
		err_set(e, "%s.new: %s", path, strerror(errno));
	else
		fsx_own_like_parent(fd, path);
	/* the kept lines durable before the rename can be: without, a
	 * power loss may keep the rename and lose them (no auto_da_alloc
	 * but on ext4), and the next run take a killed run's files for
	 * edits */
	if (ok && (!write_all(fd, text, strlen(text)) || sync_fd(fd) < 0))
		ok = err_set(e, "%s.new: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && ok)
		ok = err_set(e, "%s.new: %s", path, strerror(errno));
	if (ok && renameat(dirfd, tmp, dirfd, base) < 0)
		ok = err_set(e, "%s: %s", path, strerror(errno));
	if (!ok && dirfd >= 0)
		unlinkat(dirfd, tmp, 0);
	else if (ok && sync_fd(dirfd) < 0)
		ok = err_set(e, "%s: %s", path, strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	free(tmp);
	return ok;
}

bool fsx_journal_sync(int fd, struct err *e)
{
	if (!fsx_test_nosync() && fdatasync(fd) < 0)
		return err_set(e, "write journal: %s", strerror(errno));
	return true;
}

int fsx_open_root(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		err_set(e, "%s: %s", dir, strerror(errno));
	return fd;
}
