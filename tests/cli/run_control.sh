#!/bin/bash
# One run at a time (the lock), the guards, usage and exit codes.
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 40 2>/dev/null
ss init >/dev/null
run ss sync
check_rc "import" 0

# the lock: a kernel lock on a separate file
lock=.storysync/stories.db.lock
hold_lock "$lock" || not_ok "hold the lock"
run ss sync
check_eq "a second run exits 75 at once, quietly" "75|" "$rc|$out$err"
start=$(date +%s%N)
run ss sync --wait=1
elapsed=$((($(date +%s%N) - start) / 1000000))
check_rc "--wait=1 gives up with 75" 75
# a busy machine makes it longer, never shorter
[ "$elapsed" -ge 1000 ] && ok "--wait=1 waited a second ($elapsed ms)" ||
  not_ok "--wait=1 waited a second" "waited $elapsed ms"
"$STORYSYNC" sync --wait >"$O/out" 2>&1 &
waiter=$!
wait_blocked "$lock" || not_ok "--wait waits in the lock"
check_eq "--wait is still waiting while the lock is held" yes \
  "$(kill -0 "$waiter" 2>/dev/null && echo yes)"
release_lock
wait "$waiter"
rc=$?
check_eq "--wait waits for the holder to finish, then syncs" "0|" \
  "$rc|$(cat "$O/out")"
run ss -v sync
check_rc "the lock is free again" 0
hold_lock "$lock" || not_ok "hold the lock again"
run ss sync
check_rc "held again" 75
kill -9 "$holder"
wait "$holder" 2>/dev/null
run ss sync
check_rc "a holder killed with -9 leaves no stale lock" 0

# guard: mass deletion
files=$(find stories -name '*.md' | sort | awk 'NR % 8 != 1' | head -n 25)
mkdir -p ../aside.$$ && cp -r stories ../aside.$$/
rm $files
before=$(db_digest)
run ss sync
check_rc "deleting 25 of 40 stories is refused" 4
check_eq "with a reason on stderr" \
  "storysync: this run would delete 25 of 40 stories (more than 50%); nothing written (--force to sync anyway)" "$err"
check_eq "nothing was written" "$before" "$(db_digest)"
run ss sync --force
check_rc "--force goes on" 0
check_eq "15 rows left" 15 "$(q 'SELECT count(*) FROM stories')"
rm -rf stories && cp -r ../aside.$$/stories . && rm -rf ../aside.$$
run ss sync
check_eq "the files come back as stories" "0|40" "$rc|$(q 'SELECT count(*) FROM stories')"

# guard: a backlog directory missing (an unmounted disk)
mobile=$(q "SELECT count(*) FROM stories WHERE backlog='mobile'")
mv stories/mobile mobile.away
before=$(db_digest)
run ss sync
check_rc "a missing backlog directory is refused" 4
check_eq "naming the backlog" \
  "storysync: backlog 'mobile' (stories/mobile) is missing but the database has $mobile of its stories; nothing written (--force to sync anyway)" "$err"
check_eq "nothing was written" "$before" "$(db_digest)"
mkdir -p stories/mobile
run ss sync
check_rc "an empty backlog directory is refused too" 4
check_contains "saying empty" "backlog 'mobile' (stories/mobile) is empty" "$err"
rmdir stories/mobile && mv mobile.away stories/mobile
run ss sync
check_eq "back in place: nothing to do" "0|" "$rc|$out$err"

# usage and configuration errors exit 2
run ss bogus
check_eq "unknown command" "2|storysync: unknown command 'bogus' (see storysync help)" "$rc|$err"
run ss --bogus
check_eq "an unknown option where sync is implied: named among the global ones" \
  "2|storysync: unknown option '--bogus' (see storysync help)" "$rc|$err"
run ss sync --bogus
check_eq "after the word sync: sync's" \
  "2|storysync: sync: unknown option '--bogus' (see storysync help sync)" "$rc|$err"
run ss --wait=soon
check_eq "bad --wait" "2|storysync: --wait takes a number of seconds (1-86400), not 'soon'" "$rc|$err"
run ss -C /nonexistent
check_eq "bad -C" "2|storysync: /nonexistent: No such file or directory" "$rc|$err"
mkdir -p elsewhere && cd elsewhere
run ss -C / sync
check_rc "no configuration found" 2
check_contains "says so" "no .storysync.yml found" "$err"
cd "$T"
run ss init -q
check_eq "init again, quietly: the output options work after the command" "0|" "$rc|$out$err"
run ss --version
check_contains "--version" "storysync " "$out"
run ss --full
check_eq "the default command takes sync's options" "0|" "$rc|$out$err"
finish
