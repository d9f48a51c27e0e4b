// WsClient: a WebSocket client session (RFC 6455) over TLS (or, when asked for explicitly, plain
// TCP), on Boost.Beast, driven by its owner's Poll() instead of a thread of its own.
//
//   WsClient ws(WsClientOptions{.host = "127.0.0.1", .port = 8443, .target = "/ws",
//                               .tls_context = *MakeClientTlsContext({.ca_pem = sim_ca})},
//               {.on_open = [&] { ws.Send(R"({"type":"subscribe",...})"); },
//                .on_message = [&](const char* data, size_t n, int64_t recv_ns) { Decode(...); },
//                .on_close = [&](const absl::Status& why) { MarkStale(why); }});
//   ws.Start();
//   for (;;) ws.Poll();        // in the feed stage's Poll(); never blocks
//
// Connection: resolve, TCP connect (TCP_NODELAY), TLS handshake with SNI and certificate + host
// name verification (a DNS name, or an IP address literal), WebSocket handshake. Every failure,
// an idle timeout (no frame for `idle_timeout`; the client pings after half of it) and a close by
// the server lead to a reconnect after an exponential backoff with jitter, and on_open runs again
// so the owner resubscribes. Close() ends the session for good.
//
// Receive path: frames are read into one reused buffer; on_message gets a pointer to the payload
// with at least kReceivePadding readable bytes after it (simdjson's padding), so a decoder never
// copies. After warm-up (the buffer has grown to the largest message) a message costs no
// allocation.
//
// Thread: every method, and every callback, runs on the thread that calls Poll(). Allocates: on
// connect, in Send() (control plane: subscriptions), and when a message is larger than any
// before it.
#ifndef NZEZA_NET_WS_CLIENT_H_
#define NZEZA_NET_WS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nzeza/net/tls.h"

namespace nzeza {

class TscClock;

// Readable bytes guaranteed after every payload handed to on_message (>= SIMDJSON_PADDING).
inline constexpr size_t kReceivePadding = 64;

struct WsClientOptions {
  std::string host;  // DNS name or IP literal: the TCP peer, the SNI name and the name
                     // the certificate must carry
  uint16_t port = 443;
  std::string target = "/";  // request path (and query)
  // TLS context from MakeClientTlsContext(). Null means plain ws://, which must be asked for with
  // allow_plaintext; otherwise Start() refuses.
  TlsContext tls_context;
  bool allow_plaintext = false;
  absl::Duration connect_timeout = absl::Seconds(10);  // TCP + TLS + WebSocket handshakes
  absl::Duration idle_timeout = absl::Seconds(30);     // no frame at all: ping, then reconnect
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(30);
  double backoff_jitter = 0.2;           // each delay is scaled by a random factor 1 ± jitter
  size_t max_message_bytes = 16u << 20;  // larger frames fail the connection
  int max_reconnects = -1;               // -1: no limit; else the session ends after this many
  const TscClock* clock = nullptr;       // receive timestamps; null: CLOCK_MONOTONIC
};

struct WsCallbacks {
  // The session is open (first time and after every reconnect): send subscriptions here.
  std::function<void()> on_open;
  // One complete text or binary message. `data` stays valid until on_message returns, and
  // `data + size` has kReceivePadding more readable bytes.
  std::function<void(const char* data, size_t size, int64_t recv_ns)> on_message;
  // The session dropped (the status says why) or ended; a reconnect follows unless Close() was
  // called or max_reconnects was reached.
  std::function<void(const absl::Status& why)> on_close;
};

struct WsCounters {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t connects = 0;       // sessions that reached the open state
  uint64_t reconnects = 0;     // connection attempts after the first
  uint64_t failures = 0;       // attempts or sessions that ended in an error
  uint64_t sends_dropped = 0;  // Send() while not open
};

class WsClient {
 public:
  enum class State : uint8_t { kIdle, kConnecting, kOpen, kBackoff, kClosed };

  WsClient(WsClientOptions options, WsCallbacks callbacks);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Begins connecting. Errors: InvalidArgument for an empty host, a plaintext session not asked
  // for, or absurd timeouts; FailedPrecondition if already started.
  absl::Status Start();
  // Runs whatever is ready (I/O completions, timers); never blocks. Returns the number of
  // messages delivered.
  int Poll() noexcept;
  // Queues a text frame; frames go out in order while open. Dropped (and counted) when not open:
  // subscriptions belong in on_open.
  void Send(std::string text);
  // Drops the session now (no close handshake: the peer's state is not trusted) and reconnects
  // after the usual backoff; on_close runs with `why`. Nothing happens unless connecting or open.
  // `why` must be a static string.
  void Reconnect(const char* why);
  // Closes the session (WebSocket close handshake if open) and stops reconnecting.
  void Close();

  State state() const noexcept;
  const WsCounters& counters() const noexcept;
  // Why the last attempt or session failed (OK if none has).
  absl::Status last_error() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza

#endif  // NZEZA_NET_WS_CLIENT_H_
