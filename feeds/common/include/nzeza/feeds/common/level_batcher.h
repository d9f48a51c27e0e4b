// LevelBatcher: stages the level changes of one venue message, then emits them as MdEvents, all
// or nothing.
//
//   batcher.Begin(Venue::kBinance, instrument, /*seq=*/u, exchange_ns, recv_ns,
//   /*snapshot=*/false); for (each level in the message) {
//     if (!parsed) { batcher.Abort(); return DecodeError::kBadNumber; }   // nothing was emitted
//     batcher.Add(Side::kBuy, {price, size});
//   }
//   batcher.Commit(sink, decoded_ns);   // emits ceil(n / 11) events, the last one kMdMessageEnd
//
// A decoder validates a whole message before anything reaches the book: levels are staged here
// and only Commit() emits them, so a message that fails half-way (bad number, truncated JSON)
// changes nothing downstream.
//
// Emission: bids then asks, 11 levels per event (MdLevels holds bids before asks, so one event
// carries the last bids and the first asks). Order within a side is kept (a level changed twice in
// one message ends with its last value). A snapshot run is flagged kMdSnapshot on every event,
// kMdSnapshotBegin on the first and kMdSnapshotEnd on the last; an empty snapshot is one event with
// no levels and all three flags (the venue's book is empty). Every event carries the message's
// venue_seq, exchange_ns and times.recv_ns; the last carries kMdMessageEnd. An incremental message
// with no levels emits nothing.
//
// Thread: single owner. Allocates: in the constructor (reserve) and when a message has more
// levels than any before it (warm-up, e.g. the first deep snapshot); never otherwise.
#ifndef NZEZA_FEEDS_COMMON_LEVEL_BATCHER_H_
#define NZEZA_FEEDS_COMMON_LEVEL_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nzeza/core/events.h"
#include "nzeza/feeds/common/md_sink.h"

namespace nzeza {

class LevelBatcher {
 public:
  explicit LevelBatcher(size_t reserve_per_side = 1024);

  void Begin(Venue venue, InstrumentId instrument, uint64_t venue_seq, int64_t exchange_ns,
             int64_t recv_ns, bool snapshot) noexcept;
  // Stages one absolute level (size 0 deletes).
  void Add(Side side, PriceLevel level) { (side == Side::kBuy ? bids_ : asks_).push_back(level); }
  // Emits the staged levels (see the file comment) stamped decoded_ns, and clears.
  void Commit(MdSink& sink, int64_t decoded_ns) noexcept;
  // Drops the staged levels; nothing is emitted.
  void Abort() noexcept {
    bids_.clear();
    asks_.clear();
  }

  size_t num_bids() const noexcept { return bids_.size(); }
  size_t num_asks() const noexcept { return asks_.size(); }
  bool snapshot() const noexcept { return snapshot_; }
  InstrumentId instrument() const noexcept { return instrument_; }

 private:
  std::vector<PriceLevel> bids_;
  std::vector<PriceLevel> asks_;
  Venue venue_ = Venue::kUnknown;
  InstrumentId instrument_ = 0;
  uint64_t venue_seq_ = 0;
  int64_t exchange_ns_ = 0;
  int64_t recv_ns_ = 0;
  bool snapshot_ = false;
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_LEVEL_BATCHER_H_
