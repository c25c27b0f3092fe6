#!/bin/bash
# Issue 11: storysync-db(7) documents every table and column of the live
# schema, each in its own table's section, and the schema version.
. "$(dirname "$0")/lib.sh"

ss init >/dev/null || not_ok "init"
page=$SOURCE_ROOT/man/storysync-db.7.scd
python3 - "$DB" "$page" >"$O/missing" <<'PY'
import re, sqlite3, sys
db, page = sys.argv[1], open(sys.argv[2]).read()
con = sqlite3.connect(db)

def section(table):
    # "## table" up to the next heading; else its row of the table of
    # storysync's own tables, up to the next row
    m = re.search(r"^## %s\n(.*?)(?=^#)" % re.escape(table), page, re.S | re.M)
    if m:
        return m.group(1)
    m = re.search(r"^\|  \*%s\*\n(.*?)(?=^\||^#)" % re.escape(table), page,
                  re.S | re.M)
    return m.group(1) if m else None

tables = [r[0] for r in con.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
print("tables", len(tables))
for t in tables:
    text = section(t)
    if text is None:
        print("no section for table", t)
        continue
    for (col,) in con.execute("SELECT name FROM pragma_table_info(?)", (t,)):
        if not re.search(r"\*%s\*" % re.escape(col), text):
            print("%s.%s is not documented" % (t, col))
v = con.execute("PRAGMA user_version").fetchone()[0]
if "(%d for this storysync)" % v not in page:
    print("the schema version %d is not named" % v)
PY
check_eq "the live schema has its tables" "tables 16" "$(head -n 1 "$O/missing")"
check_eq "every table and column is documented in its section" "" \
  "$(sed 1d "$O/missing")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
