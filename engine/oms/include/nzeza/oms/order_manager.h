// The order manager: the order table, the state machine applied to it, and the authoritative
// positions. Owned by the order stage.
//
//   OrderManager oms({.max_orders = 1 << 16, .max_instruments = 64});
//   OmsResult r = oms.OnCmd(cmd);      // before the command is sent (after it is journaled)
//   ...
//   r = oms.OnExec(ev);                // after a venue event arrives (after it is journaled)
//   if (r != OmsResult::kApplied) { /* report: duplicate, late, illegal... never a crash */ }
//   const Position& p = oms.position(ev.instrument);
//
// Commands: kNew creates the order (kNew → kPendingNew); kCancel / kReplace act on
// orig_client_order_id (or client_order_id when that is 0) and move it to pending-cancel /
// pending-replace; kCancelAll moves every open order, of every instrument, to pending-cancel. An
// order keeps its original client order id for life: a venue adapter maps a replace's venue id back
// to it.
//
// Venue events are checked before the table: a fill whose trade_id was already seen for the order
// (the last kTradeIdHistory ids; or, when trade_id is 0, whose cum_size is not above the order's)
// is kDuplicate. A fill that reaches the order size is a full fill. Fills after cancel/expiry are
// applied (kAppliedLate): the venue traded, so the position must follow.
//
// In doubt: ExecType::kInDoubt for the create (ExecEvent::request == kNew) moves a pending order
// to kInDoubt; for a cancel or replace it returns the order to its working state. Either way the
// order stays open until the venue ends it (see order_state.h).
//
// Bounded table: an order that reaches a terminal state is queued for recycling. Once more than
// `max_terminal` finished orders are held, or when a new order finds the table full, the oldest
// finished one is removed (the journal keeps its history). A fill for an order no longer in the
// table is still a fill of ours (venue gateways forward only orders they track): it is applied
// to the position (kAppliedLate, counted in recycled_fills); only its duplicate detection is gone,
// which is why finished orders are kept for a while rather than removed at once. Replaying a
// journal through an order manager with the same options recycles the same orders at the same
// points, so recovery rebuilds exactly the live state.
//
// Venue order ids: SetVenueOrderId keeps the venue's id with the order (journaled as
// RecordType::kVenueOrderId), so a recovered order can be canceled by it.
#ifndef NZEZA_OMS_ORDER_MANAGER_H_
#define NZEZA_OMS_ORDER_MANAGER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <nzeza/core/events.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_state.h>
#include <nzeza/oms/positions.h>
#include "absl/functional/function_ref.h"

namespace nzeza::oms {

inline constexpr int kTradeIdHistory = 8;

// One order. Trivially copyable.
struct Order {
  uint64_t client_order_id = 0;  // 0 = empty slot
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  OrderState state = OrderState::kNew;
  OrderState resume = OrderState::kNew;  // working state under pending-cancel/replace
  uint8_t trade_id_count = 0;            // ids held in recent_trade_ids (ring)
  int64_t price = 0;
  int64_t size = 0;
  int64_t cum_size = 0;
  int64_t pending_price = 0;  // kPendingReplace: the requested price
  int64_t pending_size = 0;   // kPendingReplace: the requested size
  int64_t fees = 0;
  uint64_t replace_client_order_id = 0;  // kPendingReplace: the replace command's id
  uint64_t num_fills = 0;
  std::array<uint64_t, kTradeIdHistory> recent_trade_ids{};
  uint8_t venue_order_id_len = 0;
  char venue_order_id_bytes[kMaxVenueOrderIdBytes] = {};

  std::string_view venue_order_id() const noexcept {
    return {venue_order_id_bytes, venue_order_id_len};
  }

  int64_t leaves() const noexcept {
    return IsTerminal(state) || size <= cum_size ? 0 : size - cum_size;
  }
};

class OrderManager {
 public:
  struct Options {
    size_t max_orders = 1 << 16;  // rounded up to a power of two; the table holds this many
    size_t max_instruments = 256;
    // Finished orders kept (for late fills' duplicate detection and status); 0: max_orders / 2.
    size_t max_terminal = 0;
  };

  // Thread: construct anywhere, then use from the order stage only. Allocates: here only.
  explicit OrderManager(Options options);

  // Applies a command the order stage is about to send. Errors: kInvalid (bad type, instrument
  // out of range, size <= 0 on kNew, id 0), kDuplicateOrderId, kTableFull, kUnknownOrder,
  // kIllegalTransition, kLate / kDuplicate (command not to be sent).
  // Thread: order stage. Allocates: never. Complexity: O(1) expected; kCancelAll O(capacity).
  [[nodiscard]] OmsResult OnCmd(const OrderCmd& cmd) noexcept;

  // Applies a venue event. Errors: as the OmsResult codes say; the order is never left half
  // updated. Thread: order stage. Allocates: never. Complexity: O(1) expected.
  [[nodiscard]] OmsResult OnExec(const ExecEvent& ev) noexcept;

  // The order with `client_order_id`, or nullptr. The pointer is valid until the next mutation.
  const Order* Find(uint64_t client_order_id) const noexcept;

  // Removes a terminal order (so its slot can be reused). Later events for it report
  // kUnknownOrder (fills: kAppliedLate, see above). Returns false if absent or not terminal.
  // Complexity: O(1) expected.
  bool EraseTerminal(uint64_t client_order_id) noexcept;

  // Inserts a copy of `order` as it is (a scratch order manager built from another's open orders,
  // for reconciliation off the order stage). kApplied, kDuplicateOrderId, kTableFull, kInvalid
  // (id 0, instrument out of range). Allocates: never. Complexity: O(1) expected.
  [[nodiscard]] OmsResult Adopt(const Order& order) noexcept;

  // Keeps the venue's id for an order. kApplied (stored or changed), kDuplicate (the same id
  // again), kUnknownOrder, kInvalid (empty or longer than kMaxVenueOrderIdBytes).
  // Thread: order stage. Allocates: never. Complexity: O(1) expected.
  [[nodiscard]] OmsResult SetVenueOrderId(uint64_t client_order_id,
                                          std::string_view venue_order_id) noexcept;

  // Positions by instrument (a zero Position for an id beyond max_instruments).
  const Position& position(InstrumentId id) const noexcept;
  size_t max_instruments() const noexcept { return max_instruments_; }

  // Visits every order in table order (not id order). Thread: order stage.
  void ForEachOrder(absl::FunctionRef<void(const Order&)> fn) const;

  size_t size() const noexcept { return size_; }
  size_t capacity() const noexcept { return mask_ + 1; }
  // The largest client order id seen in any command or event (for ClientOrderIdGenerator).
  uint64_t max_client_order_id() const noexcept { return max_client_order_id_; }
  // Finished orders removed to make room (the bounded table at work).
  uint64_t recycled() const noexcept { return recycled_; }
  // Fills applied to the position for orders no longer in the table.
  uint64_t recycled_fills() const noexcept { return recycled_fills_; }
  size_t max_terminal() const noexcept { return max_terminal_; }
  // How many times each OmsResult was returned.
  uint64_t result_count(OmsResult r) const noexcept {
    return result_counts_[static_cast<size_t>(r)];
  }

 private:
  size_t Slot(uint64_t id) const noexcept;
  Order* FindMutable(uint64_t id) noexcept;
  OmsResult Count(OmsResult r) noexcept {
    ++result_counts_[static_cast<size_t>(r)];
    return r;
  }
  OmsResult ApplyFill(Order& o, const ExecEvent& ev) noexcept;
  void Finished(const Order& o) noexcept;  // queues a newly terminal order for recycling
  bool RecycleOldest() noexcept;

  std::unique_ptr<Order[]> orders_;
  std::unique_ptr<Position[]> positions_;
  size_t mask_ = 0;
  size_t max_live_ = 0;
  size_t size_ = 0;
  size_t max_instruments_ = 0;
  size_t max_terminal_ = 0;
  // Ids of finished orders, oldest first (a ring of capacity max_live_).
  std::unique_ptr<uint64_t[]> finished_;
  size_t finished_head_ = 0;
  size_t finished_size_ = 0;
  uint64_t recycled_ = 0;
  uint64_t recycled_fills_ = 0;
  uint64_t max_client_order_id_ = 0;
  std::array<uint64_t, kNumOmsResults> result_counts_{};
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_ORDER_MANAGER_H_
