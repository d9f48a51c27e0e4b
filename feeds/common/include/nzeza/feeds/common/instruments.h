// FeedInstrument and SymbolTable: what a feed decoder knows about the instruments it decodes.
//
//   std::vector<nzeza::FeedInstrument> v = {{"BTC-USD", /*id=*/0, /*price_scale=*/2,
//                                            /*size_scale=*/8}};
//   absl::StatusOr<nzeza::SymbolTable> t = nzeza::SymbolTable::Create(v);
//   if (const nzeza::FeedInstrument* i = t->Find(symbol_from_message)) { ... i->price_scale ... }
//
// Scales come from the venue's instrument metadata (REST) or from configuration, never from the
// message being decoded: a decoder never guesses a scale. A price or size with more decimals than
// its scale allows is a decode error (kBadNumber), never rounded.
//
// Thread: immutable after Create; Find and FindId never allocate and may be called from any
// thread. Allocates: in Create and on copy.
#ifndef NZEZA_FEEDS_COMMON_INSTRUMENTS_H_
#define NZEZA_FEEDS_COMMON_INSTRUMENTS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nzeza/core/events.h"

namespace nzeza {

struct FeedInstrument {
  std::string symbol;       // exactly as the venue writes it in messages: "BTC-USD", "NKNUSDT"
  InstrumentId id = 0;      // the engine's dense instrument id
  int32_t price_scale = 0;  // decimals of the price mantissa, 0..18
  int32_t size_scale = 0;   // decimals of the size mantissa, 0..18
};

class SymbolTable {
 public:
  SymbolTable() = default;
  // Errors: InvalidArgument naming the entry for an empty or duplicate symbol, a duplicate id or
  // a scale outside 0..18.
  static absl::StatusOr<SymbolTable> Create(std::span<const FeedInstrument> instruments);

  // The instrument whose venue symbol is `symbol`, nullptr if none. O(1), no allocation.
  const FeedInstrument* Find(std::string_view symbol) const noexcept;
  // The instrument with engine id `id`, nullptr if none.
  const FeedInstrument* FindId(InstrumentId id) const noexcept;
  // Position of an instrument in all() (dense 0..size()-1), for per-instrument arrays.
  size_t IndexOf(const FeedInstrument* i) const noexcept {
    return static_cast<size_t>(i - instruments_.data());
  }
  std::span<const FeedInstrument> all() const noexcept { return instruments_; }
  size_t size() const noexcept { return instruments_.size(); }

 private:
  std::vector<FeedInstrument> instruments_;
  absl::flat_hash_map<std::string, uint32_t> by_symbol_;
  absl::flat_hash_map<InstrumentId, uint32_t> by_id_;
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_INSTRUMENTS_H_
