#!/bin/bash
# Issue 2: bad input is refused with path:line:col and a clear message, the
# story is skipped (exit 1), its last good row is kept, and nothing else is
# lost.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

"$GEN_STORIES" . --count 20 2>/dev/null
ss init >/dev/null
run ss sync
check_rc "import" 0
d=stories/platform/backlog
mkdir -p $d

story() { printf -- '---\nid: %s\ntitle: %s\n---\nbody\n' "$1" "$2"; }

# Each bad file next to the good ones, one at a time.
expect_refused() { # DESC FILE MESSAGE
  local before
  before=$(q 'SELECT count(*) FROM stories')
  run ss sync
  check_eq "$1: exit 1 and the exact message" "1|$3" "$rc|$err"
  check_eq "$1: the good stories are all still there" "$before" \
    "$(q 'SELECT count(*) FROM stories')"
  run ss sync
  check_eq "$1: reported again on the next run" "1|$3" "$rc|$err"
  rm -rf "$2"
}

{ printf -- '---\nid: BIG-1\ntitle: big\nx: "'; head -c 70000 /dev/zero | tr '\0' a; printf '"\n---\n'; } > $d/BIG-1-big.md
expect_refused "frontmatter over 64 KiB" $d/BIG-1-big.md \
  "$d/BIG-1-big.md:1:1: frontmatter larger than 64 KiB"

{ printf -- '---\nid: DEEP-1\ntitle: deep\nx: '; head -c 60000 /dev/zero | tr '\0' '['; printf '\n---\n'; } > $d/DEEP-1-deep.md
expect_refused "60k nested [ inside 64 KiB" $d/DEEP-1-deep.md \
  "$d/DEEP-1-deep.md:4:67: nesting deeper than 64 levels"
# the root mapping is level 1: the 64th '[' is level 65
{ printf -- '---\nid: DEEP-2\ntitle: deep\nx: '; head -c 65 /dev/zero | tr '\0' '['; printf '\n---\n'; } > $d/DEEP-2-deep.md
expect_refused "nesting deeper than 64" $d/DEEP-2-deep.md \
  "$d/DEEP-2-deep.md:4:67: nesting deeper than 64 levels"

printf -- '---\nid: ALI-1\ntitle: &t alias\nother: *t\n---\n' > $d/ALI-1-alias.md
expect_refused "YAML alias" $d/ALI-1-alias.md \
  "$d/ALI-1-alias.md:4:8: YAML aliases are not allowed"

printf -- '---\nid: UTF-1\ntitle: caf\xe9\n---\n' > $d/UTF-1-bad.md
expect_refused "invalid UTF-8" $d/UTF-1-bad.md \
  "$d/UTF-1-bad.md:3:11: invalid UTF-8"

printf -- '---\nid: CTL-1\ntitle: bell\a\n---\n' > $d/CTL-1-bell.md
expect_refused "control character" $d/CTL-1-bell.md \
  "$d/CTL-1-bell.md:3:12: control character U+0007"

printf -- '---\nid: GIT-1\n<<<<<<< HEAD\ntitle: ours\n=======\ntitle: theirs\n>>>>>>> branch\n---\n' > $d/GIT-1-conflict.md
expect_refused "git conflict markers" $d/GIT-1-conflict.md \
  "$d/GIT-1-conflict.md:3:1: git conflict marker"

ln -s /etc/passwd $d/LNK-1-link.md
expect_refused "a symlink is reported, not read" $d/LNK-1-link.md \
  "$d/LNK-1-link.md: symbolic link; not followed"

mkdir $d/DIR-1-dir.md
expect_refused "a directory named x.md" $d/DIR-1-dir.md \
  "$d/DIR-1-dir.md: a directory, not a story file"

: > $d/EMP-1-empty.md
expect_refused "an empty file" $d/EMP-1-empty.md \
  "$d/EMP-1-empty.md:1:1: empty file"

printf -- '---\n- a\n- b\n---\n' > $d/SEQ-1-list.md
expect_refused "frontmatter that is not a mapping" $d/SEQ-1-list.md \
  "$d/SEQ-1-list.md:2:1: frontmatter is not a mapping"

printf -- '---\nid: DUP-1\ntitle: one\ntitle: two\n---\n' > $d/DUP-1-dup.md
expect_refused "a duplicate key" $d/DUP-1-dup.md \
  "$d/DUP-1-dup.md:4:1: duplicate key 'title'"

printf -- '---\nid: NOT-1\n---\n' > $d/NOT-1-title.md
expect_refused "no title" $d/NOT-1-title.md \
  "$d/NOT-1-title.md:1:1: missing required key 'title'"

# two files that claim one id: both reported, neither takes the row
f=$(q "SELECT path FROM stories ORDER BY id LIMIT 1")
id=$(q "SELECT id FROM stories ORDER BY id LIMIT 1")
row=$(q "SELECT * FROM stories WHERE id='$id'")
story "$id" "An impostor" > $d/ZZZ-1-twin.md
run ss sync
check_rc "two files with one id: exit 1" 1
check_contains "the new file is reported" "$d/ZZZ-1-twin.md: id '$id' is also claimed by $f" "$err"
check_contains "the old file is reported" "$f: id '$id' is also claimed by $d/ZZZ-1-twin.md" "$err"
check_eq "neither takes the other's row" "$row" "$(q "SELECT * FROM stories WHERE id='$id'")"
rm $d/ZZZ-1-twin.md

# ---- bounded reads (issue 9): refused from the size, before a read ----
rss_of() { # CMD...: peak RSS in KiB of a run
  /usr/bin/time -f %M -o "$O/rss" "$@" >/dev/null 2>&1
  tail -n 1 "$O/rss"
}
base_rss=$(rss_of "$STORYSYNC" sync --full)
{ printf -- '---\nid: HUGE-1\ntitle: huge\n'; } >$d/HUGE-1-huge.md
truncate -s 1G $d/HUGE-1-huge.md
huge_rss=$(rss_of "$STORYSYNC" sync --full)
if [ "$huge_rss" -lt $((base_rss + 16384)) ]; then
  ok "a 1 GiB file costs under 16 MiB more ($huge_rss KiB against $base_rss)"
else
  not_ok "a 1 GiB file costs under 16 MiB more" "$huge_rss KiB against $base_rss"
fi
expect_refused "a 1 GiB sparse file that never closes its frontmatter" \
  $d/HUGE-1-huge.md \
  "$d/HUGE-1-huge.md: larger than 4194304 bytes (max_file_size); not read"
{ printf -- '---\nid: TEN-1\ntitle: ten\nx: "'
  head -c 10000000 /dev/zero | tr '\0' a; printf '"\n---\n'; } >$d/TEN-1-ten.md
expect_refused "a 10 MB frontmatter" $d/TEN-1-ten.md \
  "$d/TEN-1-ten.md: larger than 4194304 bytes (max_file_size); not read"
printf 'max_file_size: 2KiB\n' >>.storysync.yml
{ story BIG-2 "two kilobytes"; head -c 3000 /dev/zero | tr '\0' b; } >$d/BIG-2-two.md
expect_refused "max_file_size from the configuration" $d/BIG-2-two.md \
  "$d/BIG-2-two.md: larger than 2048 bytes (max_file_size); not read"
sed -i '/^max_file_size:/d' .storysync.yml

# ---- a stage directory replaced by a symlink (issue 9) ----
before=$(q "SELECT id, path FROM stories ORDER BY id")
mv stories/mobile/active "$O/active"
ln -s "$O/active" stories/mobile/active
msg="stories/mobile/active: a symbolic link (or a path through one); not followed, its stories left as they are"
run ss sync
check_eq "a symlinked stage directory is reported at once" "1|$msg" "$rc|$err"
run ss sync
check_eq "and on every run" "1|$msg" "$rc|$err"
check_eq "its stories are neither read nor deleted" "$before" \
  "$(q "SELECT id, path FROM stories ORDER BY id")"
find "$O/active" -name "*.md" -exec touch {} +
run ss sync --full
check_eq "not even when a file below it changes, nor with --full" "1|$msg" \
  "$rc|$err"
rm stories/mobile/active && mv "$O/active" stories/mobile/active
run ss sync
check_eq "the directory back: all is well" "0|" "$rc|$err"

# a file that stops parsing keeps its last good row
g=$(q "SELECT path FROM stories ORDER BY id LIMIT 1 OFFSET 3")
gid=$(q "SELECT id FROM stories WHERE path='$g'")
grow=$(q "SELECT * FROM stories WHERE id='$gid'")
cp "$g" good.copy
printf -- '---\ntitle: [unclosed\n---\n' > "$g"
run ss sync
check_rc "a broken file: exit 1" 1
check_eq "it is reported with its position" "$g:2:8: 'title' must be a scalar" "$err"
check_eq "its last good row is kept" "$grow" "$(q "SELECT * FROM stories WHERE id='$gid'")"
run ss sync
check_rc "and it is reported on every run until fixed" 1
cp good.copy "$g"
run ss sync
check_eq "fixed: nothing lost, nothing to report" "0|" "$rc|$err"
check_eq "20 stories" 20 "$(q 'SELECT count(*) FROM stories')"
finish
