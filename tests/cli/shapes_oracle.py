#!/usr/bin/env python3
"""Issue 24's oracle: every story file of a tree is a row of the database
whose fields match the file read independently, with PyYAML, and every row
is a file. The tree's shape comes from a JSON spec, not from storysync:

  {"backlogs": {"NAME": "DIR"}, "stages": {"STATUS": "DIR"},
   "status_from": "key" | "location", "keys": {"COLUMN": "KEY"},
   "id_re": "REGEX with one group, on the file name" (no id key) or null,
   "shadows": ["PATH", ...]   (archived copies: no row of their own)}

Each file belongs to the deepest stage directory holding it; a directory
below it is its epic; hidden directories below a backlog are skipped.
Prints one line per mismatch and exits 1 if there is any."""
import datetime
import json
import os
import re
import sqlite3
import sys

import yaml

COLUMNS = ["title", "priority", "points", "assignees", "labels",
           "depends_on", "created", "parent"]
DEFAULT_KEYS = {"id": "id", "title": "title", "priority": "priority",
                "points": "points", "assignees": "assignee",
                "labels": "labels", "depends_on": "depends_on",
                "created": "created", "status": "status",
                "backlog": "backlog", "epic": "epic"}


def frontmatter(path):
    text = open(path, encoding="utf-8-sig").read().replace("\r\n", "\n")
    _, fm, body = text.split("---\n", 2)
    # BaseLoader: every scalar as the text written, as storysync keeps
    # the columns; SafeLoader for extra, which storysync types as YAML's
    # core schema does
    return (yaml.load(fm, Loader=yaml.BaseLoader) or {},
            yaml.safe_load(fm) or {}, body)


def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v


def stories(root, spec):
    """(rel path, backlog, status or None, epic) of every story file."""
    stages = sorted(spec["stages"].items(), key=lambda s: -len(s[1]))
    for name, bdir in spec["backlogs"].items():
        base = os.path.normpath(os.path.join(root, bdir))
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for f in files:
                if not f.endswith(".md") or f.startswith("."):
                    continue
                below = os.path.relpath(os.path.join(dirpath, f), base)
                for status, sdir in stages:
                    if sdir == "." or below.startswith(sdir + "/"):
                        rest = below if sdir == "." else below[len(sdir) + 1:]
                        break
                else:
                    continue
                parts = rest.split("/")
                if len(parts) > 2:
                    continue
                yield (os.path.relpath(os.path.join(dirpath, f), root),
                       name, status, parts[0] if len(parts) == 2 else None)


def main(root, db, spec):
    spec = json.load(open(spec))
    keys = dict(DEFAULT_KEYS, **spec.get("keys", {}))
    if "parent" not in spec.get("keys", {}):
        keys.pop("parent", None)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {r["id"]: r for r in con.execute("SELECT * FROM stories")}
    deps = {}
    for sid, dep in con.execute(
            "SELECT story_id, depends_on FROM story_dependencies"):
        deps.setdefault(sid, []).append(dep)
    bad, seen = [], set()
    for rel, backlog, status, epic in stories(root, spec):
        if rel in spec.get("shadows", []):
            continue
        fm, typed, body = frontmatter(os.path.join(root, rel))
        if spec.get("id_re"):
            sid = re.match(spec["id_re"], os.path.basename(rel)).group(1)
        else:
            sid = fm[keys["id"]]
        seen.add(sid)
        row = rows.get(sid)
        if row is None:
            bad.append(f"{rel}: no row for {sid}")
            continue
        want = {"path": rel, "backlog": backlog, "epic": epic,
                "status": fm.get(keys["status"])
                if spec["status_from"] == "key" else status,
                "body": body}
        for col in COLUMNS:
            v = fm.get(keys[col]) if col in keys else None
            if col in ("assignees", "labels") and v is not None:
                v = json.dumps(v if isinstance(v, list) else [v],
                               separators=(",", ":"), ensure_ascii=False)
            if col == "depends_on":
                v = sorted(set(v if isinstance(v, list) else [v])) if v \
                    else None
            want[col] = v
        got = dict(row)
        got["points"] = None if got["points"] is None else str(got["points"])
        got["depends_on"] = sorted(deps[sid]) if sid in deps else None
        for col, v in want.items():
            if got[col] != v:
                bad.append(f"{rel}: {col} is {got[col]!r}, the file has {v!r}")
        mapped = set(keys.values())
        extra = {k: plain(x) for k, x in typed.items() if k not in mapped}
        got_extra = json.loads(row["extra"]) if row["extra"] else {}
        if list(got_extra.items()) != list(extra.items()):
            bad.append(f"{rel}: extra is {got_extra}, the file has {extra}")
    for sid in rows:
        if sid not in seen:
            bad.append(f"row {sid} has no file")
    for line in bad:
        print(line)
    print(f"{len(seen)} files, {len(rows)} rows")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
