#!/usr/bin/env bash
# run.sh — `make run`: classmeet on the zero-setup default. A private
# PostgreSQL cluster in .data/pg (unless DATABASE_URL is set) and a secret in
# .data/secret (unless CLASSMEET_SECRET or CLASSMEET_SECRET_FILE is set),
# recordings under .data (unless CLASSMEET_DATA_DIR or CLASSMEET_S3_* is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh run
mkdir -p .data
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh start .data/pg)
  export DATABASE_URL
  echo "PostgreSQL: private cluster in .data/pg (stop it with: make pg-stop)"
fi
if [ -z "${CLASSMEET_SECRET:-}${CLASSMEET_SECRET_FILE:-}" ]; then
  if [ ! -s .data/secret ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/secret)
  fi
  export CLASSMEET_SECRET_FILE=.data/secret
fi
# Recordings: spooled in .data/spool, kept in .data/recordings (unless S3 is set).
export CLASSMEET_DATA_DIR="${CLASSMEET_DATA_DIR:-.data}"
exec bin/classmeet serve
