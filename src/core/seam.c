/*
 * Test seams: a run that kills or stops itself at a named point, so that a
 * test drives a kill or a race exactly instead of by timing.
 */
#include "seam.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void at(const char *var, const char *point, int sig)
{
	const char *want = getenv(var);

	if (want && strcmp(want, point) == 0)
		raise(sig);
}

void test_seam_kill(const char *point)
{
	at("STORYSYNC_TEST_KILL", point, SIGKILL);
}

void test_seam_stop(const char *point)
{
	at("STORYSYNC_TEST_STOP", point, SIGSTOP);
}
