#!/bin/bash
# Issue 19, the database's side: every statement form the API may use on
# stories and story_dependencies is seen and reaches the file (a REPLACE of
# a story is an update, not a creation), with its event, rev and base; and
# --full compares every row with the version last agreed, so that a write
# made without the triggers, or a restored backup, is a change too. The
# oracles: sqlite3 and PyYAML. Runs on both backends (PG_TWIN, lib.sh):
# each of SQLite's own statement forms (INSERT OR REPLACE, REPLACE, UPDATE
# OR REPLACE, recursive_triggers) has PostgreSQL's form of the same write
# beside it (lib.sh's dialect): an upsert of the whole row, a DELETE then
# an INSERT, a DELETE then an UPDATE.
PG_TWIN=1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/api_lib.sh"

api_tree
# ---- the issue's reproduction: an UPDATE of story_dependencies ----
s=$(last_seq)
q "UPDATE story_dependencies SET depends_on = 'INF-009' WHERE story_id = 'INF-001'"
run ss sync -v
check_eq "deps UPDATE: the run writes it to the file" \
  "0|updated  INF-001 -> file backlog/INF-001-one.md
storysync: 1 updated" "$rc|$out"
check_eq "deps UPDATE: the file's list (PyYAML), the comment kept" \
  '["INF-009"]|priority: high  # kept' \
  "$(key backlog/INF-001-one.md depends_on)|$(grep '^priority' backlog/INF-001-one.md)"
check_eq "deps UPDATE: one event, from the db" "INF-001 updated db" "$(events "$s")"
quiet "deps UPDATE"
sed -i 's/^title: One$/title: One, by hand/' backlog/INF-001-one.md
run ss sync
check_eq "deps UPDATE, then a file edit: the API's list stays" \
  "0|One, by hand|INF-009|0" \
  "$rc|$(q "SELECT title FROM stories WHERE id = 'INF-001'")|$(deps INF-001)|$(q "SELECT count(*) FROM sync_conflicts")"
check_eq "deps UPDATE, then a file edit: and stays in the file" '["INF-009"]' \
  "$(key backlog/INF-001-one.md depends_on)"

# both sides change the list before a run: the file wins, the DB's list is
# in sync_conflicts
q "UPDATE story_dependencies SET depends_on = 'INF-003' WHERE story_id = 'INF-001'"
sed -i 's/^depends_on: .*/depends_on: [INF-004]/' backlog/INF-001-one.md
run ss sync
check_eq "deps on both sides: the file's list wins" "0|INF-004|[\"INF-004\"]" \
  "$rc|$(deps INF-001)|$(key backlog/INF-001-one.md depends_on)"
check_eq "deps on both sides: the API's list is in sync_conflicts" \
  'both_changed|file|depends_on|["INF-003"]' \
  "$(q "SELECT kind, kept, fields, $(jget lost depends_on) FROM sync_conflicts WHERE story_id = 'INF-001'")"
q "UPDATE sync_conflicts SET resolved = $(sqlnow)"

# ---- every statement form on stories ----
# form DESC SQL EVENTS: SQL, then a run: exit 0 and exactly EVENTS (sorted,
# one a line); the base it saved is used up
form() {
  s=$(last_seq)
  q "$2"
  run ss sync
  check_eq "$1: exit 0" "0|" "$rc|$err"
  check_eq "$1: the events" "$3" "$(events "$s")"
  check_eq "$1: no base left behind" "0|0" \
    "$(q "SELECT count(*) FROM sync_base")|$(q "SELECT $(dialect \
      "count(*) FROM sync_replaced" 0)")"
}

cols="id, backlog, status, epic, title, priority, points, assignees, labels,
  extra, body, path, created, updated, rev"
# the whole row written again (PostgreSQL: an upsert that sets every
# column, ALL; or a DELETE then an INSERT, which fires the delete triggers)
all="backlog = excluded.backlog, status = excluded.status,
  epic = excluded.epic, title = excluded.title, priority = excluded.priority,
  points = excluded.points, assignees = excluded.assignees,
  labels = excluded.labels, extra = excluded.extra, body = excluded.body,
  path = excluded.path, created = excluded.created"
old_updated=$(q "SELECT updated FROM stories WHERE id = 'INF-001'")
form "REPLACE of the whole row" "$(dialect "INSERT OR REPLACE INTO stories($cols)
     SELECT id, backlog, status, epic,
     'One, replaced', priority, points, assignees, labels, extra, body, path,
     created, updated, rev FROM stories WHERE id = 'INF-001'" \
  "INSERT INTO stories($cols) SELECT id, backlog, status, epic,
     'One, replaced', priority, points, assignees, labels, extra, body, path,
     created, updated, rev FROM stories WHERE id = 'INF-001'
     ON CONFLICT(tree, id) DO UPDATE SET $all")" \
  "INF-001 updated db"
check_eq "REPLACE: the file's title (PyYAML), its list and comment kept" \
  '"One, replaced"|["INF-004"]|priority: high  # kept' \
  "$(key backlog/INF-001-one.md title)|$(key backlog/INF-001-one.md depends_on)|$(grep '^priority' backlog/INF-001-one.md)"
check_eq "REPLACE: the row keeps its dependencies, archives nothing" \
  "INF-004|0" \
  "$(deps INF-001)|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'INF-001'")"
check_eq "REPLACE: updated moved on" 1 \
  "$(q "SELECT CASE WHEN updated > '$old_updated' THEN 1 ELSE 0 END FROM stories WHERE id = 'INF-001'")"
quiet "REPLACE"

form "REPLACE with recursive_triggers on (delete triggers fire)" \
  "$(dialect "PRAGMA recursive_triggers = ON;
   REPLACE INTO stories($cols) SELECT id, backlog, status, epic,
     'One, replaced again', priority, points, assignees, labels, extra, body,
     path, created, updated, rev FROM stories WHERE id = 'INF-001'" \
  "BEGIN; CREATE TEMP TABLE again AS SELECT $cols FROM stories
     WHERE id = 'INF-001';
   DELETE FROM stories WHERE id = 'INF-001';
   INSERT INTO stories($cols) SELECT id, backlog, status, epic,
     'One, replaced again', priority, points, assignees, labels, extra, body,
     path, created, updated, rev FROM again;
   INSERT INTO story_dependencies(story_id, depends_on)
     VALUES ('INF-001', 'INF-004'); COMMIT")" \
  "INF-001 updated db"
# (PostgreSQL's DELETE archives the row, and takes its list with it: the
# API puts the list back, as it puts the row)
check_eq "REPLACE, recursive: the title, the list kept, $(dialect \
  "no archive" "the DELETE archived")" \
  "\"One, replaced again\"|INF-004|[\"INF-004\"]|$(dialect 0 1)" \
  "$(key backlog/INF-001-one.md title)|$(deps INF-001)|$(key backlog/INF-001-one.md depends_on)|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'INF-001'")"
quiet "REPLACE, recursive"

# the whole row, id and title only: every other column is NULL now, so the
# story goes to create_in (the first stage) and loses its priority
form "REPLACE with an id and a title only" \
  "$(dialect "REPLACE INTO stories(id, title) VALUES ('INF-002', 'Two, whole row')" \
    "INSERT INTO stories(id, title) VALUES ('INF-002', 'Two, whole row')
       ON CONFLICT(tree, id) DO UPDATE SET $all")" \
  "INF-002 moved db"
check_eq "REPLACE, id and title: moved to the first stage, as the row says" \
  "no|\"Two, whole row\"|null|default|refinement" \
  "$([ -e backlog/INF-002-two.md ] && echo yes || echo no)|$(key refinements/INF-002-two.md title)|$(key refinements/INF-002-two.md priority)|$(q "SELECT backlog || '|' || status FROM stories WHERE id = 'INF-002'")"
check_eq "REPLACE, id and title: its history says db" "backlog|refinement|db" \
  "$(q "SELECT from_status, to_status, origin FROM status_history WHERE story_id = 'INF-002' ORDER BY id DESC LIMIT 1")"
quiet "REPLACE, id and title"

form "UPSERT of an existing id" \
  "INSERT INTO stories(id, title) VALUES ('INF-003', 'Three, upserted')
     ON CONFLICT(tree, id) DO UPDATE SET title = excluded.title" \
  "INF-003 updated db"
check_eq "UPSERT: the title, the other keys kept (PyYAML)" \
  '"Three, upserted"|["a","b"]' \
  "$(key backlog/INF-003-three.md title)|$(key backlog/INF-003-three.md labels)"
quiet "UPSERT"

form "UPSERT of a new id" \
  "INSERT INTO stories(id, title, status) VALUES ('NEW-1', 'New by upsert', 'active')
     ON CONFLICT(tree, id) DO UPDATE SET title = excluded.title" \
  "NEW-1 created db"
check_eq "UPSERT, new: its file" '"New by upsert"' \
  "$(key active/NEW-1-new-by-upsert.md title)"

form "DELETE then INSERT in one transaction" \
  "BEGIN; CREATE TEMP TABLE keep AS SELECT * FROM stories WHERE id = 'INF-004';
   DELETE FROM stories WHERE id = 'INF-004';
   INSERT INTO stories SELECT * FROM keep;
   UPDATE stories SET priority = 'low' WHERE id = 'INF-004';
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('INF-004', 'INF-005'); COMMIT" \
  "INF-004 updated db"
check_eq "DELETE then INSERT: the same file, edited" '"low"|["INF-005"]' \
  "$(key active/INF-004-four.md priority)|$(key active/INF-004-four.md depends_on)"
quiet "DELETE then INSERT"

# a REPLACE that takes another row's path deletes that row, as SQLite does
# (without a delete trigger): it is archived and its file deleted
# (PostgreSQL: the DELETE of that row, then the INSERT)
form "REPLACE that takes another row's path" \
  "$(dialect "INSERT OR REPLACE INTO stories(id, title, status, path)
     VALUES ('NEW-2', 'Takes a path', 'active',
     (SELECT path FROM stories WHERE id = 'INF-005'))" \
  "BEGIN; CREATE TEMP TABLE taken AS SELECT path FROM stories
     WHERE id = 'INF-005';
   DELETE FROM stories WHERE id = 'INF-005';
   INSERT INTO stories(id, title, status, path) SELECT 'NEW-2',
     'Takes a path', 'active', path FROM taken; COMMIT")" \
  "INF-005 deleted db
NEW-2 created db"
check_eq "REPLACE over a path: the row gone is archived, its file deleted" \
  "Five|no|\"Takes a path\"" \
  "$(q "SELECT $(jget row title) FROM deleted_stories WHERE story_id = 'INF-005'")|$([ -e active/INF-005-five.md ] && echo yes || echo no)|$(key active/NEW-2-takes-a-path.md title)"
check_eq "REPLACE over a path: the dependency on it stays, its own are gone" \
  "INF-005|" "$(deps INF-004)|$(deps INF-005)"
quiet "REPLACE over a path"

# UPDATE OR REPLACE of an id another row has: that row is deleted
# (PostgreSQL: its DELETE, then the UPDATE)
form "UPDATE OR REPLACE onto another id" \
  "$(dialect "UPDATE OR REPLACE stories SET id = 'INF-006' WHERE id = 'NEW-2'" \
    "BEGIN; DELETE FROM stories WHERE id = 'INF-006';
     UPDATE stories SET id = 'INF-006' WHERE id = 'NEW-2'; COMMIT")" \
  "INF-006 updated db
NEW-2 deleted db"
check_eq "UPDATE OR REPLACE: INF-006's file holds the row now, its old one archived" \
  '"Takes a path"|3' \
  "$(key active/INF-006-six.md title)|$(q "SELECT $(jget row points) FROM deleted_stories WHERE story_id = 'INF-006'")"
quiet "UPDATE OR REPLACE"

# ---- every statement form on story_dependencies ----
form "deps INSERT OR REPLACE" \
  "$(dialect "INSERT OR REPLACE INTO story_dependencies(story_id, depends_on) VALUES ('INF-007', 'INF-001')" \
    "INSERT INTO story_dependencies(story_id, depends_on) VALUES ('INF-007', 'INF-001')
       ON CONFLICT(tree, story_id, depends_on) DO NOTHING")" \
  "INF-007 updated db"
form "deps UPDATE of story_id: both stories change" \
  "UPDATE story_dependencies SET story_id = 'INF-008' WHERE story_id = 'INF-007'" \
  "INF-007 updated db
INF-008 updated db"
check_eq "deps UPDATE of story_id: both files (PyYAML)" 'null|["INF-001"]' \
  "$(key active/INF-007-seven.md depends_on)|$(key completed/INF-008-eight.md depends_on)"
form "deps DELETE then INSERT of the same pair: nothing changed" \
  "DELETE FROM story_dependencies WHERE story_id = 'INF-008';
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('INF-008', 'INF-001')" ""
quiet "deps forms"

# ---- --full compares every row with the version last agreed ----
untracked "UPDATE stories SET title = 'Seven, untracked' WHERE id = 'INF-007'"
run ss sync
check_eq "no trigger: a scan does not see it (the rev did not move)" "0|" "$rc|$out$err"
s=$(last_seq)
run ss sync --full -v
check_eq "no trigger: --full sees the row differ from the agreed version" \
  "0|updated  INF-007 -> file active/INF-007-seven.md" "$rc|$(head -n 1 <<<"$out")"
check_eq "no trigger: the file (PyYAML), one update event" \
  '"Seven, untracked"|INF-007 updated db' \
  "$(key active/INF-007-seven.md title)|$(events "$s")"
quiet "no trigger"
untracked "DELETE FROM story_dependencies WHERE story_id = 'INF-008'"
run ss sync --full
check_eq "no trigger, a dependency: --full writes it" "0|null" \
  "$rc|$(key completed/INF-008-eight.md depends_on)"

# a row changed without the triggers and its file edited: the file wins,
# the row's value is kept as a conflict
untracked "UPDATE stories SET priority = 'critical' WHERE id = 'INF-007'"
sed -i 's/^title: .*/title: Seven, by hand/' active/INF-007-seven.md
run ss sync
check_eq "no trigger and a file edit: the file wins" \
  "0|Seven, by hand|low" \
  "$rc|$(q "SELECT title || '|' || priority FROM stories WHERE id = 'INF-007'")"
check_eq "no trigger and a file edit: the row's value is in sync_conflicts" \
  "no_base|file|critical" \
  "$(q "SELECT kind, kept, $(jget lost priority) FROM sync_conflicts WHERE story_id = 'INF-007'")"
q "UPDATE sync_conflicts SET resolved = $(sqlnow)"
quiet "no trigger and a file edit"

# a restored backup of the table: an older rev, and older content
q "CREATE TABLE backup AS SELECT * FROM stories"
q "UPDATE stories SET title = 'Eight, after the backup' WHERE id = 'INF-008'"
ss sync >/dev/null
untracked "DELETE FROM stories; INSERT INTO stories SELECT * FROM backup;
  DROP TABLE backup"
s=$(last_seq)
run ss sync --full -v
check_eq "restored table: --full takes it as an update, not a creation" \
  "0|updated  INF-008 -> file completed/INF-008-eight.md|INF-008 updated db" \
  "$rc|$(head -n 1 <<<"$out")|$(events "$s")"
check_eq "restored table: the file holds the restored row" '"Eight"' \
  "$(key completed/INF-008-eight.md title)"
quiet "restored table"

# ---- an UPDATE to the value the row already holds, in a run that re-reads
# files only for their stat data (a copied tree: new inodes, same bytes) ----
# found by kill9's between-kills trials: the run agreed on the new rev, then
# wrote the stale state back over it, so the base was lost and a person's
# move later became a no_base conflict with the file's keys left stale
q "UPDATE stories SET priority = priority WHERE id = 'INF-001'"
cp -a backlog "$O/backlog" && rm -r backlog && mv "$O/backlog" backlog
run ss sync
check_eq "same-value UPDATE beside restat files: the state agrees on the rev" \
  "0|1|0" "$rc|$(q "SELECT CASE WHEN s.rev = t.rev THEN 1 ELSE 0 END FROM stories s JOIN sync_state t
    ON t.story_id = s.id WHERE s.id = 'INF-001'")|$(q "SELECT count(*) FROM sync_base")"
s=$(last_seq)
mv backlog/INF-001-one.md active/
run ss sync
check_eq "then a person's move: taken, no conflict" \
  "0|active|0|INF-001 moved file|null" \
  "$rc|$(q "SELECT status FROM stories WHERE id = 'INF-001'")|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")|$(events "$s")|$(key active/INF-001-one.md status)"
quiet "same-value UPDATE, then a move"

finish
