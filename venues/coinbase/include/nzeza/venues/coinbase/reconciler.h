// CoinbaseReconciler: after recovery from the journal, asks Coinbase what became of the orders
// the journal leaves open, and emits the difference as ExecEvents (oms::VenueReconciler).
//
//   absl::StatusOr<std::unique_ptr<CoinbaseReconciler>> r =
//       CoinbaseReconciler::Create({.rest_host = "api.coinbase.com"}, creds, instruments);
//   absl::Status s = (*r)->Reconcile(oms, sink);   // before the order stage starts
//   if (absl::IsUnavailable(s)) { retry later; do not trade }
//   if (absl::IsDataLoss(s))    { operator: the venue shows orders the journal cannot explain }
//
// Method (GET /api/v3/brokerage/orders/historical/batch, paginated by cursor), both ways:
// 1. every OPEN order the venue holds for this key. One whose client_order_id is ours (decimal)
//    but which the journal lacks or has as finished is a difference. Orders with other client
//    ids (placed by hand or another program on the same key) are foreign: reported (report()
//    .foreign) and, with cancel_foreign_orders, canceled; never a difference.
// 2. the most recent orders of any status (up to max_pages pages), for journal-open orders that
//    are no longer open at the venue; a never-acknowledged order not found is looked for again
//    every 250 ms until unacked_grace has passed (the venue's listing lags). One the lists still do
//    not show but whose venue id the journal has is asked for by id (GET
//    /api/v3/brokerage/orders/historical/{order_id}: not behind the lists' lag).
// For each journal-open order found: kAck if the journal never saw one; for the difference between
// the venue's filled_size and the journal's cum_size, the order's fills from
// GET /api/v3/brokerage/orders/historical/fills?order_ids=... (oldest first, those beyond the
// journal's cumulative size, each with its own price, size, fee and liquidity), each with the
// trade_id the user channel gives its cumulative size (so a replay is a duplicate). When that
// list does not explain the difference exactly (incomplete, unreadable, or the journal's size is
// not at a fill boundary): one kFill for the difference, priced at the venue's average
// (filled_value / filled_size, nearest at the price scale; else average_filled_price), without a
// fee. Then kCanceled / kExpired / kReject (FAILED) when the venue says the order is done, or the
// fills alone complete it. A journal-open order the venue does not know: kReject (kUnknownOrder) if
// it was never acknowledged (it never reached the venue), a difference if it was. Each difference
// is one line in report().differences ("what: journal ..., venue ...").
//
// Thread: control plane; blocks up to `timeout` (each request bounded by request_timeout).
// Allocates.
#ifndef NZEZA_VENUES_COINBASE_RECONCILER_H_
#define NZEZA_VENUES_COINBASE_RECONCILER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nzeza/net/tls.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/recovery.h>
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nzeza/venues/coinbase/instruments.h"
#include "nzeza/venues/coinbase/jwt.h"

namespace nzeza::venues::coinbase {

struct CoinbaseReconcilerOptions {
  std::string rest_host = "api.coinbase.com";
  uint16_t rest_port = 443;
  TlsClientOptions tls{};
  std::string uri_host{};  // JWT uri / Host header; empty: rest_host
  absl::Duration request_timeout = absl::Seconds(10);
  absl::Duration timeout = absl::Seconds(60);  // the whole reconciliation
  int max_pages = 20;                          // of recent orders (step 2)
  // A journal-open order never acknowledged and not listed by the venue is looked for again
  // (the venue lists new orders with a lag) until this has passed, then declared unknown.
  absl::Duration unacked_grace = absl::Seconds(3);
  // Open orders of this key whose client_order_id is not ours: canceled (true) or only reported.
  bool cancel_foreign_orders = false;
  std::function<int64_t()> unix_now_s{};  // null: the system clock
};

struct ReconcileReport {
  int venue_open_orders = 0;
  int foreign_orders = 0;  // open at the venue with a client id that is not ours
  int acks = 0;
  int fills = 0;
  int done = 0;          // canceled / expired / rejected by the venue
  int unknown = 0;       // journal-open orders the venue never saw (rejected)
  int relists = 0;       // recent-orders lookups repeated within unacked_grace
  int rate_limited = 0;  // 429 answers waited out and asked again
  int lookups = 0;       // orders found by venue id (Get Order) that the lists did not show
  int foreign_canceled = 0;
  // One line per difference the journal cannot explain ("what: journal <its view>, venue
  // <the venue's>"): these make Reconcile return DataLoss.
  std::vector<std::string> differences;
  // One line per foreign order (what it is, and whether it was canceled): not a mismatch.
  std::vector<std::string> foreign;
};

class CoinbaseReconciler final : public oms::VenueReconciler {
 public:
  // Errors: InvalidArgument (empty host, TLS options that do not load).
  static absl::StatusOr<std::unique_ptr<CoinbaseReconciler>> Create(
      CoinbaseReconcilerOptions options, CoinbaseCredentials credentials,
      CoinbaseInstruments instruments);
  ~CoinbaseReconciler() override;

  // A 429 is waited out (250 ms, then 1 s) and asked again within `timeout`.
  // Errors: Unavailable (venue unreachable, HTTP error, timeout), DataLoss (see above; events
  // for the other orders were still emitted), Internal (signing failed), InvalidArgument (an
  // answer that is not the documented shape).
  absl::Status Reconcile(const oms::OrderManager& oms, oms::ExecSink& sink) override;
  // Thread: any. Ends a pass in progress at its next wait (Cancelled) and refuses later ones.
  void Abort() noexcept override;
  const ReconcileReport& report() const noexcept { return report_; }

 private:
  class Impl;
  explicit CoinbaseReconciler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ReconcileReport report_;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_RECONCILER_H_
