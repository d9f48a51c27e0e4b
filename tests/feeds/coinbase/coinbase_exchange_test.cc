// Unit tests of the Coinbase Exchange (ws-feed) decoder on frames from the real recording
// (../shared/testdata/coinbase/exchange_feed_2021-04-17.part1.txt) and hand-made variants: every
// message type, the maker-side rule of matches, duplicates, updates before the snapshot, failed
// book messages, every error kind (truncation at every byte of real frames included), member order,
// subscribe frames against the recorded ones, disconnect/resync, instrument discovery, and no
// allocation after warm-up.
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../../common/counting_allocator.h"
#include "../../common/decoder_agreement.h"
#include "coinbase_test_util.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/coinbase/subscribe.h"

namespace nzeza {
namespace {

using testing::DataEvents;
using testing::Feed;
using testing::LevelsOf;
using testing::OfType;
using testing::RecordedLine;
using testing::SidedLevel;
using testing::WithStatus;

// The recording's ten products. Scales 8/8: every price and size in the recording has at most 8
// decimals (Coinbase's increments are never finer), which these unit tests need, nothing more.
const std::vector<std::string> kProducts = {"SKL-USD",  "SKL-BTC", "BAND-GBP", "NMR-EUR",
                                            "BAND-BTC", "YFI-BTC", "DASH-BTC", "NU-GBP",
                                            "CRV-EUR",  "SKL-GBP"};

SymbolTable RecordingTable() {
  std::vector<FeedInstrument> v;
  for (size_t i = 0; i < kProducts.size(); ++i) {
    v.push_back({kProducts[i], static_cast<InstrumentId>(100 + i), 8, 8});
  }
  return testing::Table(v);
}

InstrumentId IdOf(std::string_view product) {
  for (size_t i = 0; i < kProducts.size(); ++i) {
    if (kProducts[i] == product) return static_cast<InstrumentId>(100 + i);
  }
  return 0;
}

std::unique_ptr<FeedDecoder> Make(CoinbaseDecoderOptions o = {}) {
  o.max_message_bytes = 1 << 17;
  auto d = MakeCoinbaseExchangeDecoder(RecordingTable(), std::move(o));
  VectorSink s;
  d->OnOpen(0, s);
  return d;
}

// The first recorded server frame containing `needle`.
std::string Recorded(std::string_view needle) {
  static const std::vector<RecordedLine> lines = testing::ReadExchangeRecording();
  for (const RecordedLine& l : lines) {
    if (l.kind == RecordedLine::kServerFrame && l.frame.find(needle) != std::string::npos) {
      return l.frame;
    }
  }
  ADD_FAILURE() << "no recorded frame with " << needle;
  return {};
}

std::string Snapshot(std::string_view product, std::string_view bids, std::string_view asks) {
  return R"({"type":"snapshot","product_id":")" + std::string(product) + R"(","bids":)" +
         std::string(bids) + R"(,"asks":)" + std::string(asks) + "}";
}

std::string Update(std::string_view product, std::string_view changes) {
  return R"({"type":"l2update","product_id":")" + std::string(product) + R"(","changes":)" +
         std::string(changes) + R"(,"time":"2021-04-17T16:43:37.075687Z"})";
}

std::vector<FeedAction> Actions(FeedDecoder& d) {
  std::vector<FeedAction> out;
  FeedAction a;
  while (d.PopAction(&a)) out.push_back(a);
  return out;
}

TEST(CoinbaseExchange, RecordedSnapshotIsOneSnapshotRun) {
  const std::string f = Recorded(R"("type":"snapshot","product_id":"BAND-GBP")");
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, f, sink, 5), DecodeError::kOk);
  ASSERT_GT(sink.events.size(), 2u);
  EXPECT_EQ(sink.events.front().flags, kMdSnapshot | kMdSnapshotBegin);
  EXPECT_EQ(sink.events.back().flags, kMdSnapshot | kMdSnapshotEnd | kMdMessageEnd);
  for (const MdEvent& e : sink.events) {
    EXPECT_EQ(e.venue, Venue::kCoinbaseExchange);
    EXPECT_EQ(e.instrument, IdOf("BAND-GBP"));
    EXPECT_EQ(e.times.recv_ns, 5);
  }
  // The first ask of the frame is ["14.8024","12.77"].
  std::vector<SidedLevel> lv = LevelsOf(sink.events);
  bool found = false;
  for (const SidedLevel& l : lv) found |= l == SidedLevel{Side::kSell, 1480240000, 1277000000};
  EXPECT_TRUE(found);
  OrderBook book(IdOf("BAND-GBP"), 4096);
  for (const MdEvent& e : sink.events) ASSERT_TRUE(book.Apply(e).ok());
  EXPECT_EQ(book.state(), BookState::kLive);
  EXPECT_EQ(book.best_ask()->price, 1480240000);
  EXPECT_EQ(book.bids().size() + book.asks().size(), lv.size());
  EXPECT_FALSE(book.crossed());
  EXPECT_EQ(d->counters().snapshots, 1u);
  EXPECT_EQ(d->counters().events, sink.events.size());
}

TEST(CoinbaseExchange, RecordedL2UpdateAppliesAbsoluteSizes) {
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(
      Feed(*d, Snapshot("SKL-BTC", R"([["0.00001300","10"]])", R"([["0.00001310","5"]])"), sink),
      DecodeError::kOk);
  sink.events.clear();
  // {"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"]],...}
  const std::string f = Recorded(R"("type":"l2update","product_id":"SKL-BTC")");
  ASSERT_EQ(Feed(*d, f, sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].flags, kMdMessageEnd);
  EXPECT_EQ(sink.events[0].venue_seq, 0u) << "level2 has no sequence numbers";
  EXPECT_EQ(sink.events[0].exchange_ns, 1618677817075687000);
  EXPECT_EQ(LevelsOf(sink.events), (std::vector<SidedLevel>{{Side::kSell, 1306, 66050000000}}));
  // Zero deletes; several changes keep their order per side.
  ASSERT_EQ(
      Feed(
          *d,
          Update(
              "SKL-BTC",
              R"([["buy","0.00001300","0"],["sell","0.00001306","1.5"],["buy","0.00001299","2"]])"),
          sink),
      DecodeError::kOk);
  EXPECT_EQ(LevelsOf({sink.events[1]}), (std::vector<SidedLevel>{{Side::kBuy, 1300, 0},
                                                                 {Side::kBuy, 1299, 200000000},
                                                                 {Side::kSell, 1306, 150000000}}));
}

TEST(CoinbaseExchange, L2UpdateBeforeItsSnapshotIsRefused) {
  auto d = Make();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, Recorded(R"("type":"l2update","product_id":"SKL-BTC")"), sink),
            DecodeError::kSequence);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(d->last_error(), DecodeError::kSequence);
}

TEST(CoinbaseExchange, RecordedTickerIsABboWithoutSizes) {
  // {"type":"ticker","sequence":333938798,"product_id":"BAND-GBP",...,"best_bid":"14.7550",
  //  "best_ask":"14.8060",...,"time":"2021-04-17T16:43:30.244075Z",...}
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Recorded(R"("type":"ticker","sequence":333938798)"), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kBbo);
  EXPECT_EQ(e.instrument, IdOf("BAND-GBP"));
  EXPECT_EQ(e.bbo.bid_price, 1475500000);
  EXPECT_EQ(e.bbo.ask_price, 1480600000);
  EXPECT_EQ(e.bbo.bid_size, 0);
  EXPECT_EQ(e.bbo.ask_size, 0);
  EXPECT_EQ(e.venue_seq, 333938798u);
  EXPECT_EQ(e.flags, kMdMessageEnd);
  // Today's ticker carries the sizes.
  ASSERT_EQ(
      Feed(
          *d,
          R"({"type":"ticker","sequence":5,"product_id":"NU-GBP","best_bid":"0.5","best_bid_size":"10.25","best_ask":"0.51","best_ask_size":"3","time":"2021-04-17T16:43:37.075687Z"})",
          sink),
      DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].bbo.bid_size, 1025000000);
  EXPECT_EQ(sink.events[1].bbo.ask_size, 300000000);
  EXPECT_EQ(sink.events[1].exchange_ns, 1618677817075687000);
}

TEST(CoinbaseExchange, MatchSideIsTheMakerSoTheAggressorIsTheOpposite) {
  // {"type":"match","trade_id":280232,...,"side":"sell","size":"985","price":"0.00001305",
  //  "product_id":"SKL-BTC","sequence":177100030,...}: a resting sell was hit by a buyer.
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Recorded(R"("type":"match","trade_id":280232)"), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kTrade);
  EXPECT_EQ(e.instrument, IdOf("SKL-BTC"));
  EXPECT_EQ(e.trade.aggressor, Side::kBuy);
  EXPECT_EQ(e.trade.price, 1305);
  EXPECT_EQ(e.trade.size, 98500000000);
  EXPECT_EQ(e.trade.trade_id, 280232u);
  EXPECT_EQ(e.venue_seq, 177100030u);
  // last_match {"trade_id":82007,...,"side":"buy",...,"product_id":"SKL-GBP"}: a seller hit a bid.
  ASSERT_EQ(Feed(*d, Recorded(R"("type":"last_match","trade_id":82007)"), sink), DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].trade.aggressor, Side::kSell);
  EXPECT_EQ(d->counters().trades, 2u);
}

TEST(CoinbaseExchange, RepeatedOrOlderMatchIsADuplicate) {
  auto d = Make();
  VectorSink sink;
  const std::string m = Recorded(R"("type":"match","trade_id":280232)");
  ASSERT_EQ(Feed(*d, m, sink), DecodeError::kOk);
  EXPECT_EQ(Feed(*d, m, sink), DecodeError::kSequence);
  std::string older = m;
  older.replace(older.find("280232"), 6, "280231");
  EXPECT_EQ(Feed(*d, older, sink), DecodeError::kSequence);
  EXPECT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(d->counters().duplicates, 2u);
  std::string newer = m;
  newer.replace(newer.find("280232"), 6, "280233");
  EXPECT_EQ(Feed(*d, newer, sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 2u);
}

TEST(CoinbaseExchange, HeartbeatSubscriptionsErrorAndUnknownTypes) {
  auto d = Make();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, Recorded(R"("type":"subscriptions")"), sink), DecodeError::kOk);
  EXPECT_EQ(CoinbaseCountersOf(*d)->subscriptions, 1u);
  EXPECT_EQ(
      Feed(
          *d,
          R"({"type":"heartbeat","last_trade_id":17393422,"product_id":"SKL-USD","sequence":1,"time":"2021-04-17T16:43:37.075687Z"})",
          sink, 1'000),
      DecodeError::kOk);
  EXPECT_EQ(CoinbaseCountersOf(*d)->heartbeats, 1u);
  EXPECT_EQ(d->instrument_counters(IdOf("SKL-USD"))->messages, 1u);
  EXPECT_EQ(
      Feed(*d,
           R"({"type":"error","message":"Failed to subscribe","reason":"level2 requires auth"})",
           sink),
      DecodeError::kVenueError);
  EXPECT_EQ(d->counters().venue_errors, 1u);
  EXPECT_EQ(Feed(*d, R"({"type":"received","product_id":"SKL-USD","order_id":"x"})", sink),
            DecodeError::kUnknownType);
  EXPECT_EQ(d->counters().unknown_messages, 1u);
  EXPECT_EQ(Feed(*d, R"({"product_id":"SKL-USD"})", sink), DecodeError::kMissingField);
  EXPECT_TRUE(sink.events.empty());
}

TEST(CoinbaseExchange, UnknownProductIsCountedAndSkipped) {
  auto d = Make();
  VectorSink sink;
  EXPECT_EQ(Feed(*d, Snapshot("BTC-USD", R"([["1","1"]])", "[]"), sink),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(Feed(*d, Update("BTC-USD", R"([["buy","1","1"]])"), sink),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(d->counters().unknown_instrument, 2u);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(d->counters().gaps, 0u);
}

TEST(CoinbaseExchange, MissingMistypedAndBadValuesAreRefused) {
  struct Case {
    std::string msg;
    DecodeError want;
  };
  const std::vector<Case> cases = {
      {R"({"type":"l2update","changes":[["buy","1","1"]]})", DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD"})", DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":{}})", DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":[["buy","1"]]})",
       DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":[["buy","1","1","1"]]})",
       DecodeError::kBadValue},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":[["buy",1,"1"]]})",
       DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":["buy"]})",
       DecodeError::kMissingField},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":[["bid","1","1"]]})",
       DecodeError::kBadValue},
      {R"({"type":"l2update","product_id":"SKL-USD","changes":[["buy","1","1"]],"time":"soon"})",
       DecodeError::kBadValue},
      {R"({"type":"snapshot","product_id":"SKL-USD","bids":[["1","1"]]})",
       DecodeError::kMissingField},
      {R"({"type":"snapshot","product_id":"SKL-USD","bids":[["1","1","1"]],"asks":[]})",
       DecodeError::kBadValue},
      {R"({"type":"match","product_id":"SKL-USD","price":"1","size":"1","side":"buy"})",
       DecodeError::kMissingField},
      {R"({"type":"match","trade_id":"x1","product_id":"SKL-USD","price":"1","size":"1","side":"buy"})",
       DecodeError::kBadNumber},
      {R"({"type":"match","trade_id":1,"product_id":"SKL-USD","price":"1","size":"1","side":"up"})",
       DecodeError::kBadValue},
      {R"({"type":"match","trade_id":1,"product_id":"SKL-USD","price":"1","size":"1.000000001","side":"buy"})",
       DecodeError::kBadNumber},
      {R"({"type":"ticker","best_bid":"1"})", DecodeError::kMissingField},
      {R"({"type":"ticker","product_id":"SKL-USD","best_bid":"0.000000001"})",
       DecodeError::kBadNumber},
      {R"({"type":"ticker","product_id":"SKL-USD","sequence":-1})", DecodeError::kBadNumber},
      {R"({"type":7})", DecodeError::kMissingField},
  };
  for (const Case& c : cases) {
    auto d = Make();
    VectorSink sink;
    ASSERT_EQ(Feed(*d, Snapshot("SKL-USD", R"([["0.79","1"]])", R"([["0.80","1"]])"), sink),
              DecodeError::kOk);
    sink.events.clear();
    EXPECT_EQ(Feed(*d, c.msg, sink), c.want) << c.msg;
    EXPECT_EQ(DataEvents(sink.events), 0u) << c.msg;
    EXPECT_EQ(d->last_error(), c.want) << c.msg;
  }
}

TEST(CoinbaseExchange, BookMessageThatFailsLosesItsBookAndResubscribes) {
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Snapshot("SKL-USD", R"([["0.79","1"]])", R"([["0.80","1"]])"), sink),
            DecodeError::kOk);
  sink.events.clear();
  // 9 decimals at scale 8: the update cannot be applied, so the book is unknowable.
  EXPECT_EQ(Feed(*d, Update("SKL-USD", R"([["buy","0.790000001","1"]])"), sink),
            DecodeError::kBadNumber);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].status.code, MdStatus::kGap);
  EXPECT_EQ(sink.events[0].instrument, IdOf("SKL-USD"));
  std::vector<FeedAction> a = Actions(*d);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kResubscribe);
  EXPECT_EQ(d->ResubscribeFrames(a[0].instrument),
            (std::vector<std::string>{
                R"({"type":"unsubscribe","product_ids":["SKL-USD"],"channels":["level2"]})",
                R"({"type":"subscribe","product_ids":["SKL-USD"],"channels":["level2"]})"}));
  // In-flight updates are dropped until the new snapshot, which resyncs the book.
  sink.events.clear();
  EXPECT_EQ(Feed(*d, Update("SKL-USD", R"([["buy","0.79","2"]])"), sink), DecodeError::kOk);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(d->counters().dropped_before_snapshot, 1u);
  ASSERT_EQ(Feed(*d, Snapshot("SKL-USD", R"([["0.78","1"]])", R"([["0.80","1"]])"), sink),
            DecodeError::kOk);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].status.code, MdStatus::kResynced);
  EXPECT_EQ(Feed(*d, Update("SKL-USD", R"([["buy","0.79","2"]])"), sink), DecodeError::kOk);
  EXPECT_EQ(sink.events.size(), 3u);
  // An l2update whose product cannot be read: every book is lost.
  sink.events.clear();
  EXPECT_EQ(Feed(*d, R"({"type":"l2update","product_id":7,"changes":[]})", sink),
            DecodeError::kMissingField);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kGap).size(), kProducts.size());
  // A failed match loses nothing.
  sink.events.clear();
  EXPECT_EQ(
      Feed(
          *d,
          R"({"type":"match","trade_id":1,"product_id":"SKL-USD","price":"x","size":"1","side":"buy"})",
          sink),
      DecodeError::kBadNumber);
  EXPECT_TRUE(sink.events.empty());
}

TEST(CoinbaseExchange, MemberOrderDoesNotMatter) {
  auto a = Make();
  auto b = Make();
  VectorSink sa, sb;
  ASSERT_EQ(Feed(*a, Snapshot("SKL-GBP", R"([["0.57","1"]])", R"([["0.58","1"]])"), sa),
            DecodeError::kOk);
  ASSERT_EQ(
      Feed(
          *b,
          R"({"asks":[["0.58","1"]],"bids":[["0.57","1"]],"product_id":"SKL-GBP","type":"snapshot"})",
          sb),
      DecodeError::kOk);
  ASSERT_EQ(
      Feed(
          *a,
          R"({"type":"l2update","product_id":"SKL-GBP","changes":[["sell","0.5762","335.0"]],"time":"2021-04-17T16:43:37.078325Z"})",
          sa),
      DecodeError::kOk);
  ASSERT_EQ(
      Feed(
          *b,
          R"({"time":"2021-04-17T16:43:37.078325Z","changes":[["sell","0.5762","335.0"]],"product_id":"SKL-GBP","type":"l2update"})",
          sb),
      DecodeError::kOk);
  const std::string match = Recorded(R"("type":"match","trade_id":280232)");
  ASSERT_EQ(Feed(*a, match, sa), DecodeError::kOk);
  ASSERT_EQ(
      Feed(
          *b,
          R"({"time":"2021-04-17T16:43:37.089723Z","sequence":177100030,"product_id":"SKL-BTC","price":"0.00001305","size":"985","side":"sell","taker_order_id":"3c82abaa","maker_order_id":"2a0da34e","trade_id":280232,"type":"match"})",
          sb),
      DecodeError::kOk);
  ASSERT_EQ(sa.events.size(), sb.events.size());
  EXPECT_EQ(LevelsOf(sa.events), LevelsOf(sb.events));
  for (size_t i = 0; i < sa.events.size(); ++i) {
    EXPECT_EQ(sa.events[i].type, sb.events[i].type);
    EXPECT_EQ(sa.events[i].flags, sb.events[i].flags);
    EXPECT_EQ(sa.events[i].exchange_ns, sb.events[i].exchange_ns);
    EXPECT_EQ(sa.events[i].venue_seq, sb.events[i].venue_seq);
  }
  EXPECT_EQ(sa.events.back().trade.price, sb.events.back().trade.price);
  EXPECT_EQ(sa.events.back().trade.aggressor, sb.events.back().trade.aggressor);
}

// Every proper prefix of real frames is refused and emits no market data, whatever follows it in
// the buffer.
TEST(CoinbaseExchange, TruncatedRecordedFramesAtEveryByteNeverEmitData) {
  const std::vector<std::string> frames = {
      Recorded(R"("type":"l2update","product_id":"SKL-BTC")"),
      Recorded(R"("type":"ticker","sequence":333938798)"),
      Recorded(R"("type":"match","trade_id":280232)"),
      Recorded(R"("type":"snapshot","product_id":"SKL-GBP")"),
  };
  for (const std::string& f : frames) {
    for (char fill : {'}', ']', '"', '9', '\0'}) {
      auto d = Make();
      VectorSink warm;
      ASSERT_EQ(Feed(*d, Snapshot("SKL-BTC", R"([["0.00001300","10"]])", "[]"), warm),
                DecodeError::kOk);
      // Big frames: every byte of the first 2 KB and of the last 2 KB, every 7th in between.
      for (size_t n = 0; n < f.size(); n += (n < 2048 || n + 2048 > f.size()) ? 1 : 7) {
        VectorSink sink;
        const DecodeError e = Feed(*d, std::string_view(f).substr(0, n), sink, 1, fill);
        ASSERT_NE(e, DecodeError::kOk) << "prefix " << n << " of " << f.substr(0, 80);
        ASSERT_EQ(DataEvents(sink.events), 0u) << "prefix " << n << " of " << f.substr(0, 80);
      }
      auto fresh = Make();
      VectorSink sink;
      (void)Feed(*fresh, Snapshot("SKL-BTC", R"([["0.00001300","10"]])", "[]"), sink);
      EXPECT_EQ(Feed(*fresh, f, sink, 1, fill), DecodeError::kOk) << f.substr(0, 80);
    }
  }
}

TEST(CoinbaseExchange, MalformedJsonAndTrailingBytesAreRefused) {
  auto d = Make();
  VectorSink sink;
  const std::string good = Recorded(R"("type":"match","trade_id":280232)");
  for (const std::string& m :
       {std::string("not json"), std::string(""), std::string("[]"), std::string("null"),
        std::string("{\"type\":\"match\""), good + "x", good + "{}", good + ",", good + "}",
        std::string("{\"type\":\"match\",,}"), std::string("{\"type\" \"match\"}")}) {
    EXPECT_NE(Feed(*d, m, sink), DecodeError::kOk) << m;
  }
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(d->counters().decode_errors, 11u);
  EXPECT_EQ(Feed(*d, good + " \n", sink), DecodeError::kOk) << "trailing whitespace is JSON";
}

TEST(CoinbaseExchange, DisconnectMarksEveryBookAndTheNextSnapshotResyncs) {
  auto d = Make();
  VectorSink sink;
  ASSERT_EQ(Feed(*d, Snapshot("SKL-USD", R"([["0.79","1"]])", R"([["0.80","1"]])"), sink),
            DecodeError::kOk);
  sink.events.clear();
  d->OnClose(9, sink);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kDisconnected).size(), kProducts.size());
  d->OnOpen(10, sink);
  sink.events.clear();
  // After the reconnect the snapshot comes first; an l2update before it is out of order.
  EXPECT_EQ(Feed(*d, Update("SKL-USD", R"([["buy","0.79","2"]])"), sink), DecodeError::kSequence);
  ASSERT_EQ(Feed(*d, Snapshot("SKL-USD", R"([["0.79","1"]])", R"([["0.80","1"]])"), sink),
            DecodeError::kOk);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kResynced).size(), 1u);
  ASSERT_EQ(Feed(*d, Snapshot("NU-GBP", R"([["0.5","1"]])", R"([["0.6","1"]])"), sink),
            DecodeError::kOk);
  EXPECT_EQ(WithStatus(sink.events, MdStatus::kResynced).size(), 1u)
      << "NU-GBP had no book before: its first snapshot is not a resync";
  EXPECT_EQ(d->counters().resyncs, 1u);
}

TEST(CoinbaseExchange, SubscribeFramesAreTheRecordedOnes) {
  std::vector<std::string> recorded;
  for (const RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind == RecordedLine::kClientFrame) recorded.push_back(l.frame);
  }
  ASSERT_EQ(recorded.size(), 3u);
  // The recording subscribed in this product order.
  std::vector<FeedInstrument> v;
  for (size_t i = 0; i < kProducts.size(); ++i) v.push_back({kProducts[i], InstrumentId(i), 8, 8});
  auto d = MakeCoinbaseExchangeDecoder(testing::Table(v), {});
  EXPECT_EQ(d->venue(), Venue::kCoinbaseExchange);
  EXPECT_EQ(d->SubscribeFrames(), recorded);
  EXPECT_EQ(EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp::kSubscribe,
                                            CoinbaseExchangeChannel::kLevel2, kProducts),
            recorded[0]);
  CoinbaseDecoderOptions o;
  o.exchange_channels = {CoinbaseExchangeChannel::kLevel2Batch,
                         CoinbaseExchangeChannel::kHeartbeat};
  auto b = MakeCoinbaseExchangeDecoder(testing::Table({{"BTC-USD", 1, 2, 8}}), o);
  EXPECT_EQ(b->SubscribeFrames(),
            (std::vector<std::string>{
                R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2_batch"]})",
                R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]})"}));
  EXPECT_EQ(b->ResubscribeFrames(1)[1],
            R"({"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2_batch"]})");
}

TEST(CoinbaseExchange, DiscoveryFindsTheRecordingsProductsAndScales) {
  InstrumentDiscovery disc;
  for (const RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind == RecordedLine::kServerFrame) DiscoverCoinbaseInstruments(l.frame, &disc);
  }
  std::vector<FeedInstrument> found = disc.Build();
  ASSERT_EQ(found.size(), kProducts.size());
  for (const FeedInstrument& in : found) {
    EXPECT_NE(IdOf(in.symbol), 0u) << in.symbol;
    EXPECT_LE(in.price_scale, 8);
    EXPECT_LE(in.size_scale, 8);
  }
  // SKL-BTC prices have 8 decimals ("0.00001306").
  for (const FeedInstrument& in : found) {
    if (in.symbol == "SKL-BTC") {
      EXPECT_EQ(in.price_scale, 8);
    }
  }
  // Advanced Trade messages too; garbage notes nothing.
  InstrumentDiscovery at;
  DiscoverCoinbaseInstruments(
      R"({"channel":"l2_data","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","price_level":"21921.73","new_quantity":"0.06317902"}]}]})",
      &at);
  DiscoverCoinbaseInstruments(
      R"({"channel":"market_trades","sequence_num":1,"events":[{"trades":[{"product_id":"ETH-USD","price":"1260.01","size":"0.3"}]}]})",
      &at);
  DiscoverCoinbaseInstruments("not json", &at);
  std::vector<FeedInstrument> v = at.Build();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].symbol, "BTC-USD");
  EXPECT_EQ(v[0].price_scale, 2);
  EXPECT_EQ(v[0].size_scale, 8);
  EXPECT_EQ(v[1].symbol, "ETH-USD");
  EXPECT_EQ(v[1].size_scale, 1);
}

// Two decoders fed the same messages, one reading snapshots with the scanner (fast_snapshots) and
// one through simdjson On Demand only: every result must be the same (return, events, counters,
// actions, the error and where it was).
class FastAndGeneral {
 public:
  FastAndGeneral() {
    CoinbaseDecoderOptions general;
    general.fast_snapshots = false;
    fast_ = Make();
    general_ = Make(general);
  }
  // Feeds m to both and compares; the events of the fast one are returned.
  std::vector<MdEvent> Feed(std::string_view m, char fill = '}') {
    VectorSink a, b;
    const DecodeError ea = testing::Feed(*fast_, m, a, 1, fill);
    const DecodeError eb = testing::Feed(*general_, m, b, 1, fill);
    testing::ExpectSameOutcome(*fast_, *general_, ea, eb, a.events, b.events,
                               std::string(m.substr(0, 120)));
    return a.events;
  }
  uint64_t fast_reads() const { return CoinbaseCountersOf(*fast_)->fast_snapshots; }
  uint64_t general_fast_reads() const { return CoinbaseCountersOf(*general_)->fast_snapshots; }

 private:
  std::unique_ptr<FeedDecoder> fast_, general_;
};

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(CoinbaseExchange, FastSnapshotsAgreeWithTheGeneralPathOnTheRecording) {
  FastAndGeneral d;
  size_t snapshots = 0;
  for (const RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind != RecordedLine::kServerFrame) continue;
    snapshots += l.frame.find(R"("type":"snapshot")") != std::string::npos;
    (void)d.Feed(l.frame);
  }
  EXPECT_EQ(snapshots, 10u);
  EXPECT_EQ(d.fast_reads(), snapshots) << "every recorded snapshot takes the scanner";
  EXPECT_EQ(d.general_fast_reads(), 0u);
}

TEST(CoinbaseExchange, FastSnapshotsAgreeWithTheGeneralPathOnVariants) {
  const std::string rec = Recorded(R"("type":"snapshot","product_id":"SKL-GBP")");
  ASSERT_FALSE(rec.empty());
  const std::string time = R"(,"time":"2021-04-17T16:43:37.075687Z"})";
  const std::string timed = rec.substr(0, rec.size() - 1) + time;
  // Whitespace between every token of the levels.
  const size_t levels_at = rec.find(R"("asks":)");
  const std::string spaced =
      rec.substr(0, levels_at) +
      ReplaceAll(
          ReplaceAll(ReplaceAll(rec.substr(levels_at), "],[", "] ,\n  [ "), "\",\"", "\" ,\t\""),
          "]]", "]\r\n]");
  struct Variant {
    std::string text;
    bool scanned;  // the scanner takes it (the rest go the general way)
  };
  const std::vector<Variant> variants = {
      {rec, true},
      {rec + " \n", true},
      {spaced, true},
      {ReplaceAll(rec, "\",\"", "\", \""), false},  // the envelope's layout is Coinbase's
      {ReplaceAll(rec, ":[", " : [ "), true},
      {Snapshot("SKL-GBP", R"([["0.5","1"]])", R"([["0.6","2"]])"), true},  // bids first
      {Snapshot("SKL-GBP", "[]", "[]"), true},
      {timed, true},
      {rec.substr(0, rec.size() - 1) + R"(,"time":"2021-04-17T16:43:37Z"})", true},
      {rec.substr(0, rec.size() - 1) + R"(,"time":"yesterday"})", false},
      {rec.substr(0, rec.size() - 1) + R"(,"time":"2021-04-17T16:43:\u0033Z"})", false},
      {rec.substr(0, rec.size() - 1) + R"(,"sequence":5})", false},
      {rec.substr(0, rec.size() - 1) + R"(,"asks":[]})", false},  // repeated member
      {ReplaceAll(rec, "SKL-GBP", R"(SKL\u002dGBP)"), false},
      {ReplaceAll(rec, "SKL-GBP", "SKL-XYZ"), false},  // unknown product
      {ReplaceAll(rec, R"("bids":)", R"("bidz":)"), false},
      {ReplaceAll(rec, R"("asks":)", R"("asks" :)"), true},
      {Snapshot("SKL-GBP", R"([["0","1"]])", "[]"), false},            // price 0
      {Snapshot("SKL-GBP", R"([["0.5","-1"]])", "[]"), false},         // negative size
      {Snapshot("SKL-GBP", R"([["0.123456789","1"]])", "[]"), false},  // beyond the scale
      {Snapshot("SKL-GBP", R"([[0.5,"1"]])", "[]"), false},            // a number
      {Snapshot("SKL-GBP", R"([["0.5","1","x"]])", "[]"), false},      // three entries
      {Snapshot("SKL-GBP", R"([["0.5","1"],])", "[]"), false},
      {R"({ "type":"snapshot","product_id":"SKL-GBP","bids":[],"asks":[]})", false},
      {R"({"product_id":"SKL-GBP","type":"snapshot","bids":[],"asks":[]})", false},
      {rec + "x", false},
      {rec + "}", false},
      {rec.substr(0, rec.size() - 1), false},
      {R"({"type":"snapshot","product_id":"SKL-GBP")", false},
      {R"({"type":"snapshot","product_id":")", false},
      {R"({"type":"snapshot","product_id":"SKL-GBP","bids":[["0.5","1"]]})", false},
  };
  for (const Variant& v : variants) {
    for (char fill : {'}', '"', ']', '9'}) {
      FastAndGeneral d;
      const uint64_t before = d.fast_reads();
      (void)d.Feed(v.text, fill);
      EXPECT_EQ(d.fast_reads() - before, v.scanned ? 1u : 0u) << v.text.substr(0, 120);
      // The decoders stay in step: a following update means the same to both.
      (void)d.Feed(Update("SKL-GBP", R"([["buy","0.5","3"]])"));
    }
  }
  // A time member is carried into the events.
  FastAndGeneral d;
  const std::vector<MdEvent> ev = d.Feed(timed);
  ASSERT_FALSE(ev.empty());
  EXPECT_NE(ev.front().exchange_ns, 0);
}

// Random damage to real snapshots: whatever the bytes, both paths say the same.
TEST(CoinbaseExchange, FastSnapshotsAgreeWithTheGeneralPathOnDamagedFrames) {
  std::vector<std::string> frames;
  for (const RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind == RecordedLine::kServerFrame &&
        l.frame.find(R"("type":"snapshot")") != std::string::npos && l.frame.size() < 20000) {
      frames.push_back(l.frame);
    }
  }
  ASSERT_GE(frames.size(), 3u);
  std::mt19937_64 rng(20261125);
  static constexpr char kBytes[] = "\"[]{},: \n0123456789.-+eE\\uabsSKL\x01\xff";
  FastAndGeneral d;
  uint64_t ok = 0;
#ifdef NZEZA_SANITIZED
  constexpr int kRounds = 600;
#else
  constexpr int kRounds = 3000;
#endif
  for (int round = 0; round < kRounds; ++round) {
    const std::string f =
        testing::Damaged(frames[rng() % frames.size()], rng,
                         std::string_view(kBytes, sizeof(kBytes) - 1), 200, false);
    const std::vector<MdEvent> ev = d.Feed(f, "}\"9"[rng() % 3]);
    ok += DataEvents(ev) > 0;
    if (::testing::Test::HasFailure()) break;  // one report, not thousands
  }
  std::printf("damaged frames: %d, decoded %llu, read by the scanner %llu\n", kRounds,
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(d.fast_reads()));
  // The damage must leave a share of frames valid (else the comparison only saw errors).
  EXPECT_GT(ok, static_cast<uint64_t>(kRounds / 20));
  EXPECT_GT(d.fast_reads(), 0u);
}

TEST(CoinbaseExchange, NoAllocationAfterWarmUp) {
  class CountingSink final : public MdSink {
   public:
    void Push(const MdEvent&) noexcept override { ++n; }
    uint64_t n = 0;
  } sink;
  auto d = Make();
  std::vector<testing::Padded> msgs;
  for (const RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind == RecordedLine::kServerFrame) msgs.emplace_back(l.frame);
  }
  ASSERT_GT(msgs.size(), 5000u);
  for (const auto& m : msgs) (void)d->OnMessage(m.data(), m.size(), 1, sink);
  d->OnClose(1, sink);
  d->OnOpen(2, sink);
  const uint64_t before = nzeza::testing::AllocationCount();
  for (const auto& m : msgs) (void)d->OnMessage(m.data(), m.size(), 1, sink);
  const uint64_t after = nzeza::testing::AllocationCount();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(sink.n, 10000u);
  EXPECT_EQ(d->counters().decode_errors, 0u);
}

}  // namespace
}  // namespace nzeza
