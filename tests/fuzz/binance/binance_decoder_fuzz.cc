// libFuzzer target for the Binance Spot decoder (feeds/binance).
//
// The input is a script, one step per '\n'-separated line:
//   "O"            OnOpen            "C"   OnClose          "F<d>" OnSnapshotFailed(instrument d)
//   "S<d>:<body>"  OnSnapshot(instrument d % 4, body)   anything else: OnMessage(line)
// Every call also goes to a second decoder with fast_snapshots off (snapshots through simdjson On
// Demand, not the scanner): results, events, counters and actions must be the same.
// Each message is copied into a heap buffer of exactly its size plus kFeedPadding, so that
// AddressSanitizer sees any read past the padding. The decoder starts opened.
//
// Invariants (any violation aborts):
// - a call that fails emits no level, trade or BBO event (status events only: kGap);
// - a level event run of one call ends with kMdMessageEnd; snapshot runs are bracketed;
// - every event applied to an OrderBook is accepted, except what follows a crossed snapshot (the
//   book refuses the snapshot, then the diffs built on it); every book validates;
// - counters().events equals the number of events the sink received;
// - a kResynced for an instrument follows a completed snapshot run for it.
//
// Run: binance_decoder_fuzz -max_total_time=60 tests/fuzz/seeds/binance_decoder_fuzz

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "nzeza/book/order_book.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/common/md_sink.h"

namespace {

using namespace nzeza;  // NOLINT

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr InstrumentId kIds[4] = {10, 11, 12, 13};

const SymbolTable& Table() {
  static const SymbolTable t = [] {
    std::vector<FeedInstrument> v = {{"NKNUSDT", kIds[0], 8, 8},
                                     {"BLZETH", kIds[1], 8, 8},
                                     {"LRCBTC", kIds[2], 2, 0},  // coarse scales: kBadNumber paths
                                     {"RUNEEUR", kIds[3], 18, 18}};
    return *SymbolTable::Create(v);
  }();
  return t;
}

struct State {
  std::unique_ptr<FeedDecoder> dec;
  VectorSink sink;
  std::vector<std::unique_ptr<OrderBook>> books;
  std::vector<uint8_t> crossed_snapshot;  // a snapshot was refused: diffs may be refused too
  uint64_t seen = 0;
  std::unique_ptr<FeedDecoder> general;  // fast_snapshots off: every snapshot through On Demand
  VectorSink general_sink;

  State() {
    BinanceDecoderOptions o;
    o.max_buffered_diffs = 8;  // small: overflow paths are reachable
    o.max_levels_per_message = 64;
    o.max_buffered_levels = 128;
    o.max_message_bytes = 1 << 16;
    dec = MakeBinanceDecoder(Table(), o);
    o.fast_snapshots = false;
    general = MakeBinanceDecoder(Table(), o);
    for (InstrumentId id : kIds) books.push_back(std::make_unique<OrderBook>(id, 32));
    crossed_snapshot.assign(4, 0);
  }

  size_t Index(InstrumentId id) const {
    for (size_t i = 0; i < 4; ++i) {
      if (kIds[i] == id) return i;
    }
    std::abort();
  }

  // The decoder without the snapshot scanner got the same call: it must have said and emitted
  // the same.
  void Compare(DecodeError result, DecodeError general_result) {
    Check(result == general_result);
    Check(sink.events.size() == general_sink.events.size());
    for (size_t i = 0; i < sink.events.size(); ++i) {
      Check(SameMarketData(sink.events[i], general_sink.events[i]));
    }
    general_sink.events.clear();
    const FeedCounters& a = dec->counters();
    const FeedCounters& b = general->counters();
    Check(std::memcmp(&a, &b, sizeof(FeedCounters)) == 0);
  }

  // Checks and applies what the last call emitted.
  void Drain(DecodeError result) {
    const std::vector<MdEvent>& ev = sink.events;
    seen += ev.size();
    Check(seen == dec->counters().events);
    bool in_run = false;
    for (size_t i = 0; i < ev.size(); ++i) {
      const MdEvent& e = ev[i];
      Check(e.venue == Venue::kBinance);
      if (result != DecodeError::kOk) Check(e.type == MdType::kStatus);
      if (e.type == MdType::kLevels) {
        Check(e.levels.size() <= kMaxLevelsPerEvent);
        if (e.flags & kMdSnapshotBegin) {
          Check(!in_run);
          in_run = true;
        }
        if (e.flags & kMdSnapshot) Check(in_run);
        if (e.flags & kMdSnapshotEnd) {
          Check(e.flags & kMdMessageEnd);
          in_run = false;
        }
        // The last event of the call ends a message.
        if (i + 1 == ev.size() || ev[i + 1].type != MdType::kLevels) {
          Check(e.flags & kMdMessageEnd);
        }
      } else {
        Check(!in_run);
      }
      const size_t idx = Index(e.instrument);
      OrderBook& b = *books[idx];
      const ApplyResult r = b.Apply(e);
      if (!r.ok()) {
        if (r.error == BookError::kCrossedSnapshot) {
          crossed_snapshot[idx] = 1;
        } else {
          Check(crossed_snapshot[idx] &&
                (r.error == BookError::kNotLive || r.error == BookError::kNotSnapshotting));
        }
      }
      if (e.type == MdType::kLevels && (e.flags & kMdSnapshotEnd) && r.ok()) {
        crossed_snapshot[idx] = 0;
      }
      if (e.type == MdType::kStatus && e.status.code == MdStatus::kResynced &&
          !crossed_snapshot[idx]) {
        Check(b.state() == BookState::kLive);
      }
      const BookInvariant inv = b.Validate();
      Check(inv == BookInvariant::kOk || inv == BookInvariant::kCrossed);
    }
    Check(!in_run);
    sink.events.clear();
  }
};

std::unique_ptr<char[]> Copy(std::string_view s) {
  std::unique_ptr<char[]> buf(new char[s.size() + kFeedPadding]);
  if (!s.empty()) std::memcpy(buf.get(), s.data(), s.size());
  std::memset(buf.get() + s.size(), '9', kFeedPadding);
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  State st;
  st.dec->OnOpen(1, st.sink);
  st.general->OnOpen(1, st.general_sink);
  st.Compare(DecodeError::kOk, DecodeError::kOk);
  st.Drain(DecodeError::kOk);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  int64_t t = 2;
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    ++t;
    if (line == "O") {
      st.dec->OnOpen(t, st.sink);
      st.general->OnOpen(t, st.general_sink);
      st.Compare(DecodeError::kOk, DecodeError::kOk);
      st.Drain(DecodeError::kOk);
    } else if (line == "C") {
      st.dec->OnClose(t, st.sink);
      st.general->OnClose(t, st.general_sink);
      st.Compare(DecodeError::kOk, DecodeError::kOk);
      st.Drain(DecodeError::kOk);
    } else if (line.size() == 2 && line[0] == 'F') {
      st.dec->OnSnapshotFailed(kIds[static_cast<uint8_t>(line[1]) % 4]);
      st.general->OnSnapshotFailed(kIds[static_cast<uint8_t>(line[1]) % 4]);
    } else if (line.size() >= 3 && line[0] == 'S' && line[2] == ':') {
      const std::string_view body = line.substr(3);
      auto buf = Copy(body);
      const InstrumentId id = kIds[static_cast<uint8_t>(line[1]) % 4];
      const DecodeError e = st.dec->OnSnapshot(id, buf.get(), body.size(), t, st.sink);
      st.Compare(e, st.general->OnSnapshot(id, buf.get(), body.size(), t, st.general_sink));
      st.Drain(e);
    } else {
      auto buf = Copy(line);
      const DecodeError e = st.dec->OnMessage(buf.get(), line.size(), t, st.sink);
      st.Compare(e, st.general->OnMessage(buf.get(), line.size(), t, st.general_sink));
      st.Drain(e);
    }
    FeedAction a, b;
    while (st.dec->PopAction(&a)) {
      Check(a.type == FeedActionType::kFetchSnapshot);
      Check(!st.dec->SnapshotTarget(a.instrument).empty());
      Check(st.general->PopAction(&b) && b.type == a.type && b.instrument == a.instrument);
    }
    Check(!st.general->PopAction(&b));
  }
  return 0;
}
