// What the two scripted test servers (test_http_server.cc, test_ws_server.cc) share: a listener on
// 127.0.0.1 at an ephemeral port, and an accept that gives up when the server is told to stop.
#ifndef NZEZA_TESTS_ENGINE_NET_LOOPBACK_LISTENER_H_
#define NZEZA_TESTS_ENGINE_NET_LOOPBACK_LISTENER_H_

#include <poll.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>

namespace nzeza::testing {

// Opens `a` on 127.0.0.1, port 0, non-blocking (AcceptOrStop polls it). Returns the port.
inline uint16_t ListenOnLoopback(boost::asio::ip::tcp::acceptor& a) {
  a.open(boost::asio::ip::tcp::v4());
  a.set_option(boost::asio::socket_base::reuse_address(true));
  a.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
  a.listen();
  a.non_blocking(true);
  return a.local_endpoint().port();
}

// Waits (10 ms at a time, so `stop` is seen promptly) for a connection on `a` and accepts it into
// `socket`, made blocking. False once `stop` is set.
inline bool AcceptOrStop(boost::asio::ip::tcp::acceptor& a, boost::asio::ip::tcp::socket& socket,
                         const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{a.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    boost::system::error_code ec;
    a.accept(socket, ec);
    if (ec) continue;
    socket.non_blocking(false);
    return true;
  }
  return false;
}

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_ENGINE_NET_LOOPBACK_LISTENER_H_
