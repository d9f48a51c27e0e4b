// The operations endpoint: a small HTTP/1.1 server on loopback, on its own thread (Boost.Beast).
//
//   class EngineOps : public nzeza::app::OpsProvider { ... };   // the engine plugs in here
//   EngineOps ops(engine);
//   absl::StatusOr<OpsToken> token = LoadOrCreateOpsToken(cfg.ops);   // ops_token.h
//   absl::StatusOr<std::unique_ptr<OpsServer>> srv =
//       OpsServer::Start({.listen = "127.0.0.1", .port = 9464, .token = std::move(token->token)},
//                        &ops);
//   ...                                                       // curl 127.0.0.1:9464/metrics
//   (*srv)->Stop();                                           // bounded
//
// Routes:
//   GET  /metrics  200, Prometheus text format 0.0.4 (Content-Type
//                  "text/plain; version=0.0.4; charset=utf-8") from OpsProvider::WriteMetrics
//   GET  /health   200 "ok\n" when healthy, 503 "<reason>\n" otherwise
//   GET  /status   200, application/json from OpsProvider::StatusJson
//   POST /kill     OpsProvider::Kill(reason): 200 {"ok":true,"action":"kill"} or an error (below);
//                  the request body (at most 256 bytes, text) is the reason, "ops" if empty.
//                  Needs the token unless kill_without_token.
//   POST /resume   OpsProvider::Resume(): as /kill with "resume". Always needs the token.
//   other methods on these paths: 405 with an Allow header; other paths: 404.
// Errors from Kill/Resume map to 409 (FailedPrecondition), 400 (InvalidArgument), 500 (others),
// with {"ok":false,"action":...,"error":"<message>"}. HEAD is answered like GET without a body.
// A query string is ignored for routing.
//
// Authentication (the GET routes are open): a request that needs the token must carry
// "Authorization: Bearer <token>" (scheme case-insensitive). No Authorization header, another
// scheme or an empty token: 401 with "WWW-Authenticate: Bearer realm=\"nzeza-ops\"" and
// {"ok":false,"action":...,"error":"missing bearer token ..."}. A token that does not match: 403
// with the same shape ("invalid bearer token"). The provider is not called in either case. The
// comparison takes time independent of where the tokens differ (OpsTokenMatches). With an empty
// options.token nothing matches: the protected routes answer 403 to every token (fail closed),
// so a server started without a token can still be killed only where kill_without_token. The
// token never appears in a response.
//
// Limits: a request (line, headers and body) larger than max_request_bytes gets 413 and the
// connection is closed; a connection idle for idle_timeout is closed; at most max_connections
// are served at once (more are closed on accept). Keep-alive is supported.
//
// Thread: the provider's methods are called on the server's thread, one at a time: they must
// be safe to call concurrently with the pipeline (read atomics, post to the control queue).
#ifndef NZEZA_APP_OPS_SERVER_H_
#define NZEZA_APP_OPS_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nzeza/app/metrics.h"
#include "nzeza/app/secrets.h"

namespace nzeza::app {

struct HealthState {
  bool healthy = true;
  std::string reason = {};  // why not healthy, e.g. "breaker open: feed stale (BTC-USD)"
};

// What the engine exposes to operations. Called on the ops server thread.
class OpsProvider {
 public:
  virtual ~OpsProvider() = default;
  // Writes every metric (counters, gauges, latency summaries).
  virtual void WriteMetrics(MetricsWriter& out) = 0;
  // A JSON object describing the engine's state (free form; the engine's choice).
  virtual std::string StatusJson() = 0;
  virtual HealthState Health() = 0;
  // Engage the kill switch (stop trading, cancel working orders). `reason` is caller text.
  virtual absl::Status Kill(std::string_view reason) = 0;
  // Release the kill switch / breaker latch where allowed.
  virtual absl::Status Resume() = 0;
};

struct OpsServerOptions {
  std::string listen = "127.0.0.1";  // a loopback address literal, or "localhost"
  uint16_t port = 0;                 // 0: an ephemeral port (see OpsServer::port())
  size_t max_request_bytes = 8192;
  absl::Duration idle_timeout = absl::Seconds(10);
  int max_connections = 16;
  // The bearer token POST /resume (and POST /kill) must present; empty: nothing matches.
  Secret token = {};
  // POST /kill without a token (the safe direction: anyone local may stop trading).
  bool kill_without_token = false;
};

class OpsServer {
 public:
  // Binds, listens and starts the server thread; keeps `options` (the token with it). Errors:
  // InvalidArgument for an address that is not a loopback address or not an address at all
  // (message names it), Unavailable when the port cannot be bound (e.g. in use: names address
  // and port).
  static absl::StatusOr<std::unique_ptr<OpsServer>> Start(OpsServerOptions options,
                                                          OpsProvider* provider);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  uint16_t port() const noexcept;
  // Requests answered so far (any status).
  uint64_t requests() const noexcept;
  // Stops accepting, closes every connection and joins the thread. Bounded by the provider call
  // in progress, if any. Idempotent.
  void Stop();

  struct Impl;  // internal

 private:
  explicit OpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `address` is a loopback address literal (127.0.0.0/8, ::1) or "localhost".
bool IsLoopbackAddress(std::string_view address);

}  // namespace nzeza::app

#endif  // NZEZA_APP_OPS_SERVER_H_
