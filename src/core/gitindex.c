/*
 * One question of git's index, "is this path tracked?", answered from the
 * index file (gitformat-index(5)) without libgit2: loading the git module
 * to ask it cost a no-op run of every tree with a .storysync.local.yml
 * (every tree on a server) a fifth of its CPU. The file is the
 * repository's, so every byte of it is checked before it is used; what
 * this reader does not understand it leaves to libgit2.
 */
#include "gitindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsx.h"
#include "githead.h"
#include "mem.h"

#define HASH_LEN      20 /* SHA-1; a SHA-256 repository is left to libgit2 */
#define ENTRY_FIXED   62 /* stat data, mode, ids, size, hash, flags */
#define NAME_MASK     0x0fff
#define EXTENDED      0x4000
#define STAGE_MASK    0x3000
#define INTENT_TO_ADD 0x2000            /* of the extended flags */
#define INDEX_MAX     ((size_t)1 << 30) /* past it, libgit2 decides */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Index v4's offset varint at *p (below end); false when it runs past end
 * or overflows. */
static bool varint(const unsigned char **p, const unsigned char *end,
		   size_t *out)
{
	size_t v;
	unsigned char c;

	if (*p >= end)
		return false;
	c = *(*p)++;
	v = c & 127;
	while (c & 128) {
		if (*p >= end || v > (SIZE_MAX >> 8) - 1)
			return false;
		c = *(*p)++;
		v = ((v + 1) << 7) | (c & 127);
	}
	*out = v;
	return true;
}

/* The entries: *found when one is named rel; *ext set to where the
 * extensions start. False for anything malformed or not understood. */
/* One entry of the index: its name (len bytes), the entry's bytes from
 * its start (fixed of them before the name), flags and mode. */
struct entry {
	const unsigned char *name, *start;
	size_t len, fixed;
	unsigned flags, mode;
};

/* Whether e is one file of a tree: stage 0, a file or a symlink, not
 * added with --intent-to-add (which no tree holds). */
static bool entry_plain(const struct entry *e)
{
	unsigned type = e->mode & 0170000;

	return (e->flags & STAGE_MASK) == 0 &&
	       !(e->fixed > ENTRY_FIXED &&
		 ((unsigned)e->start[62] << 8 & INTENT_TO_ADD)) &&
	       (type == 0100000 || type == 0120000);
}

/* What the index holds at one path. */
struct hit {
	const char *rel;
	size_t rlen;
	bool found;                 /* an entry of any stage */
	bool plain;                 /* and only one, entry_plain */
	unsigned char id[HASH_LEN]; /* that entry's blob */
};

static bool on_hit(void *ctx, const struct entry *e)
{
	struct hit *hit = ctx;

	if (e->len == hit->rlen && memcmp(e->name, hit->rel, e->len) == 0) {
		hit->plain = !hit->found && entry_plain(e);
		hit->found = true;
		memcpy(hit->id, e->start + 40, HASH_LEN);
	}
	return true;
}

/* The entries, each given to fn (false from it: stop, unsure); *ext set
 * to where the extensions start. False for anything malformed or not
 * understood. */
static bool walk(const unsigned char *data, const unsigned char *end,
		 uint32_t version, uint32_t count,
		 bool (*fn)(void *, const struct entry *), void *ctx,
		 const unsigned char **ext)
{
	const unsigned char *p = data + 12;
	size_t plen = 0;
	struct buf_name {
		char *s;
		size_t cap;
	} prev = {NULL, 0};
	bool ok = false;

	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *start = p, *name, *nul;
		unsigned flags, mode;
		size_t len, fixed = ENTRY_FIXED;
		struct entry e;

		if ((size_t)(end - p) < fixed + 1)
			goto out;
		mode = be32(p + 24);
		flags = (unsigned)p[60] << 8 | p[61];
		if ((flags & EXTENDED) && version < 3)
			goto out;
		if (flags & EXTENDED)
			fixed += 2;
		if ((mode & 0170000) == 0040000) /* a sparse directory */
			goto out;
		p += fixed;
		if (version == 4) {
			size_t strip;

			if (!varint(&p, end, &strip) || strip > plen)
				goto out;
			plen -= strip;
		}
		name = p;
		nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
		if (!nul)
			goto out;
		len = (size_t)(nul - name);
		if (version == 4) {
			if (len > SIZE_MAX / 2 - plen)
				goto out;
			if (plen + len + 1 > prev.cap) {
				prev.cap = 2 * (plen + len + 1);
				prev.s = xreallocarray(prev.s, prev.cap, 1);
			}
			memcpy(prev.s + plen, name, len);
			plen += len;
			prev.s[plen] = '\0';
			name = (const unsigned char *)prev.s;
			len = plen;
			p = nul + 1;
		} else {
			/* NUL-padded to a multiple of 8 from the entry's start
			 */
			size_t size = ((size_t)(nul - start) + 8) & ~(size_t)7;

			if (size > (size_t)(end - start))
				goto out;
			p = start + size;
		}
		if ((flags & NAME_MASK) != (len < NAME_MASK ? len : NAME_MASK))
			goto out;
		e = (struct entry){name, start, len, fixed, flags, mode};
		if (!fn(ctx, &e))
			goto out;
	}
	*ext = p;
	ok = true;
out:
	free(prev.s);
	return ok;
}

/* The cache tree's first entry (gitformat-index(5), "Cache tree"): the
 * root's, "" then NUL, its entry count, a space, its subtree count, a
 * newline and, when the count is not -1 (invalid: changed since git
 * last wrote a tree from the index), the tree id the whole index makes.
 * True, the id in root, only for a valid root. */
static bool cache_tree_root(const unsigned char *p, uint32_t size,
			    unsigned char root[HASH_LEN])
{
	const unsigned char *end = p + size, *nl;
	bool digits = false;

	if (size < 1 || p[0] != '\0')
		return false;
	p++;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || *p == '-')
		return false;
	for (; p < nl && *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (!digits || p == nl || *p++ != ' ')
		return false;
	for (digits = false; p < nl && *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (!digits || p != nl || (size_t)(end - nl - 1) < HASH_LEN)
		return false;
	memcpy(root, nl + 1, HASH_LEN);
	return true;
}

/* The extensions up to the trailing hash: a split index ("link"), a
 * sparse one ("sdir") or any other that git calls required (its name
 * not in capitals) change what the entries mean. */
static bool extensions_optional(const unsigned char *p,
				const unsigned char *end,
				unsigned char root[HASH_LEN], bool *rooted)
{
	*rooted = false;
	while ((size_t)(end - p) > HASH_LEN) {
		uint32_t size;

		if ((size_t)(end - p) < 8 + HASH_LEN)
			return false;
		if (p[0] < 'A' || p[0] > 'Z')
			return false;
		size = be32(p + 4);
		if (size > (size_t)(end - p) - 8 - HASH_LEN)
			return false;
		if (memcmp(p, "TREE", 4) == 0)
			*rooted = cache_tree_root(p + 8, size, root);
		p += 8 + size;
	}
	return end - p == HASH_LEN;
}

/* The index in data, each entry given to fn, and its cache tree's root
 * (*rooted when valid). False when unsure. */
static bool parse(const unsigned char *data, size_t len,
		  bool (*fn)(void *, const struct entry *), void *ctx,
		  unsigned char root[HASH_LEN], bool *rooted)
{
	const unsigned char *end = data + len, *ext = NULL;
	uint32_t version, count;

	if (len < 12 + HASH_LEN || memcmp(data, "DIRC", 4) != 0)
		return false;
	version = be32(data + 4);
	count = be32(data + 8);
	if (version < 2 || version > 4 ||
	    count > (len - 12 - HASH_LEN) / (ENTRY_FIXED + 1))
		return false;
	return walk(data, end - HASH_LEN, version, count, fn, ctx, &ext) &&
	       extensions_optional(ext, end, root, rooted);
}

enum gitindex_answer gitindex_lookup(const unsigned char *data, size_t len,
				     const char *rel)
{
	struct hit hit = {rel, strlen(rel), false, false, {0}};
	unsigned char root[HASH_LEN];
	bool rooted;

	if (!parse(data, len, on_hit, &hit, root, &rooted))
		return GITINDEX_UNSURE;
	return hit.found ? GITINDEX_TRACKED : GITINDEX_UNTRACKED;
}

static bool from_hex(const char *hex, unsigned char out[HASH_LEN])
{
	for (int i = 0; i < HASH_LEN; i++) {
		int hi = hexval(hex[2 * i]),
		    lo = hi < 0 ? -1 : hexval(hex[2 * i + 1]);

		if (lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * HASH_LEN] == '\0';
}

/* The index as the files of one tree, by path: its entries in the
 * index's order (sorted, checked), each a name and a blob id in the
 * file's own bytes (kept), or in names for v4's prefix-compressed names;
 * not plain (see entry_plain): none. Copying 100k names one by one was
 * most of the reading. */
struct gitindex_tree {
	char *workdir;
	unsigned char *data; /* the index file */
	size_t len;
	struct buf names; /* v4's names, each with its NUL */
	struct file {
		size_t name;  /* offset in data, or in names when in_names */
		size_t entry; /* the entry's offset in data */
		bool in_names, plain;
	} * files;
	size_t n, cap;
};

static const char *name_of(const struct gitindex_tree *t, size_t i)
{
	const struct file *f = &t->files[i];

	return f->in_names ? t->names.data + f->name
			   : (const char *)t->data + f->name;
}

static bool on_file(void *ctx, const struct entry *e)
{
	struct gitindex_tree *t = ctx;
	bool in_data = e->name >= t->data && e->name < t->data + t->len;
	struct file f = {0};

	if (t->n) {
		const char *last = name_of(t, t->n - 1);
		size_t ll = strlen(last);
		int c = memcmp(last, e->name, ll < e->len ? ll : e->len);

		if (c > 0 || (c == 0 && ll > e->len))
			return false; /* out of order: not git's */
		if (c == 0 && ll == e->len) {
			t->files[t->n - 1].plain = false; /* stages of one */
			return true;
		}
	}
	if (memchr(e->name, '\0', e->len))
		return false;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->files = xreallocarray(t->files, t->cap, sizeof(*t->files));
	}
	f.entry = (size_t)(e->start - t->data);
	f.plain = entry_plain(e);
	if (in_data) { /* v2, v3: the name ends with a NUL in data */
		f.name = (size_t)(e->name - t->data);
	} else {
		f.in_names = true;
		f.name = t->names.len;
		buf_add(&t->names, e->name, e->len);
		buf_add(&t->names, "", 1);
	}
	t->files[t->n++] = f;
	return true;
}

void gitindex_tree_free(struct gitindex_tree *t)
{
	if (!t)
		return;
	buf_finish(&t->names);
	free(t->files);
	free(t->data);
	free(t->workdir);
	free(t);
}

/* gitindex_tree_of, taking data (heap) over, whatever it returns. */
static struct gitindex_tree *tree_take(unsigned char *data, size_t len,
				       const char *tree)
{
	struct gitindex_tree *t = xcalloc(1, sizeof(*t));
	unsigned char root[HASH_LEN], want[HASH_LEN];
	bool rooted;

	t->names = (struct buf)BUF_INIT;
	t->data = data;
	t->len = len;
	if (!from_hex(tree, want) ||
	    !parse(data, len, on_file, t, root, &rooted) || !rooted ||
	    memcmp(root, want, HASH_LEN) != 0) {
		gitindex_tree_free(t);
		return NULL;
	}
	t->workdir = xstrdup("");
	return t;
}

struct gitindex_tree *gitindex_tree_of(const unsigned char *data, size_t len,
				       const char *tree)
{
	unsigned char *copy = xmalloc(len ? len : 1);

	memcpy(copy, data, len);
	return tree_take(copy, len, tree);
}

enum gitindex_answer gitindex_tree_blob(const struct gitindex_tree *t,
					const char *path,
					char blob[GITINDEX_HEX])
{
	static const char digits[] = "0123456789abcdef";
	size_t n = strlen(t->workdir);
	const unsigned char *id;
	size_t i, lo, hi;
	bool found = false;

	blob[0] = '\0';
	if (*t->workdir) {
		if (strncmp(path, t->workdir, n) != 0 || path[n] != '/')
			return GITINDEX_UNSURE;
		path += n + 1;
	}
	for (lo = 0, hi = t->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, name_of(t, mid));

		if (c == 0) {
			lo = hi = mid;
			found = true;
		} else if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	if (!found)
		return GITINDEX_UNTRACKED;
	i = lo;
	if (!t->files[i].plain)
		return GITINDEX_UNSURE;
	id = t->data + t->files[i].entry + 40;
	for (int k = 0; k < HASH_LEN; k++) {
		blob[2 * k] = digits[id[k] >> 4];
		blob[2 * k + 1] = digits[id[k] & 15];
	}
	blob[2 * HASH_LEN] = '\0';
	return GITINDEX_TRACKED;
}

/* A config line "key = value" whose key is name (any case). */
static bool key_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n >= k && strncasecmp(line, name, k) == 0 &&
	       (n == k || line[k] == ' ' || line[k] == '\t' || line[k] == '=');
}

/* The file dir/name, all of it, NUL-terminated (fsx_read_path: read, not
 * mapped, as a file cut short under a mapping would end the run with
 * SIGBUS), up to INDEX_MAX: 100k entries make 14 MB. */
static unsigned char *read_all(const char *dir, const char *name, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct buf b = BUF_INIT;
	bool ok = fsx_read_path(path, INDEX_MAX, &b, NULL);

	free(path);
	if (!ok) {
		buf_finish(&b);
		return NULL;
	}
	*len = b.len;
	return (unsigned char *)buf_detach(&b);
}

/* v (up to end) is "false", then only blanks or a comment. */
static bool is_false(const char *v, const char *end)
{
	if (!v || end - v < 5 || strncasecmp(v, "false", 5) != 0)
		return false;
	for (v += 5; v < end && *v != '#' && *v != ';'; v++)
		if (!strchr(" \t\r", *v))
			return false;
	return true;
}

/* The repository's config sets nothing that changes where the work tree
 * is, how paths compare, or the hash: else libgit2 must answer. */
static bool plain_config(const char *common)
{
	size_t len;
	char *text = (char *)read_all(common, "config", &len), *line;
	bool plain = true;

	if (!text)
		return false;
	for (line = text; plain && line && *line;) {
		char *nl = strchr(line, '\n'), *v;
		size_t n;

		line += strspn(line, " \t");
		n = nl ? (size_t)(nl - line) : strlen(line);
		v = memchr(line, '=', n);
		if (v)
			v += 1 + strspn(v + 1, " \t");
		if (*line == '[')
			plain = strncasecmp(line, "[include", 8) != 0;
		else if (key_is(line, n, "bare") ||
			 key_is(line, n, "ignorecase"))
			plain = is_false(v, line + n);
		else if (key_is(line, n, "worktree") ||
			 key_is(line, n, "objectformat") ||
			 key_is(line, n, "worktreeconfig"))
			plain = false;
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return plain;
}

/* A repository libgit2 would open as it is: HEAD, objects and refs where
 * they belong, owned by this user as libgit2's ownership check wants. */
static bool plain_repo(const char *gitdir, const char *common,
		       const char *workdir)
{
	char *head = xasprintf("%s/HEAD", gitdir);
	char *objects = xasprintf("%s/objects", common);
	char *refs = xasprintf("%s/refs", common);
	struct stat s1, s2, s3, s4;
	uid_t me = geteuid();
	bool ok = lstat(head, &s1) == 0 && S_ISREG(s1.st_mode) &&
		  stat(objects, &s2) == 0 && S_ISDIR(s2.st_mode) &&
		  stat(refs, &s3) == 0 && S_ISDIR(s3.st_mode) &&
		  stat(workdir, &s4) == 0 && s4.st_uid == me &&
		  stat(gitdir, &s1) == 0 && s1.st_uid == me &&
		  stat(common, &s2) == 0 && s2.st_uid == me;

	free(refs);
	free(objects);
	free(head);
	return ok;
}

/* The index of the work tree holding dir (absolute, canonical), all of
 * it, when the repository is one this reader understands; *workdir
 * (heap) the work tree. NULL with *none set when there is no
 * repository; NULL when unsure. */
static unsigned char *index_in(const char *dir, size_t *len, char **workdir,
			       bool *none)
{
	char *gitdir, *common = NULL;
	unsigned char *data = NULL;
	bool crossed;

	*none = false;
	*workdir = NULL;
	if (*dir != '/' || getenv("GIT_DIR") || getenv("GIT_WORK_TREE"))
		return NULL;
	gitdir = githead_gitdir(dir, workdir, &crossed);
	if (crossed)
		goto out;
	if (!gitdir) {
		*none = true; /* no repository: nothing is tracked */
		goto out;
	}
	common = githead_common_dir(gitdir);
	if (plain_repo(gitdir, common, *workdir) && plain_config(common))
		data = read_all(gitdir, "index", len);
out:
	free(common);
	free(gitdir);
	return data;
}

enum gitindex_answer gitindex_tracked(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *workdir = NULL;
	unsigned char *data;
	enum gitindex_answer a = GITINDEX_UNSURE;
	size_t len, n;
	bool none;

	if (!slash || *path != '/')
		return GITINDEX_UNSURE;
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	data = index_in(dir, &len, &workdir, &none);
	if (none)
		a = GITINDEX_UNTRACKED;
	n = workdir ? strlen(workdir) : 0;
	if (data && strncmp(path, workdir, n) == 0 && path[n] == '/')
		a = gitindex_lookup(data, len, path + n + 1);
	free(data);
	free(workdir);
	free(dir);
	return a;
}

/* The entries whose names start with rel, as paths in workdir. */
struct prefixed {
	const char *rel, *workdir;
	size_t rlen;
	struct buf *out;
};

static bool on_prefixed(void *ctx, const struct entry *e)
{
	struct prefixed *p = ctx;

	if (e->len >= p->rlen && memcmp(e->name, p->rel, p->rlen) == 0)
		buf_printf(p->out, "%s/%.*s\n", p->workdir, (int)e->len,
			   (const char *)e->name);
	return true;
}

enum gitindex_answer gitindex_prefixed(const char *path, struct buf *out)
{
	const char *slash = strrchr(path, '/');
	char *dir, *workdir = NULL;
	unsigned char *data, root[HASH_LEN];
	enum gitindex_answer a = GITINDEX_UNSURE;
	size_t len, n, before = out->len;
	bool none, rooted;

	if (!slash || *path != '/')
		return GITINDEX_UNSURE;
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	data = index_in(dir, &len, &workdir, &none);
	if (none)
		a = GITINDEX_UNTRACKED;
	n = workdir ? strlen(workdir) : 0;
	if (data && strncmp(path, workdir, n) == 0 && path[n] == '/') {
		struct prefixed p = {path + n + 1, workdir,
				     strlen(path + n + 1), out};

		a = parse(data, len, on_prefixed, &p, root, &rooted)
			    ? out->len > before ? GITINDEX_TRACKED
						: GITINDEX_UNTRACKED
			    : GITINDEX_UNSURE;
	}
	free(data);
	free(workdir);
	free(dir);
	return a;
}

struct gitindex_tree *gitindex_tree_open(const char *dir, const char *tree)
{
	char *workdir = NULL;
	size_t len;
	bool none;
	unsigned char *data = index_in(dir, &len, &workdir, &none);
	struct gitindex_tree *t = data ? tree_take(data, len, tree) : NULL;

	if (t) {
		free(t->workdir);
		t->workdir = workdir;
		workdir = NULL;
	}
	free(workdir);
	return t;
}
