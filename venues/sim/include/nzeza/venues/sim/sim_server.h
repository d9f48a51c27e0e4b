// The simulated venue's servers: a TLS WebSocket + REST endpoint for clients and a plain-HTTP
// admin endpoint for fault injection, on one I/O thread around a sim::Exchange.
//
//   SimServerOptions o{.tls = *MakeServerTlsContext(cert.cert_pem, cert.key_pem)};
//   absl::StatusOr<std::unique_ptr<SimServer>> s = SimServer::Start(o,
//       [&](const SimServerPorts& p) { config.rest_host = "127.0.0.1:" + std::to_string(p.rest);
//                                      return Exchange::Create(config); });
//   // wss://127.0.0.1:<ws>/ (or /ws), https://127.0.0.1:<rest>/api/v3/brokerage/...,
//   // http://127.0.0.1:<admin>/admin/{fault,account,health}
//   (*s)->InjectFault({.type = FaultType::kGap});
//   (*s)->Stop();                                 // also in the destructor; bounded
//
// Listeners (all on `bind_address`, loopback by default). The WS port and the REST port are two
// TLS listeners that serve the same thing: an HTTP/1.1 request that asks for a WebSocket upgrade
// on "/" or "/ws" becomes a WebSocket session (one sim::WsSession each), any other request is a
// REST request (keep-alive) handed to Exchange::HandleRest. Two ports mirror the real venue's two
// hosts (advanced-trade-ws, api); rest_port == ws_port (non-zero) makes it one listener. The admin
// port is plain HTTP (see below).
//
// WebSocket sessions: a client text frame goes to WsSession::OnClientText, then the session is
// drained. Every `tick_ns` (1 ms) the I/O thread calls Exchange::Advance(now) and drains every
// session; frames are written in order, one write in flight per connection, and a connection
// whose queue exceeds max_ws_queue_bytes (a client that does not read) is dropped. After a REST
// request every session is drained at once, so user-channel updates follow the reply closely.
// `now` is the wall clock (unix ns): clients sign JWTs with theirs.
//
// Faults (SimFault; InjectFault(), the admin endpoint, or scheduled at start):
//   disconnect  close every WebSocket connection abruptly (no close frame); refuse new upgrades
//               (HTTP 503) for `ms`.
//   stall       send no WebSocket frame for `ms` (connections stay open; frames are held, not lost,
//               and go out in order afterwards).
//   gap         drop the next market-data frame (channel l2_data, market_trades, ticker,
//               ticker_batch, candles) of each open connection: the client sees sequence_num skip.
//   duplicate   send the next market-data frame of each open connection twice.
//   malformed   send a truncated copy (its first half) of the next market-data frame of each open
//               connection just before it (so: one undecodable frame, no gap).
//   reject      ExchangeFaults::reject_next_orders = `count`.
//   latency     add `ms` to every REST reply and WebSocket frame from now on (0: none).
//   clear       end a stall, a refusal and added latency; cancel pending gap/duplicate/malformed
//               and rejects (recurring faults, below, are configuration and stay).
// Recurring faults (RecurringFaults, at start): every n-th market-data frame of each connection
// (counted per connection) is dropped, sent twice or preceded by its truncated copy, as the gap,
// duplicate and malformed faults do with the next one; every n-th create-order request fails as a
// reject does.
//
// Admin endpoint (plain HTTP/1.1 on bind_address:admin_port, JSON replies):
//   POST /admin/fault   body {"type":"stall","ms":500} or {"type":"reject","count":3}, or the same
//                       as a query string (/admin/fault?type=gap). 200 {"ok":true,...,
//                       "connections":<WebSocket connections affected>}; 400 naming a bad field.
//   GET /admin/account?key=<key name, percent-encoded>  the Exchange::Account as JSON; 404 when
//                       the key is unknown.
//   GET /admin/totals   Exchange::Totals() as a JSON array (mantissas as integers).
//   GET /admin/health   {"status":"ok", counters...}
//
// Thread: Start/Stop/InjectFault/Account/stats from any thread (the last three wait, bounded, for
// the I/O thread). The Exchange is only ever touched on the I/O thread.
#ifndef NZEZA_VENUES_SIM_SIM_SERVER_H_
#define NZEZA_VENUES_SIM_SIM_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nzeza/net/tls.h"
#include "nzeza/venues/sim/exchange.h"

namespace nzeza::sim {

enum class FaultType : uint8_t {
  kClear,
  kDisconnect,
  kStall,
  kGap,
  kDuplicate,
  kMalformed,
  kReject,
  kLatency,
};

// "disconnect", "stall", ... (the admin endpoint's and the config's spelling).
std::string_view FaultTypeName(FaultType type);
// The inverse. Errors: InvalidArgument listing the valid names.
absl::StatusOr<FaultType> ParseFaultType(std::string_view name);

// One fault (see the file comment for what each does with `ms` and `count`).
struct SimFault {
  FaultType type = FaultType::kClear;
  int64_t ms = 0;     // disconnect: refuse new upgrades this long; stall, latency: duration/added
  int64_t count = 0;  // reject: how many create-order requests fail
};

// A fault applied `at_ms` after start, then every `every_ms` if positive.
struct ScheduledFault {
  SimFault fault = {};
  int64_t at_ms = 0;
  int64_t every_ms = 0;
};

// Faults that recur by count; 0: off. See the file comment.
struct RecurringFaults {
  int64_t gap_every_n = 0;        // market-data frames, per connection
  int64_t duplicate_every_n = 0;  // market-data frames, per connection
  int64_t malformed_every_n = 0;  // market-data frames, per connection
  int64_t reject_every_n = 0;     // create-order requests (ExchangeFaults::reject_every_n)
};

struct SimServerPorts {
  uint16_t ws = 0;
  uint16_t rest = 0;
  uint16_t admin = 0;
};

struct SimServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t ws_port = 0;  // 0: ephemeral
  uint16_t rest_port = 0;
  uint16_t admin_port = 0;
  TlsContext tls = {};  // server context (MakeServerTlsContext); required
  int64_t tick_ns = 1'000'000;
  std::vector<ScheduledFault> faults = {};
  RecurringFaults recurring = {};  // negative counts are refused (InvalidArgument)
  size_t max_ws_queue_bytes = 64u << 20;
  size_t max_request_bytes = 1u << 20;  // REST / admin request bodies and client WS frames
};

// Counters, read from any thread.
struct SimServerStats {
  uint64_t ws_accepted = 0;      // WebSocket sessions opened
  uint64_t ws_open = 0;          // open now
  uint64_t ws_refused = 0;       // upgrades refused (disconnect fault)
  uint64_t ws_dropped_slow = 0;  // dropped: queue over max_ws_queue_bytes
  uint64_t ws_frames_in = 0;
  uint64_t ws_frames_out = 0;
  uint64_t rest_requests = 0;
  uint64_t admin_requests = 0;
  uint64_t faults_applied = 0;
  uint64_t frames_dropped = 0;     // gap
  uint64_t frames_duplicated = 0;  // duplicate
  uint64_t frames_malformed = 0;   // malformed
};

class SimServer {
 public:
  // Builds the Exchange once the ports are bound (so its rest_host can name the REST port).
  using ExchangeFactory =
      std::function<absl::StatusOr<std::unique_ptr<Exchange>>(const SimServerPorts& ports)>;

  // Binds the listeners, creates the Exchange and starts the I/O thread. Errors: InvalidArgument
  // (no TLS context, a bad bind address or tick), Unavailable naming the port that cannot be
  // bound, or the factory's error.
  static absl::StatusOr<std::unique_ptr<SimServer>> Start(SimServerOptions options,
                                                          ExchangeFactory factory);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  const SimServerPorts& ports() const;

  // Applies a fault on the I/O thread and waits for it (at most 5 s). Returns how many WebSocket
  // connections it affected. Errors: FailedPrecondition after Stop(), DeadlineExceeded.
  absl::StatusOr<int> InjectFault(const SimFault& fault);
  // Exchange::Account, read on the I/O thread. Errors: as InjectFault.
  absl::StatusOr<AccountView> Account(std::string_view key_name);
  SimServerStats stats() const;

  // Closes every listener and connection and joins the I/O thread (at most ~2 s even with
  // clients connected; the Exchange lives until the destructor). Idempotent.
  void Stop();

 private:
  class Impl;
  explicit SimServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// AccountView / Totals() as the admin endpoint's JSON.
std::string AccountViewJson(const AccountView& view);
std::string TotalsJson(const std::vector<ProductTotals>& totals);

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_SIM_SERVER_H_
