#include "yamlio.h"

#include <stdarg.h>
#include <stdint.h>
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
	/* the plain frontmatter's events (fast_read), served in order
	 * instead of libyaml's; values in vals */
	struct yev *fast;
	size_t nfast, ifast;
	char *vals;
};

bool yreader_libyaml_only;

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

/*
 * The plain frontmatter most story files hold, read without libyaml's
 * scanner, parser and their allocations (half of the reading threads'
 * time in a first load): lines "key: value" at column 0, each value a
 * plain scalar of letters, digits, " _.-/+" and non-ASCII characters (and
 * ':' not before a space) that starts with a letter, a digit, '.', '/',
 * '_' or a non-ASCII character; a
 * double-quoted one without escapes; a flow sequence of plain words
 * "[A, B]" or "[]"; nothing; a literal block "|" whose lines are each
 * indented by two spaces and not blank; or, on the lines after "key:",
 * a block sequence "  - value" or mapping "  key: value" indented by two
 * (value plain or double-quoted). Anything else, anywhere in the text (a
 * comment that does not start a line or follow a value, a tab, a CR, a
 * blank line, a control character, non-ASCII in a key or before anything
 * but a comment on its line, other quoting, spacing or nesting), and the
 * whole text is libyaml's: the events here are the ones
 * it gives for such a text, marks and all (test_yamlio compares the two
 * on thousands of mutated texts and the fuzz corpus).
 */
static bool key_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static bool word_char(char c)
{
	return alnum(c) || c == '_' || c == '.' || c == '-';
}

/* Inside a block plain scalar, where none of these is an indicator:
 * a title's "(iOS)", "a, b" or "don't". */
static bool plain_char(char c)
{
	return word_char(c) || c == ' ' || c == '/' || c == '+' || c == '(' ||
	       c == ')' || c == ',' || c == '\'';
}

struct fast {
	struct yreader *r;
	const char *t;
	size_t line_start; /* byte offset of the current line */
	unsigned line;     /* its number, as reported */
	size_t cap, vlen;
};

static void fast_ev(struct fast *f, enum yev_type type, enum yaml_style style,
		    size_t begin, size_t end)
{
	struct yreader *r = f->r;
	struct yev *ev;

	r->fast = xgrow(r->fast, &f->cap, r->nfast + 1, sizeof(*r->fast));
	ev = &r->fast[r->nfast++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->style = style;
	ev->begin = begin;
	ev->end = end;
	ev->line = f->line;
	ev->col = (unsigned)(begin - f->line_start) + 1;
}

/* A scalar event whose value is the bytes [from, to) of the text; the
 * value's offset in vals is kept in ev->len until all are read. */
static void fast_scalar(struct fast *f, enum yaml_style style, size_t begin,
			size_t end, size_t from, size_t to)
{
	struct yev *ev;

	fast_ev(f, YEV_SCALAR, style, begin, end);
	ev = &f->r->fast[f->r->nfast - 1];
	ev->value = (const char *)(uintptr_t)f->vlen; /* offset, for now */
	memcpy(f->r->vals + f->vlen, f->t + from, to - from);
	f->vlen += to - from;
	ev->len = to - from;
	f->r->vals[f->vlen++] = '\0';
}

/* After a value that ends at i: the offset past its line's '\n', with a
 * comment (spaces, then '#') before it or none; 0 when anything else
 * follows. */
static size_t line_end(const char *t, size_t i)
{
	if (t[i] == '\n')
		return i + 1;
	while (t[i] == ' ')
		i++;
	if (t[i] != '#' || t[i - 1] != ' ')
		return 0;
	while (t[i] != '\n')
		i++;
	return i + 1;
}

/* Full-line comments at column 0 from i on: the offset of the first line
 * that is none; *n counts them. */
static size_t skip_comments(const char *t, size_t i, size_t len, unsigned *n)
{
	while (i < len && t[i] == '#') {
		while (t[i] != '\n')
			i++;
		i++;
		(*n)++;
	}
	return i;
}

/* The value after "key: " at v, up to and with its line's '\n'; the
 * offset of the next line, or 0 when it is not plain. */
static size_t fast_value(struct fast *f, size_t v, size_t len, bool nested)
{
	const char *t = f->t;
	size_t i = v, end;

	if (t[v] == '"') {
		for (i = v + 1;
		     i < len && t[i] != '"' && t[i] != '\\' && t[i] != '\n';
		     i++)
			;
		if (i + 1 >= len || t[i] != '"')
			return 0;
		fast_scalar(f, YS_DOUBLE, v, i + 1, v + 1, i);
		return line_end(t, i + 1);
	}
	if (t[v] == '[' && !nested) {
		fast_ev(f, YEV_SEQ_START, YS_FLOW_SEQ, v, v + 1);
		i = v + 1;
		while (t[i] != ']') {
			size_t w = i;

			if (!alnum(t[i]))
				return 0;
			while (word_char(t[i]))
				i++;
			fast_scalar(f, YS_PLAIN, w, i, w, i);
			if (t[i] == ',' && t[i + 1] == ' ')
				i += 2;
			else if (t[i] != ']')
				return 0;
		}
		fast_ev(f, YEV_SEQ_END, YS_FLOW_SEQ, i, i + 1);
		return line_end(t, i + 1);
	}
	if (t[v] == '|' && !nested) {
		size_t from = f->vlen;
		struct yev *ev;

		if (t[v + 1] != '\n' || v + 2 >= len || t[v + 2] != ' ')
			return 0;
		fast_ev(f, YEV_SCALAR, YS_LITERAL, v, v);
		for (i = v + 2; i < len && t[i] == ' ';) {
			size_t b = i + 2, e = b;

			if (t[i + 1] != ' ' || t[b] == ' ' || t[b] == '\n')
				return 0;
			while (t[e] != '\n')
				e++;
			memcpy(f->r->vals + f->vlen, t + b, e + 1 - b);
			f->vlen += e + 1 - b;
			i = e + 1;
			f->line++;
		}
		ev = &f->r->fast[f->r->nfast - 1];
		ev->end = i;
		ev->value = (const char *)(uintptr_t)from;
		ev->len = f->vlen - from;
		f->r->vals[f->vlen++] = '\0';
		return i;
	}
	/* non-ASCII (checked UTF-8) too: only a comment may follow it on
	 * its line, whose columns nothing reports */
	if (!alnum(t[v]) && t[v] != '.' && t[v] != '/' && t[v] != '_' &&
	    (unsigned char)t[v] < 0x80)
		return 0;
	/* a ':' not before a space or the line's end is the scalar's */
	while (plain_char(t[i]) || (unsigned char)t[i] >= 0x80 ||
	       (t[i] == ':' && t[i + 1] != ' ' && t[i + 1] != '\n'))
		i++;
	/* its trailing spaces are the comment's after it, if any */
	end = i;
	while (t[end - 1] == ' ')
		end--;
	fast_scalar(f, YS_PLAIN, v, end, v, end);
	return line_end(t, end);
}

/* A collection's end: b = e = the line after it (pos), its column 1. */
static void fast_close(struct fast *f, enum yev_type type,
		       enum yaml_style style, size_t pos)
{
	f->line++;
	f->line_start = pos;
	fast_ev(f, type, style, pos, pos);
	f->line--;
}

/* After "key:\n", at i: a block sequence of "  - value" lines or a block
 * mapping of "  key: value" lines (value plain or double-quoted), indented
 * by two; the offset of the line after it, or 0. */
static size_t fast_nested(struct fast *f, size_t i, size_t len)
{
	const char *t = f->t;
	bool seq = t[i + 2] == '-', first = true;

	for (; i < len && t[i] == ' '; first = false) {
		size_t k = i + 2;

		f->line++;
		f->line_start = i;
		if (t[i + 1] != ' ')
			return 0;
		if (seq) {
			if (t[k] != '-' || t[k + 1] != ' ' || k + 2 >= len)
				return 0;
			if (first)
				fast_ev(f, YEV_SEQ_START, YS_BLOCK_SEQ, k, k);
			i = fast_value(f, k + 2, len, true);
		} else {
			size_t b = k;

			if (!key_start(t[k]))
				return 0;
			while (word_char(t[k]))
				k++;
			if (t[k] != ':' || t[k + 1] != ' ' || k - b > 1000 ||
			    k + 2 >= len)
				return 0;
			if (first)
				fast_ev(f, YEV_MAP_START, YS_BLOCK_MAP, b, b);
			fast_scalar(f, YS_PLAIN, b, k, b, k);
			i = fast_value(f, k + 2, len, true);
		}
		if (!i)
			return 0;
	}
	/* it ends where the next token is, past comments */
	{
		unsigned n = 0;
		size_t at = skip_comments(t, i, len, &n);

		f->line += n;
		fast_close(f, seq ? YEV_SEQ_END : YEV_MAP_END,
			   seq ? YS_BLOCK_SEQ : YS_BLOCK_MAP, at);
		f->line -= n;
	}
	return i;
}

/* The bytes of the character at s when libyaml reads it as a printable
 * one outside a line break, 1 for ASCII; 0 for anything else (the text is
 * then libyaml's): two- and three-byte forms only, no C1 control, no
 * surrogate, U+2028, U+2029, U+FEFF, U+FFFE or U+FFFF. */
static size_t char_len(const unsigned char *s, size_t left)
{
	if (s[0] == '\n' || (s[0] >= 0x20 && s[0] < 0x7F))
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF && left >= 2 &&
	    (s[1] & 0xC0) == 0x80 && (s[0] != 0xC2 || s[1] >= 0xA0))
		return 2;
	if (s[0] < 0xE0 || s[0] > 0xEF || left < 3 || (s[1] & 0xC0) != 0x80 ||
	    (s[2] & 0xC0) != 0x80)
		return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) ||
	    (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) ||
	    (s[0] == 0xEF && s[1] == 0xBF && s[2] >= 0xBE))
		return 0;
	return 3;
}

/* Reads text into r->fast when it is a plain frontmatter; false, with
 * nothing kept, when it is libyaml's to read. */
static bool fast_read(struct yreader *r, const char *t, size_t len)
{
	struct fast f = {.r = r, .t = t, .line = r->line_base};
	size_t i = 0;

	/* a mapping of sequences: libyaml's to refuse when deeper than
	 * max_depth allows */
	if (yreader_libyaml_only || r->max_depth < 2 || !len ||
	    t[len - 1] != '\n')
		return false;
	/* non-ASCII only where nothing follows on its line (a quoted value,
	 * a literal block), as no other scanner here takes it: columns
	 * count bytes */
	for (size_t j = 0, n; j < len; j += n)
		if (!(n = char_len((const unsigned char *)t + j, len - j)))
			return false;
	/* a value is at most its text, plus a NUL a scalar */
	r->vals = xmalloc(2 * len + 1);
	for (;;) {
		size_t k, next;

		i = skip_comments(t, i, len, &f.line);
		if (i == len)
			break;
		k = i;
		f.line_start = i;
		if (!key_start(t[i]))
			goto not_plain;
		/* the document and its mapping start at the first key */
		if (!r->nfast) {
			fast_ev(&f, YEV_DOC_START, YS_PLAIN, i, i);
			fast_ev(&f, YEV_MAP_START, YS_BLOCK_MAP, i, i);
		}
		while (word_char(t[k]))
			k++;
		/* libyaml looks no further than 1024 characters for a key's
		 * ':' */
		if (t[k] != ':' || k - i > 1000)
			goto not_plain;
		fast_scalar(&f, YS_PLAIN, i, k, i, k);
		if (t[k + 1] == '\n' && k + 4 < len && t[k + 2] == ' ') {
			next = fast_nested(&f, k + 2, len);
			if (!next)
				goto not_plain;
		} else if (t[k + 1] == '\n') {
			fast_scalar(&f, YS_PLAIN, k + 1, k + 1, k + 1, k + 1);
			next = k + 2;
		} else if (t[k + 1] == ' ' && k + 2 < len) {
			next = fast_value(&f, k + 2, len, false);
			if (!next)
				goto not_plain;
		} else {
			goto not_plain;
		}
		i = next;
		f.line++;
	}
	if (!r->nfast)
		goto not_plain; /* no key: comments alone */
	f.line_start = len;
	fast_ev(&f, YEV_MAP_END, YS_BLOCK_MAP, len, len);
	fast_ev(&f, YEV_DOC_END, YS_PLAIN, len, len);
	fast_ev(&f, YEV_END, YS_PLAIN, len, len);
	for (size_t j = 0; j < r->nfast; j++)
		if (r->fast[j].type == YEV_SCALAR)
			r->fast[j].value =
				r->vals + (uintptr_t)r->fast[j].value;
	return true;
not_plain:
	free(r->fast);
	free(r->vals);
	r->fast = NULL;
	r->vals = NULL;
	r->nfast = 0;
	return false;
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
	r->max_depth = max_depth;
	r->line_base = line_base;
	if (!r->copy && fast_read(r, text, len)) {
		r->name = xstrdup(name);
		r->text = text;
		r->len = len;
		return r;
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
	if (!r->fast)
		yaml_parser_delete(&r->parser);
	free(r->fast);
	free(r->vals);
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
	if (r->fast) {
		/* the stream's end, again and again, as libyaml gives it */
		*ev = r->fast[r->ifast];
		if (r->ifast + 1 < r->nfast)
			r->ifast++;
		return true;
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

bool yreader_is_fast(const struct yreader *r)
{
	return r->fast != NULL;
}
