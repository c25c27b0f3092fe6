#!/bin/bash
# Issue 25: check --db, the database against itself and against the tree
# (as restic check and git fsck): each corruption, made with sqlite3 on a
# fresh copy of a synced tree, gives its one exact finding, naming the
# story or path and what to do, and exit 1; doing what it says makes the
# check clean again; a clean tree and a deletion the API made (pending)
# give exit 0; nothing is written.
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" clean --count 12 2>/dev/null
# six stories no other depends on, nor they on one: a row or a file gone
# is then one finding, not also a dangling dependency
mkdir -p clean/stories/platform/backlog/solo
for i in 1 2 3 4 5 6; do
  printf -- '---\ntitle: Solo %s\n---\nbody\n' $i \
    >"clean/stories/platform/backlog/solo/SOLO-$i-alone.md"
done
(cd clean && ss init >/dev/null && ss sync -q &&
  sqlite3 -batch $DB "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null) ||
  not_ok "the clean tree"
cd clean || exit 1
n=$(find stories -name '*.md' | grep -c .)
run ss check --db
check_eq "a clean tree: exit 0, nothing on stderr" \
  "0|$n stories and the database checked, 0 problems|" "$rc|$out|$err"
run ss check
check_eq "without --db: the summary names no database" \
  "0|$n stories checked, 0 problems" "$rc|$out"
run ss check --db --json
check_eq "--json" "0|{\"stories\":$n,\"database\":true,\"problems\":[],\"shadows\":[]}" \
  "$rc|$out"
ids=(SOLO-1 SOLO-2 SOLO-3 SOLO-4 SOLO-5 SOLO-6)
check_eq "the oracle: the six have rows, no dependencies" "6|0" \
  "$(q "SELECT count(*) FROM stories WHERE id LIKE 'SOLO-%'")|$(q "SELECT
    count(*) FROM story_dependencies WHERE story_id LIKE 'SOLO-%' OR
    depends_on LIKE 'SOLO-%'")"
path_of() { q "SELECT path FROM stories WHERE id = '$1'"; }
cd "$T" || exit 1

# fresh NAME: a copy of the clean tree to corrupt, entered
fresh() {
  rm -rf "$T/$1" && cp -a "$T/clean" "$T/$1" && cd "$T/$1" || exit 1
}
# finds DESC FINDING: check --db says exactly that, exit 1, and wrote
# nothing
finds() {
  local db tree files
  db=$(db_digest)
  tree=$(tree_digest)
  files=$(find stories -name '*.md' | grep -c .)
  run ss check --db
  check_eq "$1: the finding, exit 1" \
    "1|$files stories and the database checked, 1 problem|$2" \
    "$rc|$out|$err"
  check_eq "$1: nothing written" "$db $tree" "$(db_digest) $(tree_digest)"
}
# cured DESC: check --db is clean again
cured() {
  run ss check --db
  check_eq "$1: then clean" "0|" "$rc|$err"
}

fresh deps
q "INSERT INTO story_dependencies(story_id, depends_on) VALUES ('GHOST-1', '${ids[0]}')"
finds "a dependency of no story" \
  "$DB: story_dependencies: 'GHOST-1' depends on '${ids[0]}', but no story 'GHOST-1' has a row; nothing reads it: DELETE FROM story_dependencies WHERE story_id = 'GHOST-1'"
q "DELETE FROM story_dependencies WHERE story_id = 'GHOST-1'"
cured "the dependency deleted as said"

fresh norow
id=${ids[1]} p=$(path_of "${ids[1]}")
# a row lost without the triggers: no archived deletion
q "DROP TRIGGER IF EXISTS stories_ad; DROP TRIGGER IF EXISTS stories_bd_base;
   DELETE FROM stories WHERE id = '$id'"
finds "a sync state with no row, its file there" \
  "$p: story '$id': its sync state has no row and no deletion is pending, so a --full run deletes this file; to import the file again instead: DELETE FROM sync_state WHERE story_id = '$id'"
q "DELETE FROM sync_state WHERE story_id = '$id'"
cured "the state deleted as said"
run ss sync
check_eq "and the next sync imports the file again" \
  "0|storysync: 1 created|$p" "$rc|$out$err|$(path_of "$id")"

fresh norow2
id=${ids[2]} p=$(path_of "${ids[2]}")
q "DROP TRIGGER IF EXISTS stories_ad; DROP TRIGGER IF EXISTS stories_bd_base;
   DELETE FROM stories WHERE id = '$id'"
rm "$p"
finds "a sync state with neither row nor file" \
  "$p: story '$id': its sync state has neither a row nor a file; nothing uses it: DELETE FROM sync_state WHERE story_id = '$id'"
q "DELETE FROM sync_state WHERE story_id = '$id'"
cured "the state deleted as said"

fresh nofile
id=${ids[3]} p=$(path_of "${ids[3]}")
rm "$p"
finds "a file gone (the next sync deletes the row)" \
  "$p: story '$id': the file is missing, so the next sync deletes its row; restore the file to keep the story (a deleted row stays in deleted_stories)"
cp "$T/clean/$p" "$p"
cured "the file restored"

fresh rowpath
id=${ids[4]}
q "DROP TRIGGER IF EXISTS stories_au; DROP TRIGGER IF EXISTS stories_bu_base;
   UPDATE stories SET path = 'stories/nowhere.md' WHERE id = '$id';
   DELETE FROM sync_state WHERE story_id = '$id'"
finds "a row whose path no file has, no state" \
  "stories/nowhere.md: story '$id': its row names this file, which is missing, and no sync state knows the story; the next sync writes its file from the row"

fresh base
q "INSERT INTO sync_base(story_id, row) VALUES ('GHOST-2', '{}')"
finds "a saved base with no state" \
  "$DB: sync_base: story 'GHOST-2' has a saved base but no sync state; nothing reads it: DELETE FROM sync_base WHERE story_id = 'GHOST-2'"
q "DELETE FROM sync_base WHERE story_id = 'GHOST-2'"
cured "the base deleted as said"

fresh damaged
# an index that no longer matches its table: sqlite3 says so
q "PRAGMA writable_schema = ON;
   UPDATE sqlite_schema SET sql = 'CREATE INDEX stories_rev ON stories(title)'
   WHERE name = 'stories_rev'"
oracle=$(sqlite3 -batch $DB "PRAGMA integrity_check" | head -n 1)
check_eq "the oracle: sqlite3 finds it damaged" 1 \
  "$([ -n "$oracle" ] && [ "$oracle" != ok ] && echo 1)"
run ss check --db
check_eq "damaged: exit 1, sqlite3's first finding, what to do" \
  "1|$DB: damaged: $oracle; stop the sync and restore the database from a backup (sqlite3's .recover saves what it can)" \
  "$rc|$(head -n 1 <<<"$err")"
check_eq "one line for each of sqlite3's" \
  "$(sqlite3 -batch $DB "PRAGMA integrity_check" | grep -c .)" \
  "$(grep -c ': damaged: ' <<<"$err")"

# ---- not findings: a deletion pending on either side is a change ----
fresh pending
id=${ids[5]}
q "DELETE FROM stories WHERE id = '$id'"
run ss check --db
check_eq "a row the API deleted (archived): pending, no finding" "0|" \
  "$rc|$err"

# ---- what stops it ----
fresh locked
hold_lock "$DB.lock" || not_ok "hold the lock"
run ss check --db
release_lock
check_eq "a sync holds the lock: exit 75, try later" \
  "75|storysync: a sync is running (it holds $T/locked/$DB.lock): check --db tries later" \
  "$rc|$err"
fresh nodb
rm -rf .storysync
run ss check --db
check_eq "no database: exit 2, and none made" \
  "2|storysync: $T/nodb/$DB: no database yet (storysync init creates it)|no" \
  "$rc|$err|$([ -e .storysync ] && echo yes || echo no)"
run ss check --db=1
check_eq "--db takes no value" "2|storysync: check: --db takes no value" \
  "$rc|$err"

finish
