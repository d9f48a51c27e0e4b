// Loopback clients for the sim server tests: a WebSocket probe (nzeza::WsClient) that records
// frames with their arrival times, blocking HTTP helpers over nzeza::HttpsClient, and bounded
// poll loops. Every wait here has a deadline.
#ifndef NZEZA_TESTS_VENUES_SIM_SERVER_TEST_UTIL_H_
#define NZEZA_TESTS_VENUES_SIM_SERVER_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nzeza/net/https_client.h"
#include "nzeza/net/tls.h"
#include "nzeza/net/ws_client.h"

namespace nzeza::sim::testing {

using Clock = std::chrono::steady_clock;

inline int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `poll` until `done()` or `timeout_ms` elapse; true if done.
inline bool PollUntil(const std::function<bool()>& done, const std::function<void()>& poll,
                      int timeout_ms = 10'000) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    poll();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// The integer after "key": in a JSON text; -1 when absent.
inline int64_t JsonInt(std::string_view json, std::string_view key) {
  const std::string k = "\"" + std::string(key) + "\":";
  const size_t p = json.find(k);
  if (p == std::string_view::npos) return -1;
  size_t i = p + k.size();
  while (i < json.size() && json[i] == ' ') ++i;
  if (i < json.size() && json[i] == '"') ++i;  // a quoted number
  return std::strtoll(std::string(json.substr(i, 24)).c_str(), nullptr, 10);
}

// The string after "key": in a JSON text; "" when absent.
inline std::string JsonStr(std::string_view json, std::string_view key) {
  const std::string k = "\"" + std::string(key) + "\":\"";
  const size_t p = json.find(k);
  if (p == std::string_view::npos) return {};
  const size_t b = p + k.size();
  return std::string(json.substr(b, json.find('"', b) - b));
}

inline TlsContext ClientTrusting(const std::string& ca_pem) {
  TlsClientOptions o;
  o.ca_pem = ca_pem;
  absl::StatusOr<TlsContext> ctx = MakeClientTlsContext(o);
  return ctx.ok() ? *ctx : nullptr;
}

// A WebSocket client that sends `subscribe` on every open and records what arrives.
class WsProbe {
 public:
  struct Frame {
    std::string text;
    Clock::time_point at;
    int64_t wall_ns;
  };

  WsProbe(uint16_t port, TlsContext tls, std::string subscribe, std::string target = "/ws",
          std::string host = "127.0.0.1")
      : subscribe_(std::move(subscribe)) {
    WsClientOptions o;
    o.host = std::move(host);
    o.port = port;
    o.target = std::move(target);
    o.tls_context = std::move(tls);
    o.connect_timeout = absl::Seconds(5);
    o.backoff_initial = absl::Milliseconds(20);
    o.backoff_max = absl::Milliseconds(100);
    ws_ = std::make_unique<WsClient>(
        std::move(o),
        WsCallbacks{.on_open =
                        [this] {
                          ++opens;
                          if (!subscribe_.empty()) ws_->Send(subscribe_);
                        },
                    .on_message =
                        [this](const char* data, size_t n, int64_t) {
                          frames.push_back(Frame{std::string(data, n), Clock::now(), WallNowNs()});
                        },
                    .on_close =
                        [this](const absl::Status& why) {
                          ++closes;
                          last_close = why;
                        }});
    start_status = ws_->Start();
  }

  void Poll() { ws_->Poll(); }
  bool PollUntil(const std::function<bool()>& done, int timeout_ms = 10'000) {
    return testing::PollUntil(
        done, [this] { Poll(); }, timeout_ms);
  }
  // Polls for `ms` whatever happens.
  void PollFor(int ms) {
    const auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < end) {
      Poll();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  // Frames on `channel` received so far.
  std::vector<const Frame*> OnChannel(std::string_view channel) const {
    std::vector<const Frame*> out;
    for (const Frame& f : frames) {
      if (JsonStr(f.text, "channel") == channel) out.push_back(&f);
    }
    return out;
  }
  size_t CountChannel(std::string_view channel) const { return OnChannel(channel).size(); }
  WsClient& client() { return *ws_; }

  std::vector<Frame> frames;
  int opens = 0;
  int closes = 0;
  absl::Status last_close;
  absl::Status start_status;

 private:
  std::string subscribe_;
  std::unique_ptr<WsClient> ws_;
};

struct HttpResult {
  absl::Status transport;
  int status = 0;
  std::string body;
  int64_t rtt_ns = 0;
};

// One request over `client`, polled to completion (bounded by the client's request timeout).
inline HttpResult Http(HttpsClient& client, HttpRequest request) {
  HttpResult out;
  bool done = false;
  absl::Status s = client.Request(std::move(request), [&](const HttpResponse& r) {
    out.transport = r.transport;
    out.status = r.status;
    out.body = std::string(r.body);
    out.rtt_ns = r.recv_ns - r.sent_ns;
    done = true;
  });
  if (!s.ok()) {
    out.transport = s;
    return out;
  }
  PollUntil([&] { return done; }, [&] { client.Poll(); }, 15'000);
  if (!done) out.transport = absl::DeadlineExceededError("no response within 15 s");
  return out;
}

inline std::unique_ptr<HttpsClient> HttpsTo(uint16_t port, TlsContext tls) {
  HttpsClientOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.tls_context = std::move(tls);
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(10);
  return std::make_unique<HttpsClient>(std::move(o));
}

inline std::unique_ptr<HttpsClient> HttpTo(uint16_t port) {
  HttpsClientOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.allow_plaintext = true;
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(10);
  return std::make_unique<HttpsClient>(std::move(o));
}

// POST <target> with a JSON body on the admin port.
inline HttpResult AdminPost(uint16_t admin_port, std::string target, std::string body) {
  std::unique_ptr<HttpsClient> c = HttpTo(admin_port);
  return Http(*c, HttpRequest{.method = HttpMethod::kPost,
                              .target = std::move(target),
                              .body = std::move(body),
                              .content_type = "application/json"});
}

inline HttpResult AdminGet(uint16_t admin_port, std::string target) {
  std::unique_ptr<HttpsClient> c = HttpTo(admin_port);
  return Http(*c, HttpRequest{.method = HttpMethod::kGet, .target = std::move(target)});
}

}  // namespace nzeza::sim::testing

#endif  // NZEZA_TESTS_VENUES_SIM_SERVER_TEST_UTIL_H_
