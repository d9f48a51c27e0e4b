// Configuration of the risk stage: pre-trade limits (global and per instrument) and the circuit
// breaker's trip conditions. Built by the control plane (TOML loader, tests), validated once with
// Validate(), then handed to RiskCore, which never changes it.
//
//   nzeza::RiskConfig cfg;
//   cfg.notional_scale = 10;                     // quote notionals as mantissas at scale 10
//   nzeza::InstrumentRisk& btc = cfg.instruments.emplace_back();
//   btc.price_scale = 2;  btc.size_scale = 8;    // BTC-USD: 0.01 USD ticks, 1e-8 BTC lots
//   btc.max_order_size = 100'000'000;            // 1 BTC
//   btc.max_long = btc.max_short = 500'000'000;  // 5 BTC
//   if (absl::Status s = cfg.Validate(); !s.ok()) { /* report s.message(): names the field */ }
//
// Conventions:
// - Every limit is "inclusive": a value exactly at the limit is accepted, one tick/lot beyond is
//   refused. kNoLimit (INT64_MAX) disables a limit.
// - Sizes are mantissas at the instrument's size scale, prices at its price scale. Notionals
//   (order value, gross exposure, capital, loss) are mantissas at RiskConfig::notional_scale, which
//   must be >= price_scale + size_scale of every instrument so that price x size converts exactly
//   (a multiplication by a power of ten, in 128 bits).
// - Durations are monotonic nanoseconds.
//
// Thread: a plain value; build and validate it on the control-plane thread.
// Allocates: the instrument vector (control plane only).
#ifndef NZEZA_RISK_RISK_CONFIG_H_
#define NZEZA_RISK_RISK_CONFIG_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"

namespace nzeza {

// Disables a limit (every limit is an int64 compared inclusively).
inline constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

// Which reference price the collar compares an order's price against.
enum class CollarReference : uint8_t {
  kMid = 0,        // (best bid + best ask) / 2 from the last BBO
  kLastTrade = 1,  // price of the last trade seen
  // [low, high] set by RiskCore::SetVenueBand (the venue's own price band). Only for a process
  // that feeds the band: until SetVenueBand is called every order is refused with
  // kNoReferencePrice. The nzeza engine does not (the Coinbase feed publishes no band), so its
  // configuration refuses collar_reference = "venue_band".
  kVenueBand = 2,
};

inline constexpr int64_t kNanosPerDay = 86'400'000'000'000;

// Start (Unix ns) of the trading day that contains `unix_ns`, for days that begin
// `boundary_ns` after UTC midnight (0 <= boundary_ns < kNanosPerDay). Floors for times before
// the epoch too. O(1), no allocation.
inline constexpr int64_t TradingDayStart(int64_t unix_ns, int64_t boundary_ns) noexcept {
  const int64_t t = unix_ns - boundary_ns;
  int64_t day = t / kNanosPerDay;
  if (t % kNanosPerDay < 0) --day;
  return day * kNanosPerDay + boundary_ns;
}

// Limits of one instrument. Index in RiskConfig::instruments = InstrumentId.
struct InstrumentRisk {
  int price_scale = 2;  // decimal places of price mantissas (tick size 0.01 -> 2)
  int size_scale = 8;   // decimal places of size mantissas
  int fee_scale = 10;   // decimal places of ExecEvent::fee; must be <= notional_scale

  int64_t tick_size = 1;  // price mantissas must be multiples of this (> 0)
  int64_t lot_size = 1;   // size mantissas must be multiples of this (> 0)

  int64_t max_order_size = kNoLimit;      // size mantissa
  int64_t max_order_notional = kNoLimit;  // at notional_scale

  // Price collar: a limit order's price may deviate from the reference by at most collar_bps basis
  // points of the reference AND at most collar_ticks ticks (each disabled by kNoLimit). With
  // kVenueBand the band itself is the collar and bps/ticks are not used.
  CollarReference collar_reference = CollarReference::kMid;
  int64_t collar_bps = kNoLimit;
  int64_t collar_ticks = kNoLimit;

  // Position limits, both as positive size mantissas: position + working buys + order <= max_long,
  // position - working sells - order >= -max_short.
  int64_t max_long = kNoLimit;
  int64_t max_short = kNoLimit;

  int64_t max_open_orders = kNoLimit;  // working orders on this instrument

  // Market orders carry no price: when allowed they are valued at the collar reference (mid or last
  // trade; refused without one) and skip the collar. Refused when false.
  bool allow_market_orders = false;
};

// Circuit-breaker trip conditions and recovery. Durations in ns; kNoLimit / false disables.
struct BreakerConfig {
  int64_t stale_after_ns = kNoLimit;  // trip when an instrument that had data is silent this long
  bool trip_on_stale_status = true;   // trip on MdStatus::kStale from the feed
  bool trip_on_gap = true;            // trip on a sequence gap unresolved after gap_grace_ns
  int64_t gap_grace_ns = 0;
  bool trip_on_crossed = true;            // trip on MdStatus::kCrossed or a BBO with bid >= ask
  bool trip_on_ring_overrun = true;       // trip on OnRingOverrun()
  int64_t reject_burst_count = kNoLimit;  // trip on this many venue rejects ...
  int64_t reject_burst_window_ns = 1'000'000'000;  // ... within this window (sliding)
  int64_t price_move_bps = kNoLimit;               // trip on a move over this many bps ...
  int64_t price_move_window_ns = 1'000'000'000;    // ... within this window
  int64_t latency_budget_ns = kNoLimit;            // trip on a tick-to-order sample above this

  int64_t cooldown_ns = 5'000'000'000;    // open -> half-open after this (conditions cleared)
  int64_t probe_orders = 1;               // new orders let through while half-open
  bool allow_reducing_when_open = false;  // risk-reducing orders while open/half-open-exhausted
};

struct RiskConfig {
  int notional_scale = 10;  // scale of every notional below; >= price_scale + size_scale, <= 30
  std::vector<InstrumentRisk> instruments;

  // Gross notional: sum |position cost| + all working order notional + the new order. An order
  // that only reduces its instrument's position (with that side's working orders) is exempt from
  // this and the credit check.
  int64_t max_gross_notional = kNoLimit;
  // Credit: capital + realized PnL - fees + min(unrealized, 0) must cover |position cost| + all
  // working order notional + the new order.
  int64_t capital = kNoLimit;
  int64_t max_open_orders_total = kNoLimit;

  // Message throttle: at most throttle_max_msgs orders + cancels in any sliding window of
  // throttle_window_ns. The window keeps one timestamp per message: throttle_max_msgs <= 1 << 20.
  int64_t throttle_max_msgs = kNoLimit;
  int64_t throttle_window_ns = 1'000'000'000;

  // Duplicate orders: same instrument, side, price and size accepted within this window (0 = off).
  int64_t duplicate_window_ns = 0;
  // Self-match prevention: refuse an order that would cross one of our own working orders.
  bool self_match_prevention = true;
  // Max loss: -(the trading day's realized - the day's fees + unrealized) >= max_daily_loss
  // latches the kill switch. Realized PnL and fees count from the start of the trading day (see
  // day_boundary_ns; RiskCore::SeedDayPnl carries them over a restart); unrealized PnL is that of
  // the open position against its cost basis, whenever it was opened.
  int64_t max_daily_loss = kNoLimit;
  // The trading day begins this long after UTC midnight, in [0, kNanosPerDay): 0 is midnight
  // UTC, 22 * 3600e9 is 22:00 UTC. Wall time: RiskCore::SetWallClock maps risk's clock to it.
  int64_t day_boundary_ns = 0;

  // Capacity of the working-order table (orders accepted and not yet ended by an exec event).
  // The tables are sized here, at construction; in [1, 1 << 22].
  int32_t working_capacity = 4096;

  // First client order id to assign. The OMS recovers the next unused id from its journal at start
  // and passes it here, so ids stay unique across restarts. Must be > 0.
  uint64_t first_client_order_id = 1;

  BreakerConfig breaker;

  // OK, or InvalidArgument naming the offending field, e.g.
  // "instruments[1].tick_size: must be > 0 (got 0)". Allocates the message only on error.
  absl::Status Validate() const;
};

}  // namespace nzeza

#endif  // NZEZA_RISK_RISK_CONFIG_H_
