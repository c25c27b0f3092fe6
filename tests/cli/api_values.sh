#!/bin/bash
# Issue 19, the database's side, and a point of issue 20: a value no file
# can hold is refused by story id, recorded once as a refused conflict and
# counted as a row in error, its row and file untouched (an unknown backlog
# too); an insert needs only an id and a title (status create_in, backlog
# the only one, else refused by name); the path is storysync's, and an API
# write of it is put back without an event. The oracles: sqlite3, PyYAML.
# Runs on both backends (PG_TWIN, lib.sh); on a server the json columns
# take no text that is not JSON: the server itself refuses such a write,
# the one check of its own there.
PG_TWIN=1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/api_lib.sh"

api_tree

# ---- a value no file can hold: refused by id, recorded once, a row in
# error; the row and the file untouched ----
# refused DESC ID SQL FIELD MESSAGE [FILE]: SQL makes story ID's row hold
# what no file can (FIELD); two runs refuse it, the status counts it
refused() {
  local desc=$1 id=$2 sql=$3 field=$4 msg="story $2: $5; refused: nothing written"
  local file=${6:-} before sums
  q "$sql"
  before=$(row "$id")
  sums=$(files_digest)
  run ss sync
  check_eq "$desc: exit 1, the story named" "1|$msg" "$rc|$err"
  run ss sync
  check_eq "$desc: refused again by the next run" "1|$msg" "$rc|$err"
  check_eq "$desc: the row and the files untouched" "$before|$sums" \
    "$(row "$id")|$(files_digest)"
  check_eq "$desc: one refused conflict, the file kept, the row's value lost" \
    "1|refused|file|$field|1" \
    "$(q "SELECT count(*), kind, kept, fields, CASE WHEN $(jget lost id) = '$id'
      THEN 1 ELSE 0 END FROM sync_conflicts WHERE story_id = '$id'
      AND resolved IS NULL GROUP BY 2, 3, 4, 5")"
  run ss status
  check_eq "$desc: status counts a row in error, not a file" \
    "1|attention: 1 open conflict, 1 row in error" "$rc|$(head -n 1 <<<"$out")"
  if [ -n "$file" ]; then
    check_eq "$desc: its file holds the agreed version (PyYAML)" "$7" \
      "$(key "$file" "$field")"
  fi
}
# mend DESC SQL: the API puts it right; the next run is clean
mend() {
  q "$2"
  run ss sync
  check_eq "$1, mended: exit 0" "0|" "$rc|$err"
  q "UPDATE sync_conflicts SET resolved = $(sqlnow)"
}

refused "points 'abc'" INF-006 "UPDATE stories SET points = 'abc' WHERE id = 'INF-006'" \
  points "points is not an integer: abc" active/INF-006-six.md 3
run ss status --json
check_eq "points 'abc': status --json, rows not files" "0|1" \
  "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d|%d" % (d["files_in_error"], d["rows_in_error"]))' <<<"$out")"
mend "points 'abc'" "UPDATE stories SET points = 5 WHERE id = 'INF-006'"
check_eq "points mended: the file has it" 5 "$(key active/INF-006-six.md points)"
if [ "$(dialect sqlite server)" = sqlite ]; then
  refused "labels not a list" INF-003 "UPDATE stories SET labels = 'x, y' WHERE id = 'INF-003'" \
    labels "labels is not a JSON array of strings: x, y" backlog/INF-003-three.md '["a","b"]'
  mend "labels not a list" "UPDATE stories SET labels = '[\"a\",\"b\"]' WHERE id = 'INF-003'"
else # the twin: the json column refuses it, the row stays as it was
  sums=$(row INF-003)
  run q "UPDATE stories SET labels = 'x, y' WHERE id = 'INF-003'"
  check_eq "labels not a list: the server refuses the write, the row kept" \
    "1|$sums" "$(grep -c 'invalid input syntax for type json' <<<"$err")|$(row INF-003)"
fi
refused "labels of numbers" INF-003 "UPDATE stories SET labels = '[1,2]' WHERE id = 'INF-003'" \
  labels "labels is not a JSON array of strings: [1,2]"
mend "labels of numbers" "UPDATE stories SET labels = '[\"a\",\"b\"]' WHERE id = 'INF-003'"
refused "assignees an object" INF-003 "UPDATE stories SET assignees = '{\"ana\":1}' WHERE id = 'INF-003'" \
  assignees 'assignees is not a JSON array of strings: {"ana":1}'
mend "assignees an object" "UPDATE stories SET assignees = $(jscalar ana) WHERE id = 'INF-003'"
check_eq "assignees mended: one name is a list of one" '"ana"' \
  "$(key backlog/INF-003-three.md assignee)"
refused "extra not an object" INF-003 "UPDATE stories SET extra = '[1]' WHERE id = 'INF-003'" \
  extra "extra is not a JSON object: [1]"
mend "extra not an object" "UPDATE stories SET extra = NULL WHERE id = 'INF-003'"
refused "extra holding a column" INF-003 "UPDATE stories SET extra = '{\"title\":\"x\"}' WHERE id = 'INF-003'" \
  extra "extra key 'title' is a column"
mend "extra holding a column" "UPDATE stories SET extra = NULL WHERE id = 'INF-003'"
refused "an empty title" INF-003 "UPDATE stories SET title = '' WHERE id = 'INF-003'" \
  title "title must not be empty" backlog/INF-003-three.md '"Three"'
mend "an empty title" "UPDATE stories SET title = 'Three' WHERE id = 'INF-003'"
# issue 20: an unknown backlog is refused the same way
refused "an unknown backlog" INF-003 "UPDATE stories SET backlog = 'nowhere' WHERE id = 'INF-003'" \
  backlog "backlog 'nowhere' is not configured"
mend "an unknown backlog" "UPDATE stories SET backlog = 'default' WHERE id = 'INF-003'"
refused "a status with no stage" INF-003 "UPDATE stories SET status = 'nostage' WHERE id = 'INF-003'" \
  status "status 'nostage' has no stage directory"
mend "a status with no stage" "UPDATE stories SET status = 'backlog' WHERE id = 'INF-003'"
refused "a new row, points 'abc'" NEW-3 \
  "INSERT INTO stories(id, title, points) VALUES ('NEW-3', 'Bad points', 'abc')" \
  points "points is not an integer: abc"
check_eq "a new row refused: no file made" "" "$(find . -name 'NEW-3*')"
mend "a new row, points 'abc'" "UPDATE stories SET points = 2 WHERE id = 'NEW-3'"
check_eq "a new row mended: its file" 2 "$(key refinements/NEW-3-bad-points.md points)"
quiet "refusals mended"

# ---- an insert needs an id and a title ----
s=$(last_seq)
q "INSERT INTO stories(id, title) VALUES ('NEW-4', 'Only a title')"
run ss sync -v
check_eq "id and title: created in the first stage" \
  "0|created  NEW-4 -> file refinements/NEW-4-only-a-title.md" "$rc|$(head -n 1 <<<"$out")"
check_eq "id and title: the row gets the defaults, the empty body too" \
  "default|refinement|" \
  "$(q "SELECT backlog || '|' || status || '|' || body FROM stories WHERE id = 'NEW-4'")"
check_eq "id and title: the file (PyYAML)" '"Only a title"|"refinement"' \
  "$(key refinements/NEW-4-only-a-title.md title)|$(key refinements/NEW-4-only-a-title.md status)"
check_eq "id and title: one event, created in the db; history from none" \
  "NEW-4 created db|refinement" \
  "$(events "$s")|$(q "SELECT coalesce(from_status, '') || to_status FROM status_history WHERE story_id = 'NEW-4'")"
quiet "id and title"
# in every mode: --full too
q "INSERT INTO stories(id, title) VALUES ('NEW-5', 'Only a title, full')"
run ss sync --full
check_eq "id and title, --full: created in the first stage" \
  "0|refinement|\"Only a title, full\"" \
  "$rc|$(q "SELECT status FROM stories WHERE id = 'NEW-5'")|$(key refinements/NEW-5-only-a-title-full.md title)"
quiet "id and title, --full"

# two backlogs and create_in: the backlog must be named
mkdir "$O/two" && cd "$O/two" || exit 1
printf 'database: .storysync/stories.db\nbacklogs:\n  platform: stories/platform\n  mobile: stories/mobile\ncreate_in: active\n' >.storysync.yml
story stories/platform/backlog/P-1-one.md P-1 One
story stories/mobile/backlog/M-1-one.md M-1 One
ss init >/dev/null && ss sync >/dev/null || not_ok "two backlogs"
q "INSERT INTO stories(id, title, backlog) VALUES ('M-2', 'In mobile', 'mobile')"
run ss sync
check_eq "create_in: a NULL status goes there" "0|active|\"In mobile\"" \
  "$rc|$(q "SELECT status FROM stories WHERE id = 'M-2'")|$(key stories/mobile/active/M-2-in-mobile.md title)"
q "INSERT INTO stories(id, title) VALUES ('M-3', 'Nowhere yet')"
run ss sync
check_eq "two backlogs, none named: refused by name" \
  "1|story M-3: no backlog, and the configuration has 2 (platform, mobile); refused: nothing written" \
  "$rc|$err"
check_eq "two backlogs, none named: a refused conflict, no file" "refused|backlog|" \
  "$(q "SELECT kind, fields FROM sync_conflicts WHERE story_id = 'M-3'")|$(find stories -name 'M-3*')"
check_eq "two backlogs, none named: the conflict keeps the row as written" \
  "null|null|Nowhere yet" \
  "$(q "SELECT $(jtype lost backlog), $(jtype lost status), $(jget lost title) FROM sync_conflicts WHERE story_id = 'M-3'")"
q "UPDATE stories SET backlog = 'platform' WHERE id = 'M-3'"
run ss sync
check_eq "named: created in create_in" "0|\"Nowhere yet\"" \
  "$rc|$(key stories/platform/active/M-3-nowhere-yet.md title)"

# the status from its key: create_in is a folder, the status stays NULL
mkdir "$O/key" && cd "$O/key" || exit 1
printf 'database: .storysync/stories.db\nstatus_from: key\nstages:\n  task: tasks\n  done: completed\n' >.storysync.yml
story tasks/K-1-one.md K-1 One $'status: To Do\n'
ss init >/dev/null && ss sync >/dev/null || not_ok "status from its key"
q "INSERT INTO stories(id, title) VALUES ('K-2', 'Two')"
run ss sync
check_eq "status from its key: an id and a title make a file in create_in" \
  "0|\"Two\"|null|" \
  "$rc|$(key tasks/K-2-two.md title)|$(key tasks/K-2-two.md status)|$(q "SELECT status FROM stories WHERE id = 'K-2'")"

# in every mode: sync --git, and the hook's run after a commit
mkdir "$O/git" && cd "$O/git" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME=$O/home STORYSYNC_HOOK_FOREGROUND=1
export GIT_AUTHOR_NAME=Ana GIT_AUTHOR_EMAIL=ana@example.org
export GIT_COMMITTER_NAME=Ana GIT_COMMITTER_EMAIL=ana@example.org
mkdir -p "$HOME" refinements backlog
story backlog/G-1-one.md G-1 One
git init -q . && ss init -q &&
  printf '.storysync/\n.storysync.local.yml\n' >.gitignore &&
  git add -A && git commit -qm init && ss -q || not_ok "--git: the tree"
q "INSERT INTO stories(id, title) VALUES ('G-2', 'By git')"
run ss sync --git
check_eq "id and title, --git: created in the first stage" \
  "0|refinement|\"By git\"" \
  "$rc|$(q "SELECT status FROM stories WHERE id = 'G-2'")|$(key refinements/G-2-by-git.md title)"
PATH="$(dirname "$STORYSYNC"):$PATH" ss install-hooks -q ||
  not_ok "--git: install-hooks"
q "INSERT INTO stories(id, title) VALUES ('G-3', 'By the hook')"
echo more >>backlog/G-1-one.md
PATH="$(dirname "$STORYSYNC"):$PATH" git commit -qam "an edit"
check_eq "id and title, the hook's run: created in the first stage" \
  "refinement|\"By the hook\"" \
  "$(q "SELECT status FROM stories WHERE id = 'G-3'")|$(key refinements/G-3-by-the-hook.md title)"
cd "$T" || exit 1

# ---- the path is storysync's ----
s=$(last_seq)
q "UPDATE stories SET path = 'elsewhere.md' WHERE id = 'INF-004'"
run ss sync --full
check_eq "a path written: --full puts it back, no event" \
  "0|active/INF-004-four.md|" \
  "$rc|$(q "SELECT path FROM stories WHERE id = 'INF-004'")|$(events "$s")"
q "UPDATE stories SET path = CASE id WHEN 'INF-004' THEN 'x' ELSE path END;
   UPDATE stories SET path = 'active/INF-004-four.md' WHERE id = 'INF-006';
   UPDATE stories SET path = 'active/INF-006-six.md' WHERE id = 'INF-004'"
run ss sync
check_eq "two paths swapped: the run puts them back" \
  "0||active/INF-004-four.md|active/INF-006-six.md" \
  "$rc|$err|$(q "SELECT path FROM stories WHERE id = 'INF-004'")|$(q "SELECT path FROM stories WHERE id = 'INF-006'")"
run ss sync --full
check_eq "paths put back: --full records nothing" "0||" "$rc|$out$err|$(events "$s")"
# a file that now claims an id sorting before its old one: the new row
# takes the path the old one leaves
sed -i 's/^id: INF-007$/id: INF-000/' active/INF-007-seven.md
run ss sync
check_eq "a file's id changed: the path moves to the new row" \
  "0|active/INF-007-seven.md|INF-000 created file
INF-007 deleted file" \
  "$rc|$(q "SELECT path FROM stories WHERE id = 'INF-000'")|$(events "$s")"
check_eq "no story was created but the ones that are new" \
  "INF-000|1" \
  "$(q "SELECT $(sqlagg story_id) FROM (SELECT story_id FROM sync_events WHERE change = 'created' AND story_id LIKE 'INF-%' GROUP BY story_id HAVING count(*) > 1 OR story_id = 'INF-000') c")|$(q "SELECT count(*) FROM sync_events WHERE change = 'created' AND story_id = 'INF-004'")"
quiet "paths"

finish
