// Each pre-trade check at its accept/reject boundary.
#include <gtest/gtest.h>

#include <nzeza/core/clock.h>
#include <nzeza/risk/risk_engine.h>

#include "test_util.h"

namespace nzeza {
namespace {

using risk_test::BaseConfig;
using risk_test::Bbo;
using risk_test::Buy;
using risk_test::CancelOf;
using risk_test::Exec;
using risk_test::Fill;
using risk_test::Sell;
using risk_test::Trade;

RiskReason Check(RiskCore& r, const OrderIntent& it, int64_t now = 0, OrderCmd* out = nullptr) {
  OrderCmd tmp;
  return r.CheckIntent(it, now, out ? out : &tmp).reason;
}

TEST(RiskReasonName, AllNamed) {
  for (int i = 0; i < kNumRiskReasons; ++i) {
    EXPECT_STRNE(RiskReasonName(static_cast<RiskReason>(i)), "invalid") << i;
  }
  EXPECT_STREQ(RiskReasonName(RiskReason::kMaxLongPosition), "max_long_position");
}

TEST(RiskChecks, AcceptAssignsSequentialIdsFromConfiguredStart) {
  RiskConfig c = BaseConfig();
  c.first_client_order_id = 1'000'000;
  RiskCore r(c);
  OrderIntent it = Buy(100, 10);
  it.intent_id = 77;
  it.times.signal_ns = 5;
  OrderCmd cmd;
  ASSERT_TRUE(r.CheckIntent(it, 9, &cmd).accepted());
  EXPECT_EQ(cmd.client_order_id, 1'000'000u);
  EXPECT_EQ(cmd.intent_id, 77u);
  EXPECT_EQ(cmd.origin, CmdOrigin::kStrategy);
  EXPECT_EQ(cmd.times.signal_ns, 5);
  EXPECT_EQ(cmd.times.risk_ns, 9);
  ASSERT_TRUE(r.CheckIntent(Buy(100, 10), 9, &cmd).accepted());
  EXPECT_EQ(cmd.client_order_id, 1'000'001u);
  EXPECT_EQ(r.next_client_order_id(), 1'000'002u);
}

TEST(RiskChecks, BasicValidity) {
  RiskCore r(BaseConfig());
  EXPECT_EQ(Check(r, Buy(100, 0)), RiskReason::kBadSize);
  EXPECT_EQ(Check(r, Buy(0, 10)), RiskReason::kBadPrice);
  EXPECT_EQ(Check(r, Buy(100, 10, /*id=*/1)), RiskReason::kUnknownInstrument);
  OrderIntent rep = Buy(100, 10);
  rep.type = IntentType::kReplace;
  EXPECT_EQ(Check(r, rep), RiskReason::kUnsupported);
}

TEST(RiskChecks, TickAndLot) {
  RiskCore r(BaseConfig());  // tick 5, lot 10
  EXPECT_EQ(Check(r, Buy(105, 20)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(106, 20)), RiskReason::kTickSize);
  EXPECT_EQ(Check(r, Buy(105, 21)), RiskReason::kLotSize);
}

TEST(RiskChecks, MaxOrderSize) {
  RiskConfig c = BaseConfig();
  c.instruments[0].max_order_size = 1000;
  RiskCore r(c);
  EXPECT_EQ(Check(r, Buy(100, 1000)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 1010)), RiskReason::kMaxOrderSize);
}

TEST(RiskChecks, MaxOrderNotional) {
  RiskConfig c = BaseConfig();
  // price 100 (1.00) x size 1000 (0.1000) = 0.1 -> 10'000'000 at scale 8.
  c.instruments[0].max_order_notional = 10'000'000;
  RiskCore r(c);
  EXPECT_EQ(Check(r, Buy(100, 1000)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(105, 1000)), RiskReason::kMaxOrderNotional);  // one tick beyond
  EXPECT_EQ(Check(r, Sell(100, 1010)), RiskReason::kMaxOrderNotional);  // one lot beyond
}

TEST(RiskChecks, CollarBpsAgainstMid) {
  RiskConfig c = BaseConfig();
  c.instruments[0].tick_size = 1;
  c.instruments[0].collar_bps = 100;  // 1 %
  c.self_match_prevention = false;
  RiskCore r(c);
  EXPECT_EQ(Check(r, Buy(10000, 10)), RiskReason::kNoReferencePrice);
  r.OnMarketData(Bbo(9990, 10010), 0);  // mid 10000
  EXPECT_EQ(Check(r, Buy(10100, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(10101, 10)), RiskReason::kPriceCollar);
  EXPECT_EQ(Check(r, Sell(9900, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(9899, 10)), RiskReason::kPriceCollar);
}

TEST(RiskChecks, CollarTicksAgainstLastTrade) {
  RiskConfig c = BaseConfig();
  c.instruments[0].collar_reference = CollarReference::kLastTrade;
  c.instruments[0].collar_ticks = 3;  // tick 5 -> 15 mantissa units
  c.self_match_prevention = false;
  RiskCore r(c);
  r.OnMarketData(Bbo(990, 1010), 0);
  EXPECT_EQ(Check(r, Buy(1000, 10)), RiskReason::kNoReferencePrice);  // no trade yet
  r.OnMarketData(Trade(1000), 0);
  EXPECT_EQ(Check(r, Buy(1015, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(1020, 10)), RiskReason::kPriceCollar);
  EXPECT_EQ(Check(r, Sell(985, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(980, 10)), RiskReason::kPriceCollar);
}

TEST(RiskChecks, CollarVenueBand) {
  RiskConfig c = BaseConfig();
  c.instruments[0].collar_reference = CollarReference::kVenueBand;
  c.self_match_prevention = false;
  RiskCore r(c);
  EXPECT_EQ(Check(r, Buy(1000, 10)), RiskReason::kNoReferencePrice);
  EXPECT_FALSE(r.SetVenueBand(0, 10, 5));
  ASSERT_TRUE(r.SetVenueBand(0, 900, 1100));
  EXPECT_EQ(Check(r, Buy(1100, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(1105, 10)), RiskReason::kPriceCollar);
  EXPECT_EQ(Check(r, Sell(900, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(895, 10)), RiskReason::kPriceCollar);
}

TEST(RiskChecks, MarketOrders) {
  RiskConfig c = BaseConfig();
  OrderIntent m = Buy(0, 10);
  m.order_type = OrderType::kMarket;
  {
    RiskCore r(c);
    EXPECT_EQ(Check(r, m), RiskReason::kMarketOrderNotAllowed);
  }
  c.instruments[0].allow_market_orders = true;
  c.instruments[0].max_order_notional = 1000 * 10 * 100;  // valued at the ask, 1000
  RiskCore r(c);
  EXPECT_EQ(Check(r, m), RiskReason::kNoReferencePrice);
  r.OnMarketData(Bbo(990, 1000), 0);
  EXPECT_EQ(Check(r, m), RiskReason::kNone);
  r.OnMarketData(Bbo(990, 1005), 0);
  EXPECT_EQ(Check(r, m), RiskReason::kMaxOrderNotional);
}

TEST(RiskChecks, PositionLimitsCountWorkingOrders) {
  RiskConfig c = BaseConfig();
  c.instruments[0].max_long = 100;
  c.instruments[0].max_short = 50;
  c.self_match_prevention = false;
  RiskCore r(c);
  OrderCmd a;
  ASSERT_EQ(Check(r, Buy(100, 60), 0, &a), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 50)), RiskReason::kMaxLongPosition);  // 60 working + 50 > 100
  EXPECT_EQ(Check(r, Buy(100, 40)), RiskReason::kNone);             // exactly 100
  EXPECT_EQ(Check(r, Buy(100, 10)), RiskReason::kMaxLongPosition);
  EXPECT_EQ(Check(r, Sell(100, 50)), RiskReason::kNone);  // short side counted separately
  EXPECT_EQ(Check(r, Sell(100, 10)), RiskReason::kMaxShortPosition);
  // A fill moves size from working to position: the sum is unchanged.
  r.OnExec(Fill(a, 100, 60, 0), 0);
  EXPECT_EQ(r.position(0), 60);
  EXPECT_EQ(r.working_buy(0), 40);
  EXPECT_EQ(Check(r, Buy(100, 10)), RiskReason::kMaxLongPosition);
  // A long position makes room on the short side: -50 limit vs 60 - 50 working - new.
  EXPECT_EQ(Check(r, Sell(100, 60)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(100, 10)), RiskReason::kMaxShortPosition);
}

TEST(RiskChecks, CancelRequestFreesNothingUntilCanceled) {
  RiskConfig c = BaseConfig();
  c.instruments[0].max_open_orders = 1;
  RiskCore r(c);
  OrderCmd a, cx;
  ASSERT_EQ(Check(r, Buy(100, 10), 0, &a), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 20)), RiskReason::kMaxOpenOrders);
  ASSERT_EQ(Check(r, CancelOf(a.client_order_id), 0, &cx), RiskReason::kNone);
  EXPECT_EQ(cx.type, CmdType::kCancel);
  EXPECT_EQ(cx.orig_client_order_id, a.client_order_id);
  EXPECT_EQ(Check(r, Buy(100, 20)), RiskReason::kMaxOpenOrders);  // still working
  r.OnExec(Exec(ExecType::kCanceled, a), 0);
  EXPECT_EQ(Check(r, Buy(100, 20)), RiskReason::kNone);
  EXPECT_EQ(Check(r, CancelOf(999)), RiskReason::kUnknownOrder);
}

TEST(RiskChecks, MaxOpenOrdersTotal) {
  RiskConfig c = BaseConfig();
  c.instruments.push_back(c.instruments[0]);
  c.max_open_orders_total = 2;
  RiskCore r(c);
  EXPECT_EQ(Check(r, Buy(100, 10, 0)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 10, 1)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 20, 1)), RiskReason::kMaxOpenOrdersTotal);
}

TEST(RiskChecks, GrossNotional) {
  RiskConfig c = BaseConfig();
  c.max_gross_notional = 2 * 100 * 100 * 100;  // two orders of 100 x 100
  c.self_match_prevention = false;
  RiskCore r(c);
  OrderCmd a;
  ASSERT_EQ(Check(r, Buy(100, 100), 0, &a), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(105, 100)), RiskReason::kMaxGrossNotional);
  EXPECT_EQ(Check(r, Sell(100, 100)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Sell(5, 10)), RiskReason::kMaxGrossNotional);
  // A fill turns working notional into position cost: still counted.
  r.OnExec(Fill(a, 100, 100, 0), 0);
  EXPECT_EQ(r.position_cost_notional(), 100 * 100 * 100);
  EXPECT_EQ(Check(r, Sell(5, 10)), RiskReason::kMaxGrossNotional);
}

TEST(RiskChecks, CreditIncludesWorkingOrdersAndRealizedPnl) {
  RiskConfig c = BaseConfig();
  c.capital = 100 * 100 * 100;  // one order of 100 x 100
  c.self_match_prevention = false;
  RiskCore r(c);
  OrderCmd a;
  ASSERT_EQ(Check(r, Buy(100, 100), 0, &a), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(5, 10)), RiskReason::kCredit);
  r.OnExec(Fill(a, 100, 100, 0), 0);  // long 100 @ 1.00
  OrderCmd s;
  EXPECT_EQ(Check(r, Buy(5, 10)), RiskReason::kCredit);    // position cost uses the capital
  EXPECT_EQ(Check(r, Sell(110, 100)), RiskReason::kNone);  // reducing: exempt
  // Closing at 1.10 realizes 10 x 100 x 100 = +100'000 profit: room for exactly that.
  RiskConfig c2 = BaseConfig();
  c2.capital = 2'100'000;  // position cost 1'000'000 + the 1.10 x 100 sell
  c2.self_match_prevention = false;
  RiskCore r2(c2);
  ASSERT_EQ(Check(r2, Buy(100, 100), 0, &a), RiskReason::kNone);
  r2.OnExec(Fill(a, 100, 100, 0), 0);
  ASSERT_EQ(Check(r2, Sell(110, 100), 0, &s), RiskReason::kNone);
  r2.OnExec(Fill(s, 110, 100, 0), 0);
  EXPECT_EQ(r2.position(0), 0);
  EXPECT_EQ(r2.realized_pnl(), 10 * 100 * 100);
  EXPECT_EQ(Check(r2, Buy(100, 220)), RiskReason::kNone);  // 2'200'000 = 2'100'000 + 100'000
  EXPECT_EQ(Check(r2, Buy(5, 10)), RiskReason::kCredit);
}

TEST(RiskChecks, ThrottleSlidingWindow) {
  RiskConfig c = BaseConfig();
  c.throttle_max_msgs = 3;
  c.throttle_window_ns = 1000;
  c.self_match_prevention = false;
  RiskCore r(c);
  OrderCmd a;
  ASSERT_EQ(Check(r, Buy(100, 10), 0, &a), RiskReason::kNone);
  ASSERT_EQ(Check(r, Buy(100, 20), 500), RiskReason::kNone);
  ASSERT_EQ(Check(r, CancelOf(a.client_order_id), 600), RiskReason::kNone);  // cancels count
  EXPECT_EQ(Check(r, Buy(100, 30), 999), RiskReason::kThrottle);
  EXPECT_EQ(Check(r, CancelOf(a.client_order_id), 999), RiskReason::kThrottle);
  EXPECT_EQ(Check(r, Buy(100, 30), 1000), RiskReason::kNone);  // first one left the window
  EXPECT_EQ(Check(r, Buy(100, 40), 1499), RiskReason::kThrottle);
  EXPECT_EQ(Check(r, Buy(100, 40), 1500), RiskReason::kNone);
}

TEST(RiskChecks, DuplicateWithinWindow) {
  RiskConfig c = BaseConfig();
  c.duplicate_window_ns = 100;
  RiskCore r(c);
  ASSERT_EQ(Check(r, Buy(100, 10), 0), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 10), 99), RiskReason::kDuplicateOrder);
  EXPECT_EQ(Check(r, Buy(100, 20), 99), RiskReason::kNone);   // other size
  EXPECT_EQ(Check(r, Buy(105, 10), 99), RiskReason::kNone);   // other price
  EXPECT_EQ(Check(r, Buy(100, 10), 100), RiskReason::kNone);  // window over
}

TEST(RiskChecks, SelfMatchPrevention) {
  RiskCore r(BaseConfig());
  OrderCmd s1, s2;
  ASSERT_EQ(Check(r, Sell(1000, 10), 0, &s1), RiskReason::kNone);
  ASSERT_EQ(Check(r, Sell(1010, 10), 0, &s2), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(995, 10)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(1000, 10)), RiskReason::kSelfMatch);
  EXPECT_EQ(Check(r, Sell(995, 10)), RiskReason::kSelfMatch);  // crosses our 995 bid
  // The best ask leaves: the next one (1010) becomes the reference.
  r.OnExec(Exec(ExecType::kCanceled, s1), 0);
  EXPECT_EQ(Check(r, Buy(1005, 20)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(1010, 20)), RiskReason::kSelfMatch);
}

TEST(RiskChecks, WorkingTableFull) {
  RiskConfig c = BaseConfig();
  c.working_capacity = 2;
  RiskCore r(c);
  OrderCmd a;
  ASSERT_EQ(Check(r, Buy(100, 10), 0, &a), RiskReason::kNone);
  ASSERT_EQ(Check(r, Buy(100, 20)), RiskReason::kNone);
  EXPECT_EQ(Check(r, Buy(100, 30)), RiskReason::kWorkingTableFull);
  r.OnExec(Exec(ExecType::kReject, a), 0);
  EXPECT_EQ(Check(r, Buy(100, 30)), RiskReason::kNone);
}

TEST(RiskChecks, PnlAverageCostAndFees) {
  RiskCore r(BaseConfig());
  OrderCmd b1, b2, s;
  ASSERT_EQ(Check(r, Buy(100, 100), 0, &b1), RiskReason::kNone);
  ASSERT_EQ(Check(r, Buy(200, 100), 0, &b2), RiskReason::kNone);
  r.OnExec(Fill(b1, 100, 100, 0), 0);
  ExecEvent f = Fill(b2, 200, 100, 0);
  f.fee = 7;
  r.OnExec(f, 0);
  ASSERT_EQ(Check(r, Sell(300, 300), 0, &s), RiskReason::kNone);  // flips to short 100
  r.OnExec(Fill(s, 300, 300, 0), 0);
  EXPECT_EQ(r.position(0), -100);
  // avg cost 150: realized (300 - 150) x 200 = 30'000 at scale 6 -> x100 at scale 8.
  EXPECT_EQ(r.realized_pnl(), 30'000 * 100);
  EXPECT_EQ(r.fees(), 7);
  r.OnMarketData(Bbo(250, 250 + 10), 0);  // mid 255: short 100 from 300 -> +4500
  EXPECT_EQ(r.unrealized_pnl(), 4'500 * 100);
}

}  // namespace
}  // namespace nzeza
