# Sourced after lib.sh by the discard scenarios (git_discard_api.sh,
# git_discard_old.sh, discard_config.sh): story S-1's file, its row's
# fields, the file's keys and its conflicts, read without storysync.
F=backlog/S-1-one.md
field() { q "SELECT $1 FROM stories WHERE id = 'S-1'"; }
key() { sed -n "s/^$1: //p" "$F"; }
# S-1's conflicts, a line each: kind|kept|fields|the lost priority
conflicts() {
  q "SELECT kind, kept, fields, $(jget lost priority)
     FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id"
}
