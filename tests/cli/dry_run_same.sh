#!/bin/bash
# Issue 19: --dry-run tells what the run does, line for line. A plain edit
# of a file with the API's status change of the same story was told as
# "moved S-1 -> db <the old path>" where the run moves the file ("-> file
# <the new path>"): the dry run made its lines apart from apply's. Over a
# set of shapes, each on two copies of one tree, --dry-run -v's lines are
# the real run's -v lines (order aside), the dry run writes nothing, and
# each line of the real run is checked against the files and the rows
# (sqlite3 or psql, find), not against storysync's word. A twin (PG_TWIN,
# lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

# the tree: S-1..S-9 in backlog web, three a stage, synced
mkdir -p "$T/base" && cd "$T/base" || exit 1
printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  app: stories/app\n' \
  >.storysync.yml
mkdir -p stories/app/backlog
for i in 1 2 3 4 5 6 7 8 9; do
  case $i in [1-3]) st=backlog ;; [4-6]) st=active ;; *) st=refinements ;; esac
  mkdir -p "stories/web/$st"
  printf -- '---\nid: S-%s\ntitle: Story %s\npriority: low\n---\nbody %s\n' \
    "$i" "$i" "$i" >"stories/web/$st/S-$i-story.md"
done
ss init -q && ss -q || not_ok "the base tree syncs"
cd "$T" || exit 1

path_of() { q "SELECT path FROM stories WHERE id = '$1'"; }
edit() { sed -i "s/^title: .*/title: $2/" "$(path_of "$1")"; }
status() { q "UPDATE stories SET status = '$2' WHERE id = '$1'"; }
# mv_to ID STAGE_DIR: the file moved by hand to that stage's directory
mv_to() {
  local p
  p=$(path_of "$1")
  mkdir -p "stories/web/$2" && mv "$p" "stories/web/$2/${p##*/}"
}

# each shape: what a person and the API did, on distinct stories
shape_edit_api_move() { edit S-1 "Edited by hand" && status S-1 active; }
shape_api_move() { status S-2 completed; }
shape_api_backlog() { q "UPDATE stories SET backlog = 'app' WHERE id = 'S-3'"; }
shape_file_move() { mv_to S-4 completed; }
shape_both_move() { mv_to S-5 completed && status S-5 backlog; }
shape_file_delete() { rm "$(path_of S-6)"; }
shape_api_delete() { q "DELETE FROM stories WHERE id = 'S-7'"; }
shape_delete_both() { rm "$(path_of S-8)" && q "DELETE FROM stories WHERE id = 'S-8'"; }
shape_file_delete_api_edit() {
  rm "$(path_of S-9)" && q "UPDATE stories SET title = 'API' WHERE id = 'S-9'"
}
shape_api_delete_file_edit() {
  edit S-1 "Edited by hand" && q "DELETE FROM stories WHERE id = 'S-1'"
}
shape_file_move_api_edit() {
  mv_to S-2 active && q "UPDATE stories SET priority = 'high' WHERE id = 'S-2'"
}
shape_api_move_file_edit_status() { # both changed the status
  sed -i 's/^title: .*/&\nstatus: completed/' "$(path_of S-3)" && status S-3 active
}
shape_created() {
  printf -- '---\nid: N-1\ntitle: New by hand\n---\n' >stories/web/backlog/N-1-new.md &&
    q "INSERT INTO stories(id, backlog, status, title)
       VALUES ('N-2', 'app', 'active', 'New by the API')"
}
shape_all() {
  shape_edit_api_move && shape_api_move && shape_api_backlog &&
    shape_file_move && shape_both_move && shape_file_delete &&
    shape_api_delete && shape_delete_both && shape_file_delete_api_edit &&
    shape_created
}

# lines FILE: a run's change lines, "would: " dropped, sorted
lines() {
  sed -n 's/^would: //; /^\(created\|updated\|moved\|deleted\|conflict\) /p' \
    "$1" | LC_ALL=C sort
}

# real_checked DIR: each change line of the real run's output checked in
# DIR against the rows and files: a story written or moved has its row
# and its file at the path told; a deleted one has neither
real_checked() {
  local verb id arrow where path bad=
  while read -r verb id arrow where path; do
    [ "$verb" = conflict ] && continue
    if [ "$verb" = deleted ]; then
      # (a file deleted by hand is told with no path: there is none)
      [ -z "$(cd "$1" && q "SELECT id FROM stories WHERE id = '$id'")" ] &&
        { [ -z "$path" ] || [ ! -e "$1/$path" ]; } || bad="$bad $id"
    else
      [ "$(cd "$1" && path_of "$id")" = "$path" ] && [ -f "$1/$path" ] ||
        bad="$bad $id"
    fi
  done <"$O/real.lines"
  echo "${bad:-ok}"
}

for s in edit_api_move api_move api_backlog file_move both_move file_delete \
  api_delete delete_both file_delete_api_edit api_delete_file_edit \
  file_move_api_edit api_move_file_edit_status created all; do
  drop_tree pend 2>/dev/null
  copy_tree base pend && cd pend || exit 1
  "shape_$s" || not_ok "$s: the shape is made"
  q "$(dialect "PRAGMA wal_checkpoint(TRUNCATE)" "SELECT 1")" >/dev/null
  cd "$T" && copy_tree pend dry && copy_tree pend real || exit 1
  cd dry || exit 1
  db0=$(db_digest) && tree0=$(tree_digest)
  ss --dry-run -v >"$O/dry.out" 2>"$O/dry.err"
  check_eq "$s: the dry run writes nothing" "$db0 $tree0" \
    "$(db_digest) $(tree_digest)"
  cd ../real || exit 1
  ss -v >"$O/real.out" 2>"$O/real.err"
  lines "$O/dry.out" >"$O/dry.lines"
  lines "$O/real.out" >"$O/real.lines"
  # both sides deleted: only the state is forgotten, nothing to tell
  check_eq "$s: the run has changes to tell" \
    "$([ $s = delete_both ] || echo 1)" "$([ -s "$O/real.lines" ] && echo 1)"
  check_eq "$s: --dry-run -v tells the real run's lines" \
    "$(cat "$O/real.lines")" "$(cat "$O/dry.lines")"
  check_eq "$s: each real line is what the run did" ok "$(real_checked .)"
  cd "$T" && drop_tree dry && drop_tree real
done

finish
