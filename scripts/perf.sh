#!/usr/bin/env bash
# perf.sh — the measurements in docs/performance.md, on this host: the floor
# (internal/floor) and `classmeet loadtest` against a server pinned to core 0,
# the generator on core 1, in one run so the figures can be compared as ratios.
#
#   scripts/perf.sh [OUT_DIR]     (default .data/perf; needs 2 cores)
#
# Scenarios and sizes can be narrowed: PERF_LECTURE="50 100 200" PERF_MEETING="10"
# PERF_DURATION=30s PERF_REPEAT=1; PERF_SERVER=path/to/another/classmeet measures that server with
# this generator.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.data/perf}
mkdir -p "$out"
scripts/deps.sh run >/dev/null
make -s build
DATABASE_URL=$(scripts/pg.sh start .data/perf-pg)
export DATABASE_URL
trap 'scripts/pg.sh stop .data/perf-pg >/dev/null 2>&1 || true' EXIT
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

# floor prints five runs of the single-receiver floor (ns per packet, one
# a line), sender on core 0 and receiver on core 1. It moves by a tenth and
# more from one second to the next here, so each scenario is compared with
# the median of ten: five before the run and five after it (which also takes
# in the machine's drift over the run); their range is printed beside it.
floor() {
  { CLASSMEET_FLOOR_CPUS=0,1 go test -run XXX -bench 'Floor/^sendto$' -benchtime 1s -count 5 ./internal/floor/ || true; } |
    awk '/^BenchmarkFloor/ {print $3}'
}

# placement prints how many ns a write on core 0 takes to be seen on core 1
# (internal/floor.HandOff): about 30 where this VM's two CPUs are the
# hyperthreads of one physical core, about 160 where they are two cores. The
# host moves them between the two, sometimes within a run, and the floor
# moves with it (docs/performance.md), so each run says where it started and
# where it ended ("moved" when the two differ).
placement() {
  { CLASSMEET_FLOOR_CPUS=0,1 go test -run XXX -bench 'HandOff' -benchtime 1x ./internal/floor/ || true; } |
    awk '/^BenchmarkHandOff/ {for (i = 1; i < NF; i++) if ($(i+1) == "ns/pass") print $i}'
}

run() { # scenario size flag name
  local floors p0 p1
  p0=$(placement)
  floors=$(floor)
  taskset -c 0 "${PERF_SERVER:-bin/classmeet}" serve >"$out/server-$4.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local metrics=()
  curl -fs http://127.0.0.1:18090/metrics >/dev/null 2>&1 && metrics=(--metrics-url http://127.0.0.1:18090/metrics)
  CLASSMEET_LOADTEST_PASSWORD=$password taskset -c 1 bin/classmeet loadtest "$1" --url "$url" \
    --email "$email" "$3" "$2" --duration "${PERF_DURATION:-30s}" --server-pid "$pid" "${metrics[@]}" --json >"$out/$4.json" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  floors="$floors $(floor)"
  p1=$(placement)
  echo $floors >"$out/$4.floor"
  echo "$p0 $p1" >"$out/$4.placement"
  local us
  us=$(grep -o '"cpu_us_per_packet": [0-9.]*' "$out/$4.json" | awk '{print $2}' || true)
  if [ -z "$us" ]; then
    echo "$1 $2: no report (see $out/$4.json)" | tee -a "$out/ratios.txt"
  elif [ -z "$floors" ]; then
    echo "$1 $2: $us us/packet, no floor measured (go test -bench Floor failed)" | tee -a "$out/ratios.txt"
  else
    echo $floors | tr ' ' '\n' | sort -n | awk -v s="$1 $2" -v us="$us" -v p0="${p0:-0}" -v p1="${p1:-0}" '{v[NR] = $1} END {
      f = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      if (p0 == 0 || p1 == 0) where = "unknown"
      else where = (p0 < 100 && p1 < 100) ? "hyperthreads" : (p0 >= 100 && p1 >= 100) ? "two cores" : "moved"
      printf "%-12s %6.2f us/packet, floor %5.2f us (median of %d, %.2f-%.2f): %.2fx  [%s: %d, %d ns]\n",
        s, us, f/1000, NR, v[1]/1000, v[NR]/1000, us*1000/f, where, p0, p1
    }' | tee -a "$out/ratios.txt"
  fi
}

# Each scenario runs PERF_REPEAT times (default 1), each beside its own
# floors; with more than one, the median ratio is printed after them.
: >"$out/ratios.txt"
scenario() { # scenario size flag
  local name="$1-$2" r
  for r in $(seq "${PERF_REPEAT:-1}"); do
    [ "${PERF_REPEAT:-1}" -gt 1 ] && name="$1-$2-$r"
    run "$1" "$2" "$3" "$name"
  done
  if [ "${PERF_REPEAT:-1}" -gt 1 ]; then
    { grep "^$1 *$2 " "$out/ratios.txt" || true; } | sed -n 's/.*: \([0-9.]*\)x  \[\([a-z ]*\):.*/\1 \2/p' | sort -n |
      awk -v s="$1 $2" '
        function median(k, n) { return n % 2 ? r[k, (n + 1) / 2] : (r[k, n / 2] + r[k, n / 2 + 1]) / 2 }
        { x = $1; $1 = ""; w = substr($0, 2); r["all", ++n["all"]] = x; r[w, ++n[w]] = x }
        END {
          if (!n["all"]) exit
          printf "%-12s median of %d: %.2fx (%.2f-%.2f)", s, n["all"], median("all", n["all"]), r["all", 1], r["all", n["all"]]
          for (w in n) if (w != "all") printf "; %s: %.2fx of %d", w, median(w, n[w]), n[w]
          printf "\n"
        }'
  fi
}
for m in ${PERF_LECTURE-50 100 200}; do scenario lecture "$m" -m; done
for n in ${PERF_MEETING-10}; do scenario meeting "$n" -n; done
