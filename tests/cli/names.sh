#!/bin/bash
# Issue 9: hostile names from the API are refused with nothing changed, or
# read back as the same story; never a delete (the property in names.py,
# its oracle explicit lists of names to accept and to refuse).
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 30 2>/dev/null
ss init >/dev/null && ss sync >/dev/null || not_ok "import"
python3 "$SOURCE_ROOT/tests/cli/names.py"
check_eq "names.py: every case held" 0 "$?"
finish
