#!/bin/bash
# Issue 19: storysync moved a story's file for the API (its status, or its
# backlog), and the person committed that move; then `git checkout HEAD~1
# -- OLD` (or the same committed) puts the old bytes back at the old place
# beside the committed move. Git's older version put back is no person's
# new edit, and the move git took is no discard's to undo: before, the
# run removed the restored file as "git's version put back beside
# storysync's uncommitted move" (a staged or committed file undone unseen,
# the person's restore lost with nothing said), or, edited, removed
# storysync's committed file as its own leftover and took the old place's
# values. Now both files are two claims of one id: the run names both
# (exit 1, every run), keeps both files and the row as they are, and the
# person's removal of either ends it, as git tells it (the old one: the
# API's value stands; the new one: the person moved the story back, a
# change of theirs to an agreed file). A stash of the uncommitted move is
# still git's version put back (discard_moved.sh). Oracles: git show and
# git status, sqlite3 (psql on a server: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home

# moved_tree DIR KIND: a story A-1 whose file storysync moved for the API
# (KIND status: refinements/ -> active/, title too; KIND backlog: backlog
# api -> web), the move committed by the person with add -A. OLD and NEW
# are the file's two paths.
moved_tree() {
  if [ "$2" = backlog ]; then
    web_api_repo "$1"
    mkdir -p stories/web/backlog stories/api/backlog
    OLD=stories/api/backlog/A-1-one.md NEW=stories/web/backlog/A-1-one.md
    printf -- '---\nid: A-1\ntitle: One\nbacklog: api\n---\nbody\n' >$OLD
    synced_commit
    q "UPDATE stories SET backlog = 'web' WHERE id = 'A-1'"
  else
    stages_repo "$1" backlog:backlog refinement:refinements active:active
    OLD=refinements/A-1-one.md NEW=active/A-1-one.md
    printf -- '---\nid: A-1\ntitle: One\nstatus: refinement\n---\nbody\n' >$OLD
    synced_commit
    q "UPDATE stories SET status = 'active', title = 'API' WHERE id = 'A-1'"
  fi
  ss -q
  check_eq "$1: the run moved the file for the API" "$NEW" \
    "$(find stories refinements active -name 'A-1-*' 2>/dev/null)"
  git add -A && git commit -qm "storysync's move"
}

# the row's location, title and path; its conflicts
row() { q "SELECT backlog, status, title, path FROM stories WHERE id = 'A-1'"; }
conflicts() { q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'A-1'"; }

# named TAG: the run names both files, exit 1, and says nothing else
named() {
  check_eq "$1: both files named, exit 1" "1|$(printf '%s\n' \
    "$NEW: id 'A-1' is also claimed by $OLD" \
    "$OLD: id 'A-1' is also claimed by $NEW" | LC_ALL=C sort)" \
    "$rc|$(printf '%s\n' "$err" | LC_ALL=C sort)"
}

n=0
for kind in status backlog; do
  for how in staged commit edit hook; do
    for seen in seen unseen; do
      n=$((n + 1))
      t="$kind $how $seen"
      moved_tree "t$n" $kind
      # seen: a run after the person's commit of the move (cron's)
      [ $seen = seen ] && ss -q
      gitnew=$(git rev-parse "HEAD:$NEW")
      gitold=$(git rev-parse "HEAD~1:$OLD")
      rowbefore=$(row)
      git checkout HEAD~1 -- "$OLD"
      case $how in
      commit | hook) git commit -qm "the old version back" ;;
      edit) sed -i 's/^body$/body, the person/' "$OLD" ;;
      esac
      want_old=$(git hash-object "$OLD")
      status=$(git status --porcelain)
      # hook: the post-commit hook's run reads the commit's paths only
      # (the old version is no change since the last synced commit, or
      # one the diff names beside a file it does not): no verdict but
      # the plain run's after it
      [ $how = hook ] && ss sync --git -q
      run ss -q
      named "$t"
      check_eq "$t: both files kept as they were" "$gitnew|$want_old" \
        "$(git hash-object "$NEW")|$(git hash-object "$OLD")"
      check_eq "$t: the old file is git's older version, or the person's edit of it" \
        "$([ $how = edit ] && echo edited || echo "$gitold")" \
        "$([ $how = edit ] && grep -qx 'body, the person' "$OLD" && echo edited ||
          git hash-object "$OLD")"
      check_eq "$t: git's index and HEAD as the person left them" "$status" \
        "$(git status --porcelain)"
      check_eq "$t: the row as it was (the API's), nothing in sync_conflicts" \
        "$rowbefore|0" "$(row)|$(conflicts)"
      # and again on the next run (-q names an error that stays once a
      # day: not here)
      run ss
      named "$t: the next run"
    done
  done
done

# ---- the person ends it: removes the old file (the API's value stands),
# or the new one (their move back: the row follows the file, an agreed
# version changed on the file's side only) ----
for kind in status backlog; do
  for gone in old new; do
    n=$((n + 1))
    moved_tree "t$n" $kind
    ss -q
    rowbefore=$(row)
    git checkout HEAD~1 -- "$OLD"
    run ss -q
    named "$kind $gone"
    if [ $gone = old ]; then
      git rm -qf "$OLD"
      run ss -q
      check_eq "$kind old removed: the run goes through, the API's row stands" \
        "0||$rowbefore|0|$NEW" "$rc|$err|$(row)|$(conflicts)|$(
          find stories refinements active -name 'A-1-*' 2>/dev/null)"
    else
      git rm -qf "$NEW"
      run ss -q
      # the old file's values, title included: a revert of the move
      # git took is the person's (doc/design.md, write_taken)
      want="default|refinement|One|$OLD"
      [ $kind = backlog ] && want="api|backlog|One|$OLD"
      check_eq "$kind new removed: the run goes through, the story where the person put it" \
        "0||$want|$OLD" "$rc|$err|$(row)|$(
          find stories refinements active -name 'A-1-*' 2>/dev/null)"
    fi
    quiet_next --digest "$kind $gone"
  done
done
# ---- no move git took alone: a discard put git's version back beside
# storysync's uncommitted move, and the person's add -A committed both
# with api's folder moved (git mv, the configuration edited: git's copy
# in stories/api2), then moved back before any run saw it (model wide
# seed 153's shape). No version git holds has storysync's file without
# git's: the copy at the move's source is git's version put back, removed
# as before, the API's web stands (restored_old's first rule named both,
# exit 1, and the model's seed stuck) ----
n=$((n + 1))
web_api_repo "t$n"
mkdir -p stories/web/backlog stories/api/backlog
OLD=stories/api/backlog/A-1-one.md NEW=stories/web/backlog/A-1-one.md
printf -- '---\nid: A-1\ntitle: One\n---\nbody\n' >$OLD
synced_commit
q "UPDATE stories SET backlog = 'web' WHERE id = 'A-1'"
ss -q
git checkout -- .
git mv stories/api stories/api2 &&
  sed -i 's|^  api: stories/api$|  api: stories/api2|' .storysync.yml
git add -A && git commit -qm "both files, api's folder moved"
check_eq "moved folder: the commit holds storysync's file and git's, moved" \
  "stories/api2/backlog/A-1-one.md stories/web/backlog/A-1-one.md" \
  "$(git ls-tree -r --name-only HEAD stories | grep A-1 | paste -sd ' ')"
git mv stories/api2 stories/api &&
  sed -i 's|^  api: stories/api2$|  api: stories/api|' .storysync.yml
run ss -q
check_eq "moved folder: git's copy removed, the API's web stands, nothing in sync_conflicts" \
  "0||$NEW|web|$NEW|0" "$rc|$err|$(find stories -name 'A-1-*')|$(
    q "SELECT backlog, path FROM stories WHERE id = 'A-1'")|$(conflicts)"
finish
