#!/bin/bash
# Issue 12: the first load streams the tree in batches. Ids claimed twice in
# batches far apart, a third claim, and a file in error whose name claims an
# id already imported end as they do for a run that holds the whole tree:
# neither file takes the id, each is reported, and the row imported first
# leaves no trace. Two ids whose hashes share the half the id set keeps
# both load. The rows equal those of a load that is not a first one.
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 300 2>/dev/null
ss init >/dev/null
cp -r . "$O/oracle"

# stories/platform comes first in the walk, stories/mobile last; 300 files
# are five batches or more
a=$(find stories/platform/refinements -name '*.md' | sort | head -n 1)
ida=$(sed -n 's/^id: //p' "$a")
b=$(find stories/platform/backlog -name '*.md' | sort | head -n 1)
idb=$(sed -n 's/^id: //p' "$b")
twin=stories/mobile/completed/ZZZ-1-twin.md
third=stories/mobile/completed/ZZZ-2-third.md
broken=stories/mobile/completed/$idb-broken.md
mkdir -p stories/mobile/completed
cp "$a" $twin
printf -- '---\nid: %s\ntitle: A third claim\n---\n' "$ida" >$third
printf -- '---\ntitle: [unclosed\n---\n' >"$broken"
cp $twin $third "$broken" "$O/oracle/stories/mobile/completed/"
# COL-93899 and COL-182451: the same high half of strmap_hash (see
# tests/unit/test_strmap.c), in batches far apart
col1=stories/platform/refinements/COL-93899-one.md
col2=stories/mobile/completed/COL-182451-two.md
printf -- '---\nid: COL-93899\ntitle: Same hash half, one\n---\n' >$col1
printf -- '---\nid: COL-182451\ntitle: Same hash half, two\n---\n' >$col2
cp $col1 "$O/oracle/$col1" && cp $col2 "$O/oracle/$col2"

# the scan reads with O_NOATIME: an access time older than the change,
# which relatime would move on the first read, stays
touch -a -d @0 "$b"
run ss sync
check_rc "the first load: exit 1, some stories in error" 1
check_eq "a file read leaves its access time" 0 "$(stat -c %X "$b")"
# which of the two in mobile/completed comes first depends on the walk
for f in $twin $third; do
  check_contains "$f is reported, naming the first claim" \
    "$f: id '$ida' is also claimed by $a" "$err"
done
check_eq "the first claim is reported once, naming a later one" 1 \
  "$(grep -cE "^$a: id '$ida' is also claimed by ($twin|$third)\$" <<<"$err")"
check_contains "the file in error is reported" \
  "$broken:2:8: 'title' must be a scalar" "$err"
check_eq "four files in error" 4 "$(grep -c "^stories/" <<<"$err")"
check_eq "300 rows: neither id has one" "300|0" \
  "$(q "SELECT count(*), count(*) FILTER (WHERE id IN ('$ida', '$idb')) FROM stories")"
check_contains "the summary counts what stayed" "300 created" "$out"
check_eq "both ids of the same hash half are loaded, from their files" \
  "COL-182451|$col2
COL-93899|$col1" "$(q "SELECT id, path FROM stories WHERE id LIKE 'COL-%' ORDER BY id")"
for t in "sync_state:story_id" "sync_events:story_id" \
  "status_history:story_id" "deleted_stories:story_id" \
  "story_dependencies:story_id" "sync_base:story_id"; do
  check_eq "no trace of either in ${t%%:*}" 0 \
    "$(q "SELECT count(*) FROM ${t%%:*} WHERE ${t#*:} IN ('$ida', '$idb')")"
done
check_eq "a created event and a history row per row" "300|300" \
  "$(q "SELECT (SELECT count(*) FROM sync_events), (SELECT count(*) FROM status_history)")"
check_eq "the database is sound" ok "$(q 'PRAGMA integrity_check')"
# the load inserts them many a statement: the rows are still one a story,
# history in the order of the events, and every field of each row set
check_eq "history rows in the events' order, one a story" \
  "$(q "SELECT story_id FROM sync_events ORDER BY seq")" \
  "$(q "SELECT story_id FROM status_history ORDER BY id")"
check_eq "every event: created, from the file, of run 1, with a time" "300" \
  "$(q "SELECT count(*) FROM sync_events WHERE change = 'created' AND
    origin = 'file' AND run_id = 1 AND at GLOB '2*Z' AND tree = 'default'")"
check_eq "every history row: from no status to the row's, from the file" \
  "300" "$(q "SELECT count(*) FROM status_history h JOIN stories s ON
    s.id = h.story_id WHERE h.from_status IS NULL AND
    h.to_status = s.status AND h.origin = 'file' AND h.changed_at GLOB '2*Z'")"
check_eq "the events' sequence is past the last event" 1 \
  "$(q "SELECT seq >= (SELECT max(seq) FROM sync_events) FROM sqlite_sequence
    WHERE name = 'sync_events'")"
# the load takes each directory's files in name order (byte order, not
# readdir's), so that rows go into their indexes in order
q "SELECT s.path FROM sync_events e JOIN stories s ON s.id = e.story_id
  ORDER BY e.seq" >"$O/order"
check_eq "each directory's stories were loaded in name order" "300 in order" \
  "$(/usr/bin/python3 - "$O/order" <<'PY'
import os, sys
paths = [l.rstrip("\n").encode() for l in open(sys.argv[1], "rb").read().decode().splitlines()]
seen = {}
for p in paths:
    seen.setdefault(os.path.dirname(p), []).append(os.path.basename(p))
bad = [d for d, names in seen.items() if names != sorted(names)]
print("%d in order" % len(paths) if not bad else "out of order in %r" % bad)
PY
)"

# the oracle: the same tree loaded into a database that is not empty (the
# API made one row first), which reads the whole tree before planning
(
  cd "$O/oracle" || exit 1
  sqlite3 $DB "INSERT INTO stories(id, title, backlog, status)
    VALUES ('ZZZ-9', 'Made by the API', 'platform', 'backlog')"
  "$STORYSYNC" sync >/dev/null 2>"$O/oracle.err"
)
rows="SELECT id, backlog, status, epic, title, priority, points, assignees,
  labels, extra, body, path, created FROM stories WHERE id <> 'ZZZ-9'
  ORDER BY id"
deps="SELECT * FROM story_dependencies WHERE story_id <> 'ZZZ-9' ORDER BY 1, 2"
state="SELECT story_id, path, hash, mirrors FROM sync_state
  WHERE story_id <> 'ZZZ-9' ORDER BY 1"
hist="SELECT story_id, from_status, to_status, origin FROM status_history
  WHERE story_id <> 'ZZZ-9' ORDER BY 1"
for what in rows deps state hist; do
  check_eq "$what equal the oracle's" \
    "$(sqlite3 "$O/oracle/$DB" "${!what}" | md5sum)" "$(q "${!what}" | md5sum)"
done
check_eq "the same files are in error" \
  "$(grep -o "^stories/[^:]*" "$O/oracle.err" | sort)" \
  "$(grep -o "^stories/[^:]*" <<<"$err" | sort)"

# the change tracking and the secondary indexes the load went without are
# back, as the oracle (a load into a database that was not empty) has them
tracking="SELECT type, name, sql FROM sqlite_schema
  WHERE type IN ('trigger', 'view', 'index') ORDER BY name"
check_eq "the triggers, their view and the indexes are back, as a run that is not first has them" \
  "18|1|$(sqlite3 "$O/oracle/$DB" "$tracking" | md5sum)" \
  "$(q "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'")|$(q "SELECT count(*) FROM sqlite_schema WHERE type = 'view'")|$(q "$tracking" | md5sum)"
some=$(q "SELECT id FROM stories ORDER BY id LIMIT 1")
rev=$(q "SELECT rev FROM stories WHERE id = '$some'")
q "UPDATE stories SET title = 'Tracked' WHERE id = '$some'"
check_eq "an API edit after the load is tracked" 1 \
  "$(q "SELECT rev > $rev FROM stories WHERE id = '$some'")"
check_eq "the indexes made after the load hold every row" ok \
  "$(q "PRAGMA integrity_check")"

# a first load that fails midway (the disk full, as the file size limit
# makes it) rolls back whole: no row, and the tracking as it was
mkdir "$O/full" && cp -r stories .storysync.yml "$O/full/"
(
  cd "$O/full" || exit 1
  "$STORYSYNC" init >/dev/null
  trap '' XFSZ
  ulimit -f 400
  "$STORYSYNC" sync >/dev/null 2>"$O/full.err"
  echo $? >"$O/full.rc"
)
check_eq "the failed load exits 3 and says why, last" \
  "3|storysync: $O/full/$DB: disk I/O error (the disk failed a read or write: check it (dmesg), then run again; nothing was committed)" \
  "$(cat "$O/full.rc")|$(tail -n 1 "$O/full.err")"
check_eq "nothing of it stays, the tracking and the indexes are whole" \
  "0|0|$(sqlite3 "$O/oracle/$DB" "$tracking" | md5sum)" \
  "$(sqlite3 "$O/full/$DB" "SELECT count(*) FROM stories")|$(sqlite3 "$O/full/$DB" "SELECT count(*) FROM sync_state")|$(sqlite3 "$O/full/$DB" "$tracking" | md5sum)"
check_eq "and the next load, with room, imports the tree (its four files in error: exit 1)" "1|300" \
  "$(cd "$O/full" && "$STORYSYNC" sync >/dev/null 2>&1; echo $?)|$(sqlite3 "$O/full/$DB" "SELECT count(*) FROM stories")"

# a base left in sync_base (by the API's triggers, before every row and
# state went) is a first load's to delete when it loads that story, as any
# run does; one of a story the tree lacks stays
mkdir "$O/based" && cp -r stories .storysync.yml "$O/based/"
(
  cd "$O/based" || exit 1
  "$STORYSYNC" init >/dev/null
  sqlite3 $DB "INSERT INTO sync_base(story_id, row) VALUES
    ('$some', '{\"id\": \"$some\"}'), ('ZZZ-8', '{\"id\": \"ZZZ-8\"}')"
  "$STORYSYNC" sync >/dev/null 2>&1
)
check_eq "a first load deletes the base of a story it loads, not another's" \
  "ZZZ-8|300" "$(sqlite3 "$O/based/$DB" "SELECT group_concat(story_id),
    (SELECT count(*) FROM stories) FROM sync_base")"

# mended: both ids are taken by the next run
rm $twin $third "$broken"
run ss sync
check_rc "once mended, the next run succeeds" 0
check_eq "and imports both" 2 \
  "$(q "SELECT count(*) FROM stories WHERE id IN ('$ida', '$idb')")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
