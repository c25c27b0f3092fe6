#!/bin/bash
# A run holds the run lock; a checkout (git overwrites an ignored file)
# puts a link committed at the lock's name in its place. The next run must
# not remove that link and take a lock of its own beside the live run
# (two runs at once). Events, not sleeps: run A stops itself at a seam
# (STORYSYNC_TEST_STOP=walked) holding the lock. Oracles: /proc/locks,
# the file system, git, sqlite3/psql.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q . && mkdir backlog
for i in 1 2; do
  printf -- '---\nid: S-%s\ntitle: T%s\n---\nbody\n' $i $i >backlog/S-$i-t.md
done
ss init -q || not_ok "init"
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "the tree"
rr=$(run_record) && lock=${rr%.run}.lock
main=$(git symbolic-ref --short HEAD)
# a branch that commits a link at the lock's name
git checkout -q -b evil && rm -f "$lock" && mkdir "$O/outside" && ln -s "$O/outside/lock" "$lock" &&
  git add -f "$lock" && git commit -qm "a link at the lock" &&
  git checkout -q "$main" || not_ok "the branch"
ss -q 2>/dev/null # makes the lock file again

# run A: a person's deletion makes the scan stop at its seam, lock held
rm backlog/S-2-t.md
before_ss sync
STORYSYNC_TEST_STOP=walked "$STORYSYNC" sync >"$O/outA" 2>"$O/errA" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T" "$O"' EXIT
stopped_at $pid || not_ok "run A stops at its seam"
ino=$(stat -c %i "$lock")
check_eq "run A holds the lock" "yes" \
  "$(grep -qE "^[0-9]+: FLOCK +ADVISORY +WRITE +$pid .*:$ino " /proc/locks && echo yes)"
# the checkout overwrites the ignored lock file with the committed link
git checkout -q evil || not_ok "the checkout"
check_eq "git put its link at the lock's name" "yes" "$([ -L "$lock" ] && echo yes)"
q "UPDATE stories SET title = 'API while A runs' WHERE id = 'S-1'"
run ss -v sync
check_eq "run B, beside live run A: refused (75), the link left, nothing written by it" \
  "75|storysync: another storysync run holds $T/tree/$lock|yes|title: T1|" \
  "$rc|$out$err|$([ -L "$lock" ] && echo yes)|$(grep '^title:' backlog/S-1-t.md)|$(ls -A "$O/outside")"
kill -CONT $pid
wait $pid
rcA=$?
trap 'rm -rf "$T" "$O"' EXIT
check_eq "run A ends well" "0" "$rcA"
# no run live now: the link is removed, the API's edit written
q "UPDATE stories SET title = 'API after' WHERE id = 'S-1'"
run ss -q
check_eq "the next run: the link removed, the run ends well, nothing where it led" \
  "0|no|title: API after|" \
  "$rc|$([ -L "$lock" ] && echo yes || echo no)|$(grep '^title:' backlog/S-1-t.md)|$(ls -A "$O/outside")"
finish
