// HttpsClient::RequestRaw, the order-entry path: once warm, queuing a request and starting its
// write allocate nothing, and neither does receiving and delivering the response (counted by the
// replaced global operator new). The server is a raw socket loop on its own thread that allocates
// nothing either, so the count is the client's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string_view>
#include <thread>

#include "../../common/counting_allocator.h"
#include "gtest/gtest.h"
#include "nzeza/net/https_client.h"

namespace nzeza {
namespace {

// Answers every request (a header block ending in CRLF CRLF, no body) with a fixed response.
class RawHttpServer {
 public:
  RawHttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::listen(listen_fd_, 4) == 0 &&
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port_ = ntohs(a.sin_port);
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~RawHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  int answered() const { return answered_.load(); }

 private:
  void Run() {
    int fd = -1;
    char buf[4096];
    int matched = 0;  // bytes of "\r\n\r\n" matched so far
    static constexpr char kEnd[] = "\r\n\r\n";
    static constexpr std::string_view kResponse = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    while (!stop_) {
      pollfd p{fd >= 0 ? fd : listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      if (fd < 0) {
        fd = ::accept(listen_fd_, nullptr, nullptr);
        continue;
      }
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) {
        ::close(fd);
        fd = -1;
        matched = 0;
        continue;
      }
      for (ssize_t i = 0; i < n; ++i) {
        matched = buf[i] == kEnd[matched] ? matched + 1 : (buf[i] == '\r' ? 1 : 0);
        if (matched == 4) {
          matched = 0;
          if (::write(fd, kResponse.data(), kResponse.size()) ==
              static_cast<ssize_t>(kResponse.size())) {
            answered_.fetch_add(1);
          }
        }
      }
    }
    if (fd >= 0) ::close(fd);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

TEST(HttpsClientAlloc, RequestRawAllocatesNothingOnceWarm) {
  RawHttpServer server;
  ASSERT_NE(server.port(), 0);
  HttpsClientOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.allow_plaintext = true;
  HttpsClient client(o);
  static constexpr std::string_view kRequest =
      "POST /api/v3/brokerage/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
  int ok = 0;
  int done = 0;
  auto one = [&](uint64_t* allocations, uint64_t* round_trip) {
    const int before = done;
    const uint64_t a0 = testing::AllocationCount();
    const absl::Status st = client.RequestRaw(
        "/api/v3/brokerage/orders", kRequest, [&ok, &done](const HttpResponse& r) {
          ok += r.transport.ok() && r.status == 200 && r.body == "ok" ? 1 : 0;
          ++done;
        });
    const uint64_t a1 = testing::AllocationCount();
    if (allocations != nullptr) *allocations += a1 - a0;
    ASSERT_TRUE(st.ok()) << st;
    for (int i = 0; i < 5000 && done == before; ++i) {  // 5 s at most
      if (client.Poll() == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (round_trip != nullptr) *round_trip += testing::AllocationCount() - a0;
    ASSERT_EQ(done, before + 1) << "no response within 5 s";
  };
  uint64_t warm_up = 0;  // connecting, first slots and handler memory: the counter sees the client
  for (int i = 0; i < 64; ++i) one(nullptr, &warm_up);
  EXPECT_GT(warm_up, 0u);
  uint64_t allocations = 0;
  uint64_t round_trip = 0;
  constexpr int kMeasured = 200;
  for (int i = 0; i < kMeasured; ++i) one(&allocations, &round_trip);
  EXPECT_EQ(allocations, 0u) << "allocations in " << kMeasured << " warm RequestRaw() calls";
  EXPECT_EQ(round_trip, 0u) << "allocations in " << kMeasured
                            << " warm round trips (request, response, callback)";
  EXPECT_EQ(ok, 64 + kMeasured);
  EXPECT_EQ(client.counters().connects, 1u);  // one keep-alive connection carried them all
}

}  // namespace
}  // namespace nzeza
