// Tests of nzeza::OrderBook and nzeza::BookSet: level operations at every position, snapshot
// bracketing, state moves, crossing, the depth limit, refused inputs, a randomized comparison
// with a std::map book, no allocation after warm-up, and a golden test on a real Binance
// recording (NKNUSDT depth diffs on top of the REST snapshot).
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nzeza/book/book_set.h>
#include <nzeza/book/order_book.h>
#include <nzeza/core/decimal.h>
#include <nzeza/core/events.h>

#include "../../common/counting_allocator.h"

namespace nzeza {

bool operator==(const PriceLevel& a, const PriceLevel& b) {
  return a.price == b.price && a.size == b.size;
}
void PrintTo(const PriceLevel& l, std::ostream* os) {
  *os << "{" << l.price << ", " << l.size << "}";
}

namespace {

constexpr InstrumentId kId = 7;

using Levels = std::vector<PriceLevel>;

MdEvent Ev(const Levels& bids, const Levels& asks, uint8_t flags = 0, InstrumentId id = kId) {
  MdEvent e = MdEvent::Levels(Venue::kBinance, id, 1);
  e.flags = flags;
  for (const PriceLevel& l : bids) EXPECT_TRUE(e.levels.AddBid(l));
  for (const PriceLevel& l : asks) EXPECT_TRUE(e.levels.AddAsk(l));
  return e;
}

constexpr uint8_t kWholeSnapshot = kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd;

MdEvent Status(MdStatus code, InstrumentId id = kId) {
  MdStatusInfo s;
  s.code = code;
  return MdEvent::Status(Venue::kBinance, id, s);
}

Levels Vec(const LevelRange& r) { return Levels(r.begin(), r.end()); }

// A live book holding the given levels.
OrderBook LiveBook(uint32_t depth, const Levels& bids, const Levels& asks) {
  OrderBook book(kId, depth);
  EXPECT_TRUE(book.Apply(Ev(bids, asks, kWholeSnapshot)).ok());
  EXPECT_EQ(book.state(), BookState::kLive);
  return book;
}

const Levels kBids = {{50, 1}, {40, 2}, {30, 3}, {20, 4}, {10, 5}};
const Levels kAsks = {{60, 1}, {70, 2}, {80, 3}, {90, 4}, {100, 5}};

TEST(OrderBook, StartsEmptyAndRefusesIncrementalChanges) {
  OrderBook book(kId, 10);
  EXPECT_EQ(book.state(), BookState::kEmpty);
  EXPECT_EQ(book.best_bid(), nullptr);
  EXPECT_EQ(book.best_ask(), nullptr);
  EXPECT_EQ(book.Apply(Ev({{10, 1}}, {})).error, BookError::kNotLive);
  EXPECT_TRUE(book.bids().empty());
  EXPECT_EQ(book.refused(), 1u);
}

TEST(OrderBook, SnapshotBeginClearsEndGoesLive) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ApplyResult r = book.Apply(Ev({{45, 9}}, {}, kMdSnapshot | kMdSnapshotBegin));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_TRUE(r.Has(kBookBestBidChanged));
  EXPECT_TRUE(r.Has(kBookBestAskChanged));
  EXPECT_EQ(book.state(), BookState::kSnapshotting);
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{45, 9}}));
  EXPECT_TRUE(book.asks().empty());
  // Incremental changes are refused inside the run.
  EXPECT_EQ(book.Apply(Ev({{44, 1}}, {})).error, BookError::kNotLive);
  ASSERT_TRUE(book.Apply(Ev({{44, 1}}, {{55, 2}}, kMdSnapshot)).ok());
  r = book.Apply(Ev({}, {{56, 3}}, kMdSnapshot | kMdSnapshotEnd));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{45, 9}, {44, 1}}));
  EXPECT_EQ(Vec(book.asks().levels()), (Levels{{55, 2}, {56, 3}}));
  EXPECT_EQ(book.Validate(), BookInvariant::kOk);
}

TEST(OrderBook, SnapshotContinuationWithoutBeginIsRefused) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  EXPECT_EQ(book.Apply(Ev({{45, 1}}, {}, kMdSnapshot)).error, BookError::kNotSnapshotting);
  EXPECT_EQ(book.Apply(Ev({}, {}, kMdSnapshotEnd)).error, BookError::kNotSnapshotting);
  EXPECT_EQ(Vec(book.bids().levels()), kBids);
  EXPECT_EQ(book.state(), BookState::kLive);
}

TEST(OrderBook, InsertAtEveryPosition) {
  // Positions 0..5 on each side: before the best, between each pair, after the worst.
  for (int pos = 0; pos <= 5; ++pos) {
    OrderBook book = LiveBook(10, kBids, kAsks);
    const int64_t bid_px = 55 - 10 * pos;  // 55, 45, ..., 5
    const int64_t ask_px = 56 + 10 * pos;  // 56, 66, ..., 106: never crosses bid 55
    ApplyResult r = book.Apply(Ev({{bid_px, 7}}, {{ask_px, 8}}));
    ASSERT_TRUE(r.ok()) << pos;
    Levels bids = kBids;
    bids.insert(bids.begin() + pos, PriceLevel{bid_px, 7});
    Levels asks = kAsks;
    asks.insert(asks.begin() + pos, PriceLevel{ask_px, 8});
    EXPECT_EQ(Vec(book.bids().levels()), bids) << pos;
    EXPECT_EQ(Vec(book.asks().levels()), asks) << pos;
    EXPECT_EQ(*book.best_bid(), bids[0]);
    EXPECT_EQ(*book.best_ask(), asks[0]);
    EXPECT_EQ(r.Has(kBookBestBidChanged), pos == 0);
    EXPECT_EQ(r.Has(kBookBestAskChanged), pos == 0);
    EXPECT_FALSE(r.Has(kBookBecameCrossed));
    EXPECT_EQ(book.Validate(), BookInvariant::kOk);
  }
}

TEST(OrderBook, UpdateAtEveryPosition) {
  for (size_t pos = 0; pos < kBids.size(); ++pos) {
    OrderBook book = LiveBook(10, kBids, kAsks);
    ApplyResult r = book.Apply(Ev({{kBids[pos].price, 99}}, {{kAsks[pos].price, 98}}));
    ASSERT_TRUE(r.ok());
    Levels bids = kBids;
    bids[pos].size = 99;
    Levels asks = kAsks;
    asks[pos].size = 98;
    EXPECT_EQ(Vec(book.bids().levels()), bids);
    EXPECT_EQ(Vec(book.asks().levels()), asks);
    EXPECT_EQ(r.Has(kBookBestBidChanged), pos == 0);
    EXPECT_EQ(r.Has(kBookBestAskChanged), pos == 0);
    EXPECT_EQ(book.best_bid()->size, pos == 0 ? 99 : 1);
  }
}

TEST(OrderBook, CancelRemovesEmptyLevel) {
  for (size_t pos = 0; pos < kBids.size(); ++pos) {
    OrderBook book = LiveBook(10, kBids, kAsks);
    ApplyResult r = book.Apply(Ev({{kBids[pos].price, 0}}, {{kAsks[pos].price, 0}}));
    ASSERT_TRUE(r.ok());
    Levels bids = kBids;
    bids.erase(bids.begin() + static_cast<ptrdiff_t>(pos));
    Levels asks = kAsks;
    asks.erase(asks.begin() + static_cast<ptrdiff_t>(pos));
    EXPECT_EQ(Vec(book.bids().levels()), bids);
    EXPECT_EQ(Vec(book.asks().levels()), asks);
    EXPECT_EQ(*book.best_bid(), bids[0]);
    EXPECT_EQ(*book.best_ask(), asks[0]);
    EXPECT_EQ(r.Has(kBookBestBidChanged), pos == 0);
    EXPECT_EQ(book.Validate(), BookInvariant::kOk);
  }
}

TEST(OrderBook, CancelLastLevelEmptiesSide) {
  OrderBook book = LiveBook(10, {{50, 1}}, {{60, 1}});
  ApplyResult r = book.Apply(Ev({{50, 0}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookBestBidChanged));
  EXPECT_EQ(book.best_bid(), nullptr);
  int64_t mid;
  EXPECT_FALSE(book.Mid(&mid));
}

TEST(OrderBook, DeleteOfAbsentLevelChangesNothing) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ApplyResult r = book.Apply(Ev({{45, 0}, {5, 0}, {55, 0}}, {{65, 0}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.changes, 0);
  EXPECT_EQ(Vec(book.bids().levels()), kBids);
  EXPECT_EQ(Vec(book.asks().levels()), kAsks);
}

TEST(OrderBook, LevelsWithinOneEventApplyInOrder) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ASSERT_TRUE(book.Apply(Ev({{45, 1}, {45, 0}, {35, 2}, {35, 3}}, {})).ok());
  EXPECT_EQ(Vec(book.bids().levels()),
            (Levels{{50, 1}, {40, 2}, {35, 3}, {30, 3}, {20, 4}, {10, 5}}));
}

TEST(OrderBook, CrossedDetectionAndUncross) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  MdEvent cross = Ev({{60, 5}}, {});
  cross.venue_seq = 42;
  cross.times.recv_ns = 1234;
  ApplyResult r = book.Apply(cross);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(book.crossed());
  EXPECT_TRUE(r.Has(kBookBecameCrossed));
  EXPECT_FALSE(r.Has(kBookBecameUncrossed));
  EXPECT_EQ(book.Validate(), BookInvariant::kCrossed);
  MdEvent status;
  ASSERT_TRUE(MakeCrossStatusEvent(book, cross, r, &status));
  EXPECT_EQ(status.type, MdType::kStatus);
  EXPECT_EQ(status.status.code, MdStatus::kCrossed);
  EXPECT_EQ(status.instrument, kId);
  EXPECT_EQ(status.venue, Venue::kBinance);
  EXPECT_EQ(status.venue_seq, 42u);
  EXPECT_EQ(status.times.recv_ns, 1234);
  EXPECT_EQ(status.status.detail, 0);  // bid 60 - ask 60

  // Still crossed: no new transition.
  r = book.Apply(Ev({{61, 1}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.Has(kBookBecameCrossed));
  EXPECT_FALSE(MakeCrossStatusEvent(book, cross, r, &status));

  r = book.Apply(Ev({{60, 0}, {61, 0}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(book.crossed());
  EXPECT_TRUE(r.Has(kBookBecameUncrossed));
  ASSERT_TRUE(MakeCrossStatusEvent(book, cross, r, &status));
  EXPECT_EQ(status.status.code, MdStatus::kUncrossed);
  EXPECT_EQ(status.status.detail, 50 - 60);
  EXPECT_EQ(book.Validate(), BookInvariant::kOk);
}

TEST(OrderBook, SnapshotBeginUncrossesACrossedBook) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ASSERT_TRUE(book.Apply(Ev({}, {{45, 1}})).ok());
  ASSERT_TRUE(book.crossed());
  ApplyResult r = book.Apply(Ev(kBids, kAsks, kWholeSnapshot));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookBecameUncrossed));
  EXPECT_FALSE(book.crossed());
}

TEST(OrderBook, SnapshotLevelThatWouldCrossIsRefused) {
  OrderBook book(kId, 10);
  // Within one event.
  EXPECT_EQ(book.Apply(Ev({{60, 1}}, {{60, 1}}, kWholeSnapshot)).error,
            BookError::kCrossedSnapshot);
  EXPECT_EQ(book.state(), BookState::kEmpty);
  // Against the levels already in the run.
  ASSERT_TRUE(book.Apply(Ev({{50, 1}}, {}, kMdSnapshot | kMdSnapshotBegin)).ok());
  EXPECT_EQ(book.Apply(Ev({}, {{49, 1}}, kMdSnapshot)).error, BookError::kCrossedSnapshot);
  EXPECT_EQ(book.Apply(Ev({}, {{50, 1}}, kMdSnapshot)).error, BookError::kCrossedSnapshot);
  EXPECT_TRUE(book.asks().empty());
  EXPECT_EQ(book.state(), BookState::kSnapshotting);
  ASSERT_TRUE(book.Apply(Ev({}, {{51, 1}}, kMdSnapshot | kMdSnapshotEnd)).ok());
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(book.Validate(), BookInvariant::kOk);
}

TEST(OrderBook, DepthLimitDropsBeyondWorstAndEvictsInside) {
  OrderBook book = LiveBook(3, {{50, 1}, {40, 2}, {30, 3}}, {{60, 1}});
  EXPECT_FALSE(book.bids().truncated());
  // Beyond the worst kept level of a full side: dropped, counted, side truncated at 25.
  ApplyResult r = book.Apply(Ev({{25, 9}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookTruncated));
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{50, 1}, {40, 2}, {30, 3}}));
  EXPECT_TRUE(book.bids().truncated());
  EXPECT_EQ(book.bids().horizon(), 25);
  EXPECT_EQ(book.dropped(), 1u);
  // Inside: the worst (30) is evicted; the horizon moves to 30.
  r = book.Apply(Ev({{45, 7}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookTruncated));
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{50, 1}, {45, 7}, {40, 2}}));
  EXPECT_EQ(book.bids().horizon(), 30);
  EXPECT_EQ(book.dropped(), 2u);
  // A delete makes room, but a level at or beyond the horizon is still unknown territory.
  ASSERT_TRUE(book.Apply(Ev({{50, 0}}, {})).ok());
  r = book.Apply(Ev({{30, 3}, {35, 4}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{45, 7}, {40, 2}, {35, 4}}));
  EXPECT_EQ(book.dropped(), 3u);
  EXPECT_EQ(book.Validate(), BookInvariant::kOk);
  // A snapshot clears the truncation.
  ASSERT_TRUE(book.Apply(Ev({{50, 1}}, {{60, 1}}, kWholeSnapshot)).ok());
  EXPECT_FALSE(book.bids().truncated());
  EXPECT_EQ(book.depth(), 3u);
}

TEST(OrderBook, SnapshotDeeperThanDepthKeepsTheBest) {
  OrderBook book(kId, 2);
  // Worst first: every later level evicts.
  ASSERT_TRUE(book.Apply(Ev({{10, 1}, {20, 1}, {30, 1}, {40, 1}}, {{90, 1}, {80, 1}, {70, 1}},
                            kWholeSnapshot))
                  .ok());
  EXPECT_EQ(Vec(book.bids().levels()), (Levels{{40, 1}, {30, 1}}));
  EXPECT_EQ(Vec(book.asks().levels()), (Levels{{70, 1}, {80, 1}}));
  EXPECT_EQ(book.bids().horizon(), 20);
  EXPECT_EQ(book.asks().horizon(), 90);
  EXPECT_EQ(book.Validate(), BookInvariant::kOk);
}

TEST(OrderBook, BadInputsLeaveBookUnchanged) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  const uint64_t refused0 = book.refused();
  struct Case {
    MdEvent ev;
    BookError want;
  };
  MdEvent too_many = Ev({{45, 1}}, {});
  too_many.levels.num_bids = 12;
  const Case cases[] = {
      {Ev({{45, 1}, {0, 5}}, {}), BookError::kBadPrice},
      {Ev({{45, 1}}, {{-65, 5}}), BookError::kBadPrice},
      {Ev({{45, 1}, {44, -1}}, {}), BookError::kBadSize},
      {Ev({{45, 1}}, {{65, -5}}), BookError::kBadSize},
      {Ev({{45, 0}}, {{INT64_MIN, 1}}), BookError::kBadPrice},
      {too_many, BookError::kBadLevelCount},
      {Ev({{45, 1}}, {}, 0, kId + 1), BookError::kWrongInstrument},
      {Ev({{45, 1}, {0, 1}}, {}, kWholeSnapshot), BookError::kBadPrice},
  };
  for (const Case& c : cases) {
    ApplyResult r = book.Apply(c.ev);
    EXPECT_EQ(r.error, c.want) << BookErrorName(c.want);
    EXPECT_EQ(r.changes, 0);
    EXPECT_EQ(Vec(book.bids().levels()), kBids);
    EXPECT_EQ(Vec(book.asks().levels()), kAsks);
    EXPECT_EQ(book.state(), BookState::kLive);
  }
  EXPECT_EQ(book.refused(), refused0 + std::size(cases));
}

TEST(OrderBook, GapRefusesChangesUntilResyncSnapshot) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ApplyResult r = book.Apply(Status(MdStatus::kGap));
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_EQ(book.state(), BookState::kGap);
  EXPECT_FALSE(book.trusted());
  EXPECT_EQ(book.Apply(Ev({{45, 1}}, {})).error, BookError::kNotLive);
  EXPECT_EQ(Vec(book.bids().levels()), kBids);
  // kResynced alone does not make a gapped book trusted: the snapshot does.
  (void)book.Apply(Status(MdStatus::kResynced));
  EXPECT_EQ(book.state(), BookState::kGap);
  ASSERT_TRUE(book.Apply(Ev({{45, 1}}, {{55, 1}}, kWholeSnapshot)).ok());
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_TRUE(book.Apply(Ev({{44, 1}}, {})).ok());
  // A disconnect is a gap too.
  (void)book.Apply(Status(MdStatus::kDisconnected));
  EXPECT_EQ(book.state(), BookState::kGap);
}

TEST(OrderBook, StaleBookGoesLiveOnDataOrResync) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ApplyResult r = book.Apply(Status(MdStatus::kStale));
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_EQ(book.state(), BookState::kStale);
  EXPECT_TRUE(book.trusted());
  r = book.Apply(Ev({{45, 1}}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_EQ(book.state(), BookState::kLive);
  (void)book.Apply(Status(MdStatus::kStale));
  r = book.Apply(Status(MdStatus::kResynced));
  EXPECT_TRUE(r.Has(kBookStateChanged));
  EXPECT_EQ(book.state(), BookState::kLive);
  // Stale does not hide a gap.
  (void)book.Apply(Status(MdStatus::kGap));
  (void)book.Apply(Status(MdStatus::kStale));
  EXPECT_EQ(book.state(), BookState::kGap);
}

TEST(OrderBook, TradesAndBboDoNotTouchTheBook) {
  OrderBook book = LiveBook(10, kBids, kAsks);
  ApplyResult r = book.Apply(MdEvent::Trade(Venue::kBinance, kId, MdTrade{55, 1, 1, Side::kBuy}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.changes, 0);
  r = book.Apply(MdEvent::Bbo(Venue::kBinance, kId, MdBbo{1, 1, 2, 2}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(Vec(book.bids().levels()), kBids);
}

TEST(OrderBook, MidAndMicroprice) {
  OrderBook book = LiveBook(10, {{100, 1}}, {{103, 1}});
  int64_t v = 0;
  ASSERT_TRUE(book.Mid(&v));
  EXPECT_EQ(v, 101);  // floor(101.5)
  ASSERT_TRUE(book.Microprice(&v));
  EXPECT_EQ(v, 102);  // 101.5 rounds half up
  // Heavy bid: microprice leans to the ask. (100*3 + 103*1) / 4 = 100.75 -> 101.
  book = LiveBook(10, {{100, 1}}, {{103, 3}});
  ASSERT_TRUE(book.Microprice(&v));
  EXPECT_EQ(v, 101);
  book = LiveBook(10, {{100, 3}}, {{103, 1}});
  ASSERT_TRUE(book.Microprice(&v));
  EXPECT_EQ(v, 102);  // 102.25 -> 102
  // No overflow near the top of the range.
  const int64_t big = INT64_MAX - 10;
  book = LiveBook(10, {{big - 1, INT64_MAX}}, {{big, INT64_MAX}});
  ASSERT_TRUE(book.Mid(&v));
  EXPECT_EQ(v, big - 1);
  ASSERT_TRUE(book.Microprice(&v));
  EXPECT_EQ(v, big);  // big - 0.5 rounds half up
  OrderBook empty(kId, 4);
  EXPECT_FALSE(empty.Mid(&v));
  EXPECT_FALSE(empty.Microprice(&v));
}

TEST(OrderBook, CopyIsDeep) {
  OrderBook a = LiveBook(10, kBids, kAsks);
  OrderBook b = a;
  ASSERT_TRUE(b.Apply(Ev({{50, 0}}, {})).ok());
  EXPECT_EQ(Vec(a.bids().levels()), kBids);
  EXPECT_EQ(b.bids().size(), kBids.size() - 1);
  a = b;
  EXPECT_EQ(Vec(a.bids().levels()), Vec(b.bids().levels()));
}

TEST(BookSet, CreateRejectsBadConfig) {
  const BookConfig zero[] = {{1, 0}};
  EXPECT_FALSE(BookSet::Create(zero).ok());
  const BookConfig deep[] = {{1, kMaxBookDepth + 1}};
  EXPECT_FALSE(BookSet::Create(deep).ok());
  const BookConfig dup[] = {{1, 5}, {1, 6}};
  absl::StatusOr<BookSet> s = BookSet::Create(dup);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("listed twice"), std::string_view::npos);
  const BookConfig big_id[] = {{kMaxBookInstrumentId + 1, 5}};
  EXPECT_FALSE(BookSet::Create(big_id).ok());
}

TEST(BookSet, RoutesByInstrumentAndRefusesUnknown) {
  const BookConfig configs[] = {{kId, 5}, {2, 3}};
  absl::StatusOr<BookSet> set = BookSet::Create(configs);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->Find(2)->depth(), 3u);
  EXPECT_EQ(set->Find(kId)->depth(), 5u);
  EXPECT_EQ(set->Find(0), nullptr);
  EXPECT_EQ(set->Find(1000), nullptr);
  ASSERT_TRUE(set->Apply(Ev(kBids, kAsks, kWholeSnapshot, kId)).ok());
  ASSERT_TRUE(set->Apply(Ev({{5, 1}}, {{6, 1}}, kWholeSnapshot, 2)).ok());
  EXPECT_EQ(set->Find(kId)->best_bid()->price, 50);
  EXPECT_EQ(set->Find(2)->best_bid()->price, 5);
  EXPECT_EQ(set->Apply(Ev({{5, 1}}, {}, 0, 3)).error, BookError::kUnknownInstrument);
  EXPECT_EQ(set->Apply(Ev({{5, 1}}, {}, 0, 99999)).error, BookError::kUnknownInstrument);
  EXPECT_EQ(set->unknown_instrument(), 2u);
  EXPECT_EQ(Vec(set->Find(kId)->bids().levels()), kBids);
}

// ---------------------------------------------------------------------------------------------
// Reference book: a std::map per side holding every level, unlimited depth.

struct RefBook {
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;

  void Set(Side side, int64_t price, int64_t size) {
    if (side == Side::kBuy) {
      size == 0 ? (void)bids.erase(price) : (void)(bids[price] = size);
    } else {
      size == 0 ? (void)asks.erase(price) : (void)(asks[price] = size);
    }
  }
  void Apply(const MdEvent& e) {
    if ((e.flags & kMdSnapshotBegin) != 0) {
      bids.clear();
      asks.clear();
    }
    for (const PriceLevel& l : e.levels.bids()) Set(Side::kBuy, l.price, l.size);
    for (const PriceLevel& l : e.levels.asks()) Set(Side::kSell, l.price, l.size);
  }
};

// The levels of `ref` a side must hold: all of them, or those strictly better than its horizon.
template <Side kSide, typename Map>
Levels Expected(const Map& ref, const BookSide<kSide>& side) {
  Levels out;
  for (const auto& [price, size] : ref) {
    if (side.truncated() && !BookSide<kSide>::Better(price, side.horizon())) break;
    out.push_back({price, size});
  }
  return out;
}

// Compares the book with the reference; returns false (with a gtest failure) on mismatch.
bool SameAsRef(const OrderBook& book, const RefBook& ref, uint32_t depth) {
  const Levels bids = Expected(ref.bids, book.bids());
  const Levels asks = Expected(ref.asks, book.asks());
  bool ok = true;
  ok &= bids.size() <= depth && asks.size() <= depth;
  ok &= Vec(book.bids().levels()) == bids;
  ok &= Vec(book.asks().levels()) == asks;
  ok &= book.bids().truncated() || ref.bids.size() <= depth;
  ok &= book.asks().truncated() || ref.asks.size() <= depth;
  const bool crossed = !bids.empty() && !asks.empty() && bids[0].price >= asks[0].price;
  ok &= book.crossed() == crossed;
  const BookInvariant inv = book.Validate();
  ok &= inv == (crossed ? BookInvariant::kCrossed : BookInvariant::kOk);
  EXPECT_TRUE(ok) << "depth " << depth;
  return ok;
}

// Builds a bracketed snapshot run of `bids` and `asks` (in the given order), ≤ 11 levels per event.
std::vector<MdEvent> SnapshotRun(const Levels& bids, const Levels& asks) {
  std::vector<MdEvent> run;
  MdEvent e = MdEvent::Levels(Venue::kBinance, kId, 0);
  e.flags = kMdSnapshot | kMdSnapshotBegin;
  auto flush = [&] {
    run.push_back(e);
    e = MdEvent::Levels(Venue::kBinance, kId, 0);
    e.flags = kMdSnapshot;
  };
  for (const PriceLevel& l : bids) {
    if (e.levels.full()) flush();
    (void)e.levels.AddBid(l);
  }
  for (const PriceLevel& l : asks) {
    if (e.levels.full()) flush();
    (void)e.levels.AddAsk(l);
  }
  e.flags |= kMdSnapshotEnd;
  run.push_back(e);
  return run;
}

TEST(OrderBook, RandomizedAgainstStdMap) {
  constexpr int kOpsPerDepth = 50'000;
  int total_ops = 0;
  int crossings = 0;
  int truncations = 0;
  int refusals = 0;
  for (uint32_t depth : {1u, 3u, 8u, 20u, 100u}) {
    std::mt19937_64 rng(0x5eed0000 + depth);
    auto rnd = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
    OrderBook book(kId, depth);
    RefBook ref;
    auto resnapshot = [&] {
      Levels bids;
      Levels asks;
      const int64_t nb = rnd(2 * depth + 6);
      const int64_t na = rnd(2 * depth + 6);
      for (int64_t i = 0; i < nb; ++i) bids.push_back({999 - rnd(150), 1 + rnd(1000)});
      for (int64_t i = 0; i < na; ++i) asks.push_back({1001 + rnd(150), 1 + rnd(1000)});
      for (const MdEvent& e : SnapshotRun(bids, asks)) {
        ASSERT_TRUE(book.Apply(e).ok());
        ref.Apply(e);
      }
      ASSERT_EQ(book.state(), BookState::kLive);
    };
    resnapshot();
    for (int op = 0; op < kOpsPerDepth; ++op, ++total_ops) {
      const int64_t kind = rnd(1000);
      if (kind < 5) {
        resnapshot();
        if (!SameAsRef(book, ref, depth)) return;
        continue;
      }
      if (kind < 8) {  // a gap: refused until the resync snapshot
        ASSERT_TRUE(book.Apply(Status(MdStatus::kGap)).ok());
        ASSERT_EQ(book.Apply(Ev({{999, 1}}, {})).error, BookError::kNotLive);
        resnapshot();
        if (!SameAsRef(book, ref, depth)) return;
        continue;
      }
      MdEvent e = MdEvent::Levels(Venue::kBinance, kId, static_cast<uint64_t>(op));
      const int64_t n = 1 + rnd(4);
      bool bad = false;
      for (int64_t i = 0; i < n; ++i) {
        const Side side =
            (i == 0 || e.levels.num_asks == 0) && rnd(2) == 0 ? Side::kBuy : Side::kSell;
        const bool bid = side == Side::kBuy;
        int64_t price;
        int64_t size = rnd(10) < 3 ? 0 : 1 + rnd(1000);
        const int64_t where = rnd(100);
        if (where < 25 && (bid ? !ref.bids.empty() : !ref.asks.empty())) {
          // An existing level (mostly deletes and updates near the top).
          const int64_t k = rnd(std::min<int64_t>(12, bid ? ref.bids.size() : ref.asks.size()));
          price =
              bid ? std::next(ref.bids.begin(), k)->first : std::next(ref.asks.begin(), k)->first;
        } else if (where < 85) {
          const int64_t top = bid ? (ref.bids.empty() ? 999 : ref.bids.begin()->first)
                                  : (ref.asks.empty() ? 1001 : ref.asks.begin()->first);
          price = bid ? top + 2 - rnd(12) : top - 2 + rnd(12);
        } else {
          price = bid ? 999 - rnd(300) : 1001 + rnd(300);
        }
        price = std::clamp<int64_t>(price, 1, 3000);
        if (rnd(1000) < 3) {
          bad = true;
          if (rnd(2) == 0) {
            price = -rnd(3);
          } else {
            size = -1 - rnd(5);
          }
        }
        ASSERT_TRUE(e.levels.Add(side, {price, size}));
      }
      const PriceLevel* bb = book.best_bid();
      const PriceLevel* ba = book.best_ask();
      const PriceLevel bid0 = bb ? *bb : PriceLevel{};
      const PriceLevel ask0 = ba ? *ba : PriceLevel{};
      const bool crossed0 = book.crossed();
      const ApplyResult r = book.Apply(e);
      crossings += r.Has(kBookBecameCrossed) ? 1 : 0;
      truncations += r.Has(kBookTruncated) ? 1 : 0;
      if (bad) {
        ++refusals;
        ASSERT_FALSE(r.ok());
        ASSERT_EQ(r.changes, 0);
      } else {
        ASSERT_TRUE(r.ok()) << BookErrorName(r.error);
        ref.Apply(e);
        bb = book.best_bid();
        ba = book.best_ask();
        ASSERT_EQ(r.Has(kBookBestBidChanged), !((bb ? *bb : PriceLevel{}) == bid0));
        ASSERT_EQ(r.Has(kBookBestAskChanged), !((ba ? *ba : PriceLevel{}) == ask0));
        ASSERT_EQ(r.Has(kBookBecameCrossed), book.crossed() && !crossed0);
        ASSERT_EQ(r.Has(kBookBecameUncrossed), !book.crossed() && crossed0);
      }
      if (!SameAsRef(book, ref, depth)) return;
    }
  }
  EXPECT_GE(total_ops, 200'000);
  // The stream exercises what it is meant to.
  EXPECT_GT(crossings, 10);
  EXPECT_GT(truncations, 100);
  EXPECT_GT(refusals, 100);
}

// The gap-buffer paths: snapshots that arrive best first (every venue's order, loaded at the
// window's bottom), worst first and shuffled, on deep books, then changes at every rank (the
// window grows and shrinks at both ends and re-centres), compared with the reference throughout.
TEST(OrderBook, OrderedSnapshotsAndDeepChangesAgainstStdMap) {
  int checked = 0;
  for (uint32_t depth : {2u, 5u, 64u, 500u}) {
    for (int order = 0; order < 3; ++order) {  // 0 best first, 1 worst first, 2 shuffled
      std::mt19937_64 rng(0xb00c0000 + depth * 3 + static_cast<uint32_t>(order));
      auto rnd = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
      OrderBook book(kId, depth);
      RefBook ref;
      for (int round = 0; round < 4; ++round) {
        // A snapshot of 0.5x..1.5x the depth (sometimes truncating), distinct prices.
        const int64_t n = 1 + rnd(depth + depth / 2 + 1);
        Levels bids;
        Levels asks;
        for (int64_t i = 0; i < n; ++i) {
          bids.push_back({100'000 - 3 * i, 1 + rnd(9)});
          asks.push_back({100'001 + 3 * i, 1 + rnd(9)});
        }
        if (order == 1) {
          std::reverse(bids.begin(), bids.end());
          std::reverse(asks.begin(), asks.end());
        } else if (order == 2) {
          std::shuffle(bids.begin(), bids.end(), rng);
          std::shuffle(asks.begin(), asks.end(), rng);
        }
        for (const MdEvent& e : SnapshotRun(bids, asks)) {
          ASSERT_TRUE(book.Apply(e).ok());
          ref.Apply(e);
        }
        ASSERT_EQ(book.state(), BookState::kLive);
        ASSERT_TRUE(SameAsRef(book, ref, depth));
        // Changes at any rank: inserts between levels, updates and deletes of held levels.
        for (int op = 0; op < 3000; ++op) {
          const bool bid = rnd(2) == 0;
          const int64_t span = 3 * static_cast<int64_t>(depth) + 6;
          int64_t price = bid ? 100'000 - rnd(span) : 100'001 + rnd(span);
          const int64_t size = rnd(3) == 0 ? 0 : 1 + rnd(9);
          if (rnd(2) == 0) {  // hit a held level exactly, at a uniformly random rank
            if (bid && !book.bids().empty()) {
              price = book.bids()[static_cast<uint32_t>(rnd(book.bids().size()))].price;
            } else if (!bid && !book.asks().empty()) {
              price = book.asks()[static_cast<uint32_t>(rnd(book.asks().size()))].price;
            }
          }
          MdEvent e = MdEvent::Levels(Venue::kBinance, kId, static_cast<uint64_t>(op));
          ASSERT_TRUE(bid ? e.levels.AddBid({price, size}) : e.levels.AddAsk({price, size}));
          const ApplyResult r = book.Apply(e);
          ASSERT_TRUE(r.ok()) << BookErrorName(r.error);
          ref.Apply(e);
          if (!SameAsRef(book, ref, depth)) return;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 3 * 4 * 3000);
}

TEST(OrderBook, NoAllocationAfterWarmUp) {
  constexpr uint32_t kDepth = 64;
  const BookConfig configs[] = {{kId, kDepth}, {1, kDepth}};
  absl::StatusOr<BookSet> set = BookSet::Create(configs);
  ASSERT_TRUE(set.ok());
  // Pre-generate the stream so the RNG and vector are outside the counted window.
  std::mt19937_64 rng(42);
  std::vector<MdEvent> stream;
  stream.reserve(100'000);
  Levels bids, asks;
  for (int i = 0; i < 200; ++i) {
    bids.push_back({1000 - i, 5});
    asks.push_back({1001 + i, 5});
  }
  std::vector<MdEvent> snapshot = SnapshotRun(bids, asks);
  for (int i = 0; i < 100'000; ++i) {
    MdEvent e = MdEvent::Levels(Venue::kBinance, kId, static_cast<uint64_t>(i));
    const int64_t off = static_cast<int64_t>(rng() % 100);
    const int64_t size = rng() % 4 == 0 ? 0 : static_cast<int64_t>(rng() % 100) + 1;
    (void)e.levels.AddBid({1000 - off, size});
    (void)e.levels.AddAsk({1001 + off, size});
    stream.push_back(e);
  }
  MdEvent gap = Status(MdStatus::kGap);
  const uint64_t before = nzeza::testing::AllocationCount();
  for (const MdEvent& e : snapshot) ASSERT_TRUE(set->Apply(e).ok());
  int64_t mid = 0;
  for (size_t i = 0; i < stream.size(); ++i) {
    if (i % 10'000 == 9'999) {
      (void)set->Apply(gap);
      for (const MdEvent& e : snapshot) (void)set->Apply(e);
    }
    if (!set->Apply(stream[i]).ok()) break;
    (void)set->Find(kId)->Microprice(&mid);
  }
  const uint64_t after = nzeza::testing::AllocationCount();
  EXPECT_EQ(after - before, 0);
  EXPECT_GT(set->Find(kId)->bids().size(), 0u);
  EXPECT_GT(mid, 0);
  // Sanity: the counter does count.
  std::vector<int>* v = new std::vector<int>(3);
  EXPECT_GT(nzeza::testing::AllocationCount(), after);
  delete v;
}

// ---------------------------------------------------------------------------------------------
// Golden test: Binance NKNUSDT depth diffs on top of the REST snapshot, real recording.

constexpr int kPriceScale = 8;
constexpr int kSizeScale = 8;

// Minimal scanner for the few fields the test needs; not a JSON parser.
bool FindUint(std::string_view s, std::string_view key, uint64_t* out) {
  const size_t at = s.find(key);
  if (at == std::string_view::npos) return false;
  const char* p = s.data() + at + key.size();
  return std::from_chars(p, s.data() + s.size(), *out).ec == std::errc();
}

// Parses `[["p","q"],...]` starting at key (e.g. "\"b\":") into levels; false on malformed text.
bool FindLevels(std::string_view s, std::string_view key, Levels* out) {
  const size_t at = s.find(key);
  if (at == std::string_view::npos) return false;
  size_t i = at + key.size();
  auto expect = [&](char c) { return i < s.size() && s[i++] == c; };
  auto str = [&](std::string_view* v) {
    if (!expect('"')) return false;
    const size_t end = s.find('"', i);
    if (end == std::string_view::npos) return false;
    *v = s.substr(i, end - i);
    i = end + 1;
    return true;
  };
  if (!expect('[')) return false;
  if (i < s.size() && s[i] == ']') return true;
  while (true) {
    std::string_view p, q;
    if (!expect('[') || !str(&p) || !expect(',') || !str(&q) || !expect(']')) return false;
    PriceLevel l;
    if (ParseDecimal(p.data(), p.size(), kPriceScale, Signedness::kUnsigned, &l.price) !=
            DecimalError::kOk ||
        ParseDecimal(q.data(), q.size(), kSizeScale, Signedness::kUnsigned, &l.size) !=
            DecimalError::kOk) {
      return false;
    }
    out->push_back(l);
    if (i < s.size() && s[i] == ']') return true;
    if (!expect(',')) return false;
  }
}

// Splits one venue message into MdEvents of ≤ 11 levels (bids first), the last flagged
// kMdMessageEnd.
std::vector<MdEvent> DiffEvents(const Levels& bids, const Levels& asks, uint64_t seq) {
  std::vector<MdEvent> out;
  MdEvent e = MdEvent::Levels(Venue::kBinance, kId, seq);
  for (const PriceLevel& l : bids) {
    if (e.levels.full()) {
      out.push_back(e);
      e = MdEvent::Levels(Venue::kBinance, kId, seq);
    }
    (void)e.levels.AddBid(l);
  }
  for (const PriceLevel& l : asks) {
    if (e.levels.full()) {
      out.push_back(e);
      e = MdEvent::Levels(Venue::kBinance, kId, seq);
    }
    (void)e.levels.AddAsk(l);
  }
  e.flags |= kMdMessageEnd;
  out.push_back(e);
  return out;
}

TEST(OrderBook, GoldenBinanceNknusdtDiffsOnSnapshot) {
  const std::string dir = std::string(NZEZA_TESTDATA_DIR) + "/binance/";
  std::ifstream snap_file(dir + "spot_depth_snapshots_2021-10-12.txt");
  ASSERT_TRUE(snap_file) << dir;
  std::string line;
  uint64_t last_update_id = 0;
  Levels snap_bids, snap_asks;
  while (std::getline(snap_file, line)) {
    if (line.find("symbol=NKNUSDT&") == std::string::npos) continue;
    ASSERT_TRUE(FindUint(line, "\"lastUpdateId\":", &last_update_id));
    ASSERT_TRUE(FindLevels(line, "\"bids\":", &snap_bids));
    ASSERT_TRUE(FindLevels(line, "\"asks\":", &snap_asks));
    break;
  }
  ASSERT_EQ(last_update_id, 499869752u);
  ASSERT_GT(snap_bids.size(), 100u);
  ASSERT_GT(snap_asks.size(), 100u);

  struct Diff {
    uint64_t first, last;
    Levels bids, asks;
  };
  std::vector<Diff> diffs;
  std::ifstream stream_file(dir + "spot_stream_2021-10-12.txt");
  ASSERT_TRUE(stream_file);
  while (std::getline(stream_file, line)) {
    if (line.find("\"stream\":\"nknusdt@depth") == std::string::npos) continue;
    Diff d;
    ASSERT_TRUE(FindUint(line, "\"U\":", &d.first)) << line;
    ASSERT_TRUE(FindUint(line, "\"u\":", &d.last)) << line;
    ASSERT_TRUE(FindLevels(line, "\"b\":", &d.bids)) << line;
    ASSERT_TRUE(FindLevels(line, "\"a\":", &d.asks)) << line;
    diffs.push_back(std::move(d));
  }
  ASSERT_FALSE(diffs.empty());

  for (uint32_t depth : {1000u, 20u, 5u}) {
    SCOPED_TRACE(depth);
    OrderBook book(kId, depth);
    RefBook ref;
    for (const PriceLevel& l : snap_bids) ref.Set(Side::kBuy, l.price, l.size);
    for (const PriceLevel& l : snap_asks) ref.Set(Side::kSell, l.price, l.size);
    for (const MdEvent& e : SnapshotRun(snap_bids, snap_asks)) ASSERT_TRUE(book.Apply(e).ok());
    ASSERT_EQ(book.state(), BookState::kLive);
    ASSERT_TRUE(SameAsRef(book, ref, depth));

    // Binance's documented local-book algorithm.
    int applied = 0;
    uint64_t prev_last = 0;
    for (const Diff& d : diffs) {
      if (d.last <= last_update_id) continue;
      if (applied == 0) {
        ASSERT_LE(d.first, last_update_id + 1);
        ASSERT_GE(d.last, last_update_id + 1);
      } else {
        ASSERT_EQ(d.first, prev_last + 1) << "gap in the recording";
      }
      prev_last = d.last;
      ++applied;
      for (const PriceLevel& l : d.bids) ref.Set(Side::kBuy, l.price, l.size);
      for (const PriceLevel& l : d.asks) ref.Set(Side::kSell, l.price, l.size);
      for (const MdEvent& e : DiffEvents(d.bids, d.asks, d.last)) {
        ASSERT_TRUE(book.Apply(e).ok());
      }
      ASSERT_TRUE(SameAsRef(book, ref, depth)) << "after diff u=" << d.last;
    }
    EXPECT_EQ(applied, 149);  // testdata/README.md
    EXPECT_FALSE(book.crossed());
    // A deep book keeps its top levels; a very shallow one (5) may lose a whole side to deletes
    // below its horizon, which SameAsRef has already checked is exactly right.
    if (depth >= 20) {
      ASSERT_GE(book.bids().size(), 5u);
      ASSERT_GE(book.asks().size(), 5u);
      EXPECT_EQ(*book.best_bid(), (PriceLevel{ref.bids.begin()->first, ref.bids.begin()->second}));
      EXPECT_EQ(*book.best_ask(), (PriceLevel{ref.asks.begin()->first, ref.asks.begin()->second}));
    }
    EXPECT_EQ(book.Validate(), BookInvariant::kOk);
  }
}

}  // namespace
}  // namespace nzeza
