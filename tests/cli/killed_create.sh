#!/bin/bash
# Issue 19: a file a killed run created for a row the API inserted
# (killed_write.sh has the family's rule): the API then deletes the row,
# renames its id or its backlog's name (seed 150), a person commits the
# file; the next run takes the file as storysync's own. The oracle reads
# the database with Python's sqlite3 (psycopg2 on a server: lib.sh's
# py_rows) and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# ---- a file a killed run created from a row the API inserted under a
# backlog's new name (web-11), the rename undone (committed) before the
# next run, which takes the row (how history: through the versions in
# between; how amended: the synced commit amended, so no history: the
# row refused by name, then mended by the API). The file it creates into
# is the killed run's: its backlog key must be the row's (model seed 150:
# it kept web-11, a name no configuration has, read later as a person's
# edit: once a person moved the file, every run exited 1, "not
# configured; skipped") ----
for how in history amended; do
  web_api_repo "created-$how" active:active completed:completed
  mkdir -p stories/web/active stories/web/completed stories/api/active
  printf -- '---\nid: W-1\ntitle: One\n---\nbody\n' >stories/web/active/W-1-one.md
  printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >stories/api/active/A-1-one.md
  synced_commit || not_ok "created-$how: the tree"
  [ $how = amended ] && git commit -q --amend --allow-empty -m "init, amended"
  sed -i 's#^  web: stories/web$#  web-11: stories/web#' .storysync.yml &&
    git commit -qam "web -> web-11"
  py_rows "INSERT INTO stories(id, backlog, status, title) VALUES ('A-5', 'web-11', 'active', 'Five')"
  killed_run after-writes
  check_eq "created-$how: killed after creating A-5's file" "137|web-11" \
    "$rc|$(key backlog stories/web/active/A-5-five.md)"
  sed -i 's#^  web-11: stories/web$#  web: stories/web#' .storysync.yml &&
    git commit -qam "web-11 -> web"
  if [ $how = amended ]; then
    run ss
    check_eq "created-$how: no history, web-11 refused by name" \
      "1|story A-5: backlog 'web-11' is not configured; refused: nothing written" \
      "$rc|$err"
    py_rows "UPDATE stories SET backlog = 'web' WHERE id = 'A-5'"
  fi
  run ss
  check_eq "created-$how: the row taken, the file's key the row's" \
    "0|web|web" "$rc|$(py_rows "SELECT backlog FROM stories WHERE id = 'A-5'")|$(key backlog stories/web/active/A-5-five.md)"
  git add -A && git commit -qm files && git mv stories/web/active/A-5-five.md stories/web/completed/
  run ss
  check_eq "created-$how: a person's move then goes through" \
    "0|web/completed" "$rc|$(py_rows "SELECT backlog || '/' || status FROM stories WHERE id = 'A-5'")"
  quiet_next "created-$how"
done

# ---- a file made for a row the API inserted, by a run killed before its
# commit; the API deletes the row (or renames its id) before the next
# run. The file is the killed run's whole render (the journal's line,
# unedited, where it wrote it): storysync's own, no one's edit, so the
# API's deletion takes it, as it would have once the run committed
# (campaign19: taken for a person's new story, it brought the row back,
# the API's deletion undone with nothing said). Any recovering run (plain,
# --git, --backlog); a person's edit or move of the file first keeps it,
# the row comes back with the person's title or place, and the row as
# deleted is kept in sync_conflicts (deleted_in_db, kept file), as the
# committed run's next run keeps it (before, nothing was recorded) ----
for how in delete rename git backlog edited moved; do
  story_tree "gone-$how" backlog/S-1-one.md S-1 One
  files() { find refinements backlog -name 'S-*.md' | LC_ALL=C sort | paste -sd ' '; }
  py_rows "INSERT INTO stories(id, title) VALUES ('S-9', 'Nine')"
  killed_run after-writes
  check_eq "gone-$how: killed after the new row's file was made" \
    "137|backlog/S-1-one.md refinements/S-9-nine.md" "$rc|$(files)"
  args=() want="backlog/S-1-one.md" rows="S-1" deleted="S-9"
  case $how in
  rename)
    py_rows "UPDATE stories SET id = 'S-10' WHERE id = 'S-9'"
    want="backlog/S-1-one.md refinements/S-10-nine.md" rows="S-1 S-10" ;;
  edited)
    sed -i 's/^title: Nine/title: Person/' refinements/S-9-nine.md
    py_rows "DELETE FROM stories WHERE id = 'S-9'"
    want="backlog/S-1-one.md refinements/S-9-nine.md" rows="S-1 S-9" ;;
  moved)
    mv refinements/S-9-nine.md backlog/
    py_rows "DELETE FROM stories WHERE id = 'S-9'"
    want="backlog/S-1-one.md backlog/S-9-nine.md" rows="S-1 S-9" ;;
  *)
    py_rows "DELETE FROM stories WHERE id = 'S-9'" ;;
  esac
  [ $how = git ] && args=(--git)
  [ $how = backlog ] && args=(--backlog default)
  before=$(files)
  run ss --dry-run "${args[@]}"
  check_eq "gone-$how: a dry run removes nothing" "0|$before" "$rc|$(files)"
  run ss "${args[@]}"
  check_eq "gone-$how: the API's deletion stands" \
    "0|$want|$rows|$deleted" \
    "$rc|$(files)|$(py_rows "SELECT id FROM stories ORDER BY id" | paste -sd ' ')|$(py_rows "SELECT story_id FROM deleted_stories" | paste -sd ' ')"
  [ $how = edited ] && check_eq "gone-$how: the person's title" \
    "Person|Person" "$(key title refinements/S-9-nine.md)|$(py_rows "SELECT title FROM stories WHERE id = 'S-9'")"
  conflict=
  case $how in edited | moved) conflict="deleted_in_db/file/Nine" ;; esac
  check_eq "gone-$how: the row as deleted, where a person's file brings it back" \
    "$conflict" \
    "$(py_rows "SELECT kind || '/' || kept || '/' || $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-9'")"
  quiet_next "gone-$how"
done

# ---- the same file made by a killed run for a row the API inserted, a
# person commits it, the API deletes the row: the run removes it as
# storysync's own (gone-delete above) and records the removal, as every
# removal of a file for the API's deletion is (sync_deleted): git
# putting its version back (a checkout --, a reset) is then no person's
# new story, and the row stays deleted, the file's story kept in
# sync_conflicts (deleted_in_db, kept db). Without the record it was
# imported as a new story, the API's deletion undone with nothing said.
# The removing run killed too (its journal's line, written before the
# unlink, is recorded by the run after). A commit of the deletion makes a
# file brought back a person's undelete again ----
for how in plain killed; do
  story_tree "gone-committed-$how" backlog/S-1-one.md S-1 One
  py_rows "INSERT INTO stories(id, title) VALUES ('S-9', 'Nine')"
  killed_run after-writes
  check_eq "gone-committed-$how: killed after the new row's file was made" \
    "137|refinements/S-9-nine.md" "$rc|$(find refinements -name 'S-9*')"
  git add refinements/S-9-nine.md && git commit -qm "a person commits it"
  py_rows "DELETE FROM stories WHERE id = 'S-9'"
  if [ $how = killed ]; then
    killed_run after-writes
    check_eq "gone-committed-$how: the removing run killed after the unlink" \
      "137|" "$rc|$(find refinements -name 'S-9*')"
  fi
  run ss
  check_eq "gone-committed-$how: the file removed, the row stays deleted" \
    "0||" \
    "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT id FROM stories WHERE id = 'S-9'")"
  for back in checkout reset; do
    case $back in
    checkout) git checkout -- refinements/S-9-nine.md ;;
    reset) git reset -q --hard ;;
    esac
    run ss
    check_eq "gone-committed-$how, git's version back ($back): removed again, the row stays deleted, the file's story kept" \
      "0||0|deleted_in_db|db|Nine" \
      "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT count(*) FROM stories WHERE id = 'S-9'")|$(py_rows "SELECT kind, kept, $(jget lost title) FROM sync_conflicts WHERE story_id = 'S-9' ORDER BY id DESC LIMIT 1")"
  done
  check_eq "gone-committed-$how: one record each time" 2 \
    "$(py_rows "SELECT count(*) FROM sync_conflicts WHERE story_id = 'S-9'")"
  git rm -q --cached refinements/S-9-nine.md
  git commit -qm "the deletion committed"
  git checkout -q HEAD~1 -- refinements/S-9-nine.md
  run ss
  check_eq "gone-committed-$how: after a commit of the deletion, brought back: a person's undelete" \
    "0|refinements/S-9-nine.md|Nine" \
    "$rc|$(find refinements -name 'S-9*')|$(py_rows "SELECT title FROM stories WHERE id = 'S-9'")"
  quiet_next "gone-committed-$how"
done

finish
