// CoinbaseReconciler against a scripted loopback TLS venue.
#include "nzeza/venues/coinbase/reconciler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <string>
#include <vector>

#include "../../engine/net/test_http_server.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "coinbase_test_keys.h"
#include "nzeza/venues/coinbase/user_channel.h"

namespace nzeza::venues::coinbase {
namespace {

using nzeza::testing::TestHttpServer;

struct Collect : oms::ExecSink {
  void OnExec(const ExecEvent& ev) override { events.push_back(ev); }
  std::vector<ExecEvent> events;
};

std::string Order(const std::string& cid, const std::string& status, const std::string& filled,
                  const std::string& value, const std::string& avg) {
  return absl::StrCat(R"({"order_id":"ord-)", cid, R"(","product_id":"BTC-USD","side":"BUY",)",
                      R"("client_order_id":")", cid, R"(","status":")", status,
                      R"(","filled_size":")", filled, R"(","average_filled_price":")", avg,
                      R"(","filled_value":")", value,
                      R"(","number_of_fills":"1","total_fees":"0"})");
}

class CoinbaseReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = nzeza::testing::LoadCoinbaseTestKeys();
    absl::StatusOr<CoinbaseCredentials> c =
        CoinbaseCredentials::FromPem(keys_.key_name, keys_.ec_pem);
    ASSERT_TRUE(c.ok());
    creds_ = std::make_unique<CoinbaseCredentials>(*c);
    public_pem_ = *c->PublicKeyPem();
    cert_ = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
    server_tls_ = *MakeServerTlsContext(cert_.cert_pem, cert_.key_pem);
    ASSERT_TRUE(instruments_
                    .Add({.id = 0,
                          .product_id = "BTC-USD",
                          .price_scale = 2,
                          .size_scale = 8,
                          .fee_scale = 10})
                    .ok());
    // The journal: 1 acked, 2 acked, 3 sent (no answer), 4 sent (never reached the venue).
    for (uint64_t id = 1; id <= 4; ++id) {
      OrderCmd cmd;
      cmd.type = CmdType::kNew;
      cmd.client_order_id = id;
      cmd.price = 4300000;
      cmd.size = 100000;
      ASSERT_EQ(oms_.OnCmd(cmd), oms::OmsResult::kApplied);
      if (id <= 2) {
        ExecEvent ack;
        ack.type = ExecType::kAck;
        ack.client_order_id = id;
        ASSERT_EQ(oms_.OnExec(ack), oms::OmsResult::kApplied);
      }
    }
  }

  std::unique_ptr<CoinbaseReconciler> Make(uint16_t port,
                                           absl::Duration grace = absl::Milliseconds(600),
                                           bool cancel_foreign = false) {
    CoinbaseReconcilerOptions o;
    o.rest_host = "127.0.0.1";
    o.rest_port = port;
    o.tls.ca_pem = cert_.cert_pem;
    o.request_timeout = absl::Seconds(2);
    o.timeout = absl::Seconds(10);
    o.unacked_grace = grace;
    o.cancel_foreign_orders = cancel_foreign;
    absl::StatusOr<std::unique_ptr<CoinbaseReconciler>> r =
        CoinbaseReconciler::Create(o, *creds_, instruments_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : nullptr;
  }

  // Verifies the JWT as the venue does (the uri has no query string).
  bool Authorized(const TestHttpServer::Request& r) {
    const std::string path = r.target.substr(0, r.target.find('?'));
    return VerifyCoinbaseJwt(r.Header("Authorization").substr(7), public_pem_,
                             r.method + " 127.0.0.1" + path, std::time(nullptr))
        .ok();
  }

  nzeza::testing::CoinbaseTestKeys keys_;
  std::unique_ptr<CoinbaseCredentials> creds_;
  std::string public_pem_;
  SelfSignedCert cert_;
  TlsContext server_tls_;
  CoinbaseInstruments instruments_;
  oms::OrderManager oms_{{.max_orders = 64, .max_instruments = 4}};
};

TEST_F(CoinbaseReconcilerTest, EmitsTheDifferences) {
  std::atomic<int> unauthorized{0};
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (!Authorized(r)) {
      unauthorized.fetch_add(1);
      return TestHttpServer::Response{.status = 401, .body = R"({"error":"UNAUTHENTICATED"})"};
    }
    if (absl::StrContains(r.target, "/historical/fills?order_ids=ord-1&")) {
      // Order 1's two fills, newest first as the venue lists them.
      return TestHttpServer::Response{
          .body = R"({"fills":[{"entry_id":"e2","trade_id":"t2","order_id":"ord-1",)"
                  R"("product_id":"BTC-USD","price":"43003.33","size":"0.0003",)"
                  R"("commission":"0.0129010","side":"BUY","liquidity_indicator":"MAKER",)"
                  R"("size_in_quote":false},)"
                  R"({"entry_id":"e1","trade_id":"t1","order_id":"ord-1",)"
                  R"("product_id":"BTC-USD","price":"42990","size":"0.0001",)"
                  R"("commission":"0.004299","side":"BUY","liquidity_indicator":"TAKER",)"
                  R"("size_in_quote":false}],"cursor":""})"};
    }
    if (absl::StrContains(r.target, "/historical/fills")) {  // none listed: the average path
      return TestHttpServer::Response{.body = R"({"fills":[],"cursor":""})"};
    }
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      if (!absl::StrContains(r.target, "cursor=")) {  // two pages
        return TestHttpServer::Response{
            .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0.0004", "17.2", "43000"),
                                 ",", Order("manual-order", "OPEN", "0", "0", "0"),
                                 R"(],"has_next":true,"cursor":"p2"})")};
      }
      return TestHttpServer::Response{.body = absl::StrCat(R"({"orders":[)",
                                                           Order("3", "OPEN", "0", "0", "0"),
                                                           R"(],"has_next":false,"cursor":""})")};
    }
    return TestHttpServer::Response{
        .body = absl::StrCat(R"({"orders":[)", Order("2", "CANCELLED", "0.0002", "8.6", "43000"),
                             ",", Order("77", "FILLED", "1", "43000", "43000"),
                             R"(],"has_next":false,"cursor":""})")};
  });
  std::unique_ptr<CoinbaseReconciler> r = Make(venue.port());
  ASSERT_NE(r, nullptr);
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(unauthorized.load(), 0);
  EXPECT_EQ(r->report().venue_open_orders, 3);
  EXPECT_EQ(r->report().foreign_orders, 1);
  // Events in journal order of the table; collect by id.
  auto of = [&](uint64_t id) {
    std::vector<ExecEvent> v;
    for (const ExecEvent& e : sink.events) {
      if (e.client_order_id == id) v.push_back(e);
    }
    return v;
  };
  // Order 1: the venue's two fills, oldest first, each with its own price, size and fee.
  std::vector<ExecEvent> e1 = of(1);
  ASSERT_EQ(e1.size(), 2u);
  EXPECT_EQ(e1[0].type, ExecType::kFill);
  EXPECT_EQ(e1[0].last_size, 10000);
  EXPECT_EQ(e1[0].last_price, 4299000);
  EXPECT_EQ(e1[0].fee, 42990000);  // 0.004299 at fee scale 10
  EXPECT_EQ(e1[0].liquidity, Liquidity::kTaker);
  EXPECT_EQ(e1[0].cum_size, 10000);
  EXPECT_EQ(e1[0].leaves_size, 90000);
  EXPECT_EQ(e1[0].trade_id, UserChannelTradeId("ord-1", 10000));
  EXPECT_EQ(e1[1].type, ExecType::kFill);
  EXPECT_EQ(e1[1].last_size, 30000);
  EXPECT_EQ(e1[1].last_price, 4300333);
  EXPECT_EQ(e1[1].fee, 129010000);
  EXPECT_EQ(e1[1].liquidity, Liquidity::kMaker);
  EXPECT_EQ(e1[1].cum_size, 40000);
  EXPECT_EQ(e1[1].leaves_size, 60000);
  EXPECT_EQ(e1[1].trade_id, UserChannelTradeId("ord-1", 40000));
  // Order 2: the venue lists no fills for it: one fill for the difference at the average price.
  std::vector<ExecEvent> e2 = of(2);
  ASSERT_EQ(e2.size(), 2u);
  EXPECT_EQ(e2[0].type, ExecType::kFill);
  EXPECT_EQ(e2[0].last_size, 20000);
  EXPECT_EQ(e2[0].last_price, 4300000);
  EXPECT_EQ(e2[1].type, ExecType::kCanceled);
  std::vector<ExecEvent> e3 = of(3);
  ASSERT_EQ(e3.size(), 1u);
  EXPECT_EQ(e3[0].type, ExecType::kAck);
  std::vector<ExecEvent> e4 = of(4);
  ASSERT_EQ(e4.size(), 1u);
  EXPECT_EQ(e4[0].type, ExecType::kReject);
  EXPECT_EQ(e4[0].reject_code, static_cast<uint16_t>(oms::VenueReject::kUnknownOrder));
  EXPECT_TRUE(of(77).empty());  // not journal-open: not ours to settle here
  // The events apply cleanly to the recovered order manager.
  for (const ExecEvent& e : sink.events) {
    EXPECT_EQ(oms_.OnExec(e), oms::OmsResult::kApplied) << static_cast<int>(e.type);
  }
  // Order 4 (never acknowledged) was looked for again within the grace before it was called
  // unknown: the venue lists new orders with a lag.
  EXPECT_GE(r->report().relists, 1);
  ASSERT_EQ(r->report().foreign.size(), 1u);
  EXPECT_TRUE(absl::StrContains(r->report().foreign[0], "manual-order")) << r->report().foreign[0];
  EXPECT_TRUE(absl::StrContains(r->report().foreign[0], "left alone")) << r->report().foreign[0];
  EXPECT_TRUE(r->report().differences.empty());
  venue.Stop();
  // open p1, open p2, recent (and again per relist), fills of ord-1 and ord-2
  EXPECT_EQ(venue.requests(), 5 + r->report().relists);
}

// Regression (issue 6, item 5): a sent-but-unacked order not found in one recent-orders page
// was declared rejected at once, while the venue had it (listed with a lag).
TEST_F(CoinbaseReconcilerTest, AnUnackedOrderListedLateIsAckedNotRejected) {
  std::atomic<int> recent{0};
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (absl::StrContains(r.target, "/historical/fills")) {
      return TestHttpServer::Response{.body = R"({"fills":[],"cursor":""})"};
    }
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0", "0", "0"), ",",
                               Order("2", "OPEN", "0", "0", "0"), ",",
                               Order("3", "OPEN", "0", "0", "0"), R"(],"has_next":false})")};
    }
    // Order 4 shows from the third look on (it was canceled by its owner meanwhile).
    const bool listed = recent.fetch_add(1) >= 2;
    return TestHttpServer::Response{
        .body = absl::StrCat(R"({"orders":[)",
                             listed ? Order("4", "CANCELLED", "0", "0", "0") : std::string(),
                             R"(],"has_next":false,"cursor":""})")};
  });
  std::unique_ptr<CoinbaseReconciler> r = Make(venue.port(), absl::Seconds(5));
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(r->report().relists, 2);
  EXPECT_EQ(r->report().unknown, 0);
  std::vector<ExecType> four;
  for (const ExecEvent& e : sink.events) {
    if (e.client_order_id == 4) four.push_back(e.type);
  }
  EXPECT_EQ(four, (std::vector<ExecType>{ExecType::kAck, ExecType::kCanceled}));
  venue.Stop();
}

// Regression (issue 6 campaign, seed 900020): an acknowledged order the venue's lists did not show
// yet (list lag) was a difference and the restart refused to start; the journal has its venue id,
// and Get Order is not behind the lists.
TEST_F(CoinbaseReconcilerTest, AnAckedOrderTheListsLagBehindIsAskedForById) {
  ASSERT_EQ(oms_.SetVenueOrderId(2, "ord-2"), oms::OmsResult::kApplied);
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (absl::StrContains(r.target, "/historical/fills")) {
      return TestHttpServer::Response{.body = R"({"fills":[],"cursor":""})"};
    }
    if (r.target == "/api/v3/brokerage/orders/historical/ord-2") {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"order":)", Order("2", "FILLED", "0.001", "43", "43000"), "}")};
    }
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0", "0", "0"), ",",
                               Order("3", "OPEN", "0", "0", "0"), R"(],"has_next":false})")};
    }
    return TestHttpServer::Response{.body = absl::StrCat(R"({"orders":[)",
                                                         Order("4", "CANCELLED", "0", "0", "0"),
                                                         R"(],"has_next":false,"cursor":""})")};
  });
  std::unique_ptr<CoinbaseReconciler> r = Make(venue.port());
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(r->report().lookups, 1);
  EXPECT_TRUE(r->report().differences.empty());
  int64_t filled = 0;
  for (const ExecEvent& e : sink.events) {
    if (e.client_order_id == 2 && e.type == ExecType::kFill) filled += e.last_size;
  }
  EXPECT_EQ(filled, 100000);
  venue.Stop();
}

TEST_F(CoinbaseReconcilerTest, ForeignOrdersAreReportedAndCanceledWhenConfigured) {
  std::vector<std::string> cancels;
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (!Authorized(r)) return TestHttpServer::Response{.status = 401, .body = "{}"};
    if (r.method == "POST" && absl::StrContains(r.target, "batch_cancel")) {
      cancels.push_back(r.body);
      return TestHttpServer::Response{
          .body = R"({"results":[{"success":true,"failure_reason":"UNKNOWN_CANCEL_FAILURE_REASON",)"
                  R"("order_id":"ord-by-hand"}]})"};
    }
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0", "0", "0"), ",",
                               Order("2", "OPEN", "0", "0", "0"), ",",
                               Order("3", "OPEN", "0", "0", "0"), ",",
                               Order("by-hand", "OPEN", "0", "0", "0"), R"(],"has_next":false})")};
    }
    return TestHttpServer::Response{.body = absl::StrCat(R"({"orders":[)",
                                                         Order("4", "CANCELLED", "0", "0", "0"),
                                                         R"(],"has_next":false,"cursor":""})")};
  });
  std::unique_ptr<CoinbaseReconciler> r =
      Make(venue.port(), absl::Milliseconds(600), /*cancel_foreign=*/true);
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  ASSERT_TRUE(s.ok()) << s;  // a foreign order is no mismatch
  EXPECT_EQ(r->report().foreign_orders, 1);
  EXPECT_EQ(r->report().foreign_canceled, 1);
  ASSERT_EQ(r->report().foreign.size(), 1u);
  EXPECT_TRUE(absl::StrContains(r->report().foreign[0], "canceled")) << r->report().foreign[0];
  venue.Stop();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0], R"({"order_ids":["ord-by-hand"]})");
}

TEST_F(CoinbaseReconcilerTest, AnOpenOrderTheJournalCannotExplainIsDataLoss) {
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0", "0", "0"), ",",
                               Order("2", "OPEN", "0", "0", "0"), ",",
                               Order("3", "OPEN", "0", "0", "0"), ",",
                               Order("99", "OPEN", "0", "0", "0"), R"(],"has_next":false})")};
    }
    return TestHttpServer::Response{.body = R"({"orders":[],"has_next":false})"};
  });
  std::unique_ptr<CoinbaseReconciler> r = Make(venue.port());
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "ord-99")) << s;
  // One line per difference: what, the journal's view, the venue's.
  ASSERT_EQ(r->report().differences.size(), 1u) << s;
  EXPECT_EQ(r->report().differences[0],
            "order 99 (venue id ord-99, BTC-USD): journal does not have it, venue OPEN");
}

// Regression (issue 6 campaign, finding 1): a restart within the venue's rate-limit second
// (the killed engine had spent the key's budget) refused to start on the first 429.
TEST_F(CoinbaseReconcilerTest, RateLimitedAnswersAreWaitedOut) {
  std::atomic<int> calls{0};
  TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request& r) {
    if (calls.fetch_add(1) < 2) {
      return TestHttpServer::Response{
          .status = 429, .body = R"({"error":"RATE_LIMIT_EXCEEDED","message":"Too many"})"};
    }
    if (absl::StrContains(r.target, "order_status=OPEN")) {
      return TestHttpServer::Response{
          .body = absl::StrCat(R"({"orders":[)", Order("1", "OPEN", "0", "0", "0"), ",",
                               Order("2", "OPEN", "0", "0", "0"), ",",
                               Order("3", "OPEN", "0", "0", "0"), R"(],"has_next":false})")};
    }
    return TestHttpServer::Response{.body = absl::StrCat(R"({"orders":[)",
                                                         Order("4", "CANCELLED", "0", "0", "0"),
                                                         R"(],"has_next":false,"cursor":""})")};
  });
  std::unique_ptr<CoinbaseReconciler> r = Make(venue.port());
  Collect sink;
  absl::Status s = r->Reconcile(oms_, sink);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(r->report().rate_limited, 2);
  venue.Stop();
}

TEST_F(CoinbaseReconcilerTest, UnreachableOrFailingVenueIsUnavailable) {
  Collect sink;
  uint16_t port = 0;
  {
    TestHttpServer venue(server_tls_, [&](const TestHttpServer::Request&) {
      return TestHttpServer::Response{.status = 503, .body = "maintenance"};
    });
    port = venue.port();
    absl::Status s = Make(port)->Reconcile(oms_, sink);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  }
  // The server is gone: nothing listens on its port.
  absl::Status s = Make(port)->Reconcile(oms_, sink);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_TRUE(sink.events.empty());
}

}  // namespace
}  // namespace nzeza::venues::coinbase
