#include "nzeza/signal/market_maker.h"

#include <algorithm>

namespace nzeza {
namespace {

int64_t FloorToTick(int64_t x, int64_t tick) noexcept {
  const int64_t r = x % tick;
  return r < 0 ? x - r - tick : x - r;
}
int64_t CeilToTick(int64_t x, int64_t tick) noexcept {
  const int64_t f = FloorToTick(x, tick);
  return f == x ? x : f + tick;
}
int Index(Side s) noexcept { return static_cast<int>(s); }

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> MarketMaker::Create(const StrategyConfig& config) {
  ParamReader r(config);
  Params p;
  p.order_size = r.Decimal("order_size", config.instrument.size_scale);
  p.half_spread_ticks = r.Integer("half_spread_ticks", 1, 1'000'000);
  p.requote_ticks = r.Integer("requote_ticks", 1, 1'000'000, 1);
  p.skew_ticks = r.Integer("skew_ticks", 0, 1'000'000, 0);
  p.max_position = r.Decimal("max_position", config.instrument.size_scale, /*allow_zero=*/true);
  p.post_only = r.Boolean("post_only", true);
  if (absl::Status s = r.FinishWithOrderSize(p.order_size); !s.ok()) return s;
  return std::make_unique<MarketMaker>(config.strategy_id, config.instrument, p);
}

MarketMaker::MarketMaker(uint32_t strategy_id, const InstrumentSpec& spec,
                         const Params& params) noexcept
    : strategy_id_(strategy_id), spec_(spec), params_(params) {}

OrderIntent MarketMaker::Intent(IntentType type, Side side, const BookView& book) noexcept {
  OrderIntent i;
  i.type = type;
  i.side = side;
  i.order_type = OrderType::kLimit;
  i.tif = TimeInForce::kGtc;
  i.flags = params_.post_only ? kOrderPostOnly : 0;
  i.instrument = spec_.id;
  i.strategy_id = strategy_id_;
  i.intent_id = ++next_intent_id_;
  i.times = book.times;
  return i;
}

void MarketMaker::Cancel(Side side, const BookView& book, IntentSink& out) noexcept {
  Quote& q = quotes_[Index(side)];
  if (q.state != Quote::State::kLive) return;  // pending-new: cancel once its id is known
  OrderIntent i = Intent(IntentType::kCancel, side, book);
  i.target_order_id = q.client_order_id;
  if (out.Emit(i)) q.state = Quote::State::kPendingCancel;
}

void MarketMaker::Manage(Side side, bool allowed, int64_t target, const BookView& book,
                         IntentSink& out) noexcept {
  Quote& q = quotes_[Index(side)];
  switch (q.state) {
    case Quote::State::kNone:
      if (allowed && target > 0 && book.now_ns >= quiet_until_ns_) {
        OrderIntent i = Intent(IntentType::kNew, side, book);
        i.price = target;
        i.size = params_.order_size;
        if (out.Emit(i)) q = Quote{Quote::State::kPendingNew, i.intent_id, 0, target};
      }
      break;
    case Quote::State::kLive: {
      const int64_t moved = target > q.price ? target - q.price : q.price - target;
      if (!allowed || target <= 0 || moved >= params_.requote_ticks * spec_.tick) {
        Cancel(side, book, out);
      }
      break;
    }
    case Quote::State::kPendingNew:
    case Quote::State::kPendingCancel:
      break;  // wait for the venue's answer
  }
}

void MarketMaker::OnBook(const BookView& book, IntentSink& out) noexcept {
  if (book.instrument != spec_.id) return;
  last_book_ns_ = book.now_ns;
  if (!book.tradable || book.bid_size <= 0 || book.ask_size <= 0) {
    Cancel(Side::kBuy, book, out);
    Cancel(Side::kSell, book, out);
    return;
  }
  const __int128 weighted = static_cast<__int128>(book.bid_price) * book.ask_size +
                            static_cast<__int128>(book.ask_price) * book.bid_size;
  const __int128 micro = weighted / (static_cast<__int128>(book.bid_size) + book.ask_size);
  const __int128 skew =
      static_cast<__int128>(position_) * params_.skew_ticks * spec_.tick / params_.order_size;
  fair_ = static_cast<int64_t>(micro - skew);

  const int64_t half = params_.half_spread_ticks * spec_.tick;
  int64_t bid = FloorToTick(fair_ - half, spec_.tick);
  int64_t ask = CeilToTick(fair_ + half, spec_.tick);
  if (params_.post_only) {
    bid = std::min(bid, book.ask_price - spec_.tick);
    ask = std::max(ask, book.bid_price + spec_.tick);
  }
  const bool can_bid = position_ + params_.order_size <= params_.max_position;
  const bool can_ask = position_ - params_.order_size >= -params_.max_position;
  Manage(Side::kBuy, can_bid, bid, book, out);
  Manage(Side::kSell, can_ask, ask, book, out);
}

void MarketMaker::OnExec(const ExecEvent& e, IntentSink& /*out*/) noexcept {
  if (e.strategy_id != strategy_id_ || e.instrument != spec_.id) return;
  if (e.type == ExecType::kFill) {
    position_ += e.side == Side::kBuy ? e.last_size : -e.last_size;
  }
  Quote& q = quotes_[Index(e.side)];
  const bool ours = q.state != Quote::State::kNone &&
                    (q.intent_id == e.intent_id ||
                     (q.client_order_id != 0 && q.client_order_id == e.client_order_id));
  if (!ours) return;  // a late event of an order we no longer track: position already counted
  switch (e.type) {
    case ExecType::kPendingNew:
    case ExecType::kAck:
      q.client_order_id = e.client_order_id;
      if (q.state == Quote::State::kPendingNew) q.state = Quote::State::kLive;
      break;
    case ExecType::kFill:
      q.client_order_id = e.client_order_id;
      if (e.leaves_size == 0) q = Quote{};
      break;
    case ExecType::kReject:
      quiet_until_ns_ = last_book_ns_ + params_.reject_backoff_ns;
      q = Quote{};
      break;
    case ExecType::kCanceled:
    case ExecType::kExpired:
      q = Quote{};
      break;
    case ExecType::kCancelReject:
      if (q.state == Quote::State::kPendingCancel) q.state = Quote::State::kLive;
      break;
    case ExecType::kInDoubt:
      // The venue may hold the order: keep it as the quote until the venue says. A cancel in
      // doubt leaves it working, as a refused cancel does.
      q.client_order_id = e.client_order_id;
      if (e.request != CmdType::kNew && q.state == Quote::State::kPendingCancel) {
        q.state = Quote::State::kLive;
      }
      break;
    case ExecType::kReplaced:
    case ExecType::kSession:  // not passed to strategies (SignalStage::OnExec)
      break;
  }
}

}  // namespace nzeza
