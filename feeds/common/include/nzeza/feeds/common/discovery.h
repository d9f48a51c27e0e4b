// InstrumentDiscovery: builds an instrument table from a recording when no metadata is at hand
// (nzeza-decode on a capture). Each venue's Discover<Venue>Instruments(message, &d) notes the
// symbols a message mentions and the price and size texts it carries; Build() gives each symbol
// the smallest scales that represent every noted value exactly. Metadata the venue publishes in the
// stream itself (dYdX v4_markets tickSize/stepSize) is noted with SetScales and wins.
//
// This is a tool's helper, off the hot path: it allocates freely. A decoder itself never guesses a
// scale; it is given a SymbolTable.
#ifndef NZEZA_FEEDS_COMMON_DISCOVERY_H_
#define NZEZA_FEEDS_COMMON_DISCOVERY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nzeza/feeds/common/instruments.h"

namespace nzeza {

class InstrumentDiscovery {
 public:
  void NoteSymbol(std::string_view symbol);
  void NotePrice(std::string_view symbol, std::string_view price);
  void NoteSize(std::string_view symbol, std::string_view size);
  // Authoritative scales (from venue metadata), e.g. from a tick size "0.01" -> 2.
  void SetScales(std::string_view symbol, int32_t price_scale, int32_t size_scale);

  // Symbols in order of first appearance, ids 0..n-1, scales as described above (at most 18).
  std::vector<FeedInstrument> Build() const;
  size_t size() const noexcept { return entries_.size(); }

  // Significant decimals of a decimal text: "0.35130000" -> 4, "12" -> 0, "1.5e-3" -> 4.
  // Malformed text -> -1.
  static int32_t DecimalsOf(std::string_view text) noexcept;

 private:
  struct Entry {
    std::string symbol;
    int32_t price_scale = 0;
    int32_t size_scale = 0;
    bool fixed = false;
  };
  Entry& Get(std::string_view symbol);
  std::vector<Entry> entries_;
};

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_DISCOVERY_H_
