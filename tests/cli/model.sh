#!/bin/bash
# Issue 19's randomized model test (tests/cli/model.py): random file edits,
# moves and deletions, API statements of every form, git commits, discards
# and merges, and stage renames, with runs of every kind in between; after
# each run the rows must equal a fresh import, every losing value must be in
# sync_conflicts, and a second run must be quiet. The suite runs a few fixed
# seeds; STORYSYNC_LONG=1 runs many (STORYSYNC_SEED picks the first).
#
# Not in the suite yet: it still finds losses (a discard of a file that
# storysync rewrote for the API, uncommitted, reverts the API's value with
# no conflict); see issue 19. Run it by hand:
#   STORYSYNC=$PWD/build-test/src/storysync SOURCE_ROOT=$PWD \
#     GEN_STORIES=$PWD/tests/tools/gen-stories bash tests/cli/model.sh
. "$(dirname "$0")/lib.sh"

with_hooks
seed=${STORYSYNC_SEED:-1}
if [ "${STORYSYNC_LONG:-0}" = 1 ]; then seeds=200 steps=120; else seeds=6 steps=60; fi
echo "# seed $seed"
for ((i = 0; i < seeds; i++)); do
  s=$((seed + i))
  if STORYSYNC=$bin python3 "$SOURCE_ROOT/tests/cli/model.py" "$T/m$s" \
      --seed "$s" --steps "$steps" >"$O/model" 2>&1; then
    ok "$(cat "$O/model")"
  else
    not_ok "seed $s" "$(cat "$O/model")"
  fi
  rm -rf "$T/m$s"
done
finish
