#!/bin/bash
# Issue 3: DB->file. The API writes plain SQL to stories and
# story_dependencies; the next run changes exactly the lines of the changed
# fields, moves files whose status, backlog or epic changed, creates and
# deletes files, refuses hostile values, and the run after is silent.
# Runs on both backends (PG_TWIN, lib.sh): the SQL through lib.sh's
# helpers where the dialects differ (jset, jscalar, sqlquote, sqlchr).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

# 60 stories: every kind of file the picks below need is there several
# times (the size is not the point here; the imports test it), and one
# in platform/backlog/ without its status key, which 200 gave by chance
"$GEN_STORIES" . --count 60 2>/dev/null
f=$(grep -l '^status:' -r stories/platform/backlog | LC_ALL=C sort | tail -n 1)
sed -i '/^status:/d' "$f"
ss init >/dev/null
run ss sync
check_rc "import" 0
: >"$T/.used"

# pick GREP-ERE [FIND-PATH-GLOB]: a story file not used before whose text
# matches.
pick() {
  local f u
  local -A used
  mapfile -t u <"$T/.used"
  for f in "${u[@]}"; do used[$f]=1; done
  grep -rlE --include='*.md' -- "$1" stories | LC_ALL=C sort >"$O/pick"
  while IFS= read -r f; do
    # shellcheck disable=SC2053 # the glob, as find -path takes it
    [[ $f == ${2:-*} ]] && [ -z "${used[$f]:-}" ] || continue
    echo "$f" >>"$T/.used"
    echo "$f"
    return
  done <"$O/pick"
}
idof() { q "SELECT id FROM stories WHERE path='$1'"; }
snap() { cp -p "$1" "$T/.snap"; }
# dstat FILE: "removed/added" line counts of diff against the snapshot
dstat() {
  local l del=0 add=0
  diff "$T/.snap" "$1" >"$O/diff"
  while IFS= read -r l; do
    case $l in "<"*) del=$((del + 1)) ;; ">"*) add=$((add + 1)) ;; esac
  done <"$O/diff"
  echo "$del/$add"
}
# added FILE: the lines diff adds to the snapshot
added() {
  local l
  diff "$T/.snap" "$1" >"$O/diff"
  while IFS= read -r l; do
    [[ $l != "> "* ]] || printf '%s\n' "${l#> }"
  done <"$O/diff"
}
# strip_key KEY FILE: the file without KEY's frontmatter lines
strip_key() {
  awk -v k="$1" 'NR == 1 { fm = 1; print; next }
    fm && /^---\r?$/ { fm = 0 }
    fm && index($0, k ":") == 1 { skip = 1; next }
    skip && /^[ \t]/ { next }
    { skip = 0; print }' "$2"
}
# Everything in the temp dir but the story tree and the database (and a
# twin's server, in ./pg).
elsewhere() {
  find . -path ./.storysync -prune -o -path ./stories -prune -o \
    -path ./pg -prune -o -print |
    grep -vE '^\./\.(snap|used)$' | sort
}

# linked: what every run says of a symlinked epic dir, once there is one
# (issue 20: never followed, reported on every run); silent: the exit code
# and output of a run with nothing else to say
linked=
silent() { if [ -n "$linked" ]; then echo "1|$linked"; else echo "0|"; fi; }

# quiet DESC: the run after is silent and writes nothing on either side.
quiet() {
  local db tree
  db=$(db_digest)
  tree=$(tree_digest)
  run ss sync
  check_eq "$1: the next run is silent" "$(silent)" "$rc|$out$err"
  check_eq "$1: and writes nothing to the DB" "$db" "$(db_digest)"
  check_eq "$1: and touches no file" "$tree" "$(tree_digest)"
}

# one_field DESC FILE SQL-SET EXPECTED-NEW-LINE
one_field() {
  local id
  id=$(idof "$2")
  snap "$2"
  q "UPDATE stories SET $3 WHERE id='$id'"
  run ss sync -v
  check_eq "$1: exit 0, one update" "0|updated  $id -> file $2" \
    "$rc|${out%%$'\n'*}"
  check_eq "$1: exactly one line changed" "1/1" "$(dstat "$2")"
  check_eq "$1: the new line" "$4" "$(added "$2")"
  check_eq "$1: an updated event from the db" 1 \
    "$(q "SELECT count(*) FROM sync_events WHERE story_id='$id' AND change='updated' AND origin='db'")"
  quiet "$1"
}

f=$(pick '^title: "')
one_field "quoted title" "$f" "title='Retitled by the API'" \
  'title: "Retitled by the API"'
f=$(pick '^title: [^"]')
one_field "plain title" "$f" "title='Retitled plainly'" \
  'title: Retitled plainly'
f=$(pick '^priority: medium')
one_field "priority" "$f" "priority='critical'" 'priority: critical'
f=$(pick '^points: ')
one_field "points" "$f" "points=21" 'points: 21'
f=$(pick '^assignee: ')
one_field "assignee" "$f" "assignees='[\"zoe\"]'" 'assignee: zoe'
f=$(pick '^labels: \[')
one_field "flow labels" "$f" "labels='[\"alpha\",\"beta gamma\"]'" \
  'labels: [alpha, beta gamma]'
f=$(pick '^estimate_weeks: ')
one_field "an extra member" "$f" "extra=$(jset extra estimate_weeks 9)" \
  'estimate_weeks: 9'

# only_key DESC FILE KEY SQL...: the change touches KEY's lines only
only_key() {
  local desc=$1 f=$2 key=$3 id
  shift 3
  id=$(idof "$f")
  snap "$f"
  for sql in "$@"; do q "${sql//@ID/$id}"; done
  run ss sync
  check_rc "$desc: exit 0" 0
  if cmp -s "$T/.snap" "$f"; then
    not_ok "$desc: the file changed"
  else
    ok "$desc: the file changed"
  fi
  check_eq "$desc: only the $key lines changed" \
    "$(strip_key "$key" "$T/.snap" | md5sum)" "$(strip_key "$key" "$f" | md5sum)"
  quiet "$desc"
}

f=$(pick '^labels:$')
only_key "block labels" "$f" labels \
  "UPDATE stories SET labels='[\"one\",\"two\",\"three\"]' WHERE id='@ID'"
check_eq "block labels: stay a block list" \
  "labels:|  - one|  - two|  - three" \
  "$(grep -A3 '^labels:' "$f" | paste -sd '|')"
f=$(pick '^depends_on: \[')
dep=$(q "SELECT depends_on FROM story_dependencies WHERE story_id='$(idof "$f")' LIMIT 1")
only_key "a dependency deleted" "$f" depends_on \
  "DELETE FROM story_dependencies WHERE story_id='@ID' AND depends_on='$dep'"
f=$(pick '^depends_on:$')
only_key "a dependency inserted" "$f" depends_on \
  "INSERT INTO story_dependencies(story_id, depends_on) VALUES ('@ID', 'ZZZ-999')"
check_contains "a dependency inserted: it is in the file" "  - ZZZ-999" \
  "$(cat "$f")"
f=$(pick '^links:$')
only_key "a nested extra member" "$f" links \
  "UPDATE stories SET extra=$(jset extra links.design '"https://example.org/new"') WHERE id='@ID'"
check_contains "a nested extra member: the new value" \
  "https://example.org/new" "$(grep -A2 '^links:' "$f")"
f=$(pick '^summary: \|')
only_key "a block scalar extra member" "$f" summary \
  "UPDATE stories SET extra=$(jset extra summary '"one line now"') WHERE id='@ID'"

# the body: one line of it
f=$(pick '^## Overview$')
id=$(idof "$f")
snap "$f"
q "UPDATE stories SET body=replace(body, '## Overview', '## Overview, edited') WHERE id='$id'"
run ss sync
check_rc "body: exit 0" 0
check_eq "body: exactly one line changed" "1/1" "$(dstat "$f")"
check_eq "body: the new line" "## Overview, edited" "$(added "$f")"
quiet "body"

# ---- moves ----
f=$(pick '^status: active' 'stories/platform/active/*')
id=$(idof "$f")
dest=${f/\/active\//\/completed\/}
echo "$dest" >>"$T/.used"
snap "$f"
q "UPDATE stories SET status='completed' WHERE id='$id'"
run ss sync -v
check_eq "status: exit 0, a move" "0|moved    $id -> file $dest" \
  "$rc|${out%%$'\n'*}"
check_eq "status: the old file is gone" "no" "$([ -e "$f" ] && echo yes || echo no)"
check_eq "status: the file is in completed/, same epic, same name" \
  "1/1" "$(dstat "$dest")"
check_eq "status: its status key is rewritten" "status: completed" \
  "$(added "$dest")"
check_eq "status: the row has the new path" "completed|$dest" \
  "$(q "SELECT status, path FROM stories WHERE id='$id'")"
check_eq "status: a history row from the db" "active|completed|db" \
  "$(q "SELECT from_status, to_status, origin FROM status_history WHERE story_id='$id' AND from_status IS NOT NULL")"
quiet "status"

f=$(grep -L '^status:' -r stories/platform/backlog | sort | grep -vxF -f "$T/.used" | head -n 1)
echo "$f" >>"$T/.used"
id=$(idof "$f")
dest=${f/\/backlog\//\/active\/}
echo "$dest" >>"$T/.used"
snap "$f"
q "UPDATE stories SET status='active' WHERE id='$id'"
run ss sync
check_rc "status, no status key: exit 0" 0
if [ ! -e "$f" ] && cmp -s "$T/.snap" "$dest"; then
  ok "status, no status key: moved byte for byte"
else
  not_ok "status, no status key: moved byte for byte" "$(ls -l "$f" "$dest" 2>&1)"
fi
quiet "status, no status key"

f=$(pick '^backlog: platform' 'stories/platform/*')
id=$(idof "$f")
dest=${f/stories\/platform\//stories\/mobile\/}
echo "$dest" >>"$T/.used"
snap "$f"
q "UPDATE stories SET backlog='mobile' WHERE id='$id'"
run ss sync
check_rc "backlog: exit 0" 0
check_eq "backlog: moved to the other backlog, one line changed" "1/1" \
  "$(dstat "$dest")"
check_eq "backlog: its backlog key is rewritten" "backlog: mobile" \
  "$(added "$dest")"
check_eq "backlog: the row" "mobile|$dest" \
  "$(q "SELECT backlog, path FROM stories WHERE id='$id'")"
quiet "backlog"

f=$(pick '^epic: ' 'stories/mobile/backlog/*')
id=$(idof "$f")
dest=stories/mobile/backlog/brand-new-epic/${f##*/}
echo "$dest" >>"$T/.used"
snap "$f"
q "UPDATE stories SET epic='brand-new-epic' WHERE id='$id'"
run ss sync
check_rc "epic: exit 0" 0
check_eq "epic: moved to the new epic dir, one line changed" "1/1" \
  "$(dstat "$dest")"
check_eq "epic: its epic key is rewritten" "epic: brand-new-epic" \
  "$(added "$dest")"
quiet "epic"
q "UPDATE stories SET epic=NULL WHERE id='$id'"
echo "stories/mobile/backlog/${f##*/}" >>"$T/.used"
run ss sync
check_rc "no epic: exit 0" 0
check_eq "no epic: the file sits in the stage dir" \
  "stories/mobile/backlog/${f##*/}" "$(q "SELECT path FROM stories WHERE id='$id'")"
check_eq "no epic: the file is there" yes \
  "$([ -f "stories/mobile/backlog/${f##*/}" ] && echo yes)"
quiet "no epic"

# ---- a row new in the DB ----
cols="id, backlog, status, epic, title, priority, points, assignees, labels, extra, body, created"
q "INSERT INTO stories(id, backlog, status, epic, title, priority, points,
     assignees, labels, extra, body, created)
   VALUES ('NEW-001', 'platform', 'backlog', 'api', 'A brand new story: with a colon',
     'high', 5, $(jscalar zoe), '[\"x\",\"y z\"]', '{\"team\":\"core\",\"n\":3}',
     '# Hello' || $(sqlchr 10) || $(sqlchr 10) || 'Body text.' || $(sqlchr 10), '2026-01-02');
   INSERT INTO story_dependencies(story_id, depends_on) VALUES ('NEW-001', 'ZZZ-001'), ('NEW-001', 'AAA-001');"
row=$(q "SELECT $cols FROM stories WHERE id='NEW-001'")
run ss sync -v
new=stories/platform/backlog/api/NEW-001-a-brand-new-story-with-a-colon.md
check_eq "insert: exit 0, created" "0|created  NEW-001 -> file $new" \
  "$rc|${out%%$'\n'*}"
check_eq "insert: the file is at <backlog>/<stage>/<epic>/<ID>-<slug>.md" yes \
  "$([ -f "$new" ] && echo yes)"
check_eq "insert: the row keeps its values and gets the path" "$row|$new" \
  "$(q "SELECT $cols, path FROM stories WHERE id='NEW-001'")"
check_eq "insert: a created event from the db" 1 \
  "$(q "SELECT count(*) FROM sync_events WHERE story_id='NEW-001' AND change='created' AND origin='db'")"
full=$(q "SELECT * FROM stories WHERE id='NEW-001'")
db=$(db_digest)
tree=$(tree_digest)
run ss sync --full
check_eq "insert: the file parses back to the row (--full is silent)" "0|" \
  "$rc|$out$err"
check_eq "insert: --full leaves the row as it was" "$full" \
  "$(q "SELECT * FROM stories WHERE id='NEW-001'")"
check_eq "insert: --full writes nothing to the DB" "$db" "$(db_digest)"
check_eq "insert: --full touches no file" "$tree" "$(tree_digest)"
quiet "insert"

q "INSERT INTO stories(id, backlog, status, title)
   VALUES ('NEW-002', 'mobile', 'refinement', 'No epic, here!')"
run ss sync
check_rc "insert, no epic: exit 0" 0
check_eq "insert, no epic: in the stage dir" \
  "stories/mobile/refinements/NEW-002-no-epic-here.md" \
  "$(q "SELECT path FROM stories WHERE id='NEW-002'")"
[ -f "$(q "SELECT path FROM stories WHERE id='NEW-002'")" ]
check_eq "insert, no epic: the file exists" 0 $?
quiet "insert, no epic"

# ---- a row deleted in the DB ----
title=$(q "SELECT title FROM stories WHERE id='NEW-001'")
q "DELETE FROM stories WHERE id='NEW-001'"
run ss sync -v
check_eq "delete: exit 0, deleted" "0|deleted  NEW-001 -> file $new" \
  "$rc|${out%%$'\n'*}"
check_eq "delete: the file is gone" no "$([ -e "$new" ] && echo yes || echo no)"
check_eq "delete: its content stays in the DB" "$title" \
  "$(q "SELECT $(jget row title) FROM deleted_stories WHERE story_id='NEW-001'")"
check_eq "delete: a deleted event from the db" 1 \
  "$(q "SELECT count(*) FROM sync_events WHERE story_id='NEW-001' AND change='deleted' AND origin='db'")"
quiet "delete"

# ---- the mode and the line breaks of an edited file ----
f=$(pick '^priority: ')
chmod 600 "$f"
run ss sync
check_rc "chmod: exit 0" 0
one_field "mode 600" "$f" "priority='low'" "priority: low"
check_eq "mode 600: kept" 600 "$(stat -c %a "$f")"

f=$(pick '^priority: ')
sed -i 's/$/\r/' "$f"
run ss sync
check_rc "CRLF: the converted file syncs" 0
one_field "CRLF" "$f" "priority='critical'" $'priority: critical\r'
check_eq "CRLF: every line still ends in CRLF" 0 \
  "$(grep -vc $'\r$' "$f")"

# ---- hostile values from the DB ----
mkdir outside
ln -s ../../../outside stories/platform/active/evil
run ss sync
linked="stories/platform/active/evil: a symbolic link (or a path through one); not followed, its stories left as they are"
check_eq "a symlinked epic dir is reported, not followed" "1|$linked" "$rc|$err"
before_else=$(elsewhere)

# refused DESC ID SQL MESSAGE: the row is reported and skipped (exit 1), its
# data untouched on both sides, nothing written anywhere.
refused() {
  local desc=$1 id=$2 sql=$3 msg=$4 row tree db
  q "$sql"
  row=$(q "SELECT $(sqlquote id), * FROM stories WHERE id=$id")
  tree=$(tree_digest)
  run ss sync
  check_eq "$desc: exit 1 and the message" "1|${linked:+$linked$'\n'}$msg" "$rc|$err"
  check_eq "$desc: the row is untouched" "$row" \
    "$(q "SELECT $(sqlquote id), * FROM stories WHERE id=$id")"
  check_eq "$desc: no file written" "$tree" "$(tree_digest)"
  check_eq "$desc: nothing written outside the tree" "$before_else" \
    "$(elsewhere)"
  run ss sync
  check_eq "$desc: reported again on the next run" "1|${linked:+$linked$'\n'}$msg" "$rc|$err"
}

# restore DESC SQL: the API puts the row back; nothing to do on the file.
restore() {
  local tree
  tree=$(tree_digest)
  q "$2"
  run ss sync
  check_eq "$1, undone: exit 0, silent" "$(silent)" "$rc|$out$err"
  check_eq "$1, undone: no file written" "$tree" "$(tree_digest)"
  quiet "$1, undone"
}

f=$(pick '^title: ' 'stories/platform/active/*')
id=$(idof "$f")
snap "$f"
orig=$(q "SELECT $(sqlquote status) || ', backlog=' || $(sqlquote backlog) || ', epic=' || $(sqlquote epic) FROM stories WHERE id='$id'")
hostile_edit() { # DESC SET MESSAGE
  refused "$1" "'$id'" "UPDATE stories SET $2 WHERE id='$id'" "$3"
  if cmp -s "$T/.snap" "$f"; then ok "$1: the file is untouched"; else
    not_ok "$1: the file is untouched" "$(diff "$T/.snap" "$f")"; fi
  restore "$1" "UPDATE stories SET status=$orig WHERE id='$id'"
}
hostile_edit "status with no stage dir" "status='nostage'" \
  "story $id: status 'nostage' has no stage directory; refused: nothing written"
hostile_edit "backlog not configured" "backlog='nowhere'" \
  "story $id: backlog 'nowhere' is not configured; refused: nothing written"
hostile_edit "epic with a slash" "epic='../../../outside'" \
  "story $id: epic '../../../outside' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
hostile_edit "epic '..'" "epic='..'" \
  "story $id: epic '..' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
hostile_edit "epic '.git'" "epic='.git'" \
  "story $id: epic '.git' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
hostile_edit "hidden epic (the scan would not see it)" "epic='.hidden'" \
  "story $id: epic '.hidden' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
long=$(printf 'e%.0s' $(seq 256))
hostile_edit "epic over 255 bytes" "epic='$long'" \
  "story $id: epic '$long' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
hostile_edit "epic with a control character" "epic='a'||$(sqlchr 1)||'b'" \
  "story $id: epic 'a\x01b' is not a directory name the scan reads back (no '/', '.', '..', hidden, *.md, leading '-', control, bidi or separator characters); refused: nothing moved or deleted"
hostile_edit "symlinked epic dir" "epic='evil'" \
  "${f%/*/*}/evil/${f##*/}: path goes through a symlink"
check_eq "symlinked epic dir: nothing written outside" "" "$(ls -A outside)"

g=$(pick '^title: ' 'stories/platform/backlog/*')
gid=$(idof "$g")
gorig=$(q "SELECT $(sqlquote status) || ', epic=' || $(sqlquote epic) FROM stories WHERE id='$gid'")
refused "a move into the symlinked epic dir" "'$gid'" \
  "UPDATE stories SET status='active', epic='evil' WHERE id='$gid'" \
  "stories/platform/active/evil/${g##*/}: path goes through a symlink"
restore "a move into the symlinked epic dir" \
  "UPDATE stories SET status=$gorig WHERE id='$gid'"

hostile_new() { # DESC ID-SQL-EXPR MESSAGE [EPIC]
  refused "$1" "$2" "INSERT INTO stories(id, backlog, status, epic, title)
    VALUES ($2, 'platform', 'active', ${4:-NULL}, 'hostile')" "$3"
  restore "$1" "DELETE FROM stories WHERE id=$2"
}
hostile_new "new row, id with a slash" "'../../x'" \
  "story ../../x: id '../../x' is not valid (1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'); refused: nothing moved or deleted"
hostile_new "new row, id '..'" "'..'" \
  "story ..: id '..' is not valid (1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'); refused: nothing moved or deleted"
hostile_new "new row, id with a control character" "'X'||$(sqlchr 27)||'1'" \
  "story X\x1b1: id 'X\x1b1' is not valid (1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'); refused: nothing moved or deleted"
hostile_new "new row, id over 255 bytes" "'$long'" \
  "story $long: id '$long' is not valid (1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'); refused: nothing moved or deleted"
hostile_new "new row, in the symlinked epic dir" "'EVIL-1'" \
  "stories/platform/active/evil/EVIL-1-hostile.md: path goes through a symlink" \
  "'evil'"
check_eq "new row in the symlinked epic dir: nothing written outside" "" \
  "$(ls -A outside)"
check_eq "no temporary file left behind" "" \
  "$(find stories -name '.*' | grep -v '^stories/.*/\.hidden$')"

finish
