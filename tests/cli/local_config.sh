#!/bin/bash
# Issue 20: no command and no write from a committed file. What runs a
# command or writes outside the tree (notify, notify_timeout, log,
# metrics_file, a database outside the tree) comes only from an untracked
# .storysync.local.yml (or an untracked -c file): a branch that sets it in
# .storysync.yml, or commits a .storysync.local.yml, runs nothing and
# writes nothing when the hooks sync it on checkout. No operational path
# may be the database, its files, a story or inside .git. notify's output
# goes to the log, never to standard output. status and metrics agree on
# what is pending, and status escapes control characters of file names.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client

with_hooks
# the hook's sync done when git returns, so that each check sees it
export STORYSYNC_HOOK_FOREGROUND=1

story() { # FILE ID TITLE: writes a story by hand
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n---\n\nBody of %s.\n' "$2" "$3" "$2" >"$1"
}
# Everything the database holds, sync_runs included: a refused run opens it
# not at all.
db_all() { sqlite3 -batch "$DB" .dump | md5sum; }
hook_log() { cat "$(git rev-parse --git-path storysync.log)" 2>/dev/null; }
versioned() { # KEY-AND-WHAT: the error of a key .storysync.yml may not set
  echo "$1: .storysync.yml is versioned, so it may not set it; move it to .storysync.local.yml, which git does not track"
}

git init -q repo && cd repo || exit 1
run ss init
check_rc "init" 0
check_contains "init says it keeps the local file out of git" \
  "storysync: .gitignore keeps .storysync.local.yml out of git" "$out"
run git check-ignore -v .storysync.local.yml
check_eq "git ignores .storysync.local.yml, by init's .gitignore line" \
  "0|.gitignore:2:/.storysync.local.yml	.storysync.local.yml" "$rc|$out"
run ss init
check_eq "init again adds no second line" \
  "1" "$(grep -c 'storysync.local.yml' .gitignore)"
story backlog/A-1-one.md A-1 One
story backlog/A-2-two.md A-2 Two
ss -q sync && git add -A && git commit -qm stories
run ss install-hooks
check_rc "install-hooks" 0

# ---- the attack: a branch's .storysync.yml sets a command or a path ----
# Each branch also edits a story, so that a sync would have something to
# notify about; checking it out fires post-checkout, which syncs.
n=0
attack() { # DESC LINE TARGET EXPECTED-ERROR
  local desc=$1 line=$2 target=$3 want=$4 before runs lineno
  n=$((n + 1))
  git checkout -q -b "evil$n" main
  echo "$line" >>.storysync.yml
  sed -i "s/^title: One.*/title: One, by branch $n/" backlog/A-1-one.md
  git commit -qam "evil $n"
  git checkout -q main
  before=$(db_all)
  : >"$(git rev-parse --git-path storysync.log)"
  git checkout -q "evil$n"
  lineno=$(grep -n -F -x -- "$line" .storysync.yml | cut -d: -f1)
  check_eq "$desc: nothing at $target after the checkout" "" \
    "$(ls -d "$target" 2>/dev/null)"
  check_eq "$desc: the hook's run is refused, saying where the key goes" \
    "storysync: .storysync.yml:$lineno:${5:-1}: $want" "$(hook_log)"
  check_eq "$desc: nothing written to the database" "$before" "$(db_all)"
  run ss sync
  check_eq "$desc: a plain run: exit 2, the same message" \
    "2|storysync: $T/repo/.storysync.yml:$lineno:${5:-1}: $want" "$rc|$err"
  check_eq "$desc: and nothing at $target" "" \
    "$(ls -d "$target" 2>/dev/null)"
  check_eq "$desc: the edit waits, not synced" "One" \
    "$(q "SELECT title FROM stories WHERE id = 'A-1'")"
  git checkout -q main
}
attack "notify" "notify: 'id > owned'" owned \
  "$(versioned "'notify' runs a command")"
check_eq "notify: no file 'owned' anywhere" "" \
  "$(find "$T" "$O" -name owned)"
attack "notify_timeout" "notify_timeout: 5" "$O/none" \
  "$(versioned "'notify_timeout' goes with notify, which runs a command")"
attack "metrics_file" "metrics_file: $O/evil.prom" "$O/evil.prom" \
  "$(versioned "'metrics_file' writes a file")"
attack "log" "log: $O/evil.log" "$O/evil.log" \
  "$(versioned "'log' writes a file")"
# database: the branch replaces the line
sed_attack() { # DESC SED-EXPR TARGET EXPECTED-ERROR COL
  local before lineno
  n=$((n + 1))
  git checkout -q -b "evil$n" main
  sed -i "$2" .storysync.yml
  sed -i "s/^title: One.*/title: One, by branch $n/" backlog/A-1-one.md
  git commit -qam "evil $n"
  git checkout -q main
  before=$(db_all)
  : >"$(git rev-parse --git-path storysync.log)"
  git checkout -q "evil$n"
  lineno=$(grep -n '^database:' .storysync.yml | cut -d: -f1)
  check_eq "$1: nothing at $3" "" "$(ls -d "$3" 2>/dev/null)"
  check_eq "$1: the hook's run is refused" \
    "storysync: .storysync.yml:$lineno:$5: $4" "$(hook_log)"
  check_eq "$1: nothing written to the database" "$before" "$(db_all)"
  git checkout -q main
}
sed_attack "an absolute database" "s|^database:.*|database: $O/evil.db|" \
  "$O/evil.db" "$(versioned "'database': '$O/evil.db' is outside the tree")" 11
sed_attack "a database through '..'" 's|^database:.*|database: ../evil.db|' \
  "$T/evil.db" "$(versioned "'database': '../evil.db' is outside the tree")" 11
sed_attack "a database inside .git" \
  's|^database:.*|database: .git/hooks/evil.db|' ".git/hooks/evil.db" \
  "$(versioned "'database': '.git/hooks/evil.db' is inside .git")" 11
# a symlink committed in the tree that leads out of it
n=$((n + 1))
git checkout -q -b "evil$n" main
ln -s "$O/elsewhere" out && mkdir -p "$O/elsewhere"
sed -i 's|^database:.*|database: out/evil.db|' .storysync.yml
git add -A && git commit -qm "evil $n"
git checkout -q main
before=$(db_all)
: >"$(git rev-parse --git-path storysync.log)"
git checkout -q "evil$n"
check_eq "a database through a symlink out of the tree: nothing there" "" \
  "$(ls "$O/elsewhere")"
check_eq "it is refused" \
  "storysync: .storysync.yml:5:11: $(versioned "'database': 'out/evil.db' leads out of the tree (or into .git) through a symlink")" \
  "$(hook_log)"
check_eq "and nothing written to the database" "$before" "$(db_all)"
git checkout -q main

# ---- a branch that commits .storysync.local.yml ----
# This machine's own local file is ignored, so git replaces it on checkout
# with the branch's: git's index then holds it, and it is refused.
printf 'log: .storysync/sync.log\n' >.storysync.local.yml
run ss sync
check_rc "an untracked local file is read" 0
# asked of git's index file itself: the run loads no libgit2 (the git
# module) for it, as a tree without a local file does not
if command -v strace >/dev/null; then
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq \
    -e trace=openat -o "$O/trace" "$bin" sync >/dev/null 2>&1
  check_eq "a no-op with a local file loads no libgit2" "" \
    "$(grep -o 'storysync-git[^"]*\|libgit2[^"]*' "$O/trace")"
fi
git checkout -q -b evil-local main
printf "notify: 'id > owned-local'\n" >.storysync.local.yml
sed -i "s/^title: One.*/title: One, by evil-local/" backlog/A-1-one.md
git add -f .storysync.local.yml && git commit -qam "evil local"
git checkout -q main
check_eq "back on main, git took the tracked local file away" "" \
  "$(ls .storysync.local.yml 2>/dev/null)"
printf 'log: .storysync/sync.log\n' >.storysync.local.yml
before=$(db_all)
: >"$(git rev-parse --git-path storysync.log)"
git checkout -q evil-local
check_eq "the branch's local file replaced the ignored one" \
  "notify: 'id > owned-local'" "$(cat .storysync.local.yml)"
check_eq "the tracked local file runs nothing" "" \
  "$(find "$T" "$O" -name owned-local)"
local_msg="git tracks this file, but what it sets may run commands and write files, which no file in the repository may: untrack it (git rm --cached) and keep it in .gitignore"
check_eq "the hook's run is refused, saying why" \
  "storysync: .storysync.local.yml: $local_msg" "$(hook_log)"
check_eq "and nothing written to the database" "$before" "$(db_all)"
run ss status
check_eq "every command refuses it: status, exit 2" \
  "2|storysync: $T/repo/.storysync.local.yml: $local_msg" "$rc|$err"
# what the user does next: untrack it, and the run goes on (with its own
# settings, the edit of the branch synced)
git rm -q --cached .storysync.local.yml
printf 'log: .storysync/sync.log\n' >.storysync.local.yml
run ss sync
check_eq "untracked again: the run syncs the branch's edit" \
  "0|One, by evil-local" "$rc|$(q "SELECT title FROM stories WHERE id = 'A-1'")"
check_eq "still nothing ran" "" "$(find "$T" "$O" -name owned-local)"
rm -f .storysync.local.yml
git reset -q --hard && git checkout -q main
ss -q sync

# ---- a -c file of the service's: read while git does not track it ----
cp .storysync.yml service.yml
echo "notify: cat >$O/service-events" >>service.yml
story backlog/A-3-three.md A-3 Three
run ss -c service.yml sync
check_eq "an untracked -c file may run notify" "0|yes" \
  "$rc|$([ -s "$O/service-events" ] && echo yes)"
git add service.yml
run ss -c service.yml sync
lineno=$(grep -n '^notify:' service.yml | cut -d: -f1)
check_eq "tracked, it is refused" \
  "2|storysync: service.yml:$lineno:1: 'notify' runs a command: git tracks this file, so it may not set it; move it to service.local.yml, which git does not track" \
  "$rc|$err"
git rm -q --cached service.yml && rm service.yml
git add backlog && git commit -qm three

# ---- the sequence: the key moved where it belongs, it runs ----
git checkout -q evil1
sed -i '/^notify:/d' .storysync.yml
printf "notify: 'cat >%s/events; id >owned'\nlog: .storysync/sync.log\n" "$O" \
  >.storysync.local.yml
# the hook's run on this checkout was refused, so the run that follows
# it is the hook's own (a plain run holds git's versions on a checkout
# that left the synced line: evil1 is not on main's line since 'three')
run ss sync --git
check_eq "moved to .storysync.local.yml: the run syncs, notify runs" \
  "0|One, by branch 1|yes" \
  "$rc|$(q "SELECT title FROM stories WHERE id = 'A-1'")|$([ -e owned ] && echo yes)"
check_eq "with the run's events on its standard input (A-3 came later)" \
  "A-1 updated
A-3 deleted" \
  "$(python3 -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e['id'], e['change'])" "$O/events")"
check_eq "git does not see the local file" "" \
  "$(git status --porcelain --untracked-files=all .storysync.local.yml)"
rm -f owned .storysync.local.yml
git checkout -q -- . && git checkout -q main && ss -q sync

# ---- operational paths: never the database, its files, a story, .git ----
before_db=$(md5sum <$DB)
before_story=$(md5sum <backlog/A-2-two.md)
sed -i 's/^title: One.*/title: One, edited/' backlog/A-1-one.md
refused() { # DESC LOCAL-LINE COL EXPECTED-MESSAGE-TAIL
  printf '%s\n' "$2" >.storysync.local.yml
  run ss sync
  check_eq "$1" \
    "2|storysync: $T/repo/.storysync.local.yml:1:$3: $4" "$rc|$err"
}
family="is the database or one of its files (-wal, -shm, -journal, .lock, .run, .writes, .statcache)"
refused "metrics_file: the database is refused" \
  "metrics_file: .storysync/stories.db" 15 \
  "'metrics_file': '.storysync/stories.db' $family"
refused "metrics_file: the same through another spelling" \
  "metrics_file: ./.storysync/../.storysync/stories.db" 15 \
  "'metrics_file': './.storysync/../.storysync/stories.db' $family"
refused "metrics_file: its write journal" \
  "metrics_file: .storysync/stories.db.writes" 15 \
  "'metrics_file': '.storysync/stories.db.writes' $family"
refused "log: its -wal" "log: $T/repo/.storysync/stories.db-wal" 6 \
  "'log': '$T/repo/.storysync/stories.db-wal' $family"
ln "$DB" "$O/hardlink.db"
refused "log: a hard link to it" "log: $O/hardlink.db" 6 \
  "'log': '$O/hardlink.db' $family"
refused "metrics_file: a story" "metrics_file: backlog/A-2-two.md" 15 \
  "'metrics_file': 'backlog/A-2-two.md' lies in the stage directory 'backlog' of backlog 'default', among the stories"
refused "log: a new file among the stories" "log: active/sync.log" 6 \
  "'log': 'active/sync.log' lies in the stage directory 'active' of backlog 'default', among the stories"
refused "log: inside .git" "log: .git/storysync.log" 6 \
  "'log': '.git/storysync.log' lies inside .git"
ln -s .git/info gitinfo
refused "metrics_file: into .git through a symlink" \
  "metrics_file: gitinfo/exclude" 15 \
  "'metrics_file': 'gitinfo/exclude' lies inside .git"
rm gitinfo
refused "metrics_file: the configuration" "metrics_file: .storysync.yml" 15 \
  "'metrics_file': '.storysync.yml' is a configuration file"
check_eq "the database is byte-identical" "$before_db" "$(md5sum <$DB)"
check_eq "and it is still a database" "3" \
  "$(q "SELECT count(*) FROM stories")"
check_eq "the story is byte-identical" "$before_story" \
  "$(md5sum <backlog/A-2-two.md)"
check_eq "nothing was written inside .git" "" \
  "$(grep -l 'storysync_' .git/info/exclude)"
printf 'metrics_file: .storysync/metrics.prom\nlog: .storysync/sync.log\n' \
  >.storysync.local.yml
run ss sync
check_eq "beside the database, under other names: fine" "0|yes|yes" \
  "$rc|$(grep -q '^storysync_healthy' .storysync/metrics.prom && echo yes)|$(tail -n 1 .storysync/sync.log | grep -q 'synced: 1 updated' && echo yes)"

# ---- notify's output goes to the log, never to standard output ----
sed -i 's/^title: One.*/title: One, for notify/' backlog/A-1-one.md
printf '%s\n' "log: .storysync/sync.log" \
  "notify: 'cat >/dev/null; seq 1 2000000; printf \"\\033[31mred\\n\"'" \
  >.storysync.local.yml
bytes=$(($(seq 1 2000000 | wc -c) + $(printf '\033[31mred\n' | wc -c)))
run ss -q sync
check_eq "-q: nothing on stdout or stderr, however much notify says" \
  "0||" "$rc|$out|$err"
check_eq "the log has its exit status and its first lines" \
  "info $T/repo: notify: 'cat >/dev/null; seq 1 2000000; printf \"\\033[31mred\\n\"' exited 0, its output:
info $T/repo: notify: > 1
info $T/repo: notify: > 2
info $T/repo: notify: > 3
info $T/repo: notify: > 4
info $T/repo: notify: > 5
info $T/repo: notify: > ... ($bytes bytes in all)" \
  "$(tail -n 7 .storysync/sync.log | cut -d' ' -f3-)"
sed -i 's/^title: One.*/title: One, for notify again/' backlog/A-1-one.md
printf '%s\n' "log: .storysync/sync.log" \
  "notify: 'cat >/dev/null; echo out; printf \"\\033[31mred\\n\" >&2; exit 3'" \
  >.storysync.local.yml
run ss sync
check_eq "without -q: the summary alone on stdout; the failure on stderr" \
  "0|storysync: 1 updated|storysync: notify: 'cat >/dev/null; echo out; printf \"\\033[31mred\\n\" >&2; exit 3' exited 3" \
  "$rc|$out|$err"
check_eq "the log: the failure, then its output (stderr too, escaped)" \
  "error $T/repo: notify: 'cat >/dev/null; echo out; printf \"\\033[31mred\\n\" >&2; exit 3' exited 3, its output:
error $T/repo: notify: > out
error $T/repo: notify: > \\x1b[31mred" \
  "$(tail -n 3 .storysync/sync.log | cut -d' ' -f3-)"
rm .storysync.local.yml

# ---- status and metrics agree on what is pending ----
pending_metrics() {
  ss metrics | "$PY" -c "
import sys
from prometheus_client.parser import text_string_to_metric_families as f
for fam in f(sys.stdin.read()):
    if fam.name == 'storysync_pending_changes':
        print(' '.join('%s=%d' % (s.labels['side'], s.value) for s in fam.samples))"
}
pending_status() { ss status | sed -n 's/^pending: //p'; }
ss -q sync
touch backlog/*.md
check_eq "touched, unchanged: status says nothing is pending" "nothing" \
  "$(pending_status)"
check_eq "and so do the metrics" "db=0 files=0" "$(pending_metrics)"
sed -i 's/^title: Two.*/title: Two, edited/' backlog/A-2-two.md
check_eq "a file edited: status" "1 updated" "$(pending_status)"
check_eq "a file edited: metrics" "db=0 files=1" "$(pending_metrics)"
q "UPDATE stories SET title = 'Three by the API' WHERE id = 'A-3'"
check_eq "and a row: status" "2 updated" "$(pending_status)"
check_eq "and a row: metrics" "db=1 files=1" "$(pending_metrics)"
q "UPDATE stories SET title = 'Two by the API' WHERE id = 'A-2'"
check_eq "both sides of one story: status" "2 updated, 1 conflict" \
  "$(pending_status)"
check_eq "both sides of one story: metrics count it on both" "db=2 files=1" \
  "$(pending_metrics)"
ss -q sync
touch backlog/*.md
check_eq "after the run, touched again: nothing, both ways" "nothing|db=0 files=0" \
  "$(pending_status)|$(pending_metrics)"

# ---- status escapes control characters of file names ----
bad=$(printf 'backlog/bad\nname\033[31m.md')
printf -- '---\nid: [\n---\n' >"$bad"
ss -q sync
ss status >"$O/status"
check_eq "status: the name's newline and escape, as \\x0a and \\x1b" \
  "  backlog/bad\\x0aname\\x1b[31m.md:2:5: 'id' must be a scalar" \
  "$(sed -n '/^errors of the last run:/{n;p}' "$O/status")"
check_eq "no control character but newlines in status's output" "0" \
  "$(python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
print(sum(1 for b in d if (b < 32 and b != 10) or b == 127))" "$O/status")"
check_eq "--json: one error, the same name" \
  "1|backlog/bad\\x0aname\\x1b[31m.md:2:5: 'id' must be a scalar" \
  "$(ss --json status | python3 -c "
import json, sys
e = json.load(sys.stdin)['last_run_errors']
print('%d|%s' % (len(e), e[0]))")"

# ---- a symlink the repository holds on the way of a path a run writes
# (campaign19): a branch adds one where the admin's ignored log file, the
# metrics' directory, the run lock or a server database's .storysync/
# stood (git replaces ignored files on checkout); a run follows none of
# them: nothing is made or appended out of the tree. The log's lines
# hold names the repository gave, so a log led into a shell's startup
# file ran a command (a story named S-2-$(touch PWNED).md) ----
mkdir -p "$O/outside/metrics" && printf 'precious\n' >"$O/outside/bashrc"
git init -q "$T/linked" && cd "$T/linked" || exit 1
story backlog/L-1-one.md L-1 One
printf '.storysync/\n.storysync.local.yml\nlogs/\nmetrics/\n' >.gitignore
mkdir -p logs metrics
printf 'log: logs/sync.log\nmetrics_file: metrics/m.prom\n' >.storysync.local.yml
ss init -q && git add -A && git commit -qm init && ss -q ||
  not_ok "linked: the tree"
check_eq "linked: the log and the metrics, in the tree" "yes|yes" \
  "$(grep -q 'synced: 1 created' logs/sync.log && echo yes)|$(grep -q '^storysync_healthy' metrics/m.prom && echo yes)"
git checkout -q -b evil
rm -r logs metrics
mkdir logs && ln -s "$O/outside/bashrc" logs/sync.log
ln -s "$O/outside/metrics" metrics
printf -- '---\nid: L-2\n---\nno title\n' >'backlog/L-2-$(touch PWNED).md'
git add -f logs/sync.log metrics && git add -A && git commit -qm evil
git checkout -q main && git checkout -q evil
check_eq "linked: git put the links in place of the ignored files" \
  "$O/outside/bashrc|$O/outside/metrics" \
  "$(readlink logs/sync.log)|$(readlink metrics)"
run ss
# the log's own name a link: storysync's file, removed and made afresh
# (issue 19); the metrics' directory a link: not followed, said
check_eq "linked: the run follows neither, and says so" \
  "1|storysync: warning: $T/linked/logs/sync.log: a symbolic link where storysync keeps its log, never versioned content: removed (not followed), made afresh; git tracks it: untrack it: git rm --cached, and commit|metrics_file: $T/linked/metrics/m.prom: a symlink in the tree on its way, which storysync does not follow; not written" \
  "$rc|$(grep -F "$T/linked/logs/sync.log" <<<"$err")|$(grep -o 'metrics_file: .*' <<<"$err")"
check_eq "linked: nothing written through them, the log in the tree" \
  "precious||yes" \
  "$(cat "$O/outside/bashrc")|$(ls "$O/outside/metrics")|$([ -f logs/sync.log ] && [ ! -L logs/sync.log ] && grep -q 'missing required key' logs/sync.log && echo yes)"
# a link git puts there after the run's check (a checkout beside a run)
# is not followed either: the log in the tree is opened beneath the root
# through no symlink (review8)
git checkout -q main
if command -v strace >/dev/null; then
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq \
    -e trace=openat2 -o "$O/log.st" "$bin" -q >/dev/null 2>&1
  check_eq "linked: the log opened beneath the root, through no symlink" 1 \
    "$(grep -c '"logs/sync.log", {flags=O_WRONLY|O_CREAT|O_APPEND.*RESOLVE_NO_SYMLINKS' "$O/log.st")"
else
  skip "linked: strace is needed for the log's open"
fi
# the run lock, committed as a link to a name out of the tree, in a
# fresh clone: init and a run make nothing there
git init -q "$T/evil-lock" && cd "$T/evil-lock" || exit 1
story backlog/E-1-one.md E-1 One
mkdir .storysync && ln -s "$O/outside/made" .storysync/stories.db.lock
git add -A && git commit -qm evil && git clone -q . "$T/cloned" &&
  cd "$T/cloned" || exit 1
ss init -q >/dev/null 2>&1
run ss
# storysync's own file: the link removed, never followed, and said (was
# exit 3 on every run: issue 19)
lock=$T/cloned/.storysync/stories.db.lock
check_eq "lock: the run removes the link, and makes nothing out of the tree" \
  "0|storysync: warning: $lock: a symbolic link where storysync keeps its run lock, never versioned content: removed (not followed), made afresh; git tracks it: untrack it: git rm --cached, and commit|no|no" \
  "$rc|$err|$([ -e "$O/outside/made" ] && echo yes || echo no)|$([ -L "$lock" ] && echo yes || echo no)"
# a server's database: the checkout's files go to ROOT/.storysync/, which
# the clone holds as a link out of the tree (the server is never reached)
git init -q "$T/evil-dir" && cd "$T/evil-dir" || exit 1
story backlog/E-1-one.md E-1 One
printf '.storysync.local.yml\n' >.gitignore && : >.storysync.yml
mkdir -p "$O/outside/dir" && ln -s "$O/outside/dir" .storysync
git add -A && git commit -qm evil && git clone -q . "$T/cloned2" &&
  cd "$T/cloned2" || exit 1
printf 'database: postgresql://nobody@127.0.0.1:1/none?connect_timeout=1\n' \
  >.storysync.local.yml
run ss
check_eq "server: the run refuses the link, and writes nothing out of the tree" \
  "2|storysync: $T/cloned2/.storysync/server: a symlink in the tree on its way: the checkout's files for the server's database (the run lock, the journal) would be written where it leads; remove it|" \
  "$rc|$err|$(ls "$O/outside/dir")"
cd "$T/repo" || exit 1

# ---- git's split index (core.splitIndex), which libgit2 cannot read: ----
# every run with a local file failed (exit 2, "unsupported mandatory
# extension: 'link'"); HEAD's commit says then whether git tracks it
git init -q "$T/split" && cd "$T/split" || exit 1
git config core.splitIndex true
story backlog/S-1-one.md S-1 One
ss init -q >/dev/null 2>&1
printf '.storysync/\n.storysync.local.yml\n' >.gitignore
git add -A && git commit -qm init
printf 'notify: cat >%s/split-events\n' "$O" >.storysync.local.yml
story backlog/S-2-two.md S-2 Two
run ss sync
check_eq "split index: an untracked local file is read, its notify runs" \
  "0||yes|yes|Two" \
  "$rc|$err|$(ls .git/sharedindex.* >/dev/null 2>&1 && echo yes)|$([ -s "$O/split-events" ] && echo yes)|$(q "SELECT title FROM stories WHERE id = 'S-2'")"
git checkout -q -b evil-split
printf "notify: 'id > owned-split'\n" >.storysync.local.yml
git add -f .storysync.local.yml && git commit -qm evil
story backlog/S-3-three.md S-3 Three
before=$(db_all)
run ss sync
check_eq "split index, HEAD holds the local file: refused, nothing ran or written" \
  "2|storysync: $T/split/.storysync.local.yml: $local_msg||$before" \
  "$rc|$err|$(find "$T" "$O" -name owned-split)|$(db_all)"
cd "$T/repo" || exit 1

finish
