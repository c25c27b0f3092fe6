/* test_yamlio.c: the plain frontmatter's reader (yamlio.c's fast path)
 * against libyaml, its oracle: for every text the fast path takes, the
 * same events, marks and values as libyaml gives; texts it must leave to
 * libyaml; and thousands of mutations of plain frontmatters (a byte
 * changed, put in or taken out) and the fuzz corpus's frontmatters, each
 * read both ways. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../yev_dump.h"
#include "buf.h"
#include "yamlio.h"

/* A frontmatter as gen-stories writes it, and the shapes around it. */
static const char *const plain[] = {
	"id: REP-P1039\n"
	"title: \"Rate session wizard\"\n"
	"backlog: platform\n"
	"epic: reporting\n"
	"status: active\n"
	"priority: critical\n"
	"points: 8\n"
	"depends_on: [BIL-P649, REP-M205]\n"
	"created: 2026-04-02\n"
	"summary: |\n"
	"  report service refresh latency retry index migration\n"
	"  email permission report synchronization invoice\n",
	"id: A\n",
	"id: A\ntitle: \"\"\nempty:\nlabels: []\nlast: x y/z+1\n",
	"summary: |\n  a\n  b # c: d\nnext: \"q: #x\"\n",
	"deps: [a]\nx_y-z.w: 1.5\n_k: v\n",
	"id: REP-P064\n"
	"title: \"Permission \xe2\x80\x94 na\xc3\xafve caf\xc3\xa9\"\n"
	"assignee: ana\n"
	"depends_on:\n"
	"  - FE-P054\n"
	"  - FE-M151\n"
	"links:\n"
	"  refinement: ../refinements/reporting/REP-P064.md\n"
	"  design: https://example.org/rep-p064\n"
	"summary: |\n"
	"  caf\xc3\xa9 \xe2\x80\x94 x\n",
	"a:\n  - \"q\"\nb:\n  k: \"v\"\nc:\n  - a\n  - .b\n",
	"title: Fix login (iOS), don't retry\nnotes:\n  - a (b), c's\n"
	"k:\n  x: y (z)\n",
	"id: \"\xc3\xa9\"\n",
	"# Story card\n"
	"id: a  # c\n"
	"d:\n"
	"  - x # y\n"
	"  - z\n"
	"# mid\n"
	"t: \"q\" # z\n"
	"s: |\n"
	"  lit\n"
	"# after lit\n"
	"l: [a] # f\n"
	"m:\n"
	"  k: v   # w\n"
	"# end\n",
	"assignee: \xc3\xa9mile\nx: caf\xc3\xa9 # c\nd:\n  - \xc3\xa9\n",
};

/* Texts that look plain but are libyaml's to read. */
static const char *const not_plain[] = {
	"id: A", /* no line break at the end */
	"id: A\n\nx: y\n",
	"id: A\t# comment\n",
	"id: A#b\n",
	"# comments alone\n",
	"id: \"A\"# c\n",
	"id: | # c\n  a\n",
	"id: 'A'\n",
	"id: \"a\\tb\"\n",
	"id:  A\n",
	"id: A \n",
	"id: [a,b]\n",
	"id: [a, b] \n",
	"id:\n- a\n",
	"id: a\n  b\n",
	"id: |\n   a\n",
	"id: |\n  a\n\n  b\n",
	"id: |-\n  a\n",
	"id: >\n  a\n",
	"id: a\r\n",
	"id:\ta\n",
	"- a\n",
	"---\nid: a\n",
	"id: @a\n",
	"id: {a: b}\n",
	"id: \"\xf0\x9f\x98\x80\"\n",
	"id: \"\xc2\x85\"\n",
	"id: \"\xe2\x80\xa8\"\n",
	"id: \"\xef\xbb\xbf\"\n",
	"id: \"\xc3\"\n",
	"\xc3\xa9: a\n",
	"id: [\xc3\xa9]\n",
	"id:\n  - a\n  k: v\n",
	"id:\n  k: v\n  - a\n",
	"id:\n  - [a]\n",
	"id:\n  k:\n",
	"id:\n  k: |\n    a\n",
	"id:\n   - a\n",
	"id:\n  - a\n   b\n",
	"id: a:\n",
	"k: a: b\n",
	"",
};

/* The events of text as the reader gives them (fast path or libyaml). */
static char *events(const char *text, size_t len, bool libyaml, bool *fast)
{
	struct yreader *r;
	char *dump;

	yreader_libyaml_only = libyaml;
	r = yreader_create_at("t", text, len, 2, 64, true);
	yreader_libyaml_only = false;
	if (fast)
		*fast = yreader_is_fast(r);
	dump = yev_dump(r, 10000);
	yreader_destroy(r);
	return dump;
}

static size_t nfast;

/* Both readers alike on text; true when the fast path took it. */
static bool same(const char *text, size_t len)
{
	bool fast;
	char *got = events(text, len, false, &fast);
	char *want = events(text, len, true, NULL);

	if (strcmp(got, want) != 0)
		fail_msg("text:\n%.*s\nfast path:\n%s\nlibyaml:\n%s", (int)len,
			 text, got, want);
	if (strstr(got, "(a NUL inside)"))
		fail_msg("text:\n%.*s\na value with a NUL inside:\n%s",
			 (int)len, text, got);
	free(got);
	free(want);
	nfast += fast;
	return fast;
}

static void plain_is_read_as_libyaml_reads_it(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		assert_true(same(plain[i], strlen(plain[i])));
}

static void others_go_to_libyaml(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(not_plain) / sizeof(*not_plain); i++)
		assert_false(same(not_plain[i], strlen(not_plain[i])));
}

/* Every text one edit away from a plain one, over the bytes that mean
 * something to YAML, and random runs of such edits. */
static void mutations_read_alike(void **state)
{
	static const char alphabet[] =
		"\n \t\r:#-[],|>\"'\\@{}&*!%?~.a0_/+()\xc3\xa9\xe2\x80\xf0\x85";
	char t[4096];

	(void)state;
	nfast = 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		const char *p = plain[i];
		size_t n = strlen(p);

		for (size_t at = 0; at <= n; at++) {
			for (const char *c = alphabet; *c; c++) {
				/* replaced */
				if (at < n) {
					memcpy(t, p, n);
					t[at] = *c;
					same(t, n);
				}
				/* put in */
				memcpy(t, p, at);
				t[at] = *c;
				memcpy(t + at + 1, p + at, n - at);
				same(t, n + 1);
			}
			/* taken out */
			if (at < n) {
				memcpy(t, p, at);
				memcpy(t + at, p + at + 1, n - at - 1);
				same(t, n - 1);
			}
		}
	}
	srand(26);
	for (int round = 0; round < 20000; round++) {
		const char *p = plain[(size_t)rand() %
				      (sizeof(plain) / sizeof(*plain))];
		size_t n = strlen(p);

		memcpy(t, p, n);
		for (int k = rand() % 4; k >= 0 && n + 1 < sizeof(t); k--) {
			size_t at = (size_t)rand() % (n + 1);
			char c = alphabet[(size_t)rand() %
					  (sizeof(alphabet) - 1)];

			if (rand() % 2 && at < n) {
				t[at] = c;
			} else {
				memmove(t + at + 1, t + at, n - at);
				t[at] = c;
				n++;
			}
		}
		same(t, n);
	}
	/* not vacuous: many of them were the fast path's */
	assert_true(nfast > 1000);
}

/* The fuzz corpus's frontmatters (between the first two "---" lines). */
static void corpus_reads_alike(void **state)
{
	const char *root = getenv("SOURCE_ROOT");
	char dir[4096];
	struct dirent *de;
	DIR *d;
	size_t files = 0;

	(void)state;
	if (!root)
		skip();
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus", root);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[8192], *text, *fm, *end;
		FILE *f;
		long n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		text = calloc(1, (size_t)n + 1);
		assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		same(text, (size_t)n);
		fm = strstr(text, "---\n");
		end = fm ? strstr(fm + 4, "\n---") : NULL;
		if (end)
			same(fm + 4, (size_t)(end + 1 - (fm + 4)));
		free(text);
		files++;
	}
	closedir(d);
	assert_true(files > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_is_read_as_libyaml_reads_it),
		cmocka_unit_test(others_go_to_libyaml),
		cmocka_unit_test(mutations_read_alike),
		cmocka_unit_test(corpus_reads_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
