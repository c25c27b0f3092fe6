#!/bin/bash
# Issue 25, a bad file every minute: under -q (cron, the unit, the hooks) a
# story's error is printed when it is new or changed, and again once a day
# while it stays, not on every run; without -q every run prints it; status
# and metrics always show it, and the exit status stays 1. A day is not
# waited for: the test moves the time the memory (DATABASE.told, one line
# an error after the time it was printed) holds back by 25 hours. The
# oracles: the file system, prometheus_client's parser.
. "$(dirname "$0")/lib.sh"

story() { # FILE ID TITLE
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n---\nbody\n' "$2" "$3" >"$1"
}
# files_in_error: the metric, read by the Prometheus client's own parser
files_in_error() {
  ss metrics | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as f
print(int(next(s.value for fam in f(sys.stdin.read()) for s in fam.samples
               if s.name == "storysync_files_in_error")))'
}
# rewind HOURS: every error in the memory was printed HOURS longer ago
rewind() {
  python3 - "$DB.told" "$1" <<'EOF'
import sys
path, hours = sys.argv[1], int(sys.argv[2])
out = []
for line in open(path):
    t, sep, rest = line.partition(" ")
    if t.isdigit():
        line = "%d %s" % (int(t) - hours * 3600 * 10**9, rest)
    out.append(line)
open(path, "w").write("".join(out))
EOF
}

story backlog/A-1-one.md A-1 One
story backlog/A-2-two.md A-2 Two
ss init -q && ss -q || not_ok "the first load"
printf -- '---\nid: A-2\ntitle: [unclosed\n---\n' >backlog/A-2-two.md
bad="backlog/A-2-two.md:3:8: 'title' must be a scalar"

run ss -q
check_eq "a new error: printed under -q, exit 1" "1|$bad" "$rc|$out$err"
run ss -q
check_eq "the same error on the next run: exit 1, silent" "1|" "$rc|$out$err"
run ss -q
check_eq "and the one after" "1|" "$rc|$out$err"
run ss status -q
check_eq "status still says it" "1|attention: 1 file in error" "$rc|$out"
check_eq "so does the metric" 1 "$(files_in_error)"
run ss
check_eq "without -q, every run prints it" "1|$bad" "$rc|$out$err"
run ss -q --full
check_eq "a --full run under -q: told already" "1|" "$rc|$out$err"

# changed: another text is another error
printf -- '---\nid: A-2\ntitle: Two\npoints: [\n---\n' >backlog/A-2-two.md
run ss -q
check_eq "a changed error: printed" 1 "$rc"
check_contains "the new text" "backlog/A-2-two.md:" "$err"
check_eq "once" 1 "$(grep -c . <<<"$err")"
bad2=$err
run ss -q
check_eq "then silent" "1|" "$rc|$out$err"
# a second broken file: only it is printed
printf -- '---\nid: A-1\ntitle: [one\n---\n' >backlog/A-1-one.md
run ss -q
check_eq "a second broken file: only the new one" \
  "1|backlog/A-1-one.md:3:8: 'title' must be a scalar" "$rc|$out$err"
check_eq "two in the metric" 2 "$(files_in_error)"

# a day later, both again, once
rewind 23
run ss -q
check_eq "23 hours on: still silent" "1|" "$rc|$out$err"
rewind 2
run ss -q
check_eq "a day on: both printed again" \
  "1|backlog/A-1-one.md:3:8: 'title' must be a scalar
$bad2" "$rc|$(LC_ALL=C sort <<<"$out$err")"
run ss -q
check_eq "and then silent for another day" "1|" "$rc|$out$err"

# fixed, then broken again: new again
story backlog/A-1-one.md A-1 One
run ss -q
check_eq "one fixed: silent about the other, exit 1" "1|" "$rc|$out$err"
printf -- '---\nid: A-1\ntitle: [one\n---\n' >backlog/A-1-one.md
run ss -q
check_eq "broken again: a new error, printed" \
  "1|backlog/A-1-one.md:3:8: 'title' must be a scalar" "$rc|$out$err"

# a memory that cannot be read tells again, never less
echo "not a line of times" >"$DB.told"
run ss -q
check_eq "an unreadable memory: every error printed" 2 \
  "$(grep -c 'must be a scalar\|A-2-two.md' <<<"$err")"
story backlog/A-1-one.md A-1 One
story backlog/A-2-two.md A-2 Two
run ss -q
check_eq "all fixed: exit 0, silent" "0|" "$rc|$out$err"
check_eq "the memory forgets what is gone" "" \
  "$(grep -v '^#' "$DB.told")"
finish
