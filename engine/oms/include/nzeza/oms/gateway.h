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
//   ack or a reject for a create, a cancel (or a cancel-reject) for a cancel. A request without a
//   definite answer (timeout, transport failure, 5xx, an answer that does not decode) produces
//   kInDoubt (ExecEvent::request says which request): the order stays live, and the gateway
//   settles it with the venue (its private stream, a status query) or reconciliation does; it
//   is never reported as rejected on a guess. A cancel for an order the venue has not
//   acknowledged yet is held until it can be sent (or is sent by client order id where the venue
//   allows), never refused for that reason.
// - Poll drives the I/O (non-blocking) and reports every venue event as an ExecEvent with
//   client_order_id set to the engine's id, times.sent_ns to the order's send time and
//   times.recv_ns to the arrival. Fill events carry trade_id (for duplicate detection), last and
//   cumulative sizes. The venue's id of an order goes to ExecSink::OnVenueOrderId once known.
//   Returns the amount of work done (0 when idle).
// - TrackRecovered (recovery, before the stage runs) makes an order rebuilt from the journal
//   known to the gateway, so its venue events map back and it can be canceled.
// Thread: both on the order stage's thread.
#ifndef NZEZA_OMS_GATEWAY_H_
#define NZEZA_OMS_GATEWAY_H_

#include <cstdint>
#include <string_view>

#include <nzeza/core/events.h>
#include <nzeza/oms/order_manager.h>
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
  // The order manager holds `client_order_id` as finished (whoever said so: the private stream, a
  // settle pass, reconciliation): the gateway may drop what it tracks of it, so its table stays
  // bounded. Default: nothing to drop. Thread: the order stage's.
  virtual void Forget(uint64_t client_order_id) noexcept { (void)client_order_id; }
  // Tracks an order recovered from the journal (see above). False when the gateway cannot hold
  // it (its table is full). Thread: the order stage's, or the control plane before it runs.
  virtual bool TrackRecovered(const Order& order) noexcept = 0;
  // True when orders can be sent (connected and authenticated).
  virtual bool ready() const noexcept = 0;
  virtual std::string_view name() const noexcept = 0;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_GATEWAY_H_
