// BookImbalanceTaker: takes liquidity when the visible book leans hard to one side.
//
// imbalance = (bid_depth - ask_depth) / (bid_depth + ask_depth), in basis points, over the sizes
// the stage sums in BookView::{bid,ask}_depth_size. At or above +threshold it buys `order_size`
// with an IOC limit at best ask + slippage_ticks; at or below -threshold it sells at best bid -
// slippage_ticks. One order in flight at a time, at most one per `cooldown_ms`, and never beyond
// ±max_position (counting the order in flight).
//
// Parameters: order_size (decimal, > 0), threshold_bp (1..10000), cooldown_ms (0..86400000,
// default 100), max_position (decimal), slippage_ticks (0..10^6, default 0).
#ifndef NZEZA_SIGNAL_BOOK_IMBALANCE_TAKER_H_
#define NZEZA_SIGNAL_BOOK_IMBALANCE_TAKER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nzeza/signal/strategy.h"

namespace nzeza {

class BookImbalanceTaker final : public Strategy {
 public:
  struct Params {
    int64_t order_size = 0;
    int64_t threshold_bp = 6000;
    int64_t cooldown_ns = 100'000'000;
    int64_t max_position = 0;
    int64_t slippage_ticks = 0;
  };

  static absl::StatusOr<std::unique_ptr<Strategy>> Create(const StrategyConfig& config);
  BookImbalanceTaker(uint32_t strategy_id, const InstrumentSpec& spec,
                     const Params& params) noexcept;

  std::string_view name() const noexcept override { return "book_imbalance_taker"; }
  void OnBook(const BookView& book, IntentSink& out) noexcept override;
  void OnExec(const ExecEvent& exec, IntentSink& out) noexcept override;
  // The recovered position: skew and max_position count it from the first book.
  void SeedPosition(int64_t qty) noexcept override { position_ = qty; }

  int64_t position() const noexcept { return position_; }
  bool in_flight() const noexcept { return in_flight_; }
  // Imbalance of a view in basis points, [-10000, 10000]; 0 when both depths are 0.
  static int64_t ImbalanceBp(const BookView& book) noexcept;

 private:
  uint32_t strategy_id_;
  InstrumentSpec spec_;
  Params params_;
  int64_t position_ = 0;
  bool in_flight_ = false;
  uint64_t in_flight_intent_ = 0;
  int64_t last_order_ns_ = 0;
  bool ordered_once_ = false;
  uint64_t next_intent_id_ = 0;
};

}  // namespace nzeza

#endif  // NZEZA_SIGNAL_BOOK_IMBALANCE_TAKER_H_
