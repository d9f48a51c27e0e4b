#include "nzeza/app/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

namespace nzeza::app {
namespace {

// Whether `s` contains `sub`, printing `s` when not.
#define NZ_EXPECT_HAS(s, sub)                                                                 \
  do {                                                                                        \
    const std::string nz_s(s);                                                                \
    EXPECT_NE(nz_s.find(sub), std::string::npos) << "missing: " << (sub) << "\nin: " << nz_s; \
  } while (0)
#define NZ_EXPECT_LACKS(s, sub)                                     \
  do {                                                              \
    const std::string nz_s(s);                                      \
    EXPECT_EQ(nz_s.find(sub), std::string::npos) << "in: " << nz_s; \
  } while (0)

// The CPU set the loader checks against: fixed so the tests do not depend on the machine.
LoadOptions Cpus(std::vector<int> cpus) { return LoadOptions{.cpus = std::move(cpus)}; }

absl::StatusOr<EngineConfig> Load(std::string_view text, std::vector<int> cpus = {0, 1}) {
  return LoadEngineConfig(text, "test.toml", Cpus(std::move(cpus)));
}

// The error message of a config that must fail.
std::string Error(std::string_view text, std::vector<int> cpus = {0, 1}) {
  absl::StatusOr<EngineConfig> c = Load(text, std::move(cpus));
  EXPECT_FALSE(c.ok()) << "loaded but should not have:\n" << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

// A full configuration touching every section.
constexpr std::string_view kFull = R"toml(
[engine]
duration_s = 60
status_interval_ms = 500
summary_json = "/tmp/summary.json"
block_on_reconcile_mismatch = false

[venue]
kind = "coinbase"
ca_file = "/etc/ssl/certs/ca-certificates.crt"
request_timeout_ms = 2000
[venue.credentials]
key_name_env = "CB_KEY_NAME"
private_key_env = "CB_PRIVATE_KEY"

[sim]
embedded = true
seed = 42
volatility_bps = "12.5"
step_ms = 5
participant_orders_per_sec = 400
participant_cancel_pct = 30
maker_fee_bps = "-1.5"
taker_fee_bps = "6"
rate_limit_per_sec = 20
[sim.faults]
disconnect_every_s = 30
stall_every_s = 20
stall_ms = 500
gap_every_n = 1000
duplicate_every_n = 700
malformed_every_n = 900
reject_every_n = 50
added_latency_ms = 3
[sim.instrument."ETH-USD"]
start_price = "3000.05"

[[instruments]]
symbol = "BTC-USD"
tick_size = "0.01"
lot_size = "0.00000001"
depth = 5

[[instruments]]
symbol = "ETH-USD"
tick_size = "0.05"
lot_size = "0.0001"

[strategy]
kind = "market_maker"
order_size = "0.001"
half_spread_ticks = 3
requote_ticks = 2
skew_ticks = 1
max_position = "0.01"
post_only = false
[strategy.instrument."ETH-USD"]
order_size = "0.05"
max_position = "0.5"

[risk]
notional_scale = 12
max_order_size = "0.5"
max_long = "1"
max_short = "1"
max_order_notional = "5000"
collar_bps = 300
collar_ticks = "none"
collar_reference = "last_trade"
max_open_orders = 4
allow_market_orders = true
max_gross_notional = "20000"
capital = "10000"
max_open_orders_total = 8
throttle_max_msgs = 40
throttle_window_ms = 2000
duplicate_window_ms = 50
self_match_prevention = false
max_daily_loss = "250.5"
working_capacity = 1024
[risk.instrument."ETH-USD"]
max_order_size = "2.5"
max_long = "10"
max_short = "none"

[breaker]
stale_after_ms = 3000
trip_on_stale_status = false
trip_on_gap = true
gap_grace_ms = 200
trip_on_crossed = false
trip_on_ring_overrun = true
reject_burst_count = 5
reject_burst_window_ms = 2000
price_move_bps = 250
price_move_window_ms = 500
latency_budget_us = 800
cooldown_ms = 10000
probe_orders = 2
allow_reducing_when_open = true

[journal]
enabled = true
dir = "/var/lib/nzeza/journal"
segment_bytes = 1048576
fsync = "every_record"
interval_ms = 20

[[workers]]
name = "md"
stages = ["feed"]
cpu = 1
wait = "spin"
spin_rounds = 100

[[workers]]
name = "trade"
stages = ["signal", "risk", "order"]
cpu = 0
wait = "block"
park_timeout_us = 500

[ops]
listen = "127.0.0.1"
port = 9100
max_request_bytes = 4096
token_file = "/run/nzeza/ops-token"
kill_without_token = true

[log]
level = "debug"
file = "/tmp/nzeza.log"
queue_capacity = 4096
)toml";

TEST(Config, FullFileFillsEverySection) {
  absl::StatusOr<EngineConfig> c = Load(kFull);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->source, "test.toml");
  EXPECT_EQ(c->engine.duration_s, 60);
  EXPECT_EQ(c->engine.status_interval_ms, 500);
  EXPECT_EQ(c->engine.summary_json, "/tmp/summary.json");
  EXPECT_FALSE(c->engine.block_on_reconcile_mismatch);

  EXPECT_EQ(c->venue.kind, VenueKind::kCoinbase);
  EXPECT_EQ(c->venue.rest_host, "api.coinbase.com");
  EXPECT_EQ(c->venue.rest_port, 443);
  EXPECT_EQ(c->venue.ws_host, "advanced-trade-ws.coinbase.com");
  EXPECT_EQ(c->venue.user_ws_host, "advanced-trade-ws-user.coinbase.com");
  EXPECT_EQ(c->venue.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(c->venue.request_timeout_ms, 2000);
  EXPECT_EQ(c->venue.credentials.key_name_env, "CB_KEY_NAME");
  EXPECT_EQ(c->venue.credentials.private_key_env, "CB_PRIVATE_KEY");

  EXPECT_EQ(c->sim.seed, 42u);
  EXPECT_EQ(c->sim.volatility_bps, Decimal::FromMantissa(125, 1));
  EXPECT_EQ(c->sim.maker_fee_bps, Decimal::FromMantissa(-15, 1));
  EXPECT_EQ(c->sim.taker_fee_bps, Decimal::FromMantissa(6, 0));
  EXPECT_EQ(c->sim.step_ms, 5);
  EXPECT_EQ(c->sim.participant_orders_per_sec, 400);
  EXPECT_EQ(c->sim.participant_cancel_pct, 30);
  EXPECT_EQ(c->sim.rate_limit_per_sec, 20);
  EXPECT_EQ(c->sim.faults.disconnect_every_s, 30);
  EXPECT_EQ(c->sim.faults.stall_ms, 500);
  EXPECT_EQ(c->sim.faults.gap_every_n, 1000);
  EXPECT_EQ(c->sim.faults.duplicate_every_n, 700);
  EXPECT_EQ(c->sim.faults.malformed_every_n, 900);
  EXPECT_EQ(c->sim.faults.reject_every_n, 50);
  EXPECT_EQ(c->sim.faults.added_latency_ms, 3);
  ASSERT_EQ(c->sim.start_price.size(), 1u);
  EXPECT_EQ(c->sim.start_price.at("ETH-USD"), "3000.05");

  ASSERT_EQ(c->instruments.size(), 2u);
  const InstrumentConfig& btc = c->instruments[0];
  EXPECT_EQ(btc.symbol, "BTC-USD");
  EXPECT_EQ(btc.price_scale, 2);
  EXPECT_EQ(btc.size_scale, 8);
  EXPECT_EQ(btc.tick, 1);
  EXPECT_EQ(btc.lot, 1);
  EXPECT_EQ(btc.depth, 5);
  const InstrumentConfig& eth = c->instruments[1];
  EXPECT_EQ(eth.tick_size, "0.05");
  EXPECT_EQ(eth.price_scale, 2);
  EXPECT_EQ(eth.tick, 5);
  EXPECT_EQ(eth.size_scale, 4);
  EXPECT_EQ(eth.lot, 1);
  EXPECT_EQ(eth.depth, 10);

  EXPECT_EQ(c->strategy, StrategyKind::kMarketMaker);
  EXPECT_EQ(btc.market_maker.order_size, 100'000);  // 0.001 at scale 8
  EXPECT_EQ(btc.market_maker.half_spread_ticks, 3);
  EXPECT_EQ(btc.market_maker.requote_ticks, 2);
  EXPECT_EQ(btc.market_maker.skew_ticks, 1);
  EXPECT_EQ(btc.market_maker.max_position, 1'000'000);
  EXPECT_FALSE(btc.market_maker.post_only);
  EXPECT_EQ(eth.market_maker.order_size, 500);  // per-instrument override at scale 4
  EXPECT_EQ(eth.market_maker.max_position, 5000);
  EXPECT_EQ(eth.market_maker.half_spread_ticks, 3);  // inherited from [strategy]
  EXPECT_EQ(eth.strategy_params.at("order_size"), "0.05");

  const RiskConfig& r = c->risk;
  EXPECT_EQ(r.notional_scale, 12);
  ASSERT_EQ(r.instruments.size(), 2u);
  EXPECT_EQ(r.instruments[0].price_scale, 2);
  EXPECT_EQ(r.instruments[0].size_scale, 8);
  EXPECT_EQ(r.instruments[0].max_order_size, 50'000'000);
  EXPECT_EQ(r.instruments[0].max_long, 100'000'000);
  EXPECT_EQ(r.instruments[0].max_order_notional, 5000'000000000000);
  EXPECT_EQ(r.instruments[0].collar_bps, 300);
  EXPECT_EQ(r.instruments[0].collar_ticks, kNoLimit);
  EXPECT_EQ(r.instruments[0].collar_reference, CollarReference::kLastTrade);
  EXPECT_EQ(r.instruments[0].max_open_orders, 4);
  EXPECT_TRUE(r.instruments[0].allow_market_orders);
  EXPECT_EQ(r.instruments[1].tick_size, 5);
  EXPECT_EQ(r.instruments[1].max_order_size, 25'000);
  EXPECT_EQ(r.instruments[1].max_long, 100'000);
  EXPECT_EQ(r.instruments[1].max_short, kNoLimit);
  EXPECT_EQ(r.max_gross_notional, 20000'000000000000);
  EXPECT_EQ(r.capital, 10000'000000000000);
  EXPECT_EQ(r.max_daily_loss, 2505'00000000000);
  EXPECT_EQ(r.max_open_orders_total, 8);
  EXPECT_EQ(r.throttle_max_msgs, 40);
  EXPECT_EQ(r.throttle_window_ns, 2'000'000'000);
  EXPECT_EQ(r.duplicate_window_ns, 50'000'000);
  EXPECT_FALSE(r.self_match_prevention);
  EXPECT_EQ(r.working_capacity, 1024);
  EXPECT_TRUE(r.Validate().ok());

  const BreakerConfig& b = r.breaker;
  EXPECT_EQ(b.stale_after_ns, 3'000'000'000);
  EXPECT_FALSE(b.trip_on_stale_status);
  EXPECT_TRUE(b.trip_on_gap);
  EXPECT_EQ(b.gap_grace_ns, 200'000'000);
  EXPECT_FALSE(b.trip_on_crossed);
  EXPECT_EQ(b.reject_burst_count, 5);
  EXPECT_EQ(b.reject_burst_window_ns, 2'000'000'000);
  EXPECT_EQ(b.price_move_bps, 250);
  EXPECT_EQ(b.price_move_window_ns, 500'000'000);
  EXPECT_EQ(b.latency_budget_ns, 800'000);
  EXPECT_EQ(b.cooldown_ns, 10'000'000'000);
  EXPECT_EQ(b.probe_orders, 2);
  EXPECT_TRUE(b.allow_reducing_when_open);

  EXPECT_TRUE(c->journal.enabled);
  EXPECT_EQ(c->journal.options.dir, "/var/lib/nzeza/journal");
  EXPECT_EQ(c->journal.options.segment_bytes, 1048576u);
  EXPECT_EQ(c->journal.options.fsync, oms::FsyncPolicy::kEveryRecord);
  EXPECT_EQ(c->journal.options.fsync_interval_ns, 20'000'000);

  ASSERT_EQ(c->workers.size(), 2u);
  EXPECT_EQ(c->workers[0].options.name, "md");
  EXPECT_EQ(c->workers[0].options.cpu, 1);
  EXPECT_EQ(c->workers[0].options.wait, WaitStrategy::kSpin);
  EXPECT_EQ(c->workers[0].options.spin_rounds, 100u);
  EXPECT_EQ(c->workers[0].stages, std::vector<StageKind>{StageKind::kFeed});
  EXPECT_EQ(c->workers[1].options.wait, WaitStrategy::kBlock);
  EXPECT_EQ(c->workers[1].options.park_timeout, absl::Microseconds(500));
  EXPECT_EQ(c->workers[1].stages,
            (std::vector<StageKind>{StageKind::kSignal, StageKind::kRisk, StageKind::kOrder}));

  EXPECT_EQ(c->ops.listen, "127.0.0.1");
  EXPECT_EQ(c->ops.port, 9100);
  EXPECT_EQ(c->ops.max_request_bytes, 4096u);
  EXPECT_EQ(c->ops.token_file, "/run/nzeza/ops-token");
  EXPECT_EQ(c->ops.token_env, "");
  EXPECT_TRUE(c->ops.kill_without_token);
  EXPECT_EQ(c->log.level, LogLevel::kDebug);
  EXPECT_EQ(c->log.file, "/tmp/nzeza.log");
  EXPECT_EQ(c->log.queue_capacity, 4096u);
}

TEST(Config, StrategyConfigIsAcceptedByTheRegistry) {
  absl::StatusOr<EngineConfig> c = Load(kFull);
  ASSERT_TRUE(c.ok()) << c.status();
  for (size_t i = 0; i < c->instruments.size(); ++i) {
    StrategyConfig sc = MakeStrategyConfig(*c, i, 7);
    EXPECT_EQ(sc.type, "market_maker");
    EXPECT_EQ(sc.strategy_id, 7u);
    EXPECT_EQ(sc.instrument.id, i);
    EXPECT_EQ(sc.instrument.tick, c->instruments[i].tick);
    absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(sc);
    EXPECT_TRUE(s.ok()) << s.status();
  }
}

TEST(Config, TakerParameters) {
  absl::StatusOr<EngineConfig> c = Load(R"(
[strategy]
kind = "book_imbalance_taker"
order_size = "0.002"
max_position = "0.004"
threshold_bp = 7000
cooldown_ms = 250
slippage_ticks = 2
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->strategy, StrategyKind::kBookImbalanceTaker);
  const BookImbalanceTaker::Params& p = c->instruments[0].book_imbalance_taker;
  EXPECT_EQ(p.order_size, 200'000);
  EXPECT_EQ(p.max_position, 400'000);
  EXPECT_EQ(p.threshold_bp, 7000);
  EXPECT_EQ(p.cooldown_ns, 250'000'000);
  EXPECT_EQ(p.slippage_ticks, 2);
  EXPECT_TRUE(MakeStrategy(MakeStrategyConfig(*c, 0, 1)).ok());
}

TEST(Config, EmptyFileIsTheDefault) {
  absl::StatusOr<EngineConfig> c = Load("");
  ASSERT_TRUE(c.ok()) << c.status();
  const EngineConfig d = DefaultEngineConfig(2);
  EXPECT_EQ(c->venue.kind, VenueKind::kSim);
  EXPECT_TRUE(c->sim.embedded);
  EXPECT_EQ(c->engine.duration_s, 30);
  ASSERT_EQ(c->instruments.size(), 1u);
  EXPECT_EQ(c->instruments[0].symbol, "BTC-USD");
  EXPECT_EQ(c->instruments[0].market_maker.order_size, d.instruments[0].market_maker.order_size);
  EXPECT_EQ(c->risk.instruments[0].max_order_size, d.risk.instruments[0].max_order_size);
  EXPECT_EQ(c->risk.capital, d.risk.capital);
  EXPECT_TRUE(c->risk.Validate().ok());
  ASSERT_EQ(c->workers.size(), d.workers.size());
  EXPECT_TRUE(MakeStrategy(MakeStrategyConfig(*c, 0, 1)).ok());
  EXPECT_EQ(c->ops.port, 9464);
  EXPECT_EQ(c->ops.token_file, "nzeza-ops-token");
  EXPECT_EQ(c->ops.token_env, "");
  EXPECT_FALSE(c->ops.kill_without_token);
}

TEST(Config, DefaultConfigIsValid) {
  for (int cpus : {1, 2, 3, 4, 8}) {
    EngineConfig c = DefaultEngineConfig(cpus);
    EXPECT_TRUE(c.risk.Validate().ok()) << cpus;
    EXPECT_TRUE(MakeStrategy(MakeStrategyConfig(c, 0, 1)).ok()) << cpus;
  }
}

TEST(Config, OverlayKeepsDefaultsAndRescalesNotionals) {
  // Raising the notional scale keeps the default limits' values (exactly rescaled).
  absl::StatusOr<EngineConfig> c = Load("[risk]\nnotional_scale = 12\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const EngineConfig d = DefaultEngineConfig(2);
  EXPECT_EQ(c->risk.capital, d.risk.capital * 100);
  EXPECT_EQ(c->risk.max_daily_loss, d.risk.max_daily_loss * 100);
  EXPECT_EQ(c->risk.instruments[0].max_order_notional,
            d.risk.instruments[0].max_order_notional * 100);
  EXPECT_EQ(c->risk.instruments[0].max_order_size, d.risk.instruments[0].max_order_size);
}

TEST(Config, DayBoundaryIsUtcMidnightUnlessConfigured) {
  absl::StatusOr<EngineConfig> c = Load("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->risk.day_boundary_ns, 0);
  c = Load("[risk]\nday_boundary_utc = \"22:30\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->risk.day_boundary_ns, (22 * 60 + 30) * 60'000'000'000);
  c = Load("[risk]\nday_boundary_utc = \"23:59\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->risk.day_boundary_ns, (23 * 60 + 59) * 60'000'000'000);
}

TEST(Config, IntegerDecimalsAndNoneAreAccepted) {
  absl::StatusOr<EngineConfig> c = Load(R"(
[risk]
capital = 5000
max_daily_loss = "none"
max_long = "none"
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->risk.capital, 5000'0000000000);
  EXPECT_EQ(c->risk.max_daily_loss, kNoLimit);
  EXPECT_EQ(c->risk.instruments[0].max_long, kNoLimit);
}

TEST(Config, DefaultWorkersFitTheCores) {
  auto spinning = [](const std::vector<WorkerConfig>& ws) {
    int n = 0;
    for (const WorkerConfig& w : ws) n += w.options.wait == WaitStrategy::kSpin;
    return n;
  };
  auto stages = [](const std::vector<WorkerConfig>& ws) {
    std::vector<int> seen(kStageCount, 0);
    for (const WorkerConfig& w : ws) {
      for (StageKind k : w.stages) ++seen[static_cast<int>(k)];
    }
    return seen;
  };
  const std::vector<int> once(kStageCount, 1);

  std::vector<WorkerConfig> one = DefaultWorkers(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].stages.size(), 4u);
  EXPECT_EQ(one[0].options.wait, WaitStrategy::kSpinYield);
  EXPECT_EQ(one[0].options.cpu, -1);
  EXPECT_EQ(stages(one), once);

  std::vector<WorkerConfig> two = DefaultWorkers(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(spinning(two), 0);  // spin_yield: the control-plane threads keep their turn
  EXPECT_EQ(two[0].stages, std::vector<StageKind>{StageKind::kFeed});
  EXPECT_NE(two[0].options.cpu, two[1].options.cpu);
  EXPECT_EQ(stages(two), once);

  std::vector<WorkerConfig> three = DefaultWorkers(3);
  EXPECT_EQ(spinning(three), 2);
  EXPECT_EQ(stages(three), once);
  for (const WorkerConfig& w : three) EXPECT_NE(w.options.cpu, 0);  // cpu 0 left free

  for (int cpus : {4, 5, 16}) {
    std::vector<WorkerConfig> ws = DefaultWorkers(cpus);
    ASSERT_EQ(ws.size(), 4u) << cpus;
    EXPECT_EQ(spinning(ws), 4);
    EXPECT_LE(spinning(ws), cpus);
    EXPECT_EQ(stages(ws), once);
    std::set<int> used;
    for (const WorkerConfig& w : ws) {
      EXPECT_GE(w.options.cpu, 0);
      used.insert(w.options.cpu);
    }
    EXPECT_EQ(used.size(), 4u) << "distinct cores";
    if (cpus >= 5) {
      EXPECT_EQ(used.count(0), 0u) << "cpu 0 left to the control plane";
    }
  }

  // Real cpu ids (e.g. a cpuset) are used as given.
  std::vector<int> ids = {3, 7};
  std::vector<WorkerConfig> set = DefaultWorkers(ids);
  EXPECT_EQ(set[0].options.cpu, 3);
  EXPECT_EQ(set[1].options.cpu, 7);
}

TEST(Config, DefaultWorkersAreValidAsAFile) {
  // What DefaultWorkers(4) produces, written out, passes the loader's own checks.
  absl::StatusOr<EngineConfig> c = Load(R"(
[[workers]]
name = "feed"
stages = ["feed"]
cpu = 0
wait = "spin"
[[workers]]
name = "signal"
stages = ["signal"]
cpu = 1
wait = "spin"
[[workers]]
name = "risk"
stages = ["risk"]
cpu = 2
wait = "spin"
[[workers]]
name = "order"
stages = ["order"]
cpu = 3
wait = "spin"
)",
                                        {0, 1, 2, 3});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers.size(), 4u);
}

// ---------------------------------------------------------------------------------------------
// Errors: each names the key path and the problem.

TEST(ConfigErrors, SyntaxErrorHasLineAndColumn) {
  const std::string e = Error("[engine]\nduration_s = = 3\n");
  NZ_EXPECT_HAS(e, "test.toml:2:");
  NZ_EXPECT_HAS(e, "TOML syntax error");
}

TEST(ConfigErrors, UnknownKeyWithDidYouMean) {
  NZ_EXPECT_HAS(Error("[enigne]\nduration_s = 3\n"),
                "test.toml:1: enigne: unknown key (did you mean \"engine\"?)");
  NZ_EXPECT_HAS(Error("[engine]\nduraton_s = 3\n"),
                "test.toml:2: engine.duraton_s: unknown key (did you mean \"duration_s\"?)");
  NZ_EXPECT_HAS(Error("[risk]\nmax_order_sise = \"1\"\n"),
                "risk.max_order_sise: unknown key (did you mean \"max_order_size\"?)");
  // Nothing close: no suggestion.
  const std::string e = Error("[engine]\nbanana = 1\n");
  NZ_EXPECT_HAS(e, "engine.banana: unknown key");
  NZ_EXPECT_LACKS(e, "did you mean");
}

TEST(ConfigErrors, ReportsEveryProblemAtOnce) {
  const std::string e = Error("[engine]\nduration_s = -1\n[log]\nlevel = \"loud\"\n");
  NZ_EXPECT_HAS(e, "test.toml:2: engine.duration_s: must be in [0, 10000000] (got -1)");
  NZ_EXPECT_HAS(e,
                "test.toml:4: log.level: \"loud\" is not one of \"debug\", \"info\", "
                "\"warn\", \"error\"");
}

TEST(ConfigErrors, WrongTypes) {
  NZ_EXPECT_HAS(Error("[engine]\nduration_s = \"30\"\n"),
                "engine.duration_s: expected an integer, got a string");
  NZ_EXPECT_HAS(Error("[journal]\nenabled = 1\n"),
                "journal.enabled: expected true or false, got an integer");
  NZ_EXPECT_HAS(Error("engine = 3\n"), "engine: expected a table, got an integer");
}

TEST(ConfigErrors, DecimalsAreExact) {
  constexpr std::string_view kInstrument = R"(
[[instruments]]
symbol = "BTC-USD"
tick_size = "%s"
lot_size = "0.001"
[strategy]
order_size = "0.001"
max_position = "0.01"
[risk]
max_order_size = "1"
max_long = "1"
max_short = "1"
)";
  auto with_tick = [&](std::string_view tick) {
    std::string t(kInstrument);
    t.replace(t.find("%s"), 2, tick);
    return t;
  };
  NZ_EXPECT_HAS(Error(with_tick("0.0x")),
                "test.toml:4: instruments[0].tick_size: \"0.0x\" is not a decimal");
  NZ_EXPECT_HAS(Error(with_tick("0")), "instruments[0].tick_size: must be > 0");
  NZ_EXPECT_HAS(Error(with_tick("-0.01")), "instruments[0].tick_size: must be > 0");
  // A TOML float went through binary floating point: refused.
  std::string f(with_tick("0.01"));
  f.replace(f.find("\"0.01\""), 6, "0.01");
  NZ_EXPECT_HAS(Error(f), "instruments[0].tick_size: a TOML float is inexact");
  NZ_EXPECT_HAS(Error("[risk]\ncapital = 1000.5\n"), "risk.capital: a TOML float");
}

TEST(ConfigErrors, RiskLimits) {
  NZ_EXPECT_HAS(Error("[risk]\nmax_order_size = \"0\"\n"),
                "test.toml:2: risk.max_order_size: must be > 0");
  NZ_EXPECT_HAS(Error("[risk]\nmax_order_size = \"-1\"\n"),
                "risk.max_order_size: \"-1\" must not be negative");
  NZ_EXPECT_HAS(Error("[risk]\nmax_order_size = \"0.000000001\"\n"),
                "risk.max_order_size: \"0.000000001\" has more than 8 decimals");
  NZ_EXPECT_HAS(Error("[risk]\ncollar_reference = \"median\"\n"),
                "risk.collar_reference: \"median\" is not one of \"mid\", \"last_trade\"");
  // Regression: "venue_band" was accepted, and with nothing feeding a band every order was then
  // refused with no_reference_price. The error names the key and what to use instead.
  NZ_EXPECT_HAS(Error("[risk]\ncollar_reference = \"venue_band\"\n"),
                "test.toml:2: risk.collar_reference: \"venue_band\" is not supported: nothing "
                "feeds a venue price band");
  NZ_EXPECT_HAS(Error("[risk.instrument.\"BTC-USD\"]\ncollar_reference = \"venue_band\"\n"),
                "use \"mid\" or \"last_trade\" with collar_bps / collar_ticks");
  NZ_EXPECT_HAS(Error("[risk]\nday_boundary_utc = \"24:00\"\n"),
                "test.toml:2: risk.day_boundary_utc: \"24:00\" is not a time of day \"HH:MM\"");
  NZ_EXPECT_HAS(Error("[risk]\nday_boundary_utc = \"7:30\"\n"),
                "risk.day_boundary_utc: \"7:30\" is not a time of day");
  NZ_EXPECT_HAS(Error("[risk]\nday_boundary_utc = \"12:60\"\n"),
                "risk.day_boundary_utc: \"12:60\" is not a time of day");
  NZ_EXPECT_HAS(Error("[risk]\nday_boundary_utc = 22\n"),
                "risk.day_boundary_utc: expected a string");
  NZ_EXPECT_HAS(Error("[risk]\nnotional_scale = 5\n"),
                "risk.notional_scale: must be >= price scale + size scale");
  NZ_EXPECT_HAS(Error("[risk]\nmax_open_orders = 0\n"),
                "risk.max_open_orders: must be > 0 (got 0)");
  NZ_EXPECT_HAS(Error("[risk]\ncapital = \"lots\"\n"),
                "risk.capital: \"lots\" is not a decimal or \"none\"");
  // A per-instrument table for an instrument that is not configured.
  NZ_EXPECT_HAS(Error("[risk.instrument.\"BTC-USDT\"]\nmax_long = \"1\"\n"),
                "risk.instrument.\"BTC-USDT\": \"BTC-USDT\" is not a configured "
                "instrument (did you mean \"BTC-USD\"?)");
  NZ_EXPECT_HAS(Error("[risk.instrument.\"BTC-USD\"]\nmax_lng = \"1\"\n"),
                "risk.instrument.\"BTC-USD\".max_lng: unknown key (did you mean "
                "\"max_long\"?)");
}

TEST(ConfigErrors, NewInstrumentsNeedTheirSizeLimits) {
  const std::string e = Error(R"(
[[instruments]]
symbol = "ETH-USD"
tick_size = "0.01"
lot_size = "0.0001"
)");
  NZ_EXPECT_HAS(e, "risk.max_order_size: required for instruments[0] \"ETH-USD\"");
  NZ_EXPECT_HAS(e, "risk.max_long: required");
  NZ_EXPECT_HAS(e, "strategy.order_size: required by market_maker");
  NZ_EXPECT_HAS(e, "strategy.max_position: required by market_maker");
}

TEST(ConfigErrors, InstrumentsTable) {
  NZ_EXPECT_HAS(Error("[[instruments]]\ntick_size = \"0.01\"\nlot_size = \"1\"\n"),
                "instruments[0].symbol: required");
  NZ_EXPECT_HAS(Error(R"(
[[instruments]]
symbol = "A"
tick_size = "1"
lot_size = "1"
[[instruments]]
symbol = "A"
tick_size = "1"
lot_size = "1"
)"),
                "instruments[1].symbol: \"A\" is already instruments[0]");
  NZ_EXPECT_HAS(Error("instruments = 3\n"), "instruments: expected an array of tables");
}

TEST(ConfigErrors, StrategyParameters) {
  NZ_EXPECT_HAS(Error("[strategy]\nkind = \"scalper\"\n"),
                "strategy.kind: \"scalper\" is not one of \"market_maker\", "
                "\"book_imbalance_taker\"");
  // Not a multiple of the lot.
  NZ_EXPECT_HAS(Error(R"(
[[instruments]]
symbol = "ETH-USD"
tick_size = "0.01"
lot_size = "0.01"
[strategy]
order_size = "0.015"
max_position = "1"
[risk]
max_order_size = "1"
max_long = "1"
max_short = "1"
)"),
                "strategy.order_size: \"0.015\" has more than 2 decimals");
  NZ_EXPECT_HAS(Error(R"(
[[instruments]]
symbol = "ETH-USD"
tick_size = "0.01"
lot_size = "0.05"
[strategy]
order_size = "0.12"
max_position = "1"
[risk]
max_order_size = "1"
max_long = "1"
max_short = "1"
)"),
                "strategy.order_size: 0.12 is not a multiple of instruments[0] "
                "\"ETH-USD\" lot_size 0.05");
  NZ_EXPECT_HAS(Error("[strategy]\nhalf_spread_ticks = 0\n"),
                "strategy.half_spread_ticks: must be in [1, 1000000] (got 0)");
  // A taker parameter under the market maker: says whose it is.
  NZ_EXPECT_HAS(Error("[strategy]\nthreshold_bp = 5000\n"),
                "strategy.threshold_bp: a parameter of book_imbalance_taker, not of "
                "market_maker");
  NZ_EXPECT_HAS(Error("[strategy.instrument.\"BTC-USD\"]\nordr_size = \"0.1\"\n"),
                "strategy.instrument.\"BTC-USD\".ordr_size: unknown key (did you mean "
                "\"order_size\"?)");
}

TEST(ConfigErrors, Workers) {
  const std::string twice = Error(R"(
[[workers]]
name = "a"
stages = ["feed", "risk"]
[[workers]]
name = "b"
stages = ["signal", "risk", "order"]
)");
  NZ_EXPECT_HAS(twice,
                "test.toml:7: workers[1].stages: stage \"risk\" assigned twice (also in "
                "workers[0])");
  NZ_EXPECT_HAS(Error("[[workers]]\nstages = [\"feed\", \"signal\", \"risk\"]\n"),
                "workers: stage \"order\" is not assigned to any worker");
  NZ_EXPECT_HAS(Error("[[workers]]\nstages = [\"feed\", \"signal\", \"risk\", \"oder\"]\n"),
                "workers[0].stages: \"oder\" is not a stage");
  NZ_EXPECT_HAS(Error("[[workers]]\nstages = [\"feed\", \"signal\", \"risk\", \"order\"]\n"
                      "cpu = 7\n"),
                "workers[0].cpu: cpu 7 is not available to this process (allowed: 0,1)");
  NZ_EXPECT_HAS(Error("[[workers]]\nstages = [\"feed\", \"signal\", \"risk\", \"order\"]\n"
                      "wait = \"sleep\"\n"),
                "workers[0].wait: \"sleep\" is not one of \"spin\", \"spin_yield\", "
                "\"block\"");
  // Never more spinning threads than cores.
  const std::string spin = Error(R"(
[[workers]]
stages = ["feed"]
wait = "spin"
[[workers]]
stages = ["signal"]
wait = "spin"
[[workers]]
stages = ["risk", "order"]
wait = "spin"
)");
  NZ_EXPECT_HAS(spin,
                "workers: 3 workers wait by \"spin\" but only 2 cpus are "
                "available");
  NZ_EXPECT_HAS(Error(R"(
[[workers]]
stages = ["feed"]
cpu = 1
wait = "spin"
[[workers]]
stages = ["signal", "risk", "order"]
cpu = 1
wait = "spin"
)"),
                "workers[1].cpu: cpu 1 is also used by workers[0]");
  NZ_EXPECT_HAS(Error(R"(
[[workers]]
name = "x"
stages = ["feed"]
[[workers]]
name = "x"
stages = ["signal", "risk", "order"]
)"),
                "workers[1].name: \"x\" is already the name of workers[0]");
}

TEST(ConfigErrors, Journal) {
  NZ_EXPECT_HAS(Error("[journal]\nfsync = \"sometimes\"\n"),
                "journal.fsync: \"sometimes\" is not one of \"every_record\", "
                "\"interval\", \"never\"");
  NZ_EXPECT_HAS(Error("[journal]\nsegment_bytes = 100\n"),
                "journal.segment_bytes: must be in [4096, ");
  NZ_EXPECT_HAS(Error("[journal]\ndir = \"\"\n"), "journal.dir: must not be empty");
}

TEST(ConfigErrors, OpsMustBeLoopback) {
  NZ_EXPECT_HAS(Error("[ops]\nlisten = \"0.0.0.0\"\n"),
                "ops.listen: \"0.0.0.0\" is not a loopback address");
  NZ_EXPECT_HAS(Error("[ops]\nlisten = \"10.1.2.3\"\n"),
                "ops.listen: \"10.1.2.3\" is not a loopback address");
  NZ_EXPECT_HAS(Error("[ops]\nport = 70000\n"), "ops.port: must be in [0, 65535]");
  for (std::string_view ok : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    absl::StatusOr<EngineConfig> c =
        Load("[ops]\nlisten = \"" + std::string(ok) + "\"\nport = 0\n");
    EXPECT_TRUE(c.ok()) << ok << ": " << c.status();
  }
}

TEST(Config, OpsTokenFromTheEnvironment) {
  absl::StatusOr<EngineConfig> c = Load("[ops]\ntoken_env = \"NZEZA_OPS_TOKEN\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ops.token_env, "NZEZA_OPS_TOKEN");
  EXPECT_EQ(c->ops.token_file, "nzeza-ops-token");  // kept, but token_env wins
  EXPECT_FALSE(c->ops.kill_without_token);
}

TEST(ConfigErrors, OpsToken) {
  NZ_EXPECT_HAS(Error("[ops]\ntoken_file = \"\"\n"),
                "test.toml:2: ops.token_file: must not be empty");
  NZ_EXPECT_HAS(Error("[ops]\ntoken_file = 3\n"),
                "ops.token_file: expected a string, got an integer");
  NZ_EXPECT_HAS(Error("[ops]\ntoken_env = \"1BAD-NAME\"\n"),
                "ops.token_env: \"1BAD-NAME\" is not an environment variable name");
  NZ_EXPECT_HAS(Error("[ops]\ntoken_env = true\n"),
                "ops.token_env: expected a string, got a boolean");
  NZ_EXPECT_HAS(Error("[ops]\ntoken_file = \"/p\"\ntoken_env = \"NZEZA_OPS_TOKEN\"\n"),
                "test.toml:3: ops.token_env: set either token_file or token_env, not both");
  NZ_EXPECT_HAS(Error("[ops]\nkill_without_token = \"yes\"\n"),
                "ops.kill_without_token: expected true or false, got a string");
  NZ_EXPECT_HAS(Error("[ops]\nkill_without_token = 1\n"),
                "ops.kill_without_token: expected true or false, got an integer");
  NZ_EXPECT_HAS(Error("[ops]\ntokn_file = \"/p\"\n"),
                "ops.tokn_file: unknown key (did you mean \"token_file\"?)");
  NZ_EXPECT_HAS(Error("[ops]\nkill_without_tokens = true\n"),
                "ops.kill_without_tokens: unknown key (did you mean \"kill_without_token\"?)");
  // A token pasted into the file is refused, and not echoed.
  const std::string pasted = Error("[ops]\ntoken = \"s3cr3t-0123456789abcdef\"\n");
  NZ_EXPECT_HAS(pasted, "ops.token: the token is never read from the configuration file");
  NZ_EXPECT_LACKS(pasted, "s3cr3t");
  NZ_EXPECT_LACKS(pasted, "unknown key");
}

TEST(Config, ShutdownTimeout) {
  absl::StatusOr<EngineConfig> d = Load("");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->engine.shutdown_timeout_ms, 10'000);
  absl::StatusOr<EngineConfig> c = Load("[engine]\nshutdown_timeout_ms = 2500\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->engine.shutdown_timeout_ms, 2500);
  NZ_EXPECT_HAS(Error("[engine]\nshutdown_timeout_ms = -5\n"), "engine.shutdown_timeout_ms");
  EXPECT_EQ(d->engine.order_table_capacity, 1 << 16);
  NZ_EXPECT_HAS(Error("[engine]\norder_table_capacity = 8\n"), "engine.order_table_capacity");
}

TEST(Config, ReconcileKeys) {
  absl::StatusOr<EngineConfig> d = Load("");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->reconcile.cancel_foreign_orders);  // report by default
  EXPECT_EQ(d->reconcile.unacked_grace_ms, 3000);
  absl::StatusOr<EngineConfig> c =
      Load("[reconcile]\nforeign_orders = \"cancel\"\nunacked_grace_ms = 250\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->reconcile.cancel_foreign_orders);
  EXPECT_EQ(c->reconcile.unacked_grace_ms, 250);
}

TEST(ConfigErrors, Reconcile) {
  NZ_EXPECT_HAS(Error("[reconcile]\nforeign_orders = \"ignore\"\n"), "reconcile.foreign_orders");
  NZ_EXPECT_HAS(Error("[reconcile]\nforeign_orders = \"ignore\"\n"), "\"report\"");
  NZ_EXPECT_HAS(Error("[reconcile]\nunacked_grace_ms = -1\n"), "reconcile.unacked_grace_ms");
  NZ_EXPECT_HAS(Error("[reconcile]\nforeign = \"cancel\"\n"), "reconcile.foreign: unknown key");
}

TEST(ConfigErrors, VenueAndCredentials) {
  NZ_EXPECT_HAS(Error("[venue]\nkind = \"binance\"\n"),
                "venue.kind: \"binance\" is not one of \"sim\", \"coinbase\"");
  NZ_EXPECT_HAS(Error("[venue]\nkind = \"coinbase\"\n"),
                "venue.credentials: kind \"coinbase\" needs a private key");
  NZ_EXPECT_HAS(Error("[venue.credentials]\nprivate_key_env = \"1BAD\"\n"),
                "venue.credentials.private_key_env: \"1BAD\" is not an environment "
                "variable name");
  NZ_EXPECT_HAS(Error("[venue.credentials]\nkey_file = \"/k\"\nprivate_key_env = \"K\"\n"
                      "key_name = \"n\"\n"),
                "venue.credentials: set either key_file or private_key_env, not both");
  // A secret pasted into the file is refused and never echoed.
  const std::string e =
      Error("[venue.credentials]\nprivate_key = \"-----BEGIN EC PRIVATE KEY-----SECRETBYTES\"\n");
  NZ_EXPECT_HAS(e,
                "venue.credentials.private_key: secrets are never read from the "
                "configuration file");
  NZ_EXPECT_LACKS(e, "SECRETBYTES");
  NZ_EXPECT_HAS(Error("[sim]\nembedded = false\n"),
                "venue: an external simulator ([sim] embedded = false) needs rest_port");
}

TEST(ConfigErrors, SimAndBreaker) {
  NZ_EXPECT_HAS(Error("[sim]\nvolatility_bps = \"-3\"\n"),
                "sim.volatility_bps: \"-3\" must not be negative");
  NZ_EXPECT_HAS(Error("[sim.faults]\nstall_ms = 100\n"),
                "sim.faults.stall_ms: stall_every_s and stall_ms go together");
  NZ_EXPECT_HAS(Error("[sim.instrument.\"BTC-USD\"]\nstart_price = \"100.001\"\n"),
                "sim.instrument.\"BTC-USD\".start_price: \"100.001\" has more than 2 "
                "decimals");
  NZ_EXPECT_HAS(Error("[breaker]\ncooldown_ms = -5\n"),
                "breaker.cooldown_ms: must be in [0, 86400000] (got -5)");
  NZ_EXPECT_HAS(Error("[breaker]\nreject_burst_count = \"many\"\n"),
                "breaker.reject_burst_count: expected an integer or \"none\", got a "
                "string");
}

TEST(ConfigFile, MissingFileNamesThePath) {
  absl::StatusOr<EngineConfig> c = LoadEngineConfigFile("/nonexistent/nzeza.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  NZ_EXPECT_HAS(std::string(c.status().message()), "/nonexistent/nzeza.toml");
}

TEST(ConfigFile, LoadsAFile) {
  char path[] = "/tmp/nzeza_config_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "[engine]\nduration_s = 5\n[ops]\nport = 0\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  absl::StatusOr<EngineConfig> c = LoadEngineConfigFile(path, Cpus({0, 1}));
  unlink(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->engine.duration_s, 5);
  EXPECT_EQ(c->ops.port, 0);
  EXPECT_EQ(c->source, path);
}

}  // namespace
}  // namespace nzeza::app
