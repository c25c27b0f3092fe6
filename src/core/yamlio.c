#include "yamlio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mem.h"

/*
 * libyaml 0.2.5 counts mark.index in characters, not bytes, so a cursor
 * (a known character index and its byte offset) is walked to each mark.
 * Marks come nearly in order, so the walks add up to one pass over the text.
 */
struct yreader {
	yaml_parser_t parser;
	yaml_event_t event;
	bool have_event;
	bool failed;
	struct err fail;
	char *name;
	const char *text;
	size_t len;
	unsigned line_base;
	unsigned max_depth;
	unsigned depth;
	unsigned char *styles; /* style of each open collection */
	size_t cur_char, cur_byte;
	/* at_strings: the text parsed, each '@' that starts a plain scalar
	 * made a letter (sorted offsets in at), and the scalar's value with
	 * its '@' back */
	char *copy;
	size_t *at, nat;
	char *value;
};

/* The letter an '@' that starts a plain scalar is parsed as. */
#define AT_STAND_IN 'x'

/* The offsets of the plain scalars' starts in text, sorted, until the
 * end or the first error. */
static size_t *plain_starts(const char *text, size_t len, unsigned depth,
			    size_t *n)
{
	struct yreader *r = yreader_create("", text, len, 1, depth);
	size_t *v = NULL, cap = 0;
	struct yev ev;

	*n = 0;
	while (yreader_next(r, &ev, NULL) && ev.type != YEV_END)
		if (ev.type == YEV_SCALAR && ev.style == YS_PLAIN) {
			v = xgrow(v, &cap, *n + 1, sizeof(*v));
			v[(*n)++] = ev.begin;
		}
	yreader_destroy(r);
	return v;
}

static bool holds(const size_t *v, size_t n, size_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] == x)
			return true;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Each '@' that may start a token becomes a letter in a copy of the
 * text; a first pass finds which of them start a plain scalar, the
 * others (in quotes, a comment, a block scalar) are put back. A letter
 * for '@' makes nothing but a plain scalar out of what was an error, so
 * the second pass reads the same tokens as the first. */
static void stand_in_ats(struct yreader *r, const char *text, size_t len,
			 unsigned depth)
{
	size_t *starts, nstarts, cap = 0, kept = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '@' || (i && !strchr(" \t\n[{,", text[i - 1])))
			continue;
		if (!r->copy) {
			r->copy = xmalloc(len + 1);
			memcpy(r->copy, text, len);
			r->copy[len] = '\0';
		}
		r->copy[i] = AT_STAND_IN;
		r->at = xgrow(r->at, &cap, r->nat + 1, sizeof(*r->at));
		r->at[r->nat++] = i;
	}
	if (!r->copy)
		return;
	starts = plain_starts(r->copy, len, depth, &nstarts);
	for (size_t i = 0; i < r->nat; i++) {
		if (holds(starts, nstarts, r->at[i]))
			r->at[kept++] = r->at[i];
		else
			r->copy[r->at[i]] = '@';
	}
	r->nat = kept;
	free(starts);
}

struct yreader *yreader_create(const char *name, const char *text, size_t len,
			       unsigned line_base, unsigned max_depth)
{
	return yreader_create_at(name, text, len, line_base, max_depth, false);
}

struct yreader *yreader_create_at(const char *name, const char *text,
				  size_t len, unsigned line_base,
				  unsigned max_depth, bool at_strings)
{
	struct yreader *r = xcalloc(1, sizeof(*r));

	if (at_strings && memchr(text, '@', len)) {
		stand_in_ats(r, text, len, max_depth);
		if (r->copy)
			text = r->copy;
	}

	if (!yaml_parser_initialize(&r->parser))
		abort(); /* only fails when out of memory */
	yaml_parser_set_input_string(&r->parser, (const unsigned char *)text,
				     len);
	yaml_parser_set_encoding(&r->parser, YAML_UTF8_ENCODING);
	r->name = xstrdup(name);
	r->text = text;
	r->len = len;
	r->line_base = line_base;
	r->max_depth = max_depth;
	r->styles = xmalloc((size_t)max_depth + 1);
	return r;
}

void yreader_destroy(struct yreader *r)
{
	if (!r)
		return;
	if (r->have_event)
		yaml_event_delete(&r->event);
	yaml_parser_delete(&r->parser);
	free(r->value);
	free(r->at);
	free(r->copy);
	free(r->styles);
	free(r->name);
	free(r);
}

static bool is_cont(const struct yreader *r, size_t i)
{
	return ((unsigned char)r->text[i] & 0xC0) == 0x80;
}

static size_t byte_of(struct yreader *r, size_t ci)
{
	while (r->cur_char < ci && r->cur_byte < r->len) {
		r->cur_byte++;
		while (r->cur_byte < r->len && is_cont(r, r->cur_byte))
			r->cur_byte++;
		r->cur_char++;
	}
	while (r->cur_char > ci && r->cur_byte > 0) {
		r->cur_byte--;
		while (r->cur_byte > 0 && is_cont(r, r->cur_byte))
			r->cur_byte--;
		r->cur_char--;
	}
	return r->cur_byte;
}

static bool fail(struct yreader *r, struct err *e, unsigned line, unsigned col,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static bool fail(struct yreader *r, struct err *e, unsigned line, unsigned col,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(&r->fail, r->name, line, col, fmt, ap);
	va_end(ap);
	r->failed = true;
	if (e)
		*e = r->fail;
	return false;
}

static bool fail_at(struct yreader *r, struct err *e, yaml_mark_t m,
		    const char *what)
{
	return fail(r, e, (unsigned)m.line + r->line_base,
		    (unsigned)m.column + 1, "%s", what);
}

/* A reader error has a byte offset, not a mark. */
static bool fail_at_offset(struct yreader *r, struct err *e, size_t off,
			   const char *what)
{
	unsigned line = r->line_base, col = 1;

	for (size_t i = 0; i < off && i < r->len; i++) {
		if (r->text[i] == '\n') {
			line++;
			col = 1;
		} else if (!is_cont(r, i)) {
			col++;
		}
	}
	return fail(r, e, line, col, "%s", what);
}

static bool parser_error(struct yreader *r, struct err *e)
{
	yaml_parser_t *p = &r->parser;
	const char *what = p->problem ? p->problem : "invalid YAML";

	if (p->error == YAML_MEMORY_ERROR)
		abort(); /* as xmalloc does */
	if (p->error == YAML_READER_ERROR)
		return fail_at_offset(r, e, p->problem_offset, what);
	return fail_at(r, e, p->problem_mark, what);
}

static void set_span(struct yreader *r, struct yev *ev)
{
	yaml_event_t *y = &r->event;

	ev->begin = byte_of(r, y->start_mark.index);
	ev->end = byte_of(r, y->end_mark.index);
	ev->line = (unsigned)y->start_mark.line + r->line_base;
	ev->col = (unsigned)y->start_mark.column + 1;
}

static enum yaml_style scalar_style(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE: return YS_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return YS_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE: return YS_LITERAL;
	case YAML_FOLDED_SCALAR_STYLE: return YS_FOLDED;
	default: return YS_PLAIN;
	}
}

static bool open_collection(struct yreader *r, struct yev *ev,
			    enum yaml_style style, struct err *e)
{
	if (r->depth >= r->max_depth) {
		char what[64];

		snprintf(what, sizeof(what), "nesting deeper than %u levels",
			 r->max_depth);
		return fail_at(r, e, r->event.start_mark, what);
	}
	r->styles[r->depth++] = (unsigned char)style;
	ev->style = style;
	return true;
}

static void close_collection(struct yreader *r, struct yev *ev)
{
	if (r->depth > 0)
		r->depth--;
	ev->style = (enum yaml_style)r->styles[r->depth];
}

/*
 * The text was checked for control characters before it was parsed; the
 * escapes of a double-quoted scalar make new ones, which the renderer
 * writes back as escapes, all but U+0000 ("\0", "\x00", "\u0000"): no C
 * string holds it, and the value would be cut short there.
 */
static bool escaped_nul(struct yreader *r, const yaml_event_t *y, struct err *e)
{
	if (strlen((const char *)y->data.scalar.value) == y->data.scalar.length)
		return false;
	fail(r, e, (unsigned)y->start_mark.line + r->line_base,
	     (unsigned)y->start_mark.column + 1,
	     "control character U+0000 in a quoted value");
	return true;
}

static bool convert(struct yreader *r, struct yev *ev, struct err *e)
{
	yaml_event_t *y = &r->event;

	switch (y->type) {
	case YAML_DOCUMENT_START_EVENT: ev->type = YEV_DOC_START; break;
	case YAML_DOCUMENT_END_EVENT: ev->type = YEV_DOC_END; break;
	case YAML_STREAM_END_EVENT:
	case YAML_NO_EVENT: ev->type = YEV_END; break;
	case YAML_STREAM_START_EVENT: break; /* skipped by the caller */
	case YAML_ALIAS_EVENT:
		return fail_at(r, e, y->start_mark,
			       "YAML aliases are not allowed");
	case YAML_SCALAR_EVENT:
		if (escaped_nul(r, y, e))
			return false;
		ev->type = YEV_SCALAR;
		ev->value = (const char *)y->data.scalar.value;
		ev->len = y->data.scalar.length;
		ev->style = scalar_style(y->data.scalar.style);
		if (r->nat && ev->style == YS_PLAIN && ev->len &&
		    holds(r->at, r->nat, ev->begin)) {
			free(r->value);
			r->value = xstrndup(ev->value, ev->len);
			r->value[0] = '@';
			ev->value = r->value;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
		ev->type = YEV_SEQ_START;
		return open_collection(r, ev,
				       y->data.sequence_start.style ==
						       YAML_FLOW_SEQUENCE_STYLE
					       ? YS_FLOW_SEQ
					       : YS_BLOCK_SEQ,
				       e);
	case YAML_MAPPING_START_EVENT:
		ev->type = YEV_MAP_START;
		return open_collection(r, ev,
				       y->data.mapping_start.style ==
						       YAML_FLOW_MAPPING_STYLE
					       ? YS_FLOW_MAP
					       : YS_BLOCK_MAP,
				       e);
	case YAML_SEQUENCE_END_EVENT:
		ev->type = YEV_SEQ_END;
		close_collection(r, ev);
		break;
	case YAML_MAPPING_END_EVENT:
		ev->type = YEV_MAP_END;
		close_collection(r, ev);
		break;
	}
	return true;
}

bool yreader_next(struct yreader *r, struct yev *ev, struct err *e)
{
	if (r->failed) {
		if (e)
			*e = r->fail;
		return false;
	}
	do {
		if (r->have_event) {
			yaml_event_delete(&r->event);
			r->have_event = false;
		}
		if (!yaml_parser_parse(&r->parser, &r->event))
			return parser_error(r, e);
		r->have_event = true;
	} while (r->event.type == YAML_STREAM_START_EVENT);
	memset(ev, 0, sizeof(*ev));
	set_span(r, ev);
	return convert(r, ev, e);
}
