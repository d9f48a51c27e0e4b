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
//   withhold_create  the next `count` (0: 1) create-order requests (authenticated POST
//               /api/v3/brokerage/orders inside the rate limit, whatever their outcome) are
//               executed as usual (the order is placed, matches, shows on the user channel and in
//               the list endpoints) but the HTTP reply is withheld: `ms` = 0 never sends it, the
//               connection stays open and silent (the client times out; what else it sends on
//               that connection is read and discarded, never answered, and the connection closes
//               when the client closes it); `ms` > 0 sends it after `ms` (instead of any added
//               latency). HTTP/1.1 answers in order, so later requests on that connection wait
//               behind it (they are not read until it is sent); other connections are never
//               held up. Sets the count (does not add to it).
//   withhold_cancel  the same for batch_cancel requests (the cancel is executed, its reply
//               withheld).
//   error_after_accept  the next `count` (0: 1) create-order requests are executed (the order
//               placed) and answered HTTP 503 {"error":"UNAVAILABLE","error_details":...,
//               "message":"Service Unavailable"}. Sets the count.
//   user_disconnect  close abruptly (no close frame) every WebSocket connection with a `user`
//               subscription (only those of `key`'s account when `key` is given); connections
//               without one are untouched. Then for `ms` the user channel is down for that
//               account (every account without `key`): its user-channel updates are dropped,
//               not queued (matching goes on; fills made meanwhile are visible later through
//               List Orders / List Fills), and a connection that subscribes to `user` meanwhile
//               is closed abruptly at once (no reply). After `ms`, a subscribe gets the usual
//               subscriptions reply and a snapshot of the open orders. "connections": how many
//               were closed.
//   duplicate_user  each of the next `count` (0: 1) user-channel frames of each open connection
//               is sent twice (same sequence_num). Adds to what is pending.
//   reorder_user  the next `count` (0: 1) pairs of user-channel frames of each open connection
//               go out in swapped order (the client sees sequence_num go back by one). The
//               first frame of a pair waits for the second at most 1 s, then goes alone (that
//               pair is not counted). Adds to what is pending.
//   foreign_order  place a resting buy on `key`'s account (empty: the first API key) as another
//               client of the same key would: first product, base_min_size at half the mid,
//               client_order_id "manual-<n>" (Exchange::PlaceForeignOrder). The admin reply
//               adds "order_id", "client_order_id", "product_id", "limit_price", "base_size".
//               Errors: 404 for an unknown key, 409 when the venue refuses the order.
//   list_lag    from now on orders created are left out of List Orders
//               (/orders/historical/batch) for `ms` after their creation (Coinbase's indexing
//               lag); Get Order and List Fills see them at once. `ms` = 0 turns it off and lists
//               every order again at once.
//   clear       end a stall, a refusal, added latency, a user-channel outage and list lag; cancel
//               pending gap/duplicate/malformed/duplicate_user/reorder_user (a frame held for a
//               reorder goes out), rejects, withholds and error_after_accept (replies already
//               withheld stay so). Recurring faults, below, are configuration and stay.
// Recurring faults (RecurringFaults, at start): every n-th market-data frame of each connection
// (counted per connection) is dropped, sent twice or preceded by its truncated copy, as the gap,
// duplicate and malformed faults do with the next one; every n-th create-order request fails as a
// reject does.
//
// Admin endpoint (plain HTTP/1.1 on bind_address:admin_port, JSON replies):
//   POST /admin/fault   body {"type":"stall","ms":500} or {"type":"reject","count":3} (fields:
//   type,
//                       ms, count, key), or the same as a query string (/admin/fault?type=gap).
//                       200 {"ok":true,"type":...,"ms":...,"count":...,"connections":<WebSocket
//                       connections affected>}; 400 naming a bad field.
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
  kWithholdCreate,
  kWithholdCancel,
  kErrorAfterAccept,
  kUserDisconnect,
  kDuplicateUser,
  kReorderUser,
  kForeignOrder,
  kListLag,
};

// "disconnect", "stall", ... (the admin endpoint's and the config's spelling).
std::string_view FaultTypeName(FaultType type);
// The inverse. Errors: InvalidArgument listing the valid names.
absl::StatusOr<FaultType> ParseFaultType(std::string_view name);
// Every fault name, comma-separated ("clear, disconnect, ..."), for error messages.
std::string FaultTypeNames();

// One fault (see the file comment for what each does with `ms` and `count`).
struct SimFault {
  FaultType type = FaultType::kClear;
  int64_t ms = 0;     // disconnect: refuse new upgrades this long; stall, latency: duration/added;
                      // withhold_*: delay (0: never); user_disconnect: outage; list_lag: lag
  int64_t count = 0;  // reject, withhold_*, error_after_accept, duplicate_user, reorder_user
  std::string key = {};  // user_disconnect, foreign_order: the API key's name (empty: all/first)
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
  uint64_t frames_dropped = 0;          // gap
  uint64_t frames_duplicated = 0;       // duplicate
  uint64_t frames_malformed = 0;        // malformed
  uint64_t replies_withheld = 0;        // withhold_create / withhold_cancel replies held back
  uint64_t user_disconnects = 0;        // connections closed by user_disconnect (and refused
                                        // user subscribes during the outage)
  uint64_t user_frames_duplicated = 0;  // duplicate_user
  uint64_t user_frames_reordered = 0;   // reorder_user: pairs swapped
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
  // connections it affected. Errors: FailedPrecondition after Stop(), DeadlineExceeded,
  // InvalidArgument (ms or count out of range), foreign_order's (NotFound, FailedPrecondition).
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
