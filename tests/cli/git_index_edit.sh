#!/bin/bash
# git: {commit: true} over git's split index, which storysync writes back
# itself (gitindex_edit): what real git's own index write keeps, it keeps.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.org \
  GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.org

committing_tree 10
git config core.splitIndex true && git config splitIndex.maxPercentChange 100
run ss sync
check_rc "split index: import" 0

# A racily clean entry (git's racy-git problem): a tracked file changed
# after git add but with the stat data the index holds (the same size, an
# mtime no older than the index file's; ctime not trusted here,
# core.trustctime false, as with coarse timestamps it would match too).
# git sees it modified by reading it, as the index file is no newer than
# it; and when git writes the index it smudges the entry (size 0) so that
# the change stays seen. The edit copied it byte for byte into a newer
# index file: git then trusted the stat data, the change hidden (status
# clean, git checkout free to overwrite it).
git config core.trustctime false
# (a minute back: the new index's time is then seconds later, whether or
# not git compares nanoseconds)
m=$(($(date +%s) - 60)).5
printf 'aaaa\n' > NOTES.txt && touch -d "@$m" NOTES.txt
git add NOTES.txt && git commit -qm notes && git update-index --split-index
printf 'bbbb\n' > NOTES.txt
touch -d "@$m" NOTES.txt .git/index
# (--no-optional-locks: status does not write the index, smudging it)
check_eq "racy: git sees the change" " M NOTES.txt" \
  "$(git --no-optional-locks status --porcelain)"
check_eq "racy: the index holds the file's stat data" "size: 5" \
  "$(git ls-files --debug NOTES.txt | grep -o 'size: [0-9]*')"
id=$(q "SELECT id FROM stories ORDER BY id LIMIT 1")
q "UPDATE stories SET title='Set over a racy index' WHERE id='$id'"
run ss sync
check_eq "racy: the run commits" "0|storysync: 1 file from the database" \
  "$rc|$(git log -1 --format=%s)"
check_eq "racy: git still sees the user's change" " M NOTES.txt" \
  "$(git --no-optional-locks status --porcelain)"
check_eq "racy: git diff shows it" "+bbbb" "$(git diff NOTES.txt | grep '^+b')"
finish
