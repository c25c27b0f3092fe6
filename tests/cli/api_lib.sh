# Shared by api_forms.sh and api_values.sh (after lib.sh): a small story
# tree, and helpers that read it with PyYAML and sqlite3 (psql on a
# server: both are twins, lib.sh).

# key FILE KEY: the frontmatter's KEY as JSON (null when absent), by PyYAML
key() {
  python3 - "$1" "$2" <<'PY'
import json, sys, yaml
text = open(sys.argv[1], encoding="utf-8").read()
fm = yaml.safe_load(text.split("---\n")[1])
print(json.dumps(fm.get(sys.argv[2]), default=str, separators=(",", ":")))
PY
}

# story PATH ID TITLE [MORE-LINES]: a story file
story() {
  mkdir -p "$(dirname "$1")"
  printf -- '---\nid: %s\ntitle: %s\n%s---\nbody of %s\n' "$2" "$3" "${4:-}" \
    "$2" >"$1"
}

last_seq() { q "SELECT coalesce(max(seq), 0) FROM sync_events"; }
# events SEQ: the events after SEQ, "ID change origin" a line, sorted
events() {
  q "SELECT story_id || ' ' || change || ' ' || origin FROM sync_events
     WHERE seq > $1" | sort
}
row() { q "SELECT * FROM stories WHERE id = '$1'"; }
deps() { q "SELECT $(sqlagg depends_on) FROM (SELECT depends_on FROM
  story_dependencies WHERE story_id = '$1' ORDER BY 1) d"; }

# the story files' names, times and sizes, in the default layout
files_digest() { tree_digest refinements backlog active completed; }

# quiet DESC: lib.sh's, over those folders
quiet() { lib_quiet "$1" refinements backlog active completed; }

# untracked SQL: SQL run with the triggers dropped and then made again, as
# a script that bypasses them, or a restore, writes (on a server, with
# them off for the transaction: session_replication_role)
untracked() {
  local trig drops
  if [ "$(dialect sqlite server)" = server ]; then
    q "BEGIN; SET LOCAL session_replication_role = replica; $1; COMMIT"
    return
  fi
  trig=$(q "SELECT group_concat(sql || ';', char(10)) FROM sqlite_schema
    WHERE type = 'trigger'")
  drops=$(q "SELECT group_concat('DROP TRIGGER ' || name || ';', ' ')
    FROM sqlite_schema WHERE type = 'trigger'")
  q "${2:-} BEGIN; $drops $1; $trig COMMIT;"
}

# api_tree: the tree both start from, synced
api_tree() {
  mkdir -p refinements backlog active completed
  story backlog/INF-001-one.md INF-001 One $'priority: high  # kept\ndepends_on: [INF-002]\n'
  story backlog/INF-002-two.md INF-002 Two $'priority: low\n'
  story backlog/INF-003-three.md INF-003 Three $'labels: [a, b]\n'
  story active/INF-004-four.md INF-004 Four
  story active/INF-005-five.md INF-005 Five
  story active/INF-006-six.md INF-006 Six $'points: 3\n'
  story active/INF-007-seven.md INF-007 Seven $'priority: low\n'
  story completed/INF-008-eight.md INF-008 Eight
  ss init >/dev/null && ss sync >/dev/null || not_ok "the first load"
}
