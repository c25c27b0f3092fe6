#!/bin/bash
# Issue 26: the barriers of a first load's journal switches. init's switch
# of the new database to WAL (its header written through a rollback
# journal) syncs that journal once: synchronous is NORMAL before the
# switch, not SQLite's default FULL, which syncs it twice. A first load
# leaves WAL for a rollback journal and comes back to it by way of
# journal_mode MEMORY: each switch writes the header's first bytes with no
# journal file, one barrier (the database's), not three (journal,
# directory, database). Each run leaves the database whole and in WAL,
# and a run killed at either switch's write leaves one the next run loads.
# With the API reading the load stays in WAL, as before.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
# LeakSanitizer cannot run under ptrace
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace "$@"; }
# calls TRACE: the trace's fdatasync, fsync and unlink calls, one a line,
# each with the file it names when that is the database, its journal or
# their directory
calls() {
  grep -oE '(fdatasync|fsync|unlink)\([^)]*' "$1" |
    sed -E 's/^(fdatasync|fsync|unlink)\(.*(stories\.db(-journal)?|\.storysync)>?"?$/\1 \2/;
      s/^(fdatasync|fsync|unlink)\(.*/\1/'
}

"$GEN_STORIES" . --count 40 2>/dev/null
traced -f -qq -y -o "$O/init.trace" -e trace=fdatasync "$STORYSYNC" init \
  >/dev/null 2>&1
check_eq "init syncs the new database's rollback journal once" 1 \
  "$(calls "$O/init.trace" | grep -c 'stories\.db-journal$')"
check_eq "init: WAL, whole" "wal
ok" "$(q "PRAGMA journal_mode; PRAGMA integrity_check")"

traced -f -qq -y -o "$O/sync.trace" -e trace=fdatasync,fsync,unlink \
  "$STORYSYNC" sync >/dev/null 2>&1
check_eq "the first load ran" 40 "$(q "SELECT count(*) FROM stories")"
check_eq "leaving WAL, the first barrier is the database's" \
  "fdatasync stories.db" "$(calls "$O/sync.trace" | head -n 1)"
# the load's commit (the database synced, its journal deleted), then the
# switch back: the journal's removal made durable first (the directory
# synced: a journal a power loss brought back would be played back over
# the database in WAL, the load and the API's writes after it undone),
# then the database synced once more, no journal
check_eq "back to WAL after the commit: the directory, the database" \
  "fdatasync stories.db
unlink stories.db-journal
fsync .storysync
fdatasync stories.db" "$(calls "$O/sync.trace" | tail -n 4)"
check_eq "the first load: WAL, whole" "wal
ok" "$(q "PRAGMA journal_mode; PRAGMA integrity_check")"

# killed_at K: a first load killed at its K-th pwrite64 (K counted back
# from the last when negative); the trace in $O/kill.trace
killed_at() {
  local k=$1 n
  rm -rf .storysync
  "$STORYSYNC" init >/dev/null 2>&1
  if [ "$k" -lt 0 ]; then
    traced -f -qq -c -o "$O/count" -e trace=pwrite64 "$STORYSYNC" sync \
      >/dev/null 2>&1
    n=$(awk '$NF == "pwrite64" { print $4 }' "$O/count")
    k=$((n + 1 + k))
    rm -rf .storysync
    "$STORYSYNC" init >/dev/null 2>&1
  fi
  traced -f -qq -y -o "$O/kill.trace" -e trace=pwrite64 \
    -e inject=pwrite64:signal=KILL:when="$k" "$STORYSYNC" sync \
    >/dev/null 2>&1
}
# the header's write of a switch: page 1 of the database, no journal.
# The last call begun, not the last line: the other threads' deaths,
# printed while the call waits, split it into "<unfinished ...>" and a
# "<... pwrite64 resumed>" line after them
header_write() {
  grep 'pwrite64(' "$O/kill.trace" | tail -n 1 |
    grep -c 'stories\.db>, "SQLite format 3.*, 8192, 0[) ]'
}

# at the switch back, its only write: the load is committed in a rollback
# journal's mode; the next run switches again
killed_at -1
check_eq "killed at the switch back's header write" 1 "$(header_write)"
check_eq "no journal is left" no \
  "$([ -e .storysync/stories.db-journal ] && echo yes || echo no)"
run ss sync
check_rc "the run after" 0
check_eq "the run after: WAL, whole, the load kept" "wal
ok
40" "$(q "PRAGMA journal_mode; PRAGMA integrity_check;
  SELECT count(*) FROM stories")"

# at the switch out of WAL (the sync's first write of the database, after
# the shared memory's): nothing loaded; the next run loads it all
rm -rf .storysync
"$STORYSYNC" init >/dev/null 2>&1
traced -f -qq -y -o "$O/first.trace" -e trace=pwrite64 "$STORYSYNC" sync \
  >/dev/null 2>&1
k=$(grep -n pwrite64 "$O/first.trace" | grep -m 1 'stories\.db>' | cut -d: -f1)
killed_at "$k"
check_eq "killed at the switch out's header write" 1 "$(header_write)"
run ss sync
check_rc "the run after" 0
check_eq "the run after: WAL, whole, all loaded" "wal
ok
40" "$(q "PRAGMA journal_mode; PRAGMA integrity_check;
  SELECT count(*) FROM stories")"
# with the API reading (the sqlite3 shell in a read transaction) the load
# cannot leave WAL: it loads in WAL, and neither switch is made
rm -rf .storysync
"$STORYSYNC" init >/dev/null 2>&1
rm -f "$O/sql" "$O/ack" && mkfifo "$O/sql" "$O/ack"
sqlite3 -batch "$DB" <"$O/sql" >"$O/ack" 2>&1 &
api=$!
exec 3>"$O/sql" 4<"$O/ack"
printf "BEGIN; SELECT count(*) > 0 FROM sync_meta; SELECT 'open';\n" >&3
read -r -t 30 line <&4
read -r -t 30 line <&4
check_eq "the API is reading" open "$line"
traced -f -qq -y -o "$O/api.trace" -e trace=fdatasync,unlink,openat \
  "$STORYSYNC" sync >/dev/null 2>&1
check_eq "with the API reading, no rollback journal" 0 \
  "$(grep -c 'stories\.db-journal' "$O/api.trace")"
echo "COMMIT;" >&3
exec 3>&- 4<&-
wait "$api"
check_eq "with the API reading: WAL, whole, all loaded" "wal
ok
40" "$(q "PRAGMA journal_mode; PRAGMA integrity_check;
  SELECT count(*) FROM stories")"
finish
