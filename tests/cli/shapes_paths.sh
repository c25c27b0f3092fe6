#!/bin/bash
# Issue 24 (see shapes.sh): what a versioned configuration may name. A
# backlog may be hidden, never .git nor outside the tree, and a hidden
# backlog that is a symlink is not followed; an epic named as a stage
# inside its own is refused; git mode finds a hidden backlog's stories.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

# ==== what a versioned configuration may name ====
mkdir -p S/.tasks S/real && cd S || exit 1
printf 'backlogs:\n  t: .git\n' >.storysync.yml
run ss sync
check_eq "a backlog in .git is refused" \
  "2|storysync: $T/S/.storysync.yml:2:6: backlog 't': path '.git' must not be inside .git" \
  "$rc|$err"
printf 'backlogs:\n  t: ../outside\n' >.storysync.yml
run ss sync
check_eq "a backlog outside the tree is refused" \
  "2|storysync: $T/S/.storysync.yml:2:6: backlog 't': path '../outside' must not contain '..'" \
  "$rc|$err"
printf 'backlogs:\n  t: .tasks\nstages:\n  open: .\n' >.storysync.yml
printf -- '---\nid: S-1\ntitle: Real\n---\n' >real/S-1-real.md
rmdir .tasks && ln -s real .tasks
run ss init
run ss sync
check_eq "a hidden backlog that is a symlink is not followed" \
  "1|0|.tasks: a symbolic link (or a path through one); not followed, its stories left as they are" \
  "$rc|$(q "SELECT count(*) FROM stories")|$err"
cd "$T" || exit 1

# with the status from the folder, that epic is refused before planning
mkdir -p L/tasks/archive && cd L || exit 1
printf 'backlogs:\n  t: tasks\nstages:\n  open: .\n  done: archive\n' >.storysync.yml
printf -- '---\nid: L-1\ntitle: One\n---\n' >tasks/L-1-one.md
ss -q init && ss -q sync
q "UPDATE stories SET epic = 'archive' WHERE id = 'L-1'"
run ss sync
check_eq "an epic named as a stage inside its own is refused, recorded" \
  "1|story L-1: epic 'archive' is where stage 'done' lies inside stage 'open'; refused: nothing moved or deleted|tasks/L-1-one.md|refused" \
  "$rc|$err|$(find tasks -name '*.md')|$(q "SELECT kind FROM sync_conflicts WHERE story_id = 'L-1'")"
cd "$T" || exit 1

# git mode finds the stories of a hidden backlog
with_hooks
git init -q G && cd G || exit 1
mkdir -p .tasks/archive
printf 'backlogs:\n  t: .tasks\nstages:\n  open: .\n  done: archive\n' >.storysync.yml
printf -- '---\nid: G-1\ntitle: One\n---\n' >.tasks/G-1-one.md
git add -A && git commit -qm one
ss -q init && ss -q sync
printf -- '---\nid: G-2\ntitle: Two\n---\n' >.tasks/archive/G-2-two.md
git mv .tasks/G-1-one.md .tasks/archive/G-1-one.md
git add -A && git commit -qm two
run ss sync --git
check_eq "git mode: a hidden backlog's stories, a stage inside '.'" \
  "0|G-1|done|.tasks/archive/G-1-one.md
G-2|done|.tasks/archive/G-2-two.md" \
  "$rc|$(q "SELECT id, status, path FROM stories ORDER BY id")"
cd "$T" || exit 1

finish
