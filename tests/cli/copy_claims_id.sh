#!/bin/bash
# Review (review6): a person copies a story file whose latest version is
# storysync's uncommitted write (an API edit) to start a new story, and
# forgets to change the id. Before 5c5fac5 the two claims were refused by
# name; now mine_leftover takes storysync's untouched file for a discard's
# leftover: it removes the story's file and S-2 becomes the copy (the API's
# version only in sync_conflicts). Expected: two claims, refused, nothing
# removed.
. "$(dirname "$0")/lib.sh"

git_home
mkdir -p "$T/t" && cd "$T/t" || exit 1
git init -q && mkdir backlog refinements completed
printf -- '---\nid: S-2\ntitle: Two\n---\nbody two\n' >refinements/S-2-two.md
ss init -q
printf '.storysync/\n' >.gitignore
git add -A && git commit -qm init && ss -q
q "UPDATE stories SET title = 'API title' WHERE id = 'S-2'"
run ss -q
check_eq "the API's edit is written, uncommitted" "0|title: API title" \
  "$rc|$(grep '^title:' refinements/S-2-two.md)"
cp refinements/S-2-two.md refinements/S-9-new.md
sed -i 's/^title: API title$/title: A new story/; s/^body two$/new body/' \
  refinements/S-9-new.md
run ss -q
check_eq "two claims of one id: refused by name" \
  "1|refinements/S-2-two.md: id 'S-2' is also claimed by refinements/S-9-new.md
refinements/S-9-new.md: id 'S-2' is also claimed by refinements/S-2-two.md" \
  "$rc|$err"
check_eq "the story's own file is not removed" "S-2-two.md S-9-new.md" \
  "$(ls refinements | tr '\n' ' ' | sed 's/ $//')"
check_eq "S-2 keeps the API's title" "API title" \
  "$(q "SELECT title FROM stories WHERE id = 'S-2'")"
finish
