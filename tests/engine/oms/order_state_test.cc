// Exhaustive tests of the order transition table and the order manager built on it.
#include <nzeza/oms/order_state.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nzeza/oms/client_order_id.h>
#include <nzeza/oms/order_manager.h>

namespace nzeza::oms {
namespace {

using S = OrderState;
using E = OrderEvent;
using R = OmsResult;

// Expected cell: `to` and result. Written out independently of the implementation.
struct Cell {
  S to;
  R result;
};

constexpr E kEvents[kNumOrderEvents] = {
    E::kSendNew,  E::kSendCancel,   E::kSendReplace,   E::kPendingNewEcho, E::kAck,
    E::kReject,   E::kPartialFill,  E::kFullFill,      E::kCanceled,       E::kExpired,
    E::kReplaced, E::kCancelReject, E::kCreateInDoubt, E::kCancelInDoubt};

struct Row {
  S from;
  S resume;
  std::vector<Cell> cells;  // one per kEvents entry
};

std::vector<Row> ExpectedTable() {
  const R ok = R::kApplied, al = R::kAppliedLate, d = R::kDuplicate, l = R::kLate,
          x = R::kIllegalTransition, i = R::kDuplicateOrderId;
  const S pc = S::kPendingCancel, pr = S::kPendingReplace, pn = S::kPendingNew, dn = S::kInDoubt;
  std::vector<Row> t;
  // clang-format off
  //                 SendNew      SendCancel    SendReplace   PNEcho     Ack          Reject       PartFill     FullFill    Canceled      Expired      Replaced     CancelReject  CreateInDoubt  CancelInDoubt
  t.push_back({S::kNew, S::kNew, {{pn, ok}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}, {S::kNew, x}}});
  t.push_back({pn, pn, {{pn, i}, {pc, ok}, {pn, x}, {pn, d}, {S::kAcked, ok}, {S::kRejected, ok}, {S::kPartiallyFilled, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {pn, x}, {pn, x}, {dn, ok}, {pn, x}}});
  t.push_back({dn, dn, {{dn, i}, {pc, ok}, {dn, x}, {dn, l}, {S::kAcked, ok}, {S::kRejected, ok}, {S::kPartiallyFilled, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {dn, x}, {dn, x}, {dn, d}, {dn, x}}});
  t.push_back({S::kAcked, S::kAcked, {{S::kAcked, i}, {pc, ok}, {pr, ok}, {S::kAcked, l}, {S::kAcked, d}, {S::kAcked, x}, {S::kPartiallyFilled, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {S::kAcked, x}, {S::kAcked, x}, {S::kAcked, l}, {S::kAcked, l}}});
  t.push_back({S::kPartiallyFilled, S::kPartiallyFilled, {{S::kPartiallyFilled, i}, {pc, ok}, {pr, ok}, {S::kPartiallyFilled, l}, {S::kPartiallyFilled, l}, {S::kPartiallyFilled, x}, {S::kPartiallyFilled, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {S::kPartiallyFilled, x}, {S::kPartiallyFilled, x}, {S::kPartiallyFilled, l}, {S::kPartiallyFilled, l}}});
  t.push_back({S::kFilled, S::kFilled, {{S::kFilled, i}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, x}, {S::kFilled, x}, {S::kFilled, x}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}, {S::kFilled, l}}});
  t.push_back({S::kCanceled, S::kCanceled, {{S::kCanceled, i}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, x}, {S::kCanceled, al}, {S::kCanceled, al}, {S::kCanceled, d}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, l}, {S::kCanceled, l}}});
  t.push_back({S::kRejected, S::kRejected, {{S::kRejected, i}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, d}, {S::kRejected, x}, {S::kRejected, x}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}, {S::kRejected, l}}});
  t.push_back({S::kExpired, S::kExpired, {{S::kExpired, i}, {S::kExpired, l}, {S::kExpired, l}, {S::kExpired, l}, {S::kExpired, l}, {S::kExpired, x}, {S::kExpired, al}, {S::kExpired, al}, {S::kExpired, l}, {S::kExpired, d}, {S::kExpired, l}, {S::kExpired, l}, {S::kExpired, l}, {S::kExpired, l}}});
  t.push_back({pc, pn, {{pc, i}, {pc, d}, {pc, x}, {pc, l}, {pc, ok}, {S::kRejected, ok}, {pc, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {pc, x}, {pn, ok}, {pc, ok}, {pn, ok}}});
  t.push_back({pc, dn, {{pc, i}, {pc, d}, {pc, x}, {pc, l}, {pc, ok}, {S::kRejected, ok}, {pc, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {pc, x}, {dn, ok}, {pc, d}, {dn, ok}}});
  t.push_back({pc, S::kAcked, {{pc, i}, {pc, d}, {pc, x}, {pc, l}, {pc, d}, {pc, x}, {pc, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {pc, x}, {S::kAcked, ok}, {pc, l}, {S::kAcked, ok}}});
  t.push_back({pc, S::kPartiallyFilled, {{pc, i}, {pc, d}, {pc, x}, {pc, l}, {pc, l}, {pc, x}, {pc, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {pc, x}, {S::kPartiallyFilled, ok}, {pc, l}, {S::kPartiallyFilled, ok}}});
  t.push_back({pr, S::kAcked, {{pr, i}, {pc, ok}, {pr, x}, {pr, l}, {pr, d}, {pr, x}, {pr, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {S::kAcked, ok}, {S::kAcked, ok}, {pr, l}, {S::kAcked, ok}}});
  t.push_back({pr, S::kPartiallyFilled, {{pr, i}, {pc, ok}, {pr, x}, {pr, l}, {pr, l}, {pr, x}, {pr, ok}, {S::kFilled, ok}, {S::kCanceled, ok}, {S::kExpired, ok}, {S::kPartiallyFilled, ok}, {S::kPartiallyFilled, ok}, {pr, l}, {S::kPartiallyFilled, ok}}});
  // clang-format on
  return t;
}

TEST(OrderTransition, MatchesTableExhaustively) {
  int checked = 0;
  for (const Row& row : ExpectedTable()) {
    ASSERT_EQ(row.cells.size(), static_cast<size_t>(kNumOrderEvents));
    for (int e = 0; e < kNumOrderEvents; ++e) {
      const Outcome o = Transition(row.from, kEvents[e], row.resume);
      EXPECT_EQ(o.to, row.cells[e].to)
          << OrderStateName(row.from) << "(resume " << OrderStateName(row.resume) << ") + "
          << OrderEventName(kEvents[e]) << " -> " << OrderStateName(o.to);
      EXPECT_EQ(o.result, row.cells[e].result)
          << OrderStateName(row.from) << "(resume " << OrderStateName(row.resume) << ") + "
          << OrderEventName(kEvents[e]) << ": " << OmsResultName(o.result);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 15 * kNumOrderEvents);
}

TEST(OrderTransition, InvariantsHoldForEveryStateEventResume) {
  for (int s = 0; s < kNumOrderStates; ++s) {
    for (int r = 0; r < kNumOrderStates; ++r) {
      for (int e = 0; e < kNumOrderEvents; ++e) {
        const auto from = static_cast<S>(s);
        const auto resume = static_cast<S>(r);
        const Outcome o = Transition(from, static_cast<E>(e), resume);
        const bool applied = o.result == R::kApplied || o.result == R::kAppliedLate;
        if (!applied) {
          EXPECT_EQ(o.to, from) << "a refused event must not move the order";
        }
        if (IsTerminal(from)) {
          EXPECT_EQ(o.to, from) << "terminal states are final";
        }
        if (from != S::kNew && resume != S::kNew) {
          EXPECT_NE(o.to, S::kNew) << "nothing returns to kNew";
        }
        EXPECT_STRNE(OmsResultName(o.result), "?");
      }
    }
  }
}

TEST(OrderTransition, PendingStatesRememberTheWorkingState) {
  Outcome o = Transition(S::kPartiallyFilled, E::kSendCancel, S::kPartiallyFilled);
  EXPECT_EQ(o.resume, S::kPartiallyFilled);
  o = Transition(S::kPendingCancel, E::kPartialFill, S::kAcked);
  EXPECT_EQ(o.resume, S::kPartiallyFilled);
  o = Transition(S::kPendingReplace, E::kSendCancel, S::kAcked);
  EXPECT_EQ(o.to, S::kPendingCancel);
  EXPECT_EQ(o.resume, S::kAcked);
  o = Transition(S::kPendingCancel, E::kAck, S::kPendingNew);
  EXPECT_EQ(o.resume, S::kAcked);
  // A create that failed in transport under a pending cancel: the cancel stays pending over an
  // order in doubt, which the venue's ack then makes working.
  o = Transition(S::kPendingCancel, E::kCreateInDoubt, S::kPendingNew);
  EXPECT_EQ(o.to, S::kPendingCancel);
  EXPECT_EQ(o.resume, S::kInDoubt);
  o = Transition(S::kPendingCancel, E::kAck, S::kInDoubt);
  EXPECT_EQ(o.to, S::kPendingCancel);
  EXPECT_EQ(o.resume, S::kAcked);
}

TEST(OrderTransition, InDoubtIsOpenAndNotTerminal) {
  EXPECT_TRUE(IsOpen(S::kInDoubt));
  EXPECT_FALSE(IsTerminal(S::kInDoubt));
  EXPECT_STREQ(OrderStateName(S::kInDoubt), "in_doubt");
  EXPECT_STREQ(OrderEventName(E::kCreateInDoubt), "create_in_doubt");
  EXPECT_STREQ(OrderEventName(E::kCancelInDoubt), "cancel_in_doubt");
}

// ---------------------------------------------------------------------------------------------
// OrderManager

OrderCmd NewCmd(uint64_t id, Side side = Side::kBuy, int64_t price = 100'00, int64_t size = 10,
                InstrumentId inst = 1) {
  OrderCmd c;
  c.type = CmdType::kNew;
  c.client_order_id = id;
  c.side = side;
  c.price = price;
  c.size = size;
  c.instrument = inst;
  return c;
}
OrderCmd CancelCmd(uint64_t target) {
  OrderCmd c;
  c.type = CmdType::kCancel;
  c.orig_client_order_id = target;
  return c;
}
OrderCmd ReplaceCmd(uint64_t target, uint64_t new_id, int64_t price, int64_t size) {
  OrderCmd c;
  c.type = CmdType::kReplace;
  c.orig_client_order_id = target;
  c.client_order_id = new_id;
  c.price = price;
  c.size = size;
  return c;
}
ExecEvent Exec(ExecType t, uint64_t id) {
  ExecEvent e;
  e.type = t;
  e.client_order_id = id;
  return e;
}
ExecEvent Fill(uint64_t id, uint64_t trade, int64_t price, int64_t size, int64_t fee = 0) {
  ExecEvent e = Exec(ExecType::kFill, id);
  e.trade_id = trade;
  e.last_price = price;
  e.last_size = size;
  e.fee = fee;
  return e;
}

class OrderManagerTest : public ::testing::Test {
 protected:
  OrderManager oms_{{.max_orders = 16, .max_instruments = 4}};
  S StateOf(uint64_t id) { return oms_.Find(id)->state; }
};

TEST_F(OrderManagerTest, HappyPathNewAckPartialFull) {
  EXPECT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPendingNew);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Fill(1, 100, 100'00, 4, 3)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPartiallyFilled);
  EXPECT_EQ(oms_.Find(1)->leaves(), 6);
  EXPECT_EQ(oms_.OnExec(Fill(1, 101, 101'00, 6, 2)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kFilled);
  EXPECT_EQ(oms_.Find(1)->cum_size, 10);
  EXPECT_EQ(oms_.position(1).qty, 10);
  EXPECT_EQ(oms_.position(1).fees, 5);
  EXPECT_EQ(oms_.position(1).cost, __int128{4 * 100'00 + 6 * 101'00});
}

TEST_F(OrderManagerTest, DuplicateFillIdIsIgnored) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(1, 7, 100'00, 3)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Fill(1, 7, 100'00, 3)), R::kDuplicate);
  EXPECT_EQ(oms_.Find(1)->cum_size, 3);
  EXPECT_EQ(oms_.position(1).qty, 3);
  EXPECT_EQ(oms_.result_count(R::kDuplicate), 1u);
}

TEST_F(OrderManagerTest, DuplicateFillAfterFilledIsDuplicateNotIllegal) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(1, 7, 100'00, 10)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Fill(1, 7, 100'00, 10)), R::kDuplicate);
  EXPECT_EQ(oms_.OnExec(Fill(1, 8, 100'00, 1)), R::kIllegalTransition);  // overfill refused
  EXPECT_EQ(oms_.position(1).qty, 10);
}

TEST_F(OrderManagerTest, FillWithoutTradeIdUsesCumSize) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ExecEvent f = Fill(1, 0, 100'00, 3);
  f.cum_size = 3;
  ASSERT_EQ(oms_.OnExec(f), R::kApplied);
  EXPECT_EQ(oms_.OnExec(f), R::kDuplicate);
}

TEST_F(OrderManagerTest, FillAfterCancelIsAppliedLate) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1, Side::kSell)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(CancelCmd(1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPendingCancel);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kCanceled, 1)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Fill(1, 9, 99'00, 2)), R::kAppliedLate);
  EXPECT_EQ(StateOf(1), S::kCanceled);
  EXPECT_EQ(oms_.position(1).qty, -2);
  EXPECT_EQ(oms_.OnExec(Fill(1, 9, 99'00, 2)), R::kDuplicate);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kCanceled, 1)), R::kDuplicate);
}

TEST_F(OrderManagerTest, AckAfterFillIsLate) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(1, 1, 100'00, 10)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kLate);
  EXPECT_EQ(StateOf(1), S::kFilled);
}

TEST_F(OrderManagerTest, CancelRejectReturnsToWorkingState) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(CancelCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(1, 1, 100'00, 4)), R::kApplied);  // fill while cancel in flight
  EXPECT_EQ(StateOf(1), S::kPendingCancel);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kCancelReject, 1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPartiallyFilled);
  EXPECT_EQ(oms_.OnCmd(CancelCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(CancelCmd(1)), R::kDuplicate);
}

TEST_F(OrderManagerTest, ReplaceChangesPriceAndSize) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(ReplaceCmd(1, 2, 99'00, 20)), R::kIllegalTransition);  // before ack
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(1, 1, 100'00, 4)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(ReplaceCmd(1, 2, 99'00, 20)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(ReplaceCmd(1, 3, 98'00, 20)), R::kIllegalTransition);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kReplaced, 1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPartiallyFilled);
  EXPECT_EQ(oms_.Find(1)->price, 99'00);
  EXPECT_EQ(oms_.Find(1)->leaves(), 16);
  // A replace down to the filled quantity completes the order.
  ASSERT_EQ(oms_.OnCmd(ReplaceCmd(1, 4, 99'00, 4)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kReplaced, 1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kFilled);
}

TEST_F(OrderManagerTest, RejectAndExpire) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kReject, 1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kRejected);
  EXPECT_EQ(oms_.OnExec(Fill(1, 1, 100'00, 1)), R::kIllegalTransition);
  EXPECT_EQ(oms_.position(1).qty, 0);
  ASSERT_EQ(oms_.OnCmd(NewCmd(2)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, 2)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kExpired, 2)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(CancelCmd(2)), R::kLate);
}

TEST_F(OrderManagerTest, RefusesBadCommandsAndUnknownOrders) {
  EXPECT_EQ(oms_.OnCmd(NewCmd(0)), R::kInvalid);
  EXPECT_EQ(oms_.OnCmd(NewCmd(1, Side::kBuy, 1, 0)), R::kInvalid);
  EXPECT_EQ(oms_.OnCmd(NewCmd(1, Side::kBuy, 1, 1, /*inst=*/4)), R::kInvalid);
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(NewCmd(1)), R::kDuplicateOrderId);
  EXPECT_EQ(oms_.OnCmd(CancelCmd(99)), R::kUnknownOrder);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kAck, 99)), R::kUnknownOrder);
  EXPECT_EQ(oms_.OnExec(Fill(1, 5, 1, 0)), R::kInvalid);
}

TEST_F(OrderManagerTest, TableFullThenEraseFreesSlots) {
  for (uint64_t id = 1; id <= 16; ++id) ASSERT_EQ(oms_.OnCmd(NewCmd(id)), R::kApplied);
  EXPECT_EQ(oms_.OnCmd(NewCmd(17)), R::kTableFull);
  EXPECT_FALSE(oms_.EraseTerminal(3));  // still open
  for (uint64_t id = 1; id <= 16; id += 2) {
    ASSERT_EQ(oms_.OnExec(Exec(ExecType::kReject, id)), R::kApplied);
    ASSERT_TRUE(oms_.EraseTerminal(id));
  }
  // Every remaining order is still reachable after backward-shift deletion.
  for (uint64_t id = 2; id <= 16; id += 2) ASSERT_NE(oms_.Find(id), nullptr) << id;
  for (uint64_t id = 1; id <= 16; id += 2) EXPECT_EQ(oms_.Find(id), nullptr) << id;
  EXPECT_EQ(oms_.size(), 8u);
  EXPECT_EQ(oms_.OnCmd(NewCmd(17)), R::kApplied);
}

TEST_F(OrderManagerTest, CancelAllMovesOpenOrdersToPendingCancel) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(NewCmd(2)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, 2)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(NewCmd(3)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(Fill(3, 1, 1, 10)), R::kApplied);
  OrderCmd all;
  all.type = CmdType::kCancelAll;
  EXPECT_EQ(oms_.OnCmd(all), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPendingCancel);
  EXPECT_EQ(StateOf(2), S::kPendingCancel);
  EXPECT_EQ(StateOf(3), S::kFilled);
}

ExecEvent InDoubt(uint64_t id, CmdType request) {
  ExecEvent e = Exec(ExecType::kInDoubt, id);
  e.request = request;
  return e;
}

TEST_F(OrderManagerTest, CreateInDoubtStaysOpenUntilTheVenueSays) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(InDoubt(1, CmdType::kNew)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kInDoubt);
  EXPECT_TRUE(IsOpen(StateOf(1)));
  EXPECT_EQ(oms_.Find(1)->leaves(), 10);                             // still working at full size
  EXPECT_EQ(oms_.OnExec(InDoubt(1, CmdType::kNew)), R::kDuplicate);  // a failed retry
  // The venue's word, whatever it is, ends the doubt: here a fill before any ack.
  EXPECT_EQ(oms_.OnExec(Fill(1, 5, 100'00, 4)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPartiallyFilled);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kLate);

  // In doubt, then the venue says it never took it.
  ASSERT_EQ(oms_.OnCmd(NewCmd(2)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(InDoubt(2, CmdType::kNew)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kReject, 2)), R::kApplied);
  EXPECT_EQ(StateOf(2), S::kRejected);
}

TEST_F(OrderManagerTest, CancelOfAnOrderInDoubtWaitsForTheVenue) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  ASSERT_EQ(oms_.OnExec(InDoubt(1, CmdType::kNew)), R::kApplied);
  ASSERT_EQ(oms_.OnCmd(CancelCmd(1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kPendingCancel);
  EXPECT_EQ(oms_.Find(1)->resume, S::kInDoubt);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kAck, 1)), R::kApplied);  // the venue had it
  EXPECT_EQ(oms_.Find(1)->resume, S::kAcked);
  // The cancel's answer never comes: the order is working again, not canceled.
  EXPECT_EQ(oms_.OnExec(InDoubt(1, CmdType::kCancel)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kAcked);
  ASSERT_EQ(oms_.OnCmd(CancelCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.OnExec(Exec(ExecType::kCanceled, 1)), R::kApplied);
  EXPECT_EQ(StateOf(1), S::kCanceled);
  EXPECT_EQ(oms_.OnExec(InDoubt(1, CmdType::kCancel)), R::kLate);  // the venue's answer won
}

TEST_F(OrderManagerTest, VenueOrderIdIsKeptWithTheOrder) {
  ASSERT_EQ(oms_.OnCmd(NewCmd(1)), R::kApplied);
  EXPECT_EQ(oms_.Find(1)->venue_order_id(), "");
  EXPECT_EQ(oms_.SetVenueOrderId(1, "c7b2e1c4-0f1d-4b7a-9e1e-5f8f0a3b2c1d"), R::kApplied);
  EXPECT_EQ(oms_.Find(1)->venue_order_id(), "c7b2e1c4-0f1d-4b7a-9e1e-5f8f0a3b2c1d");
  EXPECT_EQ(oms_.SetVenueOrderId(1, "c7b2e1c4-0f1d-4b7a-9e1e-5f8f0a3b2c1d"), R::kDuplicate);
  EXPECT_EQ(oms_.SetVenueOrderId(2, "x"), R::kUnknownOrder);
  EXPECT_EQ(oms_.SetVenueOrderId(1, ""), R::kInvalid);
  EXPECT_EQ(oms_.SetVenueOrderId(1, std::string(kMaxVenueOrderIdBytes + 1, 'a')), R::kInvalid);
  EXPECT_EQ(oms_.SetVenueOrderId(1, std::string(kMaxVenueOrderIdBytes, 'a')), R::kApplied);
}

// Regression (issue 6, item 2): finished orders were never freed, so the table filled after
// max_orders orders and every later order was refused as kTableFull.
TEST_F(OrderManagerTest, FinishedOrdersAreRecycledSoTheTableNeverFills) {
  int64_t bought = 0;
  uint64_t late_id = 0;
  for (uint64_t id = 1; id <= 16 * 20; ++id) {
    ASSERT_EQ(oms_.OnCmd(NewCmd(id, Side::kBuy, 100'00, 10)), R::kApplied) << id;
    ASSERT_EQ(oms_.OnExec(Exec(ExecType::kAck, id)), R::kApplied);
    if (id % 3 == 0) {
      ExecEvent f = Fill(id, 1000 + id, 100'00, 10);
      f.instrument = 1;
      ASSERT_EQ(oms_.OnExec(f), R::kApplied);
      bought += 10;
    } else {
      ASSERT_EQ(oms_.OnExec(Exec(ExecType::kCanceled, id)), R::kApplied);
      if (late_id == 0) late_id = id;
    }
    ASSERT_LE(oms_.size(), oms_.capacity() / 2);
  }
  EXPECT_LE(oms_.size(), oms_.max_terminal());
  EXPECT_GE(oms_.recycled(), 16u * 20 - oms_.max_terminal());
  EXPECT_EQ(oms_.Find(late_id), nullptr);  // long recycled
  // A late fill of a recycled order still moves the position (the venue traded).
  ExecEvent late = Fill(late_id, 99, 100'00, 2);
  late.instrument = 1;
  late.side = Side::kBuy;
  EXPECT_EQ(oms_.OnExec(late), R::kAppliedLate);
  EXPECT_EQ(oms_.recycled_fills(), 1u);
  EXPECT_EQ(oms_.position(1).qty, bought + 2);
  // An id never issued is not a fill of ours.
  late.client_order_id = 1'000'000;
  EXPECT_EQ(oms_.OnExec(late), R::kUnknownOrder);
  // Live orders are never recycled: 16 working orders fill the table.
  for (uint64_t id = 2000; id < 2016; ++id) ASSERT_EQ(oms_.OnCmd(NewCmd(id)), R::kApplied) << id;
  EXPECT_EQ(oms_.OnCmd(NewCmd(3000)), R::kTableFull);
  for (uint64_t id = 2000; id < 2016; ++id) EXPECT_NE(oms_.Find(id), nullptr) << id;
}

// ---------------------------------------------------------------------------------------------
// Positions

TEST(Position, LongThenPartialCloseRealizesPnl) {
  Position p;
  p.ApplyFill(Side::kBuy, 100'00, 2, 1);
  p.ApplyFill(Side::kBuy, 110'00, 2, 1);
  EXPECT_EQ(p.qty, 4);
  EXPECT_EQ(p.AveragePrice(), 105'00);
  p.ApplyFill(Side::kSell, 120'00, 1, 1);
  EXPECT_EQ(p.realized, __int128{15'00});
  EXPECT_EQ(p.qty, 3);
  EXPECT_EQ(p.UnrealizedPnl(105'00), __int128{0});
  EXPECT_EQ(p.UnrealizedPnl(106'00), __int128{3'00});
  EXPECT_EQ(p.fees, 3);
}

TEST(Position, ShortAndFlipThroughZero) {
  Position p;
  p.ApplyFill(Side::kSell, 100'00, 3, 0);
  EXPECT_EQ(p.qty, -3);
  EXPECT_EQ(p.UnrealizedPnl(90'00), __int128{30'00});
  p.ApplyFill(Side::kBuy, 90'00, 5, 0);  // close 3 (+30.00), open long 2 at 90
  EXPECT_EQ(p.realized, __int128{30'00});
  EXPECT_EQ(p.qty, 2);
  EXPECT_EQ(p.AveragePrice(), 90'00);
  p.ApplyFill(Side::kSell, 80'00, 2, 0);
  EXPECT_EQ(p.realized, __int128{10'00});
  EXPECT_EQ(p.qty, 0);
  EXPECT_EQ(p.cost, __int128{0});
}

TEST(Position, LargeNotionalDoesNotOverflow) {
  Position p;
  const int64_t price = 1'000'000'00000000;  // 10^6 at 8 decimals
  const int64_t size = 9'000'000'000'000'000;
  p.ApplyFill(Side::kBuy, price, size, 0);
  p.ApplyFill(Side::kSell, price + 1, size, 0);
  EXPECT_EQ(p.realized, __int128{size});
}

TEST(Position, RoundingConservesCost) {
  Position p;
  p.ApplyFill(Side::kBuy, 100, 1, 0);
  p.ApplyFill(Side::kBuy, 101, 1, 0);
  p.ApplyFill(Side::kBuy, 101, 1, 0);  // cost 302 over 3: not divisible
  p.ApplyFill(Side::kSell, 200, 1, 0);
  p.ApplyFill(Side::kSell, 200, 1, 0);
  p.ApplyFill(Side::kSell, 200, 1, 0);
  EXPECT_EQ(p.realized, __int128{600 - 302});  // exact once flat
  EXPECT_EQ(p.cost, __int128{0});
}

// ---------------------------------------------------------------------------------------------
// Client order ids

TEST(ClientOrderId, UniqueAcrossRestartInSameSecond) {
  const int64_t t = 1'700'000'000'123'000'000;
  ClientOrderIdGenerator a(t, 0);
  uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) last = a.Next();
  ClientOrderIdGenerator b(t + 1000, last);  // same second, recovered max from the journal
  EXPECT_GT(b.Next(), last);
}

TEST(ClientOrderId, UniqueAcrossRestartWithoutJournalInLaterSecond) {
  ClientOrderIdGenerator a(1'700'000'000'000'000'000, 0);
  uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) last = a.Next();
  ClientOrderIdGenerator b(1'700'000'001'000'000'000, 0);
  EXPECT_GT(b.Next(), last);
  EXPECT_NE(b.peek(), 0u);
}

TEST(ClientOrderId, ClockSteppedBackUsesRecoveredMax) {
  ClientOrderIdGenerator a(1'700'000'010'000'000'000, 0);
  const uint64_t last = a.Next();
  ClientOrderIdGenerator b(1'700'000'000'000'000'000, last);
  EXPECT_EQ(b.Next(), last + 1);
}

}  // namespace
}  // namespace nzeza::oms
