#include "nzeza/feeds/common/discovery.h"

#include <algorithm>

#include "nzeza/core/decimal.h"

namespace nzeza {

int32_t InstrumentDiscovery::DecimalsOf(std::string_view text) noexcept {
  // The smallest scale at which the text parses exactly.
  for (int32_t scale = 0; scale <= 18; ++scale) {
    int64_t m = 0;
    const DecimalError e = ParseDecimal(text.data(), text.size(), scale, Signedness::kSigned, &m);
    if (e == DecimalError::kOk) return scale;
    if (e != DecimalError::kTooManyDecimals) return -1;
  }
  return -1;
}

InstrumentDiscovery::Entry& InstrumentDiscovery::Get(std::string_view symbol) {
  for (Entry& e : entries_) {
    if (e.symbol == symbol) return e;
  }
  entries_.push_back(Entry{std::string(symbol)});
  return entries_.back();
}

void InstrumentDiscovery::NoteSymbol(std::string_view symbol) { (void)Get(symbol); }

void InstrumentDiscovery::NotePrice(std::string_view symbol, std::string_view price) {
  Entry& e = Get(symbol);
  const int32_t d = DecimalsOf(price);
  if (!e.fixed && d > e.price_scale) e.price_scale = d;
}

void InstrumentDiscovery::NoteSize(std::string_view symbol, std::string_view size) {
  Entry& e = Get(symbol);
  const int32_t d = DecimalsOf(size);
  if (!e.fixed && d > e.size_scale) e.size_scale = d;
}

void InstrumentDiscovery::SetScales(std::string_view symbol, int32_t price_scale,
                                    int32_t size_scale) {
  Entry& e = Get(symbol);
  e.price_scale = std::clamp(price_scale, 0, 18);
  e.size_scale = std::clamp(size_scale, 0, 18);
  e.fixed = true;
}

std::vector<FeedInstrument> InstrumentDiscovery::Build() const {
  std::vector<FeedInstrument> out;
  out.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    out.push_back(FeedInstrument{entries_[i].symbol, static_cast<InstrumentId>(i),
                                 entries_[i].price_scale, entries_[i].size_scale});
  }
  return out;
}

}  // namespace nzeza
