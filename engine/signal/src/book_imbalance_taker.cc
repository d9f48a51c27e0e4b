#include "nzeza/signal/book_imbalance_taker.h"

namespace nzeza {

absl::StatusOr<std::unique_ptr<Strategy>> BookImbalanceTaker::Create(const StrategyConfig& config) {
  ParamReader r(config);
  Params p;
  p.order_size = r.Decimal("order_size", config.instrument.size_scale);
  p.threshold_bp = r.Integer("threshold_bp", 1, 10'000);
  p.cooldown_ns = r.Integer("cooldown_ms", 0, 86'400'000, 100) * 1'000'000;
  p.max_position = r.Decimal("max_position", config.instrument.size_scale, /*allow_zero=*/true);
  p.slippage_ticks = r.Integer("slippage_ticks", 0, 1'000'000, 0);
  if (absl::Status s = r.FinishWithOrderSize(p.order_size); !s.ok()) return s;
  return std::make_unique<BookImbalanceTaker>(config.strategy_id, config.instrument, p);
}

BookImbalanceTaker::BookImbalanceTaker(uint32_t strategy_id, const InstrumentSpec& spec,
                                       const Params& params) noexcept
    : strategy_id_(strategy_id), spec_(spec), params_(params) {}

int64_t BookImbalanceTaker::ImbalanceBp(const BookView& book) noexcept {
  const __int128 total = static_cast<__int128>(book.bid_depth_size) + book.ask_depth_size;
  if (total <= 0) return 0;
  const __int128 diff = static_cast<__int128>(book.bid_depth_size) - book.ask_depth_size;
  return static_cast<int64_t>(diff * 10'000 / total);
}

void BookImbalanceTaker::OnBook(const BookView& book, IntentSink& out) noexcept {
  if (book.instrument != spec_.id || !book.tradable || in_flight_) return;
  if (book.bid_size <= 0 || book.ask_size <= 0) return;
  if (ordered_once_ && book.now_ns - last_order_ns_ < params_.cooldown_ns) return;
  const int64_t imbalance = ImbalanceBp(book);
  Side side;
  int64_t price;
  if (imbalance >= params_.threshold_bp && position_ + params_.order_size <= params_.max_position) {
    side = Side::kBuy;
    price = book.ask_price + params_.slippage_ticks * spec_.tick;
  } else if (imbalance <= -params_.threshold_bp &&
             position_ - params_.order_size >= -params_.max_position) {
    side = Side::kSell;
    price = book.bid_price - params_.slippage_ticks * spec_.tick;
    if (price <= 0) return;
  } else {
    return;
  }
  OrderIntent i;
  i.type = IntentType::kNew;
  i.side = side;
  i.order_type = OrderType::kLimit;
  i.tif = TimeInForce::kIoc;
  i.instrument = spec_.id;
  i.strategy_id = strategy_id_;
  i.intent_id = ++next_intent_id_;
  i.price = price;
  i.size = params_.order_size;
  i.times = book.times;
  if (!out.Emit(i)) return;
  in_flight_ = true;
  in_flight_intent_ = i.intent_id;
  last_order_ns_ = book.now_ns;
  ordered_once_ = true;
}

void BookImbalanceTaker::OnExec(const ExecEvent& e, IntentSink& /*out*/) noexcept {
  if (e.strategy_id != strategy_id_ || e.instrument != spec_.id) return;
  if (e.type == ExecType::kFill) position_ += e.side == Side::kBuy ? e.last_size : -e.last_size;
  if (!in_flight_ || e.intent_id != in_flight_intent_) return;
  const bool done = (e.type == ExecType::kFill && e.leaves_size == 0) ||
                    e.type == ExecType::kReject || e.type == ExecType::kCanceled ||
                    e.type == ExecType::kExpired;
  if (done) in_flight_ = false;
}

}  // namespace nzeza
