// Small, allocation-free text helpers that every venue decoder needs.
#ifndef NZEZA_FEEDS_COMMON_TEXT_H_
#define NZEZA_FEEDS_COMMON_TEXT_H_

#include <cstdint>
#include <string_view>

#include "nzeza/core/decimal.h"

namespace nzeza {

// Parses a venue decimal string at `scale` (exact; see decimal.h). Sizes and prices are unsigned.
inline DecimalError ParseScaled(std::string_view s, int32_t scale, int64_t* out) noexcept {
  return ParseDecimal(s.data(), s.size(), scale, Signedness::kUnsigned, out);
}

// Parses an RFC 3339 / ISO 8601 UTC timestamp as venues write them into Unix nanoseconds:
// "2023-02-09T20:32:50.714964855Z", "2021-04-17T16:43:37.153979Z", "2024-08-22T23:59:58.855Z",
// "1970-01-01T00:00:00Z" (0..9 fractional digits, 'Z' or "+00:00"). Also Coinbase's heartbeat form
// "2023-06-23 20:31:56.121961769 +0000 UTC ..." is NOT accepted (not a timestamp field we use).
// Returns false (no write) on anything else, including out-of-range fields.
bool ParseIso8601Nanos(std::string_view s, int64_t* unix_ns) noexcept;

// 64-bit FNV-1a of a string: a stable numeric id for venues whose trade ids are not numbers.
inline constexpr uint64_t Fnv1a64(std::string_view s) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Parses a non-negative decimal integer that fills all of `s` (no sign, no spaces, <= UINT64_MAX).
bool ParseU64(std::string_view s, uint64_t* out) noexcept;

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_TEXT_H_
