#!/bin/bash
# Issue 24: a Markdown task tree adopted by configuration alone. Each
# shape is a tree hand-written the way such a tool writes it; for each,
# adopting rewrites no file, every file is a row whose fields match the
# file read with PyYAML (shapes_oracle.py), the next run is quiet, twenty
# DB edits of one field each change one line each, and a story the API
# creates is named and written as that tool would (shapes_lib.sh).
# Here, shape A: a hidden flat folder (.issues) with archive/ inside, ids
# only in lower-case "{id}--{slug}.md" names, an archived copy of a live
# id. B is in shapes_groups.sh, C in shapes_digits.sh, what a versioned
# configuration may name in shapes_paths.sh, Backlog.md's own tree in
# backlog_md_repo.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shapes_lib.sh"

# ==== A: a hidden flat folder, ids only in the names ====
mkdir -p A/.issues/archive A/.issues/.drafts && cd A || exit 1
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  issues: .issues
status_from: key
statuses: [open, in-progress, closed]
stages:
  live: .
  archived: archive
archive_stages: [archived]
file_name: "{id}--{slug}.md"
id_key: false
keys:
  depends_on: blocked_by
  parent: parent
mirror_keys: false
created_format: iso
key_order: [title, status, priority, labels, assignee, blocked_by, parent,
  estimate, created]
EOF
cat >.issues/proj-a1b2--add-csv-export.md <<'EOF'
---
title: Add CSV export
status: open
priority: high
labels: [export, csv]
assignee: ana
created: 2026-02-14T21:22:00Z
---

Export the board as CSV.
EOF
cat >.issues/proj-c3d4--export-button.md <<'EOF'
---
title: Export button
status: in-progress
priority: medium
labels: []
assignee: bo
parent: proj-a1b2
created: 2026-02-15T08:00:00Z
---

A button on the board. #ui
EOF
cat >.issues/proj-e5f6--fix-crash-on-empty-board.md <<'EOF'
---
title: 'Fix: crash on an empty board'
status: open
priority: low
labels: [bug]
blocked_by: [proj-a1b2]
estimate: 2
created: 2026-02-16T10:30:00Z
---
EOF
cat >.issues/archive/proj-0a0a--old-importer.md <<'EOF'
---
title: Old importer
status: closed
priority: low
labels: []
created: 2025-11-02T12:00:00Z
---

Replaced by the CSV export.
EOF
# an archived copy of a live id: a shadow
cat >.issues/archive/proj-a1b2--add-csv-export.md <<'EOF'
---
title: Add CSV export (first try)
status: closed
created: 2026-02-14T21:22:00Z
---
EOF
# a hidden folder below the backlog: not walked
cat >.issues/.drafts/proj-dead--draft.md <<'EOF'
---
title: A draft
status: open
---
EOF
cat >"$O/A.json" <<'EOF'
{"backlogs": {"issues": ".issues"},
 "stages": {"live": ".", "archived": "archive"},
 "status_from": "key",
 "keys": {"depends_on": "blocked_by", "parent": "parent"},
 "id_re": "^([a-z0-9-]+?)--",
 "shadows": [".issues/archive/proj-a1b2--add-csv-export.md"]}
EOF
before=$(tree_sums .issues)
run ss init
run ss -v sync
check_eq "A: adopted: every live file and the archived one" \
  "0|4|proj-0a0a proj-a1b2 proj-c3d4 proj-e5f6" \
  "$rc|$(q "SELECT count(*) FROM stories")|$(q "SELECT group_concat(id, ' ') FROM (SELECT id FROM stories ORDER BY id)")"
check_contains "A: -v names the archived copy, skipped" \
  ".issues/archive/proj-a1b2--add-csv-export.md: an archived copy of proj-a1b2, whose story is .issues/proj-a1b2--add-csv-export.md; skipped" \
  "$err"
check_eq "A: adopting rewrites no file" "$before" "$(tree_sums .issues)"
check_eq "A: the live file is the story; the archive a stage inside '.'" \
  "proj-a1b2|open|live|.issues/proj-a1b2--add-csv-export.md
proj-0a0a|closed|archived|.issues/archive/proj-0a0a--old-importer.md" \
  "$(q "SELECT id, status, (SELECT CASE WHEN path LIKE '%/archive/%' THEN 'archived' ELSE 'live' END), path FROM stories WHERE id IN ('proj-a1b2', 'proj-0a0a') ORDER BY id DESC")"
oracle "A: every file is its row, read with PyYAML" "$O/A.json" "4 files, 4 rows"
lib_quiet "A" .issues
run ss check
check_eq "A: check names the archived copy, no problem" \
  "0|.issues/archive/proj-a1b2--add-csv-export.md: an archived copy of proj-a1b2, whose story is .issues/proj-a1b2--add-csv-export.md; skipped
5 stories checked, 0 problems|" "$rc|$out|$err"
cat >"$O/A.edits" <<'EOF'
proj-a1b2|title = 'Add CSV and TSV export'|title:
proj-a1b2|priority = 'medium'|priority:
proj-a1b2|status = 'in-progress'|status:
proj-a1b2|labels = '["export"]'|labels:
proj-a1b2|assignees = '["cy"]'|assignee:
proj-a1b2|created = '2026-02-13T09:00:00Z'|created:
proj-c3d4|title = 'An export button'|title:
proj-c3d4|priority = 'high'|priority:
proj-c3d4|status = 'closed'|status:
proj-c3d4|labels = '["ui"]'|labels:
proj-c3d4|assignees = '["bo","ana"]'|assignee:
proj-c3d4|parent = 'proj-e5f6'|parent:
proj-c3d4|parent = NULL|parent:
proj-e5f6|title = 'Fix the crash on an empty board'|title:
proj-e5f6|priority = 'high'|priority:
proj-e5f6|points = 3|points:
proj-e5f6|extra = '{"estimate":5}'|estimate:
proj-e5f6|labels = '["bug","p1"]'|labels:
proj-0a0a|title = 'The old importer'|title:
proj-0a0a|status = 'open'|status:
EOF
edits "$O/A.edits" A
q "INSERT INTO story_dependencies(story_id, depends_on) VALUES ('proj-c3d4', 'proj-e5f6')"
cp .issues/proj-c3d4--export-button.md "$O/one"
run ss sync
check_eq "A: a dependency, under the tree's key" "0|> blocked_by: [proj-e5f6]" \
  "$rc|$(diff "$O/one" .issues/proj-c3d4--export-button.md | grep '^[<>]')"
check_eq "A: the archived copy was never touched" \
  "$(printf -- '---\ntitle: Add CSV export (first try)\nstatus: closed\ncreated: 2026-02-14T21:22:00Z\n---\n')" \
  "$(cat .issues/archive/proj-a1b2--add-csv-export.md)"
q "INSERT INTO stories(id, title, status, priority)
   VALUES ('proj-f00d', 'Import from Jira', 'open', 'medium')"
run ss sync
new=.issues/proj-f00d--import-from-jira.md
check_eq "A: a story the API creates: its name holds its id, in '.'" \
  "0|$new" "$rc|$(q "SELECT path FROM stories WHERE id = 'proj-f00d'")"
check_eq "A: no id key, no mirror keys, an ISO created date" \
  "---|title: Import from Jira|status: open|priority: medium|created: DATE|---" \
  "$(sed -E 's/^created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/created: DATE/' "$new" | tr '\n' '|' | sed 's/|$//')"
check_eq "A: the row has the created date the file has" \
  "$(sed -n 's/^created: //p' "$new")" \
  "$(q "SELECT created FROM stories WHERE id = 'proj-f00d'")"
q "INSERT INTO stories(id, title, status, priority, labels, assignees, parent, extra, created)
   VALUES ('proj-beef', 'Export to XLSX', 'open', 'low', '[\"export\",\"xlsx\"]', '[\"ana\"]', 'proj-a1b2', '{\"estimate\":3}', '2026-03-01T10:00:00Z');
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('proj-beef', 'proj-f00d')"
run ss sync
check_eq "A: the tool's key order and flow lists" \
  "0|---|title: Export to XLSX|status: open|priority: low|labels: [export, xlsx]|assignee: ana|blocked_by: [proj-f00d]|parent: proj-a1b2|estimate: 3|created: 2026-03-01T10:00:00Z|---" \
  "$rc|$(tr '\n' '|' <.issues/proj-beef--export-to-xlsx.md | sed 's/|$//')"
oracle "A: after the edits, every file is still its row" "$O/A.json" \
  "6 files, 6 rows"
lib_quiet "A, after the edits" .issues
# a live file gone: its archived copy becomes the story
rm .issues/proj-a1b2--add-csv-export.md
run ss sync
check_eq "A: the live file gone, the archived copy is the story" \
  "0|.issues/archive/proj-a1b2--add-csv-export.md|closed" \
  "$rc|$(q "SELECT path || '|' || status FROM stories WHERE id = 'proj-a1b2'")"
# a name the template does not read, no id key: reported as before
printf -- '---\ntitle: Notes\nstatus: open\n---\n' >".issues/Notes about it.md"
run ss sync
check_eq "A: a name the template cannot read and no id key" \
  '1|.issues/Notes about it.md:1:1: no id: add an '"'"'id:'"'"' key or name the file as file_name: has it ({id}--{slug}.md)' \
  "$rc|$err"
rm ".issues/Notes about it.md"
# an API id the template would read back as another: refused
q "INSERT INTO stories(id, title, status) VALUES ('x--y', 'Two dashes', 'open')"
run ss sync
check_contains "A: an id whose name reads back as another is refused" \
  "story x--y: its file would not read back as the row (it would read back with another id); refused: no file written" \
  "$err"
check_eq "A: and no file is made for it" "" \
  "$(find .issues -name 'x--y*')"
q "DELETE FROM stories WHERE id = 'x--y'"
# an epic named as the stage inside '.': its file would be that stage's
cp .issues/proj-c3d4--export-button.md "$O/c3d4"
q "UPDATE stories SET epic = 'archive' WHERE id = 'proj-c3d4'"
run ss sync
check_eq "A: an epic that is a stage inside the story's is refused" \
  "1|story proj-c3d4: epic 'archive' is the directory of another stage inside stage 'live'; skipped" \
  "$rc|$err"
check_eq "A: the file stays where and as it was, the row as the API wrote it" \
  "|archive" \
  "$(diff "$O/c3d4" .issues/proj-c3d4--export-button.md)|$(q "SELECT epic FROM stories WHERE id = 'proj-c3d4'")"
q "UPDATE stories SET epic = NULL WHERE id = 'proj-c3d4'"
run ss sync
check_eq "A: once mended, nothing to write" "0|" \
  "$rc|$(diff "$O/c3d4" .issues/proj-c3d4--export-button.md)"
cd "$T" || exit 1

finish
