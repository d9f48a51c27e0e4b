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
//   kCancel    POST /api/v3/brokerage/orders/batch_cancel with the venue's order id, on a
//              connection of its own (a cancel never waits behind a create). The cancels of one
//              batch of commands leave together at Flush(): one request per 100 orders. For an
//              order not acked yet (no venue id) the cancel waits in the gateway and goes out as
//              soon as the id is known (REST answer, user channel, status query): kSent, never a
//              refusal that would make the caller retry. kEncodeError for an order the gateway does
//              not track.
//   kCancelAll batch_cancel of every working order (100 per request); those without a venue id
//              wait for it as above.
//   kReplace   kEncodeError (Coinbase's edit-order is not supported here).
// Poll events:
//   create-order answer: success -> kAck (unless the user channel acked first) and the venue's id
//   (ExecSink::OnVenueOrderId); a refusal the venue made (4xx, success:false) -> kReject with the
//   mapped VenueReject. No definite answer (no response within request_timeout, a transport
//   failure, HTTP 5xx, a body that does not decode) -> kInDoubt (request kNew, reject_code
//   kTimeout / kVenueUnavailable / kMalformedResponse): the order stays tracked, and a status
//   query follows: the same create sent again after 250 ms, doubling to 8 s. Coinbase answers a
//   repeated client_order_id with the original order (and places it only if the first never
//   arrived, which the engine then holds as working: risk kept its exposure all along). Its
//   success is the ack; a refusal of the order itself (funds, price, size) is the reject; an
//   answer that says nothing about the order (no answer, 5xx, 429, 401/403) keeps it in doubt and
//   the query is repeated. The user channel settles it too, whichever comes first.
//   batch_cancel answer: a failed result or a 4xx -> kCancelReject (reason mapped); no definite
//   answer (as above) -> kInDoubt (request kCancel) for each order still tracked: it stays
//   working until the venue reports it canceled; success -> nothing (the user channel reports
//   CANCELLED).
//   user channel: see user_channel.h; subscribed with heartbeats. Its state goes to
//   ExecSink::OnSession: kExecStreamLost when the connection drops, the sequence gaps (a
//   duplicated or reordered frame too) or nothing arrives for exec_silence_timeout (then it is
//   reconnected); kExecStreamRestored once messages flow again. The order stage then reconciles.
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
  // No message at all (heartbeats included) for this long: the stream is lost (and reconnected).
  absl::Duration exec_silence_timeout = absl::Seconds(5);
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
  uint64_t in_doubt = 0;              // kInDoubt events emitted (creates and cancels)
  uint64_t status_queries = 0;        // repeated creates sent to settle an in-doubt create
  uint64_t resolved = 0;              // in-doubt creates settled by a status query
  uint64_t deferred_cancels = 0;      // cancels that waited for the venue's order id
  uint64_t exec_stream_losses = 0;    // kExecStreamLost reported (drop, gap or silence)
  uint64_t exec_stream_gaps = 0;      // of which: user-channel sequence gaps
  uint64_t exec_stream_silences = 0;  // of which: nothing for exec_silence_timeout
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
  // Sends the batch's cancels as one batch_cancel (up to 100 ids per request).
  void Flush(int64_t now_ns) noexcept override;
  // The user channel is open and delivering (a message arrived since it opened): fills are
  // visible. REST connects on the first order.
  bool ready() const noexcept override;
  std::string_view name() const noexcept override { return "coinbase"; }

  // Tracks an order recovered from the journal (its venue id included, when the journal has it),
  // so the user channel's events for it map back and it can be canceled. An order the journal
  // never saw acknowledged is tracked as not acked: its cancel waits for the venue's id.
  // False when the table is full.
  bool TrackRecovered(const oms::Order& order) noexcept override;
  // Drops a finished order from the table (its in-doubt and deferred-cancel entries lapse).
  void Forget(uint64_t client_order_id) noexcept override;

  const CoinbaseGatewayCounters& counters() const noexcept;
  const UserChannelCounters& user_channel_counters() const noexcept;
  const JwtPoolCounters& jwt_pool_counters() const noexcept;
  const HttpsCounters& https_counters() const noexcept;
  size_t working_orders() const noexcept;
  size_t in_doubt_orders() const noexcept;  // creates waiting for a status query's answer

 private:
  class Impl;
  explicit CoinbaseGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_GATEWAY_H_
