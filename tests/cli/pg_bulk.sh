#!/bin/bash
# Issue 23, speed: a first load on PostgreSQL sends its rows by COPY
# (COPY's binary format: a backslash, a tab, a newline, \N and \. in a
# value are its bytes, NULL is not an empty string), and a no-op uses the
# stat cache there too, checked against sync_state's generation (sync_meta
# 'state.generation', schema 2), which triggers on sync_state renew with
# every change of its paths or stat data. The rows of a first load are the
# files as PyYAML reads them, and the same as its SQLite twin's; a change
# of sync_state made with the triggers disabled goes unseen while the
# cache holds (it is used), and a hand deletion of an entry outdates the
# cache. Skipped, saying why, only where no server can run (failing then
# under --setup postgresql).
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_need
pg_start || { not_ok "the server starts"; finish; exit 1; }
pg_db bulk
dbq() { pq bulk "$1"; }

# ---- the tree: generated stories and three whose values COPY escapes ----
"$GEN_STORIES" "$T/tree" --count 40 2>/dev/null
cd "$T/tree" || exit 1
git init -q .
# old files: no entry is racy, so the cache decides for every one
mk() { printf "%s" "$2" >"stories/platform/active/$1.md"; }
mk ESC-1-esc $'---\nid: ESC-1\ntitle: "back\\\\slash \\\\N and\\ttab"\nbacklog: platform\nstatus: active\nlabels: ["a\\\\b", "c\\td"]\ndepends_on: [ESC-2, ESC-2, ESC-3]\n---\n\nA body with \\N, \\t and \\\\ as text,\r\na tab\there and a line\nafter.\n'
mk ESC-2-esc $'---\nid: ESC-2\ntitle: "two\\nlines"\nbacklog: platform\nstatus: active\nnote: |\n  kept\\there\n  and \\\\N\n---\n'
mk ESC-3-esc $'---\nid: ESC-3\ntitle: Plain\nbacklog: platform\nstatus: active\n---\n\n\\.\n'
find stories -name '*.md' -exec touch -d '2020-01-02 03:04:05.123456789' {} +
cp -a "$T/tree" "$T/lite"
pg_local "$PGURI"

# PyYAML's reading of every file: id, title, labels, the set of depends_on
files_rows() {
  python3 - <<'PY'
import json, os, re, yaml
out = []
for root, _, names in os.walk("stories"):
    for n in names:
        if n.endswith(".md"):
            text = open(os.path.join(root, n), encoding="utf-8",
                        newline="").read()
            d = yaml.safe_load(text[4:text.index("\n---\n", 3)])
            # an id the file leaves out is its name's
            i = d.get("id") or re.match(r"[A-Z]+-[A-Z0-9]+", n).group(0)
            out.append(json.dumps([i, d["title"], d.get("labels"),
                                   sorted(set(d.get("depends_on") or []))]))
print("\n".join(sorted(out)))
PY
}
# the same, as psql reads the server's rows
db_rows() {
  dbq "SELECT json_build_array(id, title, labels, coalesce((SELECT
    json_agg(depends_on ORDER BY depends_on) FROM story_dependencies d
    WHERE d.tree = s.tree AND d.story_id = s.id), '[]'))::text FROM stories s" |
    python3 -c '
import json, sys
print("\n".join(sorted(json.dumps(json.loads(l)) for l in sys.stdin)))'
}

ss init >/dev/null
# the secondary indexes of sync_state and status_history: a first load
# into tables with no row drops them and makes them again before its
# commit (one sort each, not an insert a row), the same as the schema's
idx_oids() { # DB
  pq "$1" "SELECT string_agg(oid::text, ' ' ORDER BY relname) FROM pg_class
    WHERE relname IN ('sync_state_path', 'status_history_story')"
}
idx_defs() { # DB
  pq "$1" "SELECT indexdef FROM pg_indexes WHERE tablename IN ('sync_state',
    'status_history') ORDER BY indexname COLLATE \"C\""
}
IDX_DEFS='CREATE UNIQUE INDEX status_history_pkey ON public.status_history USING btree (id)
CREATE INDEX status_history_story ON public.status_history USING btree (tree, story_id)
CREATE INDEX sync_state_path ON public.sync_state USING btree (tree, path)
CREATE UNIQUE INDEX sync_state_pkey ON public.sync_state USING btree (tree, story_id)'
check_eq "init made the indexes" "$IDX_DEFS" "$(idx_defs bulk)"
oids=$(idx_oids bulk)
run ss sync
check_eq "the first load: exit 0" "0|storysync: 43 created" "$rc|$out$err"
check_eq "the first load made both indexes again, as they were" \
  "$IDX_DEFS|2|0" "$(idx_defs bulk)|$(wc -w <<<"$(idx_oids bulk)")|$(
    comm -12 <(tr ' ' '\n' <<<"$oids" | sort) \
      <(idx_oids bulk | tr ' ' '\n' | sort) | grep -c .)"
check_eq "and they answer: the path's entry and the story's history by index" \
  "Index Scan|Index Scan" "$(dbq "SET enable_seqscan = off; SET enable_bitmapscan = off;
    EXPLAIN (COSTS OFF) SELECT * FROM sync_state WHERE tree = 'default' AND
    path = 'x'" | grep -o 'Index Scan' | head -n 1)|$(dbq "SET enable_seqscan = off; SET enable_bitmapscan = off;
    EXPLAIN (COSTS OFF) SELECT * FROM status_history WHERE tree = 'default'
    AND story_id = 'x'" | grep -o 'Index Scan' | head -n 1)"
check_eq "the rows are the files (PyYAML), escapes and all" "$(files_rows)" \
  "$(db_rows)"
(cd "$T/lite" && ss init >/dev/null && ss sync >/dev/null)
# every column of every story, and its state's path, hash and digest, on
# both: the SQLite twin wrote them one statement a row
lite_rows() {
  sqlite3 -batch -separator '|' "$T/lite/$DB" "SELECT id, quote(body),
    quote(extra), quote(created), status, path, (SELECT hash || ' ' ||
    digest FROM sync_state t WHERE t.story_id = s.id) FROM stories s
    ORDER BY id"
}
pg_rows() {
  dbq "SELECT id, coalesce('''' || replace(body, '''', '''''') || '''',
    'NULL'), coalesce('''' || replace(extra::text, '''', '''''') || '''',
    'NULL'), coalesce('''' || created || '''', 'NULL'), status, path,
    (SELECT hash || ' ' || digest FROM sync_state t WHERE t.tree = s.tree
    AND t.story_id = s.id) FROM stories s ORDER BY id COLLATE \"C\""
}
check_eq "bodies, extras and state as the SQLite twin's" "$(lite_rows)" \
  "$(pg_rows)"
check_eq "one event and one history row a story, in order" "43|43|43|t" \
  "$(dbq "SELECT count(*), count(DISTINCT story_id), (SELECT count(*) FROM
    status_history), min(seq) = (SELECT min(seq) FROM sync_events) FROM
    sync_events")"
run ss sync
check_eq "the next run is silent" "0|" "$rc|$out$err"

# ---- the stat cache on the server ----
C=.storysync/server.statcache
check_eq "a no-op wrote the cache, this user's only" "600" \
  "$(stat -c %a "$C" 2>&1)"
gen=$(dbq "SELECT value FROM sync_meta WHERE key = 'state.generation'")
check_eq "the first load made the tree's generation" "1" \
  "$(dbq "SELECT count(*) FROM sync_meta WHERE key = 'state.generation'
    AND tree = 'default' AND value ~ '^[0-9]+$'")"
f1=$(find stories -name '*.md' | sort | sed -n 3p)
dbq "ALTER TABLE sync_state DISABLE TRIGGER state_au;
  UPDATE sync_state SET size = size + 1 WHERE path = '$f1';
  ALTER TABLE sync_state ENABLE TRIGGER state_au" >/dev/null
run ss sync
check_eq "with the cache, a no-op reads no sync_state" \
  "0||$(($(stat -c %s "$f1") + 1))" \
  "$rc|$out$err|$(dbq "SELECT size FROM sync_state WHERE path = '$f1'")"
rm "$C"
run ss sync
check_eq "without, the stat data are recorded again" "0|$(stat -c %s "$f1")" \
  "$rc|$(dbq "SELECT size FROM sync_state WHERE path = '$f1'")"
run ss sync

gen=$(dbq "SELECT value FROM sync_meta WHERE key = 'state.generation'")
dbq "UPDATE sync_state SET ours = ours, hash = hash" >/dev/null
check_eq "an update of no path or stat data keeps the generation" "$gen" \
  "$(dbq "SELECT value FROM sync_meta WHERE key = 'state.generation'")"
dbq "UPDATE sync_state SET mtime_ns = mtime_ns + 1 WHERE path = '$f1'" \
  >/dev/null
gen2=$(dbq "SELECT value FROM sync_meta WHERE key = 'state.generation'")
check_eq "an update of stat data renews it" "1" \
  "$([ "$gen2" != "$gen" ] && echo 1)"
run ss sync
run ss sync
id2=$(dbq "SELECT story_id FROM sync_state ORDER BY path LIMIT 1 OFFSET 7")
dbq "DELETE FROM sync_state WHERE story_id = '$id2'" >/dev/null
check_eq "a deletion renews it" "1" "$([ "$(dbq "SELECT value FROM sync_meta
  WHERE key = 'state.generation'")" != "$gen2" ] && echo 1)"
run ss sync
check_eq "a hand-deleted state entry: the file's story is agreed again" \
  "0|1" "$rc|$(dbq "SELECT count(*) FROM sync_state WHERE story_id = '$id2'")"

# ---- migration step 2 on a schema 1 database: the generation and its
# triggers made (and sync_deleted, step 2's table) ----
dbq "DROP TRIGGER state_ai ON sync_state; DROP TRIGGER state_au ON
  sync_state; DROP TRIGGER state_ad ON sync_state; DELETE FROM sync_meta
  WHERE key = 'state.generation'; DROP TABLE sync_deleted;
  ALTER TABLE sync_consumers DROP CONSTRAINT sync_consumers_pkey;
  ALTER TABLE sync_consumers ADD COLUMN tree text NOT NULL DEFAULT 'default';
  ALTER TABLE sync_consumers ADD PRIMARY KEY (tree, name);
  UPDATE storysync_schema SET version = 1" >/dev/null
run ss sync
check_eq "schema 1 migrates to 6: step 2's generation, three triggers" \
  "0||6|1|3" \
  "$rc|$out$err|$(dbq "SELECT max(version) FROM storysync_schema")|$(dbq \
    "SELECT count(*) FROM sync_meta WHERE key = 'state.generation'")|$(dbq \
    "SELECT count(*) FROM pg_trigger WHERE tgname IN ('state_ai',
      'state_au', 'state_ad')")"
check_eq "and sync_deleted, step 2's table" "sync_deleted" \
  "$(dbq "SELECT to_regclass('sync_deleted')")"

# ---- a first load in which two files claim one id: the COPY's rows are
# written before the second claim reads them ----
pg_db bulk2
mkdir "$T/twice" && cd "$T/twice" || exit 1
"$GEN_STORIES" . --count 12 2>/dev/null
git init -q .
f=$(find stories -name '*.md' | sort | sed -n 2p)
sed 's/^title: .*/title: Twin/' "$f" >"${f%.md}-twin.md"
cp -a "$T/twice" "$T/twice-lite"
pg_local "$PGURI"
ss init >/dev/null
run ss sync
(cd "$T/twice-lite" && ss init >/dev/null && ss sync >"$O/lite.out" \
  2>"$O/lite.err"; echo "$?" >"$O/lite.rc")
check_eq "an id claimed twice: as on SQLite" \
  "$(cat "$O/lite.rc")|$(cat "$O/lite.out")|$(cat "$O/lite.err")" \
  "$rc|$out|$err"
check_eq "an id claimed twice: the rows as on SQLite" \
  "$(sqlite3 "$T/twice-lite/$DB" "SELECT id, path FROM stories ORDER BY id")" \
  "$(pq bulk2 "SELECT id, path FROM stories ORDER BY id COLLATE \"C\"")"

# ---- a first load that stores an id's key again, with dependencies: a
# story whose key the load copied before goes by the upsert, and its
# dependencies by their statement, never by a COPY of no table (that
# crashed the load, 67ebfa2). HC-73981 and HC-173554 are two ids whose
# 32-bit key hash (strmap_hash's upper half) is one: the second of them
# is the statement's; D-1 has an archived copy (a shadow of the live
# file, skipped) with dependencies of its own ----
pg_db bulk5
mkdir -p "$T/dup/issues/archive" && cd "$T/dup" || exit 1
git init -q .
printf '%s\n' 'database: .storysync/stories.db' 'backlogs:' '  issues: issues' \
  'status_from: key' 'statuses: [open, closed]' 'stages:' '  live: .' \
  '  archived: archive' 'archive_stages: [archived]' >.storysync.yml
story() { # file id title depends_on
  printf -- '---\nid: %s\ntitle: %s\nstatus: open\ndepends_on: %s\n---\n\nBody of %s.\n' \
    "$2" "$3" "$4" "$2" >"issues/$1"
}
story HC-73981-one.md HC-73981 One "[HC-173554, D-1, D-1]"
story HC-173554-two.md HC-173554 Two "[D-1, HC-73981]"
story D-1-dep.md D-1 Dep "[HC-73981]"
story archive/D-1-old.md D-1 "Dep, archived" "[HC-173554, X-9]"
cp -a "$T/dup" "$T/dup-lite"
pg_local "$PGURI"
ss init >/dev/null
run ss sync
(cd "$T/dup-lite" && ss init >/dev/null && ss sync >"$O/lite.out" \
  2>"$O/lite.err"; echo "$?" >"$O/lite.rc")
check_eq "an id's key copied before, with dependencies: as on SQLite" \
  "$(cat "$O/lite.rc")|$(cat "$O/lite.out")|$(cat "$O/lite.err")" \
  "$rc|$out|$err"
# the live files' ids and dependencies as PyYAML reads them
dup_files() {
  python3 -c '
import os, yaml
for n in sorted(os.listdir("issues")):
    if n.endswith(".md"):
        t = open(os.path.join("issues", n), encoding="utf-8").read()
        d = yaml.safe_load(t[4:t.index("\n---\n", 3)])
        for dep in sorted(set(d["depends_on"])):
            print("%s|%s" % (d["id"], dep))' | LC_ALL=C sort
}
dup_db() {
  pq bulk5 "SELECT story_id, depends_on FROM story_dependencies" |
    LC_ALL=C sort
}
check_eq "the dependencies are the live files' (PyYAML)" "$(dup_files)" \
  "$(dup_db)"
check_eq "and the SQLite twin's" \
  "$(sqlite3 -separator '|' "$T/dup-lite/$DB" "SELECT story_id, depends_on
    FROM story_dependencies" | LC_ALL=C sort)" "$(dup_db)"
check_eq "the stories' rows as on SQLite" \
  "$(sqlite3 "$T/dup-lite/$DB" "SELECT id, title, path FROM stories" |
    LC_ALL=C sort)" \
  "$(pq bulk5 "SELECT id, title, path FROM stories" | LC_ALL=C sort)"
run ss sync
check_eq "the next run: as on SQLite" \
  "$(cd "$T/dup-lite" && ss sync 2>&1; echo "|$?")" "$out$err|$rc"

# ---- a first load's rows the server refuses, in a batch whose
# statements ran while the next batch was parsed (the first batch 1 MB: 40
# stories of 40 KB): the refusal is the run's error, nothing of the
# load is kept, and once the rule goes the next run loads it all ----
pg_db bulk3
mkdir -p "$T/big/backlog" && cd "$T/big" || exit 1
git init -q .
pad=$(head -c 40000 /dev/zero | tr '\0' 'x')
for n in $(seq 1 40); do
  p=low; [ "$n" -le 20 ] && p=urgent # half: some in the first batch
  printf -- '---\nid: B-%s\ntitle: Big %s\npriority: %s\n---\n%s\n' \
    "$n" "$n" "$p" "$pad" >"backlog/B-$n-big.md"
done
pg_local "$PGURI"
ss init >/dev/null
pq bulk3 "ALTER TABLE stories ADD CONSTRAINT no_urgent
  CHECK (priority IS DISTINCT FROM 'urgent')" >/dev/null
oids3=$(idx_oids bulk3)
run ss sync
check_eq "a refused row in an early batch: the run fails, saying why" \
  "1|yes" "$([ "$rc" != 0 ] && echo 1)|$(grep -q 'no_urgent' <<<"$err" &&
    echo yes)"
check_eq "and keeps nothing of the load" "0|0" \
  "$(pq bulk3 "SELECT count(*) FROM stories")|$(pq bulk3 \
    "SELECT count(*) FROM sync_state")"
check_eq "the indexes it dropped are there again, the same (rolled back)" \
  "$IDX_DEFS|$oids3" "$(idx_defs bulk3)|$(idx_oids bulk3)"
pq bulk3 "ALTER TABLE stories DROP CONSTRAINT no_urgent" >/dev/null
run ss sync
check_eq "the rule gone, the next run loads every story, whole" \
  "0|40|40|40001" "$rc|$(pq bulk3 "SELECT count(*) FROM stories")|$(pq \
    bulk3 "SELECT count(*) FROM sync_state")|$(pq bulk3 \
    "SELECT min(length(body)) FROM stories")"

# ---- the batches grow: the first 1 MB, so that the server starts early,
# each next twice the last up to 4 MB (every COPY costs the server more
# than its rows). 200 stories of 40 KB, 8 MB: 1 + 2 + 4 MB and the rest,
# 4 COPYs to stories (8 at 1 MB each), counted by a statement trigger of
# the test's ----
pg_db bulk6
mkdir -p "$T/many/backlog" && cd "$T/many" || exit 1
git init -q .
for n in $(seq 1 200); do
  printf -- '---\nid: M-%s\ntitle: Many %s\n---\n%s\n' "$n" "$n" "$pad" \
    >"backlog/M-$n-many.md"
done
pg_local "$PGURI"
ss init >/dev/null
pq bulk6 "CREATE TABLE copies(n serial);
  CREATE FUNCTION count_copy() RETURNS trigger LANGUAGE plpgsql AS
  \$\$ BEGIN INSERT INTO copies DEFAULT VALUES; RETURN NULL; END \$\$;
  CREATE TRIGGER count_copy AFTER INSERT ON stories FOR EACH STATEMENT
  EXECUTE FUNCTION count_copy()" >/dev/null
run ss sync
check_eq "8 MB of stories in 4 batches, every row whole" \
  "0|4|200|40001" "$rc|$(pq bulk6 "SELECT count(*) FROM copies")|$(pq \
    bulk6 "SELECT count(*) FROM stories")|$(pq bulk6 \
    "SELECT min(length(body)) FROM stories")"
# ---- a database in use already (another tree has a story the API wrote,
# with no state and no history yet): a first load keeps the indexes,
# whose lock would keep that tree's readers waiting ----
pg_db bulk7
mkdir "$T/used" && cd "$T/used" || exit 1
"$GEN_STORIES" . --count 5 2>/dev/null
git init -q .
pg_local "$PGURI"
ss init >/dev/null
pq bulk7 "INSERT INTO stories(tree, id, title) VALUES ('other', 'O-1',
  'Written by the API')" >/dev/null
oids7=$(idx_oids bulk7)
run ss sync
check_eq "a first load beside another tree's story keeps the indexes" \
  "0|6|$oids7" "$rc|$(pq bulk7 "SELECT count(*) FROM stories")|$(idx_oids \
    bulk7)"

# ---- an API row added to the tree during its first load: the load's
# COPY of that id waits for the API's transaction, and when it commits
# the run is busy (exit 75, saying why), keeps nothing of the load, and
# the next run syncs the API's row with the file ----
pg_db bulk4
mkdir "$T/raced" && cd "$T/raced" || exit 1
"$GEN_STORIES" . --count 6 2>/dev/null
git init -q .
pg_local "$PGURI"
ss init >/dev/null
f=$(find stories -name '*.md' | sort | sed -n 3p)
rid=$(sed -n 's/^id: //p' "$f")
mkfifo "$O/r.in"
psql -qAtX -d bulk4 <"$O/r.in" >"$O/r.out" 2>&1 &
rpid=$!
exec 7>"$O/r.in"
echo "BEGIN; INSERT INTO stories(tree, id, title, backlog, status) VALUES
      ('default', '$rid', 'Added by the API', '$(sed -n 's/^backlog: //p' "$f")',
      '$(sed -n 's/^status: //p' "$f")'); SELECT 'row-added';" >&7
wait_for grep -q row-added "$O/r.out" || not_ok "the API adds a row"
"$STORYSYNC" -v sync --wait=120 >"$O/raced.out" 2>"$O/raced.err" &
r1=$!
waits() {
  [ "$(pq bulk4 "SELECT count(*) FROM pg_stat_activity WHERE
    wait_event_type = 'Lock' AND backend_type = 'client backend'")" = 1 ]
}
wait_for waits || not_ok "the first load waits for the API's row"
echo "COMMIT; SELECT 'committed';" >&7
wait_for grep -q committed "$O/r.out" || not_ok "the API commits"
exec 7>&-
wait "$rpid"
wait "$r1"
rc=$?
check_eq "the first load that met the API's row: busy, exit 75" "75|yes" \
  "$rc|$(grep -q 'another writer added rows to the tree during its first load: try later' \
    "$O/raced.err" && echo yes)"
check_eq "and kept nothing of the load" "1|0|Added by the API" \
  "$(pq bulk4 "SELECT count(*) FROM stories")|$(pq bulk4 \
    "SELECT count(*) FROM sync_state")|$(pq bulk4 \
    "SELECT title FROM stories WHERE id = '$rid'")"
run ss sync
check_eq "the next run syncs every file" "0|6" \
  "$rc|$(pq bulk4 "SELECT count(*) FROM stories")"
run ss sync
check_eq "and the one after is quiet" "0|" "$rc|$out$err"

finish
