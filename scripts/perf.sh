#!/usr/bin/env bash
# perf.sh — the measurements in docs/performance.md, on this host: the floor
# (internal/floor) and `classmeet loadtest` against a server pinned to core 0,
# the generator on core 1, in one run so the figures can be compared as ratios.
#
#   scripts/perf.sh [OUT_DIR]     (default .data/perf; needs 2 cores)
#
# Scenarios and sizes can be narrowed: PERF_LECTURE="50 100 200" PERF_MEETING="10"
# PERF_DURATION=30s; PERF_SERVER=path/to/another/classmeet measures that server with this generator.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.data/perf}
mkdir -p "$out"
scripts/deps.sh run >/dev/null
make -s build
DATABASE_URL=$(scripts/pg.sh start .data/perf-pg)
export DATABASE_URL
export CLASSMEET_SECRET=perf-secret-not-for-production-000000000000
export CLASSMEET_DATA_DIR="$out/data" CLASSMEET_ADDR=127.0.0.1:18080 CLASSMEET_METRICS_ADDR=127.0.0.1:18090
export CLASSMEET_RTC_UDP_PORT=17882 CLASSMEET_RTC_TCP_PORT=17881 CLASSMEET_LOG_LEVEL=warn
url=http://127.0.0.1:18080
email=perf-teacher@school.example password=perf-password-long-enough
bin/classmeet migrate >/dev/null
echo "$password" | bin/classmeet user add --email "$email" --name 'Perf Teacher' --role teacher >/dev/null 2>&1 || true
echo "$password" | bin/classmeet user password --email "$email" >/dev/null

echo "floor: sender on core 0, receivers on core 1 (as the server and the generator below)"
CLASSMEET_FLOOR_CPUS=0,1 go test -run XXX -bench Floor -benchtime 3s ./internal/floor/ | grep Benchmark | tee "$out/floor.txt"
echo "floor: sender and receiver both on core 0"
taskset -c 0 go test -run XXX -bench 'Floor/sendto' -benchtime 3s ./internal/floor/ | grep Benchmark | tee "$out/floor-one-core.txt"

# floor prints the median of three runs of the single-receiver floor (ns per
# packet), sender on core 0 and receiver on core 1: measured next to each
# scenario, so machine drift between scenarios does not skew the ratio.
floor() {
  CLASSMEET_FLOOR_CPUS=0,1 go test -run XXX -bench 'Floor/sendto$' -benchtime 2s -count 3 ./internal/floor/ |
    awk '/^BenchmarkFloor/ {print $3}' | sort -n | sed -n 2p
}

run() { # scenario size flag
  local f
  f=$(floor)
  taskset -c 0 "${PERF_SERVER:-bin/classmeet}" serve >"$out/server-$1-$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local metrics=()
  curl -fs http://127.0.0.1:18090/metrics >/dev/null 2>&1 && metrics=(--metrics-url http://127.0.0.1:18090/metrics)
  CLASSMEET_LOADTEST_PASSWORD=$password taskset -c 1 bin/classmeet loadtest "$1" --url "$url" \
    --email "$email" "$3" "$2" --duration "${PERF_DURATION:-30s}" --server-pid "$pid" "${metrics[@]}" --json >"$out/$1-$2.json" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$f" >"$out/$1-$2.floor"
  local us
  us=$(grep -o '"cpu_us_per_packet": [0-9.]*' "$out/$1-$2.json" | awk '{print $2}')
  if [ -n "$us" ]; then
    awk -v s="$1 $2" -v us="$us" -v f="$f" 'BEGIN {printf "%-12s %6.2f us/packet, floor %5.2f us: %.2fx\n", s, us, f/1000, us*1000/f}'
  else
    echo "$1 $2: no report (see $out/$1-$2.json)"
  fi
}
for m in ${PERF_LECTURE-50 100 200}; do run lecture "$m" -m; done
for n in ${PERF_MEETING-10}; do run meeting "$n" -n; done
