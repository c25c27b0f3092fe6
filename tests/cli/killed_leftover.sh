#!/bin/bash
# Issue 19: nothing is removed from disk before what records it is
# durable. git's version put back beside storysync's uncommitted move (a
# reset --hard after the API moved a story a person had edited) is
# removed by the scan, before the run's transaction, and recorded inside
# it: its deletion (sync_deleted) and the values a person may have typed
# into it (sync_conflicts, model seed 247). A run that never commits
# after the removal (killed at the seam after-writes; stopped by the
# database busy; killed at the unlink itself) used to leave the copy gone
# and no record: the person's value lost unseen. The removal is now in
# the write journal, durable before the unlink, and the next run that
# commits records it. The oracle reads the database with sqlite3 (psql on
# a server: a twin) and the files with sed and git.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=backlog/S-1-one.md
M=refinements/S-1-one.md
there() { [ -e "$1" ] && echo yes || echo no; }
# S-1's conflicts, a line each: kind|kept|fields|the lost priority
conflicts() {
  q "SELECT kind, kept, fields, $(jget lost priority)
     FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id"
}
deleted() { q "SELECT path FROM sync_deleted WHERE story_id = 'S-1'"; }
nconflicts() { q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1'"; }

# leftover TAG: S-1 (priority low) and S-2 committed and synced; a person
# sets S-1's priority to critical (uncommitted), the API moves S-1, a run
# moves the file with both; reset --hard puts git's version (low) back at
# the old path beside the moved file (critical): the person may have
# typed that low back by hand, which no tool can tell from the discard
leftover() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  ss init -q || not_ok "$1: init"
  echo "busy_wait: 1" >>.storysync.yml
  echo .storysync/ >.gitignore
  git add -A && git commit -qm init && ss -q || not_ok "$1: the tree"
  sed -i 's/^priority: low$/priority: critical/' $F
  q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
  ss -q
  git reset -q --hard
  check_eq "$1: git's version back beside storysync's move" \
    "low|critical|refinement|critical" \
    "$(key priority $F)|$(key priority $M)|$(q "SELECT status, priority
      FROM stories WHERE id = 'S-1'")"
}

# recorded TAG: the next run records the copy removed: git's low kept in
# sync_conflicts (kept db), its path in sync_deleted; the row and the
# moved file keep the person's critical; a later run records nothing
# again, and git's version put back once more is removed again
recorded() {
  run ss
  check_eq "$1: the next run records git's low, the copy's deletion" \
    "0|no|critical|refinement|critical|both_changed|db|priority|low|$F" \
    "$rc|$(there $F)|$(key priority $M)|$(q "SELECT status, priority
      FROM stories WHERE id = 'S-1'")|$(conflicts)|$(deleted)"
  check_eq "$1: git's version is the one lost, in full" \
    "backlog|One|body" \
    "$(q "SELECT $(jget lost status), $(jget lost title), $(jget lost body)
      FROM sync_conflicts WHERE story_id = 'S-1'" | tr -d '\n')"
  run ss
  check_eq "$1: the run after records nothing again" "0|1" \
    "$rc|$(nconflicts)"
  git reset -q --hard
  run ss
  check_eq "$1: git's version put back again: removed, recorded once" \
    "0|no|critical|1" \
    "$rc|$(there $F)|$(key priority $M)|$(nconflicts)"
}

# ---- killed after the removal, before the commit ----
leftover killed
killed_run after-writes
check_eq "killed: the copy removed, nothing committed" "137|no|0|" \
  "$rc|$(there $F)|$(nconflicts)|$(deleted)"
recorded killed

# killed twice: the run after the kill is killed too, before its commit;
# the one after that records it, once
leftover killed-twice
killed_run after-writes
killed_run after-writes
check_eq "killed twice: nothing committed" "137|no|0" \
  "$rc|$(there $F)|$(nconflicts)"
recorded killed-twice

# killed, then a --backlog run: it commits, so it records it
leftover killed-then-backlog
killed_run after-writes
run ss --backlog default
check_eq "killed-then-backlog: that run records git's low" \
  "0|both_changed|db|priority|low|$F" "$rc|$(conflicts)|$(deleted)"

# killed, then a --git run: with HEAD the last synced commit and no row
# changed, the hook's run does nothing at all (it reads no journal); the
# record waits for the next run that commits, as a killed run's writes do
leftover killed-then-git
killed_run after-writes
run ss --git
check_eq "killed-then-git: the --git run writes nothing" "0|0|" \
  "$rc|$(nconflicts)|$(deleted)"
run ss
check_eq "killed-then-git: the run after records git's low" \
  "0|both_changed|db|priority|low|$F" "$rc|$(conflicts)|$(deleted)"

# killed, then the API deletes the story: the record is made against
# the row its deletion archived, and the moved file goes with the row
leftover killed-then-deleted
killed_run after-writes
q "DELETE FROM stories WHERE id = 'S-1'"
run ss
check_eq "killed-then-deleted: git's low recorded, the story deleted" \
  "0|both_changed|db|priority|low|no|no|" \
  "$rc|$(conflicts)|$(there $F)|$(there $M)|$(q "SELECT id FROM stories
    WHERE id = 'S-1'")"

# ---- the order on disk (strace, fsync on): the journal's fdatasync ends
# before the copy's unlink begins ----
if command -v strace >/dev/null; then
  leftover ordered
  run env -u STORYSYNC_TEST_NOSYNC \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -y -o "$O/trace" -e trace=fdatasync,fsync,unlinkat "$STORYSYNC"
  check_eq "ordered: the journal synced before the copy is removed" "0|ok" \
    "$rc|$(/usr/bin/python3 - "$O/trace" <<'EOF'
import re, sys
synced = False
for line in open(sys.argv[1]):
    if re.search(r"fdatasync\(\d+<[^>]*\.writes>\) += 0", line):
        synced = True
    elif re.search(r'unlinkat\(.*"S-1-one\.md"', line):
        sys.exit(print("ok" if synced else "removed before the journal's sync"))
print("no unlink of the copy")
EOF
)"
fi

# ---- killed at the unlink itself (strace: SIGKILL on entry, the file
# not yet removed): the journal says a removal the disk did not see; the
# next run finds the copy, removes and records it, once ----
if command -v strace >/dev/null; then
  leftover killed-at-unlink
  run env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -o "$O/trace" -e trace=unlinkat,unlink \
    -e inject=unlinkat:signal=KILL:when=1 "$STORYSYNC"
  check_eq "killed at the unlink: the copy's, still there, nothing committed" \
    "S-1-one.md|yes|0" \
    "$(grep -o 'unlinkat([^,]*, "[^"]*"' "$O/trace" | head -n 1 |
      sed 's/.*"\(.*\)"/\1/')|$(there $F)|$(nconflicts)"
  recorded killed-at-unlink
else
  skip "strace is not installed: the kill at the unlink"
fi

# ---- the database busy: the run removes the copy, then finds the API
# holding the write lock and exits 75, committing nothing ----
if sqlite_only "the API's write lock held by the sqlite3 shell"; then
  leftover busy
  api_hold "UPDATE stories SET title = 'Two, by the API' WHERE id = 'S-2';" &&
    ok "busy: the API holds the write lock" ||
    not_ok "busy: the API holds the write lock"
  run ss
  check_eq "busy: exit 75, the copy removed, nothing recorded" "75|no|" \
    "$rc|$(there $F)|$(deleted)"
  api_commit
  recorded busy
  check_eq "busy: the API's write is kept" "Two, by the API" \
    "$(key title backlog/S-2-two.md)"
fi

finish
