// Unit tests of the dYdX decoder: each message type, each error kind, sequence rules, the
// batched form, all-or-nothing, resync, and no allocation in steady state.
#include <memory>
#include <string>
#include <vector>

#include "../../common/counting_allocator.h"
#include "dydx_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/dydx/subscribe.h"

namespace nzeza {
namespace {

using testing::Decoder;
using testing::Feed;
using testing::LevelsOf;
using testing::Lv;
using testing::OfType;
using testing::StatusesOf;

constexpr InstrumentId kBtc = 0;

// A BTC-USD snapshot (prices at 2 decimals, sizes at 4: the test table's scales).
std::string Snapshot(uint64_t mid, std::string_view bids = R"({"price":"60000","size":"1.5"})",
                     std::string_view asks = R"({"price":"60001","size":"0.25"})") {
  return std::string(R"({"type":"subscribed","connection_id":"c","message_id":)") +
         std::to_string(mid) + R"(,"channel":"v4_orderbook","id":"BTC-USD","contents":{"bids":[)" +
         std::string(bids) + R"(],"asks":[)" + std::string(asks) + "]}}";
}

std::string Update(uint64_t mid, std::string_view contents, std::string_view id = "BTC-USD") {
  return std::string(R"({"type":"channel_data","connection_id":"c","message_id":)") +
         std::to_string(mid) + R"(,"id":")" + std::string(id) +
         R"(","channel":"v4_orderbook","version":"1.0.0","contents":)" + std::string(contents) +
         "}";
}

std::string Batch(uint64_t mid, std::string_view contents) {
  return std::string(R"({"type":"channel_batch_data","connection_id":"c","message_id":)") +
         std::to_string(mid) +
         R"(,"id":"BTC-USD","channel":"v4_orderbook","version":"1.0.0","contents":)" +
         std::string(contents) + "}";
}

std::string TradeMsg(uint64_t mid, std::string_view trades) {
  return std::string(R"({"type":"channel_data","connection_id":"c","message_id":)") +
         std::to_string(mid) +
         R"(,"id":"BTC-USD","channel":"v4_trades","version":"2.1.0","contents":{"trades":[)" +
         std::string(trades) + "]}}";
}

constexpr char kTrade[] =
    R"({"id":"0165e5e40000000200000002","size":"0.002","price":"60397","side":"BUY",)"
    R"("createdAt":"2024-08-22T23:59:59.851Z","type":"LIMIT"})";

// A decoder with a live BTC-USD book (snapshot at message_id 1).
struct Live {
  explicit Live(DydxDecoderOptions o = {}) : d(Decoder(o)) {
    d->OnOpen(0, sink);
    EXPECT_EQ(Feed(*d, R"({"type":"connected","connection_id":"c","message_id":0})", sink),
              DecodeError::kOk);
    EXPECT_EQ(Feed(*d, Snapshot(1), sink), DecodeError::kOk);
    sink.events.clear();
  }
  std::unique_ptr<DydxDecoder> d;
  VectorSink sink;
};

// ---- subscribe.h ----

TEST(DydxSubscribe, Frames) {
  EXPECT_EQ(DydxSubscribeFrame(DydxChannel::kOrderbook, "BTC-USD", true),
            R"({"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD","batched":true})");
  EXPECT_EQ(DydxSubscribeFrame(DydxChannel::kTrades, "ETH-USD"),
            R"({"type":"subscribe","channel":"v4_trades","id":"ETH-USD","batched":false})");
  EXPECT_EQ(DydxSubscribeFrame(DydxChannel::kMarkets, "ignored"),
            R"({"type":"subscribe","channel":"v4_markets","batched":false})");
  EXPECT_EQ(DydxUnsubscribeFrame(DydxChannel::kOrderbook, "BTC-USD"),
            R"({"type":"unsubscribe","channel":"v4_orderbook","id":"BTC-USD"})");
  EXPECT_EQ(DydxUnsubscribeFrame(DydxChannel::kMarkets),
            R"({"type":"unsubscribe","channel":"v4_markets"})");
  EXPECT_EQ(DydxSubscribeFrame(DydxChannel::kTrades, "A\"B\\C\n"),
            R"({"type":"subscribe","channel":"v4_trades","id":"A\"B\\C\u000a","batched":false})");
}

TEST(DydxSubscribe, DecoderFramesCoverTheTable) {
  auto d = Decoder({.batched = true}, {{"BTC-USD", 0, 0, 4}, {"ETH-USD", 1, 1, 3}});
  EXPECT_EQ(d->venue(), Venue::kDydx);
  EXPECT_EQ(d->SubscribeFrames(),
            (std::vector<std::string>{
                R"({"type":"subscribe","channel":"v4_markets","batched":false})",
                R"({"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD","batched":true})",
                R"({"type":"subscribe","channel":"v4_trades","id":"BTC-USD","batched":true})",
                R"({"type":"subscribe","channel":"v4_orderbook","id":"ETH-USD","batched":true})",
                R"({"type":"subscribe","channel":"v4_trades","id":"ETH-USD","batched":true})"}));
  EXPECT_EQ(d->ResubscribeFrames(1),
            (std::vector<std::string>{
                R"({"type":"unsubscribe","channel":"v4_orderbook","id":"ETH-USD"})",
                R"({"type":"subscribe","channel":"v4_orderbook","id":"ETH-USD","batched":true})"}));
  EXPECT_TRUE(d->ResubscribeFrames(7).empty());
  EXPECT_TRUE(d->SnapshotTarget(0).empty()) << "dYdX books come from the subscription";
  auto plain =
      Decoder({.subscribe_trades = false, .subscribe_markets = false}, {{"BTC-USD", 0, 0, 4}});
  EXPECT_EQ(
      plain->SubscribeFrames(),
      (std::vector<std::string>{
          R"({"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD","batched":false})"}));
}

// ---- message types ----

TEST(DydxDecoder, ConnectedPongAndErrors) {
  auto d = Decoder();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, R"({"type":"connected","connection_id":"004a","message_id":0})", sink),
            DecodeError::kOk);
  EXPECT_EQ(d->dydx_counters().connected, 1u);
  EXPECT_EQ(Feed(*d, R"({"type":"pong","connection_id":"004a","message_id":0})", sink),
            DecodeError::kOk);
  EXPECT_EQ(Feed(*d,
                 R"({"type":"error","message":"Invalid subscribe message: channel is required",)"
                 R"("connection_id":"004a","message_id":1})",
                 sink),
            DecodeError::kVenueError);
  EXPECT_EQ(d->counters().venue_errors, 1u);
  EXPECT_EQ(d->last_error(), DecodeError::kVenueError);
  EXPECT_EQ(Feed(*d, R"({"type":"mystery","message_id":2})", sink), DecodeError::kUnknownType);
  EXPECT_EQ(Feed(*d,
                 R"({"type":"channel_data","message_id":3,"id":"BTC-USD/1MIN",)"
                 R"("channel":"v4_candles","contents":{}})",
                 sink),
            DecodeError::kUnknownType);
  EXPECT_EQ(d->counters().unknown_messages, 2u);
  EXPECT_EQ(Feed(*d, Update(4, R"({"bids":[["1","1"]]})", "DOGE-USD"), sink),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(d->counters().unknown_instrument, 1u);
  EXPECT_EQ(d->counters().decode_errors, 0u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(DydxDecoder, SnapshotObjectLevelsAndArrayUpdates) {
  Live t;
  ASSERT_EQ(
      Feed(*t.d, Update(2, R"({"bids":[["60000","0"],["59999.5","2"]],"asks":[["60002","1"]]})"),
           t.sink),
      DecodeError::kOk);
  ASSERT_EQ(t.sink.events.size(), 1u);
  EXPECT_EQ(t.sink.events[0].venue_seq, 2u);
  EXPECT_EQ(t.sink.events[0].flags, kMdMessageEnd);
  EXPECT_GT(t.sink.events[0].times.decoded_ns, 0);
  EXPECT_EQ(t.sink.events[0].times.recv_ns, 1);
  EXPECT_EQ(LevelsOf(t.sink.events), (std::vector<Lv>{{Side::kBuy, 6000000, 0},
                                                      {Side::kBuy, 5999950, 20000},
                                                      {Side::kSell, 6000200, 10000}}));
  EXPECT_EQ(t.d->counters().level_messages, 2u);
  EXPECT_EQ(t.d->instrument_counters(kBtc)->updates, 2u);
}

TEST(DydxDecoder, SnapshotAppliesToABook) {
  auto d = Decoder();
  VectorSink sink;
  d->OnOpen(0, sink);
  std::string bids, asks;
  for (int i = 0; i < 30; ++i) {
    if (i) bids += ",", asks += ",";
    bids += R"({"price":")" + std::to_string(60000 - i) + R"(","size":"0.1"})";
    asks += R"({"price":")" + std::to_string(60001 + i) + R"(","size":"0.2"})";
  }
  ASSERT_EQ(Feed(*d, Snapshot(5, bids, asks), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 6u);  // 60 levels, 11 per event
  EXPECT_EQ(sink.events.front().flags, kMdSnapshot | kMdSnapshotBegin);
  EXPECT_EQ(sink.events.back().flags, kMdSnapshot | kMdSnapshotEnd | kMdMessageEnd);
  OrderBook book(kBtc, 100);
  testing::ApplyAll(book, sink.events);
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(book.bids().size(), 30u);
  EXPECT_EQ(book.asks().size(), 30u);
  EXPECT_EQ(book.best_bid()->price, 6000000);
  EXPECT_EQ(book.best_ask()->size, 2000);
  EXPECT_EQ(d->counters().events, 6u);
}

TEST(DydxDecoder, EmptySnapshotIsOneEvent) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Snapshot(1, "", ""), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(sink.events[0].levels.size(), 0u);
}

TEST(DydxDecoder, TradesSubscribedAreHistory) {
  auto d = Decoder();
  VectorSink sink;
  const std::string hist =
      R"({"type":"subscribed","connection_id":"c","message_id":1,"channel":"v4_trades",)"
      R"("id":"BTC-USD","contents":{"trades":[{"side":"SELL","size":"0.0019","price":"27841",)"
      R"("createdAt":"2023-04-04T00:28:56.226Z","createdAtHeight":"49592"},)" +
      std::string(kTrade) + "]}}";
  ASSERT_EQ(Feed(*d, hist, sink), DecodeError::kOk) << d->last_error_where();
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].flags, kMdSnapshot);
  EXPECT_EQ(sink.events[1].flags, kMdSnapshot | kMdMessageEnd);
  EXPECT_EQ(sink.events[0].trade.trade_id, 0u) << "no id in the history record";
  EXPECT_EQ(sink.events[0].trade.aggressor, Side::kSell);
  EXPECT_EQ(sink.events[0].trade.size, 19);
  ASSERT_EQ(Feed(*d, TradeMsg(2, kTrade), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events[2].flags, kMdMessageEnd);
  EXPECT_EQ(d->counters().trades, 3u);
}

TEST(DydxDecoder, TradesBatched) {
  auto d = Decoder();
  VectorSink sink;
  const std::string m =
      R"({"type":"channel_batch_data","message_id":4,"id":"BTC-USD","channel":"v4_trades",)"
      R"("version":"2.1.0","contents":[{"trades":[)" +
      std::string(kTrade) + R"(]},{"trades":[)" + std::string(kTrade) + "]}]}";
  ASSERT_EQ(Feed(*d, m, sink), DecodeError::kOk);
  ASSERT_EQ(OfType(sink.events, MdType::kTrade).size(), 2u);
  EXPECT_EQ(sink.events[1].flags, kMdMessageEnd);
}

// ---- errors: nothing emitted, counted, the book marked ----

TEST(DydxDecoder, MalformedJsonIsCountedAndGapsLiveBooks) {
  Live t;
  for (const char* bad : {"", "not json", "[1,2]", "{\"type\":", "{\"type\":\"channel_data\"}}",
                          "{\"type\":\"channel_data\",\"message_id\":2,}"}) {
    const DecodeError e = Feed(*t.d, bad, t.sink);
    EXPECT_TRUE(e == DecodeError::kMalformedJson || e == DecodeError::kMissingField)
        << bad << " -> " << DecodeErrorName(e);
  }
  // Unattributable (it could have been any book's update): the live book is no longer trusted,
  // once, and a resubscription is asked for, once.
  EXPECT_EQ(StatusesOf(t.sink.events), (std::vector<MdStatus>{MdStatus::kGap}));
  EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty());
  EXPECT_EQ(t.d->counters().decode_errors, 6u);
  EXPECT_GE(t.d->dydx_counters().unattributed_failures, 1u);
  FeedAction a;
  ASSERT_TRUE(t.d->PopAction(&a));
  EXPECT_EQ(a.type, FeedActionType::kResubscribe);
  EXPECT_EQ(a.instrument, kBtc);
  EXPECT_FALSE(t.d->PopAction(&a));
  // Updates are held back until the new snapshot, which is followed by kResynced.
  EXPECT_EQ(Feed(*t.d, Update(3, R"({"bids":[["1","1"]]})"), t.sink), DecodeError::kOk);
  EXPECT_EQ(t.d->counters().dropped_before_snapshot, 1u);
  ASSERT_EQ(Feed(*t.d, Snapshot(4), t.sink), DecodeError::kOk);
  EXPECT_EQ(StatusesOf(t.sink.events),
            (std::vector<MdStatus>{MdStatus::kGap, MdStatus::kResynced}));
  EXPECT_EQ(t.d->counters().resyncs, 1u);
  EXPECT_EQ(t.sink.events.back().status.code, MdStatus::kResynced);
}

TEST(DydxDecoder, MalformedTradesMessageLeavesBooksAlone) {
  Live t;
  // Malformed after the envelope (a missing comma): known to be a trades message.
  EXPECT_EQ(Feed(*t.d, TradeMsg(2, R"({"side":"BUY" "size":"1","price":"1"})"), t.sink),
            DecodeError::kMalformedJson);
  EXPECT_TRUE(t.sink.events.empty());
  FeedAction a;
  EXPECT_FALSE(t.d->PopAction(&a));
}

TEST(DydxDecoder, TruncatedAtEveryByteNeverEmitsAPart) {
  const std::vector<std::string> msgs = {
      Snapshot(2, R"({"price":"60000","size":"1.5"},{"price":"59999","size":"2"})",
               R"({"price":"60001","size":"0.25"})"),
      Update(3, R"({"bids":[["60000","0"],["59998","1"]],"asks":[["60003","1"]]})"),
      Batch(4, R"([{"bids":[["59990","1"]]},{"asks":[["60010","2"]]}])"),
      TradeMsg(5, std::string(kTrade) + "," + kTrade),
      R"({"type":"subscribed","message_id":6,"channel":"v4_markets","contents":{"markets":{)"
      R"("BTC-USD":{"clobPairId":"0","ticker":"BTC-USD","status":"ACTIVE","atomicResolution":-10,)"
      R"("quantumConversionExponent":-9,"tickSize":"1","stepSize":"0.0001",)"
      R"("stepBaseQuantums":1000000,"subticksPerTick":100000}}}})",
  };
  for (const std::string& full : msgs) {
    for (size_t n = 0; n < full.size(); ++n) {
      Live t(DydxDecoderOptions{.max_message_bytes = 4096});
      const std::string part = full.substr(0, n);
      const DecodeError e = Feed(*t.d, part, t.sink);
      EXPECT_NE(e, DecodeError::kOk) << "accepted a " << n << "-byte prefix of " << full;
      EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty()) << part;
      EXPECT_TRUE(OfType(t.sink.events, MdType::kTrade).empty()) << part;
      EXPECT_EQ(t.d->market_params("BTC-USD"), nullptr) << part;
    }
    Live t;
    EXPECT_EQ(Feed(*t.d, full, t.sink), DecodeError::kOk) << full;
  }
}

TEST(DydxDecoder, MissingFields) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      {Snapshot(2, R"({"size":"1"})"), "object level without price"},
      {Snapshot(2, R"({"price":"1"})"), "object level without size"},
      {Update(2, R"({"bids":[["60000"]]})"), "array level with one element"},
      {Update(2, R"({"bids":[[60000,"1"]]})"), "price as a JSON number"},
      {Update(2, R"({"bids":"none"})"), "bids not an array"},
      {Update(2, R"({"bids":[7]})"), "level neither array nor object"},
      {Update(2, R"([])"), "contents not an object"},
      {R"({"type":"channel_data","message_id":2,"id":"BTC-USD","channel":"v4_orderbook"})",
       "no contents"},
      {R"({"type":"channel_data","message_id":2,"channel":"v4_orderbook","contents":{}})", "no id"},
      {R"({"type":"channel_data","id":"BTC-USD","channel":"v4_orderbook","contents":{}})",
       "no message_id"},
      {R"({"type":"channel_data","message_id":2,"id":"BTC-USD","contents":{}})", "no channel"},
      {R"({"message_id":2,"id":"BTC-USD","channel":"v4_orderbook","contents":{}})", "no type"},
      {R"({"type":"channel_data","message_id":"2","id":"BTC-USD","channel":"v4_orderbook","contents":{}})",
       "message_id as a string"},
      {TradeMsg(2, R"({"size":"1","price":"1"})"), "trade without side"},
      {TradeMsg(2, R"({"side":"BUY","price":"1"})"), "trade without size"},
      {TradeMsg(2, R"({"side":"BUY","size":"1"})"), "trade without price"},
      {R"({"type":"channel_data","message_id":2,"id":"BTC-USD","channel":"v4_trades","contents":{}})",
       "trades message without trades"},
      {R"({"type":"subscribed","message_id":2,"channel":"v4_markets","contents":{"markets":{)"
       R"("BTC-USD":{"clobPairId":"0","status":"ACTIVE","atomicResolution":-10,)"
       R"("quantumConversionExponent":-9,"stepSize":"0.0001","stepBaseQuantums":1000000,)"
       R"("subticksPerTick":100000}}}})",
       "market without tickSize"},
      {R"({"type":"subscribed","message_id":2,"channel":"v4_markets","contents":{}})",
       "markets subscribed without markets"},
  };
  for (const auto& [msg, what] : cases) {
    Live t;
    EXPECT_EQ(Feed(*t.d, msg, t.sink), DecodeError::kMissingField) << what << ": " << msg;
    EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty()) << what;
    EXPECT_TRUE(OfType(t.sink.events, MdType::kTrade).empty()) << what;
    EXPECT_EQ(t.d->counters().decode_errors, 1u) << what;
  }
}

TEST(DydxDecoder, NumbersThatDoNotFitTheScale) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      {Update(2, R"({"bids":[["60000.125","1"]]})"), "price with 3 decimals at scale 2"},
      {Update(2, R"({"bids":[["60000","1.00001"]]})"), "size with 5 decimals at scale 4"},
      {Update(2, R"({"bids":[["-1","1"]]})"), "negative price"},
      {Update(2, R"({"asks":[["60000","-1"]]})"), "negative size"},
      {Update(2, R"({"asks":[["6e","1"]]})"), "malformed number"},
      {Update(2, R"({"asks":[["","1"]]})"), "empty price"},
      {Update(2, R"({"asks":[["99999999999999999999","1"]]})"), "overflow"},
      {Update(2, R"({"asks":[["6\u0030000","1"]]})"), "escaped digit"},
      {TradeMsg(2, R"({"side":"BUY","size":"0.00001","price":"1"})"), "trade size"},
      {R"({"type":"channel_data","message_id":18446744073709551616,"id":"BTC-USD","channel":"v4_orderbook","contents":{}})",
       "message_id beyond 64 bits"},
      {R"({"type":"subscribed","message_id":2,"channel":"v4_markets","contents":{"markets":{"BTC-USD":{"tickSize":"x"}}}})",
       "tickSize"},
  };
  for (const auto& [msg, what] : cases) {
    Live t;
    EXPECT_EQ(Feed(*t.d, msg, t.sink), DecodeError::kBadNumber) << what;
    EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty()) << what;
  }
}

TEST(DydxDecoder, BadValues) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      {TradeMsg(2, R"({"side":"HOLD","size":"1","price":"1"})"), "trade side"},
      {TradeMsg(2, R"({"side":"BUY","size":"1","price":"1","createdAt":"yesterday"})"),
       "createdAt"},
      {Update(2, R"({"bids":[["0","1"]]})"), "zero price"},
      {R"({"type":"subscribed","message_id":2,"channel":"v4_markets","contents":{"markets":{"BTC-USD":{"tickSize":"0"}}}})",
       "zero tickSize"},
  };
  for (const auto& [msg, what] : cases) {
    Live t;
    EXPECT_EQ(Feed(*t.d, msg, t.sink), DecodeError::kBadValue) << what;
    EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty()) << what;
  }
}

TEST(DydxDecoder, ABadBookUpdateGapsOnlyItsBookAndResubscribesOnce) {
  auto d = Decoder();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Snapshot(1), sink), DecodeError::kOk);
  ASSERT_EQ(Feed(*d,
                 R"({"type":"subscribed","message_id":2,"channel":"v4_orderbook","id":"ETH-USD",)"
                 R"("contents":{"bids":[{"price":"2600","size":"1"}],"asks":[]}})",
                 sink),
            DecodeError::kOk);
  sink.events.clear();
  EXPECT_EQ(Feed(*d, Update(3, R"({"bids":[["1.001","1"]]})"), sink), DecodeError::kBadNumber);
  EXPECT_EQ(Feed(*d, Update(4, R"({"bids":[["1.001","1"]]})"), sink), DecodeError::kBadNumber);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].status.code, MdStatus::kGap);
  EXPECT_EQ(sink.events[0].instrument, kBtc);
  EXPECT_EQ(sink.events[0].status.received_seq, 3u);
  EXPECT_EQ(d->instrument_counters(kBtc)->decode_errors, 2u);
  EXPECT_EQ(d->instrument_counters(kBtc)->gaps, 1u);
  EXPECT_EQ(d->instrument_counters(1)->gaps, 0u);
  FeedAction a;
  ASSERT_TRUE(d->PopAction(&a));
  EXPECT_EQ(a.type, FeedActionType::kResubscribe);
  EXPECT_EQ(a.instrument, kBtc);
  EXPECT_FALSE(d->PopAction(&a)) << "no second request while waiting for the snapshot";
  // ETH-USD still applies.
  EXPECT_EQ(Feed(*d, Update(5, R"({"asks":[["2601","1"]]})", "ETH-USD"), sink), DecodeError::kOk);
  EXPECT_EQ(OfType(sink.events, MdType::kLevels).size(), 1u);
}

TEST(DydxDecoder, TooLarge) {
  {
    Live t(DydxDecoderOptions{.max_levels = 2});
    EXPECT_EQ(Feed(*t.d, Update(2, R"({"bids":[["1","1"],["2","1"],["3","1"]]})"), t.sink),
              DecodeError::kTooLarge);
    EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty());
  }
  {
    Live t(DydxDecoderOptions{.max_levels = 2});
    EXPECT_EQ(
        Feed(*t.d, Update(2, R"({"bids":[["1","1"],["2","1"]],"asks":[["70000","1"]]})"), t.sink),
        DecodeError::kOk)
        << "the limit is per side";
    EXPECT_EQ(LevelsOf(t.sink.events).size(), 3u);
  }
  {
    Live t(DydxDecoderOptions{.max_trades = 1});
    EXPECT_EQ(Feed(*t.d, TradeMsg(2, std::string(kTrade) + "," + kTrade), t.sink),
              DecodeError::kTooLarge);
    EXPECT_TRUE(t.sink.events.empty());
  }
  {
    Live t(DydxDecoderOptions{.max_message_bytes = 1024});
    std::string big = Update(2, R"({"bids":[["1","1"]]})");
    big.insert(big.size() - 1, R"(,"pad":")" + std::string(2000, 'x') + "\"");
    EXPECT_EQ(Feed(*t.d, big, t.sink), DecodeError::kTooLarge);
  }
}

// ---- message_id ----

TEST(DydxDecoder, DuplicateAndOldMessageIdsAreSkipped) {
  Live t;
  ASSERT_EQ(Feed(*t.d, Update(5, R"({"bids":[["60000","1"]]})"), t.sink), DecodeError::kOk);
  EXPECT_EQ(Feed(*t.d, Update(5, R"({"bids":[["60000","9"]]})"), t.sink), DecodeError::kSequence);
  EXPECT_EQ(Feed(*t.d, Update(4, R"({"bids":[["60000","9"]]})"), t.sink), DecodeError::kSequence);
  EXPECT_EQ(Feed(*t.d, TradeMsg(3, kTrade), t.sink), DecodeError::kSequence) << "any channel";
  EXPECT_EQ(t.d->counters().duplicates, 3u);
  EXPECT_EQ(t.d->counters().decode_errors, 0u);
  EXPECT_EQ(LevelsOf(t.sink.events), (std::vector<Lv>{{Side::kBuy, 6000000, 10000}}));
  EXPECT_TRUE(StatusesOf(t.sink.events).empty()) << "a duplicate is not a gap";
  // Holes are normal (ids are shared by channels and reserved by subscribe requests).
  ASSERT_EQ(Feed(*t.d, Update(9, R"({"bids":[["60000","2"]]})"), t.sink), DecodeError::kOk);
  EXPECT_EQ(t.d->dydx_counters().message_id_holes, 2u);  // 1 -> 5 and 5 -> 9
  EXPECT_EQ(t.d->counters().gaps, 0u);
}

TEST(DydxDecoder, SubscribedMayCarryAnOlderReservedId) {
  auto d = Decoder();
  VectorSink sink;
  d->OnOpen(0, sink);
  ASSERT_EQ(Feed(*d, R"({"type":"connected","connection_id":"c","message_id":0})", sink),
            DecodeError::kOk);
  // Subscribe requests reserved ids 1 (trades) and 2 (orderbook); trades data went out first.
  ASSERT_EQ(Feed(*d, TradeMsg(3, kTrade), sink), DecodeError::kOk);
  ASSERT_EQ(Feed(*d, TradeMsg(4, kTrade), sink), DecodeError::kOk);
  ASSERT_EQ(Feed(*d, Snapshot(2), sink), DecodeError::kOk);
  ASSERT_EQ(Feed(*d, Update(5, R"({"asks":[["60002","1"]]})"), sink), DecodeError::kOk);
  EXPECT_EQ(d->counters().duplicates, 0u);
  EXPECT_EQ(d->counters().level_messages, 2u);
  // The same snapshot again is a duplicate.
  EXPECT_EQ(Feed(*d, Snapshot(2), sink), DecodeError::kSequence);
}

TEST(DydxDecoder, ANewConnectionStartsTheIdsAgain) {
  Live t;
  ASSERT_EQ(Feed(*t.d, Update(50, R"({"bids":[["60000","1"]]})"), t.sink), DecodeError::kOk);
  t.d->OnClose(10, t.sink);
  EXPECT_EQ(StatusesOf(t.sink.events).back(), MdStatus::kDisconnected);
  t.d->OnOpen(20, t.sink);
  ASSERT_EQ(Feed(*t.d, R"({"type":"connected","connection_id":"d","message_id":0})", t.sink),
            DecodeError::kOk);
  EXPECT_EQ(Feed(*t.d, Update(2, R"({"bids":[["60000","1"]]})"), t.sink), DecodeError::kOk)
      << "before the snapshot: dropped, not a sequence error";
  EXPECT_EQ(t.d->counters().dropped_before_snapshot, 1u);
  ASSERT_EQ(Feed(*t.d, Snapshot(1), t.sink), DecodeError::kOk);
  EXPECT_EQ(StatusesOf(t.sink.events),
            (std::vector<MdStatus>{MdStatus::kDisconnected, MdStatus::kDisconnected,
                                   MdStatus::kDisconnected, MdStatus::kDisconnected,
                                   MdStatus::kDisconnected, MdStatus::kResynced}));
  EXPECT_EQ(t.d->counters().duplicates, 0u);
}

TEST(DydxDecoder, UnsubscribedStopsTheBook) {
  Live t;
  ASSERT_EQ(Feed(*t.d,
                 R"({"type":"unsubscribed","connection_id":"c","message_id":2,)"
                 R"("channel":"v4_orderbook","id":"BTC-USD"})",
                 t.sink),
            DecodeError::kOk);
  EXPECT_EQ(t.d->dydx_counters().unsubscribed, 1u);
  EXPECT_EQ(StatusesOf(t.sink.events), (std::vector<MdStatus>{MdStatus::kGap}));
  FeedAction a;
  ASSERT_TRUE(t.d->PopAction(&a));
  EXPECT_EQ(a.type, FeedActionType::kResubscribe);
  ASSERT_EQ(Feed(*t.d, Snapshot(3), t.sink), DecodeError::kOk);
  EXPECT_EQ(StatusesOf(t.sink.events),
            (std::vector<MdStatus>{MdStatus::kGap, MdStatus::kResynced}));
}

// ---- field order ----

TEST(DydxDecoder, ReorderedFieldsDecodeTheSame) {
  Live a;
  Live b;
  ASSERT_EQ(Feed(*a.d, Update(2, R"({"bids":[["60000","1"]],"asks":[["60002","3"]]})"), a.sink),
            DecodeError::kOk);
  // contents first, envelope after it, asks before bids, unknown fields between.
  ASSERT_EQ(Feed(*b.d,
                 R"({"contents":{"asks":[["60002","3"]],"x":{"y":[1,2]},"bids":[["60000","1"]]},)"
                 R"("version":"1.0.0","channel":"v4_orderbook","id":"BTC-USD","message_id":2,)"
                 R"("connection_id":"c","type":"channel_data"})",
                 b.sink),
            DecodeError::kOk)
      << b.d->last_error_where();
  EXPECT_EQ(LevelsOf(a.sink.events), LevelsOf(b.sink.events));
  // Object levels with size before price; a snapshot with contents first.
  Live c;
  ASSERT_EQ(Feed(*c.d,
                 R"({"contents":{"asks":[{"size":"0.25","price":"60001"}],)"
                 R"("bids":[{"size":"1.5","price":"60000"}]},"id":"BTC-USD",)"
                 R"("channel":"v4_orderbook","message_id":9,"type":"subscribed"})",
                 c.sink),
            DecodeError::kOk);
  EXPECT_EQ(LevelsOf(c.sink.events),
            (std::vector<Lv>{{Side::kBuy, 6000000, 15000}, {Side::kSell, 6000100, 2500}}));
  // A trade's fields in any order.
  Live e;
  ASSERT_EQ(
      Feed(*e.d,
           R"({"contents":{"trades":[{"type":"LIMIT","createdAt":"2024-08-22T23:59:59.851Z",)"
           R"("side":"BUY","price":"60397","size":"0.002","id":"0165e5e40000000200000002"}]},)"
           R"("channel":"v4_trades","message_id":2,"id":"BTC-USD","type":"channel_data"})",
           e.sink),
      DecodeError::kOk);
  Live f;
  ASSERT_EQ(Feed(*f.d, TradeMsg(2, kTrade), f.sink), DecodeError::kOk);
  ASSERT_EQ(e.sink.events.size(), 1u);
  ASSERT_EQ(f.sink.events.size(), 1u);
  EXPECT_EQ(e.sink.events[0].trade.price, f.sink.events[0].trade.price);
  EXPECT_EQ(e.sink.events[0].trade.size, f.sink.events[0].trade.size);
  EXPECT_EQ(e.sink.events[0].trade.trade_id, f.sink.events[0].trade.trade_id);
  EXPECT_EQ(e.sink.events[0].exchange_ns, f.sink.events[0].exchange_ns);
}

TEST(DydxDecoder, TrailingContentIsMalformed) {
  Live t;
  EXPECT_EQ(Feed(*t.d, Update(2, R"({"bids":[["60000","1"]]})") + "}", t.sink),
            DecodeError::kMalformedJson);
  EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty());
}

// ---- batched form ----

TEST(DydxDecoder, BatchIsOneMessage) {
  Live t({.batched = true});
  std::string items;
  for (int i = 0; i < 8; ++i) {
    if (i) items += ",";
    items += R"({"bids":[[")" + std::to_string(59990 + i) + R"(","1"]],"asks":[[")" +
             std::to_string(60010 + i) + R"(","2"]]})";
  }
  items += R"(,{"bids":[["59990","0"]]})";  // a later update of the same level wins
  ASSERT_EQ(Feed(*t.d, Batch(2, "[" + items + "]"), t.sink), DecodeError::kOk);
  const std::vector<MdEvent> lv = OfType(t.sink.events, MdType::kLevels);
  ASSERT_EQ(lv.size(), 2u);  // 17 levels
  EXPECT_EQ(lv[0].flags, 0);
  EXPECT_EQ(lv[1].flags, kMdMessageEnd);
  EXPECT_EQ(lv[0].venue_seq, 2u);
  EXPECT_EQ(lv[1].venue_seq, 2u);
  EXPECT_EQ(t.d->dydx_counters().batches, 1u);
  EXPECT_EQ(t.d->dydx_counters().batch_updates, 9u);
  EXPECT_EQ(t.d->counters().level_messages, 2u);  // snapshot + this batch
  OrderBook book(kBtc, 50);
  ASSERT_EQ(Feed(*t.d, Snapshot(3), t.sink), DecodeError::kOk);  // a book to check the result on
  std::vector<MdEvent> all = t.sink.events;
  t.sink.events.clear();
  ASSERT_EQ(Feed(*t.d, Batch(4, "[" + items + "]"), t.sink), DecodeError::kOk);
  all.insert(all.end(), t.sink.events.begin(), t.sink.events.end());
  testing::ApplyAll(book, std::vector<MdEvent>(all.begin() + 2, all.end()));
  EXPECT_EQ(book.bids().size(), 8u);  // 60000 + 59991..59997
  EXPECT_EQ(book.bids()[7].price, 5999100);
  EXPECT_EQ(book.asks().size(), 9u);
}

TEST(DydxDecoder, BatchIsAllOrNothing) {
  Live t({.batched = true});
  EXPECT_EQ(Feed(*t.d,
                 Batch(2, R"([{"bids":[["59990","1"]]},{"asks":[["60010","2"]]},)"
                          R"({"asks":[["60011.001","2"]]}])"),
                 t.sink),
            DecodeError::kBadNumber);
  EXPECT_TRUE(OfType(t.sink.events, MdType::kLevels).empty());
  EXPECT_EQ(StatusesOf(t.sink.events), (std::vector<MdStatus>{MdStatus::kGap}));
  EXPECT_EQ(t.d->dydx_counters().batches, 0u);
  EXPECT_EQ(Feed(*t.d, Batch(3, R"({"bids":[]})"), t.sink), DecodeError::kMissingField)
      << "batch contents must be an array";
}

// ---- markets ----

TEST(DydxDecoder, MarketUpdatesAndScaleConflicts) {
  // ETH-USD priced at 0 decimals: coarser than its tickSize 0.1.
  auto d = Decoder({}, {{"BTC-USD", 0, 0, 4}, {"ETH-USD", 1, 0, 3}});
  VectorSink sink;
  const std::string sub =
      R"({"type":"subscribed","message_id":1,"channel":"v4_markets","contents":{"markets":{)"
      R"("BTC-USD":{"clobPairId":"0","status":"ACTIVE","tickSize":"1","stepSize":"0.0001",)"
      R"("atomicResolution":-10,"quantumConversionExponent":-9,"stepBaseQuantums":1000000,)"
      R"("subticksPerTick":100000},)"
      R"("SOL-USD":{"clobPairId":"5","status":"ACTIVE","tickSize":"0.01","stepSize":"0.1"},)"
      R"("ETH-USD":{"clobPairId":1,"status":"PAUSED","tickSize":"0.10","stepSize":"0.001",)"
      R"("atomicResolution":-9,"quantumConversionExponent":-9,"stepBaseQuantums":"1000000",)"
      R"("subticksPerTick":100000}}}})";
  ASSERT_EQ(Feed(*d, sub, sink), DecodeError::kOk) << d->last_error_where();
  EXPECT_EQ(d->dydx_counters().markets_ignored, 1u);
  EXPECT_EQ(d->dydx_counters().scale_conflicts, 1u);
  const DydxMarketParams* eth = d->market_params("ETH-USD");
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->status, DydxMarketStatus::kPaused);
  EXPECT_EQ(eth->clob_pair_id, 1u);
  EXPECT_EQ(eth->step_base_quantums, 1000000u);
  EXPECT_EQ(eth->tick_size.mantissa(), 1);
  EXPECT_EQ(eth->tick_size.scale(), 1) << "trailing zeros dropped";
  EXPECT_EQ(d->market_params(InstrumentId{1}), eth);
  ASSERT_EQ(
      Feed(*d,
           R"({"type":"channel_data","message_id":2,"channel":"v4_markets","version":"1.0.0",)"
           R"("contents":{"trading":{"ETH-USD":{"status":"ACTIVE","subticksPerTick":1000}},)"
           R"("oraclePrices":{"BTC-USD":{"price":"60001.5","effectiveAt":)"
           R"("2024-08-23T00:00:54.301Z","effectiveAtHeight":"23455252","marketId":0}}}})",
           sink),
      DecodeError::kOk);
  EXPECT_EQ(eth->status, DydxMarketStatus::kActive);
  EXPECT_EQ(eth->subticks_per_tick, 1000u);
  EXPECT_EQ(eth->message_id, 2u);
  EXPECT_EQ(d->market_params("BTC-USD")->oracle_price, Decimal::FromMantissa(600015, 1));
  EXPECT_EQ(d->dydx_counters().scale_conflicts, 1u) << "unchanged tick sizes are not recounted";
  // A failing markets message changes no record.
  EXPECT_EQ(
      Feed(*d,
           R"({"type":"channel_data","message_id":3,"channel":"v4_markets","contents":)"
           R"({"trading":{"ETH-USD":{"status":"PAUSED"},"BTC-USD":{"subticksPerTick":"x"}}}})",
           sink),
      DecodeError::kBadNumber);
  EXPECT_EQ(eth->status, DydxMarketStatus::kActive);
  EXPECT_EQ(eth->message_id, 2u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(DydxDecoder, IncompleteMarketsSnapshotChangesNothing) {
  auto d = Decoder();
  VectorSink sink;
  EXPECT_EQ(
      Feed(*d,
           R"({"type":"subscribed","message_id":1,"channel":"v4_markets","contents":{"markets":{)"
           R"("BTC-USD":{"clobPairId":"0","status":"ACTIVE","tickSize":"1","stepSize":"0.0001",)"
           R"("atomicResolution":-10,"quantumConversionExponent":-9,"stepBaseQuantums":1000000,)"
           R"("subticksPerTick":100000},"ETH-USD":{"clobPairId":"1"}}}})",
           sink),
      DecodeError::kMissingField);
  EXPECT_EQ(d->market_params("BTC-USD"), nullptr);
  EXPECT_EQ(d->market_params("ETH-USD"), nullptr);
}

// ---- staleness ----

TEST(DydxDecoder, StaleOncePerQuietBook) {
  Live t;
  EXPECT_EQ(t.d->CheckStale(1 + 1'000, 5'000, t.sink), 0);
  EXPECT_EQ(t.d->CheckStale(1 + 10'000, 5'000, t.sink), 1);
  EXPECT_EQ(t.d->CheckStale(1 + 20'000, 5'000, t.sink), 0);
  EXPECT_EQ(StatusesOf(t.sink.events), (std::vector<MdStatus>{MdStatus::kStale}));
  ASSERT_EQ(Feed(*t.d, Update(2, R"({"bids":[["60000","1"]]})"), t.sink, 30'000), DecodeError::kOk);
  EXPECT_EQ(t.d->CheckStale(30'000 + 10'000, 5'000, t.sink), 1);
}

// ---- allocation ----

TEST(DydxDecoder, NoAllocationInSteadyState) {
  auto d = Decoder({.batched = true});
  testing::CountingSink sink;
  std::vector<std::string> msgs;
  std::string bids, asks;
  for (int i = 0; i < 100; ++i) {
    if (i) bids += ",", asks += ",";
    bids += R"({"price":")" + std::to_string(60000 - i) + R"(","size":"0.1"})";
    asks += R"({"price":")" + std::to_string(60001 + i) + R"(","size":"0.2"})";
  }
  msgs.push_back(Snapshot(1, bids, asks));
  uint64_t mid = 2;
  for (int round = 0; round < 50; ++round) {
    msgs.push_back(Update(mid++, R"({"bids":[["59999","3"]],"asks":[["60001","0"]]})"));
    msgs.push_back(Update(mid++, R"({"asks":[["60001","1"]]})"));
    msgs.push_back(Update(mid++, R"({"bids":[["60002","1"]]})"));  // crosses: the remedy runs
    msgs.push_back(Batch(mid++, R"([{"bids":[["59998","1"]]},{"asks":[["60003","1"]]}])"));
    msgs.push_back(TradeMsg(mid++, std::string(kTrade) + "," + kTrade));
    msgs.push_back(
        R"({"type":"channel_data","message_id":)" + std::to_string(mid++) +
        R"(,"channel":"v4_markets","contents":{"trading":{"BTC-USD":{"subticksPerTick":100000}}}})");
    msgs.push_back(Update(mid++, R"({"bids":[["1.001","1"]]})"));  // an error, then a resync
    msgs.push_back(Update(mid++, R"({"bids":[["59997","1"]]})"));  // dropped before snapshot
    msgs.push_back(Snapshot(mid++, bids, asks));
  }
  std::vector<std::string> padded;
  for (const std::string& m : msgs) padded.push_back(m + std::string(kFeedPadding, '\0'));
  // Warm up with the first round, then count.
  const size_t warm = 10;
  for (size_t i = 0; i < warm; ++i) {
    (void)d->OnMessage(padded[i].data(), msgs[i].size(), 1, sink);
  }
  FeedAction a;
  while (d->PopAction(&a)) {
  }
  const uint64_t before = testing::AllocationCount();
  for (size_t i = warm; i < msgs.size(); ++i) {
    (void)d->OnMessage(padded[i].data(), msgs[i].size(), static_cast<int64_t>(i), sink);
    while (d->PopAction(&a)) {
    }
  }
  EXPECT_EQ(testing::AllocationCount(), before);
  // The counter does count (so the check above can fail).
  void* probe = ::operator new(64);  // a direct call: never elided
  EXPECT_GT(testing::AllocationCount(), before);
  ::operator delete(probe);
  EXPECT_GT(sink.n, 400u);
  EXPECT_GE(d->dydx_counters().crossed, 49u);
  EXPECT_GE(d->counters().resyncs, 49u);
  EXPECT_EQ(d->counters().duplicates, 0u);
}

}  // namespace
}  // namespace nzeza
