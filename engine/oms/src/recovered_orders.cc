#include <nzeza/oms/recovered_orders.h>

#include <chrono>
#include <thread>

#include <nzeza/core/clock.h>
#include "absl/strings/str_cat.h"

namespace nzeza::oms {

void JournaledSink::OnExec(const ExecEvent& ev) {
  if (journal_ != nullptr && journal_->AppendExec(ev, MonotonicNanos()) != AppendResult::kOk) {
    ++journal_errors_;
  }
  (void)oms_.OnExec(ev);
  ++events_;
}

void JournaledSink::OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) {
  if (journal_ != nullptr && journal_->AppendVenueOrderId(client_order_id, venue_order_id,
                                                          MonotonicNanos()) != AppendResult::kOk) {
    ++journal_errors_;
  }
  (void)oms_.SetVenueOrderId(client_order_id, venue_order_id);
}

absl::StatusOr<RecoveredCancels> CancelRecoveredOrders(OrderManager& oms, Journal* journal,
                                                       OrderGateway& gateway,
                                                       ClientOrderIdGenerator& ids,
                                                       absl::Duration timeout,
                                                       VenueReconciler* reconciler) {
  std::vector<Order> open;
  oms.ForEachOrder([&](const Order& o) {
    if (IsOpen(o.state)) open.push_back(o);
  });
  RecoveredCancels out;
  out.open = open.size();
  if (open.empty()) return out;
  for (const Order& o : open) {
    if (!gateway.TrackRecovered(o)) {
      return absl::ResourceExhaustedError(absl::StrCat("the ", std::string(gateway.name()),
                                                       " gateway cannot track recovered order ",
                                                       o.client_order_id));
    }
  }
  JournaledSink sink(journal, oms);
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  while (!gateway.ready() && MonotonicNanos() < deadline) {
    if (gateway.Poll(sink) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // One cancel: journaled, applied, sent. A recovered order already pending cancel is sent one
  // again: whether the dead process's cancel reached the venue is unknown.
  std::vector<int64_t> last_sent(open.size(), 0);
  auto cancel = [&](size_t k) -> absl::Status {
    const Order& o = open[k];
    OrderCmd c;
    c.type = CmdType::kCancel;
    c.origin = CmdOrigin::kShutdown;
    c.instrument = o.instrument;
    c.side = o.side;
    c.strategy_id = o.strategy_id;
    c.client_order_id = ids.Next();
    c.orig_client_order_id = o.client_order_id;
    c.times.sent_ns = MonotonicNanos();
    if (journal != nullptr && journal->AppendCmd(c, c.times.sent_ns) != AppendResult::kOk) {
      return absl::UnavailableError(
          absl::StrCat("cannot journal the cancel of recovered order ", o.client_order_id));
    }
    const OmsResult r = oms.OnCmd(c);
    if (r == OmsResult::kLate) return absl::OkStatus();  // ended by a venue event meanwhile
    if (r != OmsResult::kApplied && r != OmsResult::kDuplicate) {
      return absl::InternalError(absl::StrCat("recovered order ", o.client_order_id,
                                              ": the order manager refused its cancel (",
                                              OmsResultName(r), ")"));
    }
    if (gateway.Send(c, c.times.sent_ns) != SendStatus::kSent) {
      // Journaled as pending cancel: the next start (or reconciliation) settles it.
      return absl::UnavailableError(absl::StrCat("cannot send the cancel of recovered order ",
                                                 o.client_order_id, " to ",
                                                 std::string(gateway.name())));
    }
    last_sent[k] = c.times.sent_ns;
    ++out.canceled;
    return absl::OkStatus();
  };
  for (size_t k = 0; k < open.size(); ++k) {
    if (absl::Status st = cancel(k); !st.ok()) return st;
  }
  gateway.Flush(MonotonicNanos());
  int64_t ask_venue_at = MonotonicNanos() + 1'000'000'000;
  for (;;) {
    (void)gateway.Poll(sink);
    if (reconciler != nullptr && MonotonicNanos() >= ask_venue_at) {
      (void)reconciler->Reconcile(oms, sink);  // best effort: the deadline decides
      ask_venue_at = MonotonicNanos() + 1'000'000'000;
    }
    // A cancel refused or unanswered (the order is working again): sent again, once a second.
    bool resent = false;
    for (size_t k = 0; k < open.size(); ++k) {
      const Order* o = oms.Find(open[k].client_order_id);
      if (o == nullptr || !IsOpen(o->state) || o->state == OrderState::kPendingCancel ||
          MonotonicNanos() - last_sent[k] < 1'000'000'000) {
        continue;
      }
      if (absl::Status st = cancel(k); !st.ok()) return st;
      resent = true;
    }
    if (resent) gateway.Flush(MonotonicNanos());
    std::string still;
    size_t n = 0;
    oms.ForEachOrder([&](const Order& o) {
      if (!IsOpen(o.state)) return;
      ++n;
      if (n <= 20) {
        absl::StrAppend(&still, n == 1 ? "" : ", ", o.client_order_id, " (",
                        OrderStateName(o.state), o.venue_order_id().empty() ? ", no venue id" : "",
                        ")");
      }
    });
    if (n == 0) return out;
    if (MonotonicNanos() > deadline) {
      return absl::UnavailableError(
          absl::StrCat(n, " recovered orders are still open after ", absl::FormatDuration(timeout),
                       " of canceling them: ", still, n > 20 ? ", ..." : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace nzeza::oms
