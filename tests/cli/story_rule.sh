#!/bin/bash
# Issue 25: check and sync agree on what is a story (one rule, in the
# scan: a *.md under a stage folder, not ignored, with frontmatter; an
# empty file is a story in error); check counted a folder's readme that
# sync skips. With -v both name every *.md that is not a story: a readme,
# an ignored path, and a file outside the stage folders, down to where a
# story could be; without -v, nothing. The oracle is the explicit list
# below of what is a story and what is not.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

mkdir tree && cd tree || exit 1
cat >.storysync.yml <<'YML'
database: .storysync/stories.db
backlogs:
  web: stories/web
ignore: [NOTES.md]
YML
story() { # PATH: a story file
  mkdir -p "$(dirname "$1")"
  printf -- '---\ntitle: %s\n---\nbody\n' "$(basename "$1" .md)" >"$1"
}
# stories: three, and an empty file (a story in error)
story stories/web/backlog/W-1-one.md
story stories/web/active/api/W-2-two.md
story stories/web/completed/W-3-three.md
: >stories/web/backlog/W-4-empty.md
# in the stage folders, no stories: a readme, an ignored file
printf '# The backlog\n\nRead me.\n' >stories/web/backlog/README.md
story stories/web/active/NOTES.md
# outside the stage folders: named with -v
story stories/web/W-5-loose.md
story stories/web/drafts/W-6-draft.md
story stories/web/drafts/api/W-7-deeper.md
printf 'notes\n' >stories/web/notes.md
# not named: hidden, deeper than a story could be, outside any backlog
story stories/web/.trash/W-8-hidden.md
story stories/web/drafts/a/b/W-9-deep.md
story stories/elsewhere/W-10-other.md
ss init >/dev/null

not_stories="stories/web/active/NOTES.md: not a story (it matches ignore:); skipped
stories/web/backlog/README.md: not a story (no frontmatter); skipped"
outside=""
for p in stories/web/W-5-loose.md stories/web/drafts/W-6-draft.md \
  stories/web/drafts/api/W-7-deeper.md stories/web/notes.md; do
  outside+="$p: outside the stage folders of backlog 'web' (refinements/, backlog/, active/, completed/); not a story: move it into one to sync it
"
done
named=$(printf '%s\n%s' "$not_stories" "${outside%$'\n'}" | sort)

run ss check
check_eq "check counts the four story files, the empty one's error" \
  "1|4 stories checked, 1 problem|stories/web/backlog/W-4-empty.md:1:1: empty file" \
  "$rc|$out|$err"
run ss check -v
check_eq "check -v names each .md that is not a story" "$named" \
  "$(sed -n 's/^storysync: //p' <<<"$err" | sort)"

run ss sync -v
check_eq "sync imports the three stories; the empty one is in error" \
  "1|W-1
W-2
W-3" "$rc|$(q "SELECT id FROM stories ORDER BY id")"
check_contains "sync -v scans as many story files as check counts" \
  "storysync: scanned 4 story files:" "$err"
check_eq "sync -v names the same files" "$named" \
  "$(sed -n 's/^storysync: \(.*not a story.*\)$/\1/p' <<<"$err" | sort)"
run ss sync
check_eq "without -v: only the error, nothing named" \
  "1|stories/web/backlog/W-4-empty.md:1:1: empty file" "$rc|$out$err"
run ss sync --full -v
check_eq "--full -v: the same" "$named" \
  "$(sed -n 's/^storysync: \(.*not a story.*\)$/\1/p' <<<"$err" | sort)"
check_contains "and the same count" "storysync: scanned 4 story files:" "$err"

# a stage that is the backlog folder itself: nothing is outside
sed -i 's/^ignore:.*/stages: {backlog: ., active: active}/' .storysync.yml
run ss check -v
check_eq "with a stage '.', no file is outside the stage folders" "" \
  "$(grep -c 'outside the stage folders' <<<"$err" | grep -v '^0$')"

finish
