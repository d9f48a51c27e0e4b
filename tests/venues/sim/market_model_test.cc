// The seeded market model (venues/sim/market_model.h) and the exchange driven by it: determinism
// for a seed and a time sequence, trades that happen and fill resting quotes, conservation of
// base and quote across every account, participant and the venue's fees, bounded work per
// Advance.
#include "nzeza/venues/sim/market_model.h"

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nzeza/venues/sim/exchange.h"
#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::FreshKey;
using testing::RestJwt;
using testing::TestKey;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kMs = 1'000'000;

MarketModelParams Params() {
  MarketModelParams p;
  p.start_price = 5'000'000;  // 50000.00
  p.tick = 1;
  p.lot = 1;
  p.min_size = 1000;
  p.max_size = 50'000'000;
  p.volatility_bps = 20;
  p.orders_per_sec = 200;
  p.seed_levels = 50;
  p.step_ns = kMs;
  return p;
}

TEST(MarketModel, SameSeedSameStreamOtherSeedDiffers) {
  MarketModel a(Params(), 11), b(Params(), 11), c(Params(), 12);
  EXPECT_EQ(a.SeedBook().size(), 100u);
  b.SeedBook();
  c.SeedBook();
  bool differs = false;
  BookTop top;
  for (int i = 0; i < 5000; ++i) {
    const int na = a.Step(), nb = b.Step(), nc = c.Step();
    ASSERT_EQ(na, nb);
    for (int k = 0; k < na; ++k) {
      const ParticipantAction x = a.NextAction(top, 10), y = b.NextAction(top, 10);
      ASSERT_EQ(static_cast<int>(x.kind), static_cast<int>(y.kind));
      ASSERT_EQ(x.price, y.price);
      ASSERT_EQ(x.size, y.size);
    }
    for (int k = 0; k < nc; ++k) c.NextAction(top, 10);
    differs |= a.mid() != c.mid();
  }
  EXPECT_EQ(a.mid(), b.mid());
  EXPECT_TRUE(differs);
}

TEST(MarketModel, WalkHasTheConfiguredVolatilityAndArrivalRate) {
  // Over 1 s of 1 ms steps the mid moves by sigma = 20 bps x 50000 = 100.00 (10000 ticks) in
  // distribution; across seeds the mean squared one-second move is within a loose band of it.
  double sum_sq = 0;  // statistics in the test only
  int64_t arrivals = 0;
  const int kSeeds = 200;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    MarketModel m(Params(), static_cast<uint64_t>(seed));
    const int64_t start = m.mid();
    for (int i = 0; i < 1000; ++i) arrivals += m.Step();
    const double d = static_cast<double>(m.mid() - start);
    sum_sq += d * d;
  }
  const double rms = std::sqrt(sum_sq / kSeeds);
  EXPECT_GT(rms, 8000);
  EXPECT_LT(rms, 12000);
  // 200 orders/s: about 200 arrivals per second per seed.
  EXPECT_GT(arrivals, 180 * kSeeds);
  EXPECT_LT(arrivals, 220 * kSeeds);
  EXPECT_EQ(MarketModel(Params(), 1).spacing(), 1000);  // a tenth of the 1 s move: 10.00
}

SimConfig LiveConfig(const TestKey& k, uint64_t seed) {
  SimConfig c;
  c.seed = seed;
  c.rest_host = "h";
  c.rest_rate_limit_per_sec = 0;
  SimProductConfig btc;  // defaults: 50000, 20 bps, 200 orders/s, 50 levels
  SimProductConfig eth;
  eth.product_id = "ETH-USD";
  eth.start_price = "3000.00";
  eth.participant_max_size = "5";
  c.products = {btc, eth};
  c.api_keys = {SimApiKey{.key_name = k.name, .public_key_pem = k.public_pem}};
  return c;
}

// Runs `seconds` of simulated time in 10 ms Advance calls with one subscriber; returns every
// frame it received.
std::vector<std::string> RunFor(Exchange& ex, int seconds) {
  auto s = ex.OpenSession();
  s->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"})",
                  kT0);
  s->OnClientText(
      R"({"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"market_trades"})", kT0);
  std::vector<std::string> frames;
  for (int64_t t = kT0; t <= kT0 + seconds * 1'000'000'000LL; t += 10 * kMs) {
    ex.Advance(t);
    s->Drain(t, &frames);
  }
  return frames;
}

TEST(ExchangeModel, DeterministicForASeedAndTimeSequence) {
  const TestKey k = FreshKey("k");
  auto a = Exchange::Create(LiveConfig(k, 5));
  auto b = Exchange::Create(LiveConfig(k, 5));
  auto c = Exchange::Create(LiveConfig(k, 6));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const std::vector<std::string> fa = RunFor(**a, 3);
  const std::vector<std::string> fb = RunFor(**b, 3);
  const std::vector<std::string> fc = RunFor(**c, 3);
  EXPECT_EQ(fa, fb);
  EXPECT_NE(fa, fc);
  EXPECT_GT(fa.size(), 100u);
  EXPECT_EQ((*a)->Totals()[0].mid, (*b)->Totals()[0].mid);
}

TEST(ExchangeModel, TradesHappenQuotesGetFilledAndEverythingIsConserved) {
  const TestKey k = FreshKey("organizations/sim/apiKeys/mm");
  auto ex_or = Exchange::Create(LiveConfig(k, 9));
  ASSERT_TRUE(ex_or.ok()) << ex_or.status();
  Exchange& ex = **ex_or;
  const std::string path = "/api/v3/brokerage/orders";
  int64_t t = kT0;
  int coid = 0;
  // A market maker that re-quotes both sides one spacing around the best prices every 100 ms.
  for (int i = 0; i < 100; ++i) {
    for (int j = 0; j < 10; ++j) {
      t += 10 * kMs;
      ex.Advance(t);
    }
    const ProductTotals p = ex.Totals()[0];
    ASSERT_GT(p.best_bid, 0);
    ASSERT_GT(p.best_ask, p.best_bid);
    for (int side = 0; side < 2; ++side) {
      const int64_t px = side == 0 ? p.best_bid : p.best_ask;
      const std::string body =
          "{\"client_order_id\":\"q" + std::to_string(++coid) +
          "\",\"product_id\":\"BTC-USD\",\"side\":\"" + (side == 0 ? "BUY" : "SELL") +
          "\",\"order_configuration\":{\"limit_limit_gtc\":{\"base_size\":\"0.01\","
          "\"limit_price\":\"" +
          std::to_string(px / 100) + "." + std::to_string(px % 100 / 10) + std::to_string(px % 10) +
          "\"}}}";
      RestReply r =
          ex.HandleRest("POST", path, "Bearer " + RestJwt(k, "POST", "h", path, t), body, t);
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
  const AccountView v = ex.Account(k.name);
  ASSERT_TRUE(v.found);
  EXPECT_GT(v.products[0].fills, 0) << "our quotes were never filled";
  for (const ProductTotals& p : ex.Totals()) {
    EXPECT_GT(p.trades, 50) << p.product_id;
    EXPECT_EQ(p.accounts_base + p.participants_base, 0) << p.product_id;
    EXPECT_EQ(p.accounts_quote + p.participants_quote + p.venue_fees, 0) << p.product_id;
    EXPECT_GT(p.resting_orders, 20) << p.product_id;
    EXPECT_LT(p.resting_orders, 2000) << p.product_id;
  }
}

TEST(ExchangeModel, AdvanceAfterALongAbsenceDoesBoundedWork) {
  const TestKey k = FreshKey("k");
  auto ex = Exchange::Create(LiveConfig(k, 1));
  ASSERT_TRUE(ex.ok());
  (*ex)->Advance(kT0);
  const auto start = std::chrono::steady_clock::now();
  (*ex)->Advance(kT0 + 24LL * 3600 * 1'000'000'000);  // a day later
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  const auto totals = (*ex)->Totals();
  EXPECT_EQ(totals[0].accounts_base + totals[0].participants_base, 0);
}

}  // namespace
}  // namespace nzeza::sim
