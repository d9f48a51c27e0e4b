// A scripted WebSocket server on 127.0.0.1 for tests: TLS (with a certificate the test makes) or
// plain, one thread, synchronous Beast. Each accepted connection plays the next script: optionally
// wait for one client message (a subscription), send frames, then drop, stall, close or hold the
// connection without reading until Stop(). Built once into nzeza_test_servers (test_ws_server.cc),
// so the tests that use it do not each compile Beast.
//
//   TestWsServer server(tls_context, {{.frames = {"a", "b"}, .then = TestWsServer::kDrop},
//                                     {.frames = {"c"}, .then = TestWsServer::kHold}});
//   ... client connects to 127.0.0.1:server.port() ...
//   server.Stop();   // bounded: every wait in the server polls a stop flag
#ifndef NZEZA_TESTS_ENGINE_NET_TEST_WS_SERVER_H_
#define NZEZA_TESTS_ENGINE_NET_TEST_WS_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "nzeza/net/tls.h"

namespace nzeza::testing {

class TestWsServer {
 public:
  enum Then { kDrop, kStall, kClose, kHold };
  struct Script {
    bool expect_message = true;  // read one client message before sending
    std::vector<std::string> frames = {};
    Then then = kHold;
    int stall_ms = 0;  // kStall: sleep this long without reading, then drop
    // After `frames`, in order: read `read` more client messages, send `frames` (e.g. a resubscribe
    // and the snapshot a venue sends for it).
    struct Exchange {
      int read = 1;
      std::vector<std::string> frames = {};
    };
    std::vector<Exchange> exchanges = {};
  };

  TestWsServer(TlsContext tls, std::vector<Script> scripts);
  ~TestWsServer();
  TestWsServer(const TestWsServer&) = delete;
  TestWsServer& operator=(const TestWsServer&) = delete;

  uint16_t port() const;
  void Stop();
  int connections() const;
  int tls_failures() const;
  std::vector<std::string> received() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_ENGINE_NET_TEST_WS_SERVER_H_
