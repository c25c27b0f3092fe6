/*
 * SHA-1 (FIPS 180-4) in plain C, for git blob ids of the few files a run
 * hashes when nothing else loads the git module: loading it (libgit2,
 * libcrypto and their dependencies) cost a run that writes 100 files
 * about a tenth of its CPU, more than hashing them here. libcrypto's
 * SHA-1 stays the one for bulk hashing (gitload.c decides which). The
 * ids are git's: sha1dc, git's collision-detecting SHA-1, gives the same
 * digest for every input that is not a collision attack.
 */
#include "sha1.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct sha1 {
	uint32_t h[5];
	uint64_t len; /* bytes so far */
	unsigned char block[64];
	size_t used;
};

static uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void compress(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void update(struct sha1 *s, const unsigned char *p, size_t n)
{
	s->len += n;
	if (s->used) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;

		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used < 64)
			return;
		compress(s->h, s->block);
		s->used = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		compress(s->h, p);
	memcpy(s->block, p, n);
	s->used = n;
}

static void finish(struct sha1 *s, unsigned char md[20])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t npad = (s->used < 56 ? 56 : 120) - s->used;

	for (int i = 0; i < 8; i++)
		pad[npad + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	update(s, pad, npad + 8);
	for (int i = 0; i < 20; i++)
		md[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* The digest of head (hlen bytes) then data, as hex into out. */
static void digest(const void *head, size_t hlen, const void *data, size_t len,
		   char out[41])
{
	static const char hex[] = "0123456789abcdef";
	struct sha1 s = {
		{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0},
		0,
		{0},
		0};
	unsigned char md[20];

	update(&s, head, hlen);
	update(&s, data, len);
	finish(&s, md);
	for (int i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

void sha1_hex(const void *data, size_t len, char out[41])
{
	digest("", 0, data, len, out);
}

void sha1_blob_hex(const void *data, size_t len, char out[41])
{
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "blob %zu", len);

	/* the header's NUL is part of what git hashes */
	digest(hdr, (size_t)n + 1, data, len, out);
}
