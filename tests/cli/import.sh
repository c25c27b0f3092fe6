#!/bin/bash
# Issue 2: a 1000-story tree is imported in full; the next run is silent and
# writes nothing; one edit, move or delete changes exactly that story.
PG_TWIN=1 # a twin: runs on PostgreSQL too (lib.sh)
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

"$GEN_STORIES" . --count 1000 2>/dev/null
run ss init
check_rc "init succeeds" 0
run ss sync
check_rc "first sync succeeds" 0
check_eq "first sync says what it did" "storysync: 1000 created" "$out"
check_eq "1000 rows" 1000 "$(q 'SELECT count(*) FROM stories')"
run python3 "$here/expect_tree.py" . "$(db_ref)"
check_rc "every row matches its file (status, backlog, epic, deps, extra)" 0
check_eq "a history row per new story" 1000 \
  "$(q "SELECT count(*) FROM status_history WHERE from_status IS NULL AND origin='file'")"
check_eq "a created event per story" 1000 \
  "$(q "SELECT count(*) FROM sync_events WHERE change='created' AND origin='file'")"

before_db=$(db_digest)
before_tree=$(tree_digest)
run ss sync
check_rc "no-op sync succeeds" 0
check_eq "no-op sync prints nothing" "" "$out$err"
check_eq "no-op sync writes nothing to the DB" "$before_db" "$(db_digest)"
check_eq "no-op sync touches no file" "$before_tree" "$(tree_digest)"
check_eq "only a run that changed something has its row" 1 \
  "$(q 'SELECT count(*) FROM sync_runs')"
check_eq "the run record has both" "runs_ok 2" \
  "$(grep '^runs_ok ' "$(run_record)")"

# edit one file
f=$(find stories -name '*.md' | sort | head -n 1)
id=$(q "SELECT id FROM stories WHERE path='$f'")
maxrev=$(q 'SELECT max(rev) FROM stories')
sed -i 's/^title: .*/title: Edited by hand/' "$f"
run ss sync -v
check_rc "sync after an edit succeeds" 0
check_contains "-v names the change" "updated  $id" "$out"
check_eq "the title changed" "Edited by hand" "$(q "SELECT title FROM stories WHERE id='$id'")"
check_eq "only that story's row changed" "$id" \
  "$(q "SELECT id FROM stories WHERE rev > $maxrev")"

# move one file to another stage
g=$(find stories -path '*/backlog/*' -name '*.md' | sort | head -n 1)
gid=$(q "SELECT id FROM stories WHERE path='$g'")
dest=${g/\/backlog\//\/active\/}
mkdir -p "$(dirname "$dest")"
mv "$g" "$dest"
run ss sync
check_rc "sync after a move succeeds" 0
check_eq "the move changes the status and path" "active|$dest" \
  "$(q "SELECT status, path FROM stories WHERE id='$gid'")"
check_eq "the move leaves a history row" "backlog|active|file" \
  "$(q "SELECT from_status, to_status, origin FROM status_history WHERE story_id='$gid' AND from_status IS NOT NULL")"
check_eq "a moved event" 1 "$(q "SELECT count(*) FROM sync_events WHERE story_id='$gid' AND change='moved'")"

# delete one file
h=$(find stories -name '*.md' | sort | tail -n 1)
hid=$(q "SELECT id FROM stories WHERE path='$h'")
title=$(q "SELECT title FROM stories WHERE id='$hid'")
rm "$h"
run ss sync
check_rc "sync after a delete succeeds" 0
check_eq "the row is gone" 0 "$(q "SELECT count(*) FROM stories WHERE id='$hid'")"
check_eq "its last content stays in the DB" "$title" \
  "$(q "SELECT $(jget row title) FROM deleted_stories WHERE story_id='$hid'")"
check_eq "999 rows" 999 "$(q 'SELECT count(*) FROM stories')"

before_db=$(db_digest)
run ss sync
check_eq "and the next run is silent again" "0|" "$rc|$out$err"
check_eq "and writes nothing again" "$before_db" "$(db_digest)"
finish
