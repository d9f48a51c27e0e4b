// The simulated exchange's REST side (venues/sim/exchange.h): order entry, matching through the
// Advanced Trade endpoints, fees, balances, validation, authentication, rate limit, faults and
// robustness. The market model is off here (no participants, no seeded book) so every fill is
// one these tests caused.
#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "nzeza/venues/sim/exchange.h"
#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::DocKey;
using testing::FreshKey;
using testing::RestJwt;
using testing::TestKey;

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
