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
# not; a discard written again by two killed runs (seed 266, below); the
# API's write deleted after the kill; with status_from: key, the API's
# status set back after the kill, the person's file saved again or edited
# (key-*, below), or typed the agreed status back over the run's, with
# another edit or alone, or put git's version back (agreed, undone,
# checkout: the API's status wins, the person's kept, not lost with no
# record); a conflict a killed run decided in the file's favour
# (file-won-*). The same family: killed_move.sh (a killed run's moves),
# killed_put.sh (git's version put back beside a killed run's move),
# killed_create.sh (a killed run's new files). The oracle reads the
# database with Python's sqlite3 (psycopg2 on a server: lib.sh's py_rows)
# and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
F=stories/web/backlog/S-1-one.md
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
  web_api_repo "$1"
  mkdir -p stories/web/backlog stories/api/backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: A-1\ntitle: Other\n---\nbody\n' \
    >stories/api/backlog/A-1-other.md
  synced_commit || not_ok "$1: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  killed_run after-writes
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
  quiet_next "$1"
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
  killed_run after-writes "${args[@]}"
  check_eq "$how-twice: the discard written again, killed" \
    "137|API|" "$rc|$(key title $F)|$(lost)"
  py_rows "UPDATE stories SET title = 'Again' WHERE id = 'S-1'"
  killed_run after-writes "${args[@]}"
  check_eq "$how-twice: the API's next value written over it, killed" \
    "137|Again|" "$rc|$(key title $F)|$(lost)"
  run ss "${args[@]}"
  check_eq "$how-twice: the API's value stays; git's kept" \
    "0|Again|Again|both_changed|db|One" "$rc|$(key title $F)|$(title)|$(lost)"
  quiet_next "$how-twice"
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
  killed_run after-writes
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
  quiet_next "deleted-$how"
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
  killed_run after-writes
  check_eq "owed-$how: the discard written again, killed" "137|API" \
    "$rc|$(key title backlog/S-1-one.md)"
  py_rows "DELETE FROM stories WHERE id = 'S-1'"
  killed_run after-writes
  check_eq "owed-$how: the file deleted for the API, killed" "137|no" \
    "$rc|$([ -e backlog/S-1-one.md ] && echo yes || echo no)"
  run ss
  check_eq "owed-$how: the deletion finished, git's title kept" \
    "0|-|both_changed/db/One" \
    "$rc|$(py_rows "SELECT count(*) FROM stories WHERE id = 'S-1'" | sed 's/^0$/-/')|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-1'")"
  quiet_next "owed-$how"
done

# ---- a discard written again by a run killed before its commit (git's
# title overridden, its conflict journaled), then a person edits another
# field of the file: no line names its blob now, and the conflict is owed
# all the same (model seed 106 at 120 steps: git's title lost, nothing
# in sync_conflicts) ----
story_tree "owed-edited" backlog/S-1-one.md S-1 One 'priority: low\n'
py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
ss -q || not_ok "owed-edited: the API's title written"
git checkout -- backlog/S-1-one.md
killed_run after-writes
check_eq "owed-edited: the discard written again, killed" "137|API" \
  "$rc|$(key title backlog/S-1-one.md)"
sed -i 's/^priority: low/priority: high/' backlog/S-1-one.md
run ss
check_eq "owed-edited: the person's priority, the API's title, git's kept" \
  "0|API/high|both_changed/db/One" \
  "$rc|$(py_rows "SELECT title || '/' || priority FROM stories")|$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts")"
quiet_next "owed-edited"

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
  killed_run after-writes
  check_eq "$t: killed after the run wrote the API's status" "137|Doing" \
    "$rc|$(key status $F)"
  blob=$(git hash-object $F) was=$(id_of $F)
  if [ $how = same-old ]; then
    rr=$(run_record) && journal=${rr%.run}.writes
    check_eq "$t: the journal had the identity line" 1 "$(grep -c '^[~@] ' "$journal")"
    sed -i '/^[~@] /d' "$journal"
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
  quiet_next "$t"
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
  killed_run after-writes
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
  quiet_next "$t"
done

# ---- a killed run's rewrite under a change of the configuration not
# committed (web's folder moved, by hand too: the run writes the API's
# title into S-1 there), the change then thrown away (reset: git's version
# back at the old place, the run's write left where no backlog is), and
# a person edits git's version's title. The run's journaled values are
# the base of an edit of its write only, at the place it wrote: taken as
# this file's base, the person's title won over the API's with nothing in
# sync_conflicts (model seed 1355) ----
for how in plain git; do
  t=values-elsewhere-$how
  web_api_repo "$t"
  mkdir -p stories/web/backlog stories/api/backlog
  F=stories/web/backlog/S-1-one.md
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
  printf -- '---\nid: A-1\ntitle: Other\n---\nbody\n' \
    >stories/api/backlog/A-1-other.md
  synced_commit || not_ok "$t: the tree"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
  sed -i 's|web: stories/web$|web: stories/web2|' .storysync.yml
  mv stories/web stories/web2
  args=()
  [ $how = git ] && args=(--git)
  killed_run after-writes "${args[@]}"
  check_eq "$t: killed after it wrote the API's title at web's new place" \
    "137|API" "$rc|$(key title stories/web2/backlog/S-1-one.md)"
  git reset -q --hard
  check_eq "$t: git's version back at the old place" "One" "$(key title $F)"
  sed -i 's/^title: One$/title: Mine/' $F
  run ss
  check_eq "$t: the person's title, the API's kept" \
    "0|Mine|Mine|both_changed/file/title/API" \
    "$rc|$(title)|$(key title $F)|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-1'" | paste -sd ' ')"
  quiet_next "$t"
done

# ---- a rewrite journaled (its values line) but never put in place: the
# run is killed after the move of a story before it in the batch (A-1),
# with A-2's rewrite staged, the API's title in its values line, and the
# file still git's. A person's title typed over git's then is no edit of
# the run's write, which the person never saw: it is a conflict with the
# API's title, the policy's (the file wins), the API's kept (model seed
# 1006: the run's value taken for the base, the person's title won and
# the API's was lost with nothing in sync_conflicts). Whether the person edits the title
# (typed) or the priority too (both) ----
for how in typed both; do
  t=unplaced-$how
  stages_repo "$t" backlog:backlog active:active
  F=backlog/A-2-two.md
  printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >backlog/A-1-one.md
  printf -- '---\nid: A-2\ntitle: Two\npriority: low\n---\nbody\n' >$F
  synced_commit || not_ok "$t: the tree"
  py_rows "UPDATE stories SET status = 'active' WHERE id = 'A-1'"
  py_rows "UPDATE stories SET title = 'API' WHERE id = 'A-2'"
  killed_run after-move
  rr=$(run_record) && journal=${rr%.run}.writes
  check_eq "$t: killed after A-1's move, A-2's rewrite journaled, not made" \
    "137|A-1-one.md|Two|1|0" \
    "$rc|$(ls active)|$(key title $F)|$(grep -c '^= .* A-2 ' "$journal")|$(grep -c '^~ ' "$journal")"
  sed -i 's/^title: Two$/title: Mine/' $F
  [ $how = both ] && sed -i 's/^priority: low$/priority: high/' $F
  run ss
  case $how in
  typed) want="Mine|low|Mine|both_changed/file/title/API" ;;
  both) want="Mine|high|Mine|both_changed/file/title/API" ;;
  esac
  check_eq "$t: the person's title, the API's kept" "0|$want" \
    "$rc|$(py_rows "SELECT title || '|' || priority FROM stories WHERE id = 'A-2'")|$(key title $F)|$(py_rows "SELECT kind || '/' || kept || '/' || fields || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'A-2'" | paste -sd ' ')"
  quiet_next "$t"
done

finish
