// Circuit breaker and kill switch under a ManualClock: every trip condition, recovery through
// half-open, cancels on open, risk-reducing orders while open, the latched kill switch.
#include <gtest/gtest.h>

#include <vector>

#include <nzeza/core/clock.h>
#include <nzeza/risk/risk_engine.h>

#include "test_util.h"

namespace nzeza {
namespace {

using risk_test::BaseConfig;
using risk_test::Bbo;
using risk_test::Buy;
using risk_test::Exec;
using risk_test::Fill;
using risk_test::Sell;
using risk_test::Status;
using risk_test::Trade;

constexpr int64_t kMs = 1'000'000;

class BreakerTest : public ::testing::Test {
 protected:
  void Make(const RiskConfig& c) { risk_ = std::make_unique<RiskEngine<ManualClock>>(c, clock_); }
  static RiskConfig Config() {
    RiskConfig c = BaseConfig();
    c.breaker.cooldown_ns = 100 * kMs;
    return c;
  }
  std::vector<BreakerEvent> Events() {
    std::vector<BreakerEvent> v;
    BreakerEvent e;
    while (risk_->PopBreakerEvent(&e)) v.push_back(e);
    return v;
  }
  std::vector<OrderCmd> Cmds() {
    std::vector<OrderCmd> v;
    OrderCmd c;
    while (risk_->PopCommand(&c)) v.push_back(c);
    return v;
  }
  RiskReason Check(const OrderIntent& it, OrderCmd* out = nullptr) {
    OrderCmd tmp;
    return risk_->CheckIntent(it, out ? out : &tmp).reason;
  }
  // Asserts exactly one transition closed -> open with `cause`.
  void ExpectTripped(BreakerCause cause) {
    std::vector<BreakerEvent> ev = Events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].from, BreakerState::kClosed);
    EXPECT_EQ(ev[0].to, BreakerState::kOpen);
    EXPECT_EQ(ev[0].cause, cause) << BreakerCauseName(ev[0].cause);
    EXPECT_EQ(ev[0].at_ns, clock_.NowNanos());
    EXPECT_EQ(risk_->state(), BreakerState::kOpen);
    EXPECT_EQ(Check(Buy(100, 10)), RiskReason::kBreakerOpen);
  }

  ManualClock clock_{1'000 * kMs};
  std::unique_ptr<RiskEngine<ManualClock>> risk_;
};

TEST_F(BreakerTest, NamesAreStable) {
  EXPECT_STREQ(BreakerStateName(BreakerState::kHalfOpen), "half_open");
  EXPECT_STREQ(BreakerCauseName(BreakerCause::kPriceMove), "price_move");
}

TEST_F(BreakerTest, FeedStaleByTime) {
  RiskConfig c = Config();
  c.breaker.stale_after_ns = 50 * kMs;
  Make(c);
  risk_->Poll();  // no data yet: nothing is stale
  risk_->OnMarketData(Bbo(100, 110));
  clock_.Advance(50 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);  // exactly at the budget
  clock_.Advance(1);
  risk_->Poll();
  ExpectTripped(BreakerCause::kFeedStale);
  // Still stale: the cooldown cannot elapse.
  clock_.Advance(200 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);
  // Fresh data every 40 ms: the cooldown runs from the last stale Poll.
  for (int i = 0; i < 3; ++i) {
    risk_->OnMarketData(Bbo(100, 110));
    risk_->Poll();
    EXPECT_EQ(risk_->state(), BreakerState::kOpen);
    clock_.Advance(40 * kMs);
  }
  risk_->OnMarketData(Bbo(100, 110));
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, FeedStaleStatus) {
  Make(Config());
  risk_->OnMarketData(Status(MdStatus::kStale));
  ExpectTripped(BreakerCause::kFeedStale);
  clock_.Advance(100 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);  // stale until data flows again
  risk_->OnMarketData(Trade(100));
  clock_.Advance(100 * kMs - 1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);  // cooldown counts from the clearing
  clock_.Advance(1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, SequenceGapImmediate) {
  Make(Config());
  risk_->OnMarketData(Status(MdStatus::kGap));
  ExpectTripped(BreakerCause::kSequenceGap);
  clock_.Advance(100 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);  // unresolved
  risk_->OnMarketData(Status(MdStatus::kResynced));
  clock_.Advance(100 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, SequenceGapUnresolvedAfterGrace) {
  RiskConfig c = Config();
  c.breaker.gap_grace_ns = 20 * kMs;
  Make(c);
  risk_->OnMarketData(Status(MdStatus::kGap));
  clock_.Advance(20 * kMs - 1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  risk_->OnMarketData(Status(MdStatus::kResynced));  // resolved in time
  clock_.Advance(kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  risk_->OnMarketData(Status(MdStatus::kGap));
  clock_.Advance(20 * kMs);
  risk_->Poll();
  ExpectTripped(BreakerCause::kSequenceGap);
}

TEST_F(BreakerTest, CrossedBookStatusAndBbo) {
  Make(Config());
  risk_->OnMarketData(Status(MdStatus::kCrossed));
  ExpectTripped(BreakerCause::kCrossedBook);
  clock_.Advance(100 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);  // still crossed
  risk_->OnMarketData(Status(MdStatus::kUncrossed));
  clock_.Advance(100 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);

  Make(Config());
  risk_->OnMarketData(Bbo(100, 100));
  ExpectTripped(BreakerCause::kCrossedBook);
}

TEST_F(BreakerTest, RejectBurstInWindow) {
  RiskConfig c = Config();
  c.breaker.reject_burst_count = 3;
  c.breaker.reject_burst_window_ns = 10 * kMs;
  Make(c);
  ExecEvent rej;
  rej.type = ExecType::kReject;
  risk_->OnExec(rej);
  clock_.Advance(5 * kMs);
  risk_->OnExec(rej);
  clock_.Advance(5 * kMs);
  risk_->OnExec(rej);  // first one exactly 10 ms ago: outside the window
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  clock_.Advance(kMs);
  risk_->OnExec(rej);  // 3 within (now - 10 ms, now]
  ExpectTripped(BreakerCause::kRejectBurst);
}

TEST_F(BreakerTest, RingOverrun) {
  Make(Config());
  risk_->OnRingOverrun();
  ExpectTripped(BreakerCause::kRingOverrun);
}

TEST_F(BreakerTest, LatencyOverBudget) {
  RiskConfig c = Config();
  c.breaker.latency_budget_ns = 20'000;
  Make(c);
  risk_->OnLatencySample(20'000);
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  risk_->OnLatencySample(20'001);
  ExpectTripped(BreakerCause::kLatency);
}

TEST_F(BreakerTest, PriceMoveWithinWindow) {
  RiskConfig c = Config();
  c.breaker.price_move_bps = 100;  // 1 %
  c.breaker.price_move_window_ns = 10 * kMs;
  Make(c);
  risk_->OnMarketData(Trade(10000));
  clock_.Advance(5 * kMs);
  risk_->OnMarketData(Trade(10100));  // exactly 1 %: fine
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  clock_.Advance(30 * kMs);  // long after: new baseline
  risk_->OnMarketData(Trade(10300));
  clock_.Advance(3 * kMs);
  risk_->OnMarketData(Trade(10196));  // down 1.0097 % from 10300 within 3 ms
  ExpectTripped(BreakerCause::kPriceMove);
}

TEST_F(BreakerTest, LossLimitLatchesKillSwitch) {
  RiskConfig c = Config();
  c.max_daily_loss = 50 * 100 * 100;  // 0.50 x 100 lots
  Make(c);
  OrderCmd b;
  ASSERT_EQ(Check(Buy(1000, 100), &b), RiskReason::kNone);
  risk_->OnExec(Fill(b, 1000, 100, 0));
  risk_->OnMarketData(Bbo(945, 965));  // mid 955: -45 x 100
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  risk_->OnMarketData(Bbo(940, 960));  // mid 950: -50 x 100 = the limit
  std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to, BreakerState::kKilled);
  EXPECT_EQ(ev[0].cause, BreakerCause::kLossLimit);
  EXPECT_EQ(Check(Sell(950, 10)), RiskReason::kKillSwitch);
  clock_.Advance(1'000'000 * kMs);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kKilled);  // latched
}

TEST_F(BreakerTest, CancelsEmittedOnOpenOnceEach) {
  RiskConfig cfg = Config();
  cfg.breaker.cooldown_ns = 10'000 * kMs;  // stays open while the retries below are timed
  Make(cfg);
  OrderCmd a, b, done;
  ASSERT_EQ(Check(Buy(100, 10), &a), RiskReason::kNone);
  ASSERT_EQ(Check(Buy(100, 20), &b), RiskReason::kNone);
  ASSERT_EQ(Check(Buy(100, 30), &done), RiskReason::kNone);
  risk_->OnExec(Exec(ExecType::kCanceled, done));
  risk_->OnRingOverrun();
  std::vector<OrderCmd> cmds = Cmds();
  ASSERT_EQ(cmds.size(), 2u);
  for (const OrderCmd& c : cmds) {
    EXPECT_EQ(c.type, CmdType::kCancel);
    EXPECT_EQ(c.origin, CmdOrigin::kBreaker);
    EXPECT_TRUE(c.orig_client_order_id == a.client_order_id ||
                c.orig_client_order_id == b.client_order_id);
    EXPECT_GE(c.client_order_id, done.client_order_id + 1);
  }
  risk_->OnRingOverrun();  // still open: no second round
  EXPECT_TRUE(Cmds().empty());
  // A cancel the venue refused is sent again, after kCancelRetryNs: not on every poll (issue 6,
  // item 3: a refused cancel used to be re-sent on every poll, a loop of journal records).
  risk_->OnExec(Exec(ExecType::kCancelReject, a));
  risk_->Poll();
  EXPECT_TRUE(Cmds().empty());
  clock_.Advance(RiskCore::kCancelRetryNs - 1);
  risk_->Poll();
  EXPECT_TRUE(Cmds().empty());
  clock_.Advance(1);
  risk_->Poll();
  cmds = Cmds();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].orig_client_order_id, a.client_order_id);
  // A cancel without a definite answer: the order stays working and the cancel is sent again.
  // The wait doubles while refusals continue.
  ExecEvent doubt = Exec(ExecType::kInDoubt, b);
  doubt.request = CmdType::kCancel;
  risk_->OnExec(doubt);
  clock_.Advance(RiskCore::kCancelRetryNs);
  risk_->Poll();
  EXPECT_TRUE(Cmds().empty());
  clock_.Advance(RiskCore::kCancelRetryNs);
  risk_->Poll();
  cmds = Cmds();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].orig_client_order_id, b.client_order_id);
  // A refusal saying the venue no longer has it working is not retried: its end will come.
  ExecEvent gone = Exec(ExecType::kCancelReject, b);
  gone.reject_code = static_cast<uint16_t>(RiskCore::VenueRejectCode::kUnknownOrder);
  risk_->OnExec(gone);
  clock_.Advance(100 * RiskCore::kCancelRetryNs);
  risk_->Poll();
  EXPECT_TRUE(Cmds().empty());
  // Working orders still count until the venue ends them.
  EXPECT_EQ(risk_->open_orders(0), 2);
}

// Issue 6, item 1: a create without a definite answer keeps its full exposure.
TEST_F(BreakerTest, CreateInDoubtKeepsItsExposure) {
  Make(Config());
  OrderCmd a;
  ASSERT_EQ(Check(Buy(100, 10), &a), RiskReason::kNone);
  ExecEvent doubt = Exec(ExecType::kInDoubt, a);
  doubt.request = CmdType::kNew;
  risk_->OnExec(doubt);
  EXPECT_EQ(risk_->open_orders(0), 1);
  risk_->OnRingOverrun();  // the breaker cancels it like any working order
  std::vector<OrderCmd> cmds = Cmds();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].orig_client_order_id, a.client_order_id);
  risk_->OnExec(Exec(ExecType::kCanceled, a));
  EXPECT_EQ(risk_->open_orders(0), 0);
}

TEST_F(BreakerTest, RiskReducingOrdersOnlyIfConfigured) {
  for (bool allow : {false, true}) {
    RiskConfig c = Config();
    c.breaker.allow_reducing_when_open = allow;
    c.self_match_prevention = false;
    Make(c);
    OrderCmd b;
    ASSERT_EQ(Check(Buy(100, 100), &b), RiskReason::kNone);
    risk_->OnExec(Fill(b, 100, 100, 0));  // long 100
    risk_->OnRingOverrun();
    EXPECT_EQ(Check(Buy(100, 10)), RiskReason::kBreakerOpen);  // increases
    if (!allow) {
      EXPECT_EQ(Check(Sell(100, 10)), RiskReason::kBreakerOpen);
      continue;
    }
    EXPECT_EQ(Check(Sell(100, 60)), RiskReason::kNone);
    EXPECT_EQ(Check(Sell(100, 40)), RiskReason::kNone);         // exactly flat with working
    EXPECT_EQ(Check(Sell(100, 10)), RiskReason::kBreakerOpen);  // would flip short
  }
}

TEST_F(BreakerTest, CooldownHalfOpenProbeClosed) {
  RiskConfig c = Config();
  c.breaker.probe_orders = 1;
  Make(c);
  risk_->OnRingOverrun();
  Events();
  clock_.Advance(100 * kMs - 1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);
  clock_.Advance(1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);
  OrderCmd probe;
  ASSERT_EQ(Check(Buy(100, 10), &probe), RiskReason::kNone);
  EXPECT_EQ(Check(Buy(100, 20)), RiskReason::kBreakerOpen);  // probe budget used
  risk_->OnExec(Exec(ExecType::kAck, probe));
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  EXPECT_EQ(Check(Buy(100, 20)), RiskReason::kNone);
  std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].from, BreakerState::kOpen);
  EXPECT_EQ(ev[0].to, BreakerState::kHalfOpen);
  EXPECT_EQ(ev[0].cause, BreakerCause::kCooldownElapsed);
  EXPECT_EQ(ev[1].to, BreakerState::kClosed);
  EXPECT_EQ(ev[1].cause, BreakerCause::kProbeSucceeded);
}

TEST_F(BreakerTest, HalfOpenFailedProbeReopens) {
  Make(Config());
  risk_->OnRingOverrun();
  clock_.Advance(100 * kMs);
  risk_->Poll();
  ASSERT_EQ(risk_->state(), BreakerState::kHalfOpen);
  OrderCmd probe;
  ASSERT_EQ(Check(Buy(100, 10), &probe), RiskReason::kNone);
  Events();
  risk_->OnExec(Exec(ExecType::kReject, probe));
  std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].from, BreakerState::kHalfOpen);
  EXPECT_EQ(ev[0].to, BreakerState::kOpen);
  EXPECT_EQ(ev[0].cause, BreakerCause::kProbeFailed);
  // The cooldown starts again.
  clock_.Advance(100 * kMs - 1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);
  clock_.Advance(1);
  risk_->Poll();
  EXPECT_EQ(risk_->state(), BreakerState::kHalfOpen);
  // Any trip while half-open reopens too.
  risk_->OnRingOverrun();
  EXPECT_EQ(risk_->state(), BreakerState::kOpen);
}

TEST_F(BreakerTest, KillSwitchLatchedUntilResume) {
  Make(Config());
  OrderCmd a;
  ASSERT_EQ(Check(Buy(100, 10), &a), RiskReason::kNone);
  EXPECT_FALSE(risk_->Resume());  // nothing to resume
  risk_->Kill();
  std::vector<OrderCmd> cmds = Cmds();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].origin, CmdOrigin::kKillSwitch);
  EXPECT_EQ(cmds[0].orig_client_order_id, a.client_order_id);
  EXPECT_EQ(Check(Buy(100, 20)), RiskReason::kKillSwitch);
  clock_.Advance(10 * 100 * kMs);
  risk_->Poll();
  risk_->OnRingOverrun();
  EXPECT_EQ(risk_->state(), BreakerState::kKilled);
  // Cancels stay allowed.
  EXPECT_EQ(Check(risk_test::CancelOf(a.client_order_id)), RiskReason::kNone);
  EXPECT_TRUE(risk_->Resume());
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  EXPECT_EQ(Check(Buy(100, 20)), RiskReason::kNone);
  std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].to, BreakerState::kKilled);
  EXPECT_EQ(ev[0].cause, BreakerCause::kKillSwitch);
  EXPECT_EQ(ev[1].from, BreakerState::kKilled);
  EXPECT_EQ(ev[1].to, BreakerState::kClosed);
  EXPECT_EQ(ev[1].cause, BreakerCause::kResume);
}

}  // namespace
}  // namespace nzeza
