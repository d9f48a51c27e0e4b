// Property test: a million seeded random steps (intents, strategy cancels, venue acks, rejects,
// fills, cancels and expiries delivered late and out of order, price moves, breaker trips). After
// every step the engine's view (positions, working quantities, open orders, working notional) is
// recomputed from scratch from a model and compared, and every accepted order is checked against
// every configured limit as the model sees it at that moment.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include <nzeza/risk/risk_engine.h>

#include "test_util.h"

namespace nzeza {
namespace {

struct ModelOrder {
  uint64_t id = 0;
  InstrumentId inst = 0;
  Side side = Side::kBuy;
  int64_t price = 0;
  int64_t engine_leaves = 0;  // what risk must still count
  int64_t venue_leaves = 0;   // what the venue still has
  bool engine_done = false;
  bool venue_done = false;
  bool venue_acked = false;
  bool cancel_requested = false;
  bool filled_any = false;
  int64_t orig = 0;
  int64_t venue_cum = 0;
  int64_t engine_filled = 0;
  int64_t engine_final_cum = 0;
  bool engine_venue_done = false;
};

// The engine's rule, restated: after the venue ended an order, only fills it reported and not yet
// seen stay working.
void ModelShrink(ModelOrder& o, int64_t leaves) {
  if (o.engine_venue_done)
    leaves = std::min(leaves, std::max<int64_t>(o.engine_final_cum - o.engine_filled, 0));
  o.engine_leaves = std::max<int64_t>(leaves, 0);
  if (o.engine_leaves == 0) o.engine_done = true;
}

RiskConfig PropertyConfig() {
  RiskConfig c;
  c.notional_scale = 8;
  for (int i = 0; i < 2; ++i) {
    InstrumentRisk& in = c.instruments.emplace_back();
    in.price_scale = i == 0 ? 2 : 4;
    in.size_scale = i == 0 ? 4 : 2;
    in.fee_scale = 8;
    in.tick_size = i == 0 ? 1 : 5;
    in.lot_size = i == 0 ? 1 : 2;
    in.max_order_size = 60;
    in.max_order_notional = 60 * 10'300 * 100;
    in.collar_bps = 200;
    in.max_long = 200;
    in.max_short = 150;
    in.max_open_orders = 8;
  }
  c.max_open_orders_total = 12;
  c.max_gross_notional = 400 * 10'000 * 100;
  c.capital = 300 * 10'000 * 100;
  c.throttle_max_msgs = 40;
  c.throttle_window_ns = 1'000'000;
  c.working_capacity = 64;
  c.first_client_order_id = 5'000;
  c.breaker.cooldown_ns = 2'000'000;
  c.breaker.allow_reducing_when_open = true;
  c.breaker.probe_orders = 2;
  return c;
}

TEST(RiskProperty, NoAcceptedOrderEverBreachesALimit) {
  const RiskConfig cfg = PropertyConfig();
  ASSERT_TRUE(cfg.Validate().ok());
  RiskCore risk(cfg);
  std::mt19937_64 rng(20240601);
  auto uni = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };

  std::vector<ModelOrder> orders;
  std::vector<ExecEvent> pending;  // venue events not yet delivered to risk
  std::deque<int64_t> sent;        // times of accepted messages (throttle)
  int64_t pos[2] = {0, 0};
  int64_t mid[2] = {10'000, 10'000};
  int64_t now = 1'000'000'000;
  int64_t accepted_new = 0, refused = 0, delivered = 0;
  int reasons[kNumRiskReasons] = {};

  for (InstrumentId i = 0; i < 2; ++i)
    risk.OnMarketData(risk_test::Bbo(mid[i] - 5, mid[i] + 5, i), now);

  auto find = [&](uint64_t id) -> ModelOrder* {
    for (ModelOrder& o : orders) {
      if (o.id == id) return &o;
    }
    return nullptr;
  };
  auto factor = [&](InstrumentId i) {
    return static_cast<__int128>(i == 0 ? 100 : 100);  // 8 - (2 + 4) and 8 - (4 + 2)
  };

  constexpr int kSteps = 1'000'000;
  for (int step = 0; step < kSteps; ++step) {
    now += uni(1, 20'000);
    const int64_t r = uni(0, 999);
    if (r < 350) {
      // New intent.
      const InstrumentId i = static_cast<InstrumentId>(uni(0, 1));
      const InstrumentRisk& ir = cfg.instruments[i];
      OrderIntent it = uni(0, 1) ? risk_test::Buy(0, 0, i) : risk_test::Sell(0, 0, i);
      it.price = (mid[i] + uni(-250, 250)) / ir.tick_size * ir.tick_size;
      it.size = uni(1, i == 0 ? 62 : 31) * ir.lot_size;  // a little over max_order_size
      // Model state before the call, recomputed from scratch.
      int64_t work[2] = {0, 0}, open_i = 0, open_total = 0;
      __int128 work_notional = 0;
      for (const ModelOrder& o : orders) {
        if (o.engine_done) continue;
        ++open_total;
        work_notional += static_cast<__int128>(o.price) * o.engine_leaves * factor(o.inst);
        if (o.inst != i) continue;
        ++open_i;
        work[o.side == Side::kBuy ? 0 : 1] += o.engine_leaves;
      }
      const BreakerState state = risk.state();
      OrderCmd cmd;
      const RiskDecision d = risk.CheckIntent(it, now, &cmd);
      ++reasons[static_cast<int>(d.reason)];
      if (!d.accepted()) {
        ++refused;
        continue;
      }
      ++accepted_new;
      const __int128 notional = static_cast<__int128>(it.price) * it.size * factor(i);
      ASSERT_LE(it.size, ir.max_order_size);
      ASSERT_LE(notional, ir.max_order_notional);
      const int64_t ref = (mid[i] - 5) + 5;
      ASSERT_LE((it.price > ref ? it.price - ref : ref - it.price) * 10000, ir.collar_bps * ref);
      ASSERT_LT(open_i, ir.max_open_orders);
      ASSERT_LT(open_total, cfg.max_open_orders_total);
      if (it.side == Side::kBuy) {
        ASSERT_LE(pos[i] + work[0] + it.size, ir.max_long) << step;
      } else {
        ASSERT_GE(pos[i] - work[1] - it.size, -ir.max_short) << step;
      }
      const bool reducing = it.side == Side::kBuy ? pos[i] < 0 && work[0] + it.size <= -pos[i]
                                                  : pos[i] > 0 && work[1] + it.size <= pos[i];
      if (!reducing) {  // reducing orders add no exposure (documented exemption)
        const __int128 exposure = risk.position_cost_notional() + work_notional + notional;
        ASSERT_LE(exposure, cfg.max_gross_notional);
        const __int128 unreal = std::min<__int128>(risk.unrealized_pnl(), 0);
        ASSERT_LE(exposure, cfg.capital + risk.realized_pnl() - risk.fees() + unreal);
      }
      if (state == BreakerState::kKilled) FAIL() << "accepted while killed";
      if (state == BreakerState::kOpen) {
        // Only risk-reducing orders.
        if (it.side == Side::kBuy) {
          ASSERT_TRUE(pos[i] < 0 && work[0] + it.size <= -pos[i]);
        } else {
          ASSERT_TRUE(pos[i] > 0 && work[1] + it.size <= pos[i]);
        }
      }
      while (!sent.empty() && sent.front() <= now - cfg.throttle_window_ns) sent.pop_front();
      sent.push_back(now);
      ASSERT_LE(static_cast<int64_t>(sent.size()), cfg.throttle_max_msgs);
      ModelOrder o;
      o.id = cmd.client_order_id;
      o.inst = i;
      o.side = it.side;
      o.price = it.price;
      o.engine_leaves = o.venue_leaves = o.orig = it.size;
      orders.push_back(o);
    } else if (r < 400) {
      // Strategy cancel of a random order (known or not).
      if (orders.empty()) continue;
      ModelOrder& o = orders[uni(0, static_cast<int64_t>(orders.size()) - 1)];
      OrderCmd cmd;
      const RiskDecision d = risk.CheckIntent(risk_test::CancelOf(o.id), now, &cmd);
      if (d.accepted()) {
        ASSERT_FALSE(o.engine_done);
        while (!sent.empty() && sent.front() <= now - cfg.throttle_window_ns) sent.pop_front();
        sent.push_back(now);
        ASSERT_LE(static_cast<int64_t>(sent.size()), cfg.throttle_max_msgs);
        o.cancel_requested = true;
      } else {
        ASSERT_TRUE(d.reason == RiskReason::kThrottle ||
                    (d.reason == RiskReason::kUnknownOrder && o.engine_done));
      }
    } else if (r < 720) {
      // The venue acts on a random live order; the event is delivered later.
      if (orders.empty()) continue;
      ModelOrder& o = orders[uni(0, static_cast<int64_t>(orders.size()) - 1)];
      if (o.venue_done) continue;
      ExecEvent e;
      e.client_order_id = o.id;
      e.instrument = o.inst;
      e.side = o.side;
      const int64_t a = uni(0, 99);
      if (o.cancel_requested && a < 50) {
        e.type = ExecType::kCanceled;
        e.cum_size = o.venue_cum;
        o.venue_done = true;
      } else if (!o.venue_acked && !o.filled_any) {
        e.type = a < 15 ? ExecType::kReject : ExecType::kAck;
        o.venue_acked = true;
        o.venue_done = e.type == ExecType::kReject;
      } else if (a < 5) {
        e.type = ExecType::kExpired;
        e.cum_size = o.venue_cum;
        o.venue_done = true;
      } else {
        const int64_t lot = cfg.instruments[o.inst].lot_size;
        const int64_t q = a < 50 ? o.venue_leaves : uni(1, o.venue_leaves / lot) * lot;
        o.venue_leaves -= q;
        o.venue_cum += q;
        e.cum_size = o.venue_cum;
        o.filled_any = true;
        e.type = ExecType::kFill;
        e.last_price = o.price;
        e.last_size = q;
        e.leaves_size = o.venue_leaves;
        e.fee = uni(-3, 10);
        o.venue_done = o.venue_leaves == 0;
      }
      pending.push_back(e);
    } else if (r < 950) {
      // Deliver a random pending event (late, out of order).
      if (pending.empty()) continue;
      const size_t k = static_cast<size_t>(uni(0, static_cast<int64_t>(pending.size()) - 1));
      const ExecEvent e = pending[k];
      pending[k] = pending.back();
      pending.pop_back();
      risk.OnExec(e, now);
      ++delivered;
      ModelOrder* o = find(e.client_order_id);
      if (e.type == ExecType::kFill) {
        pos[e.instrument] += e.side == Side::kBuy ? e.last_size : -e.last_size;
        if (o && !o->engine_done) {
          o->engine_filled += e.last_size;
          if (e.leaves_size == 0) {
            o->engine_venue_done = true;
            o->engine_final_cum = std::max(o->engine_final_cum, e.cum_size);
          }
          ModelShrink(*o, o->engine_leaves - std::min(e.last_size, o->engine_leaves));
        }
      } else if (e.type == ExecType::kReject && o) {
        o->engine_done = true;
      } else if ((e.type == ExecType::kCanceled || e.type == ExecType::kExpired) && o &&
                 !o->engine_done) {
        o->engine_venue_done = true;
        o->engine_final_cum = std::max(o->engine_final_cum, e.cum_size);
        ModelShrink(*o, o->engine_leaves);
      }
    } else if (r < 995) {
      // Price move (a random walk, kept inside a band).
      const InstrumentId i = static_cast<InstrumentId>(uni(0, 1));
      mid[i] = std::clamp<int64_t>(mid[i] + uni(-40, 40), 9'700, 10'300);
      risk.OnMarketData(risk_test::Bbo(mid[i] - 5, mid[i] + 5, i), now);
    } else {
      // Rare control events: overrun trips, kills, resumes.
      const int64_t k = uni(0, 99);
      if (k < 8) {
        risk.OnRingOverrun(now);
      } else if (k < 10) {
        risk.Kill(BreakerCause::kKillSwitch, now);
      } else if (k < 30) {
        (void)risk.Resume(now);
      }
    }
    risk.Poll(now);
    OrderCmd c;
    while (risk.PopCommand(&c)) {
      ModelOrder* o = find(c.orig_client_order_id);
      ASSERT_NE(o, nullptr);
      ASSERT_FALSE(o->engine_done);
      o->cancel_requested = true;
    }
    BreakerEvent be;
    while (risk.PopBreakerEvent(&be)) {
    }

    // Recompute from scratch and compare with the engine's incremental view.
    int64_t work[2][2] = {}, open[2] = {};
    __int128 work_notional = 0;
    for (const ModelOrder& o : orders) {
      if (o.engine_done) continue;
      work[o.inst][o.side == Side::kBuy ? 0 : 1] += o.engine_leaves;
      ++open[o.inst];
      work_notional += static_cast<__int128>(o.price) * o.engine_leaves * factor(o.inst);
      ASSERT_TRUE(risk.IsWorking(o.id));
    }
    for (InstrumentId i = 0; i < 2; ++i) {
      ASSERT_EQ(risk.position(i), pos[i]) << step;
      ASSERT_EQ(risk.working_buy(i), work[i][0]) << step;
      ASSERT_EQ(risk.working_sell(i), work[i][1]) << step;
      ASSERT_EQ(risk.open_orders(i), open[i]) << step;
      // Limits hold for the whole book too (fills only move size from working to position).
      ASSERT_LE(pos[i] + work[i][0], cfg.instruments[i].max_long);
      ASSERT_GE(pos[i] - work[i][1], -cfg.instruments[i].max_short) << step << " r=" << r;
    }
    ASSERT_EQ(risk.open_orders_total(), open[0] + open[1]);
    ASSERT_TRUE(risk.working_notional() == work_notional) << step;

    if ((step & 1023) == 0) {
      std::erase_if(orders, [](const ModelOrder& o) { return o.engine_done && o.venue_done; });
    }
  }
  // The walk must have exercised both sides of the checks.
  EXPECT_GT(accepted_new, 10'000);
  EXPECT_GT(refused, 100'000);
  EXPECT_GT(delivered, 30'000);
  for (RiskReason must :
       {RiskReason::kMaxLongPosition, RiskReason::kMaxShortPosition, RiskReason::kMaxOpenOrders,
        RiskReason::kPriceCollar, RiskReason::kSelfMatch, RiskReason::kBreakerOpen,
        RiskReason::kKillSwitch}) {
    EXPECT_GT(reasons[static_cast<int>(must)], 0) << RiskReasonName(must);
  }
  for (int k = 0; k < kNumRiskReasons; ++k) {
    if (reasons[k] > 0)
      std::printf("  %-26s %d\n", RiskReasonName(static_cast<RiskReason>(k)), reasons[k]);
  }
}

}  // namespace
}  // namespace nzeza
