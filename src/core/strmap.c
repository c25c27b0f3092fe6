#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t slot(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void resize(struct strmap *m, size_t cap)
{
	struct strmap old = *m;

	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->values = xcalloc(cap, sizeof(*m->values));
	m->cap = cap;
	m->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			strmap_put(m, old.keys[i], old.values[i]);
	free(old.keys);
	free(old.values);
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
	size_t i;

	if (!m->cap || (m->len + 1) * 2 > m->cap)
		resize(m, m->cap ? m->cap * 2 : 16);
	i = slot(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->len++;
	}
	m->values[i] = value;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	size_t i;

	if (!m->cap)
		return false;
	i = slot(m, key);
	if (!m->keys[i])
		return false;
	if (value)
		*value = m->values[i];
	return true;
}

void strmap_finish(struct strmap *m)
{
	free(m->keys);
	free(m->values);
	memset(m, 0, sizeof(*m));
}
