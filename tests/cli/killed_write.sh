#!/bin/bash
# Issue 19: a file a killed run wrote from the database (the API's value,
# journaled before the write) holds storysync's write, not a person's
# edit. The run after the kill takes it from the journal; from then on
# the file is known to hold storysync's write over HEAD's version, as if
# the killed run had committed: a discard of that file (git checkout --,
# reset --hard) puts back git's version, which never undoes the API's
# value silently (model seed 47: the recovering run recorded the field as
# a person's, the discard then won as an edit and the API's value was
# gone, with nothing in sync_conflicts). Whether the recovering run is a
# plain one or --backlog; whether the person then edits another field or
# not; a move journaled and not made (seed 38, below); a move made and
# undone by a person (seed 140, below); a discard written again by two
# killed runs (seed 266, below); a person's move undone after a killed run
# wrote the file in place (seed 3102, below); a move not made of a file a
# person had moved (seed 118, below); a file a killed run created, its
# backlog's name renamed back (seed 150, below); a killed run's move
# whose folder was renamed before git put the old place back (seed 228,
# below); a killed run's move made, the API's status set back and the
# file edited there by a person (seed 249, below); a killed run's move
# made, git's version put back beside it, the moved file edited (seed
# 255, below); git's version put back older than the agreed one (seed
# 1070, below), or edited and committed by a person (below); the change of the configuration the killed run followed
# thrown away, its folders moved back by hand (seeds 1036, 190, below);
# a killed run's move made, git's version put back and edited by a
# person (seeds 1099, 215, below); with status_from: key, the API's
# status set back after the kill, the person's file saved again or edited
# (key-*, below), or typed the agreed status back over the run's, with
# another edit or alone, or put git's version back (agreed, undone,
# checkout: the API's status wins, the person's kept, not lost with no
# record). The oracle reads the database with Python's sqlite3 (psycopg2 on
# a server: lib.sh's py_rows) and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=stories/web/backlog/S-1-one.md
key() { sed -n "s/^$1: //p" "$2"; }
title() { py_rows "SELECT title FROM stories WHERE id = 'S-1'"; }
lost() {
  py_rows "SELECT kind, kept, $(jget lost title) FROM sync_conflicts
      WHERE story_id = 'S-1' ORDER BY id" | paste -sd ' '
}

# killed TAG RECOVERY... [--edit]: S-1 committed and synced, the API
# retitles it, the run that writes it is killed before its commit, (with
# --edit, a person edits its priority), the next run (with RECOVERY's
# arguments) takes the journal's write
killed() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir -p stories/web/backlog stories/api/backlog
  cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  web: stories/web
  api: stories/api
EOF
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: A-1\ntitle: Other\n---\nbody\n' \
    >stories/api/backlog/A-1-other.md
  synced_commit || not_ok "$1: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "$1: killed after the write, before the commit" \
    "137|API" "$rc|$(key title $F)"
  local args=("${@:2}")
  if [ ${#args[@]} -gt 0 ] && [ "${args[-1]}" = --edit ]; then
    unset 'args[-1]'
    sed -i 's/^priority: low/priority: high/' $F
  fi
  run ss "${args[@]}"
  check_eq "$1: the next run takes the write" "0|API|API|" \
    "$rc|$(key title $F)|$(title)|$(lost)"
}

# discarded TAG: the API's value back in the file, the file's kept
discarded() {
  check_eq "$1: the API's title stays, written again; git's kept" \
    "0|API|API|both_changed|db|One" "$rc|$(key title $F)|$(title)|$(lost)"
  run ss
  check_eq "$1: the next run is quiet" "0||" "$rc|$out|$err"
}

for how in plain backlog; do
  args=()
  [ $how = backlog ] && args=(--backlog web)
  killed "$how-checkout" "${args[@]}"
  git checkout -- $F
  run ss
  discarded "$how-checkout"

  killed "$how-reset" "${args[@]}"
  git reset -q --hard
  run ss
  discarded "$how-reset"

  # git's version put back, then the person edits another field: the
  # title as git had it takes the database's value, git's kept
  killed "$how-edited" "${args[@]}"
  git checkout -- $F
  sed -i 's/^priority: low/priority: high/' $F
  run ss
  discarded "$how-edited"
  check_eq "$how-edited: the person's priority taken" "high|high" \
    "$(key priority $F)|$(py_rows "SELECT priority FROM stories WHERE id = 'S-1'")"
done

# ---- the file the killed run wrote, edited by a person before the next
# run (its journal line's blob gone): the title the run wrote from the
# database is still storysync's, and a discard of the file later is one
# (model seed 8) ----
for how in plain backlog; do
  args=()
  [ $how = backlog ] && args=(--backlog web)
  killed "$how-typed" "${args[@]}" --edit
  git checkout -- $F
  run ss
  discarded "$how-typed"
done

# ---- a move journaled and not made: the run is killed right after the
# first of two moves the API's status changes make, the second file
# still where it was, with the content the journal's move line names (a
# move goes before its write: the content the run found, with a person's
# edit of its title). The file where the agreed version places it is no
# person's move back from where the killed run would have put it: the
# API's status stays, the person's title too, and the file goes there
# (model seed 38, where the admin had renamed a stage's folder too) ----
for how in plain renamed; do
  stages_repo "unmoved-$how" refinement:refinements backlog:backlog
  for i in 1 2; do
    printf -- '---\nid: S-%s\ntitle: T%s\nstatus: backlog\n---\nbody\n' $i $i \
      >backlog/S-$i-t.md
  done
  synced_commit || not_ok "unmoved-$how: the tree"
  py_rows "UPDATE stories SET status = 'refinement'"
  sed -i 's/^title: T2$/title: Mine/' backlog/S-2-t.md
  stage=backlog
  if [ $how = renamed ]; then
    stage=queue
    git mv backlog queue && sed -i 's/^  backlog: backlog$/  backlog: queue/' .storysync.yml
    git commit -qam "config: the backlog stage's folder is queue"
  fi
  files() { find refinements $stage -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  run env STORYSYNC_TEST_KILL=after-move "$STORYSYNC"
  check_eq "unmoved-$how: killed after the first move, the second not made" \
    "137|$stage/S-2-t.md refinements/S-1-t.md" "$rc|$(files)"
  run ss
  check_eq "unmoved-$how: the API's status stays, the person's title too" \
    "0|refinement/T1 refinement/Mine|refinements/S-1-t.md refinements/S-2-t.md|0" \
    "$rc|$(py_rows "SELECT status || '/' || title FROM stories ORDER BY id" | paste -sd ' ')|$(files)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  run ss
  check_eq "unmoved-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a move journaled and not made, of a file a person had moved before
# the run: A-4 and A-5, each moved by a person to another stage (how
# backlog: the API then moves it to another backlog) or to another
# backlog (how status: the API then sets its status); the run is killed
# right after the first of their moves (each backend plans in an order of
# its own), the other still where the person put it, with the content
# the journal's move line names. That is no person's move from where the
# killed run would have put it (model seed 118: taken so, the file went
# back where it had been before both edits, backlog and stage, both lost
# with no conflict): both edits stay, and the file goes where they place
# it ----
for how in backlog status; do
  mkdir -p "$T/found-$how" && cd "$T/found-$how" || exit 1
  git init -q .
  printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  api: stories/api\nstages:\n  refinement: refinements\n  completed: completed\n' \
    >.storysync.yml
  mkdir -p stories/web/completed stories/api/completed stories/web/refinements \
    stories/api/refinements
  for i in 4 5; do
    printf -- '---\nid: A-%s\ntitle: T%s\n---\nbody\n' $i $i \
      >stories/api/completed/A-$i-t.md
  done
  synced_commit || not_ok "found-$how: the tree"
  at=stories/web/completed
  [ $how = backlog ] && at=stories/api/refinements
  for i in 4 5; do
    mv stories/api/completed/A-$i-t.md $at/
    if [ $how = backlog ]; then
      py_rows "UPDATE stories SET backlog = 'web' WHERE id = 'A-$i'"
    else
      py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'A-$i'"
    fi
  done
  files() { find stories -name '*.md' | LC_ALL=C sort | paste -sd ' '; }
  run env STORYSYNC_TEST_KILL=after-move "$STORYSYNC"
  case "$(files)" in
    "$at/A-4-t.md stories/web/refinements/A-5-t.md" |\
    "$at/A-5-t.md stories/web/refinements/A-4-t.md") moved=ok ;;
    *) moved="$(files)" ;;
  esac
  check_eq "found-$how: killed after the first move, the other not made" \
    "137|ok" "$rc|$moved"
  run ss
  check_eq "found-$how: the person's move and the API's change both stay" \
    "0|web/refinement web/refinement|stories/web/refinements/A-4-t.md stories/web/refinements/A-5-t.md|0" \
    "$rc|$(py_rows "SELECT backlog || '/' || status FROM stories ORDER BY id" | paste -sd ' ')|$(files)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  run ss
  check_eq "found-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a file a killed run created from a row the API inserted under a
# backlog's new name (web-11), the rename undone (committed) before the
# next run, which takes the row (how history: through the versions in
# between; how amended: the synced commit amended, so no history: the
# row refused by name, then mended by the API). The file it creates into
# is the killed run's: its backlog key must be the row's (model seed 150:
# it kept web-11, a name no configuration has, read later as a person's
# edit: once a person moved the file, every run exited 1, "not
# configured; skipped") ----
for how in history amended; do
  mkdir -p "$T/created-$how" && cd "$T/created-$how" || exit 1
  git init -q .
  printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  api: stories/api\nstages:\n  active: active\n  completed: completed\n' \
    >.storysync.yml
  mkdir -p stories/web/active stories/web/completed stories/api/active
  printf -- '---\nid: W-1\ntitle: One\n---\nbody\n' >stories/web/active/W-1-one.md
  printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >stories/api/active/A-1-one.md
  synced_commit || not_ok "created-$how: the tree"
  [ $how = amended ] && git commit -q --amend --allow-empty -m "init, amended"
  sed -i 's#^  web: stories/web$#  web-11: stories/web#' .storysync.yml &&
    git commit -qam "web -> web-11"
  py_rows "INSERT INTO stories(id, backlog, status, title) VALUES ('A-5', 'web-11', 'active', 'Five')"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "created-$how: killed after creating A-5's file" "137|web-11" \
    "$rc|$(key backlog stories/web/active/A-5-five.md)"
  sed -i 's#^  web-11: stories/web$#  web: stories/web#' .storysync.yml &&
    git commit -qam "web-11 -> web"
  if [ $how = amended ]; then
    run ss
    check_eq "created-$how: no history, web-11 refused by name" \
      "1|story A-5: backlog 'web-11' is not configured; refused: nothing written" \
      "$rc|$err"
    py_rows "UPDATE stories SET backlog = 'web' WHERE id = 'A-5'"
  fi
  run ss
  check_eq "created-$how: the row taken, the file's key the row's" \
    "0|web|web" "$rc|$(py_rows "SELECT backlog FROM stories WHERE id = 'A-5'")|$(key backlog stories/web/active/A-5-five.md)"
  git add -A && git commit -qm files && git mv stories/web/active/A-5-five.md stories/web/completed/
  run ss
  check_eq "created-$how: a person's move then goes through" \
    "0|web/completed" "$rc|$(py_rows "SELECT backlog || '/' || status FROM stories WHERE id = 'A-5'")"
  run ss
  check_eq "created-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a move made, then undone by a person: the run is killed after its
# writes (the API's status moved the file), and the person moves the file
# back where it was (plain mv), with no status key (the move changed no
# byte: the file is the agreed one at the agreed place) or with one (the
# run's write changed it). The journal says the move was made ("> "
# after its line): the file back there is the person's move, later than
# the API's, not a move the killed run never made, and it stays; the row
# follows it (model seed 140: the run moved the file again and the
# person's move was lost, with nothing in sync_conflicts) ----
for how in nokey key; do
  stages_repo "back-$how" refinement:refinements backlog:backlog
  st=
  [ $how = key ] && st='status: backlog\n'
  printf -- "---\nid: S-1\ntitle: T1\n${st}---\nbody\n" >backlog/S-1-t.md
  synced_commit || not_ok "back-$how: the tree"
  py_rows "UPDATE stories SET status = 'refinement'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "back-$how: killed after the move (and the key's write)" \
    "137|refinements/S-1-t.md|T1" \
    "$rc|$(find refinements backlog -name 'S-*.md')|$(key title refinements/S-1-t.md)"
  mv refinements/S-1-t.md backlog/
  run ss
  check_eq "back-$how: the person's move stays, the row follows" \
    "0|backlog/S-1-t.md|T1|backlog/T1/backlog/S-1-t.md|0" \
    "$rc|$(find refinements backlog -name 'S-*.md')|$(key title backlog/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  run ss
  check_eq "back-$how: the next run is quiet" "0||" "$rc|$out|$err"
done


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
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
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
  run ss
  check_eq "put-$how: the next run is quiet" "0||" "$rc|$out|$err"
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
# HEAD's: no person's change) ----
for how in plain amended; do
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
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  rc_kill=$rc
  git checkout -- .
  check_eq "$t: killed after the move, HEAD's version back beside it" \
    "137|backlog/S-1-t.md refinements/S-1-t.md|$head_blob" \
    "$rc_kill|$(find refinements backlog -name 'S-1*' | LC_ALL=C sort | paste -sd ' ')|$(git hash-object backlog/S-1-t.md)"
  run ss -v
  check_eq "$t: git's version removed, said once" \
    "0|storysync: backlog/S-1-t.md: git's version put back beside storysync's uncommitted move of it (a discard, not a copy): removed, as git holds it" \
    "$rc|$(notes)"
  check_eq "$t: the person's title and the API's values stay" \
    "refinements/S-1-t.md|Person|high|refinement/Person/high/refinements/S-1-t.md|0|$head_blob" \
    "$(find refinements backlog -name 'S-1*')|$(key title refinements/S-1-t.md)|$(key priority refinements/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")|$(git rev-parse HEAD:backlog/S-1-t.md)"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
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
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
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
run ss
check_eq "put-committed: the next run is quiet" "0||" "$rc|$out|$err"

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
  mkdir -p "$T/$t" && cd "$T/$t" || exit 1
  git init -q .
  mkdir -p stories/web/refinements stories/web/backlog stories/api/backlog
  printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  api: stories/api\nstages:\n  refinement: refinements\n  backlog: backlog\n' >.storysync.yml
  printf -- '---\nid: S-1\ntitle: T1\n---\nbody\n' >stories/web/backlog/S-1-t.md
  printf -- '---\nid: S-2\ntitle: T2\n---\nbody\n' >stories/web/backlog/S-2-t.md
  printf -- '---\nid: A-1\ntitle: A1\n---\nbody\n' >stories/api/backlog/A-1-t.md
  synced_commit || not_ok "$t: the tree"
  git mv stories/web stories/web2 &&
    sed -i 's|^  web: stories/web$|  web: stories/web2|' .storysync.yml ||
    not_ok "$t: web's folder moved"
  py_rows "UPDATE stories SET status = 'refinement', title = 'API' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
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
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
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
  run env STORYSYNC_TEST_KILL=after-move "$STORYSYNC"
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
      run env STORYSYNC_TEST_KILL=reconciled "$STORYSYNC"
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
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a discard written again by a run killed before its commit: the
# file's value it overrides (git's, kept) is journaled with the write, and
# only there; a second run, killed too, writes the API's next value over
# that file: the record goes with the second write's journal line, and
# the run after records it (model seed 266: the later line had none, and
# git's value was lost unseen) ----
for how in plain backlog; do
  args=()
  [ $how = backlog ] && args=(--backlog web)
  killed "$how-twice" "${args[@]}"
  git checkout -- $F
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC" "${args[@]}"
  check_eq "$how-twice: the discard written again, killed" \
    "137|API|" "$rc|$(key title $F)|$(lost)"
  py_rows "UPDATE stories SET title = 'Again' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC" "${args[@]}"
  check_eq "$how-twice: the API's next value written over it, killed" \
    "137|Again|" "$rc|$(key title $F)|$(lost)"
  run ss "${args[@]}"
  check_eq "$how-twice: the API's value stays; git's kept" \
    "0|Again|Again|both_changed|db|One" "$rc|$(key title $F)|$(title)|$(lost)"
  run ss
  check_eq "$how-twice: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a person's move after a killed run that moved nothing: the person
# moves the file (plain mv, its status key left as it was), the run that
# takes that move (the row's status, the key's rewrite in place) is
# killed after its writes, and the person moves the file back. The
# journal's line is of that write in place, not of a move: its content
# found where the agreed version places the story is the person's move,
# not a move the killed run never made, and it stays; the row follows
# it (model seed 3102: the run moved the file to the killed run's place
# and the person's move was lost, with nothing in sync_conflicts). Also
# when another killed run wrote it in place again first (its row's
# title the API's): the person's move is later than both ----
for how in once twice; do
  stages_repo "inplace-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: T1\nstatus: backlog\n---\nbody\n' >backlog/S-1-t.md
  synced_commit || not_ok "inplace-$how: the tree"
  files() { find refinements backlog -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  mv backlog/S-1-t.md refinements/
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "inplace-$how: killed after the key's write in place" \
    "137|refinements/S-1-t.md|refinement|backlog" \
    "$rc|$(files)|$(key status refinements/S-1-t.md)|$(py_rows "SELECT status FROM stories")"
  title=T1
  if [ $how = twice ]; then
    title=API
    py_rows "UPDATE stories SET title = 'API'"
    run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
    check_eq "inplace-$how: killed again after its write in place" \
      "137|refinements/S-1-t.md|refinement|API" \
      "$rc|$(files)|$(key status refinements/S-1-t.md)|$(key title refinements/S-1-t.md)"
  fi
  mv refinements/S-1-t.md backlog/
  run ss
  check_eq "inplace-$how: the person's move back stays, the row follows" \
    "0|backlog/S-1-t.md|backlog|$title|backlog/$title/backlog/S-1-t.md|0" \
    "$rc|$(files)|$(key status backlog/S-1-t.md)|$(key title backlog/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  run ss
  check_eq "inplace-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a file made for a row the API inserted, by a run killed before its
# commit; the API deletes the row (or renames its id) before the next
# run. The file is the killed run's whole render (the journal's line,
# unedited, where it wrote it): storysync's own, no one's edit, so the
# API's deletion takes it, as it would have once the run committed
# (campaign19: taken for a person's new story, it brought the row back,
# the API's deletion undone with nothing said). Any recovering run (plain,
# --git, --backlog); a person's edit or move of the file first keeps it,
# the row comes back with the person's title or place, and the row as
# deleted is kept in sync_conflicts (deleted_in_db, kept file), as the
# committed run's next run keeps it (before, nothing was recorded) ----
for how in delete rename git backlog edited moved; do
  stages_repo "gone-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
  synced_commit || not_ok "gone-$how: the tree"
  files() { find refinements backlog -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  py_rows "INSERT INTO stories(id, title) VALUES ('S-9', 'Nine')"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "gone-$how: killed after the new row's file was made" \
    "137|backlog/S-1-one.md refinements/S-9-nine.md" "$rc|$(files)"
  args=() want="backlog/S-1-one.md" rows="S-1" deleted="S-9"
  case $how in
  rename)
    py_rows "UPDATE stories SET id = 'S-10' WHERE id = 'S-9'"
    want="backlog/S-1-one.md refinements/S-10-nine.md" rows="S-1 S-10" ;;
  edited)
    sed -i 's/^title: Nine/title: Person/' refinements/S-9-nine.md
    py_rows "DELETE FROM stories WHERE id = 'S-9'"
    want="backlog/S-1-one.md refinements/S-9-nine.md" rows="S-1 S-9" ;;
  moved)
    mv refinements/S-9-nine.md backlog/
    py_rows "DELETE FROM stories WHERE id = 'S-9'"
    want="backlog/S-1-one.md backlog/S-9-nine.md" rows="S-1 S-9" ;;
  *)
    py_rows "DELETE FROM stories WHERE id = 'S-9'" ;;
  esac
  [ $how = git ] && args=(--git)
  [ $how = backlog ] && args=(--backlog default)
  before=$(files)
  run ss --dry-run "${args[@]}"
  check_eq "gone-$how: a dry run removes nothing" "0|$before" "$rc|$(files)"
  run ss "${args[@]}"
  check_eq "gone-$how: the API's deletion stands" \
    "0|$want|$rows|$deleted" \
    "$rc|$(files)|$(py_rows "SELECT id FROM stories ORDER BY id" | paste -sd ' ')|$(py_rows "SELECT story_id FROM deleted_stories" | paste -sd ' ')"
  [ $how = edited ] && check_eq "gone-$how: the person's title" \
    "Person|Person" "$(key title refinements/S-9-nine.md)|$(py_rows "SELECT title FROM stories WHERE id = 'S-9'")"
  conflict=
  case $how in edited | moved) conflict="deleted_in_db/file/Nine" ;; esac
  check_eq "gone-$how: the row as deleted, where a person's file brings it back" \
    "$conflict" \
    "$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-9'")"
  run ss
  check_eq "gone-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- the API's write, made into the file by a run killed before its
# commit, then the API deletes the row before the next run: the file
# holds nothing but storysync's own write (the journal's), so the
# deletion takes it, as it would have once that run committed
# (campaign19: taken for a person's edit, the row came back, a
# deleted_in_db conflict kept file). In place (the title) or moved (the
# status); a person's edit of another field first keeps the file, the
# row comes back and the deletion is the conflict ----
for how in title status edited; do
  stages_repo "deleted-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >backlog/S-1-one.md
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  synced_commit || not_ok "deleted-$how: the tree"
  files() { find refinements backlog -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  if [ $how = status ]; then
    py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
    at=refinements/S-1-one.md
  else
    py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
    at=backlog/S-1-one.md
  fi
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "deleted-$how: killed after the API's write" \
    "137|$(echo $at backlog/S-2-two.md | tr ' ' '\n' | LC_ALL=C sort | paste -sd ' ')" "$rc|$(files)"
  [ $how = edited ] && sed -i 's/^priority: low/priority: high/' $at
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  run ss
  if [ $how = edited ]; then
    check_eq "deleted-$how: the person's edit brings the row back, the deletion kept as a conflict" \
      "0|backlog/S-1-one.md backlog/S-2-two.md|API/high|deleted_in_db/file" \
      "$rc|$(files)|$(py_rows "SELECT title || '/' || priority FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT kind || '/' || kept FROM sync_conflicts")"
  else
    check_eq "deleted-$how: the API's deletion stands" \
      "0|backlog/S-2-two.md|S-2|S-1|0" \
      "$rc|$(files)|$(py_rows "SELECT id FROM stories" | paste -sd ' ')|$(py_rows "SELECT story_id FROM deleted_stories")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  fi
  run ss
  check_eq "deleted-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a discard written again by a run killed before its commit (its
# conflict journaled: git's title, which the discard put back), the API
# deletes the row, the run that deletes the file is killed too; the next
# run finishes the deletion and records the conflict, which the deleted
# file's blob owed (campaign19: lost with the file, nothing recorded).
# Whether the discard's rewrite is the agreed content again (same) or
# holds another API change besides (other: model seed 63 at 120 steps) ----
for how in same other; do
  stages_repo "owed-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >backlog/S-1-one.md
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  synced_commit || not_ok "owed-$how: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  ss -q || not_ok "owed-$how: the API's title written"
  git checkout -- backlog/S-1-one.md
  [ $how = other ] && py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "owed-$how: the discard written again, killed" "137|API" \
    "$rc|$(key title backlog/S-1-one.md)"
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "owed-$how: the file deleted for the API, killed" "137|no" \
    "$rc|$([ -e backlog/S-1-one.md ] && echo yes || echo no)"
  run ss
  check_eq "owed-$how: the deletion finished, git's title kept" \
    "0|-|both_changed/db/One" \
    "$rc|$(py_rows "SELECT count(*) FROM stories WHERE id = 'S-1'" | sed 's/^0$/-/')|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-1'")"
  run ss
  check_eq "owed-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a discard written again by a run killed before its commit (git's
# title overridden, its conflict journaled), then a person edits another
# field of the file: no line names its blob now, and the conflict is owed
# all the same (model seed 106 at 120 steps: git's title lost, nothing
# in sync_conflicts) ----
stages_repo owed-edited refinement:refinements backlog:backlog
printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "owed-edited: the tree"
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
ss -q || not_ok "owed-edited: the API's title written"
git checkout -- backlog/S-1-one.md
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "owed-edited: the discard written again, killed" "137|API" \
  "$rc|$(key title backlog/S-1-one.md)"
sed -i 's/^priority: low/priority: high/' backlog/S-1-one.md
run ss
check_eq "owed-edited: the person's priority, the API's title, git's kept" \
  "0|API/high|both_changed/db/One" \
  "$rc|$(py_rows "SELECT title || '/' || priority FROM stories")|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts")"
run ss
check_eq "owed-edited: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a move made by a run killed before its commit (the API's status),
# the file edited by a person there, a second run killed, the person
# moves the file back: no line names its blob (the person's edit), yet
# the journal says the move was made, so the file back at the agreed
# place is the person's move back, later than the API's, and stays; the
# API's status and title are kept in sync_conflicts (model seed 189 at
# 120 steps, on 08c06f2 too: the run moved the file again, the person's
# move lost with nothing recorded) ----
stages_repo moved-back refinement:refinements backlog:backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >refinements/S-1-one.md
synced_commit || not_ok "moved-back: the tree"
py_rows "UPDATE stories SET status = 'backlog' WHERE id = 'S-1'"
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "moved-back: the move made, killed" "137|backlog/S-1-one.md" \
  "$rc|$(find refinements backlog -name 'S-*.md')"
sed -i 's/^title: One/title: Person/' backlog/S-1-one.md
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC" --full
check_eq "moved-back: a second run killed" "137" "$rc"
mv backlog/S-1-one.md refinements/
run ss
check_eq "moved-back: the person's move back and title stay, the API's kept" \
  "0|refinements/S-1-one.md|refinement/Person|both_changed/file/backlog/API" \
  "$rc|$(find refinements backlog -name 'S-*.md')|$(py_rows "SELECT status || '/' || title FROM stories")|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost status) || '/' || $(jget lost title) FROM sync_conflicts")"
run ss
check_eq "moved-back: the next run is quiet" "0||" "$rc|$out|$err"

# ---- a move made by a run killed after its writes (the API's status),
# then the API sets the status back to the agreed one and retitles the
# story, and a person edits the file's priority there (no line names its
# blob now), the edit committed or not: the file is still at the
# journal's path, the move made ("> " after its line), so its place is
# the killed run's write, not a person's move. The API's last status
# wins, the file goes back, the person's priority stays, no conflict
# (model seed 249: taken for a person's move, the row ended refinement,
# the API's status lost with nothing in sync_conflicts) ----
for how in nokey key nokey-commit key-commit; do
  stages_repo "set-back-$how" refinement:refinements backlog:backlog
  st=
  case $how in key*) st='status: backlog\n' ;; esac
  printf -- "---\nid: S-1\ntitle: T1\n${st}priority: low\n---\nbody\n" >backlog/S-1-t.md
  synced_commit || not_ok "set-back-$how: the tree"
  py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "set-back-$how: killed after the move" \
    "137|refinements/S-1-t.md" "$rc|$(find refinements backlog -name 'S-*.md')"
  py_rows "UPDATE stories SET status = 'backlog', title = 'API' WHERE id = 'S-1'"
  sed -i 's/^priority: low$/priority: high/' refinements/S-1-t.md
  case $how in *commit) git add -A && git commit -qm edited ;; esac
  run ss
  check_eq "set-back-$how: the API's status and title, the person's priority" \
    "0|backlog/S-1-t.md|API|high|backlog/API/high/backlog/S-1-t.md|0" \
    "$rc|$(find refinements backlog -name 'S-*.md')|$(key title backlog/S-1-t.md)|$(key priority backlog/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || priority || '/' || path FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  case $how in key*)
    check_eq "set-back-$how: the status key is the API's" "backlog" \
      "$(key status backlog/S-1-t.md)" ;;
  esac
  run ss
  check_eq "set-back-$how: the next run is quiet" "0||" "$rc|$out|$err"
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
stages_repo put-edited refinement:refinements backlog:backlog
printf -- '---\nid: S-1\ntitle: T1\npriority: low\n---\nbody\n' >backlog/S-1-t.md
synced_commit || not_ok "put-edited: the tree"
orig=$(git hash-object backlog/S-1-t.md)
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
ss -q && git commit -qam api && ss -q || not_ok "put-edited: the API's title"
sed -i 's/^priority: low$/priority: high/' backlog/S-1-t.md && git commit -qam high
py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
run env STORYSYNC_TEST_KILL=after-move "$STORYSYNC"
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
run ss
check_eq "put-edited: the next run is quiet" "0||" "$rc|$out|$err"

# ---- the same file made by a killed run for a row the API inserted, a
# person commits it, the API deletes the row: the run removes it as
# storysync's own (gone-delete above) and records the removal, as every
# removal of a file for the API's deletion is (sync_deleted): git
# putting its version back (a checkout --, a reset) is then no person's
# new story, and the row stays deleted, the file's story kept in
# sync_conflicts (deleted_in_db, kept db). Without the record it was
# imported as a new story, the API's deletion undone with nothing said.
# The removing run killed too (its journal's line, written before the
# unlink, is recorded by the run after). A commit of the deletion makes a
# file brought back a person's undelete again ----
for how in plain killed; do
  stages_repo "gone-committed-$how" refinement:refinements backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
  synced_commit || not_ok "gone-committed-$how: the tree"
  py_rows "INSERT INTO stories(id, title) VALUES ('S-9', 'Nine')"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "gone-committed-$how: killed after the new row's file was made" \
    "137|refinements/S-9-nine.md" "$rc|$(find refinements -name 'S-9*')"
  git add refinements/S-9-nine.md && git commit -qm "a person commits it"
  py_rows "DELETE FROM stories WHERE id = 'S-9'"
  if [ $how = killed ]; then
    run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
    check_eq "gone-committed-$how: the removing run killed after the unlink" \
      "137|" "$rc|$(find refinements -name 'S-9*')"
  fi
  run ss
  check_eq "gone-committed-$how: the file removed, the row stays deleted" \
    "0||" \
    "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT id FROM stories WHERE id = 'S-9'")"
  for back in checkout reset; do
    case $back in
    checkout) git checkout -- refinements/S-9-nine.md ;;
    reset) git reset -q --hard ;;
    esac
    run ss
    check_eq "gone-committed-$how, git's version back ($back): removed again, the row stays deleted, the file's story kept" \
      "0||0|deleted_in_db|db|Nine" \
      "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT count(*) FROM stories WHERE id = 'S-9'")|$(py_rows "SELECT kind, kept, $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-9' ORDER BY id DESC LIMIT 1")"
  done
  check_eq "gone-committed-$how: one record each time" 2 \
    "$(py_rows "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-9'")"
  git rm -q --cached refinements/S-9-nine.md
  git commit -qm "the deletion committed"
  git checkout -q HEAD~1 -- refinements/S-9-nine.md
  run ss
  check_eq "gone-committed-$how: after a commit of the deletion, brought back: a person's undelete" \
    "0|refinements/S-9-nine.md|Nine" \
    "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT title FROM stories WHERE id = 'S-9'")"
  run ss
  check_eq "gone-committed-$how: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- status_from: key: the run that writes the API's status into the
# key is killed after its writes, the API sets the status back to the
# agreed one, and a person, after the kill, typed nothing (the file as the
# run left it), saved the file again with the run's very bytes (same: an
# editor's rewrite, a new inode; same-inplace: the same inode), typed
# another status (other), or edited another key only (elsewhere: the run's
# status left as it was). The run's status is no one's edit: the API's
# later one wins; a file a person saved since may hold the run's status
# typed again, kept as a conflict the database won; a status typed over
# the run's is a conflict with the API's later one, the policy's (the
# file wins). Before, the API's status was lost with nothing in
# sync_conflicts (other, elsewhere: the file's status won), or the
# person's save was (same). A journal without the identity line (same-old:
# an older binary's, or a run killed between its rename and the read
# back) keeps the rule before: the file with the run's bytes is its write,
# and the API's status wins with no record ----
id_of() { stat -c '%i %y %s' "$1"; }
for how in nothing same same-inplace same-old other elsewhere agreed undone checkout; do
  t=key-$how
  stages_repo "$t" backlog:backlog
  printf 'status_from: key\n' >>.storysync.yml
  F=backlog/S-1-one.md
  printf -- '---\nid: S-1\ntitle: One\nstatus: To Do\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "$t: the tree"
  py_rows "UPDATE stories SET status = 'Doing' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "$t: killed after the run wrote the API's status" "137|Doing" \
    "$rc|$(key status $F)"
  blob=$(git hash-object $F) was=$(id_of $F)
  if [ $how = same-old ]; then
    rr=$(run_record) && journal=${rr%.run}.writes
    check_eq "$t: the journal had the identity line" 1 "$(grep -c '^~ ' "$journal")"
    sed -i '/^~ /d' "$journal"
  fi
  case $how in
  same | same-old) cp $F $F.new && mv $F.new $F ;;
  same-inplace)
    again() { local t; t=$(cat $F) && printf '%s\n' "$t" >$F &&
      [ "$(id_of $F)" != "$was" ]; }
    wait_for again || not_ok "$t: the file's mtime moved on" ;;
  other) sed -i 's/^status: Doing$/status: Review/' $F ;;
  elsewhere) sed -i 's/^priority: low$/priority: high/' $F ;;
  agreed) sed -i 's/^status: Doing$/status: To Do/; s/^priority: low$/priority: high/' $F ;;
  undone) sed -i 's/^status: Doing$/status: To Do/' $F ;;
  checkout) git checkout -- $F ;;
  esac
  case $how in same*)
    check_eq "$t: the same bytes saved again" "$blob|yes" \
      "$(git hash-object $F)|$([ "$(id_of $F)" != "$was" ] && echo yes)" ;;
  esac
  # agreed: the API leaves the run's status (the person typed the agreed
  # one back over it, or put git's version back whole: undone, checkout):
  # the API's wins, the person's kept
  case $how in agreed | undone | checkout) ;; *)
    py_rows "UPDATE stories SET status = 'To Do' WHERE id = 'S-1'" ;;
  esac
  run ss
  case $how in
  agreed) want="Doing|high|both_changed/db/status/To Do" ;;
  undone | checkout) want="Doing|low|both_changed/db/status/To Do" ;;
  nothing | same-old) want="To Do|low|" ;;
  same*) want="To Do|low|both_changed/db/status/Doing" ;;
  other) want="Review|low|both_changed/file/status/To Do" ;;
  elsewhere) want="To Do|high|both_changed/db/status/Doing" ;;
  esac
  st=${want%%|*}
  check_eq "$t: the row, the file, and what sync_conflicts keeps" \
    "0|$want|$st" \
    "$rc|$(py_rows "SELECT status || '|' || priority FROM stories WHERE id = 'S-1'")|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost status) FROM sync_conflicts WHERE story_id = 'S-1'" | paste -sd ' ')|$(key status $F)"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

# ---- a conflict a killed run decided in the file's favour (the person's
# title over the API's, the API's priority written into the file) has no
# journal line (only a database-won one's file values do): the run's
# rollback leaves the API's title in the row and the person's in the
# file, so the next run decides it again and keeps the API's, whether
# the person edits the file again after the kill (edit) or a --git run
# comes first (git) ----
for how in plain edit git; do
  t=file-won-$how
  stages_repo "$t" backlog:backlog
  F=backlog/S-1-one.md
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "$t: the tree"
  sed -i 's/^title: One$/title: Mine/' $F
  py_rows "UPDATE stories SET title = 'API', priority = 'high' WHERE id = 'S-1'"
  run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
  check_eq "$t: killed after the run wrote the API's priority" "137|Mine|high" \
    "$rc|$(key title $F)|$(key priority $F)"
  case $how in
  edit) sed -i 's/^body$/body again/' $F ;;
  git) run ss --git ;;
  esac
  run ss
  check_eq "$t: the person's title, the API's kept" \
    "0|Mine|high|Mine|both_changed/file/title/API" \
    "$rc|$(py_rows "SELECT title || '|' || priority FROM stories WHERE id = 'S-1'")|$(key title $F)|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-1'" | paste -sd ' ')"
  run ss
  check_eq "$t: the next run is quiet" "0||" "$rc|$out|$err"
done

finish
