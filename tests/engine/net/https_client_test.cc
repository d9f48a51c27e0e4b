#include "nzeza/net/https_client.h"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/core/clock.h"
#include "nzeza/net/tls.h"
#include "test_http_server.h"

namespace nzeza {
namespace {

using testing::TestHttpServer;
using After = TestHttpServer::After;

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

HttpsClientOptions Options(uint16_t port, TlsContext tls, std::string host = "127.0.0.1") {
  HttpsClientOptions o;
  o.host = std::move(host);
  o.port = port;
  o.tls_context = std::move(tls);
  o.connect_timeout = absl::Seconds(5);
  o.request_timeout = absl::Seconds(5);
  return o;
}

// Polls until `done` or the deadline (bounded: tests never hang).
template <typename F>
bool PollUntil(HttpsClient& client, F done, int timeout_ms = 10'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (client.Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Polls for a while, whatever happens (to see that nothing more does).
void PollFor(HttpsClient& client, int ms) {
  PollUntil(
      client, [] { return false; }, ms);
}

// What one callback saw. calls counts invocations: exactly one is the contract.
struct Result {
  int calls = 0;
  absl::Status transport = absl::UnknownError("callback never ran");
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  int64_t sent_ns = 0;
  int64_t recv_ns = 0;
  bool done() const { return calls > 0; }
};

HttpsClient::Callback Capture(Result& r) {
  return [&r](const HttpResponse& resp) {
    ++r.calls;
    r.transport = resp.transport;
    r.status = resp.status;
    r.body = std::string(resp.body);
    r.headers.clear();  // views valid only during the callback: copied
    for (const auto& [k, v] : resp.headers) r.headers.emplace_back(k, v);
    r.content_type = std::string(resp.Header("cOnTeNt-TyPe"));
    r.sent_ns = resp.sent_ns;
    r.recv_ns = resp.recv_ns;
    if (resp.transport.ok()) {
      // The padding is readable: under ASan a read past the buffer would abort the test.
      volatile char sink = 0;
      for (size_t i = 0; i < kReceivePadding; ++i)
        sink = sink + resp.body.data()[resp.body.size() + i];
      EXPECT_EQ(resp.body.data()[resp.body.size() + kReceivePadding - 1], '\0');
    }
  };
}

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}

// A port nothing listens on: bind one, then close it.
uint16_t ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = a.local_endpoint().port();
  a.close();
  return port;
}

TEST(HttpResponse, HeaderLookupIsCaseInsensitive) {
  HttpResponse r;
  r.headers = {{"Content-Type", "application/json"}, {"x-mbx-used-weight-1m", "7"}};
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r.Header("X-MBX-USED-WEIGHT-1M"), "7");
  EXPECT_EQ(r.Header("Content-Typ"), "");
  EXPECT_EQ(r.Header("absent"), "");
}

TEST(HttpsClient, GetOverTlsDeliversStatusHeadersAndPaddedBody) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{
        .status = r.target == "/api/v3/depth?symbol=BTCUSDT&limit=5" ? 200 : 404,
        .body = R"({"lastUpdateId":42})",
        .headers = {{"Content-Type", "application/json"}, {"X-MBX-USED-WEIGHT-1M", "5"}}};
  });
  const TscClock clock = TscClock::Fallback();
  // Designated initializers as in the header's example (no -Wmissing-field-initializers).
  HttpsClient client(HttpsClientOptions{.host = "127.0.0.1",
                                        .port = server.port(),
                                        .tls_context = ClientTrusting(cert.cert_pem),
                                        .clock = &clock});
  EXPECT_FALSE(client.connected()) << "nothing opens before the first request";
  Result r;
  const int64_t t0 = MonotonicNanos();
  ASSERT_TRUE(
      client
          .Request({.method = HttpMethod::kGet, .target = "/api/v3/depth?symbol=BTCUSDT&limit=5"},
                   Capture(r))
          .ok());
  EXPECT_EQ(client.pending(), 1u);
  EXPECT_EQ(r.calls, 0) << "callbacks run from Poll(), never from Request()";
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"lastUpdateId":42})");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_GE(r.sent_ns, t0);
  EXPECT_GE(r.recv_ns, r.sent_ns);
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.pending(), 0u);
  EXPECT_EQ(client.counters().requests, 1u);
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().failures, 0u);

  server.Stop();
  const std::vector<TestHttpServer::Request> got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].Header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got[0].Header("user-agent"), "nzeza/0.1");
  EXPECT_EQ(got[0].Header("content-length"), "") << "a GET without a body has no length";
  EXPECT_TRUE(got[0].body.empty());
}

TEST(HttpsClient, DnsNameIsVerifiedWithSni) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{.body = "ok"};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem), "localhost"));
  Result r;
  ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.body, "ok");
  server.Stop();
  EXPECT_EQ(server.received().at(0).Header("Host"), "localhost:" + std::to_string(server.port()));
}

TEST(HttpsClient, KeepAliveSendsQueuedRequestsInOrderOnOneConnection) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{.body = "echo " + r.target};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  std::vector<int> order;
  Result results[4];
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client
                    .Request(Get("/r" + std::to_string(i)),
                             [&, i](const HttpResponse& resp) {
                               order.push_back(i);
                               Capture(results[i])(resp);
                             })
                    .ok());
  }
  EXPECT_EQ(client.pending(), 3u);
  ASSERT_TRUE(PollUntil(client, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].transport.ok()) << results[i].transport;
    EXPECT_EQ(results[i].body, "echo /r" + std::to_string(i));
  }
  // And a later one, after the connection sat idle, goes on the same connection.
  PollFor(client, 50);
  ASSERT_TRUE(client.Request(Get("/later"), Capture(results[3])).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return results[3].done(); }));
  ASSERT_TRUE(results[3].transport.ok()) << results[3].transport;
  EXPECT_EQ(client.counters().connects, 1u);
  EXPECT_EQ(client.counters().reused, 3u);
  EXPECT_EQ(client.counters().requests, 4u);
  server.Stop();
  EXPECT_EQ(server.connections(), 1);
  std::vector<std::string> targets;
  for (const auto& r : server.received()) targets.push_back(r.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"/r0", "/r1", "/r2", "/later"}));
}

TEST(HttpsClient, ServerCloseReopensForTheNextRequest) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    if (r.target == "/close")
      return TestHttpServer::Response{.body = "bye", .after = After::kClose};
    if (r.target == "/silent") {
      return TestHttpServer::Response{.body = "quiet", .after = After::kCloseSilently};
    }
    return TestHttpServer::Response{.body = "hi"};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  Result a, b, c, d;
  // "Connection: close": the client closes at once, and the request queued behind gets a new
  // connection.
  ASSERT_TRUE(client.Request(Get("/close"), Capture(a)).ok());
  ASSERT_TRUE(client.Request(Get("/silent"), Capture(b)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return b.done(); }));
  ASSERT_TRUE(a.transport.ok()) << a.transport;
  EXPECT_EQ(a.body, "bye");
  ASSERT_TRUE(b.transport.ok()) << b.transport;
  EXPECT_EQ(b.body, "quiet");
  // The server then closed without a word: the client notices while idle...
  ASSERT_TRUE(PollUntil(client, [&] { return !client.connected(); }));
  // ...and the next request opens a third connection instead of failing on the dead one.
  ASSERT_TRUE(client.Request(Get("/again"), Capture(c)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return c.done(); }));
  ASSERT_TRUE(c.transport.ok()) << c.transport;
  EXPECT_EQ(c.body, "hi");
  ASSERT_TRUE(client.Request(Get("/reuse"), Capture(d)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return d.done(); }));
  ASSERT_TRUE(d.transport.ok()) << d.transport;
  EXPECT_EQ(client.counters().connects, 3u);
  EXPECT_EQ(client.counters().reused, 1u);
  EXPECT_EQ(client.counters().failures, 0u);
  server.Stop();
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(server.requests(), 4);
}

TEST(HttpsClient, PostPutDeleteCarryBodyAndHeaders) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{.status = 201, .body = r.method + " " + r.body};
  });
  HttpsClientOptions o = Options(server.port(), ClientTrusting(cert.cert_pem));
  o.user_agent = "nzeza-test/1";
  HttpsClient client(o);
  const HttpRequest post{.method = HttpMethod::kPost,
                         .target = "/api/v3/order",
                         .headers = {{"X-MBX-APIKEY", "key-123"}, {"X-Trace", "a b c"}},
                         .body = R"({"symbol":"BTCUSDT","side":"BUY","quantity":"0.001"})",
                         .content_type = "application/json"};
  HttpRequest put;
  put.method = HttpMethod::kPut;
  put.target = "/put";
  put.body = "p";
  HttpRequest del;
  del.method = HttpMethod::kDelete;
  del.target = "/api/v3/order?orderId=7";
  HttpRequest empty_post;
  empty_post.method = HttpMethod::kPost;
  empty_post.target = "/listenKey";
  Result rp, ru, rd, re;
  ASSERT_TRUE(client.Request(post, Capture(rp)).ok());
  ASSERT_TRUE(client.Request(put, Capture(ru)).ok());
  ASSERT_TRUE(client.Request(del, Capture(rd)).ok());
  ASSERT_TRUE(client.Request(empty_post, Capture(re)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return re.done(); }));
  ASSERT_TRUE(rp.transport.ok()) << rp.transport;
  EXPECT_EQ(rp.status, 201);
  EXPECT_EQ(rp.body, "POST " + post.body);
  EXPECT_EQ(ru.body, "PUT p");
  EXPECT_EQ(rd.body, "DELETE ");
  EXPECT_EQ(re.body, "POST ");
  server.Stop();
  const std::vector<TestHttpServer::Request> got = server.received();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/api/v3/order");
  EXPECT_EQ(got[0].body, post.body);
  EXPECT_EQ(got[0].Header("content-type"), "application/json");
  EXPECT_EQ(got[0].Header("content-length"), std::to_string(post.body.size()));
  EXPECT_EQ(got[0].Header("x-mbx-apikey"), "key-123");
  EXPECT_EQ(got[0].Header("X-Trace"), "a b c");
  EXPECT_EQ(got[0].Header("User-Agent"), "nzeza-test/1");
  EXPECT_EQ(got[1].method, "PUT");
  EXPECT_EQ(got[1].body, "p");
  EXPECT_EQ(got[1].Header("content-type"), "");
  EXPECT_EQ(got[2].method, "DELETE");
  EXPECT_EQ(got[2].target, "/api/v3/order?orderId=7");
  EXPECT_EQ(got[3].Header("content-length"), "0") << "a POST always says how long its body is";
}

TEST(HttpsClient, UntrustedCertificateFailsVerification) {
  const SelfSignedCert& cert = LoopbackCert();
  absl::StatusOr<SelfSignedCert> other = GenerateSelfSignedCert({"localhost"}, {"127.0.0.1"});
  ASSERT_TRUE(other.ok());
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{.body = "secret"};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(other->cert_pem)));
  Result r;
  ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  EXPECT_EQ(r.transport.code(), absl::StatusCode::kUnavailable) << r.transport;
  EXPECT_NE(r.transport.message().find("TLS handshake"), std::string::npos) << r.transport;
  EXPECT_NE(r.transport.message().find("certificate verify failed"), std::string::npos)
      << r.transport;
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(client.counters().failures, 1u);
  EXPECT_EQ(client.counters().connects, 0u);
  server.Stop();
  EXPECT_EQ(server.requests(), 0) << "nothing is sent over an unverified connection";
}

TEST(HttpsClient, CertificateForAnotherNameFails) {
  // Valid chain, but the certificate names only "localhost": connecting by IP must fail...
  absl::StatusOr<SelfSignedCert> dns_only = GenerateSelfSignedCert({"localhost"}, {});
  ASSERT_TRUE(dns_only.ok());
  {
    TestHttpServer server(ServerContext(*dns_only), [](const TestHttpServer::Request&) {
      return TestHttpServer::Response{.body = "x"};
    });
    HttpsClient client(Options(server.port(), ClientTrusting(dns_only->cert_pem)));
    Result r;
    ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
    ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
    EXPECT_NE(r.transport.message().find("certificate verify failed"), std::string::npos)
        << r.transport;
    server.Stop();
    EXPECT_EQ(server.requests(), 0);
  }
  // ...and a certificate for another DNS name fails a client that asks for "localhost".
  absl::StatusOr<SelfSignedCert> elsewhere = GenerateSelfSignedCert({"api.example.test"}, {});
  ASSERT_TRUE(elsewhere.ok());
  TestHttpServer server(ServerContext(*elsewhere), [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{.body = "x"};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(elsewhere->cert_pem), "localhost"));
  Result r;
  ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  EXPECT_NE(r.transport.message().find("certificate verify failed"), std::string::npos)
      << r.transport;
  server.Stop();
  EXPECT_EQ(server.requests(), 0);
}

TEST(HttpsClient, PlaintextOnlyWhenAskedFor) {
  TestHttpServer server(nullptr, [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{.body = "plain"};
  });
  Result r;
  HttpsClient refused(Options(server.port(), nullptr));
  const absl::Status s = refused.Request(Get("/"), Capture(r));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("allow_plaintext"), std::string_view::npos) << s;
  PollFor(refused, 50);
  EXPECT_EQ(r.calls, 0) << "a refused request never calls back";
  EXPECT_EQ(refused.pending(), 0u);

  HttpsClientOptions o = Options(server.port(), nullptr);
  o.allow_plaintext = true;
  HttpsClient client(o);
  ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.body, "plain");
  server.Stop();
  EXPECT_EQ(server.received().at(0).Header("host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST(HttpsClient, InvalidRequestsAreRefused) {
  int calls = 0;
  auto count = [&calls](const HttpResponse&) { ++calls; };
  HttpsClient no_host(Options(443, ClientTrusting(LoopbackCert().cert_pem), ""));
  EXPECT_EQ(no_host.Request(Get("/"), count).code(), absl::StatusCode::kInvalidArgument);
  HttpsClientOptions zero = Options(443, ClientTrusting(LoopbackCert().cert_pem));
  zero.request_timeout = absl::ZeroDuration();
  HttpsClient no_timeout(zero);
  EXPECT_EQ(no_timeout.Request(Get("/"), count).code(), absl::StatusCode::kInvalidArgument);
  HttpsClient client(Options(ClosedPort(), ClientTrusting(LoopbackCert().cert_pem)));
  EXPECT_EQ(client.Request(Get("no-slash"), count).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.Request(Get("/a b"), count).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.Request(Get("/a\r\nX-Injected: 1"), count).code(),
            absl::StatusCode::kInvalidArgument);
  HttpRequest bad_header = Get("/");
  bad_header.headers = {{"X-Ok", "v\r\nX-Injected: 1"}};
  EXPECT_EQ(client.Request(bad_header, count).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client.pending(), 0u);
  PollFor(client, 20);
  EXPECT_EQ(calls, 0);
}

TEST(HttpsClient, RequestTimeoutFailsThatRequestAndTheNextOneWorks) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{.body = "late", .delay_ms = r.target == "/slow" ? 3'000 : 0};
  });
  HttpsClientOptions o = Options(server.port(), ClientTrusting(cert.cert_pem));
  o.request_timeout = absl::Milliseconds(300);
  HttpsClient client(o);
  Result slow, next;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Request(Get("/slow"), Capture(slow)).ok());
  ASSERT_TRUE(client.Request(Get("/fast"), Capture(next)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return slow.done(); }));
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(slow.transport.code(), absl::StatusCode::kDeadlineExceeded) << slow.transport;
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2'000)) << "the timeout, not the server, ended it";
  // The request behind it goes out on a new connection (the old one may still carry the late
  // response) and succeeds.
  ASSERT_TRUE(PollUntil(client, [&] { return next.done(); }));
  ASSERT_TRUE(next.transport.ok()) << next.transport;
  EXPECT_EQ(next.body, "late");
  EXPECT_EQ(client.counters().failures, 1u);
  EXPECT_EQ(client.counters().requests, 1u);
  EXPECT_EQ(client.counters().connects, 2u);
  EXPECT_EQ(slow.calls, 1);
  server.Stop();
  EXPECT_EQ(server.requests(), 2) << "the timed-out request was not sent again";
}

TEST(HttpsClient, ConnectTimeoutWhenTheServerNeverHandshakes) {
  // A listening socket that never accepts: TCP connects (the kernel's backlog), TLS never starts.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  HttpsClientOptions o =
      Options(silent.local_endpoint().port(), ClientTrusting(LoopbackCert().cert_pem));
  o.connect_timeout = absl::Milliseconds(300);
  HttpsClient client(o);
  Result a, b;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.Request(Get("/a"), Capture(a)).ok());
  ASSERT_TRUE(client.Request(Get("/b"), Capture(b)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return a.done() && b.done(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2'000));
  EXPECT_EQ(a.transport.code(), absl::StatusCode::kDeadlineExceeded) << a.transport;
  EXPECT_NE(a.transport.message().find("connect timed out"), std::string::npos) << a.transport;
  EXPECT_EQ(b.transport.code(), absl::StatusCode::kDeadlineExceeded)
      << "every request waiting for the connection fails with it: " << b.transport;
  EXPECT_EQ(client.counters().failures, 2u);
  EXPECT_EQ(client.pending(), 0u);
}

TEST(HttpsClient, OversizedBodyIsResourceExhausted) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    if (r.target == "/big") return TestHttpServer::Response{.body = std::string(10'000, 'b')};
    if (r.target == "/big-chunked") {
      return TestHttpServer::Response{.body = std::string(10'000, 'c'), .chunked = true};
    }
    return TestHttpServer::Response{.body = std::string(1'000, 's')};
  });
  HttpsClientOptions o = Options(server.port(), ClientTrusting(cert.cert_pem));
  o.max_body_bytes = 4'096;
  HttpsClient client(o);
  Result big, chunked, small;
  ASSERT_TRUE(client.Request(Get("/big"), Capture(big)).ok());
  ASSERT_TRUE(client.Request(Get("/big-chunked"), Capture(chunked)).ok());
  ASSERT_TRUE(client.Request(Get("/small"), Capture(small)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return small.done(); }));
  EXPECT_EQ(big.transport.code(), absl::StatusCode::kResourceExhausted) << big.transport;
  EXPECT_NE(big.transport.message().find("4096"), std::string::npos) << big.transport;
  EXPECT_EQ(chunked.transport.code(), absl::StatusCode::kResourceExhausted) << chunked.transport;
  ASSERT_TRUE(small.transport.ok()) << small.transport;
  EXPECT_EQ(small.body, std::string(1'000, 's'));
  EXPECT_EQ(client.counters().failures, 2u);
  server.Stop();
}

TEST(HttpsClient, LargeAndChunkedBodiesKeepThePadding) {
  const SelfSignedCert& cert = LoopbackCert();
  std::string pattern(3 << 20, '\0');
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<char>('a' + i % 26);
  TestHttpServer server(ServerContext(cert), [&pattern](const TestHttpServer::Request& r) {
    if (r.target == "/chunked") {
      return TestHttpServer::Response{.body = pattern.substr(0, 1 << 20), .chunked = true};
    }
    if (r.target == "/empty") return TestHttpServer::Response{.status = 204};
    if (r.target == "/zero") return TestHttpServer::Response{};  // Content-Length: 0
    return TestHttpServer::Response{.body = pattern};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  Result chunked, whole, empty, zero;
  ASSERT_TRUE(client.Request(Get("/chunked"), Capture(chunked)).ok());
  ASSERT_TRUE(client.Request(Get("/whole"), Capture(whole)).ok());
  // Bodiless responses after a large one: the reused storage must not leak into them.
  ASSERT_TRUE(client.Request(Get("/empty"), Capture(empty)).ok());
  ASSERT_TRUE(client.Request(Get("/whole"), Capture(whole)).ok());
  ASSERT_TRUE(client.Request(Get("/zero"), Capture(zero)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return zero.done(); }));
  ASSERT_TRUE(chunked.transport.ok()) << chunked.transport;
  EXPECT_TRUE(chunked.body == pattern.substr(0, 1 << 20));
  ASSERT_TRUE(whole.transport.ok()) << whole.transport;
  EXPECT_TRUE(whole.body == pattern);
  ASSERT_TRUE(empty.transport.ok()) << empty.transport;
  EXPECT_EQ(empty.status, 204);
  EXPECT_TRUE(empty.body.empty()) << empty.body.size();
  ASSERT_TRUE(zero.transport.ok()) << zero.transport;
  EXPECT_EQ(zero.status, 200);
  EXPECT_TRUE(zero.body.empty()) << zero.body.size();
  EXPECT_EQ(whole.calls, 2);
  EXPECT_EQ(client.counters().connects, 1u);
  server.Stop();
}

TEST(HttpsClient, ConnectionRefusedIsATransportError) {
  HttpsClient client(Options(ClosedPort(), ClientTrusting(LoopbackCert().cert_pem)));
  Result r;
  ASSERT_TRUE(client.Request(Get("/"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  EXPECT_EQ(r.transport.code(), absl::StatusCode::kUnavailable) << r.transport;
  EXPECT_NE(r.transport.message().find("TCP connect"), std::string::npos) << r.transport;
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(client.counters().failures, 1u);
  EXPECT_FALSE(client.connected());
  // The next request tries again (and fails again): nothing is stuck.
  Result again;
  ASSERT_TRUE(client.Request(Get("/"), Capture(again)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return again.done(); }));
  EXPECT_EQ(again.transport.code(), absl::StatusCode::kUnavailable) << again.transport;
  EXPECT_EQ(r.calls, 1);
}

TEST(HttpsClient, DropMidResponseFailsTheRequestWithoutRetry) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    if (r.target == "/order") {
      return TestHttpServer::Response{.body = std::string(4'000, 'o'),
                                      .after = After::kDropMidResponse};
    }
    if (r.target == "/order-nothing") return TestHttpServer::Response{.after = After::kDrop};
    return TestHttpServer::Response{.body = "fine"};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  Result mid, none, after;
  HttpRequest order = Get("/order");
  order.method = HttpMethod::kPost;
  order.body = "{}";
  ASSERT_TRUE(client.Request(order, Capture(mid)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return mid.done(); }));
  EXPECT_EQ(mid.transport.code(), absl::StatusCode::kUnavailable) << mid.transport;
  EXPECT_NE(mid.transport.message().find("/order"), std::string::npos) << mid.transport;

  order.target = "/order-nothing";
  ASSERT_TRUE(client.Request(order, Capture(none)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return none.done(); }));
  EXPECT_EQ(none.transport.code(), absl::StatusCode::kUnavailable) << none.transport;

  PollFor(client, 300);  // time enough for a (wrong) retry to reach the server
  EXPECT_EQ(server.requests(), 2) << "each failed request reached the server exactly once";
  ASSERT_TRUE(client.Request(Get("/next"), Capture(after)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return after.done(); }));
  ASSERT_TRUE(after.transport.ok()) << after.transport;
  EXPECT_EQ(after.body, "fine");
  EXPECT_EQ(mid.calls + none.calls + after.calls, 3);
  EXPECT_EQ(client.counters().failures, 2u);
  server.Stop();
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpsClient, CloseCancelsPendingRequestsOnce) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{.body = "b", .delay_ms = r.target == "/slow" ? 2'000 : 0};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  Result r[3];
  ASSERT_TRUE(client.Request(Get("/slow"), Capture(r[0])).ok());
  ASSERT_TRUE(client.Request(Get("/q1"), Capture(r[1])).ok());
  ASSERT_TRUE(client.Request(Get("/q2"), Capture(r[2])).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return server.requests() == 1; }));  // /slow in flight
  client.Close();
  EXPECT_EQ(client.pending(), 0u);
  EXPECT_FALSE(client.connected());
  for (const Result& x : r) {
    EXPECT_EQ(x.calls, 1);
    EXPECT_EQ(x.transport.code(), absl::StatusCode::kCancelled) << x.transport;
  }
  EXPECT_EQ(client.counters().cancelled, 3u);
  EXPECT_EQ(client.counters().failures, 0u);
  PollFor(client, 200);
  for (const Result& x : r) EXPECT_EQ(x.calls, 1) << "never a second call";
  // The client is usable after Close(): a new request opens a new connection.
  Result later;
  ASSERT_TRUE(client.Request(Get("/later"), Capture(later)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return later.done(); }));
  ASSERT_TRUE(later.transport.ok()) << later.transport;
  server.Stop();
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpsClient, DestructorCancelsPendingRequestsOnce) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{.body = "b", .delay_ms = 2'000};
  });
  Result r[2];
  absl::Status from_callback;
  {
    auto client =
        std::make_unique<HttpsClient>(Options(server.port(), ClientTrusting(cert.cert_pem)));
    HttpsClient* raw = client.get();
    ASSERT_TRUE(client->Request(Get("/a"), Capture(r[0])).ok());
    ASSERT_TRUE(client
                    ->Request(Get("/b"),
                              [&, raw](const HttpResponse& resp) {
                                Capture(r[1])(resp);
                                // Queuing from a callback the destructor runs is refused.
                                from_callback = raw->Request(Get("/c"), [](const HttpResponse&) {
                                  ADD_FAILURE() << "never called";
                                });
                              })
                    .ok());
    ASSERT_TRUE(PollUntil(*client, [&] { return server.requests() == 1; }));
    client.reset();
  }
  for (const Result& x : r) {
    EXPECT_EQ(x.calls, 1);
    EXPECT_EQ(x.transport.code(), absl::StatusCode::kCancelled) << x.transport;
  }
  EXPECT_EQ(from_callback.code(), absl::StatusCode::kFailedPrecondition) << from_callback;
  server.Stop();
}

TEST(HttpsClient, CallbacksMayQueueAndClose) {
  const SelfSignedCert& cert = LoopbackCert();
  TestHttpServer server(ServerContext(cert), [](const TestHttpServer::Request& r) {
    return TestHttpServer::Response{.body = r.target};
  });
  HttpsClient client(Options(server.port(), ClientTrusting(cert.cert_pem)));
  std::vector<std::string> bodies;
  std::function<void(const HttpResponse&)> chain = [&](const HttpResponse& resp) {
    ASSERT_TRUE(resp.transport.ok()) << resp.transport;
    bodies.emplace_back(resp.body);
    if (bodies.size() < 5) {
      ASSERT_TRUE(client.Request(Get("/n" + std::to_string(bodies.size())), chain).ok());
    }
  };
  ASSERT_TRUE(client.Request(Get("/n0"), chain).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return bodies.size() == 5; }));
  EXPECT_EQ(bodies, (std::vector<std::string>{"/n0", "/n1", "/n2", "/n3", "/n4"}));
  EXPECT_EQ(client.counters().connects, 1u);

  // Close() from a callback cancels the rest; the callback's own body stays valid.
  Result second;
  std::string seen;
  ASSERT_TRUE(client
                  .Request(Get("/first"),
                           [&](const HttpResponse& resp) {
                             client.Close();
                             seen = std::string(resp.body);
                           })
                  .ok());
  ASSERT_TRUE(client.Request(Get("/second"), Capture(second)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return second.done(); }));
  EXPECT_EQ(seen, "/first");
  EXPECT_EQ(second.transport.code(), absl::StatusCode::kCancelled) << second.transport;
  server.Stop();
}

TEST(HttpsClient, ThrowingCallbackIsCountedAndOthersStillRun) {
  HttpsClient client(Options(ClosedPort(), ClientTrusting(LoopbackCert().cert_pem)));
  Result r;
  ASSERT_TRUE(
      client.Request(Get("/a"), [](const HttpResponse&) { throw std::runtime_error("boom"); })
          .ok());
  ASSERT_TRUE(client.Request(Get("/b"), Capture(r)).ok());
  ASSERT_TRUE(PollUntil(client, [&] { return r.done(); }));
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(client.counters().callback_errors, 1u);
  EXPECT_EQ(client.counters().failures, 2u);
}

}  // namespace
}  // namespace nzeza
