#include "story.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "yamlio.h"

/*
 * DB -> file: a new story file (story_render), its name (story_filename),
 * and the minimal edit of an existing one (story_edit). Every value written
 * must read back, through story_parse, as exactly the text it came from:
 * a scalar is written plain only when YAML cannot take it for anything else.
 */

#define TITLE_MAX 120
#define SLUG_MAX  60

/* Length of the UTF-8 sequence at s (n bytes left) and its code point, or 0
 * when it is not valid UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len;
	unsigned long min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

static bool utf8_valid(const char *s)
{
	size_t n = strlen(s);
	unsigned long cp;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_next((const unsigned char *)s + i, n - i, &cp)))
			return false;
	return true;
}

/* Printable and never a line break to libyaml, so safe outside quotes
 * (U+0085, U+2028 and U+2029 break lines in YAML 1.1). */
static bool plain_char(unsigned long cp)
{
	if (cp < 0x80)
		return cp >= 0x20 && cp < 0x7f;
	if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return false;
	return (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
	       cp >= 0x10000;
}

/* True when every character is plain_char or one of the ASCII in allow. */
static bool chars_ok(const char *s, const char *allow)
{
	size_t n = strlen(s);
	unsigned long cp;

	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (!k || !(plain_char(cp) ||
			    (cp < 0x80 && *allow && strchr(allow, (int)cp))))
			return false;
	}
	return true;
}

static bool word_in(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* YAML 1.2 core and YAML 1.1 numbers, generously: anything a resolver
 * might not keep as a string. */
static bool looks_numeric(const char *s)
{
	static const char *const special[] = {".inf", ".Inf", ".INF", ".nan",
					      ".NaN", ".NAN", NULL};
	bool digit = false;

	if (*s == '+' || *s == '-')
		s++;
	if (word_in(s, special))
		return true;
	if (s[0] == '0' && strchr("xXoObB", s[1]) && s[1] && s[2])
		return strspn(s + 2, "0123456789abcdefABCDEF_") ==
		       strlen(s + 2);
	for (; is_digit(*s) || *s == '_'; s++)
		digit |= is_digit(*s);
	if (*s == '.')
		for (s++; is_digit(*s) || *s == '_'; s++)
			digit |= is_digit(*s);
	if (!digit)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	return *s == '\0';
}

/* A string that a YAML resolver would read as null, a bool or a number. */
static bool yaml_special(const char *s)
{
	static const char *const words[] = {"~",     "null",  "Null", "NULL",
					    "true",  "True",  "TRUE", "false",
					    "False", "FALSE", NULL};
	static const char *const yaml11[] = {"y",  "n",   "yes", "no",
					     "on", "off", NULL};
	char low[4] = {0};

	if (word_in(s, words) || looks_numeric(s))
		return true;
	if (strlen(s) >= sizeof(low))
		return false;
	for (size_t i = 0; s[i]; i++)
		low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	return word_in(low, yaml11);
}

/* True when s, written plain, reads back as the same string. In a flow
 * collection the flow indicators end a plain scalar too. */
static bool plain_safe(const char *s, bool flow)
{
	size_t n = strlen(s);

	if (n == 0 || yaml_special(s) || !chars_ok(s, ""))
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ')
		return false;
	if (is_digit(s[0]) && strchr(s, ':'))
		return false; /* YAML 1.1 sexagesimal: 1:30 */
	if (strstr(s, ": ") || strstr(s, " #") || s[n - 1] == ':')
		return false;
	if (flow && strpbrk(s, ",[]{}:#"))
		return false;
	return true;
}

static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

static void put_double(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	unsigned long cp;

	buf_putc(b, '"');
	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (!k) {
			/* not text: keep the byte visible rather than
			 * write invalid YAML */
			buf_printf(b, "\\x%02x", (unsigned char)s[i]);
			k = 1;
		} else if (cp == '"' || cp == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)cp);
		} else if (cp == '\n') {
			buf_puts(b, "\\n");
		} else if (cp == '\t') {
			buf_puts(b, "\\t");
		} else if (cp == '\r') {
			buf_puts(b, "\\r");
		} else if (plain_char(cp)) {
			buf_add(b, s + i, k);
		} else if (cp <= 0xff) {
			buf_printf(b, "\\x%02lx", cp);
		} else {
			buf_printf(b, "\\u%04lx", cp);
		}
	}
	buf_putc(b, '"');
}

static bool single_safe(const char *s)
{
	return chars_ok(s, "\t");
}

static void put_single(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_putc(b, '\'');
		buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

/* A string scalar: plain when that reads back the same, else double. */
static void put_scalar(struct buf *b, const char *s, bool flow)
{
	if (plain_safe(s, flow))
		buf_puts(b, s);
	else
		put_double(b, s);
}

static void put_flow_items(struct buf *b, const char *json, bool single);

static void put_flow_list(struct buf *b, const char *json)
{
	put_flow_items(b, json, false);
}

/* A list item: plain where it can be, else in the quotes the list used. */
static void put_item(struct buf *b, const char *s, bool flow, bool single)
{
	if (!plain_safe(s, flow) && single && single_safe(s))
		put_single(b, s);
	else
		put_scalar(b, s, flow);
}

static void put_flow_items(struct buf *b, const char *json, bool single)
{
	char **items = NULL;
	size_t n = 0;

	if (!json_parse_string_array(json, &items, &n)) {
		buf_puts(b, "[]");
		return;
	}
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ", ");
		put_item(b, items[i], true, single);
	}
	buf_putc(b, ']');
	strv_free(items);
}

/* Length of the JSON string literal at p. */
static size_t json_literal_len(const char *p)
{
	size_t i = 1;

	while (p[i] && p[i] != '"')
		i += p[i] == '\\' && p[i + 1] ? 2 : 1;
	return p[i] ? i + 1 : i;
}

/* Valid JSON written as YAML flow: JSON is already YAML, but strings go
 * through our double quoting (YAML has no \/ in 1.1) and separators get
 * the spaces libyaml wants after ':'. */
static void put_json_flow(struct buf *b, const char *json)
{
	for (const char *p = json; *p;) {
		if (*p == '"') {
			size_t n = json_literal_len(p);
			char *lit = xstrndup(p, n);
			char *s = json_string_value(lit);

			if (s)
				put_double(b, s);
			else
				buf_add(b, p, n);
			free(s);
			free(lit);
			p += n;
		} else if (*p == ',' || *p == ':') {
			buf_putc(b, *p++);
			buf_putc(b, ' ');
		} else if (strchr(" \t\r\n", *p)) {
			p++;
		} else {
			buf_putc(b, *p++);
		}
	}
}

/* A JSON value (an extra member) as a YAML value. */
static void put_json_value(struct buf *b, const char *json)
{
	char *s = json_string_value(json);

	if (s)
		put_scalar(b, s, false);
	else
		put_json_flow(b, json);
	free(s);
}

/* One assignee is written as a scalar, as people write it; more (or none)
 * as a flow list. */
static void put_assignees(struct buf *b, const char *json)
{
	char **items = NULL;
	size_t n = 0;

	if (json_parse_string_array(json, &items, &n) && n == 1)
		put_scalar(b, items[0], false);
	else
		put_flow_list(b, json);
	strv_free(items);
}

/* A column's value as a YAML value. */
static void put_field(struct buf *b, int f, const char *v)
{
	if (f == SF_ASSIGNEES)
		put_assignees(b, v);
	else if (f == SF_LABELS || f == SF_DEPENDS_ON)
		put_flow_list(b, v);
	else if (f == SF_POINTS)
		buf_puts(b, v); /* story_parse reads points only plain */
	else
		put_scalar(b, v, false);
}

/* story_parse takes only plain keys, and any plain text is a key name. */
static bool key_safe(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || !chars_ok(s, ""))
		return false;
	/* "-x" is a plain scalar; "- x" and "-" are a sequence */
	if (s[0] == '-' && (n == 1 || s[1] == ' ' || s[1] == '\t'))
		return false;
	if (strchr("?:,[]{}#&*!|>'\"%@` ", s[0]) || s[n - 1] == ' ')
		return false;
	return !strstr(s, ": ") && !strstr(s, " #") && s[n - 1] != ':';
}

/* YAML's implicit keys are at most 1024 characters: a longer one (the
 * fuzzer found an extra key written "? long key" come back unparsable)
 * is written as an explicit key, "? key" and ": value" on the next line. */
#define IMPLICIT_KEY_MAX 1000

static void put_key(struct buf *b, const char *name)
{
	struct buf k = BUF_INIT;

	if (key_safe(name))
		buf_puts(&k, name);
	else
		put_double(&k, name);
	if (k.len > IMPLICIT_KEY_MAX)
		buf_printf(b, "? %s\n:", k.data);
	else
		buf_printf(b, "%s:", k.data);
	buf_finish(&k);
}

/* An ISO 8601 UTC time as created_format: iso writes it:
 * 2026-02-14T21:22:00Z, seconds and fractions optional. */
static bool iso_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd";
	size_t i = 0;

	for (; shape[i]; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return false;
	if (s[i] == ':' && is_digit(s[i + 1]) && is_digit(s[i + 2]))
		i += 3;
	if (s[i] == '.' && is_digit(s[i + 1]))
		for (i++; is_digit(s[i]); i++)
			;
	return s[i] == 'Z' && !s[i + 1];
}

/* created as the tree's tool writes it: an ISO time plain, what needs
 * quotes in single quotes (js-yaml's '2026-02-14 21:22'). */
static void put_created(struct buf *b, const struct story_dialect *dl,
			const char *v)
{
	if (dl->created_format == SC_ISO && iso_time(v))
		buf_puts(b, v); /* story_parse reads it as the text it is */
	else if (dl->created_format != SC_NONE && !plain_safe(v, false) &&
		 single_safe(v))
		put_single(b, v);
	else
		put_scalar(b, v, false);
}

/* A list of strings as list_style: block writes it, after its key: one
 * "  - item" a line, quoted as js-yaml and PyYAML quote (single quotes
 * where it can), or " []" when empty. False when json is no such list. */
static bool put_block_list(struct buf *b, const char *json)
{
	char **items = NULL;
	size_t n = 0;

	if (!json_parse_string_array(json, &items, &n))
		return false;
	if (!n)
		buf_puts(b, " []");
	for (size_t i = 0; i < n; i++) {
		buf_puts(b, "\n  - ");
		put_item(b, items[i], false, true);
	}
	strv_free(items);
	return true;
}

static bool list_field(int f)
{
	return f == SF_ASSIGNEES || f == SF_LABELS || f == SF_DEPENDS_ON;
}

static void put_field_line(struct buf *b, const struct story_dialect *dl, int f,
			   const char *v)
{
	put_key(b, dl->key[f] ? dl->key[f] : story_field_names[f]);
	if (!(dl->block_lists && list_field(f) && put_block_list(b, v))) {
		buf_putc(b, ' ');
		if (f == SF_CREATED)
			put_created(b, dl, v);
		else
			put_field(b, f, v);
	}
	buf_putc(b, '\n');
}

static void put_member_line(struct buf *b, const struct story_dialect *dl,
			    const struct json_member *m)
{
	put_key(b, m->key);
	if (!(dl->block_lists && put_block_list(b, m->value))) {
		buf_putc(b, ' ');
		put_json_value(b, m->value);
	}
	buf_putc(b, '\n');
}

/* The body goes after the closing '---' line as it is. */
static void put_body(struct buf *b, const char *body)
{
	if (body)
		buf_puts(b, body);
}

static const int render_order[] = {
	SF_ID,     SF_TITLE,      SF_BACKLOG, SF_EPIC,
	SF_STATUS, SF_PRIORITY,   SF_POINTS,  SF_ASSIGNEES,
	SF_LABELS, SF_DEPENDS_ON, SF_PARENT,  SF_CREATED,
};

/* True when key is one of the n members of h. */
static bool member_of(const struct json_member *h, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].key, key) == 0)
			return true;
	return false;
}

/* The new_file: keys (nh of them, into *h) when s's extra has them all,
 * so that the lines go first in the file; else none. */
static bool header_keys(const struct story *s, const struct story_dialect *dl,
			struct json_member **h, size_t *nh)
{
	struct json_member *m = NULL;
	size_t n = 0;
	bool all = true;

	*h = NULL;
	*nh = 0;
	if (!dl->new_file)
		return false;
	if (!dl->new_file_extra)
		return true; /* comments only */
	if (!s->v[SF_EXTRA] || !json_parse_object(dl->new_file_extra, h, nh) ||
	    !json_parse_object(s->v[SF_EXTRA], &m, &n))
		all = false;
	for (size_t i = 0; all && i < *nh; i++)
		all = member_of(m, n, (*h)[i].key);
	json_members_free(m, n);
	if (!all) {
		json_members_free(*h, *nh);
		*h = NULL;
		*nh = 0;
	}
	return all;
}

/* A header key whose value s changed: the file rendered with the header's
 * lines as they are holds the header's value, which an edit replaces. */
static void edit_header_values(const struct story *s,
			       const struct story_dialect *dl, struct buf *out)
{
	struct story_doc d;
	struct buf fixed = BUF_INIT;
	struct err e;
	char *path = story_filename(s, dl);

	if (story_parse(&d, dl, path, out->data, out->len, &e)) {
		if (!story_equal(&d.s, s) &&
		    story_edit(&d, out->data, out->len, s, &fixed, &e)) {
			buf_finish(out);
			*out = fixed;
			fixed = (struct buf)BUF_INIT;
		}
		story_doc_finish(&d);
	}
	buf_finish(&fixed);
	free(path);
}

/* A new file's key lines, each with its key, before key_order: sorts
 * them. */
struct key_line {
	const char *key;
	struct buf text;
};

/* The lines in dl's key_order first, then the others as they came. */
static void put_key_lines(struct buf *out, const struct story_dialect *dl,
			  struct key_line *l, size_t n)
{
	for (size_t k = 0; k < dl->nkey_order; k++)
		for (size_t i = 0; i < n; i++)
			if (l[i].key &&
			    strcmp(l[i].key, dl->key_order[k]) == 0) {
				buf_add(out, l[i].text.data, l[i].text.len);
				l[i].key = NULL;
			}
	for (size_t i = 0; i < n; i++) {
		if (l[i].key)
			buf_add(out, l[i].text.data, l[i].text.len);
		buf_finish(&l[i].text);
	}
}

void story_render(const struct story *s, const struct story_dialect *dl,
		  struct buf *out)
{
	enum { NORDER = sizeof(render_order) / sizeof(*render_order) };
	struct json_member *m = NULL, *h = NULL;
	struct key_line *l;
	size_t n = 0, nh = 0, nl = 0;
	bool header;

	if (!dl)
		dl = &story_dialect_default;
	buf_puts(out, "---\n");
	header = header_keys(s, dl, &h, &nh);
	if (header)
		buf_puts(out, dl->new_file);
	if (s->v[SF_EXTRA] && !json_parse_object(s->v[SF_EXTRA], &m, &n))
		n = 0;
	l = xcalloc(NORDER + n + 1, sizeof(*l));
	for (size_t i = 0; i < NORDER; i++) {
		int f = render_order[i];
		bool mirror = f == SF_BACKLOG || f == SF_EPIC ||
			      (f == SF_STATUS && !dl->status_from_key);

		if (!s->v[f] || (mirror && dl->no_mirror_keys) ||
		    (f == SF_ID && dl->no_id_key))
			continue;
		l[nl].key = dl->key[f] ? dl->key[f] : story_field_names[f];
		put_field_line(&l[nl++].text, dl, f, s->v[f]);
	}
	for (size_t i = 0; i < n; i++)
		if (!member_of(h, nh, m[i].key)) {
			l[nl].key = m[i].key;
			put_member_line(&l[nl++].text, dl, &m[i]);
		}
	put_key_lines(out, dl, l, nl);
	free(l);
	json_members_free(m, n);
	buf_puts(out, "---\n");
	put_body(out, s->v[SF_BODY]);
	if (nh)
		edit_header_values(s, dl, out);
	json_members_free(h, nh);
}

static bool alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The id as it may stand in a file name: no '/', no control bytes. */
static void put_safe_id(struct buf *b, const char *id)
{
	size_t n = 0;

	for (const char *p = id ? id : ""; *p && n < 180; p++, n++) {
		unsigned char c = (unsigned char)*p;

		buf_putc(b, c < 0x20 || c == 0x7f || c == '/' ? '_' : (char)c);
	}
	if (n == 0 || strcmp(b->data, ".") == 0 || strcmp(b->data, "..") == 0)
		buf_puts(b, "_");
}

/* ASCII for the Latin-1 letters U+00C0..U+00FF, so that "Café naïve"
 * slugs as "cafe-naive"; NULL for the two signs among them. */
static const char *const latin1[64] = {
	"a", "a", "a", "a",  "a",  "a",  "ae", "c", "e", "e", "e",  "e", "i",
	"i", "i", "i", "d",  "n",  "o",  "o",  "o", "o", "o", NULL, "o", "u",
	"u", "u", "u", "y",  "th", "ss", "a",  "a", "a", "a", "a",  "a", "ae",
	"c", "e", "e", "e",  "e",  "i",  "i",  "i", "i", "d", "n",  "o", "o",
	"o", "o", "o", NULL, "o",  "u",  "u",  "u", "u", "y", "th", "y",
};

/* The ASCII letters a title character gives its slug, or NULL; *t moves
 * past a two-byte UTF-8 sequence it understood. */
static const char *slug_letters(const char **t, char *one)
{
	unsigned char c = (unsigned char)**t, n = (unsigned char)(*t)[1];

	if (alnum((char)c)) {
		one[0] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		one[1] = '\0';
		return one;
	}
	if ((c == 0xc3) && n >= 0x80 && n <= 0xbf) {
		++*t;
		return latin1[n - 0x80];
	}
	return NULL;
}

/* The slug of a title: ASCII letters and digits, lower case, '-' between
 * words, at most SLUG_MAX bytes cut at a word. */
static void put_slug(struct buf *b, const char *t)
{
	struct buf slug = BUF_INIT;
	char one[2];

	for (; *t; t++) {
		const char *letters = slug_letters(&t, one);

		if (letters)
			buf_puts(&slug, letters);
		else if (slug.len && slug.data[slug.len - 1] != '-')
			buf_putc(&slug, '-');
	}
	if (slug.len > SLUG_MAX) {
		char *cut = memrchr(slug.data, '-', SLUG_MAX + 1);

		slug.len = cut && cut > slug.data ? (size_t)(cut - slug.data)
						  : SLUG_MAX;
	}
	while (slug.len && slug.data[slug.len - 1] == '-')
		slug.len--;
	buf_add(b, slug.data, slug.len);
	buf_finish(&slug);
}

/* The length of the UTF-8 sequence at t when it is a code point that
 * reorders or hides text (U+061C, U+200E-F, U+202A-E, U+2028-9,
 * U+2066-9, U+FEFF), else 0: no file name of ours holds one. */
static size_t hidden_len(const char *s)
{
	const unsigned char *t = (const unsigned char *)s;

	if (t[0] == 0xd8 && t[1] == 0x9c)
		return 2;
	if (t[0] == 0xef && t[1] == 0xbb && t[2] == 0xbf)
		return 3;
	if (t[0] == 0xe2 && t[1] == 0x80 &&
	    (t[2] == 0x8e || t[2] == 0x8f || (t[2] >= 0xa8 && t[2] <= 0xae)))
		return 3;
	if (t[0] == 0xe2 && t[1] == 0x81 && t[2] >= 0xa6 && t[2] <= 0xa9)
		return 3;
	return 0;
}

/* The title as Backlog.md puts it in a name: words joined by '-', case
 * and letters kept, no byte a file name or a shell makes trouble of; at
 * most TITLE_MAX bytes, cut before a UTF-8 sequence. */
static void put_name_title(struct buf *b, const char *t)
{
	size_t start = b->len;

	for (; *t && b->len - start < TITLE_MAX; t++) {
		unsigned char c = (unsigned char)*t;
		size_t hide = hidden_len(t);

		if (hide) {
			t += hide - 1; /* bidi controls, separators, BOM */
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (b->len > start && b->data[b->len - 1] != '-')
				buf_putc(b, '-');
		} else if (c >= 0x20 && c != 0x7f &&
			   !strchr("/\\:*?\"<>|", c)) {
			buf_putc(b, (char)c);
		}
	}
	while (b->len > start && (b->data[b->len - 1] & 0xc0) == 0x80)
		b->len--; /* a sequence cut in two */
	if (b->len > start && (b->data[b->len - 1] & 0xc0) == 0xc0)
		b->len--;
	while (b->len > start && b->data[b->len - 1] == '-')
		b->len--;
	b->data[b->len] = '\0';
}

static void put_lower(struct buf *b, const char *s)
{
	size_t start = b->len;

	put_safe_id(b, s);
	for (size_t i = start; i < b->len; i++)
		if (b->data[i] >= 'A' && b->data[i] <= 'Z')
			b->data[i] = (char)(b->data[i] + 32);
}

char *story_filename(const struct story *s, const struct story_dialect *dl)
{
	const char *tpl = dl && dl->file_name ? dl->file_name
					      : story_dialect_default.file_name;
	const char *title = s->v[SF_TITLE] ? s->v[SF_TITLE] : "";
	struct buf b = BUF_INIT;

	size_t lit = 0; /* where the text since the last token starts */

	buf_puts(&b, "");
	for (const char *p = tpl; *p;) {
		size_t mark = b.len;

		if (strncmp(p, "{id}", 4) == 0) {
			put_safe_id(&b, s->v[SF_ID]);
			p += 4;
		} else if (strncmp(p, "{id:lower}", 10) == 0) {
			put_lower(&b, s->v[SF_ID]);
			p += 10;
		} else if (strncmp(p, "{slug}", 6) == 0) {
			put_slug(&b, title);
			p += 6;
		} else if (strncmp(p, "{title}", 7) == 0) {
			put_name_title(&b, title);
			p += 7;
		} else {
			buf_putc(&b, *p++);
			continue;
		}
		/* "{id}-{slug}" of an untitled story is "{id}": the text
		 * before a token that gives nothing goes with it */
		if (b.len == mark && lit) {
			b.len = lit;
			b.data[b.len] = '\0';
		}
		lit = b.len;
	}
	return buf_detach(&b);
}

/*
 * The edit: a list of byte ranges of the old text and what replaces them,
 * applied in order. Replacement text is built with LF and gets the file's
 * line breaks when applied.
 */
struct edit {
	size_t begin, end;
	char *text;
};

struct editor {
	const struct story_doc *d;
	const char *text;
	size_t len;
	struct edit *v;
	size_t n;
	struct buf tail; /* new keys, before the closing '---' */
	struct err *e;
};

static void add_edit(struct editor *ed, size_t begin, size_t end, char *text)
{
	ed->v = xreallocarray(ed->v, ed->n + 1, sizeof(*ed->v));
	ed->v[ed->n++] = (struct edit){begin, end, text};
}

static const struct fm_key *key_of_field(const struct story_doc *d, int f)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i].field == f)
			return &d->keys[i];
	return NULL;
}

static const struct fm_key *key_of_extra(const struct story_doc *d,
					 const char *name)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (d->keys[i].field < 0 && strcmp(d->keys[i].name, name) == 0)
			return &d->keys[i];
	return NULL;
}

static void remove_key(struct editor *ed, const struct fm_key *k)
{
	add_edit(ed, k->line_begin, k->line_end, xstrdup(""));
}

/* The spaces that start the line at off: a frontmatter may indent its
 * whole mapping, and what an edit writes there must line up with it. */
static size_t indent_at(const struct editor *ed, size_t off)
{
	size_t n = 0;

	while (off + n < ed->len && ed->text[off + n] == ' ')
		n++;
	return n;
}

/* lines (LF, each ending in one) with n more spaces before each that is
 * not empty; takes lines over. */
static char *indent_lines(struct buf *lines, size_t n)
{
	struct buf b = BUF_INIT;

	if (!n)
		return buf_detach(lines);
	for (const char *p = lines->data, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl > p)
			buf_printf(&b, "%*s", (int)n, "");
		buf_add(&b, p, (size_t)(nl - p) + 1);
	}
	buf_finish(lines);
	return buf_detach(&b);
}

/* Replaces the key's lines with "name: value", at the key's indentation. */
static void rewrite_key(struct editor *ed, const struct fm_key *k,
			struct buf *value)
{
	struct buf b = BUF_INIT;

	put_key(&b, k->name);
	buf_putc(&b, ' ');
	buf_add(&b, value->data, value->len);
	buf_putc(&b, '\n');
	add_edit(ed, k->line_begin, k->line_end,
		 indent_lines(&b, indent_at(ed, k->line_begin)));
}

/* Replaces the value bytes only, so comments and spacing stay. */
static void replace_value(struct editor *ed, const struct fm_key *k,
			  struct buf *value)
{
	struct buf b = BUF_INIT;

	if (k->value_begin == k->value_end && k->value_begin > 0 &&
	    ed->text[k->value_begin - 1] == ':')
		buf_putc(&b, ' ');
	buf_add(&b, value->data, value->len);
	add_edit(ed, k->value_begin, k->value_end, buf_detach(&b));
}

static bool inline_style(enum yaml_style st)
{
	return st == YS_PLAIN || st == YS_SINGLE || st == YS_DOUBLE;
}

/* True when a new value can replace the old one's bytes: an inline value
 * (or, with flow, a flow collection) that the file writes after its key. */
static bool in_place(const struct fm_key *k, bool flow)
{
	if (k->no_value)
		return false; /* "? key" has no ':' to write a value after */
	return inline_style(k->style) ||
	       (flow && (k->style == YS_FLOW_SEQ || k->style == YS_FLOW_MAP));
}

/* A multi-line string as a literal block, when that reads back exactly:
 * "|" or "|-" chomping, no indentation indicator, no blank line that holds
 * spaces. */
static bool literal_safe(const char *s)
{
	size_t n = strlen(s);

	if (!strchr(s, '\n') || strchr(" \t\n", s[0]) ||
	    (n >= 2 && s[n - 1] == '\n' && s[n - 2] == '\n'))
		return false;
	for (const char *p = strchr(s, '\n'); p; p = strchr(p + 1, '\n')) {
		size_t sp = strspn(p + 1, " \t");

		if (sp && (p[1 + sp] == '\n' || p[1 + sp] == '\0'))
			return false;
	}
	return chars_ok(s, "\t\n");
}

static void put_literal(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_puts(b, s[n - 1] == '\n' ? "|" : "|-");
	for (const char *p = s; *p;) {
		size_t k = strcspn(p, "\n");

		buf_putc(b, '\n');
		if (k)
			buf_puts(b, "  ");
		buf_add(b, p, k);
		p += k;
		if (*p == '\n')
			p++;
	}
}

/* Sets a string-valued key, keeping its quoting style where it can. */
static void set_string(struct editor *ed, const struct fm_key *k, const char *v,
		       bool plain_ok)
{
	struct buf b = BUF_INIT;

	if (k->style == YS_PLAIN && plain_ok)
		buf_puts(&b, v);
	else if (k->style == YS_SINGLE && single_safe(v))
		put_single(&b, v);
	else if ((k->style == YS_LITERAL || k->style == YS_FOLDED) &&
		 literal_safe(v))
		put_literal(&b, v);
	else
		put_double(&b, v);
	if (in_place(k, false))
		replace_value(ed, k, &b);
	else
		rewrite_key(ed, k, &b);
	buf_finish(&b);
}

/* The column of the first item of a block sequence key. */
static size_t item_column(const struct editor *ed, const struct fm_key *k)
{
	const char *p = memchr(ed->text + k->line_begin, '\n',
			       k->line_end - k->line_begin);

	while (p && (size_t)(p - ed->text) + 1 < k->line_end) {
		size_t sp = strspn(p + 1, " ");

		if (p[1 + sp] == '-')
			return sp;
		p = memchr(p + 1, '\n',
			   k->line_end - (size_t)(p + 1 - ed->text));
	}
	return 2;
}

/* True when a list's items were written in single quotes ('@ana'), so
 * that new and rewritten items keep to them. */
static bool single_quoted(const struct editor *ed, const struct fm_key *k)
{
	const char *v = ed->text + k->value_begin;
	size_t n = k->value_end - k->value_begin;

	return memchr(v, '\'', n) && !memchr(v, '"', n);
}

/* One item of a block list as the file has it: the blank and comment
 * lines above it and its own lines, [begin, end), and its value. */
struct list_item {
	size_t begin, end;
	size_t line; /* its "- " line */
	char *value;
	bool kept;
};

struct block_list {
	size_t head_end; /* the comment lines before the first item end here */
	struct list_item *v;
	size_t n;
};

static void block_list_finish(struct block_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].value);
	free(l->v);
}

/* The value of the one item in text (its lines, not owned), or NULL when
 * they are not one string item. */
static char *item_value(const char *text, size_t len, bool at_strings)
{
	static const enum yev_type want[] = {YEV_DOC_START, YEV_SEQ_START,
					     YEV_SCALAR,    YEV_SEQ_END,
					     YEV_DOC_END,   YEV_END};
	struct yreader *r =
		yreader_create_at("item", text, len, 1, 4, at_strings);
	struct yev ev;
	char *value = NULL;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(*want); i++) {
		if (!yreader_next(r, &ev, NULL) || ev.type != want[i])
			break;
		if (ev.type == YEV_SCALAR)
			value = xstrndup(ev.value, ev.len);
	}
	yreader_destroy(r);
	if (i < sizeof(want) / sizeof(*want))
		xfree(&value);
	return value;
}

/* Cuts the lines of a block list, [from, to), into its items; false when
 * they are not plain "- item" lines at column col, each one string. */
static bool list_items(const struct editor *ed, size_t from, size_t to,
		       size_t col, struct block_list *l)
{
	size_t pend = SIZE_MAX, cap = 0;
	struct list_item *it = NULL;

	memset(l, 0, sizeof(*l));
	l->head_end = from;
	for (size_t at = from, next; at < to; at = next) {
		const char *nl = memchr(ed->text + at, '\n', to - at);
		size_t sp = at;

		next = nl ? (size_t)(nl - ed->text) + 1 : to;
		while (sp < next && ed->text[sp] == ' ')
			sp++;
		if (sp == next || ed->text[sp] == '#' || ed->text[sp] == '\r' ||
		    ed->text[sp] == '\n') {
			if (pend == SIZE_MAX) /* blank or comment lines go */
				pend = at;    /* with the item below them */
			continue;
		}
		if (sp - at == col && ed->text[sp] == '-' && sp + 1 < next &&
		    strchr(" \r\n", ed->text[sp + 1]) && ed->text[sp + 1]) {
			/* the comments before the first item are the list's */
			size_t begin = pend == SIZE_MAX || !it ? at : pend;

			if (it)
				it->end = begin;
			else
				l->head_end = begin;
			l->v = xgrow(l->v, &cap, l->n + 1, sizeof(*l->v));
			it = &l->v[l->n++];
			*it = (struct list_item){.begin = begin, .line = at};
		} else if (!it) {
			return false;
		}
		pend = SIZE_MAX;
	}
	if (it)
		it->end = to;
	for (size_t i = 0; i < l->n; i++) {
		struct list_item *x = &l->v[i];

		/* its own lines, without the comments above them */
		x->value = item_value(ed->text + x->line, x->end - x->line,
				      ed->d->dialect->at_strings);
		if (!x->value)
			return false;
	}
	return l->n > 0;
}

/* The item of l that holds value and is not kept yet, or NULL. */
static struct list_item *find_item(struct block_list *l, const char *value)
{
	for (size_t i = 0; i < l->n; i++)
		if (!l->v[i].kept && strcmp(l->v[i].value, value) == 0)
			return &l->v[i];
	return NULL;
}

static void put_new_item(struct buf *b, size_t col, const char *item,
			 bool single)
{
	for (size_t c = 0; c < col; c++)
		buf_putc(b, ' ');
	buf_puts(b, "- ");
	put_item(b, item, false, single);
	buf_putc(b, '\n');
}

/* want's items, each that stays as the file has it, comments and all:
 * in want's order, or (sorted) in the file's, new ones last. */
static void put_kept_items(struct buf *b, const struct editor *ed,
			   struct block_list *l, char **items, size_t n,
			   size_t col, bool sorted, bool single)
{
	struct list_item **at = xcalloc(n + 1, sizeof(*at));

	for (size_t i = 0; i < n; i++)
		if ((at[i] = find_item(l, items[i])))
			at[i]->kept = true;
	for (size_t i = 0; sorted && i < l->n; i++)
		if (l->v[i].kept)
			buf_add(b, ed->text + l->v[i].begin,
				l->v[i].end - l->v[i].begin);
	for (size_t i = 0; i < n; i++) {
		if (!at[i])
			put_new_item(b, col, items[i], single);
		else if (!sorted)
			buf_add(b, ed->text + at[i]->begin,
				at[i]->end - at[i]->begin);
	}
	free(at);
}

/* Rewrites a block list's items; the key's own line (and a comment on
 * it) stays, and so do the comment lines before the first item and each
 * item that stays, with the comment lines above it. depends_on reads back
 * sorted whatever the order: its items keep the file's. */
static void set_block_list(struct editor *ed, const struct fm_key *k, int f,
			   const char *json)
{
	const char *nl = memchr(ed->text + k->line_begin, '\n',
				k->line_end - k->line_begin);
	size_t first_end = (size_t)(nl - ed->text) + 1;
	size_t col = item_column(ed, k);
	bool single = single_quoted(ed, k);
	struct block_list l;
	struct buf b = BUF_INIT;
	char **items = NULL;
	size_t n = 0;

	json_parse_string_array(json, &items, &n);
	if (list_items(ed, first_end, k->line_end, col, &l)) {
		buf_add(&b, ed->text + first_end, l.head_end - first_end);
		put_kept_items(&b, ed, &l, items, n, col, f == SF_DEPENDS_ON,
			       single);
	} else {
		for (size_t i = 0; i < n; i++)
			put_new_item(&b, col, items[i], single);
	}
	block_list_finish(&l);
	strv_free(items);
	buf_add(&b, "", 0);
	add_edit(ed, first_end, k->line_end, buf_detach(&b));
}

/* An empty list ("[]", or no value) in a tree whose lists are block
 * ones (list_style: block): its first items make it one. */
static bool becomes_block(const struct editor *ed, const struct fm_key *k,
			  const char *json)
{
	size_t n = k->value_end - k->value_begin;

	return ed->d->dialect->block_lists && strcmp(json, "[]") != 0 &&
	       !k->no_value &&
	       (n == 0 ||
		(n == 2 && memcmp(ed->text + k->value_begin, "[]", 2) == 0));
}

static void set_list(struct editor *ed, const struct fm_key *k, int f,
		     const char *json)
{
	struct buf b = BUF_INIT;
	const char *nl = memchr(ed->text + k->line_begin, '\n',
				k->line_end - k->line_begin);

	if (becomes_block(ed, k, json)) {
		put_key(&b, k->name);
		put_block_list(&b, json);
		buf_putc(&b, '\n');
		add_edit(ed, k->line_begin, k->line_end,
			 indent_lines(&b, indent_at(ed, k->line_begin)));
		return;
	}

	if (k->style == YS_BLOCK_SEQ && strcmp(json, "[]") != 0 && nl &&
	    (size_t)(nl - ed->text) < k->value_begin) {
		set_block_list(ed, k, f, json);
		return;
	}
	put_flow_items(&b, json, single_quoted(ed, k));
	if (in_place(k, k->style == YS_FLOW_SEQ))
		replace_value(ed, k, &b);
	else
		rewrite_key(ed, k, &b);
	buf_finish(&b);
}

/* Sets a key to the JSON value of an extra member. */
static void set_json(struct editor *ed, const struct fm_key *k,
		     const char *json)
{
	char *s = json_string_value(json);
	struct buf b = BUF_INIT;

	if (s) {
		set_string(ed, k, s, plain_safe(s, false));
		free(s);
		return;
	}
	put_json_flow(&b, json);
	if (in_place(k, true))
		replace_value(ed, k, &b);
	else
		rewrite_key(ed, k, &b);
	buf_finish(&b);
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/* An assignee key keeps its form: a scalar while there is one assignee, a
 * list as the list was written. */
static void set_assignees(struct editor *ed, const struct fm_key *k,
			  const char *json)
{
	char **items = NULL;
	size_t n = 0;

	if (inline_style(k->style) &&
	    json_parse_string_array(json, &items, &n) && n == 1)
		set_string(ed, k, items[0], plain_safe(items[0], false));
	else
		set_list(ed, k, SF_ASSIGNEES, json);
	strv_free(items);
}

static void set_field(struct editor *ed, const struct fm_key *k, int f,
		      const char *v)
{
	if (!v || (f == SF_DEPENDS_ON && strcmp(v, "[]") == 0))
		remove_key(ed, k);
	else if (f == SF_ASSIGNEES)
		set_assignees(ed, k, v);
	else if (f == SF_LABELS || f == SF_DEPENDS_ON)
		set_list(ed, k, f, v);
	else
		set_string(ed, k, v,
			   plain_safe(v, false) ||
				   (f == SF_POINTS && is_integer(v)) ||
				   (f == SF_CREATED && iso_time(v) &&
				    ed->d->dialect->created_format == SC_ISO));
}

/* want's value of column f; an empty depends_on is none, as parsed. */
static const char *field_value(const struct story *want, int f)
{
	const char *v = want->v[f];

	if (f == SF_DEPENDS_ON && v && strcmp(v, "[]") == 0)
		return NULL;
	return v;
}

static void edit_columns(struct editor *ed, const struct story *want)
{
	const struct story_doc *d = ed->d;

	for (size_t i = 0; i < sizeof(render_order) / sizeof(*render_order);
	     i++) {
		int f = render_order[i];
		const struct fm_key *k = key_of_field(d, f);

		if (f == SF_BACKLOG || f == SF_EPIC ||
		    (f == SF_STATUS && !d->dialect->status_from_key))
			continue;
		if (f == SF_ID && !d->has_id_key)
			continue;
		const char *v = field_value(want, f);

		if (str_eq(d->s.v[f], v))
			continue;
		if (k)
			set_field(ed, k, f, v);
		else if (v)
			put_field_line(&ed->tail, d->dialect, f, v);
	}
}

static const int mirror_field[SM_COUNT] = {
	[SM_BACKLOG] = SF_BACKLOG,
	[SM_STATUS] = SF_STATUS,
	[SM_EPIC] = SF_EPIC,
};

static void edit_mirrors(struct editor *ed, const struct story *want)
{
	for (int m = 0; m < SM_COUNT; m++) {
		int f = mirror_field[m];
		const struct fm_key *k = key_of_field(ed->d, f);
		const char *have = ed->d->mirror[m];

		if (m == SM_STATUS && ed->d->dialect->status_from_key)
			continue; /* data, edited as a column */
		if (m == SM_EPIC && have && !*have)
			have = NULL; /* "epic:" with no value: no epic */
		if (!k || str_eq(have, want->v[f]))
			continue;
		set_field(ed, k, f, want->v[f]);
	}
}

/* How many of want's members can stay where they are: a prefix of want
 * whose keys come in the file's order. The rest go last. */
static size_t members_in_place(const struct json_member *have, size_t nhave,
			       const struct json_member *want, size_t nwant)
{
	size_t pos = 0, i;

	for (i = 0; i < nwant; i++) {
		size_t j = pos;

		while (j < nhave && strcmp(have[j].key, want[i].key) != 0)
			j++;
		if (j == nhave)
			break;
		pos = j + 1;
	}
	return i;
}

static const struct json_member *find_member(const struct json_member *m,
					     size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].key, key) == 0)
			return &m[i];
	return NULL;
}

static bool parse_extra(const char *json, struct json_member **m, size_t *n,
			struct err *e)
{
	*m = NULL;
	*n = 0;
	if (!json || json_parse_object(json, m, n))
		return true;
	return err_set(e, "extra is not a JSON object: %s", json);
}

static void edit_extra_members(struct editor *ed, struct json_member *have,
			       size_t nhave, struct json_member *want,
			       size_t nwant)
{
	size_t keep = members_in_place(have, nhave, want, nwant);

	for (size_t i = 0; i < nhave; i++) {
		const struct json_member *w =
			find_member(want, keep, have[i].key);
		const struct fm_key *k = key_of_extra(ed->d, have[i].key);

		if (!k)
			continue;
		if (!w)
			remove_key(ed, k);
		else if (strcmp(w->value, have[i].value) != 0)
			set_json(ed, k, w->value);
	}
	for (size_t i = keep; i < nwant; i++)
		put_member_line(&ed->tail, ed->d->dialect, &want[i]);
}

static bool edit_extra(struct editor *ed, const struct story *want)
{
	struct json_member *have, *wm;
	size_t nhave, nwant;
	bool ok = false;

	if (str_eq(ed->d->s.v[SF_EXTRA], want->v[SF_EXTRA]))
		return true;
	if (!parse_extra(ed->d->s.v[SF_EXTRA], &have, &nhave, ed->e))
		return false;
	if (!parse_extra(want->v[SF_EXTRA], &wm, &nwant, ed->e))
		goto out_have;
	for (size_t i = 0; i < nwant; i++) {
		if (story_field_of(ed->d->dialect, wm[i].key) >= 0) {
			err_set(ed->e, "extra key '%s' is a column", wm[i].key);
			goto out_want;
		}
		if (!key_safe(wm[i].key)) {
			err_set(ed->e,
				"extra key '%s' cannot be a plain YAML key",
				wm[i].key);
			goto out_want;
		}
	}
	edit_extra_members(ed, have, nhave, wm, nwant);
	ok = true;
out_want:
	json_members_free(wm, nwant);
out_have:
	json_members_free(have, nhave);
	return ok;
}

static void edit_body(struct editor *ed, const struct story *want)
{
	struct buf b = BUF_INIT;

	if (str_eq(ed->d->s.v[SF_BODY], want->v[SF_BODY]))
		return;
	/* a closing '---' that ends the file needs its line break now */
	if (ed->d->body_begin == ed->len && ed->text[ed->len - 1] != '\n' &&
	    want->v[SF_BODY] && *want->v[SF_BODY])
		buf_putc(&b, '\n');
	put_body(&b, want->v[SF_BODY]);
	add_edit(ed, ed->d->body_begin, ed->len, buf_detach(&b));
}

/* The rule of story_parse: what a file name and a SQL literal can hold. */
static bool id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") == n;
}

static bool check_list(const struct story *want, int f, struct err *e)
{
	const char *name = story_field_names[f];
	char **items;
	size_t n;
	bool ok = true;

	if (!want->v[f])
		return true;
	if (!json_parse_string_array(want->v[f], &items, &n))
		return err_set(e, "%s is not a JSON array of strings: %s", name,
			       want->v[f]);
	for (size_t i = 0; ok && f == SF_DEPENDS_ON && i < n; i++)
		if (!id_valid(items[i]))
			ok = err_set(e, "invalid id '%s' in 'depends_on'",
				     items[i]);
	strv_free(items);
	return ok;
}

/* The body goes into the file as it is, where story_parse refuses control
 * characters; U+0000 cannot be in a C string anyway. */
static bool check_body(const char *s, struct err *e)
{
	size_t n = strlen(s);
	unsigned long cp = 0; /* utf8_next sets it: check_want ran utf8_valid */

	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (!k)
			return err_set(e, "body is not valid UTF-8");
		if ((cp < 0x20 && !strchr("\t\r\n", (int)cp)) ||
		    (cp >= 0x7f && cp <= 0x9f))
			return err_set(
				e, "body holds control character U+%04lX", cp);
	}
	return true;
}

static bool check_parent(const struct story *s, const struct story_dialect *dl,
			 struct err *e);

static bool check_want(const struct story_doc *d, const struct story *want,
		       struct err *e)
{
	const char *id = want->v[SF_ID];
	const char *points = want->v[SF_POINTS];

	for (int f = 0; f < SF_COUNT; f++)
		if (want->v[f] && !utf8_valid(want->v[f]))
			return err_set(e, "%s is not valid UTF-8",
				       story_field_names[f]);
	if (want->v[SF_BODY] && !check_body(want->v[SF_BODY], e))
		return false;
	if (!want->v[SF_TITLE] || !*want->v[SF_TITLE])
		return err_set(e, "title must not be empty");
	if (d->has_id_key && id && !id_valid(id))
		return err_set(e, "invalid id '%s'", id);
	if (points && !is_integer(points))
		return err_set(e, "points is not an integer: %s", points);
	return check_list(want, SF_ASSIGNEES, e) &&
	       check_list(want, SF_LABELS, e) &&
	       check_list(want, SF_DEPENDS_ON, e) &&
	       check_parent(want, d->dialect, e);
}

/* A parent is an id, and the tree has a key to hold it. */
static bool check_parent(const struct story *s, const struct story_dialect *dl,
			 struct err *e)
{
	const char *v = s->v[SF_PARENT];

	if (!v)
		return true;
	if (!dl->key[SF_PARENT])
		return err_set(e,
			       "parent '%s': this tree's files have no key for "
			       "it (keys: {parent: KEY})",
			       v);
	if (!id_valid(v))
		return err_set(e, "invalid id '%s' in 'parent'", v);
	return true;
}

/* The extra object, its keys plain YAML keys that no column takes. */
static bool check_extra(const char *extra, const struct story_dialect *dl,
			struct err *e)
{
	struct json_member *m;
	size_t n;
	bool ok = true;

	if (!parse_extra(extra, &m, &n, e))
		return false;
	for (size_t i = 0; ok && i < n; i++) {
		if (story_field_of(dl, m[i].key) >= 0)
			ok = err_set(e, "extra key '%s' is a column", m[i].key);
		else if (!key_safe(m[i].key))
			ok = err_set(e,
				     "extra key '%s' cannot be a plain YAML "
				     "key",
				     m[i].key);
	}
	json_members_free(m, n);
	return ok;
}

bool story_writable(const struct story *s, const struct story_dialect *dl,
		    int *field, struct err *e)
{
	static const int lists[] = {SF_ASSIGNEES, SF_LABELS, SF_DEPENDS_ON};

	for (*field = 0; *field < SF_COUNT; ++*field)
		if (s->v[*field] && !utf8_valid(s->v[*field]))
			return err_set(e, "%s is not valid UTF-8",
				       story_field_names[*field]);
	*field = SF_TITLE;
	if (!s->v[SF_TITLE] || !*s->v[SF_TITLE])
		return err_set(e, "title must not be empty");
	*field = SF_POINTS;
	if (s->v[SF_POINTS] && !is_integer(s->v[SF_POINTS]))
		return err_set(e, "points is not an integer: %s",
			       s->v[SF_POINTS]);
	for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
		*field = lists[i];
		if (!check_list(s, lists[i], e))
			return false;
	}
	*field = SF_PARENT;
	if (!check_parent(s, dl ? dl : &story_dialect_default, e))
		return false;
	*field = SF_EXTRA;
	if (!check_extra(s->v[SF_EXTRA], dl ? dl : &story_dialect_default, e))
		return false;
	*field = SF_BODY;
	return !s->v[SF_BODY] || check_body(s->v[SF_BODY], e);
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* s with the file's line breaks: in a CRLF file a LF becomes CRLF, and
 * a CRLF (a body that holds the file's own) stays one. */
static void put_text(struct buf *out, const char *s, bool crlf)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\n' && crlf && (p == s || p[-1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, *p);
	}
}

static void apply_edits(struct editor *ed, struct buf *out)
{
	size_t at = 0;

	if (ed->n)
		qsort(ed->v, ed->n, sizeof(*ed->v), edit_cmp);
	for (size_t i = 0; i < ed->n; i++) {
		buf_add(out, ed->text + at, ed->v[i].begin - at);
		put_text(out, ed->v[i].text, ed->d->crlf);
		at = ed->v[i].end;
	}
	buf_add(out, ed->text + at, ed->len - at);
}

static void editor_finish(struct editor *ed)
{
	for (size_t i = 0; i < ed->n; i++)
		free(ed->v[i].text);
	free(ed->v);
	buf_finish(&ed->tail);
}

/* New keys go at the top level's indentation: a frontmatter may indent its
 * whole mapping (the fuzzer found that "  title: t" got a key at column 0
 * beside it, which YAML reads as something else). */
static char *indented(const struct editor *ed, struct buf *tail)
{
	const struct story_doc *d = ed->d;

	return indent_lines(
		tail, d->nkeys ? indent_at(ed, d->keys[0].line_begin) : 0);
}

bool story_edit(const struct story_doc *d, const char *text, size_t len,
		const struct story *want, struct buf *out, struct err *e)
{
	struct editor ed = {.d = d, .text = text, .len = len, .e = e};
	bool ok = false;

	if (!check_want(d, want, e))
		return false;
	edit_columns(&ed, want);
	edit_mirrors(&ed, want);
	if (!edit_extra(&ed, want))
		goto out;
	edit_body(&ed, want);
	if (ed.tail.len)
		add_edit(&ed, d->fm_end, d->fm_end, indented(&ed, &ed.tail));
	apply_edits(&ed, out);
	ok = true;
out:
	editor_finish(&ed);
	return ok;
}
