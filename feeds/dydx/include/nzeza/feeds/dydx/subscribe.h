// Subscribe and unsubscribe frames of the dYdX v4 indexer WebSocket
// (wss://indexer.dydx.trade/v4/ws; docs.dydx.exchange, "Indexer Websocket").
//
//   using nzeza::DydxChannel;
//   ws.Send(nzeza::DydxSubscribeFrame(DydxChannel::kOrderbook, "BTC-USD", /*batched=*/true));
//   // {"type":"subscribe","channel":"v4_orderbook","id":"BTC-USD","batched":true}
//   ws.Send(nzeza::DydxSubscribeFrame(nzeza::DydxChannel::kMarkets));
//   // {"type":"subscribe","channel":"v4_markets","batched":false}
//
// Every channel but v4_markets names a market ticker in `id`; v4_markets has no id (the
// indexer's validateSubscriptionForChannel). `batched` asks the indexer to coalesce the channel's
// updates into one channel_batch_data message per BATCH_SEND_INTERVAL_MS (socks'
// MessageForwarder): fewer, larger messages.
//
// Pure functions. Allocates: the returned string (control plane).
#ifndef NZEZA_FEEDS_DYDX_SUBSCRIBE_H_
#define NZEZA_FEEDS_DYDX_SUBSCRIBE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace nzeza {

// The indexer channels nzeza decodes.
enum class DydxChannel : uint8_t {
  kOrderbook = 0,  // "v4_orderbook": book snapshot on subscribe, then level updates
  kTrades = 1,     // "v4_trades": recent trades on subscribe, then new trades
  kMarkets = 2,    // "v4_markets": every market's parameters on subscribe, then changes
};

// "v4_orderbook", "v4_trades", "v4_markets"; "" outside the enum. A static string.
std::string_view DydxChannelName(DydxChannel channel) noexcept;

// {"type":"subscribe","channel":"<channel>","id":"<id>","batched":<batched>}; for kMarkets the
// id is left out (the indexer's v4_markets has none) and `id` is ignored. `id` is written as a
// JSON string (quotes, backslashes and control characters escaped).
std::string DydxSubscribeFrame(DydxChannel channel, std::string_view id = {}, bool batched = false);

// {"type":"unsubscribe","channel":"<channel>","id":"<id>"} (no id for kMarkets).
std::string DydxUnsubscribeFrame(DydxChannel channel, std::string_view id = {});

}  // namespace nzeza

#endif  // NZEZA_FEEDS_DYDX_SUBSCRIBE_H_
