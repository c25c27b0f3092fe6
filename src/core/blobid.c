/* blobid.c: git's blob id of a file's contents, SHA-1 computed here. It
 * was libcrypto's, in the module storysync-git.so with libgit2: every run
 * that hashed a file (a first load hashes each one) loaded the module and
 * its twenty libraries first, 10 ms of CPU on an idle machine and 35 to
 * 65 ms of wall time on a busy one, on the readers' critical path. The
 * x86 SHA extensions, where the CPU has them, hash as fast as libcrypto
 * did; elsewhere the portable rounds below take about twice its time. */
#include "blobid.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#define BLOBID_SHANI 1
#endif

struct sha1 {
	uint32_t h[5];
	unsigned char buf[64];
	size_t nbuf;
	uint64_t len;
};

static inline uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static inline uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* FIPS 180-4's rounds over n 64-byte blocks. */
static void blocks_portable(uint32_t h[5], const unsigned char *p, size_t n)
{
	for (; n; n--, p += 64) {
		uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3],
				e = h[4];

		for (int i = 0; i < 16; i++)
			w[i] = be32(p + 4 * i);
		for (int i = 16; i < 80; i++)
			w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16],
				   1);
		for (int i = 0; i < 80; i++) {
			uint32_t f, k, t;

			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5a827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ed9eba1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
			else
				f = b ^ c ^ d, k = 0xca62c1d6;
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
}

#ifdef BLOBID_SHANI
/* The same rounds by the SHA extensions, four at a time. Group g (rounds
 * 4g to 4g+3) takes the message words m[g % 4], and works ahead the
 * schedule of the groups after it: msg1 for g + 3, the xor for g + 2,
 * msg2 for g + 1. */
#define GROUP(g, f, ecur, enext)                                               \
	do {                                                                   \
		if ((g) == 0)                                                  \
			ecur = _mm_add_epi32(ecur, m[0]);                      \
		else                                                           \
			ecur = _mm_sha1nexte_epu32(ecur, m[(g) % 4]);          \
		enext = abcd;                                                  \
		if ((g) >= 3 && (g) <= 18)                                     \
			m[((g) + 1) % 4] = _mm_sha1msg2_epu32(                 \
				m[((g) + 1) % 4], m[(g) % 4]);                 \
		abcd = _mm_sha1rnds4_epu32(abcd, ecur, f);                     \
		if ((g) >= 1 && (g) <= 16)                                     \
			m[((g) + 3) % 4] = _mm_sha1msg1_epu32(                 \
				m[((g) + 3) % 4], m[(g) % 4]);                 \
		if ((g) >= 2 && (g) <= 17)                                     \
			m[((g) + 2) % 4] =                                     \
				_mm_xor_si128(m[((g) + 2) % 4], m[(g) % 4]);   \
	} while (0)

__attribute__((target("sha,sse4.1"))) static void blocks_shani(
	uint32_t h[5], const unsigned char *p, size_t n)
{
	const __m128i swap =
		_mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
	__m128i abcd =
		_mm_shuffle_epi32(_mm_loadu_si128((const void *)h), 0x1b);
	__m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0), e1;

	for (; n; n--, p += 64) {
		__m128i abcd_in = abcd, e_in = e0, m[4];

		for (int i = 0; i < 4; i++)
			m[i] = _mm_shuffle_epi8(
				_mm_loadu_si128((const void *)(p + 16 * i)),
				swap);
		GROUP(0, 0, e0, e1);
		GROUP(1, 0, e1, e0);
		GROUP(2, 0, e0, e1);
		GROUP(3, 0, e1, e0);
		GROUP(4, 0, e0, e1);
		GROUP(5, 1, e1, e0);
		GROUP(6, 1, e0, e1);
		GROUP(7, 1, e1, e0);
		GROUP(8, 1, e0, e1);
		GROUP(9, 1, e1, e0);
		GROUP(10, 2, e0, e1);
		GROUP(11, 2, e1, e0);
		GROUP(12, 2, e0, e1);
		GROUP(13, 2, e1, e0);
		GROUP(14, 2, e0, e1);
		GROUP(15, 3, e1, e0);
		GROUP(16, 3, e0, e1);
		GROUP(17, 3, e1, e0);
		GROUP(18, 3, e0, e1);
		GROUP(19, 3, e1, e0);
		e0 = _mm_sha1nexte_epu32(e0, e_in);
		abcd = _mm_add_epi32(abcd, abcd_in);
	}
	_mm_storeu_si128((void *)h, _mm_shuffle_epi32(abcd, 0x1b));
	h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}
#undef GROUP
#endif

static bool portable_only;

#ifdef BLOBID_SHANI
/* Whether the CPU has the SHA extensions and SSE4.1 (CPUID leaf 7's EBX
 * bit 29, leaf 1's ECX bit 19), asked once: not __builtin_cpu_supports,
 * whose "sha" clang does not know (the fuzz build is clang's). */
static bool shani(void)
{
	static _Atomic int known = -1;
	int k = atomic_load_explicit(&known, memory_order_relaxed);
	unsigned a, b, c, d;

	if (k < 0) {
		k = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1) &&
		    __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1);
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k;
}
#endif

void blobid_portable(bool on)
{
	portable_only = on;
}

static void blocks(uint32_t h[5], const unsigned char *p, size_t n)
{
#ifdef BLOBID_SHANI
	if (!portable_only && shani()) {
		blocks_shani(h, p, n);
		return;
	}
#endif
	blocks_portable(h, p, n);
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe,
				       0x10325476, 0xc3d2e1f0};

	memcpy(s->h, iv, sizeof(iv));
	s->nbuf = 0;
	s->len = 0;
}

static void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	s->len += len;
	if (s->nbuf) {
		size_t take = 64 - s->nbuf < len ? 64 - s->nbuf : len;

		memcpy(s->buf + s->nbuf, p, take);
		s->nbuf += take;
		p += take;
		len -= take;
		if (s->nbuf < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->nbuf = 0;
	}
	if (len >= 64) {
		blocks(s->h, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(s->buf, p, len);
	s->nbuf = len;
}

static void sha1_final(struct sha1 *s, unsigned char md[20])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = {0x80};
	size_t npad = (s->nbuf < 56 ? 56 : 120) - s->nbuf;

	for (int i = 0; i < 8; i++)
		pad[npad + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, npad + 8);
	for (int i = 0; i < 5; i++) {
		md[4 * i] = (unsigned char)(s->h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		md[4 * i + 3] = (unsigned char)s->h[i];
	}
}

static void to_hex(const unsigned char md[20], char out[BLOBID_HEX])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = '\0';
}

void sha1_hex(const void *data, size_t len, char out[BLOBID_HEX])
{
	unsigned char md[20];
	struct sha1 s;

	sha1_init(&s);
	sha1_update(&s, data, len);
	sha1_final(&s, md);
	to_hex(md, out);
}

void objid_hex(const char *type, const void *data, size_t len,
	       char out[BLOBID_HEX])
{
	unsigned char md[20];
	char hdr[32];
	int n = snprintf(hdr, sizeof(hdr), "%s %zu", type, len);
	struct sha1 s;

	sha1_init(&s);
	/* The header's NUL is part of what git hashes. */
	sha1_update(&s, hdr, (size_t)n + 1);
	sha1_update(&s, data, len);
	sha1_final(&s, md);
	to_hex(md, out);
}

void blobid_hex(const void *data, size_t len, char out[BLOBID_HEX])
{
	objid_hex("blob", data, len, out);
}
