#!/bin/bash
# Issue 19: a killed run's move made, then git's version put back at the
# old place (checkout, reset, stash) beside it (killed_write.sh has the
# family's rule): git's version is a discard, not a person's move, unless
# a person edited or committed it since (seeds 228, 255, 1070, 1099, 215;
# older than the agreed one; committed; the configuration change the run
# followed thrown away, its folders moved back by hand: 1036, 190). The
# oracle reads the database with Python's sqlite3 (psycopg2 on a server:
# lib.sh's py_rows) and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# ---- a move made, its old place put back by git: the run is killed
# after its writes (the API's status moved the file, its title written),
# and reset --hard or a stash puts git's version back at the old path
# beside the moved file, untracked. As for a move a run committed, git's
# version is no second claim of the id: it is removed, and the moved file
# is the story's, the API's values in it (model seeds 79, 152: both
# named, exit 1 on every run until a person removed one; 79 in a --git
# run, which reads the journal's paths and the diff's). And (model seed
# 228) with refinement's folder renamed to ideas after the kill (git mv,
# which takes the moved file along, committed) before the reset: the
# journal's path is where the configuration had the folder then ----
for how in reset stash git renamed; do
  stages_repo "put-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: T1\nstatus: backlog\n---\nbody\n' >backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >backlog/S-2-t.md
  # a file git tracks in refinements (for git mv to move the folder)
  printf -- '---\nid: S-3\ntitle: T3\n---\nbody\n' >refinements/S-3-t.md
  synced_commit || not_ok "put-$how: the tree"
  py_rows "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  killed_run after-writes
  r=refinements
  if [ $how = renamed ]; then
    r=ideas
    git mv refinements ideas &&
      sed -i 's/^  refinement: refinements$/  refinement: ideas/' .storysync.yml &&
      git add .storysync.yml && git commit -qm "refinement's folder is ideas"
  fi
  rc_kill=$rc
  if [ $how = stash ]; then git stash -q; else git reset -q --hard; fi
  check_eq "put-$how: killed after the move, git's version back beside it" \
    "137|backlog/S-1-t.md $r/S-1-t.md|API" \
    "$rc_kill|$(find $r backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title $r/S-1-t.md)"
  if [ $how = git ]; then run ss sync --git; else run ss; fi
  check_eq "put-$how: git's version removed, the API's values stay" \
    "0|$r/S-1-t.md|API|refinement|refinement/API/$r/S-1-t.md|0" \
    "$rc|$(find $r backlog -name 'S-1*')|$(key title $r/S-1-t.md)|$(key status $r/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  quiet_next "put-$how"
done

# what -v said on stderr but for the scan's and the apply's counts
notes() {
  printf '%s\n' "$err" | grep -v -e '^storysync: scanned ' -e '^storysync: applied '
}

# ---- the same, git's version older than the agreed one: a person's
# title synced and not committed, then the run that moves the file for
# the API's status and priority is killed after its writes, and
# checkout -- . puts HEAD's version back at the old path (neither the
# agreed content nor what the run moved from there: git's). It is
# removed, as git holds it; the moved file keeps the person's title and
# the API's values (model seed 1070: both named, exit 1 on every run;
# how amended: the last synced commit amended before the kill, so that
# HEAD's first parents do not reach it, and the path's version there is
# HEAD's: no person's change; how git: the next run is the hook's, --git,
# which asked git nothing of the copy and named both, exit 1, where a
# plain run removes it: issue 19) ----
for how in plain amended git; do
  t=put-older-$how
  stages_repo "$t" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: T1\npriority: low\n---\nbody\n' >backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >backlog/S-2-t.md
  synced_commit || not_ok "$t: the tree"
  head_blob=$(git rev-parse HEAD:backlog/S-1-t.md)
  sed -i 's/^title: T1$/title: Person/' backlog/S-1-t.md
  ss -q || not_ok "$t: the person's title synced"
  [ $how = amended ] && git commit -q --amend --allow-empty -m amended
  py_rows "UPDATE stories SET status = 'refinement', priority = 'high' WHERE id = 'S-1'"
  killed_run after-writes
  rc_kill=$rc
  git checkout -- .
  check_eq "$t: killed after the move, HEAD's version back beside it" \
    "137|backlog/S-1-t.md refinements/S-1-t.md|$head_blob" \
    "$rc_kill|$(find refinements backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(git hash-object backlog/S-1-t.md)"
  if [ $how = git ]; then run ss -v sync --git; else run ss -v; fi
  check_eq "$t: git's version removed, said once" \
    "0|storysync: backlog/S-1-t.md: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): removed, as git holds it" \
    "$rc|$(notes)"
  check_eq "$t: the person's title and the API's values stay" \
    "refinements/S-1-t.md|Person|high|refinement/Person/high/refinements/S-1-t.md|0|$head_blob" \
    "$(find refinements backlog -name 'S-1*')|$(key title refinements/S-1-t.md)|$(key priority refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")|$(git rev-parse HEAD:backlog/S-1-t.md)"
  quiet_next "$t"
done

# ---- the same, but the person edits git's version put back at the old
# path and commits it: git holds that file as a person's commit, not as a
# discard's, so it is no leftover (taken for one, it was removed and the
# person's title lost); the moved file is the run's, from the agreed
# content: removed, the move undone (as below), and the person's file is
# the story's: their committed title, the API's status and priority ----
stages_repo put-committed refinement:refinements backlog:backlog
printf -- '---\nid: S-1\ntitle: T1\npriority: low\n---\nbody\n' >backlog/S-1-t.md
printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >backlog/S-2-t.md
synced_commit || not_ok "put-committed: the tree"
sed -i 's/^title: T1$/title: Person/' backlog/S-1-t.md
ss -q || not_ok "put-committed: the person's title synced"
py_rows "UPDATE stories SET status = 'refinement', priority = 'high' WHERE id = 'S-1'"
killed_run after-writes
rc_kill=$rc
git checkout -- . && sed -i 's/^title: T1$/title: Committed/' backlog/S-1-t.md &&
  git commit -qm committed -- backlog/S-1-t.md
check_eq "put-committed: killed after the move, the old copy edited, committed" \
  "137|backlog/S-1-t.md refinements/S-1-t.md|Committed|Person" \
  "$rc_kill|$(find refinements backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title backlog/S-1-t.md)|$(key title refinements/S-1-t.md)"
run ss -v
check_eq "put-committed: the run's moved file removed, said once" \
  "0|storysync: refinements/S-1-t.md: a killed run's uncommitted move of S-1, untouched, beside git's version put back at the old place and edited since: removed, the move undone (it held the agreed version and the database's values only)" \
  "$rc|$(notes)"
check_eq "put-committed: the person's committed title, the API's values, git's priority kept" \
  "refinements/S-1-t.md|Committed|high|refinement/Committed/high/refinements/S-1-t.md|both_changed/db/priority/low" \
  "$(find refinements backlog -name 'S-1*')|$(key title refinements/S-1-t.md)|$(key priority refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost priority) FROM sync_conflicts" | paste -sd ' ')"
quiet_next "put-committed"

# ---- the same after a change of the configuration not committed: web's
# folder moved (git mv) to web2, the run that follows it and moves S-1 for
# the API's status is killed after its writes, reset --hard or a stash
# throws the change away (the configuration, the folder git tracks), and
# the person moves the file the run left in web2 back with its folder
# (mv: git does not track it). No configuration has the journal's folder
# now: the file of that name there, with the run's content, is the run's
# move all the same, and git's version beside it is removed (model seeds
# 1036, 190: both named, exit 1 on every run) ----
for how in reset stash; do
  t=put-folder-$how
  web_api_repo "$t" refinement:refinements backlog:backlog
  mkdir -p stories/web/refinements stories/web/backlog stories/api/backlog
  printf -- '---\nid: S-1\ntitle: T1\n---\nbody\n' >stories/web/backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >stories/web/backlog/S-2-t.md
  printf -- '---\nid: A-1\ntitle: A1\n---\nbody\n' >stories/api/backlog/A-1-t.md
  synced_commit || not_ok "$t: the tree"
  web_moved || not_ok "$t: web's folder moved"
  py_rows "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  killed_run after-writes
  rc_kill=$rc
  if [ $how = stash ]; then git stash -q; else git reset -q --hard; fi
  mkdir stories/web/refinements &&
    mv stories/web2/refinements/S-1-t.md stories/web/refinements/ &&
    rmdir stories/web2/refinements stories/web2 ||
    not_ok "$t: the person's move back"
  check_eq "$t: killed after the move, git's version back beside it" \
    "137|stories/web/backlog/S-1-t.md stories/web/refinements/S-1-t.md|API|T1" \
    "$rc_kill|$(find stories -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title stories/web/refinements/S-1-t.md)|$(key title stories/web/backlog/S-1-t.md)"
  run ss -v
  check_eq "$t: git's version removed, said once" \
    "0|storysync: stories/web/backlog/S-1-t.md: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): removed, as git holds it" \
    "$rc|$(notes)"
  check_eq "$t: the API's values stay, at the run's place" \
    "stories/web/refinements/S-1-t.md|API|refinement/API/stories/web/refinements/S-1-t.md|0|T1" \
    "$(find stories -name 'S-1*')|$(key title stories/web/refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")|$(git show HEAD:stories/web/backlog/S-1-t.md | key title /dev/stdin)"
  quiet_next "$t"
done

# ---- a move made by a run killed after it (the API's status and
# priority), git's version put back at the old place (reset --hard, a
# stash), and a person edits that file's title before the next run (how
# git: the next run is a --git run, which leaves the edited file for the
# run after; how killed: the next run is killed after the scan). The
# moved file holds the agreed version and the database's values only:
# it is removed, the move undone (a "< " line, durable before the
# removal), and the person's file is the story's, which the run moves
# where the database puts it: the person's title, the API's status and
# priority (model seeds 1099, 215: both named, exit 1 on every run); the
# agreed priority in git's version kept as a conflict the database won,
# as a person may have typed it back over the run's ----
for how in reset stash git killed; do
  t=put-edited-$how
  stages_repo "$t" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: T1\nstatus: backlog\npriority: low\n---\nbody\n' >backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >backlog/S-2-t.md
  synced_commit || not_ok "$t: the tree"
  py_rows "UPDATE stories SET status = 'refinement', priority = 'high' WHERE id = 'S-1'"
  killed_run after-move
  rc_kill=$rc
  if [ $how = stash ]; then git stash -q; else git reset -q --hard; fi
  sed -i 's/^title: T1$/title: Person/' backlog/S-1-t.md
  check_eq "$t: killed after the move, git's version back and edited" \
    "137|backlog/S-1-t.md refinements/S-1-t.md|Person|T1" \
    "$rc_kill|$(find refinements backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(key title backlog/S-1-t.md)|$(key title refinements/S-1-t.md)"
  said="storysync: refinements/S-1-t.md: a killed run's uncommitted move of S-1, untouched, beside git's version put back at the old place and edited since: removed, the move undone (it held the agreed version and the database's values only)"
  case $how in
    git)
      run ss -v sync --git
      check_eq "$t: the moved file removed, said once; the edit left" \
        "1|$said|backlog/S-1-t.md: changed since the scan; left for the next run|backlog/S-1-t.md" \
        "$rc|$(notes | paste -sd '|')|$(find refinements backlog -name 'S-1*')" ;;
    killed)
      killed_run reconciled
      check_eq "$t: the moved file removed, the run killed after" \
        "137|backlog/S-1-t.md" \
        "$rc|$(find refinements backlog -name 'S-1*')" ;;
    *)
      run ss -v
      check_eq "$t: the moved file removed, said once" "0|$said" \
        "$rc|$(notes)" ;;
  esac
  [ $how = git ] || [ $how = killed ] && run ss
  check_eq "$t: the person's title, the API's status and priority, git's priority kept" \
    "0|refinements/S-1-t.md|Person|refinement|high|refinement/Person/high/refinements/S-1-t.md|both_changed/db/priority/low" \
    "$rc|$(find refinements backlog -name 'S-1*')|$(key title refinements/S-1-t.md)|$(key status refinements/S-1-t.md)|$(key priority refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost priority) FROM sync_conflicts" | paste -sd ' ')"
  quiet_next "$t"
done

# ---- a move made by a run killed after it (the API's status), git's
# version put back at the old place (checkout --), both files committed,
# and a person edits the moved file: back to the bytes of the version
# before storysync's writes (its title, the API's since, and the
# priority they had changed). The file at the old place holds what the
# run moved from there: it is git's version put back, removed; the moved
# file is the story's, at the run's place: the API's status stays, the
# person's title and priority too, no conflict (model seed 255: the moved
# file was removed as git's version put back, the old one taken for a
# person's move back, the API's status and the person's edits lost) ----
story_tree "put-edited" backlog/S-1-t.md S-1 T1 'priority: low\n'
orig=$(git hash-object backlog/S-1-t.md)
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
ss -q && git commit -qam api && ss -q || not_ok "put-edited: the API's title"
sed -i 's/^priority: low$/priority: high/' backlog/S-1-t.md && git commit -qam high
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
killed_run after-move
git checkout -- . && git add -A && git commit -qm both
check_eq "put-edited: killed after the move, git's version back beside it" \
  "137|backlog/S-1-t.md refinements/S-1-t.md" \
  "$rc|$(find refinements backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')"
sed -i 's/^priority: high$/priority: low/; s/^title: API$/title: T1/' refinements/S-1-t.md
check_eq "put-edited: the moved file holds the bytes before the writes" \
  "$orig" "$(git hash-object refinements/S-1-t.md)"
run ss
check_eq "put-edited: the API's status, the person's title and priority" \
  "0|refinements/S-1-t.md|T1|low|refinement/T1/low/refinements/S-1-t.md|0" \
  "$rc|$(find refinements backlog -name 'S-1*')|$(key title refinements/S-1-t.md)|$(key priority refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
quiet_next "put-edited"

finish
