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
for at in after-writes settled; do
  stages_repo "$at" backlog:backlog
  F=backlog/S-1-one.md
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "$at: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  before_ss sync
  STORYSYNC_TEST_STOP=$at "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; rm -rf "$T" "$O"' EXIT
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
  trap 'rm -rf "$T" "$O"' EXIT
  check_eq "$at: the run ends" 0 "$rc"
  run ss
  check_eq "$at: the next run takes the person's title" "0|APX|APX" \
    "$rc|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"
done

finish
