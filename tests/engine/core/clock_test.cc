#include "nzeza/core/clock.h"

#include <climits>
#include <cstdlib>
#include <thread>

#include "gtest/gtest.h"

namespace nzeza {
namespace {

// A (TscClock, CLOCK_MONOTONIC) reading taken so the two are close: the one with the tightest
// CLOCK_MONOTONIC bracket of 64 tries, so a preemption between the reads (CI runs tests in
// parallel on 2 cores) does not masquerade as clock error.
struct Pair {
  int64_t tsc_ns;
  int64_t mono_ns;
};
Pair ReadPair(const TscClock& clock) {
  Pair best{0, 0};
  int64_t best_bracket = INT64_MAX;
  for (int i = 0; i < 64; ++i) {
    const int64_t m0 = MonotonicNanos();
    const int64_t t = clock.NowNanos();
    const int64_t m1 = MonotonicNanos();
    if (m1 - m0 < best_bracket) {
      best_bracket = m1 - m0;
      best = Pair{t, m0 + (m1 - m0) / 2};
    }
  }
  return best;
}

TEST(TscClock, TracksMonotonicClock) {
  absl::StatusOr<TscClock> clock = TscClock::Calibrate();
  ASSERT_TRUE(clock.ok()) << clock.status();
  if (CpuHasInvariantTsc()) {
    EXPECT_EQ(clock->source(), TscClock::Source::kTsc);
    EXPECT_GT(clock->tsc_hz(), 1e8);
  }
  // Same epoch within 50 us, and over ~70 ms intervals the rates agree within 2e-4 + 10 us
  // (the 20 ms calibration is good to ~1e-5 when its own samples are bracketed).
  for (int i = 0; i < 3; ++i) {
    const Pair a = ReadPair(*clock);
    std::this_thread::sleep_for(std::chrono::milliseconds(70));
    const Pair b = ReadPair(*clock);
    EXPECT_NEAR(static_cast<double>(a.tsc_ns), static_cast<double>(a.mono_ns), 50'000.0);
    const double mono = static_cast<double>(b.mono_ns - a.mono_ns);
    EXPECT_NEAR(static_cast<double>(b.tsc_ns - a.tsc_ns), mono, 2e-4 * mono + 10'000.0);
  }
}

TEST(TscClock, IsMonotonic) {
  absl::StatusOr<TscClock> clock = TscClock::Calibrate();
  ASSERT_TRUE(clock.ok());
  int64_t prev = clock->NowNanos();
  for (int i = 0; i < 1'000'000; ++i) {
    const int64_t now = clock->NowNanos();
    ASSERT_GE(now, prev);
    prev = now;
  }
}

TEST(TscClock, TickConversionsAgree) {
  absl::StatusOr<TscClock> clock = TscClock::Calibrate();
  ASSERT_TRUE(clock.ok());
  const uint64_t t0 = clock->NowTicks();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const uint64_t t1 = clock->NowTicks();
  const int64_t by_delta = clock->TickDeltaToNanos(t1 - t0);
  const int64_t by_points = clock->TicksToNanos(t1) - clock->TicksToNanos(t0);
  EXPECT_NEAR(static_cast<double>(by_delta), static_cast<double>(by_points), 2.0);
  EXPECT_GE(by_delta, 5'000'000);
}

TEST(TscClock, FallbackUsesClockGettime) {
  TscClock::Options options;
  options.allow_tsc = false;
  absl::StatusOr<TscClock> clock = TscClock::Calibrate(options);
  ASSERT_TRUE(clock.ok());
  EXPECT_EQ(clock->source(), TscClock::Source::kClockGettime);
  const int64_t a = MonotonicNanos();
  const int64_t b = clock->NowNanos();
  const int64_t c = MonotonicNanos();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
  EXPECT_EQ(TscClock::Fallback().source(), TscClock::Source::kClockGettime);
}

TEST(TscClock, RejectsAbsurdCalibrationWindow) {
  for (absl::Duration window : {absl::Microseconds(10), absl::Seconds(60)}) {
    TscClock::Options options;
    options.calibration_window = window;
    absl::StatusOr<TscClock> clock = TscClock::Calibrate(options);
    ASSERT_FALSE(clock.ok());
    EXPECT_EQ(clock.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(clock.status().message().find("outside [1ms, 10s]"), std::string_view::npos);
  }
}

TEST(WallClock, FormatsIso8601) {
  EXPECT_EQ(WallClock::ToIso8601(0), "1970-01-01T00:00:00.000000000Z");
  // 2021-10-12T09:17:41.123456789Z, a moment of the Binance recording.
  EXPECT_EQ(WallClock::ToIso8601(1634030261'123456789), "2021-10-12T09:17:41.123456789Z");
  // Leap day and end of a year.
  EXPECT_EQ(WallClock::ToIso8601(951782400'000000000), "2000-02-29T00:00:00.000000000Z");
  EXPECT_EQ(WallClock::ToIso8601(1735689599'999999999), "2024-12-31T23:59:59.999999999Z");
  EXPECT_EQ(WallClock::ToIso8601(-1), "1969-12-31T23:59:59.999999999Z");
  const int64_t now = WallClock::NowNanos();
  EXPECT_GT(now, 1'700'000'000'000'000'000);  // after Nov 2023
}

TEST(ManualClock, AdvancesOnlyWhenTold) {
  ManualClock clock(100);
  EXPECT_EQ(clock.NowNanos(), 100);
  clock.Advance(absl::Microseconds(2));
  EXPECT_EQ(clock.NowNanos(), 2100);
  clock.Set(5);
  EXPECT_EQ(clock.NowNanos(), 5);
}

}  // namespace
}  // namespace nzeza
