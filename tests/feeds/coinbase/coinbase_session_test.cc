// Integration tests: the Coinbase decoders driven by FeedSession over real TLS WebSocket
// connections to a scripted server on 127.0.0.1 (TestWsServer, certificate generated at test
// time). Every wait is bounded.
//
// Advanced Trade: snapshot + updates with sequence_num, a malformed frame (counted, the book
// unaffected), a sequence_num gap (kGap, the session sends the decoder's resubscribe frames, the
// server answers with a new snapshot: kResynced), a drop (kDisconnected, reconnect, subscribe
// again, fresh snapshot: kResynced), a stall (kStale), another drop and reconnect.
// Exchange: recorded frames replayed, a drop, the same frames replayed on the new connection: the
// books end as a direct decode of those frames leaves them, last_match/match replays are counted
// duplicates.
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../../engine/net/test_ws_server.h"
#include "coinbase_test_util.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/common/feed_session.h"
#include "nzeza/net/tls.h"

namespace nzeza {
namespace {

using testing::TestWsServer;

const SelfSignedCert& LoopbackCert() {
  static const SelfSignedCert cert = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  return cert;
}

TlsContext ServerContext() {
  absl::StatusOr<TlsContext> ctx =
      MakeServerTlsContext(LoopbackCert().cert_pem, LoopbackCert().key_pem);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

TlsContext ClientContext() {
  TlsClientOptions o;
  o.ca_pem = LoopbackCert().cert_pem;
  absl::StatusOr<TlsContext> ctx = MakeClientTlsContext(o);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

FeedSessionOptions SessionOptions(uint16_t port, std::vector<std::string>* logs) {
  FeedSessionOptions o;
  o.ws.host = "127.0.0.1";
  o.ws.port = port;
  o.ws.target = "/";
  o.ws.tls_context = ClientContext();
  o.ws.connect_timeout = absl::Seconds(5);
  o.ws.idle_timeout = absl::Seconds(20);
  o.ws.backoff_initial = absl::Milliseconds(10);
  o.ws.backoff_max = absl::Milliseconds(50);
  o.stale_after = absl::Milliseconds(300);
  o.stale_check_interval = absl::Milliseconds(20);
  o.log_interval = absl::Milliseconds(100);
  o.log = [logs](std::string_view line) { logs->emplace_back(line); };
  o.name = "coinbase-test";
  return o;
}

// Polls until `done` or the deadline.
template <typename F>
bool PollUntil(FeedSession& feed, F done, int timeout_ms = 20'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (feed.Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Applies what the session emitted to one book, remembering each status in order.
struct Downstream {
  explicit Downstream(InstrumentId id) : book(id, 64) {}
  // Applies events one by one until `done` holds after one of them (the rest wait for the next
  // call), so a stage is checked in the state it reached, not a later one.
  template <typename F>
  bool DrainUntil(VectorSink& sink, F done) {
    if (done()) return true;
    while (next < sink.events.size()) {
      const MdEvent& e = sink.events[next++];
      if (e.instrument != book.instrument()) continue;
      if (e.type == MdType::kStatus) {
        statuses.push_back(e.status.code);
        if (e.status.code == MdStatus::kGap && !gap_seen) {
          gap_seen = true;
          gap = e.status;
          // The book just before the gap: what seq 1..3 and the malformed frame left.
          before_gap_bid = *book.best_bid();
          before_gap_ask = *book.best_ask();
          before_gap_levels = book.bids().size() + book.asks().size();
        }
      }
      const ApplyResult r = book.Apply(e);
      EXPECT_TRUE(r.ok()) << BookErrorName(r.error);
      if (e.type == MdType::kLevels && (e.flags & kMdMessageEnd) != 0) {
        EXPECT_EQ(book.Validate(), BookInvariant::kOk);
      }
      if (done()) return true;
    }
    return false;
  }
  size_t Count(MdStatus code) const {
    size_t n = 0;
    for (MdStatus s : statuses) n += s == code;
    return n;
  }
  OrderBook book;
  size_t next = 0;
  std::vector<MdStatus> statuses;
  bool gap_seen = false;
  MdStatusInfo gap;
  PriceLevel before_gap_bid, before_gap_ask;
  size_t before_gap_levels = 0;
};

std::string L2(uint64_t seq, std::string_view type, std::string_view updates) {
  return R"({"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":)" +
         std::to_string(seq) + R"(,"events":[{"type":")" + std::string(type) +
         R"(","product_id":"BTC-USD","updates":[)" + std::string(updates) + "]}]}";
}

std::string Up(std::string_view side, std::string_view px, std::string_view qty) {
  return R"({"side":")" + std::string(side) +
         R"(","event_time":"2023-02-09T20:32:50.01Z","price_level":")" + std::string(px) +
         R"(","new_quantity":")" + std::string(qty) + R"("})";
}

std::string Subscriptions(uint64_t seq) {
  return R"({"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":)" +
         std::to_string(seq) + R"(,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]})";
}

TEST(CoinbaseSession, AdvancedTradeGapResubscribeDropReconnectStallOverTls) {
  constexpr InstrumentId kBtc = 3;
  const SymbolTable table = testing::Table({{"BTC-USD", kBtc, 2, 8}});
  CoinbaseDecoderOptions dopt;
  dopt.channels = {CoinbaseChannel::kLevel2};  // one subscribe frame per connection
  // What the decoder will send: the scripts check it.
  auto probe = MakeCoinbaseAdvancedDecoder(table, dopt);
  const std::vector<std::string> subscribe = probe->SubscribeFrames();
  const std::vector<std::string> resubscribe = probe->ResubscribeFrames(kBtc);
  ASSERT_EQ(subscribe.size(), 1u);
  ASSERT_EQ(resubscribe.size(), 2u);

  TestWsServer::Script first;
  first.frames = {
      Subscriptions(0),
      L2(1, "snapshot",
         Up("bid", "100", "1") + "," + Up("bid", "99", "2") + "," + Up("offer", "101", "1") + "," +
             Up("offer", "102", "3")),
      L2(2, "update", Up("bid", "100", "1.5")),
      R"({"channel":"l2_data","sequence_num":)",  // malformed (truncated, carries no number)
      L2(3, "update", Up("offer", "101", "0")),
      L2(5, "update", Up("bid", "100.5", "1")),  // 4 was lost: a gap
  };
  // The session resubscribes (unsubscribe + subscribe); the venue answers with a new snapshot.
  first.exchanges = {{.read = 2,
                      .frames = {Subscriptions(6),
                                 L2(7, "snapshot",
                                    Up("bid", "100.5", "1") + "," + Up("bid", "100", "1.5") + "," +
                                        Up("offer", "102", "3")),
                                 L2(8, "update", Up("bid", "100.5", "2"))}}};
  first.then = TestWsServer::kDrop;
  TestWsServer::Script second;
  second.frames = {L2(0, "snapshot", Up("bid", "98", "1") + "," + Up("offer", "99", "1")),
                   L2(1, "update", Up("offer", "99", "4"))};
  second.then = TestWsServer::kStall;
  second.stall_ms = 1'500;
  TestWsServer::Script third;
  third.frames = {L2(0, "snapshot", Up("bid", "97", "1") + "," + Up("offer", "98", "1"))};
  third.then = TestWsServer::kHold;
  TestWsServer server(ServerContext(), {first, second, third});

  std::vector<std::string> logs;
  VectorSink sink;
  FeedSession feed(SessionOptions(server.port(), &logs), MakeCoinbaseAdvancedDecoder(table, dopt),
                   sink);
  ASSERT_TRUE(feed.Start().ok());
  Downstream down(kBtc);

  // 1. Snapshot, updates, the malformed frame, the gap, the resubscription and the new snapshot.
  ASSERT_TRUE(PollUntil(feed, [&] {
    return down.DrainUntil(sink, [&] {
      return down.Count(MdStatus::kResynced) >= 1 && down.book.best_bid() != nullptr &&
             down.book.best_bid()->size == 200000000;
    });
  })) << feed.ws().last_error();
  ASSERT_TRUE(down.gap_seen);
  EXPECT_EQ(down.gap.expected_seq, 4u);
  EXPECT_EQ(down.gap.received_seq, 5u);
  // Seq 1, 2 and 3 applied, the malformed frame in between changed nothing.
  EXPECT_EQ(down.before_gap_bid.price, 10000);
  EXPECT_EQ(down.before_gap_bid.size, 150000000);
  EXPECT_EQ(down.before_gap_ask.price, 10200);
  EXPECT_EQ(down.before_gap_ask.size, 300000000);
  EXPECT_EQ(down.before_gap_levels, 3u);
  // After the resync: the new snapshot plus seq 8, never the update that came with the gap.
  EXPECT_EQ(down.book.state(), BookState::kLive);
  EXPECT_EQ(down.book.best_bid()->price, 10050);
  EXPECT_EQ(down.book.best_ask()->price, 10200);
  EXPECT_EQ(feed.decoder().counters().gaps, 1u);
  EXPECT_EQ(feed.decoder().counters().decode_errors, 1u);
  EXPECT_EQ(feed.decoder().last_error(), DecodeError::kMalformedJson);
  EXPECT_EQ(feed.counters().resubscribes, 1u);
  {
    const std::vector<std::string> got = server.received();
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got[0], subscribe[0]);
    EXPECT_EQ(got[1], resubscribe[0]);
    EXPECT_EQ(got[2], resubscribe[1]);
  }

  // 2. The drop: kDisconnected, reconnect, subscribe again, a fresh snapshot resyncs; then the
  //    server stalls: kStale.
  ASSERT_TRUE(PollUntil(feed, [&] {
    return down.DrainUntil(sink, [&] {
      return down.Count(MdStatus::kDisconnected) >= 1 && down.Count(MdStatus::kResynced) >= 2 &&
             down.book.best_ask() != nullptr && down.book.best_ask()->size == 400000000;
    });
  })) << feed.ws().last_error();
  EXPECT_EQ(down.book.best_bid()->price, 9800);
  const size_t stale_before = down.Count(MdStatus::kStale);
  ASSERT_TRUE(PollUntil(feed, [&] {
    return down.DrainUntil(sink, [&] { return down.Count(MdStatus::kStale) > stale_before; });
  }));
  EXPECT_EQ(down.book.state(), BookState::kStale);

  // 3. The stall ends in a drop: reconnect, and the third snapshot makes the book live again.
  ASSERT_TRUE(PollUntil(feed, [&] {
    return down.DrainUntil(sink, [&] {
      return down.Count(MdStatus::kDisconnected) >= 2 && down.Count(MdStatus::kResynced) >= 3 &&
             down.book.state() == BookState::kLive && down.book.best_bid() != nullptr &&
             down.book.best_bid()->price == 9700;
    });
  })) << feed.ws().last_error();
  EXPECT_EQ(feed.ws().counters().connects, 3u);
  {
    const std::vector<std::string> got = server.received();
    ASSERT_EQ(got.size(), 5u);  // subscribe, unsubscribe + subscribe, subscribe, subscribe
    EXPECT_EQ(got[3], subscribe[0]);
    EXPECT_EQ(got[4], subscribe[0]);
  }
  // The malformed frame was logged (rate-limited, off the hot path).
  bool logged = false;
  for (const std::string& l : logs) logged |= l.find("malformed json") != std::string::npos;
  EXPECT_TRUE(logged);
  feed.Close();
  server.Stop();
}

TEST(CoinbaseSession, ExchangeRecordedFramesReplayedAcrossADrop) {
  std::vector<std::string> frames;
  for (const testing::RecordedLine& l : testing::ReadExchangeRecording()) {
    if (l.kind == testing::RecordedLine::kServerFrame && frames.size() < 1500) {
      frames.push_back(l.frame);
    }
  }
  ASSERT_EQ(frames.size(), 1500u);
  const std::vector<std::string> products = {"SKL-USD",  "SKL-BTC", "BAND-GBP", "NMR-EUR",
                                             "BAND-BTC", "YFI-BTC", "DASH-BTC", "NU-GBP",
                                             "CRV-EUR",  "SKL-GBP"};
  std::vector<FeedInstrument> v;
  // 8/8: no price or size in the recording has more decimals (see coinbase_golden_test.cc for a
  // per-product pre-scan).
  for (size_t i = 0; i < products.size(); ++i) v.push_back({products[i], InstrumentId(i), 8, 8});
  const SymbolTable table = testing::Table(v);

  // The books a direct decode of the frames leaves.
  std::vector<OrderBook> expected;
  {
    auto dec = MakeCoinbaseExchangeDecoder(table, {});
    VectorSink s;
    dec->OnOpen(0, s);
    for (const std::string& f : frames) ASSERT_EQ(testing::Feed(*dec, f, s), DecodeError::kOk);
    for (size_t i = 0; i < products.size(); ++i) expected.emplace_back(InstrumentId(i), 4096);
    for (const MdEvent& e : s.events) ASSERT_TRUE(expected[e.instrument].Apply(e).ok());
  }

  // The decoder subscribes with three frames (level2, ticker, matches); the server reads them all
  // before replying (a socket closed with unread input is reset, which would lose replies).
  TestWsServer::Script first;
  first.exchanges = {{.read = 2, .frames = frames}};
  first.then = TestWsServer::kDrop;
  TestWsServer::Script second;
  second.exchanges = {{.read = 2, .frames = frames}};
  second.then = TestWsServer::kHold;
  TestWsServer server(ServerContext(), {first, second});
  std::vector<std::string> logs;
  VectorSink sink;
  FeedSession feed(SessionOptions(server.port(), &logs), MakeCoinbaseExchangeDecoder(table, {}),
                   sink);
  ASSERT_TRUE(feed.Start().ok());
  std::vector<OrderBook> books;
  for (size_t i = 0; i < products.size(); ++i) books.emplace_back(InstrumentId(i), 4096);
  size_t next = 0, disconnected = 0, resynced = 0;
  auto drain = [&] {
    for (; next < sink.events.size(); ++next) {
      const MdEvent& e = sink.events[next];
      if (e.type == MdType::kStatus) {
        disconnected += e.status.code == MdStatus::kDisconnected;
        resynced += e.status.code == MdStatus::kResynced;
      }
      const ApplyResult r = books[e.instrument].Apply(e);
      EXPECT_TRUE(r.ok()) << BookErrorName(r.error);
      if (e.type == MdType::kLevels && (e.flags & kMdMessageEnd) != 0) {
        EXPECT_FALSE(books[e.instrument].crossed());
      }
    }
  };
  ASSERT_TRUE(PollUntil(feed, [&] {
    drain();
    return feed.decoder().counters().messages >= 2 * frames.size();
  })) << feed.ws().last_error();
  drain();
  EXPECT_EQ(disconnected, products.size());
  EXPECT_EQ(resynced, products.size());
  EXPECT_EQ(feed.decoder().counters().decode_errors, 0u);
  EXPECT_EQ(feed.decoder().counters().gaps, 0u);
  // The replayed matches are not new trades.
  EXPECT_EQ(feed.decoder().counters().duplicates, feed.decoder().counters().trades);
  EXPECT_GT(feed.decoder().counters().trades, 0u);
  for (size_t i = 0; i < products.size(); ++i) {
    SCOPED_TRACE(products[i]);
    EXPECT_EQ(books[i].state(), BookState::kLive);
    ASSERT_EQ(books[i].bids().size(), expected[i].bids().size());
    ASSERT_EQ(books[i].asks().size(), expected[i].asks().size());
    for (uint32_t k = 0; k < books[i].bids().size(); ++k) {
      EXPECT_EQ(books[i].bids()[k].price, expected[i].bids()[k].price);
      EXPECT_EQ(books[i].bids()[k].size, expected[i].bids()[k].size);
    }
    for (uint32_t k = 0; k < books[i].asks().size(); ++k) {
      EXPECT_EQ(books[i].asks()[k].price, expected[i].asks()[k].price);
      EXPECT_EQ(books[i].asks()[k].size, expected[i].asks()[k].size);
    }
  }
  feed.Close();
  server.Stop();
}

}  // namespace
}  // namespace nzeza
