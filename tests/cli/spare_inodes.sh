#!/bin/bash
# Spare inodes (fsx.c, issue 26): the files a sync's writes replace are
# kept in DATABASE.spare/ (on a server, .storysync/server.spare/), each
# named after its inode and mtime, and the next sync writes its files
# into them and swaps them in (renameat2 RENAME_EXCHANGE): no inode made
# or freed an edit. Checked: the replaced inodes are kept under those
# names and reused by the next run, whose files hold exactly the text
# (a long spare cut to a short story); a spare that is not one is never
# written through (a hard link to a story, a symlink out of the tree, a
# copy's file named after another inode, which is removed, the spare
# directory a symlink out of the tree); a run killed between a swap and
# its spare's keeping leaves a temporary file the next run removes, and
# converges. The oracles: stat's inodes and times, md5sum, sed of the
# files as they were, the rows read by sqlite3 (psql: a twin).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
stages_repo spares todo:todo done:done
long=$(python3 -c 'print("long body line\n" * 2000, end="")')
printf -- '---\nid: S-1\ntitle: T1\nstatus: todo\n---\n%s\n' "$long" \
  >todo/S-1-one.md
for n in 2:two 3:three 4:four; do
  printf -- '---\nid: S-%s\ntitle: T%s\nstatus: todo\n---\nbody\n' \
    "${n%%:*}" "${n%%:*}" >"todo/S-${n%%:*}-${n#*:}.md"
done
synced_commit
rr=$(run_record)
spare=$T/spares/${rr%.run}.spare
files="todo/S-1-one.md todo/S-2-two.md todo/S-3-three.md"

# inodes PATH...: their inode numbers, sorted
inodes() { stat -c %i "$@" | sort -n | tr '\n' ' '; }
# spare_names DIR: "ok" when each entry of DIR is named after its inode
# and mtime (hex inode, hex seconds, nine digits of nanoseconds)
spare_names() {
  python3 - "$1" <<'PY'
import os, sys
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    st = os.lstat(os.path.join(d, n))
    want = "%x-%x.%09d" % (st.st_ino, st.st_mtime_ns // 10**9,
                          st.st_mtime_ns % 10**9)
    if n != want:
        sys.exit(print(f"{n}: expected {want}"))
print("ok")
PY
}
# spare_of PATH: the name a spare with PATH's inode and mtime has
spare_of() {
  python3 -c 'import os, sys; st = os.lstat(sys.argv[1])
print("%x-%x.%09d" % (st.st_ino, st.st_mtime_ns // 10**9,
                      st.st_mtime_ns % 10**9))' "$1"
}

# the first edits: the replaced files kept, under their names
old=$(inodes $files)
long1=$(stat -c %i todo/S-1-one.md)
q "UPDATE stories SET title = 'New ' || id WHERE id IN ('S-1', 'S-2', 'S-3')"
run ss -q
check_eq "the first run writes the edits" "0|title: New S-1|title: New S-2|title: New S-3|" \
  "$rc|$(grep -h '^title:' $files | tr '\n' '|')"
check_eq "the replaced files are the spares" "$old" "$(inodes "$spare"/*)"
check_eq "each spare named after its inode and mtime" ok \
  "$(spare_names "$spare")"
check_eq "no temporary file left" "" \
  "$(find . -path ./.git -prune -o -name '*.storysync-*' -print)"

# the next edits: written into the spares, the files they replace kept;
# the one spare left is the long story's first inode, which a short
# story takes, cut to its length
for f in "$spare"/*; do
  [ "$(stat -c %i "$f")" = "$long1" ] || rm "$f"
done
two="todo/S-2-two.md todo/S-3-three.md"
now=$(inodes $two)
mkdir "$O/before" && cp $two "$O/before/"
q "UPDATE stories SET title = 'Again ' || id WHERE id IN ('S-2', 'S-3')"
run ss -q
check_eq "the next run ends well" 0 "$rc"
check_eq "the long spare holds a short story now" yes \
  "$(inodes $two | grep -qw "$long1" && echo yes)"
check_eq "the files they replaced are the spares now" "$now" \
  "$(inodes "$spare"/*)"
check_eq "each spare named after its inode and mtime, again" ok \
  "$(spare_names "$spare")"
same=yes
for f in $two; do
  # the texts as they were, the title alone changed
  [ "$(sed "s/^title: New /title: Again /" "$O/before/${f#todo/}" | md5sum)" = \
    "$(md5sum <"$f")" ] || same="no: $f"
done
check_eq "each file holds its text exactly" yes "$same"
check_eq "the rows as the API left them" "New S-1|Again S-2|Again S-3|T4" \
  "$(q "SELECT title FROM stories ORDER BY id" | tr '\n' '|' | sed 's/|$//')"

# spares that are none: a hard link to a story, a symlink out of the tree
# and a copy's file (another inode's name), each named as a spare; none is
# written through, the copy's is removed
rm -f "$spare"/*
ln todo/S-4-four.md "$spare/$(spare_of todo/S-4-four.md)"
printf 'victim\n' >"$O/victim"
ln -s "$O/victim" "$spare/$(spare_of "$O/victim")"
cp -p todo/S-3-three.md "$O/copy"
copyname=$(spare_of "$O/copy")
cp -p "$O/copy" "$spare/$copyname"
s4=$(md5sum todo/S-4-four.md)
q "UPDATE stories SET title = 'Third ' || id WHERE id IN ('S-1', 'S-2', 'S-3')"
run ss -q
check_eq "spares that are none: the run ends well" 0 "$rc"
check_eq "spares that are none: the files written" \
  "title: Third S-1|title: Third S-2|title: Third S-3|" \
  "$(grep -h '^title:' $files | tr '\n' '|')"
check_eq "a hard link to a story is not written through" "$s4" \
  "$(md5sum todo/S-4-four.md)"
check_eq "a symlink out of the tree is not followed" "victim" \
  "$(cat "$O/victim")"
check_eq "the symlink is left a symlink" yes \
  "$([ -L "$spare/$(spare_of "$O/victim")" ] && echo yes)"
check_eq "a copy's file named after another inode is removed" "" \
  "$(ls "$spare" | grep -x "$copyname")"

# the spare directory a symlink out of the tree: nothing written there
rm -rf "$spare"
mkdir "$O/away"
printf 'away\n' >"$O/away/file"
ln -s "$O/away" "$spare"
mv "$O/away/file" "$O/away/$(spare_of "$O/away/file")"
away=$(cd "$O/away" && ls -l --time-style=+%s.%N && md5sum *)
q "UPDATE stories SET title = 'Fourth ' || id WHERE id IN ('S-1', 'S-2')"
run ss -q
check_eq "the spare directory a symlink: the run ends well" \
  "0|title: Fourth S-1|title: Fourth S-2|" \
  "$rc|$(grep -h '^title:' todo/S-1-one.md todo/S-2-two.md | tr '\n' '|')"
check_eq "the spare directory a symlink: nothing changed there" "$away" \
  "$(cd "$O/away" && ls -l --time-style=+%s.%N && md5sum *)"
rm "$spare"

# killed between a swap and its spare's keeping: first with a temporary
# file made (no spare yet), then with a spare; each time the next runs
# converge to what a run not killed gives
cd "$T" || exit 1
for kind in made spare; do
  drop_tree "k-$kind" && copy_tree spares "k-$kind"
  (cd "k-$kind" && rm -rf "${rr%.run}.spare" &&
    if [ $kind = spare ]; then
      q "UPDATE stories SET title = 'Warm ' || id WHERE id = 'S-2'" &&
        ss -q
    fi &&
    q "UPDATE stories SET title = 'Killed ' || id WHERE id IN ('S-1', 'S-2')")
  drop_tree "w-$kind" && copy_tree "k-$kind" "w-$kind"
  (cd "w-$kind" && ss -q)
  want=$(tree_state "w-$kind")
  (cd "k-$kind" && STORYSYNC_TEST_KILL=swapped "$STORYSYNC" -q sync \
    >/dev/null 2>&1)
  check_eq "killed at a swap ($kind): the run was killed" 137 "$?"
  if [ $kind = made ]; then
    # made in the spares' directory, out of git's sight (issue 19)
    check_eq "killed at a swap (made): a temporary file holds the old text" \
      "title: Fourth S-1|" "$(cd k-made && cat "${rr%.run}".spare/.S-1-one.md.storysync-* |
        grep '^title:')|$(cd k-made && git status --porcelain -uall | grep storysync-)"
  fi
  if settle "k-$kind" && [ "$state" = "$want" ]; then
    ok "killed at a swap ($kind): the runs after converge"
  else
    not_ok "killed at a swap ($kind): the runs after converge" \
      "${why:-$(diff <(echo "$state") <(echo "$want") | head -5)}"
  fi
done
finish
