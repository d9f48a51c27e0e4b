// FeedDecoder: one venue's market-data protocol, without the socket. Each venue folder
// (feeds/coinbase, feeds/binance, feeds/dydx) provides a subclass; FeedSession drives it from a
// WebSocket session (and an HTTPS client for REST snapshots), nzeza-decode drives it from a
// recording, tests drive it directly.
//
//   auto dec = nzeza::MakeBinanceDecoder(table, options);          // a FeedDecoder subclass
//   for (const std::string& f : dec->SubscribeFrames()) ws.Send(f);  // on every open
//   dec->OnOpen(now_ns, sink);
//   nzeza::DecodeError e = dec->OnMessage(data, size, recv_ns, sink);  // hot path
//   nzeza::FeedAction a;
//   while (dec->PopAction(&a)) { /* fetch a snapshot, resubscribe, reconnect */ }
//
// Contract for every subclass:
// - OnMessage is the hot path: noexcept, no allocation after warm-up, no lock, no syscall, no
//   logging. `data` has at least kFeedPadding readable bytes after `size` (simdjson on-demand
//   reads in place, no copy).
// - A message changes the books all or nothing: levels are staged (LevelBatcher) and emitted only
//   once the whole message decoded. A message that fails is counted (counters().decode_errors,
//   per instrument where the instrument is known), its error kept (last_error()), and nothing of it
//   is emitted; if the failure leaves the instrument's book unknowable (a lost incremental update)
//   the decoder emits MdStatus::kGap for it and asks for a resync (PopAction).
// - Sequence rules are the venue's own (Binance U/u, Coinbase sequence_num, dYdX message_id). A
//   gap emits MdStatus::kGap{expected, received} for the affected instrument(s) and requests a
//   resync; incremental updates are not emitted for that instrument until its new snapshot has
//   been emitted (kMdSnapshotBegin ... kMdSnapshotEnd), after which MdStatus::kResynced follows.
//   A duplicate or old sequence number is counted (duplicates) and skipped.
// - Unknown message types are counted (unknown_messages) and skipped: not an error of the book.
// - Messages for instruments not in the table are counted (unknown_instrument) and skipped.
// - OnClose emits MdStatus::kDisconnected for every instrument; OnOpen resets the per-connection
//   sequence state (the venue sends fresh snapshots after a subscribe, or, for Binance, the
//   decoder asks for REST snapshots).
// - CheckStale (base class) emits MdStatus::kStale once per instrument whose last message is older
//   than the budget, and counts it.
#ifndef NZEZA_FEEDS_COMMON_FEED_DECODER_H_
#define NZEZA_FEEDS_COMMON_FEED_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nzeza/core/events.h"
#include "nzeza/feeds/common/instruments.h"
#include "nzeza/feeds/common/md_sink.h"

namespace nzeza {

// Readable bytes a decoder may touch after a message (simdjson's SIMDJSON_PADDING is 64 in
// Debian's 3.0.1; feeds_common checks this at compile time).
inline constexpr size_t kFeedPadding = 64;

enum class DecodeError : uint8_t {
  kOk = 0,
  kMalformedJson,      // not JSON, or truncated
  kMissingField,       // a field the message type requires is absent or of the wrong JSON type
  kBadNumber,          // a price/size/sequence that is not a decimal or does not fit the scale
  kBadValue,           // a field with a value outside its domain (unknown side, negative seq ...)
  kUnknownType,        // a message type the decoder does not know (counted, skipped)
  kUnknownInstrument,  // a symbol not in the table (counted, skipped)
  kSequence,           // out-of-order or duplicate sequence number (skipped), or a gap
  kVenueError,         // the venue sent an error message (e.g. a refused subscription)
  kTooLarge,           // more levels than the decoder is configured to accept in one message
};

// "ok", "malformed json", ...; a static string.
const char* DecodeErrorName(DecodeError e) noexcept;

// What a decoder asks its session to do (PopAction).
enum class FeedActionType : uint8_t {
  kFetchSnapshot = 0,  // GET SnapshotTarget(instrument) and pass the body to OnSnapshot
  kResubscribe = 1,    // send ResubscribeFrames(instrument)
  kReconnect = 2,      // drop the connection and start over (every instrument)
};

struct FeedAction {
  FeedActionType type = FeedActionType::kReconnect;
  InstrumentId instrument = 0;
};

struct FeedCounters {
  uint64_t messages = 0;                 // OnMessage calls
  uint64_t level_messages = 0;           // messages that changed a book (snapshots and updates)
  uint64_t snapshots = 0;                // snapshots applied (WS or REST)
  uint64_t trades = 0;                   // trade events emitted
  uint64_t bbos = 0;                     // BBO events emitted
  uint64_t events = 0;                   // MdEvents emitted, all types
  uint64_t gaps = 0;                     // sequence gaps detected
  uint64_t resyncs = 0;                  // books rebuilt after a gap or reconnect
  uint64_t duplicates = 0;               // old or duplicate sequence numbers skipped
  uint64_t decode_errors = 0;            // messages that failed to decode (any DecodeError but the
                                         // counted-and-skipped kinds below)
  uint64_t unknown_messages = 0;         // unknown message types skipped
  uint64_t unknown_instrument = 0;       // messages for instruments not in the table
  uint64_t venue_errors = 0;             // error messages from the venue
  uint64_t stale = 0;                    // kStale events emitted
  uint64_t buffered = 0;                 // updates buffered while waiting for a snapshot (Binance)
  uint64_t dropped_before_snapshot = 0;  // buffered updates older than the snapshot
};

struct InstrumentFeedCounters {
  uint64_t messages = 0;  // messages about this instrument
  uint64_t updates = 0;   // book-changing messages (snapshots included)
  uint64_t trades = 0;
  uint64_t gaps = 0;
  uint64_t decode_errors = 0;
  uint64_t resyncs = 0;
};

class FeedDecoder {
 public:
  virtual ~FeedDecoder() = default;
  FeedDecoder(const FeedDecoder&) = delete;
  FeedDecoder& operator=(const FeedDecoder&) = delete;

  virtual Venue venue() const noexcept = 0;

  // ---- Control plane (allocates) ----
  // The frames that subscribe every instrument in the table; sent on every open.
  virtual std::vector<std::string> SubscribeFrames() const = 0;
  // The frames that re-subscribe one instrument after a gap (unsubscribe + subscribe where the
  // venue resends a snapshot on subscribe); empty when the venue resyncs another way.
  virtual std::vector<std::string> ResubscribeFrames(InstrumentId instrument) const = 0;
  // The REST path (and query) of the book snapshot for `instrument` ("/api/v3/depth?..."); empty
  // when the venue has none.
  virtual std::string SnapshotTarget(InstrumentId instrument) const {
    (void)instrument;
    return {};
  }

  // ---- Session events ----
  virtual void OnOpen(int64_t now_ns, MdSink& sink) noexcept = 0;
  virtual void OnClose(int64_t now_ns, MdSink& sink) noexcept = 0;

  // ---- Hot path ----
  virtual DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                                MdSink& sink) noexcept = 0;
  // A REST book snapshot body for `instrument` (padded like OnMessage). Default: kUnknownType.
  virtual DecodeError OnSnapshot(InstrumentId instrument, const char* data, size_t size,
                                 int64_t recv_ns, MdSink& sink) noexcept;
  // The snapshot request for `instrument` failed; the decoder asks again (PopAction) when it
  // still needs one. Default: nothing.
  virtual void OnSnapshotFailed(InstrumentId instrument) noexcept { (void)instrument; }

  // Emits kStale once for each instrument with no message in the last `budget_ns` (and clears
  // the mark when a message arrives). Returns the number of kStale events emitted.
  int CheckStale(int64_t now_ns, int64_t budget_ns, MdSink& sink) noexcept;

  // Next requested action, false when none. The queue holds one pending action per (type,
  // instrument); repeated requests coalesce.
  bool PopAction(FeedAction* out) noexcept;

  const SymbolTable& table() const noexcept { return table_; }
  const FeedCounters& counters() const noexcept { return counters_; }
  // Per instrument, indexed like table().all(); nullptr for an id not in the table.
  const InstrumentFeedCounters* instrument_counters(InstrumentId id) const noexcept;
  DecodeError last_error() const noexcept { return last_error_; }
  // A static description of the last error's place ("depthUpdate: b[3] price"), "" if none.
  const char* last_error_where() const noexcept { return last_error_where_; }

 protected:
  explicit FeedDecoder(SymbolTable table);

  // Records a failed message: counts it (globally and for `idx` when not kNoIndex), remembers
  // the error and where. Returns e, so `return Fail(...)` reads well.
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);
  DecodeError Fail(DecodeError e, const char* where, size_t idx = kNoIndex) noexcept;
  // Marks a message for table index `idx` as seen at recv_ns (staleness, per-instrument count).
  void Seen(size_t idx, int64_t recv_ns) noexcept;
  // Queues an action (coalesced).
  void RequestAction(FeedActionType type, InstrumentId instrument) noexcept;
  // Emits an event (counts it).
  void Emit(MdSink& sink, const MdEvent& ev) noexcept {
    ++counters_.events;
    sink.Push(ev);
  }
  // Emits MdStatus `code` for the instrument at `idx` (counts gaps/resyncs).
  void EmitStatus(MdSink& sink, size_t idx, MdStatus code, int64_t recv_ns,
                  uint64_t expected_seq = 0, uint64_t received_seq = 0) noexcept;
  // Emits `code` for every instrument.
  void EmitStatusAll(MdSink& sink, MdStatus code, int64_t recv_ns) noexcept;

  InstrumentFeedCounters& icounters(size_t idx) noexcept { return per_instrument_[idx]; }

  SymbolTable table_;
  FeedCounters counters_;

 private:
  std::vector<InstrumentFeedCounters> per_instrument_;
  std::vector<int64_t> last_seen_ns_;
  std::vector<uint8_t> stale_marked_;
  std::vector<FeedAction> actions_;    // pending, reserved for 3 per instrument
  std::vector<uint8_t> action_flags_;  // per instrument: bit per FeedActionType pending
  size_t action_head_ = 0;
  bool reconnect_pending_ = false;
  DecodeError last_error_ = DecodeError::kOk;
  const char* last_error_where_ = "";
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_FEED_DECODER_H_
