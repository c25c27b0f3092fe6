#!/bin/bash
# sync --git reads only the state the diff names, and still sees all it
# must: the DB's own changes, ids claimed twice, moves.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=t@example.org \
  GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=t@example.org

"$GEN_STORIES" . --count 60 --git 2>/dev/null
echo .storysync/ > .gitignore && git add .gitignore && git commit -qm ignore
ss init >/dev/null
run ss sync
check_rc "import" 0

# a commit of one story, while the API edits another
f=$(find stories -path '*/backlog/*' -name '*.md' | sort | head -n 1)
id=$(q "SELECT id FROM stories WHERE path='$f'")
other=$(q "SELECT id FROM stories WHERE id <> '$id' ORDER BY id LIMIT 1")
otherpath=$(q "SELECT path FROM stories WHERE id='$other'")
sed -i 's/^title: .*/title: Committed edit/' "$f" && git commit -qam edit
q "UPDATE stories SET priority='critical' WHERE id='$other'"
run ss sync --git -v
check_rc "--git" 0
check_contains "the diff was used, not a scan" "scanned 1 story file:" "$err"
check_eq "the committed edit reached the DB" "Committed edit" \
  "$(q "SELECT title FROM stories WHERE id='$id'")"
check_eq "the API's edit reached its file, in place" "priority: critical" \
  "$(grep '^priority:' "$otherpath")"
check_eq "no second file for it" 1 "$(grep -rl "^id: $other\$" stories | wc -l)"

# git mv to another stage
dest=${f/\/backlog\//\/active\/}
mkdir -p "$(dirname "$dest")" && git mv "$f" "$dest" && git commit -qm move
run ss sync --git
check_eq "a move, not a delete and a create" "0|active|$dest" \
  "$rc|$(q "SELECT status, path FROM stories WHERE id='$id'")"
check_eq "with the commit in the history" "$(git rev-parse HEAD)|git" \
  "$(q "SELECT commit_id, origin FROM status_history WHERE story_id='$id' AND to_status='active'")"
check_eq "no deletion recorded" 0 \
  "$(q "SELECT count(*) FROM sync_events WHERE story_id='$id' AND change='deleted'")"

# a committed file that claims an id an unchanged file holds
d=$(dirname "$dest")
printf -- '---\nid: %s\ntitle: Impostor\n---\n' "$other" > "$d/ZZZ-9-impostor.md"
git add "$d/ZZZ-9-impostor.md" && git commit -qm impostor
row=$(q "SELECT * FROM stories WHERE id='$other'")
run ss sync --git
check_rc "an id claimed twice: exit 1" 1
check_contains "both files are reported" \
  "$d/ZZZ-9-impostor.md: id '$other' is also claimed by $otherpath" "$err"
check_eq "the row is untouched" "$row" "$(q "SELECT * FROM stories WHERE id='$other'")"
git rm -q "$d/ZZZ-9-impostor.md" && git commit -qm gone
run ss sync --git
check_eq "and once it is gone, all is well" "0|" "$rc|$err"
before=$(db_digest)
run ss sync
check_eq "a scan afterwards finds nothing to do" "0|$before" "$rc|$(db_digest)"
finish
