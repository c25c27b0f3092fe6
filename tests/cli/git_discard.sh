#!/bin/bash
# Git never undoes a commit. After a commit moves a story file, storysync
# rewrites its status: key and leaves that uncommitted; a person who throws
# the rewrite away (checkout --, restore, stash, reset --hard, a checkout of
# another commit) brings back the key git holds, which is stale, not an
# edit: the next runs keep the file where it was committed, in the database
# and on disk, and make no commit. A key changed to something git never
# held, or changed by a commit of its own, still moves the file.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

R=refinements/S-1-one.md
B=backlog/S-1-one.md
A=active/S-1-one.md

# what -v prints for S-1's move to active/
MOVED="moved    S-1 -> file $A
storysync: 1 moved"

row() { q "SELECT status, path, title, body FROM stories WHERE id='S-1'"; }
# where: which of the three places hold S-1's file
where() {
  local p out=""
  for p in $R $B $A; do [ -e "$p" ] && out="$out $p"; done
  echo "${out# }"
}
moves_back() { # history rows that took S-1 out of backlog
  q "SELECT count(*) FROM status_history WHERE story_id='S-1' AND from_status='backlog'"
}

# moved_tree DIR [commit]: a repository in $T/DIR where a commit moved S-1
# from refinements/ to backlog/ with its status: key left as it was, and a
# run rewrote the key (uncommitted, or committed with "commit").
moved_tree() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q && mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\nstatus: refinement\n---\nbody one\n' >$R
  printf -- '---\nid: S-2\ntitle: Two\nstatus: backlog\n---\nbody two\n' \
    >backlog/S-2-two.md
  ss init -q
  [ "${2:-}" = commit ] && printf 'git:\n  commit: true\n' >>.storysync.yml
  echo .storysync/ >.gitignore
  git add -A && git commit -qm init && ss -q
  git mv $R backlog/ && git commit -qm move
  ss -q
}

# after_discard FORM: the run after a discard keeps the committed location
after_discard() {
  run ss -v
  check_eq "$1: the run moves nothing" "0|" "$rc|$out"
  check_eq "$1: the file stays where it was committed" "$B" "$(where)"
  check_eq "$1: the row keeps the committed status" "backlog|$B|One|body one" "$(row)"
  check_eq "$1: no history of a move back" 0 "$(moves_back)"
  # the stale key is left as git holds it: nothing of the file's is
  # overridden, so nothing to keep in sync_conflicts
  check_eq "$1: no conflict recorded" 0 \
    "$(q "SELECT count(*) FROM sync_conflicts")"
  check_eq "$1: the file is git's version, untouched" \
    "$(git show ":$B" | md5sum)" "$(md5sum <$B)"
  before=$(db_digest)
  run ss -v
  check_eq "$1: the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
}

# a person's edit of the key to a stage git never held still moves the file
key_edit() {
  sed -i 's/^status: .*/status: active/' $B
  run ss -v
  check_eq "$1, then a key edited to active: the file moves" \
    "0|$MOVED" "$rc|$out"
  check_eq "$1: to active/, the row with it, nothing lost" \
    "$A|active|$A|One|body one" "$(where)|$(row)"
}

# ---- checkout -- ----
moved_tree checkout
check_eq "the run after the move commit rewrote the key, uncommitted" \
  " M $B|status: backlog" "$(git status --porcelain)|$(grep '^status:' $B)"
git checkout -- $B
after_discard "checkout --"
check_eq "checkout --: the work tree is clean" "" "$(git status --porcelain)"
key_edit "checkout --"

# ---- restore ----
moved_tree restore
git restore $B
after_discard "restore"
key_edit "restore"

# ---- reset --hard ----
moved_tree reset
git reset -q --hard
after_discard "reset --hard"
# the key edited and committed before any run is an edit too
sed -i 's/^status: .*/status: active/' $B
git commit -qam "start S-1"
run ss -v
check_eq "reset --hard, then a committed key edit: the file moves" \
  "0|$MOVED|active|$A" "$rc|$out|$(q "SELECT status, path FROM stories WHERE id='S-1'")"

# ---- stash, then pop ----
moved_tree stash
git stash -q
check_eq "stash: the rewrite is stashed" 1 "$(git stash list | wc -l)"
after_discard "stash"
git stash pop -q
run ss -v
check_eq "stash pop: the rewritten key is back, and nothing moves" \
  "0||status: backlog|backlog|$B" \
  "$rc|$out|$(grep '^status:' $B)|$(q "SELECT status, path FROM stories WHERE id='S-1'")"
key_edit "stash pop"

# ---- a move only staged: checkout -- restores the index's version ----
mkdir -p "$T/staged" && cd "$T/staged" || exit 1
git init -q && mkdir refinements backlog
printf -- '---\nid: S-1\ntitle: One\nstatus: refinement\n---\nbody one\n' >$R
ss init -q && echo .storysync/ >.gitignore
git add -A && git commit -qm init && ss -q
git mv $R backlog/
ss -q
check_eq "staged: the run rewrote the key of the staged move" \
  "RM $R -> $B|backlog" "$(git status --porcelain)|$(q "SELECT status FROM stories WHERE id='S-1'")"
git checkout -- $B
after_discard "staged move, checkout --"
git commit -qm move
run ss -v
check_eq "staged: committed as it was staged, nothing to do" \
  "0||backlog|$B" "$rc|$out|$(q "SELECT status, path FROM stories WHERE id='S-1'")"
key_edit "staged"

# ---- a commit that carries the stale key along is no edit of it ----
moved_tree carry
git checkout -- $B
ss -q
sed -i 's/^title: .*/title: One, edited/' $B
git commit -qam "edit S-1"
run ss -v
check_eq "a commit of another field: the field syncs, nothing moves" \
  "0|updated  S-1 -> db $B
storysync: 1 updated|backlog|$B|One, edited" \
  "$rc|$out|$(q "SELECT status, path, title FROM stories WHERE id='S-1'")"
check_eq "and the stale key stays as committed" "status: refinement" "$(grep '^status:' $B)"
# a key a commit changes to another stage is an edit: it moves the file
sed -i 's/^status: .*/status: active/' $B
git commit -qam "start S-1"
run ss -v
check_eq "a commit that changes the key moves the file" \
  "0|$MOVED|active|$A" "$rc|$out|$(q "SELECT status, path FROM stories WHERE id='S-1'")"

# ---- a checkout of another commit ----
moved_tree other
sed -i 's/^title: .*/title: Two, edited/' backlog/S-2-two.md
git commit -qm "edit S-2" backlog/S-2-two.md
moved=$(git rev-parse HEAD~1)
git checkout -q -f "$moved"
after_discard "checkout -f of the move commit"
check_eq "the other story follows the checkout" "Two" \
  "$(q "SELECT title FROM stories WHERE id='S-2'")"
git checkout -q main
run ss sync --git -v
check_eq "back on main (--git): S-2's edit syncs, S-1 stays" \
  "0|updated  S-2 -> db backlog/S-2-two.md
storysync: 1 updated|backlog|$B|Two, edited" \
  "$rc|$out|$(q "SELECT status, path FROM stories WHERE id='S-1'")|$(q "SELECT title FROM stories WHERE id='S-2'")"
key_edit "back on main"

# ---- git: {commit: true}: no revert, and no commit at all ----
moved_tree commit commit
check_eq "commit: true: the rewritten key was committed" \
  "storysync: 1 file from the database||3" \
  "$(git log -1 --format=%s)|$(git status --porcelain)|$(git rev-list --all | wc -l)"
fixed=$(git rev-parse HEAD)
git checkout -q HEAD~1
run ss sync --git -v
check_eq "commit: true: --git after a checkout of the move commit moves nothing" \
  "0|" "$rc|$out"
check_eq "commit: true: the file stays, the row too" "$B|backlog|$B|One|body one" \
  "$(where)|$(row)"
run ss -v
check_eq "commit: true: the next scan is quiet" "0|" "$rc|$out"
check_eq "commit: true: no commit made, HEAD still detached at the move" \
  "3|$(git rev-parse main~1)|HEAD" \
  "$(git rev-list --all | wc -l)|$(git rev-parse HEAD)|$(git rev-parse --abbrev-ref HEAD)"
check_eq "commit: true: no history of a move back" 0 "$(moves_back)"
git checkout -q main
run ss sync --git -v
check_eq "commit: true: back on main, nothing to do" \
  "0||$fixed|3" "$rc|$out|$(git rev-parse HEAD)|$(git rev-list --all | wc -l)"
check_eq "commit: true: the row kept the committed status" "backlog|$B|One|body one" "$(row)"
sed -i 's/^status: .*/status: active/' $B
run ss -v
check_eq "commit: true: a key edit still moves the file, and commits the move" \
  "0|$MOVED|$A|active|storysync: 2 files from the database" \
  "$rc|$out|$(where)|$(q "SELECT status FROM stories WHERE id='S-1'")|$(git log -1 --format=%s)"
finish
