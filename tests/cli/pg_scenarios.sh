#!/bin/bash
# Issue 23's twins in the default suite: a fixed sample of the scenarios
# written for both backends (PG_TWIN=1, see lib.sh's end) run unchanged
# against one PostgreSQL server this test starts in its temp dir
# (pg_lib.sh), each tree in a database of its own; meson test --setup
# postgresql runs every twin (each with a server of its own), this only
# the sample, on one server, to stay small. PG_SCENARIOS (names) picks
# others. Each scenario's own checks are shown, indented, with its
# verdict. Skipped, saying why, only where no server can run.
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_need
pg_start || { not_ok "the server starts"; finish; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
# (dry_run: a tree's copy with a database of its own, copy_tree; about
# 4 s of CPU more. db_to_file, api_forms and api_values, whose server
# runs cost minutes, run under --setup postgresql only.)
for name in ${PG_SCENARIOS:-db_refused merge dry_run}; do
  (cd "$O" && STORYSYNC_TEST_PG=1 STORYSYNC_TEST_PGDIR=$PGDIR \
    bash "$here/$name.sh") >"$O/$name.log" 2>&1
  c=$?
  sed 's/^/#   /' "$O/$name.log" | grep -v '^#   ok - '
  check_eq "$name on PostgreSQL: $(tail -n 1 "$O/$name.log")" 0 "$c"
done
finish
