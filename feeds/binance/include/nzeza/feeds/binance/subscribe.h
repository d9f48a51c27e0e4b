// Binance Spot market-data subscriptions: stream names, the combined-stream URL target and the
// SUBSCRIBE / UNSUBSCRIBE method frames. Pure functions of their arguments (control plane: they
// allocate).
//
//   nzeza::BinanceStreamOptions s{.depth = nzeza::BinanceDepthSpeed::k100ms, .book_ticker = true,
//                                 .trade = false, .agg_trade = true};
//   std::vector<std::string_view> symbols = {"NKNUSDT", "BLZETH"};
//   std::vector<std::string> names = nzeza::BinanceStreamNames(symbols, s);
//   // {"nknusdt@depth@100ms", "blzeth@depth@100ms", "nknusdt@bookTicker", "blzeth@bookTicker",
//   //  "nknusdt@aggTrade", "blzeth@aggTrade"}
//   absl::StatusOr<std::string> target = nzeza::BinanceCombinedStreamTarget(names);
//   // "/stream?streams=nknusdt@depth@100ms/blzeth@depth@100ms/..."
//   std::string sub = nzeza::BinanceSubscribeFrame(names, /*id=*/1);
//   // {"method":"SUBSCRIBE","params":["nknusdt@depth@100ms",...],"id":1}
//
// How the pieces fit (decided on purpose): Binance's combined endpoint streams whatever the URL
// lists, so a connection to BinanceCombinedStreamTarget(...) needs no subscribe frame. The
// decoder's SubscribeFrames() nevertheless sends one SUBSCRIBE frame for the same streams on every
// open (BinanceDecoderOptions::subscribe_on_open): for a URL that lists them it is a no-op that
// Binance acknowledges with {"result":null,"id":1}, and it makes a connection to a bare "/stream"
// (or a URL that lists fewer streams) receive everything. Each control frame counts against
// Binance's limit of 5 incoming messages per second per connection, which one frame per open
// respects.
//
// Stream names are lower case (Binance requires it): "<symbol>@depth@100ms", "<symbol>@depth"
// (1000 ms), "<symbol>@bookTicker", "<symbol>@trade", "<symbol>@aggTrade". They are ordered by
// kind (all depth streams, then bookTicker, trade, aggTrade), symbols in the order given, which is
// the order of Binance's own examples and of the recording in ../shared/testdata/binance.
#ifndef NZEZA_FEEDS_BINANCE_SUBSCRIBE_H_
#define NZEZA_FEEDS_BINANCE_SUBSCRIBE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nzeza/feeds/common/instruments.h"

namespace nzeza {

// Update speed of the diff. depth stream.
enum class BinanceDepthSpeed : uint8_t {
  kNone = 0,    // no depth stream (no book)
  k100ms = 1,   // "<symbol>@depth@100ms"
  k1000ms = 2,  // "<symbol>@depth" (Binance's default speed)
};

// Which streams to receive for every symbol.
struct BinanceStreamOptions {
  BinanceDepthSpeed depth = BinanceDepthSpeed::k100ms;
  bool book_ticker = true;  // "<symbol>@bookTicker": best bid/offer, real time
  bool trade = false;       // "<symbol>@trade": every trade
  bool agg_trade = true;    // "<symbol>@aggTrade": trades aggregated per taker order
};

// Binance accepts at most this many streams on one connection.
inline constexpr size_t kBinanceMaxStreamsPerConnection = 1024;

// The stream names for `symbols` (venue spelling, any case; lower-cased here), ordered as the file
// comment says. No validation: see BinanceCombinedStreamTarget.
std::vector<std::string> BinanceStreamNames(std::span<const std::string_view> symbols,
                                            const BinanceStreamOptions& options);
// The same for every instrument of `table`, in table order.
std::vector<std::string> BinanceStreamNames(const SymbolTable& table,
                                            const BinanceStreamOptions& options);

// "/stream?streams=<name1>/<name2>/...", the request target of a combined-stream connection.
// Errors: InvalidArgument when `streams` is empty, holds more than
// kBinanceMaxStreamsPerConnection names, or a name that is no Binance stream name: anything but
// "<symbol>@<kind>..." with a lower-case [a-z0-9] symbol and [A-Za-z0-9@_] after it, or an
// all-market "!<kind>..." (such names also never need URL escaping).
absl::StatusOr<std::string> BinanceCombinedStreamTarget(std::span<const std::string> streams);

// {"method":"SUBSCRIBE","params":["<name1>",...],"id":<id>}. Names are JSON-escaped.
std::string BinanceSubscribeFrame(std::span<const std::string> streams, uint64_t id);
// {"method":"UNSUBSCRIBE","params":["<name1>",...],"id":<id>}.
std::string BinanceUnsubscribeFrame(std::span<const std::string> streams, uint64_t id);

}  // namespace nzeza

#endif  // NZEZA_FEEDS_BINANCE_SUBSCRIBE_H_
