#include <nzeza/oms/order_manager.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace nzeza::oms {
namespace {

const Position kZeroPosition{};

uint64_t Mix(uint64_t x) noexcept {
  // splitmix64 finalizer: ids are sequential, so spread them over the table.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

OrderManager::OrderManager(Options options) {
  const size_t live = std::bit_ceil(options.max_orders < 1 ? size_t{1} : options.max_orders);
  const size_t slots = live * 2;  // load factor <= 1/2 keeps linear probes short
  orders_ = std::make_unique<Order[]>(slots);
  mask_ = slots - 1;
  max_live_ = live;
  max_instruments_ = options.max_instruments;
  max_terminal_ = options.max_terminal == 0 ? live / 2 : std::min(options.max_terminal, live);
  finished_ = std::make_unique<uint64_t[]>(live);
  positions_ = std::make_unique<Position[]>(max_instruments_ == 0 ? 1 : max_instruments_);
}

size_t OrderManager::Slot(uint64_t id) const noexcept { return Mix(id) & mask_; }

Order* OrderManager::FindMutable(uint64_t id) noexcept {
  if (id == 0) return nullptr;
  for (size_t i = Slot(id);; i = (i + 1) & mask_) {
    Order& o = orders_[i];
    if (o.client_order_id == id) return &o;
    if (o.client_order_id == 0) return nullptr;
  }
}

const Order* OrderManager::Find(uint64_t id) const noexcept {
  return const_cast<OrderManager*>(this)->FindMutable(id);
}

bool OrderManager::EraseTerminal(uint64_t id) noexcept {
  Order* o = FindMutable(id);
  if (o == nullptr || !IsTerminal(o->state)) return false;
  // Backward-shift deletion: no tombstones, probes stay short.
  size_t hole = static_cast<size_t>(o - orders_.get());
  orders_[hole] = Order{};
  for (size_t i = (hole + 1) & mask_; orders_[i].client_order_id != 0; i = (i + 1) & mask_) {
    const size_t home = Slot(orders_[i].client_order_id);
    // Move entry i into the hole if its home is not cyclically in (hole, i].
    const bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!stays) {
      orders_[hole] = orders_[i];
      orders_[i] = Order{};
      hole = i;
    }
  }
  --size_;
  return true;
}

void OrderManager::Finished(const Order& o) noexcept {
  // Read first: recycling moves entries (backward-shift deletion), `o` among them.
  const uint64_t id = o.client_order_id;
  // Every order becomes terminal once (terminal states are final), so the ring never holds more
  // ids than the table holds orders.
  if (finished_size_ == max_live_) {
    (void)RecycleOldest();
  }
  finished_[(finished_head_ + finished_size_) & (max_live_ - 1)] = id;
  ++finished_size_;
  while (finished_size_ > max_terminal_) {
    if (!RecycleOldest()) break;
  }
}

bool OrderManager::RecycleOldest() noexcept {
  while (finished_size_ != 0) {
    const uint64_t id = finished_[finished_head_];
    finished_head_ = (finished_head_ + 1) & (max_live_ - 1);
    --finished_size_;
    if (EraseTerminal(id)) {  // false: erased by the owner already
      ++recycled_;
      return true;
    }
  }
  return false;
}

OmsResult OrderManager::Adopt(const Order& order) noexcept {
  if (order.client_order_id == 0 || order.instrument >= max_instruments_) {
    return Count(OmsResult::kInvalid);
  }
  if (FindMutable(order.client_order_id) != nullptr) return Count(OmsResult::kDuplicateOrderId);
  while (size_ >= max_live_) {
    if (!RecycleOldest()) return Count(OmsResult::kTableFull);
  }
  size_t i = Slot(order.client_order_id);
  while (orders_[i].client_order_id != 0) i = (i + 1) & mask_;
  orders_[i] = order;
  ++size_;
  if (order.client_order_id > max_client_order_id_) max_client_order_id_ = order.client_order_id;
  if (IsTerminal(order.state)) Finished(orders_[i]);
  return Count(OmsResult::kApplied);
}

OmsResult OrderManager::SetVenueOrderId(uint64_t id, std::string_view venue_order_id) noexcept {
  if (venue_order_id.empty() || venue_order_id.size() > kMaxVenueOrderIdBytes) {
    return Count(OmsResult::kInvalid);
  }
  Order* o = FindMutable(id);
  if (o == nullptr) return Count(OmsResult::kUnknownOrder);
  if (o->venue_order_id() == venue_order_id) return Count(OmsResult::kDuplicate);
  std::memcpy(o->venue_order_id_bytes, venue_order_id.data(), venue_order_id.size());
  o->venue_order_id_len = static_cast<uint8_t>(venue_order_id.size());
  return Count(OmsResult::kApplied);
}

const Position& OrderManager::position(InstrumentId id) const noexcept {
  return id < max_instruments_ ? positions_[id] : kZeroPosition;
}

void OrderManager::ForEachOrder(absl::FunctionRef<void(const Order&)> fn) const {
  for (size_t i = 0; i <= mask_; ++i) {
    if (orders_[i].client_order_id != 0) fn(orders_[i]);
  }
}

OmsResult OrderManager::OnCmd(const OrderCmd& cmd) noexcept {
  if (cmd.client_order_id > max_client_order_id_) max_client_order_id_ = cmd.client_order_id;
  if (cmd.orig_client_order_id > max_client_order_id_) {
    max_client_order_id_ = cmd.orig_client_order_id;
  }
  switch (cmd.type) {
    case CmdType::kNew: {
      if (cmd.client_order_id == 0 || cmd.size <= 0 || cmd.instrument >= max_instruments_) {
        return Count(OmsResult::kInvalid);
      }
      if (FindMutable(cmd.client_order_id) != nullptr) {
        return Count(OmsResult::kDuplicateOrderId);
      }
      while (size_ >= max_live_) {
        if (!RecycleOldest()) return Count(OmsResult::kTableFull);  // every order is live
      }
      size_t i = Slot(cmd.client_order_id);
      while (orders_[i].client_order_id != 0) i = (i + 1) & mask_;
      Order& o = orders_[i];
      o = Order{};
      o.client_order_id = cmd.client_order_id;
      o.instrument = cmd.instrument;
      o.strategy_id = cmd.strategy_id;
      o.side = cmd.side;
      o.order_type = cmd.order_type;
      o.tif = cmd.tif;
      o.price = cmd.price;
      o.size = cmd.size;
      const Outcome out = Transition(OrderState::kNew, OrderEvent::kSendNew, OrderState::kNew);
      o.state = out.to;
      o.resume = out.resume;
      ++size_;
      return Count(out.result);
    }
    case CmdType::kCancel:
    case CmdType::kReplace: {
      const uint64_t target =
          cmd.orig_client_order_id != 0 ? cmd.orig_client_order_id : cmd.client_order_id;
      Order* o = FindMutable(target);
      if (o == nullptr) return Count(OmsResult::kUnknownOrder);
      if (cmd.type == CmdType::kReplace && cmd.size <= 0) return Count(OmsResult::kInvalid);
      const OrderEvent ev =
          cmd.type == CmdType::kCancel ? OrderEvent::kSendCancel : OrderEvent::kSendReplace;
      const Outcome out = Transition(o->state, ev, o->resume);
      if (out.result == OmsResult::kApplied) {
        o->state = out.to;
        o->resume = out.resume;
        if (cmd.type == CmdType::kReplace) {
          o->pending_price = cmd.price;
          o->pending_size = cmd.size;
          o->replace_client_order_id = cmd.client_order_id;
        }
      }
      return Count(out.result);
    }
    case CmdType::kCancelAll: {
      for (size_t i = 0; i <= mask_; ++i) {
        Order& o = orders_[i];
        if (o.client_order_id == 0) continue;
        const Outcome out = Transition(o.state, OrderEvent::kSendCancel, o.resume);
        if (out.result == OmsResult::kApplied) {
          o.state = out.to;
          o.resume = out.resume;
        }
      }
      return Count(OmsResult::kApplied);
    }
  }
  return Count(OmsResult::kInvalid);
}

OmsResult OrderManager::ApplyFill(Order& o, const ExecEvent& ev) noexcept {
  if (ev.last_size <= 0) return OmsResult::kInvalid;
  // Duplicate detection before the table: the same trade must never count twice.
  if (ev.trade_id != 0) {
    const int n = o.trade_id_count < kTradeIdHistory ? o.trade_id_count : kTradeIdHistory;
    for (int k = 0; k < n; ++k) {
      if (o.recent_trade_ids[k] == ev.trade_id) return OmsResult::kDuplicate;
    }
  } else if (ev.cum_size != 0 && ev.cum_size <= o.cum_size) {
    return OmsResult::kDuplicate;
  }
  const bool full = o.cum_size + ev.last_size >= o.size;
  const Outcome out =
      Transition(o.state, full ? OrderEvent::kFullFill : OrderEvent::kPartialFill, o.resume);
  if (out.result != OmsResult::kApplied && out.result != OmsResult::kAppliedLate) {
    return out.result;
  }
  o.state = out.to;
  o.resume = out.resume;
  o.cum_size += ev.last_size;
  o.fees += ev.fee;
  ++o.num_fills;
  if (ev.trade_id != 0) {
    o.recent_trade_ids[o.trade_id_count % kTradeIdHistory] = ev.trade_id;
    // Saturate at 2 * history so the modulo keeps cycling without overflowing uint8_t.
    o.trade_id_count = static_cast<uint8_t>(
        o.trade_id_count + 1 >= 2 * kTradeIdHistory ? kTradeIdHistory : o.trade_id_count + 1);
  }
  positions_[o.instrument].ApplyFill(o.side, ev.last_price, ev.last_size, ev.fee);
  if (out.result == OmsResult::kApplied && IsTerminal(o.state)) Finished(o);  // o moves: last use
  return out.result;
}

OmsResult OrderManager::OnExec(const ExecEvent& ev) noexcept {
  const bool issued = ev.client_order_id != 0 && ev.client_order_id <= max_client_order_id_;
  if (ev.client_order_id > max_client_order_id_) max_client_order_id_ = ev.client_order_id;
  Order* o = FindMutable(ev.client_order_id);
  if (o == nullptr) {
    // A late fill of a finished order that was recycled: the venue traded, the position follows.
    if (ev.type == ExecType::kFill && issued && ev.last_size > 0 &&
        ev.instrument < max_instruments_) {
      positions_[ev.instrument].ApplyFill(ev.side, ev.last_price, ev.last_size, ev.fee);
      ++recycled_fills_;
      return Count(OmsResult::kAppliedLate);
    }
    return Count(OmsResult::kUnknownOrder);
  }
  OrderEvent oe;
  switch (ev.type) {
    case ExecType::kFill:
      return Count(ApplyFill(*o, ev));
    case ExecType::kPendingNew:
      oe = OrderEvent::kPendingNewEcho;
      break;
    case ExecType::kAck:
      oe = OrderEvent::kAck;
      break;
    case ExecType::kReject:
      oe = OrderEvent::kReject;
      break;
    case ExecType::kCanceled:
      oe = OrderEvent::kCanceled;
      break;
    case ExecType::kExpired:
      oe = OrderEvent::kExpired;
      break;
    case ExecType::kReplaced:
      oe = OrderEvent::kReplaced;
      break;
    case ExecType::kCancelReject:
      oe = OrderEvent::kCancelReject;
      break;
    case ExecType::kInDoubt:
      oe = ev.request == CmdType::kNew ? OrderEvent::kCreateInDoubt : OrderEvent::kCancelInDoubt;
      break;
    default:
      return Count(OmsResult::kInvalid);
  }
  const Outcome out = Transition(o->state, oe, o->resume);
  if (out.result == OmsResult::kApplied) {
    if (oe == OrderEvent::kReplaced) {
      o->price = o->pending_price;
      o->size = o->pending_size;
      o->replace_client_order_id = 0;
      // A replace down to (or below) what is already filled completes the order.
      o->state = o->cum_size >= o->size ? OrderState::kFilled
                 : o->cum_size > 0      ? OrderState::kPartiallyFilled
                                        : out.to;
      o->resume = o->state;
    } else {
      o->state = out.to;
      o->resume = out.resume;
    }
    if (oe == OrderEvent::kCancelReject || oe == OrderEvent::kCancelInDoubt) {
      o->replace_client_order_id = 0;
    }
    if (IsTerminal(o->state)) Finished(*o);  // o may move: last use
  }
  return Count(out.result);
}

}  // namespace nzeza::oms
