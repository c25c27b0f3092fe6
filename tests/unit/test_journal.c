/* test_journal.c: the write journal's leftover lines ("x ..."), written
 * and read back, and dropped by the run that commits; a move made ("> ")
 * and undone ("< "); a rewrite's values ("= ") and identity ("~ "); a
 * move's source ("o "). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "journal.h"
#include "mem.h"
#include "story.h"

#define H1 "65d6a06277d6020c31b6e8a0842b54f5073c7d1a"
#define H2 "f6782b8d083ad420d452c263b965e8ba0f375738"

static const bool *has_none(void)
{
	static const bool none[SF_COUNT];

	return none;
}

static bool keep_all(void *ctx, const char *id)
{
	(void)ctx;
	(void)id;
	return true;
}

static bool keep_s2(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, "S-2") == 0;
}

/* A path with spaces and a tab, values with a tab, a space and a line
 * break: the line reads back as written. */
static void test_leftover_round_trip(void **state)
{
	struct story copy = {0}, back = {0};
	struct journal j;
	uint32_t ours = (1u << SF_STATUS) | (1u << SF_TITLE);
	char *line;

	(void)state;
	story_set(&copy, SF_ID, "S-1");
	story_set(&copy, SF_TITLE, "One\tand { two");
	story_set(&copy, SF_BODY, "body\nline two\n");
	line = journal_leftover_line(H1, "S-1", H2, H1, ours,
				     "back log/a\tb {x}.md", &copy);
	assert_non_null(strchr(line, '\n'));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	journal_load(&j, line);
	assert_false(journal_empty(&j));
	assert_int_equal(j.nx, 1);
	assert_string_equal(j.x[0].hash, H1);
	assert_string_equal(j.x[0].id, "S-1");
	assert_string_equal(j.x[0].head, H2);
	assert_string_equal(j.x[0].before, H1);
	assert_string_equal(j.x[0].path, "back log/a\tb {x}.md");
	assert_int_equal(journal_leftover_ours(&j.x[0]), ours);
	assert_true(journal_leftover_copy(&j.x[0], &back));
	for (int f = 0; f < SF_COUNT; f++)
		assert_true(story_field_equal(&copy, &back, f));
	story_finish(&back);
	story_finish(&copy);
	journal_finish(&j);
}

/* Outside git and with no value in doubt: "-" for each, read as none. */
static void test_leftover_dashes(void **state)
{
	struct story copy = {0};
	struct journal j;
	char *line;

	(void)state;
	line = journal_leftover_line(H1, "S-1", NULL, "", 0, "a.md", &copy);
	assert_memory_equal(line, "x " H1 " S-1 - - - a.md\t{",
			    strlen("x " H1 " S-1 - - - a.md\t{"));
	journal_load(&j, line);
	assert_int_equal(j.nx, 1);
	assert_null(j.x[0].head);
	assert_null(j.x[0].before);
	assert_null(j.x[0].ours);
	assert_int_equal(journal_leftover_ours(&j.x[0]), 0);
	journal_finish(&j);
}

/* Not a leftover line: too few words, a short hash, no tab, no object;
 * and one cut short by a kill. None is read. */
static void test_leftover_bad(void **state)
{
	static const char *const bad[] = {
		"x " H1 " S-1 - - a.md\t{}\n",  "x abc S-1 - - - a.md\t{}\n",
		"x " H1 " S-1 - - - a.md {}\n", "x " H1 " S-1 - - - a.md\t[]\n",
		"x " H1 " S-1 - - - \t{}\n",    "x " H1 " S-1 - - - a.md\t{}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct journal j;

		journal_load(&j, xstrdup(bad[i]));
		assert_int_equal(j.nx, 0);
		assert_true(journal_empty(&j));
		journal_finish(&j);
	}
}

/* A run that commits records every leftover line: the rewrite keeps the
 * other lines and drops those. */
static void test_keep_drops_leftovers(void **state)
{
	const char *text = H1 " S-1 title backlog/S-1-one.md\n"
			      "x " H1 " S-1 - - - backlog/S-1-one.md\t{}\n"
			      "> S-1 backlog/S-1-one.md\n";
	char *kept;

	(void)state;
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept, H1 " S-1 title backlog/S-1-one.md\n"
				     "> S-1 backlog/S-1-one.md\n");
	free(kept);
}

/* A move undone ("< ", after its "> ") is not made, in a journal read
 * back and in one undone in memory; a later move of the story there (a
 * "> " after the "< ") is; the rewrite keeps both kinds of line. */
static void test_move_undone(void **state)
{
	char *undone = journal_undone_line("S-1", "backlog/S-1-one.md");
	const char *head = H1 " S-1 * backlog/S-1-one.md\n"
			      "> S-1 backlog/S-1-one.md\n";
	char *text = xasprintf("%s%s", head, undone), *again, *kept;
	struct journal j;

	(void)state;
	assert_string_equal(undone, "< S-1 backlog/S-1-one.md\n");
	journal_load(&j, xstrdup(head));
	assert_true(journal_move_made(&j, journal_find(&j, H1, "S-1")));
	journal_move_undo(&j, "S-1", "backlog/S-1-one.md");
	assert_false(journal_move_made(&j, journal_find(&j, H1, "S-1")));
	journal_finish(&j);
	journal_load(&j, xstrdup(text));
	assert_false(journal_move_made(&j, journal_find(&j, H1, "S-1")));
	journal_finish(&j);
	again = xasprintf("%s" H2 " S-1 * backlog/S-1-one.md\n"
			  "> S-1 backlog/S-1-one.md\n",
			  text);
	journal_load(&j, xstrdup(again));
	assert_true(journal_move_made(&j, journal_find(&j, H2, "S-1")));
	journal_finish(&j);
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept, text);
	free(kept);
	free(again);
	free(text);
	free(undone);
}

/* The values a rewrite took from the database, the fields recorded only
 * (a NULL as null): read back as the story's last write's, kept by the
 * rewrite of the journal; none once a later write of the story has no
 * values line (an older binary's) or names another blob. */
static void test_values(void **state)
{
	bool record[SF_COUNT] = {0}, has[SF_COUNT];
	struct story want = {0}, back = {0};
	struct journal j;
	char *line, *text, *kept;

	(void)state;
	story_set(&want, SF_ID, "S-1");
	story_set(&want, SF_STATUS, "In \"Progress\"\t");
	story_set(&want, SF_TITLE, "One");
	record[SF_STATUS] = record[SF_PRIORITY] = true;
	assert_null(journal_values_line(H1, "S-1", &want, has_none()));
	line = journal_values_line(H1, "S-1", &want, record);
	assert_string_equal(line, "= " H1
				  " S-1 {\"status\":\"In \\\"Progress\\\"\\t\","
				  "\"priority\":null}\n");
	text = xasprintf(H1 " S-1 * backlog/S-1-one.md\n%s"
			    "> S-1 backlog/S-1-one.md\n",
			 line);
	journal_load(&j, xstrdup(text));
	assert_non_null(journal_last_values(&j, "S-1"));
	assert_null(journal_last_values(&j, "S-2"));
	assert_true(
		journal_values_get(journal_last_values(&j, "S-1"), &back, has));
	for (int f = 0; f < SF_COUNT; f++)
		assert_int_equal(has[f], record[f]);
	assert_string_equal(back.v[SF_STATUS], want.v[SF_STATUS]);
	assert_null(back.v[SF_PRIORITY]);
	assert_null(back.v[SF_TITLE]);
	journal_finish(&j);
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept, text);
	free(kept);
	/* a later write with no values line: the rules before */
	kept = xasprintf("%s" H2 " S-1 title backlog/S-1-one.md\n", text);
	journal_load(&j, kept);
	assert_null(journal_last_values(&j, "S-1"));
	journal_finish(&j);
	story_finish(&back);
	story_finish(&want);
	free(text);
	free(line);
}

/* A values line that is not one: too few words, a short hash, no object,
 * a field no story has, a value no string; and one cut short. */
static void test_values_bad(void **state)
{
	static const char *const bad[] = {
		"= " H1 " {}\n",
		"= abc S-1 {\"status\":\"x\"}\n",
		"= " H1 " S-1 status\n",
		"= " H1 " S-1 {\"status\":\"x\"}",
	};
	static const char *const unread[] = {
		"= " H1 " S-1 {\"nope\":\"x\"}\n",
		"= " H1 " S-1 {\"status\":1}\n",
	};
	bool has[SF_COUNT];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct journal j;
		char *text = xasprintf(H1 " S-1 * a.md\n%s", bad[i]);

		journal_load(&j, text);
		assert_null(journal_last_values(&j, "S-1"));
		journal_finish(&j);
	}
	for (size_t i = 0; i < sizeof(unread) / sizeof(*unread); i++) {
		struct story v = {0};
		struct journal j;
		char *text = xasprintf(H1 " S-1 * a.md\n%s", unread[i]);

		journal_load(&j, text);
		assert_non_null(journal_last_values(&j, "S-1"));
		assert_false(journal_values_get(journal_last_values(&j, "S-1"),
						&v, has));
		story_finish(&v);
		journal_finish(&j);
	}
}

/* The identity of a rewrite read back: found by blob and story, the last
 * one winning; kept by the journal's rewrite; a bad one (a negative
 * inode, a number with more, a word too many) neither read nor kept. */
static void test_ident(void **state)
{
	char *line = journal_ident_line(H1, "S-1", 42, -5, 60);
	const struct journal_ident *x;
	struct journal j;
	char *text, *kept;

	(void)state;
	assert_string_equal(line, "~ " H1 " S-1 42 -5 60\n");
	text = xasprintf("%s~ " H1 " S-1 43 7 61\n~ " H1 " S-1 -1 7 61\n"
			 "~ " H1 " S-1 44 7x 61\n~ " H1 " S-1 45 7 61 8\n",
			 line);
	journal_load(&j, xstrdup(text));
	x = journal_find_ident(&j, H1, "S-1");
	assert_non_null(x);
	assert_int_equal(x->ino, 43);
	assert_int_equal(x->mtime_ns, 7);
	assert_int_equal(x->size, 61);
	assert_null(journal_find_ident(&j, H2, "S-1"));
	assert_null(journal_find_ident(&j, H1, "S-2"));
	assert_true(journal_empty(&j));
	journal_finish(&j);
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept,
			    "~ " H1 " S-1 42 -5 60\n~ " H1 " S-1 43 7 61\n");
	free(kept);
	free(text);
	free(line);
}

/* The identity journaled ahead of the rename ("@ "): found as a "~ " one
 * until a "^ " line (or journal_set_unplaced) says that write was never
 * placed; the temporary files' names ("t "), each where it is, a bad one
 * not read; all kept by the journal's rewrite with their story's lines,
 * dropped with them. */
static void test_ahead(void **state)
{
	char *placed = journal_placed_line(H1, "S-1", 42, 7, 60);
	char *unplaced = journal_unplaced_line(H2, "S-2");
	char *note = journal_temp_note("S-1");
	char *text = xasprintf("%s@ " H2
			       " S-2 43 8 61\n%s tree a b/.x.storysync-Ab\n"
			       "%s spare .y.storysync-Cd\nt S-1 elsewhere z\n"
			       "t S-1 tree\n%s",
			       placed, note, note, unplaced);
	struct journal j;
	char *kept;

	(void)state;
	assert_string_equal(placed, "@ " H1 " S-1 42 7 60\n");
	assert_string_equal(unplaced, "^ " H2 " S-2\n");
	assert_string_equal(note, "t S-1");
	journal_load(&j, xstrdup(text));
	assert_non_null(journal_find_ident(&j, H1, "S-1"));
	assert_true(journal_find_ident(&j, H1, "S-1")->ahead);
	assert_null(journal_find_ident(&j, H2, "S-2"));
	journal_set_unplaced(&j, H1, "S-1");
	assert_null(journal_find_ident(&j, H1, "S-1"));
	assert_int_equal(j.nt, 2);
	assert_string_equal(j.t[0].name, "a b/.x.storysync-Ab");
	assert_false(j.t[0].spare);
	assert_string_equal(j.t[1].name, ".y.storysync-Cd");
	assert_true(j.t[1].spare);
	assert_false(journal_empty(&j));
	journal_finish(&j);
	kept = journal_keep(text, keep_s2, NULL);
	assert_string_equal(kept, "@ " H2 " S-2 43 8 61\n^ " H2 " S-2\n");
	free(kept);
	free(text);
	free(note);
	free(unplaced);
	free(placed);
}

/* A "+ " line says which directories a move of the story made: that
 * directory and those below it, for that story only; the rewrite keeps
 * it with the story's other lines. */
static void test_made_dir(void **state)
{
	char *made = journal_made_line("S-1", "stories/web2/refinements");
	char *text = xasprintf(H1 " S-1 * stories/web2/refinements/a/S-1.md\n"
				  "%s> S-1 stories/web2/refinements/a/S-1.md\n",
			       made),
	     *kept;
	struct journal j;

	(void)state;
	assert_string_equal(made, "+ S-1 stories/web2/refinements\n");
	journal_load(&j, xstrdup(text));
	assert_true(journal_made_dir(&j, "S-1", "stories/web2/refinements"));
	assert_true(journal_made_dir(&j, "S-1", "stories/web2/refinements/a"));
	assert_false(journal_made_dir(&j, "S-1", "stories/web2"));
	assert_false(journal_made_dir(&j, "S-1", "stories/web2/refinementsx"));
	assert_false(journal_made_dir(&j, "S-2", "stories/web2/refinements"));
	assert_true(journal_move_made(&j, journal_find(&j, H1, "S-1")));
	journal_finish(&j);
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept, text);
	free(kept);
	free(text);
	free(made);
}

/* A move's source ("o "): the version git held at the place it took the
 * file from, read back for that blob, story, place and version only; a
 * path with spaces; kept by the rewrite for a story kept, dropped with
 * one committed; one that is not (a short hash, no path, cut short) is
 * not read. */
static void test_source(void **state)
{
	char *line = journal_source_line(H1, "S-1", H2, "back log/S-1 one.md");
	char *text = xasprintf("%s" H1 " S-1 backlog refinements/S-1 one.md\n"
			       "> S-1 refinements/S-1 one.md\n",
			       line);
	static const char *const bad[] = {
		"o " H1 " S-1 abc a.md\n",
		"o " H1 " S-1 " H2 "\n",
		"o " H1 " S-1 " H2 " a.md",
	};
	struct journal j;
	char *kept;

	(void)state;
	assert_string_equal(line, "o " H1 " S-1 " H2 " back log/S-1 one.md\n");
	journal_load(&j, xstrdup(text));
	assert_true(
		journal_moved_over(&j, H1, "S-1", "back log/S-1 one.md", H2));
	assert_false(
		journal_moved_over(&j, H2, "S-1", "back log/S-1 one.md", H2));
	assert_false(
		journal_moved_over(&j, H1, "S-2", "back log/S-1 one.md", H2));
	assert_false(journal_moved_over(&j, H1, "S-1", "back log/S-1.md", H2));
	assert_false(
		journal_moved_over(&j, H1, "S-1", "back log/S-1 one.md", H1));
	journal_finish(&j);
	kept = journal_keep(text, keep_all, NULL);
	assert_string_equal(kept, text);
	free(kept);
	kept = journal_keep(text, keep_s2, NULL);
	assert_string_equal(kept, "");
	free(kept);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		journal_load(&j, xstrdup(bad[i]));
		assert_int_equal(j.no, 0);
		journal_finish(&j);
	}
	free(text);
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leftover_round_trip),
		cmocka_unit_test(test_leftover_dashes),
		cmocka_unit_test(test_leftover_bad),
		cmocka_unit_test(test_keep_drops_leftovers),
		cmocka_unit_test(test_move_undone),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_values_bad),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_ahead),
		cmocka_unit_test(test_made_dir),
		cmocka_unit_test(test_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
