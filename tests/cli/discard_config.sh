#!/bin/bash
# Issue 19 (model seed 688): storysync's uncommitted write of the API's
# value is discarded (checkout --) and, before the next run, an admin
# renames a stage in .storysync.yml (the story's own, or another). The
# run that meets both relocates the rows, state and bases first; the
# discard must stay a discard: the API's value written again, the file's
# kept in sync_conflicts, never the file's value taken for a person's
# edit. Seed 688's write was byte for byte the first commit's version of
# the file (as git_discard_old.sh has it), which is why it was lost
# before 5dde71b; both shapes (a version git held, one it never held) are
# checked here. The oracles: sqlite3 for the rows, sed on the files.
. "$(dirname "$0")/lib.sh"

git_home

. "$(dirname "$0")/discard_lib.sh"

# tree DIR VALUE: s1_written (the API's VALUE written: critical is the
# first commit's version, byte for byte; high a version git never held),
# then thrown away by checkout --
tree() {
  s1_written "$@"
  check_eq "$1: the run wrote the API's $2" "$2" "$(key priority)"
  git checkout -- $F
  [ "$(key priority)" = low ] || not_ok "$1: git put low back"
}

for want in critical high; do
  for rename in own other; do
    tree $want-$rename $want
    if [ $rename = own ]; then
      sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
      status=todo
    else
      sed -i 's/^  refinement: refinements$/  idea: refinements/' .storysync.yml
      status=backlog
    fi
    grep -q "^  $status: backlog$" .storysync.yml || not_ok "the rename"
    run ss
    check_eq "$want, $rename stage renamed: the discard stays a discard" \
      "0|$want|$want|$status|both_changed|db|priority|low" \
      "$rc|$(field priority)|$(key priority)|$(field status)|$(conflicts)"
  done
done
finish
