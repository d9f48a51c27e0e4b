#include "nzeza/core/clock.h"

#include <cpuid.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace nzeza {

bool CpuHasInvariantTsc() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;  // "Invariant TSC" (Intel SDM / AMD APM: CPUID.80000007H:EDX[8])
}

namespace {

// One (tsc, monotonic) pair, taken so the two reads are as close as possible: the pair with the
// shortest TSC bracket around the clock_gettime() call wins.
struct Sample {
  uint64_t ticks;
  int64_t nanos;
};

Sample TakeSample() noexcept {
  Sample best{0, 0};
  uint64_t best_bracket = ~uint64_t{0};
  for (int i = 0; i < 16; ++i) {
    const uint64_t t0 = __rdtsc();
    const int64_t ns = MonotonicNanos();
    const uint64_t t1 = __rdtsc();
    if (t1 - t0 < best_bracket) {
      best_bracket = t1 - t0;
      best = Sample{t0 + (t1 - t0) / 2, ns};
    }
  }
  return best;
}

}  // namespace

TscClock TscClock::Fallback() noexcept { return TscClock(); }

absl::StatusOr<TscClock> TscClock::Calibrate(Options options) {
  const int64_t window_ns = absl::ToInt64Nanoseconds(options.calibration_window);
  if (window_ns < 1'000'000 || window_ns > 10'000'000'000) {
    return absl::InvalidArgumentError(
        absl::StrFormat("TSC calibration window %s is outside [1ms, 10s]",
                        absl::FormatDuration(options.calibration_window)));
  }
  TscClock clock;
  if (!options.allow_tsc || !CpuHasInvariantTsc()) return clock;
  const Sample a = TakeSample();
  timespec sleep_for{static_cast<time_t>(window_ns / 1'000'000'000),
                     static_cast<long>(window_ns % 1'000'000'000)};
  nanosleep(&sleep_for, nullptr);
  const Sample b = TakeSample();

  const int64_t dn = b.nanos - a.nanos;
  const uint64_t dt = b.ticks - a.ticks;
  if (dn <= 0 || dt == 0) {
    return absl::InternalError(
        "TSC calibration failed: the TSC or CLOCK_MONOTONIC did not advance");
  }
  const double hz = static_cast<double>(dt) * 1e9 / static_cast<double>(dn);
  if (!(hz > 1e8 && hz < 1e11)) {
    return absl::InternalError(absl::StrFormat("TSC calibration measured an absurd %.0f Hz", hz));
  }
  clock.source_ = Source::kTsc;
  clock.tsc_hz_ = hz;
  // mult = ns per tick in 32.32 fixed point. The rounding error is < 2^-32 ns per tick, i.e.
  // under 1 ns per 4e9 ticks (~1 s): far below the calibration's own error.
  clock.mult_ = static_cast<uint64_t>(std::llround(1e9 / hz * 4294967296.0));
  clock.base_ticks_ = b.ticks;
  clock.base_nanos_ = b.nanos;
  return clock;
}

size_t WallClock::FormatIso8601(int64_t unix_nanos, char* out) noexcept {
  int64_t secs = unix_nanos / 1'000'000'000;
  int64_t nanos = unix_nanos % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    secs -= 1;
  }
  // Civil-from-days (Howard Hinnant's algorithm): no locale, no tz database, no syscall.
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  const int n = std::snprintf(
      out, kIso8601Chars, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lldZ",
      static_cast<long long>(year), static_cast<long long>(month), static_cast<long long>(day),
      static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
      static_cast<long long>(rem % 60), static_cast<long long>(nanos));
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), kIso8601Chars - 1);
}

std::string WallClock::ToIso8601(int64_t unix_nanos) {
  char buf[kIso8601Chars];
  return std::string(buf, FormatIso8601(unix_nanos, buf));
}

}  // namespace nzeza
