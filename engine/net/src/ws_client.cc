#include "nzeza/net/ws_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <random>
#include <variant>
#include <vector>

#include "absl/strings/str_format.h"
#include "nzeza/core/clock.h"

namespace nzeza {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using PlainWs = websocket::stream<beast::tcp_stream>;

template <typename Ws>
constexpr bool kIsTls = std::is_same_v<Ws, TlsWs>;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

}  // namespace

class WsClient::Impl {
 public:
  Impl(WsClientOptions options, WsCallbacks callbacks)
      : options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        rng_(std::random_device{}()) {}

  ~Impl() {
    closing_ = true;
    ++generation_;
    backoff_timer_.cancel();
    resolver_.cancel();
    CloseSocket();
  }

  absl::Status Start() {
    if (state_ != State::kIdle) {
      return absl::FailedPreconditionError("WsClient::Start() called twice");
    }
    if (options_.host.empty()) return absl::InvalidArgumentError("WebSocket host is empty");
    if (options_.tls_context == nullptr && !options_.allow_plaintext) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "WebSocket to %s:%d has no TLS context; plain ws:// must be asked for explicitly "
          "(allow_plaintext)",
          options_.host, options_.port));
    }
    if (options_.connect_timeout <= absl::ZeroDuration() ||
        options_.idle_timeout <= absl::ZeroDuration() ||
        options_.backoff_initial <= absl::ZeroDuration() ||
        options_.backoff_max < options_.backoff_initial || options_.backoff_jitter < 0 ||
        options_.backoff_jitter >= 1) {
      return absl::InvalidArgumentError(
          "WebSocket timeouts must be positive, backoff_max >= backoff_initial, and jitter in "
          "[0, 1)");
    }
    boost::system::error_code ec;
    net::ip::make_address(options_.host, ec);
    host_is_ip_ = !ec;
    Connect();
    return absl::OkStatus();
  }

  int Poll() noexcept {
    delivered_ = 0;
    try {
      io_.poll();
    } catch (const std::exception& e) {
      last_error_ = absl::InternalError(absl::StrFormat("WebSocket callback threw: %s", e.what()));
    }
    if (io_.stopped()) io_.restart();
    return delivered_;
  }

  void Send(std::string text) {
    if (state_ != State::kOpen) {
      ++counters_.sends_dropped;
      return;
    }
    outbox_.push_back(std::move(text));
    if (!writing_) {
      std::visit(
          [this](auto& ws) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
              DoWrite(ws, generation_);
            }
          },
          current_);
    }
  }

  void Reconnect(const char* why) {
    if (state_ != State::kOpen && state_ != State::kConnecting) return;
    Fail(net::error::make_error_code(net::error::operation_aborted), why);
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    backoff_timer_.cancel();
    resolver_.cancel();
    if (state_ == State::kOpen) {
      std::visit(
          [this](auto& ws) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
              const uint64_t gen = generation_;
              ws->async_close(websocket::close_code::normal, [this, ws, gen](beast::error_code) {
                if (gen != generation_) return;
                Finish();
              });
            }
          },
          current_);
      return;
    }
    Finish();
  }

  State state() const noexcept { return state_; }
  const WsCounters& counters() const noexcept { return counters_; }
  absl::Status last_error() const { return last_error_; }

 private:
  void Finish() {
    ++generation_;
    CloseSocket();
    state_ = State::kClosed;
  }

  void CloseSocket() {
    std::visit(
        [](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
            beast::error_code ignored;
            beast::get_lowest_layer(*ws).socket().close(ignored);
          }
        },
        current_);
    current_ = std::monostate{};
    outbox_.clear();
    writing_ = false;
  }

  int64_t Now() const noexcept {
    return options_.clock != nullptr ? options_.clock->NowNanos() : MonotonicNanos();
  }

  std::string Where() const {
    return absl::StrFormat("%s://%s:%d%s", options_.tls_context ? "wss" : "ws", options_.host,
                           options_.port, options_.target);
  }

  void Connect() {
    state_ = State::kConnecting;
    const uint64_t gen = ++generation_;
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [this, gen](beast::error_code ec, tcp::resolver::results_type results) {
                              if (gen != generation_) return;
                              if (ec) return Fail(ec, "resolve");
                              auto endpoints = std::make_shared<std::vector<tcp::endpoint>>();
                              for (const auto& entry : results)
                                endpoints->push_back(entry.endpoint());
                              if (endpoints->empty()) {
                                return Fail(net::error::make_error_code(net::error::host_not_found),
                                            "resolve");
                              }
                              if (options_.tls_context) {
                                auto ws = std::make_shared<TlsWs>(io_, *options_.tls_context);
                                current_ = ws;
                                ConnectTcp(ws, endpoints, 0, gen);
                              } else {
                                auto ws = std::make_shared<PlainWs>(io_);
                                current_ = ws;
                                ConnectTcp(ws, endpoints, 0, gen);
                              }
                            });
  }

  // Tries the resolved endpoints in order, one async_connect each, until one accepts.
  template <typename Ws>
  void ConnectTcp(const std::shared_ptr<Ws>& ws,
                  const std::shared_ptr<std::vector<tcp::endpoint>>& endpoints, size_t index,
                  uint64_t gen) {
    beast::get_lowest_layer(*ws).expires_after(ToChrono(options_.connect_timeout));
    beast::get_lowest_layer(*ws).async_connect(
        (*endpoints)[index], [this, ws, endpoints, index, gen](beast::error_code ec) {
          if (gen != generation_) return;
          if (ec) {
            if (index + 1 < endpoints->size()) {
              beast::error_code ignored;
              beast::get_lowest_layer(*ws).socket().close(ignored);
              return ConnectTcp(ws, endpoints, index + 1, gen);
            }
            return Fail(ec, "TCP connect");
          }
          OnTcpConnected(ws, gen);
        });
  }

  template <typename Ws>
  void OnTcpConnected(const std::shared_ptr<Ws>& ws, uint64_t gen) {
    beast::error_code ignored;
    beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kIsTls<Ws>) {
      SSL* handle = ws->next_layer().native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      bool ok;
      if (host_is_ip_) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, options_.host.c_str()) == 1;
      } else {
        ok = SSL_set_tlsext_host_name(handle, options_.host.c_str()) == 1 &&
             X509_VERIFY_PARAM_set1_host(param, options_.host.c_str(), 0) == 1;
      }
      if (!ok) {
        return Fail(
            beast::error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category()),
            "TLS name setup");
      }
      ws->next_layer().async_handshake(ssl::stream_base::client,
                                       [this, ws, gen](beast::error_code hec) {
                                         if (gen != generation_) return;
                                         if (hec) return Fail(hec, "TLS handshake");
                                         HandshakeWs(ws, gen);
                                       });
    } else {
      HandshakeWs(ws, gen);
    }
  }

  template <typename Ws>
  void HandshakeWs(const std::shared_ptr<Ws>& ws, uint64_t gen) {
    // The websocket stream has its own timeouts; the TCP stream's must be off.
    beast::get_lowest_layer(*ws).expires_never();
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = ToChrono(options_.connect_timeout);
    timeouts.idle_timeout = ToChrono(options_.idle_timeout);
    timeouts.keep_alive_pings = true;
    ws->set_option(timeouts);
    ws->read_message_max(options_.max_message_bytes);
    ws->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "nzeza"); }));
    const std::string host_header = absl::StrFormat("%s:%d", options_.host, options_.port);
    ws->async_handshake(host_header, options_.target, [this, ws, gen](beast::error_code ec) {
      if (gen != generation_) return;
      if (ec) return Fail(ec, "WebSocket handshake");
      state_ = State::kOpen;
      ++counters_.connects;
      attempts_ = 0;
      if (callbacks_.on_open) callbacks_.on_open();
      if (gen != generation_) return;  // on_open closed the session
      DoRead(ws, gen);
    });
  }

  template <typename Ws>
  void DoRead(const std::shared_ptr<Ws>& ws, uint64_t gen) {
    buffer_.consume(buffer_.size());
    ws->async_read(buffer_, [this, ws, gen](beast::error_code ec, size_t n) {
      if (gen != generation_) return;
      if (ec) {
        if (closing_) return Finish();
        return Fail(ec, "read");
      }
      const int64_t recv_ns = Now();
      // Room for the padding right after the payload: a no-op once the buffer has grown.
      buffer_.prepare(kReceivePadding);
      const char* data = static_cast<const char*>(buffer_.data().data());
      ++counters_.messages;
      counters_.bytes += n;
      ++delivered_;
      if (callbacks_.on_message) callbacks_.on_message(data, n, recv_ns);
      if (gen != generation_ || closing_) return;
      DoRead(ws, gen);
    });
  }

  template <typename Ws>
  void DoWrite(const std::shared_ptr<Ws>& ws, uint64_t gen) {
    writing_ = true;
    ws->text(true);
    ws->async_write(net::buffer(outbox_.front()), [this, ws, gen](beast::error_code ec, size_t) {
      if (gen != generation_) return;
      writing_ = false;
      if (ec) return Fail(ec, "write");
      outbox_.pop_front();
      if (!outbox_.empty()) DoWrite(ws, gen);
    });
  }

  void Fail(const beast::error_code& ec, const char* what) {
    if (closing_) return Finish();
    const bool was_open = state_ == State::kOpen;
    ++counters_.failures;
    last_error_ = absl::UnavailableError(absl::StrFormat(
        "%s: %s %s: %s", Where(), what, was_open ? "(session dropped)" : "failed", ec.message()));
    ++generation_;  // every handler of this session is now stale
    CloseSocket();
    if (callbacks_.on_close) callbacks_.on_close(last_error_);
    if (closing_) return Finish();  // on_close called Close()
    if (options_.max_reconnects >= 0 &&
        counters_.reconnects >= static_cast<uint64_t>(options_.max_reconnects)) {
      state_ = State::kClosed;
      return;
    }
    state_ = State::kBackoff;
    const double base =
        absl::ToDoubleSeconds(options_.backoff_initial) * std::pow(2.0, std::min(attempts_, 30));
    const double capped = std::min(base, absl::ToDoubleSeconds(options_.backoff_max));
    std::uniform_real_distribution<double> jitter(-options_.backoff_jitter,
                                                  options_.backoff_jitter);
    const double delay = capped * (1.0 + jitter(rng_));
    ++attempts_;
    backoff_timer_.expires_after(ToChrono(absl::Seconds(delay)));
    const uint64_t gen = generation_;
    backoff_timer_.async_wait([this, gen](beast::error_code tec) {
      if (tec || gen != generation_ || closing_) return;
      ++counters_.reconnects;
      Connect();
    });
  }

  // Declared first: destroyed last, after everything that holds its services.
  net::io_context io_{1};
  WsClientOptions options_;
  WsCallbacks callbacks_;
  tcp::resolver resolver_{io_};
  net::steady_timer backoff_timer_{io_};
  std::variant<std::monostate, std::shared_ptr<TlsWs>, std::shared_ptr<PlainWs>> current_;
  beast::flat_buffer buffer_;
  std::deque<std::string> outbox_;
  std::mt19937_64 rng_;
  State state_ = State::kIdle;
  WsCounters counters_;
  absl::Status last_error_;
  uint64_t generation_ = 0;
  int attempts_ = 0;
  int delivered_ = 0;
  bool closing_ = false;
  bool writing_ = false;
  bool host_is_ip_ = false;
};

WsClient::WsClient(WsClientOptions options, WsCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(callbacks))) {}
WsClient::~WsClient() = default;
absl::Status WsClient::Start() { return impl_->Start(); }
int WsClient::Poll() noexcept { return impl_->Poll(); }
void WsClient::Send(std::string text) { impl_->Send(std::move(text)); }
void WsClient::Close() { impl_->Close(); }
void WsClient::Reconnect(const char* why) { impl_->Reconnect(why); }
WsClient::State WsClient::state() const noexcept { return impl_->state(); }
const WsCounters& WsClient::counters() const noexcept { return impl_->counters(); }
absl::Status WsClient::last_error() const { return impl_->last_error(); }

}  // namespace nzeza
