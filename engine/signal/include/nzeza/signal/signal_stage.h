// SignalStage: the pipeline stage that owns the books and the strategies.
//
//   SignalStage signal(books, md_ring, exec_ring, intent_ring, &risk_md_ring, &clock);
//   signal.AddStrategy(*MakeStrategy(config), config.instrument.id);   // before it runs
//   worker.AddStage(&signal);                                           // or InlineRunner in tests
//
// Each Poll():
// 1. drains execution events (so strategies know their orders before deciding again) and hands
//    each to the strategies of its instrument;
// 2. drains market data: applies each event to the BookSet; at the end of a venue message
//    (kMdMessageEnd) or when the book's state changes, shows the strategies of that instrument a
//    BookView (tradable only when the book is live and not crossed); trades go to OnTrade;
// 3. pushes the intents the strategies emitted, stamped with times.signal_ns, to risk;
// 4. feeds risk's market-data ring (if given) with what risk needs and the book knows: a kBbo
//    event when the best bid or ask changed, kCrossed / kUncrossed status events, and the
//    feed's status events (gap, stale, resynced, disconnected) and trades as they come.
//    BBO and crossing are judged per venue message, not per event: a message larger than one
//    MdEvent (bids are carried before asks) may pass through a crossed state between its events
//    that the venue's book never had, so the book changes of a message's events are accumulated
//    and reported once at kMdMessageEnd (or when an event of another kind or instrument arrives
//    first). A message that changed neither the best prices nor the crossing (e.g. levels below
//    the top) is reported as an empty kLevels event with kMdMessageEnd, so risk judges staleness
//    on every message of the instrument: at most one event per venue message, never more.
//
// No silent drop (DESIGN.md: bounded back-pressure, then an overrun that trips the breaker):
// - Events for risk never get lost: when risk's ring is full they wait in a local queue
//   (SignalStageOptions::risk_hold_capacity), in order, and go first on the next Poll. While
//   that queue lacks room for what one input event can produce, the stage takes no more input,
//   so the feed's ring fills and the feed (RingSink) applies its own bounded back-pressure.
// - Intents never get lost either: one the ring to risk still refuses after `intent_spins`
//   spins waits in a local queue (intent_hold_capacity), in order, and later intents behind it,
//   so a strategy's view of its orders (pending until risk or the venue answers) stays true.
//   Each such intent is an overrun (intent_overruns) and reaches risk's breaker (below); when
//   the held intents do reach risk, its open breaker refuses new orders back to their strategies
//   like any refusal (RiskStage::SetRefusalsOut), while cancels go through.
// - An overrun, its own (an intent that had to wait) or the feed's (an input event carrying
//   kMdRingOverrun: the feed dropped events), is passed to risk as kMdRingOverrun on the next
//   event risk gets (an empty kLevels event for no instrument if none is due), so risk's breaker
//   trips (BreakerCause::kRingOverrun).
//
// Thread: Poll() on the hosting worker's thread; AddStrategy and SeedPosition before the worker
// starts. Allocates: in the constructor and AddStrategy only.
#ifndef NZEZA_SIGNAL_SIGNAL_STAGE_H_
#define NZEZA_SIGNAL_SIGNAL_STAGE_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "nzeza/book/book_set.h"
#include "nzeza/core/clock.h"
#include "nzeza/core/events.h"
#include "nzeza/core/runtime.h"
#include "nzeza/core/spsc_ring.h"
#include "nzeza/signal/strategy.h"

namespace nzeza {

struct SignalStageOptions {
  uint32_t view_depth_levels = 5;  // levels summed into BookView::{bid,ask}_depth_size
  uint32_t max_md_per_poll = 64;
  uint32_t max_exec_per_poll = 64;
  // Events for risk held while its ring is full (see above); at least 16.
  uint32_t risk_hold_capacity = 1024;
  // Intents held while the ring to risk is full; at least 16 (IntentSink::kCapacity).
  uint32_t intent_hold_capacity = 256;
  // Spins (PAUSE) an intent waits for room on the ring to risk before it is held (an overrun).
  // Bounded and short: when signal and risk share a worker, risk cannot make room while this
  // stage spins.
  uint32_t intent_spins = 256;
};

struct SignalCounters {
  uint64_t md_events = 0;
  uint64_t book_refused = 0;  // events the BookSet refused (malformed, out of state, unknown)
  uint64_t exec_events = 0;
  uint64_t book_views = 0;          // OnBook calls
  uint64_t intents = 0;             // intents pushed to risk
  uint64_t intent_overruns = 0;     // intents held: the ring to risk was full (each an overrun)
  uint64_t risk_md_held = 0;        // events for risk that had to wait: its market-data ring full
  uint64_t input_backpressure = 0;  // polls that left input waiting: the local queues near full
  uint64_t feed_overruns = 0;       // input events carrying kMdRingOverrun (the feed dropped)
  uint64_t overruns_to_risk = 0;    // kMdRingOverrun flags passed on to risk
  uint64_t strategy_drops = 0;      // intents a strategy emitted beyond IntentSink::kCapacity
};

class SignalStage final : public Stage {
 public:
  // `risk_md_out` may be null (no risk feed); `clock` may be null (CLOCK_MONOTONIC).
  SignalStage(BookSet& books, SpscRing<MdEvent>& md_in, SpscRing<ExecEvent>& exec_in,
              SpscRing<OrderIntent>& intents_out, SpscRing<MdEvent>* risk_md_out,
              const TscClock* clock, SignalStageOptions options = {});

  // Risk's refusals of this stage's intents (kReject / kCancelReject ExecEvents from RiskStage),
  // drained with the execution events so a strategy learns that an intent went nowhere. Before
  // the worker starts; null (the default) for none.
  void SetRiskRefusals(SpscRing<ExecEvent>* refusals) noexcept { refusals_in_ = refusals; }

  // Runs `strategy` on `instrument`'s book. Errors: NotFound if no book is configured for it.
  absl::Status AddStrategy(std::unique_ptr<Strategy> strategy, InstrumentId instrument);

  // Recovery, after AddStrategy and before the worker starts: the strategy of `instrument`
  // starts from `qty` (signed size mantissa: the position the order manager recovered from the
  // journal), so its inventory skew and position limit count what is already held
  // (Strategy::SeedPosition). An instrument without strategies needs nothing. Errors:
  // FailedPrecondition when more than one strategy trades `instrument` and qty != 0 (positions
  // are recovered per instrument, not per strategy: they cannot be split).
  absl::Status SeedPosition(InstrumentId instrument, int64_t qty);

  std::string_view name() const noexcept override { return "signal"; }
  int Poll() noexcept override;

  const SignalCounters& counters() const noexcept { return counters_; }

 private:
  // A fixed-capacity FIFO (allocated at construction).
  template <typename T>
  class Queue {
   public:
    explicit Queue(size_t capacity) : buf_(new T[capacity]), cap_(capacity) {}
    size_t size() const noexcept { return size_; }
    size_t room() const noexcept { return cap_ - size_; }
    T& front() noexcept { return buf_[head_]; }
    T& back() noexcept { return buf_[(head_ + size_ - 1) % cap_]; }
    void pop() noexcept {
      head_ = head_ + 1 == cap_ ? 0 : head_ + 1;
      --size_;
    }
    // Precondition: room() > 0.
    void push(const T& v) noexcept {
      buf_[(head_ + size_) % cap_] = v;
      ++size_;
    }

   private:
    std::unique_ptr<T[]> buf_;
    size_t cap_;
    size_t head_ = 0, size_ = 0;
  };
  // The most events for risk one input event can cause: the end of the previous message (BBO or
  // an empty levels event, and a crossing status), the event's own trade or status, the end of
  // its own message (two again).
  static constexpr size_t kMaxRiskPerInput = 5;

  void OnMd(const MdEvent& ev) noexcept;
  void OnExec(const ExecEvent& ev) noexcept;
  void ToRisk(const MdEvent& ev) noexcept;
  size_t DrainRiskHeld() noexcept;
  size_t DrainIntentsHeld() noexcept;
  void PassOverrun() noexcept;
  // Room in the local queues for what one more input event can cause.
  bool InputRoom() const noexcept {
    return intents_held_.room() >= IntentSink::kCapacity &&
           (risk_md_out_ == nullptr || risk_held_.room() >= kMaxRiskPerInput);
  }
  // Reports the accumulated BBO / crossing changes of the message in progress (see step 4).
  void EndMessage() noexcept;
  void Flush() noexcept;
  BookView View(const OrderBook& book, const MdEvent& ev) const noexcept;
  int64_t Now() const noexcept { return clock_ != nullptr ? clock_->NowNanos() : MonotonicNanos(); }

  BookSet& books_;
  SpscRing<MdEvent>& md_in_;
  SpscRing<ExecEvent>& exec_in_;
  SpscRing<ExecEvent>* refusals_in_ = nullptr;
  SpscRing<OrderIntent>& intents_out_;
  SpscRing<MdEvent>* risk_md_out_;
  const TscClock* clock_;
  SignalStageOptions options_;
  std::vector<std::unique_ptr<Strategy>> owned_;
  std::vector<std::vector<Strategy*>> by_instrument_;  // indexed by InstrumentId
  IntentSink sink_;
  SignalCounters counters_;
  Queue<MdEvent> risk_held_;         // events for risk waiting for room on its ring
  Queue<OrderIntent> intents_held_;  // intents waiting for room on the ring to risk
  bool overrun_owed_ = false;        // the next event to risk carries kMdRingOverrun
  // The venue message in progress (level events until kMdMessageEnd).
  bool msg_open_ = false;
  bool msg_was_crossed_ = false;
  uint8_t msg_changes_ = 0;
  MdEvent msg_last_;
};

}  // namespace nzeza

#endif  // NZEZA_SIGNAL_SIGNAL_STAGE_H_
