#!/usr/bin/env python3
"""Checks one tree's rows in a database several trees share against that
tree's story files, read independently with PyYAML: the rows of the tree
named TREE are exactly the files below ROOT, each with its id, title,
backlog, status (from the stage folder), path and dependencies (under the
key DEPS_KEY). Usage: trees_oracle.py ROOT DB TREE DEPS_KEY BACKLOG=DIR...
STAGE:DIR=STATUS... DB is a SQLite file, or a PostgreSQL URI read with psql
(its rows as JSON). Prints one line per mismatch; exits 1 if there is any."""
import json
import os
import sqlite3
import subprocess
import sys

import yaml


def load(path):
    text = open(path, encoding="utf-8").read()
    _, fm, _ = text.split("---\n", 2)
    return yaml.load(fm, Loader=yaml.CSafeLoader)


def main(root, db, tree, deps_key, specs):
    backlogs = {}
    stages = {}
    for s in specs:
        if s.startswith("STAGE:"):
            d, status = s[6:].split("=", 1)
            stages[d] = status
        else:
            name, d = s.split("=", 1)
            backlogs[name] = d
    if db.startswith(("postgresql:", "postgres:")):
        def select(sql, cols):
            q = "SELECT coalesce(json_agg(json_build_array(%s)), '[]') FROM (%s) s" % (
                ", ".join(cols), sql.replace("?", "'%s'" % tree.replace("'", "''")))
            out = subprocess.run(["psql", "-qAtX", "-d", db, "-c", q],
                                 check=True, capture_output=True, text=True).stdout
            return [tuple(r) for r in json.loads(out)]
    else:
        con = sqlite3.connect(db)

        def select(sql, cols):
            return con.execute(sql, (tree,)).fetchall()
    rows = {r[0]: r for r in select(
        "SELECT id, backlog, status, title, path FROM stories WHERE tree = ?",
        ["id", "backlog", "status", "title", "path"])}
    deps = {}
    for sid, dep in select(
            "SELECT story_id, depends_on FROM story_dependencies"
            " WHERE tree = ?", ["story_id", "depends_on"]):
        deps.setdefault(sid, []).append(dep)
    bad = 0
    seen = 0
    for name, bdir in backlogs.items():
        for sdir, status in stages.items():
            top = os.path.normpath(os.path.join(root, bdir, sdir))
            if not os.path.isdir(top):
                continue
            for f in sorted(os.listdir(top)):
                if not f.endswith(".md"):
                    continue
                rel = os.path.relpath(os.path.join(top, f), root)
                fm = load(os.path.join(top, f))
                sid = str(fm["id"])
                seen += 1
                row = rows.get(sid)
                if row is None:
                    print(f"{rel}: no row of tree {tree} for {sid}")
                    bad += 1
                    continue
                want = (sid, name, status, str(fm["title"]), rel)
                if tuple(row) != want:
                    print(f"{rel}: row {row} != {want}")
                    bad += 1
                if sorted(fm.get(deps_key) or []) != sorted(deps.get(sid, [])):
                    print(f"{rel}: deps {deps.get(sid)} != {fm.get(deps_key)}")
                    bad += 1
    if seen != len(rows):
        print(f"tree {tree}: {seen} files but {len(rows)} rows")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4],
                  sys.argv[5:]))
