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

#define HASH_LEN    20 /* SHA-1; a SHA-256 repository is left to libgit2 */
#define ENTRY_FIXED 62 /* stat data, mode, ids, size, hash, flags */
#define NAME_MASK   0x0fff
#define EXTENDED    0x4000
#define INDEX_MAX   ((size_t)1 << 30) /* past it, libgit2 decides */

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
static bool walk(const unsigned char *data, const unsigned char *end,
		 uint32_t version, uint32_t count, const char *rel, bool *found,
		 const unsigned char **ext)
{
	const unsigned char *p = data + 12;
	size_t rlen = strlen(rel), plen = 0;
	struct buf_name {
		char *s;
		size_t cap;
	} prev = {NULL, 0};
	bool ok = false;

	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *start = p, *name, *nul;
		unsigned flags, mode;
		size_t len, fixed = ENTRY_FIXED;

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
		if (len == rlen && memcmp(name, rel, len) == 0)
			*found = true;
	}
	*ext = p;
	ok = true;
out:
	free(prev.s);
	return ok;
}

/* The extensions up to the trailing hash: a split index ("link"), a
 * sparse one ("sdir") or any other that git calls required (its name
 * not in capitals) change what the entries mean. */
static bool extensions_optional(const unsigned char *p,
				const unsigned char *end)
{
	while ((size_t)(end - p) > HASH_LEN) {
		uint32_t size;

		if ((size_t)(end - p) < 8 + HASH_LEN)
			return false;
		if (p[0] < 'A' || p[0] > 'Z')
			return false;
		size = be32(p + 4);
		if (size > (size_t)(end - p) - 8 - HASH_LEN)
			return false;
		p += 8 + size;
	}
	return end - p == HASH_LEN;
}

enum gitindex_answer gitindex_lookup(const unsigned char *data, size_t len,
				     const char *rel)
{
	const unsigned char *end = data + len, *ext = NULL;
	uint32_t version, count;
	bool found = false;

	if (len < 12 + HASH_LEN || memcmp(data, "DIRC", 4) != 0)
		return GITINDEX_UNSURE;
	version = be32(data + 4);
	count = be32(data + 8);
	if (version < 2 || version > 4 ||
	    count > (len - 12 - HASH_LEN) / (ENTRY_FIXED + 1))
		return GITINDEX_UNSURE;
	if (!walk(data, end - HASH_LEN, version, count, rel, &found, &ext) ||
	    !extensions_optional(ext, end))
		return GITINDEX_UNSURE;
	return found ? GITINDEX_TRACKED : GITINDEX_UNTRACKED;
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

enum gitindex_answer gitindex_tracked(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *gitdir, *workdir = NULL, *common = NULL;
	unsigned char *data = NULL;
	enum gitindex_answer a = GITINDEX_UNSURE;
	size_t n, len;
	bool crossed;

	if (!slash || *path != '/' || getenv("GIT_DIR") ||
	    getenv("GIT_WORK_TREE"))
		return GITINDEX_UNSURE;
	dir = slash == path ? xstrdup("/")
			    : xstrndup(path, (size_t)(slash - path));
	gitdir = githead_gitdir(dir, &workdir, &crossed);
	if (crossed)
		goto out;
	if (!gitdir) {
		a = GITINDEX_UNTRACKED; /* no repository: nothing is tracked */
		goto out;
	}
	common = githead_common_dir(gitdir);
	if (!plain_repo(gitdir, common, workdir) || !plain_config(common))
		goto out;
	n = strlen(workdir);
	if (strncmp(path, workdir, n) != 0 || path[n] != '/')
		goto out;
	data = read_all(gitdir, "index", &len);
	if (data)
		a = gitindex_lookup(data, len, path + n + 1);
out:
	free(data);
	free(common);
	free(workdir);
	free(gitdir);
	free(dir);
	return a;
}
