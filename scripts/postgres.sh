#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests: listens on 127.0.0.1 only, keeps its data under
# $PWD/.tmp/pg (wiped on every fresh start) and runs as the `postgres` OS user when invoked as root.
#
#   scripts/postgres.sh start   start it (installs Debian's postgresql-15 when missing); fine when running
#   scripts/postgres.sh stop    stop the server this script started, if it runs
#   scripts/postgres.sh url     print its DATABASE_URL
#   scripts/postgres.sh resume  start a stopped server again on its data (fault tests)
#
# Environment: DOCKREV_PG_PORT (default 55432), DOCKREV_PG_BIN (default /usr/lib/postgresql/15/bin),
# DOCKREV_PG_DIR (where the cluster lives; default $PWD/.tmp/pg).
set -euo pipefail

PG_PORT="${DOCKREV_PG_PORT:-55432}"
PG_BIN="${DOCKREV_PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_NAME=dockrev
DB_USER=dockrev
DB_PASSWORD=dockrev
DATABASE_URL="postgres://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${PG_PORT}/${DB_NAME}"

die() { echo "postgres.sh: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# PostgreSQL refuses to run as root, so root runs it as `postgres` (from /, which that user can
# always enter; every path given is absolute); anyone else runs it as themselves.
as_pg() {
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Under $PWD/.tmp/pg unless the postgres user cannot reach it (e.g. a checkout below a private
# home directory): then a directory of its own under /tmp, derived from the checkout path so that
# start and stop agree.
base_dir() {
  if [ -n "${DOCKREV_PG_DIR:-}" ]; then echo "$DOCKREV_PG_DIR"; return; fi
  local preferred="$PWD/.tmp/pg"
  if ! is_root || runuser -u postgres -- test -x "$(dirname "$preferred")" 2>/dev/null; then
    echo "$preferred"
  else
    echo "${TMPDIR:-/tmp}/dockrev-pg-$(printf '%s' "$PWD" | md5sum | cut -c1-12)"
  fi
}

BASE_DIR=""
DATA_DIR=""
set_dirs() {
  mkdir -p "$PWD/.tmp"
  BASE_DIR="$(base_dir)"
  DATA_DIR="$BASE_DIR/data"
}

ensure_installed() {
  [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && return 0
  is_root || die "PostgreSQL 15 binaries are missing in $PG_BIN and installing them needs root"
  echo "postgres.sh: installing postgresql-15 ..." >&2
  # Do not let the package create and start its own default cluster on port 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/dockrev-no-main-cluster.conf
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql-15 >/dev/null
  [ -x "$PG_BIN/initdb" ] || die "postgresql-15 installed but $PG_BIN/initdb is missing"
}

is_running() {
  [ -f "$DATA_DIR/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

superuser_psql() {
  PGPASSWORD="$(cat "$BASE_DIR/superuser.pw")" PGCONNECT_TIMEOUT=5 \
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

ensure_role_and_database() {
  if [ "$(superuser_psql -c "select 1 from pg_roles where rolname = '$DB_USER'")" != 1 ]; then
    superuser_psql -c "create role $DB_USER login password '$DB_PASSWORD'"
  fi
  if [ "$(superuser_psql -c "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]; then
    superuser_psql -c "create database $DB_NAME owner $DB_USER"
  fi
}

start() {
  ensure_installed
  set_dirs
  if is_running; then
    ensure_role_and_database
    echo "postgres.sh: already running: $DATABASE_URL"
    return 0
  fi

  rm -rf "$BASE_DIR"
  mkdir -p "$BASE_DIR"
  if is_root; then chown postgres: "$BASE_DIR"; fi
  chmod 700 "$BASE_DIR"
  # A fresh superuser password per cluster; only the owner of $BASE_DIR (and root) can read it.
  as_pg sh -c "umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > '$BASE_DIR/superuser.pw'"

  as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres --pwfile="$BASE_DIR/superuser.pw" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync --no-instructions >"$BASE_DIR/initdb.log" 2>&1 ||
    { cat "$BASE_DIR/initdb.log" >&2; die "initdb failed"; }

  # TCP on loopback only, no Unix socket; durability is pointless for a throwaway test database.
  if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$BASE_DIR/postgres.log" -w -t 30 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
    tail -n 20 "$BASE_DIR/postgres.log" >&2 || true
    die "PostgreSQL did not start on 127.0.0.1:$PG_PORT (port in use? set DOCKREV_PG_PORT)"
  fi
  ensure_role_and_database
  echo "postgres.sh: started: $DATABASE_URL (data in $DATA_DIR)"
}

# pg_ctl start on the existing data: what `stop` left is there again (start wipes it).
resume() {
  set_dirs
  [ -f "$DATA_DIR/PG_VERSION" ] || die "no cluster in $DATA_DIR to resume"
  is_running && return 0
  as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -l "$BASE_DIR/postgres.log" -w -t 30 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { tail -n 20 "$BASE_DIR/postgres.log" >&2 || true; die "PostgreSQL did not start again on 127.0.0.1:$PG_PORT"; }
}

stop() {
  [ -x "$PG_BIN/pg_ctl" ] || { echo "postgres.sh: not installed, nothing to stop"; return 0; }
  set_dirs
  if is_running; then
    as_pg "$PG_BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null
    echo "postgres.sh: stopped"
  else
    echo "postgres.sh: not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$DATABASE_URL" ;;
  resume) resume ;;
  *) die "usage: $0 start|stop|url|resume" ;;
esac
