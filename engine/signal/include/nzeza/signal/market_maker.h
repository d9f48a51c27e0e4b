// MarketMaker: an inventory-skewed two-sided quoter.
//
// Quotes one bid and one ask around the microprice,
//   fair = (bid * ask_size + ask * bid_size) / (bid_size + ask_size)  -  skew,
//   skew = position / order_size * skew_ticks ticks,
// at `half_spread_ticks` either side (bid rounded down, ask up to the tick; with post_only never
// at or through the opposite best). It requotes (cancel, then a new order once the cancel is
// confirmed) when the target moves `requote_ticks` or more from the working price, and stops
// quoting the side that would take |position| beyond `max_position`. On an untradable book
// (snapshot, gap, stale, crossed) it cancels both quotes and waits.
//
// Parameters (StrategyConfig::params): order_size (decimal, > 0), half_spread_ticks (1..10^6),
// requote_ticks (1..10^6, default 1), skew_ticks (0..10^6, default 0), max_position (decimal),
// post_only (true/false, default true).
#ifndef NZEZA_SIGNAL_MARKET_MAKER_H_
#define NZEZA_SIGNAL_MARKET_MAKER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nzeza/signal/strategy.h"

namespace nzeza {

class MarketMaker final : public Strategy {
 public:
  struct Params {
    int64_t order_size = 0;  // size mantissa
    int64_t half_spread_ticks = 1;
    int64_t requote_ticks = 1;
    int64_t skew_ticks = 0;    // per order_size of inventory
    int64_t max_position = 0;  // size mantissa
    bool post_only = true;
    // After a quote is rejected (by risk: the throttle, a collar, a limit; or by the venue), no
    // new quote for this long: retrying on every book update only feeds the refusal counters
    // (hundreds per second against a 25/s throttle) and keeps the throttle's window full.
    int64_t reject_backoff_ns = 100'000'000;
  };

  // One side's working quote, as the strategy tracks it from its intents and executions.
  struct Quote {
    enum class State : uint8_t { kNone, kPendingNew, kLive, kPendingCancel };
    State state = State::kNone;
    uint64_t intent_id = 0;
    uint64_t client_order_id = 0;  // known from the first exec event (pending-new or ack)
    int64_t price = 0;
  };

  static absl::StatusOr<std::unique_ptr<Strategy>> Create(const StrategyConfig& config);
  MarketMaker(uint32_t strategy_id, const InstrumentSpec& spec, const Params& params) noexcept;

  std::string_view name() const noexcept override { return "market_maker"; }
  void OnBook(const BookView& book, IntentSink& out) noexcept override;
  void OnExec(const ExecEvent& exec, IntentSink& out) noexcept override;
  // The recovered position: skew and max_position count it from the first book.
  void SeedPosition(int64_t qty) noexcept override { position_ = qty; }

  int64_t position() const noexcept { return position_; }
  const Quote& quote(Side side) const noexcept { return quotes_[static_cast<int>(side)]; }
  // The fair price the last tradable book gave (after skew), for tests and metrics.
  int64_t fair() const noexcept { return fair_; }

 private:
  void Manage(Side side, bool allowed, int64_t target, const BookView& book,
              IntentSink& out) noexcept;
  void Cancel(Side side, const BookView& book, IntentSink& out) noexcept;
  OrderIntent Intent(IntentType type, Side side, const BookView& book) noexcept;

  uint32_t strategy_id_;
  InstrumentSpec spec_;
  Params params_;
  Quote quotes_[2];
  int64_t position_ = 0;
  int64_t fair_ = 0;
  int64_t last_book_ns_ = 0;    // the latest book update's time
  int64_t quiet_until_ns_ = 0;  // no new quote before (reject back-off)
  uint64_t next_intent_id_ = 0;
};

}  // namespace nzeza

#endif  // NZEZA_SIGNAL_MARKET_MAKER_H_
