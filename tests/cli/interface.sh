#!/bin/bash
# The command line has one source, src/interface.txt. This compares all
# that describes or parses the command line with it, in full, per command,
# reading the source itself (interface_check.py rows), never what the
# generator, scripts/gen-interface, makes of it:
# - the binary: it takes every option the source gives each command (and
#   before any, and after sync's options without the word sync), with its
#   value, and refuses the options the interface knows that it does not
#   take there; and the option tables in the C code are the source's
#   (interface_check.py). The suite tries each refusal in one place drawn
#   by STORYSYNC_SEED, and each option's NAME=VALUE form where it is first
#   taken; STORYSYNC_LONG=1 tries them all everywhere;
# - --help, help CMD, CMD --help: the about and footer text, each name,
#   argument and description, and no other option (interface_check.py);
# - the man page as built: the synopsis, every global option, and each
#   command with each of its options and its description;
# - the completions: bash, driven, offers exactly the options valid at the
#   cursor; fish, driven when fish is here, too, with the summaries; zsh's
#   specs, read, are those options with those summaries.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?run through meson test}"

CHECK=$SOURCE_ROOT/tests/cli/interface_check.py
LIST=$O/list
python3 "$CHECK" "$SOURCE_ROOT/src/interface.txt" rows >"$LIST"
sample_space
check_rc_of() { check_eq "$1" 0 "$2"; }

# ---- what the source says ----

commands=$(awk -F'\t' '$1 == "command" { print $2 }' "$LIST")
default=$(awk -F'\t' '$1 == "command" && $5 ~ /default/ { print $2 }' "$LIST")
# names SCOPE [FLAG]: the option names of SCOPE (global or a command)
names() {
  awk -F'\t' -v s="$1" -v f="${2-}" \
    '$1 == "option" && $2 == s && (f == "" || $7 ~ f) { print $3 }' "$LIST" |
    tr , '\n'
}
# valid CMD: the option names valid after CMD's name ("" before any)
valid() {
  if [ -z "$1" ]; then
    names global
    names "$default"
  elif ! awk -F'\t' -v c="$1" '$1 == "command" && $2 == c' "$LIST" |
    grep -q noopts; then
    names "$1"
    names global after
  fi
}
all_names=$(awk -F'\t' '$1 == "option" { print $3 }' "$LIST" | tr , '\n' |
  sort -u)
# the same, looked up without a process: VALUE[NAME], and VALID[CTX] the
# names valid in CTX ("-" before the command), between spaces
declare -A VALUE VALID
# VALUE[NAME]: none, required or optional, from one awk (the first
# option row that lists the name)
while read -r name v; do
  [ -n "${VALUE[$name]+set}" ] || VALUE[$name]=$v
done < <(awk -F'\t' '$1 == "option" {
  k = split($3, a, ","); for (i = 1; i <= k; i++) print a[i], $4 }' "$LIST")
VALID[-]=" $(valid "" | tr '\n' ' ') "
for cmd in $commands; do VALID[$cmd]=" $(valid "$cmd" | tr '\n' ' ') "; done
check_eq "the source has commands" 1 "$([ -n "$commands" ] && echo 1)"
check_eq "the source has one default command" 1 "$(echo "$default" | grep -c .)"

# ---- the binary takes exactly those options ----

# try WORDS...: runs storysync in a fresh empty directory (no
# configuration: nothing is synced or written but by init, there).
n=0
try() {
  n=$((n + 1))
  local i dirs=()
  # the directories made a hundred at a time, in one process
  if [ ! -d "$T/try$n" ]; then
    for ((i = n; i < n + 100; i++)); do dirs+=("$T/try$i"); done
    mkdir "${dirs[@]}"
  fi
  cd "$T/try$n" && run ss "$@"
  cd "$T" || exit 1
}
refused() { [[ $err =~ unknown\ option|unknown\ command|needs\ a\ value|takes\ no\ value ]]; }

# with_value NAME: the words that give NAME (with a value when it takes one)
with_value() {
  case ${VALUE[$1]} in
  required) [ "$1" = -C ] && echo "$1 ." || echo "$1 x" ;;
  *) echo "$1" ;;
  esac
}

# accepts WHERE WORDS...: the option at the end of WORDS is taken
accepts() {
  local where=$1
  shift
  try "$@"
  if refused; then not_ok "$where: storysync $* is taken" "stderr: $err"; else
    ok "$where: storysync $* is taken"; fi
}
# refuses WHERE WORDS...: it is an unknown option there
refuses() {
  local where=$1
  shift
  try "$@"
  if [ "$rc" = 2 ] && refused; then ok "$where: storysync $* is refused"; else
    not_ok "$where: storysync $* is refused" "exit $rc" "stderr: $err"; fi
}

# lead_of CTX: sets lead (the words before the option), where and ok_names
lead_of() {
  case $1 in
  -) lead=() where="before the command" ok_names=${VALID[-]} ;;
  implied) lead=(--full) where="after --full" ok_names=${VALID[$default]} ;;
  *) lead=("$1") where="after $1" ok_names=${VALID[$1]} ;;
  esac
  [ "$1" = help ] && lead=(help)
  return 0
}
contexts="- $commands implied"
# where each name is refused: everywhere in the long set; else, but for
# --no-such-option (refused everywhere), in one place drawn from those
declare -A refuse_in formed
for name in $all_names; do
  places=()
  for ctx in $contexts; do
    lead_of "$ctx"
    [[ $ok_names == *" $name "* ]] || places+=("$ctx")
  done
  [ ${#places[@]} -gt 0 ] || continue
  if [ "$LONG" = 1 ]; then
    refuse_in[$name]=" ${places[*]} "
  else
    pick_in 0 $((${#places[@]} - 1))
    refuse_in[$name]=" ${places[$r]} "
  fi
done
for ctx in $contexts; do
  lead_of "$ctx"
  for name in $all_names --no-such-option; do
    if [[ $ok_names == *" $name "* ]]; then
      # shellcheck disable=SC2046
      accepts "$where" "${lead[@]}" $(with_value "$name")
      # its NAME=VALUE forms where it is first taken (everywhere: long)
      [ "$LONG" = 1 ] || [ -z "${formed[$name]:-}" ] || continue
      formed[$name]=1
      case ${VALUE[$name]} in
      optional) accepts "$where" "${lead[@]}" "$name=1" ;;
      required) [[ $name == --* ]] && accepts "$where" "${lead[@]}" "$name=x" ;;
      none) [[ $name == --* ]] && refuses "$where" "${lead[@]}" "$name=x" ;;
      esac
    elif [ "$name" = --no-such-option ] ||
      [[ ${refuse_in[$name]} == *" $ctx "* ]]; then
      refuses "$where" "${lead[@]}" "$name"
    fi
  done
done
for name in $all_names; do
  [ "${VALUE[$name]}" = required ] || continue
  ctx=$(awk -F'\t' -v n="$name" '$1 == "option" && index("," $3 ",", "," n ",") \
    { print $2 }' "$LIST" | head -n 1)
  [ "$ctx" = global ] && lead=() || lead=("$ctx")
  try "${lead[@]}" "$name"
  check_eq "storysync ${lead[*]} $name: a value is needed" 2 "$rc"
done
python3 "$CHECK" "$LIST" code "$SOURCE_ROOT/src" >"$O/check"
check_rc_of "the C code's option tables are the source's" $?
cat "$O/check"
# help CMD knows each command: below, where each exits 0 with its text
refuses "commands" no-such-command

# ---- --help, help CMD, CMD --help ----

mkdir "$O/help"
run ss --help
check_eq "--help exits 0, on stdout" "0|" "$rc|$err"
printf '%s\n' "$out" >"$O/help/help"
run ss help
check_eq "help is --help" "$(cat "$O/help/help")" "$out"
for cmd in $commands; do
  run ss help "$cmd"
  check_eq "help $cmd exits 0, on stdout" "0|" "$rc|$err"
  want=$out
  printf '%s\n' "$out" >"$O/help/help-$cmd"
  [ "$cmd" = help ] && continue
  run ss "$cmd" --help
  check_eq "$cmd --help is help $cmd" "$want" "$out"
  run ss "$cmd" -h
  check_eq "$cmd -h is help $cmd" "$want" "$out"
done
run ss --full --help
check_eq "--full --help is help $default" "$(cat "$O/help/help-$default")" \
  "$out"
python3 "$CHECK" "$LIST" help "$O/help" >"$O/check"
check_rc_of "--help and help CMD say every name, argument and description, and no other option" $?
cat "$O/check"

# ---- the man page ----

python3 "$CHECK" "$LIST" man "$BUILD_ROOT/man/storysync.1.scd" >"$O/check"
check_rc_of "storysync.1: every command, option, argument and description" $?
cat "$O/check"
if command -v scdoc >/dev/null; then
  python3 "$CHECK" "$LIST" roff "$BUILD_ROOT/man/storysync.1" >"$O/check"
  check_rc_of "storysync.1 as scdoc built it names them all" $?
  cat "$O/check"
else
  skip "the built man page: no scdoc"
fi

# ---- bash: drive the completion function ----

# complete_bash WORD...: what _storysync offers, the last WORD the cursor's
complete_bash() {
  bash -c '. "$1"; shift; COMP_WORDS=(storysync "$@")
    COMP_CWORD=$#; _storysync; printf "%s\n" "${COMPREPLY[@]}"' _ \
    "$BUILD_ROOT/completions/storysync" "$@" 2>&1 | sed '/^$/d' | sort
}
# bash_words CMD: valid CMD, with NAME= beside each optional value
bash_words() {
  for name in ${VALID[${1:--}]}; do
    echo "$name"
    [ "${VALUE[$name]}" = optional ] && echo "$name="
  done | sort
}
sorted() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort; }

check_eq "bash: storysync -" "$(bash_words "")" "$(complete_bash -)"
check_eq "bash: storysync ''" "$(sorted "$commands")" "$(complete_bash '')"
check_eq "bash: storysync -C d -" "$(bash_words "")" \
  "$(complete_bash -C d -)"
check_eq "bash: storysync --full -" "$(bash_words "$default")" \
  "$(complete_bash --full -)"
check_eq "bash: storysync --backlog x -" "$(bash_words "$default")" \
  "$(complete_bash --backlog x -)"
for cmd in $commands; do
  check_eq "bash: storysync $cmd -" "$(bash_words "$cmd")" \
    "$(complete_bash "$cmd" -)"
  check_eq "bash: storysync -q -c f $cmd -" "$(bash_words "$cmd")" \
    "$(complete_bash -q -c f "$cmd" -)"
done
check_eq "bash: storysync help ''" "$(sorted "$commands")" \
  "$(complete_bash help '')"
check_eq "bash: storysync help sync ''" "" "$(complete_bash help sync '')"
mkdir "$T/adir" && touch "$T/afile"
check_eq "bash: -C offers directories" "adir" "$(complete_bash -C a)"
check_eq "bash: -c offers files" "$(printf 'adir\nafile')" \
  "$(complete_bash -c a)"
check_eq "bash: --backlog's value: nothing" "" "$(complete_bash --backlog '')"
check_eq "bash: --wait='s value: nothing" "" "$(complete_bash --wait = '')"

# ---- fish: drive it when it is here ----

fish_comp=$BUILD_ROOT/completions/storysync.fish
# summaries CMD: "NAME<tab>summary" for valid CMD, as fish lists them
summaries() {
  for name in ${VALID[${1:--}]}; do
    printf '%s\t%s\n' "$name" "$(awk -F'\t' -v n="$name" '$1 == "option" &&
      index("," $3 ",", "," n ",") { print $8 }' "$LIST" | head -n 1)"
  done | sort
}
complete_fish() {
  fish --no-config -c "source $fish_comp; complete -C '$1'" | sort
}
if command -v fish >/dev/null; then
  check_eq "fish: storysync -" "$(summaries "")" "$(complete_fish 'storysync -')"
  check_eq "fish: storysync ''" \
    "$(awk -F'\t' '$1 == "command" { print $2 "\t" $6 }' "$LIST" | sort)" \
    "$(complete_fish 'storysync ')"
  check_eq "fish: storysync --full -" "$(summaries "$default")" \
    "$(complete_fish 'storysync --full -')"
  for cmd in $commands; do
    [ "$cmd" = help ] && continue
    check_eq "fish: storysync $cmd -" "$(summaries "$cmd")" \
      "$(complete_fish "storysync -C d $cmd -")"
  done
  check_eq "fish: storysync help ''" "$(sorted "$commands")" \
    "$(complete_fish 'storysync help ' | cut -f1)"
  check_eq "fish: -C offers directories" "adir/" \
    "$(cd "$T" && complete_fish 'storysync -C a' | cut -f1)"
else
  skip "driving the fish completion: no fish"
fi

# ---- zsh: read its specs ----

if command -v zsh >/dev/null; then
  zsh -n "$BUILD_ROOT/completions/_storysync"
  check_rc_of "zsh: _storysync parses" $?
else
  skip "zsh: _storysync parses: no zsh"
fi
python3 "$CHECK" "$LIST" zsh "$BUILD_ROOT/completions/_storysync" >"$O/check"
check_rc_of "zsh: each command's options and summaries" $?
cat "$O/check"

finish
