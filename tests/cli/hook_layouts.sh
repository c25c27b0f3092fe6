#!/bin/bash
# Issue 7: the real hooks, installed by install-hooks and fired by real git
# commands, on every repository layout people have. After each hook run the
# database must hold what a fresh --full import of the same tree gives (the
# oracle), and the last synced commit must be HEAD. Where no hook fires
# (reset --hard, stash), the next cron scan catches up.
. "$(dirname "$0")/lib.sh"

with_hooks
git config --global pull.rebase false
# The hook's sync done when git returns, so that each check sees it; the
# background run is tested on its own at the end.
export STORYSYNC_HOOK_FOREGROUND=1

cols="id, backlog, status, epic, title, priority, points, assignees,
  json(labels), json(extra), body, path, created"
# rows DB [SQL]: the stories and their dependencies, then SQL's answer
rows() {
  sqlite3 -batch "$1" "SELECT $cols FROM stories ORDER BY id;
    SELECT '--'; SELECT * FROM story_dependencies ORDER BY 1, 2; ${2-}"
}

n_oracle=0
# check_oracle DESC [DIR]: the database of the tree at DIR (its
# .storysync.yml's directory) holds the rows a fresh --full import of a
# copy of that tree gives, and its last synced commit is HEAD.
check_oracle() {
  local dir=${2:-.} copy got want head last
  n_oracle=$((n_oracle + 1))
  copy=$O/oracle$n_oracle
  mkdir -p "$copy"
  # the tree without .git at its top and without any database (every
  # .storysync, at any depth)
  tar -C "$dir" --exclude=./.git --exclude=.storysync -cf - . |
    tar -C "$copy" -xf -
  (cd "$copy" && "$bin" -q init >/dev/null && "$bin" -q sync --full)
  want=$(rows "$copy/$DB")
  # the rows, then the last synced commit, in one sqlite3
  got=$(rows "$dir/$DB" "SELECT 'last ' || coalesce((SELECT value
    FROM sync_meta WHERE key = 'git.last_commit'), '')")
  last=${got##*$'\n'last }
  got=${got%$'\n'last *}
  head=$(git -C "$dir" rev-parse HEAD)
  if [ "$want" != "$got" ]; then
    not_ok "$1" "rows differ from a fresh --full import:" \
      "$(diff <(echo "$want") <(echo "$got") | head -20)" \
      "log: $(cat "$(git -C "$dir" rev-parse --git-path storysync.log)" 2>/dev/null)"
  elif [ "${3:-}" != cron ] && [ "$head" != "$last" ]; then
    not_ok "$1" "last synced commit $last, HEAD $head"
  else
    ok "$1"
  fi
}

story() { # FILE ID TITLE [PRIORITY]: writes a story by hand
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\npriority: %s\n---\n\nBody of %s.\n' \
    "$2" "$3" "${4:-low}" "$2" >"$1"
}

field() { # DB ID COLUMN
  sqlite3 -batch "$1" "SELECT $3 FROM stories WHERE id = '$2'"
}

# ---- the default init layout: stage folders at the work tree's top ----
git init -q top && cd top || exit 1
ss init -q
run git status --porcelain --untracked-files=all
check_eq "init in a git work tree: git sees only the config and .gitignore" \
  "?? .gitignore
?? .storysync.yml" "$out"
check_eq "and git add -A takes no database file" "add '.gitignore'
add '.storysync.yml'" "$(git add -A --dry-run)"
story backlog/A-1-one.md A-1 One
ss -q sync && git add -A && git commit -qm one
run ss install-hooks
check_rc "install-hooks at the top" 0
check_eq "the hooks list the tree" ".storysync.yml" \
  "$(cat .git/hooks/storysync-trees)"
sed -i s/low/high/ backlog/A-1-one.md && git commit -qam edit
check_eq "the issue's example: the edit reached the DB" high \
  "$(field $DB A-1 priority)"
check_oracle "top layout: an edit"
story backlog/A-2-two.md A-2 Two && git add -A && git commit -qm add
check_oracle "top layout: a story added"
mkdir -p active && git mv backlog/A-2-two.md active/A-2-two.md &&
  git commit -qm move
check_eq "a git mv is a move" "active|active/A-2-two.md" \
  "$(field $DB A-2 'status, path')"
git add -A && git commit -qm "the rewritten status key" -q
check_oracle "top layout: a move"
git rm -q backlog/A-1-one.md && git commit -qm delete
check_eq "a deleted story's row is gone" "" "$(field $DB A-1 id)"
check_oracle "top layout: a delete"
echo "# notes" >README.md && git add README.md && git commit -qm readme
check_oracle "top layout: a commit that touches no story"
runs=$(sqlite3 $DB 'SELECT count(*) FROM sync_runs')
git commit -q --allow-empty -m empty
git checkout -q -b side && git checkout -q main
run ss -v sync --git
check_contains "HEAD synced: the no-op says so" \
  "HEAD is the last synced commit and no row changed" "$err"
ss -q sync --git
check_eq "and writes no run row" \
  "$((runs + 1))" "$(sqlite3 $DB 'SELECT count(*) FROM sync_runs')"

# detached HEAD, amend, revert, cherry-pick, checkout and back
git checkout -q --detach
sed -i 's/^title: .*/title: Detached edit/' active/A-2-two.md
git commit -qam detached
check_oracle "a commit on a detached HEAD"
git checkout -q main
check_oracle "checkout back from a detached HEAD"
sed -i 's/^title: .*/title: Before amend/' active/A-2-two.md
git commit -qam amend-me
sed -i 's/^title: .*/title: Amended/' active/A-2-two.md
git commit -q -a --amend --no-edit
check_eq "commit --amend" Amended "$(field $DB A-2 title)"
check_oracle "commit --amend"
git revert --no-edit HEAD >/dev/null
check_eq "revert" Two "$(field $DB A-2 title)"
check_oracle "revert"
git checkout -q -b pick
story completed/A-3-three.md A-3 Three && git add -A && git commit -qm three
pick=$(git rev-parse HEAD)
git checkout -q main
check_eq "checkout of a branch without the story" "" "$(field $DB A-3 id)"
git cherry-pick "$pick" >/dev/null
check_oracle "cherry-pick"
old=$(git rev-parse HEAD~3)
git checkout -q "$old"
check_oracle "checkout of an older commit"
git checkout -q main
check_oracle "and back"

# merge with a resolved conflict
git checkout -q -b theirs
sed -i 's/^priority: .*/priority: medium/' active/A-2-two.md
git commit -qam theirs
git checkout -q main
sed -i 's/^priority: .*/priority: critical/' active/A-2-two.md
git commit -qam ours
run git merge -q theirs
check_rc "the merge stops on a conflict" 1
check_eq "nothing synced from a conflicted merge" critical \
  "$(field $DB A-2 priority)"
sed -i -e '/^<<<<<<<\|^=======\|^>>>>>>>/d' -e '/^priority: critical/d' \
  active/A-2-two.md
git add active/A-2-two.md && git commit -q --no-edit
check_eq "the resolved merge reached the DB" medium "$(field $DB A-2 priority)"
check_oracle "merge with a resolved conflict"

# no hook fires: the next cron scan catches up
sed -i 's/^title: .*/title: Stashed/' active/A-2-two.md
ss -q sync
git stash -q
run ss sync -q
check_oracle "stash: the next scan catches up" . cron
git stash pop -q
run ss sync -q
check_eq "stash pop: the next scan catches up" Stashed "$(field $DB A-2 title)"
git checkout -q -- . && ss -q sync
git reset -q --hard HEAD~2
run ss sync -q
check_oracle "reset --hard: the next scan catches up" . cron
git reset -q --hard ORIG_HEAD
ss -q sync

# ---- the invariant: never past a change it did not apply ----
last_commit() {
  sqlite3 $DB "SELECT value FROM sync_meta WHERE key = 'git.last_commit'"
}
before=$(last_commit)
mkdir -p backlog
printf -- '---\nid: A-9\ntitle: [broken\n---\n' >backlog/A-9-broken.md
git add -A && git commit -qm broken
check_eq "a story in error keeps the last synced commit" "$before" \
  "$(last_commit)"
check_contains "and says why in the log" \
  "backlog/A-9-broken.md:3:8: 'title' must be a scalar" \
  "$(cat .git/storysync.log)"
story backlog/A-9-broken.md A-9 Mended && git commit -qam mend
check_oracle "once mended, the diff from the old commit applies it"
sqlite3 $DB "UPDATE sync_meta SET value = '$(printf '%040d' 7)'
  WHERE key = 'git.last_commit'"
sed -i 's/^title: .*/title: Unknown base/' backlog/A-9-broken.md
STORYSYNC_RUNNING=1 git commit -qam unknown # no hook run
run ss -v sync --git
check_contains "an unknown last commit: a scan, said with -v" \
  "falling back to a scan: the last synced commit is no longer" "$err"
check_oracle "an unknown last commit"
sed -i 's/^title: .*/title: Unreadable/' backlog/A-9-broken.md
STORYSYNC_RUNNING=1 git commit -qam unreadable # no hook run
tree=$(git rev-parse HEAD~1^{tree})
rm -f ".git/objects/${tree:0:2}/${tree:2}"
run ss -v sync --git
check_contains "a diff git cannot read: a scan, said with -v" \
  "falling back to a scan: git:" "$err"
check_oracle "a diff git cannot read"
cd "$T" || exit 1

# ---- backlogs: x: . ----
git init -q dot && cd dot || exit 1
printf 'database: .storysync/stories.db\nbacklogs:\n  x: .\n' >.storysync.yml
ss -q init
story refinements/D-1-one.md D-1 One && git add -A && git commit -qm one
ss -q install-hooks && ss -q sync
story backlog/D-2-two.md D-2 Two && git add -A && git commit -qm two
check_eq "backlogs: x: . takes the commit" x "$(field $DB D-2 backlog)"
check_oracle "backlogs: x: ."
cd "$T" || exit 1

# ---- backlogs in subfolders, spaces and non-ASCII ----
git init -q many && cd many || exit 1
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  web: "stories/web app"
  mobil: "stories/möbil"
  plan-b: plan
EOF
ss -q init
story "stories/web app/backlog/W-1-one.md" W-1 One
story "stories/möbil/active/épique/M-1-un.md" M-1 Un
git add -A && git commit -qm one && ss -q install-hooks && ss -q sync
story "stories/web app/active/W-2-two.md" W-2 Two
sed -i s/low/high/ "stories/möbil/active/épique/M-1-un.md"
story plan/completed/P-1-done.md P-1 Done
git add -A && git commit -qm "three backlogs"
check_eq "every backlog's change" "web|high|plan-b" \
  "$(field $DB W-2 backlog)|$(field $DB M-1 priority)|$(field $DB P-1 backlog)"
check_oracle "backlogs in subfolders with spaces and non-ASCII names"
git mv "stories/web app/active/W-2-two.md" "stories/möbil/active/W-2-two.md"
git commit -qm "across backlogs"
check_eq "a move across backlogs" mobil "$(field $DB W-2 backlog)"
git commit -qam "rewritten key" -q
check_oracle "a move across backlogs"
cd "$T" || exit 1

# ---- a monorepo: two trees below the top, each with its own config ----
git init -q mono && cd mono || exit 1
mkdir -p src teams/a teams/b && echo 'int main;' >src/main.c
for t in a b; do
  (cd teams/$t && ss -q init)
  story teams/$t/backlog/$t-1-one.md "${t^^}-1" "One of $t"
done
git add -A && git commit -qm start
(cd teams/a && ss -q sync && run ss install-hooks -q && echo "$rc" >"$O/rc")
check_eq "install-hooks from a subfolder" 0 "$(cat "$O/rc")"
(cd teams/b && ss -q sync && ss -q install-hooks)
check_eq "both trees listed, as paths from the top" \
  "teams/a/.storysync.yml
teams/b/.storysync.yml" "$(cat .git/hooks/storysync-trees)"
sed -i s/low/high/ teams/a/backlog/a-1-one.md teams/b/backlog/b-1-one.md
echo 'int main(void);' >src/main.c
git commit -qam "both trees and code"
check_eq "tree a took its commit" high "$(field teams/a/$DB A-1 priority)"
check_eq "tree b took its commit" high "$(field teams/b/$DB B-1 priority)"
check_oracle "monorepo: tree a" teams/a
check_oracle "monorepo: tree b" teams/b
story teams/a/active/a-2-two.md A-2 Two && git add -A && git commit -qm a-only
check_oracle "a commit to tree a only: a" teams/a
check_oracle "and b, whose last commit follows HEAD" teams/b
(cd teams/b && run ss install-hooks --uninstall && echo "$rc|$out" >"$O/un")
check_eq "uninstall from b keeps the hooks for a" \
  "0|$(for h in post-commit post-merge post-checkout post-rewrite; do
    echo "$T/mono/.git/hooks/$h: kept for the other story trees"; done)
teams/b/.storysync.yml: no longer synced; the hooks stay for 1 other tree" \
  "$(cat "$O/un")"
check_eq "the list keeps a" "teams/a/.storysync.yml" \
  "$(cat .git/hooks/storysync-trees)"

# ---- a linked worktree has its own database ----
main_db=$(sqlite3 -batch teams/a/$DB .dump | md5sum)
git worktree add -q ../mono-wt -b feature 2>/dev/null
wt_log=$(git -C ../mono-wt rev-parse --git-path storysync.log)
check_contains "git worktree add: the hook's run says to run init there" \
  "teams/a/.storysync.yml:5:11: no database at $T/mono-wt/teams/a/$DB (storysync init creates one" \
  "$(cat "$wt_log")"
check_eq "and makes no database" no \
  "$([ -e ../mono-wt/teams/a/.storysync ] && echo yes || echo no)"
: >"$wt_log"
(cd ../mono-wt/teams/a && "$bin" -q init) || not_ok "init in the worktree"
(cd ../mono-wt && sed -i s/high/low/ teams/a/backlog/a-1-one.md &&
  git commit -qam "in the worktree")
check_eq "the worktree's commit reached its own database" low \
  "$(field ../mono-wt/teams/a/$DB A-1 priority)"
check_oracle "a commit in a linked worktree" ../mono-wt/teams/a
check_eq "the main worktree's database is untouched" "$main_db" \
  "$(sqlite3 -batch teams/a/$DB .dump | md5sum)"
cd "$T" || exit 1

# ---- core.hooksPath, and pull --rebase from a clone ----
git init -q hp && cd hp || exit 1
git config core.hooksPath .githooks
ss -q init
story backlog/H-1-one.md H-1 One && git add -A && git commit -qm one
run ss install-hooks -q
check_eq "core.hooksPath is honoured" "0|.storysync.yml" \
  "$rc|$(cat .githooks/storysync-trees)"
ss -q sync
sed -i s/low/high/ backlog/H-1-one.md && git commit -qam edit
check_oracle "core.hooksPath: a commit"
cd "$T" && git clone -q hp hp-clone 2>/dev/null && cd hp-clone || exit 1
ss -q init && ss -q sync && ss -q install-hooks
(cd ../hp && story backlog/H-2-two.md H-2 Two && git add -A &&
  git commit -qm "upstream")
story active/H-3-three.md H-3 Three && git add -A && git commit -qm "local"
git pull -q --rebase 2>/dev/null
check_eq "pull --rebase brought the upstream story" H-2 "$(field $DB H-2 id)"
check_oracle "pull --rebase"

# ---- a busy lock delays the hook's run, never drops it ----
unset STORYSYNC_HOOK_FOREGROUND
hold_lock "$DB.lock" || not_ok "hold the run lock"
sed -i 's/^title: .*/title: Committed while locked/' active/H-3-three.md
# were the hook to wait for the lock, git would not return while it is held
timeout 60 git commit -qam "while locked"
rc=$?
check_eq "a held run lock does not hold git commit up: it returned while held" \
  "0|yes|Three" \
  "$rc|$(kill -0 "$holder" 2>/dev/null && echo yes)|$(field $DB H-3 title)"
release_lock
locked_title() { [ "$(field $DB H-3 title)" = "Committed while locked" ]; }
wait_for locked_title
flock -w 60 "$DB.lock" true
check_eq "the commit reached the DB once the lock was free" \
  "Committed while locked" "$(field $DB H-3 title)"
check_oracle "after the wait for the lock"
finish
