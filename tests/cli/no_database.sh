#!/bin/bash
# Issue 25, a typo is not a new database: only init creates one, as restic
# init does. sync (a dry run too), conflicts and history --backfill on a
# missing database exit 2, say to run init (and where database: named it),
# and make neither the database nor its folder. init below a tree that has
# a configuration says so and writes nothing. The git hooks on a tree not
# initialised say so in their log, and sync once init ran. The oracles:
# find, sqlite3, git.
. "$(dirname "$0")/lib.sh"

story() { # FILE ID TITLE
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n---\nbody\n' "$2" "$3" >"$1"
}
listing() { find . -mindepth 1 -not -path './.git/*' | LC_ALL=C sort; }

# ---- a configuration, no database ----
story backlog/A-1-one.md A-1 One
printf 'database: .storysync/stories.db\n' >.storysync.yml
before=$(listing)
want="storysync: $T/.storysync.yml:1:11: no database at $T/$DB (storysync init creates one; a typo in 'database'?); nothing written"
for cmd in "" sync -q "sync --full" "sync --dry-run" conflicts \
  "conflicts --resolve" "conflicts 1"; do
  # shellcheck disable=SC2086 # the command's words
  run ss $cmd
  check_eq "'storysync $cmd' with no database: exit 2, run init" \
    "2|$want" "$rc|$out$err"
done
check_eq "no database made, and no folder for it" "$before" "$(listing)"
run ss status -q
check_eq "status: stale, never synced, init creates it" \
  "6|stale: never synced (no database yet: storysync init creates it)" \
  "$rc|$out"
# the default database, named nowhere
: >.storysync.yml
run ss
check_eq "the default database: no position to name" \
  "2|storysync: no database at $T/$DB (storysync init creates one); nothing written" \
  "$rc|$out$err"
check_eq "still nothing made" "$before" "$(listing)"

# ---- init creates it; a typo in database: then creates nothing ----
rm .storysync.yml
ss init -q || not_ok "init"
run ss
check_eq "after init, sync" "0|storysync: 1 created" "$rc|$out$err"
db=$(db_digest)
sed -i 's|^database: .*|database: .storysinc/stories.db|' .storysync.yml
line=$(grep -n '^database:' .storysync.yml | cut -d: -f1)
before=$(listing)
run ss -q
check_eq "a typo in database: exit 2, where it was named" \
  "2|storysync: $T/.storysync.yml:$line:11: no database at $T/.storysinc/stories.db (storysync init creates one; a typo in 'database'?); nothing written" \
  "$rc|$out$err"
check_eq "no second database, no .storysinc folder" "$before" "$(listing)"
check_eq "the real one untouched" "$db" "$(db_digest)"
# named in the untracked file, that file is named
sed -i 's|^database: .*|database: .storysync/stories.db|' .storysync.yml
printf '# this machine\ndatabase: .storysinc/x.db\n' >.storysync.local.yml
run ss
check_eq "a typo in .storysync.local.yml: that file named" \
  "2|storysync: $T/.storysync.local.yml:2:11: no database at $T/.storysinc/x.db (storysync init creates one; a typo in 'database'?); nothing written" \
  "$rc|$out$err"
rm .storysync.local.yml

# ---- history --backfill on a repository with no database ----
mkdir "$T/repo" && cd "$T/repo" || exit 1
git init -q . && story backlog/R-1-one.md R-1 One
printf 'database: db/stories.db\n' >.storysync.yml
git add -A && git -c user.name=A -c user.email=a@example.org commit -qm one
run ss history --backfill
check_eq "history --backfill with no database: exit 2, run init" \
  "2|storysync: $T/repo/.storysync.yml:1:11: no database at $T/repo/db/stories.db (storysync init creates one; a typo in 'database'?); nothing written" \
  "$rc|$out$err"
check_eq "no db folder" no "$([ -e db ] && echo yes || echo no)"

# ---- the hooks on a tree not initialised, then initialised ----
with_hooks
export STORYSYNC_HOOK_FOREGROUND=1
ss install-hooks -q || not_ok "install-hooks"
story backlog/R-2-two.md R-2 Two
run git add -A
run git commit -qm two
check_eq "the commit is not failed by the hook" 0 "$rc"
check_contains "the hook's run says to run init, in its log" \
  "no database at $T/repo/db/stories.db (storysync init creates one" \
  "$(cat .git/storysync.log)"
check_eq "and made no database" no "$([ -e db ] && echo yes || echo no)"
ss init -q || not_ok "init"
story backlog/R-3-three.md R-3 Three
git add -A && git commit -qm three
check_eq "after init, the hook's run syncs the commit" "R-1 R-2 R-3" \
  "$(sqlite3 -batch db/stories.db 'SELECT id FROM stories ORDER BY id' | tr '\n' ' ' | sed 's/ $//')"

# ---- init below a tree that has a configuration ----
cd "$T" || exit 1
mkdir -p backlog/sub && cd backlog/sub || exit 1
run ss init
check_eq "init below a configured tree: exit 2, names it" \
  "2|storysync: init: $T/.storysync.yml already configures the tree this directory is in: nothing written (storysync finds it from here; for a tree of its own here: storysync -c .storysync.yml init)" \
  "$rc|$out$err"
check_eq "nothing written there" "" "$(ls -A)"
run ss -c .storysync.yml init -q
check_eq "-c .storysync.yml: a tree of its own, as asked" "0|yes|yes" \
  "$rc|$([ -f .storysync.yml ] && echo yes)|$([ -f "$DB" ] && echo yes)"
finish
