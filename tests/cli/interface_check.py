#!/usr/bin/env python3
"""Reads the interface source, src/interface.txt, as its header says, and
checks each output against it, without the generator's code: each command,
option, argument and description must be where it belongs.

    interface_check.py SOURCE rows          the source's entries as rows
                                            (the LIST the others read)
    interface_check.py LIST help HELP_DIR   --help and help CMD, as printed
    interface_check.py LIST man PAGE.scd    the man page's source, as built
    interface_check.py LIST roff PAGE.1     the man page, as scdoc built it
    interface_check.py LIST zsh _storysync  the zsh completion
    interface_check.py LIST code SRC_DIR    the options the C code parses

Prints one "ok - ..." or "not ok - ..." line per fact."""
import re
import sys

failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}")
        if detail:
            print("#   " + detail.replace("\n", "\n#   "))


def flat(text):
    return " ".join(text.split())


FLAGS = ("after", "alone", "repeatable", "required", "default", "noopts")


def source_rows(path):
    """The rows of interface.txt: one per entry, tab-separated, names
    joined by commas, "-" for nothing:
    option SCOPE NAMES VALUE ARG COMPLETE FLAGS SUMMARY DESCRIPTION
    command NAME OPERANDS COMPLETE FLAGS SUMMARY DESCRIPTION
    text about|footer TEXT
    An entry starts at the left margin; the tab-indented lines under it are
    its description, but for the man page's ("> ", ">"); its summary is
    the description up to the first "; "."""
    entries = []
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("\t"):
            text = line[1:]
            if not (text == ">" or text.startswith("> ")):
                entries[-1]["lines"].append(text)
            continue
        kind, *words = line.split()
        e = dict(kind=kind, names=[], value="none", arg="-", operands=[],
                 complete="-", flags=[], lines=[])
        for w in words:
            m = re.fullmatch(r"(-[-\w]+)\[=([A-Z]+)\]", w)
            if m:
                e["names"].append(m[1])
                e["value"], e["arg"] = "optional", m[2]
            elif w.startswith("-"):
                e["names"].append(w)
            elif re.fullmatch(r"\[?[A-Z]+\]?", w):
                if kind == "command":
                    e["operands"].append(w)
                else:
                    e["value"], e["arg"] = "required", w
            elif w.startswith("complete="):
                e["complete"] = w.split("=", 1)[1]
            elif w.startswith("excludes=") or w in FLAGS:
                e["flags"].append(w)
            elif kind == "command" and not e["names"]:
                e["names"].append(w)
            else:
                sys.exit(f"{path}: what is '{w}' in '{line}'?")
        entries.append(e)
    rows, scope = [], None
    for e in entries:
        desc = flat(" ".join(e["lines"]))
        summary = desc.split("; ")[0]
        flags = ",".join(sorted(f for f in e["flags"] if "=" not in f) +
                         [f for f in e["flags"] if "=" in f]) or "-"
        if e["kind"] in ("about", "footer"):
            rows.append(["text", e["kind"], desc])
        elif e["kind"] == "command":
            scope = e["names"][0]
            rows.append(["command", scope, " ".join(e["operands"]) or "-",
                         e["complete"], flags, summary, desc])
        else:
            rows.append(["option", "global" if e["kind"] == "global"
                         else scope, ",".join(e["names"]), e["value"],
                         e["arg"], e["complete"], flags, summary, desc])
    return "".join("\t".join(r) + "\n" for r in rows)


def read_rows(path):
    globals_, commands = [], []
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if f[0] == "text":
            continue
        if f[0] == "option":
            o = dict(scope=f[1], names=f[2].split(","), value=f[3], arg=f[4],
                     complete=f[5], flags=f[6].split(","), summary=f[7],
                     description=f[8])
            if o["scope"] == "global":
                globals_.append(o)
            else:
                commands[-1]["options"].append(o)
        else:
            commands.append(dict(name=f[1], operands=f[2].split() if f[2] !=
                                 "-" else [], complete=f[3],
                                 flags=f[4].split(","), summary=f[5],
                                 description=f[6], options=[]))
    return globals_, commands


def help_term(o):
    t = ", ".join(o["names"])
    if o["value"] == "optional":
        return t + f"[={o['arg']}]"
    return t + (f" {o['arg']}" if o["value"] == "required" else "")


def check_help(globals_, commands, d):
    full = flat(open(f"{d}/help", encoding="utf-8").read())
    for g in globals_:
        check(f"--help: {help_term(g)} and its description",
              flat(f"{help_term(g)} {g['description']}") in full)
    for c in commands:
        text = flat(open(f"{d}/help-{c['name']}", encoding="utf-8").read())
        head = [c["name"]] + [o["names"][0] for o in c["options"]
                              if "required" in o["flags"]] + c["operands"]
        want = [flat(" ".join(head) + " " + c["description"])]
        want += [flat(f"{help_term(o)} {o['description']}")
                 for o in c["options"]]
        for w in want:
            check(f"help {c['name']}: {w[:40]}...", w in text, text)
            check(f"--help: {w[:40]}...", w in full)


def option_words(text):
    """The option names a help text mentions."""
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][-\w]*)", text))


def check_help_text(texts, globals_, commands, d):
    """--help holds about and footer, and names no option the source does
    not; help CMD names none but CMD's and the global ones that work after
    a command."""
    full = flat(open(f"{d}/help", encoding="utf-8").read())
    for k, t in texts.items():
        check(f"--help: the {k} text", t in full, t)
    every = {n for o in globals_ + [o for c in commands for o in c["options"]]
             for n in o["names"]}
    check("--help: no option the source does not have",
          option_words(full) <= every, str(option_words(full) - every))
    after = {n for g in globals_ if "after" in g["flags"] for n in g["names"]}
    for c in commands:
        text = open(f"{d}/help-{c['name']}", encoding="utf-8").read()
        own = {n for o in c["options"] for n in o["names"]}
        check(f"help {c['name']}: no option but its own and the global "
              "ones", option_words(text) <= own | after,
              str(option_words(text) - own - after))


def plain(text):
    """The man page's markup off: *bold*, _italic_, escapes."""
    text = re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)[*_]", "", text))
    return flat(text)


def man_sections(path):
    sections, name = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"# (.+)", line)
        if m:
            name = m[1]
            sections[name] = []
        elif name:
            sections[name].append(line.rstrip("\n"))
    return sections


def man_entries(lines, indent, lead="*"):
    """Heading line -> its first paragraph, for the headings at indent
    that start with lead."""
    out, i = {}, 0
    tab = "\t" * indent
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith(tab + lead) and nxt.startswith(tab + "\t"):
            body = []
            i += 1
            while i < len(lines) and lines[i].startswith(tab + "\t"):
                body.append(lines[i])
                i += 1
            out[line[indent:]] = plain(" ".join(body))
        else:
            i += 1
    return out


def man_head(o):
    t = ", ".join(f"*{n}*" for n in o["names"])
    if o["value"] == "optional":
        return t + f"[=_{o['arg'].lower()}_]"
    return t + (f" _{o['arg'].lower()}_" if o["value"] == "required" else "")


def said(description, paragraph):
    """The description, as the man page's first sentence says it."""
    d = flat(description)
    return paragraph.lower().startswith(d.lower())


def check_man(globals_, commands, path):
    s = man_sections(path)
    synopsis = [l for l in s.get("SYNOPSIS", []) if l]
    for c in commands:
        line = next((l for l in synopsis if f"*{c['name']}*" in l), "")
        check(f"man SYNOPSIS: {c['name']}", line, "\n".join(synopsis))
        for o in c["options"]:
            check(f"man SYNOPSIS: {c['name']} {man_head(o)}",
                  man_head(o) in line, line)
        for w in c["operands"]:
            check(f"man SYNOPSIS: {c['name']} {w}", f"_{w.strip('[]').lower()}_"
                  in line, line)
        if "default" in c["flags"]:
            for g in globals_:
                if "alone" not in g["flags"]:
                    check(f"man SYNOPSIS: {man_head(g)} with {c['name']}",
                          man_head(g).split(", ")[0] in line, line)
    glob = man_entries(s.get("GLOBAL OPTIONS", []), 0)
    for g in globals_:
        p = glob.get(man_head(g))
        check(f"man GLOBAL OPTIONS: {man_head(g)}", p is not None,
              "\n".join(glob))
        check(f"man GLOBAL OPTIONS: {man_head(g)} says its description",
              p is not None and said(g["description"], p), p or "")
    heads = man_entries(s.get("COMMANDS", []), 0)
    lines = s.get("COMMANDS", [])
    for c in commands:
        head = next((h for h in heads if h.split(" ")[0] == f"*{c['name']}*"),
                    None)
        check(f"man COMMANDS: {c['name']}", head is not None)
        if head is None:
            continue
        p = heads[head]
        check(f"man COMMANDS: {c['name']} says its description",
              said(c["description"], p), p)
        for o in c["options"]:
            check(f"man COMMANDS: {c['name']} heading has {man_head(o)}",
                  man_head(o) in head, head)
        # the command's options: from its heading to the next command's
        start = lines.index(head)
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("*")), len(lines))
        opts = man_entries(lines[start:end], 1, "*-")
        for o in c["options"]:
            p = opts.get(man_head(o))
            check(f"man COMMANDS: {c['name']} {man_head(o)} and its "
                  "description", p is not None and said(o["description"], p),
                  p or "\n".join(opts))
        check(f"man COMMANDS: {c['name']} has no other options",
              len(opts) == len(c["options"]), "\n".join(opts))


def check_roff(globals_, commands, path):
    roff = open(path, encoding="utf-8").read()
    for o in globals_ + [o for c in commands for o in c["options"]]:
        for n in o["names"]:
            check(f"man page (roff): {n}", f"\\fB{n}\\fR" in roff)
    for c in commands:
        check(f"man page (roff): {c['name']}", f"\\fB{c['name']}\\fR" in roff)


def zsh_specs(text):
    """(name, description) of each option spec in a run of zsh words."""
    out = set()
    for m in re.finditer(r"'(\([^)]*\))?\*?([-\w]+)[=+-]*\[((?:[^]\\]|\\.)*)\]"
                         r"|'(\([^)]*\))?\*?'\{([^}]*)\}'\[((?:[^]\\]|\\.)*)\]",
                         text):
        names = [m[2]] if m[2] else [n.rstrip("=+-") for n in m[5].split(",")]
        desc = re.sub(r"\\(.)", r"\1", (m[3] if m[2] else m[6])
                      .replace("'\\''", "'"))
        out |= {(n, desc) for n in names}
    return out


def check_zsh(globals_, commands, path):
    text = open(path, encoding="utf-8").read()
    arrays = {m[1]: zsh_specs(m[2])
              for m in re.finditer(r"^(\w+)=\(\n(.*?)^\)", text, re.M | re.S)}
    after = {(n, g["summary"]) for g in globals_ if "after" in g["flags"]
             for n in g["names"]}
    default = next((c for c in commands if "default" in c["flags"]), None)
    before = {(n, o["summary"]) for o in globals_ +
              (default["options"] if default else []) for n in o["names"]}
    check("zsh: before the command", arrays.get("before") == before,
          f"{sorted(arrays.get('before', []))}\n{sorted(before)}")
    listed = re.findall(r"^\t'([-\w]+):(.*)'$", text, re.M)
    check("zsh: the commands and their summaries",
          {(n, d.replace("'\\''", "'")) for n, d in listed} ==
          {(c["name"], c["summary"]) for c in commands}, str(listed))
    for c in commands:
        m = re.search(rf"^\t{re.escape(c['name'])}\)\n(.*?)^\t\t;;", text,
                      re.M | re.S)
        check(f"zsh: {c['name']} has its branch", m)
        if not m:
            continue
        got = zsh_specs(m[1])
        if "$after" in m[1]:
            got |= arrays.get("after", set())
        want = set() if "noopts" in c["flags"] else set(after)
        want |= {(n, o["summary"]) for o in c["options"] for n in o["names"]}
        check(f"zsh: {c['name']} offers its options", got == want,
              f"{sorted(got)}\n{sorted(want)}")
        if c["complete"] == "command":
            check(f"zsh: {c['name']} offers the commands",
                  "_describe -t commands" in m[1])


def check_code(globals_, commands, src):
    """Each command's cli_flag table (cmd_NAME.c), the output options every
    command takes (cli.c) and the global options (main.c) are the
    source's, names and values."""
    kinds = {"no": "none", "required": "required", "optional": "optional"}

    def table(path):
        text = open(path, encoding="utf-8").read()
        return {(f"--{m[1]}", kinds[m[2]]) for m in re.finditer(
            r'\{"([a-z][-a-z]*)", (no|required|optional)_argument', text)}
    for c in commands:
        if c["name"] == "help":
            continue
        path = f"{src}/cmd_{c['name'].replace('-', '_')}.c"
        got = table(path)
        want = {(o["names"][-1], o["value"]) for o in c["options"]}
        check(f"code: {path}'s options are {c['name']}'s", got == want,
              f"code {sorted(got)}\nsource {sorted(want)}")
    got = table(f"{src}/cli.c")
    want = {(g["names"][-1], g["value"]) for g in globals_
            if "after" in g["flags"] and "alone" not in g["flags"]}
    check("code: cli.c takes the global options that work after a command",
          got == want, f"code {sorted(got)}\nsource {sorted(want)}")
    main_c = open(f"{src}/main.c", encoding="utf-8").read()
    body = main_c[main_c.index("static int parse_globals"):]
    body = body[:body.index("\n}\n")]
    got = set(re.findall(r'"(-[-\w]+)"', body))
    got |= set(re.findall(r'strncmp\(a, "(-\w)", 2\)', body))
    want = {n for g in globals_ for n in g["names"]}
    check("code: main.c takes the global options", got == want,
          f"code {sorted(got)}\nsource {sorted(want)}")


def texts(path):
    """about and footer: their text, flattened."""
    out = {}
    for line in open(path, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if f[0] == "text":
            out[f[1]] = f[2]
    return out


def main(argv):
    if argv[2] == "rows":
        sys.stdout.write(source_rows(argv[1]))
        return
    globals_, commands = read_rows(argv[1])
    if argv[2] == "help":
        check_help_text(texts(argv[1]), globals_, commands, argv[3])
    {"help": check_help, "man": check_man, "roff": check_roff,
     "zsh": check_zsh, "code": check_code}[argv[2]](globals_, commands, argv[3])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv)
