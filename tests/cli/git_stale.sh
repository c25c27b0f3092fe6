#!/bin/bash
# A version of a story file that git already holds is not a person's new
# edit (issue 19, model seeds 414 and 411). When such a version brings a
# story back or takes the place of its file, the values the database held
# that it overrides are kept in sync_conflicts, never dropped unseen:
#   - a person deletes a file, a run deletes the row, and a stash puts
#     git's older version back (then the person edits it): the story comes
#     back from the file, and the row as it was deleted is kept
#     (deleted_in_file, kept file) in the fields that differ;
#   - a stale committed copy of a story at another path, which no plain
#     run saw, takes the place of the file a person removed: the agreed
#     values it overrides are kept (both_changed, kept file).
# The oracle reads the rows with sqlite3's shell (psql on a server: a twin,
# PG_TWIN), the conflicts' JSON with Python, and the files directly.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# conflicts ID: kind|kept|fields|title|depends_on of ID's conflicts, lost
# (JSON) read by Python
conflicts() {
  q "SELECT kind, kept, fields, lost FROM sync_conflicts
     WHERE story_id = '$1' ORDER BY id" | python3 -c '
import json, sys
for line in sys.stdin:
    kind, kept, fields, lost = line.rstrip("\n").split("|", 3)
    v = json.loads(lost)
    deps = v.get("depends_on")
    deps = json.loads(deps) if isinstance(deps, str) else deps
    title = v.get("title")
    print(f"{kind}|{kept}|{fields}|{title}|{deps}")'
}
row() {
  q "SELECT title, coalesce(priority, '-'), status, path,
     coalesce((SELECT $(sqlagg depends_on) FROM story_dependencies d
     WHERE d.story_id = s.id), '-') FROM stories s WHERE id = '$1'"
}
quiet() {
  local before
  before=$(db_digest)
  run ss -v
  check_eq "$1: the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
}

# ---- a person's deletion, then git's version back (seed 414) ----
mkdir -p "$T/del" && cd "$T/del" || exit 1
git init -q && mkdir backlog
F=backlog/S-1-one.md
printf -- '---\nid: S-1\ntitle: One\nstatus: backlog\npriority: low\ndepends_on: [S-2]\n---\nbody\n' >$F
printf -- '---\nid: S-2\ntitle: Two\nstatus: backlog\n---\nbody two\n' \
  >backlog/S-2-two.md
ss init -q
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q
# the API's edit, which a run writes to the file (uncommitted)
q "UPDATE stories SET title = 'API title' WHERE id = 'S-1';
   DELETE FROM story_dependencies WHERE story_id = 'S-1'"
ss -q
check_eq "the run wrote the API's values to the file" "title: API title|0" \
  "$(grep '^title:' $F)|$(grep -c '^depends_on: \[S-2\]' $F)"
rm $F
run ss -v
check_eq "the person's deletion deletes the row" "0|" "$rc|$(row S-1)"
git stash -q
check_eq "the stash put git's older version back" "$(git show HEAD:$F)" \
  "$(cat $F)"
sed -i 's/^priority: .*/priority: high/' $F
run ss -v
check_eq "the story comes back as the file has it" \
  "0|One|high|backlog|$F|S-2" "$rc|$(row S-1)"
check_eq "the row as deleted is kept where the file overrode it" \
  "deleted_in_file|file|title,priority,depends_on|API title|None" "$(conflicts S-1)"
check_eq "the file is as the person left it" "title: One|priority: high" \
  "$(grep '^title:' $F)|$(grep '^priority:' $F)"
quiet "a deletion brought back"

# a story that comes back at a path git does not hold is a person's new
# story, as before: nothing recorded (its old row differs in the title)
rm $F
ss -q
git rm -q --cached $F && git commit -qm 'S-1 gone'
mkdir -p active
n=$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1'")
printf -- '---\nid: S-1\ntitle: Fresh\nstatus: active\n---\nnew\n' \
  >active/S-1-fresh.md
run ss -v
check_eq "a new file of the id where git holds none: a new story" \
  "0|Fresh|-|active|active/S-1-fresh.md|-" "$rc|$(row S-1)"
check_eq "no new conflict for it" "$n" \
  "$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-1'")"
quiet "a new story of an old id"

# ---- a stale committed copy takes the file's place (seed 411) ----
mkdir -p "$T/copy" && cd "$T/copy" || exit 1
git init -q && mkdir -p web/backlog web/active api/backlog web/refinements \
  api/active api/refinements
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  web: web
  api: api
stages:
  refinement: refinements
  backlog: backlog
  active: active
EOF
W=web/backlog/W-1-one.md
printf -- '---\nid: W-1\ntitle: One\npriority: low\ndepends_on: [W-2]\n---\nbody\n' >$W
printf -- '---\nid: W-2\ntitle: Two\n---\nbody two\n' >web/backlog/W-2-two.md
printf -- '---\nid: A-1\ntitle: Api\n---\nbody a\n' >api/backlog/A-1-api.md
ss init -q
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q
# the API's edit, written to the file by a run and committed
q "UPDATE stories SET title = 'API title' WHERE id = 'W-1';
   DELETE FROM story_dependencies WHERE story_id = 'W-1'"
ss -q && git commit -qam 'the API edit'
# a copy of W-1's older version in active/, committed while only the api
# backlog's runs ran: none of them looked at web/
git show HEAD~1:$W >web/active/W-1-one.md
git add -A && git commit -qm 'a stray copy'
ss -q --backlog api
# the person removes the copy at the row's path
rm $W
run ss -v --full
check_eq "the stale copy is taken as W-1's file" "0" "$rc"
check_eq "the API's values it overrides are kept in sync_conflicts" \
  "1" "$(conflicts W-1 | grep -c '^both_changed|file|.*|API title|None$')"
quiet "a stale copy taken"
finish
