#include "nzeza/venues/coinbase/gateway.h"

#include <ctime>
#include <utility>
#include <vector>

#include <nzeza/core/clock.h>
#include "absl/strings/str_cat.h"

namespace nzeza::venues::coinbase {

namespace {
using oms::SendStatus;
using oms::VenueReject;
}  // namespace

class CoinbaseGateway::Impl {
 public:
  Impl(CoinbaseGatewayOptions options, CoinbaseCredentials credentials,
       CoinbaseInstruments instruments, TlsContext tls)
      : options_(std::move(options)),
        signer_(std::move(credentials)),
        instruments_(std::move(instruments)),
        table_(options_.max_orders),
        decoder_(&instruments_, &table_),
        pool_(&signer_, options_.uri_host, options_.jwt_pool),
        records_(options_.max_in_flight),
        http_(HttpsClientOptions{.host = options_.rest_host,
                                 .port = options_.rest_port,
                                 .tls_context = tls,
                                 .connect_timeout = options_.connect_timeout,
                                 .request_timeout = options_.request_timeout}),
        cancel_http_(HttpsClientOptions{.host = options_.rest_host,
                                        .port = options_.rest_port,
                                        .tls_context = tls,
                                        .connect_timeout = options_.connect_timeout,
                                        .request_timeout = options_.request_timeout}) {
    in_doubt_.reserve(options_.max_orders);
    deferred_cancels_.reserve(options_.max_orders);
    free_.reserve(records_.size());
    for (size_t i = records_.size(); i > 0; --i) free_.push_back(static_cast<uint32_t>(i - 1));
    if (options_.user_channel) {
      ws_ = std::make_unique<WsClient>(
          WsClientOptions{.host = options_.ws_host,
                          .port = options_.ws_port,
                          .target = options_.ws_target,
                          .tls_context = tls,
                          .connect_timeout = options_.connect_timeout},
          WsCallbacks{.on_open = [this] { OnWsOpen(); },
                      .on_message =
                          [this](const char* data, size_t n, int64_t recv_ns) {
                            last_message_ns_ = recv_ns;
                            if (stream_lost_) stream_back_ = true;  // delivering again
                            if (sink_ != nullptr) (void)decoder_.Decode(data, n, recv_ns, *sink_);
                          },
                      .on_close =
                          [this](const absl::Status&) {
                            if (ws_open_) lost_pending_ = true;
                            ws_open_ = false;
                            stream_back_ = false;
                          }});
    }
  }

  ~Impl() {
    sink_ = nullptr;
    http_.Close();
    cancel_http_.Close();
    if (ws_) ws_->Close();
  }

  absl::Status Start() {
    if (ws_) {
      absl::Status s = ws_->Start();
      if (!s.ok()) return s;
    }
    pool_.Refill(NowS(), static_cast<int>(2 * pool_.capacity()));
    return absl::OkStatus();
  }

  SendStatus Send(const OrderCmd& cmd, int64_t now_ns) noexcept {
    switch (cmd.type) {
      case CmdType::kNew:
        return SendNew(cmd, now_ns);
      case CmdType::kCancel: {
        const uint64_t id =
            cmd.orig_client_order_id != 0 ? cmd.orig_client_order_id : cmd.client_order_id;
        TrackedOrder* t = table_.Find(id);
        if (t == nullptr) {
          ++counters_.encode_errors;
          return SendStatus::kEncodeError;
        }
        // Coinbase cancels by its own order id only: a cancel for an order not acked yet waits
        // for the id (REST answer, user channel, status query) and then goes out.
        if (t->order_id_len == 0) return DeferCancel(*t);
        // Out with the batch at Flush (one batch_cancel per batch of commands).
        return QueueCancel(id) ? SendStatus::kSent : SendStatus::kQueueFull;
      }
      case CmdType::kCancelAll: {
        bool queued = true;
        table_.ForEach([&](const TrackedOrder& t) {
          TrackedOrder* m = table_.Find(t.client_order_id);
          if (m->order_id_len == 0) {
            (void)DeferCancel(*m);
          } else if (!QueueCancel(m->client_order_id)) {
            queued = false;
          }
        });
        return queued ? SendStatus::kSent : SendStatus::kQueueFull;
      }
      case CmdType::kReplace:
        break;
    }
    ++counters_.encode_errors;
    return SendStatus::kEncodeError;
  }

  int Poll(oms::ExecSink& sink) noexcept {
    sink_ = &sink;
    int work = http_.Poll();
    work += cancel_http_.Poll();
    if (ws_) {
      work += ws_->Poll();
      WatchStream(sink, work);
    }
    if (!in_doubt_.empty()) work += ResolveInDoubt(MonotonicNanos());
    if (!deferred_cancels_.empty()) work += SendDeferredCancels();
    if (pending_cancels_ != 0) work += FlushCancels();  // a batch that found the queue full
    sink_ = nullptr;
    if (work == 0 && options_.pool_mints_per_idle_poll > 0) {
      work += pool_.Refill(NowS(), options_.pool_mints_per_idle_poll);
    }
    return work;
  }

  // Open, and the venue has answered since (the subscriptions' acknowledgement or any message):
  // the user channel is delivering.
  bool ready() const noexcept {
    return ws_ == nullptr ||
           (ws_->state() == WsClient::State::kOpen && ws_open_ && last_message_ns_ > opened_ns_);
  }

  bool TrackRecovered(const oms::Order& o) noexcept {
    TrackedOrder* t = table_.Find(o.client_order_id);
    if (t == nullptr) t = table_.Insert(o.client_order_id);
    if (t == nullptr) return false;
    t->instrument = o.instrument;
    t->side = o.side;
    t->size = o.size;
    t->cum_size = o.cum_size;
    t->strategy_id = o.strategy_id;
    t->set_order_id(o.venue_order_id());
    // Acknowledged unless the journal never saw an answer: then the user channel's first update
    // (or reconciliation) acks it, and a cancel waits for the venue's id.
    const oms::OrderState working =
        o.state == oms::OrderState::kPendingCancel || o.state == oms::OrderState::kPendingReplace
            ? o.resume
            : o.state;
    t->acked = working != oms::OrderState::kPendingNew && working != oms::OrderState::kInDoubt;
    t->create.type = CmdType::kNew;
    t->create.client_order_id = o.client_order_id;
    t->create.instrument = o.instrument;
    t->create.side = o.side;
    t->create.order_type = o.order_type;
    t->create.tif = o.tif;
    t->create.price = o.price;
    t->create.size = o.size;
    t->create.strategy_id = o.strategy_id;
    return true;
  }

  const CoinbaseGatewayCounters& counters() const noexcept { return counters_; }
  const UserChannelCounters& user_counters() const noexcept { return decoder_.counters(); }
  const JwtPoolCounters& pool_counters() const noexcept { return pool_.counters(); }
  const HttpsCounters& https_counters() const noexcept { return http_.counters(); }
  size_t working() const noexcept { return table_.size(); }
  size_t in_doubt() const noexcept { return in_doubt_.size(); }
  void Flush() noexcept { (void)FlushCancels(); }
  // The in-doubt and deferred-cancel lists skip ids the table no longer holds.
  void Forget(uint64_t id) noexcept { (void)table_.Erase(id); }

 private:
  // kResolve: the status query of an in-doubt create (the same create sent again).
  enum class Kind : uint8_t { kNew, kResolve, kCancel };
  struct Record {
    Kind kind = Kind::kNew;
    uint32_t count = 0;
    uint64_t client_ids[kMaxCancelBatch] = {};
  };

  int64_t NowS() const {
    return options_.unix_now_s ? options_.unix_now_s() : static_cast<int64_t>(std::time(nullptr));
  }

  void OnWsOpen() {
    ++counters_.user_channel_connects;
    decoder_.ResetSequence();
    ws_open_ = true;
    opened_ns_ = last_message_ns_ = MonotonicNanos();
    char frame[kMaxSubscribeBytes];
    // The user channel, and heartbeats on the same connection: a message every second, so a
    // silent stream is noticed even when no order changes.
    for (std::string_view channel : {std::string_view("user"), std::string_view("heartbeats")}) {
      absl::StatusOr<std::string> jwt = signer_.SignWebSocket(NowS());
      if (!jwt.ok()) return;
      const size_t n = EncodeSubscribe(channel, *jwt, frame, sizeof(frame));
      if (n > 0) ws_->Send(std::string(frame, n));
    }
  }

  // The private stream's state for the order stage (ExecSink::OnSession): lost when the
  // connection dropped, the sequence gapped or nothing arrived for exec_silence_timeout; back
  // once messages flow again (after a gap: at once, the connection never went).
  void WatchStream(oms::ExecSink& sink, int work) noexcept {
    int64_t detail = 0;
    if (decoder_.gap_pending()) {
      decoder_.ClearGap();
      lost_pending_ = true;
      stream_back_ = true;  // still connected: what the gap hid is for reconciliation
      ++counters_.exec_stream_gaps;
    }
    if (work == 0 && ws_open_ && !stream_lost_) {
      const int64_t silent = MonotonicNanos() - last_message_ns_;
      if (silent > silence_ns_) {
        lost_pending_ = true;
        detail = silent;
        ++counters_.exec_stream_silences;
        ws_->Reconnect("user channel silent");
      }
    }
    if (lost_pending_) {
      lost_pending_ = false;
      if (!stream_lost_) {
        stream_lost_ = true;
        ++counters_.exec_stream_losses;
        sink.OnSession(SessionEvent::kExecStreamLost, detail);
      }
    }
    if (stream_lost_ && stream_back_) {
      stream_lost_ = false;
      stream_back_ = false;
      sink.OnSession(SessionEvent::kExecStreamRestored, 0);
    }
  }

  // A pooled token, or one signed inline (counted). Empty on signing failure.
  std::string_view Token(CoinbaseEndpoint e) noexcept {
    const int64_t now = NowS();
    std::string_view t = pool_.Take(e, now);
    if (!t.empty()) return t;
    ++counters_.inline_signs;
    const size_t n = signer_.SignInto(EndpointMethod(e), options_.uri_host, EndpointPath(e), now,
                                      inline_token_, sizeof(inline_token_));
    return {inline_token_, n};
  }

  SendStatus Dispatch(CoinbaseEndpoint e, std::string_view body, uint32_t record) noexcept {
    const std::string_view jwt = Token(e);
    size_t len = 0;
    if (jwt.empty() ||
        EncodeHttpRequest(EndpointMethod(e), EndpointPath(e), options_.uri_host, jwt, body,
                          request_, sizeof(request_), &len) != EncodeError::kOk) {
      ++counters_.encode_errors;
      return SendStatus::kEncodeError;
    }
    try {
      // Copied into a reused slot of the client's queue; the callback's captures fit
      // std::function's inline storage: no allocation once warm.
      // Cancels have a connection of their own, so they never wait behind a create.
      HttpsClient& client = e == CoinbaseEndpoint::kBatchCancel ? cancel_http_ : http_;
      absl::Status s =
          client.RequestRaw(EndpointPath(e), std::string_view(request_, len),
                            [this, record](const HttpResponse& resp) { OnResponse(record, resp); });
      if (!s.ok()) {
        ++counters_.encode_errors;
        return SendStatus::kEncodeError;
      }
    } catch (...) {  // allocation failure: nothing was queued
      return SendStatus::kQueueFull;
    }
    ++counters_.sent;
    return SendStatus::kSent;
  }

  SendStatus SendNew(const OrderCmd& cmd, int64_t now_ns) noexcept {
    const CoinbaseInstrument* inst = instruments_.Find(cmd.instrument);
    size_t body_len = 0;
    if (inst == nullptr ||
        EncodeCreateOrderBody(cmd, *inst, body_, sizeof(body_), &body_len) != EncodeError::kOk) {
      ++counters_.encode_errors;
      return SendStatus::kEncodeError;
    }
    if (free_.empty()) return SendStatus::kQueueFull;
    TrackedOrder* t = table_.Insert(cmd.client_order_id);
    if (t == nullptr) {
      // Either a duplicate id (a bug upstream) or the table is full.
      if (table_.Find(cmd.client_order_id) != nullptr) {
        ++counters_.encode_errors;
        return SendStatus::kEncodeError;
      }
      return SendStatus::kQueueFull;
    }
    t->instrument = cmd.instrument;
    t->side = cmd.side;
    t->size = cmd.size;
    t->strategy_id = cmd.strategy_id;
    t->intent_id = cmd.intent_id;
    t->sent_ns = now_ns;
    t->create = cmd;
    const uint32_t rec = free_.back();
    records_[rec].kind = Kind::kNew;
    records_[rec].count = 1;
    records_[rec].client_ids[0] = cmd.client_order_id;
    const SendStatus s =
        Dispatch(CoinbaseEndpoint::kCreateOrder, std::string_view(body_, body_len), rec);
    if (s != SendStatus::kSent) {
      table_.Erase(cmd.client_order_id);
      return s;
    }
    free_.pop_back();
    return s;
  }

  SendStatus SendCancel(const uint64_t* ids, const std::string_view* oids, size_t n) noexcept {
    if (free_.empty()) return SendStatus::kQueueFull;
    size_t body_len = 0;
    if (EncodeBatchCancelBody({oids, n}, body_, sizeof(body_), &body_len) != EncodeError::kOk) {
      ++counters_.encode_errors;
      return SendStatus::kEncodeError;
    }
    const uint32_t rec = free_.back();
    records_[rec].kind = Kind::kCancel;
    records_[rec].count = static_cast<uint32_t>(n);
    for (size_t i = 0; i < n; ++i) records_[rec].client_ids[i] = ids[i];
    const SendStatus s =
        Dispatch(CoinbaseEndpoint::kBatchCancel, std::string_view(body_, body_len), rec);
    if (s == SendStatus::kSent) free_.pop_back();
    return s;
  }

  ExecEvent Base(uint64_t id, const HttpResponse& resp) const noexcept {
    ExecEvent ev;
    ev.client_order_id = id;
    ev.times.recv_ns = resp.recv_ns;
    ev.times.sent_ns = resp.sent_ns;
    if (const TrackedOrder* t = table_.Find(id)) {
      ev.side = t->side;
      ev.instrument = t->instrument;
      ev.strategy_id = t->strategy_id;
      ev.intent_id = t->intent_id;
      ev.times.sent_ns = t->sent_ns;
      ev.cum_size = t->cum_size;
      ev.leaves_size = t->size - t->cum_size;
    }
    return ev;
  }

  void OnResponse(uint32_t rec, const HttpResponse& resp) {
    free_.push_back(rec);
    Record& r = records_[rec];
    if (sink_ == nullptr) return;  // closing
    if (r.kind != Kind::kCancel) {
      OnCreateResponse(r.client_ids[0], resp, r.kind == Kind::kResolve);
    } else {
      OnCancelResponse(r, resp);
    }
  }

  // A create's answer (or its status query's, `resolve`). Definite: success (ack), or a refusal
  // the venue made after reading the request. In doubt: no complete answer, 5xx, an answer that
  // does not decode; for a status query also a refusal that says nothing about the order (rate
  // limit, authentication), since the first request may have been placed all the same.
  void OnCreateResponse(uint64_t id, const HttpResponse& resp, bool resolve) {
    TrackedOrder* t = table_.Find(id);
    if (t == nullptr) return;  // ended meanwhile (the user channel said so)
    ExecEvent ev = Base(id, resp);
    VenueReject doubt = VenueReject::kNone;
    CreateOrderResponse cr;
    if (!resp.transport.ok()) {
      const bool timeout = resp.transport.code() == absl::StatusCode::kDeadlineExceeded;
      doubt = timeout ? VenueReject::kTimeout : VenueReject::kVenueUnavailable;
      if (timeout) ++counters_.timeouts;
    } else if (resp.status >= 500) {
      doubt = VenueReject::kVenueUnavailable;
    } else if (DecodeCreateOrderResponse(resp.status, resp.body.data(), resp.body.size(), &cr) !=
               DecodeError::kOk) {
      ++counters_.malformed_responses;
      doubt = VenueReject::kMalformedResponse;
    } else if (resolve && !cr.success &&
               (cr.reject == VenueReject::kRateLimited ||
                cr.reject == VenueReject::kUnauthenticated ||
                cr.reject == VenueReject::kPermissionDenied ||
                cr.reject == VenueReject::kVenueUnavailable ||
                cr.reject == VenueReject::kUnknown)) {
      doubt = cr.reject;
    }
    if (doubt != VenueReject::kNone) {
      if (t->acked) return;  // the user channel answered first: nothing is in doubt
      if (!t->in_doubt) {
        t->in_doubt = true;
        ev.type = ExecType::kInDoubt;
        ev.request = CmdType::kNew;
        ev.reject_code = static_cast<uint16_t>(doubt);
        ++counters_.in_doubt;
        sink_->OnExec(ev);
      }
      ScheduleResolve(*t, MonotonicNanos());
      return;
    }
    t->in_doubt = false;
    if (cr.success) {
      if (t->order_id_len == 0 && cr.order_id_len != 0) {
        t->set_order_id(cr.order_id_view());
        sink_->OnVenueOrderId(id, t->order_id_view());
      }
      if (t->acked) return;  // the user channel was first
      t->acked = true;
      ev.type = ExecType::kAck;
      ++counters_.acks;
      if (resolve) ++counters_.resolved;
      sink_->OnExec(ev);
      return;
    }
    if (t->acked) return;  // a refusal of a status query for an order the venue acked: stale
    ev.type = ExecType::kReject;
    ev.reject_code = static_cast<uint16_t>(cr.reject);
    ev.leaves_size = 0;
    ++counters_.rejects;
    if (resolve) ++counters_.resolved;
    table_.Erase(id);
    sink_->OnExec(ev);
  }

  // The next status query of an in-doubt create: 250 ms, doubling to at most 8 s.
  void ScheduleResolve(TrackedOrder& t, int64_t now) noexcept {
    const int shift = t.resolve_attempts < 5 ? t.resolve_attempts : 5;
    t.resolve_at_ns = now + (int64_t{250'000'000} << shift);
    if (t.resolve_attempts < 255) ++t.resolve_attempts;
    if (!t.resolve_queued) {
      t.resolve_queued = true;
      in_doubt_.push_back(t.client_order_id);  // capacity max_orders: never reallocates
    }
  }

  // Sends the status queries that are due; drops orders that were settled meanwhile.
  int ResolveInDoubt(int64_t now) noexcept {
    int work = 0;
    for (size_t i = 0; i < in_doubt_.size();) {
      TrackedOrder* t = table_.Find(in_doubt_[i]);
      if (t == nullptr || t->acked || !t->in_doubt) {
        if (t != nullptr) t->resolve_queued = false;
        in_doubt_[i] = in_doubt_.back();
        in_doubt_.pop_back();
        continue;
      }
      if (now >= t->resolve_at_ns && SendResolve(*t)) {
        // Stays queued until the answer settles it (OnCreateResponse reschedules on doubt).
        t->resolve_at_ns = now + absl::ToInt64Nanoseconds(options_.request_timeout) * 4;
        ++work;
      }
      ++i;
    }
    return work;
  }

  bool SendResolve(const TrackedOrder& t) noexcept {
    const CoinbaseInstrument* inst = instruments_.Find(t.instrument);
    size_t body_len = 0;
    if (inst == nullptr || free_.empty() ||
        EncodeCreateOrderBody(t.create, *inst, body_, sizeof(body_), &body_len) !=
            EncodeError::kOk) {
      return false;
    }
    const uint32_t rec = free_.back();
    records_[rec].kind = Kind::kResolve;
    records_[rec].count = 1;
    records_[rec].client_ids[0] = t.client_order_id;
    if (Dispatch(CoinbaseEndpoint::kCreateOrder, std::string_view(body_, body_len), rec) !=
        SendStatus::kSent) {
      return false;
    }
    free_.pop_back();
    ++counters_.status_queries;
    return true;
  }

  SendStatus DeferCancel(TrackedOrder& t) noexcept {
    if (!t.cancel_wanted) {
      t.cancel_wanted = true;
      deferred_cancels_.push_back(t.client_order_id);  // capacity max_orders
      ++counters_.deferred_cancels;
    }
    return SendStatus::kSent;
  }

  // Queues the waiting cancels whose order now has a venue id (sent at once, in batches); drops
  // those whose order ended (rejected, or done on the user channel).
  int SendDeferredCancels() noexcept {
    int work = 0;
    for (size_t i = 0; i < deferred_cancels_.size();) {
      TrackedOrder* t = table_.Find(deferred_cancels_[i]);
      if (t != nullptr && t->order_id_len == 0) {
        ++i;
        continue;
      }
      if (t != nullptr) {
        if (!QueueCancel(t->client_order_id)) break;  // request queue full: next poll
        t->cancel_wanted = false;
        ++work;
      }
      deferred_cancels_[i] = deferred_cancels_.back();
      deferred_cancels_.pop_back();
    }
    if (work != 0) (void)FlushCancels();
    return work;
  }

  // Cancels are gathered per batch of commands and leave in one batch_cancel (up to 100 ids), so
  // the breaker, the kill switch and shutdown cancel every working order in a few requests.
  // False when a full batch could not be sent (the request queue is full): not queued.
  [[nodiscard]] bool QueueCancel(uint64_t id) noexcept {
    for (size_t i = 0; i < pending_cancels_; ++i) {
      if (pending_cancel_ids_[i] == id) return true;  // already in this batch
    }
    if (pending_cancels_ == kMaxCancelBatch) (void)FlushCancels();
    if (pending_cancels_ == kMaxCancelBatch) return false;
    pending_cancel_ids_[pending_cancels_++] = id;
    return true;
  }

  // Sends the gathered cancels; on a full request queue they wait for the next Poll or Flush.
  int FlushCancels() noexcept {
    if (pending_cancels_ == 0) return 0;
    uint64_t ids[kMaxCancelBatch];
    std::string_view oids[kMaxCancelBatch];
    size_t n = 0;
    for (size_t i = 0; i < pending_cancels_; ++i) {
      const TrackedOrder* t = table_.Find(pending_cancel_ids_[i]);
      if (t == nullptr || t->order_id_len == 0) continue;  // ended meanwhile
      ids[n] = t->client_order_id;
      oids[n] = t->order_id_view();
      ++n;
    }
    if (n != 0 && SendCancel(ids, oids, n) != SendStatus::kSent) return 0;
    pending_cancels_ = 0;
    return 1;
  }

  void OnCancelResponse(const Record& r, const HttpResponse& resp) {
    VenueReject all = VenueReject::kNone;
    bool doubt = false;  // no definite answer: the cancel may or may not have happened
    static BatchCancelResponse decoded;  // order stage thread only (large: not on the stack)
    decoded.count = 0;
    if (!resp.transport.ok()) {
      doubt = true;
      all = resp.transport.code() == absl::StatusCode::kDeadlineExceeded
                ? VenueReject::kTimeout
                : VenueReject::kVenueUnavailable;
    } else if (resp.status >= 500) {
      doubt = true;
      all = VenueReject::kVenueUnavailable;
    } else if (DecodeBatchCancelResponse(resp.status, resp.body.data(), resp.body.size(),
                                         &decoded) != DecodeError::kOk) {
      ++counters_.malformed_responses;
      doubt = true;
      all = VenueReject::kMalformedResponse;
    } else if (decoded.reject != VenueReject::kNone) {
      all = decoded.reject;
    }
    if (doubt) {
      for (uint32_t i = 0; i < r.count; ++i) {
        if (table_.Find(r.client_ids[i]) == nullptr) continue;  // done: the channel said so
        ExecEvent ev = Base(r.client_ids[i], resp);
        ev.type = ExecType::kInDoubt;
        ev.request = CmdType::kCancel;
        ev.reject_code = static_cast<uint16_t>(all);
        ++counters_.in_doubt;
        sink_->OnExec(ev);
      }
      return;
    }
    for (uint32_t i = 0; i < r.count; ++i) {
      VenueReject why = all;
      if (why == VenueReject::kNone) {
        // Find this order's result by venue id.
        const TrackedOrder* t = table_.Find(r.client_ids[i]);
        why = VenueReject::kUnknownOrder;  // no result for it at all
        for (uint32_t k = 0; k < decoded.count && t != nullptr; ++k) {
          if (decoded.results[k].order_id_view() == t->order_id_view()) {
            why = decoded.results[k].reject;
            break;
          }
        }
        if (t == nullptr) why = VenueReject::kNone;  // already done: the channel said so
      }
      if (why == VenueReject::kNone) continue;
      ExecEvent ev = Base(r.client_ids[i], resp);
      ev.type = ExecType::kCancelReject;
      ev.request = CmdType::kCancel;
      ev.reject_code = static_cast<uint16_t>(why);
      ++counters_.cancel_rejects;
      sink_->OnExec(ev);
    }
  }

  CoinbaseGatewayOptions options_;
  JwtSigner signer_;
  CoinbaseInstruments instruments_;
  CoinbaseOrderTable table_;
  UserChannelDecoder decoder_;
  JwtPool pool_;
  std::vector<Record> records_;
  std::vector<uint32_t> free_;
  std::vector<uint64_t> in_doubt_;                     // creates awaiting a status query's answer
  std::vector<uint64_t> deferred_cancels_;             // cancels awaiting the order's venue id
  uint64_t pending_cancel_ids_[kMaxCancelBatch] = {};  // cancels of this batch (FlushCancels)
  size_t pending_cancels_ = 0;
  CoinbaseGatewayCounters counters_;
  oms::ExecSink* sink_ = nullptr;
  // The private stream (see WatchStream).
  bool ws_open_ = false;
  bool stream_lost_ = false;
  bool lost_pending_ = false;
  bool stream_back_ = false;
  int64_t last_message_ns_ = 0;
  int64_t opened_ns_ = 0;
  int64_t silence_ns_ = absl::ToInt64Nanoseconds(options_.exec_silence_timeout);
  char body_[kMaxBodyBytes * 16];  // a 100-id batch_cancel is ~4 KiB
  char request_[kMaxRequestBytes * 4 + kMaxBodyBytes * 16];
  char inline_token_[kMaxJwtBytes];
  // Declared last: destroyed first (their callbacks use the members above).
  HttpsClient http_;         // creates and their status queries
  HttpsClient cancel_http_;  // cancels
  std::unique_ptr<WsClient> ws_;
};

absl::StatusOr<std::unique_ptr<CoinbaseGateway>> CoinbaseGateway::Create(
    CoinbaseGatewayOptions options, CoinbaseCredentials credentials,
    CoinbaseInstruments instruments) {
  if (options.rest_host.empty() || (options.user_channel && options.ws_host.empty())) {
    return absl::InvalidArgumentError("Coinbase gateway: rest_host and ws_host must be set");
  }
  if (instruments.size() == 0) {
    return absl::InvalidArgumentError("Coinbase gateway: the instrument table is empty");
  }
  if (options.max_in_flight == 0 || options.max_orders == 0) {
    return absl::InvalidArgumentError("Coinbase gateway: max_orders and max_in_flight must be > 0");
  }
  if (options.uri_host.empty()) options.uri_host = options.rest_host;
  absl::StatusOr<TlsContext> tls = MakeClientTlsContext(options.tls);
  if (!tls.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Coinbase gateway TLS options: ", tls.status().message()));
  }
  return std::unique_ptr<CoinbaseGateway>(new CoinbaseGateway(std::make_unique<Impl>(
      std::move(options), std::move(credentials), std::move(instruments), *tls)));
}

CoinbaseGateway::CoinbaseGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CoinbaseGateway::~CoinbaseGateway() = default;
absl::Status CoinbaseGateway::Start() { return impl_->Start(); }
oms::SendStatus CoinbaseGateway::Send(const OrderCmd& cmd, int64_t now_ns) noexcept {
  return impl_->Send(cmd, now_ns);
}
int CoinbaseGateway::Poll(oms::ExecSink& sink) noexcept { return impl_->Poll(sink); }
void CoinbaseGateway::Flush(int64_t) noexcept { impl_->Flush(); }
bool CoinbaseGateway::ready() const noexcept { return impl_->ready(); }
bool CoinbaseGateway::TrackRecovered(const oms::Order& order) noexcept {
  return impl_->TrackRecovered(order);
}
size_t CoinbaseGateway::in_doubt_orders() const noexcept { return impl_->in_doubt(); }
void CoinbaseGateway::Forget(uint64_t client_order_id) noexcept { impl_->Forget(client_order_id); }
const CoinbaseGatewayCounters& CoinbaseGateway::counters() const noexcept {
  return impl_->counters();
}
const UserChannelCounters& CoinbaseGateway::user_channel_counters() const noexcept {
  return impl_->user_counters();
}
const JwtPoolCounters& CoinbaseGateway::jwt_pool_counters() const noexcept {
  return impl_->pool_counters();
}
const HttpsCounters& CoinbaseGateway::https_counters() const noexcept {
  return impl_->https_counters();
}
size_t CoinbaseGateway::working_orders() const noexcept { return impl_->working(); }

}  // namespace nzeza::venues::coinbase
