#!/bin/bash
# Issue 19 (campaign 19's tree_rename.sh): a commit renames the tree
# (tree: web -> tree: web2) while an API edit of tree web is pending. The
# run imported the files as a new tree web2, the API's edit neither
# written nor recorded; tree web's rows stayed, synced by no run ever
# again, and status said healthy. A checkout syncs one tree: a run whose
# configuration names another tree than the one the trees table records
# for this checkout (host and config directory) is refused before it
# writes anything, exit 4, naming both and what to do; with tree: web back
# the API's edit reaches the file; init --take-over moves the checkout to
# web2 and leaves web to no checkout, which status says (attention). A
# tree in a subfolder sharing the database is not concerned. A twin
# (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
host=$(hostname)
mkdir -p "$T/r/stories/backlog" && cd "$T/r" || exit 1
git init -q .
printf 'tree: web\nbacklogs:\n  web: stories\n' >.storysync.yml
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >stories/backlog/S-1-one.md
ss -q init
echo .storysync/ >.gitignore
git add -A && git commit -qm init
run ss sync
check_eq "tree web: the first run creates S-1" "0|storysync: 1 created" \
  "$rc|$out$err"
dbref=$(db_ref)
case $dbref in /* | *://*) ;; *) dbref=$T/r/$dbref ;; esac

# ---- another tree of the repository, in a subfolder with its own
# configuration (-c: init refuses to split a tree by default), shares the
# database ----
M=$T/r/mobile
mkdir -p "$M/stories/backlog" && cd "$M" || exit 1
printf 'tree: mobile\nbacklogs:\n  mobile: stories\n' >.storysync.yml
printf 'database: %s\n' "$dbref" >.storysync.local.yml
printf -- '---\nid: M-1\ntitle: Mobile\n---\nbody\n' >stories/backlog/M-1-mobile.md
ss -q -c .storysync.yml init
git add .storysync.yml stories && git commit -qm "tree mobile"
run ss sync
check_eq "tree mobile, in a subfolder: its run creates M-1" \
  "0|storysync: 1 created" "$rc|$out$err"
cd "$T/r" || exit 1

# ---- the rename committed with the API's edit of web pending ----
q "UPDATE stories SET title = 'API' WHERE tree = 'web' AND id = 'S-1'"
sed -i 's/^tree: web$/tree: web2/' .storysync.yml
git commit -qam "rename the tree"
file=$(cat stories/backlog/S-1-one.md)
files=$(tree_digest)
db=$(db_digest)
msg="storysync: $T/r/.storysync.yml names tree 'web2', but this checkout ($host:$T/r) syncs tree 'web' of $dbref: nothing written. A tree renamed in the configuration is not followed: put 'tree: web' back, or, to sync tree 'web2' from here instead, run 'storysync init --take-over' here (tree 'web' is then synced by no checkout: its rows stay in the database, and no file gets the API's edits of them)"
run ss status
check_eq "status before any run: not healthy (stale: web2 never ran)" 6 "$rc"
check_contains "it says the next run would be refused, and why" \
  "pending: the next run would be refused: ${msg#storysync: }" "$out"
run ss sync
check_eq "the run is refused: exit 4, both trees and what to do" "4|$msg" \
  "$rc|$err"
check_eq "nothing imported as web2" 0 \
  "$(q "SELECT count(*) FROM stories WHERE tree = 'web2'")"
check_eq "web2 is not registered" 0 \
  "$(q "SELECT count(*) FROM trees WHERE name = 'web2'")"
check_eq "the API's edit is still in web's row" "API" \
  "$(q "SELECT title FROM stories WHERE tree = 'web' AND id = 'S-1'")"
check_eq "nothing else written to the database" "$db" "$(db_digest)"
check_eq "the file untouched" "$file" "$(cat stories/backlog/S-1-one.md)"
check_eq "no file written" "$files" "$(tree_digest)"
for o in --full --git --force --dry-run; do
  run ss sync $o
  check_eq "sync $o: refused the same" "4|$msg" "$rc|$err"
done
# the other commands that write the database: refused the same (they
# resolved conflicts and recorded history in tree web2, exit 0)
run ss conflicts --resolve
check_eq "conflicts --resolve: refused the same" "4|$msg" "$rc|$err"
run ss history --backfill
check_eq "history --backfill: refused the same" "4|$msg" "$rc|$err"
run ss init
check_eq "init without --take-over: refused the same" "4|$msg" "$rc|$err"
check_eq "none of them wrote anything" "$db|$files" "$(db_digest)|$(tree_digest)"
run ss status
check_eq "status: refused, exit 4" "4|refused: a guard has held since" \
  "$rc|$(head -1 <<<"$out" | cut -c1-31)"
check_contains "the verdict names both trees" "${msg#storysync: }" "$out"
(cd "$M" && ss sync)
check_eq "tree mobile's run goes on" 0 "$?"

# ---- tree: web back: the API's edit reaches the file ----
sed -i 's/^tree: web2$/tree: web/' .storysync.yml
git commit -qam "the tree's name back"
run ss sync
check_eq "tree: web back: the run syncs the API's edit" \
  "0|storysync: 1 updated" "$rc|$out$err"
check_eq "to the file" "title: API" "$(grep '^title:' stories/backlog/S-1-one.md)"
run ss status
check_eq "status: healthy again" "0|healthy" "$rc|$(head -1 <<<"$out" | cut -d: -f1)"

# ---- a second configuration file in this directory naming another tree
# (-c): one directory syncs one tree, refused the same ----
sed 's/^tree: web$/tree: other/' .storysync.yml >other.yml
[ -e .storysync.local.yml ] && cp .storysync.local.yml other.local.yml
db=$(db_digest)
run ss -c other.yml sync
check_eq "-c other.yml (tree other) in web's directory: exit 4" \
  "4|storysync: $T/r/other.yml names tree 'other', but this checkout ($host:$T/r) syncs tree 'web'" \
  "$rc|${err%% of *}"
check_eq "nothing written" "$db" "$(db_digest)"
rm -f other.yml other.local.yml

# ---- init --take-over moves this checkout to web2 ----
sed -i 's/^tree: web$/tree: web2/' .storysync.yml
git commit -qam "rename the tree again"
run ss sync
check_eq "the rename again: refused" "4|$msg" "$rc|$err"
run ss init --take-over
check_eq "init --take-over: done" 0 "$rc"
check_eq "the checkout syncs web2; web is synced by no checkout" \
  "mobile|$host|$M
web|-|-
web2|$host|$T/r" \
  "$(q "SELECT name, coalesce(host, '-'), coalesce(path, '-') FROM trees ORDER BY name")"
run ss sync
check_eq "the next run imports the files as web2" "0|storysync: 1 created" \
  "$rc|$out$err"
check_eq "web's row is still there, its title the API's" "web|API
web2|API" "$(q "SELECT tree, title FROM stories WHERE id = 'S-1' ORDER BY tree")"
run ss status
check_eq "status: attention, exit 1: web is synced by no checkout" \
  "1|attention: tree 'web' of the database (1 story) is synced by no checkout" \
  "$rc|$(head -1 <<<"$out")"
check_contains "and its line says so" "  web: 1 story, no checkout registered" "$out"
run ss --json status
check_eq "status --json: the verdict attention" attention \
  "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["verdict"])' <<<"$out")"
cd "$M" && run ss status
check_eq "the other tree's status says so too" \
  "1|attention: tree 'web' of the database (1 story) is synced by no checkout" \
  "$rc|$(head -1 <<<"$out")"

# ---- what the old code left: this checkout registered for both ----
cd "$T/r" || exit 1
q "UPDATE trees SET host = '$host', path = '$T/r' WHERE name = 'web'"
db=$(db_digest)
run ss sync
check_eq "registered for web and web2: the run of web2 is refused, naming web" \
  "4|storysync: $T/r/.storysync.yml names tree 'web2', but this checkout ($host:$T/r) syncs tree 'web'" \
  "$rc|${err%% of *}"
check_eq "nothing written" "$db" "$(db_digest)"
run ss init --take-over
check_eq "init --take-over settles it: web given up again" "0|web|-|-" \
  "$rc|$(q "SELECT name, coalesce(host, '-'), coalesce(path, '-') FROM trees WHERE name = 'web'")"
run ss sync
check_eq "and the run goes on" "0|" "$rc|$out$err"

# ---- web's rows deleted (the API's): nothing left unsynced ----
q "DELETE FROM stories WHERE tree = 'web'"
run ss status
check_eq "status: healthy once the tree given up has no stories" "0|healthy" \
  "$rc|$(head -1 <<<"$out" | cut -d: -f1)"
finish
