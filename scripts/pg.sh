#!/usr/bin/env bash
# pg.sh — a private PostgreSQL cluster for classmeet's `make run` and `make test`.
#
#   scripts/pg.sh start  DIR   create (first time) and start the cluster; print its URL
#   scripts/pg.sh stop   DIR   stop it (no error when it is not running)
#   scripts/pg.sh status DIR   exit 0 and print the URL when running, exit 3 when not
#   scripts/pg.sh url    DIR   print the URL (database "classmeet") without starting
#   scripts/pg.sh destroy DIR  stop it and delete its files
#
# The cluster listens on a unix socket only (no TCP port to collide with), with
# trust authentication on a socket directory only its owner can enter. PostgreSQL
# refuses to run as root, so when invoked as root the server runs as the
# unprivileged "postgres" user; if that user cannot reach DIR (a clone under
# /root, say), the data lives under /var/tmp and DIR becomes a symlink to it.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|status|url|destroy DIR" >&2; exit 2; }

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

mkdir -p "$(dirname "$dir")"
abs=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
key=$(printf %s "$abs" | sha1sum | cut -c1-12)
sockdir=/tmp/classmeet-pg-$key

as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}
owner=$(if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi)

# datadir resolves where the cluster's files are, creating the place if asked.
datadir() {
  if [ -L "$abs" ]; then readlink -f "$abs"; return; fi
  if [ -d "$abs" ] || [ "$(id -u)" != 0 ]; then echo "$abs"; return; fi
  mkdir -p "$abs"
  chown postgres: "$abs"
  if (cd / && runuser -u postgres -- test -w "$abs"); then echo "$abs"; return; fi
  rmdir "$abs"
  local real=/var/tmp/classmeet-pg-$key
  mkdir -p "$real"; chown postgres: "$real"; chmod 700 "$real"
  ln -s "$real" "$abs"
  echo "$real"
}

url() { echo "postgres://$owner@/classmeet?host=$sockdir&sslmode=disable"; }

running() {
  local data; data=$(datadir)
  [ -f "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  local data; data=$(datadir)
  mkdir -p "$sockdir"
  [ "$(id -u)" = 0 ] && chown postgres: "$sockdir"
  chmod 700 "$sockdir"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bindir/initdb" -D "$data" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$data.initdb.log" 2>&1 \
      || { cat "$data.initdb.log" >&2; exit 1; }
    cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_permissions = 0700
max_connections = 300
shared_buffers = 128MB
fsync = on
log_min_messages = warning
CONF
  fi
  # The socket directory is recreated on every start: /tmp may have been cleaned.
  as_owner sed -i "s|^unix_socket_directories = .*||" "$data/postgresql.conf"
  echo "unix_socket_directories = '$sockdir'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
  if ! running; then
    as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
      || { tail -20 "$data/server.log" >&2; exit 1; }
  fi
  if ! "$bindir/psql" "postgres://$owner@/postgres?host=$sockdir" -tAc "SELECT 1 FROM pg_database WHERE datname='classmeet'" | grep -q 1; then
    "$bindir/psql" "postgres://$owner@/postgres?host=$sockdir" -qc "CREATE DATABASE classmeet" >/dev/null
  fi
  url
}

stop() {
  local data; data=$(datadir)
  if running; then as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null; fi
}

destroy() {
  stop
  local data; data=$(datadir)
  rm -rf "$data" "$data.initdb.log" "$sockdir"
  [ -L "$abs" ] && rm -f "$abs"
  return 0
}

case "$cmd" in
  start) start ;;
  destroy) destroy ;;
  stop) stop ;;
  status) if running; then url; else exit 3; fi ;;
  url) url ;;
  *) echo "usage: $0 start|stop|status|url|destroy DIR" >&2; exit 2 ;;
esac
