#!/bin/bash
# Issue 24, shape C (see shapes.sh): stage folders, digits-first names
# ("42-fix-login.md") and no id key, dates as '2026-02-14 21:22'; a parent
# check reports (none, a cycle), and one the tree has no key for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shapes_lib.sh"

# ==== C: stage folders, digits-first names, no id key ====
mkdir -p C/todo C/doing C/done && cd C || exit 1
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
stages:
  todo: todo
  doing: doing
  done: done
file_name: "{id}-{slug}.md"
id_key: false
keys:
  parent: parent
mirror_keys: false
created_format: datetime
key_order: [title, priority, assignee, labels, depends_on, parent, created]
list_style: block
EOF
cat >todo/42-fix-login.md <<'EOF'
---
title: Fix login
priority: high
assignee:
  - ana
  - bo
labels:
  - auth
created: '2026-02-14 21:22'
---
The form loses its input.
EOF
cat >todo/43-add-sso.md <<'EOF'
---
title: Add SSO
parent: 42
created: '2026-02-15 09:00'
---
EOF
cat >doing/7-speed-up-search.md <<'EOF'
---
title: Speed up search
priority: medium
assignee: cy
depends_on: [1]
created: '2026-01-05 14:10'
---
EOF
cat >done/1-initial-setup.md <<'EOF'
---
title: Initial setup
created: '2026-01-01 08:00'
---
EOF
cat >"$O/C.json" <<'EOF'
{"backlogs": {"default": "."},
 "stages": {"todo": "todo", "doing": "doing", "done": "done"},
 "status_from": "location", "keys": {"parent": "parent"},
 "id_re": "^([0-9]+)-"}
EOF
before=$(tree_sums todo doing done)
run ss init
run ss sync
check_eq "C: adopted" "0|4" "$rc|$(q "SELECT count(*) FROM stories")"
check_eq "C: adopting rewrites no file" "$before" "$(tree_sums todo doing done)"
check_eq "C: ids from the names, status from the folder" "1|done
42|todo
43|todo
7|doing" "$(q "SELECT id, status FROM stories ORDER BY id")"
oracle "C: every file is its row, read with PyYAML" "$O/C.json" "4 files, 4 rows"
lib_quiet "C" todo doing done
cat >"$O/C.edits" <<'EOF'
42|title = 'Fix the login form'|title:
42|priority = 'low'|priority:
42|assignees = '["ana"]'|  - 
42|labels = '["auth","web"]'|  - 
42|created = '2026-02-14 21:00'|created:
42|points = 1|points:
43|title = 'Add single sign-on'|title:
43|parent = '7'|parent:
43|parent = NULL|parent:
43|priority = 'high'|priority:
7|title = 'Faster search'|title:
7|priority = 'high'|priority:
7|assignees = '["cy","dee"]'|assignee:
7|extra = '{"estimate":"2d"}'|estimate:
1|title = 'The initial setup'|title:
1|priority = 'low'|priority:
1|points = 8|points:
1|created = '2026-01-01 09:00'|created:
EOF
edits "$O/C.edits" C
cp todo/42-fix-login.md "$O/one"
q "UPDATE stories SET status = 'doing' WHERE id = '42'"
run ss sync
check_eq "C: a status change moves the file and changes no line" \
  "0|doing/42-fix-login.md|" \
  "$rc|$(q "SELECT path FROM stories WHERE id = '42'")|$(diff "$O/one" doing/42-fix-login.md)"
# a list key a file did not have: a block list, as the tree writes lists
cp doing/7-speed-up-search.md "$O/one"
q "UPDATE stories SET labels = '[\"perf\"]' WHERE id = '7'"
run ss sync
check_eq "C: a new list key: a block list, after the others" \
  "0|> labels:
>   - perf" "$rc|$(diff "$O/one" doing/7-speed-up-search.md | grep '^[<>]')"
q "INSERT INTO stories(id, title, status) VALUES ('44', 'Audit log', 'todo')"
run ss sync
new=todo/44-audit-log.md
check_eq "C: a story the API creates: digits first, no id key, its date" \
  "0|$new|---|title: Audit log|created: 'DATE'|---" \
  "$rc|$(q "SELECT path FROM stories WHERE id = '44'")|$(sed -E "s/^created: '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}'$/created: 'DATE'/" "$new" | tr '\n' '|' | sed 's/|$//')"
q "INSERT INTO stories(id, title, status, priority, assignees, labels, parent, created)
   VALUES ('50', 'Export audit log', 'todo', 'low', '[\"ana\"]', '[\"audit\",\"@ops\"]', '44', '2026-03-01 10:00');
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('50', '44'), ('50', '7')"
run ss sync
check_eq "C: the tool's key order, block lists (one assignee too), quotes as it writes them" \
  "0|---|title: Export audit log|priority: low|assignee:|  - ana|labels:|  - audit|  - '@ops'|depends_on:|  - '44'|  - '7'|parent: \"44\"|created: '2026-03-01 10:00'|---" \
  "$rc|$(tr '\n' '|' <todo/50-export-audit-log.md | sed 's/|$//')"
oracle "C: after the edits, every file is still its row" "$O/C.json" \
  "6 files, 6 rows"
lib_quiet "C, after the edits" todo doing done
# a parent no story has, a parent cycle: check reports both
printf -- '---\ntitle: Orphan\nparent: 99\n---\n' >todo/45-orphan.md
printf -- '---\ntitle: Loop\nparent: 47\n---\n' >todo/46-loop.md
printf -- '---\ntitle: Loop back\nparent: 46\n---\n' >todo/47-loop-back.md
run ss check
check_eq "C: check: a parent no story has, a parent cycle" "1|todo/45-orphan.md: parent '99': no such story
todo/46-loop.md: parent cycle: 46 -> 47 -> 46" "$rc|$err"
printf -- '---\ntitle: Bad parent\nparent: "a b"\n---\n' >todo/48-bad-parent.md
run ss sync
check_contains "C: a parent that is no id: an error at its line" \
  "todo/48-bad-parent.md:3:9: invalid id 'a b' in 'parent'" "$err"
rm todo/48-bad-parent.md
# the API sets a parent where the tree has no key for it: refused
sed -i '/^keys:/,/^  parent:/d' .storysync.yml
q "UPDATE stories SET parent = '1' WHERE id = '7'"
run ss sync
check_contains "C: a parent the tree has no key for is refused" \
  "story 7: parent '1': this tree's files have no key for it (keys: {parent: KEY}); refused: nothing written" \
  "$err"
cd "$T" || exit 1

finish
