// The dYdX v4 indexer WebSocket decoder: `connected`, `v4_orderbook` (subscribed snapshot with
// object levels, channel_data with array levels, the batched channel_batch_data form),
// `v4_trades`, `v4_markets` (market parameters), `unsubscribed`, `error`; message_id ordering; the
// documented uncross remedy for crossed books.
//
//   auto dec = nzeza::MakeDydxDecoder(table, {.batched = true});
//   for (const std::string& f : dec->SubscribeFrames()) ws.Send(f);   // on every open
//   dec->OnOpen(now_ns, sink);
//   nzeza::DecodeError e = dec->OnMessage(data, size, recv_ns, sink);  // hot path
//   if (const nzeza::DydxMarketParams* m = dec->market_params("BTC-USD")) {
//     Use(m->tick_size, m->step_size, m->atomic_resolution);   // order entry needs these
//   }
//
// The protocol, as the indexer's socks service implements it (dydxprotocol/v4-chain,
// indexer/services/socks: websocket/index.ts, lib/subscription.ts, lib/message-forwarder.ts,
// helpers/message.ts) and docs.dydx.exchange describe it:
// - message_id is one counter per connection, shared by every channel: `connected` has 0, each
//   channel_data, channel_batch_data and unsubscribed takes the next value, and a subscribe
//   *request* reserves the next value for its `subscribed` reply, which is sent only after the
//   initial response was fetched. So ids have holes (a reserved id shows up later, or never when
//   the subscription fails: the `error` reply reuses the current id), and a `subscribed` message
//   may carry an id lower than data messages already received. Data messages on one connection
//   arrive in increasing id order (one TCP stream, sent in counter order).
// - Therefore: a hole in message_id is NOT a gap (counted in message_id_holes for information
//   only). A channel_data / channel_batch_data / unsubscribed message whose id is <= the last one
//   seen on this connection is a duplicate or out of order: counted (counters().duplicates) and
//   skipped (kSequence). `subscribed` is exempt from that check (its id is older by design) but
//   a `subscribed` for a book whose current snapshot has the same or a newer id is a duplicate.
//   `error` messages are exempt (they reuse ids).
// - The indexer has no per-channel sequence number, so a lost orderbook update cannot be seen
//   in the ids. What makes a book untrustworthy here: an orderbook update (or a re-snapshot) for
//   a live book that fails to decode (the update is lost), an `unsubscribed` for a live book, and
//   a message that fails before its channel and id are known (it may have been any book's
//   update, so every live book is affected; a truncated frame is always one of these, since the
//   parser checks the document's closing brace before any field is read). Each emits MdStatus::kGap
//   for the book(s), stops their incremental updates and requests kResubscribe (unsubscribe +
//   subscribe, which makes the indexer send a fresh snapshot); after that snapshot
//   MdStatus::kResynced follows. While a book waits for its snapshot no further resubscribe is
//   requested (no request loop on a message that keeps failing), and a snapshot that fails to
//   decode leaves the book waiting (kGap stands).
//
// Crossed books and the uncross remedy. dYdX v4 has no central order book: each block proposer's
// mempool is the book, so the indexer's book can cross transiently. The documented remedy
// (docs.dydx.exchange, "How to uncross the orderbook", api_integration-guides/
// how_to_uncross_orderbook) uses the message order as a logical timestamp: remember for every
// price level the message id that last set it; while best bid >= best ask, delete the older of
// the two best levels; when both were set by the same message, net their sizes (the smaller level
// is deleted and the larger one keeps the difference; equal sizes delete both). This decoder does
// exactly that, per instrument, on a light shadow of the book kept for the purpose (price, size,
// offset per level, `shadow_depth` levels per side, allocated once), and emits what the remedy
// changes as size-0 (or reduced-size) levels inside the same message's events, so the book
// downstream never sees the crossed state. The offset of a level is message_id * 2^20 + the index
// of the update inside a channel_batch_data (updates of one batch happened in that order; this
// refinement is what v4-abacus's OrderbookProcessor does with its own per-update offset). A
// snapshot's levels all share one offset, so a crossed snapshot is uncrossed by size netting
// before it is emitted (OrderBook refuses crossed snapshots). The remedy is the venue's, not a
// guess: with uncross = kDetect the decoder only counts crossings and passes the venue's levels
// through, and OrderBook reports the crossed state (MdStatus::kCrossed downstream).
// The shadow is an exact prefix of the book (like OrderBook's depth limit): levels beyond its
// depth are dropped and remembered as a horizon; a crossing it cannot resolve because a side ran
// out of known levels is counted (uncross_incomplete) and left to the book downstream. A message
// with more than 11 level changes spans several MdEvents (bids before asks, LevelBatcher), so a
// book may look crossed between two events of one message; it is uncrossed at the event flagged
// kMdMessageEnd.
//
// Events: a `subscribed` orderbook message is a snapshot run (kMdSnapshotBegin ... End), then
// kResynced when it follows a gap or a reconnect; channel_data and channel_batch_data are one
// incremental message each (absolute sizes, "0" deletes); updates that arrive before the
// connection's snapshot are dropped (counters().dropped_before_snapshot: the snapshot includes
// them). Trades: aggressor = the `side` field, which is the taker's (the indexer builds trade
// messages from taker fills only: ender's generateTradeKafkaEventFromTakerOrderFill); trade_id =
// Fnv1a64 of the id (a 24-hex-digit event id); exchange_ns = createdAt; the trades of a
// `subscribed` reply are recent history and carry kMdSnapshot. venue_seq is the message_id;
// book events carry no exchange time (the indexer sends none).
//
// Numbers: prices and sizes are parsed at the SymbolTable's scales (never guessed; v4_markets'
// tickSize/stepSize are recorded in DydxMarketParams and a table scale coarser than them is
// counted in scale_conflicts). A price or size that does not fit is kBadNumber.
//
// Thread: single owner (the feed stage). Allocates: in the constructor (parser, staging, shadow
// books, market records) and in the control-plane methods; OnMessage never allocates, locks,
// logs or makes a syscall (the decoded_ns stamp reads the TscClock or the vDSO clock).
#ifndef NZEZA_FEEDS_DYDX_DECODER_H_
#define NZEZA_FEEDS_DYDX_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "nzeza/core/decimal.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/instruments.h"

namespace nzeza {

class TscClock;

// What the decoder does about crossed books.
enum class DydxUncross : uint8_t {
  kOff = 0,     // no shadow book: levels pass through, nothing is detected here
  kDetect = 1,  // keep the shadow, count crossed messages, pass the venue's levels through
  kRemedy = 2,  // kDetect + the documented uncross remedy (the default)
};

struct DydxDecoderOptions {
  // Subscribe v4_orderbook and v4_trades with "batched":true (their updates then arrive as
  // channel_batch_data, one per indexer batch interval: fewer messages, more latency).
  bool batched = false;
  // Also subscribe v4_trades (per instrument) and v4_markets (once).
  bool subscribe_trades = true;
  bool subscribe_markets = true;
  DydxUncross uncross = DydxUncross::kRemedy;
  // Most levels per side one message may carry (a snapshot, or a whole batch); more is kTooLarge.
  uint32_t max_levels = 4096;
  // Levels per side the uncross shadow keeps per instrument (1..65536).
  uint32_t shadow_depth = 512;
  // Most trades one message may carry (the subscribed history has up to 100); more is kTooLarge.
  uint32_t max_trades = 1024;
  // Largest message the parser accepts (a v4_markets snapshot of every market is ~200 KB); more
  // is kTooLarge.
  size_t max_message_bytes = size_t{4} << 20;
  // Stamps times.decoded_ns; null: MonotonicNanos() (same epoch as the TscClock).
  const TscClock* clock = nullptr;
};

// A market's status as v4_markets writes it.
enum class DydxMarketStatus : uint8_t {
  kUnknown = 0,  // absent or a value this decoder does not know
  kActive,
  kPaused,
  kCancelOnly,
  kPostOnly,
  kInitializing,
  kFinalSettlement,
};

// "ACTIVE", "PAUSED", ...; "UNKNOWN". A static string.
const char* DydxMarketStatusName(DydxMarketStatus s) noexcept;

// One market's parameters from v4_markets (the indexer's PerpetualMarket). Order entry needs them
// to turn a price and size into subticks and quantums:
//   quantums = size * 10^-atomic_resolution, a multiple of step_base_quantums;
//   subticks = price * 10^(-quantum_conversion_exponent + atomic_resolution - quote atomic
//   resolution (-6 for USDC)), a multiple of subticks_per_tick.
struct DydxMarketParams {
  // DydxMarketParams::fields bits: which fields a v4_markets message has set.
  enum Field : uint32_t {
    kClobPairId = 1u << 0,
    kStatus = 1u << 1,
    kTickSize = 1u << 2,
    kStepSize = 1u << 3,
    kAtomicResolution = 1u << 4,
    kQuantumConversionExponent = 1u << 5,
    kStepBaseQuantums = 1u << 6,
    kSubticksPerTick = 1u << 7,
    kOraclePrice = 1u << 8,
  };
  // The fields a `subscribed` record always has; complete() checks them.
  static constexpr uint32_t kStaticFields = kClobPairId | kStatus | kTickSize | kStepSize |
                                            kAtomicResolution | kQuantumConversionExponent |
                                            kStepBaseQuantums | kSubticksPerTick;

  InstrumentId instrument = 0;
  uint32_t fields = 0;
  uint32_t clob_pair_id = 0;
  DydxMarketStatus status = DydxMarketStatus::kUnknown;
  // Exact, at the scale the venue wrote them with: "1" -> (1, 0), "0.0001" -> (1, 4),
  // "0.00100" -> (1, 3).
  Decimal tick_size;
  Decimal step_size;
  int32_t atomic_resolution = 0;
  int32_t quantum_conversion_exponent = 0;
  uint64_t step_base_quantums = 0;
  uint64_t subticks_per_tick = 0;
  // The latest oracle price (subscribed "oraclePrice", or channel_data oraclePrices) and its
  // effectiveAt (Unix ns, 0 if not given).
  Decimal oracle_price;
  int64_t oracle_effective_ns = 0;
  uint64_t message_id = 0;  // of the last message that changed this record
  uint64_t updates = 0;     // messages that changed this record

  bool complete() const noexcept { return (fields & kStaticFields) == kStaticFields; }
};

// dYdX-specific counters, beside FeedDecoder::counters().
struct DydxCounters {
  uint64_t connected = 0;           // `connected` messages
  uint64_t subscribed = 0;          // `subscribed` messages applied (any channel)
  uint64_t unsubscribed = 0;        // `unsubscribed` messages
  uint64_t batches = 0;             // channel_batch_data messages applied
  uint64_t batch_updates = 0;       // content objects inside them
  uint64_t message_id_holes = 0;    // data messages whose id skipped values (not gaps: see above)
  uint64_t crossed = 0;             // book messages after which the shadow book was crossed
  uint64_t uncross_deleted = 0;     // levels the remedy deleted
  uint64_t uncross_reduced = 0;     // levels the remedy reduced (same-offset netting)
  uint64_t uncross_incomplete = 0;  // crossings the shadow's depth could not resolve
  uint64_t shadow_dropped = 0;      // levels beyond the shadow's depth (not tracked)
  uint64_t market_updates = 0;      // market records changed (one per market per message)
  uint64_t markets_ignored = 0;     // market records for tickers not in the table
  uint64_t scale_conflicts = 0;     // tickSize/stepSize finer than the table's scales
  uint64_t unattributed_failures = 0;  // failures before channel and id were known
};

// The decoder: a FeedDecoder (see feed_decoder.h for the contract) plus the dYdX extras.
class DydxDecoder : public FeedDecoder {
 public:
  // The parameters of `ticker` (a table instrument) once a v4_markets message has described it;
  // nullptr for a ticker not in the table or not described yet. The pointer stays valid for the
  // decoder's lifetime (the record changes as messages arrive). No allocation.
  virtual const DydxMarketParams* market_params(std::string_view ticker) const noexcept = 0;
  virtual const DydxMarketParams* market_params(InstrumentId instrument) const noexcept = 0;
  virtual const DydxCounters& dydx_counters() const noexcept = 0;
  virtual const DydxDecoderOptions& options() const noexcept = 0;

 protected:
  explicit DydxDecoder(SymbolTable table) : FeedDecoder(std::move(table)) {}
};

// The decoder for every instrument in `table` (symbols are dYdX tickers: "BTC-USD"). Options are
// clamped to sane ranges (max_levels >= 1, shadow_depth 1..65536, max_trades >= 1).
// Allocates: parser (max_message_bytes), staging and per-instrument shadow books.
std::unique_ptr<DydxDecoder> MakeDydxDecoder(SymbolTable table, DydxDecoderOptions options = {});

// Notes in `out` what one indexer message says about instruments (see discovery.h): the ticker of
// an orderbook or trades message with its prices and sizes, and for v4_markets (subscribed, or a
// channel_data trading update carrying them) the scales of every market's tickSize and stepSize
// ("0.1" -> 1, "1" -> 0), which win over noted prices. Anything else (or malformed JSON) notes
// nothing. Off the hot path; allocates.
void DiscoverDydxInstruments(std::string_view message, InstrumentDiscovery* out);

}  // namespace nzeza

#endif  // NZEZA_FEEDS_DYDX_DECODER_H_
