#!/bin/bash
# Issue 19's randomized model test (tests/cli/model.py): random file edits,
# moves and deletions, API statements of every form, git commits, discards
# and merges, and stage renames (now and then back to a name the stage
# had: A -> B -> A), with runs of every kind in between; after
# each run the rows must equal a fresh import, every losing value must be in
# sync_conflicts, and a second run must be quiet. The suite runs two fixed
# seeds; STORYSYNC_LONG=1 runs 200 (STORYSYNC_SEED picks the first) and
# the regression seeds of losses (and stuck runs) fixed since (git_stale.sh has each as a
# test of its own: 411, 414; rename_deleted.sh: 624; discard_config.sh: 688;
# rename_twice.sh: 723; git_before.sh: 4; discard_moved.sh: 406, 766,
# 742; 795 was the model's own mistake),
# those found before the model had kills, configuration changes beyond a
# status rename, history rewrites and dry runs replayed with the actions
# they were found with (--classic); and those found since
# (git_checkout_old.sh: 2, 5, 6; git_discard_old.sh: 13; killed_*.sh:
# 38, 47, and 8 at 120 steps; killed_delete.sh: 4 at 120 steps;
# git_checkout_old.sh: 121, 117; killed_*.sh: 140, 152, 79 at 120
# steps; git_discard_api.sh: 247; killed_*.sh: 266, 3102, 63, 106 and 189 at 120
# steps; discard_config.sh:
# 240; git_checkout_old.sh: 255, 269, 156; 74 and 43 at 120 steps and 3
# at 300 were the model's own mistakes; at 60 steps unless named). The
# widest set (--wide: configuration changes thrown away by stash, reset
# --hard or checkout -- . while not committed, the API writing backlog
# names and older configurations' names, renames back of stages and
# backlogs with the API writing the middle name, each after a kill too)
# runs seed 3 in the suite; STORYSYNC_LONG=1 runs 100 more and its own
# regression seeds (discard_config.sh: 26, 1053; killed_*.sh: 118,
# 150, 228, 249, 255, 1070, 1036, 190, 1099, 215, 1006; rename_history.sh: 142;
# config_change.sh: 1195; git_discard_api.sh: 1201; killed_write.sh: 1355;
# discard_moved.sh: 1362, 1347, 1506, 1598, 1663; conflict_record.sh: 1350;
# killed_rename.sh: 1384; rename_history.sh: 1404; killed_move.sh: 1563,
# 1549; killed_discard.sh: 1640; copies_moved.sh: 153 (listed with the
# model's mistakes before); 125, 130, 1073, 1001, 1093, 1348, 1451 and
# 1476 were the model's own mistakes; a seed of both lists runs once).
# The --wider set (the wide set and what issue 19 names that it lacked:
# files saved with CRLF, comments a person adds (which no run may drop),
# an UPDATE of several fields, upserts of the priority and the status, a
# dependency moved to another story by UPDATE story_dependencies SET
# story_id, INSERT OR REPLACE of a dependency, a file moved to another
# backlog, git revert, git reset --hard HEAD~1, kills right after a file
# swapped in place) runs under STORYSYNC_LONG=1: 1-50 and its
# regression seeds (killed_discard.sh: 39; claims_commit.sh: 131; 2, 23,
# 62, 82, 910, 102 and 104 were the model's own mistakes; 27, git's copy
# put back beside storysync's uncommitted move then moved by a person,
# discard_moved.sh).
# By hand: python3 tests/cli/model.py DIR --seed N [--steps N]
# [--classic | --wide | --wider], or a sweep through this script (on a server too,
# under --setup postgresql): MODEL_SEEDS=N (from
# STORYSYNC_SEED), MODEL_STEPS=N and MODEL_SET=wide|wider|classic run those
# seeds alone (MODEL_DEBUG=1
# shows each run's exit, output and recorded changes, observing only: the
# suite checks a seed is the same with it; MODEL_LOG=1 a passing seed's actions too). A twin: under --setup postgresql each seed's
# tree has a database of its own on the server lib.sh starts (model.py's
# MODEL_PGHOST), and the API writes PostgreSQL's statement forms.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

with_hooks
seed=${STORYSYNC_SEED:-1}
classic="" regress="" wide="" wide_regress="" wider="" set=""
if [ -n "${MODEL_SEEDS:-}" ]; then
  # a count from STORYSYNC_SEED, not a list: anything else ran nothing
  case $MODEL_SEEDS$seed in
  *[!0-9]*) echo "model.sh: MODEL_SEEDS and STORYSYNC_SEED take a number: $MODEL_SEEDS, $seed" >&2
    exit 1 ;;
  esac
  seeds=$MODEL_SEEDS steps=${MODEL_STEPS:-60}
  [ -n "${MODEL_SET:-}" ] && set=--${MODEL_SET}
elif [ "${STORYSYNC_LONG:-0}" = 1 ]; then
  seeds=200 steps=120 classic="4 406 411 414 624 688 723 742 766 795"
  regress="2 5 6 13 38 47 8:120 4:120 121 117 140 152 74 79:120 43:120 247 266 240 255 269 156 3:300 3102 63:120 106:120 189:120"
  wide=$(seq 1001 1100)
  wide_regress="26 118 125 130 142 150 228 249 255 1053 1073 1070 1036 190 1099 215 1001 153 1093 1195 1201 1355 1006 1348 1404 1451 1476 1362 1350 1347 1384 1506 1587 1598 1563 1549 1640 1663"
  wider="$(seq 1 50) 62 82 910 102 104 131"
else
  seeds=2 steps=60 wide=3
fi
pghost=
[ "${STORYSYNC_TEST_PG:-0}" = 1 ] && pghost=$PGDIR
# one SEED STEPS [--classic]: a seed's run, ok or not
one() {
  if STORYSYNC=$bin MODEL_PGHOST=$pghost python3 "$SOURCE_ROOT/tests/cli/model.py" "$T/m$1" \
      --seed "$1" --steps "$2" ${3:-} >"$O/model" 2>&1; then
    ok "$(cat "$O/model")${3:+ ($3)}"
  else
    not_ok "seed $1${3:+ ($3)}" "$(cat "$O/model")"
  fi
  rm -rf "$T/m$1"
}
echo "# seed $seed"
for s in $(seq "$seed" $((seed + seeds - 1))); do one "$s" "$steps" $set; done
for s in $classic; do one "$s" "$steps" --classic; done
# SEED or SEED:STEPS (60 when not given)
for s in $regress; do
  n=60
  [ "${s#*:}" != "$s" ] && n=${s#*:}
  one "${s%%:*}" "$n"
done
for s in $(printf '%s\n' $wide $wide_regress | awk '!seen[$0]++'); do
  one "$s" 60 --wide
done
for s in $wider; do one "$s" 60 --wider; done
# MODEL_DEBUG=1 observes only (issue 19): it ran storysync with -v, whose
# lines the model then took for errors, and seed 1005 (--wide) failed at
# step 50 with it, passing without; with it the seed is the same seed,
# each run shown
if [ -z "${MODEL_SEEDS:-}" ]; then
  for dbg in "" 1; do
    STORYSYNC=$bin MODEL_PGHOST=$pghost MODEL_DEBUG=$dbg python3 \
      "$SOURCE_ROOT/tests/cli/model.py" "$T/mdebug" --seed 1005 --steps 60 \
      --wide >"$O/model$dbg" 2>"$O/model$dbg.err"
    rm -rf "$T/mdebug"
  done
  check_eq "seed 1005 (--wide) passes" "ok - seed 1005" \
    "$(head -c 14 "$O/model")"
  check_eq "MODEL_DEBUG=1: the same seed, the same actions" \
    "$(cat "$O/model")" "$(cat "$O/model1")"
  check_eq "MODEL_DEBUG=1 shows the runs, without it nothing" "1|" \
    "$(grep -qc '^\$ storysync ' "$O/model1.err" && echo 1)|$(cat "$O/model.err")"
fi
finish
