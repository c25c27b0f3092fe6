#!/usr/bin/env python3
"""Times two commands in pairs: A B A B ..., so that whatever the machine
does meanwhile (a cron job, the CPU's clock, the page cache) falls on both
alike. Each pair gives a ratio A/B; the figure is the median of those
ratios, beside each command's median wall and CPU time (user + system of
the command and its children, from wait4).

usage: pair.py [--runs N] [--warmup W] [--no-shell] [--json FILE]
               [--prepare-a CMD] [--prepare-b CMD] A B

A, B and the prepare commands are shell command strings (run by sh -c), or
with --no-shell split into words and executed directly, so that a shell's
start-up (a millisecond) is not timed around a command of a few. A prepare
command runs before every run of its command, untimed. Prints one line of
JSON (also written to FILE): runs, a and b (median_ms, cpu_median_ms,
times_ms, cpu_ms), ratio (median of the per-pair wall ratios), cpu_ratio,
ratio_spread (the middle half of the per-pair ratios).
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def run(cmd, shell):
    """One timed run: (wall ms, CPU ms), or raises on a failure."""
    argv = ["sh", "-c", cmd] if shell else shlex.split(cmd)
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ,
                          file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull,
                                         os.O_WRONLY, 0),
                                        (os.POSIX_SPAWN_OPEN, 2, os.devnull,
                                         os.O_WRONLY, 0)])
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"pair.py: {cmd!r} exited {code}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1e3


def prepare(cmd):
    if cmd:
        subprocess.run(["sh", "-c", cmd], check=True,
                       stdout=subprocess.DEVNULL)


def quartiles(xs):
    if len(xs) < 4:
        return [min(xs), max(xs)]
    q = statistics.quantiles(xs, n=4)
    return [q[0], q[2]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-shell", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--prepare-a", default="")
    ap.add_argument("--prepare-b", default="")
    ap.add_argument("a")
    ap.add_argument("b")
    o = ap.parse_args()
    shell = not o.no_shell
    res = {"a": {"cmd": o.a, "times_ms": [], "cpu_ms": []},
           "b": {"cmd": o.b, "times_ms": [], "cpu_ms": []}}
    for i in range(o.warmup + o.runs):
        for side, cmd, prep in (("a", o.a, o.prepare_a),
                                ("b", o.b, o.prepare_b)):
            prepare(prep)
            wall, cpu = run(cmd, shell)
            if i >= o.warmup:
                res[side]["times_ms"].append(wall)
                res[side]["cpu_ms"].append(cpu)
    for side in ("a", "b"):
        r = res[side]
        r["median_ms"] = statistics.median(r["times_ms"])
        r["cpu_median_ms"] = statistics.median(r["cpu_ms"])
    ratios = [x / y for x, y in zip(res["a"]["times_ms"],
                                    res["b"]["times_ms"])]
    cpu_ratios = [x / y for x, y in zip(res["a"]["cpu_ms"],
                                        res["b"]["cpu_ms"]) if y > 0]
    res["runs"] = o.runs
    res["ratio"] = statistics.median(ratios)
    res["ratio_spread"] = quartiles(ratios)
    res["cpu_ratio"] = statistics.median(cpu_ratios) if cpu_ratios else None
    text = json.dumps(res)
    if o.json:
        with open(o.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    sys.exit(main())
