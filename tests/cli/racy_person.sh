#!/bin/bash
# A person's edit read by a run's scan, on a file system whose timestamps
# are whole seconds (an ext4 of 128-byte inodes from a loop device, as
# racy_coarse.sh mounts it; skipped where it cannot be): their second
# write in place, of the same size, within the second of the first keeps
# mtime, ctime, size and inode. The scan's stat data of the first may be
# trusted only once the file system's clock has passed that second, never
# 20 ms of the wall clock after it: the next run must take the second
# write (the old scan recorded the wall clock's now, and the next run took
# the file for the one it had read: the second title lost, the database
# keeping the first). Each attempt starts at a new second (the wall clock
# watched, not slept on); one whose two writes fall in different seconds
# proves nothing and is tried again. The run stops itself after its
# settle (STORYSYNC_TEST_STOP=settled) while the person writes again. Run
# with the real settle (real_sync_tests). The oracle: the database read by
# Python's sqlite3 (psql: a twin), the file by sed and stat.
#
# Then the API's write, which the settle cannot wait for there (its next
# second is too far): the file stays racy, and a run in a later second
# reads it again. That run must record it past the tick: a run after it
# opens it no more (strace). The old scan read it at every run, racy for
# ever, the stat cache's no-op never whole.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

coarse_mount || { finish; exit; }
command -v strace >/dev/null || { echo "strace is needed"; exit 1; }

git_home
F=backlog/S-1-one.md
# next_second: returns once the wall clock's second is a new one
next_second() {
  local s=$EPOCHSECONDS
  while [ "$EPOCHSECONDS" = "$s" ]; do sleep 0.01; done
}
# retitle TITLE: a person's write of $F in place with title TITLE
retitle() {
  local text
  text=$(sed "s/^title: .*/title: $1/" $F) && printf '%s\n' "$text" >$F
}
same=
for ((try = 1; try <= 8 && !same; try++)); do
  stages_repo "c/try$try" backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "try $try: the tree"
  # a new second begins: both writes and the run in it, mostly
  next_second
  retitle Two
  first=$(stat -c '%.9Y|%.9Z|%i|%s' $F)
  before_ss sync
  STORYSYNC_TEST_STOP=settled "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; cleanup' EXIT
  stopped_at $pid || not_ok "try $try: the run stops after its settle"
  retitle Tre
  second=$(stat -c '%.9Y|%.9Z|%i|%s' $F)
  kill -CONT $pid
  wait $pid
  rc=$?
  trap cleanup EXIT
  check_eq "try $try: the run ends" 0 "$rc"
  [ "$first" = "$second" ] && same=1
done
if [ -n "$same" ]; then
  ok "two writes in one second keep mtime, ctime, inode and size ($second)"
  run ss
  check_eq "the next run takes the person's second title" "0|Tre|Tre" \
    "$rc|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"
else
  not_ok "no two writes within one second in 8 tries"
fi

py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
run ss
check_eq "the API's write" "0|API" "$rc|$(key title $F)"
# the file system's clock past the write's second and the one after (an
# even second's mtime may be FAT's two-second tick: the rule waits for
# the clock's second two on), which the wall clock's second two on does
# not promise: the coarse clock that stamps files lags it by a few ms
next_second
next_second
next_second
run ss
check_eq "a run in a later second" "0|" "$rc|$out$err"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq \
  -e trace=open,openat,openat2 -o "$O/trace" "$STORYSYNC" >"$O/out" 2>&1
rc=$?
check_eq "the run after it does not open the file" "0|0" \
  "$rc|$(grep -c 'S-1-one\.md"' "$O/trace")"
check_eq "the API's title stays" "API|API" \
  "$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"

finish
