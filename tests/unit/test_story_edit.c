/* test_story_edit.c: new files (render, filename) and minimal edits, checked
 * through story_parse on hand-made stories and on a generated tree. */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "story.h"

/* ---- helpers ---- */

static const int loc[SM_COUNT] = {SF_BACKLOG, SF_STATUS, SF_EPIC};

static bool is_loc(int f)
{
	return f == SF_BACKLOG || f == SF_STATUS || f == SF_EPIC;
}

static const char *show(const char *s)
{
	return s ? s : "(NULL)";
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static void parse_ok(struct story_doc *d, const char *path, const char *text,
		     size_t len)
{
	struct err e = {{0}};

	if (!story_parse(d, NULL, path, text, len, &e))
		fail_msg("%s does not parse: %s\n---\n%.*s", path, e.msg,
			 (int)len, text);
}

/* a and b but for a CR before a LF (a body written into a CRLF file). */
static bool eq_but_crlf(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	while (*a || *b) {
		if (*a == '\r' && a[1] == '\n' && *b == '\n')
			a++;
		else if (*b == '\r' && b[1] == '\n' && *a == '\n')
			b++;
		if (*a++ != *b++)
			return false;
	}
	return true;
}

/* The fields a file holds (all but the location) are want's; an empty
 * depends_on is none; a body may have the file's CRLFs. */
static void assert_fields(const struct story *got, const struct story *want,
			  const char *what)
{
	for (int f = 0; f < SF_COUNT; f++) {
		if (is_loc(f) || str_eq(got->v[f], want->v[f]))
			continue;
		if (f == SF_BODY && eq_but_crlf(got->v[f], want->v[f]))
			continue;
		if (f == SF_DEPENDS_ON && !got->v[f] &&
		    strcmp(want->v[f], "[]") == 0)
			continue;
		fail_msg("%s: %s is '%s', wanted '%s'", what,
			 story_field_names[f], show(got->v[f]),
			 show(want->v[f]));
	}
}

static void edit_ok(const struct story_doc *d, const char *text, size_t len,
		    const struct story *want, struct buf *out)
{
	struct err e = {{0}};

	buf_reset(out);
	if (!story_edit(d, text, len, want, out, &e))
		fail_msg("story_edit failed: %s", e.msg);
	assert_non_null(out->data);
}

/* want for an unchanged file: its fields and its mirrors as the location. */
static void want_of(struct story *want, const struct story_doc *d)
{
	story_copy(want, &d->s);
	for (int m = 0; m < SM_COUNT; m++)
		story_set(want, loc[m], d->mirror[m]);
}

/* Edits the hand-written text so that it holds want; checks that it reads
 * back as want and returns the new text. */
static char *edit_text(const char *text, const struct story *want)
{
	struct story_doc d, back;
	struct buf out = BUF_INIT;

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	edit_ok(&d, text, strlen(text), want, &out);
	parse_ok(&back, "T-1-x.md", out.data, out.len);
	assert_fields(&back.s, want, out.data);
	story_doc_finish(&back);
	story_doc_finish(&d);
	return buf_detach(&out);
}

/* Edits text with one field of its story set to value; compares with
 * expect. */
static void check_one(const char *text, int f, const char *value,
		      const char *expect)
{
	struct story_doc d;
	struct story want = {0};
	char *got;

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	want_of(&want, &d);
	story_doc_finish(&d);
	story_set(&want, f, value);
	got = edit_text(text, &want);
	assert_string_equal(got, expect);
	free(got);
	story_finish(&want);
}

static void check_error(const char *text, int f, const char *value,
			const char *msg)
{
	struct story_doc d;
	struct story want = {0};
	struct buf out = BUF_INIT;
	struct err e = {{0}};

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	want_of(&want, &d);
	story_set(&want, f, value);
	assert_false(story_edit(&d, text, strlen(text), &want, &out, &e));
	assert_string_equal(e.msg, msg);
	buf_finish(&out);
	story_finish(&want);
	story_doc_finish(&d);
}

/* ---- render ---- */

static void round_trip(const struct story *s)
{
	struct buf b = BUF_INIT;
	struct story_doc d;
	char *name = story_filename(s, NULL);

	story_render(s, NULL, &b);
	parse_ok(&d, name, b.data, b.len);
	assert_fields(&d.s, s, b.data);
	for (int m = 0; m < SM_COUNT; m++)
		if (!str_eq(d.mirror[m], s->v[loc[m]]))
			fail_msg("%s: mirror %s is '%s', wanted '%s'", b.data,
				 story_field_names[loc[m]], show(d.mirror[m]),
				 show(s->v[loc[m]]));
	story_doc_finish(&d);
	buf_finish(&b);
	free(name);
}

static void base_story(struct story *s)
{
	story_set(s, SF_ID, "INF-014");
	story_set(s, SF_BACKLOG, "platform");
	story_set(s, SF_STATUS, "active");
	story_set(s, SF_EPIC, "infrastructure");
	story_set(s, SF_TITLE, "File system synchronization service");
	story_set(s, SF_PRIORITY, "high");
	story_set(s, SF_POINTS, "8");
	story_set(s, SF_ASSIGNEES, "[\"ana\"]");
	story_set(s, SF_LABELS, "[\"sync\",\"sqlite\"]");
	story_set(s, SF_DEPENDS_ON, "[\"INF-012\",\"INF-013\"]");
	story_set(s, SF_CREATED, "2026-11-20");
	story_set(s, SF_EXTRA, "{\"any_other_key\":\"kept as it is\"}");
	story_set(s, SF_BODY, "\n# Body in Markdown\n");
}

static void test_render_exact(void **state)
{
	struct story s = {0};
	struct buf b = BUF_INIT;

	base_story(&s);
	story_render(&s, NULL, &b);
	assert_string_equal(b.data,
			    "---\n"
			    "id: INF-014\n"
			    "title: File system synchronization service\n"
			    "backlog: platform\n"
			    "epic: infrastructure\n"
			    "status: active\n"
			    "priority: high\n"
			    "points: 8\n"
			    "assignee: ana\n"
			    "labels: [sync, sqlite]\n"
			    "depends_on: [INF-012, INF-013]\n"
			    "created: 2026-11-20\n"
			    "any_other_key: kept as it is\n"
			    "---\n"
			    "\n# Body in Markdown\n");
	round_trip(&s);

	/* absent fields are left out; no epic, no key */
	buf_reset(&b);
	story_finish(&s);
	story_set(&s, SF_ID, "A-1");
	story_set(&s, SF_BACKLOG, "default");
	story_set(&s, SF_STATUS, "backlog");
	story_set(&s, SF_TITLE, "x");
	story_set(&s, SF_BODY, "");
	story_render(&s, NULL, &b);
	assert_string_equal(b.data, "---\nid: A-1\ntitle: x\nbacklog: default\n"
				    "status: backlog\n---\n");
	round_trip(&s);
	buf_finish(&b);
	story_finish(&s);
}

static const char *const hard_strings[] = {
	"plain words",
	"naïve café ✓ — 日本語 😀",
	"a: b",
	"a:b",
	"http://example.org/x?y=1#frag",
	"a #b",
	"a#b",
	"#hash",
	"- dash",
	"-dash",
	"--- three",
	"---",
	"...",
	"? question",
	": colon",
	"trailing colon:",
	",comma",
	"[bracket]",
	"{brace}",
	"]",
	"&anchor",
	"*alias",
	"!tag",
	"|pipe",
	">gt",
	"'single'",
	"\"double\"",
	"it's",
	"say \"hi\"",
	"back\\slash",
	"%percent",
	"@at",
	"`tick`",
	" leading space",
	"trailing space ",
	"  ",
	"tab\there",
	"\ttab first",
	"line one\nline two",
	"ends with newline\n",
	"\nstarts with newline",
	"two\n\nparagraphs\n",
	"carriage\rreturn",
	"ctl\x01\x1f\x7f",
	"c1 \xc2\x85 nel \xe2\x80\xa8 ls \xe2\x80\xa9 ps \xef\xbb\xbf bom",
	"null",
	"Null",
	"NULL",
	"~",
	"true",
	"False",
	"yes",
	"No",
	"on",
	"OFF",
	"y",
	"n",
	"0",
	"123",
	"-5",
	"+5",
	"1.5",
	"1e3",
	".5",
	"1_000",
	"0x1F",
	"0o17",
	".inf",
	"-.inf",
	".nan",
	"1:30",
	"2026-11-20",
	"12:30:00",
	"x",
	"<<",
	"a, b",
	"a,b",
	"INF-014",
};

#define NHARD (sizeof(hard_strings) / sizeof(*hard_strings))

static void test_render_round_trip_scalars(void **state)
{
	for (size_t i = 0; i < NHARD; i++) {
		struct story s = {0};
		struct buf ex = BUF_INIT;
		char *lab[2] = {(char *)hard_strings[i], (char *)"b"};
		char *labels = json_string_array(lab, 2);
		char *one = json_string_array(lab, 1);

		base_story(&s);
		story_set(&s, SF_TITLE, hard_strings[i]);
		story_set(&s, SF_ASSIGNEES, one);
		story_set(&s, SF_PRIORITY, hard_strings[i]);
		story_set(&s, SF_CREATED, hard_strings[i]);
		story_set(&s, SF_LABELS, labels);
		buf_puts(&ex, "{\"k\":");
		json_put_string(&ex, hard_strings[i], strlen(hard_strings[i]));
		buf_puts(&ex, ",\"nested\":{\"list\":[");
		json_put_string(&ex, hard_strings[i], strlen(hard_strings[i]));
		buf_puts(&ex, ",1,null]}}");
		story_set(&s, SF_EXTRA, ex.data);
		/* story_parse refuses control characters in the body */
		if (!strpbrk(hard_strings[i], "\x01\xc2"))
			story_set(&s, SF_BODY, hard_strings[i]);
		round_trip(&s);
		free(labels);
		free(one);
		buf_finish(&ex);
		story_finish(&s);
	}
}

static void test_render_round_trip_extra(void **state)
{
	static const char *const extras[] = {
		"{\"n\":1,\"f\":-1.5e+3,\"t\":true,\"no\":false,\"z\":null}",
		"{\"s\":\"\",\"e\":[],\"o\":{}}",
		"{\"deep\":[[[[{\"a\":[1,2,{\"b\":\"c: d\"}]}]]]]}",
		"{\"a.b\":\"x\",\"x-y\":\"y\",\"true\":1,\"1\":2,\"ké\":"
		"3}",
		"{\"summary\":\"line one\\nline two\\n\"}",
		"{\"quote\":\"\\\"\\\\\\/\",\"ctl\":\"\\u0001\\t\"}",
		"{\"links\":{\"refinement\":\"../r/INF-1.md\","
		"\"design\":\"https://example.org/inf-1\"}}",
	};

	for (size_t i = 0; i < sizeof(extras) / sizeof(*extras); i++) {
		struct story s = {0};
		struct json_member *m;
		size_t n;
		struct buf norm = BUF_INIT;

		/* extra as story_parse writes it: \/ is plain '/' */
		assert_true(json_parse_object(extras[i], &m, &n));
		json_members_free(m, n);
		base_story(&s);
		story_set(&s, SF_EXTRA, extras[i]);
		if (strstr(extras[i], "\\/")) {
			buf_puts(&norm, "{\"quote\":\"\\\"\\\\/\","
					"\"ctl\":\"\\u0001\\t\"}");
			story_set(&s, SF_EXTRA, norm.data);
		}
		round_trip(&s);
		buf_finish(&norm);
		story_finish(&s);
	}

	/* a key longer than YAML's implicit keys may be: written "? key"
	 * (found by the fuzzer), plain or quoted */
	for (int quoted = 0; quoted < 2; quoted++) {
		struct story s = {0};
		struct buf json = BUF_INIT, out = BUF_INIT;

		buf_puts(&json, "{\"");
		for (int i = 0; i < 1500; i++)
			buf_putc(&json, quoted && i % 50 == 0 ? '#' : 'k');
		buf_puts(&json, "\":[1,2]}");
		base_story(&s);
		story_set(&s, SF_EXTRA, json.data);
		round_trip(&s);
		story_render(&s, NULL, &out);
		assert_non_null(strstr(out.data, "\n? "));
		buf_finish(&out);
		buf_finish(&json);
		story_finish(&s);
	}
}

static void test_render_round_trip_bodies(void **state)
{
	static const char *const bodies[] = {
		"",
		"\n",
		"\n\n",
		"no blank line first\n",
		"no final newline",
		"---\nlooks: like frontmatter\n---\n",
		"\n```yaml\n---\nnot: frontmatter\n---\n```\n",
		"  indented\n\ttabbed\n",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(*bodies); i++) {
		struct story s = {0};

		base_story(&s);
		story_set(&s, SF_BODY, bodies[i]);
		story_set(&s, SF_EPIC, NULL);
		story_set(&s, SF_DEPENDS_ON, NULL);
		story_set(&s, SF_EXTRA, NULL);
		story_set(&s, SF_LABELS, "[]");
		round_trip(&s);
		story_finish(&s);
	}
}

/* ---- file names ---- */

static void check_filename(const char *id, const char *title,
			   const char *expect)
{
	struct story s = {0};
	char *got;

	story_set(&s, SF_ID, id);
	story_set(&s, SF_TITLE, title);
	got = story_filename(&s, NULL);
	assert_string_equal(got, expect);
	free(got);
	story_finish(&s);
}

static void test_filename(void **state)
{
	check_filename("INF-014", "File system synchronization service",
		       "INF-014-file-system-synchronization-service.md");
	check_filename("A-1", "  Hello, World!  ", "A-1-hello-world.md");
	check_filename("A-1", "naïve café ✓ x", "A-1-naive-cafe-x.md");
	check_filename("A-1", "ÀÉÎÕÜ Straße × 2", "A-1-aeiou-strasse-2.md");
	check_filename("A-1", "日本語", "A-1.md");
	check_filename("A-1", "", "A-1.md");
	check_filename("A-1", "../../etc/passwd", "A-1-etc-passwd.md");
	check_filename("A-1", "a/b\\c\nd\te", "A-1-a-b-c-d-e.md");
	check_filename("A-1", "UPPER lower 123", "A-1-upper-lower-123.md");
	/* cut at a '-' boundary within 60 bytes */
	check_filename(
		"A-1",
		"alpha bravo charlie delta echo foxtrot golf hotel india "
		"juliet kilo",
		"A-1-alpha-bravo-charlie-delta-echo-foxtrot-golf-hotel-"
		"india.md");
	/* one long word: cut at 60 */
	check_filename(
		"A-1",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaa",
		"A-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaa.md");
	/* an id that could leave the directory is made harmless */
	check_filename("../x", "t", ".._x-t.md");
	check_filename("..", "", ".._.md");
	check_filename("a\nb", "t", "a_b-t.md");
}

static void test_filename_bounds(void **state)
{
	struct story s = {0};
	struct buf id = BUF_INIT, title = BUF_INIT;
	char *got;

	for (int i = 0; i < 300; i++)
		buf_putc(&id, 'A');
	for (int i = 0; i < 300; i++)
		buf_puts(&title, "ab ");
	story_set(&s, SF_ID, id.data);
	story_set(&s, SF_TITLE, title.data);
	got = story_filename(&s, NULL);
	assert_true(strlen(got) <= 255);
	assert_null(strchr(got, '/'));
	assert_int_equal(strlen(got), 180 + 1 + 59 + 3);
	free(got);
	story_finish(&s);
	buf_finish(&id);
	buf_finish(&title);
}

/* ---- edits of hand-made files ---- */

static const char doc1[] = "---\n"
			   "# card\n"
			   "id: T-1\n"
			   "title: Plain title\n"
			   "status: active  # mirror\n"
			   "epic: api\n"
			   "priority: 'high'\n"
			   "points: 3   # guess\n"
			   "assignee: \"ana\"\n"
			   "labels: [a, b]\n"
			   "depends_on:\n"
			   "    - T-0  # first\n"
			   "    - A-9\n"
			   "created: 2026-01-02\n"
			   "summary: |\n"
			   "  one\n"
			   "  two\n"
			   "links:\n"
			   "  a: 1\n"
			   "estimate: 4\n"
			   "---\n"
			   "\n"
			   "# Body\n";

static void test_edit_unchanged(void **state)
{
	struct story_doc d;
	struct story want = {0};
	struct buf out = BUF_INIT;

	parse_ok(&d, "T-1-x.md", doc1, strlen(doc1));
	want_of(&want, &d);
	edit_ok(&d, doc1, strlen(doc1), &want, &out);
	assert_string_equal(out.data, doc1);
	story_finish(&want);
	buf_finish(&out);
	story_doc_finish(&d);
}

/* doc1 with one line replaced: from the line starting with from. */
static char *doc1_with(const char *from, size_t nlines, const char *lines)
{
	const char *at = strstr(doc1, from), *end = at;
	struct buf b = BUF_INIT;

	assert_non_null(at);
	for (size_t i = 0; i < nlines; i++)
		end = strchr(end, '\n') + 1;
	buf_add(&b, doc1, (size_t)(at - doc1));
	buf_puts(&b, lines);
	buf_puts(&b, end);
	return buf_detach(&b);
}

static void check_doc1(int f, const char *value, const char *from,
		       size_t nlines, const char *lines)
{
	char *expect = doc1_with(from, nlines, lines);

	check_one(doc1, f, value, expect);
	free(expect);
}

static void test_edit_scalars_keep_style(void **state)
{
	check_doc1(SF_TITLE, "New title", "title:", 1, "title: New title\n");
	check_doc1(SF_TITLE, "New: title", "title:", 1,
		   "title: \"New: title\"\n");
	check_doc1(SF_PRIORITY, "low", "priority:", 1, "priority: 'low'\n");
	check_doc1(SF_PRIORITY, "it's", "priority:", 1, "priority: 'it''s'\n");
	check_doc1(SF_PRIORITY, "a\nb", "priority:", 1,
		   "priority: \"a\\nb\"\n");
	check_doc1(SF_POINTS, "13", "points:", 1, "points: 13   # guess\n");
	check_doc1(SF_ASSIGNEES, "[\"bo\"]", "assignee:", 1,
		   "assignee: \"bo\"\n");
	check_doc1(SF_CREATED, "2026-02-03", "created:", 1,
		   "created: 2026-02-03\n");
	check_doc1(SF_CREATED, "yes", "created:", 1, "created: \"yes\"\n");
	check_doc1(SF_ID, "T-2", "id:", 1, "id: T-2\n");
}

static void test_edit_lists(void **state)
{
	check_doc1(SF_LABELS, "[\"a\",\"c, d\",\"e\"]", "labels:", 1,
		   "labels: [a, \"c, d\", e]\n");
	check_doc1(SF_LABELS, "[]", "labels:", 1, "labels: []\n");
	/* the items that stay keep their lines, comments and all; sorted
	 * when read, depends_on keeps the file's order */
	check_doc1(SF_DEPENDS_ON, "[\"A-9\",\"B-1\",\"T-0\"]", "depends_on:", 3,
		   "depends_on:\n    - T-0  # first\n    - A-9\n    - B-1\n");
	check_doc1(SF_DEPENDS_ON, NULL, "depends_on:", 3, "");
	check_doc1(SF_DEPENDS_ON, "[]", "depends_on:", 3, "");
}

/* A block list the API rewrites keeps the comments of the list and of the
 * items that stay (those above an item go with it); labels take want's
 * order. */
static void test_edit_block_list_comments(void **state)
{
	const char *text =
		"---\ntitle: t\nlabels:  # the labels\n"
		"  # about all\n  - a   # why a\n  # above b\n"
		"  - \"b\"\n  - c  # c note\n\n  - d\npriority: low\n"
		"---\n";

	check_one(text, SF_LABELS, "[\"c\",\"a\",\"e\"]",
		  "---\ntitle: t\nlabels:  # the labels\n  # about all\n"
		  "  - c  # c note\n  - a   # why a\n  - e\npriority: low\n"
		  "---\n");
	check_one(text, SF_LABELS, "[\"b\",\"d\"]",
		  "---\ntitle: t\nlabels:  # the labels\n  # about all\n"
		  "  # above b\n  - \"b\"\n\n  - d\npriority: low\n---\n");
	/* an item of more than one line stays whole */
	check_one("---\ntitle: t\nlabels:\n  - a\n    b\n  - c\n---\n",
		  SF_LABELS, "[\"a b\",\"d\"]",
		  "---\ntitle: t\nlabels:\n  - a\n    b\n  - d\n---\n");
	check_one("---\r\ntitle: t\r\nassignee:\r\n  - ana # lead\r\n"
		  "  - bo\r\n---\r\n",
		  SF_ASSIGNEES, "[\"bo\",\"ana\",\"cy\"]",
		  "---\r\ntitle: t\r\nassignee:\r\n  - bo\r\n"
		  "  - ana # lead\r\n  - cy\r\n---\r\n");
}

static void test_edit_remove_and_add(void **state)
{
	check_doc1(SF_ASSIGNEES, NULL, "assignee:", 1, "");
	check_doc1(SF_POINTS, NULL, "points:", 1, "");
	check_one("---\ntitle: x\n---\nbody\n", SF_ASSIGNEES, "[\"bo\"]",
		  "---\ntitle: x\nassignee: bo\n---\nbody\n");
	check_one("---\ntitle: x\nassignee:  # who\n---\n", SF_ASSIGNEES,
		  "[\"bo\"]", "---\ntitle: x\nassignee: bo  # who\n---\n");
	check_one("---\ntitle: x\nassignee: ~\n---\n", SF_ASSIGNEES,
		  "[\"null\"]", "---\ntitle: x\nassignee: \"null\"\n---\n");
	/* an indented mapping gets its new key at its indentation (found by
	 * the fuzzer: at column 0 it no longer parsed) */
	check_one(
		"---\n  title: x\n  points: 2\n---\nbody\n", SF_PRIORITY,
		"high",
		"---\n  title: x\n  points: 2\n  priority: high\n---\nbody\n");
}

static void test_edit_new_keys_in_render_order(void **state)
{
	const char *text = "---\ntitle: x\nfoo: 1\n---\n";
	struct story_doc d;
	struct story want = {0};
	char *got;

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	want_of(&want, &d);
	story_doc_finish(&d);
	story_set(&want, SF_CREATED, "2026-01-01");
	story_set(&want, SF_LABELS, "[\"l\"]");
	story_set(&want, SF_PRIORITY, "low");
	story_set(&want, SF_EXTRA, "{\"foo\":1,\"bar\":\"a: b\",\"baz\":[1]}");
	got = edit_text(text, &want);
	assert_string_equal(got, "---\ntitle: x\nfoo: 1\npriority: low\n"
				 "labels: [l]\ncreated: 2026-01-01\n"
				 "bar: \"a: b\"\nbaz: [1]\n---\n");
	free(got);
	story_finish(&want);
}

static void test_edit_extra(void **state)
{
	check_doc1(SF_EXTRA,
		   "{\"summary\":\"three\\nfour\\n\",\"links\":{\"a\":1},"
		   "\"estimate\":4}",
		   "summary:", 3, "summary: |\n  three\n  four\n");
	check_doc1(SF_EXTRA,
		   "{\"summary\":\"one\\ntwo\\n\",\"links\":{\"a\":2,\"b\":[]},"
		   "\"estimate\":4}",
		   "links:", 2, "links: {\"a\": 2, \"b\": []}\n");
	check_doc1(SF_EXTRA,
		   "{\"summary\":\"one\\ntwo\\n\",\"links\":{\"a\":1},"
		   "\"estimate\":\"5\"}",
		   "estimate:", 1, "estimate: \"5\"\n");
	check_doc1(SF_EXTRA,
		   "{\"summary\":\"one\\ntwo\\n\",\"links\":{\"a\":1},"
		   "\"estimate\":null}",
		   "estimate:", 1, "estimate: null\n");
	check_doc1(SF_EXTRA, "{\"summary\":\"one\\ntwo\\n\",\"estimate\":4}",
		   "links:", 2, "");
	check_doc1(SF_EXTRA, NULL, "summary:", 6, "");
	/* a summary no literal block can hold */
	check_doc1(SF_EXTRA,
		   "{\"summary\":\" x\",\"links\":{\"a\":1},\"estimate\":4}",
		   "summary:", 3, "summary: \" x\"\n");
}

static void test_edit_extra_reorder(void **state)
{
	const char *text = "---\ntitle: x\na: 1\nb: 2\nc: 3\n---\n";
	struct story_doc d;
	struct story want = {0};
	char *got;

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	want_of(&want, &d);
	story_doc_finish(&d);
	story_set(&want, SF_EXTRA, "{\"a\":1,\"c\":3,\"b\":2}");
	got = edit_text(text, &want);
	assert_string_equal(got, "---\ntitle: x\na: 1\nc: 3\nb: 2\n---\n");
	free(got);
	story_finish(&want);
}

static void test_edit_mirrors(void **state)
{
	check_doc1(SF_STATUS, "completed", "status:", 1,
		   "status: completed  # mirror\n");
	check_doc1(SF_EPIC, NULL, "epic:", 1, "");
	check_doc1(SF_EPIC, "null", "epic:", 1, "epic: \"null\"\n");
	/* never added */
	check_doc1(SF_BACKLOG, "mobile", "", 0, "");
}

static void test_edit_body(void **state)
{
	check_doc1(SF_BODY, "\nNew body\n", "\n# Body", 2, "\nNew body\n");
	check_doc1(SF_BODY, "", "\n# Body", 2, "");
	check_one("---\ntitle: x\n---", SF_BODY, "\nnew\n",
		  "---\ntitle: x\n---\n\nnew\n");
	check_one("---\r\ntitle: x\r\n---", SF_BODY, "new\n",
		  "---\r\ntitle: x\r\n---\r\nnew\r\n");
	/* a CRLF file's body is read with its CRLFs; a new one from the
	 * database gets them, and a CRLF it has stays one */
	check_one("---\r\ntitle: x\r\n---\r\nold\r\n", SF_BODY, "a\r\nb\n",
		  "---\r\ntitle: x\r\n---\r\na\r\nb\r\n");
}

/* What apply checks before it writes: a text reads back as the row. */
static void test_reads_back(void **state)
{
	struct story s = {0};
	struct story_doc back;
	struct buf b = BUF_INIT;
	struct err e = {{0}};
	const char *mirror[SM_COUNT] = {"platform", "active", "infrastructure"};

	base_story(&s);
	story_render(&s, NULL, &b);
	assert_true(story_reads_back(NULL, "p/a/INF-014-x.md", b.data, b.len,
				     &s, mirror, &back, &e));
	story_doc_finish(&back);
	/* an extra key that is a column: rendered twice, or read back as the
	 * column's */
	story_set(&s, SF_EXTRA, "{\"title\":\"other\"}");
	buf_reset(&b);
	story_render(&s, NULL, &b);
	assert_false(story_reads_back(NULL, "x.md", b.data, b.len, &s, mirror,
				      &back, &e));
	assert_string_equal(e.msg, "x.md:13:1: duplicate key 'title'");
	story_set(&s, SF_EXTRA, "{\"labels\":[\"l\"]}");
	story_set(&s, SF_LABELS, NULL);
	buf_reset(&b);
	story_render(&s, NULL, &b);
	assert_false(story_reads_back(NULL, "x.md", b.data, b.len, &s, mirror,
				      &back, &e));
	assert_string_equal(e.msg, "it would read back with another labels");
	/* a mirror key: NULL wants none */
	story_set(&s, SF_EXTRA, NULL);
	mirror[SM_EPIC] = NULL;
	buf_reset(&b);
	story_render(&s, NULL, &b);
	assert_false(story_reads_back(NULL, "x.md", b.data, b.len, &s, mirror,
				      &back, &e));
	assert_string_equal(e.msg, "its epic key would read back as another");
	buf_finish(&b);
	story_finish(&s);
}

static void test_edit_crlf_bom(void **state)
{
	const char *text = "\xef\xbb\xbf---\r\ntitle: x\r\nlabels:\r\n  - a\r\n"
			   "---\r\n\r\nbody\r\n";
	struct story_doc d;
	struct story want = {0};
	char *got;

	parse_ok(&d, "T-1-x.md", text, strlen(text));
	want_of(&want, &d);
	story_doc_finish(&d);
	story_set(&want, SF_LABELS, "[\"a\",\"b\"]");
	story_set(&want, SF_ASSIGNEES, "[\"bo\"]");
	story_set(&want, SF_EXTRA, "{\"s\":\"x\\ny\"}");
	story_set(&want, SF_BODY, "\nnew\nbody\n");
	got = edit_text(text, &want);
	assert_string_equal(got, "\xef\xbb\xbf---\r\ntitle: x\r\nlabels:\r\n"
				 "  - a\r\n  - b\r\nassignee: bo\r\n"
				 "s: \"x\\ny\"\r\n---\r\n\r\nnew\r\nbody\r\n");
	free(got);
	story_finish(&want);
}

static void test_edit_errors(void **state)
{
	const char *t = "---\nid: T-1\ntitle: x\n---\n";

	check_error(t, SF_TITLE, "", "title must not be empty");
	check_error(t, SF_TITLE, NULL, "title must not be empty");
	check_error(t, SF_TITLE, "bad \xff", "title is not valid UTF-8");
	check_error(t, SF_BODY, "a\x01", "body holds control character U+0001");
	check_error(t, SF_BODY, "a\xc2\x85",
		    "body holds control character U+0085");
	check_error(t, SF_POINTS, "many", "points is not an integer: many");
	check_error(t, SF_LABELS, "[1]",
		    "labels is not a JSON array of strings: [1]");
	check_error(t, SF_DEPENDS_ON, "[\"a b\"]",
		    "invalid id 'a b' in 'depends_on'");
	check_error(t, SF_ID, "../x", "invalid id '../x'");
	check_error(t, SF_EXTRA, "[1]", "extra is not a JSON object: [1]");
	check_error(t, SF_EXTRA, "{\"title\":1}",
		    "extra key 'title' is a column");
	check_error(t, SF_EXTRA, "{\"a: b\":1}",
		    "extra key 'a: b' cannot be a plain YAML key");
}

/* Explicit keys ("? key"): the entry starts at its '?', even lines above
 * the key, and a key with no ':' has its (empty) value at its own end. */
static void test_edit_explicit_keys(void **state)
{
	/* the fuzzer's input (CRLF lines in an LF file): "? E-" with no
	 * value; the new key went in at the key's column, not the '?''s,
	 * and no longer parsed */
	const char *fuzz = "---\n# \n?\r\n\r\n \r\n\n E-\ntitle: n\n---\n00, &";
	const char *explicit = "---\ntitle: x\n?  # c\n  k\n: v  # d\n---\n";

	check_one(fuzz, SF_PRIORITY, "high",
		  "---\n# \n?\r\n\r\n \r\n\n E-\ntitle: n\npriority: high\n"
		  "---\n00, &");
	check_one(fuzz, SF_LABELS, "[]",
		  "---\n# \n?\r\n\r\n \r\n\n E-\ntitle: n\nlabels: []\n"
		  "---\n00, &");
	check_one(fuzz, SF_EXTRA, "{\"E-\":\"v\"}",
		  "---\n# \nE-: v\ntitle: n\n---\n00, &");
	check_one(fuzz, SF_EXTRA, NULL, "---\n# \ntitle: n\n---\n00, &");
	check_one(explicit, SF_EXTRA, "{\"k\":\"w\"}",
		  "---\ntitle: x\n?  # c\n  k\n: w  # d\n---\n");
	check_one(explicit, SF_EXTRA, NULL, "---\ntitle: x\n---\n");
	/* a rewritten key keeps the mapping's indentation */
	check_one("---\n  title: x\n  labels:\n    - a\n  p: 1\n---\n",
		  SF_LABELS, "[]",
		  "---\n  title: x\n  labels: []\n  p: 1\n---\n");
	check_one("---\n  title: x\n  s: |\n    a\n---\n", SF_EXTRA,
		  "{\"s\":\"b\\nc\\n\"}",
		  "---\n  title: x\n  s: |\n    b\n    c\n---\n");
}

/* story_writable: what story_edit refuses, before any file is read, with
 * the field named; a story it takes also renders and parses back. */
static void check_unwritable(int f, const char *value, const char *msg)
{
	struct story s = {0};
	struct err e = {{0}};
	int field = -1;

	story_set(&s, SF_ID, "T-1");
	story_set(&s, SF_TITLE, "x");
	story_set(&s, f, value);
	assert_false(story_writable(&s, NULL, &field, &e));
	assert_string_equal(e.msg, msg);
	assert_int_equal(field, f);
	story_finish(&s);
}

static void test_writable(void **state)
{
	struct story s = {0};
	struct err e = {{0}};
	int field = -1;

	check_unwritable(SF_TITLE, "", "title must not be empty");
	check_unwritable(SF_TITLE, NULL, "title must not be empty");
	check_unwritable(SF_PRIORITY, "bad \xff",
			 "priority is not valid UTF-8");
	check_unwritable(SF_BODY, "a\x01",
			 "body holds control character U+0001");
	check_unwritable(SF_POINTS, "abc", "points is not an integer: abc");
	check_unwritable(SF_POINTS, "1.5", "points is not an integer: 1.5");
	check_unwritable(SF_ASSIGNEES, "{\"a\":1}",
			 "assignees is not a JSON array of strings: {\"a\":1}");
	check_unwritable(SF_LABELS, "x, y",
			 "labels is not a JSON array of strings: x, y");
	check_unwritable(SF_DEPENDS_ON, "[\"../x\"]",
			 "invalid id '../x' in 'depends_on'");
	check_unwritable(SF_EXTRA, "[1]", "extra is not a JSON object: [1]");
	check_unwritable(SF_EXTRA, "{\"labels\":1}",
			 "extra key 'labels' is a column");
	check_unwritable(SF_EXTRA, "{\"a: b\":1}",
			 "extra key 'a: b' cannot be a plain YAML key");
	/* every field at once, as a file can hold them */
	story_set(&s, SF_ID, "T-1");
	story_set(&s, SF_TITLE, "x");
	story_set(&s, SF_POINTS, "-3");
	story_set(&s, SF_ASSIGNEES, "[\"ana\"]");
	story_set(&s, SF_LABELS, "[]");
	story_set(&s, SF_DEPENDS_ON, "[\"T-2\"]");
	story_set(&s, SF_EXTRA, "{\"k\":[1,{\"a\":null}]}");
	story_set(&s, SF_BODY, "line\r\n\ttab\n");
	assert_true(story_writable(&s, NULL, &field, &e));
	round_trip(&s);
	story_finish(&s);
}

/* Every hard string through a plain, a single- and a double-quoted key. */
static void test_edit_hard_strings(void **state)
{
	const char *text = "---\ntitle: x\npriority: 'p'\nassignee: \"a\"\n"
			   "summary: |\n  s\n---\n";

	for (size_t i = 0; i < NHARD; i++) {
		struct story_doc d;
		struct story want = {0};
		struct buf ex = BUF_INIT;
		char *got,
			*one = json_string_array((char **)&hard_strings[i], 1);

		parse_ok(&d, "T-1-x.md", text, strlen(text));
		want_of(&want, &d);
		story_doc_finish(&d);
		story_set(&want, SF_TITLE, hard_strings[i]);
		story_set(&want, SF_PRIORITY, hard_strings[i]);
		story_set(&want, SF_ASSIGNEES, one);
		buf_puts(&ex, "{\"summary\":");
		json_put_string(&ex, hard_strings[i], strlen(hard_strings[i]));
		buf_puts(&ex, "}");
		story_set(&want, SF_EXTRA, ex.data);
		got = edit_text(text, &want);
		free(got);
		free(one);
		buf_finish(&ex);
		story_finish(&want);
	}
}

/* ---- the generated tree ---- */

struct corpus {
	char dir[64];
	char **paths;
	size_t n;
};

static struct corpus *the_corpus;

static int collect(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	size_t n = strlen(path);

	if (type == FTW_F && n > 3 && strcmp(path + n - 3, ".md") == 0) {
		the_corpus->paths = xreallocarray(
			the_corpus->paths, the_corpus->n + 1, sizeof(char *));
		the_corpus->paths[the_corpus->n++] = xstrdup(path);
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	return remove(path);
}

static int corpus_setup(void **state)
{
	struct corpus *c = xcalloc(1, sizeof(*c));
	const char *gen = getenv("GEN_STORIES");
	struct buf cmd = BUF_INIT;

	if (!gen) {
		fail_msg("GEN_STORIES is not set (run through meson test)");
		return -1;
	}
	strcpy(c->dir, "/tmp/test_story_edit.XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	buf_puts(&cmd, gen);
	buf_puts(&cmd, " ");
	buf_puts(&cmd, c->dir);
	buf_puts(&cmd, "/t --count 1000 >/dev/null");
	assert_int_equal(system(cmd.data), 0);
	buf_finish(&cmd);
	the_corpus = c;
	assert_int_equal(nftw(c->dir, collect, 16, FTW_PHYS), 0);
	assert_int_equal(c->n, 1000);
	*state = c;
	return 0;
}

static int corpus_teardown(void **state)
{
	struct corpus *c = *state;

	nftw(c->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < c->n; i++)
		free(c->paths[i]);
	free(c->paths);
	free(c);
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

enum mutation {
	MU_TITLE,
	MU_TITLE_HARD,
	MU_PRIORITY,
	MU_POINTS,
	MU_ASSIGNEE,
	MU_LABELS,
	MU_DEPENDS_ON,
	MU_CREATED,
	MU_NEW_EXTRA,
	MU_CHANGE_EXTRA,
	MU_REMOVE_KEY,
	MU_STATUS,
	MU_BODY,
	MU_COUNT
};

static const struct fm_key *find_key(const struct story_doc *d, int f)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i].field == f)
			return &d->keys[i];
	return NULL;
}

static char *list_plus(const char *json, const char *item)
{
	char **items = NULL, **v;
	size_t n = 0;
	char *out;

	if (json)
		assert_true(json_parse_string_array(json, &items, &n));
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = items[i];
	v[n] = (char *)item;
	out = json_string_array(v, n + 1);
	free(v);
	strv_free(items);
	return out;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *deps_plus(const char *json)
{
	char **items = NULL, **v;
	size_t n = 0;
	char *out;

	if (json)
		assert_true(json_parse_string_array(json, &items, &n));
	v = xcalloc(n + 2, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = items[i];
	v[n] = (char *)"ZZZ-999";
	qsort(v, n + 1, sizeof(*v), cmp_strp);
	out = json_string_array(v, n + 1);
	free(v);
	strv_free(items);
	return out;
}

/* Sets want to d's story with one change; [*begin, *end) is the only part
 * of the text the edit may touch. False when the mutation does not apply
 * to this file. */
static bool mutate(const struct story_doc *d, size_t len, enum mutation mu,
		   struct story *want, size_t *begin, size_t *end)
{
	const struct fm_key *k = NULL;
	char *v = NULL;
	int f = -1;

	want_of(want, d);
	switch (mu) {
	case MU_TITLE:
		f = SF_TITLE;
		v = xasprintf("%s v2", d->s.v[SF_TITLE]);
		break;
	case MU_TITLE_HARD:
		f = SF_TITLE;
		v = xstrdup("Say \"hi\": it's #1 — ✓\n-");
		break;
	case MU_PRIORITY:
		f = SF_PRIORITY;
		v = xstrdup("urgent");
		break;
	case MU_POINTS:
		f = SF_POINTS;
		v = xstrdup("21");
		break;
	case MU_ASSIGNEE:
		f = SF_ASSIGNEES;
		v = xstrdup("[\"zoë\"]");
		break;
	case MU_LABELS:
		f = SF_LABELS;
		v = list_plus(d->s.v[SF_LABELS], "new, label");
		break;
	case MU_DEPENDS_ON:
		f = SF_DEPENDS_ON;
		v = deps_plus(d->s.v[SF_DEPENDS_ON]);
		break;
	case MU_CREATED:
		f = SF_CREATED;
		v = xstrdup("2027-01-02");
		break;
	case MU_NEW_EXTRA: {
		const char *ex = d->s.v[SF_EXTRA];

		f = SF_EXTRA;
		if (ex)
			v = xasprintf("%.*s,\"reviewer\":\"kim: x\"}",
				      (int)strlen(ex) - 1, ex);
		else
			v = xstrdup("{\"reviewer\":\"kim: x\"}");
		*begin = *end = d->fm_end;
		break;
	}
	case MU_CHANGE_EXTRA:
		if (!d->s.v[SF_EXTRA] || !strstr(d->s.v[SF_EXTRA], "summary"))
			return false;
		f = SF_EXTRA;
		for (size_t i = 0; i < d->nkeys; i++)
			if (strcmp(d->keys[i].name, "summary") == 0)
				k = &d->keys[i];
		{
			struct json_member *m;
			size_t n;
			struct buf b = BUF_INIT;

			assert_true(
				json_parse_object(d->s.v[SF_EXTRA], &m, &n));
			buf_putc(&b, '{');
			for (size_t i = 0; i < n; i++) {
				buf_printf(&b, "%s\"%s\":", i ? "," : "",
					   m[i].key);
				buf_puts(&b, strcmp(m[i].key, "summary")
						     ? m[i].value
						     : "\"new\\nsummary\\n\"");
			}
			buf_putc(&b, '}');
			json_members_free(m, n);
			v = buf_detach(&b);
		}
		break;
	case MU_REMOVE_KEY: f = SF_PRIORITY; break;
	case MU_STATUS:
		f = SF_STATUS;
		v = xstrdup(str_eq(d->mirror[SM_STATUS], "active") ? "completed"
								   : "active");
		if (!find_key(d, f)) {
			/* never added: nothing may change */
			*begin = *end = len;
			story_set(want, f, v);
			free(v);
			return true;
		}
		break;
	case MU_BODY:
		f = SF_BODY;
		v = xstrdup("\n# Rewritten\n\nNew text.\n");
		*begin = d->body_begin;
		*end = len;
		break;
	default: return false;
	}
	story_set(want, f, v);
	free(v);
	if (!k && f != SF_BODY && f != SF_EXTRA)
		k = find_key(d, f);
	if (k) {
		*begin = k->line_begin;
		*end = k->line_end;
	} else if (f != SF_BODY && mu != MU_NEW_EXTRA) {
		if (mu == MU_REMOVE_KEY)
			return false;
		*begin = *end = d->fm_end;
	}
	return true;
}

/* How often each mutation changed a file, so that a mutation that never
 * applies cannot pass unnoticed. */
static size_t changed[MU_COUNT];

static void check_region(const char *path, const char *in, size_t len,
			 const struct buf *out, size_t begin, size_t end)
{
	size_t tail = len - end;

	if (begin == len && out->len != len)
		fail_msg("%s: a mirror key was added", path);
	if (out->len < begin + tail || memcmp(out->data, in, begin) != 0 ||
	    memcmp(out->data + out->len - tail, in + end, tail) != 0)
		fail_msg("%s: edit outside [%zu, %zu):\n%s", path, begin, end,
			 out->data);
}

static void check_crlf(const char *path, const struct buf *out)
{
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '\n' &&
		    (i == 0 || out->data[i - 1] != '\r'))
			fail_msg("%s: LF without CR at %zu", path, i);
}

static void check_mutation(const char *path, const char *text, size_t len,
			   const struct story_doc *d, enum mutation mu)
{
	struct story want = {0};
	struct story_doc back;
	struct buf out = BUF_INIT;
	size_t begin = 0, end = 0;

	if (!mutate(d, len, mu, &want, &begin, &end)) {
		story_finish(&want);
		return;
	}
	edit_ok(d, text, len, &want, &out);
	parse_ok(&back, path, out.data, out.len);
	assert_fields(&back.s, &want, path);
	for (int m = 0; m < SM_COUNT; m++) {
		const char *expect =
			find_key(d, loc[m]) ? want.v[loc[m]] : d->mirror[m];

		if (!str_eq(back.mirror[m], expect))
			fail_msg("%s: mirror %d is %s", path, m,
				 show(back.mirror[m]));
	}
	check_region(path, text, len, &out, begin, end);
	if (out.len != len || memcmp(out.data, text, len) != 0)
		changed[mu]++;
	if (d->crlf)
		check_crlf(path, &out);
	story_doc_finish(&back);
	buf_finish(&out);
	story_finish(&want);
}

static void check_file(const char *path, const char *text, size_t len)
{
	struct story_doc d;
	struct story want = {0};
	struct buf out = BUF_INIT;

	parse_ok(&d, path, text, len);
	want_of(&want, &d);
	edit_ok(&d, text, len, &want, &out);
	if (out.len != len || memcmp(out.data, text, len) != 0)
		fail_msg("%s: unchanged story changed the file", path);
	for (int mu = 0; mu < MU_COUNT; mu++)
		check_mutation(path, text, len, &d, mu);
	buf_finish(&out);
	story_finish(&want);
	story_doc_finish(&d);
}

static void test_corpus_edits(void **state)
{
	struct corpus *c = *state;

	memset(changed, 0, sizeof(changed));
	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		char *text = read_all(c->paths[i], &len);

		check_file(c->paths[i], text, len);
		free(text);
	}
	for (int mu = 0; mu < MU_COUNT; mu++)
		if (changed[mu] < (mu == MU_CHANGE_EXTRA ? 100 : 500))
			fail_msg("mutation %d changed only %zu files", mu,
				 changed[mu]);
	/* every file changes but those with no priority or status key */
	assert_int_equal(changed[MU_TITLE], c->n);
	assert_int_equal(changed[MU_BODY], c->n);
}

static char *to_crlf(const char *text, size_t len, bool bom, size_t *out_len)
{
	struct buf b = BUF_INIT;

	if (bom)
		buf_puts(&b, "\xef\xbb\xbf");
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			buf_putc(&b, '\r');
		buf_putc(&b, text[i]);
	}
	*out_len = b.len;
	return buf_detach(&b);
}

static void test_corpus_crlf(void **state)
{
	struct corpus *c = *state;

	for (size_t i = 0; i < c->n; i += 50) {
		size_t len, clen;
		char *text = read_all(c->paths[i], &len);
		char *crlf = to_crlf(text, len, i % 100 == 0, &clen);

		check_file(c->paths[i], crlf, clen);
		free(crlf);
		free(text);
	}
}

static void test_corpus_render_round_trip(void **state)
{
	struct corpus *c = *state;

	for (size_t i = 0; i < c->n; i++) {
		size_t len;
		char *text = read_all(c->paths[i], &len);
		struct story_doc d;
		struct story s = {0};

		parse_ok(&d, c->paths[i], text, len);
		want_of(&s, &d);
		round_trip(&s);
		story_finish(&s);
		story_doc_finish(&d);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_render_round_trip_scalars),
		cmocka_unit_test(test_render_round_trip_extra),
		cmocka_unit_test(test_render_round_trip_bodies),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_filename_bounds),
		cmocka_unit_test(test_edit_unchanged),
		cmocka_unit_test(test_edit_scalars_keep_style),
		cmocka_unit_test(test_edit_lists),
		cmocka_unit_test(test_edit_block_list_comments),
		cmocka_unit_test(test_edit_remove_and_add),
		cmocka_unit_test(test_edit_new_keys_in_render_order),
		cmocka_unit_test(test_edit_extra),
		cmocka_unit_test(test_edit_extra_reorder),
		cmocka_unit_test(test_edit_mirrors),
		cmocka_unit_test(test_edit_body),
		cmocka_unit_test(test_edit_crlf_bom),
		cmocka_unit_test(test_edit_errors),
		cmocka_unit_test(test_edit_explicit_keys),
		cmocka_unit_test(test_reads_back),
		cmocka_unit_test(test_writable),
		cmocka_unit_test(test_edit_hard_strings),
	};
	const struct CMUnitTest corpus_tests[] = {
		cmocka_unit_test(test_corpus_edits),
		cmocka_unit_test(test_corpus_crlf),
		cmocka_unit_test(test_corpus_render_round_trip),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	return failed + cmocka_run_group_tests(corpus_tests, corpus_setup,
					       corpus_teardown);
}
