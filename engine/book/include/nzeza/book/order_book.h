// OrderBook: one instrument's L2 book (aggregated price levels), built for the signal stage's hot
// path; BookSide: one side of it.
//
//   nzeza::OrderBook book(instrument, /*depth=*/50);       // allocates 2 x 50 levels, once
//   nzeza::ApplyResult r = book.Apply(event);              // MdEvent from feed-decode
//   if (!r.ok()) { /* count; the book is unchanged */ }
//   MdEvent status;
//   if (nzeza::MakeCrossStatusEvent(book, event, r, &status)) { /* push to risk */ }
//   if (const nzeza::PriceLevel* bid = book.best_bid()) { Use(bid->price, bid->size); }
//
// Design:
// - Each side is a flat array of PriceLevel sorted by price with the best level *last* (bids
//   ascending, asks descending in memory), capacity = the configured depth, allocated once in the
//   constructor. The held levels occupy a window [base, base + size) of the array (a gap buffer
//   with free room at both ends), so a change at rank k (k levels better than it) moves either the
//   k better levels up or the size - k worse ones down, whichever is fewer and has room: a
//   near-the-top change is a memmove of a few levels whatever the depth, and a snapshot that
//   arrives best first (every venue's order) appends each level below the window in O(1), so a
//   whole snapshot loads in O(n), not O(n^2). When the cheap direction has no room the window is
//   re-centred once (O(size)), which leaves room on both sides for the changes that follow; a
//   snapshot's end re-centres too, so the first live updates never pay for it. The best level is
//   the last element of the window: O(1). Readers see levels best first (LevelRange, operator[]
//   by rank). No node-based map: a std::map costs an allocation per new level and a pointer chase
//   per level visited; the array is contiguous and, for the depths a strategy uses (tens to a few
//   hundred), a level change is one short scan plus one memmove of a few cache lines
//   (BM_BookApply* in bench/book/book_benchmark.cc measures both).
// - Venue updates cluster at the top of the book, so a lookup scans the top kLinearScanLevels
//   levels linearly (predictable branches, one or two cache lines) and binary-searches the rest.
// - Depth limit: a side never holds more than its capacity. A new level that would rank beyond
//   the worst kept level of a full side is dropped; one that ranks inside it evicts the worst
//   level. Either way the side becomes *truncated* with a *horizon* price: every venue level
//   strictly better than the horizon is in the side, nothing at or beyond it is known. Later
//   changes at or beyond the horizon are dropped too (even when deletes have made room), so the
//   side is always an exact prefix of the venue's book, never a book with holes. Drops are
//   counted. A snapshot (kMdSnapshotBegin) clears the truncation.
// - State: kEmpty until the first snapshot; kMdSnapshotBegin clears both sides and enters
//   kSnapshotting; level events flagged kMdSnapshot apply; kMdSnapshotEnd makes the book kLive.
//   Status events move the state (see OrderBook::Apply). Incremental level changes are refused
//   while the book is not trusted (kEmpty, kSnapshotting, kGap): applying a diff to an untrusted
//   book would silently corrupt it.
// - An event is applied all or nothing: every level is validated first, so a refused event leaves
//   the book unchanged.
// - Crossing: incremental changes that cross the book are applied (the venue's book is the truth,
//   and some venues, e.g. dYdX, do cross transiently) and reported through ApplyResult so the
//   signal stage can emit MdStatus::kCrossed / kUncrossed for risk (MakeCrossStatusEvent). A
//   snapshot level that would cross is refused (kCrossedSnapshot): a snapshot is one instant and
//   cannot be crossed.
//
// Thread: a book is owned by one thread (the signal stage's); nothing here is synchronised.
// Allocates: only in constructors and copies of a different capacity; Apply and every accessor
// are noexcept and never allocate, lock or make a syscall.
#ifndef NZEZA_BOOK_ORDER_BOOK_H_
#define NZEZA_BOOK_ORDER_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>

#include <nzeza/core/events.h>

namespace nzeza {

// Largest depth (levels per side) a book may be configured with.
inline constexpr uint32_t kMaxBookDepth = 1u << 16;

// Lookups scan this many top levels linearly before binary-searching the rest.
inline constexpr uint32_t kLinearScanLevels = 8;

// Why OrderBook::Apply / BookSet::Apply refused an event. A refused event changes nothing.
enum class BookError : uint8_t {
  kOk = 0,
  kBadPrice,           // a level's price is <= 0
  kBadSize,            // a level's size is < 0 (0 deletes)
  kBadLevelCount,      // num_bids + num_asks > kMaxLevelsPerEvent
  kCrossedSnapshot,    // a snapshot level would leave best bid >= best ask
  kNotSnapshotting,    // kMdSnapshot / kMdSnapshotEnd without a kMdSnapshotBegin before it
  kNotLive,            // an incremental change while kEmpty, kSnapshotting or kGap
  kWrongInstrument,    // OrderBook::Apply: event.instrument is another book's
  kUnknownInstrument,  // BookSet::Apply: no book is configured for event.instrument
};

// "ok", "bad price", ...; "unknown" outside the enum. A static string.
const char* BookErrorName(BookError e) noexcept;

enum class BookState : uint8_t {
  kEmpty = 0,         // no snapshot yet: not trusted
  kSnapshotting = 1,  // inside a kMdSnapshotBegin ... kMdSnapshotEnd run: not trusted
  kLive = 2,          // trusted
  kGap = 3,           // a sequence gap or disconnect: not trusted until a new snapshot
  kStale = 4,         // no data within the staleness budget: levels are old but consistent
};

// "empty", "snapshotting", "live", "gap", "stale"; "unknown" outside the enum.
const char* BookStateName(BookState s) noexcept;

// ApplyResult::changes bits.
enum BookChange : uint8_t {
  kBookBestBidChanged = 1 << 0,  // best bid price or size differs (incl. appearing/vanishing)
  kBookBestAskChanged = 1 << 1,
  kBookBecameCrossed = 1 << 2,    // best bid >= best ask now, and was not before
  kBookBecameUncrossed = 1 << 3,  // the opposite
  kBookStateChanged = 1 << 4,     // state() differs
  kBookTruncated = 1 << 5,        // this event dropped or evicted a level at the depth limit
};

// What one Apply did: an error (nothing changed) or the BookChange bits.
struct [[nodiscard]] ApplyResult {
  BookError error = BookError::kOk;
  uint8_t changes = 0;

  bool ok() const noexcept { return error == BookError::kOk; }
  bool Has(BookChange c) const noexcept { return (changes & c) != 0; }
};

// What BookSide::Set did with one level.
enum class LevelResult : uint8_t {
  kInserted = 0,  // new level
  kUpdated = 1,   // existing level, new size
  kDeleted = 2,   // size 0 removed an existing level
  kAbsent = 3,    // size 0 for a level the side does not hold: nothing to do
  kDropped = 4,   // at or beyond the horizon of a full / truncated side: not stored (counted)
  kEvicted = 5,   // inserted into a full side; its worst level was evicted (counted)
};

// Invariant violations found by OrderBook::Validate (for tests and debug checks).
enum class BookInvariant : uint8_t {
  kOk = 0,
  kUnsorted,       // a side is not strictly sorted best first
  kBadLevel,       // a stored price <= 0 or size <= 0
  kBeyondHorizon,  // a truncated side holds a level at or beyond its horizon
  kCrossed,        // best bid >= best ask (legal after incremental changes: see crossed())
  kCrossedFlag,    // crossed() disagrees with the levels
};

// A side's levels, best first (a view; valid until the side changes).
class LevelRange {
 public:
  using iterator = std::reverse_iterator<const PriceLevel*>;
  LevelRange(const PriceLevel* worst, uint32_t n) noexcept : worst_(worst), n_(n) {}
  iterator begin() const noexcept { return iterator(worst_ + n_); }
  iterator end() const noexcept { return iterator(worst_); }
  uint32_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  // Rank i (0 = best). Precondition: i < size().
  const PriceLevel& operator[](uint32_t i) const noexcept { return worst_[n_ - 1 - i]; }

 private:
  const PriceLevel* worst_;
  uint32_t n_;
};

// One side of a book: levels sorted best first, at most capacity() of them.
// Allocates: in the constructor (capacity levels) and on copy to a side of another capacity.
template <Side kSide>
class BookSide {
 public:
  // True when price `a` ranks before `b` on this side (bids: higher, asks: lower).
  static constexpr bool Better(int64_t a, int64_t b) noexcept {
    if constexpr (kSide == Side::kBuy) {
      return a > b;
    } else {
      return a < b;
    }
  }

  // An empty side holding at most `capacity` levels (clamped to [1, kMaxBookDepth]).
  explicit BookSide(uint32_t capacity)
      : capacity_(Clamp(capacity)), levels_(new PriceLevel[capacity_]) {}
  BookSide(const BookSide& o) : BookSide(o.capacity_) { CopyState(o); }
  // Allocates only when the capacities differ.
  BookSide& operator=(const BookSide& o) {
    if (this == &o) return *this;
    if (capacity_ != o.capacity_) {
      levels_.reset(new PriceLevel[o.capacity_]);
      capacity_ = o.capacity_;
    }
    CopyState(o);
    return *this;
  }
  BookSide(BookSide&&) noexcept = default;
  BookSide& operator=(BookSide&&) noexcept = default;

  uint32_t size() const noexcept { return size_; }
  uint32_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  // The best level, or nullptr when empty. O(1).
  const PriceLevel* best() const noexcept {
    return size_ != 0 ? &levels_[base_ + size_ - 1] : nullptr;
  }
  // The level of rank i (0 = best). Precondition: i < size().
  const PriceLevel& operator[](uint32_t i) const noexcept { return levels_[base_ + size_ - 1 - i]; }
  // All held levels, best first; valid until the next change.
  LevelRange levels() const noexcept { return LevelRange(levels_.get() + base_, size_); }

  // Whether the depth limit has cut this side since the last Clear(); then only levels strictly
  // better than horizon() are known (and all of those are held).
  bool truncated() const noexcept { return truncated_; }
  int64_t horizon() const noexcept { return horizon_; }
  // Levels dropped or evicted at the depth limit, ever.
  uint64_t dropped() const noexcept { return dropped_; }

  // Removes every level and the truncation. O(1). The empty window sits at the top of the array,
  // ready for a snapshot that arrives best first.
  void Clear() noexcept {
    size_ = 0;
    base_ = capacity_;
    truncated_ = false;
    horizon_ = 0;
  }

  // Moves the held levels to the middle of the array, leaving equal room for changes above and
  // below. O(size()). OrderBook calls it at a snapshot's end.
  void Recenter() noexcept {
    const uint32_t target = (capacity_ - size_) / 2;
    if (target == base_) return;
    std::memmove(levels_.get() + target, levels_.get() + base_, size_t{size_} * sizeof(PriceLevel));
    base_ = target;
  }

  // The rank `price` has or would have: the number of held levels strictly better than it.
  // Complexity: O(min(rank, kLinearScanLevels) + log(size())); O(1) beyond the worst level.
  uint32_t Rank(int64_t price) const noexcept {
    if (size_ == 0) return 0;
    const PriceLevel* top = levels_.get() + base_ + size_ - 1;  // rank k is top[-k]
    const uint32_t n = size_;
    const uint32_t lin = n < kLinearScanLevels ? n : kLinearScanLevels;
    for (uint32_t k = 0; k < lin; ++k) {
      if (!Better(top[-static_cast<ptrdiff_t>(k)].price, price)) return k;
    }
    // Worse than the worst held level: a snapshot arriving best first, or a deep change.
    if (Better(top[-static_cast<ptrdiff_t>(n - 1)].price, price)) return n;
    uint32_t lo = lin;
    uint32_t len = n - lin;
    while (len > 0) {
      const uint32_t half = len / 2;
      if (Better(top[-static_cast<ptrdiff_t>(lo + half)].price, price)) {
        lo += half + 1;
        len -= half + 1;
      } else {
        len = half;
      }
    }
    return lo;
  }

  // Sets the level at `price` to absolute `size` (0 deletes). Preconditions (checked by
  // OrderBook::Apply, not here): price > 0, size >= 0.
  // Complexity: Rank plus a memmove of min(rank, size() - rank) levels where the window has room
  // that way; otherwise one re-centring (O(size())), or, on a full side, a memmove of the levels
  // worse than the change.
  LevelResult Set(int64_t price, int64_t size) noexcept {
    if (truncated_ && !Better(price, horizon_)) {
      if (size == 0) return LevelResult::kAbsent;
      ++dropped_;
      return LevelResult::kDropped;
    }
    const uint32_t k = Rank(price);
    if (k < size_) {
      PriceLevel* at = levels_.get() + base_ + size_ - 1 - k;
      if (at->price == price) {
        if (size == 0) {
          Erase(at, k);
          return LevelResult::kDeleted;
        }
        at->size = size;
        return LevelResult::kUpdated;
      }
    }
    if (size == 0) return LevelResult::kAbsent;
    LevelResult result = LevelResult::kInserted;
    if (size_ == capacity_) {
      ++dropped_;
      if (k == size_) {  // beyond the worst kept level
        Truncate(price);
        return LevelResult::kDropped;
      }
      Truncate(levels_[base_].price);  // evict the worst: the window's bottom
      ++base_;
      --size_;
      result = LevelResult::kEvicted;
    }
    Insert(k, PriceLevel{price, size});
    return result;
  }

 private:
  // Inserts `level` at rank k (k <= size_ < capacity_), moving whichever neighbours are fewer
  // and have room.
  void Insert(uint32_t k, PriceLevel level) noexcept {
    const uint32_t worse = size_ - k;
    bool room_up = base_ + size_ < capacity_;
    bool room_down = base_ > 0;
    const bool up_cheaper = k <= worse;
    // The cheap way is blocked: re-centre when that buys room for more than this one change.
    if ((up_cheaper ? !room_up : !room_down) && capacity_ - size_ > 2) {
      Recenter();
      room_up = base_ + size_ < capacity_;
      room_down = base_ > 0;
    }
    PriceLevel* lv = levels_.get();
    if (room_up && (up_cheaper || !room_down)) {
      PriceLevel* at = lv + base_ + worse;  // the better levels [at, top) move up one
      std::memmove(at + 1, at, size_t{k} * sizeof(PriceLevel));
      *at = level;
    } else {
      PriceLevel* bottom = lv + base_;  // the worse levels [bottom, bottom + worse) move down one
      std::memmove(bottom - 1, bottom, size_t{worse} * sizeof(PriceLevel));
      bottom[static_cast<ptrdiff_t>(worse) - 1] = level;
      --base_;
    }
    ++size_;
  }

  // Removes the level `at`, of rank k, closing the hole from the smaller side.
  void Erase(PriceLevel* at, uint32_t k) noexcept {
    const uint32_t worse = size_ - 1 - k;
    if (k <= worse) {
      std::memmove(at, at + 1, size_t{k} * sizeof(PriceLevel));
    } else {
      PriceLevel* bottom = levels_.get() + base_;
      std::memmove(bottom + 1, bottom, size_t{worse} * sizeof(PriceLevel));
      ++base_;
    }
    --size_;
  }

  static uint32_t Clamp(uint32_t c) noexcept {
    return c < 1 ? 1 : (c > kMaxBookDepth ? kMaxBookDepth : c);
  }
  void Truncate(int64_t price) noexcept {
    if (!truncated_ || Better(price, horizon_)) horizon_ = price;
    truncated_ = true;
  }
  void CopyState(const BookSide& o) noexcept {
    size_ = o.size_;
    base_ = o.base_;
    truncated_ = o.truncated_;
    horizon_ = o.horizon_;
    dropped_ = o.dropped_;
    std::memcpy(levels_.get() + base_, o.levels_.get() + o.base_,
                size_t{o.size_} * sizeof(PriceLevel));
  }

  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t base_ = 0;  // the window of held levels is [base_, base_ + size_)
  bool truncated_ = false;
  int64_t horizon_ = 0;
  uint64_t dropped_ = 0;
  std::unique_ptr<PriceLevel[]> levels_;
};

using BidSide = BookSide<Side::kBuy>;
using AskSide = BookSide<Side::kSell>;

// One instrument's L2 book. See the file comment for the design.
// Thread: single owner. Allocates: in the constructor (2 x depth levels) and on copy.
class OrderBook {
 public:
  // An empty book (state kEmpty) for `instrument`, keeping at most `depth` levels per side
  // (clamped to [1, kMaxBookDepth]).
  OrderBook(InstrumentId instrument, uint32_t depth);

  // Applies one market-data event, all or nothing.
  // - kLevels: bids then asks, each an absolute size (0 deletes).
  //   * kMdSnapshotBegin clears both sides and the truncation, enters kSnapshotting, then applies
  //     the levels; kMdSnapshot (without Begin) requires kSnapshotting; kMdSnapshotEnd (after the
  //     levels) makes the book kLive. One event may carry all three flags.
  //   * Without snapshot flags the levels are an incremental change: applied in kLive, and in
  //     kStale (which then becomes kLive: data is flowing again); refused in kEmpty,
  //     kSnapshotting and kGap.
  // - kStatus: kGap and kDisconnected -> kGap (levels kept for inspection, not trusted);
  //   kStale -> kStale from kLive; kResynced -> kLive from kStale (a resync after a gap is the
  //   snapshot run itself); other codes change nothing.
  // - kTrade, kBbo: not book state; kOk, nothing changes.
  // Errors: kWrongInstrument, kBadLevelCount, kBadPrice (price <= 0), kBadSize (size < 0),
  // kNotSnapshotting, kNotLive, kCrossedSnapshot (the snapshot's best bid, counting the levels
  // already in the run and this event's non-zero levels, would be >= its best ask). Each is
  // counted in refused() and leaves the book unchanged.
  // Complexity: per level, BookSide::Set. Allocates: never.
  ApplyResult Apply(const MdEvent& ev) noexcept;

  InstrumentId instrument() const noexcept { return instrument_; }
  uint32_t depth() const noexcept { return bids_.capacity(); }
  BookState state() const noexcept { return state_; }
  // Whether the book is trusted (kLive or kStale).
  bool trusted() const noexcept {
    return state_ == BookState::kLive || state_ == BookState::kStale;
  }
  // Best bid >= best ask (both sides non-empty).
  bool crossed() const noexcept { return crossed_; }

  const BidSide& bids() const noexcept { return bids_; }
  const AskSide& asks() const noexcept { return asks_; }
  // Best level of a side, nullptr when that side is empty. O(1).
  const PriceLevel* best_bid() const noexcept { return bids_.best(); }
  const PriceLevel* best_ask() const noexcept { return asks_.best(); }

  // floor((best bid + best ask) / 2) at the price scale; false (no write) when a side is empty.
  // Exact and overflow-free (128-bit sum); floor also for a crossed book's negative spread.
  [[nodiscard]] bool Mid(int64_t* out) const noexcept;
  // Size-weighted microprice (bid_px * ask_sz + ask_px * bid_sz) / (bid_sz + ask_sz), rounded
  // to the nearest price mantissa, ties up; 128-bit intermediates, so it cannot overflow. It lies
  // between the two best prices. False (no write) when a side is empty.
  [[nodiscard]] bool Microprice(int64_t* out) const noexcept;

  // Events refused by Apply, ever.
  uint64_t refused() const noexcept { return refused_; }
  // Levels dropped or evicted at the depth limit, both sides, ever.
  uint64_t dropped() const noexcept { return bids_.dropped() + asks_.dropped(); }

  // Checks the invariants (sorted, positive prices and sizes, horizon respected, crossed flag).
  // Returns kCrossed when the book is (consistently) crossed. Complexity: O(depth).
  [[nodiscard]] BookInvariant Validate() const noexcept;

 private:
  ApplyResult ApplyLevels(const MdEvent& ev) noexcept;
  ApplyResult ApplyStatus(MdStatus code) noexcept;
  ApplyResult Refuse(BookError e) noexcept {
    ++refused_;
    return ApplyResult{e, 0};
  }
  bool ComputeCrossed() const noexcept {
    return !bids_.empty() && !asks_.empty() && bids_[0].price >= asks_[0].price;
  }

  InstrumentId instrument_;
  BookState state_ = BookState::kEmpty;
  bool crossed_ = false;
  uint64_t refused_ = 0;
  BidSide bids_;
  AskSide asks_;
};

// Builds the MdStatus::kCrossed / kUncrossed event that the signal stage forwards to risk when
// `result` (from book.Apply(cause)) reports a crossing transition. The event keeps cause's venue,
// instrument, venue_seq, exchange_ns and times; status.detail = best bid price - best ask price
// (>= 0 when crossed; 0 when a side is empty). Returns false (no write) when there is no
// transition.
[[nodiscard]] bool MakeCrossStatusEvent(const OrderBook& book, const MdEvent& cause,
                                        ApplyResult result, MdEvent* out) noexcept;

}  // namespace nzeza

#endif  // NZEZA_BOOK_ORDER_BOOK_H_
