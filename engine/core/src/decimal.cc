// Exact fixed-point parsing and formatting. See decimal.h for the grammar and the decisions.
//
// Parsing has three paths, and every load stays inside [data, data + size):
// - ParseShort (built when SSSE3 and SSE4.1 are enabled, e.g. by the default -march=haswell):
//   "[-]digits[.digits]" of at most 16 bytes, which is nearly every price and size a venue sends.
//   The text is loaded as two overlapping 8-byte halves (or assembled from 4/2/1-byte loads when
//   shorter than 8), classified with SSE compares, the '.' squeezed out and the digits aligned
//   with two shuffles, and converted with multiply-adds; no loop and no branch per digit.
// - ParseLong: the same form at any length with at most 19 integer digits, 8 digits per step
//   with SWAR arithmetic on 64-bit words (the only path without SSE).
// - ParseSlow: a plain byte loop that handles everything else (a '+', exponents, 20+ integer
//   digits) and decides every error. It is complete on its own.
// The fast paths hand anything unusual, including every error but kOverflow, to the next path,
// and return kOverflow only after validating the whole text, so all paths give the same answer.
// Fraction digits beyond the scale are checked to be '0' with one mask instead of converted.

#include <nzeza/core/decimal.h>

#include <bit>
#include <cstring>

#if defined(__SSSE3__) && defined(__SSE4_1__)
#include <immintrin.h>
#endif

namespace nzeza {
namespace {

static_assert(std::endian::native == std::endian::little, "SWAR parsing assumes little-endian");

constexpr uint64_t kPow10U[20] = {1ULL,
                                  10ULL,
                                  100ULL,
                                  1000ULL,
                                  10000ULL,
                                  100000ULL,
                                  1000000ULL,
                                  10000000ULL,
                                  100000000ULL,
                                  1000000000ULL,
                                  10000000000ULL,
                                  100000000000ULL,
                                  1000000000000ULL,
                                  10000000000000ULL,
                                  100000000000000ULL,
                                  1000000000000000ULL,
                                  10000000000000000ULL,
                                  100000000000000000ULL,
                                  1000000000000000000ULL,
                                  10000000000000000000ULL};

constexpr uint64_t kInt64Max = static_cast<uint64_t>(INT64_MAX);
constexpr uint64_t kOnes = 0x0101010101010101ULL;

inline uint64_t Load8(const char* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The bytes [p, end), at most 8 of them, in the low bytes of a word; zero above. Reads only
// inside [data, end).
inline uint64_t LoadUpTo8(const char* data, const char* p, const char* end) noexcept {
  const size_t r = static_cast<size_t>(end - p);
  if (r >= 8) return Load8(p);
  if (r == 0) return 0;
  if (static_cast<size_t>(end - data) >= 8) return Load8(end - 8) >> (8 * (8 - r));
  if (r >= 4) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, end - 4, 4);
    return lo | (static_cast<uint64_t>(hi) << (8 * (r - 4)));
  }
  const auto b = [p](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(p[i])); };
  return b(0) | (b(r >> 1) << (8 * (r >> 1))) | (b(r - 1) << (8 * (r - 1)));
}

// Number of leading ASCII digits in the 8 bytes of w (byte 0 first), 0..8. A byte is a digit iff
// its high nibble is 3 and adding 6 keeps it 3. Carries from a non-digit byte only reach later
// bytes, which do not matter once a non-digit is found.
inline int LeadingDigits(uint64_t w) noexcept {
  const uint64_t hi = w & (0xF0 * kOnes);
  const uint64_t hi6 = ((w + 0x06 * kOnes) & (0xF0 * kOnes)) >> 4;
  const uint64_t non_digit = (hi | hi6) ^ (0x33 * kOnes);
  return non_digit == 0 ? 8 : std::countr_zero(non_digit) >> 3;
}

// The value of 8 digit values 0..9 in the bytes of w, byte 0 the most significant.
inline uint64_t Convert8(uint64_t w) noexcept {
  w = (w * 10) + (w >> 8);
  return (((w & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
          (((w >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
         32;
}

// The value of the n (1..8) leading digit bytes of w. The bytes above n are shifted out, so any
// borrow they cause does not matter.
inline uint64_t ConvertDigits(uint64_t w, int n) noexcept {
  w -= 0x30 * kOnes;
  w <<= 8 * (8 - n);
  return Convert8(w);
}

inline bool IsDigit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }

DecimalError ParseSlow(const char* data, size_t size, int scale, Signedness sign,
                       int64_t* mantissa) noexcept;
DecimalError ParseLong(const char* data, size_t size, int scale, Signedness sign,
                       int64_t* mantissa) noexcept;

#if defined(__SSSE3__) && defined(__SSE4_1__)
#define NZ_DECIMAL_HAVE_SHORT_PATH 1

// Constants of the SSE path.
struct alignas(16) Vec16 {
  int8_t b[16];
};
constexpr Vec16 Splat16(int8_t x) { return {{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}}; }
constexpr Vec16 kAsciiZero = Splat16('0');
constexpr Vec16 kNine = Splat16(9);
constexpr Vec16 kDot = Splat16('.');
constexpr Vec16 kTenOne = {{10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1}};
alignas(16) constexpr int16_t kHundredOne[8] = {100, 1, 100, 1, 100, 1, 100, 1};
alignas(16) constexpr int16_t kTenThousandOne[8] = {10000, 1, 10000, 1, 10000, 1, 10000, 1};
// 16 bytes from kTailWindow + 24 - size (size 8..16) move bytes [0, 8) up by size - 8.
alignas(16) constexpr int8_t kTailWindow[32] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    0,    1,    2,    3,    4,    5,    6,    7,    -128, -128, -128, -128, -128, -128, -128, -128};

// kGather.v[p][a]: for text whose '.' is at byte p (p = length without one), the shuffle that
// right-aligns its first a digits, skipping the '.', with zeros before them: byte k takes digit
// j = k + a - 16 (none if j < 0), which is text byte j before the '.' and byte j + 1 after it.
struct GatherTable {
  Vec16 v[16][16];
};
constexpr GatherTable MakeGatherTable() {
  GatherTable t{};
  for (int p = 0; p < 16; ++p) {
    for (int a = 0; a < 16; ++a) {
      for (int k = 0; k < 16; ++k) {
        const int j = k + a - 16;
        t.v[p][a].b[k] = static_cast<int8_t>(j < 0 ? -128 : (j < p ? j : j + 1));
      }
    }
  }
  return t;
}
constexpr GatherTable kGather = MakeGatherTable();

inline __m128i Load16(const void* p) noexcept {
  return _mm_load_si128(static_cast<const __m128i*>(p));
}

// "[-]digits[.digits]" of 1..16 bytes with at most 15 digits; anything else to ParseLong.
// `scale` is valid.
//
// The text goes into one SSE register with zero bytes after it. Digits, '.' and '0' are
// classified with three compares into bit masks, which validate the text and check that fraction
// digits beyond the scale are '0' in a few scalar operations. One shuffle (from a table indexed
// by the '.' position and the digit count) then squeezes out the '.' and right-aligns the first
// m = integer digits + scale digits (zeros past the text included, at most 15), which is the
// mantissa itself, and three multiply-adds convert it (the simdjson way).
//
// ParseShortVec is the conversion, given v = the text's `size` bytes (1..16) with zeros after
// them; ParseShort and ParsePadded differ only in how they load v.
inline DecimalError ParseShortVec(__m128i v, const char* data, size_t size, int scale,
                                  Signedness sign, int64_t* mantissa) noexcept {
  int len = static_cast<int>(size);
  bool neg = false;
  if (*data == '-') {
    if (sign == Signedness::kUnsigned) return ParseSlow(data, size, scale, sign, mantissa);
    neg = true;
    v = _mm_srli_si128(v, 1);
    --len;
  }
  const unsigned text = (1u << len) - 1;  // bytes [0, len)
  const __m128i d = _mm_sub_epi8(v, Load16(&kAsciiZero));
  const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, Load16(&kNine)), d);
  const unsigned digit_mask = static_cast<unsigned>(_mm_movemask_epi8(is_digit));
  const unsigned dot_mask =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, Load16(&kDot))));
  const unsigned zero_mask =
      static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())));
  const int int_digits = std::countr_zero(dot_mask | (text + 1));  // the '.' or len
  // Fraction digits beyond the scale: text bytes [int_digits + 1 + scale, len).
  const uint64_t beyond = text & (~uint64_t{0} << (int_digits + 1 + scale));
  // Plain text: only digits and at most one '.', 1..15 digits; and '0' beyond the scale.
  if ((digit_mask | dot_mask) != text || (dot_mask & (dot_mask - 1)) != 0 || digit_mask == 0 ||
      digit_mask == 0xFFFF || (beyond & ~uint64_t{zero_mask}) != 0) {
    return ParseLong(data, size, scale, sign, mantissa);  // errors, 16 digits, or not plain
  }
  const int m = int_digits + scale;  // digits of the mantissa
  const int a = m < 15 ? m : 15;     // the first a of them are converted, the rest are zeros
  const __m128i aligned =
      _mm_shuffle_epi8(_mm_and_si128(d, is_digit), Load16(&kGather.v[int_digits][a]));
  const __m128i pairs = _mm_maddubs_epi16(aligned, Load16(&kTenOne));
  const __m128i quads = _mm_madd_epi16(pairs, Load16(kHundredOne));
  const __m128i octs = _mm_madd_epi16(_mm_packus_epi32(quads, quads), Load16(kTenThousandOne));
  const uint64_t halves = static_cast<uint64_t>(_mm_cvtsi128_si64(octs));
  const uint64_t value = (halves & 0xFFFFFFFF) * 100000000ULL + (halves >> 32);  // < 10^15
  uint64_t mag = value;
  if (m > 15) {  // the last m - 15 digits are zeros
    if (__builtin_mul_overflow(value, kPow10U[m - 15], &mag) || mag > kInt64Max) {
      return DecimalError::kOverflow;
    }
  }
  *mantissa = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  return DecimalError::kOk;
}
// The text loaded without reading outside [data, data + size).
inline DecimalError ParseShort(const char* data, size_t size, int scale, Signedness sign,
                               int64_t* mantissa) noexcept {
  __m128i v;
  if (size >= 8) {
    // Bytes [0, 8) and [size - 8, size), the second moved up to its place; they agree where
    // they overlap.
    const __m128i head = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(data));
    const __m128i tail = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(data + size - 8));
    v = _mm_or_si128(head, _mm_shuffle_epi8(tail, _mm_loadu_si128(reinterpret_cast<const __m128i*>(
                                                      kTailWindow + 24 - size))));
  } else {
    v = _mm_cvtsi64_si128(static_cast<long long>(LoadUpTo8(data, data, data + size)));
  }
  return ParseShortVec(v, data, size, scale, sign, mantissa);
}

// 16 bytes at data are readable: one load, the bytes past the text cleared with a mask (no
// branch on the length).
alignas(16) constexpr int8_t kPrefixWindow[32] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                  -1, -1, -1, -1, -1, 0,  0,  0,  0,  0,  0,
                                                  0,  0,  0,  0,  0,  0,  0,  0,  0,  0};
inline DecimalError ParsePadded(const char* data, size_t size, int scale, Signedness sign,
                                int64_t* mantissa) noexcept {
  const __m128i keep = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPrefixWindow + 16 - size));
  const __m128i v = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data)), keep);
  return ParseShortVec(v, data, size, scale, sign, mantissa);
}
#endif  // SSSE3 && SSE4.1

// Exponents beyond this are saturated: with at most 19 significant digits and any realistic
// text length, the result is then certainly out of range or certainly non-integral.
constexpr int64_t kExponentCap = 100000000000000000LL;  // 1e17

// The complete parser: byte by byte, any length, exponents, every error. `scale` is valid and
// size > 0.
DecimalError ParseSlow(const char* data, size_t size, int scale, Signedness sign,
                       int64_t* mantissa) noexcept {
  const char* p = data;
  const char* const end = data + size;
  bool neg = false;
  if (*p == '-' || *p == '+') {
    neg = *p == '-';
    ++p;
  }
  // The significant digits (first to last non-zero) as acc while there are at most 19 of them.
  uint64_t acc = 0;
  int64_t sig = 0;
  int64_t pending_zeros = 0;  // zeros after the last non-zero digit
  int64_t digit_index = 0;    // index of the next digit among all mantissa digits
  int64_t last_nonzero = -1;  // index of the last non-zero digit
  const auto consume = [&](char c) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (d == 0) {
      if (sig > 0) ++pending_zeros;
    } else {
      if (sig == 0) {
        sig = 1;
        acc = d;
      } else {
        sig += pending_zeros + 1;
        if (sig <= 19) acc = acc * kPow10U[pending_zeros + 1] + d;
      }
      pending_zeros = 0;
      last_nonzero = digit_index;
    }
    ++digit_index;
  };
  while (p < end && IsDigit(*p)) consume(*p++);
  const int64_t int_len = digit_index;
  if (p < end && *p == '.') {
    ++p;
    while (p < end && IsDigit(*p)) consume(*p++);
  }
  if (digit_index == 0) return DecimalError::kMalformed;
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exp_neg = false;
    if (p < end && (*p == '+' || *p == '-')) {
      exp_neg = *p == '-';
      ++p;
    }
    if (p == end || !IsDigit(*p)) return DecimalError::kMalformed;
    while (p < end && IsDigit(*p)) {
      if (exponent < kExponentCap) exponent = exponent * 10 + (*p - '0');
      ++p;
    }
    if (exp_neg) exponent = -exponent;
  }
  if (p != end) return DecimalError::kMalformed;
  if (neg && sign == Signedness::kUnsigned) return DecimalError::kSignNotAllowed;
  if (sig == 0) {
    *mantissa = 0;
    return DecimalError::kOk;
  }
  // value * 10^scale == significand * 10^shift, and the significand ends in a non-zero digit.
  const int64_t shift = int_len - 1 - last_nonzero + exponent + scale;
  if (shift < 0) return DecimalError::kTooManyDecimals;
  if (sig + shift > 19) return DecimalError::kOverflow;  // >= 10^19
  const uint64_t mag = acc * kPow10U[shift];             // < 10^19 < 2^64
  if (mag > kInt64Max) return DecimalError::kOverflow;
  *mantissa = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  return DecimalError::kOk;
}

// "[-]digits[.digits]" of any length with at most 19 integer digits, 8 digits per step;
// anything else to ParseSlow. `scale` is valid and size > 0.
DecimalError ParseLong(const char* data, size_t size, int scale, Signedness sign,
                       int64_t* mantissa) noexcept {
  const char* p = data;
  const char* const end = data + size;
  bool neg = false;
  if (*p == '-') {
    if (sign == Signedness::kUnsigned) return ParseSlow(data, size, scale, sign, mantissa);
    neg = true;
    ++p;
  }

  // Integer digits, 8 at a time; 20+ (leading zeros included) go to the slow path.
  uint64_t int_part = 0;
  int int_digits = 0;
  for (;;) {
    const uint64_t w = LoadUpTo8(data, p, end);
    const int n = LeadingDigits(w);
    if (n == 0) break;
    if (int_digits + n > 19) return ParseSlow(data, size, scale, sign, mantissa);
    int_part = int_part * kPow10U[n] + ConvertDigits(w, n);
    int_digits += n;
    p += n;
    if (n < 8 || p == end) break;
  }

  // Fraction digits: the first `scale` are converted, the rest must be '0'.
  uint64_t frac = 0;
  int frac_digits = 0;
  if (p != end) {
    if (*p != '.') return ParseSlow(data, size, scale, sign, mantissa);
    ++p;
    for (;;) {
      const uint64_t w = LoadUpTo8(data, p, end);
      const int n = LeadingDigits(w);
      if (n == 0) break;
      int keep = scale - frac_digits;
      keep = keep < 0 ? 0 : (keep > n ? n : keep);
      if (keep < n) {
        const uint64_t in_run = n == 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
        const uint64_t beyond_scale = in_run & ~((1ULL << (8 * keep)) - 1);
        if (((w ^ (0x30 * kOnes)) & beyond_scale) != 0) {
          return ParseSlow(data, size, scale, sign, mantissa);  // kTooManyDecimals, or worse
        }
      }
      if (keep > 0) frac = frac * kPow10U[keep] + ConvertDigits(w, keep);
      frac_digits += n;
      p += n;
      if (n < 8 || p == end) break;
    }
    if (p != end || int_digits + frac_digits == 0) {
      return ParseSlow(data, size, scale, sign, mantissa);
    }
  } else if (int_digits == 0) {
    return ParseSlow(data, size, scale, sign, mantissa);  // "-"
  }

  const int kept = frac_digits < scale ? frac_digits : scale;
  const uint64_t frac_scaled = frac * kPow10U[scale - kept];
  uint64_t mag;
  if (int_digits + scale <= 18) {
    mag = int_part * kPow10U[scale] + frac_scaled;  // < 10^18
  } else if (__builtin_mul_overflow(int_part, kPow10U[scale], &mag) ||
             __builtin_add_overflow(mag, frac_scaled, &mag) || mag > kInt64Max) {
    return DecimalError::kOverflow;
  }
  *mantissa = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  return DecimalError::kOk;
}

// Digits of v, most significant first, into out; returns the count (1..20).
inline int WriteDigits(uint64_t v, char* out) noexcept {
  char buf[20];
  int i = 20;
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  std::memcpy(out, buf + i, static_cast<size_t>(20 - i));
  return 20 - i;
}

// Digits of a 128-bit magnitude (< 2^128 / 2, as |int128|), most significant first.
inline int WriteDigits128(unsigned __int128 v, char* out) noexcept {
  constexpr uint64_t k19 = kPow10U[19];
  if (v <= ~0ULL) return WriteDigits(static_cast<uint64_t>(v), out);
  const unsigned __int128 hi = v / k19;  // < 2^127 / 10^19 < 2^64
  const uint64_t lo = static_cast<uint64_t>(v % k19);
  const int n = WriteDigits(static_cast<uint64_t>(hi), out);
  char low[20];
  const int m = WriteDigits(lo, low);
  std::memset(out + n, '0', static_cast<size_t>(19 - m));
  std::memcpy(out + n + 19 - m, low, static_cast<size_t>(m));
  return n + 19;
}

// Lays out sign, digits (nd >= 1, no leading zeros unless the value is 0) and a '.' before the
// last `scale` digits. `canonical` drops trailing fractional zeros (and the '.' if none remain).
size_t Layout(bool neg, const char* digits, int nd, int scale, bool canonical, char* out) noexcept {
  char* o = out;
  const bool zero = nd == 1 && digits[0] == '0';
  if (zero) {
    *o++ = '0';
    if (!canonical && scale > 0) {
      *o++ = '.';
      std::memset(o, '0', static_cast<size_t>(scale));
      o += scale;
    }
    return static_cast<size_t>(o - out);
  }
  if (canonical) {
    while (scale > 0 && digits[nd - 1] == '0') {
      --nd;
      --scale;
    }
  }
  if (neg) *o++ = '-';
  if (nd > scale) {
    const int int_digits = nd - scale;
    std::memcpy(o, digits, static_cast<size_t>(int_digits));
    o += int_digits;
    if (scale > 0) {
      *o++ = '.';
      std::memcpy(o, digits + int_digits, static_cast<size_t>(scale));
      o += scale;
    }
  } else {
    *o++ = '0';
    *o++ = '.';
    std::memset(o, '0', static_cast<size_t>(scale - nd));
    o += scale - nd;
    std::memcpy(o, digits, static_cast<size_t>(nd));
    o += nd;
  }
  return static_cast<size_t>(o - out);
}

size_t Format64(int64_t mantissa, int scale, bool canonical, char* out) noexcept {
  if (scale < 0 || scale > kMaxDecimalScale) return 0;
  const bool neg = mantissa < 0;
  const uint64_t mag = neg ? 0 - static_cast<uint64_t>(mantissa) : static_cast<uint64_t>(mantissa);
  char digits[20];
  const int nd = WriteDigits(mag, digits);
  return Layout(neg, digits, nd, scale, canonical, out);
}

}  // namespace

const char* DecimalErrorName(DecimalError e) noexcept {
  switch (e) {
    case DecimalError::kOk:
      return "ok";
    case DecimalError::kEmpty:
      return "empty";
    case DecimalError::kMalformed:
      return "malformed";
    case DecimalError::kTooManyDecimals:
      return "too many decimals";
    case DecimalError::kOverflow:
      return "overflow";
    case DecimalError::kSignNotAllowed:
      return "sign not allowed";
    case DecimalError::kBadScale:
      return "bad scale";
    case DecimalError::kScaleMismatch:
      return "scale mismatch";
  }
  return "unknown";
}

namespace {
// ParseDecimal and ParseDecimalPadded: they differ only in how short text is loaded.
template <bool kPadded>
inline DecimalError ParseAny(const char* data, size_t size, int scale, Signedness sign,
                             int64_t* mantissa) noexcept {
  if (static_cast<unsigned>(scale) > static_cast<unsigned>(kMaxDecimalScale)) {
    return DecimalError::kBadScale;
  }
#ifdef NZ_DECIMAL_HAVE_SHORT_PATH
  if (size - 1 < 16) {
    return kPadded ? ParsePadded(data, size, scale, sign, mantissa)
                   : ParseShort(data, size, scale, sign, mantissa);
  }
#endif
  if (size == 0) return DecimalError::kEmpty;
  return ParseLong(data, size, scale, sign, mantissa);
}
}  // namespace

DecimalError ParseDecimal(const char* data, size_t size, int scale, Signedness sign,
                          int64_t* mantissa) noexcept {
  return ParseAny<false>(data, size, scale, sign, mantissa);
}

DecimalError ParseDecimalPadded(const char* data, size_t size, int scale, Signedness sign,
                                int64_t* mantissa) noexcept {
  return ParseAny<true>(data, size, scale, sign, mantissa);
}

size_t FormatDecimal(int64_t mantissa, int scale, char* out) noexcept {
  return Format64(mantissa, scale, /*canonical=*/true, out);
}

size_t FormatDecimalFixed(int64_t mantissa, int scale, char* out) noexcept {
  return Format64(mantissa, scale, /*canonical=*/false, out);
}

DecimalError RescaleDecimal(int64_t mantissa, int from_scale, int to_scale, int64_t* out) noexcept {
  if (from_scale < 0 || from_scale > kMaxDecimalScale || to_scale < 0 ||
      to_scale > kMaxDecimalScale) {
    return DecimalError::kBadScale;
  }
  if (to_scale >= from_scale) {
    int64_t r;
    if (__builtin_mul_overflow(mantissa, internal_decimal::kPow10[to_scale - from_scale], &r) ||
        r == INT64_MIN) {
      return DecimalError::kOverflow;
    }
    *out = r;
    return DecimalError::kOk;
  }
  const int64_t divisor = internal_decimal::kPow10[from_scale - to_scale];  // >= 10
  if (mantissa % divisor != 0) return DecimalError::kTooManyDecimals;
  *out = mantissa / divisor;
  return DecimalError::kOk;
}

DecimalError Decimal::Parse(std::string_view s, int scale, Signedness sign, Decimal* out) noexcept {
  int64_t m;
  const DecimalError e = ParseDecimal(s.data(), s.size(), scale, sign, &m);
  if (e == DecimalError::kOk) *out = FromMantissa(m, scale);
  return e;
}

std::string Decimal::ToString() const {
  char buf[kMaxDecimalChars];
  return std::string(buf, Format(buf));
}

DecimalError Decimal::Rescale(int to_scale, Decimal* out) const noexcept {
  int64_t m;
  const DecimalError e = RescaleDecimal(mantissa_, scale_, to_scale, &m);
  if (e == DecimalError::kOk) *out = FromMantissa(m, to_scale);
  return e;
}

size_t Notional::Format(char* out) const noexcept {
  if (scale < 0 || scale > kMaxNotionalScale) return 0;
  const bool neg = mantissa < 0;
  const unsigned __int128 mag =
      neg ? 0 - static_cast<unsigned __int128>(mantissa) : static_cast<unsigned __int128>(mantissa);
  char digits[40];
  const int nd = WriteDigits128(mag, digits);
  return Layout(neg, digits, nd, scale, /*canonical=*/true, out);
}

DecimalError Notional::Rescale(int to_scale, int64_t* out) const noexcept {
  if (to_scale < 0 || to_scale > kMaxDecimalScale || scale < 0 || scale > kMaxNotionalScale) {
    return DecimalError::kBadScale;
  }
  const bool neg = mantissa < 0;
  unsigned __int128 mag =
      neg ? 0 - static_cast<unsigned __int128>(mantissa) : static_cast<unsigned __int128>(mantissa);
  if (to_scale >= scale) {
    if (mag > kInt64Max) return DecimalError::kOverflow;
    mag *= kPow10U[to_scale - scale];  // < 2^63 * 10^18 < 2^128
  } else {
    const int down = scale - to_scale;  // 1..36
    unsigned __int128 divisor = kPow10U[down > 19 ? 19 : down];
    if (down > 19) divisor *= kPow10U[down - 19];
    if (mag % divisor != 0) return DecimalError::kTooManyDecimals;
    mag /= divisor;
  }
  if (mag > kInt64Max) return DecimalError::kOverflow;
  *out = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  return DecimalError::kOk;
}

}  // namespace nzeza
