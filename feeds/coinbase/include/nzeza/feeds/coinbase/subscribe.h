// Subscribe / unsubscribe frames for Coinbase's two market-data WebSocket protocols.
//
//   // Advanced Trade (wss://advanced-trade-ws.coinbase.com): one channel per frame.
//   std::vector<std::string> ids = {"BTC-USD", "ETH-USD"};
//   std::string f = nzeza::EncodeCoinbaseSubscribe(nzeza::CoinbaseSubscribeOp::kSubscribe,
//                                                  nzeza::CoinbaseChannel::kLevel2, ids);
//   // {"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channel":"level2"}
//
//   // Exchange ws-feed (wss://ws-feed.exchange.coinbase.com): the recording's frames, one channel
//   // per frame as well.
//   std::string g = nzeza::EncodeCoinbaseExchangeSubscribe(
//       nzeza::CoinbaseSubscribeOp::kSubscribe, nzeza::CoinbaseExchangeChannel::kMatches, ids);
//   // {"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["matches"]}
//
// Advanced Trade: Coinbase documents "you must send a unique subscription message for each
// channel" and an optional "jwt" member (a fresh ES256 token per message; public market-data
// channels need none). Unsubscribe frames have the same shape with "type":"unsubscribe".
// Exchange: the recording (../shared/testdata/coinbase/exchange_feed_2021-04-17.part1.txt) shows
// exactly these frames; they are reproduced byte for byte.
//
// Pure functions. Thread: any. Allocates: the returned string (control plane only).
#ifndef NZEZA_FEEDS_COINBASE_SUBSCRIBE_H_
#define NZEZA_FEEDS_COINBASE_SUBSCRIBE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace nzeza {

enum class CoinbaseSubscribeOp : uint8_t { kSubscribe = 0, kUnsubscribe = 1 };

// Advanced Trade market-data channels this project decodes.
enum class CoinbaseChannel : uint8_t {
  kLevel2 = 0,        // "level2": l2_data snapshot + updates (absolute sizes)
  kMarketTrades = 1,  // "market_trades"
  kTicker = 2,        // "ticker" (best bid/ask since 2024-04)
  kTickerBatch = 3,   // "ticker_batch": the ticker schema every 5 s
  kHeartbeats = 4,    // "heartbeats": keeps sparse subscriptions open, one message a second
};

// "level2", "market_trades", "ticker", "ticker_batch", "heartbeats"; "" outside the enum.
const char* CoinbaseChannelName(CoinbaseChannel c) noexcept;

// Exchange ws-feed channels this project decodes.
enum class CoinbaseExchangeChannel : uint8_t {
  kLevel2 = 0,       // "level2": snapshot + l2update (authenticated on today's feed)
  kLevel2Batch = 1,  // "level2_batch": the same messages batched every 50 ms (public)
  kTicker = 2,       // "ticker"
  kTickerBatch = 3,  // "ticker_batch"
  kMatches = 4,      // "matches": last_match, then match
  kHeartbeat = 5,    // "heartbeat": one message a second per product
};

// "level2", "level2_batch", "ticker", "ticker_batch", "matches", "heartbeat"; "" outside the enum.
const char* CoinbaseExchangeChannelName(CoinbaseExchangeChannel c) noexcept;

// Advanced Trade frame: {"type":"subscribe"|"unsubscribe","product_ids":[...],"channel":"...",
// "jwt":"..."} ("jwt" only when `jwt` is non-empty). Product ids and the token are JSON-escaped.
std::string EncodeCoinbaseSubscribe(CoinbaseSubscribeOp op, CoinbaseChannel channel,
                                    std::span<const std::string> product_ids,
                                    std::string_view jwt = {});

// Exchange frame: {"type":"subscribe"|"unsubscribe","product_ids":[...],"channels":["..."]}.
std::string EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp op, CoinbaseExchangeChannel channel,
                                            std::span<const std::string> product_ids);

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COINBASE_SUBSCRIBE_H_
