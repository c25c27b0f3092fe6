#!/bin/bash
# Issue 23: a tree synced with a PostgreSQL server (database:
# postgresql://...), on a real server this test starts in its temp dir
# (pg_lib.sh), and the same scenarios on SQLite, their twins. The server's
# part is skipped, saying why, only where no server can run (and fails
# then under meson test --setup postgresql). The URI is local
# configuration: refused from the versioned file, its password never
# shown. What only a server has is pg_server.sh's.
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

# every story file's id and title, read by PyYAML: the oracle of the rows
files_rows() {
  python3 - "$@" <<'PY'
import os, sys, yaml
out = []
for root, _, names in os.walk("stories"):
    for n in names:
        if n.endswith(".md"):
            p = os.path.join(root, n)
            fm = open(p, encoding="utf-8").read().split("---\n")[1]
            d = yaml.safe_load(fm)
            out.append("%s|%s|%s" % (d["id"], d["title"], p))
print("\n".join(sorted(out)))
PY
}
rows() { dbq "SELECT id, title, path FROM stories ORDER BY id" | sort; }

# The scenarios both backends run alike (the twins), in $T/NAME: NAME is
# sqlite or pg; dbq runs SQL on its database.
shared() {
  # ---- import, both ways, the API's insert and delete, a conflict ----
  "$GEN_STORIES" "$T/tree-$1" --count 24 2>/dev/null
  cd "$T/tree-$1" || exit 1
  git init -q .
  [ "$1" = pg ] && pg_local "$PGURI"
  run ss init
  check_eq "$1: init makes the schema" \
    "0|storysync: database $where ready" \
    "$rc|${out%% (schema*}"
  check_eq "$1: its files are kept out of git" "*" \
    "$(tail -1 .storysync/.gitignore)"
  run ss sync
  check_eq "$1: the first load: exit 0" "0|storysync: 24 created" "$rc|$out$err"
  check_eq "$1: the rows are the files (PyYAML's reading)" "$(files_rows)" "$(rows)"
  run ss sync
  check_eq "$1: the next run is silent" "0|" "$rc|$out$err"
  run ss sync --full
  check_eq "$1: and so is --full" "0|" "$rc|$out$err"

  f1=$(find stories -name '*.md' | sort | sed -n 1p)
  id1=$(dbq "SELECT id FROM stories WHERE path = '$f1'")
  sed -i 's/^title: .*/title: Edited by hand/' "$f1"
  run ss sync
  check_eq "$1: file -> DB: the title edited by hand" "0|Edited by hand" \
    "$rc|$(dbq "SELECT title FROM stories WHERE id = '$id1'")"

  f2=$(find stories -name '*.md' | sort | sed -n 2p)
  id2=$(dbq "SELECT id FROM stories WHERE path = '$f2'")
  dbq "UPDATE stories SET title = 'Edited by the API' WHERE id = '$id2'"
  run ss sync
  check_eq "$1: DB -> file: the API's title in the file" "0|title: Edited by the API" \
    "$rc|$(grep '^title:' "$f2")"

  dbq "INSERT INTO stories(id, title, backlog, status)
            VALUES ('NEW-1', 'Made by the API', 'platform', 'backlog')"
  f3=$(find stories -name '*.md' | sort | sed -n 3p)
  id3=$(dbq "SELECT id FROM stories WHERE path = '$f3'")
  dbq "DELETE FROM stories WHERE id = '$id3'"
  run ss sync
  check_eq "$1: the API's insert: a file" "0|stories/platform/backlog/NEW-1-made-by-the-api.md" \
    "$rc|$(find stories -name 'NEW-1-*')"
  check_eq "$1: the API's delete: the file gone, the row archived" "|1" \
    "$(ls "$f3" 2>/dev/null)|$(dbq "SELECT count(*) FROM deleted_stories
                                       WHERE story_id = '$id3'")"
  check_eq "$1: the rows are the files again" "$(files_rows)" "$(rows)"

  f4=$(find stories -name '*.md' | sort | sed -n 4p)
  id4=$(dbq "SELECT id FROM stories WHERE path = '$f4'")
  sed -i 's/^title: .*/title: The file wins/' "$f4"
  dbq "UPDATE stories SET title = 'The API loses' WHERE id = '$id4'"
  run ss sync
  check_eq "$1: both changed: the file wins" "0|The file wins" \
    "$rc|$(dbq "SELECT title FROM stories WHERE id = '$id4'")"
  check_eq "$1: and the API's title is kept in sync_conflicts" \
    "$id4|both_changed|The API loses" \
    "$(dbq "SELECT story_id, kind, $lost_title FROM sync_conflicts")"
  check_eq "$1: events: the outbox of each change" \
    "$id1|updated|file
$id2|updated|db
NEW-1|created|db
$id3|deleted|db
$id4|updated|file" \
    "$(dbq "SELECT story_id, change, origin FROM sync_events
               WHERE seq > 24 ORDER BY seq")"
  run ss sync
  check_eq "$1: then quiet" "0|" "$rc|$out$err"
  run ss status
  check_eq "$1: status reads the server: the open conflict" \
    "1|attention: 1 open conflict" "$rc|${out%%$'\n'*}"
  run ss status --json
  check_contains "$1: status --json names the database" \
    "\"database\":\"$where\"" "$out"
  # JSON as the API spells it, spaces and key order: the file is the same
  # on both, and the row stays agreed
  dbq "INSERT INTO stories(id, title, backlog, status, labels, extra)
         VALUES ('JS-1', 'Spaced JSON', 'platform', 'backlog',
                 '[\"x\", \"y\"]', '{\"b\": 1, \"a\": 2}')"
  run ss sync
  check_eq "$1: the API's spaced JSON: a file" "0|storysync: 1 created" \
    "$rc|$out$err"
  cp "$(find stories -name 'JS-1-*')" "$O/js-$1"
  run ss sync --full
  check_eq "$1: and then a quiet --full" "0|" "$rc|$out$err"
  dbq "INSERT INTO story_dependencies(story_id, depends_on)
         VALUES ('GHOST-1', 'X-1')"
  run ss check --db
  # the findings, the database as each names it aside
  printf "%s\n%s\n" "$out" "$err" | sed 's|^[^ ]*: story_dependencies:|DB: story_dependencies:|' \
    >"$O/check-$1"
  check_eq "$1: check --db finds the dependency of no story" 1 "$rc"
  cd "$T" || exit 1
}

dbq() { sqlite3 -batch "$T/tree-sqlite/$DB" "$1"; }
where=$T/tree-sqlite/$DB
lost_title="json_extract(lost, '$.title')"
shared sqlite

# ---- the configuration, which needs no server ----
git init -q cfg && cd cfg || exit 1
secret='postgresql://bob:s3cret@db.example.org/stories?sslmode=disable&password=hunter2'
masked='postgresql://bob:***@db.example.org/stories?sslmode=disable&password=***'
printf 'database: %s\n' "$secret" >.storysync.yml
run ss init
check_eq "a URI in the versioned file: exit 2, masked, says where it goes" \
  "2|storysync: .storysync.yml:1:11: 'database': '$masked' names a PostgreSQL server: .storysync.yml is versioned, so it may not set it; move it to .storysync.local.yml, which git does not track" \
  "$rc|$err"
check_eq "and nothing made" "" "$(ls -A | grep -v -x -e .git -e .storysync.yml)"
run ss sync
check_eq "a sync refuses it the same way" "2" "$rc"
case "$out$err" in *s3cret* | *hunter2*) not_ok "no password shown" "$err" ;;
*) ok "no password shown" ;; esac
cd "$T" || exit 1
# a run on SQLite never loads libpq (pqload.c): the program is not linked
# with it, and a sync on SQLite maps none of it (strace sees every open)
check_eq "the program is not linked with libpq" "" \
  "$(ldd "$STORYSYNC" | grep -o 'libpq[^ ]*')"
if command -v strace >/dev/null; then
  (cd tree-sqlite && ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -e trace=openat -o "$O/opens" "$STORYSYNC" sync >/dev/null 2>&1)
  check_eq "a sync on SQLite opens its database, and no libpq" "1|" \
    "$(grep -c "$DB\"" "$O/opens")|$(grep -o 'libpq[^"]*' "$O/opens" | head -1)"
fi

pg_need
pg_start || { not_ok "the server starts"; finish; exit 1; }
ok "a server in the test's directory, on a Unix socket"
check_eq "no TCP: listen_addresses is empty" "" \
  "$(pq postgres "SHOW listen_addresses")"
pg_db ss1
dbq() { pq ss1 "$1"; }
where="postgresql:///ss1?host=$PGDIR&user=postgres"
lost_title="lost::json->>'title'"
shared pg
check_eq "the spaced JSON's file is the same on both" "$(cat "$O/js-sqlite")" \
  "$(cat "$O/js-pg")"
check_eq "check --db says the same on both" "$(cat "$O/check-sqlite")" \
  "$(cat "$O/check-pg")"
check_eq "pg: every row has the default tree" "default|25" \
  "$(pq ss1 "SELECT tree, count(*) FROM stories GROUP BY tree")"

# ---- the API's contract is one schema: every table and column, and
# every key an API upsert can name (its ON CONFLICT), the same on both;
# what only one dialect has is storysync's own (storysync-db(7)) ----
python3 - "$T/tree-sqlite/$DB" >"$O/schema-sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
own = {"rev_clock", "sync_replaced"}
for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type ="
                        " 'table' AND name NOT LIKE 'sqlite_%'"):
    if t in own:
        continue
    cols = list(con.execute("SELECT name, pk FROM pragma_table_info(?)", (t,)))
    print(t, "columns", ",".join(sorted(c for c, _ in cols)))
    key = ",".join(sorted(c for c, pk in cols if pk))
    print(t, "key", key)
    unique = {key}  # an INTEGER PRIMARY KEY is the rowid: no index
    for i, uniq in con.execute("SELECT name, \"unique\" FROM"
                               " pragma_index_list(?)", (t,)):
        if uniq:
            unique.add(",".join(sorted(
                r[0] for r in con.execute("SELECT name FROM"
                                          " pragma_index_info(?)", (i,)))))
    for u in unique:
        print(t, "unique", u)
PY
pq ss1 "SELECT c.relname || ' columns ' || string_agg(a.attname, ',' ORDER BY
    a.attname) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND
    a.attnum > 0 AND NOT a.attisdropped AND c.relname <> 'storysync_schema'
    AND a.attname <> 'rev_xid' GROUP BY c.relname
  UNION ALL SELECT c.relname || CASE WHEN x.indisprimary THEN ' key '
    ELSE ' unique ' END || (SELECT string_agg(a.attname, ',' ORDER BY
    a.attname) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum =
    ANY (x.indkey)) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
  WHERE c.relnamespace = 'public'::regnamespace AND x.indisunique
  UNION ALL SELECT c.relname || ' unique ' || (SELECT string_agg(a.attname,
    ',' ORDER BY a.attname) FROM pg_attribute a WHERE a.attrelid = c.oid
    AND a.attnum = ANY (x.indkey)) FROM pg_index x JOIN pg_class c ON c.oid
    = x.indrelid WHERE c.relnamespace = 'public'::regnamespace AND
    x.indisprimary" >"$O/schema-pg"
check_eq "the tables, columns and keys the API sees are the same on both" \
  "$(sort "$O/schema-sqlite")" "$(sort "$O/schema-pg")"

# the consumer's cursor, written as storysync-db(7) shows, on both: one
# cursor over every tree's events
upsert=$(sed -n '/^INSERT INTO sync_consumers/,/^```/p' \
  "$SOURCE_ROOT/man/storysync-db.7.scd" | sed '$d' |
  sed "s/:last/7/; s/:now/'2026-12-07T00:00:00Z'/")
for side in sqlite pg; do
  if [ $side = sqlite ]; then sql() { sqlite3 -batch "$T/tree-sqlite/$DB" "$1"; }
  else sql() { pq ss1 "$1"; }; fi
  sql "$upsert $upsert" >"$O/upsert-$side" 2>&1
  check_eq "$side: the documented cursor upsert, twice" "|api|7" \
    "$(cat "$O/upsert-$side")|$(sql "SELECT name, seq FROM sync_consumers")"
done

# ---- step 3: a server database of step 2 kept a cursor per tree; each
# name keeps its lowest, which prunes nothing it has not read ----
pq ss1 "ALTER TABLE sync_consumers DROP CONSTRAINT sync_consumers_pkey;
  ALTER TABLE sync_consumers ADD COLUMN tree text NOT NULL DEFAULT 'default';
  ALTER TABLE sync_consumers ADD PRIMARY KEY (tree, name);
  INSERT INTO sync_consumers(tree, name, seq) VALUES ('web', 'api', 3),
    ('web', 'audit', 9), ('ios', 'audit', 9);
  UPDATE storysync_schema SET version = 2" >/dev/null
cd "$T/tree-pg" || exit 1
run ss sync
check_eq "step 2 migrates to 6: exit 0, one cursor a name, the lowest" \
  "0|6|api|3 audit|9" \
  "$rc|$(pq ss1 "SELECT max(version) FROM storysync_schema")|$(pq ss1 \
    "SELECT name, seq FROM sync_consumers ORDER BY name" | paste -sd ' ')"
check_eq "keyed by name, as on SQLite" "sync_consumers_pkey|name" \
  "$(pq ss1 "SELECT i.relname, a.attname FROM pg_index x JOIN pg_class i ON
    i.oid = x.indexrelid JOIN pg_attribute a ON a.attrelid = x.indrelid AND
    a.attnum = ANY (x.indkey) WHERE x.indrelid = 'sync_consumers'::regclass")"
# ---- step 5: a story's archives by id ----
check_eq "step 5: deleted_stories is indexed by (tree, story_id)" \
  "CREATE INDEX deleted_stories_story ON public.deleted_stories USING btree (tree, story_id)" \
  "$(pq ss1 "SELECT pg_get_indexdef('deleted_stories_story'::regclass)")"
# ---- step 6: where storysync's write took a file from ----
check_eq "step 6: sync_state.before_path" "text" \
  "$(pq ss1 "SELECT data_type FROM information_schema.columns WHERE
    table_name = 'sync_state' AND column_name = 'before_path'")"
# ---- step 4: the clock's indexes hold the API's writes only ----
check_eq "step 4: stories_rev_xid and deleted_stories_xid are partial" \
  "deleted_stories_xid|(rev_xid IS NOT NULL) stories_rev_xid|(rev_xid IS NOT NULL)" \
  "$(pq ss1 "SELECT c.relname, pg_get_expr(x.indpred, x.indrelid) FROM
    pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relname IN
    ('stories_rev_xid', 'deleted_stories_xid') ORDER BY 1" | paste -sd ' ')"
check_eq "step 4: the change query still reads stories_rev_xid" "1" \
  "$(pq ss1 "SET enable_seqscan = off; EXPLAIN SELECT id FROM stories, (SELECT
    coalesce((SELECT value FROM sync_meta WHERE tree = 'default' AND key =
    'mark'), '1:1:')::pg_snapshot AS m) m WHERE tree = 'default' AND
    stories.rev_xid >= pg_snapshot_xmin(m.m) AND NOT
    pg_visible_in_snapshot(stories.rev_xid, m.m)" | grep -c stories_rev_xid)"

finish
