#!/bin/bash
# Issue 3: both sides changed. Disjoint edits both survive; on the same field
# the file wins and the DB's value is kept in sync_conflicts; a delete on one
# side against an edit on the other keeps the edit's content as a conflict;
# the delete guard stops a mass delete by the API until --force.
PG_TWIN=1 # a twin: runs on PostgreSQL too (lib.sh)
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 200 2>/dev/null
ss init >/dev/null
run ss sync
check_rc "import" 0

: >"$T/.used"
# pick [GREP-ERE]: a story file not used before whose text matches.
pick() {
  find stories -name '*.md' -type f -print0 | xargs -0 grep -lE -- "${1:-^}" |
    sort | grep -vxF -f "$T/.used" | head -n 1 | tee -a "$T/.used"
}
idof() { q "SELECT id FROM stories WHERE path='$1'"; }
conflicts() { q "SELECT count(*) FROM sync_conflicts WHERE story_id='$1'"; }

# quiet DESC: the run after is silent and writes nothing on either side.
quiet() {
  local db tree
  db=$(db_digest)
  tree=$(tree_digest)
  run ss sync
  check_eq "$1: the next run is silent" "0|" "$rc|$out$err"
  check_eq "$1: and writes nothing to the DB" "$db" "$(db_digest)"
  check_eq "$1: and touches no file" "$tree" "$(tree_digest)"
}

# ---- disjoint edits: file title, DB priority ----
f=$(pick '^priority: ')
id=$(idof "$f")
sed -i 's/^title: .*/title: Title from the file/' "$f"
q "UPDATE stories SET priority='critical' WHERE id='$id'"
run ss sync
check_rc "disjoint: exit 0" 0
check_eq "disjoint: the row has both" "Title from the file|critical" \
  "$(q "SELECT title, priority FROM stories WHERE id='$id'")"
check_eq "disjoint: the file has both" \
  "title: Title from the file|priority: critical" \
  "$(grep -E '^(title|priority):' "$f" | paste -sd '|')"
check_eq "disjoint: no conflict" 0 "$(conflicts "$id")"
quiet "disjoint"

# ---- the same field on both sides ----
f=$(pick)
id=$(idof "$f")
cp "$f" "$T/.snap"
sed -i 's/^title: .*/title: File wins/' "$f"
q "UPDATE stories SET title='DB loses', assignees='[\"dbuser\"]' WHERE id='$id'"
run ss sync -v
check_rc "same field: exit 0 (resolved by policy)" 0
check_contains "same field: -v tells of the conflict" "conflict" "$out"
check_eq "same field: the file's title, the DB's other field" \
  "File wins|dbuser" "$(q "SELECT title, $(jget assignees 0) FROM stories WHERE id='$id'")"
check_eq "same field: the file keeps its value" "title: File wins" \
  "$(grep '^title:' "$f")"
check_eq "same field: the DB's other field reaches the file" \
  "assignee: dbuser" "$(grep '^assignee:' "$f")"
check_eq "same field: one conflict: kind, kept, fields" \
  "both_changed|file|title" \
  "$(q "SELECT kind, kept, fields FROM sync_conflicts WHERE story_id='$id'")"
check_eq "same field: the DB's value is kept in full" "DB loses|dbuser" \
  "$(q "SELECT $(jget lost title) || '|' || $(jget "$(jget lost assignees)" 0) FROM sync_conflicts WHERE story_id='$id'")"
quiet "same field"

# ---- a move on both sides: the file's location wins ----
f=$(pick '^status: backlog')
id=$(idof "$f")
dest=${f/\/backlog\//\/active\/}
mkdir -p "${dest%/*}"
mv "$f" "$dest"
echo "$dest" >>"$T/.used"
q "UPDATE stories SET status='completed' WHERE id='$id'"
run ss sync
check_rc "moved on both sides: exit 0" 0
check_eq "moved on both sides: the file stays where it was moved" \
  "active|$dest|yes" \
  "$(q "SELECT status, path FROM stories WHERE id='$id'")|$([ -f "$dest" ] && echo yes)"
check_eq "moved on both sides: its status key follows the location" \
  "status: active" "$(grep '^status:' "$dest")"
check_eq "moved on both sides: the DB's status is kept as a conflict" \
  "both_changed|file|status|completed" \
  "$(q "SELECT kind, kept, fields, $(jget lost status) FROM sync_conflicts WHERE story_id='$id'")"
quiet "moved on both sides"

# ---- file deleted, DB edited ----
f=$(pick)
id=$(idof "$f")
rm "$f"
q "UPDATE stories SET title='Edited in the DB meanwhile' WHERE id='$id'"
run ss sync
check_rc "file deleted, DB edited: exit 0" 0
check_eq "file deleted, DB edited: the row is deleted" 0 \
  "$(q "SELECT count(*) FROM stories WHERE id='$id'")"
check_eq "file deleted, DB edited: the file stays deleted" no \
  "$([ -e "$f" ] && echo yes || echo no)"
check_eq "file deleted, DB edited: a conflict with the DB's version" \
  "deleted_in_file|file|Edited in the DB meanwhile" \
  "$(q "SELECT kind, kept, $(jget lost title) FROM sync_conflicts WHERE story_id='$id'")"
check_eq "file deleted, DB edited: the DB's version stays in deleted_stories" \
  "Edited in the DB meanwhile" \
  "$(q "SELECT $(jget row title) FROM deleted_stories WHERE story_id='$id' ORDER BY seq DESC LIMIT 1")"
quiet "file deleted, DB edited"

# ---- file edited, DB row deleted ----
f=$(pick '^depends_on: \[')
id=$(idof "$f")
old_title=$(q "SELECT title FROM stories WHERE id='$id'")
deps_sql="SELECT depends_on FROM story_dependencies WHERE story_id='$id' ORDER BY depends_on"
deps=$(q "$deps_sql")
[ -n "$deps" ]
check_eq "file edited, DB deleted: a story with dependencies" 0 $?
sed -i 's/^priority: .*/priority: low/; s/^title: .*/title: Edited in the file meanwhile/' "$f"
q "DELETE FROM stories WHERE id='$id'"
run ss sync
check_rc "file edited, DB deleted: exit 0" 0
check_eq "file edited, DB deleted: the row is re-created from the file" \
  "Edited in the file meanwhile|$f" \
  "$(q "SELECT title, path FROM stories WHERE id='$id'")"
check_eq "file edited, DB deleted: its dependencies are back" "$deps" \
  "$(q "$deps_sql")"
check_eq "file edited, DB deleted: a conflict recorded" \
  "deleted_in_db|file|$old_title" \
  "$(q "SELECT kind, kept, $(jget lost title) FROM sync_conflicts WHERE story_id='$id'")"
quiet "file edited, DB deleted"

# ---- a comment-only file edit against a DB edit ----
f=$(pick '^points: ')
id=$(idof "$f")
sed -i '2i # a comment added by hand' "$f"
q "UPDATE stories SET points=34 WHERE id='$id'"
run ss sync
check_rc "comment + DB edit: exit 0" 0
check_eq "comment + DB edit: the comment stays" "# a comment added by hand" \
  "$(sed -n 2p "$f")"
check_eq "comment + DB edit: the DB's value reaches the file" "points: 34" \
  "$(grep '^points:' "$f")"
check_eq "comment + DB edit: no conflict" 0 "$(conflicts "$id")"
quiet "comment + DB edit"

# ---- the guard: the API deletes more than half of the rows ----
n=$(q 'SELECT count(*) FROM stories')
files=$(find stories -name '*.md' | wc -l)
tree=$(tree_digest)
q "DELETE FROM stories WHERE id IN (SELECT id FROM stories ORDER BY id LIMIT $((n * 3 / 4)))"
left=$(q 'SELECT count(*) FROM stories')
db=$(db_digest)
run ss sync
check_eq "guard: exit 4 and why" \
  "4|storysync: this run would delete $((n * 3 / 4)) of $n stories (more than 50%); nothing written (--force to sync anyway)" \
  "$rc|$err"
check_eq "guard: no file deleted" "$tree" "$(tree_digest)"
check_eq "guard: nothing written to the DB" "$db" "$(db_digest)"
run ss sync
check_eq "guard: still refused on the next run" 4 "$rc"
check_eq "guard: the failed runs are recorded" "4|4" \
  "$(q 'SELECT exit_code FROM sync_runs ORDER BY id DESC LIMIT 2' | paste -sd '|')"
run ss sync --force
check_rc "guard: --force goes on" 0
check_eq "guard: --force deletes the files" "$left" \
  "$(find stories -name '*.md' | wc -l)"
check_eq "guard: the rows left are all there" "$left" \
  "$(q 'SELECT count(*) FROM stories')"
[ "$files" -gt "$left" ]
check_eq "guard: there were more files before" 0 $?
quiet "guard"

finish
