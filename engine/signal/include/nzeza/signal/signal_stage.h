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
//    first).
//
// Nothing blocks: a full output ring is counted (intent_overruns, risk_md_overruns) and the event
// dropped, since a slow downstream stage is a risk event for the breaker to see, not a reason to
// stall the books.
//
// Thread: Poll() on the hosting worker's thread; AddStrategy before the worker starts.
// Allocates: in AddStrategy only.
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
};

struct SignalCounters {
  uint64_t md_events = 0;
  uint64_t book_refused = 0;  // events the BookSet refused (malformed, out of state, unknown)
  uint64_t exec_events = 0;
  uint64_t book_views = 0;        // OnBook calls
  uint64_t intents = 0;           // intents pushed to risk
  uint64_t intent_overruns = 0;   // intents dropped: the ring to risk was full
  uint64_t risk_md_overruns = 0;  // events for risk dropped: its market-data ring was full
  uint64_t strategy_drops = 0;    // intents a strategy emitted beyond IntentSink::kCapacity
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

  std::string_view name() const noexcept override { return "signal"; }
  int Poll() noexcept override;

  const SignalCounters& counters() const noexcept { return counters_; }

 private:
  void OnMd(const MdEvent& ev) noexcept;
  void OnExec(const ExecEvent& ev) noexcept;
  void ToRisk(const MdEvent& ev) noexcept;
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
  // The venue message in progress (level events until kMdMessageEnd).
  bool msg_open_ = false;
  bool msg_was_crossed_ = false;
  uint8_t msg_changes_ = 0;
  MdEvent msg_last_;
};

}  // namespace nzeza

#endif  // NZEZA_SIGNAL_SIGNAL_STAGE_H_
