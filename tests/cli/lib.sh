# Shared by the black-box scenarios: a fresh temp dir, the built binary, a
# real SQLite file, and TAP-like output ending in "N passed, N failed".
set -u
: "${STORYSYNC:?run through meson test}"
: "${GEN_STORIES:?run through meson test}"

# meson test --setup postgresql (STORYSYNC_TEST_PG=1) runs the scenarios
# written for both backends (they set PG_SCENARIO=1 before sourcing this:
# pg_backend.sh) and the twins (PG_TWIN=1: SQLite's scenarios that run on
# a server unchanged, through q, db_digest and ss below: see the end of
# this file); SQLite's own are skipped there (exit 77), as they read the
# database file itself
if [ "${STORYSYNC_TEST_PG:-0}" = 1 ] && [ "${PG_SCENARIO:-0}" != 1 ] &&
  [ "${PG_TWIN:-0}" != 1 ]; then
  echo "# skip - SQLite's own scenario: not run by --setup postgresql"
  exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/storysync-test.XXXXXX")
O=$(mktemp -d "${TMPDIR:-/tmp}/storysync-out.XXXXXX") # outside the tree
# the exit's cleanup: a test that makes more (coarse_mount) redefines it
cleanup() { rm -rf "$T" "$O"; }
trap cleanup EXIT
cd "$T" || exit 1
# python3 is the interpreter meson found ($PYTHON3, its real path), first
# on PATH for the scripts that name it (gen-stories, the .py oracles): a
# python3 on PATH may be a version manager's shim (pyenv's starts a dozen
# shells, half a second, every time)
if [ -n "${PYTHON3:-}" ] && [ -x "$PYTHON3" ]; then
  mkdir "$O/bin" && ln -s "$PYTHON3" "$O/bin/python3" && PATH=$O/bin:$PATH
fi
passed=0
failed=0
skipped=0
DB=.storysync/stories.db

# before_ss ARGS...: what a scenario's tree needs before storysync runs
# (nothing on SQLite; a database of its own on a server, see the end)
before_ss() { :; }
# LeakSanitizer's scan at exit is a third of the CPU of a short run, and
# the suite makes thousands of runs. So it runs where it pays: the unit
# tests and oom.sh (STORYSYNC_TEST_LEAKS=all) check every run, as the long
# set (STORYSYNC_LONG=1) does; elsewhere ss checks the first run of each
# command with each set of options in a test (every command is checked
# wherever a test runs it) and 1 in 4 of the others, drawn from the seed
# (STORYSYNC_SEED, printed; the same seed checks the same runs). The other
# runs (the hooks', the direct ones of the kill -9 and fault trials,
# Python's but for its own sample) skip the scan: detect_leaks=0. They
# also keep no stack of each allocation (malloc_context_size=0: a fifth of
# a short run's CPU goes to storing them), which only an error report
# shows ("allocated by", "freed by"): the checked runs keep them, and
# STORYSYNC_TEST_LEAKS=all scripts/test NAME gives every run both.
LEAK_SEED=${STORYSYNC_SEED:-1}
leaks_on=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
if [ "${STORYSYNC_LONG:-0}" = 1 ]; then STORYSYNC_TEST_LEAKS=all; fi
if [ "${STORYSYNC_TEST_LEAKS:-sample}" != all ]; then
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
  export ASAN_OPTIONS=$ASAN_OPTIONS:malloc_context_size=0
  echo "# LeakSanitizer: each command's first run, 1 in 4 of the rest" \
    "(seed $LEAK_SEED)"
  mkdir "$O/leaks" && echo 0 >"$O/leaks/.n"
fi
# leak_pick ARG...: whether the run of storysync ARG... is one of the
# sample above (bash alone, no process: it is called for every run)
leak_pick() {
  [ "${STORYSYNC_TEST_LEAKS:-sample}" = all ] && return 0
  local key=${1:-none} a n
  for a in "${@:2}"; do [[ $a != -* ]] || key+=${a%%=*}; done
  key=${key//[^a-zA-Z0-9-]/_}
  if [ ! -e "$O/leaks/$key" ]; then
    : >"$O/leaks/$key"
    return 0
  fi
  read -r n <"$O/leaks/.n"
  echo $((n + 1)) >"$O/leaks/.n"
  a=$(((LEAK_SEED * 1000003 + n) * 6364136223846793005 + 1442695040888963407))
  a=$(((a & 0x7fffffffffffffff) >> 17))
  ((a % 4 == 0))
}
# ss_in BIN ARG...: runs BIN ARG..., LeakSanitizer's scan at its exit if
# leak_pick says so
ss_in() {
  if leak_pick "${@:2}"; then ASAN_OPTIONS=$leaks_on "$@"; else "$@"; fi
}
ss() { before_ss "$@" && ss_in "$STORYSYNC" "$@"; }

# run CMD...: runs it, keeping its exit code in $rc, stdout in $out and
# stderr in $err.
run() {
  "$@" >"$O/out" 2>"$O/err"
  rc=$?
  read_file out "$O/out"
  read_file err "$O/err"
}

# read_file VAR FILE: VAR gets FILE's text without its trailing newlines,
# as $(cat FILE) would, without starting a process (forks are what a busy
# machine makes slow)
read_file() {
  IFS= read -rd '' "$1" <"$2"
  while [[ ${!1} == *$'\n' ]]; do printf -v "$1" '%s' "${!1%$'\n'}"; done
}

# settle_race DIR: for a run stopped after its writes and after its
# settle (STORYSYNC_TEST_STOP), a person's write in place of the same
# size over the run's write of the API's title, in a tree at DIR/AT; the
# next run must take the person's title (racy_settle.sh, racy_coarse.sh).
# The oracle: sed and stat on the file, the rows by py_rows
settle_race() {
  local at pid was ino size text F=backlog/S-1-one.md
  for at in after-writes settled; do
    stages_repo "$1$at" backlog:backlog
    printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' >$F
    synced_commit || not_ok "$at: the tree"
    py_rows "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
    before_ss sync
    STORYSYNC_TEST_STOP=$at "$STORYSYNC" sync >"$O/out" 2>"$O/err" &
    pid=$!
    trap 'kill -9 $pid 2>/dev/null; cleanup' EXIT
    if stopped_at $pid; then ok "$at: the run stops there"
    else not_ok "$at: the run stops there"; fi
    was=$(key title $F) ino=$(stat -c %i $F) size=$(stat -c %s $F)
    # a person's write in place (the same inode), of the same size
    text=$(sed 's/^title: API$/title: APX/' $F) && printf '%s\n' "$text" >$F
    check_eq "$at: the run's write, then the person's in place, the same size" \
      "API|APX|$ino|$size" "$was|$(key title $F)|$(stat -c '%i|%s' $F)"
    kill -CONT $pid
    wait $pid
    rc=$?
    trap cleanup EXIT
    check_eq "$at: the run ends" 0 "$rc"
    run ss
    check_eq "$at: the next run takes the person's title" "0|APX|APX" \
      "$rc|$(py_rows "SELECT title FROM stories WHERE id = 'S-1'")|$(key title $F)"
  done
}

# coarse_mount: an ext4 of 128-byte inodes (whole-second timestamps, as
# FAT's or an old ext3's) loop-mounted at $T/c, unmounted at the exit
# (cleanup); a skip said and false
# where there is no root, no mkfs.ext4 or no loop
coarse_mount() {
  if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null; then
    skip "no root or no mkfs.ext4: no loop mount"
    return 1
  fi
  truncate -s 32M "$O/coarse.img" &&
    mkfs.ext4 -q -F -I 128 "$O/coarse.img" 2>/dev/null &&
    mkdir "$T/c" && mount -o loop "$O/coarse.img" "$T/c" 2>/dev/null || {
    skip "the loop mount failed"
    return 1
  }
  cleanup() { cd / && umount "$T/c" 2>/dev/null; rm -rf "$T" "$O"; }
}

q() { sqlite3 -batch "$DB" "$1"; }
# key NAME FILE: the value of the frontmatter key NAME in FILE, as written
key() { sed -n "s/^$1: //p" "$2"; }
# jget EXPR KEY: SQL for the text at KEY of the JSON object in EXPR (at
# index KEY of an array when KEY is a number), and sqlchr N for the
# character of code N, in the database's dialect (a twin's q runs on
# either)
jget() {
  if [[ $2 == [0-9]* ]]; then echo "json_extract($1, '\$[$2]')"; else
    echo "json_extract($1, '\$.$2')"; fi
}
sqlchr() { echo "char($1)"; }
# jset EXPR PATH JSON: SQL for the JSON object EXPR with the member at PATH
# (KEY or KEY.KEY...) set to the JSON text JSON, the other members and
# their order kept (PostgreSQL's json has no json_set, and jsonb_set
# would reorder the keys); jscalar TEXT, the plain string TEXT as the API
# writes it in a JSON column (a list of one in assignees: bare text on
# SQLite, a JSON string on a server, whose json type takes no other);
# sqlquote EXPR, EXPR as an SQL literal; sqlnow, the time now as
# storysync writes it; sqlagg EXPR, EXPR's values joined by commas; jtype
# EXPR KEY, the JSON type of the member KEY ('null' for a JSON null)
jset() { echo "json_set($1, '\$.$2', json('$3'))"; }
jscalar() { echo "'$1'"; }
sqlquote() { echo "quote($1)"; }
sqlnow() { echo "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"; }
sqlagg() { echo "group_concat($1)"; }
jtype() { echo "json_type($1, '\$.$2')"; }
# dialect SQLITE SERVER: the first on SQLite, the second on a server: an
# API write in the form each backend's statements take (SQLite's INSERT OR
# REPLACE is PostgreSQL's INSERT ... ON CONFLICT, or a DELETE then an
# INSERT), or a check that has a form on each
dialect() { printf '%s\n' "$1"; }
# stages_repo DIR NAME:FOLDER...: a new git repository at $T/DIR, cd'ed
# into, whose .storysync.yml has those stages (and the folders); then
# synced_commit once its files are written: init, the database and the
# local file ignored, everything committed, one run
stages_repo() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  shift
  git init -q
  printf 'database: .storysync/stories.db\nstages:\n' >.storysync.yml
  for st; do
    printf '  %s: %s\n' "${st%%:*}" "${st#*:}" >>.storysync.yml
    mkdir -p "${st#*:}"
  done
}
synced_commit() {
  ss init -q
  printf '.storysync/\n.storysync.local.yml\n' >.gitignore
  git add -A && git commit -qm init && ss -q
}
# story_tree DIR FILE ID TITLE [LINES]: stages_repo's repository of
# stages refinement and backlog with one story, FILE (id ID, title TITLE,
# then LINES: printf's, each ending in \n), synced and committed
story_tree() {
  stages_repo "$1" refinement:refinements backlog:backlog
  printf -- "---\nid: %s\ntitle: %s\n${5:-}---\nbody\n" "$3" "$4" >"$2"
  synced_commit || not_ok "$1: the tree"
}
# web_api_repo DIR [NAME:FOLDER...]: as stages_repo (no folder made), the
# configuration's backlogs web (stories/web) and api (stories/api), and
# those stages (none: the default ones)
web_api_repo() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  shift
  git init -q
  printf 'database: .storysync/stories.db\nbacklogs:\n  web: stories/web\n  api: stories/api\n' >.storysync.yml
  [ $# = 0 ] || echo 'stages:' >>.storysync.yml
  for st; do printf '  %s: %s\n' "${st%%:*}" "${st#*:}" >>.storysync.yml; done
}
# web_moved: backlog web's folder moved to stories/web2 (git mv, and the
# configuration edited), neither committed
web_moved() {
  git mv stories/web stories/web2 &&
    sed -i 's|^  web: stories/web$|  web: stories/web2|' .storysync.yml
}
# committing_tree COUNT [LINES]: COUNT stories generated here in a git
# repository (gen-stories), the configuration's git: {commit: true} (and
# LINES after it: printf's), init, all committed
committing_tree() {
  "$GEN_STORIES" . --count "$1" --git 2>/dev/null
  printf "git:\n  commit: true\n${2:-}" >>.storysync.yml
  echo .storysync/ >.gitignore
  ss init >/dev/null # adds .storysync.local.yml to .gitignore
  git add -A && git commit -qm config
}
# split_index: git's index split (core.splitIndex), which libgit2 cannot
# read, every change kept in the split file (maxPercentChange 100)
split_index() {
  git config core.splitIndex true && git config splitIndex.maxPercentChange 100
  git update-index --split-index
}
# ops_tree N LOCAL DIR...: a repository at $T/tree, cd'ed into, with N
# stories in backlog (S-1-t.md: S-1, T1, ...), the companion config's
# lines LOCAL (printf's) and the folders DIR... made and ignored, init,
# all committed and synced
ops_tree() {
  local n=$1 lines=$2 i
  shift 2
  mkdir -p "$T/tree" && cd "$T/tree" || exit 1
  git init -q . && mkdir backlog "$@"
  for ((i = 1; i <= n; i++)); do
    printf -- '---\nid: S-%s\ntitle: T%s\n---\nbody\n' $i $i >backlog/S-$i-t.md
  done
  printf "$lines" >.storysync.local.yml
  ss init -q || not_ok "init"
  { printf '.storysync/\n.storysync.local.yml\n' && printf '%s/\n' "$@"; } >.gitignore
  git add -A && git commit -qm init && ss -q || not_ok "the tree"
}
# killed_run POINT ARGS...: a run (as run has it) killed at POINT
# (STORYSYNC_TEST_KILL: exit 137)
killed_run() { run env STORYSYNC_TEST_KILL="$1" "$STORYSYNC" "${@:2}"; }
# quiet_next DESC: a check that the next run is quiet: exit 0, nothing
# said; with --digest, and nothing written to the database
quiet_next() {
  local digest=
  if [ "$1" = --digest ]; then
    shift
    digest=$(db_digest)
    run ss
    check_eq "$1: the next run is quiet" "0||$digest" \
      "$rc|$out$err|$(db_digest)"
    return
  fi
  run ss
  check_eq "$1: the next run is quiet" "0||" "$rc|$out|$err"
}
# copy_tree SRC DST: a copy of the tree SRC, as cp -a makes it; on a
# server the copy gets a database of its own, a copy of SRC's (else the
# two trees would share one)
copy_tree() { cp -a "$1" "$2"; }
# drop_tree DIR: the tree DIR gone, as rm -rf; on a server its database
# too (a sweep copies a tree hundreds of times)
drop_tree() { rm -rf "$1"; }
# drop_db: the database of the tree here gone, as rm -rf .storysync; on a
# server dropped, and the next init makes another
drop_db() { rm -rf .storysync; }
# db_ref: the database as a tool outside storysync opens it (the file;
# the URI on a server), and run_record the file of the last run's record
db_ref() { echo "$DB"; }
# sqlite_only WHAT: true on SQLite; on a server a twin's check that has no
# form there is skipped, saying why (WHAT)
sqlite_only() { :; }
run_record() { echo "$DB.run"; }

ok() {
  passed=$((passed + 1))
  echo "ok - $1"
}

not_ok() {
  failed=$((failed + 1))
  echo "not ok - $1"
  shift
  for line in "$@"; do echo "#   $line"; done
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else
    not_ok "$1" "expected: $2" "actual:   $3"; fi
}

# check_contains DESC NEEDLE HAYSTACK
check_contains() {
  case "$3" in
  *"$2"*) ok "$1" ;;
  *) not_ok "$1" "expected to contain: $2" "actual: $3" ;;
  esac
}

# check_rc DESC EXPECTED (after run)
check_rc() {
  if [ "$rc" = "$2" ]; then ok "$1"; else
    not_ok "$1" "exit code $rc, expected $2" "stdout: $out" "stderr: $err"; fi
}

# A digest of everything storysync keeps, but the sync_runs log, to prove a
# run wrote nothing: the schema and every other table's rows, hashed by the
# sqlite3 shell's sha3_query() (one process, where .dump | grep | md5sum
# took three).
db_digest() {
  sqlite3 -batch "$DB" "SELECT hex(sha3_query((SELECT
      group_concat('SELECT * FROM \"' || name || '\"', ';')
      FROM sqlite_schema WHERE type = 'table' AND name <> 'sync_runs') ||
    ';SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY 1, 2'))"
}

# A digest of the story tree below DIR... (default stories): names, sizes
# and mtimes.
tree_digest() {
  find "${@:-stories}" -type f -printf '%p %T@ %s\n' | LC_ALL=C sort | md5sum
}

# lib_quiet DESC [DIR...]: the next run and a --full run are silent and write
# nothing, neither to the database nor below DIR... (default stories).
lib_quiet() {
  local db tree
  db=$(db_digest)
  tree=$(tree_digest "${@:2}")
  run ss sync
  check_eq "$1: the next run is silent" "0|" "$rc|$out$err"
  run ss sync --full
  check_eq "$1: and so is --full" "0|" "$rc|$out$err"
  check_eq "$1: neither writes to the DB" "$db" "$(db_digest)"
  check_eq "$1: nor to a file" "$tree" "$(tree_digest "${@:2}")"
}

# with_hooks: the real hooks find this storysync on PATH, as they would once
# installed (ss runs it as $bin), and git has a fresh home of its own with
# one author, so that real commits, merges and clones can run.
with_hooks() {
  bin=$STORYSYNC
  unset STORYSYNC
  PATH="$(dirname "$bin"):$PATH"
  export PATH
  ss() { before_ss "$@" && ss_in "$bin" "$@"; }
  git_home
  git config --global user.name "Ana Author"
  git config --global user.email ana@example.org
  git config --global protocol.file.allow always
}

# git_home: git with a fresh home of its own in $T, branch main, and one
# author for the commits a test makes
git_home() {
  export HOME=$T/home GIT_CONFIG_NOSYSTEM=1
  mkdir -p "$HOME"
  git config --global init.defaultBranch main
  git config --global advice.detachedHead false
  export GIT_AUTHOR_NAME="Ana Author" GIT_AUTHOR_EMAIL=ana@example.org
  export GIT_COMMITTER_NAME="Ana Author" GIT_COMMITTER_EMAIL=ana@example.org
}

# py_rows SQL: the rows of SQL in $DB, one a line, '|' between columns and
# NULL as '-', read by Python's sqlite3 (an oracle apart from sqlite3's
# shell and from storysync)
py_rows() {
  python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute(sys.argv[2]):
    print("|".join("-" if v is None else str(v) for v in r))
c.commit()
PY
}

# pend_both SQL...: in the synced tree of the working directory, changes
# waiting on both sides: by hand an edit, a delete, a move and an add; by
# the API two updates, an insert and a delete, run by SQL... (q, or a
# server's pq DB) with the statements as its last argument.
pend_both() {
  local files f1 f2 f3 f4
  files=$(find stories -name '*.md' | sort)
  f1=$(echo "$files" | sed -n 1p)
  f2=$(echo "$files" | sed -n 2p)
  f3=$(echo "$files" | sed -n 3p)
  f4=$(echo "$files" | sed -n 4p)
  sed -i 's/^title: .*/title: Edited by hand/' "$f1"
  rm "$f2"
  mkdir -p stories/platform/completed
  mv "$f3" stories/platform/completed/
  printf -- '---\nid: NEW-F1\ntitle: Added by hand\n---\nbody\n' \
    >stories/platform/backlog/NEW-F1-added.md
  "$@" "UPDATE stories SET priority = 'critical' WHERE path = '$f4';
     UPDATE stories SET title = 'Edited by the API'
       WHERE id = (SELECT id FROM stories ORDER BY id DESC LIMIT 1);
     INSERT INTO stories(id, backlog, status, title)
       VALUES ('NEW-D1', 'mobile', 'active', 'Made by the API');
     DELETE FROM stories WHERE id = (SELECT id FROM stories
       WHERE path NOT IN ('$f1', '$f2', '$f4') ORDER BY id LIMIT 1 OFFSET 5)"
}

# make_pending: "$T/pending", a synced tree of 30 stories with changes
# waiting on both sides (pend_both), checkpointed so that a copy is whole.
make_pending() {
  "$GEN_STORIES" "$T/work" --count 30 2>/dev/null
  (
    cd "$T/work" || exit 1
    ss init >/dev/null && ss sync >/dev/null || exit 1
    pend_both q
    q "$(dialect "PRAGMA wal_checkpoint(TRUNCATE)" "SELECT 1")" >/dev/null
  ) || not_ok "the pending tree"
  cd "$T" && rm -rf pending && copy_tree work pending
}

# tree_state DIR: what a tree holds, to compare two: integrity_check and
# the journal mode, the rows and the dependencies, every story file's name
# and content, and each temporary file left anywhere ("tmp PATH"); one
# sqlite3 and one find (the fault, OOM and kill -9 trials run it hundreds
# of times)
tree_state() {
  local here=$PWD
  cd "$1" || return 1
  sqlite3 -batch $DB "PRAGMA integrity_check; PRAGMA journal_mode;
    SELECT id, backlog, status, epic, title,
      priority, points, assignees, labels, extra, body, path, created
      FROM stories ORDER BY id;
    SELECT * FROM story_dependencies ORDER BY 1, 2"
  find . -name '*.storysync-*' -printf 'tmp %p\n' -o \
    -path './stories/*' -type f -exec md5sum {} + | LC_ALL=C sort
  cd "$here" || return 1
}

# settle DIR: the runs after a fault or a kill, which only show that the
# tree converges (no fsync, no racy wait: no fault is in them). The second
# must end clean with nothing to do, the database pass integrity_check and
# no temporary file be left. Sets state to tree_state DIR; else fails with
# why. The first, which recovers, is checked for leaks; the second, a run
# with nothing to do as every other test makes dozens of, is not (LSan's
# scan is a third of the cost of a run, and the sweeps make hundreds).
settle() {
  local rc2 o
  why=
  (cd "$1" && export STORYSYNC_TEST_NOSYNC=1
    ASAN_OPTIONS=$leaks_on "$STORYSYNC" sync >/dev/null 2>&1
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
      exec "$STORYSYNC" sync >"$O/settle" 2>&1)
  rc2=$?
  read_file o "$O/settle"
  if [ "$rc2" != 0 ] || [ -n "$o" ]; then
    why="the run after is not clean ($rc2: ${o:0:300})"
    return 1
  fi
  tree_state "$1" >"$O/state"
  read_file state "$O/state"
  if [[ $state != ok$'\n'* ]]; then
    why="integrity_check: ${state:0:300}"
  elif [[ $state == *$'\n'"tmp "* ]]; then
    o=${state#*$'\n'tmp }
    why="temporary files left: ${o:0:300}"
  fi
  [ -z "$why" ]
}

# runs_as_nobody: for a test whose runs drop to nobody (setpriv): the
# program, its git module, the test build's trap module (in $O: the
# program looks in $ORIGIN/..) and the hook scripts install-hooks copies,
# copied where nobody may read them, for the build and source trees may
# lie below a directory only its owner enters (a clone in /root, or in
# mktemp -d). as_nobody CMD... runs CMD as nobody.
runs_as_nobody() {
  chmod 755 "$O" && mkdir -m 755 "$O/bin-nobody" &&
    cp "$STORYSYNC" "$BUILD_ROOT/src/storysync-git.so" "$O/bin-nobody/" &&
    { [ ! -f "$BUILD_ROOT/storysync-dlsym-stubs.so" ] ||
      cp "$BUILD_ROOT/storysync-dlsym-stubs.so" "$O/"; } &&
    cp -r "$SOURCE_ROOT/hooks" "$O/bin-nobody/hooks" &&
    chmod -R a+rX "$O/bin-nobody/hooks" || return 1
  STORYSYNC=$O/bin-nobody/storysync
  export STORYSYNC_GIT_MODULE=$O/bin-nobody/storysync-git.so
  export STORYSYNC_HOOKS_DIR=$O/bin-nobody/hooks
}
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# skip DESC: a check that could not run here; it is not a pass
skip() {
  skipped=$((skipped + 1))
  echo "# skip - $1"
}

# sample_space: for a test that samples a larger space. LONG is 1 for the
# exhaustive long set (STORYSYNC_LONG=1, scripts/test --long), else 0: the
# suite's sample, drawn by pick_in from SEED (STORYSYNC_SEED, default 1),
# which is printed so that a failure can be replayed.
sample_space() {
  LONG=0
  [ "${STORYSYNC_LONG:-0}" = 1 ] && LONG=1
  SEED=${STORYSYNC_SEED:-1}
  _rng=$SEED
  echo "# seed $SEED$([ "$LONG" = 1 ] && echo ", the long set")"
}

# pick_in LO HI: sets r to a number in [LO, HI], the next of SEED's
# sequence (not $RANDOM, which bash seeds afresh in every subshell); call
# it outside $(...), or the sequence does not move on
pick_in() {
  _rng=$(((_rng * 6364136223846793005 + 1442695040888963407) &
    0x7fffffffffffffff))
  r=$(((_rng >> 17) % ($2 - $1 + 1) + $1))
}

# sample_points N BAND: sets KS to the points to try of N (1-based): all
# of them in the long set (by STEP, default 1), else the first, the last
# and one drawn by pick_in from each band of BAND points between
sample_points() {
  local n=$1 band=$2 lo
  KS=()
  if [ "$LONG" = 1 ]; then
    KS=($(seq 1 "${STEP:-1}" "$n"))
    return
  fi
  [ "$n" -gt 0 ] && KS+=(1)
  for ((lo = 2; lo < n; lo += band)); do
    pick_in "$lo" "$((lo + band - 1 < n - 1 ? lo + band - 1 : n - 1))"
    KS+=("$r")
  done
  [ "$n" -gt 1 ] && KS+=("$n")
}

# hold_lock FILE: starts a process that holds the run lock FILE (flock, as
# a run does) and returns once it really holds it; $holder is its pid.
# release_lock ends it and waits until the lock is free.
hold_lock() {
  rm -f "$O/held" && mkfifo "$O/held" || return 1
  # shellcheck disable=SC2016
  bash -c 'exec 9>>"$1" && flock 9 && echo held >"$2" && exec sleep 600' \
    _ "$1" "$O/held" >/dev/null 2>&1 &
  holder=$!
  # read-write: the open does not block if the holder died first
  exec 8<>"$O/held"
  if ! read -r -t 60 _ <&8; then
    exec 8<&-
    echo "hold_lock: $1 not held within 60 s" >&2
    return 1
  fi
  exec 8<&-
  rm -f "$O/held"
}
release_lock() {
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  return 0
}

# api_hold SQL: the API (a sqlite3 shell) takes SQLite's write lock
# (BEGIN IMMEDIATE), runs SQL in that transaction and holds it; returns
# once the shell says so (false if not within 30 s). api_commit commits
# and ends the shell.
api_hold() {
  local line
  rm -f "$O/sql" "$O/ack" && mkfifo "$O/sql" "$O/ack" || return 1
  sqlite3 -batch "$DB" <"$O/sql" >"$O/ack" 2>&1 &
  api=$!
  exec 3>"$O/sql" 4<"$O/ack"
  printf 'BEGIN IMMEDIATE;\n%s\nSELECT '"'"'held'"'"';\n' "$1" >&3
  read -r -t 30 line <&4 && [ "$line" = held ]
}
api_commit() {
  echo "COMMIT;" >&3
  exec 3>&- 4<&-
  wait "$api"
}

# wait_for CMD...: polls CMD until it succeeds, 60 s at most: for a state
# another process brings about (a hook's background run)
wait_for() {
  local i
  for ((i = 0; i < 1200; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# stopped_at PID: returns once the process PID has stopped itself at a
# seam (SIGSTOP, STORYSYNC_TEST_STOP), 60 s at most; false when it ended
# instead
stopped_at() {
  local state i
  for ((i = 0; i < 1200; i++)); do
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "$state" = T ] && return 0
    [ "$state" = Z ] && return 1
    sleep 0.05
  done
  return 1
}

# wait_blocked FILE: returns once a process waits in flock(2) for the lock
# on FILE that another holds (a "->" line of /proc/locks), 60 s at most
wait_blocked() {
  local ino i
  ino=$(stat -c %i "$1") || return 1
  for ((i = 0; i < 1200; i++)); do
    grep -qE "^[0-9]+: -> FLOCK .*:$ino " /proc/locks && return 0
    sleep 0.05
  done
  return 1
}

finish() {
  echo "$passed passed, $failed failed$([ "$skipped" -gt 0 ] &&
    echo ", $skipped skipped")"
  [ "$failed" -eq 0 ]
}

# ---- the twins on PostgreSQL ----
# Under --setup postgresql a scenario that sets PG_TWIN=1 runs as it is on
# a real server (pg_lib.sh): its own, started here, or the one of
# STORYSYNC_TEST_PGDIR (pg_scenarios.sh runs a sample of the twins against
# one). Each tree that storysync init makes gets a database of its own
# (.storysync.local.yml, which git does not track), and q and db_digest
# read it with psql: the rows as sqlite3 shows them, '|' between columns.
# A twin's SQL is in the dialect both take.
if [ "${STORYSYNC_TEST_PG:-0}" = 1 ] && [ "${PG_TWIN:-0}" = 1 ]; then
  . "$(dirname "${BASH_SOURCE[0]}")/pg_lib.sh"
  if [ -n "${STORYSYNC_TEST_PGDIR:-}" ]; then
    PGDIR=$STORYSYNC_TEST_PGDIR
    export PGHOST=$PGDIR PGUSER=postgres PGDATABASE=postgres
  elif ! pg_available; then
    not_ok "a PostgreSQL server for --setup postgresql" "$pg_why"
    finish
    exit 1
  elif ! pg_start; then
    not_ok "the server starts"
    finish
    exit 1
  fi
  # the server's URI is local configuration, which git must not track
  # (storysync refuses a tracked .storysync.local.yml, exit 2): a
  # scenario's `git add -A` leaves it out, as .gitignore would (git's
  # own, by its environment: a scenario's HOME and config stay its own)
  printf '%s\n' .storysync.local.yml /pg/ >"$O/twin.gitignore"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.excludesFile \
    GIT_CONFIG_VALUE_0="$O/twin.gitignore"
  # _pg_next: the next number for a database's name, in $_pg_n (kept in
  # a file: a tree made in a subshell takes one too)
  _pg_next() {
    _pg_n=0
    [ -e "$O/pg_n" ] && read -r _pg_n <"$O/pg_n"
    _pg_n=$((_pg_n + 1))
    echo $_pg_n >"$O/pg_n"
  }
  # the database of the tree configured in DIR (default .)
  pg_uri_of() { # its last database: line (by bash alone: every q asks)
    local l u=
    [ -f "${1:-.}/.storysync.local.yml" ] || return 0
    while IFS= read -r l || [ -n "$l" ]; do
      case $l in "database: "*) u=${l#database: } ;; esac
    done <"${1:-.}/.storysync.local.yml"
    [ -z "$u" ] || printf '%s\n' "$u"
  }
  before_ss() {
    local dir=. a prev=
    for a in "$@"; do
      [ "$prev" = -c ] && dir=$(dirname "$a")
      prev=$a
    done
    case " $* " in *" init "*) ;; *) return 0 ;; esac
    [ -n "$(pg_uri_of "$dir")" ] && return 0
    _pg_next
    pg_db "twin_$$_$_pg_n" && pg_local "$PGURI" "$dir"
  }
  q() { psql -qAtX -F '|' -v ON_ERROR_STOP=1 -d "$(pg_uri_of)" -c "$1"; }
  # py_rows as SQLite's, by Python's psycopg2 (json as its text)
  py_rows() {
    python3 - "$(pg_uri_of)" "$1" <<'PY'
import sys, psycopg2, psycopg2.extras
psycopg2.extras.register_default_json(globally=True, loads=lambda x: x)
c = psycopg2.connect(sys.argv[1])
c.autocommit = True
cur = c.cursor()
cur.execute(sys.argv[2])
for r in (cur.fetchall() if cur.description else ()):
    print("|".join("-" if v is None else str(v) for v in r))
PY
  }
  jget() {
    if [[ $2 == [0-9]* ]]; then echo "(($1)::json ->> $2)"; else
      echo "(($1)::json ->> '$2')"; fi
  }
  sqlchr() { echo "chr($1)"; }
  jset() { # json_each keeps json's order; ordinality keeps it through
    local d=${4:-0} inner
    if [[ $2 == *.* ]]; then inner=$(jset "v$d" "${2#*.}" "$3" $((d + 1)))
    else inner="'$3'::json"; fi
    echo "(SELECT json_object_agg(k$d, CASE WHEN k$d = '${2%%.*}' THEN" \
      "$inner ELSE v$d END ORDER BY n$d) FROM json_each(($1)::json)" \
      "WITH ORDINALITY AS e$d(k$d, v$d, n$d))"
  }
  jscalar() { echo "'\"$1\"'"; }
  sqlquote() { echo "quote_nullable($1)"; }
  sqlnow() {
    echo "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
  }
  sqlagg() { echo "string_agg(($1)::text, ',')"; }
  jtype() { echo "json_typeof(($1)::json -> '$2')"; }
  dialect() { printf '%s\n' "$2"; }
  copy_tree() {
    local from
    cp -a "$1" "$2" || return 1
    from=$(pg_uri_of "$2")
    [ -n "$from" ] || return 0
    from=${from#postgresql:///}
    _pg_next
    sed -i "s|^database: postgresql:///${from%%\?*}?|database: postgresql:///twin_$$_$_pg_n?|" \
      "$2/.storysync.local.yml" || return 1
    # the database names the checkout that syncs each tree (trees.path):
    # the copy's is the copy, as a SQLite file inside the tree has it;
    # one psql for both (a psql and its session cost more than either)
    psql -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE twin_$$_$_pg_n
      TEMPLATE ${from%%\?*}$PG_COPY" -c "\\c twin_$$_$_pg_n" \
      -c "UPDATE trees SET path = '$(cd "$2" && pwd -P)'" >/dev/null
  }
  drop_tree() {
    local uri
    uri=$(pg_uri_of "$1")
    rm -rf "$1"
    [ -n "$uri" ] || return 0
    uri=${uri#postgresql:///}
    psql -qAtX -c "DROP DATABASE IF EXISTS ${uri%%\?*} WITH (FORCE)" \
      >/dev/null
  }
  drop_db() {
    local uri
    uri=$(pg_uri_of)
    rm -rf .storysync
    [ -n "$uri" ] || return 0
    sed -i '/^database: /d' .storysync.local.yml
    uri=${uri#postgresql:///}
    psql -qAtX -c "DROP DATABASE IF EXISTS ${uri%%\?*} WITH (FORCE)" \
      >/dev/null
  }
  # tree_state on a server: no integrity_check nor journal mode (its
  # "ok" stands for them), the rows by psql
  tree_state() {
    local here=$PWD
    cd "$1" || return 1
    echo ok
    psql -qAtX -F '|' -v ON_ERROR_STOP=1 -d "$(pg_uri_of)" -c "SELECT id,
      backlog, status, epic, title, priority, points, assignees, labels,
      extra, body, path, created FROM stories ORDER BY id" \
      -c "SELECT story_id, depends_on FROM story_dependencies ORDER BY 1, 2"
    find . -name '*.storysync-*' -printf 'tmp %p\n' -o \
      -path './stories/*' -type f -exec md5sum {} + | LC_ALL=C sort
    cd "$here" || return 1
  }
  db_ref() { pg_uri_of; }
  sqlite_only() { skip "SQLite's only: $1"; return 1; }
  run_record() { echo .storysync/server.run; }
  # every table's rows but sync_runs', and the columns, as one digest
  db_digest() {
    q "SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (SELECT
        table_name || ':' || query_to_xml(format('SELECT md5(coalesce(
          string_agg(t::text, chr(10) ORDER BY t::text), %L)) AS d
          FROM %I t', '', table_name), false, false, '')::text AS x
        FROM information_schema.tables WHERE table_schema = 'public'
          AND table_name <> 'sync_runs'
        UNION ALL SELECT table_name || '.' || column_name || ' ' ||
          data_type FROM information_schema.columns
        WHERE table_schema = 'public') c"
  }
fi
