#!/bin/bash
# Issue 19 (model seed 39, --wider): a run that writes the API's title
# into a file is killed after its writes (before its commit); a person
# throws that write away (git checkout --, git restore, git stash) and
# then types a title of their own into git's version. The journal's values
# line said the run's title is the base of an edit of its write, so the
# person's title won with no conflict and the API's title was lost, with
# nothing in sync_conflicts: an edit of git's version put back and an edit
# of the run's write cannot be told apart. Where the API left the run's
# value, the agreed value stays the base: a conflict, the person's title in
# the row (the file wins), the API's kept in sync_conflicts. Whether the
# killed run is a plain one or sync --git; and (edited) the person edits
# the killed run's write itself: the same conflict (an extra record, no
# loss); (api-again) the API writes another title after the kill: a
# conflict as before (killed_write.sh's key-other). And a discard written
# over again by a killed run, whose write a run takes, then a discard
# again (model wide seed 1640: the API's emptied dependencies lost to
# git's version). The oracle reads the
# database with Python's sqlite3 (psycopg2 on a server: lib.sh's py_rows)
# and the file with sed. A twin (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=stories/api/refinements/A-1-one.md
row() { py_rows "SELECT title FROM stories WHERE id = 'A-1'"; }
lost() {
  py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts
      WHERE story_id = 'A-1' ORDER BY id" | paste -sd ' '
}

for mode in plain git; do
  for how in checkout restore stash edited api-again; do
    t=$how-$mode
    mkdir -p "$T/$t" && cd "$T/$t" || exit 1
    git init -q .
    mkdir -p stories/api/refinements stories/api/active
    printf 'database: .storysync/stories.db\nbacklogs:\n  api: stories/api\nstages:\n  refinement: refinements\n  active: active\n' >.storysync.yml
    printf -- '---\nid: A-1\ntitle: One\npriority: low\n---\nbody\n' >$F
    printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >stories/api/refinements/A-2-two.md
    printf -- '---\nid: A-3\ntitle: Three\n---\nbody\n' >stories/api/active/A-3-three.md
    synced_commit || not_ok "$t: the tree"
    py_rows "UPDATE stories SET title = 'API' WHERE id = 'A-1'"
    args=()
    [ $mode = git ] && args=(--git)
    run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC" "${args[@]}"
    check_eq "$t: killed after the run wrote the API's title" "137|API" \
      "$rc|$(key title $F)"
    case $how in
    checkout) git checkout -- . ;;
    restore) git restore $F ;;
    stash) git stash -q && git stash drop -q ;;
    esac
    case $how in
    edited | api-again) want_file=API ;;
    *) want_file=One ;;
    esac
    check_eq "$t: the file before the person's edit" "$want_file" "$(key title $F)"
    [ $how = api-again ] && py_rows "UPDATE stories SET title = 'API again' WHERE id = 'A-1'"
    sed -i 's/^title: .*/title: Mine/' $F
    run ss
    case $how in
    api-again) want="both_changed/file/API again" ;;
    *) want="both_changed/file/API" ;;
    esac
    check_eq "$t: the person's title in the row and the file, the API's kept" \
      "0|Mine|Mine|$want" "$rc|$(row)|$(key title $F)|$(lost)"
    run ss
    check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
  done
done

# ---- a discard written over again by a run killed after its writes
# (model wide seed 1640): the API empties S-1's dependencies and
# retitles it, a run writes that over git's version (not committed), a
# discard puts git's version back, the API retitles it again, and a run
# writing the discard over again is killed. The killed run's write put
# the database's empty dependencies over git's [S-2] as much as its
# title: the run that takes that write (plain, or sync --git) keeps both
# fields storysync's, so that another discard is written over again, the
# API's values kept and git's version in sync_conflicts (it took the
# dependencies for no longer storysync's, and the second discard's [S-2]
# won as a person's edit: the API's value lost, nothing in
# sync_conflicts) ----
for adopt in plain git; do
  for how in checkout stash; do
    t=deps-$adopt-$how
    stages_repo "$t" backlog:backlog
    printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
    printf -- '---\nid: S-1\ntitle: One\ndepends_on: [S-2]\n---\nbody\n' \
      >backlog/S-1-one.md
    synced_commit || not_ok "$t: the tree"
    py_rows "UPDATE stories SET title = 'API1' WHERE id = 'S-1'"
    py_rows "DELETE FROM story_dependencies WHERE story_id = 'S-1'"
    run ss
    check_eq "$t: the API's values written" "0|API1|" \
      "$rc|$(key title backlog/S-1-one.md)|$(key depends_on backlog/S-1-one.md)"
    git checkout -q -- backlog/S-1-one.md
    py_rows "UPDATE stories SET title = 'API2' WHERE id = 'S-1'"
    killed_run after-writes
    check_eq "$t: killed after writing the discard over" "137|API2|" \
      "$rc|$(key title backlog/S-1-one.md)|$(key depends_on backlog/S-1-one.md)"
    if [ $adopt = git ]; then run ss --git; else run ss; fi
    check_eq "$t: the killed run's write taken" "0" "$rc"
    case $how in
    checkout) git checkout -q -- backlog/S-1-one.md ;;
    stash) git stash -q ;;
    esac
    check_eq "$t: git's version back" "One|[S-2]" \
      "$(key title backlog/S-1-one.md)|$(key depends_on backlog/S-1-one.md)"
    run ss
    check_eq "$t: the API's values kept, written again" \
      "0|API2/0|API2|" \
      "$rc|$(py_rows "SELECT title || '/' || (SELECT count(*) FROM story_dependencies WHERE story_id = 'S-1') FROM stories WHERE id = 'S-1'")|$(key title backlog/S-1-one.md)|$(key depends_on backlog/S-1-one.md)"
    check_eq "$t: git's version in sync_conflicts" \
      "both_changed/db/title,depends_on/One/[\"S-2\"]" \
      "$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost title) || '/' || $(jget lost depends_on) FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id DESC LIMIT 1")"
    quiet_next "$t"
  done
done
finish
