#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Eight bytes at a time, multiply and fold: story paths share long
 * prefixes, so a byte-at-a-time hash spends most of a lookup on them. */
uint64_t strmap_hash(const char *s)
{
	const uint64_t k = 0x9E3779B97F4A7C15ULL;
	size_t n = strlen(s);
	uint64_t h = n * k, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * k;
	h ^= h >> 32;
	return h;
}

/* The slot of key, or of the free slot where it would go. */
static size_t slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->slots[i].key &&
	       (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void resize(struct strmap *m, size_t cap)
{
	struct strmap_slot *old = m->slots;
	size_t oldcap = m->cap;

	/* probed before it is written: xcalloc's zero pages cost a tenth of
	 * a no-op at 10k stories in faults and TLB flushes */
	m->slots = xcalloc_written(cap, sizeof(*m->slots));
	m->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			m->slots[slot(m, old[i].key, old[i].hash)] = old[i];
	free(old);
}

void strmap_init(struct strmap *m, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	memset(m, 0, sizeof(*m));
	resize(m, cap);
}

void strmap_put(struct strmap *m, const char *key, size_t value)
{
	uint64_t h = strmap_hash(key);
	size_t i;

	if (!m->cap || (m->len + 1) * 2 > m->cap)
		resize(m, m->cap ? m->cap * 2 : 16);
	i = slot(m, key, h);
	if (!m->slots[i].key) {
		m->slots[i].key = key;
		m->slots[i].hash = h;
		m->len++;
	}
	m->slots[i].value = value;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	size_t i;

	if (!m->cap)
		return false;
	i = slot(m, key, strmap_hash(key));
	if (!m->slots[i].key)
		return false;
	if (value)
		*value = m->slots[i].value;
	return true;
}

void strmap_finish(struct strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
