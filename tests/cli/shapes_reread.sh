#!/bin/bash
# Issue 24: a change of the way files are read (a keys: mapping,
# at_strings:, the id file_name: reads) re-reads every file on the next
# run, plain or --full, so that the rows follow the new reading: no file
# rewritten, an API edit made meanwhile kept, the run after quiet. A file
# the new reading refuses keeps its row. A run of some backlogs waits for
# a run of all; a database that never recorded the reading needs --full.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/shapes_lib.sh"

mkdir -p tasks/done other
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  main: tasks
  other: other
status_from: key
stages:
  live: .
  done: done
file_name: "{id}-{slug}.md"
keys:
  parent: parent_task_id
mirror_keys: false
at_strings: true
EOF
cat >tasks/t1-first.md <<'EOF'
---
title: First
status: open
assignee: @ana
parent_task_id: t3
blocked: [t2]
---
One.
EOF
cat >tasks/t2-second.md <<'EOF'
---
id: t2
title: Second
status: open
depends_on: [t1]
blocked: []
---
EOF
cat >tasks/done/t3-third.md <<'EOF'
---
title: Third
status: done
assignee: [bo]
---
EOF
printf -- '---\ntitle: Elsewhere\nstatus: open\n---\n' >other/o1-elsewhere.md
spec() { # spec KEYS-JSON
  cat >"$O/spec.json" <<EOF
{"backlogs": {"main": "tasks", "other": "other"},
 "stages": {"live": ".", "done": "done"}, "status_from": "key",
 "keys": $1, "id_re": "^(?:[a-z]+-)?([a-z][0-9]+)", "shadows": []}
EOF
}
run ss init
git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm init
run ss sync
check_eq "adopted" "0|4" "$rc|$(q "SELECT count(*) FROM stories")"
before=$(tree_sums tasks other)

# a field's key renamed: the rows follow on a plain run
sed -i 's/^  parent: parent_task_id$/  depends_on: blocked\n  parent: parent_task_id/' .storysync.yml
run ss -v sync
check_contains "-v says every file is read again" \
  "the way files are read (keys:, at_strings:, file_name:) changed: every file is read again" \
  "$err"
check_eq "the rows follow the new key, t2's depends_on goes to extra" \
  "0|t1:t2|t2:|{\"depends_on\":[\"t1\"]}" \
  "$rc|$(q "SELECT group_concat(story_id || ':' || depends_on) FROM story_dependencies")|t2:$(q "SELECT depends_on FROM story_dependencies WHERE story_id = 't2'")|$(q "SELECT extra FROM stories WHERE id = 't2'")"
spec '{"depends_on": "blocked", "parent": "parent_task_id", "assignees": "assignee"}'
# PyYAML cannot read '@ana' plain: the oracle reads a copy with it quoted
oracle_at() {
  rm -rf "$O/copy" && mkdir "$O/copy" && cp -r tasks other "$O/copy/" &&
    sed -i "s/^assignee: @ana$/assignee: '@ana'/" "$O/copy/tasks/t1-first.md"
  (cd "$O/copy" && python3 "$SOURCE_ROOT/tests/cli/shapes_oracle.py" . \
    "$T/$DB" "$O/spec.json")
}
check_eq "every row is its file as PyYAML reads it now" "4 files, 4 rows" \
  "$(oracle_at 2>&1)"
check_eq "no file rewritten" "$before" "$(tree_sums tasks other)"
lib_quiet "after the re-read" tasks other

# an API edit made before the reading changes is kept
q "UPDATE stories SET title = 'First, edited' WHERE id = 't1'"
sed -i '/^  depends_on: blocked$/d' .storysync.yml
run ss sync
check_eq "the API's edit written, the dependencies as read now" \
  "0|title: First, edited|First, edited|t2:t1|{\"blocked\":[\"t2\"]}" \
  "$rc|$(grep '^title:' tasks/t1-first.md)|$(q "SELECT title FROM stories WHERE id = 't1'")|$(q "SELECT group_concat(story_id || ':' || depends_on) FROM story_dependencies")|$(q "SELECT extra FROM stories WHERE id = 't1'")"
# a column whose key is gone: its value stays in the file, as extra
sed -i '/^  parent: parent_task_id$/d' .storysync.yml
run ss sync
check_eq "parent no column now: the rows have it in extra" "0||t3" \
  "$rc|$(q "SELECT group_concat(parent) FROM stories")|$(q "SELECT json_extract(extra, '\$.parent_task_id') FROM stories WHERE id = 't1'")"
spec '{"assignees": "assignee"}'
check_eq "every row is its file as PyYAML reads it" "4 files, 4 rows" \
  "$(oracle_at 2>&1)"
before=$(tree_sums tasks other)

# '@' no longer text: the file is refused, its row kept
sed -i 's/^at_strings: true$/at_strings: false/' .storysync.yml
run ss sync
check_eq "a file the new reading refuses: reported, its row kept" \
  "1|First, edited|[\"@ana\"]" \
  "$rc|$(q "SELECT title FROM stories WHERE id = 't1'")|$(q "SELECT assignees FROM stories WHERE id = 't1'")"
check_contains "with its line and column" "tasks/t1-first.md:4:" "$err"
sed -i 's/^at_strings: false$/at_strings: true/' .storysync.yml
run ss sync
check_eq "read as text again: exit 0, nothing rewritten" "0|$before" \
  "$rc|$(tree_sums tasks other)"

# the id a name holds: another template
q "SELECT id FROM stories ORDER BY id" >"$O/ids"
sed -i 's/^file_name: .*$/file_name: "{slug}-{id}.md"/' .storysync.yml
mv tasks/t1-first.md tasks/first-t1.md
mv tasks/done/t3-third.md tasks/done/third-t3.md
mv other/o1-elsewhere.md other/elsewhere-o1.md
run ss sync
check_eq "names read with the new template: the same stories, moved" \
  "0|$(cat "$O/ids")|tasks/done/third-t3.md|tasks/first-t1.md|other/elsewhere-o1.md" \
  "$rc|$(q "SELECT id FROM stories ORDER BY id")|$(q "SELECT path FROM stories WHERE id = 't3'")|$(q "SELECT path FROM stories WHERE id = 't1'")|$(q "SELECT path FROM stories WHERE id = 'o1'")"

# a run of some backlogs waits for a run of all
sed -i 's/^keys:$/keys:\n  depends_on: blocked/' .storysync.yml
digest=$(db_digest)
run ss sync --backlog main
check_eq "a run of one backlog refuses, writes nothing" \
  "2|storysync: the configuration changed since the last run (see -v); a run of every backlog follows it first: nothing written|$digest" \
  "$rc|$err|$(db_digest)"
run ss sync
check_eq "the run of all follows it" "0|t1:t2" \
  "$rc|$(q "SELECT group_concat(story_id || ':' || depends_on) FROM story_dependencies")"

# a database that never recorded the reading: --full reads every file
q "DELETE FROM sync_meta WHERE key = 'config.reading'"
sed -i '/^  depends_on: blocked$/d' .storysync.yml
run ss sync
check_eq "nothing recorded to compare with: a plain run reads no file" \
  "0|t1:t2" \
  "$rc|$(q "SELECT group_concat(story_id || ':' || depends_on) FROM story_dependencies")"
run ss sync --full
check_eq "--full reads every file the new way" "0|t2:t1" \
  "$rc|$(q "SELECT group_concat(story_id || ':' || depends_on) FROM story_dependencies")"
before=$(tree_sums tasks other)
run ss sync --full
check_eq "another --full: nothing to say, nothing rewritten" "0||$before" \
  "$rc|$out$err|$(tree_sums tasks other)"
lib_quiet "at the end" tasks other

finish
