#!/bin/bash
# Issue 22: several trees, one database. Two real git repositories, one in
# init's default layout (tree 'default'), one hand-written like another
# tool's tree (tree 'tools': its own backlog folder, stage names and
# dependency key), hold the same ids in one database file outside both.
# Each tree's rows are its files (PyYAML, trees_oracle.py) and a fresh
# --full import of that tree alone; an API edit, a file edit and an API
# insert reach only their own tree; a second checkout is refused and writes
# nothing; a row moved to another tree is refused; a commit syncs through
# its hook; runs of both trees racing with an API writer, one killed -9,
# lose nothing.
. "$(dirname "$0")/lib.sh"
with_hooks

SH=$T/shared/stories.db
mkdir -p "$T/shared"
sq() { sqlite3 -batch -cmd '.timeout 10000' "$SH" "$1"; }
story() { # FILE ID TITLE [DEPS_KEY DEPS]
  { printf -- '---\nid: %s\ntitle: %s\n' "$2" "$3"
    [ -n "${4:-}" ] && printf '%s: [%s]\n' "$4" "$5"
    printf -- '---\nbody of %s\n' "$2"; } >"$1"
}

# ---- A: init's layout, the default tree ----
mkdir "$T/a" && cd "$T/a" || exit 1
git init -q . && ss -q init
printf 'database: %s\n' "$SH" >.storysync.local.yml
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
printf 'database: %s\n' "$SH" >.storysync.local.yml
mkdir -p work/todo work/doing
story work/todo/T-1-first.md T-1 "B first" blocked_by T-3
story work/todo/T-2-second.md T-2 "B second"
story work/doing/T-3-third.md T-3 "B third"
run ss init
check_contains "init in a new tree of a database that holds another registers it" \
  "ready (schema" "$out"
check_eq "registered: both trees, each with its checkout" \
  "default|$T/a
tools|$T/b" "$(sq "SELECT name, path FROM trees ORDER BY name")"
git add -A && git commit -qm "B's stories"
run ss sync
check_eq "B: the first run creates its 3 stories, not deleting A's" \
  "0|storysync: 3 created" "$rc|$out$err"
check_eq "the same ids in both trees" "default T-1,default T-2,default T-3,tools T-1,tools T-2,tools T-3" \
  "$(sq "SELECT group_concat(tree || ' ' || id, ',') FROM (SELECT tree, id FROM stories ORDER BY tree, id)")"

oracle() { # DESC
  run python3 "$SOURCE_ROOT/tests/cli/trees_oracle.py" "$T/a" "$SH" default \
    depends_on default=. STAGE:backlog=backlog STAGE:active=active
  check_eq "$1: tree default's rows are its files (PyYAML)" "0|" "$rc|$out"
  run python3 "$SOURCE_ROOT/tests/cli/trees_oracle.py" "$T/b" "$SH" tools \
    blocked_by work=work STAGE:todo=todo STAGE:doing=doing STAGE:done=done
  check_eq "$1: tree tools' rows are its files (PyYAML)" "0|" "$rc|$out"
}
oracle "after both first runs"

cols="id, backlog, status, epic, title, priority, points, assignees, labels,
  extra, body, path, created, parent"
alone() { # DIR TREE: a fresh --full import of the tree alone = its rows
  local d=$O/alone-$2
  rm -rf "$d" && mkdir "$d"
  (cd "$1" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$d")
  (cd "$d" && ss -q init && ss -q sync --full)
  check_eq "tree $2's rows are a fresh --full import of it alone" \
    "$(sqlite3 -batch "$d/$DB" "SELECT tree, $cols FROM stories ORDER BY id;
      SELECT tree, story_id, depends_on FROM story_dependencies ORDER BY 2, 3")" \
    "$(sq "SELECT tree, $cols FROM stories WHERE tree = '$2' ORDER BY id;
      SELECT tree, story_id, depends_on FROM story_dependencies WHERE tree = '$2' ORDER BY 2, 3")"
}
alone "$T/a" default
alone "$T/b" tools

# ---- an API edit reaches only its tree's file ----
asum=$(cd "$T/a" && tree_digest backlog active)
sq "UPDATE stories SET title = 'B second (API)' WHERE tree = 'tools' AND id = 'T-2'"
nruns=$(sq "SELECT count(*) FROM sync_runs")
cd "$T/a" && run ss sync
check_eq "A's run does not see B's row change" "0|" "$rc|$out$err"
check_eq "it is a no-op: no run row written" "$nruns" "$(sq "SELECT count(*) FROM sync_runs")"
check_eq "and writes no file of A's" "$asum" "$(tree_digest backlog active)"
cd "$T/b" && run ss sync
check_eq "B's run takes it" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "into B's file" "title: B second (API)" "$(grep '^title:' work/todo/T-2-second.md)"
check_eq "A's T-2 is as it was" "A two|title: A two" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-2'")|$(grep '^title:' "$T/a/backlog/T-2-two.md")"

# ---- a file edit reaches only its own row ----
cd "$T/a" && story backlog/T-1-one.md T-1 "A one, edited"
run ss sync
check_eq "A's file edit: one row updated" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "its row, not B's T-1" "A one, edited|B first" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-1'")|$(sq "SELECT title FROM stories WHERE tree = 'tools' AND id = 'T-1'")"
cd "$T/b" && run ss sync
check_eq "B's next run has nothing to do" "0|" "$rc|$out$err"

# ---- an API insert for a tree gets its file there ----
sq "INSERT INTO stories(tree, id, title, backlog, status) VALUES ('tools', 'N-1', 'New in tools', 'work', 'todo');
    INSERT INTO story_dependencies(tree, story_id, depends_on) VALUES ('tools', 'N-1', 'T-2')"
cd "$T/a" && run ss sync
check_eq "A's run ignores the insert" "0|" "$rc|$out$err"
cd "$T/b" && run ss sync
check_eq "B's run creates its file" "0|storysync: 1 created" "$rc|$out$err"
check_eq "with B's dependency key" "title: New in tools|blocked_by: [T-2]" \
  "$(grep '^title:' work/todo/N-1-*.md)|$(grep '^blocked_by:' work/todo/N-1-*.md)"
check_eq "no such file in A" "" "$(find "$T/a" -name 'N-1*')"
oracle "after the edits"

# ---- a second checkout of a tree is refused and writes nothing ----
cp -a "$T/b" "$T/b2"
before=$(sqlite3 -batch "$SH" .dump | md5sum)
b2sum=$(cd "$T/b2" && tree_digest work)
sq "UPDATE stories SET title = 'B third (API)' WHERE tree = 'tools' AND id = 'T-3'"
before=$(sqlite3 -batch "$SH" .dump | md5sum)
cd "$T/b2" && run ss sync
check_eq "a run from a second checkout: exit 4" 4 "$rc"
check_contains "naming the checkout that holds the tree" \
  "tree 'tools' of $SH is synced by the checkout $(hostname):$T/b, not this one" "$err"
check_contains "and what to do" "storysync init --take-over" "$err"
check_contains "never --force" "never --force" "$err"
check_eq "it wrote nothing to the database" "$before" "$(sqlite3 -batch "$SH" .dump | md5sum)"
check_eq "nor to a file" "$b2sum" "$(tree_digest work)"
run ss sync --force
check_eq "--force does not override it" 4 "$rc"
run ss sync --dry-run
check_eq "a dry run says so too" "4|yes" \
  "$rc|$(grep -q "is synced by the checkout $(hostname):$T/b, not this one" <<<"$err" && echo yes)"
run ss status
check_contains "and status: the next run would be refused, naming the holder" \
  "pending: the next run would be refused: tree 'tools' of $SH is synced by the checkout $(hostname):$T/b" "$out"
run ss conflicts --resolve
check_eq "conflicts --resolve: refused, naming the holder" "4|yes" \
  "$rc|$(grep -q "is synced by the checkout $(hostname):$T/b, not this one" <<<"$err" && echo yes)"
run ss history --backfill
check_eq "history --backfill: refused, naming the holder" "4|yes" \
  "$rc|$(grep -q "is synced by the checkout $(hostname):$T/b, not this one" <<<"$err" && echo yes)"
check_eq "none of them wrote anything" "$before" "$(sqlite3 -batch "$SH" .dump | md5sum)"
run ss init
check_eq "nor does init without --take-over" 4 "$rc"
rm -rf "$T/b2"

# ---- a row moved to another tree is refused ----
sq "UPDATE stories SET tree = 'default' WHERE tree = 'tools' AND id = 'N-1'"
check_eq "the row stays in its tree" "tools" "$(sq "SELECT group_concat(tree) FROM stories WHERE id = 'N-1'")"
check_eq "a refused conflict of its own tree, the tree it was sent to lost" \
  "tools|N-1|refused|file|tree|{\"tree\":\"default\"}" \
  "$(sq "SELECT tree, story_id, kind, kept, fields, lost FROM sync_conflicts WHERE story_id = 'N-1'")"
cd "$T/a" && run ss sync
check_eq "A's run: nothing" "0|" "$rc|$out$err"
check_eq "no N-1 file in A" "" "$(find "$T/a" -name 'N-1*')"
cd "$T/b" && run ss sync
check_eq "B's run takes only the API's T-3 edit" "0|storysync: 1 updated" "$rc|$out$err"
check_eq "N-1's file in B is still there" 1 "$(find "$T/b/work" -name 'N-1*' | wc -l)"
run ss status
check_contains "status: B's tree first, then a line for A's" \
  "tree: tools; the other trees in the database:
  default: 3 stories, synced by $(hostname):$T/a" "$out"
run ss --json status
check_eq "status --json: the tree, and every tree, its own first" "tools|tools,default" \
  "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tree"] + "|" + ",".join(t["name"] for t in d["trees"]))' <<<"$out")"
run ss metrics
check_eq "metrics: every series carries tree_name" 0 \
  "$(grep -v '^#' <<<"$out" | grep -vc 'tree_name="tools"')"

# ---- a commit in A syncs through its hook ----
cd "$T/a" && ss -q install-hooks
n=$(sq "SELECT count(*) FROM sync_runs WHERE tree = 'default'")
story active/T-3-three.md T-3 "A three, committed"
git commit -qam "edit T-3"
for ((i = 0; i < 1200; i++)); do
  [ "$(sq "SELECT count(*) FROM sync_runs WHERE tree = 'default' AND ended IS NOT NULL")" -gt "$n" ] && break
  sleep 0.05
done
flock -w 60 "$SH.lock" true
check_eq "the hook's run reached tree default's row" "A three, committed|git|0" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-3'")|$(sq "SELECT mode || '|' || exit_code FROM sync_runs WHERE tree = 'default' ORDER BY id DESC LIMIT 1")"
check_eq "and not tree tools'" "B third (API)" \
  "$(sq "SELECT title FROM stories WHERE tree = 'tools' AND id = 'T-3'")"
check_eq "each tree its own lock file" "yes|yes" \
  "$(test -e "$SH.lock" && echo yes)|$(test -e "$SH.tools.lock" && echo yes)"

# ---- both trees' runs racing an API writer, one killed -9 ----
rounds=${TREES_ROUNDS:-6}
for ((i = 1; i <= rounds; i++)); do
  (for t in default tools; do
    sqlite3 -batch -cmd '.timeout 10000' "$SH" \
      "UPDATE stories SET title = 'API $t $i' WHERE tree = '$t' AND id = 'T-2'" >/dev/null
  done) &
  api=$!
  story "$T/a/backlog/T-1-one.md" T-1 "A file $i"
  story "$T/b/work/todo/T-1-first.md" T-1 "B file $i" blocked_by T-3
  (cd "$T/a" && exec "$bin" sync --wait=30 >/dev/null 2>&1) &
  pa=$!
  # every third round, tree b's run is killed -9 in the middle: after its
  # file writes, before its commit (the seam kills it there, so the kill
  # lands mid-run whatever the machine's speed); the exit status says it
  # was killed, not that it ended first
  # (the API's write of tree b's T-2 committed first: the run has a file
  # to write, so it reaches that point)
  kill_at=
  if [ $((i % 3)) = 0 ]; then
    kill_at=after-writes
    wait $api
  fi
  (cd "$T/b" && STORYSYNC_TEST_KILL=$kill_at exec "$bin" sync --wait=30 \
    >/dev/null 2>&1) &
  pb=$!
  wait $pb
  rcb=$?
  [ -z "$kill_at" ] || [ $rcb = 137 ] || killed_mid="round $i: exit $rcb"
  wait $api $pa 2>/dev/null
done
check_eq "tree b's run was killed -9 mid-run in every third round" "" \
  "${killed_mid-}"
settled=yes
for d in a b; do
  cd "$T/$d" || exit 1
  for ((k = 0; k < 5; k++)); do
    run ss sync --wait=30
    [ "$rc|$err" = "0|" ] && [ -z "$out" ] && break
  done
  [ "$rc|$out$err" = "0|" ] || settled="$d: $rc|$out$err"
done
check_eq "after $rounds racing rounds (kill -9 included), both trees settle" yes "$settled"
check_eq "the last API values reached their own tree's files" \
  "title: API default $rounds|title: API tools $rounds" \
  "$(grep '^title:' "$T/a/backlog/T-2-two.md")|$(grep '^title:' "$T/b/work/todo/T-2-second.md")"
check_eq "the last file edits reached their own rows" "A file $rounds|B file $rounds" \
  "$(sq "SELECT title FROM stories WHERE tree = 'default' AND id = 'T-1'")|$(sq "SELECT title FROM stories WHERE tree = 'tools' AND id = 'T-1'")"
oracle "after the race"
alone "$T/a" default
alone "$T/b" tools
check_eq "no temporary file left" "" "$(find "$T/a" "$T/b" -name '*.tmp-*')"
finish
