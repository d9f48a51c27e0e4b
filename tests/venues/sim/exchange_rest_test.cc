// The simulated exchange's REST side (venues/sim/exchange.h): order entry, matching through the
// Advanced Trade endpoints, fees, balances, validation, authentication, rate limit, faults
// (reject, withhold, error after accept, list lag, user channel down, foreign orders), cursor
// pagination, List Accounts, the product book and best bid/ask, and robustness. The market model is
// off here (no participants, no seeded book) so every fill is one these tests caused.
#include <deque>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "nzeza/venues/sim/exchange.h"
#include "nzeza/venues/sim/protocol_util.h"
#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::DocKey;
using testing::FreshKey;
using testing::RestJwt;
using testing::TestKey;
using testing::WsJwt;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr char kOrders[] = "/api/v3/brokerage/orders";
constexpr char kCancel[] = "/api/v3/brokerage/orders/batch_cancel";
constexpr char kHost[] = "127.0.0.1:4443";

SimConfig QuietConfig(const TestKey& a, const TestKey& b) {
  SimConfig c;
  c.seed = 7;
  c.rest_host = kHost;
  c.maker_fee_bps = 10;
  c.taker_fee_bps = 25;
  c.rest_rate_limit_per_sec = 1000;
  SimProductConfig p;
  p.product_id = "BTC-USD";
  p.price_increment = "0.01";
  p.base_increment = "0.00000001";
  p.base_min_size = "0.0001";
  p.base_max_size = "100";
  p.start_price = "100.00";
  p.volatility_bps = 0;
  p.participant_orders_per_sec = 0;
  p.seed_levels = 0;
  c.products = {p};
  c.api_keys = {SimApiKey{.key_name = a.name,
                          .public_key_pem = a.public_pem,
                          .quote_balance = "10000",
                          .base_balance = "10"},
                SimApiKey{.key_name = b.name,
                          .public_key_pem = b.private_pem,
                          .quote_balance = "10000",
                          .base_balance = "10"}};
  return c;
}

struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool ok = false;
  explicit Json(const std::string& s) { ok = parser.parse(s).get(root) == simdjson::SUCCESS; }
  std::string Str(std::string_view pointer) {
    std::string_view v;
    if (root.at_pointer(pointer).get(v)) return "<missing " + std::string(pointer) + ">";
    return std::string(v);
  }
  bool Bool(std::string_view pointer) {
    bool b = false;
    EXPECT_EQ(root.at_pointer(pointer).get(b), simdjson::SUCCESS) << pointer;
    return b;
  }
  size_t Size(std::string_view pointer) {
    simdjson::dom::array a;
    if (root.at_pointer(pointer).get(a)) return SIZE_MAX;
    return a.size();
  }
};

class ExchangeRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = DocKey();
    ASSERT_FALSE(a_.name.empty());
    b_ = FreshKey("organizations/sim/apiKeys/b");
    Make(QuietConfig(a_, b_));
  }
  void Make(const SimConfig& c) {
    auto ex = Exchange::Create(c);
    ASSERT_TRUE(ex.ok()) << ex.status();
    ex_ = std::move(*ex);
  }

  RestReply Call(const TestKey& k, std::string_view method, std::string_view target,
                 std::string_view body = "") {
    now_ += 1'000'000;  // 1 ms per request
    const std::string path(target.substr(0, target.find('?')));
    return ex_->HandleRest(method, target, "Bearer " + RestJwt(k, method, kHost, path, now_), body,
                           now_);
  }

  RestReply Limit(const TestKey& k, std::string_view side, std::string_view size,
                  std::string_view price, std::string_view cfg = "limit_limit_gtc",
                  bool post_only = false) {
    std::string body = "{\"client_order_id\":\"c" + std::to_string(++coid_) +
                       "\",\"product_id\":\"BTC-USD\",\"side\":\"" + std::string(side) +
                       "\",\"order_configuration\":{\"" + std::string(cfg) +
                       "\":{\"base_size\":\"" + std::string(size) + "\",\"limit_price\":\"" +
                       std::string(price) + "\"" + (post_only ? ",\"post_only\":true" : "") + "}}}";
    return Call(k, "POST", kOrders, body);
  }

  RestReply Market(const TestKey& k, std::string_view side, std::string_view field,
                   std::string_view amount) {
    std::string body = "{\"client_order_id\":\"m" + std::to_string(++coid_) +
                       "\",\"product_id\":\"BTC-USD\",\"side\":\"" + std::string(side) +
                       "\",\"order_configuration\":{\"market_market_ioc\":{\"" +
                       std::string(field) + "\":\"" + std::string(amount) + "\"}}}";
    return Call(k, "POST", kOrders, body);
  }

  // The order id of a successful create, or "" (with a failure).
  std::string Accepted(const RestReply& r) {
    Json j(r.body);
    EXPECT_TRUE(j.ok) << r.body;
    EXPECT_EQ(r.status, 200) << r.body;
    if (!j.ok || !j.Bool("/success")) {
      ADD_FAILURE() << "not accepted: " << r.body;
      return "";
    }
    EXPECT_EQ(j.Str("/success_response/order_id"), j.Str("/order_id"));
    return j.Str("/success_response/order_id");
  }

  std::string FailureOf(const RestReply& r) {
    Json j(r.body);
    EXPECT_TRUE(j.ok) << r.body;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(j.Bool("/success")) << r.body;
    EXPECT_EQ(j.Str("/error_response/error"), j.Str("/error_response/new_order_failure_reason"));
    return j.Str("/error_response/error");
  }

  // A WebSocket session subscribed to `k`'s user channel, its first frames drained.
  std::unique_ptr<WsSession> UserSession(const TestKey& k) {
    std::unique_ptr<WsSession> s = ex_->OpenSession();
    s->OnClientText(R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":")" +
                        WsJwt(k, now_) + R"("})",
                    now_);
    Drained(*s);
    return s;
  }
  std::string Drained(WsSession& s) {
    std::vector<std::string> frames;
    s.Drain(now_, &frames);
    std::string all;
    for (const std::string& f : frames) all += f + "\n";
    return all;
  }
  // The order ids a List Orders reply names, in order.
  std::vector<std::string> OrderIds(const RestReply& r) {
    std::vector<std::string> out;
    Json j(r.body);
    EXPECT_TRUE(j.ok) << r.body;
    for (size_t i = 0; i < j.Size("/orders"); ++i) {
      out.push_back(j.Str("/orders/" + std::to_string(i) + "/order_id"));
    }
    return out;
  }
  RestReply ListOrders(const TestKey& k, const std::string& query = "") {
    return Call(k, "GET", "/api/v3/brokerage/orders/historical/batch" + query);
  }

  const AccountView::Product& Pos(const TestKey& k) {
    views_.push_back(ex_->Account(k.name));
    EXPECT_TRUE(views_.back().found);
    return views_.back().products.at(0);
  }

  void ExpectConserved() {
    for (const ProductTotals& t : ex_->Totals()) {
      EXPECT_EQ(t.accounts_base + t.participants_base, 0) << t.product_id;
      EXPECT_EQ(t.accounts_quote + t.participants_quote + t.venue_fees, 0) << t.product_id;
    }
  }

  TestKey a_, b_;
  std::unique_ptr<Exchange> ex_;
  int64_t now_ = kT0;
  int coid_ = 0;
  std::deque<AccountView> views_;
};

TEST_F(ExchangeRestTest, LimitRestsThenMarketTakesWithExactFees) {
  const std::string sell = Accepted(Limit(a_, "SELL", "2", "100.01"));
  ASSERT_FALSE(sell.empty());
  EXPECT_EQ(Pos(a_).open_orders, 1);
  const std::string buy = Accepted(Market(b_, "BUY", "base_size", "0.5"));
  ASSERT_FALSE(buy.empty());
  // Notional 0.5 x 100.01 = 50.005; taker 25 bps = 0.1250125; maker 10 bps = 0.050005.
  EXPECT_EQ(Pos(b_).base_position, "0.5");
  EXPECT_EQ(Pos(b_).quote_delta, "-50.1300125");
  EXPECT_EQ(Pos(a_).base_position, "-0.5");
  EXPECT_EQ(Pos(a_).quote_delta, "49.954995");
  EXPECT_EQ(Pos(a_).fills, 1);
  EXPECT_EQ(Pos(b_).fills, 1);
  EXPECT_EQ(Pos(a_).open_orders, 1);  // 1.5 left resting
  ExpectConserved();

  // The fills as List Fills reports them.
  RestReply f = Call(a_, "GET", "/api/v3/brokerage/orders/historical/fills?order_ids=" + sell);
  ASSERT_EQ(f.status, 200) << f.body;
  Json j(f.body);
  ASSERT_TRUE(j.ok) << f.body;
  ASSERT_EQ(j.Size("/fills"), 1u) << f.body;
  EXPECT_EQ(j.Str("/fills/0/order_id"), sell);
  EXPECT_EQ(j.Str("/fills/0/price"), "100.01");
  EXPECT_EQ(j.Str("/fills/0/size"), "0.5");
  EXPECT_EQ(j.Str("/fills/0/commission"), "0.050005");
  EXPECT_EQ(j.Str("/fills/0/liquidity_indicator"), "MAKER");
  EXPECT_EQ(j.Str("/fills/0/side"), "SELL");
  EXPECT_EQ(j.Str("/fills/0/trade_type"), "FILL");
  RestReply fb = Call(b_, "GET", "/api/v3/brokerage/orders/historical/fills?product_id=BTC-USD");
  Json jb(fb.body);
  ASSERT_EQ(jb.Size("/fills"), 1u) << fb.body;
  EXPECT_EQ(jb.Str("/fills/0/liquidity_indicator"), "TAKER");
  EXPECT_EQ(jb.Str("/fills/0/commission"), "0.1250125");
}

TEST_F(ExchangeRestTest, FeeRoundsUpBelowOneQuoteUnit) {
  // 0.00010001 BTC at 0.01 = 10001 quote units (scale 10). Taker 25 bps: 25.0025 -> 26;
  // maker 10 bps: 10.001 -> 11 (ceil: the venue never under-charges).
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "0.00010001", "0.01")).empty());
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "0.00010001", "0.01")).empty());
  EXPECT_EQ(Pos(b_).quote_delta, "-0.0000010027");
  EXPECT_EQ(Pos(a_).quote_delta, "0.000000999");
  EXPECT_EQ(ex_->Totals()[0].venue_fees, 37);
  ExpectConserved();
}

TEST_F(ExchangeRestTest, PriceTimePriorityAcrossAccounts) {
  const std::string a1 = Accepted(Limit(a_, "SELL", "1", "101"));
  const std::string b1 = Accepted(Limit(b_, "SELL", "1", "100.5"));  // better price
  const std::string a2 = Accepted(Limit(a_, "SELL", "1", "100.5"));  // same price, later
  // Buy 1.5 at 101: b1 (best price) fully, then a2 (time priority at 100.5) half; a1 untouched.
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "1.5", "101")).empty());
  RestReply r = Call(a_, "GET", "/api/v3/brokerage/orders/historical/batch?order_status=OPEN");
  Json j(r.body);
  ASSERT_TRUE(j.ok) << r.body;
  ASSERT_EQ(j.Size("/orders"), 2u) << r.body;
  // Newest first: a2 (0.5 filled) then a1.
  EXPECT_EQ(j.Str("/orders/0/order_id"), a2);
  EXPECT_EQ(j.Str("/orders/0/filled_size"), "0.5");
  EXPECT_EQ(j.Str("/orders/0/status"), "OPEN");
  EXPECT_EQ(j.Str("/orders/1/order_id"), a1);
  EXPECT_EQ(j.Str("/orders/1/filled_size"), "0");
  RestReply rb = Call(b_, "GET", "/api/v3/brokerage/orders/historical/" + b1);
  Json jb(rb.body);
  EXPECT_EQ(jb.Str("/order/status"), "FILLED") << rb.body;
  EXPECT_EQ(jb.Str("/order/average_filled_price"), "100.5");
  ExpectConserved();
}

TEST_F(ExchangeRestTest, PostOnlyThatWouldCrossIsRejected) {
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "100")).empty());
  EXPECT_EQ(FailureOf(Limit(b_, "BUY", "1", "100", "limit_limit_gtc", /*post_only=*/true)),
            "INVALID_LIMIT_PRICE_POST_ONLY");
  Json j(Limit(b_, "BUY", "1", "100.5", "limit_limit_gtc", true).body);
  EXPECT_EQ(j.Str("/error_response/preview_failure_reason"),
            "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY");
  // Below the offer it rests.
  EXPECT_FALSE(Accepted(Limit(b_, "BUY", "1", "99.99", "limit_limit_gtc", true)).empty());
  EXPECT_EQ(Pos(b_).fills, 0);
}

TEST_F(ExchangeRestTest, IocRemainderIsCancelled) {
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "0.3", "100")).empty());
  const std::string ioc = Accepted(Limit(b_, "BUY", "1", "100", "sor_limit_ioc"));
  ASSERT_FALSE(ioc.empty());
  RestReply r = Call(b_, "GET", "/api/v3/brokerage/orders/historical/" + ioc);
  Json j(r.body);
  EXPECT_EQ(j.Str("/order/status"), "CANCELLED") << r.body;
  EXPECT_EQ(j.Str("/order/filled_size"), "0.3");
  EXPECT_EQ(j.Str("/order/time_in_force"), "IMMEDIATE_OR_CANCEL");
  EXPECT_EQ(Pos(b_).open_orders, 0);
  EXPECT_EQ(Pos(b_).base_position, "0.3");
  ExpectConserved();
}

TEST_F(ExchangeRestTest, MarketBuyInQuoteAndMarketSell) {
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "100")).empty());
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "200")).empty());
  // 150 USD: 1 @ 100, then 0.25 @ 200.
  ASSERT_FALSE(Accepted(Market(b_, "BUY", "quote_size", "150")).empty());
  EXPECT_EQ(Pos(b_).base_position, "1.25");
  // A market sell with no bids has no liquidity.
  EXPECT_EQ(FailureOf(Market(b_, "SELL", "base_size", "0.1")), "INVALID_NO_LIQUIDITY");
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "0.5", "90")).empty());
  ASSERT_FALSE(
      Accepted(Market(b_, "SELL", "base_size", "1")).empty());  // 0.5 fills, rest cancelled
  EXPECT_EQ(Pos(b_).base_position, "0.75");
  ExpectConserved();
}

TEST_F(ExchangeRestTest, BalancesAndHoldsAreChecked) {
  // 10000 USD: a 99 BTC buy at 100 needs 9900 + fees: OK; then nothing is left for more.
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "99", "100")).empty());
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "100")), "INSUFFICIENT_FUND");
  EXPECT_EQ(FailureOf(Limit(b_, "BUY", "100", "100")), "INSUFFICIENT_FUND");
  // 10 BTC: a 6 BTC sell rests, a second 6 BTC sell does not fit.
  ASSERT_FALSE(Accepted(Limit(b_, "SELL", "6", "150")).empty());
  EXPECT_EQ(FailureOf(Limit(b_, "SELL", "6", "150")), "INSUFFICIENT_FUND");
  Json j(Limit(b_, "SELL", "6", "150").body);
  EXPECT_EQ(j.Str("/error_response/preview_failure_reason"), "PREVIEW_INSUFFICIENT_FUND");
}

TEST_F(ExchangeRestTest, TickLotAndSizeLimits) {
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "100.001")), "INVALID_PRICE_PRECISION");
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "0.000000001", "100")), "INVALID_SIZE_PRECISION");
  Json small(Limit(a_, "BUY", "0.00001", "100").body);
  EXPECT_EQ(small.Str("/error_response/preview_failure_reason"),
            "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL");
  Json large(Limit(a_, "SELL", "101", "100").body);
  EXPECT_EQ(large.Str("/error_response/preview_failure_reason"),
            "PREVIEW_INVALID_BASE_SIZE_TOO_LARGE");
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "0")), "INVALID_LIMIT_PRICE");
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "abc")), "INVALID_LIMIT_PRICE");
  EXPECT_EQ(FailureOf(Limit(a_, "HOLD", "1", "100")), "INVALID_SIDE");
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "100", "limit_limit_fok")),
            "UNSUPPORTED_ORDER_CONFIGURATION");
  RestReply r =
      Call(a_, "POST", kOrders,
           R"({"client_order_id":"x1","product_id":"ETH-USD","side":"BUY",)"
           R"("order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"1"}}})");
  EXPECT_EQ(FailureOf(r), "INVALID_PRODUCT_ID");
  EXPECT_EQ(Pos(a_).open_orders, 0);
}

TEST_F(ExchangeRestTest, RepeatedClientOrderIdReturnsTheFirstOrder) {
  const std::string body =
      R"({"client_order_id":"same","product_id":"BTC-USD","side":"BUY",)"
      R"("order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"90"}}})";
  const std::string first = Accepted(Call(a_, "POST", kOrders, body));
  const std::string again = Accepted(Call(a_, "POST", kOrders, body));
  EXPECT_EQ(first, again);
  EXPECT_EQ(Pos(a_).open_orders, 1);
}

TEST_F(ExchangeRestTest, BatchCancel) {
  const std::string o1 = Accepted(Limit(a_, "BUY", "1", "90"));
  const std::string o2 = Accepted(Limit(a_, "SELL", "1", "110"));
  const std::string other = Accepted(Limit(b_, "BUY", "1", "91"));
  RestReply r =
      Call(a_, "POST", kCancel, "{\"order_ids\":[\"" + o1 + "\",\"nope\",\"" + other + "\"]}");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  ASSERT_EQ(j.Size("/results"), 3u) << r.body;
  EXPECT_TRUE(j.Bool("/results/0/success"));
  EXPECT_EQ(j.Str("/results/0/order_id"), o1);
  EXPECT_FALSE(j.Bool("/results/1/success"));
  EXPECT_EQ(j.Str("/results/1/failure_reason"), "UNKNOWN_CANCEL_ORDER");
  EXPECT_FALSE(j.Bool("/results/2/success"));  // another key's order
  Json again(Call(a_, "POST", kCancel, "{\"order_ids\":[\"" + o1 + "\"]}").body);
  EXPECT_FALSE(again.Bool("/results/0/success"));
  EXPECT_EQ(Pos(a_).open_orders, 1);
  Json open(Call(a_, "GET", "/api/v3/brokerage/orders/historical/batch?order_status=OPEN").body);
  ASSERT_EQ(open.Size("/orders"), 1u);
  EXPECT_EQ(open.Str("/orders/0/order_id"), o2);
  Json cancelled(
      Call(a_, "GET", "/api/v3/brokerage/orders/historical/batch?order_status=CANCELLED").body);
  ASSERT_EQ(cancelled.Size("/orders"), 1u);
  EXPECT_EQ(cancelled.Str("/orders/0/order_id"), o1);
}

TEST_F(ExchangeRestTest, AuthenticationFailuresAre401WithCoinbaseShape) {
  auto expect_401 = [&](const RestReply& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    Json j(r.body);
    ASSERT_TRUE(j.ok) << r.body;
    EXPECT_EQ(j.Str("/error"), "UNAUTHENTICATED");
    EXPECT_FALSE(j.Str("/error_details").empty());
    EXPECT_FALSE(j.Str("/message").empty());
  };
  const std::string body =
      R"({"client_order_id":"a","product_id":"BTC-USD","side":"BUY",)"
      R"("order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"90"}}})";
  const int64_t now = kT0;
  expect_401(ex_->HandleRest("POST", kOrders, "", body, now));
  expect_401(ex_->HandleRest("POST", kOrders, "Basic abc", body, now));
  expect_401(ex_->HandleRest("POST", kOrders, "Bearer ", body, now));
  expect_401(ex_->HandleRest("POST", kOrders, "Bearer x.y.z", body, now));
  // Signed for another path, another host, another method.
  expect_401(ex_->HandleRest("POST", kOrders, "Bearer " + RestJwt(a_, "POST", kHost, kCancel, now),
                             body, now));
  expect_401(ex_->HandleRest("POST", kOrders,
                             "Bearer " + RestJwt(a_, "POST", "api.coinbase.com", kOrders, now),
                             body, now));
  expect_401(ex_->HandleRest("POST", kOrders, "Bearer " + RestJwt(a_, "GET", kHost, kOrders, now),
                             body, now));
  // Expired (made 3 minutes ago) and not yet valid (made a minute ahead).
  expect_401(ex_->HandleRest("POST", kOrders,
                             "Bearer " + RestJwt(a_, "POST", kHost, kOrders, now - 180'000'000'000),
                             body, now));
  expect_401(ex_->HandleRest("POST", kOrders,
                             "Bearer " + RestJwt(a_, "POST", kHost, kOrders, now + 60'000'000'000),
                             body, now));
  // An unknown key.
  expect_401(ex_->HandleRest("POST", kOrders,
                             "Bearer " + RestJwt(FreshKey("stranger"), "POST", kHost, kOrders, now),
                             body, now));
  EXPECT_EQ(Pos(a_).open_orders, 0);
  // The query string is not part of the uri claim.
  RestReply ok = ex_->HandleRest(
      "GET", "/api/v3/brokerage/orders/historical/batch?order_status=OPEN",
      "Bearer " + RestJwt(a_, "GET", kHost, "/api/v3/brokerage/orders/historical/batch", now), "",
      now);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(ExchangeRestTest, RateLimitPerKeySlidingWindow) {
  SimConfig c = QuietConfig(a_, b_);
  c.rest_rate_limit_per_sec = 5;
  Make(c);
  const std::string path = "/api/v3/brokerage/products/BTC-USD";
  auto get = [&](const TestKey& k, int64_t t) {
    return ex_->HandleRest("GET", path, "Bearer " + RestJwt(k, "GET", kHost, path, t), "", t)
        .status;
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(a_, kT0 + i * 100'000'000), 200) << i;
  RestReply limited =
      ex_->HandleRest("GET", path, "Bearer " + RestJwt(a_, "GET", kHost, path, kT0 + 500'000'000),
                      "", kT0 + 500'000'000);
  EXPECT_EQ(limited.status, 429);
  Json j(limited.body);
  EXPECT_EQ(j.Str("/error"), "RATE_LIMIT_EXCEEDED") << limited.body;
  // Another key has its own budget.
  EXPECT_EQ(get(b_, kT0 + 500'000'000), 200);
  // One second after the first request, one slot is free again.
  EXPECT_EQ(get(a_, kT0 + 1'000'000'001), 200);
  EXPECT_EQ(get(a_, kT0 + 1'000'000'002), 429);
}

TEST_F(ExchangeRestTest, RejectFaultFailsTheNextOrders) {
  ExchangeFaults f;
  f.reject_next_orders = 2;
  ex_->SetFaults(f);
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "90")), "INSUFFICIENT_FUND");
  EXPECT_EQ(FailureOf(Limit(b_, "BUY", "1", "90")), "INSUFFICIENT_FUND");
  EXPECT_FALSE(Accepted(Limit(a_, "BUY", "1", "90")).empty());
}

TEST_F(ExchangeRestTest, RecurringRejectFailsEveryNthOrder) {
  ExchangeFaults f;
  f.reject_every_n = 3;
  ex_->SetFaults(f);
  std::vector<bool> failed;
  for (int i = 0; i < 9; ++i) {
    const RestReply r = Limit(i % 2 ? a_ : b_, "BUY", "1", "90");
    failed.push_back(!Json(r.body).Bool("/success"));
    if (failed.back()) {
      EXPECT_EQ(FailureOf(r), "INSUFFICIENT_FUND");
    }
  }
  EXPECT_EQ(failed,
            (std::vector<bool>{false, false, true, false, false, true, false, false, true}));
  // A one-off reject on top takes the next order; the count of orders goes on.
  f.reject_next_orders = 1;
  ex_->SetFaults(f);
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "90")), "INSUFFICIENT_FUND");  // 10th: one-off
  EXPECT_FALSE(Accepted(Limit(a_, "BUY", "1", "90")).empty());             // 11th
  EXPECT_EQ(FailureOf(Limit(a_, "BUY", "1", "90")), "INSUFFICIENT_FUND");  // 12th: recurring
}

TEST_F(ExchangeRestTest, ProductEndpoint) {
  RestReply r = Call(a_, "GET", "/api/v3/brokerage/products/BTC-USD");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  EXPECT_EQ(j.Str("/product_id"), "BTC-USD");
  EXPECT_EQ(j.Str("/base_increment"), "0.00000001");
  EXPECT_EQ(j.Str("/quote_increment"), "0.01");
  EXPECT_EQ(j.Str("/base_min_size"), "0.0001");
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/products/DOGE-USD").status, 404);
}

TEST_F(ExchangeRestTest, MalformedRequestsAre400NeverACrash) {
  const std::vector<std::string> bodies = {
      "",
      "null",
      "[]",
      "{",
      "{\"client_order_id\":1}",
      "{\"client_order_id\":\"x\"}",
      "{\"client_order_id\":\"x\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\"}",
      "{\"client_order_id\":\"x\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\","
      "\"order_configuration\":[]}",
      "{\"client_order_id\":\"x\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\","
      "\"order_configuration\":{\"limit_limit_gtc\":{\"base_size\":1}}}",
      "{\"client_order_id\":\"x\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\","
      "\"order_configuration\":{\"limit_limit_gtc\":{\"post_only\":\"maybe\"}}}",
      std::string("{\"a\":\"\0\"}", 10),
      "{\"client_order_id\":\"x\",\"product_id\":\"BTC-USD\",\"side\":\"BUY\","
      "\"order_configuration\":{\"limit_limit_gtc\":{\"base_size\":\"1\",\"limit_price\":\"9",
  };
  for (const std::string& b : bodies) {
    RestReply r = Call(a_, "POST", kOrders, b);
    EXPECT_EQ(r.status, 400) << b << " -> " << r.body;
    Json j(r.body);
    EXPECT_TRUE(j.ok) << r.body;
    EXPECT_EQ(j.Str("/error"), "INVALID_ARGUMENT");
  }
  for (const char* b : {"", "{}", "{\"order_ids\":\"x\"}", "{\"order_ids\":[1]}", "]"}) {
    EXPECT_EQ(Call(a_, "POST", kCancel, b).status, 400) << b;
  }
  // Every prefix of a valid body: a clean 200 failure or 400, never a crash.
  const std::string good =
      R"({"client_order_id":"p","product_id":"BTC-USD","side":"BUY",)"
      R"("order_configuration":{"limit_limit_gtc":{"base_size":"1","limit_price":"90","post_only":false}}})";
  for (size_t i = 0; i < good.size(); ++i) {
    RestReply r = Call(a_, "POST", kOrders, good.substr(0, i));
    EXPECT_TRUE(r.status == 400 || r.status == 200) << i;
    EXPECT_TRUE(Json(r.body).ok) << r.body;
  }
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/orders/historical/batch?order_status=BOGUS").status,
            400);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/orders/historical/fills?limit=-1").status, 400);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/nothing").status, 404);
  EXPECT_EQ(ex_->HandleRest("DELETE", kOrders, "", "", now_).status, 404);
}

TEST_F(ExchangeRestTest, WithholdCreateExecutesTheOrderAndMarksItsReply) {
  std::unique_ptr<WsSession> user = UserSession(a_);
  ExchangeFaults f;
  f.withhold_create_next = 1;
  f.withhold_create_ms = 0;
  ex_->SetFaults(f);
  const RestReply r = Limit(a_, "BUY", "1", "90");
  EXPECT_EQ(r.withhold_ms, 0);
  const std::string id = Accepted(r);  // the body the client would have had
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(ex_->faults().withhold_create_next, 0);
  // Placed: in List Orders, on the user channel, in the account.
  EXPECT_EQ(OrderIds(ListOrders(a_, "?order_status=OPEN")), std::vector<std::string>{id});
  EXPECT_NE(Drained(*user).find(id), std::string::npos);
  EXPECT_EQ(Pos(a_).open_orders, 1);
  // Used up: the next reply goes out at once; a delay is passed on as given.
  EXPECT_EQ(Limit(a_, "BUY", "1", "89").withhold_ms, -1);
  f.withhold_create_next = 2;
  f.withhold_create_ms = 250;
  ex_->SetFaults(f);
  EXPECT_EQ(Limit(b_, "BUY", "1", "88").withhold_ms, 250);
  // A refused order's reply is withheld too (every create-order request counts).
  const RestReply refused = Limit(b_, "BUY", "99", "200");
  EXPECT_EQ(refused.withhold_ms, 250);
  EXPECT_EQ(FailureOf(refused), "INSUFFICIENT_FUND");
  EXPECT_EQ(Limit(b_, "BUY", "1", "87").withhold_ms, -1);
  // Other endpoints are never withheld.
  EXPECT_EQ(ListOrders(a_).withhold_ms, -1);
}

TEST_F(ExchangeRestTest, WithholdCancelExecutesTheCancelAndMarksItsReply) {
  const std::string id = Accepted(Limit(a_, "BUY", "1", "90"));
  std::unique_ptr<WsSession> user = UserSession(a_);
  ExchangeFaults f;
  f.withhold_cancel_next = 1;
  f.withhold_cancel_ms = 300;
  ex_->SetFaults(f);
  EXPECT_EQ(Limit(a_, "BUY", "1", "80").withhold_ms, -1);  // creates are not affected
  const RestReply r = Call(a_, "POST", kCancel, "{\"order_ids\":[\"" + id + "\"]}");
  EXPECT_EQ(r.withhold_ms, 300);
  EXPECT_TRUE(Json(r.body).Bool("/results/0/success")) << r.body;
  EXPECT_EQ(OrderIds(ListOrders(a_, "?order_status=CANCELLED")), std::vector<std::string>{id});
  EXPECT_NE(Drained(*user).find("CANCELLED"), std::string::npos);
  EXPECT_EQ(Call(a_, "POST", kCancel, "{\"order_ids\":[\"" + id + "\"]}").withhold_ms, -1);
}

TEST_F(ExchangeRestTest, ErrorAfterAcceptPlacesTheOrderAndAnswers503) {
  std::unique_ptr<WsSession> user = UserSession(a_);
  ExchangeFaults f;
  f.error_after_accept_next = 2;
  ex_->SetFaults(f);
  for (int i = 0; i < 2; ++i) {
    const RestReply r = Limit(a_, "BUY", "1", "90");
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.withhold_ms, -1);
    Json j(r.body);
    ASSERT_TRUE(j.ok) << r.body;
    EXPECT_EQ(j.Str("/error"), "UNAVAILABLE");
    EXPECT_FALSE(j.Str("/message").empty());
  }
  // Both orders exist, under the client ids the client sent.
  Json list(ListOrders(a_, "?order_status=OPEN").body);
  ASSERT_EQ(list.Size("/orders"), 2u);
  EXPECT_EQ(list.Str("/orders/0/client_order_id"), "c2");
  EXPECT_EQ(list.Str("/orders/1/client_order_id"), "c1");
  const std::string frames = Drained(*user);
  EXPECT_NE(frames.find("\"c1\""), std::string::npos);
  EXPECT_NE(frames.find("\"c2\""), std::string::npos);
  EXPECT_EQ(Limit(a_, "BUY", "1", "90").status, 200);
  // The client retrying with the same client_order_id learns the order id.
  EXPECT_EQ(Accepted(Call(a_, "POST", kOrders,
                          R"({"client_order_id":"c1","product_id":"BTC-USD","side":"BUY",)"
                          R"("order_configuration":{"limit_limit_gtc":{"base_size":"1",)"
                          R"("limit_price":"90"}}})")),
            list.Str("/orders/1/order_id"));
}

TEST_F(ExchangeRestTest, ListLagHidesNewOrdersFromListOrdersOnly) {
  const std::string before = Accepted(Limit(a_, "BUY", "1", "90"));
  ExchangeFaults f;
  f.list_lag_ms = 500;
  ex_->SetFaults(f);
  const std::string lagged = Accepted(Limit(a_, "BUY", "1", "89"));
  EXPECT_EQ(OrderIds(ListOrders(a_)), std::vector<std::string>{before});
  // Get Order sees it at once.
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/orders/historical/" + lagged).status, 200);
  now_ += 490'000'000;  // 498 ms after creation (a millisecond per request)
  EXPECT_EQ(OrderIds(ListOrders(a_)), std::vector<std::string>{before});
  now_ += 10'000'000;
  EXPECT_EQ(OrderIds(ListOrders(a_)), (std::vector<std::string>{lagged, before}));
  // Off: a lagged order is listed at once.
  const std::string third = Accepted(Limit(a_, "BUY", "1", "88"));
  EXPECT_EQ(OrderIds(ListOrders(a_)).size(), 2u);
  f.list_lag_ms = 0;
  ex_->SetFaults(f);
  EXPECT_EQ(OrderIds(ListOrders(a_)), (std::vector<std::string>{third, lagged, before}));
  EXPECT_FALSE(Accepted(Limit(a_, "BUY", "1", "87")).empty());
  EXPECT_EQ(OrderIds(ListOrders(a_)).size(), 4u);
}

TEST_F(ExchangeRestTest, UserChannelDownDropsUpdatesAndRefusesSubscribesWhileMatchingGoesOn) {
  std::unique_ptr<WsSession> before = UserSession(a_);
  EXPECT_EQ(before->user_key(), a_.name);
  std::unique_ptr<WsSession> market = ex_->OpenSession();
  market->OnClientText(R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})",
                       now_);
  EXPECT_TRUE(market->user_key().empty());
  const std::string sell = Accepted(Limit(a_, "SELL", "1", "100"));
  Drained(*before);
  ExchangeFaults f;
  f.user_down_until_ns = now_ + 1'000'000'000;
  ex_->SetFaults(f);
  // Matching goes on: b_ takes half of a_'s order.
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "0.5", "100")).empty());
  EXPECT_EQ(Drained(*before), "");  // dropped
  // A subscribe meanwhile is refused by closing the connection, with no reply.
  std::unique_ptr<WsSession> during = ex_->OpenSession();
  during->OnClientText(
      R"({"type":"subscribe","channel":"user","jwt":")" + WsJwt(a_, now_) + R"("})", now_);
  EXPECT_TRUE(during->close_requested());
  EXPECT_EQ(Drained(*during), "");
  EXPECT_FALSE(market->close_requested());
  // REST knows everything.
  Json fills(Call(a_, "GET", "/api/v3/brokerage/orders/historical/fills?order_ids=" + sell).body);
  ASSERT_EQ(fills.Size("/fills"), 1u);
  EXPECT_EQ(fills.Str("/fills/0/size"), "0.5");
  Json order(Call(a_, "GET", "/api/v3/brokerage/orders/historical/" + sell).body);
  EXPECT_EQ(order.Str("/order/filled_size"), "0.5");
  // After the outage: updates flow again, a subscribe gets its snapshot.
  now_ += 1'000'000'000;
  std::unique_ptr<WsSession> after = ex_->OpenSession();
  after->OnClientText(R"({"type":"subscribe","channel":"user","jwt":")" + WsJwt(a_, now_) + R"("})",
                      now_);
  EXPECT_FALSE(after->close_requested());
  const std::string snap = Drained(*after);
  EXPECT_NE(snap.find("\"snapshot\""), std::string::npos) << snap;
  EXPECT_NE(snap.find(sell), std::string::npos) << snap;
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "0.5", "100")).empty());
  EXPECT_NE(Drained(*after).find("FILLED"), std::string::npos);
  // Scoped to one key: the other account's channel stays up.
  f.user_down_until_ns = now_ + 1'000'000'000;
  f.user_down_key = b_.name;
  ex_->SetFaults(f);
  std::unique_ptr<WsSession> a_again = ex_->OpenSession();
  a_again->OnClientText(
      R"({"type":"subscribe","channel":"user","jwt":")" + WsJwt(a_, now_) + R"("})", now_);
  EXPECT_FALSE(a_again->close_requested());
  std::unique_ptr<WsSession> b_during = ex_->OpenSession();
  b_during->OnClientText(
      R"({"type":"subscribe","channel":"user","jwt":")" + WsJwt(b_, now_) + R"("})", now_);
  EXPECT_TRUE(b_during->close_requested());
}

TEST_F(ExchangeRestTest, ForeignOrderRestsUnderANonNumericClientOrderId) {
  std::unique_ptr<WsSession> user = UserSession(a_);
  ExchangeFaults f;
  f.reject_next_orders = 1;  // injected faults do not apply to it
  f.withhold_create_next = 1;
  ex_->SetFaults(f);
  absl::StatusOr<ForeignOrder> o = ex_->PlaceForeignOrder("", now_);  // the first key: a_
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->key_name, a_.name);
  EXPECT_EQ(o->client_order_id, "manual-1");
  EXPECT_EQ(o->product_id, "BTC-USD");
  EXPECT_EQ(o->side, "BUY");
  EXPECT_EQ(o->limit_price, "50");  // the empty book: half the model's mid of 100
  EXPECT_EQ(o->base_size, "0.0001");
  Json list(ListOrders(a_, "?order_status=OPEN").body);
  ASSERT_EQ(list.Size("/orders"), 1u);
  EXPECT_EQ(list.Str("/orders/0/order_id"), o->order_id);
  EXPECT_EQ(list.Str("/orders/0/client_order_id"), "manual-1");
  EXPECT_EQ(list.Str("/orders/0/order_configuration/limit_limit_gtc/limit_price"), "50");
  EXPECT_NE(Drained(*user).find("manual-1"), std::string::npos);
  EXPECT_EQ(ex_->faults().reject_next_orders, 1);
  EXPECT_EQ(ex_->faults().withhold_create_next, 1);
  // With a book, half of its mid; by key name.
  const RestReply pending = Limit(a_, "SELL", "1", "110.02");  // the faults still pending
  EXPECT_EQ(FailureOf(pending), "INSUFFICIENT_FUND");
  EXPECT_EQ(pending.withhold_ms, 0);
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "110.02")).empty());
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "1", "90")).empty());
  absl::StatusOr<ForeignOrder> o2 = ex_->PlaceForeignOrder(b_.name, now_);
  ASSERT_TRUE(o2.ok()) << o2.status();
  EXPECT_EQ(o2->client_order_id, "manual-2");
  EXPECT_EQ(o2->limit_price, "50");  // (90 + 110.02) / 4 = 50.005, down to the tick
  EXPECT_EQ(Pos(b_).open_orders, 2);
  EXPECT_EQ(ex_->PlaceForeignOrder("nobody", now_).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ExchangeRestTest, ListOrdersPagesWithACursorThatNewOrdersDoNotShift) {
  std::vector<std::string> placed;  // oldest first
  for (int i = 0; i < 25; ++i) placed.push_back(Accepted(Limit(a_, "BUY", "0.01", "90")));
  std::vector<std::string> seen;
  std::string cursor;
  std::vector<size_t> sizes;
  for (int page = 0; page < 10; ++page) {
    RestReply r = ListOrders(a_, "?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    Json j(r.body);
    const std::vector<std::string> ids = OrderIds(r);
    sizes.push_back(ids.size());
    seen.insert(seen.end(), ids.begin(), ids.end());
    const bool has_next = j.Bool("/has_next");
    cursor = j.Str("/cursor");
    EXPECT_EQ(has_next, !cursor.empty()) << r.body;
    if (page == 0) Accepted(Limit(a_, "BUY", "0.01", "90"));  // arrives between pages
    if (!has_next) break;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  EXPECT_EQ(seen, std::vector<std::string>(placed.rbegin(), placed.rend()));
  // Filters apply before the limit; a cursor this venue never gave is refused.
  Json filtered(ListOrders(a_, "?limit=3&order_ids=" + placed[0] + "&order_ids=" + placed[1]).body);
  EXPECT_EQ(filtered.Size("/orders"), 2u);
  EXPECT_FALSE(filtered.Bool("/has_next"));
  EXPECT_EQ(ListOrders(a_, "?cursor=abc").status, 400);
  EXPECT_EQ(ListOrders(a_, "?cursor=99999").status, 400);
  EXPECT_EQ(ListOrders(a_, "?limit=0").status, 400);
}

TEST_F(ExchangeRestTest, ListFillsPagesWithACursor) {
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "100")).empty());
  for (int i = 0; i < 25; ++i) ASSERT_FALSE(Accepted(Limit(b_, "BUY", "0.01", "100")).empty());
  std::set<std::string> trades;
  std::vector<size_t> sizes;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    RestReply r = Call(a_, "GET",
                       "/api/v3/brokerage/orders/historical/fills?limit=10" +
                           (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    Json j(r.body);
    sizes.push_back(j.Size("/fills"));
    for (size_t i = 0; i < j.Size("/fills"); ++i) {
      trades.insert(j.Str("/fills/" + std::to_string(i) + "/trade_id"));
    }
    cursor = j.Str("/cursor");
    if (cursor.empty()) break;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  EXPECT_EQ(trades.size(), 25u);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/orders/historical/fills?cursor=x").status, 400);
}

TEST_F(ExchangeRestTest, ListAccountsReportsBalancesAndHoldsExactly) {
  // a_ sells 2 at 100.01 (0.5 taken by b_), and bids 1 at 90.
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "2", "100.01")).empty());
  ASSERT_FALSE(Accepted(Market(b_, "BUY", "base_size", "0.5")).empty());
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "1", "90")).empty());
  RestReply r = Call(a_, "GET", "/api/v3/brokerage/accounts");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  ASSERT_TRUE(j.ok) << r.body;
  ASSERT_EQ(j.Size("/accounts"), 2u) << r.body;
  EXPECT_FALSE(j.Bool("/has_next"));
  EXPECT_EQ(j.Str("/cursor"), "");
  int64_t size = 0;
  EXPECT_EQ(j.root.at_pointer("/size").get(size), simdjson::SUCCESS);
  EXPECT_EQ(size, 2);
  // BTC: 10 - 0.5 = 9.5, of which the 1.5 still offered is held.
  EXPECT_EQ(j.Str("/accounts/0/currency"), "BTC");
  EXPECT_EQ(j.Str("/accounts/0/type"), "ACCOUNT_TYPE_CRYPTO");
  EXPECT_EQ(j.Str("/accounts/0/available_balance/value"), "8");
  EXPECT_EQ(j.Str("/accounts/0/available_balance/currency"), "BTC");
  EXPECT_EQ(j.Str("/accounts/0/hold/value"), "1.5");
  EXPECT_EQ(j.Str("/accounts/0/hold/currency"), "BTC");
  // USD: 10000 + 50.005 - 0.050005 (maker fee) = 10049.954995; the bid holds 90 plus the larger
  // fee (25 bps: 0.225).
  EXPECT_EQ(j.Str("/accounts/1/currency"), "USD");
  EXPECT_EQ(j.Str("/accounts/1/type"), "ACCOUNT_TYPE_FIAT");
  EXPECT_EQ(j.Str("/accounts/1/hold/value"), "90.225");
  EXPECT_EQ(j.Str("/accounts/1/available_balance/value"), "9959.729995");
  EXPECT_EQ(j.Str("/accounts/1/name"), "USD Wallet");
  EXPECT_TRUE(j.Bool("/accounts/1/active"));
  EXPECT_TRUE(j.Bool("/accounts/1/ready"));
  EXPECT_TRUE(j.Bool("/accounts/1/default"));
  EXPECT_EQ(j.Str("/accounts/1/uuid").size(), 36u);
  EXPECT_NE(j.Str("/accounts/0/uuid"), j.Str("/accounts/1/uuid"));
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/accounts").body.find(j.Str("/accounts/1/uuid")) !=
                std::string::npos,
            true);  // stable
  simdjson::dom::element deleted;
  ASSERT_EQ(j.root.at_pointer("/accounts/0/deleted_at").get(deleted), simdjson::SUCCESS);
  EXPECT_TRUE(deleted.is_null());
  // b_: 10.5 BTC, 10000 - 50.005 - 0.1250125 = 9949.8699875 USD, nothing held.
  Json jb(Call(b_, "GET", "/api/v3/brokerage/accounts").body);
  EXPECT_EQ(jb.Str("/accounts/0/available_balance/value"), "10.5");
  EXPECT_EQ(jb.Str("/accounts/1/available_balance/value"), "9949.8699875");
  EXPECT_EQ(jb.Str("/accounts/1/hold/value"), "0");
  // One page at a time.
  Json p1(Call(a_, "GET", "/api/v3/brokerage/accounts?limit=1").body);
  ASSERT_EQ(p1.Size("/accounts"), 1u);
  EXPECT_TRUE(p1.Bool("/has_next"));
  EXPECT_EQ(p1.Str("/accounts/0/currency"), "BTC");
  Json p2(Call(a_, "GET", "/api/v3/brokerage/accounts?limit=1&cursor=" + p1.Str("/cursor")).body);
  ASSERT_EQ(p2.Size("/accounts"), 1u);
  EXPECT_FALSE(p2.Bool("/has_next"));
  EXPECT_EQ(p2.Str("/accounts/0/currency"), "USD");
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/accounts?cursor=7").status, 400);
}

TEST_F(ExchangeRestTest, ListAccountsHasOneWalletPerCurrencyAcrossProducts) {
  SimConfig c = QuietConfig(a_, b_);
  SimProductConfig eth = c.products[0];
  eth.product_id = "ETH-USD";
  eth.price_increment = "0.1";  // another quote scale: USD amounts still add exactly
  c.products.push_back(eth);
  Make(c);
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "1", "90")).empty());  // BTC-USD
  const std::string body =
      R"({"client_order_id":"e1","product_id":"ETH-USD","side":"BUY",)"
      R"("order_configuration":{"limit_limit_gtc":{"base_size":"2","limit_price":"10.5"}}})";
  ASSERT_FALSE(Accepted(Call(a_, "POST", kOrders, body)).empty());
  Json j(Call(a_, "GET", "/api/v3/brokerage/accounts").body);
  ASSERT_EQ(j.Size("/accounts"), 3u);
  EXPECT_EQ(j.Str("/accounts/0/currency"), "BTC");
  EXPECT_EQ(j.Str("/accounts/1/currency"), "USD");
  EXPECT_EQ(j.Str("/accounts/2/currency"), "ETH");
  EXPECT_EQ(j.Str("/accounts/2/available_balance/value"), "10");
  // Holds: 90 x 1.0025 + 21 x 1.0025 = 90.225 + 21.0525.
  EXPECT_EQ(j.Str("/accounts/1/hold/value"), "111.2775");
  EXPECT_EQ(j.Str("/accounts/1/available_balance/value"), "9888.7225");
}

TEST_F(ExchangeRestTest, ProductBookAndBestBidAsk) {
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "1", "99")).empty());
  ASSERT_FALSE(Accepted(Limit(b_, "BUY", "2", "99")).empty());
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "1", "98.5")).empty());
  ASSERT_FALSE(Accepted(Limit(a_, "SELL", "1", "101")).empty());
  ASSERT_FALSE(Accepted(Limit(b_, "SELL", "0.5", "102.25")).empty());
  RestReply r = Call(a_, "GET", "/api/v3/brokerage/product_book?product_id=BTC-USD&limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  ASSERT_TRUE(j.ok) << r.body;
  EXPECT_EQ(j.Str("/pricebook/product_id"), "BTC-USD");
  ASSERT_EQ(j.Size("/pricebook/bids"), 1u) << r.body;
  ASSERT_EQ(j.Size("/pricebook/asks"), 1u) << r.body;
  EXPECT_EQ(j.Str("/pricebook/bids/0/price"), "99");
  EXPECT_EQ(j.Str("/pricebook/bids/0/size"), "3");
  EXPECT_EQ(j.Str("/pricebook/asks/0/price"), "101");
  EXPECT_EQ(j.Str("/pricebook/asks/0/size"), "1");
  int64_t t = 0;
  EXPECT_TRUE(ParseRfc3339(j.Str("/pricebook/time"), &t)) << j.Str("/pricebook/time");
  EXPECT_EQ(j.Str("/mid_market"), "100");
  EXPECT_EQ(j.Str("/spread_absolute"), "2");
  EXPECT_EQ(j.Str("/spread_bps"), "200");
  EXPECT_EQ(j.Str("/last"), "100");  // no trade yet: the start price
  Json all(Call(a_, "GET", "/api/v3/brokerage/product_book?product_id=BTC-USD").body);
  ASSERT_EQ(all.Size("/pricebook/bids"), 2u);
  EXPECT_EQ(all.Str("/pricebook/bids/1/price"), "98.5");
  ASSERT_EQ(all.Size("/pricebook/asks"), 2u);
  EXPECT_EQ(all.Str("/pricebook/asks/1/price"), "102.25");
  EXPECT_EQ(all.Str("/pricebook/asks/1/size"), "0.5");
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/product_book").status, 400);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/product_book?product_id=DOGE-USD").status, 404);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/product_book?product_id=BTC-USD&limit=x").status,
            400);
  // Best bid/ask: one level each side.
  RestReply b = Call(a_, "GET", "/api/v3/brokerage/best_bid_ask?product_ids=BTC-USD");
  ASSERT_EQ(b.status, 200) << b.body;
  Json jb(b.body);
  ASSERT_EQ(jb.Size("/pricebooks"), 1u) << b.body;
  EXPECT_EQ(jb.Str("/pricebooks/0/product_id"), "BTC-USD");
  ASSERT_EQ(jb.Size("/pricebooks/0/bids"), 1u);
  EXPECT_EQ(jb.Str("/pricebooks/0/bids/0/price"), "99");
  EXPECT_EQ(jb.Str("/pricebooks/0/bids/0/size"), "3");
  EXPECT_EQ(jb.Str("/pricebooks/0/asks/0/price"), "101");
  EXPECT_EQ(Json(Call(a_, "GET", "/api/v3/brokerage/best_bid_ask").body).Size("/pricebooks"), 1u);
  EXPECT_EQ(Call(a_, "GET", "/api/v3/brokerage/best_bid_ask?product_ids=DOGE-USD").status, 404);
  // A one-sided book: no mid or spread.
  Make(QuietConfig(a_, b_));
  ASSERT_FALSE(Accepted(Limit(a_, "BUY", "1", "99")).empty());
  Json one(Call(a_, "GET", "/api/v3/brokerage/product_book?product_id=BTC-USD").body);
  EXPECT_EQ(one.Size("/pricebook/asks"), 0u);
  EXPECT_EQ(one.Str("/mid_market"), "");
  // Authenticated like the others.
  EXPECT_EQ(ex_->HandleRest("GET", "/api/v3/brokerage/best_bid_ask", "", "", now_).status, 401);
  EXPECT_EQ(ex_->HandleRest("GET", "/api/v3/brokerage/accounts", "", "", now_).status, 401);
}

TEST(ExchangeCreate, RefusesBadConfigurationNamingTheField) {
  SimConfig c;
  c.products.clear();
  EXPECT_EQ(Exchange::Create(c).status().code(), absl::StatusCode::kInvalidArgument);
  c = SimConfig{};
  c.products.push_back(c.products[0]);  // duplicate product id
  EXPECT_NE(std::string(Exchange::Create(c).status().message()).find("duplicate"),
            std::string::npos);
  c = SimConfig{};
  c.products[0].start_price = "5o000";
  const absl::Status s = Exchange::Create(c).status();
  EXPECT_NE(std::string(s.message()).find("start_price"), std::string::npos) << s;
  c = SimConfig{};
  c.api_keys.push_back(SimApiKey{.key_name = "k", .public_key_pem = "garbage"});
  EXPECT_NE(std::string(Exchange::Create(c).status().message()).find("public_key_pem"),
            std::string::npos);
  EXPECT_TRUE(Exchange::Create(SimConfig{}).ok());
}

}  // namespace
}  // namespace nzeza::sim
