#!/bin/bash
# The write journal is read back whole, with its own bound, not the story
# files' max_file_size: it holds a line for every file a run writes, and
# whole versions as JSON (a leftover git put back, a conflict), each of
# which may be near that limit and twice its size escaped. Read with
# max_file_size, a journal past it made every later run exit 3 ("journal:
# larger than ..."), the run that wrote it unable to forget its lines,
# until someone deleted the journal and the records it held. The oracle
# reads the database with sqlite3 (psql on a server: a twin) and the files
# with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
there() { [ -e "$1" ] && echo yes || echo no; }

# ---- a leftover near the limit: its line is twice the limit, escaped ----
mkdir -p "$T/leftover" && cd "$T/leftover" || exit 1
git init -q . && mkdir refinements backlog
F=backlog/S-1-one.md M=refinements/S-1-one.md
{
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\n'
  printf '%3000s' '' | tr ' ' '\n'
} >$F
printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
ss init -q || not_ok "leftover: init"
printf 'max_file_size: 4KiB\nbusy_wait: 1\n' >>.storysync.yml
echo .storysync/ >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "leftover: the tree"
sed -i 's/^priority: low$/priority: critical/' $F
q "UPDATE stories SET status = 'refinement' WHERE id = 'S-1'"
ss -q
git reset -q --hard
check_eq "leftover: git's version back beside storysync's move" \
  "low|critical" "$(key priority $F)|$(key priority $M)"
# killed after the removal: the journal holds the copy, 6 KiB as JSON
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "leftover: killed, the copy removed, nothing recorded" "137|no|0" \
  "$rc|$(there $F)|$(q "SELECT count(*) FROM sync_conflicts")"
run ss
check_eq "leftover: the next run reads the journal and records git's low" \
  "0||both_changed|low|$F" \
  "$rc|$err|$(q "SELECT kind, $(jget lost priority) FROM sync_conflicts
    WHERE story_id = 'S-1'")|$(q "SELECT path FROM sync_deleted")"
run ss
check_eq "leftover: the runs after go through" "0|" "$rc|$err"
q "UPDATE stories SET title = 'API title' WHERE id = 'S-1'"
run ss
check_eq "leftover: an API edit after reaches the file" "0|API title" \
  "$rc|$(key title $M)"

# ---- a run that writes more files than the limit holds lines of ----
mkdir -p "$T/writes" && cd "$T/writes" || exit 1
git init -q . && mkdir refinements backlog
for i in $(seq 1 40); do
  printf -- '---\nid: S-%d\ntitle: Story %d\n---\nbody\n' "$i" "$i" \
    >backlog/S-$i-story.md
done
ss init -q || not_ok "writes: init"
echo "max_file_size: 1KiB" >>.storysync.yml
echo .storysync/ >.gitignore
git add -A && git commit -qm init && ss -q || not_ok "writes: the tree"
q "UPDATE stories SET title = title || ' (API)'"
# killed after its 40 writes: the next run must read their lines
run env STORYSYNC_TEST_KILL=after-writes "$STORYSYNC"
check_eq "writes: killed after 40 writes" "137|Story 7 (API)" \
  "$rc|$(key title backlog/S-7-story.md)"
sed -i 's/^title: .*/title: mine/' backlog/S-7-story.md
run ss
check_eq "writes: the next run goes through, the person's edit taken" \
  "0||mine|Story 8 (API)" \
  "$rc|$err|$(q "SELECT title FROM stories WHERE id = 'S-7'")|$(q "SELECT
    title FROM stories WHERE id = 'S-8'")"
q "UPDATE stories SET title = title || '!'"
run ss
check_eq "writes: a run of 40 writes that commits" "0|" "$rc|$err"
q "UPDATE stories SET title = 'later' WHERE id = 'S-1'"
run ss
check_eq "writes: the runs after go through" "0||later" \
  "$rc|$err|$(key title backlog/S-1-story.md)"
finish
