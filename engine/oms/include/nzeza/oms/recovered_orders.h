// What recovery does with the orders the journal leaves open, before the order stage runs: the
// same for every venue, behind the OrderGateway contract.
//
//   OrderManager oms(opts);
//   auto journal = OpenAndRecover(journal_options, WallClock::NowNanos(), &oms, &report);
//   JournaledSink sink(journal->get(), oms);
//   reconciler.Reconcile(oms, sink);                   // venue events: journaled, then applied
//   ClientOrderIdGenerator ids(WallClock::NowNanos(), oms.max_client_order_id());
//   absl::StatusOr<RecoveredCancels> c =
//       CancelRecoveredOrders(oms, journal->get(), gateway, ids, absl::Seconds(10));
//   risk_config.first_client_order_id = ids.peek();    // after the cancels' ids
//
// Thread: control plane, before the order stage's worker starts (the order manager, journal and
// gateway are then touched by this thread only). Allocates.
#ifndef NZEZA_OMS_RECOVERED_ORDERS_H_
#define NZEZA_OMS_RECOVERED_ORDERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nzeza/core/events.h>
#include <nzeza/oms/client_order_id.h>
#include <nzeza/oms/gateway.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/recovery.h>
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nzeza::oms {

// Journals each venue event (and venue order id), then applies it to the order manager: what the
// order stage does with the gateway's events, for the events that reconciliation and start-up
// cancels produce before the stage runs. `journal` may be null (no journal configured).
class JournaledSink final : public ExecSink {
 public:
  JournaledSink(Journal* journal, OrderManager& oms) : journal_(journal), oms_(oms) {}
  void OnExec(const ExecEvent& ev) override;
  void OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) override;
  uint64_t events() const noexcept { return events_; }
  uint64_t journal_errors() const noexcept { return journal_errors_; }

 private:
  Journal* journal_;
  OrderManager& oms_;
  uint64_t events_ = 0;
  uint64_t journal_errors_ = 0;
};

struct RecoveredCancels {
  size_t open = 0;      // orders the journal (after reconciliation) left open
  size_t canceled = 0;  // cancels sent (one per open order)
};

// Makes every open order of `oms` known to `gateway` (TrackRecovered, with its venue id when the
// journal has one), waits (within `timeout`) for the gateway to be ready, so the private stream
// sees the cancels, then cancels each: a cancel command with an id from `ids`, journaled and
// applied before it is sent, exactly as the order stage would; the venue's answers are journaled
// and applied through a JournaledSink while this polls the gateway, until every order has ended
// or `timeout` passed. An order without a venue id is canceled once the gateway learns it (see
// OrderGateway::Send). When orders are still open a second after the cancels went out (the
// private stream may have missed the venue's answer: it was subscribing as the cancels ran),
// `reconciler` (if not null) asks the venue, once a second, and its events settle them.
// Errors: ResourceExhausted (the gateway cannot track an order), Unavailable (a cancel could not
// be sent; orders still open after the timeout: the message lists their client ids and states).
// Nothing is left half done: on error the orders remain open in `oms`.
absl::StatusOr<RecoveredCancels> CancelRecoveredOrders(OrderManager& oms, Journal* journal,
                                                       OrderGateway& gateway,
                                                       ClientOrderIdGenerator& ids,
                                                       absl::Duration timeout,
                                                       VenueReconciler* reconciler = nullptr);

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_RECOVERED_ORDERS_H_
