#!/bin/bash
# Issue 9's out-of-memory sweep: the k-th allocation of a sync fails, for
# every k the run makes (through the link-time seam of tests/oom), once
# with changes pending on both sides and once for a first import. Each
# faulty run must exit 3 with "out of memory" (never abort), record itself
# as a failed run once the database is open, and the next run must
# converge to what a run with no fault gives, leave no temporary file and
# pass integrity_check. The long set (STORYSYNC_LONG=1) tries every k
# (OOM_SWEEP_STEP=n: every n-th); the suite tries the first and the last
# and one k drawn (STORYSYNC_SEED) from each run of 60 between them, so
# that an allocation fails in every part of the run, from the start to
# after the commit.
# every run is checked for leaks: an allocation that fails is where a
# leak hides (lib.sh)
STORYSYNC_TEST_LEAKS=all
. "$(dirname "$0")/lib.sh"

: "${STORYSYNC_FAILALLOC:?run through meson test}"
# the runs as they are, with their fsyncs and waits
unset STORYSYNC_TEST_NOSYNC
sample_space
STEP=${OOM_SWEEP_STEP:-1}
# ks N: sets KS to the k to try of a sync that allocates N times
ks() { sample_points "$1" 60; }

# sweep NAME DIR: DIR is the tree before the sync
sweep() {
  local name=$1 pristine=$2 n k bad=0 tried=0 recorded=0 bad_run
  rm -rf want && cp -a "$pristine" want
  (cd want && ss sync >/dev/null 2>&1)
  want=$(tree_state want)
  rm -rf run && cp -a "$pristine" run
  (cd run && STORYSYNC_ALLOC_COUNT="$O/count" "$STORYSYNC_FAILALLOC" sync \
    >/dev/null 2>&1)
  read_file n "$O/count"
  check_eq "$name: the seam counts the sync's allocations" yes \
    "$([ "$n" -gt 100 ] && echo yes || echo "only $n")"
  ks "$n"
  for k in "${KS[@]}"; do
    rm -rf run && cp -a "$pristine" run
    (cd run && STORYSYNC_FAIL_ALLOC=$k exec "$STORYSYNC_FAILALLOC" sync \
      >/dev/null 2>"$O/err")
    rc=$?
    tried=$((tried + 1))
    read_file err "$O/err"
    bad_run=
    if [ "$rc" = 3 ]; then
      [[ $err == "storysync: out of memory"* || $err == *$'\nstorysync: out of memory'* ]] ||
        bad_run="exit 3 without 'out of memory': ${err:0:200}"
      if [[ $err =~ \(recorded\ as\ run\ \#([0-9]+)\) ]]; then
        id=${BASH_REMATCH[1]}
        recorded=$((recorded + 1))
        row=$(sqlite3 -batch run/$DB "SELECT exit_code, messages LIKE
          '%out of memory%' FROM sync_runs WHERE id = $id")
        [ "$row" = "3|1" ] || bad_run="run #$id is recorded as '$row'"
      fi
    elif [ "$rc" != 0 ]; then
      bad_run="exit $rc: ${err:0:200}"
    fi
    # the runs after: they end clean, whole, as a run with no fault
    if settle run && [ -z "$bad_run" ] && [ "$state" != "$want" ]; then
      why="did not converge: $(diff <(echo "$state") <(echo "$want") | head -5)"
    fi
    [ -z "$bad_run" ] || why=$bad_run
    if [ -n "$why" ]; then
      bad=$((bad + 1))
      [ $bad -le 10 ] && not_ok "$name: allocation #$k of $n fails" "$why"
    fi
  done
  check_eq "$name: every failed allocation ended cleanly ($tried runs)" 0 "$bad"
  # all but those before the database opens and those after the commit
  check_eq "$name: most failed runs are recorded as runs" yes \
    "$([ $((recorded * 2)) -gt "$tried" ] && echo yes ||
      echo "$recorded of $tried")"
}

make_pending
sweep "pending changes" pending

"$GEN_STORIES" "$T/fresh" --count 12 2>/dev/null
(cd "$T/fresh" && ss init >/dev/null) || not_ok "init the fresh tree"
sweep "first import" fresh

finish
