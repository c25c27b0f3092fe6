#!/bin/bash
# A brand-new database (user_version 0, none of storysync's tables) is made
# at the latest schema in one go (src/core/store_sqlite_fresh.h, generated
# from the migration steps: the unit test fresh_schema checks it is what
# they make now); an older one still migrates step by step. Both paths end
# at the same schema: a database migrated from schema 7
# (tests/fixtures/schema7.sql) and a fresh one have the same sqlite_master
# (every table, index, view and trigger, whitespace and quotes aside), the
# same user_version and WAL. A version-0 database that holds someone
# else's table is made fresh beside it; one that holds a table of
# storysync's name is not fresh: the steps refuse it as before, nothing
# lost.
. "$(dirname "$0")/lib.sh"

# schema DB: the schema of DB as Python's sqlite3 reads it
schema() {
  python3 - "$1" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for t, n, tb, sql in db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " ORDER BY type, name"):
    print(t, n, tb, re.sub(r"\s+", " ", sql.replace('"', "")).strip()
          if sql else None)
for p in ("user_version", "journal_mode"):
    print(p, db.execute("PRAGMA " + p).fetchone()[0])
PY
}

# ---- fresh: init ----
git init -q
run ss init
check_eq "init makes the database" 0 "$rc"
fresh=$(schema "$DB")
check_contains "fresh: the version init names" \
  "ready (schema $(q "PRAGMA user_version"))" "$out$err"
check_contains "fresh: WAL" "journal_mode wal" "$fresh"
check_eq "fresh: the triggers and the view" "yes|1" \
  "$(q "SELECT CASE WHEN count(*) > 0 THEN 'yes' END FROM sqlite_master WHERE type = 'trigger'")|$(q "SELECT count(*) FROM sqlite_master WHERE type = 'view'")"
check_eq "fresh: the rows the steps insert: the clock, the default generation" \
  "1|0|1" \
  "$(q "SELECT id, value FROM rev_clock")|$(q "SELECT count(*) FROM sync_meta WHERE tree = 'default' AND key = 'state.generation' AND value IS NOT NULL")"

# ---- step by step: from schema 7 ----
mkdir "$O/v7" && cd "$O/v7" || exit 1
git init -q
mkdir -p .storysync backlog active
sqlite3 -batch $DB <"$SOURCE_ROOT/tests/fixtures/schema7.sql"
printf 'database: .storysync/stories.db\n' >.storysync.yml
printf -- '---\nid: T-1\ntitle: One\nlabels: [a]\n---\nbody one\n' >backlog/T-1-one.md
printf -- '---\nid: T-2\ntitle: Two\ndepends_on: [T-1]\n---\nbody two\n' >active/T-2-two.md
printf -- '---\nid: T-3\ntitle: Three\n---\nbody three\n' >active/T-3-three.md
check_eq "the fixture is schema 7" 7 "$(q "PRAGMA user_version")"
run ss sync
check_eq "the sync migrates it" 0 "$rc"
check_eq "migrated step by step and fresh: the same schema, triggers, version" \
  "$fresh" "$(schema "$DB")"

# ---- version 0 with someone else's table: fresh, beside it ----
mkdir "$O/other" && cd "$O/other" || exit 1
git init -q
mkdir .storysync
sqlite3 -batch $DB "CREATE TABLE notes(x); INSERT INTO notes VALUES ('keep')"
printf 'database: .storysync/stories.db\n' >.storysync.yml
run ss sync
check_eq "a database of someone else's table is made fresh" 0 "$rc"
check_eq "their table and row kept" keep "$(q "SELECT x FROM notes")"
check_eq "the same schema beside it" "$fresh" \
  "$(schema "$DB" | grep -v ' notes notes ')"

# ---- version 0 with a table of storysync's name: not fresh ----
mkdir "$O/half" && cd "$O/half" || exit 1
git init -q
mkdir .storysync
sqlite3 -batch $DB "CREATE TABLE stories(id TEXT); INSERT INTO stories VALUES ('S-1')"
printf 'database: .storysync/stories.db\n' >.storysync.yml
run ss sync
check_eq "the steps refuse a table of storysync's name" \
  "3|storysync: $O/half/.storysync/stories.db: table stories already exists" \
  "$rc|$out$err"
check_eq "nothing lost, nothing made" "S-1|0|stories" \
  "$(q "SELECT id FROM stories")|$(q "PRAGMA user_version")|$(q "SELECT group_concat(name) FROM sqlite_master")"

finish
