#!/usr/bin/env bash
# The main job: the README's first command.
#
# Until the engine process exists it builds the Release tree and runs the core benchmarks
# (ring, decimal, histogram, clock), each against its peers in the same binary (repetitions
# randomly interleaved, so a slow spell of this noisy 2-vCPU VM hits every contender), then prints the
# comparison table with the targets from docs/perf-log.md. Raw results: build/bench-core.json
# (JSON) and build/bench-core.txt (console).
#
# Environment: NZEZA_BENCH_REPETITIONS (default 11; medians are reported),
#              NZEZA_BENCH_FILTER (a Google Benchmark regex, default all).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

repetitions=${NZEZA_BENCH_REPETITIONS:-11}
filter=${NZEZA_BENCH_FILTER:-.}
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build build/release --target nzeza_bench_core -j"$(nproc)"

out=build/bench-core.json
echo "running the core benchmarks ($repetitions interleaved repetitions, about 2 minutes);" \
  "per-benchmark output: build/bench-core.txt"
./build/release/bench/nzeza_bench_core --benchmark_filter="$filter" \
  --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.15 \
  --benchmark_out="$out" --benchmark_out_format=json >build/bench-core.txt 2>&1 ||
  { cat build/bench-core.txt; exit 1; }
python3 bench/compare.py "$out"
