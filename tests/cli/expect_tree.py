#!/usr/bin/env python3
"""Checks a storysync database against the story tree it was synced from:
every story file's row, read independently with PyYAML. Prints one line per
mismatch and exits 1 if there is any."""
import json
import os
import subprocess
import sqlite3
import sys

import yaml

STAGES = {"refinements": "refinement", "backlog": "backlog",
          "active": "active", "completed": "completed"}
COLUMNS = {"id", "title", "priority", "points", "assignee", "labels",
           "depends_on", "created", "backlog", "status", "epic"}


def load(path):
    text = open(path, encoding="utf-8-sig").read().replace("\r\n", "\n")
    _, fm, body = text.split("---\n", 2)
    return yaml.load(fm, Loader=yaml.CSafeLoader), body


def assignees(fm):
    """A scalar assignee is a list of one; a list is as written."""
    a = fm.get("assignee")
    if a is None:
        return None
    return [str(x) for x in a] if isinstance(a, list) else [str(a)]


def server_rows(uri, sql):
    """The rows of sql on a PostgreSQL server (psql, as JSON): a twin's."""
    out = subprocess.run(
        ["psql", "-qAtX", "-d", uri, "-c",
         "SELECT coalesce(json_agg(json_build_array(%s)), '[]')::text FROM (%s) r"
         % (", ".join("r.c%d" % i for i in range(sql.count(" AS c"))), sql)],
        check=True, capture_output=True, text=True).stdout
    return [tuple(r) for r in json.loads(out)]


def main(root, db):
    if db.startswith(("postgresql:", "postgres:")):
        stories = server_rows(db, "SELECT id AS c0, backlog AS c1, status AS c2,"
                              " epic AS c3, title AS c4, priority AS c5,"
                              " points AS c6, assignees::text AS c7,"
                              " labels::text AS c8, extra::text AS c9,"
                              " body AS c10, path AS c11 FROM stories")
        dep_rows = server_rows(db, "SELECT story_id AS c0, depends_on AS c1"
                               " FROM story_dependencies")
        # PostgreSQL's points column is text, where SQLite's INTEGER
        # affinity turns a number's text into the number: the one
        # difference of the rows the API reads (storysync-db(7))
        stories = [r[:6] + (int(r[6]) if r[6] and r[6].isdigit() else r[6],)
                   + r[7:] for r in stories]
    else:
        con = sqlite3.connect(db)
        stories = con.execute(
            "SELECT id, backlog, status, epic, title, priority, points, assignees,"
            " labels, extra, body, path FROM stories").fetchall()
        dep_rows = con.execute(
            "SELECT story_id, depends_on FROM story_dependencies").fetchall()
    rows = {r[0]: r for r in stories}
    deps = {}
    for sid, dep in dep_rows:
        deps.setdefault(sid, []).append(dep)
    bad = 0
    seen = 0
    for backlog in sorted(os.listdir(os.path.join(root, "stories"))):
        for dirpath, _, files in os.walk(os.path.join(root, "stories", backlog)):
            for name in files:
                if not name.endswith(".md"):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                parts = rel.split("/")
                fm, body = load(path)
                sid = str(fm.get("id") or "-".join(name.split("-")[:2]))
                seen += 1
                row = rows.get(sid)
                if row is None:
                    print(f"{rel}: no row for {sid}")
                    bad += 1
                    continue
                want = {
                    "backlog": parts[1], "status": STAGES[parts[2]],
                    "epic": parts[3] if len(parts) == 5 else None,
                    "title": str(fm["title"]), "priority": fm.get("priority"),
                    "points": fm.get("points"), "assignee": assignees(fm),
                    "labels": fm.get("labels"), "path": rel, "body": None,
                }
                got = {
                    "backlog": row[1], "status": row[2], "epic": row[3],
                    "title": row[4], "priority": row[5], "points": row[6],
                    "assignee": json.loads(row[7]) if row[7] else None,
                    "labels": json.loads(row[8]) if row[8] else None,
                    "path": row[11], "body": None,
                }
                extra = {k: v for k, v in fm.items() if k not in COLUMNS}
                got_extra = json.loads(row[9]) if row[9] else {}
                if list(got_extra) != list(extra):
                    print(f"{rel}: extra keys {list(got_extra)} != {list(extra)}")
                    bad += 1
                for k, v in extra.items():
                    v = str(v) if not isinstance(v, (int, float, str, dict, list, bool, type(None))) else v
                    if got_extra.get(k) != v:
                        print(f"{rel}: extra {k}: {got_extra.get(k)!r} != {v!r}")
                        bad += 1
                if sorted(set(fm.get("depends_on") or [])) != sorted(deps.get(sid, [])):
                    print(f"{rel}: depends_on {deps.get(sid)} != {fm.get('depends_on')}")
                    bad += 1
                for k in want:
                    if want[k] != got[k]:
                        print(f"{rel}: {k}: {got[k]!r} != {want[k]!r}")
                        bad += 1
    if seen != len(rows):
        print(f"{seen} files but {len(rows)} rows")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
