// OrderGateway: the order stage's view of one venue's order entry and private execution stream.
// Implemented per venue (venues/<venue>); engine/oms only defines the contract.
//
//   // order stage, hot path: journal first, then hand to the venue
//   journal.Append(cmd); oms.OnCmd(cmd);
//   if (SendStatus s = gateway.Send(cmd, now_ns); s != SendStatus::kSent) {
//     // nothing went out: the stage synthesizes a kReject / kCancelReject ExecEvent
//   }
//   gateway.Poll(sink);   // acks, rejects, fills, cancels -> sink.OnExec (journaled, applied)
//
// Contract:
// - Send encodes `cmd` and hands it to the socket or to the connection's bounded send buffer,
//   which Flush() writes.
//   It never blocks, never throws, and after warm-up never allocates. A command that returns
//   anything but kSent was not sent and never will be (no hidden retry), so the caller may reject
//   it safely. A command that returned kSent produces, eventually, venue events through Poll: an
//   ack or a reject (or, when the venue does not answer within the gateway's timeout, a kReject
//   with VenueReject::kTimeout for a new order whose fate is then settled by reconciliation).
// - Poll drives the I/O (non-blocking) and reports every venue event as an ExecEvent with
//   client_order_id set to the engine's id, times.sent_ns to the order's send time and
//   times.recv_ns to the arrival. Fill events carry trade_id (for duplicate detection), last and
//   cumulative sizes. Returns the amount of work done (0 when idle).
// Thread: both on the order stage's thread.
#ifndef NZEZA_OMS_GATEWAY_H_
#define NZEZA_OMS_GATEWAY_H_

#include <cstdint>
#include <string_view>

#include <nzeza/core/events.h>
#include <nzeza/oms/recovery.h>

namespace nzeza::oms {

enum class SendStatus : uint8_t {
  kSent = 0,
  kNotConnected = 1,  // no session (connecting, reconnecting, not authenticated)
  kQueueFull = 2,     // the connection's send queue is at its bound
  kRateLimited = 3,   // the venue's rate limit would be exceeded: not sent
  kEncodeError = 4,   // the command cannot be expressed on this venue (unknown instrument...)
};

class OrderGateway {
 public:
  virtual ~OrderGateway() = default;
  [[nodiscard]] virtual SendStatus Send(const OrderCmd& cmd, int64_t now_ns) noexcept = 0;
  virtual int Poll(ExecSink& sink) noexcept = 0;
  // Hands everything Send() buffered since the last Flush to the socket. The order stage calls it
  // once after each batch of commands, so a burst (a requote's cancel and new, both sides of a
  // quote) leaves in one write instead of one per order. A gateway that writes in Send keeps the
  // default (nothing to do). Errors surface as venue events (kTimeout rejects) through Poll.
  virtual void Flush(int64_t now_ns) noexcept { (void)now_ns; }
  // True when orders can be sent (connected and authenticated).
  virtual bool ready() const noexcept = 0;
  virtual std::string_view name() const noexcept = 0;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_GATEWAY_H_
