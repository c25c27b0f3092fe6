#!/bin/bash
# History names the commit that made the change: each status change a
# sync --git applies is credited to the first commit, in first-parent order
# of the merged range, whose tree has the new status, with that commit's
# author and time; history --backfill credits the same commit and corrects
# a row that credits a later one.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

export HOME=$T/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global init.defaultBranch main
export GIT_COMMITTER_NAME="Ana Author" GIT_COMMITTER_EMAIL=ana@example.org

# commit_as NAME DATE MESSAGE: commits what is staged as NAME; prints its id
commit_as() {
  GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL="${1%% *}@example.org" \
    GIT_AUTHOR_DATE=$2 git commit -qm "$3"
  git rev-parse HEAD
}
story() { # FILE ID TITLE STATUS
  printf -- '---\nid: %s\ntitle: %s\nstatus: %s\n---\nbody of %s\n' \
    "$2" "$3" "$4" "$2" >"$1"
}
# the git rows of story ID: from|to|commit|author|day
credits() {
  q "SELECT from_status, to_status, commit_id, author, substr(changed_at, 1, 10)
     FROM status_history WHERE story_id='$1' AND origin='git' ORDER BY id"
}

git init -q repo && cd repo || exit 1
mkdir refinements backlog active
story refinements/S-1-one.md S-1 One refinement
story backlog/S-2-two.md S-2 Two backlog
story backlog/S-3-three.md S-3 Three backlog
ss init -q
echo .storysync/ >.gitignore
git add -A && commit_as "Ana Author" 2026-01-01T10:00:00Z init >/dev/null
ss -q

# a branch moves S-1 and then edits it; another story's key is edited,
# then the story edited again; then a fast-forward merge
git checkout -qb feat
git mv refinements/S-1-one.md backlog/
c_move=$(commit_as "Mo Mover" 2026-01-02T10:00:00Z "plan S-1")
sed -i 's/^title: .*/title: One, edited/' backlog/S-1-one.md && git add -A
c_edit=$(commit_as "Ed Editor" 2026-01-03T10:00:00Z "edit S-1")
sed -i 's/^status: .*/status: active/' backlog/S-3-three.md && git add -A
c_key=$(commit_as "Kay Keys" 2026-01-04T10:00:00Z "start S-3")
sed -i 's/^title: .*/title: Three, edited/' backlog/S-3-three.md && git add -A
commit_as "Ed Editor" 2026-01-05T10:00:00Z "edit S-3" >/dev/null
git checkout -q main && git merge -q --ff-only feat
run ss sync --git
check_rc "sync --git after the fast-forward merge" 0
check_eq "the move is credited to the commit that moved the file" \
  "refinement|backlog|$c_move|Mo Mover <Mo@example.org>|2026-01-02" "$(credits S-1)"
check_eq "a key edit to the commit that set the key" \
  "backlog|active|$c_key|Kay Keys <Kay@example.org>|2026-01-04" "$(credits S-3)"
check_eq "and the edits reached the rows" \
  "backlog|One, edited
active|Three, edited" \
  "$(q "SELECT status, title FROM stories WHERE id IN ('S-1', 'S-3') ORDER BY id")"
git add -A
c_keys=$(commit_as "Ana Author" 2026-01-06T10:00:00Z "status keys")
ss -q sync --git

# a merge commit: first-parent order makes it the first to have the move
git checkout -qb feat2
git mv backlog/S-2-two.md active/
commit_as "Mia Moves" 2026-01-07T10:00:00Z "start S-2" >/dev/null
sed -i 's/^title: .*/title: Two, edited/' active/S-2-two.md && git add -A
commit_as "Ed Editor" 2026-01-08T10:00:00Z "edit S-2" >/dev/null
git checkout -q main
printf 'notes\n' >NOTES && git add NOTES
commit_as "Ana Author" 2026-01-09T10:00:00Z "notes" >/dev/null
GIT_AUTHOR_NAME="Max Merger" GIT_AUTHOR_EMAIL=Max@example.org \
  GIT_AUTHOR_DATE=2026-01-10T10:00:00Z git merge -q --no-ff -m "merge feat2" feat2
c_merge=$(git rev-parse HEAD)
run ss sync --git
check_rc "sync --git after a merge commit" 0
check_eq "the move the merge brought is credited to the merge" \
  "backlog|active|$c_merge|Max Merger <Max@example.org>|2026-01-10" "$(credits S-2)"

# history --backfill finds the same commits: nothing to add (S-3's file
# followed its key in a later commit: the change is recorded already)
before=$(db_digest)
run ss history --backfill
check_eq "backfill after the syncs: nothing to add or correct" \
  "0|storysync: 0 status changes recorded|$before" "$rc|$out$err|$(db_digest)"

# a row an earlier storysync credited to the later edit is corrected
q "UPDATE status_history SET commit_id='$c_edit', author='Ed Editor <Ed@example.org>',
     changed_at='2026-01-03T10:00:00Z' WHERE story_id='S-1' AND origin='git'"
run ss history --backfill --json
check_eq "backfill corrects the credit" \
  '{"exit":0,"commits":8,"found":3,"recorded":0,"corrected":1,"error":null}' "$out"
check_eq "the row now names the commit that moved the file, one row" \
  "refinement|backlog|$c_move|Mo Mover <Mo@example.org>|2026-01-02" "$(credits S-1)"
check_eq "the other rows are as they were" \
  "backlog|active|$c_key|Kay Keys <Kay@example.org>|2026-01-04
backlog|active|$c_merge|Max Merger <Max@example.org>|2026-01-10" \
  "$(credits S-3; credits S-2)"
before=$(db_digest)
run ss history --backfill
check_eq "again: nothing to do" \
  "0|storysync: 0 status changes recorded|$before" "$rc|$out$err|$(db_digest)"

# a credit to an earlier commit is another change's, not this one's: kept
q "INSERT INTO status_history(story_id, from_status, to_status, changed_at,
     origin, commit_id, author) VALUES ('S-1', 'refinement', 'backlog',
     '2026-01-01T10:00:00Z', 'git', '$(git rev-list --max-parents=0 HEAD)', 'Ana Author <ana@example.org>')"
before=$(db_digest)
run ss history --backfill
check_eq "a row crediting an earlier commit is left alone" \
  "0|storysync: 0 status changes recorded|$before" "$rc|$out$err|$(db_digest)"

# on a history no sync saw, the backfill credits each move to its commit
drop_db && ss init -q && ss -q
run ss history --backfill
check_eq "a fresh database: the three moves recorded" \
  "0|storysync: 3 status changes recorded" "$rc|$out$err"
check_eq "each credited to the commit that moved the file" \
  "refinement|backlog|$c_move|Mo Mover <Mo@example.org>|2026-01-02
backlog|active|$c_merge|Max Merger <Max@example.org>|2026-01-10
backlog|active|$c_keys|Ana Author <Ana@example.org>|2026-01-06" \
  "$(credits S-1; credits S-2; credits S-3)"
finish
