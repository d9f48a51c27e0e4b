// The scripted HTTP/1.1 server of test_http_server.h: synchronous Beast, a thread per connection.
#include "test_http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "loopback_listener.h"

namespace nzeza::testing {

class TestHttpServer::Impl {
 public:
  Impl(TlsContext tls, Handler handler) : tls_(std::move(tls)), handler_(std::move(handler)) {
    port_ = ListenOnLoopback(acceptor_);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~Impl() { Stop(); }

  uint16_t port() const { return port_; }

  // Stops accepting, wakes every connection thread and joins them all. Idempotent.
  void Stop() {
    stop_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  int connections() const { return connections_.load(); }  // accepted (TLS or not)
  int requests() const { return requests_.load(); }        // complete requests read
  int tls_failures() const { return tls_failures_.load(); }
  std::vector<Request> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;

  void AcceptLoop() {
    int n = 0;
    for (;;) {
      Socket socket(io_);
      if (!AcceptOrStop(acceptor_, socket, stop_)) return;
      const int id = ++n;
      connections_.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.insert(socket.native_handle());
      threads_.emplace_back(
          [this, s = std::move(socket), id]() mutable { Serve(std::move(s), id); });
    }
  }

  void Serve(Socket socket, int id) {
    const int fd = socket.native_handle();
    boost::beast::error_code ec;
    if (tls_) {
      boost::beast::ssl_stream<Socket> stream(std::move(socket), *tls_);
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) {
        tls_failures_.fetch_add(1);
      } else {
        ServeRequests(stream, id);
      }
      Release(fd, boost::beast::get_lowest_layer(stream));
    } else {
      ServeRequests(socket, id);
      Release(fd, socket);
    }
  }

  // Forgets the descriptor before closing it, so Stop() never shuts down a reused number.
  void Release(int fd, Socket& socket) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_fds_.erase(fd);
    }
    boost::beast::error_code ignored;
    socket.close(ignored);
  }

  void Sleep(int ms) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  template <typename Stream>
  void ServeRequests(Stream& stream, int id) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    while (!stop_) {
      // Blocks until a request, EOF, or Stop() (which shuts the socket down). No poll() on the
      // descriptor first: with TLS the next request may already sit in the TLS engine's buffer,
      // read together with the client's handshake Finished.
      http::request_parser<http::string_body> parser;
      parser.body_limit(256u << 20);
      boost::beast::error_code ec;
      http::read(stream, buffer, parser, ec);
      if (ec) return;  // EOF, reset or Stop()
      const http::request<http::string_body>& req = parser.get();
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
      r.body = req.body();
      r.connection = id;
      Response res;
      {
        std::lock_guard<std::mutex> lock(handler_mu_);
        res = handler_(r);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(std::move(r));
      }
      requests_.fetch_add(1);
      if (res.delay_ms > 0) Sleep(res.delay_ms);
      if (stop_ || res.after == After::kDrop) return;

      http::response<http::string_body> out(static_cast<http::status>(res.status), 11);
      for (const auto& [k, v] : res.headers) out.insert(k, v);
      out.body() = std::move(res.body);
      if (res.chunked) {
        out.chunked(true);
      } else {
        out.prepare_payload();
      }
      out.keep_alive(res.after != After::kClose && req.keep_alive());
      if (res.after == After::kDropMidResponse) {
        std::ostringstream os;
        os << out;
        const std::string bytes = os.str();
        boost::asio::write(stream, boost::asio::buffer(bytes.data(), bytes.size() / 2), ec);
        return;
      }
      http::write(stream, out, ec);
      if (ec || !out.keep_alive() || res.after == After::kCloseSilently) return;
    }
  }

  TlsContext tls_;
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  uint16_t port_ = 0;
  std::thread accept_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> tls_failures_{0};
  std::mutex handler_mu_;
  mutable std::mutex mu_;
  std::set<int> open_fds_;
  std::vector<std::thread> threads_;
  std::vector<Request> received_;
};

TestHttpServer::TestHttpServer(TlsContext tls, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(tls), std::move(handler))) {}
TestHttpServer::~TestHttpServer() = default;
uint16_t TestHttpServer::port() const { return impl_->port(); }
void TestHttpServer::Stop() { impl_->Stop(); }
int TestHttpServer::connections() const { return impl_->connections(); }
int TestHttpServer::requests() const { return impl_->requests(); }
int TestHttpServer::tls_failures() const { return impl_->tls_failures(); }
std::vector<TestHttpServer::Request> TestHttpServer::received() const { return impl_->received(); }

}  // namespace nzeza::testing
