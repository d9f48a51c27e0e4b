#include <nzeza/oms/order_state.h>

namespace nzeza::oms {

const char* OrderStateName(OrderState s) noexcept {
  switch (s) {
    case OrderState::kNew:
      return "new";
    case OrderState::kPendingNew:
      return "pending_new";
    case OrderState::kAcked:
      return "acked";
    case OrderState::kPartiallyFilled:
      return "partially_filled";
    case OrderState::kFilled:
      return "filled";
    case OrderState::kCanceled:
      return "canceled";
    case OrderState::kRejected:
      return "rejected";
    case OrderState::kExpired:
      return "expired";
    case OrderState::kPendingCancel:
      return "pending_cancel";
    case OrderState::kPendingReplace:
      return "pending_replace";
    case OrderState::kInDoubt:
      return "in_doubt";
  }
  return "?";
}

const char* OrderEventName(OrderEvent e) noexcept {
  switch (e) {
    case OrderEvent::kSendNew:
      return "send_new";
    case OrderEvent::kSendCancel:
      return "send_cancel";
    case OrderEvent::kSendReplace:
      return "send_replace";
    case OrderEvent::kPendingNewEcho:
      return "pending_new_echo";
    case OrderEvent::kAck:
      return "ack";
    case OrderEvent::kReject:
      return "reject";
    case OrderEvent::kPartialFill:
      return "partial_fill";
    case OrderEvent::kFullFill:
      return "full_fill";
    case OrderEvent::kCanceled:
      return "canceled";
    case OrderEvent::kExpired:
      return "expired";
    case OrderEvent::kReplaced:
      return "replaced";
    case OrderEvent::kCancelReject:
      return "cancel_reject";
    case OrderEvent::kCreateInDoubt:
      return "create_in_doubt";
    case OrderEvent::kCancelInDoubt:
      return "cancel_in_doubt";
  }
  return "?";
}

const char* OmsResultName(OmsResult r) noexcept {
  switch (r) {
    case OmsResult::kApplied:
      return "applied";
    case OmsResult::kAppliedLate:
      return "applied_late";
    case OmsResult::kDuplicate:
      return "duplicate";
    case OmsResult::kLate:
      return "late";
    case OmsResult::kIllegalTransition:
      return "illegal_transition";
    case OmsResult::kUnknownOrder:
      return "unknown_order";
    case OmsResult::kInvalid:
      return "invalid";
    case OmsResult::kTableFull:
      return "table_full";
    case OmsResult::kDuplicateOrderId:
      return "duplicate_order_id";
  }
  return "?";
}

Outcome Transition(OrderState from, OrderEvent ev, OrderState resume) noexcept {
  using S = OrderState;
  using E = OrderEvent;
  using R = OmsResult;
  const auto stay = [&](R r) { return Outcome{from, r, resume}; };
  const auto go = [&](S to) { return Outcome{to, R::kApplied, to}; };

  switch (from) {
    case S::kNew:
      return ev == E::kSendNew ? go(S::kPendingNew) : stay(R::kIllegalTransition);

    case S::kPendingNew:
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
          return Outcome{S::kPendingCancel, R::kApplied, S::kPendingNew};
        case E::kSendReplace:
          return stay(R::kIllegalTransition);  // replace needs an ack first
        case E::kPendingNewEcho:
          return stay(R::kDuplicate);
        case E::kAck:
          return go(S::kAcked);
        case E::kReject:
          return go(S::kRejected);
        case E::kPartialFill:
          return go(S::kPartiallyFilled);  // fill overtook the ack
        case E::kFullFill:
          return go(S::kFilled);
        case E::kCanceled:
          return go(S::kCanceled);  // e.g. IOC with nothing to match
        case E::kExpired:
          return go(S::kExpired);
        case E::kReplaced:
        case E::kCancelReject:
          return stay(R::kIllegalTransition);
        case E::kCreateInDoubt:
          return go(S::kInDoubt);
        case E::kCancelInDoubt:
          return stay(R::kIllegalTransition);  // no cancel was pending
      }
      break;

    case S::kInDoubt:
      // Like kPendingNew, except that the venue's silence is no longer news.
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
          return Outcome{S::kPendingCancel, R::kApplied, S::kInDoubt};
        case E::kSendReplace:
          return stay(R::kIllegalTransition);
        case E::kPendingNewEcho:
          return stay(R::kLate);
        case E::kAck:
          return go(S::kAcked);
        case E::kReject:
          return go(S::kRejected);
        case E::kPartialFill:
          return go(S::kPartiallyFilled);
        case E::kFullFill:
          return go(S::kFilled);
        case E::kCanceled:
          return go(S::kCanceled);
        case E::kExpired:
          return go(S::kExpired);
        case E::kReplaced:
        case E::kCancelReject:
          return stay(R::kIllegalTransition);
        case E::kCreateInDoubt:
          return stay(R::kDuplicate);  // a retried status query that failed again
        case E::kCancelInDoubt:
          return stay(R::kIllegalTransition);
      }
      break;

    case S::kAcked:
    case S::kPartiallyFilled:
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
          return Outcome{S::kPendingCancel, R::kApplied, from};
        case E::kSendReplace:
          return Outcome{S::kPendingReplace, R::kApplied, from};
        case E::kPendingNewEcho:
          return stay(R::kLate);
        case E::kAck:
          return stay(from == S::kAcked ? R::kDuplicate : R::kLate);
        case E::kReject:
          return stay(R::kIllegalTransition);
        case E::kPartialFill:
          return go(S::kPartiallyFilled);
        case E::kFullFill:
          return go(S::kFilled);
        case E::kCanceled:
          return go(S::kCanceled);  // unsolicited (venue-side) cancel
        case E::kExpired:
          return go(S::kExpired);
        case E::kReplaced:
        case E::kCancelReject:
          return stay(R::kIllegalTransition);  // nothing was pending
        case E::kCreateInDoubt:
          return stay(R::kLate);  // the venue answered (ack or fill) before the request failed
        case E::kCancelInDoubt:
          return stay(R::kLate);  // a cancel-reject or a second answer came first
      }
      break;

    case S::kPendingCancel:
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
          return stay(R::kDuplicate);
        case E::kSendReplace:
          return stay(R::kIllegalTransition);
        case E::kPendingNewEcho:
          return stay(R::kLate);
        case E::kAck:
          // The ack of the new order overtaken by our cancel: the order is working underneath.
          return resume == S::kPendingNew || resume == S::kInDoubt
                     ? Outcome{from, R::kApplied, S::kAcked}
                     : stay(resume == S::kAcked ? R::kDuplicate : R::kLate);
        case E::kReject:
          return resume == S::kPendingNew || resume == S::kInDoubt ? go(S::kRejected)
                                                                   : stay(R::kIllegalTransition);
        case E::kPartialFill:
          return Outcome{from, R::kApplied, S::kPartiallyFilled};
        case E::kFullFill:
          return go(S::kFilled);
        case E::kCanceled:
          return go(S::kCanceled);
        case E::kExpired:
          return go(S::kExpired);
        case E::kReplaced:
          return stay(R::kIllegalTransition);
        case E::kCancelReject:
          return go(resume);
        case E::kCreateInDoubt:
          // The create overtaken by our cancel failed in transport: still pending cancel, over
          // an order in doubt.
          return resume == S::kPendingNew ? Outcome{from, R::kApplied, S::kInDoubt}
                                          : stay(resume == S::kInDoubt ? R::kDuplicate : R::kLate);
        case E::kCancelInDoubt:
          return go(resume);  // the cancel may not have happened: working as before
      }
      break;

    case S::kPendingReplace:
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
          return Outcome{S::kPendingCancel, R::kApplied, resume};
        case E::kSendReplace:
          return stay(R::kIllegalTransition);  // one replace at a time
        case E::kPendingNewEcho:
          return stay(R::kLate);
        case E::kAck:
          return stay(resume == S::kAcked ? R::kDuplicate : R::kLate);
        case E::kReject:
          return stay(R::kIllegalTransition);
        case E::kPartialFill:
          return Outcome{from, R::kApplied, S::kPartiallyFilled};
        case E::kFullFill:
          return go(S::kFilled);
        case E::kCanceled:
          return go(S::kCanceled);
        case E::kExpired:
          return go(S::kExpired);
        // The order manager turns kAcked into kPartiallyFilled when something was filled.
        case E::kReplaced:
          return go(resume == S::kPartiallyFilled ? S::kPartiallyFilled : S::kAcked);
        case E::kCancelReject:
          return go(resume);  // replace refused: back to working
        case E::kCreateInDoubt:
          return stay(R::kLate);
        case E::kCancelInDoubt:
          return go(resume);  // the replace may not have happened: working as before
      }
      break;

    case S::kFilled:
    case S::kCanceled:
    case S::kRejected:
    case S::kExpired:
      switch (ev) {
        case E::kSendNew:
          return stay(R::kDuplicateOrderId);
        case E::kSendCancel:
        case E::kSendReplace:
          return stay(R::kLate);  // too late: nothing is sent
        case E::kPendingNewEcho:
        case E::kAck:
        case E::kCancelReject:
        case E::kReplaced:
          return stay(R::kLate);
        case E::kReject:
          return stay(from == S::kRejected ? R::kDuplicate : R::kIllegalTransition);
        case E::kPartialFill:
        case E::kFullFill:
          // A fill that happened before the cancel/expiry but arrived after it is real: apply.
          if (from == S::kCanceled || from == S::kExpired) return stay(R::kAppliedLate);
          return stay(R::kIllegalTransition);  // fill after reject, or more than the order size
        case E::kCanceled:
          return stay(from == S::kCanceled ? R::kDuplicate : R::kLate);
        case E::kExpired:
          return stay(from == S::kExpired ? R::kDuplicate : R::kLate);
        case E::kCreateInDoubt:
        case E::kCancelInDoubt:
          return stay(R::kLate);  // the venue's answer came first and wins
      }
      break;
  }
  return stay(R::kInvalid);
}

}  // namespace nzeza::oms
