// The order state machine as a pure transition table, separate from the order table so it can be
// tested exhaustively (every state x every event x every resume state).
//
//   Outcome o = Transition(OrderState::kAcked, OrderEvent::kSendCancel, OrderState::kAcked);
//   // o.to == kPendingCancel, o.result == OmsResult::kApplied, o.resume == kAcked
//
// States: kNew → kPendingNew (command sent) → kAcked → kPartiallyFilled → kFilled, or
// kCanceled / kRejected / kExpired; kPendingCancel and kPendingReplace sit on top of a working
// state (`resume`), to which a cancel-reject returns. Terminal: filled, canceled, rejected,
// expired.
//
// In doubt: a create whose request had no definite answer (timeout, transport error, 5xx,
// malformed reply) moves kPendingNew → kInDoubt: the order may be working at the venue, so it is
// open (IsOpen) and only the venue ends it: an ack, a reject, a fill, a cancel or an expiry,
// whichever arrives first, from the private stream, a status query or reconciliation. A cancel or
// replace without a definite answer (kCancelInDoubt) returns the order to its working state, as a
// cancel-reject does: the cancel may or may not have happened, so the order stays working until
// the venue says it is done.
#ifndef NZEZA_OMS_ORDER_STATE_H_
#define NZEZA_OMS_ORDER_STATE_H_

#include <cstdint>

namespace nzeza::oms {

enum class OrderState : uint8_t {
  kNew = 0,         // known locally, not yet sent
  kPendingNew = 1,  // sent, no venue answer yet
  kAcked = 2,       // working at the venue, nothing filled
  kPartiallyFilled = 3,
  kFilled = 4,
  kCanceled = 5,
  kRejected = 6,
  kExpired = 7,
  kPendingCancel = 8,   // cancel sent; `resume` is the working state it came from
  kPendingReplace = 9,  // replace sent; `resume` is the working state it came from
  kInDoubt = 10,        // create sent, no definite answer: maybe working, the venue decides
};
inline constexpr int kNumOrderStates = 11;

// What can happen to an order: commands the order stage sends, and venue events.
enum class OrderEvent : uint8_t {
  kSendNew = 0,
  kSendCancel = 1,
  kSendReplace = 2,
  kPendingNewEcho = 3,  // ExecType::kPendingNew (the order stage's own echo)
  kAck = 4,
  kReject = 5,
  kPartialFill = 6,  // a fill that leaves quantity working
  kFullFill = 7,     // a fill that completes the order
  kCanceled = 8,
  kExpired = 9,
  kReplaced = 10,
  kCancelReject = 11,
  kCreateInDoubt = 12,  // ExecType::kInDoubt for the create
  kCancelInDoubt = 13,  // ExecType::kInDoubt for a cancel or replace
};
inline constexpr int kNumOrderEvents = 14;

// What applying an event or command did. Every code but kApplied/kAppliedLate leaves the order's
// state unchanged (kOverfill excepted: see below).
enum class OmsResult : uint8_t {
  kApplied = 0,
  kAppliedLate = 1,        // a fill after cancel/expiry: applied to the order and the position
  kDuplicate = 2,          // seen before (same trade id, same ack, same cancel): ignored
  kLate = 3,               // stale but harmless (ack after fill, cancel after done): ignored
  kIllegalTransition = 4,  // refused: the event makes no sense in the order's state
  kUnknownOrder = 5,       // no order with that client order id
  kInvalid = 6,            // malformed (size <= 0, unknown type, instrument out of range)
  kTableFull = 7,          // the order table has no free slot: new order refused
  kDuplicateOrderId = 8,   // a new order reused a live client order id: refused
};
inline constexpr int kNumOmsResults = 9;

const char* OrderStateName(OrderState s) noexcept;
const char* OrderEventName(OrderEvent e) noexcept;
const char* OmsResultName(OmsResult r) noexcept;

inline constexpr bool IsTerminal(OrderState s) noexcept {
  return s == OrderState::kFilled || s == OrderState::kCanceled || s == OrderState::kRejected ||
         s == OrderState::kExpired;
}
// An order the venue may still fill (pending states included).
inline constexpr bool IsOpen(OrderState s) noexcept {
  return s != OrderState::kNew && !IsTerminal(s);
}

struct Outcome {
  OrderState to;
  OmsResult result;
  OrderState resume;  // the working state a pending-cancel/replace returns to
};

// The transition table. `resume` is the order's current resume state (meaningful in
// kPendingCancel / kPendingReplace; pass `from` otherwise).
// Thread: any. Allocates: never. Complexity: O(1).
[[nodiscard]] Outcome Transition(OrderState from, OrderEvent ev, OrderState resume) noexcept;

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_ORDER_STATE_H_
