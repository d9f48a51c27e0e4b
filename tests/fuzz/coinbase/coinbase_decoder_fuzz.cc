// libFuzzer target for feeds/coinbase: both decoders (Advanced Trade and Exchange ws-feed).
//
// The input is a sequence of messages split on '\n'. Fresh decoders per input (deterministic
// reproduction); each message is copied into a heap buffer of exactly its size plus kFeedPadding
// bytes filled with other input bytes (a reused receive buffer holds old bytes there), and fed to
// both decoders; what they emit goes into nzeza::OrderBook. Invariants, any violation aborts:
// - a message that fails (other than the counted-and-skipped kinds kUnknownInstrument and
//   kSequence, which may leave other events of the message emitted) emits no market data;
// - level events carry positive prices and non-negative sizes for an instrument of the table,
//   snapshot runs are bracketed (Begin first, End last, kMdSnapshot on all) and the last event of
//   a message's levels carries kMdMessageEnd;
// - the book never refuses an event for a malformed reason (bad price/size/count, wrong
//   instrument, a snapshot continuation without a begin) and its invariants hold (a crossed book
//   from incremental changes is legal; a crossed snapshot is refused by the book, and then
//   updates are refused as not live, which is fine);
// - counters are consistent (events emitted == events seen by the sink);
// - a second Exchange decoder with fast_snapshots off (every snapshot through simdjson On Demand,
//   not the scanner) returns the same for every message, emits the same events (compared by a
//   digest of every field but the clock reading) and ends with the same counters.
//
// Run: coinbase_decoder_fuzz -max_total_time=60 tests/fuzz/seeds/coinbase_decoder_fuzz

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "nzeza/book/order_book.h"
#include "nzeza/feeds/coinbase/decoder.h"

namespace {

using namespace nzeza;

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr InstrumentId kIds[] = {0, 1, 2, 3};

SymbolTable MakeTable() {
  std::vector<FeedInstrument> v = {{"BTC-USD", kIds[0], 2, 8},
                                   {"ETH-USD", kIds[1], 2, 8},
                                   {"SKL-BTC", kIds[2], 8, 1},
                                   {"SKL-GBP", kIds[3], 4, 1}};
  return *SymbolTable::Create(v);
}

class CheckingSink final : public MdSink {
 public:
  CheckingSink() {
    for (InstrumentId id : kIds) books.emplace_back(id, 64);
  }
  void Push(const MdEvent& ev) noexcept override {
    ++pushed;
    Check(ev.instrument < books.size());
    if (ev.type != MdType::kStatus) ++data_in_message;
    if (ev.type == MdType::kLevels) {
      Check(ev.levels.size() <= kMaxLevelsPerEvent);
      for (size_t i = 0; i < ev.levels.size(); ++i) {
        Check(ev.levels.level[i].price > 0);
        Check(ev.levels.level[i].size >= 0);
      }
      const bool snapshot = (ev.flags & kMdSnapshot) != 0;
      if ((ev.flags & kMdSnapshotBegin) != 0) {
        Check(snapshot && !in_snapshot[ev.instrument]);
        in_snapshot[ev.instrument] = true;
      } else if (snapshot) {
        Check(in_snapshot[ev.instrument]);  // a continuation follows its begin
      }
      if ((ev.flags & kMdSnapshotEnd) != 0) {
        Check(snapshot && (ev.flags & kMdMessageEnd) != 0);
        in_snapshot[ev.instrument] = false;
      }
      open_run = (ev.flags & kMdMessageEnd) == 0;
    }
    const auto mix = [this](uint64_t v) { digest = (digest ^ v) * 0x100000001b3ULL; };
    mix(static_cast<uint64_t>(ev.type) | uint64_t{ev.flags} << 8 | uint64_t{ev.instrument} << 32);
    mix(ev.venue_seq);
    mix(static_cast<uint64_t>(ev.exchange_ns));
    mix(static_cast<uint64_t>(ev.times.recv_ns));
    if (ev.type == MdType::kLevels) {
      mix(ev.levels.num_bids | uint64_t{ev.levels.num_asks} << 32);
      for (size_t i = 0; i < ev.levels.size(); ++i) {
        mix(static_cast<uint64_t>(ev.levels.level[i].price));
        mix(static_cast<uint64_t>(ev.levels.level[i].size));
      }
    }
    OrderBook& book = books[ev.instrument];
    const ApplyResult r = book.Apply(ev);
    switch (r.error) {
      case BookError::kOk:
      case BookError::kCrossedSnapshot:  // the fuzz input's snapshot crosses
      case BookError::kNotLive:          // ... so the book is not live for the updates after it
        break;
      case BookError::kNotSnapshotting:  // only after the book refused the run's begin
        Check(book.state() != BookState::kSnapshotting);
        break;
      default:
        std::abort();
    }
    const BookInvariant inv = book.Validate();
    Check(inv == BookInvariant::kOk || inv == BookInvariant::kCrossed);
  }
  std::vector<OrderBook> books;
  bool in_snapshot[4] = {false, false, false, false};
  bool open_run = false;
  uint64_t pushed = 0;
  uint64_t data_in_message = 0;
  uint64_t digest = 0xcbf29ce484222325ULL;
};

DecodeError FeedOne(FeedDecoder& d, CheckingSink& sink, const char* msg, size_t n,
                    const uint8_t* fill, size_t fill_n, int64_t t) {
  std::unique_ptr<char[]> buf(new char[n + kFeedPadding]);
  if (n != 0) std::memcpy(buf.get(), msg, n);
  for (size_t i = 0; i < kFeedPadding; ++i) {
    buf[n + i] = fill_n != 0 ? static_cast<char>(fill[i % fill_n]) : '}';
  }
  sink.data_in_message = 0;
  const DecodeError e = d.OnMessage(buf.get(), n, t, sink);
  if (e != DecodeError::kOk && e != DecodeError::kUnknownInstrument &&
      e != DecodeError::kSequence) {
    Check(sink.data_in_message == 0);
  }
  Check(!sink.open_run);
  for (bool s : sink.in_snapshot) Check(!s);
  FeedAction a;
  while (d.PopAction(&a)) Check(a.type != FeedActionType::kFetchSnapshot);
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CoinbaseDecoderOptions o;
  o.max_message_bytes = 1 << 13;
  o.reserve_levels = 64;
  CoinbaseDecoderOptions general = o;
  general.fast_snapshots = false;
  constexpr int kN = 3;  // Advanced Trade, Exchange, Exchange without the snapshot scanner
  std::unique_ptr<FeedDecoder> decoders[kN] = {MakeCoinbaseAdvancedDecoder(MakeTable(), o),
                                               MakeCoinbaseExchangeDecoder(MakeTable(), o),
                                               MakeCoinbaseExchangeDecoder(MakeTable(), general)};
  CheckingSink sinks[kN];
  for (int k = 0; k < kN; ++k) decoders[k]->OnOpen(0, sinks[k]);
  const char* p = reinterpret_cast<const char*>(data);
  size_t start = 0;
  int64_t t = 1;
  for (size_t i = 0; i <= size; ++i) {
    if (i != size && data[i] != '\n') continue;
    DecodeError e[kN];
    for (int k = 0; k < kN; ++k) {
      e[k] = FeedOne(*decoders[k], sinks[k], p + start, i - start, data, size, t);
      // Now and then a reconnect and a staleness check.
      if (i - start == 1 && p[start] == '~') {
        decoders[k]->OnClose(t, sinks[k]);
        decoders[k]->OnOpen(t, sinks[k]);
      }
      (void)decoders[k]->CheckStale(t, 5, sinks[k]);
    }
    Check(e[1] == e[2] && sinks[1].digest == sinks[2].digest);
    start = i + 1;
    t += 3;
  }
  for (int k = 0; k < kN; ++k) {
    Check(decoders[k]->counters().events == sinks[k].pushed);
  }
  const FeedCounters& fast = decoders[1]->counters();
  const FeedCounters& slow = decoders[2]->counters();
  Check(std::memcmp(&fast, &slow, sizeof(FeedCounters)) == 0);
  return 0;
}
