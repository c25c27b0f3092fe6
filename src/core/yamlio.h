#ifndef STORYSYNC_CORE_YAMLIO_H
#define STORYSYNC_CORE_YAMLIO_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "story.h"

/*
 * The only libyaml user: a bounded event reader, one owned event at a time
 * (libcyaml's way). It refuses aliases and nesting deeper than max_depth,
 * and reports libyaml's problems at their position, as "name:line:col: ...".
 * Lines and columns are 1-based and count from line_base/col 1 of the text
 * given, so a frontmatter parsed on its own reports its file's lines.
 */

enum yev_type {
	YEV_DOC_START,
	YEV_DOC_END,
	YEV_MAP_START,
	YEV_MAP_END,
	YEV_SEQ_START,
	YEV_SEQ_END,
	YEV_SCALAR,
	YEV_END, /* end of stream */
};

struct yev {
	enum yev_type type;
	const char *value; /* YEV_SCALAR: the scalar's text, NUL-terminated,
			      valid until the next yreader_next */
	size_t len;
	enum yaml_style style; /* scalar or collection style */
	size_t begin, end;     /* byte offsets in the text given */
	unsigned line, col;    /* 1-based position of begin */
};

struct yreader;

/* A reader over text (len bytes, not owned), named name in messages; line 1
 * of text is reported as line line_base. */
struct yreader *yreader_create(const char *name, const char *text, size_t len,
			       unsigned line_base, unsigned max_depth);
/* yreader_create, reading a plain scalar that starts with '@' (an error
 * to YAML: '@' is reserved) as the text it is, as Backlog.md reads
 * "assignee: @ana", when at_strings is set. */
struct yreader *yreader_create_at(const char *name, const char *text,
				  size_t len, unsigned line_base,
				  unsigned max_depth, bool at_strings);
/* Reads the next event into ev. False with e set on a YAML error, an alias,
 * or nesting deeper than max_depth. */
bool yreader_next(struct yreader *r, struct yev *ev, struct err *e);
/* True when the reader reads its text without libyaml (a plain
 * frontmatter: see yamlio.c); for tests. */
bool yreader_is_fast(const struct yreader *r);
/* Set by tests only: every text goes to libyaml. */
extern bool yreader_libyaml_only;
/* Frees the reader; NULL is fine. */
void yreader_destroy(struct yreader *r);

#endif
