#!/bin/bash
# Issue 20: nothing lost after a kill. A run is killed at an exact point
# (STORYSYNC_TEST_KILL: after its file writes and moves, before the
# commit; or right after a move), then what a team does next comes between
# (a partial --backlog run, a person's move, an API write), then runs: the
# files the killed run wrote or moved are its own, not a person's edits,
# and every later write of the API reaches the file.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

# story DIR ID TITLE [STATUS_KEY]: a story file written by hand
story() {
  mkdir -p "$1"
  {
    printf -- '---\nid: %s\ntitle: %s\n' "$2" "$3"
    [ -n "${4:-}" ] && printf 'status: %s\n' "$4"
    printf 'priority: medium\n---\nBody of %s.\n' "$2"
  } >"$1/$2-story.md"
}
# fm PATH KEY: the frontmatter value, read by PyYAML (the oracle)
fm() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys, yaml
text = open(sys.argv[1], encoding="utf-8").read()
print(yaml.safe_load(text.split("---\n")[1]).get(sys.argv[2]))
EOF
}
path_of() { q "SELECT path FROM stories WHERE id = '$1'"; }
killed() { # CMD...: runs it with the seam at $point; rc 137 is the kill
  STORYSYNC_TEST_KILL=$point "$@" >"$O/out" 2>"$O/err"
  rc=$?
}
fresh() {
  rm -rf "$T/t" && mkdir "$T/t" && cd "$T/t" || exit 1
  cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  platform: stories/platform
  mobile: stories/mobile
EOF
  story stories/platform/backlog P-1 "Plat one"
  story stories/platform/backlog P-2 "Plat two"
  story stories/platform/backlog P-3 "Plat three" backlog
  story stories/mobile/backlog M-1 "Mob one"
  story stories/mobile/backlog M-2 "Mob two"
  story stories/mobile/backlog M-3 "Mob three" backlog
  ss init >/dev/null && ss sync >/dev/null || not_ok "$1: the import"
}

# ---- 1: a partial run forgets only the journal entries it committed ----
for between in "nothing to do" "a change of its own"; do
  fresh "partial"
  q "UPDATE stories SET title = 'API M1' WHERE id = 'M-1'"
  [ "$between" = "a change of its own" ] &&
    q "UPDATE stories SET title = 'API P1' WHERE id = 'P-1'"
  point=after-writes killed ss sync
  check_eq "partial, $between: the run is killed after its writes, its file written" \
    "137|API M1" "$rc|$(fm stories/mobile/backlog/M-1-story.md title)"
  q "UPDATE stories SET title = 'API M1 again' WHERE id = 'M-1'"
  run ss sync --backlog platform
  check_rc "partial, $between: --backlog platform runs" 0
  run ss sync
  check_rc "partial, $between: then a run of all" 0
  check_eq "partial, $between: the API's last title is the row's and the file's, no conflict" \
    "API M1 again|API M1 again|0" \
    "$(q "SELECT title FROM stories WHERE id = 'M-1'")|$(fm stories/mobile/backlog/M-1-story.md title)|$(q 'SELECT count(*) FROM sync_conflicts')"
  run ss sync
  check_eq "partial, $between: a second run is quiet" "0|" "$rc|$out$err"
done

# ---- 2: a plain rename is journalled: the next run knows it is its own ----
fresh "rename"
q "UPDATE stories SET status = 'active' WHERE id IN ('P-1', 'M-1')"
point=after-writes killed ss sync
check_eq "rename: killed after moving P-1 and M-1, no status: key, content as it was" \
  "137|yes|yes" \
  "$rc|$([ -f stories/platform/active/P-1-story.md ] && echo yes)|$([ -f stories/mobile/active/M-1-story.md ] && echo yes)"
q "UPDATE stories SET status = 'completed' WHERE id IN ('P-1', 'M-1')"
run ss sync --backlog mobile
check_rc "rename: a partial run comes between" 0
mkdir -p stories/platform/completed
mv stories/platform/backlog/P-2-story.md stories/platform/completed/
run ss sync
check_rc "rename: then a run of all" 0
check_eq "rename: the API's last status wins, in the row and on disk" \
  "completed|stories/platform/completed/P-1-story.md|completed|stories/mobile/completed/M-1-story.md" \
  "$(q "SELECT status, path FROM stories WHERE id IN ('P-1', 'M-1') ORDER BY id DESC" | paste -sd '|')"
check_eq "rename: the files are where the rows say" "yes|yes" \
  "$([ -f stories/platform/completed/P-1-story.md ] && echo yes)|$([ -f stories/mobile/completed/M-1-story.md ] && echo yes)"
check_eq "rename: a person's move meanwhile is kept" \
  "completed|stories/platform/completed/P-2-story.md" \
  "$(q "SELECT status, path FROM stories WHERE id = 'P-2'")"
check_eq "rename: no conflict, nothing lost" 0 "$(q 'SELECT count(*) FROM sync_conflicts')"
run ss sync
check_eq "rename: a second run is quiet" "0|" "$rc|$out$err"

# ---- a person moves a file the killed run wrote: its content is still
# the run's own, its place the person's ----
fresh "moved after"
q "UPDATE stories SET title = 'API M2' WHERE id = 'M-2'"
point=after-writes killed ss sync
mkdir -p stories/platform/active
mv stories/mobile/backlog/M-2-story.md stories/platform/active/
q "UPDATE stories SET title = 'API M2 again' WHERE id = 'M-2'"
run ss sync
check_eq "moved after: the person's place, the API's last title, no conflict" \
  "0|platform|active|API M2 again|API M2 again|0" \
  "$rc|$(q "SELECT backlog, status, title FROM stories WHERE id = 'M-2'" | tr '\n' '|')$(fm stories/platform/active/M-2-story.md title)|$(q 'SELECT count(*) FROM sync_conflicts')"

# ---- the killed run rewrote a file's backlog: key, and a person moves it
# back to the backlog it had: the key storysync wrote is no person's, so it
# follows the place (the row and the key agree), as after a run not killed
fresh "key back"
printf -- '---\nid: M-4\ntitle: Keyed\nbacklog: mobile\n---\nbody\n' \
  >stories/mobile/backlog/M-4-story.md
ss sync >/dev/null
q "UPDATE stories SET backlog = 'platform' WHERE id = 'M-4'"
point=after-writes killed ss sync
check_eq "key back: killed after moving M-4 to platform, its key rewritten" \
  "137|platform" "$rc|$(fm stories/platform/backlog/M-4-story.md backlog)"
mkdir -p stories/mobile/active
mv stories/platform/backlog/M-4-story.md stories/mobile/active/
run ss sync
check_eq "key back: the person's place, in the row and in the key" \
  "0|mobile|active|mobile" \
  "$rc|$(q "SELECT backlog, status FROM stories WHERE id = 'M-4'" | tr '\n' '|')$(fm stories/mobile/active/M-4-story.md backlog)"
run ss sync
check_eq "key back: a second run is quiet" "0|" "$rc|$out$err"

# ---- 2b: killed right after a move, before its status: key is rewritten ----
fresh "move"
q "UPDATE stories SET status = 'active' WHERE id = 'P-3'"
point=after-move killed ss sync
check_eq "move: killed after the move, its key not yet rewritten" \
  "137|backlog" "$rc|$(fm stories/platform/active/P-3-story.md status)"
q "UPDATE stories SET status = 'completed', priority = 'high' WHERE id = 'P-3'"
run ss sync --backlog mobile
run ss sync
check_rc "move: the runs after" 0
check_eq "move: the API's last status and priority reach the file" \
  "completed|completed|high|0" \
  "$(q "SELECT status FROM stories WHERE id = 'P-3'")|$(fm stories/platform/completed/P-3-story.md status)|$(fm stories/platform/completed/P-3-story.md priority)|$(q 'SELECT count(*) FROM sync_conflicts')"

# ---- a story the API created, its file written by the killed run ----
fresh "created"
q "INSERT INTO stories(id, backlog, status, title) VALUES ('N-1', 'mobile', 'active', 'New from the API')"
point=after-writes killed ss sync
check_eq "created: killed after writing the new story's file" \
  "137|New from the API" "$rc|$(fm stories/mobile/active/N-1-new-from-the-api.md title)"
q "UPDATE stories SET title = 'Renamed by the API', priority = 'high' WHERE id = 'N-1'"
run ss sync --backlog platform
run ss sync
check_rc "created: the runs after" 0
check_eq "created: the API's later write reaches the file the killed run made" \
  "Renamed by the API|high|0" \
  "$(fm stories/mobile/active/N-1-new-from-the-api.md title)|$(fm stories/mobile/active/N-1-new-from-the-api.md priority)|$(q 'SELECT count(*) FROM sync_conflicts')"
check_eq "created: one file, and its creation is an event" "1|created" \
  "$(find stories -name 'N-1-*' | wc -l)|$(q "SELECT $(sqlagg change) FROM sync_events WHERE story_id = 'N-1'")"

# ---- a --git run between: it looks at no file the killed run wrote ----
fresh "git"
git init -q . && git add -A && git -c user.name=T -c user.email=t@e commit -qm init
ss sync --git >/dev/null
check_eq "git: the commit is the last synced one" "$(git rev-parse HEAD)" \
  "$(q "SELECT value FROM sync_meta WHERE key = 'git.last_commit'")"
q "UPDATE stories SET title = 'API M1' WHERE id = 'M-1'"
point=after-writes killed ss sync
q "UPDATE stories SET title = 'API M1 again' WHERE id = 'M-1'"
run ss sync --git
check_rc "git: a --git run between" 0
run ss sync
check_eq "git: then a scan: the API's last title, no conflict" \
  "0|API M1 again|API M1 again|0" \
  "$rc|$(q "SELECT title FROM stories WHERE id = 'M-1'")|$(fm stories/mobile/backlog/M-1-story.md title)|$(q 'SELECT count(*) FROM sync_conflicts')"

# ---- a person's edit the killed run merged is not taken back ----
for between in "" "--backlog mobile"; do
fresh "merge"
sed -i 's/^title: .*/title: Edited by hand/' stories/platform/backlog/P-2-story.md
q "UPDATE stories SET priority = 'low' WHERE id = 'P-2'"
point=after-writes killed ss sync
check_eq "merge ${between:-alone}: killed after writing both sides' changes into the file" \
  "137|Edited by hand|low" \
  "$rc|$(fm stories/platform/backlog/P-2-story.md title)|$(fm stories/platform/backlog/P-2-story.md priority)"
q "UPDATE stories SET points = 5 WHERE id = 'P-2'"
[ -n "$between" ] && ss sync $between >/dev/null
run ss sync
check_rc "merge ${between:-alone}: the runs after" 0
check_eq "merge ${between:-alone}: the person's title, the API's priority and points, row and file" \
  "Edited by hand|low|5|Edited by hand|low|5" \
  "$(q "SELECT title, priority, points FROM stories WHERE id = 'P-2'")|$(for k in title priority points; do fm stories/platform/backlog/P-2-story.md $k; done | paste -sd '|')"
done
finish
