/* test_strmap.c: the string map, and the hash the first load's id set
 * keeps the high half of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strmap.h"

/* Every key found with its value, after enough puts to grow the table
 * many times; a replaced value is the new one; an absent key is absent. */
static void test_put_get(void **state)
{
	enum { N = 5000 };
	static char keys[N][16];
	struct strmap m;
	size_t v;

	(void)state;
	strmap_init(&m, 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "K-%zu", i);
		strmap_put(&m, keys[i], i);
	}
	strmap_put(&m, keys[7], 70);
	assert_int_equal(m.len, N);
	for (size_t i = 0; i < N; i++) {
		assert_true(strmap_get(&m, keys[i], &v));
		assert_int_equal(v, i == 7 ? 70 : i);
	}
	assert_false(strmap_get(&m, "K-5000", &v));
	assert_false(strmap_get(&m, "", &v));
	strmap_finish(&m);
}

/* Each byte of a key reaches the hash's high half, the one the first
 * load's id set keeps, whatever the key's length. */
static void test_hash_bytes(void **state)
{
	char a[24], b[24];

	(void)state;
	for (size_t n = 1; n < sizeof(a); n++)
		for (size_t i = 0; i < n; i++) {
			memset(a, 'x', n);
			a[n] = '\0';
			memcpy(b, a, n + 1);
			b[i] = 'y';
			assert_int_not_equal(strmap_hash(a) >> 32,
					     strmap_hash(b) >> 32);
		}
}

/* The pair tests/cli/first_load.sh loads: two ids whose hashes share the
 * high half, found by a birthday search over "COL-<n>". If the hash
 * changes, find a new pair and change both. */
static void test_hash_collision(void **state)
{
	(void)state;
	assert_int_equal(strmap_hash("COL-93899") >> 32,
			 strmap_hash("COL-182451") >> 32);
	assert_int_not_equal(strmap_hash("COL-93899"),
			     strmap_hash("COL-182451"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_hash_bytes),
		cmocka_unit_test(test_hash_collision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
