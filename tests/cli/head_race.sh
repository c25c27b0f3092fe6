#!/bin/bash
# Issue 19: the versions of the configuration git committed since the
# last synced commit are read from the HEAD the run read from git's
# files, not from HEAD asked again. A stage renamed away and back
# (refinement -> refinement-2 -> refinement, committed) with the API
# writing the middle name in between is explained by those versions (the
# late history read, rename_history.sh). A git reset between the read of
# HEAD and libgit2's walk (here to the last synced commit, whose history
# holds no rename) had the walk read the new HEAD's history and the run
# note the name unexplained under the old HEAD (sync_meta
# config.unexplained): the row refused, and once HEAD came back every run
# took the note on trust and refused it again. The run stops itself
# between the two (STORYSYNC_TEST_STOP=history-head) while the test
# resets HEAD: no timing. The oracle reads the database with sqlite3
# (psql on a server: a twin), git and the files.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"


git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q .
printf 'stages:\n  backlog: backlog\n  refinement: refinements\n  done: completed\nbacklogs:\n  web: web\n' >.storysync.yml
mkdir -p web/backlog web/refinements web/completed
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >web/backlog/S-1-one.md
synced_commit || not_ok "the tree"
since=$(git rev-parse HEAD)
sed -i 's/^  refinement: refinements$/  refinement-2: refinements/' .storysync.yml
git commit -qm rename .storysync.yml
q "UPDATE stories SET status = 'refinement-2', title = 'API title' WHERE id = 'S-1'"
sed -i 's/^  refinement-2: refinements$/  refinement: refinements/' .storysync.yml
git commit -qm back .storysync.yml
head=$(git rev-parse HEAD)

before_ss sync
STORYSYNC_TEST_STOP=history-head "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T" "$O"' EXIT
if stopped_at $pid; then ok "the run stops between HEAD's read and the walk"
else not_ok "the run stops between HEAD's read and the walk"; fi
# HEAD back to the last synced commit (the files are the same: the
# configuration there is the one at HEAD)
git reset -q --soft "$since"
kill -CONT $pid
wait $pid
rc=$?
trap 'rm -rf "$T" "$O"' EXIT
check_eq "the run walked from the HEAD it read: the middle name explained" \
  "0|refinement|API title|web/refinements/S-1-one.md" \
  "$rc|$(q "SELECT status FROM stories WHERE id = 'S-1'")|$(q "SELECT title FROM stories WHERE id = 'S-1'")|$(find web -name 'S-1*')"
check_eq "nothing noted unexplained" "" \
  "$(q "SELECT value FROM sync_meta WHERE key = 'config.unexplained'")"
git reset -q --soft "$head"
run ss
check_eq "HEAD back: the next run is quiet" "0|" "$rc|$out$err"
finish
