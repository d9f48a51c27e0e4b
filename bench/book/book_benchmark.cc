// Benchmarks of nzeza::OrderBook against a std::map-per-side book (the liquibook / ccapi style),
// in the same binary, on the same seeded stream of level updates.
//
// The stream mimics a venue depth feed: 1-4 levels per event, ~75% within 10 ticks of the top,
// ~30% deletes, the rest spread over 400 ticks. Both books are checked equal (every level) after
// the whole stream before anything is timed; a mismatch is SkipWithError.
//
//   build/<dir>/bench/book/nzeza_bench_book --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>
#include <nzeza/book/order_book.h>
#include <nzeza/core/events.h>

namespace nzeza {
namespace {

constexpr InstrumentId kId = 1;
constexpr int64_t kMid = 1'000'000;
constexpr int64_t kSpan = 400;  // price range per side, in ticks
constexpr size_t kStreamEvents = 1 << 16;

// The competitor: every level in a std::map, one node per level.
struct MapBook {
  std::map<int64_t, int64_t, std::greater<>> bids;
  std::map<int64_t, int64_t> asks;

  void Apply(const MdEvent& e) {
    if ((e.flags & kMdSnapshotBegin) != 0) {
      bids.clear();
      asks.clear();
    }
    for (const PriceLevel& l : e.levels.bids()) {
      if (l.size == 0) {
        bids.erase(l.price);
      } else {
        bids[l.price] = l.size;
      }
    }
    for (const PriceLevel& l : e.levels.asks()) {
      if (l.size == 0) {
        asks.erase(l.price);
      } else {
        asks[l.price] = l.size;
      }
    }
  }
};

struct Stream {
  std::vector<MdEvent> snapshot;
  std::vector<MdEvent> updates;
  size_t levels = 0;  // level changes in `updates`
};

const Stream& GetStream() {
  static const Stream stream = [] {
    Stream s;
    std::mt19937_64 rng(20211012);
    auto rnd = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
    // Snapshot: 200 levels each side, every other tick.
    MdEvent e = MdEvent::Levels(Venue::kBinance, kId, 0);
    e.flags = kMdSnapshot | kMdSnapshotBegin;
    auto add = [&](Side side, PriceLevel l) {
      if (e.levels.full()) {
        s.snapshot.push_back(e);
        e = MdEvent::Levels(Venue::kBinance, kId, 0);
        e.flags = kMdSnapshot;
      }
      (void)e.levels.Add(side, l);
    };
    for (int64_t i = 0; i < 200; ++i) add(Side::kBuy, {kMid - 1 - 2 * i, 1 + rnd(1000)});
    for (int64_t i = 0; i < 200; ++i) add(Side::kSell, {kMid + 1 + 2 * i, 1 + rnd(1000)});
    e.flags |= kMdSnapshotEnd;
    s.snapshot.push_back(e);

    // Updates; track the tops roughly to keep "near the top" near the top.
    MapBook ref;
    for (const MdEvent& ev : s.snapshot) ref.Apply(ev);
    for (size_t i = 0; i < kStreamEvents; ++i) {
      MdEvent u = MdEvent::Levels(Venue::kBinance, kId, i + 1);
      const int64_t n = 1 + rnd(4);
      for (int64_t k = 0; k < n; ++k) {
        const Side side = u.levels.num_asks == 0 && rnd(2) == 0 ? Side::kBuy : Side::kSell;
        const bool bid = side == Side::kBuy;
        const int64_t best = bid ? (ref.bids.empty() ? kMid - 1 : ref.bids.begin()->first)
                                 : (ref.asks.empty() ? kMid + 1 : ref.asks.begin()->first);
        const int64_t where = rnd(100);
        int64_t price;
        if (where < 75) {
          price = bid ? best + 1 - rnd(10) : best - 1 + rnd(10);
        } else {
          price = bid ? best - rnd(kSpan) : best + rnd(kSpan);
        }
        // Keep the sides apart (a real book rarely crosses) and inside the band.
        if (bid) price = std::clamp(price, kMid - kSpan, kMid - 1);
        if (!bid) price = std::clamp(price, kMid + 1, kMid + kSpan);
        const int64_t size = rnd(10) < 3 ? 0 : 1 + rnd(1000);
        (void)u.levels.Add(side, {price, size});
      }
      ref.Apply(u);
      s.levels += u.levels.size();
      s.updates.push_back(u);
    }
    return s;
  }();
  return stream;
}

// Depth large enough never to truncate, so the two books must agree exactly.
constexpr uint32_t kDepth = 512;

OrderBook FreshBook(const Stream& s) {
  OrderBook book(kId, kDepth);
  for (const MdEvent& e : s.snapshot) (void)book.Apply(e);
  return book;
}

MapBook FreshMapBook(const Stream& s) {
  MapBook book;
  for (const MdEvent& e : s.snapshot) book.Apply(e);
  return book;
}

// Checks both books agree after the whole stream; returns false on any difference.
bool BooksAgree(const Stream& s) {
  OrderBook book = FreshBook(s);
  MapBook map = FreshMapBook(s);
  for (const MdEvent& e : s.updates) {
    if (!book.Apply(e).ok()) return false;
    map.Apply(e);
    const PriceLevel* bb = book.best_bid();
    if ((bb == nullptr) != map.bids.empty()) return false;
    if (bb != nullptr &&
        (bb->price != map.bids.begin()->first || bb->size != map.bids.begin()->second)) {
      return false;
    }
  }
  if (book.bids().truncated() || book.asks().truncated()) return false;
  if (book.bids().size() != map.bids.size() || book.asks().size() != map.asks.size()) return false;
  size_t i = 0;
  for (const auto& [p, q] : map.bids) {
    if (book.bids()[static_cast<uint32_t>(i)].price != p ||
        book.bids()[static_cast<uint32_t>(i)].size != q) {
      return false;
    }
    ++i;
  }
  i = 0;
  for (const auto& [p, q] : map.asks) {
    if (book.asks()[static_cast<uint32_t>(i)].price != p ||
        book.asks()[static_cast<uint32_t>(i)].size != q) {
      return false;
    }
    ++i;
  }
  return true;
}

void BM_BookApplyNzeza(benchmark::State& state) {
  const Stream& s = GetStream();
  if (!BooksAgree(s)) {
    state.SkipWithError("nzeza book and std::map book disagree");
    return;
  }
  const OrderBook initial = FreshBook(s);
  OrderBook book = initial;
  for (auto _ : state) {
    state.PauseTiming();
    book = initial;  // same capacity: no allocation
    state.ResumeTiming();
    for (const MdEvent& e : s.updates) {
      ApplyResult r = book.Apply(e);
      benchmark::DoNotOptimize(r);
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.levels));
  state.counters["events"] = static_cast<double>(s.updates.size());
}
BENCHMARK(BM_BookApplyNzeza)->Unit(benchmark::kMicrosecond);

void BM_BookApplyStdMap(benchmark::State& state) {
  const Stream& s = GetStream();
  if (!BooksAgree(s)) {
    state.SkipWithError("nzeza book and std::map book disagree");
    return;
  }
  const MapBook initial = FreshMapBook(s);
  for (auto _ : state) {
    state.PauseTiming();
    MapBook book = initial;
    state.ResumeTiming();
    for (const MdEvent& e : s.updates) book.Apply(e);
    benchmark::DoNotOptimize(book.bids.begin()->second);
    state.PauseTiming();
    book = MapBook{};  // free outside the timed region
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * s.levels));
  state.counters["events"] = static_cast<double>(s.updates.size());
}
BENCHMARK(BM_BookApplyStdMap)->Unit(benchmark::kMicrosecond);

// Best bid + best ask read: what a strategy does on every book update.
void BM_BookBestBidAskNzeza(benchmark::State& state) {
  const Stream& s = GetStream();
  OrderBook book = FreshBook(s);
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    const PriceLevel* b = book.best_bid();
    const PriceLevel* a = book.best_ask();
    int64_t spread = a->price - b->price;
    benchmark::DoNotOptimize(spread);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookBestBidAskNzeza);

void BM_BookBestBidAskStdMap(benchmark::State& state) {
  const Stream& s = GetStream();
  MapBook book = FreshMapBook(s);
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    int64_t spread = book.asks.begin()->first - book.bids.begin()->first;
    benchmark::DoNotOptimize(spread);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookBestBidAskStdMap);

void BM_BookMicroprice(benchmark::State& state) {
  const Stream& s = GetStream();
  OrderBook book = FreshBook(s);
  int64_t mp = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(&book);
    (void)book.Microprice(&mp);
    benchmark::DoNotOptimize(mp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BookMicroprice);

}  // namespace
}  // namespace nzeza
