// The fixed-size, trivially copyable events that cross the pipeline's rings:
//
//   feed-decode ─MdEvent─► signal ─OrderIntent─► risk ─OrderCmd─► order ─ExecEvent─► risk, signal
//
// No pointers, no std::string, no heap: an event is copied by value into a ring slot and means the
// same on any thread. Prices and sizes are fixed-point mantissas at the instrument's scales
// (see decimal.h and the instrument table); an event never carries a double.
//
// Every event carries StageTimes: each stage stamps its own field (monotonic ns from the process
// TscClock) and copies the upstream ones, so per-stage latency and tick-to-ack are computed where
// the event ends.
//
//   MdEvent ev = MdEvent::Levels(Venue::kBinance, instrument, seq);
//   ev.times.recv_ns = recv;
//   ev.levels.AddBid({price, size});   // false once kMaxLevelsPerEvent (11) are held: new event
#ifndef NZEZA_CORE_EVENTS_H_
#define NZEZA_CORE_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

namespace nzeza {

// Index into the engine's instrument table (dense, from 0).
using InstrumentId = uint32_t;

enum class Venue : uint8_t {
  kUnknown = 0,
  kCoinbase = 1,          // Coinbase Advanced Trade
  kCoinbaseExchange = 2,  // Coinbase Exchange (ws-feed protocol)
  kBinance = 3,
  kDydx = 4,
  kSim = 5,
};

// "coinbase", "coinbase-exchange", "binance", "dydx", "sim", "unknown".
inline constexpr const char* VenueName(Venue v) noexcept {
  switch (v) {
    case Venue::kCoinbase:
      return "coinbase";
    case Venue::kCoinbaseExchange:
      return "coinbase-exchange";
    case Venue::kBinance:
      return "binance";
    case Venue::kDydx:
      return "dydx";
    case Venue::kSim:
      return "sim";
    case Venue::kUnknown:
      break;
  }
  return "unknown";
}

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

inline constexpr Side Opposite(Side s) noexcept {
  return s == Side::kBuy ? Side::kSell : Side::kBuy;
}

// Monotonic nanoseconds at each stage boundary; 0 = not reached / not applicable.
struct StageTimes {
  int64_t recv_ns = 0;     // socket read that delivered the venue message
  int64_t decoded_ns = 0;  // decoder emitted the event
  int64_t signal_ns = 0;   // strategy emitted the intent
  int64_t risk_ns = 0;     // risk accepted (or refused) the intent
  int64_t sent_ns = 0;     // order handed to the socket; on an ExecEvent: its order's send time
};

// One price level, absolute: size 0 deletes the level.
struct PriceLevel {
  int64_t price = 0;
  int64_t size = 0;
};

// ---------------------------------------------------------------------------------------------
// Market data (feed-decode → signal)

enum class MdType : uint8_t { kLevels = 0, kTrade = 1, kBbo = 2, kStatus = 3 };

// MdEvent::flags bits.
enum MdFlag : uint8_t {
  kMdSnapshot = 1 << 0,       // levels belong to a snapshot (replace the book)
  kMdSnapshotBegin = 1 << 1,  // first event of a snapshot run: clear the book first
  kMdSnapshotEnd = 1 << 2,    // last event of a snapshot run: the book is whole again
  kMdMessageEnd = 1 << 3,     // last event decoded from one venue message
  // The producer of this event's ring (or of a ring before it) dropped events since the last one
  // it delivered: that ring stayed full past its bounded back-pressure. Set by the producer on the
  // next event that does get through and passed on by the signal stage to risk, whose breaker
  // trips on it (BreakerCause::kRingOverrun). A ring that is full cannot carry the news itself.
  kMdRingOverrun = 1 << 4,
};

enum class MdStatus : uint8_t {
  kConnected = 0,
  kDisconnected = 1,
  kStale = 2,     // no message within the staleness budget
  kGap = 3,       // sequence gap: the book is not trustworthy until kResynced
  kResynced = 4,  // book rebuilt after a gap or reconnect
  kCrossed = 5,   // best bid >= best ask
  kUncrossed = 6,
  kDecodeError = 7,  // a message could not be decoded (counted, skipped)
};

inline constexpr size_t kMaxLevelsPerEvent = 11;

// A batch of level changes from one venue message: bids first, then asks.
struct MdLevels {
  uint8_t num_bids = 0;
  uint8_t num_asks = 0;
  uint8_t reserved[6] = {};
  PriceLevel level[kMaxLevelsPerEvent];

  size_t size() const noexcept { return size_t{num_bids} + num_asks; }
  bool full() const noexcept { return size() == kMaxLevelsPerEvent; }
  std::span<const PriceLevel> bids() const noexcept { return {level, num_bids}; }
  std::span<const PriceLevel> asks() const noexcept { return {level + num_bids, num_asks}; }
  // Appends a bid. Bids must all be added before the first ask. Returns false when full (or, in
  // violation of that order, once an ask is present).
  [[nodiscard]] bool AddBid(PriceLevel l) noexcept {
    if (full() || num_asks != 0) return false;
    level[num_bids++] = l;
    return true;
  }
  [[nodiscard]] bool AddAsk(PriceLevel l) noexcept {
    if (full()) return false;
    level[size()] = l;
    ++num_asks;
    return true;
  }
  [[nodiscard]] bool Add(Side side, PriceLevel l) noexcept {
    return side == Side::kBuy ? AddBid(l) : AddAsk(l);
  }
};

struct MdTrade {
  int64_t price = 0;
  int64_t size = 0;
  uint64_t trade_id = 0;  // venue trade id where numeric, else a hash of it
  Side aggressor = Side::kBuy;
};

struct MdBbo {
  int64_t bid_price = 0;
  int64_t bid_size = 0;
  int64_t ask_price = 0;
  int64_t ask_size = 0;
};

struct MdStatusInfo {
  MdStatus code = MdStatus::kConnected;
  uint64_t expected_seq = 0;  // kGap: the sequence number we needed
  uint64_t received_seq = 0;  // kGap: the one that arrived
  int64_t detail = 0;         // e.g. kStale: ns since the last message
};

struct alignas(64) MdEvent {
  MdType type = MdType::kStatus;
  uint8_t flags = 0;
  Venue venue = Venue::kUnknown;
  uint8_t reserved = 0;
  InstrumentId instrument = 0;
  uint64_t venue_seq = 0;   // the venue's sequence number for this message (0 if it has none)
  int64_t exchange_ns = 0;  // venue's event time (Unix ns), 0 if absent
  StageTimes times;
  union {
    MdLevels levels;
    MdTrade trade;
    MdBbo bbo;
    MdStatusInfo status;
  };

  MdEvent() noexcept : levels() {}

  static MdEvent Levels(Venue v, InstrumentId id, uint64_t seq) noexcept {
    MdEvent e;
    e.type = MdType::kLevels;
    e.venue = v;
    e.instrument = id;
    e.venue_seq = seq;
    return e;
  }
  static MdEvent Trade(Venue v, InstrumentId id, const MdTrade& t) noexcept {
    MdEvent e;
    e.type = MdType::kTrade;
    e.venue = v;
    e.instrument = id;
    e.trade = t;
    return e;
  }
  static MdEvent Bbo(Venue v, InstrumentId id, const MdBbo& b) noexcept {
    MdEvent e;
    e.type = MdType::kBbo;
    e.venue = v;
    e.instrument = id;
    e.bbo = b;
    return e;
  }
  static MdEvent Status(Venue v, InstrumentId id, const MdStatusInfo& s) noexcept {
    MdEvent e;
    e.type = MdType::kStatus;
    e.venue = v;
    e.instrument = id;
    e.status = s;
    return e;
  }
};

// Whether two events say the same thing: every header field, times.recv_ns (when the venue's
// message arrived) and the payload of their type (every level of a levels event; a status's code
// and sequence numbers, not its measured detail). The other stage times are clock readings and are
// not compared. For checking one decoder against another.
inline bool SameMarketData(const MdEvent& a, const MdEvent& b) noexcept {
  if (a.type != b.type || a.flags != b.flags || a.venue != b.venue ||
      a.instrument != b.instrument || a.venue_seq != b.venue_seq ||
      a.exchange_ns != b.exchange_ns || a.times.recv_ns != b.times.recv_ns) {
    return false;
  }
  switch (a.type) {
    case MdType::kLevels:
      if (a.levels.num_bids != b.levels.num_bids || a.levels.num_asks != b.levels.num_asks) {
        return false;
      }
      for (size_t i = 0; i < a.levels.size(); ++i) {
        if (a.levels.level[i].price != b.levels.level[i].price ||
            a.levels.level[i].size != b.levels.level[i].size) {
          return false;
        }
      }
      return true;
    case MdType::kTrade:
      return a.trade.price == b.trade.price && a.trade.size == b.trade.size &&
             a.trade.trade_id == b.trade.trade_id && a.trade.aggressor == b.trade.aggressor;
    case MdType::kBbo:
      return a.bbo.bid_price == b.bbo.bid_price && a.bbo.bid_size == b.bbo.bid_size &&
             a.bbo.ask_price == b.bbo.ask_price && a.bbo.ask_size == b.bbo.ask_size;
    case MdType::kStatus:
      return a.status.code == b.status.code && a.status.expected_seq == b.status.expected_seq &&
             a.status.received_seq == b.status.received_seq;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Orders (signal → risk → order)

enum class OrderType : uint8_t { kLimit = 0, kMarket = 1 };
enum class TimeInForce : uint8_t { kGtc = 0, kIoc = 1, kFok = 2 };

// OrderIntent::flags / OrderCmd::flags bits.
enum OrderFlag : uint8_t {
  kOrderPostOnly = 1 << 0,
  kOrderReduceOnly = 1 << 1,
};

enum class IntentType : uint8_t { kNew = 0, kCancel = 1, kReplace = 2, kCancelAll = 3 };

// What a strategy wants. Risk turns an accepted intent into an OrderCmd.
struct alignas(64) OrderIntent {
  IntentType type = IntentType::kNew;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  uint8_t flags = 0;
  uint8_t reserved[3] = {};
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  uint32_t reserved2 = 0;
  uint64_t intent_id = 0;        // strategy's own sequence, echoed in the resulting events
  uint64_t target_order_id = 0;  // kCancel / kReplace: client order id of the order acted on
  int64_t price = 0;             // limit price mantissa (ignored for kMarket)
  int64_t size = 0;              // base size mantissa
  StageTimes times;
};

enum class CmdType : uint8_t { kNew = 0, kCancel = 1, kReplace = 2, kCancelAll = 3 };

// Why a command exists: a strategy's accepted intent, or risk acting on its own.
enum class CmdOrigin : uint8_t { kStrategy = 0, kBreaker = 1, kKillSwitch = 2, kShutdown = 3 };

// What the order stage must do: a risk-approved, id-assigned instruction.
struct alignas(64) OrderCmd {
  CmdType type = CmdType::kNew;
  Side side = Side::kBuy;
  OrderType order_type = OrderType::kLimit;
  TimeInForce tif = TimeInForce::kGtc;
  uint8_t flags = 0;
  CmdOrigin origin = CmdOrigin::kStrategy;
  uint8_t reserved[2] = {};
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  uint64_t client_order_id = 0;       // unique across restarts (engine/oms)
  uint64_t orig_client_order_id = 0;  // kCancel / kReplace: the order acted on
  uint64_t intent_id = 0;
  int64_t price = 0;
  int64_t size = 0;
  StageTimes times;
};

// ---------------------------------------------------------------------------------------------
// Executions (order → risk, signal)

enum class ExecType : uint8_t {
  kPendingNew = 0,  // sent, not yet acknowledged
  kAck = 1,         // venue accepted the order; it is working
  kReject = 2,      // venue refused a new order
  kFill = 3,        // partial or full fill (leaves_qty says which)
  kCanceled = 4,
  kExpired = 5,
  kReplaced = 6,
  kCancelReject = 7,  // venue refused a cancel (the order may still be working)
  // A request (`ExecEvent::request`: the create, or a cancel/replace) had no definite answer
  // (timeout, transport error, 5xx, an answer that does not decode): the venue may or may not
  // have acted on it. The order stays live at full size until the venue says what happened (its
  // private stream, a status query, reconciliation); reject_code says why it is in doubt.
  kInDoubt = 8,
  // Not about one order: news of the order stage's venue session for risk and signal
  // (client_order_id 0; instrument: the venue's first instrument or BreakerEvent's "none";
  // reject_code: a SessionEvent; last_price: a detail, e.g. ns).
  kSession = 9,
};

// ExecType::kSession codes (in ExecEvent::reject_code).
enum class SessionEvent : uint16_t {
  kNone = 0,
  kExecStreamLost = 1,      // the private execution stream dropped, gapped or went silent
  kExecStreamRestored = 2,  // reconnected and a reconciliation pass settled the outage
  kLatencyOverBudget = 3,   // an order's tick-to-order latency exceeded the budget (detail: ns)
  kRingOverrun = 4,         // a ring between stages stayed full past its back-pressure bound
};

// "exec_stream_lost", "exec_stream_restored", "latency_over_budget", "ring_overrun", "none".
inline constexpr const char* SessionEventName(SessionEvent e) noexcept {
  switch (e) {
    case SessionEvent::kExecStreamLost:
      return "exec_stream_lost";
    case SessionEvent::kExecStreamRestored:
      return "exec_stream_restored";
    case SessionEvent::kLatencyOverBudget:
      return "latency_over_budget";
    case SessionEvent::kRingOverrun:
      return "ring_overrun";
    case SessionEvent::kNone:
      break;
  }
  return "none";
}

enum class Liquidity : uint8_t { kUnknown = 0, kMaker = 1, kTaker = 2 };

struct alignas(64) ExecEvent {
  ExecType type = ExecType::kAck;
  Side side = Side::kBuy;
  Liquidity liquidity = Liquidity::kUnknown;
  CmdType request = CmdType::kNew;  // kInDoubt, kCancelReject: the request this answers
  uint16_t reject_code = 0;         // venue-independent reject reason (engine/oms), 0 if none
  uint16_t reserved2 = 0;
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  uint64_t client_order_id = 0;
  uint64_t trade_id = 0;    // kFill: venue trade id (numeric or hashed), for duplicate detection
  int64_t last_price = 0;   // kFill
  int64_t last_size = 0;    // kFill
  int64_t cum_size = 0;     // filled so far
  int64_t leaves_size = 0;  // still working (0 once the order is done)
  int64_t fee = 0;       // kFill: fee mantissa at the instrument's quote scale (negative = rebate)
  int64_t venue_ns = 0;  // venue's timestamp (Unix ns), 0 if absent
  StageTimes times;      // sent_ns = the order's send time; recv_ns = this event's arrival
  uint64_t intent_id = 0;  // the strategy intent the order came from (OrderCmd::intent_id)
};

// ---------------------------------------------------------------------------------------------
// Layout guarantees: these types are memcpy'd through rings and into the journal.

template <typename T>
inline constexpr bool kIsRingEvent = std::is_trivially_copyable_v<T>&&
    std::is_trivially_destructible_v<T>&& std::is_standard_layout_v<T>;

static_assert(kIsRingEvent<MdEvent>);
static_assert(kIsRingEvent<OrderIntent>);
static_assert(kIsRingEvent<OrderCmd>);
static_assert(kIsRingEvent<ExecEvent>);
static_assert(sizeof(StageTimes) == 40);
static_assert(sizeof(PriceLevel) == 16);
static_assert(sizeof(MdEvent) == 256, "4 cache lines: 64-byte header, 8-byte count, 11 levels");
static_assert(offsetof(MdEvent, levels) == 64);
static_assert(sizeof(OrderIntent) == 128);
static_assert(sizeof(OrderCmd) == 128);
static_assert(sizeof(ExecEvent) == 128);

}  // namespace nzeza

#endif  // NZEZA_CORE_EVENTS_H_
