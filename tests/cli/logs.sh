#!/bin/bash
# Issue 25, logs: under systemd standard error is the journal as well, so
# when JOURNAL_STREAM names it an error printed there is not sent to
# syslog again (the lines only the log gets still are); a log: file that
# cannot be opened is said on stderr and shown by status and metrics, and
# its lines go to syslog; a failing notify shows in status and metrics
# until one exits 0. Syslog is a socket of the test's own at /dev/log, in a
# mount namespace of the run's own (unshare), so no other test's runs or
# system logger are in the way. The oracles: the datagrams the socket got,
# status --json read by Python, prometheus_client's parser.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  ok "# skip: needs root and unshare -m for a /dev/log of its own"
  finish
  exit
fi
story() { # FILE ID TITLE
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n---\nbody\n' "$2" "$3" >"$1"
}
# syslogged ERRFILE JOURNAL CMD...: runs CMD with its standard error to
# ERRFILE and /dev/log a socket of ours; JOURNAL_STREAM is set to JOURNAL
# ("stderr": ERRFILE's device and inode, as systemd sets it; "" unset).
# $rc is CMD's exit code, $err its stderr, $syslog what syslog got.
syslogged() {
  local errfile=$1 journal=$2
  shift 2
  rm -rf "$O/dev" && mkdir "$O/dev" && : >"$O/dev/null" && : >"$errfile"
  [ "$journal" = stderr ] && journal=$(stat -c '%d:%i' "$errfile")
  python3 - "$O/dev" "$errfile" "$journal" "$@" >"$O/syslog" <<'EOF'
import os, socket, subprocess, sys
dev, errfile, journal, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(dev + "/log")
env = dict(os.environ)
env.pop("JOURNAL_STREAM", None)
if journal:
    env["JOURNAL_STREAM"] = journal
# the run's own /dev: our socket as /dev/log, and /dev/null
script = ('mount --make-rprivate / && mount --bind /dev/null "$1/null" && '
          'mount --rbind "$1" /dev && shift && exec "$@"')
with open(errfile, "a") as err:
    rc = subprocess.run(["unshare", "-m", "sh", "-c", script, "_", dev] + cmd,
                        stdout=subprocess.DEVNULL, stderr=err, env=env).returncode
# a datagram is in the socket's queue once the sender's call returned
s.setblocking(False)
while True:
    try:
        print(s.recv(65536).decode(errors="replace"))
    except BlockingIOError:
        break
sys.exit(rc)
EOF
  rc=$?
  read_file err "$errfile"
  read_file syslog "$O/syslog"
}
count() { grep -cF -- "$1" <<<"$2"; }
status_json() { # KEY: status --json's value of KEY
  ss status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
metric() { # NAME: its value, read by the Prometheus client's parser
  ss metrics | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as f
print(int(next(s.value for fam in f(sys.stdin.read()) for s in fam.samples
               if s.name == sys.argv[1])))' "$1"
}

story backlog/A-1-one.md A-1 One
story backlog/A-2-two.md A-2 Two
ss init -q && ss -q || not_ok "the first load"
printf -- '---\nid: A-2\ntitle: [unclosed\n---\n' >backlog/A-2-two.md
bad="backlog/A-2-two.md:3:8: 'title' must be a scalar"

# ---- the journal: each error once ----
sed -i 's/^title: .*/title: Once/' backlog/A-1-one.md
syslogged "$O/stderr" "" "$STORYSYNC" sync
check_eq "not under systemd: the error on stderr, exit 1" "1|$bad" "$rc|$err"
check_eq "and in syslog too (cron mails stderr; syslog is the log)" 1 \
  "$(count "$T: $bad" "$syslog")"
sed -i 's/^title: .*/title: Twice/' backlog/A-1-one.md
syslogged "$O/stderr" stderr "$STORYSYNC" sync
check_eq "JOURNAL_STREAM names stderr: the error on stderr" "1|$bad" \
  "$rc|$err"
check_eq "and not in syslog again: the journal has it once" 0 \
  "$(count "$bad" "$syslog")"
check_eq "what only the log gets still goes to syslog" 1 \
  "$(count "$T: synced: 1 updated" "$syslog")"
sed -i 's/^title: .*/title: Thrice/' backlog/A-1-one.md
: >"$O/other"
syslogged "$O/stderr" "$(stat -c '%d:%i' "$O/other")" "$STORYSYNC" sync
check_eq "JOURNAL_STREAM naming another stream: syslog has the error" \
  "1|1" "$rc|$(count "$T: $bad" "$syslog")"
story backlog/A-2-two.md A-2 Two
ss -q || not_ok "fixed"

# ---- a log: file that cannot be opened ----
printf 'log: %s\n' "$O/missing/sync.log" >.storysync.local.yml
sed -i 's/^title: .*/title: Logged/' backlog/A-1-one.md
syslogged "$O/stderr" "" "$STORYSYNC" -q sync
check_eq "log: cannot be opened: said on stderr, the sync done" \
  "0|storysync: log: $O/missing/sync.log: No such file or directory (its lines go to syslog)" \
  "$rc|$err"
check_eq "its lines went to syslog" 1 "$(count "$T: synced: 1 updated" "$syslog")"
run ss status
check_eq "status: attention, saying why" \
  "1|attention: log: $O/missing/sync.log: No such file or directory (its lines go to syslog)" \
  "$rc|$(head -n 1 <<<"$out")"
check_eq "status --json: log_error" \
  "log: $O/missing/sync.log: No such file or directory (its lines go to syslog)" \
  "$(status_json log_error)"
check_eq "the metric" 1 "$(metric storysync_log_failing)"
mkdir "$O/missing"
sed -i 's/^title: .*/title: Logged again/' backlog/A-1-one.md
run ss -q
check_eq "the folder made: silent, the line in the file" "0||1" \
  "$rc|$err|$(count "$T: synced: 1 updated" "$(cat "$O/missing/sync.log")")"
check_eq "status healthy again" 0 "$(ss status >/dev/null; echo $?)"
check_eq "the metric 0" 0 "$(metric storysync_log_failing)"

# ---- a failing notify ----
printf 'log: none\nnotify: exit 3\n' >.storysync.local.yml
sed -i 's/^title: .*/title: Notified/' backlog/A-1-one.md
run ss -q
check_eq "a failing notify: said, the sync done" \
  "0|storysync: notify: 'exit 3' exited 3" "$rc|$err"
run ss status
check_contains "status: attention, since when, why" \
  "attention: notify failed 1 time in a row (since 20" "$(head -n 1 <<<"$out")"
check_contains "the command's failure" ": notify: 'exit 3' exited 3" \
  "$(head -n 1 <<<"$out")"
check_eq "status exits 1" 1 "$rc"
check_eq "the metric: 1 failed" 1 "$(metric storysync_notify_failures)"
sed -i 's/^title: .*/title: Notified again/' backlog/A-1-one.md
run ss -q
check_eq "again under -q: told already, silent" "0|" "$rc|$err"
check_eq "status --json: 2 in a row" "2|notify: 'exit 3' exited 3" \
  "$(status_json notify_failing)|$(status_json notify_error)"
check_eq "the metric: 2" 2 "$(metric storysync_notify_failures)"
run ss -q
check_eq "a run with nothing to notify leaves it failing" \
  "0|2" "$rc|$(metric storysync_notify_failures)"
printf 'log: none\nnotify: cat >/dev/null\n' >.storysync.local.yml
sed -i 's/^title: .*/title: Notified at last/' backlog/A-1-one.md
run ss -q
check_eq "a notify that exits 0: healthy, the metric 0" "0|0|0" \
  "$rc|$(ss status >/dev/null; echo $?)|$(metric storysync_notify_failures)"
finish
