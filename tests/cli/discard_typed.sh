#!/bin/bash
# A discard is never silent (issue 19, model seeds 326 and 364). storysync
# writes the API's value into a file and leaves it uncommitted; a person
# types the old value back by hand, so the file is byte for byte the
# version git holds: no tool can tell that from git putting its version
# back (checkout --, stash, reset --hard), so the run takes it as a
# discard and writes the API's value again. The person's value is kept in
# sync_conflicts (kept db, the file's version), once: later runs of the
# same state add nothing. The same under either policy for the field. The
# oracle reads the database with Python's sqlite3 (psycopg2 on a server:
# a twin) and the files with grep.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
field() { py_rows "SELECT $1 FROM stories WHERE id = 'S-1'"; }
conflicts() {
  py_rows "SELECT kind, kept, fields, $(jget lost title),
        $(jget lost priority), $(jget lost status)
      FROM sync_conflicts WHERE story_id = 'S-1' ORDER BY id"
}

# tree DIR [POLICY]: a committed tree with S-1 (title One, priority low)
# and S-2, synced; POLICY is added to .storysync.yml
tree() {
  mkdir -p "$T/$1" && cd "$T/$1" || exit 1
  git init -q .
  mkdir refinements backlog
  printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody\n' \
    >backlog/S-1-one.md
  printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
  ss init -q || not_ok "$1: init"
  [ -n "${2:-}" ] && printf '%s\n' "$2" >>.storysync.yml
  echo .storysync/ >.gitignore
  git add -A && git commit -qm init && ss -q || not_ok "$1: the tree"
}

# ---- in place: the API's priority, typed back by hand, byte for byte ----
for policy in "" "policy: {priority: file}" "policy: {priority: db}"; do
  name="in-place${policy:+ ($policy)}"
  tree "in-place-${policy//[^a-z]/}" "$policy"
  F=backlog/S-1-one.md
  py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
  ss -q
  [ "$(key priority $F)" = high ] || not_ok "$name: the run wrote the API's value"
  # typed back by hand: no git command, the bytes git holds
  sed -i 's/^priority: high$/priority: low/' $F
  check_eq "$name: the file is git's version byte for byte" \
    "$(git show HEAD:$F | md5sum)" "$(md5sum <$F)"
  run ss
  check_eq "$name: exit 0, the API's value in the row and the file" \
    "0|high|high" "$rc|$(field priority)|$(key priority $F)"
  check_eq "$name: the person's value kept in sync_conflicts (kept db)" \
    "both_changed|db|priority|One|low|backlog" "$(conflicts)"
  check_eq "$name: and the run says so" "storysync: 1 conflict" "$out"
  run ss
  check_eq "$name: the next run is quiet and records nothing again" \
    "0|||1" "$rc|$out|$err|$(py_rows "SELECT count(*) FROM sync_conflicts")"
  run ss --full
  check_eq "$name: nor does --full" \
    "0|1" "$rc|$(py_rows "SELECT count(*) FROM sync_conflicts")"
done

# ---- seed 326: the API moves the story and sets its priority; the run
# moves the file (uncommitted) and writes the priority; the person types
# the old priority back and commits, at the path where git never held
# that version ----
tree moved-committed
py_rows "UPDATE stories SET status = 'refinement', priority = 'critical' WHERE id = 'S-1'"
ss -q
F=refinements/S-1-one.md
[ -e $F ] && [ "$(key priority $F)" = critical ] ||
  not_ok "moved-committed: the run moved the file and wrote the priority"
sed -i 's/^priority: critical$/priority: low/' $F
git add -A && git commit -qm "low again, by hand"
run ss
check_eq "moved-committed: the API's priority and place stay" \
  "0|critical|refinement|$F|critical" \
  "$rc|$(field priority)|$(field status)|$(field path)|$(key priority $F)"
check_eq "moved-committed: the person's value kept in sync_conflicts" \
  "both_changed|db|priority|One|low|refinement" "$(conflicts)"
run ss
check_eq "moved-committed: the next run records nothing again" \
  "0||1" "$rc|$out|$(py_rows "SELECT count(*) FROM sync_conflicts")"

# ---- seed 364's shape: a second API write after the discard, then the
# old value typed back again: a second discard, a second record ----
tree twice
F=backlog/S-1-one.md
for v in high critical; do
  py_rows "UPDATE stories SET priority = '$v' WHERE id = 'S-1'"
  ss -q
  sed -i "s/^priority: $v\$/priority: low/" $F
  run ss
  check_eq "twice ($v): the API's value stays" \
    "0|$v|$v" "$rc|$(field priority)|$(key priority $F)"
done
check_eq "twice: both discards kept, once each" \
  "both_changed|db|priority|One|low|backlog
both_changed|db|priority|One|low|backlog" "$(conflicts)"

# ---- a discard beside a real both-sides change: the API wrote the title
# (the run wrote it to the file), the person changed the priority (synced),
# the API changes the priority again, and git's version comes back: the
# title is the discard's (the database's, the file's kept), the priority a
# change on both sides that the policy decides; one record holds both ----
for policy in file db; do
  tree "mixed-$policy" "policy: {priority: $policy}"
  F=backlog/S-1-one.md
  py_rows "UPDATE stories SET title = 'Uno' WHERE id = 'S-1'"
  ss -q
  sed -i 's/^priority: low$/priority: medium/' $F
  ss -q
  py_rows "UPDATE stories SET priority = 'high' WHERE id = 'S-1'"
  git checkout -- $F
  run ss
  if [ $policy = file ]; then
    want="0|Uno|low|Uno|low
both_changed|mixed|priority,title|One|high|backlog"
  else
    want="0|Uno|high|Uno|high
both_changed|db|priority,title|One|low|backlog"
  fi
  check_eq "mixed ($policy wins the priority): the policy decides it, the discard the title, both kept" \
    "$want" \
    "$rc|$(field title)|$(field priority)|$(key title $F)|$(key priority $F)
$(conflicts)"
  run ss
  check_eq "mixed ($policy): the next run records nothing again" \
    "0||1" "$rc|$out|$(py_rows "SELECT count(*) FROM sync_conflicts")"
done

finish
