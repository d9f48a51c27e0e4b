// Clocks: a calibrated TSC clock for the hot path, a wall clock for logs, and a manual clock for
// deterministic tests.
//
//   absl::StatusOr<TscClock> clock = TscClock::Calibrate();   // once, at start, off the hot path
//   int64_t t0 = clock->NowNanos();                           // ~10 ns, no syscall
//   ...
//   int64_t elapsed = clock->NowNanos() - t0;
//
// Every timestamp that crosses a ring is monotonic nanoseconds from one process-wide TscClock, so
// differences between stages on different cores are meaningful (the TSC is invariant and
// synchronised across cores on every CPU we run on; Calibrate() refuses the TSC where the CPU does
// not say it is invariant and falls back to clock_gettime(CLOCK_MONOTONIC)).
#ifndef NZEZA_CORE_CLOCK_H_
#define NZEZA_CORE_CLOCK_H_

#include <x86intrin.h>

#include <cstdint>
#include <ctime>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nzeza {

// Reads CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall on Linux/x86-64).
inline int64_t MonotonicNanos() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// True when CPUID reports an invariant TSC (constant rate across P-/C-states), the precondition for
// using it as a clock.
bool CpuHasInvariantTsc() noexcept;

// Monotonic nanoseconds from the TSC, calibrated against CLOCK_MONOTONIC.
//
// Thread: immutable after Calibrate(); NowNanos() may be called from any thread.
// Allocates: never after construction.
class TscClock {
 public:
  enum class Source : uint8_t { kTsc, kClockGettime };

  struct Options {
    // How long Calibrate() samples the TSC against CLOCK_MONOTONIC. Longer is more accurate:
    // 20 ms gives a rate error well below 1e-4 (0.1 us per second).
    absl::Duration calibration_window = absl::Milliseconds(20);
    // Use the TSC only if the CPU says it is invariant; tests may force the fallback.
    bool allow_tsc = true;
  };

  // Measures the TSC frequency. Blocks for `calibration_window`. Returns the clock_gettime
  // fallback where the TSC is not invariant (or options.allow_tsc is false). Errors:
  // InvalidArgument for a window outside [1 ms, 10 s]; Internal if the measurement is absurd
  // (the TSC does not advance), in which case callers may use Fallback().
  static absl::StatusOr<TscClock> Calibrate(Options options);
  static absl::StatusOr<TscClock> Calibrate() { return Calibrate(Options()); }
  // A clock that reads clock_gettime(CLOCK_MONOTONIC) on every call.
  static TscClock Fallback() noexcept;

  // Monotonic nanoseconds, on the same epoch as MonotonicNanos() (at calibration time).
  int64_t NowNanos() const noexcept {
    if (source_ == Source::kTsc) [[likely]] {
      return TicksToNanos(__rdtsc());
    }
    return MonotonicNanos();
  }

  // Raw TSC ticks (or nanoseconds in the fallback): for tight loops that convert later.
  uint64_t NowTicks() const noexcept {
    if (source_ == Source::kTsc) [[likely]] {
      return __rdtsc();
    }
    return static_cast<uint64_t>(MonotonicNanos());
  }

  // Converts a NowTicks() reading to monotonic nanoseconds.
  int64_t TicksToNanos(uint64_t ticks) const noexcept {
    if (source_ != Source::kTsc) return static_cast<int64_t>(ticks);
    // Signed delta so a reading taken just before calibration still converts sensibly.
    const __int128 delta = static_cast<__int128>(static_cast<int64_t>(ticks - base_ticks_));
    return base_nanos_ + static_cast<int64_t>((delta * mult_) >> kShift);
  }

  // Converts a tick interval (difference of two NowTicks() readings) to nanoseconds.
  int64_t TickDeltaToNanos(uint64_t delta_ticks) const noexcept {
    if (source_ != Source::kTsc) return static_cast<int64_t>(delta_ticks);
    return static_cast<int64_t>((static_cast<unsigned __int128>(delta_ticks) * mult_) >> kShift);
  }

  Source source() const noexcept { return source_; }
  // Measured TSC frequency in Hz (0 in the fallback).
  double tsc_hz() const noexcept { return tsc_hz_; }

 private:
  static constexpr int kShift = 32;
  TscClock() = default;

  Source source_ = Source::kClockGettime;
  uint64_t base_ticks_ = 0;
  int64_t base_nanos_ = 0;
  uint64_t mult_ = 0;  // nanoseconds per tick, as a 32.32 fixed-point number
  double tsc_hz_ = 0;
};

// Wall-clock time for logs and reports. Not monotonic: never subtract two readings for latency.
class WallClock {
 public:
  // Nanoseconds since the Unix epoch (CLOCK_REALTIME, vDSO).
  static int64_t NowNanos() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
  // Formats `unix_nanos` as "2026-11-24T23:53:01.123456789Z" into `out` (kIso8601Chars bytes,
  // NUL-terminated), returning the length. No allocation, no locale, no syscall.
  static constexpr size_t kIso8601Chars = 40;  // 30 characters + NUL, with room for any int64 input
  static size_t FormatIso8601(int64_t unix_nanos, char* out) noexcept;
  static std::string ToIso8601(int64_t unix_nanos);
};

// A clock a test sets by hand. Same NowNanos() shape as TscClock, so components templated or
// parameterised on a clock take either.
//
// Thread: not thread-safe; set and read it from the test's thread (or synchronise externally).
class ManualClock {
 public:
  explicit ManualClock(int64_t start_nanos = 0) noexcept : now_(start_nanos) {}
  int64_t NowNanos() const noexcept { return now_; }
  void Set(int64_t nanos) noexcept { now_ = nanos; }
  void Advance(int64_t nanos) noexcept { now_ += nanos; }
  void Advance(absl::Duration d) noexcept { now_ += absl::ToInt64Nanoseconds(d); }

 private:
  int64_t now_;
};

}  // namespace nzeza

#endif  // NZEZA_CORE_CLOCK_H_
