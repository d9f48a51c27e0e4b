// CoinbaseGateway against scripted loopback TLS servers (REST and the user channel). Every wait is
// bounded.
#include "nzeza/venues/coinbase/gateway.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../../engine/net/test_http_server.h"
#include "../../engine/net/test_ws_server.h"
#include "absl/strings/str_cat.h"
#include "coinbase_test_keys.h"

namespace nzeza::venues::coinbase {
namespace {

using nzeza::testing::TestHttpServer;
using nzeza::testing::TestWsServer;
using oms::SendStatus;
using oms::VenueReject;

struct Collect : oms::ExecSink {
  void OnExec(const ExecEvent& ev) override { events.push_back(ev); }
  void OnSession(SessionEvent e, int64_t) override { sessions.push_back(e); }
  std::vector<SessionEvent> sessions;
  std::vector<ExecEvent> Of(uint64_t id, ExecType type) const {
    std::vector<ExecEvent> out;
    for (const ExecEvent& e : events) {
      if (e.client_order_id == id && e.type == type) out.push_back(e);
    }
    return out;
  }
  std::vector<ExecEvent> events;
};

std::string UserMsg(int seq, const std::string& cid, const std::string& status,
                    const std::string& cum, const std::string& leaves, const std::string& value) {
  return absl::StrCat(
      R"({"channel":"user","client_id":"","timestamp":"2024-01-01T00:00:00Z","sequence_num":)", seq,
      R"(,"events":[{"type":"update","orders":[{"order_id":"ord-)", cid, R"(","client_order_id":")",
      cid, R"(","cumulative_quantity":")", cum, R"(","leaves_quantity":")", leaves,
      R"(","avg_price":"0","total_fees":"0","filled_value":")", value,
      R"(","number_of_fills":"1","status":")", status,
      R"(","product_id":"BTC-USD","order_side":"BUY"}]}]})");
}

class CoinbaseGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = nzeza::testing::LoadCoinbaseTestKeys();
    absl::StatusOr<CoinbaseCredentials> c =
        CoinbaseCredentials::FromPem(keys_.key_name, keys_.ec_pem);
    ASSERT_TRUE(c.ok()) << c.status();
    creds_ = std::make_unique<CoinbaseCredentials>(*c);
    public_pem_ = *c->PublicKeyPem();
    absl::StatusOr<SelfSignedCert> cert = GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
    ASSERT_TRUE(cert.ok());
    cert_ = *cert;
    absl::StatusOr<TlsContext> tls = MakeServerTlsContext(cert_.cert_pem, cert_.key_pem);
    ASSERT_TRUE(tls.ok());
    server_tls_ = *tls;
    ASSERT_TRUE(instruments_
                    .Add({.id = 0,
                          .product_id = "BTC-USD",
                          .price_scale = 2,
                          .size_scale = 8,
                          .fee_scale = 10})
                    .ok());
  }

  CoinbaseGatewayOptions Options(uint16_t rest_port, uint16_t ws_port) {
    CoinbaseGatewayOptions o;
    o.rest_host = "127.0.0.1";
    o.rest_port = rest_port;
    o.ws_host = "127.0.0.1";
    o.ws_port = ws_port;
    o.tls.ca_pem = cert_.cert_pem;
    o.request_timeout = absl::Milliseconds(400);
    o.connect_timeout = absl::Seconds(5);
    o.jwt_pool.tokens_per_endpoint = 4;
    o.user_channel = ws_port != 0;
    return o;
  }

  static OrderCmd New(uint64_t id, int64_t price = 4300000, int64_t size = 100000) {
    OrderCmd c;
    c.type = CmdType::kNew;
    c.side = Side::kBuy;
    c.order_type = OrderType::kLimit;
    c.tif = TimeInForce::kGtc;
    c.flags = kOrderPostOnly;
    c.client_order_id = id;
    c.strategy_id = 2;
    c.intent_id = 10 + id;
    c.price = price;
    c.size = size;
    return c;
  }

  // Polls until `done` or 10 s.
  template <typename F>
  bool PollUntil(CoinbaseGateway& gw, Collect& sink, F done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
      gw.Poll(sink);
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  // The REST venue: verifies the JWT as Coinbase does, then answers by client order id.
  TestHttpServer::Response Venue(const TestHttpServer::Request& r) {
    const std::string auth = r.Header("Authorization");
    const std::string uri = "POST 127.0.0.1" + r.target;
    absl::StatusOr<CoinbaseJwtClaims> claims =
        auth.rfind("Bearer ", 0) == 0
            ? VerifyCoinbaseJwt(auth.substr(7), public_pem_, uri, std::time(nullptr))
            : absl::UnauthenticatedError("no bearer");
    if (!claims.ok()) {
      jwt_failures_.fetch_add(1);
      return {.status = 401,
              .body = R"({"error":"UNAUTHENTICATED","error_details":"","message":"Unauthorized"})"};
    }
    if (r.target == "/api/v3/brokerage/orders/batch_cancel") {
      if (r.body.find("ord-555") != std::string::npos) {  // the cancel's answer is lost
        return {.status = 503, .body = R"({"error":"unavailable","message":"try later"})"};
      }
      if (r.body.find("ord-888") != std::string::npos) {
        return {.body = R"({"results":[{"success":true,"failure_reason":"UNKNOWN_CANCEL_FAILURE_)"
                        R"(REASON","order_id":"ord-888"}]})"};
      }
      return {.body = R"({"results":[{"success":false,"failure_reason":"UNKNOWN_CANCEL_ORDER",)"
                      R"("order_id":"ord-1"}]})"};
    }
    const size_t at = r.body.find("\"client_order_id\":\"") + 19;
    const std::string cid = r.body.substr(at, r.body.find('"', at) - at);
    const int nth = ++creates_[cid];  // how many times this client order id was sent
    // The first answer is lost (past the request timeout) or a 5xx; the status query that
    // follows gets the original order back, as Coinbase answers a repeated client_order_id.
    if (cid == "777" && nth == 1) return {.body = "{}", .delay_ms = 3000};
    if (cid == "555" && nth == 1) {
      return {.status = 503, .body = R"({"error":"unavailable","message":"try later"})"};
    }
    if (cid == "888") {
      return {
          .body = absl::StrCat(R"({"success":true,"success_response":{"order_id":"ord-888",)",
                               R"("product_id":"BTC-USD","side":"BUY","client_order_id":"888"}})"),
          .delay_ms = 200};
    }
    if (cid == "666") {
      return {.body = R"({"success":false,"failure_reason":"UNKNOWN_FAILURE_REASON",)"
                      R"("order_id":"","error_response":{"error":"INSUFFICIENT_FUND",)"
                      R"("message":"Insufficient balance in source account","error_details":"",)"
                      R"("preview_failure_reason":"PREVIEW_INSUFFICIENT_FUND"}})"};
    }
    return {.body = absl::StrCat(R"({"success":true,"success_response":{"order_id":"ord-)", cid,
                                 R"(","product_id":"BTC-USD","side":"BUY","client_order_id":")",
                                 cid, R"("}})")};
  }

  nzeza::testing::CoinbaseTestKeys keys_;
  std::unique_ptr<CoinbaseCredentials> creds_;
  std::string public_pem_;
  SelfSignedCert cert_;
  TlsContext server_tls_;
  CoinbaseInstruments instruments_;
  std::atomic<int> jwt_failures_{0};
  std::map<std::string, int> creates_;  // the handler runs on one server thread at a time
};

TEST_F(CoinbaseGatewayTest, RestAcksRejectsAndTimeoutsWithExactRequestBytes) {
  TestHttpServer rest(server_tls_, [this](const TestHttpServer::Request& r) { return Venue(r); });
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(rest.port(), 0), *creds_, instruments_);
  ASSERT_TRUE(gw.ok()) << gw.status();
  ASSERT_TRUE((*gw)->Start().ok());
  EXPECT_EQ((*gw)->jwt_pool_counters().minted, 8u);
  Collect sink;
  ASSERT_EQ((*gw)->Send(New(1), 111), SendStatus::kSent);
  ASSERT_EQ((*gw)->Send(New(666), 222), SendStatus::kSent);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return sink.events.size() >= 2; }));
  ASSERT_EQ((*gw)->Send(New(777), 333), SendStatus::kSent);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return sink.events.size() >= 3; }));

  const std::vector<ExecEvent> acks = sink.Of(1, ExecType::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].times.sent_ns, 111);
  EXPECT_EQ(acks[0].intent_id, 11u);
  EXPECT_EQ(acks[0].strategy_id, 2u);
  EXPECT_EQ(acks[0].leaves_size, 100000);
  const std::vector<ExecEvent> rej = sink.Of(666, ExecType::kReject);
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reject_code, static_cast<uint16_t>(VenueReject::kInsufficientFunds));
  // A timeout is not a reject (issue 6, item 1): the order is in doubt, stays tracked, and the
  // status query (the same create again) settles it: the venue had it.
  EXPECT_TRUE(sink.Of(777, ExecType::kReject).empty());
  const std::vector<ExecEvent> timeout = sink.Of(777, ExecType::kInDoubt);
  ASSERT_EQ(timeout.size(), 1u);
  EXPECT_EQ(timeout[0].request, CmdType::kNew);
  EXPECT_EQ(timeout[0].reject_code, static_cast<uint16_t>(VenueReject::kTimeout));
  EXPECT_EQ(timeout[0].leaves_size, 100000);  // still working at full size
  EXPECT_EQ((*gw)->counters().timeouts, 1u);
  EXPECT_EQ((*gw)->in_doubt_orders(), 1u);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return !sink.Of(777, ExecType::kAck).empty(); }))
      << "status queries " << (*gw)->counters().status_queries << ", requests "
      << (*gw)->https_counters().requests << ", failures " << (*gw)->https_counters().failures
      << ", events " << sink.events.size() << ", received " << rest.received().size();
  EXPECT_EQ((*gw)->counters().status_queries, 1u);
  EXPECT_EQ((*gw)->counters().resolved, 1u);
  EXPECT_TRUE(sink.Of(777, ExecType::kReject).empty());
  EXPECT_EQ(jwt_failures_.load(), 0);

  // Cancel order 1 (acked, venue id "ord-1"): the venue refuses -> kCancelReject.
  OrderCmd cancel;
  cancel.type = CmdType::kCancel;
  cancel.client_order_id = 2;
  cancel.orig_client_order_id = 1;
  ASSERT_EQ((*gw)->Send(cancel, 444), SendStatus::kSent);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return !sink.Of(1, ExecType::kCancelReject).empty(); }));
  EXPECT_EQ(sink.Of(1, ExecType::kCancelReject)[0].reject_code,
            static_cast<uint16_t>(VenueReject::kUnknownOrder));
  // A cancel for an order without a venue id cannot be expressed.
  cancel.orig_client_order_id = 12345;
  EXPECT_EQ((*gw)->Send(cancel, 555), SendStatus::kEncodeError);
  rest.Stop();

  // What arrived: exactly our bytes (headers in our order, nothing added), a valid JWT each.
  const std::vector<TestHttpServer::Request> got = rest.received();
  ASSERT_EQ(got.size(), 5u);  // 1, 666, 777, 777's status query, the cancel
  const TestHttpServer::Request& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/api/v3/brokerage/orders");
  ASSERT_EQ(r.headers.size(), 4u);
  EXPECT_EQ(r.headers[0].first, "Host");
  EXPECT_EQ(r.headers[0].second, "127.0.0.1");
  EXPECT_EQ(r.headers[1].first, "Authorization");
  EXPECT_EQ(r.headers[2],
            (std::pair<std::string, std::string>{"Content-Type", "application/json"}));
  EXPECT_EQ(r.headers[3].first, "Content-Length");
  EXPECT_EQ(r.body,
            R"({"client_order_id":"1","product_id":"BTC-USD","side":"BUY","order_configuration":)"
            R"({"limit_limit_gtc":{"base_size":"0.001","limit_price":"43000","post_only":true}}})");
  EXPECT_EQ(r.headers[3].second, std::to_string(r.body.size()));
  absl::StatusOr<CoinbaseJwtClaims> claims = VerifyCoinbaseJwt(
      r.headers[1].second.substr(7), public_pem_, "POST 127.0.0.1/api/v3/brokerage/orders",
      std::time(nullptr), keys_.key_name);
  EXPECT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(got[3].body, got[2].body);  // the status query repeats the create verbatim
  EXPECT_NE(got[3].Header("Authorization"), got[2].Header("Authorization"));
  EXPECT_EQ(got[4].target, "/api/v3/brokerage/orders/batch_cancel");
  EXPECT_EQ(got[4].body, R"({"order_ids":["ord-1"]})");
  // Five requests, five different tokens (single use).
  std::set<std::string> tokens;
  for (const auto& q : got) tokens.insert(q.Header("Authorization"));
  EXPECT_EQ(tokens.size(), 5u);
}

struct CollectIds : Collect {
  void OnVenueOrderId(uint64_t id, std::string_view venue_id) override {
    ids.emplace_back(id, std::string(venue_id));
  }
  std::vector<std::pair<uint64_t, std::string>> ids;
};

// Issue 6, items 1 and 3: a 5xx answer to a create is in doubt (not a reject that forgets the
// order); a cancel sent before the ack waits for the venue's id instead of being refused (which
// made risk resend it on every poll); a cancel whose answer is lost leaves the order working.
TEST_F(CoinbaseGatewayTest, FiveHundredIsInDoubtAndEarlyCancelsWaitForTheAck) {
  TestHttpServer rest(server_tls_, [this](const TestHttpServer::Request& r) { return Venue(r); });
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(rest.port(), 0), *creds_, instruments_);
  ASSERT_TRUE(gw.ok()) << gw.status();
  ASSERT_TRUE((*gw)->Start().ok());
  CollectIds sink;
  ASSERT_EQ((*gw)->Send(New(555), 1), SendStatus::kSent);
  ASSERT_EQ((*gw)->Send(New(888), 2), SendStatus::kSent);
  OrderCmd cancel;
  cancel.type = CmdType::kCancel;
  cancel.client_order_id = 900;
  cancel.orig_client_order_id = 888;  // not acked yet: no venue id
  ASSERT_EQ((*gw)->Send(cancel, 3), SendStatus::kSent);
  EXPECT_EQ((*gw)->counters().deferred_cancels, 1u);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] {
    return !sink.Of(555, ExecType::kAck).empty() && !sink.Of(888, ExecType::kAck).empty() &&
           rest.received().size() >= 4;
  }));
  const std::vector<ExecEvent> doubt = sink.Of(555, ExecType::kInDoubt);
  ASSERT_EQ(doubt.size(), 1u);
  EXPECT_EQ(doubt[0].reject_code, static_cast<uint16_t>(VenueReject::kVenueUnavailable));
  EXPECT_TRUE(sink.Of(555, ExecType::kReject).empty());
  EXPECT_TRUE(sink.Of(888, ExecType::kCancelReject).empty());
  // The venue ids reached the sink (the journal, in the engine).
  EXPECT_NE(
      std::find(sink.ids.begin(), sink.ids.end(), std::pair<uint64_t, std::string>{888, "ord-888"}),
      sink.ids.end());
  EXPECT_NE(
      std::find(sink.ids.begin(), sink.ids.end(), std::pair<uint64_t, std::string>{555, "ord-555"}),
      sink.ids.end());
  // The cancel went out only after the ack, with the venue's id.
  std::vector<TestHttpServer::Request> got = rest.received();
  int cancels = 0;
  for (const auto& q : got) {
    if (q.target == "/api/v3/brokerage/orders/batch_cancel") {
      ++cancels;
      EXPECT_EQ(q.body, R"({"order_ids":["ord-888"]})");
    }
  }
  EXPECT_EQ(cancels, 1);

  // A cancel answered 503: in doubt for the cancel, the order stays working.
  cancel.client_order_id = 901;
  cancel.orig_client_order_id = 555;
  ASSERT_EQ((*gw)->Send(cancel, 4), SendStatus::kSent);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return sink.Of(555, ExecType::kInDoubt).size() == 2; }));
  const ExecEvent cancel_doubt = sink.Of(555, ExecType::kInDoubt)[1];
  EXPECT_EQ(cancel_doubt.request, CmdType::kCancel);
  EXPECT_EQ(cancel_doubt.reject_code, static_cast<uint16_t>(VenueReject::kVenueUnavailable));
  EXPECT_TRUE(sink.Of(555, ExecType::kCancelReject).empty());
  EXPECT_TRUE(sink.Of(555, ExecType::kCanceled).empty());
  EXPECT_EQ((*gw)->working_orders(), 2u);
  rest.Stop();
}

// Issue 6, item 9: the breaker canceled one order per round trip. The cancels of one batch of
// commands leave as one batch_cancel.
TEST_F(CoinbaseGatewayTest, CancelsOfOneBatchLeaveInOneRequest) {
  TestHttpServer rest(server_tls_, [this](const TestHttpServer::Request& r) { return Venue(r); });
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(rest.port(), 0), *creds_, instruments_);
  ASSERT_TRUE(gw.ok()) << gw.status();
  ASSERT_TRUE((*gw)->Start().ok());
  Collect sink;
  for (uint64_t id : {1, 2, 3}) ASSERT_EQ((*gw)->Send(New(id), 1), SendStatus::kSent);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return sink.events.size() == 3; }));
  for (uint64_t id : {1, 2, 3}) {
    OrderCmd cancel;
    cancel.type = CmdType::kCancel;
    cancel.client_order_id = 100 + id;
    cancel.orig_client_order_id = id;
    ASSERT_EQ((*gw)->Send(cancel, 2), SendStatus::kSent);
  }
  (*gw)->Flush(3);
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return rest.received().size() >= 4; }));
  rest.Stop();
  const std::vector<TestHttpServer::Request> got = rest.received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].target, "/api/v3/brokerage/orders/batch_cancel");
  EXPECT_EQ(got[3].body, R"({"order_ids":["ord-1","ord-2","ord-3"]})");
}

TEST_F(CoinbaseGatewayTest, UnauthenticatedIsARejectWithTheMappedReason) {
  TestHttpServer rest(server_tls_, [this](const TestHttpServer::Request& r) { return Venue(r); });
  // Another key under our name: the venue's verification fails -> 401.
  EVP_PKEY* k = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  absl::StatusOr<CoinbaseCredentials> wrong =
      CoinbaseCredentials::FromPem(keys_.key_name, std::string(data, static_cast<size_t>(n)));
  BIO_free(bio);
  EVP_PKEY_free(k);
  ASSERT_TRUE(wrong.ok());
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(rest.port(), 0), *wrong, instruments_);
  ASSERT_TRUE(gw.ok());
  Collect sink;
  ASSERT_EQ((*gw)->Send(New(5), 1), SendStatus::kSent);  // pool empty (no Start): signs inline
  ASSERT_TRUE(PollUntil(**gw, sink, [&] { return !sink.events.empty(); }));
  ASSERT_EQ(sink.events[0].type, ExecType::kReject);
  EXPECT_EQ(sink.events[0].reject_code, static_cast<uint16_t>(VenueReject::kUnauthenticated));
  EXPECT_EQ((*gw)->counters().inline_signs, 1u);
  EXPECT_EQ(jwt_failures_.load(), 1);
  EXPECT_EQ((*gw)->working_orders(), 0u);
}

TEST_F(CoinbaseGatewayTest, UserChannelSubscribesAndDeliversFills) {
  TestHttpServer rest(server_tls_, [this](const TestHttpServer::Request& r) { return Venue(r); });
  TestWsServer ws(server_tls_, {{.frames = {UserMsg(0, "1", "OPEN", "0", "0.001", "0"),
                                            UserMsg(1, "1", "OPEN", "0.0004", "0.0006", "17.2"),
                                            UserMsg(2, "1", "FILLED", "0.001", "0", "43"),
                                            UserMsg(3, "not-ours", "OPEN", "0", "1", "0"),
                                            UserMsg(5, "9", "OPEN", "0", "1", "0")},
                                 .then = TestWsServer::kHold,
                                 .exchanges = {{.read = 1}}}});  // the heartbeats subscribe
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(rest.port(), ws.port()), *creds_, instruments_);
  ASSERT_TRUE(gw.ok()) << gw.status();
  ASSERT_TRUE((*gw)->Start().ok());
  ASSERT_EQ((*gw)->Send(New(1), 100), SendStatus::kSent);
  Collect sink;
  ASSERT_TRUE(PollUntil(**gw, sink, [&] {
    return sink.Of(1, ExecType::kFill).size() == 2 &&
           (*gw)->user_channel_counters().unknown_orders == 2 &&
           (*gw)->https_counters().requests == 1;
  }));
  EXPECT_TRUE((*gw)->ready());
  EXPECT_EQ(sink.Of(1, ExecType::kAck).size(), 1u);  // REST and channel: one ack
  const std::vector<ExecEvent> fills = sink.Of(1, ExecType::kFill);
  EXPECT_EQ(fills[0].last_size, 40000);
  EXPECT_EQ(fills[0].last_price, 4300000);
  EXPECT_EQ(fills[1].last_size, 60000);
  EXPECT_EQ(fills[1].last_price, 4300000);
  EXPECT_EQ(fills[1].leaves_size, 0);
  EXPECT_EQ(fills[1].times.sent_ns, 100);
  // Sequence 3 -> 5: a gap is a stream loss (the order stage reconciles), back at once since
  // the connection stayed up.
  EXPECT_EQ(sink.sessions, (std::vector<SessionEvent>{SessionEvent::kExecStreamLost,
                                                      SessionEvent::kExecStreamRestored}));
  EXPECT_EQ((*gw)->counters().exec_stream_gaps, 1u);
  EXPECT_TRUE(PollUntil(**gw, sink, [&] { return ws.received().size() >= 2; }));
  ws.Stop();
  const std::vector<std::string> subs = ws.received();
  ASSERT_EQ(subs.size(), 2u);  // user, then heartbeats
  EXPECT_EQ(subs[1].rfind(R"({"type":"subscribe","channel":"heartbeats","jwt":")", 0), 0u)
      << subs[1];
  const std::string prefix = R"({"type":"subscribe","channel":"user","jwt":")";
  ASSERT_EQ(subs[0].substr(0, prefix.size()), prefix);
  const std::string jwt = subs[0].substr(prefix.size(), subs[0].size() - prefix.size() - 2);
  absl::StatusOr<CoinbaseJwtClaims> c =
      VerifyCoinbaseJwt(jwt, public_pem_, std::nullopt, std::time(nullptr), keys_.key_name);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->has_uri);
}

TEST_F(CoinbaseGatewayTest, RefusesWhatCoinbaseCannotExpress) {
  absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw =
      CoinbaseGateway::Create(Options(1, 0), *creds_, instruments_);
  ASSERT_TRUE(gw.ok());
  OrderCmd c = New(1);
  c.instrument = 5;  // not in the table
  EXPECT_EQ((*gw)->Send(c, 0), SendStatus::kEncodeError);
  c = New(2);
  c.type = CmdType::kReplace;
  EXPECT_EQ((*gw)->Send(c, 0), SendStatus::kEncodeError);
  EXPECT_EQ((*gw)->working_orders(), 0u);
  EXPECT_FALSE(CoinbaseGateway::Create(Options(1, 0), *creds_, CoinbaseInstruments{}).ok());
}

}  // namespace
}  // namespace nzeza::venues::coinbase
