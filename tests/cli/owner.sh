#!/bin/bash
# Issue 25, whose files: a command that writes, run by a user who does not
# own the tree (root included), refuses as git's safe.directory does,
# names the owner and says what to do, and writes nothing; an untracked
# file of the running user's (or root's) may allow it, a file of the
# tree's owner may not, nor may the versioned .storysync.yml. Allowed, what
# a root run creates takes its directory's owner. install-hooks is such a
# command. The oracles: stat, find, sqlite3.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  ok "# skip: needs root and setpriv to become another user"
  finish
  exit
fi
chmod 755 "$T"
runs_as_nobody || not_ok "a copy of the program nobody can run"
nobody() { as_nobody "$@"; }
story() { # FILE ID TITLE
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n---\nbody\n' "$2" "$3" >"$1"
}
# every path below ., with its owner, group, size and time: what a refused
# run must leave as it was
snapshot() { find . -printf '%p %u:%g %s %T@\n' | LC_ALL=C sort | md5sum; }
# the paths below . not owned by nobody:nogroup, but those named
not_nobodys() {
  find . ! \( -user nobody -group nogroup \) -printf '%p\n' | LC_ALL=C sort |
    grep -vxF -f <(printf '%s\n' . "$@") | tr '\n' ' ' | sed 's/ $//'
}
refusal() { # DIR OWNER RUNNER
  echo "storysync: $1 belongs to $2, not to $3 who runs storysync: what it" \
    "creates there would be $3's; nothing written. Run it as $2 (sudo -u" \
    "$2 storysync ..., or User=$2 in a drop-in of the systemd unit), or" \
    "allow it with \"allow_other_users: true\" in $1/.storysync.local.yml," \
    "a file of $3's"
}

# ---- root on a tree nobody owns, synced by nobody ----
mkdir tree && cd tree || exit 1
story backlog/A-1-one.md A-1 One
story active/A-2-two.md A-2 Two
chown -R nobody:nogroup "$T/tree"
run nobody "$STORYSYNC" init -q
check_rc "the owner's init" 0
run nobody "$STORYSYNC" sync
check_eq "the owner's sync" "0|storysync: 2 created" "$rc|$out$err"
q "UPDATE stories SET title = 'From the API' WHERE id = 'A-1'"
before=$(snapshot)
want=$(refusal "$T/tree" nobody root)
for cmd in sync "sync --full" -q init "conflicts --resolve" \
  "history --backfill"; do
  # shellcheck disable=SC2086 # the command's words
  run ss $cmd
  check_eq "root's $cmd on nobody's tree: refused, exit 2, what to do" \
    "2|$want" "$rc|$out$err"
done
check_eq "nothing written: every file, owner, size and time as it was" \
  "$before" "$(snapshot)"
check_eq "the API's edit is still waiting" "title: One" \
  "$(grep '^title:' backlog/A-1-one.md)"
run ss --dry-run
check_eq "reading is anyone's: root's dry run sees the edit, exit 0" \
  "0|would: updated  A-1 -> file backlog/A-1-one.md" \
  "$rc|$(head -n 1 <<<"$out")"
# (SQLite makes the -wal and -shm a reader needs, and as root gives them
# the database's owner)
check_eq "and leaves nothing of root's" "" "$(not_nobodys)"

# ---- who may allow it ----
echo "allow_other_users: true" >>.storysync.yml
run ss sync
check_eq "not the versioned .storysync.yml: an error that says where it goes" \
  "2|storysync: $T/tree/.storysync.yml:$(wc -l <.storysync.yml):1: 'allow_other_users' lets others than the tree's owner write it: .storysync.yml is versioned, so it may not set it; move it to .storysync.local.yml, which git does not track" \
  "$rc|$err"
sed -i '/^allow_other_users:/d' .storysync.yml
echo "allow_other_users: true" >.storysync.local.yml
chown nobody:nogroup .storysync.local.yml
before=$(snapshot)
run ss sync
check_eq "nor a file of the tree's owner: refused, saying why it does not count" \
  "2|$want; the allow_other_users of $T/tree/.storysync.local.yml does not count: that file is nobody's, not root's" \
  "$rc|$err"
check_eq "nothing written" "$before" "$(snapshot)"

# ---- allowed by root's own file: what root creates is nobody's ----
chown root:root .storysync.local.yml
q "INSERT INTO stories(id, status, epic, title)
   VALUES ('B-3', 'refinement', 'auth', 'Made by the API')"
run ss sync -v
check_rc "root's sync, allowed by a file of root's" 0
check_eq "a new stage folder, epic folder and story: nobody's (stat)" \
  "nobody:nogroup nobody:nogroup nobody:nogroup" \
  "$(stat -c %U:%G refinements refinements/auth refinements/auth/B-3-made-by-the-api.md | tr '\n' ' ' | sed 's/ $//')"
check_eq "the rewritten story stays nobody's" "nobody:nogroup|title: From the API" \
  "$(stat -c %U:%G backlog/A-1-one.md)|$(grep '^title:' backlog/A-1-one.md)"
check_eq "nothing in the tree is root's but root's own file" "" \
  "$(not_nobodys ./.storysync.local.yml)"
sed -i 's/^title: .*/title: Two, by nobody/' active/A-2-two.md
run nobody "$STORYSYNC" sync
check_eq "the owner syncs on after root's run" "0|storysync: 1 updated" \
  "$rc|$out$err"

# ---- init: refused, or allowed and nobody's ----
mkdir "$T/fresh" && cd "$T/fresh" || exit 1
story backlog/C-1-one.md C-1 One
chown -R nobody:nogroup .
run ss init
check_eq "root's init of nobody's folder: refused" \
  "2|$(refusal "$T/fresh" nobody root)" "$rc|$out$err"
check_eq "no configuration, no database" "./backlog ./backlog/C-1-one.md" \
  "$(find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
echo "allow_other_users: true" >.storysync.local.yml
run ss init
check_rc "allowed by root's file, init" 0
run ss sync
check_rc "and sync" 0
check_eq "the configuration, database and its files: nobody's" "" \
  "$(not_nobodys ./.storysync.local.yml)"
check_eq "the database is there, with the story" "C-1" \
  "$(q 'SELECT id FROM stories')"

# ---- nobody on a tree root owns ----
mkdir "$T/roots" && cd "$T/roots" || exit 1
story backlog/D-1-one.md D-1 One
ss init -q && ss sync >/dev/null || not_ok "root's own tree"
# writable by all: what stops nobody is whose it is, not a permission
chmod -R a+rwX .
sed -i 's/^title: .*/title: Edited/' backlog/D-1-one.md
before=$(snapshot)
run nobody "$STORYSYNC" sync
check_eq "nobody's sync of root's tree: refused, exit 2, what to do" \
  "2|$(refusal "$T/roots" root nobody)" "$rc|$out$err"
check_eq "nothing written" "$before" "$(snapshot)"
run nobody "$STORYSYNC" --dry-run -q --exit-code
check_eq "nobody may read: a dry run finds the edit pending" "1|" \
  "$rc|$out$err"

# ---- install-hooks: a hook runs as whoever commits; it is the owner's ----
mkdir "$T/repo" && cd "$T/repo" || exit 1
git init -q && story backlog/E-1-one.md E-1 One
chown -R nobody:nogroup .
hooks() { # the hooks in .git/hooks, with their owners
  find .git/hooks -type f ! -name '*.sample' -printf '%f %u\n' |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
before=$(snapshot)
run ss install-hooks
check_eq "root's install-hooks in nobody's repository: refused, exit 2" \
  "2|$(refusal "$T/repo" nobody root)" "$rc|$out$err"
check_eq "no hook written, nothing changed" "|$before" "$(hooks)|$(snapshot)"
# (git reads $HOME's configuration: root's is not nobody's to read)
run nobody env HOME=/nonexistent "$STORYSYNC" install-hooks -q
check_rc "the owner's install-hooks" 0
check_eq "its hooks are nobody's" 0 "$(hooks | grep -c ' root')"
check_eq "and there are hooks" 1 "$(hooks | grep -c post-commit)"
cd "$T/roots" && git init -q && before=$(snapshot)
run nobody "$STORYSYNC" install-hooks
check_eq "nobody's install-hooks in root's repository: refused, exit 2" \
  "2|$(refusal "$T/roots" root nobody)" "$rc|$out$err"
check_eq "no hook written, nothing changed" "|$before" "$(hooks)|$(snapshot)"
finish
