#!/bin/bash
# A write journal git tracks is not read. The database's directory is
# ignored, and git overwrites an ignored file when a branch it checks out
# tracks that path: a branch that force-adds the journal had its lines
# replayed by the next run as a killed run's (here an "x" line: a conflict
# recorded whose lost version, title EVIL, is the branch's, for a story no
# one touched). The run now refuses with a message and writes nothing; an
# empty tracked journal is not read (its lines), only warned of, as any
# file of the database's that git tracks is (issue 19), and once
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
# warned JOURNAL: the warning of a journal git tracks, as a run says it
warned() {
  echo "storysync: warning: $1: git tracks this file, storysync's write journal: a checkout, merge or reset of a commit that does not hold it removes it, and one that holds another puts that in its place; untrack it: git rm --cached, and commit"
}
check_eq "the journal is there, empty, ignored" "0|yes" \
  "$(stat -c %s "$journal")|$(git check-ignore -q "$journal" && echo yes)"
# a branch tracks a journal with a leftover's line for S-1
git checkout -q -b evil
printf 'x %s S-1 - - title backlog/x.md\t{"id":"S-1","title":"EVIL"}\n' \
  "$(git hash-object backlog/S-1-one.md)" >"$journal"
git add -f "$journal" && git commit -qm evil
run ss
check_eq "a tracked journal with lines: warned of, refused, nothing recorded" \
  "3|$(warned "$T/tree/$journal")
storysync: $T/tree/$journal: git tracks this file, storysync's write journal: its lines came from the repository and are not read; nothing written: untrack it (git rm --cached) and remove it|0" \
  "$rc|$err|$(q "SELECT count(*) FROM sync_conflicts")"
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
check_eq "a tracked empty journal: warned of, the run goes on" \
  "0|$(warned "$T/tree/$journal")|title: API again" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)"

# git's split index (core.splitIndex), which libgit2 cannot read
# ("unsupported mandatory extension: 'link'"): a killed run's journal had
# every later run fail (exit 3), its writes never finished. gitindex.c
# reads the split index: a journal it does not list is read (no note: the
# index said), one it lists is refused as a tracked one. The oracle reads
# the files, the database (sqlite3 or psql) and whether the index is split
# with git's own.
mkdir -p "$T/split" && cd "$T/split" || exit 1
git init -q . && git config core.splitIndex true && mkdir backlog refinements
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
ss init -q || not_ok "init (split)"
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "the tree (split)"
rr=$(run_record) && journal=${rr%.run}.writes
q "UPDATE stories SET title = 'API one' WHERE id = 'S-1'"
sed -i 's/^title: Two$/title: File two/' backlog/S-2-two.md
STORYSYNC_TEST_KILL=after-writes ss -q >/dev/null 2>&1
check_eq "a killed run left journal lines; git's index is split" "yes|yes" \
  "$([ -s "$journal" ] && echo yes)|$(ls .git/sharedindex.* >/dev/null 2>&1 && echo yes)"
run ss -v
check_eq "split index: the journal is read, the index read (not unknown)" "" \
  "$(grep -F "is not known" <<<"$err")"
check_eq "and nothing lost: the run's writes finished, no conflict" \
  "0|title: API one|API one|File two|0|0" \
  "$rc|$(grep '^title:' backlog/S-1-one.md)|$(q "SELECT title FROM stories WHERE id = 'S-1'")|$(q "SELECT title FROM stories WHERE id = 'S-2'")|$(q "SELECT count(*) FROM sync_conflicts")|$(stat -c %s "$journal")"
q "UPDATE stories SET title = 'API two' WHERE id = 'S-2'"
run ss
check_eq "the next run goes on" "0||title: API two" \
  "$rc|$err|$(grep '^title:' backlog/S-2-two.md)"
# a commit holding a journal with lines, checked out, the index split
git checkout -q -b evil
printf 'x %s S-1 - - title backlog/x.md\t{"id":"S-1","title":"EVIL"}\n' \
  "$(git hash-object backlog/S-1-one.md)" >"$journal"
git add -f "$journal" && git commit -qm evil
q "UPDATE stories SET title = 'API three' WHERE id = 'S-1'"
run ss
check_eq "split index, HEAD holds the journal: warned of, refused, nothing written" \
  "3|$(warned "$T/split/$journal")
storysync: $T/split/$journal: git tracks this file, storysync's write journal: its lines came from the repository and are not read; nothing written: untrack it (git rm --cached) and remove it|0|title: API one|API three" \
  "$rc|$err|$(q "SELECT count(*) FROM sync_conflicts")|$(grep '^title:' backlog/S-1-one.md)|$(q "SELECT title FROM stories WHERE id = 'S-1'")"
git rm -q --cached "$journal" && git commit -qm "untracked" && rm "$journal"
run ss
check_eq "untracked and removed: the run goes on, no conflict" \
  "0||title: API three|0" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)|$(q "SELECT count(*) FROM sync_conflicts")"
finish
