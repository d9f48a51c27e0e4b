#include "nzeza/app/logger.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <concurrentqueue/concurrentqueue.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "nzeza/core/cpu.h"
#include "nzeza/core/decimal.h"

// ThreadSanitizer does not model the standalone fences moodycamel::ConcurrentQueue uses when it
// recycles a block, and reports the consumer's read of a slot and a producer's later write of the
// same slot in a reused block as a race (cameron314/concurrentqueue issues #49, #62, #254: false
// positives by the author's analysis; the queue marks its own functions no_sanitize only in part).
// Suppress exactly the reports with a queue frame in a stack; every other report stays.
#if defined(__SANITIZE_THREAD__)
#define NZ_APP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NZ_APP_TSAN 1
#endif
#endif
#ifdef NZ_APP_TSAN
extern "C" const char* __tsan_default_suppressions() {
  return "race:moodycamel::ConcurrentQueue\n";
}
#endif

namespace nzeza::app {
namespace {

// Blocks of 64 records; an explicit producer's block index is sized at creation so that
// try_enqueue (which never allocates) can use up to 512 blocks (32768 records) per producer.
struct QueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  static const size_t BLOCK_SIZE = 64;
  static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 512;
};
using Queue = moodycamel::ConcurrentQueue<LogRecord, QueueTraits>;

int64_t WallNanos() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string_view LevelTag(uint8_t level) {
  switch (static_cast<LogLevel>(level)) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO ";
    case LogLevel::kWarn:
      return "WARN ";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?????";
}

int64_t MonoNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Per-producer counters, each written by one side only.
struct ProducerSlot {
  alignas(kFalseSharingRange) std::atomic<uint64_t> enqueued{0};  // producer
  std::atomic<uint64_t> dropped{0};                               // producer
  alignas(kFalseSharingRange) std::atomic<uint64_t> consumed{0};  // logger thread
  char name[16] = {};
};

struct Logger::State {
  LoggerOptions options;
  int fd = -1;
  bool owns_fd = false;
  bool regular_file = false;
  Queue queue;
  std::atomic<int> level{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> stop_deadline_ns{INT64_MAX};
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> discarded{0};  // left in the queue at Stop

  absl::Mutex producers_mu;
  std::vector<std::unique_ptr<ProducerSlot>> owned_slots ABSL_GUARDED_BY(producers_mu);
  std::atomic<ProducerSlot*> slots[kLogMaxProducers] = {};
  std::atomic<size_t> slot_count{0};

  absl::Mutex control_mu;
  std::unique_ptr<LogProducer> control ABSL_GUARDED_BY(control_mu);

  std::mutex stop_mu;  // serialises Stop()
  std::thread thread;

  explicit State(const LoggerOptions& o) : options(o), queue(o.capacity) {}

  uint64_t Dropped() const {
    uint64_t d = discarded.load(std::memory_order_relaxed);
    const size_t n = slot_count.load(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) {
      d += slots[i].load(std::memory_order_acquire)->dropped.load(std::memory_order_relaxed);
    }
    return d;
  }

  // Writes everything; waits for a pipe with poll() so a stop deadline can cut it short.
  // Returns false if the deadline passed or the output failed.
  bool WriteAll(const char* p, size_t n) {
    while (n > 0) {
      if (!regular_file) {
        pollfd pfd{fd, POLLOUT, 0};
        const int r = ::poll(&pfd, 1, 20);
        if (r == 0 || (r < 0 && errno == EINTR)) {
          if (stop.load(std::memory_order_acquire) &&
              MonoNanos() > stop_deadline_ns.load(std::memory_order_acquire)) {
            return false;
          }
          continue;
        }
        if (r < 0) return false;
      }
      // A pipe takes PIPE_BUF bytes without blocking once poll() said it is writable.
      const size_t chunk = regular_file ? n : std::min<size_t>(n, 4096);
      const ssize_t w = ::write(fd, p, chunk);
      if (w < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  void Run();
};

// ---------------------------------------------------------------------------------------------
// LogProducer

struct LogProducer::Impl {
  Logger::State* state;
  ProducerSlot* slot;
  uint32_t index;
  moodycamel::ProducerToken token;
  Impl(Logger::State* s, ProducerSlot* sl, uint32_t i)
      : state(s), slot(sl), index(i), token(s->queue) {}
};

LogProducer::LogProducer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
LogProducer::LogProducer(LogProducer&&) noexcept = default;
LogProducer& LogProducer::operator=(LogProducer&&) noexcept = default;
LogProducer::~LogProducer() = default;

bool LogProducer::Enabled(LogLevel level) const noexcept {
  return impl_ != nullptr &&
         static_cast<int>(level) >= impl_->state->level.load(std::memory_order_relaxed);
}

bool LogProducer::Submit(LogRecord& r) noexcept {
  r.wall_ns = WallNanos();
  r.producer = impl_->index;
  ProducerSlot* slot = impl_->slot;
  // After Stop() nothing is written any more: count it as dropped instead of queueing it.
  if (impl_->state->stop.load(std::memory_order_relaxed) ||
      !impl_->state->queue.try_enqueue(impl_->token, r)) {
    slot->dropped.store(slot->dropped.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
    return false;
  }
  slot->enqueued.store(slot->enqueued.load(std::memory_order_relaxed) + 1,
                       std::memory_order_release);
  return true;
}

uint64_t LogProducer::dropped() const noexcept {
  return impl_ ? impl_->slot->dropped.load(std::memory_order_relaxed) : 0;
}
uint64_t LogProducer::enqueued() const noexcept {
  return impl_ ? impl_->slot->enqueued.load(std::memory_order_relaxed) : 0;
}

// ---------------------------------------------------------------------------------------------
// Formatting

size_t FormatLogMessage(const LogRecord& r, char* out, size_t cap) noexcept {
  size_t n = 0;
  auto put = [&](const char* s, size_t len) {
    const size_t k = std::min(len, cap - n);
    std::memcpy(out + n, s, k);
    n += k;
  };
  if (r.owned != nullptr) {
    put(r.owned->data(), r.owned->size());
    return n;
  }
  if (r.fmt == nullptr) return 0;
  int arg = 0;
  const char* p = r.fmt;
  char buf[kMaxDecimalChars + 8];
  while (*p != '\0' && n < cap) {
    if (p[0] == '{' && p[1] == '{') {
      put("{", 1);
      p += 2;
      continue;
    }
    if (p[0] == '}' && p[1] == '}') {
      put("}", 1);
      p += 2;
      continue;
    }
    if (p[0] != '{') {
      const char* q = p;
      while (*q != '\0' && *q != '{' && *q != '}') ++q;
      if (q == p) ++q;  // a lone '}'
      put(p, static_cast<size_t>(q - p));
      p = q;
      continue;
    }
    const char* close = std::strchr(p, '}');
    if (close == nullptr) {
      put(p, std::strlen(p));
      break;
    }
    const std::string_view spec(p + 1, static_cast<size_t>(close - p - 1));
    p = close + 1;
    if (spec == "s") {
      put(r.text, r.text_len);
      continue;
    }
    if (arg >= r.nargs) {
      put("<?>", 3);
      continue;
    }
    const int64_t v = r.args[arg++];
    if (spec.empty()) {
      const int k = std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
      put(buf, static_cast<size_t>(k));
    } else if (spec == "x") {
      const int k = std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(v));
      put(buf, static_cast<size_t>(k));
    } else if (spec.size() >= 2 && spec[0] == '.') {
      int scale = 0;
      bool ok = spec.size() <= 3;
      for (size_t i = 1; i < spec.size() && ok; ++i) {
        ok = spec[i] >= '0' && spec[i] <= '9';
        scale = scale * 10 + (spec[i] - '0');
      }
      if (ok && scale <= kMaxDecimalScale) {
        put(buf, FormatDecimalFixed(v, scale, buf));
      } else {
        put("<?>", 3);
      }
    } else {
      put("<?>", 3);
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The logger thread

void Logger::State::Run() {
  NameCurrentThread("nzeza-logger");
  constexpr size_t kBatch = 256;
  constexpr size_t kFlushAt = 192 * 1024;
  std::vector<LogRecord> batch(kBatch);
  std::string out;
  out.reserve(512 * 1024);  // kFlushAt + a batch of the longest lines: never regrows
  std::vector<uint32_t> counts(kLogMaxProducers, 0);
  std::vector<uint32_t> touched;
  touched.reserve(kLogMaxProducers);
  moodycamel::ConsumerToken ctok(queue);
  uint64_t reported_drops = 0;
  bool failed = false;  // the output failed or a stop deadline passed: discard from now on
  char line[1024];

  uint64_t pending_records = 0;  // record lines in `out`
  uint64_t pending_reports = 0;  // drop-report lines in `out`
  auto flush = [&] {
    if (!out.empty()) {
      if (!failed && !WriteAll(out.data(), out.size())) failed = true;
      if (failed) {
        discarded.fetch_add(pending_records, std::memory_order_relaxed);
      } else {
        written.fetch_add(pending_records + pending_reports, std::memory_order_relaxed);
      }
      out.clear();
    }
    pending_records = 0;
    pending_reports = 0;
    for (uint32_t i : touched) {
      ProducerSlot* s = slots[i].load(std::memory_order_acquire);
      s->consumed.store(s->consumed.load(std::memory_order_relaxed) + counts[i],
                        std::memory_order_release);
      counts[i] = 0;
    }
    touched.clear();
  };
  auto report_drops = [&] {
    const uint64_t d = Dropped();
    if (d > reported_drops) {
      const int k = std::snprintf(
          line, sizeof(line), "logger: %llu records dropped (queue full), %llu in all\n",
          static_cast<unsigned long long>(d - reported_drops), static_cast<unsigned long long>(d));
      out.append(line, static_cast<size_t>(k));
      ++pending_reports;
      reported_drops = d;
    }
  };

  while (true) {
    const size_t n = queue.try_dequeue_bulk(ctok, batch.begin(), kBatch);
    if (n == 0) {
      report_drops();
      flush();
      if (stop.load(std::memory_order_acquire)) {
        // Empty after the stop flag was seen: every record enqueued before Stop() is out.
        if (queue.size_approx() == 0) break;
        if (MonoNanos() > stop_deadline_ns.load(std::memory_order_acquire)) break;
        continue;
      }
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(absl::ToInt64Nanoseconds(options.idle_sleep)));
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      const LogRecord& r = batch[i];
      if (!failed) {
        const time_t secs = static_cast<time_t>(r.wall_ns / 1'000'000'000);
        tm t;
        gmtime_r(&secs, &t);
        const ProducerSlot* s = slots[r.producer].load(std::memory_order_acquire);
        int k = std::snprintf(line, sizeof(line),
                              "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ %.*s %s: ", t.tm_year + 1900,
                              t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                              static_cast<int>((r.wall_ns % 1'000'000'000) / 1000), 5,
                              LevelTag(r.level).data(), s->name);
        out.append(line, static_cast<size_t>(k));
        if (r.owned != nullptr) {
          out.append(*r.owned);
        } else {
          out.append(line, FormatLogMessage(r, line, sizeof(line)));
        }
        out.push_back('\n');
        ++pending_records;
      } else {
        discarded.fetch_add(1, std::memory_order_relaxed);
      }
      delete r.owned;
      if (counts[r.producer]++ == 0) touched.push_back(r.producer);
    }
    if (out.size() >= kFlushAt || queue.size_approx() == 0) flush();
    if (stop.load(std::memory_order_acquire) &&
        MonoNanos() > stop_deadline_ns.load(std::memory_order_acquire)) {
      failed = true;
    }
  }
  report_drops();
  flush();
}

// ---------------------------------------------------------------------------------------------
// Logger

Logger::Logger(std::unique_ptr<State> state) : state_(std::move(state)) {}

Logger::~Logger() { Stop(); }

absl::StatusOr<std::unique_ptr<Logger>> Logger::Start(const LoggerOptions& options) {
  if (options.capacity == 0) {
    return absl::InvalidArgumentError("logger capacity must be > 0");
  }
  auto state = std::make_unique<State>(options);
  if (!options.file.empty()) {
    state->fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (state->fd < 0) {
      return absl::InternalError(
          absl::StrFormat("cannot open log file %s: %s", options.file, std::strerror(errno)));
    }
    state->owns_fd = true;
  } else {
    state->fd = options.fd;
  }
  struct stat st {};
  state->regular_file = ::fstat(state->fd, &st) == 0 && S_ISREG(st.st_mode);
  state->level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  std::unique_ptr<Logger> logger(new Logger(std::move(state)));
  absl::StatusOr<LogProducer> control = logger->MakeProducer("nzeza");
  if (!control.ok()) return control.status();
  {
    absl::MutexLock lock(&logger->state_->control_mu);
    logger->state_->control = std::make_unique<LogProducer>(std::move(*control));
  }
  State* s = logger->state_.get();
  s->thread = std::thread([s] { s->Run(); });
  return logger;
}

absl::StatusOr<LogProducer> Logger::MakeProducer(std::string_view name) {
  State& s = *state_;
  if (s.stop.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("the logger is stopped");
  }
  absl::MutexLock lock(&s.producers_mu);
  const size_t index = s.slot_count.load(std::memory_order_relaxed);
  if (index >= kLogMaxProducers) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("at most %d log producers", kLogMaxProducers));
  }
  auto slot = std::make_unique<ProducerSlot>();
  const size_t n = std::min(name.size(), sizeof(slot->name) - 1);
  if (n > 0) std::memcpy(slot->name, name.data(), n);
  ProducerSlot* raw = slot.get();
  s.owned_slots.push_back(std::move(slot));
  s.slots[index].store(raw, std::memory_order_release);
  s.slot_count.store(index + 1, std::memory_order_release);
  return LogProducer(std::make_unique<LogProducer::Impl>(&s, raw, static_cast<uint32_t>(index)));
}

bool Logger::LogText(LogLevel level, std::string_view text) {
  State& s = *state_;
  absl::MutexLock lock(&s.control_mu);
  if (s.control == nullptr || !s.control->Enabled(level)) return false;
  LogRecord r;
  r.level = static_cast<uint8_t>(level);
  r.owned = new std::string(text);
  if (!s.control->Submit(r)) {
    delete r.owned;
    return false;
  }
  return true;
}

bool Logger::Flush(absl::Duration timeout) {
  State& s = *state_;
  const size_t n = s.slot_count.load(std::memory_order_acquire);
  uint64_t target[kLogMaxProducers];  // no allocation: Flush may run beside hot-path checks
  for (size_t i = 0; i < n; ++i) {
    target[i] =
        s.slots[i].load(std::memory_order_acquire)->enqueued.load(std::memory_order_acquire);
  }
  const int64_t deadline = MonoNanos() + absl::ToInt64Nanoseconds(timeout);
  while (true) {
    bool done = true;
    for (size_t i = 0; i < n && done; ++i) {
      done = s.slots[i].load(std::memory_order_acquire)->consumed.load(std::memory_order_acquire) >=
             target[i];
    }
    if (done) return true;
    if (s.stopped.load(std::memory_order_acquire) || MonoNanos() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

void Logger::Stop(absl::Duration timeout) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.stop_mu);
  if (s.stopped.load(std::memory_order_acquire)) return;
  s.stop_deadline_ns.store(MonoNanos() + absl::ToInt64Nanoseconds(timeout),
                           std::memory_order_release);
  s.stop.store(true, std::memory_order_release);
  if (s.thread.joinable()) s.thread.join();
  // Whatever is still queued (deadline passed) is discarded; free control-plane texts.
  LogRecord r;
  while (s.queue.try_dequeue(r)) {
    delete r.owned;
    s.discarded.fetch_add(1, std::memory_order_relaxed);
  }
  if (s.owns_fd) ::close(s.fd);
  s.stopped.store(true, std::memory_order_release);
}

void Logger::set_level(LogLevel level) noexcept {
  state_->level.store(static_cast<int>(level), std::memory_order_relaxed);
}
LogLevel Logger::level() const noexcept {
  return static_cast<LogLevel>(state_->level.load(std::memory_order_relaxed));
}
uint64_t Logger::dropped() const noexcept { return state_->Dropped(); }
uint64_t Logger::written() const noexcept {
  return state_->written.load(std::memory_order_relaxed);
}

}  // namespace nzeza::app
