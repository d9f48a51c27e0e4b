// Golden test on the real Binance recording (../shared/testdata/binance): the combined stream and
// the REST depth snapshots of the same session, fed to the decoder in receive-time order (a
// snapshot is delivered when its receive time is reached), every event applied to an OrderBook.
// The final books must equal a reference built here by hand-parsing the same files and running
// Binance's documented algorithm on std::maps, without the decoder.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "binance_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/binance/decoder.h"

namespace nzeza {
namespace {

using namespace binance_test;  // NOLINT

// ---------------------------------------------------------------------------------------------
// The independent reference (hand parsers in binance_test_util.h: string search, no JSON parser,
// no ParseDecimal).

struct RefDiff {
  uint64_t U, u;
  std::vector<std::pair<int64_t, int64_t>> bids, asks;
};

struct RefBook {
  bool synced = false;
  bool live = false;  // a diff has been applied after the snapshot
  uint64_t last = 0;
  std::vector<RefDiff> buffer;
  std::map<int64_t, int64_t> bids, asks;
  int applied = 0;
  int dropped = 0;
  int gaps = 0;

  void Apply(const RefDiff& d) {
    for (const auto& [p, q] : d.bids) q == 0 ? (void)bids.erase(p) : (void)(bids[p] = q);
    for (const auto& [p, q] : d.asks) q == 0 ? (void)asks.erase(p) : (void)(asks[p] = q);
    last = d.u;
    ++applied;
    live = true;
  }
  // Binance: "Drop any event where u is <= lastUpdateId in the snapshot. The first processed
  // event should have U <= lastUpdateId+1 AND u >= lastUpdateId+1. ... each new event's U should
  // be equal to the previous event's u+1."
  void Diff(const RefDiff& d) {
    if (!synced) {
      buffer.push_back(d);
      return;
    }
    if (!live) {
      if (d.u <= last) {
        ++dropped;
        return;
      }
      if (d.U <= last + 1 && d.u >= last + 1) {
        Apply(d);
      } else {
        ++gaps;
      }
      return;
    }
    if (d.U != last + 1) {
      ++gaps;
      return;
    }
    Apply(d);
  }
  void Snapshot(uint64_t lid, const std::vector<std::pair<int64_t, int64_t>>& b,
                const std::vector<std::pair<int64_t, int64_t>>& a) {
    bids.clear();
    asks.clear();
    for (const auto& [p, q] : b) bids[p] = q;
    for (const auto& [p, q] : a) asks[p] = q;
    synced = true;
    live = false;
    last = lid;
    std::vector<RefDiff> buffered = std::move(buffer);
    buffer.clear();
    for (const RefDiff& d : buffered) Diff(d);
  }
};

std::string SymbolOf(InstrumentId id) {
  switch (id) {
    case kNkn:
      return "NKNUSDT";
    case kBlz:
      return "BLZETH";
    case kLrc:
      return "LRCBTC";
    default:
      return "RUNEEUR";
  }
}

TEST(BinanceGolden, RecordingAppliesWithoutGapAndMatchesAnIndependentReference) {
  const std::vector<StreamLine> stream = ReadStream();
  const std::vector<SnapshotLine> snaps = ReadSnapshots();
  ASSERT_EQ(stream.size(), 265u);
  ASSERT_EQ(snaps.size(), 4u);
  const std::vector<std::string> raw = ReadLines(TestdataPath("spot_stream_2021-10-12.txt"));
  const int64_t connect_ns = TsToNanos(raw[0].substr(raw[0].find("<-> ") + 4));

  // ---- the decoder, fed in receive-time order ----
  auto dec = MakeBinanceDecoder(RecordingTable(), {});
  Books books(5000);
  BookSink sink(books);
  dec->OnOpen(connect_ns, sink);
  std::vector<FeedAction> actions = PopAll(*dec);
  ASSERT_EQ(actions.size(), 4u);
  for (const FeedAction& a : actions) {
    EXPECT_EQ(a.type, FeedActionType::kFetchSnapshot);
    EXPECT_EQ(dec->SnapshotTarget(a.instrument),
              "/api/v3/depth?symbol=" + SymbolOf(a.instrument) + "&limit=1000");
  }
  size_t next_snap = 0;
  uint64_t ok = 0;
  uint64_t unknown = 0;
  const auto deliver_snapshots_until = [&](int64_t ts) {
    while (next_snap < snaps.size() && TsToNanos(snaps[next_snap].ts) <= ts) {
      const SnapshotLine& s = snaps[next_snap++];
      const FeedInstrument* in = dec->table().Find(s.symbol);
      ASSERT_NE(in, nullptr) << s.symbol;
      EXPECT_EQ("https://api.binance.com" + dec->SnapshotTarget(in->id), s.url);
      EXPECT_EQ(Snapshot(*dec, in->id, s.body, TsToNanos(s.ts), sink), DecodeError::kOk)
          << s.symbol << ": " << dec->last_error_where();
    }
  };
  for (const StreamLine& l : stream) {
    const int64_t ts = TsToNanos(l.ts);
    deliver_snapshots_until(ts);
    const DecodeError e = Feed(*dec, l.frame, ts, sink);
    if (e == DecodeError::kOk) {
      ++ok;
    } else if (e == DecodeError::kUnknownType) {
      ++unknown;  // kline_1m
    } else {
      ADD_FAILURE() << DecodeErrorName(e) << " (" << dec->last_error_where() << "): " << l.frame;
    }
  }
  deliver_snapshots_until(INT64_MAX);
  EXPECT_TRUE(PopAll(*dec).empty()) << "no snapshot was asked for again";

  // ---- the reference ----
  std::map<std::string, RefBook> ref;
  {
    size_t si = 0;
    const auto ref_snapshots_until = [&](int64_t ts) {
      while (si < snaps.size() && TsToNanos(snaps[si].ts) <= ts) {
        const SnapshotLine& s = snaps[si++];
        ref[s.symbol].Snapshot(IntField(s.body, "lastUpdateId"), LevelList(s.body, "bids"),
                               LevelList(s.body, "asks"));
      }
    };
    for (const StreamLine& l : stream) {
      ref_snapshots_until(TsToNanos(l.ts));
      if (l.frame.find("\"e\":\"depthUpdate\"") == std::string::npos) continue;
      RefDiff d{IntField(l.frame, "U"), IntField(l.frame, "u"), LevelList(l.frame, "b"),
                LevelList(l.frame, "a")};
      ref[StrField(l.frame, "s")].Diff(d);
    }
    ref_snapshots_until(INT64_MAX);
  }
  // What the testdata README states about NKNUSDT.
  EXPECT_EQ(ref["NKNUSDT"].dropped, 1);
  EXPECT_EQ(ref["NKNUSDT"].applied, 149);
  int ref_applied = 0;
  int ref_dropped = 0;
  for (auto& [sym, r] : ref) {
    EXPECT_EQ(r.gaps, 0) << sym;
    EXPECT_TRUE(r.synced) << sym;
    EXPECT_TRUE(r.buffer.empty()) << sym;
    ref_applied += r.applied;
    ref_dropped += r.dropped;
  }

  // ---- comparison ----
  const FeedCounters& c = dec->counters();
  EXPECT_EQ(c.gaps, 0u);
  EXPECT_EQ(c.decode_errors, 0u);
  EXPECT_EQ(c.duplicates, 0u);
  EXPECT_EQ(c.unknown_instrument, 0u);
  EXPECT_EQ(c.unknown_messages, unknown);
  EXPECT_EQ(unknown, 2u) << "the two kline_1m frames";
  EXPECT_EQ(ok + unknown, stream.size());
  EXPECT_EQ(c.snapshots, 4u);
  EXPECT_EQ(c.resyncs, 4u);
  EXPECT_EQ(c.level_messages, 4u + static_cast<uint64_t>(ref_applied));
  EXPECT_EQ(c.dropped_before_snapshot, static_cast<uint64_t>(ref_dropped));
  EXPECT_EQ(c.bbos, 84u);
  EXPECT_EQ(c.trades, 2u);
  EXPECT_EQ(c.events, sink.events);
  EXPECT_EQ(dec->instrument_counters(kNkn)->updates, 150u) << "the snapshot and 149 diffs";
  EXPECT_EQ(sink.status_events[static_cast<size_t>(MdStatus::kGap)], 0u);
  EXPECT_EQ(sink.status_events[static_cast<size_t>(MdStatus::kResynced)], 4u);
  EXPECT_EQ(books.refused, 0u) << (books.refusals.empty() ? "" : books.refusals[0]);

  for (InstrumentId id : {kNkn, kBlz, kLrc, kRune}) {
    const std::string sym = SymbolOf(id);
    SCOPED_TRACE(sym);
    EXPECT_EQ(GetBinanceBookSync(*dec, id), BinanceBookSync::kLive);
    const OrderBook& b = books[id];
    EXPECT_EQ(b.state(), BookState::kLive);
    EXPECT_FALSE(b.bids().truncated());
    EXPECT_FALSE(b.asks().truncated());
    EXPECT_EQ(b.Validate(), BookInvariant::kOk);
    const RefBook& r = ref[sym];
    ASSERT_EQ(b.bids().size(), r.bids.size());
    ASSERT_EQ(b.asks().size(), r.asks.size());
    uint32_t i = 0;
    for (auto it = r.bids.rbegin(); it != r.bids.rend(); ++it, ++i) {
      ASSERT_EQ(b.bids()[i].price, it->first) << "bid rank " << i;
      ASSERT_EQ(b.bids()[i].size, it->second) << "bid rank " << i;
    }
    i = 0;
    for (auto it = r.asks.begin(); it != r.asks.end(); ++it, ++i) {
      ASSERT_EQ(b.asks()[i].price, it->first) << "ask rank " << i;
      ASSERT_EQ(b.asks()[i].size, it->second) << "ask rank " << i;
    }
  }
  // The references are not trivially small: each holds the snapshot's depth.
  EXPECT_GE(ref["NKNUSDT"].bids.size() + ref["NKNUSDT"].asks.size(), 1000u);
}

}  // namespace
}  // namespace nzeza
