/*
 * libFuzzer target over gitindex.c's reading of git's index, split or
 * not. The input is a tree id (20 bytes), the split file's length (2
 * bytes, big-endian), the split file, then the shared index. Each is
 * given as an exact heap copy, so that ASan sees a read past either; the
 * lookup and the tree read the same entries, so where both answer they
 * agree on whether a path is there. Built with -Dfuzz=true (clang); see
 * tests/fuzz/README.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobid.h"
#include "gitindex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only gitindex_edit hashes, which this never calls: blobid.c (whose
 * __builtin_cpu_supports("sha") some clang versions refuse) not linked. */
void sha1_hex(const void *data, size_t len, char out[BLOBID_HEX])
{
	(void)data;
	(void)len;
	(void)out;
	abort();
}

static unsigned char *copy(const uint8_t *p, size_t n)
{
	unsigned char *c = malloc(n ? n : 1);

	if (!c)
		abort();
	memcpy(c, p, n);
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rels[] = {"a.md", "stories/backlog/A.md",
					   "new.md", "x"};
	static const char digits[] = "0123456789abcdef";
	char tree[GITINDEX_HEX], blob[GITINDEX_HEX];
	unsigned char *main_copy, *shared;
	struct gitindex_tree *t;
	size_t len, slen;

	if (size < 22)
		return 0;
	for (int k = 0; k < 20; k++) {
		tree[2 * k] = digits[data[k] >> 4];
		tree[2 * k + 1] = digits[data[k] & 15];
	}
	tree[40] = '\0';
	len = (size_t)data[20] << 8 | data[21];
	if (len > size - 22)
		len = size - 22;
	slen = size - 22 - len;
	main_copy = copy(data + 22, len);
	shared = copy(data + 22 + len, slen);
	t = gitindex_tree_split(main_copy, len, shared, slen, tree);
	for (size_t i = 0; i < sizeof(rels) / sizeof(*rels); i++) {
		enum gitindex_answer a = gitindex_lookup_split(
			main_copy, len, shared, slen, rels[i]);

		(void)gitindex_lookup(main_copy, len, rels[i]);
		if (t && a != GITINDEX_UNSURE &&
		    (gitindex_tree_blob(t, rels[i], blob) ==
		     GITINDEX_UNTRACKED) != (a == GITINDEX_UNTRACKED)) {
			fprintf(stderr,
				"fuzz_gitindex: %s: the lookup and "
				"the tree disagree\n",
				rels[i]);
			abort();
		}
	}
	gitindex_tree_free(t);
	free(shared);
	free(main_copy);
	return 0;
}
