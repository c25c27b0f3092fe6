#!/usr/bin/env python3
"""The Python peer of `storysync init && storysync sync` on a fresh database.

    peer.py ROOT [--db PATH] [-q]

Does the file->DB half of the job the best plain way Python can, as the
anchor the import benchmark compares storysync with: read ROOT/.storysync.yml,
walk every backlog's stage directories, split each *.md file's frontmatter,
parse it with PyYAML's libyaml-backed CSafeLoader, and insert the rows into
`stories` and `story_dependencies` (the schema of DESIGN.md) with the stdlib
sqlite3 module, in one transaction. The database (default
ROOT/.storysync/peer.db) is created afresh; an existing one is replaced.

It does less than storysync: no sync state, no content hashes, no triggers,
no mirror-key checks, no history. Files it cannot use are reported on stderr
and skipped; the exit code is then 1.
"""
import argparse
import json
import os
import re
import sqlite3
import sys

import yaml

try:
    LOADER = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml: say so, do not lie
    sys.exit("peer.py: PyYAML has no CSafeLoader (built without libyaml)")

DEFAULT_STAGES = {"refinement": "refinements", "backlog": "backlog",
                  "active": "active", "completed": "completed"}
COLUMNS = ("id", "backlog", "status", "epic", "title", "priority", "points",
           "assignee", "labels", "extra", "body", "path", "created")
# Keys with a column (or a location mirror) of their own: never in extra.
OWN_KEYS = {"id", "backlog", "status", "epic", "title", "priority", "points",
            "assignee", "labels", "depends_on", "created"}
ID_FROM_NAME = re.compile(r"([A-Za-z][A-Za-z0-9]*-[A-Za-z]*[0-9]+)(?=[-.])")

SCHEMA = """
CREATE TABLE backlogs (name TEXT PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE stories (
    id TEXT PRIMARY KEY, backlog TEXT, status TEXT, epic TEXT,
    title TEXT NOT NULL, priority TEXT, points INTEGER, assignee TEXT,
    labels TEXT, extra TEXT, body TEXT, path TEXT NOT NULL UNIQUE,
    created TEXT, updated TEXT, rev INTEGER NOT NULL DEFAULT 1);
CREATE TABLE story_dependencies (
    story_id TEXT NOT NULL, depends_on TEXT NOT NULL,
    PRIMARY KEY (story_id, depends_on));
"""


class Skip(Exception):
    """A file that cannot become a row; the message names why."""


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def text(value):
    """A scalar in the canonical text form: dates ISO, numbers decimal."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def split(data, rel):
    """(frontmatter, body) of a story file's text."""
    if data.startswith("\ufeff"):
        data = data[1:]
    if "\r\n" in data:
        data = data.replace("\r\n", "\n")
    if not data.startswith("---\n"):
        raise Skip(f"{rel}:1:1: no frontmatter")
    end = data.find("\n---\n", 3)
    if end < 0:
        if data.endswith("\n---"):
            end = len(data) - 4
        else:
            raise Skip(f"{rel}:1:1: frontmatter not closed")
    return data[4:end + 1], data[end + 5:]


def row_of(path, rel, backlog, status, epic):
    """The stories row and the dependencies of one file."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = raw.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise Skip(f"{rel}: not UTF-8 ({ex.reason})") from None
    fm, body = split(data, rel)
    try:
        doc = yaml.load(fm, Loader=LOADER)
    except yaml.YAMLError as ex:
        raise Skip(f"{rel}: {ex}".replace("\n", " ")) from None
    if not isinstance(doc, dict):
        raise Skip(f"{rel}:2:1: frontmatter is not a mapping")
    sid = doc.get("id")
    if sid is None:
        m = ID_FROM_NAME.match(os.path.basename(rel))
        if not m:
            raise Skip(f"{rel}: no id: key and no ID prefix in the file name")
        sid = m.group(1)
    if doc.get("title") is None:
        raise Skip(f"{rel}:2:1: title is required")
    labels = doc.get("labels")
    deps = doc.get("depends_on") or []
    if not isinstance(deps, list):
        deps = [deps]
    extra = {k: v for k, v in doc.items() if k not in OWN_KEYS}
    points = doc.get("points")
    row = (text(sid), backlog, status, epic, text(doc["title"]),
           text(doc.get("priority")),
           points if isinstance(points, int) else text(points),
           text(doc.get("assignee")),
           None if labels is None else compact([text(x) for x in labels]),
           compact(extra) if extra else None, body, rel,
           text(doc.get("created")))
    return row, sorted({text(d) for d in deps})


def story_files(root, bdir, stages):
    """(path, rel, status, epic) of every story file of one backlog."""
    for status, sdir in stages.items():
        top = os.path.join(root, bdir, sdir)
        if not os.path.isdir(top):
            continue
        yield from walk(root, top, status, None, 0)


def walk(root, d, status, epic, depth):
    with os.scandir(d) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        if e.name.startswith("."):
            continue
        if e.is_symlink():
            rel = os.path.relpath(e.path, root)
            print(f"peer.py: {rel}: a symlink, not followed", file=sys.stderr)
            continue
        if e.is_dir():
            # The first level under a stage names the epic.
            yield from walk(root, e.path, status,
                            e.name if depth == 0 else epic, depth + 1)
        elif e.name.endswith(".md") and e.is_file():
            yield e.path, os.path.relpath(e.path, root), status, epic


def load_config(root):
    path = os.path.join(root, ".storysync.yml")
    with open(path, "rb") as f:
        cfg = yaml.load(f, Loader=LOADER) or {}
    backlogs = cfg.get("backlogs") or {"default": "."}
    stages = cfg.get("stages") or DEFAULT_STAGES
    return backlogs, stages


def collect(root, backlogs, stages):
    """Rows by id and dependency pairs; ids claimed twice are dropped."""
    rows, deps, dup, errors = {}, {}, set(), 0
    for bname, bdir in backlogs.items():
        for path, rel, status, epic in story_files(root, bdir, stages):
            try:
                row, d = row_of(path, rel, bname, status, epic)
            except Skip as ex:
                print(f"peer.py: {ex}", file=sys.stderr)
                errors += 1
                continue
            if row[0] in rows:
                print(f"peer.py: {rel}: id {row[0]} also claimed by "
                      f"{rows[row[0]][11]}", file=sys.stderr)
                dup.add(row[0])
                errors += 1
                continue
            rows[row[0]] = row
            deps[row[0]] = d
    for sid in dup:
        del rows[sid]
        del deps[sid]
    return rows, deps, errors


def store(db, backlogs, rows, deps):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
    os.makedirs(os.path.dirname(os.path.abspath(db)), exist_ok=True)
    con = sqlite3.connect(db, isolation_level=None)
    try:
        # A new file: no journal and no fsync while loading, as storysync's
        # first load (store_bulk) does; a crash leaves a file to delete.
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("BEGIN IMMEDIATE")
        # executescript() would COMMIT first: one statement at a time.
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                con.execute(stmt)
        con.executemany("INSERT INTO backlogs(name, path) VALUES (?, ?)",
                        backlogs.items())
        con.executemany(
            f"INSERT INTO stories ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(COLUMNS))})", rows.values())
        con.executemany(
            "INSERT INTO story_dependencies(story_id, depends_on) VALUES (?, ?)",
            ((sid, d) for sid, ds in deps.items() for d in ds))
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=WAL")  # what the API then expects
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root")
    ap.add_argument("--db", help="database file "
                    "(default ROOT/.storysync/peer.db)")
    ap.add_argument("-q", "--quiet", action="store_true",
                    help="no summary line")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    db = a.db or os.path.join(root, ".storysync", "peer.db")
    try:
        backlogs, stages = load_config(root)
    except (OSError, yaml.YAMLError) as ex:
        sys.exit(f"peer.py: {ex}")
    rows, deps, errors = collect(root, backlogs, stages)
    store(db, backlogs, rows, deps)
    if not a.quiet:
        ndeps = sum(len(d) for d in deps.values())
        print(f"peer.py: {len(rows)} stories, {ndeps} dependencies, "
              f"{errors} skipped -> {db}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
