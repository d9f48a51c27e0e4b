#include <nzeza/book/book_set.h>

#include <absl/status/status.h>
#include <absl/strings/str_cat.h>

namespace nzeza {

absl::StatusOr<BookSet> BookSet::Create(std::span<const BookConfig> configs) {
  InstrumentId max_id = 0;
  for (size_t i = 0; i < configs.size(); ++i) {
    const BookConfig& c = configs[i];
    if (c.depth < 1 || c.depth > kMaxBookDepth) {
      return absl::InvalidArgumentError(absl::StrCat("book config ", i, " (instrument ",
                                                     c.instrument, "): depth ", c.depth,
                                                     " is outside [1, ", kMaxBookDepth, "]"));
    }
    if (c.instrument > kMaxBookInstrumentId) {
      return absl::InvalidArgumentError(absl::StrCat(
          "book config ", i, ": instrument id ", c.instrument, " is above ", kMaxBookInstrumentId));
    }
    if (c.instrument > max_id) max_id = c.instrument;
  }
  BookSet set;
  set.slot_.assign(configs.empty() ? 0 : size_t{max_id} + 1, kNoSlot);
  set.books_.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    const BookConfig& c = configs[i];
    if (set.slot_[c.instrument] != kNoSlot) {
      return absl::InvalidArgumentError(
          absl::StrCat("book config ", i, ": instrument ", c.instrument, " is listed twice"));
    }
    set.slot_[c.instrument] = static_cast<uint32_t>(set.books_.size());
    set.books_.emplace_back(c.instrument, c.depth);
  }
  return set;
}

}  // namespace nzeza
