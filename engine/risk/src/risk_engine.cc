#include <nzeza/risk/risk_engine.h>

#include <cassert>

namespace nzeza {

struct RiskCore::Order {
  uint64_t id = 0;
  int64_t price = 0;      // limit price, or the valuation price of a market order
  int64_t leaves = 0;     // remaining size counted as working
  int64_t filled = 0;     // sum of fills seen
  int64_t final_cum = 0;  // once ended at the venue: its cum_size then (fills may be in flight)
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  int32_t prev = -1;  // per-instrument-side list; next doubles as the free-list link
  int32_t next = -1;
  Side side = Side::kBuy;
  bool in_use = false;
  bool acked = false;
  bool cancel_sent = false;
  bool probe = false;
  bool venue_done = false;  // the venue ended it; it stays until the fills it reported arrive
};

namespace {

__int128 Abs128(__int128 v) { return v < 0 ? -v : v; }
__int128 Pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}
int SideIndex(Side s) { return s == Side::kBuy ? 0 : 1; }

}  // namespace

const char* RiskReasonName(RiskReason r) noexcept {
  switch (r) {
    case RiskReason::kNone:
      return "none";
    case RiskReason::kUnknownInstrument:
      return "unknown_instrument";
    case RiskReason::kBadSize:
      return "bad_size";
    case RiskReason::kBadPrice:
      return "bad_price";
    case RiskReason::kTickSize:
      return "tick_size";
    case RiskReason::kLotSize:
      return "lot_size";
    case RiskReason::kMaxOrderSize:
      return "max_order_size";
    case RiskReason::kMaxOrderNotional:
      return "max_order_notional";
    case RiskReason::kMarketOrderNotAllowed:
      return "market_order_not_allowed";
    case RiskReason::kNoReferencePrice:
      return "no_reference_price";
    case RiskReason::kPriceCollar:
      return "price_collar";
    case RiskReason::kDuplicateOrder:
      return "duplicate_order";
    case RiskReason::kSelfMatch:
      return "self_match";
    case RiskReason::kMaxOpenOrders:
      return "max_open_orders";
    case RiskReason::kMaxOpenOrdersTotal:
      return "max_open_orders_total";
    case RiskReason::kMaxLongPosition:
      return "max_long_position";
    case RiskReason::kMaxShortPosition:
      return "max_short_position";
    case RiskReason::kMaxGrossNotional:
      return "max_gross_notional";
    case RiskReason::kCredit:
      return "credit";
    case RiskReason::kThrottle:
      return "throttle";
    case RiskReason::kBreakerOpen:
      return "breaker_open";
    case RiskReason::kKillSwitch:
      return "kill_switch";
    case RiskReason::kUnknownOrder:
      return "unknown_order";
    case RiskReason::kWorkingTableFull:
      return "working_table_full";
    case RiskReason::kUnsupported:
      return "unsupported";
  }
  return "invalid";
}

const char* BreakerStateName(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
    case BreakerState::kKilled:
      return "killed";
  }
  return "invalid";
}

const char* BreakerCauseName(BreakerCause c) noexcept {
  switch (c) {
    case BreakerCause::kFeedStale:
      return "feed_stale";
    case BreakerCause::kSequenceGap:
      return "sequence_gap";
    case BreakerCause::kCrossedBook:
      return "crossed_book";
    case BreakerCause::kRejectBurst:
      return "reject_burst";
    case BreakerCause::kRingOverrun:
      return "ring_overrun";
    case BreakerCause::kLossLimit:
      return "loss_limit";
    case BreakerCause::kPriceMove:
      return "price_move";
    case BreakerCause::kLatency:
      return "latency";
    case BreakerCause::kKillSwitch:
      return "kill_switch";
    case BreakerCause::kCooldownElapsed:
      return "cooldown_elapsed";
    case BreakerCause::kProbeSucceeded:
      return "probe_succeeded";
    case BreakerCause::kProbeFailed:
      return "probe_failed";
    case BreakerCause::kResume:
      return "resume";
    case BreakerCause::kExecStreamLost:
      return "exec_stream_lost";
  }
  return "invalid";
}

RiskCore::RiskCore(const RiskConfig& config)
    : cfg_(config), next_id_(config.first_client_order_id) {
  assert(cfg_.Validate().ok());
  inst_.resize(cfg_.instruments.size());
  for (size_t i = 0; i < inst_.size(); ++i) {
    const InstrumentRisk& ir = cfg_.instruments[i];
    inst_[i].factor = Pow10(cfg_.notional_scale - ir.price_scale - ir.size_scale);
    inst_[i].fee_factor = Pow10(cfg_.notional_scale - ir.fee_scale);
  }
  const int32_t cap = cfg_.working_capacity;
  orders_ = std::make_unique<Order[]>(static_cast<size_t>(cap));
  for (int32_t i = 0; i < cap; ++i) orders_[i].next = i + 1 < cap ? i + 1 : -1;
  free_head_ = 0;
  uint64_t index_cap = 2;
  while (index_cap < 2 * static_cast<uint64_t>(cap)) index_cap <<= 1;
  index_keys_ = std::make_unique<uint64_t[]>(index_cap);  // zeroed: all empty
  index_slots_ = std::make_unique<int32_t[]>(index_cap);
  index_mask_ = index_cap - 1;

  throttle_cap_ = cfg_.throttle_max_msgs == kNoLimit ? 0 : cfg_.throttle_max_msgs;
  if (throttle_cap_ > 0) throttle_ts_ = std::make_unique<int64_t[]>(throttle_cap_);
  reject_cap_ = cfg_.breaker.reject_burst_count == kNoLimit ? 0 : cfg_.breaker.reject_burst_count;
  if (reject_cap_ > 0) reject_ts_ = std::make_unique<int64_t[]>(reject_cap_);
  dup_ = std::make_unique<DupEntry[]>(kDupSlots);
  cmd_cap_ = static_cast<size_t>(cap);
  cmd_buf_ = std::make_unique<OrderCmd[]>(cmd_cap_);
}

RiskCore::~RiskCore() = default;

// ----------------------------------------------------------------------------------------------
// Working-order index. Client order ids come from our own sequence, so `id & mask` spreads them
// evenly; linear probing, backward-shift deletion.

int32_t RiskCore::Find(uint64_t id) const noexcept {
  if (id == 0) return -1;
  for (uint64_t i = id & index_mask_;; i = (i + 1) & index_mask_) {
    const uint64_t k = index_keys_[i];
    if (k == id) return index_slots_[i];
    if (k == 0) return -1;
  }
}

void RiskCore::IndexInsert(uint64_t id, int32_t slot) noexcept {
  uint64_t i = id & index_mask_;
  while (index_keys_[i] != 0) i = (i + 1) & index_mask_;
  index_keys_[i] = id;
  index_slots_[i] = slot;
}

void RiskCore::IndexErase(uint64_t id) noexcept {
  uint64_t i = id & index_mask_;
  while (index_keys_[i] != id) {
    if (index_keys_[i] == 0) return;
    i = (i + 1) & index_mask_;
  }
  for (uint64_t j = (i + 1) & index_mask_; index_keys_[j] != 0; j = (j + 1) & index_mask_) {
    const uint64_t home = index_keys_[j] & index_mask_;
    if (((j - home) & index_mask_) >= ((j - i) & index_mask_)) {
      index_keys_[i] = index_keys_[j];
      index_slots_[i] = index_slots_[j];
      i = j;
    }
  }
  index_keys_[i] = 0;
}

void RiskCore::RemoveOrder(int32_t slot) noexcept {
  Order& o = orders_[slot];
  Instrument& in = inst_[o.instrument];
  const int s = SideIndex(o.side);
  in.working[s] -= o.leaves;
  in.open_orders -= 1;
  open_total_ -= 1;
  working_notional_ -= static_cast<__int128>(o.price) * o.leaves * in.factor;
  if (o.prev >= 0) {
    orders_[o.prev].next = o.next;
  } else {
    in.head[s] = o.next;
  }
  if (o.next >= 0) orders_[o.next].prev = o.prev;
  if (in.head[s] < 0) {
    in.best_dirty[s] = false;
  } else if (o.price == in.best[s]) {
    in.best_dirty[s] = true;
  }
  IndexErase(o.id);
  o.in_use = false;
  o.next = free_head_;
  free_head_ = slot;
}

// ----------------------------------------------------------------------------------------------
// Checks.

bool RiskCore::ThrottleAllows(int64_t now_ns) const noexcept {
  if (throttle_cap_ == 0 || throttle_count_ < throttle_cap_) return true;
  // Full: throttle_pos_ holds the oldest of the last throttle_cap_ messages.
  return now_ns - throttle_ts_[throttle_pos_] >= cfg_.throttle_window_ns;
}

void RiskCore::ThrottleRecord(int64_t now_ns) noexcept {
  if (throttle_cap_ == 0) return;
  throttle_ts_[throttle_pos_] = now_ns;
  if (++throttle_pos_ == throttle_cap_) throttle_pos_ = 0;
  if (throttle_count_ < throttle_cap_) ++throttle_count_;
}

bool RiskCore::IsRiskReducing(const Instrument& in, Side side, int64_t size) const noexcept {
  if (side == Side::kBuy) {
    return in.position < 0 && static_cast<__int128>(in.working[0]) + size <= -in.position;
  }
  return in.position > 0 && static_cast<__int128>(in.working[1]) + size <= in.position;
}

bool RiskCore::WouldSelfMatch(Instrument& in, InstrumentId id, Side side, int64_t price) noexcept {
  (void)id;
  const int opp = SideIndex(Opposite(side));
  if (in.head[opp] < 0) return false;
  if (in.best_dirty[opp]) {  // the best order left: rescan this side's list (amortised)
    int64_t best = orders_[in.head[opp]].price;
    for (int32_t s = in.head[opp]; s >= 0; s = orders_[s].next) {
      const int64_t p = orders_[s].price;
      if (opp == 0 ? p > best : p < best) best = p;
    }
    in.best[opp] = best;
    in.best_dirty[opp] = false;
  }
  // price 0 marks a market order: it crosses any resting opposite order.
  if (price == 0) return true;
  return side == Side::kBuy ? price >= in.best[1] : price <= in.best[0];
}

bool RiskCore::IsDuplicate(const OrderIntent& it, int64_t now_ns) noexcept {
  if (cfg_.duplicate_window_ns == 0) return false;
  uint64_t h = static_cast<uint64_t>(it.price) * 0x9E3779B97F4A7C15ull;
  h ^= static_cast<uint64_t>(it.size) * 0xC2B2AE3D27D4EB4Full;
  h ^= (static_cast<uint64_t>(it.instrument) << 1 | static_cast<uint64_t>(it.side)) *
       0x165667B19E3779F9ull;
  const DupEntry& e = dup_[(h >> 40) & (kDupSlots - 1)];
  return e.used && e.price == it.price && e.size == it.size && e.instrument == it.instrument &&
         e.side == it.side && now_ns - e.at_ns < cfg_.duplicate_window_ns;
}

RiskReason RiskCore::CheckNew(const OrderIntent& it, int64_t now_ns, bool* probe) noexcept {
  if (it.instrument >= inst_.size()) return RiskReason::kUnknownInstrument;
  const InstrumentRisk& ir = cfg_.instruments[it.instrument];
  Instrument& in = inst_[it.instrument];
  const int64_t size = it.size;
  if (size <= 0) return RiskReason::kBadSize;
  if (ir.lot_size != 1 && size % ir.lot_size != 0) return RiskReason::kLotSize;
  if (size > ir.max_order_size) return RiskReason::kMaxOrderSize;

  // Breaker state.
  if (state_ != BreakerState::kClosed) [[unlikely]] {
    if (state_ == BreakerState::kKilled) return RiskReason::kKillSwitch;
    if (state_ == BreakerState::kHalfOpen && probes_left_ > 0) {
      *probe = true;
    } else if (!(cfg_.breaker.allow_reducing_when_open && IsRiskReducing(in, it.side, size))) {
      return RiskReason::kBreakerOpen;
    }
  }

  // Price: limit orders are checked against tick and collar; market orders are valued at the
  // reference.
  int64_t price = it.price;
  const CollarReference ref_kind = ir.collar_reference;
  if (it.order_type == OrderType::kLimit) {
    if (price <= 0) return RiskReason::kBadPrice;
    if (ir.tick_size != 1 && price % ir.tick_size != 0) return RiskReason::kTickSize;
    if (ref_kind == CollarReference::kVenueBand) {
      if (!in.has_band) return RiskReason::kNoReferencePrice;
      if (price < in.band_low || price > in.band_high) return RiskReason::kPriceCollar;
    } else if (ir.collar_bps != kNoLimit || ir.collar_ticks != kNoLimit) {
      int64_t ref;
      if (ref_kind == CollarReference::kMid) {
        if (!in.has_bbo) return RiskReason::kNoReferencePrice;
        ref = in.bid + (in.ask - in.bid) / 2;
      } else {
        if (!in.has_last) return RiskReason::kNoReferencePrice;
        ref = in.last;
      }
      const __int128 dev = Abs128(static_cast<__int128>(price) - ref);
      if (ir.collar_bps != kNoLimit && dev * 10000 > static_cast<__int128>(ir.collar_bps) * ref) {
        return RiskReason::kPriceCollar;
      }
      if (ir.collar_ticks != kNoLimit &&
          dev > static_cast<__int128>(ir.collar_ticks) * ir.tick_size) {
        return RiskReason::kPriceCollar;
      }
    }
  } else {
    if (!ir.allow_market_orders) return RiskReason::kMarketOrderNotAllowed;
    if (ref_kind == CollarReference::kVenueBand) {
      if (!in.has_band) return RiskReason::kNoReferencePrice;
      price = it.side == Side::kBuy ? in.band_high : in.band_low;
    } else if (ref_kind == CollarReference::kMid) {
      if (!in.has_bbo) return RiskReason::kNoReferencePrice;
      price = it.side == Side::kBuy ? in.ask : in.bid;
    } else {
      if (!in.has_last) return RiskReason::kNoReferencePrice;
      price = in.last;
    }
  }

  const __int128 notional = static_cast<__int128>(price) * size * in.factor;
  if (notional > ir.max_order_notional) return RiskReason::kMaxOrderNotional;

  if (cfg_.self_match_prevention &&
      WouldSelfMatch(in, it.instrument, it.side, it.order_type == OrderType::kMarket ? 0 : price)) {
    return RiskReason::kSelfMatch;
  }
  if (IsDuplicate(it, now_ns)) return RiskReason::kDuplicateOrder;

  if (in.open_orders >= ir.max_open_orders) return RiskReason::kMaxOpenOrders;
  if (open_total_ >= cfg_.max_open_orders_total) return RiskReason::kMaxOpenOrdersTotal;

  if (it.side == Side::kBuy) {
    if (static_cast<__int128>(in.position) + in.working[0] + size > ir.max_long) {
      return RiskReason::kMaxLongPosition;
    }
  } else {
    if (static_cast<__int128>(in.position) - in.working[1] - size <
        -static_cast<__int128>(ir.max_short)) {
      return RiskReason::kMaxShortPosition;
    }
  }

  // Gross notional and credit: an order that only reduces the position (with the working orders
  // on its side) adds no exposure, so it is never refused for them.
  const __int128 exposure = abs_cost_total_ + working_notional_ + notional;
  const bool check_exposure = (cfg_.max_gross_notional != kNoLimit || cfg_.capital != kNoLimit) &&
                              !IsRiskReducing(in, it.side, size);
  if (check_exposure && exposure > cfg_.max_gross_notional) return RiskReason::kMaxGrossNotional;
  if (check_exposure && cfg_.capital != kNoLimit) {
    const __int128 unreal = unrealized_total_ < 0 ? unrealized_total_ : 0;
    if (exposure > cfg_.capital + realized_total_ - fees_total_ + unreal) {
      return RiskReason::kCredit;
    }
  }
  if (!ThrottleAllows(now_ns)) return RiskReason::kThrottle;
  if (free_head_ < 0) return RiskReason::kWorkingTableFull;

  // Accepted: record as working.
  const int32_t slot = free_head_;
  Order& o = orders_[slot];
  free_head_ = o.next;
  const int s = SideIndex(it.side);
  o.id = next_id_;
  o.price = price;
  o.leaves = size;
  o.instrument = it.instrument;
  o.strategy_id = it.strategy_id;
  o.side = it.side;
  o.in_use = true;
  o.acked = false;
  o.cancel_sent = false;
  o.probe = *probe;
  o.venue_done = false;
  o.filled = 0;
  o.final_cum = 0;
  o.prev = -1;
  o.next = in.head[s];
  if (o.next >= 0) orders_[o.next].prev = slot;
  if (in.head[s] < 0) {
    in.best[s] = price;
    in.best_dirty[s] = false;
  } else if (!in.best_dirty[s] && (s == 0 ? price > in.best[s] : price < in.best[s])) {
    in.best[s] = price;
  }
  in.head[s] = slot;
  IndexInsert(o.id, slot);
  in.working[s] += size;
  in.open_orders += 1;
  open_total_ += 1;
  working_notional_ += notional;
  ThrottleRecord(now_ns);
  if (cfg_.duplicate_window_ns != 0) {
    uint64_t h = static_cast<uint64_t>(it.price) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<uint64_t>(it.size) * 0xC2B2AE3D27D4EB4Full;
    h ^= (static_cast<uint64_t>(it.instrument) << 1 | static_cast<uint64_t>(it.side)) *
         0x165667B19E3779F9ull;
    DupEntry& e = dup_[(h >> 40) & (kDupSlots - 1)];
    e = DupEntry{it.price, it.size, now_ns, it.instrument, it.side, true};
  }
  if (*probe) --probes_left_;
  return RiskReason::kNone;
}

RiskDecision RiskCore::CheckCancel(const OrderIntent& it, int64_t now_ns, OrderCmd* out) noexcept {
  // Cancels reduce risk: allowed in every breaker state, subject to the throttle only.
  OrderCmd cmd;
  if (it.type == IntentType::kCancel) {
    const int32_t slot = Find(it.target_order_id);
    if (slot < 0) return {RiskReason::kUnknownOrder};
    cmd.type = CmdType::kCancel;
    cmd.side = orders_[slot].side;
    cmd.instrument = orders_[slot].instrument;
    cmd.orig_client_order_id = it.target_order_id;
  } else {
    if (it.instrument >= inst_.size()) return {RiskReason::kUnknownInstrument};
    cmd.type = CmdType::kCancelAll;
    cmd.instrument = it.instrument;
  }
  if (!ThrottleAllows(now_ns)) return {RiskReason::kThrottle};
  ThrottleRecord(now_ns);
  cmd.origin = CmdOrigin::kStrategy;
  cmd.strategy_id = it.strategy_id;
  cmd.intent_id = it.intent_id;
  cmd.client_order_id = next_id_++;
  cmd.times = it.times;
  cmd.times.risk_ns = now_ns;
  *out = cmd;
  return {RiskReason::kNone};
}

RiskDecision RiskCore::CheckIntent(const OrderIntent& it, int64_t now_ns, OrderCmd* out) noexcept {
  if (it.type != IntentType::kNew) [[unlikely]] {
    if (it.type == IntentType::kReplace) return {RiskReason::kUnsupported};
    return CheckCancel(it, now_ns, out);
  }
  bool probe = false;
  const RiskReason r = CheckNew(it, now_ns, &probe);
  if (r != RiskReason::kNone) return {r};
  out->type = CmdType::kNew;
  out->side = it.side;
  out->order_type = it.order_type;
  out->tif = it.tif;
  out->flags = it.flags;
  out->origin = CmdOrigin::kStrategy;
  out->instrument = it.instrument;
  out->strategy_id = it.strategy_id;
  out->client_order_id = next_id_++;
  out->orig_client_order_id = 0;
  out->intent_id = it.intent_id;
  out->price = it.price;
  out->size = it.size;
  out->times = it.times;
  out->times.risk_ns = now_ns;
  return {RiskReason::kNone};
}

// ----------------------------------------------------------------------------------------------
// Executions and PnL.

void RiskCore::UpdateUnrealized(Instrument& in) noexcept {
  __int128 u = 0;
  if (in.position != 0 && (in.has_bbo || in.has_last)) {
    const int64_t mark = in.has_bbo ? in.bid + (in.ask - in.bid) / 2 : in.last;
    u = (static_cast<__int128>(in.position) * mark - in.cost) * in.factor;
  }
  unrealized_total_ += u - in.unrealized;
  in.unrealized = u;
}

void RiskCore::ApplyFill(InstrumentId id, Side side, int64_t price, int64_t size,
                         int64_t fee) noexcept {
  Instrument& in = inst_[id];
  const __int128 old_abs = Abs128(in.cost) * in.factor;
  const int64_t q = side == Side::kBuy ? size : -size;
  int64_t pos = in.position;
  if (pos == 0 || (pos > 0) == (q > 0)) {
    in.cost += static_cast<__int128>(price) * q;
    pos += q;
  } else {
    const int64_t abs_pos = pos > 0 ? pos : -pos;
    const int64_t abs_q = q > 0 ? q : -q;
    const int64_t closed = abs_q < abs_pos ? abs_q : abs_pos;
    const __int128 removed = in.cost * closed / abs_pos;  // same sign as pos
    const __int128 sign = pos > 0 ? 1 : -1;
    const __int128 realized = (sign * price * closed - removed) * in.factor;
    realized_total_ += realized;
    day_realized_ += realized;
    in.cost -= removed;
    pos -= static_cast<int64_t>(sign) * closed;
    const int64_t rest = abs_q - closed;
    if (rest > 0) {
      const int64_t signed_rest = q > 0 ? rest : -rest;
      pos += signed_rest;
      in.cost += static_cast<__int128>(price) * signed_rest;
    }
    if (pos == 0) in.cost = 0;
  }
  in.position = pos;
  const __int128 fee_n = static_cast<__int128>(fee) * in.fee_factor;
  fees_total_ += fee_n;
  day_fees_ += fee_n;
  abs_cost_total_ += Abs128(in.cost) * in.factor - old_abs;
  UpdateUnrealized(in);
}

bool RiskCore::SeedPosition(InstrumentId id, int64_t position, __int128 cost) noexcept {
  if (id >= inst_.size()) return false;
  if ((position == 0) != (cost == 0) || (position > 0 && cost < 0) || (position < 0 && cost > 0)) {
    return false;
  }
  Instrument& in = inst_[id];
  abs_cost_total_ += (Abs128(cost) - Abs128(in.cost)) * in.factor;
  in.position = position;
  in.cost = cost;
  UpdateUnrealized(in);
  return true;
}

void RiskCore::SetWallClock(int64_t unix_minus_now_ns, int64_t now_ns) noexcept {
  wall_offset_ns_ = unix_minus_now_ns;
  day_end_ns_ = INT64_MIN;  // the day containing now begins (nothing to reset)
  RollDay(now_ns);
}

void RiskCore::RollDay(int64_t now_ns) noexcept {
  if (day_end_ns_ != INT64_MIN) {
    day_realized_ = 0;
    day_fees_ = 0;
    ++day_rolls_;
  }
  day_start_unix_ = TradingDayStart(now_ns + wall_offset_ns_, cfg_.day_boundary_ns);
  day_end_ns_ = day_start_unix_ + kNanosPerDay - wall_offset_ns_;
}

bool RiskCore::SeedDayPnl(InstrumentId id, __int128 realized, int64_t fees,
                          int64_t now_ns) noexcept {
  if (id >= inst_.size()) return false;
  MaybeRollDay(now_ns);
  const Instrument& in = inst_[id];
  const __int128 r = realized * in.factor;
  const __int128 f = static_cast<__int128>(fees) * in.fee_factor;
  realized_total_ += r;
  day_realized_ += r;
  fees_total_ += f;
  day_fees_ += f;
  CheckLoss(now_ns);
  return true;
}

void RiskCore::CheckLoss(int64_t now_ns) noexcept {
  MaybeRollDay(now_ns);
  if (cfg_.max_daily_loss == kNoLimit || state_ == BreakerState::kKilled) return;
  const __int128 loss = -(day_realized_ - day_fees_ + unrealized_total_);
  if (loss >= cfg_.max_daily_loss) {
    Transition(BreakerState::kKilled, BreakerCause::kLossLimit, BreakerEvent::kNoInstrument,
               static_cast<int64_t>(loss), now_ns);
  }
}

void RiskCore::MarkVenueDone(Order& o, int64_t cum_size) noexcept {
  o.venue_done = true;
  if (cum_size > o.final_cum) o.final_cum = cum_size;
}

void RiskCore::ShrinkOrder(int32_t slot, int64_t leaves) noexcept {
  Order& o = orders_[slot];
  // Once the venue has ended the order, only fills it reported but we have not seen yet remain.
  if (o.venue_done) {
    const int64_t in_flight = o.final_cum > o.filled ? o.final_cum - o.filled : 0;
    if (in_flight < leaves) leaves = in_flight;
  }
  if (leaves <= 0) {
    RemoveOrder(slot);
    return;
  }
  Instrument& in = inst_[o.instrument];
  const int64_t dec = o.leaves - leaves;
  o.leaves = leaves;
  in.working[SideIndex(o.side)] -= dec;
  working_notional_ -= static_cast<__int128>(o.price) * dec * in.factor;
}

void RiskCore::OnExec(const ExecEvent& ev, int64_t now_ns) noexcept {
  const int32_t slot = Find(ev.client_order_id);
  switch (ev.type) {
    case ExecType::kAck: {
      if (slot < 0) return;
      Order& o = orders_[slot];
      o.acked = true;
      if (o.probe && state_ == BreakerState::kHalfOpen) {
        Transition(BreakerState::kClosed, BreakerCause::kProbeSucceeded, o.instrument, 0, now_ns);
      }
      return;
    }
    case ExecType::kFill: {
      const InstrumentId id = slot >= 0 ? orders_[slot].instrument : ev.instrument;
      if (id >= inst_.size() || ev.last_size <= 0) return;
      MaybeRollDay(now_ns);  // a fill after the boundary counts toward the new day
      const Side side = slot >= 0 ? orders_[slot].side : ev.side;
      ApplyFill(id, side, ev.last_price, ev.last_size, ev.fee);
      if (slot >= 0) {
        Order& o = orders_[slot];
        const bool probe = o.probe;
        o.filled += ev.last_size;
        if (ev.leaves_size == 0) MarkVenueDone(o, ev.cum_size);
        const int64_t dec = ev.last_size < o.leaves ? ev.last_size : o.leaves;
        ShrinkOrder(slot, o.leaves - dec);
        if (probe && state_ == BreakerState::kHalfOpen) {
          Transition(BreakerState::kClosed, BreakerCause::kProbeSucceeded, id, 0, now_ns);
        }
      }
      CheckLoss(now_ns);
      return;
    }
    case ExecType::kReject: {
      bool probe = false;
      InstrumentId id = BreakerEvent::kNoInstrument;
      if (slot >= 0) {
        probe = orders_[slot].probe;
        id = orders_[slot].instrument;
        RemoveOrder(slot);
      }
      if (probe && state_ == BreakerState::kHalfOpen) {
        Transition(BreakerState::kOpen, BreakerCause::kProbeFailed, id, 0, now_ns);
      }
      if (reject_cap_ > 0) {
        reject_ts_[reject_pos_] = now_ns;
        if (++reject_pos_ == reject_cap_) reject_pos_ = 0;
        if (reject_count_ < reject_cap_) ++reject_count_;
        // Full ring: reject_pos_ now holds the oldest of the last reject_cap_ rejects.
        if (reject_count_ == reject_cap_ &&
            now_ns - reject_ts_[reject_pos_] < cfg_.breaker.reject_burst_window_ns) {
          Trip(BreakerCause::kRejectBurst, id, reject_cap_, now_ns);
        }
      }
      return;
    }
    case ExecType::kCanceled:
    case ExecType::kExpired:
      cancel_retry_ns_ = kCancelRetryNs;  // cancels work again
      if (slot >= 0) {
        MarkVenueDone(orders_[slot], ev.cum_size);
        ShrinkOrder(slot, orders_[slot].leaves);
      }
      return;
    case ExecType::kInDoubt:
      // A create without a definite answer: the order may be working, so it stays counted at
      // full size until the venue ends it (exec events, reconciliation).
      if (ev.request == CmdType::kNew) return;
      [[fallthrough]];  // a cancel in doubt: the order is still working, as after a refusal
    case ExecType::kCancelReject:
      if (slot >= 0 && orders_[slot].cancel_sent) {
        const auto why = static_cast<VenueRejectCode>(ev.reject_code);
        // The venue no longer has it working (done, or never there): asking again cannot help;
        // its end arrives as an exec event (private stream or reconciliation).
        if (ev.type == ExecType::kCancelReject &&
            (why == VenueRejectCode::kUnknownOrder || why == VenueRejectCode::kTooLateToCancel)) {
          return;
        }
        orders_[slot].cancel_sent = false;
        cancels_pending_ = true;
        // Spaced, and more so while refusals continue: 100 ms doubling to 6.4 s.
        cancel_retry_at_ns_ = now_ns + cancel_retry_ns_;
        if (cancel_retry_ns_ < 64 * kCancelRetryNs) cancel_retry_ns_ *= 2;
      }
      return;
    case ExecType::kSession:
      switch (static_cast<SessionEvent>(ev.reject_code)) {
        case SessionEvent::kExecStreamLost:
          exec_stream_down_ = true;
          Trip(BreakerCause::kExecStreamLost, BreakerEvent::kNoInstrument, ev.last_price, now_ns);
          return;
        case SessionEvent::kExecStreamRestored:
          exec_stream_down_ = false;  // the cooldown counts from here
          return;
        case SessionEvent::kLatencyOverBudget:
          OnLatencySample(ev.last_price, now_ns);
          return;
        case SessionEvent::kRingOverrun:
          OnRingOverrun(now_ns);
          return;
        case SessionEvent::kNone:
          return;
      }
      return;
    case ExecType::kPendingNew:
    case ExecType::kReplaced:
      return;
  }
}

// ----------------------------------------------------------------------------------------------
// Market data.

void RiskCore::UpdatePriceMove(InstrumentId id, Instrument& in, int64_t price,
                               int64_t now_ns) noexcept {
  const int64_t bps = cfg_.breaker.price_move_bps;
  if (bps == kNoLimit || price <= 0) return;
  const int64_t window = cfg_.breaker.price_move_window_ns;
  if (in.move_win_start < 0 || now_ns - in.move_win_start >= window) {
    // Roll: the previous window keeps the last window's range only if it is recent enough that
    // [now - window, now] is covered by previous + current.
    if (in.move_win_start >= 0 && now_ns - in.move_win_start < 2 * window) {
      in.prev_min = in.cur_min;
      in.prev_max = in.cur_max;
    } else {
      in.prev_min = in.prev_max = price;
    }
    in.cur_min = in.cur_max = price;
    in.move_win_start = now_ns;
  }
  const int64_t lo = in.cur_min < in.prev_min ? in.cur_min : in.prev_min;
  const int64_t hi = in.cur_max > in.prev_max ? in.cur_max : in.prev_max;
  // Move relative to the earlier price: up from lo, down from hi.
  const __int128 up = static_cast<__int128>(price - lo) * 10000;
  const __int128 down = static_cast<__int128>(hi - price) * 10000;
  if (up > static_cast<__int128>(bps) * lo || down > static_cast<__int128>(bps) * hi) {
    const __int128 moved = up > 0 ? up / lo : down / hi;
    Trip(BreakerCause::kPriceMove, id, static_cast<int64_t>(moved), now_ns);
  }
  if (price < in.cur_min) in.cur_min = price;
  if (price > in.cur_max) in.cur_max = price;
}

void RiskCore::OnMarketData(const MdEvent& ev, int64_t now_ns) noexcept {
  if ((ev.flags & kMdRingOverrun) != 0) [[unlikely]] {
    OnRingOverrun(now_ns);
  }
  if (ev.instrument >= inst_.size()) return;
  const InstrumentId id = ev.instrument;
  Instrument& in = inst_[id];
  const BreakerConfig& b = cfg_.breaker;
  if (ev.type != MdType::kStatus) {
    in.last_md_ns = now_ns;
    if (in.stale_flag) {
      in.stale_flag = false;
      --num_stale_flag_;
    }
  }
  switch (ev.type) {
    case MdType::kLevels:
      return;
    case MdType::kBbo: {
      const MdBbo& q = ev.bbo;
      if (q.bid_price > 0 && q.ask_price > 0 && q.bid_price >= q.ask_price) {
        if (!in.crossed) {
          in.crossed = true;
          ++num_crossed_;
        }
        if (b.trip_on_crossed) Trip(BreakerCause::kCrossedBook, id, q.bid_price, now_ns);
        return;  // a crossed quote is no reference price
      }
      if (in.crossed) {
        in.crossed = false;
        --num_crossed_;
      }
      in.bid = q.bid_price;
      in.ask = q.ask_price;
      in.has_bbo = q.bid_price > 0 && q.ask_price > 0;
      if (in.has_bbo) UpdatePriceMove(id, in, in.bid + (in.ask - in.bid) / 2, now_ns);
      break;
    }
    case MdType::kTrade:
      in.last = ev.trade.price;
      in.has_last = ev.trade.price > 0;
      UpdatePriceMove(id, in, ev.trade.price, now_ns);
      break;
    case MdType::kStatus:
      switch (ev.status.code) {
        case MdStatus::kStale:
          if (!in.stale_flag) {
            in.stale_flag = true;
            ++num_stale_flag_;
          }
          if (b.trip_on_stale_status) Trip(BreakerCause::kFeedStale, id, ev.status.detail, now_ns);
          return;
        case MdStatus::kGap:
          if (!in.gapped) {
            in.gapped = true;
            in.gap_since_ns = now_ns;
            ++num_gapped_;
          }
          if (b.trip_on_gap && b.gap_grace_ns == 0) {
            Trip(BreakerCause::kSequenceGap, id, static_cast<int64_t>(ev.status.expected_seq),
                 now_ns);
          }
          return;
        case MdStatus::kResynced:
          in.last_md_ns = now_ns;
          if (in.gapped) {
            in.gapped = false;
            --num_gapped_;
          }
          if (in.stale_flag) {
            in.stale_flag = false;
            --num_stale_flag_;
          }
          return;
        case MdStatus::kCrossed:
          if (!in.crossed) {
            in.crossed = true;
            ++num_crossed_;
          }
          if (b.trip_on_crossed) Trip(BreakerCause::kCrossedBook, id, 0, now_ns);
          return;
        case MdStatus::kUncrossed:
          if (in.crossed) {
            in.crossed = false;
            --num_crossed_;
          }
          return;
        case MdStatus::kConnected:
        case MdStatus::kDisconnected:
        case MdStatus::kDecodeError:
          return;
      }
      return;
  }
  UpdateUnrealized(in);
  CheckLoss(now_ns);
}

bool RiskCore::SetVenueBand(InstrumentId id, int64_t low, int64_t high) noexcept {
  if (id >= inst_.size() || low > high) return false;
  Instrument& in = inst_[id];
  in.band_low = low;
  in.band_high = high;
  in.has_band = true;
  return true;
}

// ----------------------------------------------------------------------------------------------
// Breaker.

void RiskCore::Trip(BreakerCause cause, InstrumentId id, int64_t detail, int64_t now_ns) noexcept {
  if (state_ == BreakerState::kKilled) return;
  if (state_ == BreakerState::kOpen) {
    opened_at_ns_ = now_ns;  // the condition is still there: the cooldown starts again
    return;
  }
  Transition(BreakerState::kOpen, cause, id, detail, now_ns);
}

void RiskCore::Transition(BreakerState to, BreakerCause cause, InstrumentId id, int64_t detail,
                          int64_t now_ns) noexcept {
  if (ev_size_ < kEventCapacity) {
    events_[(ev_head_ + ev_size_) % kEventCapacity] =
        BreakerEvent{state_, to, cause, id, now_ns, detail};
    ++ev_size_;
  } else {
    ++dropped_events_;
  }
  state_ = to;
  if (to == BreakerState::kOpen || to == BreakerState::kKilled) {
    opened_at_ns_ = now_ns;
    EmitCancels(now_ns);
  } else if (to == BreakerState::kHalfOpen) {
    probes_left_ = cfg_.breaker.probe_orders;
  }
}

void RiskCore::EmitCancels(int64_t now_ns) noexcept {
  cancels_pending_ = false;
  const CmdOrigin origin =
      state_ == BreakerState::kKilled ? CmdOrigin::kKillSwitch : CmdOrigin::kBreaker;
  for (int32_t i = 0; i < cfg_.working_capacity; ++i) {
    Order& o = orders_[i];
    if (!o.in_use || o.cancel_sent) continue;
    if (cmd_size_ == cmd_cap_) {
      cancels_pending_ = true;
      return;
    }
    OrderCmd& c = cmd_buf_[(cmd_head_ + cmd_size_) % cmd_cap_];
    c = OrderCmd{};
    c.type = CmdType::kCancel;
    c.side = o.side;
    c.origin = origin;
    c.instrument = o.instrument;
    c.strategy_id = o.strategy_id;
    c.client_order_id = next_id_++;
    c.orig_client_order_id = o.id;
    c.times.risk_ns = now_ns;
    ++cmd_size_;
    o.cancel_sent = true;
  }
}

bool RiskCore::PersistentConditions(int64_t now_ns) const noexcept {
  const BreakerConfig& b = cfg_.breaker;
  if (exec_stream_down_) return true;
  if (b.trip_on_gap && num_gapped_ > 0) return true;
  if (b.trip_on_crossed && num_crossed_ > 0) return true;
  if (b.trip_on_stale_status && num_stale_flag_ > 0) return true;
  if (b.stale_after_ns != kNoLimit) {
    for (const Instrument& in : inst_) {
      if (in.last_md_ns >= 0 && now_ns - in.last_md_ns > b.stale_after_ns) return true;
    }
  }
  return false;
}

void RiskCore::Poll(int64_t now_ns) noexcept {
  MaybeRollDay(now_ns);
  const BreakerConfig& b = cfg_.breaker;
  if (b.stale_after_ns != kNoLimit || (b.trip_on_gap && num_gapped_ > 0)) {
    for (size_t i = 0; i < inst_.size(); ++i) {
      const Instrument& in = inst_[i];
      const InstrumentId id = static_cast<InstrumentId>(i);
      if (b.stale_after_ns != kNoLimit && in.last_md_ns >= 0 &&
          now_ns - in.last_md_ns > b.stale_after_ns) {
        Trip(BreakerCause::kFeedStale, id, now_ns - in.last_md_ns, now_ns);
      }
      if (b.trip_on_gap && in.gapped && now_ns - in.gap_since_ns >= b.gap_grace_ns) {
        Trip(BreakerCause::kSequenceGap, id, now_ns - in.gap_since_ns, now_ns);
      }
    }
  }
  if (state_ == BreakerState::kOpen) {
    // The cooldown counts from the moment every persistent condition has cleared.
    if (PersistentConditions(now_ns)) {
      opened_at_ns_ = now_ns;
    } else if (now_ns - opened_at_ns_ >= b.cooldown_ns) {
      Transition(BreakerState::kHalfOpen, BreakerCause::kCooldownElapsed,
                 BreakerEvent::kNoInstrument, 0, now_ns);
    }
  }
  if (cancels_pending_ && (state_ == BreakerState::kOpen || state_ == BreakerState::kKilled) &&
      now_ns >= cancel_retry_at_ns_) {
    EmitCancels(now_ns);
  }
}

void RiskCore::OnRingOverrun(int64_t now_ns) noexcept {
  if (cfg_.breaker.trip_on_ring_overrun) {
    Trip(BreakerCause::kRingOverrun, BreakerEvent::kNoInstrument, 0, now_ns);
  }
}

void RiskCore::OnLatencySample(int64_t tick_to_order_ns, int64_t now_ns) noexcept {
  if (tick_to_order_ns > cfg_.breaker.latency_budget_ns) {
    Trip(BreakerCause::kLatency, BreakerEvent::kNoInstrument, tick_to_order_ns, now_ns);
  }
}

void RiskCore::Kill(BreakerCause cause, int64_t now_ns) noexcept {
  if (state_ == BreakerState::kKilled) return;
  Transition(BreakerState::kKilled, cause, BreakerEvent::kNoInstrument, 0, now_ns);
}

bool RiskCore::Resume(int64_t now_ns) noexcept {
  if (state_ != BreakerState::kKilled) return false;
  Transition(BreakerState::kClosed, BreakerCause::kResume, BreakerEvent::kNoInstrument, 0, now_ns);
  return true;
}

bool RiskCore::PopCommand(OrderCmd* out) noexcept {
  if (cmd_size_ == 0) return false;
  *out = cmd_buf_[cmd_head_];
  cmd_head_ = (cmd_head_ + 1) % cmd_cap_;
  --cmd_size_;
  return true;
}

bool RiskCore::PopBreakerEvent(BreakerEvent* out) noexcept {
  if (ev_size_ == 0) return false;
  *out = events_[ev_head_];
  ev_head_ = (ev_head_ + 1) % kEventCapacity;
  --ev_size_;
  return true;
}

}  // namespace nzeza
