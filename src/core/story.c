#include "story.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

const char *const story_field_names[SF_COUNT] = {
	[SF_ID] = "id",           [SF_BACKLOG] = "backlog",
	[SF_STATUS] = "status",   [SF_EPIC] = "epic",
	[SF_TITLE] = "title",     [SF_PRIORITY] = "priority",
	[SF_POINTS] = "points",   [SF_ASSIGNEES] = "assignees",
	[SF_LABELS] = "labels",   [SF_DEPENDS_ON] = "depends_on",
	[SF_CREATED] = "created", [SF_EXTRA] = "extra",
	[SF_BODY] = "body",
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

int story_field_of(const struct story_dialect *dl, const char *key)
{
	if (!dl)
		dl = &story_dialect_default;
	for (int f = 0; f < SF_COUNT; f++)
		if (dl->key[f] && strcmp(key, dl->key[f]) == 0)
			return f;
	return -1;
}

void story_finish(struct story *s)
{
	for (int f = 0; f < SF_COUNT; f++)
		xfree(&s->v[f]);
}

void story_set(struct story *s, enum story_field f, const char *value)
{
	char *copy = xstrdup(value);

	free(s->v[f]);
	s->v[f] = copy;
}

void story_copy(struct story *dst, const struct story *src)
{
	for (int f = 0; f < SF_COUNT; f++)
		dst->v[f] = xstrdup(src->v[f]);
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
