// FeedSession over real TLS on loopback with a minimal text-protocol decoder: subscriptions on
// every open, messages to the decoder, disconnects and reconnects, staleness, decoder actions
// (resubscribe), rate-limited error logs, sink overruns forcing a resync, and refusing to start a
// snapshot-fetching decoder without a REST endpoint. Every wait is bounded.
#include "nzeza/feeds/common/feed_session.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../../engine/net/test_ws_server.h"
#include "gtest/gtest.h"
#include "nzeza/net/tls.h"

namespace nzeza {
namespace {

using testing::TestWsServer;

const SelfSignedCert& Cert() {
  static const SelfSignedCert cert = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  return cert;
}
TlsContext ServerTls() { return *MakeServerTlsContext(Cert().cert_pem, Cert().key_pem); }
TlsContext ClientTls() {
  TlsClientOptions o;
  o.ca_pem = Cert().cert_pem;
  return *MakeClientTlsContext(o);
}

// Protocol: "L <symbol> <price>": one bid level; "R <symbol>": ask for a resubscribe;
// anything else fails as malformed JSON.
class TextDecoder final : public FeedDecoder {
 public:
  explicit TextDecoder(SymbolTable t, bool wants_snapshots = false)
      : FeedDecoder(std::move(t)), wants_snapshots_(wants_snapshots) {}
  Venue venue() const noexcept override { return Venue::kSim; }
  std::vector<std::string> SubscribeFrames() const override { return {"SUB"}; }
  std::vector<std::string> ResubscribeFrames(InstrumentId id) const override {
    return {"RESUB " + table_.FindId(id)->symbol};
  }
  std::string SnapshotTarget(InstrumentId) const override {
    return wants_snapshots_ ? "/snapshot" : "";
  }
  void OnOpen(int64_t, MdSink&) noexcept override { ++opens; }
  void OnClose(int64_t now, MdSink& sink) noexcept override {
    EmitStatusAll(sink, MdStatus::kDisconnected, now);
  }
  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                        MdSink& sink) noexcept override {
    ++counters_.messages;
    const std::string_view s(data, size);
    if (s.size() > 2 && (s[0] == 'L' || s[0] == 'R') && s[1] == ' ') {
      const std::string_view rest = s.substr(2);
      const std::string_view sym = rest.substr(0, rest.find(' '));
      const FeedInstrument* in = table_.Find(sym);
      if (in == nullptr) return Fail(DecodeError::kUnknownInstrument, "text: symbol");
      Seen(table_.IndexOf(in), recv_ns);
      if (s[0] == 'R') {
        RequestAction(FeedActionType::kResubscribe, in->id);
        return DecodeError::kOk;
      }
      MdEvent ev = MdEvent::Levels(venue(), in->id, 0);
      ev.flags = kMdMessageEnd;
      (void)ev.levels.AddBid({1, 1});
      ev.times.recv_ns = recv_ns;
      Emit(sink, ev);
      return DecodeError::kOk;
    }
    return Fail(DecodeError::kMalformedJson, "text: not a message");
  }
  int opens = 0;

 private:
  bool wants_snapshots_;
};

SymbolTable Table() {
  std::vector<FeedInstrument> v = {{"AAA", 1, 2, 2}, {"BBB", 2, 2, 2}};
  return *SymbolTable::Create(v);
}

struct Harness {
  explicit Harness(uint16_t port, absl::Duration stale_after = absl::Seconds(30)) {
    FeedSessionOptions o;
    o.ws.host = "127.0.0.1";
    o.ws.port = port;
    o.ws.target = "/ws";
    o.ws.tls_context = ClientTls();
    o.ws.backoff_initial = absl::Milliseconds(20);
    o.ws.backoff_max = absl::Milliseconds(50);
    o.ws.connect_timeout = absl::Seconds(5);
    o.stale_after = stale_after;
    o.stale_check_interval = absl::Milliseconds(10);
    o.log_interval = absl::Milliseconds(50);
    o.log = [this](std::string_view line) { logs.emplace_back(line); };
    o.sink_overruns = [this] { return overruns; };
    auto dec = std::make_unique<TextDecoder>(Table());
    decoder = dec.get();
    session = std::make_unique<FeedSession>(std::move(o), std::move(dec), sink);
  }
  template <typename F>
  bool PollUntil(F done, int timeout_ms = 10'000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      if (session->Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return done();
  }
  int Count(MdType type, MdStatus code = MdStatus::kConnected) const {
    int n = 0;
    for (const MdEvent& e : sink.events) {
      if (e.type == type && (type != MdType::kStatus || e.status.code == code)) ++n;
    }
    return n;
  }
  bool Logged(std::string_view needle) const {
    for (const std::string& l : logs) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  VectorSink sink;
  std::vector<std::string> logs;
  uint64_t overruns = 0;
  TextDecoder* decoder = nullptr;
  std::unique_ptr<FeedSession> session;
};

TEST(FeedSession, SubscribesDecodesReconnectsAndResubscribesAfterADrop) {
  TestWsServer server(ServerTls(),
                      {{.frames = {"L AAA 1", "L BBB 2", "garbage"}, .then = TestWsServer::kDrop},
                       {.frames = {"L AAA 3"}, .then = TestWsServer::kHold}});
  Harness h(server.port());
  ASSERT_TRUE(h.session->Start().ok());
  ASSERT_TRUE(h.PollUntil([&] { return h.Count(MdType::kLevels) == 3; }));
  EXPECT_EQ(h.decoder->opens, 2);
  // The drop marked every book disconnected, once per instrument.
  EXPECT_EQ(h.Count(MdType::kStatus, MdStatus::kDisconnected), 2);
  EXPECT_EQ(h.decoder->counters().decode_errors, 1u);
  ASSERT_TRUE(h.PollUntil([&] { return h.Logged("malformed json"); }));
  EXPECT_TRUE(h.Logged("text: not a message"));
  EXPECT_TRUE(h.Logged("disconnected"));
  server.Stop();
  const std::vector<std::string> got = server.received();
  ASSERT_EQ(got.size(), 2u);  // one subscription per connection
  EXPECT_EQ(got[0], "SUB");
  EXPECT_EQ(got[1], "SUB");
  h.session->Close();
}

TEST(FeedSession, StallIsReportedStaleOncePerInstrument) {
  TestWsServer server(
      ServerTls(),
      {{.frames = {"L AAA 1", "L BBB 1"}, .then = TestWsServer::kStall, .stall_ms = 3000}});
  Harness h(server.port(), /*stale_after=*/absl::Milliseconds(200));
  ASSERT_TRUE(h.session->Start().ok());
  ASSERT_TRUE(h.PollUntil([&] { return h.Count(MdType::kStatus, MdStatus::kStale) == 2; }));
  // Still silent: no second kStale for the same silence.
  h.PollUntil([] { return false; }, 300);
  EXPECT_EQ(h.Count(MdType::kStatus, MdStatus::kStale), 2);
  EXPECT_EQ(h.decoder->counters().stale, 2u);
  server.Stop();
  h.session->Close();
}

TEST(FeedSession, DecoderActionsAreCarriedOut) {
  // The server reads the subscription, sends "R BBB" (the decoder asks for a resubscribe), then
  // waits for the resubscribe frame before answering.
  TestWsServer server(ServerTls(), {{.frames = {"R BBB"},
                                     .then = TestWsServer::kHold,
                                     .exchanges = {{.read = 1, .frames = {"L BBB 5"}}}}});
  Harness h(server.port());
  ASSERT_TRUE(h.session->Start().ok());
  ASSERT_TRUE(h.PollUntil([&] { return h.Count(MdType::kLevels) == 1; }));
  EXPECT_EQ(h.session->counters().resubscribes, 1u);
  server.Stop();
  const std::vector<std::string> got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], "RESUB BBB");
  h.session->Close();
}

TEST(FeedSession, SinkOverrunForcesAResync) {
  TestWsServer server(ServerTls(), {{.frames = {"L AAA 1"}, .then = TestWsServer::kHold},
                                    {.frames = {"L AAA 2"}, .then = TestWsServer::kHold}});
  Harness h(server.port());
  ASSERT_TRUE(h.session->Start().ok());
  ASSERT_TRUE(h.PollUntil([&] { return h.Count(MdType::kLevels) == 1; }));
  h.overruns = 3;  // the ring to the signal stage lost events
  // The session drops the connection (books -> disconnected) and starts over. The first server
  // connection holds until Stop(), so the reconnect is seen as a second open attempt.
  ASSERT_TRUE(h.PollUntil([&] { return h.Count(MdType::kStatus, MdStatus::kDisconnected) == 2; }));
  EXPECT_EQ(h.session->counters().overrun_resyncs, 1u);
  EXPECT_TRUE(h.Logged("overrun"));
  server.Stop();
  h.session->Close();
}

TEST(FeedSession, SnapshotDecoderWithoutRestEndpointIsRefused) {
  FeedSessionOptions o;
  o.ws.host = "127.0.0.1";
  o.ws.port = 1;
  o.ws.tls_context = ClientTls();
  VectorSink sink;
  FeedSession s(std::move(o), std::make_unique<TextDecoder>(Table(), /*wants_snapshots=*/true),
                sink);
  const absl::Status st = s.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("REST"), std::string::npos) << st;
}

}  // namespace
}  // namespace nzeza
