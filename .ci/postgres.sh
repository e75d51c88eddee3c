#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for thinllm's tests (idempotent).
#
#   eval "$(.ci/postgres.sh)"     # or: source .ci/postgres.sh
#
# Installs Debian's `postgresql` package if no server binaries are found, creates a
# data directory (default /tmp/thinllm-pg, owned by the postgres user when run as
# root), starts the server on 127.0.0.1:$THINLLM_PG_PORT (default 54329) with trust
# auth for local loopback connections only, creates database `thinllm_test`, and
# prints `export THINLLM_TEST_POSTGRES_DSN=...` (also exported when sourced).
# fsync is off: the data is thrown away, and the tests check thinllm, not the disk.
set -euo pipefail

PORT="${THINLLM_PG_PORT:-54329}"
DATA="${THINLLM_PG_DATA:-/tmp/thinllm-pg}"
DB="${THINLLM_PG_DB:-thinllm_test}"
DSN="postgresql://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; fi
  done | sort -V | tail -n 1
}

BIN="$(find_bindir)"
if [ -z "$BIN" ]; then
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bindir)"
fi
[ -n "$BIN" ] || { log "no PostgreSQL server binaries found"; exit 1; }

# Run server tools as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  if [ ! -s "$DATA/PG_VERSION" ]; then
    log "initialising $DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = "0" ] && chown postgres:postgres "$DATA"
    chmod 700 "$DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust --no-sync -E UTF8 >&2
  fi
  log "starting server on 127.0.0.1:$PORT"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c max_connections=100" \
    start >&2
fi

if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi

export THINLLM_TEST_POSTGRES_DSN="$DSN"
echo "export THINLLM_TEST_POSTGRES_DSN=$DSN"
