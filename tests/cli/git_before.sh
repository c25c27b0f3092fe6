#!/bin/bash
# What git puts back over storysync's uncommitted write is HEAD's version
# where HEAD has the story (model seed 4): a run that took a person's
# staged git mv, and rewrote the file's status: key to its new stage,
# recorded as that version the one from before an earlier write of
# storysync's that a commit had taken since (HEAD holds nothing at the
# file's new path). After a reset --hard put HEAD's version back and the
# person moved that file by hand (committing one move), its stale
# status: key was taken for a person's edit and the run moved the story
# back, on every run after. Now the version is HEAD's at the path the
# story had there: the reset reads as the discard it is, the story stays
# in the stage its file is in, and nothing is lost. A twin (PG_TWIN).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
stages_repo t backlog:backlog refinement:refinements active:active
printf -- '---\nid: S-1\ntitle: One\nstatus: active\n---\nbody\n' >active/S-1-one.md
synced_commit
# the API's edit, written by a run and committed with the rest
q "UPDATE stories SET title = 'API title' WHERE id = 'S-1'"
ss -q
git add -A && git commit -qm "the API's title"
# the person's staged move, which a run takes (the status: key rewritten,
# uncommitted)
git mv active/S-1-one.md refinements/
ss -q
check_eq "the run took the move" "refinement|status: refinement" \
  "$(q "SELECT status FROM stories WHERE id = 'S-1'")|$(grep '^status:' refinements/S-1-one.md)"
# reset --hard: HEAD's version back at active/, status: active
git reset -q --hard
check_eq "HEAD's version is back" "active/S-1-one.md|status: active" \
  "$(ls active/*)|$(grep '^status:' active/S-1-one.md)"
# two moves by hand, the first committed
mv active/S-1-one.md backlog/
git add -A && git commit -qm "moved by hand"
mkdir -p refinements && mv backlog/S-1-one.md refinements/
run ss -q
check_eq "the run goes through" "0|" "$rc|$err"
check_eq "the story stays in the stage its file is in" \
  "refinement|refinements/S-1-one.md|API title" \
  "$(q "SELECT status || '|' || path || '|' || title FROM stories WHERE id = 'S-1'")"
check_eq "the file is where the person put it, with its key rewritten" \
  "refinements/S-1-one.md|status: refinement|title: API title" \
  "$(ls */*.md)|$(grep '^status:' refinements/S-1-one.md)|$(grep '^title:' refinements/S-1-one.md)"
before=$(db_digest)
run ss -v
check_eq "the next run is quiet" "0||$before" "$rc|$out|$(db_digest)"
finish
