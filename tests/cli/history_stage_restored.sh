#!/bin/bash
# Review (review6): a stage removed in one commit and put back in a later
# one (a revert), with any other stage change in the same window, is read
# by the committed-history chain (reconcile_history.c) as removed: the
# chain breaks at the version without it. A person's ordinary deletion of
# one of its stories then trips the "stage is gone" guard on every run
# (exit 4), naming a stage that is in the configuration. The same end
# state in one commit goes through.
. "$(dirname "$0")/lib.sh"

git_home

tree() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q && mkdir backlog refinements completed
  cat >.storysync.yml <<'YML'
database: .storysync/stories.db
stages:
  backlog: backlog
  refinement: refinements
  done: completed
YML
  printf -- '---\nid: S-2\ntitle: Two\n---\nb\n' >refinements/S-2-two.md
  printf -- '---\nid: S-3\ntitle: Three\n---\nb\n' >refinements/S-3-three.md
  ss init -q
  printf '.storysync/\n.storysync.local.yml\n' >.gitignore
  git add -A && git commit -qm init && ss -q
}

# ---- control: the end state in one commit ----
tree one
sed -i 's/^  done: completed$/  finished: completed/' .storysync.yml
git commit -qm "done renamed" .storysync.yml
git rm -q refinements/S-2-two.md && git commit -qm "S-2 dropped"
run ss -q
check_eq "one commit: the deletion goes through" "0|" "$rc|$err"

# ---- the stage removed, then restored (git revert) ----
tree reverted
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
