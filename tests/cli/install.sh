#!/bin/bash
# meson install into a staging directory: what it puts where (all of it
# under the prefix), and that the systemd units name the installed binary
# and pass systemd-analyze verify.
. "$(dirname "$0")/lib.sh"
: "${BUILD_ROOT:?run through meson test}"

D=$O/dest
run meson install -C "$BUILD_ROOT" --destdir "$D" --no-rebuild --quiet
check_rc "meson install into a destdir" 0

# installdir OPTION: the directory OPTION (bindir, ...) names, absolute, as
# this build dir configured it.
opts=$(meson introspect "$BUILD_ROOT" --buildoptions)
installdir() {
  echo "$opts" | python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(os.path.join(o["prefix"], o[sys.argv[1]]))' "$1"
}
bindir=$(installdir bindir)
libdir=$(installdir libdir)
datadir=$(installdir datadir)
mandir=$(installdir mandir)
prefix=$(installdir prefix)
doc=$datadir/doc/storysync
# the units' directory: -Dsystemdunitdir, else under the prefix
unitdir=$(echo "$opts" | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["systemdunitdir"] or o["prefix"] + "/lib/systemd/system")')

# Nothing outside the prefix (but where -Dsystemdunitdir says): an install
# under --prefix $HOME/opt, as root, must not write into the live system
# (the units once went to /lib/systemd/system whatever the prefix).
check_eq "nothing installed outside the prefix $prefix" "" \
  "$(cd "$D" && find . ! -type d | sed 's|^\.||' |
    grep -v -e "^$prefix/" -e "^$unitdir/")"

# missing FILE...: the FILEs (absolute, as installed) not under the destdir.
missing() { for f; do [ -f "$D$f" ] || echo "$f"; done; }

check_eq "the binary and the git module" "" \
  "$(missing "$bindir/storysync" "$libdir/storysync/storysync-git.so")"
# the sanitized test build's programs need its trap module
# (storysync-dlsym-stubs.so, meson.build), which is never installed: found
# in the build directory here; a release build has none
LD_LIBRARY_PATH=$BUILD_ROOT${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  run "$D$bindir/storysync" --version
check_rc "the installed binary runs" 0
hooks=$datadir/storysync/hooks
check_eq "the hooks" "" "$(missing "$hooks/storysync-hook" \
  "$hooks"/post-{checkout,commit,merge,rewrite})"
if command -v scdoc >/dev/null; then
  check_eq "the man pages" "" \
    "$(missing "$mandir/man1/storysync.1" "$mandir/man5/storysync.yml.5" \
      "$mandir/man7/storysync-db.7")"
else
  ok "# skip the man pages: no scdoc, none built"
fi
check_eq "the completions" "" \
  "$(missing "$datadir/bash-completion/completions/storysync" \
    "$datadir/zsh/site-functions/_storysync" \
    "$datadir/fish/vendor_completions.d/storysync.fish")"
check_eq "the license, the design and the examples" "" \
  "$(missing "$doc/LICENSE" "$doc/design.md" "$doc/examples/README.md" \
    "$doc/examples/cron.d/storysync" "$doc/examples/grafana/storysync.json" \
    "$doc/examples/prometheus/storysync-rules.yml")"
run python3 -m json.tool "$D$doc/examples/grafana/storysync.json"
check_rc "the Grafana dashboard is JSON" 0

# The units, in -Dsystemdunitdir, else under the prefix.
service=$(find "$D" -name 'storysync@.service')
check_eq "one service unit" 1 "$(echo "$service" | grep -c .)"
check_eq "the service in systemdunitdir, else prefix/lib/systemd/system" \
  "$D$unitdir/storysync@.service" "$service"
check_eq "the timer beside it" "" "$(missing "$unitdir/storysync@.timer")"
unitdir=$D$unitdir
check_eq "ExecStart names the installed binary" \
  "ExecStart=$bindir/storysync -C %f sync -q" \
  "$(grep '^ExecStart=' "$service")"
check_eq "the timer runs 30 s after the last run" "OnUnitInactiveSec=30s" \
  "$(grep '^OnUnitInactiveSec=' "$unitdir/storysync@.timer")"

# systemd-analyze verify, on the units of one tree (/srv/stories) with the
# staged binary in ExecStart: it checks that the command exists. A probe
# unit first tells a verify that cannot run here from a bad unit.
mkdir "$O/units"
printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' \
  >"$O/units/probe.service"
if ! command -v systemd-analyze >/dev/null; then
  ok "# skip systemd-analyze verify: no systemd-analyze"
elif ! systemd-analyze verify --man=no "$O/units/probe.service" \
  >/dev/null 2>&1; then
  ok "# skip systemd-analyze verify: it cannot run here"
else
  sed "s|^ExecStart=$bindir/|ExecStart=$D$bindir/|" "$service" \
    >"$O/units/storysync@srv-stories.service"
  cp "$unitdir/storysync@.timer" "$O/units/storysync@srv-stories.timer"
  run systemd-analyze verify --man=no \
    "$O/units/storysync@srv-stories.service" \
    "$O/units/storysync@srv-stories.timer"
  check_eq "systemd-analyze verify passes" "0||" "$rc|$out|$err"
fi

finish
