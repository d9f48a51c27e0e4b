#include "nzeza/net/ws_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/core/clock.h"
#include "nzeza/net/tls.h"
#include "test_ws_server.h"

namespace nzeza {
namespace {

using testing::TestWsServer;

// One certificate for the whole binary: generating EC keys is cheap, but the tests read better.
const SelfSignedCert& LoopbackCert() {
  static const SelfSignedCert cert = *GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  return cert;
}

TlsContext ServerContext(const SelfSignedCert& cert) {
  absl::StatusOr<TlsContext> ctx = MakeServerTlsContext(cert.cert_pem, cert.key_pem);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

TlsContext ClientTrusting(const std::string& ca_pem) {
  TlsClientOptions o;
  o.ca_pem = ca_pem;
  absl::StatusOr<TlsContext> ctx = MakeClientTlsContext(o);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

// Polls until `done` or the deadline (bounded: tests never hang).
template <typename F>
bool PollUntil(WsClient& ws, F done, int timeout_ms = 10'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (ws.Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

struct Recorder {
  std::vector<std::string> messages;
  std::vector<std::string> closes;
  int opens = 0;
  bool padding_ok = true;
  int64_t last_recv_ns = 0;
  std::vector<std::chrono::steady_clock::time_point> close_times;
};

WsCallbacks Record(Recorder& r, WsClient*& self, std::string subscribe = "subscribe") {
  return WsCallbacks{
      .on_open =
          [&r, &self, subscribe] {
            ++r.opens;
            self->Send(subscribe);
          },
      .on_message =
          [&r](const char* data, size_t n, int64_t recv_ns) {
            r.messages.emplace_back(data, n);
            // The padding is readable (ASan would flag a read outside the buffer).
            volatile char sink = 0;
            for (size_t i = 0; i < kReceivePadding; ++i) sink = sink + data[n + i];
            r.last_recv_ns = recv_ns;
          },
      .on_close =
          [&r](const absl::Status& why) {
            r.closes.emplace_back(why.message());
            r.close_times.push_back(std::chrono::steady_clock::now());
          },
  };
}

WsClientOptions Options(uint16_t port, TlsContext tls) {
  return WsClientOptions{.host = "127.0.0.1",
                         .port = port,
                         .target = "/ws",
                         .tls_context = std::move(tls),
                         .connect_timeout = absl::Seconds(5),
                         .idle_timeout = absl::Seconds(20),
                         .backoff_initial = absl::Milliseconds(10),
                         .backoff_max = absl::Milliseconds(50)};
}

TEST(WsClient, TlsSessionSubscribesReceivesAndResubscribesAfterADrop) {
  const SelfSignedCert& cert = LoopbackCert();
  TestWsServer server(
      ServerContext(cert),
      {{.frames = {R"({"seq":1})", R"({"seq":2})", R"({"seq":3})"}, .then = TestWsServer::kDrop},
       {.frames = {R"({"seq":4})"}, .then = TestWsServer::kHold}});
  Recorder r;
  WsClient* self = nullptr;
  WsClient ws(Options(server.port(), ClientTrusting(cert.cert_pem)), Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return r.messages.size() >= 4; })) << ws.last_error();
  EXPECT_EQ(r.messages, (std::vector<std::string>{R"({"seq":1})", R"({"seq":2})", R"({"seq":3})",
                                                  R"({"seq":4})"}));
  EXPECT_EQ(r.opens, 2) << "on_open runs again after the reconnect";
  EXPECT_EQ(server.received(), (std::vector<std::string>{"subscribe", "subscribe"}));
  ASSERT_EQ(r.closes.size(), 1u);
  EXPECT_NE(r.closes[0].find("session dropped"), std::string::npos) << r.closes[0];
  EXPECT_EQ(ws.counters().connects, 2u);
  EXPECT_GE(ws.counters().reconnects, 1u);
  EXPECT_EQ(ws.counters().messages, 4u);
  EXPECT_EQ(ws.state(), WsClient::State::kOpen);
  EXPECT_GT(r.last_recv_ns, 0);
  ws.Close();  // the holding server never answers the close frame: bounded by connect_timeout
  PollUntil(
      ws, [&] { return ws.state() == WsClient::State::kClosed; }, 8'000);
  EXPECT_EQ(ws.state(), WsClient::State::kClosed);
  server.Stop();
}

TEST(WsClient, UntrustedCertificateIsRefused) {
  const SelfSignedCert& cert = LoopbackCert();
  absl::StatusOr<SelfSignedCert> other = GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  ASSERT_TRUE(other.ok());
  TestWsServer server(ServerContext(cert), {{.frames = {"secret"}}});
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(server.port(), ClientTrusting(other->cert_pem));
  o.max_reconnects = 0;
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return ws.state() == WsClient::State::kClosed; }));
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.opens, 0);
  EXPECT_NE(ws.last_error().message().find("TLS handshake"), std::string::npos) << ws.last_error();
  EXPECT_NE(ws.last_error().message().find("certificate verify failed"), std::string::npos)
      << ws.last_error();
  server.Stop();
}

TEST(WsClient, CertificateWithoutTheAddressIsRefused) {
  // Valid chain, but the certificate names only "localhost": connecting by IP must fail.
  absl::StatusOr<SelfSignedCert> dns_only = GenerateSelfSignedCert({"localhost"}, {});
  ASSERT_TRUE(dns_only.ok());
  TestWsServer server(ServerContext(*dns_only), {{.frames = {"x"}}});
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(server.port(), ClientTrusting(dns_only->cert_pem));
  o.max_reconnects = 0;
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return ws.state() == WsClient::State::kClosed; }));
  EXPECT_TRUE(r.messages.empty());
  EXPECT_NE(ws.last_error().message().find("certificate verify failed"), std::string::npos)
      << ws.last_error();
  server.Stop();
}

TEST(WsClient, PlaintextOnlyWhenAskedFor) {
  WsClient refused(Options(1, nullptr), WsCallbacks{});
  absl::Status s = refused.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("allow_plaintext"), std::string_view::npos);

  TestWsServer server(nullptr, {{.frames = {"plain"}, .then = TestWsServer::kHold}});
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(server.port(), nullptr);
  o.allow_plaintext = true;
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return !r.messages.empty(); })) << ws.last_error();
  EXPECT_EQ(r.messages[0], "plain");
  server.Stop();
}

TEST(WsClient, IdleTimeoutReconnects) {
  const SelfSignedCert& cert = LoopbackCert();
  // The first server connection goes silent (and ignores pings) for 3 s, far longer than the
  // 400 ms idle timeout; the (single-threaded) server then takes the second connection.
  TestWsServer server(ServerContext(cert),
                      {{.frames = {"one"}, .then = TestWsServer::kStall, .stall_ms = 3'000},
                       {.frames = {"two"}, .then = TestWsServer::kHold}});
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(server.port(), ClientTrusting(cert.cert_pem));
  o.idle_timeout = absl::Milliseconds(400);
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(PollUntil(ws, [&] { return r.messages.size() >= 2; })) << ws.last_error();
  EXPECT_EQ(r.messages[1], "two");
  ASSERT_FALSE(r.closes.empty());
  EXPECT_LT(r.close_times[0] - t0, std::chrono::milliseconds(2'000))
      << "the idle timeout, not the server's 3 s stall, ended the first session: " << r.closes[0];
  server.Stop();
}

TEST(WsClient, OversizedMessageFailsTheSessionNotTheProcess) {
  const SelfSignedCert& cert = LoopbackCert();
  TestWsServer server(
      ServerContext(cert),
      {{.frames = {std::string(4096, 'x')}, .then = TestWsServer::kStall, .stall_ms = 1'000},
       {.frames = {"small"}, .then = TestWsServer::kHold}});
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(server.port(), ClientTrusting(cert.cert_pem));
  o.max_message_bytes = 1024;
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return !r.messages.empty(); })) << ws.last_error();
  EXPECT_EQ(r.messages[0], "small");
  ASSERT_FALSE(r.closes.empty());
  EXPECT_NE(r.closes[0].find("read"), std::string::npos) << r.closes[0];
  server.Stop();
}

TEST(WsClient, ConnectionRefusedBacksOffAndGivesUpWhenTold) {
  // A port nothing listens on: bind one, then close it.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = a.local_endpoint().port();
  a.close();
  Recorder r;
  WsClient* self = nullptr;
  WsClientOptions o = Options(port, ClientTrusting(LoopbackCert().cert_pem));
  o.max_reconnects = 3;
  WsClient ws(o, Record(r, self));
  self = &ws;
  ASSERT_TRUE(ws.Start().ok());
  ASSERT_TRUE(PollUntil(ws, [&] { return ws.state() == WsClient::State::kClosed; }));
  EXPECT_EQ(ws.counters().reconnects, 3u);
  EXPECT_EQ(ws.counters().failures, 4u);
  EXPECT_EQ(r.closes.size(), 4u);
  EXPECT_NE(ws.last_error().message().find("TCP connect"), std::string::npos) << ws.last_error();
}

TEST(Tls, BadInputsGiveClearErrors) {
  TlsClientOptions missing_file;
  missing_file.ca_file = "/nonexistent/ca.pem";
  absl::StatusOr<TlsContext> missing = MakeClientTlsContext(missing_file);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/ca.pem"), std::string_view::npos);
  TlsClientOptions junk;
  junk.ca_pem = "not a certificate";
  EXPECT_FALSE(MakeClientTlsContext(junk).ok());
  const SelfSignedCert& cert = LoopbackCert();
  absl::StatusOr<SelfSignedCert> other = GenerateSelfSignedCert({"x"}, {});
  ASSERT_TRUE(other.ok());
  absl::StatusOr<TlsContext> mismatched = MakeServerTlsContext(cert.cert_pem, other->key_pem);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not match"), std::string_view::npos);
  EXPECT_FALSE(GenerateSelfSignedCert({"x"}, {"300.1.1.1"}).ok());
  EXPECT_TRUE(MakeClientTlsContext(TlsClientOptions{}).ok()) << "system store loads";
}

}  // namespace
}  // namespace nzeza
