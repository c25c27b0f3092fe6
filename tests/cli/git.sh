#!/bin/bash
# Git: the real hooks, installed by install-hooks, keep the DB in step after
# commits, merges, rebases and checkouts without ever slowing git down;
# sync --git copes with unusual repositories; history --backfill records
# the stage moves of the git log once.
. "$(dirname "$0")/lib.sh"

with_hooks

nruns() { sqlite3 -batch "${1:-$DB}" 'SELECT count(*) FROM sync_runs' 2>/dev/null || echo 0; }

# wait_run N [DB]: waits (60 s at most) until the hook's background run has
# committed a row past N and let go of the run lock.
wait_run() {
  local n=$1 db=${2:-$DB} i
  for ((i = 0; i < 1200; i++)); do
    if [ "$(nruns "$db")" -gt "$n" ]; then
      flock -w 60 "$db.lock" true
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# check_run DESC N [DB]: the hook ran a git sync that succeeded.
check_run() {
  if wait_run "$2" "${3:-$DB}"; then
    check_eq "$1" "git|0" "$(sqlite3 -batch "${3:-$DB}" \
      'SELECT mode, exit_code FROM sync_runs ORDER BY id DESC LIMIT 1')"
  else
    not_ok "$1" "no new sync run within 60 s" \
      "log: $(cat "$(git rev-parse --git-path storysync.log)" 2>/dev/null)"
  fi
}

title_of() { q "SELECT title FROM stories WHERE id='$1'"; }
last_commit() { q "SELECT value FROM sync_meta WHERE key='git.last_commit'"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# A repository of 200 stories, the DB kept out of git.
"$GEN_STORIES" repo --count 200 --git 2>/dev/null
cd repo || exit 1
R=$(pwd -P)
echo .storysync/ >.gitignore
git add .gitignore && git commit -qm "ignore the database"
ss -q init && ss sync -q

run ss install-hooks
check_rc "install-hooks succeeds" 0
check_eq "one line per hook" "$R/.git/hooks/post-commit: installed
$R/.git/hooks/post-merge: installed
$R/.git/hooks/post-checkout: installed
$R/.git/hooks/post-rewrite: installed" "$out"
run ss install-hooks --json
check_eq "again: nothing to do, said as JSON" \
  '{"exit":0,"uninstall":false,"hooks_dir":"'"$R"'/.git/hooks","tree":".storysync.yml","error":null,"hooks":[{"name":"post-commit","action":"unchanged"},{"name":"post-merge","action":"unchanged"},{"name":"post-checkout","action":"unchanged"},{"name":"post-rewrite","action":"unchanged"}]}' \
  "$out"
run ss install-hooks -q
check_eq "-q: quiet" "0|" "$rc|$out$err"

# edit + commit
f=$(find stories -name '*.md' | sort | head -n 1)
id=$(q "SELECT id FROM stories WHERE path='$f'")
n=$(nruns)
sed -i 's/^title: .*/title: Edited in git/' "$f"
git commit -qam "edit $id"
check_run "post-commit runs a git sync" "$n"
check_eq "the commit reached the DB" "Edited in git" "$(title_of "$id")"
check_eq "HEAD is the last synced commit" "$(git rev-parse HEAD)" "$(last_commit)"

# git mv to another stage
g=$(find stories/platform/backlog -name '*.md' | sort | head -n 1)
gid=$(q "SELECT id FROM stories WHERE path='$g'")
dest=${g/\/backlog\//\/active\/}
mkdir -p "$(dirname "$dest")"
n=$(nruns)
git mv "$g" "$dest"
GIT_AUTHOR_NAME="Bo Mover" GIT_AUTHOR_EMAIL=bo@example.org \
  git commit -qm "start $gid"
check_run "a git mv commit syncs" "$n"
check_eq "the move is a git status change with its commit and author" \
  "backlog|active|git|$(git rev-parse HEAD)|Bo Mover <bo@example.org>" \
  "$(q "SELECT from_status, to_status, origin, commit_id, author FROM status_history WHERE story_id='$gid' AND from_status IS NOT NULL")"
check_eq "the row follows the file" "active|$dest" \
  "$(q "SELECT status, path FROM stories WHERE id='$gid'")"
# storysync rewrote the status key of the moved file; keep the tree clean
n=$(nruns)
git commit -qam "status key"
wait_run "$n"

# pull by merge, and pull --rebase (which fires only post-rewrite)
cd "$T" && git clone -q repo clone && cd clone || exit 1
ss -q init && ss sync -q && ss install-hooks -q
clone_db=$T/clone/$DB
origin_edit() { # FILE TITLE: commits an edit in the origin
  local n
  n=$(nruns "$T/repo/$DB")
  (cd "$T/repo" && sed -i "s/^title: .*/title: $2/" "$1" &&
    git commit -qam "$2")
  wait_run "$n" "$T/repo/$DB"
}
local_edit() { # FILE TITLE: commits an edit here and waits for its sync
  local n
  n=$(nruns)
  sed -i "s/^title: .*/title: $2/" "$1"
  git commit -qam "$2"
  wait_run "$n"
}
p1=$(find stories/mobile -name '*.md' | sort | sed -n 1p)
p2=$(find stories/mobile -name '*.md' | sort | sed -n 2p)
p3=$(find stories/mobile -name '*.md' | sort | sed -n 3p)
p4=$(find stories/mobile -name '*.md' | sort | sed -n 4p)
id1=$(q "SELECT id FROM stories WHERE path='$p1'")
id3=$(q "SELECT id FROM stories WHERE path='$p3'")
origin_edit "$p1" "Merged from origin"
local_edit "$p2" "Local before merge"
n=$(nruns)
run git pull -q --no-rebase --no-edit
check_rc "git pull --no-rebase merges" 0
check_eq "it made a merge commit" 2 \
  "$(git rev-list --parents -n 1 HEAD | wc -w | awk '{print $1 - 1}')"
check_run "post-merge runs a git sync" "$n"
check_eq "the merged edit reached the clone's DB" "Merged from origin" \
  "$(title_of "$id1")"
origin_edit "$p3" "Rebased from origin"
local_edit "$p4" "Local before rebase"
n=$(nruns)
# the hooks' runs done when git returns: a second run cannot come late
STORYSYNC_HOOK_FOREGROUND=1 run git pull -q --rebase
check_rc "git pull --rebase succeeds" 0
check_run "post-rewrite runs a git sync" "$n"
check_eq "the rebased-in edit reached the clone's DB" "Rebased from origin" \
  "$(title_of "$id3")"
check_eq "one sync for the whole rebase" $((n + 1)) "$(nruns)"
check_eq "the clone synced up to HEAD" "$(git rev-parse HEAD)" "$(last_commit)"

# a held DB write lock does not slow a commit down
cd "$R" || exit 1
h=$(find stories -name '*.md' | sort | sed -n 5p)
hid=$(q "SELECT id FROM stories WHERE path='$h'")
# the API holds the write lock until told (its stdin closes)
coproc HOLD { python3 -c 'import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("INSERT INTO sync_meta(key, value) VALUES (\x27held\x27, 1)")
print("held", flush=True)
sys.stdin.read()
con.execute("ROLLBACK")' "$DB"; }
holder=$HOLD_PID
read -r held <&"${HOLD[0]}"
check_eq "the API holds the write lock" held "$held"
sed -i 's/^title: .*/title: Committed while locked/' "$h"
timeout 60 git commit -qam "edit while locked"
rc=$?
check_eq "a held DB lock does not hold git commit up: it returned while held" \
  "0|yes" "$rc|$(kill -0 "$holder" 2>/dev/null && echo yes)"
exec {HOLD[1]}>&-
wait "$holder"
run ss sync --git --wait=20
check_rc "the next run succeeds" 0
check_eq "and has caught up" "Committed while locked|$(git rev-parse HEAD)" \
  "$(title_of "$hid")|$(last_commit)"

# commit from a subdirectory
k=$(find stories/platform -name '*.md' | sort | sed -n 7p)
kid=$(q "SELECT id FROM stories WHERE path='$k'")
n=$(nruns)
(cd stories/platform && sed -i 's/^title: .*/title: From a subdirectory/' \
  "${k#stories/platform/}" && git commit -qam "from a subdirectory")
check_run "a commit from a subdirectory syncs" "$n"
check_eq "its edit reached the DB" "From a subdirectory" "$(title_of "$kid")"

# GIT_DIR and GIT_WORK_TREE set, started outside the work tree
n=$(nruns)
sed -i 's/^title: .*/title: With GIT_DIR/' "$k"
(cd "$T" && GIT_DIR=$R/.git GIT_WORK_TREE=$R git commit -qam "with GIT_DIR")
check_run "a commit with GIT_DIR and GIT_WORK_TREE syncs" "$n"
check_eq "its edit reached the DB" "With GIT_DIR" "$(title_of "$kid")"
sed -i 's/^title: .*/title: With GIT_DIR again/' "$k"
git -c core.hooksPath=/nonexistent commit -qam "no hook"
cd "$T" || exit 1
GIT_DIR=$R/.git GIT_WORK_TREE=$R run ss -c "$R/.storysync.yml" sync --git
cd "$R" || exit 1
check_eq "sync --git with GIT_DIR and GIT_WORK_TREE, from outside" \
  "0|With GIT_DIR again" "$rc|$(title_of "$kid")"

# detached HEAD and back
n=$(nruns)
git checkout -q --detach HEAD~1
check_run "checking out a detached HEAD syncs" "$n"
check_eq "the DB follows the checkout" "With GIT_DIR|$(git rev-parse HEAD)" \
  "$(title_of "$kid")|$(last_commit)"
n=$(nruns)
git checkout -q main
check_run "checking the branch out again syncs" "$n"
check_eq "the DB follows it back" "With GIT_DIR again|$(git rev-parse HEAD)" \
  "$(title_of "$kid")|$(last_commit)"

# reset to an older commit: no hook fires; the next run falls back
git reset -q --hard HEAD~1
run ss sync --git -v
check_rc "sync --git after a reset succeeds" 0
check_contains "it falls back to a scan and says why" \
  "storysync: falling back to a scan: the last synced commit is no longer in the history (rebase or reset)" \
  "$err"
check_eq "the DB is back at the reset commit" \
  "With GIT_DIR|$(git rev-parse HEAD)" "$(title_of "$kid")|$(last_commit)"

# a linked worktree has its own configuration root and database, which
# init makes there: the hook's run on git worktree add says so
git worktree add -q ../wt -b side
cd ../wt || exit 1
wt_log=$(git rev-parse --git-path storysync.log)
said_init() { grep -qF "no database at $T/wt/$DB (storysync init creates one" "$wt_log"; }
if wait_for said_init; then ok "git worktree add: the hook's run says to run init"; else
  not_ok "git worktree add: the hook's run says to run init" "log: $(cat "$wt_log")"; fi
check_eq "and makes no database" no "$([ -e .storysync ] && echo yes || echo no)"
: >"$wt_log"
ss init -q || not_ok "init in the worktree"
sed -i 's/^title: .*/title: In the worktree/' "$k"
git commit -qam "in the worktree"
check_run "a commit in the worktree syncs its database" 0
check_eq "into its own database" 200 "$(q 'SELECT count(*) FROM stories')"
check_eq "its edit reached the worktree's DB" "In the worktree" \
  "$(title_of "$kid")"
check_eq "not the main one" "With GIT_DIR" \
  "$(sqlite3 -batch "$R/$DB" "SELECT title FROM stories WHERE id='$kid'")"
sed -i 's/^title: .*/title: In the worktree again/' "$k"
git -c core.hooksPath=/nonexistent commit -qam "no hook"
run ss sync --git -v
check_eq "sync --git in a linked worktree" "0|In the worktree again" \
  "$rc|$(title_of "$kid")"
check_contains "by diff, not a scan" "scanned 1 story file:" "$err"

# shallow clone
cd "$T" && git clone -q --depth 1 "file://$R" shallow && cd shallow || exit 1
ss init -q && ss sync -q
STORYSYNC_RUNNING=1 git commit -q --allow-empty -m "past the last sync"
run ss sync --git -v
check_rc "sync --git in a shallow clone succeeds" 0
check_contains "it falls back to a scan and says so" \
  "storysync: falling back to a scan: a shallow clone" "$err"

# unborn HEAD
mkdir "$T/unborn" && cd "$T/unborn" || exit 1
"$GEN_STORIES" . --count 20 2>/dev/null
git init -q
ss init -q
run ss sync --git -v
check_rc "sync --git on an unborn HEAD succeeds" 0
check_contains "it falls back to a scan" \
  "storysync: falling back to a scan: HEAD is unborn" "$err"
check_eq "and imports the tree" 20 "$(q 'SELECT count(*) FROM stories')"

# bare repository, and no repository
cd "$T" && git clone -q --bare repo bare.git
cp repo/.storysync.yml bare.git/
run ss -C bare.git sync --git
check_eq "sync --git in a bare repository, no database" \
  "2|storysync: $T/bare.git/.storysync.yml:" "$rc|$(cut -d: -f1-2 <<<"$err"):"
ss -C bare.git init -q
run ss -C bare.git sync --git
check_eq "sync --git in a bare repository" \
  "2|storysync: bare repository: nothing to sync" "$rc|$err"
run ss -C bare.git install-hooks
check_eq "install-hooks in a bare repository" \
  "2|storysync: bare repository: nothing to sync" "$rc|$err"
mkdir norepo
run ss -C norepo install-hooks
check_eq "install-hooks outside a repository" \
  "2|storysync: $(cd norepo && pwd -P): not a git repository" "$rc|$err"

# backfill: a history of stage moves, none of them seen by a sync
mkdir "$T/hist" && cd "$T/hist" || exit 1
"$GEN_STORIES" . --count 30 --backlogs platform 2>/dev/null
echo .storysync/ >.gitignore
git init -q && git add -A && git commit -qm stories
commit_as() { # NAME DATE MESSAGE
  GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL="${1%% *}@example.org" \
    GIT_AUTHOR_DATE=$2 git commit -qm "$3"
  git rev-parse HEAD
}
in_stage() { find "stories/platform/$1" -name '*.md' | sort | sed -n "${2}p"; }
moveto() { # FILE STAGE: the file's path in another stage
  local rest=${1#stories/platform/*/}
  mkdir -p "$(dirname "stories/platform/$2/$rest")"
  echo "stories/platform/$2/$rest"
}
a=$(in_stage backlog 1); aid=$(basename "$a" | sed -E 's/^([A-Z]+-[0-9]+)-.*/\1/')
b=$(in_stage backlog 2); bid=$(basename "$b" | sed -E 's/^([A-Z]+-[0-9]+)-.*/\1/')
c=$(in_stage active 1); cid=$(basename "$c" | sed -E 's/^([A-Z]+-[0-9]+)-.*/\1/')
a2=$(moveto "$a" active); git mv "$a" "$a2"
b2=$(moveto "$b" refinements); git mv "$b" "$b2"
c1=$(commit_as "Cy One" "2026-01-02T10:00:00Z" "start a, refine b")
a3=$(moveto "$a2" completed); git mv "$a2" "$a3"
c2=$(commit_as "Di Two" "2026-01-03T10:00:00Z" "finish a")
# moved and edited in one commit: a delete and an add of one id
c2p=$(moveto "$c" completed)
sed 's/^title: .*/title: Moved and edited/' "$c" >"$c2p"
git rm -q "$c" && git add "$c2p"
c3=$(commit_as "Ed Three" "2026-01-04T10:00:00Z" "finish c, edited")
# an epic change within a stage is no status change
e=$(in_stage completed 1)
ee="stories/platform/completed/elsewhere/$(basename "$e")"
mkdir -p "$(dirname "$ee")" && git mv "$e" "$ee"
commit_as "Fay Four" "2026-01-05T10:00:00Z" "epic change" >/dev/null
ss -q init && ss sync -q
run ss history --backfill
check_eq "backfill says how many it recorded" \
  "0|storysync: 4 status changes recorded" "$rc|$out$err"
check_eq "each move with its commit and author, oldest first" \
  "$aid|backlog|active|$c1|Cy One <Cy@example.org>|2026-01-02
$bid|backlog|refinement|$c1|Cy One <Cy@example.org>|2026-01-02
$aid|active|completed|$c2|Di Two <Di@example.org>|2026-01-03
$cid|active|completed|$c3|Ed Three <Ed@example.org>|2026-01-04" \
  "$(q "SELECT story_id, from_status, to_status, commit_id, author, substr(changed_at, 1, 10) FROM status_history WHERE origin='git' ORDER BY id")"
before=$(db_digest)
run ss history --backfill
check_eq "running it again adds nothing" \
  "0|storysync: 0 status changes recorded" "$rc|$out$err"
check_eq "and writes nothing" "$before" "$(db_digest)"
run ss history --backfill --json
check_eq "--json" '{"exit":0,"commits":5,"found":4,"recorded":0,"corrected":0,"error":null}' \
  "$out"
run ss history
check_eq "history needs an id or --backfill" \
  "2|storysync: history: which story? (history ID shows one, history --backfill records them from the git log)" "$rc|$err"
# a move a --git sync already recorded is not recorded twice
ss install-hooks -q
d=$(in_stage refinements 1); did=$(basename "$d" | sed -E 's/^([A-Z]+-[0-9]+)-.*/\1/')
d2=$(moveto "$d" backlog)
n=$(nruns)
git mv "$d" "$d2" && git commit -qm "plan d"
check_run "the hook records the move" "$n"
run ss history --backfill
check_eq "backfill finds it already there" \
  "0|storysync: 0 status changes recorded|1" \
  "$rc|$out$err|$(q "SELECT count(*) FROM status_history WHERE story_id='$did' AND origin='git'")"
exec 9>"$DB.lock" && flock 9
run ss history --backfill
check_eq "backfill with the run lock held" \
  "75|storysync: another storysync run holds $T/hist/$DB.lock" "$rc|$err"
exec 9>&-

# install and uninstall around an existing hook, which keeps running
mkdir "$T/chain" && cd "$T/chain" || exit 1
"$GEN_STORIES" . --count 10 --git 2>/dev/null
echo .storysync/ >.gitignore && git add .gitignore && git commit -qm ignore
ss -q init && ss sync -q
printf '#!/bin/sh\necho "ran $*" >>"%s/chained.log"\n' "$T" >.git/hooks/post-commit
chmod +x .git/hooks/post-commit
original=$(cat .git/hooks/post-commit)
C=$(pwd -P)
run ss install-hooks
check_contains "the existing hook is chained" \
  "$C/.git/hooks/post-commit: installed, chaining the existing hook" "$out"
c=$(find stories -name '*.md' | sort | head -n 1)
cid=$(q "SELECT id FROM stories WHERE path='$c'")
n=$(nruns)
sed -i 's/^title: .*/title: Chained/' "$c" && git commit -qam chained
check_run "storysync's hook runs" "$n"
check_eq "and the chained one too" "ran " "$(cat "$T/chained.log")"
check_eq "the edit reached the DB" "Chained" "$(title_of "$cid")"
run ss install-hooks --uninstall
check_eq "uninstall restores the chained hook" \
  "0|$C/.git/hooks/post-commit: removed, previous hook restored
$C/.git/hooks/post-merge: removed
$C/.git/hooks/post-checkout: removed
$C/.git/hooks/post-rewrite: removed" "$rc|$out"
check_eq "as it was" "$original" "$(cat .git/hooks/post-commit)"
check_eq "and nothing of storysync's is left" "post-commit" \
  "$(ls .git/hooks | grep -v '\.sample$')"
n=$(nruns)
# in the foreground, a hook of storysync's would have run when git returns
sed -i 's/^title: .*/title: Unhooked/' "$c" &&
  STORYSYNC_HOOK_FOREGROUND=1 git commit -qam unhooked
check_eq "the restored hook still runs, storysync's does not" \
  "ran |ran |$n" "$(tr '\n' '|' <"$T/chained.log")$(nruns)"

# core.hooksPath
git config core.hooksPath myhooks
run ss install-hooks
check_contains "install-hooks honours core.hooksPath" \
  "$C/myhooks/post-commit: installed" "$out"
n=$(nruns)
sed -i 's/^title: .*/title: Through hooksPath/' "$c" && git commit -qam hp
check_run "the hooks there fire" "$n"
check_eq "and sync" "Through hooksPath" "$(title_of "$cid")"

# storysync missing from PATH: the hook says so, returns at once, exits 0
sed -i 's/^title: .*/title: No storysync/' "$c"
t0=$(ms)
PATH=/usr/bin:/bin run git commit -qam "no storysync"
t1=$(ms)
check_rc "the commit succeeds" 0
check_eq "the hook says why it skipped" \
  "storysync hook: storysync not found; story sync skipped" "$err"
# were it to wait for a lock, it would wait STORYSYNC_HOOK_WAIT (120 s)
if [ $((t1 - t0)) -lt 10000 ]; then ok "and returns at once ($((t1 - t0)) ms)"
else not_ok "and returns at once" "took $((t1 - t0)) ms"; fi
for hook in post-commit post-merge post-checkout post-rewrite; do
  PATH=/usr/bin:/bin run sh myhooks/$hook x y 1 </dev/null
  check_rc "$hook exits 0 without storysync" 0
done
run ss install-hooks --uninstall -q
check_eq "uninstall from core.hooksPath" "0||" "$rc|$out|$(ls myhooks)"

# no background run wrote an error anywhere
logs=$(cat "$T"/repo/.git/storysync.log "$T"/clone/.git/storysync.log \
  "$T"/repo/.git/worktrees/wt/storysync.log "$T"/hist/.git/storysync.log \
  "$T"/chain/.git/storysync.log 2>/dev/null)
check_eq "the hooks' logs hold no error" "" "$logs"
finish
