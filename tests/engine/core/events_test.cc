#include "nzeza/core/events.h"

#include "gtest/gtest.h"
#include "nzeza/core/spsc_ring.h"

namespace nzeza {
namespace {

TEST(MdLevels, BidsThenAsksUpToCapacity) {
  MdEvent ev = MdEvent::Levels(Venue::kBinance, 3, 42);
  EXPECT_EQ(ev.type, MdType::kLevels);
  EXPECT_EQ(ev.instrument, 3u);
  EXPECT_EQ(ev.venue_seq, 42u);
  EXPECT_TRUE(ev.levels.AddBid({100, 1}));
  EXPECT_TRUE(ev.levels.AddBid({99, 2}));
  EXPECT_TRUE(ev.levels.AddAsk({101, 3}));
  EXPECT_FALSE(ev.levels.AddBid({98, 4})) << "a bid after an ask would break the bids-first layout";
  for (size_t i = ev.levels.size(); i < kMaxLevelsPerEvent; ++i) {
    EXPECT_TRUE(ev.levels.Add(Side::kSell, {static_cast<int64_t>(200 + i), 1}));
  }
  EXPECT_TRUE(ev.levels.full());
  EXPECT_FALSE(ev.levels.AddAsk({999, 1}));
  ASSERT_EQ(ev.levels.bids().size(), 2u);
  EXPECT_EQ(ev.levels.bids()[1].price, 99);
  ASSERT_EQ(ev.levels.asks().size(), kMaxLevelsPerEvent - 2);
  EXPECT_EQ(ev.levels.asks()[0].price, 101);
  EXPECT_EQ(ev.levels.asks()[0].size, 3);
}

TEST(MdEvent, SurvivesARingByValue) {
  SpscRing<MdEvent> ring(4);
  MdEvent t =
      MdEvent::Trade(Venue::kCoinbase, 7,
                     MdTrade{.price = 4325123, .size = 5, .trade_id = 9, .aggressor = Side::kSell});
  t.times.recv_ns = 11;
  t.times.decoded_ns = 12;
  ASSERT_TRUE(ring.try_push(t));
  MdEvent out;
  ASSERT_TRUE(ring.try_pop(out));
  // Field by field: padding bytes are not guaranteed to survive a copy.
  EXPECT_EQ(out.type, MdType::kTrade);
  EXPECT_EQ(out.venue, Venue::kCoinbase);
  EXPECT_EQ(out.instrument, 7u);
  EXPECT_EQ(out.trade.price, 4325123);
  EXPECT_EQ(out.trade.size, 5);
  EXPECT_EQ(out.trade.trade_id, 9u);
  EXPECT_EQ(out.trade.aggressor, Side::kSell);
  EXPECT_EQ(out.times.decoded_ns - out.times.recv_ns, 1);
}

TEST(MdEvent, StatusCarriesGapDetail) {
  MdEvent s =
      MdEvent::Status(Venue::kBinance, 1,
                      MdStatusInfo{.code = MdStatus::kGap, .expected_seq = 10, .received_seq = 12});
  EXPECT_EQ(s.type, MdType::kStatus);
  EXPECT_EQ(s.status.code, MdStatus::kGap);
  EXPECT_EQ(s.status.received_seq - s.status.expected_seq, 2u);
}

TEST(MdEvent, SameMarketDataComparesWhatTheEventSaysNotWhenItWasStamped) {
  MdEvent a = MdEvent::Levels(Venue::kCoinbase, 3, 42);
  ASSERT_TRUE(a.levels.AddBid({100, 1}));
  ASSERT_TRUE(a.levels.AddAsk({101, 2}));
  a.times.recv_ns = 5;
  MdEvent b = a;
  b.times.decoded_ns = 99;  // clock readings of later stages
  b.times.signal_ns = 98;
  b.levels.level[5] = {7, 7};  // past the levels in use
  EXPECT_TRUE(SameMarketData(a, b));
  const auto differs = [&a](auto change) {
    MdEvent c = a;
    change(c);
    return !SameMarketData(a, c) && !SameMarketData(c, a);
  };
  EXPECT_TRUE(differs([](MdEvent& e) { e.flags = kMdMessageEnd; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.instrument = 4; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.venue = Venue::kBinance; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.venue_seq = 43; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.exchange_ns = 1; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.times.recv_ns = 6; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.levels.level[1].size = 3; }));
  EXPECT_TRUE(differs([](MdEvent& e) { e.levels.level[0].price = 99; }));
  EXPECT_TRUE(differs([](MdEvent& e) { ASSERT_TRUE(e.levels.AddAsk({102, 1})); }));
  EXPECT_TRUE(differs([](MdEvent& e) { e = MdEvent::Bbo(Venue::kCoinbase, 3, MdBbo{}); }));

  MdEvent s =
      MdEvent::Status(Venue::kBinance, 1,
                      {.code = MdStatus::kGap, .expected_seq = 5, .received_seq = 7, .detail = 10});
  MdEvent t = s;
  t.status.detail = 11;  // a measurement
  EXPECT_TRUE(SameMarketData(s, t));
  t.status.received_seq = 8;
  EXPECT_FALSE(SameMarketData(s, t));
  MdEvent x = MdEvent::Trade(Venue::kDydx, 2, {.price = 1, .size = 2, .trade_id = 3});
  MdEvent y = x;
  EXPECT_TRUE(SameMarketData(x, y));
  y.trade.trade_id = 4;
  EXPECT_FALSE(SameMarketData(x, y));
}

TEST(Events, SizesAreCacheLineMultiples) {
  EXPECT_EQ(sizeof(MdEvent) % 64, 0u);
  EXPECT_EQ(sizeof(OrderIntent) % 64, 0u);
  EXPECT_EQ(sizeof(OrderCmd) % 64, 0u);
  EXPECT_EQ(sizeof(ExecEvent) % 64, 0u);
  EXPECT_EQ(Opposite(Side::kBuy), Side::kSell);
  EXPECT_EQ(Opposite(Side::kSell), Side::kBuy);
}

}  // namespace
}  // namespace nzeza
