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
#include <string>
#include <string_view>
#include <vector>

#include <nzeza/core/events.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nzeza::oms {

// Applies one journal record to `oms` (OrderCmd → OnCmd, ExecEvent → OnExec, VenueOrderIdRecord
// → SetVenueOrderId; a kClockAnchor changes no order: kApplied); records of unknown type or size
// are skipped and return kInvalid.
// Thread: the owner of `oms`.
OmsResult ReplayRecord(const JournalRecord& record, OrderManager* oms) noexcept;

// The realized PnL and fees of one instrument's fills within a trading day, by Position's
// arithmetic (positions.h): realized at price + size scale, gross of fees; fees at the venue's
// fee scale (ExecEvent::fee).
struct DayPnl {
  __int128 realized = 0;
  int64_t fees = 0;
  uint64_t fills = 0;
};

struct DayPnlReport {
  std::vector<DayPnl> instruments;  // indexed by InstrumentId, size options.max_instruments
  uint64_t fills_today = 0;         // fills applied at or after the day start
  uint64_t fills_earlier = 0;       // fills applied before it (not counted)
  // Fills with no anchor before them and no venue time (a journal from before clock anchors):
  // counted toward today, so a loss is never forgotten (a gain then counts too).
  uint64_t fills_undated = 0;
  uint64_t anchors = 0;  // kClockAnchor records seen
};

// Rebuilds the trading day's realized PnL and fees per instrument from journal records, so risk's
// max_daily_loss holds across a restart (RiskCore::SeedDayPnl). Records go through an
// OrderManager of its own, built with the options the order stage's has, so exactly the fills
// the live order manager applied count (duplicates by trade id are not counted again) and each
// at the position it met. A fill's time is its record's timestamp mapped to Unix time by the
// latest kClockAnchor before it (the time it arrived, as live risk counts it); without an anchor,
// ExecEvent::venue_ns where non-zero; else undated (counted). A fill counts when that time is at
// or after `day_start_unix_ns` (TradingDayStart of now, risk_config.h).
//
//   oms::DayPnlReplay day(TradingDayStart(WallClock::NowNanos(), cfg.day_boundary_ns), options);
//   ReadJournal(dir, [&](const JournalRecord& r) { day.Visit(r); });
//   risk.SeedDayPnl(id, day.report().instruments[id].realized, ...);
//
// Thread: any one thread. Allocates: the order manager's tables, at construction.
class DayPnlReplay {
 public:
  DayPnlReplay(int64_t day_start_unix_ns, OrderManager::Options options);
  // Records in journal order. Complexity: O(1) expected per record.
  void Visit(const JournalRecord& record) noexcept;
  const DayPnlReport& report() const noexcept { return report_; }

 private:
  int64_t day_start_;
  OrderManager oms_;
  DayPnlReport report_;
  bool anchored_ = false;
  int64_t unix_minus_mono_ = 0;
};

// DayPnlReplay over the journal in `dir`, read without modifying it (ReadJournal: also safe while
// this process's Journal has it open, e.g. after start-up reconciliation appended to it).
// Errors: those of ReadJournal.
absl::StatusOr<DayPnlReport> ReplayDayPnl(const std::string& dir, int64_t day_start_unix_ns,
                                          OrderManager::Options options);

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
  // From another thread: a Reconcile in progress returns (Cancelled) at its next wait instead of
  // running to its timeout; later calls return Cancelled at once. For shutdown. Default: none.
  virtual void Abort() noexcept {}
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_RECOVERY_H_
