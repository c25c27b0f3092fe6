#!/bin/bash
# A temporary file the batch's writer threads fail to write (fchmod of
# each fails with EIO, strace --inject: fchmod is the call only a
# temporary file that replaces a story makes): each of the three API edits
# is left for the next run with the file's name and the error, nothing is
# moved (the third edit also moves its file), no temporary file is left,
# the files are as they were and the rows keep the edits; the next run
# writes them. The oracles: md5sum and ls of the files, grep of their
# keys, the rows read by sqlite3 (psql: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
git_home
stages_repo staged todo:todo done:done
for n in 1:one 2:two 3:three; do
  printf -- '---\nid: S-%s\ntitle: T%s\nstatus: todo\n---\nbody\n' \
    "${n%%:*}" "${n%%:*}" >"todo/S-${n%%:*}-${n#*:}.md"
done
synced_commit
before=$(md5sum todo/*.md)
q "UPDATE stories SET title = 'New ' || id WHERE id IN ('S-1', 'S-2')"
q "UPDATE stories SET title = 'New S-3', status = 'done' WHERE id = 'S-3'"

# LeakSanitizer cannot run under ptrace
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 run strace -f -qq \
  -o /dev/null -e trace=fchmod -e inject=fchmod:error=EIO \
  "$STORYSYNC" sync
check_eq "the run ends with an error" 1 "$([ "$rc" != 0 ] && echo 1)"
for f in todo/S-1-one.md todo/S-2-two.md done/S-3-three.md; do
  check_contains "the error names $f" "$f: Input/output error" "$err"
done
check_eq "the files as they were, none moved" "$before" "$(md5sum todo/*.md)"
check_eq "nothing in done/" "" "$(ls -A done)"
check_eq "no temporary file left" "" \
  "$(find . -path ./.git -prune -o -name '*.storysync-*' -print)"
check_eq "the rows keep the edits" "New S-1|New S-2|New S-3 done" \
  "$(q "SELECT title || CASE WHEN status = 'done' THEN ' done' ELSE '' END
    FROM stories ORDER BY id" | tr '\n' '|' | sed 's/|$//')"

run ss -q
check_eq "the next run writes them" \
  "0|title: New S-1|title: New S-2|title: New S-3|status: done" \
  "$rc|$(grep -h '^title:' todo/S-1-one.md todo/S-2-two.md done/S-3-three.md |
    tr '\n' '|')$(grep '^status:' done/S-3-three.md)"
check_eq "the third moved" "S-1-one.md S-2-two.md" "$(ls todo | tr '\n' ' ' |
  sed 's/ $//')"
finish
