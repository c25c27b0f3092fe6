#!/bin/bash
# Issue 19: the write journal's rewrite after a commit is durable. A run
# that commits keeps the lines of the stories it did not commit (a
# --backlog run, the others' writes of a killed run) by writing them to
# a temporary file renamed over the journal. Without an fsync of that
# file before the rename, a power loss on a file system without ext4's
# auto_da_alloc may keep the rename and lose the lines: the next run
# would take the killed run's writes for a person's edits. The oracle is
# strace's record of the calls (the file's fsync ends before the rename
# begins, the directory's fsync begins after it ends), and the kept line
# still doing its work: the next run takes the other backlog's write as
# storysync's (sqlite3, psql on a server: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
# the fsyncs are what this tests
unset STORYSYNC_TEST_NOSYNC
git_home

mkdir -p stories/web/backlog stories/api/backlog
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  web: stories/web
  api: stories/api
EOF
W=stories/web/backlog/S-1-one.md
A=stories/api/backlog/A-1-other.md
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$W
printf -- '---\nid: A-1\ntitle: Other\n---\nbody\n' >$A
ss init -q || not_ok "init"
echo .storysync/ >.gitignore
git init -q . && git add -A && git commit -qm init && ss -q ||
  not_ok "the tree"
# a killed run's writes in both backlogs, nothing committed
q "UPDATE stories SET title = 'API' WHERE id IN ('S-1', 'A-1')"
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "killed after both writes" "137|title: API|title: API" \
  "$rc|$(grep '^title' $W)|$(grep '^title' $A)"
# a --backlog web run commits S-1 and keeps A-1's lines
run env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
  strace -f -y -o "$O/trace" \
  -e trace=fsync,fdatasync,rename,renameat,renameat2 \
  "$STORYSYNC" --backlog web
check_eq "the --backlog web run" 0 "$rc"
check_eq "the journal's rewrite: fsync, rename, fsync of its directory" ok \
  "$(/usr/bin/python3 - "$O/trace" <<'EOF'
import os, re, sys
sys.path.insert(0, os.environ["SOURCE_ROOT"] + "/tests/cli")
from strace_calls import calls as read_calls
calls = [(c, a, s, e) for c, a, rc, s, e in read_calls(sys.argv[1]) if rc == 0]
new = r"\.writes\.new"
renames = [c for c in calls if c[0].startswith("rename")
           and re.search(new + r'"', c[1])]
if len(renames) != 1:
    sys.exit(print(f"{len(renames)} renames of the journal's rewrite"))
_, _, rstart, rend = renames[0]
if not any(c[0] == "fsync" and re.search(new + ">", c[1]) and c[3] < rstart
           for c in calls):
    sys.exit(print("the rewrite is not fsynced before its rename"))
if not any(c[0] == "fsync" and re.search(r"/\.storysync>", c[1])
           and c[2] > rend for c in calls):
    sys.exit(print("the journal's directory is not fsynced after the rename"))
print("ok")
EOF
)"
# the line kept still says A-1's file holds storysync's write: the API's
# title, no conflict, the file as written
run ss
check_eq "the next run takes A-1's write as storysync's" "0|API|title: API|0" \
  "$rc|$(q "SELECT title FROM stories WHERE id = 'A-1'")|$(grep '^title' \
    $A)|$(q "SELECT count(*) FROM sync_conflicts")"

finish
