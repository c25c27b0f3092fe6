#!/bin/bash
# Issue 19 (model seeds 24, 13): the API writes back a value the story's file
# held in an older commit, so storysync's uncommitted write is a version
# git already holds, in a commit made BEFORE the write. That commit did
# not take the write: a discard of it (checkout --) is still a discard,
# and an edit a person makes on the version put back is still made beside
# the API's value, not on top of it. Neither loses the API's value
# unseen: a discard has it written again (the file's kept as a conflict),
# an edit on git's version wins with the API's value in sync_conflicts,
# as git_discard_api.sh has them for a value no commit held. The oracles:
# sqlite3 (psql on PostgreSQL: a twin) for the rows, sed on the files.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

. "$(dirname "$0")/discard_lib.sh"

# tree DIR: s1_written with the API's critical: the file is byte for
# byte the first commit's, uncommitted
tree() {
  s1_written "$1" critical
  check_eq "$1: the run wrote the API's value, a version the first commit holds" \
    "critical|$(git rev-parse HEAD~1:$F)" "$(key priority)|$(git hash-object $F)"
}
discard() {
  git checkout -- $F
  [ "$(key priority)" = low ] || not_ok "git put low back"
}

tree discard
discard
run ss
check_eq "a discard: the API's value written again, the file's kept" \
  "0|critical|critical|both_changed|db|priority|low" \
  "$rc|$(field priority)|$(key priority)|$(conflicts)"

# the commit the write was made over amended after the discard (model
# seed 13): the run that wrote saw that commit, which HEAD no longer
# reaches; the first commit, which holds the write's content, is older
# than the write all the same, and the discard is still one
tree amend
discard
git commit -q --amend -m "low, amended"
run ss
check_eq "amended: the discard is one, the API's value written again" \
  "0|critical|critical|both_changed|db|priority|low" \
  "$rc|$(field priority)|$(key priority)|$(conflicts)"

for form in edit edit-commit; do
  tree $form
  discard
  sed -i 's/^priority: low$/priority: medium/' $F
  [ $form = edit-commit ] && git commit -qam medium
  run ss
  check_eq "$form: the person's value wins, the API's is not lost unseen" \
    "0|medium|medium|both_changed|file|priority|critical" \
    "$rc|$(field priority)|$(key priority)|$(conflicts)"
done

# a commit after the write that takes it, then one that reverts it (as
# fast as a script makes them: the same second as the write): the revert
# is a person's edit, as ever
tree revert
git commit -qam "the API's critical"
git revert --no-edit HEAD >/dev/null
run ss
check_eq "the write committed, then reverted: the revert is an edit" \
  "0|low|low|" "$rc|$(field priority)|$(key priority)|$(conflicts)"
finish
