#!/bin/bash
# Schema 2 (assignees): a database written by a storysync before it, with
# an API edit and a deletion pending, migrates forward on the next sync:
# every row kept, the pending changes still applied, no file rewritten but
# the one the API edited, and the same rows as a fresh import.
. "$(dirname "$0")/lib.sh"

mkdir -p .storysync backlog active
sqlite3 -batch $DB <"$SOURCE_ROOT/tests/fixtures/schema1.sql"
printf 'database: .storysync/stories.db\n' >.storysync.yml
printf -- '---\nid: V-1\ntitle: One\nassignee: ana\n---\nbody one\n' >backlog/V-1-one.md
printf -- '---\nid: V-2\ntitle: Two\n---\n' >backlog/V-2-two.md
printf -- '---\nid: V-3\ntitle: Three\nassignee: bo  # lead\n---\n' >active/V-3-three.md
printf -- '---\nid: V-4\ntitle: Four\nassignee: cy\n---\n' >active/V-4-four.md
check_eq "the fixture is schema 1" "1|1" \
  "$(q "PRAGMA user_version")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'assignee'")"
sums=$(md5sum backlog/*.md)

run ss sync
check_eq "the sync migrates and applies the pending changes" \
  "0|storysync: 1 updated, 1 deleted" "$rc|$out$err"
check_eq "schema 3: assignees, no assignee column" "3|1|0" \
  "$(q "PRAGMA user_version")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'assignees'")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'assignee'")"
check_eq "every row kept, as a JSON array" 'V-1|["ana"]
V-2|
V-3|["dee"]' "$(q "SELECT id, assignees FROM stories ORDER BY id")"
check_eq "the API's edit: one line, its comment kept" \
  "assignee: dee  # lead" "$(grep '^assignee:' active/V-3-three.md)"
check_eq "the API's deletion: the file is gone" no \
  "$([ -e active/V-4-four.md ] && echo yes || echo no)"
check_eq "the deleted row's archive speaks of assignees" '["cy"]|' \
  "$(q "SELECT json_extract(row, '\$.assignees') || '|' || ifnull(json_extract(row, '\$.assignee'), '') FROM deleted_stories WHERE story_id = 'V-4'")"
check_eq "the other files are untouched" "$sums" "$(md5sum backlog/*.md)"
run ss sync
check_eq "the next run is silent" "0|" "$rc|$out$err"
mkdir "$O/fresh" && cp -r backlog active .storysync.yml "$O/fresh"
(cd "$O/fresh" && ss -q init && ss -q sync)
cols="id, backlog, status, epic, title, priority, points, assignees, labels,
  extra, body, path, created"
check_eq "a fresh import gives the same rows" \
  "$(sqlite3 -batch "$O/fresh/$DB" "SELECT $cols FROM stories ORDER BY id")" \
  "$(q "SELECT $cols FROM stories ORDER BY id")"

# the API may write one assignee as plain text: it is a list of one
q "UPDATE stories SET assignees = 'eve' WHERE id = 'V-2'"
run ss sync
check_eq "a plain-text assignee from the API" "0|assignee: eve" \
  "$rc|$(grep '^assignee:' backlog/V-2-two.md)"
q "UPDATE stories SET assignees = '[\"eve\",\"fay\"]' WHERE id = 'V-1'"
run ss sync
check_eq "a second assignee turns the scalar into a flow list" \
  "assignee: [eve, fay]" "$(grep '^assignee:' backlog/V-1-one.md)"
finish
