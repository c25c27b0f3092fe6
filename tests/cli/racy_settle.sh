#!/bin/bash
# The settle's racy window (FSX_RACY_NS, 20 ms after the last write, as
# the coarse clock may lag a loaded VM's by 11 ms): a person's write in
# place, of the same size, right after a run wrote the file, is seen by
# the next run, never taken for the run's write by its stat data. The run
# stops itself (STORYSYNC_TEST_STOP) right after its writes, before the
# settle (after-writes: the person's write lies within the window, which
# the settle then re-reads), and right after the settle took the written
# file's stat data (settled: the person's write follows the stat the next
# run trusts): no sleep, no timing. Run with the real settle
# (real_sync_tests: no STORYSYNC_TEST_NOSYNC). The oracle reads the
# database with Python's sqlite3 (psycopg2 on a server: a twin), the file
# with sed and stat.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
settle_race ""

finish
