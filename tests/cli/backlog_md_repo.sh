#!/bin/bash
# Issue 24: Backlog.md's own task tree (a sample in its shapes,
# tests/fixtures/backlog-md-repo) adopted with the configuration init
# writes: 'assignee: @MrLesk' read as Backlog.md reads it, the archived
# copies of live ids skipped and named, parent_task_id the parent column;
# exit 0, no file rewritten, the next run quiet; an edit keeps '@MrLesk'
# as written and quotes a new '@' value; a task the API creates is dated
# as Backlog.md dates one.
. "$(dirname "$0")/lib.sh"

cp -r "$SOURCE_ROOT/tests/fixtures/backlog-md-repo/backlog" .
sums() {
  find backlog -type f -printf '%p %T@ %s\n' | LC_ALL=C sort | md5sum
  find backlog -type f -exec md5sum {} + | LC_ALL=C sort | md5sum
}
before=$(sums)

run ss init
check_contains "init adopts it" \
  "storysync: wrote .storysync.yml to adopt the Backlog.md project in backlog/" \
  "$out"
check_eq "with the archive stages, '@' as text, its parent key, its dates" \
  "archive_stages: [archived-task, archived-draft]
  parent: parent_task_id
at_strings: true
created_format: datetime" \
  "$(grep -e '^archive_stages:' -e 'parent:' -e '^at_strings:' -e '^created_format:' .storysync.yml)"

run ss -v sync
check_eq "adopted with exit 0: every task, each archived copy skipped" \
  "0|7|BACK-458 BACK-91 task-206 task-265.10 task-265.33 task-3 task-4.3" \
  "$rc|$(q "SELECT count(*) FROM stories")|$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM stories ORDER BY lower(id))")"
check_contains "-v names the archived copies" \
  "backlog/archive/tasks/task-265.10 - Extend-existing-MCP-test-suite-with-comprehensive-coverage.md: an archived copy of task-265.10, whose story is backlog/tasks/task-265.10 - Extend-existing-MCP-test-suite-with-comprehensive-coverage.md; skipped" \
  "$err"
check_contains "both of them" \
  "backlog/archive/tasks/task-265.33 - Add-remaining-MCP-resources.md: an archived copy of task-265.33" \
  "$err"
check_eq "adopting rewrites no file" "$before" "$(sums)"
check_eq "the live files are the stories" \
  "task-265.10|In Progress|backlog/tasks/task-265.10 - Extend-existing-MCP-test-suite-with-comprehensive-coverage.md
task-265.33|To Do|backlog/tasks/task-265.33 - Add-remaining-MCP-resources.md" \
  "$(q "SELECT id, status, path FROM stories WHERE id LIKE 'task-265.%' ORDER BY id")"
check_eq "'@MrLesk' read as text, as Backlog.md reads it" \
  '["@MrLesk"]|@MrLesk' \
  "$(q "SELECT assignees, json_extract(extra, '\$.reporter') FROM stories WHERE id = 'task-4.3'")"
check_eq "parent_task_id is the parent" "task-265.10|task-265
task-265.33|task-265
task-4.3|task-4" \
  "$(q "SELECT id, parent FROM stories WHERE parent IS NOT NULL ORDER BY id")"
check_eq "dates as written" "2025-09-16T17:26:52.992Z|2025-06-19" \
  "$(q "SELECT group_concat(created, '|') FROM (SELECT created FROM stories WHERE id IN ('task-265.33', 'BACK-91') ORDER BY id DESC)")"
lib_quiet "Backlog.md's tree" backlog

run ss check
check_eq "check: the stories this sample leaves out, the copies named" \
  "1|backlog/completed/task-3 - CLI-Implement-backlog-init-Command.md: depends_on 'task-2': no such story
backlog/completed/task-4.3 - CLI-Task-Editing.md: depends_on 'task-4.2': no such story
backlog/completed/task-4.3 - CLI-Task-Editing.md: parent 'task-4': no such story
backlog/tasks/task-265.10 - Extend-existing-MCP-test-suite-with-comprehensive-coverage.md: parent 'task-265': no such story
backlog/tasks/task-265.33 - Add-remaining-MCP-resources.md: parent 'task-265': no such story|2" \
  "$rc|$err|$(echo "$out" | grep -c 'an archived copy of')"

t43="backlog/completed/task-4.3 - CLI-Task-Editing.md"
cp "$t43" "$O/t43"
q "UPDATE stories SET priority = 'low' WHERE id = 'task-4.3'"
run ss sync
check_eq "an edit keeps 'assignee: @MrLesk' as written" \
  "0|> priority: low" "$rc|$(diff "$O/t43" "$t43" | grep '^[<>]')"
q "UPDATE stories SET assignees = '[\"@ana\"]' WHERE id = 'task-4.3'"
run ss sync
check_eq "a new '@' value is quoted" '0|< assignee: @MrLesk
> assignee: "@ana"' "$rc|$(diff "$O/t43" "$t43" | grep '^[<>]' | grep -v priority)"
check_eq "the reporter stays as written" "reporter: @MrLesk" \
  "$(grep '^reporter:' "$t43")"

q "INSERT INTO stories(id, title, status) VALUES ('BACK-500', 'Sync with storysync', 'To Do')"
run ss sync
new="backlog/tasks/back-500 - Sync-with-storysync.md"
check_eq "a task the API creates: Backlog.md's name and date" \
  "0|yes|---|id: BACK-500|title: Sync with storysync|status: To Do|created_date: 'DATE'|---" \
  "$rc|$([ -f "$new" ] && echo yes)|$(sed -E "s/^created_date: '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}'$/created_date: 'DATE'/" "$new" | tr '\n' '|' | sed 's/|$//')"
lib_quiet "after the edits" backlog

finish
