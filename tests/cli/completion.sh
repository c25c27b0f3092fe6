#!/bin/bash
# Issue 25: the bash completion keeps a name with spaces one word (and has
# bash quote it, -o filenames), offers the configured backlogs after
# --backlog and the recorded conflicts' numbers after conflicts (the open
# ones after --resolve), from the tree -C names; backlogs lists them. The
# zsh and fish completions offer the same, driven by zsh's own completion
# system (on a pty, zsh_complete.zsh) and by fish's complete -C.
# Oracles: PyYAML for the configuration, sqlite3 for the conflicts.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?run through meson test}"
COMP=$BUILD_ROOT/completions/storysync
PATH="$(dirname "$STORYSYNC"):$PATH" # the completion runs storysync

"$GEN_STORIES" tree --count 8 2>/dev/null
cd tree || exit 1
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  platform: stories/platform
  mobile: stories/mobile
  ops-2: stories/ops
EOF
mkdir -p stories/ops/backlog
ss init >/dev/null && ss sync >/dev/null || not_ok "import"
# two conflicts, the first resolved
for t in one two; do
  f=$(find stories -name '*.md' | sort | head -n 1)
  id=$(sed -n 's/^id: //p' "$f")
  sed -i "s/^title: .*/title: File $t/" "$f"
  q "UPDATE stories SET title = 'API $t' WHERE id = '$id'"
  ss sync >/dev/null
done
q "UPDATE sync_conflicts SET resolved = '2026-01-01T00:00:00Z'
   WHERE id = (SELECT min(id) FROM sync_conflicts)"
mkdir "my dir" "my other" && touch "a file.yml"
cd "$T" || exit 1

# complete WORD...: what _storysync offers, one a line, the last WORD the
# cursor's
complete() {
  bash -c '. "$1"; shift; COMP_WORDS=(storysync "$@")
    COMP_CWORD=$#; _storysync; printf "%s\n" "${COMPREPLY[@]}"' _ \
    "$COMP" "$@" 2>&1 | sed '/^$/d' | sort
}
names=$(python3 -c '
import sys, yaml
print("\n".join(sorted(yaml.safe_load(open(sys.argv[1]))["backlogs"])))
' tree/.storysync.yml)
check_eq "the oracle reads three backlogs" 3 "$(grep -c . <<<"$names")"

cd tree || exit 1
check_eq "-C: a directory with a space is one word" \
  "$(printf 'my dir\nmy other')" "$(complete -C my)"
check_eq "-c: a file with a space is one word" "a file.yml" \
  "$(complete -c 'a f')"
check_eq "-C and -c have bash quote them (-o filenames)" 2 \
  "$(grep -A1 -E '^	-(C|c)\)$' "$COMP" | grep -c 'compopt -o filenames')"
check_eq "--backlog offers the configured backlogs" "$names" \
  "$(complete --backlog '')"
check_eq "sync --backlog m: mobile" mobile "$(complete sync --backlog m)"
check_eq "--backlog=: the same" "$names" "$(complete --backlog = '')"
all=$(q "SELECT id FROM sync_conflicts ORDER BY id" | sort)
open=$(q "SELECT id FROM sync_conflicts WHERE resolved IS NULL" | sort)
check_eq "the oracle: two conflicts, one open" "2 1" \
  "$(grep -c . <<<"$all") $(grep -c . <<<"$open")"
check_eq "conflicts offers every conflict's number" "$all" \
  "$(complete conflicts '')"
check_eq "conflicts --resolve offers the open ones" "$open" \
  "$(complete conflicts --resolve '')"
check_eq "conflicts -: still the options" 1 \
  "$(complete conflicts - | grep -cx -- --resolve)"
cd "$T" || exit 1
check_eq "-C TREE --backlog, from elsewhere: that tree's" "$names" \
  "$(complete -C tree --backlog '')"
check_eq "-c FILE conflicts, from elsewhere: that tree's" "$all" \
  "$(complete -c tree/.storysync.yml conflicts '')"
check_eq "no tree: nothing offered, nothing said" "" \
  "$(complete --backlog '')"

# ---- zsh and fish: the same backlogs and conflicts ----
# lines: DIR|LINE, each completed where it is run
lines=(
  "tree|storysync --backlog "
  "tree|storysync sync --backlog m"
  "tree|storysync --backlog="
  "tree|storysync conflicts "
  "tree|storysync conflicts --resolve "
  "$T|storysync -C tree --backlog "
  "$T|storysync -c tree/.storysync.yml conflicts "
  "$T|storysync --backlog "
)
want=("$names" mobile "$names" "$all" "$open" "$names" "$all" "")
what=("--backlog offers the configured backlogs" "sync --backlog m: mobile"
  "--backlog=: the same" "conflicts offers every conflict's number"
  "conflicts --resolve offers the open ones"
  "-C TREE --backlog, from elsewhere: that tree's"
  "-c FILE conflicts, from elsewhere: that tree's"
  "no tree: nothing offered, nothing said")
# zsh: one session drives every line of a directory (zsh_complete.zsh)
if command -v zsh >/dev/null; then
  for dir in tree "$T"; do
    todo=()
    for l in "${lines[@]}"; do
      [ "${l%%|*}" = "$dir" ] && todo+=("${l#*|}")
    done
    (cd "$dir" && zsh -f "$SOURCE_ROOT/tests/cli/zsh_complete.zsh" \
      "$BUILD_ROOT/completions" "${todo[@]}") >"$O/zsh.${dir//\//_}" 2>&1
  done
  for i in "${!lines[@]}"; do
    dir=${lines[$i]%%|*} line=${lines[$i]#*|}
    got=$(awk -v l="== $line" '$0 == l { on = 1; next } /^== / { on = 0 }
      on' "$O/zsh.${dir//\//_}" | sed 's/^--backlog=//')
    check_eq "zsh: ${what[$i]}" "${want[$i]}" "$got"
  done
else
  skip "zsh: not here"
fi
if command -v fish >/dev/null; then
  for i in "${!lines[@]}"; do
    got=$(cd "${lines[$i]%%|*}" && fish --no-config -c \
      "source $BUILD_ROOT/completions/storysync.fish; complete -C '${lines[$i]#*|}'" 2>&1 |
      cut -f1 | sed 's/^--backlog=//' | sort)
    check_eq "fish: ${what[$i]}" "${want[$i]}" "$got"
  done
else
  skip "fish: not here"
fi

# ---- backlogs ----
run ss -C tree backlogs
check_eq "backlogs: name and directory, in the file's order" \
  "0|platform stories/platform
mobile stories/mobile
ops-2 stories/ops|" "$rc|$out|$err"
run ss -C tree backlogs --json
check_eq "backlogs --json" "0|$(python3 -c '
import json, sys, yaml
b = yaml.safe_load(open(sys.argv[1]))["backlogs"]
print(json.dumps({"backlogs": [{"name": k, "path": v} for k, v in b.items()]},
                 separators=(",", ":")))' tree/.storysync.yml)" "$rc|$out"
run ss -C tree backlogs -q
check_eq "backlogs -q: nothing" "0||" "$rc|$out|$err"
run ss backlogs
check_eq "backlogs without a configuration: exit 2" 2 "$rc"

finish
