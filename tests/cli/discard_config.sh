#!/bin/bash
# Issue 19 (model seed 688): storysync's uncommitted write of the API's
# value is discarded (checkout --) and, before the next run, an admin
# renames a stage in .storysync.yml (the story's own, or another). The
# run that meets both relocates the rows, state and bases first; the
# discard must stay a discard: the API's value written again, the file's
# kept in sync_conflicts, never the file's value taken for a person's
# edit. Seed 688's write was byte for byte the first commit's version of
# the file (as git_discard_old.sh has it), which is why it was lost
# before 5dde71b; both shapes (a version git held, one it never held) are
# checked here. And (model seed 240) a backlog's directory (or a stage's)
# moved in the configuration, not committed: the run's write of the API's value in the
# moved directory, thrown away with the move (reset --hard, stash: the
# configuration and the files go back) or after the move was committed
# (reset --hard), is a discard too, HEAD's version from before the move
# the one put back. The oracles: sqlite3 (psql on a server) for the rows,
# sed on the files, git for the versions. And (model seed 26) the same
# when a run followed the move first and the write is a later run's:
# git mv staged HEAD's version at the moved path, which is what a reset
# or a stash puts back. And (model seed 1053) git's version put back
# beside the run's move, then moved with a stage's directory the admin
# renames before the next run (git mv, committed or staged, or mv): the
# configuration's move of git's version, not a person's move of the story;
# and so for git's version put back over storysync's deletion of a file
# for the API's (not a new story). A twin (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

. "$(dirname "$0")/discard_lib.sh"

# tree DIR VALUE: s1_written (the API's VALUE written: critical is the
# first commit's version, byte for byte; high a version git never held),
# then thrown away by checkout --
tree() {
  s1_written "$@"
  check_eq "$1: the run wrote the API's $2" "$2" "$(key priority)"
  git checkout -- $F
  [ "$(key priority)" = low ] || not_ok "$1: git put low back"
}

for want in critical high; do
  for rename in own other; do
    tree $want-$rename $want
    if [ $rename = own ]; then
      sed -i 's/^  backlog: backlog$/  todo: backlog/' .storysync.yml
      status=todo
    else
      sed -i 's/^  refinement: refinements$/  idea: refinements/' .storysync.yml
      status=backlog
    fi
    grep -q "^  $status: backlog$" .storysync.yml || not_ok "the rename"
    run ss
    check_eq "$want, $rename stage renamed: the discard stays a discard" \
      "0|$want|$want|$status|both_changed|db|priority|low" \
      "$rc|$(field priority)|$(key priority)|$(field status)|$(conflicts)"
  done
done

# ---- a backlog's (or a stage's) directory moved, not committed (model
# seed 240) ----
A=A-2-bravo-6.md
# moved_written DIR WHAT: backlog api (stories/api) with A-2 synced and
# committed (tag init); then an admin's move (git mv, the configuration
# edited, neither committed) of the backlog to stories/api14 (WHAT
# backlog) or of stage refinement's directory to ideas (WHAT stage), the
# API's title, and a run that writes it to the moved file (with a third
# argument, later: a run follows the move first, and the write is the next
# run's, model seed 26). The shell is left in DIR.
moved_written() {
  stages_repo "$1" refinement:refinements && rmdir refinements
  printf 'backlogs:\n  api: stories/api\n' >>.storysync.yml
  mkdir -p stories/api/refinements
  printf -- '---\nid: A-2\ntitle: bravo 6\npriority: low\n---\n\nBody.\n' \
    >stories/api/refinements/$A
  synced_commit && git tag init || not_ok "$1: the tree"
  if [ "$2" = backlog ]; then
    git mv stories/api stories/api14 &&
      sed -i 's#^  api: stories/api$#  api: stories/api14#' .storysync.yml
  else
    git mv stories/api/refinements stories/api/ideas &&
      sed -i 's#^  refinement: refinements$#  refinement: ideas#' .storysync.yml
  fi
  if [ -n "${3:-}" ]; then
    run ss -q
    check_eq "$1: a run follows the move" "0|" "$rc|$err"
  fi
  q "UPDATE stories SET title = 'alpha 15' WHERE id = 'A-2'"
  run ss
  check_eq "$1: the run writes the API's title into the moved directory" \
    "0|title: alpha 15" "$rc|$(grep -h '^title:' stories/*/*/$A)"
}
# a2 DIR: A-2's row, the backlog recorded, its conflicts (kind|kept|
# fields|the lost title), its file at DIR (the committed version with the
# API's title, compared with git's) and the story files there are
a2() {
  local f="$1/$A"
  echo "$(q "SELECT backlog, title, path FROM stories WHERE id = 'A-2'")|$(
    q "SELECT path FROM backlogs WHERE name = 'api'")|$(
    q "SELECT kind, kept, fields, $(jget lost title) FROM sync_conflicts
       WHERE story_id = 'A-2' ORDER BY id")"
  git show "init:stories/api/refinements/$A" |
    sed 's/^title: bravo 6$/title: alpha 15/' | cmp -s - "$f" &&
    echo "$f: the committed version, the API's title"
  find stories -name '*.md' | sort
}

for moved in backlog stage; do
for how in reset stash commit later-reset later-stash; do
  later=
  [[ $how == later-* ]] && later=later
  moved_written $moved-$how $moved $later
  case $how in
    reset | later-reset) git reset -q --hard ;;
    stash | later-stash) git stash -q ;;
    commit)
      # the admin commits the move (what git mv staged, not the write),
      # then throws the tree's edits away
      git add .storysync.yml && git commit -qm "api moves" &&
        git reset -q --hard ;;
  esac
  # where git put the file back, and the backlog's directory then
  dir=stories/api/refinements bdir=stories/api
  if [ $how = commit ]; then
    [ $moved = backlog ] && dir=stories/api14/refinements bdir=stories/api14
    [ $moved = stage ] && dir=stories/api/ideas
  fi
  check_eq "$moved, $how: git put bravo 6 back in $dir" \
    "title: bravo 6" "$(grep '^title:' $dir/$A 2>&1)"
  run ss
  check_eq "$moved, $how: the discard stays a discard, the API's title written again" \
    "0|api|alpha 15|$dir/$A|$bdir|both_changed|db|title|bravo 6
$dir/$A: the committed version, the API's title
$dir/$A" "$rc|$(a2 $dir)"
  quiet_next --digest "$moved, $how"
done
done

# ---- git's version put back, then moved with a stage's directory
# (model seed 1053) ----
# Backlogs web (stories/web) and api (stories/api), A-4 in api's stage
# backlog, synced and committed (tag init). web's directory moved to
# stories/web2 (git mv, the configuration edited, neither committed); the
# API moves A-4 to backlog web, and a run writes that: A-4's file goes to
# stories/web2/backlog, where git does not track it. A stash takes the
# configuration and what git tracks back: git's A-4 back in
# stories/api/backlog, the run's file left in stories/web2, no backlog's
# directory now. Then, before any run, the admin renames stage backlog's
# directory to todo (git mv in each backlog, the configuration edited;
# committed, or staged only; or by hand, mv, git not told, and then
# either left so, or staged with add -u, or committed with commit -a:
# git records the deletion at the old path and holds nothing at the new
# one; or that commit, then the new place's files added in another).
# Before the fix the run took git's version, which the rename had moved
# to stories/api/todo, for a person's move of A-4 to backlog api: the
# API's web lost, with nothing in sync_conflicts (by hand, then staged
# or committed: until issue 19's second fix).
for how in commit staged hand hand-staged hand-commit hand-added; do
  four_tree four-$how
  synced_commit && git tag init || not_ok "$how: the tree"
  four_beside "$how"
  mv=(git mv)
  [ ${how%-*} = hand ] && mv=(mv)
  "${mv[@]}" stories/web/backlog stories/web/todo &&
    "${mv[@]}" stories/api/backlog stories/api/todo &&
    sed -i 's#^  backlog: backlog$#  backlog: todo#' .storysync.yml
  case $how in
  *commit | hand-added) git commit -qam "backlog's directory is todo" ;;
  hand-staged) git add -u ;;
  esac
  [ $how = hand-added ] && git add stories/web/todo stories/api/todo &&
    git commit -qm "the files in todo"
  git show "init:stories/api/backlog/$A4" | cmp -s - stories/api/todo/$A4 ||
    not_ok "$how: git's version moved to stories/api/todo"
  run ss -v
  check_eq "$how: git's version moved with the directory stays a discard" \
    "0|storysync: stories/api/todo/$A4: git's version put back over storysync's uncommitted write (a discard, not an edit): written again" \
    "$rc|$(grep -F "$A4: git's" <<<"$err")"
  four_kept "$how"
done

# ---- the same for git's version put back over storysync's deletion ----
# The API deletes A-4, the run deletes its file (not committed), a reset
# --hard puts git's version back, and the admin renames stage backlog's
# directory to todo (git mv, committed or staged; or mv, then add -u,
# commit -a, commit -a and a commit adding todo, or none) before the next
# run: still git's version put back, deleted again, its content in
# sync_conflicts. Before the fix the run took it for a new story: the
# API's deletion undone, nothing recorded.
for how in commit staged hand hand-staged hand-commit hand-added; do
  undel_tree undel-$how
  synced_commit && git tag init || not_ok "$how: the tree"
  undel_put_back "$how"
  mv=(git mv)
  [ ${how%-*} = hand ] && mv=(mv)
  "${mv[@]}" backlog todo &&
    sed -i 's#^  backlog: backlog$#  backlog: todo#' .storysync.yml
  case $how in
  *commit | hand-added) git commit -qam "backlog's directory is todo" ;;
  hand-staged) git add -u ;;
  esac
  [ $how = hand-added ] && git add todo && git commit -qm "the files in todo"
  git show "init:backlog/$A4" | cmp -s - todo/$A4 ||
    not_ok "$how: git's A-4 back, moved to todo"
  run ss -v
  check_eq "$how: git's version moved with the directory is deleted again" \
    "0|storysync: todo/$A4: git's version put back after storysync deleted it for the API's deletion of A-4 (a discard, not a new story): deleted again, the file's version kept in sync_conflicts" \
    "$rc|$(grep -F "$A4: git's" <<<"$err")"
  undel_kept "$how"
done
finish
