/* test_sha1.c: blobid.c's SHA-1, both its rounds (the x86 SHA extensions
 * where the CPU has them, and the portable ones), against FIPS 180's
 * examples, git's own blob ids, and libcrypto (the oracle: OpenSSL's
 * SHA-1) for every length across three blocks, each with a blob header
 * of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "blobid.h"

static void test_fips(void **state)
{
	static const char million_hex[] =
		"34aa973cd4c4daa4f61eeb2bdbad27316534016f";
	char out[41], *a = malloc(1000000);

	(void)state;
	assert_non_null(a);
	sha1_hex("abc", 3, out);
	assert_string_equal(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_hex("", 0, out);
	assert_string_equal(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		 out);
	assert_string_equal(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(a, 'a', 1000000);
	sha1_hex(a, 1000000, out);
	assert_string_equal(out, million_hex);
	free(a);
}

/* Ids `git hash-object` gives. */
static void test_git_blobs(void **state)
{
	char out[41];

	(void)state;
	blobid_hex("", 0, out);
	assert_string_equal(out, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	blobid_hex("hello\n", 6, out);
	assert_string_equal(out, "ce013625030ba8dba906f756967f9e9ca394464a");
}

static void hex(const unsigned char md[20], char out[41])
{
	for (int i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Every length from 0 to 300 (padding on either side of a block's end,
 * the header shifting the data's alignment), random bytes. */
static void test_against_libcrypto(void **state)
{
	unsigned char data[300], md[20], *blob;
	char want[41], got[41];
	unsigned seed = 26;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++) {
		seed = seed * 1103515245u + 12345u;
		data[i] = (unsigned char)(seed >> 16);
	}
	blob = malloc(sizeof(data) + 32);
	assert_non_null(blob);
	for (size_t len = 0; len <= sizeof(data); len++) {
		int n = snprintf((char *)blob, 32, "blob %zu", len);

		SHA1(data, len, md);
		hex(md, want);
		sha1_hex(data, len, got);
		assert_string_equal(got, want);
		memcpy(blob + n + 1, data, len);
		SHA1(blob, (size_t)n + 1 + len, md);
		hex(md, want);
		blobid_hex(data, len, got);
		assert_string_equal(got, want);
	}
	free(blob);
}

static int portable(void **state)
{
	(void)state;
	blobid_portable(true);
	return 0;
}

static int native(void **state)
{
	(void)state;
	blobid_portable(false);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fips, native),
		cmocka_unit_test_setup(test_git_blobs, native),
		cmocka_unit_test_setup(test_against_libcrypto, native),
		cmocka_unit_test_setup(test_fips, portable),
		cmocka_unit_test_setup(test_git_blobs, portable),
		cmocka_unit_test_setup(test_against_libcrypto, portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
