// Unit tests of the Coinbase Advanced Trade decoder: every channel, the sequence_num rules (gap,
// duplicate, restart per connection), resync after a gap, every error kind (malformed, truncated
// at every byte, missing fields, numbers that do not fit the scale, unknown channel/product,
// escaped strings, too large), member order, subscribe frames, and no allocation after warm-up.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../../common/counting_allocator.h"
#include "coinbase_test_util.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/coinbase/subscribe.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

using testing::DataEvents;
using testing::Feed;
using testing::LevelsOf;
using testing::OfType;
using testing::SidedLevel;
using testing::WithStatus;

constexpr InstrumentId kBtc = 10;
constexpr InstrumentId kEth = 11;
constexpr const char* kTs = "2023-02-09T20:32:50.714964855Z";
constexpr int64_t kTsNs = 1675974770714964855;

SymbolTable TwoProducts() {
  return testing::Table({{"BTC-USD", kBtc, 2, 8}, {"ETH-USD", kEth, 2, 8}});
}

struct Up {
  std::string side, price, qty;
};

std::string L2(uint64_t seq, std::string_view product, std::string_view type,
               const std::vector<Up>& ups) {
  std::string s = R"({"channel":"l2_data","client_id":"","timestamp":")" + std::string(kTs) +
                  R"(","sequence_num":)" + std::to_string(seq) + R"(,"events":[{"type":")" +
                  std::string(type) + R"(","product_id":")" + std::string(product) +
                  R"(","updates":[)";
  for (size_t i = 0; i < ups.size(); ++i) {
    if (i) s += ",";
    s += R"({"side":")" + ups[i].side +
         R"(","event_time":"2023-02-09T20:32:50.01Z","price_level":")" + ups[i].price +
         R"(","new_quantity":")" + ups[i].qty + R"("})";
  }
  return s + "]}]}";
}

std::string Heartbeat(uint64_t seq) {
  return R"({"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":)" +
         std::to_string(seq) +
         R"(,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]})";
}

std::string Trades(uint64_t seq, std::string_view body) {
  return R"({"channel":"market_trades","client_id":"","timestamp":")" + std::string(kTs) +
         R"(","sequence_num":)" + std::to_string(seq) +
         R"(,"events":[{"type":"update","trades":[)" + std::string(body) + "]}]}";
}

std::string Ticker(uint64_t seq, std::string_view body) {
  return R"({"channel":"ticker","client_id":"","timestamp":")" + std::string(kTs) +
         R"(","sequence_num":)" + std::to_string(seq) +
         R"(,"events":[{"type":"update","tickers":[)" + std::string(body) + "]}]}";
}

std::unique_ptr<FeedDecoder> Make(CoinbaseDecoderOptions o = {}) {
  o.max_message_bytes = 1 << 16;
  auto d = MakeCoinbaseAdvancedDecoder(TwoProducts(), std::move(o));
  VectorSink s;
  d->OnOpen(0, s);
  return d;
}

std::vector<FeedAction> Actions(FeedDecoder& d) {
  std::vector<FeedAction> out;
  FeedAction a;
  while (d.PopAction(&a)) out.push_back(a);
  return out;
}

// A decoder whose two books are live (snapshots at seq 0 and 1).
std::unique_ptr<FeedDecoder> Live(VectorSink& sink, CoinbaseDecoderOptions o = {}) {
  auto d = Make(std::move(o));
  EXPECT_EQ(
      Feed(*d, L2(0, "BTC-USD", "snapshot", {{"bid", "100.00", "1"}, {"offer", "101", "2"}}), sink),
      DecodeError::kOk);
  EXPECT_EQ(
      Feed(*d, L2(1, "ETH-USD", "snapshot", {{"bid", "10", "1"}, {"offer", "11", "2"}}), sink),
      DecodeError::kOk);
  sink.events.clear();
  return d;
}

TEST(CoinbaseAdvanced, SnapshotIsOneSnapshotRun) {
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d,
                 L2(0, "BTC-USD", "snapshot",
                    {{"bid", "21921.73", "0.06317902"},
                     {"offer", "21921.74", "1"},
                     {"bid", "21921.3", "0.02"}}),
                 sink, 77),
            DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kLevels);
  EXPECT_EQ(e.venue, Venue::kCoinbase);
  EXPECT_EQ(e.instrument, kBtc);
  EXPECT_EQ(e.flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(e.venue_seq, 0u);
  EXPECT_EQ(e.exchange_ns, kTsNs);
  EXPECT_EQ(e.times.recv_ns, 77);
  EXPECT_GT(e.times.decoded_ns, 0);
  EXPECT_EQ(LevelsOf(sink.events), (std::vector<SidedLevel>{{Side::kBuy, 2192173, 6317902},
                                                            {Side::kBuy, 2192130, 2000000},
                                                            {Side::kSell, 2192174, 100000000}}));
  EXPECT_EQ(d->counters().snapshots, 1u);
  EXPECT_EQ(d->counters().level_messages, 1u);
  EXPECT_EQ(d->counters().events, 1u);
}

TEST(CoinbaseAdvanced, DeepSnapshotSpansSeveralEventsAndBuildsTheBook) {
  std::vector<Up> ups;
  for (int i = 0; i < 15; ++i) ups.push_back({"bid", std::to_string(100 - i), "1.5"});
  for (int i = 0; i < 15; ++i) ups.push_back({"offer", std::to_string(101 + i), "2"});
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, L2(0, "BTC-USD", "snapshot", ups), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 3u);  // 30 levels, 11 per event
  EXPECT_EQ(sink.events[0].flags, kMdSnapshot | kMdSnapshotBegin);
  EXPECT_EQ(sink.events[1].flags, kMdSnapshot);
  EXPECT_EQ(sink.events[2].flags, kMdSnapshot | kMdSnapshotEnd | kMdMessageEnd);
  OrderBook book(kBtc, 100);
  for (const MdEvent& e : sink.events) ASSERT_TRUE(book.Apply(e).ok());
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(book.bids().size(), 15u);
  EXPECT_EQ(book.asks().size(), 15u);
  EXPECT_EQ(book.best_bid()->price, 10000);
  EXPECT_EQ(book.best_ask()->price, 10100);
  EXPECT_EQ(book.best_bid()->size, 150000000);
}

TEST(CoinbaseAdvanced, UpdatesAreAbsoluteAndZeroDeletes) {
  VectorSink sink;
  auto d = Live(sink);
  OrderBook book(kBtc, 16);
  {
    VectorSink s0;
    auto d0 = Make();
    ASSERT_EQ(
        Feed(*d0, L2(0, "BTC-USD", "snapshot", {{"bid", "100", "1"}, {"offer", "101", "2"}}), s0),
        DecodeError::kOk);
    for (const MdEvent& e : s0.events) ASSERT_TRUE(book.Apply(e).ok());
  }
  ASSERT_EQ(Feed(*d,
                 L2(2, "BTC-USD", "update",
                    {{"bid", "100", "3.25"}, {"offer", "101", "0"}, {"ask", "102", "4"}}),
                 sink),
            DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].flags, kMdMessageEnd);
  EXPECT_EQ(sink.events[0].venue_seq, 2u);
  EXPECT_EQ(LevelsOf(sink.events), (std::vector<SidedLevel>{{Side::kBuy, 10000, 325000000},
                                                            {Side::kSell, 10100, 0},
                                                            {Side::kSell, 10200, 400000000}}));
  ASSERT_TRUE(book.Apply(sink.events[0]).ok());
  EXPECT_EQ(book.best_bid()->size, 325000000);
  EXPECT_EQ(book.best_ask()->price, 10200);
  EXPECT_EQ(book.asks().size(), 1u);
}

TEST(CoinbaseAdvanced, MarketTradesSideIsTheTakerSide) {
  VectorSink sink;
  auto d = Live(sink);
  ASSERT_EQ(
      Feed(
          *d,
          Trades(
              2,
              R"({"trade_id":"000000123","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"},)"
              R"({"trade_id":"a7c4-11","product_id":"BTC-USD","price":"21000","size":"0.00000001","side":"SELL"},)"
              R"({"trade_id":987,"product_id":"BTC-USD","price":"21000.5","size":"2","side":"SELL"})"),
          sink),
      DecodeError::kOk);
  std::vector<MdEvent> t = OfType(sink.events, MdType::kTrade);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].instrument, kEth);
  EXPECT_EQ(t[0].trade.price, 126001);
  EXPECT_EQ(t[0].trade.size, 30000000);
  EXPECT_EQ(t[0].trade.aggressor, Side::kBuy);
  EXPECT_EQ(t[0].trade.trade_id, 123u);
  EXPECT_EQ(t[0].exchange_ns, 1565815347265000000);
  EXPECT_EQ(t[0].venue_seq, 2u);
  EXPECT_EQ(t[1].instrument, kBtc);
  EXPECT_EQ(t[1].trade.aggressor, Side::kSell);
  EXPECT_EQ(t[1].trade.size, 1);
  EXPECT_EQ(t[1].trade.trade_id, Fnv1a64("a7c4-11"));
  EXPECT_EQ(t[1].exchange_ns, kTsNs) << "no trade time: the envelope's";
  EXPECT_EQ(t[2].trade.trade_id, 987u);
  EXPECT_EQ(t[2].trade.price, 2100050);
  EXPECT_EQ(d->counters().trades, 3u);
}

TEST(CoinbaseAdvanced, TickerWithBestBidAskIsABbo) {
  VectorSink sink;
  auto d = Live(sink);
  ASSERT_EQ(
      Feed(
          *d,
          Ticker(
              2,
              R"({"type":"ticker","product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","best_bid":"21931.98","best_bid_quantity":"8000.21","best_ask":"21933.98","best_ask_quantity":"8038.07770938"},)"
              R"({"type":"ticker","product_id":"ETH-USD","price":"1500"})"),
          sink),
      DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u) << "a ticker without best_* has no BBO";
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kBbo);
  EXPECT_EQ(e.instrument, kBtc);
  EXPECT_EQ(e.bbo.bid_price, 2193198);
  EXPECT_EQ(e.bbo.bid_size, 800021000000);
  EXPECT_EQ(e.bbo.ask_price, 2193398);
  EXPECT_EQ(e.bbo.ask_size, 803807770938);
  EXPECT_EQ(e.venue_seq, 2u);
  EXPECT_EQ(CoinbaseCountersOf(*d)->tickers, 2u);
  // ticker_batch has the ticker schema.
  std::string batch = Ticker(
      3, R"({"product_id":"ETH-USD","best_bid":"10.5","best_ask":"10.6","best_ask_quantity":"1"})");
  batch.replace(batch.find("\"ticker\""), 8, "\"ticker_batch\"");
  ASSERT_EQ(Feed(*d, batch, sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].bbo.bid_price, 1050);
  EXPECT_EQ(sink.events[1].bbo.bid_size, 0) << "absent quantity";
  EXPECT_EQ(sink.events[1].bbo.ask_size, 100000000);
}

TEST(CoinbaseAdvanced, HeartbeatsAreCountedAndKeepEveryBookFresh) {
  VectorSink sink;
  auto d = Live(sink);
  ASSERT_EQ(Feed(*d, Heartbeat(2), sink, /*recv_ns=*/1'000'000'000), DecodeError::kOk);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(CoinbaseCountersOf(*d)->heartbeats, 1u);
  // 0.5 s after the heartbeat with a 1 s budget: nothing is stale, although the books' last
  // updates were at t = 1 ns.
  EXPECT_EQ(d->CheckStale(1'500'000'000, 1'000'000'000, sink), 0);
  EXPECT_EQ(d->CheckStale(2'500'000'000, 1'000'000'000, sink), 2);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kStale).size(), 2u);
}

TEST(CoinbaseAdvanced, SubscriptionsAreCounted) {
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(
      Feed(
          *d,
          R"({"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]})",
          sink),
      DecodeError::kOk);
  EXPECT_EQ(CoinbaseCountersOf(*d)->subscriptions, 1u);
  EXPECT_TRUE(sink.events.empty());
}

TEST(CoinbaseAdvanced, ErrorMessageIsAVenueError) {
  auto d = Make();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, R"({"type":"error","message":"failure to subscribe"})", sink),
            DecodeError::kVenueError);
  EXPECT_EQ(d->counters().venue_errors, 1u);
  EXPECT_EQ(d->last_error(), DecodeError::kVenueError);
}

TEST(CoinbaseAdvanced, UnknownChannelIsCountedButItsSequenceNumberCounts) {
  VectorSink sink;
  auto d = Live(sink);
  EXPECT_EQ(
      Feed(
          *d,
          R"({"channel":"candles","client_id":"","timestamp":"2023-02-09T20:32:50Z","sequence_num":2,"events":[{"type":"update","candles":[]}]})",
          sink),
      DecodeError::kUnknownType);
  EXPECT_EQ(d->counters().unknown_messages, 1u);
  // seq 3 follows without a gap.
  EXPECT_EQ(Feed(*d, Heartbeat(3), sink), DecodeError::kOk);
  EXPECT_EQ(d->counters().gaps, 0u);
}

TEST(CoinbaseAdvanced, UnknownProductIsCountedAndSkipped) {
  VectorSink sink;
  auto d = Live(sink);
  EXPECT_EQ(Feed(*d, L2(2, "DOGE-USD", "update", {{"bid", "0.1", "5"}}), sink),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(d->counters().unknown_instrument, 1u);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(Feed(*d, L2(3, "BTC-USD", "update", {{"bid", "100", "5"}}), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(CoinbaseAdvanced, SequenceGapMarksEveryBookResubscribesAndResyncs) {
  VectorSink sink;
  auto d = Live(sink);
  ASSERT_EQ(Feed(*d, L2(2, "BTC-USD", "update", {{"bid", "100", "5"}}), sink), DecodeError::kOk);
  sink.events.clear();
  // 3 and 4 are lost.
  ASSERT_EQ(Feed(*d, L2(5, "BTC-USD", "update", {{"bid", "100", "6"}}), sink), DecodeError::kOk);
  std::vector<MdEvent> gaps = WithStatus(sink.events, MdStatus::kGap);
  ASSERT_EQ(gaps.size(), 2u);
  std::set<InstrumentId> ids;
  for (const MdEvent& g : gaps) {
    ids.insert(g.instrument);
    EXPECT_EQ(g.status.expected_seq, 3u);
    EXPECT_EQ(g.status.received_seq, 5u);
  }
  EXPECT_EQ(ids, (std::set<InstrumentId>{kBtc, kEth}));
  EXPECT_EQ(DataEvents(sink.events), 0u) << "the update after the gap is not emitted";
  EXPECT_EQ(d->counters().gaps, 2u);
  std::vector<FeedAction> a = Actions(*d);
  ASSERT_EQ(a.size(), 2u);
  for (const FeedAction& x : a) EXPECT_EQ(x.type, FeedActionType::kResubscribe);
  EXPECT_EQ(d->ResubscribeFrames(kBtc),
            (std::vector<std::string>{
                R"({"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"})",
                R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})"}));
  // Updates in flight before the new snapshot are dropped, not errors.
  sink.events.clear();
  EXPECT_EQ(Feed(*d, L2(6, "BTC-USD", "update", {{"bid", "100", "7"}}), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 0u);
  EXPECT_EQ(d->counters().dropped_before_snapshot, 2u);  // seq 5's update and this one
  // Trades still flow: they are not book state.
  ASSERT_EQ(
      Feed(*d,
           Trades(
               7,
               R"({"trade_id":"1","product_id":"BTC-USD","price":"100","size":"1","side":"BUY"})"),
           sink),
      DecodeError::kOk);
  EXPECT_EQ(OfType(sink.events, MdType::kTrade).size(), 1u);
  sink.events.clear();
  // The new snapshot, then kResynced, then updates flow again.
  ASSERT_EQ(
      Feed(*d, L2(8, "BTC-USD", "snapshot", {{"bid", "99", "1"}, {"offer", "100", "1"}}), sink),
      DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].type, MdType::kLevels);
  EXPECT_EQ(sink.events[1].type, MdType::kStatus);
  EXPECT_EQ(sink.events[1].status.code, MdStatus::kResynced);
  EXPECT_EQ(sink.events[1].instrument, kBtc);
  ASSERT_EQ(Feed(*d, L2(9, "BTC-USD", "update", {{"bid", "99", "2"}}), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 3u);
  // ETH is still waiting for its snapshot.
  ASSERT_EQ(Feed(*d, L2(10, "ETH-USD", "update", {{"bid", "10", "2"}}), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 3u);
  EXPECT_EQ(d->counters().resyncs, 1u);
}

TEST(CoinbaseAdvanced, GapThenResyncAppliedToABookEndsLiveAndCorrect) {
  VectorSink sink;
  auto d = Make();
  OrderBook book(kBtc, 32);
  auto feed = [&](const std::string& m) {
    sink.events.clear();
    (void)Feed(*d, m, sink);
    for (const MdEvent& e : sink.events) {
      if (e.instrument == kBtc) {
        ApplyResult r = book.Apply(e);
        EXPECT_TRUE(r.ok()) << BookErrorName(r.error);
      }
    }
  };
  feed(L2(0, "BTC-USD", "snapshot", {{"bid", "100", "1"}, {"offer", "101", "1"}}));
  EXPECT_EQ(book.state(), BookState::kLive);
  feed(L2(2, "BTC-USD", "update", {{"bid", "100.5", "1"}}));  // 1 lost
  EXPECT_EQ(book.state(), BookState::kGap);
  feed(L2(3, "BTC-USD", "snapshot", {{"bid", "100.5", "1"}, {"offer", "101", "3"}}));
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(book.best_bid()->price, 10050);
  EXPECT_EQ(book.best_ask()->size, 300000000);
}

TEST(CoinbaseAdvanced, GapWithReconnectOptionAsksForOneReconnect) {
  VectorSink sink;
  CoinbaseDecoderOptions o;
  o.on_gap = CoinbaseGapAction::kReconnect;
  auto d = Live(sink, o);
  ASSERT_EQ(Feed(*d, Heartbeat(9), sink), DecodeError::kOk);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kGap).size(), 2u);
  std::vector<FeedAction> a = Actions(*d);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kReconnect);
  // The reconnect: kDisconnected for every book, then fresh snapshots resync them.
  sink.events.clear();
  d->OnClose(5, sink);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kDisconnected).size(), 2u);
  d->OnOpen(6, sink);
  sink.events.clear();
  ASSERT_EQ(Feed(*d, L2(0, "ETH-USD", "snapshot", {{"bid", "10", "1"}}), sink), DecodeError::kOk);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kResynced).size(), 1u);
}

TEST(CoinbaseAdvanced, DuplicateOrOldSequenceIsCountedAndSkipped) {
  VectorSink sink;
  auto d = Live(sink);
  ASSERT_EQ(Feed(*d, L2(2, "BTC-USD", "update", {{"bid", "100", "5"}}), sink), DecodeError::kOk);
  sink.events.clear();
  EXPECT_EQ(Feed(*d, L2(2, "BTC-USD", "update", {{"bid", "100", "9"}}), sink),
            DecodeError::kSequence);
  EXPECT_EQ(Feed(*d, L2(1, "BTC-USD", "update", {{"bid", "100", "9"}}), sink),
            DecodeError::kSequence);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(d->counters().duplicates, 2u);
  EXPECT_EQ(d->counters().gaps, 0u);
  EXPECT_EQ(Feed(*d, L2(3, "BTC-USD", "update", {{"bid", "100", "4"}}), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(CoinbaseAdvanced, SequenceRestartsWithEachConnection) {
  VectorSink sink;
  auto d = Live(sink);
  d->OnClose(1, sink);
  d->OnOpen(2, sink);
  sink.events.clear();
  // seq 0 again: a new connection, not a duplicate.
  ASSERT_EQ(Feed(*d, L2(0, "BTC-USD", "snapshot", {{"bid", "100", "1"}}), sink), DecodeError::kOk);
  EXPECT_EQ(d->counters().duplicates, 0u);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kResynced).size(), 1u)
      << "the book was lost by the disconnect";
}

TEST(CoinbaseAdvanced, UpdateBeforeAnySnapshotIsRefused) {
  auto d = Make();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, L2(0, "BTC-USD", "update", {{"bid", "100", "1"}}), sink),
            DecodeError::kSequence);
  EXPECT_TRUE(sink.events.empty());
}

TEST(CoinbaseAdvanced, MemberOrderDoesNotMatter) {
  const std::string ordered =
      L2(0, "BTC-USD", "snapshot", {{"bid", "100.25", "1"}, {"offer", "101", "0.5"}});
  // Every object's members reversed, "events" before "channel" and "sequence_num".
  const std::string reordered =
      R"({"events":[{"updates":[{"new_quantity":"1","price_level":"100.25","event_time":"x","side":"bid"},)"
      R"({"new_quantity":"0.5","price_level":"101","side":"offer"}],"product_id":"BTC-USD","type":"snapshot"}],)"
      R"("sequence_num":0,"timestamp":"2023-02-09T20:32:50.714964855Z","client_id":"","channel":"l2_data"})";
  VectorSink a, b;
  auto d1 = Make();
  auto d2 = Make();
  ASSERT_EQ(Feed(*d1, ordered, a), DecodeError::kOk);
  ASSERT_EQ(Feed(*d2, reordered, b), DecodeError::kOk);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(LevelsOf(a.events), LevelsOf(b.events));
  EXPECT_EQ(a.events[0].flags, b.events[0].flags);
  EXPECT_EQ(a.events[0].exchange_ns, b.events[0].exchange_ns);
  // Trades and tickers too.
  const std::string t1 = Trades(
      1,
      R"({"trade_id":"5","product_id":"BTC-USD","price":"1","size":"2","side":"SELL","time":"2019-08-14T20:42:27.265Z"})");
  const std::string t2 =
      R"({"events":[{"trades":[{"time":"2019-08-14T20:42:27.265Z","side":"SELL","size":"2","price":"1","product_id":"BTC-USD","trade_id":"5"}],"type":"update"}],"sequence_num":1,"channel":"market_trades"})";
  ASSERT_EQ(Feed(*d1, t1, a), DecodeError::kOk);
  ASSERT_EQ(Feed(*d2, t2, b), DecodeError::kOk);
  ASSERT_EQ(a.events.size(), 2u);
  ASSERT_EQ(b.events.size(), 2u);
  EXPECT_EQ(a.events[1].trade.price, b.events[1].trade.price);
  EXPECT_EQ(a.events[1].trade.size, b.events[1].trade.size);
  EXPECT_EQ(a.events[1].trade.aggressor, b.events[1].trade.aggressor);
  EXPECT_EQ(a.events[1].exchange_ns, b.events[1].exchange_ns);
}

// Every proper prefix of a real-shaped frame is refused and emits no market data, whatever the
// bytes after it (garbage padding included).
TEST(CoinbaseAdvanced, TruncatedAtEveryByteNeverEmitsData) {
  const std::vector<std::string> frames = {
      L2(0, "BTC-USD", "snapshot", {{"bid", "21921.73", "0.06317902"}, {"offer", "21922", "1"}}),
      Trades(
          0,
          R"({"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"})"),
      Ticker(
          0,
          R"({"product_id":"BTC-USD","best_bid":"21931.98","best_bid_quantity":"8000.21","best_ask":"21933.98","best_ask_quantity":"8038.07770938"})"),
      Heartbeat(0)};
  for (const std::string& f : frames) {
    for (char fill : {'}', ']', '"', '9', ' ', '\0'}) {
      auto d = Make();
      for (size_t n = 0; n < f.size(); ++n) {
        VectorSink sink;
        const DecodeError e = Feed(*d, std::string_view(f).substr(0, n), sink, 1, fill);
        EXPECT_NE(e, DecodeError::kOk) << "prefix " << n << " of " << f;
        EXPECT_EQ(DataEvents(sink.events), 0u) << "prefix " << n << " of " << f;
        if (e == DecodeError::kOk || DataEvents(sink.events) != 0) return;
      }
      // The whole frame decodes (on a fresh connection: the prefixes may have consumed its number).
      auto fresh = Make();
      VectorSink sink;
      EXPECT_EQ(Feed(*fresh, f, sink, 1, fill), DecodeError::kOk) << f;
    }
  }
}

TEST(CoinbaseAdvanced, MissingOrMistypedFieldsAreRefused) {
  struct Case {
    std::string msg;
    DecodeError want;
  };
  const std::vector<Case> cases = {
      {R"({"client_id":"","sequence_num":2,"events":[]})", DecodeError::kMissingField},
      {R"({"channel":"l2_data","events":[{"type":"update","product_id":"BTC-USD","updates":[]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","updates":[]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD"}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"product_id":"BTC-USD","updates":[]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"price_level":"1","new_quantity":"1"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","new_quantity":"1"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"1"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":1,"new_quantity":"1"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":{}})", DecodeError::kMissingField},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":{}}]})",
       DecodeError::kMissingField},
      {R"({"channel":7,"sequence_num":2,"events":[]})", DecodeError::kMissingField},
      {R"({"channel":"market_trades","sequence_num":2,"events":[{"trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","side":"BUY"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"market_trades","sequence_num":2,"events":[{"trades":[{"product_id":"BTC-USD","price":"1","size":"1","side":"BUY"}]}]})",
       DecodeError::kMissingField},
      {R"({"channel":"ticker","sequence_num":2,"events":[{"tickers":[{"best_bid":"1"}]}]})",
       DecodeError::kMissingField},
      // Domain errors.
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"delta","product_id":"BTC-USD","updates":[]}]})",
       DecodeError::kBadValue},
      {R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"buy","price_level":"1","new_quantity":"1"}]}]})",
       DecodeError::kBadValue},
      {R"({"channel":"market_trades","sequence_num":2,"events":[{"trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"UP"}]}]})",
       DecodeError::kBadValue},
      {R"({"channel":"l2_data","sequence_num":-2,"events":[]})", DecodeError::kBadNumber},
      {R"({"channel":"l2_data","sequence_num":2.5,"events":[]})", DecodeError::kBadNumber},
      {R"({"channel":"heartbeats","timestamp":"yesterday","sequence_num":2,"events":[]})",
       DecodeError::kBadValue},
      {R"({"channel":"market_trades","sequence_num":2,"events":[{"trades":[{"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY","time":"noon"}]}]})",
       DecodeError::kBadValue},
  };
  for (const Case& c : cases) {
    VectorSink sink;
    auto d = Live(sink);
    EXPECT_EQ(Feed(*d, c.msg, sink), c.want) << c.msg;
    EXPECT_EQ(DataEvents(sink.events), 0u) << c.msg;
    EXPECT_EQ(d->last_error(), c.want) << c.msg;
  }
}

TEST(CoinbaseAdvanced, NumbersThatDoNotFitTheScaleAreBadNumbers) {
  const std::vector<std::string> bad = {
      L2(2, "BTC-USD", "update", {{"bid", "21921.735", "1"}}),    // 3 decimals, scale 2
      L2(2, "BTC-USD", "update", {{"bid", "1", "0.000000001"}}),  // 9 decimals, scale 8
      L2(2, "BTC-USD", "update", {{"bid", "1e400", "1"}}),        // overflow
      L2(2, "BTC-USD", "update", {{"bid", "99999999999999999", "1"}}),
      L2(2, "BTC-USD", "update", {{"bid", "-1", "1"}}),
      L2(2, "BTC-USD", "update", {{"bid", "0", "1"}}),  // a price must be positive
      L2(2, "BTC-USD", "update", {{"bid", "1", "-1"}}),
      L2(2, "BTC-USD", "update", {{"bid", "abc", "1"}}),
      L2(2, "BTC-USD", "update", {{"bid", "", "1"}}),
      L2(2, "BTC-USD", "update", {{"bid", " 1", "1"}}),
  };
  for (const std::string& m : bad) {
    VectorSink sink;
    auto d = Live(sink);
    EXPECT_EQ(Feed(*d, m, sink), DecodeError::kBadNumber) << m;
    EXPECT_EQ(DataEvents(sink.events), 0u) << m;
    // The message consumed its number and carried an update for BTC-USD: that book is lost.
    std::vector<MdEvent> gaps = WithStatus(sink.events, MdStatus::kGap);
    ASSERT_EQ(gaps.size(), 1u) << m;
    EXPECT_EQ(gaps[0].instrument, kBtc);
    std::vector<FeedAction> a = Actions(*d);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].type, FeedActionType::kResubscribe);
    EXPECT_EQ(a[0].instrument, kBtc);
    EXPECT_EQ(CoinbaseCountersOf(*d)->failed_book_messages, 1u);
    EXPECT_EQ(d->counters().decode_errors, 1u);
    ASSERT_NE(d->instrument_counters(kBtc), nullptr);
    EXPECT_EQ(d->instrument_counters(kBtc)->decode_errors, 1u);
  }
}

TEST(CoinbaseAdvanced, FailedNonBookMessageTouchesNoBook) {
  VectorSink sink;
  auto d = Live(sink);
  EXPECT_EQ(Feed(*d, Ticker(2, R"({"product_id":"BTC-USD","best_bid":"1.001"})"), sink),
            DecodeError::kBadNumber);
  EXPECT_TRUE(sink.events.empty());
  // Its number was consumed: 3 is next, no gap.
  EXPECT_EQ(Feed(*d, L2(3, "BTC-USD", "update", {{"bid", "100", "2"}}), sink), DecodeError::kOk);
  EXPECT_EQ(d->counters().gaps, 0u);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(CoinbaseAdvanced, MalformedFrameWithoutANumberLeavesTheBooksAlone) {
  VectorSink sink;
  auto d = Live(sink);
  for (std::string_view m : {"not json", "", "[1,2,3]", "\"l2_data\"", "{}", "{\"channel\"",
                             "{\"channel\":\"l2_data\",}", "{\"a\":1}}", "{\"a\":1} x",
                             "{\"channel\":\"l2_data\",\"events\":[]}{}"}) {
    EXPECT_NE(Feed(*d, m, sink), DecodeError::kOk) << m;
  }
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(Feed(*d, L2(2, "BTC-USD", "update", {{"bid", "100", "2"}}), sink), DecodeError::kOk);
  EXPECT_EQ(d->counters().gaps, 0u);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(CoinbaseAdvanced, FailedBookMessageLosesTheBooksItNamesOrEveryBook) {
  {
    // The bad update comes before product_id: the decoder reads the message again for it.
    VectorSink sink;
    auto d = Live(sink);
    EXPECT_EQ(
        Feed(
            *d,
            R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","updates":[{"side":"x","price_level":"1","new_quantity":"1"}],"product_id":"BTC-USD"}]})",
            sink),
        DecodeError::kBadValue);
    std::vector<MdEvent> gaps = WithStatus(sink.events, MdStatus::kGap);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].instrument, kBtc);
  }
  {
    // Two events; the second fails: both books are lost, and only those.
    VectorSink sink;
    auto d = MakeCoinbaseAdvancedDecoder(
        testing::Table({{"BTC-USD", kBtc, 2, 8}, {"ETH-USD", kEth, 2, 8}, {"SOL-USD", 12, 2, 8}}),
        {});
    d->OnOpen(0, sink);
    EXPECT_EQ(
        Feed(
            *d,
            R"({"channel":"l2_data","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[]},{"type":"update","product_id":"ETH-USD","updates":[{"side":"bid","price_level":"1.001","new_quantity":"1"}]}]})",
            sink),
        DecodeError::kBadNumber);
    std::set<InstrumentId> lost;
    for (const MdEvent& g : WithStatus(sink.events, MdStatus::kGap)) lost.insert(g.instrument);
    EXPECT_EQ(lost, (std::set<InstrumentId>{kBtc, kEth}));
    EXPECT_EQ(DataEvents(sink.events), 0u) << "the BTC snapshot is not emitted either";
  }
  {
    // A failure the books cannot be named for (a product that is not a string; a message cut
    // after an inner '}', which simdjson reads up to its end): every book.
    for (
        std::string_view m :
        {std::string_view(
             R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":7,"updates":[]}]})"),
         std::string_view(
             R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid"})")}) {
      VectorSink sink;
      auto d = Live(sink);
      EXPECT_NE(Feed(*d, m, sink, 1, /*fill=*/' '), DecodeError::kOk);
      EXPECT_EQ(WithStatus(sink.events, MdStatus::kGap).size(), 2u) << m;
    }
    // A message cut so that simdjson refuses it up front carries no readable number: nothing is
    // lost now, and the next message shows the gap.
    VectorSink sink;
    auto d = Live(sink);
    EXPECT_EQ(Feed(*d, R"({"channel":"l2_data","sequence_num":2,"events":[{"type":"upd)", sink),
              DecodeError::kMalformedJson);
    EXPECT_TRUE(sink.events.empty());
    EXPECT_EQ(Feed(*d, L2(3, "BTC-USD", "update", {{"bid", "100", "2"}}), sink), DecodeError::kOk);
    EXPECT_EQ(WithStatus(sink.events, MdStatus::kGap).size(), 2u);
  }
  {
    // A bad timestamp in a book message: the book it names is lost.
    VectorSink sink;
    auto d = Live(sink);
    std::string m = L2(2, "ETH-USD", "update", {{"bid", "10", "3"}});
    m.replace(m.find(kTs), std::string(kTs).size(), "noon");
    EXPECT_EQ(Feed(*d, m, sink), DecodeError::kBadValue);
    std::vector<MdEvent> gaps = WithStatus(sink.events, MdStatus::kGap);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].instrument, kEth);
  }
}

TEST(CoinbaseAdvanced, EscapedStringsAreRefused) {
  // Tokens are read raw (no unescaping): an escape never equals a known product or a decimal.
  VectorSink sink;
  auto d = Live(sink);
  EXPECT_EQ(Feed(*d, L2(2, "BTC\\u002dUSD", "update", {{"bid", "1", "1"}}), sink),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(Feed(*d, L2(3, "BTC-USD", "update", {{"bid", "1\\u0030", "1"}}), sink),
            DecodeError::kBadNumber);
  EXPECT_EQ(Feed(*d, L2(4, "BTC-USD", "update", {{"b\\u0069d", "1", "1"}}), sink),
            DecodeError::kBadValue);
  EXPECT_EQ(DataEvents(sink.events), 0u);
}

// The decoder remembers the day of the last timestamp and parses only the time of day after it:
// every result must equal ParseIso8601Nanos's, acceptance included.
TEST(CoinbaseAdvanced, TimestampsParseExactlyAsParseIso8601Nanos) {
  const std::vector<std::string> stamps = {"2023-02-09T20:32:50.714964855Z",
                                           "2023-02-09T20:32:50Z",
                                           "2023-02-09T00:00:00.1Z",
                                           "2023-02-09T23:59:60.999999999Z",
                                           "2023-02-09T24:00:00Z",
                                           "2023-02-09T23:60:00Z",
                                           "2023-02-09T23:59:61Z",
                                           "2023-02-09T20:32:50.Z",
                                           "2023-02-09T20:32:50.0123456789Z",
                                           "2023-02-09T20:32:50+00:00",
                                           "2023-02-09T20:32:50+01:00",
                                           "2023-02-09t20:32:50z",
                                           "2023-02-09T2:32:50Z",
                                           "2023-02-09T20:32:5xZ",
                                           "2023-02-10T01:02:03.5Z",
                                           "2023-02-09T20:32:50.714964855Z",
                                           "2024-02-29T12:00:00Z",
                                           "2023-02-29T12:00:00Z",
                                           "2262-04-11T23:47:16.854775807Z",
                                           "2262-04-11T23:47:16.854775808Z",
                                           "2262-04-11T23:59:59Z",
                                           "1970-01-01T00:00:00Z",
                                           "2023-02-09T20:32:50ZZ",
                                           "2023-02-09T20:32:50.123Z ",
                                           "2023-02-09 20:32:50Z"};
  auto d = Make();
  VectorSink sink;
  uint64_t seq = 0;
  for (int round = 0; round < 2; ++round) {  // second round: every day is cached
    for (const std::string& ts : stamps) {
      std::string m = Heartbeat(seq);
      m.replace(m.find("2023-06-23T20:31:26.122969572Z"), 30, ts);
      int64_t want = 0;
      const bool ok = ParseIso8601Nanos(ts, &want);
      sink.events.clear();
      const DecodeError e = Feed(*d, m, sink);
      EXPECT_EQ(e, ok ? DecodeError::kOk : DecodeError::kBadValue) << ts;
      ++seq;  // a heartbeat with a bad timestamp still consumes its number
      if (!ok) continue;
      // A trade without a time of its own carries the envelope's.
      std::string t = Trades(
          seq++, R"({"trade_id":"1","product_id":"BTC-USD","price":"1","size":"1","side":"BUY"})");
      t.replace(t.find(kTs), std::string(kTs).size(), ts);
      ASSERT_EQ(Feed(*d, t, sink), DecodeError::kOk) << ts;
      ASSERT_EQ(sink.events.size(), 1u);
      EXPECT_EQ(sink.events[0].exchange_ns, want) << ts;
    }
  }
  EXPECT_EQ(d->counters().gaps, 0u);
}

TEST(CoinbaseAdvanced, MessageLargerThanTheParserIsTooLarge) {
  CoinbaseDecoderOptions small;
  small.max_message_bytes = 4096;
  auto d = MakeCoinbaseAdvancedDecoder(TwoProducts(), small);
  VectorSink sink;
  std::vector<Up> ups(200, Up{"bid", "100", "1"});
  EXPECT_EQ(Feed(*d, L2(0, "BTC-USD", "snapshot", ups), sink), DecodeError::kTooLarge);
  CoinbaseDecoderOptions few;
  few.max_levels = 5;
  auto d2 = MakeCoinbaseAdvancedDecoder(TwoProducts(), few);
  EXPECT_EQ(Feed(*d2, L2(0, "BTC-USD", "snapshot", std::vector<Up>(6, Up{"bid", "1", "1"})), sink),
            DecodeError::kTooLarge);
  EXPECT_EQ(Feed(*d2, L2(1, "BTC-USD", "snapshot", std::vector<Up>(5, Up{"bid", "1", "1"})), sink),
            DecodeError::kOk);
}

TEST(CoinbaseAdvanced, SubscribeFramesOnePerChannelWithAnOptionalJwt) {
  auto d = MakeCoinbaseAdvancedDecoder(TwoProducts(), {});
  EXPECT_EQ(d->venue(), Venue::kCoinbase);
  EXPECT_EQ(
      d->SubscribeFrames(),
      (std::vector<std::string>{
          R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"})",
          R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"market_trades"})",
          R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"ticker"})",
          R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"heartbeats"})"}));
  int calls = 0;
  CoinbaseDecoderOptions o;
  o.channels = {CoinbaseChannel::kLevel2};
  o.jwt = [&calls] { return "tok" + std::to_string(++calls); };
  auto j = MakeCoinbaseAdvancedDecoder(TwoProducts(), o);
  EXPECT_EQ(
      j->SubscribeFrames(),
      (std::vector<std::string>{
          R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2","jwt":"tok1"})"}));
  EXPECT_EQ(
      j->ResubscribeFrames(kEth),
      (std::vector<std::string>{
          R"({"type":"unsubscribe","product_ids":["ETH-USD"],"channel":"level2","jwt":"tok2"})",
          R"({"type":"subscribe","product_ids":["ETH-USD"],"channel":"level2","jwt":"tok3"})"}));
  EXPECT_TRUE(j->ResubscribeFrames(999).empty());
  const std::vector<std::string> odd = {"A\"B", "C\\D"};
  EXPECT_EQ(EncodeCoinbaseSubscribe(CoinbaseSubscribeOp::kUnsubscribe,
                                    CoinbaseChannel::kTickerBatch, odd),
            R"({"type":"unsubscribe","product_ids":["A\"B","C\\D"],"channel":"ticker_batch"})");
}

TEST(CoinbaseAdvanced, NoAllocationAfterWarmUp) {
  // A sink that keeps nothing (a vector would allocate).
  class CountingSink final : public MdSink {
   public:
    void Push(const MdEvent& ev) noexcept override {
      ++n;
      last_type = ev.type;
    }
    uint64_t n = 0;
    MdType last_type = MdType::kStatus;
  } sink;
  CoinbaseDecoderOptions o;
  o.max_message_bytes = 1 << 16;
  auto d = MakeCoinbaseAdvancedDecoder(TwoProducts(), o);
  d->OnOpen(0, sink);
  std::vector<testing::Padded> msgs;
  std::vector<Up> snap;
  for (int i = 0; i < 40; ++i)
    snap.push_back({i < 20 ? "bid" : "offer", std::to_string(100 + i), "1"});
  msgs.emplace_back(L2(0, "BTC-USD", "snapshot", snap));
  uint64_t seq = 1;
  for (int round = 0; round < 50; ++round) {
    msgs.emplace_back(
        L2(seq++, "BTC-USD", "update", {{"bid", "110.5", "2"}, {"offer", "121", "0"}}));
    msgs.emplace_back(Trades(
        seq++, R"({"trade_id":"9","product_id":"BTC-USD","price":"120","size":"1","side":"BUY"})"));
    msgs.emplace_back(
        Ticker(seq++, R"({"product_id":"BTC-USD","best_bid":"119","best_ask":"120"})"));
    msgs.emplace_back(Heartbeat(seq++));
  }
  msgs.emplace_back(L2(seq + 5, "BTC-USD", "update", {{"bid", "1", "1"}}));  // a gap
  msgs.emplace_back(L2(seq + 6, "BTC-USD", "snapshot", snap));
  // Warm-up: the first pass sizes every buffer.
  for (const auto& m : msgs) (void)d->OnMessage(m.data(), m.size(), 1, sink);
  FeedAction a;
  while (d->PopAction(&a)) {
  }
  d->OnClose(1, sink);
  d->OnOpen(2, sink);
  const uint64_t before = nzeza::testing::AllocationCount();
  for (const auto& m : msgs) (void)d->OnMessage(m.data(), m.size(), 1, sink);
  while (d->PopAction(&a)) {
  }
  const uint64_t after = nzeza::testing::AllocationCount();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(sink.n, 200u);
  EXPECT_EQ(d->counters().decode_errors, 0u);
  EXPECT_EQ(d->counters().gaps, 4u);  // the gap, in both passes, for both books
}

}  // namespace
}  // namespace nzeza
