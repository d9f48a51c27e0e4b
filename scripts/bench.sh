#!/usr/bin/env bash
# The benchmark suites: builds the Release tree and runs every suite (core: ring, decimal,
# histogram, clock; book; risk; oms; the feed decoders; Coinbase order entry; the end-to-end
# tick-to-order harness), each against its peers in the same binary
# (repetitions randomly interleaved, so a slow spell of this noisy 2-vCPU VM hits every
# contender), then prints the comparison table with the targets from docs/perf-log.md. Raw results: build/bench-<suite>.json
# (JSON) and build/bench-<suite>.txt (console).
#
# Environment: NZEZA_BENCH_REPETITIONS (default 11; medians are reported),
#              NZEZA_BENCH_FILTER (a Google Benchmark regex, default all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

repetitions=${NZEZA_BENCH_REPETITIONS:-11}
filter=${NZEZA_BENCH_FILTER:-.}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ >/dev/null
suites=(core book risk oms feeds_binance feeds_coinbase feeds_dydx venues_coinbase e2e)
cmake --build build/release --target "${suites[@]/#/nzeza_bench_}" -j"$(nproc)"

outs=()
for suite in "${suites[@]}"; do
  bin=$(find build/release/bench -type f -name "nzeza_bench_$suite" | head -1)
  out=build/bench-$suite.json
  echo "running nzeza_bench_$suite ($repetitions interleaved repetitions); output: build/bench-$suite.txt"
  "$bin" --benchmark_filter="$filter" \
    --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.15 \
    --benchmark_out="$out" --benchmark_out_format=json >"build/bench-$suite.txt" 2>&1 ||
    { cat "build/bench-$suite.txt"; exit 1; }
  outs+=("$out")
done
python3 bench/compare.py "${outs[@]}"
