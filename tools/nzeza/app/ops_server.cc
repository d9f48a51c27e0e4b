#include "nzeza/app/ops_server.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "nzeza/app/ops_token.h"
#include "nzeza/app/summary.h"
#include "nzeza/core/cpu.h"

namespace nzeza::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxReasonBytes = 256;
constexpr std::string_view kChallenge = "Bearer realm=\"nzeza-ops\"";

enum class Auth { kOk, kMissing, kInvalid };

// Checks "Authorization: Bearer <token>" against `expected`. Another scheme, or none, counts as
// missing (the client did not try this scheme); only a presented bearer token can be invalid.
Auth Authorize(const http::request<http::string_body>& req, std::string_view expected) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return Auth::kMissing;
  std::string_view v(it->value().data(), it->value().size());
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(v.data(), kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size())) ||
      (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t')) {
    return Auth::kMissing;
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return Auth::kMissing;
  return OpsTokenMatches(v, expected) ? Auth::kOk : Auth::kInvalid;
}

}  // namespace

bool IsLoopbackAddress(std::string_view address) {
  if (address == "localhost") return true;
  boost::system::error_code ec;
  const asio::ip::address a = asio::ip::make_address(std::string(address), ec);
  return !ec && a.is_loopback();
}

class OpsSession;

struct OpsServer::Impl {
  OpsServerOptions options;
  OpsProvider* provider = nullptr;
  // Server thread only (and the stopping thread once the server thread is joined). Declared
  // before io so they outlive the sessions io's destructor may still release.
  std::vector<std::weak_ptr<OpsSession>> sessions;
  int live_connections = 0;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;
  std::atomic<uint64_t> requests{0};
  std::atomic<bool> stopped{false};

  void Accept();
};

// One connection: read a request, answer it, repeat while keep-alive.
class OpsSession : public std::enable_shared_from_this<OpsSession> {
 public:
  OpsSession(tcp::socket socket, OpsServer::Impl* server)
      : stream_(std::move(socket)), server_(server), buffer_(server->options.max_request_bytes) {
    ++server_->live_connections;
  }
  ~OpsSession() { --server_->live_connections; }

  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_request_bytes));
    parser_->body_limit(server_->options.max_request_bytes);
    stream_.expires_after(
        std::chrono::nanoseconds(absl::ToInt64Nanoseconds(server_->options.idle_timeout)));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      Close();
      return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow) {
      Respond(http::status::payload_too_large, "request too large\n", "text/plain", 11, true);
      return;
    }
    if (ec) {
      Respond(http::status::bad_request, "bad request\n", "text/plain", 11, true);
      return;
    }
    Handle(parser_->get());
  }

  void Handle(const http::request<http::string_body>& req) {
    std::string_view target(req.target().data(), req.target().size());
    if (size_t q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    const http::verb method = req.method();
    const bool close = !req.keep_alive();
    const unsigned version = req.version();
    const bool head = method == http::verb::head;
    OpsProvider* p = server_->provider;

    auto method_not_allowed = [&](std::string_view allow) {
      Respond(http::status::method_not_allowed, "method not allowed\n", "text/plain", version,
              close, allow);
    };
    try {
      if (target == "/metrics" || target == "/health" || target == "/status") {
        if (method != http::verb::get && !head) return method_not_allowed("GET, HEAD");
        if (target == "/metrics") {
          MetricsWriter w;
          p->WriteMetrics(w);
          return Respond(http::status::ok, w.Finish(), "text/plain; version=0.0.4; charset=utf-8",
                         version, close, {}, head);
        }
        if (target == "/health") {
          HealthState h = p->Health();
          if (h.healthy) {
            return Respond(http::status::ok, "ok\n", "text/plain", version, close, {}, head);
          }
          return Respond(http::status::service_unavailable,
                         (h.reason.empty() ? std::string("unhealthy") : h.reason) + "\n",
                         "text/plain", version, close, {}, head);
        }
        return Respond(http::status::ok, p->StatusJson(), "application/json", version, close, {},
                       head);
      }
      if (target == "/kill" || target == "/resume") {
        if (method != http::verb::post) return method_not_allowed("POST");
        const bool kill = target == "/kill";
        const std::string_view action = kill ? "kill" : "resume";
        if (!kill || !server_->options.kill_without_token) {
          const Auth auth = Authorize(req, server_->options.token.Reveal());
          if (auth != Auth::kOk) {
            const bool missing = auth == Auth::kMissing;
            std::string body =
                absl::StrFormat("{\"ok\":false,\"action\":\"%s\",\"error\":", action);
            AppendJsonString(&body, missing ? "missing bearer token: send the header "
                                              "\"Authorization: Bearer <token>\" with the "
                                              "engine's operations token (ops.token_file)"
                                            : "invalid bearer token");
            body.append("}\n");
            return Respond(missing ? http::status::unauthorized : http::status::forbidden,
                           std::move(body), "application/json", version, close, {}, false,
                           missing ? kChallenge : std::string_view());
          }
        }
        absl::Status s;
        if (kill) {
          std::string reason = req.body().substr(0, kMaxReasonBytes);
          for (char& c : reason) {
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
          }
          while (!reason.empty() && reason.back() == ' ') reason.pop_back();
          s = p->Kill(reason.empty() ? "ops" : reason);
        } else {
          s = p->Resume();
        }
        std::string body =
            absl::StrFormat("{\"ok\":%s,\"action\":\"%s\"", s.ok() ? "true" : "false", action);
        http::status code = http::status::ok;
        if (!s.ok()) {
          body.append(",\"error\":");
          AppendJsonString(&body, std::string_view(s.message().data(), s.message().size()));
          code = s.code() == absl::StatusCode::kFailedPrecondition ? http::status::conflict
                 : s.code() == absl::StatusCode::kInvalidArgument
                     ? http::status::bad_request
                     : http::status::internal_server_error;
        }
        body.append("}\n");
        return Respond(code, std::move(body), "application/json", version, close);
      }
      return Respond(http::status::not_found, "not found\n", "text/plain", version, close, {},
                     head);
    } catch (const std::exception&) {
      // The provider is the engine's code: an exception must not take the server thread down.
      return Respond(http::status::internal_server_error, "internal error\n", "text/plain", version,
                     true);
    }
  }

  void Respond(http::status status, std::string body, std::string_view type, unsigned version,
               bool close, std::string_view allow = {}, bool head = false,
               std::string_view www_authenticate = {}) {
    server_->requests.fetch_add(1, std::memory_order_relaxed);
    res_ = {};
    res_.version(version);
    res_.result(status);
    res_.set(http::field::server, "nzeza");
    res_.set(http::field::content_type, beast::string_view(type.data(), type.size()));
    res_.set(http::field::cache_control, "no-store");
    if (!allow.empty())
      res_.set(http::field::allow, beast::string_view(allow.data(), allow.size()));
    if (!www_authenticate.empty()) {
      res_.set(http::field::www_authenticate,
               beast::string_view(www_authenticate.data(), www_authenticate.size()));
    }
    const size_t length = body.size();
    if (!head) res_.body() = std::move(body);
    res_.content_length(length);
    res_.keep_alive(!close);
    close_after_ = close;
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->close_after_) {
        self->Close();
        return;
      }
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  OpsServer::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool close_after_ = false;
};

void OpsServer::Impl::Accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (live_connections >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        auto s = std::make_shared<OpsSession>(std::move(socket), this);
        // Forget sessions that ended, so the list stays as long as the live ones.
        std::erase_if(sessions, [](const std::weak_ptr<OpsSession>& w) { return w.expired(); });
        sessions.push_back(s);
        s->Read();
      }
    }
    Accept();
  });
}

OpsServer::OpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpsServer::~OpsServer() { Stop(); }

absl::StatusOr<std::unique_ptr<OpsServer>> OpsServer::Start(OpsServerOptions options,
                                                            OpsProvider* provider) {
  if (provider == nullptr) return absl::InvalidArgumentError("ops server needs a provider");
  const std::string host = options.listen == "localhost" ? "127.0.0.1" : options.listen;
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ops.listen: \"%s\" is not an IP address", options.listen));
  }
  if (!address.is_loopback()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ops.listen: \"%s\" is not a loopback address; the operations endpoint only listens on "
        "127.0.0.1, ::1 or localhost",
        options.listen));
  }
  auto impl = std::make_unique<Impl>();
  const uint16_t port = options.port;
  impl->options = std::move(options);
  impl->provider = provider;
  const tcp::endpoint endpoint(address, port);
  auto fail = [&](std::string_view what) {
    return absl::UnavailableError(
        absl::StrFormat("ops server: cannot %s %s port %d: %s", what, host, port, ec.message()));
  };
  if (impl->acceptor.open(endpoint.protocol(), ec); ec) return fail("open a socket for");
  if (impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) {
    return fail("set SO_REUSEADDR on");
  }
  if (impl->acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (impl->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail("listen on");
  }
  impl->port = impl->acceptor.local_endpoint(ec).port();
  if (ec) return fail("read the bound address of");
  impl->Accept();
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    NameCurrentThread("nzeza-ops");
    raw->io.run();
  });
  return std::unique_ptr<OpsServer>(new OpsServer(std::move(impl)));
}

uint16_t OpsServer::port() const noexcept { return impl_->port; }

uint64_t OpsServer::requests() const noexcept {
  return impl_->requests.load(std::memory_order_relaxed);
}

void OpsServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  // The server thread is gone: its objects are ours now.
  beast::error_code ec;
  impl_->acceptor.close(ec);
  for (const std::weak_ptr<OpsSession>& w : impl_->sessions) {
    if (std::shared_ptr<OpsSession> s = w.lock()) s->Close();
  }
  // Let the aborted operations complete so every session is released here, not in ~io_context.
  impl_->io.restart();
  impl_->io.poll();
  impl_->sessions.clear();
}

}  // namespace nzeza::app
