#include "nzeza/core/runtime.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "nzeza/core/clock.h"
#include "nzeza/core/cpu.h"
#include "nzeza/core/spsc_ring.h"

namespace nzeza {
namespace {

TEST(WaitStrategy, NamesRoundTrip) {
  for (WaitStrategy s : {WaitStrategy::kSpin, WaitStrategy::kSpinYield, WaitStrategy::kBlock}) {
    absl::StatusOr<WaitStrategy> parsed = ParseWaitStrategy(WaitStrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  absl::StatusOr<WaitStrategy> bad = ParseWaitStrategy("busy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"busy\""), std::string_view::npos);
}

// Emits `total` numbers into a ring, a few per poll.
class Source : public Stage {
 public:
  Source(SpscRing<uint64_t>& out, uint64_t total, Worker* notify = nullptr)
      : out_(out), total_(total), notify_(notify) {}
  std::string_view name() const noexcept override { return "source"; }
  int Poll() noexcept override {
    int work = 0;
    while (next_ < total_ && work < 4 && out_.try_push(next_)) {
      ++next_;
      ++work;
    }
    if (work > 0 && notify_ != nullptr) notify_->Notify();
    return work;
  }
  uint64_t next_ = 0;

 private:
  SpscRing<uint64_t>& out_;
  uint64_t total_;
  Worker* notify_;
};

// Consumes numbers, checking order.
class Sink : public Stage {
 public:
  explicit Sink(SpscRing<uint64_t>& in) : in_(in) {}
  std::string_view name() const noexcept override { return "sink"; }
  int Poll() noexcept override {
    return static_cast<int>(in_.drain(
        [this](uint64_t& v) {
          if (v != expect_) ordered_.store(false, std::memory_order_relaxed);
          ++expect_;
          consumed_.store(expect_, std::memory_order_release);
        },
        16));
  }
  std::atomic<uint64_t> consumed_{0};
  std::atomic<bool> ordered_{true};
  int cpu_seen_ = -1;

 private:
  SpscRing<uint64_t>& in_;
  uint64_t expect_ = 0;
};

TEST(InlineRunner, RunsFusedStagesToCompletion) {
  SpscRing<uint64_t> ring(8);
  Source source(ring, 1000);
  Sink sink(ring);
  InlineRunner runner{&source, &sink};
  const int64_t work = runner.RunUntilIdle();
  EXPECT_EQ(work, 2000);  // 1000 produced + 1000 consumed
  EXPECT_EQ(sink.consumed_.load(), 1000u);
  EXPECT_TRUE(sink.ordered_.load());
  EXPECT_EQ(runner.PollOnce(), 0);
}

class AlwaysBusy : public Stage {
 public:
  std::string_view name() const noexcept override { return "busy"; }
  int Poll() noexcept override { return 1; }
};

TEST(InlineRunner, ReportsLivelock) {
  AlwaysBusy busy;
  InlineRunner runner{&busy};
  EXPECT_EQ(runner.RunUntilIdle(100), -1);
}

TEST(Worker, PinningToMissingCpuIsAnErrorNotACrash) {
  AlwaysBusy busy;
  Worker w(WorkerOptions{.name = "badpin", .cpu = 4000});
  w.AddStage(&busy);
  absl::Status s = w.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cpu 4000"), std::string_view::npos) << s;
  EXPECT_NE(s.message().find("badpin"), std::string_view::npos) << s;
  EXPECT_FALSE(w.running());
  w.Stop();  // harmless after a failed start
}

TEST(Worker, RefusesStartWithoutStagesOrTwice) {
  Worker empty(WorkerOptions{.name = "empty"});
  EXPECT_EQ(empty.Start().code(), absl::StatusCode::kFailedPrecondition);

  SpscRing<uint64_t> ring(8);
  Sink sink(ring);
  Worker w(WorkerOptions{.name = "twice", .wait = WaitStrategy::kBlock});
  w.AddStage(&sink);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(w.Start().code(), absl::StatusCode::kFailedPrecondition);
  w.Stop();
  w.Stop();
}

class CpuProbe : public Stage {
 public:
  std::string_view name() const noexcept override { return "probe"; }
  int Poll() noexcept override {
    cpu_.store(sched_getcpu(), std::memory_order_relaxed);
    return 0;
  }
  std::atomic<int> cpu_{-1};
};

TEST(Worker, PinsToAnAllowedCpu) {
  const std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  const int target = cpus.back();
  CpuProbe probe;
  Worker w(WorkerOptions{.name = "pinned", .cpu = target, .wait = WaitStrategy::kBlock});
  w.AddStage(&probe);
  ASSERT_TRUE(w.Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (probe.cpu_.load() < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  w.Stop();
  EXPECT_EQ(probe.cpu_.load(), target);
}

// Regression: a thread spawned by a pinned thread inherits a one-CPU mask; pinning it elsewhere
// must still work (the ring benchmark's consumer silently shared the producer's CPU).
TEST(Worker, ThreadOfAPinnedThreadCanPinElsewhere) {
  const std::vector<int> cpus = AllowedCpus();
  ASSERT_FALSE(cpus.empty());
  std::thread parent([&] {
    ASSERT_TRUE(PinCurrentThread(cpus.front()).ok());
    std::thread child([&] {
      absl::Status s = PinCurrentThread(cpus.back());
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(sched_getcpu(), cpus.back());
    });
    child.join();
  });
  parent.join();
  EXPECT_EQ(AllowedCpus(), cpus);
}

// A producer thread feeds a worker's sink stage under each wait strategy.
void FeedWorker(WaitStrategy strategy, uint64_t items) {
  SpscRing<uint64_t> ring(32);
  Sink sink(ring);
  Worker w(WorkerOptions{
      .name = "sink", .wait = strategy, .spin_rounds = 50, .park_timeout = absl::Seconds(10)});
  w.AddStage(&sink);
  ASSERT_TRUE(w.Start().ok());
  for (uint64_t i = 0; i < items; ++i) {
    while (!ring.try_push(i)) std::this_thread::yield();
    w.Notify();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (sink.consumed_.load() < items && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  w.Stop();
  EXPECT_EQ(sink.consumed_.load(), items);
  EXPECT_TRUE(sink.ordered_.load());
  EXPECT_GT(w.stats().rounds, 0u);
}

TEST(Worker, SpinDeliversEverything) { FeedWorker(WaitStrategy::kSpin, 100'000); }
TEST(Worker, SpinYieldDeliversEverything) { FeedWorker(WaitStrategy::kSpinYield, 100'000); }
TEST(Worker, BlockDeliversEverything) { FeedWorker(WaitStrategy::kBlock, 100'000); }

// No lost wake-ups: the worker parks with a 10 s timeout after every item (spin_rounds = 0) and
// the producer pauses at random so both orders of "park" and "notify" occur. A lost wake-up shows
// as an item that waited for the park timeout; the test fails if any item took over 2 s.
TEST(Worker, BlockNeverLosesAWakeUp) {
#if defined(NZEZA_SANITIZED)
  constexpr int kItems = 3'000;
#else
  constexpr int kItems = 20'000;
#endif
  SpscRing<uint64_t> ring(4);
  Sink sink(ring);
  Worker w(WorkerOptions{.name = "parker",
                         .wait = WaitStrategy::kBlock,
                         .spin_rounds = 0,
                         .park_timeout = absl::Seconds(10)});
  w.AddStage(&sink);
  ASSERT_TRUE(w.Start().ok());
  std::mt19937 rng(42);
  int64_t worst_ns = 0;
  for (uint64_t i = 0; i < kItems; ++i) {
    const uint32_t r = rng() % 8;
    if (r == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
    if (r == 1) std::this_thread::yield();
    ASSERT_TRUE(ring.try_push(i));
    const int64_t t0 = MonotonicNanos();
    w.Notify();
    while (sink.consumed_.load(std::memory_order_acquire) <= i) {
      if (MonotonicNanos() - t0 > 2'000'000'000) break;
      CpuRelax();
    }
    worst_ns = std::max(worst_ns, MonotonicNanos() - t0);
    ASSERT_GT(sink.consumed_.load(), i)
        << "item " << i << " was not consumed within 2 s: lost wake-up";
  }
  w.Stop();
  EXPECT_GT(w.stats().parks, 0u) << "the worker never parked, so the test proved nothing";
  EXPECT_LT(worst_ns, 2'000'000'000);
}

TEST(EventCount, PingPongWithoutLostWakeUps) {
#if defined(NZEZA_SANITIZED)
  constexpr int kRounds = 5'000;
#else
  constexpr int kRounds = 50'000;
#endif
  EventCount to_b, to_a;
  std::atomic<int> ball{0};  // odd: B's turn, even: A's turn
  std::atomic<int> timeouts{0};
  auto wait_for = [&](EventCount& ec, auto ready) {
    while (!ready()) {
      const uint32_t key = ec.PrepareWait();
      if (ready()) {
        ec.CancelWait();
        break;
      }
      if (!ec.Wait(key, absl::Seconds(5))) timeouts.fetch_add(1);
    }
  };
  std::thread b([&] {
    for (int i = 0; i < kRounds; ++i) {
      wait_for(to_b, [&] { return ball.load(std::memory_order_acquire) == 2 * i + 1; });
      ball.store(2 * i + 2, std::memory_order_release);
      to_a.Notify();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    ball.store(2 * i + 1, std::memory_order_release);
    to_b.Notify();
    wait_for(to_a, [&] { return ball.load(std::memory_order_acquire) == 2 * i + 2; });
  }
  b.join();
  EXPECT_EQ(ball.load(), 2 * kRounds);
  EXPECT_EQ(timeouts.load(), 0) << "a waiter slept through a notify";
}

TEST(Worker, FusesSeveralStagesOnOneThread) {
  SpscRing<uint64_t> ring(16);
  Source source(ring, 50'000);
  Sink sink(ring);
  Worker w(WorkerOptions{.name = "fused", .wait = WaitStrategy::kSpinYield});
  w.AddStage(&source);
  w.AddStage(&sink);
  ASSERT_TRUE(w.Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (sink.consumed_.load() < 50'000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  w.Stop();
  EXPECT_EQ(sink.consumed_.load(), 50'000u);
  EXPECT_TRUE(sink.ordered_.load());
}

}  // namespace
}  // namespace nzeza
