// Integration: FeedSession with the Binance decoder over real TLS on loopback. A scripted
// WebSocket server (tests/engine/net/test_ws_server.h) replays the recorded NKNUSDT frames and an
// HTTPS server (tests/engine/net/test_http_server.h) serves the REST depth snapshots. The
// scenario, on two connections:
//   1. subscribe; the recorded frames (depth diffs D0..D60, bookTicker, aggTrade, kline) with a
//      malformed frame in the middle; the snapshot (the recorded one, lastUpdateId of D0) makes
//      the book live; then the server stalls (-> kStale) and drops the connection;
//   2. the session reconnects, resubscribes and asks for a snapshot again (served: the book after
//      D60); the server sends D61..D100 with D80 left out (an injected gap -> kGap, a third
//      snapshot (the book after D81) and kResynced), then holds the connection.
// Every event the session emits is applied to an OrderBook, which must end equal to a reference
// built by hand from the recording (the recorded snapshot plus D1..D100: D80 is in the third
// snapshot). Every wait is bounded.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../engine/net/test_http_server.h"
#include "../../engine/net/test_ws_server.h"
#include "binance_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/binance/subscribe.h"
#include "nzeza/feeds/common/feed_session.h"
#include "nzeza/net/tls.h"

namespace nzeza {
namespace {

using namespace binance_test;  // NOLINT
using testing::TestHttpServer;
using testing::TestWsServer;

const SelfSignedCert& LoopbackCert() {
  static const SelfSignedCert cert = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  return cert;
}

TlsContext ServerTls() {
  absl::StatusOr<TlsContext> ctx =
      MakeServerTlsContext(LoopbackCert().cert_pem, LoopbackCert().key_pem);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

TlsContext ClientTls() {
  TlsClientOptions o;
  o.ca_pem = LoopbackCert().cert_pem;
  absl::StatusOr<TlsContext> ctx = MakeClientTlsContext(o);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

using Side = std::map<int64_t, int64_t>;

struct Diff {
  std::string frame;
  uint64_t U, u;
  std::vector<std::pair<int64_t, int64_t>> bids, asks;
};

// The book after the recorded NKNUSDT snapshot and diffs D1..Dk (D0 is older than it).
struct Reference {
  Side bids, asks;
  uint64_t last = 0;
  void Apply(const Diff& d) {
    for (const auto& [p, q] : d.bids) q == 0 ? (void)bids.erase(p) : (void)(bids[p] = q);
    for (const auto& [p, q] : d.asks) q == 0 ? (void)asks.erase(p) : (void)(asks[p] = q);
    last = d.u;
  }
  std::string Json() const {
    std::string s = R"({"lastUpdateId":)" + std::to_string(last) + R"(,"bids":[)";
    bool first = true;
    for (auto it = bids.rbegin(); it != bids.rend(); ++it) {
      if (!first) s += ",";
      first = false;
      s += "[\"" + Format8(it->first) + "\",\"" + Format8(it->second) + "\"]";
    }
    s += R"(],"asks":[)";
    first = true;
    for (const auto& [p, q] : asks) {
      if (!first) s += ",";
      first = false;
      s += "[\"" + Format8(p) + "\",\"" + Format8(q) + "\"]";
    }
    return s + "]}";
  }
};

TEST(BinanceFeedSession, ReplayDropStallGapAndMalformedFrameOverTls) {
  // ---- the recording, NKNUSDT only ----
  std::string snapshot0;
  for (const SnapshotLine& s : ReadSnapshots()) {
    if (s.symbol == "NKNUSDT") snapshot0 = s.body;
  }
  ASSERT_FALSE(snapshot0.empty());
  std::vector<Diff> diffs;
  std::vector<std::string> others;  // NKNUSDT aggTrade and kline, then bookTicker frames
  std::vector<std::string> tickers;
  for (const StreamLine& l : ReadStream()) {
    if (l.frame.find("\"s\":\"NKNUSDT\"") == std::string::npos) continue;
    if (l.frame.find("\"e\":\"depthUpdate\"") != std::string::npos) {
      diffs.push_back({l.frame, IntField(l.frame, "U"), IntField(l.frame, "u"),
                       LevelList(l.frame, "b"), LevelList(l.frame, "a")});
    } else if (l.frame.find("@bookTicker") != std::string::npos) {
      tickers.push_back(l.frame);
    } else {
      others.push_back(l.frame);
    }
  }
  ASSERT_EQ(others.size(), 2u) << "one aggTrade, one kline_1m";
  others.insert(others.end(), tickers.begin(), tickers.begin() + 9);
  ASSERT_GE(diffs.size(), 101u);
  Reference ref;
  ref.last = IntField(snapshot0, "lastUpdateId");
  for (const auto& [p, q] : LevelList(snapshot0, "bids")) ref.bids[p] = q;
  for (const auto& [p, q] : LevelList(snapshot0, "asks")) ref.asks[p] = q;
  ASSERT_EQ(diffs[0].u, ref.last) << "D0 is the diff the recorded snapshot already holds";
  std::string snapshot60;
  std::string snapshot81;
  for (size_t k = 1; k <= 100; ++k) {
    ref.Apply(diffs[k]);
    if (k == 60) snapshot60 = ref.Json();
    if (k == 81) snapshot81 = ref.Json();
  }

  // ---- the servers ----
  const std::string malformed = R"({"stream":"nknusdt@depth@100ms","data":{"e":"depthUpd)";
  std::vector<std::string> conn1;
  for (size_t k = 0; k <= 60; ++k) {
    conn1.push_back(diffs[k].frame);
    if (k == 30) conn1.push_back(malformed);
    if (k % 6 == 0 && k / 6 < others.size()) conn1.push_back(others[k / 6]);
  }
  std::vector<std::string> conn2;
  for (size_t k = 61; k <= 100; ++k) {
    if (k != 80) conn2.push_back(diffs[k].frame);  // the injected gap
  }
  TestWsServer ws_server(ServerTls(),
                         {{.frames = conn1, .then = TestWsServer::kStall, .stall_ms = 1500},
                          {.frames = conn2, .then = TestWsServer::kHold}});
  const std::string target = "/api/v3/depth?symbol=NKNUSDT&limit=1000";
  std::atomic<int> snapshot_requests{0};
  TestHttpServer http_server(ServerTls(), [&](const TestHttpServer::Request& r) {
    if (r.target != target) return TestHttpServer::Response{.status = 404};
    const int n = ++snapshot_requests;
    return TestHttpServer::Response{.body = n == 1 ? snapshot0 : (n == 2 ? snapshot60 : snapshot81),
                                    .headers = {{"Content-Type", "application/json"}}};
  });

  // ---- the session ----
  std::vector<FeedInstrument> v = {{"NKNUSDT", kNkn, 8, 8}};
  const SymbolTable table = *SymbolTable::Create(v);
  BinanceDecoderOptions dopt;
  auto dec = MakeBinanceDecoder(table, dopt);
  const std::vector<std::string> subscribe = dec->SubscribeFrames();
  ASSERT_EQ(subscribe.size(), 1u);
  FeedSessionOptions o;
  o.ws.host = "127.0.0.1";
  o.ws.port = ws_server.port();
  o.ws.target = *BinanceCombinedStreamTarget(BinanceStreamNames(table, dopt.streams));
  o.ws.tls_context = ClientTls();
  o.ws.connect_timeout = absl::Seconds(5);
  o.ws.idle_timeout = absl::Seconds(20);
  o.ws.backoff_initial = absl::Milliseconds(10);
  o.ws.backoff_max = absl::Milliseconds(50);
  HttpsClientOptions rest;
  rest.host = "127.0.0.1";
  rest.port = http_server.port();
  rest.tls_context = ClientTls();
  rest.connect_timeout = absl::Seconds(5);
  rest.request_timeout = absl::Seconds(5);
  o.rest = rest;
  o.stale_after = absl::Milliseconds(300);
  o.stale_check_interval = absl::Milliseconds(20);
  o.snapshot_retry = absl::Milliseconds(100);
  o.log_interval = absl::Milliseconds(50);
  std::vector<std::string> logs;
  o.log = [&](std::string_view line) { logs.emplace_back(line); };
  VectorSink sink;
  FeedSession session(std::move(o), std::move(dec), sink);
  ASSERT_TRUE(session.Start().ok());

  const FeedDecoder& d = session.decoder();
  const size_t total_frames = conn1.size() + conn2.size();
  const auto last_levels_seq = [&] {
    for (auto it = sink.events.rbegin(); it != sink.events.rend(); ++it) {
      if (it->type == MdType::kLevels) return it->venue_seq;
    }
    return uint64_t{0};
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (session.ws().counters().messages == total_frames && last_levels_seq() == diffs[100].u) {
      break;
    }
    if (session.Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  session.Close();
  ws_server.Stop();
  http_server.Stop();
  std::string log_text;
  for (const std::string& l : logs) log_text += l + "\n";
  SCOPED_TRACE(log_text);
  ASSERT_EQ(session.ws().counters().messages, total_frames);
  ASSERT_EQ(last_levels_seq(), diffs[100].u) << "the book never caught up with D100";

  // ---- what happened ----
  EXPECT_EQ(session.ws().counters().connects, 2u);
  EXPECT_EQ(ws_server.received(), (std::vector<std::string>{subscribe[0], subscribe[0]}))
      << "the session subscribes on every open";
  EXPECT_EQ(snapshot_requests.load(), 3) << "open, reopen, gap";
  EXPECT_EQ(session.counters().snapshot_requests, 3u);
  for (const TestHttpServer::Request& r : http_server.received()) EXPECT_EQ(r.target, target);
  const FeedCounters& c = d.counters();
  EXPECT_EQ(c.decode_errors, 1u) << "the malformed frame";
  EXPECT_GE(c.gaps, 1u);
  EXPECT_GE(c.stale, 1u);
  EXPECT_EQ(c.duplicates, 0u);
  EXPECT_GE(c.bbos, 1u);
  EXPECT_GE(c.unknown_messages, 1u) << "kline";

  // The event sequence: statuses in the order the scenario implies.
  const auto index_of = [&](MdStatus code, size_t from) {
    for (size_t i = from; i < sink.events.size(); ++i) {
      const MdEvent& e = sink.events[i];
      if (e.type == MdType::kStatus && e.status.code == code) return i;
    }
    return sink.events.size();
  };
  const size_t resynced1 = index_of(MdStatus::kResynced, 0);
  const size_t stale = index_of(MdStatus::kStale, resynced1);
  const size_t disconnected = index_of(MdStatus::kDisconnected, stale);
  const size_t connected2 = index_of(MdStatus::kConnected, disconnected);
  const size_t gap = index_of(MdStatus::kGap, connected2);
  const size_t resynced_after_gap = index_of(MdStatus::kResynced, gap);
  EXPECT_LT(resynced1, sink.events.size());
  EXPECT_LT(stale, sink.events.size()) << "the 1.5 s stall is longer than stale_after";
  EXPECT_LT(disconnected, sink.events.size());
  EXPECT_LT(connected2, sink.events.size());
  EXPECT_LT(gap, sink.events.size());
  EXPECT_LT(resynced_after_gap, sink.events.size());
  if (gap < sink.events.size()) {
    // Whether the gap was seen live (U != previous u + 1) or while the reconnect's snapshot was
    // still in flight (a hole in the buffered diffs), the first diff it reports missing is D80.
    EXPECT_EQ(sink.events[gap].status.expected_seq, diffs[80].U);
    EXPECT_EQ(sink.events[gap].status.received_seq, diffs[81].U);
  }

  // ---- the book the events build equals the reference ----
  OrderBook book(kNkn, 5000);
  uint64_t refused = 0;
  bool stale_seen_live = false;
  for (const MdEvent& e : sink.events) {
    const ApplyResult r = book.Apply(e);
    if (!r.ok()) ++refused;
    if (e.type == MdType::kStatus && e.status.code == MdStatus::kStale &&
        book.state() == BookState::kStale) {
      stale_seen_live = true;
    }
  }
  EXPECT_EQ(refused, 0u);
  EXPECT_TRUE(stale_seen_live) << "the stall marked the live book stale";
  EXPECT_TRUE(book.trusted()) << BookStateName(book.state());
  ASSERT_EQ(book.bids().size(), ref.bids.size());
  ASSERT_EQ(book.asks().size(), ref.asks.size());
  uint32_t i = 0;
  for (auto it = ref.bids.rbegin(); it != ref.bids.rend(); ++it, ++i) {
    ASSERT_EQ(book.bids()[i].price, it->first) << i;
    ASSERT_EQ(book.bids()[i].size, it->second) << i;
  }
  i = 0;
  for (const auto& [p, q] : ref.asks) {
    ASSERT_EQ(book.asks()[i].price, p) << i;
    ASSERT_EQ(book.asks()[i].size, q) << i;
    ++i;
  }
}

}  // namespace
}  // namespace nzeza
