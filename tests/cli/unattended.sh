#!/bin/bash
# Issue 10: running unattended for a year. A busy database is "try later",
# a quiet run writes nothing, retention prunes what it may, status gives a
# verdict (also to a user who can only read), metrics parse as Prometheus
# text, the log and the notify command tell what changed.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
"$GEN_STORIES" . --count 30 2>/dev/null
ss init >/dev/null && ss sync >/dev/null || not_ok "import"
echo "busy_wait: 1" >>.storysync.yml
# what writes files or runs commands: this machine's, never in git
echo "log: sync.log" >>.storysync.local.yml
edit_one() { # FILE TITLE
  sed -i "0,/^title:/s/^title: .*/title: $2/" "$1"
}
story=$(find stories -name '*.md' | sort | head -n 1)
sid=$(sed -n 's/^id: //p' "$story")

# ---- busy: the API holds a write transaction across a run ----
edit_one "$story" "Edited while the API writes"
hold() { # SECONDS CMD...: runs CMD while the API holds BEGIN IMMEDIATE;
  # prints "exit code|ms it took|last stderr line|still running when the
  # API committed (with SECONDS)"
  local secs=$1
  shift
  "$PY" - "$DB" "$secs" "$@" <<'EOF'
import sqlite3, subprocess, sys, time
db, secs, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
con = sqlite3.connect(db, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("UPDATE stories SET priority = 'high' WHERE rowid = 1")
t = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     text=True)
waiting = ""
if secs:  # the API commits after secs, while the run waits
    time.sleep(secs)
    waiting = "yes" if p.poll() is None else "no"
    con.execute("COMMIT")
_, err = p.communicate()
took = time.monotonic() - t
if not secs:
    con.execute("COMMIT")
err = err.strip().splitlines()
print("%d|%d|%s|%s" % (p.returncode, took * 1000, err[-1] if err else "",
                       waiting))
EOF
}
# at_least MS RES: "yes" when RES took MS or more (a busy machine makes it
# longer, never shorter: no upper bound is asserted)
at_least() { [ "$(cut -d'|' -f2 <<<"$2")" -ge "$1" ] && echo yes || echo "no: $2"; }
res=$(hold 0 "$STORYSYNC" -v sync)
check_eq "busy past busy_wait: exit 75, after 1 s or more" "75|yes" \
  "$(cut -d'|' -f1 <<<"$res")|$(at_least 1000 "$res")"
# the time it tells is what it waited: busy_wait or more, within the run's
waited=$(sed -n 's/.*another writer held the database for \([0-9.]*\) s; try later.*/\1/p' <<<"$res")
check_eq "-v tells the real time waited ($waited s)" yes \
  "$(awk -v w="$waited" -v ms="$(cut -d'|' -f2 <<<"$res")" \
    'BEGIN { print (w != "" && w >= 1.0 && w * 1000 <= ms + 50) ? "yes" : "no" }')"
res=$(hold 0 "$STORYSYNC" sync)
check_eq "quiet without -v" "75|yes||" \
  "$(cut -d'|' -f1 <<<"$res")|$(at_least 1000 "$res")|$(cut -d'|' -f3- <<<"$res")"
res=$(hold 0 "$STORYSYNC" sync --wait=2)
check_eq "--wait bounds it too" "75|yes" \
  "$(cut -d'|' -f1 <<<"$res")|$(at_least 2000 "$res")"
res=$(hold 2 "$STORYSYNC" sync --wait)
check_eq "--wait alone waits it out (still waiting 2 s on), and syncs" \
  "0||yes" "$(cut -d'|' -f1,3,4 <<<"$res")"
check_eq "the file's edit reached the row" "Edited while the API writes" \
  "$(q "SELECT title FROM stories WHERE id = '$sid'")"
check_eq "the API's edit was not lost" high \
  "$(q "SELECT priority FROM stories WHERE rowid = 1")"
check_eq "busy runs are counted, not called failures" "runs_busy 3|failing 0" \
  "$(grep '^runs_busy ' $DB.run)|$(grep '^failing ' $DB.run)"
check_eq "no sync_runs row for a busy run" 2 "$(q 'SELECT count(*) FROM sync_runs')"
ss sync >/dev/null

# ---- a quiet run writes nothing ----
sum=$(md5sum <$DB)
runs=$(grep '^runs_ok ' $DB.run)
lines=$(wc -l <sync.log)
# 100 in the long set (STORYSYNC_LONG=1)
quiet=$([ "${STORYSYNC_LONG:-0}" = 1 ] && echo 100 || echo 20)
for ((i = 1; i <= quiet; i++)); do ss sync || not_ok "quiet run $i"; done
check_eq "$quiet quiet runs leave the database byte-identical" "$sum" "$(md5sum <$DB)"
check_eq "and its WAL empty" 0 "$(stat -c %s $DB-wal)"
check_eq "the run record counts them" \
  "runs_ok $(($(cut -d' ' -f2 <<<"$runs") + quiet))" "$(grep '^runs_ok ' $DB.run)"
# with the fsyncs the suite's switch skips
ASAN_OPTIONS=detect_leaks=0 STORYSYNC_TEST_NOSYNC= strace -f -qq \
  -e trace=fsync,fdatasync -o "$O/strace" "$STORYSYNC" sync
check_eq "a quiet run makes no fsync" 0 "$(grep -c sync "$O/strace")"
check_eq "and they log nothing" "$lines" "$(wc -l <sync.log)"

# ---- retention: old rows go inside a run's transaction ----
cat >>.storysync.yml <<'EOF'
retention:
  days: 30
  runs: 4
  deleted_days: 60
EOF
q "INSERT INTO sync_runs(id, started) VALUES (0, '2020-01-01T00:00:00.000Z'),
     (-3, '2026-01-01T00:00:00.000Z'), (-2, '2026-01-01T00:00:00.000Z'),
     (-1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day'));
   INSERT INTO sync_events(seq, story_id, change, origin, at) VALUES
     (-1, 'OLD-1', 'created', 'file', '2020-01-01T00:00:00.000Z'),
     (0, 'OLD-2', 'created', 'file', '2020-01-01T00:00:00.000Z');
   INSERT INTO sync_conflicts(story_id, at, kind, resolved) VALUES
     ('OLD-1', '2020-01-01T00:00:00Z', 'both_changed', '2020-01-02T00:00:00Z'),
     ('OLD-2', '2020-01-01T00:00:00Z', 'both_changed', NULL);
   INSERT INTO deleted_stories(story_id, rev, deleted_at) VALUES
     ('OLD-1', 0, '2020-01-01T00:00:00Z');
   INSERT INTO status_history(story_id, changed_at, origin) VALUES
     ('OLD-1', '2020-01-01T00:00:00Z', 'file')"
events=$(q 'SELECT count(*) FROM sync_events')
edit_one "$story" "Pruning run"
run ss -v sync
check_contains "the run says what it pruned" \
  "pruned 3 runs, 2 events, 1 resolved conflict, 1 deleted story" "$err"
check_eq "at most 4 runs, the newest" "-1,1,2,$(q 'SELECT max(id) FROM sync_runs')" \
  "$(q 'SELECT group_concat(id) FROM (SELECT id FROM sync_runs ORDER BY id)')"
check_eq "old events go, recent ones stay" "$((events - 2 + 1))" \
  "$(q 'SELECT count(*) FROM sync_events')"
check_eq "an open conflict stays, however old" "OLD-2" \
  "$(q 'SELECT group_concat(story_id) FROM sync_conflicts')"
check_eq "status history is data: kept" 1 \
  "$(q "SELECT count(*) FROM status_history WHERE story_id = 'OLD-1'")"
q "INSERT INTO sync_consumers VALUES ('api', -5, NULL);
   INSERT INTO sync_events(seq, story_id, change, origin, at) VALUES
     (-3, 'OLD-3', 'created', 'file', '2020-01-01T00:00:00.000Z')"
edit_one "$story" "A consumer holds the events"
ss sync >/dev/null
check_eq "an event no consumer has read stays" 1 \
  "$(q "SELECT count(*) FROM sync_events WHERE story_id = 'OLD-3'")"
q "UPDATE sync_conflicts SET resolved = '2021-01-01T00:00:00Z'"
edit_one "$story" "Back to normal"
ss sync >/dev/null

# ---- status: the verdict first ----
run ss status
check_eq "healthy: exit 0" 0 "$rc"
check_contains "healthy first" "healthy: last run " "$(head -n 1 <<<"$out")"
check_contains "with the story count" "; 30 stories" "$(head -n 1 <<<"$out")"
run ss status -q
check_eq "-q prints nothing when healthy" "0|" "$rc|$out$err"

# a user who can only read: status opens the database read-only
chmod -R go-w . && chmod o+rx "$T" "$O" 2>/dev/null
runs_as_nobody || not_ok "a copy of the program nobody can run"
run as_nobody "$STORYSYNC" status
check_eq "as nobody on a read-only database: healthy" 0 "$rc"
check_contains "it still reads what is pending" "pending: nothing" "$out"
check_contains "and says it cannot write, as a reader" \
  "permissions: this user cannot write $T" "$out"
check_eq "nothing written to stderr" "" "$err"
run as_nobody "$STORYSYNC" metrics
check_eq "metrics as nobody" 0 "$rc"
run as_nobody "$STORYSYNC" sync
check_eq "sync as nobody, on root's tree: exit 2, with what to do (owner.sh)" \
  "2|storysync: $T belongs to root, not to nobody who runs storysync" \
  "$rc|${err%%: what it creates*}"

# attention: a conflict, then files in error
q "INSERT INTO sync_conflicts(story_id, at, kind, kept) VALUES
   ('$sid', '2026-01-01T00:00:00Z', 'both_changed', 'file')"
run ss status
check_eq "an open conflict: exit 1" "1|attention: 1 open conflict" \
  "$rc|$(head -n 1 <<<"$out")"
run ss conflicts --resolve
check_eq "conflicts --resolve marks the open ones" \
  "0|storysync: 1 conflict resolved" "$rc|$out"
run ss status
check_eq "resolved: healthy again" 0 "$rc"
printf -- '---\nid: BAD-1\ntitle: [unclosed\n---\n' >stories/platform/backlog/BAD-1-bad.md
ss sync 2>/dev/null
run ss status -q
check_eq "a file in error: exit 1, one line with -q" \
  "1|attention: 1 file in error" "$rc|$out"
rm stories/platform/backlog/BAD-1-bad.md
ss sync

# refused: a guard holds
mkdir -p "$O/aside" && cp -r stories "$O/aside/"
find stories -name '*.md' | sort | awk 'NR % 5 != 1' | xargs rm
ss sync 2>/dev/null
run ss status
check_eq "a guard refused the last run: exit 4" "4" "$rc"
check_contains "refused, since when, and why" \
  "refused: a guard has held since 20" "$(head -n 1 <<<"$out")"
check_contains "the guard's reason" "more than 50%" "$(head -n 1 <<<"$out")"
rm -rf stories && cp -r "$O/aside/stories" . && ss sync

# failing: the disk fills during the commit
edit_one "$story" "Disk full"
ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o /dev/null \
  -e inject=pwrite64:error=ENOSPC "$STORYSYNC" sync 2>/dev/null
rc=$?
check_eq "a disk-full run fails" 3 "$rc"
run ss status
check_eq "failing: exit 5" 5 "$rc"
check_contains "the last run failed, since when, and why" \
  "failing: the last 1 run failed (since 20" "$(head -n 1 <<<"$out")"
check_contains "with what to do" "run again; nothing was committed" \
  "$(head -n 1 <<<"$out")"
check_contains "the log has the error" "error $T: failed, nothing committed" \
  "$(cat sync.log)"
ss sync
check_eq "the next run syncs the edit" "Disk full" \
  "$(q "SELECT title FROM stories WHERE id = '$sid'")"

# stale: no successful run for stale_after
echo "stale_after: 60" >>.storysync.yml
sed -i "s/^last_success .*/last_success $(($(date +%s) - 3600))000000000/" $DB.run
run ss status
check_eq "stale: exit 6" 6 "$rc"
check_contains "stale, for how long" "stale: no successful run for 1 h 0 min" \
  "$(head -n 1 <<<"$out")"
ss sync

# permission: the sync's own user cannot write its tree
mkdir "$O/perm" && cp -r .storysync.yml stories .storysync "$O/perm/"
chown -R nobody "$O/perm" && chmod a-w "$O/perm/stories/platform/backlog"
run as_nobody "$STORYSYNC" -C "$O/perm" status
check_eq "permission: exit 7" 7 "$rc"
check_contains "names the directory" \
  "permission: this user runs the sync but cannot write $O/perm/stories/platform/backlog" \
  "$(head -n 1 <<<"$out")"
rm -rf "$O/perm"

# unreadable: a damaged database
cp $DB "$O/db.good"
printf 'garbage!' | dd of=$DB bs=1 seek=0 conv=notrunc 2>/dev/null
run ss status
check_eq "unreadable: exit 3" 3 "$rc"
check_contains "with what to do" "the database is damaged" "$out"
cp "$O/db.good" $DB

# never synced
mkdir "$O/fresh" && cp .storysync.yml "$O/fresh/"
run ss -C "$O/fresh" status
check_eq "no database: stale, exit 6" \
  "6|stale: never synced (no database yet: storysync init creates it)" \
  "$rc|$(head -n 1 <<<"$out")"

# ---- metrics, parsed by Prometheus' own parser ----
ss metrics >"$O/metrics"
"$PY" - "$O/metrics" "$T" >"$O/parsed" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
tree = sys.argv[2]
def one(name):
    s = fams[name].samples
    assert all(x.labels["tree"] == tree for x in s), s
    return s
print("families", " ".join(sorted(fams)))
print("types", fams["storysync_runs"].type, fams["storysync_stories"].type)
print("stories", int(sum(x.value for x in one("storysync_stories"))))
print("results", " ".join(sorted(x.labels["result"] for x in one("storysync_runs")
                                 if x.name == "storysync_runs_total")))
print("healthy", int(one("storysync_healthy")[0].value))
print("pending", " ".join("%s=%d" % (x.labels["side"], x.value)
                          for x in one("storysync_pending_changes")))
EOF
check_eq "every family parses" "families storysync_backlog_pending_changes storysync_conflicts_open storysync_events_unconsumed storysync_files_in_error storysync_healthy storysync_last_run_duration_seconds storysync_last_run_exit_code storysync_last_run_timestamp_seconds storysync_last_success_timestamp_seconds storysync_log_failing storysync_notify_failures storysync_pending_changes storysync_rows_in_error storysync_runs storysync_status_code storysync_stories" \
  "$(sed -n 1p "$O/parsed")"
check_eq "runs_total is a counter, stories a gauge" "types counter gauge" \
  "$(sed -n 2p "$O/parsed")"
check_eq "stories by backlog and status add up" "stories 30" "$(sed -n 3p "$O/parsed")"
check_eq "runs by every result" "results busy failed guarded ok skipped" \
  "$(sed -n 4p "$O/parsed")"
check_eq "healthy" "healthy 1" "$(sed -n 5p "$O/parsed")"
edit_one "$story" "Pending on the file side"
other=$(q "SELECT id FROM stories WHERE id != '$sid' AND priority IS NOT 'low' ORDER BY id LIMIT 1")
q "UPDATE stories SET priority = 'low' WHERE id = '$other'"
cat >"$O/pending.py" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    if f.name == "storysync_pending_changes":
        print(" ".join("%s=%d" % (x.labels["side"], x.value) for x in f.samples))
EOF
check_eq "pending changes on each side" "db=1 files=1" \
  "$(ss metrics | "$PY" "$O/pending.py")"
# the textfile collector's file, written after each run
echo "metrics_file: $O/textfile/storysync.prom" >>.storysync.local.yml
mkdir "$O/textfile"
ss sync
"$PY" -c "
from prometheus_client.parser import text_string_to_metric_families as f
import sys
m = {s.name: s.value for fam in f(open(sys.argv[1]).read()) for s in fam.samples if s.name != 'storysync_stories' and s.name != 'storysync_runs_total' and s.name != 'storysync_pending_changes'}
print(int(m['storysync_healthy']), int(m['storysync_last_run_exit_code']))" \
  "$O/textfile/storysync.prom" >"$O/tf" 2>&1
check_eq "metrics_file: written after the run, and it parses" "1 0" "$(cat "$O/tf")"
check_eq "no temporary file left beside it" "storysync.prom" "$(ls "$O/textfile")"

# ---- the log: a line per run that changed something ----
check_contains "a changed run's line: the file's edit and the API's" \
  "info $T: synced: 2 updated" "$(tail -n 1 sync.log)"
lines=$(wc -l <sync.log)
ss sync
check_eq "a quiet run adds no line" "$lines" "$(wc -l <sync.log)"
# syslog: unset log and not at a terminal, the run goes to /dev/log
if [ ! -e /dev/log ]; then
  sed -i '/^log:/d' .storysync.local.yml
  edit_one "$story" "To syslog"
  "$PY" - "$STORYSYNC" "$T" >"$O/syslog" <<'EOF'
import os, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
try:
    subprocess.run([sys.argv[1], "sync"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    s.settimeout(5)
    while True:  # the other tests' runs log here too while it is bound
        line = s.recv(4096).decode()
        if sys.argv[2] + ":" in line:
            print(line)
            break
finally:
    os.unlink("/dev/log")
EOF
  check_contains "syslog gets the line, as storysync, user.info" \
    "<14>" "$(cat "$O/syslog")"
  check_contains "with the tree and what changed" \
    "storysync[" "$(cat "$O/syslog")"
  check_contains "what changed" "$T: synced: 1 updated" "$(cat "$O/syslog")"
  echo "log: sync.log" >>.storysync.local.yml
else
  ok "# skip syslog: /dev/log is taken"
fi

# ---- notify: the run's events on stdin, after the commit ----
echo "notify: cat >$O/events.jsonl" >>.storysync.local.yml
edit_one "$story" "Notified"
q "UPDATE stories SET title = 'From the API' WHERE rowid = 3"
api_id=$(q "SELECT id FROM stories WHERE rowid = 3")
run ss sync
check_rc "the run with notify" 0
"$PY" -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e['change'], e['id'], e['written'])" "$O/events.jsonl" | sort >"$O/ev"
check_eq "one JSON line per event, both sides" \
  "$(printf 'updated %s db\nupdated %s file' "$sid" "$api_id" | sort)" "$(cat "$O/ev")"
sed -i '/^notify:/d' .storysync.local.yml
echo "notify: exit 3" >>.storysync.local.yml
edit_one "$story" "Notify fails"
run ss sync
check_eq "a failing notify does not undo the sync" \
  "0|Notify fails" "$rc|$(q "SELECT title FROM stories WHERE id = '$sid'")"
check_eq "it is told" "storysync: notify: 'exit 3' exited 3" "$err"
check_contains "and logged" "error $T: notify: 'exit 3' exited 3" "$(tail -n 1 sync.log)"
sed -i '/^notify:/d' .storysync.local.yml
printf 'notify: sleep 30\nnotify_timeout: 1\n' >>.storysync.local.yml
edit_one "$story" "Notify hangs"
start=$(date +%s%N)
run ss sync
took=$((($(date +%s%N) - start) / 1000000))
check_eq "a hanging notify is killed after notify_timeout" \
  "0|storysync: notify: 'sleep 30' timed out after 1 s; killed" "$rc|$err"
# waiting it out would take the 30 s the command sleeps
check_eq "the run did not wait for it ($took ms)" yes \
  "$([ "$took" -lt 30000 ] && echo yes)"
check_eq "the sync stands" "Notify hangs" "$(q "SELECT title FROM stories WHERE id = '$sid'")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
