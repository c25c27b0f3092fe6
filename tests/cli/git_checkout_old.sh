#!/bin/bash
# Issue 19 (finding 3b): a plain run (cron's) on a checkout of an older
# commit or another branch that the hooks did not follow. Git put that
# branch's versions in the files: they are no person's edits, and the
# database's changes written into them would leave files that git refuses
# to check out over. The run holds the stories whose file is HEAD's
# version (or gone where HEAD has none) on both sides and keeps the last
# synced commit; a file a person changed there syncs as ever. Back on the
# branch, the next run writes the API's change into the file; nothing is
# lost. An amend is no checkout: its run follows HEAD as before. A story
# the API added meanwhile waits for its file too (model seed 121), and a
# held row is not refused for a status that commit does not name (117).
# Nothing there is removed either: a copy of an id that commit holds,
# which a run on the line removed as git's version put back, stays, and
# its story is held (255, 269); nor is a killed run's temporary file
# that commit holds (156), which the killed run made beside the story
# (a setgid folder, an older binary): now it makes it out of git's sight.
# Oracles: Python's sqlite3 (psycopg2 on a server: a twin), sed on the
# files, git status.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

with_hooks
unset -f ss
ss() { before_ss "$@" && ss_in "$bin" "$@"; }
row() { py_rows "SELECT title, priority FROM stories WHERE id = '$1'"; }
last() { py_rows "SELECT value FROM sync_meta WHERE key = 'git.last_commit'"; }
S1=backlog/S-1-one.md S2=backlog/S-2-two.md S3=backlog/S-3-three.md

mkdir "$T/t" && cd "$T/t" || exit 1
git init -q . && mkdir refinements backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$S1
printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >$S2
synced_commit || not_ok "the first run"
# main moves on: S-1 retitled, S-3 added, synced
sed -i 's/^title: One$/title: Uno/' $S1
printf -- '---\nid: S-3\ntitle: Three\n---\nbody\n' >$S3
git add -A && git commit -qm two && ss -q || not_ok "the second run"
main=$(git rev-parse HEAD)
check_eq "on main: synced, the last synced commit main's" "Uno|-|$main" \
  "$(row S-1)|$(last)"

# ---- a checkout of the older commit, not followed; the API writes ----
git checkout -q -b old HEAD~1
py_rows "UPDATE stories SET priority = 'high' WHERE id IN ('S-1', 'S-3')"
run ss -v
check_contains "old: the run says what it holds" \
  "HEAD is off the last synced commit's line (a checkout of another commit or branch): 2 stories whose file is HEAD's version held" \
  "$err"
check_eq "old: exit 0, nothing written to git's files, git status clean" \
  "0|One||" "$rc|$(key title $S1)|$(key priority $S1)|$(git status --porcelain)"
check_eq "old: the rows keep main's title and the API's values; S-3 kept" \
  "Uno|high|Three|high|$main" "$(row S-1)|$(row S-3)|$(last)"
# a person's edit on the checkout is theirs: it syncs
sed -i 's/^title: Two$/title: Dos/' $S2
run ss
check_eq "old: a person's edit syncs, the held stories stay held" \
  "0|Dos|Uno|One|$main" "$rc|$(row S-2 | cut -d'|' -f1)|$(row S-1 | cut -d'|' -f1)|$(key title $S1)|$(last)"

# ---- back to main: the checkout works, the next run writes the API's ----
run git checkout -q main
check_eq "back: git checkout main works" "0|" "$rc|$err"
run ss
check_eq "back: the API's values reach the files, main's title stays" \
  "0|Uno|high|high|Dos" \
  "$rc|$(key title $S1)|$(key priority $S1)|$(key priority $S3)|$(key title $S2)"
check_eq "back: the rows as the files, nothing in sync_conflicts" \
  "Uno|high|Three|high|0" \
  "$(row S-1)|$(row S-3)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "back: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a commit without a stage's folder (model seeds 5, 6): its stories
# are gone where HEAD has none, held as the rest, and the guard for a
# missing stage directory (a half copy) is not for them ----
mkdir active && printf -- '---\nid: S-4\ntitle: Four\n---\nbody\n' \
  >active/S-4-four.md
git add -A && git commit -qm four && ss -q || not_ok "S-4's run"
git checkout -q -b older HEAD~1
run ss
check_eq "older: exit 0, S-4 held (its row kept), git status clean" \
  "0||Four|" "$rc|$err|$(row S-4 | cut -d'|' -f1)|$(git status --porcelain)"
git checkout -q main && git branch -q -D older
run ss
check_eq "back: S-4 as it was, the next run quiet" "0||Four|active/S-4-four.md" \
  "$rc|$out$err|$(row S-4 | cut -d'|' -f1)|$(py_rows "SELECT path FROM stories WHERE id = 'S-4'")"

# ---- an amend is not a checkout: the run follows HEAD ----
git commit -qam "S-2 and the API's"
ss -q
sed -i 's/^title: Dos$/title: Deux/' $S2
git commit -qa --amend -m "amended"
run ss
check_eq "amend: the amended file syncs, the last synced commit follows" \
  "0|Deux|$(git rev-parse HEAD)" "$rc|$(row S-2 | cut -d'|' -f1)|$(last)"

# ---- sync --git (the hooks' run) follows a checkout as before ----
git checkout -q old 2>/dev/null || git checkout -q -f old
run ss sync --git
check_eq "--git: follows the checkout" "0|One|$(git rev-parse HEAD)" \
  "$rc|$(row S-1 | cut -d'|' -f1)|$(last)"

# ---- a checkout of a commit with another configuration (model seed 2):
# it came with the commit, as git's versions of the files did; the run
# holds every story and follows no configuration, and back on main the
# admin's next change (a status rename) is followed as ever ----
mkdir "$T/c" && cd "$T/c" || exit 1
git init -q . && mkdir refinements backlog
printf -- '---\nid: C-1\ntitle: One\n---\nbody\n' >backlog/C-1-one.md
printf -- '---\nid: C-2\ntitle: Two\n---\nbody\n' >refinements/C-2-two.md
synced_commit || not_ok "c's first run"
git mv backlog todo && sed -i 's/^  backlog: backlog$/  backlog: todo/' .storysync.yml
git commit -qam "the backlog stage is in todo/" && ss -q || not_ok "c's rename"
main=$(git rev-parse HEAD)
check_eq "c: the rename followed, the last synced commit its" \
  "todo/C-1-one.md|$main" \
  "$(py_rows "SELECT path FROM stories WHERE id = 'C-1'")|$(last)"
git checkout -q -b old HEAD~1
run ss -v
check_contains "c old: the run says it holds every story" \
  "its configuration is not the one synced: every story held, nothing written" "$err"
check_eq "c old: exit 0, no row moved, git status clean" \
  "0|backlog|todo/C-1-one.md|$main|" \
  "$rc|$(py_rows "SELECT status, path FROM stories WHERE id = 'C-1'")|$(last)|$(git status --porcelain)"
git checkout -q main
sed -i 's/^  backlog: todo$/  todo: todo/' .storysync.yml
git commit -qam "backlog is todo now"
run ss
check_eq "c back: the status rename is followed, the configuration's" \
  "0|todo|todo/C-1-one.md|backlog>todo" \
  "$rc|$(py_rows "SELECT status, path FROM stories WHERE id = 'C-1'")|$(py_rows "SELECT from_status || '>' || to_status FROM status_history WHERE story_id = 'C-1' AND origin = 'config'")"
run ss
check_eq "c back: the next run is quiet" "0||" "$rc|$out|$err"


# ---- a story the API added, while HEAD is on an older commit of another
# layout (model seed 121: a backlog's folder moved since): no file is
# made for it there (it would be in that commit's layout and stay behind
# when HEAD comes back, where every run then exits 4 for a story left in
# the old folder, and --force would delete the API's row); it waits, and
# back on main the run makes its file where main's configuration says ----
mkdir "$T/b" && cd "$T/b" || exit 1
git init -q . && mkdir -p web/backlog api/backlog
printf 'database: .storysync/stories.db\nbacklogs:\n  web: web\n  api: api\nstages:\n  backlog: backlog\n' \
  >.storysync.yml
printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >api/backlog/A-1-one.md
printf -- '---\nid: W-1\ntitle: Web\n---\nbody\n' >web/backlog/W-1-web.md
synced_commit || not_ok "b's first run"
printf -- '---\nid: A-2\ntitle: Two\n---\nbody\n' >api/backlog/A-2-two.md
git add -A && git commit -qm two && ss -q || not_ok "b's second run"
git mv api api2 && sed -i 's/^  api: api$/  api: api2/' .storysync.yml
git commit -qam "api's stories in api2/"
py_rows "INSERT INTO stories (id, backlog, title) VALUES ('A-9', 'api', 'Nine')"
git checkout -q -b old HEAD~2
run ss -v
check_contains "b old: the run says it holds the API's new story" \
  "1 story whose file is HEAD's version held, 1 added by the API with no file yet, and the last synced commit kept" \
  "$err"
check_eq "b old: exit 0, no file made for the API's story, git status clean" \
  "0||Nine|" \
  "$rc|$(find . -name 'A-9*')|$(py_rows "SELECT title FROM stories WHERE id = 'A-9'")|$(git status --porcelain)"
git checkout -q main
run ss
check_eq "b back: the move followed, the API's story made in api2/" \
  "0||api2/backlog/A-1-one.md|api2/backlog/A-9-nine.md|Nine" \
  "$rc|$err|$(py_rows "SELECT path FROM stories WHERE id = 'A-1'")|$(py_rows "SELECT path FROM stories WHERE id = 'A-9'")|$(key title api2/backlog/A-9-nine.md)"
check_eq "b back: nothing left in api/, nothing in sync_conflicts" "|0" \
  "$(find . -path './api/*' -type f)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "b back: the next run is quiet" "0||" "$rc|$out|$err"


# ---- a row the API set to a stage's middle name (renamed twice, each
# committed: model seed 117), while HEAD is on an older commit that has
# neither name: the row is held with its story, not refused (exit 1
# while checked out, a refusal recorded for a row nothing is wrong
# with); back on main the run follows the names and moves the file ----
mkdir "$T/r" && cd "$T/r" || exit 1
git init -q . && mkdir backlog completed
printf 'database: .storysync/stories.db\nstages:\n  backlog: backlog\n  completed: completed\n' \
  >.storysync.yml
printf -- '---\nid: R-1\ntitle: One\n---\nbody\n' >backlog/R-1-one.md
printf -- '---\nid: R-2\ntitle: Two\n---\nbody\n' >backlog/R-2-two.md
synced_commit || not_ok "r's first run"
sed -i 's/^title: Two$/title: Dos/' backlog/R-2-two.md
git commit -qam two && ss -q || not_ok "r's second run"
sed -i 's/^  completed: completed$/  done: completed/' .storysync.yml
git commit -qam "completed is done"
py_rows "UPDATE stories SET status = 'done' WHERE id = 'R-1'"
sed -i 's/^  done: completed$/  finished: completed/' .storysync.yml
git commit -qam "done is finished"
git checkout -q -b old HEAD~3
run ss
check_eq "r old: exit 0, R-1 held (its row as the API left it), no refusal, git status clean" \
  "0||done|backlog/R-1-one.md|0|" \
  "$rc|$err|$(py_rows "SELECT status, path FROM stories WHERE id = 'R-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")|$(git status --porcelain)"
git checkout -q main
run ss
check_eq "r back: the names followed, R-1's file moved, nothing in sync_conflicts" \
  "0||finished|completed/R-1-one.md|0" \
  "$rc|$err|$(py_rows "SELECT status, path FROM stories WHERE id = 'R-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "r back: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a commit that holds two copies of one id (model seeds 255, 269): a
# reset put git's version back beside storysync's uncommitted move and
# `git add -A` committed both; a run on the line removed the copy (git's
# version put back, seed 83) and a commit took the removal. On a checkout
# of the commit with both, the copy is that commit's file again: the run
# there removes nothing (its removals are held as its writes are) and
# holds the story; back on main, git's checkout takes the copy away and
# the API's change made meanwhile reaches the file ----
mkdir "$T/l" && cd "$T/l" || exit 1
# l1: L-1's files, sorted
l1() {
  find . -path ./.git -prune -o -name 'L-1*' -print | sed 's,^\./,,' |
    LC_ALL=C sort | xargs
}
git init -q . && mkdir refinements backlog active
printf -- '---\nid: L-1\ntitle: One\n---\nbody\n' >backlog/L-1-one.md
printf -- '---\nid: L-2\ntitle: Two\n---\nbody\n' >backlog/L-2-two.md
synced_commit || not_ok "l's first run"
py_rows "UPDATE stories SET status = 'active' WHERE id = 'L-1'"
ss -q || not_ok "l: the API's move"
git reset -q --hard
git add -A && git commit -qm "both copies of L-1"
run ss
check_eq "l: on main, the copy git put back removed" "0|active/L-1-one.md" \
  "$rc|$(l1)"
sed -i 's/^title: Two$/title: Dos/' backlog/L-2-two.md
git commit -qam "the copy's removal, L-2 retitled" && ss -q || not_ok "l: main's run"
main=$(git rev-parse HEAD)
check_eq "l: the last synced commit main's" "$main" "$(last)"
git checkout -q -b old HEAD~1
py_rows "UPDATE stories SET priority = 'high' WHERE id = 'L-1'"
run ss -v
check_contains "l old: the run says it keeps the copy" \
  "backlog/L-1-one.md: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): kept, HEAD being off the last synced commit's line (the story held)" \
  "$err"
check_contains "l old: and counts it as a copy" \
  "1 whose copy git put back beside it, and the last synced commit kept" \
  "$err"
check_eq "l old: exit 0, both of the commit's files there, git status clean" \
  "0|active/L-1-one.md backlog/L-1-one.md|" \
  "$rc|$(l1)|$(git status --porcelain)"
check_eq "l old: the row as the API left it, the last synced commit main's" \
  "active|active/L-1-one.md|high|Dos|$main" \
  "$(py_rows "SELECT status, path, priority FROM stories WHERE id = 'L-1'")|$(py_rows "SELECT title FROM stories WHERE id = 'L-2'")|$(last)"
run git checkout -q main
check_eq "l back: git checkout main works, the copy gone with it" \
  "0||active/L-1-one.md" "$rc|$err|$(l1)"
run ss
check_eq "l back: the API's value reaches the file, one file of L-1" \
  "0||high|active/L-1-one.md" \
  "$rc|$err|$(key priority active/L-1-one.md)|$(l1)"
check_eq "l back: the row as the file, nothing in sync_conflicts" \
  "active|active/L-1-one.md|high|0" \
  "$(py_rows "SELECT status, path, priority FROM stories WHERE id = 'L-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "l back: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a killed run's temporary file (model seed 156): made in the
# spares' directory, out of git's sight, so that a person's `git add -A`
# after the kill does not take it in; the next run removes it ----
# temps: storysync's temporary files beside the stories; hidden: how
# many are in the database's folder
temps() {
  find . \( -path ./.git -o -path ./.storysync \) -prune -o \
    -name '*.storysync-*' -print | sed 's,^\./,,' | xargs
}
hidden() { find .storysync -name '.*.storysync-*' | grep -c .; }
mkdir "$T/k" && cd "$T/k" || exit 1
git init -q . && mkdir refinements backlog
printf -- '---\nid: K-1\ntitle: One\nstatus: backlog\n---\nbody\n' >backlog/K-1-one.md
printf -- '---\nid: K-2\ntitle: Two\n---\nbody\n' >backlog/K-2-two.md
synced_commit || not_ok "k's first run"
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'K-1'"
run env STORYSYNC_TEST_KILL=after-move "$bin"
check_eq "k: killed after its move, its temporary file hidden, none beside" \
  "137||1" "$rc|$(temps)|$(hidden)"
git add -A && git commit -qm "the killed run's files"
check_eq "k: the person's add -A took the move, no temporary file" \
  "backlog/K-1-one.md refinements/K-1-one.md" \
  "$(git show --no-renames --name-only --format= HEAD | LC_ALL=C sort | xargs)"
run ss
check_eq "k: the next run removes it and finishes the write, git sees that only" \
  "0|0|refinement| M refinements/K-1-one.md" \
  "$rc|$(hidden)|$(key status refinements/K-1-one.md)|$(git status --porcelain -uall)"

# ---- the old shape: a killed run's temporary file beside the story,
# which a person committed (an older binary's, or a setgid folder's, as
# here: a file made there takes its group, which one renamed in from the
# spares' directory would lack). A run on the line removes it, as every
# temporary file the journal names, and a commit takes the removal. On a
# checkout of the commit that holds it, it is that commit's file, no
# run's: the run there keeps it (nothing the checkout holds is changed),
# and back on main git's checkout takes it away; nothing is lost ----
mkdir "$T/k2" && cd "$T/k2" || exit 1
git init -q . && mkdir refinements backlog
printf -- '---\nid: K-1\ntitle: One\nstatus: backlog\n---\nbody\n' >backlog/K-1-one.md
printf -- '---\nid: K-2\ntitle: Two\n---\nbody\n' >backlog/K-2-two.md
synced_commit || not_ok "k2's first run"
chgrp nogroup refinements && chmod g+s refinements || not_ok "k2: setgid"
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'K-1'"
run env STORYSYNC_TEST_KILL=after-move "$bin"
tmp=$(temps)
check_eq "k2: killed after its move, its temporary file beside the story" \
  "137|refinements/.K-1-one.md.storysync-|0" "$rc|${tmp%??????}|$(hidden)"
git add -A && git commit -qm "the killed run's files"
check_eq "k2: the person's add -A took it" "$tmp" \
  "$(git show --name-only --format= HEAD | grep -F storysync-)"
run ss
check_eq "k2: on main, the run removes it and finishes the write" \
  "0||refinement" "$rc|$(temps)|$(key status refinements/K-1-one.md)"
sed -i 's/^title: Two$/title: Dos/' backlog/K-2-two.md
git add -A && git commit -qm "its removal, K-2 retitled" && ss -q || not_ok "k2: main's run"
main=$(git rev-parse HEAD)
check_eq "k2: the last synced commit main's" "$main" "$(last)"
git checkout -q -b old HEAD~1
run ss -v
check_eq "k2 old: exit 0, the commit's temporary file there, git status clean" \
  "0|$tmp|" "$rc|$(temps)|$(git status --porcelain)"
check_eq "k2 old: its text the commit's" "$(git show "HEAD:$tmp" | md5sum)" \
  "$(md5sum <"$tmp")"
run git checkout -q main
check_eq "k2 back: git checkout main works, the file gone with it" "0||" \
  "$rc|$err|$(temps)"
run ss
check_eq "k2 back: the rows as main's files, nothing in sync_conflicts" \
  "0||refinement|refinements/K-1-one.md|Dos|0" \
  "$rc|$err|$(py_rows "SELECT status, path FROM stories WHERE id = 'K-1'")|$(py_rows "SELECT title FROM stories WHERE id = 'K-2'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "k2 back: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a killed run's temporary file beside the story (a setgid folder)
# that the journal names, HEAD moved off the line before the next run
# (git checkout of an older commit, which carries it, untracked): that run changes nothing of the
# checkout's and keeps it, saying so; back on the line, the next run
# removes it and finishes the move and the write; nothing is lost ----
mkdir "$T/k3" && cd "$T/k3" || exit 1
git init -q . && mkdir refinements backlog
printf -- '---\nid: K-1\ntitle: One\nstatus: backlog\n---\nbody\n' >backlog/K-1-one.md
printf -- '---\nid: K-2\ntitle: Two\n---\nbody\n' >backlog/K-2-two.md
synced_commit || not_ok "k3's first run"
chgrp nogroup refinements && chmod g+s refinements || not_ok "k3: setgid"
sed -i 's/^title: Two$/title: Dos/' backlog/K-2-two.md
git add -A && git commit -qm "K-2 retitled" && ss -q || not_ok "k3: main's run"
main=$(git rev-parse HEAD)
py_rows "UPDATE stories SET status = 'refinement', title = 'Uno' WHERE id = 'K-1'"
run env STORYSYNC_TEST_KILL=after-move "$bin"
tmp=$(temps)
check_eq "k3: killed after its move, its temporary file beside the story" \
  "137|refinements/.K-1-one.md.storysync-" "$rc|${tmp%??????}"
run git checkout -q -b old HEAD~1
check_eq "k3: the older commit checked out, the killed run's files carried" \
  "0|$tmp" "$rc|$(temps)"
run ss -v
check_contains "k3 off the line: the run says it keeps it" \
  "$tmp: a killed run's temporary file: kept, HEAD being off the last synced commit's line" \
  "$err"
check_eq "k3 off the line: exit 0, the file there, its text the run's" \
  "0|$tmp|Uno" "$rc|$(temps)|$(key title "$tmp")"
run git checkout -q main
check_eq "k3: main checked out again" "0|$main|$tmp" \
  "$rc|$(git rev-parse HEAD)|$(temps)"
run ss
check_eq "k3 back: removed, the move and the write made, nothing in sync_conflicts" \
  "0||refinements/K-1-one.md|Uno|refinement|Uno|Dos|0" \
  "$rc|$(temps)|$(py_rows "SELECT path FROM stories WHERE id = 'K-1'")|$(key title refinements/K-1-one.md)|$(key status refinements/K-1-one.md)|$(py_rows "SELECT title FROM stories WHERE id = 'K-1'")|$(py_rows "SELECT title FROM stories WHERE id = 'K-2'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "k3 back: the next run is quiet" "0||" "$rc|$out|$err"

finish
