#!/bin/bash
# Location is the truth for backlog, status and epic; the frontmatter keys
# mirror it. Whichever changed since the last sync wins; both: the location.
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 20 2>/dev/null
d=stories/platform/backlog/api
mkdir -p $d
printf -- '---\nid: ADP-1\ntitle: Adopted\nstatus: active  # stale\n---\nbody\n' > $d/ADP-1-adopted.md
sum=$(md5sum < $d/ADP-1-adopted.md)
ss init >/dev/null
run ss sync
check_rc "import" 0
check_eq "first sight: the location wins in the DB" backlog \
  "$(q "SELECT status FROM stories WHERE id='ADP-1'")"
check_eq "first sight: the file is left as it is" "$sum" "$(md5sum < $d/ADP-1-adopted.md)"

sed -i 's/^title: .*/title: Adopted and edited/' $d/ADP-1-adopted.md
run ss sync
check_rc "edit of an adopted file" 0
check_eq "the stale key is no request to move" "backlog|$d/ADP-1-adopted.md" \
  "$(q "SELECT status, path FROM stories WHERE id='ADP-1'")"
check_eq "an edit of another field leaves the stale key as it is" \
  "status: active  # stale" "$(grep '^status:' $d/ADP-1-adopted.md)"
cp $d/ADP-1-adopted.md "$O/before.md"
q "UPDATE stories SET priority = 'high' WHERE id = 'ADP-1'"
run ss sync
check_rc "the API edits another field of the adopted story" 0
check_eq "one field changed, one line changed: the stale key stays" \
  "> priority: high" "$(diff "$O/before.md" $d/ADP-1-adopted.md | grep '^[<>]')"
q "UPDATE stories SET status = 'refinement' WHERE id = 'ADP-1'"
run ss sync
check_rc "the API changes the status itself" 0
moved=stories/platform/refinements/api/ADP-1-adopted.md
check_eq "now the key follows, its comment kept" \
  "status: refinement  # stale" "$(grep '^status:' $moved)"
check_eq "and a fresh import gives the same rows" \
  "$(q "SELECT id, status, priority, path FROM stories ORDER BY id" | md5sum)" \
  "$(mkdir "$O/fresh" && cp -r stories .storysync.yml "$O/fresh" &&
    cd "$O/fresh" && ss init >/dev/null && ss sync >/dev/null &&
    q "SELECT id, status, priority, path FROM stories ORDER BY id" | md5sum)"

# an edited key moves the file
f=$(grep -l '^status: backlog' -r stories/mobile/backlog | sort | head -n 1)
id=$(q "SELECT id FROM stories WHERE path='$f'")
sed -i 's/^status: backlog/status: completed/' "$f"
run ss sync
check_rc "key edited" 0
moved=${f/\/backlog\//\/completed\/}
check_eq "the file moved to the key's stage" "yes|no" \
  "$([ -f "$moved" ] && echo yes || echo no)|$([ -f "$f" ] && echo yes || echo no)"
check_eq "the row follows" "completed|$moved" "$(q "SELECT status, path FROM stories WHERE id='$id'")"
check_eq "with history" "backlog|completed|file" \
  "$(q "SELECT from_status, to_status, origin FROM status_history WHERE story_id='$id' AND from_status IS NOT NULL")"
run ss sync
check_eq "and the next run is silent" "0|" "$rc|$out$err"

# a moved file wins, and its key is rewritten
g=$(grep -l '^status: completed$' -r stories/platform/completed | sort | head -n 1)
gid=$(q "SELECT id FROM stories WHERE path='$g'")
dest=${g/\/completed\//\/active\/}
mkdir -p "$(dirname "$dest")" && mv "$g" "$dest"
run ss sync
check_rc "file moved" 0
check_eq "the row takes the location" "active|$dest" "$(q "SELECT status, path FROM stories WHERE id='$gid'")"
check_eq "the key is rewritten" "status: active" "$(grep '^status:' "$dest")"

# both changed: the location wins
dest2=${dest/\/active\//\/refinements\/}
mkdir -p "$(dirname "$dest2")" && mv "$dest" "$dest2"
sed -i 's/^status: active/status: completed/' "$dest2"
run ss sync
check_rc "moved and key edited" 0
check_eq "the location wins" "refinement|$dest2" "$(q "SELECT status, path FROM stories WHERE id='$gid'")"
check_eq "and the key is rewritten" "status: refinement" "$(grep '^status:' "$dest2")"
run ss sync
check_eq "and the next run is silent" "0|" "$rc|$out$err"
finish
