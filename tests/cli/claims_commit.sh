#!/bin/bash
# Issue 19, model seed 131 (--wider): two files of one id that a run names
# (exit 1, nothing written for the id) are judged the same way by the next
# run. A killed run moved S-1 with the API's values (a person's committed
# title taken with them), reset --hard put git's version back at the old
# place, a person added a comment to that copy and committed both (add -A)
# with an edit of another story. The first run named both files and applied
# the other story, moving the last synced commit past the person's commit;
# the second took the commented copy for git's version put back (HEAD's,
# unchanged since the last run), removed it, and the comment was lost with
# nothing in sync_conflicts. A run that names two claims of an id keeps the
# last synced commit (as a --git run that did not apply a path does).
# The oracle reads the files with grep and ls, the rows with sqlite3 (psql
# on a server: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=backlog/S-1-one.md
M=refinements/S-1-one.md
NOTE='# a note by Ana'
claims="$F: id 'S-1' is also claimed by $M
$M: id 'S-1' is also claimed by $F"
files() { ls backlog refinements | grep S-1 | tr '\n' ' ' | sed 's/ $//'; }
noted() { grep -lx -- "$NOTE" backlog/*.md refinements/*.md 2>/dev/null; }
row() { q "SELECT title, status, priority FROM stories WHERE id = 'S-1'"; }

# tree TAG: S-1 (One, low) and S-2 synced; the person commits S-1's title
# Uno, the API sets its status and priority, a killed run moves the file
# with all three; reset --hard puts git's version back; the person adds a
# comment to it and edits S-2, add -A and commit: both copies committed
tree() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q . && mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  ss init -q || not_ok "$1: init"
  echo .storysync/ >.gitignore
  git add -A && git commit -qm init && ss -q || not_ok "$1: the tree"
  sed -i 's/^title: One$/title: Uno/' $F && git commit -qam title
  q "UPDATE stories SET status = 'refinement', priority = 'high'
     WHERE id = 'S-1'"
  killed_run after-writes
  git reset -q --hard
  sed -i "s/^title: Uno\$/title: Uno\\n$NOTE/" $F
  sed -i 's/^title: Two$/title: Deux/' backlog/S-2-two.md
  git add -A && git commit -qm both
  check_eq "$1: both copies committed, the comment in git's" \
    "137|S-1-one.md S-1-one.md|$F" "$rc|$(files)|$(noted)"
}

# named TAG ARGS: a run (ss ARGS) names both copies, applies S-2; the run
# after names them again, removes neither: the comment stays
named() {
  run ss "${@:2}"
  check_eq "$1: both named, S-2 applied" "1|$claims|Deux" \
    "$rc|$err|$(q "SELECT title FROM stories WHERE id = 'S-2'")"
  run ss
  check_eq "$1: the next run names both again, removes neither" \
    "1|$claims|S-1-one.md S-1-one.md|$F" "$rc|$err|$(files)|$(noted)"
  check_eq "$1: nothing of S-1 written, nothing in sync_conflicts" \
    "One|refinement|high|0" \
    "$(row)|$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1'")"
}

# ---- the person keeps their copy: git rm of storysync's ----
tree keep
named keep
git rm -q $M
run ss
check_eq "keep: the person's file takes the API's status and priority" \
  "0||$M|Uno|refinement|high" "$rc|$err|$(noted)|$(row)"
check_eq "keep: the comment where the person wrote it" \
  "title: Uno|$NOTE|priority: high" \
  "$(sed -n '3,5p' $M | tr '\n' '|' | sed 's/|$//')"
quiet_next "keep"

# ---- the first run a --full one ----
tree full
named full --full
git rm -q $M
run ss
check_eq "full: the comment stays, the API's values taken" \
  "0|$M|Uno|refinement|high" "$rc|$(noted)|$(row)"

# ---- the person keeps storysync's copy: git rm of theirs, the comment
# with it (their choice, made after the run named both) ----
tree mine
named mine
git rm -q $F
run ss
check_eq "mine: storysync's file is the story's" \
  "0|S-1-one.md|Uno|refinement|high" "$rc|$(files)|$(row)"
quiet_next "mine"
finish
