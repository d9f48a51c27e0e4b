// libFuzzer target for nzeza/core/decimal.h: any bytes, any scale, both signednesses.
//
// Byte 0 picks the scale (0..18, and now and then an invalid one); the rest is the text, parsed
// as signed and unsigned from a heap copy of exactly its size so that AddressSanitizer sees any
// read past the end, once as given and once mapped onto the decimal alphabet. On success: the
// canonical and the fixed form parse back to the same mantissa, the canonical form is a fixed point
// of format -> parse -> format, and rescaling to 18 (when it fits) and back is the identity. Any
// disagreement aborts.
//
// Run: decimal_fuzz -max_total_time=60 [corpus_dir]

#include <nzeza/core/decimal.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

using nzeza::DecimalError;
using nzeza::Signedness;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckRoundTrip(int64_t m, int scale) {
  char canonical[nzeza::kMaxDecimalChars];
  const size_t n = nzeza::FormatDecimal(m, scale, canonical);
  Check(n > 0 && n <= nzeza::kMaxDecimalChars);
  int64_t back = 0;
  Check(nzeza::ParseDecimal(canonical, n, scale, Signedness::kSigned, &back) == DecimalError::kOk);
  Check(back == m);
  char again[nzeza::kMaxDecimalChars];
  const size_t n2 = nzeza::FormatDecimal(back, scale, again);
  Check(n2 == n && std::memcmp(canonical, again, n) == 0);

  char fixed[nzeza::kMaxDecimalChars];
  const size_t f = nzeza::FormatDecimalFixed(m, scale, fixed);
  Check(f >= n && f <= nzeza::kMaxDecimalChars);
  back = 0;
  Check(nzeza::ParseDecimal(fixed, f, scale, Signedness::kSigned, &back) == DecimalError::kOk);
  Check(back == m);

  int64_t wide = 0;
  const DecimalError e = nzeza::RescaleDecimal(m, scale, nzeza::kMaxDecimalScale, &wide);
  if (e == DecimalError::kOk) {
    back = 0;
    Check(nzeza::RescaleDecimal(wide, nzeza::kMaxDecimalScale, scale, &back) == DecimalError::kOk);
    Check(back == m);
    const nzeza::Decimal a = nzeza::Decimal::FromMantissa(m, scale);
    const nzeza::Decimal b = nzeza::Decimal::FromMantissa(wide, nzeza::kMaxDecimalScale);
    Check(a == b);
  } else {
    Check(e == DecimalError::kOverflow);
  }
  // The notional of the value with itself formats without trouble.
  char notional[nzeza::kMaxNotionalChars];
  const nzeza::Decimal d = nzeza::Decimal::FromMantissa(m, scale);
  const size_t nn = nzeza::MultiplyNotional(d, d).Format(notional);
  Check(nn > 0 && nn <= nzeza::kMaxNotionalChars);
}

// Parses `n` bytes at `text` (a heap block of exactly n bytes) both ways and checks the results.
void CheckText(const char* text, size_t n, int scale) {
  int64_t signed_m = 0;
  int64_t unsigned_m = 0;
  const DecimalError es = nzeza::ParseDecimal(text, n, scale, Signedness::kSigned, &signed_m);
  const DecimalError eu = nzeza::ParseDecimal(text, n, scale, Signedness::kUnsigned, &unsigned_m);
  if (scale < 0 || scale > nzeza::kMaxDecimalScale) {
    Check(es == DecimalError::kBadScale && eu == DecimalError::kBadScale);
    return;
  }
  if (n == 0) Check(es == DecimalError::kEmpty && eu == DecimalError::kEmpty);
  // The two signednesses differ only by kSignNotAllowed for text with a leading '-'.
  if (eu == DecimalError::kSignNotAllowed) {
    Check(text[0] == '-');
  } else {
    Check(eu == es);
    if (eu == DecimalError::kOk) Check(unsigned_m == signed_m && unsigned_m >= 0);
  }
  if (es == DecimalError::kOk) {
    Check(signed_m != INT64_MIN);
    CheckRoundTrip(signed_m, scale);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  int scale = control % 19;
  if ((control & 0xE0) == 0xE0) scale = (control & 1) ? -1 : 19;  // invalid now and then
  const size_t n = size - 1;
  std::unique_ptr<char[]> text(new char[n == 0 ? 1 : n]);

  // The bytes as they are.
  std::memcpy(text.get(), data + 1, n);
  CheckText(text.get(), n, scale);

  // The bytes mapped mostly onto the decimal alphabet, so that plausible numbers (long digit
  // runs, one '.', exponents, signs) are common even where coverage feedback is thin; bytes
  // 0xF0..0xFF stay as they are, as junk.
  static constexpr char kAlphabet[] = "0123456789.-+eE9";
  for (size_t i = 0; i < n; ++i) {
    const uint8_t b = data[1 + i];
    text[i] = b >= 0xF0 ? static_cast<char>(b) : kAlphabet[b % 16];
  }
  CheckText(text.get(), n, scale);
  return 0;
}
