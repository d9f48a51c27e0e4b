#include "nzeza/net/https_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <variant>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "nzeza/core/clock.h"

namespace nzeza {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainStream = beast::tcp_stream;

// Response headers larger than this fail the request (Binance and Coinbase send well under 2 KiB).
constexpr uint32_t kHeaderLimit = 64 * 1024;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

// A Beast body that reads into a std::string and keeps kReceivePadding zeroed bytes after the
// payload, so the response body is handed out in place (no copy to add the padding). With a
// Content-Length the room is reserved up front; a chunked body grows geometrically with the room
// kept. The string is reused across responses, so after warm-up a response allocates only for
// its headers.
struct PaddedBody {
  struct value_type {
    std::string storage;  // payload + kReceivePadding once the body is complete
    size_t size = 0;      // payload bytes
  };

  class reader {
   public:
    template <bool kIsRequest, class Fields>
    explicit reader(http::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
      inited_ = true;
      body_.size = 0;
      body_.storage.clear();
      if (length) {
        // The parser's body_limit has already refused anything over max_body_bytes.
        if (*length > body_.storage.max_size() - kReceivePadding) {
          ec = http::error::buffer_overflow;
          return;
        }
        body_.storage.reserve(static_cast<size_t>(*length) + kReceivePadding);
      }
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      const size_t extra = beast::buffer_bytes(buffers);
      std::string& s = body_.storage;
      const size_t need = s.size() + extra + kReceivePadding;
      if (need > s.capacity()) s.reserve(std::max(need, 2 * s.capacity()));
      for (const auto b : beast::buffers_range_ref(buffers)) {
        s.append(static_cast<const char*>(b.data()), b.size());
      }
      ec = {};
      return extra;
    }

    // Beast calls finish() without init() for a message without a body (204, 304,
    // Content-Length: 0): the storage still holds the last response then.
    void finish(beast::error_code& ec) {
      if (!inited_) body_.storage.clear();
      body_.size = body_.storage.size();
      body_.storage.resize(body_.size + kReceivePadding);  // room reserved: no reallocation
      ec = {};
    }

   private:
    value_type& body_;
    bool inited_ = false;
  };
};

// The header fields of one response, bump-allocated from a fixed arena that is reset when the
// next response's parser is made: Beast's fields allocate one node per header, and with the
// default allocator that was a heap allocation per header per response. Past the arena (headers
// larger than anything a venue sends) it falls back to the heap.
struct FieldArena {
  alignas(std::max_align_t) char bytes[8192];
  size_t used = 0;
};

template <typename T>
struct ArenaAllocator {
  using value_type = T;
  FieldArena* arena;
  explicit ArenaAllocator(FieldArena* a) noexcept : arena(a) {}
  template <typename U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena(other.arena) {}  // NOLINT
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    const size_t at = (arena->used + alignof(T) - 1) & ~(alignof(T) - 1);
    if (bytes <= sizeof(arena->bytes) && at <= sizeof(arena->bytes) - bytes) {
      arena->used = at + bytes;
      return reinterpret_cast<T*>(arena->bytes + at);
    }
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* p, size_t) noexcept {
    const char* c = reinterpret_cast<const char*>(p);
    if (c >= arena->bytes && c < arena->bytes + sizeof(arena->bytes)) return;  // reset wholesale
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena == other.arena;
  }
  template <typename U>
  bool operator!=(const ArenaAllocator<U>& other) const noexcept {
    return arena != other.arena;
  }
};

using ResponseParser = http::response_parser<PaddedBody, ArenaAllocator<char>>;

// Everything one connection's asynchronous operations touch. Handlers hold it by shared_ptr, so
// an operation that completes after its connection was dropped (with operation_aborted) still
// finds its buffers alive and touches nothing of the next connection.
template <typename Stream>
struct Conn {
  template <typename... Args>
  explicit Conn(Args&&... args) : stream(std::forward<Args>(args)...) {}
  Stream stream;
  beast::flat_buffer read_buffer;
  FieldArena field_arena;                // the parser's header fields
  std::optional<ResponseParser> parser;  // declared after its arena: destroyed before it
  http::request<http::string_body> out;
  std::string out_raw;  // HttpRequest::raw being written
};

template <typename Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

http::verb ToVerb(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet:
      return http::verb::get;
    case HttpMethod::kPost:
      return http::verb::post;
    case HttpMethod::kDelete:
      return http::verb::delete_;
    case HttpMethod::kPut:
      return http::verb::put;
  }
  return http::verb::get;
}

// ASCII case-insensitive equality (header names are ASCII tokens).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool HasControlChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

std::string_view HttpResponse::Header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

class HttpsClient::Impl {
 public:
  explicit Impl(HttpsClientOptions options) : options_(std::move(options)) {
    boost::system::error_code ec;
    net::ip::make_address(options_.host, ec);
    host_is_ip_ = !ec;
    const bool default_port = options_.port == (options_.tls_context != nullptr ? 443 : 80);
    const std::string host = absl::StrContains(options_.host, ':')
                                 ? absl::StrFormat("[%s]", options_.host)  // IPv6 literal
                                 : options_.host;
    host_header_ = default_port ? host : absl::StrFormat("%s:%d", host, options_.port);
    where_ =
        absl::StrFormat("%s://%s:%d", options_.tls_context ? "https" : "http", host, options_.port);
    if (options_.host.empty()) {
      config_error_ = absl::InvalidArgumentError("HTTPS host is empty");
    } else if (options_.tls_context == nullptr && !options_.allow_plaintext) {
      config_error_ = absl::InvalidArgumentError(absl::StrFormat(
          "HTTP client for %s has no TLS context; plain http:// must be asked for explicitly "
          "(allow_plaintext)",
          where_));
    } else if (options_.connect_timeout <= absl::ZeroDuration() ||
               options_.request_timeout <= absl::ZeroDuration()) {
      config_error_ =
          absl::InvalidArgumentError("HTTPS connect_timeout and request_timeout must be positive");
    }
  }

  ~Impl() {
    // Callbacks run here (documented): the owner's captures must outlive the client.
    CancelAll("HttpsClient destroyed");
    closing_ = true;  // for good: nothing may start any more
    deadline_.cancel();
  }

  absl::Status Request(HttpRequest request, Callback done) {
    if (absl::Status st = Usable(request.target); !st.ok()) return st;
    for (const auto& [key, value] : request.headers) {
      if (key.empty() || HasControlChars(key) || HasControlChars(value)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "HTTP header \"%s\" is empty or holds control characters", absl::CHexEscape(key)));
      }
    }
    if (!request.raw.empty()) {
      if (absl::Status st = ValidRaw(request.raw); !st.ok()) return st;
    }
    if (HasControlChars(request.content_type)) {
      return absl::InvalidArgumentError("HTTP content_type holds control characters");
    }
    Pending& p = queue_.push_back();
    p.request = std::move(request);
    p.done = std::move(done);
    Pump();
    return absl::OkStatus();
  }

  absl::Status RequestRaw(std::string_view target, std::string_view bytes, Callback done) {
    if (absl::Status st = Usable(target); !st.ok()) return st;
    if (absl::Status st = ValidRaw(bytes); !st.ok()) return st;
    Pending& p = queue_.push_back();  // a reset slot: strings empty, capacity kept
    p.request.method = HttpMethod::kPost;
    p.request.target.assign(target);
    p.request.raw.assign(bytes);
    p.done = std::move(done);
    Pump();
    return absl::OkStatus();
  }

  int Poll() noexcept {
    completed_ = 0;
    try {
      io_.poll();
      if (io_.stopped()) io_.restart();
      Pump();
    } catch (...) {
      // Callbacks are guarded one by one; this is an allocation failure or the like. The state
      // is consistent between handlers, so the next Poll() carries on.
      ++counters_.callback_errors;
      if (io_.stopped()) io_.restart();
    }
    return completed_;
  }

  void Close() {
    if (closing_) return;  // Close() from a callback that Close() is running
    CancelAll("HttpsClient closed");
  }

  size_t pending() const noexcept { return queue_.size(); }
  bool connected() const noexcept { return state_ == ConnState::kOpen; }
  const HttpsCounters& counters() const noexcept { return counters_; }

 private:
  enum class ConnState : uint8_t { kNone, kConnecting, kOpen };

  struct Pending {
    HttpRequest request;
    Callback done;
  };

  // The requests queued and in flight, oldest first: a ring of slots reused in place (a popped
  // slot's strings are cleared, their capacity kept), so a steady stream of requests of similar
  // sizes allocates nothing. Grows (doubling) only when more requests wait than ever before.
  class PendingRing {
   public:
    PendingRing() : slots_(16) {}
    bool empty() const noexcept { return size_ == 0; }
    size_t size() const noexcept { return size_; }
    Pending& front() noexcept { return slots_[head_]; }
    // A fresh slot at the back. May reallocate the ring: references to slots die.
    Pending& push_back() {
      if (size_ == slots_.size()) Grow();
      Pending& p = slots_[(head_ + size_) & (slots_.size() - 1)];
      ++size_;
      return p;
    }
    // Takes the front request's callback and frees its slot for reuse.
    Callback pop_front() noexcept {
      Pending& p = slots_[head_];
      Callback done = std::move(p.done);
      p.done = nullptr;
      HttpRequest& r = p.request;
      r.method = HttpMethod::kGet;
      r.target.clear();
      r.raw.clear();
      r.body.clear();
      r.content_type.clear();
      r.headers.clear();
      head_ = (head_ + 1) & (slots_.size() - 1);
      --size_;
      return done;
    }

   private:
    void Grow() {
      std::vector<Pending> bigger(slots_.size() * 2);
      for (size_t i = 0; i < size_; ++i) {
        bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
      }
      slots_.swap(bigger);
      head_ = 0;
    }
    std::vector<Pending> slots_;  // size: a power of two
    size_t head_ = 0;
    size_t size_ = 0;
  };

  absl::Status Usable(std::string_view target) const {
    if (!config_error_.ok()) return config_error_;
    if (closing_) {
      return absl::FailedPreconditionError(
          "HttpsClient::Request() called while Close() or the destructor runs callbacks");
    }
    if (target.empty() || target[0] != '/' || HasControlChars(target) ||
        target.find(' ') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("HTTP target \"%s\" must start with '/' and hold no spaces or control "
                          "characters",
                          absl::CHexEscape(absl::string_view(target.data(), target.size()))));
    }
    return absl::OkStatus();
  }

  static absl::Status ValidRaw(std::string_view raw) {
    if (raw.find("\r\n\r\n") == std::string_view::npos) {
      return absl::InvalidArgumentError("HTTP raw request has no end of headers (CRLF CRLF)");
    }
    return absl::OkStatus();
  }

  using TlsConn = Conn<TlsStream>;
  using PlainConn = Conn<PlainStream>;

  int64_t Now() const noexcept {
    return options_.clock != nullptr ? options_.clock->NowNanos() : MonotonicNanos();
  }

  // Calls f(shared_ptr<Conn<...>>&) for the current connection, if any.
  template <typename F>
  void WithConn(F&& f) {
    std::visit(
        [&f](auto& c) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(c)>, std::monostate>) f(c);
        },
        current_);
  }

  // Starts whatever the state calls for: a connection when requests wait and none is open, the
  // read that receives the next response (and notices a close while idle), the next write.
  // Never while callbacks run (they may queue or close); every path that runs callbacks pumps
  // afterwards.
  void Pump() {
    if (dispatching_ > 0 || closing_) return;
    switch (state_) {
      case ConnState::kNone:
        if (!queue_.empty()) Connect();
        return;
      case ConnState::kConnecting:
        return;
      case ConnState::kOpen:
        WithConn([this](auto& c) {
          if (!reading_) StartRead(c);
          if (!in_flight_ && !writing_ && !queue_.empty()) StartWrite(c);
        });
        return;
    }
  }

  void Connect() {
    state_ = ConnState::kConnecting;
    const uint64_t gen = ++generation_;
    ArmDeadline(options_.connect_timeout);
    resolver_.async_resolve(options_.host, std::to_string(options_.port),
                            [this, gen](beast::error_code ec, tcp::resolver::results_type results) {
                              if (gen != generation_) return;
                              if (ec) return ConnectFailed(ec, "resolve");
                              auto endpoints = std::make_shared<std::vector<tcp::endpoint>>();
                              for (const auto& entry : results)
                                endpoints->push_back(entry.endpoint());
                              if (endpoints->empty()) {
                                return ConnectFailed(
                                    net::error::make_error_code(net::error::host_not_found),
                                    "resolve");
                              }
                              if (options_.tls_context) {
                                auto c = std::make_shared<TlsConn>(io_, *options_.tls_context);
                                current_ = c;
                                ConnectTcp(c, endpoints, 0, gen);
                              } else {
                                auto c = std::make_shared<PlainConn>(io_);
                                current_ = c;
                                ConnectTcp(c, endpoints, 0, gen);
                              }
                            });
  }

  // Tries the resolved endpoints in order until one accepts (connect_timeout covers them all).
  template <typename C>
  void ConnectTcp(const std::shared_ptr<C>& c,
                  const std::shared_ptr<std::vector<tcp::endpoint>>& endpoints, size_t index,
                  uint64_t gen) {
    beast::get_lowest_layer(c->stream).async_connect(
        (*endpoints)[index], [this, c, endpoints, index, gen](beast::error_code ec) {
          if (gen != generation_) return;
          if (ec) {
            if (index + 1 < endpoints->size()) {
              beast::error_code ignored;
              beast::get_lowest_layer(c->stream).socket().close(ignored);
              return ConnectTcp(c, endpoints, index + 1, gen);
            }
            return ConnectFailed(ec, "TCP connect");
          }
          OnTcpConnected(c, gen);
        });
  }

  template <typename C>
  void OnTcpConnected(const std::shared_ptr<C>& c, uint64_t gen) {
    beast::error_code ignored;
    beast::get_lowest_layer(c->stream).socket().set_option(tcp::no_delay(true), ignored);
    if constexpr (kIsTls<std::decay_t<decltype(c->stream)>>) {
      // SNI and host name verification exactly as WsClient (see tls.h).
      SSL* handle = c->stream.native_handle();
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
        return ConnectFailed(
            beast::error_code(static_cast<int>(ERR_get_error()), net::error::get_ssl_category()),
            "TLS name setup");
      }
      c->stream.async_handshake(ssl::stream_base::client, [this, c, gen](beast::error_code hec) {
        if (gen != generation_) return;
        if (hec) return ConnectFailed(hec, "TLS handshake");
        OnOpen();
      });
    } else {
      OnOpen();
    }
  }

  void OnOpen() {
    DisarmDeadline();
    state_ = ConnState::kOpen;
    ++counters_.connects;
    requests_on_conn_ = 0;
    Pump();
  }

  template <typename C>
  void StartRead(const std::shared_ptr<C>& c) {
    reading_ = true;
    c->parser.reset();  // gives its fields back to the arena, which then starts over
    c->field_arena.used = 0;
    c->parser.emplace(std::piecewise_construct, std::make_tuple(),
                      std::make_tuple(ArenaAllocator<char>(&c->field_arena)));
    c->parser->body_limit(options_.max_body_bytes);
    c->parser->header_limit(kHeaderLimit);
    c->parser->get().body().storage = std::move(spare_body_);
    const uint64_t gen = generation_;
    http::async_read(c->stream, c->read_buffer, *c->parser,
                     [this, c, gen](beast::error_code ec, size_t) {
                       if (gen != generation_) return;
                       reading_ = false;
                       OnRead(c, ec);
                     });
  }

  template <typename C>
  void OnRead(const std::shared_ptr<C>& c, const beast::error_code& ec) {
    if (!in_flight_) {
      // Nothing was asked: the server closed the idle connection (EOF, or a TLS stream cut
      // without close_notify) or sent something unsolicited. Reopen for the next request.
      DropConnection();
      return Pump();
    }
    if (ec) {
      const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
      const std::string msg =
          absl::StrFormat("%s%s: %s: %s", where_, queue_.front().request.target,
                          too_big ? "response too large" : "read failed", ec.message());
      return FailInFlight(too_big ? absl::ResourceExhaustedError(absl::StrFormat(
                                        "%s (max_body_bytes %d)", msg, options_.max_body_bytes))
                                  : absl::UnavailableError(msg));
    }
    response_.recv_ns = Now();
    auto& msg = c->parser->get();
    response_.transport = absl::OkStatus();
    response_.status = static_cast<int>(msg.result_int());
    response_.headers.clear();
    for (const auto& field : msg) {
      response_.headers.emplace_back(field.name_string(), field.value());
    }
    delivering_ = std::move(msg.body().storage);
    response_.body = std::string_view(delivering_.data(), msg.body().size);
    response_.sent_ns = sent_ns_;
    const bool keep_alive = msg.keep_alive();
    Callback done = PopInFlight();
    ++counters_.requests;
    if (!keep_alive) DropConnection();  // Connection: close; the next request reopens
    Deliver(done, response_);           // c (held by this handler) keeps the parser's headers alive
    response_.body = {};
    response_.headers.clear();
    if (delivering_.capacity() > spare_body_.capacity()) spare_body_ = std::move(delivering_);
    Pump();
  }

  template <typename C>
  void StartWrite(const std::shared_ptr<C>& c) {
    HttpRequest& r = queue_.front().request;
    in_flight_ = true;
    writing_ = true;
    if (requests_on_conn_++ > 0) ++counters_.reused;
    if (!r.raw.empty()) {
      c->out_raw.swap(r.raw);  // sent once, never retried; both buffers kept for reuse
      ArmDeadline(options_.request_timeout);
      const uint64_t seq = ++request_seq_;
      sent_ns_ = Now();
      const uint64_t gen = generation_;
      net::async_write(
          c->stream, net::buffer(c->out_raw),
          [this, c, gen, seq](beast::error_code ec, size_t) { OnWritten(ec, gen, seq); });
      return;
    }
    c->out = http::request<http::string_body>();
    c->out.method(ToVerb(r.method));
    c->out.target(r.target);
    c->out.version(11);
    c->out.set(http::field::host, host_header_);
    c->out.set(http::field::user_agent, options_.user_agent);
    for (const auto& [key, value] : r.headers) c->out.set(key, value);
    if (!r.content_type.empty()) c->out.set(http::field::content_type, r.content_type);
    c->out.body() = std::move(r.body);  // no longer needed here: sent once, never retried
    c->out.prepare_payload();
    ArmDeadline(options_.request_timeout);
    const uint64_t seq = ++request_seq_;
    sent_ns_ = Now();
    const uint64_t gen = generation_;
    http::async_write(c->stream, c->out, [this, c, gen, seq](beast::error_code ec, size_t) {
      OnWritten(ec, gen, seq);
    });
  }

  void OnWritten(const beast::error_code& ec, uint64_t gen, uint64_t seq) {
    if (gen != generation_) return;
    writing_ = false;
    const bool still_waiting = in_flight_ && seq == request_seq_;
    if (ec) {
      if (!still_waiting) {  // the response already came; the connection is unusable now
        DropConnection();
        return Pump();
      }
      return FailInFlight(absl::UnavailableError(absl::StrFormat(
          "%s%s: write failed: %s", where_, queue_.front().request.target, ec.message())));
    }
    if (still_waiting) sent_ns_ = Now();
    Pump();
  }

  void ArmDeadline(absl::Duration d) {
    const uint64_t id = ++deadline_id_;
    deadline_.expires_after(ToChrono(d));
    deadline_.async_wait([this, id](beast::error_code ec) {
      if (ec || id != deadline_id_) return;
      OnDeadline();
    });
  }

  void DisarmDeadline() {
    ++deadline_id_;
    deadline_.cancel();
  }

  void OnDeadline() {
    if (state_ == ConnState::kConnecting) {
      return FailConnect(absl::DeadlineExceededError(
          absl::StrFormat("%s: connect timed out after %s", where_,
                          absl::FormatDuration(options_.connect_timeout))));
    }
    if (in_flight_) {
      FailInFlight(absl::DeadlineExceededError(absl::StrFormat(
          "%s%s: no complete response within %s", where_, queue_.front().request.target,
          absl::FormatDuration(options_.request_timeout))));
    }
  }

  void ConnectFailed(const beast::error_code& ec, const char* what) {
    FailConnect(
        absl::UnavailableError(absl::StrFormat("%s: %s failed: %s", where_, what, ec.message())));
  }

  // A connection attempt failed: every queued request was waiting for it (none was sent).
  void FailConnect(const absl::Status& why) {
    DropConnection();
    in_flight_ = false;
    HttpResponse r;
    r.transport = why;
    // Only those queued now: a callback may queue a request, which waits for the next attempt.
    for (size_t n = queue_.size(); n > 0; --n) {
      Callback done = queue_.pop_front();
      ++counters_.failures;
      Deliver(done, r);
    }
    Pump();
  }

  // The request in flight failed: it completes with `why` and is not retried; the connection is
  // dropped and the requests behind it get a new one.
  void FailInFlight(const absl::Status& why) {
    DropConnection();
    Callback done = PopInFlight();
    HttpResponse r;
    r.transport = why;
    r.sent_ns = sent_ns_;
    ++counters_.failures;
    Deliver(done, r);
    Pump();
  }

  Callback PopInFlight() {
    Callback done = queue_.pop_front();
    in_flight_ = false;
    DisarmDeadline();
    return done;
  }

  // Closes the connection; every handler of it is now stale. Requests are untouched.
  void DropConnection() {
    ++generation_;
    resolver_.cancel();
    WithConn([](auto& c) {
      beast::error_code ignored;
      beast::get_lowest_layer(c->stream).socket().close(ignored);
    });
    current_ = std::monostate{};
    state_ = ConnState::kNone;
    reading_ = false;
    writing_ = false;
    if (!in_flight_) DisarmDeadline();
  }

  void CancelAll(const char* why) {
    closing_ = true;
    in_flight_ = false;
    DropConnection();
    DisarmDeadline();
    HttpResponse r;
    r.transport = absl::CancelledError(absl::StrFormat("%s: %s", where_, why));
    // Request() refuses while closing_, so the queue only shrinks here.
    while (!queue_.empty()) {
      Callback done = queue_.pop_front();
      ++counters_.cancelled;
      Deliver(done, r);
    }
    closing_ = false;
  }

  // Runs one callback. Exceptions stop here so that every other callback still runs once.
  void Deliver(Callback& done, const HttpResponse& r) {
    ++dispatching_;
    ++completed_;
    try {
      if (done) done(r);
    } catch (...) {
      ++counters_.callback_errors;
    }
    --dispatching_;
  }

  // Declared first: destroyed last, after everything that holds its services.
  net::io_context io_{1};
  HttpsClientOptions options_;
  absl::Status config_error_;
  std::string host_header_;
  std::string where_;
  tcp::resolver resolver_{io_};
  net::steady_timer deadline_{io_};
  std::variant<std::monostate, std::shared_ptr<TlsConn>, std::shared_ptr<PlainConn>> current_;
  PendingRing queue_;       // front() is in flight when in_flight_
  HttpResponse response_;   // reused: its header vector keeps its capacity
  std::string spare_body_;  // body storage carried from response to response
  std::string delivering_;  // the body a callback is looking at
  HttpsCounters counters_;
  ConnState state_ = ConnState::kNone;
  uint64_t generation_ = 0;
  uint64_t deadline_id_ = 0;
  uint64_t request_seq_ = 0;
  uint64_t requests_on_conn_ = 0;
  int64_t sent_ns_ = 0;
  int completed_ = 0;
  int dispatching_ = 0;
  bool in_flight_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool host_is_ip_ = false;
};

HttpsClient::HttpsClient(HttpsClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpsClient::~HttpsClient() = default;
absl::Status HttpsClient::Request(HttpRequest request, Callback done) {
  return impl_->Request(std::move(request), std::move(done));
}
absl::Status HttpsClient::RequestRaw(std::string_view target, std::string_view bytes,
                                     Callback done) {
  return impl_->RequestRaw(target, bytes, std::move(done));
}
int HttpsClient::Poll() noexcept { return impl_->Poll(); }
void HttpsClient::Close() { impl_->Close(); }
size_t HttpsClient::pending() const noexcept { return impl_->pending(); }
bool HttpsClient::connected() const noexcept { return impl_->connected(); }
const HttpsCounters& HttpsClient::counters() const noexcept { return impl_->counters(); }

}  // namespace nzeza
