/* test_json.c: parsing, unescaping, and refusing bad JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "json.h"

static void check_string(const char *json, const char *want)
{
	char *got = json_string_value(json);

	if (!want) {
		if (got)
			fail_msg("%s gave \"%s\", wanted NULL",
				 json ? json : "NULL", got);
		return;
	}
	if (!got)
		fail_msg("%s gave NULL, wanted \"%s\"", json, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_string_value(void **state)
{
	check_string("\"plain\"", "plain");
	check_string("\"\"", "");
	check_string(" \"spaced\" ", "spaced");
	check_string("\"q\\\"b\\\\s\\/\"", "q\"b\\s/");
	check_string("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t");
	check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac");
	check_string("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	check_string("\"na\xc3\xafve\"", "na\xc3\xafve");
	check_string("\"\\u001f\"", "\x1f");
}

static void test_string_value_bad(void **state)
{
	check_string(NULL, NULL);
	check_string("", NULL);
	check_string("plain", NULL);
	check_string("12", NULL);
	check_string("\"open", NULL);
	check_string("\"a\"x", NULL);
	check_string("\"a\" \"b\"", NULL);
	check_string("\"\\x41\"", NULL);
	check_string("\"\\u12\"", NULL);
	check_string("\"\\u12G4\"", NULL);
	check_string("\"\\ud83d\"", NULL);
	check_string("\"\\ud83d\\u0041\"", NULL);
	check_string("\"\\ude00\"", NULL);
	check_string("\"\\u0000\"", NULL);
	check_string("\"tab\there\"", NULL);
	check_string("\"line\nbreak\"", NULL);
	check_string("\"trailing\\\"", NULL);
}

static void check_array(const char *json, size_t want_n, const char **want)
{
	char **items = NULL;
	size_t n = 99;

	if (!json_parse_string_array(json, &items, &n))
		fail_msg("%s did not parse", json);
	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(items[i], want[i]);
	assert_null(items[n]);
	strv_free(items);
}

static void test_string_array(void **state)
{
	const char *abc[] = {"a", "b c", "\"d\""};
	const char *empty[] = {""};

	check_array("[]", 0, NULL);
	check_array(" [ ] ", 0, NULL);
	check_array("[\"a\",\"b c\",\"\\\"d\\\"\"]", 3, abc);
	check_array(" [ \"a\" , \"b c\" ,\n\"\\\"d\\\"\" ] ", 3, abc);
	check_array("[\"\"]", 1, empty);
}

static void test_string_array_bad(void **state)
{
	const char *bad[] = {
		"",          "[",     "]",         "[\"a\"",    "[\"a\",]",
		"[,]",       "[1]",   "[\"a\",1]", "[null]",    "[[\"a\"]]",
		"{}",        "\"a\"", "[\"a\"] x", "[\"a\"][]", "[\"a\" \"b\"]",
		"[\"\\q\"]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char **items = NULL;
		size_t n = 0;

		if (json_parse_string_array(bad[i], &items, &n))
			fail_msg("%s parsed", bad[i]);
		assert_null(items);
	}
}

static void test_object(void **state)
{
	struct json_member *m = NULL;
	size_t n = 0;

	assert_true(json_parse_object(
		"{\"a\":1,\"b\":\"x\",\"c\":[1,{\"d\":[]}],\"e\":{},"
		"\"f\":null,\"g\":true,\"h\":false,\"i\":-1.5e+3,"
		"\"k\\u00e9y\":\"v\"}",
		&m, &n));
	assert_int_equal(n, 9);
	assert_string_equal(m[0].key, "a");
	assert_string_equal(m[0].value, "1");
	assert_string_equal(m[1].key, "b");
	assert_string_equal(m[1].value, "\"x\"");
	assert_string_equal(m[2].key, "c");
	assert_string_equal(m[2].value, "[1,{\"d\":[]}]");
	assert_string_equal(m[3].value, "{}");
	assert_string_equal(m[4].value, "null");
	assert_string_equal(m[5].value, "true");
	assert_string_equal(m[6].value, "false");
	assert_string_equal(m[7].value, "-1.5e+3");
	assert_string_equal(m[8].key, "k\xc3\xa9y");
	assert_string_equal(m[8].value, "\"v\"");
	json_members_free(m, n);
}

static void test_object_spaces(void **state)
{
	struct json_member *m = NULL;
	size_t n = 0;

	assert_true(json_parse_object(" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : 0 } ",
				      &m, &n));
	assert_int_equal(n, 2);
	assert_string_equal(m[0].value, "[ 1 , 2 ]");
	assert_string_equal(m[1].value, "0");
	json_members_free(m, n);

	assert_true(json_parse_object("{}", &m, &n));
	assert_int_equal(n, 0);
	json_members_free(m, n);
}

static void test_object_bad(void **state)
{
	const char *bad[] = {
		"",
		"{",
		"}",
		"[]",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,}",
		"{,}",
		"{a:1}",
		"{\"a\":1 \"b\":2}",
		"{\"a\":[1,]}",
		"{\"a\":[1}",
		"{\"a\":{\"b\":1]}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":.5}",
		"{\"a\":1e}",
		"{\"a\":-}",
		"{\"a\":tru}",
		"{\"a\":\"x}",
		"{\"a\":1}}",
		"{\"a\":1} x",
		"{\"a\":[1 2]}",
		"{\"a\":{\"b\" 1}}",
		"{\"a\":{1:1}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct json_member *m = NULL;
		size_t n = 0;

		if (json_parse_object(bad[i], &m, &n))
			fail_msg("%s parsed", bad[i]);
	}
}

/* A hostile nesting must be refused quickly, not blow the stack. */
static void test_object_deep(void **state)
{
	struct buf b = BUF_INIT;
	struct json_member *m = NULL;
	size_t n = 0;

	buf_puts(&b, "{\"a\":");
	for (size_t i = 0; i < 1000000; i++)
		buf_putc(&b, '[');
	for (size_t i = 0; i < 1000000; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	assert_false(json_parse_object(b.data, &m, &n));

	/* 200 levels are fine */
	buf_reset(&b);
	buf_puts(&b, "{\"a\":");
	for (size_t i = 0; i < 200; i++)
		buf_putc(&b, '[');
	for (size_t i = 0; i < 200; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '}');
	assert_true(json_parse_object(b.data, &m, &n));
	assert_int_equal(n, 1);
	assert_int_equal(strlen(m[0].value), 400);
	json_members_free(m, n);
	buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_value),
		cmocka_unit_test(test_string_value_bad),
		cmocka_unit_test(test_string_array),
		cmocka_unit_test(test_string_array_bad),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_object_spaces),
		cmocka_unit_test(test_object_bad),
		cmocka_unit_test(test_object_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
