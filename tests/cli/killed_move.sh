#!/bin/bash
# Issue 19: a move a killed run journaled, made or not (killed_write.sh
# has the family's rule: the run after the kill takes the journal's
# writes as storysync's, as if the killed run had committed). A move
# journaled and not made (model seed 38); of a file a person had moved
# (seed 118); a move made and undone by a person (seed 140); a person's
# move after a killed run that wrote in place (seed 3102); a move made,
# the API's status set back and the file edited there (seed 249). The
# oracle reads the database with Python's sqlite3 (psycopg2 on a server:
# lib.sh's py_rows) and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

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
  killed_run after-move
  check_eq "unmoved-$how: killed after the first move, the second not made" \
    "137|$stage/S-2-t.md refinements/S-1-t.md" "$rc|$(files)"
  run ss
  check_eq "unmoved-$how: the API's status stays, the person's title too" \
    "0|refinement/T1 refinement/Mine|refinements/S-1-t.md refinements/S-2-t.md|0" \
    "$rc|$(py_rows "SELECT status || '/' || title FROM stories ORDER BY id" | paste -sd ' ')|$(files)|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  quiet_next "unmoved-$how"
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
  web_api_repo "found-$how" refinement:refinements completed:completed
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
  killed_run after-move
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
  quiet_next "found-$how"
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
  st=
  [ $how = key ] && st='status: backlog\n'
  story_tree "back-$how" backlog/S-1-t.md S-1 T1 "$st"
  py_rows "UPDATE stories SET status = 'refinement'"
  killed_run after-writes
  check_eq "back-$how: killed after the move (and the key's write)" \
    "137|refinements/S-1-t.md|T1" \
    "$rc|$(find refinements backlog -name 'S-*.md')|$(key title refinements/S-1-t.md)"
  mv refinements/S-1-t.md backlog/
  run ss
  check_eq "back-$how: the person's move stays, the row follows" \
    "0|backlog/S-1-t.md|T1|backlog/T1/backlog/S-1-t.md|0" \
    "$rc|$(find refinements backlog -name 'S-*.md')|$(key title backlog/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  quiet_next "back-$how"
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
  story_tree "inplace-$how" backlog/S-1-t.md S-1 T1 'status: backlog\n'
  files() { find refinements backlog -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  mv backlog/S-1-t.md refinements/
  killed_run after-writes
  check_eq "inplace-$how: killed after the key's write in place" \
    "137|refinements/S-1-t.md|refinement|backlog" \
    "$rc|$(files)|$(key status refinements/S-1-t.md)|$(py_rows "SELECT status FROM stories")"
  title=T1
  if [ $how = twice ]; then
    title=API
    py_rows "UPDATE stories SET title = 'API'"
    killed_run after-writes
    check_eq "inplace-$how: killed again after its write in place" \
      "137|refinements/S-1-t.md|refinement|API" \
      "$rc|$(files)|$(key status refinements/S-1-t.md)|$(key title refinements/S-1-t.md)"
  fi
  mv refinements/S-1-t.md backlog/
  run ss
  check_eq "inplace-$how: the person's move back stays, the row follows" \
    "0|backlog/S-1-t.md|backlog|$title|backlog/$title/backlog/S-1-t.md|0" \
    "$rc|$(files)|$(key status backlog/S-1-t.md)|$(key title backlog/S-1-t.md)|$(py_rows "SELECT status || '/' || title || '/' || path FROM stories")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  quiet_next "inplace-$how"
done

# ---- a move made by a run killed before its commit (the API's status),
# the file edited by a person there, a second run killed, the person
# moves the file back: no line names its blob (the person's edit), yet
# the journal says the move was made, so the file back at the agreed
# place is the person's move back, later than the API's, and stays; the
# API's status and title are kept in sync_conflicts (model seed 189 at
# 120 steps, on 08c06f2 too: the run moved the file again, the person's
# move lost with nothing recorded) ----
story_tree "moved-back" refinements/S-1-one.md S-1 One
py_rows "UPDATE stories SET status = 'backlog' WHERE id = 'S-1'"
killed_run after-writes
check_eq "moved-back: the move made, killed" "137|backlog/S-1-one.md" \
  "$rc|$(find refinements backlog -name 'S-*.md')"
sed -i 's/^title: One/title: Person/' backlog/S-1-one.md
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
killed_run after-writes --full
check_eq "moved-back: a second run killed" "137" "$rc"
mv backlog/S-1-one.md refinements/
run ss
check_eq "moved-back: the person's move back and title stay, the API's kept" \
  "0|refinements/S-1-one.md|refinement/Person|both_changed/file/backlog/API" \
  "$rc|$(find refinements backlog -name 'S-*.md')|$(py_rows "SELECT status || '/' || title FROM stories")|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost status) || '/' || $(jget lost title) FROM sync_conflicts")"
quiet_next "moved-back"

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
  st=
  case $how in key*) st='status: backlog\n' ;; esac
  story_tree "set-back-$how" backlog/S-1-t.md S-1 T1 "${st}priority: low\n"
  py_rows "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
  killed_run after-writes
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
  quiet_next "set-back-$how"
done

# ---- a move made by a run killed after it (the API's backlog), of a
# file a person had edited on top of a version they committed since the
# last run; a discard (checkout --, reset --hard) then puts HEAD's version
# back at the old place, beside the moved file. That version is the one
# git held there when the run moved the file away (the journal's "o "
# line): git's version put back, as after a move a run committed, not a
# person's file (model wide seed 1563: the commit since the last run
# made it look like theirs, both files were named, exit 1, and the run
# after, its commit recorded, removed it all the same). The moved file is
# the story's, the person's title and the API's backlog with it. A
# version the person committed there after the kill is theirs: both
# files named, both kept, nothing of the id written ----
for how in checkout reset later; do
  web_api_repo "source-$how" active:active
  mkdir -p stories/web/active stories/api/active
  for i in 1 2; do
    printf -- '---\nid: W-%s\ntitle: T%s\n---\nbody\n' $i $i \
      >stories/web/active/W-$i-t.md
  done
  synced_commit || not_ok "source-$how: the tree"
  sed -i 's/^title: T1$/title: Committed/' stories/web/active/W-1-t.md
  git commit -qam "person: W-1's title"
  sed -i 's/^title: Committed$/title: Mine/' stories/web/active/W-1-t.md
  py_rows "UPDATE stories SET backlog = 'api' WHERE id = 'W-1'"
  files() { find stories -name 'W-1-*.md' | LC_ALL=C sort | paste -sd ' '; }
  killed_run after-move
  check_eq "source-$how: killed after the move" \
    "137|stories/api/active/W-1-t.md" "$rc|$(files)"
  case $how in
  checkout) git checkout -q -- . ;;
  reset) git reset -q --hard ;;
  later)
    git checkout -q -- .
    sed -i 's/^title: Committed$/title: Later/' stories/web/active/W-1-t.md
    git commit -qam "person: W-1's title again"
    ;;
  esac
  run ss
  if [ $how = later ]; then
    check_eq "source-$how: both files named, both kept, the row as the API left it" \
      "1|stories/api/active/W-1-t.md stories/web/active/W-1-t.md|Mine|Later|api/T1/stories/web/active/W-1-t.md|0" \
      "$rc|$(files)|$(key title stories/api/active/W-1-t.md)|$(key title stories/web/active/W-1-t.md)|$(py_rows "SELECT backlog || '/' || title || '/' || path FROM stories WHERE id = 'W-1'")|$(py_rows "SELECT count(*) FROM sync_conflicts")"
    check_contains "source-$how: named" \
      "stories/web/active/W-1-t.md: id 'W-1' is also claimed by stories/api/active/W-1-t.md" "$err"
    continue
  fi
  check_eq "source-$how: git's version gone, the moved file the story's" \
    "0|stories/api/active/W-1-t.md|Mine|api/Mine/stories/api/active/W-1-t.md" \
    "$rc|$(files)|$(key title stories/api/active/W-1-t.md)|$(py_rows "SELECT backlog || '/' || title || '/' || path FROM stories WHERE id = 'W-1'")"
  check_eq "source-$how: git holds the version removed" "Committed" \
    "$(git show HEAD:stories/web/active/W-1-t.md | key title /dev/stdin)"
  quiet_next "source-$how"
done

# ---- two moves made by runs killed after them: the API moves W-1 to
# backlog api, a run moves the file and is killed; a discard puts git's
# version back at the old place and the person's add -A commits both;
# the API sets the status, a run takes the first move, removes git's
# version put back and moves the file on, and is killed; a reset brings
# back both files git holds beside the second move: three files, each
# the agreed content, at the places the story had. As once those runs
# committed, the files put back are git's versions: removed (recorded in
# sync_deleted), the last move the story's (model wide seed 1549: all
# named, exit 1 on every run, the last one untracked), by a plain run
# and by sync --git. A person's edit at one of the earlier places keeps
# them all named, each kept ----
for how in plain git edited; do
  web_api_repo "chain-$how" backlog:backlog active:active
  mkdir -p stories/web/backlog stories/api/backlog stories/api/active
  for i in 1 2; do
    printf -- '---\nid: W-%s\ntitle: T%s\n---\nbody\n' $i $i \
      >stories/web/backlog/W-$i-t.md
  done
  synced_commit || not_ok "chain-$how: the tree"
  files() { find stories -name 'W-1-*.md' | LC_ALL=C sort | paste -sd ' '; }
  py_rows "UPDATE stories SET backlog = 'api' WHERE id = 'W-1'"
  killed_run after-move
  git checkout -q -- . && git add -A && git commit -qm "person: add -A"
  check_eq "chain-$how: the first move, committed beside git's version" \
    "137|stories/api/backlog/W-1-t.md stories/web/backlog/W-1-t.md" \
    "$rc|$(files)"
  py_rows "UPDATE stories SET status = 'active' WHERE id = 'W-1'"
  killed_run after-move
  git reset -q --hard
  check_eq "chain-$how: the second move, a reset after it" \
    "137|stories/api/active/W-1-t.md stories/api/backlog/W-1-t.md stories/web/backlog/W-1-t.md" \
    "$rc|$(files)"
  if [ $how = edited ]; then
    sed -i 's/^title: T1$/title: Mine/' stories/api/backlog/W-1-t.md
    run ss
    check_eq "chain-$how: all named, each kept, the row as the API left it" \
      "1|stories/api/active/W-1-t.md stories/api/backlog/W-1-t.md stories/web/backlog/W-1-t.md|Mine|api/active/T1/stories/web/backlog/W-1-t.md" \
      "$rc|$(files)|$(key title stories/api/backlog/W-1-t.md)|$(py_rows "SELECT backlog || '/' || status || '/' || title || '/' || path FROM stories WHERE id = 'W-1'")"
    check_contains "chain-$how: named" \
      "stories/api/backlog/W-1-t.md: id 'W-1' is also claimed by" "$err"
    continue
  fi
  if [ $how = git ]; then run ss --git; else run ss; fi
  check_eq "chain-$how: git's versions gone, the last move the story's" \
    "0|stories/api/active/W-1-t.md|api/active/T1/stories/api/active/W-1-t.md" \
    "$rc|$(files)|$(py_rows "SELECT backlog || '/' || status || '/' || title || '/' || path FROM stories WHERE id = 'W-1'")"
  check_eq "chain-$how: the removals recorded" \
    "stories/api/backlog/W-1-t.md stories/web/backlog/W-1-t.md" \
    "$(py_rows "SELECT path FROM sync_deleted WHERE story_id = 'W-1' ORDER BY path" | paste -sd ' ')"
  quiet_next "chain-$how"
done

finish
