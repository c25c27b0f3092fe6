/* The stat cache (statcache.h): one file, a header, the entries sorted by
 * path, a hash table of them by path (strmap_hash, linear probing, the
 * entry's index + 1 in each used slot), then their paths, each
 * NUL-terminated. A lookup is one hash and, mostly, one strcmp: a binary
 * search was 14 comparisons of paths that share most of their length. */
#include "statcache.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strmap.h"

#define MAGIC   "SSYNSTAT"
#define VERSION 2 /* 1: the checksum in one lane */

struct header {
	char magic[8];
	uint32_t version;
	uint32_t entry_size;
	int64_t generation;
	int64_t written_ns; /* when it was written (not read: each entry's
			     recorded time says whether it is racy) */
	uint64_t root_dev, root_ino;
	uint64_t n;
	uint64_t slots; /* of the hash table: a power of two, > n */
	uint64_t strings_len;
	uint64_t checksum; /* of everything after the header */
};

struct disk_entry {
	int64_t mtime_ns, ctime_ns, size;
	uint64_t ino;
	int64_t recorded_ns;
	uint32_t mode;
	uint32_t path_len;
	uint64_t path_off;
};

struct statcache {
	void *map;
	size_t len;
	const struct header *h;
	const struct disk_entry *v;
	const uint32_t *table;
	const char *strings;
	unsigned char *seen;
};

/* One word into a lane of the checksum. */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

/* Four lanes, each 32-byte block's i-th word into the i-th, so that no
 * multiplication waits for the one before (one lane took 0.4 ms of a 10k
 * run before its walk could start), folded into the first with the words
 * and the bytes left over. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
	uint64_t h[4], w;
	size_t i = 0;

	for (int l = 0; l < 4; l++)
		h[l] = (0x9e3779b97f4a7c15ULL ^ n) + (uint64_t)l;
	for (; i + 32 <= n; i += 32)
		for (int l = 0; l < 4; l++) {
			memcpy(&w, p + i + 8 * (size_t)l, 8);
			h[l] = mix(h[l], w);
		}
	for (int l = 1; l < 4; l++)
		h[0] = mix(h[0], h[l]);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h[0] = mix(h[0], w);
	}
	for (; i < n; i++) {
		h[0] = (h[0] ^ p[i]) * 0x94d049bb133111ebULL;
		h[0] ^= h[0] >> 29;
	}
	return h[0];
}

static const char *path_of(const struct statcache *c, size_t i)
{
	return c->strings + c->v[i].path_off;
}

/* Every entry's path lies in the strings and ends there. Nothing else is
 * checked: a cache whose paths are out of order, repeated or not where the
 * table has them only fails its lookups, which costs time. */
static bool entries_sound(const struct statcache *c)
{
	uint64_t slen = c->h->strings_len;

	for (size_t i = 0; i < c->h->n; i++) {
		const struct disk_entry *d = &c->v[i];

		if (d->path_off >= slen || d->path_len >= slen - d->path_off ||
		    c->strings[d->path_off + d->path_len] != '\0')
			return false;
	}
	return true;
}

static bool header_sound(const struct statcache *c, const int64_t *gen,
			 const struct stat *root)
{
	const struct header *h = c->h;
	size_t body = c->len - sizeof(*h);

	return memcmp(h->magic, MAGIC, 8) == 0 && h->version == VERSION &&
	       h->entry_size == sizeof(struct disk_entry) &&
	       (!gen || h->generation == *gen) &&
	       h->root_dev == (uint64_t)root->st_dev &&
	       h->root_ino == (uint64_t)root->st_ino &&
	       h->n <= body / sizeof(struct disk_entry) && h->slots > h->n &&
	       !(h->slots & (h->slots - 1)) &&
	       h->slots <= (body - h->n * sizeof(struct disk_entry)) / 4 &&
	       h->strings_len ==
		       body - h->n * sizeof(struct disk_entry) - h->slots * 4 &&
	       checksum((const unsigned char *)c->map + sizeof(*h), body) ==
		       h->checksum;
}

struct statcache *statcache_open(const char *path, const int64_t *gen,
				 const struct stat *root)
{
	struct statcache *c = xcalloc(1, sizeof(*c));

	if (!fsx_map_own(path, &c->map, &c->len) ||
	    c->len < sizeof(struct header))
		goto bad;
	c->h = c->map;
	c->v = (const struct disk_entry *)(c->h + 1);
	if (!header_sound(c, gen, root))
		goto bad;
	c->table = (const uint32_t *)(c->v + c->h->n);
	c->strings = (const char *)(c->table + c->h->slots);
	if (!entries_sound(c))
		goto bad;
	c->seen = xcalloc(c->h->n + 1, 1);
	return c;
bad:
	statcache_close(c);
	return NULL;
}

void statcache_close(struct statcache *c)
{
	if (!c)
		return;
	fsx_unmap(c->map, c->len);
	free(c->seen);
	free(c);
}

/* The index of rel's entry, or SIZE_MAX. */
static size_t find(const struct statcache *c, const char *rel)
{
	uint64_t mask = c->h->slots - 1, i = strmap_hash(rel) & mask;

	/* at most every slot once: a forged table may have no free one */
	for (uint64_t probes = 0; probes <= mask;
	     probes++, i = (i + 1) & mask) {
		uint32_t at = c->table[i];

		if (!at)
			break;
		if (at <= c->h->n && strcmp(rel, path_of(c, at - 1)) == 0)
			return at - 1;
	}
	return SIZE_MAX;
}

void statcache_prefetch(const struct statcache *c, const char *rel)
{
	__builtin_prefetch(&c->table[strmap_hash(rel) & (c->h->slots - 1)]);
}

static void entry_stat(const struct disk_entry *d, struct file_stat *fs)
{
	fs->mtime_ns = d->mtime_ns;
	fs->ctime_ns = d->ctime_ns;
	fs->size = d->size;
	fs->ino = d->ino;
	fs->mode = d->mode;
}

bool statcache_unchanged(struct statcache *c, const char *rel,
			 const struct stat *st)
{
	size_t i = find(c, rel);
	struct file_stat now, had;

	if (i == SIZE_MAX)
		return false;
	fsx_stat_from(&now, st);
	entry_stat(&c->v[i], &had);
	if (!fsx_stat_equal(&now, &had) || fsx_racy(&had, c->v[i].recorded_ns))
		return false;
	c->seen[i] = 1;
	return true;
}

size_t statcache_nseen(const struct statcache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->h->n; i++)
		n += c->seen[i];
	return n;
}

bool statcache_all_seen(const struct statcache *c)
{
	return statcache_nseen(c) == c->h->n;
}

bool statcache_same(const struct statcache *c, const struct state_entry *se)
{
	size_t i = find(c, se->path);
	struct file_stat had;

	if (i == SIZE_MAX || !c->seen[i])
		return false;
	entry_stat(&c->v[i], &had);
	return fsx_stat_equal(&had, &se->st) &&
	       c->v[i].recorded_ns == se->recorded_ns &&
	       !fsx_racy(&se->st, se->recorded_ns);
}

/* The first entry whose path's first n bytes are not below key's (above
 * them when up): the sorted paths' range that begins with key. */
static size_t bound(const struct statcache *c, const char *key, size_t n,
		    bool up)
{
	size_t lo = 0, hi = c->h->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strncmp(path_of(c, mid), key, n);

		if (r < 0 || (up && r == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t statcache_count_under(const struct statcache *c, const char *dir)
{
	char *prefix;
	size_t n, lo, hi;

	if (!*dir || strcmp(dir, ".") == 0)
		return c->h->n;
	prefix = xasprintf("%s/", dir);
	n = strlen(prefix);
	lo = bound(c, prefix, n, false);
	hi = bound(c, prefix, n, true);
	free(prefix);
	return hi > lo ? hi - lo : 0;
}

int64_t statcache_generation(const struct statcache *c)
{
	return c->h->generation;
}

static const struct state_entry *const *sort_state;

static int by_path(const void *a, const void *b)
{
	return strcmp(sort_state[*(const size_t *)a]->path,
		      sort_state[*(const size_t *)b]->path);
}

bool statcache_write(const char *path, const char *tree, int64_t gen,
		     const struct stat *root, const struct state_entry *state,
		     size_t n, struct err *e)
{
	const struct state_entry **ptr = xcalloc(n + 1, sizeof(*ptr));
	size_t *order = xcalloc(n + 1, sizeof(*order)), slen = 0, len;
	struct header h = {.version = VERSION,
			   .entry_size = sizeof(struct disk_entry),
			   .generation = gen,
			   .written_ns = fsx_now_ns(),
			   .root_dev = (uint64_t)root->st_dev,
			   .root_ino = (uint64_t)root->st_ino,
			   .n = n};
	struct disk_entry *v;
	uint32_t *table;
	uint64_t at;
	char *buf, *strings;
	bool ok = true;

	memcpy(h.magic, MAGIC, 8);
	for (size_t i = 0; i < n; i++) {
		ptr[i] = &state[i];
		order[i] = i;
		slen += strlen(state[i].path) + 1;
	}
	/* qsort has no context argument: the array is this call's, under
	 * the run lock, on one thread */
	sort_state = ptr;
	qsort(order, n, sizeof(*order), by_path);
	sort_state = NULL;
	for (h.slots = 16; h.slots < 2 * n + 1; h.slots *= 2)
		;
	len = sizeof(h) + n * sizeof(*v) + h.slots * 4 + slen;
	buf = xcalloc(1, len);
	v = (struct disk_entry *)(buf + sizeof(h));
	table = (uint32_t *)(v + n);
	strings = (char *)(table + h.slots);
	h.strings_len = slen;
	slen = 0;
	for (size_t i = 0; i < n; i++) {
		const struct state_entry *se = ptr[order[i]];
		size_t pl = strlen(se->path);

		/* two entries at one path: no cache, the state decides */
		if (i && strcmp(ptr[order[i - 1]]->path, se->path) == 0)
			goto out;
		v[i] = (struct disk_entry){
			.mtime_ns = se->st.mtime_ns,
			.ctime_ns = se->st.ctime_ns,
			.size = se->st.size,
			.ino = se->st.ino,
			.recorded_ns = se->recorded_ns,
			.mode = se->st.mode,
			.path_len = (uint32_t)pl,
			.path_off = slen,
		};
		memcpy(strings + slen, se->path, pl + 1);
		slen += pl + 1;
		at = strmap_hash(se->path) & (h.slots - 1);
		while (table[at])
			at = (at + 1) & (h.slots - 1);
		table[at] = (uint32_t)i + 1;
	}
	h.checksum = checksum((unsigned char *)v, len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	ok = fsx_replace(path, buf, len,
			 &(struct fsx_replace_opts){.mode = 0600, .root = tree},
			 e);
out:
	free(buf);
	free(order);
	free(ptr);
	return ok;
}
