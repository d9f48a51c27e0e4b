// A scripted HTTP/1.1 server on 127.0.0.1 for tests: HTTPS (with a certificate the test makes) or
// plain, synchronous Beast, keep-alive (many requests per connection). An acceptor thread hands
// each connection to a thread of its own; each request goes to the handler, whose Response says
// what to send and what to do with the connection afterwards.
//
//   TestHttpServer server(tls_context, [](const TestHttpServer::Request& r) {
//     if (r.target == "/api/v3/depth?symbol=BTCUSDT&limit=1000") return TestHttpServer::Response{
//         .body = R"({"lastUpdateId":1,"bids":[],"asks":[]})",
//         .headers = {{"Content-Type", "application/json"}}};
//     return TestHttpServer::Response{.status = 404};
//   });
//   ... client talks to 127.0.0.1:server.port() (or "localhost", per the certificate) ...
//   server.requests();  server.connections();  server.received();  // what arrived
//   server.Stop();      // also in the destructor; bounded (see below)
//
// Handler: called on a connection thread, but never by two threads at once (the server holds a
// mutex around it), so it may keep plain state; read that state from the test only after Stop()
// or through atomics. Request headers keep their order and case; Request::Header() looks one up
// by case-insensitive name.
//
// Response: status, body, extra headers (Content-Length is set unless chunked), then:
//   delay_ms    sleep before answering (a request timeout test), cut short by Stop();
//   after       kKeepAlive: wait for the next request on this connection;
//               kClose: answer with "Connection: close", then close;
//               kCloseSilently: answer (keep-alive headers), then close the socket;
//               kDrop: close the socket without answering;
//               kDropMidResponse: send the first half of the response bytes, then close;
//   chunked     send the body with Transfer-Encoding: chunked instead of Content-Length.
// A connection is closed without a TLS close_notify (as many servers do).
//
// Bounded: Stop() sets a stop flag that the accept loop and every sleep poll, and shuts down every
// open connection's socket, which wakes a thread blocked reading it (SO_RCVTIMEO would not: Asio's
// synchronous reads on a blocking socket re-poll without a timeout after EAGAIN). Stop() then
// joins every thread, so a connection the client leaves open costs a thread until then.
//
// Built once into nzeza_test_servers (test_http_server.cc), so the tests that use it do not each
// compile Beast.
#ifndef NZEZA_TESTS_ENGINE_NET_TEST_HTTP_SERVER_H_
#define NZEZA_TESTS_ENGINE_NET_TEST_HTTP_SERVER_H_

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nzeza/net/tls.h"

namespace nzeza::testing {

class TestHttpServer {
 public:
  struct Request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query, as sent
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    int connection = 0;  // which accepted connection carried it (1, 2, ...)

    // A header by case-insensitive name; "" when absent.
    std::string Header(std::string_view name) const {
      for (const auto& [k, v] : headers) {
        if (k.size() == name.size() &&
            std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) ==
                     std::tolower(static_cast<unsigned char>(b));
            })) {
          return v;
        }
      }
      return "";
    }
  };

  enum class After { kKeepAlive, kClose, kCloseSilently, kDrop, kDropMidResponse };

  struct Response {
    int status = 200;
    std::string body{};
    std::vector<std::pair<std::string, std::string>> headers{};
    int delay_ms = 0;
    After after = After::kKeepAlive;
    bool chunked = false;
  };

  using Handler = std::function<Response(const Request&)>;

  // Listens on 127.0.0.1 (an ephemeral port) and starts serving. `tls` null: plain HTTP.
  TestHttpServer(TlsContext tls, Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  uint16_t port() const;

  // Stops accepting, wakes every connection thread and joins them all. Idempotent.
  void Stop();

  int connections() const;  // accepted (TLS or not)
  int requests() const;     // complete requests read
  int tls_failures() const;
  std::vector<Request> received() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_ENGINE_NET_TEST_HTTP_SERVER_H_
