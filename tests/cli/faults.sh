#!/bin/bash
# Issue 9's fault sweep: a sync with changes pending on both sides, where
# the k-th openat, write, pwrite64, fsync, fdatasync, renameat, renameat2,
# unlinkat or mkdirat fails with EIO (strace --inject), for every k the run
# makes; then runs with no faults. Each time the tree and the rows converge
# to what a run with no faults gives, no temporary file is left, and the
# database passes integrity_check.
# The long set (STORYSYNC_LONG=1) tries every k of every call
# (FAULT_SWEEP_STEP=n: every n-th); the suite tries, for every call, its
# first and its last and one k drawn (STORYSYNC_SEED) from each run of 20
# between them, so that each call fails in each part of the run.
# A twin: on a server each copy of the tree has a database of its own
# (copy_tree), tree_state's integrity_check is SQLite's only, and the
# database's call that fails is the client's, on its socket: recvfrom
# (libpq's recv) in place of SQLite's pwrite64 and fdatasync on the
# database file, which the server makes there, and sendto (libpq's send):
# after a send that failed mid-message the server waits for the rest and
# libpq for a reply, and server_wait ends the run (1 s here, not 60; its
# bound is busy_wait's too, 0 here: no other writer).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
# what the suite's switch skips is what this tests
unset STORYSYNC_TEST_NOSYNC
sample_space
STEP=${FAULT_SWEEP_STEP:-1}
# ks N: sets KS to the k to try of a call the sync makes N times
ks() { sample_points "$1" 20; }
# LeakSanitizer cannot run under ptrace: leaks are checked by every other
# test, the sweep looks for what the faults do
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace "$@"; }

make_pending
# and a story the API makes in an epic no folder holds yet: the sync makes
# that folder (mkdirat). (It makes no mkdir: only init makes the
# database's folder.)
(cd pending && q "INSERT INTO stories(id, backlog, status, epic,
  title) VALUES ('NEW-E1', 'mobile', 'active', 'fresh-epic', 'In a new folder')")
[ "$(dialect lite server)" = server ] &&
  printf 'busy_wait: 0\nserver_wait: 1\n' >>pending/.storysync.local.yml
# the oracle: the same pending changes synced with no fault
drop_tree want && copy_tree pending want
(cd want && "$STORYSYNC" sync >/dev/null 2>&1)
want=$(tree_state want)

# the suite's switch, which this test leaves off: no fsync at all
drop_tree run && copy_tree pending run
n=$(cd run && STORYSYNC_TEST_NOSYNC=1 traced -f -qq -c -e trace=fsync \
  "$STORYSYNC" sync 2>&1 >/dev/null | awk '$NF == "fsync" { print $4 }')
check_eq "with STORYSYNC_TEST_NOSYNC=1 a sync that writes makes no fsync" \
  0 "${n:-0}"

tried=0
bad=0
failed_runs=0
for call in openat write $(dialect pwrite64 recvfrom) $(dialect "" sendto) fsync \
  $(dialect fdatasync "") renameat renameat2 unlinkat mkdirat; do
  drop_tree run && copy_tree pending run
  n=$(cd run && traced -f -qq -c -e trace=$call "$STORYSYNC" sync \
    2>&1 >/dev/null | awk -v c=$call '$NF == c { print $4 }')
  n=${n:-0}
  bad_call=$bad
  tried_call=0
  ks "$n"
  for k in "${KS[@]}"; do
    tried_call=$((tried_call + 1))
    drop_tree run && copy_tree pending run
    (cd run && traced -f -qq -o /dev/null -e trace=$call \
      -e inject=$call:error=EIO:when=$k "$STORYSYNC" sync >/dev/null 2>&1)
    rc=$?
    tried=$((tried + 1))
    [ "$rc" = 0 ] || failed_runs=$((failed_runs + 1))
    # the runs after: they end clean, whole, as a run with no fault
    if settle run && [ "$state" != "$want" ]; then
      why="did not converge: $(diff <(echo "$state") <(echo "$want") | head -5)"
    fi
    [ "$rc" -ge 128 ] && why="the faulty run died of a signal ($rc)"
    if [ -n "$why" ]; then
      bad=$((bad + 1))
      [ $bad -le 10 ] && not_ok "$call #$k of $n fails (exit $rc)" "$why"
    fi
  done
  if [ "$n" -gt 0 ] && [ "$bad" = "$bad_call" ]; then
    ok "$call: $tried_call of its $n calls failed in turn; all converged"
  elif [ "$n" = 0 ]; then
    not_ok "$call: the sync makes no $call call"
  fi
done
check_eq "no fault lost anything ($tried faulty runs)" 0 "$bad"
if [ $((failed_runs * 4)) -gt "$tried" ]; then
  ok "the faults bit: $failed_runs of the $tried runs failed"
else
  not_ok "the faults bit" "only $failed_runs of the $tried runs failed"
fi
finish
