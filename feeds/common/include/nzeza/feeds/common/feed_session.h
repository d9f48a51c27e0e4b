// FeedSession: the feed-decode stage for one venue connection. Owns a WsClient (market data), an
// optional HttpsClient (REST book snapshots) and the venue's FeedDecoder, and pushes what the
// decoder emits into an MdSink (the ring to the signal stage).
//
//   auto decoder = nzeza::MakeBinanceDecoder(table, {});
//   nzeza::RingSink<nzeza::SpscRing<nzeza::MdEvent>> sink(md_ring);
//   nzeza::FeedSession feed({.ws = {.host = "stream.binance.com", .port = 9443,
//                                   .target = "/stream?streams=...",
//                                   .tls_context = *nzeza::MakeClientTlsContext({})},
//                            .rest = nzeza::HttpsClientOptions{.host = "api.binance.com", ...}},
//                           std::move(decoder), sink);
//   feed.Start();
//   worker.Add(&feed);   // a Stage: Poll() from the worker's loop
//
// What Poll() does, never blocking:
// - runs the WebSocket session: on every open sends the decoder's SubscribeFrames() and calls
//   OnOpen; each message goes to OnMessage (the decoder emits straight into the sink); a drop
//   calls OnClose (kDisconnected for every book) and the WsClient reconnects with backoff;
// - carries out the decoder's actions: REST snapshot fetches (failed ones retried after
//   snapshot_retry), resubscriptions, reconnects;
// - every stale_check_interval, CheckStale(stale_after);
// - a sink overrun (RingSink) means the signal stage missed events: every book is marked kGap and
//   resynced (a reconnect), since a book that missed an update is wrong.
// - decode errors are logged, rate-limited to one line per error kind per log_interval, with the
//   counts since the last line (through the log function given; stderr by default). Logging
//   happens after the message is handled, never inside the decoder.
//
// Thread: everything on the thread that calls Poll(). Allocates: on connect, on control-plane
// actions and in log lines; not per message after warm-up.
#ifndef NZEZA_FEEDS_COMMON_FEED_SESSION_H_
#define NZEZA_FEEDS_COMMON_FEED_SESSION_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nzeza/core/runtime.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/net/https_client.h"
#include "nzeza/net/ws_client.h"

namespace nzeza {

struct FeedSessionOptions {
  WsClientOptions ws;
  std::optional<HttpsClientOptions> rest;  // needed by decoders that fetch REST snapshots
  absl::Duration stale_after = absl::Seconds(5);
  absl::Duration stale_check_interval = absl::Milliseconds(100);
  absl::Duration snapshot_retry = absl::Seconds(1);
  absl::Duration log_interval = absl::Seconds(1);
  // Where log lines go (control plane); default: stderr.
  std::function<void(std::string_view line)> log;
  // Returns the overruns of the sink so far (RingSink::overruns); null: never checked.
  std::function<uint64_t()> sink_overruns;
  std::string name = "feed-decode";
};

struct FeedSessionCounters {
  uint64_t snapshot_requests = 0;
  uint64_t snapshot_failures = 0;
  uint64_t resubscribes = 0;
  uint64_t reconnect_requests = 0;  // reconnects asked for by the decoder or an overrun
  uint64_t overrun_resyncs = 0;
  uint64_t log_lines = 0;
  uint64_t log_suppressed = 0;  // errors folded into a later line by the rate limit
};

class FeedSession final : public Stage {
 public:
  FeedSession(FeedSessionOptions options, std::unique_ptr<FeedDecoder> decoder, MdSink& sink);
  ~FeedSession() override;

  // Starts the WebSocket session. Errors: those of WsClient::Start; FailedPrecondition when the
  // decoder needs REST snapshots and no rest options were given.
  absl::Status Start();
  void Close();

  std::string_view name() const noexcept override { return options_.name; }
  int Poll() noexcept override;

  const FeedDecoder& decoder() const noexcept { return *decoder_; }
  const WsClient& ws() const noexcept { return *ws_; }
  const HttpsClient* rest() const noexcept { return rest_.get(); }
  const FeedSessionCounters& counters() const noexcept { return counters_; }

 private:
  void OnOpen();
  void OnMessage(const char* data, size_t size, int64_t recv_ns) noexcept;
  void OnClose(const absl::Status& why);
  void NoteError(DecodeError e) noexcept;
  void RunActions(int64_t now_ns);
  void FetchSnapshot(InstrumentId instrument, int64_t now_ns);
  void MaybeLog(int64_t now_ns);
  void Log(std::string_view line);
  int64_t Now() const noexcept;

  FeedSessionOptions options_;
  std::unique_ptr<FeedDecoder> decoder_;
  MdSink& sink_;
  std::unique_ptr<WsClient> ws_;
  std::unique_ptr<HttpsClient> rest_;
  FeedSessionCounters counters_;
  int64_t next_stale_check_ns_ = 0;
  int64_t next_log_ns_ = 0;
  uint64_t last_overruns_ = 0;
  // Errors per DecodeError kind since the last log line.
  std::array<uint64_t, 16> errors_since_log_{};
  std::array<const char*, 16> error_where_{};
  struct SnapshotRetry {
    InstrumentId instrument;
    int64_t due_ns;
  };
  std::vector<SnapshotRetry> snapshot_retries_;
  std::vector<uint8_t> snapshot_in_flight_;      // by table index
  std::vector<int64_t> snapshot_not_before_ns_;  // by table index: retry delay after a failure
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_FEED_SESSION_H_
