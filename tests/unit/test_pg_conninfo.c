/* Unit tests of the keywords a PostgreSQL connection is made with
 * (pg_conninfo_make, store_pg_db.c): libpq's defaults where neither the
 * URI, the environment nor a service sets them, the URI winning. The
 * oracle is libpq itself: the keywords go to PQconnectStartParams, as
 * pg_connect's PQconnectdbParams takes them, and PQconninfo says what the
 * connection was made with (its socket is a path that does not exist:
 * libpq fails at once, over no network). Those two are looked up here,
 * apart from pqload.c, which the code under test calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_pg.h"

#define NOWHERE "host=/nonexistent/storysync-test-socket"

static __typeof__(PQconnectStartParams) *connect_start;
static __typeof__(PQconninfo) *conninfo;
static __typeof__(PQconninfoFree) *conninfo_free;
static __typeof__(PQfinish) *finish;

/* The value conn was made with for key (libpq's, "" for none). */
static char got[16][64];
static const char *const watched[] = {
	"connect_timeout",
	"keepalives",
	"keepalives_idle",
	"keepalives_interval",
	"keepalives_count",
	"tcp_user_timeout",
	"application_name",
	"fallback_application_name",
	"host",
};
#define NWATCHED (sizeof(watched) / sizeof(*watched))

/* What libpq makes of the keywords pg_conninfo_make gives for database
 * and server_ms: got[i] for watched[i]. */
static void made_with(const char *database, int server_ms)
{
	struct pg_conninfo ci;
	PGconn *conn;
	PQconninfoOption *opts;

	pg_conninfo_make(&ci, database, server_ms);
	conn = connect_start(ci.keys, ci.values, 1);
	assert_non_null(conn);
	opts = conninfo(conn);
	assert_non_null(opts);
	for (size_t i = 0; i < NWATCHED; i++) {
		got[i][0] = '\0';
		for (PQconninfoOption *o = opts; o->keyword; o++)
			if (strcmp(o->keyword, watched[i]) == 0 && o->val)
				snprintf(got[i], sizeof(got[i]), "%s", o->val);
	}
	conninfo_free(opts);
	finish(conn);
}

static const char *value(const char *key)
{
	for (size_t i = 0; i < NWATCHED; i++)
		if (strcmp(watched[i], key) == 0)
			return got[i];
	fail_msg("%s is not watched", key);
	return NULL;
}

/* Each "keyword=value" given (up to a NULL) is what libpq read back. */
static void expect(const char *kv, ...)
{
	va_list ap;

	va_start(ap, kv);
	for (; kv; kv = va_arg(ap, const char *)) {
		const char *eq = strchr(kv, '=');
		char key[64];

		assert_non_null(eq);
		snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
		if (strcmp(value(key), eq + 1) != 0)
			fail_msg("%s: libpq read '%s', not '%s'", key,
				 value(key), eq + 1);
	}
	va_end(ap);
}

static int setup(void **state)
{
	struct err e;
	void *h;

	(void)state;
	if (!pq_load(&e))
		fail_msg("%s", e.msg);
	h = dlopen("libpq.so.5", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h);
	*(void **)&connect_start = dlsym(h, "PQconnectStartParams");
	*(void **)&conninfo = dlsym(h, "PQconninfo");
	*(void **)&conninfo_free = dlsym(h, "PQconninfoFree");
	*(void **)&finish = dlsym(h, "PQfinish");
	assert_true(connect_start && conninfo && conninfo_free && finish);
	unsetenv("PGSERVICE");
	unsetenv("PGSERVICEFILE");
	unsetenv("PGCONNECT_TIMEOUT");
	unsetenv("PGAPPNAME");
	return 0;
}

/* Nothing set: every default, connect_timeout server_wait's seconds. */
static void test_defaults(void **state)
{
	(void)state;
	made_with("postgresql:///db?" NOWHERE, 60000);
	expect("connect_timeout=60", "keepalives=1", "keepalives_idle=30",
	       "keepalives_interval=10", "keepalives_count=3",
	       "tcp_user_timeout=60000", "fallback_application_name=storysync",
	       "application_name=", "host=/nonexistent/storysync-test-socket",
	       NULL);
}

/* connect_timeout in whole seconds, rounded up, 2 at least (libpq takes
 * 1 as 2). */
static void test_connect_timeout_rounding(void **state)
{
	(void)state;
	made_with("postgresql:///db?" NOWHERE, 500);
	expect("connect_timeout=2", "tcp_user_timeout=500", NULL);
	made_with("postgresql:///db?" NOWHERE, 2500);
	expect("connect_timeout=3", NULL);
}

/* The URI's own values win, the others keep their defaults. */
static void test_uri_wins(void **state)
{
	(void)state;
	made_with("postgresql:///db?" NOWHERE "&connect_timeout=5&keepalives=0"
		  "&keepalives_idle=7&tcp_user_timeout=9&application_name=api",
		  60000);
	expect("connect_timeout=5", "keepalives=0", "keepalives_idle=7",
	       "keepalives_interval=10", "keepalives_count=3",
	       "tcp_user_timeout=9", "application_name=api", NULL);
	made_with("postgresql:///db?" NOWHERE "&keepalives_interval=4"
		  "&keepalives_count=8&fallback_application_name=other",
		  60000);
	expect("keepalives_interval=4", "keepalives_count=8",
	       "fallback_application_name=other", "connect_timeout=60", NULL);
}

/* The environment's connect_timeout and application name win too. */
static void test_environment_wins(void **state)
{
	(void)state;
	setenv("PGCONNECT_TIMEOUT", "9", 1);
	setenv("PGAPPNAME", "cron-job", 1);
	made_with("postgresql:///db?" NOWHERE, 60000);
	unsetenv("PGCONNECT_TIMEOUT");
	unsetenv("PGAPPNAME");
	expect("connect_timeout=9", "application_name=cron-job", "keepalives=1",
	       NULL);
}

/* A service is the admin's whole configuration: none of the defaults
 * but the fallback name, so that the service file's own values apply
 * (a value given as a keyword would win over the service's). Named in
 * the URI or by PGSERVICE. */
static void test_service_none(void **state)
{
	char file[] = "/tmp/test_pg_conninfo.XXXXXX";
	int fd = mkstemp(file);
	static const char text[] = "[ssunit]\n" NOWHERE "\nconnect_timeout=4\n"
				   "keepalives_idle=11\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
			 (ssize_t)(sizeof(text) - 1));
	close(fd);
	setenv("PGSERVICEFILE", file, 1);
	made_with("postgresql:///db?service=ssunit", 60000);
	expect("connect_timeout=4", "keepalives_idle=11", "keepalives=",
	       "tcp_user_timeout=", "fallback_application_name=storysync",
	       NULL);
	setenv("PGSERVICE", "ssunit", 1);
	made_with("postgresql:///db", 60000);
	unsetenv("PGSERVICE");
	unsetenv("PGSERVICEFILE");
	unlink(file);
	expect("connect_timeout=4", "keepalives=", "tcp_user_timeout=", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_connect_timeout_rounding),
		cmocka_unit_test(test_uri_wins),
		cmocka_unit_test(test_environment_wins),
		cmocka_unit_test(test_service_none),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
