#!/usr/bin/env python3
"""Makes stat caches (DATABASE.statcache) that a run must not trust, from
the layout statcache.c writes: a header, entries sorted by path, a hash
table of them, then the paths. Independent of storysync: it reads and
writes the bytes.

statcache.py truncate FILE          half of it
statcache.py garbage FILE           random bytes, the same size
statcache.py version FILE           the next version, checksum still right
statcache.py generation FILE        the generation a run's database has not
statcache.py add FILE PATH...       entries at PATHs, the generation and
                                    checksum kept right (paths no run may
                                    ever open)
"""
import os
import struct
import sys

HEADER = struct.Struct("<8sIIqqQQQQQQ")
ENTRY = struct.Struct("<qqqQqIIQ")
M = (1 << 64) - 1


def mix(h, w):
    h = ((h ^ w) * 0xBF58476D1CE4E5B9) & M
    return h ^ (h >> 31)


def checksum(b):
    """Four lanes: the i-th word of each 32-byte block into the i-th,
    folded into the first with the words and bytes left over."""
    h = [((0x9E3779B97F4A7C15 ^ len(b)) + lane) & M for lane in range(4)]
    i = 0
    while i + 32 <= len(b):
        for lane in range(4):
            at = i + 8 * lane
            h[lane] = mix(h[lane], int.from_bytes(b[at:at + 8], "little"))
        i += 32
    r = h[0]
    for lane in range(1, 4):
        r = mix(r, h[lane])
    while i + 8 <= len(b):
        r = mix(r, int.from_bytes(b[i:i + 8], "little"))
        i += 8
    for c in b[i:]:
        r = ((r ^ c) * 0x94D049BB133111EB) & M
        r ^= r >> 29
    return r


def strmap_hash(s):
    """strmap.c's hash of a path."""
    k = 0x9E3779B97F4A7C15
    h = (len(s) * k) & M
    while len(s) >= 8:
        h = ((h ^ int.from_bytes(s[:8], "little")) * k) & M
        h ^= h >> 29
        s = s[8:]
    h = ((h ^ int.from_bytes(s, "little")) * k) & M
    return h ^ (h >> 32)


def read(path):
    data = open(path, "rb").read()
    h = list(HEADER.unpack_from(data))
    n, slots, slen = h[7], h[8], h[9]
    ents = []
    strings = data[HEADER.size + n * ENTRY.size + 4 * slots:]
    assert len(strings) == slen
    for i in range(n):
        e = list(ENTRY.unpack_from(data, HEADER.size + i * ENTRY.size))
        off, ln = e[7], e[6]
        ents.append((strings[off:off + ln], e[:6]))
    return h, ents


def write(path, h, ents):
    ents = sorted(ents, key=lambda e: e[0])
    slots = 16
    while slots < 2 * len(ents) + 1:
        slots *= 2
    table = [0] * slots
    body, strings = b"", b""
    for i, (p, e) in enumerate(ents):
        body += ENTRY.pack(*e[:6], len(p), len(strings))
        strings += p + b"\0"
        at = strmap_hash(p) & (slots - 1)
        while table[at]:
            at = (at + 1) & (slots - 1)
        table[at] = i + 1
    body += struct.pack("<%dI" % slots, *table) + strings
    h[7], h[8], h[9] = len(ents), slots, len(strings)
    h[10] = checksum(body)
    tmp = path + ".forged"
    with open(tmp, "wb") as f:
        f.write(HEADER.pack(*h) + body)
    os.rename(tmp, path)


def main(what, path, *paths):
    data = open(path, "rb").read()
    if what == "truncate":
        open(path, "wb").write(data[:len(data) // 2])
    elif what == "garbage":
        open(path, "wb").write(os.urandom(len(data)))
    elif what == "version":
        h, ents = read(path)
        h[1] += 1
        write(path, h, ents)
    elif what == "generation":
        h, ents = read(path)
        h[3] = (h[3] + 1) if h[3] < (1 << 62) else h[3] - 1
        write(path, h, ents)
    elif what == "add":
        h, ents = read(path)
        st = ents[0][1]
        ents += [(p.encode(), st) for p in paths]
        write(path, h, ents)
    else:
        sys.exit("unknown: " + what)


main(*sys.argv[1:])
