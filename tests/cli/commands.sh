#!/bin/bash
# check, status and conflicts: what they print, their exit codes, and that
# they write nothing.
. "$(dirname "$0")/lib.sh"

# story FILE ID TITLE [EXTRA FRONTMATTER LINES...]
story() {
  local f=$1 id=$2 title=$3
  shift 3
  mkdir -p "$(dirname "$f")"
  {
    echo '---'
    echo "id: $id"
    echo "title: $title"
    for line in "$@"; do echo "$line"; done
    echo '---'
    echo
    echo "# $title"
  } >"$f"
}

# ---- check, on a small hand-made tree ----
mkdir chk
cd chk || exit 1
printf 'database: .storysync/stories.db\nbacklogs:\n  platform: stories/platform\n' \
  >.storysync.yml
A=stories/platform/backlog/A-1-alpha.md
B=stories/platform/active/api/A-2-beta.md
story "$A" A-1 Alpha 'depends_on: [A-2]'
story "$B" A-2 Beta 'status: active' 'epic: api' 'backlog: platform'
before=$(tree_digest)
run ss check
check_eq "check: a clean tree exits 0 with a summary" \
  "0|2 stories checked, 0 problems|" "$rc|$out|$err"
check_eq "check writes nothing: no database" "no" \
  "$([ -e .storysync ] && echo yes || echo no)"
check_eq "check writes nothing: the tree is untouched" "$before" "$(tree_digest)"
run ss -q check
check_eq "check -q: nothing on a clean tree" "0||" "$rc|$out|$err"

story "$A" A-1 Alpha 'depends_on: [A-2, A-9]'
run ss check
check_rc "check: a missing dependency exits 1" 1
check_eq "check: names the missing dependency" \
  "$A: depends_on 'A-9': no such story" "$err"
check_eq "check: the summary counts it" "2 stories checked, 1 problem" "$out"

story "$A" A-1 Alpha 'depends_on: [A-1]'
run ss check
check_eq "check: a story depending on itself" \
  "1|$A: depends_on 'A-1': a story cannot depend on itself" "$rc|$err"

story "$A" A-1 Alpha 'depends_on: [A-2]'
story "$B" A-2 Beta 'depends_on: [A-1]'
run ss check
check_eq "check: a dependency cycle" \
  "1|$A: dependency cycle: A-1 -> A-2 -> A-1" "$rc|$err"

story "$B" A-2 Beta 'status: backlog' 'epic: web' 'backlog: mobile'
run ss check
check_eq "check: mirror keys that disagree with the location" \
  "1|$B: backlog: 'mobile' but the file is in backlog 'platform'
$B: epic: 'web' but the file is in epic directory 'api'
$B: status: 'backlog' but the file is in active/ (status 'active')" \
  "$rc|$err"
check_eq "check: three problems" "2 stories checked, 3 problems" "$out"
story "$A" A-1 Alpha 'epic: api'
story "$B" A-2 Beta 'epic: ""'
run ss check
check_eq "check: an epic key where the file has no epic directory" \
  "1|$B: epic: '' but the file is in epic directory 'api'
$A: epic: 'api' but the file is in no epic directory" "$rc|$err"

story "$A" A-1 Alpha 'depends_on: [A-3]'
story "$B" A-2 Beta
C=stories/platform/backlog/A-3-broken.md
printf -- '---\nid: A-3\n---\nbody\n' >"$C"
run ss check
check_eq "check: a parse error, and no false missing dependency" \
  "1|$C:1:1: missing required key 'title'" "$rc|$err"
printf -- '---\ntitle: never closed\n' >"$C"
run ss check
check_eq "check: an unclosed frontmatter" \
  "$C:1:1: frontmatter not closed by '---'" "$err"
story "$C" A-1 Twin
run ss check
check_eq "check: an id claimed twice names both files" \
  "1|$A: id 'A-1' is also claimed by $C
$C: id 'A-1' is also claimed by $A" "$rc|$err"
check_eq "check: three files" "3 stories checked, 2 problems" "$out"
run ss --json check
check_eq "check --json: exit 1, nothing on stderr" "1|" "$rc|$err"
check_eq "check --json: an object with the count and the problems" \
  "3 2 $A id 'A-1' is also claimed by $C" \
  "$(python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["problems"][0]
print(d["stories"], len(d["problems"]), p["path"], p["message"].split(": ", 1)[1])' <<<"$out")"
rm "$C"
run ss check extra
check_eq "check: an argument is a usage error" \
  "2|storysync: check: unexpected 'extra'" "$rc|$err"
cd "$T" || exit 1

# ---- status ----
"$GEN_STORIES" . --count 100 2>/dev/null
run ss status
check_eq "status without a database: never synced, exit 6 (stale)" \
  "6|stale: never synced (no database yet: storysync init creates it)
last runs: none
pending: unknown, no database yet (storysync init creates it)
conflicts: none|" "$rc|$out|$err"
check_eq "status creates no database" "no" \
  "$([ -e "$DB" ] && echo yes || echo no)"
ss init >/dev/null
run ss status
check_eq "status after init: no run yet, the import is pending" \
  "6|stale: no run recorded yet
last runs: none
pending: 100 created
  platform: 50 created
  mobile: 50 created
conflicts: none|" "$rc|$out|$err"
check_eq "status records no run" 0 "$(q 'SELECT count(*) FROM sync_runs')"
t0=$(date +%s)
ss sync >/dev/null
run ss status
check_rc "status after the import exits 0" 0
# the ages in whole seconds: no more than have passed since the sync began
ages=$(sed -n 's/^healthy: last run \([0-9]*\) s ago, last change \([0-9]*\) s ago; 100 stories$/\1 \2/p' <<<"$out")
check_eq "status: the verdict first ($(sed -n 1p <<<"$out"))" yes \
  "$([ -n "$ages" ] && for a in $ages; do
    [ "$a" -le $(($(date +%s) - t0)) ] || exit 0; done && echo yes)"
check_eq "status lists the run" "last runs (newest first):" \
  "$(sed -n 2p <<<"$out")"
check_contains "status: the run's mode, exit code and counts" \
  " scan exit 0: 100 created" "$(sed -n 3p <<<"$out")"
check_eq "status: nothing pending, no conflicts" "pending: nothing
conflicts: none" "$(sed -n '4,5p' <<<"$out")"
check_eq "status: the stories of each backlog" "backlogs:" \
  "$(sed -n '6p' <<<"$out" | cut -d' ' -f1)"

# a file edit and an API write are pending; status writes neither
f1=$(find stories -name '*.md' | sort | sed -n 1p)
f2=$(find stories -name '*.md' | sort | sed -n 2p)
id2=$(q "SELECT id FROM stories WHERE path='$f2'")
sed -i 's/^title: .*/title: Edited in the file/' "$f1"
q "UPDATE stories SET priority='low' WHERE id='$id2' AND priority IS NOT 'low'"
q "UPDATE stories SET assignees='[\"api-user\"]' WHERE id='$id2'"
before_db=$(db_digest)
before_tree=$(tree_digest)
runs=$(q 'SELECT count(*) FROM sync_runs')
run ss status
check_eq "status: pending edits on both sides" "pending: 2 updated" \
  "$(grep '^pending' <<<"$out")"
check_eq "status writes nothing to the DB" "$before_db" "$(db_digest)"
check_eq "status adds no run" "$runs" "$(q 'SELECT count(*) FROM sync_runs')"
check_eq "status touches no file" "$before_tree" "$(tree_digest)"
run ss --json status
check_rc "status --json exits 0" 0
check_eq "status --json parses, with the pending counts" "ok 2 0 ok" \
  "$(python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["pending"]
print(p["state"], p["updated"], p["created"], d["last_run"])' <<<"$out")"
run python3 -m json.tool <<<"$(ss --json status)"
check_rc "status --json is valid JSON" 0

# while a sync holds the lock
hold_lock "$DB.lock" || not_ok "hold the run lock"
run ss status
check_eq "status while a sync runs" "0|pending: unknown, a sync is running" \
  "$rc|$(grep '^pending' <<<"$out")"
release_lock
run ss sync
check_eq "the pending edits sync" "0|storysync: 2 updated" "$rc|$out"

# runs that fail: a guard refuses to delete most stories
mkdir "$T/keep"
cp -a stories "$T/keep/"
# seven of every ten, so that no backlog is left empty
find stories -name '*.md' | sort | awk 'NR % 10 < 7' | xargs rm
run ss sync
check_rc "a mass deletion is refused" 4
guard="this run would delete 70 of 100 stories (more than 50%); nothing written (--force to sync anyway)"
check_eq "the guard says why" "storysync: $guard" "$err"
run ss status
check_eq "status after a refused run: the verdict, exit 4" \
  "4|refused: a guard has held since" "$rc|$(cut -c1-31 <<<"$out" | head -n 1)"
check_contains "the verdict has the guard's reason" "$guard" \
  "$(head -n 1 <<<"$out")"
check_contains "status shows the failed run" " scan exit 4: no changes" "$out"
check_eq "status shows the run's error" "errors of the last run:
  $guard" "$(sed -n '/^errors of the last run:/,$p' <<<"$out")"
check_eq "status: the guard also refuses the pending run" \
  "pending: the next run would be refused: $guard" \
  "$(grep '^pending' <<<"$out")"
ss sync 2>/dev/null
ss sync 2>/dev/null
run ss status
check_eq "status after three refused runs: still refused" 4 "$rc"
check_eq "status lists the last five runs" 5 "$(grep -c '^  #' <<<"$out")"
run ss -q status
check_eq "status -q: only the verdict's line" \
  "4|1|" "$rc|$(grep -c '^refused: a guard has held since ' <<<"$out")|$err"
run ss --json status
check_eq "status --json: the verdict, the runs and their errors" \
  "4|refused guarded 0 4 guarded $guard" \
  "$rc|$(python3 -c 'import json,sys; d=json.load(sys.stdin)
print(d["verdict"], d["last_run"], d["failing_runs"], d["runs"][0]["exit"],
      d["pending"]["state"], d["last_run_errors"][0])' <<<"$out")"
rm -rf stories
cp -a "$T/keep/stories" .
run ss sync
check_rc "the tree restored, a run succeeds" 0
run ss status
check_eq "status is calm again" "0|" "$rc|$err"

# ---- conflicts ----
run ss conflicts
check_eq "conflicts: none recorded prints nothing" "0||" "$rc|$out|$err"
run ss --json conflicts
check_eq "conflicts --json: an empty list" '0|{"conflicts":[]}' "$rc|$out"
f3=$(find stories -name '*.md' | sort | sed -n 3p)
id3=$(q "SELECT id FROM stories WHERE path='$f3'")
sed -i 's/^title: .*/title: Title from the file/' "$f3"
q "UPDATE stories SET title='Title from the API' WHERE id='$id3'"
run ss sync
check_eq "a real conflict: the file wins" "0|storysync: 1 updated, 1 conflict" \
  "$rc|$out"
check_eq "the file's title is kept" "Title from the file" \
  "$(q "SELECT title FROM stories WHERE id='$id3'")"
run ss conflicts
check_rc "conflicts lists them" 0
check_eq "conflicts: one line, newest first" \
  "#1 $(q 'SELECT at FROM sync_conflicts') $id3 both_changed kept file: title" \
  "$out"
run ss conflicts 1
check_rc "conflicts 1 shows it" 0
check_eq "conflicts 1: the header" "conflict #1
story:  $id3" "$(sed -n 1,2p <<<"$out")"
check_eq "conflicts 1: kind, kept side and fields" "kind:   both_changed
kept:   file
fields: title" "$(sed -n 4,6p <<<"$out")"
check_eq "conflicts 1: the losing version, field by field" \
  "lost version (db):
  id: $id3" "$(sed -n '/^lost version/,/^  id:/p' <<<"$out")"
check_contains "conflicts 1: the lost title" \
  "  title: Title from the API" "$out"
run ss conflicts '#1'
check_eq "conflicts '#1' is conflict 1" 0 "$rc"
run ss --json conflicts 1
check_eq "conflicts --json ID: the lost version as an object" \
  "1 $id3 ['title'] Title from the API" \
  "$(python3 -c 'import json,sys; d=json.load(sys.stdin)
print(d["id"], d["story"], d["fields"], d["lost"]["title"])' <<<"$out")"
run python3 -m json.tool <<<"$(ss --json conflicts)"
check_rc "conflicts --json is valid JSON" 0
run python3 -m json.tool <<<"$(ss conflicts --json 1)"
check_rc "conflicts ID --json is valid JSON" 0
run ss conflicts 99
check_eq "an unknown conflict" "2||storysync: no conflict 99" \
  "$rc|$out|$err"
run ss conflicts abc
check_eq "not a conflict number" "2|storysync: no conflict abc" "$rc|$err"
run ss conflicts 1 2
check_eq "one ID at most" "2|storysync: conflicts: unexpected '2'" "$rc|$err"
run ss status
check_eq "status counts the conflict" \
  "conflicts: 1 open (storysync conflicts lists them, conflicts --resolve marks them done)" \
  "$(grep '^conflicts' <<<"$out")"
check_contains "status shows the latest conflict" \
  "  #1 " "$(sed -n '/^conflicts/,$p' <<<"$out")"

# ---- help, and usage errors that name where ----
run ss help
check_eq "help: the whole help, exit 0, to stdout" "0|usage: storysync" \
  "$rc|$(head -c 16 <<<"$out")"
for cmd in sync status metrics check init install-hooks conflicts history; do
  run ss help "$cmd"
  check_eq "help $cmd: its usage first" \
    "0|usage: storysync [GLOBAL OPTIONS] $cmd ..." "$rc|$(head -n 1 <<<"$out")"
  check_contains "help $cmd: its line of --help" "  $cmd" "$out"
  help_out=$out
  run ss "$cmd" --help
  check_eq "$cmd --help is help $cmd" "0|$help_out|" "$rc|$out|$err"
  run ss "$cmd" -h
  check_eq "$cmd -h too" "0|$help_out" "$rc|$out"
done
run ss help sync
check_contains "help sync lists sync's options" "--wait[=SECONDS]" "$out"
run ss help nope
check_eq "help for a command there is not" \
  "2|storysync: help: unknown command 'nope' (see storysync help)" "$rc|$err"
run ss -V
check_eq "-V: the global options, not sync, are named" \
  "2|storysync: unknown option '-V' (see storysync help)" "$rc|$err"
run ss status --bogus
check_eq "after a command: that command is named" \
  "2|storysync: status: unknown option '--bogus' (see storysync help status)" \
  "$rc|$err"
run ss -q -v
check_eq "-q with -v is a usage error" \
  "2|storysync: -q and -v cannot be used together" "$rc|$err"
run ss -q status -v
check_eq "also across the command's name" \
  "2|storysync: -q and -v cannot be used together" "$rc|$err"
finish
