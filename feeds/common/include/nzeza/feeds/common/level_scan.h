// A validating scanner for the one shape that dominates book snapshots on the wire: a JSON array of
// [price, size] pairs of decimal strings, [["14.8024","12.77"],["14.8069","12.49"],...].
//
// simdjson On Demand walks such an array one structural character at a time (about six per level)
// and hands each string over as a token that is then parsed again; on a snapshot of hundreds of
// levels that walk is most of the decoding time. This scanner reads the array once: it finds a
// string's closing quote 16 bytes per compare and converts the digits with one more 16-byte load
// (ParseDecimalPadded), no per-value iterator in between. ScanStringPairs is the same scan
// handing over the two strings in place (Binance parses them once the message is complete).
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
#include <string_view>

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

// p is just after an opening quote: its closing quote, when the string holds no backslash and
// closes before `end`; nullptr otherwise. Reads 16 bytes at a time (up to 15 past `end`).
inline const char* ClosingQuote(const char* p, const char* end) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; p < end; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned hits = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
    if (hits != 0) {
      const char* q = p + std::countr_zero(hits);
      return q < end && *q == '"' ? q : nullptr;
    }
  }
  return nullptr;
#else
  for (; p < end; ++p) {
    if (*p == '"') return p;
    if (*p == '\\') return nullptr;
  }
  return nullptr;
#endif
}

// p is at an opening quote (whitespace before it allowed): the string's content, in place, and
// the byte after its closing quote; nullptr when there is no such plain string.
inline const char* PlainString(const char* p, const char* end, std::string_view* out) noexcept {
  if ((p = Expect(p, end, '"')) == nullptr) return nullptr;
  const char* q = ClosingQuote(p, end);
  if (q == nullptr) return nullptr;
  *out = std::string_view(p, static_cast<size_t>(q - p));
  return q + 1;
}

}  // namespace level_scan_internal

// Whether every byte of [p, p + n) is printable ASCII (0x20..0x7e): text a scanner may take
// knowing it is valid UTF-8 without control characters (what simdjson's first stage checks).
inline bool IsPrintableAscii(const char* p, size_t n) noexcept {
  size_t i = 0;
#if defined(__SSE2__)
  // As signed bytes, printable is 0x20 <= b < 0x7f (bytes >= 0x80 are negative).
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  __m128i bad = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)));
  }
  if (_mm_movemask_epi8(bad) != 0) return false;
#endif
  for (; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Scans the array that starts at p (whitespace before its '[' allowed) and ends before `end`;
// at least 16 bytes past `end` must be readable (kFeedPadding). Each element is a pair of plain
// strings (no backslash), ["<a>","<b>"], handed to pair(a, b) in order as views into the text;
// pair returns false to stop (the scan then fails). Returns the byte after the closing ']', or
// nullptr when the text is not such an array (see the file comment: the caller falls back to its
// general decoder, which decides).
template <typename Pair>
const char* ScanStringPairs(const char* p, const char* end, Pair&& pair) noexcept {
  using level_scan_internal::Expect;
  using level_scan_internal::PlainString;
  if ((p = Expect(p, end, '[')) == nullptr) return nullptr;
  if (const char* q = Expect(p, end, ']')) return q;  // []
  for (;;) {
    std::string_view a, b;
    if ((p = Expect(p, end, '[')) == nullptr || (p = PlainString(p, end, &a)) == nullptr ||
        (p = Expect(p, end, ',')) == nullptr || (p = PlainString(p, end, &b)) == nullptr ||
        (p = Expect(p, end, ']')) == nullptr || !pair(a, b)) {
      return nullptr;
    }
    if (const char* q = Expect(p, end, ',')) {
      p = q;
      continue;
    }
    return Expect(p, end, ']');
  }
}

// ScanStringPairs for levels: each pair is ["<price>","<size>"], the price parsed at price_scale
// and > 0, the size at size_scale (ParseDecimalPadded: the text's padding makes the one 16-byte
// load safe); emit(PriceLevel) per element, returning false to stop. A string that is not a
// decimal at its scale fails the scan.
template <typename Emit>
const char* ScanDecimalPairs(const char* p, const char* end, int32_t price_scale,
                             int32_t size_scale, Emit&& emit) noexcept {
  return ScanStringPairs(p, end, [&](std::string_view price, std::string_view size) {
    PriceLevel l;
    return ParseDecimalPadded(price.data(), price.size(), price_scale, Signedness::kUnsigned,
                              &l.price) == DecimalError::kOk &&
           l.price > 0 &&
           ParseDecimalPadded(size.data(), size.size(), size_scale, Signedness::kUnsigned,
                              &l.size) == DecimalError::kOk &&
           emit(l);
  });
}

}  // namespace nzeza

#endif  // NZEZA_FEEDS_COMMON_LEVEL_SCAN_H_
