#include "nzeza/feeds/common/instruments.h"

#include "absl/strings/str_format.h"

namespace nzeza {

absl::StatusOr<SymbolTable> SymbolTable::Create(std::span<const FeedInstrument> instruments) {
  SymbolTable t;
  t.instruments_.assign(instruments.begin(), instruments.end());
  for (uint32_t i = 0; i < t.instruments_.size(); ++i) {
    const FeedInstrument& in = t.instruments_[i];
    if (in.symbol.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat("instrument %u: empty symbol", i));
    }
    if (in.price_scale < 0 || in.price_scale > 18 || in.size_scale < 0 || in.size_scale > 18) {
      return absl::InvalidArgumentError(
          absl::StrFormat("instrument %s: scales must be 0..18 (price %d, size %d)", in.symbol,
                          in.price_scale, in.size_scale));
    }
    if (!t.by_symbol_.emplace(in.symbol, i).second) {
      return absl::InvalidArgumentError(absl::StrFormat("duplicate symbol %s", in.symbol));
    }
    if (!t.by_id_.emplace(in.id, i).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("instrument %s: duplicate id %u", in.symbol, in.id));
    }
  }
  return t;
}

const FeedInstrument* SymbolTable::Find(std::string_view symbol) const noexcept {
  auto it = by_symbol_.find(absl::string_view(symbol.data(), symbol.size()));
  return it == by_symbol_.end() ? nullptr : &instruments_[it->second];
}

const FeedInstrument* SymbolTable::FindId(InstrumentId id) const noexcept {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &instruments_[it->second];
}

}  // namespace nzeza
