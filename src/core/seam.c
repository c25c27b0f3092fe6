/*
 * Test seams: a run that kills or stops itself at a named point, so that a
 * test drives a kill or a race exactly instead of by timing.
 */
#include "seam.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The N-th time point is reached, for want "POINT:N" (N from 1); once
 * each time for a plain "POINT". The count is the process's (a run is
 * one thread at its seams). */
static bool reached(const char *want, const char *point)
{
	static unsigned long hits;
	size_t n = strlen(point);
	char *end;
	unsigned long k;

	if (strncmp(want, point, n) != 0)
		return false;
	if (!want[n])
		return true;
	if (want[n] != ':')
		return false;
	k = strtoul(want + n + 1, &end, 10);
	return !*end && ++hits == k;
}

static void at(const char *var, const char *point, int sig)
{
	const char *want = getenv(var);

	if (want && reached(want, point))
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
