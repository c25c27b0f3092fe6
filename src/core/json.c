#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* Whether byte c needs an escape in a JSON string. */
static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

void json_put_string(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;

	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!needs_escape(c))
			continue;
		/* copy the run of plain bytes before c in one go */
		buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default: buf_printf(b, "\\u%04x", c);
		}
	}
	buf_add(b, s + run, n - run);
	buf_putc(b, '"');
}

char *json_string_array(char *const *items, size_t n)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		json_put_string(&b, items[i], strlen(items[i]));
	}
	buf_putc(&b, ']');
	return buf_detach(&b);
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Containers deeper than this are refused, so hostile input cannot cost
 * more than a small fixed stack. */
#define JSON_MAX_DEPTH 256

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool hex4(const char *p, unsigned *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return false;
		*u = *u * 16 + (unsigned)h;
	}
	return true;
}

static void put_utf8(struct buf *b, unsigned long cp)
{
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_putc(b, (char)(0xc0 | (cp >> 6)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_putc(b, (char)(0xe0 | (cp >> 12)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_putc(b, (char)(0xf0 | (cp >> 18)));
		buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
		buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_putc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* Decodes the \u escape at p (p points at 'u'); *end is past it. A lone
 * surrogate or U+0000 (which no C string can hold) is refused. */
static bool unicode_escape(const char *p, const char **end, unsigned long *cp)
{
	unsigned hi, lo;

	if (!hex4(p + 1, &hi))
		return false;
	*end = p + 5;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return false;
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return hi != 0;
	}
	if (p[5] != '\\' || p[6] != 'u' || !hex4(p + 7, &lo))
		return false;
	if (lo < 0xdc00 || lo > 0xdfff)
		return false;
	*end = p + 11;
	*cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + (lo - 0xdc00);
	return true;
}

static bool simple_escape(char c, char *out)
{
	switch (c) {
	case '"': *out = '"'; return true;
	case '\\': *out = '\\'; return true;
	case '/': *out = '/'; return true;
	case 'b': *out = '\b'; return true;
	case 'f': *out = '\f'; return true;
	case 'n': *out = '\n'; return true;
	case 'r': *out = '\r'; return true;
	case 't': *out = '\t'; return true;
	default: return false;
	}
}

/* Parses the string literal at p; *end is past the closing quote. With out
 * NULL it only validates. */
static bool parse_string(const char *p, const char **end, struct buf *out)
{
	if (*p++ != '"')
		return false;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		unsigned long cp;
		char sc;

		if (c < 0x20)
			return false; /* includes the terminating NUL */
		if (c != '\\') {
			if (out)
				buf_putc(out, (char)c);
			p++;
		} else if (p[1] == 'u') {
			if (!unicode_escape(p + 1, &p, &cp))
				return false;
			if (out)
				put_utf8(out, cp);
		} else if (simple_escape(p[1], &sc)) {
			if (out)
				buf_putc(out, sc);
			p += 2;
		} else {
			return false;
		}
	}
	*end = p + 1;
	return true;
}

static const char *skip_digits(const char *p)
{
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

static bool parse_number(const char *p, const char **end)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p = skip_digits(p);
	else
		return false;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		p = skip_digits(p + 1);
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		p = skip_digits(p);
	}
	*end = p;
	return true;
}

static bool parse_scalar(const char *p, const char **end)
{
	static const char *const words[] = {"true", "false", "null"};

	if (*p == '"')
		return parse_string(p, end, NULL);
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++) {
		size_t n = strlen(words[i]);

		if (strncmp(p, words[i], n) == 0) {
			*end = p + n;
			return true;
		}
	}
	return parse_number(p, end);
}

/* After a value: the ends of the containers it closes, then a ',' and the
 * next value, or the outermost value's end. *expect_key is set when an
 * object member comes next. */
static bool after_value(const char **pp, const char *stack, size_t *depth,
			bool *expect_key, bool *done)
{
	const char *p = skip_ws(*pp);

	*expect_key = false;
	*done = false;
	while (*depth > 0 && *p == stack[*depth - 1]) {
		--*depth;
		p = skip_ws(p + 1);
	}
	if (*depth == 0)
		*done = true;
	else if (*p++ == ',')
		*expect_key = stack[*depth - 1] == '}';
	else
		return false;
	*pp = p;
	return true;
}

/* Validates one JSON value at p without recursion; *end is past it. */
static bool skip_value(const char *p, const char **end)
{
	char stack[JSON_MAX_DEPTH];
	size_t depth = 0;
	bool expect_key = false, done = false;

	for (;;) {
		p = skip_ws(p);
		if (expect_key) {
			if (!parse_string(p, &p, NULL))
				return false;
			p = skip_ws(p);
			if (*p++ != ':')
				return false;
			p = skip_ws(p);
		}
		if (*p == '[' || *p == '{') {
			if (depth == JSON_MAX_DEPTH)
				return false;
			stack[depth++] = *p == '[' ? ']' : '}';
			p = skip_ws(p + 1);
			if (*p == stack[depth - 1]) {
				depth--;
				p++;
			} else {
				expect_key = stack[depth - 1] == '}';
				continue;
			}
		} else if (!parse_scalar(p, &p)) {
			return false;
		}
		if (!after_value(&p, stack, &depth, &expect_key, &done))
			return false;
		if (done)
			break;
	}
	*end = p;
	return true;
}

bool json_parse_string_array(const char *json, char ***items, size_t *n)
{
	struct buf b = BUF_INIT;
	char **v = xcalloc(1, sizeof(*v));
	size_t count = 0;
	const char *p = skip_ws(json);

	if (*p++ != '[')
		goto fail;
	p = skip_ws(p);
	while (*p != ']') {
		if (count && *p++ != ',')
			goto fail;
		if (!parse_string(skip_ws(p), &p, &b))
			goto fail;
		v = xreallocarray(v, count + 2, sizeof(*v));
		v[count++] = buf_detach(&b);
		v[count] = NULL;
		p = skip_ws(p);
	}
	if (*skip_ws(p + 1) != '\0')
		goto fail;
	buf_finish(&b);
	*items = v;
	*n = count;
	return true;
fail:
	buf_finish(&b);
	strv_free(v);
	return false;
}

static bool parse_member(const char **pp, struct json_member *m)
{
	struct buf key = BUF_INIT;
	const char *p = skip_ws(*pp), *v;

	if (!parse_string(p, &p, &key))
		goto fail;
	p = skip_ws(p);
	if (*p++ != ':')
		goto fail;
	v = skip_ws(p);
	if (!skip_value(v, &p))
		goto fail;
	*pp = skip_ws(p);
	while (p > v && strchr(" \t\r\n", p[-1]))
		p--;
	m->key = buf_detach(&key);
	m->value = xstrndup(v, (size_t)(p - v));
	return true;
fail:
	buf_finish(&key);
	return false;
}

bool json_parse_object(const char *json, struct json_member **members,
		       size_t *n)
{
	struct json_member *m = NULL;
	size_t count = 0;
	const char *p = skip_ws(json);

	if (*p++ != '{')
		goto fail;
	p = skip_ws(p);
	while (*p != '}') {
		if (count && *p++ != ',')
			goto fail;
		m = xreallocarray(m, count + 1, sizeof(*m));
		if (!parse_member(&p, &m[count]))
			goto fail;
		count++;
	}
	if (*skip_ws(p + 1) != '\0')
		goto fail;
	*members = m;
	*n = count;
	return true;
fail:
	json_members_free(m, count);
	return false;
}

void json_members_free(struct json_member *members, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(members[i].key);
		free(members[i].value);
	}
	free(members);
}

char *json_string_value(const char *value)
{
	struct buf b = BUF_INIT;
	const char *end;

	if (!value)
		return NULL;
	if (!parse_string(skip_ws(value), &end, &b) || *skip_ws(end) != '\0') {
		buf_finish(&b);
		return NULL;
	}
	return buf_detach(&b);
}
