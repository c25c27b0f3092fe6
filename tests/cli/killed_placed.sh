#!/bin/bash
# Issue 19: a run killed in the middle of a batch of rewrites, after the
# rename of one file (STORYSYNC_TEST_KILL=placed: A-1 placed, A-2 staged,
# its temporary file written, not placed). The identity of each file put
# in place is journaled before its rename, so a kill anywhere leaves it;
# a write never placed is told by its temporary file, which still holds
# it. And the killed run's temporary files: made where git does not see
# them, and removed by the next run, only they.
# The oracle: sed and find on the files, git status, and the rows and
# sync_conflicts by Python's sqlite3 (psycopg2 on a server: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
A=backlog/A-1-one.md B=backlog/A-2-two.md
title_of() { py_rows "SELECT title FROM stories WHERE id = '$1'"; }
lost_of() {
  py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost title)
    FROM sync_conflicts WHERE story_id = '$1'" | paste -sd ' '
}
temps() { find . -name '.*.storysync-*' ! -path './.git/*' | LC_ALL=C sort; }

# two stories whose titles the API changes, with the database's policy
# for the title; killed after A-1's rename
killed_placed() {
  stages_repo "$1" backlog:backlog
  printf 'policy: {title: db}\n' >>.storysync.yml
  printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >$A
  printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >$B
  synced_commit || not_ok "$1: the tree"
  py_rows "UPDATE stories SET title = 'API1' WHERE id = 'A-1'"
  py_rows "UPDATE stories SET title = 'API2' WHERE id = 'A-2'"
  run env STORYSYNC_TEST_KILL=placed "$STORYSYNC"
  check_eq "$1: killed after A-1's rename, A-2's not made" "137|API1|Two" \
    "$rc|$(key title $A)|$(key title $B)"
}

# ---- the identity of a file placed: the person edits A-1's title, which
# they saw as the API's (API1), and A-2's, which they saw as git's (Two).
# A-1's edit may be of the run's write or of git's version put back over
# it (checkout --, restore, stash: killed_discard.sh, model seed 39 with
# --wider) and typed over: the same bytes. Where the API left the run's
# value, the agreed value stays the base, so both changed: the policy's
# (the database's), the person's title kept in sync_conflicts. A-2's
# write was never placed: git's title is its base, both changed, the
# same. The temporary file's journaled name tells A-2's write unplaced
# however the next runs go.
# Whether the next run is killed too after it removed the temporary file
# (again: the run after still knows A-2's write was never placed), is a
# --git run (git), or follows a dry run, which removes nothing ----
for how in next again git; do
  t=placed-$how
  killed_placed $t
  sed -i 's/^title: API1$/title: Mine1/' $A
  sed -i 's/^title: Two$/title: Mine2/' $B
  case $how in
  again)
    run env STORYSYNC_TEST_KILL=reconciled "$STORYSYNC"
    check_eq "$t: the second run killed, the temporary file gone" "137|" \
      "$rc|$(temps)" ;;
  next)
    held=$(temps)
    run ss --dry-run
    check_eq "$t: a dry run first, the temporary file kept" "0|1|$held" \
      "$rc|$(temps | grep -c 'A-2-two.md.storysync-')|$(temps)" ;;
  esac
  if [ $how = git ]; then run ss sync --git; else run ss; fi
  check_eq "$t: A-1 the policy's, the person's kept" \
    "0|API1|API1|both_changed/db/title/Mine1" \
    "$rc|$(title_of A-1)|$(key title $A)|$(lost_of A-1)"
  check_eq "$t: A-2 the policy's, the person's kept" \
    "API2|API2|both_changed/db/title/Mine2" \
    "$(title_of A-2)|$(key title $B)|$(lost_of A-2)"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- the API writes again after the kill, the person edits nothing:
# A-1's file holds the run's write (its identity journaled before the
# rename), whose values are its base: the API's new title, no conflict
# (the agreed title as the base would make the run's own write a
# person's edit, a conflict the policy decides). A-2's write was never
# placed: git's title is the agreed one, the API's new title too ----
t=placed-api-again
killed_placed $t
py_rows "UPDATE stories SET title = 'API1b' WHERE id = 'A-1'"
py_rows "UPDATE stories SET title = 'API2b' WHERE id = 'A-2'"
run ss
check_eq "$t: the API's new titles, no conflict" \
  "0|API1b|API1b|API2b|API2b||" \
  "$rc|$(title_of A-1)|$(key title $A)|$(title_of A-2)|$(key title $B)|$(lost_of A-1)|$(lost_of A-2)"
run ss
check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"

# ---- the person edits neither: the run's writes are no one's edits, the
# API's titles everywhere, nothing in sync_conflicts ----
t=placed-untouched
killed_placed $t
run ss
check_eq "$t: the API's titles, no conflict" "0|API1|API1|API2|API2||" \
  "$rc|$(title_of A-1)|$(key title $A)|$(title_of A-2)|$(key title $B)|$(lost_of A-1)|$(lost_of A-2)"

# ---- a kill at each point of a batch of three rewrites: after the k-th
# rename (placed:k, k = 1..3, the last one's before the directories'
# fsyncs and the commit), and after all the writes (after-writes). The
# person then edits every title. A file that shows the API's title after
# the kill was placed, one that shows git's was not (read from the files,
# sed, not from the journal); either way the API left the run's value,
# so the policy (the database's) decides, the person's title kept ----
for point in placed:1 placed:2 placed:3 after-writes; do
  t=each-${point/:/}
  stages_repo "$t" backlog:backlog
  printf 'policy: {title: db}\n' >>.storysync.yml
  for i in 1 2 3; do
    printf -- '---\nid: E-%s\ntitle: Old%s\n---\nbody\n' $i $i >backlog/E-$i-e.md
  done
  synced_commit || not_ok "$t: the tree"
  py_rows "UPDATE stories SET title = 'API' || substr(id, 3) WHERE id LIKE 'E-%'"
  run env STORYSYNC_TEST_KILL=$point "$STORYSYNC"
  placed=
  for i in 1 2 3; do
    [ "$(key title backlog/E-$i-e.md)" = API$i ] && placed+=$i
  done
  case $point in
  placed:*) want=${#placed} n=${point#placed:} ;;
  *) want=3 n=3 ;;
  esac
  check_eq "$t: killed with $n file(s) placed" "137|$n" "$rc|$want"
  sed -i 's/^title: .*/title: Mine/' backlog/E-*-e.md
  run ss
  rows= files= lost=
  for i in 1 2 3; do
    rows+="$(title_of E-$i)/" files+="$(key title backlog/E-$i-e.md)/"
    lost+="$(lost_of E-$i)/"
  done
  wrows= wfiles= wlost=
  for i in 1 2 3; do
    wrows+=API$i/ wfiles+=API$i/ wlost+=both_changed/db/title/Mine/
  done
  check_eq "$t: each file the policy's, the person's kept" \
    "0|$wrows|$wfiles|$wlost" "$rc|$rows|$files|$lost"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- the killed run's temporary file (A-2's): out of git's sight, so
# that a person's add -A after the kill does not take it in; and files a
# person committed under such names (a regular file, a symlink to a file
# of the tree) are not storysync's: they stay, the symlink not followed.
# The next run removes the killed run's, and nothing else ----
t=temp-hidden
stages_repo $t backlog:backlog
printf 'policy: {title: db}\n' >>.storysync.yml
printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >$A
printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >$B
printf 'mine\n' >backlog/.A-3-kilo-7.md.storysync-Ab12Cd
printf 'target\n' >target.txt
ln -s ../target.txt backlog/.A-2-two.md.storysync-Zz9Yx8
synced_commit || not_ok "$t: the tree"
py_rows "UPDATE stories SET title = 'API1' WHERE id = 'A-1'"
py_rows "UPDATE stories SET title = 'API2' WHERE id = 'A-2'"
run env STORYSYNC_TEST_KILL=placed "$STORYSYNC"
check_eq "$t: killed, git sees A-1's write only" "137| M $A" \
  "$rc|$(git status --porcelain -uall | paste -sd ' ')"
git add -A && git commit -qm "a person's commit after the kill"
run ss
check_eq "$t: the API's titles" "0|API1|API2" \
  "$rc|$(key title $A)|$(key title $B)"
check_eq "$t: the committed look-alikes stay, the symlink's target too" \
  "./backlog/.A-2-two.md.storysync-Zz9Yx8 ./backlog/.A-3-kilo-7.md.storysync-Ab12Cd|../target.txt|mine|target" \
  "$(temps | paste -sd ' ')|$(readlink backlog/.A-2-two.md.storysync-Zz9Yx8)|$(cat backlog/.A-3-kilo-7.md.storysync-Ab12Cd)|$(cat target.txt)"
check_eq "$t: git sees the run's writes only" " M $B" \
  "$(git status --porcelain -uall | paste -sd ' ')"
run ss
check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a setgid story folder: a file made there takes the folder's group,
# which one made in the spares' directory and renamed in would lack; the
# temporary files are made beside the story then, and a story the API
# creates has the folder's group (stat, not storysync, says so) ----
t=temp-setgid
stages_repo $t backlog:backlog
printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >$A
printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >$B
synced_commit || not_ok "$t: the tree"
chgrp nogroup backlog && chmod g+s backlog || not_ok "$t: the setgid folder"
py_rows "UPDATE stories SET title = 'API1' WHERE id = 'A-1'"
py_rows "UPDATE stories SET title = 'API2' WHERE id = 'A-2'"
py_rows "INSERT INTO stories(id, title) VALUES ('A-0', 'New')"
run env STORYSYNC_TEST_KILL=placed:1 "$STORYSYNC"
check_eq "$t: killed, A-2's temporary file beside it" "137|1" \
  "$rc|$(find backlog -name '.A-2-two.md.storysync-*' | grep -c .)"
run ss
check_eq "$t: the API's titles, the new file the folder's group, no temporary file" \
  "0|API1|API2|nogroup|" \
  "$rc|$(key title $A)|$(key title $B)|$(stat -c %G backlog/A-0-new.md)|$(temps)"

# ---- the database elsewhere, on another file system (a local
# configuration's /dev/shm): its directory cannot hold the temporary
# files (a rename across file systems is no rename), which are made
# beside the story. A person who commits the killed run's (add -A) and
# one of their own of such a name: the next run removes the killed
# run's, the person's stays ----
t=temp-beside
if [ "${STORYSYNC_TEST_PG:-0}" = 1 ]; then
  skip "$t: a server's files are the checkout's"
elif ! away=$(mktemp -d /dev/shm/storysync-placed.XXXXXX) ||
  [ "$(stat -c %d "$away")" = "$(stat -c %d "$T")" ]; then
  skip "$t: no other file system at /dev/shm"
else
  stages_repo $t backlog:backlog
  printf 'database: %s/stories.db\n' "$away" >.storysync.local.yml
  sed -i '/^database:/d' .storysync.yml
  printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >$A
  printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >$B
  printf 'mine\n' >backlog/.A-3-kilo-7.md.storysync-Ab12Cd
  synced_commit || not_ok "$t: the tree"
  DB=$away/stories.db
  py_rows "UPDATE stories SET title = 'API1' WHERE id = 'A-1'"
  py_rows "UPDATE stories SET title = 'API2' WHERE id = 'A-2'"
  run env STORYSYNC_TEST_KILL=placed "$STORYSYNC"
  mine=$(find backlog -name '.A-2-two.md.storysync-*')
  check_eq "$t: killed, A-2's temporary file beside it" "137|1" \
    "$rc|$(printf '%s\n' "$mine" | grep -c .)"
  git add -A && git commit -qm "a person's commit after the kill"
  run ss
  check_eq "$t: the killed run's removed, the person's stays" \
    "0|API1|API2|./backlog/.A-3-kilo-7.md.storysync-Ab12Cd|mine" \
    "$rc|$(key title $A)|$(key title $B)|$(temps | paste -sd ' ')|$(cat backlog/.A-3-kilo-7.md.storysync-Ab12Cd)"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
  DB=.storysync/stories.db
  rm -rf "$away"
fi

finish
