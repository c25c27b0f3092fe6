#!/bin/bash
# Issue 25: a file storysync may not write (a story, a folder, the run's
# lock) names the user it runs as, whose the directory or file is, and
# what to do; doing it makes the next run work. status's permission
# verdict looks at epic folders too, not only stage folders. The runs are
# as nobody (setpriv), on a tree and database nobody owns but for the
# directory each case takes away; oracles: the files (md5sum, stat) and
# the rows (sqlite3).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null ||
  ! id nobody >/dev/null 2>&1; then
  skip "needs root, setpriv and a user nobody"
  finish
  exit
fi
runs_as_nobody || not_ok "a copy of the program nobody can run"
chmod 755 "$T"

"$GEN_STORIES" tree --count 12 2>/dev/null
cd tree || exit 1
ss init >/dev/null && ss sync -q || not_ok "import"
chown -R nobody:nogroup "$T/tree"
# epic FILE: the epic folder of FILE
epic_of() { dirname "$1"; }
files=$(q "SELECT path FROM stories WHERE epic IS NOT NULL ORDER BY path")
f1=$(sed -n 1p <<<"$files")
e1=$(epic_of "$f1")
id1=$(q "SELECT id FROM stories WHERE path = '$f1'")

# ---- an epic folder that is root's ----
chown root:root "$e1" && chmod 755 "$e1"
sum=$(md5sum <"$f1")
q "UPDATE stories SET title = 'Retitled by the API' WHERE id = '$id1'"
run as_nobody "$STORYSYNC" sync
check_eq "a file in root's epic folder: the user, the owner, the fix" \
  "1|$f1: Permission denied: storysync runs as nobody, and $e1 is root's (mode 0755): run the sync as root (systemd: User=root), or give nobody the directory (chown -R nobody '$e1')" \
  "$rc|$err"
check_eq "the file and the API's row are as they were" \
  "$sum|Retitled by the API" "$(md5sum <"$f1")|$(q "SELECT title FROM stories WHERE id = '$id1'")"
run as_nobody "$STORYSYNC" status
check_eq "status as the sync's user: the permission verdict names the epic folder" \
  "7|permission: this user runs the sync but cannot write $T/tree/$e1" \
  "$rc|$(head -n 1 <<<"$out")"
check_contains "and says so below" \
  "permissions: this user cannot write $T/tree/$e1" "$out"
# what it said to do
chown -R nobody "$e1"
run as_nobody "$STORYSYNC" sync
check_eq "chown as it said: the next run writes it" "0|storysync: 1 updated|" \
  "$rc|$out|$err"
check_eq "the oracle (PyYAML): the file has the API's title" \
  "Retitled by the API" "$(python3 -c '
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]).read().split("---")[1])["title"])' "$f1")"
run as_nobody "$STORYSYNC" status
check_eq "and status is healthy again" "0|healthy" \
  "$rc|$(head -n 1 <<<"$out" | cut -d: -f1)"

# ---- a move out of a folder that is root's ----
f2=$(q "SELECT path FROM stories WHERE epic IS NOT NULL AND
  path NOT LIKE '$e1/%' ORDER BY path LIMIT 1")
e2=$(epic_of "$f2")
id2=$(q "SELECT id FROM stories WHERE path = '$f2'")
from=$(q "SELECT status FROM stories WHERE id = '$id2'")
to=$(q "SELECT status FROM stories WHERE status <> '$from' LIMIT 1")
chown root:root "$e2"
q "UPDATE stories SET status = '$to' WHERE id = '$id2'"
run as_nobody "$STORYSYNC" sync
check_eq "a move out of root's folder: that folder named, and the fix" \
  "1|$f2: Permission denied: storysync runs as nobody, and $e2 is root's (mode 0755): run the sync as root (systemd: User=root), or give nobody the directory (chown -R nobody '$e2')" \
  "$rc|$err"
check_eq "the file is where it was" 1 "$([ -f "$f2" ] && echo 1)"
chown -R nobody "$e2"
run as_nobody "$STORYSYNC" sync
check_eq "given back: the move is made" "0|storysync: 1 moved|no" \
  "$rc|$out|$([ -e "$f2" ] && echo yes || echo no)"

# ---- a folder that is nobody's, but not writable ----
f3=$(q "SELECT path FROM stories WHERE epic IS NOT NULL AND
  path NOT LIKE '$e1/%' AND path NOT LIKE '$e2/%' ORDER BY path LIMIT 1")
e3=$(epic_of "$f3")
id3=$(q "SELECT id FROM stories WHERE path = '$f3'")
chmod 555 "$e3"
q "UPDATE stories SET priority = 'low' WHERE id = '$id3'"
run as_nobody "$STORYSYNC" sync
check_eq "its own folder, read-only: chmod, not chown" \
  "1|$f3: Permission denied: storysync runs as nobody, who owns $e3 but may not write it (mode 0555): chmod u+rwx '$e3'" \
  "$rc|$err"
chmod u+rwx "$e3"
run as_nobody "$STORYSYNC" sync
check_eq "chmod as it said: written" "0|storysync: 1 updated" "$rc|$out"

# ---- a stage folder nobody may not read: the run stops, says why ----
stage=$(dirname "$e3")
chown root:root "$stage" && chmod 700 "$stage"
before=$(db_digest)
run as_nobody "$STORYSYNC" sync
check_eq "an unreadable stage folder: exit 3, the user, the owner, the fix" \
  "3|storysync: $stage: Permission denied: storysync runs as nobody, and $stage is root's (mode 0700): run the sync as root (systemd: User=root), or give nobody the directory (chown -R nobody '$stage')" \
  "$rc|$err"
check_eq "nothing written" "$before" "$(db_digest)"
chown -R nobody "$stage" && chmod 755 "$stage"
run as_nobody "$STORYSYNC" sync
check_eq "given back: the run is clean" "0|" "$rc|$err"

# ---- the run's lock file left root's (a run as root): the same words ----
lock=$PWD/$(find .storysync -name "*.lock" | head -n 1)
check_eq "a lock file is there" 1 "$([ -f "$lock" ] && echo 1)"
chown root:root "$lock" && chmod 644 "$lock"
before=$(db_digest)
run as_nobody "$STORYSYNC" sync
check_eq "root's lock file: exit 3, the user, the owner, the fix" \
  "3|storysync: $lock: Permission denied: storysync runs as nobody, and $lock is root's (mode 0644): run the sync as root (systemd: User=root), or give nobody the file (chown nobody '$lock')" \
  "$rc|$err"
check_eq "nothing written" "$before" "$(db_digest)"
chown nobody "$lock"
run as_nobody "$STORYSYNC" sync
check_eq "given back: the run is clean" "0|" "$rc|$err"

# ---- a first load as nobody of story files that are root's (readable):
# the scan asks O_NOATIME, which only a file's owner may; refused, it
# reads them all as before ----
cd "$T" || exit 1
"$GEN_STORIES" load2 --count 40 2>/dev/null
chown -R nobody:nogroup load2
find load2/stories -name '*.md' -exec chown root:root {} + -exec chmod 644 {} +
cd load2 || exit 1
as_nobody "$STORYSYNC" init >/dev/null 2>&1 || not_ok "init as nobody"
run as_nobody "$STORYSYNC" sync -q
# the oracle: each file's name starts with its id (gen-stories)
want=$(find stories -name '*.md' -printf '%f\n' |
  grep -oE '^[A-Z]+-[A-Z]*[0-9]+' | LC_ALL=C sort)
check_eq "root's files, read by nobody: every story imported" "0|$want" \
  "$rc|$(sqlite3 -batch .storysync/stories.db 'SELECT id FROM stories ORDER BY id')"

# ---- a first load with an epic folder nobody may list but not search
# (r--): the walk lstats its files no more (readdir's type is enough),
# and the read's failure is the walk's, as before: exit 3, nothing in ----
cd "$T" || exit 1
"$GEN_STORIES" load3 --count 40 2>/dev/null
chown -R nobody:nogroup load3
cd load3 || exit 1
as_nobody "$STORYSYNC" init >/dev/null 2>&1 || not_ok "init as nobody"
f4=$(find stories -mindepth 4 -name '*.md' | sort | head -n 1)
e4=$(dirname "$f4")
chmod 0444 "$e4"
run as_nobody "$STORYSYNC" sync
check_eq "an epic folder not searchable: exit 3, the walk's words" \
  "3|storysync: $f4: Permission denied" "$rc|$err"
check_eq "nothing imported" 0 \
  "$(sqlite3 -batch .storysync/stories.db 'SELECT count(*) FROM stories')"
chmod 0755 "$e4"

finish
