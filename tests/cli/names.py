"""Issue 9's property: every name storysync writes, it reads back as the same
story. Hostile values, set by the API as plain SQL (an update of id, epic or
title, an insert), each end one of two ways: refused (exit 1; no file and no
other row changed, the API's value kept, a refused conflict recorded), or
accepted (the file holds the value, where the value says, and a --full scan
reads back the same rows). Never a delete.

Which way is not storysync's to say: the lists below say it, per name class,
and the long set's random values are judged by the rules written out again
here (id_ok, epic_ok, from storysync(1) and storysync-db(7)). What happened
is read with sqlite3, PyYAML and the file system, never from storysync's
messages. The suite tries one value of every class in every field
(STORYSYNC_SEED picks which, "# seed N"); STORYSYNC_LONG=1 tries every
listed value, and NASTY and 150 random values in every field.

tests/unit/test_fsx.c checks the same rules in one process, over every
listed value and thousands of random ones."""

import hashlib
import os
import random
import re
import sqlite3
import subprocess
import sys

import yaml

import leaks

SS = os.environ["STORYSYNC"]
DB = ".storysync/stories.db"
LONG = os.environ.get("STORYSYNC_LONG", "0") == "1"
SEED = int(os.environ.get("STORYSYNC_SEED", "1"))

# An id: 1-64 of A-Z a-z 0-9 . _ -, not starting with '.' or '-'.
ID_ACCEPT = {
    "plain": ["A-1", "CAPS-9", "NEW_9", "abc-1", "0"],
    "dots inside": ["a.b.c", "a.", "a..b", "x.md", "X.MD.x"],
    "underscore": ["_", "__", "_x_"],
    "the longest": ["X" * 64, "a" * 63 + "."],
}
ID_REFUSE = {
    "empty": [""],
    "hidden": [".hidden", ".md", ".", ".."],
    "leading dash": ["-x", "--", "-"],
    "slash": ["a/b", "../up", "/abs"],
    "space": ["a b", " lead", "trail "],
    "non-ASCII": ["\u00e9", "\u65e5\u672c", "\U0001f642", "A\u202e1"],
    "shell": ["$(id)", "*", "x:y", "x\\y", "x|y", "a'b", 'a"b', "{id}"],
    "control": ["tab\tin", "nl\nx", "del\x7f", "ctl\x01"],
    "too long": ["X" * 65],
}
# An epic, a directory name the scan reads back: not empty, ".", "..",
# ".git", no '/', no control character, at most 255 bytes, not hidden, no
# leading '-', no bidirectional control, line or paragraph separator or
# BOM, and no ".md" ending (the scan would take it for a story file).
EPIC_ACCEPT = {
    "non-ASCII": ["\u00e9", "e\u0301", "\u65e5\u672c\u8a9e", "\U0001f642"],
    "spaces": ["a b", " lead", "trail ", "  "],
    "shell": ["$(id)", "*", "?", "[x]", "{id}", "%s%n", "~", "x|y", "a'b",
              'x"y', "`id`", "&&"],
    "windows names": ["con", "aux", "nul", "prn", "x:y", "x\\y"],
    "dots inside": ["a.", "a..b", "x.mdx", "a.md.b", "md", "x.m d"],
    "the longest": ["a" * 255, "\u00e9" * 127 + "a"],
}
EPIC_REFUSE = {
    "a story file's name": ["x.md", "X.MD", "a.Md", "\u00e9.md"],
    "dots": [".", ".."],
    "hidden": [".hidden", ".md", "..\\up", ".git"],
    "slash": ["a/b", "../up", "/abs", "a/"],
    "leading dash": ["-leading", "--", "-"],
    "bidi": ["fdp.exe\u202egpj", "\u202eright-to-left", "bidi\u2066iso\u2069",
             "mark\u200e", "mark\u200f", "\u061c", "x\u202a"],
    "separators": ["line\u2028sep", "para\u2029sep"],
    "BOM": ["\ufeffbom", "in\ufeffside"],
    "control": ["tab\tin", "nl\nx", "cr\rx", "ctl\x01", "del\x7f", "esc\x1b["],
    "too long": ["a" * 256, "\u00e9" * 128],
}
# A title is any text: the file holds it, its name has an ASCII slug.
TITLES = {
    "file-like": ["x.md", "../up", ".hidden", "a/b", "-leading", ".git"],
    "non-ASCII": ["caf\u00e9 na\u00efve", "\u65e5\u672c\u8a9e", "\U0001f642 ok",
                  "e\u0301"],
    "bidi and separators": ["fdp.exe\u202egpj.md", "line\u2028sep",
                            "para\u2029sep", "\ufeffbom", "mark\u200e"],
    "YAML": ["a: b", "- item", "# not a comment", "[x]", "{id}", "'q'", '"q"',
             "yes", "null", "~", "1e3", "&anchor", "*alias", "!tag", "|", ">",
             "@at", "`tick`", "%s%n", "key: [1, 2]"],
    "spaces and controls": [" lead", "trail ", "tab\tin", "a  b"],
    "long": ["a" * 255, "word " * 80],
}
# The old hand-picked list, kept for the long set.
NASTY = [
    "x.md", "X.MD", "a.md", ".md", "..", ".", ".hidden", "-leading",
    "--", "a/b", "../up", "..\\up", ".git", "a b", " lead", "trail ",
    "fdp.exe\u202egpj.md", "\u202eright-to-left", "bidi\u2066iso\u2069",
    "line\u2028sep", "para\u2029sep", "\ufeffbom", "mark\u200e", "\u061c",
    "tab\tin", "nul", "con", "aux", "*", "?", "[x]", "{id}", "%s%n",
    "~", "-", "\u00e9", "e\u0301", "\u65e5\u672c\u8a9e", "\U0001f642", "a" * 255,
    "a" * 256, "x" * 64, "x" * 65, "A-1", "a.b.c", "_", "__", "a..b", "a.",
    "trailing.", "CAPS-9", "x\\y", "x:y", "x|y", "x\"y", "x'y", "$(id)",
]

ID_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
               "0123456789._-")
DECEPTIVE = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                "\u2066\u2067\u2068\u2069\u2028\u2029\ufeff")


def id_ok(v):
    return 1 <= len(v) <= 64 and v[0] not in ".-" and set(v) <= ID_CHARS


def epic_ok(v):
    b = v.encode()
    return (v not in ("", ".", "..", ".git") and "/" not in v and
            all(ord(c) >= 0x20 and ord(c) != 0x7f for c in v) and
            len(b) <= 255 and v[0] not in ".-" and
            b[-3:].lower() != b".md" and not set(v) & DECEPTIVE)


def rand_value(rng):
    alphabet = ("abcXYZ019.-_ /\\:*?\"<>|~#&'`$%{}[]\u202e\u2028\u200f"
                "\ufeff\u00e9\u65e5\U0001f642\t")
    n = rng.randint(1, 12)
    return "".join(rng.choice(alphabet) for _ in range(n))


passed = failed = 0


def ok(cond, desc, *detail):
    global passed, failed
    if cond:
        passed += 1
        return
    failed += 1
    if failed <= 40:  # the first ones tell; the count says the rest
        print("not ok - " + desc)
        for d in detail:
            print("#   " + str(d)[:400])


def sync(*args):
    r = subprocess.run([SS, *args], capture_output=True, text=True,
                       errors="replace", env=leaks.env(args))
    return r.returncode, r.stdout + r.stderr


def md_files():
    out = []
    for root, _, files in os.walk("stories"):
        out += [os.path.join(root, f) for f in files if f.endswith(".md")]
    return sorted(out)


def tree_digest():
    h = hashlib.sha256()
    for root, dirs, files in os.walk("stories"):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            h.update(p.encode("utf-8", "surrogateescape") + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def front(path):
    """The file's frontmatter, as PyYAML reads it."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    m = re.match(r"\ufeff?---\r?\n(.*?)^---\r?$", text, re.S | re.M)
    try:
        return yaml.safe_load(m.group(1)) if m else None
    except yaml.YAMLError as e:
        return {"PyYAML cannot read it": str(e)}


def files_of(sid):
    """The story files whose frontmatter id is sid."""
    return [p for p in md_files() if (front(p) or {}).get("id") == sid]


COLS = ("id, backlog, status, epic, title, priority, points, assignees, "
        "labels, extra, body, path")


def rows(con):
    return con.execute("SELECT %s FROM stories ORDER BY id" % COLS).fetchall()


def refusals(con):
    return con.execute("SELECT count(*) FROM sync_conflicts"
                       " WHERE kind = 'refused'").fetchone()[0]


class Case:
    def __init__(self, field, cls, value, accept):
        self.field, self.cls, self.value, self.accept = \
            field, cls, value, accept

    def __str__(self):
        return "%s (%s) = %r" % (self.field, self.cls, self.value)


def cases(rng):
    out = []

    def add(field, table, accept, every):
        for cls, values in table.items():
            for v in values if every else [rng.choice(values)]:
                out.append(Case(field, cls, v, accept))
    every = LONG
    add("id", ID_ACCEPT, True, every)
    add("id", ID_REFUSE, False, every)
    add("epic", EPIC_ACCEPT, True, every)
    add("epic", EPIC_REFUSE, False, every)
    add("title", TITLES, True, every)
    # a new row: its epic decides, its title is the same value
    add("insert", EPIC_ACCEPT, True, every)
    add("insert", EPIC_REFUSE, False, every)
    if LONG:
        extra = NASTY + [rand_value(rng) for _ in range(150)]
        for v in extra:
            out.append(Case("id", "NASTY or random", v, id_ok(v)))
            out.append(Case("epic", "NASTY or random", v, epic_ok(v)))
            out.append(Case("title", "NASTY or random", v, True))
            out.append(Case("insert", "NASTY or random", v, epic_ok(v)))
    return out


def check_lists():
    """The lists agree with the rules written out above: two statements
    of the same contract."""
    for table, rule, want in ((ID_ACCEPT, id_ok, True),
                              (ID_REFUSE, id_ok, False),
                              (EPIC_ACCEPT, epic_ok, True),
                              (EPIC_REFUSE, epic_ok, False)):
        for cls, values in table.items():
            for v in values:
                ok(rule(v) == want, "the list and the rule agree on %r (%s)"
                   % (v, cls))


def try_case(con, c, i, state):
    target = con.execute("SELECT id FROM stories WHERE id NOT LIKE 'NEW-%'"
                         " ORDER BY id LIMIT 1 OFFSET ?",
                         (i % 15,)).fetchone()[0]
    before_rows = rows(con)
    before_tree = tree_digest()
    before_n = len(md_files())
    before_ref = refusals(con)
    new_id = "NEW-%d" % i
    sid = {"insert": new_id, "id": c.value}.get(c.field, target)
    if c.field == "id" and con.execute("SELECT 1 FROM stories WHERE id = ?",
                                       (c.value,)).fetchone():
        print("# skip - %s: a story has that id already" % c)
        return
    try:
        if c.field == "insert":
            con.execute("INSERT INTO stories(id, backlog, status, epic,"
                        " title) VALUES (?, 'platform', 'backlog', ?, ?)",
                        (new_id, c.value, c.value))
        else:
            con.execute("UPDATE stories SET %s = ? WHERE id = ?" % c.field,
                        (c.value, target))
    except sqlite3.Error as e:
        ok(False, "%s: the API can write it" % c, e)
        return
    after_api = rows(con)
    rc, out = sync()
    if not c.accept:
        state["refused"] += 1
        ok(rc == 1, "%s: refused, the run exits 1" % c, rc, out)
        ok(tree_digest() == before_tree, "%s: refused, no file changed" % c,
           out)
        ok(rows(con) == after_api,
           "%s: refused, no row changed, the API's value kept" % c, out)
        ok(refusals(con) == before_ref + 1,
           "%s: recorded as one refused conflict" % c,
           refusals(con) - before_ref)
        kept = con.execute("SELECT fields, lost ->> '$.id' FROM"
                           " sync_conflicts WHERE kind = 'refused'"
                           " ORDER BY id DESC LIMIT 1").fetchone()
        ok(kept == ("id" if c.field == "id" else "epic", sid),
           "%s: the conflict names the field and keeps the row" % c, kept)
        if state["refused"] == 1:
            # refused again by the next run, recorded once
            rc3, out3 = sync()
            ok(rc3 == 1 and refusals(con) == before_ref + 1 and
               tree_digest() == before_tree,
               "%s: refused again, recorded once" % c, rc3, out3)
        # the API takes it back; all is as it was
        if c.field == "insert":
            con.execute("DELETE FROM stories WHERE id = ?", (new_id,))
        elif c.field == "id":
            con.execute("UPDATE stories SET id = ? WHERE id = ?",
                        (target, c.value))
        else:
            old = [r for r in before_rows if r[0] == target][0]
            con.execute("UPDATE stories SET epic = ? WHERE id = ?",
                        (old[3], target))
        rc2, out2 = sync()
        ok(rc2 == 0, "%s: taken back, the run is clean" % c, out2)
        ok(tree_digest() == before_tree and rows(con) == before_rows,
           "%s: taken back, the tree and the rows are as they were" % c)
        return
    state["accepted"] += 1
    ok(rc == 0, "%s: accepted, the run exits 0" % c, rc, out)
    ok(len(md_files()) == before_n + (c.field == "insert"),
       "%s: no file lost" % c)
    ok(len(rows(con)) == len(before_rows) + (c.field == "insert"),
       "%s: no row lost" % c)
    files = files_of(sid)
    ok(len(files) == 1, "%s: one file holds the story" % c, files)
    if c.field == "id":
        ok(files_of(target) == [], "%s: no file keeps the old id" % c)
    if len(files) == 1:
        fm = front(files[0])
        parts = files[0].split(os.sep)
        row = con.execute("SELECT path, epic, title FROM stories WHERE"
                          " id = ?", (sid,)).fetchone()
        ok(row is not None and row[0] == os.path.relpath(files[0]),
           "%s: the row's path is the file's" % c, row, files[0])
        if c.field in ("epic", "insert"):
            ok(parts[-2] == c.value and fm.get("epic") == c.value,
               "%s: the file is in the epic's directory, and says it" % c,
               files[0], fm.get("epic"))
        if c.field in ("title", "insert"):
            ok(fm.get("title") == c.value,
               "%s: the file's title is the value (PyYAML)" % c,
               fm.get("title"))
            ok(re.fullmatch(r"[A-Za-z0-9._-]+\.md", parts[-1]) is not None,
               "%s: the file name is ASCII" % c, parts[-1])
    # a fresh look at every file finds the same story
    tree, db = tree_digest(), rows(con)
    rc2, out2 = sync("--full")
    ok(rc2 == 0 and tree_digest() == tree and rows(con) == db,
       "%s: the next --full scan reads back the same rows" % c, rc2, out2)


def main():
    rng = random.Random(SEED)
    print("# seed %d%s" % (SEED, ", the long set" if LONG else ""))
    check_lists()
    con = sqlite3.connect(DB, isolation_level=None)
    state = {"refused": 0, "accepted": 0}
    todo = cases(rng)
    for i, c in enumerate(todo):
        try_case(con, c, i, state)
    ok(state["refused"] > 10 and state["accepted"] > 10,
       "both outcomes were tried (%d refused, %d accepted)"
       % (state["refused"], state["accepted"]))
    print("%d cases: %d passed, %d failed" % (len(todo), passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
