// The risk stage's decision logic: pre-trade checks, its own pessimistic view of positions and
// working orders, the circuit breaker and the kill switch.
//
//   nzeza::ManualClock clock;                          // TscClock in production
//   nzeza::RiskEngine<nzeza::ManualClock> risk(cfg, clock);   // cfg validated first
//   nzeza::OrderCmd cmd;
//   nzeza::RiskDecision d = risk.CheckIntent(intent, &cmd);
//   if (d.accepted()) ring.try_push(cmd); else count(d.reason);
//   risk.OnExec(exec);  risk.OnMarketData(md);  risk.Poll();   // every stage loop
//   while (risk.PopCommand(&cmd)) ring.try_push(cmd);          // breaker / kill-switch cancels
//   nzeza::BreakerEvent ev; while (risk.PopBreakerEvent(&ev)) log(ev);
//
// Pessimistic counting: an order counts as working (its full remaining size toward position
// limits, its notional toward gross/credit, one toward open-order counts) from the moment
// CheckIntent accepts it until an exec event ends it (reject, cancel, expire, or a fill leaving
// nothing). A cancel *request* frees nothing. So orders in flight to the venue can never let a
// later order slip past a limit. A cancel/expiry (or a last fill) whose cum_size exceeds the fills
// seen so far keeps the difference working until those fills arrive, so a fill that overtakes
// nothing but arrives after the order's end is still covered.
//
// Client order ids: CheckIntent assigns each accepted command (new, cancel, cancel-all, and the
// breaker's own cancels) the next value of a 64-bit sequence starting at
// RiskConfig::first_client_order_id; the OMS recovers that start from its journal, so ids are
// unique across restarts.
//
// Trading day: max_daily_loss counts the realized PnL and fees of the current trading day
// (RiskConfig::day_boundary_ns after UTC midnight). Risk's clock is monotonic; SetWallClock gives
// it the offset to Unix time once, at start (so the hot path reads no wall clock: a step of the
// system clock after start is not followed; the day boundary is then off by that step). When
// `now` reaches the next boundary the day's realized PnL and fees restart from zero (checked on
// fills, market data and Poll: one comparison). A loss-limit kill stays latched over the boundary
// (Resume() clears it). A restart keeps the day: the OMS replays the day's fills from the journal
// (oms::ReplayDayPnl) and SeedDayPnl carries them in.
//
// Ring overruns: OnRingOverrun(), an ExecEvent kSession/kRingOverrun from the order stage, or a
// market-data event carrying kMdRingOverrun (the feed or signal stage dropped or refused events)
// trip the breaker (BreakerCause::kRingOverrun) when trip_on_ring_overrun.
//
// Control plane: Kill()/Resume() are plain methods called on the risk thread. The stage that hosts
// RiskCore owns the multi-producer control queue (moodycamel), drains it in its Poll() and calls
// them; RiskCore itself holds no queue and no lock.
//
// Breaker: kClosed -> kOpen on a trip condition; kOpen -> kHalfOpen once cooldown_ns has passed
// since the last trip and since Poll() last saw a persistent condition (stale feed, unresolved gap,
// crossed book); kHalfOpen lets
// probe_orders new orders through, -> kClosed on the first probe ack/fill, -> kOpen on a probe
// reject or any trip. Kill() -> kKilled (latched: only Resume() leaves it, to kClosed). The loss
// limit kills. On entering kOpen or kKilled every working order gets one cancel command (origin
// kBreaker / kKillSwitch). Every transition is queued as a BreakerEvent with its cause.
//
// Thread: one thread (the risk stage's) calls everything. Allocates: only in the constructor.
// Complexity: O(1) per call except as noted (Poll: O(instruments); entering kOpen/kKilled:
// O(working_capacity)). No exceptions, no locks, no syscalls beyond the injected clock.
#ifndef NZEZA_RISK_RISK_ENGINE_H_
#define NZEZA_RISK_RISK_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <nzeza/core/events.h>
#include <nzeza/risk/risk_config.h>

namespace nzeza {

// Why an intent was refused (kNone = accepted). Stable numbering: exported in metrics.
enum class RiskReason : uint8_t {
  kNone = 0,
  kUnknownInstrument,  // instrument id outside the configured table
  kBadSize,            // size <= 0
  kBadPrice,           // limit price <= 0
  kTickSize,           // price not a multiple of tick_size
  kLotSize,            // size not a multiple of lot_size
  kMaxOrderSize,       // size > max_order_size
  kMaxOrderNotional,   // price x size > max_order_notional
  kMarketOrderNotAllowed,
  kNoReferencePrice,    // collar (or market order) needs a reference price not yet seen
  kPriceCollar,         // price outside the collar
  kDuplicateOrder,      // same instrument/side/price/size within duplicate_window_ns
  kSelfMatch,           // would cross our own working order
  kMaxOpenOrders,       // instrument's max_open_orders
  kMaxOpenOrdersTotal,  // global max_open_orders_total
  kMaxLongPosition,     // position + working buys + order > max_long
  kMaxShortPosition,    // position - working sells - order < -max_short
  kMaxGrossNotional,
  kCredit,            // not enough capital for the order
  kThrottle,          // message rate over throttle_max_msgs per window
  kBreakerOpen,       // breaker open (or half-open with its probes used): no new risk
  kKillSwitch,        // kill switch latched (incl. by the loss limit)
  kUnknownOrder,      // cancel of an order risk does not know as working
  kWorkingTableFull,  // working_capacity reached
  kUnsupported,       // intent type not handled (kReplace)
};
inline constexpr int kNumRiskReasons = static_cast<int>(RiskReason::kUnsupported) + 1;

// Stable lower_snake name of a reason ("max_long_position"). Never null.
const char* RiskReasonName(RiskReason r) noexcept;

// Result of CheckIntent.
struct [[nodiscard]] RiskDecision {
  RiskReason reason = RiskReason::kNone;
  bool accepted() const noexcept { return reason == RiskReason::kNone; }
};

enum class BreakerState : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2, kKilled = 3 };
const char* BreakerStateName(BreakerState s) noexcept;

// What caused a breaker transition.
enum class BreakerCause : uint8_t {
  kFeedStale = 0,
  kSequenceGap,
  kCrossedBook,
  kRejectBurst,
  kRingOverrun,
  kLossLimit,
  kPriceMove,
  kLatency,
  kKillSwitch,       // Kill() from the control plane
  kCooldownElapsed,  // open -> half-open
  kProbeSucceeded,   // half-open -> closed
  kProbeFailed,      // half-open -> open (probe rejected)
  kResume,           // killed -> closed
  // The order stage's private execution stream dropped, gapped or went silent: fills may be
  // happening unseen. Persistent: the breaker stays open until the stream is back and a
  // reconciliation pass has settled the outage (SessionEvent::kExecStreamRestored).
  kExecStreamLost,
};
const char* BreakerCauseName(BreakerCause c) noexcept;

// One breaker transition. instrument is the one that tripped it where that applies, else
// kNoInstrument.
struct BreakerEvent {
  static constexpr InstrumentId kNoInstrument = 0xffffffffu;
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  BreakerCause cause = BreakerCause::kKillSwitch;
  InstrumentId instrument = kNoInstrument;
  int64_t at_ns = 0;
  int64_t detail = 0;  // e.g. kLatency: the sample; kRejectBurst: the count; kPriceMove: bps
};

// The decision logic with time passed in explicitly (see RiskEngine for the clock-injected form).
class RiskCore {
 public:
  // `config` must have passed Validate() (checked by assert in debug builds). Allocates every
  // table here.
  explicit RiskCore(const RiskConfig& config);
  RiskCore(const RiskCore&) = delete;
  RiskCore& operator=(const RiskCore&) = delete;
  ~RiskCore();

  // Runs every check on `intent`. On accept fills *out (client order id assigned, origin
  // kStrategy, times.risk_ns = now) and, for kNew, records the order as working. *out is untouched
  // on refusal. Errors: any RiskReason.
  RiskDecision CheckIntent(const OrderIntent& intent, int64_t now_ns, OrderCmd* out) noexcept;

  // Applies an exec event: kAck marks the order acked (closes a half-open breaker for a probe);
  // kFill updates position, cost and realized PnL and shrinks the working order; kReject, kCanceled
  // and kExpired end it (a reject also feeds the reject-burst trip and fails a probe);
  // kSession carries the order stage's news: kExecStreamLost trips the breaker and holds it open
  // until kExecStreamRestored; kLatencyOverBudget and kRingOverrun trip as OnLatencySample and
  // OnRingOverrun do.
  // kCancelReject, and kInDoubt for a cancel, let a breaker cancel be sent again after
  // kCancelRetryNs; kInDoubt for a create changes nothing (the order stays working at full size
  // until the venue ends it). Events for orders risk does not know
  // (e.g. already ended) still update the position on fills.
  void OnExec(const ExecEvent& ev, int64_t now_ns) noexcept;

  // Reference prices (BBO, trades), staleness timestamps, gap/crossed/resynced status, the
  // price-move trip. Level events only refresh the staleness timestamp (the signal stage sends
  // an empty one per venue message that changed nothing else risk sees, so a quiet top of book
  // with deeper levels updating stays fresh). Any event with kMdRingOverrun trips as
  // OnRingOverrun does.
  void OnMarketData(const MdEvent& ev, int64_t now_ns) noexcept;

  // Time-based trips (staleness, unresolved gaps), open -> half-open after the cooldown, resending
  // breaker cancels that found the command buffer full. O(instruments).
  void Poll(int64_t now_ns) noexcept;

  void OnRingOverrun(int64_t now_ns) noexcept;
  void OnLatencySample(int64_t tick_to_order_ns, int64_t now_ns) noexcept;

  // Latches the kill switch (cancels every working order). Idempotent.
  void Kill(BreakerCause cause, int64_t now_ns) noexcept;
  // Clears a latched kill switch (-> kClosed). Returns false (and does nothing) when not killed.
  [[nodiscard]] bool Resume(int64_t now_ns) noexcept;

  // Recovery, before trading: sets `id`'s position (size mantissa, signed) and its cost basis
  // (price x signed size, at price + size scale, as OrderManager's Position::cost) from the state
  // the order manager rebuilt from the journal, so limits count what is already held. Returns
  // false for an unknown instrument or a cost whose sign disagrees with the position.
  [[nodiscard]] bool SeedPosition(InstrumentId id, int64_t position, __int128 cost) noexcept;

  // Start, before trading: `now_ns + unix_minus_now_ns` is Unix time from here on (e.g.
  // WallClock::NowNanos() - clock.NowNanos(), read once). Starts the trading day containing
  // now. Without it risk's clock is taken as Unix time (tests with a manual clock).
  void SetWallClock(int64_t unix_minus_now_ns, int64_t now_ns) noexcept;

  // Recovery, before trading (after SetWallClock): adds the trading day's realized PnL (at price
  // + size scale, as oms::Position::realized) and fees (at the instrument's fee_scale, as
  // oms::Position::fees) of `id` from before the restart, so max_daily_loss counts them; they are
  // added to realized_pnl() and fees() too, so the credit check sees them. Checks the loss limit
  // (a restart after the limit was hit comes back killed). Returns false for an unknown
  // instrument (nothing changed).
  [[nodiscard]] bool SeedDayPnl(InstrumentId id, __int128 realized, int64_t fees,
                                int64_t now_ns) noexcept;

  // Sets the venue price band used by CollarReference::kVenueBand. Returns false for an unknown
  // instrument or low > high.
  [[nodiscard]] bool SetVenueBand(InstrumentId id, int64_t low, int64_t high) noexcept;

  // Output of the breaker and kill switch: cancel commands to send (FIFO, capacity
  // working_capacity), and transitions (capacity kEventCapacity; when full the newest is dropped
  // and counted in dropped_breaker_events()).
  [[nodiscard]] bool PopCommand(OrderCmd* out) noexcept;
  [[nodiscard]] bool PopBreakerEvent(BreakerEvent* out) noexcept;
  static constexpr size_t kEventCapacity = 256;

  // Observers (for the stage's metrics and the tests).
  BreakerState state() const noexcept { return state_; }
  int64_t position(InstrumentId id) const noexcept { return inst_[id].position; }
  int64_t working_buy(InstrumentId id) const noexcept { return inst_[id].working[0]; }
  int64_t working_sell(InstrumentId id) const noexcept { return inst_[id].working[1]; }
  int64_t open_orders(InstrumentId id) const noexcept { return inst_[id].open_orders; }
  int64_t open_orders_total() const noexcept { return open_total_; }
  __int128 working_notional() const noexcept { return working_notional_; }
  __int128 position_cost_notional() const noexcept { return abs_cost_total_; }
  __int128 realized_pnl() const noexcept { return realized_total_; }  // at notional_scale, no fees
  __int128 fees() const noexcept { return fees_total_; }
  __int128 unrealized_pnl() const noexcept { return unrealized_total_; }
  // The current trading day's realized PnL and fees (notional scale), as max_daily_loss counts
  // them; the Unix start of that day (valid once a day has begun: after SetWallClock or the first
  // fill, market-data event or Poll); how many day boundaries were crossed.
  __int128 day_realized_pnl() const noexcept { return day_realized_; }
  __int128 day_fees() const noexcept { return day_fees_; }
  int64_t day_start_unix_ns() const noexcept { return day_start_unix_; }
  uint64_t day_rolls() const noexcept { return day_rolls_; }
  uint64_t next_client_order_id() const noexcept { return next_id_; }
  uint64_t dropped_breaker_events() const noexcept { return dropped_events_; }
  const RiskConfig& config() const noexcept { return cfg_; }
  // True when `id` is working (accepted, not yet ended).
  bool IsWorking(uint64_t client_order_id) const noexcept { return Find(client_order_id) >= 0; }

 private:
  struct Order;
  struct Instrument {
    int64_t position = 0;
    int64_t working[2] = {0, 0};  // remaining size of working orders, by Side
    int64_t open_orders = 0;
    __int128 cost = 0;        // signed cost basis of the position, at price+size scale
    __int128 unrealized = 0;  // at notional_scale, as counted in unrealized_total_
    __int128 factor = 1;      // 10^(notional_scale - price_scale - size_scale)
    __int128 fee_factor = 1;  // 10^(notional_scale - fee_scale)
    int64_t bid = 0, ask = 0, last = 0, band_low = 0, band_high = 0;
    bool has_bbo = false, has_last = false, has_band = false;
    bool gapped = false, crossed = false, stale_flag = false;
    int64_t last_md_ns = -1;  // -1: no data yet
    int64_t gap_since_ns = 0;
    // Price-move trip: min/max of the current and previous tumbling windows.
    int64_t move_win_start = -1;
    int64_t cur_min = 0, cur_max = 0, prev_min = 0, prev_max = 0;
    // Self-match: intrusive list of working orders per side and the cached best price.
    int32_t head[2] = {-1, -1};
    int64_t best[2] = {0, 0};
    bool best_dirty[2] = {false, false};
  };

  RiskReason CheckNew(const OrderIntent& it, int64_t now_ns, bool* probe) noexcept;
  RiskDecision CheckCancel(const OrderIntent& it, int64_t now_ns, OrderCmd* out) noexcept;
  bool ThrottleAllows(int64_t now_ns) const noexcept;
  void ThrottleRecord(int64_t now_ns) noexcept;
  bool IsRiskReducing(const Instrument& in, Side side, int64_t size) const noexcept;
  bool WouldSelfMatch(Instrument& in, InstrumentId id, Side side, int64_t price) noexcept;
  bool IsDuplicate(const OrderIntent& it, int64_t now_ns) noexcept;

  int32_t Find(uint64_t id) const noexcept;
  void IndexInsert(uint64_t id, int32_t slot) noexcept;
  void IndexErase(uint64_t id) noexcept;
  void RemoveOrder(int32_t slot) noexcept;
  void MarkVenueDone(Order& o, int64_t cum_size) noexcept;
  void ShrinkOrder(int32_t slot, int64_t leaves) noexcept;
  void ApplyFill(InstrumentId id, Side side, int64_t price, int64_t size, int64_t fee) noexcept;
  void UpdateUnrealized(Instrument& in) noexcept;
  void CheckLoss(int64_t now_ns) noexcept;
  void MaybeRollDay(int64_t now_ns) noexcept {
    if (now_ns >= day_end_ns_) [[unlikely]] {
      RollDay(now_ns);
    }
  }
  void RollDay(int64_t now_ns) noexcept;
  void UpdatePriceMove(InstrumentId id, Instrument& in, int64_t price, int64_t now_ns) noexcept;

  void Trip(BreakerCause cause, InstrumentId id, int64_t detail, int64_t now_ns) noexcept;
  void Transition(BreakerState to, BreakerCause cause, InstrumentId id, int64_t detail,
                  int64_t now_ns) noexcept;
  bool PersistentConditions(int64_t now_ns) const noexcept;
  void EmitCancels(int64_t now_ns) noexcept;

  const RiskConfig cfg_;
  std::vector<Instrument> inst_;

  // Working orders: slot pool with a free list, plus an open-addressing id -> slot index with
  // backward-shift deletion (no tombstones).
  std::unique_ptr<Order[]> orders_;
  int32_t free_head_ = -1;
  std::unique_ptr<uint64_t[]> index_keys_;  // 0 = empty (client order ids are > 0)
  std::unique_ptr<int32_t[]> index_slots_;
  uint64_t index_mask_ = 0;

  int64_t open_total_ = 0;
  __int128 working_notional_ = 0;
  __int128 abs_cost_total_ = 0;
  __int128 realized_total_ = 0;
  __int128 fees_total_ = 0;
  __int128 unrealized_total_ = 0;
  __int128 day_realized_ = 0;  // the trading day's, notional scale
  __int128 day_fees_ = 0;
  int64_t wall_offset_ns_ = 0;  // Unix ns = risk's now + this
  // Risk-clock time at which the current trading day ends; INT64_MIN until a day has begun.
  int64_t day_end_ns_ = INT64_MIN;
  int64_t day_start_unix_ = 0;
  uint64_t day_rolls_ = 0;
  uint64_t next_id_;

  // Throttle: timestamps of the last throttle_max_msgs messages (ring).
  std::unique_ptr<int64_t[]> throttle_ts_;
  int64_t throttle_cap_ = 0;
  int64_t throttle_count_ = 0;
  int64_t throttle_pos_ = 0;

  // Duplicate detection: direct-mapped table of recent accepts (a collision evicts).
  struct DupEntry {
    int64_t price = 0, size = 0, at_ns = 0;
    InstrumentId instrument = 0;
    Side side = Side::kBuy;
    bool used = false;
  };
  static constexpr size_t kDupSlots = 4096;
  std::unique_ptr<DupEntry[]> dup_;

  // Reject burst: timestamps of the last reject_burst_count rejects (ring).
  std::unique_ptr<int64_t[]> reject_ts_;
  int64_t reject_cap_ = 0;
  int64_t reject_count_ = 0;
  int64_t reject_pos_ = 0;

  BreakerState state_ = BreakerState::kClosed;
  int64_t opened_at_ns_ = 0;
  int64_t probes_left_ = 0;
  int32_t num_gapped_ = 0;
  bool exec_stream_down_ = false;  // kExecStreamLost until kExecStreamRestored
  int32_t num_crossed_ = 0;
  int32_t num_stale_flag_ = 0;
  bool cancels_pending_ = false;  // some breaker cancel could not be queued yet
  // A breaker cancel that was refused or had no definite answer is sent again, not before this.
  int64_t cancel_retry_at_ns_ = 0;
  int64_t cancel_retry_ns_ = kCancelRetryNs;  // doubles while refusals continue (to 64x)

 public:
  // How long a refused (kCancelReject) or unanswered (kInDoubt) breaker cancel waits before it
  // is sent again: a venue that refuses at once must not be asked on every poll. The wait
  // doubles with each retry (to 64 times this) until a cancel succeeds. A refusal saying the
  // venue does not have the order working (unknown order, too late to cancel) is not retried.
  static constexpr int64_t kCancelRetryNs = 100'000'000;

  // The venue-independent reject codes risk reads (the values of oms::VenueReject; risk does not
  // depend on engine/oms).
  enum class VenueRejectCode : uint16_t { kUnknownOrder = 11, kTooLateToCancel = 12 };

 private:
  std::unique_ptr<OrderCmd[]> cmd_buf_;
  size_t cmd_cap_ = 0, cmd_head_ = 0, cmd_size_ = 0;
  BreakerEvent events_[kEventCapacity];
  size_t ev_head_ = 0, ev_size_ = 0;
  uint64_t dropped_events_ = 0;
};

// RiskCore with an injected clock (anything with `int64_t NowNanos() const`: TscClock in
// production, ManualClock in tests). Lifetime: `clock` must outlive the engine.
template <typename Clock>
class RiskEngine : public RiskCore {
 public:
  RiskEngine(const RiskConfig& config, const Clock& clock) : RiskCore(config), clock_(clock) {}
  // The explicit-time forms stay available (e.g. a stage that read the clock once per batch).
  using RiskCore::CheckIntent;
  using RiskCore::Kill;
  using RiskCore::OnExec;
  using RiskCore::OnLatencySample;
  using RiskCore::OnMarketData;
  using RiskCore::OnRingOverrun;
  using RiskCore::Poll;
  using RiskCore::Resume;
  using RiskCore::SeedDayPnl;
  using RiskCore::SetWallClock;

  RiskDecision CheckIntent(const OrderIntent& intent, OrderCmd* out) noexcept {
    return RiskCore::CheckIntent(intent, clock_.NowNanos(), out);
  }
  void OnExec(const ExecEvent& ev) noexcept { RiskCore::OnExec(ev, clock_.NowNanos()); }
  void OnMarketData(const MdEvent& ev) noexcept { RiskCore::OnMarketData(ev, clock_.NowNanos()); }
  void Poll() noexcept { RiskCore::Poll(clock_.NowNanos()); }
  void OnRingOverrun() noexcept { RiskCore::OnRingOverrun(clock_.NowNanos()); }
  void OnLatencySample(int64_t ns) noexcept { RiskCore::OnLatencySample(ns, clock_.NowNanos()); }
  void Kill() noexcept { RiskCore::Kill(BreakerCause::kKillSwitch, clock_.NowNanos()); }
  [[nodiscard]] bool Resume() noexcept { return RiskCore::Resume(clock_.NowNanos()); }
  void SetWallClock(int64_t unix_minus_now_ns) noexcept {
    RiskCore::SetWallClock(unix_minus_now_ns, clock_.NowNanos());
  }
  [[nodiscard]] bool SeedDayPnl(InstrumentId id, __int128 realized, int64_t fees) noexcept {
    return RiskCore::SeedDayPnl(id, realized, fees, clock_.NowNanos());
  }

 private:
  const Clock& clock_;
};

}  // namespace nzeza

#endif  // NZEZA_RISK_RISK_ENGINE_H_
