#!/usr/bin/env bash
# screenshots.sh — `make screenshots`: the main pages at a phone's (390x844),
# a laptop's (1280x800) and a projector's (1920x1080) size, written as
# docs/screenshots/<page>-<w>x<h>.png by the browser test TestScreenshots
# (skipped in other runs). Uses $CLASSMEET_TEST_PG if set, else starts a
# private PostgreSQL cluster as make test does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/deps.sh screenshots
if [ -z "${CLASSMEET_TEST_PG:-}" ]; then
  CLASSMEET_TEST_PG=$(scripts/pg.sh start .data/test-pg | sed 's|/classmeet?|/postgres?|')
  export CLASSMEET_TEST_PG
  trap 'scripts/pg.sh stop .data/test-pg' EXIT
fi
mkdir -p docs/screenshots
rm -f docs/screenshots/*.png
CLASSMEET_SCREENSHOTS="$PWD/docs/screenshots" go test -count=1 -timeout 10m -run '^TestScreenshots$' ./e2e/
du -ch docs/screenshots/*.png | tail -1
