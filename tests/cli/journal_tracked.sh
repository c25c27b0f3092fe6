#!/bin/bash
# A write journal git tracks is not read. The database's directory is
# ignored, and git overwrites an ignored file when a branch it checks out
# tracks that path: a branch that force-adds the journal had its lines
# replayed by the next run as a killed run's (here an "x" line: a conflict
# recorded whose lost version, title EVIL, is the branch's, for a story no
# one touched). The run now refuses with a message and writes nothing; an
# empty tracked journal is not looked at (no index read for it), and once
# untracked and removed the runs go on. The oracle reads the database
# with sqlite3 (psql on a server: a twin) and git's index with git.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q . && mkdir backlog refinements
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
ss init -q || not_ok "init"
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "the tree"
rr=$(run_record) && journal=${rr%.run}.writes
check_eq "the journal is there, empty, ignored" "0|yes" \
  "$(stat -c %s "$journal")|$(git check-ignore -q "$journal" && echo yes)"
# a branch tracks a journal with a leftover's line for S-1
git checkout -q -b evil
printf 'x %s S-1 - - title backlog/x.md\t{"id":"S-1","title":"EVIL"}\n' \
  "$(git hash-object backlog/S-1-one.md)" >"$journal"
git add -f "$journal" && git commit -qm evil
run ss
check_eq "a tracked journal with lines: refused, nothing recorded" \
  "3|$journal: git tracks this file, storysync's write journal: its lines came from the repository and are not read; nothing written: untrack it (git rm --cached) and remove it|0" \
  "$rc|${err#storysync: $T/tree/}|$(q "SELECT count(*) FROM sync_conflicts")"
q "UPDATE stories SET title = 'API title' WHERE id = 'S-1'"
run ss
check_eq "refused again, the API's edit not written, the row kept" \
  "3|title: One|API title" \
  "$rc|$(grep '^title:' backlog/S-1-one.md)|$(q "SELECT title FROM stories WHERE id = 'S-1'")"
git rm -q --cached "$journal" && git commit -qm "untracked" && rm "$journal"
run ss
check_eq "untracked and removed: the run goes on, no conflict" \
  "0||title: API title|0" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)|$(q "SELECT count(*) FROM sync_conflicts")"
# tracked but empty: nothing to replay, not looked at
: >"$journal" && git add -f "$journal" && git commit -qm empty
q "UPDATE stories SET title = 'API again' WHERE id = 'S-1'"
run ss
check_eq "a tracked empty journal: the run goes on" "0||title: API again" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)"
finish
