// SimServer: listeners, connections, the tick, and fault injection (see sim_server.h).
//
// Ownership: everything lives on the I/O thread. A connection is a shared_ptr held by the
// server's registry (while open) and by its pending handlers; Close() removes it from the registry
// and closes its socket, so its handlers complete (operation_aborted) and release it. Stop() closes
// every listener and connection on the I/O thread, which then runs out of work and returns.
#include "nzeza/venues/sim/sim_server.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace nzeza::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using WsStream = websocket::stream<TlsStream>;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

namespace {

constexpr int64_t kMsNs = 1'000'000;
constexpr int64_t kMaxFaultMs = 3'600'000;  // an hour: keeps ms * 1e6 far from overflow
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kCallTimeout = std::chrono::seconds(5);
constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr int64_t kReorderHoldNs = 1'000'000'000;  // reorder_user: a lone frame waits this long
constexpr char kServerName[] = "nzeza-sim";

// Debian's Abseil has its own string_view (not std::string_view).
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

std::string JsonEscape(std::string_view s);

int64_t WallNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Response JsonResponse(http::status status, std::string body, unsigned version, bool keep_alive) {
  Response res(status, version);
  res.set(http::field::server, kServerName);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string ErrorJson(std::string_view error, std::string_view message) {
  return absl::StrCat(R"({"error":")", JsonEscape(error), R"(","message":")", JsonEscape(message),
                      R"("})");
}

// The helpers below are internal; their behaviour is tested through the admin endpoint.

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (PercentDecode(key) == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view FrameChannel(std::string_view frame) {
  // The first "channel" key of the top-level object (Coinbase puts it first); whitespace
  // tolerant. Not a JSON parser: enough to classify frames the Exchange wrote.
  const size_t k = frame.find("\"channel\"");
  if (k == std::string_view::npos) return {};
  size_t i = k + 9;
  while (i < frame.size() && (frame[i] == ' ' || frame[i] == '\t' || frame[i] == '\n' ||
                              frame[i] == '\r' || frame[i] == ':')) {
    ++i;
  }
  if (i >= frame.size() || frame[i] != '"') return {};
  const size_t end = frame.find('"', i + 1);
  if (end == std::string_view::npos) return {};
  return frame.substr(i + 1, end - i - 1);
}

bool IsUserFrame(std::string_view frame) { return FrameChannel(frame) == "user"; }

bool IsMarketDataFrame(std::string_view frame) {
  const std::string_view ch = FrameChannel(frame);
  return ch == "l2_data" || ch == "market_trades" || ch == "ticker" || ch == "ticker_batch" ||
         ch == "candles";
}

absl::StatusOr<SimFault> ParseFaultRequest(std::string_view query, std::string_view body) {
  SimFault f;
  bool have_type = false;
  auto set_int = [](std::string_view key, std::string_view text, int64_t* out) -> absl::Status {
    if (!absl::SimpleAtoi(Av(text), out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", Av(key), "\": expected an integer, got \"", Av(text), "\""));
    }
    return absl::OkStatus();
  };
  // The query string.
  std::string_view q = query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string key = PercentDecode(pair.substr(0, eq));
    const std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    if (key == "type") {
      absl::StatusOr<FaultType> t = ParseFaultType(value);
      if (!t.ok()) return t.status();
      f.type = *t;
      have_type = true;
    } else if (key == "ms") {
      if (absl::Status s = set_int(key, value, &f.ms); !s.ok()) return s;
    } else if (key == "count") {
      if (absl::Status s = set_int(key, value, &f.count); !s.ok()) return s;
    } else if (key == "key") {
      f.key = value;
    } else if (!key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", key, "\": unknown field (expected type, ms, count, key)"));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  // The JSON body.
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(obj) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("the body is not a JSON object");
    }
    for (auto field : obj) {
      std::string_view key;
      if (field.error() != simdjson::SUCCESS ||
          field.unescaped_key().get(key) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("the body is not a valid JSON object");
      }
      const std::string k(key);
      if (k == "type") {
        std::string_view name;
        if (field.value().get_string().get(name) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError("\"type\": expected a string");
        }
        absl::StatusOr<FaultType> t = ParseFaultType(name);
        if (!t.ok()) return t.status();
        f.type = *t;
        have_type = true;
      } else if (k == "ms" || k == "count") {
        int64_t v = 0;
        if (field.value().get_int64().get(v) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError(absl::StrCat("\"", k, "\": expected an integer"));
        }
        (k == "ms" ? f.ms : f.count) = v;
      } else if (k == "key") {
        std::string_view name;
        if (field.value().get_string().get(name) != simdjson::SUCCESS) {
          return absl::InvalidArgumentError("\"key\": expected a string");
        }
        f.key = std::string(name);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", k, "\": unknown field (expected type, ms, count, key)"));
      }
    }
  }
  if (!have_type) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"type\": missing (one of ", FaultTypeNames(), ")"));
  }
  return f;
}

absl::Status ValidateFault(const SimFault& f) {
  if (f.ms < 0 || f.ms > kMaxFaultMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"ms\": must be between 0 and ", kMaxFaultMs, ", got ", f.ms));
  }
  if (f.count < 0 || f.count > 1'000'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"count\": must be between 0 and 1000000000, got ", f.count));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view FaultTypeName(FaultType type) {
  switch (type) {
    case FaultType::kClear:
      return "clear";
    case FaultType::kDisconnect:
      return "disconnect";
    case FaultType::kStall:
      return "stall";
    case FaultType::kGap:
      return "gap";
    case FaultType::kDuplicate:
      return "duplicate";
    case FaultType::kMalformed:
      return "malformed";
    case FaultType::kReject:
      return "reject";
    case FaultType::kLatency:
      return "latency";
    case FaultType::kWithholdCreate:
      return "withhold_create";
    case FaultType::kWithholdCancel:
      return "withhold_cancel";
    case FaultType::kErrorAfterAccept:
      return "error_after_accept";
    case FaultType::kUserDisconnect:
      return "user_disconnect";
    case FaultType::kDuplicateUser:
      return "duplicate_user";
    case FaultType::kReorderUser:
      return "reorder_user";
    case FaultType::kForeignOrder:
      return "foreign_order";
    case FaultType::kListLag:
      return "list_lag";
  }
  return "unknown";
}

namespace {
constexpr FaultType kAllFaults[] = {
    FaultType::kClear,
    FaultType::kDisconnect,
    FaultType::kStall,
    FaultType::kGap,
    FaultType::kDuplicate,
    FaultType::kMalformed,
    FaultType::kReject,
    FaultType::kLatency,
    FaultType::kWithholdCreate,
    FaultType::kWithholdCancel,
    FaultType::kErrorAfterAccept,
    FaultType::kUserDisconnect,
    FaultType::kDuplicateUser,
    FaultType::kReorderUser,
    FaultType::kForeignOrder,
    FaultType::kListLag,
};
}  // namespace

std::string FaultTypeNames() {
  std::string out;
  for (FaultType t : kAllFaults)
    absl::StrAppend(&out, out.empty() ? "" : ", ", Av(FaultTypeName(t)));
  return out;
}

absl::StatusOr<FaultType> ParseFaultType(std::string_view name) {
  for (FaultType t : kAllFaults) {
    if (FaultTypeName(t) == name) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"type\": unknown fault \"", Av(name), "\" (one of ", FaultTypeNames(), ")"));
}

std::string AccountViewJson(const AccountView& view) {
  std::string out = absl::StrCat(R"({"found":)", view.found ? "true" : "false", R"(,"key_name":")",
                                 JsonEscape(view.key_name), R"(","products":[)");
  bool first = true;
  for (const AccountView::Product& p : view.products) {
    if (!first) out += ',';
    first = false;
    absl::StrAppend(&out, R"({"product_id":")", JsonEscape(p.product_id), R"(","base_position":")",
                    JsonEscape(p.base_position), R"(","quote_delta":")", JsonEscape(p.quote_delta),
                    R"(","open_orders":)", p.open_orders, R"(,"fills":)", p.fills, "}");
  }
  out += "]}";
  return out;
}

std::string TotalsJson(const std::vector<ProductTotals>& totals) {
  std::string out = "[";
  for (const ProductTotals& t : totals) {
    if (out.size() > 1) out += ',';
    absl::StrAppend(&out, R"({"product_id":")", JsonEscape(t.product_id), R"(","price_scale":)",
                    t.price_scale, R"(,"size_scale":)", t.size_scale, R"(,"quote_scale":)",
                    t.quote_scale, R"(,"accounts_base":)", t.accounts_base,
                    R"(,"participants_base":)", t.participants_base, R"(,"accounts_quote":)",
                    t.accounts_quote, R"(,"participants_quote":)", t.participants_quote,
                    R"(,"venue_fees":)", t.venue_fees, R"(,"trades":)", t.trades, R"(,"mid":)",
                    t.mid, R"(,"best_bid":)", t.best_bid, R"(,"best_ask":)", t.best_ask,
                    R"(,"resting_orders":)", t.resting_orders, "}");
  }
  out += "]";
  return out;
}

// ---------------------------------------------------------------------------------------------

class SimServer::Impl {
 public:
  class Conn;
  class HttpsConn;
  class AdminConn;
  class WsConn;
  struct Listener {
    explicit Listener(net::io_context& io, bool is_tls) : acceptor(io), retry(io), tls(is_tls) {}
    tcp::acceptor acceptor;
    net::steady_timer retry;  // after an accept error other than a close (e.g. EMFILE)
    bool tls;
  };

  Impl(SimServerOptions options) : options_(std::move(options)) {}
  ~Impl();

  absl::Status Bind();
  void Run(std::unique_ptr<Exchange> exchange);
  void Stop();

  template <typename F>
  auto CallOnIo(F f) -> absl::StatusOr<decltype(f())>;

  // I/O thread.
  void Accept(Listener& l);
  void OnTick();
  void ArmTick();
  void PumpAll(int64_t now);
  // What a fault did: WebSocket connections affected, and more members for the admin reply
  // (",\"order_id\":..." for foreign_order; empty otherwise).
  struct Applied {
    int connections = 0;
    std::string extra;
  };
  absl::StatusOr<Applied> ApplyFault(const SimFault& f, int64_t now);
  void CloseAll();
  void Upgrade(TlsStream stream, Request req);
  Response HandleAdmin(const Request& req);
  std::string HealthJson() const;

  bool stalled(int64_t now) const { return now < stall_until_ns_; }

  // Declaration order is destruction order, reversed: handlers still queued in io_ (a forced
  // stop) are destroyed with io_, while the TLS context and the Exchange they use still live.
  SimServerOptions options_;
  SimServerPorts ports_;
  std::unique_ptr<Exchange> exchange_;
  std::map<uint64_t, std::shared_ptr<Conn>> conns_;  // TLS/REST and admin connections
  std::map<uint64_t, std::shared_ptr<WsConn>> ws_;   // open WebSocket sessions
  std::vector<std::shared_ptr<WsConn>> ws_scratch_;  // PumpAll's snapshot, reused
  std::vector<std::string> frames_scratch_;          // Drain's output, reused
  uint64_t next_conn_id_ = 1;
  int64_t stall_until_ns_ = 0;
  int64_t refuse_until_ns_ = 0;
  int64_t latency_ns_ = 0;
  int64_t start_ns_ = 0;
  struct Scheduled {
    ScheduledFault f;
    int64_t next_ns;
  };
  std::vector<Scheduled> scheduled_;
  std::atomic<bool> stopping_{false};

  struct Counters {
    std::atomic<uint64_t> ws_accepted{0}, ws_open{0}, ws_refused{0}, ws_dropped_slow{0},
        ws_frames_in{0}, ws_frames_out{0}, rest_requests{0}, admin_requests{0}, faults_applied{0},
        frames_dropped{0}, frames_duplicated{0}, frames_malformed{0}, replies_withheld{0},
        user_disconnects{0}, user_frames_duplicated{0}, user_frames_reordered{0};
  } counters_;

  net::io_context io_{1};
  std::optional<Listener> ws_listener_, rest_listener_, admin_listener_;
  net::steady_timer tick_{io_};
  std::chrono::steady_clock::time_point next_tick_{};
  std::thread thread_;
  std::atomic<std::thread::id> io_thread_id_{};
  std::promise<void> exited_;
  std::future<void> exited_future_ = exited_.get_future();
  std::mutex stop_mu_;
  bool started_ = false;
};

// A connection in the registry.
class SimServer::Impl::Conn : public std::enable_shared_from_this<Conn> {
 public:
  virtual ~Conn() = default;
  virtual void Close() = 0;
  uint64_t id = 0;
};

// One WebSocket session.
class SimServer::Impl::WsConn : public std::enable_shared_from_this<WsConn> {
 public:
  WsConn(Impl* srv, TlsStream stream, uint64_t id) : srv_(srv), ws_(std::move(stream)), id_(id) {}

  void Start(Request req) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, kServerName); }));
    ws_.read_message_max(srv_->options_.max_request_bytes);
    ws_.auto_fragment(false);
    req_ = std::move(req);
    srv_->ws_.emplace(id_, shared_from_this());  // in the registry from now: Stop() closes it
    ws_.async_accept(req_,
                     [self = shared_from_this()](beast::error_code ec) { self->OnAccept(ec); });
  }

  // Appends the session's frames (with this connection's pending faults) and writes what is due.
  void Pump(int64_t now) {
    if (closed_ || !session_) return;
    if (srv_->stalled(now)) return;
    if (held_user_.has_value() && now - held_since_ns_ >= kReorderHoldNs) ReleaseHeld();
    std::vector<std::string>& frames = srv_->frames_scratch_;
    frames.clear();
    session_->Drain(now, &frames);
    const int64_t due = now + srv_->latency_ns_;
    const RecurringFaults& every = srv_->options_.recurring;
    const bool recurring =
        every.gap_every_n > 0 || every.duplicate_every_n > 0 || every.malformed_every_n > 0;
    for (std::string& f : frames) {
      const bool market_data =
          (recurring || pending_gap_ > 0 || pending_dup_ > 0 || pending_malformed_ > 0) &&
          IsMarketDataFrame(f);
      if (market_data && recurring) {
        ++md_frames_;
        const auto nth = [this](int64_t n) { return n > 0 && md_frames_ % n == 0; };
        pending_gap_ += nth(every.gap_every_n) ? 1 : 0;
        pending_dup_ += nth(every.duplicate_every_n) ? 1 : 0;
        pending_malformed_ += nth(every.malformed_every_n) ? 1 : 0;
      }
      if (market_data && (pending_gap_ > 0 || pending_dup_ > 0 || pending_malformed_ > 0)) {
        if (pending_gap_ > 0) {
          --pending_gap_;
          srv_->counters_.frames_dropped.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (pending_malformed_ > 0) {
          --pending_malformed_;
          srv_->counters_.frames_malformed.fetch_add(1, std::memory_order_relaxed);
          Enqueue(f.substr(0, f.size() / 2), due);
        }
        if (pending_dup_ > 0) {
          --pending_dup_;
          srv_->counters_.frames_duplicated.fetch_add(1, std::memory_order_relaxed);
          Enqueue(f, due);
        }
      }
      if ((pending_user_dup_ > 0 || pending_user_reorder_ > 0) && IsUserFrame(f)) {
        EnqueueUser(std::move(f), due, now);
      } else {
        Enqueue(std::move(f), due);
      }
      if (closed_) return;
    }
    Flush(now);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::get_lowest_layer(ws_).close();
    srv_->ws_.erase(id_);
    if (session_) srv_->counters_.ws_open.fetch_sub(1, std::memory_order_relaxed);
  }

  bool open() const { return session_ != nullptr && !closed_; }
  // The key name of the connection's `user` subscription ("" without one).
  std::string_view user_key() const {
    return session_ && !closed_ ? session_->user_key() : std::string_view();
  }

  void AddGap() { ++pending_gap_; }
  void AddDuplicate() { ++pending_dup_; }
  void AddMalformed() { ++pending_malformed_; }
  void AddUserDuplicates(int64_t n) { pending_user_dup_ += n; }
  void AddUserReorders(int64_t n) { pending_user_reorder_ += n; }
  void ClearPending() {
    pending_gap_ = pending_dup_ = pending_malformed_ = 0;
    pending_user_dup_ = pending_user_reorder_ = 0;
    if (held_user_.has_value()) ReleaseHeld();
  }

 private:
  struct Out {
    std::string text;
    int64_t due_ns;
  };

  void OnAccept(beast::error_code ec) {
    if (ec || closed_ || srv_->stopping_) {
      Close();
      return;
    }
    session_ = srv_->exchange_->OpenSession();
    if (!session_) {
      Close();
      return;
    }
    srv_->counters_.ws_accepted.fetch_add(1, std::memory_order_relaxed);
    srv_->counters_.ws_open.fetch_add(1, std::memory_order_relaxed);
    Read();
    Pump(WallNs());
  }

  void Read() {
    ws_.async_read(rbuf_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec || closed_) {
      Close();
      return;
    }
    srv_->counters_.ws_frames_in.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = WallNs();
    const std::string_view text(static_cast<const char*>(rbuf_.cdata().data()), rbuf_.size());
    session_->OnClientText(text, now);
    rbuf_.consume(rbuf_.size());
    if (session_->close_requested()) {  // a `user` subscribe while the user channel is down
      srv_->counters_.user_disconnects.fetch_add(1, std::memory_order_relaxed);
      Close();
      return;
    }
    Pump(now);
    if (!closed_) Read();
  }

  void Enqueue(std::string text, int64_t due) {
    queued_bytes_ += text.size();
    queue_.push_back(Out{std::move(text), due});
    if (queued_bytes_ > srv_->options_.max_ws_queue_bytes) {
      srv_->counters_.ws_dropped_slow.fetch_add(1, std::memory_order_relaxed);
      Close();
    }
  }

  // A user-channel frame while duplicate_user / reorder_user is pending.
  void EnqueueUser(std::string text, int64_t due, int64_t now) {
    if (pending_user_reorder_ > 0) {
      if (!held_user_.has_value()) {
        held_user_ = std::move(text);
        held_due_ns_ = due;
        held_since_ns_ = now;
        return;
      }
      // The second of the pair goes first.
      --pending_user_reorder_;
      srv_->counters_.user_frames_reordered.fetch_add(1, std::memory_order_relaxed);
      std::string first = std::move(*held_user_);
      held_user_.reset();
      EnqueueMaybeTwice(std::move(text), due);
      if (!closed_) EnqueueMaybeTwice(std::move(first), due);
      return;
    }
    EnqueueMaybeTwice(std::move(text), due);
  }

  void EnqueueMaybeTwice(std::string text, int64_t due) {
    if (pending_user_dup_ > 0) {
      --pending_user_dup_;
      srv_->counters_.user_frames_duplicated.fetch_add(1, std::memory_order_relaxed);
      Enqueue(text, due);
      if (closed_) return;
    }
    Enqueue(std::move(text), due);
  }

  // A frame held for a reorder goes out alone (no partner came, or a clear).
  void ReleaseHeld() {
    std::string text = std::move(*held_user_);
    held_user_.reset();
    EnqueueMaybeTwice(std::move(text), held_due_ns_);
  }

  void Flush(int64_t now) {
    if (writing_ || closed_ || queue_.empty()) return;
    if (srv_->stalled(now) || queue_.front().due_ns > now) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(
        net::buffer(queue_.front().text),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    writing_ = false;
    if (ec || closed_) {
      Close();
      return;
    }
    srv_->counters_.ws_frames_out.fetch_add(1, std::memory_order_relaxed);
    queued_bytes_ -= queue_.front().text.size();
    queue_.pop_front();
    if (!queue_.empty()) Flush(WallNs());
  }

  Impl* srv_;
  WsStream ws_;
  uint64_t id_;
  Request req_;
  std::unique_ptr<WsSession> session_;
  beast::flat_buffer rbuf_;
  std::deque<Out> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  int64_t md_frames_ = 0;  // market-data frames drained for this connection (RecurringFaults)
  int pending_gap_ = 0;
  int pending_dup_ = 0;
  int pending_malformed_ = 0;
  int64_t pending_user_dup_ = 0;          // duplicate_user
  int64_t pending_user_reorder_ = 0;      // reorder_user: pairs
  std::optional<std::string> held_user_;  // reorder_user: the first frame of a pair
  int64_t held_due_ns_ = 0;
  int64_t held_since_ns_ = 0;
};

// A TLS connection before it is a WebSocket: the handshake, then REST requests (keep-alive)
// until one asks for an upgrade.
class SimServer::Impl::HttpsConn : public Conn {
 public:
  HttpsConn(Impl* srv, tcp::socket socket)
      : srv_(srv),
        stream_(beast::tcp_stream(std::move(socket)), *srv->options_.tls),
        delay_(srv->io_) {}

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = Self()](beast::error_code ec) { self->OnHandshake(ec); });
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    delay_.cancel();
    if (!upgraded_) beast::get_lowest_layer(stream_).close();
    srv_->conns_.erase(id);
  }

 private:
  std::shared_ptr<HttpsConn> Self() {
    return std::static_pointer_cast<HttpsConn>(shared_from_this());
  }

  void OnHandshake(beast::error_code ec) {
    if (ec || closed_) {
      Close();
      return;
    }
    ReadRequest();
  }

  void ReadRequest() {
    beast::get_lowest_layer(stream_).expires_never();
    parser_.emplace();
    parser_->body_limit(srv_->options_.max_request_bytes);
    parser_->header_limit(64 * 1024);
    http::async_read(stream_, buf_, *parser_,
                     [self = Self()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec || closed_) {
      Close();
      return;
    }
    Request req = parser_->release();
    const int64_t now = WallNs();
    if (websocket::is_upgrade(req)) {
      const std::string_view target = req.target();
      const std::string_view path = target.substr(0, target.find('?'));
      if (path != "/" && path != "/ws") {
        Reply(JsonResponse(http::status::not_found,
                           ErrorJson("NOT_FOUND", "WebSocket endpoints are / and /ws"),
                           req.version(), false));
        return;
      }
      if (now < srv_->refuse_until_ns_ || srv_->stopping_) {
        srv_->counters_.ws_refused.fetch_add(1, std::memory_order_relaxed);
        Reply(JsonResponse(http::status::service_unavailable,
                           ErrorJson("UNAVAILABLE", "connections refused (fault injection)"),
                           req.version(), false));
        return;
      }
      upgraded_ = true;
      Impl* srv = srv_;
      Close();  // leaves the registry; the socket now belongs to the WebSocket
      srv->Upgrade(std::move(stream_), std::move(req));
      return;
    }
    srv_->counters_.rest_requests.fetch_add(1, std::memory_order_relaxed);
    const auto auth = req.find(http::field::authorization);
    const std::string_view authorization =
        auth == req.end() ? std::string_view() : std::string_view(auth->value());
    RestReply r = srv_->exchange_->HandleRest(req.method_string(), req.target(), authorization,
                                              req.body(), now);
    Response res = JsonResponse(static_cast<http::status>(r.status), std::move(r.body),
                                req.version(), req.keep_alive());
    srv_->PumpAll(now);  // user-channel updates the request caused
    if (r.withhold_ms >= 0) {
      srv_->counters_.replies_withheld.fetch_add(1, std::memory_order_relaxed);
    }
    if (r.withhold_ms == 0) {  // never answered: silent until the client closes
      Discard();
      return;
    }
    const int64_t delay_ns = r.withhold_ms > 0 ? r.withhold_ms * kMsNs : srv_->latency_ns_;
    if (delay_ns > 0) {
      res_ = std::move(res);
      delay_.expires_after(std::chrono::nanoseconds(delay_ns));
      delay_.async_wait([self = Self()](beast::error_code wec) {
        if (wec || self->closed_) return;
        self->Write();
      });
      return;
    }
    Reply(std::move(res));
  }

  void Reply(Response res) {
    res_ = std::move(res);
    Write();
  }

  // After a reply withheld for good: reads (and drops) whatever comes, only to notice the close.
  void Discard() {
    stream_.async_read_some(net::buffer(discard_), [self = Self()](beast::error_code ec, size_t) {
      if (ec || self->closed_) {
        self->Close();
        return;
      }
      self->Discard();
    });
  }

  void Write() {
    http::async_write(stream_, res_, [self = Self()](beast::error_code ec, size_t) {
      if (ec || self->closed_ || !self->res_.keep_alive()) {
        self->Close();
        return;
      }
      self->ReadRequest();
    });
  }

  Impl* srv_;
  TlsStream stream_;
  net::steady_timer delay_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  std::array<char, 4096> discard_{};
  bool closed_ = false;
  bool upgraded_ = false;
};

// A plain-HTTP admin connection.
class SimServer::Impl::AdminConn : public Conn {
 public:
  AdminConn(Impl* srv, tcp::socket socket) : srv_(srv), stream_(std::move(socket)) {}

  void Start() { ReadRequest(); }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    stream_.close();
    srv_->conns_.erase(id);
  }

 private:
  std::shared_ptr<AdminConn> Self() {
    return std::static_pointer_cast<AdminConn>(shared_from_this());
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    http::async_read(stream_, buf_, *parser_,
                     [self = Self()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec || closed_) {
      Close();
      return;
    }
    srv_->counters_.admin_requests.fetch_add(1, std::memory_order_relaxed);
    res_ = srv_->HandleAdmin(parser_->get());
    http::async_write(stream_, res_, [self = Self()](beast::error_code wec, size_t) {
      if (wec || self->closed_ || !self->res_.keep_alive()) {
        self->Close();
        return;
      }
      self->ReadRequest();
    });
  }

  Impl* srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------------------------

SimServer::Impl::~Impl() {
  Stop();
  // What a forced stop left: connections whose handlers are still queued go with io_; the ones
  // in the registry go now, while io_ still exists.
  ws_.clear();
  conns_.clear();
  ws_scratch_.clear();
}

absl::Status SimServer::Impl::Bind() {
  if (!options_.tls) {
    return absl::InvalidArgumentError("SimServerOptions.tls: a server TLS context is required");
  }
  if (options_.tick_ns < 10'000 || options_.tick_ns > 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SimServerOptions.tick_ns: must be between 10000 and 1000000000, got ", options_.tick_ns));
  }
  for (const ScheduledFault& sf : options_.faults) {
    if (absl::Status s = ValidateFault(sf.fault); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault ", Av(FaultTypeName(sf.fault.type)), ": ", s.message()));
    }
    if (sf.at_ms < 0 || sf.every_ms < 0) {
      return absl::InvalidArgumentError(absl::StrCat("fault ", Av(FaultTypeName(sf.fault.type)),
                                                     ": at_ms and every_ms must be >= 0"));
    }
  }
  const RecurringFaults& r = options_.recurring;
  if (r.gap_every_n < 0 || r.duplicate_every_n < 0 || r.malformed_every_n < 0 ||
      r.reject_every_n < 0) {
    return absl::InvalidArgumentError(
        "SimServerOptions.recurring: the *_every_n counts must be >= 0 (0: off)");
  }
  beast::error_code ec;
  const net::ip::address addr = net::ip::make_address(options_.bind_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("bind address \"", options_.bind_address, "\" is not an IP address"));
  }
  auto open = [&](std::optional<Listener>& l, uint16_t port, bool tls,
                  const char* what) -> absl::Status {
    l.emplace(io_, tls);
    tcp::acceptor& a = l->acceptor;
    const tcp::endpoint ep(addr, port);
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.bind_address, ":",
                                                 port, " (", what, "): ", ec.message()));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = open(ws_listener_, options_.ws_port, true, "WebSocket port"); !s.ok()) {
    return s;
  }
  ports_.ws = ws_listener_->acceptor.local_endpoint().port();
  if (options_.rest_port != 0 && options_.rest_port == options_.ws_port) {
    ports_.rest = ports_.ws;  // one listener serves both
  } else {
    if (absl::Status s = open(rest_listener_, options_.rest_port, true, "REST port"); !s.ok()) {
      return s;
    }
    ports_.rest = rest_listener_->acceptor.local_endpoint().port();
  }
  if (absl::Status s = open(admin_listener_, options_.admin_port, false, "admin port"); !s.ok()) {
    return s;
  }
  ports_.admin = admin_listener_->acceptor.local_endpoint().port();
  return absl::OkStatus();
}

void SimServer::Impl::Run(std::unique_ptr<Exchange> exchange) {
  exchange_ = std::move(exchange);
  exchange_->SetFaults(ExchangeFaults{.reject_every_n = options_.recurring.reject_every_n});
  start_ns_ = WallNs();
  for (const ScheduledFault& sf : options_.faults) {
    scheduled_.push_back(Scheduled{sf, start_ns_ + sf.at_ms * kMsNs});
  }
  for (std::optional<Listener>* l : {&ws_listener_, &rest_listener_, &admin_listener_}) {
    if (l->has_value()) Accept(**l);
  }
  next_tick_ = std::chrono::steady_clock::now();
  ArmTick();
  started_ = true;
  thread_ = std::thread([this] {
    io_thread_id_ = std::this_thread::get_id();
    try {
      io_.run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "nzeza-sim: I/O thread ended by an exception: %s\n", e.what());
    }
    exited_.set_value();
  });
}

void SimServer::Impl::Accept(Listener& l) {
  l.acceptor.async_accept([this, &l](beast::error_code ec, tcp::socket socket) {
    if (stopping_ || ec == net::error::operation_aborted) return;
    if (ec) {
      // E.g. out of descriptors: try again shortly rather than spin.
      l.retry.expires_after(std::chrono::milliseconds(10));
      l.retry.async_wait([this, &l](beast::error_code wec) {
        if (!wec && !stopping_) Accept(l);
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const uint64_t id = next_conn_id_++;
    if (l.tls) {
      auto c = std::make_shared<HttpsConn>(this, std::move(socket));
      c->id = id;
      conns_.emplace(id, c);
      c->Start();
    } else {
      auto c = std::make_shared<AdminConn>(this, std::move(socket));
      c->id = id;
      conns_.emplace(id, c);
      c->Start();
    }
    Accept(l);
  });
}

void SimServer::Impl::Upgrade(TlsStream stream, Request req) {
  auto c = std::make_shared<WsConn>(this, std::move(stream), next_conn_id_++);
  c->Start(std::move(req));
}

void SimServer::Impl::ArmTick() {
  const auto tick = std::chrono::nanoseconds(options_.tick_ns);
  next_tick_ += tick;
  const auto now = std::chrono::steady_clock::now();
  if (next_tick_ < now) next_tick_ = now + tick;  // fell behind: skip, don't burst
  tick_.expires_at(next_tick_);
  tick_.async_wait([this](beast::error_code ec) {
    if (ec || stopping_) return;
    OnTick();
    ArmTick();
  });
}

void SimServer::Impl::OnTick() {
  const int64_t now = WallNs();
  for (Scheduled& s : scheduled_) {
    if (s.next_ns > now) continue;
    if (absl::StatusOr<Applied> a = ApplyFault(s.f.fault, now); !a.ok()) {
      std::fprintf(stderr, "nzeza-sim: scheduled fault %s: %s\n",
                   std::string(FaultTypeName(s.f.fault.type)).c_str(),
                   std::string(a.status().message()).c_str());
    }
    s.next_ns = s.f.every_ms > 0 ? now + s.f.every_ms * kMsNs : std::numeric_limits<int64_t>::max();
  }
  exchange_->Advance(now);
  PumpAll(now);
}

void SimServer::Impl::PumpAll(int64_t now) {
  ws_scratch_.clear();
  for (auto& [id, c] : ws_) ws_scratch_.push_back(c);
  for (const std::shared_ptr<WsConn>& c : ws_scratch_) c->Pump(now);
  ws_scratch_.clear();
}

absl::StatusOr<SimServer::Impl::Applied> SimServer::Impl::ApplyFault(const SimFault& f,
                                                                     int64_t now) {
  counters_.faults_applied.fetch_add(1, std::memory_order_relaxed);
  ws_scratch_.clear();
  Applied applied;
  int& n = applied.connections;  // sessions open (not mid-handshake)
  for (auto& [id, c] : ws_) {
    ws_scratch_.push_back(c);
    n += c->open() ? 1 : 0;
  }
  const int64_t count = std::max<int64_t>(f.count, 1);  // the count faults: 0 means 1
  ExchangeFaults ef = exchange_->faults();
  ef.reject_every_n = options_.recurring.reject_every_n;  // configuration: always kept
  switch (f.type) {
    case FaultType::kClear:
      stall_until_ns_ = 0;
      refuse_until_ns_ = 0;
      latency_ns_ = 0;
      for (auto& c : ws_scratch_) c->ClearPending();
      exchange_->SetFaults(ExchangeFaults{.reject_every_n = options_.recurring.reject_every_n});
      break;
    case FaultType::kDisconnect:
      refuse_until_ns_ = f.ms > 0 ? now + f.ms * kMsNs : 0;
      for (auto& c : ws_scratch_) c->Close();
      break;
    case FaultType::kStall:
      stall_until_ns_ = now + f.ms * kMsNs;
      break;
    case FaultType::kGap:
      for (auto& c : ws_scratch_) c->AddGap();
      break;
    case FaultType::kDuplicate:
      for (auto& c : ws_scratch_) c->AddDuplicate();
      break;
    case FaultType::kMalformed:
      for (auto& c : ws_scratch_) c->AddMalformed();
      break;
    case FaultType::kReject:
      ef.reject_next_orders = f.count;
      exchange_->SetFaults(ef);
      break;
    case FaultType::kLatency:
      latency_ns_ = f.ms * kMsNs;
      break;
    case FaultType::kWithholdCreate:
      ef.withhold_create_next = count;
      ef.withhold_create_ms = f.ms;
      exchange_->SetFaults(ef);
      break;
    case FaultType::kWithholdCancel:
      ef.withhold_cancel_next = count;
      ef.withhold_cancel_ms = f.ms;
      exchange_->SetFaults(ef);
      break;
    case FaultType::kErrorAfterAccept:
      ef.error_after_accept_next = count;
      exchange_->SetFaults(ef);
      break;
    case FaultType::kUserDisconnect: {
      if (!f.key.empty() && !exchange_->Account(f.key).found) {
        ws_scratch_.clear();
        return absl::NotFoundError(absl::StrCat("\"key\": no API key named \"", f.key, "\""));
      }
      ef.user_down_until_ns = f.ms > 0 ? now + f.ms * kMsNs : 0;
      ef.user_down_key = f.key;
      exchange_->SetFaults(ef);
      n = 0;
      for (auto& c : ws_scratch_) {
        const std::string_view key = c->user_key();
        if (key.empty() || (!f.key.empty() && key != f.key)) continue;
        c->Close();
        ++n;
      }
      counters_.user_disconnects.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      break;
    }
    case FaultType::kDuplicateUser:
      for (auto& c : ws_scratch_) c->AddUserDuplicates(count);
      break;
    case FaultType::kReorderUser:
      for (auto& c : ws_scratch_) c->AddUserReorders(count);
      break;
    case FaultType::kForeignOrder: {
      absl::StatusOr<ForeignOrder> o = exchange_->PlaceForeignOrder(f.key, now);
      if (!o.ok()) {
        ws_scratch_.clear();
        return o.status();
      }
      applied.extra = absl::StrCat(
          R"(,"key":")", JsonEscape(o->key_name), R"(","order_id":")", JsonEscape(o->order_id),
          R"(","client_order_id":")", JsonEscape(o->client_order_id), R"(","product_id":")",
          JsonEscape(o->product_id), R"(","side":")", JsonEscape(o->side), R"(","limit_price":")",
          JsonEscape(o->limit_price), R"(","base_size":")", JsonEscape(o->base_size), R"(")");
      ws_scratch_.clear();
      PumpAll(now);  // the user channel hears of it now
      return applied;
    }
    case FaultType::kListLag:
      ef.list_lag_ms = f.ms;
      exchange_->SetFaults(ef);
      break;
  }
  ws_scratch_.clear();
  return applied;
}

void SimServer::Impl::CloseAll() {
  stopping_ = true;
  beast::error_code ignored;
  for (std::optional<Listener>* l : {&ws_listener_, &rest_listener_, &admin_listener_}) {
    if (!l->has_value()) continue;
    (*l)->acceptor.close(ignored);
    (*l)->retry.cancel();
  }
  tick_.cancel();
  std::vector<std::shared_ptr<Conn>> conns;
  for (auto& [id, c] : conns_) conns.push_back(c);
  for (auto& c : conns) c->Close();
  std::vector<std::shared_ptr<WsConn>> ws;
  for (auto& [id, c] : ws_) ws.push_back(c);
  for (auto& c : ws) c->Close();
}

void SimServer::Impl::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (!thread_.joinable()) {
    stopping_ = true;
    return;
  }
  stopping_ = true;
  net::post(io_, [this] { CloseAll(); });
  if (exited_future_.wait_for(kStopGrace) != std::future_status::ready) io_.stop();
  thread_.join();
}

template <typename F>
auto SimServer::Impl::CallOnIo(F f) -> absl::StatusOr<decltype(f())> {
  using R = decltype(f());
  if (stopping_ || !started_) return absl::FailedPreconditionError("the sim server is stopped");
  if (std::this_thread::get_id() == io_thread_id_) return f();
  auto p = std::make_shared<std::promise<R>>();
  std::future<R> fut = p->get_future();
  net::post(io_, [p, f]() mutable { p->set_value(f()); });
  if (fut.wait_for(kCallTimeout) != std::future_status::ready) {
    return absl::DeadlineExceededError("the sim server's I/O thread did not answer within 5 s");
  }
  try {
    return fut.get();
  } catch (const std::future_error&) {
    return absl::FailedPreconditionError("the sim server stopped");
  }
}

Response SimServer::Impl::HandleAdmin(const Request& req) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  const std::string_view target = req.target();
  const size_t qpos = target.find('?');
  const std::string_view path = target.substr(0, qpos);
  const std::string_view query =
      qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1);
  if (path == "/admin/health") {
    if (req.method() != http::verb::get) {
      return JsonResponse(http::status::method_not_allowed,
                          ErrorJson("METHOD_NOT_ALLOWED", "use GET"), v, ka);
    }
    return JsonResponse(http::status::ok, HealthJson(), v, ka);
  }
  if (path == "/admin/account") {
    if (req.method() != http::verb::get) {
      return JsonResponse(http::status::method_not_allowed,
                          ErrorJson("METHOD_NOT_ALLOWED", "use GET"), v, ka);
    }
    const std::optional<std::string> key = QueryParam(query, "key");
    if (!key.has_value() || key->empty()) {
      return JsonResponse(http::status::bad_request,
                          ErrorJson("INVALID_ARGUMENT", "\"key\": missing (?key=<key name>)"), v,
                          ka);
    }
    const AccountView view = exchange_->Account(*key);
    return JsonResponse(view.found ? http::status::ok : http::status::not_found,
                        AccountViewJson(view), v, ka);
  }
  if (path == "/admin/trade_through") {
    if (req.method() != http::verb::post) {
      return JsonResponse(http::status::method_not_allowed,
                          ErrorJson("METHOD_NOT_ALLOWED", "use POST"), v, ka);
    }
    const std::optional<std::string> key = QueryParam(query, "key");
    if (!key.has_value() || key->empty()) {
      return JsonResponse(http::status::bad_request,
                          ErrorJson("INVALID_ARGUMENT", "\"key\": missing (?key=<key name>)"), v,
                          ka);
    }
    const int n = exchange_->TradeThroughOpenOrders(*key, WallNs());
    if (n < 0) {
      return JsonResponse(http::status::not_found,
                          ErrorJson("NOT_FOUND", "no account with that key"), v, ka);
    }
    return JsonResponse(http::status::ok, absl::StrCat(R"({"ok":true,"orders":)", n, "}"), v, ka);
  }
  if (path == "/admin/totals") {
    if (req.method() != http::verb::get) {
      return JsonResponse(http::status::method_not_allowed,
                          ErrorJson("METHOD_NOT_ALLOWED", "use GET"), v, ka);
    }
    return JsonResponse(http::status::ok, TotalsJson(exchange_->Totals()), v, ka);
  }
  if (path == "/admin/fault") {
    if (req.method() != http::verb::post) {
      return JsonResponse(http::status::method_not_allowed,
                          ErrorJson("METHOD_NOT_ALLOWED", "use POST"), v, ka);
    }
    absl::StatusOr<SimFault> f = ParseFaultRequest(query, req.body());
    absl::Status valid = f.ok() ? ValidateFault(*f) : f.status();
    if (!valid.ok()) {
      return JsonResponse(http::status::bad_request,
                          ErrorJson("INVALID_ARGUMENT", Sv(valid.message())), v, ka);
    }
    const absl::StatusOr<Applied> a = ApplyFault(*f, WallNs());
    if (!a.ok()) {
      const absl::StatusCode code = a.status().code();
      return JsonResponse(
          code == absl::StatusCode::kNotFound             ? http::status::not_found
          : code == absl::StatusCode::kFailedPrecondition ? http::status::conflict
                                                          : http::status::bad_request,
          ErrorJson(code == absl::StatusCode::kNotFound             ? "NOT_FOUND"
                    : code == absl::StatusCode::kFailedPrecondition ? "FAILED_PRECONDITION"
                                                                    : "INVALID_ARGUMENT",
                    Sv(a.status().message())),
          v, ka);
    }
    return JsonResponse(
        http::status::ok,
        absl::StrCat(R"({"ok":true,"type":")", Av(FaultTypeName(f->type)), R"(","ms":)", f->ms,
                     R"(,"count":)", f->count, R"(,"connections":)", a->connections, a->extra, "}"),
        v, ka);
  }
  return JsonResponse(http::status::not_found,
                      ErrorJson("NOT_FOUND",
                                "admin endpoints: POST /admin/fault, GET "
                                "/admin/account?key=..., POST /admin/trade_through?key=..., GET "
                                "/admin/totals, GET /admin/health"),
                      v, ka);
}

std::string SimServer::Impl::HealthJson() const {
  const int64_t now = WallNs();
  const Counters& c = counters_;
  auto ld = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return absl::StrCat(
      R"({"status":"ok","ws_port":)", ports_.ws, R"(,"rest_port":)", ports_.rest,
      R"(,"admin_port":)", ports_.admin, R"(,"ws_open":)", ld(c.ws_open), R"(,"ws_accepted":)",
      ld(c.ws_accepted), R"(,"ws_refused":)", ld(c.ws_refused), R"(,"ws_frames_out":)",
      ld(c.ws_frames_out), R"(,"ws_frames_in":)", ld(c.ws_frames_in), R"(,"rest_requests":)",
      ld(c.rest_requests), R"(,"faults_applied":)", ld(c.faults_applied), R"(,"frames_dropped":)",
      ld(c.frames_dropped), R"(,"frames_duplicated":)", ld(c.frames_duplicated),
      R"(,"frames_malformed":)", ld(c.frames_malformed), R"(,"replies_withheld":)",
      ld(c.replies_withheld), R"(,"user_disconnects":)", ld(c.user_disconnects),
      R"(,"user_frames_duplicated":)", ld(c.user_frames_duplicated), R"(,"user_frames_reordered":)",
      ld(c.user_frames_reordered), R"(,"stalled":)", stalled(now) ? "true" : "false",
      R"(,"refusing":)", now < refuse_until_ns_ ? "true" : "false", R"(,"latency_ms":)",
      latency_ns_ / kMsNs, "}");
}

// ---------------------------------------------------------------------------------------------

SimServer::SimServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SimServer::~SimServer() { Stop(); }

absl::StatusOr<std::unique_ptr<SimServer>> SimServer::Start(SimServerOptions options,
                                                            ExchangeFactory factory) {
  if (!factory) return absl::InvalidArgumentError("SimServer::Start: no Exchange factory");
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Bind(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Exchange>> ex = factory(impl->ports_);
  if (!ex.ok()) return ex.status();
  if (*ex == nullptr) return absl::InvalidArgumentError("the Exchange factory returned null");
  impl->Run(std::move(*ex));
  return std::unique_ptr<SimServer>(new SimServer(std::move(impl)));
}

const SimServerPorts& SimServer::ports() const { return impl_->ports_; }

absl::StatusOr<int> SimServer::InjectFault(const SimFault& fault) {
  if (absl::Status s = ValidateFault(fault); !s.ok()) return s;
  Impl* impl = impl_.get();
  absl::StatusOr<absl::StatusOr<Impl::Applied>> r =
      impl->CallOnIo([impl, fault] { return impl->ApplyFault(fault, WallNs()); });
  if (!r.ok()) return r.status();
  if (!r->ok()) return r->status();
  return (*r)->connections;
}

absl::StatusOr<AccountView> SimServer::Account(std::string_view key_name) {
  Impl* impl = impl_.get();
  std::string key(key_name);
  return impl->CallOnIo([impl, key] { return impl->exchange_->Account(key); });
}

SimServerStats SimServer::stats() const {
  const Impl::Counters& c = impl_->counters_;
  auto ld = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  SimServerStats s;
  s.ws_accepted = ld(c.ws_accepted);
  s.ws_open = ld(c.ws_open);
  s.ws_refused = ld(c.ws_refused);
  s.ws_dropped_slow = ld(c.ws_dropped_slow);
  s.ws_frames_in = ld(c.ws_frames_in);
  s.ws_frames_out = ld(c.ws_frames_out);
  s.rest_requests = ld(c.rest_requests);
  s.admin_requests = ld(c.admin_requests);
  s.faults_applied = ld(c.faults_applied);
  s.frames_dropped = ld(c.frames_dropped);
  s.frames_duplicated = ld(c.frames_duplicated);
  s.frames_malformed = ld(c.frames_malformed);
  s.replies_withheld = ld(c.replies_withheld);
  s.user_disconnects = ld(c.user_disconnects);
  s.user_frames_duplicated = ld(c.user_frames_duplicated);
  s.user_frames_reordered = ld(c.user_frames_reordered);
  return s;
}

void SimServer::Stop() { impl_->Stop(); }

}  // namespace nzeza::sim
