#include "story.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

const char *const story_field_names[SF_COUNT] = {
	[SF_ID] = "id",           [SF_BACKLOG] = "backlog",
	[SF_STATUS] = "status",   [SF_EPIC] = "epic",
	[SF_TITLE] = "title",     [SF_PRIORITY] = "priority",
	[SF_POINTS] = "points",   [SF_ASSIGNEES] = "assignees",
	[SF_LABELS] = "labels",   [SF_DEPENDS_ON] = "depends_on",
	[SF_CREATED] = "created", [SF_EXTRA] = "extra",
	[SF_BODY] = "body",       [SF_PARENT] = "parent",
};

const struct story_dialect story_dialect_default = {
	.key =
		{
			[SF_ID] = "id",
			[SF_BACKLOG] = "backlog",
			[SF_STATUS] = "status",
			[SF_EPIC] = "epic",
			[SF_TITLE] = "title",
			[SF_PRIORITY] = "priority",
			[SF_POINTS] = "points",
			[SF_ASSIGNEES] = "assignee",
			[SF_LABELS] = "labels",
			[SF_DEPENDS_ON] = "depends_on",
			[SF_CREATED] = "created",
		},
	.file_name = "{id}-{slug}.md",
};

char *story_created_now(const struct story_dialect *dl, int64_t now_ns)
{
	time_t t = (time_t)(now_ns / 1000000000);
	struct tm tm;

	if (!dl || dl->created_format == SC_NONE || !gmtime_r(&t, &tm))
		return NULL;
	switch (dl->created_format) {
	case SC_DATETIME:
		return xasprintf("%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min);
	case SC_ISO:
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec);
	default:
		return xasprintf("%04d-%02d-%02d", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday);
	}
}

static void put_member(struct buf *b, const struct json_member *m)
{
	if (b->len > 1) /* past the '{' */
		buf_putc(b, ',');
	json_put_string(b, m->key, strlen(m->key));
	buf_putc(b, ':');
	buf_puts(b, m->value);
}

/* The index of key in the n members of m, or n. */
static size_t member_at(const struct json_member *m, size_t n, const char *key)
{
	size_t i = 0;

	while (i < n && strcmp(m[i].key, key) != 0)
		i++;
	return i;
}

char *story_new_extra(const struct story_dialect *dl, const char *extra)
{
	struct json_member *h = NULL, *m = NULL;
	size_t nh = 0, nm = 0, j;
	struct buf b = BUF_INIT;
	bool *put;

	if (!dl || (!dl->new_file_extra && !dl->nkey_order) ||
	    (dl->new_file_extra &&
	     !json_parse_object(dl->new_file_extra, &h, &nh)))
		return NULL;
	if (extra && !json_parse_object(extra, &m, &nm))
		nm = 0;
	if (!nh && !nm) {
		json_members_free(h, nh);
		return NULL;
	}
	put = xcalloc(nm + 1, sizeof(bool));
	buf_putc(&b, '{');
	/* new_file:'s first, the row's value where it has one */
	for (size_t i = 0; i < nh; i++) {
		j = member_at(m, nm, h[i].key);
		put_member(&b, j < nm ? &m[j] : &h[i]);
		if (j < nm)
			put[j] = true;
	}
	/* then those key_order: names, in its order, as the file has them */
	for (size_t k = 0; k < dl->nkey_order; k++) {
		j = member_at(m, nm, dl->key_order[k]);
		if (j < nm && !put[j]) {
			put_member(&b, &m[j]);
			put[j] = true;
		}
	}
	for (j = 0; j < nm; j++)
		if (!put[j])
			put_member(&b, &m[j]);
	free(put);
	buf_putc(&b, '}');
	json_members_free(h, nh);
	json_members_free(m, nm);
	return buf_detach(&b);
}

int story_field_of(const struct story_dialect *dl, const char *key)
{
	if (!dl)
		dl = &story_dialect_default;
	/* the first bytes first: every key of every story comes here */
	for (int f = 0; f < SF_COUNT; f++)
		if (dl->key[f] && dl->key[f][0] == key[0] &&
		    strcmp(key, dl->key[f]) == 0)
			return f;
	return -1;
}

void story_finish(struct story *s)
{
	for (int f = 0; f < SF_COUNT; f++)
		xfree(&s->v[f]);
	s->nul = 0;
}

bool story_empty(const struct story *s)
{
	for (int f = 0; f < SF_COUNT; f++)
		if (s->v[f])
			return false;
	return true;
}

void story_set(struct story *s, enum story_field f, const char *value)
{
	char *copy = xstrdup(value);

	free(s->v[f]);
	s->v[f] = copy;
	s->nul &= ~(1u << f);
}

void story_copy(struct story *dst, const struct story *src)
{
	for (int f = 0; f < SF_COUNT; f++)
		dst->v[f] = xstrdup(src->v[f]);
	dst->nul = src->nul;
}

bool story_field_equal(const struct story *a, const struct story *b,
		       enum story_field f)
{
	if (!a->v[f] || !b->v[f])
		return a->v[f] == b->v[f];
	return strcmp(a->v[f], b->v[f]) == 0;
}

bool story_equal(const struct story *a, const struct story *b)
{
	for (int f = 0; f < SF_COUNT; f++)
		if (!story_field_equal(a, b, f))
			return false;
	return true;
}

/* Equal but for a CR before a LF: a CRLF file's body, written from a
 * row with LF line breaks. */
static bool same_but_crlf(const char *a, const char *b)
{
	while (*a || *b) {
		if (*a == '\r' && a[1] == '\n' && *b == '\n')
			a++;
		else if (*b == '\r' && b[1] == '\n' && *a == '\n')
			b++;
		if (*a != *b)
			return false;
		a++, b++;
	}
	return true;
}

static bool reads_field(const struct story *got, const struct story *want,
			int f)
{
	const char *g = got->v[f], *w = want->v[f];

	if (f == SF_DEPENDS_ON && w && strcmp(w, "[]") == 0)
		w = NULL;
	if (f == SF_BODY && (!g || !w)) /* no body is an empty one */
		return !*(g ? g : "") && !*(w ? w : "");
	if (!g || !w)
		return g == w;
	return f == SF_BODY ? same_but_crlf(g, w) : strcmp(g, w) == 0;
}

static const char *mirror_name(int m)
{
	static const char *const name[SM_COUNT] = {"backlog", "status", "epic"};

	return name[m];
}

bool story_reads_back(const struct story_dialect *dl, const char *path,
		      const char *text, size_t len, const struct story *want,
		      const char *const mirror[SM_COUNT],
		      struct story_doc *back, struct err *e)
{
	if (!dl)
		dl = &story_dialect_default;
	if (!story_parse(back, dl, path, text, len, e))
		return false;
	for (int f = 0; f < SF_COUNT; f++) {
		if (f == SF_BACKLOG || f == SF_EPIC ||
		    (f == SF_STATUS && !dl->status_from_key))
			continue;
		if (!reads_field(&back->s, want, f)) {
			err_set(e, "it would read back with another %s",
				story_field_names[f]);
			goto fail;
		}
	}
	for (int m = 0; m < SM_COUNT; m++) {
		const char *g = back->mirror[m], *w = mirror[m];

		if (m == SM_EPIC && g && !*g)
			g = NULL; /* "epic: ''" is no epic, as the edit has it
				   */
		if (m == SM_EPIC && w && !*w)
			w = NULL;
		if (g && w ? strcmp(g, w) != 0 : g != w) {
			err_set(e, "its %s key would read back as another",
				mirror_name(m));
			goto fail;
		}
	}
	return true;
fail:
	story_doc_finish(back);
	return false;
}

void story_put_json(struct buf *b, const struct story *s)
{
	buf_putc(b, '{');
	for (int f = 0; f < SF_COUNT; f++) {
		const char *name = story_field_names[f];

		if (f)
			buf_putc(b, ',');
		json_put_string(b, name, strlen(name));
		buf_putc(b, ':');
		if (s->v[f])
			json_put_string(b, s->v[f], strlen(s->v[f]));
		else
			buf_puts(b, "null");
	}
	buf_putc(b, '}');
}

char *story_json(const struct story *s)
{
	struct buf b = BUF_INIT;

	story_put_json(&b, s);
	return buf_detach(&b);
}
