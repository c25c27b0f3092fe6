#!/bin/bash
# Issues 22 and 23: several trees in one PostgreSQL database, on a real
# server this test starts in its temp dir (pg_lib.sh). Two real git
# repositories holding the same ids, one in init's layout (tree 'default'),
# one like another tool's tree (tree 'tools'), point at one database: each
# tree's rows are its files (PyYAML against psql's rows, trees_oracle.py)
# and a fresh import of that tree alone into a database of its own; an API
# edit of one tree's story reaches only its file; a second checkout of a
# tree is refused (exit 4) and writes nothing; the advisory lock is per
# tree: a run of one tree proceeds while another session holds the
# other's. Skipped, saying why, only where no server can run (failing then
# under --setup postgresql).
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_need
pg_start || { not_ok "the server starts"; finish; exit 1; }
pg_db shared
SH=$PGURI
sq() { pq shared "$1"; }
story() { # FILE ID TITLE [DEPS_KEY DEPS]
  { printf -- '---\nid: %s\ntitle: %s\n' "$2" "$3"
    [ -n "${4:-}" ] && printf '%s: [%s]\n' "$4" "$5"
    printf -- '---\nbody of %s\n' "$2"; } >"$1"
}

# ---- A: init's layout, the default tree ----
mkdir "$T/a" && cd "$T/a" || exit 1
git init -q . && ss -q init
pg_local "$SH"
ss -q init
mkdir -p backlog active
story backlog/T-1-one.md T-1 "A one"
story backlog/T-2-two.md T-2 "A two" depends_on T-1
story active/T-3-three.md T-3 "A three"
git add -A && git commit -qm "A's stories"
run ss sync
check_eq "A: the first run creates its 3 stories" "0|storysync: 3 created" "$rc|$out$err"

# ---- B: another tool's tree, named ----
mkdir "$T/b" && cd "$T/b" || exit 1
git init -q .
cat >.storysync.yml <<'EOF'
tree: tools
backlogs:
  work: work
stages:
  todo: todo
  doing: doing
  done: done
keys:
  depends_on: blocked_by
EOF
pg_local "$SH"
mkdir -p work/todo work/doing
story work/todo/T-1-first.md T-1 "B first" blocked_by T-3
story work/todo/T-2-second.md T-2 "B second"
story work/doing/T-3-third.md T-3 "B third"
run ss init
check_contains "init of a second tree in the server's database registers it" \
  "ready (schema" "$out"
check_eq "registered: both trees, each with its checkout" \
  "default|$T/a
tools|$T/b" "$(sq "SELECT name, path FROM trees ORDER BY name")"
git add -A && git commit -qm "B's stories"
idx_oids() {
  sq "SELECT string_agg(oid::text, ' ' ORDER BY relname) FROM pg_class
    WHERE relname IN ('sync_state_path', 'status_history_story')"
}
oids=$(idx_oids)
run ss sync
check_eq "B: the first run creates its 3 stories, not deleting A's" \
  "0|storysync: 3 created" "$rc|$out$err"
# a first load drops and makes again only the indexes of tables with no
# row of any tree: here A's rows are there, and its indexes stay
check_eq "B's first load kept the indexes holding A's rows" "$oids" \
  "$(idx_oids)"
check_eq "the same ids in both trees" \
  "default T-1,default T-2,default T-3,tools T-1,tools T-2,tools T-3" \
  "$(sq "SELECT string_agg(tree || ' ' || id, ',' ORDER BY tree, id) FROM stories")"

oracle() { # DESC
  run python3 "$SOURCE_ROOT/tests/cli/trees_oracle.py" "$T/a" "$SH" default \
    depends_on default=. STAGE:backlog=backlog STAGE:active=active
  check_eq "$1: tree default's rows are its files (PyYAML, psql)" "0|" "$rc|$out"
  run python3 "$SOURCE_ROOT/tests/cli/trees_oracle.py" "$T/b" "$SH" tools \
    blocked_by work=work STAGE:todo=todo STAGE:doing=doing STAGE:done=done
  check_eq "$1: tree tools' rows are its files (PyYAML, psql)" "0|" "$rc|$out"
}
oracle "after both first runs"

cols="id, backlog, status, epic, title, priority, points, assignees::text,
  labels::text, extra::text, body, path, created, parent"
n_alone=0
alone() { # DIR TREE: a fresh import of the tree alone into a database of
  # its own on the same server = its rows in the shared one
  local d=$O/alone-$2
  n_alone=$((n_alone + 1))
  rm -rf "$d" && mkdir "$d"
  (cd "$1" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 cp --parents -t "$d")
  pg_db "alone_$n_alone"
  rm -f "$d/.storysync.local.yml"
  pg_local "$PGURI" "$d"
  (cd "$d" && ss -q init && ss -q sync --full)
  check_eq "tree $2's rows are a fresh import of it alone" \
    "$(pq "alone_$n_alone" "SELECT tree, $cols FROM stories ORDER BY id;
      SELECT tree, story_id, depends_on FROM story_dependencies ORDER BY 2, 3")" \
    "$(sq "SELECT tree, $cols FROM stories WHERE tree = '$2' ORDER BY id;
      SELECT tree, story_id, depends_on FROM story_dependencies
        WHERE tree = '$2' ORDER BY 2, 3")"
}
alone "$T/a" default
alone "$T/b" tools

# ---- an API edit reaches only its tree's file ----
asum=$(cd "$T/a" && tree_digest backlog active)
sq "UPDATE stories SET title = 'B second (API)' WHERE tree = 'tools' AND id = 'T-2'"
nruns=$(sq "SELECT count(*) FROM sync_runs")
cd "$T/a" && run ss sync
check_eq "A's run does not see B's row change" "0|" "$rc|$out$err"
check_eq "it is a no-op: no run row written" "$nruns" \
  "$(sq "SELECT count(*) FROM sync_runs")"
check_eq "and writes no file of A's" "$asum" "$(tree_digest backlog active)"
cd "$T/b" && run ss sync
check_eq "B's run takes it" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "into B's file" "title: B second (API)" \
  "$(grep '^title:' work/todo/T-2-second.md)"
check_eq "A's T-2 is as it was" "A two|title: A two" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-2'")|$(
    grep '^title:' "$T/a/backlog/T-2-two.md")"

# ---- a file edit reaches only its own row ----
cd "$T/a" && story backlog/T-1-one.md T-1 "A one, edited"
run ss sync
check_eq "A's file edit: one row updated" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "its row, not B's T-1" "A one, edited|B first" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-1'")|$(
    sq "SELECT title FROM stories WHERE tree = 'tools' AND id = 'T-1'")"
cd "$T/b" && run ss sync
check_eq "B's next run has nothing to do" "0|" "$rc|$out$err"
oracle "after the edits"

# ---- a second checkout of a tree is refused and writes nothing ----
dump() {
  sq "SELECT tree, $cols FROM stories ORDER BY tree, id;
      SELECT count(*) FROM sync_runs; SELECT count(*) FROM sync_events;
      SELECT name, host, path FROM trees ORDER BY name" | md5sum
}
cp -a "$T/b" "$T/b2"
sq "UPDATE stories SET title = 'B third (API)' WHERE tree = 'tools' AND id = 'T-3'"
before=$(dump)
b2sum=$(cd "$T/b2" && tree_digest work)
cd "$T/b2" && run ss sync
check_eq "a run from a second checkout of tools: exit 4" 4 "$rc"
check_contains "naming the checkout that holds the tree" \
  "is synced by the checkout $(hostname):$T/b, not this one" "$err"
check_eq "it wrote nothing to the database" "$before" "$(dump)"
check_eq "nor to a file" "$b2sum" "$(tree_digest work)"
run ss sync --force
check_eq "--force does not override it" 4 "$rc"
# a password in the URI (the server trusts, so it is never asked for) is
# masked in the refusal, as in every message
sed -i 's|^\(database: .*\)$|\1\&password=s3cret|' .storysync.local.yml
run ss sync
check_eq "with a password in the URI: exit 4, the password masked" \
  "4|yes|" "$rc|$(grep -q "tree 'tools' of $SH&password=\*\*\* is synced by" <<<"$err" && echo yes)|$(grep -o s3cret <<<"$err")"
rm -rf "$T/b2"

# ---- the advisory lock is per tree ----
# Another session holds tree tools' lock (as a run of it on another
# machine would): a run of tree default proceeds, one of tools is busy.
mkfifo "$O/m.in"
psql -qAtX -d shared <"$O/m.in" >"$O/m.out" 2>&1 &
mpid=$!
exec 7>"$O/m.in"
echo "SELECT pg_advisory_lock(hashtext('storysync'), hashtext('tools'));
      SELECT 'lock-held';" >&7
wait_for grep -q lock-held "$O/m.out" || not_ok "tools' lock held"
cd "$T/a" && story active/T-3-three.md T-3 "A three, while tools is locked"
run ss sync
check_eq "a run of default while tools' lock is held proceeds" \
  "0|storysync: 1 updated|A three, while tools is locked" \
  "$rc|$out$err|$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-3'")"
cd "$T/b" && run ss -v sync
check_eq "a run of tools then is busy: exit 75, its row untaken" \
  "75|B third (API)|title: B third" \
  "$rc|$(sq "SELECT title FROM stories WHERE tree = 'tools' AND id = 'T-3'")|$(
    grep '^title:' work/doing/T-3-third.md)"
check_contains "naming tools' lock" "another run of tree 'tools' holds its lock" "$err"
exec 7>&-
wait "$mpid"
run ss sync
check_eq "once it is free, tools' run takes the API's edit" \
  "0|storysync: 1 updated|title: B third (API)" \
  "$rc|$out$err|$(grep '^title:' work/doing/T-3-third.md)"
check_eq "no advisory lock is left" 0 \
  "$(sq "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")"
oracle "at the end"
alone "$T/a" default
alone "$T/b" tools
finish
