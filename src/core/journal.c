/*
 * The write journal's lines: parsing, lookup, and which ones a run that
 * commits keeps. The file itself is fsx's.
 */
#include "journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blobid.h"
#include "buf.h"
#include "json.h"

static int field_named(const char *name, size_t n);
static char *key_of(const char *hash, const char *id);

char *journal_line(const char *hash, const char *id, const char *fields,
		   const char *path)
{
	return xasprintf("%s %s %s %s\n", hash, id, fields, path);
}

char *journal_moved_line(const char *id, const char *path)
{
	return xasprintf("> %s %s\n", id, path);
}

char *journal_made_line(const char *id, const char *dir)
{
	return xasprintf("+ %s %s\n", id, dir);
}

bool journal_made_dir(const struct journal *j, const char *id, const char *dir)
{
	for (size_t i = 0; i < j->nm; i++) {
		size_t n = strlen(j->m[i].path);

		if (strcmp(j->m[i].id, id) == 0 &&
		    strncmp(dir, j->m[i].path, n) == 0 &&
		    (dir[n] == '\0' || dir[n] == '/'))
			return true;
	}
	return false;
}

char *journal_source_line(const char *hash, const char *id, const char *before,
			  const char *path)
{
	return xasprintf("o %s %s %s %s\n", hash, id, before, path);
}

bool journal_moved_over(const struct journal *j, const char *hash,
			const char *id, const char *path, const char *before)
{
	for (size_t i = 0; i < j->no; i++)
		if (strcmp(j->o[i].hash, hash) == 0 &&
		    strcmp(j->o[i].id, id) == 0 &&
		    strcmp(j->o[i].before, before) == 0 &&
		    strcmp(j->o[i].path, path) == 0)
			return true;
	return false;
}

char *journal_undone_line(const char *id, const char *path)
{
	return xasprintf("< %s %s\n", id, path);
}

/* The key of a move made: "ID PATH" (heap). */
static char *moved_key(const char *id, const char *path)
{
	return xasprintf("%s %s", id, path);
}

void journal_move_undo(struct journal *j, const char *id, const char *path)
{
	char *k = moved_key(id, path);

	/* no line comes before 0: journal_move_made is false */
	if (strmap_get(&j->moved, k, NULL))
		strmap_put(&j->moved, k, 0);
	free(k);
}

bool journal_move_made(const struct journal *j, const struct journal_line *l)
{
	char *k = moved_key(l->id, l->path);
	size_t at;
	bool made = strmap_get(&j->moved, k, &at) && at > l->at;

	free(k);
	return made;
}

char *journal_conflict_line(const char *hash, const char *id, const char *kind,
			    const char *kept, const char *fields,
			    const char *policy, const struct story *lost)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "! %s %s %s %s %s %s ", hash, id, kind, kept,
		   fields && *fields ? fields : "-",
		   policy && *policy ? policy : "-");
	story_put_json(&b, lost);
	buf_putc(&b, '\n');
	return buf_detach(&b);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

char *journal_conflict_again(const struct journal_conflict *c, const char *hash)
{
	return xasprintf("! %s %s %s %s %s %s %s\n", hash, c->id, c->kind,
			 c->kept, or_dash(c->fields), or_dash(c->policy),
			 c->lost);
}

char *journal_deletion_line(const char *hash, const char *id, const char *head,
			    const char *before, const char *path)
{
	return xasprintf("- %s %s %s %s %s\n", hash, id, or_dash(head),
			 or_dash(before), path);
}

const struct journal_deletion *journal_find_deletion(const struct journal *j,
						     const char *id)
{
	for (size_t i = j->nd; id && i-- > 0;)
		if (strcmp(j->d[i].id, id) == 0)
			return &j->d[i];
	return NULL;
}

/* A story's values from the JSON object json (story_put_json's, or some
 * of its members), into out, and the fields it names into has (SF_COUNT,
 * or NULL); false when it is not a story's. */
static bool fields_from_json(const char *json, struct story *out, bool has[])
{
	struct json_member *m = NULL;
	size_t n = 0;
	bool ok = json_parse_object(json, &m, &n);

	for (int f = 0; has && f < SF_COUNT; f++)
		has[f] = false;
	for (size_t i = 0; ok && i < n; i++) {
		int f = field_named(m[i].key, strlen(m[i].key));
		char *v = json_string_value(m[i].value);

		if (f < 0 || (!v && strcmp(m[i].value, "null") != 0))
			ok = false;
		else
			story_set(out, (enum story_field)f, v);
		if (ok && has)
			has[f] = true;
		free(v);
	}
	json_members_free(m, n);
	return ok;
}

static bool story_from_json(const char *json, struct story *out)
{
	return fields_from_json(json, out, NULL);
}

char *journal_values_line(const char *hash, const char *id,
			  const struct story *want, const bool record[])
{
	struct buf b = BUF_INIT;
	size_t n = 0;

	buf_printf(&b, "= %s %s {", hash, id);
	for (int f = 0; f < SF_COUNT; f++) {
		const char *name = story_field_names[f];

		if (!record[f])
			continue;
		if (n++)
			buf_putc(&b, ',');
		json_put_string(&b, name, strlen(name));
		buf_putc(&b, ':');
		if (want->v[f])
			json_put_string(&b, want->v[f], strlen(want->v[f]));
		else
			buf_puts(&b, "null");
	}
	if (!n) {
		buf_finish(&b);
		return NULL;
	}
	buf_puts(&b, "}\n");
	return buf_detach(&b);
}

char *journal_ident_line(const char *hash, const char *id, uint64_t ino,
			 int64_t mtime_ns, int64_t size)
{
	return xasprintf("~ %s %s %llu %lld %lld\n", hash, id,
			 (unsigned long long)ino, (long long)mtime_ns,
			 (long long)size);
}

char *journal_placed_line(const char *hash, const char *id, uint64_t ino,
			  int64_t mtime_ns, int64_t size)
{
	return xasprintf("@ %s %s %llu %lld %lld\n", hash, id,
			 (unsigned long long)ino, (long long)mtime_ns,
			 (long long)size);
}

char *journal_temp_note(const char *id)
{
	return xasprintf("t %s", id);
}

char *journal_unplaced_line(const char *hash, const char *id)
{
	return xasprintf("^ %s %s\n", hash, id);
}

void journal_set_unplaced(struct journal *j, const char *hash, const char *id)
{
	char *k = key_of(hash, id);

	strmap_put(&j->unplaced, arena_strdup(&j->keys, k), 0);
	free(k);
}

/* The last identity line of story id's file holding the blob hash,
 * whether put in place or not. */
static const struct journal_ident *any_ident(const struct journal *j,
					     const char *hash, const char *id)
{
	char *k;
	size_t i;
	bool found;

	if (!j->ni || !hash || !id)
		return NULL;
	k = key_of(hash, id);
	found = strmap_get(&j->idents, k, &i);
	free(k);
	return found ? &j->i[i] : NULL;
}

const struct journal_ident *journal_find_ident(const struct journal *j,
					       const char *hash, const char *id)
{
	const struct journal_ident *x = any_ident(j, hash, id);
	char *k;
	bool unplaced;

	if (!x || !x->ahead)
		return x;
	k = key_of(hash, id);
	unplaced = strmap_get(&j->unplaced, k, NULL);
	free(k);
	return unplaced ? NULL : x;
}

bool journal_values_get(const struct journal_values *w, struct story *out,
			bool has[])
{
	return fields_from_json(w->json, out, has);
}

const struct journal_line *journal_last_write(const struct journal *j,
					      const char *id)
{
	size_t last;

	return id && strmap_get(&j->last, id, &last) ? &j->v[last] : NULL;
}

const struct journal_values *journal_last_values(const struct journal *j,
						 const char *id)
{
	size_t last, i;
	const struct journal_values *w;

	if (!id || !strmap_get(&j->values, id, &i) ||
	    !strmap_get(&j->last, id, &last))
		return NULL;
	w = &j->w[i];
	/* it follows the last write of the story, and names its blob */
	return w->at > j->v[last].at && strcmp(w->hash, j->v[last].hash) == 0
		       ? w
		       : NULL;
}

bool journal_conflict_lost(const struct journal_conflict *c, struct story *out)
{
	return story_from_json(c->lost, out);
}

char *journal_leftover_line(const char *hash, const char *id, const char *head,
			    const char *before, uint32_t ours, const char *path,
			    const struct story *copy)
{
	struct buf b = BUF_INIT;
	size_t n = 0;

	buf_printf(&b, "x %s %s %s %s ", hash, id, or_dash(head),
		   or_dash(before));
	for (int f = 0; f < SF_COUNT; f++)
		if (ours & (1u << f))
			buf_printf(&b, "%s%s", n++ ? "," : "",
				   story_field_names[f]);
	buf_printf(&b, "%s %s\t", n ? "" : "-", path);
	story_put_json(&b, copy);
	buf_putc(&b, '\n');
	return buf_detach(&b);
}

uint32_t journal_leftover_ours(const struct journal_leftover *x)
{
	uint32_t ours = 0;

	for (const char *p = x->ours; p && *p;) {
		size_t n = strcspn(p, ",");
		int f = field_named(p, n);

		if (f >= 0)
			ours |= 1u << f;
		p += n + (p[n] == ',');
	}
	return ours;
}

bool journal_leftover_copy(const struct journal_leftover *x, struct story *out)
{
	return story_from_json(x->copy, out);
}

/* The next word of *p, NUL-terminated, *p past it; NULL when there is
 * none. */
static char *word(char **p)
{
	char *w = *p, *sp = strchr(w, ' ');

	if (!sp || sp == w)
		return NULL;
	*sp = '\0';
	*p = sp + 1;
	return w;
}

static const char *dash_null(const char *w)
{
	return strcmp(w, "-") == 0 ? NULL : w;
}

/* Splits one conflict line (after its "! ") into c; false when it is not
 * one. */
static bool parse_conflict(char *line, struct journal_conflict *c)
{
	char *p = line, *w[6];

	for (int i = 0; i < 6; i++)
		if (!(w[i] = word(&p)))
			return false;
	if (strlen(w[0]) != BLOBID_HEX - 1 || *p != '{')
		return false;
	*c = (struct journal_conflict){
		w[0], w[1], w[2], w[3], dash_null(w[4]), dash_null(w[5]), p};
	return true;
}

/* Splits one move-made line (after its "> ") or move-undone line (after
 * its "< ") into its id and path; false when it is not one. */
static bool parse_moved(char *line, char **id, char **path)
{
	char *p = line;

	if (!(*id = word(&p)) || !*p)
		return false;
	*path = p;
	return true;
}

/* The decimal number w, into *out; false when it is not one. */
static bool number(const char *w, bool sign, int64_t *out)
{
	char *end;
	long long v;

	if (!*w || (!sign && *w == '-'))
		return false;
	errno = 0;
	v = strtoll(w, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Splits one identity line (after its "~ ") into x; false when it is not
 * one. */
static bool parse_ident(char *line, struct journal_ident *x)
{
	char *p = line, *w[4];
	int64_t ino;

	for (int i = 0; i < 4; i++)
		if (!(w[i] = word(&p)))
			return false;
	if (strlen(w[0]) != BLOBID_HEX - 1 || !number(w[2], false, &ino) ||
	    !number(w[3], true, &x->mtime_ns) || !number(p, false, &x->size))
		return false;
	x->hash = w[0];
	x->id = w[1];
	x->ino = (uint64_t)ino;
	return true;
}

/* Splits one temporary file line (after its "t ") into t; false when it
 * is not one. */
static bool parse_temp(char *line, struct journal_temp *t)
{
	char *p = line, *id, *where;

	if (!(id = word(&p)) || !(where = word(&p)) || !*p ||
	    (strcmp(where, "tree") != 0 && strcmp(where, "spare") != 0))
		return false;
	*t = (struct journal_temp){id, p, where[0] == 's'};
	return true;
}

/* Splits one unplaced line (after its "^ "): its hash and id. */
static bool parse_unplaced(char *line, char **hash, char **id)
{
	char *p = line;

	if (!(*hash = word(&p)) || strlen(*hash) != BLOBID_HEX - 1 || !*p ||
	    strchr(p, ' '))
		return false;
	*id = p;
	return true;
}

/* Splits one values line (after its "= ") into w; false when it is not
 * one. */
static bool parse_values(char *line, struct journal_values *w)
{
	char *p = line, *hash, *id;

	if (!(hash = word(&p)) || !(id = word(&p)) ||
	    strlen(hash) != BLOBID_HEX - 1 || *p != '{')
		return false;
	*w = (struct journal_values){hash, id, p, 0};
	return true;
}

/* Splits one deletion line (after its "- ") into d; false when it is
 * not one. */
static bool parse_deletion(char *line, struct journal_deletion *d)
{
	char *p = line, *w[4];

	for (int i = 0; i < 4; i++)
		if (!(w[i] = word(&p)))
			return false;
	if (strlen(w[0]) != BLOBID_HEX - 1 || !*p)
		return false;
	*d = (struct journal_deletion){w[0], w[1], dash_null(w[2]),
				       dash_null(w[3]), p};
	return true;
}

/* Splits one source line (after its "o ") into o; false when it is not
 * one. */
static bool parse_source(char *line, struct journal_source *o)
{
	char *p = line, *w[3];

	for (int i = 0; i < 3; i++)
		if (!(w[i] = word(&p)))
			return false;
	if (strlen(w[0]) != BLOBID_HEX - 1 || strlen(w[2]) != BLOBID_HEX - 1 ||
	    !*p)
		return false;
	*o = (struct journal_source){w[0], w[1], w[2], p};
	return true;
}

bool journal_leftover_parse(char *line, struct journal_leftover *x)
{
	char *p, *w[5], *tab;

	if (strncmp(line, "x ", 2) != 0)
		return false;
	p = line + 2;
	for (int i = 0; i < 5; i++)
		if (!(w[i] = word(&p)))
			return false;
	tab = strrchr(p, '\t');
	if (strlen(w[0]) != BLOBID_HEX - 1 || !tab || tab == p || tab[1] != '{')
		return false;
	*tab = '\0';
	*x = (struct journal_leftover){.hash = w[0],
				       .id = w[1],
				       .head = dash_null(w[2]),
				       .before = dash_null(w[3]),
				       .ours = dash_null(w[4]),
				       .path = p,
				       .copy = tab + 1};
	return true;
}

/* Splits one line (NUL-terminated, no line break) into l; false when it
 * is not one (an older run's format, or garbage). */
static bool parse(char *line, struct journal_line *l)
{
	char *id, *fields, *path;

	if (strlen(line) < BLOBID_HEX || line[BLOBID_HEX - 1] != ' ' ||
	    strspn(line, "0123456789abcdef") != BLOBID_HEX - 1)
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
	*l = (struct journal_line){line, id, fields, path, 0};
	return true;
}

/* The lookup key of a line: "HASH ID" (heap). */
static char *key_of(const char *hash, const char *id)
{
	return xasprintf("%s %s", hash, id);
}

void journal_load(struct journal *j, char *text)
{
	size_t cap = 0, capc = 0, capd = 0, capx = 0, capw = 0, capi = 0,
	       capm = 0, capt = 0, capo = 0;

	size_t at = 0;

	memset(j, 0, sizeof(*j));
	j->text = text;
	strmap_init(&j->by_key, 16);
	strmap_init(&j->moved, 1);
	strmap_init(&j->last, 16);
	strmap_init(&j->values, 1);
	strmap_init(&j->idents, 1);
	strmap_init(&j->unplaced, 1);
	for (char *line = text; line && *line; at++) {
		char *nl = strchr(line, '\n');
		struct journal_line l;
		char *id, *path;

		if (!nl)
			break; /* a line cut short by the kill */
		*nl = '\0';
		if (strncmp(line, "> ", 2) == 0) {
			if (parse_moved(line + 2, &id, &path)) {
				char *k = moved_key(id, path);

				strmap_put(&j->moved, arena_strdup(&j->keys, k),
					   at);
				free(k);
			}
		} else if (strncmp(line, "< ", 2) == 0) {
			if (parse_moved(line + 2, &id, &path))
				journal_move_undo(j, id, path);
		} else if (strncmp(line, "+ ", 2) == 0) {
			if (parse_moved(line + 2, &id, &path)) {
				j->m = xgrow(j->m, &capm, j->nm + 1,
					     sizeof(*j->m));
				j->m[j->nm++] = (struct journal_made){id, path};
			}
		} else if (strncmp(line, "o ", 2) == 0) {
			struct journal_source o;

			if (parse_source(line + 2, &o)) {
				j->o = xgrow(j->o, &capo, j->no + 1,
					     sizeof(*j->o));
				j->o[j->no++] = o;
			}
		} else if (strncmp(line, "! ", 2) == 0) {
			struct journal_conflict c;

			if (parse_conflict(line + 2, &c)) {
				j->c = xgrow(j->c, &capc, j->nc + 1,
					     sizeof(*j->c));
				j->c[j->nc++] = c;
			}
		} else if (strncmp(line, "- ", 2) == 0) {
			struct journal_deletion d;

			if (parse_deletion(line + 2, &d)) {
				j->d = xgrow(j->d, &capd, j->nd + 1,
					     sizeof(*j->d));
				j->d[j->nd++] = d;
			}
		} else if (strncmp(line, "t ", 2) == 0) {
			struct journal_temp t;

			if (parse_temp(line + 2, &t)) {
				j->t = xgrow(j->t, &capt, j->nt + 1,
					     sizeof(*j->t));
				j->t[j->nt++] = t;
			}
		} else if (strncmp(line, "^ ", 2) == 0) {
			char *hash;

			if (parse_unplaced(line + 2, &hash, &id))
				journal_set_unplaced(j, hash, id);
		} else if (strncmp(line, "~ ", 2) == 0 ||
			   strncmp(line, "@ ", 2) == 0) {
			struct journal_ident x;

			if (parse_ident(line + 2, &x)) {
				x.ahead = line[0] == '@';
				char *k = key_of(x.hash, x.id);

				j->i = xgrow(j->i, &capi, j->ni + 1,
					     sizeof(*j->i));
				strmap_put(&j->idents,
					   arena_strdup(&j->keys, k), j->ni);
				j->i[j->ni++] = x;
				free(k);
			}
		} else if (strncmp(line, "= ", 2) == 0) {
			struct journal_values w;

			if (parse_values(line + 2, &w)) {
				w.at = at;
				j->w = xgrow(j->w, &capw, j->nw + 1,
					     sizeof(*j->w));
				strmap_put(&j->values, w.id, j->nw);
				j->w[j->nw++] = w;
			}
		} else if (strncmp(line, "x ", 2) == 0) {
			struct journal_leftover x;

			if (journal_leftover_parse(line, &x)) {
				j->x = xgrow(j->x, &capx, j->nx + 1,
					     sizeof(*j->x));
				j->x[j->nx++] = x;
			}
		} else if (parse(line, &l)) {
			char *k = key_of(l.hash, l.id);

			l.at = at;
			j->v = xgrow(j->v, &cap, j->n + 1, sizeof(*j->v));
			j->v[j->n] = l;
			strmap_put(&j->by_key, arena_strdup(&j->keys, k), j->n);
			strmap_put(&j->last, l.id, j->n++);
			free(k);
		}
		line = nl + 1;
	}
}

bool journal_empty(const struct journal *j)
{
	return !j->n && !j->nd && !j->nx && !j->nt;
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

void journal_conflicts(const struct journal *j, const char *hash,
		       const char *id,
		       void (*fn)(void *ctx, const struct journal_conflict *c),
		       void *ctx)
{
	for (size_t i = 0; hash && id && i < j->nc; i++)
		if (strcmp(j->c[i].hash, hash) == 0 &&
		    strcmp(j->c[i].id, id) == 0)
			fn(ctx, &j->c[i]);
}

void journal_story_conflicts(const struct journal *j, const char *id,
			     void (*fn)(void *ctx,
					const struct journal_conflict *c),
			     void *ctx)
{
	for (size_t i = 0; id && i < j->nc; i++)
		if (strcmp(j->c[i].id, id) == 0)
			fn(ctx, &j->c[i]);
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

/* The fields id's lines took from the database: every line of id, or
 * (path set) those at path whose move was made. */
static bool story_written(const struct journal *j, const char *id,
			  const char *path, bool written[])
{
	bool any = false;

	for (int f = 0; f < SF_COUNT; f++)
		written[f] = false;
	for (size_t i = 0; id && i < j->n; i++) {
		bool one[SF_COUNT];

		if (strcmp(j->v[i].id, id) != 0 ||
		    (path && (strcmp(j->v[i].path, path) != 0 ||
			      !journal_move_made(j, &j->v[i]))))
			continue;
		any = true;
		journal_written(&j->v[i], one);
		for (int f = 0; f < SF_COUNT; f++)
			written[f] = written[f] || one[f];
	}
	return any;
}

bool journal_story_written(const struct journal *j, const char *id,
			   bool written[])
{
	return story_written(j, id, NULL, written);
}

bool journal_story_written_at(const struct journal *j, const char *id,
			      const char *path, bool written[])
{
	if (!path) {
		for (int f = 0; f < SF_COUNT; f++)
			written[f] = false;
		return false;
	}
	return story_written(j, id, path, written);
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
		if (strncmp(copy, "x ", 2) == 0) {
			/* recorded by the run that commits */
		} else if (strncmp(copy, "! ", 2) == 0) {
			struct journal_conflict c;

			if (parse_conflict(copy + 2, &c) && keep(ctx, c.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "= ", 2) == 0) {
			struct journal_values w;

			if (parse_values(copy + 2, &w) && keep(ctx, w.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "t ", 2) == 0) {
			struct journal_temp t;

			if (parse_temp(copy + 2, &t) && keep(ctx, t.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "^ ", 2) == 0) {
			char *hash, *id;

			if (parse_unplaced(copy + 2, &hash, &id) &&
			    keep(ctx, id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "~ ", 2) == 0 ||
			   strncmp(copy, "@ ", 2) == 0) {
			struct journal_ident x;

			if (parse_ident(copy + 2, &x) && keep(ctx, x.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "o ", 2) == 0) {
			struct journal_source o;

			if (parse_source(copy + 2, &o) && keep(ctx, o.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "- ", 2) == 0) {
			struct journal_deletion d;

			if (parse_deletion(copy + 2, &d) && keep(ctx, d.id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (strncmp(copy, "> ", 2) == 0 ||
			   strncmp(copy, "< ", 2) == 0 ||
			   strncmp(copy, "+ ", 2) == 0) {
			char *id, *path;

			if (parse_moved(copy + 2, &id, &path) && keep(ctx, id))
				buf_printf(&out, "%.*s\n", (int)(nl - line),
					   line);
		} else if (parse(copy, &l) && keep(ctx, l.id))
			buf_printf(&out, "%.*s\n", (int)(nl - line), line);
		free(copy);
		line = nl + 1;
	}
	return buf_detach(&out);
}

void journal_finish(struct journal *j)
{
	strmap_finish(&j->by_key);
	strmap_finish(&j->moved);
	strmap_finish(&j->last);
	strmap_finish(&j->values);
	strmap_finish(&j->idents);
	strmap_finish(&j->unplaced);
	arena_finish(&j->keys);
	free(j->t);
	free(j->v);
	free(j->c);
	free(j->d);
	free(j->x);
	free(j->w);
	free(j->i);
	free(j->m);
	free(j->o);
	free(j->text);
	memset(j, 0, sizeof(*j));
}
