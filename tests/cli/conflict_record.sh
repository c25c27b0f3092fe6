#!/bin/bash
# Issue 19: every value of a file that a run overrides is kept in
# sync_conflicts, in two cases that lost the record:
#   - a discard of storysync's write while the API deleted the row: the
#     file re-creates the row (deleted_in_db) with storysync's values in
#     the fields it wrote, and the file's values there are kept too;
#   - a run killed after it wrote the database's values over a file's
#     (kill -9 at the seam after-writes, before its commit): the next run
#     finds the write in the journal and records the conflict from there,
#     once (a policy db field, a discard, the deleted row's discard).
# The oracle reads the database with Python's sqlite3 and the files with
# sed; nothing of storysync's output is taken as proof. A twin (on a
# server, Python's psycopg2 reads it: lib.sh's py_rows).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
field() { py_rows "SELECT $1 FROM stories WHERE id = 'S-1'"; }
conflicts() {
  py_rows "SELECT kind, kept, fields, $(jget lost title),
        $(jget lost priority) FROM sync_conflicts
      WHERE story_id = 'S-1' ORDER BY id"
}
F=backlog/S-1-one.md

# tree DIR [POLICY]: S-1 (title One, priority low) and S-2, committed
# and synced; POLICY is added to .storysync.yml
tree() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  ss init -q || not_ok "$1: init"
  [ -n "${2:-}" ] && printf '%s\n' "$2" >>.storysync.yml
  echo .storysync/ >.gitignore
  git add -A && git commit -qm init && ss -q || not_ok "$1: the tree"
}

# settled NAME COUNT: two more runs add nothing, --full neither
settled() {
  run ss
  check_eq "$1: the next run is quiet" "0||" "$rc|$out|$err"
  run ss --full
  check_eq "$1: --full records nothing again" "0|$2" \
    "$rc|$(py_rows "SELECT count(*) FROM sync_conflicts")"
}

# deleted TAG [KILL]: the API's priority written (uncommitted), the API
# deletes the row, git's version comes back (checkout --); with KILL the
# run that re-creates the row is killed after its writes first
deleted() {
  tree "deleted$1"
  py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
  ss -q && [ "$(key priority $F)" = high ] || not_ok "deleted$1: the write"
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  git checkout -- $F
  if [ -n "${2:-}" ]; then
    run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
    check_eq "deleted$1: killed after its writes" "137|high" \
      "$rc|$(key priority $F)"
  fi
  run ss
  if [ -z "${2:-}" ]; then
    check_eq "deleted: the row back, with the API's last value, as the file" \
      "0|high|high" "$rc|$(field priority)|$(key priority $F)"
  else
    # the killed run wrote the agreed content back: the API's deletion
    # then takes the file, the row archived
    check_eq "deleted$1: the API's deletion stands, the row archived" \
      "0|0|no file|high" "$rc|$(py_rows "SELECT count(*) FROM stories WHERE id = 'S-1'")|$([ -e $F ] || echo no file)|$(py_rows "SELECT $(jget row priority) FROM deleted_stories WHERE story_id = 'S-1'")"
  fi
  check_eq "deleted$1: git's value kept in sync_conflicts" \
    "deleted_in_db|mixed|priority|One|low" "$(conflicts)"
  settled "deleted$1" 1
}
deleted ""
deleted "-killed" kill

# ---- killed after a write of the database's values over a person's ----
tree killed-policy "policy: {priority: db}"
sed -i 's/^priority: low$/priority: medium/' $F
py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "killed-policy: killed, the database's value in the file" \
  "137|high|0" \
  "$rc|$(key priority $F)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "killed-policy: the next run keeps the database's value" \
  "0|storysync: 1 updated, 1 conflict|high|high" \
  "$rc|$out|$(field priority)|$(key priority $F)"
check_eq "killed-policy: the person's value kept in sync_conflicts" \
  "both_changed|db|priority|One|medium" "$(conflicts)"
settled killed-policy 1

# a discard, killed: git's version back over storysync's write, the run
# that writes the API's value again killed before its commit
tree killed-discard
py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
ss -q
git checkout -- $F
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "killed-discard: killed, the API's value written again" \
  "137|high" "$rc|$(key priority $F)"
run ss
check_eq "killed-discard: the API's value stays" "0|high|high" \
  "$rc|$(field priority)|$(key priority $F)"
check_eq "killed-discard: git's value kept in sync_conflicts" \
  "both_changed|db|priority|One|low" "$(conflicts)"
settled killed-discard 1

# ---- seed 204: a discard, then the API moves the story while a person
# moves its file and commits git's version there; the API writes the
# field again. The field as git has it takes the database's value (git's
# version is no edit), and the file's value joins the status's conflict
# (which the file won): kept mixed, both kept ----
tree rebased-move
mkdir active
py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
ss -q
git checkout -- $F
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
git mv $F active/ && git commit -qm "moved by hand"
py_rows "UPDATE stories SET priority = 'critical' WHERE id = 'S-1'"
run ss
check_eq "rebased-move: the person's place, the API's priority" \
  "0|active|critical|critical" \
  "$rc|$(field status)|$(field priority)|$(key priority active/S-1-one.md)"
check_eq "rebased-move: one record keeps the API's status and git's priority" \
  "both_changed|mixed|status,priority|refinement|low" \
  "$(py_rows "SELECT kind, kept, fields, $(jget lost status),
      $(jget lost priority) FROM sync_conflicts")"
settled rebased-move 1

# ---- two committed files of one id (model seeds 192, 236, 385, 387):
# storysync moved S-1 for the API (uncommitted), a stash put git's copy
# back, `git add -A` committed both, and a person edited the old copy.
# Storysync's file is untouched and holds only the agreed version and the
# database's values; git holds it only because the person's `add -A`
# since the last run put it there (move10b): it is removed, and the
# person's copy is the story's, merged against git's version, so the
# API's status, which the person's file does not hold, is kept in
# sync_conflicts (before: both named, exit 1, on every run until a person
# removed one) ----
tree copies
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git stash -q && git stash drop -q && git add -A && git commit -qm both
sed -i 's/^priority: low$/priority: high/' $F
sum=$(md5sum <$F)
run ss
check_eq "copies: storysync's file removed, the person's copy the story's" \
  "0|$sum|no|backlog|high|$F" \
  "$rc|$(md5sum <$F)|$([ -e refinements/S-1-one.md ] && echo yes || echo no)|$(field status)|$(field priority)|$(py_rows "SELECT path FROM stories WHERE id = 'S-1'")"
check_eq "copies: the API's status kept in sync_conflicts" \
  "both_changed|file|status|refinement" \
  "$(py_rows "SELECT kind, kept, fields, $(jget lost status)
      FROM sync_conflicts WHERE story_id = 'S-1'")"
settled copies 1

# ---- the same where storysync's write also took a person's edit (its
# bytes not git's; model wide seed 1350): before, the person's copy was
# taken whole, the API's status lost with nothing in sync_conflicts ----
tree copies-edited
sed -i 's/^body$/body, edited/' $F
ss -q
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git stash -q && git stash drop -q && git add -A && git commit -qm both
sed -i 's/^priority: low$/priority: high/' $F
run ss
check_eq "copies-edited: the person's priority reaches the row" "0|high" "$rc|$(field priority)"
check_eq "copies-edited: the API's status is in the row or in sync_conflicts" yes \
  "$([ "$(field status)" = refinement ] ||
    [ "$(py_rows "SELECT $(jget lost status) FROM sync_conflicts WHERE story_id = 'S-1'")" = refinement ] &&
    echo yes || echo "no: row $(field status)")"
settled copies-edited 1

finish
