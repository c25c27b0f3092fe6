/* gen-fresh-schema: src/core/store_sqlite_fresh.h, the schema a brand-new
 * SQLite database is made at in one go, derived from the migration steps:
 * it runs every step on an empty database (as storysync did before the
 * fresh path) and writes out what they made, in the order they made it:
 * every table, index, view and trigger of sqlite_master, the rows the
 * steps insert, and user_version. The steps run twice, on two databases:
 * a value that differs between them (a random generation) is written as
 * random().
 *
 *   gen-fresh-schema > src/core/store_sqlite_fresh.h    regenerates it
 *   gen-fresh-schema --check src/core/store_sqlite_fresh.h
 *                                   fails, naming that, if it is stale */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "store.h"
#include "store_sqlite.h"

#define REGENERATE                                                             \
	"build-test/tests/gen-fresh-schema > src/core/store_sqlite_fresh.h"

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "gen-fresh-schema: %s: %s\n", what, msg);
	exit(2);
}

/* A database in DIR made by the migration steps alone. */
static struct store *by_steps(const char *dir, const char *name)
{
	struct store *s;
	struct err e = {{0}};
	struct buf path = {0};

	buf_printf(&path, "%s/%s", dir, name);
	store_schema_steps_only = true;
	if (!sqlite_open(&s, path.data, -1, false, true, NULL, &e))
		die(path.data, e.msg);
	buf_finish(&path);
	return s;
}

static void c_string(struct buf *out, const char *text)
{
	buf_puts(out, "\t\"");
	for (const char *p = text; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else if (*p == '\t')
			buf_puts(out, "\\t");
		else
			buf_putc(out, *p);
	}
	buf_puts(out, "\",\n");
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
	return st;
}

/* The rows of TABLE in both databases, as INSERTs into out. */
static void rows(struct buf *out, sqlite3 *a, sqlite3 *b, const char *table)
{
	struct buf sql = {0};
	sqlite3_stmt *cols, *ra, *rb;
	int n = 0;

	buf_printf(&sql,
		   "SELECT name FROM pragma_table_info('%s')"
		   " ORDER BY cid",
		   table);
	cols = prepare(a, sql.data);
	buf_reset(&sql);
	buf_puts(&sql, "SELECT ");
	while (sqlite3_step(cols) == SQLITE_ROW)
		buf_printf(&sql, "%squote(\"%s\")", n++ ? ", " : "",
			   (const char *)sqlite3_column_text(cols, 0));
	sqlite3_finalize(cols);
	buf_printf(&sql, " FROM \"%s\" ORDER BY rowid", table);
	ra = prepare(a, sql.data);
	rb = prepare(b, sql.data);
	while (sqlite3_step(ra) == SQLITE_ROW) {
		struct buf ins = {0};

		if (sqlite3_step(rb) != SQLITE_ROW)
			die(table, "the two runs made different rows");
		buf_printf(&ins, "INSERT INTO \"%s\" VALUES (", table);
		for (int i = 0; i < n; i++) {
			const char *va =
				(const char *)sqlite3_column_text(ra, i);
			const char *vb =
				(const char *)sqlite3_column_text(rb, i);

			buf_printf(&ins, "%s%s", i ? ", " : "",
				   strcmp(va, vb) ? "random()" : va);
		}
		buf_puts(&ins, ")");
		c_string(out, ins.data);
		buf_finish(&ins);
	}
	sqlite3_finalize(ra);
	sqlite3_finalize(rb);
	buf_finish(&sql);
}

static void generate(struct buf *out)
{
	char dir[] = "/tmp/gen-fresh-schema.XXXXXX";
	struct store *a, *b;
	sqlite3_stmt *st;
	struct buf names = {0};
	int version;

	if (!mkdtemp(dir))
		die("mkdtemp", "cannot make a temp dir");
	a = by_steps(dir, "a.db");
	b = by_steps(dir, "b.db");
	st = prepare(a->db, "PRAGMA user_version");
	if (sqlite3_step(st) != SQLITE_ROW)
		die("user_version", sqlite3_errmsg(a->db));
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	buf_puts(out,
		 "/* store_sqlite_fresh.h: the schema a brand-new database is "
		 "made at,\n * in one transaction. GENERATED from the "
		 "migration steps by\n * tests/tools/gen_fresh_schema.c: do "
		 "not edit; after a new step run\n *   " REGENERATE "\n */\n"
		 "#ifndef STORYSYNC_CORE_STORE_SQLITE_FRESH_H\n"
		 "#define STORYSYNC_CORE_STORE_SQLITE_FRESH_H\n\n");
	buf_printf(out, "#define FRESH_SCHEMA_VERSION %d\n\n", version);

	/* sqlite_master in the order the steps made its objects (a new row
	 * takes the largest rowid yet): a table before its indexes, the
	 * tables before the view and the triggers */
	buf_puts(out, "/* clang-format off */\nstatic const char *const "
		      "fresh_schema[] = {\n");
	st = prepare(a->db,
		     "SELECT type, name, sql FROM sqlite_master"
		     " WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%'"
		     " ESCAPE '\\' ORDER BY rowid");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		c_string(out, (const char *)sqlite3_column_text(st, 2));
		if (!strcmp(type, "table"))
			buf_printf(&names, "%s'%s'", names.len ? ", " : "",
				   name);
	}
	sqlite3_finalize(st);
	st = prepare(a->db, "SELECT name FROM sqlite_master WHERE type ="
			    " 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE"
			    " '\\' ORDER BY rowid");
	while (sqlite3_step(st) == SQLITE_ROW)
		rows(out, a->db, b->db,
		     (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	buf_puts(out, "};\n\n/* its tables: a database that holds none of "
		      "them at user_version 0 is\n * brand-new */\n"
		      "#define FRESH_TABLES \\\n\t\"");
	buf_puts(out, names.data);
	buf_puts(out, "\"\n/* clang-format on */\n\n#endif\n");
	buf_finish(&names);

	sqlite_close(a);
	sqlite_close(b);
	{
		struct buf rm = {0};

		buf_printf(&rm, "rm -rf '%s'", dir);
		if (system(rm.data) != 0)
			die(dir, "cannot remove it");
		buf_finish(&rm);
	}
}

int main(int argc, char **argv)
{
	struct buf out = {0};

	generate(&out);
	if (argc == 3 && !strcmp(argv[1], "--check")) {
		FILE *f = fopen(argv[2], "r");
		struct buf have = {0};
		char chunk[4096];
		size_t n;
		bool stale;

		if (!f)
			die(argv[2], "cannot read it");
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&have, chunk, n);
		fclose(f);
		stale = have.len != out.len ||
			memcmp(have.data, out.data, out.len) != 0;
		buf_finish(&have);
		buf_finish(&out);
		if (stale) {
			fprintf(stderr,
				"gen-fresh-schema: %s is not what the "
				"migration steps make now; regenerate it:\n"
				"  " REGENERATE "\n",
				argv[2]);
			return 1;
		}
		printf("%s: as the migration steps make it\n", argv[2]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: gen-fresh-schema [--check FILE]\n");
		return 2;
	}
	fwrite(out.data, 1, out.len, stdout);
	buf_finish(&out);
	return 0;
}
