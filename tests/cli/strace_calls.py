"""The calls of an `strace -f -y` log, for the tests that check an order
of system calls (batch_writes.sh, journal_replace.sh): a call a thread
began and another's line split (<unfinished ...>, <... resumed>) is put
back together, and the calls sorted by where they began."""

import re


def calls(path):
    """[(call, args, result, start line, end line)], by start line."""
    out = []
    pending = {}
    for n, line in enumerate(open(path)):
        m = re.match(r"(?:(\d+) +)?(\w+)\((.*) <unfinished \.\.\.>$", line)
        if m:
            pending[m.group(1)] = (m.group(2), m.group(3), n)
            continue
        m = re.match(r"(?:(\d+) +)?<\.\.\. (\w+) resumed>(.*)\) += (-?\d+)",
                     line)
        if m:
            call, args, start = pending.pop(m.group(1))
            out.append((call, args + m.group(3), int(m.group(4)), start, n))
            continue
        m = re.match(r"(?:\d+ +)?(\w+)\((.*)\) += (-?\d+)", line)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3)), n, n))
    out.sort(key=lambda c: c[3])
    return out
