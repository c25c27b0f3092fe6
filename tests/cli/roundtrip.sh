#!/bin/bash
# Issue 3's round trip: every row of a 1000-story import, rendered by
# storysync into a new file of an empty tree, parses back to the same row.
. "$(dirname "$0")/lib.sh"

mkdir a b
"$GEN_STORIES" a --count 1000 2>/dev/null
(cd a && ss init >/dev/null && ss sync >/dev/null) || not_ok "import"
cp a/.storysync.yml b/
(cd b && ss init >/dev/null)

# The API fills b's database with a's rows and dependencies; b's tree is
# empty, so every story is a row new in the DB: sync must create its file.
sqlite3 b/.storysync/stories.db "
  ATTACH 'a/.storysync/stories.db' AS a;
  INSERT INTO stories(id, backlog, status, epic, title, priority, points,
    assignees, labels, extra, body, created)
  SELECT id, backlog, status, epic, title, priority, points, assignees,
    labels, extra, body, created FROM a.stories;
  INSERT INTO story_dependencies SELECT * FROM a.story_dependencies;"
cd b
run ss sync
check_eq "every row becomes a file" "0|storysync: 1000 created" "$rc|$out$err"
check_eq "1000 files" 1000 "$(find stories -name '*.md' | wc -l)"

cols="id, backlog, status, epic, title, priority, points, assignees,
  json(labels), json(extra), body, created"
rows() { sqlite3 "$1" "SELECT $cols FROM stories ORDER BY id" | md5sum; }
deps() { sqlite3 "$1" "SELECT * FROM story_dependencies ORDER BY 1, 2" | md5sum; }
check_eq "the rows are still the rows" "$(rows ../a/$DB)" "$(rows $DB)"
check_eq "and the dependencies" "$(deps ../a/$DB)" "$(deps $DB)"

# Parsing every rendered file back from scratch gives the same rows.
before=$(db_digest)
run ss sync --full
check_eq "a full re-read of the rendered files changes nothing" "0|" "$rc|$out$err"
check_eq "and writes nothing" "$before" "$(db_digest)"
mkdir ../c && cp -r stories .storysync.yml ../c/ && cd ../c
ss init >/dev/null && run ss sync
check_rc "a fresh import of the rendered tree" 0
check_eq "parses back to the same rows" "$(rows ../a/$DB)" "$(rows $DB)"
check_eq "and the same dependencies" "$(deps ../a/$DB)" "$(deps $DB)"
finish
