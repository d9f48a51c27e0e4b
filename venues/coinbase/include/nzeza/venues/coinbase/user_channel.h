// The authenticated Advanced Trade user channel (order updates and fills over WebSocket):
// the subscribe frame and a decoder from its messages to ExecEvents.
//
//   char frame[kMaxSubscribeBytes];
//   size_t n = EncodeUserSubscribe(jwt, frame, sizeof(frame));      // {"type":"subscribe",...}
//   UserChannelDecoder dec(&instruments, &orders);                  // orders: CoinbaseOrderTable
//   dec.ResetSequence();                                            // on every (re)connect
//   dec.Decode(data, size, recv_ns, sink);                          // sink: oms::ExecSink
//   if (dec.gap_pending()) { reconcile(); dec.ClearGap(); }
//
// Message (docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/websocket/websocket-channels,
// "User Channel"):
//   {"channel":"user","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z",
//    "sequence_num":0,"events":[{"type":"snapshot"|"update","orders":[{"order_id":..,
//    "client_order_id":..,"status":"PENDING|OPEN|FILLED|CANCEL_QUEUED|CANCELLED|EXPIRED|FAILED",
//    "cumulative_quantity":"0.0005","leaves_quantity":"0.0005","avg_price":"10000",
//    "total_fees":"0.03","filled_value":"5","number_of_fills":"1","order_side":"BUY",
//    "product_id":"BTC-USD","reject_reason":"","cancel_reason":"",...}]}]}
// Orders carry cumulative state, not individual fills, so fills are derived:
// - ack: the first status other than PENDING/FAILED for an order not yet acked (the REST answer
//   may have acked it first: the table's `acked` flag is shared, so one ack is emitted);
// - fill: cumulative_quantity grew; last_size = the growth; last_price = growth of filled_value
//   / growth of size, exact in fixed point when it divides (one fill per update); when it does not
//   (several fills merged into one update) the nearest price at the instrument's scale, counted in
//   inexact_prices; without filled_value, avg_price. fee = growth of total_fees.
//   trade_id = a hash of (order_id, cumulative size): a replayed update (after a reconnect's
//   snapshot) yields the same id, which the order manager drops as a duplicate; an update whose
//   cumulative size did not grow yields no fill at all;
// - CANCELLED -> kCanceled, EXPIRED -> kExpired, FAILED -> kReject (reject_reason mapped),
//   after any last fill; the order then leaves the table.
// Orders whose client_order_id is not one of ours in the table are counted (unknown_orders) and
// ignored. sequence_num counts every message of the connection; a jump sets gap_pending() and
// counts a gap (the gateway reconciles then).
//
// Thread: one owner (the order stage). Allocates: never after the parser's first (largest)
// message. Input: `data` with SIMDJSON_PADDING readable bytes after `size` (WsClient provides).
#ifndef NZEZA_VENUES_COINBASE_USER_CHANNEL_H_
#define NZEZA_VENUES_COINBASE_USER_CHANNEL_H_

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nzeza/core/events.h>
#include <nzeza/oms/recovery.h>
#include "nzeza/venues/coinbase/instruments.h"
#include "nzeza/venues/coinbase/order_table.h"
#include "nzeza/venues/coinbase/orders.h"

namespace nzeza::venues::coinbase {

inline constexpr size_t kMaxSubscribeBytes = 1400;

// {"type":"subscribe","channel":"user","jwt":"<jwt>"} (all products). Returns the length, 0 when
// cap is too small or the jwt holds characters that would need escaping. Allocates: never.
size_t EncodeUserSubscribe(std::string_view jwt, char* out, size_t cap) noexcept;
// The same for any channel ("heartbeats"): {"type":"subscribe","channel":"<c>","jwt":"<jwt>"}.
size_t EncodeSubscribe(std::string_view channel, std::string_view jwt, char* out,
                       size_t cap) noexcept;

// "2023-02-09T20:33:57.609931463Z" (RFC 3339, UTC 'Z' or an offset, 0-9 fraction digits) -> Unix
// ns; 0 when it does not parse.
int64_t ParseRfc3339Nanos(std::string_view s) noexcept;

// A deterministic, non-zero fill id for (order_id, cumulative size).
uint64_t UserChannelTradeId(std::string_view order_id, int64_t cum_size) noexcept;

struct UserChannelCounters {
  uint64_t messages = 0;        // decoded (any channel)
  uint64_t order_updates = 0;   // orders[] entries seen
  uint64_t unknown_orders = 0;  // not ours / not in the table
  uint64_t acks = 0;
  uint64_t fills = 0;
  uint64_t canceled = 0;
  uint64_t expired = 0;
  uint64_t rejected = 0;
  uint64_t stale_updates = 0;   // cumulative size went down (an older update): ignored
  uint64_t inexact_prices = 0;  // merged fills: last_price rounded
  uint64_t bad_fields = 0;      // a number that does not parse at the instrument's scale
  uint64_t gaps = 0;            // sequence_num jumps
  uint64_t errors = 0;          // {"type":"error"} messages (e.g. authentication refused)
  uint64_t malformed = 0;       // messages that are not JSON objects of the documented shape
};

class UserChannelDecoder {
 public:
  // Both must outlive the decoder; the table is shared with the gateway.
  UserChannelDecoder(const CoinbaseInstruments* instruments, CoinbaseOrderTable* orders);

  // Decodes one message and emits its ExecEvents to `sink`, in order. Returns kMalformed (and
  // counts) for a message that is not a JSON object with the documented shape; events decoded
  // before the fault were emitted. Allocates: never after warm-up.
  [[nodiscard]] DecodeError Decode(const char* data, size_t size, int64_t recv_ns,
                                   oms::ExecSink& sink) noexcept;

  // A new connection: the next sequence_num starts the count afresh.
  void ResetSequence() noexcept { have_seq_ = false; }
  bool gap_pending() const noexcept { return gap_pending_; }
  void ClearGap() noexcept { gap_pending_ = false; }
  int64_t last_sequence() const noexcept { return last_seq_; }
  const UserChannelCounters& counters() const noexcept { return counters_; }

 private:
  bool DecodeOrder(simdjson::ondemand::object order, int64_t recv_ns, int64_t venue_ns,
                   oms::ExecSink& sink) noexcept;

  const CoinbaseInstruments* instruments_;
  CoinbaseOrderTable* orders_;
  simdjson::ondemand::parser parser_;
  UserChannelCounters counters_;
  int64_t last_seq_ = -1;
  bool have_seq_ = false;
  bool gap_pending_ = false;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_USER_CHANNEL_H_
