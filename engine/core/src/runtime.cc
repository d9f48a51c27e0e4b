#include "nzeza/core/runtime.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>
#include <future>
#include <utility>

#include "absl/strings/str_format.h"

namespace nzeza {

std::string_view WaitStrategyName(WaitStrategy s) noexcept {
  switch (s) {
    case WaitStrategy::kSpin:
      return "spin";
    case WaitStrategy::kSpinYield:
      return "spin_yield";
    case WaitStrategy::kBlock:
      return "block";
  }
  return "?";
}

absl::StatusOr<WaitStrategy> ParseWaitStrategy(std::string_view name) {
  for (WaitStrategy s : {WaitStrategy::kSpin, WaitStrategy::kSpinYield, WaitStrategy::kBlock}) {
    if (name == WaitStrategyName(s)) return s;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "unknown wait strategy \"%s\": expected \"spin\", \"spin_yield\" or \"block\"", name));
}

// ---- EventCount ----

namespace {

long Futex(std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* timeout) noexcept {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), op, val, timeout, nullptr, 0);
}

}  // namespace

uint32_t EventCount::PrepareWait() noexcept {
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  // Read the epoch after announcing ourselves: a Notify() that misses our waiter count happened
  // before our fetch_add, hence before the caller's re-check of the work it guards.
  return epoch_.load(std::memory_order_seq_cst);
}

void EventCount::CancelWait() noexcept { waiters_.fetch_sub(1, std::memory_order_seq_cst); }

bool EventCount::Wait(uint32_t key, absl::Duration timeout) noexcept {
  bool woke = true;
  const bool infinite = timeout == absl::InfiniteDuration();
  const absl::Time deadline = infinite ? absl::InfiniteFuture() : absl::Now() + timeout;
  while (epoch_.load(std::memory_order_acquire) == key) {
    timespec ts{};
    const timespec* tsp = nullptr;
    if (!infinite) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        woke = false;
        break;
      }
      ts = absl::ToTimespec(left);
      tsp = &ts;
    }
    // Returns at once (EAGAIN) if the epoch already moved: that is what closes the race window
    // between our epoch check and going to sleep.
    Futex(&epoch_, FUTEX_WAIT_PRIVATE, key, tsp);
  }
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return woke;
}

void EventCount::Notify() noexcept {
  // Orders the caller's publish (e.g. a ring's release store) before the waiter check; pairs with
  // the seq_cst fetch_add in PrepareWait().
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_relaxed) == 0) return;
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  wakes_.fetch_add(1, std::memory_order_relaxed);
  Futex(&epoch_, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr);
}

// ---- Worker ----

Worker::Worker(WorkerOptions options) : options_(std::move(options)) {}

Worker::~Worker() { Stop(); }

void Worker::AddStage(Stage* stage) { stages_.push_back(stage); }

absl::Status Worker::Start() {
  if (thread_.joinable()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("worker %s already started", options_.name));
  }
  if (stages_.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat("worker %s has no stages", options_.name));
  }
  stop_.store(false, std::memory_order_relaxed);
  std::promise<absl::Status> started;
  std::future<absl::Status> started_result = started.get_future();
  // The promise moves into the thread: it must outlive its own set_value() call.
  thread_ = std::thread([this, started = std::move(started)]() mutable {
    NameCurrentThread(options_.name);
    if (options_.cpu >= 0) {
      absl::Status pinned = PinCurrentThread(options_.cpu);
      if (!pinned.ok()) {
        started.set_value(absl::Status(
            pinned.code(), absl::StrFormat("worker %s: %s", options_.name, pinned.message())));
        return;
      }
    }
    running_.store(true, std::memory_order_release);
    started.set_value(absl::OkStatus());
    Run();
    running_.store(false, std::memory_order_release);
  });
  absl::Status status = started_result.get();
  if (!status.ok()) thread_.join();
  return status;
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  doorbell_.Notify();
  thread_.join();
}

WorkerStats Worker::stats() const noexcept {
  WorkerStats s;
  s.rounds = rounds_.load(std::memory_order_relaxed);
  s.idle_rounds = idle_rounds_.load(std::memory_order_relaxed);
  s.work = work_.load(std::memory_order_relaxed);
  s.yields = yields_.load(std::memory_order_relaxed);
  s.parks = parks_.load(std::memory_order_relaxed);
  return s;
}

int Worker::PollAll() noexcept {
  int work = 0;
  for (Stage* s : stages_) work += s->Poll();
  return work;
}

void Worker::Run() noexcept {
  // Counters are kept in locals and published every so often: a relaxed store to a line that a
  // metrics reader may pull is still a cache-line transfer we do not want per round.
  uint64_t rounds = 0, idle_rounds = 0, work_total = 0, yields = 0, parks = 0;
  uint32_t idle_streak = 0;
  auto flush = [&] {
    rounds_.store(rounds, std::memory_order_relaxed);
    idle_rounds_.store(idle_rounds, std::memory_order_relaxed);
    work_.store(work_total, std::memory_order_relaxed);
    yields_.store(yields, std::memory_order_relaxed);
    parks_.store(parks, std::memory_order_relaxed);
  };
  while (!stop_.load(std::memory_order_acquire)) {
    const int work = PollAll();
    ++rounds;
    if ((rounds & 0xfff) == 0) flush();
    if (work > 0) {
      work_total += static_cast<uint64_t>(work);
      idle_streak = 0;
      continue;
    }
    ++idle_rounds;
    switch (options_.wait) {
      case WaitStrategy::kSpin:
        CpuRelax();
        break;
      case WaitStrategy::kSpinYield:
        if (idle_streak < options_.spin_rounds) {
          ++idle_streak;
          CpuRelax();
        } else {
          ++yields;
          sched_yield();
        }
        break;
      case WaitStrategy::kBlock:
        if (idle_streak < options_.spin_rounds) {
          ++idle_streak;
          CpuRelax();
          break;
        }
        {
          const uint32_t key = doorbell_.PrepareWait();
          // Re-check after announcing the wait: work published before this point is seen here;
          // work published after it finds our waiter count and moves the epoch.
          const int late = stop_.load(std::memory_order_acquire) ? 0 : PollAll();
          if (late > 0 || stop_.load(std::memory_order_acquire)) {
            doorbell_.CancelWait();
            work_total += static_cast<uint64_t>(late > 0 ? late : 0);
            idle_streak = 0;
            break;
          }
          ++parks;
          flush();
          doorbell_.Wait(key, options_.park_timeout);
          idle_streak = 0;
        }
        break;
    }
  }
  flush();
}

// ---- InlineRunner ----

int InlineRunner::PollOnce() noexcept {
  int work = 0;
  for (Stage* s : stages_) work += s->Poll();
  return work;
}

int64_t InlineRunner::RunUntilIdle(int64_t max_rounds) noexcept {
  int64_t total = 0;
  for (int64_t i = 0; i < max_rounds; ++i) {
    const int work = PollOnce();
    if (work == 0) return total;
    total += work;
  }
  return -1;
}

}  // namespace nzeza
