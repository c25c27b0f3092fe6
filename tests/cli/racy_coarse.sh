#!/bin/bash
# The settle on a file system whose timestamps are coarser than the racy
# window: an ext4 of 128-byte inodes, whose mtimes are whole seconds (FAT's
# are 2 s), mounted from a loop device (as root; skipped where it cannot
# be). A run's write and a person's write in place of the same size within
# one second keep mtime, ctime, size and inode: the settle may trust the
# run's stat data only once the file system's own clock has passed the
# file's mtime, never 20 ms of the wall clock after it (the old settle
# did, and the next run took the person's write for the run's). The run
# stops itself right after the settle took the file's stat data
# (STORYSYNC_TEST_STOP=settled), the person writes, and the next run must
# take the person's title. Run with the real settle (real_sync_tests: no
# STORYSYNC_TEST_NOSYNC). The oracle: the database read by Python's
# sqlite3 (psql: a twin), the file by sed and stat.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

coarse_mount || { finish; exit; }

git_home
touch "$T/c/a"
check_eq "the file system's mtimes are whole seconds" 000000000 \
  "$(stat -c %.9Y "$T/c/a" | cut -d. -f2)"
settle_race c/

finish
