// Coinbase market-data decoders: Advanced Trade (Venue::kCoinbase) and Exchange ws-feed
// (Venue::kCoinbaseExchange), both FeedDecoder subclasses (see feed_decoder.h for the contract).
//
//   nzeza::SymbolTable table = *nzeza::SymbolTable::Create(
//       std::vector<nzeza::FeedInstrument>{{"BTC-USD", 0, /*price_scale=*/2, /*size_scale=*/8}});
//   std::unique_ptr<nzeza::FeedDecoder> dec = nzeza::MakeCoinbaseAdvancedDecoder(table, {});
//   for (const std::string& f : dec->SubscribeFrames()) ws.Send(f);
//   dec->OnOpen(now, sink);
//   nzeza::DecodeError e = dec->OnMessage(data, size, recv_ns, sink);   // hot path
//
// Both decoders read each message in one forward pass of simdjson On Demand over every member of
// the root object (so member order never matters and a truncated or trailing-garbage frame is
// always refused). Prices and sizes are parsed exactly (ParseScaled) at the product's scales as
// they are read when the product came first (Coinbase's order); otherwise their texts are kept as
// views into the receive buffer until it is known. Nothing is emitted until the whole message
// has decoded: a message changes the books all or nothing. Cost (BM_Coinbase* in
// bench/feeds/coinbase): one simdjson stage 1 over the message, then O(members + levels), no
// allocation once the staging buffers have grown to the largest message. String values are taken
// raw, without unescaping: Coinbase never escapes ids, numbers, sides or types, and a value with a
// backslash escape never equals one the decoder knows (unknown product, bad number, bad value).
//
// Advanced Trade (docs.cdp.coinbase.com/advanced-trade/docs/ws-channels):
// - Envelope {"channel", "client_id", "timestamp", "sequence_num", "events": [...]}. channel
//   "l2_data" (level2), "market_trades", "ticker", "ticker_batch", "heartbeats", "subscriptions";
//   {"type":"error","message":...} is a venue error (kVenueError). Other channels (candles, status,
//   user, ...) are counted as unknown (kUnknownType) after their sequence_num is checked.
// - sequence_num is per connection and grows by one on every message of every channel. The first
//   message after OnOpen sets the origin. A number <= the last one is a duplicate: counted
//   (duplicates) and skipped (kSequence). A number above last + 1 is a gap: some message of any
//   channel was lost, so MdStatus::kGap{expected, received} goes out for every instrument on the
//   connection, and the decoder asks for the remedy chosen by CoinbaseDecoderOptions::on_gap:
//   kResubscribe (default) asks for FeedActionType::kResubscribe per instrument, whose frames
//   (ResubscribeFrames) unsubscribe and subscribe that product's level2 so the venue sends a new
//   l2_data snapshot, without dropping the connection or the other channels (Coinbase's docs say
//   nothing about replays; a subscribe is the documented way to get a snapshot);
//   kReconnect asks for one FeedActionType::kReconnect (a new connection resends every snapshot;
//   slower, but also resets a server that misbehaves).
// - l2_data events {"type":"snapshot"|"update","product_id","updates":[{"side":"bid"|"offer"
//   (or "ask"),"event_time","price_level","new_quantity"}]}: absolute sizes, "0" deletes. A
//   snapshot is emitted as a snapshot run (kMdSnapshotBegin ... kMdSnapshotEnd). Updates for an
//   instrument whose snapshot has not arrived since a gap are dropped (dropped_before_snapshot,
//   not an error: they were in flight); once the snapshot is emitted, MdStatus::kResynced follows.
//   An update for an instrument that has had no snapshot on this connection at all is refused
//   (kSequence). exchange_ns is the envelope timestamp; per-level event_time is not read.
// - market_trades events {"trades":[{"trade_id","product_id","price","size","side","time"}]}:
//   one kTrade per trade (also for the "snapshot" event of recent trades sent on subscribe; its
//   exchange_ns says how old each one is). side is the TAKER's side ("BUY" = a buyer lifted the
//   offer): Coinbase's Advanced Trade schema describes a market trade's side as the taker side
//   (unlike the Exchange feed's match, below), and cryptofeed, which normalizes every venue to the
//   taker side, passes it through unchanged. So MdTrade::aggressor = side. trade_id: its digits
//   when numeric, else Fnv1a64 of the text.
// - ticker / ticker_batch events {"tickers":[{"product_id", "best_bid", "best_bid_quantity",
//   "best_ask", "best_ask_quantity", ...}]}: one kBbo per ticker that has best_bid or best_ask (a
//   missing side is 0); tickers without them (before 2024-04) emit nothing.
// - heartbeats: counted (CoinbaseCounters::heartbeats) and mark every instrument as seen, since
//   they prove the connection and its subscriptions alive (that is what Coinbase sends them for).
// - A message that fails after its sequence_num and channel were read still consumes its number:
//   for l2_data the books its events name get kGap and the on_gap remedy (the message is read a
//   second time for its product ids alone; every book when they cannot all be read); other
//   channels lose nothing of a book. A message that fails before that (not JSON, cut short) is
//   treated as never received: if it carried a number, the next message shows the gap.
//
// Exchange ws-feed (docs.cdp.coinbase.com/exchange/websocket-feed/channels):
// - {"type":"snapshot","product_id","bids":[[p,s]...],"asks":[[p,s]...]}: a snapshot run; then
//   MdStatus::kResynced if the book had been lost (disconnect or decode failure).
// - {"type":"l2update","product_id","time","changes":[["buy"|"sell",p,s]...]}: absolute sizes.
//   The level2 channel carries no sequence number, so a lost l2update cannot be detected on a
//   live connection; only a reconnect (kDisconnected, then fresh snapshots) or a message that fails
//   to decode (below) marks a book. An l2update before its product's snapshot on this connection
//   is refused (kSequence): the venue always sends the snapshot first.
// - {"type":"ticker","product_id","sequence","best_bid","best_ask","best_bid_size",
//   "best_ask_size","time",...}: a kBbo (sizes 0 where absent, as in the 2021 recording).
// - {"type":"match"|"last_match","trade_id","side","size","price","product_id","sequence",
//   "time"}: a kTrade. Coinbase documents side as the MAKER order's side ("sell" = the resting
//   order was a sell: an up-tick), so MdTrade::aggressor = Opposite(side). A match whose numeric
//   trade_id is not above the last one seen for its product (e.g. the last_match resent after a
//   reconnect) is a duplicate: counted and skipped (kSequence).
// - "subscriptions" and "heartbeat" are counted (heartbeat marks its product seen); "error" is a
//   venue error (kVenueError); every other type is unknown (kUnknownType).
// - A snapshot or l2update that fails after its product was read leaves that book unknowable:
//   kGap for it and a kResubscribe (ResubscribeFrames: unsubscribe + subscribe level2 for the
//   product, which makes the venue send a new snapshot). One whose product could not be read marks
//   every book. A failed message of any other (or unreadable) type changes no book.
//
// Thread: a decoder belongs to its feed-decode stage. Allocates: in the factory (the simdjson
// parser at CoinbaseDecoderOptions::max_message_bytes, staging buffers), in the control-plane
// calls, and while staging a message with more levels than any before it (warm-up).
#ifndef NZEZA_FEEDS_COINBASE_DECODER_H_
#define NZEZA_FEEDS_COINBASE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nzeza/feeds/coinbase/subscribe.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/instruments.h"

namespace nzeza {

class TscClock;

// What an Advanced Trade decoder asks for after a sequence_num gap (see the file comment).
enum class CoinbaseGapAction : uint8_t { kResubscribe = 0, kReconnect = 1 };

struct CoinbaseDecoderOptions {
  // Advanced Trade: channels subscribed on every open, one frame each, in this order.
  std::vector<CoinbaseChannel> channels = {CoinbaseChannel::kLevel2, CoinbaseChannel::kMarketTrades,
                                           CoinbaseChannel::kTicker, CoinbaseChannel::kHeartbeats};
  // Exchange: channels subscribed on every open, one frame each, in this order (the recording's).
  std::vector<CoinbaseExchangeChannel> exchange_channels = {CoinbaseExchangeChannel::kLevel2,
                                                            CoinbaseExchangeChannel::kTicker,
                                                            CoinbaseExchangeChannel::kMatches};
  // Advanced Trade: when set, called for every subscribe/unsubscribe frame and its result sent as
  // "jwt" (Coinbase wants a fresh token per message). Public market data needs none. Control
  // plane only (the decoder never calls it from OnMessage).
  std::function<std::string()> jwt;
  CoinbaseGapAction on_gap = CoinbaseGapAction::kResubscribe;
  // The largest message accepted (simdjson's parser is allocated for it once, about 6 bytes of
  // address space per byte, touched only as far as messages reach); a larger one is kTooLarge.
  // The default is WsClient's frame limit: an Advanced Trade level2 snapshot of a deep book
  // (BTC-USD) is several MB.
  size_t max_message_bytes = size_t{16} << 20;
  // Most levels in one message (kTooLarge beyond).
  size_t max_levels = 200'000;
  // Levels per side reserved for staging up front (no allocation until a message has more).
  size_t reserve_levels = 4096;
  // Clock for MdEvent::times.decoded_ns; null: CLOCK_MONOTONIC (MonotonicNanos, vDSO).
  const TscClock* clock = nullptr;
  // Exchange: a snapshot in Coinbase's own layout is read by a validating scanner
  // (feeds/common/level_scan.h) instead of simdjson On Demand, with the same result; anything it
  // does not take goes the general way. false: every message the general way (the tests compare
  // the two).
  bool fast_snapshots = true;
};

// Coinbase-specific counts, beside FeedDecoder::counters().
struct CoinbaseCounters {
  uint64_t heartbeats = 0;            // heartbeat(s) messages
  uint64_t subscriptions = 0;         // subscriptions confirmations
  uint64_t tickers = 0;               // ticker entries read (a kBbo each when it has best bid/ask)
  uint64_t failed_book_messages = 0;  // book messages that failed and marked books kGap
  uint64_t fast_snapshots = 0;        // Exchange snapshots read by the scanner (fast_snapshots)
};

// Advanced Trade decoder (Venue::kCoinbase). Never fails: bad options are clamped (capacity at
// least 4 KiB).
std::unique_ptr<FeedDecoder> MakeCoinbaseAdvancedDecoder(SymbolTable table,
                                                         CoinbaseDecoderOptions options = {});

// Exchange ws-feed decoder (Venue::kCoinbaseExchange).
std::unique_ptr<FeedDecoder> MakeCoinbaseExchangeDecoder(SymbolTable table,
                                                         CoinbaseDecoderOptions options = {});

// The CoinbaseCounters of a decoder made by one of the factories above; nullptr for any other.
const CoinbaseCounters* CoinbaseCountersOf(const FeedDecoder& decoder) noexcept;

// nzeza-decode: notes the products and the price/size texts of one message of either protocol
// (Exchange snapshot/l2update/ticker/match/last_match; Advanced Trade l2_data/market_trades/
// ticker). Anything else, or text that is not JSON, notes nothing. Allocates.
void DiscoverCoinbaseInstruments(std::string_view message, InstrumentDiscovery* out);

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COINBASE_DECODER_H_
