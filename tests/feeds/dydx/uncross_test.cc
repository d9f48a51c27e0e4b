// Crossed books and the documented uncross remedy (docs.dydx.exchange, "How to uncross the
// orderbook"): while best bid >= best ask, drop the level set by the older message; when both
// come from the same message, net their sizes.
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dydx_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"

namespace nzeza {
namespace {

using testing::Feed;
using testing::LevelsOf;
using testing::Lv;
using testing::StatusesOf;

constexpr InstrumentId kId = 0;
using Levels = std::vector<std::pair<int64_t, int64_t>>;

// One instrument "X-USD" with integer prices and sizes, so the tests read in plain numbers.
std::unique_ptr<DydxDecoder> Dec(DydxDecoderOptions o = {}) {
  return testing::Decoder(o, {{"X-USD", kId, 0, 0}});
}

std::string Lvls(const Levels& l, bool objects) {
  std::string s = "[";
  for (size_t i = 0; i < l.size(); ++i) {
    if (i) s += ",";
    const std::string p = std::to_string(l[i].first);
    const std::string z = std::to_string(l[i].second);
    s += objects ? R"({"price":")" + p + R"(","size":")" + z + R"("})"
                 : R"([")" + p + R"(",")" + z + R"("])";
  }
  return s + "]";
}

std::string Snap(uint64_t mid, const Levels& bids, const Levels& asks) {
  return R"({"type":"subscribed","message_id":)" + std::to_string(mid) +
         R"(,"channel":"v4_orderbook","id":"X-USD","contents":{"bids":)" + Lvls(bids, true) +
         R"(,"asks":)" + Lvls(asks, true) + "}}";
}

std::string Content(const Levels& bids, const Levels& asks) {
  return R"({"bids":)" + Lvls(bids, false) + R"(,"asks":)" + Lvls(asks, false) + "}";
}

std::string Upd(uint64_t mid, const Levels& bids, const Levels& asks) {
  return R"({"type":"channel_data","message_id":)" + std::to_string(mid) +
         R"(,"id":"X-USD","channel":"v4_orderbook","contents":)" + Content(bids, asks) + "}";
}

std::string BatchOf(uint64_t mid, const std::vector<std::pair<Levels, Levels>>& items) {
  std::string c = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) c += ",";
    c += Content(items[i].first, items[i].second);
  }
  return R"({"type":"channel_batch_data","message_id":)" + std::to_string(mid) +
         R"(,"id":"X-USD","channel":"v4_orderbook","contents":)" + c + "]}";
}

// A decoder and the book its events build.
struct Fixture {
  explicit Fixture(DydxDecoderOptions o = {}) : d(Dec(o)), book(kId, 1000) {}
  DecodeError Send(const std::string& msg) {
    sink.events.clear();
    const DecodeError e = Feed(*d, msg, sink);
    testing::ApplyAll(book, sink.events);
    return e;
  }
  std::unique_ptr<DydxDecoder> d;
  VectorSink sink;
  OrderBook book;
};

TEST(DydxUncross, ACrossingBidDeletesTheOlderAsk) {
  Fixture f;
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{101, 2}, {103, 1}})), DecodeError::kOk);
  ASSERT_EQ(f.Send(Upd(6, {{102, 4}}, {})), DecodeError::kOk);
  // The venue's level, then the remedy's deletion, in the same message's event.
  EXPECT_EQ(LevelsOf(f.sink.events),
            (std::vector<Lv>{{Side::kBuy, 102, 4}, {Side::kSell, 101, 0}}));
  ASSERT_EQ(f.sink.events.size(), 1u);
  EXPECT_EQ(f.sink.events[0].flags, kMdMessageEnd);
  EXPECT_FALSE(f.book.crossed());
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{102, 4}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{103, 1}}));
  EXPECT_EQ(f.d->dydx_counters().crossed, 1u);
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 1u);
  EXPECT_EQ(f.d->dydx_counters().uncross_reduced, 0u);
  EXPECT_TRUE(StatusesOf(f.sink.events).empty()) << "uncrossing is not a gap";
}

TEST(DydxUncross, ADeepCrossDeletesEveryOlderLevelItCrosses) {
  Fixture f;
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{101, 1}, {102, 1}, {103, 1}, {105, 1}})),
            DecodeError::kOk);
  ASSERT_EQ(f.Send(Upd(6, {{104, 9}}, {})), DecodeError::kOk);
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{105, 1}}));
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{104, 9}, {100, 1}}));
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 3u);
}

TEST(DydxUncross, TheOlderSideLosesWhicheverItIs) {
  Fixture f;
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{105, 1}})), DecodeError::kOk);
  ASSERT_EQ(f.Send(Upd(6, {}, {{103, 2}})), DecodeError::kOk);  // ask 103 at offset 6
  ASSERT_EQ(f.Send(Upd(7, {{104, 1}}, {})), DecodeError::kOk);  // crosses it: the ask is older
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{105, 1}}));
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{104, 1}, {100, 1}}));
  // A new ask below both bids: both bids are older, both go.
  ASSERT_EQ(f.Send(Upd(9, {}, {{99, 3}})), DecodeError::kOk);
  EXPECT_EQ(LevelsOf(f.sink.events),
            (std::vector<Lv>{{Side::kBuy, 104, 0}, {Side::kBuy, 100, 0}, {Side::kSell, 99, 3}}));
  EXPECT_TRUE(f.book.bids().empty());
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{99, 3}, {105, 1}}));
  EXPECT_EQ(f.d->dydx_counters().crossed, 2u);
}

TEST(DydxUncross, SameMessageNetsSizes) {
  Fixture f;
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{110, 1}})), DecodeError::kOk);
  // Bid 106 x5 and ask 105 x3 in one message: same offset, so sizes net: the ask goes and the
  // bid keeps 2.
  ASSERT_EQ(f.Send(Upd(6, {{106, 5}}, {{105, 3}})), DecodeError::kOk);
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{106, 2}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{110, 1}}));
  EXPECT_EQ(f.d->dydx_counters().uncross_reduced, 1u);
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 1u);
  // The larger ask keeps the difference.
  ASSERT_EQ(f.Send(Upd(7, {{108, 2}}, {{107, 7}})), DecodeError::kOk);
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{106, 2}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{107, 5}, {110, 1}}));
  // Bid 109 x4 and ask 108 x4: the tops are compared, so bid 109 first meets the older ask 107
  // (deleted: older), then ask 108 from its own message: equal sizes, both go.
  ASSERT_EQ(f.Send(Upd(8, {{109, 4}}, {{108, 4}})), DecodeError::kOk);
  EXPECT_EQ(LevelsOf(f.sink.events), (std::vector<Lv>{{Side::kBuy, 109, 4},
                                                      {Side::kBuy, 109, 0},
                                                      {Side::kSell, 108, 4},
                                                      {Side::kSell, 107, 0},
                                                      {Side::kSell, 108, 0}}));
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{106, 2}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{110, 1}}));
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 5u);
  EXPECT_EQ(f.d->dydx_counters().uncross_reduced, 2u);
  EXPECT_FALSE(f.book.crossed());
}

TEST(DydxUncross, ACrossedSnapshotIsNettedBeforeItIsEmitted) {
  Fixture f;
  // All of a snapshot's levels share its offset: bid 105 x2 against ask 104 x1 nets to bid 105 x1.
  ASSERT_EQ(f.Send(Snap(5, {{105, 2}, {100, 1}}, {{104, 1}, {110, 1}})), DecodeError::kOk);
  EXPECT_EQ(f.book.state(), BookState::kLive) << "OrderBook refuses a crossed snapshot";
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{105, 1}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{110, 1}}));
  EXPECT_EQ(f.book.Validate(), BookInvariant::kOk);
  EXPECT_EQ(f.d->dydx_counters().crossed, 1u);
}

TEST(DydxUncross, BatchUpdatesKeepTheirOrder) {
  Fixture f({.batched = true});
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{105, 1}})), DecodeError::kOk);
  // Ask 103 (first update of the batch) is older than bid 104 (second): the ask goes.
  ASSERT_EQ(f.Send(BatchOf(6, {{{}, {{103, 1}}}, {{{104, 1}}, {}}})), DecodeError::kOk);
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{104, 1}, {100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{105, 1}}));
  // The other order: bid 104 then ask 102: the bids (104 older within the batch, 100 from the
  // snapshot) go.
  ASSERT_EQ(f.Send(BatchOf(7, {{{{103, 1}}, {}}, {{}, {{102, 1}}}})), DecodeError::kOk);
  EXPECT_EQ(testing::BidsOf(f.book), (Levels{{100, 1}}));
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{102, 1}, {105, 1}}));
}

TEST(DydxUncross, DetectOnlyPassesTheVenueBookThrough) {
  Fixture f({.uncross = DydxUncross::kDetect});
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{101, 2}})), DecodeError::kOk);
  ASSERT_EQ(f.Send(Upd(6, {{102, 4}}, {})), DecodeError::kOk);
  EXPECT_EQ(LevelsOf(f.sink.events), (std::vector<Lv>{{Side::kBuy, 102, 4}}));
  EXPECT_TRUE(f.book.crossed()) << "the book shows the venue's crossed state";
  EXPECT_EQ(f.d->dydx_counters().crossed, 1u);
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 0u);
}

TEST(DydxUncross, OffKeepsNoShadow) {
  Fixture f({.uncross = DydxUncross::kOff});
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{101, 2}})), DecodeError::kOk);
  ASSERT_EQ(f.Send(Upd(6, {{102, 4}}, {})), DecodeError::kOk);
  EXPECT_TRUE(f.book.crossed());
  EXPECT_EQ(f.d->dydx_counters().crossed, 0u);
}

TEST(DydxUncross, AShallowShadowReportsWhatItCannotResolve) {
  Fixture f({.shadow_depth = 2});
  ASSERT_EQ(f.Send(Snap(5, {{100, 1}}, {{101, 1}, {102, 1}, {103, 1}, {104, 1}, {105, 1}})),
            DecodeError::kOk);
  EXPECT_EQ(f.d->dydx_counters().shadow_dropped, 3u);
  // Bid 104 crosses asks 101..104; the shadow knows 101 and 102 only.
  ASSERT_EQ(f.Send(Upd(6, {{104, 1}}, {})), DecodeError::kOk);
  EXPECT_EQ(f.d->dydx_counters().uncross_deleted, 2u);
  EXPECT_EQ(f.d->dydx_counters().uncross_incomplete, 1u);
  EXPECT_TRUE(f.book.crossed()) << "left crossed downstream, where OrderBook reports it";
  EXPECT_EQ(testing::AsksOf(f.book), (Levels{{103, 1}, {104, 1}, {105, 1}}));
}

// ---- property test against an independent model of the documented algorithm ----

struct RefLevel {
  int64_t size;
  uint64_t offset;
};
struct RefBook {
  std::map<int64_t, RefLevel, std::greater<>> bids;
  std::map<int64_t, RefLevel> asks;

  template <typename M>
  static void Set(M& m, int64_t price, int64_t size, uint64_t offset) {
    if (size == 0) {
      m.erase(price);
    } else {
      m[price] = RefLevel{size, offset};
    }
  }
  // The docs' Python, transcribed: compare the top of both sides until they no longer cross.
  void Uncross() {
    while (!bids.empty() && !asks.empty()) {
      auto b = bids.begin();
      auto a = asks.begin();
      if (b->first < a->first) break;
      if (b->second.offset < a->second.offset) {
        bids.erase(b);
      } else if (b->second.offset > a->second.offset) {
        asks.erase(a);
      } else if (b->second.size > a->second.size) {
        b->second.size -= a->second.size;
        asks.erase(a);
      } else if (b->second.size < a->second.size) {
        a->second.size -= b->second.size;
        bids.erase(b);
      } else {
        asks.erase(a);
        bids.erase(b);
      }
    }
  }
  Levels BidLevels() const {
    Levels v;
    for (const auto& [p, l] : bids) v.emplace_back(p, l.size);
    return v;
  }
  Levels AskLevels() const {
    Levels v;
    for (const auto& [p, l] : asks) v.emplace_back(p, l.size);
    return v;
  }
};

TEST(DydxUncross, MatchesTheDocumentedAlgorithmOnRandomStreams) {
  std::mt19937_64 rng(20240822);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto levels = [&](int max_n, bool allow_zero) {
    Levels v;
    std::map<int64_t, int64_t> seen;
    const int n = pick(0, max_n);
    for (int i = 0; i < n; ++i) {
      const int64_t p = pick(90, 110);
      const int64_t s = allow_zero && pick(0, 9) < 3 ? 0 : pick(1, 6);
      if (!allow_zero && seen.count(p)) continue;  // a snapshot lists a price once
      seen[p] = s;
      v.emplace_back(p, s);
    }
    return v;
  };
  uint64_t crossed = 0, reduced = 0;
  for (int run = 0; run < 40; ++run) {
    Fixture f({.batched = true});
    RefBook ref;
    uint64_t mid = 3;
    const Levels sb = levels(12, false);
    const Levels sa = levels(12, false);
    for (const auto& [p, s] : sb) RefBook::Set(ref.bids, p, s, mid << 20);
    for (const auto& [p, s] : sa) RefBook::Set(ref.asks, p, s, mid << 20);
    ref.Uncross();
    ASSERT_EQ(f.Send(Snap(mid, sb, sa)), DecodeError::kOk);
    ASSERT_EQ(f.book.state(), BookState::kLive);
    for (int step = 0; step < 200; ++step) {
      mid += static_cast<uint64_t>(pick(1, 3));
      if (pick(0, 3) == 0) {
        std::vector<std::pair<Levels, Levels>> items;
        const int n = pick(1, 4);
        for (int i = 0; i < n; ++i) items.emplace_back(levels(2, true), levels(2, true));
        for (size_t i = 0; i < items.size(); ++i) {
          for (const auto& [p, s] : items[i].first) RefBook::Set(ref.bids, p, s, (mid << 20) | i);
          for (const auto& [p, s] : items[i].second) RefBook::Set(ref.asks, p, s, (mid << 20) | i);
        }
        ASSERT_EQ(f.Send(BatchOf(mid, items)), DecodeError::kOk);
      } else {
        const Levels b = levels(2, true);
        const Levels a = levels(2, true);
        for (const auto& [p, s] : b) RefBook::Set(ref.bids, p, s, mid << 20);
        for (const auto& [p, s] : a) RefBook::Set(ref.asks, p, s, mid << 20);
        ASSERT_EQ(f.Send(Upd(mid, b, a)), DecodeError::kOk);
      }
      ref.Uncross();
      ASSERT_EQ(testing::BidsOf(f.book), ref.BidLevels()) << "run " << run << " step " << step;
      ASSERT_EQ(testing::AsksOf(f.book), ref.AskLevels()) << "run " << run << " step " << step;
      ASSERT_FALSE(f.book.crossed());
      ASSERT_EQ(f.book.Validate(), BookInvariant::kOk);
    }
    crossed += f.d->dydx_counters().crossed;
    reduced += f.d->dydx_counters().uncross_reduced;
  }
  // Crossings, also within one message, were frequent enough for this to mean something.
  EXPECT_GT(crossed, 1000u);
  EXPECT_GT(reduced, 100u);
}

}  // namespace
}  // namespace nzeza
