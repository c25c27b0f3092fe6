/*
 * libFuzzer target over the parser, the minimal edit and the renderer. For
 * any bytes story_parse accepts: the story rendered into a new file parses
 * back to the same story, and an edit of one field (title, priority,
 * assignees, labels, body) parses back to the edited story (a body with
 * the file's CRLFs), its other fields and mirror keys as they were. A
 * difference aborts, which libFuzzer reports with the input. Built with
 * -Dfuzz=true (clang); see tests/fuzz/README.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../yev_dump.h"
#include "buf.h"
#include "story.h"
#include "yamlio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(bool ok, const char *what, const char *detail)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_story: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	abort();
}

static void same_fields(const struct story *got, const struct story *want,
			const char *what)
{
	for (int f = 0; f < SF_COUNT; f++)
		expect(story_field_equal(got, want, f), what,
		       story_field_names[f]);
}

/* New file: render, then parse, gives the story back. */
static void render_round_trip(const struct story *s)
{
	struct story_doc d;
	struct buf b = BUF_INIT;
	struct err e;

	story_render(s, NULL, &b);
	expect(story_parse(&d, NULL, "T-1-fuzz.md", b.data, b.len, &e),
	       "a rendered story does not parse", e.msg);
	same_fields(&d.s, s, "render then parse changed a field");
	story_doc_finish(&d);
	buf_finish(&b);
}

/* A body as a CRLF file holds it: each LF that is not one already gets
 * its CR. */
static char *crlf_body(const char *s)
{
	struct buf b = BUF_INIT;

	buf_add(&b, "", 0);
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			buf_putc(&b, '\r');
		buf_putc(&b, *p);
	}
	return buf_detach(&b);
}

/* One field edited in place, then parsed: that field changed, no other. */
static void edit_round_trip(const struct story_doc *d, const char *text,
			    size_t len, int f, const char *v)
{
	struct story want = {0};
	struct story_doc got;
	struct buf out = BUF_INIT;
	struct err e;

	story_copy(&want, &d->s);
	story_set(&want, f, v);
	/* the file keeps its mirror keys, as apply has it on first sight */
	story_set(&want, SF_BACKLOG, d->mirror[SM_BACKLOG]);
	story_set(&want, SF_STATUS, d->mirror[SM_STATUS]);
	story_set(&want, SF_EPIC, d->mirror[SM_EPIC]);
	expect(story_edit(d, text, len, &want, &out, &e),
	       "an edit of a parsed story failed", e.msg);
	expect(story_parse(&got, NULL, "T-1-fuzz.md", out.data, out.len, &e),
	       "an edited story does not parse", e.msg);
	for (int m = 0; m < SM_COUNT; m++)
		expect(!d->mirror[m] == !got.mirror[m] &&
			       (!d->mirror[m] ||
				strcmp(d->mirror[m], got.mirror[m]) == 0),
		       "an edit changed a mirror key", NULL);
	story_set(&want, SF_BACKLOG, NULL);
	story_set(&want, SF_STATUS, NULL);
	story_set(&want, SF_EPIC, NULL);
	if (f == SF_BODY && d->crlf) {
		char *body = crlf_body(v);

		story_set(&want, SF_BODY, body);
		free(body);
	}
	same_fields(&got.s, &want, "edit then parse gave another story");
	story_doc_finish(&got);
	story_finish(&want);
	buf_finish(&out);
}

/* The events a reader gives for text: yamlio.c's fast path (when it
 * takes the text) or libyaml. */
static char *yaml_events(const char *text, size_t len, bool libyaml)
{
	struct yreader *r;
	char *dump;

	yreader_libyaml_only = libyaml;
	r = yreader_create_at("t", text, len, 2, STORY_MAX_DEPTH, true);
	yreader_libyaml_only = false;
	dump = yev_dump(r, 100000);
	yreader_destroy(r);
	return dump;
}

/* The plain frontmatter's fast path reads as libyaml does. */
static void fast_path_as_libyaml(const char *text, size_t len)
{
	char *fast = yaml_events(text, len, false);
	char *lib = yaml_events(text, len, true);

	expect(strcmp(fast, lib) == 0,
	       "the fast path's events differ from libyaml's", fast);
	free(fast);
	free(lib);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct story_doc d;
	struct err e;
	const char *text = (const char *)data;

	fast_path_as_libyaml(text, size);
	/* and the frontmatter alone, as story_parse gives it */
	if (size > 4 && memcmp(text, "---\n", 4) == 0) {
		const char *end = memmem(text + 4, size - 4, "\n---", 4);

		if (end)
			fast_path_as_libyaml(text + 4,
					     (size_t)(end + 1 - (text + 4)));
	}
	if (!story_parse(&d, NULL, "T-1-fuzz.md", text, size, &e))
		return 0;
	render_round_trip(&d.s);
	edit_round_trip(&d, text, size, SF_TITLE, "Fuzzed: a \"new\" title");
	edit_round_trip(&d, text, size, SF_PRIORITY, "high");
	edit_round_trip(&d, text, size, SF_ASSIGNEES, "[\"@ana\",\"bo\"]");
	edit_round_trip(&d, text, size, SF_LABELS, "[]");
	/* a block list keeps the items that stay, comments and all */
	edit_round_trip(&d, text, size, SF_LABELS, "[\"x\",\"a\",\"b\"]");
	edit_round_trip(&d, text, size, SF_BODY, "new\nbody\r\n");
	story_doc_finish(&d);
	return 0;
}
