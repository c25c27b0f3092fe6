#ifndef STORYSYNC_CORE_STORY_H
#define STORYSYNC_CORE_STORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * One story as both sides see it. Every field is text in one canonical form,
 * so that comparing and merging are strcmp per field:
 *   id, backlog, status, epic, title, priority, created:
 *            UTF-8 text; epic is NULL when the story has no epic directory
 *   points:  decimal integer text ("8")
 *   assignees, labels: compact JSON array of strings, ["a","b"] (a file's
 *            scalar "assignee: ana" is ["ana"])
 *   depends_on: compact JSON array of ids, sorted and unique; NULL for none
 *   extra:   compact JSON object of the keys with no column, in file order;
 *            NULL for none
 *   body:    the Markdown after the frontmatter as the file has it, its
 *            line breaks too (a CRLF file's CRLFs); "" if none
 *   parent:  another story's id (a valid id); read only where keys: gives
 *            it a key
 * NULL means absent. Order is the order of the columns in the database
 * (parent, added by schema 7, last).
 */
enum story_field {
	SF_ID,
	SF_BACKLOG,
	SF_STATUS,
	SF_EPIC,
	SF_TITLE,
	SF_PRIORITY,
	SF_POINTS,
	SF_ASSIGNEES,
	SF_LABELS,
	SF_DEPENDS_ON,
	SF_CREATED,
	SF_EXTRA,
	SF_BODY,
	SF_PARENT,
	SF_COUNT
};

/* The column of each field ("id", "backlog", ..., "assignees"). */
extern const char *const story_field_names[SF_COUNT];

struct story {
	char *v[SF_COUNT];
	unsigned nul; /* bit f: field f holds U+0000 in the database (read as
			 U+FFFD): no file can hold it, so the row is refused */
};

/* How a tree writes the date a story the API creates gets (created_format:),
 * as the tree's tool writes it. */
enum story_created {
	SC_NONE,     /* none: created stays as the row has it */
	SC_DATE,     /* 2026-02-14 */
	SC_DATETIME, /* '2026-02-14 21:22' (quoted, as js-yaml writes it) */
	SC_ISO,      /* 2026-02-14T21:22:00Z */
};

/* How a tree writes its stories: the configuration's dialect. */
struct story_dialect {
	const char *key[SF_COUNT];   /* each field's frontmatter key (NULL for
					extra and body) */
	bool status_from_key;        /* "status:" is the story's status, free
					text, not a mirror of its stage */
	const char *const *statuses; /* status_from_key: the values allowed,
					or NULL for any */
	size_t nstatuses;
	const char *file_name;   /* template of a new file's name: {id},
				    {id:lower}, {slug}, {title} */
	bool no_mirror_keys;     /* a new file gets no backlog:, epic: (nor,
				    with the status from the location,
				    status:) keys */
	const char *id_template; /* file_name: when configured: a file
				    with no id key has the id it reads in
				    the file's name; NULL: the name's
				    upper-case prefix */
	bool no_id_key;          /* a new file gets no id key: its name
				    holds the id (id_key: false) */
	bool at_strings; /* a plain scalar that starts with '@' is text, as
			    Backlog.md reads "assignee: @ana" (at_strings:
			    true); YAML refuses it */
	enum story_created created_format; /* created_format: */
	const char *new_file;              /* new_file: the first lines of a new
					      file's frontmatter (comments,
					      constant keys), ending in '\n'; or
					      NULL */
	const char *new_file_extra;   /* its keys as a JSON object, or NULL */
	const char *const *key_order; /* key_order: the keys a new file
					 writes first, in this order (after
					 new_file:'s lines); the others follow
					 in storysync's order */
	size_t nkey_order;
	bool block_lists; /* list_style: block: a list a new file or key gets
			     is written one "- item" a line (one assignee
			     too), else [a, b] */
};

/* storysync's own: the columns as keys but "assignee", and no key for
 * parent (keys: gives it one); status from the location, "{id}-{slug}.md".
 */
extern const struct story_dialect story_dialect_default;

/* created, now (ns since the epoch), in dl's created_format (UTC), or NULL
 * when it has none (heap). */
char *story_created_now(const struct story_dialect *dl, int64_t now_ns);
/* The extra of a story the API creates, in the order its new file holds
 * it: new_file:'s keys first (the row's value where it has one), then
 * those key_order: names, then the row's others (heap); NULL when dl has
 * neither, or there is no extra. */
char *story_new_extra(const struct story_dialect *dl, const char *extra);
/* Field index of a frontmatter key name in dialect dl (NULL: the default),
 * or -1 when it has no column. */
int story_field_of(const struct story_dialect *dl, const char *key);
/* Frees every field and leaves s empty. */
void story_finish(struct story *s);
/* Sets field f to a copy of value (NULL clears it). */
void story_set(struct story *s, enum story_field f, const char *value);
/* Makes dst a deep copy of src (dst must be empty or finished). */
void story_copy(struct story *dst, const struct story *src);
/* True when field f holds the same value (or absence) in a and b. */
bool story_field_equal(const struct story *a, const struct story *b,
		       enum story_field f);
/* True when every field is equal. */
bool story_equal(const struct story *a, const struct story *b);
/* True when s holds no field (none set, or all moved out). */
bool story_empty(const struct story *s);

/* How a YAML value was written, so an edit can keep its style. */
enum yaml_style {
	YS_PLAIN,
	YS_SINGLE,
	YS_DOUBLE,
	YS_LITERAL,
	YS_FOLDED,
	YS_FLOW_SEQ,
	YS_BLOCK_SEQ,
	YS_FLOW_MAP,
	YS_BLOCK_MAP,
};

/* Where one top-level frontmatter key sits in the file's bytes. */
struct fm_key {
	const char *name;  /* the dialect's own for a field's key, else heap */
	int field;         /* enum story_field, or -1 for a key kept in extra */
	size_t line_begin; /* first byte of the line holding the key */
	size_t value_begin; /* first byte of the value (== value_end if empty)
			     */
	size_t value_end;   /* one past the value's last byte */
	size_t line_end; /* one past the line break that ends the value's last
			    line (trailing comment included) */
	enum yaml_style style;
	unsigned item_indent; /* YS_BLOCK_SEQ: column of the items' '-' */
	bool no_value; /* an explicit key with no ':' ("? key" alone): its
			  value is empty at the key's end, and an edit
			  rewrites the entry */
};

/* The mirror keys: frontmatter copies of the location fields. */
enum story_mirror { SM_BACKLOG, SM_STATUS, SM_EPIC, SM_COUNT };

/* A parsed story file: its story and the layout needed to edit it. */
struct story_doc {
	struct story s; /* from the frontmatter; backlog, status, epic unset */
	char *mirror[SM_COUNT]; /* values of backlog:, status:, epic: keys;
				   NULL when the key is absent */
	bool has_id_key;
	struct fm_key *keys;
	size_t nkeys;
	size_t fm_begin;   /* first byte after the opening '---' line */
	size_t fm_end;     /* first byte of the closing '---' line */
	size_t body_begin; /* first byte after the closing '---' line */
	bool crlf;         /* the file's line breaks are CRLF */
	bool bom;          /* the file starts with a UTF-8 BOM */
	const struct story_dialect *dialect; /* as parsed; story_edit keeps to
						it */
};

/* Largest frontmatter accepted, and deepest nesting. */
#define STORY_MAX_FRONTMATTER (64 * 1024)
#define STORY_MAX_DEPTH       64

/* Parses a story file's text (len bytes, not owned; need not be
 * NUL-terminated) written in dialect dl (NULL: the default, which must
 * outlive d). path names the file in messages and gives the id when there
 * is no id: key. On error e holds "path:line:col: message" and d is left
 * empty. */
bool story_parse(struct story_doc *d, const struct story_dialect *dl,
		 const char *path, const char *text, size_t len, struct err *e);
/* True when text opens a frontmatter ('---' as its first line, after a
 * BOM): a Markdown file without one is not a story at all. */
bool story_has_frontmatter(const char *text, size_t len);
/* Frees what story_parse filled in. */
void story_doc_finish(struct story_doc *d);
/* True when id is one story_parse accepts: 1-64 of A-Z a-z 0-9 . _ -, not
 * starting with '.' or '-'. */
bool story_id_valid(const char *id);
/* The id prefix of a file name ("INF-014-x.md" -> "INF-014"), or NULL. */
char *story_id_from_filename(const char *path);
/* The id of a story file at path that has no id key, from its name: read
 * with dl's id_template when there is one ({id} the shortest id that lets
 * the rest match, {slug} and {title} any text: "{id}--{slug}.md" reads
 * "proj-a1b2--add-export.md" as "proj-a1b2"), else its prefix
 * (story_id_from_filename); NULL when neither gives one. */
char *story_id_from_name(const struct story_dialect *dl, const char *path);
/* True when a file name template can be read back: one {id} (or
 * {id:lower}) and at most 16 pieces. */
bool story_template_readable(const char *tpl);

/* The new text of a file whose parsed form is d (text, len) so that it holds
 * want: only the lines of changed fields change (a changed scalar keeps its
 * quoting style, a new key goes last, a removed key loses its lines, a new
 * body replaces only the body); mirror keys present in the file follow
 * want's backlog, status, epic. Line breaks stay CRLF in a CRLF file: a
 * LF in what is written (a new body from the database too) becomes CRLF
 * there, a CRLF stays one. */
bool story_edit(const struct story_doc *d, const char *text, size_t len,
		const struct story *want, struct buf *out, struct err *e);
/* True when s can be written to a file, rendered or edited, as the same
 * story: its values UTF-8, a title, points an integer, the lists JSON
 * arrays of strings (ids for depends_on), extra a JSON object of plain
 * keys no column of dl (NULL: the default) takes, no control character in
 * the body. Else e says why and *field names the field. */
bool story_writable(const struct story *s, const struct story_dialect *dl,
		    int *field, struct err *e);
/* The text of a new story file for s in dialect dl (NULL: the default),
 * with a clean, conventional frontmatter: dl's new_file: lines first (when
 * s's extra has their keys, as story_new_extra gives it), created as
 * created_format: writes it. */
void story_render(const struct story *s, const struct story_dialect *dl,
		  struct buf *out);
/* Whether text, parsed as path in dialect dl, reads back as want: every
 * field but the location's (backlog, epic, and status unless dl takes it
 * from its key; an empty depends_on is none, and an empty body; the
 * body's line breaks may be the file's CRLF), and each mirror key as mirror has
 * it (NULL: no key or no value). On true back holds the parse (the body as the
 * file has it); on false e says why: the parse error or the first field that
 * differs. */
bool story_reads_back(const struct story_dialect *dl, const char *path,
		      const char *text, size_t len, const struct story *want,
		      const char *const mirror[SM_COUNT],
		      struct story_doc *back, struct err *e);
/* The file name for a new story from dl's template (NULL: the default,
 * "<ID>-<slug>.md", the slug from the title: ASCII, lower case, bounded
 * length). */
char *story_filename(const struct story *s, const struct story_dialect *dl);

/* Story s as a JSON object {field: value}, strings or null, in field
 * order: appended to b, or as a string (heap). A conflict's versions. */
struct buf;
void story_put_json(struct buf *b, const struct story *s);
char *story_json(const struct story *s);

#endif
