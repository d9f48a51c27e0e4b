// The strategy interface: what a strategy sees (top of book, trades, status, its own executions)
// and how it asks for orders (OrderIntents into a fixed-capacity sink that the signal stage pushes
// onto the ring to risk).
//
//   absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(StrategyConfig{
//       .type = "market_maker", .strategy_id = 1, .instrument = spec,
//       .params = {{"order_size", "0.01"}, {"half_spread_ticks", "2"}, ...}});
//   IntentSink out;
//   (*s)->OnBook(view, out);                   // hot path: no allocation, no lock, no throw
//   for (const OrderIntent& i : out.intents()) ring.try_push(i);
//
// Adding a strategy is one class (a Strategy with a static Create(const StrategyConfig&)) and
// one line in the table in strategy_registry.cc.
#ifndef NZEZA_SIGNAL_STRATEGY_H_
#define NZEZA_SIGNAL_STRATEGY_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nzeza/core/events.h"

namespace nzeza {

// What a strategy needs to know about an instrument: its scales and increments, as mantissas.
struct InstrumentSpec {
  InstrumentId id = 0;
  int price_scale = 0;  // decimals of a price mantissa
  int size_scale = 0;   // decimals of a size mantissa
  int64_t tick = 1;     // price increment, at price_scale
  int64_t lot = 1;      // size increment, at size_scale
};

// The top of one instrument's book as the signal stage hands it to strategies after applying an
// update. A size of 0 means that side is empty.
struct BookView {
  InstrumentId instrument = 0;
  int64_t bid_price = 0;
  int64_t bid_size = 0;
  int64_t ask_price = 0;
  int64_t ask_size = 0;
  // Sizes summed over the top `depth_levels` levels of each side (for imbalance signals).
  int64_t bid_depth_size = 0;
  int64_t ask_depth_size = 0;
  // False while the book is not trustworthy: snapshotting, gap, stale or crossed. Strategies
  // must not open risk on an untradable book.
  bool tradable = false;
  int64_t now_ns = 0;  // monotonic time of the update
  StageTimes times;    // copied into the intents this update causes
};

// Fixed-capacity output of one strategy callback.
//
// Thread: the signal stage's. Allocates: never.
class IntentSink {
 public:
  static constexpr size_t kCapacity = 16;
  // Appends an intent. Returns false (dropping it) when full: a strategy emitting more than
  // kCapacity intents per event is a bug, and the stage counts it.
  [[nodiscard]] bool Emit(const OrderIntent& intent) noexcept {
    if (size_ == kCapacity) {
      ++dropped_;
      return false;
    }
    intents_[size_++] = intent;
    return true;
  }
  std::span<const OrderIntent> intents() const noexcept { return {intents_.data(), size_}; }
  size_t dropped() const noexcept { return dropped_; }
  void Clear() noexcept {
    size_ = 0;
    dropped_ = 0;
  }

 private:
  std::array<OrderIntent, kCapacity> intents_{};
  size_t size_ = 0;
  size_t dropped_ = 0;
};

// A trading strategy for one instrument.
//
// Thread: all callbacks run on the signal stage's thread, one at a time. Callbacks are noexcept,
// must not allocate, lock, block or log synchronously.
class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const noexcept = 0;
  // The book changed (or its tradability did).
  virtual void OnBook(const BookView& book, IntentSink& out) noexcept = 0;
  // A public trade (MdType::kTrade).
  virtual void OnTrade(const MdEvent& /*trade*/, IntentSink& /*out*/) noexcept {}
  // An execution of one of this strategy's orders (ack, fill, cancel, reject, ...).
  virtual void OnExec(const ExecEvent& exec, IntentSink& out) noexcept = 0;
  // Recovery, before the first callback: the instrument's position (signed size mantissa) as
  // the order manager rebuilt it from the journal, so the strategy starts from what is held
  // rather than flat. A strategy that keeps a position takes it as its own (SignalStage calls
  // this only when it is the instrument's one strategy); the default ignores it.
  virtual void SeedPosition(int64_t /*qty*/) noexcept {}
};

// Everything needed to build a strategy. `params` are decimal/integer/boolean strings from the
// configuration file, parsed by the strategy at creation (control plane).
struct StrategyConfig {
  std::string type;          // registry name, e.g. "market_maker"
  uint32_t strategy_id = 0;  // stamped on every intent
  InstrumentSpec instrument;
  absl::flat_hash_map<std::string, std::string> params;
};

// Builds a registered strategy. Errors: NotFound for an unknown type (the message lists the
// known ones); InvalidArgument for a missing, unknown or malformed parameter (the message names
// the strategy and the key).
absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const StrategyConfig& config);
// Names of the registered strategies.
std::vector<std::string_view> StrategyNames();

// Reads typed parameters with errors that name the key; tracks which keys were read so unknown
// (e.g. misspelt) keys are reported by Finish().
//
// Thread: control plane. Allocates: yes.
class ParamReader {
 public:
  explicit ParamReader(const StrategyConfig& config) : config_(config) {}
  // A decimal at `scale` (e.g. a size at the instrument's size scale), > 0 unless allow_zero.
  int64_t Decimal(std::string_view key, int scale, bool allow_zero = false);
  int64_t Decimal(std::string_view key, int scale, int64_t fallback, bool allow_zero);
  // A non-negative integer.
  int64_t Integer(std::string_view key, int64_t min, int64_t max);
  int64_t Integer(std::string_view key, int64_t min, int64_t max, int64_t fallback);
  bool Boolean(std::string_view key, bool fallback);
  // OK if every read succeeded and no key was left unread; else the first problem.
  absl::Status Finish() const;
  // Finish(), then: the instrument's tick and lot are positive and `order_size` is a whole number
  // of lots. The checks every strategy that places `order_size` orders needs.
  absl::Status FinishWithOrderSize(int64_t order_size) const;

 private:
  const std::string* Find(std::string_view key);
  void Fail(std::string_view key, std::string_view problem);

  const StrategyConfig& config_;
  std::vector<std::string> read_;
  absl::Status status_;
};

}  // namespace nzeza

#endif  // NZEZA_SIGNAL_STRATEGY_H_
