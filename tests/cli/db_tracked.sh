#!/bin/bash
# Issue 19: conflicts --resolve and history --backfill wrote into
# whatever file was at the database's path: they now make the run's
# database check (db_replaced.sh: a file other than the one the runs here
# synced is refused, exit 4, the run's message). SQLite's own: a server's
# database is no file git replaces. The oracles: sqlite3 on the file, the
# file system.
. "$(dirname "$0")/lib.sh"

git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
ss init -q || not_ok "init"
printf '.storysync/\n' >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "the tree"

# ---- conflicts --resolve and history --backfill on a replaced
# database: refused as a run is ----
sed -i 's/^title: .*/title: File title/' backlog/S-1-one.md
q "UPDATE stories SET title = 'API title' WHERE id = 'S-1'"
run ss -q
check_eq "a conflict recorded" "0|1" \
  "$rc|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
git -c user.name=A -c user.email=a@example.org commit -qam "a title"
mv "$DB" "$O/synced.db" && cp "$O/synced.db" "$DB"
msg="storysync: $T/tree/$DB: not the database file the last run here synced (another file took its place since: git's, a backup's, a copy's), and the rows the API wrote since that run may not be in it; nothing written: put back the database this checkout synced (a backup) and run 'storysync init' here, or run it to sync with this one as it is"
db=$(db_digest)
run ss
check_eq "a copy in place of the database: the run refused" "4|$msg" "$rc|$err"
run ss conflicts --resolve
check_eq "conflicts --resolve: refused as the run, nothing resolved" \
  "4|$msg|1|$db" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")|$(db_digest)"
run ss history --backfill
check_eq "history --backfill: refused as the run, nothing recorded" \
  "4|$msg|$db" "$rc|$out$err|$(db_digest)"
mv "$O/synced.db" "$DB"
run ss conflicts --resolve
check_eq "the database synced back: resolved" \
  "0|storysync: 1 conflict resolved|0" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
run ss history --backfill
check_eq "and history --backfill goes on" "0" "$rc"

# ---- conflicts --resolve takes the run lock as a run does (was: none
# taken, written beside a run) ----
sed -i 's/^title: .*/title: File again/' backlog/S-1-one.md
q "UPDATE stories SET title = 'API again' WHERE id = 'S-1'"
run ss -q
check_eq "another conflict recorded" "0|1" \
  "$rc|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
hold_lock "$DB.lock" || not_ok "the lock held"
run ss conflicts --resolve
check_eq "conflicts --resolve, the lock held: exit 75, said, nothing resolved" \
  "75|storysync: another storysync run holds $T/tree/$DB.lock|1" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
release_lock
run ss conflicts --resolve
check_eq "the lock free: resolved" "0|storysync: 1 conflict resolved|0" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
finish
