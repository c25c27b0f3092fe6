#!/bin/bash
# Issue 19: status works for a read-only user whatever the API did, and
# writes nothing: after the API's last connection closed (SQLite removed the
# -wal and -shm, and this user cannot make them), while the API holds a
# connection (their -wal and -shm are the API's user's), and after a writer
# was killed (its WAL holds a commit no checkpoint took). The user is nobody
# (setpriv); the oracles are sqlite3, ls and md5sum.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "ok - # skip: needs root and setpriv to become another user"
  finish
  exit
fi
chmod 755 "$T"
runs_as_nobody || not_ok "a copy of the program nobody can run"
nobody() { as_nobody "$@"; }
check_eq "nobody cannot write the database's directory" no \
  "$(nobody sh -c 'touch .storysync/x 2>/dev/null' && echo yes || echo no)"

mkdir -p backlog active
for i in 1 2 3; do
  printf -- '---\nid: R-%s\ntitle: Story %s\n---\nbody\n' $i $i >backlog/R-$i.md
done
ss init >/dev/null && ss sync >/dev/null || not_ok "the first load"

# what nobody could have written: the database's directory, every file in
# it with its size and time, and the database's content
written() {
  (cd .storysync && find . -printf '%p %s %T@ %m\n' | sort &&
    md5sum stories.db) | md5sum
}
# status_as_nobody DESC PENDING: nobody's status is healthy, exit 0, finds
# PENDING, and writes nothing
status_as_nobody() {
  local before
  before=$(written)
  run nobody "$STORYSYNC" status
  check_eq "$1: nobody's status reads it, exit 0" "0|healthy: last run" \
    "$rc|$(head -n 1 <<<"$out" | cut -c 1-17)"
  check_eq "$1: the pending changes" "pending: $2" \
    "$(grep '^pending: ' <<<"$out")"
  check_eq "$1: nothing on stderr" "" "$err"
  run nobody "$STORYSYNC" status --json
  check_eq "$1: --json too" "0|healthy|ok" \
    "$rc|$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"] + "|" + d["pending"]["state"])' <<<"$out")"
  run nobody "$STORYSYNC" metrics
  check_eq "$1: and metrics" "0|1" \
    "$rc|$(grep -c '^storysync_healthy{.*} 1$' <<<"$out")"
  check_eq "$1: nothing written" "$before" "$(written)"
}

# 1. the API wrote and closed: SQLite checkpointed and removed its files
q "UPDATE stories SET title = 'By the API' WHERE id = 'R-1'"
check_eq "the API's last connection closed: no -wal, no -shm" "" \
  "$(ls .storysync | grep -E -- '-(wal|shm)$')"
status_as_nobody "no WAL files" "1 updated"

# 2. the API holds its connection open, its WAL files there (root's, 0644)
python3 - "$DB" "$O" <<'PY' &
import os, sqlite3, sys, time
db, out = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
c.execute("UPDATE stories SET title = 'Held open' WHERE id = 'R-2'")
c.commit()
open(out + "/holding", "w").close()
while not os.path.exists(out + "/release"):
    time.sleep(0.01)
c.close()
PY
api=$!
until [ -e "$O/holding" ] || ! kill -0 $api 2>/dev/null; do sleep 0.01; done
check_eq "the API holds the database: its -wal and -shm are there" \
  "stories.db-shm stories.db-wal" \
  "$(ls .storysync | grep -E -- '-(wal|shm)$' | tr '\n' ' ' | sed 's/ $//')"
status_as_nobody "the API's connection open" "2 updated"
touch "$O/release"
wait $api

# 3. a writer killed after its commit: the WAL holds it, with its -shm
python3 - "$DB" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE stories SET title = 'Killed writer' WHERE id = 'R-3'")
c.commit()
os._exit(0)
PY
check_eq "a killed writer leaves its WAL" 1 \
  "$([ -s .storysync/stories.db-wal ] && echo 1)"
status_as_nobody "a killed writer's WAL" "3 updated"

# the sync's user syncs; nobody then finds nothing pending
run ss sync
check_eq "the owner syncs all three" "0|storysync: 3 updated" "$rc|$out$err"
check_eq "the files have the API's titles" "3" \
  "$(grep -lE '^title: (By the API|Held open|Killed writer)$' backlog/*.md | wc -l)"
status_as_nobody "after the sync" "nothing"

finish
