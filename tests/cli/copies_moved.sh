#!/bin/bash
# Both copies of a story committed, then moved with their directory (model
# wide seed 153). A run moved S-1 for the API (uncommitted), a stash put
# git's version back beside it, and the person's `git add -A` committed
# both. The configuration then moved the backlog's directory: a run
# followed it (its git mv staged) and removed git's copy, and a reset
# --hard put both copies back in the old directory, which a person moves
# where the configuration has it. Git held storysync's file before the
# last run, so its new place is a person's move of a file git holds (git
# mv staged or committed, or mv: the bytes decide), not an add -A since:
# as any file git holds, a second file of its id is named, both kept,
# the row as it was, and the person's removal of one ends it. Before, the
# run took storysync's file for an uncommitted leftover, could not remove
# it (its stat data were the state's) and named neither: "exists; ... not
# moved", exit 1 (in the model's seed on every run; here the next run
# removed that file git holds). A copy whose add -A came after the last
# run is still the person's move beside storysync's leftover (seed 150's
# rule). And storysync's leftover beside git's version a person moved by
# hand is removed with its stat data read again (touched since). A twin
# (PG_TWIN, lib.sh).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# tree DIR: backlog api in stories/old; S-1 (status completed) moved to
# backlog by a run for the API, uncommitted; a stash puts git's version
# back; S-2 stays in backlog (the backlog is never empty). Sets ours and
# gitver, storysync's file's blob and git's version's
tree() {
  mkdir -p "$T/$1" && cd "$T/$1" && git init -q || exit 1
  printf 'database: .storysync/stories.db\nbacklogs:\n  api: stories/old\nstages:\n  backlog: backlog\n  completed: completed\n' >.storysync.yml
  mkdir -p stories/old/backlog stories/old/completed
  printf -- '---\nid: S-1\ntitle: One\nstatus: completed\n---\nbody\n' >stories/old/completed/S-1-one.md
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >stories/old/backlog/S-2-two.md
  synced_commit
  q "UPDATE stories SET status = 'backlog' WHERE id = 'S-1'"
  ss -q
  gitver=$(git rev-parse HEAD:stories/old/completed/S-1-one.md)
  ours=$(git hash-object stories/old/backlog/S-1-one.md)
  git stash -q && git stash drop -q
}

# moved_config: the configuration moves the backlog to stories/api
# (committed), its directory git mv'd (staged), and a run follows it
moved_config() {
  sed -i 's|stories/old|stories/api|' .storysync.yml
  git commit -qm "backlog api in stories/api" .storysync.yml
  git mv stories/old stories/api
  run ss -q
}

# files: the story files, sorted, on one line
files() { find stories -name '*.md' | sort | paste -sd ' '; }

# ---- seed 153's shape: add -A, the configuration's run, a reset, then
# the directory moved back by git mv staged, git mv committed, or mv ----
for how in staged commit plain; do
  tree "$how"
  git add -A && git commit -qm "both copies"
  moved_config
  check_eq "$how: the configuration's run removes git's copy" \
    "0||stories/api/backlog/S-1-one.md stories/api/backlog/S-2-two.md" \
    "$rc|$err|$(files)"
  git reset -q --hard
  check_eq "$how: the reset puts both copies back in the old directory" \
    "stories/old/backlog/S-1-one.md stories/old/backlog/S-2-two.md stories/old/completed/S-1-one.md" \
    "$(files)"
  case $how in
  staged) git mv stories/old stories/api ;;
  commit) git mv stories/old stories/api && git commit -qm "the person moves it back" ;;
  plain) mv stories/old stories/api ;;
  esac
  run ss -q
  check_eq "$how: both files of S-1 named, nothing else" \
    "1|stories/api/backlog/S-1-one.md: id 'S-1' is also claimed by stories/api/completed/S-1-one.md
stories/api/completed/S-1-one.md: id 'S-1' is also claimed by stories/api/backlog/S-1-one.md" \
    "$rc|$err"
  check_eq "$how: both files kept as they were" \
    "stories/api/backlog/S-1-one.md stories/api/backlog/S-2-two.md stories/api/completed/S-1-one.md|$ours|$gitver" \
    "$(files)|$(git hash-object stories/api/backlog/S-1-one.md)|$(git hash-object stories/api/completed/S-1-one.md)"
  check_eq "$how: the row as it was, the API's status in it" \
    "backlog|stories/api/backlog/S-1-one.md|0" \
    "$(q "SELECT status || '|' || path FROM stories WHERE id = 'S-1'")|$(q "SELECT count(*) FROM sync_conflicts")"
  # (without -q: under -q an error is told once a day); a run that names
  # two claims keeps the last synced commit (claims_commit.sh), so the
  # committed rename stays named like the others until the person
  # removes one
  before=$(db_digest)
  run ss
  check_eq "$how: the next run names them again, the rows as they were" \
    "1|2|$before" "$rc|$(printf '%s\n' "$err" | grep -c "id 'S-1' is also claimed")|$(db_digest)"
  # the person removes git's copy, as the message has them choose
  if [ $how = plain ]; then rm -f stories/api/completed/S-1-one.md; else git rm -qf stories/api/completed/S-1-one.md; fi
  run ss -q
  check_eq "$how: one file of S-1, the row's" "0||backlog|stories/api/backlog/S-1-one.md|status: backlog" \
    "$rc|$err|$(q "SELECT status || '|' || path FROM stories WHERE id = 'S-1'")|$(grep '^status:' stories/api/backlog/S-1-one.md)"
  before=$(db_digest)
  run ss -v
  check_eq "$how: the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
done

# ---- the add -A after the last run: the configuration's run removed
# git's copy while storysync's file was not in git, the reset put git's
# version back in the old directory, the person's add -A then committed
# it with storysync's file, and their git mv takes git's version where
# the configuration has it. Git holds storysync's file only because
# that add -A took it: it is the leftover (seed 150's rule, unchanged),
# and the run goes through ----
tree added
moved_config
check_eq "added: the configuration's run removes git's copy" \
  "0||stories/api/backlog/S-1-one.md stories/api/backlog/S-2-two.md" \
  "$rc|$err|$(files)"
git reset -q --hard
check_eq "added: the reset puts git's version back, storysync's file stays" \
  "stories/api/backlog/S-1-one.md stories/old/backlog/S-2-two.md stories/old/completed/S-1-one.md" \
  "$(files)"
git add -A && git commit -qm "both copies"
git mv stories/old/completed stories/api/completed
git mv stories/old/backlog/S-2-two.md stories/api/backlog/S-2-two.md
check_eq "added: the person's file is git's version" "$gitver" \
  "$(git hash-object stories/api/completed/S-1-one.md)"
run ss -q
check_eq "added: the run goes through" "0|" "$rc|$err"
# the person's git mv took git's version where the configuration has
# the backlog, in the same stage: no change of its status, which git's
# version holds, so the API's stands, written into it as before (no
# conflict), and storysync's leftover is gone: one file, nothing lost
check_eq "added: one file of S-1, the API's status in it and in the row" \
  "stories/api/backlog/S-1-one.md stories/api/backlog/S-2-two.md|$ours|backlog|stories/api/backlog/S-1-one.md|0" \
  "$(files)|$(git hash-object stories/api/backlog/S-1-one.md)|$(q "SELECT status || '|' || path FROM stories WHERE id = 'S-1'")|$(q "SELECT count(*) FROM sync_conflicts")"
before=$(db_digest)
run ss -v
check_eq "added: the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"

# ---- storysync's leftover with its stat data changed since its run (a
# touch), beside git's version a person moved by hand (seed 1506's
# shape, discard_moved.sh): its removal compared the state's stat data,
# so it stayed, unsaid, while the row followed the person's move; the
# next run took it for the story's file and moved the row back to the
# API's status, the person's move lost with nothing in sync_conflicts.
# It is read again: removed, as untouched ----
stages_repo touched backlog:backlog refinement:refinements active:active
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >refinements/S-1-one.md
synced_commit
q "UPDATE stories SET status = 'active' WHERE id = 'S-1'"
ss -q
git stash -q && git stash drop -q
mv refinements/S-1-one.md backlog/
touch -d '2020-01-01 00:00' active/S-1-one.md
run ss -q
check_eq "touched: the run goes through, storysync's file removed" \
  "0||backlog/S-1-one.md" "$rc|$err|$(ls */*.md | paste -sd ' ')"
check_eq "touched: the row is where the person moved it, the API's move kept" \
  "backlog|backlog/S-1-one.md|both_changed|file|status|active" \
  "$(q "SELECT status || '|' || path FROM stories WHERE id = 'S-1'")|$(q "SELECT kind || '|' || kept || '|' || fields FROM sync_conflicts WHERE story_id = 'S-1'")|$(q "SELECT lost FROM sync_conflicts WHERE story_id = 'S-1'" |
    python3 -c 'import json, sys; print(json.loads(sys.stdin.read() or "{}").get("status"))')"
before=$(db_digest)
run ss -v
check_eq "touched: the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
finish
