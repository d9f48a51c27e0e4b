// SimServer over real TLS on loopback, around a small fake Exchange (the transport alone):
// WebSocket sessions, REST keep-alive, the admin endpoint, every fault seen from the client side
// (withheld replies, user-channel disconnects, duplicated and reordered user frames included),
// scheduled faults, and a bounded Stop() with clients connected.
#include "nzeza/venues/sim/sim_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/net/https_client.h"
#include "nzeza/net/tls.h"
#include "nzeza/venues/sim/cert.h"
#include "server_test_util.h"
#include "simdjson.h"

namespace nzeza::sim {
namespace {

using testing::AdminGet;
using testing::AdminPost;
using testing::Clock;
using testing::Http;
using testing::HttpResult;
using testing::JsonInt;
using testing::JsonStr;
using testing::WsProbe;

constexpr char kSubscribe[] =
    R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})";
constexpr char kKey[] = "organizations/org-1/apiKeys/key-1";

// What the fake saw, readable from the test thread.
struct FakeLog {
  std::mutex mu;
  std::vector<std::string> client_texts;
  std::vector<std::string> rest_auth;
  std::atomic<int> sessions_open{0};
  std::atomic<int> sessions_destroyed{0};
  std::atomic<bool> exchange_destroyed{false};
  std::atomic<bool> session_outlived_exchange{false};
  std::atomic<int64_t> reject_every_n{-1};  // as the server last set it (SetFaults)
};

class FakeExchange;

// Numbers every frame of the connection from 0, like Coinbase. After a subscribe: a
// "subscriptions" reply, then one l2_data frame per market event, each carrying the wall time it
// was drained ("drain_ns"), so a client can measure added latency.
class FakeSession : public WsSession {
 public:
  FakeSession(FakeExchange* ex, FakeLog* log);
  ~FakeSession() override;
  void OnClientText(std::string_view frame, int64_t) override {
    {
      std::lock_guard<std::mutex> lock(log_->mu);
      log_->client_texts.emplace_back(frame);
    }
    if (frame.find("\"subscribe\"") != std::string_view::npos) pending_replies_++;
    if (frame.find("\"channel\":\"user\"") != std::string_view::npos) user_ = true;
  }
  void Drain(int64_t now, std::vector<std::string>* out) override;
  // A `user` subscriber gets its events on channel "user" instead of l2_data.
  std::string_view user_key() const override { return user_ ? kKey : ""; }

 private:
  FakeExchange* ex_;
  FakeLog* log_;
  int64_t seq_ = 0;
  int pending_replies_ = 0;
  bool subscribed_ = false;
  bool user_ = false;
  int64_t seen_events_ = 0;
};

class FakeExchange : public Exchange {
 public:
  explicit FakeExchange(FakeLog* log) : log_(log) {}
  ~FakeExchange() override { log_->exchange_destroyed = true; }

  // One market event every 2 ms of wall time.
  void Advance(int64_t now) override {
    if (last_event_ns_ == 0) last_event_ns_ = now;
    while (now - last_event_ns_ >= 2'000'000) {
      last_event_ns_ += 2'000'000;
      ++events_;
    }
  }
  RestReply HandleRest(std::string_view method, std::string_view target,
                       std::string_view authorization, std::string_view body, int64_t) override {
    {
      std::lock_guard<std::mutex> lock(log_->mu);
      log_->rest_auth.emplace_back(authorization);
    }
    if (method == "POST" && target == "/api/v3/brokerage/orders") {
      if (faults_.reject_next_orders > 0) {
        --faults_.reject_next_orders;
        return {400, R"({"success":false,"error_response":{"error":"INSUFFICIENT_FUND",)"
                     R"("message":"Insufficient balance in source account"}})"};
      }
      return {200, R"({"success":true,"success_response":{"order_id":")" +
                       std::to_string(++orders_) + R"("}})"};
    }
    constexpr std::string_view kWithhold = "/api/v3/withhold?ms=";
    if (target.starts_with(kWithhold)) {  // the reply marked as the exchange's withhold faults do
      return {200, R"({"withheld":true})",
              std::stoll(std::string(target.substr(kWithhold.size())))};
    }
    if (target.substr(0, 8) != "/api/v3/") {
      return {404, R"({"error":"NOT_FOUND","message":"unknown path"})"};
    }
    return {200, std::string(R"({"method":")") + std::string(method) + R"(","target":")" +
                     std::string(target) + R"(","body":")" + std::string(body) + R"("})"};
  }
  std::unique_ptr<WsSession> OpenSession() override {
    return std::make_unique<FakeSession>(this, log_);
  }
  void SetFaults(const ExchangeFaults& f) override {
    faults_ = f;
    log_->reject_every_n = f.reject_every_n;
  }
  AccountView Account(std::string_view key) const override {
    AccountView v;
    if (key != kKey) return v;
    v.found = true;
    v.key_name = std::string(key);
    v.products.push_back({.product_id = "BTC-USD",
                          .base_position = "0.00120000",
                          .quote_delta = "-60.03",
                          .open_orders = 2,
                          .fills = orders_});
    return v;
  }
  const SimConfig& config() const override { return config_; }
  std::vector<ProductTotals> Totals() const override {
    ProductTotals t;
    t.product_id = "BTC-USD";
    t.trades = 42;
    t.best_bid = 4999999;
    return {t};
  }

  int64_t events() const { return events_; }
  bool alive() const { return !log_->exchange_destroyed; }

 private:
  FakeLog* log_;
  SimConfig config_;
  ExchangeFaults faults_;
  int64_t last_event_ns_ = 0;
  int64_t events_ = 0;
  int64_t orders_ = 0;
};

FakeSession::FakeSession(FakeExchange* ex, FakeLog* log) : ex_(ex), log_(log) {
  log_->sessions_open.fetch_add(1);
}
FakeSession::~FakeSession() {
  if (log_->exchange_destroyed) log_->session_outlived_exchange = true;
  log_->sessions_open.fetch_sub(1);
  log_->sessions_destroyed.fetch_add(1);
}

void FakeSession::Drain(int64_t now, std::vector<std::string>* out) {
  for (; pending_replies_ > 0; --pending_replies_) {
    subscribed_ = true;
    seen_events_ = ex_->events();
    out->push_back(R"({"channel":"subscriptions","client_id":"","sequence_num":)" +
                   std::to_string(seq_++) +
                   R"(,"events":[{"subscriptions":{"level2":["BTC-USD"]}}]})");
  }
  if (!subscribed_) return;
  for (; seen_events_ < ex_->events(); ++seen_events_) {
    out->push_back(std::string(R"({"channel":")") + (user_ ? "user" : "l2_data") +
                   R"(","client_id":"","drain_ns":)" + std::to_string(now) + R"(,"sequence_num":)" +
                   std::to_string(seq_++) +
                   R"(,"events":[{"type":"update","product_id":"BTC-USD","updates":[]}]})");
  }
}

const SimCert& TestCert() {
  static const SimCert cert = *GenerateSimCert();
  return cert;
}

bool ParsesAsJson(const std::string& text) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string p(text);
  simdjson::ondemand::document doc;
  if (parser.iterate(p).get(doc) != simdjson::SUCCESS) return false;
  std::string_view raw;
  return doc.raw_json().get(raw) == simdjson::SUCCESS;
}

class SimServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
  }

  void StartServer(std::vector<ScheduledFault> faults, RecurringFaults recurring = {}) {
    if (server_) server_->Stop();
    server_.reset();
    SimServerOptions o;
    o.tls = *MakeServerTlsContext(TestCert().cert_pem, TestCert().key_pem);
    o.faults = std::move(faults);
    o.recurring = recurring;
    absl::StatusOr<std::unique_ptr<SimServer>> s = SimServer::Start(
        std::move(o), [this](const SimServerPorts& p) -> absl::StatusOr<std::unique_ptr<Exchange>> {
          factory_ports_ = p;
          return std::make_unique<FakeExchange>(&log_);
        });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    client_tls_ = testing::ClientTrusting(TestCert().cert_pem);
    ASSERT_NE(client_tls_, nullptr);
  }

  std::unique_ptr<WsProbe> Subscribed(uint16_t port = 0) {
    auto p = std::make_unique<WsProbe>(port ? port : server_->ports().ws, client_tls_, kSubscribe);
    EXPECT_TRUE(p->start_status.ok()) << p->start_status;
    EXPECT_TRUE(p->PollUntil([&] { return p->CountChannel("l2_data") >= 5; }))
        << "no market data; frames: " << p->frames.size() << " last close: " << p->last_close;
    return p;
  }

  int Fault(const std::string& body) {
    HttpResult r = AdminPost(server_->ports().admin, "/admin/fault", body);
    EXPECT_TRUE(r.transport.ok()) << r.transport;
    EXPECT_EQ(r.status, 200) << r.body;
    return static_cast<int>(JsonInt(r.body, "connections"));
  }

  HttpResult Order(HttpsClient& c) {
    return Http(c, HttpRequest{.method = HttpMethod::kPost,
                               .target = "/api/v3/brokerage/orders",
                               .headers = {{"Authorization", "Bearer test.jwt.token"}},
                               .body = R"({"client_order_id":"1"})",
                               .content_type = "application/json"});
  }

  FakeLog log_;
  SimServerPorts factory_ports_;
  std::unique_ptr<SimServer> server_;
  TlsContext client_tls_;
};

// Sequence numbers of a probe's l2_data frames, in arrival order.
std::vector<int64_t> Seqs(const WsProbe& p, std::string_view channel = "l2_data") {
  std::vector<int64_t> out;
  for (const WsProbe::Frame* f : p.OnChannel(channel))
    out.push_back(JsonInt(f->text, "sequence_num"));
  return out;
}

constexpr char kUserSubscribe[] =
    R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":"a.b.c"})";

TEST_F(SimServerTest, PortsAreDistinctAndGivenToTheFactory) {
  const SimServerPorts p = server_->ports();
  EXPECT_NE(p.ws, 0);
  EXPECT_NE(p.rest, 0);
  EXPECT_NE(p.admin, 0);
  EXPECT_NE(p.ws, p.rest);
  EXPECT_NE(p.ws, p.admin);
  EXPECT_EQ(factory_ports_.ws, p.ws);
  EXPECT_EQ(factory_ports_.rest, p.rest);
}

TEST_F(SimServerTest, WsSubscribeReceivesFramesInOrder) {
  std::unique_ptr<WsProbe> p = Subscribed();
  ASSERT_TRUE(p->PollUntil([&] { return p->CountChannel("l2_data") >= 50; }));
  // The reply comes first, then market data, numbered 0, 1, 2, ... without a hole.
  ASSERT_FALSE(p->frames.empty());
  EXPECT_EQ(JsonStr(p->frames[0].text, "channel"), "subscriptions");
  for (size_t i = 0; i < p->frames.size(); ++i) {
    ASSERT_EQ(JsonInt(p->frames[i].text, "sequence_num"), static_cast<int64_t>(i));
  }
  {
    std::lock_guard<std::mutex> lock(log_.mu);
    ASSERT_FALSE(log_.client_texts.empty());
    EXPECT_EQ(log_.client_texts[0], kSubscribe);
  }
  EXPECT_EQ(p->opens, 1);
  EXPECT_EQ(p->closes, 0);
  EXPECT_EQ(server_->stats().ws_open, 1u);
  // "/" works as well as "/ws", and so does the REST port (one protocol on both listeners).
  WsProbe root(server_->ports().rest, client_tls_, kSubscribe, "/");
  EXPECT_TRUE(root.PollUntil([&] { return root.CountChannel("l2_data") >= 3; }));
}

TEST_F(SimServerTest, WsOnAnUnknownPathIsRefused) {
  WsProbe p(server_->ports().ws, client_tls_, kSubscribe, "/nope");
  p.PollFor(300);
  EXPECT_EQ(p.opens, 0);
  EXPECT_TRUE(p.frames.empty());
  EXPECT_EQ(server_->stats().ws_accepted, 0u);
}

TEST_F(SimServerTest, TlsVerifiesTheCertificateByNameAndRejectsAnUntrustedOne) {
  // localhost is in the certificate too.
  WsProbe byname(server_->ports().ws, client_tls_, kSubscribe, "/ws", "localhost");
  EXPECT_TRUE(byname.PollUntil([&] { return byname.CountChannel("l2_data") >= 1; }))
      << byname.last_close;
  // A client that trusts another CA never gets a session.
  const SimCert other = *GenerateSimCert();
  WsProbe untrusted(server_->ports().ws, testing::ClientTrusting(other.cert_pem), kSubscribe);
  untrusted.PollFor(300);
  EXPECT_EQ(untrusted.opens, 0);
  EXPECT_GT(untrusted.closes + static_cast<int>(untrusted.client().counters().failures), 0);
}

TEST_F(SimServerTest, RestRoundTripOnOneKeepAliveConnection) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  HttpResult a = Order(*c);
  ASSERT_TRUE(a.transport.ok()) << a.transport;
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(JsonStr(a.body, "order_id"), "1");
  HttpResult b = Http(*c, HttpRequest{.method = HttpMethod::kGet,
                                      .target = "/api/v3/brokerage/orders/historical/batch?x=1"});
  ASSERT_TRUE(b.transport.ok()) << b.transport;
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(JsonStr(b.body, "method"), "GET");
  EXPECT_EQ(JsonStr(b.body, "target"), "/api/v3/brokerage/orders/historical/batch?x=1");
  HttpResult nf = Http(*c, HttpRequest{.method = HttpMethod::kGet, .target = "/nope"});
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(c->counters().connects, 1u);  // keep-alive: one connection for all three
  EXPECT_EQ(c->counters().reused, 2u);
  std::lock_guard<std::mutex> lock(log_.mu);
  ASSERT_FALSE(log_.rest_auth.empty());
  EXPECT_EQ(log_.rest_auth[0], "Bearer test.jwt.token");
  EXPECT_EQ(server_->stats().rest_requests, 3u);
}

TEST_F(SimServerTest, AdminHealthAndAccount) {
  HttpResult h = AdminGet(server_->ports().admin, "/admin/health");
  ASSERT_TRUE(h.transport.ok()) << h.transport;
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(JsonStr(h.body, "status"), "ok");
  EXPECT_EQ(JsonInt(h.body, "ws_port"), server_->ports().ws);
  // The key name has slashes: percent-encoded in the query.
  HttpResult a = AdminGet(server_->ports().admin,
                          "/admin/account?key=organizations%2Forg-1%2FapiKeys%2Fkey-1");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(JsonStr(a.body, "key_name"), kKey);
  EXPECT_EQ(JsonStr(a.body, "base_position"), "0.00120000");
  EXPECT_EQ(JsonInt(a.body, "open_orders"), 2);
  EXPECT_TRUE(ParsesAsJson(a.body)) << a.body;
  EXPECT_EQ(AdminGet(server_->ports().admin, "/admin/account?key=nobody").status, 404);
  EXPECT_EQ(AdminGet(server_->ports().admin, "/admin/account").status, 400);
  EXPECT_EQ(AdminGet(server_->ports().admin, "/admin/nothing").status, 404);
  HttpResult t = AdminGet(server_->ports().admin, "/admin/totals");
  EXPECT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(JsonStr(t.body, "product_id"), "BTC-USD");
  EXPECT_EQ(JsonInt(t.body, "trades"), 42);
  EXPECT_EQ(JsonInt(t.body, "best_bid"), 4999999);
  EXPECT_TRUE(ParsesAsJson(t.body)) << t.body;
  // The same through the API.
  absl::StatusOr<AccountView> v = server_->Account(kKey);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->found);
}

TEST_F(SimServerTest, AdminFaultRequestsAreValidated) {
  const uint16_t port = server_->ports().admin;
  HttpResult r = AdminPost(port, "/admin/fault", R"({"type":"earthquake"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("type"), std::string::npos) << r.body;
  r = AdminPost(port, "/admin/fault", R"({"type":"stall","ms":-5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("ms"), std::string::npos) << r.body;
  r = AdminPost(port, "/admin/fault", R"({"type":"stall","seconds":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("seconds"), std::string::npos) << r.body;
  r = AdminPost(port, "/admin/fault", R"({"ms":5})");
  EXPECT_EQ(r.status, 400);
  r = AdminPost(port, "/admin/fault", "not json");
  EXPECT_EQ(r.status, 400);
  r = AdminPost(port, "/admin/fault?type=stall&ms=abc", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(AdminGet(port, "/admin/fault?type=gap").status, 405);
  r = AdminPost(port, "/admin/fault", R"({"type":"user_disconnect","key":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("key"), std::string::npos) << r.body;
  // An unknown key is named; the fake exchange places no foreign orders (Unimplemented).
  r = AdminPost(port, "/admin/fault", R"({"type":"user_disconnect","key":"nobody"})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(AdminPost(port, "/admin/fault?type=foreign_order", "").status, 400);
  // The query-string form.
  r = AdminPost(port, "/admin/fault?type=latency&ms=0", "");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonStr(r.body, "type"), "latency");
  EXPECT_EQ(server_->stats().faults_applied, 3u);
}

TEST_F(SimServerTest, DisconnectClosesEverySessionAndRefusesNewOnesForAWhile) {
  std::unique_ptr<WsProbe> a = Subscribed();
  std::unique_ptr<WsProbe> b = Subscribed();
  const auto t0 = Clock::now();
  EXPECT_EQ(Fault(R"({"type":"disconnect","ms":400})"), 2);
  auto both_closed = [&] { return a->closes >= 1 && b->closes >= 1; };
  ASSERT_TRUE(testing::PollUntil(
      both_closed,
      [&] {
        a->Poll();
        b->Poll();
      },
      5000));
  // They retry every 20-100 ms; upgrades are refused until the 400 ms are over.
  auto both_back = [&] { return a->opens >= 2 && b->opens >= 2; };
  ASSERT_TRUE(testing::PollUntil(
      both_back,
      [&] {
        a->Poll();
        b->Poll();
      },
      10'000));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(380));
  EXPECT_GT(server_->stats().ws_refused, 0u);
  // And after the reconnect, data flows again (a new connection: numbering restarts at 0).
  const size_t before = a->CountChannel("l2_data");
  ASSERT_TRUE(a->PollUntil([&] { return a->CountChannel("l2_data") >= before + 5; }));
  EXPECT_LT(JsonInt(a->frames.back().text, "sequence_num"), static_cast<int64_t>(before));
}

TEST_F(SimServerTest, StallHoldsFramesWithoutClosingThenDeliversThemInOrder) {
  std::unique_ptr<WsProbe> p = Subscribed();
  EXPECT_EQ(Fault(R"({"type":"stall","ms":400})"), 1);
  const size_t at_fault = p->frames.size();
  p->PollFor(900);
  // The longest silence between two frames after the fault is about the stall.
  Clock::duration longest{};
  for (size_t i = std::max<size_t>(at_fault, 1); i < p->frames.size(); ++i) {
    longest = std::max(longest, p->frames[i].at - p->frames[i - 1].at);
  }
  EXPECT_GE(longest, std::chrono::milliseconds(300));
  EXPECT_LT(longest, std::chrono::milliseconds(800));
  EXPECT_EQ(p->closes, 0);
  EXPECT_EQ(p->opens, 1);
  // Nothing was lost: the numbering has no hole.
  const std::vector<int64_t> s = Seqs(*p);
  for (size_t i = 1; i < s.size(); ++i) ASSERT_EQ(s[i], s[i - 1] + 1) << i;
}

TEST_F(SimServerTest, GapDropsOneMarketDataFrameSoTheSequenceSkips) {
  std::unique_ptr<WsProbe> p = Subscribed();
  EXPECT_EQ(Fault(R"({"type":"gap"})"), 1);
  p->PollFor(200);
  const std::vector<int64_t> s = Seqs(*p);
  int skips = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    ASSERT_GE(s[i] - s[i - 1], 1);
    if (s[i] - s[i - 1] == 2) ++skips;
    ASSERT_LE(s[i] - s[i - 1], 2);
  }
  EXPECT_EQ(skips, 1);
  EXPECT_EQ(server_->stats().frames_dropped, 1u);
  EXPECT_EQ(p->closes, 0);
}

TEST_F(SimServerTest, DuplicateSendsTheNextMarketDataFrameTwice) {
  std::unique_ptr<WsProbe> p = Subscribed();
  EXPECT_EQ(Fault(R"({"type":"duplicate"})"), 1);
  p->PollFor(200);
  const std::vector<int64_t> s = Seqs(*p);
  int repeats = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == s[i - 1]) {
      ++repeats;
    } else {
      ASSERT_EQ(s[i], s[i - 1] + 1) << i;
    }
  }
  EXPECT_EQ(repeats, 1);
  EXPECT_EQ(server_->stats().frames_duplicated, 1u);
}

TEST_F(SimServerTest, MalformedSendsOneTruncatedFrameBeforeTheRealOne) {
  std::unique_ptr<WsProbe> p = Subscribed();
  for (const WsProbe::Frame& f : p->frames) ASSERT_TRUE(ParsesAsJson(f.text)) << f.text;
  EXPECT_EQ(Fault(R"({"type":"malformed"})"), 1);
  p->PollFor(200);
  int bad = 0;
  for (size_t i = 0; i < p->frames.size(); ++i) {
    if (ParsesAsJson(p->frames[i].text)) continue;
    ++bad;
    ASSERT_LT(i + 1, p->frames.size());
    // The truncated frame is the first half of the next one.
    EXPECT_EQ(p->frames[i + 1].text.compare(0, p->frames[i].text.size(), p->frames[i].text), 0);
    EXPECT_LT(p->frames[i].text.size(), p->frames[i + 1].text.size());
  }
  EXPECT_EQ(bad, 1);
  // No gap besides: the well-formed frames are numbered without a hole.
  std::vector<int64_t> s;
  for (const WsProbe::Frame* f : p->OnChannel("l2_data")) {
    if (ParsesAsJson(f->text)) s.push_back(JsonInt(f->text, "sequence_num"));
  }
  for (size_t i = 1; i < s.size(); ++i) ASSERT_EQ(s[i], s[i - 1] + 1) << i;
}

TEST_F(SimServerTest, RejectFailsTheNextOrders) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  EXPECT_EQ(Order(*c).status, 200);
  EXPECT_EQ(Fault(R"({"type":"reject","count":2})"), 0);
  HttpResult r1 = Order(*c);
  HttpResult r2 = Order(*c);
  HttpResult r3 = Order(*c);
  EXPECT_EQ(r1.status, 400);
  EXPECT_NE(r1.body.find("INSUFFICIENT_FUND"), std::string::npos) << r1.body;
  EXPECT_EQ(r2.status, 400);
  EXPECT_EQ(r3.status, 200) << r3.body;
}

TEST_F(SimServerTest, AReplyWithheldForGoodNeverComesAndHoldsUpNoOtherConnection) {
  HttpsClientOptions o;
  o.host = "127.0.0.1";
  o.port = server_->ports().rest;
  o.tls_context = client_tls_;
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Milliseconds(1500);
  HttpsClient silent(std::move(o));
  bool done = false;
  HttpResponse got;
  absl::Status transport;
  ASSERT_TRUE(
      silent
          .Request(HttpRequest{.method = HttpMethod::kGet, .target = "/api/v3/withhold?ms=0"},
                   [&](const HttpResponse& r) {
                     done = true;
                     got.status = r.status;
                     transport = r.transport;
                   })
          .ok());
  const auto t0 = Clock::now();
  testing::PollUntil([&] { return server_->stats().replies_withheld == 1; }, [&] { silent.Poll(); },
                     5000);
  ASSERT_EQ(server_->stats().replies_withheld, 1u);
  // Another connection is answered at once, while the first waits.
  std::unique_ptr<HttpsClient> other = testing::HttpsTo(server_->ports().rest, client_tls_);
  HttpResult r = Order(*other);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_LT(r.rtt_ns, 500'000'000);
  EXPECT_FALSE(done);
  // The withheld one only ends by the client's own timeout, with no reply.
  ASSERT_TRUE(testing::PollUntil([&] { return done; }, [&] { silent.Poll(); }, 10'000));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(1400));
  EXPECT_FALSE(transport.ok());
  EXPECT_NE(got.status, 200);
}

TEST_F(SimServerTest, AReplyWithheldForSomeMsComesThatLate) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  HttpResult r =
      Http(*c, HttpRequest{.method = HttpMethod::kGet, .target = "/api/v3/withhold?ms=300"});
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"withheld":true})");
  EXPECT_GE(r.rtt_ns, 290'000'000);
  EXPECT_LT(r.rtt_ns, 3'000'000'000);
  // The connection goes on serving requests in order.
  HttpResult next = Order(*c);
  EXPECT_EQ(next.status, 200);
  EXPECT_LT(next.rtt_ns, 500'000'000);
  EXPECT_EQ(c->counters().connects, 1u);
  EXPECT_EQ(server_->stats().replies_withheld, 1u);
}

TEST_F(SimServerTest, UserDisconnectClosesOnlyUserChannelConnections) {
  std::unique_ptr<WsProbe> market = Subscribed();
  WsProbe user(server_->ports().ws, client_tls_, kUserSubscribe);
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= 3; }));
  EXPECT_EQ(Fault(R"({"type":"user_disconnect","ms":0})"), 1);
  ASSERT_TRUE(user.PollUntil([&] { return user.closes >= 1; }, 5000)) << user.last_close;
  const size_t before = market->CountChannel("l2_data");
  ASSERT_TRUE(market->PollUntil([&] { return market->CountChannel("l2_data") >= before + 10; }));
  EXPECT_EQ(market->closes, 0);
  EXPECT_EQ(server_->stats().user_disconnects, 1u);
  // By key: the fake's user connections are all kKey's; another key closes none.
  ASSERT_TRUE(user.PollUntil([&] { return user.opens >= 2 && server_->stats().ws_open == 2; }));
  EXPECT_EQ(Fault(absl::StrCat(R"({"type":"user_disconnect","key":")", kKey, R"("})")), 1);
  EXPECT_EQ(market->closes, 0);
}

TEST_F(SimServerTest, DuplicateUserSendsTheNextUserFramesTwice) {
  std::unique_ptr<WsProbe> market = Subscribed();
  WsProbe user(server_->ports().ws, client_tls_, kUserSubscribe);
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= 3; }));
  Fault(R"({"type":"duplicate_user","count":2})");
  const size_t n0 = user.CountChannel("user");
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= n0 + 20; }));
  market->PollFor(50);
  const std::vector<int64_t> s = Seqs(user, "user");
  int repeats = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == s[i - 1]) {
      ++repeats;
    } else {
      ASSERT_EQ(s[i], s[i - 1] + 1) << i;
    }
  }
  EXPECT_EQ(repeats, 2);
  EXPECT_EQ(server_->stats().user_frames_duplicated, 2u);
  // Market data is untouched.
  const std::vector<int64_t> m = Seqs(*market);
  for (size_t i = 1; i < m.size(); ++i) ASSERT_EQ(m[i], m[i - 1] + 1) << i;
}

TEST_F(SimServerTest, ReorderUserSwapsTheNextPairsOfUserFrames) {
  WsProbe user(server_->ports().ws, client_tls_, kUserSubscribe);
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= 3; }));
  Fault(R"({"type":"reorder_user","count":2})");
  const size_t n0 = user.CountChannel("user");
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= n0 + 20; }));
  const std::vector<int64_t> s = Seqs(user, "user");
  int backwards = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < s[i - 1]) {
      ++backwards;
      EXPECT_EQ(s[i], s[i - 1] - 1) << i;  // a swapped neighbour
    }
  }
  EXPECT_EQ(backwards, 2);
  // Nothing lost or repeated.
  std::vector<int64_t> sorted = s;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_FALSE(sorted.empty());
  for (size_t i = 0; i < sorted.size(); ++i) {
    ASSERT_EQ(sorted[i], sorted[0] + static_cast<int64_t>(i));  // (0 was the subscriptions reply)
  }
  EXPECT_EQ(server_->stats().user_frames_reordered, 2u);
}

TEST_F(SimServerTest, LatencyDelaysRestRepliesAndWsFrames) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  std::unique_ptr<WsProbe> p = Subscribed();
  HttpResult base = Order(*c);
  ASSERT_EQ(base.status, 200);
  EXPECT_LT(base.rtt_ns, 150'000'000);

  Fault(R"({"type":"latency","ms":250})");
  HttpResult slow = Order(*c);
  ASSERT_EQ(slow.status, 200);
  // The client stamps "sent" when its write completes, which can be a little after the server
  // read the request and started the 250 ms: allow that much.
  EXPECT_GE(slow.rtt_ns, 240'000'000);
  EXPECT_LT(slow.rtt_ns, 2'000'000'000);
  // A frame drained after the fault arrives >= 250 ms after it was drained (same wall clock).
  const size_t n0 = p->frames.size();
  ASSERT_TRUE(p->PollUntil([&] { return p->frames.size() >= n0 + 20; }));
  const WsProbe::Frame& late = p->frames.back();
  EXPECT_GE(late.wall_ns - JsonInt(late.text, "drain_ns"), 250'000'000) << late.text;

  Fault(R"({"type":"latency","ms":0})");
  HttpResult fast = Order(*c);
  EXPECT_LT(fast.rtt_ns, 150'000'000);
}

TEST_F(SimServerTest, ClearEndsAStallAndLatency) {
  std::unique_ptr<WsProbe> p = Subscribed();
  Fault(R"({"type":"stall","ms":60000})");
  p->PollFor(100);
  const size_t n = p->frames.size();
  p->PollFor(100);
  EXPECT_LE(p->frames.size(), n + 1);  // at most one frame was already on the way
  Fault(R"({"type":"clear"})");
  EXPECT_TRUE(p->PollUntil([&] { return p->frames.size() > n + 5; }, 3000));
}

// The fake's connection carries only l2_data market data, numbered without holes: a recurring gap
// every n frames shows as a one-number skip after every n - 1 frames received.
TEST_F(SimServerTest, RecurringGapDropsEveryNthMarketDataFrame) {
  StartServer({}, {.gap_every_n = 5});
  std::unique_ptr<WsProbe> p = Subscribed();
  p->PollFor(200);
  const std::vector<int64_t> s = Seqs(*p);
  std::vector<size_t> skips;  // index in s after each skip
  for (size_t i = 1; i < s.size(); ++i) {
    ASSERT_TRUE(s[i] - s[i - 1] == 1 || s[i] - s[i - 1] == 2) << i;
    if (s[i] - s[i - 1] == 2) skips.push_back(i);
  }
  ASSERT_GE(skips.size(), 3u) << s.size() << " frames";
  for (size_t k = 1; k < skips.size(); ++k) EXPECT_EQ(skips[k] - skips[k - 1], 4u) << k;
  EXPECT_GE(server_->stats().frames_dropped, skips.size());
  EXPECT_EQ(p->closes, 0);
}

TEST_F(SimServerTest, RecurringDuplicatesMalformedFramesAndRejects) {
  StartServer({}, {.duplicate_every_n = 4, .malformed_every_n = 6, .reject_every_n = 3});
  EXPECT_EQ(log_.reject_every_n.load(), 3) << "the exchange is told at start";
  std::unique_ptr<WsProbe> p = Subscribed();
  p->PollFor(200);
  int repeats = 0, bad = 0;
  int64_t last = -1;
  for (const WsProbe::Frame& f : p->frames) {
    if (!ParsesAsJson(f.text)) {
      ++bad;
      continue;
    }
    if (JsonStr(f.text, "channel") != "l2_data") continue;
    const int64_t seq = JsonInt(f.text, "sequence_num");
    if (seq == last) ++repeats;
    if (last >= 0) {
      ASSERT_TRUE(seq == last || seq == last + 1) << seq << " after " << last;
    }
    last = seq;
  }
  EXPECT_GE(repeats, 3);
  EXPECT_GE(bad, 2);
  EXPECT_EQ(server_->stats().frames_dropped, 0u);
  EXPECT_GE(server_->stats().frames_duplicated, static_cast<uint64_t>(repeats));
  EXPECT_GE(server_->stats().frames_malformed, static_cast<uint64_t>(bad));
  // A one-off reject fault and a clear keep the recurring reject configured.
  Fault(R"({"type":"reject","count":1})");
  EXPECT_EQ(log_.reject_every_n.load(), 3);
  Fault(R"({"type":"clear"})");
  EXPECT_EQ(log_.reject_every_n.load(), 3);
}

TEST_F(SimServerTest, NegativeRecurringCountsAreRefused) {
  server_->Stop();
  server_.reset();
  SimServerOptions o;
  o.tls = *MakeServerTlsContext(TestCert().cert_pem, TestCert().key_pem);
  o.recurring.malformed_every_n = -1;
  absl::StatusOr<std::unique_ptr<SimServer>> s =
      SimServer::Start(std::move(o), [this](const SimServerPorts&) {
        return absl::StatusOr<std::unique_ptr<Exchange>>(std::make_unique<FakeExchange>(&log_));
      });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("every_n"), std::string_view::npos) << s.status();
}

TEST_F(SimServerTest, InjectFaultThroughTheApiCountsSessions) {
  std::unique_ptr<WsProbe> p = Subscribed();
  absl::StatusOr<int> n = server_->InjectFault({.type = FaultType::kGap});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(server_->InjectFault({.type = FaultType::kStall, .ms = -1}).ok());
}

TEST_F(SimServerTest, ScheduledFaultsApplyAtStartAndOnTime) {
  const auto t0 = Clock::now();
  StartServer({{.fault = {.type = FaultType::kReject, .count = 1}, .at_ms = 0},
               {.fault = {.type = FaultType::kGap}, .at_ms = 1000, .every_ms = 0}});
  std::unique_ptr<WsProbe> p = Subscribed();
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  EXPECT_EQ(Order(*c).status, 400);
  EXPECT_EQ(Order(*c).status, 200);
  EXPECT_EQ(server_->stats().frames_dropped, 0u);
  ASSERT_TRUE(p->PollUntil([&] { return server_->stats().frames_dropped == 1; }, 5000));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(950));
  p->PollFor(100);
  EXPECT_EQ(server_->stats().frames_dropped, 1u);  // once: no every_ms
}

TEST_F(SimServerTest, StopIsBoundedWithClientsConnected) {
  std::unique_ptr<WsProbe> a = Subscribed();
  std::unique_ptr<WsProbe> b = Subscribed();
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(server_->ports().rest, client_tls_);
  ASSERT_EQ(Order(*c).status, 200);  // an idle keep-alive connection
  // A TCP connection that never starts TLS, and one to the admin port that never sends.
  int raw[2];
  for (int i = 0; i < 2; ++i) {
    raw[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(i == 0 ? server_->ports().ws : server_->ports().admin);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(raw[i], reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = Clock::now();
  server_->Stop();
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  server_->Stop();                          // idempotent
  EXPECT_EQ(log_.sessions_open.load(), 0);  // every session destroyed...
  EXPECT_FALSE(log_.session_outlived_exchange.load());
  // ... and the clients see their connections end.
  EXPECT_TRUE(testing::PollUntil([&] { return a->closes >= 1 && b->closes >= 1; },
                                 [&] {
                                   a->Poll();
                                   b->Poll();
                                 },
                                 5000));
  EXPECT_FALSE(server_->InjectFault({.type = FaultType::kGap}).ok());
  for (int fd : raw) ::close(fd);
  server_.reset();
  EXPECT_TRUE(log_.exchange_destroyed.load());
}

TEST_F(SimServerTest, ASlowClientIsDroppedNotBufferedForever) {
  server_->Stop();
  server_.reset();
  SimServerOptions o;
  o.tls = *MakeServerTlsContext(TestCert().cert_pem, TestCert().key_pem);
  o.max_ws_queue_bytes = 4096;
  absl::StatusOr<std::unique_ptr<SimServer>> s =
      SimServer::Start(std::move(o), [this](const SimServerPorts&) {
        return absl::StatusOr<std::unique_ptr<Exchange>>(std::make_unique<FakeExchange>(&log_));
      });
  ASSERT_TRUE(s.ok()) << s.status();
  server_ = std::move(*s);
  std::unique_ptr<WsProbe> p = Subscribed();
  // Added latency holds frames in the server's queue: past 4 KiB the connection is dropped.
  Fault(R"({"type":"latency","ms":3000})");
  ASSERT_TRUE(p->PollUntil([&] { return p->closes >= 1; }, 5000));
  EXPECT_EQ(server_->stats().ws_dropped_slow, 1u);
}

TEST(SimServerStart, Errors) {
  SimServerOptions o;  // no TLS context
  auto factory = [](const SimServerPorts&) -> absl::StatusOr<std::unique_ptr<Exchange>> {
    return absl::InvalidArgumentError("factory says no");
  };
  absl::StatusOr<std::unique_ptr<SimServer>> s = SimServer::Start(o, factory);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  o.tls = *MakeServerTlsContext(TestCert().cert_pem, TestCert().key_pem);
  s = SimServer::Start(o, factory);
  EXPECT_EQ(s.status().message(), "factory says no");
  // A port in use is named.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  o.admin_port = ntohs(sa.sin_port);
  s = SimServer::Start(o, factory);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(s.status().message()).find(std::to_string(o.admin_port)), std::string::npos)
      << s.status();
  ::close(fd);
  o.admin_port = 0;
  o.bind_address = "not-an-ip";
  EXPECT_EQ(SimServer::Start(o, factory).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SimServerFaults, NamesRoundTrip) {
  const std::string names = FaultTypeNames();
  std::set<std::string> seen;
  for (FaultType t :
       {FaultType::kClear, FaultType::kDisconnect, FaultType::kStall, FaultType::kGap,
        FaultType::kDuplicate, FaultType::kMalformed, FaultType::kReject, FaultType::kLatency,
        FaultType::kWithholdCreate, FaultType::kWithholdCancel, FaultType::kErrorAfterAccept,
        FaultType::kUserDisconnect, FaultType::kDuplicateUser, FaultType::kReorderUser,
        FaultType::kForeignOrder, FaultType::kListLag}) {
    absl::StatusOr<FaultType> back = ParseFaultType(FaultTypeName(t));
    ASSERT_TRUE(back.ok()) << FaultTypeName(t);
    EXPECT_EQ(*back, t);
    EXPECT_NE(names.find(FaultTypeName(t)), std::string::npos) << names;
    EXPECT_TRUE(seen.insert(std::string(FaultTypeName(t))).second) << FaultTypeName(t);
  }
  EXPECT_EQ(FaultTypeName(FaultType::kWithholdCreate), "withhold_create");
  EXPECT_EQ(FaultTypeName(FaultType::kUserDisconnect), "user_disconnect");
  EXPECT_FALSE(ParseFaultType("flood").ok());
  EXPECT_NE(ParseFaultType("flood").status().message().find("list_lag"), std::string_view::npos);
}

}  // namespace
}  // namespace nzeza::sim
