#!/bin/bash
# Issue 25: a long run at a terminal shows its progress (files walked,
# parsed, written, with a rate) on one line, redrawn with \r as git does,
# and ends it with ", done." (", stopped." when the run did not finish); never under -q or --json, nor when standard
# error is not a terminal (cron). The terminal is a pty (Python's pty);
# STORYSYNC_TEST_PROGRESS_MS=0, a test-only threshold, shows it from the
# start, so that nothing depends on the machine's speed. Oracles: the
# files (find) and the rows (sqlite3).
. "$(dirname "$0")/lib.sh"
export STORYSYNC_TEST_PROGRESS_MS=0

# on_tty WHICH WORDS...: runs storysync with WHICH (err or out) on a pty,
# the other stream to a file: $rc, $out (stdout) and $err (stderr), the
# pty's side as it came (\r and all: the tty makes \n \r\n)
cat >"$O/pty.py" <<'PY'
import os, subprocess, sys
which, cmd = sys.argv[1], sys.argv[4:]
master, slave = os.openpty()
with open(sys.argv[2] if which == "err" else sys.argv[3], "wb") as f:
    streams = {"stdout": f, "stderr": slave} if which == "err" else \
        {"stdout": slave, "stderr": f}
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **streams)
    os.close(slave)
    got = b""
    while True:
        try:
            d = os.read(master, 65536)
        except OSError:  # EIO: every end of the pty's other side closed
            break
        if not d:
            break
        got += d
    rc = p.wait()
with open(sys.argv[3] if which == "err" else sys.argv[2], "wb") as f:
    f.write(got)
sys.exit(rc)
PY
on_tty() {
  local which=$1
  shift
  python3 "$O/pty.py" "$which" "$O/out" "$O/err" "$STORYSYNC" "$@"
  rc=$?
  read_file out "$O/out"
  read_file err "$O/err"
}
# lines: $err's lines as the terminal shows them, one per \r or \n
lines() { tr '\r' '\n' <<<"$err" | sed '/^ *$/d'; }

"$GEN_STORIES" tree --count 150 2>/dev/null
cd tree || exit 1
ss init >/dev/null
n=$(find stories -name '*.md' | grep -c .)

on_tty err sync
check_eq "first load at a terminal: done, the summary on stdout" \
  "0|storysync: $n created" "$rc|$out"
check_eq "the oracle: as many rows as files" "$n" \
  "$(q "SELECT count(*) FROM stories")"
last=$(lines | tail -n 1)
check_eq "its last line: every file walked, parsed and written, done" 1 \
  "$(grep -cxE "storysync: $n files walked, $n parsed, $n written in [0-9]+\.[0-9] s, done\." <<<"$last")"
check_eq "one line on the terminal: no newline but the last" "1 0d0a" \
  "$(tr -cd '\n' <"$O/err" | wc -c) $(tail -c 2 "$O/err" | od -An -tx1 | tr -d ' ')"
draws=$(lines | grep -c '^storysync: [0-9]* files walked, ')
check_eq "redrawn in place (\\r), more than once" 1 \
  "$([ "$draws" -ge 2 ] && echo 1)"
check_eq "a draw before the end has a rate" 1 \
  "$(lines | grep -c -m 1 -E '^storysync: [0-9]+ files walked, [0-9]+ parsed, [0-9]+ written \([0-9]+ (walked|parsed|written)/s\) *$')"

on_tty err sync --full
check_eq "--full: every file walked and read, none written" 1 \
  "$(lines | tail -n 1 | grep -cxE "storysync: $n files walked, $n parsed, 0 written in [0-9]+\.[0-9] s, done\.")"
f=$(find stories -name '*.md' | sort | head -n 1)
sed -i 's/^title: .*/title: Edited at the terminal/' "$f"
on_tty err sync
check_eq "a scan: every file walked, the one edited read and written" \
  "0|storysync: 1 updated|1" \
  "$rc|$out|$(lines | tail -n 1 | grep -cxE "storysync: $n files walked, 1 parsed, 1 written in [0-9]+\.[0-9] s, done\.")"

# a problem is a line of its own, the progress line erased before it
g=$(find stories -name '*.md' | sort | sed -n 2p)
printf -- '---\ntitle: [unclosed\n---\n' >"$g"
on_tty err sync
msg=$(ss check 2>&1 >/dev/null | grep -F "$g")
check_eq "the error is one whole line, as without a terminal" 1 \
  "$(lines | grep -cxF "$msg")"
check_eq "and the progress line ends the output" 1 \
  "$(lines | tail -n 1 | grep -c ', done\.$')"
printf -- '---\ntitle: Fixed\n---\n' >"$g"

# a run that stops (a guard: most files gone at once) does not say done
find stories -name '*.md' | sort | head -n 120 >"$O/away"
tar -cf "$O/away.tar" -T "$O/away" && xargs rm <"$O/away"
on_tty err sync
check_eq "a guarded run: exit 4, every row kept" "4|$n" \
  "$rc|$(q "SELECT count(*) FROM stories")"
check_eq "its progress line says it stopped, not done" 1 \
  "$(lines | grep -cE "^storysync: [0-9]+ files walked, [0-9]+ parsed, 0 written in [0-9]+\.[0-9] s, stopped\.$")"
check_eq "no line says done" 0 "$(lines | grep -c ', done\.$')"
check_eq "the guard's error is the last line" 1 \
  "$(lines | tail -n 1 | grep -c '^storysync: backlog .* is empty but the database has .*nothing written')"
tar -xf "$O/away.tar"

# ---- never for -q, --json or cron ----
on_tty err sync --full -q
check_eq "-q at a terminal: nothing" "0||" "$rc|$out|$err"
on_tty err --json sync --full
check_eq "--json at a terminal: no progress" "0|" "$rc|$err"
check_eq "and the JSON is whole" 1 \
  "$(python3 -c 'import json, sys; json.loads(sys.argv[1]); print(1)' "$out")"
on_tty out sync --full
check_eq "stderr not a terminal (cron, a pipe): no progress" "0|" "$rc|$err"
run ss sync --full
check_eq "neither a terminal: no progress" "0||" "$rc|$out|$err"

finish
