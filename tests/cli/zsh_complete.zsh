#!/bin/zsh -f
# zsh_complete.zsh FPATH_DIR LINE...: the matches zsh's own completion
# system offers for each command line LINE, the cursor at its end: for
# each, a line "== LINE" and then the matches, one a line, sorted. It
# drives one interactive zsh on a pty (zpty) that loads the completion
# from FPATH_DIR with compinit, types each LINE and a key bound to
# complete-word, and records every match compadd is given; it waits for
# the key's widget to say it is done (60 s at most each).
zmodload zsh/zpty || exit 2
export ZC_FPATH=$1 ZC_DIR=$(mktemp -d)
shift
cat >$ZC_DIR/setup <<'SETUP'
PS1= PROMPT= RPROMPT=
fpath=($ZC_FPATH $fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' list-grouped false
zc_n=0
compadd() {
  local -a __hits
  builtin compadd -O __hits "$@"
  (( $#__hits )) && print -rl -- $__hits >>$ZC_DIR/out.$zc_n
  builtin compadd "$@"
}
comptest() {
  zle complete-word
  print -r -- done >$ZC_DIR/end.$zc_n
  (( zc_n++ ))
  BUFFER=
}
zle -N comptest
bindkey '^T' comptest
SETUP
zpty z zsh -f -i
zpty -w z "source ${(q)ZC_DIR}/setup"
n=0
for line in "$@"; do
  zpty -w -n z "$line"$'\x14'
  for i in {1..1200}; do
    [[ -e $ZC_DIR/end.$n ]] && break
    zpty -r -t z _ 2>/dev/null
    sleep 0.05
  done
  print -r -- "== $line"
  [[ -e $ZC_DIR/end.$n ]] || print -u2 "zsh_complete: no answer for '$line'"
  [[ -e $ZC_DIR/out.$n ]] && sort -u $ZC_DIR/out.$n
  (( n++ ))
done
zpty -d z
rm -rf $ZC_DIR
