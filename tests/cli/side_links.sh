#!/bin/bash
# Issue 19: whoever can push could stop syncing for good by committing a
# symlink at the name of one of storysync's own files beside the database
# (the run lock, the write journal: exit 3 on every run, "Too many levels
# of symbolic links"), or at the log: or metrics_file: path in the tree
# (exit 2 at every load: "a dangling symlink"). Those files are
# storysync's and never versioned content: a link (or a directory, a
# FIFO) there is removed, never followed, and the file made afresh, with
# a warning that names it and says when git tracks it (one warning: the
# tracked file's own is not given again by that run); a regular file is
# never removed (a lock another run holds stays held: exit 75). Nothing
# is written where a link leads. The oracles: the file system (the directory the links
# lead to stays empty; the link gone), git's index (git ls-files), the
# database read by sqlite3 or psql (a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
ops_tree 2 'metrics_file: metrics/m.prom\nlog: log/sync.log\n' metrics log
rr=$(run_record) && base=${rr%.run}
mkdir "$O/outside"

# the warnings a run gives for a link at FILE, storysync's WHAT: removed
# (and tracked: TRACKED set)
removed() {
  printf 'storysync: warning: %s: a symbolic link where storysync keeps its %s, never versioned content: removed (not followed), made afresh' \
    "$T/tree/$1" "$2"
  [ -z "${3:-}" ] || printf '; git tracks it: untrack it: git rm --cached, and commit'
  echo
}
tracked() {
  printf "storysync: warning: %s: git tracks this file, storysync's %s: a checkout, merge or reset of a commit that does not hold it removes it, and one that holds another puts that in its place; untrack it: git rm --cached, and commit\n" \
    "$T/tree/$1" "$2"
}

# ---- a link committed at each side file's name: each run goes on ----
n=0
for pair in "lock:run lock" "run:run record" "told:told errors" \
  "writes:write journal" "writes.new:write journal's rewrite" \
  "statcache:stat cache" "spare:spare inodes' directory"; do
  suf=${pair%%:*} what=${pair#*:} f=$base.${pair%%:*}
  n=$((n + 1))
  rm -rf "$f" && ln -s "$O/outside/$suf" "$f" && git add -f "$f" &&
    git commit -qm "a link at $suf" || not_ok "$suf: the link committed"
  # a change on each side, so that the run writes the tree, the
  # database, its journal and its spare inodes
  q "UPDATE stories SET title = 'API $n' WHERE id = 'S-1'"
  sed -i "s/^title: .*/title: File $n/" backlog/S-2-t.md
  run ss -q
  check_eq "$suf: a link git tracks: removed, said once, the run ends well" \
    "0|$(removed "$f" "$what" tracked)" "$rc|$err"
  check_eq "$suf: nothing lost, the link gone, nothing where it led" \
    "title: API $n|File $n|no|" \
    "$(grep '^title:' backlog/S-1-t.md)|$(q "SELECT title FROM stories WHERE id = 'S-2'")|$([ -L "$f" ] && echo yes || echo no)|$(ls -A "$O/outside")"
  if [ $n = 1 ]; then
    run ss -q
    check_eq "$suf: the next run, git tracking the file made afresh: said" \
      "0|$(tracked "$f" "$what")" "$rc|$err"
  fi
  git rm -q --cached "$f" && git commit -qm "$suf untracked"
  run ss
  check_eq "$suf: untracked, the next run is quiet" "0|" "$rc|$out$err"
done

# ---- one no commit tracks: said so, without the git part ----
rm "$base.lock" && ln -s "$O/outside/lock" "$base.lock"
q "UPDATE stories SET title = 'API untracked' WHERE id = 'S-1'"
run ss
check_eq "a link at the lock, untracked: removed, said, the edit written" \
  "0|$(removed "$base.lock" "run lock")|title: API untracked|" \
  "$rc|$err|$(grep '^title:' backlog/S-1-t.md)|$(ls -A "$O/outside")"

# ---- a directory there: an empty one is removed (a submodule's), one
# with files is not, the run fails and says why, nothing lost ----
rm "$base.writes" && mkdir -p "$base.writes/sub"
q "UPDATE stories SET title = 'API dir' WHERE id = 'S-1'"
run ss
check_eq "a directory with files at the journal: not removed, exit 3, said" \
  "3|storysync: warning: $T/tree/$base.writes: a directory, not storysync's file, not removed: Directory not empty (storysync's write journal)
storysync: $T/tree/$base.writes: Is a directory|title: API untracked|API dir" \
  "$rc|$err|$(grep '^title:' backlog/S-1-t.md)|$(q "SELECT title FROM stories WHERE id = 'S-1'")"
rmdir "$base.writes/sub"
run ss
check_eq "an empty directory there: removed, said, the edit written" \
  "0|storysync: warning: $T/tree/$base.writes: a directory where storysync keeps its write journal, never versioned content: removed (not followed), made afresh|title: API dir" \
  "$rc|$err|$(grep '^title:' backlog/S-1-t.md)"

# ---- log: and metrics_file: in the tree, links committed there (was
# exit 2 at every load, "a dangling symlink") ----
rm -f metrics/m.prom log/sync.log
ln -s "$O/outside/m.prom" metrics/m.prom && ln -s "$O/outside/sync.log" log/sync.log
git add -f metrics/m.prom log/sync.log && git commit -qm "links at the log and metrics"
q "UPDATE stories SET title = 'API ops' WHERE id = 'S-1'"
run ss -q
check_eq "links at log: and metrics_file:: removed, said, the run ends well" \
  "0|storysync: warning: $T/tree/log/sync.log: a symbolic link where storysync keeps its log, never versioned content: removed (not followed), made afresh; git tracks it: untrack it: git rm --cached, and commit
storysync: warning: $T/tree/metrics/m.prom: a symbolic link where storysync keeps its metrics file, never versioned content: removed (not followed), made afresh; git tracks it: untrack it: git rm --cached, and commit|title: API ops" \
  "$rc|$err|$(grep '^title:' backlog/S-1-t.md)"
check_eq "the log and the metrics written in the tree, nothing where the links led" \
  "yes|yes|" \
  "$([ -f log/sync.log ] && [ ! -L log/sync.log ] && grep -q . log/sync.log && echo yes)|$(grep -q '^storysync_healthy' metrics/m.prom && echo yes)|$(ls -A "$O/outside")"
git rm -q --cached metrics/m.prom log/sync.log && git commit -qm untracked

# ---- a lock a run holds (a regular file) is never removed ----
ino=$(stat -c %i "$base.lock")
hold_lock "$base.lock" || not_ok "the lock held"
q "UPDATE stories SET title = 'API held' WHERE id = 'S-1'"
run ss -v
check_eq "a held lock: exit 75, the lock file kept" \
  "75|storysync: another storysync run holds $T/tree/$base.lock|$ino" \
  "$rc|$err|$(stat -c %i "$base.lock")"
release_lock
finish
