#!/usr/bin/env python3
"""Dumps a storysync SQLite database as text, to compare two imports of one
tree by two builds: the schema, page size, journal mode, integrity check,
then every table in rowid order (sqlite_sequence too), each row one line.
What differs from one run to the next is masked: times (the run's, a row's
'updated', the stat data's ctime and recorded time, inode numbers of a
copied tree), the run's id and the tree's host and path.

usage: dump_db.py DB > DUMP   (then diff two dumps)
"""
import re
import sqlite3
import sys

# columns whose value is the run's time or place, not the import's content:
# table -> columns (a tree copied with cp -a keeps mtimes, not ctimes or
# inode numbers)
MASK = {
    "stories": {"updated"},
    "sync_runs": {"started", "ended"},
    "trees": {"host", "path", "registered"},
    "sync_events": {"at"},
    "status_history": {"changed_at"},
    "sync_state": {"ctime_ns", "recorded_ns", "ino"},
    "sync_conflicts": {"at"},
    "deleted_stories": {"deleted_at"},
    "sync_deleted": {"deleted_at"},
    "sync_consumers": {"updated"},
    "sync_replaced": {"updated"},
}
# sync_meta's keys whose value differs from run to run
MASK_META = {"state.generation"}


def main():
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    out = sys.stdout
    for row in db.execute("SELECT type, name, sql FROM sqlite_master "
                          "ORDER BY type, name"):
        out.write(f"schema {row!r}\n")
    for p in ("page_size", "journal_mode", "integrity_check"):
        out.write(f"pragma {p} {db.execute(f'PRAGMA {p}').fetchall()!r}\n")
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for t in tables:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info('{t}')")]
        rowid = "" if t.startswith("sqlite_") else "rowid, "
        order = "" if not rowid else " ORDER BY rowid"
        if t == "sqlite_sequence":
            order = " ORDER BY name"
        n = 0
        for r in db.execute(f"SELECT {rowid}* FROM \"{t}\"{order}"):
            vals = list(r)
            names = (["rowid"] if rowid else []) + cols
            for i, c in enumerate(names):
                if c in MASK.get(t, ()):
                    vals[i] = "*"
            if t == "sync_meta" and vals[names.index("key")] in MASK_META:
                vals[names.index("value")] = "*"
            out.write(f"{t} {vals!r}\n")
            n += 1
        out.write(f"rows {t} {n}\n")



if __name__ == "__main__":
    main()
