"""LeakSanitizer's sample for the Python oracles, as lib.sh's leak_pick:
each command's first run with each set of options, and 1 in 4 of the others
drawn from STORYSYNC_SEED; every run under STORYSYNC_TEST_LEAKS=all or
STORYSYNC_LONG=1. lib.sh exports ASAN_OPTIONS with detect_leaks=0 and
malloc_context_size=0; env() gives a picked run the scan and the stacks."""

import os

SEED = int(os.environ.get("STORYSYNC_SEED", "1"))
ALL = (os.environ.get("STORYSYNC_TEST_LEAKS") == "all"
       or os.environ.get("STORYSYNC_LONG", "0") == "1")
_seen = set()
_n = 0


def env(args):
    """The environment for a run of storysync ARGS: None (the inherited
    one) or one that has LeakSanitizer scan at exit."""
    global _n
    key = (args[0] if args else "",) + tuple(
        a.split("=")[0] for a in args[1:] if a.startswith("-"))
    if not ALL and key in _seen:
        a = ((SEED * 1000003 + _n) * 6364136223846793005
             + 1442695040888963407) & 0x7fffffffffffffff
        _n += 1
        if (a >> 17) % 4:
            return None
    _seen.add(key)
    e = dict(os.environ)
    opts = e.get("ASAN_OPTIONS", "")
    e["ASAN_OPTIONS"] = ((opts + ":" if opts else "")
                         + "detect_leaks=1:malloc_context_size=30")
    return e
