#!/bin/bash
# Issue 23: a tree synced with a PostgreSQL server (database:
# postgresql://...), on a real server this test starts in its temp dir
# (pg_lib.sh). Skipped, saying why, only where no server can run. The
# URI is local configuration: refused from the versioned file, and its
# password never shown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

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

if ! pg_available; then
  skip "PostgreSQL scenarios: $pg_why"
  finish
  exit
fi
pg_start || { not_ok "the server starts"; finish; exit 1; }
ok "a server in the test's directory, on a Unix socket"
check_eq "no TCP: listen_addresses is empty" "" \
  "$(pq postgres "SHOW listen_addresses")"

finish
