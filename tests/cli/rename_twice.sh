#!/bin/bash
# A stage's status renamed twice between two runs, each rename committed,
# with the API's write of the name in between (model seed 723): the run
# compared only the last run's configuration with the current one, so the
# row holding the name in between was refused on every run ("status
# 'refinement-2' has no stage directory") until someone changed it. The
# run follows the renames through the versions of .storysync.yml git
# committed since the last synced commit: the row holding any name in
# between has the name now, and its edit reaches the file. Without such a
# history (the renames not committed) the row is refused by name and
# nothing is lost: the API's edit reaches the file once the row names a
# stage. A hostile history (a version that is not YAML, one with '..', an
# absolute path, a command to run, a version too large to read) is read
# as untrusted text: those versions are left out, nothing is run or
# written outside the tree; a version with more than 256 stages stops
# the history being followed (refused by name). A twin (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# tree DIR: a repository with S-1 in backlog and S-2 in refinement,
# committed and synced once
tree() {
  stages_repo "$1" backlog:backlog refinement:refinements done:completed
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody two\n' >refinements/S-2-two.md
  synced_commit
}

# rename FROM TO: the admin renames a status in .storysync.yml
rename() { sed -i "s/^  $1: refinements\$/  $2: refinements/" .storysync.yml; }
# commit MESSAGE: the configuration's version committed
commit() { git commit -qm "$1" .storysync.yml; }
# api: the API moves S-1 to the name in between and edits its title
api() { q "UPDATE stories SET status = 'refinement-2', title = 'API title' WHERE id = 'S-1'"; }
statuses() { q "SELECT id || ':' || status FROM stories ORDER BY id" | tr '\n' ' '; }

# ---- renamed twice, each committed ----
tree committed
rename refinement refinement-2 && commit "rename 1"
api
rename refinement-2 refinement-3 && commit "rename 2"
run ss -q
check_eq "committed renames: the run goes through" "0|" "$rc|$err"
check_eq "committed renames: every row has the name now" \
  "S-1:refinement-3 S-2:refinement-3 " "$(statuses)"
check_eq "committed renames: the API's move and title reach the file" \
  "title: API title" "$(grep '^title:' refinements/S-1-one.md 2>/dev/null)"
check_eq "committed renames: the file left the backlog" "" "$(ls backlog)"
check_eq "committed renames: S-2's history says the configuration moved it" \
  "refinement|refinement-3|config" \
  "$(q "SELECT from_status || '|' || to_status || '|' || origin FROM status_history WHERE story_id = 'S-2' ORDER BY id DESC LIMIT 1")"
before=$(db_digest)
run ss -v
check_eq "committed renames: the next run is quiet" "0||$before" \
  "$rc|$out|$(db_digest)"

# ---- a rename back to the name the last run saw, the API's name in
# between (and another stage renamed: the stages differ) ----
tree back
rename refinement refinement-2 && commit "rename 1"
api
rename refinement-2 refinement && sed -i 's/^  done: completed$/  finished: completed/' .storysync.yml &&
  commit "rename back"
run ss -q
check_eq "renamed back: the run goes through" "0|" "$rc|$err"
check_eq "renamed back: the row in between has the name now" \
  "S-1:refinement S-2:refinement " "$(statuses)"

# ---- no committed history: refused by name, nothing lost ----
tree uncommitted
rename refinement refinement-2
api
rename refinement-2 refinement-3
file=$(cat backlog/S-1-one.md)
run ss -q
check_eq "uncommitted renames: the row in between is refused by name" \
  "1|story S-1: status 'refinement-2' has no stage directory; refused: nothing written" \
  "$rc|$err"
check_eq "uncommitted renames: the API's row is kept" \
  "refinement-2|API title" \
  "$(q "SELECT status || '|' || title FROM stories WHERE id = 'S-1'")"
check_eq "uncommitted renames: the file is as it was" "$file" \
  "$(cat backlog/S-1-one.md)"
check_eq "uncommitted renames: the other rows followed" "S-2:refinement-3" \
  "$(q "SELECT id || ':' || status FROM stories WHERE id = 'S-2'")"
q "UPDATE stories SET status = 'refinement-3' WHERE id = 'S-1'"
run ss -q
check_eq "uncommitted renames: once the row names a stage, its edit reaches the file" \
  "0||title: API title" \
  "$rc|$err|$(grep '^title:' refinements/S-1-one.md 2>/dev/null)"


# ---- a version with more stages than are followed (300): the history is
# not followed (the work on names is bounded), the row refused by name ----
tree wide
rename refinement refinement-2 && commit "rename 1"
api
{ cat .storysync.yml; for i in $(seq 300); do echo "  extra-$i: extra-$i"; done; } >y &&
  mv y .storysync.yml && commit "300 stages"
git show HEAD~1:.storysync.yml >.storysync.yml
rename refinement-2 refinement-3 && commit "rename 2"
file=$(cat backlog/S-1-one.md)
run ss -q
check_eq "300 stages in between: the row in between is refused by name" \
  "1|story S-1: status 'refinement-2' has no stage directory; refused: nothing written" \
  "$rc|$err"
check_eq "300 stages in between: the API's row and the file are kept" \
  "refinement-2|API title|yes" \
  "$(q "SELECT status || '|' || title FROM stories WHERE id = 'S-1'")|$([ "$file" = "$(cat backlog/S-1-one.md)" ] && echo yes)"
# ---- a hostile history ----
tree hostile
outside=$(ls -a "$T")
# version: .storysync.yml as TEXT, committed
version() { printf '%s' "$1" >.storysync.yml && commit "$2"; }
good=$(cat .storysync.yml)
version $'stages: [\n  refinement-2: {' "not YAML"
version "${good/refinement: refinements/refinement-2: ../refinements}" "dotdot"
version "${good/refinement: refinements/refinement-2: /tmp/refinements}" "absolute"
version "$(printf '%s\nbacklogs:\n  web: ../web\n' "${good/refinement:/refinement-2:}")" "backlog outside"
version "$(printf '%s\nnotify: touch %s/pwned\n' "${good/refinement:/refinement-2:}" "$O")" "a command"
version "${good/database: .storysync\/stories.db/database: $O/evil.db}" "database outside"
{ printf '%s\n' "${good/refinement:/refinement-9:}"; head -c 2000000 /dev/zero | tr '\0' '#'; echo; } >.storysync.yml &&
  commit "too large"
printf '\0\377\376' >.storysync.yml && commit "binary"
version "${good/refinement:/refinement-2:}" "rename 1"
api
version "${good/refinement:/refinement-3:}" "rename 2"
run ss -q
check_eq "hostile history: the run goes through" "0|" "$rc|$err"
check_eq "hostile history: every row has the name now" \
  "S-1:refinement-3 S-2:refinement-3 " "$(statuses)"
check_eq "hostile history: nothing written outside the tree" \
  "$outside|" "$(ls -a "$T")|$(ls "$O" | grep -E 'pwned|evil')"
check_eq "hostile history: nothing at the absolute path" "" \
  "$(ls -d /tmp/refinements 2>/dev/null)"
# ---- a stage a committed version lacked, back by HEAD: never gone ----
# (the history only translates names: a stage the configuration has is
# never taken for removed because a version between lacked it; every run
# exited 4 once one of its stories was deleted)
# third: S-3 beside S-2 in refinements, so that S-2's deletion leaves the
# folder
third() {
  printf -- '---\nid: S-3\ntitle: Three\n---\nb\n' >refinements/S-3-three.md
  git add refinements && git commit -qm S-3 && ss -q
}
# ---- control: the end state in one commit ----
tree one
third
sed -i 's/^  done: completed$/  finished: completed/' .storysync.yml
git commit -qm "done renamed" .storysync.yml
git rm -q refinements/S-2-two.md && git commit -qm "S-2 dropped"
run ss -q
check_eq "one commit: the deletion goes through" "0|" "$rc|$err"

# ---- the stage removed, then restored (git revert) ----
tree reverted
third
good=$(cat .storysync.yml)
grep -v '^  refinement:' .storysync.yml >y && mv y .storysync.yml
git commit -qm "refinement removed" .storysync.yml
printf '%s\n' "$good" | sed 's/^  done: completed$/  finished: completed/' >.storysync.yml
git commit -qm "refinement back, done renamed" .storysync.yml
git rm -q refinements/S-2-two.md && git commit -qm "S-2 dropped"
run ss -q
check_eq "restored stage: the deletion goes through" "0|" "$rc|$err"
run ss -q
check_eq "restored stage: the next run is not stuck" "0|" "$rc|$err"
finish
