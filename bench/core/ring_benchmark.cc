// SPSC ring throughput and round-trip latency: nzeza's SpscRing against boost::lockfree::spsc_queue
// and moodycamel::ReaderWriterQueue in the same binary, plus a bare cache-line ping-pong as the
// physical floor of any cross-core hand-off.
//
// Threads: the benchmark thread is the producer (pinned to the first allowed CPU), a peer thread
// the consumer (pinned to the second). With one CPU they share it and the figures mean little.
// Each consumer checks every value against the expected sequence; a mismatch fails the benchmark.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <readerwriterqueue/readerwriterqueue.h>
#include <boost/lockfree/spsc_queue.hpp>

#include "nzeza/core/clock.h"
#include "nzeza/core/cpu.h"
#include "nzeza/core/spsc_ring.h"

namespace nzeza {
namespace {

constexpr size_t kCapacity = 4096;

template <size_t kBytes>
struct Payload {
  static_assert(kBytes % 8 == 0);
  uint64_t word[kBytes / 8];
  uint64_t seq() const { return word[0]; }
  static Payload Make(uint64_t s) {
    Payload p;
    for (uint64_t& w : p.word) w = s;
    return p;
  }
  bool Valid(uint64_t s) const {
    for (uint64_t w : word) {
      if (w != s) return false;
    }
    return true;
  }
};

template <typename T>
struct NzezaQueue {
  static constexpr const char* kName = "Nzeza";
  SpscRing<T> q{kCapacity};
  bool Push(const T& v) { return q.try_push(v); }
  bool Pop(T& v) { return q.try_pop(v); }
};

// The classic cached-index layout (rigtorp/SPSCQueue's design) on any element size: the reference
// that shows what the per-slot sequence buys for small elements.
template <typename T>
struct IndexRingQueue {
  SpscRing<T, RingLayout::kCachedIndex> q{kCapacity};
  bool Push(const T& v) { return q.try_push(v); }
  bool Pop(T& v) { return q.try_pop(v); }
};

template <typename T>
struct BoostLockfreeQueue {
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<kCapacity>> q;
  bool Push(const T& v) { return q.push(v); }
  bool Pop(T& v) { return q.pop(v); }
};

template <typename T>
struct MoodycamelRwqQueue {
  moodycamel::ReaderWriterQueue<T> q{kCapacity};
  bool Push(const T& v) { return q.try_enqueue(v); }  // try_: never allocates
  bool Pop(T& v) { return q.try_dequeue(v); }
};

struct CpuPair {
  int producer = -1;
  int consumer = -1;
};

CpuPair PickCpus() {
  const std::vector<int> cpus = AllowedCpus();
  CpuPair p;
  if (cpus.size() >= 2) {
    p.producer = cpus[0];
    p.consumer = cpus[1];
  }
  return p;
}

void PinOrIgnore(int cpu) {
  if (cpu >= 0) (void)PinCurrentThread(cpu);
}

// ---- throughput ----

template <template <typename> class Queue, size_t kBytes>
void BM_RingThroughput(benchmark::State& state) {
  using T = Payload<kBytes>;
  const CpuPair cpus = PickCpus();
  PinOrIgnore(cpus.producer);
  auto queue = std::make_unique<Queue<T>>();
  std::atomic<uint64_t> total{~0ull};
  std::atomic<bool> bad{false};
  std::thread consumer([&] {
    PinOrIgnore(cpus.consumer);
    uint64_t expect = 0;
    T v;
    for (;;) {
      if (queue->Pop(v)) {
        if (!v.Valid(expect)) bad.store(true, std::memory_order_relaxed);
        ++expect;
      } else if (expect == total.load(std::memory_order_acquire)) {
        break;
      } else {
        CpuRelax();
      }
    }
  });
  uint64_t seq = 0;
  for (auto _ : state) {
    const T v = T::Make(seq);
    while (!queue->Push(v)) CpuRelax();
    ++seq;
  }
  total.store(seq, std::memory_order_release);
  consumer.join();
  if (bad.load()) state.SkipWithError("consumer saw a corrupt or out-of-order element");
  state.SetItemsProcessed(static_cast<int64_t>(seq));
  state.SetBytesProcessed(static_cast<int64_t>(seq * kBytes));
}

// Batched: the producer pushes runs of 32, the consumer drains up to 32 per index publish.
template <size_t kBytes>
void BM_RingThroughputNzezaBatch(benchmark::State& state) {
  using T = Payload<kBytes>;
  constexpr size_t kBatch = 32;
  const CpuPair cpus = PickCpus();
  PinOrIgnore(cpus.producer);
  auto ring = std::make_unique<SpscRing<T>>(kCapacity);
  std::atomic<uint64_t> total{~0ull};
  std::atomic<bool> bad{false};
  std::thread consumer([&] {
    PinOrIgnore(cpus.consumer);
    uint64_t expect = 0;
    for (;;) {
      const size_t n = ring->drain(
          [&](T& v) {
            if (!v.Valid(expect)) bad.store(true, std::memory_order_relaxed);
            ++expect;
          },
          kBatch);
      if (n == 0) {
        if (expect == total.load(std::memory_order_acquire)) break;
        CpuRelax();
      }
    }
  });
  uint64_t seq = 0;
  T batch[kBatch];
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) batch[i] = T::Make(seq + i);
    size_t done = 0;
    while (done < kBatch) {
      const size_t n = ring->push_n(batch + done, kBatch - done);
      if (n == 0) CpuRelax();
      done += n;
    }
    seq += kBatch;
  }
  total.store(seq, std::memory_order_release);
  consumer.join();
  if (bad.load()) state.SkipWithError("consumer saw a corrupt or out-of-order element");
  state.SetItemsProcessed(static_cast<int64_t>(seq));
  state.SetBytesProcessed(static_cast<int64_t>(seq * kBytes));
}

// ---- round trip ----

// Reports the median and p99 of per-iteration round trips (ns) as counters.
class RoundTrips {
 public:
  explicit RoundTrips(benchmark::State& state) {
    samples_.reserve(std::min<uint64_t>(state.max_iterations, 50'000'000));
    absl::StatusOr<TscClock> clock = TscClock::Calibrate();
    clock_ = clock.ok() ? *clock : TscClock::Fallback();
  }
  uint64_t Now() const { return clock_.NowTicks(); }
  void Add(uint64_t ticks) {
    if (samples_.size() < samples_.capacity()) samples_.push_back(ticks);
  }
  void Report(benchmark::State& state) {
    if (samples_.empty()) return;
    auto at = [&](double q) {
      const size_t k = std::min(samples_.size() - 1, static_cast<size_t>(q * samples_.size()));
      std::nth_element(samples_.begin(), samples_.begin() + k, samples_.end());
      return static_cast<double>(clock_.TickDeltaToNanos(samples_[k]));
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
  }

 private:
  std::vector<uint64_t> samples_;
  TscClock clock_ = TscClock::Fallback();
};

template <template <typename> class Queue>
void BM_RingRoundTrip(benchmark::State& state) {
  using T = Payload<8>;
  const CpuPair cpus = PickCpus();
  PinOrIgnore(cpus.producer);
  auto ping = std::make_unique<Queue<T>>();
  auto pong = std::make_unique<Queue<T>>();
  std::atomic<bool> stop{false};
  std::atomic<bool> bad{false};
  std::thread echo([&] {
    PinOrIgnore(cpus.consumer);
    T v;
    while (!stop.load(std::memory_order_relaxed)) {
      if (ping->Pop(v)) {
        while (!pong->Push(v)) CpuRelax();
      }
    }
  });
  RoundTrips rt(state);
  uint64_t seq = 0;
  for (auto _ : state) {
    const uint64_t t0 = rt.Now();
    while (!ping->Push(T::Make(seq))) CpuRelax();
    T back;
    while (!pong->Pop(back)) {
    }
    rt.Add(rt.Now() - t0);
    if (back.seq() != seq) bad.store(true, std::memory_order_relaxed);
    ++seq;
  }
  stop.store(true);
  echo.join();
  if (bad.load()) state.SkipWithError("echo returned the wrong element");
  rt.Report(state);
}

// The physical floor: one cache line written by each side, nothing else.
void BM_RingRoundTripCacheLineFloor(benchmark::State& state) {
  const CpuPair cpus = PickCpus();
  PinOrIgnore(cpus.producer);
  struct alignas(kFalseSharingRange) Line {
    std::atomic<uint64_t> v{0};
  };
  auto lines = std::make_unique<Line[]>(2);
  std::atomic<uint64_t>& ping = lines[0].v;
  std::atomic<uint64_t>& pong = lines[1].v;
  constexpr uint64_t kStop = ~0ull;
  std::thread echo([&] {
    PinOrIgnore(cpus.consumer);
    uint64_t last = 0;
    for (;;) {
      const uint64_t v = ping.load(std::memory_order_acquire);
      if (v == last) continue;
      if (v == kStop) break;
      last = v;
      pong.store(v, std::memory_order_release);
    }
  });
  RoundTrips rt(state);
  uint64_t seq = 0;
  for (auto _ : state) {
    ++seq;
    const uint64_t t0 = rt.Now();
    ping.store(seq, std::memory_order_release);
    while (pong.load(std::memory_order_acquire) != seq) {
    }
    rt.Add(rt.Now() - t0);
  }
  ping.store(kStop, std::memory_order_release);
  echo.join();
  rt.Report(state);
}

template <typename T>
using Nzeza = NzezaQueue<T>;
template <typename T>
using BoostLockfree = BoostLockfreeQueue<T>;
template <typename T>
using IndexRing = IndexRingQueue<T>;
template <typename T>
using MoodycamelRwq = MoodycamelRwqQueue<T>;

void BM_RingThroughputNzeza_8B(benchmark::State& s) { BM_RingThroughput<Nzeza, 8>(s); }
void BM_RingThroughputBoostLockfree_8B(benchmark::State& s) {
  BM_RingThroughput<BoostLockfree, 8>(s);
}
void BM_RingThroughputMoodycamelRwq_8B(benchmark::State& s) {
  BM_RingThroughput<MoodycamelRwq, 8>(s);
}
void BM_RingThroughputNzeza_64B(benchmark::State& s) { BM_RingThroughput<Nzeza, 64>(s); }
void BM_RingThroughputBoostLockfree_64B(benchmark::State& s) {
  BM_RingThroughput<BoostLockfree, 64>(s);
}
void BM_RingThroughputMoodycamelRwq_64B(benchmark::State& s) {
  BM_RingThroughput<MoodycamelRwq, 64>(s);
}
void BM_RingThroughputNzezaBatch_8B(benchmark::State& s) { BM_RingThroughputNzezaBatch<8>(s); }
void BM_RingThroughputNzezaBatch_64B(benchmark::State& s) { BM_RingThroughputNzezaBatch<64>(s); }
void BM_RingThroughputIndexRing_8B(benchmark::State& s) { BM_RingThroughput<IndexRing, 8>(s); }
void BM_RingThroughputIndexRing_64B(benchmark::State& s) { BM_RingThroughput<IndexRing, 64>(s); }
void BM_RingRoundTripNzeza(benchmark::State& s) { BM_RingRoundTrip<Nzeza>(s); }
void BM_RingRoundTripIndexRing(benchmark::State& s) { BM_RingRoundTrip<IndexRing>(s); }
void BM_RingRoundTripBoostLockfree(benchmark::State& s) { BM_RingRoundTrip<BoostLockfree>(s); }
void BM_RingRoundTripMoodycamelRwq(benchmark::State& s) { BM_RingRoundTrip<MoodycamelRwq>(s); }

BENCHMARK(BM_RingThroughputNzeza_8B)->UseRealTime();
BENCHMARK(BM_RingThroughputBoostLockfree_8B)->UseRealTime();
BENCHMARK(BM_RingThroughputMoodycamelRwq_8B)->UseRealTime();
BENCHMARK(BM_RingThroughputNzeza_64B)->UseRealTime();
BENCHMARK(BM_RingThroughputBoostLockfree_64B)->UseRealTime();
BENCHMARK(BM_RingThroughputMoodycamelRwq_64B)->UseRealTime();
BENCHMARK(BM_RingThroughputIndexRing_8B)->UseRealTime();
BENCHMARK(BM_RingThroughputIndexRing_64B)->UseRealTime();
BENCHMARK(BM_RingThroughputNzezaBatch_8B)->UseRealTime();
BENCHMARK(BM_RingThroughputNzezaBatch_64B)->UseRealTime();
BENCHMARK(BM_RingRoundTripCacheLineFloor)->UseRealTime();
BENCHMARK(BM_RingRoundTripNzeza)->UseRealTime();
BENCHMARK(BM_RingRoundTripIndexRing)->UseRealTime();
BENCHMARK(BM_RingRoundTripBoostLockfree)->UseRealTime();
BENCHMARK(BM_RingRoundTripMoodycamelRwq)->UseRealTime();

}  // namespace
}  // namespace nzeza
