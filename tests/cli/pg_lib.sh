# A real PostgreSQL server for a scenario, in its temp dir ($T/pg): initdb
# --nosync -A trust, pg_ctl on a Unix socket in that directory and no TCP
# (listen_addresses ''), as the postgres user when the tests run as root
# (initdb refuses root), and stopped whatever happens (the EXIT trap).
# Sourced after lib.sh. A scenario calls pg_start, then pg_db NAME for a
# database of its own made from the template (storysync's schema not in
# it: init makes that), whose URI it gets in $PGURI.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# psql itself, not Debian's /usr/bin/psql (pg_wrapper, a Perl script that
# picks a cluster and then runs it): 73 ms of CPU a call against 26, and
# a twin makes hundreds
if [ -x "$PGBIN/psql" ]; then psql() { "$PGBIN/psql" "$@"; }; fi
# how CREATE DATABASE copies a small template (a scenario's twin makes one
# for each copy of a tree): FILE_COPY where the server has it (15), whose
# checkpoints cost a server with a few small databases less than WAL_LOG
# writing every page of the copy to the WAL (create and drop, 10 of each
# paired: 114 ms of the server's CPU a pair against 147)
PG_COPY=
[[ $("$PGBIN/pg_ctl" --version 2>/dev/null) =~ \)\ ([0-9]+) ]] &&
  [ "${BASH_REMATCH[1]}" -ge 15 ] && PG_COPY=" STRATEGY FILE_COPY"

# pg_available: whether a server can be started here; else why, in $pg_why
# pg_need: a scenario that needs a server ends here when none can run:
# skipped, saying why, but a failure under --setup postgresql, which is
# there to run them
pg_need() {
  pg_available && return
  if [ "${STORYSYNC_TEST_PG:-0}" = 1 ]; then
    not_ok "a PostgreSQL server for --setup postgresql" "$pg_why"
  else
    skip "PostgreSQL scenarios: $pg_why"
  fi
  finish
  exit
}

pg_available() {
  pg_why=
  if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
    pg_why="no PostgreSQL server binaries in $PGBIN (Debian: postgresql)"
  elif [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    pg_why="running as root and no postgres user to run the server as"
  elif ! command -v psql >/dev/null; then
    pg_why="no psql (Debian: postgresql-client)"
  fi
  [ -z "$pg_why" ]
}

# as_pg CMD...: CMD as the server's owner
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
  [ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] &&
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
      >/dev/null 2>&1
  return 0
}

# pg_initdb DIR: a fresh cluster in DIR (the server's owner's). initdb
# costs a second or two of CPU, and a suite starts a dozen servers: the
# first test's cluster, as initdb made it, is kept under the build dir
# (pg-initdb/, keyed by initdb --version and the user the tests run as)
# and the others copy it (cp -a: the owner and the modes kept; the server
# never reads the build dir, which its owner may not enter). Under flock:
# a test waits for the cluster another makes, and never copies half of
# one. Without a build dir to keep it in, initdb each time.
pg_initdb() {
  local cache=${BUILD_ROOT:-}/pg-initdb key
  key="$("$PGBIN/initdb" --version) $(id -u)"
  if [ -z "${BUILD_ROOT:-}" ] || ! [ -d "$BUILD_ROOT" ] ||
    ! mkdir -p "$cache" 2>/dev/null || ! : 2>/dev/null >>"$cache/lock"; then
    _pg_initdb "$1"
    return
  fi
  (
    flock 9 || exit 1
    if [ -f "$cache/ready" ] && [ "$(cat "$cache/ready")" = "$key" ]; then
      exec cp -a "$cache/data" "$1"
    fi
    _pg_initdb "$1" || exit 1
    rm -rf "$cache/data" "$cache/ready"
    cp -a "$1" "$cache/data" && echo "$key" >"$cache/ready"
    exit 0
  ) 9>>"$cache/lock"
}
# initdb into DIR, its log in $PGDIR
_pg_initdb() {
  as_pg "$PGBIN/initdb" --nosync -A trust -U postgres -D "$1" \
    >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log"; return 1; }
}

# pg_start: the server, its socket in $PGDIR; PGHOST and PGUSER exported
# for psql. PG_OPTS: more of the server's settings (-c NAME=VALUE ...)
pg_start() {
  PGDIR=$T/pg
  trap 'pg_stop; rm -rf "$T" "$O"' EXIT
  chmod 755 "$T" && mkdir "$PGDIR" || return 1
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  pg_initdb "$PGDIR/data" || return 1
  as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-c listen_addresses='' -k $PGDIR -c fsync=off ${PG_OPTS:-}" start >/dev/null ||
    { cat "$PGDIR/log"; return 1; }
  export PGHOST=$PGDIR PGUSER=postgres PGDATABASE=postgres
  psql -qAt -c 'CREATE DATABASE storysync_template' >/dev/null
}

# pg_db NAME: a fresh database NAME from the template; its URI in $PGURI
pg_db() {
  psql -qAt -c "CREATE DATABASE $1 TEMPLATE storysync_template$PG_COPY" \
    >/dev/null || return 1
  PGURI="postgresql:///$1?host=$PGDIR&user=postgres"
}

# pg_local URI [DIR]: DIR's (default .) .storysync.local.yml names the server
pg_local() {
  printf 'database: %s\n' "$1" >>"${2:-.}/.storysync.local.yml"
}

# pq DB SQL: the rows of SQL in DB, '|' between columns, as q() gives
# SQLite's
pq() { psql -qAtX -F '|' -d "$1" -c "$2"; }
