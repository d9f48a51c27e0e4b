// Tests of the Binance Spot decoder: subscriptions, every message type (combined and bare, fields
// in any order), every error kind (malformed, truncated at every byte, missing fields, numbers
// that do not fit, unknown types and symbols, venue errors) and Binance's local-book algorithm
// (buffering, the snapshot's drop and bridge rules, duplicates, gaps, snapshots too old).
// Frames are taken from ../shared/testdata/binance/spot_stream_2021-10-12.txt where possible.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../../common/decoder_agreement.h"
#include "binance_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/binance/subscribe.h"
#include "nzeza/feeds/common/discovery.h"

namespace nzeza {
namespace {

using namespace binance_test;  // NOLINT

// ---------------------------------------------------------------------------------------------
// Message builders

struct L {
  std::string p;
  std::string q;
};

std::string Levels(const std::vector<L>& ls) {
  std::string s = "[";
  for (size_t i = 0; i < ls.size(); ++i) {
    if (i) s += ",";
    s += "[\"" + ls[i].p + "\",\"" + ls[i].q + "\"]";
  }
  return s + "]";
}

std::string DiffData(std::string_view sym, uint64_t U, uint64_t u, const std::vector<L>& b,
                     const std::vector<L>& a, uint64_t E = 1633998512068) {
  return R"({"e":"depthUpdate","E":)" + std::to_string(E) + R"(,"s":")" + std::string(sym) +
         R"(","U":)" + std::to_string(U) + R"(,"u":)" + std::to_string(u) + R"(,"b":)" + Levels(b) +
         R"(,"a":)" + Levels(a) + "}";
}

std::string Lower(std::string_view s) {
  std::string o(s);
  for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string Diff(std::string_view sym, uint64_t U, uint64_t u, const std::vector<L>& b,
                 const std::vector<L>& a, uint64_t E = 1633998512068) {
  return R"({"stream":")" + Lower(sym) + R"(@depth@100ms","data":)" + DiffData(sym, U, u, b, a, E) +
         "}";
}

std::string SnapshotBody(uint64_t lid, const std::vector<L>& b, const std::vector<L>& a) {
  return R"({"lastUpdateId":)" + std::to_string(lid) + R"(,"bids":)" + Levels(b) + R"(,"asks":)" +
         Levels(a) + "}";
}

// Real frames (spot_stream_2021-10-12.txt lines 2, 3 and the first bookTicker / aggTrade).
constexpr std::string_view kDepthFrame =
    R"({"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"NKNUSDT","U":499869750,"u":499869752,"b":[["0.35130000","6195.00000000"],["0.34750000","5548.00000000"],["0.34640000","6222.00000000"]],"a":[]}})";
constexpr std::string_view kDepthFrame2 =
    R"({"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512568,"s":"NKNUSDT","U":499869753,"u":499869754,"b":[["0.35170000","4265.00000000"]],"a":[["0.35290000","10968.00000000"]]}})";
constexpr std::string_view kBookTickerFrame =
    R"({"stream":"nknusdt@bookTicker","data":{"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}})";
constexpr std::string_view kAggTradeFrame =
    R"({"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}})";
constexpr std::string_view kKlineFrame =
    R"({"stream":"nknusdt@kline_1m","data":{"e":"kline","E":1633998512068,"s":"NKNUSDT","k":{"t":1633998480000,"T":1633998539999,"s":"NKNUSDT","i":"1m","f":1,"L":2,"o":"0.35","c":"0.35","h":"0.35","l":"0.35","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}})";

// A small NKNUSDT snapshot at lastUpdateId 499869752 (the recording's).
const std::string kNknSnapshot =
    SnapshotBody(499869752, {{"0.35210000", "672.00000000"}, {"0.35200000", "1144.00000000"}},
                 {{"0.35260000", "3199.00000000"}, {"0.35270000", "100.00000000"}});

constexpr int64_t kRecv = 1'000'000'000;

// A decoder over the recording's table, opened (every symbol awaiting a snapshot), actions and
// events of the open cleared.
class BinanceDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override { Make({}); }
  void Make(BinanceDecoderOptions o) {
    dec_ = MakeBinanceDecoder(RecordingTable(), o);
    dec_->OnOpen(kRecv, sink_);
    sink_.events.clear();
    PopAll(*dec_);
  }
  // NKNUSDT live on kNknSnapshot (lastUpdateId 499869752), events cleared.
  void MakeNknLive() {
    ASSERT_EQ(Snapshot(*dec_, kNkn, kNknSnapshot, kRecv, sink_), DecodeError::kOk);
    ASSERT_EQ(Feed(*dec_, kDepthFrame2, kRecv + 1, sink_), DecodeError::kOk);
    ASSERT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);
    books_.ApplyAll(sink_.events);
    sink_.events.clear();
  }
  const BinanceDecoderStats& stats() const { return *GetBinanceDecoderStats(*dec_); }
  const FeedCounters& c() const { return dec_->counters(); }
  std::vector<MdEvent> Take() {
    std::vector<MdEvent> e = std::move(sink_.events);
    sink_.events.clear();
    return e;
  }

  std::unique_ptr<FeedDecoder> dec_;
  VectorSink sink_;
  Books books_;
};

// ---------------------------------------------------------------------------------------------
// Subscriptions

TEST(BinanceSubscribe, StreamNamesAreLowerCaseOrderedByKindThenSymbol) {
  std::vector<std::string_view> syms = {"NKNUSDT", "BlzEth"};
  EXPECT_EQ(
      BinanceStreamNames(syms, {}),
      (std::vector<std::string>{"nknusdt@depth@100ms", "blzeth@depth@100ms", "nknusdt@bookTicker",
                                "blzeth@bookTicker", "nknusdt@aggTrade", "blzeth@aggTrade"}));
  BinanceStreamOptions o;
  o.depth = BinanceDepthSpeed::k1000ms;
  o.book_ticker = false;
  o.trade = true;
  o.agg_trade = false;
  EXPECT_EQ(
      BinanceStreamNames(syms, o),
      (std::vector<std::string>{"nknusdt@depth", "blzeth@depth", "nknusdt@trade", "blzeth@trade"}));
  o.depth = BinanceDepthSpeed::kNone;
  o.trade = false;
  EXPECT_TRUE(BinanceStreamNames(syms, o).empty());
  EXPECT_EQ(BinanceStreamNames(RecordingTable(), {}).size(), 12u);
}

TEST(BinanceSubscribe, CombinedTargetMatchesTheRecordedUrlForm) {
  BinanceStreamOptions o;
  o.book_ticker = true;
  o.agg_trade = true;
  const std::vector<std::string> names = BinanceStreamNames(RecordingTable(), o);
  absl::StatusOr<std::string> t = BinanceCombinedStreamTarget(names);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t,
            "/stream?streams=nknusdt@depth@100ms/blzeth@depth@100ms/lrcbtc@depth@100ms/"
            "runeeur@depth@100ms/nknusdt@bookTicker/blzeth@bookTicker/lrcbtc@bookTicker/"
            "runeeur@bookTicker/nknusdt@aggTrade/blzeth@aggTrade/lrcbtc@aggTrade/"
            "runeeur@aggTrade");
  // The recording's own URL (line 1) is this form with kline streams between.
  const std::vector<std::string> lines = ReadLines(TestdataPath("spot_stream_2021-10-12.txt"));
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("/stream?streams=nknusdt@depth@100ms/blzeth@depth@100ms/"
                          "lrcbtc@depth@100ms/runeeur@depth@100ms/nknusdt@bookTicker/"),
            std::string::npos);
}

TEST(BinanceSubscribe, CombinedTargetRefusesWhatBinanceWould) {
  EXPECT_EQ(BinanceCombinedStreamTarget({}).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> upper = {"NKNUSDT@depth"};
  EXPECT_EQ(BinanceCombinedStreamTarget(upper).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> space = {"nkn usdt@depth"};
  EXPECT_FALSE(BinanceCombinedStreamTarget(space).ok());
  std::vector<std::string> empty_name = {"a@depth", ""};
  EXPECT_FALSE(BinanceCombinedStreamTarget(empty_name).ok());
  std::vector<std::string> no_kind = {"btcusdt"};
  EXPECT_FALSE(BinanceCombinedStreamTarget(no_kind).ok());
  std::vector<std::string> all_market = {"!miniTicker@arr", "btcusdt@kline_1m"};
  EXPECT_TRUE(BinanceCombinedStreamTarget(all_market).ok());
  std::vector<std::string> many(kBinanceMaxStreamsPerConnection, "btcusdt@depth");
  EXPECT_TRUE(BinanceCombinedStreamTarget(many).ok());
  many.push_back("ethusdt@depth");
  absl::StatusOr<std::string> t = BinanceCombinedStreamTarget(many);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("1025"), std::string::npos) << t.status();
}

TEST(BinanceSubscribe, MethodFramesAreBinancesJson) {
  const std::vector<std::string> names = {"btcusdt@aggTrade", "btcusdt@depth"};
  EXPECT_EQ(BinanceSubscribeFrame(names, 1),
            R"({"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1})");
  EXPECT_EQ(BinanceUnsubscribeFrame({names.begin() + 1, names.end()}, 312),
            R"({"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":312})");
  const std::vector<std::string> odd = {"a\"b\\c\n"};
  EXPECT_EQ(BinanceSubscribeFrame(odd, 7),
            R"({"method":"SUBSCRIBE","params":["a\"b\\c\u000a"],"id":7})");
}

TEST(BinanceSubscribe, DecoderSubscribesOnOpenUnlessToldNot) {
  BinanceDecoderOptions o;
  auto d = MakeBinanceDecoder(RecordingTable(), o);
  const std::vector<std::string> f = d->SubscribeFrames();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], BinanceSubscribeFrame(BinanceStreamNames(RecordingTable(), o.streams), 1));
  EXPECT_TRUE(d->ResubscribeFrames(kNkn).empty()) << "Binance resyncs with REST snapshots";
  o.subscribe_on_open = false;
  EXPECT_TRUE(MakeBinanceDecoder(RecordingTable(), o)->SubscribeFrames().empty());
}

TEST(BinanceSubscribe, SnapshotTarget) {
  auto d = MakeBinanceDecoder(RecordingTable(), {});
  EXPECT_EQ(d->SnapshotTarget(kNkn), "/api/v3/depth?symbol=NKNUSDT&limit=1000");
  EXPECT_EQ(d->SnapshotTarget(999), "");
  BinanceDecoderOptions o;
  o.snapshot_limit = 5000;
  EXPECT_EQ(MakeBinanceDecoder(RecordingTable(), o)->SnapshotTarget(kRune),
            "/api/v3/depth?symbol=RUNEEUR&limit=5000");
  EXPECT_EQ(BinanceSnapshotTarget("BTCUSDT", 100), "/api/v3/depth?symbol=BTCUSDT&limit=100");
}

// ---------------------------------------------------------------------------------------------
// Session events

TEST(BinanceDecoder, OpenAsksForASnapshotPerSymbolAndCloseMarksAllDisconnected) {
  auto d = MakeBinanceDecoder(RecordingTable(), {});
  EXPECT_EQ(d->venue(), Venue::kBinance);
  EXPECT_EQ(GetBinanceBookSync(*d, kNkn), BinanceBookSync::kDisconnected);
  EXPECT_STREQ(BinanceBookSyncName(BinanceBookSync::kAwaitingSnapshot), "awaiting snapshot");
  VectorSink sink;
  d->OnOpen(5, sink);
  ASSERT_EQ(sink.events.size(), 4u);
  for (const MdEvent& e : sink.events) {
    EXPECT_EQ(e.type, MdType::kStatus);
    EXPECT_EQ(e.status.code, MdStatus::kConnected);
  }
  const std::vector<FeedAction> a = PopAll(*d);
  ASSERT_EQ(a.size(), 4u);
  std::vector<InstrumentId> ids;
  for (const FeedAction& x : a) {
    EXPECT_EQ(x.type, FeedActionType::kFetchSnapshot);
    ids.push_back(x.instrument);
  }
  EXPECT_EQ(ids, (std::vector<InstrumentId>{kNkn, kBlz, kLrc, kRune}));
  for (InstrumentId id : ids) {
    EXPECT_EQ(GetBinanceBookSync(*d, id), BinanceBookSync::kAwaitingSnapshot);
  }
  sink.events.clear();
  d->OnClose(6, sink);
  ASSERT_EQ(sink.events.size(), 4u);
  for (const MdEvent& e : sink.events) EXPECT_EQ(e.status.code, MdStatus::kDisconnected);
  EXPECT_EQ(GetBinanceBookSync(*d, kNkn), BinanceBookSync::kDisconnected);
  // A snapshot arriving while disconnected is ignored: a book cannot be live without a stream.
  sink.events.clear();
  EXPECT_EQ(Snapshot(*d, kNkn, kNknSnapshot, 7, sink), DecodeError::kSequence);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_EQ(GetBinanceDecoderStats(*d)->snapshots_ignored, 1u);
}

TEST(BinanceDecoder, WithoutDepthStreamsNoSnapshotIsNeeded) {
  BinanceDecoderOptions o;
  o.streams.depth = BinanceDepthSpeed::kNone;
  auto d = MakeBinanceDecoder(RecordingTable(), o);
  VectorSink sink;
  d->OnOpen(5, sink);
  EXPECT_TRUE(PopAll(*d).empty());
  EXPECT_EQ(d->SnapshotTarget(kNkn), "");
  EXPECT_EQ(Feed(*d, kBookTickerFrame, 6, sink), DecodeError::kOk);
}

// ---------------------------------------------------------------------------------------------
// Message types

TEST_F(BinanceDecoderTest, SnapshotThenDiffsFollowBinancesAlgorithm) {
  // Diff 1 (U 499869750, u 499869752) arrives before the snapshot: buffered.
  ASSERT_EQ(Feed(*dec_, kDepthFrame, 10, sink_), DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().buffered, 1u);
  // Snapshot lastUpdateId 499869752: diff 1 (u <= 499869752) is dropped.
  ASSERT_EQ(Snapshot(*dec_, kNkn, kNknSnapshot, 20, sink_), DecodeError::kOk);
  EXPECT_EQ(c().dropped_before_snapshot, 1u);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, MdType::kLevels);
  EXPECT_EQ(ev[0].flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(ev[0].instrument, kNkn);
  EXPECT_EQ(ev[0].venue, Venue::kBinance);
  EXPECT_EQ(ev[0].venue_seq, 499869752u);
  EXPECT_EQ(ev[0].times.recv_ns, 20);
  ASSERT_EQ(ev[0].levels.num_bids, 2);
  ASSERT_EQ(ev[0].levels.num_asks, 2);
  EXPECT_EQ(ev[0].levels.bids()[0].price, 35210000);
  EXPECT_EQ(ev[0].levels.bids()[0].size, 67200000000);
  EXPECT_EQ(ev[0].levels.asks()[1].price, 35270000);
  EXPECT_EQ(ev[1].type, MdType::kStatus);
  EXPECT_EQ(ev[1].status.code, MdStatus::kResynced);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kBridging);
  books_.ApplyAll(ev);
  // Diff 2 (U 499869753 = lastUpdateId + 1) bridges the snapshot.
  ASSERT_EQ(Feed(*dec_, kDepthFrame2, 30, sink_), DecodeError::kOk);
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].flags, kMdMessageEnd);
  EXPECT_EQ(ev[0].venue_seq, 499869754u);
  EXPECT_EQ(ev[0].exchange_ns, 1633998512568LL * 1'000'000);
  EXPECT_EQ(ev[0].times.recv_ns, 30);
  EXPECT_GT(ev[0].times.decoded_ns, 0);
  ASSERT_EQ(ev[0].levels.num_bids, 1);
  ASSERT_EQ(ev[0].levels.num_asks, 1);
  EXPECT_EQ(ev[0].levels.bids()[0].price, 35170000);
  EXPECT_EQ(ev[0].levels.bids()[0].size, 426500000000);
  EXPECT_EQ(ev[0].levels.asks()[0].price, 35290000);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_.refused, 0u);
  EXPECT_EQ(books_[kNkn].state(), BookState::kLive);
  EXPECT_EQ(books_[kNkn].bids().size(), 3u);
  EXPECT_EQ(books_[kNkn].asks().size(), 3u);
  EXPECT_EQ(c().snapshots, 1u);
  EXPECT_EQ(c().resyncs, 1u);
  EXPECT_EQ(c().level_messages, 2u);
  EXPECT_EQ(c().gaps, 0u);
  EXPECT_EQ(c().decode_errors, 0u);
  EXPECT_EQ(c().events, 4u + 3u) << "4 kConnected (OnOpen), snapshot, kResynced, diff";
  EXPECT_EQ(dec_->instrument_counters(kNkn)->updates, 2u);
}

TEST_F(BinanceDecoderTest, BufferedDiffsAreEmittedAfterTheSnapshotInOrder) {
  const uint64_t lid = 1000;
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 990, 995, {{"1.00000000", "1"}}, {}), 1, sink_),
            DecodeError::kOk);
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 996, 1000, {{"1.00000000", "2"}}, {}), 2, sink_),
            DecodeError::kOk);
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 1001, 1003, {{"1.00000000", "3"}}, {{"2", "1"}}), 3, sink_),
            DecodeError::kOk);
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 1004, 1004, {}, {{"2", "0"}, {"2.5", "4"}}), 4, sink_),
            DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().buffered, 4u);
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(lid, {{"0.9", "5"}}, {{"3", "5"}}), 9, sink_),
            DecodeError::kOk);
  EXPECT_EQ(c().dropped_before_snapshot, 2u);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 4u);  // snapshot, diff 1001-1003, diff 1004, kResynced
  EXPECT_TRUE(ev[0].flags & kMdSnapshotBegin);
  EXPECT_EQ(ev[1].venue_seq, 1003u);
  EXPECT_EQ(ev[1].times.recv_ns, 3) << "a buffered diff keeps its own receive time";
  EXPECT_EQ(ev[1].flags, kMdMessageEnd);
  EXPECT_EQ(ev[2].venue_seq, 1004u);
  EXPECT_EQ(ev[3].status.code, MdStatus::kResynced);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_.refused, 0u);
  const OrderBook& b = books_[kNkn];
  ASSERT_EQ(b.bids().size(), 2u);
  EXPECT_EQ(b.bids()[0].price, 100000000);
  EXPECT_EQ(b.bids()[0].size, 300000000);
  ASSERT_EQ(b.asks().size(), 2u);
  EXPECT_EQ(b.asks()[0].price, 250000000);
  EXPECT_EQ(b.asks()[1].price, 300000000);
  // Live: the next diff must start at 1005.
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 1005, 1006, {}, {{"3", "0"}}), 10, sink_),
            DecodeError::kOk);
  EXPECT_EQ(Take().size(), 1u);
}

TEST_F(BinanceDecoderTest, FirstDiffAfterASnapshotMustBridgeIt) {
  // Nothing buffered: the snapshot is emitted at once; the next diffs decide.
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(1000, {{"1", "1"}}, {{"2", "1"}}), 1, sink_),
            DecodeError::kOk);
  Take();
  // u <= lastUpdateId: older than the snapshot, dropped (normal: the REST snapshot is ahead).
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 995, 1000, {{"1", "9"}}, {}), 2, sink_), DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().dropped_before_snapshot, 1u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kBridging);
  // U <= lastUpdateId + 1 <= u: applied, even though it starts before the snapshot.
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 998, 1003, {{"1", "7"}}, {}), 3, sink_), DecodeError::kOk);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].venue_seq, 1003u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);

  // Same start, but the first diff begins after lastUpdateId + 1: the snapshot was too old, and
  // it has been emitted already, so the book gets kGap and a new snapshot is asked for.
  ASSERT_EQ(Snapshot(*dec_, kBlz, SnapshotBody(500, {{"1", "1"}}, {{"2", "1"}}), 4, sink_),
            DecodeError::kOk);
  Take();
  PopAll(*dec_);
  EXPECT_EQ(Feed(*dec_, Diff("BLZETH", 502, 503, {{"1", "2"}}, {}), 5, sink_),
            DecodeError::kSequence);
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, MdType::kStatus);
  EXPECT_EQ(ev[0].status.code, MdStatus::kGap);
  EXPECT_EQ(ev[0].status.expected_seq, 501u);
  EXPECT_EQ(ev[0].status.received_seq, 502u);
  EXPECT_EQ(ev[0].instrument, kBlz);
  const std::vector<FeedAction> a = PopAll(*dec_);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kFetchSnapshot);
  EXPECT_EQ(a[0].instrument, kBlz);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kBlz), BinanceBookSync::kAwaitingSnapshot);
  EXPECT_EQ(c().gaps, 1u);
  EXPECT_EQ(c().duplicates, 0u);
  EXPECT_EQ(dec_->last_error(), DecodeError::kSequence);
  EXPECT_EQ(c().buffered, 1u) << "the diff that showed the gap starts the new buffer";
  // The new snapshot bridges the buffered diff.
  ASSERT_EQ(Snapshot(*dec_, kBlz, SnapshotBody(501, {{"1", "1"}}, {{"2", "1"}}), 6, sink_),
            DecodeError::kOk);
  ev = Take();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].venue_seq, 503u);
  EXPECT_EQ(ev[2].status.code, MdStatus::kResynced);
}

TEST_F(BinanceDecoderTest, DuplicateAndOldUpdatesAreCountedAndSkipped) {
  MakeNknLive();                                                           // last u = 499869754
  EXPECT_EQ(Feed(*dec_, kDepthFrame2, 1, sink_), DecodeError::kSequence);  // duplicate
  EXPECT_EQ(Feed(*dec_, kDepthFrame, 2, sink_), DecodeError::kSequence);   // older
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869754, 499869754, {{"9", "9"}}, {}), 3, sink_),
            DecodeError::kSequence);  // same u as the last one
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().duplicates, 3u);
  EXPECT_EQ(c().gaps, 0u);
  EXPECT_EQ(c().decode_errors, 0u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);
  EXPECT_TRUE(PopAll(*dec_).empty());
  // The stream goes on.
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869755, 499869757, {{"0.35", "1"}}, {}), 4, sink_),
            DecodeError::kOk);
  EXPECT_EQ(Take().size(), 1u);
}

TEST_F(BinanceDecoderTest, GapEmitsGapRequestsASnapshotAndResyncs) {
  MakeNknLive();  // last u = 499869754
  // 499869755..757 is lost: the next diff starts at 758.
  EXPECT_EQ(
      Feed(*dec_, Diff("NKNUSDT", 499869758, 499869759, {{"0.34920000", "19253"}}, {}), 5, sink_),
      DecodeError::kSequence);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status.code, MdStatus::kGap);
  EXPECT_EQ(ev[0].status.expected_seq, 499869755u);
  EXPECT_EQ(ev[0].status.received_seq, 499869758u);
  EXPECT_EQ(ev[0].times.recv_ns, 5);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_[kNkn].state(), BookState::kGap);
  std::vector<FeedAction> a = PopAll(*dec_);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kFetchSnapshot);
  EXPECT_EQ(a[0].instrument, kNkn);
  EXPECT_EQ(c().gaps, 1u);
  EXPECT_EQ(dec_->instrument_counters(kNkn)->gaps, 1u);
  // Until the snapshot, diffs are buffered, nothing is emitted.
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869760, 499869760, {{"0.35", "5"}}, {}), 6, sink_),
            DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  // The new snapshot covers up to 758: the diff 758-759 bridges it.
  ASSERT_EQ(
      Snapshot(*dec_, kNkn, SnapshotBody(499869758, {{"0.35200000", "1"}}, {{"0.35300000", "2"}}),
               7, sink_),
      DecodeError::kOk);
  ev = Take();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_TRUE(ev[0].flags & kMdSnapshotBegin);
  EXPECT_EQ(ev[1].venue_seq, 499869759u);
  EXPECT_EQ(ev[2].venue_seq, 499869760u);
  EXPECT_EQ(ev[3].status.code, MdStatus::kResynced);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_.refused, 0u);
  EXPECT_EQ(books_[kNkn].state(), BookState::kLive);
  EXPECT_EQ(books_[kNkn].bids().size(), 3u);  // 0.352, 0.35, 0.3492
  EXPECT_EQ(c().resyncs, 2u);
}

TEST_F(BinanceDecoderTest, SnapshotTooOldIsNotEmittedAndAnotherIsRequested) {
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 1010, 1012, {{"1", "1"}}, {}), 1, sink_), DecodeError::kOk);
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 1013, 1013, {{"1", "2"}}, {}), 2, sink_), DecodeError::kOk);
  // lastUpdateId 1000: 1001..1009 are missing between snapshot and the first buffered diff.
  EXPECT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(1000, {{"0.5", "1"}}, {{"2", "1"}}), 3, sink_),
            DecodeError::kSequence);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(stats().snapshots_too_old, 1u);
  EXPECT_EQ(c().snapshots, 0u);
  EXPECT_EQ(c().duplicates, 0u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kAwaitingSnapshot);
  const std::vector<FeedAction> a = PopAll(*dec_);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kFetchSnapshot);
  // lastUpdateId + 1 == U of the first buffered diff is just in time.
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(1009, {{"0.5", "1"}}, {{"2", "1"}}), 4, sink_),
            DecodeError::kOk);
  const std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[1].venue_seq, 1012u);
  EXPECT_EQ(ev[2].venue_seq, 1013u);
}

// REST snapshot bodies go through the scanner (fast_snapshots) or simdjson On Demand; both must
// give the same on every input: return, events, counters, actions, the error and where.
class SnapshotFastAndGeneral {
 public:
  SnapshotFastAndGeneral() {
    BinanceDecoderOptions general;
    general.fast_snapshots = false;
    fast_ = MakeBinanceDecoder(RecordingTable(), {});
    general_ = MakeBinanceDecoder(RecordingTable(), general);
  }
  // Both decoders reopened (every book awaiting a snapshot), then `body` as id's snapshot.
  DecodeError Feed(InstrumentId id, std::string_view body, char fill = '9') {
    VectorSink a, b;
    for (FeedDecoder* d : {fast_.get(), general_.get()}) {
      VectorSink open;
      d->OnClose(1, open);
      d->OnOpen(1, open);
      PopAll(*d);
    }
    Padded p(body, fill);
    const DecodeError ea = fast_->OnSnapshot(id, p.data(), p.size(), 5, a);
    const DecodeError eb = general_->OnSnapshot(id, p.data(), p.size(), 5, b);
    testing::ExpectSameOutcome(*fast_, *general_, ea, eb, a.events, b.events,
                               std::string(body.substr(0, 100)));
    return ea;
  }
  uint64_t scanned() const { return GetBinanceDecoderStats(*fast_)->fast_snapshots; }
  uint64_t general_scanned() const { return GetBinanceDecoderStats(*general_)->fast_snapshots; }

 private:
  std::unique_ptr<FeedDecoder> fast_, general_;
};

InstrumentId IdOfSymbol(const std::string& symbol) {
  const SymbolTable t = RecordingTable();
  const FeedInstrument* in = t.Find(symbol);
  return in == nullptr ? 0 : in->id;
}

TEST(BinanceSnapshotScanner, AgreesWithTheGeneralPathOnTheRecordingAndVariants) {
  SnapshotFastAndGeneral d;
  const std::vector<SnapshotLine> recorded = ReadSnapshots();
  ASSERT_EQ(recorded.size(), 4u);
  for (const SnapshotLine& l : recorded) {
    EXPECT_EQ(d.Feed(IdOfSymbol(l.symbol), l.body), DecodeError::kOk) << l.symbol;
  }
  EXPECT_EQ(d.scanned(), 4u) << "every recorded snapshot takes the scanner";
  EXPECT_EQ(d.general_scanned(), 0u);
  const std::string& nkn = recorded[0].symbol == "NKNUSDT" ? recorded[0].body : kNknSnapshot;
  struct Variant {
    std::string body;
    bool scanned;
  };
  const std::string small = kNknSnapshot;
  const std::vector<Variant> variants = {
      {small, true},
      {small + "  ", true},
      {small + " \n", false},  // a control byte anywhere: the general way decides
      {R"({"lastUpdateId":7,"bids":[["1.5","2)"
       "\t"
       R"("]],"asks":[]})",
       false},
      {R"({"lastUpdateId":7,"asks":[["1.5","2"]],"bids":[]})", true},  // asks first
      {R"({"lastUpdateId":7,"bids":[ [ "1.5" , "2" ] ],"asks":[]})", true},
      {R"({"lastUpdateId":07,"bids":[],"asks":[]})", false},  // not JSON
      {R"({"lastUpdateId":7.5,"bids":[],"asks":[]})", false},
      {R"({"lastUpdateId":-7,"bids":[],"asks":[]})", false},
      {R"({"lastUpdateId":99999999999999999999,"bids":[],"asks":[]})", false},
      {R"({"lastUpdateId":7,"bids":[],"asks":[],"x":1})", false},
      {R"({"lastUpdateId":7,"bids":[],"bids":[],"asks":[]})", false},
      {R"({"lastUpdateId":7,"bids":[]})", false},
      {R"({"lastUpdateId":7,"bids":[["1\u002e5","2"]],"asks":[]})", false},  // an escape
      {R"({"lastUpdateId":7,"bids":[["1.5","2","x"]],"asks":[]})", false},
      {R"({"lastUpdateId":7,"bids":[["abc","2"]],"asks":[]})", true},  // taken; bad number
      {"{\"lastUpdateId\":7,\"bids\":[[\"1.5\",\"2\xc3\xa9\"]],\"asks\":[]}", false},  // UTF-8
      {"{\"lastUpdateId\":7,\"bids\":[[\"1.5\",\"2\xff\"]],\"asks\":[]}", false},      // not UTF-8
      {R"({"code":-1121,"msg":"Invalid symbol."})", false},
      {R"({ "lastUpdateId":7,"bids":[],"asks":[]})", false},
      {small + "x", false},
      {small.substr(0, small.size() - 1), false},
      {"", false},
  };
  for (const Variant& v : variants) {
    for (char fill : {'9', '"', ']', '}'}) {
      const uint64_t before = d.scanned();
      (void)d.Feed(kNkn, v.body, fill);
      EXPECT_EQ(d.scanned() - before, v.scanned ? 1u : 0u) << v.body.substr(0, 100);
    }
  }
  // Random damage to the NKNUSDT body.
  std::mt19937_64 rng(20261125);
  static constexpr char kBytes[] = "\"[]{},: \n0123456789.-eE\\u\x01\xff";
  int taken = 0;
  for (int round = 0; round < 1500 && !::testing::Test::HasFailure(); ++round) {
    const std::string f =
        testing::Damaged(nkn, rng, std::string_view(kBytes, sizeof(kBytes) - 1), 120, true);
    const uint64_t before = d.scanned();
    taken += d.Feed(kNkn, f, "9\"}"[rng() % 3]) == DecodeError::kOk && d.scanned() > before;
  }
  EXPECT_GT(taken, 100) << "the damage left too few bodies the scanner takes";
}

TEST_F(BinanceDecoderTest, ASnapshotNotAwaitedIsCountedAndIgnored) {
  MakeNknLive();
  EXPECT_EQ(Snapshot(*dec_, kNkn, kNknSnapshot, 1, sink_), DecodeError::kSequence);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(stats().snapshots_ignored, 1u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);
  EXPECT_EQ(Snapshot(*dec_, 999, kNknSnapshot, 1, sink_), DecodeError::kUnknownInstrument);
  dec_->OnSnapshotFailed(kNkn);  // not waiting: no new request
  EXPECT_TRUE(PopAll(*dec_).empty());
  dec_->OnSnapshotFailed(kBlz);  // waiting: asks again
  const std::vector<FeedAction> a = PopAll(*dec_);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].instrument, kBlz);
}

TEST_F(BinanceDecoderTest, BadSnapshotsAreRefusedAndRequestedAgain) {
  const std::vector<std::pair<std::string, DecodeError>> cases = {
      {R"({"lastUpdateId":5,"bids":[["1","1"]],"asks":[)", DecodeError::kMalformedJson},
      {R"({"lastUpdateId":5,"bids":[["1","1"]]})", DecodeError::kMissingField},
      {R"({"bids":[],"asks":[]})", DecodeError::kMissingField},
      {R"({"lastUpdateId":-5,"bids":[],"asks":[]})", DecodeError::kBadNumber},
      {R"({"lastUpdateId":5,"bids":[["1.000000001","1"]],"asks":[]})", DecodeError::kBadNumber},
      {R"({"lastUpdateId":5,"bids":[[1,1]],"asks":[]})", DecodeError::kMissingField},
      {R"({"code":-1121,"msg":"Invalid symbol."})", DecodeError::kVenueError},
      {R"([1,2])", DecodeError::kMalformedJson},
      {R"({"lastUpdateId":5,"bids":[],"asks":[]} x)", DecodeError::kMalformedJson},
  };
  for (const auto& [body, want] : cases) {
    EXPECT_EQ(Snapshot(*dec_, kNkn, body, 1, sink_), want) << body;
    EXPECT_TRUE(sink_.events.empty()) << body;
    const std::vector<FeedAction> a = PopAll(*dec_);
    ASSERT_EQ(a.size(), 1u) << body;
    EXPECT_EQ(a[0].type, FeedActionType::kFetchSnapshot);
    EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kAwaitingSnapshot);
  }
  EXPECT_EQ(c().venue_errors, 1u);
  // An empty book is a valid snapshot (one event with the three snapshot flags).
  ASSERT_EQ(Snapshot(*dec_, kNkn, R"({"lastUpdateId":5,"bids":[],"asks":[]})", 1, sink_),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(sink_.events[0].levels.size(), 0u);
}

TEST_F(BinanceDecoderTest, ALargeSnapshotIsOneBracketedRun) {
  std::vector<L> bids;
  std::vector<L> asks;
  for (int i = 0; i < 1000; ++i) {
    bids.push_back({std::to_string(1000 - i) + ".5", "1"});
    asks.push_back({std::to_string(2000 + i) + ".25", "2"});
  }
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(7, bids, asks), 1, sink_), DecodeError::kOk);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 2000u / 11 + 1 + 1);  // ceil(2000 / 11) level events + kResynced
  EXPECT_EQ(ev.front().flags, kMdSnapshot | kMdSnapshotBegin);
  EXPECT_EQ(ev[ev.size() - 2].flags, kMdSnapshot | kMdSnapshotEnd | kMdMessageEnd);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_.refused, 0u);
  EXPECT_EQ(books_[kNkn].bids().size(), 1000u);
  EXPECT_EQ(books_[kNkn].asks().size(), 1000u);
  EXPECT_EQ(books_[kNkn].bids()[0].price, 100050000000);
  EXPECT_EQ(c().events, 4u + ev.size()) << "and OnOpen's 4 kConnected";
}

TEST_F(BinanceDecoderTest, BareEventsDecodeLikeCombinedOnes) {
  MakeNknLive();
  // Bare depthUpdate (a /ws/<stream> connection).
  EXPECT_EQ(
      Feed(*dec_, DiffData("NKNUSDT", 499869755, 499869757, {{"0.352", "1290"}}, {}), 1, sink_),
      DecodeError::kOk);
  // Bare bookTicker: no "e", recognised by its fields.
  EXPECT_EQ(
      Feed(
          *dec_,
          R"({"u":400900217,"s":"NKNUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"})",
          2, sink_),
      DecodeError::kOk);
  // Bare trade (Binance's documented example, with the symbol changed).
  EXPECT_EQ(
      Feed(
          *dec_,
          R"({"e":"trade","E":1672515782136,"s":"NKNUSDT","t":12345,"p":"0.001","q":"100","b":88,"a":50,"T":1672515782136,"m":true,"M":true})",
          3, sink_),
      DecodeError::kOk);
  const std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].type, MdType::kLevels);
  EXPECT_EQ(ev[0].venue_seq, 499869757u);
  EXPECT_EQ(ev[1].type, MdType::kBbo);
  EXPECT_EQ(ev[1].venue_seq, 400900217u);
  EXPECT_EQ(ev[1].bbo.bid_price, 2535190000);
  EXPECT_EQ(ev[1].bbo.bid_size, 3121000000);
  EXPECT_EQ(ev[1].bbo.ask_price, 2536520000);
  EXPECT_EQ(ev[1].bbo.ask_size, 4066000000);
  EXPECT_EQ(ev[2].type, MdType::kTrade);
  EXPECT_EQ(ev[2].trade.trade_id, 12345u);
  EXPECT_EQ(ev[2].trade.aggressor, Side::kSell) << "m: the buyer is the maker, the seller took";
  EXPECT_EQ(ev[2].trade.price, 100000);
  EXPECT_EQ(ev[2].trade.size, 10000000000);
  EXPECT_EQ(ev[2].exchange_ns, 1672515782136LL * 1'000'000);
}

TEST_F(BinanceDecoderTest, BookTickerFromTheRecording) {
  ASSERT_EQ(Feed(*dec_, kBookTickerFrame, 42, sink_), DecodeError::kOk);
  const std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, MdType::kBbo);
  EXPECT_EQ(ev[0].flags, kMdMessageEnd);
  EXPECT_EQ(ev[0].instrument, kNkn);
  EXPECT_EQ(ev[0].venue_seq, 499869768u);
  EXPECT_EQ(ev[0].exchange_ns, 0);
  EXPECT_EQ(ev[0].times.recv_ns, 42);
  EXPECT_EQ(ev[0].bbo.bid_price, 35210000);
  EXPECT_EQ(ev[0].bbo.bid_size, 67200000000);
  EXPECT_EQ(ev[0].bbo.ask_price, 35260000);
  EXPECT_EQ(ev[0].bbo.ask_size, 319900000000);
  EXPECT_EQ(c().bbos, 1u);
  EXPECT_EQ(dec_->instrument_counters(kNkn)->messages, 1u);
}

TEST_F(BinanceDecoderTest, AggTradeFromTheRecordingAndTheAggressorRule) {
  ASSERT_EQ(Feed(*dec_, kAggTradeFrame, 42, sink_), DecodeError::kOk);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, MdType::kTrade);
  EXPECT_EQ(ev[0].flags, kMdMessageEnd);
  EXPECT_EQ(ev[0].trade.trade_id, 15683430u);
  EXPECT_EQ(ev[0].venue_seq, 15683430u);
  EXPECT_EQ(ev[0].trade.price, 35280000);
  EXPECT_EQ(ev[0].trade.size, 5800000000);
  EXPECT_EQ(ev[0].trade.aggressor, Side::kBuy) << "m false: the buyer took";
  EXPECT_EQ(ev[0].exchange_ns, 1633998523963LL * 1'000'000);
  EXPECT_EQ(c().trades, 1u);
  EXPECT_EQ(dec_->instrument_counters(kNkn)->trades, 1u);
  std::string maker(kAggTradeFrame);
  maker.replace(maker.find(R"("m":false)"), 9, R"("m":true)");
  ASSERT_EQ(Feed(*dec_, maker, 43, sink_), DecodeError::kOk);
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].trade.aggressor, Side::kSell);
}

TEST_F(BinanceDecoderTest, FieldOrderDoesNotMatter) {
  MakeNknLive();
  const std::string fwd = Diff("NKNUSDT", 499869755, 499869757,
                               {{"0.35200000", "1290"}, {"0.3473", "106"}}, {{"0.36", "5"}});
  // Every field reversed, and "data" before "stream".
  const std::string rev =
      R"({"data":{"a":[["0.36","5"]],"b":[["0.35200000","1290"],["0.3473","106"]],"u":499869757,"U":499869755,"s":"NKNUSDT","E":1633998512068,"e":"depthUpdate"},"stream":"nknusdt@depth@100ms"})";
  ASSERT_EQ(Feed(*dec_, fwd, 1, sink_), DecodeError::kOk);
  std::vector<MdEvent> a = Take();
  auto d2 = MakeBinanceDecoder(RecordingTable(), {});
  VectorSink s2;
  d2->OnOpen(0, s2);
  ASSERT_EQ(Snapshot(*d2, kNkn, kNknSnapshot, 0, s2), DecodeError::kOk);
  ASSERT_EQ(Feed(*d2, kDepthFrame2, 0, s2), DecodeError::kOk);
  s2.events.clear();
  ASSERT_EQ(Feed(*d2, rev, 1, s2), DecodeError::kOk);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(s2.events.size(), 1u);
  const MdEvent& x = a[0];
  const MdEvent& y = s2.events[0];
  EXPECT_EQ(x.venue_seq, y.venue_seq);
  EXPECT_EQ(x.exchange_ns, y.exchange_ns);
  ASSERT_EQ(x.levels.size(), y.levels.size());
  EXPECT_EQ(x.levels.num_bids, y.levels.num_bids);
  for (size_t i = 0; i < x.levels.size(); ++i) {
    EXPECT_EQ(x.levels.level[i].price, y.levels.level[i].price);
    EXPECT_EQ(x.levels.level[i].size, y.levels.level[i].size);
  }
  // bookTicker and aggTrade reordered.
  ASSERT_EQ(
      Feed(
          *dec_,
          R"({"data":{"A":"3199.00000000","a":"0.35260000","B":"672.00000000","b":"0.35210000","s":"NKNUSDT","u":499869768},"stream":"nknusdt@bookTicker"})",
          2, sink_),
      DecodeError::kOk);
  ASSERT_EQ(
      Feed(
          *dec_,
          R"({"data":{"M":true,"m":true,"T":1633998523963,"l":19862790,"f":19862790,"q":"58.00000000","p":"0.35280000","a":15683430,"s":"NKNUSDT","E":1633998523963,"e":"aggTrade"},"stream":"nknusdt@aggTrade"})",
          3, sink_),
      DecodeError::kOk);
  const std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].bbo.ask_size, 319900000000);
  EXPECT_EQ(ev[1].trade.trade_id, 15683430u);
  EXPECT_EQ(ev[1].trade.aggressor, Side::kSell);
}

TEST_F(BinanceDecoderTest, EscapesWhitespaceAndExtraElementsTakeTheGeneralPathAndAgree) {
  MakeNknLive();
  // The canonical frame, and the same content with escaped characters, JSON whitespace and a
  // third element in a level (Binance's old REST form): the same event.
  const std::string canonical = Diff("NKNUSDT", 499869755, 499869757,
                                     {{"0.35200000", "1290"}, {"0.3473", "106"}}, {{"0.36", "5"}});
  const std::string odd =
      "{ \"stream\" : \"nknusdt@depth@100ms\" ,\n \"data\" : {\"e\":\"depth\\u0055pdate\","
      "\"E\":1633998512068,\"s\":\"NKN\\u0055SDT\",\"U\":499869755,\"u\":499869757,"
      "\"b\" : [ [ \"0.3520\\u00300000\" , \"1290\" ] ,[\"0.3473\",\"106\", []]],"
      "\"a\":[[\"0.36\",\"5\"]]}\t}";
  const std::string spaced =
      "{\"stream\":\"nknusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1633998512068,"
      "\"s\":\"NKNUSDT\",\"U\":499869758,\"u\":499869758,\"b\":[\n  [\"0.35200000\", \"1290\"],\n"
      "  [\"0.3473\", \"106\"]\n],\"a\":[ [ \"0.36\" , \"5\" ] ]}}";
  ASSERT_EQ(Feed(*dec_, canonical, 1, sink_), DecodeError::kOk);
  std::vector<MdEvent> a = Take();
  Make({});
  MakeNknLive();
  ASSERT_EQ(Feed(*dec_, odd, 1, sink_), DecodeError::kOk) << dec_->last_error_where();
  ASSERT_EQ(Feed(*dec_, spaced, 1, sink_), DecodeError::kOk) << dec_->last_error_where();
  std::vector<MdEvent> b = Take();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 2u);
  for (const MdEvent& y : b) {
    ASSERT_EQ(a[0].levels.size(), y.levels.size());
    EXPECT_EQ(a[0].levels.num_bids, y.levels.num_bids);
    for (size_t i = 0; i < y.levels.size(); ++i) {
      EXPECT_EQ(a[0].levels.level[i].price, y.levels.level[i].price);
      EXPECT_EQ(a[0].levels.level[i].size, y.levels.level[i].size);
    }
  }
  // A snapshot with whitespace, escapes and extra elements.
  Make({});
  ASSERT_EQ(Snapshot(*dec_, kNkn,
                     "{ \"lastUpdateId\" : 7 , \"bids\" : [ [\"1\\u002e5\",\"2\",[]] ],\n"
                     "\"asks\":[[ \"3\" , \"4\" ]] }",
                     1, sink_),
            DecodeError::kOk)
      << dec_->last_error_where();
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[0].levels.bids()[0].price, 150000000);
  EXPECT_EQ(sink_.events[0].levels.asks()[0].size, 400000000);
}

// ---------------------------------------------------------------------------------------------
// Skipped and refused messages

TEST_F(BinanceDecoderTest, UnknownTypesAreCountedAndSkipped) {
  const std::vector<std::string> msgs = {
      std::string(kKlineFrame),
      R"({"stream":"nknusdt@depth5","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[]}})",
      R"({"stream":"!miniTicker@arr","data":[{"e":"24hrMiniTicker","s":"NKNUSDT"}]})",
      R"([{"e":"24hrMiniTicker","s":"NKNUSDT"}])",
      R"({"e":"24hrTicker","E":1,"s":"NKNUSDT","b":"1","B":"1","a":"1","A":"1"})",
      R"({"e":"avgPrice","E":1693907033000,"s":"BTCUSDT","i":"5m","w":"25776.86000000"})",
      R"({"something":"else"})",
  };
  for (const std::string& m : msgs) {
    EXPECT_EQ(Feed(*dec_, m, 1, sink_), DecodeError::kUnknownType) << m;
  }
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().unknown_messages, msgs.size());
  EXPECT_EQ(c().decode_errors, 0u);
  EXPECT_EQ(c().messages, msgs.size());
}

TEST_F(BinanceDecoderTest, RepliesAreCountedAndErrorsAreVenueErrors) {
  EXPECT_EQ(Feed(*dec_, R"({"result":null,"id":1})", 1, sink_), DecodeError::kOk);
  EXPECT_EQ(Feed(*dec_, R"({"id":3,"result":["btcusdt@aggTrade"]})", 1, sink_), DecodeError::kOk);
  EXPECT_EQ(stats().subscribe_replies, 2u);
  EXPECT_EQ(Feed(*dec_, R"({"code": 0, "msg": "Unknown property","id": 5})", 1, sink_),
            DecodeError::kVenueError);
  EXPECT_EQ(
      Feed(*dec_, R"({"code":2,"msg":"Invalid request: request ID must be an unsigned integer"})",
           1, sink_),
      DecodeError::kVenueError);
  EXPECT_EQ(Feed(*dec_, R"({"id":1,"error":{"code":2,"msg":"Invalid request"}})", 1, sink_),
            DecodeError::kVenueError);
  EXPECT_EQ(c().venue_errors, 3u);
  EXPECT_EQ(dec_->last_error(), DecodeError::kVenueError);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().decode_errors, 0u);
}

TEST_F(BinanceDecoderTest, MalformedJsonIsCounted) {
  const std::vector<std::string> msgs = {
      "",
      "x",
      "{",
      "{}}",
      R"({"stream":"a","data":{"e":"depthUpdate",}})",
      R"({"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"1","B":"1","a":"1","A":"1"}} {})",
      R"({"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"1","B":"1","a":"1","A":"1"])",
      "\"just a string\"",
      "12345",
      std::string("{\"s\":\"NKN\xff\"}"),
  };
  uint64_t n = 0;
  for (const std::string& m : msgs) {
    EXPECT_EQ(Feed(*dec_, m, 1, sink_), DecodeError::kMalformedJson) << m;
    EXPECT_EQ(c().decode_errors, ++n) << m;
  }
  EXPECT_TRUE(sink_.events.empty());
}

// Every prefix of a real frame: never a crash (ASan/UBSan run this), never an event, always one
// error counted. The bytes after the prefix are the rest of the frame (a buffer holding more), or
// padding made of bytes that would end a number or a string.
TEST(BinanceDecoderTruncation, EveryPrefixOfARealFrameIsRefused) {
  for (std::string_view frame : {kDepthFrame, kDepthFrame2, kBookTickerFrame, kAggTradeFrame}) {
    for (char fill : {'9', '"', '}', ' '}) {
      auto d = MakeBinanceDecoder(RecordingTable(), {});
      VectorSink sink;
      d->OnOpen(0, sink);
      sink.events.clear();
      for (size_t n = 0; n < frame.size(); ++n) {
        const Padded p = fill == '9' ? Padded::Prefix(frame, n) : Padded::Prefix(frame, n, fill);
        const DecodeError e = d->OnMessage(p.data(), p.size(), 1, sink);
        EXPECT_NE(e, DecodeError::kOk) << "prefix of " << n << " bytes decoded: " << frame;
        ASSERT_TRUE(sink.events.empty()) << "prefix of " << n << " bytes emitted: " << frame;
        ASSERT_EQ(d->counters().decode_errors, n + 1) << n << ": " << frame;
      }
      EXPECT_EQ(d->counters().unknown_messages, 0u);
      // The whole frame still decodes (the buffer was discarded after each failed diff, which is
      // what a lost update means, but nothing else went wrong).
      const Padded whole(frame);
      EXPECT_EQ(d->OnMessage(whole.data(), whole.size(), 1, sink), DecodeError::kOk) << frame;
    }
  }
}

TEST_F(BinanceDecoderTest, MissingFieldsAndWrongTypes) {
  const std::vector<std::pair<std::string, DecodeError>> cases = {
      // depthUpdate without U / u / b / a / E / s
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","u":2,"b":[],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"b":[],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":2,"a":[]})", DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":2,"b":[]})", DecodeError::kMissingField},
      {R"({"e":"depthUpdate","s":"NKNUSDT","U":2,"u":2,"b":[],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"U":2,"u":2,"b":[],"a":[]})", DecodeError::kMissingField},
      // wrong JSON types
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":"2","u":2,"b":[],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":7,"U":2,"u":2,"b":[],"a":[]})", DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":2,"b":[["1"]],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":2,"b":[[1,2]],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":2,"b":["1","2"],"a":[]})",
       DecodeError::kMissingField},
      {R"({"e":7,"E":1,"s":"NKNUSDT","U":2,"u":2,"b":[],"a":[]})", DecodeError::kMissingField},
      {R"({"stream":"nknusdt@depth","data":5})", DecodeError::kMissingField},
      // integers that are not uint64
      {R"({"e":"depthUpdate","E":-1,"s":"NKNUSDT","U":2,"u":2,"b":[],"a":[]})",
       DecodeError::kBadNumber},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2.5,"u":3,"b":[],"a":[]})",
       DecodeError::kBadNumber},
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":2,"u":99999999999999999999,"b":[],"a":[]})",
       DecodeError::kBadNumber},
      // values out of their domain
      {R"({"e":"depthUpdate","E":1,"s":"NKNUSDT","U":3,"u":2,"b":[],"a":[]})",
       DecodeError::kBadValue},
      {R"({"e":"depthUpdate","E":18446744073709551615,"s":"NKNUSDT","U":2,"u":2,"b":[],"a":[]})",
       DecodeError::kBadValue},
      // bookTicker / trade / aggTrade missing fields
      {R"({"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"1","B":"1","a":"1"}})",
       DecodeError::kMissingField},
      {R"({"stream":"nknusdt@bookTicker","data":{"s":"NKNUSDT","b":"1","B":"1","a":"1","A":"1"}})",
       DecodeError::kMissingField},
      {R"({"e":"trade","E":1,"s":"NKNUSDT","t":1,"p":"1","q":"1","T":1})",
       DecodeError::kMissingField},
      {R"({"e":"trade","E":1,"s":"NKNUSDT","t":1,"p":"1","q":"1","T":1,"m":"yes"})",
       DecodeError::kMissingField},
      {R"({"e":"aggTrade","E":1,"s":"NKNUSDT","p":"1","q":"1","T":1,"m":true})",
       DecodeError::kMissingField},
      {R"({"e":"aggTrade","E":1,"s":"NKNUSDT","a":1,"p":1,"q":"1","T":1,"m":true})",
       DecodeError::kMissingField},
      {R"({"e":"aggTrade","s":"NKNUSDT","a":-4,"p":"1","q":"1","T":1,"m":true})",
       DecodeError::kBadNumber},
  };
  uint64_t n = 0;
  for (const auto& [msg, want] : cases) {
    EXPECT_EQ(Feed(*dec_, msg, 1, sink_), want) << msg;
    EXPECT_EQ(c().decode_errors, ++n) << msg;
    EXPECT_NE(std::string(dec_->last_error_where()), "") << msg;
  }
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(BinanceDecoderTest, NumbersThatDoNotFitTheScaleAreBadNumbers) {
  // bookTicker / aggTrade: one decimal too many for scale 8 (a trailing zero is fine).
  EXPECT_EQ(
      Feed(
          *dec_,
          R"({"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"0.352100001","B":"672","a":"0.3526","A":"3199"}})",
          1, sink_),
      DecodeError::kBadNumber);
  EXPECT_EQ(
      Feed(
          *dec_,
          R"({"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"0.352100000","B":"672","a":"0.3526","A":"3199"}})",
          1, sink_),
      DecodeError::kOk);
  sink_.events.clear();
  EXPECT_EQ(
      Feed(*dec_, R"({"e":"aggTrade","E":1,"s":"NKNUSDT","a":1,"p":"1e-9","q":"1","T":1,"m":true})",
           1, sink_),
      DecodeError::kBadNumber);
  EXPECT_EQ(
      Feed(*dec_,
           R"({"e":"aggTrade","E":1,"s":"NKNUSDT","a":1,"p":"1","q":"99999999999","T":1,"m":true})",
           1, sink_),
      DecodeError::kBadNumber);
  EXPECT_EQ(
      Feed(*dec_, R"({"e":"aggTrade","E":1,"s":"NKNUSDT","a":1,"p":"-1","q":"1","T":1,"m":true})",
           1, sink_),
      DecodeError::kBadNumber);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(c().decode_errors, 4u);
  EXPECT_EQ(dec_->instrument_counters(kNkn)->decode_errors, 4u);
}

TEST_F(BinanceDecoderTest, ADepthUpdateThatFailsOnALiveBookIsALostUpdate) {
  MakeNknLive();  // last u = 499869754
  // The next diff, with a number that does not fit: nothing of it is emitted, and since the
  // update is lost the book gets kGap and a new snapshot is requested.
  EXPECT_EQ(
      Feed(*dec_, Diff("NKNUSDT", 499869755, 499869757, {{"0.35", "1"}, {"0.351300001", "1"}}, {}),
           1, sink_),
      DecodeError::kBadNumber);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, MdType::kStatus);
  EXPECT_EQ(ev[0].status.code, MdStatus::kGap);
  EXPECT_EQ(ev[0].status.expected_seq, 499869755u);
  EXPECT_EQ(ev[0].status.received_seq, 499869755u);
  EXPECT_EQ(PopAll(*dec_).size(), 1u);
  EXPECT_EQ(stats().lost_updates, 1u);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kAwaitingSnapshot);
  EXPECT_EQ(c().decode_errors, 1u);
  EXPECT_EQ(dec_->instrument_counters(kNkn)->decode_errors, 1u);

  // A price of zero is refused too (the book would refuse the whole event).
  Make({});
  MakeNknLive();
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869755, 499869757, {{"0", "1"}}, {}), 1, sink_),
            DecodeError::kBadValue);
  EXPECT_EQ(Take().size(), 1u);  // kGap

  // A broken diff that is older than the book loses nothing (its numbers are not even read).
  Make({});
  MakeNknLive();
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869753, 499869754, {{"x", "1"}}, {}), 1, sink_),
            DecodeError::kSequence);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kLive);

  // A malformed frame whose type and symbol were read before the break: lost too.
  Make({});
  MakeNknLive();
  // (A frame cut short is refused before any field is read: simdjson checks the root's closing
  // brace first. Here the break is inside "a".)
  std::string broken = Diff("NKNUSDT", 499869755, 499869757, {{"0.35", "1"}}, {});
  broken.replace(broken.find(R"("a":[]}})"), 8, R"("a":[}})");
  EXPECT_NE(Feed(*dec_, broken, 1, sink_), DecodeError::kOk);
  EXPECT_EQ(c().decode_errors, 1u);
  ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status.code, MdStatus::kGap);
}

TEST_F(BinanceDecoderTest, UnknownSymbolsAreCountedAndSkipped) {
  EXPECT_EQ(Feed(*dec_, Diff("BTCUSDT", 1, 2, {{"1", "1"}}, {}), 1, sink_),
            DecodeError::kUnknownInstrument);
  EXPECT_EQ(
      Feed(
          *dec_,
          R"({"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}})",
          1, sink_),
      DecodeError::kUnknownInstrument);
  EXPECT_EQ(
      Feed(*dec_, R"({"e":"aggTrade","E":1,"s":"nknusdt","a":1,"p":"1","q":"1","T":1,"m":true})", 1,
           sink_),
      DecodeError::kUnknownInstrument)
      << "symbols are matched exactly as the venue spells them";
  EXPECT_EQ(c().unknown_instrument, 3u);
  EXPECT_EQ(c().decode_errors, 0u);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(BinanceDecoderTest, TooManyLevelsAndTooLargeMessages) {
  BinanceDecoderOptions o;
  o.max_levels_per_message = 3;
  Make(o);
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 1, 2, {{"1", "1"}, {"2", "1"}}, {{"3", "1"}, {"4", "1"}}),
                 1, sink_),
            DecodeError::kTooLarge);
  EXPECT_EQ(Feed(*dec_, Diff("NKNUSDT", 1, 2, {{"1", "1"}, {"2", "1"}}, {{"3", "1"}}), 1, sink_),
            DecodeError::kOk);
  EXPECT_EQ(
      Snapshot(*dec_, kBlz, SnapshotBody(5, {{"1", "1"}, {"2", "1"}, {"3", "1"}, {"4", "1"}}, {}),
               1, sink_),
      DecodeError::kTooLarge);
  o = {};
  o.max_message_bytes = 128;
  Make(o);
  EXPECT_EQ(Feed(*dec_, kDepthFrame, 1, sink_), DecodeError::kTooLarge);
  EXPECT_EQ(Feed(*dec_, R"({"result":null,"id":1})", 1, sink_), DecodeError::kOk);
}

TEST_F(BinanceDecoderTest, BufferOverflowDiscardsAndAsksAgain) {
  BinanceDecoderOptions o;
  o.max_buffered_diffs = 3;
  Make(o);
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 10 + i, 10 + i, {{"1", "1"}}, {}), 1, sink_),
              DecodeError::kOk);
  }
  EXPECT_TRUE(PopAll(*dec_).empty());
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 13, 13, {{"1", "2"}}, {}), 1, sink_), DecodeError::kOk);
  EXPECT_EQ(stats().buffer_overflows, 1u);
  const std::vector<FeedAction> a = PopAll(*dec_);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].type, FeedActionType::kFetchSnapshot);
  // Only the newest diff is kept: a snapshot at 10 is now too old, one at 12 works.
  EXPECT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(10, {}, {}), 1, sink_), DecodeError::kSequence);
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(12, {}, {}), 1, sink_), DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[1].venue_seq, 13u);

  // The level budget overflows the same way.
  o = {};
  o.max_levels_per_message = 2;
  o.max_buffered_levels = 4;
  Make(o);
  for (uint64_t i = 0; i < 2; ++i) {
    ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 10 + i, 10 + i, {{"1", "1"}, {"2", "1"}}, {}), 1, sink_),
              DecodeError::kOk);
  }
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 12, 12, {{"1", "1"}}, {}), 1, sink_), DecodeError::kOk);
  EXPECT_EQ(stats().buffer_overflows, 1u);
}

TEST_F(BinanceDecoderTest, AHoleInTheBufferedDiffsIsAGap) {
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 10, 11, {{"1", "1"}}, {}), 1, sink_), DecodeError::kOk);
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 11, 11, {{"1", "1"}}, {}), 1, sink_),
            DecodeError::kSequence);  // duplicate while buffering
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 14, 15, {{"1", "3"}}, {}), 1, sink_), DecodeError::kOk);
  std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].status.code, MdStatus::kGap);
  EXPECT_EQ(ev[0].status.expected_seq, 12u);
  EXPECT_EQ(ev[0].status.received_seq, 14u);
  EXPECT_EQ(stats().buffer_holes, 1u);
  // A snapshot at 11 cannot be completed (12, 13 are lost); one at 13 can.
  EXPECT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(11, {}, {}), 1, sink_), DecodeError::kSequence);
  ASSERT_EQ(Snapshot(*dec_, kNkn, SnapshotBody(13, {}, {}), 1, sink_), DecodeError::kOk);
  ev = Take();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1].venue_seq, 15u);
}

TEST_F(BinanceDecoderTest, ReopenStartsOver) {
  MakeNknLive();
  dec_->OnClose(1, sink_);
  dec_->OnOpen(2, sink_);
  EXPECT_EQ(GetBinanceBookSync(*dec_, kNkn), BinanceBookSync::kAwaitingSnapshot);
  EXPECT_EQ(PopAll(*dec_).size(), 4u);
  books_.ApplyAll(Take());
  EXPECT_EQ(books_[kNkn].state(), BookState::kGap);
  // The next diff is buffered, not applied, although it follows the old sequence.
  ASSERT_EQ(Feed(*dec_, Diff("NKNUSDT", 499869755, 499869757, {{"0.35", "1"}}, {}), 3, sink_),
            DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  // The old snapshot (499869752) is too old for the buffer that starts at 755; 754 bridges it.
  EXPECT_EQ(Snapshot(*dec_, kNkn, kNknSnapshot, 4, sink_), DecodeError::kSequence);
  ASSERT_EQ(
      Snapshot(*dec_, kNkn, SnapshotBody(499869754, {{"0.35210000", "1"}}, {{"0.35260000", "1"}}),
               4, sink_),
      DecodeError::kOk);
  const std::vector<MdEvent> ev = Take();
  ASSERT_EQ(ev.size(), 3u);
  books_.ApplyAll(ev);
  EXPECT_EQ(books_[kNkn].state(), BookState::kLive);
}

// ---------------------------------------------------------------------------------------------
// Discovery

TEST(BinanceDiscovery, FindsTheRecordingsSymbolsAndScales) {
  InstrumentDiscovery d;
  for (const StreamLine& l : ReadStream()) DiscoverBinanceInstruments(l.frame, &d);
  for (const SnapshotLine& s : ReadSnapshots()) DiscoverBinanceInstruments(s.body, &d);
  DiscoverBinanceInstruments("not json", &d);
  DiscoverBinanceInstruments(kKlineFrame, &d);
  const std::vector<FeedInstrument> v = d.Build();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].symbol, "NKNUSDT");
  EXPECT_EQ(v[1].symbol, "BLZETH");
  EXPECT_EQ(v[2].symbol, "LRCBTC");
  EXPECT_EQ(v[3].symbol, "RUNEEUR");
  for (const FeedInstrument& i : v) {
    EXPECT_GE(i.price_scale, 0);
    EXPECT_LE(i.price_scale, 8);
    EXPECT_LE(i.size_scale, 8);
  }
  // NKNUSDT prices have 4 significant decimals ("0.35130000"), sizes none ("6195.00000000").
  EXPECT_EQ(v[0].price_scale, 4);
  EXPECT_EQ(v[0].size_scale, 0);
  // LRCBTC prices need 8 ("0.00000637").
  EXPECT_EQ(v[2].price_scale, 8);
  // Every recorded frame decodes with the discovered table.
  absl::StatusOr<SymbolTable> t = SymbolTable::Create(v);
  ASSERT_TRUE(t.ok());
  auto dec = MakeBinanceDecoder(*t, {});
  VectorSink sink;
  dec->OnOpen(0, sink);
  for (const StreamLine& l : ReadStream()) {
    const DecodeError e = Feed(*dec, l.frame, 1, sink);
    EXPECT_TRUE(e == DecodeError::kOk || e == DecodeError::kUnknownType) << l.frame;
  }
  EXPECT_EQ(dec->counters().decode_errors, 0u);
}

}  // namespace
}  // namespace nzeza
