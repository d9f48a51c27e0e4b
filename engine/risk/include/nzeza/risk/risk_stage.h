// RiskStage: the pipeline stage that hosts RiskCore: intents in, order commands out, with the
// breaker's cancels, market data and execution events feeding its view, and the control plane's
// kill / resume through a lock-free mailbox.
//
//   RiskStage risk(core, intents, risk_md, exec_to_risk, cmds, &clock);
//   worker.AddStage(&risk);
//   risk.control().RequestKill();       // any thread (the ops endpoint): applied on the next Poll
//   BreakerEvent ev; while (breaker_events.try_pop(ev)) Log(ev);   // control plane, optional ring
//
// Each Poll():
// 1. applies pending kill / resume requests;
// 2. drains execution events (so working orders and positions are current before deciding);
// 3. drains market data (reference prices, staleness, gap / crossed / resynced status);
// 4. RiskCore::Poll (time-based trips, cooldown), then forwards the breaker's and kill switch's
//    cancel commands;
// 5. checks intents and forwards the accepted commands (times.risk_ns stamped).
// An intent is taken off its ring only when the command ring has room for its command and the
// refusal ring (if any) has room for a refusal, so neither an accepted order nor a refusal is
// ever lost between stages: a full ring back-pressures the signal stage (which refuses the
// intents its own full ring cannot take back to their strategies and flags the overrun to risk,
// see SignalStage). That back-pressure is bounded: when commands (a breaker cancel or an intent)
// have waited on a full command ring for RiskStageOptions::cmd_full_trip_ns, the stage reports a
// ring overrun to RiskCore (once per episode; counted in ring_overruns), which trips the breaker.
// Breaker transitions go to an optional ring for the control plane; when that ring is full they
// are counted and dropped (the breaker itself is unaffected).
//
// Thread: Poll() on the hosting worker's thread; control() and counters() from any thread.
// Allocates: never after construction.
#ifndef NZEZA_RISK_RISK_STAGE_H_
#define NZEZA_RISK_RISK_STAGE_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include <nzeza/core/clock.h>
#include <nzeza/core/counter.h>
#include <nzeza/core/events.h>
#include <nzeza/core/runtime.h>
#include <nzeza/core/spsc_ring.h>
#include <nzeza/risk/risk_engine.h>

namespace nzeza {

// Kill and resume requests from any number of threads, applied by the risk stage in order of
// arrival per kind (a kill and a resume racing each other: the later call wins, as RiskStage
// applies the one whose sequence is newer).
class RiskControl {
 public:
  void RequestKill() noexcept { Post(&kill_seq_); }
  void RequestResume() noexcept { Post(&resume_seq_); }

 private:
  friend class RiskStage;
  void Post(std::atomic<uint64_t>* slot) noexcept {
    slot->store(seq_.fetch_add(1, std::memory_order_acq_rel) + 1, std::memory_order_release);
  }
  std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> kill_seq_{0};
  std::atomic<uint64_t> resume_seq_{0};
};

struct RiskStageOptions {
  uint32_t max_per_poll = 64;  // per input ring
  // How long commands may wait on a full command ring (the order stage not taking them) before
  // it counts as a ring overrun and trips the breaker. > 0.
  int64_t cmd_full_trip_ns = 50'000'000;
};

struct RiskStageCounters {
  RelaxedCounter intents;
  RelaxedCounter accepted;
  RelaxedCounter refused;
  RelaxedCounter refused_by_reason[kNumRiskReasons];
  RelaxedCounter md_events;
  RelaxedCounter exec_events;
  RelaxedCounter breaker_cmds;         // cancels from the breaker / kill switch forwarded
  RelaxedCounter breaker_events;       // transitions
  RelaxedCounter breaker_trips;        // transitions into kOpen or kKilled
  RelaxedCounter breaker_event_drops;  // transitions the control-plane ring had no room for
  RelaxedCounter cmd_backpressure;     // polls that left intents waiting: the command ring full
  RelaxedCounter kills;
  RelaxedCounter resumes;
  RelaxedCounter state;        // BreakerState as a number (a gauge)
  RelaxedCounter open_orders;  // working orders risk counts, all instruments (a gauge)
  // Polls that left intents waiting: the ring back to the strategies had no room for a refusal.
  RelaxedCounter refusal_backpressure;
  RelaxedCounter ring_overruns;  // the command ring stayed full past cmd_full_trip_ns
};

class RiskStage final : public Stage {
 public:
  // `breaker_out` may be null; `clock` may be null (CLOCK_MONOTONIC).
  RiskStage(RiskCore& risk, SpscRing<OrderIntent>& intents_in, SpscRing<MdEvent>& md_in,
            SpscRing<ExecEvent>& exec_in, SpscRing<OrderCmd>& cmds_out,
            SpscRing<BreakerEvent>* breaker_out, const TscClock* clock,
            RiskStageOptions options = {});

  // Where refusals go back to the strategies (SignalStage::SetRiskRefusals): for each refused
  // intent a kReject (new) or kCancelReject (cancel) ExecEvent with the intent's intent_id,
  // strategy_id, instrument and side, client_order_id 0 (no order exists) and reject_code
  // kRiskRejectBase + RiskReason. Without it a strategy that waits for an answer to its intent
  // would wait forever. While that ring is full no intent is checked (refusal_backpressure), so
  // no refusal is ever dropped. Before the worker starts.
  void SetRefusalsOut(SpscRing<ExecEvent>* refusals) noexcept { refusals_out_ = refusals; }
  static constexpr uint16_t kRiskRejectBase = 1000;

  std::string_view name() const noexcept override { return "risk"; }
  int Poll() noexcept override;

  RiskControl& control() noexcept { return control_; }
  const RiskStageCounters& counters() const noexcept { return counters_; }

 private:
  int64_t Now() const noexcept { return clock_ != nullptr ? clock_->NowNanos() : MonotonicNanos(); }
  bool CmdRoom() const noexcept { return cmds_out_.size() < cmds_out_.capacity(); }
  bool RefusalRoom() const noexcept {
    return refusals_out_ == nullptr || refusals_out_->size() < refusals_out_->capacity();
  }
  // Bounded back-pressure of the command ring: `blocked` says commands wait on it this poll.
  void WatchCmdRing(bool blocked, int64_t now) noexcept;
  void DrainBreakerEvents() noexcept;

  RiskCore& risk_;
  SpscRing<OrderIntent>& intents_in_;
  SpscRing<MdEvent>& md_in_;
  SpscRing<ExecEvent>& exec_in_;
  SpscRing<OrderCmd>& cmds_out_;
  SpscRing<BreakerEvent>* breaker_out_;
  SpscRing<ExecEvent>* refusals_out_ = nullptr;
  const TscClock* clock_;
  RiskStageOptions options_;
  RiskControl control_;
  uint64_t applied_seq_ = 0;  // the newest control request applied
  OrderCmd pending_cmd_{};    // a breaker cancel popped from RiskCore, not yet forwarded
  bool have_pending_cmd_ = false;
  int64_t cmd_blocked_since_ns_ = -1;  // -1: commands are not waiting on a full ring
  bool cmd_overrun_reported_ = false;  // this episode's overrun already went to RiskCore
  RiskStageCounters counters_;
};

}  // namespace nzeza

#endif  // NZEZA_RISK_RISK_STAGE_H_
