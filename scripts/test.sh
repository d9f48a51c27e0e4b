#!/usr/bin/env bash
# Builds everything and runs every test: the README's second command, and what .ci/run calls.
#
#   1. formatting (clang-format, .clang-format)
#   2. g++ Release build of everything; all tests; a smoke run of every benchmark binary (each
#      benchmark checks its output against a reference before timing)
#   3. the fault campaign (scripts/chaos.sh, docs/reliability.md): NZEZA_CHAOS_TRIALS (default 12)
#      trials of the engine against nzeza-sim as processes, with kills and venue faults, each
#      checked exactly against the venue; a failure prints the seed that replays it
#   4. clang ASan+UBSan build of the libraries and tests (not the benches); the "unit" tests
#   5. clang TSan build; the "concurrency" tests
#   6. clang libFuzzer targets, each run for a bounded time (NZEZA_FUZZ_SECONDS, default 10), on
#      its corpus and the seeds in tests/fuzz/seeds/<fuzzer> (regressions included).
#      A tree of their own: coverage instrumentation (-fsanitize=fuzzer-no-link) on the whole
#      ASan tree made Asio code fail under ASan (bad frees in std::string), so it stays separate.
#
# Build trees live in build/<name>; ccache makes reruns quick. Exit status: 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
fuzz_seconds=${NZEZA_FUZZ_SECONDS:-10}
chaos_trials=${NZEZA_CHAOS_TRIALS:-12}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
passed=0
failed=0
failures=()  # what failed, repeated at the very end (CI shows only the tail of the output)
# Sanitizer trees: -O1 with line tables (enough for sanitizer reports), about 15% quicker to build
# than RelWithDebInfo's -O2 -g; Beast/Asio-heavy targets build at -O0 there (nzeza_io_target).
# lld links them (the instrumented test programs are large; GNU ld took minutes in all).
san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
  -DNZEZA_LINKER=lld)
log_dir=build/logs
mkdir -p "$log_dir"

step() { printf '\n==== %s (at %ds)\n' "$*" "$SECONDS"; }

# Runs ctest with the given arguments, adds its counts to the totals, returns its status.
run_ctest() {
  local name=$1
  shift
  local log="$log_dir/ctest-$name.log"
  local rc=0
  ctest --output-on-failure "$@" 2>&1 | tee "$log" || rc=$?
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
  if [[ -z $line ]]; then
    echo "test.sh: ctest ($name) printed no summary" >&2
    failures+=("ctest $name: no summary")
    failed=$((failed + 1))
    return 1
  fi
  local f total
  f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  passed=$((passed + total - f))
  failed=$((failed + f))
  local t
  while IFS= read -r t; do
    failures+=("ctest $name: $t")
  done < <(sed -n '/The following tests FAILED:/,$p' "$log" | grep -E '^[[:space:]]+[0-9]+ - ' |
    sed -E 's/^[[:space:]]+//')
  if ((total == 0)); then
    echo "test.sh: ctest ($name) ran no test" >&2
    failed=$((failed + 1))
    return 1
  fi
  return $rc
}

configure() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >"$log_dir/configure-$(basename "$dir").log" 2>&1 ||
    { cat "$log_dir/configure-$(basename "$dir").log"; return 1; }
}

status=0

step "format"
mapfile -t sources < <(git ls-files '*.h' '*.cc')
if ((${#sources[@]})) && ! clang-format --dry-run -Werror "${sources[@]}"; then
  echo "test.sh: files above are not clang-formatted (run: clang-format -i FILE)" >&2
  failures+=("format")
  failed=$((failed + 1))
  status=1
fi

step "g++ Release: build"
configure build/release -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++
cmake --build build/release -j"$jobs"
step "g++ Release: tests"
run_ctest release --test-dir build/release -j"$jobs" || status=1
step "g++ Release: benchmark smoke runs (correctness checks, not timings)"
while IFS= read -r bench; do
  name=$(basename "$bench")
  if "$bench" --benchmark_min_time=0.01 --benchmark_out="$log_dir/$name-smoke.json" \
      --benchmark_out_format=json >"$log_dir/$name-smoke.log" 2>&1 &&
      ! grep -q '"error_occurred": true' "$log_dir/$name-smoke.json"; then
    passed=$((passed + 1))
    echo "$name: every benchmark ran and checked its output"
  else
    cat "$log_dir/$name-smoke.log"
    failures+=("benchmark smoke: $name")
    failed=$((failed + 1))
    status=1
  fi
done < <(find build/release/bench -type f -name 'nzeza_bench_*' -perm -u+x | sort)

step "fault campaign: ${chaos_trials} trials (scripts/chaos.sh)"
if bash scripts/chaos.sh --trials "$chaos_trials" --bin-dir build/release >"$log_dir/chaos.log" 2>&1; then
  passed=$((passed + 1))
  tail -4 "$log_dir/chaos.log"
else
  tail -60 "$log_dir/chaos.log"
  failures+=("fault campaign (replay: the seed printed above)")
  failed=$((failed + 1))
  status=1
fi

step "clang ASan+UBSan: build"
configure build/asan "${san_flags[@]}" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DNZEZA_SANITIZE='address;undefined' -DNZEZA_BUILD_FUZZ=OFF -DNZEZA_BUILD_BENCH=OFF
cmake --build build/asan -j"$jobs"
step "clang ASan+UBSan: unit tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest asan --test-dir build/asan -L unit -j"$jobs" || status=1

step "clang TSan: build"
configure build/tsan "${san_flags[@]}" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DNZEZA_SANITIZE=thread -DNZEZA_BUILD_BENCH=OFF
# Only the tests (and what they need): the tools are not run under TSan.
cmake --build build/tsan --target nzeza_tests -j"$jobs"
step "clang TSan: concurrency tests"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  run_ctest tsan --test-dir build/tsan -L concurrency -j"$jobs" || status=1

step "libFuzzer: ${fuzz_seconds}s per target"
configure build/fuzz "${san_flags[@]}" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DNZEZA_BUILD_FUZZ=ON -DNZEZA_BUILD_TESTS=OFF -DNZEZA_BUILD_BENCH=OFF \
  -DNZEZA_SANITIZE='address;undefined'
cmake --build build/fuzz --target nzeza_fuzzers -j"$jobs"
for fuzzer in $(find build/fuzz/tests/fuzz -type f -name '*_fuzz' -perm -u+x | sort); do
  name=$(basename "$fuzzer")
  corpus="build/fuzz/corpus/$name"
  mkdir -p "$corpus"
  seeds="tests/fuzz/seeds/$name"
  if "$fuzzer" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" \
      $([[ -d $seeds ]] && echo "$seeds") >"$log_dir/$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "$name: $(grep -E '^stat::number_of_executed_units' "$log_dir/$name.log" | awk '{print $2}') runs, no failure"
  else
    tail -40 "$log_dir/$name.log"
    failures+=("fuzz: $name")
    failed=$((failed + 1))
    status=1
  fi
done

echo
if ((${#failures[@]})); then
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "total: $passed passed, $failed failed"
exit $status
