#ifndef STORYSYNC_CORE_SEAM_H
#define STORYSYNC_CORE_SEAM_H

/* Kills this process (SIGKILL) when $STORYSYNC_TEST_KILL names point: the
 * tests' way to stop a run at an exact place and see the next one
 * converge. */
void test_seam_kill(const char *point);

#endif
