// HttpsClient: a keep-alive HTTP/1.1 client over TLS (or, when asked for explicitly, plain TCP) on
// Boost.Beast, driven by its owner's Poll() like WsClient: REST book snapshots and instrument
// metadata for the feeds, order entry for the venues.
//
//   HttpsClient http(HttpsClientOptions{.host = "127.0.0.1", .port = 8443,
//                                       .tls_context = *MakeClientTlsContext({.ca_pem = ca})});
//   http.Request({.method = HttpMethod::kGet, .target = "/api/v3/depth?symbol=BTCUSDT&limit=1000"},
//                [](const HttpResponse& r) {
//                  if (!r.transport.ok()) { /* connect/TLS/timeout/parse failure */ }
//                  else if (r.status == 200) { Decode(r.body.data(), r.body.size()); }
//                });
//   for (;;) http.Poll();   // in a stage's Poll(); never blocks
//
// One connection, opened on the first request and kept alive; requests are sent one at a time in
// the order queued (no pipelining), each with its own timeout. A connection the server closed, or
// one that failed, is reopened for the next request; a request that was in flight on a failed
// connection completes with a transport error (never silently retried: an order entry request
// must not be sent twice without the caller deciding so). A read is outstanding whenever the
// connection is open, so a close while idle (keep-alive expiry) is noticed and the next request
// goes on a new connection; only a request written just as the server closes (the keep-alive race
// every HTTP/1.1 client has) fails with Unavailable, and the caller decides whether to resend it.
//
// TLS: SNI and certificate + host name verification exactly as WsClient (see tls.h).
//
// Response: status code, the headers (looked up by case-insensitive name), and the body, which has
// kReceivePadding readable (zeroed) bytes after it (simdjson can parse it in place, no copy).
// Bodies larger than max_body_bytes fail the request (transport error ResourceExhausted).
//
// Thread: every method and callback runs on the thread that calls Poll(). Allocates: per request
// (control plane), on connect, and while reading bodies larger than any before.
//
// Lifetime: Close() and the destructor run the callbacks of pending requests (Cancelled) before
// they return, so whatever a callback captures must outlive the client (declare the client after
// what its callbacks use, or Close() it first). A callback must not throw: an exception is caught,
// counted (callback_errors) and dropped, so the other callbacks still run exactly once.
#ifndef NZEZA_NET_HTTPS_CLIENT_H_
#define NZEZA_NET_HTTPS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nzeza/net/tls.h"
#include "nzeza/net/ws_client.h"  // kReceivePadding, shared with WsClient

namespace nzeza {

class TscClock;

enum class HttpMethod : uint8_t { kGet, kPost, kDelete, kPut };

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string target = "/";  // path and query
  // The {} initializers let callers use designated initializers without g++'s
  // -Wmissing-field-initializers.
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers (Authorization ...)
  std::string body{};                                          // sent with Content-Length if set
  std::string content_type{};                                  // e.g. "application/json"
  // When not empty: the complete request (request line, headers, body) exactly as it goes on the
  // wire, for callers that encode their own bytes (venue order entry). method, headers, body and
  // content_type are then ignored (target still names the request in errors); the bytes must be
  // one HTTP/1.1 request for this connection's host, with Content-Length when it has a body.
  std::string raw{};
};

struct HttpResponse {
  // OK when a complete response arrived (whatever its status code). Otherwise: Unavailable
  // (resolve, connect, TLS handshake or verification, I/O error, connection closed before the
  // response was complete, malformed response), DeadlineExceeded (connect_timeout or
  // request_timeout), ResourceExhausted (body over max_body_bytes), Cancelled (Close(),
  // destructor).
  absl::Status transport;
  int status = 0;         // HTTP status code (0 when transport failed)
  std::string_view body;  // valid during the callback; kReceivePadding readable bytes after it
  int64_t sent_ns = 0;    // monotonic: request written
  int64_t recv_ns = 0;    // monotonic: response complete
  // A response header by (case-insensitive) name; "" when absent.
  std::string_view Header(std::string_view name) const noexcept;
  // Internal: the headers, valid during the callback (views into the parser's storage).
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

struct HttpsClientOptions {
  std::string host{};  // DNS name or IP literal (TCP peer, SNI, the name the certificate carries)
  uint16_t port = 443;
  TlsContext tls_context{};  // null means plain http://, which needs allow_plaintext
  bool allow_plaintext = false;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(10);  // write + full response
  size_t max_body_bytes = 64u << 20;
  std::string user_agent = "nzeza/0.1";
  const TscClock* clock = nullptr;  // timestamps; null: CLOCK_MONOTONIC
};

struct HttpsCounters {
  uint64_t requests = 0;   // completed with a response
  uint64_t failures = 0;   // completed with a transport error
  uint64_t connects = 0;   // connections opened
  uint64_t reused = 0;     // requests sent on an already-open connection
  uint64_t cancelled = 0;  // completed with Cancelled (Close() or destruction); not in failures
  uint64_t callback_errors = 0;  // exceptions caught and dropped: thrown by callbacks (or,
                                 // from Poll() itself, an allocation failure)
};

class HttpsClient {
 public:
  using Callback = std::function<void(const HttpResponse&)>;

  // Errors from Start-like validation are reported by Request (InvalidArgument).
  explicit HttpsClient(HttpsClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Queues a request; `done` runs from a later Poll() exactly once (also on failure), or from
  // Close() or the destructor with transport Cancelled if still pending then. A connect failure
  // (resolve, TCP, TLS, connect_timeout) fails every request waiting for that connection: none
  // was sent. Errors (done is not called): InvalidArgument for an empty host, a plaintext client
  // not asked for, or a timeout that is not positive; FailedPrecondition while Close() or the
  // destructor is running (from a callback).
  absl::Status Request(HttpRequest request, Callback done);
  // The hot path (venue order entry): Request() with HttpRequest::raw = `bytes` (one complete
  // HTTP/1.1 request) and target = `target` (names it in errors), both copied into a queue slot
  // reused in place. Once the client has carried requests this large, and with a callback that
  // fits std::function's inline storage (two pointers' worth of captures), queuing and starting
  // the write allocate nothing. Same errors as Request().
  absl::Status RequestRaw(std::string_view target, std::string_view bytes, Callback done);
  // Runs whatever is ready; never blocks. Returns the number of requests completed (callbacks
  // run: responses and transport failures).
  int Poll() noexcept;
  // Fails pending requests with Cancelled (their callbacks run before Close() returns) and closes
  // the connection. The client stays usable: a later Request() opens a new connection.
  void Close();

  size_t pending() const noexcept;  // queued + in flight
  bool connected() const noexcept;
  const HttpsCounters& counters() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza

#endif  // NZEZA_NET_HTTPS_CLIENT_H_
