#!/bin/bash
# Issue 23: kill -9 at random points on PostgreSQL converges. A sync of a
# tree with changes pending on both sides (edits, an add, a delete and a
# move by hand; API updates, an insert and a delete) is killed at a time
# drawn over the run's own length; the runs after, with no kill, must give
# what an unkilled run gives (the server's rows, read by psql, and every
# story file), and the tree's advisory lock must be free within a second
# of the kill. Each trial gets its own copy of the pending database
# (CREATE DATABASE ... TEMPLATE) and of the tree, at the same path (the
# trees' registry names the checkout). 10 trials in the suite, drawn from
# STORYSYNC_SEED (printed); PG_KILL9_TRIALS, or 200 with STORYSYNC_LONG=1.
# Skipped, saying why, only where no server can run (failing then under
# --setup postgresql).
PG_SCENARIO=1
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

pg_need
sample_space
trials=${PG_KILL9_TRIALS:-$([ "$LONG" = 1 ] && echo 200 || echo 10)}
pg_start || { not_ok "the server starts"; finish; exit 1; }

# ---- the pending tree, made in $T/run, kept as $T/pending and database
# pending ----
pg_db pending
"$GEN_STORIES" "$T/run" --count 30 2>/dev/null
cd "$T/run" || exit 1
git init -q .
pg_local "$PGURI"
ss init >/dev/null && ss sync >/dev/null || not_ok "the tree loads"
pend_both pq pending >/dev/null
cd "$T" && cp -a run pending

# trial_db NAME: the tree in $T/run afresh from $T/pending, its database
# NAME a copy of the pending one
trial_db() {
  cd "$T" && rm -rf run && cp -a pending run || return 1
  psql -qAtX -c "CREATE DATABASE $1 TEMPLATE pending$PG_COPY" >/dev/null || return 1
  PGURI="postgresql:///$1?host=$PGDIR&user=postgres"
  rm run/.storysync.local.yml && pg_local "$PGURI" run
  trial=$1
}

# pg_state DB: the rows (psql) and every story file, to compare two trials
pg_state() {
  pq "$1" "SELECT tree, id, backlog, status, epic, title, priority, points,
      assignees::text, labels::text, extra::text, body, path, created, parent
      FROM stories ORDER BY tree, id;
    SELECT tree, story_id, depends_on FROM story_dependencies ORDER BY 1, 2, 3"
  (cd "$T/run" && find . -name '*.storysync-*' -printf 'tmp %p\n' -o \
    -path './stories/*' -type f -exec md5sum {} + | LC_ALL=C sort)
}

advisory() {
  pq "$trial" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
}

# settle_pg: two runs after the kill; the second must be clean
settle_pg() {
  why=
  (cd "$T/run" && "$STORYSYNC" sync >/dev/null 2>&1
    exec "$STORYSYNC" sync >"$O/settle" 2>&1)
  local rc2=$?
  read_file o "$O/settle"
  if [ "$rc2" != 0 ] || [ -n "$o" ]; then
    why="the run after is not clean ($rc2: ${o:0:300})"
    return 1
  fi
  state=$(pg_state "$trial")
  if [[ $state == *"tmp "* ]]; then why="temporary files left"; fi
  [ -z "$why" ]
}

# the oracle: an unkilled run, and its length
trial_db want
t0=$(date +%s%N)
(cd run && "$STORYSYNC" sync >/dev/null 2>&1)
span=$((($(date +%s%N) - t0) / 1000)) # µs
settle_pg || not_ok "the unkilled run settles" "$why"
want=$state
echo "# an unkilled run: ${span} µs"

bad=0
killed=0
unfreed=0
for ((i = 0; i < trials; i++)); do
  # a time in the i-th of trials equal slices of the run's length
  pick_in $((span * i / trials)) $((span * (i + 1) / trials))
  at=$r
  trial_db "t$i" || { not_ok "trial $i: its copy"; continue; }
  (cd run && exec "$STORYSYNC" sync >/dev/null 2>&1) &
  pid=$!
  printf -v us '%d.%06d' $((at / 1000000)) $((at % 1000000))
  sleep "$us"
  kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
  wait "$pid" 2>/dev/null
  freed=no
  for ((k = 0; k < 20; k++)); do
    [ "$(advisory)" = 0 ] && { freed=yes; break; }
    sleep 0.05
  done
  [ "$freed" = yes ] || unfreed=$((unfreed + 1))
  if ! settle_pg; then
    bad=$((bad + 1))
    [ $bad -le 5 ] && not_ok "trial $i: killed after $at µs" "$why"
  elif [ "$state" != "$want" ]; then
    bad=$((bad + 1))
    [ $bad -le 5 ] && not_ok "trial $i: killed after $at µs, did not converge" \
      "$(diff <(echo "$state") <(echo "$want") | head -5)"
  fi
  [ "$(advisory)" = 0 ] || unfreed=$((unfreed + 1))
  cd "$T" && psql -qAtX -c "DROP DATABASE t$i" >/dev/null
done
check_eq "$trials kill -9 trials over ${span} µs: every one converged to the unkilled run" \
  0 "$bad"
check_eq "the lock was free within a second of each kill, and after" 0 "$unfreed"
if [ "$killed" -gt 0 ]; then
  ok "the kills bit: $killed runs were killed before they ended"
else
  not_ok "the kills bit" "no run was still running when killed"
fi
finish
