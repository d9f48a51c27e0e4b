#include "nzeza/feeds/common/feed_session.h"

#include <time.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_format.h"
#include "nzeza/core/clock.h"

namespace nzeza {

FeedSession::FeedSession(FeedSessionOptions options, std::unique_ptr<FeedDecoder> decoder,
                         MdSink& sink)
    : options_(std::move(options)), decoder_(std::move(decoder)), sink_(sink) {
  WsCallbacks cb;
  cb.on_open = [this] { OnOpen(); };
  cb.on_message = [this](const char* data, size_t size, int64_t recv_ns) {
    OnMessage(data, size, recv_ns);
  };
  cb.on_close = [this](const absl::Status& why) { OnClose(why); };
  ws_ = std::make_unique<WsClient>(options_.ws, std::move(cb));
  if (options_.rest) rest_ = std::make_unique<HttpsClient>(*options_.rest);
  snapshot_in_flight_.assign(decoder_->table().size(), 0);
  snapshot_not_before_ns_.assign(decoder_->table().size(), 0);
  snapshot_retries_.reserve(decoder_->table().size());
}

FeedSession::~FeedSession() {
  // The HTTPS client's callbacks point at this session: cancel them first.
  if (rest_) rest_->Close();
}

absl::Status FeedSession::Start() {
  bool needs_rest = false;
  for (const FeedInstrument& in : decoder_->table().all()) {
    if (!decoder_->SnapshotTarget(in.id).empty()) needs_rest = true;
  }
  if (needs_rest && !rest_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: the %s decoder fetches REST snapshots; no rest endpoint is configured",
                        options_.name, VenueName(decoder_->venue())));
  }
  return ws_->Start();
}

void FeedSession::Close() {
  ws_->Close();
  if (rest_) rest_->Close();
}

int64_t FeedSession::Now() const noexcept {
  if (options_.ws.clock != nullptr) return options_.ws.clock->NowNanos();
  return MonotonicNanos();
}

void FeedSession::OnOpen() {
  for (std::string& f : decoder_->SubscribeFrames()) ws_->Send(std::move(f));
  decoder_->OnOpen(Now(), sink_);
  Log(absl::StrFormat("%s: connected to %s:%u%s, %zu instruments subscribed", options_.name,
                      options_.ws.host, options_.ws.port, options_.ws.target,
                      decoder_->table().size()));
}

void FeedSession::OnMessage(const char* data, size_t size, int64_t recv_ns) noexcept {
  const DecodeError e = decoder_->OnMessage(data, size, recv_ns, sink_);
  if (e != DecodeError::kOk) NoteError(e);
}

void FeedSession::NoteError(DecodeError e) noexcept {
  const size_t k = static_cast<size_t>(e);
  if (k < errors_since_log_.size()) {
    ++errors_since_log_[k];
    error_where_[k] = decoder_->last_error_where();
  }
}

void FeedSession::OnClose(const absl::Status& why) {
  decoder_->OnClose(Now(), sink_);
  Log(absl::StrFormat("%s: disconnected (%s); every book is marked disconnected until resynced",
                      options_.name, why.ToString()));
}

int FeedSession::Poll() noexcept {
  int work = ws_->Poll();
  if (rest_) work += rest_->Poll();
  const int64_t now = Now();
  RunActions(now);
  if (now >= next_stale_check_ns_) {
    next_stale_check_ns_ = now + absl::ToInt64Nanoseconds(options_.stale_check_interval);
    work += decoder_->CheckStale(now, absl::ToInt64Nanoseconds(options_.stale_after), sink_);
  }
  if (options_.sink_overruns) {
    const uint64_t overruns = options_.sink_overruns();
    if (overruns != last_overruns_) {
      last_overruns_ = overruns;
      ++counters_.overrun_resyncs;
      // The signal stage missed events, so its books are wrong: start over. The reconnect makes
      // the decoder mark every book disconnected (kGap downstream) and resubscribe / re-snapshot.
      Log(
          absl::StrFormat("%s: market-data ring overrun (%u events lost so far); resyncing every "
                          "book",
                          options_.name, overruns));
      ++counters_.reconnect_requests;
      ws_->Reconnect("market-data ring overrun");
    }
  }
  if (now >= next_log_ns_) MaybeLog(now);
  return work;
}

void FeedSession::RunActions(int64_t now_ns) {
  // Snapshot retries that are due.
  for (size_t i = 0; i < snapshot_retries_.size();) {
    if (snapshot_retries_[i].due_ns <= now_ns) {
      const InstrumentId id = snapshot_retries_[i].instrument;
      snapshot_retries_[i] = snapshot_retries_.back();
      snapshot_retries_.pop_back();
      FetchSnapshot(id, now_ns);
    } else {
      ++i;
    }
  }
  FeedAction a;
  while (decoder_->PopAction(&a)) {
    switch (a.type) {
      case FeedActionType::kFetchSnapshot:
        FetchSnapshot(a.instrument, now_ns);
        break;
      case FeedActionType::kResubscribe:
        ++counters_.resubscribes;
        for (std::string& f : decoder_->ResubscribeFrames(a.instrument)) ws_->Send(std::move(f));
        break;
      case FeedActionType::kReconnect:
        ++counters_.reconnect_requests;
        ws_->Reconnect("the decoder asked for a reconnect");
        break;
    }
  }
}

void FeedSession::FetchSnapshot(InstrumentId instrument, int64_t now_ns) {
  const FeedInstrument* in = decoder_->table().FindId(instrument);
  if (in == nullptr || !rest_) return;
  const size_t idx = decoder_->table().IndexOf(in);
  if (snapshot_in_flight_[idx]) return;  // the response in flight will do
  if (now_ns < snapshot_not_before_ns_[idx]) {
    for (const SnapshotRetry& r : snapshot_retries_) {
      if (r.instrument == instrument) return;
    }
    snapshot_retries_.push_back(SnapshotRetry{instrument, snapshot_not_before_ns_[idx]});
    return;
  }
  HttpRequest req;
  req.method = HttpMethod::kGet;
  req.target = decoder_->SnapshotTarget(instrument);
  if (req.target.empty()) return;
  ++counters_.snapshot_requests;
  snapshot_in_flight_[idx] = 1;
  const absl::Status s =
      rest_->Request(std::move(req), [this, instrument, idx](const HttpResponse& r) {
        snapshot_in_flight_[idx] = 0;
        if (r.transport.ok() && r.status == 200) {
          const DecodeError e =
              decoder_->OnSnapshot(instrument, r.body.data(), r.body.size(), r.recv_ns, sink_);
          if (e == DecodeError::kOk) return;
          NoteError(e);
        }
        // Failed (transport, HTTP status, or a body that did not decode): ask again after a delay.
        ++counters_.snapshot_failures;
        const int64_t now = Now();
        snapshot_not_before_ns_[idx] = now + absl::ToInt64Nanoseconds(options_.snapshot_retry);
        if (!r.transport.ok() || r.status != 200) {
          Log(absl::StrFormat(
              "%s: snapshot for %s failed: %s", options_.name, decoder_->table().all()[idx].symbol,
              r.transport.ok() ? absl::StrFormat("HTTP %d", r.status) : r.transport.ToString()));
        }
        decoder_->OnSnapshotFailed(instrument);
      });
  if (!s.ok()) {
    snapshot_in_flight_[idx] = 0;
    ++counters_.snapshot_failures;
    Log(absl::StrFormat("%s: snapshot request refused: %s", options_.name, s.ToString()));
  }
}

void FeedSession::MaybeLog(int64_t now_ns) {
  next_log_ns_ = now_ns + absl::ToInt64Nanoseconds(options_.log_interval);
  for (size_t k = 0; k < errors_since_log_.size(); ++k) {
    if (errors_since_log_[k] == 0) continue;
    const uint64_t n = errors_since_log_[k];
    Log(absl::StrFormat(
        "%s: %u message(s) refused in the last %s: %s (last at: %s); totals: "
        "%u decode errors, %u unknown, %u gaps",
        options_.name, n, absl::FormatDuration(options_.log_interval),
        DecodeErrorName(static_cast<DecodeError>(k)),
        error_where_[k] != nullptr ? error_where_[k] : "", decoder_->counters().decode_errors,
        decoder_->counters().unknown_messages, decoder_->counters().gaps));
    if (n > 1) counters_.log_suppressed += n - 1;
    errors_since_log_[k] = 0;
  }
}

void FeedSession::Log(std::string_view line) {
  ++counters_.log_lines;
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  }
}

}  // namespace nzeza
