#ifndef STORYSYNC_CORE_JSON_H
#define STORYSYNC_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * The small JSON the story columns need. Output is compact (no spaces),
 * strings escape only '"', '\\' and control characters (as \n, \t, ... or
 * \u00XX), so it equals what SQLite's json() makes of it.
 */

/* Appends s (n bytes) as a JSON string literal. */
void json_put_string(struct buf *b, const char *s, size_t n);
/* A JSON array of the n strings, compact. */
char *json_string_array(char *const *items, size_t n);
/* Parses a JSON array of strings; *items is a NULL-terminated heap vector
 * (free with strv_free). False when json is not such an array. */
bool json_parse_string_array(const char *json, char ***items, size_t *n);

/* One member of a JSON object: its key and its value as raw JSON text. */
struct json_member {
	char *key;
	char *value;
};
/* Parses a JSON object into its members, in order. False when json is not
 * an object. Free with json_members_free. */
bool json_parse_object(const char *json, struct json_member **members,
		       size_t *n);
/* Frees what json_parse_object returned. */
void json_members_free(struct json_member *members, size_t n);
/* The string value of a JSON string literal (unescaped), or NULL when value
 * is not a string literal. */
char *json_string_value(const char *value);

/* Frees a NULL-terminated string vector. */
void strv_free(char **v);

#endif
