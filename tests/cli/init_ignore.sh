#!/bin/bash
# Issue 25: init --json's ignored_by_git says whether git ignores the
# database, also when the .gitignore an earlier init wrote is there
# already (it said false). Oracle: git check-ignore.
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 3 2>/dev/null
git init -q .
# ignored GIT: "true" when git ignores the database, else "false"
ignored() { git check-ignore -q "$DB" && echo true || echo false; }
flag() { python3 -c 'import json, sys; print(str(json.load(sys.stdin)["ignored_by_git"]).lower())'; }

run ss init --json
check_eq "first init: the database ignored" "0|true|true" \
  "$rc|$(flag <<<"$out")|$(ignored)"
run ss init --json
check_eq "init again, the .gitignore there: still true" "0|true|true" \
  "$rc|$(flag <<<"$out")|$(ignored)"
ss sync -q
run ss init
check_eq "init after a sync says so too" \
  "0|storysync: its directory has a .gitignore of \"*\": git leaves it alone" \
  "$rc|$(tail -n 1 <<<"$out")"
run ss init --json
check_eq "and --json: true" "true|true" "$(flag <<<"$out")|$(ignored)"

# a directory the database shares with the user's files: left alone
mkdir -p "$T/shared/data" && cd "$T/shared" || exit 1
git init -q .
printf 'database: data/stories.db\n' >.storysync.yml
echo notes >data/README
DB=data/stories.db
run ss init --json
check_eq "a shared directory: not ignored" "0|false|false" \
  "$rc|$(flag <<<"$out")|$(ignored)"
# the user's own .gitignore with an exception: git takes the database
printf '*\n!stories.db\n' >data/.gitignore
run ss init --json
check_eq "a .gitignore of * with an exception for it: false" "false|false" \
  "$(flag <<<"$out")|$(ignored)"
printf '*\n' >data/.gitignore
run ss init --json
check_eq "the user's .gitignore of *: true" "true|true" \
  "$(flag <<<"$out")|$(ignored)"
check_eq "and left as the user wrote it" "*" "$(cat data/.gitignore)"

finish
