# Sourced after lib.sh by the discard scenarios (git_discard_api.sh,
# git_discard_old.sh, discard_config.sh): story S-1's file, its row's
# fields, the file's keys and its conflicts, read without storysync; and
# s1_written, the tree the API's write is made in.
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
