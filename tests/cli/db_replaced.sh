#!/bin/bash
# Issue 19 (review8's db_from_git.sh): the SQLite database lies in an
# ignored directory of the tree, and git overwrites an ignored file when a
# commit it checks out (merges, resets to) tracks that path. A branch that
# force-adds .storysync/stories.db replaced the checkout's database whole:
# the API's row written since the last run went with it, and the next run
# synced against the branch's database as the truth, exit 0. The run
# record keeps which file the last run synced (device, inode, birth time:
# ext4 gives git's new file the inode just freed); a run that finds
# another file there, in the same tree, is refused before it opens it,
# exit 4, saying what happened and what to do; nothing is written. init
# takes the database there as it is; the run after it reads git's index
# once and refuses a database git tracks. A copy of the whole tree is a
# pair of its own. The oracles: sqlite3 on the file, git, the file system.
# SQLite's own: a server's database is no file git can replace.
. "$(dirname "$0")/lib.sh"

git_home
# another checkout, whose database a branch force-adds
mkdir -p "$T/up" && cd "$T/up" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "the other checkout"
git checkout -q -b evil && git add -f "$DB" && git commit -qm "the database" &&
  git checkout -q main || not_ok "the branch"

# this checkout, synced; the API writes a row, not yet synced
cd "$T" && git clone -q up tree && cd tree || exit 1
ss init -q && ss -q || not_ok "this checkout"
q "INSERT INTO stories(id, title) VALUES ('API-1', 'the API wrote this')"
cp "$DB" "$O/backup.db"
git checkout -q -t origin/evil
check_eq "git put the branch's file in place: the API's row is not in it" \
  "yes|0" \
  "$(git ls-files --error-unmatch "$DB" >/dev/null && echo yes)|$(q "SELECT count(*) FROM stories WHERE id = 'API-1'")"
db=$(db_digest)
files=$(tree_digest backlog refinements)
msg="storysync: $T/tree/$DB: git tracks this file, storysync's database, and put its copy in place of the one the last run here synced (a checkout, merge or reset of a commit that tracks it): the rows the API wrote since that run are not in it; nothing written: untrack it (git rm --cached, and commit), put back the database this checkout synced (a backup), then run 'storysync init' here (without the backup: init syncs with git's copy as it is)"
run ss
check_eq "the run is refused: exit 4, what happened and what to do" \
  "4|$msg" "$rc|$err"
for o in --full --git --force; do
  run ss sync $o
  check_eq "sync $o: refused the same" "4|$msg" "$rc|$err"
done
run ss status
check_eq "status: refused (exit 4), and why" \
  "4|yes" "$rc|$(grep -qF "${msg#storysync: }" <<<"$out" && echo yes)"
check_eq "nothing written to the database nor the tree" "$db|$files" \
  "$(db_digest)|$(tree_digest backlog refinements)"

# untracked: still not the file the last run synced
git rm -q --cached "$DB" && git commit -qm "untracked"
msg="storysync: $T/tree/$DB: not the database file the last run here synced (another file took its place since: git's, a backup's, a copy's), and the rows the API wrote since that run may not be in it; nothing written: put back the database this checkout synced (a backup) and run 'storysync init' here, or run it to sync with this one as it is"
run ss
check_eq "untracked, git's copy still there: refused, exit 4" "4|$msg" \
  "$rc|$err"
# the backup put back (into git's file): init takes it, nothing lost
cp "$O/backup.db" "$DB"
run ss
check_eq "the backup put back: still another file than the one synced" \
  "4|$msg" "$rc|$err"
check_eq "nothing written" "$files" "$(tree_digest backlog refinements)"
ss init -q
run ss
check_eq "after init: the run goes on, the API's row gets its file" \
  "0|title: the API wrote this|the API wrote this" \
  "$rc|$(grep -h '^title:' refinements/API-1-*.md)|$(q "SELECT title FROM stories WHERE id = 'API-1'")"
run ss
check_eq "and the next run is quiet" "0|" "$rc|$out$err"

# a database this checkout force-adds: the next run after init reads
# git's index, and refuses it
git add -f "$DB" && git commit -qm "the database again"
ss init -q
q "UPDATE stories SET title = 'API edit' WHERE id = 'S-1'"
msg="storysync: $T/tree/$DB: git tracks this file, storysync's database: a checkout, merge or reset of a commit that tracks it puts git's copy in its place, without the rows the API wrote since the last run; nothing written: untrack it (git rm --cached, and commit), then run 'storysync init' here"
run ss
check_eq "init, a database git tracks: the run refuses it, exit 4" \
  "4|$msg|title: One" "$rc|$err|$(grep '^title:' backlog/S-1-one.md)"
git rm -q --cached "$DB" && git commit -qm "untracked again"
run ss
check_eq "untracked: the run goes on, the API's edit written" \
  "0|title: API edit" "$rc|$(grep '^title:' backlog/S-1-one.md)"

# a copy of the whole tree, its database with it, is a pair of its own
copy_tree "$T/tree" "$T/copy"
q "UPDATE stories SET title = 'API copy' WHERE id = 'S-1'"
cd "$T/copy" || exit 1
run ss
check_eq "a copy of the tree: the run goes on" "0|title: API edit" \
  "$rc|$(grep '^title:' backlog/S-1-one.md)"
cd "$T/tree" || exit 1
run ss
check_eq "and the tree copied from: too" "0|title: API copy" \
  "$rc|$(grep '^title:' backlog/S-1-one.md)"

# a branch that force-adds the whole directory, the database and its run
# record: the record git puts there names the committer's tree root, not
# this one's, and is no record of this tree's: git's index is read, and
# the database git tracks refused (was exit 0, git's copy synced)
mkdir -p "$T/up2" && cd "$T/up2" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "the other checkout"
git checkout -q -b evil2 && git add -f .storysync &&
  git commit -qm "the database and its record" && git checkout -q main ||
  not_ok "the branch with the record"
cd "$T" && git clone -q up2 tree2 && cd tree2 || exit 1
ss init -q && ss -q && ss -q || not_ok "the second checkout"
q "INSERT INTO stories(id, title) VALUES ('API-2', 'the API wrote this')"
git checkout -q -t origin/evil2
check_eq "git put the branch's database and run record in place" \
  "yes|yes|0" \
  "$(git ls-files --error-unmatch "$DB" >/dev/null && echo yes)|$(git ls-files --error-unmatch "$DB.run" >/dev/null && echo yes)|$(q "SELECT count(*) FROM stories WHERE id = 'API-2'")"
db=$(db_digest)
files=$(tree_digest backlog)
msg="storysync: $T/tree2/$DB: git tracks this file, storysync's database: a checkout, merge or reset of a commit that tracks it puts git's copy in its place, without the rows the API wrote since the last run; nothing written: untrack it (git rm --cached, and commit), then run 'storysync init' here"
run ss
check_eq "git's record too: the run refuses git's database, exit 4" \
  "4|$msg|$db|$files" "$rc|$err|$(db_digest)|$(tree_digest backlog)"

# the tree and its database in an overlayfs lower layer (a container's
# image): the first run stats the lower's file, and opening it copies it
# up (the inode kept, another birth time); the next run is not refused
# (was exit 4 on every container's second run). Needs mount rights.
mkdir -p "$T/lower" "$T/upper" "$T/work" "$T/merged"
mkdir -p "$T/lower/t" && cd "$T/lower/t" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
synced_commit || not_ok "the image's tree"
if mount -t overlay overlay -o \
  "lowerdir=$T/lower,upperdir=$T/upper,workdir=$T/work" "$T/merged" \
  2>/dev/null; then
  cd "$T/merged/t" || exit 1
  born=$(stat -c %w "$DB")
  run ss
  check_eq "overlay: the first run, the file copied up (another birth)" \
    "0|yes" "$rc|$([ "$(stat -c %w "$DB")" != "$born" ] && echo yes)"
  q "UPDATE stories SET title = 'API overlay' WHERE id = 'S-1'"
  run ss
  check_eq "overlay: the next run goes on, the API's edit written" \
    "0||title: API overlay" "$rc|$err|$(grep '^title:' backlog/S-1-one.md)"
  cd "$T" && umount "$T/merged"
else
  skip "overlayfs: no mount rights here"
fi

# a database outside the tree on a file system that another mount numbers
# anew (NFS, a btrfs subvolume, a disk: st_dev is the mount's), simulated
# by one ext4 image mounted through another loop device: the same file
# (inode, birth time), another device; not refused (was exit 4)
if truncate -s 16M "$T/img" && mkfs.ext4 -q "$T/img" 2>/dev/null &&
  mkdir -p "$T/mnt" && l1=$(losetup -f --show "$T/img" 2>/dev/null) &&
  mount "$l1" "$T/mnt" 2>/dev/null; then
  mkdir -p "$T/far" && cd "$T/far" || exit 1
  git init -q . && mkdir backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
  printf 'database: %s\n' "$T/mnt/stories.db" >.storysync.local.yml
  synced_commit && ss -q || not_ok "the tree with its database far"
  dev=$(stat -c %d "$T/mnt/stories.db")
  umount "$T/mnt" && l2=$(losetup -f --show "$T/img") && losetup -d "$l1" &&
    mount "$l2" "$T/mnt" || not_ok "mounted again"
  DB=$T/mnt/stories.db
  q "UPDATE stories SET title = 'API far' WHERE id = 'S-1'"
  run ss
  check_eq "mounted again, another device number: the run goes on" \
    "yes|0||title: API far" \
    "$([ "$(stat -c %d "$DB")" != "$dev" ] && echo yes)|$rc|$err|$(grep '^title:' backlog/S-1-one.md)"
  cd "$T" && umount "$T/mnt" && losetup -d "$l2"
else
  skip "loop devices: no rights here"
fi

# the checkout's own .storysync, a link to another disk: the versioned
# file may not set a database through it, .storysync.local.yml may (as
# the message says); its side files (lock, journal, run record, stat
# cache) are where the link leads, as the database's (was exit 3: "Too
# many levels of symbolic links", every run)
mkdir -p "$T/linked" "$O/disk" && cd "$T/linked" || exit 1
git init -q . && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
ln -s "$O/disk" .storysync
printf 'database: .storysync/stories.db\n' >.storysync.local.yml
printf '.storysync\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm linked
ss init -q
run ss
check_eq "linked .storysync, set locally: a run" "0|" "$rc|$err"
DB=$O/disk/stories.db
q "UPDATE stories SET title = 'API linked' WHERE id = 'S-1'"
run ss
check_eq "and the next: the API's edit written, the record on the disk" \
  "0||title: API linked|yes" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)|$([ -s "$O/disk/stories.db.run" ] && echo yes)"

# git's split index (core.splitIndex), which libgit2 cannot read: the
# first run after init, no file recorded, cannot ask the index; it takes
# the file, recording it (was exit 3 on every run: none ever recorded it)
mkdir -p "$T/split" && cd "$T/split" || exit 1
git init -q . && git config core.splitIndex true && mkdir backlog
printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >backlog/S-1-one.md
ss init -q
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm split
DB=.storysync/stories.db
run ss
check_eq "a split index: the first run after init goes on" "yes|0|" \
  "$(ls .git/sharedindex.* >/dev/null 2>&1 && echo yes)|$rc|$err"
q "UPDATE stories SET title = 'API split' WHERE id = 'S-1'"
run ss
check_eq "and the next, the API's edit written" "0||title: API split" \
  "$rc|$err|$(grep '^title:' backlog/S-1-one.md)"
finish
