#!/bin/bash
# Issue 25: storysync@.service is sandboxed. systemd-analyze rates it 2.5
# or below (it said 7.5 EXPOSED), the drop-ins its comments document keep
# it valid, and the sandbox does not break a run: every system call and
# socket family that init, sync (with notify and a metrics file), --full,
# --git, status and metrics make is one the unit allows.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?run through meson test}"

if ! command -v systemd-analyze >/dev/null; then
  echo "# skip: no systemd-analyze (scripts/bootstrap installs systemd)"
  ok "# skip the unit's checks: no systemd-analyze"
  finish
  exit
fi
unit=$BUILD_ROOT/systemd/storysync@.service
mkdir "$O/units"
# the unit of one tree, /srv/stories, with the built binary in ExecStart
# (verify checks that it exists)
instance() { # FILE [DROP-IN LINE...]: the unit, with drop-in lines after it
  local f=$1
  shift
  sed "s|^ExecStart=[^ ]*/storysync |ExecStart=$STORYSYNC |" "$unit" >"$f"
  for line; do echo "$line" >>"$f"; done
}
exposure() { # FILE: the overall exposure systemd-analyze rates, as N.N
  systemd-analyze security --offline=yes "$1" 2>/dev/null |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}
le() { python3 -c 'import sys; sys.exit(not float(sys.argv[1]) <= 2.5)' "$1"; }

u=$O/units/storysync@srv-stories.service
instance "$u"
run systemd-analyze verify --man=no "$u"
check_eq "systemd-analyze verify passes" "0||" "$rc|$out|$err"
x=$(exposure "$u")
if [ -n "$x" ] && le "$x"; then ok "exposure $x, at most 2.5"; else
  not_ok "exposure at most 2.5" "systemd-analyze security says: '$x'"; fi

# The drop-ins the comments give: a database and a metrics file outside
# the tree, and a tree under /home with its database elsewhere in /home.
for d in "ReadWritePaths=/var/lib/storysync /var/lib/prometheus/node-exporter" \
  "ProtectHome=no"; do
  instance "$u" "$d"
  run systemd-analyze verify --man=no "$u"
  check_eq "with the drop-in $d: verify passes" "0||" "$rc|$out|$err"
  x=$(exposure "$u")
  if [ -n "$x" ] && le "$x"; then ok "with $d: exposure $x"; else
    not_ok "with $d: exposure at most 2.5" "it says: '$x'"; fi
  if grep -qxF "#   $d" "$unit"; then ok "the unit's comments give it"; else
    not_ok "the unit's comments give the drop-in $d"; fi
done

# ---- the sandbox against a real run, traced ----
sanitize=$(meson introspect "$BUILD_ROOT" --buildoptions | python3 -c '
import json, sys
print({o["name"]: o["value"] for o in json.load(sys.stdin)}["b_sanitize"])')
if ! command -v strace >/dev/null; then
  ok "# skip the system calls: no strace"
elif [ "$sanitize" != none ]; then
  # ASan's and UBSan's runtimes make calls of their own (ptrace, ...)
  ok "# skip the system calls: a $sanitize build"
else
  "$GEN_STORIES" t --count 20 2>/dev/null
  (cd t && git init -q . && git add -A &&
    git -c user.name=A -c user.email=a@example.org commit -qm stories)
  # a notify command, a metrics file and syslog, an edit, each mode
  strace -f -qq -o "$O/trace" bash -c '
    cd t && "$1" init && printf "%s\n" "notify: cat >/dev/null" \
      "metrics_file: $2/m.prom" "log: syslog" >>.storysync.local.yml &&
    "$1" sync && sed -i "s/^title: .*/title: Edited/" \
      "$(find stories -name "*.md" | head -1)" && "$1" sync -v &&
    "$1" sync --full && "$1" sync --git && "$1" status && "$1" metrics &&
    "$1" check' _ "$STORYSYNC" "$O" >"$O/out" 2>&1
  rc=$? out=$(cat "$O/out") err=
  check_rc "the traced runs succeed" 0
  # the filter and families the unit sets, each @group expanded by
  # systemd-analyze syscall-filter
  res=$(systemd-analyze syscall-filter 2>/dev/null | python3 -c '
import re, sys
groups, cur = {}, None
for line in sys.stdin:
    s = line.strip()
    if line.startswith("@"):
        cur = groups.setdefault(s, [])
    elif s and not s.startswith("#") and cur is not None:
        cur.append(s)
def expand(names):
    out = set()
    for n in names:
        out |= expand(groups[n]) if n.startswith("@") else {n}
    return out
unit = open(sys.argv[1]).read()
allow, deny = set(), set()
for v in re.findall(r"^SystemCallFilter=(.*)$", unit, re.M):
    if v.startswith("~"):
        deny |= expand(v[1:].split())
    else:
        allow |= expand(v.split())
fams = set(re.search(r"^RestrictAddressFamilies=(.*)$", unit, re.M)
           .group(1).split())
calls, used_fams = set(), set()
for line in open(sys.argv[2]):
    m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
    if m:
        calls.add(m.group(1))
    m = re.match(r"\d+\s+socket\((AF_\w+)", line)
    if m:
        used_fams.add(m.group(1))
# as root, SQLite and the atomic write try fchown and carry on on EPERM
tolerated = {"fchown"}
print("not allowed:", " ".join(sorted(calls - allow)) or "-")
print("denied:", " ".join(sorted((calls & deny) - tolerated)) or "-")
print("families:", " ".join(sorted(used_fams - fams)) or "-")
print("calls:", len(calls))' "$unit" "$O/trace")
  check_eq "every system call made is in SystemCallFilter=@system-service" \
    "not allowed: -" "$(sed -n 1p <<<"$res")"
  check_eq "none is denied (~@privileged) but fchown, EPERM" "denied: -" \
    "$(sed -n 2p <<<"$res")"
  check_eq "every socket family is in RestrictAddressFamilies=" \
    "families: -" "$(sed -n 3p <<<"$res")"
  n=$(sed -n 's/^calls: //p' <<<"$res")
  if [ "${n:-0}" -ge 30 ]; then ok "the trace saw the runs ($n calls)"; else
    not_ok "the trace saw the runs" "$res"; fi
fi

finish
