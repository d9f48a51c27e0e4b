#include "nzeza/feeds/common/level_batcher.h"

#include <algorithm>

namespace nzeza {

LevelBatcher::LevelBatcher(size_t reserve_per_side) {
  bids_.reserve(reserve_per_side);
  asks_.reserve(reserve_per_side);
}

void LevelBatcher::Begin(Venue venue, InstrumentId instrument, uint64_t venue_seq,
                         int64_t exchange_ns, int64_t recv_ns, bool snapshot) noexcept {
  bids_.clear();
  asks_.clear();
  venue_ = venue;
  instrument_ = instrument;
  venue_seq_ = venue_seq;
  exchange_ns_ = exchange_ns;
  recv_ns_ = recv_ns;
  snapshot_ = snapshot;
}

void LevelBatcher::Commit(MdSink& sink, int64_t decoded_ns) noexcept {
  const size_t total = bids_.size() + asks_.size();
  if (total == 0 && !snapshot_) return;
  MdEvent ev = MdEvent::Levels(venue_, instrument_, venue_seq_);
  ev.exchange_ns = exchange_ns_;
  ev.times.recv_ns = recv_ns_;
  ev.times.decoded_ns = decoded_ns;
  const uint8_t base = snapshot_ ? kMdSnapshot : 0;
  size_t bi = 0;
  size_t ai = 0;
  bool first = true;
  do {
    MdEvent e = ev;
    e.flags = base;
    if (first && snapshot_) e.flags |= kMdSnapshotBegin;
    first = false;
    while (bi < bids_.size() && !e.levels.full()) (void)e.levels.AddBid(bids_[bi++]);
    while (ai < asks_.size() && !e.levels.full()) (void)e.levels.AddAsk(asks_[ai++]);
    if (bi == bids_.size() && ai == asks_.size()) {
      e.flags |= kMdMessageEnd;
      if (snapshot_) e.flags |= kMdSnapshotEnd;
    }
    sink.Push(e);
  } while (bi < bids_.size() || ai < asks_.size());
  bids_.clear();
  asks_.clear();
}

}  // namespace nzeza
