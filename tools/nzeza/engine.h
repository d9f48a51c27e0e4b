// Engine: the nzeza process's pipeline, assembled from its configuration: the venue (the embedded
// simulated venue on loopback, or Coinbase Advanced Trade with real credentials), the feed-decode,
// signal, risk and order stages on the configured workers, the journal with recovery and venue
// reconciliation, and the operations endpoint.
//
//   absl::StatusOr<std::unique_ptr<Engine>> e = Engine::Create(config, logger);  // connects,
//   recovers if (!e.ok()) { /* clear error; nothing was sent */ }
//   (*e)->Start();                       // workers and ops endpoint
//   ... every second: (*e)->Snapshot() -> status line
//   (*e)->Shutdown();                    // kill switch: cancel working orders, then stop, flush
//   RunSummary s = (*e)->Summary();
//
// Thread: the control thread calls everything; the stages run on the workers.
#ifndef NZEZA_TOOLS_NZEZA_ENGINE_H_
#define NZEZA_TOOLS_NZEZA_ENGINE_H_

#include <memory>

#include <absl/status/statusor.h>
#include <absl/time/time.h>
#include <nzeza/app/config.h>
#include <nzeza/app/logger.h>
#include <nzeza/app/summary.h>

namespace nzeza::app {

class Engine {
 public:
  // Starts the embedded simulated venue when configured, loads credentials, opens and recovers the
  // journal, reconciles recovered orders with the venue, connects the order entry and market data.
  // Errors: InvalidArgument / PermissionDenied (credentials, configuration), Unavailable (the venue
  // cannot be reached), DataLoss (journal damage, or a reconciliation mismatch when
  // block_on_reconcile_mismatch). Nothing is sent to the venue before every check passed.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineConfig& config, Logger* log);
  virtual ~Engine() = default;

  // Starts the workers (pinned and waiting as configured) and the operations endpoint.
  virtual absl::Status Start() = 0;
  // Live figures for the status line (relaxed reads of the stages' counters).
  virtual RunSummary Snapshot() const = 0;
  // Stops taking signals (kill switch), waits up to `cancel_timeout` for working orders to be
  // canceled, stops the workers, closes the journal (synced). Idempotent.
  virtual absl::Status Shutdown(absl::Duration cancel_timeout) = 0;
  // The final summary, with positions and latency percentiles. After Shutdown.
  virtual RunSummary Summary() const = 0;
  // Logs what happened since the last call that the stages cannot log themselves (breaker
  // transitions with their causes). Control thread; call it from the main loop.
  virtual void LogEvents() = 0;
  // The operations endpoint's port (0 when disabled).
  virtual uint16_t ops_port() const = 0;
};

}  // namespace nzeza::app

#endif  // NZEZA_TOOLS_NZEZA_ENGINE_H_
