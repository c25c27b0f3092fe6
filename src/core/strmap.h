#ifndef STORYSYNC_CORE_STRMAP_H
#define STORYSYNC_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A map from borrowed strings to indexes: open addressing, each key's hash
 * kept beside it, so that a probe compares strings only when the hashes
 * match. The keys are not copied; they must outlive the map. */
struct strmap_slot {
	const char *key; /* NULL: free */
	uint64_t hash;
	size_t value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t len;
};

/* The hash the map keeps for s. */
uint64_t strmap_hash(const char *s);
/* Empties m, sized for about n keys. */
void strmap_init(struct strmap *m, size_t n);
/* Sets key to value, replacing an existing value. */
void strmap_put(struct strmap *m, const char *key, size_t value);
/* Finds key; false when absent. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
/* Frees the table (not the keys). */
void strmap_finish(struct strmap *m);

#endif
