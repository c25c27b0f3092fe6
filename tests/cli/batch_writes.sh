#!/bin/bash
# Issue 26: the files a sync writes are batched (git's
# core.fsyncMethod=batch): every temporary file written, one barrier
# (syncfs, or the fsync of the only file), the renames, one fsync of each
# directory changed. Read from strace: no temporary file is renamed into
# place before the barrier, and every directory a rename changed is
# fsynced after its last rename (the directories' fsyncs run side by
# side, on threads: strace -f splits such calls in two lines, an
# unfinished one and its resumption, and each call counts from its start
# to its end). A run with rows changed and no file begins the file
# system's writeback ahead (a syncfs on a thread, not the barrier): its
# barrier is the syncfs that begins after the last temporary file's
# write. Then the barrier and the directory
# fsync fail (EIO, strace --inject): nothing half written is left, no
# temporary file, and the next runs converge to what a run with no fault
# gives; a failed sync_file_range (only a hint) changes nothing. A twin
# (each copy of a tree a database of its own on a server: copy_tree).
# The write journal (DATABASE.writes, or the checkout's
# .storysync/server.writes on a server) is durable before any change it
# describes: an fdatasync of it ends before the first rename (one file:
# the barrier is that file's fsync, which does not hold the journal's
# data; the database on another file system: the tree's syncfs does not
# hold it) or unlink (an API deletion: no barrier for files), and none is
# made where the barrier is a syncfs of the journal's file system; an EIO
# of that fdatasync fails the run, no file changed, and the next runs
# converge.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || { echo "strace is needed"; exit 1; }
# the fsyncs are what this tests
unset STORYSYNC_TEST_NOSYNC
traced() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace "$@"; }
calls=syncfs,fsync,fdatasync,sync_file_range,renameat,renameat2,unlinkat

make_pending
# more rows for files: a batch of several
(cd pending && q "UPDATE stories SET title = title || ' (API)'
  WHERE id IN (SELECT id FROM stories ORDER BY id LIMIT 6)" &&
  q "$(dialect "PRAGMA wal_checkpoint(TRUNCATE)" "SELECT 1")" >/dev/null)
drop_tree want && copy_tree pending want
(cd want && "$STORYSYNC" sync >/dev/null 2>&1)
want=$(tree_state want)

# the calls of an strace -f -y log, for the checks below: (call, args,
# result, start line, end line), by start (strace_calls.py)
parse_calls="
import re, sys
sys.path.insert(0, '$SOURCE_ROOT/tests/cli')
from strace_calls import calls as read_calls
calls = read_calls(sys.argv[1])
"

# order LOG: checks the order of the calls in an strace -y log; prints
# "ok" or what is wrong
order() {
  /usr/bin/python3 - "$1" <<EOF
$parse_calls
barrier = None  # the end of the first barrier begun after the last
last_rename = {}  # temporary file's write (its sync_file_range)
renames = 0
for call, args, rc, start, end in calls:
    if rc < 0:
        continue
    # a file written: a temporary file, or a spare (DATABASE.spare/)
    written = ".storysync-" in args or ".spare/" in args
    if call == "sync_file_range" and written:
        barrier = None
    elif call == "syncfs" or (call == "fsync" and written):
        barrier = end if barrier is None else min(barrier, end)
    elif call in ("renameat", "renameat2") and (
            ".storysync-" in args or "RENAME_EXCHANGE" in args):
        if barrier is None or barrier > start:
            sys.exit(print(f"a rename before the barrier: {call}({args})"))
        # both directories of a move or a swap (a spare's, a story's)
        for d in re.findall(r"\d+<([^>]*)>", args):
            last_rename[d] = end
        renames += 1
if not renames:
    sys.exit(print("no temporary file renamed"))
for call, args, rc, start, end in calls:
    d = re.match(r"\d+<([^>]*)>", args)
    if call == "fsync" and rc == 0 and d and d.group(1) in last_rename \
            and start > last_rename[d.group(1)]:
        last_rename.pop(d.group(1))
for d in last_rename:
    sys.exit(print(f"{d}: not fsynced after its last rename"))
print("ok")
EOF
}

# journal_first LOG CHANGE: "ok" when an fdatasync (or fsync) of the
# write journal ended, well, before the first CHANGE began (rename: a
# temporary file renamed into place; unlink: a story file removed), else
# what is wrong
journal_first() {
  /usr/bin/python3 - "$1" "$2" <<EOF
$parse_calls
what = sys.argv[2]
first = None
for call, args, rc, start, end in calls:
    if rc < 0:
        continue
    if (what == "rename" and call in ("renameat", "renameat2")
            and (".storysync-" in args or "RENAME_EXCHANGE" in args)) or (
            what == "unlink" and
            call == "unlinkat" and re.search(r'"[^"]*\.md"', args)):
        first = start
        break
if first is None:
    sys.exit(print(f"no {what}"))
for call, args, rc, start, end in calls:
    if call in ("fdatasync", "fsync") and rc == 0 and end < first and \\
            re.match(r"\d+<[^>]*\.writes>", args):
        sys.exit(print("ok"))
print(f"the journal not synced before the first {what}")
EOF
}
# journal_syncs LOG: how many fdatasync or fsync of the journal
journal_syncs() { grep -cE '^[0-9 ]*f(data)?sync\([0-9]+<[^>]*\.writes>' "$1"; }

# the batch: several files, one syncfs, the renames after it
drop_tree run && copy_tree pending run
(cd run && traced -f -y -qq -o "$O/trace" -e trace=$calls \
  "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "a sync writing several files renames each after the barrier" \
  ok "$(order "$O/trace")"
check_eq "one syncfs for the batch" 1 "$(grep -c '^[0-9 ]*syncfs(' "$O/trace")"
check_eq "no temporary file fsynced one by one" 0 \
  "$(grep -c '^[0-9 ]*fsync(.*\.storysync-' "$O/trace")"
state=$(tree_state run)
check_eq "the batched run gives what a run gives" "$want" "$state"
# the journal on the tree's file system: the syncfs holds its lines
check_eq "several files: the syncfs holds the journal, no fdatasync of it" \
  0 "$(journal_syncs "$O/trace")"

# db_only DIR: a copy of want whose rows changed and no file: its files
# dated a minute back (none racy) and synced twice (the first records
# their new stat data, the second the stat cache), so that the next run
# finds every file as it was; then five titles changed
db_only() {
  drop_tree "$1" && copy_tree want "$1"
  (cd "$1" && find stories -type f -exec touch -d '-1 min' {} + &&
    "$STORYSYNC" sync >/dev/null 2>&1 && "$STORYSYNC" sync >/dev/null 2>&1 &&
    q "UPDATE stories SET title = title || ' (again)'
      WHERE id IN (SELECT id FROM stories ORDER BY id LIMIT 5)")
}

# rows changed, no file: the writeback begun ahead (one syncfs on a
# thread while the run plans), then the barrier, one syncfs after the
# last temporary file, the renames after it
db_only dbonly
(cd dbonly && traced -f -y -qq -o "$O/trace_db" -e trace=$calls \
  "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "rows changed alone: the renames after the barrier" \
  ok "$(order "$O/trace_db")"
check_eq "rows changed alone: a syncfs ahead, and the barrier's" 2 \
  "$(grep -c '^[0-9 ]*syncfs(' "$O/trace_db")"
check_eq "rows changed alone: no temporary file fsynced one by one" 0 \
  "$(grep -c '^[0-9 ]*fsync(.*\.storysync-' "$O/trace_db")"
# spares the run before kept in this tree (a copy's are another inode's,
# never used; an oracle names them from stat): each written into and swapped in after the barrier, the
# spares' directory fsynced after too; a temporary file made only for
# each file the spares do not cover
spares=$(cd dbonly && rr=$(run_record) && python3 - "${rr%.run}.spare" <<'PY'
import os, sys
d = sys.argv[1]
n = 0
for name in os.listdir(d):
    st = os.lstat(os.path.join(d, name))
    n += name == "%x-%x.%09d" % (st.st_ino, st.st_mtime_ns // 10**9,
                                 st.st_mtime_ns % 10**9)
print(min(n, 5))
PY
)
(cd dbonly && q "UPDATE stories SET title = title || ' (spare)'
  WHERE id IN (SELECT id FROM stories ORDER BY id LIMIT 5)" &&
  traced -f -y -qq -o "$O/trace_sp" -e trace=$calls \
    "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "spares: the run ends well" 0 "$?"
check_eq "spares: the swaps after the barrier" ok "$(order "$O/trace_sp")"
check_eq "spares: some kept by the run before" yes \
  "$([ "$spares" -ge 3 ] && echo yes)"
check_eq "spares: each written into, swapped in" "$spares" \
  "$(grep -cE '^[0-9 ]*renameat2\([0-9]+<[^>]*\.spare>, .*RENAME_EXCHANGE' \
    "$O/trace_sp")"
check_eq "spares: a temporary file for each of the rest" $((5 - spares)) \
  "$(grep -c '^[0-9 ]*sync_file_range([0-9]*<[^>]*\.storysync-' \
    "$O/trace_sp")"
check_eq "spares: the files hold the edits" 5 \
  "$(cd dbonly && grep -rl '(spare)' stories | wc -l)"

# every syncfs fails, the one ahead too: the barrier's failure is told
db_only dbfail
(cd dbfail && traced -f -qq -o /dev/null -e trace=$calls \
  -e inject=syncfs:error=EIO "$STORYSYNC" sync >"$O/out" 2>"$O/err")
check_eq "rows changed alone, the barrier fails: the run fails" 1 "$?"
check_eq "rows changed alone, the barrier fails: no file written" "" \
  "$(cd dbfail && grep -rl '(again)' stories)"
grep -q 'Input/output error' "$O/err" &&
  ok "rows changed alone, the barrier fails: the error is told" ||
  not_ok "rows changed alone, the barrier fails: the error is told" \
    "$(head -3 "$O/err")"

# one file: its fsync is the barrier, no syncfs
drop_tree one && copy_tree want one
(cd one && q "UPDATE stories SET title = 'One more' WHERE id =
  (SELECT id FROM stories ORDER BY id LIMIT 1)" &&
  traced -f -y -qq -o "$O/trace1" -e trace=$calls \
    "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "a sync writing one file fsyncs it before its rename" \
  ok "$(order "$O/trace1")"
check_eq "one file: no syncfs" 0 "$(grep -c '^[0-9 ]*syncfs(' "$O/trace1")"
check_eq "one file: the journal synced before its rename" \
  ok "$(journal_first "$O/trace1" rename)"
check_eq "one file: the journal synced once" 1 "$(journal_syncs "$O/trace1")"
one_state=$(tree_state one)

# the journal's fdatasync fails (EIO injected into the calls on the
# journal alone, strace -P: SQLite's own come first): the run fails, the
# file keeps what it held, and the next runs converge to what the run
# with no fault gave
drop_tree jfail && copy_tree want jfail
journal=$(cd jfail && rr=$(run_record) && echo "$T/jfail/${rr%.run}.writes")
(cd jfail && q "UPDATE stories SET title = 'One more' WHERE id =
  (SELECT id FROM stories ORDER BY id LIMIT 1)" &&
  traced -f -y -qq -o "$O/trace_jfail" -P "$journal" -e trace=fdatasync \
    -e signal=none -e inject=fdatasync:error=EIO \
    "$STORYSYNC" sync >"$O/out" 2>"$O/err")
rc=$?
check_eq "the journal's fdatasync fails: the journal's, injected" \
  yes "$(grep -q "fdatasync([0-9]*<$journal>) = -1 EIO" "$O/trace_jfail" &&
    echo yes)"
check_eq "the journal's fdatasync fails: the run fails" 1 "$rc"
grep -q 'write journal: Input/output error' "$O/err" &&
  ok "the journal's fdatasync fails: the error is told" ||
  not_ok "the journal's fdatasync fails: the error is told" \
    "$(head -3 "$O/err")"
check_eq "the journal's fdatasync fails: no file holds the new title" "" \
  "$(cd jfail && grep -rl 'One more' stories)"
if settle jfail && [ "$state" = "$one_state" ]; then
  ok "the journal's fdatasync fails: the runs after converge"
else
  not_ok "the journal's fdatasync fails: the runs after converge" \
    "${why:-$(diff <(echo "$state") <(echo "$one_state") | head -5)}"
fi

# the API deletes a row: its file's removal is journaled, and the line
# synced before the unlink (no file staged, no barrier for files)
drop_tree del && copy_tree want del
(cd del && q "DELETE FROM stories WHERE id =
  (SELECT id FROM stories ORDER BY id LIMIT 1 OFFSET 2)" &&
  traced -f -y -qq -o "$O/trace_del" -e trace=$calls \
    "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "an API deletion: the run ends well" 0 "$?"
check_eq "an API deletion: the journal synced before the unlink" \
  ok "$(journal_first "$O/trace_del" unlink)"
check_eq "an API deletion: the journal synced once" 1 \
  "$(journal_syncs "$O/trace_del")"

# the database on another file system (a tmpfs: /dev/shm), its journal
# beside it: the tree's syncfs does not hold the journal, whose
# fdatasync ends before the first rename (SQLite's: on a server the
# journal is the checkout's, .storysync/server.writes, in the tree)
if sqlite_only "the database on another file system"; then
  SHM=$(mktemp -d /dev/shm/storysync-test.XXXXXX)
  trap 'rm -rf "$T" "$O" "$SHM"' EXIT
  drop_tree shm && copy_tree pending shm
  if [ "$(stat -c %d "$SHM")" = "$(stat -c %d shm)" ]; then
    skip "the database on another file system: /dev/shm is the tree's"
  else
    # the tree's checkout is the copy's (init --take-over), as it
    # is for a database inside the tree
    (cd shm && mv .storysync/stories.db* "$SHM/" &&
      echo "database: $SHM/stories.db" >>.storysync.local.yml &&
      "$STORYSYNC" init --take-over >/dev/null 2>&1 &&
      traced -f -y -qq -o "$O/trace_shm" -e trace=$calls \
        "$STORYSYNC" sync >"$O/out" 2>&1)
    check_eq "the database elsewhere: the run ends well" 0 "$?"
    check_eq "the database elsewhere: the journal synced before the renames" \
      ok "$(journal_first "$O/trace_shm" rename)"
    check_eq "the database elsewhere: the journal is there" yes \
      "$(grep -q "<$SHM/stories.db.writes>" "$O/trace_shm" && echo yes)"
    check_eq "the database elsewhere: the renames after the barrier" \
      ok "$(order "$O/trace_shm")"
  fi
fi

# in git: HEAD's blob of each file written first (set_before) loads
# libgit2, whose start reads no CA certificate (the module's gitcerts.c:
# storysync opens no connection); the blob recorded is git's own (git
# rev-parse, the oracle)
drop_tree ingit && copy_tree want ingit
(cd ingit && rm -rf .git && git init -q && git add -A stories &&
  git -c user.name=T -c user.email=t@example.org -c commit.gpgsign=false \
    commit -qm base && q "UPDATE stories SET title = 'In git' WHERE id =
    (SELECT id FROM stories ORDER BY id LIMIT 1)" &&
  traced -f -qq -o "$O/trace_git" -e trace=open,openat,openat2 \
    "$STORYSYNC" sync >/dev/null 2>&1)
check_eq "in git: the write's sync ends well" 0 "$?"
check_eq "in git: libgit2 was loaded" yes \
  "$(grep -q 'libgit2' "$O/trace_git" && echo yes)"
check_eq "in git: no CA certificate read" "" \
  "$(grep -E 'ca-certificates|/etc/ssl/certs' "$O/trace_git")"
gpath=$(cd ingit && q "SELECT path FROM stories ORDER BY id LIMIT 1")
check_eq "in git: the version before the write is HEAD's blob" \
  "$(cd ingit && git rev-parse "HEAD:$gpath")" \
  "$(cd ingit && q "SELECT before FROM sync_state WHERE path = '$gpath'")"

# a first load in git notes HEAD's commit and tree (sync_meta
# git.head_tree) from git's own files, no libgit2: the commit loose, then
# in a pack (git gc); the next write then takes HEAD's blobs from git's
# index and loads no libgit2 either; the tree noted and the blob recorded
# are git's own (git rev-parse, the oracle)
for how in loose packed; do
  drop_tree "fresh_$how"
  "$GEN_STORIES" "$T/fresh_$how" --count 8 2>/dev/null
  (cd "fresh_$how" && git init -q && git add -A &&
    git -c user.name=T -c user.email=t@example.org -c commit.gpgsign=false \
      commit -qm base && { [ $how = loose ] || git gc -q; } &&
    ss init >/dev/null &&
    traced -f -qq -o "$O/trace_first" -e trace=open,openat,openat2 \
      "$STORYSYNC" sync >/dev/null 2>&1 &&
    q "UPDATE stories SET title = 'Fresh' WHERE id =
      (SELECT id FROM stories ORDER BY id LIMIT 1)" &&
    traced -f -qq -o "$O/trace_edit" -e trace=open,openat,openat2 \
      "$STORYSYNC" sync >/dev/null 2>&1)
  check_eq "$how: the first load and the write end well" 0 "$?"
  check_eq "$how: the first load notes HEAD's tree" \
    "$(cd "fresh_$how" && git rev-parse HEAD HEAD^{tree} | paste -sd' ')" \
    "$(cd "fresh_$how" && q "SELECT value FROM sync_meta
      WHERE key = 'git.head_tree'")"
  check_eq "$how: neither run loads libgit2" "" \
    "$(grep -ho 'storysync-git[^"]*\|libgit2[^"]*' "$O/trace_first" \
      "$O/trace_edit")"
  gpath=$(cd "fresh_$how" && q "SELECT path FROM stories ORDER BY id LIMIT 1")
  check_eq "$how: the version before the write is HEAD's blob" \
    "$(cd "fresh_$how" && git rev-parse "HEAD:$gpath")" \
    "$(cd "fresh_$how" && q "SELECT before FROM sync_state
      WHERE path = '$gpath'")"
done

# fault FAULT DESC: the sync with strace's FAULT injected; nothing half
# done, no temporary file, and the runs after converge to want
fault() {
  drop_tree run && copy_tree pending run
  (cd run && traced -f -qq -o /dev/null -e trace=$calls -e "inject=$1" \
    "$STORYSYNC" sync >"$O/out" 2>"$O/err")
  rc=$?
  # what the database had for the files, in none of them
  written=$(cd run && { grep -rlE '\(API\)|Edited by the API' stories
    find stories -name 'NEW-D1*'; } | LC_ALL=C sort)
  if [ "$rc" -ge 128 ]; then
    not_ok "$2: the faulty run died of a signal ($rc)"
    return
  fi
  if settle run && [ "$state" = "$want" ]; then
    ok "$2: the runs after converge, no temporary file left"
  else
    not_ok "$2: the runs after converge" "${why:-$(diff <(echo "$state") \
      <(echo "$want") | head -5)}"
  fi
}

fault syncfs:error=EIO "the barrier fails"
check_eq "the barrier fails: no file holds what the database had" "" \
  "$written"
grep -q 'Input/output error' "$O/err" &&
  ok "the barrier fails: the error is told" ||
  not_ok "the barrier fails: the error is told" "$(head -3 "$O/err")"
check_eq "the barrier fails: the run fails" 1 "$rc"
fault fsync:error=EIO:when=1 "the first fsync fails"
fault fsync:error=EIO:when=2+ "every fsync but the first fails"
fault sync_file_range:error=EIO "sync_file_range fails"
check_eq "sync_file_range fails: a hint, the run ends well" 0 "$rc"
finish
