#!/bin/bash
# The configuration can change: a stage's status renamed, a backlog
# renamed, a backlog's directory moved, a stage directory renamed (the
# files moved by a person, with git mv), each committed in a real git
# repository, are followed by the next plain run: the rows equal a fresh
# --full import of the tree into a new database, the history and events
# say it was the configuration, nothing is deleted, created or in
# conflict, only the mirror keys that held the old name are rewritten, a
# second run writes nothing, and the API's next edit reaches its file. A
# stage removed, a directory renamed but not moved (a backlog moved and
# its stage directory renamed at once, the person following one of the
# two: model seed 1195), and a run of some backlogs are refused by name,
# with every row kept. A twin (PG_TWIN,
# lib.sh): on a server the fresh import gets a database of its own.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
with_hooks

cols="id, backlog, status, epic, title, priority, points, assignees, labels,
  extra, body, path, created"

# rows: the stories and dependencies of the database here
rows() {
  q "SELECT $cols FROM stories ORDER BY id;
     SELECT * FROM story_dependencies ORDER BY 1, 2"
}

# check_fresh DESC: the rows here equal a fresh --full import of this tree
# into a new database (the oracle: another database, compared by sqlite3)
check_fresh() {
  rm -rf "$O/fresh" && mkdir "$O/fresh" && cp -a . "$O/fresh" &&
    rm -rf "$O/fresh/.git" "$O/fresh/.storysync" \
      "$O/fresh/.storysync.local.yml"
  (cd "$O/fresh" && ss -q init && ss -q sync --full) || not_ok "$1: the fresh import ran"
  check_eq "$1" "$(cd "$O/fresh" && rows)" "$(rows)"
}

# check_quiet DESC: another run prints nothing and writes nothing
check_quiet() {
  local digest sums
  digest=$(db_digest)
  sums=$(sums)
  run ss
  check_eq "$1" "0||$digest|$sums" "$rc|$out$err|$(db_digest)|$(sums)"
}

# check_state DESC: every state entry is at its row's path
check_state() {
  check_eq "$1" "0|$(q "SELECT count(*) FROM stories")" \
    "$(q "SELECT count(*) FROM stories s JOIN sync_state t
       ON t.story_id = s.id WHERE coalesce(t.path, '') <> coalesce(s.path, '')")|$(q "SELECT count(*) FROM sync_state")"
}

# the story files' names and contents
sums() {
  find . -path ./.git -prune -o -name '*.md' -type f -print0 | sort -z |
    xargs -0 md5sum
}

# what a run recorded beside the rows: history and events of origin
# config, and that nothing was deleted or in conflict
config_history() {
  q "SELECT story_id, from_status, to_status FROM status_history
     WHERE origin = 'config' ORDER BY story_id"
}
config_events() {
  q "SELECT story_id || ' ' || change FROM sync_events
     WHERE origin = 'config' ORDER BY story_id"
}
nothing_lost() {
  q "SELECT count(*) FROM deleted_stories; SELECT count(*) FROM sync_conflicts;
     SELECT count(*) FROM sync_events WHERE change IN ('created', 'deleted')
       AND run_id > 1"
}

# default_tree DIR: the layout storysync init writes, six stories, synced
# and committed; made once ($T/made-default) and copied (copy_tree: a
# database of its own on a server) for each scenario after the first
default_tree() {
  [ -d "$T/made-default" ] || make_default_tree made-default
  copy_tree "$T/made-default" "$T/$1" && cd "$T/$1" || exit 1
  # the checkout the database names is the copy (as on a server)
  q "UPDATE trees SET path = '$(pwd -P)'" >/dev/null
}
make_default_tree() {
  mkdir "$T/$1" && cd "$T/$1" || exit 1
  git init -q . && ss init -q || not_ok "init in $1"
  mkdir -p refinements backlog/auth active completed
  printf -- '---\nid: A-1\ntitle: One\nstatus: backlog\npriority: high  # agreed\n---\nbody one\n' \
    >backlog/A-1-one.md
  printf -- '---\nid: A-2\ntitle: Two\ndepends_on: [A-1]\n---\nbody two\n' \
    >backlog/A-2-two.md
  printf -- '---\nid: A-3\ntitle: Three\nstatus: backlog\nepic: auth\n---\n' \
    >backlog/auth/A-3-three.md
  printf -- '---\nid: A-4\ntitle: Four\nstatus: active\n---\n' >active/A-4-four.md
  printf -- '---\nid: A-5\ntitle: Five\nstatus: refinement\n---\n' \
    >refinements/A-5-five.md
  # a key that does not mirror its directory, adopted as it is
  printf -- '---\nid: A-6\ntitle: Six\nstatus: active\n---\n' >backlog/A-6-six.md
  git add -A && git commit -qm init && ss -q || not_ok "the first sync of $1"
}

# web_tree DIR: a hand-written tree, two backlogs and stages of their own;
# made once and copied, as default_tree
web_tree() {
  [ -d "$T/made-web" ] || make_web_tree made-web
  copy_tree "$T/made-web" "$T/$1" && cd "$T/$1" || exit 1
  # the checkout the database names is the copy (as on a server)
  q "UPDATE trees SET path = '$(pwd -P)'" >/dev/null
}
make_web_tree() {
  mkdir "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  web: stories/web
  mobile: stories/mobile
stages:
  todo: todo
  doing: doing
  done: done
EOF
  mkdir -p stories/web/todo/auth stories/web/doing stories/web/done \
    stories/mobile/todo
  printf -- '---\nid: W-1\ntitle: Login\nbacklog: web\nstatus: todo\nepic: auth\n---\nbody\n' \
    >stories/web/todo/auth/W-1-login.md
  printf -- '---\nid: W-2\ntitle: Cart\nbacklog: web  # team\n---\n' \
    >stories/web/doing/W-2-cart.md
  printf -- '---\nid: W-3\ntitle: Pay\n---\n' >stories/web/done/W-3-pay.md
  printf -- '---\nid: M-1\ntitle: App\nbacklog: mobile\n---\n' \
    >stories/mobile/todo/M-1-app.md
  printf '.storysync/\n' >.gitignore
  ss -q init && git add -A && git commit -qm init && ss -q ||
    not_ok "the first sync of $1"
}

# ---- a stage's status renamed, in the layout init writes ----
default_tree rename
sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
git commit -qam "backlog is todo now"
# meanwhile the API edits a row, and a person a file, of the renamed stage
q "UPDATE stories SET title = 'Two (API)' WHERE id = 'A-2'"
printf 'more\n' >>backlog/auth/A-3-three.md
before=$(sums)
run ss
check_eq "a status rename: the rows follow, the edits on both sides too" \
  "0|storysync: 2 updated, 4 moved" "$rc|$out$err"
check_fresh "a status rename: the rows are a fresh import's"
check_eq "each status change is the configuration's" \
  "A-1|backlog|todo
A-2|backlog|todo
A-3|backlog|todo
A-6|backlog|todo" "$(config_history)"
check_eq "each a moved event of origin config" \
  "A-1 moved
A-2 moved
A-3 moved
A-6 moved" "$(config_events)"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_state "a status rename: the state follows"
check_eq "the key that held the old name holds the new one, one line" \
  "$(printf -- '---\nid: A-1\ntitle: One\nstatus: todo\npriority: high  # agreed\n---\nbody one')" \
  "$(cat backlog/A-1-one.md)"
check_eq "the API's edit reached its file, which has no key" \
  "$(printf -- '---\nid: A-2\ntitle: Two (API)\ndepends_on: [A-1]\n---\nbody two')" \
  "$(cat backlog/A-2-two.md)"
check_eq "a file edited in the same run keeps its key (it reads as todo)" \
  "status: backlog" "$(grep '^status:' backlog/auth/A-3-three.md)"
check_eq "no other file was written" \
  "$(echo "$before" | grep -v -e A-1-one -e A-2-two)" \
  "$(sums | grep -v -e A-1-one -e A-2-two)"
check_eq "the configuration is recorded" \
  '["refinement","refinements","todo","backlog","active","active","completed","completed"]|["backlog","todo"]' \
  "$(q "SELECT value FROM sync_meta WHERE key = 'config.stages'")|$(q "SELECT value FROM sync_meta WHERE key = 'config.former_status'")"
check_quiet "a status rename: the next run writes nothing"

# the API's next edits: the new name moves a file, the old one is refused
q "UPDATE stories SET title = 'Four (API)', status = 'todo' WHERE id = 'A-4'"
run ss
check_eq "the API moves a story to the renamed stage" \
  "0|storysync: 1 moved|status: todo|title: Four (API)" \
  "$rc|$out$err|$(grep '^status:' backlog/A-4-four.md)|$(grep '^title:' backlog/A-4-four.md)"
q "UPDATE stories SET status = 'backlog' WHERE id = 'A-5'"
run ss
check_eq "the old name is no stage: refused by name, row and file kept" \
  "1|story A-5: status 'backlog' has no stage directory; refused: nothing written|backlog|status: refinement" \
  "$rc|$out$err|$(q "SELECT status FROM stories WHERE id = 'A-5'")|$(grep '^status:' refinements/A-5-five.md)"
q "UPDATE stories SET status = 'todo' WHERE id = 'A-5'"
run ss
check_eq "written with the new name, it moves" "0|storysync: 1 moved|status: todo" \
  "$rc|$out$err|$(grep '^status:' backlog/A-5-five.md)"
git add -A && git commit -qm synced

# a version of a file from before the rename: its old key is no move
git show HEAD~2:backlog/A-1-one.md >backlog/A-1-one.md
run ss
check_eq "a file from before the rename does not move its story" \
  "0||todo|backlog/A-1-one.md" \
  "$rc|$out$err|$(q "SELECT status, path FROM stories WHERE id = 'A-1'")"
sed -i 's/^title: One$/title: One, edited/' backlog/A-1-one.md
run ss
check_eq "nor does an edit of it: the title only" \
  "0|storysync: 1 updated|todo|One, edited" \
  "$rc|$out$err|$(q "SELECT status, title FROM stories WHERE id = 'A-1'")"
check_fresh "after the old version: the rows are a fresh import's"
check_quiet "after the old version: the next run writes nothing"

# ---- killed after the keys were rewritten, before the commit ----
default_tree killed
sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
digest=$(db_digest)
STORYSYNC_TEST_KILL=reconciled ss >/dev/null 2>&1
check_eq "killed: nothing committed, the keys already rewritten" \
  "$digest|status: todo|status: todo" \
  "$(db_digest)|$(grep '^status:' backlog/A-1-one.md)|$(grep '^status:' backlog/auth/A-3-three.md)"
run ss
check_eq "the next run follows the rename, the keys taken for its own" \
  "0|storysync: 4 moved" "$rc|$out$err"
check_fresh "after the kill: the rows are a fresh import's"
check_eq "after the kill: each status change once, the configuration's" \
  "A-1|backlog|todo
A-2|backlog|todo
A-3|backlog|todo
A-6|backlog|todo" "$(config_history)"
check_quiet "after the kill: the next run writes nothing"
q "UPDATE stories SET title = 'One (API)' WHERE id = 'A-1'"
run ss
check_eq "after the kill: the API's edit reaches its file" \
  "0|storysync: 1 updated|title: One (API)|status: todo" \
  "$rc|$out$err|$(grep '^title:' backlog/A-1-one.md)|$(grep '^status:' backlog/A-1-one.md)"

# ---- a stage directory renamed, the files moved by git mv ----
default_tree stagedir
sed -i 's/^  backlog: backlog$/  backlog: todo-dir/' .storysync.yml
before=$(sums)
digest=$(db_digest)
run ss
check_eq "renamed, not moved: refused by name" \
  "4|storysync: the configuration moved backlog to todo-dir, but 4 stories are still in backlog; nothing written (move them there, e.g. git mv backlog todo-dir; --force deletes their rows)" \
  "$rc|$out$err"
check_eq "nothing written, every row kept" "$digest|$before|6" \
  "$(db_digest)|$(sums)|$(q "SELECT count(*) FROM stories")"
git mv backlog todo-dir && git commit -qam "the backlog stage is in todo-dir"
run ss
check_eq "moved: the rows follow" "0|storysync: 4 moved" "$rc|$out$err"
check_fresh "a stage directory renamed: the rows are a fresh import's"
check_eq "no status changed" "" "$(config_history)"
check_eq "a moved event each, of origin config" \
  "A-1 moved
A-2 moved
A-3 moved
A-6 moved" "$(config_events)"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_state "a stage directory renamed: the state follows"
check_eq "no file was written" \
  "$(echo "$before" | sed 's#  ./backlog/#  ./todo-dir/#' | sort -k 2)" \
  "$(sums | sort -k 2)"
check_quiet "a stage directory renamed: the next run writes nothing"
q "UPDATE stories SET title = 'Three (API)' WHERE id = 'A-3'"
run ss
check_eq "the API's edit reaches the moved file" \
  "0|storysync: 1 updated|title: Three (API)" \
  "$rc|$out$err|$(grep '^title:' todo-dir/auth/A-3-three.md)"

# ---- two statuses swapped ----
default_tree swap
sed -i 's/^  backlog: backlog$/  active: backlog/; s/^  active: active$/  backlog: active/' \
  .storysync.yml
run ss
check_eq "a swap: both stages' rows follow at once" "0|storysync: 5 moved" \
  "$rc|$out$err"
check_fresh "a swap: the rows are a fresh import's"
check_eq "a swap: the history" "A-1|backlog|active
A-2|backlog|active
A-3|backlog|active
A-4|active|backlog
A-6|backlog|active" "$(config_history)"
check_eq "a swap: the keys that mirrored follow, the stale one stays" \
  "status: active|status: active|status: backlog|status: active" \
  "$(grep -h '^status:' backlog/A-1-one.md backlog/auth/A-3-three.md active/A-4-four.md backlog/A-6-six.md | paste -sd'|')"
check_eq "a swap: no name is an old one" "" \
  "$(q "SELECT value FROM sync_meta WHERE key = 'config.former_status'")"
check_quiet "a swap: the next run writes nothing"

# ---- a stage removed: refused, every row kept; then its story moved ----
default_tree removed
sed -i '/^  refinement: refinements$/d' .storysync.yml
before=$(sums)
digest=$(db_digest)
run ss
check_eq "a stage removed with a story in it: refused by name" \
  "4|storysync: stage 'refinement' (refinements) is gone from the configuration but the database has 1 of its stories; nothing written (put the stage back or move the stories to another one; --force deletes their rows)" \
  "$rc|$out$err"
check_eq "nothing written, every row kept" "$digest|$before|refinement" \
  "$(db_digest)|$(sums)|$(q "SELECT status FROM stories WHERE id = 'A-5'")"
run ss --dry-run
check_eq "a dry run is refused alike" 4 "$rc"
git mv refinements/A-5-five.md active/
run ss
check_eq "its story moved to a stage: a move as any other" \
  "0|storysync: 1 moved|active|file" \
  "$rc|$out$err|$(q "SELECT status FROM stories WHERE id = 'A-5'")|$(q "SELECT origin FROM status_history WHERE story_id = 'A-5' ORDER BY id DESC LIMIT 1")"
check_fresh "a stage removed: the rows are a fresh import's"
check_quiet "a stage removed: the next run writes nothing"

# --force deletes the rows left, and leaves their files
default_tree forced
sed -i '/^  refinement: refinements$/d' .storysync.yml
run ss --force
check_eq "--force: the row is deleted, its last content kept" \
  "0|storysync: 1 deleted|A-5|Five|yes" \
  "$rc|$out$err|$(q "SELECT story_id, $(jget row title) FROM deleted_stories")|$([ -f refinements/A-5-five.md ] && echo yes)"
check_fresh "--force: the rows are a fresh import's"

# ---- a backlog renamed, in a hand-written tree; the hook's run ----
web_tree backlog
head=$(git rev-parse HEAD)
check_eq "the last synced commit" "$head" \
  "$(q "SELECT value FROM sync_meta WHERE key = 'git.last_commit'")"
sed -i 's/^  web: stories\/web$/  frontend: stories\/web/' .storysync.yml
git commit -qam "web is frontend now"
digest=$(db_digest)
run ss init -q
check_eq "init leaves the record to the sync that follows it" \
  "0|web|stories/web
mobile|stories/mobile|$digest" \
  "$rc|$(q "SELECT name, path FROM backlogs ORDER BY name DESC")|$(db_digest)"
run ss sync --backlog mobile
check_eq "a run of some backlogs waits for a run of all" \
  "2|storysync: the configuration changed since the last run (see -v); a run of every backlog follows it first: nothing written|$digest" \
  "$rc|$out$err|$(db_digest)"
before=$(sums)
run ss sync --git -v
check_contains "the hook's run falls back to a scan" \
  "falling back to a scan: the configuration changed since the last run" "$err"
check_contains "and says what changed" \
  "the configuration changed since the last run: backlog 'web' is now 'frontend'" "$err"
check_eq "a backlog renamed: the rows follow" "0|storysync: 3 moved" \
  "$rc|$(echo "$out" | tail -n 1)"
check_fresh "a backlog renamed: the rows are a fresh import's"
check_eq "the backlogs table follows" "frontend|stories/web
mobile|stories/mobile" "$(q "SELECT name, path FROM backlogs ORDER BY name")"
check_eq "no status changed" "" "$(config_history)"
check_eq "a moved event each, of origin config" "W-1 moved
W-2 moved
W-3 moved" "$(config_events)"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_eq "the backlog keys that held the old name follow, comments kept" \
  "backlog: frontend|backlog: frontend  # team" \
  "$(grep -h '^backlog:' stories/web/todo/auth/W-1-login.md stories/web/doing/W-2-cart.md | paste -sd'|')"
check_eq "no other file was written" \
  "$(echo "$before" | grep -v -e W-1-login -e W-2-cart)" \
  "$(sums | grep -v -e W-1-login -e W-2-cart)"
check_eq "HEAD is the last synced commit" "$(git rev-parse HEAD)" \
  "$(q "SELECT value FROM sync_meta WHERE key = 'git.last_commit'")"
check_quiet "a backlog renamed: the next run writes nothing"
q "UPDATE stories SET backlog = 'mobile', title = 'Pay (API)' WHERE id = 'W-3'"
run ss
check_eq "the API moves a renamed backlog's story to the other one" \
  "0|storysync: 1 moved|title: Pay (API)" \
  "$rc|$out$err|$(grep '^title:' stories/mobile/done/W-3-pay.md)"
git checkout -q -- stories/web/doing/W-2-cart.md
run ss
check_eq "a key from before the rename does not move its story" \
  "0||frontend" "$rc|$out$err|$(q "SELECT backlog FROM stories WHERE id = 'W-2'")"
check_fresh "after the API's move: the rows are a fresh import's"

# ---- a backlog removed: refused, every row kept ----
web_tree dropped
sed -i '/^  mobile: stories\/mobile$/d' .storysync.yml
digest=$(db_digest)
run ss
check_eq "a backlog removed with a story in it: refused by name" \
  "4|storysync: backlog 'mobile' (stories/mobile) is gone from the configuration but the database has 1 of its stories; nothing written (put the backlog back or move the stories to another one; --force deletes their rows)|$digest|mobile" \
  "$rc|$out$err|$(db_digest)|$(q "SELECT backlog FROM stories WHERE id = 'M-1'")"

# ---- a backlog's directory moved ----
web_tree moved
sed -i 's/^  web: stories\/web$/  web: apps\/web/' .storysync.yml
digest=$(db_digest)
run ss
check_eq "moved in the configuration only: refused by name" \
  "4|storysync: the configuration moved stories/web to apps/web, but 3 stories are still in stories/web; nothing written (move them there, e.g. git mv stories/web apps/web; --force deletes their rows)|$digest" \
  "$rc|$out$err|$(db_digest)"
mkdir apps && git mv stories/web apps/web && git commit -qam "web moves"
before=$(sums)
run ss
check_eq "a backlog moved: the rows follow" "0|storysync: 3 moved" "$rc|$out$err"
check_fresh "a backlog moved: the rows are a fresh import's"
check_eq "the backlogs table follows" "mobile|stories/mobile
web|apps/web" "$(q "SELECT name, path FROM backlogs ORDER BY name")"
check_eq "a moved event each, of origin config, no history" "W-1 moved
W-2 moved
W-3 moved|" "$(config_events)|$(config_history)"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_state "a backlog moved: the state follows"
check_eq "no file was written" "$before" "$(sums)"
check_quiet "a backlog moved: the next run writes nothing"
q "UPDATE stories SET title = 'Cart (API)' WHERE id = 'W-2'"
run ss
check_eq "the API's edit reaches the moved file" \
  "0|storysync: 1 updated|title: Cart (API)" \
  "$rc|$out$err|$(grep '^title:' apps/web/doing/W-2-cart.md)"
# ---- a backlog moved and a stage directory renamed in one change, the
# person following one of the two only: the file that stayed in the old
# stage directory of the moved backlog is no deletion (model seed 1195:
# its row was deleted, its file left outside every stage, and the
# person's next edit of it reached no row) ----
web_tree halfmoved
sed -i 's/^  web: stories\/web$/  web: apps\/web/; s/^  done: done$/  done: finished/' \
  .storysync.yml
mkdir apps && git mv stories/web apps/web &&
  git commit -qam "web moves, done is in finished/"
before=$(sums)
digest=$(db_digest)
rows_before=$(q "SELECT id, status, path FROM stories ORDER BY id")
for args in --git ""; do
  run ss $args
  check_eq "the backlog moved, its stage directory not renamed (sync ${args:-plain}): refused by name" \
    "4|storysync: the configuration moved apps/web/done to apps/web/finished, but 1 story is still in apps/web/done; nothing written (move them there, e.g. git mv apps/web/done apps/web/finished; --force deletes their rows)" \
    "$rc|$out$err"
  check_eq "nothing written (sync ${args:-plain}): every row kept, no conflict, the files as they were" \
    "$digest|$rows_before|0|0|$before" \
    "$(db_digest)|$(q "SELECT id, status, path FROM stories ORDER BY id")|$(q "SELECT count(*) FROM sync_conflicts")|$(q "SELECT count(*) FROM deleted_stories")|$(sums)"
done
check_eq "the story's file is where the person left it" \
  "$(printf -- '---\nid: W-3\ntitle: Pay\n---')" "$(cat apps/web/done/W-3-pay.md)"
git mv apps/web/done apps/web/finished && git commit -qm "done is in finished/"
run ss
check_eq "moved as the message says: the rows follow" \
  "0|storysync: 3 moved|done|apps/web/finished/W-3-pay.md" \
  "$rc|$out$err|$(q "SELECT status, path FROM stories WHERE id = 'W-3'")"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_fresh "half moved, then moved: the rows are a fresh import's"
check_quiet "half moved, then moved: the next run writes nothing"
sed -i 's/^title: Pay$/title: Pay, edited/' apps/web/finished/W-3-pay.md
run ss
check_eq "the person's next edit reaches the row" "0|storysync: 1 updated|Pay, edited" \
  "$rc|$out$err|$(q "SELECT title FROM stories WHERE id = 'W-3'")"

# the other one followed only: the stage directory renamed in the backlog's
# old directory, the backlog not moved: the backlog's move is named, with
# every story still in it counted
web_tree halfrenamed
sed -i 's/^  web: stories\/web$/  web: apps\/web/; s/^  done: done$/  done: finished/' \
  .storysync.yml
git mv stories/web/done stories/web/finished &&
  git commit -qam "web moves, done is in finished/"
before=$(sums)
digest=$(db_digest)
run ss
check_eq "the stage directory renamed, the backlog not moved: refused by name" \
  "4|storysync: the configuration moved stories/web to apps/web, but 3 stories are still in stories/web; nothing written (move them there, e.g. git mv stories/web apps/web; --force deletes their rows)|$digest|0|0|$before" \
  "$rc|$out$err|$(db_digest)|$(q "SELECT count(*) FROM sync_conflicts")|$(q "SELECT count(*) FROM deleted_stories")|$(sums)"
mkdir apps && git mv stories/web apps/web && git commit -qm "web moves"
run ss
check_eq "moved as the message says: the rows follow" \
  "0|storysync: 3 moved|apps/web/finished/W-3-pay.md" \
  "$rc|$out$err|$(q "SELECT path FROM stories WHERE id = 'W-3'")"
check_eq "nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_fresh "half renamed, then moved: the rows are a fresh import's"

# ---- renamed twice with a run between, then back; and twice with no
# run between: each run follows, history of origin config each time ----
default_tree twice
for name in todo next backlog; do
  was=$(sed -n 's/^  \([a-z]*\): backlog$/\1/p' .storysync.yml)
  sed -i "s/^  $was: backlog\$/  $name: backlog/" .storysync.yml
  git commit -qam "$was is $name now"
  run ss
  check_eq "renamed $was -> $name: the rows follow" \
    "0|storysync: 4 moved|A-1 A-2 A-3 A-6" \
    "$rc|$out$err|$(q "SELECT $(sqlagg id) FROM (SELECT id FROM
      stories WHERE status = '$name' ORDER BY id) s" | tr , ' ')"
done
check_eq "renamed twice and back: three steps of origin config a story" \
  "backlog|todo
todo|next
next|backlog" \
  "$(q "SELECT from_status, to_status FROM status_history WHERE story_id =
      'A-1' AND origin = 'config' ORDER BY id")"
check_eq "renamed back: the key holds its first name again" \
  "status: backlog" "$(grep '^status:' backlog/A-1-one.md)"
check_eq "renamed back: nothing deleted, created or in conflict" "0
0
0" "$(nothing_lost)"
check_fresh "renamed back: the rows are a fresh import's"
check_quiet "renamed back: the next run writes nothing"
sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
git commit -qam "todo"
sed -i 's/^  todo: backlog$/  next: backlog/' .storysync.yml
git commit -qam "next"
run ss
check_eq "renamed twice with no run between: the rows follow at once" \
  "0|storysync: 4 moved|backlog|next" \
  "$rc|$out$err|$(q "SELECT from_status, to_status FROM status_history
    WHERE story_id = 'A-1' AND origin = 'config' ORDER BY id DESC LIMIT 1")"
check_fresh "renamed twice with no run between: a fresh import's rows"
# ---- a rename while both sides edit one story: the saved base keeps its
# extra's key order (the server's rewrite of a base through jsonb put
# shorter keys first, and the file's edit of extra then read as an edit on both sides) ----
default_tree order
printf -- '---\nid: X-1\ntitle: Ex\nstatus: backlog\nalpha: 2\nzeta: 1\n---\n' \
  >backlog/X-1-ex.md
git add -A && git commit -qm x && ss -q || not_ok "X-1 synced"
sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
git commit -qam "backlog is todo now"
q "UPDATE stories SET title = 'Ex (API)' WHERE id = 'X-1'"
sed -i 's/^zeta: 1$/zeta: 3/' backlog/X-1-ex.md
run ss
check_eq "a rename while the API edits a title and a person a key: both kept, no conflict" \
  "0|0|Ex (API)|alpha: 2
zeta: 3" \
  "$rc|$(q "SELECT count(*) FROM sync_conflicts")|$(q "SELECT title FROM
    stories WHERE id = 'X-1'")|$(grep -e '^zeta' -e '^alpha' backlog/X-1-ex.md)"
check_fresh "a rename while both sides edit: a fresh import's rows"
finish
