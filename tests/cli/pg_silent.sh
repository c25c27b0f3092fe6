#!/bin/bash
# Issue 23: a server that stops answering ends the run within its bound
# (busy_wait, then server_wait), never a wait for good: the run says so,
# naming the server (its password masked), exits 3, holds no lock after,
# and the next run, once the server answers again, converges. Stopped by
# SIGSTOP, at a point the run stops itself at (STORYSYNC_TEST_STOP), so
# nothing here waits for a time: the test waits for the run's exit.
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_need
# the server logs each connection with its application name (the oracle
# of libpq's fallback_application_name, below)
PG_OPTS="-c log_connections=on"
pg_start || { not_ok "the server starts"; finish; exit 1; }
pg_db ss1
"$GEN_STORIES" "$T/tree" --count 6 2>/dev/null
cd "$T/tree" || exit 1
git init -q .
# a password in the URI (trust ignores it): never shown
URI="postgresql://postgres:s3cret@/ss1?host=$PGDIR"
pg_local "$URI"
printf 'busy_wait: 0\nserver_wait: 2\nlog: %s\n' "$O/sync.log" \
  >>.storysync.local.yml
ss init >/dev/null && run ss sync
check_eq "the tree loaded" "0|6" "$rc|$(pq ss1 "SELECT count(*) FROM stories")"
f1=$(find stories -name '*.md' | sort | sed -n 1p)
f2=$(find stories -name '*.md' | sort | sed -n 2p)
id1=$(pq ss1 "SELECT id FROM stories WHERE path = '$f1'")
id2=$(pq ss1 "SELECT id FROM stories WHERE path = '$f2'")

# the state of process $1 is T (stopped), 60 s at most
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
now() { date +%s.%N; }
# whether $1 - $2 seconds is at least $3 and below $4; it prints it
within() { awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" \
  'BEGIN { printf "%.1f s\n", a - b; exit !(a - b >= lo && a - b < hi) }'; }

# run_stopped POINT DB WHAT: a sync that stops itself at POINT
# (STORYSYNC_TEST_STOP, WHAT names it) has its backend in DB stopped
# (SIGSTOP), then goes on; sets bpid (the backend, which the caller
# checks), t0 and t1 (when the run went on and when it ended), rc and err
run_stopped() {
  STORYSYNC_TEST_STOP=$1 "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; [ -n "${bpid:-}" ] && kill -CONT $bpid;
  pg_stop; rm -rf "$T" "$O"' EXIT
  wait_for stopped $pid || not_ok "$3"
  bpid=$(pq "$2" "SELECT pid FROM pg_stat_activity WHERE application_name =
  'storysync' AND state = 'idle in transaction'")
  as_pg kill -STOP "$bpid"
  t0=$(now)
  kill -CONT $pid
  wait $pid
  rc=$?
  t1=$(now)
  err=$(cat "$O/err"); echo "# $err"
}

# ---- the run's backend stops mid-transaction, holding the tree's lock ----
sed -i 's/^title: .*/title: "edited while the server slept"/' "$f1"
pq ss1 "UPDATE stories SET title = 'the API meanwhile' WHERE id = '$id2'"
run_stopped pg-begun ss1 "the run stops in its transaction"
check_eq "one backend of the run, in its transaction, with the tree's lock" \
  "1|1" "$(echo "$bpid" | grep -c .)|$(pq ss1 "SELECT count(*) FROM pg_locks
  WHERE locktype = 'advisory' AND pid = '$bpid' AND granted")"
check_eq "the run gives up: exit 3" 3 "$rc"
check_contains "it says the server did not answer, and for how long" \
  "did not answer for 2.0 s (busy_wait, then server_wait)" "$err"
check_contains "it names the server" "postgresql://postgres:***@/ss1" "$err"
check_eq "never its password" "" "$(grep -o s3cret "$O/err" "$O/out")"
if took=$(within "$t1" "$t0" 2 30); then
  ok "within its bound: 2 s, not sooner and not for good"
else
  not_ok "within its bound: 2 s, not sooner and not for good" "$took"
fi
# the checkout's lock is free: the next run gets as far as the server's
# advisory lock, which the stopped backend's session still holds
run ss sync
check_eq "the next run, the stopped session holding the tree: try later" \
  "75" "$rc"
# the server answers again: the stopped session sees its client gone
# and ends, its transaction and lock with it
as_pg kill -CONT "$bpid"
bpid=
gone() { [ "$(pq ss1 "SELECT count(*) FROM pg_stat_activity WHERE
  application_name = 'storysync'")" = 0 ]; }
wait_for gone || not_ok "the given-up session ends once the server runs"
run ss sync
check_eq "the next run converges: the edit in its row, the API's in its file" \
  "0|edited while the server slept|title: \"the API meanwhile\"" \
  "$rc|$(pq ss1 "SELECT title FROM stories WHERE id = '$id1'")|$(grep '^title:' "$f2")"
run ss sync
check_eq "and then nothing more" "0|" "$rc|$out$err"

# ---- the server stops as the run's COMMIT goes: the run cannot know
# whether it committed and says so (exit 3); the server, answering again,
# reads the COMMIT and commits; the next run converges, nothing lost ----
sed -i 's/^title: .*/title: "edited as the commit went"/' "$f1"
pq ss1 "UPDATE stories SET title = 'the API before the commit' WHERE id = '$id2'"
events=$(pq ss1 "SELECT count(*) FROM sync_events")
conflicts=$(pq ss1 "SELECT count(*) FROM sync_conflicts")
run_stopped pg-commit ss1 "the run stops before its COMMIT goes"
check_eq "one backend of the run, in its transaction" 1 \
  "$(echo "$bpid" | grep -c .)"
check_eq "the run gives up: exit 3" 3 "$rc"
check_contains "it says its COMMIT went and the outcome is not known" \
  "did not answer for 2.0 s (busy_wait, then server_wait): the run gives up, and the next goes on from what the server committed; this run's COMMIT had been sent: whether the server committed it is not known" \
  "$err"
check_contains "naming the server" "postgresql://postgres:***@/ss1" "$err"
check_contains "and its log line says so" \
  "failed, its commit not known: postgresql://" "$(tail -n 1 "$O/sync.log")"
if took=$(within "$t1" "$t0" 2 30); then
  ok "within its bound, the COMMIT unanswered"
else
  not_ok "within its bound, the COMMIT unanswered" "$took"
fi
check_eq "the API's title in its file (written before the COMMIT), the
  row not committed while the server is stopped" \
  "title: \"the API before the commit\"|edited while the server slept" \
  "$(grep '^title:' "$f2")|$(pq ss1 "SELECT title FROM stories WHERE id = '$id1'")"
as_pg kill -CONT "$bpid"
bpid=
wait_for gone || not_ok "the given-up session ends once the server runs"
check_eq "the server committed the run after it gave up: its edit, its
  events" "edited as the commit went|$((events + 2))" \
  "$(pq ss1 "SELECT title FROM stories WHERE id = '$id1'")|$(pq ss1 \
    "SELECT count(*) FROM sync_events")"
run ss sync
check_eq "the next run converges on what the server holds: nothing lost,
  nothing written twice, no conflict" \
  "0||edited as the commit went|title: \"the API before the commit\"|$((events + 2))|$conflicts" \
  "$rc|$out$err|$(pq ss1 "SELECT title FROM stories WHERE id = '$id1'")|$(grep \
    '^title:' "$f2")|$(pq ss1 "SELECT count(*) FROM sync_events")|$(pq ss1 \
    "SELECT count(*) FROM sync_conflicts")"
run ss sync
check_eq "and then nothing more" "0|" "$rc|$out$err"

# ---- the server takes no connection: connect_timeout, the bound ----
ppid=$(head -1 "$PGDIR/data/postmaster.pid")
sed -i 's/^title: .*/title: "edited while no connection"/' "$f1"
trap 'as_pg kill -CONT $ppid; pg_stop; rm -rf "$T" "$O"' EXIT
as_pg kill -STOP "$ppid"
t0=$(now)
run ss sync
t1=$(now)
as_pg kill -CONT "$ppid"
trap 'pg_stop; rm -rf "$T" "$O"' EXIT
check_eq "a connection the server never answers: exit 3" 3 "$rc"
check_contains "saying it cannot connect, naming the server" \
  "postgresql://postgres:***@/ss1?host=$PGDIR: cannot connect:" "$err"
if took=$(within "$t1" "$t0" 2 30); then
  ok "within its bound (connect_timeout 2 s)"
else
  not_ok "within its bound (connect_timeout 2 s)" "$took"
fi
run ss sync
check_eq "once it answers, the next run converges" \
  "0|edited while no connection" \
  "$rc|$(pq ss1 "SELECT title FROM stories WHERE id = '$id1'")"

# ---- a first load whose server stops as its sender thread's first batch
# goes (the first batch 1 MB: 40 stories of 40 KB, one batch by the thread, the
# rest at the commit): the thread's COPY waits no longer than the bound,
# the run says so and exits 3, keeping nothing; the next run loads all ----
pg_db ss2
mkdir -p "$T/big/backlog" && cd "$T/big" || exit 1
git init -q .
pad=$(head -c 40000 /dev/zero | tr '\0' 'x')
for n in $(seq 1 40); do
  printf -- '---\nid: B-%s\ntitle: Big %s\n---\n%s\n' "$n" "$n" "$pad" \
    >"backlog/B-$n-big.md"
done
pg_local "postgresql://postgres:s3cret@/ss2?host=$PGDIR"
printf 'busy_wait: 0\nserver_wait: 2\n' >>.storysync.local.yml
ss init >/dev/null
run_stopped pg-batch ss2 "the first load stops before its batch goes"
check_eq "one backend of the first load, in its transaction" 1 \
  "$(echo "$bpid" | grep -c .)"
check_eq "the first load gives up: exit 3" 3 "$rc"
check_contains "it says the server did not answer, naming it" \
  "postgresql://postgres:***@/ss2?host=$PGDIR: the server did not answer for 2.0 s" \
  "$err"
if took=$(within "$t1" "$t0" 2 30); then
  ok "the sender thread's wait within its bound"
else
  not_ok "the sender thread's wait within its bound" "$took"
fi
as_pg kill -CONT "$bpid"
bpid=
trap 'pg_stop; rm -rf "$T" "$O"' EXIT
gone2() { [ "$(pq ss2 "SELECT count(*) FROM pg_stat_activity WHERE
  application_name = 'storysync'")" = 0 ]; }
wait_for gone2 || not_ok "the given-up session ends once the server runs"
check_eq "nothing of the load kept" "0|0" \
  "$(pq ss2 "SELECT count(*) FROM stories")|$(pq ss2 \
    "SELECT count(*) FROM sync_state")"
run ss sync
check_eq "the next run loads every story, whole" "0|40|40|40001" \
  "$rc|$(pq ss2 "SELECT count(*) FROM stories")|$(pq ss2 \
    "SELECT count(*) FROM sync_state")|$(pq ss2 \
    "SELECT min(length(body)) FROM stories")"

# ---- libpq's defaults where neither the URI, the environment nor a
# service sets them; theirs win (tests/unit/test_pg_conninfo.c checks
# each keyword as libpq reads it back; keepalives and tcp_user_timeout
# act on TCP only, which no test here uses) ----
# the application names the server logged connections of ss2 with since
# line $1 of its log (psql's left out)
apps_since() {
  tail -n +"$(($1 + 1))" "$PGDIR/log" |
    grep -o 'connection authorized: user=postgres database=ss2 application_name=[^ ]*' |
    sed 's/.*application_name=//' | grep -vx psql | tr '\n' ' '
}
n=$(wc -l <"$PGDIR/log")
run ss sync
check_eq "a run's connection is named storysync (fallback_application_name)" \
  "0|storysync " "$rc|$(apps_since "$n")"
n=$(wc -l <"$PGDIR/log")
PGAPPNAME=cron-job run ss sync
check_eq "the environment's name wins" "0|cron-job " "$rc|$(apps_since "$n")"
cp .storysync.local.yml "$O/local.yml"
sed -i 's|^database: .*|&\&application_name=api-side|' .storysync.local.yml
n=$(wc -l <"$PGDIR/log")
run ss sync
check_eq "and the URI's" "0|api-side " "$rc|$(apps_since "$n")"

# a socket that takes connections and never answers: the connection's
# bound is the URI's connect_timeout, the environment's or the service's
# where one is set, not server_wait's (30 s here)
mkdir "$T/quiet"
python3 -c 'import signal, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1] + "/.s.PGSQL.5432")
s.listen(16)
signal.pause()' "$T/quiet" &
qpid=$!
trap 'kill $qpid 2>/dev/null; pg_stop; rm -rf "$T" "$O"' EXIT
quiet_up() { [ -S "$T/quiet/.s.PGSQL.5432" ]; }
wait_for quiet_up || not_ok "the silent socket listens"
# the run with database $1 (and the environment given before it) against
# the silent socket: exit 3 within 2 to 20 s
silent_run() {
  local t0 t1 took
  { grep -v -e '^database:' -e '^server_wait:' "$O/local.yml"
    printf 'database: %s\nserver_wait: 30\n' "$1"; } >.storysync.local.yml
  t0=$(now)
  run ss sync
  t1=$(now)
  check_eq "$2: exit 3, it cannot connect" "3|cannot connect" \
    "$rc|$(echo "$err" | grep -o 'cannot connect')"
  if took=$(within "$t1" "$t0" 2 20); then
    ok "$2: within its connect_timeout ($took)"
  else
    not_ok "$2: within its connect_timeout" "$took"
  fi
}
silent_run "postgresql:///ss2?host=$T/quiet&connect_timeout=2" \
  "the URI's connect_timeout"
PGCONNECT_TIMEOUT=2 silent_run "postgresql:///ss2?host=$T/quiet" \
  "the environment's"
printf '[quiet]\nhost=%s\ndbname=ss2\nconnect_timeout=2\n' "$T/quiet" \
  >"$O/services"
PGSERVICEFILE=$O/services silent_run "postgresql://?service=quiet" \
  "a service's (the defaults are not set beside a service)"
kill $qpid
trap 'pg_stop; rm -rf "$T" "$O"' EXIT
cp "$O/local.yml" .storysync.local.yml
run ss sync
check_eq "the server again: the run is as before" "0|" "$rc|$out$err"
finish
