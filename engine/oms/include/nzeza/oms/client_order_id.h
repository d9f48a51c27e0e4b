// Client order ids that are unique across restarts.
//
//   ClientOrderIdGenerator ids(WallClock::NowNanos(), recovered_max_id);   // at start
//   uint64_t id = ids.Next();                                             // hot path
//
// Scheme: id = (unix_seconds_at_start << 24) | counter, and never below recovered_max + 1. The
// time prefix keeps ids unique across restarts even when the journal is lost (fresh disk); the
// recovered maximum keeps them unique when the restart falls in the same second as the previous
// start, or the previous run issued more than 2^24 ids and spilled into later seconds' ranges, or
// the wall clock stepped back. What it cannot survive: a lost journal AND a clock set back (or a
// restart within the same second): then ids may repeat. Ids fit in 64 bits until the year ~34000.
#ifndef NZEZA_OMS_CLIENT_ORDER_ID_H_
#define NZEZA_OMS_CLIENT_ORDER_ID_H_

#include <algorithm>
#include <cstdint>

namespace nzeza::oms {

// Thread: owned by one thread (the stage that assigns ids). Allocates: never. Complexity: O(1).
class ClientOrderIdGenerator {
 public:
  static constexpr int kCounterBits = 24;

  // `start_unix_ns`: wall-clock time now (injected). `recovered_max_id`: the largest client order
  // id found in the journal (0 if none).
  ClientOrderIdGenerator(int64_t start_unix_ns, uint64_t recovered_max_id) noexcept {
    const uint64_t secs =
        start_unix_ns > 0 ? static_cast<uint64_t>(start_unix_ns) / 1'000'000'000 : 0;
    next_ = std::max((secs << kCounterBits) | 1, recovered_max_id + 1);
  }

  // The next id: strictly increasing, never 0.
  [[nodiscard]] uint64_t Next() noexcept { return next_++; }
  // The id Next() will return, without consuming it.
  uint64_t peek() const noexcept { return next_; }
  // Makes sure later ids exceed `id` (an id seen from elsewhere, e.g. during recovery).
  void Observe(uint64_t id) noexcept { next_ = std::max(next_, id + 1); }

 private:
  uint64_t next_;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_CLIENT_ORDER_ID_H_
