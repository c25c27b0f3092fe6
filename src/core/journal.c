/*
 * The write journal's lines: parsing, lookup, and which ones a run that
 * commits keeps. The file itself is fsx's.
 */
#include "journal.h"

#include <stdlib.h>
#include <string.h>

#include "blobid.h"
#include "buf.h"

char *journal_line(const char *hash, const char *id, const char *fields,
		   const char *path)
{
	return xasprintf("%s %s %s %s\n", hash, id, fields, path);
}

/* Splits one line (NUL-terminated, no line break) into l; false when it
 * is not one (an older run's format, or garbage). */
static bool parse(char *line, struct journal_line *l)
{
	char *id, *fields, *path;

	if (strlen(line) < BLOBID_HEX || line[BLOBID_HEX - 1] != ' ')
		return false;
	line[BLOBID_HEX - 1] = '\0';
	id = line + BLOBID_HEX;
	fields = strchr(id, ' ');
	if (!fields)
		return false;
	*fields++ = '\0';
	path = strchr(fields, ' ');
	if (!path || !*id)
		return false;
	*path++ = '\0';
	if (!*path)
		return false;
	*l = (struct journal_line){line, id, fields, path};
	return true;
}

/* The lookup key of a line: "HASH ID" (heap). */
static char *key_of(const char *hash, const char *id)
{
	return xasprintf("%s %s", hash, id);
}

void journal_load(struct journal *j, char *text)
{
	size_t cap = 0;

	memset(j, 0, sizeof(*j));
	j->text = text;
	strmap_init(&j->by_key, 16);
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		struct journal_line l;

		if (!nl)
			break; /* a line cut short by the kill */
		*nl = '\0';
		if (parse(line, &l)) {
			char *k = key_of(l.hash, l.id);

			j->v = xgrow(j->v, &cap, j->n + 1, sizeof(*j->v));
			j->v[j->n] = l;
			strmap_put(&j->by_key, arena_strdup(&j->keys, k),
				   j->n++);
			free(k);
		}
		line = nl + 1;
	}
}

bool journal_empty(const struct journal *j)
{
	return !j->n;
}

const struct journal_line *journal_find(const struct journal *j,
					const char *hash, const char *id)
{
	char *k;
	size_t i;
	bool found;

	if (!j->n || !hash || !id)
		return NULL;
	k = key_of(hash, id);
	found = strmap_get(&j->by_key, k, &i);
	free(k);
	return found ? &j->v[i] : NULL;
}

/* The field named by the n bytes at name, or -1. */
static int field_named(const char *name, size_t n)
{
	for (int f = 0; f < SF_COUNT; f++)
		if (strlen(story_field_names[f]) == n &&
		    strncmp(story_field_names[f], name, n) == 0)
			return f;
	return -1;
}

void journal_written(const struct journal_line *l, bool written[])
{
	bool all = strcmp(l->fields, "*") == 0;
	const char *p = l->fields;

	for (int f = 0; f < SF_COUNT; f++)
		written[f] = all;
	while (!all && *p) {
		size_t n = strcspn(p, ",");
		int f = field_named(p, n);

		if (f >= 0)
			written[f] = true;
		p += n + (p[n] == ',');
	}
}

char *journal_keep(const char *text, bool (*keep)(void *ctx, const char *id),
		   void *ctx)
{
	struct buf out = BUF_INIT;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		char *copy;
		struct journal_line l;

		if (!nl)
			break;
		copy = xstrndup(line, (size_t)(nl - line));
		if (parse(copy, &l) && keep(ctx, l.id))
			buf_printf(&out, "%.*s\n", (int)(nl - line), line);
		free(copy);
		line = nl + 1;
	}
	return buf_detach(&out);
}

void journal_finish(struct journal *j)
{
	strmap_finish(&j->by_key);
	arena_finish(&j->keys);
	free(j->v);
	free(j->text);
	memset(j, 0, sizeof(*j));
}
