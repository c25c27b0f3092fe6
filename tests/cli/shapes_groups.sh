#!/bin/bash
# Issue 24, shape B (see shapes.sh): a flat folder with two group folders
# (epics) and quoted numeric ids (id: "095"), a comment and a constant key
# atop every file (new_file:), dates as 2026-01-10.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shapes_lib.sh"

# ==== B: a flat folder with group folders, quoted numeric ids ====
mkdir -p B/tasks/backend B/tasks/frontend && cd B || exit 1
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  board: tasks
status_from: key
stages:
  all: .
file_name: "{id}-{slug}.md"
keys:
  assignees: assignees
  depends_on: depends
  parent: parent
mirror_keys: false
created_format: date
key_order: [id, title, status, assignees, depends, parent, points, created]
new_file: |
  # Task file: edit freely, keep the id.
  kind: task
EOF
cat >tasks/095-set-up-ci.md <<'EOF'
---
# Task file: edit freely, keep the id.
kind: task
id: "095"
title: Set up CI
status: done
assignees: [ana]
points: 3
created: 2026-01-10
---
Runs on every push.
EOF
cat >tasks/backend/096-api-pagination.md <<'EOF'
---
# Task file: edit freely, keep the id.
kind: task
id: "096"
title: API pagination
status: doing
assignees:
  - bo
  - cy
depends:
  - "095"
parent: "095"
created: 2026-01-12
---

Cursor-based.
EOF
cat >tasks/backend/097-rate-limits.md <<'EOF'
---
# Task file: edit freely, keep the id.
kind: task
id: "097"
title: Rate limits
status: todo
priority: low
created: 2026-01-13
---
EOF
cat >tasks/frontend/100-dark-mode.md <<'EOF'
---
# Task file: edit freely, keep the id.
kind: task
id: "100"
title: Dark mode
status: todo
assignees: []
parent: "096"
created: 2026-01-20
---
EOF
cat >"$O/B.json" <<'EOF'
{"backlogs": {"board": "tasks"}, "stages": {"all": "."},
 "status_from": "key",
 "keys": {"assignees": "assignees", "depends_on": "depends",
          "parent": "parent"},
 "id_re": null}
EOF
before=$(tree_sums tasks)
run ss init
run ss sync
check_eq "B: adopted" "0|4" "$rc|$(q "SELECT count(*) FROM stories")"
check_eq "B: adopting rewrites no file" "$before" "$(tree_sums tasks)"
check_eq "B: quoted numeric ids as written, group folders as epics" \
  "095||
096|backend|095
097|backend|
100|frontend|096" \
  "$(q "SELECT id, epic, parent FROM stories ORDER BY id")"
oracle "B: every file is its row, read with PyYAML" "$O/B.json" "4 files, 4 rows"
lib_quiet "B" tasks
cat >"$O/B.edits" <<'EOF'
095|title = 'Set up CI on every branch'|title:
095|status = 'doing'|status:
095|points = 5|points:
095|assignees = '["ana","dee"]'|assignees:
095|created = '2026-01-09'|created:
095|priority = 'high'|priority:
096|title = 'Cursor pagination'|title:
096|status = 'done'|status:
096|parent = '097'|parent:
096|extra = '{"kind":"bug"}'|kind:
096|created = '2026-01-11'|created:
097|title = 'Rate limits per key'|title:
097|priority = 'high'|priority:
097|status = 'doing'|status:
097|labels = '["api"]'|labels:
100|title = 'A dark mode'|title:
100|assignees = '["eve"]'|assignees:
100|parent = '095'|parent:
100|status = 'doing'|status:
100|points = 2|points:
EOF
edits "$O/B.edits" B
q "INSERT INTO stories(id, title, status, epic)
   VALUES ('101', 'Search box', 'todo', 'frontend')"
run ss sync
new=tasks/frontend/101-search-box.md
check_eq "B: a story the API creates: the tool's name, in its epic's folder" \
  "0|$new" "$rc|$(q "SELECT path FROM stories WHERE id = '101'")"
check_eq "B: the tool's first lines, its quoted id, its date" \
  "---|# Task file: edit freely, keep the id.|kind: task|id: \"101\"|title: Search box|status: todo|created: DATE|---" \
  "$(sed -E 's/^created: [0-9]{4}-[0-9]{2}-[0-9]{2}$/created: DATE/' "$new" | tr '\n' '|' | sed 's/|$//')"
check_eq "B: the row has the constant key and the date" \
  "{\"kind\":\"task\"}|$(sed -n 's/^created: //p' "$new")" \
  "$(q "SELECT extra || '|' || created FROM stories WHERE id = '101'")"
q "INSERT INTO stories(id, title, status, extra)
   VALUES ('102', 'Bug bash', 'todo', '{\"kind\":\"bug\",\"size\":\"s\"}')"
run ss sync
check_eq "B: a row's own value of a constant key wins, in its place" \
  "0|---|# Task file: edit freely, keep the id.|kind: bug|id: \"102\"|title: Bug bash|status: todo|created: DATE|size: s|---|{\"kind\":\"bug\",\"size\":\"s\"}" \
  "$rc|$(sed -E 's/^created: [0-9]{4}-[0-9]{2}-[0-9]{2}$/created: DATE/' tasks/102-bug-bash.md | tr '\n' '|' | sed 's/|$//')|$(q "SELECT extra FROM stories WHERE id = '102'")"
q "INSERT INTO stories(id, title, status, epic, assignees, parent, points, extra, created)
   VALUES ('103', 'Cache headers', 'todo', 'backend', '[\"bo\",\"cy\"]', '096', 2, '{\"kind\":\"task\"}', '2026-03-01');
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('103', '096')"
run ss sync
check_eq "B: its first lines, then its keys in its order" \
  "0|---|# Task file: edit freely, keep the id.|kind: task|id: \"103\"|title: Cache headers|status: todo|assignees: [bo, cy]|depends: [\"096\"]|parent: \"096\"|points: 2|created: 2026-03-01|---" \
  "$rc|$(tr '\n' '|' <tasks/backend/103-cache-headers.md | sed 's/|$//')"
oracle "B: after the edits, every file is still its row" "$O/B.json" \
  "7 files, 7 rows"
lib_quiet "B, after the edits" tasks
cd "$T" || exit 1

# every worked configuration of storysync.yml(5)'s TREE SHAPES loads
mkdir -p "$T/man" && cd "$T/man" || exit 1
python3 - "$SOURCE_ROOT/man/storysync.yml.5.scd" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
shapes = page.split("\n# TREE SHAPES\n")[1].split("\n# ")[0]
blocks = [b for b in re.findall(r"^```\n(.*?)^```", shapes, re.S | re.M)
          if b.startswith("database:")]
for i, b in enumerate(blocks):
    open("shape%d.yml" % i, "w").write(b)
PY
n=0 bad=0
for f in shape*.yml; do
  n=$((n + 1))
  run ss -c "$f" check
  [ "$rc" = 0 ] || { bad=$((bad + 1)); echo "# $f: $rc $out $err"; }
done
check_eq "storysync.yml(5): its seven worked configurations load" "7|0" "$n|$bad"
cd "$T" || exit 1

finish
