#include "nzeza/core/clock.h"

#include <cstdlib>
#include <thread>

#include "gtest/gtest.h"

namespace nzeza {
namespace {

TEST(TscClock, TracksMonotonicClock) {
  absl::StatusOr<TscClock> clock = TscClock::Calibrate();
  ASSERT_TRUE(clock.ok()) << clock.status();
  if (CpuHasInvariantTsc()) {
    EXPECT_EQ(clock->source(), TscClock::Source::kTsc);
    EXPECT_GT(clock->tsc_hz(), 1e8);
  }
  // Over ~200 ms the two clocks agree within 50 us (calibration error << 1e-4).
  for (int i = 0; i < 3; ++i) {
    const int64_t tsc0 = clock->NowNanos();
    const int64_t mono0 = MonotonicNanos();
    std::this_thread::sleep_for(std::chrono::milliseconds(70));
    const int64_t tsc1 = clock->NowNanos();
    const int64_t mono1 = MonotonicNanos();
    EXPECT_NEAR(static_cast<double>(tsc0), static_cast<double>(mono0), 50'000.0);
    EXPECT_NEAR(static_cast<double>(tsc1 - tsc0), static_cast<double>(mono1 - mono0), 50'000.0);
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
