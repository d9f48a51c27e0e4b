// OrderStage: the pipeline stage that owns order entry: commands from risk are journaled, applied
// to the order manager and handed to the venue gateway; venue events are journaled, applied and
// fanned out to risk and signal. It also keeps the per-stage latency histograms, since every
// timestamp of a command's path (receive, decode, signal, risk, send) is known here.
//
//   OrderStage order(oms, journal.get(), gateway, cmds, exec_to_risk, exec_to_signal, &clock);
//   worker.AddStage(&order);
//   ... after the workers stopped:
//   order.latency(LatencyStage::kTickToOrder).ValueAtPercentile(99);
//
// A command goes out only after it is in the journal and accepted by the order manager: when the
// journal append fails or the order manager refuses the command (duplicate id, full table, an
// unknown order to cancel), or the gateway cannot send it, nothing is sent and the stage answers
// with a synthesized kReject (new) / kCancelReject (cancel) carrying a VenueReject code, which is
// journaled and applied like a venue event, so risk frees what it held and the strategy learns.
// One exception: a new order whose client id is already live (kDuplicateOrderId) is answered to
// risk and signal only, neither journaled nor applied: that id names the live order, which the
// refusal must not end. Venue ids the gateway learns (ExecSink::OnVenueOrderId) are journaled
// and kept with the order.
// Venue events are taken from the gateway only while both exec rings have room for a batch; what
// a gateway poll yields beyond that room waits in a bounded local queue (kHeldCapacity) that is
// drained first, so an execution report is never dropped between stages (only past that bound,
// counted in exec_drops, where risk keeps the order as working: the safe side). Idle polls run the
// journal's upkeep (Journal::Maintain: sync by policy, prefault, prepare and retire segments).
//
// The private execution stream: when the gateway reports it lost (ExecSink::OnSession), risk and
// signal get a kSession kExecStreamLost event (risk's breaker opens and holds); when the gateway
// reports it back, the stage hands its open orders to the SettleWorker, journals and applies the
// events the venue gives (fills only beyond the order's cumulative size; never an "unknown order"
// reject for a create still being answered: the gateway settles those), and only then sends
// kExecStreamRestored. A pass that fails is retried a second later; one that finds a mismatch
// leaves the stream lost (trading stays blocked) until an operator restarts the engine, unless
// block_on_mismatch is false.
//
// Thread: Poll() on the hosting worker's thread. counters() from any thread; latency() only when
// the stage is not running (the histograms are plain memory owned by the stage thread).
// Allocates: never after construction (the histograms allocate in the constructor).
#ifndef NZEZA_OMS_ORDER_STAGE_H_
#define NZEZA_OMS_ORDER_STAGE_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include <nzeza/core/clock.h>
#include <nzeza/core/counter.h>
#include <nzeza/core/events.h>
#include <nzeza/core/latency_histogram.h>
#include <nzeza/core/runtime.h>
#include <nzeza/core/spsc_ring.h>
#include <nzeza/oms/gateway.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/settle_worker.h>
#include <nzeza/oms/venue_reject.h>

namespace nzeza::oms {

// The latencies the order stage measures, from the timestamps a command carries.
enum class LatencyStage : uint8_t {
  kDecode = 0,       // socket read -> decoded event (feed-decode)
  kSignal = 1,       // decoded -> intent (book apply + strategy, including the ring hop)
  kRisk = 2,         // intent -> accepted command (including the ring hop)
  kOrder = 3,        // accepted -> handed to the socket (hop, journal, encode, the batch's write)
  kTickToOrder = 4,  // socket read of the market data -> order handed to the socket (after the
                     // gateway's Flush of the batch it went out in)
  kAck = 5,          // order sent -> its ack or reject received
  kTickToWrite = 6,  // socket read of the market data -> the write() of the batch it went out in
                     // begins (the order's bytes are complete and handed to the kernel call)
};
inline constexpr int kNumLatencyStages = 7;
const char* LatencyStageName(LatencyStage s) noexcept;  // "decode", ..., "tick_to_order", "ack"

struct OrderStageOptions {
  uint32_t max_per_poll = 64;  // commands per poll (<= 256); also the exec batch room required
  // A strategy order whose tick-to-order latency exceeds this is reported to risk
  // (SessionEvent::kLatencyOverBudget, at most one per poll): the breaker's latency trip.
  int64_t latency_budget_ns = INT64_MAX;
  // A settle pass that finds what the journal cannot explain (kMismatch) keeps trading blocked;
  // false: it is logged and the stream counts as restored.
  bool block_on_mismatch = true;
};

struct OrderStageCounters {
  RelaxedCounter cmds;
  RelaxedCounter sent;
  RelaxedCounter new_orders;
  RelaxedCounter cancels;
  RelaxedCounter not_sent;        // refused before the venue (journal, order manager, gateway)
  RelaxedCounter journal_errors;  // appends that failed (commands are then not sent)
  RelaxedCounter oms_refused;     // commands the order manager refused
  RelaxedCounter exec_events;
  RelaxedCounter acks;
  RelaxedCounter fills;
  RelaxedCounter rejects;  // venue and synthesized
  RelaxedCounter canceled;
  RelaxedCounter in_doubt;            // requests without a definite answer (ExecType::kInDoubt)
  RelaxedCounter venue_order_ids;     // venue ids learned (journaled with their order)
  RelaxedCounter exec_stream_losses;  // private-stream outages reported by the gateway
  RelaxedCounter settle_passes;       // settle passes completed (reconciled after an outage)
  RelaxedCounter settle_failures;     // settle passes that failed or found a mismatch
  // Settle events cut or dropped: fills beyond what the stream delivered, and "unknown order"
  // guesses for creates the gateway is still settling with the venue.
  RelaxedCounter settle_fills_capped;
  RelaxedCounter exec_anomalies;     // venue events the order manager ignored or refused
  RelaxedCounter exec_backpressure;  // polls that left venue events unread: exec rings full
  RelaxedCounter exec_drops;         // events lost: exec rings and the held queue full
};

class OrderStage final : public Stage, private ExecSink {
 public:
  // `journal` may be null (no journal: tests and benchmarks only); `clock` may be null
  // (CLOCK_MONOTONIC). References must outlive the stage.
  OrderStage(OrderManager& oms, Journal* journal, OrderGateway& gateway,
             SpscRing<OrderCmd>& cmds_in, SpscRing<ExecEvent>& exec_to_risk,
             SpscRing<ExecEvent>& exec_to_signal, const TscClock* clock,
             OrderStageOptions options = {});

  std::string_view name() const noexcept override { return "order"; }
  int Poll() noexcept override;

  // Reconciliation after a private-stream outage (see settle_worker.h); null: the stream counts
  // as restored as soon as the gateway says it is back (tests, benchmarks). Call before the
  // stage runs.
  void SetSettleWorker(SettleWorker* settle) noexcept { settle_ = settle; }
  // True from a stream loss until its settle pass completed. Thread: the stage's.
  bool exec_stream_lost() const noexcept { return stream_lost_; }

  const OrderStageCounters& counters() const noexcept { return counters_; }
  const LatencyHistogram& latency(LatencyStage s) const noexcept {
    return latency_[static_cast<int>(s)];
  }

 private:
  void OnExec(const ExecEvent& ev) override;  // ExecSink: the gateway's venue events
  void OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) override;
  void OnSession(SessionEvent event, int64_t detail) override;
  void Notify(SessionEvent event, int64_t detail) noexcept;  // a kSession event to risk, signal
  int DriveSettle(int64_t now) noexcept;
  void ApplySettled(const ExecEvent& ev, int64_t now) noexcept;
  void Apply(const ExecEvent& ev, int64_t now) noexcept;
  void Refuse(const OrderCmd& cmd, VenueReject why, int64_t now) noexcept;
  // The kReject (new) / kCancelReject (cancel, replace) answering `cmd` locally.
  static ExecEvent Synthesized(const OrderCmd& cmd, VenueReject why, int64_t now) noexcept;
  void Record(LatencyStage s, int64_t from, int64_t to) noexcept {
    if (from > 0 && to >= from)
      latency_[static_cast<int>(s)].Record(static_cast<uint64_t>(to - from));
  }
  bool ExecRoom() const noexcept;
  void Push(const ExecEvent& ev) noexcept;
  int DrainHeld() noexcept;

 public:
  static constexpr size_t kHeldCapacity = 4096;

 private:
  int64_t Now() const noexcept { return clock_ != nullptr ? clock_->NowNanos() : MonotonicNanos(); }

  OrderManager& oms_;
  Journal* journal_;
  OrderGateway& gateway_;
  SpscRing<OrderCmd>& cmds_in_;
  SpscRing<ExecEvent>& exec_to_risk_;
  SpscRing<ExecEvent>& exec_to_signal_;
  const TscClock* clock_;
  OrderStageOptions options_;
  OrderStageCounters counters_;
  LatencyHistogram latency_[kNumLatencyStages];
  // The strategy commands sent in the current batch, whose latencies are recorded after Flush.
  StageTimes batch_[256];
  uint32_t batch_n_ = 0;
  // Events for (risk, signal) that found their ring full: a FIFO, oldest at held_head_.
  std::unique_ptr<ExecEvent[]> held_;
  std::unique_ptr<uint8_t[]> held_to_;  // bit 0: still owed to risk, bit 1: to signal
  size_t held_head_ = 0;
  size_t held_size_ = 0;
  // The private stream: lost -> (back) -> settle pass -> restored.
  SettleWorker* settle_ = nullptr;
  bool stream_lost_ = false;
  bool settle_wanted_ = false;       // the stream is back: a pass is due
  bool lost_during_settle_ = false;  // lost again while a pass ran: another pass is due
  int64_t settle_not_before_ns_ = 0;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_ORDER_STAGE_H_
