// A validating scanner for the one shape that dominates book snapshots on the wire: a JSON array of
// [price, size] pairs of decimal strings, [["14.8024","12.77"],["14.8069","12.49"],...].
//
// simdjson On Demand walks such an array one structural character at a time (about six per level)
// and hands each string over as a token that is then parsed again; on a snapshot of hundreds of
// levels that walk is most of the decoding time. This scanner reads the array once: it finds a
// string's closing quote with one 16-byte compare and converts the digits from the same bytes
// (ParseDecimalPadded), no per-value iterator in between.
//
// It takes only what it can decide alone and exactly: strings of plain decimals (no escape, no
// other character), two per element, JSON whitespace between tokens. Anything else, valid JSON or
// not, makes it return nullptr; the caller then decodes the message its general way, which
// accepts or refuses it with its usual errors. So the scanner never widens what a decoder accepts
// and never decides an error itself.
#ifndef NZEZA_FEEDS_COMMON_LEVEL_SCAN_H_
#define NZEZA_FEEDS_COMMON_LEVEL_SCAN_H_

#include <bit>
#include <cstdint>
#include <cstring>

#include "nzeza/core/decimal.h"
#include "nzeza/core/events.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace nzeza {
namespace level_scan_internal {

inline bool IsJsonSpace(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// The byte after `c` at p, whitespace before it skipped; nullptr when the next token is not `c`.
inline const char* Expect(const char* p, const char* end, char c) noexcept {
  if (p < end && *p == c) return p + 1;  // the compact form venues send
  while (p < end && IsJsonSpace(*p)) ++p;
  return p < end && *p == c ? p + 1 : nullptr;
}

// p is just after an opening quote: the string's content as a decimal at `scale` (> 0 when
// `positive`). Returns the byte after the closing quote, or nullptr.
inline const char* QuotedDecimal(const char* p, const char* end, int32_t scale, bool positive,
                                 int64_t* out) noexcept {
  const size_t room = static_cast<size_t>(end - p);
  size_t len;
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const unsigned quotes =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
  if (quotes != 0) {
    len = static_cast<size_t>(std::countr_zero(quotes));
  } else
#endif
  {
    const void* q = std::memchr(p, '"', room);
    if (q == nullptr) return nullptr;
    len = static_cast<size_t>(static_cast<const char*>(q) - p);
  }
  // The quote must lie inside the text (the 16-byte load may see the padding); an escaped quote
  // leaves a backslash in the digits, which the decimal parser refuses.
  if (len >= room) return nullptr;
  if (ParseDecimalPadded(p, len, scale, Signedness::kUnsigned, out) != DecimalError::kOk) {
    return nullptr;
  }
  if (positive && *out <= 0) return nullptr;
  return p + len + 1;
}

}  // namespace level_scan_internal

// Scans the array that starts at p (whitespace before its '[' allowed) and ends before `end`;
// at least 16 bytes past `end` must be readable (kFeedPadding). Each element is
// ["<price>","<size>"]: the price parsed at price_scale and > 0, the size at size_scale. Calls
// emit(PriceLevel) per element in order; emit returns false to stop (the scan then fails).
// Returns the byte after the closing ']', or nullptr when the text is not such an array (see the
// file comment: the caller falls back to its general decoder, which decides).
template <typename Emit>
const char* ScanDecimalPairs(const char* p, const char* end, int32_t price_scale,
                             int32_t size_scale, Emit&& emit) noexcept {
  using level_scan_internal::Expect;
  using level_scan_internal::QuotedDecimal;
  if ((p = Expect(p, end, '[')) == nullptr) return nullptr;
  if (const char* q = Expect(p, end, ']')) return q;  // []
  for (;;) {
    PriceLevel l;
    if ((p = Expect(p, end, '[')) == nullptr || (p = Expect(p, end, '"')) == nullptr ||
        (p = QuotedDecimal(p, end, price_scale, /*positive=*/true, &l.price)) == nullptr ||
        (p = Expect(p, end, ',')) == nullptr || (p = Expect(p, end, '"')) == nullptr ||
        (p = QuotedDecimal(p, end, size_scale, /*positive=*/false, &l.size)) == nullptr ||
        (p = Expect(p, end, ']')) == nullptr || !emit(l)) {
      return nullptr;
    }
    if (const char* q = Expect(p, end, ',')) {
      p = q;
      continue;
    }
    return Expect(p, end, ']');
  }
}

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_LEVEL_SCAN_H_
