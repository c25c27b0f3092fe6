#!/bin/bash
# Issue 19: killed_stray.sh's shape with the run completed, not killed
# (model wide seed 1053's stray, discard_config.sh's four-*). A change of
# the configuration moves web's folder (git mv web web2); the run that
# follows it moves S-1 for the API's status and title into
# web2/refinements, a folder it makes, and commits; reset --hard or a
# stash throws the change away: the configuration says web again, git's
# version of S-1 is back in web, and the run's file stays in
# web2/refinements, where no walk looks. No journal line is left, but the
# state says the file is storysync's: untouched since the run agreed it
# (its stat data and content the state's), untracked, and storysync's
# writes over git's version its only difference from it. With the story's
# file elsewhere it holds nothing git and the database do not: the next
# run removes it (a dry run tells). Before, it stayed for good. It stays
# where a person touched it, typed into it, added it to git, or met it as
# the story's only file; and a person's edit the run met there (thrown
# away with the change elsewhere) keeps it too. The oracle: find, git,
# and the rows by sqlite3 (psql on a server: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
S=stories/web2/refinements/S-1-t.md
row() { q "SELECT status || '/' || title || '/' || path FROM stories WHERE id = 'S-1'"; }
said() { grep -c "^storysync: $S: storysync's file of S-1, untouched since the run that wrote it, where no backlog is now (the change of the configuration it followed thrown away): $1, the story's file being elsewhere (it held git's version and the database's values only)$" <<<"$err"; }

# completed TAG HOW [edit]: the shape above, thrown away by HOW (reset or
# stash); with edit, a person's title in S-1's file before the run, which
# the run's file then holds
completed() {
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
  q "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  run ss -q
  rc_run=$rc
  if [ "$2" = stash ]; then git stash -q; else git reset -q --hard; fi
  check_eq "$1: the run completed, its file left in web2" \
    "0|stories/web/backlog/S-1-t.md $S|$want|T1" \
    "$rc_run|$(find stories -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title $S)|$(key title stories/web/backlog/S-1-t.md)"
}

for how in reset stash; do
  completed "$how" $how
  run ss -v --dry-run
  check_eq "$how: a dry run tells it, removes nothing" "0|1|$S" \
    "$rc|$(said 'would be removed')|$(find stories/web2 -name 'S-1*')"
  run ss -v
  check_eq "$how: the run goes through, the file named once" "0|1" \
    "$rc|$(said removed)"
  check_eq "$how: one file of S-1, the API's values, where the row says" \
    "stories/web/refinements/S-1-t.md|API|refinement/API/stories/web/refinements/S-1-t.md" \
    "$(find stories -name 'S-1*' | paste -sd ' ')|$(key title stories/web/refinements/S-1-t.md)|$(row)"
  check_eq "$how: git's title (the discard's) kept in sync_conflicts" "T1" \
    "$(q "SELECT $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-1'")"
  check_eq "$how: its folders stay (which the run made is not known)" \
    "stories/web2/refinements" "$(find stories/web2 -mindepth 1)"
  quiet_next --digest "$how"
done

# ---- it stays: touched (stat data changed), typed into, added to git,
# a person's edit the run met, the story's only file ----
for how in touched typed tracked edit only; do
  completed "$how" reset $([ $how = edit ] && echo edit)
  case $how in
  touched) touch -d '1 hour ago' $S ;;
  typed) sed -i 's/^body$/body, typed/' $S ;;
  tracked) git add $S ;;
  only) git rm -q stories/web/backlog/S-1-t.md ;;
  esac
  sum=$(md5sum <$S)
  run ss -v
  check_eq "$how: the file stays, as it was, not named" "$sum|0" \
    "$(md5sum <$S)|$(said removed)"
done
finish
