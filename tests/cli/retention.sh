#!/bin/bash
# Issue 20: retention prunes nothing pending, and guesses at no odd value
# of the API's. An API deletion in a backlog a --backlog run leaves alone
# keeps its archive, past deleted_days, until a run has applied it and the
# next one prunes it; a consumer's cursor that is not an integer and a
# resolved time that is not ISO 8601 are refused by name, and what they
# govern is kept. A twin: on a server the cursor's column is bigint, which
# takes no such value (its check there: the server refuses the write).
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

story() { # DIR ID TITLE
  mkdir -p "$1"
  printf -- '---\nid: %s\ntitle: %s\n---\nBody of %s.\n' "$2" "$3" "$2" \
    >"$1/$2-story.md"
}
cat >.storysync.yml <<'EOF'
database: .storysync/stories.db
backlogs:
  platform: stories/platform
  mobile: stories/mobile
retention:
  days: 30
  deleted_days: 1
EOF
story stories/platform/backlog P-1 "Plat one"
story stories/platform/backlog P-2 "Plat two"
story stories/mobile/backlog M-1 "Mob one"
story stories/mobile/backlog M-2 "Mob two"
ss init >/dev/null && ss sync >/dev/null || not_ok "the import"
edit() { # FILE TITLE: a person's edit, so that a run has work
  sed -i "s/^title: .*/title: $2/" "$1"
}
archived() { q "SELECT count(*) FROM deleted_stories WHERE story_id = '$1'"; }

# ---- an API deletion no run has applied keeps its archive ----
q "DELETE FROM stories WHERE id = 'M-1'"
# two days pass (the test is the clock)
q "UPDATE deleted_stories SET deleted_at = '2020-01-01T00:00:00Z'"
edit stories/platform/backlog/P-1-story.md "Edited once"
run ss -v sync --backlog platform
check_eq "a --backlog platform run leaves mobile's deletion pending, and its archive" \
  "0|1|yes" \
  "$rc|$(archived M-1)|$([ -f stories/mobile/backlog/M-1-story.md ] && echo yes)"
check_eq "and says it pruned nothing" "" "$(grep pruned <<<"$err")"
run ss sync --full
check_eq "--full applies the deletion; the archive stays for that run" \
  "0|1|no" \
  "$rc|$(archived M-1)|$([ -f stories/mobile/backlog/M-1-story.md ] && echo yes || echo no)"
check_eq "the archive holds the story's last content" "Mob one" \
  "$(q "SELECT $(jget row title) FROM deleted_stories WHERE story_id = 'M-1'")"
edit stories/platform/backlog/P-1-story.md "Edited twice"
run ss -v sync
check_eq "applied and old: the next run prunes it" "0|0" "$rc|$(archived M-1)"
check_contains "saying so" "pruned 0 runs, 0 events, 0 resolved conflicts, 1 deleted story" "$err"

# ---- odd values of the API's: refused by name, not guessed ----
odd_seq="sync_consumers 'api': seq 'v2' is not an integer; no event is pruned until it is
"
if sqlite_only "a cursor that is not an integer (a server's bigint column refuses it)"; then
  q "INSERT INTO sync_consumers VALUES ('api', 'v2', NULL)"
else
  run q "INSERT INTO sync_consumers(name, seq) VALUES ('api', 'v2')"
  check_eq "odd values (server): the cursor's column takes no 'v2'" \
    "1|0" "$rc|$(q "SELECT count(*) FROM sync_consumers")"
  odd_seq=
fi
q "INSERT INTO sync_events(seq, story_id, change, origin, at)
     VALUES (0, 'OLD', 'created', 'file', '2020-01-01T00:00:00.000Z');
   INSERT INTO sync_conflicts(story_id, at, kind, kept, resolved) VALUES
     ('OLD', '2020-01-01T00:00:00Z', 'both_changed', 'file', 1577836800),
     ('OLD', '2020-01-01T00:00:00Z', 'both_changed', 'file', '2020-01-02T00:00:00Z')"
odd_id=$(q "SELECT id FROM sync_conflicts WHERE resolved = '1577836800'")
edit stories/platform/backlog/P-1-story.md "Edited thrice"
run ss sync
check_eq "odd values: the run is done, and names each one (exit 1)" \
  "1|${odd_seq}sync_conflicts $odd_id: resolved '1577836800' is not an ISO 8601 time; not pruned" \
  "$rc|$err"
# (on a server no cursor holds the old event back: pruned)
check_eq "odd values: $(dialect "no event pruned" "the old event pruned"), the odd conflict kept, the well-formed one pruned" \
  "$(dialect 1 0)|$odd_id" \
  "$(q "SELECT count(*) FROM sync_events WHERE story_id = 'OLD'")|$(q "SELECT $(sqlagg id) FROM sync_conflicts WHERE story_id = 'OLD'")"
check_eq "odd values: the file edit went through" "Edited thrice" \
  "$(q "SELECT title FROM stories WHERE id = 'P-1'")"
check_contains "odd values: status shows them as the last run's errors" \
  "$(dialect "sync_consumers 'api': seq 'v2' is not an integer" \
    "sync_conflicts $odd_id: resolved '1577836800' is not an ISO 8601 time")" \
  "$(ss status)"
q "UPDATE sync_consumers SET seq = (SELECT max(seq) FROM sync_events);
   UPDATE sync_conflicts SET resolved = '2020-01-02T00:00:00Z' WHERE id = $odd_id"
edit stories/platform/backlog/P-1-story.md "Edited again"
run ss sync
check_eq "mended: the old event and the conflict go, quietly" "0||0|0" \
  "$rc|$err|$(q "SELECT count(*) FROM sync_events WHERE story_id = 'OLD'")|$(q "SELECT count(*) FROM sync_conflicts WHERE story_id = 'OLD'")"
finish
