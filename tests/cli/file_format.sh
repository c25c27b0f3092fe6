#!/bin/bash
# Issue 19, the file format: what storysync writes it reads back as the
# row, or the story is refused by name and recorded, the file left as it
# was; a name or a value no file or database can hold is refused by name;
# a CRLF file's body is the row's as in the file; a block list keeps the
# comments of the items that stay. Oracles: the sqlite3 CLI, Python's
# sqlite3, PyYAML, cmp.
. "$(dirname "$0")/lib.sh"

mkdir -p backlog active
printf -- '---\nid: S-1\ntitle: One\npriority: low\n---\nbody one\n' \
  >backlog/S-1-one.md
printf -- '---\nid: S-2\ntitle: Two\n---\nbody two\n' >backlog/S-2-two.md
printf -- '---\nid: S-3\ntitle: Three\nlabels:  # the labels\n  # about all\n  - a   # why a\n  # above b\n  - "b"\n  - c  # c note\n---\n' \
  >backlog/S-3-three.md
printf -- '---\r\nid: C-1\r\ntitle: Crlf\r\n---\r\nline 1\r\nline 2\r\n' \
  >backlog/C-1-crlf.md
# the fuzzer's frontmatter: "?" and its key below it, no value, and CRLF
# lines in an LF file; its one-field edit did not parse
base64 -d >backlog/T-1-fuzz.md <<<LS0tCiMgCj8NCg0KIA0KCiBFLQp0aXRsZTogbgotLS0KMDAsICY=
ss init >/dev/null
run ss sync
check_rc "import" 0

# yaml FILE EXPR: EXPR of the file's frontmatter (fm) and body, by PyYAML
yaml() {
  python3 - "$1" "$2" <<'EOF'
import sys, yaml
t = open(sys.argv[1], "rb").read().decode("utf-8")
_, fm, body = t.split("---", 2)
fm = yaml.safe_load(fm)
body = body.split("\n", 1)[1]
print(eval(sys.argv[2]))
EOF
}
# quiet DESC: lib.sh's, over this tree's stage folders
quiet() { lib_quiet "$1" backlog active; }
refusals() { q "SELECT count(*) FROM sync_conflicts WHERE story_id='$1' AND kind='refused'"; }

# ---- an edit never writes a file that does not parse ----
q "UPDATE stories SET priority='high' WHERE id='T-1'"
cp backlog/T-1-fuzz.md "$T/.snap"
run ss sync
check_rc "the fuzzer's file: its edit is written" 0
check_eq "it parses (PyYAML): the new priority, its keys as they were" \
  "high|n|{'E-': None, 'title': 'n', 'priority': 'high'}" \
  "$(yaml backlog/T-1-fuzz.md "fm['priority'] + '|' + fm['title'] + '|' + str(fm)")"
check_eq "one line added, nothing else changed" "priority: high" \
  "$(diff "$T/.snap" backlog/T-1-fuzz.md | sed -n 's/^> //p')"
quiet "the fuzzer's file"

# A title the frontmatter cannot hold (64 KiB): the edited file would not
# parse. Refused by name, recorded once, the file as it was.
long="replace(hex(zeroblob(35000)), '0', 'x')"
cp backlog/S-1-one.md "$T/.snap"
q "UPDATE stories SET title = $long WHERE id='S-1'"
msg="story S-1: its file would not read back as the row (backlog/S-1-one.md:1:1: frontmatter larger than 64 KiB); refused: the file is left as it was"
run ss sync
check_eq "a title too long for a file: exit 1, the story named" "1|$msg" \
  "$rc|$err"
if cmp -s "$T/.snap" backlog/S-1-one.md; then ok "the file is as it was"; else
  not_ok "the file is as it was" "$(diff "$T/.snap" backlog/S-1-one.md)"; fi
check_eq "the row keeps the API's title" 70000 \
  "$(q "SELECT length(title) FROM stories WHERE id='S-1'")"
check_eq "recorded as a refused conflict, the row in full" "1|file|70000" \
  "$(q "SELECT count(*), kept, length(json_extract(lost, '\$.title'))
        FROM sync_conflicts WHERE story_id='S-1' AND kind='refused'")"
run ss sync
check_eq "refused again on the next run" "1|$msg" "$rc|$err"
check_eq "and recorded once" 1 "$(refusals S-1)"
# meanwhile a person edits the file: kept, and still nothing half-written
sed -i 's/^priority: low/priority: urgent/' backlog/S-1-one.md
cp backlog/S-1-one.md "$T/.snap"
run ss sync
check_eq "a person's edit meanwhile: still refused" "1|$msg" "$rc|$err"
check_eq "the person's edit stays in the file" "urgent" \
  "$(yaml backlog/S-1-one.md "fm['priority']")"
# the API mends its title: both edits arrive
q "UPDATE stories SET title = 'One, shorter' WHERE id='S-1'"
run ss sync
check_rc "the API mends the title: synced" 0
check_eq "the file has both edits (PyYAML)" "One, shorter|urgent" \
  "$(yaml backlog/S-1-one.md "fm['title'] + '|' + fm['priority']")"
check_eq "the row too" "One, shorter|urgent" \
  "$(q "SELECT title, priority FROM stories WHERE id='S-1'")"
quiet "the mended title"

# A new row whose file would not read back (an extra key that is a
# column: it would be rendered twice): refused before it is rendered, by
# the check of what a file can hold, and no file written.
q "INSERT INTO stories(id, backlog, status, title, extra)
   VALUES ('S-9', 'default', 'backlog', 'Nine', '{\"title\":\"other\"}')"
files=$(find . -name '*.md' | sort)
msg="story S-9: extra key 'title' is a column; refused: nothing written"
run ss sync
check_eq "a new row that would not read back: exit 1, named" "1|$msg" \
  "$rc|$err"
check_eq "no file written" "$files" "$(find . -name '*.md' | sort)"
check_eq "the row is kept, recorded once" \
  "Nine|{\"title\":\"other\"}|1" \
  "$(q "SELECT title, extra FROM stories WHERE id='S-9'")|$(refusals S-9)"
run ss sync
check_eq "refused again, recorded once" "1|$msg|1" "$rc|$err|$(refusals S-9)"
q "UPDATE stories SET extra = '{\"note\":\"other\"}' WHERE id='S-9'"
run ss sync
check_rc "the API mends it: the file is written" 0
check_eq "and reads as the row (PyYAML)" "S-9|Nine|other" \
  "$(yaml backlog/S-9-nine.md "fm['id'] + '|' + fm['title'] + '|' + fm['note']")"
quiet "the mended new row"

# ---- a NUL in a value: refused by name, nothing cut short ----
cp backlog/S-2-two.md "$T/.snap"
q "UPDATE stories SET title = 'Half' || char(0) || ' the rest' WHERE id='S-2'"
msg="story S-2: title holds U+0000 (char(0)), which no story file can hold; refused: nothing moved or deleted"
run ss sync
check_eq "a NUL in a title: exit 1, named" "1|$msg" "$rc|$err"
if cmp -s "$T/.snap" backlog/S-2-two.md; then ok "NUL: the file is as it was"
else not_ok "NUL: the file is as it was" "$(diff "$T/.snap" backlog/S-2-two.md)"; fi
check_eq "NUL: the row keeps the whole value" \
  "$(printf 'Half\0 the rest' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
  "$(q "SELECT hex(title) FROM stories WHERE id='S-2'")"
check_eq "NUL: recorded once, what follows the NUL kept" \
  "1|title|Half"$'\xef\xbf\xbd'" the rest" \
  "$(q "SELECT count(*), fields, json_extract(lost, '\$.title')
        FROM sync_conflicts WHERE story_id='S-2' AND kind='refused'")"
run ss sync
check_eq "NUL: refused again, recorded once" "1|$msg|1" \
  "$rc|$err|$(refusals S-2)"
q "UPDATE stories SET title = 'Half, then the rest' WHERE id='S-2'"
run ss sync
check_eq "NUL: mended by the API, synced" "0|Half, then the rest" \
  "$rc|$(yaml backlog/S-2-two.md "fm['title']")"
quiet "the mended NUL"

# ---- a CRLF file's body, as in the file ----
check_eq "CRLF: the row's body is the file's, CRLFs and all" \
  "$(printf 'line 1\r\nline 2\r\n' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
  "$(q "SELECT hex(body) FROM stories WHERE id='C-1'")"
q "UPDATE stories SET body = 'new 1' || char(10) || 'new 2' || char(10),
   priority = 'high' WHERE id='C-1'"
run ss sync
check_rc "CRLF: a body from the API is written" 0
check_eq "CRLF: every line still ends in CRLF" 0 \
  "$(grep -vc $'\r$' backlog/C-1-crlf.md)"
check_eq "CRLF: it parses (PyYAML), the new body in CRLF" \
  "high|'new 1\\r\\nnew 2\\r\\n'" \
  "$(yaml backlog/C-1-crlf.md "fm['priority'] + '|' + repr(body)")"
check_eq "CRLF: the row holds the body as the file does" \
  "$(printf 'new 1\r\nnew 2\r\n' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
  "$(q "SELECT hex(body) FROM stories WHERE id='C-1'")"
quiet "the CRLF body"
# a fresh import of the tree reads the same rows
mkdir "$T/fresh"
cp -r backlog .storysync.yml "$T/fresh/"
rows() { sqlite3 -batch "$1" "SELECT id, backlog, status, epic, hex(title),
  priority, points, assignees, labels, extra, hex(body), path, created
  FROM stories ORDER BY id"; }
(cd "$T/fresh" && ss init >/dev/null && ss sync >/dev/null)
check_eq "a fresh import of the tree gives the same rows" \
  "$(rows $DB)" "$(rows "$T/fresh/$DB")"

# ---- a block list keeps the comments of the items that stay ----
q "UPDATE stories SET labels = '[\"c\",\"a\",\"e\"]' WHERE id='S-3'"
run ss sync
check_rc "a block list rewritten by the API" 0
check_eq "the comments of the list and of the items that stay are kept" \
  "$(printf -- '---\nid: S-3\ntitle: Three\nlabels:  # the labels\n  # about all\n  - c  # c note\n  - a   # why a\n  - e\n---\n')" \
  "$(cat backlog/S-3-three.md)"
check_eq "and it reads as the row (PyYAML)" "['c', 'a', 'e']" \
  "$(yaml backlog/S-3-three.md "fm['labels']")"
quiet "the block list"

# ---- a file name that is not UTF-8 ----
mkdir -p active/$'ep\xe9'
printf -- '---\ntitle: Four\n---\nbody\n' >backlog/$'N-4-caf\xe9.md'
printf -- '---\ntitle: Five\n---\nbody\n' >active/$'ep\xe9'/N-5-five.md
printf -- '---\ntitle: Six\n---\nbody\n' >active/N-6-six.md
err4='backlog/N-4-caf\xe9.md: the name is not UTF-8; not read'
err5='active/ep\xe9/N-5-five.md: the name is not UTF-8; not read'
run ss sync
check_eq "names not UTF-8: exit 1, each named, escaped" "1|$err5
$err4" "$rc|$(LC_ALL=C sort <<<"$err")"
check_eq "kept out of the database, the rest synced" "N-6|active/N-6-six.md" \
  "$(q "SELECT id, path FROM stories WHERE id LIKE 'N-%'")"
check_eq "no path in the database that is not UTF-8" 0 \
  "$(q "SELECT count(*) FROM sync_state WHERE path GLOB '*caf*' OR path GLOB '*ep?/*'")"
# pyread: Python's sqlite3 reads every table
pyread() {
  python3 - "$DB" <<'EOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
    con.execute(f'SELECT * FROM "{t}"').fetchall()
print("ok")
EOF
}
check_eq "Python's sqlite3 reads every table" ok "$(pyread 2>&1)"
json_problems() {
  ss "$@" --json | python3 -c 'import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8"))
print("\n".join(sorted(p if isinstance(p, str) else p["message"]
                        for p in d["problems"])))' 2>&1
}
check_eq "--json is UTF-8 and names them" "$err5
$err4" "$(json_problems sync)"
check_eq "check --json too" "$err5
$err4" "$(json_problems check)"
mv backlog/$'N-4-caf\xe9.md' backlog/N-4-cafe.md
mv active/$'ep\xe9' active/epe
run ss sync
check_eq "renamed: synced" "0|N-4|backlog/N-4-cafe.md
N-5|active/epe/N-5-five.md
N-6|active/N-6-six.md" \
  "$rc|$(q "SELECT id, path FROM stories WHERE id LIKE 'N-%' ORDER BY id")"
check_eq "Python's sqlite3 still reads every table" ok "$(pyread 2>&1)"
quiet "the renamed files"

# ---- {id:lower}: two ids that differ in case ----
mkdir -p "$T/lower/backlog"
cd "$T/lower" || exit 1
printf 'file_name: "{id:lower}.md"\nstages:\n  backlog: backlog\n' \
  >.storysync.yml
ss init >/dev/null
q "INSERT INTO stories(id, backlog, status, title)
   VALUES ('AB-1', 'default', 'backlog', 'Upper');
   INSERT INTO stories(id, backlog, status, title)
   VALUES ('ab-1', 'default', 'backlog', 'Lower')"
run ss sync
holder=$(yaml backlog/ab-1.md "fm['id']")
other=$([ "$holder" = AB-1 ] && echo ab-1 || echo AB-1)
check_eq "a case collision names the story" \
  "1|story $other: backlog/ab-1.md: exists; left alone" "$rc|$err"
check_eq "both rows kept" "AB-1|Upper
ab-1|Lower" "$(q "SELECT id, title FROM stories ORDER BY id")"
finish
