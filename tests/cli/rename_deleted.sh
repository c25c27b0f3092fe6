#!/bin/bash
# A stage renamed in .storysync.yml, then the API's DELETE of a row before
# any run (model seed 624): reconcile_apply relocates the rows there are,
# not the base the deletion saved, which kept the old status name. A
# discard of storysync's move of that story's file (git's version put back
# at the old path) then re-created the row from the base's fields that
# storysync wrote, with the old name: every run exited 1 ("status
# 'completed' has no stage directory"). The base holds the names the
# configuration has now: the run re-creates the row under the new name,
# keeps the API's deleted row in sync_conflicts, and the next is quiet.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
mkdir -p "$T/t" && cd "$T/t" || exit 1
git init -q && mkdir backlog completed
cat >.storysync.yml <<'YML'
database: .storysync/stories.db
stages:
  backlog: backlog
  completed: completed
YML
F=backlog/S-1-one.md
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$F
printf -- '---\nid: S-2\ntitle: Two\n---\nbody two\n' >completed/S-2-two.md
ss init -q
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q
# the API's move and edit, which a run writes (uncommitted)
q "UPDATE stories SET status = 'completed', title = 'API title' WHERE id = 'S-1'"
ss -q
check_eq "the run moved the file for the API" "completed/S-1-one.md|title: API title" \
  "$(ls completed | grep S-1 | sed 's|^|completed/|')|$(grep '^title:' completed/S-1-one.md)"
# the admin renames the stage (committed), the API deletes the row, and a
# stash puts git's version back at the old path
sed -i 's/^  completed: completed$/  done: completed/' .storysync.yml
git commit -qm rename .storysync.yml
q "DELETE FROM stories WHERE id = 'S-1'"
git stash -q -u
check_eq "git's version is back at the old path" "$(git show HEAD:$F)" "$(cat $F)"
run ss -q
check_eq "the run goes through" "0|" "$rc|$err"
check_eq "the rows hold the new name only" "done|done" \
  "$(q "SELECT status FROM stories ORDER BY id" | tr '\n' '|' | sed 's/|$//')"
check_eq "the API's deletion is kept in sync_conflicts" 1 \
  "$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1' AND kind = 'deleted_in_db'")"
before=$(db_digest)
run ss -v
check_eq "the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
finish
