#!/bin/bash
# Issue 11: sync --backlog NAME (repeatable) detects and applies only the
# backlogs named; the others' changes wait for a later run, a move across
# backlogs waits until both are named, and nothing is deleted for a file
# that may have moved to a backlog not scanned. A twin.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 40 2>/dev/null
ss init >/dev/null && ss sync >/dev/null || not_ok "import"
total=$(q 'SELECT count(*) FROM stories')
title_of() { q "SELECT title FROM stories WHERE id = '$1'"; }
file_of() { q "SELECT path FROM stories WHERE id = '$1'"; }
pick() { # BACKLOG N: the N-th story of a backlog
  q "SELECT id FROM stories WHERE backlog = '$1' ORDER BY id LIMIT 1 OFFSET $2"
}
p1=$(pick platform 0) p2=$(pick platform 1) p3=$(pick platform 2)
m1=$(pick mobile 0) m2=$(pick mobile 1)

# a file edit and an API edit on each side of each backlog
sed -i "0,/^title:/s/^title: .*/title: File edit P/" "$(file_of "$p1")"
sed -i "0,/^title:/s/^title: .*/title: File edit M/" "$(file_of "$m1")"
q "UPDATE stories SET priority = 'low' WHERE id IN ('$p2', '$m2')"
run ss -v sync --backlog platform
check_rc "--backlog platform" 0
check_eq "platform's file edit reached its row" "File edit P" "$(title_of "$p1")"
check_eq "platform's API edit reached its file" "priority: low" \
  "$(grep '^priority:' "$(file_of "$p2")")"
check_eq "mobile's file edit waits" "yes" \
  "$([ "$(title_of "$m1")" != "File edit M" ] && echo yes)"
check_eq "mobile's API edit waits" "" "$(grep '^priority: low' "$(file_of "$m2")")"
run ss status
check_eq "status: mobile's two changes are still pending" "pending: 2 updated" \
  "$(grep '^pending' <<<"$out")"
check_eq "status: pending per backlog, only where something is" \
  "  mobile: 2 updated" "$(sed -n '/^pending/,/^conflicts/p' <<<"$out" | sed '1d;$d')"
# and as JSON and metrics: each backlog, each side
ss status --json | /usr/bin/python3 -c '
import json, sys
for b in json.load(sys.stdin)["pending"]["backlogs"]:
    print(b["backlog"], b["updated"], b["files"], b["rows"], b["rows_unsynced"])' \
  >"$O/bp"
check_eq "status --json: pending per backlog" "platform 0 0 0 0
mobile 2 1 1 1" "$(cat "$O/bp")"
ss metrics | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families as fams
for f in fams(sys.stdin.read()):
    if f.name == "storysync_backlog_pending_changes":
        for s in f.samples:
            print(s.labels["backlog"], s.labels["side"], int(s.value))' >"$O/bp"
check_eq "metrics: pending per backlog and side" "platform db 0
platform files 0
mobile db 1
mobile files 1" "$(cat "$O/bp")"
# the metrics file a run writes: the rows no run has taken yet, per backlog
# (platform's row, taken by the run, does not count though the mark stays)
echo "metrics_file: $O/ss.prom" >>.storysync.local.yml
q "UPDATE stories SET priority = 'high' WHERE id = '$p2'"
run ss sync --backlog platform
check_eq "metrics_file after a platform run: mobile's row waits" \
  "0|platform db 0|mobile db 1" \
  "$rc|$(grep '^storysync_backlog_pending_changes' "$O/ss.prom" |
    sed -E 's/.*backlog="([^"]*)",side="([^"]*)"} (.*)/\1 \2 \3/' | paste -sd '|')"
sed -i '/^metrics_file:/d' .storysync.local.yml
run ss sync --backlog mobile
check_rc "--backlog mobile" 0
check_eq "then mobile's file edit" "File edit M" "$(title_of "$m1")"
check_eq "and its API edit" "priority: low" "$(grep '^priority:' "$(file_of "$m2")")"
run ss sync
check_eq "a run of all then finds nothing" "0|" "$rc|$out$err"

# the API moves a story across backlogs: it waits for both
old=$(file_of "$p3")
q "UPDATE stories SET backlog = 'mobile' WHERE id = '$p3'"
check_eq "a pending move counts in the backlog it goes to" "  mobile: 1 moved" \
  "$(ss status | sed -n '/^pending/,/^conflicts/p' | sed '1d;$d')"
run ss sync --backlog platform
check_eq "a move to mobile waits while mobile is not named" "0|$old" \
  "$rc|$(ls "$old")"
run ss sync --backlog mobile
check_eq "nor while platform is not" "0|$old" "$rc|$(ls "$old")"
run ss sync --backlog platform --backlog mobile
check_rc "both named" 0
check_eq "then it moves" "no|stories/mobile/" \
  "$([ -e "$old" ] && echo yes || echo no)|$(file_of "$p3" | cut -c1-15)"

# a person moves a file across backlogs: nothing is deleted meanwhile
f=$(file_of "$m1")
dest=stories/platform/${f#stories/mobile/}
mkdir -p "$(dirname "$dest")" && mv "$f" "$dest"
run ss sync --backlog mobile
check_eq "its file gone from mobile: not deleted by a mobile run" \
  "0|$total" "$rc|$(q 'SELECT count(*) FROM stories')"
run ss sync --backlog platform
check_eq "found in platform: not taken while mobile is not named" \
  "0|$f" "$rc|$(file_of "$m1")"
run ss sync
check_eq "a run of all moves it" "0|$dest|platform" \
  "$rc|$(file_of "$m1")|$(q "SELECT backlog FROM stories WHERE id = '$m1'")"
check_eq "every story still there" "$total" "$(q 'SELECT count(*) FROM stories')"

# an API deletion is pending in the story's backlog, and told with it
p4=$(pick platform 3)
f4=$(file_of "$p4")
q "DELETE FROM stories WHERE id = '$p4'"
run ss status --json
check_eq "an API deletion pending in its backlog" "platform 1 1" \
  "$(/usr/bin/python3 -c '
import json, sys
for b in json.loads(sys.argv[1])["pending"]["backlogs"]:
    if b["deleted"] or b["rows_unsynced"]:
        print(b["backlog"], b["deleted"], b["rows_unsynced"])' "$out")"
run ss sync --json
check_eq "sync --json tells the deletion's backlog and file" \
  "deleted platform $f4" \
  "$(/usr/bin/python3 -c '
import json, sys
for c in json.loads(sys.argv[1])["changes"]:
    print(c["change"], c["backlog"], c["path"])' "$out")"

# a deletion waits for a run of every backlog
f=$(file_of "$p1")
rm "$f"
run ss sync --backlog platform
check_eq "a file deleted: the row stays for a platform run" "0|1" \
  "$rc|$(q "SELECT count(*) FROM stories WHERE id = '$p1'")"
run ss sync
check_eq "a run of all deletes it" "0|0" \
  "$rc|$(q "SELECT count(*) FROM stories WHERE id = '$p1'")"

# the oracle: a fresh --full import of the tree gives the same rows
rows() { # DIR: the rows of the tree in DIR
  (cd "$1" && q "SELECT id, backlog, status, epic, title, priority,
    points, assignees, labels, extra, body, path FROM stories ORDER BY id")
}
mkdir "$O/copy" && cp -r stories .storysync.yml "$O/copy/"
(cd "$O/copy" && ss -q init >/dev/null && ss -q sync --full)
check_eq "the rows are those of a fresh --full import" \
  "$(rows "$O/copy")" "$(rows .)"

# usage errors
run ss sync --backlog web
check_eq "an unknown backlog" \
  "2|storysync: --backlog: no backlog 'web' in $T/.storysync.yml" "$rc|$err"
run ss sync --git --backlog mobile
check_eq "not with --git" \
  "2|storysync: sync: --backlog and --git cannot be used together (a git run covers what the commit changed)" \
  "$rc|$err"
run ss sync --backlog
check_eq "--backlog needs a name" 2 "$rc"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
