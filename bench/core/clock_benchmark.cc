// Cost of reading the clocks a stage stamps events with: the calibrated TSC against
// clock_gettime(CLOCK_MONOTONIC) (vDSO) and std::chrono::steady_clock, in the same binary.
#include <chrono>
#include <ctime>

#include <benchmark/benchmark.h>

#include "nzeza/core/clock.h"

namespace nzeza {
namespace {

const TscClock& Clock() {
  static const TscClock clock = [] {
    absl::StatusOr<TscClock> c = TscClock::Calibrate();
    return c.ok() ? *c : TscClock::Fallback();
  }();
  return clock;
}

void BM_ClockTscNowNanos(benchmark::State& state) {
  const TscClock& clock = Clock();
  if (clock.source() != TscClock::Source::kTsc) state.SkipWithError("no invariant TSC here");
  int64_t prev = clock.NowNanos();
  for (auto _ : state) {
    const int64_t now = clock.NowNanos();
    benchmark::DoNotOptimize(now);
    if (now < prev) state.SkipWithError("TscClock went backwards");
    prev = now;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClockTscNowNanos);

void BM_ClockTscNowTicks(benchmark::State& state) {
  const TscClock& clock = Clock();
  for (auto _ : state) benchmark::DoNotOptimize(clock.NowTicks());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClockTscNowTicks);

void BM_ClockGettimeMonotonic(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(MonotonicNanos());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClockGettimeMonotonic);

void BM_ClockStdSteady(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClockStdSteady);

void BM_ClockWallNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(WallClock::NowNanos());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClockWallNow);

}  // namespace
}  // namespace nzeza
