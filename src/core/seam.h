#ifndef STORYSYNC_CORE_SEAM_H
#define STORYSYNC_CORE_SEAM_H

/*
 * Test seams: the tests stop or kill the binary at an exact point of a run,
 * not at a time. Each is a no-op unless its variable names the point.
 */

/* Kills the process with SIGKILL when STORYSYNC_TEST_KILL is point, or
 * "point:N" and this is the N-th time the run reaches it. */
void test_seam_kill(const char *point);
/* Stops the process with SIGSTOP when STORYSYNC_TEST_STOP is point: the
 * test does what it needs meanwhile and goes on with SIGCONT. */
void test_seam_stop(const char *point);

#endif
