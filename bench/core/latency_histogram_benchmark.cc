// LatencyHistogram benchmarks: the hot-path Record() cost against two baselines in the same binary,
// and the off-path costs (percentile query, summary, merge, coordinated-omission back-fill).
//
//   build/.../bench/nzeza_bench_core --benchmark_filter=Histogram
//
// Baselines:
//  - BM_HistogramRecordBaselineVector: append to a preallocated std::vector<uint64_t> (the cheapest
//    possible "record"; its price is paid at query time, see BM_HistogramQueryBaselineNthElement,
//    and in memory that grows with the sample count).
//  - BM_HistogramRecordBaselineLog2: a naive 64-bucket log2 histogram with the same count, sum, min
//    and max bookkeeping (what the log-linear index and 224 KiB of counters cost over the crudest
//    histogram; it only resolves a factor of two).
// Every Record loop escapes its object and clobbers memory each iteration, so state lives in memory
// between calls as it does when a stage's Poll() records one sample among other work (without it
// a compiler may keep the fields in registers, or delete a loop whose result it can see unused).
// Inputs are 4096 log-normal latencies (median 20 us, wide tail) cycled through, so the counter
// touched varies like it does under real traffic. Every Record benchmark checks the histogram's
// p99 against nth_element on the same samples before timing.
#include <nzeza/core/latency_histogram.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

namespace nzeza {
namespace {

constexpr size_t kInputs = 4096;  // power of two: index with a mask
constexpr size_t kInputMask = kInputs - 1;

const std::vector<uint64_t>& Inputs() {
  static const std::vector<uint64_t> inputs = [] {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(std::log(20'000.0), 1.5);
    std::vector<uint64_t> v(kInputs);
    for (uint64_t& x : v) x = static_cast<uint64_t>(d(rng));
    return v;
  }();
  return inputs;
}

// Exact p99 of `v` (sorted[ceil(0.99 n) - 1]).
uint64_t ExactP99(std::vector<uint64_t> v) {
  const size_t rank = (v.size() * 99 + 99) / 100;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1];
}

// The histogram must agree with the exact p99 before its speed means anything.
bool CheckAgainstReference(benchmark::State& state) {
  LatencyHistogram h;
  for (uint64_t x : Inputs()) h.Record(x);
  const uint64_t exact = ExactP99(Inputs());
  const uint64_t got = h.ValueAtPercentile(99);
  if (got < exact || got - exact > exact / 1024) {
    state.SkipWithError("histogram p99 disagrees with nth_element");
    return false;
  }
  return true;
}

// The crudest histogram: one counter per power of two, same bookkeeping as LatencyHistogram.
class Log2Histogram {
 public:
  void Record(uint64_t ns) noexcept {
    ++counts_[63 - std::countl_zero(ns | 1)];
    ++count_;
    sum_ += ns;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }
  uint64_t count() const noexcept { return count_; }

 private:
  __extension__ typedef unsigned __int128 Uint128;
  // Same field spacing as LatencyHistogram (min_ and max_ apart) so that GCC does not merge their
  // stores into a vector store that defeats store-to-load forwarding: a fair baseline.
  uint64_t count_ = 0;
  Uint128 sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t counts_[64] = {};
  uint64_t max_ = 0;
};

void BM_HistogramRecord(benchmark::State& state) {
  if (!CheckAgainstReference(state)) return;
  const uint64_t* in = Inputs().data();
  LatencyHistogram h;
  benchmark::DoNotOptimize(&h);
  size_t i = 0;
  for (auto _ : state) {
    h.Record(in[i]);
    i = (i + 1) & kInputMask;
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

// Same counter every time: the store-to-load chain on one counter bounds this one.
void BM_HistogramRecordSameValue(benchmark::State& state) {
  LatencyHistogram h;
  benchmark::DoNotOptimize(&h);
  uint64_t x = 12'345;
  for (auto _ : state) {
    benchmark::DoNotOptimize(x);
    h.Record(x);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordSameValue);

void BM_HistogramRecordBaselineVector(benchmark::State& state) {
  if (!CheckAgainstReference(state)) return;
  const uint64_t* in = Inputs().data();
  constexpr size_t kCapacity = size_t{1} << 20;
  std::vector<uint64_t> samples;
  samples.reserve(kCapacity);
  benchmark::DoNotOptimize(&samples);
  size_t i = 0;
  for (auto _ : state) {
    if (samples.size() == kCapacity) samples.clear();  // never reallocates
    samples.push_back(in[i]);
    i = (i + 1) & kInputMask;
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(samples.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordBaselineVector);

void BM_HistogramRecordBaselineLog2(benchmark::State& state) {
  if (!CheckAgainstReference(state)) return;
  const uint64_t* in = Inputs().data();
  Log2Histogram h;
  benchmark::DoNotOptimize(&h);
  size_t i = 0;
  for (auto _ : state) {
    h.Record(in[i]);
    i = (i + 1) & kInputMask;
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordBaselineLog2);

// One 1 us-interval correction per iteration with a 1 ms stall every 64th sample (~1000 samples
// back-filled across ~200 counters).
void BM_HistogramRecordCorrected(benchmark::State& state) {
  const uint64_t* in = Inputs().data();
  LatencyHistogram h;
  size_t i = 0;
  for (auto _ : state) {
    const uint64_t x = (i & 63) == 0 ? 1'000'000 : in[i] & 1023;
    h.RecordCorrected(x, 1'000);
    i = (i + 1) & kInputMask;
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordCorrected);

// Worst case of the correction: a 100 s stall at a 1 us interval (1e8 samples, ~18k steps).
void BM_HistogramRecordCorrectedStall100s(benchmark::State& state) {
  LatencyHistogram h;
  for (auto _ : state) {
    h.RecordCorrected(100'000'000'000, 1'000);
  }
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordCorrectedStall100s);

// Query cost with 1M samples recorded: histogram walk vs nth_element on the raw samples.
constexpr size_t kQuerySamples = size_t{1} << 20;

void BM_HistogramQueryP99(benchmark::State& state) {
  LatencyHistogram h;
  for (size_t i = 0; i < kQuerySamples; ++i) h.Record(Inputs()[i & kInputMask] + (i >> 12));
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.ValueAtPercentile(99));
  }
}
BENCHMARK(BM_HistogramQueryP99);

void BM_HistogramQueryBaselineNthElement(benchmark::State& state) {
  std::vector<uint64_t> samples(kQuerySamples), work(kQuerySamples);
  for (size_t i = 0; i < kQuerySamples; ++i) samples[i] = Inputs()[i & kInputMask] + (i >> 12);
  const size_t rank = (kQuerySamples * 99 + 99) / 100;
  for (auto _ : state) {
    // nth_element reorders: query a fresh copy each time, as a reporter holding raw samples must.
    std::copy(samples.begin(), samples.end(), work.begin());
    std::nth_element(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(rank - 1),
                     work.end());
    benchmark::DoNotOptimize(work[rank - 1]);
  }
}
BENCHMARK(BM_HistogramQueryBaselineNthElement)->Unit(benchmark::kMicrosecond);

void BM_HistogramSummarize(benchmark::State& state) {
  LatencyHistogram h;
  for (size_t i = 0; i < kQuerySamples; ++i) h.Record(Inputs()[i & kInputMask] + (i >> 12));
  for (auto _ : state) {
    LatencySummary s = h.Summarize();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_HistogramSummarize);

void BM_HistogramMerge(benchmark::State& state) {
  LatencyHistogram a, b;
  for (uint64_t x : Inputs()) b.Record(x);
  b.Record(0);
  b.Record(LatencyHistogram::kMaxTrackable);  // span every counter: the worst case
  for (auto _ : state) {
    a.Merge(b);
  }
  benchmark::DoNotOptimize(a.count());
}
BENCHMARK(BM_HistogramMerge);

}  // namespace
}  // namespace nzeza
