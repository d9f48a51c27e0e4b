// RelaxedCounter: a statistic one thread (a stage's) increments and any thread (the status line,
// /metrics) reads, without a lock and without a locked read-modify-write on the hot path.
//
//   struct Counters { nzeza::RelaxedCounter sent; };     // owned by the order stage
//   ++counters.sent;                                      // stage thread: a load and a store
//   uint64_t n = counters.sent;                           // any thread: a relaxed load
//
// Thread: exactly one writer; any number of readers. A reader sees some recent value (never a torn
// one). Not copyable (it is a std::atomic); read it into a uint64_t to snapshot it.
#ifndef NZEZA_CORE_COUNTER_H_
#define NZEZA_CORE_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace nzeza {

class RelaxedCounter {
 public:
  RelaxedCounter() = default;
  RelaxedCounter(const RelaxedCounter&) = delete;
  RelaxedCounter& operator=(const RelaxedCounter&) = delete;

  RelaxedCounter& operator++() noexcept { return *this += 1; }
  RelaxedCounter& operator+=(uint64_t n) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    return *this;
  }
  // Writer only: overwrite (a gauge).
  void Set(uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  uint64_t load() const noexcept { return v_.load(std::memory_order_relaxed); }
  operator uint64_t() const noexcept { return load(); }  // NOLINT: reads like a number

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace nzeza

#endif  // NZEZA_CORE_COUNTER_H_
