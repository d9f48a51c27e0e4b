// The asynchronous logger: hot-path threads enqueue fixed-size records without allocating,
// locking or making a syscall; one logger thread formats them and writes to stderr or a file.
//
//   absl::StatusOr<std::unique_ptr<Logger>> log = Logger::Start({.level = LogLevel::kInfo,
//                                                                .file = "nzeza.log"});
//   absl::StatusOr<LogProducer> out = (*log)->MakeProducer("risk");   // warm-up: allocates
//   ...
//   out->Log(LogLevel::kWarn, "order {} refused: price {.2} outside collar", id, price);
//   out->Log(LogLevel::kInfo, "venue said {s}", std::string_view("rate limited"));
//   ...
//   (*log)->LogText(LogLevel::kError, status.message());   // control plane: any length, allocates
//   (*log)->Stop();                                        // bounded
//
// ## Format strings
// A format is a string literal (only its pointer crosses the queue, so it must live as long as the
// logger): `{}` the next integer argument in decimal, `{x}` in hex, `{.N}` the next integer as a
// fixed-point mantissa with N decimals (N in 0..18, as nzeza::FormatDecimal: a price or size),
// `{s}` the text argument, `{{` and `}}` literal braces. Up to kLogMaxArgs integer arguments
// (integers, enums, bools) and one text argument (std::string_view / const char*, copied inline,
// cut at kLogTextCapacity bytes). A placeholder without an argument prints "<?>".
//
// ## Ordering and loss
// Records of one producer are written in the order it logged them; records of different
// producers interleave by the logger thread's dequeue order (each line carries its own wall-clock
// timestamp). When the queue is full a record is dropped and counted, never waited for: the
// producer gets false, LogProducer::dropped() and Logger::dropped() count it, and the logger
// thread writes "logger: N records dropped (queue full)" once it catches up.
//
// ## Output
// One line per record: "2025-11-25T05:02:00.123456Z WARN  risk: order 7 refused: ...". The logger
// thread batches lines into one write(). A slow sink (a pipe nobody reads) stalls only the logger
// thread, never a producer; writes to a pipe wait with poll() so Stop() stays bounded.
#ifndef NZEZA_APP_LOGGER_H_
#define NZEZA_APP_LOGGER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nzeza/app/log_level.h"

namespace nzeza::app {

inline constexpr int kLogMaxArgs = 4;
inline constexpr size_t kLogTextCapacity = 64;
// Producers per logger (each thread that logs needs one; the control plane has its own).
inline constexpr size_t kLogMaxProducers = 256;

// One record as it crosses the queue: fixed size, trivially copyable.
struct LogRecord {
  int64_t wall_ns = 0;           // CLOCK_REALTIME at enqueue
  const char* fmt = nullptr;     // static-lifetime format string (or nullptr with `owned`)
  std::string* owned = nullptr;  // control-plane text (LogText); the logger thread deletes it
  int64_t args[kLogMaxArgs] = {};
  uint32_t producer = 0;  // slot index
  uint8_t level = 0;
  uint8_t nargs = 0;
  uint8_t text_len = 0;
  char text[kLogTextCapacity] = {};
};
static_assert(std::is_trivially_copyable_v<LogRecord>);

struct LoggerOptions {
  LogLevel level = LogLevel::kInfo;  // records below this are discarded at the producer
  std::string file = {};             // "" = write to `fd`
  int fd = 2;                        // used when `file` is empty; not owned (default stderr)
  size_t capacity = 16384;           // records the queue holds (about; see Start)
  absl::Duration idle_sleep = absl::Microseconds(200);  // logger thread's nap when idle
};

class Logger;

// A thread's handle for logging. Thread: one thread at a time (it owns a moodycamel producer
// token). Lifetime: must not outlive its Logger. Movable.
class LogProducer {
 public:
  LogProducer(LogProducer&&) noexcept;
  LogProducer& operator=(LogProducer&&) noexcept;
  ~LogProducer();

  // Enqueues one record; false if it was dropped (queue full) or a level below the logger's.
  // Hot path: no allocation, lock or syscall (clock_gettime is the vDSO).
  template <typename... Args>
  bool Log(LogLevel level, const char* fmt, const Args&... args) noexcept {
    static_assert(CountInts<Args...>() <= kLogMaxArgs, "at most kLogMaxArgs integer arguments");
    static_assert(CountTexts<Args...>() <= 1, "at most one text argument");
    if (!Enabled(level)) return false;
    LogRecord r;
    r.fmt = fmt;
    r.level = static_cast<uint8_t>(level);
    (Put(r, args), ...);
    return Submit(r);
  }

  bool Enabled(LogLevel level) const noexcept;
  // Records this producer lost to a full queue.
  uint64_t dropped() const noexcept;
  // Records this producer enqueued.
  uint64_t enqueued() const noexcept;

 private:
  friend class Logger;
  struct Impl;
  explicit LogProducer(std::unique_ptr<Impl> impl) noexcept;
  bool Submit(LogRecord& r) noexcept;

  template <typename T>
  static constexpr bool kIsText = std::is_convertible_v<const T&, std::string_view>;
  template <typename... Args>
  static constexpr int CountInts() {
    return (0 + ... + (kIsText<Args> ? 0 : 1));
  }
  template <typename... Args>
  static constexpr int CountTexts() {
    return (0 + ... + (kIsText<Args> ? 1 : 0));
  }
  template <typename T>
  static void Put(LogRecord& r, const T& v) noexcept {
    if constexpr (kIsText<T>) {
      const std::string_view s(v);
      const size_t n = s.size() < kLogTextCapacity ? s.size() : kLogTextCapacity;
      if (n > 0) std::memcpy(r.text, s.data(), n);  // an empty view may have a null data()
      r.text_len = static_cast<uint8_t>(n);
    } else if constexpr (std::is_enum_v<T>) {
      r.args[r.nargs++] = static_cast<int64_t>(static_cast<std::underlying_type_t<T>>(v));
    } else {
      static_assert(std::is_integral_v<T>, "log arguments are integers, enums, bools or text");
      r.args[r.nargs++] = static_cast<int64_t>(v);
    }
  }

  std::unique_ptr<Impl> impl_;
};

// The logger: owns the queue, the output and the logger thread.
//
// Thread: every method from any thread. Lifetime: the destructor calls Stop().
class Logger {
 public:
  // Opens the output (a file is opened O_APPEND, created 0640) and starts the logger thread.
  // The queue preallocates its blocks for `capacity` records (128 bytes each). Errors:
  // InvalidArgument (capacity 0), Internal (the file cannot be opened: names the path).
  static absl::StatusOr<std::unique_ptr<Logger>> Start(const LoggerOptions& options);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // A handle for one thread, named in its lines (cut at 15 bytes). Allocates (warm-up).
  // Errors: ResourceExhausted after kLogMaxProducers producers, FailedPrecondition once stopped.
  absl::StatusOr<LogProducer> MakeProducer(std::string_view name);

  // Control plane: logs `text` of any length as one line (copied: allocates). Serialised by a
  // mutex. False if dropped or below the level.
  bool LogText(LogLevel level, std::string_view text);

  // Waits until every record enqueued (by any producer) before the call has been written to the
  // output. False if `timeout` passed first. Does not fsync.
  bool Flush(absl::Duration timeout);

  // Writes what is queued (for at most `timeout`), reports drops, and joins the logger thread.
  // What is left after `timeout` is discarded and counted as dropped. Idempotent.
  void Stop(absl::Duration timeout = absl::Seconds(2));

  void set_level(LogLevel level) noexcept;
  LogLevel level() const noexcept;
  // Records dropped over all producers (queue full or discarded at Stop).
  uint64_t dropped() const noexcept;
  // Lines written to the output (drop reports included).
  uint64_t written() const noexcept;

  struct State;  // internal

 private:
  explicit Logger(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Formats one record's message (without timestamp, level, name) into `out` (`cap` bytes);
// returns the length written (cut at cap). For tests and for the logger thread.
size_t FormatLogMessage(const LogRecord& r, char* out, size_t cap) noexcept;

}  // namespace nzeza::app

#endif  // NZEZA_APP_LOGGER_H_
