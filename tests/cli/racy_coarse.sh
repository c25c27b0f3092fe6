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
for at in after-writes settled; do
  stages_repo "c/$at" backlog:backlog
  F=backlog/S-1-one.md
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "$at: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  before_ss sync
  STORYSYNC_TEST_STOP=$at "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; cleanup' EXIT
  if stopped_at $pid; then ok "$at: the run stops there"
  else not_ok "$at: the run stops there"; fi
  was=$(key title $F) ino=$(stat -c %i $F) size=$(stat -c %s $F)
  # a person's write in place (the same inode), of the same size
  text=$(sed 's/^title: API$/title: APX/' $F) && printf '%s\n' "$text" >$F
  check_eq "$at: the run's write, then the person's in place, the same size" \
    "API|APX|$ino|$size" "$was|$(key title $F)|$(stat -c '%i|%s' $F)"
  kill -CONT $pid
  wait $pid
  rc=$?
  trap cleanup EXIT
  check_eq "$at: the run ends" 0 "$rc"
  run ss
  check_eq "$at: the next run takes the person's title" "0|APX|APX" \
    "$rc|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"
done

finish
