# Sourced after lib.sh by the discard scenarios (git_discard_api.sh,
# git_discard_old.sh, discard_config.sh, discard_rewritten.sh): story
# S-1's file, its row's fields, the file's keys and its conflicts, read
# without storysync; s1_written, the tree the API's write is made in; and
# A-4's trees (four_tree, undel_tree) and checks.
F=backlog/S-1-one.md
field() { q "SELECT $1 FROM stories WHERE id = 'S-1'"; }
key() { sed -n "s/^$1: //p" "$F"; }
# S-1's conflicts, a line each: kind|kept|fields|the lost priority
conflicts() {
  q "SELECT kind, kept, fields, $(jget lost priority)
     FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id"
}

# s1_written DIR VALUE: a tree at $T/DIR with S-1 committed with priority
# critical, then a person's low committed and synced; the API sets VALUE
# and a run writes it to the file, uncommitted (VALUE critical: the file
# is then byte for byte the first commit's). The shell is left in DIR.
s1_written() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog active
  printf -- '---\nid: S-1\ntitle: One\npriority: critical\n---\nbody\n' >$F
  ss init -q && git add -A && git commit -qm init && ss -q ||
    not_ok "$1: the tree"
  sed -i 's/^priority: critical$/priority: low/' $F
  git commit -qam low && ss -q || not_ok "$1: the person's low"
  q "UPDATE stories SET priority = '$2' WHERE id = 'S-1'"
  ss -q
}

# git's version of A-4 put back beside storysync's move of it, or over its
# deletion, then moved with a stage's directory renamed before the next
# run (discard_config.sh, discard_rewritten.sh): the trees, the run and
# put back, and what the run after that must leave.
A4=A-4-four.md

# four_tree DIR: backlogs web (stories/web, W-1) and api (stories/api,
# A-4 in stage backlog, A-1 in active); synced_commit once the caller
# adds to it
four_tree() {
  stages_repo "$1" backlog:backlog active:active && rmdir backlog active
  printf 'backlogs:\n  web: stories/web\n  api: stories/api\n' >>.storysync.yml
  mkdir -p stories/web/backlog stories/api/backlog stories/api/active
  printf -- '---\nid: W-1\ntitle: one\n---\n\nBody.\n' \
    >stories/web/backlog/W-1-one.md
  printf -- '---\nid: A-4\ntitle: four\npriority: high\n---\n\nBody.\n' \
    >stories/api/backlog/$A4
  printf -- '---\nid: A-1\ntitle: one\n---\n\nBody.\n' \
    >stories/api/active/A-1-one.md
}

# four_beside TAG: web's directory moved (web_moved), the API moves A-4
# to web and a run writes it there; a stash takes the move back: git's
# A-4 in stories/api/backlog beside the run's in stories/web2 (checked)
four_beside() {
  web_moved
  q "UPDATE stories SET backlog = 'web' WHERE id = 'A-4'"
  run ss -q
  check_eq "$1: the run moves A-4 into web's moved directory" \
    "0||stories/web2/backlog/$A4" "$rc|$err|$(find stories -name "$A4")"
  git stash -q && git stash drop -q
  check_eq "$1: the stash put git's A-4 back beside the run's" \
    "stories/api/backlog/$A4
stories/web2/backlog/$A4" "$(find stories -name "$A4" | sort)"
}

# four_kept TAG [RC]: after the run (its exit code RC checked when
# given), the API's web kept, git's api in sync_conflicts, A-4's file
# git's version at web's place (the run's, left in stories/web2, no
# backlog's now, removed: completed_stray.sh), and the next run quiet
four_kept() {
  local same=no
  check_eq "$1: the API's web kept, git's api in sync_conflicts" \
    "${2:+0|}web|backlog|stories/web/todo/$A4|both_changed|db|backlog|api" \
    "${2:+$2|}$(q "SELECT backlog, status, path FROM stories WHERE id = 'A-4'")|$(
      q "SELECT kind, kept, fields, $(jget lost backlog)
         FROM sync_conflicts WHERE story_id = 'A-4' ORDER BY id")"
  git show "init:stories/api/backlog/$A4" | cmp -s - stories/web/todo/$A4 &&
    same=yes
  check_eq "$1: A-4's file is git's version, in web, the run's gone" \
    "yes|stories/web/todo/$A4" "$same|$(find stories -name "$A4" | sort)"
  quiet_next --digest "$1"
}

# undel_tree DIR: A-4 and A-5 in stage backlog, A-1 in active;
# synced_commit once the caller adds to it
undel_tree() {
  stages_repo "$1" backlog:backlog active:active
  printf -- '---\nid: A-4\ntitle: four\n---\n\nBody.\n' >backlog/$A4
  printf -- '---\nid: A-5\ntitle: five\n---\n\nBody.\n' >backlog/A-5-five.md
  printf -- '---\nid: A-1\ntitle: one\n---\n\nBody.\n' >active/A-1-one.md
}

# undel_put_back TAG: the API deletes A-4, a run deletes its file
# (checked), and a reset --hard puts git's version back
undel_put_back() {
  q "DELETE FROM stories WHERE id = 'A-4'"
  run ss -q
  check_eq "$1: the run deletes A-4's file" "0||" \
    "$rc|$err|$(find . -name "$A4")"
  git reset -q --hard
}

# undel_kept TAG [RC]: after the run (its exit code RC checked when
# given), no row, no file, the file's version in sync_conflicts, A-5
# moved with its directory; and the next run quiet
undel_kept() {
  check_eq "$1: no row, no file, the file's version in sync_conflicts" \
    "${2:+0|}|deleted_in_db|db|four||todo/A-5-five.md" \
    "${2:+$2|}$(q "SELECT id FROM stories WHERE id = 'A-4'")|$(
      q "SELECT kind, kept, $(jget lost title) FROM sync_conflicts
         WHERE story_id = 'A-4' ORDER BY id")|$(find . -name "$A4")|$(
      q "SELECT path FROM stories WHERE id = 'A-5'")"
  quiet_next --digest "$1"
}
