// Exact fixed-point decimals for prices and sizes.
//
// A value is an int64 mantissa and a decimal scale: value = mantissa / 10^scale. The scale is
// fixed per instrument field (taken from the venue's tick size / lot size), so a book or a risk
// check compares and adds plain integers. Text from a venue is parsed exactly or refused with a
// reason; nothing is ever rounded and no `double` is involved (DESIGN.md, "Numbers").
//
//   int64_t px;
//   if (nzeza::ParseDecimal(p, n, /*scale=*/2, nzeza::Signedness::kUnsigned, &px) !=
//       nzeza::DecimalError::kOk) { /* count and drop the message */ }
//   // "43251.23000000" at scale 2 -> px == 4325123
//
//   nzeza::Decimal price = nzeza::Decimal::FromMantissa(4325123, 2);  // 43251.23
//   nzeza::Decimal size = nzeza::Decimal::FromMantissa(150000, 8);    // 0.0015
//   nzeza::Notional n = nzeza::MultiplyNotional(price, size);        // exact, scale 10
//
// Accepted text (the grammar, decided on purpose):
//   [sign] ( digits [ '.' [digits] ] | '.' digits ) [ ('e' | 'E') [sign] digits ]
//   sign = '-' | '+'
// - Whitespace anywhere is kMalformed: venues never pad, and a padded number means the framing
//   around it is wrong.
// - A leading '+' is accepted (it states a non-negative value, also in unsigned fields).
// - ".5" and "5." are accepted (0.5 and 5): the value is unambiguous. A lone ".", "-", "+", "-.",
//   "e5", "1e", "1e+", "1..2", "1.2.3", "0x10", "1,5", "inf", "nan" and any byte outside ASCII
//   (e.g. Arabic-Indic digits) are kMalformed.
// - Exponents are supported exactly ("1e-8", "1.5E+3"), since some venues send them. The
//   exponent is consumed with saturation, so "1e999999999" is kOverflow, "1e-999999999" is
//   kTooManyDecimals and "0e999999999" is 0, all in time linear in the length of the text.
// - Leading zeros are accepted, and any number of digits is exact while the value fits:
//   "0000000000000000000001" and "1.000000000000000000000" are 1.
// - More fractional digits than the scale are accepted when the extra ones are zeros (Binance
//   sends "43251.23000000" for a scale-2 price), otherwise kTooManyDecimals. The same rule holds
//   after applying an exponent.
// - "-0" (and "-0.000", "-0e5") is 0 in a signed field and kSignNotAllowed in an unsigned one.
// - The range of a mantissa is symmetric: [-INT64_MAX, INT64_MAX]. INT64_MIN is never produced by
//   any function here (parse, rescale, add, subtract, negate return kOverflow instead), so
//   negation and absolute value of a result can never overflow. Functions that only read a
//   mantissa (format, compare, multiply) still handle INT64_MIN correctly.
//
// When several errors apply, the first in this order is returned: kBadScale, kEmpty, kMalformed,
// kSignNotAllowed, kTooManyDecimals, kOverflow.
//
// Thread: every function here is pure (no shared state) and may be called from any thread.
// Allocates: nothing, except Decimal::ToString (control plane only).

#ifndef NZEZA_CORE_DECIMAL_H_
#define NZEZA_CORE_DECIMAL_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace nzeza {

namespace internal_decimal {
// 10^0 .. 10^18, for the inline comparison.
inline constexpr int64_t kPow10[19] = {1,
                                       10,
                                       100,
                                       1000,
                                       10000,
                                       100000,
                                       1000000,
                                       10000000,
                                       100000000,
                                       1000000000,
                                       10000000000,
                                       100000000000,
                                       1000000000000,
                                       10000000000000,
                                       100000000000000,
                                       1000000000000000,
                                       10000000000000000,
                                       100000000000000000,
                                       1000000000000000000};
}  // namespace internal_decimal

// Largest scale of a Decimal: 10^18 is the largest power of ten an int64 holds.
inline constexpr int kMaxDecimalScale = 18;
// Buffer size for FormatDecimal / FormatDecimalFixed / Decimal::Format: enough for the longest
// output ("-9.223372036854775808" is 21 chars; "-0.000000000000000001" is 21).
inline constexpr size_t kMaxDecimalChars = 24;
// Buffer size for Notional::Format: up to 39 digits of an int128, '-', '.', a leading "0.".
inline constexpr size_t kMaxNotionalChars = 48;
// Largest scale of a Notional (the sum of two Decimal scales).
inline constexpr int kMaxNotionalScale = 2 * kMaxDecimalScale;

// Why a parse, rescale or arithmetic operation failed.
enum class DecimalError : uint8_t {
  kOk = 0,
  kEmpty,            // the text has no bytes
  kMalformed,        // the text does not follow the grammar above
  kTooManyDecimals,  // the value is not a multiple of 10^-scale (digits would be lost)
  kOverflow,         // the mantissa would be outside [-INT64_MAX, INT64_MAX]
  kSignNotAllowed,   // a '-' in an unsigned field (also "-0")
  kBadScale,         // a scale outside [0, kMaxDecimalScale]
  kScaleMismatch,    // same-scale arithmetic on operands of different scales
};

// A short lower-case name: "ok", "empty", "malformed", "too many decimals", "overflow",
// "sign not allowed", "bad scale", "scale mismatch"; "unknown" for a value outside the enum.
// Returns a static string.
const char* DecimalErrorName(DecimalError e) noexcept;

// Whether a field may hold negative values (prices and sizes: kUnsigned; PnL, changes: kSigned).
enum class Signedness : uint8_t { kUnsigned, kSigned };

// Parses `size` bytes at `data` exactly at `scale` into *mantissa (value * 10^scale).
// `data` needs no NUL terminator and is never read outside [data, data + size); `data` may be
// null when `size` is 0. *mantissa is written only on kOk.
// Errors: kBadScale (scale outside [0, 18]), kEmpty (size 0), kMalformed, kSignNotAllowed
// ('-' with kUnsigned), kTooManyDecimals (non-zero digits beyond the scale), kOverflow.
// Complexity: O(size). Plain "[-]digits[.digits]" text of up to 16 bytes takes an SSE path with
// no per-digit loop (BM_ParsePrice* in bench/core/decimal_benchmark.cc compares it with
// std::from_chars and strtod); longer plain text converts 8 digits per step; '+', exponents and
// errors take a byte loop.
[[nodiscard]] DecimalError ParseDecimal(const char* data, size_t size, int scale, Signedness sign,
                                        int64_t* mantissa) noexcept;

// ParseDecimal (the same result for every input) for text followed by readable bytes: at least 16
// bytes from `data` may be read whatever `size` is, as in a buffer with simdjson's padding. Short
// text then takes one load with no branch on its length.
[[nodiscard]] DecimalError ParseDecimalPadded(const char* data, size_t size, int scale,
                                              Signedness sign, int64_t* mantissa) noexcept;

// Writes the canonical text of mantissa / 10^scale to `out` (kMaxDecimalChars bytes) and returns
// its length (no NUL). Canonical: no exponent, no leading zeros except a single "0" before '.',
// no trailing fractional zeros, no '.' if integral, '-' only for negatives, zero is "0".
// A scale outside [0, 18] writes nothing and returns 0. Any int64 mantissa (INT64_MIN too) works.
// Complexity: O(digits).
size_t FormatDecimal(int64_t mantissa, int scale, char* out) noexcept;

// Like FormatDecimal but with exactly `scale` fractional digits: (12300, 4) -> "1.2300",
// (-5, 2) -> "-0.05", (0, 2) -> "0.00", (7, 0) -> "7".
size_t FormatDecimalFixed(int64_t mantissa, int scale, char* out) noexcept;

// Exact conversion of mantissa from `from_scale` to `to_scale` into *out (written only on kOk).
// Errors: kBadScale (either scale outside [0, 18]), kTooManyDecimals (lowering the scale would
// drop non-zero digits), kOverflow (the result is outside [-INT64_MAX, INT64_MAX]).
[[nodiscard]] DecimalError RescaleDecimal(int64_t mantissa, int from_scale, int to_scale,
                                          int64_t* out) noexcept;

// A trivially copyable fixed-point value: mantissa / 10^scale.
//
// Equality and ordering compare values, exactly, also across scales: 1.50 (scale 2) == 1.5
// (scale 1), even though their mantissa() and scale() differ. Arithmetic is same-scale only: the
// scale of a field is part of its type, and mixing two fields' scales is a bug worth a
// kScaleMismatch rather than a silent rescale.
class Decimal {
 public:
  // Zero at scale 0.
  constexpr Decimal() = default;

  // mantissa / 10^scale. Precondition: scale in [0, kMaxDecimalScale] (not checked).
  static constexpr Decimal FromMantissa(int64_t mantissa, int scale) noexcept {
    Decimal d;
    d.mantissa_ = mantissa;
    d.scale_ = scale;
    return d;
  }

  // ParseDecimal into a Decimal of the given scale; *out is written only on kOk.
  [[nodiscard]] static DecimalError Parse(std::string_view s, int scale, Signedness sign,
                                          Decimal* out) noexcept;

  constexpr int64_t mantissa() const noexcept { return mantissa_; }
  constexpr int scale() const noexcept { return scale_; }

  // FormatDecimal into `out` (kMaxDecimalChars bytes); returns the length.
  size_t Format(char* out) const noexcept { return FormatDecimal(mantissa_, scale_, out); }
  // The canonical text. Allocates: control plane and tests only.
  std::string ToString() const;

  // The same value at `to_scale`; errors as RescaleDecimal. *out is written only on kOk.
  [[nodiscard]] DecimalError Rescale(int to_scale, Decimal* out) const noexcept;

  // *out = *this + rhs, *this - rhs, -*this. Errors: kScaleMismatch (Add/Sub on different
  // scales), kOverflow (result outside [-INT64_MAX, INT64_MAX]). *out is written only on kOk.
  [[nodiscard]] DecimalError Add(Decimal rhs, Decimal* out) const noexcept {
    if (scale_ != rhs.scale_) return DecimalError::kScaleMismatch;
    int64_t r;
    if (__builtin_add_overflow(mantissa_, rhs.mantissa_, &r) || r == INT64_MIN) {
      return DecimalError::kOverflow;
    }
    *out = FromMantissa(r, scale_);
    return DecimalError::kOk;
  }
  [[nodiscard]] DecimalError Sub(Decimal rhs, Decimal* out) const noexcept {
    if (scale_ != rhs.scale_) return DecimalError::kScaleMismatch;
    int64_t r;
    if (__builtin_sub_overflow(mantissa_, rhs.mantissa_, &r) || r == INT64_MIN) {
      return DecimalError::kOverflow;
    }
    *out = FromMantissa(r, scale_);
    return DecimalError::kOk;
  }
  [[nodiscard]] DecimalError Negate(Decimal* out) const noexcept {
    if (mantissa_ == INT64_MIN) return DecimalError::kOverflow;
    *out = FromMantissa(-mantissa_, scale_);
    return DecimalError::kOk;
  }

  // Exact value comparison, O(1): one 128-bit multiply when the scales differ.
  // Precondition: both scales in [0, kMaxDecimalScale].
  friend constexpr std::strong_ordering operator<=>(Decimal a, Decimal b) noexcept {
    if (a.scale_ == b.scale_) return a.mantissa_ <=> b.mantissa_;
    __int128 x = a.mantissa_;
    __int128 y = b.mantissa_;
    if (a.scale_ < b.scale_) {
      x *= internal_decimal::kPow10[b.scale_ - a.scale_];
    } else {
      y *= internal_decimal::kPow10[a.scale_ - b.scale_];
    }
    if (x < y) return std::strong_ordering::less;
    if (x > y) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
  }
  friend constexpr bool operator==(Decimal a, Decimal b) noexcept {
    return (a <=> b) == std::strong_ordering::equal;
  }

 private:
  int64_t mantissa_ = 0;
  int32_t scale_ = 0;
};

static_assert(std::is_trivially_copyable_v<Decimal>);
static_assert(sizeof(Decimal) <= 16);

// An exact product of two Decimals: mantissa / 10^scale with a 128-bit mantissa and a scale in
// [0, kMaxNotionalScale]. Any int64 x int64 product fits, so building one never fails.
struct Notional {
  __int128 mantissa = 0;
  int scale = 0;

  // Canonical text (as FormatDecimal) into `out` (kMaxNotionalChars bytes); returns the length.
  // A scale outside [0, kMaxNotionalScale] writes nothing and returns 0.
  size_t Format(char* out) const noexcept;

  // The exact value as an int64 mantissa at `to_scale` (e.g. the quote asset's scale).
  // Errors: kBadScale (to_scale outside [0, 18] or scale outside [0, 36]), kTooManyDecimals
  // (digits would be lost), kOverflow (outside [-INT64_MAX, INT64_MAX]). *out only on kOk.
  [[nodiscard]] DecimalError Rescale(int to_scale, int64_t* out) const noexcept;
};

// price x size, exact, at scale price_scale + size_scale. Never fails. O(1), no allocation.
constexpr Notional MultiplyNotional(int64_t price_mantissa, int price_scale, int64_t size_mantissa,
                                    int size_scale) noexcept {
  Notional n;
  n.mantissa = static_cast<__int128>(price_mantissa) * size_mantissa;
  n.scale = price_scale + size_scale;
  return n;
}
constexpr Notional MultiplyNotional(Decimal price, Decimal size) noexcept {
  return MultiplyNotional(price.mantissa(), price.scale(), size.mantissa(), size.scale());
}

}  // namespace nzeza

#endif  // NZEZA_CORE_DECIMAL_H_
