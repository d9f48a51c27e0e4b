// SettleWorker: reconciliation while the engine runs, after the private execution stream was
// lost (dropped, gapped, silent) and came back. The venue's REST calls are slow and blocking, so
// they run on a control-plane thread of their own; the order stage keeps its single ownership of
// the order manager and the journal:
//
//   order stage                          settle thread
//   -----------                          -------------
//   Begin(); Offer(order)...; Submit() ─► builds a scratch OrderManager from the open orders,
//                                        runs VenueReconciler::Reconcile on it
//   TakeResult(&r) ◄──────────────────── every event and venue id it emits, then kDone
//   journal + apply each (fills counted      (or kFailed / kMismatch with the message)
//   by cumulative size: see below)
//
// Fills from a settle pass are computed from the orders as they were when the pass began, while
// the stream may have delivered some of them since; the order stage applies a settle fill only
// for the cumulative size beyond what the order holds (ExecEvent::cum_size), so nothing counts
// twice whichever arrives first.
//
//   SettleWorker settle(reconciler, {.max_instruments = n});
//   settle.Start();
//   order_stage.SetSettleWorker(&settle);     // before the stage runs
//   ...
//   settle.Stop();                            // after the stage stopped
//
// Thread: Begin/Offer/Submit/TakeResult/busy on the order stage's thread only (SPSC rings);
// Start/Stop on the control plane. Allocates: the order stage's side never; the settle thread
// freely. Errors travel as results: kFailed (the venue could not be asked: Unavailable, a
// timeout; the order stage tries again), kMismatch (the venue shows what the journal cannot
// explain: DataLoss, with the reconciler's message, kept for last_message()).
#ifndef NZEZA_OMS_SETTLE_WORKER_H_
#define NZEZA_OMS_SETTLE_WORKER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <nzeza/core/events.h>
#include <nzeza/core/spsc_ring.h>
#include <nzeza/oms/journal.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/recovery.h>
#include "absl/base/thread_annotations.h"

namespace nzeza::oms {

// One result of a settle pass, in the order the reconciler produced it.
struct SettleResult {
  enum class Kind : uint8_t { kExec = 0, kVenueOrderId = 1, kDone = 2, kFailed = 3, kMismatch = 4 };
  Kind kind = Kind::kDone;
  ExecEvent exec{};             // kExec
  VenueOrderIdRecord venue_id;  // kVenueOrderId
};
static_assert(std::is_trivially_copyable_v<SettleResult>);

struct SettleWorkerOptions {
  size_t max_instruments = 256;      // as the order stage's order manager
  size_t max_orders = 8192;          // open orders one pass can carry
  size_t result_capacity = 1 << 14;  // events in flight back to the order stage
  // Called on the settle thread with a line for the log after each pass (may be empty: none).
  std::function<void(std::string_view)> log{};
};

class SettleWorker {
 public:
  SettleWorker(VenueReconciler& reconciler, SettleWorkerOptions options);
  ~SettleWorker();  // Stop()
  SettleWorker(const SettleWorker&) = delete;
  SettleWorker& operator=(const SettleWorker&) = delete;

  void Start();
  // Ends a pass in progress at its next REST call's end and joins. Idempotent.
  void Stop();

  // Order stage side. Begin: false while a pass is running (its results not all taken).
  // Offer: one open order (false: more than max_orders; the pass then fails). Submit: starts it.
  [[nodiscard]] bool Begin() noexcept;
  [[nodiscard]] bool Offer(const Order& order) noexcept;
  void Submit() noexcept;
  [[nodiscard]] bool TakeResult(SettleResult* out) noexcept;
  bool busy() const noexcept { return busy_; }

  uint64_t passes() const noexcept { return passes_.load(std::memory_order_relaxed); }
  // The last kFailed / kMismatch message (control plane, any thread).
  std::string last_message() const;

 private:
  // One request slot: an order, or the end of the request (`end` set).
  struct Item {
    Order order{};
    bool end = false;
  };
  void Run();
  void RunPass(size_t n);
  void PushResult(const SettleResult& r);

  VenueReconciler& reconciler_;
  SettleWorkerOptions options_;
  SpscRing<Item> requests_;
  SpscRing<SettleResult> results_;
  bool busy_ = false;      // order stage: a pass is out
  bool overflow_ = false;  // order stage: Offer refused one
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> passes_{0};
  mutable std::mutex mu_;
  std::string last_message_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_SETTLE_WORKER_H_
