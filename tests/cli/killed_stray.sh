#!/bin/bash
# Issue 19: a killed run's move left in a folder no backlog has (model
# wide seed 1053's stories/web21). A change of the configuration moves
# web's folder (git mv web web2), the run that follows it moves S-1 for
# the API's status into web2/refinements, a folder it makes (web had no
# refinements folder: git mv renames the folder, empty ones included), and is
# killed after its writes; reset --hard or a stash throws the change
# away: the configuration says web again, git's version of S-1 is back
# in web, and the run's file stays in web2/refinements, where no walk
# looks. Nothing was lost, but it stayed for good. The next run knows
# from its journal that the file holds its own write, untouched, and
# finds the story elsewhere: it removes the file, and the folder it made
# once empty (web2 itself, which git mv made, stays). A file a person
# touched there stays, and so does the run's file when it is the only
# file of the story, or holds a person's edit the run met (thrown away
# with the change elsewhere). The oracle: find, sed, and the rows by Python's
# sqlite3 (psycopg2 on a server: a twin, lib.sh's py_rows).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
S=stories/web2/refinements/S-1-t.md
row() {
  py_rows "SELECT status || '/' || title || '/' || path FROM stories
    WHERE id = 'S-1'"
}

# killed TAG HOW [edit]: the shape above, thrown away by HOW (reset or
# stash); with edit, a person's title in S-1's file before the run, which
# the run's file then holds (the API's title lost to it)
killed() {
  web_api_repo "$1" refinement:refinements backlog:backlog
  mkdir -p stories/web/backlog stories/api/backlog
  printf -- '---\nid: S-1\ntitle: T1\n---\nbody\n' >stories/web/backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >stories/web/backlog/S-2-t.md
  printf -- '---\nid: A-1\ntitle: A1\n---\nbody\n' >stories/api/backlog/A-1-t.md
  synced_commit || not_ok "$1: the tree"
  web_moved || not_ok "$1: web's folder moved"
  want=API
  if [ "${3:-}" = edit ]; then
    sed -i 's/^title: T1$/title: Person/' stories/web2/backlog/S-1-t.md
    want=Person
  fi
  py_rows "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  killed_run after-writes
  rc_kill=$rc
  if [ "$2" = stash ]; then git stash -q; else git reset -q --hard; fi
  check_eq "$1: killed after the move, its file left in web2" \
    "137|stories/web/backlog/S-1-t.md $S|$want|T1" \
    "$rc_kill|$(find stories -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title $S)|$(key title stories/web/backlog/S-1-t.md)"
}

for how in reset stash; do
  killed "$how" $how
  run ss -v --dry-run
  check_eq "$how: a dry run tells it, removes nothing" "0|1|$S" \
    "$rc|$(grep -c "^storysync: $S: a killed run's uncommitted move of S-1, untouched, where no backlog is now .*: would be removed" <<<"$err")|$(find stories/web2 -name 'S-1*')"
  run ss -v
  check_eq "$how: the run goes through, the file named once" "0|1" \
    "$rc|$(grep -c "^storysync: $S: a killed run's uncommitted move of S-1, untouched, where no backlog is now .*: removed" <<<"$err")"
  check_eq "$how: the run's file and the folder it made are gone, web2 stays" \
    "stories/web2|stories/web/refinements/S-1-t.md" \
    "$(find stories -path '*web2*' | paste -sd ' ')|$(find stories -name 'S-1*')"
  check_eq "$how: the API's values in the row and the story's file" \
    "refinement/API/stories/web/refinements/S-1-t.md|API" \
    "$(row)|$(key title stories/web/refinements/S-1-t.md)"
  quiet_next "$how"
done

# ---- a person edits the run's file in web2: it is theirs, it stays ----
killed touched reset
printf 'more\n' >>$S
edited=$(md5sum <$S)
run ss
check_eq "touched: the person's file stays as they left it" "0|$edited" \
  "$rc|$(md5sum <$S)"
check_eq "touched: the story's file takes the API's values" \
  "refinement/API/stories/web/refinements/S-1-t.md" "$(row)"

# ---- the person's edit the run met, thrown away with the change: the
# run's file holds it, and nothing else does; it stays ----
killed edited reset edit
held=$(md5sum <$S)
run ss
check_eq "edited: the run's file stays, the only one with the person's title" \
  "0|$held|Person" "$rc|$(md5sum <$S)|$(key title $S)"

# ---- the person deletes git's version: the run's file in web2 is the
# only one of the story's content, and stays ----
killed only reset
rm stories/web/backlog/S-1-t.md
run ss
check_eq "only: the run's file stays, the only one" "$S|API" \
  "$(find stories -name 'S-1*')|$(key title $S)"

# ---- a row the API inserted into web, which the killed run (following
# the change of the configuration) created in web2's folder: thrown away
# with the change, the run's new file stays there, where no walk looks
# (before: for good). It holds the database's values only: the next run
# removes it, and the folder it made, and creates the story's file where
# the row says now; a file a person touched there stays ----
N=stories/web2/refinements/S-9-new.md
for how in untouched touched; do
  t=created-$how
  mkdir -p "$T/$t" && cd "$T/$t" || exit 1
  git init -q .
  mkdir -p stories/web/backlog stories/api/backlog
  printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  api: stories/api\nstages:\n  refinement: refinements\n  backlog: backlog\n' >.storysync.yml
  printf -- '---\nid: S-1\ntitle: T1\n---\nbody\n' >stories/web/backlog/S-1-t.md
  printf -- '---\nid: A-1\ntitle: A1\n---\nbody\n' >stories/api/backlog/A-1-t.md
  synced_commit || not_ok "$t: the tree"
  git mv stories/web stories/web2 &&
    sed -i 's|^  web: stories/web$|  web: stories/web2|' .storysync.yml ||
    not_ok "$t: web's folder moved"
  py_rows "INSERT INTO stories(id, backlog, status, title) VALUES ('S-9', 'web', 'refinement', 'New')"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  rc_kill=$rc
  git reset -q --hard
  check_eq "$t: killed after the creation, its file left in web2" \
    "137|$N|New" \
    "$rc_kill|$(find stories -name 'S-9*')|$(key title $N)"
  if [ $how = touched ]; then
    printf 'more\n' >>$N
    edited=$(md5sum <$N)
  fi
  run ss -v
  case $how in
  untouched)
    check_eq "$t: the run's new file removed, named once, the folder it made too" \
      "0|1|stories/web2|stories/web/refinements/S-9-new.md" \
      "$rc|$(grep -c "^storysync: $N: a killed run's uncommitted new file of S-9, untouched, where no backlog is now .*: removed" <<<"$err")|$(find stories -path '*web2*' | paste -sd ' ')|$(find stories -name 'S-9*')" ;;
  touched)
    check_eq "$t: the person's file stays as they left it" \
      "0|$edited|stories/web/refinements/S-9-new.md $N" \
      "$rc|$(md5sum <$N)|$(find stories -name 'S-9*' | LC_ALL=C sort | paste -sd ' ')" ;;
  esac
  check_eq "$t: the row and the story's file" \
    "refinement/New/stories/web/refinements/S-9-new.md|New" \
    "$(py_rows "SELECT status || '/' || title || '/' || path FROM stories WHERE id = 'S-9'")|$(key title stories/web/refinements/S-9-new.md)"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

finish
