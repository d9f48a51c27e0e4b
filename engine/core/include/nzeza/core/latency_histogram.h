// LatencyHistogram: a log-linear (HdrHistogram-style) histogram of nanosecond latencies with three
// significant digits from 0 ns to kMaxTrackable (~137 s), O(1) allocation-free recording, merging,
// and percentiles.
//
//   LatencyHistogram hist;                    // allocates its 224 KiB of counters, once
//   hist.Record(clock.NowNanos() - t0);       // hot path: ~2 ns, no allocation
//   hist.RecordCorrected(took_ns, 1'000);     // loop expected every 1 us: back-fills the
//                                             // samples a stall hid (coordinated omission)
//   LatencySummary s = hist.Summarize();      // off the hot path: count, mean, p50..p99.99, max
//
// Why log-linear: values below 2048 ns get a counter each (exact); above that every power-of-two
// range [2^k, 2^(k+1)) is split into 1024 equal sub-buckets, so a bucket's width is at most 1/1024
// of any value in it (better than 3 significant digits) while the whole range needs only 28672
// counters. The bucket of a value is found with one count-leading-zeros and two shifts: no loop, no
// division, no table.
//
// Why a coordinated-omission-aware record: a load generator or timer loop that waits for each
// response before issuing the next stops sampling during a stall, so a 100 ms hiccup shows up as
// one slow sample instead of the 100 000 requests that would have waited behind it.
// RecordCorrected() back-fills those samples with HdrHistogram's recordValueWithExpectedInterval()
// semantics, at a cost bounded by the number of buckets they span rather than by their number.
//
// Thread: one writer. A histogram is not synchronised: readers on other threads must work on a copy
// taken while the writer is stopped (or handed over through a ring), e.g. each stage records into
// its own histogram and the reporter merges copies of them.
#ifndef NZEZA_CORE_LATENCY_HISTOGRAM_H_
#define NZEZA_CORE_LATENCY_HISTOGRAM_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace nzeza {

// What a report needs from one histogram; all values in nanoseconds. Percentiles follow
// LatencyHistogram::ValueAtPercentile(); everything is 0 for an empty histogram.
struct LatencySummary {
  uint64_t count, min, max, p50, p90, p99, p999, p9999;
  double mean;
  uint64_t saturated;
};

// Log-linear histogram of nanosecond values, see the file comment.
//
// Thread: single writer; not synchronised (see the file comment).
// Allocates: once, in the constructor (kCountsLength uint64 counters = 224 KiB), and on copy
// construction; never when recording, merging, resetting or querying. Allocation failure
// terminates (std::bad_alloc escapes a constructor; the project treats it as fatal).
// Lifetime: a moved-from histogram is empty and may only be destroyed, assigned to, or queried
// (count(), ValueAtPercentile() ... return the empty answers); Record*() and Merge() into it are
// undefined.
class LatencyHistogram {
 public:
  // Values below kSubBucketCount are recorded exactly.
  static constexpr int kSubBucketBits = 11;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;  // 2048
  static constexpr int kSubBucketHalfBits = kSubBucketBits - 1;
  static constexpr uint64_t kSubBucketHalfCount = uint64_t{1} << kSubBucketHalfBits;  // 1024
  // Power-of-two buckets: bucket 0 holds [0, 2048) at width 1; bucket b >= 1 holds
  // [2^(b+10), 2^(b+11)) at width 2^b.
  static constexpr int kBucketCount = 27;
  // Largest value kept in its own bucket: 2^37 - 1 ns, about 137.4 s. Larger values are counted in
  // the top bucket and in saturated_count(); count, min, max and mean still see the exact value.
  static constexpr uint64_t kMaxTrackable =
      (uint64_t{1} << (kBucketCount + kSubBucketHalfBits)) - 1;
  // Number of counters: 28672.
  static constexpr size_t kCountsLength = (kBucketCount + 1) * kSubBucketHalfCount;

  // Empty histogram. Allocates its counters (224 KiB, zeroed) once.
  LatencyHistogram();
  // Deep copy. Allocates (unless assigning to a histogram that already owns counters).
  LatencyHistogram(const LatencyHistogram& other);
  LatencyHistogram& operator=(const LatencyHistogram& other);
  // Steals the counters; `other` is left empty without counters (see Lifetime above).
  LatencyHistogram(LatencyHistogram&& other) noexcept;
  LatencyHistogram& operator=(LatencyHistogram&& other) noexcept;
  ~LatencyHistogram() = default;

  // Records one value.
  // Complexity: O(1): one clz, two shifts, one counter increment, count/sum/min/max updates.
  // Errors: none; values above kMaxTrackable land in the top bucket and count in saturated_count().
  void Record(uint64_t ns) noexcept {
    uint64_t clamped = ns;
    if (ns > kMaxTrackable) {  // predictable; keeps saturated_ out of the common path's stores
      clamped = kMaxTrackable;
      ++saturated_;
    }
    ++counts_[CountsIndex(clamped)];
    ++count_;
    sum_ += ns;
    min_ = std::min(min_, ns);
    max_ = std::max(max_, ns);
  }

  // Records `count` copies of `ns` (nothing when count is 0). O(1).
  void RecordN(uint64_t ns, uint64_t count) noexcept;

  // Coordinated-omission correction, HdrHistogram's recordValueWithExpectedInterval(): records `ns`
  // and, when expected_interval_ns > 0 and ns > expected_interval_ns, also the values
  // ns - k * expected_interval_ns for k = 1, 2, ... while they stay >= expected_interval_ns; in all
  // floor(ns / expected_interval_ns) samples. The back-filled arithmetic sequence is added bucket
  // by bucket (one division per bucket), never value by value.
  // Complexity: O(min(ns / interval, buckets between interval and ns)), at most one step per
  // counter; a 100 s stall with a 1 us interval takes ~18k steps for its 1e8 samples. Errors: none;
  // saturation as for Record().
  void RecordCorrected(uint64_t ns, uint64_t expected_interval_ns) noexcept;

  // Adds every sample of `other` to this histogram (other may be *this: doubles every count).
  // Complexity: O(buckets between other.min() and other.max()), vectorised adds.
  void Merge(const LatencyHistogram& other) noexcept;

  // Forgets every sample; keeps the counters' memory.
  // Complexity: O(buckets between min() and max()).
  void Reset() noexcept;

  // Number of samples recorded (corrected back-fills included).
  [[nodiscard]] uint64_t count() const noexcept { return count_; }
  // Exact smallest and largest recorded values; 0 when empty.
  [[nodiscard]] uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  [[nodiscard]] uint64_t max() const noexcept { return max_; }
  // Exact mean of the recorded values (the sum is kept in 128 bits); 0 when empty.
  [[nodiscard]] double mean() const noexcept;
  // Samples above kMaxTrackable (clamped into the top bucket).
  [[nodiscard]] uint64_t saturated_count() const noexcept { return saturated_; }

  // Value at percentile p in [0, 100] (out-of-range p is clamped, NaN reads as 0): the
  // highest-equivalent value of the lowest bucket such that at least max(1, ceil(p/100 * count()))
  // samples are <= it, clamped to [min(), max()]. The result is therefore >= the exact percentile
  // of the samples and within its bucket (exact below 2048 ns, else at most 1/1024 above it);
  // p = 0 gives min() and p = 100 gives max() exactly. When the answer falls in the top bucket and
  // samples saturated, returns max() (the bucket is open-ended). 0 when empty.
  // Complexity: O(buckets between min() and max()), at most 28672 counter reads.
  [[nodiscard]] uint64_t ValueAtPercentile(double p) const noexcept;

  // count, min, max, p50, p90, p99, p99.9, p99.99, mean and saturated in one pass over the
  // counters.
  [[nodiscard]] LatencySummary Summarize() const noexcept;

  // Number of samples in the bucket holding `ns` (values above kMaxTrackable: the top bucket).
  [[nodiscard]] uint64_t CountAtValue(uint64_t ns) const noexcept {
    return counts_[CountsIndex(std::min(ns, kMaxTrackable))];
  }

  // Calls fn(lowest, highest, count) for every non-empty bucket in increasing order, e.g. to export
  // Prometheus buckets. `highest` of the top bucket is kMaxTrackable even when samples saturated.
  template <typename Fn>
  void ForEachBucket(Fn&& fn) const {
    if (count_ == 0) return;
    const size_t last = CountsIndex(std::min(max_, kMaxTrackable));
    for (size_t i = CountsIndex(std::min(min_, kMaxTrackable)); i <= last; ++i) {
      if (counts_[i] != 0) {
        const uint64_t lo = ValueFromIndex(i);
        fn(lo, HighestEquivalentValue(lo), counts_[i]);
      }
    }
  }

  // The smallest and largest values sharing ns's bucket (values above kMaxTrackable are treated as
  // kMaxTrackable). Below 2048 both are ns; above, Highest - Lowest + 1 <= ns / 1024.
  [[nodiscard]] static uint64_t LowestEquivalentValue(uint64_t ns) noexcept {
    const uint64_t v = std::min(ns, kMaxTrackable);
    const int shift = BucketIndex(v);
    return (v >> shift) << shift;
  }
  [[nodiscard]] static uint64_t HighestEquivalentValue(uint64_t ns) noexcept {
    const uint64_t v = std::min(ns, kMaxTrackable);
    const int shift = BucketIndex(v);
    return ((v >> shift) << shift) + ((uint64_t{1} << shift) - 1);
  }

  // Same samples: every counter, count, sum, min, max and saturated count equal.
  [[nodiscard]] bool operator==(const LatencyHistogram& other) const noexcept;

  // Bytes owned on the heap (the counters).
  [[nodiscard]] static constexpr size_t HeapBytes() noexcept {
    return kCountsLength * sizeof(uint64_t);
  }

 private:
  // Exact unsigned 128-bit integer (GCC and Clang extension).
  __extension__ typedef unsigned __int128 Uint128;

  // Power-of-two bucket of v <= kMaxTrackable: 0 for v < 2048, else floor(log2(v)) - 10. It is also
  // the bucket width's log2.
  static int BucketIndex(uint64_t v) noexcept {
    return (64 - kSubBucketHalfBits - 1) - std::countl_zero(v | (kSubBucketCount - 1));
  }
  // Counter index of v <= kMaxTrackable: bucket b, sub-bucket v >> b in [1024, 2048) (or [0, 2048)
  // for b = 0), laid out so that index = b * 1024 + (v >> b) is monotonic in v.
  static size_t CountsIndex(uint64_t v) noexcept {
    const int b = BucketIndex(v);
    return (static_cast<size_t>(b) << kSubBucketHalfBits) + static_cast<size_t>(v >> b);
  }
  // Lowest value of counter `index`.
  static uint64_t ValueFromIndex(size_t index) noexcept {
    if (index < kSubBucketCount) return index;
    const int b = static_cast<int>(index >> kSubBucketHalfBits) - 1;
    return static_cast<uint64_t>(index - (static_cast<size_t>(b) << kSubBucketHalfBits)) << b;
  }
  // Answer for the counter where a percentile walk stopped (see ValueAtPercentile()).
  uint64_t ValueForIndex(size_t index) const noexcept;

  // Field order matters for Record(): with min_ and max_ adjacent, GCC merges their stores into one
  // vector store, and the next Record()'s 8-byte reloads then miss store-to-load forwarding
  // (measured: 5 ns instead of 2 ns per Record with the state in memory). saturated_, written
  // only on saturation, keeps them apart.
  std::unique_ptr<uint64_t[]> counts_;
  uint64_t count_ = 0;
  Uint128 sum_ = 0;
  uint64_t min_ = UINT64_MAX;  // UINT64_MAX while empty
  uint64_t saturated_ = 0;
  uint64_t max_ = 0;
};

}  // namespace nzeza

#endif  // NZEZA_CORE_LATENCY_HISTOGRAM_H_
