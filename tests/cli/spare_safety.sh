#!/bin/bash
# Spare inodes (fsx.c) that must not be written into: a spare was a story
# file, and what it still carries of that story must not reach the next
# story written into it. Checked, each with stories S-1 and S-2, an edit
# of S-1 (its inode kept as a spare) and then one of S-2 (written into
# that spare when it may be):
# - a stage folder that is a bind mount of the tree's file system (one
#   st_dev, another mount) gets its edits: no spare of another mount is
#   handed to it (the swap and the rename would fail EXDEV, every run).
# The oracles: the files' title lines, the run's exit code and stderr.
# Root only (mount, in a mount namespace of its own).
PG_TWIN=1
if [ "$(id -u)" = 0 ] && [ -z "${SPARE_NS:-}" ] &&
  unshare -m --propagation private true 2>/dev/null; then
  exec env SPARE_NS=1 unshare -m --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
  skip "needs root"
  finish
  exit
fi
git_home

# two_stories DIR [MOUNT]: a synced tree at $T/DIR with S-1 and S-2 in
# todo/ (a bind mount of $O/MOUNT-todo when MOUNT is set) and S-3 in done/
two_stories() {
  stages_repo "$1" todo:todo done:done
  if [ -n "${2:-}" ]; then
    mkdir "$O/$2-todo" && mount --bind "$O/$2-todo" todo || return 1
  fi
  for n in 1:todo 2:todo 3:done; do
    printf -- '---\nid: S-%s\ntitle: T%s\nstatus: %s\n---\nbody %s\n' \
      "${n%:*}" "${n%:*}" "${n#*:}" "${n%:*}" >"${n#*:}/S-${n%:*}.md"
  done
  synced_commit
}
# edit ID TITLE: the API's edit of the story's title, then a run
edit() {
  q "UPDATE stories SET title = '$2' WHERE id = '$1'"
  run ss -q
}
# a stage folder on another mount of the same file system
cd "$T"
if [ -z "${SPARE_NS:-}" ]; then
  skip "a bind mount: no mount namespace (unshare -m)"
else
  two_stories bound bound || exit 1
  for i in 1 2; do
    # S-3's edit (done/, the tree's mount) makes a spare; S-1's is next
    edit S-3 "Run$i S-3"
    edit S-1 "Run$i S-1"
    check_eq "a bind-mounted folder, run $i: S-1 written" \
      "0||title: Run$i S-1" "$rc|$err|$(grep '^title:' todo/S-1.md)"
  done
  umount todo
fi
finish
