#!/bin/bash
# A value the database refuses (a rule of the API's: a CHECK constraint
# on PostgreSQL, a trigger that raises on SQLite, the one dialect-specific
# statement of this twin) refuses that story by name, its writes undone
# whole (a savepoint around each story's writes: PostgreSQL would abort
# the whole transaction at the failed statement), and the rest of the run
# syncs: the run exits 1, the refused story's file keeps its value and its
# row its own, the next run refuses it again, and once the rule goes the
# story syncs. Runs on both backends (PG_TWIN). The oracles: sqlite3 or
# psql for the rows, grep for the files.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

mkdir -p tree/backlog && cd tree || exit 1
for n in 1 2 3; do
  printf -- '---\nid: S-%s\ntitle: Story %s\npriority: low\n---\nbody\n' \
    $n $n >backlog/S-$n-story.md
done
ss init -q && run ss
check_eq "the tree loads" "0|3" "$rc|$(q "SELECT count(*) FROM stories")"

# the API's rule: no story is 'urgent'
if [ "${STORYSYNC_TEST_PG:-0}" = 1 ]; then
  q "ALTER TABLE stories ADD CONSTRAINT no_urgent
     CHECK (priority IS DISTINCT FROM 'urgent')"
else
  q "CREATE TRIGGER no_urgent_u BEFORE UPDATE ON stories
       WHEN NEW.priority = 'urgent'
       BEGIN SELECT RAISE(ABORT, 'no story is urgent'); END;
     CREATE TRIGGER no_urgent_i BEFORE INSERT ON stories
       WHEN NEW.priority = 'urgent'
       BEGIN SELECT RAISE(ABORT, 'no story is urgent'); END"
fi

# edits by hand: S-2 urgent (refused) with its title (undone with it),
# S-1 and S-3 retitled, and two new stories, S-4 urgent (refused) and S-5
sed -i 's/^priority: low/priority: urgent/; s/^title: .*/title: Two, urgent/' \
  backlog/S-2-story.md
sed -i 's/^title: .*/title: One, by hand/' backlog/S-1-story.md
sed -i 's/^title: .*/title: Three, by hand/' backlog/S-3-story.md
printf -- '---\nid: S-4\ntitle: Four\npriority: urgent\n---\nbody\n' \
  >backlog/S-4-new.md
printf -- '---\nid: S-5\ntitle: Five\n---\nbody\n' >backlog/S-5-new.md
rows() { q "SELECT id, title, priority FROM stories ORDER BY id"; }
run ss
check_eq "the run exits 1 (a story skipped for an error)" 1 "$rc"
check_contains "S-2 is refused by name, the database's reason given" \
  "story S-2: the database refused its row (" "$err"
check_contains "and so is the new S-4" \
  "story S-4: the database refused its row (" "$err"
check_eq "the reasons name the rule" 2 \
  "$(grep -c 'no_urgent\|no story is urgent' <<<"$err")"
check_eq "the rest synced; S-2's row is as it was, whole; no row for S-4" \
  "S-1|One, by hand|low
S-2|Story 2|low
S-3|Three, by hand|low
S-5|Five|" "$(rows)"
check_eq "the refused files keep their values" "urgent|Two, urgent|urgent" \
  "$(sed -n 's/^priority: //p' backlog/S-2-story.md)|$(sed -n 's/^title: //p' backlog/S-2-story.md)|$(sed -n 's/^priority: //p' backlog/S-4-new.md)"

# the API writes meanwhile: kept, and synced to its file
q "UPDATE stories SET title = 'One, by the API' WHERE id = 'S-1'"
run ss
check_eq "the next run refuses the two again, and syncs the API's write" \
  "1|2|title: One, by the API" \
  "$rc|$(grep -c 'the database refused its row' <<<"$err")|$(grep '^title:' backlog/S-1-story.md)"

# the rule goes: the stories sync, and then nothing more
if [ "${STORYSYNC_TEST_PG:-0}" = 1 ]; then
  q "ALTER TABLE stories DROP CONSTRAINT no_urgent"
else
  q "DROP TRIGGER no_urgent_u; DROP TRIGGER no_urgent_i"
fi
run ss
check_eq "without the rule, S-2 and S-4 sync" \
  "0|S-1|One, by the API|low
S-2|Two, urgent|urgent
S-3|Three, by hand|low
S-4|Four|urgent
S-5|Five|" "$rc|$(rows)"
run ss
check_eq "and the next run is quiet" "0|" "$rc|$out$err"

# A first load (SQLite: its rows go 32 a statement, unless a trigger may
# refuse one) into a database with the rule already there: the refused
# story, among 40, is refused by name, alone; the other 39 load, each
# with its state and event. (PostgreSQL's twin has one database for the
# test, which the first tree holds.)
if [ "${STORYSYNC_TEST_PG:-0}" != 1 ]; then
  mkdir -p ../fresh/backlog && cd ../fresh || exit 1
  ss init -q
  q "CREATE TRIGGER no_urgent_i BEFORE INSERT ON stories
       WHEN NEW.priority = 'urgent'
       BEGIN SELECT RAISE(ABORT, 'no story is urgent'); END"
  for n in $(seq 1 40); do
    p=low
    [ "$n" = 7 ] && p=urgent
    printf -- '---\nid: F-%02d\ntitle: Story %s\npriority: %s\n---\nbody\n' \
      "$n" "$n" "$p" >backlog/F-$(printf %02d "$n")-story.md
  done
  run ss
  check_eq "the first load exits 1, one story refused, by name" \
    "1|1|1" "$rc|$(grep -c 'the database refused its row' <<<"$err")|$(grep -c 'story F-07: the database refused its row (' <<<"$err")"
  check_eq "the other 39 load, each with its state and event" \
    "39|39|39|0" "$(q "SELECT count(*) FROM stories")|$(q "SELECT count(*)
      FROM sync_state")|$(q "SELECT count(*) FROM sync_events")|$(q "SELECT
      count(*) FROM stories WHERE id = 'F-07'")"
  check_eq "the refused file keeps its value" "urgent" \
    "$(key priority backlog/F-07-story.md)"
fi
finish
