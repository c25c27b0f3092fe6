#!/bin/bash
# Issue 11: sync --backlog NAME (repeatable) detects and applies only the
# backlogs named; the others' changes wait for a later run, a move across
# backlogs waits until both are named, and nothing is deleted for a file
# that may have moved to a backlog not scanned.
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
run ss sync --backlog mobile
check_rc "--backlog mobile" 0
check_eq "then mobile's file edit" "File edit M" "$(title_of "$m1")"
check_eq "and its API edit" "priority: low" "$(grep '^priority:' "$(file_of "$m2")")"
run ss sync
check_eq "a run of all then finds nothing" "0|" "$rc|$out$err"

# the API moves a story across backlogs: it waits for both
old=$(file_of "$p3")
q "UPDATE stories SET backlog = 'mobile' WHERE id = '$p3'"
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
rows() {
  sqlite3 -batch "$1" "SELECT id, backlog, status, epic, title, priority,
    points, assignees, labels, extra, body, path FROM stories ORDER BY id"
}
mkdir "$O/copy" && cp -r stories .storysync.yml "$O/copy/"
(cd "$O/copy" && ss -q init >/dev/null && ss -q sync --full)
check_eq "the rows are those of a fresh --full import" \
  "$(rows "$O/copy/$DB")" "$(rows "$DB")"

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
