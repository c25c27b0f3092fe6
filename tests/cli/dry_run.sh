#!/bin/bash
# Issue 25: --dry-run under -q prints nothing, and --exit-code makes its
# exit say whether changes are pending (1) or not (0), as git diff
# --exit-code does; neither writes anything. Then a real run takes the
# changes, and the same check says 0. A twin (PG_TWIN, lib.sh): on a
# server the pending tree is a copy with a database of its own
# (copy_tree).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

make_pending
cd "$T/pending" || exit 1
db0=$(db_digest)
tree0=$(tree_digest)
unchanged() { # DESC: nothing written since the start
  check_eq "$1: nothing written" "$db0 $tree0" "$(db_digest) $(tree_digest)"
}

run ss --dry-run
check_eq "--dry-run: exit 0" 0 "$rc"
would=$(grep -c '^would: ' <<<"$out")
check_eq "--dry-run tells each change on a would: line" 1 \
  "$([ "$would" -ge 6 ] && echo 1)"
check_contains "and the summary" "storysync: would sync: " "$out"
unchanged "--dry-run"
run ss --dry-run -q
check_eq "--dry-run -q: silent, exit 0" "0||" "$rc|$out|$err"
run ss -q --dry-run --exit-code
check_eq "-q --dry-run --exit-code: changes pending, exit 1, silent" "1||" \
  "$rc|$out|$err"
run ss --dry-run --exit-code
check_eq "--dry-run --exit-code: exit 1, the same lines" "1|$would" \
  "$rc|$(grep -c '^would: ' <<<"$out")"
run ss --json --dry-run --exit-code
check_contains "--json says exit 1" '{"exit":1,"dry_run":true,' "$out"
check_eq "--json: exit 1" 1 "$rc"
run ss --exit-code
check_eq "--exit-code without --dry-run: exit 2" \
  "2|storysync: sync: --exit-code goes with --dry-run (it tells whether changes are pending)" \
  "$rc|$err"
run ss --exit-code=1 --dry-run
check_eq "--exit-code takes no value" \
  "2|storysync: --exit-code takes no value" "$rc|$err"
unchanged "the dry runs"

# the real run takes them: they were pending (the oracle: what it wrote)
run ss sync
check_rc "then a sync" 0
check_eq "it wrote what was pending" 1 \
  "$([ "$(db_digest) $(tree_digest)" != "$db0 $tree0" ] && echo 1)"
db1=$(db_digest)
tree1=$(tree_digest)
run ss --dry-run -q --exit-code
check_eq "then nothing pending: exit 0, silent" "0||" "$rc|$out|$err"
run ss --dry-run --exit-code
check_eq "without -q: exit 0, nothing to tell" "0||" "$rc|$out|$err"
check_eq "the dry runs wrote nothing" "$db1 $tree1" \
  "$(db_digest) $(tree_digest)"

# one edit on each side, then: pending again
f=$(find stories -name '*.md' | sort | head -n 1)
sed -i 's/^title: .*/title: Edited once more/' "$f"
run ss --dry-run -q --exit-code
check_eq "an edit by hand: exit 1" "1||" "$rc|$out|$err"
ss sync -q
q "UPDATE stories SET priority = 'low' WHERE path = '$f'"
run ss --dry-run --exit-code -v
check_eq "an edit by the API: exit 1, told" "1|1" \
  "$rc|$(grep -c "^would: updated .* -> file $f" <<<"$out")"
run ss -q
check_eq "a sync takes it, quietly" "0||" "$rc|$out|$err"
check_eq "the file has the API's priority" low "$(python3 -c '
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]).read().split("---")[1])["priority"])
' "$f")"

finish
