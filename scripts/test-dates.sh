#!/usr/bin/env bash
# test-dates.sh — run the packages that deal with dates with the test clock
# (internal/testclock) fixed at awkward moments: London's clocks going
# forward and back, the last seconds of a year, an ordinary summer morning.
# Slow (a few minutes a date): not part of `make test`, which uses the real
# time. Uses $CLASSMEET_TEST_PG if set, else starts the private cluster that
# `make test` uses (and stops it). The S3 server for the recorder tests comes
# from scripts/deps.sh (versitygw in $(go env GOPATH)/bin).
set -uo pipefail
cd "$(dirname "$0")/.."

dates=(2026-03-29T00:30:00Z 2026-10-25T23:30:00Z 2026-12-31T23:59:30Z 2027-06-15T09:00:00Z)
packages=(./internal/web/ ./internal/mail/ ./internal/schedule/ ./internal/meeting/ ./internal/live/ ./internal/store/ ./internal/recorder/ ./internal/auth/ ./internal/turnserver/ ./internal/export/ ./internal/loadtest/ ./e2e/...)

if [ -z "${CLASSMEET_TEST_PG:-}" ]; then
  CLASSMEET_TEST_PG=$(scripts/pg.sh start .data/test-pg | sed 's|/classmeet?|/postgres?|') || exit 1
  export CLASSMEET_TEST_PG
  trap 'scripts/pg.sh stop .data/test-pg' EXIT
fi

failed=()
for d in "${dates[@]}"; do
  echo "== CLASSMEET_TEST_NOW=$d"
  if ! CLASSMEET_TEST_NOW=$d go test -count=1 -timeout 20m "${packages[@]}"; then
    failed+=("$d")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "== failed at: ${failed[*]}" >&2
  exit 1
fi
echo "== every date passed"
