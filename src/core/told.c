/* What quiet runs told, and when (told.h). */
#include "told.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsx.h"

/* The memory is bounded: errors past this many are simply told. */
#define TOLD_MAX_BYTES (16 * 1024 * 1024)

static struct told_entry *add(struct told *t, const char *msg, int64_t at)
{
	struct told_entry *te;

	t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
	te = &t->v[t->n];
	te->msg = arena_strdup(&t->text, msg);
	te->at_ns = at;
	te->seen = false;
	strmap_put(&t->by_msg, te->msg, t->n++);
	return te;
}

void told_read(const struct dbhome *h, struct told *t)
{
	char *path = xstrdup(h->told), *save = NULL;
	struct buf b = BUF_INIT;
	struct err e;

	memset(t, 0, sizeof(*t));
	strmap_init(&t->by_msg, 16);
	if (fsx_read_path(path, TOLD_MAX_BYTES, &b, &e) && b.data) {
		for (char *l = strtok_r(b.data, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(l, ' '), *end;
			int64_t at = strtoll(l, &end, 10);

			if (*l != '#' && sp && end == sp && sp[1] &&
			    !strmap_get(&t->by_msg, sp + 1, NULL))
				add(t, sp + 1, at);
		}
	}
	buf_finish(&b);
	free(path);
}

bool told_due(struct told *t, const char *msg, int64_t now_ns)
{
	struct told_entry *te;
	struct buf line = BUF_INIT;
	bool due = true;
	size_t i;

	/* one line of the file, as printed */
	buf_put_escaped(&line, msg, strlen(msg));
	if (!line.data || !*line.data)
		goto out;
	if (!strmap_get(&t->by_msg, line.data, &i)) {
		add(t, line.data, now_ns)->seen = true;
		goto out;
	}
	te = &t->v[i];
	te->seen = true;
	/* a time ahead of now (a clock set back) does not silence it */
	due = now_ns - te->at_ns >= TOLD_AGAIN_NS || now_ns < te->at_ns;
	if (due)
		te->at_ns = now_ns;
out:
	buf_finish(&line);
	return due;
}

bool told_write(const struct dbhome *h, const struct told *t, bool keep_unseen,
		struct err *e)
{
	char *path = xstrdup(h->told);
	struct buf b = BUF_INIT;
	bool ok;

	buf_puts(&b, "# storysync: the errors quiet runs told (see "
		     "storysync(1), FILES)\n");
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].seen || keep_unseen)
			buf_printf(&b, "%" PRId64 " %s\n", t->v[i].at_ns,
				   t->v[i].msg);
	ok = fsx_replace(path, b.data, b.len,
			 &(struct fsx_replace_opts){.root = h->root}, e);
	buf_finish(&b);
	free(path);
	return ok;
}

void told_finish(struct told *t)
{
	free(t->v);
	strmap_finish(&t->by_msg);
	arena_finish(&t->text);
	memset(t, 0, sizeof(*t));
}
