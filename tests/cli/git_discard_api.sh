#!/bin/bash
# Git never undoes the API's writes either. storysync writes an API edit
# into the story's file and leaves it uncommitted; a person who throws
# their working tree's changes away (checkout --, restore, stash, reset
# --hard) puts back the version git's index held, which is not an edit:
# the next run writes the API's value again, and the row keeps it. A
# person may have typed that version back by hand, which no tool can tell
# from a discard: the file's values the run overrides are kept in
# sync_conflicts (kept db), once, never lost unseen. What a
# person changed in the file is theirs to throw away; a version a person
# commits, or a value never held by git, is an edit as ever. The oracles:
# sqlite3 (psql on PostgreSQL: a twin) for the rows, grep and git for the
# files.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

. "$(dirname "$0")/discard_lib.sh"

# tree DIR: a committed tree with S-1 (priority low) and S-2, synced. The
# first is made so (git init, init, commit, the first run); the 30-odd
# others are copies of it (cp -a: the same bytes, the same git index and
# database, a fresh inode for each file), as the making is the same every
# time and a start of init costs as much as a dozen small runs. On a
# server (a twin) each tree is made: a copy would share its database.
# The copy's index is refreshed (update-index --refresh), as a made
# tree's is: else its stat data (the inodes) no longer match the files,
# and git reset --hard rewrites S-2 too, with the same bytes. A run
# within 20 ms of that (FSX_RACY_NS) reads S-2 racy and records nothing
# (doc/design.md), so the run after it records S-2's new stat data and is
# not quiet: the "next run is quiet" checks failed on a fast machine.
tree() {
  if [ -d "$T/.tree" ] && [ "${STORYSYNC_TEST_PG:-0}" != 1 ]; then
    cp -a "$T/.tree" "$T/$1" && cd "$T/$1" &&
      git update-index -q --refresh && return
    not_ok "$1: the copy of the tree"
  fi
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  ss init -q && git add -A && git commit -qm init && ss -q ||
    not_ok "$1: the tree"
  [ -d "$T/.tree" ] || cp -a "$T/$1" "$T/.tree"
}

# api_write: the API sets S-1's priority to high; a run writes it to the
# file, uncommitted
api_write() {
  q "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
  ss -q
  [ "$(key priority)" = high ] || not_ok "the run wrote the API's value"
}

for form in checkout restore stash reset; do
  tree "$form"
  api_write
  case $form in
  checkout) git checkout -- $F ;;
  restore) git restore $F ;;
  stash) git stash -q && git stash drop -q ;;
  reset) git reset -q --hard ;;
  esac
  [ "$(key priority)" = low ] || not_ok "$form: git put the old version back"
  run ss -v
  check_eq "$form: the run writes the API's value again, the file's kept as a conflict" \
    "0|high|high|both_changed|db|priority|low" \
    "$rc|$(field priority)|$(key priority)|$(conflicts)"
  check_eq "$form: and says why (-v)" \
    "storysync: $F: git's version put back over storysync's uncommitted write (a discard, not an edit): written again" \
    "$(grep discard <<<"$out$err")"
  quiet_run="$(ss -v 2>&1)"
  check_eq "$form: the next run is quiet" \
    "storysync: nothing changed on either side: nothing written" \
    "$(tail -n 1 <<<"$quiet_run")"
  check_eq "$form: and records nothing again" 1 \
    "$(q "SELECT count(*) FROM sync_conflicts")"
done

# a person's edit on top of the API's write, then a discard of the whole
# file: the person's edit is theirs to throw away, the API's value stays
tree mixed
api_write
sed -i 's/^title: One$/title: One, by hand/' $F
ss -q
git checkout -- $F
run ss
check_eq "an edit over the API's write, then checkout --: title back, priority kept" \
  "0|One|high|high" "$rc|$(field title)|$(field priority)|$(key priority)"

# a person's own edit, synced, then discarded: a revert, taken
tree own
sed -i 's/^title: One$/title: One, by hand/' $F
ss -q
git checkout -- $F
run ss
check_eq "a person's own synced edit discarded: the revert is an edit" \
  "0|One" "$rc|$(field title)"

# the API's write committed by a person who then changes the priority and
# commits again: a version git holds, but a new one: an edit
tree committed
api_write
git commit -qam "the API's priority"
sed -i 's/^priority: high$/priority: critical/' $F
git commit -qam "critical"
run ss
check_eq "a committed edit of the API's value is an edit" \
  "0|critical" "$rc|$(field priority)"

# the API's write, then a person types the old value back by hand: as a
# field, no tool can tell that from git's version put back, so the API's
# value stays and the person's is kept as a conflict: neither lost unseen
tree byhand
api_write
sed -i 's/^priority: high$/priority: low  # by hand/' $F
run ss
check_eq "the old value typed back: the API's value stays, the person's in sync_conflicts" \
  "0|high|both_changed|db|priority|low" \
  "$rc|$(field priority)|$(q "SELECT kind, kept, fields, $(jget lost priority) FROM sync_conflicts WHERE story_id = 'S-1'")"
tree bytes
api_write
sed -i 's/^priority: high$/priority: low/' $F
run ss
check_eq "git's version byte for byte: a discard, the API's value stays, the person's in sync_conflicts" \
  "0|high|high|both_changed|db|priority|low" \
  "$rc|$(field priority)|$(key priority)|$(conflicts)"

# a discard of the API's write, then a person's own value in the field
# it wrote, committed with no run between: whether they typed it over the
# API's value or over git's, no tool can tell, so the file wins as ever and
# the API's value is kept in sync_conflicts, not lost unseen; the same for
# an edit over the write while git does not hold it. Once git's index holds
# the write, an edit is made on top of it: no conflict
for form in discard-commit discard over-write over-staged; do
  tree "$form"
  api_write
  case $form in
  discard*) git checkout -- $F ;;
  over-staged) git add $F ;;
  esac
  sed -i 's/^priority: .*$/priority: critical/' $F
  [ $form = discard-commit ] && git commit -qam "critical"
  run ss
  if [ $form = over-staged ]; then
    want="0|critical|critical|"
  else
    want="0|critical|critical|both_changed|file|priority|high"
  fi
  check_eq "$form: the person's value wins, the API's is not lost unseen" \
    "$want" \
    "$rc|$(field priority)|$(key priority)|$(q "SELECT kind, kept, fields, $(jget lost priority) FROM sync_conflicts WHERE story_id = 'S-1'")"
done

# once git took storysync's write (a commit), what a person commits after
# it is theirs, even git's old version back: a revert, a move back
tree revert
api_write
git commit -qam "the API's priority"
git revert --no-edit HEAD >/dev/null
run ss
check_eq "the API's write committed, then reverted: the revert is an edit" \
  "0|low|low|" "$rc|$(field priority)|$(key priority)|$(git status --porcelain)"
tree move-back
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git add -A && git commit -qm "the API's move"
git mv refinements/S-1-one.md backlog/ && git commit -qm "back"
run ss
check_eq "the API's move committed, then moved back: the person's move" \
  "0|backlog|$F|" "$rc|$(field status)|$(field path)|$(git status --porcelain)"

# a person stages storysync's write (git add), the API writes again, and
# reset --hard (or stash) puts HEAD's version back: both of the API's
# values are storysync's to write again
for form in reset stash; do
  tree "staged-$form"
  api_write
  git add $F
  q "UPDATE stories SET title = 'Uno' WHERE id = 'S-1'"
  ss -q
  case $form in
  reset) git reset -q --hard ;;
  stash) git stash -q && git stash drop -q ;;
  esac
  run ss
  check_eq "staged-$form: the API's two values stay and are written, the file's kept" \
    "0|Uno|high|Uno|high|both_changed|db|title,priority|One|low" \
    "$rc|$(field title)|$(field priority)|$(key title)|$(key priority)|$(q "SELECT kind, kept, fields, $(jget lost title), $(jget lost priority) FROM sync_conflicts")"
done

# the API moves a story; storysync moves its file, uncommitted; reset
# --hard puts git's version back at the old path and leaves the moved file
# (untracked): the copy git put back is no second claim of the id, and is
# removed (git holds it), as the move was made
tree moved
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
[ -e refinements/S-1-one.md ] && [ ! -e $F ] || not_ok "moved: the run moved the file"
git reset -q --hard
[ -e $F ] || not_ok "moved: reset --hard put the old path back"
run ss -v
check_eq "moved, then reset --hard: exit 0, the API's status, one file" \
  "0|refinement|refinements/S-1-one.md|no" \
  "$rc|$(field status)|$(field path)|$([ -e $F ] && echo yes || echo no)"
check_eq "moved, then reset --hard: says why (-v)" \
  "storysync: $F: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): removed, as git holds it" \
  "$(grep discard <<<"$out$err")"
check_eq "moved, then reset --hard: git sees the move again" \
  " D $F|?? refinements/" "$(git status --porcelain | tr '\n' '|' | sed 's/|$//')"
quiet_run="$(ss -v 2>&1)"
check_eq "moved, then reset --hard: the next run is quiet" \
  "storysync: nothing changed on either side: nothing written" \
  "$(tail -n 1 <<<"$quiet_run")"

# a person's uncommitted edit (priority critical), the API's move, and a
# run that moves the file with both; reset --hard puts git's version back
# at the old path (priority low) beside the moved file, which keeps the
# person's critical. A person may type low back into git's version by
# hand (byte for byte git's), and commit both files (git add -A): no tool
# can tell that from the discard, so the copy's low, removed with it, is
# kept in sync_conflicts (kept db), not lost unseen (model seed 247)
for form in typed typed-committed; do
  tree "moved-$form"
  sed -i 's/^priority: low$/priority: critical/' $F
  q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
  ss -q
  [ -e refinements/S-1-one.md ] && [ ! -e $F ] || not_ok "moved-$form: the run moved the file"
  git reset -q --hard
  grep -q '^priority: low$' $F || not_ok "moved-$form: reset --hard put git's version back"
  content=$(cat $F)
  printf '%s\n' "$content" >$F
  if [ $form = typed-committed ]; then
    git add -A && git commit -qm "both copies"
  fi
  run ss -v
  check_eq "moved-$form: exit 0, git's version removed, the moved file's values, git's low kept" \
    "0|no|refinement|critical|refinements/S-1-one.md|priority: critical|both_changed|db|priority|low" \
    "$rc|$([ -e $F ] && echo yes || echo no)|$(field status)|$(field priority)|$(field path)|$(grep '^priority:' refinements/S-1-one.md)|$(conflicts)"
  check_eq "moved-$form: the conflict is told" \
    "conflict S-1 (both_changed, kept db) $F" "$(grep '^conflict' <<<"$out")"
  check_eq "moved-$form: the lost version is git's, in full" "backlog|One|body" \
    "$(q "SELECT $(jget lost status), $(jget lost title), $(jget lost body) FROM sync_conflicts WHERE story_id = 'S-1'" | tr -d '\n')"
  before=$(db_digest)
  run ss -v
  check_eq "moved-$form: the next run is quiet, records nothing again" \
    "0|$before|1" "$rc|$(db_digest)|$(q "SELECT count(*) FROM sync_conflicts")"
done

# the API moves a story, storysync moves its file (content unchanged,
# uncommitted), and a person moves it on: git's version in content, but
# not where git holds it, so no discard: the person's move is taken
tree moved-on
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
mkdir -p active && mv refinements/S-1-one.md active/
run ss
check_eq "moved by storysync, moved on by a person: the person's move" \
  "0|active|active/S-1-one.md" "$rc|$(field status)|$(field path)"

# the API moves a story, storysync moves its file (content unchanged,
# uncommitted), and the file comes back to its old path with storysync's
# gone: what git stash -u leaves, and what a person who moves it back by
# hand leaves too. No tool can tell them apart: the API's move stays, and
# the file's place is kept in sync_conflicts, not lost unseen
for form in mv stash-u; do
  tree "moved-back-$form"
  q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
  ss -q
  case $form in
  mv) mv refinements/S-1-one.md backlog/ ;;
  stash-u) git stash -q -u && git stash drop -q ;;
  esac
  [ -e $F ] && [ ! -e refinements/S-1-one.md ] || not_ok "moved-back-$form: the file is back"
  run ss
  check_eq "moved-back-$form: the API's move stays, the file's place kept as a conflict" \
    "0|refinement|refinements/S-1-one.md|yes|both_changed|db|status|backlog" \
    "$rc|$(field status)|$(field path)|$([ -e refinements/S-1-one.md ] && echo yes || echo no)|$(q "SELECT kind, kept, fields, $(jget lost status) FROM sync_conflicts WHERE story_id = 'S-1'")"
done

# the same, but the person commits their move (git add -A): the place git
# now holds is the person's, not one a discard put back
tree moved-on-committed
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
mkdir -p active && mv refinements/S-1-one.md active/
git add -A && git commit -qm "to active"
run ss
check_eq "moved by storysync, moved on and committed by a person: the person's move" \
  "0|active|active/S-1-one.md" "$rc|$(field status)|$(field path)"

# the same, but a person commits both copies (git add -A after the reset
# takes the untracked move too), then moves storysync's copy on: git's
# version beside it is still no claim, and the person's move is taken
tree moved-committed
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git reset -q --hard
git add -A && git commit -qm "both copies"
mkdir -p active && mv refinements/S-1-one.md active/
run ss
check_eq "moved, reset, both committed, moved on: exit 0, the person's move, one file" \
  "0|active|active/S-1-one.md|no" \
  "$rc|$(field status)|$(field path)|$([ -e $F ] && echo yes || echo no)"

# git's copy beside storysync's move, committed by a person with it, is
# removed by the next run (above); that removal is storysync's, so git
# putting the copy back again (a reset after a later API write, which
# moves the version git held before the writes on) is no second claim
# either: removed again, and the API's write written again (model seed
# 83)
tree copy-again
# with its status key, which the move rewrites: the copy is not the moved
# file's content
sed -i 's/^priority: low$/status: backlog\npriority: low/' $F
git commit -qam "S-1's status key" && ss -q
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git reset -q --hard
git add -A && git commit -qm "both copies"
run ss -v
check_eq "copy-again: the committed copy removed" \
  "0|no|refinements/S-1-one.md" \
  "$rc|$([ -e $F ] && echo yes || echo no)|$(field path)"
q "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
ss -q
git reset -q --hard
[ -e $F ] || not_ok "copy-again: reset --hard put the copy back"
run ss -v
check_eq "copy-again: put back again: removed again, the API's value written again, the file's kept, exit 0" \
  "0|no|refinements/S-1-one.md|high|priority: high|both_changed|db|priority|low" \
  "$rc|$([ -e $F ] && echo yes || echo no)|$(field path)|$(field priority)|$(grep '^priority:' refinements/S-1-one.md)|$(conflicts)"
check_eq "copy-again: says why (-v)" \
  "storysync: $F: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): removed, as git holds it" \
  "$(printf '%s\n%s\n' "$out" "$err" | grep 'beside')"
quiet_run="$(ss -v 2>&1)"
check_eq "copy-again: the next run is quiet" \
  "storysync: nothing changed on either side: nothing written" \
  "$(tail -n 1 <<<"$quiet_run")"

# a person moves a file by hand (git does not track the new path), a run
# writes the API's value into it, and a stash puts git's version back at
# the old path (the person then removes the untracked copy): a discard,
# the API's value written again
tree hand-moved
mv $F refinements/S-1-one.md
ss -q
q "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
ss -q
git stash -q -u && git stash drop -q
[ -e $F ] && [ ! -e refinements/S-1-one.md ] || not_ok "hand-moved: the stash"
run ss
check_eq "hand-moved, API write, stash: the API's value stays and is written, the file's kept" \
  "0|high|high|both_changed|db|priority|low" \
  "$rc|$(field priority)|$(key priority)|$(conflicts)"

# a story the API created: its file is storysync's, untracked; a stash
# leaves it, and a person's edit of it is theirs
tree created
q "INSERT INTO stories(id, backlog, status, title) VALUES ('S-3', 'default', 'backlog', 'Three')"
ss -q
git stash -q 2>/dev/null; git stash drop -q 2>/dev/null
sed -i 's/^title: Three$/title: Three, by hand/' backlog/S-3-three.md
run ss
check_eq "a created file, edited by a person: the edit is taken" \
  "0|Three, by hand" "$rc|$(q "SELECT title FROM stories WHERE id = 'S-3'")"

# a file the API created (untracked) that a person moves by hand and
# commits: a --git run sees the new path only, and the old one is gone, so
# it is a move, not a second claim of the id
tree created-moved
q "INSERT INTO stories(id, backlog, status, title) VALUES ('S-3', 'default', 'backlog', 'Three')"
ss -q
mkdir -p active && mv backlog/S-3-three.md active/
git add -A && git commit -qm "S-3 to active"
run ss --git
check_eq "created, moved by hand, committed, --git: the move" \
  "0|active|active/S-3-three.md" \
  "$rc|$(q "SELECT status, path FROM stories WHERE id = 'S-3'" | tr '\n' '|' | sed 's/|$//')"

# the API deletes a story and storysync deletes its file, uncommitted;
# git puts the file back (reset --hard, stash, checkout --), with or
# without an API write of it before (the file then comes back as HEAD had
# it): a discard of storysync's deletion, not a new story. The file goes
# again, the row stays deleted (its archive kept), and since a person who
# meant to undelete it did so no tool can tell, the file's version is
# kept in sync_conflicts: neither side lost
for form in reset stash checkout written-reset; do
  tree "deleted-$form"
  [ $form = written-reset ] && api_write
  q "DELETE FROM stories WHERE id = 'S-1'"
  ss -q
  [ ! -e $F ] || not_ok "deleted-$form: the run deleted the file"
  case $form in
  *reset) git reset -q --hard ;;
  stash) git stash -q && git stash drop -q ;;
  checkout) git checkout -- $F ;;
  esac
  [ -e $F ] || not_ok "deleted-$form: git put the file back"
  run ss -v
  check_eq "deleted-$form: deleted again, the row stays deleted, both versions kept" \
    "0|no|0|1|deleted_in_db|db|One|low" \
    "$rc|$([ -e $F ] && echo yes || echo no)|$(q "SELECT count(*) FROM stories WHERE id = 'S-1'")|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'S-1'")|$(q "SELECT kind, kept, $(jget lost title), $(jget lost priority) FROM sync_conflicts WHERE story_id = 'S-1'")"
  check_eq "deleted-$form: says why (-v)" \
    "storysync: $F: git's version put back after storysync deleted it for the API's deletion of S-1 (a discard, not a new story): deleted again, the file's version kept in sync_conflicts" \
    "$(grep 'deleted again' <<<"$out$err")"
  check_eq "deleted-$form: S-2 untouched, git sees the deletion again" \
    "Two| D $F" "$(q "SELECT title FROM stories WHERE id = 'S-2'")|$(git status --porcelain)"
  quiet_run="$(ss -v 2>&1)"
  check_eq "deleted-$form: the next run is quiet" \
    "storysync: nothing changed on either side: nothing written" \
    "$(tail -n 1 <<<"$quiet_run")"
done

# a file a person moved where git does not track it (plain mv), then the
# API's deletion: git puts the file back at the path it holds it at, not
# where storysync deleted it; a discard all the same
tree deleted-hand-moved
mv $F refinements/S-1-one.md
ss -q
q "DELETE FROM stories WHERE id = 'S-1'"
ss -q
[ ! -e refinements/S-1-one.md ] || not_ok "deleted-hand-moved: the run deleted the file"
git reset -q --hard
[ -e $F ] || not_ok "deleted-hand-moved: reset --hard put the file back"
run ss -v
check_eq "deleted-hand-moved: deleted again, the row stays deleted, the file's version kept" \
  "0|no|0|deleted_in_db|db|backlog" \
  "$rc|$([ -e $F ] && echo yes || echo no)|$(q "SELECT count(*) FROM stories WHERE id = 'S-1'")|$(q "SELECT kind, kept, $(jget lost status) FROM sync_conflicts WHERE story_id = 'S-1'")"

# the same deletion committed by a person, who then restores the file on
# purpose (a revert, a checkout of the older version): git took the
# deletion, so what comes back is the person's undelete: the story again
for form in revert checkout-old; do
  tree "undelete-$form"
  q "DELETE FROM stories WHERE id = 'S-1'"
  ss -q
  git commit -qam "S-1 deleted"
  case $form in
  revert) git revert --no-edit HEAD >/dev/null ;;
  checkout-old) git checkout HEAD~1 -- $F ;;
  esac
  run ss
  check_eq "undelete-$form: the person's undelete is taken: the story is back" \
    "0|One|low|$F|yes|0" \
    "$rc|$(field title)|$(field priority)|$(field path)|$([ -e $F ] && echo yes || echo no)|$(q "SELECT count(*) FROM sync_conflicts")"
done

# the same deletion, git's version put back (a discard) and then
# committed or moved by a person with no run between: git never took the
# deletion (no commit since removed the file), so it is no undelete of a
# deletion the person saw, and no tool can tell it from a discard: the
# file brings the row back, and the API's deletion is kept in
# sync_conflicts (deleted_in_db, kept file, the row as deleted), never
# undone unseen (before, nothing was kept where no field differed). The
# first form is model seed 1201's (wide, 60 steps): a stage's folder
# renamed with the configuration, uncommitted (git mv), a checkout -- .
# putting back the configuration and, from the index, the deleted file at
# the new folder, a commit -a of both, and the folder moved back as the
# run asks. Git's version only staged (HEAD had no file there), then
# committed; renamed in its folder (no field differs), staged or committed
# (then a --git run, as the seed's was)
for form in stage-renamed staged-commit renamed renamed-commit; do
  tree "put-back-$form"
  gone=$F
  case $form in
  stage-renamed)
    sed -i 's/^  backlog: backlog$/  backlog: todo/' .storysync.yml
    git mv backlog todo && ss -q || not_ok "put-back-$form: the rename"
    gone=todo/S-1-one.md
    ;;
  staged-commit)
    git rm -q --cached $F && git commit -qm "S-1 out of git" &&
      git add $F && ss -q || not_ok "put-back-$form: S-1 only staged"
    ;;
  esac
  q "DELETE FROM stories WHERE id = 'S-1'"
  ss -q
  [ ! -e $gone ] || not_ok "put-back-$form: the run deleted the file"
  case $form in
  stage-renamed)
    git checkout -- . && git commit -qam "the discard, committed"
    run ss
    check_eq "put-back-$form: the run asks for the folder back (exit 4)" \
      "4|0" "$rc|$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1'")"
    mkdir -p backlog && git mv todo/S-1-one.md todo/S-2-two.md backlog/
    ;;
  staged-commit) git checkout -- $F && git commit -qm "S-1 back" ;;
  renamed*)
    git checkout -- $F && git mv $F backlog/S-1-renamed.md
    [ $form = renamed-commit ] && git commit -qm "S-1 renamed"
    ;;
  esac
  at=$F
  [ "${form#renamed}" != "$form" ] && at=backlog/S-1-renamed.md
  [ "$(git show ":$at")" = "$(printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody')" ] ||
    not_ok "put-back-$form: git holds S-1's version at $at"
  if [ $form = renamed-commit ]; then run ss -v --git; else run ss -v; fi
  check_eq "put-back-$form: the row back from the file, the API's deletion kept in sync_conflicts" \
    "0|One|low|backlog|$at|yes|deleted_in_db|file|One|low|backlog" \
    "$rc|$(field title)|$(field priority)|$(field status)|$(field path)|$([ -e $at ] && echo yes || echo no)|$(q "SELECT kind, kept, $(jget lost title), $(jget lost priority), $(jget lost status) FROM sync_conflicts WHERE story_id = 'S-1'")"
  check_eq "put-back-$form: says why (-v)" \
    "storysync: $at: git's version of S-1's file, put back after storysync deleted it for the API's deletion of the row, then committed or moved (git never took the deletion): the row comes back from it, the row as deleted kept in sync_conflicts" \
    "$(grep 'never took' <<<"$out$err")"
  quiet_run="$(ss -v 2>&1)"
  check_eq "put-back-$form: the next run is quiet" \
    "storysync: nothing changed on either side: nothing written" \
    "$(tail -n 1 <<<"$quiet_run")"
done

# outside git there is nothing to discard: an old version back is an edit
mkdir -p "$T/nogit" && cd "$T/nogit" || exit 1
mkdir refinements backlog
printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
ss init -q && ss -q
cp $F "$O/old"
api_write
cp "$O/old" $F
run ss
check_eq "outside git, the old version back is an edit" "0|low" \
  "$rc|$(field priority)"
finish
