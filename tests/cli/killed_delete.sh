#!/bin/bash
# Issue 19: a file storysync deletes because the API deleted its row is in
# the write journal. A run killed after the unlink and before its commit
# (kill -9 at the seam after-writes) leaves the file gone, the row gone
# and the story's state behind; the next run finishes the deletion from
# the journal (the event, the deleted file's record, the state) whatever
# came between:
#   - nothing (a plain run, --full, sync --git): the deletion recorded, and git's
#     version put back later is a discard, deleted again with its version
#     in sync_conflicts, not a new story that undoes the API's deletion;
#   - the API inserts the id again: a new story, its file written (before,
#     the run took the gone file for a person's deletion of the new row);
#   - a person restores the file (git checkout --): deleted again;
#   - the folder emptied and removed by git: no story vanished with it
#     (the guard for a missing stage directory is not for it), in a
#     --backlog run too, which leaves the deletion to a later run;
#   - git's version put back over the deletion (a discard), the run that
#     deletes it again killed (model wide seed 1587): the file's version
#     is in sync_conflicts once, the journal carrying it past the kill.
# The oracle reads the database with Python's sqlite3 and the files with
# sed; nothing of storysync's output is taken as proof. A twin (on a
# server, Python's psycopg2 reads it: lib.sh's py_rows).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=backlog/S-1-one.md
# the story's row (title), its events, its deleted file's record, its
# conflicts, and whether its file is there
row() { py_rows "SELECT title FROM stories WHERE id = 'S-1'"; }
events() {
  py_rows "SELECT change || '/' || origin FROM sync_events
      WHERE story_id = 'S-1' ORDER BY seq" | paste -sd ' '
}
recorded() { py_rows "SELECT path FROM sync_deleted WHERE story_id = 'S-1'"; }
conflicts() {
  py_rows "SELECT kind, kept, $(jget lost title) FROM sync_conflicts
      WHERE story_id = 'S-1' ORDER BY id"
}
file() { [ -e $F ] && echo "file" || echo "no file"; }

# killed TAG: S-1 and S-2 committed and synced, the API deletes S-1, and
# the run that deletes S-1's file is killed before its commit
killed() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  synced_commit || not_ok "$1: the tree"
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  killed_run after-writes
  check_eq "$1: killed after the unlink, before the commit" \
    "137|no file||1|created/file" \
    "$rc|$(file)|$(row)|$(py_rows "SELECT count(*) FROM sync_state WHERE
      story_id = 'S-1'")|$(events)"
}

# settled TAG: the next run is quiet, and --full records nothing more
settled() {
  local before
  before=$(py_rows "SELECT count(*) FROM sync_events")/$(py_rows "SELECT count(*)
    FROM sync_conflicts")
  quiet_next "$1"
  run ss --full
  check_eq "$1: --full records nothing more" "0|$before" \
    "$rc|$(py_rows "SELECT count(*) FROM sync_events")/$(py_rows "SELECT count(*)
      FROM sync_conflicts")"
}

# finished TAG ARGS...: the run after the kill finishes the deletion
finished() {
  run ss "${@:2}"
  check_eq "$1: the deletion finished, recorded as the API's" \
    "0|storysync: 1 deleted|no file||created/file deleted/db|$F|" \
    "$rc|$out|$(file)|$(row)|$(events)|$(recorded)|$(conflicts)"
  check_eq "$1: S-2 untouched, no state of S-1 left" "Two|0" \
    "$(py_rows "SELECT title FROM stories WHERE id = 'S-2'")|$(py_rows "SELECT
      count(*) FROM sync_state WHERE story_id = 'S-1'")"
}

# ---- a plain run next; then git's version put back is a discard ----
killed plain
finished plain
git checkout -- $F
run ss
check_eq "plain: git's version back is deleted again, kept in sync_conflicts" \
  "0|no file||deleted_in_db|db|One" "$rc|$(file)|$(row)|$(conflicts)"
settled plain

# ---- --full next ----
killed full
finished full --full
settled full

# ---- sync --git next (the hooks' run): the journal names the path ----
killed git
finished git sync --git
settled git

# ---- the API inserts the id again: a new story, its file written ----
killed again
py_rows "INSERT INTO stories(id, title) VALUES ('S-1', 'Again')"
run ss
check_eq "again: the new row written to a file, nothing deleted in the file" \
  "0|Again|Again|created/file deleted/db created/db|" \
  "$rc|$(key title $(py_rows "SELECT path FROM stories WHERE id = 'S-1'"))|$(row)|$(events)|$(conflicts)"
settled again

# ---- a person restores the file (git checkout --) before the next run:
# the API's deletion stands, the file deleted again ----
killed restored
git checkout -- $F
run ss
check_eq "restored: the file deleted again, the row stays deleted" \
  "0|no file||created/file deleted/db|$F" \
  "$rc|$(file)|$(row)|$(events)|$(recorded)"
check_eq "restored: the row archived as it was" "One" \
  "$(py_rows "SELECT $(jget row title) FROM deleted_stories
    WHERE story_id = 'S-1'")"
settled restored

# ---- the folder emptied: the person moves the other story out and
# commits, and git removes the empty folder (a checkout there and back;
# model seed 4 at 120 steps: a rebase). The story the killed run deleted
# for the API is no story that vanished with its folder: no guard ----
killed emptied
git mv backlog/S-2-two.md refinements/ && git add -A && git commit -qm moved
git checkout -q HEAD~1 && git checkout -q -
[ -d backlog ] && not_ok "emptied: git removed the folder"
run ss
check_eq "emptied: the deletion finished, the move followed, no guard" \
  "0|no file||created/file deleted/db|$F|refinements/S-2-two.md" \
  "$rc|$(file)|$(row)|$(events)|$(recorded)|$(py_rows "SELECT path FROM stories WHERE id = 'S-2'")"
settled emptied

# ---- git's version put back over storysync's deletion (a discard), the
# run that deletes it again killed: after the unlink (the file gone, its
# version kept only by the lost commit; then a commit -a takes the
# deletion, or not) or before its writes (the file still there). The
# file's version is in sync_conflicts once, as an unkilled run records
# it (model wide seed 1587: before, it was lost unrecorded) ----
for how in commit plain before; do
  mkdir -p "$T/undeleted_$how" && cd "$T/undeleted_$how" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  synced_commit || not_ok "undeleted_$how: the tree"
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  run ss
  check_eq "undeleted_$how: the API's deletion deletes the file" \
    "0|no file|" "$rc|$(file)|$(conflicts)"
  git checkout -- $F
  if [ $how = before ]; then
    killed_run reconciled
    check_eq "undeleted_$how: killed before its writes" "137|file|" \
      "$rc|$(file)|$(conflicts)"
  else
    killed_run after-writes
    check_eq "undeleted_$how: killed after the unlink, before the commit" \
      "137|no file|" "$rc|$(file)|$(conflicts)"
  fi
  [ $how = commit ] && git commit -qam "person takes the deletion"
  run ss
  check_eq "undeleted_$how: git's version kept in sync_conflicts, once" \
    "0|no file||deleted_in_db|db|One" "$rc|$(file)|$(row)|$(conflicts)"
  settled "undeleted_$how"
done


# ---- the same in a --backlog run (model seed 4 at 120 steps): a partial
# run leaves a file gone to a later run (it may be in another backlog
# now), so it never plans the story; the journal's deletion still tells
# that no story vanished with the folder: no guard ----
mkdir -p "$T/partial" && cd "$T/partial" || exit 1
git init -q .
mkdir -p web/refinements web/backlog api/backlog
printf 'database: .storysync/stories.db\nbacklogs:\n  web: web\n  api: api\n' \
  >.storysync.yml
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >web/$F
printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >web/backlog/S-2-two.md
printf -- '---\nid: A-1\ntitle: Api\n---\nbody\n' >api/backlog/A-1-api.md
synced_commit || not_ok "partial: the tree"
py_rows "DELETE FROM stories WHERE id = 'S-1'"
killed_run after-writes --backlog web
check_eq "partial: killed after the unlink, before the commit" \
  "137|no file" "$rc|$([ -e web/$F ] && echo file || echo no file)"
git mv web/backlog/S-2-two.md web/refinements/ && git add -A && git commit -qm moved
git checkout -q HEAD~1 && git checkout -q -
[ -d web/backlog ] && not_ok "partial: git removed the folder"
run ss --backlog web
check_eq "partial: no guard, the move followed" \
  "0|web/refinements/S-2-two.md" \
  "$rc|$(py_rows "SELECT path FROM stories WHERE id = 'S-2'")"
run ss
check_eq "partial: a whole run finishes the deletion" \
  "0||created/file deleted/db|web/$F" "$rc|$(row)|$(events)|$(recorded)"
quiet_next "partial"

# ---- the killed run's deletion, then a run of another backlog, which
# does not show S-1's state: the journal's line is left to the run that
# shows it (a line of no state is a killed run's own file's, recorded at
# once: killed_write.sh's gone-committed), and that run finishes the
# deletion ----
mkdir -p "$T/other" && cd "$T/other" || exit 1
git init -q .
mkdir -p web/refinements web/backlog api/backlog
printf 'database: .storysync/stories.db\nbacklogs:\n  web: web\n  api: api\n' \
  >.storysync.yml
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >web/$F
printf -- '---\nid: A-1\ntitle: Api\n---\nbody\n' >api/backlog/A-1-api.md
synced_commit || not_ok "other: the tree"
py_rows "DELETE FROM stories WHERE id = 'S-1'"
killed_run after-writes
check_eq "other: killed after the unlink, before the commit" \
  "137|no file" "$rc|$([ -e web/$F ] && echo file || echo no file)"
py_rows "UPDATE stories SET title = 'Api edit' WHERE id = 'A-1'"
run ss --backlog api
check_eq "other: the run of api leaves S-1 alone" \
  "0|title: Api edit||created/file" \
  "$rc|$(grep '^title:' api/backlog/A-1-api.md)|$(recorded)|$(events)"
run ss
check_eq "other: a whole run finishes the deletion" \
  "0||created/file deleted/db|web/$F" "$rc|$(row)|$(events)|$(recorded)"
quiet_next "other"

finish
