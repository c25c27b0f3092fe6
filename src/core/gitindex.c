/*
 * One question of git's index, "is this path tracked?", answered from the
 * index file (gitformat-index(5)) without libgit2: loading the git module
 * to ask it cost a no-op run of every tree with a .storysync.local.yml
 * (every tree on a server) a fifth of its CPU. The file is the
 * repository's, so every byte of it is checked before it is used; what
 * this reader does not understand it leaves to libgit2.
 */
#include "gitindex.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobid.h"
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

static void hex_of(const unsigned char id[HASH_LEN], char hex[GITINDEX_HEX])
{
	static const char digits[] = "0123456789abcdef";

	for (int k = 0; k < HASH_LEN; k++) {
		hex[2 * k] = digits[id[k] >> 4];
		hex[2 * k + 1] = digits[id[k] & 15];
	}
	hex[2 * HASH_LEN] = '\0';
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
	bool found; /* an entry of any stage */
	bool plain; /* and only one, entry_plain */
};

static bool on_hit(void *ctx, const struct entry *e)
{
	struct hit *hit = ctx;

	if (e->len == hit->rlen && memcmp(e->name, hit->rel, e->len) == 0) {
		hit->plain = !hit->found && entry_plain(e);
		hit->found = true;
	}
	return true;
}

static void hit_reset(void *ctx)
{
	struct hit *hit = ctx;

	hit->found = hit->plain = false;
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

/* Where a split index's "link" extension is (its payload, NULL for
 * none), and its size. */
struct link {
	const unsigned char *p;
	uint32_t size;
};

/* The extensions up to the trailing hash: a sparse index ("sdir") or any
 * other that git calls required (its name not in capitals) but a split
 * index's "link" (in *link) change what the entries mean. */
static bool extensions_optional(const unsigned char *p,
				const unsigned char *end,
				unsigned char root[HASH_LEN], bool *rooted,
				struct link *link)
{
	*rooted = false;
	*link = (struct link){NULL, 0};
	while ((size_t)(end - p) > HASH_LEN) {
		uint32_t size;

		if ((size_t)(end - p) < 8 + HASH_LEN)
			return false;
		size = be32(p + 4);
		if (size > (size_t)(end - p) - 8 - HASH_LEN)
			return false;
		if (memcmp(p, "link", 4) == 0 && !link->p)
			*link = (struct link){p + 8, size};
		else if (p[0] < 'A' || p[0] > 'Z')
			return false;
		if (memcmp(p, "TREE", 4) == 0)
			*rooted = cache_tree_root(p + 8, size, root);
		p += 8 + size;
	}
	return end - p == HASH_LEN;
}

/* The index file in data, each entry given to fn, its cache tree's root
 * (*rooted when valid) and its link to a shared index (a split index's).
 * False when unsure. */
static bool parse(const unsigned char *data, size_t len,
		  bool (*fn)(void *, const struct entry *), void *ctx,
		  unsigned char root[HASH_LEN], bool *rooted, struct link *link)
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
	       extensions_optional(ext, end, root, rooted, link);
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The entries of one file of a split index, kept: its names point into
 * the file's bytes, or for v4 (whose walk builds each name in a buffer
 * it reuses) into names. */
struct kept {
	struct entry *v;
	size_t *off; /* each v4 name's offset in names, else SIZE_MAX */
	size_t n, cap;
	struct buf names;
	const unsigned char *data, *end;
};

static bool on_keep(void *ctx, const struct entry *e)
{
	struct kept *k = ctx;

	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 64;
		k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
		k->off = xreallocarray(k->off, k->cap, sizeof(*k->off));
	}
	k->off[k->n] = SIZE_MAX;
	if (e->name < k->data || e->name >= k->end) {
		k->off[k->n] = k->names.len;
		buf_add(&k->names, e->name, e->len);
		buf_add(&k->names, "", 1);
	}
	k->v[k->n++] = *e;
	return true;
}

static void kept_finish(struct kept *k)
{
	buf_finish(&k->names);
	free(k->off);
	free(k->v);
}

/* The entries of the index file in data into k; its link in *link. */
static bool keep(const unsigned char *data, size_t len, struct kept *k,
		 struct link *link)
{
	unsigned char root[HASH_LEN];
	bool rooted;

	k->data = data;
	k->end = data + len;
	if (!parse(data, len, on_keep, k, root, &rooted, link))
		return false;
	for (size_t i = 0; i < k->n; i++)
		if (k->off[i] != SIZE_MAX)
			k->v[i].name = (const unsigned char *)k->names.data +
				       k->off[i];
	return true;
}

#define DELETED  1
#define REPLACED 2

/* The EWAH-compressed bitmap at *p (below end), as git's ewah/ewah_io.c
 * writes it: its size in bits, its count of 64-bit words, the words, the
 * position of the last run-length word, all big-endian. Each word of
 * runs: bit 0 the runs' bit, 32 bits of their length in words, 31 of the
 * count of literal words after it (their bits lowest first). mark is set
 * in marks at each set bit's position; false when one is at n or past,
 * or the bitmap is malformed. *p then past it. */
static bool ewah(const unsigned char **p, const unsigned char *end,
		 unsigned char *marks, size_t n, unsigned char mark)
{
	const unsigned char *q = *p;
	size_t words, pos = 0, w = 0; /* pos stays at n once past it */

	if ((size_t)(end - q) < 12)
		return false;
	words = be32(q + 4);
	q += 8;
	if ((size_t)(end - q - 4) / 8 < words)
		return false;
	while (w < words) {
		uint64_t word = be64(q + 8 * w++);
		uint64_t run = (word >> 1 & 0xffffffffu) * 64,
			 lits = word >> 33;

		if (word & 1) {
			if (run > n - pos)
				return false;
			while (run--)
				marks[pos++] |= mark;
		} else {
			pos = run > n - pos ? n : pos + (size_t)run;
		}
		if (lits > words - w)
			return false;
		for (; lits; lits--) {
			uint64_t bits = be64(q + 8 * w++);

			for (int c = 0; c < 64; c++) {
				if (bits >> c & 1) {
					if (pos >= n)
						return false;
					marks[pos] |= mark;
				}
				pos += pos < n;
			}
		}
	}
	if (words && be32(q + 8 * words) >= words)
		return false;
	*p = q + 8 * words + 4;
	return true;
}

/* git's order of entries: by name, then stage. */
static int entry_cmp(const struct entry *a, const struct entry *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->name, b->name, n) : 0;

	if (c || a->len != b->len)
		return c ? c : a->len < b->len ? -1 : 1;
	return (int)(a->flags & STAGE_MASK) - (int)(b->flags & STAGE_MASK);
}

/* The shared index's entries, each replaced, deleted or kept as the
 * link's bitmaps (a deletion's, then a replacement's) say, into out
 * (b->n of them at most, *n); the first *nrep of a's entries (nameless,
 * each taking the name of the one it replaces) are the replacements. */
static bool apply_link(const struct kept *a, const struct kept *b,
		       const unsigned char *p, const unsigned char *end,
		       struct entry *out, size_t *n, size_t *nrep)
{
	unsigned char *marks = xcalloc(b->n ? b->n : 1, 1);
	bool ok = false;

	*n = *nrep = 0;
	if (p < end && (!ewah(&p, end, marks, b->n, DELETED) ||
			!ewah(&p, end, marks, b->n, REPLACED) || p != end))
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		struct entry e = b->v[i];

		if (marks[i] == (DELETED | REPLACED))
			goto out;
		if (marks[i] == DELETED)
			continue;
		if (marks[i] == REPLACED) {
			if (*nrep == a->n || a->v[*nrep].len != 0)
				goto out;
			e = a->v[(*nrep)++];
			e.name = b->v[i].name;
			e.len = b->v[i].len;
		}
		out[(*n)++] = e;
	}
	ok = true;
out:
	free(marks);
	return ok;
}

/* A split index (gitformat-index(5), "Split index"): the file in data
 * links (link) to the shared index in shared (slen bytes, whose trailing
 * hash the link names; NULL when it is not read), whose entries it
 * replaces and deletes and to whose it adds its own after the
 * replacements (sorted), an added one taking the place of a shared one
 * of the same name and stage. The merged entries, in order, each given
 * to fn. */
static bool split_walk(const unsigned char *data, size_t len, struct link link,
		       const unsigned char *shared, size_t slen,
		       bool (*fn)(void *, const struct entry *), void *ctx)
{
	static const unsigned char zero[HASH_LEN];
	struct kept a = {.names = BUF_INIT}, b = {.names = BUF_INIT};
	struct link l;
	struct entry *base = NULL;
	size_t nbase, nrep, i = 0, j;
	bool ok = false;

	if (link.size < HASH_LEN || !keep(data, len, &a, &l))
		goto out;
	if (memcmp(link.p, zero, HASH_LEN) != 0 &&
	    (!shared || slen < HASH_LEN ||
	     memcmp(shared + slen - HASH_LEN, link.p, HASH_LEN) != 0 ||
	     !keep(shared, slen, &b, &l) || l.p))
		goto out; /* not the shared index named, or itself split */
	base = xreallocarray(NULL, b.n ? b.n : 1, sizeof(*base));
	if (!apply_link(&a, &b, link.p + HASH_LEN, link.p + link.size, base,
			&nbase, &nrep))
		goto out;
	for (j = nrep; j < a.n; j++)
		if (a.v[j].len == 0 ||
		    (j > nrep && entry_cmp(&a.v[j - 1], &a.v[j]) >= 0))
			goto out;
	for (j = nrep; i < nbase || j < a.n;) {
		int c = i == nbase ? 1
			: j == a.n ? -1
				   : entry_cmp(&base[i], &a.v[j]);

		if (!fn(ctx, c < 0 ? &base[i] : &a.v[j]))
			goto out;
		i += c <= 0;
		j += c >= 0;
	}
	ok = true;
out:
	free(base);
	kept_finish(&b);
	kept_finish(&a);
	return ok;
}

/* An index to read: its file, and where its shared index is when split
 * (given, or read from gitdir into held, which the caller frees). */
struct source {
	const unsigned char *data;
	size_t len;
	const char *gitdir;
	const unsigned char *shared;
	size_t slen;
	unsigned char *held;
};

static unsigned char *read_all(const char *dir, const char *name, size_t *len);

/* The index of src, split or not, each entry given to fn (reset called
 * first when a split index's own entries were given already), and its
 * cache tree's root. False when unsure. */
static bool read_index(struct source *src,
		       bool (*fn)(void *, const struct entry *),
		       void (*reset)(void *), void *ctx,
		       unsigned char root[HASH_LEN], bool *rooted)
{
	char name[sizeof("sharedindex.") + 2 * HASH_LEN];
	struct link link;

	if (!parse(src->data, src->len, fn, ctx, root, rooted, &link))
		return false;
	if (!link.p)
		return true;
	reset(ctx);
	if (src->gitdir && !src->shared && link.size >= HASH_LEN) {
		memcpy(name, "sharedindex.", 12);
		hex_of(link.p, name + 12);
		src->held = read_all(src->gitdir, name, &src->slen);
		src->shared = src->held;
	}
	return split_walk(src->data, src->len, link, src->shared, src->slen, fn,
			  ctx);
}

/* What the index of src holds at rel. */
static enum gitindex_answer lookup(struct source *src, const char *rel,
				   struct hit *hit)
{
	unsigned char root[HASH_LEN];
	bool rooted;

	*hit = (struct hit){rel, strlen(rel), false, false};
	if (!read_index(src, on_hit, hit_reset, hit, root, &rooted))
		return GITINDEX_UNSURE;
	return hit->found ? GITINDEX_TRACKED : GITINDEX_UNTRACKED;
}

enum gitindex_answer gitindex_lookup(const unsigned char *data, size_t len,
				     const char *rel)
{
	return gitindex_lookup_split(data, len, NULL, 0, rel);
}

enum gitindex_answer gitindex_lookup_split(const unsigned char *data,
					   size_t len,
					   const unsigned char *shared,
					   size_t slen, const char *rel)
{
	struct source src = {data, len, NULL, shared, slen, NULL};
	struct hit hit;

	return lookup(&src, rel, &hit);
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
	unsigned char *shared;    /* a split index's shared index, or NULL */
	const struct source *src; /* while it is read */
	struct buf names;         /* v4's names, each with its NUL */
	struct file {
		const unsigned char *entry; /* in data or shared */
		union {
			const char *p; /* in data or shared */
			size_t off;    /* in names, when in_names */
		} name;
		bool in_names, plain;
	} * files;
	size_t n, cap;
};

static const char *name_of(const struct gitindex_tree *t, size_t i)
{
	const struct file *f = &t->files[i];

	return f->in_names ? t->names.data + f->name.off : f->name.p;
}

static void files_reset(void *ctx)
{
	struct gitindex_tree *t = ctx;

	t->n = 0;
	buf_reset(&t->names);
}

static bool on_file(void *ctx, const struct entry *e)
{
	struct gitindex_tree *t = ctx;
	/* v2, v3: the name ends with a NUL in a file's bytes */
	const struct source *src = t->src;
	bool in_data =
		(e->name >= src->data && e->name < src->data + src->len) ||
		(src->shared && e->name >= src->shared &&
		 e->name < src->shared + src->slen);
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
	f.entry = e->start;
	f.plain = entry_plain(e);
	if (in_data) {
		f.name.p = (const char *)e->name;
	} else {
		f.in_names = true;
		f.name.off = t->names.len;
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
	free(t->shared);
	free(t->data);
	free(t->workdir);
	free(t);
}

/* The index in data (heap, taken over whatever it returns) as files by
 * path, its cache tree's root in root when *rooted; a split index's
 * shared one read from gitdir (NULL: shared, slen, copied). NULL when
 * unsure. */
static struct gitindex_tree *tree_read(unsigned char *data, size_t len,
				       const char *gitdir,
				       const unsigned char *shared, size_t slen,
				       unsigned char root[HASH_LEN],
				       bool *rooted)
{
	struct gitindex_tree *t = xcalloc(1, sizeof(*t));
	struct source src = {data, len, gitdir, NULL, 0, NULL};
	bool ok;

	t->names = (struct buf)BUF_INIT;
	t->data = data;
	t->len = len;
	if (shared) {
		src.held = xmalloc(slen ? slen : 1);
		memcpy(src.held, shared, slen);
		src.shared = src.held;
		src.slen = slen;
	}
	t->src = &src;
	ok = read_index(&src, on_file, files_reset, t, root, rooted);
	/* the shared index, once read, is the tree's: names point into it */
	t->shared = src.held;
	t->src = NULL;
	if (!ok) {
		gitindex_tree_free(t);
		return NULL;
	}
	t->workdir = xstrdup("");
	return t;
}

/* gitindex_tree_of, taking data (heap) over, whatever it returns; a split
 * index's shared one read from gitdir (NULL: shared, slen, copied). */
static struct gitindex_tree *tree_take(unsigned char *data, size_t len,
				       const char *gitdir,
				       const unsigned char *shared, size_t slen,
				       const char *tree)
{
	unsigned char root[HASH_LEN], want[HASH_LEN];
	bool rooted = false;
	struct gitindex_tree *t;

	if (!from_hex(tree, want)) {
		free(data);
		return NULL;
	}
	t = tree_read(data, len, gitdir, shared, slen, root, &rooted);
	if (t && (!rooted || memcmp(root, want, HASH_LEN) != 0)) {
		gitindex_tree_free(t);
		return NULL;
	}
	return t;
}

struct gitindex_tree *gitindex_tree_of(const unsigned char *data, size_t len,
				       const char *tree)
{
	return gitindex_tree_split(data, len, NULL, 0, tree);
}

struct gitindex_tree *gitindex_tree_split(const unsigned char *data, size_t len,
					  const unsigned char *shared,
					  size_t slen, const char *tree)
{
	unsigned char *copy = xmalloc(len ? len : 1);

	memcpy(copy, data, len);
	return tree_take(copy, len, NULL, shared, slen, tree);
}

/* Whether t holds rel (relative to its work tree): *at its place. */
static bool tree_find(const struct gitindex_tree *t, const char *rel,
		      size_t *at)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rel, name_of(t, mid));

		if (c == 0) {
			*at = mid;
			return true;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

enum gitindex_answer gitindex_tree_blob(const struct gitindex_tree *t,
					const char *path,
					char blob[GITINDEX_HEX])
{
	size_t n = strlen(t->workdir);
	size_t i;

	blob[0] = '\0';
	if (*t->workdir) {
		if (strncmp(path, t->workdir, n) != 0 || path[n] != '/')
			return GITINDEX_UNSURE;
		path += n + 1;
	}
	if (!tree_find(t, path, &i))
		return GITINDEX_UNTRACKED;
	if (!t->files[i].plain)
		return GITINDEX_UNSURE;
	hex_of(t->files[i].entry + 40, blob);
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

/* The git directory (heap) of the work tree holding dir (absolute,
 * canonical), when the repository is one this reader understands;
 * *workdir (heap) its work tree. NULL with *none set when there is no
 * repository; NULL when unsure. */
static char *index_where(const char *dir, char **workdir, bool *none)
{
	char *gitdir, *common = NULL;
	bool crossed;

	*none = false;
	*workdir = NULL;
	if (*dir != '/' || getenv("GIT_DIR") || getenv("GIT_WORK_TREE"))
		return NULL;
	gitdir = githead_gitdir(dir, workdir, &crossed);
	if (crossed) {
		free(gitdir);
		return NULL;
	}
	if (!gitdir) {
		*none = true; /* no repository: nothing is tracked */
		return NULL;
	}
	common = githead_common_dir(gitdir);
	if (!plain_repo(gitdir, common, *workdir) || !plain_config(common)) {
		free(gitdir);
		gitdir = NULL;
	}
	free(common);
	return gitdir;
}

/* The index of the work tree holding dir (absolute, canonical), all of
 * it, when the repository is one this reader understands; *workdir
 * and *gitdir (heap) the work tree and its git directory. NULL with
 * *none set when there is no repository; NULL when unsure. */
static unsigned char *index_in(const char *dir, size_t *len, char **workdir,
			       char **gitdir_out, bool *none)
{
	char *gitdir = index_where(dir, workdir, none);
	unsigned char *data = gitdir ? read_all(gitdir, "index", len) : NULL;

	if (data) {
		*gitdir_out = gitdir;
		gitdir = NULL;
	}
	free(gitdir);
	return data;
}

enum gitindex_answer gitindex_tracked(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *workdir = NULL, *gitdir = NULL;
	unsigned char *data;
	enum gitindex_answer a = GITINDEX_UNSURE;
	size_t len, n;
	bool none;
	struct hit hit;

	if (!slash || *path != '/')
		return GITINDEX_UNSURE;
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	data = index_in(dir, &len, &workdir, &gitdir, &none);
	if (none)
		a = GITINDEX_UNTRACKED;
	n = workdir ? strlen(workdir) : 0;
	if (data && strncmp(path, workdir, n) == 0 && path[n] == '/') {
		struct source src = {data, len, gitdir, NULL, 0, NULL};

		a = lookup(&src, path + n + 1, &hit);
		free(src.held);
	}
	free(data);
	free(gitdir);
	free(workdir);
	free(dir);
	return a;
}

/* The entries whose names start with rel, as paths in workdir. */
struct prefixed {
	const char *rel, *workdir;
	size_t rlen;
	struct buf *out;
	size_t before; /* out's length before the first entry */
};

static bool on_prefixed(void *ctx, const struct entry *e)
{
	struct prefixed *p = ctx;

	if (e->len >= p->rlen && memcmp(e->name, p->rel, p->rlen) == 0)
		buf_printf(p->out, "%s/%.*s\n", p->workdir, (int)e->len,
			   (const char *)e->name);
	return true;
}

static void prefixed_reset(void *ctx)
{
	struct prefixed *p = ctx;

	p->out->len = p->before;
	if (p->out->data)
		p->out->data[p->before] = '\0';
}

/* FNV-1a of s and its NUL, onto h. */
static uint64_t fnv(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return h;
}

/* The stamp of gitdir's index file as it is now, for the question of
 * path in workdir; false when it cannot be stat'ed. */
static bool stamp_now(const char *gitdir, const char *workdir, const char *path,
		      struct gitindex_stamp *s)
{
	char *file = xasprintf("%s/index", gitdir);
	struct stat st;
	bool ok = stat(file, &st) == 0;

	free(file);
	memset(s, 0, sizeof(*s));
	if (!ok)
		return false;
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->mtime_ns =
		(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	s->ctime_ns =
		(int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	s->where = fnv(fnv(fnv(0xcbf29ce484222325ULL, gitdir), workdir), path);
	s->set = true;
	return true;
}

bool gitindex_stamp_equal(const struct gitindex_stamp *a,
			  const struct gitindex_stamp *b)
{
	return a->set && b->set && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns && a->where == b->where;
}

/* gitindex_staged's index: read once for all the paths a run asks of it
 * (each discard candidate's; a read of the whole file each was 9 MB at
 * 100k), kept while the file's stamp is the one it was read with. git
 * never writes the index in place: it renames a new file over it (a new
 * inode, a new ctime), and the stat is taken before the read. */
static struct {
	pthread_mutex_t lock;
	struct gitindex_stamp stamp; /* set: t is that file's */
	struct gitindex_tree *t;     /* NULL: not understood */
} staged = {PTHREAD_MUTEX_INITIALIZER, {0}, NULL};

int gitindex_staged(const char *gitdir, const char *rel,
		    char blob[GITINDEX_HEX])
{
	struct gitindex_stamp now;
	unsigned char root[HASH_LEN], *data;
	bool rooted;
	size_t len, i;
	int rc = -1;

	blob[0] = '\0';
	pthread_mutex_lock(&staged.lock);
	if (!stamp_now(gitdir, "", "", &now))
		goto out; /* no index to read */
	if (!gitindex_stamp_equal(&staged.stamp, &now)) {
		gitindex_tree_free(staged.t);
		data = read_all(gitdir, "index", &len);
		staged.t = data ? tree_read(data, len, gitdir, NULL, 0, root,
					    &rooted)
				: NULL;
		staged.stamp = now;
		staged.stamp.set = data != NULL;
	}
	if (!staged.t)
		goto out;
	rc = 0;
	/* the stages of a path are in order: its first is stage 0 when
	 * it has one */
	if (tree_find(staged.t, rel, &i) &&
	    (staged.t->files[i].entry[60] & (STAGE_MASK >> 8)) == 0) {
		hex_of(staged.t->files[i].entry + 40, blob);
		rc = 1;
	}
out:
	pthread_mutex_unlock(&staged.lock);
	return rc;
}

enum gitindex_answer gitindex_prefixed(const char *path, struct buf *out,
				       struct gitindex_stamp *stamp,
				       char root_hex[GITINDEX_HEX])
{
	const char *slash = strrchr(path, '/');
	char *dir, *workdir = NULL, *gitdir;
	unsigned char *data = NULL, root[HASH_LEN];
	enum gitindex_answer a = GITINDEX_UNSURE;
	size_t len, n, before = out->len;
	bool none, rooted, stamped = false;
	struct gitindex_stamp now = {0};

	if (root_hex)
		root_hex[0] = '\0';
	if (!slash || *path != '/') {
		if (stamp)
			stamp->set = false;
		return GITINDEX_UNSURE;
	}
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	gitdir = index_where(dir, &workdir, &none);
	if (none)
		a = GITINDEX_UNTRACKED;
	/* stat'ed before it is read: a file put in its place meanwhile is
	 * newer than the stamp, which then holds no more */
	if (gitdir && stamp)
		stamped = stamp_now(gitdir, workdir, path, &now);
	if (stamped && gitindex_stamp_equal(stamp, &now)) {
		a = GITINDEX_UNTRACKED; /* the index that listed none */
		goto out;
	}
	if (gitdir)
		data = read_all(gitdir, "index", &len);
	n = workdir ? strlen(workdir) : 0;
	if (data && strncmp(path, workdir, n) == 0 && path[n] == '/') {
		struct prefixed p = {path + n + 1, workdir,
				     strlen(path + n + 1), out, before};
		struct source src = {data, len, gitdir, NULL, 0, NULL};

		if (read_index(&src, on_prefixed, prefixed_reset, &p, root,
			       &rooted)) {
			a = out->len > before ? GITINDEX_TRACKED
					      : GITINDEX_UNTRACKED;
			if (rooted && root_hex)
				hex_of(root, root_hex);
		} else
			prefixed_reset(&p);
		free(src.held);
	} else if (data) {
		stamped = false; /* not this work tree's */
	}
	if (stamp) {
		/* racy as git's stat data are: a second write within the
		 * tick of the stamp's times could keep them all */
		struct file_stat fs = {.mtime_ns = now.mtime_ns > now.ctime_ns
							   ? now.mtime_ns
							   : now.ctime_ns};

		*stamp = now;
		stamp->set = stamped && data && a == GITINDEX_UNTRACKED &&
			     !fsx_racy(&fs, fsx_recorded_wall(fsx_now_ns(),
							      fs.mtime_ns));
	}
out:
	free(data);
	free(gitdir);
	free(workdir);
	free(dir);
	return a;
}

struct gitindex_tree *gitindex_tree_open(const char *dir, const char *tree)
{
	char *workdir = NULL, *gitdir = NULL;
	size_t len;
	bool none;
	unsigned char *data = index_in(dir, &len, &workdir, &gitdir, &none);
	struct gitindex_tree *t =
		data ? tree_take(data, len, gitdir, NULL, 0, tree) : NULL;

	if (t) {
		free(t->workdir);
		t->workdir = workdir;
		workdir = NULL;
	}
	free(gitdir);
	free(workdir);
	return t;
}

/* The index being changed: the entries read (their bytes in data, the
 * shared index or, v4's names, in the kept list), the paths set. */
struct gitindex_edit {
	char *gitdir, *workdir, *lock;
	int fd;
	int64_t read_sec;       /* the index file's mtime (seconds) as read */
	struct timespec locked; /* the lock file's mtime: the edit's start */
	unsigned char *data;
	struct source src;
	struct kept k;
	struct set {
		char *rel;
		bool removed;
		size_t seq; /* its order among the settings */
		unsigned char raw[ENTRY_FIXED];
	} * sets;
	size_t nsets;
};

static void kept_reset(void *ctx)
{
	struct kept *k = ctx;

	k->n = 0;
	buf_reset(&k->names);
}

static void edit_free(struct gitindex_edit *ed)
{
	for (size_t i = 0; i < ed->nsets; i++)
		free(ed->sets[i].rel);
	free(ed->sets);
	kept_finish(&ed->k);
	free(ed->src.held);
	free(ed->data);
	free(ed->lock);
	free(ed->workdir);
	free(ed->gitdir);
	free(ed);
}

void gitindex_edit_abort(struct gitindex_edit *ed)
{
	if (!ed)
		return;
	if (ed->fd >= 0)
		close(ed->fd);
	unlink(ed->lock);
	edit_free(ed);
}

struct gitindex_edit *gitindex_edit_open(const char *gitdir,
					 const char *workdir, bool *unsure,
					 struct err *e)
{
	struct gitindex_edit *ed = xcalloc(1, sizeof(*ed));
	unsigned char root[HASH_LEN];
	struct buf b = BUF_INIT;
	char *path = xasprintf("%s/index", gitdir);
	struct stat st;
	bool rooted;

	*unsure = false;
	ed->gitdir = xstrdup(gitdir);
	ed->workdir = xstrdup(workdir);
	ed->lock = xasprintf("%s/index.lock", gitdir);
	ed->k.names = (struct buf)BUF_INIT;
	ed->fd = open(ed->lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (ed->fd < 0) {
		err_set(e, "git: commit: %s: %s", ed->lock, strerror(errno));
		free(ed->lock);
		ed->lock = NULL;
		goto fail;
	}
	if (fstat(ed->fd, &st) == 0)
		ed->locked = st.st_mtim;
	/* its time before its bytes: an older time smudges more (see
	 * racy) */
	if (stat(path, &st) == 0)
		ed->read_sec = (int64_t)st.st_mtim.tv_sec;
	if (!fsx_read_path(path, INDEX_MAX, &b, e))
		goto fail;
	ed->src.len = b.len;
	ed->data = (unsigned char *)buf_detach(&b);
	ed->src.data = ed->data;
	ed->src.gitdir = ed->gitdir;
	ed->k.data = ed->data;
	ed->k.end = ed->data + ed->src.len;
	if (!read_index(&ed->src, on_keep, kept_reset, &ed->k, root, &rooted)) {
		*unsure = true;
		err_set(e, "git: commit: read index: %s: not understood", path);
		goto fail;
	}
	for (size_t i = 0; i < ed->k.n; i++)
		if (ed->k.off[i] != SIZE_MAX)
			ed->k.v[i].name =
				(const unsigned char *)ed->k.names.data +
				ed->k.off[i];
	free(path);
	return ed;
fail:
	buf_finish(&b);
	free(path);
	if (ed->lock)
		gitindex_edit_abort(ed);
	else
		edit_free(ed);
	return NULL;
}

static void put32(unsigned char *p, uint64_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

bool gitindex_edit_set(struct gitindex_edit *ed, const char *rel,
		       const char *blob, unsigned mode, struct err *e)
{
	struct set s = {xstrdup(rel), blob == NULL, ed->nsets, {0}};
	char *full = xasprintf("%s/%s", ed->workdir, rel);
	struct stat st;
	bool ok = false;

	if (blob) {
		if (!from_hex(blob, s.raw + 40)) {
			err_set(e, "git: commit: stage %s: %s: not a blob id",
				rel, blob);
			goto out;
		}
		if (lstat(full, &st) < 0) {
			err_set(e, "git: commit: stage %s: %s", full,
				strerror(errno));
			goto out;
		}
		put32(s.raw, (uint64_t)st.st_ctim.tv_sec);
		put32(s.raw + 4, (uint64_t)st.st_ctim.tv_nsec);
		put32(s.raw + 8, (uint64_t)st.st_mtim.tv_sec);
		put32(s.raw + 12, (uint64_t)st.st_mtim.tv_nsec);
		put32(s.raw + 16, (uint64_t)st.st_dev);
		put32(s.raw + 20, (uint64_t)st.st_ino);
		put32(s.raw + 24, mode);
		put32(s.raw + 28, st.st_uid);
		put32(s.raw + 32, st.st_gid);
		/* The blob was hashed after the edit began, this stat taken
		 * after it: a file changed in between (its mtime no older
		 * than the lock's) would have the stat data of the change
		 * and the blob of before, a change git would never see.
		 * Smudged instead (see racy): git reads the file. */
		if (st.st_mtim.tv_sec > ed->locked.tv_sec ||
		    (st.st_mtim.tv_sec == ed->locked.tv_sec &&
		     st.st_mtim.tv_nsec >= ed->locked.tv_nsec))
			put32(s.raw + 36, 0);
		else
			put32(s.raw + 36, (uint64_t)st.st_size);
	}
	ed->sets = xreallocarray(ed->sets, ed->nsets + 1, sizeof(*ed->sets));
	ed->sets[ed->nsets++] = s;
	s.rel = NULL;
	ok = true;
out:
	free(s.rel);
	free(full);
	return ok;
}

static int set_cmp(const void *a, const void *b)
{
	const struct set *x = a, *y = b;
	int c = strcmp(x->rel, y->rel);

	/* one path set twice: the later one last */
	return c ? c : x->seq < y->seq ? -1 : 1;
}

/* Whether an entry read is racily clean, as git's read-cache.c has it
 * (Documentation/technical/racy-git.txt): its file's mtime no older than
 * the index file's, a change made since within that tick, the size kept,
 * matches the stat data, and git sees it only by reading the file, which
 * it does for such an entry. The index written now is newer than the
 * file: git would trust the stat data and miss the change. So, as git's
 * ce_smudge_racily_clean_entry does when it writes an index, the entry's
 * size is smudged to 0, which makes git read the file (an unchanged one
 * is then clean again). git compares the content first and smudges only
 * a changed file; this smudges every racy one (seconds only, which is
 * more). Not a gitlink (git compares its HEAD) nor a conflict's stage. */
static bool racy(const struct gitindex_edit *ed, const struct entry *e)
{
	return (e->flags & STAGE_MASK) == 0 && (e->mode & 0170000) != 0160000 &&
	       (int64_t)be32(e->start + 8) >= ed->read_sec;
}

/* One entry as a version 2 or 3 file has it: the fixed bytes (fixed of
 * them at raw; the size zeroed if smudge), the name length in the flags,
 * the name, NUL padding to a multiple of eight. */
static void put_entry(struct buf *out, const unsigned char *raw, size_t fixed,
		      bool smudge, const char *name, size_t len)
{
	static const char pad[8];
	unsigned char head[ENTRY_FIXED + 2];
	unsigned flags;

	memcpy(head, raw, fixed);
	if (smudge)
		memset(head + 36, 0, 4);
	flags = ((unsigned)head[60] << 8 | head[61]) & ~(unsigned)NAME_MASK;
	flags |= len < NAME_MASK ? (unsigned)len : NAME_MASK;
	head[60] = (unsigned char)(flags >> 8);
	head[61] = (unsigned char)flags;
	buf_add(out, head, fixed);
	buf_add(out, name, len);
	buf_add(out, pad, ((fixed + len + 8) & ~(size_t)7) - fixed - len);
}

/* Whether the sets (sorted) hold rel (len bytes). */
static bool is_set(const struct gitindex_edit *ed, const unsigned char *rel,
		   size_t len)
{
	size_t lo = 0, hi = ed->nsets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s = ed->sets[mid].rel;
		size_t sl = strlen(s);
		int c = memcmp(rel, s, len < sl ? len : sl);

		if (c == 0 && len == sl)
			return true;
		if (c < 0 || (c == 0 && len < sl))
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* The order of a path set and an entry (not of a path set). */
static int set_entry_cmp(const struct set *s, const struct entry *e)
{
	size_t sl = strlen(s->rel);
	int c = memcmp(s->rel, e->name, sl < e->len ? sl : e->len);

	return c ? c : sl < e->len ? -1 : 1;
}

/* The new index file: the entries read but those of the paths set, and
 * the paths set (each as last set) in their places. */
static void edit_render(struct gitindex_edit *ed, struct buf *out)
{
	unsigned char id[HASH_LEN];
	char hex[GITINDEX_HEX];
	uint32_t version = 2, count = 0;
	size_t j = 0;

	qsort(ed->sets, ed->nsets, sizeof(*ed->sets), set_cmp);
	for (size_t i = 0; i < ed->k.n; i++)
		if (ed->k.v[i].fixed > ENTRY_FIXED)
			version = 3;
	buf_add(out, "DIRC\0\0\0\0\0\0\0\0", 12);
	for (size_t i = 0; i <= ed->k.n; i++) {
		const struct entry *e = i < ed->k.n ? &ed->k.v[i] : NULL;

		if (e && is_set(ed, e->name, e->len))
			continue; /* a stage of a path set */
		while (j < ed->nsets &&
		       (!e || set_entry_cmp(&ed->sets[j], e) < 0)) {
			const struct set *s = &ed->sets[j++];

			if ((j < ed->nsets &&
			     strcmp(s->rel, ed->sets[j].rel) == 0) ||
			    s->removed)
				continue; /* set again later, or removed */
			put_entry(out, s->raw, ENTRY_FIXED, false, s->rel,
				  strlen(s->rel));
			count++;
		}
		if (e) {
			put_entry(out, e->start, e->fixed, racy(ed, e),
				  (const char *)e->name, e->len);
			count++;
		}
	}
	put32((unsigned char *)out->data + 4, version);
	put32((unsigned char *)out->data + 8, count);
	sha1_hex(out->data, out->len, hex);
	from_hex(hex, id);
	buf_add(out, id, HASH_LEN);
}

bool gitindex_edit_commit(struct gitindex_edit *ed, struct err *e)
{
	struct buf out = BUF_INIT;
	char *index = xasprintf("%s/index", ed->gitdir);
	size_t done = 0;
	bool ok = false;

	edit_render(ed, &out);
	while (done < out.len) {
		ssize_t n = write(ed->fd, out.data + done, out.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if ((!fsx_test_nosync() && fsync(ed->fd) < 0) || close(ed->fd) < 0) {
		ed->fd = -1;
		goto fail;
	}
	ed->fd = -1;
	if (rename(ed->lock, index) < 0)
		goto fail;
	ok = true;
	edit_free(ed);
	goto out;
fail:
	err_set(e, "git: commit: write index: %s: %s", ed->lock,
		strerror(errno));
	gitindex_edit_abort(ed);
out:
	buf_finish(&out);
	free(index);
	return ok;
}
