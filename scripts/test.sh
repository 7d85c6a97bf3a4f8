#!/usr/bin/env bash
# test.sh — `make test`: install what is missing, check formatting,
# generated code and the JavaScript's types, start a private PostgreSQL
# cluster, run every test, stop what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/deps.sh test

echo "== static checks"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
before=$(sha256sum templates/*_templ.go)
go tool templ generate >/dev/null 2>&1
if [ "$before" != "$(sha256sum templates/*_templ.go)" ]; then
  echo "templates/*_templ.go were not up to date with the .templ files: regenerated them; commit the result" >&2
  exit 1
fi
# The browser's modules, checked against their JSDoc (tsconfig.json).
if ! node_modules/.bin/tsc -p .; then
  echo "tsc found type errors in static/*.js (listed above); make test requires none" >&2
  exit 1
fi

echo "== PostgreSQL"
CLASSMEET_TEST_PG=$(scripts/pg.sh start .data/test-pg | sed 's|/classmeet?|/postgres?|')
export CLASSMEET_TEST_PG
trap 'scripts/pg.sh stop .data/test-pg' EXIT

echo "== go test"
go test -count=1 -timeout 30m ./...

echo "== fuzz (short runs; the corpora are committed under testdata/fuzz)"
# Go minimizes each input that reaches new code, for up to a minute by
# default, and runs nothing else meanwhile: with that, a 20 s run fuzzed
# for its first 3 s (about 30,000 inputs). A second of it each leaves the
# rest of the run to fuzzing (about 400,000 inputs in 12 s); an input that
# fails is kept as found, less minimized.
go test ./internal/meeting -run '^$' -fuzz '^FuzzDecodeClient$' -fuzztime 20s -fuzzminimizetime 1s

echo "== make test passed in $(( $(date +%s) - start ))s"
