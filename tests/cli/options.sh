#!/bin/bash
# Issue 25: options say what is wrong with them, and a mistyped one never
# runs. A missing value, a value given to an option that takes none, an
# optional value given as the next word, --full with --git, and a prefix
# of a long name (--ful, --dry) are usage errors (exit 2, the exact
# message) that write nothing; metrics --json gives JSON (the same facts
# as the text format, read by prometheus_client); conflicts --resolve of a
# resolved conflict is a no-op, exit 0.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
"$GEN_STORIES" . --count 8 2>/dev/null
git init -q . && git add -A &&
  git -c user.name=A -c user.email=a@example.org commit -qm stories
ss init >/dev/null && ss sync >/dev/null || not_ok "import"
story=$(find stories -name '*.md' | sort | head -n 1)
sid=$(sed -n 's/^id: //p' "$story")
# a change waiting: a refused command must not take it
sed -i 's/^title: .*/title: Edited by hand/' "$story"
db0=$(db_digest)
tree0=$(tree_digest)

# refused EXIT MESSAGE WORDS...: exit and stderr exact, nothing written
refused() {
  local want="$1|$2"
  shift 2
  run ss "$@"
  check_eq "storysync $*: $want" "$want|" "$rc|$err|$out"
  check_eq "storysync $*: nothing written" "$db0 $tree0" \
    "$(db_digest) $(tree_digest)"
}
refused 2 "storysync: sync: --backlog needs a value" sync --backlog
refused 2 "storysync: --backlog needs a value" --backlog
refused 2 "storysync: sync: --backlog needs a value" -q sync --backlog
refused 2 "storysync: sync: --wait takes its value attached: --wait=3" \
  sync --wait 3
refused 2 "storysync: --wait takes its value attached: --wait=3" --wait 3
refused 2 "storysync: sync: --full takes no value" sync --full=3
refused 2 "storysync: --dry-run takes no value" --dry-run=yes
refused 2 "storysync: status: --json takes no value" status --json=1
full_git="--full and --git cannot be used together (a git run reads what the commits changed, a full run every file)"
refused 2 "storysync: sync: $full_git" sync --full --git
refused 2 "storysync: sync: $full_git" --git --full
# prefixes: getopt_long took them for the option they begin
refused 2 "storysync: sync: unknown option '--ful' (see storysync help sync)" \
  sync --ful
refused 2 "storysync: unknown option '--ful' (see storysync help)" --ful
refused 2 "storysync: unknown option '--dry' (see storysync help)" --dry
refused 2 "storysync: unknown option '--dry' (see storysync help)" -v --dry
refused 2 "storysync: unknown option '--verb' (see storysync help)" --verb
refused 2 "storysync: sync: unknown option '--back=mobile' (see storysync help sync)" \
  sync --back=mobile
refused 2 "storysync: status: unknown option '--js' (see storysync help status)" \
  status --js
refused 2 "storysync: conflicts: unknown option '--res' (see storysync help conflicts)" \
  conflicts --res
refused 2 "storysync: history: unknown option '--back' (see storysync help history)" \
  history --back
refused 2 "storysync: install-hooks: unknown option '--un' (see storysync help install-hooks)" \
  install-hooks --un
check_eq "no hook was installed or removed" "" \
  "$(find .git/hooks -newer "$DB" -type f)"

# the same words, written right, work; the waiting edit is taken
run ss --wait=3 --full -v
check_eq "--wait=3 --full runs and takes the edit" "0|1" \
  "$rc|$(grep -c "^updated  $sid -> db $story" <<<"$out")"
check_eq "the edit reached the row" "Edited by hand" \
  "$(q "SELECT title FROM stories WHERE id = '$sid'")"
run ss sync --git
check_rc "sync --git alone runs" 0
run ss --backlog "$(q "SELECT backlog FROM stories LIMIT 1")" -q
check_eq "--backlog NAME runs" "0||" "$rc|$out|$err"

# ---- metrics --json: the text format's facts, as JSON ----
run ss metrics --json
check_rc "metrics --json" 0
printf '%s\n' "$out" >"$O/metrics.json"
ss metrics >"$O/metrics.txt"
res=$("$PY" - "$O/metrics.txt" "$O/metrics.json" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
def key(name, labels, value):
    return (name, tuple(sorted(labels.items())), float(value))
text = set()
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        text.add(key(s.name, s.labels, s.value))
doc = json.load(open(sys.argv[2]))
js = set()
for m in doc["metrics"]:
    assert set(m) == {"name", "help", "type", "samples"}, m
    for s in m["samples"]:
        js.add(key(m["name"], s["labels"], s["value"]))
print(len(text), "samples" if text == js else "differ: %s" % (text ^ js))
EOF
)
check_contains "metrics --json holds the text format's samples" " samples" \
  "$res"
check_eq "and some" 1 "$([ "${res%% *}" -gt 10 ] 2>/dev/null && echo 1)"

# ---- conflicts --resolve of a resolved conflict ----
sed -i 's/^title: .*/title: From the file/' "$story"
q "UPDATE stories SET title = 'From the API' WHERE id = '$sid'"
ss sync >/dev/null
cid=$(q "SELECT id FROM sync_conflicts WHERE resolved IS NULL")
check_eq "one open conflict" 1 "$(grep -c . <<<"$cid")"
run ss conflicts --resolve "$cid"
check_eq "conflicts --resolve $cid" "0|storysync: 1 conflict resolved|" \
  "$rc|$out|$err"
at=$(q "SELECT resolved FROM sync_conflicts WHERE id = $cid")
db1=$(db_digest)
run ss conflicts --resolve "$cid"
check_eq "again: a no-op, exit 0" \
  "0|storysync: conflict #$cid was resolved already ($at)|" "$rc|$out|$err"
run ss conflicts --resolve "#$cid" --json
check_eq "again with --json" '0|{"resolved":0}|' "$rc|$out|$err"
run ss conflicts --resolve "$cid" -q
check_eq "again with -q: silent" "0||" "$rc|$out|$err"
check_eq "nothing written by the no-ops" "$db1" "$(db_digest)"
run ss conflicts --resolve 999
check_eq "an id never recorded: exit 2" "2|storysync: no conflict 999" \
  "$rc|$err"
run ss conflicts --resolve
check_eq "then --resolve of every open one: none left" \
  "0|storysync: 0 conflicts resolved" "$rc|$out"

finish
