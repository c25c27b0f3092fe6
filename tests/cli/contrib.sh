#!/bin/bash
# Issue 25: contrib's Grafana dashboard and Prometheus rules, read by a
# parser. The dashboard's data source is a template variable (file
# provisioning does not fill __inputs' ${DS_...}); each alert says the
# delay after which it fires and carries a severity; an absent() rule
# catches a tree that stopped reporting; every metric they name is one
# storysync exports.
. "$(dirname "$0")/lib.sh"
: "${SOURCE_ROOT:?run through meson test}"
dash=$SOURCE_ROOT/contrib/grafana/storysync.json
rules=$SOURCE_ROOT/contrib/prometheus/storysync-rules.yml

# the metric names storysync exports, from a real tree's metrics
"$GEN_STORIES" . --count 5 2>/dev/null
ss init >/dev/null && ss sync >/dev/null || not_ok "the tree"
ss metrics | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' >"$O/metrics"
check_contains "the metrics are there" storysync_healthy "$(cat "$O/metrics")"

res=$(python3 - "$dash" "$O/metrics" <<'EOF'
import json, re, sys
raw = open(sys.argv[1]).read()
d = json.loads(raw)
known = set(open(sys.argv[2]).read().split())
print("inputs:", "__inputs" in d, "DS_" in raw)
vars = {v["name"]: v for v in d["templating"]["list"]}
ds = vars.get("datasource", {})
print("variable:", ds.get("type"), ds.get("query"))
bad, exprs = [], []
def walk(o, where):
    if isinstance(o, dict):
        if isinstance(o.get("datasource"), dict) and \
                o["datasource"].get("uid") != "${datasource}":
            bad.append(where)
        if "expr" in o:
            exprs.append(o["expr"])
        if o.get("type") == "query" and "query" in o:
            exprs.append(json.dumps(o["query"]))
        for k, v in o.items():
            walk(v, where + "/" + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, "%s[%d]" % (where, i))
walk(d, "")
print("other data sources:", " ".join(bad) or "-")
names = {m for e in exprs for m in re.findall(r"storysync_[a-z_]+", e)}
print("unknown metrics:", " ".join(sorted(names - known)) or "-")
print("exprs:", len(exprs))
EOF
)
check_eq "no __inputs, no \${DS_...}" "inputs: False False" \
  "$(sed -n 1p <<<"$res")"
check_eq "a datasource template variable of Prometheus" \
  "variable: datasource prometheus" "$(sed -n 2p <<<"$res")"
check_eq "every panel, target and variable uses \${datasource}" \
  "other data sources: -" "$(sed -n 3p <<<"$res")"
check_eq "the dashboard names only metrics storysync exports" \
  "unknown metrics: -" "$(sed -n 4p <<<"$res")"
check_contains "the dashboard has queries" "exprs: " "$(sed -n 5p <<<"$res")"

res=$(python3 - "$rules" "$O/metrics" <<'EOF'
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
known = set(open(sys.argv[2]).read().split())
rules = [r for g in doc["groups"] for r in g["rules"]]
def secs(d):
    n, u = re.fullmatch(r"(\d+)([smh])", d).groups()
    return int(n) * {"s": 1, "m": 60, "h": 3600}[u]
fields = [r["alert"] for r in rules
          if set(r) - {"alert", "expr", "for", "labels", "annotations"}
          or not r.get("expr") or not r.get("annotations", {}).get("summary")]
print("without expr or summary:", " ".join(fields) or "-")
sev = [r["alert"] for r in rules
       if r.get("labels", {}).get("severity") not in ("critical", "warning")]
print("without severity:", " ".join(sev) or "-")
# the delay an alert says is the delay after which it fires: the age it
# compares with, plus its pending period
said = []
for r in rules:
    m = re.search(r"for (\d+) minutes", r["annotations"]["summary"])
    if not m:
        continue
    t = re.search(r"> (\d+)\s*$", r["expr"])
    fires = (int(t.group(1)) if t and "time()" in r["expr"] else 0) + \
        secs(r.get("for", "0s"))
    if fires != int(m.group(1)) * 60:
        said.append("%s says %s min, fires after %g" %
                    (r["alert"], m.group(1), fires / 60))
print("says otherwise:", "; ".join(said) or "-")
stale = [r for r in rules if "storysync_last_success_timestamp_seconds"
         in r["expr"] and "time()" in r["expr"]]
print("stale rules:", len(stale))
print("absent:", sum(r["expr"].startswith("absent(") for r in rules))
names = {m for r in rules for m in re.findall(r"storysync_[a-z_]+", r["expr"])}
print("unknown metrics:", " ".join(sorted(names - known)) or "-")
EOF
)
check_eq "every rule has an expr and a summary" "without expr or summary: -" \
  "$(sed -n 1p <<<"$res")"
check_eq "every rule carries a severity" "without severity: -" \
  "$(sed -n 2p <<<"$res")"
check_eq "each alert fires after the delay its summary says" \
  "says otherwise: -" "$(sed -n 3p <<<"$res")"
check_eq "a stale rule" "stale rules: 1" "$(sed -n 4p <<<"$res")"
check_eq "an absent() rule" "absent: 1" "$(sed -n 5p <<<"$res")"
check_eq "the rules name only metrics storysync exports" \
  "unknown metrics: -" "$(sed -n 6p <<<"$res")"
if command -v promtool >/dev/null; then
  run promtool check rules "$rules"
  check_rc "promtool check rules" 0
else
  ok "# skip promtool check rules: no promtool (the fields are checked)"
fi

finish
