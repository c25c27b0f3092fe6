#!/bin/bash
# Issue 8: a Backlog.md project (examples/backlog-md, written the way
# Backlog.md writes its task files: quoted and unquoted dates, '@name' lists,
# empty lists, comments, HTML comment markers, CRLF, a readme, nested
# archive folders) adopted by configuration alone. Adopting rewrites no
# file; a DB edit of one field changes that field's lines only; a status
# change moves nothing; a story the API creates gets Backlog.md's name and
# keys; broken files are reported with line and column, the rest syncs.
. "$(dirname "$0")/lib.sh"

cp -r "$SOURCE_ROOT/examples/backlog-md/." .
rm -rf .storysync
shipped=$(cat .storysync.yml)
rm .storysync.yml

# storysync's own digest of the tree: names, content, mtimes
digest() { find backlog -type f -printf '%p %T@ %s\n' | sort | md5sum; }
before=$(digest)

run ss init
check_eq "init finds the Backlog.md project" \
  "storysync: wrote .storysync.yml to adopt the Backlog.md project in backlog/" \
  "$(echo "$out" | head -n 1)"
check_eq "and writes the config that ships in examples/backlog-md" \
  "$shipped" "$(cat .storysync.yml)"

# a project with its own statuses and the newer prefixes: form
mkdir -p "$O/own/backlog/tasks"
printf '%s\n' 'project_name: own' 'statuses: ["Idea", "Doing \"now\"", "Done"]' \
  'prefixes:' '  task: back' '  draft: draft' 'labels: [a, {b: c}]' \
  >"$O/own/backlog/config.yml"
(cd "$O/own" && ss -q init)
check_eq "init takes the project's statuses and id prefix" \
  'statuses: ["Idea", "Doing \"now\"", "Done"]
# Backlog.md names new tasks back-N: an API that creates stories' \
  "$(grep -e '^statuses:' -e 'names new tasks' "$O/own/.storysync.yml")"

run ss -v sync
check_eq "adoption: every task imported" "0|7" \
  "$rc|$(q "SELECT count(*) FROM stories")"
check_contains "the readme is no story, and -v says so" \
  "backlog/tasks/readme.md: not a story (no frontmatter); skipped" \
  "$err"
check_eq "adoption rewrites no file" "$before" "$(digest)"
run ss sync
check_eq "the second run: silent, and rewrites nothing" "0||$before" \
  "$rc|$out$err|$(digest)"

check_eq "status from the key, in every folder" "task-1|Done
task-2|In Progress
task-3|To Do
task-3.1|To Do
task-4|To Do
task-5|Done
task-6|Done" "$(q "SELECT id, status FROM stories ORDER BY id")"
check_eq "assignees as JSON arrays: block, flow, empty, scalar" \
  'task-1|["@ana"]
task-2|["@bo","@ana"]
task-3|[]
task-4|["@cy"]
task-5|["@ana","@bo"]' \
  "$(q "SELECT id, assignees FROM stories WHERE id IN ('task-1','task-2','task-3','task-4','task-5') ORDER BY id")"
check_eq "the API can query them with json_each" "task-1
task-2
task-5" \
  "$(q "SELECT DISTINCT s.id FROM stories s, json_each(s.assignees) a WHERE a.value = '@ana' ORDER BY 1")"
check_eq "dependencies: -> story_dependencies, created_date -> created" \
  "task-2|task-1|2025-06-04
task-5|task-1|2025-05-20 10:00" \
  "$(q "SELECT d.story_id, d.depends_on, s.created FROM story_dependencies d JOIN stories s ON s.id = d.story_id ORDER BY 1")"
check_eq "unmapped keys stay in extra, in order" \
  '{"updated_date":"2025-06-10 17:40","ordinal":1000}' \
  "$(q "SELECT extra FROM stories WHERE id = 'task-1'")"
check_eq "a nested archive folder is a stage, not an epic" \
  "|backlog/archive/tasks/task-6 - Spike-a-GraphQL-API.md" \
  "$(q "SELECT epic, path FROM stories WHERE id = 'task-6'")"
check_eq "no backlog: key is made up" "main" \
  "$(q "SELECT DISTINCT backlog FROM stories")"

# ---- DB edits: one field changed, that field's lines changed ----
cp -r backlog "$O/before"
one_edit() { # DESC SQL FILE EXPECTED-DIFF
  cp "$3" "$O/one"
  q "$2"
  run ss sync
  check_eq "$1" "0|$4" "$rc|$(diff "$O/one" "$3" | grep '^[<>]')"
}
t3="backlog/tasks/task-3 - Fix-login-redirect.md"
one_edit "priority in a CRLF file: one line, still CRLF" \
  "UPDATE stories SET priority = 'high' WHERE id = 'task-3'" "$t3" \
  "< priority: low"$'\r'"
> priority: high"$'\r'
check_eq "the CRLF file keeps every line break" 0 \
  "$(tr -d '\r' <"$t3" | diff - <(tr -d '\r' <"$O/before/tasks/task-3 - Fix-login-redirect.md") | grep -c '^[<>] [^p]')"
t2="backlog/tasks/task-2 - Write-the-importer.md"
one_edit "a status change edits the status: line" \
  "UPDATE stories SET status = 'Done' WHERE id = 'task-2'" "$t2" \
  "< status: In Progress
> status: Done"
check_eq "and moves nothing: the file is where it was" \
  "yes|backlog/tasks/task-2 - Write-the-importer.md" \
  "$([ -f "$t2" ] && echo yes)|$(q "SELECT path FROM stories WHERE id = 'task-2'")"
check_eq "a status change is an update, not a move" "updated" \
  "$(q "SELECT change FROM sync_events WHERE story_id = 'task-2' ORDER BY seq DESC LIMIT 1")"
t1="backlog/tasks/task-1 - Set-up-CI.md"
one_edit "a second assignee: the block list stays a block, quotes kept" \
  "UPDATE stories SET assignees = '[\"@ana\",\"@dee\"]' WHERE id = 'task-1'" \
  "$t1" "> "$'  '"- '@dee'"
one_edit "a flow list stays flow" \
  "UPDATE stories SET assignees = '[\"@bo\"]' WHERE id = 'task-2'" "$t2" \
  "< assignee: ['@bo', '@ana']
> assignee: ['@bo']"
t4="backlog/drafts/task-4 - Try-a-dark-theme.md"
one_edit "a scalar stays a scalar while there is one" \
  "UPDATE stories SET assignees = '[\"@eve\"]' WHERE id = 'task-4'" "$t4" \
  '< assignee: "@cy"
> assignee: "@eve"'
one_edit "dependencies under the tree's own key, a block list as it writes one" \
  "INSERT INTO story_dependencies(story_id, depends_on) VALUES ('task-3', 'task-2')" "$t3" \
  "< dependencies: []"$'\r'"
> dependencies:"$'\r'"
>   - task-2"$'\r'
check_eq "the HTML comment markers of the body are untouched" \
  "$(grep -c '<!--' "$O/before/tasks/task-1 - Set-up-CI.md")" \
  "$(grep -c '<!--' "$t1")"

# ---- a story the API creates ----
q "INSERT INTO stories(id, backlog, status, title, priority, created,
     labels, assignees)
   VALUES ('task-7', 'main', 'To Do', 'Write the user guide: part 1/2',
     'medium', '2025-06-12 10:00', '[\"docs\"]', '[]');
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('task-7', 'task-2');"
run ss sync
new="backlog/tasks/task-7 - Write-the-user-guide-part-12.md"
check_eq "a new story gets Backlog.md's name, in create_in's folder" \
  "0|yes|$new" \
  "$rc|$([ -f "$new" ] && echo yes)|$(q "SELECT path FROM stories WHERE id = 'task-7'")"
check_eq "with the tree's keys in its order, its lists, its date form, and no mirror keys" "---
id: task-7
title: \"Write the user guide: part 1/2\"
status: To Do
assignee: []
created_date: '2025-06-12 10:00'
labels:
  - docs
dependencies:
  - task-2
priority: medium
---" "$(cat "$new")"
python3 - "$new" <<'EOF' >"$O/py" 2>&1
import sys, yaml
text = open(sys.argv[1], encoding="utf-8").read()
fm = yaml.safe_load(text.split("---\n")[1])
assert fm["id"] == "task-7" and fm["status"] == "To Do", fm
assert fm["assignee"] == [] and fm["dependencies"] == ["task-2"], fm
print("ok")
EOF
check_eq "what Backlog.md reads: id, status, lists as YAML lists" ok \
  "$(cat "$O/py")"

# ---- values chosen to break the rules ----
printf -- '---\nid: task-8\ntitle: Blocked\nstatus: Blocked\n---\n' \
  >"backlog/tasks/task-8 - Blocked.md"
printf -- '---\nid: task-9\ntitle: [broken\nstatus: To Do\n---\n' \
  >"backlog/tasks/task-9 - Broken.md"
sed -i 's/^title: .*/title: Set up CI and CD/' "$t1"
run ss sync
check_eq "a status outside statuses:, a broken file: exit 1, line and column" \
  "1|backlog/tasks/task-8 - Blocked.md:4:9: status 'Blocked' is not one of the configured statuses
backlog/tasks/task-9 - Broken.md:3:8: 'title' must be a scalar" \
  "$rc|$(echo "$err" | grep -v '^storysync: ' | sort)"
check_eq "and the rest still syncs" "Set up CI and CD|" \
  "$(q "SELECT title FROM stories WHERE id = 'task-1'")|$(q "SELECT id FROM stories WHERE id IN ('task-8','task-9')")"
rm "backlog/tasks/task-8 - Blocked.md" "backlog/tasks/task-9 - Broken.md"
cp "$t3" "$O/one"
q "UPDATE stories SET status = 'Blocked' WHERE id = 'task-3'"
run ss sync
check_eq "the API's status outside statuses: is refused, the file untouched" \
  "1|story task-3: status 'Blocked' is not one of the configured statuses; refused: nothing written|same" \
  "$rc|$err|$(cmp -s "$O/one" "$t3" && echo same)"
q "UPDATE stories SET status = 'In Progress' WHERE id = 'task-3'"
run ss sync
check_eq "once valid it syncs" "0|status: In Progress" \
  "$rc|$(grep '^status:' "$t3" | tr -d '\r')"

# ---- a person moves a task to completed/: status stays ----
mkdir -p backlog/completed
mv "$t2" backlog/completed/
run ss sync
check_eq "a move by hand changes the path, not the status" \
  "0|Done|backlog/completed/task-2 - Write-the-importer.md" \
  "$rc|$(q "SELECT status, path FROM stories WHERE id = 'task-2'")"

# ---- ignore: globs ----
printf -- '---\ntitle: [not a task\n---\n' >backlog/tasks/NOTES.md
printf 'ignore: [NOTES.md]\n' >>.storysync.yml
run ss -v sync
check_eq "an ignored path is no story and no error" "0" "$rc"
check_contains "and -v names it" \
  "backlog/tasks/NOTES.md: not a story (it matches ignore:); skipped" \
  "$err"

# ---- the oracle: a fresh import of the same tree ----
mkdir "$O/fresh" && cp -r backlog .storysync.yml "$O/fresh"
(cd "$O/fresh" && ss -q init && ss -q sync)
cols="id, backlog, status, epic, title, priority, points, assignees, labels,
  extra, body, path, created"
check_eq "a fresh --full import gives the same rows" \
  "$(sqlite3 -batch "$O/fresh/$DB" "SELECT $cols FROM stories ORDER BY id; SELECT * FROM story_dependencies ORDER BY 1, 2")" \
  "$(q "SELECT $cols FROM stories ORDER BY id; SELECT * FROM story_dependencies ORDER BY 1, 2")"
finish
