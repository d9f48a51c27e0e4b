// The run summary (what `nzeza` prints at exit and writes with --summary-json) and the one-line
// status printed every second.
//
//   RunSummary s;
//   s.duration_ns = 30'000'000'000;
//   s.messages = ...; s.books = ...; ...
//   s.positions.push_back({.instrument = "BTC-USD", .position = "0.002", .avg_price = "50123.45",
//                          .realized_pnl = "1.25", .unrealized_pnl = "-0.40"});
//   s.latency.push_back(StageLatencyFrom("tick_to_trade", merged_histogram));
//   std::cout << FormatSummaryText(s);
//   absl::Status st = WriteSummaryJson(s, "summary.json");
//
// JSON shape (field names are stable; consumers may rely on them):
//   {"duration_s": 30.0, "venue": "sim", "strategy": "market_maker",
//    "messages": 1, "books": 1, "signals": 1, "orders": 1, "fills": 1, "rejects": 0,
//    "risk_refusals": 0, "venue_rejects": 0,
//    "cancels": 0, "breaker_trips": 0, "breaker_state": "closed", "killed": false,
//    "still_working": ["order 123 (venue id ..., BTC-USD buy 0.001, pending_cancel)"],
//    "positions": [{"instrument": "BTC-USD", "position": "0.002", "avg_price": "50123.45",
//                   "realized_pnl": "1.25", "unrealized_pnl": "-0.4", "fills": 7,
//                   "venue_position": "0.002", "venue_open_orders": 0, "venue_fills": 7}],
//    "latency_ns": {"feed": {"p50": 800, "p99": 2100, "p999": 5000, "max": 9000,
//                            "count": 12345}, ...}}
// A position's "fills" counts every fill the order manager holds (recovered from the journal
// included); the top-level "fills" only this run's. The venue_* fields appear when the venue's
// view of the account is known (the embedded simulated venue).
// Positions and PnL are decimal strings (exact, from the fixed-point mantissas), never floats.
// The latency stages appear in the order they were added.
//
// Thread: control plane. Allocates: yes.
#ifndef NZEZA_APP_SUMMARY_H_
#define NZEZA_APP_SUMMARY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "nzeza/core/latency_histogram.h"

namespace nzeza::app {

struct PositionSummary {
  std::string instrument = {};
  std::string position = "0";        // signed decimal, base units
  std::string avg_price = "0";       // average entry price of the open position
  std::string realized_pnl = "0";    // quote currency
  std::string unrealized_pnl = "0";  // at the last mid
  uint64_t fills = 0;  // fills the order manager holds for it, recovered from the journal included
  // What the venue reports for our account at the end (the embedded simulated venue; "" when
  // not known): its position, working orders and fills. The engine's position and fills must
  // equal them.
  std::string venue_position = {};
  int64_t venue_open_orders = -1;  // -1: not known
  int64_t venue_fills = -1;        // -1: not known
};

struct StageLatency {
  std::string stage = {};  // e.g. "feed", "signal", "risk", "order", "tick_to_trade"
  uint64_t count = 0;
  uint64_t p50 = 0;  // nanoseconds
  uint64_t p99 = 0;
  uint64_t p999 = 0;
  uint64_t max = 0;
};

struct RunSummary {
  int64_t duration_ns = 0;
  std::string venue = {};     // "sim", "coinbase"
  std::string strategy = {};  // "market_maker", ...
  uint64_t messages = 0;      // venue market-data messages decoded
  uint64_t books = 0;         // book updates handed to strategies
  uint64_t signals = 0;       // order intents emitted
  uint64_t orders = 0;        // orders sent to the venue
  uint64_t cancels = 0;       // cancels sent
  uint64_t fills = 0;
  uint64_t rejects = 0;        // by risk or by the venue: risk_refusals + venue_rejects
  uint64_t risk_refusals = 0;  // intents the pre-trade checks or the breaker refused
  uint64_t venue_rejects = 0;  // orders the venue (or the gateway, before sending) rejected
  uint64_t breaker_trips = 0;
  std::string breaker_state = "closed";
  bool killed = false;
  // Orders the engine still holds as working after shutdown's cancels (none confirmed within
  // the timeout): one line each. Non-empty makes nzeza exit 3.
  std::vector<std::string> still_working;
  std::vector<PositionSummary> positions;
  std::vector<StageLatency> latency;
};

// p50/p99/p99.9/max/count of a histogram (LatencyHistogram::Summarize()).
StageLatency StageLatencyFrom(std::string stage, const LatencyHistogram& histogram);

// A readable multi-line report: counters, a positions table, a latency table (in us).
std::string FormatSummaryText(const RunSummary& s);

// The JSON document described in the file comment, with a trailing newline.
std::string FormatSummaryJson(const RunSummary& s);

// Writes FormatSummaryJson(s) to `path` atomically (a temporary file in the same directory,
// then rename). Errors: Internal naming the path and the errno text.
absl::Status WriteSummaryJson(const RunSummary& s, const std::string& path);

// One line, no newline: "t=12s msgs=10234 (+851/s) books=... sig=.. ord=.. fill=.. rej=..
// trips=0 breaker=closed pos=BTC-USD:0.002 pnl=BTC-USD:0.85 t2t_p99=14.2us". Rates are
// computed against `previous` (the summary one status interval earlier), omitted when null.
std::string FormatStatusLine(const RunSummary& now, const RunSummary* previous);

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace nzeza::app

#endif  // NZEZA_APP_SUMMARY_H_
