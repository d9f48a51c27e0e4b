// The scripted WebSocket server of test_ws_server.h: one thread, synchronous Beast.
#include "test_ws_server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopback_listener.h"

namespace nzeza::testing {

class TestWsServer::Impl {
 public:
  Impl(TlsContext tls, std::vector<TestWsServer::Script> scripts)
      : tls_(std::move(tls)), scripts_(std::move(scripts)) {
    port_ = ListenOnLoopback(acceptor_);
    thread_ = std::thread([this] { Run(); });
  }
  ~Impl() { Stop(); }

  uint16_t port() const { return port_; }
  void Stop() {
    stop_ = true;
    {
      // Under the lock: the server thread forgets the fd (under the same lock) before closing it,
      // so this never shuts down a reused descriptor.
      std::lock_guard<std::mutex> lock(mu_);
      if (current_fd_ >= 0) ::shutdown(current_fd_, SHUT_RDWR);
    }
    if (thread_.joinable()) thread_.join();
  }
  int connections() const { return connections_.load(); }
  int tls_failures() const { return tls_failures_.load(); }
  std::vector<std::string> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  void Run() {
    for (size_t i = 0; i < scripts_.size() && !stop_; ++i) {
      boost::asio::ip::tcp::socket socket(io_);
      if (!AcceptOrStop(acceptor_, socket, stop_)) return;
      boost::beast::error_code ec;
      // Bounded: Stop() shuts this socket down, which ends a read that waits for a client
      // message that never comes (Asio's blocking reads ignore SO_RCVTIMEO).
      {
        std::lock_guard<std::mutex> lock(mu_);
        current_fd_ = socket.native_handle();
      }
      if (stop_) ::shutdown(socket.native_handle(), SHUT_RDWR);
      connections_.fetch_add(1);
      if (tls_) {
        boost::beast::websocket::stream<boost::beast::ssl_stream<boost::asio::ip::tcp::socket>> ws(
            std::move(socket), *tls_);
        ws.next_layer().handshake(boost::asio::ssl::stream_base::server, ec);
        if (ec) {
          tls_failures_.fetch_add(1);
          ForgetFd();
          --i;  // the script was not played: keep it for the next connection
          continue;
        }
        Play(ws, scripts_[i]);
        ForgetFd();
      } else {
        boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws(std::move(socket));
        Play(ws, scripts_[i]);
        ForgetFd();
      }
    }
  }

  void ForgetFd() {
    std::lock_guard<std::mutex> lock(mu_);
    current_fd_ = -1;
  }

  template <typename Ws>
  void Play(Ws& ws, const TestWsServer::Script& script) {
    boost::beast::error_code ec;
    ws.accept(ec);
    if (ec) return;
    if (script.expect_message) {
      boost::beast::flat_buffer buf;
      ws.read(buf, ec);
      if (ec) return;
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(boost::beast::buffers_to_string(buf.data()));
    }
    for (const std::string& f : script.frames) {
      ws.text(true);
      ws.write(boost::asio::buffer(f), ec);
      if (ec) return;
    }
    for (const TestWsServer::Script::Exchange& x : script.exchanges) {
      for (int r = 0; r < x.read; ++r) {
        boost::beast::flat_buffer buf;
        ws.read(buf, ec);
        if (ec) return;
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(boost::beast::buffers_to_string(buf.data()));
      }
      for (const std::string& f : x.frames) {
        ws.text(true);
        ws.write(boost::asio::buffer(f), ec);
        if (ec) return;
      }
    }
    switch (script.then) {
      case kDrop:
        boost::beast::get_lowest_layer(ws).close(ec);  // no close frame: an abrupt drop
        return;
      case kStall:
        for (int ms = 0; ms < script.stall_ms && !stop_; ++ms) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        boost::beast::get_lowest_layer(ws).close(ec);
        return;
      case kClose:
        ws.close(boost::beast::websocket::close_code::going_away, ec);
        return;
      case kHold:
        // Keep the connection (without reading: pings go unanswered) until Stop().
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return;
    }
  }

  TlsContext tls_;
  std::vector<TestWsServer::Script> scripts_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  int current_fd_ = -1;  // the connection being played (guarded by mu_)
  std::atomic<int> connections_{0};
  std::atomic<int> tls_failures_{0};
  mutable std::mutex mu_;
  std::vector<std::string> received_;
};

TestWsServer::TestWsServer(TlsContext tls, std::vector<Script> scripts)
    : impl_(std::make_unique<Impl>(std::move(tls), std::move(scripts))) {}
TestWsServer::~TestWsServer() = default;
uint16_t TestWsServer::port() const { return impl_->port(); }
void TestWsServer::Stop() { impl_->Stop(); }
int TestWsServer::connections() const { return impl_->connections(); }
int TestWsServer::tls_failures() const { return impl_->tls_failures(); }
std::vector<std::string> TestWsServer::received() const { return impl_->received(); }

}  // namespace nzeza::testing
