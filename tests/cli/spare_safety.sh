#!/bin/bash
# Spare inodes (fsx.c) that must not be written into: a spare was a story
# file, and what it still carries of that story must not reach the next
# story written into it. Checked, each with two stories S-1 and S-2, an
# edit of S-1 (its inode kept as a spare) and then one of S-2 (written
# into that spare when it may be):
# - S-1's group, ACL (shared with nobody) and user attribute are not S-2's: S-2 (0640,
#   group root) is not readable by nobody:nogroup;
# - a descriptor another user opened on S-1 (0644) before does not read
#   S-2's private text; one a writer holds on S-1 does not write into S-2;
# - the spares' directory, made 0755 by someone else (git), is made
#   0700: the old text kept there is not readable by nobody;
# - a stage folder that is a bind mount of the tree's file system (one
#   st_dev, another mount) gets its edits: no spare of another mount is
#   handed to it (the swap and the rename would fail EXDEV, every run).
# The oracles: cat as nobody, the text read through the descriptors, the
# files against sed of their texts before, Python's getxattr, the run's
# exit code. Root only (chgrp, setpriv, mount).
PG_TWIN=1
if [ "$(id -u)" = 0 ] && [ -z "${SPARE_NS:-}" ] &&
  unshare -m --propagation private true 2>/dev/null; then
  exec env SPARE_NS=1 unshare -m --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  skip "needs root and setpriv"
  finish
  exit
fi
git_home
chmod 755 "$T" "$O"

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
# private: S-2 made private (0640, group root, a line of its own) and read
# in; S-1 given to the group nogroup (0640)
private() {
  chmod 0640 todo/S-1.md todo/S-2.md && chgrp nogroup todo/S-1.md &&
    printf 'PRIVATE-LINE\n' >>todo/S-2.md && ss -q
}
# shared FILE: FILE given to the user nobody too, by an ACL (user::rw-
# user:nobody:r-- group::r-- mask::r-- other::---)
shared() {
  python3 - "$1" <<'PY'
import os, pwd, struct, sys
e = lambda tag, perm, id=0xFFFFFFFF: struct.pack("<HHI", tag, perm, id)
nobody = pwd.getpwnam("nobody").pw_uid
os.setxattr(sys.argv[1], "system.posix_acl_access",
            struct.pack("<I", 2) + e(1, 6) + e(2, 4, nobody) + e(4, 4) +
            e(0x10, 4) + e(0x20, 0))
PY
}
acl() {
  python3 -c '
import os, sys
try: os.getxattr(sys.argv[1], "system.posix_acl_access"); print("acl")
except OSError: print("none")' "$1"
}
reads() { as_nobody cat "$1" 2>/dev/null | grep -q PRIVATE && echo read || echo denied; }

# S-1's group, then its ACL
two_stories owner
private
check_eq "control: nobody reads S-1 (its group), not S-2" "read|denied" \
  "$(as_nobody cat todo/S-1.md >/dev/null 2>&1 && echo read)|$(reads todo/S-2.md)"
edit S-1 "New S-1"
edit S-2 "New S-2"
check_eq "S-2 written, its mode and group kept (0640, root)" \
  "0|title: New S-2|640 0" \
  "$rc|$(grep '^title:' todo/S-2.md)|$(stat -c '%a %g' todo/S-2.md)"
check_eq "nobody cannot read S-2 (S-1's group)" denied "$(reads todo/S-2.md)"
shared todo/S-1.md
check_eq "control: S-1 has an ACL" acl "$(acl todo/S-1.md)"
edit S-1 "Again S-1"
edit S-2 "Again S-2"
check_eq "S-2 written again, its mode and group kept" \
  "0|title: Again S-2|640 0" \
  "$rc|$(grep '^title:' todo/S-2.md)|$(stat -c '%a %g' todo/S-2.md)"
check_eq "S-2 has no ACL (S-1's)" none "$(acl todo/S-2.md)"
check_eq "nobody cannot read S-2 (S-1's ACL)" denied "$(reads todo/S-2.md)"
# S-1's own attribute (a user's tag): not S-2's
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.tag", b"S-1 only")' todo/S-1.md
edit S-1 "Tagged S-1"
edit S-2 "Tagged S-2"
check_eq "S-2 written with no attribute of S-1's" "0|title: Tagged S-2|[]" \
  "$rc|$(grep '^title:' todo/S-2.md)|$(python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' todo/S-2.md)"

# descriptors held on S-1 from before: nobody's reader, our writer
two_stories fds
chmod 0600 todo/S-2.md && printf 'PRIVATE-LINE\n' >>todo/S-2.md && ss -q
mkfifo -m 666 "$O/ready" "$O/go"
as_nobody bash -c 'exec 3<todo/S-1.md; echo >"$1"; read -r x <"$2"; cat <&3' \
  _ "$O/ready" "$O/go" >"$O/leaked" 2>&1 &
reader=$!
read -r _ <"$O/ready"
exec 3<>todo/S-1.md
cp todo/S-2.md "$O/S-2.before"
edit S-1 "New S-1"
edit S-2 "New S-2"
printf 'WRITTEN THROUGH S-1\n' >&3
exec 3>&-
echo >"$O/go"
wait "$reader"
check_eq "S-2 holds its edit alone, not the writer's text" \
  "$(sed 's/^title: T2$/title: New S-2/' "$O/S-2.before")" "$(cat todo/S-2.md)"
check_eq "nobody's descriptor on S-1 does not read S-2" no \
  "$(grep -q PRIVATE-LINE "$O/leaked" && echo yes || echo no)"

# the spares' directory made 0755 by another (a branch that tracks a file
# there, checked out): made 0700, the old text of a story kept there is
# not readable by nobody
two_stories mode
printf 'OLD-SECRET-LINE\n' >>todo/S-1.md && ss -q
rr=$(run_record)
spare=${rr%.run}.spare
mkdir -m 0755 "$spare" && : >"$spare/README"
edit S-1 "New S-1"
sed -i '/OLD-SECRET-LINE/d' todo/S-1.md && ss -q
check_eq "the spares' directory made by another: made 0700" \
  "0|700|1" "$rc|$(stat -c %a "$spare")|$(
    grep -l OLD-SECRET-LINE "$spare"/* | wc -l)"
check_eq "nobody cannot read the old text kept there" no \
  "$(as_nobody sh -c 'cat "$1"/*' _ "$spare" 2>/dev/null |
    grep -q OLD-SECRET && echo yes || echo no)"

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
