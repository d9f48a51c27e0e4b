// CoinbaseGateway: the order stage's OrderGateway for Coinbase Advanced Trade. REST order entry
// over one keep-alive HTTPS connection (nzeza::net::HttpsClient), order updates and fills from
// the authenticated user channel (nzeza::net::WsClient).
//
//   absl::StatusOr<std::unique_ptr<CoinbaseGateway>> gw = CoinbaseGateway::Create(
//       {.rest_host = "api.coinbase.com", .ws_host = "advanced-trade-ws-user.coinbase.com"},
//       *CoinbaseCredentials::FromPem(name, pem), instruments);
//   (*gw)->Start();                          // user channel connects, token pool fills
//   SendStatus s = (*gw)->Send(cmd, now_ns); // order stage
//   (*gw)->Poll(sink);                       // acks/rejects (REST), fills/cancels (user channel)
//
// Send:
//   kNew       POST /api/v3/brokerage/orders with a pooled JWT (or one signed inline when the
//              pool is dry: counted in inline_signs). kEncodeError for an unknown instrument or an
//              order Coinbase cannot express; kQueueFull when max_orders are working or
//              max_in_flight requests wait.
//   kCancel    POST /api/v3/brokerage/orders/batch_cancel with the venue's order id; kEncodeError
//              while the order has no venue id yet (not acked) or is unknown.
//   kCancelAll batch_cancel of every working order with a venue id (100 per request).
//   kReplace   kEncodeError (Coinbase's edit-order is not supported here).
// Poll events:
//   create-order answer: success -> kAck (unless the user channel acked first); failure or HTTP
//   error -> kReject with the mapped VenueReject; no answer within request_timeout -> kReject
//   with kTimeout, and a transport failure after sending -> kReject kVenueUnavailable: the order
//   stays tracked, so if it did reach the venue its user-channel events still arrive and
//   reconciliation settles it.
//   batch_cancel answer: a failed result or HTTP error -> kCancelReject (reason mapped); success
//   -> nothing (the user channel reports CANCELLED).
//   user channel: see user_channel.h. A sequence gap sets needs_reconcile().
//
// Allocation: encoding (body, request bytes, token) allocates nothing after warm-up; handing the
// bytes to HttpsClient does (a std::string copy of the request, the client's queue entry and
// callback), as does HttpsClient's response path (response headers). That is the transport's
// cost, outside the encoder; see the report in docs/ for the measured split.
//
// Thread: everything on the order stage's thread. Lifetime: the sink passed to Poll is used only
// during that call.
#ifndef NZEZA_VENUES_COINBASE_GATEWAY_H_
#define NZEZA_VENUES_COINBASE_GATEWAY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nzeza/net/https_client.h>
#include <nzeza/net/tls.h>
#include <nzeza/net/ws_client.h>
#include <nzeza/oms/gateway.h>
#include <nzeza/oms/recovery.h>
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nzeza/venues/coinbase/instruments.h"
#include "nzeza/venues/coinbase/jwt.h"
#include "nzeza/venues/coinbase/jwt_pool.h"
#include "nzeza/venues/coinbase/order_table.h"
#include "nzeza/venues/coinbase/user_channel.h"

namespace nzeza::venues::coinbase {

struct CoinbaseGatewayOptions {
  std::string rest_host = "api.coinbase.com";
  uint16_t rest_port = 443;
  std::string ws_host = "advanced-trade-ws-user.coinbase.com";
  uint16_t ws_port = 443;
  std::string ws_target = "/";
  // Trust: system CAs by default; ca_file / ca_pem for the simulated venue (verification stays on).
  TlsClientOptions tls{};
  // Host in the JWT uri claim and the Host header; empty: rest_host (Coinbase: api.coinbase.com).
  std::string uri_host{};
  absl::Duration request_timeout = absl::Seconds(5);
  absl::Duration connect_timeout = absl::Seconds(5);
  size_t max_orders = 4096;    // working orders tracked at once
  size_t max_in_flight = 256;  // REST requests queued or in flight
  JwtPoolOptions jwt_pool{};
  int pool_mints_per_idle_poll = 1;  // signatures Poll() may spend when it found nothing to do
  bool user_channel = true;          // connect the user channel (tests of REST alone: false)
  // Unix seconds for JWT nbf/exp; null: the system clock.
  std::function<int64_t()> unix_now_s{};
};

struct CoinbaseGatewayCounters {
  uint64_t sent = 0;     // requests handed to the connection
  uint64_t acks = 0;     // from REST answers
  uint64_t rejects = 0;  // from REST answers (incl. timeouts and transport failures)
  uint64_t timeouts = 0;
  uint64_t cancel_rejects = 0;
  uint64_t inline_signs = 0;  // the token pool was dry
  uint64_t encode_errors = 0;
  uint64_t malformed_responses = 0;
  uint64_t user_channel_connects = 0;
};

class CoinbaseGateway final : public oms::OrderGateway {
 public:
  // Errors: InvalidArgument (empty hosts, no instruments, a TLS option that does not load).
  static absl::StatusOr<std::unique_ptr<CoinbaseGateway>> Create(CoinbaseGatewayOptions options,
                                                                 CoinbaseCredentials credentials,
                                                                 CoinbaseInstruments instruments);
  ~CoinbaseGateway() override;

  // Connects the user channel and fills the token pool (control plane: signs up to the pool's
  // capacity). Errors: those of WsClient::Start.
  absl::Status Start();

  [[nodiscard]] oms::SendStatus Send(const OrderCmd& cmd, int64_t now_ns) noexcept override;
  int Poll(oms::ExecSink& sink) noexcept override;
  // The user channel is open (fills are visible). REST connects on the first order.
  bool ready() const noexcept override;
  std::string_view name() const noexcept override { return "coinbase"; }

  // Tracks an order recovered from the journal, so the user channel's events for it map back
  // (venue_order_id may be empty until an update names it). False when the table is full.
  bool TrackRecovered(uint64_t client_order_id, InstrumentId instrument, Side side, int64_t size,
                      int64_t cum_size, std::string_view venue_order_id);

  // A sequence gap on the user channel: the caller should reconcile, then ClearReconcile().
  bool needs_reconcile() const noexcept;
  void ClearReconcile() noexcept;

  const CoinbaseGatewayCounters& counters() const noexcept;
  const UserChannelCounters& user_channel_counters() const noexcept;
  const JwtPoolCounters& jwt_pool_counters() const noexcept;
  const HttpsCounters& https_counters() const noexcept;
  size_t working_orders() const noexcept;

 private:
  class Impl;
  explicit CoinbaseGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_GATEWAY_H_
