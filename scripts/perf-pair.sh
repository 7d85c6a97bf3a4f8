#!/usr/bin/env bash
# perf-pair.sh — two builds of classmeet measured side by side, at the same
# time, so that what moves the machine moves both (docs/performance.md,
# Method, "Two builds side by side").
#
#   scripts/perf-pair.sh BEFORE AFTER [OUT_DIR]     (default .data/perf-pair)
#
# BEFORE and AFTER are classmeet binaries. Both servers run on core 0 at once,
# each with its own PostgreSQL and ports; their two generators run on core 1.
# Each round runs the same scenario against both and prints the CPU each
# server spent per forwarded packet and AFTER's over BEFORE's; the rounds
# swap the two servers' ports and start order. At the end: the median ratio
# and its range. A round in which either generator saturated is not
# counted. The generator is this checkout's bin/classmeet, rebuilt first:
# to measure an older build as BEFORE, pass a copy of it from elsewhere.
# PAIR_SCENARIO=lecture|meeting (default lecture), PAIR_SIZE (default 100
# subscribers, or 10 people in a meeting), PAIR_ROUNDS (default 6),
# PAIR_DURATION (default 20s).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ -x "$1" ] && [ -x "$2" ] || { echo "perf-pair: $1 and $2 must be classmeet binaries" >&2; exit 2; }
before=$(realpath "$1") after=$(realpath "$2") out=$(realpath -m "${3:-$(dirname "$0")/../.data/perf-pair}")
cd "$(dirname "$0")/.."
scenario=${PAIR_SCENARIO:-lecture} rounds=${PAIR_ROUNDS:-6}
case $scenario in
  lecture) flag=-m size=${PAIR_SIZE:-100} ;;
  meeting) flag=-n size=${PAIR_SIZE:-10} ;;
  *) echo "perf-pair: PAIR_SCENARIO is lecture or meeting" >&2; exit 2 ;;
esac
mkdir -p "$out"
scripts/deps.sh run >/dev/null
make -s build # the generator

export CLASSMEET_SECRET=perf-secret-not-for-production-000000000000 CLASSMEET_LOG_LEVEL=warn
email=perf-teacher@school.example password=perf-password-long-enough
declare -A db
trap 'for s in 1 2; do scripts/pg.sh stop ".data/perf-pair-pg$s" >/dev/null 2>&1 || true; done' EXIT
for s in 1 2; do
  db[$s]=$(scripts/pg.sh start ".data/perf-pair-pg$s")
  DATABASE_URL=${db[$s]} bin/classmeet migrate >/dev/null
  echo "$password" | DATABASE_URL=${db[$s]} bin/classmeet user add --email "$email" --name 'Perf Teacher' --role teacher >/dev/null 2>&1 || true
  echo "$password" | DATABASE_URL=${db[$s]} bin/classmeet user password --email "$email" >/dev/null
done

# slot serves one build in slot s (its own database and ports) and drives
# it with one generator; the report goes to dir.
slot() { # s binary dir
  local s=$1 bin=$2 dir=$3
  rm -rf "$dir" && mkdir -p "$dir"
  DATABASE_URL=${db[$s]} CLASSMEET_DATA_DIR="$dir/data" CLASSMEET_ADDR=127.0.0.1:1818$s \
    CLASSMEET_METRICS_ADDR=127.0.0.1:1819$s CLASSMEET_RTC_UDP_PORT=1798$s CLASSMEET_RTC_TCP_PORT=1797$s \
    taskset -c 0 "$bin" serve >"$dir/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:1818$s/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  CLASSMEET_LOADTEST_PASSWORD=$password taskset -c 1 bin/classmeet loadtest "$scenario" --url "http://127.0.0.1:1818$s" \
    --email "$email" "$flag" "$size" --duration "${PAIR_DURATION:-20s}" --server-pid "$pid" --json >"$dir/report.json" 2>"$dir/loadtest.log" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
us() { { grep -o '"cpu_us_per_packet": [0-9.]*' "$1/report.json" || true; } | awk '$2 > 0 {print $2}'; }

: >"$out/ratios.txt"
for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 1 ]; then one=$before two=$after; else one=$after two=$before; fi
  slot 1 "$one" "$out/$r-1" & slot 2 "$two" "$out/$r-2" & wait
  a=$(us "$out/$r-1") b=$(us "$out/$r-2")
  [ $((r % 2)) = 1 ] || { t=$a; a=$b; b=$t; }
  if [ -z "$a" ] || [ -z "$b" ]; then
    echo "round $r: no report (see $out/$r-1 and $out/$r-2)" | tee -a "$out/ratios.txt"
    continue
  fi
  if invalid=$(grep -ho '"invalid": "[^"]*"' "$out/$r-1/report.json" "$out/$r-2/report.json"); then
    echo "round $r: not counted, $invalid" | tee -a "$out/ratios.txt"
    continue
  fi
  awk -v r="$r" -v a="$a" -v b="$b" -v s="$scenario $size" 'BEGIN {
    printf "round %d, %s: before %.2f us/packet, after %.2f: %.3f\n", r, s, a, b, b / a }' | tee -a "$out/ratios.txt"
done
sed -n 's/.*: \([0-9.]*\)$/\1/p' "$out/ratios.txt" | sort -n | awk -v s="$scenario $size" '{v[NR] = $1} END {
  if (!NR) { printf "%s: no round counted\n", s; exit 1 }
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "%s: after / before, median of %d rounds: %.3f (%.3f-%.3f)\n", s, NR, m, v[1], v[NR] }' | tee -a "$out/ratios.txt"
