#!/bin/bash
# Issue 19: temporary files an older binary left (before the journal's "t"
# lines named them: 451df5f's run killed after its move and before the
# rename of its write leaves .S-1-one.md.storysync-XXXXXX beside the
# story). No journal line says it is storysync's, so its name alone does
# not: the run removes one only when nothing in it is lost, a regular
# file (never a symlink, nor what it names), git holding nothing at its
# path, named as the atomic write names one beside its story file, with
# that file's bytes (as they are now, or as the state agreed them: the
# killed write, which the run after made again). Else it stays and -v
# names it: a person's look-alike with other bytes, a committed one, a
# symlink, a name the write never makes. Before, every such file stayed
# for good. The oracles: ls, git, md5sum, readlink.
PG_TWIN=1
. "$(dirname "$0")/lib.sh"

git_home
S=backlog/S-1-one.md
T1=backlog/.S-1-one.md.storysync-Ab3dE9
said() { grep -c "^storysync: $1: a temporary file no journal line names (an older binary's, killed before its rename?): $2$" <<<"$err"; }

# a tree with S-1, synced and committed; the API's title written by a run
tree() {
  stages_repo "$1" backlog:backlog
  printf -- '---\nid: S-1\ntitle: One\n---\nbody\n' >$S
  synced_commit || not_ok "$1: the tree"
}

# ---- the story file's bytes: now (same), or as the state agreed them
# while a person has edited the file since (agreed) ----
for how in same agreed; do
  tree "$how"
  cp $S $T1
  [ $how = agreed ] && sed -i 's/^body$/body, edited/' $S
  run ss -v --dry-run
  check_eq "$how: a dry run names it, removes nothing" "0|1|yes" \
    "$rc|$(said $T1 'would be removed')|$([ -f $T1 ] && echo yes)"
  run ss -v
  check_eq "$how: removed, named once" "0|1|no" \
    "$rc|$(said $T1 removed)|$([ -e $T1 ] && echo yes || echo no)"
  check_eq "$how: the story as it was or as the person edited it" \
    "$([ $how = agreed ] && echo 'body, edited' || echo body)" "$(tail -n1 $S)"
  quiet_next --digest "$how"
done

# ---- the older binary's killed write: the API's title, which the run
# after makes again (the story file then holds the same bytes): the run
# that finds it so removes it ----
tree killed
q "UPDATE stories SET title = 'API' WHERE id = 'S-1'"
sed 's/^title: One$/title: API/' $S >$T1
run ss -v
check_eq "killed: the run writes the API's title, the temporary file holds it" \
  "0|API|$(md5sum <$S)" "$rc|$(key title $S)|$(md5sum <$T1 2>/dev/null)"
run ss -v
check_eq "killed: the next run removes it" "0|1|no" \
  "$rc|$(said $T1 removed)|$([ -e $T1 ] && echo yes || echo no)"

# ---- it stays: other bytes (a person's), committed (git holds it), a
# symlink (to the story file and to a file outside the tree: neither
# followed nor touched), a name the atomic write never makes ----
tree stays
printf 'outside\n' >"$O/outside"
cp $S backlog/.S-1-one.md.storysync-Pq7rS2
sed -i 's/^body$/a person'\''s notes/' backlog/.S-1-one.md.storysync-Pq7rS2
cp $S backlog/.S-1-one.md.storysync-Cm1tT3
git add -f backlog/.S-1-one.md.storysync-Cm1tT3 && git commit -qm "a commit's look-alike"
ln -s S-1-one.md backlog/.S-1-one.md.storysync-Ln1kAa
ln -s "$O/outside" backlog/.S-1-one.md.storysync-Ln2kBb
cp $S backlog/.S-1-one.md.storysync-Sh0rt
cp $S backlog/.S-1-one.md.storysync-Ab3dE9x
cp $S backlog/.S-1-one.storysync-Ab3dE9
cp $S backlog/.S-2-two.md.storysync-Ab3dE9
before=$(cd backlog && for f in .??*; do
  if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(md5sum <"$f")"; fi
done)
run ss -v
check_eq "stays: the run goes through" "0" "$rc"
check_eq "stays: a person's bytes, a committed one: named, kept" "1|1" \
  "$(said backlog/.S-1-one.md.storysync-Pq7rS2 "kept, holding what its story's file does not")|$(
    said backlog/.S-1-one.md.storysync-Cm1tT3 "kept, git holding a file there")"
check_eq "stays: every such file as it was, links and their targets too" \
  "$before|outside|$(md5sum <$S)" "$(cd backlog && for f in .??*; do
    if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(md5sum <"$f")"; fi
  done)|$(cat "$O/outside")|$(git show HEAD:$S | md5sum)"
finish
