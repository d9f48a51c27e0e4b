#include <nzeza/risk/risk_stage.h>

namespace nzeza {

RiskStage::RiskStage(RiskCore& risk, SpscRing<OrderIntent>& intents_in, SpscRing<MdEvent>& md_in,
                     SpscRing<ExecEvent>& exec_in, SpscRing<OrderCmd>& cmds_out,
                     SpscRing<BreakerEvent>* breaker_out, const TscClock* clock,
                     RiskStageOptions options)
    : risk_(risk),
      intents_in_(intents_in),
      md_in_(md_in),
      exec_in_(exec_in),
      cmds_out_(cmds_out),
      breaker_out_(breaker_out),
      clock_(clock),
      options_(options) {
  counters_.state.Set(static_cast<uint64_t>(risk_.state()));
}

void RiskStage::DrainBreakerEvents() noexcept {
  BreakerEvent ev;
  while (risk_.PopBreakerEvent(&ev)) {
    ++counters_.breaker_events;
    if (ev.to == BreakerState::kOpen || ev.to == BreakerState::kKilled) ++counters_.breaker_trips;
    if (breaker_out_ != nullptr && !breaker_out_->try_push(ev)) ++counters_.breaker_event_drops;
  }
  counters_.state.Set(static_cast<uint64_t>(risk_.state()));
  counters_.open_orders.Set(static_cast<uint64_t>(risk_.open_orders_total()));
}

void RiskStage::WatchCmdRing(bool blocked, int64_t now) noexcept {
  if (!blocked) {
    cmd_blocked_since_ns_ = -1;
    cmd_overrun_reported_ = false;
    return;
  }
  if (cmd_blocked_since_ns_ < 0) {
    cmd_blocked_since_ns_ = now;
    return;
  }
  if (!cmd_overrun_reported_ && now - cmd_blocked_since_ns_ >= options_.cmd_full_trip_ns) {
    cmd_overrun_reported_ = true;
    ++counters_.ring_overruns;
    risk_.OnRingOverrun(now);
  }
}

int RiskStage::Poll() noexcept {
  int work = 0;
  int64_t now = Now();

  // 1. Control plane: apply the newer of a pending kill and a pending resume.
  const uint64_t kill = control_.kill_seq_.load(std::memory_order_acquire);
  const uint64_t resume = control_.resume_seq_.load(std::memory_order_acquire);
  if (kill > applied_seq_ || resume > applied_seq_) {
    if (kill > resume) {
      risk_.Kill(BreakerCause::kKillSwitch, now);
      ++counters_.kills;
    } else {
      (void)risk_.Resume(now);  // false when not killed: nothing to do
      ++counters_.resumes;
    }
    applied_seq_ = kill > resume ? kill : resume;
    ++work;
  }

  // 2. Execution events.
  for (uint32_t n = 0; n < options_.max_per_poll; ++n) {
    const ExecEvent* ev = exec_in_.front();
    if (ev == nullptr) break;
    risk_.OnExec(*ev, now);
    exec_in_.pop();
    ++counters_.exec_events;
    ++work;
  }

  // 3. Market data.
  for (uint32_t n = 0; n < options_.max_per_poll; ++n) {
    const MdEvent* ev = md_in_.front();
    if (ev == nullptr) break;
    risk_.OnMarketData(*ev, now);
    md_in_.pop();
    ++counters_.md_events;
    ++work;
  }

  // 4. Time-based trips, then the breaker's cancels (before any new order).
  risk_.Poll(now);
  for (;;) {
    if (!have_pending_cmd_) have_pending_cmd_ = risk_.PopCommand(&pending_cmd_);
    if (!have_pending_cmd_) break;
    pending_cmd_.times.risk_ns = now;
    if (!cmds_out_.try_push(pending_cmd_)) break;  // kept for the next Poll
    have_pending_cmd_ = false;
    ++counters_.breaker_cmds;
    ++work;
  }

  // 5. Intents, only while their commands (and refusals) have room and no breaker cancel waits.
  bool cmd_blocked = have_pending_cmd_;
  for (uint32_t n = 0; n < options_.max_per_poll; ++n) {
    const OrderIntent* it = intents_in_.front();
    if (it == nullptr) break;
    if (have_pending_cmd_ || !CmdRoom()) {
      ++counters_.cmd_backpressure;
      cmd_blocked = true;
      break;
    }
    if (!RefusalRoom()) {
      ++counters_.refusal_backpressure;
      break;
    }
    now = Now();
    OrderCmd cmd;
    const RiskDecision d = risk_.CheckIntent(*it, now, &cmd);
    ++counters_.intents;
    ++work;
    if (!d.accepted()) {
      ++counters_.refused;
      ++counters_.refused_by_reason[static_cast<int>(d.reason)];
      if (refusals_out_ != nullptr) {
        ExecEvent ev;
        ev.type = it->type == IntentType::kNew ? ExecType::kReject : ExecType::kCancelReject;
        ev.side = it->side;
        ev.instrument = it->instrument;
        ev.strategy_id = it->strategy_id;
        ev.intent_id = it->intent_id;
        ev.client_order_id = it->type == IntentType::kNew ? 0 : it->target_order_id;
        ev.reject_code = static_cast<uint16_t>(kRiskRejectBase + static_cast<int>(d.reason));
        ev.times = it->times;
        ev.times.risk_ns = now;
        (void)refusals_out_->try_push(ev);  // room checked above; the only producer
      }
      intents_in_.pop();
      continue;
    }
    intents_in_.pop();
    ++counters_.accepted;
    (void)cmds_out_.try_push(cmd);  // room checked above; this stage is the only producer
  }
  WatchCmdRing(cmd_blocked, now);
  DrainBreakerEvents();
  return work;
}

}  // namespace nzeza
