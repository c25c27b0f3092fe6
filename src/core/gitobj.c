/*
 * One question of git's object store, "which tree is this commit's?",
 * answered from the files (gitformat-pack(5), a loose object's zlib
 * stream) without libgit2: a writing run needs HEAD's tree to read HEAD's
 * versions of files from git's index (gitindex_tree_open), and loading
 * the git module only for that was a tenth of 100 edits' CPU. The files
 * are the repository's (a fetched pack is anyone's), so every length and
 * offset is checked before it is used, and an answer is given only for
 * an object that hashes to the id asked for; a delta, or anything else
 * this reader does not understand, is left to libgit2.
 */
#include "gitobj.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "blobid.h"
#include "buf.h"
#include "fsx.h"
#include "githead.h"
#include "mem.h"

#define HASH_LEN   20
#define OBJECT_MAX ((size_t)1 << 24) /* a commit past it: libgit2 decides */
#define OBJ_COMMIT 1
#define IDX_HEADER (8 + 256 * 4) /* magic, version, fanout */

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
				      : -1;
}

/* 40 lowercase hex digits at s into id; false otherwise. */
static bool parse_id(const char *s, unsigned char id[HASH_LEN])
{
	for (size_t i = 0; i < HASH_LEN; i++) {
		int hi = hexval(s[2 * i]),
		    lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		id[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static bool is_id(const char *s)
{
	unsigned char id[HASH_LEN];

	return strlen(s) == GITOBJ_HEX - 1 && parse_id(s, id);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A commit's content (after its header), n bytes, hashed as commit: its
 * tree, the "tree <hex>\n" it must begin with. */
static bool tree_of(const char *content, size_t n, const char *commit,
		    char tree[GITOBJ_HEX])
{
	char id[GITOBJ_HEX];

	if (n < 5 + GITOBJ_HEX || memcmp(content, "tree ", 5) != 0 ||
	    content[5 + GITOBJ_HEX - 1] != '\n')
		return false;
	objid_hex("commit", content, n, id);
	if (strcmp(id, commit) != 0)
		return false;
	memcpy(tree, content + 5, GITOBJ_HEX - 1);
	tree[GITOBJ_HEX - 1] = '\0';
	return is_id(tree);
}

/* Inflates all of in (inlen bytes) into out, exactly outlen bytes, the
 * stream ending there; false otherwise. With whole, nothing may follow
 * the stream in in. */
static bool inflate_exact(z_stream *z, const unsigned char *in, size_t inlen,
			  unsigned char *out, size_t outlen, bool whole)
{
	int rc;

	/* zlib counts in uInt: these are capped far below */
	if (inlen > UINT32_MAX || outlen > OBJECT_MAX)
		return false;
	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)inlen;
	z->next_out = out;
	z->avail_out = (uInt)outlen;
	rc = inflate(z, Z_FINISH);
	return rc == Z_STREAM_END && z->avail_out == 0 &&
	       (!whole || z->avail_in == 0);
}

bool gitobj_loose_tree(const unsigned char *data, size_t len,
		       const char *commit, char tree[GITOBJ_HEX])
{
	unsigned char head[32], *body = NULL;
	z_stream z;
	size_t hlen, size = 0, have;
	bool ok = false;
	int rc;

	tree[0] = '\0';
	if (!is_id(commit) || len > OBJECT_MAX)
		return false;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return false;
	/* the header first: "commit <size>\0" fits in 32 bytes */
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	z.next_out = head;
	z.avail_out = sizeof(head);
	rc = inflate(&z, Z_SYNC_FLUSH);
	if (rc != Z_OK && rc != Z_STREAM_END)
		goto out;
	have = sizeof(head) - z.avail_out;
	if (have < 9 || memcmp(head, "commit ", 7) != 0)
		goto out;
	for (hlen = 7; hlen < have && head[hlen] >= '0' && head[hlen] <= '9';
	     hlen++) {
		if (hlen > 7 + 8 || (hlen == 8 && head[7] == '0'))
			goto out; /* past OBJECT_MAX, or a leading zero */
		size = size * 10 + (size_t)(head[hlen] - '0');
	}
	if (hlen == 7 || hlen >= have || head[hlen] != '\0' ||
	    size > OBJECT_MAX)
		goto out;
	hlen++;
	if (have - hlen > size)
		goto out; /* more than the header says */
	body = xmalloc(size + 1);
	memcpy(body, head + hlen, have - hlen);
	if (rc == Z_STREAM_END) {
		ok = have - hlen == size && z.avail_in == 0;
	} else {
		z.next_out = body + (have - hlen);
		z.avail_out = (uInt)(size - (have - hlen));
		/* one byte more than the size to see the stream end there */
		rc = inflate(&z, Z_FINISH);
		ok = rc == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0;
	}
	ok = ok && tree_of((const char *)body, size, commit, tree);
out:
	inflateEnd(&z);
	free(body);
	if (!ok)
		tree[0] = '\0';
	return ok;
}

enum gitobj_found gitobj_idx_find(const unsigned char *idx, size_t len,
				  const unsigned char id[20], uint64_t *offset)
{
	static const unsigned char magic[8] = {0xff, 't', 'O', 'c', 0, 0, 0, 2};
	const unsigned char *ids, *offs, *large;
	size_t n, lo, hi, nlarge;
	uint32_t off;

	*offset = 0;
	if (len < IDX_HEADER + 2 * HASH_LEN || memcmp(idx, magic, 8) != 0)
		return GITOBJ_UNSURE;
	n = be32(idx + 8 + 255 * 4);
	/* ids, CRCs and offsets, then the two hashes: all inside */
	if (n > (len - IDX_HEADER - 2 * HASH_LEN) / (HASH_LEN + 8))
		return GITOBJ_UNSURE;
	ids = idx + IDX_HEADER;
	offs = ids + n * (HASH_LEN + 4);
	large = offs + n * 4;
	nlarge = (size_t)(idx + len - 2 * HASH_LEN - large) / 8;
	lo = id[0] ? be32(idx + 8 + (id[0] - 1) * 4) : 0;
	hi = be32(idx + 8 + id[0] * 4);
	if (lo > hi || hi > n)
		return GITOBJ_UNSURE;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ids + mid * HASH_LEN, id, HASH_LEN);

		if (c == 0) {
			off = be32(offs + mid * 4);
			if (!(off & 0x80000000u)) {
				*offset = off;
				return GITOBJ_AT;
			}
			off &= 0x7fffffffu;
			if (off >= nlarge)
				return GITOBJ_UNSURE;
			*offset = (uint64_t)be32(large + (size_t)off * 8)
					  << 32 |
				  be32(large + (size_t)off * 8 + 4);
			return GITOBJ_AT;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return GITOBJ_ABSENT;
}

bool gitobj_pack_tree(const unsigned char *pack, size_t len, uint64_t offset,
		      const char *commit, char tree[GITOBJ_HEX])
{
	const unsigned char *p, *end;
	unsigned char *body;
	unsigned type, shift = 4;
	uint64_t size;
	z_stream z;
	bool ok;

	tree[0] = '\0';
	/* "PACK", version 2 or 3, a count; the trailing hash after entries */
	if (len < 12 + HASH_LEN || memcmp(pack, "PACK", 4) != 0 ||
	    be32(pack + 4) < 2 || be32(pack + 4) > 3 || !is_id(commit) ||
	    offset < 12 || offset >= len - HASH_LEN)
		return false;
	p = pack + offset;
	end = pack + len - HASH_LEN;
	type = (*p >> 4) & 7;
	size = *p & 15;
	while (*p++ & 0x80) {
		if (p >= end || shift > 32)
			return false;
		size |= (uint64_t)(*p & 0x7f) << shift;
		shift += 7;
	}
	/* a delta (OFS_DELTA, REF_DELTA) or another type: libgit2's */
	if (type != OBJ_COMMIT || size > OBJECT_MAX || p >= end)
		return false;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return false;
	body = xmalloc((size_t)size + 1);
	ok = inflate_exact(&z, p, (size_t)(end - p), body, (size_t)size,
			   false) &&
	     tree_of((const char *)body, (size_t)size, commit, tree);
	inflateEnd(&z);
	free(body);
	if (!ok)
		tree[0] = '\0';
	return ok;
}

/* The commit in one of the packs of objects/pack: true, tree set, when one
 * has it whole and it hashes right; *unsure when a pack could not say. */
static bool in_packs(const char *objects, const char *commit,
		     const unsigned char id[HASH_LEN], char tree[GITOBJ_HEX],
		     bool *unsure)
{
	char *dir = xasprintf("%s/pack", objects);
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	*unsure = false;
	if (!d) {
		free(dir);
		return false;
	}
	while (!found && !*unsure && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char *idxp, *packp;
		void *idx = NULL, *pack = NULL;
		size_t ilen = 0, plen = 0;
		uint64_t off;
		enum gitobj_found f;

		if (n < 5 || strcmp(de->d_name + n - 4, ".idx") != 0)
			continue;
		idxp = xasprintf("%s/%s", dir, de->d_name);
		packp = xasprintf("%s/%.*s.pack", dir, (int)(n - 4),
				  de->d_name);
		if (!fsx_map_own(idxp, &idx, &ilen)) {
			*unsure = true;
		} else {
			f = gitobj_idx_find(idx, ilen, id, &off);
			if (f == GITOBJ_UNSURE)
				*unsure = true;
			else if (f == GITOBJ_AT &&
				 fsx_map_own(packp, &pack, &plen))
				found = gitobj_pack_tree(pack, plen, off,
							 commit, tree);
			/* listed but not read: a delta, or bad */
			*unsure = *unsure || (f == GITOBJ_AT && !found);
		}
		fsx_unmap(pack, plen);
		fsx_unmap(idx, ilen);
		free(packp);
		free(idxp);
	}
	closedir(d);
	free(dir);
	return found;
}

/* A path that must not be there for this reader to answer (or, with dir,
 * may be there as an empty directory). */
static bool absent(const char *base, const char *name, bool dir_ok)
{
	char *path = xasprintf("%s/%s", base, name);
	struct stat st;
	bool ok = lstat(path, &st) != 0;

	if (!ok && dir_ok && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		ok = d != NULL;
		while (ok && (de = readdir(d)))
			ok = strcmp(de->d_name, ".") == 0 ||
			     strcmp(de->d_name, "..") == 0;
		if (d)
			closedir(d);
	}
	free(path);
	return ok;
}

/* The config and files that change what an id names or where objects are
 * found: none of them, for this reader. */
static bool plain_store(const char *git)
{
	char *path = xasprintf("%s/config", git);
	struct buf b = BUF_INIT;
	bool ok = fsx_read_path(path, (size_t)1 << 20, &b, NULL) && b.data &&
		  !strcasestr(b.data, "objectformat") &&
		  !strcasestr(b.data, "[include");

	buf_finish(&b);
	free(path);
	if (!ok)
		return false;
	/* packed-refs read whole, or not there */
	path = xasprintf("%s/packed-refs", git);
	ok = absent(git, "packed-refs", false) ||
	     (fsx_read_path(path, (size_t)1 << 30, &b, NULL) && b.data &&
	      !strstr(b.data, "refs/replace/"));
	buf_finish(&b);
	free(path);
	return ok && absent(git, "shallow", false) &&
	       absent(git, "info/grafts", false) &&
	       absent(git, "objects/info/alternates", false) &&
	       absent(git, "objects/info/http-alternates", false) &&
	       absent(git, "refs/replace", true) &&
	       absent(git, "commondir", false);
}

bool gitobj_commit_tree(const char *dir, const char *commit,
			char tree[GITOBJ_HEX])
{
	static const char *const env[] = {
		"GIT_DIR",
		"GIT_WORK_TREE",
		"GIT_COMMON_DIR",
		"GIT_CEILING_DIRECTORIES",
		"GIT_OBJECT_DIRECTORY",
		"GIT_ALTERNATE_OBJECT_DIRECTORIES",
		"GIT_REPLACE_REF_BASE",
		"GIT_NO_REPLACE_OBJECTS",
		"GIT_GRAFT_FILE",
		"GIT_SHALLOW_FILE",
	};
	unsigned char id[HASH_LEN];
	char *git, *workdir = NULL, *objects = NULL, *loose = NULL, *want;
	void *data = NULL;
	size_t len = 0;
	struct stat st;
	bool crossed, ok = false, unsure;

	tree[0] = '\0';
	if (*dir != '/' || !is_id(commit) || !parse_id(commit, id))
		return false;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (getenv(env[i]))
			return false;
	git = githead_gitdir(dir, &workdir, &crossed);
	if (!git || crossed)
		goto out;
	/* a ".git" directory of the work tree itself, owned by this user */
	want = xasprintf("%s/.git", workdir);
	ok = strcmp(git, want) == 0 && lstat(git, &st) == 0 &&
	     S_ISDIR(st.st_mode) && st.st_uid == geteuid() && plain_store(git);
	free(want);
	if (!ok)
		goto out;
	ok = false;
	objects = xasprintf("%s/objects", git);
	loose = xasprintf("%s/%.2s/%s", objects, commit, commit + 2);
	if (fsx_map_own(loose, &data, &len)) {
		ok = gitobj_loose_tree(data, len, commit, tree);
		fsx_unmap(data, len);
	} else if (lstat(loose, &st) != 0) {
		ok = in_packs(objects, commit, id, tree, &unsure);
	}
out:
	if (!ok)
		tree[0] = '\0';
	free(loose);
	free(objects);
	free(workdir);
	free(git);
	return ok;
}
