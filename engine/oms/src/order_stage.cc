#include <nzeza/oms/order_stage.h>

namespace nzeza::oms {

const char* LatencyStageName(LatencyStage s) noexcept {
  switch (s) {
    case LatencyStage::kDecode:
      return "decode";
    case LatencyStage::kSignal:
      return "signal";
    case LatencyStage::kRisk:
      return "risk";
    case LatencyStage::kOrder:
      return "order";
    case LatencyStage::kTickToOrder:
      return "tick_to_order";
    case LatencyStage::kAck:
      return "ack";
    case LatencyStage::kTickToWrite:
      return "tick_to_write";
  }
  return "unknown";
}

OrderStage::OrderStage(OrderManager& oms, Journal* journal, OrderGateway& gateway,
                       SpscRing<OrderCmd>& cmds_in, SpscRing<ExecEvent>& exec_to_risk,
                       SpscRing<ExecEvent>& exec_to_signal, const TscClock* clock,
                       OrderStageOptions options)
    : oms_(oms),
      journal_(journal),
      gateway_(gateway),
      cmds_in_(cmds_in),
      exec_to_risk_(exec_to_risk),
      exec_to_signal_(exec_to_signal),
      clock_(clock),
      options_{.max_per_poll = options.max_per_poll < 1     ? 1u
                               : options.max_per_poll > 256 ? 256u
                                                            : options.max_per_poll,
               .latency_budget_ns = options.latency_budget_ns,
               .block_on_mismatch = options.block_on_mismatch},
      held_(new ExecEvent[kHeldCapacity]),
      held_to_(new uint8_t[kHeldCapacity]) {}

void OrderStage::Push(const ExecEvent& ev) noexcept {
  uint8_t owed = 0;
  // Keep order: once something is held, later events queue behind it.
  if (held_size_ != 0 || !exec_to_risk_.try_push(ev)) owed |= 1;
  if (held_size_ != 0 || !exec_to_signal_.try_push(ev)) owed |= 2;
  if (owed == 0) return;
  if (held_size_ == kHeldCapacity) {
    ++counters_.exec_drops;
    return;
  }
  const size_t at = (held_head_ + held_size_) % kHeldCapacity;
  held_[at] = ev;
  held_to_[at] = owed;
  ++held_size_;
}

int OrderStage::DrainHeld() noexcept {
  int n = 0;
  while (held_size_ != 0) {
    uint8_t& owed = held_to_[held_head_];
    const ExecEvent& ev = held_[held_head_];
    if ((owed & 1) != 0 && exec_to_risk_.try_push(ev)) owed &= ~uint8_t{1};
    if ((owed & 2) != 0 && exec_to_signal_.try_push(ev)) owed &= ~uint8_t{2};
    if (owed != 0) break;
    held_head_ = (held_head_ + 1) % kHeldCapacity;
    --held_size_;
    ++n;
  }
  return n;
}

bool OrderStage::ExecRoom() const noexcept {
  // size() seen from the producer side never under-counts, so this never over-promises.
  const size_t need = size_t{options_.max_per_poll} + 2;
  return exec_to_risk_.size() + need <= exec_to_risk_.capacity() &&
         exec_to_signal_.size() + need <= exec_to_signal_.capacity();
}

void OrderStage::Apply(const ExecEvent& ev, int64_t now) noexcept {
  if (journal_ != nullptr && journal_->AppendExec(ev, now) != AppendResult::kOk) {
    ++counters_.journal_errors;  // applied anyway: the venue's word stands; recovery reconciles
  }
  const OmsResult r = oms_.OnExec(ev);
  if (r != OmsResult::kApplied && r != OmsResult::kAppliedLate) ++counters_.exec_anomalies;
  if (r == OmsResult::kApplied && ev.client_order_id != 0) {
    const Order* o = oms_.Find(ev.client_order_id);
    if (o == nullptr || IsTerminal(o->state)) gateway_.Forget(ev.client_order_id);
  }
  ++counters_.exec_events;
  switch (ev.type) {
    case ExecType::kAck:
      ++counters_.acks;
      break;
    case ExecType::kFill:
      ++counters_.fills;
      break;
    case ExecType::kReject:
    case ExecType::kCancelReject:
      ++counters_.rejects;
      break;
    case ExecType::kCanceled:
    case ExecType::kExpired:
      ++counters_.canceled;
      break;
    case ExecType::kInDoubt:
      ++counters_.in_doubt;
      break;
    case ExecType::kSession:  // never journaled or applied: Notify pushes these
    case ExecType::kPendingNew:
    case ExecType::kReplaced:
      break;
  }
  Push(ev);
}

void OrderStage::Notify(SessionEvent event, int64_t detail) noexcept {
  ExecEvent ev;
  ev.type = ExecType::kSession;
  ev.client_order_id = 0;
  ev.strategy_id = 0;
  ev.instrument = 0xffffffffu;  // no instrument: strategies and risk's books ignore it
  ev.reject_code = static_cast<uint16_t>(event);
  ev.last_price = detail;
  ev.times.recv_ns = Now();
  Push(ev);
}

void OrderStage::OnSession(SessionEvent event, int64_t detail) {
  switch (event) {
    case SessionEvent::kExecStreamLost:
      if (settle_ != nullptr && settle_->busy()) lost_during_settle_ = true;
      settle_wanted_ = false;
      if (!stream_lost_) {
        stream_lost_ = true;
        ++counters_.exec_stream_losses;
        Notify(SessionEvent::kExecStreamLost, detail);
      }
      return;
    case SessionEvent::kExecStreamRestored:
      if (!stream_lost_) return;  // nothing was lost
      if (settle_ == nullptr) {
        stream_lost_ = false;
        Notify(SessionEvent::kExecStreamRestored, 0);
        return;
      }
      settle_wanted_ = true;
      return;
    case SessionEvent::kLatencyOverBudget:
    case SessionEvent::kRingOverrun:
      Notify(event, detail);
      return;
    case SessionEvent::kNone:
      return;
  }
}

void OrderStage::ApplySettled(const ExecEvent& ev, int64_t now) noexcept {
  if (ev.type == ExecType::kReject &&
      static_cast<VenueReject>(ev.reject_code) == VenueReject::kUnknownOrder) {
    // "Not listed at the venue" for an order whose create is still being answered (in flight,
    // or in doubt with the gateway's status queries running): the gateway's definite answer
    // settles it; a guess from a listing must not (the order may be placed after all).
    if (const Order* o = oms_.Find(ev.client_order_id)) {
      const OrderState w = o->state == OrderState::kPendingCancel ? o->resume : o->state;
      if (w == OrderState::kPendingNew || w == OrderState::kInDoubt) {
        ++counters_.settle_fills_capped;
        return;
      }
    }
  }
  if (ev.type != ExecType::kFill) return Apply(ev, now);
  // Computed from the orders as they were when the pass began; the stream may have delivered
  // part of it since. Only the cumulative size beyond the order's counts.
  const Order* o = oms_.Find(ev.client_order_id);
  if (o == nullptr || ev.cum_size <= 0) return Apply(ev, now);  // recycled: the OMS decides
  const int64_t beyond = ev.cum_size - o->cum_size;
  if (beyond <= 0) {
    ++counters_.settle_fills_capped;
    return;
  }
  if (beyond >= ev.last_size) return Apply(ev, now);
  ExecEvent part = ev;
  part.last_size = beyond;
  part.fee = ev.last_size != 0
                 ? static_cast<int64_t>(static_cast<__int128>(ev.fee) * beyond / ev.last_size)
                 : 0;
  ++counters_.settle_fills_capped;
  Apply(part, now);
}

int OrderStage::DriveSettle(int64_t now) noexcept {
  int work = 0;
  if (settle_wanted_ && !settle_->busy() && now >= settle_not_before_ns_) {
    if (settle_->Begin()) {
      settle_wanted_ = false;
      lost_during_settle_ = false;
      // A full scan of the table: rare (once per outage) and the breaker holds trading then.
      oms_.ForEachOrder([&](const Order& o) {
        if (IsOpen(o.state)) (void)settle_->Offer(o);
      });
      settle_->Submit();
      ++work;
    }
  }
  SettleResult r;
  while (settle_->busy() && ExecRoom() && settle_->TakeResult(&r)) {
    ++work;
    switch (r.kind) {
      case SettleResult::Kind::kExec:
        ApplySettled(r.exec, now);
        break;
      case SettleResult::Kind::kVenueOrderId:
        OnVenueOrderId(r.venue_id.client_order_id,
                       std::string_view(r.venue_id.id, r.venue_id.length));
        break;
      case SettleResult::Kind::kDone:
      case SettleResult::Kind::kMismatch:
        if (r.kind == SettleResult::Kind::kMismatch) ++counters_.settle_failures;
        if (lost_during_settle_) {
          // Lost again meanwhile: the next "back" asks for another pass.
          lost_during_settle_ = false;
        } else if (r.kind == SettleResult::Kind::kDone || !options_.block_on_mismatch) {
          ++counters_.settle_passes;
          stream_lost_ = false;
          Notify(SessionEvent::kExecStreamRestored, 0);
        }
        break;
      case SettleResult::Kind::kFailed:
        ++counters_.settle_failures;
        if (!lost_during_settle_) settle_wanted_ = true;  // the stream is back: ask again
        lost_during_settle_ = false;
        settle_not_before_ns_ = now + 1'000'000'000;
        break;
    }
  }
  return work;
}

void OrderStage::OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) {
  if (journal_ != nullptr &&
      journal_->AppendVenueOrderId(client_order_id, venue_order_id, Now()) != AppendResult::kOk) {
    ++counters_.journal_errors;
  }
  if (oms_.SetVenueOrderId(client_order_id, venue_order_id) == OmsResult::kApplied) {
    ++counters_.venue_order_ids;
  }
}

void OrderStage::OnExec(const ExecEvent& ev) {
  const int64_t now = Now();
  ExecEvent e = ev;
  if (e.times.recv_ns == 0) e.times.recv_ns = now;
  if (e.type == ExecType::kAck || e.type == ExecType::kReject) {
    Record(LatencyStage::kAck, e.times.sent_ns, e.times.recv_ns);
  }
  Apply(e, now);
}

ExecEvent OrderStage::Synthesized(const OrderCmd& cmd, VenueReject why, int64_t now) noexcept {
  ExecEvent ev;
  ev.type = cmd.type == CmdType::kNew ? ExecType::kReject : ExecType::kCancelReject;
  ev.request = cmd.type;
  ev.side = cmd.side;
  ev.instrument = cmd.instrument;
  ev.strategy_id = cmd.strategy_id;
  ev.client_order_id = cmd.type == CmdType::kNew || cmd.orig_client_order_id == 0
                           ? cmd.client_order_id
                           : cmd.orig_client_order_id;
  ev.intent_id = cmd.intent_id;
  ev.reject_code = static_cast<uint16_t>(why);
  ev.times = cmd.times;
  ev.times.recv_ns = now;
  ev.leaves_size = 0;
  return ev;
}

void OrderStage::Refuse(const OrderCmd& cmd, VenueReject why, int64_t now) noexcept {
  ++counters_.not_sent;
  if (cmd.type == CmdType::kCancelAll) return;  // nothing to answer per order
  Apply(Synthesized(cmd, why, now), now);
}

namespace {

VenueReject FromSendStatus(SendStatus s) noexcept {
  switch (s) {
    case SendStatus::kSent:
      return VenueReject::kNone;
    case SendStatus::kNotConnected:
    case SendStatus::kQueueFull:
      return VenueReject::kVenueUnavailable;
    case SendStatus::kRateLimited:
      return VenueReject::kRateLimited;
    case SendStatus::kEncodeError:
      return VenueReject::kInvalidRequest;
  }
  return VenueReject::kUnknown;
}

}  // namespace

int OrderStage::Poll() noexcept {
  int work = DrainHeld();
  bool sent_any = false;
  // Commands: journal, order manager, venue.
  for (uint32_t n = 0; n < options_.max_per_poll; ++n) {
    if (!ExecRoom()) break;  // a refusal must be able to answer
    OrderCmd* c = cmds_in_.front();
    if (c == nullptr) break;
    OrderCmd cmd = *c;
    cmds_in_.pop();
    ++work;
    ++counters_.cmds;
    const int64_t now = Now();
    cmd.times.sent_ns = now;
    if (journal_ != nullptr && journal_->AppendCmd(cmd, now) != AppendResult::kOk) {
      ++counters_.journal_errors;
      // Not journaled: not applied, not sent; answer risk and the strategy directly.
      ++counters_.not_sent;
      if (cmd.type != CmdType::kCancelAll) {
        ++counters_.rejects;
        Push(Synthesized(cmd, VenueReject::kUnknown, now));
      }
      continue;
    }
    if (const OmsResult r = oms_.OnCmd(cmd); r != OmsResult::kApplied) {
      ++counters_.oms_refused;
      if (cmd.type == CmdType::kNew && r == OmsResult::kDuplicateOrderId) {
        // The id names a live order: answer risk and the strategy about this command only.
        ++counters_.not_sent;
        ++counters_.rejects;
        Push(Synthesized(cmd, VenueReject::kDuplicateClientId, now));
        continue;
      }
      Refuse(cmd,
             r == OmsResult::kUnknownOrder ? VenueReject::kUnknownOrder
             : r == OmsResult::kTableFull  ? VenueReject::kOrderTableFull
                                           : VenueReject::kDuplicateClientId,
             now);
      continue;
    }
    const SendStatus s = gateway_.Send(cmd, now);
    if (s != SendStatus::kSent) {
      Refuse(cmd, FromSendStatus(s), now);
      continue;
    }
    ++counters_.sent;
    sent_any = true;
    if (cmd.type == CmdType::kNew) {
      ++counters_.new_orders;
    } else {
      ++counters_.cancels;
    }
    if (cmd.origin == CmdOrigin::kStrategy && cmd.times.recv_ns > 0 && batch_n_ < 256) {
      batch_[batch_n_++] = cmd.times;
    }
  }
  if (sent_any) {
    const int64_t flush_start = Now();
    gateway_.Flush(flush_start);
    const int64_t flushed = Now();
    int64_t worst = 0;
    for (uint32_t i = 0; i < batch_n_; ++i) {
      const StageTimes& t = batch_[i];
      if (t.recv_ns > 0 && flushed - t.recv_ns > worst) worst = flushed - t.recv_ns;
      Record(LatencyStage::kDecode, t.recv_ns, t.decoded_ns);
      Record(LatencyStage::kSignal, t.decoded_ns, t.signal_ns);
      Record(LatencyStage::kRisk, t.signal_ns, t.risk_ns);
      Record(LatencyStage::kOrder, t.risk_ns, flushed);
      Record(LatencyStage::kTickToOrder, t.recv_ns, flushed);
      Record(LatencyStage::kTickToWrite, t.recv_ns, flush_start);
    }
    batch_n_ = 0;
    if (worst > options_.latency_budget_ns) Notify(SessionEvent::kLatencyOverBudget, worst);
  }
  // Venue events, only with room to pass them on.
  if (held_size_ == 0 && ExecRoom()) {
    work += gateway_.Poll(*this);
  } else {
    ++counters_.exec_backpressure;
  }
  if (settle_ != nullptr && (settle_wanted_ || settle_->busy()) && held_size_ == 0) {
    work += DriveSettle(Now());
  }
  if (work == 0 && journal_ != nullptr) (void)journal_->Maintain(Now());
  return work;
}

}  // namespace nzeza::oms
