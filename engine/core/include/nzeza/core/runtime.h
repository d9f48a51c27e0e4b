// The stage/worker runtime: stages are polled objects, workers are (optionally pinned) threads that
// poll one or more stages and wait by a configured strategy when there is nothing to do.
//
//   class Decode : public Stage { int Poll() noexcept override { ... return items_done; } ... };
//   Decode decode; Signal signal;
//   Worker w(WorkerOptions{.name = "md", .cpu = 1, .wait = WaitStrategy::kSpin});
//   w.AddStage(&decode);
//   w.AddStage(&signal);                      // several stages may share a worker (2-core boxes)
//   if (absl::Status s = w.Start(); !s.ok()) return s;   // e.g. "cannot pin to cpu 7: ..."
//   ...
//   w.Stop();
//
// A stage's producer wakes a parked downstream worker with `worker.Notify()` (a no-op costing one
// fence and a load when nobody is parked); only the `block` strategy parks, so with `spin` and
// `spin_yield` producers may skip notifying. Tests drive stages deterministically with
// InlineRunner on their own thread.
#ifndef NZEZA_CORE_RUNTIME_H_
#define NZEZA_CORE_RUNTIME_H_

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nzeza/core/cpu.h"

namespace nzeza {

// A unit of pipeline work with its own state.
//
// Thread: Poll() is called by exactly one thread at a time (the hosting worker's).
class Stage {
 public:
  virtual ~Stage() = default;
  // A short name for logs and metrics ("feed-decode", "risk").
  virtual std::string_view name() const noexcept = 0;
  // Processes what is waiting and returns how many units of work it did (0 = idle). Must not
  // block, sleep or wait for another stage.
  virtual int Poll() noexcept = 0;
};

// How a worker waits when a full round over its stages found no work.
enum class WaitStrategy : uint8_t {
  kSpin,       // re-poll at once (PAUSE between rounds): lowest latency, burns the core
  kSpinYield,  // spin `spin_rounds` idle rounds, then sched_yield() between rounds
  kBlock,      // spin `spin_rounds` idle rounds, then park on a futex until Notify() or timeout
};

// "spin", "spin_yield", "block".
std::string_view WaitStrategyName(WaitStrategy s) noexcept;
absl::StatusOr<WaitStrategy> ParseWaitStrategy(std::string_view name);

// An eventcount (Dekker-style handshake over a futex): lets a consumer sleep until a producer
// signals, with no lost wake-ups and no syscall on the producer side while nobody sleeps.
//
// Consumer:                                    Producer:
//   uint32_t key = ec.PrepareWait();             publish work (ring push: release store)
//   if (work available) { ec.CancelWait(); }     ec.Notify();
//   else ec.Wait(key, timeout);
//
// Why it cannot lose a wake-up: PrepareWait() increments the waiter count with a seq_cst RMW and
// only then does the consumer re-check for work; Notify() issues a seq_cst fence after the
// producer's publish and only then reads the waiter count. Of the two orders one must hold: either
// the consumer's re-check sees the work, or the producer sees the waiter, bumps the epoch and
// wakes the futex; and FUTEX_WAIT returns at once if the epoch already differs from `key`.
//
// Thread: any number of notifiers and waiters.
class EventCount {
 public:
  uint32_t PrepareWait() noexcept;
  void CancelWait() noexcept;
  // Sleeps until the epoch moves past `key` or `timeout` passes (absl::InfiniteDuration() waits
  // without a limit). Returns false on timeout.
  bool Wait(uint32_t key, absl::Duration timeout) noexcept;
  // Wakes every thread in Wait(). Cheap when nobody waits: a fence and a load.
  void Notify() noexcept;

  uint64_t wakes() const noexcept { return wakes_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> waiters_{0};
  std::atomic<uint64_t> wakes_{0};
};

struct WorkerOptions {
  std::string name = "worker";
  // CPU to pin to; -1 leaves the thread to the scheduler.
  int cpu = -1;
  WaitStrategy wait = WaitStrategy::kSpinYield;
  // Idle rounds spun before yielding (kSpinYield) or parking (kBlock).
  uint32_t spin_rounds = 2000;
  // Longest park in kBlock, so stages with timers (heartbeats, staleness) still run.
  absl::Duration park_timeout = absl::Milliseconds(1);
};

// Counters a worker keeps for /metrics. Read from any thread (relaxed: for reporting only).
struct WorkerStats {
  uint64_t rounds = 0;       // polls of the full stage list
  uint64_t idle_rounds = 0;  // rounds that found no work
  uint64_t work = 0;         // sum of Poll() results
  uint64_t yields = 0;
  uint64_t parks = 0;
};

// A thread that polls its stages round-robin until Stop().
//
// Thread: AddStage/Start/Stop/Notify from any one control thread; Notify from any thread.
// Lifetime: stages must outlive the worker's run (Stop() before destroying them). The destructor
// stops the worker.
class Worker {
 public:
  explicit Worker(WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before Start() only.
  void AddStage(Stage* stage);

  // Starts the thread and returns once it is pinned and named and about to poll. Errors:
  // InvalidArgument for a CPU this process may not use (message names the allowed CPUs),
  // FailedPrecondition if already started or no stage was added.
  absl::Status Start();
  // Asks the thread to finish its current round, then joins it. Idempotent.
  void Stop();

  // Wakes the worker if it is parked (kBlock). Call after publishing work for one of its stages.
  void Notify() noexcept { doorbell_.Notify(); }
  EventCount& doorbell() noexcept { return doorbell_; }

  const WorkerOptions& options() const noexcept { return options_; }
  bool running() const noexcept { return running_.load(std::memory_order_acquire); }
  WorkerStats stats() const noexcept;

 private:
  void Run() noexcept;
  int PollAll() noexcept;

  WorkerOptions options_;
  std::vector<Stage*> stages_;
  std::thread thread_;
  EventCount doorbell_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> rounds_{0};
  std::atomic<uint64_t> idle_rounds_{0};
  std::atomic<uint64_t> work_{0};
  std::atomic<uint64_t> yields_{0};
  std::atomic<uint64_t> parks_{0};
};

// Polls stages on the calling thread: the deterministic mode for tests and for replay.
//
// Thread: the caller's. Allocates: only in the constructor.
class InlineRunner {
 public:
  explicit InlineRunner(std::span<Stage* const> stages) : stages_(stages.begin(), stages.end()) {}
  InlineRunner(std::initializer_list<Stage*> stages) : stages_(stages) {}

  // One round over every stage, in order. Returns the work done.
  int PollOnce() noexcept;
  // Rounds until one finds no work, at most `max_rounds`. Returns the total work done, or -1 if
  // the stages were still busy after `max_rounds` (a livelock, in a test).
  int64_t RunUntilIdle(int64_t max_rounds = 1'000'000) noexcept;

 private:
  std::vector<Stage*> stages_;
};

}  // namespace nzeza

#endif  // NZEZA_CORE_RUNTIME_H_
