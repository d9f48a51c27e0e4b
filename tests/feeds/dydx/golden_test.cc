// Golden tests on ../shared/testdata/dydx/indexer_messages_2024-08.jsonl: 8 real dYdX v4 indexer
// messages (mainnet, Aug 2024) collected by tardis-dev/tardis-node's mapper tests. The lines come
// from four different connections (their connection_ids differ) and are independent samples, so
// each is decoded as its own connection (OnOpen before it). The expected values below are read
// off the file by hand, not produced by the decoder.
#include <string>
#include <vector>

#include "dydx_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

using testing::Decoder;
using testing::Feed;
using testing::LevelsOf;
using testing::Lv;
using testing::OfType;
using testing::ReadLines;
using testing::RecordingPath;

constexpr InstrumentId kBtc = 0;
constexpr InstrumentId kEth = 1;
constexpr InstrumentId kGrt = 2;
constexpr InstrumentId kEgld = 3;
constexpr InstrumentId kAvax = 4;

// Unix milliseconds of the file's timestamps (computed independently with Python's datetime).
constexpr int64_t kMs = 1'000'000;

class DydxGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    lines_ = ReadLines(RecordingPath());
    ASSERT_EQ(lines_.size(), 8u);
  }
  // Decodes line `i` (0-based) as a connection of its own.
  DecodeError Line(DydxDecoder& d, size_t i, VectorSink& sink) {
    d.OnOpen(0, sink);
    return Feed(d, lines_[i], sink);
  }
  std::vector<std::string> lines_;
};

TEST_F(DydxGolden, EveryMessageDecodes) {
  auto d = Decoder();
  VectorSink sink;
  for (size_t i = 0; i < lines_.size(); ++i) {
    d->OnOpen(0, sink);
    // Lines 4 and 5 are orderbook updates: give their book a snapshot on the same connection so
    // the update is applied, not dropped as "before the snapshot".
    if (i == 3) {
      ASSERT_EQ(Feed(*d, lines_[2], sink), DecodeError::kOk);
    }
    if (i == 4) {
      ASSERT_EQ(Feed(*d,
                     R"({"type":"subscribed","message_id":3,"channel":"v4_orderbook",)"
                     R"("id":"EGLD-USD","contents":{"bids":[],"asks":[]}})",
                     sink),
                DecodeError::kOk);
    }
    EXPECT_EQ(Feed(*d, lines_[i], sink), DecodeError::kOk)
        << "line " << i + 1 << ": " << d->last_error_where();
  }
  const FeedCounters& c = d->counters();
  EXPECT_EQ(c.decode_errors, 0u);
  EXPECT_EQ(c.unknown_messages, 0u);
  EXPECT_EQ(c.unknown_instrument, 0u);
  EXPECT_EQ(c.duplicates, 0u);
  EXPECT_EQ(c.dropped_before_snapshot, 0u);
  EXPECT_EQ(c.trades, 3u);     // 1 AVAX + 2 BTC
  EXPECT_EQ(c.snapshots, 3u);  // line 3, its replay before line 4, the EGLD one
  EXPECT_EQ(c.level_messages, 5u);
  EXPECT_EQ(d->dydx_counters().market_updates, 4u);  // BTC+ETH, ETH, ETH
  EXPECT_EQ(d->dydx_counters().crossed, 0u);
}

TEST_F(DydxGolden, AvaxTrade) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Line(*d, 0, sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kTrade);
  EXPECT_EQ(e.venue, Venue::kDydx);
  EXPECT_EQ(e.instrument, kAvax);
  EXPECT_EQ(e.venue_seq, 99u);
  EXPECT_EQ(e.trade.price, 2522);  // "25.22" at 2 decimals
  EXPECT_EQ(e.trade.size, 792);    // "79.2" at 1 decimal
  EXPECT_EQ(e.trade.aggressor, Side::kBuy);
  EXPECT_EQ(e.trade.trade_id, Fnv1a64("0165e5e30000000200000002"));
  EXPECT_EQ(e.exchange_ns, 1724371198855 * kMs);  // 2024-08-22T23:59:58.855Z
  EXPECT_EQ(e.flags, kMdMessageEnd);
}

TEST_F(DydxGolden, BtcTradesIncludingALiquidation) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Line(*d, 1, sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  const MdTrade& a = sink.events[0].trade;
  EXPECT_EQ(a.price, 6039700);  // "60397"
  EXPECT_EQ(a.size, 20);        // "0.002" at 4 decimals
  EXPECT_EQ(a.aggressor, Side::kBuy);
  EXPECT_EQ(a.trade_id, Fnv1a64("0165e5e40000000200000002"));
  EXPECT_EQ(sink.events[0].exchange_ns, 1724371199851 * kMs);
  EXPECT_EQ(sink.events[0].flags, 0);
  // The second trade's fields come in another order (side before size, type before createdAt).
  const MdTrade& b = sink.events[1].trade;
  EXPECT_EQ(b.price, 2287);  // "22.87"
  EXPECT_EQ(b.size, 39000);  // "3.9"
  EXPECT_EQ(b.aggressor, Side::kSell);
  EXPECT_EQ(b.trade_id, Fnv1a64("014f495a0000000200000005"));
  EXPECT_EQ(sink.events[1].exchange_ns, 1722756890628 * kMs);  // 2024-08-04T07:34:50.628Z
  EXPECT_EQ(sink.events[1].flags, kMdMessageEnd);
  EXPECT_EQ(sink.events[1].venue_seq, 424u);
  EXPECT_EQ(d->instrument_counters(kBtc)->trades, 2u);
}

TEST_F(DydxGolden, GrtSnapshotThenDelete) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Line(*d, 2, sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& s = sink.events[0];
  EXPECT_EQ(s.type, MdType::kLevels);
  EXPECT_EQ(s.instrument, kGrt);
  EXPECT_EQ(s.venue_seq, 7u);
  EXPECT_EQ(s.flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(LevelsOf(sink.events),
            (std::vector<Lv>{{Side::kBuy, 1547, 35520}, {Side::kSell, 1550, 3220}}));
  // Line 4 (another connection in the file; here on the same one): bid 11.21 deleted.
  ASSERT_EQ(Feed(*d, lines_[3], sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].flags, kMdMessageEnd);
  EXPECT_EQ(sink.events[1].venue_seq, 5814u);
  EXPECT_EQ(LevelsOf({sink.events[1]}), (std::vector<Lv>{{Side::kBuy, 112100, 0}}));
  OrderBook book(kGrt, 50);
  testing::ApplyAll(book, sink.events);
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(testing::BidsOf(book), (std::vector<std::pair<int64_t, int64_t>>{{1547, 35520}}));
  EXPECT_EQ(testing::AsksOf(book), (std::vector<std::pair<int64_t, int64_t>>{{1550, 3220}}));
}

TEST_F(DydxGolden, EgldAskDeleted) {
  auto d = Decoder();
  VectorSink sink;
  d->OnOpen(0, sink);
  // A snapshot holding the level that line 5 deletes (the file has no EGLD-USD snapshot).
  ASSERT_EQ(Feed(*d,
                 R"({"type":"subscribed","message_id":3,"channel":"v4_orderbook","id":"EGLD-USD",)"
                 R"("contents":{"bids":[{"price":"66.10","size":"7"}],)"
                 R"("asks":[{"price":"66.12","size":"5"},{"price":"66.13","size":"2"}]}})",
                 sink),
            DecodeError::kOk);
  ASSERT_EQ(Feed(*d, lines_[4], sink), DecodeError::kOk);
  EXPECT_EQ(LevelsOf({sink.events.back()}), (std::vector<Lv>{{Side::kSell, 6612, 0}}));
  EXPECT_EQ(sink.events.back().venue_seq, 5820u);
  OrderBook book(kEgld, 50);
  testing::ApplyAll(book, sink.events);
  EXPECT_EQ(testing::AsksOf(book), (std::vector<std::pair<int64_t, int64_t>>{{6613, 2}}));
}

TEST_F(DydxGolden, MarketParametersMatchTheRecording) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Line(*d, 5, sink), DecodeError::kOk);
  EXPECT_TRUE(sink.events.empty()) << "market parameters are not book events";

  const DydxMarketParams* btc = d->market_params("BTC-USD");
  ASSERT_NE(btc, nullptr);
  EXPECT_TRUE(btc->complete());
  EXPECT_EQ(btc->instrument, kBtc);
  EXPECT_EQ(btc->clob_pair_id, 0u);
  EXPECT_EQ(btc->status, DydxMarketStatus::kActive);
  EXPECT_EQ(btc->tick_size.mantissa(), 1);  // "1"
  EXPECT_EQ(btc->tick_size.scale(), 0);
  EXPECT_EQ(btc->step_size.mantissa(), 1);  // "0.0001"
  EXPECT_EQ(btc->step_size.scale(), 4);
  EXPECT_EQ(btc->atomic_resolution, -10);
  EXPECT_EQ(btc->quantum_conversion_exponent, -9);
  EXPECT_EQ(btc->step_base_quantums, 1000000u);
  EXPECT_EQ(btc->subticks_per_tick, 100000u);
  EXPECT_EQ(btc->oracle_price, Decimal::FromMantissa(6038751779, 5));  // "60387.51779"
  EXPECT_EQ(btc->message_id, 17u);
  EXPECT_EQ(btc->updates, 1u);

  const DydxMarketParams* eth = d->market_params("ETH-USD");
  ASSERT_NE(eth, nullptr);
  EXPECT_TRUE(eth->complete());
  EXPECT_EQ(eth->instrument, kEth);
  EXPECT_EQ(eth->clob_pair_id, 1u);
  EXPECT_EQ(eth->status, DydxMarketStatus::kActive);
  EXPECT_EQ(eth->tick_size, Decimal::FromMantissa(1, 1));  // "0.1"
  EXPECT_EQ(eth->tick_size.scale(), 1);
  EXPECT_EQ(eth->step_size, Decimal::FromMantissa(1, 3));  // "0.001"
  EXPECT_EQ(eth->step_size.scale(), 3);
  EXPECT_EQ(eth->atomic_resolution, -9);
  EXPECT_EQ(eth->quantum_conversion_exponent, -9);
  EXPECT_EQ(eth->step_base_quantums, 1000000u);
  EXPECT_EQ(eth->subticks_per_tick, 100000u);
  EXPECT_EQ(eth->oracle_price, Decimal::FromMantissa(26232521, 4));  // "2623.2521"

  // The parameters agree with each other as dYdX defines them (USDC's atomic resolution is -6):
  // stepSize = stepBaseQuantums * 10^atomicResolution and
  // tickSize = subticksPerTick * 10^(quantumConversionExponent - atomicResolution - 6).
  for (const DydxMarketParams* m : {btc, eth}) {
    const int step_exp = m->atomic_resolution;  // negative
    EXPECT_EQ(Decimal::FromMantissa(static_cast<int64_t>(m->step_base_quantums), -step_exp),
              m->step_size);
    const int tick_exp = m->quantum_conversion_exponent - m->atomic_resolution - 6;
    ASSERT_LE(tick_exp, 0);
    EXPECT_EQ(Decimal::FromMantissa(static_cast<int64_t>(m->subticks_per_tick), -tick_exp),
              m->tick_size);
  }
  // Only the table's instruments get records; the scales fit the table's.
  EXPECT_EQ(d->market_params("GRT-USD"), nullptr);
  EXPECT_EQ(d->dydx_counters().markets_ignored, 0u);
  EXPECT_EQ(d->dydx_counters().scale_conflicts, 0u);
}

TEST_F(DydxGolden, MarketUpdatesChangeTheRecord) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Line(*d, 5, sink), DecodeError::kOk);
  // Line 7: a trading update carrying only openInterest: the record is touched, params unchanged.
  ASSERT_EQ(Line(*d, 6, sink), DecodeError::kOk);
  const DydxMarketParams* eth = d->market_params("ETH-USD");
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->message_id, 15871u);
  EXPECT_EQ(eth->updates, 2u);
  EXPECT_EQ(eth->subticks_per_tick, 100000u);
  // Line 8: an oracle price update.
  ASSERT_EQ(Line(*d, 7, sink), DecodeError::kOk);
  EXPECT_EQ(eth->oracle_price, Decimal::FromMantissa(26233521, 4));  // "2623.3521"
  EXPECT_EQ(eth->oracle_effective_ns, 1724371254301 * kMs);          // 2024-08-23T00:00:54.301Z
  EXPECT_EQ(eth->message_id, 15162u);
  EXPECT_EQ(eth->updates, 3u);
  EXPECT_EQ(d->market_params("BTC-USD")->updates, 1u);
}

TEST_F(DydxGolden, DiscoveryTakesScalesFromTheMarketsChannel) {
  InstrumentDiscovery disc;
  for (const std::string& l : lines_) DiscoverDydxInstruments(l, &disc);
  const std::vector<FeedInstrument> got = disc.Build();
  ASSERT_EQ(got.size(), 5u);
  // In order of first appearance. BTC-USD and ETH-USD get their tickSize/stepSize decimals
  // ("1" -> 0, "0.0001" -> 4, "0.1" -> 1, "0.001" -> 3), which win over the 22.87 trade price.
  EXPECT_EQ(got[0].symbol, "AVAX-USD");
  EXPECT_EQ(got[0].price_scale, 2);  // 25.22
  EXPECT_EQ(got[0].size_scale, 1);   // 79.2
  EXPECT_EQ(got[1].symbol, "BTC-USD");
  EXPECT_EQ(got[1].price_scale, 0);
  EXPECT_EQ(got[1].size_scale, 4);
  EXPECT_EQ(got[2].symbol, "GRT-USD");
  EXPECT_EQ(got[2].price_scale, 4);  // 0.1547
  EXPECT_EQ(got[2].size_scale, 0);
  EXPECT_EQ(got[3].symbol, "EGLD-USD");
  EXPECT_EQ(got[3].price_scale, 2);  // 66.12
  EXPECT_EQ(got[3].size_scale, 0);
  EXPECT_EQ(got[4].symbol, "ETH-USD");
  EXPECT_EQ(got[4].price_scale, 1);
  EXPECT_EQ(got[4].size_scale, 3);
}

TEST_F(DydxGolden, DiscoveredScalesDecodeEveryBookMessage) {
  // With the scales discovery gives, every message decodes except the BTC-USD trades message,
  // whose 22.87 price does not fit BTC-USD's tickSize of 1: that is the decoder refusing to round
  // (kBadNumber), the reason the table above uses a finer scale.
  InstrumentDiscovery disc;
  for (const std::string& l : lines_) DiscoverDydxInstruments(l, &disc);
  auto d = MakeDydxDecoder(*SymbolTable::Create(disc.Build()), {});
  VectorSink sink;
  for (size_t i = 0; i < lines_.size(); ++i) {
    d->OnOpen(0, sink);
    const DecodeError e = Feed(*d, lines_[i], sink);
    EXPECT_EQ(e, i == 1 ? DecodeError::kBadNumber : DecodeError::kOk) << "line " << i + 1;
  }
}

}  // namespace
}  // namespace nzeza
