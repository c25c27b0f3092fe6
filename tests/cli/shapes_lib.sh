# Shared by issue 24's tests of tree shapes (shapes*.sh): a tree's digest,
# the PyYAML oracle, and one-field DB edits that must change one line.

# tree_sums DIR: every file's name, mtime, size and content
tree_sums() {
  find "$@" -type f -printf '%p %T@ %s\n' | LC_ALL=C sort | md5sum
  find "$@" -type f -exec md5sum {} + | LC_ALL=C sort | md5sum
}

# oracle DESC SPEC: the rows against the files, read with PyYAML
oracle() {
  run python3 "$SOURCE_ROOT/tests/cli/shapes_oracle.py" . "$DB" "$2"
  check_eq "$1" "0|$3" "$rc|$out$err"
}

# edits FILE DESC: each line "ID|SQL assignment|LINE", one DB edit of one
# field, after which the story's file differs in one line, which matches
# the regular expression LINE ("title:", or "  - " for a block list item).
# The edits go in rounds, one per story each, a run per round.
edits() {
  local id set key path n=0 bad=0 d round=() rest=() seen
  mapfile -t rest <"$1"
  while [ ${#rest[@]} -gt 0 ]; do
    round=() seen=" "
    local left=()
    for line in "${rest[@]}"; do
      id=${line%%|*}
      if [[ $seen == *" $id "* ]]; then left+=("$line"); else
        round+=("$line") seen+="$id "
      fi
    done
    rest=("${left[@]}")
    for line in "${round[@]}"; do
      IFS='|' read -r id set key <<<"$line"
      path=$(q "SELECT path FROM stories WHERE id = '$id'")
      cp "$path" "$O/one-$id"
      q "UPDATE stories SET $set WHERE id = '$id'"
    done
    run ss sync
    for line in "${round[@]}"; do
      IFS='|' read -r id set key <<<"$line"
      path=$(q "SELECT path FROM stories WHERE id = '$id'")
      d=$(diff "$O/one-$id" "$path" | grep '^[<>]')
      n=$((n + 1))
      if [ "$rc" != 0 ] || [ "$(echo "$d" | grep -c '^<')" -gt 1 ] ||
        [ "$(echo "$d" | grep -c '^>')" -gt 1 ] || [ -z "$d" ] ||
        echo "$d" | grep -Eqv "^[<>] ($key)"; then
        bad=$((bad + 1))
        echo "# $id: $set: rc $rc $out$err"
        echo "$d" | sed 's/^/#   /'
      fi
    done
  done
  check_eq "$2: $n DB edits of one field, one line each" "$n|0" "$n|$bad"
}

