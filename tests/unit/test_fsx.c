/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blobid.h"
#include "buf.h"
#include "fsx.h"
#include "mem.h"
#include "story.h"

#define NOBODY 65534

struct fixture {
	char dir[64];
	int root;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	umask(022);
	strcpy(f->dir, "/tmp/test_fsx-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->root = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->root < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int r = system(cmd);

	free(cmd);
	close(f->root);
	free(f);
	return r;
}

/* Writes content to rel beneath the fixture, creating it. */
static void put(struct fixture *f, const char *rel, const char *content)
{
	int fd = openat(f->root, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
}

static void mk(struct fixture *f, const char *rel)
{
	assert_int_equal(mkdirat(f->root, rel, 0755), 0);
}

/* The whole content of rel, as a heap string. */
static char *slurp(struct fixture *f, const char *rel)
{
	char *data;
	size_t len;
	struct err e = {""};

	assert_true(fsx_read_at(f->root, rel, &data, &len, NULL, &e));
	return data;
}

static void lstat_fs(struct fixture *f, const char *rel, struct file_stat *fs)
{
	struct stat st;

	assert_int_equal(fstatat(f->root, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	fsx_stat_from(fs, &st);
}

/* The names in directory rel, sorted, joined by spaces. */
static char *listing(struct fixture *f, const char *rel)
{
	char *cmd = xasprintf("ls -A '%s/%s' | tr '\\n' ' '", f->dir, rel);
	FILE *p = popen(cmd, "r");
	char line[4096] = "";

	assert_non_null(p);
	/* An empty directory gives no line at all. */
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	assert_int_equal(pclose(p), 0);
	free(cmd);
	return xstrdup(line);
}

/* Runs fn in a child as user nobody; the child's exit code is fn's. */
static int as_nobody(int (*fn)(struct fixture *), struct fixture *f)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(100);
		_exit(fn(f));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ---- blob ids ---- */

static void check_blobid(struct fixture *f, const void *data, size_t len)
{
	char *path = xasprintf("%s/blob", f->dir);
	char *cmd = xasprintf("git hash-object --no-filters '%s'", path);
	char want[64] = "", got[BLOBID_HEX];
	FILE *fp = fopen(path, "wb");
	FILE *p;

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(want, sizeof(want), p));
	pclose(p);
	want[strcspn(want, "\n")] = '\0';
	/* both ways: the SHA extensions (where the CPU has them) and the
	 * portable rounds */
	blobid_hex(data, len, got);
	assert_string_equal(got, want);
	blobid_portable(true);
	blobid_hex(data, len, got);
	blobid_portable(false);
	assert_string_equal(got, want);
	free(cmd);
	free(path);
}

static void test_blobid(void **state)
{
	struct fixture *f = *state;
	unsigned char bin[512];
	size_t big = 1024 * 1024;
	unsigned char *mb = xmalloc(big);
	char out[BLOBID_HEX];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	for (size_t i = 0; i < big; i++) {
		x = x * 1103515245u + 12345u;
		mb[i] = (unsigned char)(x >> 16);
	}
	blobid_hex("", 0, out);
	assert_string_equal(out, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	check_blobid(f, "", 0);
	check_blobid(f, "hello\n", 6);
	check_blobid(f, "---\ntitle: x\r\n---\n", 18);
	check_blobid(f, bin, sizeof(bin));
	check_blobid(f, mb, big);
	/* every length of the padding's cases: the header and the data
	 * ending before, at and after the 56th byte of a block, across one
	 * to three blocks */
	for (size_t n = 40; n <= 200; n++)
		check_blobid(f, mb + n, n);
	free(mb);
}

/* ---- walking ---- */

struct seen {
	struct buf out;
	int calls;
	int stop_after;
	struct fixture *f;
};

static bool collect(void *ctx, int dirfd, const char *name, const char *rel,
		    enum fsx_entry_kind kind, const struct stat *st)
{
	static const char *kinds[] = {"file",  "symlink", "dir",
				      "other", "temp",    "linked dir"};
	struct seen *s = ctx;
	struct stat again;

	/* name is usable relative to dirfd; st is its lstat data. */
	assert_int_equal(fstatat(dirfd, name, &again, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(again.st_ino, st->st_ino);
	assert_string_equal(strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel,
			    name);
	buf_printf(&s->out, "%s=%s\n", rel, kinds[kind]);
	s->calls++;
	return s->stop_after == 0 || s->calls < s->stop_after;
}

/* The walk's output, sorted, so that readdir order does not matter. */
static char *sorted(struct buf *b)
{
	char *cmd = xasprintf("/tmp/test_fsx_sort-%d", (int)getpid());
	char *sh = xasprintf("sort -o '%s' '%s'", cmd, cmd);
	FILE *fp = fopen(cmd, "w");
	char *data;
	size_t len;
	struct err e;

	fputs(b->data ? b->data : "", fp);
	fclose(fp);
	assert_int_equal(system(sh), 0);
	assert_true(fsx_read_at(AT_FDCWD, cmd, &data, &len, NULL, &e));
	unlink(cmd);
	free(sh);
	free(cmd);
	return data;
}

static void make_tree(struct fixture *f)
{
	mk(f, "stage");
	mk(f, "stage/epic");
	mk(f, "stage/epic/deep");
	mk(f, "stage/.hidden");
	mk(f, "stage/x.md");
	mk(f, "elsewhere");
	put(f, "stage/a.md", "a");
	put(f, "stage/notes.txt", "n");
	put(f, "stage/.h.md", "h");
	put(f, "stage/epic/b.md", "b");
	put(f, "stage/epic/deep/c.md", "c");
	put(f, "stage/.hidden/h.md", "h");
	put(f, "stage/x.md/inner.md", "i");
	put(f, "elsewhere/far.md", "f");
	assert_int_equal(symlinkat("a.md", f->root, "stage/link.md"), 0);
	assert_int_equal(symlinkat("../elsewhere", f->root, "stage/linkdir"),
			 0);
	/* a link to a plain file is no directory of stories; one that
	 * leads nowhere may be (a disk not mounted) */
	assert_int_equal(symlinkat("notes.txt", f->root, "stage/notes-link"),
			 0);
	assert_int_equal(symlinkat("../gone", f->root, "stage/epic/gone"), 0);
	assert_int_equal(mkfifoat(f->root, "stage/fifo.md", 0644), 0);
}

static void test_walk(void **state)
{
	struct fixture *f = *state;
	struct seen s = {BUF_INIT, 0, 0, f};
	struct err e = {""};
	enum fsx_walk_start start = FSX_START_MISSING;
	char *got;

	make_tree(f);
	assert_true(fsx_walk(f->root, "stage", collect, &s, &start, &e));
	assert_int_equal(start, FSX_START_WALKED);
	got = sorted(&s.out);
	assert_string_equal(got, "stage/a.md=file\n"
				 "stage/epic/b.md=file\n"
				 "stage/epic/deep/c.md=file\n"
				 "stage/epic/gone=linked dir\n"
				 "stage/fifo.md=other\n"
				 "stage/link.md=symlink\n"
				 "stage/linkdir=linked dir\n"
				 "stage/x.md=dir\n");
	free(got);
	buf_finish(&s.out);
}

static void test_walk_top_and_stop(void **state)
{
	struct fixture *f = *state;
	struct seen s = {BUF_INIT, 0, 0, f};
	struct err e = {""};
	enum fsx_walk_start start = FSX_START_MISSING;
	char *got;

	mk(f, "sub");
	put(f, "top.md", "t");
	put(f, "sub/s.md", "s");
	assert_true(fsx_walk(f->root, ".", collect, &s, &start, &e));
	got = sorted(&s.out);
	assert_string_equal(got, "sub/s.md=file\ntop.md=file\n");
	free(got);
	buf_reset(&s.out);

	/* A callback that returns false stops the walk at once. */
	s.calls = 0;
	s.stop_after = 1;
	assert_false(fsx_walk(f->root, "", collect, &s, &start, &e));
	assert_int_equal(s.calls, 1);
	buf_finish(&s.out);
}

static void test_walk_missing(void **state)
{
	struct fixture *f = *state;
	struct seen s = {BUF_INIT, 0, 0, f};
	struct err e = {""};
	enum fsx_walk_start start = FSX_START_WALKED;

	assert_true(fsx_walk(f->root, "nope", collect, &s, &start, &e));
	assert_int_equal(start, FSX_START_MISSING);
	assert_int_equal(s.calls, 0);

	put(f, "file", "x");
	assert_false(fsx_walk(f->root, "file", collect, &s, &start, &e));
	assert_int_equal(start, FSX_START_WALKED);
	assert_string_equal(e.msg, "file: Not a directory");

	/* a symlinked directory, or one beyond a symlink, is not walked */
	mk(f, "real");
	put(f, "real/x.md", "x");
	assert_int_equal(symlinkat("real", f->root, "link"), 0);
	assert_true(fsx_walk(f->root, "link", collect, &s, &start, &e));
	assert_int_equal(start, FSX_START_SYMLINK);
	mk(f, "real/sub");
	assert_true(fsx_walk(f->root, "link/sub", collect, &s, &start, &e));
	assert_int_equal(start, FSX_START_SYMLINK);
	assert_int_equal(s.calls, 0);
}

static int walk_locked(struct fixture *f)
{
	struct seen s = {BUF_INIT, 0, 0, f};
	struct err e = {""};
	enum fsx_walk_start start;
	bool ok = fsx_walk(f->root, "stage", collect, &s, &start, &e);

	buf_finish(&s.out);
	/* who runs, whose the folder is, and the fix (issue 25) */
	if (ok || strcmp(e.msg, "stage/epic/locked: Permission denied: "
				"storysync runs as nobody, and "
				"stage/epic/locked is root's (mode 0000): "
				"run the sync as root (systemd: User=root), "
				"or give nobody the directory (chown -R "
				"nobody 'stage/epic/locked')")) {
		fprintf(stderr, "walk as nobody: %d %s\n", ok, e.msg);
		return 1;
	}
	return 0;
}

static void test_walk_permission(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fchmod(f->root, 0755), 0);
	mk(f, "stage");
	mk(f, "stage/epic");
	mk(f, "stage/epic/locked");
	put(f, "stage/epic/locked/x.md", "x");
	assert_int_equal(fchmodat(f->root, "stage/epic/locked", 0, 0), 0);
	assert_int_equal(as_nobody(walk_locked, f), 0);
}

/* ---- reading ---- */

static void test_read_at(void **state)
{
	struct fixture *f = *state;
	struct file_stat fs, want;
	struct err e = {""};
	char *data = NULL;
	size_t len = 0;

	put(f, "a.md", "hello");
	mk(f, "d.md");
	assert_int_equal(symlinkat("a.md", f->root, "link.md"), 0);
	assert_true(fsx_read_at(f->root, "a.md", &data, &len, &fs, &e));
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	lstat_fs(f, "a.md", &want);
	assert_true(fsx_stat_equal(&fs, &want));
	free(data);

	assert_false(fsx_read_at(f->root, "link.md", &data, &len, &fs, &e));
	assert_string_equal(e.msg,
			    "link.md: Too many levels of symbolic links");
	assert_false(fsx_read_at(f->root, "d.md", &data, &len, &fs, &e));
	assert_string_equal(e.msg, "d.md: Is a directory");
	assert_false(fsx_read_at(f->root, "no.md", &data, &len, &fs, &e));
	assert_string_equal(e.msg, "no.md: No such file or directory");
	assert_int_equal(mkfifoat(f->root, "fifo.md", 0644), 0);
	assert_false(fsx_read_at(f->root, "fifo.md", &data, &len, &fs, &e));
	assert_string_equal(e.msg, "fifo.md: not a regular file");
}

static void test_read_beneath_big(void **state)
{
	struct fixture *f = *state;
	size_t big = 1024 * 1024 + 7;
	char *content = xmalloc(big + 1), *data;
	struct file_stat fs;
	struct err e = {""};
	bool stale;
	size_t len;

	for (size_t i = 0; i < big; i++)
		content[i] = (char)('a' + i % 26);
	content[big] = '\0';
	assert_true(fsx_write_atomic(f->root, "s/e/big.md", content, big, NULL,
				     &fs, &stale, &e));
	assert_true(
		fsx_read_beneath(f->root, "s/e/big.md", &data, &len, &fs, &e));
	assert_int_equal(len, big);
	assert_memory_equal(data, content, big);
	assert_int_equal(data[big], '\0');
	free(data);
	free(content);
}

static int read_secret(struct fixture *f)
{
	struct err e = {""};
	char *data;
	size_t len;

	if (fsx_read_at(f->root, "secret.md", &data, &len, NULL, &e) ||
	    strcmp(e.msg, "secret.md: Permission denied") != 0) {
		fprintf(stderr, "read as nobody: %s\n", e.msg);
		return 1;
	}
	if (fsx_read_beneath(f->root, "secret.md", &data, &len, NULL, &e) ||
	    strcmp(e.msg, "secret.md: Permission denied") != 0) {
		fprintf(stderr, "read beneath as nobody: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static void test_read_permission(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fchmod(f->root, 0755), 0);
	put(f, "secret.md", "s");
	assert_int_equal(fchmodat(f->root, "secret.md", 0, 0), 0);
	assert_int_equal(as_nobody(read_secret, f), 0);
}

/* ---- paths beneath the root ---- */

static void test_name_ok(void **state)
{
	char name[300];

	assert_true(fsx_name_ok("INF-014-sync.md"));
	assert_true(fsx_name_ok(".hidden"));
	assert_true(fsx_name_ok("caf\xc3\xa9"));
	assert_false(fsx_name_ok(""));
	assert_false(fsx_name_ok("."));
	assert_false(fsx_name_ok(".."));
	assert_false(fsx_name_ok(".git"));
	assert_false(fsx_name_ok("a/b"));
	assert_false(fsx_name_ok("a\nb"));
	assert_false(fsx_name_ok("a\tb"));
	assert_false(fsx_name_ok("a\x7f"));
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_true(fsx_name_ok(name));
	name[255] = 'x';
	name[256] = '\0';
	assert_false(fsx_name_ok(name));
}

/* What the database and --json hold: UTF-8; a message shows the rest. */
static void test_name_utf8(void **state)
{
	static const struct {
		const char *name, *shown;
		bool utf8;
	} cases[] = {
		{"N-4-caf\xc3\xa9.md", "N-4-caf\xc3\xa9.md", true},
		{"b/\xf0\x9f\x99\x82.md", "b/\xf0\x9f\x99\x82.md", true},
		{"N-4-caf\xe9.md", "N-4-caf\\xe9.md", false},
		{"ep\xe9/x.md", "ep\\xe9/x.md", false},
		{"\xc3", "\\xc3", false},                   /* cut short */
		{"\xc0\x80", "\\xc0\\x80", false},          /* overlong NUL */
		{"\xed\xa0\x80", "\\xed\\xa0\\x80", false}, /* surrogate */
		{"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80", false},
		{"a\x01"
		 "b",
		 "a\\x01b", true}, /* UTF-8, shown escaped */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *shown = fsx_name_escaped(cases[i].name);

		assert_int_equal(fsx_name_utf8(cases[i].name), cases[i].utf8);
		assert_string_equal(shown, cases[i].shown);
		free(shown);
	}
}

/* ---- the name rules: storysync writes only names the scan reads back ---- */

/* Explicit lists, the oracle: names that must be accepted and names that
 * must be refused, per class (tests/cli/names.py tries them end to end). */
static const char *const epic_accept[] = {
	/* non-ASCII */ "\xc3\xa9",
	"e\xcc\x81",
	"\xe6\x97\xa5\xe6\x9c\xac",
	"\xf0\x9f\x99\x82",
	"\xe2\x80\x8b",
	/* spaces */ "a b",
	" lead",
	"trail ",
	"  ",
	/* shell */ "$(id)",
	"*",
	"?",
	"[x]",
	"{id}",
	"%s%n",
	"~",
	"x|y",
	"a'b",
	"x\"y",
	"`id`",
	"&&",
	/* windows names */ "con",
	"aux",
	"nul",
	"prn",
	"x:y",
	"x\\y",
	/* dots inside */ "a.",
	"a..b",
	"x.mdx",
	"a.md.b",
	"md",
	"x.m d",
	/* C1 controls are text */ "\xc2\x85",
};
static const char *const epic_refuse[] = {
	/* a story file's name */ "x.md",
	"X.MD",
	"a.Md",
	"\xc3\xa9.md",
	/* dots, hidden, .git */ "",
	".",
	"..",
	".hidden",
	".md",
	"..\\up",
	".git",
	/* slash */ "a/b",
	"../up",
	"/abs",
	"a/",
	/* leading dash */ "-leading",
	"--",
	"-",
	/* bidi */ "fdp.exe\xe2\x80\xaegpj",
	"\xe2\x80\xaeright-to-left",
	"bidi\xe2\x81\xa6iso\xe2\x81\xa9",
	"mark\xe2\x80\x8e",
	"mark\xe2\x80\x8f",
	"\xd8\x9c",
	"x\xe2\x80\xaa",
	"x\xe2\x80\xab",
	"x\xe2\x80\xac",
	"x\xe2\x80\xad",
	"x\xe2\x81\xa7",
	"x\xe2\x81\xa8",
	/* separators */ "line\xe2\x80\xa8sep",
	"para\xe2\x80\xa9sep",
	/* BOM */
	"\xef\xbb\xbf"
	"bom",
	"in\xef\xbb\xbfside",
	/* control */ "tab\tin",
	"nl\nx",
	"cr\rx",
	"ctl\x01",
	"del\x7f",
	"esc\x1b[",
};
static const char *const id_accept[] = {
	"A-1",  "CAPS-9", "NEW_9",  "abc-1", "0",  "a.b.c", "a.",
	"a..b", "x.md",   "X.MD.x", "_",     "__", "_x_",
};
static const char *const id_refuse[] = {
	"",
	".hidden",
	".md",
	".",
	"..",
	"-x",
	"--",
	"-",
	"a/b",
	"../up",
	"/abs",
	"a b",
	" lead",
	"trail ",
	"\xc3\xa9",
	"\xe6\x97\xa5",
	"\xf0\x9f\x99\x82",
	"A\xe2\x80\xae"
	"1",
	"$(id)",
	"*",
	"x:y",
	"x\\y",
	"x|y",
	"a'b",
	"a\"b",
	"{id}",
	"tab\tin",
	"nl\nx",
	"del\x7f",
	"ctl\x01",
};

/* The code point of the valid UTF-8 sequence at s, its length in *len; 0
 * for an ASCII byte or anything else. */
static unsigned long ref_code_point(const unsigned char *s, size_t *len)
{
	*len = 1;
	if (s[0] >= 0xc2 && s[0] < 0xe0 && (s[1] & 0xc0) == 0x80) {
		*len = 2;
		return (s[0] & 0x1fUL) << 6 | (s[1] & 0x3f);
	}
	if (s[0] >= 0xe0 && s[0] < 0xf0 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		*len = 3;
		return (s[0] & 0x0fUL) << 12 | (s[1] & 0x3fUL) << 6 |
		       (s[2] & 0x3f);
	}
	if (s[0] >= 0xf0 && s[0] < 0xf5 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80) {
		*len = 4;
		return (s[0] & 0x07UL) << 18 | (s[1] & 0x3fUL) << 12 |
		       (s[2] & 0x3fUL) << 6 | (s[3] & 0x3f);
	}
	return 0;
}

/* The rule of a name storysync may write, as fsx.h and storysync(1) state
 * it, written out again (valid UTF-8 only): the property's oracle. */
static bool ref_writable(const char *name, bool dir)
{
	static const unsigned long deceptive[] = {
		0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
		0x2028, 0x2029, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff};
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name), len;

	if (n == 0 || n > 255 || name[0] == '.' || name[0] == '-')
		return false;
	if (dir && n >= 3 && name[n - 3] == '.' &&
	    (name[n - 2] | 0x20) == 'm' && (name[n - 1] | 0x20) == 'd')
		return false;
	for (size_t i = 0; i < n; i += len) {
		unsigned long cp = ref_code_point(p + i, &len);

		if (p[i] == '/' || p[i] < 0x20 || p[i] == 0x7f)
			return false;
		for (size_t k = 0; k < sizeof(deceptive) / sizeof(*deceptive);
		     k++)
			if (cp == deceptive[k])
				return false;
	}
	return true;
}

/* An id, as story.h and storysync(1) state it: 1-64 of A-Z a-z 0-9 . _ -,
 * not starting with '.' or '-'. */
static bool ref_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64 || id[0] == '.' || id[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
			    "yz"
			    "0123456789._-",
			    id[i]))
			return false;
	return true;
}

static uint64_t rng_state;

/* The next number of STORYSYNC_SEED's sequence (xorshift64*). */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static bool long_set(void)
{
	const char *v = getenv("STORYSYNC_LONG");

	return v && strcmp(v, "1") == 0;
}

static void seed_rng(void)
{
	const char *v = getenv("STORYSYNC_SEED");
	unsigned long long seed = v ? strtoull(v, NULL, 10) : 1;

	printf("# seed %llu\n", seed);
	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
}

/* A random name of valid UTF-8 from pieces that matter to the rules;
 * now and then long, around the 255-byte limit. */
static void random_name(char *out, size_t cap, const char *const *pieces,
			size_t npieces)
{
	size_t n = 0, count = 1 + rng() % 8;

	if (rng() % 16 == 0) {
		size_t fill = 240 + rng() % 20;

		n = fill < cap / 2 ? fill : cap / 2;
		memset(out, 'a', n);
	}
	for (size_t i = 0; i < count; i++) {
		const char *p = pieces[rng() % npieces];
		size_t len = strlen(p);

		if (n + len >= cap)
			break;
		memcpy(out + n, p, len);
		n += len;
	}
	out[n] = '\0';
}

static const char *const name_pieces[] = {
	"a",
	"Z",
	"0",
	".",
	"-",
	"_",
	" ",
	"/",
	"\t",
	"\n",
	"\x01",
	"\x7f",
	"md",
	".md",
	".MD",
	".git",
	"..",
	"$",
	"\\",
	":",
	"\xc3\xa9",
	"\xcc\x81",
	"\xe6\x97\xa5",
	"\xf0\x9f\x99\x82",
	"\xe2\x80\xae",
	"\xe2\x80\xa8",
	"\xe2\x80\xa9",
	"\xef\xbb\xbf",
	"\xe2\x80\x8e",
	"\xe2\x80\x8f",
	"\xd8\x9c",
	"\xe2\x81\xa6",
	"\xe2\x81\xa9",
	"\xe2\x80\xaa",
	"\xe2\x80\x8b",
	"\xc2\x85",
	"\xe2\x80\xad",
};
static const char *const id_pieces[] = {
	"A",
	"z",
	"0",
	"9",
	".",
	"_",
	"-",
	" ",
	"/",
	":",
	"\xc3\xa9",
	"\t",
	"AAAAAAAAAAAAAAAA",
};

/* Makes stage/NAME/S-1.md; false when NAME was there already. */
static bool put_epic(struct fixture *f, const char *name)
{
	char *dir = xasprintf("stage/%s", name);
	char *file = xasprintf("%s/S-1.md", dir);
	bool made = mkdirat(f->root, dir, 0755) == 0;

	if (made)
		put(f, file, "s");
	free(file);
	free(dir);
	return made;
}

/* Every walked line of want (each "rel=file\n") is in got. */
static void assert_walked(const char *got, const struct buf *want)
{
	const char *line = want->data;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		char *one = xasprintf("%.*s", (int)(end - line + 1), line);

		if (!strstr(got, one))
			fail_msg("the walk did not read back %s", one);
		free(one);
		line = end + 1;
	}
}

/* Every epic the rules accept is a directory the scan walks into and
 * reads the story file in; every listed name gets its listed verdict; and
 * the rules are the documented ones, over thousands of random names. */
static void test_name_rules(void **state)
{
	struct fixture *f = *state;
	struct seen s = {BUF_INIT, 0, 0, f};
	struct buf want = BUF_INIT;
	struct err e = {""};
	enum fsx_walk_start start;
	size_t rounds = long_set() ? 1000000 : 20000, made = 0;
	char name[512];
	char *got;

	seed_rng();
	mk(f, "stage");
	for (size_t i = 0; i < sizeof(epic_accept) / sizeof(*epic_accept);
	     i++) {
		if (!fsx_name_writable(epic_accept[i], true) ||
		    !ref_writable(epic_accept[i], true))
			fail_msg("epic '%s' must be accepted", epic_accept[i]);
		if (put_epic(f, epic_accept[i]))
			buf_printf(&want, "stage/%s/S-1.md=file\n",
				   epic_accept[i]);
	}
	for (size_t i = 0; i < sizeof(epic_refuse) / sizeof(*epic_refuse); i++)
		if (fsx_name_writable(epic_refuse[i], true) ||
		    ref_writable(epic_refuse[i], true))
			fail_msg("epic '%s' must be refused", epic_refuse[i]);
	memset(name, 'a', 255);
	name[255] = '\0';
	assert_true(fsx_name_writable(name, true));
	name[255] = 'a';
	name[256] = '\0';
	assert_false(fsx_name_writable(name, true));
	for (size_t i = 0; i < sizeof(id_accept) / sizeof(*id_accept); i++)
		if (!story_id_valid(id_accept[i]) ||
		    !ref_id_valid(id_accept[i]))
			fail_msg("id '%s' must be accepted", id_accept[i]);
	for (size_t i = 0; i < sizeof(id_refuse) / sizeof(*id_refuse); i++)
		if (story_id_valid(id_refuse[i]) || ref_id_valid(id_refuse[i]))
			fail_msg("id '%s' must be refused", id_refuse[i]);

	for (size_t i = 0; i < rounds; i++) {
		bool dir = i % 2 == 0, ok;

		random_name(name, sizeof(name), name_pieces,
			    sizeof(name_pieces) / sizeof(*name_pieces));
		ok = fsx_name_writable(name, dir);
		if (ok != ref_writable(name, dir))
			fail_msg("fsx_name_writable('%s', %d) is %d", name, dir,
				 ok);
		/* a few hundred of the accepted epics on disk */
		if (ok && dir && made < 300 && put_epic(f, name)) {
			made++;
			buf_printf(&want, "stage/%s/S-1.md=file\n", name);
		}
		random_name(name, 80, id_pieces,
			    sizeof(id_pieces) / sizeof(*id_pieces));
		if (story_id_valid(name) != ref_id_valid(name))
			fail_msg("story_id_valid('%s') is %d", name,
				 story_id_valid(name));
	}
	assert_true(fsx_walk(f->root, "stage", collect, &s, &start, &e));
	got = sorted(&s.out);
	assert_walked(got, &want);
	free(got);
	buf_finish(&want);
	buf_finish(&s.out);
}

/* A new story's file name, from any valid id and any title, in either
 * template, is one the rules accept and the scan reads as a story file. */
static void test_file_name_rules(void **state)
{
	struct fixture *f = *state;
	struct seen s = {BUF_INIT, 0, 0, f};
	struct story_dialect titled = story_dialect_default;
	struct buf want = BUF_INIT;
	struct err e = {""};
	enum fsx_walk_start start;
	size_t rounds = long_set() ? 100000 : 3000, made = 0;
	char id[128], title[512];
	char *got;

	seed_rng();
	titled.file_name = "{id} - {title}.md";
	mk(f, "stage");
	for (size_t i = 0; i < rounds; i++) {
		struct story st = {0};
		char *fname;

		do
			random_name(id, 70, id_pieces,
				    sizeof(id_pieces) / sizeof(*id_pieces));
		while (!story_id_valid(id));
		random_name(title, sizeof(title), name_pieces,
			    sizeof(name_pieces) / sizeof(*name_pieces));
		story_set(&st, SF_ID, id);
		story_set(&st, SF_TITLE, title);
		fname = story_filename(&st, i % 2 ? &titled : NULL);
		if (!fsx_name_writable(fname, false) || strlen(fname) < 4 ||
		    strcmp(fname + strlen(fname) - 3, ".md") != 0)
			fail_msg("'%s' from id '%s' and title '%s'", fname, id,
				 title);
		if (made < 300) {
			char *rel = xasprintf("stage/%s", fname);
			int fd = openat(f->root, rel,
					O_WRONLY | O_CREAT | O_EXCL, 0644);

			if (fd >= 0) {
				close(fd);
				made++;
				buf_printf(&want, "%s=file\n", rel);
			}
			free(rel);
		}
		free(fname);
		story_finish(&st);
	}
	assert_true(fsx_walk(f->root, "stage", collect, &s, &start, &e));
	got = sorted(&s.out);
	assert_walked(got, &want);
	free(got);
	buf_finish(&want);
	buf_finish(&s.out);
}

static void check_refused(struct fixture *f, const char *rel, int err,
			  const char *msg)
{
	struct err e = {""};
	char *data;
	size_t len;

	errno = 0;
	assert_int_equal(fsx_open_beneath(f->root, rel, O_RDONLY, 0), -1);
	assert_int_equal(errno, err);
	assert_false(fsx_read_beneath(f->root, rel, &data, &len, NULL, &e));
	assert_string_equal(e.msg, msg);
}

static void test_open_beneath(void **state)
{
	struct fixture *f = *state;
	int fd;

	mk(f, "a");
	mk(f, ".git");
	put(f, "a/x", "x");
	put(f, ".git/x", "g");
	assert_int_equal(symlinkat("a", f->root, "ln"), 0);
	assert_int_equal(symlinkat("a/x", f->root, "lx"), 0);

	fd = fsx_open_beneath(f->root, "a/x", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	fd = fsx_open_beneath(f->root, "a/new", O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);

	check_refused(f, "../x", EXDEV, "../x: path leaves the root");
	check_refused(f, "/etc/passwd", EXDEV,
		      "/etc/passwd: path leaves the root");
	check_refused(f, "a/../../x", EXDEV, "a/../../x: path leaves the root");
	check_refused(f, "ln/x", ELOOP, "ln/x: path goes through a symlink");
	check_refused(f, "lx", ELOOP, "lx: path goes through a symlink");
	check_refused(f, ".git/x", EPERM, ".git/x: path enters .git");
	check_refused(f, "a/.git/x", EPERM, "a/.git/x: path enters .git");
	check_refused(f, "a/nope", ENOENT, "a/nope: No such file or directory");
}

/* The database's directories, by absolute path; and the root dir. */
static void test_mkdir_parents_and_open_root(void **state)
{
	struct fixture *f = *state;
	struct err e = {""};
	char *db = xasprintf("%s/a/b/stories.db", f->dir);
	char *file = xasprintf("%s/file/x: Not a directory", f->dir);
	char *bad = xasprintf("%s/file/x/y.db", f->dir);
	struct stat st;
	int fd;

	assert_true(fsx_mkdir_parents(db, &e));
	assert_int_equal(fstatat(f->root, "a/b", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(faccessat(f->root, "a/b/stories.db", F_OK, 0), -1);
	assert_true(fsx_mkdir_parents(db, &e)); /* again: nothing to do */
	put(f, "file", "x");
	assert_false(fsx_mkdir_parents(bad, &e));
	assert_string_equal(e.msg, file);
	fd = fsx_open_root(f->dir, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fsx_open_root(bad, &e), -1);
	free(file);
	file = xasprintf("%s: Not a directory", bad);
	assert_string_equal(e.msg, file);
	free(file);
	free(bad);
	free(db);
}

static void test_mkdirs(void **state)
{
	struct fixture *f = *state;
	struct err e = {""};
	struct stat st;

	assert_true(fsx_mkdirs_beneath(f->root, "a/b/c/x.md", &e));
	assert_int_equal(fstatat(f->root, "a/b/c", &st, AT_SYMLINK_NOFOLLOW),
			 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Existing directories, and a file at the top, are fine. */
	assert_true(fsx_mkdirs_beneath(f->root, "a/b/c/x.md", &e));
	assert_true(fsx_mkdirs_beneath(f->root, "top.md", &e));

	assert_int_equal(symlinkat("a", f->root, "ln"), 0);
	assert_false(fsx_mkdirs_beneath(f->root, "ln/new/x.md", &e));
	assert_string_equal(e.msg, "ln/new/x.md: path goes through a symlink");
	assert_int_equal(faccessat(f->root, "a/new", F_OK, 0), -1);
	put(f, "file", "x");
	assert_false(fsx_mkdirs_beneath(f->root, "file/d/x.md", &e));
	assert_string_equal(e.msg, "file/d/x.md: Not a directory");
	assert_false(fsx_mkdirs_beneath(f->root, "../out/x.md", &e));
	assert_string_equal(e.msg, "../out/x.md: path leaves the root");
	assert_false(fsx_mkdirs_beneath(f->root, "/tmp/x/y.md", &e));
	assert_string_equal(e.msg, "/tmp/x/y.md: path leaves the root");
	assert_false(fsx_mkdirs_beneath(f->root, ".git/hooks/x", &e));
	assert_string_equal(e.msg, ".git/hooks/x: path enters .git");
	assert_int_equal(faccessat(f->root, ".git", F_OK, 0), -1);
}

/* ---- atomic writes ---- */

static void test_write_create(void **state)
{
	struct fixture *f = *state;
	struct file_stat fs, want;
	struct err e = {""};
	bool stale = true;
	char *s;

	assert_true(fsx_write_atomic(f->root, "s/e/new.md", "new\n", 4, NULL,
				     &fs, &stale, &e));
	assert_false(stale);
	s = slurp(f, "s/e/new.md");
	assert_string_equal(s, "new\n");
	free(s);
	lstat_fs(f, "s/e/new.md", &want);
	assert_true(fsx_stat_equal(&fs, &want));
	assert_int_equal(want.mode, S_IFREG | 0644);
	s = listing(f, "s/e");
	assert_string_equal(s, "new.md ");
	free(s);

	/* expect NULL: an existing file is left alone. */
	assert_false(fsx_write_atomic(f->root, "s/e/new.md", "other", 5, NULL,
				      &fs, &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg, "s/e/new.md: exists; left alone");
	s = slurp(f, "s/e/new.md");
	assert_string_equal(s, "new\n");
	free(s);
	s = listing(f, "s/e");
	assert_string_equal(s, "new.md ");
	free(s);
}

static void test_write_replace(void **state)
{
	struct fixture *f = *state;
	struct file_stat before, fs, want;
	struct err e = {""};
	bool stale = true;
	char *s;

	mk(f, "d");
	put(f, "d/x.md", "old content\n");
	assert_int_equal(fchmodat(f->root, "d/x.md", 0600, 0), 0);
	lstat_fs(f, "d/x.md", &before);
	assert_true(fsx_write_atomic(f->root, "d/x.md", "new\n", 4, &before,
				     &fs, &stale, &e));
	assert_false(stale);
	s = slurp(f, "d/x.md");
	assert_string_equal(s, "new\n");
	free(s);
	lstat_fs(f, "d/x.md", &want);
	assert_true(fsx_stat_equal(&fs, &want));
	assert_int_equal(want.mode, S_IFREG | 0600);
	assert_true(want.ino != before.ino);
	s = listing(f, "d");
	assert_string_equal(s, "x.md ");
	free(s);
}

static void test_write_stale(void **state)
{
	struct fixture *f = *state;
	struct file_stat before, fs;
	struct err e = {""};
	bool stale = false;
	char *s;

	mk(f, "d");
	put(f, "d/x.md", "scanned\n");
	lstat_fs(f, "d/x.md", &before);
	put(f, "d/x.md", "edited by a person\n");
	assert_false(fsx_write_atomic(f->root, "d/x.md", "sync\n", 5, &before,
				      &fs, &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg,
			    "d/x.md: changed since the scan; left alone");
	s = slurp(f, "d/x.md");
	assert_string_equal(s, "edited by a person\n");
	free(s);
	s = listing(f, "d");
	assert_string_equal(s, "x.md ");
	free(s);

	/* Gone since the scan: not re-created. */
	assert_int_equal(unlinkat(f->root, "d/x.md", 0), 0);
	stale = false;
	assert_false(fsx_write_atomic(f->root, "d/x.md", "sync\n", 5, &before,
				      &fs, &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg,
			    "d/x.md: changed since the scan; left alone");
	assert_int_equal(faccessat(f->root, "d/x.md", F_OK, 0), -1);
	s = listing(f, "d");
	assert_string_equal(s, "");
	free(s);
}

static void test_write_refused(void **state)
{
	struct fixture *f = *state;
	struct file_stat fs;
	struct err e = {""};
	bool stale = true;
	char *s;

	mk(f, "d");
	mk(f, "d/x.md");
	assert_int_equal(symlinkat("d", f->root, "ln"), 0);
	assert_false(fsx_write_atomic(f->root, "ln/y.md", "x", 1, NULL, &fs,
				      &stale, &e));
	assert_false(stale);
	assert_string_equal(e.msg, "ln/y.md: path goes through a symlink");
	assert_false(fsx_write_atomic(f->root, "../y.md", "x", 1, NULL, &fs,
				      &stale, &e));
	assert_string_equal(e.msg, "../y.md: path leaves the root");
	assert_false(fsx_write_atomic(f->root, ".git/y", "x", 1, NULL, &fs,
				      &stale, &e));
	assert_string_equal(e.msg, ".git/y: path enters .git");
	assert_false(fsx_write_atomic(f->root, "d/..", "x", 1, NULL, &fs,
				      &stale, &e));
	assert_string_equal(e.msg, "d/..: bad file name");
	/* A symlink at the target is never replaced. */
	assert_int_equal(symlinkat("x.md", f->root, "d/l.md"), 0);
	assert_false(fsx_write_atomic(f->root, "d/l.md", "x", 1, NULL, &fs,
				      &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg, "d/l.md: exists; left alone");
	s = listing(f, "d");
	assert_string_equal(s, "l.md x.md ");
	free(s);
}

static int write_too_big(struct fixture *f)
{
	struct rlimit lim = {10, 10};
	struct file_stat fs;
	struct err e = {""};
	bool stale = true;

	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
		return 2;
	if (fsx_write_atomic(f->root, "d/x.md", "more than ten bytes", 19, NULL,
			     &fs, &stale, &e) ||
	    stale || strcmp(e.msg, "d/x.md: File too large") != 0) {
		fprintf(stderr, "write too big: %s\n", e.msg);
		return 1;
	}
	return 0;
}

static void test_write_fails(void **state)
{
	struct fixture *f = *state;
	pid_t pid;
	int status;
	char *s;

	mk(f, "d");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(write_too_big(f));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The half-written temporary file is gone. */
	s = listing(f, "d");
	assert_string_equal(s, "");
	free(s);
}

/* ---- moving and removing ---- */

static void test_move(void **state)
{
	struct fixture *f = *state;
	struct err e = {""};
	char *s;

	mk(f, "backlog");
	put(f, "backlog/a.md", "a");
	put(f, "backlog/c.md", "c");
	assert_true(fsx_move_beneath(f->root, "backlog/a.md",
				     "active/epic/a.md", &e));
	s = slurp(f, "active/epic/a.md");
	assert_string_equal(s, "a");
	free(s);
	assert_int_equal(faccessat(f->root, "backlog/a.md", F_OK, 0), -1);

	assert_false(fsx_move_beneath(f->root, "backlog/c.md",
				      "active/epic/a.md", &e));
	assert_string_equal(e.msg,
			    "active/epic/a.md: exists; backlog/c.md not moved");
	s = slurp(f, "active/epic/a.md");
	assert_string_equal(s, "a");
	free(s);
	s = slurp(f, "backlog/c.md");
	assert_string_equal(s, "c");
	free(s);

	assert_false(
		fsx_move_beneath(f->root, "backlog/no.md", "active/n.md", &e));
	assert_string_equal(e.msg, "backlog/no.md: No such file or directory");
	assert_false(fsx_move_beneath(f->root, "backlog/c.md", "../c.md", &e));
	assert_string_equal(e.msg, "../c.md: path leaves the root");
}

/* A batch tells the directories it made on the way to a file (the top
 * one of each chain), not those that were there; fsx_rmdir_beneath
 * removes an empty directory only, beneath the root. */
static void test_made_dirs(void **state)
{
	struct fixture *f = *state;
	struct fsx_batch *b = fsx_batch_create(f->root, -1, NULL, NULL);
	struct err e = {""};

	mk(f, "web");
	mk(f, "web/backlog");
	put(f, "web/backlog/a.md", "a");
	put(f, "web/backlog/b.md", "b");
	assert_true(
		fsx_batch_move(b, "web/backlog/a.md", "web/new/epic/a.md", &e));
	assert_string_equal(fsx_batch_made(b, "web/new/epic/a.md"), "web/new");
	assert_true(fsx_batch_move(b, "web/backlog/b.md", "web/new/b.md", &e));
	assert_string_equal(fsx_batch_made(b, "web/new/b.md"), "web/new");
	assert_null(fsx_batch_made(b, "web/backlog/a.md"));
	assert_null(fsx_batch_made(b, "web/newer/a.md"));
	assert_true(fsx_batch_sync_dirs(b, &e));
	assert_null(fsx_batch_made(b, "web/new/b.md"));
	fsx_batch_destroy(b);

	assert_false(fsx_rmdir_beneath(f->root, "web/new", &e));
	assert_int_equal(faccessat(f->root, "web/new/b.md", F_OK, 0), 0);
	assert_true(fsx_unlink_beneath(f->root, "web/new/b.md", NULL,
				       &(bool){false}, &e));
	assert_true(fsx_unlink_beneath(f->root, "web/new/epic/a.md", NULL,
				       &(bool){false}, &e));
	assert_true(fsx_rmdir_beneath(f->root, "web/new/epic", &e));
	assert_true(fsx_rmdir_beneath(f->root, "web/new", &e));
	assert_int_equal(faccessat(f->root, "web/new", F_OK, 0), -1);
	assert_false(fsx_rmdir_beneath(f->root, "../web", &e));
	assert_string_equal(e.msg, "../web: path leaves the root");
}

static void test_unlink(void **state)
{
	struct fixture *f = *state;
	struct file_stat before;
	struct err e = {""};
	bool stale = false;

	put(f, "x.md", "scanned");
	lstat_fs(f, "x.md", &before);
	put(f, "x.md", "edited since");
	assert_false(fsx_unlink_beneath(f->root, "x.md", &before, &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg, "x.md: changed since the scan; left alone");
	assert_int_equal(faccessat(f->root, "x.md", F_OK, 0), 0);

	lstat_fs(f, "x.md", &before);
	assert_true(fsx_unlink_beneath(f->root, "x.md", &before, &stale, &e));
	assert_false(stale);
	assert_int_equal(faccessat(f->root, "x.md", F_OK, 0), -1);

	assert_false(fsx_unlink_beneath(f->root, "x.md", &before, &stale, &e));
	assert_true(stale);
	assert_string_equal(e.msg, "x.md: changed since the scan; left alone");
	assert_false(
		fsx_unlink_beneath(f->root, "../x.md", &before, &stale, &e));
	assert_false(stale);
	assert_string_equal(e.msg, "../x.md: path leaves the root");
}

/* ---- the run lock ---- */

static char *lock_path(struct fixture *f)
{
	return xasprintf("%s/.storysync/lock", f->dir);
}

/* In a child: fsx_lock with wait_s; exit 0 when it returned -2 with the
 * message, after about min_ms to max_ms. */
static int try_in_child(const char *path, int wait_s, long min_ms, long max_ms)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = {""};
		char want[512];
		struct timespec a, b;
		long ms;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &a);
		r = fsx_lock(NULL, path, wait_s, &e);
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (b.tv_sec - a.tv_sec) * 1000 +
		     (b.tv_nsec - a.tv_nsec) / 1000000;
		snprintf(want, sizeof(want), "%s: held by another run", path);
		if (r != -2 || strcmp(e.msg, want) || ms < min_ms ||
		    ms > max_ms) {
			fprintf(stderr, "lock: %d %s after %ld ms\n", r, e.msg,
				ms);
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static void test_lock_busy(void **state)
{
	struct fixture *f = *state;
	char *path = lock_path(f);
	struct err e = {""};
	struct stat st;
	int fd = fsx_lock(NULL, path, -1, &e);

	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(stat(path, &st), 0);
	/* the bounds a busy machine cannot cross: never too early, and far
	 * from waiting for a lock that is never let go */
	assert_int_equal(try_in_child(path, -1, 0, 1000), 0);
	assert_int_equal(try_in_child(path, 1, 1000, 30000), 0);
	fsx_unlock(fd);
	fd = fsx_lock(NULL, path, -1, &e);
	assert_true(fd >= 0);
	fsx_unlock(fd);
	free(path);
}

static void test_lock_dies_with_holder(void **state)
{
	struct fixture *f = *state;
	char *path = lock_path(f);
	struct err e = {""};
	int pipefd[2], status, fd;
	char c;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (fsx_lock(NULL, path, -1, &e) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	assert_int_equal(fsx_lock(NULL, path, -1, &e), -2);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fd = fsx_lock(NULL, path, -1, &e);
	assert_true(fd >= 0);
	fsx_unlock(fd);
	free(path);
}

/* True once a process waits in flock(2) for the lock on the file with inode
 * ino (a "->" line of /proc/locks); polls up to 60 s. */
static bool lock_waited_for(ino_t ino)
{
	char want[64], line[256];

	snprintf(want, sizeof(want), ":%llu ", (unsigned long long)ino);
	for (int i = 0; i < 6000; i++) {
		FILE *f = fopen("/proc/locks", "r");
		bool found = false;

		assert_non_null(f);
		while (!found && fgets(line, sizeof(line), f))
			found = strstr(line, " -> FLOCK ") &&
				strstr(line, want);
		fclose(f);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static void test_lock_waits(void **state)
{
	struct fixture *f = *state;
	char *path = lock_path(f);
	struct err e = {""};
	int held[2], go[2], got[2], status;
	struct stat st;
	pid_t holder, waiter;
	char c;

	assert_int_equal(pipe(held), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(got), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (holder == 0) {
		/* holds the lock until the test closes go */
		close(go[1]);
		if (fsx_lock(NULL, path, -1, &e) < 0 ||
		    write(held[1], "x", 1) != 1)
			_exit(1);
		_exit(read(go[0], &c, 1) == 0 ? 0 : 1);
	}
	close(held[1]);
	close(go[0]);
	assert_int_equal(read(held[0], &c, 1), 1);
	close(held[0]);
	waiter = fork();
	assert_true(waiter >= 0);
	if (waiter == 0) {
		/* 0 waits as long as it takes */
		close(go[1]);
		close(got[0]);
		_exit(fsx_lock(NULL, path, 0, &e) >= 0 &&
				      write(got[1], "x", 1) == 1
			      ? 0
			      : 1);
	}
	close(got[1]);
	assert_int_equal(stat(path, &st), 0);
	/* the waiter waits in the lock, and has not got it */
	assert_true(lock_waited_for(st.st_ino));
	assert_int_equal(fcntl(got[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(read(got[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(got[0], F_SETFL, 0), 0);
	/* the holder lets go: the waiter gets it */
	close(go[1]);
	assert_int_equal(read(got[0], &c, 1), 1);
	close(got[0]);
	assert_int_equal(waitpid(holder, &status, 0), holder);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(waitpid(waiter, &status, 0), waiter);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(path);

	/* Only the lock file's own directory is created. */
	path = xasprintf("%s/no/such/lock", f->dir);
	assert_int_equal(fsx_lock(NULL, path, -1, &e), -1);
	assert_true(strncmp(e.msg, path, strlen(path)) == 0);
	assert_string_equal(e.msg + strlen(path),
			    ": No such file or directory");
	free(path);
}

/* ---- stat data ---- */

static void test_stat_and_racy(void **state)
{
	struct file_stat a = {1000000000LL, 1000000001LL, 10, 7, 0100644};
	struct file_stat b = a;
	int64_t now = fsx_now_ns();

	assert_true(now > 1600000000LL * 1000000000LL);
	assert_true(fsx_stat_equal(&a, &b));
	b.ctime_ns++;
	assert_false(fsx_stat_equal(&a, &b));
	b = a;
	b.mode = 0100600;
	assert_false(fsx_stat_equal(&a, &b));
	b = a;
	b.ino = 8;
	assert_false(fsx_stat_equal(&a, &b));
	b = a;
	b.size = 11;
	assert_false(fsx_stat_equal(&a, &b));
	b = a;
	b.mtime_ns--;
	assert_false(fsx_stat_equal(&a, &b));

	assert_true(fsx_racy(&a, a.mtime_ns));
	assert_true(fsx_racy(&a, a.mtime_ns + FSX_RACY_NS - 1));
	assert_false(fsx_racy(&a, a.mtime_ns + FSX_RACY_NS));
	assert_false(fsx_racy(&a, now));
}

/* openat (openat64 with _FILE_OFFSET_BITS=64), but for O_TMPFILE while
 * no_tmpfile is set: EOPNOTSUPP, as on FAT (tests/meson.build wraps it
 * for this test alone). */
static bool no_tmpfile;
static int tmpfile_refused;
int __real_openat64(int dirfd, const char *path, int flags, ...);
int __wrap_openat64(int dirfd, const char *path, int flags, ...);
int __wrap_openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, unsigned int);
		va_end(ap);
	}
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		tmpfile_refused++;
		errno = EOPNOTSUPP;
		return -1;
	}
	return __real_openat64(dirfd, path, flags, mode);
}

/* The file system's clock: not behind a file written before it was read,
 * not ahead of the wall clock (the file system's timestamps are the
 * coarse clock's, truncated), and nothing left in the directory; a file
 * whose mtime is older than the reading is trusted, one no older not. */
static void test_fs_clock(void **state)
{
	struct fixture *f = *state;
	struct file_stat a = {0};
	struct stat st;
	int64_t clock = 0, before;
	struct dirent *de;
	DIR *d;
	int n = 0;

	put(f, "a", "x");
	assert_int_equal(fstatat(f->root, "a", &st, 0), 0);
	fsx_stat_from(&a, &st);
	before = fsx_now_ns();
	assert_true(fsx_fs_clock(f->root, &clock));
	assert_true(clock >= a.mtime_ns);
	assert_true(clock <= fsx_now_ns());
	assert_true(clock > before - 1000000000LL);
	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);

	a.mtime_ns = clock - 1;
	assert_false(fsx_racy(&a, fsx_recorded_after(clock)));
	a.mtime_ns = clock;
	assert_true(fsx_racy(&a, fsx_recorded_after(clock)));
	a.mtime_ns = clock + 1;
	assert_true(fsx_racy(&a, fsx_recorded_after(clock)));

	/* no reading of that clock: the wall clock's now, 20 ms past a
	 * fine mtime; a whole second's (or an even one's) tick begun before
	 * now less the window, where a second write keeps a coarse mtime */
	int64_t s = 1796686131LL * 1000000000LL;

	a.mtime_ns = s + 7;
	assert_false(fsx_racy(
		&a, fsx_recorded_wall(s + 7 + FSX_RACY_NS, a.mtime_ns)));
	assert_true(fsx_racy(
		&a, fsx_recorded_wall(s + 6 + FSX_RACY_NS, a.mtime_ns)));
	a.mtime_ns = s;
	assert_true(fsx_racy(&a, fsx_recorded_wall(s + 500000000LL, s)));
	assert_true(fsx_racy(&a, fsx_recorded_wall(s + 1000000000LL, s)));
	assert_false(fsx_racy(
		&a, fsx_recorded_wall(s + 1000000000LL + FSX_RACY_NS, s)));
	a.mtime_ns = s + 1000000000LL; /* even: FAT's two seconds */
	assert_true(
		fsx_racy(&a, fsx_recorded_wall(s + 2000000000LL + FSX_RACY_NS,
					       a.mtime_ns)));
	assert_false(
		fsx_racy(&a, fsx_recorded_wall(s + 3000000000LL + FSX_RACY_NS,
					       a.mtime_ns)));
	assert_false(fsx_fs_clock(-1, &clock));
}

/* Where the file system has no unnamed files: a named one, removed. */
static void test_fs_clock_named(void **state)
{
	no_tmpfile = true;
	test_fs_clock(state);
	no_tmpfile = false;
	assert_int_equal(tmpfile_refused, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_blobid),
		T(test_walk),
		T(test_walk_top_and_stop),
		T(test_walk_missing),
		T(test_walk_permission),
		T(test_read_at),
		T(test_read_beneath_big),
		T(test_read_permission),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_name_utf8),
		T(test_name_rules),
		T(test_file_name_rules),
		T(test_open_beneath),
		T(test_mkdir_parents_and_open_root),
		T(test_mkdirs),
		T(test_write_create),
		T(test_write_replace),
		T(test_write_stale),
		T(test_write_refused),
		T(test_write_fails),
		T(test_move),
		T(test_made_dirs),
		T(test_unlink),
		T(test_lock_busy),
		T(test_lock_dies_with_holder),
		T(test_lock_waits),
		cmocka_unit_test(test_stat_and_racy),
		T(test_fs_clock),
		T(test_fs_clock_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
