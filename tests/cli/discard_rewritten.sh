#!/bin/bash
# Issue 19: git's version put back (a stash, a reset --hard) over
# storysync's uncommitted move or deletion, then moved with a stage's
# directory the admin renames by hand (mv, git not told) and commits with
# commit -a (git records the old paths' removal), is git's copy, not a
# person's move or a new story (discard_config.sh). Here the history is
# rewritten before the next run, so that HEAD no longer reaches the
# commit the last run recorded: the move committed by an amend of that
# commit, by a commit on another line after a reset there (reset --soft),
# or committed and then rebased onto another line (then a scan, or the
# --git run the post-rewrite hook makes); the new place's files
# added in a commit of their own, or not; and the amend's, the commit
# the last run recorded then pruned (gc), where git cannot tell: the
# answer that keeps both sides, git's version put back. The commits between that
# commit and HEAD are then a rewrite's replays, no one's change since the
# last run; what git says of the path is its version at that commit
# against HEAD's and the index's. Before the fix the run took git's
# version for a person's move of A-4 back to backlog api (the API's web
# lost, nothing in sync_conflicts), or, over the deletion, for a new
# story (the API's deletion undone, nothing recorded). The oracles:
# sqlite3 (psql on a server) for the rows, cmp against git show for the
# files. A twin (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/discard_lib.sh"

git_home

# after_sync: a commit beside the one synced (notes.txt), synced: the
# commit the next run records, which the rewrite replaces; and branch
# side, another line from the first commit (its tree, another commit)
after_sync() {
  git branch side "$(git commit-tree -p HEAD -m side 'HEAD^{tree}')" &&
    echo notes >notes.txt && git add notes.txt && git commit -qm notes &&
    ss -q
}
# rewrite HOW MESSAGE: what git tracks committed (commit -a) by an amend
# of HEAD (gc: then the commit amended pruned), or by a commit on side
# after a reset there, or plainly (the rebase onto side comes after:
# rebased)
rewrite() {
  case $1 in
  amend) git commit -q --amend -am "$2" ;;
  gc) git commit -q --amend -am "$2" && rm -f .git/ORIG_HEAD &&
    git reflog expire --expire=now --all && git gc -q --prune=now ;;
  reset) git reset -q --soft side && git commit -qam "$2" ;;
  rebase | rebase-git) git commit -qam "$2" ;;
  esac
}
rebased() { [[ $1 != rebase* ]] || git rebase -q side; }
# sync_after HOW: the run after the rewrite: a scan (cron's), or, for
# rebase-git, what the post-rewrite hook runs
sync_after() {
  if [ "$1" = rebase-git ]; then run ss --git; else run ss; fi
}
# off_line HOW LAST: HEAD no longer reaches the commit LAST (HOW gc: no
# longer in the object store)
off_line() {
  if [ "$1" = gc ]; then ! git cat-file -e "$2^{commit}" 2>/dev/null
  else ! git merge-base --is-ancestor "$2" HEAD; fi
}

# ---- git's version put back beside storysync's move ----
for how in amend reset rebase rebase-git gc; do
for added in no yes; do
  t=four-$how-$added
  four_tree $t
  synced_commit && git tag init && after_sync || not_ok "$t: the tree"
  last=$(git rev-parse HEAD)
  # web's directory moved (git mv, not committed); the API moves A-4 to
  # web, the run moves its file there; a stash takes the move back
  four_beside "$t"
  # stage backlog's directory renamed todo by hand, committed with -a
  # (the old paths' removal) in a rewritten history
  mv stories/web/backlog stories/web/todo &&
    mv stories/api/backlog stories/api/todo &&
    sed -i 's#^  backlog: backlog$#  backlog: todo#' .storysync.yml &&
    rewrite $how "backlog's directory is todo" || not_ok "$t: the rename"
  if [ $added = yes ]; then
    git add stories/web/todo stories/api/todo &&
      git commit -qm "the files in todo" || not_ok "$t: the files added"
  fi
  rebased $how || not_ok "$t: the rebase"
  off_line $how "$last" || not_ok "$t: HEAD still reaches the last run's commit"
  git show "init:stories/api/backlog/$A4" | cmp -s - stories/api/todo/$A4 ||
    not_ok "$t: git's version moved to stories/api/todo"
  sync_after $how
  four_kept "$t" "$rc"
done
done

# ---- git's version put back over storysync's deletion ----
for how in amend reset rebase rebase-git gc; do
for added in no yes; do
  t=undel-$how-$added
  undel_tree $t
  synced_commit && git tag init && after_sync || not_ok "$t: the tree"
  last=$(git rev-parse HEAD)
  undel_put_back "$t"
  mv backlog todo &&
    sed -i 's#^  backlog: backlog$#  backlog: todo#' .storysync.yml &&
    rewrite $how "backlog's directory is todo" || not_ok "$t: the rename"
  if [ $added = yes ]; then
    git add todo && git commit -qm "the files in todo" ||
      not_ok "$t: the files added"
  fi
  rebased $how || not_ok "$t: the rebase"
  off_line $how "$last" || not_ok "$t: HEAD still reaches the last run's commit"
  git show "init:backlog/$A4" | cmp -s - todo/$A4 ||
    not_ok "$t: git's A-4 back, moved to todo"
  sync_after $how
  undel_kept "$t" "$rc"
done
done
finish
