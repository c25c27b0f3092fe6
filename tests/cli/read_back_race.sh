#!/bin/bash
# A person's write of a file between storysync's rename of its write into
# place and its read back (the run stops itself there:
# STORYSYNC_TEST_STOP=placed). The read back must not take the person's
# content for the one the run agreed with the database: the next run
# takes the person's title. Before, the state recorded the person's blob
# and stat data as agreed, and every later run found the file unchanged:
# the database kept the API's title, the file the person's, for good (the
# API's next write of the story would then have put its own title back
# over the person's). The oracle: the database read by Python's sqlite3
# (psql: a twin), the file by sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
story_tree race backlog/S-1-one.md S-1 One 'priority: low\n'
F=backlog/S-1-one.md
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
before_ss sync
STORYSYNC_TEST_STOP=placed "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null' EXIT
if stopped_at $pid; then ok "the run stops with its write in place"
else not_ok "the run stops with its write in place"; fi
was=$(key title $F)
text=$(sed 's/^title: API$/title: Person/' $F) && printf '%s\n' "$text" >$F
kill -CONT $pid
wait $pid
rc=$?
trap - EXIT
check_eq "the run's write, then the person's; the run ends" "API|Person|0" \
  "$was|$(key title $F)|$rc"
run ss
check_eq "the next run takes the person's title" "0|Person|Person" \
  "$rc|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"
run ss
check_eq "and the one after is quiet" "0||Person" \
  "$rc|$out$err|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")"

finish
