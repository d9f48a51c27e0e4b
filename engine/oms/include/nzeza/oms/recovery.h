// Recovery at start: rebuild orders, positions and the client-id sequence from the journal; and
// the interface through which a venue gateway reconciles the rebuilt state with the venue.
//
//   OrderManager oms(opts);
//   RecoveryReport report;
//   absl::StatusOr<std::unique_ptr<Journal>> j =
//       OpenAndRecover(journal_options, WallClock::NowNanos(), &oms, &report);
//   ClientOrderIdGenerator ids(WallClock::NowNanos(), oms.max_client_order_id());
//   if (report.torn_tail) LOG(WARNING) << report.tail_reason;   // truncated, never misread
//   reconciler.Reconcile(oms, sink);                             // venue-specific, see below
#ifndef NZEZA_OMS_RECOVERY_H_
#define NZEZA_OMS_RECOVERY_H_

#include <cstdint>
#include <memory>
#include <string_view>

#include <nzeza/core/events.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nzeza::oms {

// Applies one journal record to `oms` (OrderCmd → OnCmd, ExecEvent → OnExec, VenueOrderIdRecord
// → SetVenueOrderId); records of unknown type or size are skipped and return kInvalid.
// Thread: the owner of `oms`.
OmsResult ReplayRecord(const JournalRecord& record, OrderManager* oms) noexcept;

// Opens the journal, replaying every complete record into `oms` (which should be empty), and
// truncating a torn tail (described in *report). Errors: those of Journal::Open.
absl::StatusOr<std::unique_ptr<Journal>> OpenAndRecover(const JournalOptions& options,
                                                        int64_t now_unix_ns, OrderManager* oms,
                                                        RecoveryReport* report);

// Where reconciliation sends what it learns: synthesized venue events (an order the venue says is
// gone, fills the journal never saw), which the order stage journals and applies like any other.
class ExecSink {
 public:
  virtual ~ExecSink() = default;
  virtual void OnExec(const ExecEvent& ev) = 0;
  // The venue's id for one of our orders, learned from an ack, a status answer or the private
  // stream; at most kMaxVenueOrderIdBytes. Journaled (RecordType::kVenueOrderId) and kept with
  // the order, so a recovered order can be canceled by it. Default: ignored.
  virtual void OnVenueOrderId(uint64_t client_order_id, std::string_view venue_order_id) {
    (void)client_order_id;
    (void)venue_order_id;
  }
  // The private execution stream's state: kExecStreamLost when it dropped, gapped or went
  // silent (fills may be happening unseen); kExecStreamRestored when it is connected and
  // delivering again (what happened meanwhile is not settled yet: the order stage reconciles).
  // `detail`: e.g. ns of silence. Default: ignored.
  virtual void OnSession(SessionEvent event, int64_t detail) {
    (void)event;
    (void)detail;
  }
};

// Venue-side reconciliation after recovery: query open orders and recent fills for each open
// order in `oms` and emit the difference as ExecEvents. Implemented per venue (venues/<venue>);
// engine/oms only defines the contract. Errors: Unavailable (venue unreachable: the engine must
// not trade until a retry succeeds), DataLoss (the venue reports orders or fills the journal
// cannot explain: needs an operator).
// Thread: control plane, before the order stage starts polling.
class VenueReconciler {
 public:
  virtual ~VenueReconciler() = default;
  virtual absl::Status Reconcile(const OrderManager& oms, ExecSink& sink) = 0;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_RECOVERY_H_
