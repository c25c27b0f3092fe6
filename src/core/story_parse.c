/*
 * story_parse: a story file's bytes -> struct story_doc (fields + layout).
 *
 * Framing. An optional UTF-8 BOM, then a line "---"; the frontmatter ends at
 * the next line "---". Both delimiter lines may carry trailing spaces or
 * tabs (editors leave them; YAML ignores them) and end in LF or CRLF; the
 * closing one may also end the file. crlf follows the opening line's break.
 * The body is everything after the closing line, as it is (CRLFs too).
 *
 * Positions. Every message is "path:line:col: message", lines and columns
 * 1-based in the file; columns count characters (code points), and the BOM
 * is not one, so it never shifts a column. Whole-file problems that have no
 * better place are reported at 1:1.
 *
 * Conflict markers. A line starting with "<<<<<<<" or ">>>>>>>" followed by
 * a space or the line's end is a marker. A line "=======" alone is not one:
 * it is a Markdown setext heading underline, and inside a real conflict the
 * "<<<<<<<" line before it is reported first.
 *
 * Values. Scalars of the text fields keep their text; a plain empty, "~" or
 * "null" value leaves the field NULL (likewise for the mirror keys).
 * "labels:" with no value gives NULL, "labels: []" gives "[]". depends_on
 * takes a list of ids or a single id; it is sorted and made unique, NULL when
 * empty. Keys with no column go to extra, converted as YAML's core schema
 * resolves plain scalars: null, booleans, and numbers written as valid JSON
 * numbers become JSON null/bool/number; everything else is a string.
 *
 * The messages ("path:line:col: " omitted):
 *   empty file
 *   invalid UTF-8
 *   control character U+XXXX
 *   git conflict marker
 *   no frontmatter: the file must start with '---'
 *   frontmatter not closed by '---'
 *   frontmatter larger than 64 KiB
 *   frontmatter is not a mapping
 *   frontmatter must be a block mapping
 *   frontmatter holds more than one document
 *   key must be a plain or quoted scalar
 *   a carriage return without a line feed
 *   empty key
 *   duplicate key 'K'
 *   'K' must be a scalar
 *   'title' must not be empty
 *   'points' must be an integer
 *   'labels' must be a list of strings
 *   'depends_on' must be a list of ids
 *   invalid id 'X'
 *   invalid id 'X' in 'depends_on'
 *   invalid id 'X' in 'parent'
 *   mapping key must be a scalar
 *   missing required key 'title'
 *   no id: add an 'id:' key or name the file <ID>-<slug>.md
 * and from yamlio: "YAML aliases are not allowed", "nesting deeper than 64
 * levels", or libyaml's own problem text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "mem.h"
#include "story.h"
#include "yamlio.h"

#define ID_MAX 64
/* keys checked for duplicates pair by pair, up to this many */
#define DUP_PAIRS_MAX 24

struct parse {
	struct story_doc *d;
	const struct story_dialect *dl;
	const char *path;
	const char *text;
	size_t len;
	const char *fm; /* the frontmatter: text + d->fm_begin */
	size_t fmlen;
	struct yreader *r;
	struct yev ev;
	size_t last_end; /* in fm: end of the current value's last token */
	size_t cap;      /* of d->keys */
	struct buf extra;
	struct err *e;
};

static bool ev_err(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool ev_err(struct parse *p, const char *fmt, ...)
{
	char what[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_at(p->e, p->path, p->ev.line, p->ev.col, "%s", what);
}

/* Line and column of byte off of the file (error paths only). */
static void pos_at(const char *t, size_t off, size_t start, unsigned *line,
		   unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = start; i < off; i++) {
		if (t[i] == '\n') {
			++*line;
			*col = 1;
		} else if (((unsigned char)t[i] & 0xC0) != 0x80) {
			++*col;
		}
	}
}

/* ---- whole-file checks ---- */

static size_t utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t need;
	unsigned long v, min;

	if (s[0] < 0xC2 || s[0] > 0xF4)
		return 0;
	if (s[0] < 0xE0) {
		need = 2, v = s[0] & 0x1F, min = 0x80;
	} else if (s[0] < 0xF0) {
		need = 3, v = s[0] & 0x0F, min = 0x800;
	} else {
		need = 4, v = s[0] & 0x07, min = 0x10000;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return need;
}

static bool is_marker(const char *s, size_t n)
{
	if (n < 7 || (memcmp(s, "<<<<<<<", 7) && memcmp(s, ">>>>>>>", 7)))
		return false;
	return n == 7 || s[7] == ' ' || s[7] == '\n' || s[7] == '\r';
}

static bool is_control(unsigned long cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') ||
	       (cp >= 0x7F && cp <= 0x9F);
}

/* The end of the run of printable ASCII (0x20-0x7E) from i: eight bytes a
 * step while no byte of the word is below 0x20 or above 0x7E (the two
 * tests of "Bit Twiddling Hacks" hasless and hasmore, exact for any byte
 * value), then byte by byte. A byte at a time was a tenth of a reading
 * thread's time: every story file is checked whole. */
static size_t printable_run(const unsigned char *u, size_t len, size_t i)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t high = UINT64_C(0x8080808080808080);

	while (len - i >= 8) {
		uint64_t w;

		memcpy(&w, u + i, 8);
		if (((w - ones * 0x20) & ~w & high) ||
		    (((w + ones * (127 - 0x7E)) | w) & high))
			break;
		i += 8;
	}
	while (i < len && u[i] >= 0x20 && u[i] < 0x7F)
		i++;
	return i;
}

/* The length of the run of ASCII bytes (below 0x80) that s starts with. */
static size_t ascii_run(const char *s, size_t n)
{
	const uint64_t high = UINT64_C(0x8080808080808080);
	size_t i = 0;
	uint64_t w;

	while (n - i >= 8) {
		memcpy(&w, s + i, 8);
		if (w & high)
			break;
		i += 8;
	}
	while (i < n && !((unsigned char)s[i] & 0x80))
		i++;
	return i;
}

static bool check_text(const char *path, const char *t, size_t len,
		       size_t start, struct err *e)
{
	const unsigned char *u = (const unsigned char *)t;
	unsigned line = 1, col = 1;
	bool bol = true;
	size_t i = start, n;

	while (i < len) {
		unsigned long cp;

		/* the common case: printable ASCII inside a line */
		if (!bol) {
			size_t j = printable_run(u, len, i);

			col += (unsigned)(j - i);
			i = j;
			if (i == len)
				break;
		}
		cp = u[i];
		if (bol && is_marker(t + i, len - i))
			return err_at(e, path, line, 1, "git conflict marker");
		bol = cp == '\n';
		n = 1;
		if (cp >= 0x80 && !(n = utf8_seq(u + i, len - i, &cp)))
			return err_at(e, path, line, col, "invalid UTF-8");
		if (is_control(cp))
			return err_at(e, path, line, col,
				      "control character U+%04lX", cp);
		if (cp == '\n') {
			line++;
			col = 0;
		}
		i += n;
		col++;
	}
	return true;
}

/* ---- framing ---- */

/* Length of a delimiter line "---" at i, line break included, or 0. */
static size_t delim_line(const char *t, size_t len, size_t i)
{
	size_t j = i + 3;

	if (len - i < 3 || memcmp(t + i, "---", 3) != 0)
		return 0;
	while (j < len && (t[j] == ' ' || t[j] == '\t'))
		j++;
	if (j == len)
		return j - i;
	if (t[j] == '\n')
		return j + 1 - i;
	if (t[j] == '\r' && j + 1 < len && t[j + 1] == '\n')
		return j + 2 - i;
	return 0;
}

static bool frame(struct parse *p)
{
	struct story_doc *d = p->d;
	const char *t = p->text;
	size_t start = d->bom ? 3 : 0, n, i, limit;

	n = delim_line(t, p->len, start);
	if (!n)
		return err_at(p->e, p->path, 1, 1,
			      "no frontmatter: the file must start with '---'");
	d->crlf =
		n >= 2 && t[start + n - 1] == '\n' && t[start + n - 2] == '\r';
	i = d->fm_begin = start + n;
	limit = d->fm_begin + STORY_MAX_FRONTMATTER;
	while (i < p->len && i <= limit) {
		const char *nl;

		n = delim_line(t, p->len, i);
		if (n) {
			d->fm_end = i;
			d->body_begin = i + n;
			return true;
		}
		/* a line past the limit is not looked for */
		nl = memchr(t + i, '\n',
			    (p->len < limit + 1 ? p->len : limit + 1) - i);
		if (!nl)
			break;
		i = (size_t)(nl - t) + 1;
	}
	if (p->len > limit)
		return err_at(p->e, p->path, 1, 1,
			      "frontmatter larger than 64 KiB");
	return err_at(p->e, p->path, 1, 1, "frontmatter not closed by '---'");
}

/* The body as it is in the file, a CRLF file's CRLFs included: the row
 * holds what the file holds, and whatever it holds is written back the
 * same. */
static char *body_text(const char *s, size_t n)
{
	char *body = xmalloc(n + 1); /* one allocation: a buf grew by steps */

	memcpy(body, s, n);
	body[n] = '\0';
	return body;
}

/* ---- ids ---- */

static bool is_upper_digit(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool id_valid(const char *s, size_t n)
{
	if (n == 0 || n > ID_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!is_upper_digit(c) && !(c >= 'a' && c <= 'z') && c != '.' &&
		    c != '_' && c != '-')
			return false;
	}
	return true;
}

bool story_id_valid(const char *id)
{
	return id && id_valid(id, strlen(id));
}

char *story_id_from_filename(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n, i = 1;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n >= 3 && strcmp(base + n - 3, ".md") == 0)
		n -= 3;
	if (n == 0 || base[0] < 'A' || base[0] > 'Z')
		return NULL;
	for (;;) {
		while (i < n && is_upper_digit(base[i]))
			i++;
		if (i + 1 < n && base[i] == '-' && is_upper_digit(base[i + 1]))
			i++;
		else
			break;
	}
	if (i == n || (base[i] == '-' && i + 1 < n && base[i + 1] >= 'a' &&
		       base[i + 1] <= 'z'))
		return xstrndup(base, i);
	return NULL;
}

/* ---- ids from a file name template ---- */

/* A piece of a file name template: text as it is, the id, or any text
 * ({slug}, {title}). */
struct seg {
	enum { SEG_TEXT, SEG_ID, SEG_ANY } kind;
	const char *s;
	size_t n;
};

#define SEG_MAX 16

/* The template's pieces; false when it has more than SEG_MAX, or not one
 * id: then it is not read. */
static bool template_segs(const char *t, struct seg *v, size_t *n)
{
	size_t ids = 0;

	*n = 0;
	while (*t) {
		static const struct {
			const char *token;
			int kind;
		} tokens[] = {{"{id}", SEG_ID},
			      {"{id:lower}", SEG_ID},
			      {"{slug}", SEG_ANY},
			      {"{title}", SEG_ANY}};
		size_t i = 0, len;

		while (i < 4 && strncmp(t, tokens[i].token,
					strlen(tokens[i].token)) != 0)
			i++;
		if (*n == SEG_MAX)
			return false;
		if (i < 4) {
			len = strlen(tokens[i].token);
			v[*n] = (struct seg){tokens[i].kind, t, len};
			ids += tokens[i].kind == SEG_ID;
		} else if (*n && v[*n - 1].kind == SEG_TEXT &&
			   v[*n - 1].s + v[*n - 1].n == t) {
			v[*n - 1].n++; /* the text goes on */
			t++;
			continue;
		} else {
			len = 1;
			v[*n] = (struct seg){SEG_TEXT, t, 1};
		}
		t += len;
		++*n;
	}
	return ids == 1;
}

static bool id_char(char c)
{
	return is_upper_digit(c) || (c >= 'a' && c <= 'z') || c == '.' ||
	       c == '_' || c == '-';
}

/* What matching a name against a template's pieces needs. */
struct name_match {
	const struct seg *v;
	size_t nv;
	const char *name;
	size_t len;
	unsigned char *memo; /* [piece * (len + 1) + pos]: 1 fails */
	size_t id_begin, id_end;
};

/* True when the name from pos matches the pieces from i. A text piece
 * before a {slug} or {title} may be left out with it, as story_filename
 * leaves it out when the token gives nothing ("{id}-{slug}.md" of an
 * untitled story is "{id}.md"); the id is the shortest that lets the
 * rest match. */
static bool match_from(struct name_match *m, size_t i, size_t pos)
{
	unsigned char *memo = &m->memo[i * (m->len + 1) + pos];
	const struct seg *g = &m->v[i];

	if (i == m->nv)
		return pos == m->len;
	if (*memo)
		return false;
	switch (g->kind) {
	case SEG_TEXT:
		if (m->len - pos >= g->n &&
		    memcmp(m->name + pos, g->s, g->n) == 0 &&
		    match_from(m, i + 1, pos + g->n))
			return true;
		if (i + 1 < m->nv && m->v[i + 1].kind == SEG_ANY &&
		    match_from(m, i + 2, pos))
			return true;
		break;
	case SEG_ANY:
		for (size_t k = pos; k <= m->len; k++)
			if (match_from(m, i + 1, k))
				return true;
		break;
	case SEG_ID:
		for (size_t k = pos; k < m->len && id_char(m->name[k]); k++)
			if (match_from(m, i + 1, k + 1)) {
				m->id_begin = pos;
				m->id_end = k + 1;
				return true;
			}
		break;
	}
	*memo = 1;
	return false;
}

/* The id the template reads in a file name, or NULL. */
static char *id_from_template(const char *tpl, const char *name)
{
	struct seg v[SEG_MAX];
	struct name_match m = {.v = v, .name = name, .len = strlen(name)};
	char *id = NULL;

	if (!template_segs(tpl, v, &m.nv) || m.len > 1024)
		return NULL;
	m.memo = xcalloc((m.nv + 1) * (m.len + 1), 1);
	if (match_from(&m, 0, 0) &&
	    id_valid(name + m.id_begin, m.id_end - m.id_begin))
		id = xstrndup(name + m.id_begin, m.id_end - m.id_begin);
	free(m.memo);
	return id;
}

char *story_id_from_name(const struct story_dialect *dl, const char *path)
{
	const char *base = strrchr(path, '/');
	char *id = NULL;

	if (dl && dl->id_template)
		id = id_from_template(dl->id_template, base ? base + 1 : path);
	return id ? id : story_id_from_filename(path);
}

bool story_template_readable(const char *tpl)
{
	struct seg v[SEG_MAX];
	size_t n;

	return template_segs(tpl, v, &n);
}

/* ---- YAML values ---- */

static bool is_null(const struct yev *ev)
{
	const char *v = ev->value;

	if (ev->style != YS_PLAIN)
		return false;
	return ev->len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *plain_bool(const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return "true";
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return "false";
	return NULL;
}

static size_t digits(const char *s, size_t i, size_t n)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

static bool is_json_number(const char *s, size_t n)
{
	size_t i = 0, k;

	if (i < n && s[i] == '-')
		i++;
	if (i == n || s[i] < '0' || s[i] > '9')
		return false;
	i = s[i] == '0' ? i + 1 : digits(s, i, n);
	if (i < n && s[i] == '.') {
		k = i + 1;
		if ((i = digits(s, k, n)) == k)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		k = i;
		if ((i = digits(s, k, n)) == k)
			return false;
	}
	return i == n;
}

static void put_scalar(struct buf *b, const struct yev *ev)
{
	const char *word;

	if (ev->style != YS_PLAIN)
		json_put_string(b, ev->value, ev->len);
	else if (is_null(ev))
		buf_puts(b, "null");
	else if ((word = plain_bool(ev->value)))
		buf_puts(b, word);
	else if (is_json_number(ev->value, ev->len))
		buf_add(b, ev->value, ev->len);
	else
		json_put_string(b, ev->value, ev->len);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Keeps last_end at the end of the value's last scalar or flow collection;
 * block collections end where the next token starts, which is not theirs. */
static void track(struct parse *p)
{
	const struct yev *ev = &p->ev;
	size_t end = ev->end;

	if (ev->type == YEV_SCALAR) {
		/* a block scalar's token runs over its trailing breaks */
		if (ev->style == YS_LITERAL || ev->style == YS_FOLDED)
			while (end > ev->begin + 1 && is_space(p->fm[end - 1]))
				end--;
	} else if (!((ev->type == YEV_SEQ_END || ev->type == YEV_MAP_END) &&
		     (ev->style == YS_FLOW_SEQ || ev->style == YS_FLOW_MAP))) {
		return;
	}
	if (end > p->last_end)
		p->last_end = end;
}

static bool next(struct parse *p)
{
	if (!yreader_next(p->r, &p->ev, p->e))
		return false;
	track(p);
	return true;
}

static bool put_json(struct parse *p, struct buf *b);

static bool put_seq(struct parse *p, struct buf *b)
{
	buf_putc(b, '[');
	for (size_t n = 0;; n++) {
		if (!next(p))
			return false;
		if (p->ev.type == YEV_SEQ_END)
			break;
		if (n)
			buf_putc(b, ',');
		if (!put_json(p, b))
			return false;
	}
	buf_putc(b, ']');
	return true;
}

static bool put_map(struct parse *p, struct buf *b)
{
	buf_putc(b, '{');
	for (size_t n = 0;; n++) {
		if (!next(p))
			return false;
		if (p->ev.type == YEV_MAP_END)
			break;
		if (p->ev.type != YEV_SCALAR)
			return ev_err(p, "mapping key must be a scalar");
		if (n)
			buf_putc(b, ',');
		json_put_string(b, p->ev.value, p->ev.len);
		buf_putc(b, ':');
		if (!next(p) || !put_json(p, b))
			return false;
	}
	buf_putc(b, '}');
	return true;
}

/* Appends the value that starts with the current event as JSON. */
static bool put_json(struct parse *p, struct buf *b)
{
	switch (p->ev.type) {
	case YEV_SCALAR: put_scalar(b, &p->ev); return true;
	case YEV_SEQ_START: return put_seq(p, b);
	case YEV_MAP_START: return put_map(p, b);
	default: return ev_err(p, "invalid YAML");
	}
}

/* ---- known keys ---- */

/* The frontmatter key of field f in this tree. */
static const char *key_name(const struct parse *p, int f)
{
	return p->dl->key[f] ? p->dl->key[f] : story_field_names[f];
}

static void set_field(struct parse *p, int f, char *value)
{
	char **slot;

	switch (f) {
	case SF_BACKLOG: slot = &p->d->mirror[SM_BACKLOG]; break;
	case SF_STATUS:
		slot = p->dl->status_from_key ? &p->d->s.v[SF_STATUS]
					      : &p->d->mirror[SM_STATUS];
		break;
	case SF_EPIC: slot = &p->d->mirror[SM_EPIC]; break;
	default: slot = &p->d->s.v[f]; break;
	}
	free(*slot);
	*slot = value;
}

/* A status key's value against the tree's list, when it keeps one. */
static bool status_allowed(const struct story_dialect *dl, const struct yev *ev)
{
	if (!dl->status_from_key || !dl->statuses || is_null(ev))
		return true;
	for (size_t i = 0; i < dl->nstatuses; i++)
		if (strlen(dl->statuses[i]) == ev->len &&
		    memcmp(dl->statuses[i], ev->value, ev->len) == 0)
			return true;
	return false;
}

static bool parse_scalar_field(struct parse *p, int f)
{
	const struct yev *ev = &p->ev;
	const char *name = key_name(p, f);

	if (ev->type != YEV_SCALAR)
		return ev_err(p, "'%s' must be a scalar", name);
	if (f == SF_STATUS && !status_allowed(p->dl, ev))
		return ev_err(p,
			      "status '%s' is not one of the configured "
			      "statuses",
			      ev->value);
	if (f == SF_ID) {
		p->d->has_id_key = true;
		if (!id_valid(ev->value, ev->len))
			return ev_err(p, "invalid id '%s'", ev->value);
	}
	if (f == SF_TITLE && (is_null(ev) || ev->len == 0))
		return ev_err(p, "'title' must not be empty");
	set_field(p, f, is_null(ev) ? NULL : xstrndup(ev->value, ev->len));
	return true;
}

static bool parse_points(struct parse *p)
{
	const struct yev *ev = &p->ev;
	const char *v = ev->value;
	size_t i = 0;
	long long n;

	if (ev->type == YEV_SCALAR && is_null(ev)) {
		set_field(p, SF_POINTS, NULL);
		return true;
	}
	if (ev->type != YEV_SCALAR || ev->style != YS_PLAIN)
		return ev_err(p, "'points' must be an integer");
	if (v[0] == '-' || v[0] == '+')
		i++;
	if (digits(v, i, ev->len) != ev->len || i == ev->len)
		return ev_err(p, "'points' must be an integer");
	errno = 0;
	n = strtoll(v, NULL, 10);
	if (errno)
		return ev_err(p, "'points' must be an integer");
	set_field(p, SF_POINTS, xasprintf("%lld", n));
	return true;
}

/* A list of strings as a JSON array; an assignee may also be one
 * scalar, which is a list of one. */
static bool parse_strings(struct parse *p, int f)
{
	struct buf b = BUF_INIT;
	const char *name = key_name(p, f);

	if (p->ev.type == YEV_SCALAR && is_null(&p->ev)) {
		set_field(p, f, NULL);
		return true;
	}
	if (p->ev.type != YEV_SEQ_START &&
	    !(f == SF_ASSIGNEES && p->ev.type == YEV_SCALAR))
		return ev_err(p, "'%s' must be a list of strings", name);
	buf_putc(&b, '[');
	if (p->ev.type == YEV_SCALAR) {
		json_put_string(&b, p->ev.value, p->ev.len);
		goto done;
	}
	for (size_t n = 0;; n++) {
		if (!next(p))
			goto fail;
		if (p->ev.type == YEV_SEQ_END)
			break;
		if (p->ev.type != YEV_SCALAR) {
			ev_err(p, "'%s' must be a list of strings", name);
			goto fail;
		}
		if (n)
			buf_putc(&b, ',');
		json_put_string(&b, p->ev.value, p->ev.len);
	}
done:
	buf_putc(&b, ']');
	set_field(p, f, buf_detach(&b));
	return true;
fail:
	buf_finish(&b);
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_dep(struct parse *p, char ***ids, size_t *n, size_t *cap)
{
	if (!id_valid(p->ev.value, p->ev.len))
		return ev_err(p, "invalid id '%s' in '%s'", p->ev.value,
			      key_name(p, SF_DEPENDS_ON));
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*ids = xreallocarray(*ids, *cap, sizeof(**ids));
	}
	(*ids)[(*n)++] = xstrndup(p->ev.value, p->ev.len);
	return true;
}

static bool read_deps(struct parse *p, char ***ids, size_t *n, size_t *cap)
{
	if (p->ev.type == YEV_SCALAR)
		return is_null(&p->ev) || add_dep(p, ids, n, cap);
	if (p->ev.type != YEV_SEQ_START)
		return ev_err(p, "'%s' must be a list of ids",
			      key_name(p, SF_DEPENDS_ON));
	for (;;) {
		if (!next(p))
			return false;
		if (p->ev.type == YEV_SEQ_END)
			return true;
		if (p->ev.type != YEV_SCALAR)
			return ev_err(p, "'%s' must be a list of ids",
				      key_name(p, SF_DEPENDS_ON));
		if (!add_dep(p, ids, n, cap))
			return false;
	}
}

static bool parse_depends(struct parse *p)
{
	char **ids = NULL;
	size_t n = 0, cap = 0, u = 0;
	bool ok = read_deps(p, &ids, &n, &cap);

	if (ok && n) {
		qsort(ids, n, sizeof(*ids), cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (u && strcmp(ids[u - 1], ids[i]) == 0)
				free(ids[i]);
			else
				ids[u++] = ids[i];
		}
		n = u;
		set_field(p, SF_DEPENDS_ON, json_string_array(ids, n));
	} else if (ok) {
		set_field(p, SF_DEPENDS_ON, NULL);
	}
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return ok;
}

/* A parent: one id, or none (null or empty). */
static bool parse_parent(struct parse *p)
{
	const struct yev *ev = &p->ev;

	if (ev->type != YEV_SCALAR)
		return ev_err(p, "'%s' must be a scalar",
			      key_name(p, SF_PARENT));
	if (is_null(ev) || ev->len == 0) {
		set_field(p, SF_PARENT, NULL);
		return true;
	}
	if (!id_valid(ev->value, ev->len))
		return ev_err(p, "invalid id '%s' in '%s'", ev->value,
			      key_name(p, SF_PARENT));
	set_field(p, SF_PARENT, xstrndup(ev->value, ev->len));
	return true;
}

static bool put_extra(struct parse *p, const char *name)
{
	buf_putc(&p->extra, p->extra.len ? ',' : '{');
	json_put_string(&p->extra, name, strlen(name));
	buf_putc(&p->extra, ':');
	return put_json(p, &p->extra);
}

static bool parse_value(struct parse *p, const struct fm_key *k)
{
	switch (k->field) {
	case -1: return put_extra(p, k->name);
	case SF_POINTS: return parse_points(p);
	case SF_LABELS:
	case SF_ASSIGNEES: return parse_strings(p, k->field);
	case SF_DEPENDS_ON: return parse_depends(p);
	case SF_PARENT: return parse_parent(p);
	default: return parse_scalar_field(p, k->field);
	}
}

/* ---- top-level keys ---- */

static size_t line_start(const char *s, size_t off)
{
	while (off > 0 && s[off - 1] != '\n')
		off--;
	return off;
}

static size_t line_after(const struct parse *p, size_t off)
{
	const char *nl = memchr(p->fm + off, '\n', p->fmlen - off);

	return nl ? (size_t)(nl - p->fm) + 1 : p->fmlen;
}

/* The line an entry starts on. libyaml places a key at its scalar, but an
 * explicit key's '?' may stand lines above it ("?\n  key"); between the
 * previous entry's lines and the scalar there are only blank lines,
 * comments and that indicator. */
static size_t entry_line(const struct parse *p, size_t key)
{
	const struct story_doc *d = p->d;
	size_t i = d->nkeys ? d->keys[d->nkeys - 1].line_end - d->fm_begin : 0;

	if (i > key)
		i = line_start(p->fm, key);
	while (i < key) {
		size_t j = i;

		while (j < key && (p->fm[j] == ' ' || p->fm[j] == '\t'))
			j++;
		if (j < key && p->fm[j] == '?')
			return i;
		i = line_after(p, j);
	}
	return line_start(p->fm, key);
}

/* story_field_of of the key's text read as a string (up to a NUL it
 * holds, as a copy of it would be read), without the copy. */
static int key_field(const struct story_dialect *dl, const char *v, size_t len)
{
	size_t n = strnlen(v, len);

	for (int f = 0; f < SF_COUNT; f++) {
		const char *k = dl->key[f];

		if (k && k[0] == v[0] && strncmp(k, v, n) == 0 && !k[n])
			return f;
	}
	return -1;
}

static struct fm_key *add_key(struct parse *p)
{
	struct story_doc *d = p->d;
	size_t line = entry_line(p, p->ev.begin);
	struct fm_key *k;

	if (d->nkeys == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		d->keys = xreallocarray(d->keys, p->cap, sizeof(*d->keys));
	}
	k = &d->keys[d->nkeys++];
	memset(k, 0, sizeof(*k));
	k->field = key_field(p->dl, p->ev.value, p->ev.len);
	/* a field's key is the dialect's text: a story's dozen keys were a
	 * third of a reading thread's mallocs (and frees) */
	k->name = k->field >= 0 ? p->dl->key[k->field]
				: xstrndup(p->ev.value, p->ev.len);
	k->line_begin = d->fm_begin + line;
	return k;
}

/* True when the value just read is the empty one libyaml makes for an
 * explicit key with no ':' ("? key" alone): it is placed at the next
 * token, not after the key, while "key:" has its empty value after ':'. */
static bool no_value(const struct parse *p)
{
	const struct yev *ev = &p->ev;

	return ev->type == YEV_SCALAR && ev->len == 0 && ev->begin == ev->end &&
	       !(ev->begin > 0 && p->fm[ev->begin - 1] == ':');
}

static bool parse_key(struct parse *p)
{
	size_t base = p->d->fm_begin, vb, key_end;
	struct fm_key *k;

	/* a quoted key is a key ("a b": 1, as storysync writes a key that
	 * plain YAML cannot hold); a block scalar or a collection is not */
	if (p->ev.type != YEV_SCALAR ||
	    (p->ev.style != YS_PLAIN && p->ev.style != YS_SINGLE &&
	     p->ev.style != YS_DOUBLE))
		return ev_err(p, "key must be a plain or quoted scalar");
	if (p->ev.len == 0)
		return ev_err(p, "empty key");
	k = add_key(p);
	key_end = p->ev.end;
	if (!next(p))
		return false;
	k->no_value = no_value(p);
	/* a missing value ends where its key does, not at the next key */
	vb = k->no_value ? key_end : p->ev.begin;
	p->last_end = vb;
	if (!k->no_value)
		track(p);
	k->style = p->ev.style;
	if (!parse_value(p, k))
		return false;
	k->value_begin = base + vb;
	k->value_end = base + p->last_end;
	k->line_end = base + line_after(p, p->last_end);
	if (k->style == YS_BLOCK_SEQ)
		k->item_indent = (unsigned)(vb - line_start(p->fm, vb));
	return true;
}

static int cmp_key(const void *a, const void *b)
{
	const struct fm_key *x = *(const struct fm_key *const *)a;
	const struct fm_key *y = *(const struct fm_key *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->line_begin < y->line_begin ? -1 : 1;
}

/* The first key (in file order) whose name an earlier key has, by
 * comparing each pair: for the dozen keys of a story, cheaper than
 * check_duplicates' sort and its array (a few percent of a reading
 * thread). */
static const struct fm_key *first_repeat(const struct story_doc *d)
{
	for (size_t i = 1; i < d->nkeys; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(d->keys[j].name, d->keys[i].name))
				return &d->keys[i];
	return NULL;
}

/* Sorting finds duplicates in O(n log n); a frontmatter of 64 KiB can hold
 * thousands of keys. The first repeated occurrence in the file is named. */
static bool check_duplicates(struct parse *p)
{
	struct story_doc *d = p->d;
	const struct fm_key **v, *dup = NULL;
	unsigned line, col;
	size_t at;

	if (d->nkeys < 2)
		return true;
	if (d->nkeys <= DUP_PAIRS_MAX) {
		dup = first_repeat(d);
	} else {
		v = xcalloc(d->nkeys, sizeof(*v));
		for (size_t i = 0; i < d->nkeys; i++)
			v[i] = &d->keys[i];
		qsort(v, d->nkeys, sizeof(*v), cmp_key);
		for (size_t i = 1; i < d->nkeys; i++)
			if (!strcmp(v[i - 1]->name, v[i]->name) &&
			    (!dup || v[i]->line_begin < dup->line_begin))
				dup = v[i];
		free(v);
	}
	if (!dup)
		return true;
	at = dup->line_begin;
	while (p->text[at] == ' ' || p->text[at] == '\t')
		at++;
	pos_at(p->text, at, d->bom ? 3 : 0, &line, &col);
	return err_at(p->e, p->path, line, col, "duplicate key '%s'",
		      dup->name);
}

static bool parse_mapping(struct parse *p)
{
	if (!next(p))
		return false;
	if (p->ev.type != YEV_MAP_START)
		return ev_err(p, "frontmatter is not a mapping");
	if (p->ev.style != YS_BLOCK_MAP)
		return ev_err(p, "frontmatter must be a block mapping");
	for (;;) {
		if (!next(p))
			return false;
		if (p->ev.type == YEV_MAP_END)
			break;
		if (!parse_key(p))
			return false;
	}
	if (!next(p) || !next(p))
		return false;
	if (p->ev.type != YEV_END)
		return ev_err(p, "frontmatter holds more than one document");
	return true;
}

/* YAML takes a CR alone for a line break, the editor's lines end in LF:
 * the frontmatter may hold CRLF and LF, not a lone CR. */
static bool lone_cr(struct parse *p)
{
	const char *t = p->text, *cr;

	for (size_t i = p->d->fm_begin; i < p->d->fm_end; i++) {
		unsigned line, col;

		cr = memchr(t + i, '\r', p->d->fm_end - i);
		if (!cr)
			break;
		i = (size_t)(cr - t);
		if (i + 1 < p->len && t[i + 1] == '\n')
			continue;
		pos_at(t, i, p->d->bom ? 3 : 0, &line, &col);
		return err_at(p->e, p->path, line, col,
			      "a carriage return without a line feed");
	}
	return true;
}

static bool parse_frontmatter(struct parse *p)
{
	static const struct {
		const char *bytes, *what;
	} odd[] = {
		{"\xEF\xBB\xBF", "byte order mark (U+FEFF)"},
		{"\xE2\x80\xA8", "line separator (U+2028)"},
		{"\xE2\x80\xA9", "paragraph separator (U+2029)"},
	};
	bool ok, ascii;

	if (!lone_cr(p))
		return false;
	p->fm = p->text + p->d->fm_begin;
	p->fmlen = p->d->fm_end - p->d->fm_begin;
	/* characters libyaml reads otherwise than a person or a line-based
	 * edit does (the fuzzer found both): a byte order mark is a column
	 * of indentation to it, U+2028 and U+2029 are line breaks */
	/* each is three bytes of 0x80 and above: none in ASCII */
	ascii = ascii_run(p->fm, p->fmlen) == p->fmlen;
	for (size_t i = 0; !ascii && i < sizeof(odd) / sizeof(*odd); i++) {
		const char *at = memmem(p->fm, p->fmlen, odd[i].bytes,
					strlen(odd[i].bytes));
		unsigned line = 2, col = 1;

		if (!at)
			continue;
		for (const char *c = p->fm; c < at; c++)
			if (*c == '\n')
				line++, col = 1;
			else if (((unsigned char)*c & 0xC0) != 0x80)
				col++; /* characters, not bytes */
		return err_at(p->e, p->path, line, col,
			      "%s inside the frontmatter", odd[i].what);
	}
	p->r = yreader_create_at(p->path, p->fm, p->fmlen, 2, STORY_MAX_DEPTH,
				 p->dl->at_strings);
	ok = next(p);
	if (ok && p->ev.type == YEV_DOC_START)
		ok = parse_mapping(p);
	yreader_destroy(p->r);
	p->r = NULL;
	if (ok && p->extra.len) {
		buf_putc(&p->extra, '}');
		p->d->s.v[SF_EXTRA] = buf_detach(&p->extra);
	}
	buf_finish(&p->extra);
	return ok && check_duplicates(p);
}

static bool resolve_id(struct parse *p)
{
	struct story_doc *d = p->d;
	char *id;

	if (d->s.v[SF_ID])
		return true;
	id = story_id_from_name(p->dl, p->path);
	if (!id && p->dl->id_template)
		return err_at(p->e, p->path, 1, 1,
			      "no id: add an '%s:' key or name the file as "
			      "file_name: has it (%s)",
			      key_name(p, SF_ID), p->dl->id_template);
	if (!id)
		return err_at(p->e, p->path, 1, 1,
			      "no id: add an '%s:' key or name the file "
			      "<ID>-<slug>.md",
			      key_name(p, SF_ID));
	if (!id_valid(id, strlen(id))) {
		err_at(p->e, p->path, 1, 1, "invalid id '%s'", id);
		free(id);
		return false;
	}
	d->s.v[SF_ID] = id;
	return true;
}

bool story_has_frontmatter(const char *text, size_t len)
{
	size_t start = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

	return delim_line(text, len, start) != 0;
}

bool story_parse(struct story_doc *d, const struct story_dialect *dl,
		 const char *path, const char *text, size_t len, struct err *e)
{
	struct parse p = {
		.d = d,
		.dl = dl ? dl : &story_dialect_default,
		.path = path,
		.text = text,
		.len = len,
		.e = e,
	};

	memset(d, 0, sizeof(*d));
	d->dialect = p.dl;
	if (len == 0)
		return err_at(e, path, 1, 1, "empty file");
	d->bom = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0;
	if (!check_text(path, text, len, d->bom ? 3 : 0, e) || !frame(&p) ||
	    !parse_frontmatter(&p))
		goto fail;
	if (!d->s.v[SF_TITLE]) {
		err_at(e, path, 1, 1, "missing required key '%s'",
		       key_name(&p, SF_TITLE));
		goto fail;
	}
	if (!resolve_id(&p))
		goto fail;
	d->s.v[SF_BODY] = body_text(text + d->body_begin, len - d->body_begin);
	return true;
fail:
	story_doc_finish(d);
	return false;
}

void story_doc_finish(struct story_doc *d)
{
	story_finish(&d->s);
	for (int m = 0; m < SM_COUNT; m++)
		free(d->mirror[m]);
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i].field < 0)
			free((char *)d->keys[i].name);
	free(d->keys);
	memset(d, 0, sizeof(*d));
}
