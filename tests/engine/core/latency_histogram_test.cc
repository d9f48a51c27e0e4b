#include <nzeza/core/latency_histogram.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "../../common/counting_allocator.h"

namespace nzeza {
namespace {

using H = LatencyHistogram;
__extension__ typedef unsigned __int128 U128;

constexpr uint64_t kSecond = 1'000'000'000;

// A percentile as an exact fraction, so the reference rank is computed in integers.
struct Pct {
  double p;
  uint64_t num;
  uint64_t den;
};
constexpr Pct kPcts[] = {{0, 0, 1},         {50, 1, 2},           {90, 9, 10}, {99, 99, 100},
                         {99.9, 999, 1000}, {99.99, 9999, 10000}, {100, 1, 1}};

// sorted[ceil(p/100 * n) - 1]; p = 0 gives the minimum.
uint64_t ExactPercentile(const std::vector<uint64_t>& sorted, const Pct& pct) {
  const uint64_t n = sorted.size();
  uint64_t rank = (static_cast<U128>(pct.num) * n + pct.den - 1) / pct.den;
  rank = std::max<uint64_t>(rank, 1);
  return sorted[rank - 1];
}

// The histogram's answer must be within the exact value's bucket, at or above the exact value.
void ExpectMatchesExact(const H& h, std::vector<uint64_t> samples, const std::string& name) {
  std::sort(samples.begin(), samples.end());
  const LatencySummary s = h.Summarize();
  const uint64_t from_summary[] = {s.min, s.p50, s.p90, s.p99, s.p999, s.p9999, s.max};
  for (size_t i = 0; i < std::size(kPcts); ++i) {
    const Pct& pct = kPcts[i];
    const uint64_t exact = ExactPercentile(samples, pct);
    const uint64_t got = h.ValueAtPercentile(pct.p);
    SCOPED_TRACE(name + " p" + std::to_string(pct.p) + " exact " + std::to_string(exact) + " got " +
                 std::to_string(got));
    EXPECT_GE(got, H::LowestEquivalentValue(exact));
    EXPECT_GE(got, exact);
    if (exact < H::kSubBucketCount) {
      EXPECT_EQ(got, exact);
    } else {
      EXPECT_LE(got - exact, exact / 1024);
    }
    EXPECT_EQ(from_summary[i], got) << "Summarize() disagrees with ValueAtPercentile()";
  }
  EXPECT_EQ(h.ValueAtPercentile(0), samples.front());
  EXPECT_EQ(h.ValueAtPercentile(100), samples.back());
}

H FromSamples(const std::vector<uint64_t>& samples) {
  H h;
  for (uint64_t v : samples) h.Record(v);
  return h;
}

// ----------------------------------------------------------------------------------------------

TEST(LatencyHistogram, Geometry) {
  EXPECT_EQ(H::kMaxTrackable, (uint64_t{1} << 37) - 1);
  EXPECT_GT(H::kMaxTrackable, 100 * kSecond);
  EXPECT_EQ(H::kCountsLength, 28672u);
  EXPECT_EQ(H::HeapBytes(), 28672u * 8);
  EXPECT_EQ(H::LowestEquivalentValue(2047), 2047u);
  EXPECT_EQ(H::HighestEquivalentValue(2047), 2047u);
  EXPECT_EQ(H::LowestEquivalentValue(2049), 2048u);
  EXPECT_EQ(H::HighestEquivalentValue(2048), 2049u);
  EXPECT_EQ(H::LowestEquivalentValue(4095), 4094u);
  EXPECT_EQ(H::HighestEquivalentValue(4096), 4099u);
  EXPECT_EQ(H::HighestEquivalentValue(H::kMaxTrackable), H::kMaxTrackable);
  EXPECT_EQ(H::LowestEquivalentValue(H::kMaxTrackable), H::kMaxTrackable - (1u << 26) + 1);
  EXPECT_EQ(H::HighestEquivalentValue(UINT64_MAX), H::kMaxTrackable);
}

TEST(LatencyHistogram, ThreeSignificantDigitsFrom10nsTo100s) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  for (double v = 10; v <= 100.0 * kSecond; v *= 1.0007) values.push_back(static_cast<uint64_t>(v));
  for (int i = 0; i < 200000; ++i) {
    values.push_back(10 + rng() % (100 * kSecond));
    values.push_back(static_cast<uint64_t>(std::exp2(3.33 + 33.2 * (rng() % 100000) / 1e5)));
  }
  for (int k = 4; k < 37; ++k) {
    for (int d = -2; d <= 2; ++d) values.push_back((uint64_t{1} << k) + d);
  }
  for (uint64_t v : values) {
    const uint64_t lo = H::LowestEquivalentValue(v);
    const uint64_t hi = H::HighestEquivalentValue(v);
    ASSERT_LE(lo, v) << v;
    ASSERT_GE(hi, v) << v;
    ASSERT_LE(hi - lo, v / 1000) << v;
    // Buckets tile the line: the next bucket starts right after this one.
    ASSERT_EQ(H::LowestEquivalentValue(hi + 1), hi + 1) << v;
    ASSERT_EQ(H::LowestEquivalentValue(lo), lo) << v;
  }
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesUniform) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<uint64_t> d(10, 10'000);
  std::vector<uint64_t> s(100'003);
  for (uint64_t& v : s) v = d(rng);
  ExpectMatchesExact(FromSamples(s), s, "uniform");
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesSmallExactRange) {
  std::mt19937_64 rng(2);
  std::uniform_int_distribution<uint64_t> d(0, 3000);  // straddles the exact/linear boundary
  std::vector<uint64_t> s(100'000);
  for (uint64_t& v : s) v = d(rng);
  ExpectMatchesExact(FromSamples(s), s, "small");
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesLogNormal) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(20'000.0), 1.2);
  std::vector<uint64_t> s(200'000);
  for (uint64_t& v : s) v = static_cast<uint64_t>(d(rng));
  ExpectMatchesExact(FromSamples(s), s, "lognormal");
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesBimodal) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> fast(800, 50), slow(50'000, 5'000);
  std::bernoulli_distribution is_slow(0.3);
  std::vector<uint64_t> s(150'001);
  for (uint64_t& v : s)
    v = static_cast<uint64_t>(std::max(0.0, is_slow(rng) ? slow(rng) : fast(rng)));
  ExpectMatchesExact(FromSamples(s), s, "bimodal");
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesHeavyTailTo100s) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<uint64_t> s(300'000);
  for (uint64_t& v : s) {
    // Pareto, alpha 0.8, from 1 us, clamped at 100 s.
    const double x = 1'000.0 / std::pow(1.0 - u(rng), 1.0 / 0.8);
    v = static_cast<uint64_t>(std::min(x, 100.0 * kSecond));
  }
  s.push_back(100 * kSecond);
  const H h = FromSamples(s);
  EXPECT_EQ(h.saturated_count(), 0u);
  ExpectMatchesExact(h, s, "heavy-tail");
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesConstant) {
  std::vector<uint64_t> s(100'000, 123'457);
  const H h = FromSamples(s);
  for (const Pct& pct : kPcts) EXPECT_EQ(h.ValueAtPercentile(pct.p), 123'457u) << pct.p;
  ExpectMatchesExact(h, s, "constant");
}

TEST(LatencyHistogram, CountMinMaxMeanExact) {
  std::mt19937_64 rng(6);
  H h;
  U128 sum = 0;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (int i = 0; i < 100'000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    h.Record(v);
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.min(), lo);
  EXPECT_EQ(h.max(), hi);
  EXPECT_DOUBLE_EQ(h.mean(), static_cast<double>(sum) / 100'000.0);
  // The sum cannot overflow: two maximal values average to themselves.
  H big;
  big.Record(UINT64_MAX);
  big.RecordN(UINT64_MAX, 3);
  EXPECT_EQ(big.count(), 4u);
  EXPECT_DOUBLE_EQ(big.mean(), static_cast<double>(UINT64_MAX));
  EXPECT_EQ(big.Summarize().mean, big.mean());
}

TEST(LatencyHistogram, RecordNEqualsRepeatedRecord) {
  H a, b;
  const uint64_t values[] = {0, 5, 2047, 2048, 99'999, H::kMaxTrackable, H::kMaxTrackable + 1};
  for (uint64_t v : values) {
    a.RecordN(v, 7);
    for (int i = 0; i < 7; ++i) b.Record(v);
  }
  a.RecordN(42, 0);  // no-op: must not move min
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.min(), 0u);
  EXPECT_EQ(a.saturated_count(), 7u);
}

TEST(LatencyHistogram, MergeEqualsRecordingIntoOne) {
  std::mt19937_64 rng(8);
  std::lognormal_distribution<double> d1(std::log(5'000.0), 1.0), d2(std::log(1e8), 2.0);
  H a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    const uint64_t x = static_cast<uint64_t>(d1(rng));
    const uint64_t y = static_cast<uint64_t>(d2(rng)) + (i == 0 ? H::kMaxTrackable : 0);
    a.Record(x);
    b.Record(y);
    all.Record(x);
    all.Record(y);
  }
  H merged = a;
  merged.Merge(b);
  EXPECT_TRUE(merged == all);
  EXPECT_EQ(merged.Summarize().p99, all.Summarize().p99);
  EXPECT_EQ(merged.saturated_count(), all.saturated_count());
  EXPECT_GE(merged.saturated_count(), 1u);
  // Order does not matter; merging empty changes nothing; self-merge doubles.
  H other = b;
  other.Merge(a);
  EXPECT_TRUE(other == all);
  other.Merge(H());
  EXPECT_TRUE(other == all);
  H doubled = all;
  doubled.Merge(all);
  H self = all;
  self.Merge(self);
  EXPECT_TRUE(self == doubled);
  EXPECT_EQ(self.count(), 2 * all.count());
  // Into an empty histogram.
  H empty;
  empty.Merge(a);
  EXPECT_TRUE(empty == a);
}

TEST(LatencyHistogram, Reset) {
  H h;
  for (uint64_t v = 0; v < 100'000; v += 7) h.Record(v * 1'013);
  h.Record(UINT64_MAX);
  h.Reset();
  EXPECT_TRUE(h == H());
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.saturated_count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  int buckets = 0;
  h.ForEachBucket([&](uint64_t, uint64_t, uint64_t) { ++buckets; });
  EXPECT_EQ(buckets, 0);
  h.Record(1'234);
  EXPECT_EQ(h.ValueAtPercentile(50), 1'234u);
  EXPECT_EQ(h.CountAtValue(1'234), 1u);
  EXPECT_EQ(h.CountAtValue(5'000'000), 0u);
}

TEST(LatencyHistogram, Empty) {
  const H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.saturated_count(), 0u);
  for (const Pct& pct : kPcts) EXPECT_EQ(h.ValueAtPercentile(pct.p), 0u);
  const LatencySummary s = h.Summarize();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.min, 0u);
  EXPECT_EQ(s.max, 0u);
  EXPECT_EQ(s.p50 | s.p90 | s.p99 | s.p999 | s.p9999 | s.saturated, 0u);
  EXPECT_EQ(s.mean, 0.0);
}

TEST(LatencyHistogram, SaturationAboveMaxTrackable) {
  H h;
  h.Record(1'000);
  h.Record(H::kMaxTrackable);
  h.Record(H::kMaxTrackable + 1);
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.saturated_count(), 2u);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.CountAtValue(H::kMaxTrackable), 3u);
  EXPECT_EQ(h.CountAtValue(UINT64_MAX), 3u);
  EXPECT_EQ(h.ValueAtPercentile(100), UINT64_MAX);
  // The top bucket is open-ended once values saturated: answer the exact max, never less.
  EXPECT_EQ(h.ValueAtPercentile(60), UINT64_MAX);
  EXPECT_EQ(h.ValueAtPercentile(25), 1'000u);
  EXPECT_EQ(h.Summarize().saturated, 2u);
  // Without saturation the top bucket is an ordinary bucket.
  H top;
  top.Record(H::kMaxTrackable - 5);
  top.Record(H::kMaxTrackable - 3);
  EXPECT_EQ(top.ValueAtPercentile(50), H::kMaxTrackable - 3);  // clamped to max()
  EXPECT_EQ(top.saturated_count(), 0u);
}

TEST(LatencyHistogram, ValueZero) {
  H h;
  h.Record(0);
  h.Record(0);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.CountAtValue(0), 2u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  EXPECT_EQ(h.ValueAtPercentile(100), 0u);
  h.Record(3);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  EXPECT_EQ(h.ValueAtPercentile(67), 3u);
}

TEST(LatencyHistogram, PercentileArgumentOutOfRange) {
  H h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v * 10'000);
  EXPECT_EQ(h.ValueAtPercentile(-5), 10'000u);
  EXPECT_EQ(h.ValueAtPercentile(std::nan("")), 10'000u);
  EXPECT_EQ(h.ValueAtPercentile(250), 1'000'000u);
  EXPECT_EQ(h.ValueAtPercentile(1e-9), H::HighestEquivalentValue(10'000));
}

TEST(LatencyHistogram, CopyAndMove) {
  std::mt19937_64 rng(9);
  H a;
  for (int i = 0; i < 10'000; ++i) a.Record(rng() % 10'000'000);
  const H reference = a;
  H copy(a);
  EXPECT_TRUE(copy == a);
  copy.Record(5);  // deep copy: the original does not see it
  EXPECT_FALSE(copy == a);
  EXPECT_TRUE(a == reference);

  H assigned;
  assigned.Record(77'777'777);  // overwritten, including its counters
  assigned = a;
  EXPECT_TRUE(assigned == a);
  const H& alias = assigned;
  assigned = alias;  // self-assignment
  EXPECT_TRUE(assigned == a);

  H moved(std::move(a));
  EXPECT_TRUE(moved == reference);
  EXPECT_EQ(a.count(), 0u);  // NOLINT(bugprone-use-after-move): documented moved-from state
  EXPECT_EQ(a.ValueAtPercentile(50), 0u);
  H move_assigned;
  move_assigned = std::move(moved);
  EXPECT_TRUE(move_assigned == reference);
  // A moved-from histogram can be assigned to and used again.
  a = reference;
  EXPECT_TRUE(a == reference);
  a.Record(1);
  EXPECT_EQ(a.count(), reference.count() + 1);
  moved = H();
  moved.Record(3);
  EXPECT_EQ(moved.count(), 1u);
}

TEST(LatencyHistogram, ForEachBucketVisitsEveryNonEmptyBucketInOrder) {
  H h;
  const uint64_t values[] = {0, 1, 2047, 2048, 2049, 1'000'000, 1'000'001, 50 * kSecond};
  for (uint64_t v : values) h.Record(v);
  uint64_t total = 0, prev_hi = 0, buckets = 0;
  bool first = true;
  h.ForEachBucket([&](uint64_t lo, uint64_t hi, uint64_t n) {
    EXPECT_TRUE(first || lo > prev_hi);
    EXPECT_EQ(lo, H::LowestEquivalentValue(lo));
    EXPECT_EQ(hi, H::HighestEquivalentValue(lo));
    first = false;
    prev_hi = hi;
    total += n;
    ++buckets;
  });
  EXPECT_EQ(total, h.count());
  EXPECT_EQ(buckets, 6u);  // 2048/2049 and 1'000'000/1'000'001 share buckets
}

// HdrHistogram's recordValueWithExpectedInterval(), one record per value.
void NaiveRecordCorrected(H& h, uint64_t ns, uint64_t interval) {
  h.Record(ns);
  if (interval == 0 || ns <= interval) return;
  for (uint64_t missing = ns - interval; missing >= interval; missing -= interval)
    h.Record(missing);
}

TEST(LatencyHistogram, RecordCorrectedEqualsNaiveLoop) {
  std::mt19937_64 rng(10);
  H fast, naive;
  int cases = 0;
  auto check = [&](uint64_t ns, uint64_t interval) {
    fast.RecordCorrected(ns, interval);
    NaiveRecordCorrected(naive, ns, interval);
    ++cases;
    ASSERT_TRUE(fast == naive) << "ns " << ns << " interval " << interval;
  };
  // Edges.
  check(0, 0);
  check(100, 0);
  check(100, 100);
  check(100, 101);
  check(200, 100);
  check(201, 100);
  check(2047, 1);
  check(5000, 1);
  check(4096, 2);
  check(H::kMaxTrackable + 3 * 10'000'000'000ull, 10'000'000'000ull);  // saturated back-fill
  check(UINT64_MAX, UINT64_MAX / 5000);
  check(UINT64_MAX, UINT64_MAX - 1);
  // Random pairs, at most ~20k naive records each, intervals from 1 ns to seconds.
  for (int i = 0; i < 3'000 && !HasFatalFailure(); ++i) {
    const uint64_t interval = std::max<uint64_t>(1, rng() >> (rng() % 64));
    const uint64_t max_k = 1 + rng() % 20'000;
    const uint64_t ns = interval > UINT64_MAX / max_k ? UINT64_MAX - rng() % 1000
                                                      : interval * max_k + rng() % interval;
    check(ns, interval);
  }
  EXPECT_GT(cases, 3'000);
  EXPECT_GT(fast.saturated_count(), 0u);
  for (const Pct& pct : kPcts)
    EXPECT_EQ(fast.ValueAtPercentile(pct.p), naive.ValueAtPercentile(pct.p));
}

TEST(LatencyHistogram, RecordCorrectedHugeStallIsFast) {
  H h;
  const uint64_t ns = 100 * kSecond, interval = 1'000;
  const auto start = std::chrono::steady_clock::now();
  h.RecordCorrected(ns, interval);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(100));  // ~20k bucket steps, not 1e8 records
  EXPECT_EQ(h.count(), ns / interval);
  EXPECT_EQ(h.min(), interval);
  EXPECT_EQ(h.max(), ns);
  EXPECT_DOUBLE_EQ(h.mean(), (static_cast<double>(ns) + interval) / 2);
  // The back-fill is uniform on [1 us, 100 s]: p50 ~ 50 s, p99 ~ 99 s.
  EXPECT_NEAR(static_cast<double>(h.ValueAtPercentile(50)), 50.0 * kSecond, 50.0 * kSecond / 1024);
  EXPECT_NEAR(static_cast<double>(h.ValueAtPercentile(99)), 99.0 * kSecond, 99.0 * kSecond / 1024);
  uint64_t total = 0;
  h.ForEachBucket([&](uint64_t, uint64_t, uint64_t n) { total += n; });
  EXPECT_EQ(total, h.count());
}

TEST(LatencyHistogram, NoAllocationOnRecordMergeOrQuery) {
  H h, other, target;
  other.Record(5);
  target.Record(7);
  std::vector<uint64_t> values(10'000);
  std::mt19937_64 rng(11);
  for (uint64_t& v : values) v = rng() >> (rng() % 64);

  const uint64_t before = nzeza::testing::AllocationCount();
  for (uint64_t v : values) h.Record(v);
  h.RecordN(12'345, 10);
  h.RecordCorrected(100 * kSecond, 1'000);
  h.RecordCorrected(UINT64_MAX, 3);
  other.Merge(h);
  uint64_t sink = h.ValueAtPercentile(99.9) + h.ValueAtPercentile(50);
  const LatencySummary s = h.Summarize();
  sink += s.p9999 + static_cast<uint64_t>(h.mean()) + h.CountAtValue(1000);
  h.ForEachBucket([&](uint64_t, uint64_t, uint64_t n) { sink += n; });
  target = h;  // copy-assign onto a histogram that owns counters: no allocation
  H moved(std::move(other));
  other = std::move(moved);
  sink += static_cast<uint64_t>(h == target);
  h.Reset();
  const uint64_t after = nzeza::testing::AllocationCount();

  EXPECT_EQ(after - before, 0u) << "sink " << sink;
  EXPECT_GT(target.count(), 0u);
  // The counter is live: constructing a histogram allocates.
  const uint64_t before_ctor = nzeza::testing::AllocationCount();
  const H fresh;
  EXPECT_GE(nzeza::testing::AllocationCount() - before_ctor, 1u);
  EXPECT_EQ(fresh.count(), 0u);
}

}  // namespace
}  // namespace nzeza
