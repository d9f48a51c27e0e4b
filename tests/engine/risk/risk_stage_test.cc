// RiskStage: intents to commands through RiskCore, breaker cancels forwarded first, the kill /
// resume mailbox from other threads, and back-pressure that never loses an accepted order.
#include <nzeza/risk/risk_stage.h>

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace nzeza {
namespace {

using risk_test::BaseConfig;
using risk_test::Bbo;
using risk_test::Buy;
using risk_test::Exec;

struct Rig {
  explicit Rig(size_t cmd_capacity = 64, RiskStageOptions options = {})
      : core(BaseConfig()),
        intents(64),
        md(64),
        exec(64),
        cmds(cmd_capacity),
        breaker(64),
        stage(core, intents, md, exec, cmds, &breaker, nullptr, options) {}
  std::vector<OrderCmd> Cmds() {
    std::vector<OrderCmd> out;
    OrderCmd c;
    while (cmds.try_pop(c)) out.push_back(c);
    return out;
  }
  RiskCore core;
  SpscRing<OrderIntent> intents;
  SpscRing<MdEvent> md;
  SpscRing<ExecEvent> exec;
  SpscRing<OrderCmd> cmds;
  SpscRing<BreakerEvent> breaker;
  RiskStage stage;
};

TEST(RiskStage, AcceptedIntentsBecomeCommandsAndRefusalsAreCountedByReason) {
  Rig r;
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  ASSERT_TRUE(r.intents.try_push(Buy(10000, 100)));
  ASSERT_TRUE(r.intents.try_push(Buy(10001, 100)));  // off tick (tick 5)
  EXPECT_GT(r.stage.Poll(), 0);
  const std::vector<OrderCmd> cmds = r.Cmds();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].type, CmdType::kNew);
  EXPECT_EQ(cmds[0].price, 10000);
  EXPECT_NE(cmds[0].client_order_id, 0u);
  EXPECT_GT(cmds[0].times.risk_ns, 0);
  EXPECT_EQ(r.stage.counters().intents, 2u);
  EXPECT_EQ(r.stage.counters().accepted, 1u);
  EXPECT_EQ(r.stage.counters().refused, 1u);
  EXPECT_EQ(r.stage.counters().refused_by_reason[static_cast<int>(RiskReason::kTickSize)], 1u);
  EXPECT_EQ(r.stage.counters().md_events, 1u);
  EXPECT_EQ(r.core.open_orders(0), 1);
  // The ack and the fill reach the core through the exec ring.
  ASSERT_TRUE(r.exec.try_push(Exec(ExecType::kAck, cmds[0])));
  ASSERT_TRUE(r.exec.try_push(risk_test::Fill(cmds[0], 10000, 100, 0)));
  (void)r.stage.Poll();
  EXPECT_EQ(r.core.position(0), 100);
  EXPECT_EQ(r.core.open_orders(0), 0);
}

TEST(RiskStage, KillFromAnotherThreadCancelsWorkingOrdersAndResumeReopens) {
  Rig r;
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  ASSERT_TRUE(r.intents.try_push(Buy(10000, 100)));
  (void)r.stage.Poll();
  const std::vector<OrderCmd> placed = r.Cmds();
  ASSERT_EQ(placed.size(), 1u);
  ASSERT_TRUE(r.exec.try_push(Exec(ExecType::kAck, placed[0])));
  (void)r.stage.Poll();

  std::thread ops([&] { r.stage.control().RequestKill(); });
  ops.join();
  (void)r.stage.Poll();
  EXPECT_EQ(r.core.state(), BreakerState::kKilled);
  EXPECT_EQ(r.stage.counters().state, static_cast<uint64_t>(BreakerState::kKilled));
  const std::vector<OrderCmd> cancels = r.Cmds();
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].type, CmdType::kCancel);
  EXPECT_EQ(cancels[0].origin, CmdOrigin::kKillSwitch);
  EXPECT_EQ(cancels[0].orig_client_order_id, placed[0].client_order_id);
  EXPECT_EQ(r.stage.counters().breaker_trips, 1u);
  BreakerEvent ev;
  ASSERT_TRUE(r.breaker.try_pop(ev));
  EXPECT_EQ(ev.to, BreakerState::kKilled);
  EXPECT_EQ(ev.cause, BreakerCause::kKillSwitch);

  ASSERT_TRUE(r.intents.try_push(Buy(10000, 100)));
  (void)r.stage.Poll();
  EXPECT_TRUE(r.Cmds().empty());
  EXPECT_EQ(r.stage.counters().refused_by_reason[static_cast<int>(RiskReason::kKillSwitch)], 1u);

  std::thread ops2([&] { r.stage.control().RequestResume(); });
  ops2.join();
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  (void)r.stage.Poll();
  EXPECT_EQ(r.core.state(), BreakerState::kClosed);
  ASSERT_TRUE(r.intents.try_push(risk_test::Sell(10010, 100)));
  (void)r.stage.Poll();
  EXPECT_EQ(r.Cmds().size(), 1u);
}

// A refused intent is answered to its strategy, so a strategy waiting for an answer never hangs.
TEST(RiskStage, RefusalsGoBackToTheStrategy) {
  Rig r;
  SpscRing<ExecEvent> refusals(16);
  r.stage.SetRefusalsOut(&refusals);
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  OrderIntent bad = Buy(10001, 100);  // off tick
  bad.intent_id = 42;
  bad.strategy_id = 7;
  ASSERT_TRUE(r.intents.try_push(bad));
  OrderIntent cancel = risk_test::CancelOf(999);  // not working
  cancel.intent_id = 43;
  ASSERT_TRUE(r.intents.try_push(cancel));
  (void)r.stage.Poll();
  EXPECT_TRUE(r.Cmds().empty());
  ExecEvent e;
  ASSERT_TRUE(refusals.try_pop(e));
  EXPECT_EQ(e.type, ExecType::kReject);
  EXPECT_EQ(e.intent_id, 42u);
  EXPECT_EQ(e.strategy_id, 7u);
  EXPECT_EQ(e.client_order_id, 0u);
  EXPECT_EQ(e.reject_code, RiskStage::kRiskRejectBase + static_cast<int>(RiskReason::kTickSize));
  ASSERT_TRUE(refusals.try_pop(e));
  EXPECT_EQ(e.type, ExecType::kCancelReject);
  EXPECT_EQ(e.intent_id, 43u);
  EXPECT_EQ(e.client_order_id, 999u);
  EXPECT_FALSE(refusals.try_pop(e));
}

// The command ring holds 2: of 5 intents only those with room are checked; the others wait on
// their ring and none is lost once the order stage catches up.
TEST(RiskStage, FullCommandRingBackPressuresWithoutLosingIntents) {
  Rig r(/*cmd_capacity=*/2);
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(r.intents.try_push(Buy(9000 - 5 * i, 10)));
  (void)r.stage.Poll();
  EXPECT_EQ(r.stage.counters().accepted, 2u);
  EXPECT_EQ(r.intents.size(), 3u);
  EXPECT_GE(r.stage.counters().cmd_backpressure, 1u);
  std::vector<OrderCmd> all = r.Cmds();
  for (int k = 0; k < 5 && all.size() < 5; ++k) {
    (void)r.stage.Poll();
    for (const OrderCmd& c : r.Cmds()) all.push_back(c);
  }
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(all[i].price, 9000 - 5 * i);
  EXPECT_EQ(r.core.open_orders(0), 5);
}

// Regression: a command ring that stayed full (the order stage not taking commands) only
// back-pressured, without ever tripping the breaker. Past cmd_full_trip_ns it is an overrun.
TEST(RiskStage, CommandRingFullPastTheBoundTripsTheBreakerOnce) {
  Rig r(/*cmd_capacity=*/2, RiskStageOptions{.cmd_full_trip_ns = 1'000'000});
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(r.intents.try_push(Buy(9000 - 5 * i, 10)));
  (void)r.stage.Poll();  // two accepted, two wait: the wait starts
  EXPECT_EQ(r.core.state(), BreakerState::kClosed);
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  (void)r.stage.Poll();
  EXPECT_EQ(r.stage.counters().ring_overruns, 1u);
  EXPECT_EQ(r.core.state(), BreakerState::kOpen);
  BreakerEvent ev;
  ASSERT_TRUE(r.breaker.try_pop(ev));
  EXPECT_EQ(ev.cause, BreakerCause::kRingOverrun);
  (void)r.stage.Poll();
  EXPECT_EQ(r.stage.counters().ring_overruns, 1u) << "once per episode";
  // The order stage catches up: the episode ends; nothing was lost (the breaker's cancels of
  // the two working orders go out first, then the waiting intents are refused as breaker-open).
  std::vector<OrderCmd> all = r.Cmds();
  for (int k = 0; k < 8; ++k) {
    (void)r.stage.Poll();
    for (const OrderCmd& c : r.Cmds()) all.push_back(c);
  }
  EXPECT_EQ(r.intents.size(), 0u);
  EXPECT_EQ(r.stage.counters().intents, 4u);
  EXPECT_EQ(r.stage.counters().refused_by_reason[static_cast<int>(RiskReason::kBreakerOpen)], 2u);
}

TEST(RiskStage, CommandRingThatDrainsInTimeIsNoOverrun) {
  Rig r(/*cmd_capacity=*/2, RiskStageOptions{.cmd_full_trip_ns = 1'000'000'000});
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(r.intents.try_push(Buy(9000 - 5 * i, 10)));
  for (int k = 0; k < 4; ++k) {
    (void)r.stage.Poll();
    (void)r.Cmds();
  }
  EXPECT_EQ(r.stage.counters().accepted, 4u);
  EXPECT_EQ(r.stage.counters().ring_overruns, 0u);
  EXPECT_EQ(r.core.state(), BreakerState::kClosed);
}

// Regression: a refusal the ring back to the strategies had no room for was dropped (counted),
// leaving its strategy waiting forever. Now the intent waits until the refusal has room.
TEST(RiskStage, FullRefusalRingHoldsIntentsInsteadOfDroppingRefusals) {
  Rig r;
  SpscRing<ExecEvent> refusals(2);
  r.stage.SetRefusalsOut(&refusals);
  ASSERT_TRUE(r.md.try_push(Bbo(10000, 10010)));
  for (uint64_t i = 1; i <= 5; ++i) {
    OrderIntent bad = Buy(10001, 100);  // off tick: refused
    bad.intent_id = i;
    ASSERT_TRUE(r.intents.try_push(bad));
  }
  (void)r.stage.Poll();
  EXPECT_EQ(r.stage.counters().refused, 2u);
  EXPECT_EQ(r.intents.size(), 3u);
  EXPECT_GE(r.stage.counters().refusal_backpressure, 1u);
  std::vector<uint64_t> answered;
  for (int k = 0; k < 5 && answered.size() < 5; ++k) {
    ExecEvent e;
    while (refusals.try_pop(e)) answered.push_back(e.intent_id);
    (void)r.stage.Poll();
  }
  ASSERT_EQ(answered.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(answered[i], i + 1);
}

}  // namespace
}  // namespace nzeza

namespace nzeza {
namespace {

// A position recovered from the journal counts toward the limits from the first intent on.
TEST(RiskCore, SeededPositionCountsTowardLimits) {
  RiskConfig cfg = risk_test::BaseConfig();
  cfg.instruments[0].max_long = 100;
  RiskCore core(cfg);
  EXPECT_FALSE(core.SeedPosition(0, 80, -800'000));  // cost sign disagrees
  EXPECT_FALSE(core.SeedPosition(7, 80, 800'000));   // unknown instrument
  ASSERT_TRUE(core.SeedPosition(0, 80, 80 * 10'000));
  EXPECT_EQ(core.position(0), 80);
  core.OnMarketData(risk_test::Bbo(10000, 10010), 1);
  OrderCmd cmd;
  EXPECT_EQ(core.CheckIntent(Buy(10000, 30), 2, &cmd).reason, RiskReason::kMaxLongPosition);
  EXPECT_TRUE(core.CheckIntent(Buy(10000, 20), 3, &cmd).accepted());
  // Selling the recovered position realizes against its cost basis.
  EXPECT_TRUE(core.CheckIntent(risk_test::Sell(10010, 80), 4, &cmd).accepted());
  core.OnExec(risk_test::Fill(cmd, 10010, 80, 0), 5);
  EXPECT_EQ(core.position(0), 0);
  EXPECT_GT(core.realized_pnl(), 0);
}

}  // namespace
}  // namespace nzeza
