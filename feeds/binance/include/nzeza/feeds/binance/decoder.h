// The Binance Spot market-data decoder: combined-stream frames ({"stream":..,"data":{..}}) and
// bare events into MdEvents, with Binance's documented local order book algorithm (REST snapshot
// + buffered diffs + U/u sequence checks).
//
//   std::vector<nzeza::FeedInstrument> v = {{"NKNUSDT", 0, /*price_scale=*/8, /*size_scale=*/8}};
//   std::unique_ptr<nzeza::FeedDecoder> dec =
//       nzeza::MakeBinanceDecoder(*nzeza::SymbolTable::Create(v), {});
//   dec->OnOpen(now, sink);                  // every book waits for a REST snapshot
//   nzeza::FeedAction a;
//   while (dec->PopAction(&a)) {             // kFetchSnapshot for every instrument
//     GET(dec->SnapshotTarget(a.instrument));  // "/api/v3/depth?symbol=NKNUSDT&limit=1000"
//   }
//   dec->OnMessage(frame, n, recv_ns, sink);  // diffs are buffered until the snapshot arrives
//   dec->OnSnapshot(id, body, m, recv_ns, sink);  // snapshot run, buffered diffs, kResynced
//
// Messages (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
// - depthUpdate {e,E,s,U,u,b:[[p,q]..],a:[[p,q]..]}: absolute sizes, "0" deletes; venue_seq = u,
//   exchange_ns = E (ms) * 1e6. Levels are emitted bids then asks, as LevelBatcher emits them (a
//   diff of up to 11 levels is one event, built in place; a larger one several).
// - bookTicker {u,s,b,B,a,A} (no "e": recognised by the stream name "<sym>@bookTicker", or, bare,
//   by its fields): MdEvent::Bbo, venue_seq = u, exchange_ns = 0 (Binance Spot sends no time).
// - trade {e,E,s,t,p,q,T,m}, aggTrade {e,E,s,a,p,q,f,l,T,m}: MdEvent::Trade with trade_id and
//   venue_seq = t (trade) or a (aggregate id), exchange_ns = T (trade time) * 1e6, and aggressor
//   Sell when m is true (the buyer was the maker, so the seller took), Buy otherwise.
// - {"result":..,"id":N} (reply to SUBSCRIBE and friends): counted (subscribe_replies), kOk.
// - {"code":..,"msg":..} or {"error":{..}}: kVenueError.
// - Any other event type (kline, 24hrTicker, partial depth ...), a top-level array: kUnknownType.
// Fields are found by name in one pass over each object (simdjson on-demand), so their order does
// not matter (Binance documents none). Strings and level lists in Binance's own form are taken in
// place, without a copy; anything else (an escaped character, a level with a third element,
// whitespace is fine) sends the message through a second, general pass that unescapes and walks
// every value, with the same result. Decimals are parsed exactly at the SymbolTable's scales
// (kBadNumber when a value has more decimals than the scale); integers (E, U, u, t, a, T) must be
// JSON unsigned integers (kBadNumber otherwise). A price of 0 in a level is kBadValue.
//
// The book algorithm, per symbol (Binance's "How to manage a local order book correctly"):
// 1. OnOpen: the symbol waits for a snapshot (kFetchSnapshot requested); diffs are buffered as
//    decoded levels (not JSON text) in a per-symbol buffer preallocated for
//    max_buffered_diffs / max_buffered_levels. Buffered diffs must be contiguous
//    (U == previous u + 1): a hole discards what came before it and reports kGap; a full buffer is
//    discarded and a snapshot requested again (the snapshot in flight will then be too old or
//    will bridge the newer diffs: either way the check in 2. decides).
// 2. OnSnapshot {"lastUpdateId":L,"bids":[..],"asks":[..]}: buffered diffs with u <= L are dropped
//    (counters().dropped_before_snapshot); the first remaining one must have U <= L+1 <= u, else
//    the snapshot is too old: nothing is emitted and another snapshot is requested (kSequence).
//    Otherwise the snapshot is emitted as a snapshot run (venue_seq = L), then the buffered diffs,
//    then MdStatus::kResynced.
// 3. Afterwards: the first diff must bridge L (u <= L: dropped as older than the snapshot;
//    U <= L+1 <= u: applied; U > L+1: kGap), then every diff must have U == previous u + 1:
//    u <= previous u is a duplicate (counted, skipped, kSequence); anything else is a gap:
//    MdStatus::kGap{expected = previous u + 1, received = U}, a new snapshot is requested and the
//    diff is buffered as in 1. OnMessage returns kSequence for a gap too (last_error() says
//    where; counted in gaps, not duplicates).
// 4. A depthUpdate for a synced symbol that fails to decode (bad number, too many levels ...) is a
//    lost update: kGap and a new snapshot, as in 3. A snapshot for a symbol that is not waiting
//    for one is counted (duplicates, snapshots_ignored) and ignored.
// 5. OnClose: kDisconnected for every symbol; snapshots arriving before the next OnOpen are
//    ignored (a book cannot be live without a connection).
// OnOpen also emits MdStatus::kConnected for every symbol.
//
// Thread: one decoder per feed-decode stage, used from that thread only. Allocates: in the
// constructor (simdjson parser of max_message_bytes, per-symbol buffers, level staging) and in
// the control-plane methods; never in OnMessage / OnSnapshot. Memory: about
// max_message_bytes * 7 for the parser plus, per symbol, 40 * max_buffered_diffs +
// 16 * max_buffered_levels bytes.
#ifndef NZEZA_FEEDS_BINANCE_DECODER_H_
#define NZEZA_FEEDS_BINANCE_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "nzeza/core/clock.h"
#include "nzeza/feeds/binance/subscribe.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/instruments.h"

namespace nzeza {

struct BinanceDecoderOptions {
  // The streams SubscribeFrames() asks for (use the same options for the URL target).
  BinanceStreamOptions streams;
  // Send one SUBSCRIBE frame (id 1) for `streams` on every open; see subscribe.h for why this is
  // on by default even when the URL lists the streams.
  bool subscribe_on_open = true;
  // REST snapshot depth (`limit`): Binance accepts 1..5000 (weight grows with it).
  uint32_t snapshot_limit = 1000;
  // Most levels (bids + asks) accepted in one diff or snapshot; more: kTooLarge.
  size_t max_levels_per_message = 10000;
  // Per symbol, while waiting for a snapshot: most buffered diffs and their levels. When either
  // would overflow the buffer is discarded and a snapshot requested again.
  size_t max_buffered_diffs = 256;
  size_t max_buffered_levels = 16384;
  // Largest message (WebSocket frame or snapshot body) the parser accepts; larger: kTooLarge.
  size_t max_message_bytes = size_t{1} << 20;
  // Stamps times.decoded_ns; null: MonotonicNanos() (vDSO, no syscall).
  const TscClock* clock = nullptr;
  // A REST snapshot in Binance's own layout ({"lastUpdateId":N,"bids":[..],"asks":[..]}) is read
  // by a validating scanner (feeds/common/level_scan.h) instead of simdjson On Demand, with the
  // same result; anything it does not take goes the general way. false: always the general way.
  bool fast_snapshots = true;
};

// Makes the decoder (venue() == Venue::kBinance). Scales come from `table`.
std::unique_ptr<FeedDecoder> MakeBinanceDecoder(SymbolTable table, BinanceDecoderOptions options);

// "/api/v3/depth?symbol=<SYMBOL>&limit=<limit>" (the symbol as given: Binance's REST API wants
// it upper case, as the stream events spell it).
std::string BinanceSnapshotTarget(std::string_view symbol, uint32_t limit);

// Where one symbol's book stands in the algorithm above.
enum class BinanceBookSync : uint8_t {
  kDisconnected = 0,      // before OnOpen or after OnClose: snapshots are ignored
  kAwaitingSnapshot = 1,  // diffs are buffered; a snapshot is requested
  kBridging = 2,          // snapshot emitted, no diff applied yet: the next must bridge it
  kLive = 3,              // every diff follows the previous one
};
const char* BinanceBookSyncName(BinanceBookSync s) noexcept;

// Binance-specific counts, beyond FeedCounters.
struct BinanceDecoderStats {
  uint64_t subscribe_replies = 0;  // {"result":..,"id":N} replies
  uint64_t snapshots_too_old = 0;  // snapshots whose lastUpdateId + 1 < U of the first diff kept
  uint64_t snapshots_ignored = 0;  // snapshots for a symbol not waiting for one
  uint64_t buffer_overflows = 0;   // buffers discarded because they were full
  uint64_t buffer_holes = 0;       // buffers discarded because a diff was missing in them
  uint64_t lost_updates = 0;       // depthUpdates that failed to decode and left a hole (in a
                                   // synced book: kGap; in a buffer: the buffer is discarded)
  uint64_t fast_snapshots = 0;     // snapshot bodies read by the scanner (fast_snapshots)
};

// The stats of a decoder made by MakeBinanceDecoder; nullptr for any other decoder.
const BinanceDecoderStats* GetBinanceDecoderStats(const FeedDecoder& decoder) noexcept;
// The sync state of `instrument`; kDisconnected for an unknown id or another venue's decoder.
BinanceBookSync GetBinanceBookSync(const FeedDecoder& decoder, InstrumentId instrument) noexcept;

// For nzeza-decode: notes the symbol and every price and size text of a depthUpdate, bookTicker,
// trade or aggTrade message (combined or bare). Anything else (REST snapshot bodies: they name no
// symbol; other streams; malformed JSON) is ignored. Control plane: allocates.
void DiscoverBinanceInstruments(std::string_view message, InstrumentDiscovery* out);

}  // namespace nzeza

#endif  // NZEZA_FEEDS_BINANCE_DECODER_H_
