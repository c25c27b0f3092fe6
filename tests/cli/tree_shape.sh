#!/bin/bash
# Issue 20: losses from the tree's shape. A story moved across backlogs
# takes its policy from the backlog it belonged to; an epic folder that
# becomes a symlink is reported and its rows kept, as at every level; a
# stage folder gone is guarded like a missing backlog, but a story moved
# out of an emptied folder is no deletion (issue 19); a file moved while a
# --full walk runs is not deleted for having been in neither backlog's
# walk.
. "$(dirname "$0")/lib.sh"

# story DIR ID TITLE: a story file written by hand
story() {
  mkdir -p "$1"
  printf -- '---\nid: %s\ntitle: %s\npriority: medium\n---\nBody of %s.\n' \
    "$2" "$3" "$2" >"$1/$2-story.md"
}
fm() { # PATH KEY: the frontmatter value, read by PyYAML (the oracle)
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys, yaml
text = open(sys.argv[1], encoding="utf-8").read()
print(yaml.safe_load(text.split("---\n")[1]).get(sys.argv[2]))
EOF
}
fresh() { # a tree of two backlogs, synced; extra config lines on stdin
  rm -rf "$T/t" && mkdir "$T/t" && cd "$T/t" || exit 1
  {
    printf 'database: .storysync/stories.db\nbacklogs:\n'
    printf '  platform: stories/platform\n  mobile: stories/mobile\n'
    cat
  } >.storysync.yml
  story stories/platform/backlog P-1 "Plat one"
  story stories/platform/backlog P-2 "Plat two"
  story stories/platform/active/api P-3 "Plat three"
  story stories/platform/active/api P-4 "Plat four"
  story stories/mobile/backlog M-1 "Mob one"
  story stories/mobile/active M-2 "Mob two"
  ss init >/dev/null && ss sync >/dev/null || not_ok "the import"
}
rows() { q "SELECT id, backlog, status, epic, title, path FROM stories ORDER BY id"; }

# ---- backlog_policy is the story's backlog's, not the folder's now ----
fresh <<'EOF'
backlog_policy:
  mobile: {title: db}
EOF
mkdir -p stories/platform/active
mv stories/mobile/backlog/M-1-story.md stories/platform/active/
sed -i 's/^title: .*/title: Title from the file/' stories/platform/active/M-1-story.md
mv stories/platform/backlog/P-1-story.md stories/mobile/active/
sed -i 's/^title: .*/title: Title from the file/' stories/mobile/active/P-1-story.md
q "UPDATE stories SET title = 'Title from the API' WHERE id IN ('M-1', 'P-1')"
run ss sync
check_rc "policy: both sides edit stories a person moved across backlogs" 0
check_eq "policy: M-1 came from mobile (title: db): the API's title, in the row and the file" \
  "platform|Title from the API|Title from the API" \
  "$(q "SELECT backlog, title FROM stories WHERE id = 'M-1'" | tr '\n' '|')$(fm stories/platform/active/M-1-story.md title)"
check_eq "policy: P-1 came from platform (no policy): the file's title" \
  "mobile|Title from the file|Title from the file" \
  "$(q "SELECT backlog, title FROM stories WHERE id = 'P-1'" | tr '\n' '|')$(fm stories/mobile/active/P-1-story.md title)"
check_eq "policy: each recorded with the losing title" \
  "M-1|db|title=db|Title from the file
P-1|file|title=file|Title from the API" \
  "$(q "SELECT story_id, kept, policy, json_extract(lost, '$.title') FROM sync_conflicts ORDER BY story_id")"

# ---- an epic folder that becomes a symlink: reported, its rows kept ----
for mode in scan full git; do
  fresh </dev/null
  if [ $mode = git ]; then
    git init -q . && git add -A && git -c user.name=T -c user.email=t@e commit -qm init
    ss sync --git >/dev/null
  fi
  before=$(rows)
  mv stories/platform/active/api "$O/api-$mode"
  ln -s "$O/api-$mode" stories/platform/active/api
  [ $mode = git ] && git add -A && git -c user.name=T -c user.email=t@e commit -qm link
  q "UPDATE stories SET priority = 'high' WHERE id = 'P-3'"
  msg="stories/platform/active/api: a symbolic link (or a path through one); not followed, its stories left as they are"
  flag=; [ $mode = full ] && flag=--full; [ $mode = git ] && flag=--git
  run ss sync $flag
  check_eq "symlinked epic, $mode: reported, exit 1" "1|$msg" "$rc|$err"
  check_eq "symlinked epic, $mode: its stories are kept, the API's edit too" \
    "$before|high|0" \
    "$(rows | sed 's/|high|/|/')|$(q "SELECT priority FROM stories WHERE id = 'P-3'")|$(q "SELECT count(*) FROM deleted_stories")"
  check_eq "symlinked epic, $mode: nothing written through the link" "medium" \
    "$(fm "$O/api-$mode/P-3-story.md" priority)"
  run ss sync $flag
  check_eq "symlinked epic, $mode: and on every run" "1|$msg" "$rc|$err"
  rm stories/platform/active/api && mv "$O/api-$mode" stories/platform/active/api
  [ $mode = git ] && git add -A && git -c user.name=T -c user.email=t@e commit -qm back
  run ss sync $flag
  check_eq "symlinked epic, $mode: the folder back, the API's edit reaches the file" \
    "0||high" "$rc|$err|$(fm stories/platform/active/api/P-3-story.md priority)"
done
# a link to a plain file, or one deeper than an epic, is nobody's story
fresh </dev/null
ln -s ../../../.storysync.yml stories/platform/active/config-link
mkdir -p stories/platform/active/api/assets
ln -s "$O" stories/platform/active/api/assets/shared
run ss sync --full
check_eq "a link to a file, or below an epic, holding no story: not reported" "0|" "$rc|$err"

# ---- a file moved across backlogs while a --full walk runs ----
fresh </dev/null
q "UPDATE stories SET priority = 'high' WHERE id = 'M-1'"
mv stories/mobile/backlog/M-1-story.md "$O/"
STORYSYNC_TEST_STOP=walked "$STORYSYNC" sync --full >"$O/out" 2>"$O/err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -rf "$T" "$O"' EXIT
if stopped_at $pid; then
  ok "race: the run stops after its walk, which saw M-1 in neither backlog"
else
  not_ok "race: the run stops after its walk, which saw M-1 in neither backlog"
fi
mkdir -p stories/platform/active
mv "$O/M-1-story.md" stories/platform/active/
kill -CONT $pid
wait $pid
rc=$?
trap 'rm -rf "$T" "$O"' EXIT
check_eq "race: the run ends well, M-1 neither deleted nor archived" "0|1|0|created" \
  "$rc|$(q "SELECT count(*) FROM stories WHERE id = 'M-1'")|$(q "SELECT count(*) FROM deleted_stories")|$(q "SELECT group_concat(change) FROM sync_events WHERE story_id = 'M-1'")"
run ss sync
check_rc "race: the next run" 0
check_eq "race: M-1 moved, the API's edit in the row and the file, no conflict" \
  "platform|active|high|high|0" \
  "$(q "SELECT backlog, status, priority FROM stories WHERE id = 'M-1'" | tr '\n' '|')$(fm stories/platform/active/M-1-story.md priority)|$(q 'SELECT count(*) FROM sync_conflicts')"
check_eq "race: one story M-1, moved, never deleted" "created,moved" \
  "$(q "SELECT group_concat(change) FROM sync_events WHERE story_id = 'M-1'")"
# a plain deletion still goes through at once
rm stories/platform/backlog/P-2-story.md
run ss sync --full
check_eq "a deletion with nothing else changing goes at once" "0|0|1" \
  "$rc|$(q "SELECT count(*) FROM stories WHERE id = 'P-2'")|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'P-2'")"

# ---- a stage folder gone: guarded like a missing backlog ----
rm -rf "$T/g" && mkdir "$T/g" && cd "$T/g" || exit 1
"$GEN_STORIES" . --count 200 --seed 20 2>/dev/null
ss init >/dev/null && ss sync >/dev/null || not_ok "the import of 200"
gone=stories/platform/active
n=$(q "SELECT count(*) FROM stories WHERE path LIKE '$gone/%'")
check_eq "a stage folder of $n stories, under half of 200" yes \
  "$([ "$n" -gt 1 ] && [ $((n * 2)) -lt 200 ] && echo yes)"
mv $gone "$O/stage-away"
edited=$(q "SELECT id FROM stories WHERE path LIKE 'stories/mobile/%' AND priority != 'low' ORDER BY id LIMIT 1")
q "UPDATE stories SET priority = 'low' WHERE id = '$edited'"
before=$(db_digest) tree=$(tree_digest)
msg="storysync: stage directory '$gone' of backlog 'platform' is missing but the database has $n of its stories; nothing written (--force to sync anyway)"
for flag in "" --full; do
  run ss sync $flag
  check_eq "stage gone, ${flag:-scan}: refused, exit 4, saying why" "4|$msg" "$rc|$err"
  check_eq "stage gone, ${flag:-scan}: nothing written" "$before|$tree" \
    "$(db_digest)|$(tree_digest)"
done
mkdir $gone
run ss sync
check_eq "stage emptied: refused too" \
  "4|storysync: stage directory '$gone' of backlog 'platform' is empty but the database has $n of its stories; nothing written (--force to sync anyway)" \
  "$rc|$err"
rmdir $gone && mv "$O/stage-away" $gone
run ss sync
check_eq "the folder back: the API's edit goes through, nothing lost" "0|200|low" \
  "$rc|$(q 'SELECT count(*) FROM stories')|$(fm "$(q "SELECT path FROM stories WHERE id = '$edited'")" priority)"
rm -rf $gone
run ss sync --force
check_eq "--force goes on: the $n stories deleted, archived" "0|$((200 - n))|$n" \
  "$rc|$(q 'SELECT count(*) FROM stories')|$(q 'SELECT count(*) FROM deleted_stories')"

# ---- a person deletes the last story of a stage folder, or of a backlog:
# no half copy (the model test's seed 23): deleted and archived, exit 0 ----
fresh </dev/null
rm stories/mobile/active/M-2-story.md
run ss sync
check_eq "the last story of a stage deleted: no guard, archived" "0||0|1" \
  "$rc|$err|$(q "SELECT count(*) FROM stories WHERE id = 'M-2'")|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'M-2'")"
rm stories/mobile/backlog/M-1-story.md
run ss sync
check_eq "the last story of a backlog deleted: no guard, archived" "0||0|1" \
  "$rc|$err|$(q "SELECT count(*) FROM stories WHERE id = 'M-1'")|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'M-1'")"

# ---- issue 19: a move is not an empty backlog, nor an empty stage ----
fresh </dev/null
mkdir -p stories/platform/active
mv stories/mobile/backlog/M-1-story.md stories/platform/backlog/
mv stories/mobile/active/M-2-story.md stories/platform/active/
run ss sync
check_eq "the last stories of a backlog moved to another: no guard" "0|" "$rc|$err"
check_eq "the rows follow" "platform|backlog|platform|active" \
  "$(q "SELECT backlog, status FROM stories WHERE id IN ('M-1', 'M-2') ORDER BY id" | paste -sd '|')"
run ss sync
check_eq "and the next run is quiet" "0|" "$rc|$out$err"
mv stories/platform/active/api/P-3-story.md stories/platform/backlog/
mv stories/platform/active/api/P-4-story.md stories/platform/backlog/
mv stories/platform/active/M-2-story.md stories/platform/backlog/
run ss sync
check_eq "the last stories of a stage moved out: no guard" "0|backlog" \
  "$rc|$(q "SELECT group_concat(DISTINCT status) FROM stories WHERE id IN ('P-3', 'P-4', 'M-2')")"
rm stories/platform/backlog/M-2-story.md
rmdir stories/platform/active/api stories/platform/active
mv stories/platform/backlog/P-3-story.md stories/platform/backlog/P-3-renamed.md
run ss sync
check_eq "a story deleted, its stage folder gone with no story left in it: no guard" \
  "0||1" "$rc|$err|$(q "SELECT count(*) FROM deleted_stories WHERE story_id = 'M-2'")"

finish
