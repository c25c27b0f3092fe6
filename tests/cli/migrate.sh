#!/bin/bash
# Schema 2 (assignees): a database written by a storysync before it, with
# an API edit and a deletion pending, migrates forward on the next sync:
# every row kept, the pending changes still applied, no file rewritten but
# the one the API edited, and the same rows as a fresh import. Schema 4
# (the CHECKs as comparisons): the tables made anew keep every row, its
# number and the events' sequence, and still refuse what they refused.
# Schema 5 (origin 'config'): the same, and a database a storysync before
# it left behind a renamed status (its rows stale, an API edit refused on
# every run) has the rename followed by the first run. Schema 7 (parent),
# from a database the storysync before it wrote (tests/fixtures/schema6.sql),
# and from schema 5: a new column, NULL in every row; the digests taken
# before stay valid (--full finds nothing), a pending API edit still
# applies, and once keys: names the tree's parent key, the file and the API
# both set it. Schema 8 (trees), from a database the storysync before it
# wrote (tests/fixtures/schema7.sql): every row is the tree 'default''s,
# keyed (tree, id); every history row, event, archive, conflict, consumer
# cursor and run kept, the sequence too; the pending API changes still
# applied; a new table, sync_deleted, empty.
. "$(dirname "$0")/lib.sh"

# the schema this storysync writes
current=10

# from_fixture NAME: here, the database of tests/fixtures/NAME.sql and
# a configuration that names it
from_fixture() {
  mkdir -p .storysync backlog active
  sqlite3 -batch $DB <"$SOURCE_ROOT/tests/fixtures/$1.sql"
  printf 'database: .storysync/stories.db\n' >.storysync.yml
}

from_fixture schema1
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
check_eq "schema $current: assignees, no assignee column" "$current|1|0" \
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

# ---- schema 3 to the current one ----
mkdir "$O/v3" && cd "$O/v3" || exit 1
from_fixture schema3
printf -- '---\nid: W-1\ntitle: One\n---\nbody one\n' >backlog/W-1-one.md
printf -- '---\nid: W-2\ntitle: Two\n---\n' >active/W-2-two.md
printf -- '---\nid: W-3\ntitle: Three (API)\n---\n' >active/W-3-three.md
records() {
  q "SELECT id, story_id, from_status, to_status, changed_at, origin, commit_id, author FROM status_history ORDER BY id; SELECT seq, story_id, change, origin, run_id, at FROM sync_events ORDER BY seq; SELECT * FROM sqlite_sequence"
}
before=$(records)
check_eq "the fixture is schema 3, its sequence past the last event" "3|5|4" \
  "$(q "PRAGMA user_version")|$(q "SELECT seq FROM sqlite_sequence WHERE name = 'sync_events'")|$(q "SELECT max(seq) FROM sync_events")"
run ss sync
check_eq "the sync migrates; the files were already in step" "0|" "$rc|$out$err"
check_eq "schema $current" $current "$(q "PRAGMA user_version")"
check_eq "every history row and event kept, with its number and the sequence" \
  "$before" "$(records)"
check_eq "the CHECKs are comparisons now, no IN list" "0" \
  "$(q "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%IN (%' AND name IN ('sync_events', 'status_history')")"
check_eq "the index on the history is back" "status_history_story" \
  "$(q "SELECT name FROM sqlite_schema WHERE tbl_name = 'status_history' AND type = 'index'")"
for bad in "sync_events(change) VALUES ('renamed')" \
  "sync_events(origin) VALUES ('api')" "status_history(origin) VALUES ('api')"; do
  run q "INSERT INTO $bad"
  check_contains "still refused: $bad" "CHECK constraint failed" "$err"
done
check_eq "nothing was inserted" "3|4" \
  "$(q "SELECT count(*) FROM sync_events")|$(q "SELECT count(*) FROM status_history")"
printf -- '---\nid: W-1\ntitle: One, edited\n---\nbody one\n' >backlog/W-1-one.md
run ss sync
check_eq "the next event takes the number after the sequence, not after the last row" \
  "0|6|W-1|updated" \
  "$rc|$(q "SELECT seq, story_id, change FROM sync_events ORDER BY seq DESC LIMIT 1" | sed 's/|/|/g')"
# ---- schema 4 to the current one: a renamed status ----
mkdir "$O/v4" && cd "$O/v4" || exit 1
from_fixture schema4
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
stages:
  refinement: refinements
  todo: backlog
  active: active
  completed: completed
EOF
printf -- '---\nid: X-1\ntitle: One\nstatus: backlog\n---\nbody one\n' >backlog/X-1-one.md
printf -- '---\nid: X-2\ntitle: Two\n---\nbody two\n' >backlog/X-2-two.md
printf -- '---\nid: X-3\ntitle: Three\nstatus: active\n---\n' >active/X-3-three.md
three=$(md5sum active/X-3-three.md)
kept() {
  q "SELECT id, story_id, from_status, to_status, changed_at, origin, commit_id, author FROM status_history WHERE id <= 3 ORDER BY id;
    SELECT seq, story_id, change, origin, run_id, at FROM sync_events WHERE seq <= 3 ORDER BY seq"
}
before=$(kept)
check_eq "the fixture is schema 4: stale statuses, the API's edit refused" \
  "4|X-1 backlog,X-2 backlog,X-3 active|1" \
  "$(q "PRAGMA user_version")|$(q "SELECT group_concat(id || ' ' || status, ',') FROM (SELECT * FROM stories ORDER BY id)")|$(q "SELECT exit_code FROM sync_runs ORDER BY id DESC LIMIT 1")"
run ss sync
check_eq "the sync migrates, follows the rename and applies the API's edit" \
  "0|storysync: 1 updated, 2 moved" "$rc|$out$err"
check_eq "schema $current" $current "$(q "PRAGMA user_version")"
check_eq "every history row and event kept, with its number" "$before" \
  "$(kept)"
check_eq "the rows follow the rename, recorded as the configuration's" \
  "X-1|backlog|todo|config
X-2|backlog|todo|config" \
  "$(q "SELECT story_id, from_status, to_status, origin FROM status_history WHERE id > 3 ORDER BY id")"
check_eq "each a moved event of origin config, then the API's update" \
  "4|X-1|moved|config
5|X-2|moved|config
6|X-2|updated|db" \
  "$(q "SELECT seq, story_id, change, origin FROM sync_events WHERE seq > 3 ORDER BY seq")"
check_eq "the API's edit reached its file" "title: Two (API)" \
  "$(grep '^title:' backlog/X-2-two.md)"
check_eq "the mirror key that held the old name holds the new one" \
  "status: todo" "$(grep '^status:' backlog/X-1-one.md)"
check_eq "the other story's file is untouched" "$three" \
  "$(md5sum active/X-3-three.md)"
run q "INSERT INTO status_history(origin) VALUES ('config')"
check_eq "'config' passes the CHECK" "0|" "$rc|$err"
for bad in "sync_events(origin) VALUES ('api')" "status_history(origin) VALUES ('api')"; do
  run q "INSERT INTO $bad"
  check_contains "still refused: $bad" "CHECK constraint failed" "$err"
done
q "DELETE FROM status_history WHERE story_id IS NULL"
digest=$(db_digest)
run ss sync
check_eq "the next run is silent and writes nothing" "0||$digest" \
  "$rc|$out$err|$(db_digest)"
mkdir "$O/fresh4" && cp -r backlog active .storysync.yml "$O/fresh4"
(cd "$O/fresh4" && ss -q init && ss -q sync)
check_eq "a fresh import gives the same rows" \
  "$(sqlite3 -batch "$O/fresh4/$DB" "SELECT $cols FROM stories ORDER BY id")" \
  "$(q "SELECT $cols FROM stories ORDER BY id")"
# ---- schema 4 to the current one: the API's statement forms ----
mkdir "$O/v4forms" && cd "$O/v4forms" || exit 1
from_fixture schema4_forms
printf -- '---\nid: X-1\ntitle: One\npriority: high\ndepends_on: [X-2]\n---\nbody one\n' >backlog/X-1-one.md
printf -- '---\nid: X-2\ntitle: Two\n---\nbody two\n' >backlog/X-2-two.md
printf -- '---\nid: X-3\ntitle: Three\nlabels: [a]\n---\nbody three\n' >active/X-3-three.md
sums=$(md5sum backlog/X-2-two.md active/X-3-three.md)
check_eq "the fixture is schema 4, X-1's base saved" "4|X-1" \
  "$(q "PRAGMA user_version")|$(q "SELECT story_id FROM sync_base")"
run ss init -q
check_eq "init migrates: every agreed row has its digest" "0|$current|0|1" \
  "$rc|$(q "PRAGMA user_version")|$(q "SELECT count(*) FROM sync_state WHERE digest IS NULL")|$(q "SELECT count(*) FROM sqlite_schema WHERE name = 'sync_replaced'")"
run ss sync
check_eq "the pending API change still applies" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "to its file; the others untouched" "title: One (API)|$sums" \
  "$(grep '^title:' backlog/X-1-one.md)|$(md5sum backlog/X-2-two.md active/X-3-three.md)"
q "REPLACE INTO stories(id, backlog, status, title, body, path)
   SELECT id, backlog, status, 'Two (replaced)', body, path FROM stories
   WHERE id = 'X-2';
   UPDATE story_dependencies SET depends_on = 'X-3' WHERE story_id = 'X-1'"
run ss sync
check_eq "a REPLACE and a dependency UPDATE: two updates" \
  "0|storysync: 2 updated|X-1 updated|X-2 updated" \
  "$rc|$out$err|$(q "SELECT story_id || ' ' || change FROM sync_events ORDER BY seq DESC LIMIT 2" | sort | tr '\n' '|' | sed 's/|$//')"
check_eq "both reach the files" "title: Two (replaced)|depends_on: [X-3]" \
  "$(grep '^title:' backlog/X-2-two.md)|$(grep '^depends_on:' backlog/X-1-one.md)"
# X-3 was agreed before the migration: its digest came from its row
trig=$(q "SELECT group_concat(sql || ';', char(10)) FROM sqlite_schema WHERE type = 'trigger'")
drops=$(q "SELECT group_concat('DROP TRIGGER ' || name || ';', ' ') FROM sqlite_schema WHERE type = 'trigger'")
q "BEGIN; $drops UPDATE stories SET title = 'Three, untracked' WHERE id = 'X-3'; $trig COMMIT;"
run ss sync --full
check_eq "a write without the triggers: --full sees it" \
  "0|storysync: 1 updated|title: Three, untracked" \
  "$rc|$out$err|$(grep '^title:' active/X-3-three.md)"
run ss sync
check_eq "the next run is silent" "0|" "$rc|$out$err"
# ---- schema 6 to the current one: a story's parent ----
mkdir "$O/v6" && cd "$O/v6" || exit 1
from_fixture schema6
printf -- '---\nid: Y-1\ntitle: One\nparent: Y-2\n---\nbody one\n' >backlog/Y-1-one.md
printf -- '---\nid: Y-2\ntitle: Two\n---\nbody two\n' >active/Y-2-two.md
printf -- '---\nid: Y-3\ntitle: Three\nlabels: [a]\n---\nbody three\n' >backlog/Y-3-three.md
sums=$(md5sum backlog/Y-1-one.md active/Y-2-two.md)
check_eq "the fixture is schema 6: Y-3's base saved, no parent column" \
  "6|Y-3|0" \
  "$(q "PRAGMA user_version")|$(q "SELECT story_id FROM sync_base")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'parent'")"
run ss sync
check_eq "the sync migrates and applies the pending API edit" \
  "0|storysync: 1 updated" "$rc|$out$err"
check_eq "schema $current: a parent column, NULL in every row" "$current|1|0" \
  "$(q "PRAGMA user_version")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'parent'")|$(q "SELECT count(*) FROM stories WHERE parent IS NOT NULL")"
check_eq "schema $current: an empty sync_deleted (the files storysync deleted)" \
  "0" "$(q "SELECT count(*) FROM sync_deleted")"
check_eq "the API's edit reached its file; the others untouched" \
  "title: Three (API)|$sums" \
  "$(grep '^title:' backlog/Y-3-three.md)|$(md5sum backlog/Y-1-one.md active/Y-2-two.md)"
check_eq "no key maps parent: Y-1's parent: key stays in extra" \
  '{"parent":"Y-2"}|' "$(q "SELECT extra || '|' || ifnull(parent, '') FROM stories WHERE id = 'Y-1'")"
lib_quiet "the digests taken before schema 7" backlog active
trig=$(q "SELECT group_concat(sql || ';', char(10)) FROM sqlite_schema WHERE type = 'trigger'")
drops=$(q "SELECT group_concat('DROP TRIGGER ' || name || ';', ' ') FROM sqlite_schema WHERE type = 'trigger'")
q "BEGIN; $drops UPDATE stories SET title = 'Two, untracked' WHERE id = 'Y-2'; $trig COMMIT;"
run ss sync --full
check_eq "a write without the triggers to a row agreed before: --full sees it" \
  "0|storysync: 1 updated|title: Two, untracked" \
  "$rc|$out$err|$(grep '^title:' active/Y-2-two.md)"
printf 'database: .storysync/stories.db\nkeys:\n  parent: parent\n' >.storysync.yml
printf -- '---\nid: Y-1\ntitle: One\nparent: Y-2\n---\nbody one, edited\n' >backlog/Y-1-one.md
run ss sync
check_eq "with keys: {parent: parent}, an edited file gives the column" \
  "0|storysync: 1 updated|Y-2|" \
  "$rc|$out$err|$(q "SELECT parent || '|' || ifnull(extra, '') FROM stories WHERE id = 'Y-1'")"
cp active/Y-2-two.md "$O/two"
q "UPDATE stories SET parent = 'Y-3' WHERE id = 'Y-2'"
run ss sync
check_eq "the API sets a parent: one line added" "0|> parent: Y-3" \
  "$rc|$(diff "$O/two" active/Y-2-two.md | grep '^[<>]')"
q "UPDATE stories SET parent = NULL WHERE id = 'Y-2'"
run ss sync
check_eq "and clears it: the line goes" "0|" \
  "$rc|$(diff "$O/two" active/Y-2-two.md)"
mkdir "$O/fresh6" && cp -r backlog active .storysync.yml "$O/fresh6"
(cd "$O/fresh6" && ss -q init && ss -q sync)
check_eq "a fresh import gives the same rows, parents too" \
  "$(sqlite3 -batch "$O/fresh6/$DB" "SELECT $cols, parent FROM stories ORDER BY id")" \
  "$(q "SELECT $cols, parent FROM stories ORDER BY id")"
# ---- schema 5 to the current one: through 6 ----
mkdir "$O/v5" && cd "$O/v5" || exit 1
from_fixture schema5
printf -- '---\nid: Z-1\ntitle: One\nparent: Z-2\n---\nbody one\n' >backlog/Z-1-one.md
printf -- '---\nid: Z-2\ntitle: Two\n---\nbody two\n' >active/Z-2-two.md
printf -- '---\nid: Z-3\ntitle: Three\nlabels: [a]\n---\nbody three\n' >backlog/Z-3-three.md
run ss sync
check_eq "schema 5 migrates through 6: the API's edit applied, a parent column" \
  "0|storysync: 1 updated|$current|1" \
  "$rc|$out$err|$(q "PRAGMA user_version")|$(q "SELECT count(*) FROM pragma_table_info('stories') WHERE name = 'parent'")"
lib_quiet "the digests taken by schema 5" backlog active
# ---- schema 7 to the current one: trees ----
mkdir "$O/v7" && cd "$O/v7" || exit 1
from_fixture schema7
printf -- '---\nid: T-1\ntitle: One\nlabels: [a]\n---\nbody one\n' >backlog/T-1-one.md
printf -- '---\nid: T-2\ntitle: Two\ndepends_on: [T-1]\n---\nbody two\n' >active/T-2-two.md
printf -- '---\nid: T-3\ntitle: Three\n---\nbody three\n' >active/T-3-three.md
trees_kept() {
  q "SELECT id, story_id, from_status, to_status, changed_at, origin, commit_id, author FROM status_history ORDER BY id;
    SELECT seq, story_id, change, origin, run_id, at FROM sync_events WHERE seq <= 4 ORDER BY seq;
    SELECT story_id, rev, deleted_at, row FROM deleted_stories ORDER BY seq;
    SELECT id, story_id, at, kind, kept FROM sync_conflicts ORDER BY id;
    SELECT * FROM sync_consumers; SELECT id, started, ended, mode, exit_code FROM sync_runs ORDER BY id"
}
before=$(trees_kept)
check_eq "the fixture is schema 7: T-2 retitled, T-1 deleted by the API, pending" \
  "7|T-1,T-2|T-1|4" \
  "$(q "PRAGMA user_version")|$(q "SELECT group_concat(story_id, ',') FROM (SELECT story_id FROM sync_base ORDER BY story_id)")|$(q "SELECT story_id FROM deleted_stories")|$(q "SELECT seq FROM sqlite_sequence WHERE name = 'sync_events'")"
run ss sync
check_eq "the sync migrates and applies both pending API changes" \
  "0|storysync: 1 updated, 1 deleted" "$rc|$out$err"
check_eq "schema $current" $current "$(q "PRAGMA user_version")"
check_eq "every history row, event, archive, conflict, cursor and run kept" \
  "$before" "$(trees_kept | head -n "$(printf '%s\n' "$before" | wc -l)")"
check_eq "step 9: deleted_stories is indexed by (tree, story_id)" \
  "tree,story_id" \
  "$(q "SELECT group_concat(name, ',') FROM pragma_index_info('deleted_stories_story')")"
check_eq "step 10: sync_state.before_path, none known for the entries found" \
  "1|0" \
  "$(q "SELECT count(*) FROM pragma_table_info('sync_state') WHERE name = 'before_path'")|$(q "SELECT count(*) FROM sync_state WHERE before_path IS NOT NULL")"
check_eq "the next event takes the number after the sequence" "5" \
  "$(q "SELECT min(seq) FROM sync_events WHERE seq > 4")"
others=0
for t in stories story_dependencies status_history deleted_stories sync_events \
  sync_conflicts sync_state sync_base sync_meta sync_runs backlogs; do
  others=$((others + $(q "SELECT count(*) FROM $t WHERE tree IS NOT 'default'")))
done
check_eq "every row is the tree 'default''s" "0|T-2,T-3" \
  "$others|$(q "SELECT group_concat(id, ',') FROM (SELECT id FROM stories WHERE tree = 'default' ORDER BY id)")"
check_eq "the key is (tree, id), the path unique within a tree" \
  "tree,id|tree,path" \
  "$(q "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info((SELECT name FROM pragma_index_list('stories') WHERE origin = 'pk')) ORDER BY seqno)")|$(q "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info((SELECT name FROM pragma_index_list('stories') WHERE origin = 'u')) ORDER BY seqno)")"
check_eq "the API's edit reached its file, the deletion removed T-1's" \
  "title: Two (API)|no" \
  "$(grep '^title:' active/T-2-two.md)|$(test -e backlog/T-1-one.md && echo yes || echo no)"
lib_quiet "the first run after the migration" backlog active
mkdir "$O/fresh7" && cp -r backlog active .storysync.yml "$O/fresh7"
(cd "$O/fresh7" && ss -q init && ss -q sync)
check_eq "a fresh import gives the same rows" \
  "$(sqlite3 -batch "$O/fresh7/$DB" "SELECT tree, $cols, parent FROM stories ORDER BY id")" \
  "$(q "SELECT tree, $cols, parent FROM stories ORDER BY id")"
finish
