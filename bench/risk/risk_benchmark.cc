// Per-intent cost of RiskCore::CheckIntent with every check enabled, accepting and rejecting, and
// the same checks over std::unordered_map / std::map state as the baseline in the same binary.
// Decisions are checked before timing.
//
//   nzeza_bench_risk --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
#include <cstdlib>
#include <map>
#include <unordered_map>

#include <benchmark/benchmark.h>

#include <nzeza/risk/risk_engine.h>

namespace nzeza {
namespace {

RiskConfig AllChecks() {
  RiskConfig c;
  c.notional_scale = 10;
  InstrumentRisk& in = c.instruments.emplace_back();
  in.price_scale = 2;
  in.size_scale = 8;
  in.tick_size = 1;
  in.lot_size = 1000;
  in.max_order_size = 100'000'000;
  in.max_order_notional = kNoLimit - 1;
  in.collar_bps = 500;
  in.collar_ticks = 100'000;
  in.max_long = kNoLimit - 1;
  in.max_short = kNoLimit - 1;
  in.max_open_orders = 1'000'000;
  c.max_open_orders_total = 1'000'000;
  c.max_gross_notional = kNoLimit - 1;
  c.capital = kNoLimit - 1;
  c.throttle_max_msgs = 1 << 20;
  c.throttle_window_ns = 1;
  c.duplicate_window_ns = 1;
  c.self_match_prevention = true;
  c.working_capacity = 1 << 16;
  return c;
}

OrderIntent Intent(Side side, int64_t price) {
  OrderIntent it;
  it.side = side;
  it.price = price;
  it.size = 1'000'000;
  return it;
}

// Accepting path: each accepted buy is ended (canceled) right after, so the tables stay small;
// the timed region covers CheckIntent + the cancel event (reported per intent).
void BM_RiskCheckAllAccept(benchmark::State& state) {
  RiskCore risk(AllChecks());
  int64_t now = 1'000'000;
  risk.OnMarketData(MdEvent::Bbo(Venue::kSim, 0, MdBbo{4'000'000, 1, 4'000'100, 1}), now);
  OrderCmd cmd;
  if (!risk.CheckIntent(Intent(Side::kBuy, 4'000'000), now, &cmd).accepted()) std::abort();
  ExecEvent ev;
  ev.type = ExecType::kCanceled;
  int64_t i = 0;
  for (auto _ : state) {
    ev.client_order_id = cmd.client_order_id;
    risk.OnExec(ev, now);
    now += 2;
    const RiskDecision d = risk.CheckIntent(Intent(Side::kBuy, 4'000'000 - (i++ & 63)), now, &cmd);
    benchmark::DoNotOptimize(d);
    if (!d.accepted()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RiskCheckAllAccept);

// Rejecting path: every check passes except the last one that can fail (self-match against a
// resting sell), so nearly the whole chain runs.
void BM_RiskCheckAllRejectSelfMatch(benchmark::State& state) {
  RiskCore risk(AllChecks());
  const int64_t now = 1'000'000;
  risk.OnMarketData(MdEvent::Bbo(Venue::kSim, 0, MdBbo{4'000'000, 1, 4'000'100, 1}), now);
  OrderCmd cmd;
  if (!risk.CheckIntent(Intent(Side::kSell, 4'000'050), now, &cmd).accepted()) std::abort();
  const OrderIntent it = Intent(Side::kBuy, 4'000'060);
  for (auto _ : state) {
    const RiskDecision d = risk.CheckIntent(it, now, &cmd);
    benchmark::DoNotOptimize(d);
    if (d.reason != RiskReason::kSelfMatch) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RiskCheckAllRejectSelfMatch);

// Baseline: the same checks kept naively (unordered_map of working orders, std::map of resting
// prices per side for self-match, map-based positions).
struct NaiveRisk {
  struct Ord {
    Side side;
    int64_t price, leaves;
  };
  std::unordered_map<uint64_t, Ord> working;
  std::map<int64_t, int> resting[2];
  std::unordered_map<uint32_t, int64_t> position, work_buy, work_sell;
  int64_t mid = 0;
  uint64_t next_id = 1;
  __int128 working_notional = 0;

  bool Check(const OrderIntent& it, uint64_t* id) {
    if (it.size <= 0 || it.price <= 0 || it.size % 1000 != 0 || it.size > 100'000'000) {
      return false;
    }
    const int64_t dev = it.price > mid ? it.price - mid : mid - it.price;
    if (dev * 10000 > 500 * mid || dev > 100'000) return false;
    const __int128 notional = static_cast<__int128>(it.price) * it.size;
    const int opp = it.side == Side::kBuy ? 1 : 0;
    if (!resting[opp].empty()) {
      if (it.side == Side::kBuy && it.price >= resting[1].begin()->first) return false;
      if (it.side == Side::kSell && it.price <= resting[0].rbegin()->first) return false;
    }
    const int64_t pos = position[it.instrument];
    if (it.side == Side::kBuy && pos + work_buy[it.instrument] + it.size > kNoLimit - 1) {
      return false;
    }
    if (working.size() >= 1'000'000 || working_notional + notional > kNoLimit - 1) return false;
    *id = next_id++;
    working.emplace(*id, Ord{it.side, it.price, it.size});
    ++resting[it.side == Side::kBuy ? 0 : 1][it.price];
    (it.side == Side::kBuy ? work_buy : work_sell)[it.instrument] += it.size;
    working_notional += notional;
    return true;
  }
  void Cancel(uint64_t id) {
    auto f = working.find(id);
    if (f == working.end()) return;
    auto& m = resting[f->second.side == Side::kBuy ? 0 : 1];
    if (--m[f->second.price] == 0) m.erase(f->second.price);
    (f->second.side == Side::kBuy ? work_buy : work_sell)[0] -= f->second.leaves;
    working_notional -= static_cast<__int128>(f->second.price) * f->second.leaves;
    working.erase(f);
  }
};

void BM_RiskCheckAllAcceptNaiveMaps(benchmark::State& state) {
  NaiveRisk risk;
  risk.mid = 4'000'050;
  uint64_t id = 0;
  if (!risk.Check(Intent(Side::kBuy, 4'000'000), &id)) std::abort();
  int64_t i = 0;
  for (auto _ : state) {
    risk.Cancel(id);
    const bool ok = risk.Check(Intent(Side::kBuy, 4'000'000 - (i++ & 63)), &id);
    benchmark::DoNotOptimize(ok);
    if (!ok) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RiskCheckAllAcceptNaiveMaps);

}  // namespace
}  // namespace nzeza
