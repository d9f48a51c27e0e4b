#include <nzeza/book/order_book.h>

namespace nzeza {

const char* BookErrorName(BookError e) noexcept {
  switch (e) {
    case BookError::kOk:
      return "ok";
    case BookError::kBadPrice:
      return "bad price";
    case BookError::kBadSize:
      return "bad size";
    case BookError::kBadLevelCount:
      return "bad level count";
    case BookError::kCrossedSnapshot:
      return "crossed snapshot";
    case BookError::kNotSnapshotting:
      return "not snapshotting";
    case BookError::kNotLive:
      return "not live";
    case BookError::kWrongInstrument:
      return "wrong instrument";
    case BookError::kUnknownInstrument:
      return "unknown instrument";
  }
  return "unknown";
}

const char* BookStateName(BookState s) noexcept {
  switch (s) {
    case BookState::kEmpty:
      return "empty";
    case BookState::kSnapshotting:
      return "snapshotting";
    case BookState::kLive:
      return "live";
    case BookState::kGap:
      return "gap";
    case BookState::kStale:
      return "stale";
  }
  return "unknown";
}

OrderBook::OrderBook(InstrumentId instrument, uint32_t depth)
    : instrument_(instrument), bids_(depth), asks_(depth) {}

ApplyResult OrderBook::Apply(const MdEvent& ev) noexcept {
  if (ev.instrument != instrument_) return Refuse(BookError::kWrongInstrument);
  switch (ev.type) {
    case MdType::kLevels:
      return ApplyLevels(ev);
    case MdType::kStatus:
      return ApplyStatus(ev.status.code);
    case MdType::kTrade:
    case MdType::kBbo:
      break;
  }
  return ApplyResult{};
}

namespace {

inline bool SameLevel(const PriceLevel* a, const PriceLevel& b) noexcept {
  const PriceLevel x = a != nullptr ? *a : PriceLevel{};
  return x.price == b.price && x.size == b.size;
}

}  // namespace

ApplyResult OrderBook::ApplyLevels(const MdEvent& ev) noexcept {
  const MdLevels& in = ev.levels;
  if (in.size() > kMaxLevelsPerEvent) return Refuse(BookError::kBadLevelCount);
  const std::span<const PriceLevel> bids = in.bids();
  const std::span<const PriceLevel> asks = in.asks();
  // Validate everything before touching the book: all or nothing.
  for (const PriceLevel& l : std::span<const PriceLevel>(in.level, in.size())) {
    if (l.price <= 0) return Refuse(BookError::kBadPrice);
    if (l.size < 0) return Refuse(BookError::kBadSize);
  }
  const bool begin = (ev.flags & kMdSnapshotBegin) != 0;
  const bool snapshot = (ev.flags & (kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd)) != 0;
  if (snapshot) {
    if (!begin && state_ != BookState::kSnapshotting) return Refuse(BookError::kNotSnapshotting);
    // The run's best bid and ask after this event (Begin clears what is there now).
    const PriceLevel* bb = begin ? nullptr : bids_.best();
    const PriceLevel* ba = begin ? nullptr : asks_.best();
    bool have_bid = bb != nullptr;
    bool have_ask = ba != nullptr;
    int64_t best_bid = have_bid ? bb->price : 0;
    int64_t best_ask = have_ask ? ba->price : 0;
    for (const PriceLevel& l : bids) {
      if (l.size != 0 && (!have_bid || l.price > best_bid)) {
        best_bid = l.price;
        have_bid = true;
      }
    }
    for (const PriceLevel& l : asks) {
      if (l.size != 0 && (!have_ask || l.price < best_ask)) {
        best_ask = l.price;
        have_ask = true;
      }
    }
    if (have_bid && have_ask && best_bid >= best_ask) return Refuse(BookError::kCrossedSnapshot);
  } else if (state_ != BookState::kLive && state_ != BookState::kStale) {
    return Refuse(BookError::kNotLive);
  }

  const PriceLevel bid0 = bids_.empty() ? PriceLevel{} : bids_[0];
  const PriceLevel ask0 = asks_.empty() ? PriceLevel{} : asks_[0];
  const BookState state0 = state_;
  const bool crossed0 = crossed_;
  const uint64_t dropped0 = dropped();

  if (begin) {
    bids_.Clear();
    asks_.Clear();
    state_ = BookState::kSnapshotting;
  }
  for (const PriceLevel& l : bids) (void)bids_.Set(l.price, l.size);
  for (const PriceLevel& l : asks) (void)asks_.Set(l.price, l.size);
  if ((ev.flags & kMdSnapshotEnd) != 0) {
    state_ = BookState::kLive;
    bids_.Recenter();  // room on both sides for the live changes to come
    asks_.Recenter();
  } else if (!snapshot) {
    state_ = BookState::kLive;  // from kLive or kStale
  }
  crossed_ = ComputeCrossed();

  uint8_t changes = 0;
  if (!SameLevel(bids_.best(), bid0)) changes |= kBookBestBidChanged;
  if (!SameLevel(asks_.best(), ask0)) changes |= kBookBestAskChanged;
  if (crossed_ && !crossed0) changes |= kBookBecameCrossed;
  if (!crossed_ && crossed0) changes |= kBookBecameUncrossed;
  if (state_ != state0) changes |= kBookStateChanged;
  if (dropped() != dropped0) changes |= kBookTruncated;
  return ApplyResult{BookError::kOk, changes};
}

ApplyResult OrderBook::ApplyStatus(MdStatus code) noexcept {
  const BookState state0 = state_;
  switch (code) {
    case MdStatus::kGap:
    case MdStatus::kDisconnected:
      state_ = BookState::kGap;
      break;
    case MdStatus::kStale:
      if (state_ == BookState::kLive) state_ = BookState::kStale;
      break;
    case MdStatus::kResynced:
      if (state_ == BookState::kStale) state_ = BookState::kLive;
      break;
    case MdStatus::kConnected:
    case MdStatus::kCrossed:
    case MdStatus::kUncrossed:
    case MdStatus::kDecodeError:
      break;
  }
  return ApplyResult{BookError::kOk,
                     static_cast<uint8_t>(state_ != state0 ? kBookStateChanged : 0)};
}

bool OrderBook::Mid(int64_t* out) const noexcept {
  if (bids_.empty() || asks_.empty()) return false;
  const __int128 sum = static_cast<__int128>(bids_[0].price) + asks_[0].price;
  *out = static_cast<int64_t>(sum >> 1);  // arithmetic shift: floor
  return true;
}

bool OrderBook::Microprice(int64_t* out) const noexcept {
  if (bids_.empty() || asks_.empty()) return false;
  const PriceLevel b = bids_[0];
  const PriceLevel a = asks_[0];
  // Sizes and prices are positive, so the numerator is non-negative and < 2^127.
  const __int128 num =
      static_cast<__int128>(b.price) * a.size + static_cast<__int128>(a.price) * b.size;
  const __int128 den = static_cast<__int128>(a.size) + b.size;
  *out = static_cast<int64_t>((num + den / 2) / den);
  return true;
}

namespace {

template <Side kSide>
BookInvariant ValidateSide(const BookSide<kSide>& side) noexcept {
  if (side.size() > side.capacity()) return BookInvariant::kUnsorted;
  const LevelRange levels = side.levels();
  for (uint32_t i = 0; i < levels.size(); ++i) {
    if (levels[i].price <= 0 || levels[i].size <= 0) return BookInvariant::kBadLevel;
    if (i > 0 && !BookSide<kSide>::Better(levels[i - 1].price, levels[i].price)) {
      return BookInvariant::kUnsorted;
    }
    if (side.truncated() && !BookSide<kSide>::Better(levels[i].price, side.horizon())) {
      return BookInvariant::kBeyondHorizon;
    }
  }
  return BookInvariant::kOk;
}

}  // namespace

BookInvariant OrderBook::Validate() const noexcept {
  if (BookInvariant r = ValidateSide(bids_); r != BookInvariant::kOk) return r;
  if (BookInvariant r = ValidateSide(asks_); r != BookInvariant::kOk) return r;
  const bool crossed = ComputeCrossed();
  if (crossed != crossed_) return BookInvariant::kCrossedFlag;
  return crossed ? BookInvariant::kCrossed : BookInvariant::kOk;
}

bool MakeCrossStatusEvent(const OrderBook& book, const MdEvent& cause, ApplyResult result,
                          MdEvent* out) noexcept {
  if (!result.ok() || !(result.Has(kBookBecameCrossed) || result.Has(kBookBecameUncrossed))) {
    return false;
  }
  MdStatusInfo info;
  info.code = result.Has(kBookBecameCrossed) ? MdStatus::kCrossed : MdStatus::kUncrossed;
  const PriceLevel* bb = book.best_bid();
  const PriceLevel* ba = book.best_ask();
  info.detail = (bb != nullptr && ba != nullptr) ? bb->price - ba->price : 0;
  MdEvent e = MdEvent::Status(cause.venue, cause.instrument, info);
  e.venue_seq = cause.venue_seq;
  e.exchange_ns = cause.exchange_ns;
  e.times = cause.times;
  *out = e;
  return true;
}

}  // namespace nzeza
