// The operations endpoint over real HTTP on loopback. Every client operation has a deadline.
#include "nzeza/app/ops_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "nzeza/app/secrets.h"
#include "prom_parse.h"

namespace nzeza::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class FakeOps : public OpsProvider {
 public:
  void WriteMetrics(MetricsWriter& out) override {
    out.Counter("nzeza_messages_total", "Market-data messages decoded.", messages.load());
    out.Counter("nzeza_orders_total", "Orders sent.", 17, {{"venue", "sim"}});
    out.Gauge("nzeza_position", "Position per instrument.", 0.002, {{"instrument", "BTC-USD"}});
    LatencyHistogram h;
    for (uint64_t v = 1000; v <= 2000; ++v) h.Record(v);
    out.Latency("nzeza_stage_latency_seconds", "Per-stage latency.", h.Summarize(),
                {{"stage", "risk"}});
  }
  std::string StatusJson() override { return R"({"state":"trading","instruments":["BTC-USD"]})"; }
  HealthState Health() override {
    std::lock_guard<std::mutex> l(mu);
    return health;
  }
  absl::Status Kill(std::string_view reason) override {
    std::lock_guard<std::mutex> l(mu);
    ++kills;
    last_reason = std::string(reason);
    return kill_result;
  }
  absl::Status Resume() override {
    std::lock_guard<std::mutex> l(mu);
    ++resumes;
    return resume_result;
  }

  std::atomic<uint64_t> messages{123};
  std::mutex mu;
  HealthState health;
  int kills = 0;
  int resumes = 0;
  std::string last_reason;
  absl::Status kill_result;
  absl::Status resume_result;
};

struct Reply {
  int status = 0;
  std::string body;
  http::fields headers;
  beast::error_code ec;
};

// A client connection; each operation bounded by a 5 s deadline.
class Client {
 public:
  explicit Client(uint16_t port) : stream_(io_) {
    stream_.expires_after(std::chrono::seconds(5));
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [this](beast::error_code ec) { ec_ = ec; });
    Run();
  }

  Reply Send(http::verb method, std::string target, std::string body = "", bool keep_alive = true,
             std::string_view authorization = {}) {
    Reply r;
    if (ec_) {
      r.ec = ec_;
      return r;
    }
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    if (!authorization.empty()) {
      req.set(http::field::authorization,
              beast::string_view(authorization.data(), authorization.size()));
    }
    if (!body.empty() || method == http::verb::post) {
      req.body() = std::move(body);
      req.prepare_payload();
    }
    stream_.expires_after(std::chrono::seconds(5));
    http::async_write(stream_, req, [&](beast::error_code ec, size_t) { r.ec = ec; });
    Run();
    if (r.ec) return r;
    http::response_parser<http::string_body> parser;
    parser.skip(method == http::verb::head);
    stream_.expires_after(std::chrono::seconds(5));
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, size_t) { r.ec = ec; });
    Run();
    if (r.ec) return r;
    http::response<http::string_body> res = parser.release();
    r.status = static_cast<int>(res.result_int());
    r.body = res.body();
    r.headers = res.base();
    return r;
  }

  // Whether the server closed the connection (a read sees EOF) within the deadline.
  bool ClosedByServer() {
    char byte;
    beast::error_code result;
    stream_.expires_after(std::chrono::seconds(5));
    stream_.async_read_some(asio::buffer(&byte, 1),
                            [&](beast::error_code ec, size_t) { result = ec; });
    Run();
    return result == asio::error::eof || result == asio::error::connection_reset;
  }

 private:
  void Run() {
    io_.restart();
    io_.run();
  }
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
};

Reply Get(uint16_t port, std::string target) {
  return Client(port).Send(http::verb::get, std::move(target), "", false);
}

// What the servers under test accept; 32 characters like nothing else in a response.
constexpr std::string_view kToken = "T0KEN-d1f4e7a9c2b8-ops-test-5e3a";

std::string Bearer(std::string_view token) { return "Bearer " + std::string(token); }

Reply Post(Client& c, std::string target, std::string_view authorization = {},
           std::string body = "") {
  return c.Send(http::verb::post, std::move(target), std::move(body), true, authorization);
}

class OpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<OpsServer>> s = OpsServer::Start(
        OpsServerOptions{.listen = "127.0.0.1", .port = 0, .token = Secret(kToken)}, &ops_);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  FakeOps ops_;
  std::unique_ptr<OpsServer> server_;
  uint16_t port_ = 0;
};

TEST_F(OpsServerTest, MetricsIsPrometheusText) {
  Reply r = Get(port_, "/metrics");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::string(r.headers[http::field::content_type]),
            "text/plain; version=0.0.4; charset=utf-8");
  nzeza::testing::PromParse p = nzeza::testing::ParseProm(r.body);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << r.body;
  ASSERT_NE(p.Find("nzeza_messages_total"), nullptr);
  EXPECT_EQ(p.Find("nzeza_messages_total")->value, 123);
  EXPECT_EQ(p.types["nzeza_messages_total"], "counter");
  EXPECT_EQ(p.Find("nzeza_orders_total", {{"venue", "sim"}})->value, 17);
  EXPECT_EQ(p.types["nzeza_position"], "gauge");
  EXPECT_EQ(p.types["nzeza_stage_latency_seconds"], "summary");
  for (const char* q : {"0.5", "0.99", "0.999"}) {
    const nzeza::testing::PromSample* s =
        p.Find("nzeza_stage_latency_seconds", {{"stage", "risk"}, {"quantile", q}});
    ASSERT_NE(s, nullptr) << q;
    EXPECT_GE(s->value, 1000e-9);
    EXPECT_LE(s->value, 2000e-9);
  }
  EXPECT_EQ(p.Find("nzeza_stage_latency_seconds_count", {{"stage", "risk"}})->value, 1001);
  EXPECT_DOUBLE_EQ(p.Find("nzeza_stage_latency_seconds_max", {{"stage", "risk"}})->value, 2000e-9);
  // The values are live: a second scrape sees the provider's new value.
  ops_.messages = 456;
  nzeza::testing::PromParse again = nzeza::testing::ParseProm(Get(port_, "/metrics").body);
  EXPECT_EQ(again.Find("nzeza_messages_total")->value, 456);
}

TEST_F(OpsServerTest, Health) {
  Reply ok = Get(port_, "/health");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  {
    std::lock_guard<std::mutex> l(ops_.mu);
    ops_.health = {.healthy = false, .reason = "breaker open: feed stale (BTC-USD)"};
  }
  Reply bad = Get(port_, "/health");
  EXPECT_EQ(bad.status, 503);
  EXPECT_EQ(bad.body, "breaker open: feed stale (BTC-USD)\n");
}

TEST_F(OpsServerTest, Status) {
  Reply r = Get(port_, "/status?verbose=1");  // a query string does not change the route
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(std::string(r.headers[http::field::content_type]), "application/json");
  EXPECT_EQ(r.body, R"({"state":"trading","instruments":["BTC-USD"]})");
}

TEST_F(OpsServerTest, KillAndResumeCallTheProvider) {
  Client c(port_);
  const std::string auth = Bearer(kToken);
  Reply k = Post(c, "/kill", auth, "manual stop\n");
  EXPECT_EQ(k.status, 200);
  EXPECT_EQ(k.body, "{\"ok\":true,\"action\":\"kill\"}\n");
  Reply r = Post(c, "/resume", auth);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ok\":true,\"action\":\"resume\"}\n");
  Reply k2 = Post(c, "/kill", auth);  // no body: reason "ops"
  EXPECT_EQ(k2.status, 200);
  {
    std::lock_guard<std::mutex> l(ops_.mu);
    EXPECT_EQ(ops_.kills, 2);
    EXPECT_EQ(ops_.resumes, 1);
    EXPECT_EQ(ops_.last_reason, "ops");
    ops_.resume_result = absl::FailedPreconditionError("loss limit latched: \"max_daily_loss\"");
    ops_.kill_result = absl::InternalError("cancel failed");
  }
  Reply refused = Post(c, "/resume", auth);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.body,
            "{\"ok\":false,\"action\":\"resume\",\"error\":\"loss limit latched: "
            "\\\"max_daily_loss\\\"\"}\n");
  Reply failed = Post(c, "/kill", auth, "again");
  EXPECT_EQ(failed.status, 500);
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.last_reason, "again");
}

TEST_F(OpsServerTest, ResumeWithoutATokenIs401WithAChallenge) {
  Client c(port_);
  // No header, another scheme, the scheme alone, a scheme and only spaces: all "missing".
  for (std::string_view auth :
       {std::string_view(), std::string_view("Basic dXNlcjpwYXNz"), std::string_view("Bearer"),
        std::string_view("Bearer    "), std::string_view("Bearerx")}) {
    Reply r = Post(c, "/resume", auth);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.status, 401) << auth;
    EXPECT_EQ(std::string(r.headers[http::field::www_authenticate]).rfind("Bearer", 0), 0u) << auth;
    EXPECT_EQ(std::string(r.headers[http::field::content_type]), "application/json");
    EXPECT_EQ(
        r.body.rfind("{\"ok\":false,\"action\":\"resume\",\"error\":\"missing bearer token", 0), 0u)
        << r.body;
  }
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.resumes, 0);
}

TEST_F(OpsServerTest, ResumeWithAWrongTokenIs403) {
  Client c(port_);
  const std::string token(kToken);
  for (const std::string& wrong :
       {std::string("nope"), token.substr(0, token.size() - 1), token + "x",
        std::string(token.size(), 'a'), absl::AsciiStrToLower(token)}) {
    Reply r = Post(c, "/resume", Bearer(wrong));
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.status, 403) << wrong;
    EXPECT_EQ(r.body, "{\"ok\":false,\"action\":\"resume\",\"error\":\"invalid bearer token\"}\n");
    EXPECT_TRUE(r.headers[http::field::www_authenticate].empty());
  }
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.resumes, 0);
}

TEST_F(OpsServerTest, TheRightTokenResumesWhateverTheSchemeCase) {
  Client c(port_);
  for (std::string auth :
       {Bearer(kToken), "bearer " + std::string(kToken), "BEARER  " + std::string(kToken) + " "}) {
    Reply r = Post(c, "/resume", auth);
    EXPECT_EQ(r.status, 200) << auth;
    EXPECT_EQ(r.body, "{\"ok\":true,\"action\":\"resume\"}\n");
  }
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.resumes, 3);
}

TEST_F(OpsServerTest, KillNeedsTheTokenByDefault) {
  Client c(port_);
  Reply missing = Post(c, "/kill", {}, "stop");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.body.rfind("{\"ok\":false,\"action\":\"kill\",\"error\":", 0), 0u)
      << missing.body;
  EXPECT_EQ(Post(c, "/kill", Bearer("wrong-token-value"), "stop").status, 403);
  {
    std::lock_guard<std::mutex> l(ops_.mu);
    EXPECT_EQ(ops_.kills, 0);
  }
  EXPECT_EQ(Post(c, "/kill", Bearer(kToken), "stop").status, 200);
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.kills, 1);
  EXPECT_EQ(ops_.last_reason, "stop");
}

TEST(OpsServerAuth, KillWithoutTokenLetsAnyoneKillButNotResume) {
  FakeOps ops;
  absl::StatusOr<std::unique_ptr<OpsServer>> s =
      OpsServer::Start(OpsServerOptions{.token = Secret(kToken), .kill_without_token = true}, &ops);
  ASSERT_TRUE(s.ok()) << s.status();
  Client c((*s)->port());
  EXPECT_EQ(Post(c, "/kill", {}, "anyone").status, 200);
  EXPECT_EQ(Post(c, "/kill", Bearer("a-wrong-token-is-ignored")).status, 200);
  EXPECT_EQ(Post(c, "/resume").status, 401);
  EXPECT_EQ(Post(c, "/resume", Bearer("a-wrong-token-value")).status, 403);
  {
    std::lock_guard<std::mutex> l(ops.mu);
    EXPECT_EQ(ops.kills, 2);
    EXPECT_EQ(ops.resumes, 0);
  }
  EXPECT_EQ(Post(c, "/resume", Bearer(kToken)).status, 200);
  std::lock_guard<std::mutex> l(ops.mu);
  EXPECT_EQ(ops.resumes, 1);
}

TEST(OpsServerAuth, WithoutATokenNothingIsAccepted) {
  // Fail closed: a server given no token refuses every token, even an empty-looking one.
  FakeOps ops;
  absl::StatusOr<std::unique_ptr<OpsServer>> s = OpsServer::Start(OpsServerOptions{}, &ops);
  ASSERT_TRUE(s.ok()) << s.status();
  Client c((*s)->port());
  EXPECT_EQ(Post(c, "/resume").status, 401);
  EXPECT_EQ(Post(c, "/resume", Bearer(kToken)).status, 403);
  EXPECT_EQ(Post(c, "/kill", Bearer(kToken)).status, 403);
  EXPECT_EQ(Get((*s)->port(), "/health").status, 200);  // the GET routes stay open
  std::lock_guard<std::mutex> l(ops.mu);
  EXPECT_EQ(ops.kills, 0);
  EXPECT_EQ(ops.resumes, 0);
}

TEST_F(OpsServerTest, TheTokenNeverAppearsInAResponse) {
  Client c(port_);
  const std::string token(kToken);
  std::vector<Reply> replies;
  for (const std::string& auth : {std::string(), Bearer(kToken), Bearer(token.substr(0, 8)),
                                  Bearer(token + "!"), "Basic " + token}) {
    replies.push_back(Post(c, "/resume", auth));
    replies.push_back(Post(c, "/kill", auth, token));
    replies.push_back(c.Send(http::verb::get, "/status", "", true, auth));
    replies.push_back(c.Send(http::verb::get, "/kill", "", true, auth));
    replies.push_back(c.Send(http::verb::get, "/nope?t=" + token, "", true, auth));
    replies.push_back(c.Send(http::verb::get, "/metrics", "", true, auth));
  }
  {
    std::lock_guard<std::mutex> l(ops_.mu);
    ops_.resume_result = absl::FailedPreconditionError("latched");
  }
  replies.push_back(Post(c, "/resume", Bearer(kToken)));
  for (const Reply& r : replies) {
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.body.find(token), std::string::npos) << r.body;
    for (const auto& f : r.headers) {
      EXPECT_EQ(std::string(f.value()).find(token), std::string::npos) << f.value();
    }
  }
}

TEST_F(OpsServerTest, KillReasonIsBoundedAndSanitised) {
  Client c(port_);
  std::string reason = "line1\nline2\x01";
  reason += std::string(1000, 'r');
  EXPECT_EQ(Post(c, "/kill", Bearer(kToken), reason).status, 200);
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.last_reason.size(), 256u);
  EXPECT_EQ(ops_.last_reason.substr(0, 12), "line1 line2 ");
}

TEST_F(OpsServerTest, WrongMethodsAndPaths) {
  Client c(port_);
  Reply get_kill = c.Send(http::verb::get, "/kill");
  EXPECT_EQ(get_kill.status, 405);
  EXPECT_EQ(std::string(get_kill.headers[http::field::allow]), "POST");
  Reply post_metrics = c.Send(http::verb::post, "/metrics");
  EXPECT_EQ(post_metrics.status, 405);
  EXPECT_EQ(std::string(post_metrics.headers[http::field::allow]), "GET, HEAD");
  EXPECT_EQ(c.Send(http::verb::get, "/nope").status, 404);
  EXPECT_EQ(c.Send(http::verb::delete_, "/status").status, 405);
  Reply head = c.Send(http::verb::head, "/health");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(std::string(head.headers[http::field::content_length]), "3");
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.kills, 0) << "GET /kill must not kill";
}

TEST_F(OpsServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(port_);
  for (int i = 0; i < 20; ++i) {
    Reply r = c.Send(http::verb::get, i % 2 ? "/health" : "/status");
    ASSERT_FALSE(r.ec) << i << ": " << r.ec.message();
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_GE(server_->requests(), 20u);
  // Connection: close is honoured.
  Reply last = c.Send(http::verb::get, "/health", "", /*keep_alive=*/false);
  EXPECT_EQ(last.status, 200);
  EXPECT_TRUE(c.ClosedByServer());
}

TEST_F(OpsServerTest, OversizedRequestIsRefused) {
  Client c(port_);
  Reply r = c.Send(http::verb::post, "/kill", std::string(20'000, 'x'));
  // Either the 413 arrives, or the server closed while the client was still writing.
  if (!r.ec) {
    EXPECT_EQ(r.status, 413);
    EXPECT_TRUE(c.ClosedByServer());
  }
  std::lock_guard<std::mutex> l(ops_.mu);
  EXPECT_EQ(ops_.kills, 0);
}

TEST_F(OpsServerTest, ConcurrentScrapes) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Client c(port_);
      for (int i = 0; i < 25; ++i) {
        if (c.Send(http::verb::get, "/metrics").status == 200) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(OpsServerTest, StopIsBoundedWithOpenConnections) {
  Client idle(port_);  // connected, sends nothing
  Client busy(port_);
  ASSERT_EQ(busy.Send(http::verb::get, "/health").status, 200);  // keep-alive, left open
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_TRUE(busy.ClosedByServer());
  server_->Stop();  // idempotent
}

TEST(OpsServerStart, RefusesNonLoopbackAddresses) {
  FakeOps ops;
  for (const char* addr : {"0.0.0.0", "192.168.1.10", "::", "8.8.8.8"}) {
    absl::StatusOr<std::unique_ptr<OpsServer>> s =
        OpsServer::Start(OpsServerOptions{.listen = addr}, &ops);
    ASSERT_FALSE(s.ok()) << addr;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find("not a loopback address"), std::string::npos)
        << s.status();
  }
  absl::StatusOr<std::unique_ptr<OpsServer>> junk =
      OpsServer::Start(OpsServerOptions{.listen = "example.com"}, &ops);
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.9.9.9"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
}

TEST(OpsServerStart, PortInUseIsUnavailable) {
  FakeOps ops;
  absl::StatusOr<std::unique_ptr<OpsServer>> a = OpsServer::Start(OpsServerOptions{}, &ops);
  ASSERT_TRUE(a.ok());
  absl::StatusOr<std::unique_ptr<OpsServer>> b =
      OpsServer::Start(OpsServerOptions{.port = (*a)->port()}, &ops);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(b.status().message()).find(std::to_string((*a)->port())),
            std::string::npos);
  // localhost works and is loopback.
  absl::StatusOr<std::unique_ptr<OpsServer>> l =
      OpsServer::Start(OpsServerOptions{.listen = "localhost"}, &ops);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(Get((*l)->port(), "/health").status, 200);
}

}  // namespace
}  // namespace nzeza::app
