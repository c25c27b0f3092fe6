#!/bin/bash
# Issue 26: every run read git's whole index (14 MB at 100k stories) to
# warn when git tracks the database or one of its side files (issue 19:
# db_tracked.sh, side_links.sh). The run record now keeps the index
# file's stat data (device, inode, size, mtime and ctime in ns) when a
# read of it listed none of them, and the next run does not read an
# index with those: a file git starts tracking comes with an index
# change. A file the index no longer lists but HEAD's commit holds
# (git rm --cached, not committed) is warned of too: the stamp keeps
# HEAD's commit, and a run that finds HEAD moved reads the index again.
# The configuration's check of its untracked companion
# (.storysync.local.yml: refused when git tracks it) read the index at
# every load as well, before the run's lock; it keeps a stamp of its own
# in the record (local_none). The oracles: strace (the index opened or
# not, before the lock or after), git, the messages' text, the record
# file's lines, the database's rows.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace "$@"; }
# index_opens ARGS...: a run; how many times it opened git's index
# (strace) in $opens, and before it took its lock (the configuration's
# check of the companion) in $cfg_opens, its stderr in $err
index_opens() {
  traced -f -qq -e trace=open,openat,openat2 -o "$O/trace" \
    "$STORYSYNC" "$@" >"$O/out" 2>"$O/err"
  read_file err "$O/err"
  cfg_opens=$(awk '/\.lock"/ { exit } /\/\.git\/index"/ { n++ }
    END { print n + 0 }' "$O/trace")
  opens=$(($(grep -c '/\.git/index"' "$O/trace") - cfg_opens))
}
# stamped: runs until the record keeps the index's stamps (a run records
# none while the index was written within the racy window), at most 50
stamped() {
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q '^index_none ' "$(run_record)" &&
      grep -q '^local_none ' "$(run_record)" && return 0
    ss -q || return 1
  done
  return 1
}

git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "the tree"
rec=$(run_record)
# a companion config (the twin's names the server; git ignores it):
# checked at every load (config.c's check_local)
[ -f .storysync.local.yml ] || printf 'log: none\n' >.storysync.local.yml

# ---- nothing tracked: the stamp recorded, the next runs do not read the
# index ----
stamped || not_ok "the stamp recorded"
index_opens -q
check_eq "a run after the stamp: git's index not opened, no warning" \
  "0|" "$opens|$err"
index_opens -q
check_eq "and the next one, the stamp kept" "0|yes" \
  "$opens|$(grep -q '^index_none ' "$rec" && echo yes)"
index_opens status
check_eq "status, the record's stamp holding: the index not opened either" \
  "0|" "$opens|$err"

# ---- a record without the line (an older storysync's): read ----
sed -i '/^index_none /d' "$rec"
index_opens -q
check_eq "no stamp in the record: the index read once" "1|" "$opens|$err"

# ---- git add -f of a side file: the index changed, the warning given
# at the next run and every one after ----
stamped || not_ok "the stamp again"
git add -f "$rec"
warning="storysync: warning: $T/tree/$rec: git tracks this file, storysync's run record: a checkout, merge or reset of a commit that does not hold it removes it, and one that holds another puts that in its place; untrack it: git rm --cached, and commit"
for i in 1 2 3; do
  index_opens
  check_eq "run $i after git add -f: the index read, warned of, no stamp" \
    "1|$warning|no" \
    "$opens|$err|$(grep -q '^index_none ' "$rec" && echo yes || echo no)"
done

# ---- the same after a commit (git writes the index again) ----
git commit -qm "the run record, force-added"
index_opens
check_eq "committed: still read, still warned of" "1|$warning" "$opens|$err"

# ---- untracked in the index, HEAD's commit still holding it (git reset
# --hard and git stash put HEAD's copy back): warned of at every run,
# until the removal is committed; then no warning, and the stamp comes
# back ----
git rm -q --cached "$rec"
in_head="storysync: warning: $T/tree/$rec: HEAD's commit holds this file, storysync's run record, though git's index no longer tracks it: git reset --hard, git stash and git checkout HEAD -- put HEAD's copy in its place; commit the removal"
for i in 1 2; do
  index_opens
  check_eq "git rm --cached, run $i: read, warned of HEAD's copy, no stamp" \
    "1|$in_head|no|yes" \
    "$opens|$err|$(grep -q '^index_none ' "$rec" && echo yes || echo no)|$(git cat-file -e "HEAD:$rec" && echo yes)"
done
git commit -qm "the run record untracked"
index_opens -q
check_eq "the removal committed: read, no warning" "1|" "$opens|$err"
stamped || not_ok "the stamp after untracking"
index_opens -q
check_eq "and then not read" "0|" "$opens|$err"

# ---- HEAD moved back to a commit that holds it, the index unchanged
# (git reset --soft): the stamp does not hold, the index read again ----
ino=$(stat -c %i .git/index)
git reset -q --soft HEAD~1
index_opens
check_eq "git reset --soft to the commit that holds it: read, warned of" \
  "$ino|1|$in_head" "$(stat -c %i .git/index)|$opens|$err"
git reset -q --soft HEAD@{1} && stamped || not_ok "the stamp again"

# ---- status tells what git tracks from the same stamp ----
index_opens status
check_eq "status, the index stamped: not read" "0" "$((cfg_opens + opens))"

# ---- the companion's check: its own stamp ----
index_opens -q
check_eq "the companion's check: the index not read while stamped" \
  "0|0|" "$cfg_opens|$opens|$err"
sed -i '/^local_none /d' "$rec"
index_opens -q
check_eq "no companion's stamp in the record: read once, by the check" \
  "1|0|" "$cfg_opens|$opens|$err"
stamped || not_ok "the companion's stamp again"
# a companion git starts tracking is refused at once, stamp or not, and
# nothing is synced
sed -i 's/^title: One$/title: Two/' backlog/S-1-one.md
git add -f .storysync.local.yml
index_opens -q
local_msg="git tracks this file, but what it sets may run commands and write files, which no file in the repository may: untrack it (git rm --cached) and keep it in .gitignore"
check_eq "git add -f of the companion: read, refused at once, exit 2" \
  "1|2|storysync: $PWD/.storysync.local.yml: $local_msg|One" \
  "$cfg_opens|$(ss -q; echo $?)|$err|$(q "SELECT title FROM stories WHERE id = 'S-1'")"
index_opens -q
check_eq "and refused again, the index read again" \
  "1|storysync: $PWD/.storysync.local.yml: $local_msg" "$cfg_opens|$err"
git rm -q --cached .storysync.local.yml
index_opens -q
check_eq "untracked again: read, and the edit synced" "1|0||Two" \
  "$cfg_opens|$(ss -q; echo $?)|$err|$(q "SELECT title FROM stories WHERE id = 'S-1'")"

# ---- another work tree's index (the tree copied, a record naming the
# first one's index): read ----
cd "$T" && copy_tree tree copy && cd copy || exit 1
index_opens -q
check_eq "a copy of the tree: its own index read" "read|" \
  "$([ "$opens" -ge 1 ] && echo read)|$err"
finish
