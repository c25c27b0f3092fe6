#!/bin/bash
# Issue 19: a discard written again by a run killed before its commit
# keeps the file's value it overrides (git's) in the write journal only,
# with the blob of that write (killed_write.sh has the family's rule). A
# stage or a backlog renamed and committed then has the next run rewrite
# the story's mirror key over that file (reconcile_apply, before the plan
# replays what the journal owes): killed too (at "reconciled", or after
# its writes), it left a line for the new blob with no record, and the
# run after found nothing owed: git's value lost with nothing in
# sync_conflicts (model seed 1384: a stage renamed and back, committed,
# the run between killed at "reconciled"). Each write over a killed run's
# write carries the conflicts journaled with it. The oracle reads the
# database with Python's sqlite3 (psycopg2 on a server: lib.sh's py_rows)
# and the files with sed.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
lost() {
  py_rows "SELECT kind, kept, $(jget lost priority) FROM sync_conflicts
      WHERE story_id = 'S-1' ORDER BY id" | paste -sd ' '
}
row() { py_rows "SELECT priority, status, backlog FROM stories WHERE id = 'S-1'"; }

# ---- S-1 (status key refinement, priority critical) committed and
# synced; the API's priority medium written by a run; git's version put
# back by a stash; the discard written again by a run killed after its
# writes (git's critical journaled, not recorded). Then the stage's
# status renamed (refinement -> ideas: the file's status key follows) or
# the backlog (default -> main: the backlog key follows), committed, a
# run killed at KILL, the rename back committed or not (back), and a run:
# git's critical is in sync_conflicts, the API's medium in the row and
# the file ----
for what in stage backlog; do
  for kill in reconciled after-writes; do
    for back in no yes; do
      t=$what-$kill-back-$back
      stages_repo "$t" refinement:refinements backlog:backlog
      F=refinements/S-1-one.md
      if [ $what = backlog ]; then
        printf 'backlogs:\n  default: .\n' >>.storysync.yml
        printf -- '---\nid: S-1\ntitle: One\nbacklog: default\npriority: critical\n---\nbody\n' >$F
        old='  default: \.' new='  main: .' k=backlog was=default now=main
      else
        printf -- '---\nid: S-1\ntitle: One\nstatus: refinement\npriority: critical\n---\nbody\n' >$F
        old='  refinement: refinements' new='  ideas: refinements'
        k=status was=refinement now=ideas
      fi
      printf -- '---\nid: S-2\ntitle: Two\n---\nbody\n' >backlog/S-2-two.md
      synced_commit || not_ok "$t: the tree"
      py_rows "UPDATE stories SET priority = 'medium' WHERE id = 'S-1'"
      run ss
      git stash -q && git stash drop -q
      check_eq "$t: the API's write, then git's version back" \
        "0|critical" "$rc|$(key priority $F)"
      killed_run after-writes
      check_eq "$t: the discard written again, killed: nothing recorded" \
        "137|medium|" "$rc|$(key priority $F)|$(lost)"
      sed -i "s/^$old\$/$new/" .storysync.yml && git commit -qm rename .storysync.yml
      killed_run $kill
      check_eq "$t: the rename's key written over it, killed at $kill" \
        "137|$now|medium|" "$rc|$(key $k $F)|$(key priority $F)|$(lost)"
      if [ $back = yes ]; then
        sed -i "s/^$new\$/$old/" .storysync.yml
        now=$was
        [ $what = stage ] && git commit -qm back .storysync.yml
      fi
      run ss
      check_eq "$t: git's critical kept, the API's medium stays" \
        "0|medium|both_changed|db|critical" \
        "$rc|$(key priority $F)|$(lost)"
      if [ $what = stage ]; then want=medium\|$now\|default; else
        want=medium\|refinement\|$now; fi
      check_eq "$t: the row" "$want" "$(row)"
      quiet_next "$t"
    done
  done
done

finish
