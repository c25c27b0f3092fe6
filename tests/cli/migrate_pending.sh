#!/bin/bash
# Issue 19: a database of schema 9 (PostgreSQL's 5), from before
# sync_state.before_path, upgraded with a move of storysync's pending: the
# person's git mv staged before storysync's move for the API (model wide
# seed 1347's shape), then a checkout -- . that puts the index's version
# back at the old place and a commit of the person's staged move.
#  - done: the old binary's run completed the move (uncommitted in git);
#    its state records no source, so git's version at the old place is
#    taken for the person's move, the API's status and title each kept,
#    in the row or in sync_conflicts, nothing lost; the -v note says why
#    (no source recorded), not that a person moved git's version.
#  - killed: the old binary's run was killed after its rename (its journal
#    without the identity and temporary lines a newer binary writes): the
#    next run takes the killed run's move as its own and records its
#    source from the journal; the API's move stands, no conflict.
# The old schema is made by taking step 10 (step 6) back: the one column
# it added, and the version. Oracles: sqlite3 (psql on a server: a twin),
# git, the files.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# to_schema9: the database as schema 9 (PostgreSQL's 5) left it
to_schema9() {
  q "$(dialect "ALTER TABLE sync_state DROP COLUMN before_path;
    PRAGMA user_version = 9" "ALTER TABLE sync_state DROP COLUMN before_path;
    UPDATE storysync_schema SET version = 5")"
}
row() { q "SELECT status, title, path FROM stories WHERE id = 'S-1'"; }
# the lost versions' status and title, a line each
lost() {
  q "SELECT $(jget lost status) || '|' || $(jget lost title)
     FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id"
}

for how in done killed; do
  stages_repo "$how" backlog:backlog refinement:refinements active:active
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
  synced_commit
  git mv backlog/S-1-one.md active/S-1-one.md
  ss -q
  q "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  if [ $how = done ]; then
    ss -q
    rc=0
  else
    killed_run after-move -q
    rr=$(run_record) && journal=${rr%.run}.writes
    # the lines an older binary did not write
    sed -i '/^[@t^~] /d' "$journal"
  fi
  to_schema9
  check_eq "$how: the move made, schema 9" \
    "$([ $how = done ] && echo 0 || echo 137)|refinements/S-1-one.md|$(
      dialect 9 5)|0" \
    "$rc|$(ls */*.md)|$(q "$(dialect 'PRAGMA user_version' \
      'SELECT max(version) FROM storysync_schema')")|$(q "SELECT count(*)
      FROM $(dialect pragma_table_info\(\'sync_state\'\) \
        information_schema.columns) WHERE $(dialect name column_name) =
        'before_path'$(dialect '' " AND table_name = 'sync_state'")")"
  gitver=$(git rev-parse :active/S-1-one.md)
  git checkout -- .
  git commit -qm "the person commits the move staged before storysync's"
  check_eq "$how: git's version back at the old place, committed" \
    "active/S-1-one.md refinements/S-1-one.md|$gitver" \
    "$(ls */*.md | paste -sd ' ')|$(git rev-parse HEAD:active/S-1-one.md)"
  run ss -v
  check_eq "$how: the upgrade's run goes through, one file left" "0|1" \
    "$rc|$(ls */*.md | wc -l)"
  check_eq "$how: migrated" "$(dialect 10 6)|1" \
    "$(q "$(dialect 'PRAGMA user_version' \
      'SELECT max(version) FROM storysync_schema')")|$(q "SELECT count(*)
      FROM $(dialect pragma_table_info\(\'sync_state\'\) \
        information_schema.columns) WHERE $(dialect name column_name) =
        'before_path'$(dialect '' " AND table_name = 'sync_state'")")"
  if [ $how = done ]; then
    # the person's move taken (no source recorded), the API's status
    # kept in sync_conflicts; the API's title stays in the row (git's
    # version's title is no edit of the one storysync wrote), git's
    # kept with it
    check_eq "done: the row is the person's move with the API's title" \
      "active|API|active/S-1-one.md" "$(row)"
    check_eq "done: the API's status kept in sync_conflicts (git's title with it)" \
      "refinement|One" "$(lost)"
    check_eq "done: the file is the row's" "active/S-1-one.md|title: API" \
      "$(ls */*.md)|$(grep '^title:' active/S-1-one.md)"
    check_eq "done: the note says the source is not recorded" \
      "storysync: refinements/S-1-one.md: storysync's uncommitted file of S-1, untouched, beside git's version a person moved or edited since: removed (it held the agreed version only); where storysync's move took the file from is not recorded (a state agreed before schema 10, PostgreSQL's 6): git's version is taken for a person's move, the database's values kept in sync_conflicts where they differ" \
      "$(printf '%s\n' "$err" | grep "^storysync: refinements/S-1-one.md: ")"
  else
    check_eq "killed: the API's move stands, nothing in sync_conflicts" \
      "refinement|API|refinements/S-1-one.md|" "$(row)|$(lost)"
    check_eq "killed: the file is the row's" "refinements/S-1-one.md|title: API" \
      "$(ls */*.md)|$(grep '^title:' refinements/S-1-one.md)"
    check_eq "killed: the source recorded from the killed run's journal" \
      "active/S-1-one.md" \
      "$(q "SELECT before_path FROM sync_state WHERE story_id = 'S-1'")"
  fi
  quiet_next --digest "$how"
done
finish
