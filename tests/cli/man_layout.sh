#!/bin/bash
# Issue 25: the man pages as groff sets them. storysync(1)'s status
# verdicts are a list, one verdict a line, not one run-on paragraph; the
# tables of storysync-db(7) are left-aligned (tbl's column format l, not
# c, which centred the meaning column).
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?run through meson test}"
man1=$BUILD_ROOT/man/storysync.1
man7=$BUILD_ROOT/man/storysync-db.7

if ! command -v scdoc >/dev/null || ! command -v groff >/dev/null; then
  ok "# skip: no scdoc or no groff"
  finish
  exit
fi
groff -man -Tutf8 -rLL=100n "$man1" 2>/dev/null | col -bx >"$O/man1"
for v in "failing: the last 3 runs failed" "refused: a guard has held since" \
  "stale: no successful run for" "permission: this user runs the sync" \
  "attention: 2 open conflicts" "healthy: last run 12 s ago"; do
  check_eq "storysync(1): '$v' starts a list item" 1 \
    "$(grep -cE "^ +• +$v" "$O/man1")"
done

# each table's format lines: from .TS to the one ending in '.'
formats=$(awk '/^\.TS/ { t = 1; next }
  t { print; if (/\.$/) t = 0 }' "$man7")
check_eq "storysync-db(7) has tables" 1 \
  "$([ "$(grep -c . <<<"$formats")" -gt 10 ] && echo 1)"
check_eq "every column of every table is left-aligned" "" \
  "$(sed 's/^allbox;//; s/\.$//' <<<"$formats" | tr -d ' l' | sort -u)"
groff -t -man -Tutf8 -rLL=100n "$man7" 2>/dev/null | col -bx >"$O/man7"
heads=$(grep -oE '│ +(Meaning|Columns and meaning) ' "$O/man7")
check_eq "each table's meaning head is at its column's left edge" \
  "11 0" "$(grep -c . <<<"$heads") $(grep -c '│  ' <<<"$heads")"

finish
