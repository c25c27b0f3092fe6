#include "blobid.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* A failing digest means libcrypto could not allocate: treat as OOM. */
static void check(int ok)
{
	if (!ok) {
		fputs("storysync: libcrypto SHA-1 failed\n", stderr);
		abort();
	}
}

/* SHA-1, fetched from the provider once: EVP_sha1() in each call made
 * OpenSSL look it up again every time, a third of the hashing. */
static EVP_MD *sha1;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void sha1_fetch(void)
{
	sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void blobid_hex(const void *data, size_t len, char out[BLOBID_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len);
	EVP_MD_CTX *ctx;

	pthread_once(&sha1_once, sha1_fetch);
	check(sha1 != NULL);
	ctx = EVP_MD_CTX_new();
	check(ctx != NULL);
	check(EVP_DigestInit_ex(ctx, sha1, NULL));
	/* The header's NUL is part of what git hashes. */
	check(EVP_DigestUpdate(ctx, hdr, (size_t)n + 1));
	check(EVP_DigestUpdate(ctx, data, len));
	check(EVP_DigestFinal_ex(ctx, md, &mdlen));
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < mdlen && i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}
