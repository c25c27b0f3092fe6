#!/bin/bash
# Issue 19: the database check (db_replaced.sh) missed a database that
# git tracks but that no checkout has replaced yet (someone force-added
# .storysync/stories.db): the next checkout of another commit removes or
# replaces it, the API's rows with it. A run now warns (stderr, and
# status's attention list), telling the fix, without refusing a run that
# is otherwise sound; so is one the index no longer lists but HEAD's
# commit holds (git rm --cached, not committed: a reset or stash puts
# HEAD's copy back). A database git's checkout removed was "no database,
# init creates one": the run record says the runs here synced one, and
# the message says what removed it and how to get it back. conflicts
# --resolve and history --backfill wrote into whatever file was there:
# they now make the run's database check (a replaced database: exit 4,
# the run's message), and --resolve takes the run lock as a run does. SQLite's own: a server's database is no file git
# tracks. The oracles: sqlite3 on the file, git, the file system.
. "$(dirname "$0")/lib.sh"

# conflicted FILE API DESC: S-1 retitled FILE in its file and API by the
# API, a run records the conflict (checked: DESC)
conflicted() {
  sed -i "s/^title: .*/title: $1/" backlog/S-1-one.md
  q "UPDATE stories SET title = '$2' WHERE id = 'S-1'"
  run ss -q
  check_eq "$3" "0|1" \
    "$rc|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
}

git_home
mkdir -p "$T/tree" && cd "$T/tree" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "the tree"

# ---- force-added: warned of, the run goes on ----
git add -f "$DB" && git commit -qm "the database, force-added"
q "INSERT INTO stories(id, title) VALUES ('API-1', 'the API wrote this')"
warning="storysync: warning: $T/tree/$DB: git tracks this file, storysync's database: a checkout, merge or reset of a commit that does not hold it removes it, and one that holds another puts that in its place (the rows the API wrote since the last run go with it); untrack it: git rm --cached, and commit"
run ss
check_eq "a database git tracks, the one synced: warned of, the run goes on" \
  "yes|0|$warning|title: the API wrote this" \
  "$(git ls-files --error-unmatch "$DB" >/dev/null && echo yes)|$rc|$err|$(grep -h '^title:' refinements/API-1-*.md)"
run ss status
check_eq "status: attention, and why" "1|yes" \
  "$rc|$(grep -qxF "attention: ${warning#storysync: warning: }" <<<"$out" && echo yes)"
git commit -qam "the database as it is" && cp "$DB" "$O/backup.db"

# ---- git's checkout of a commit without it removes it ----
git checkout -q HEAD~2 || not_ok "the checkout"
check_eq "git's checkout removed the database, the story files kept" \
  "no|yes" \
  "$([ -e "$DB" ] && echo yes || echo no)|$([ -f refinements/API-1-the-api-wrote-this.md ] && echo yes)"
msg="storysync: no database at $T/tree/$DB, where the runs here synced one (its run record says so): git removes a database it tracks (force-added) on a checkout, merge or reset of a commit that does not hold it ('git log --all -- $T/tree/$DB' lists the commits that do); nothing written: put it back (a backup, or git's copy: 'git show COMMIT:PATH'), untrack it (git rm --cached, and commit), and run 'storysync init' here; init alone makes an empty one"
files=$(tree_digest backlog refinements)
for cmd in "" "conflicts --resolve" "history --backfill"; do
  # shellcheck disable=SC2086 # the command's words
  run ss $cmd
  check_eq "${cmd:-sync}: the database git removed: exit 2, what happened, what to do" \
    "2|$msg|no|$files" \
    "$rc|$err|$([ -e "$DB" ] && echo yes || echo no)|$(tree_digest backlog refinements)"
done
cp "$O/backup.db" "$DB" && ss init -q
run ss
check_eq "put back, init: the run goes on, the API's row kept" \
  "0||the API wrote this" \
  "$rc|$err|$(q "SELECT title FROM stories WHERE id = 'API-1'")"
git checkout -q main 2>/dev/null || git checkout -q master
git rm -q --cached "$DB"
# the checkout put git's copy back: the backup is the one synced
cp "$O/backup.db" "$DB" && ss init -q || not_ok "the backup again"
# ---- untracked in the index, not yet committed: HEAD's commit holds
# it, and git reset --hard or git stash put that copy back: warned of
# until the removal is committed ----
in_head="storysync: warning: $T/tree/$DB: HEAD's commit holds this file, storysync's database, though git's index no longer tracks it: git reset --hard, git stash and git checkout HEAD -- put HEAD's copy in its place (the rows the API wrote since the last run go with it); commit the removal"
run ss
check_eq "git rm --cached, not committed: HEAD's copy warned of, the run goes on" \
  "0|$in_head|yes|no" \
  "$rc|$err|$(git cat-file -e "HEAD:$DB" && echo yes)|$(git ls-files "$DB" | grep -q . && echo yes || echo no)"
run ss status
check_eq "status: attention, and why" "1|yes" \
  "$rc|$(grep -qxF "attention: ${in_head#storysync: warning: }" <<<"$out" && echo yes)"
git commit -qm "untracked"
run ss
check_eq "the removal committed: no warning" "0|" "$rc|$err"

# ---- conflicts --resolve and history --backfill on a replaced
# database: refused as a run is ----
conflicted "File title" "API title" "a conflict recorded"
git -c user.name=A -c user.email=a@example.org commit -qam "a title"
mv "$DB" "$O/synced.db" && cp "$O/synced.db" "$DB"
msg="storysync: $T/tree/$DB: not the database file the last run here synced (another file took its place since: git's, a backup's, a copy's), and the rows the API wrote since that run may not be in it; nothing written: put back the database this checkout synced (a backup) and run 'storysync init' here, or run it to sync with this one as it is"
db=$(db_digest)
run ss
check_eq "a copy in place of the database: the run refused" "4|$msg" "$rc|$err"
run ss conflicts --resolve
check_eq "conflicts --resolve: refused as the run, nothing resolved" \
  "4|$msg|1|$db" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")|$(db_digest)"
run ss history --backfill
check_eq "history --backfill: refused as the run, nothing recorded" \
  "4|$msg|$db" "$rc|$out$err|$(db_digest)"
mv "$O/synced.db" "$DB"
run ss conflicts --resolve
check_eq "the database synced back: resolved" \
  "0|storysync: 1 conflict resolved|0" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
run ss history --backfill
check_eq "and history --backfill goes on" "0" "$rc"
# ---- conflicts --resolve takes the run lock as a run does (was: none
# taken, written beside a run) ----
conflicted "File again" "API again" "another conflict recorded"
hold_lock "$DB.lock" || not_ok "the lock held"
run ss conflicts --resolve
check_eq "conflicts --resolve, the lock held: exit 75, said, nothing resolved" \
  "75|storysync: another storysync run holds $T/tree/$DB.lock|1" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
release_lock
run ss conflicts --resolve
check_eq "the lock free: resolved" "0|storysync: 1 conflict resolved|0" \
  "$rc|$out$err|$(q "SELECT count(*) FROM sync_conflicts WHERE resolved IS NULL")"
finish
