#!/bin/bash
# Issue 26: the stat cache (DATABASE.statcache) only saves time. A cache
# that is stale, truncated, garbage, of another version or generation, or
# another database's (swapped in) never hides a change: a file edited
# keeping its size and mtime (touch -d) is synced all the same, as PyYAML
# and sqlite3 read them (expect_tree.py). A hand deletion of a sync_state
# entry (as check advises) outdates the cache. Paths a cache holds are
# never opened: entries pointing outside the tree write nothing there.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
C=$DB.statcache

"$GEN_STORIES" . --count 120 2>/dev/null
# old files: no entry is racy, so the cache decides for every one
find stories -name '*.md' -exec touch -d '2020-01-02 03:04:05.123456789' {} +
ss init >/dev/null
run ss sync
check_rc "import" 0
run ss sync
check_eq "a no-op writes the cache, this user's only" "0|600" \
  "$rc|$(stat -c %a "$C" 2>&1)"

# the cache is used: a change of sync_state made with its triggers dropped
# (which renew the generation) goes unseen by a no-op; without the cache
# the run sees the stat data differ and records them again
f1=$(find stories -name '*.md' | sort | sed -n 3p)
au=$(q "SELECT sql FROM sqlite_schema WHERE name = 'state_au'")
q "DROP TRIGGER state_au; UPDATE sync_state SET size = size + 1 WHERE path = '$f1'; $au;"
db=$(db_digest)
run ss sync
check_eq "with the cache, a no-op reads no sync_state" "0||$db" \
  "$rc|$out$err|$(db_digest)"
rm "$C"
run ss sync
check_eq "without, the stat data are recorded again" "0|$(stat -c %s "$f1")" \
  "$rc|$(q "SELECT size FROM sync_state WHERE path = '$f1'")"

# a sync_state entry deleted by hand: the cache of before is stale
run ss sync
id2=$(q "SELECT story_id FROM sync_state ORDER BY path LIMIT 1 OFFSET 7")
cp "$C" "$O/before"
q "DELETE FROM sync_state WHERE story_id = '$id2'"
run ss sync
check_eq "a hand-deleted state entry: the file's story is agreed again" \
  "0|1" "$rc|$(q "SELECT count(*) FROM sync_state WHERE story_id = '$id2'")"
run python3 "$here/expect_tree.py" . "$DB"
check_eq "a hand-deleted state entry: every row as its file" "0|" "$rc|$out"

# same_size_edit FILE: its title changed, its size and mtime kept
same_size_edit() {
  local m
  m=$(stat -c %y "$1")
  python3 - "$1" <<'PY'
import sys
p = sys.argv[1]
t = open(p, encoding="utf-8").read()
i = t.index("\ntitle: ") + 8
t = t[:i] + ("Q" if t[i] != "Q" else "R") + t[i + 1:]
open(p, "w", encoding="utf-8").write(t)
PY
  touch -d "$m" "$1"
}

# every kind of cache a run must not trust, each made from another
# database of this tree that has seen the edit (its cache holds the
# edited file's stat data now), and put in place of this one's
conf=$(cat .storysync.yml)
n=10
for kind in swapped stale truncate garbage version generation; do
  n=$((n + 1))
  run ss sync
  rm -f "$O/other.db"*
  sqlite3 -batch "$DB" ".backup $O/other.db"
  cp "$C" "$O/before"
  f=$(find stories -name '*.md' | sort | sed -n ${n}p)
  size=$(stat -c %s:%Y "$f")
  same_size_edit "$f"
  printf '%s\n' "$conf" | sed "s|^database: .*|database: $O/other.db|" >.storysync.yml
  ss -q sync && ss -q sync
  printf '%s\n' "$conf" >.storysync.yml
  case $kind in
    swapped) cp "$O/other.db.statcache" "$C" ;;
    stale) cp "$O/before" "$C" ;; # this database's, before the edit
    *) cp "$O/other.db.statcache" "$C" && python3 "$here/statcache.py" $kind "$C" ;;
  esac
  run ss sync
  check_eq "$kind cache: the edit keeping size and mtime is synced" \
    "$size|0|storysync: 1 updated" "$(stat -c %s:%Y "$f")|$rc|$out$err"
  run python3 "$here/expect_tree.py" . "$DB"
  check_eq "$kind cache: every row as its file" "0|" "$rc|$out"
done

# a cache of this database's own generation with entries at paths outside
# the tree: never opened, nothing written there, the run as ever
run ss sync
mkdir "$O/outside"
f=$(find stories -name '*.md' | sort | sed -n 40p)
id3=$(q "SELECT id FROM stories WHERE path = '$f'")
python3 "$here/statcache.py" add "$C" "../$(basename "$O")/outside/X-1-x.md" \
  "$O/outside/X-2-x.md" "stories/../../../../../$O/outside/X-3-x.md" "$f/x"
q "UPDATE stories SET title = 'From the API' WHERE id = '$id3'"
run ss sync
check_eq "a hostile cache: the API's edit is written to its file" \
  "0|storysync: 1 updated|title: From the API" \
  "$rc|$out$err|$(grep '^title:' "$f")"
check_eq "a hostile cache: nothing written outside the tree" "" \
  "$(ls -A "$O/outside")"
run python3 "$here/expect_tree.py" . "$DB"
check_eq "a hostile cache: every row as its file" "0|" "$rc|$out"

# a cache another user owns is never read
if [ "$(id -u)" = 0 ]; then
  run ss sync
  chown nobody "$C"
  q "DROP TRIGGER state_au; UPDATE sync_state SET size = size + 1 WHERE path = '$f1'; $au;"
  run ss sync
  check_eq "another user's cache is not read" "0|$(stat -c %s "$f1")" \
    "$rc|$(q "SELECT size FROM sync_state WHERE path = '$f1'")"
else
  skip "another user's cache (needs root)"
fi
finish
