#!/usr/bin/env bash
# The interface has one source, the man page: every command and long option
# that --help names must be in storysync(1) and in the three completions, and
# everything in the man page's synopsis must be in --help.
#
# Run by meson with STORYSYNC (the built binary) and SOURCE_ROOT set.

set -u

: "${STORYSYNC:?STORYSYNC must name the built binary}"
: "${SOURCE_ROOT:?SOURCE_ROOT must name the source tree}"

man1=$SOURCE_ROOT/man/storysync.1.scd
bash_comp=$SOURCE_ROOT/completions/storysync.bash
zsh_comp=$SOURCE_ROOT/completions/_storysync
fish_comp=$SOURCE_ROOT/completions/storysync.fish

passed=0
failed=0

check()
{
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
		passed=$((passed + 1))
	else
		echo "FAIL: $what"
		failed=$((failed + 1))
	fi
}

finish()
{
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# A word is present when it is not part of a longer option or command name.
has_word()
{
	local word=$1 file=$2
	grep -Eq -- "(^|[^A-Za-z0-9_-])${word}([^A-Za-z0-9_-]|\$)" "$file"
}

# fish names a long option "-l name" (or --long name), never "--name".
has_fish_long()
{
	local name=${1#--}
	grep -Eq -- "(-l|--long(-option)?)[ =]['\"]?${name}['\"]?([^A-Za-z0-9_-]|\$)" \
		"$fish_comp" || has_word "$1" "$fish_comp"
}

for f in "$man1" "$bash_comp" "$zsh_comp" "$fish_comp"; do
	check "$f exists" test -r "$f"
done

help=$("$STORYSYNC" --help 2>&1)
rc=$?
check "storysync --help exits 0" test "$rc" -eq 0

# Long options: every --name in the text (--wait[=SECONDS] -> --wait).
help_opts=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
# Commands: an indented lower-case word that starts its line and stands
# alone, is followed by its arguments ([, -, an upper-case placeholder) or
# by the aligned description column (two spaces or more); a wrapped line of
# description text has one space after its first word.
help_cmds=$(grep -E -- '^[[:space:]]+[a-z][a-z0-9-]*([[:space:]]*$|[[:space:]]{2,}|[[:space:]]+[][A-Z<-])' \
	<<<"$help" | awk '{ print $1 }' | grep -vxE 'storysync|usage' |
	sort -u)

check "--help names long options" test -n "$help_opts"
check "--help names commands" test -n "$help_cmds"
echo "# options in --help: $(echo $help_opts)"
echo "# commands in --help: $(echo $help_cmds)"

for word in $help_opts $help_cmds; do
	check "$word in storysync.1.scd" has_word "$word" "$man1"
	check "$word in storysync.bash" has_word "$word" "$bash_comp"
	check "$word in _storysync" has_word "$word" "$zsh_comp"
	case $word in
	--*) check "$word in storysync.fish" has_fish_long "$word" ;;
	*) check "$word in storysync.fish" has_word "$word" "$fish_comp" ;;
	esac
done

# The synopsis: bold words (*word*) between "# SYNOPSIS" and the next
# section, other than the program's own name.
synopsis=$(awk '/^# /{ on = ($0 == "# SYNOPSIS"); next } on' "$man1")
syn_words=$(grep -oE '\*-{0,2}[A-Za-z][A-Za-z0-9-]*\*' <<<"$synopsis" |
	tr -d '*' | grep -vx storysync | sort -u)
check "the man page has a synopsis" test -n "$syn_words"
echo "# words in the synopsis: $(echo $syn_words)"

help_file=$(mktemp)
trap 'rm -f "$help_file"' EXIT
printf '%s\n' "$help" >"$help_file"
for word in $syn_words; do
	check "$word (man synopsis) in --help" has_word "$word" "$help_file"
done

finish
