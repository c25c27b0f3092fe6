#!/bin/bash
# Issue 11: per-field conflict policy. The file wins by default; policy:
# gives chosen fields to the database, backlog_policy: per backlog. Tried on
# a tree written by hand, two backlogs, the default stage folders. A twin.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

mkdir -p stories/platform/backlog stories/mobile/active
cat >stories/platform/backlog/PLAT-1-login.md <<'EOF'
---
id: PLAT-1
title: Login page   # the first one
priority: medium
---
Users log in.
EOF
cat >stories/mobile/active/MOB-1-push.md <<'EOF'
---
id: MOB-1
title: Push notifications
points: 3
---
EOF
cat >.storysync.yml <<'EOF'
backlogs:
  platform: stories/platform
  mobile: stories/mobile
policy:
  status: db
backlog_policy:
  mobile:
    title: db
    status: file
EOF
run ss init
check_rc "init with a policy" 0
ss sync >/dev/null

rows() { # [DIR]: the stories of the tree in DIR as the oracle compares them
  (cd "${1:-.}" && q "SELECT id, backlog, status, epic, title,
    priority, points, assignees, labels, extra, body, path FROM stories
    ORDER BY id")
}
oracle() { # DESC: a fresh --full import of a copy gives the same rows
  drop_tree "$O/copy" && mkdir "$O/copy"
  cp -r stories .storysync.yml "$O/copy/"
  (cd "$O/copy" && ss -q init >/dev/null && ss -q sync --full)
  check_eq "$1" "$(rows "$O/copy")" "$(rows)"
}

# platform: both change the title and the status
p=stories/platform/backlog/PLAT-1-login.md
sed -i 's/^title: Login page/title: Sign-in page/' $p
mkdir -p stories/platform/active && mv $p stories/platform/active/
q "UPDATE stories SET title = 'Log-in page', status = 'completed'
   WHERE id = 'PLAT-1'"
run ss sync
check_rc "both sides changed: the run is done" 0
check_eq "the title, the file's (file wins by default)" "Sign-in page" \
  "$(q "SELECT title FROM stories WHERE id = 'PLAT-1'")"
check_eq "the status, the database's (policy: status: db)" completed \
  "$(q "SELECT status FROM stories WHERE id = 'PLAT-1'")"
check_eq "the file follows: moved to completed/, its title kept" \
  "title: Sign-in page   # the first one" \
  "$(grep '^title:' stories/platform/completed/PLAT-1-login.md)"
check_eq "recorded with the policy that decided" \
  "both_changed|mixed|status,title|status=db,title=file" \
  "$(q "SELECT kind, kept, fields, policy FROM sync_conflicts
        WHERE story_id = 'PLAT-1'")"
check_eq "the lost values: each field's loser" "active|Log-in page" \
  "$(q "SELECT $(jget lost status), $(jget lost title) FROM sync_conflicts
        WHERE story_id = 'PLAT-1'")"
run ss conflicts 1
check_contains "conflicts shows the policy" "policy: status=db,title=file" "$out"
oracle "platform: a fresh --full import gives the same rows"

# mobile: its own policy, title to the database, status to the file
m=stories/mobile/active/MOB-1-push.md
sed -i 's/^title: .*/title: Push from the file/' $m
mkdir -p stories/mobile/completed && mv $m stories/mobile/completed/
q "UPDATE stories SET title = 'Push from the API', status = 'backlog'
   WHERE id = 'MOB-1'"
run ss sync
check_rc "mobile: done" 0
check_eq "mobile: the title, the database's (backlog_policy)" \
  "Push from the API|completed" \
  "$(q "SELECT title, status FROM stories WHERE id = 'MOB-1'")"
check_eq "mobile: the file gets the API's title, stays in completed/" \
  "title: Push from the API" \
  "$(grep '^title:' stories/mobile/completed/MOB-1-push.md)"
check_eq "mobile: recorded, the policy per field" \
  "mixed|status,title|status=file,title=db" \
  "$(q "SELECT kept, fields, policy FROM sync_conflicts
        WHERE story_id = 'MOB-1'")"
oracle "mobile: a fresh --full import gives the same rows"

# one field, the database's alone: kept db, the file's version lost whole
sed -i 's/^title: .*/title: File again/' stories/mobile/completed/MOB-1-push.md
q "UPDATE stories SET title = 'API again' WHERE id = 'MOB-1'"
ss sync >/dev/null
check_eq "kept db: the file's version is the lost one" \
  "db|title=db|File again" \
  "$(q "SELECT kept, policy, $(jget lost title) FROM sync_conflicts
        WHERE story_id = 'MOB-1' ORDER BY id DESC LIMIT 1")"
check_eq "and the file has the database's title" "title: API again" \
  "$(grep '^title:' stories/mobile/completed/MOB-1-push.md)"
run ss sync --full
check_eq "converged: --full finds nothing" "0|" "$rc|$out$err"

# the default: no policy, the file wins all
sed -i '/^policy:/,$d' .storysync.yml
sed -i 's/^title: .*/title: File wins/' stories/mobile/completed/MOB-1-push.md
q "UPDATE stories SET title = 'API loses' WHERE id = 'MOB-1'"
ss sync >/dev/null
check_eq "without a policy the file wins" "File wins|file|title=file" \
  "$(q "SELECT s.title, c.kept, c.policy FROM stories s, sync_conflicts c
        WHERE s.id = 'MOB-1' AND c.story_id = 'MOB-1'
        ORDER BY c.id DESC LIMIT 1")"

# bad policies: exact errors, nothing synced
cp .storysync.yml "$O/good.yml"
bad() { # DESC YAML ERROR
  cp "$O/good.yml" .storysync.yml
  printf '%s\n' "$2" >>.storysync.yml
  run ss sync
  check_eq "$1" "2|storysync: $T/.storysync.yml:$3" "$rc|$err"
}
bad "the id is not a policy field" "policy: {id: db}" \
  "4:10: 'policy': 'id' is not a field (backlog, status, epic, title, priority, points, assignees, labels, depends_on, created, extra, body, parent)"
bad "a side is file or db" "policy: {title: api}" \
  "4:17: 'title' must be file or db"
bad "a backlog that is not configured" \
  "backlog_policy: {web: {title: db}}" \
  " 'backlog_policy': no backlog 'web' (see 'backlogs')"
bad "a field twice" "policy: {title: db, title: file}" \
  "4:21: duplicate key 'title' in 'policy'"
cp "$O/good.yml" .storysync.yml
check_eq "nothing was lost meanwhile" "File wins" \
  "$(q "SELECT title FROM stories WHERE id = 'MOB-1'")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
