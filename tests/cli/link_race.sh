#!/bin/bash
# Issue 19: a symlink git puts in the tree after a run checked the way
# (a checkout beside a run) is not followed either. The run's files in
# .storysync/ (the run record, the journal's rewrite, the stat cache, the
# told errors, the lock, the spare inodes' directory) and a metrics_file
# in the tree were written by
# path after a check made earlier (the configuration's, at load; the
# metrics file's, just before): a .storysync/ swapped for a link out of
# the tree had the run record written there. Each is now opened beneath
# the tree's root through no symlink (openat2 RESOLVE_NO_SYMLINKS), and
# refused with a message. The race is driven by a stop the run makes
# itself (STORYSYNC_TEST_STOP: after its walk; after the metrics file's
# check), never by timing. The oracle: the file system (the directory the
# link leads to stays empty), sqlite3 or psql (a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

# stop_run POINT ARG...: starts a run that stops itself at POINT, in $pid
stop_run() {
  local point=$1
  shift
  before_ss "$@"
  STORYSYNC_TEST_STOP=$point "$STORYSYNC" "$@" >"$O/out" 2>"$O/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; rm -rf "$T" "$O"' EXIT
  if stopped_at $pid; then ok "$point: the run stops there"; else
    not_ok "$point: the run stops there"
  fi
}
# resume: lets the stopped run go on; its exit code in $rc, its output in
# $out and $err
resume() {
  kill -CONT $pid
  wait $pid
  rc=$?
  trap 'rm -rf "$T" "$O"' EXIT
  read_file out "$O/out"
  read_file err "$O/err"
}

git_home
ops_tree 3 'metrics_file: metrics/m.prom\n' metrics
rr=$(run_record)
check_eq "the run record and the metrics, in the tree" "yes|yes" \
  "$([ -s "$rr" ] && echo yes)|$(grep -q '^storysync_healthy' metrics/m.prom && echo yes)"
mkdir "$O/outside"

# ---- .storysync/ made a link out of the tree while the run walks ----
rm backlog/S-3-t.md
stop_run walked sync
mv .storysync "$O/real" && ln -s "$O/outside" .storysync
resume
check_eq ".storysync/ swapped: the run ends, saying it does not write there" \
  "0|yes" \
  "$rc|$(grep -qxF "$T/tree/$rr: Too many levels of symbolic links" <<<"$err" && echo yes)"
check_eq ".storysync/ swapped: nothing written where the link leads" "" \
  "$(ls -A "$O/outside")"
rm .storysync && mv "$O/real" .storysync
run ss
check_eq ".storysync/ back: the next run is quiet, S-3's deletion kept" \
  "0||S-1 S-2" \
  "$rc|$out$err|$(q "SELECT id FROM stories ORDER BY id" | paste -sd ' ')"

# ---- the metrics directory made a link out of the tree after the
# metrics file's check ----
q "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
stop_run metrics-checked sync
mv metrics "$O/metrics-real" && ln -s "$O/outside" metrics
resume
check_eq "metrics/ swapped after the check: not written there, and said" \
  "0|yes|title: API" \
  "$rc|$(grep -qxF "storysync: metrics_file: $T/tree/metrics/m.prom: Too many levels of symbolic links" <<<"$err" && echo yes)|$(grep '^title:' backlog/S-1-t.md)"
check_eq "metrics/ swapped: nothing written where the link leads" "" \
  "$(ls -A "$O/outside")"
rm metrics && mv "$O/metrics-real" metrics
run ss
check_eq "metrics/ back: written again" "0|yes" \
  "$rc|$(grep -q '^storysync_healthy' metrics/m.prom && echo yes)"
# ---- .storysync/ made a link out of the tree before a write: the spare
# inodes' directory (the replaced file kept there) is not made there ----
q "UPDATE stories SET title = 'Spare' WHERE id = 'S-2'"
rm backlog/S-1-t.md # a deletion: the walk stops at its confirmation
stop_run walked sync
mv .storysync "$O/real" && ln -s "$O/outside" .storysync
resume
check_eq ".storysync/ swapped before a write: the file written, nothing where the link leads" \
  "0|title: Spare|" \
  "$rc|$(grep '^title:' backlog/S-2-t.md)|$(ls -A "$O/outside")"
rm .storysync && mv "$O/real" .storysync
run ss
check_eq ".storysync/ back: the next run ends well, the rows kept" "0|S-2 Spare" \
  "$rc|$(q "SELECT id, title FROM stories ORDER BY id" | tr '|' ' ' | paste -sd ' ')"

finish
