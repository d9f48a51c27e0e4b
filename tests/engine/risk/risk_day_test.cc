// The trading day: max_daily_loss counts the realized PnL and fees of the current trading day,
// restarts them at the configured boundary (wall time, from the offset SetWallClock gives), and
// keeps them over a restart through SeedDayPnl. Also the ring-overrun flag on market data.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <nzeza/core/clock.h>
#include <nzeza/risk/risk_engine.h>

#include "test_util.h"

namespace nzeza {
namespace {

using risk_test::BaseConfig;
using risk_test::Buy;
using risk_test::Fill;
using risk_test::Sell;

constexpr int64_t kHour = 3'600'000'000'000;
// A UTC midnight (day 20000 of the epoch, 2024-10-04).
constexpr int64_t kMidnight = 20'000 * kNanosPerDay;

// BaseConfig's scales: notional 8, price 2 + size 4, so one round trip of 100 lots bought at
// 1000 and sold at 950 realizes -50 x 100 x 10^2 = -500000 at the notional scale.
constexpr int64_t kRoundTripLoss = 500'000;

class RiskDayTest : public ::testing::Test {
 protected:
  // Risk's clock starts at 1000; the wall clock then reads `wall_at_start`.
  void Make(RiskConfig c, int64_t wall_at_start) {
    clock_.Set(1000);
    risk_ = std::make_unique<RiskEngine<ManualClock>>(c, clock_);
    risk_->SetWallClock(wall_at_start - clock_.NowNanos());
  }
  void SetWall(int64_t wall) { clock_.Set(wall - wall0_ + 1000); }
  // Buys 100 at 1000 and sells them at 950: flat again, kRoundTripLoss realized.
  void LosingRoundTrip() {
    OrderCmd b, s;
    ASSERT_EQ(risk_->CheckIntent(Buy(1000, 100), &b).reason, RiskReason::kNone);
    risk_->OnExec(Fill(b, 1000, 100, 0));
    ASSERT_EQ(risk_->CheckIntent(Sell(950, 100), &s).reason, RiskReason::kNone);
    risk_->OnExec(Fill(s, 950, 100, 0));
    ASSERT_EQ(risk_->position(0), 0);
  }
  std::vector<BreakerEvent> Events() {
    std::vector<BreakerEvent> v;
    BreakerEvent e;
    while (risk_->PopBreakerEvent(&e)) v.push_back(e);
    return v;
  }
  static RiskConfig LossConfig() {
    RiskConfig c = BaseConfig();
    c.max_daily_loss = kRoundTripLoss + kRoundTripLoss / 5;  // one round trip fits, two do not
    return c;
  }

  ManualClock clock_;
  int64_t wall0_ = 0;
  std::unique_ptr<RiskEngine<ManualClock>> risk_;
};

TEST(TradingDayStart, FloorsToTheBoundary) {
  EXPECT_EQ(TradingDayStart(kMidnight, 0), kMidnight);
  EXPECT_EQ(TradingDayStart(kMidnight - 1, 0), kMidnight - kNanosPerDay);
  EXPECT_EQ(TradingDayStart(kMidnight + 23 * kHour, 0), kMidnight);
  EXPECT_EQ(TradingDayStart(kMidnight + 21 * kHour, 22 * kHour), kMidnight - 2 * kHour);
  EXPECT_EQ(TradingDayStart(kMidnight + 22 * kHour, 22 * kHour), kMidnight + 22 * kHour);
  EXPECT_EQ(TradingDayStart(-1, 0), -kNanosPerDay);
  EXPECT_EQ(TradingDayStart(0, 0), 0);
}

// Regression: max_daily_loss counted every loss since the process started and never reset at a
// day boundary, so yesterday's loss plus today's killed the engine.
TEST_F(RiskDayTest, MaxDailyLossRestartsAtTheDayBoundary) {
  wall0_ = kMidnight + 23 * kHour;
  Make(LossConfig(), wall0_);
  EXPECT_EQ(risk_->day_start_unix_ns(), kMidnight);
  LosingRoundTrip();
  EXPECT_EQ(risk_->day_realized_pnl(), -kRoundTripLoss);
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);

  SetWall(kMidnight + kNanosPerDay - 1);  // 23:59:59.999999999: still the same day
  risk_->Poll();
  EXPECT_EQ(risk_->day_rolls(), 0u);
  EXPECT_EQ(risk_->day_realized_pnl(), -kRoundTripLoss);

  SetWall(kMidnight + kNanosPerDay);  // midnight: a new day
  risk_->Poll();
  EXPECT_EQ(risk_->day_rolls(), 1u);
  EXPECT_EQ(risk_->day_start_unix_ns(), kMidnight + kNanosPerDay);
  EXPECT_EQ(risk_->day_realized_pnl(), 0);
  EXPECT_EQ(risk_->realized_pnl(), -kRoundTripLoss) << "the lifetime total is not reset";

  LosingRoundTrip();  // today's first loss: within the limit
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  LosingRoundTrip();  // today's second: over it
  const std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to, BreakerState::kKilled);
  EXPECT_EQ(ev[0].cause, BreakerCause::kLossLimit);
}

// The stage drains execution events before it polls: a fill that arrives just after midnight is
// today's even when Poll has not run since the boundary.
TEST_F(RiskDayTest, FillAfterTheBoundaryCountsTowardTheNewDayBeforeAnyPoll) {
  wall0_ = kMidnight + 23 * kHour;
  Make(LossConfig(), wall0_);
  LosingRoundTrip();
  SetWall(kMidnight + kNanosPerDay + 1);
  LosingRoundTrip();  // no Poll in between
  EXPECT_EQ(risk_->day_rolls(), 1u);
  EXPECT_EQ(risk_->day_realized_pnl(), -kRoundTripLoss);
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
}

TEST_F(RiskDayTest, ConfiguredBoundaryIsWhereTheDayTurns) {
  RiskConfig c = LossConfig();
  c.day_boundary_ns = 22 * kHour;  // 22:00 UTC
  wall0_ = kMidnight + 21 * kHour;
  Make(c, wall0_);
  EXPECT_EQ(risk_->day_start_unix_ns(), kMidnight - 2 * kHour);
  LosingRoundTrip();
  SetWall(kMidnight + 22 * kHour - 1);
  risk_->Poll();
  EXPECT_EQ(risk_->day_rolls(), 0u) << "midnight UTC is not the boundary here";
  SetWall(kMidnight + 22 * kHour);
  risk_->Poll();
  EXPECT_EQ(risk_->day_rolls(), 1u);
  EXPECT_EQ(risk_->day_realized_pnl(), 0);
}

TEST_F(RiskDayTest, DayFeesRestartToo) {
  wall0_ = kMidnight + 12 * kHour;
  Make(LossConfig(), wall0_);
  OrderCmd b;
  ASSERT_EQ(risk_->CheckIntent(Buy(1000, 100), &b).reason, RiskReason::kNone);
  ExecEvent f = Fill(b, 1000, 100, 0);
  f.fee = 1234;  // fee_scale 8 = notional scale
  risk_->OnExec(f);
  EXPECT_EQ(risk_->day_fees(), 1234);
  SetWall(kMidnight + kNanosPerDay + kHour);
  risk_->Poll();
  EXPECT_EQ(risk_->day_fees(), 0);
  EXPECT_EQ(risk_->fees(), 1234);
}

// A restart keeps the day: what the journal says was realized today counts toward the limit.
TEST_F(RiskDayTest, SeededDayPnlCountsTowardTheLimit) {
  wall0_ = kMidnight + 9 * kHour;
  Make(LossConfig(), wall0_);
  // At price + size scale (as oms::Position::realized): -5000 -> -500000 at notional scale 8.
  ASSERT_TRUE(risk_->SeedDayPnl(0, -kRoundTripLoss / 100, /*fees=*/0));
  EXPECT_FALSE(risk_->SeedDayPnl(5, -1, 0)) << "unknown instrument";
  EXPECT_EQ(risk_->day_realized_pnl(), -kRoundTripLoss);
  EXPECT_EQ(risk_->realized_pnl(), -kRoundTripLoss);
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
  LosingRoundTrip();
  EXPECT_EQ(risk_->state(), BreakerState::kKilled) << "yesterday's restart forgot nothing";
}

TEST_F(RiskDayTest, RestartAfterTheLimitWasHitComesBackKilled) {
  wall0_ = kMidnight + 9 * kHour;
  Make(LossConfig(), wall0_);
  ASSERT_TRUE(risk_->SeedDayPnl(0, -kRoundTripLoss / 100, /*fees=*/kRoundTripLoss));
  EXPECT_EQ(risk_->day_fees(), kRoundTripLoss);
  EXPECT_EQ(risk_->state(), BreakerState::kKilled);
  EXPECT_EQ(risk_->CheckIntent(Buy(1000, 10), nullptr).reason, RiskReason::kKillSwitch);
}

TEST_F(RiskDayTest, WithoutAWallClockRisksClockIsTheWallClock) {
  RiskConfig c = LossConfig();
  clock_.Set(kMidnight - 10);
  RiskEngine<ManualClock> risk(c, clock_);
  risk.Poll();
  EXPECT_EQ(risk.day_start_unix_ns(), kMidnight - kNanosPerDay);
  clock_.Set(kMidnight);
  risk.Poll();
  EXPECT_EQ(risk.day_rolls(), 1u);
  EXPECT_EQ(risk.day_start_unix_ns(), kMidnight);
}

// The feed or signal stage could not deliver (a ring stayed full): the next event risk does get
// carries kMdRingOverrun and trips the breaker, whatever its instrument.
TEST_F(RiskDayTest, MarketDataFlaggedWithRingOverrunTripsTheBreaker) {
  wall0_ = kMidnight;
  Make(BaseConfig(), wall0_);
  MdEvent marker = MdEvent::Levels(Venue::kUnknown, 0xffffffffu, 0);
  marker.flags = kMdMessageEnd | kMdRingOverrun;
  risk_->OnMarketData(marker);
  const std::vector<BreakerEvent> ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to, BreakerState::kOpen);
  EXPECT_EQ(ev[0].cause, BreakerCause::kRingOverrun);

  RiskConfig off = BaseConfig();
  off.breaker.trip_on_ring_overrun = false;
  Make(off, wall0_);
  risk_->OnMarketData(marker);
  EXPECT_EQ(risk_->state(), BreakerState::kClosed);
}

}  // namespace
}  // namespace nzeza
