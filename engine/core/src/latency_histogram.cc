#include <nzeza/core/latency_histogram.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

namespace nzeza {
namespace {

// Relative slack when turning p/100 * count into a rank: p = 99.9 is stored
// as 99.90000000000000568, and p/100 * 100000 rounds to 99900.00000000001; without the slack ceil()
// would ask for rank 99901 where every reader means 99900. 1e-12 is far above the few ulps of
// rounding error and far below any fraction a caller can mean for counts below 1e12.
constexpr double kRankSlack = 1e-12;

// max(1, ceil(p/100 * n)) for p in (0, 100), n > 0, clamped to [1, n].
uint64_t RankAtPercentile(double p, uint64_t n) noexcept {
  const double x = p / 100.0 * static_cast<double>(n);
  const double r = std::ceil(x - x * kRankSlack);
  if (!(r >= 1.0)) return 1;
  if (r >= static_cast<double>(n)) return n;
  return std::min(static_cast<uint64_t>(r), n);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(std::make_unique<uint64_t[]>(kCountsLength)) {}

LatencyHistogram::LatencyHistogram(const LatencyHistogram& other)
    : counts_(std::make_unique<uint64_t[]>(kCountsLength)) {
  *this = other;
}

LatencyHistogram& LatencyHistogram::operator=(const LatencyHistogram& other) {
  if (this == &other) return *this;
  if (counts_ == nullptr) {
    counts_ = std::make_unique<uint64_t[]>(kCountsLength);
  } else {
    Reset();
  }
  if (other.count_ != 0) {
    // Counters outside [index(min), index(max)] are zero in both: copy only the used range.
    const size_t first = CountsIndex(std::min(other.min_, kMaxTrackable));
    const size_t last = CountsIndex(std::min(other.max_, kMaxTrackable));
    std::copy(other.counts_.get() + first, other.counts_.get() + last + 1, counts_.get() + first);
  }
  count_ = other.count_;
  min_ = other.min_;
  max_ = other.max_;
  saturated_ = other.saturated_;
  sum_ = other.sum_;
  return *this;
}

LatencyHistogram::LatencyHistogram(LatencyHistogram&& other) noexcept
    : counts_(std::move(other.counts_)),
      count_(other.count_),
      sum_(other.sum_),
      min_(other.min_),
      saturated_(other.saturated_),
      max_(other.max_) {
  other.count_ = 0;
  other.min_ = UINT64_MAX;
  other.max_ = 0;
  other.saturated_ = 0;
  other.sum_ = 0;
}

LatencyHistogram& LatencyHistogram::operator=(LatencyHistogram&& other) noexcept {
  if (this == &other) return *this;
  counts_ = std::move(other.counts_);
  count_ = other.count_;
  min_ = other.min_;
  max_ = other.max_;
  saturated_ = other.saturated_;
  sum_ = other.sum_;
  other.count_ = 0;
  other.min_ = UINT64_MAX;
  other.max_ = 0;
  other.saturated_ = 0;
  other.sum_ = 0;
  return *this;
}

void LatencyHistogram::RecordN(uint64_t ns, uint64_t count) noexcept {
  if (count == 0) return;
  counts_[CountsIndex(std::min(ns, kMaxTrackable))] += count;
  if (ns > kMaxTrackable) saturated_ += count;
  count_ += count;
  sum_ += static_cast<Uint128>(ns) * count;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::RecordCorrected(uint64_t ns, uint64_t expected_interval_ns) noexcept {
  Record(ns);
  const uint64_t interval = expected_interval_ns;
  if (interval == 0 || ns <= interval) return;

  // Back-filled values: x, x - interval, ..., down to the last one >= interval. There are
  // floor(ns / interval) - 1 >= 1 of them, the smallest being interval + ns % interval.
  uint64_t x = ns - interval;
  uint64_t remaining = ns / interval - 1;
  const Uint128 n_all = remaining;
  count_ += remaining;
  sum_ += n_all * x - static_cast<Uint128>(interval) * (n_all * (n_all - 1) / 2);
  min_ = std::min(min_, interval + ns % interval);

  // Walk down bucket by bucket: each step adds every term of the sequence that lands in x's
  // bucket, so the loop runs once per bucket spanned (or once per term where the interval is wider
  // than the buckets), never once per term of a dense run.
  while (remaining > 0) {
    uint64_t lo;
    size_t index;
    bool saturated = x > kMaxTrackable;
    if (saturated) {
      lo = kMaxTrackable + 1;  // the open-ended part of the top bucket
      index = kCountsLength - 1;
    } else {
      index = CountsIndex(x);
      lo = ValueFromIndex(index);
    }
    // Terms of the sequence in [lo, x]; skip the division where the bucket is narrower than the
    // interval (the common case below ~interval * 1024).
    const uint64_t span = x - lo;
    const uint64_t n = span < interval ? 1 : std::min(span / interval + 1, remaining);
    counts_[index] += n;
    if (saturated) saturated_ += n;
    remaining -= n;
    // n terms of value >= interval were taken from x, so x - n * interval >= 0 does not wrap.
    x -= n * interval;
  }
}

void LatencyHistogram::Merge(const LatencyHistogram& other) noexcept {
  if (other.count_ == 0) return;
  const size_t first = CountsIndex(std::min(other.min_, kMaxTrackable));
  const size_t last = CountsIndex(std::min(other.max_, kMaxTrackable));
  if (&other == this) {
    uint64_t* counts = counts_.get();
    for (size_t i = first; i <= last; ++i) counts[i] *= 2;
  } else {
    // Distinct histograms own distinct arrays: tell the vectoriser they do not alias.
    uint64_t* __restrict dst = counts_.get();
    const uint64_t* __restrict src = other.counts_.get();
    for (size_t i = first; i <= last; ++i) dst[i] += src[i];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  saturated_ += other.saturated_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::Reset() noexcept {
  if (count_ != 0 && counts_ != nullptr) {
    const size_t first = CountsIndex(std::min(min_, kMaxTrackable));
    const size_t last = CountsIndex(std::min(max_, kMaxTrackable));
    std::fill(counts_.get() + first, counts_.get() + last + 1, uint64_t{0});
  }
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  saturated_ = 0;
  sum_ = 0;
}

double LatencyHistogram::mean() const noexcept {
  if (count_ == 0) return 0.0;
  return static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t LatencyHistogram::ValueForIndex(size_t index) const noexcept {
  if (index == kCountsLength - 1 && saturated_ != 0) return max_;
  return std::clamp(HighestEquivalentValue(ValueFromIndex(index)), min_, max_);
}

uint64_t LatencyHistogram::ValueAtPercentile(double p) const noexcept {
  if (count_ == 0) return 0;
  if (!(p > 0.0)) return min_;  // also NaN
  if (p >= 100.0) return max_;
  const uint64_t rank = RankAtPercentile(p, count_);
  const size_t first = CountsIndex(std::min(min_, kMaxTrackable));
  const size_t last = CountsIndex(std::min(max_, kMaxTrackable));
  uint64_t seen = 0;
  for (size_t i = first; i < last; ++i) {
    seen += counts_[i];
    if (seen >= rank) return ValueForIndex(i);
  }
  return ValueForIndex(last);
}

LatencySummary LatencyHistogram::Summarize() const noexcept {
  LatencySummary s{};
  if (count_ == 0) return s;
  s.count = count_;
  s.min = min_;
  s.max = max_;
  s.mean = mean();
  s.saturated = saturated_;

  constexpr double kPercentiles[] = {50.0, 90.0, 99.0, 99.9, 99.99};
  uint64_t* const out[] = {&s.p50, &s.p90, &s.p99, &s.p999, &s.p9999};
  constexpr size_t kN = sizeof(kPercentiles) / sizeof(kPercentiles[0]);
  uint64_t ranks[kN];
  for (size_t k = 0; k < kN; ++k) ranks[k] = RankAtPercentile(kPercentiles[k], count_);

  const size_t first = CountsIndex(std::min(min_, kMaxTrackable));
  const size_t last = CountsIndex(std::min(max_, kMaxTrackable));
  size_t k = 0;
  uint64_t seen = 0;
  for (size_t i = first; i <= last && k < kN; ++i) {
    seen += counts_[i];
    for (; k < kN && seen >= ranks[k]; ++k) *out[k] = ValueForIndex(i);
  }
  // Ranks never exceed count_, so every percentile was found by `last`; be safe anyway.
  for (; k < kN; ++k) *out[k] = max_;
  return s;
}

bool LatencyHistogram::operator==(const LatencyHistogram& other) const noexcept {
  if (count_ != other.count_ || sum_ != other.sum_ || min_ != other.min_ || max_ != other.max_ ||
      saturated_ != other.saturated_) {
    return false;
  }
  if (count_ == 0) return true;
  // Same min and max: both have zeros outside the same index range.
  const size_t first = CountsIndex(std::min(min_, kMaxTrackable));
  const size_t last = CountsIndex(std::min(max_, kMaxTrackable));
  return std::equal(counts_.get() + first, counts_.get() + last + 1, other.counts_.get() + first);
}

}  // namespace nzeza
