#!/bin/bash
# git: {commit: true}: what a DB->file pass wrote is committed, with the
# configured author, and the next --git run starts from that commit.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.org \
  GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.org

"$GEN_STORIES" . --count 30 --git 2>/dev/null
printf 'git:\n  commit: true\n  author: "Story Bot <bot@example.org>"\n' >> .storysync.yml
echo .storysync/ > .gitignore
ss init >/dev/null # adds .storysync.local.yml to .gitignore
git add -A && git commit -qm config
run ss sync
check_rc "import" 0
check_eq "a file->DB run commits nothing" config "$(git log -1 --format=%s)"

id=$(q "SELECT id FROM stories WHERE status='backlog' ORDER BY id LIMIT 1")
old=$(q "SELECT path FROM stories WHERE id='$id'")
q "UPDATE stories SET status='active', title='Set by the API' WHERE id='$id'"
run ss sync
check_rc "DB->file run" 0
new=$(q "SELECT path FROM stories WHERE id='$id'")
check_eq "one commit by the configured author" "Story Bot <bot@example.org>|storysync: 2 files from the database" \
  "$(git log -1 --format='%an <%ae>|%s')"
check_eq "it holds the move and the edit" "R|$old|$new" \
  "$(git show -M --name-status --format= HEAD | tr '\t' '|' | sed 's/^R[0-9]*/R/')"
check_eq "the work tree is clean" "" "$(git status --porcelain)"
check_eq "the commit is the last synced one" "$(git rev-parse HEAD)" \
  "$(q "SELECT value FROM sync_meta WHERE key='git.last_commit'")"
before=$(db_digest)
run ss sync --git -v
check_eq "the next --git run has nothing to do" "0|$before" "$rc|$(db_digest)"
check_eq "and commits nothing" "storysync: 2 files from the database" "$(git log -1 --format=%s)"

# a staged change of the user's stays staged and out of the commit
echo "notes" > NOTES.txt && git add NOTES.txt
q "UPDATE stories SET priority='low' WHERE id='$id'"
run ss sync
check_rc "DB->file run with something staged" 0
check_eq "the user's staged file is not committed" "$new" "$(git show --name-only --format= HEAD)"
check_eq "and is still staged" "A  NOTES.txt" "$(git status --porcelain)"
finish
