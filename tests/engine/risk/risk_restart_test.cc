// Risk over a restart: the journal of yesterday's and today's fills replayed (oms::ReplayDayPnl)
// and seeded into a new RiskCore, so max_daily_loss counts today's losses from before the
// restart and none of yesterday's.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <nzeza/core/clock.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/recovery.h>
#include <nzeza/risk/risk_engine.h>

#include "test_util.h"

namespace nzeza {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;
constexpr int64_t kToday = 20'000 * kNanosPerDay;  // a UTC midnight

// One losing round trip: buy 100 at 1000, sell 100 at 950 (-5000 at price + size scale).
void LosingRoundTrip(oms::Journal& j, uint64_t first_id, int64_t mono) {
  for (int k = 0; k < 2; ++k) {
    OrderCmd c;
    c.type = CmdType::kNew;
    c.side = k == 0 ? Side::kBuy : Side::kSell;
    c.client_order_id = first_id + k;
    c.price = k == 0 ? 1000 : 950;
    c.size = 100;
    ASSERT_EQ(j.AppendCmd(c, mono), oms::AppendResult::kOk);
    ExecEvent f;
    f.type = ExecType::kFill;
    f.side = c.side;
    f.client_order_id = c.client_order_id;
    f.trade_id = c.client_order_id;
    f.last_price = c.price;
    f.last_size = f.cum_size = 100;
    ASSERT_EQ(j.AppendExec(f, mono + 1), oms::AppendResult::kOk);
  }
}

// Regression: a restart forgot the day's realized PnL and fees, so max_daily_loss started again
// from zero.
TEST(RiskRestart, TodaysJournaledLossesCountAndYesterdaysDoNot) {
  char tmpl[] = "/tmp/nzeza_risk_restart_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    oms::RecoveryReport rep;
    auto j = oms::Journal::Open(
        {.dir = dir, .fsync = oms::FsyncPolicy::kNever}, kToday, [](const oms::JournalRecord&) {},
        &rep);
    ASSERT_TRUE(j.ok()) << j.status();
    ASSERT_EQ((*j)->AppendClockAnchor(kToday - 2 * kHour, 0), oms::AppendResult::kOk);
    LosingRoundTrip(**j, 1, kHour);  // yesterday 23:00
    ASSERT_EQ((*j)->AppendClockAnchor(kToday + 8 * kHour, 0), oms::AppendResult::kOk);
    LosingRoundTrip(**j, 3, kHour);  // today 09:00
  }
  RiskConfig cfg = risk_test::BaseConfig();
  cfg.max_daily_loss = 600'000;  // one round trip (500000 at notional scale 8) fits, two do not
  ManualClock clock(1000);
  RiskEngine<ManualClock> risk(cfg, clock);
  const int64_t wall = kToday + 10 * kHour;
  risk.SetWallClock(wall - clock.NowNanos());
  absl::StatusOr<oms::DayPnlReport> day = oms::ReplayDayPnl(
      dir, TradingDayStart(wall, cfg.day_boundary_ns), {.max_orders = 64, .max_instruments = 2});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(day.ok()) << day.status();
  EXPECT_EQ(day->fills_today, 2u);
  ASSERT_TRUE(risk.SeedDayPnl(0, day->instruments[0].realized, day->instruments[0].fees));
  EXPECT_EQ(risk.day_realized_pnl(), -500'000);
  EXPECT_EQ(risk.state(), BreakerState::kClosed) << "yesterday's loss is not today's";

  // Today's second losing round trip, after the restart: over the limit.
  OrderCmd b, s;
  ASSERT_TRUE(risk.CheckIntent(risk_test::Buy(1000, 100), &b).accepted());
  risk.OnExec(risk_test::Fill(b, 1000, 100, 0));
  ASSERT_TRUE(risk.CheckIntent(risk_test::Sell(950, 100), &s).accepted());
  risk.OnExec(risk_test::Fill(s, 950, 100, 0));
  EXPECT_EQ(risk.state(), BreakerState::kKilled);
}

}  // namespace
}  // namespace nzeza
