// SimVenue end to end over real TLS on loopback, with the real exchange core: the CA file, level2
// over WebSocket, an order over REST with a JWT signed here (and refused when expired or naming
// another host), the user channel, the account on the admin endpoint, faults through the venue,
// the fault campaign's faults with the real exchange (withheld and 503 create replies, a user
// channel outage with fills made meanwhile, a foreign order), and a bounded Stop().
#include "nzeza/venues/sim/sim_venue.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "nzeza/net/https_client.h"
#include "nzeza/net/tls.h"
#include "server_test_util.h"
#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::Clock;
using testing::Http;
using testing::HttpResult;
using testing::JsonInt;
using testing::JsonStr;
using testing::WsProbe;

constexpr char kLevel2[] = R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})";
constexpr char kOrders[] = "/api/v3/brokerage/orders";

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SimVenueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testing::FreshKey("organizations/org-1/apiKeys/sim-venue-test");
    SimVenueOptions o;
    o.config.seed = 3;
    o.config.api_keys.push_back({.key_name = key_.name, .public_key_pem = key_.public_pem});
    o.ca_out_path = ::testing::TempDir() + "/sim_venue_ca." + std::to_string(::getpid());
    ca_path_ = o.ca_out_path;
    absl::StatusOr<std::unique_ptr<SimVenue>> v = SimVenue::Start(std::move(o));
    ASSERT_TRUE(v.ok()) << v.status();
    venue_ = std::move(*v);
    TlsClientOptions trust;
    trust.ca_file = ca_path_;  // what a client in another process would do
    absl::StatusOr<TlsContext> tls = MakeClientTlsContext(trust);
    ASSERT_TRUE(tls.ok()) << tls.status();
    tls_ = *tls;
  }
  void TearDown() override {
    venue_.reset();
    ::unlink(ca_path_.c_str());
  }

  HttpResult PostOrder(HttpsClient& c, const std::string& jwt, const std::string& client_id,
                       const std::string& price) {
    const std::string body = R"({"client_order_id":")" + client_id +
                             R"(","product_id":"BTC-USD","side":"BUY","order_configuration":)"
                             R"({"limit_limit_gtc":{"base_size":"0.001","limit_price":")" +
                             price + R"(","post_only":false}}})";
    return Http(c, HttpRequest{.method = HttpMethod::kPost,
                               .target = kOrders,
                               .headers = {{"Authorization", "Bearer " + jwt}},
                               .body = body,
                               .content_type = "application/json"});
  }
  std::string Jwt() const {
    return testing::RestJwt(key_, "POST", venue_->jwt_host(), kOrders, testing::WallNowNs());
  }
  // GET `path_and_query` signed for this key.
  HttpResult Get(HttpsClient& c, const std::string& target) {
    const std::string path = target.substr(0, target.find('?'));
    return Http(
        c, HttpRequest{.method = HttpMethod::kGet,
                       .target = target,
                       .headers = {{"Authorization",
                                    "Bearer " + testing::RestJwt(key_, "GET", venue_->jwt_host(),
                                                                 path, testing::WallNowNs())}}});
  }
  std::string UserSubscribe() const {
    return R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":")" +
           testing::WsJwt(key_, testing::WallNowNs()) + R"("})";
  }
  std::string KeyQuery() const { return "key=organizations%2Forg-1%2FapiKeys%2Fsim-venue-test"; }

  testing::TestKey key_;
  std::string ca_path_;
  std::unique_ptr<SimVenue> venue_;
  TlsContext tls_;
};

TEST_F(SimVenueTest, StartsOnLoopbackAndWritesItsCaFile) {
  EXPECT_NE(venue_->ws_port(), 0);
  EXPECT_NE(venue_->rest_port(), 0);
  EXPECT_NE(venue_->admin_port(), 0);
  EXPECT_EQ(venue_->jwt_host(), "127.0.0.1:" + std::to_string(venue_->rest_port()));
  EXPECT_EQ(ReadAll(ca_path_), venue_->ca_cert_pem());
  EXPECT_NE(venue_->ca_cert_pem().find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(SimVenueTest, Level2OverTlsIsNumberedWithoutHoles) {
  WsProbe p(venue_->ws_port(), tls_, kLevel2);
  ASSERT_TRUE(p.PollUntil([&] { return p.CountChannel("l2_data") >= 3; }, 15'000))
      << p.frames.size() << " frames; " << p.last_close;
  for (size_t i = 0; i < p.frames.size(); ++i) {
    ASSERT_EQ(JsonInt(p.frames[i].text, "sequence_num"), static_cast<int64_t>(i))
        << p.frames[i].text;
  }
  // The first level2 frame is the snapshot.
  const WsProbe::Frame* first = p.OnChannel("l2_data").front();
  EXPECT_NE(first->text.find("\"snapshot\""), std::string::npos) << first->text.substr(0, 300);
}

TEST_F(SimVenueTest, OrderWithAValidJwtRestsAndShowsInTheAccount) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  // Far below the market: it rests.
  HttpResult r = PostOrder(*c, Jwt(), "venue-test-1", "1000.00");
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"success\":true"), std::string::npos) << r.body;

  testing::HttpResult a = testing::AdminGet(
      venue_->admin_port(), "/admin/account?key=organizations%2Forg-1%2FapiKeys%2Fsim-venue-test");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(JsonInt(a.body, "open_orders"), 1) << a.body;
  absl::StatusOr<AccountView> v = venue_->Account(key_.name);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->found);
  ASSERT_FALSE(v->products.empty());
  EXPECT_EQ(v->products[0].open_orders, 1);
}

TEST_F(SimVenueTest, ExpiredOrWrongHostJwtIs401) {
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  const int64_t now = testing::WallNowNs();
  const std::string expired =
      testing::RestJwt(key_, "POST", venue_->jwt_host(), kOrders, now - 600'000'000'000);
  HttpResult r = PostOrder(*c, expired, "venue-test-2", "1000.00");
  EXPECT_EQ(r.status, 401) << r.body;
  const std::string elsewhere = testing::RestJwt(key_, "POST", "api.coinbase.com", kOrders, now);
  r = PostOrder(*c, elsewhere, "venue-test-3", "1000.00");
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_F(SimVenueTest, UserChannelSeesOurOrder) {
  const std::string sub =
      R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":")" +
      testing::WsJwt(key_, testing::WallNowNs()) + R"("})";
  WsProbe p(venue_->ws_port(), tls_, sub);
  ASSERT_TRUE(p.PollUntil([&] { return p.CountChannel("user") >= 1; }, 15'000))
      << p.frames.size() << " frames; " << (p.frames.empty() ? "" : p.frames.back().text);
  const size_t before = p.CountChannel("user");
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  ASSERT_EQ(PostOrder(*c, Jwt(), "venue-test-user", "1000.00").status, 200);
  ASSERT_TRUE(p.PollUntil(
      [&] {
        for (const WsProbe::Frame* f : p.OnChannel("user")) {
          if (f->text.find("venue-test-user") != std::string::npos) return true;
        }
        return false;
      },
      10'000))
      << p.CountChannel("user") - before << " user frames after the order";
}

TEST_F(SimVenueTest, FaultsThroughTheVenue) {
  WsProbe p(venue_->ws_port(), tls_, kLevel2);
  ASSERT_TRUE(p.PollUntil([&] { return p.CountChannel("l2_data") >= 1; }, 15'000));
  absl::StatusOr<int> n = venue_->InjectFault({.type = FaultType::kDisconnect});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(p.PollUntil([&] { return p.closes >= 1 && p.opens >= 2; }, 10'000));

  ASSERT_TRUE(venue_->InjectFault({.type = FaultType::kReject, .count = 1}).ok());
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  HttpResult r = PostOrder(*c, Jwt(), "venue-test-rej", "1000.00");
  EXPECT_NE(r.body.find("INSUFFICIENT_FUND"), std::string::npos) << r.status << " " << r.body;
  r = PostOrder(*c, Jwt(), "venue-test-ok", "1000.00");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"success\":true"), std::string::npos) << r.body;
}

TEST_F(SimVenueTest, WithheldCreateRepliesOverTlsWhileTheOrderIsPlaced) {
  WsProbe user(venue_->ws_port(), tls_, UserSubscribe());
  ASSERT_TRUE(user.PollUntil([&] { return user.CountChannel("user") >= 1; }, 15'000));
  ASSERT_TRUE(venue_->InjectFault({.type = FaultType::kWithholdCreate, .ms = 0, .count = 1}).ok());
  HttpsClientOptions o;
  o.host = "127.0.0.1";
  o.port = venue_->rest_port();
  o.tls_context = tls_;
  o.request_timeout = absl::Milliseconds(1000);
  HttpsClient silent(std::move(o));
  const auto t0 = Clock::now();
  HttpResult lost = PostOrder(silent, Jwt(), "9001", "1000.00");
  EXPECT_FALSE(lost.transport.ok()) << lost.status << " " << lost.body;
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(900));
  // The order exists: List Orders (another connection) and the user channel say so.
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  HttpResult list = Get(*c, "/api/v3/brokerage/orders/historical/batch?order_status=OPEN");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"client_order_id\":\"9001\""), std::string::npos) << list.body;
  EXPECT_TRUE(user.PollUntil(
      [&] {
        for (const WsProbe::Frame* f : user.OnChannel("user")) {
          if (f->text.find("\"9001\"") != std::string::npos) return true;
        }
        return false;
      },
      5000));
  // Sent late: 300 ms.
  ASSERT_TRUE(venue_->InjectFault({.type = FaultType::kWithholdCreate, .ms = 300}).ok());
  HttpResult late = PostOrder(*c, Jwt(), "9002", "1000.00");
  ASSERT_TRUE(late.transport.ok()) << late.transport;
  EXPECT_EQ(late.status, 200) << late.body;
  EXPECT_GE(late.rtt_ns, 290'000'000);
  // Error after accept: 503, and the order is there.
  ASSERT_TRUE(venue_->InjectFault({.type = FaultType::kErrorAfterAccept}).ok());
  HttpResult e = PostOrder(*c, Jwt(), "9003", "1000.00");
  EXPECT_EQ(e.status, 503) << e.body;
  EXPECT_EQ(JsonStr(e.body, "error"), "UNAVAILABLE") << e.body;
  list = Get(*c, "/api/v3/brokerage/orders/historical/batch?order_status=OPEN");
  EXPECT_NE(list.body.find("\"client_order_id\":\"9003\""), std::string::npos) << list.body;
  EXPECT_EQ(venue_->stats().replies_withheld, 2u);
}

TEST_F(SimVenueTest, UserDisconnectDropsTheUserChannelWhileFillsHappen) {
  WsProbe market(venue_->ws_port(), tls_, kLevel2);
  WsProbe user(venue_->ws_port(), tls_, UserSubscribe());
  ASSERT_TRUE(testing::PollUntil(
      [&] { return user.CountChannel("user") >= 1 && market.CountChannel("l2_data") >= 1; },
      [&] {
        user.Poll();
        market.Poll();
      },
      15'000));
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  ASSERT_EQ(PostOrder(*c, Jwt(), "7001", "1000.00").status, 200);
  testing::HttpResult r = testing::AdminPost(venue_->admin_port(), "/admin/fault",
                                             R"({"type":"user_disconnect","ms":1500})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonInt(r.body, "connections"), 1) << r.body;
  const auto t0 = Clock::now();
  ASSERT_TRUE(user.PollUntil([&] { return user.closes >= 1; }, 5000));
  // The market moves through our bid meanwhile: it fills, and the user channel never says so.
  r = testing::AdminPost(venue_->admin_port(), "/admin/trade_through?" + KeyQuery(), "");
  ASSERT_EQ(r.status, 200) << r.body;
  // The client reconnects; while the outage lasts, each subscribe is closed.
  const size_t frames_before = user.CountChannel("user");
  ASSERT_TRUE(testing::PollUntil([&] { return user.CountChannel("user") > frames_before; },
                                 [&] {
                                   user.Poll();
                                   market.Poll();
                                 },
                                 10'000));
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(1400));
  EXPECT_GE(user.closes, 2);  // at least one subscribe during the outage was closed
  EXPECT_EQ(market.closes, 0);
  for (const WsProbe::Frame* f : user.OnChannel("user")) {
    EXPECT_EQ(f->text.find("FILLED"), std::string::npos) << f->text;
  }
  // REST has the fill.
  HttpResult fills = Get(*c, "/api/v3/brokerage/orders/historical/fills?product_id=BTC-USD");
  ASSERT_EQ(fills.status, 200) << fills.body;
  EXPECT_NE(fills.body.find("\"trade_id\""), std::string::npos) << fills.body;
  HttpResult list = Get(*c, "/api/v3/brokerage/orders/historical/batch?order_status=FILLED");
  EXPECT_NE(list.body.find("\"client_order_id\":\"7001\""), std::string::npos) << list.body;
  EXPECT_GE(venue_->stats().user_disconnects, 2u);
}

TEST_F(SimVenueTest, ForeignOrderThroughTheAdminEndpoint) {
  testing::HttpResult r =
      testing::AdminPost(venue_->admin_port(), "/admin/fault?type=foreign_order&" + KeyQuery(), "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonStr(r.body, "client_order_id"), "manual-1") << r.body;
  const std::string id = JsonStr(r.body, "order_id");
  ASSERT_FALSE(id.empty()) << r.body;
  std::unique_ptr<HttpsClient> c = testing::HttpsTo(venue_->rest_port(), tls_);
  HttpResult list = Get(*c, "/api/v3/brokerage/orders/historical/batch?order_status=OPEN");
  EXPECT_NE(list.body.find(id), std::string::npos) << list.body;
  HttpResult accounts = Get(*c, "/api/v3/brokerage/accounts");
  ASSERT_EQ(accounts.status, 200) << accounts.body;
  EXPECT_NE(accounts.body.find("\"currency\":\"USD\""), std::string::npos) << accounts.body;
  HttpResult book = Get(*c, "/api/v3/brokerage/product_book?product_id=BTC-USD&limit=5");
  ASSERT_EQ(book.status, 200) << book.body;
  EXPECT_NE(book.body.find("\"pricebook\""), std::string::npos);
  EXPECT_EQ(
      testing::AdminPost(venue_->admin_port(), "/admin/fault?type=foreign_order&key=nobody", "")
          .status,
      404);
}

TEST_F(SimVenueTest, StopIsBoundedWithClientsConnected) {
  WsProbe a(venue_->ws_port(), tls_, kLevel2);
  WsProbe b(venue_->ws_port(), tls_, kLevel2);
  ASSERT_TRUE(testing::PollUntil(
      [&] { return a.CountChannel("l2_data") >= 1 && b.CountChannel("l2_data") >= 1; },
      [&] {
        a.Poll();
        b.Poll();
      },
      15'000));
  const auto t0 = Clock::now();
  venue_->Stop();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1));
  venue_->Stop();
  EXPECT_TRUE(a.PollUntil([&] { return a.closes >= 1; }, 5000));
}

TEST(SimVenueStart, ErrorsNameTheProblem) {
  SimVenueOptions o;
  o.config.products.clear();
  absl::StatusOr<std::unique_ptr<SimVenue>> v = SimVenue::Start(std::move(o));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << v.status();

  SimVenueOptions m;
  const SimCert a = *GenerateSimCert();
  const SimCert b = *GenerateSimCert();
  m.cert.cert_pem = a.cert_pem;
  m.cert.key_pem = b.key_pem;
  v = SimVenue::Start(std::move(m));
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);

  // A given certificate is served as is, and the JWT host can be set.
  SimVenueOptions g;
  g.cert.cert_pem = a.cert_pem;
  g.cert.key_pem = a.key_pem;
  g.jwt_host = "api.coinbase.com";
  v = SimVenue::Start(std::move(g));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->ca_cert_pem(), a.cert_pem);
  EXPECT_EQ((*v)->jwt_host(), "api.coinbase.com");
}

}  // namespace
}  // namespace nzeza::sim
