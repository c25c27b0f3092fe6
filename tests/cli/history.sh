#!/bin/bash
# Issue 25: history ID shows a story's status history (when, from, to,
# origin, commit, author), newest first as git log shows a file's; --json
# too; an unknown id is an exact error, exit 2, and nothing is written;
# history --backfill still records from the git log. Oracle: the
# status_history rows, read with sqlite3 (psql on a server: a twin) and
# ordered by Python.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_COMMITTER_NAME=C \
  GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.org \
  GIT_COMMITTER_EMAIL=c@example.org
mkdir -p "$HOME"

"$GEN_STORIES" tree --count 12 --backlogs platform 2>/dev/null
cd tree || exit 1
echo .storysync/ >.gitignore
git init -q -b main && git add -A && git commit -qm stories
ss init >/dev/null && ss sync -q || not_ok "import"
f=$(find stories/platform/backlog -name '*.md' | sort | head -n 1)
id=$(basename "$f" | sed -E 's/^([A-Z]+-[0-9]+)-.*/\1/')
rest=${f#stories/platform/backlog/}
# a move by git, before the backfill sees it: an old commit time
mkdir -p "$(dirname "stories/platform/active/$rest")"
git mv "$f" "stories/platform/active/$rest"
GIT_AUTHOR_NAME="Ana Author" GIT_AUTHOR_EMAIL=ana@example.org \
  GIT_AUTHOR_DATE=2026-01-02T10:00:00Z git commit -qm "start it"
commit=$(git rev-parse HEAD)
ss sync -q # origin file, now
q "UPDATE stories SET status = 'completed' WHERE id = '$id'"
ss sync -q # origin db, now
run ss history --backfill
check_eq "backfill still records (the git row comes last, by id)" \
  "0|storysync: 1 status changes recorded" "$rc|$out$err"
check_eq "the oracle: four rows, the git one added last" "4|git" \
  "$(q "SELECT count(*) FROM status_history WHERE story_id = '$id'")|$(
    q "SELECT origin FROM status_history WHERE story_id = '$id'
       ORDER BY id DESC LIMIT 1")"

# rows ID: the story's rows as JSON lines, newest first (by time, then id)
rows() {
  local sql="SELECT id, changed_at, from_status, to_status, origin,
    commit_id, author FROM status_history WHERE story_id = '$1'"
  if [ "$(dialect lite server)" = lite ]; then sqlite3 -batch -json "$DB" "$sql"
  else q "SELECT coalesce(json_agg(h), '[]') FROM ($sql) h"; fi | python3 -c '
import json, sys
text = sys.stdin.read().strip()
rows = json.loads(text) if text else []
rows.sort(key=lambda r: (r["changed_at"], r["id"]), reverse=True)
mode = sys.argv[1]
for r in rows:
    if mode == "json":
        print(json.dumps({"at": r["changed_at"], "from": r["from_status"],
                          "to": r["to_status"], "origin": r["origin"],
                          "commit": r["commit_id"], "author": r["author"]}))
        continue
    tail = r["origin"]
    if r["commit_id"]:
        tail += " " + (r["commit_id"] if mode == "full" else r["commit_id"][:12])
    if r["author"]:
        tail += ", " + r["author"]
    print("%s %s -> %s (%s)" % (r["changed_at"], r["from_status"] or "(new)",
                                r["to_status"], tail))
' "$2"
}
run ss history "$id"
check_eq "history ID: every row, newest first, one a line" \
  "0|$(rows "$id" text)|" "$rc|$out|$err"
check_contains "the git row names its commit and author" \
  "backlog -> active (git ${commit:0:12}, Ana Author <ana@example.org>)" "$out"
check_eq "newest first by time: the db change, the move, the import; the git row (dated January, recorded last) at the end" \
  "db file file git" "$(awk -F'[(]' '{ split($NF, a, "[ ,)]"); printf "%s ", a[1] }' <<<"$out" | sed 's/ $//')"
run ss history -v "$id"
check_eq "-v: the commit in full" "0|$(rows "$id" full)" "$rc|$out"
run ss history "$id" --json
check_eq "--json: the same rows" "0|$(rows "$id" json)" "$rc|$(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["story"] == sys.argv[2], d
for h in d["history"]:
    print(json.dumps(h))' "$out" "$id")"
run ss history -q "$id"
check_eq "-q: nothing" "0||" "$rc|$out|$err"

# a deleted story keeps its history; a story with none prints nothing
other=$(q "SELECT id FROM stories WHERE id <> '$id' ORDER BY id LIMIT 1")
rm "$(q "SELECT path FROM stories WHERE id = '$other'")"
ss sync -q
run ss history "$other"
check_eq "a deleted story: its history still" "0|$(rows "$other" text)" \
  "$rc|$out"
q "INSERT INTO stories(id, title) VALUES ('NEW-1', 'No sync yet')"
run ss history NEW-1
check_eq "a row with no history yet: nothing, exit 0" "0||" "$rc|$out|$err"
run ss history NEW-1 --json
check_eq "and as JSON" '0|{"story":"NEW-1","history":[]}' "$rc|$out"

# ---- the errors ----
before=$(db_digest)
run ss history NOPE-9
check_eq "an unknown id: exit 2, said" \
  "2||storysync: history: no story 'NOPE-9' (no row, no deleted row, no status history)" \
  "$rc|$out|$err"
run ss history --json NOPE-9
check_eq "the same with --json (on stderr, nothing on stdout)" \
  "2|" "$rc|$out"
run ss history
check_eq "no id, no --backfill: exit 2, says what to give" \
  "2|storysync: history: which story? (history ID shows one, history --backfill records them from the git log)" \
  "$rc|$err"
run ss history --backfill "$id"
check_eq "--backfill with an id: exit 2" \
  "2|storysync: history: --backfill records every story's history: no story id with it" \
  "$rc|$err"
run ss history "$id" "$other"
check_eq "two ids: exit 2" "2|storysync: history: unexpected '$other'" \
  "$rc|$err"
check_eq "none of them wrote anything" "$before" "$(db_digest)"
mkdir "$T/nodb" && cp .storysync.yml "$T/nodb/"
run ss -C "$T/nodb" history "$id"
check_eq "no database yet: an unknown story, and none created" \
  "2|no" "$rc|$([ -e "$T/nodb/.storysync" ] && echo yes || echo no)"

finish
