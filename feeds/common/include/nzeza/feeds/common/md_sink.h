// MdSink: where a feed decoder puts the events it decodes. The feed stage's sink pushes into the
// ring to the signal stage (RingSink); tests and tools collect them (VectorSink) or apply them to
// books directly.
#ifndef NZEZA_FEEDS_COMMON_MD_SINK_H_
#define NZEZA_FEEDS_COMMON_MD_SINK_H_

#include <cstdint>
#include <vector>

#include "nzeza/core/events.h"
#include "nzeza/core/spsc_ring.h"

namespace nzeza {

class MdSink {
 public:
  virtual ~MdSink() = default;
  // Takes one event. Must not block indefinitely or throw.
  virtual void Push(const MdEvent& ev) noexcept = 0;
};

// Collects events in a vector (tests, tools). Allocates as the vector grows.
class VectorSink final : public MdSink {
 public:
  void Push(const MdEvent& ev) noexcept override { events.push_back(ev); }
  std::vector<MdEvent> events;
};

// Pushes into an SPSC ring with bounded back-pressure (`max_spins` PAUSEs); an event that still
// does not fit is counted as an overrun and dropped, and the next event that does get through
// carries kMdRingOverrun, so the signal stage passes the overrun on to risk, whose breaker trips
// (a full ring cannot carry the news itself). FeedSession (given overruns() through
// FeedSessionOptions::sink_overruns) also answers an overrun with a reconnect, so every book is
// marked disconnected and rebuilt from fresh snapshots.
//
// Thread: the feed stage's (the ring's producer). Allocates: never. Complexity: O(1), at most
// max_spins spins per event.
template <typename Ring>
class RingSink final : public MdSink {
 public:
  explicit RingSink(Ring& ring, uint32_t max_spins = 1u << 14)
      : ring_(ring), max_spins_(max_spins) {}
  void Push(const MdEvent& ev) noexcept override {
    if (!owed_) [[likely]] {
      if (!PushWithBackpressure(ring_, ev, max_spins_)) {
        ++overruns_;
        owed_ = true;
      }
      return;
    }
    MdEvent flagged = ev;
    flagged.flags |= kMdRingOverrun;
    if (PushWithBackpressure(ring_, flagged, max_spins_)) {
      owed_ = false;
    } else {
      ++overruns_;
    }
  }
  uint64_t overruns() const noexcept { return overruns_; }
  // Whether an overrun has not yet been flagged on a delivered event.
  bool overrun_pending() const noexcept { return owed_; }

 private:
  Ring& ring_;
  uint32_t max_spins_;
  uint64_t overruns_ = 0;
  bool owed_ = false;
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_MD_SINK_H_
