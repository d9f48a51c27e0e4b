// Unit tests for nzeza/core/decimal.h: every grammar decision at its boundary, formatting,
// comparison, arithmetic, rescaling, notional, and a property test against an
// arbitrary-precision reference (boost::multiprecision::cpp_int).

#include <nzeza/core/decimal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/multiprecision/cpp_int.hpp>

namespace nzeza {

// Readable failure messages for Decimal (found by ADL).
void PrintTo(const Decimal& d, std::ostream* os) {
  *os << d.ToString() << " (scale " << d.scale() << ")";
}

namespace {

using E = DecimalError;
constexpr Signedness kU = Signedness::kUnsigned;
constexpr Signedness kS = Signedness::kSigned;

// Parses `s` from a heap buffer of exactly s.size() bytes, so that AddressSanitizer reports any
// read past the end (a std::string would hide it in its spare capacity).
// ParseDecimal on a buffer of exactly the text (ASan sees any read outside it), and
// ParseDecimalPadded on the text followed by 16 bytes of digits and dots, which it must ignore:
// every case in this file checks that the two agree.
E ParseExact(std::string_view s, int scale, Signedness sign, int64_t* out) {
  std::unique_ptr<char[]> buf(new char[s.size() == 0 ? 1 : s.size()]);
  std::memcpy(buf.get(), s.data(), s.size());
  const E e = ParseDecimal(buf.get(), s.size(), scale, sign, out);
  std::string padded(s);
  padded += "7.77777777777777";
  int64_t padded_out = *out;
  const E padded_e = ParseDecimalPadded(padded.data(), s.size(), scale, sign, &padded_out);
  if (padded_e != e || padded_out != *out) {
    ADD_FAILURE() << "'" << s << "' @" << scale << ": ParseDecimalPadded "
                  << DecimalErrorName(padded_e) << " " << padded_out << ", ParseDecimal "
                  << DecimalErrorName(e) << " " << *out;
  }
  return e;
}

struct OkCase {
  const char* text;
  int scale;
  int64_t mantissa;
};

void ExpectOk(const std::vector<OkCase>& cases, Signedness sign = kS) {
  for (const OkCase& c : cases) {
    int64_t m = -12345;
    EXPECT_EQ(ParseExact(c.text, c.scale, sign, &m), E::kOk) << c.text << " @" << c.scale;
    EXPECT_EQ(m, c.mantissa) << c.text << " @" << c.scale;
  }
}

void ExpectError(const std::vector<std::string>& texts, int scale, Signedness sign, E expected) {
  for (const std::string& t : texts) {
    int64_t m = -12345;
    EXPECT_EQ(ParseExact(t, scale, sign, &m), expected)
        << "'" << t << "' @" << scale << " got "
        << DecimalErrorName(ParseExact(t, scale, sign, &m));
    EXPECT_EQ(m, -12345) << "output written on error for '" << t << "'";
  }
}

std::string Fmt(int64_t m, int scale) {
  char buf[kMaxDecimalChars];
  return std::string(buf, FormatDecimal(m, scale, buf));
}

std::string FmtFixed(int64_t m, int scale) {
  char buf[kMaxDecimalChars];
  return std::string(buf, FormatDecimalFixed(m, scale, buf));
}

std::string FmtNotional(const Notional& n) {
  char buf[kMaxNotionalChars];
  return std::string(buf, n.Format(buf));
}

TEST(Decimal, ErrorNames) {
  EXPECT_STREQ(DecimalErrorName(E::kOk), "ok");
  EXPECT_STREQ(DecimalErrorName(E::kEmpty), "empty");
  EXPECT_STREQ(DecimalErrorName(E::kMalformed), "malformed");
  EXPECT_STREQ(DecimalErrorName(E::kTooManyDecimals), "too many decimals");
  EXPECT_STREQ(DecimalErrorName(E::kOverflow), "overflow");
  EXPECT_STREQ(DecimalErrorName(E::kSignNotAllowed), "sign not allowed");
  EXPECT_STREQ(DecimalErrorName(E::kBadScale), "bad scale");
  EXPECT_STREQ(DecimalErrorName(E::kScaleMismatch), "scale mismatch");
  EXPECT_STREQ(DecimalErrorName(static_cast<E>(200)), "unknown");
}

TEST(Decimal, ParsesPlainValues) {
  ExpectOk({{"0", 0, 0},
            {"7", 0, 7},
            {"7", 3, 7000},
            {"0.35130000", 8, 35130000},
            {"6195.00000000", 8, 619500000000},
            {"14.8024", 4, 148024},
            {"14.8024", 8, 1480240000},
            {"137080311.50000000", 8, 13708031150000000},
            {"0.06317902", 8, 6317902},
            {"12345678", 0, 12345678},
            {"123456789", 0, 123456789},
            {"1234567890123456", 2, 123456789012345600},
            {"0.000000000000000001", 18, 1},
            {"-25.22", 2, -2522},
            {"-0.5", 1, -5}});
}

TEST(Decimal, TrailingZerosBeyondScaleAccepted) {
  ExpectOk({{"43251.23000000", 2, 4325123},
            {"43251.20000000", 1, 432512},
            {"43251.00000000", 0, 43251},
            {"6195.00000000", 0, 6195},
            {"1.000000000000000000000", 0, 1},
            {"1.000000000000000000000", 18, 1000000000000000000},
            {"0.10000000000000000000000000000", 1, 1},
            {"2.50", 1, 25}});
}

TEST(Decimal, NonZeroDigitBeyondScaleIsTooManyDecimals) {
  ExpectError({"43251.23000001", "43251.231", "0.001", "1.000000000000000000001"}, 2, kU,
              E::kTooManyDecimals);
  ExpectError({"0.5", "1.00000000000000001"}, 0, kS, E::kTooManyDecimals);
  ExpectError({"0.0000000000000000001"}, 18, kU, E::kTooManyDecimals);
}

TEST(Decimal, LeadingZerosAccepted) {
  ExpectOk({{"007", 0, 7},
            {"00.5", 1, 5},
            {"0000000000000000000001", 0, 1},
            {"0000000000000000000001", 18, 1000000000000000000},
            {"000000000000000000000000000000000000000000.25", 2, 25},
            {"000000000", 0, 0}});
}

TEST(Decimal, LeadingAndTrailingDotAccepted) {
  ExpectOk({{".5", 1, 5},
            {"5.", 0, 5},
            {"5.", 2, 500},
            {"-.5", 1, -5},
            {"-5.", 0, -5},
            {".0", 0, 0},
            {"0.", 0, 0},
            {".000000001", 9, 1},
            {"12345678.", 0, 12345678}});
}

TEST(Decimal, NegativeZero) {
  ExpectOk({{"-0", 0, 0}, {"-0.000", 2, 0}, {"-0e5", 3, 0}, {"-.0", 0, 0}}, kS);
  ExpectError({"-0", "-0.000", "-0e5", "-.0"}, 2, kU, E::kSignNotAllowed);
}

TEST(Decimal, SignNotAllowedInUnsignedField) {
  ExpectError({"-1", "-0.01", "-1e3", "-99999999999999999999999"}, 2, kU, E::kSignNotAllowed);
  ExpectOk({{"-1", 2, -100}}, kS);
}

TEST(Decimal, PlusSignAccepted) {
  ExpectOk({{"+1.5", 1, 15}, {"+0", 0, 0}, {"+.5", 1, 5}}, kU);
  ExpectOk({{"+1.5", 1, 15}}, kS);
}

TEST(Decimal, EmptyIsEmpty) {
  int64_t m = 3;
  EXPECT_EQ(ParseDecimal(nullptr, 0, 2, kU, &m), E::kEmpty);
  EXPECT_EQ(ParseDecimal("1", 0, 2, kU, &m), E::kEmpty);
  EXPECT_EQ(m, 3);
}

TEST(Decimal, MalformedInputs) {
  const std::vector<std::string> bad = {".",
                                        "-",
                                        "+",
                                        "-.",
                                        "+.",
                                        "e5",
                                        ".e5",
                                        "1e",
                                        "1e+",
                                        "1e-",
                                        "1..2",
                                        "1.2.3",
                                        "0x10",
                                        "1,5",
                                        "--1",
                                        "+-1",
                                        "-+1",
                                        "1-",
                                        "1+",
                                        "1e5e5",
                                        "1e1.5",
                                        "1.5.",
                                        "inf",
                                        "nan",
                                        "Infinity",
                                        "1f",
                                        "abc",
                                        "1_000",
                                        "１",
                                        "١",
                                        "1\xd9",
                                        "\xff",
                                        "1e\xd9",
                                        "1/2",
                                        "1:2",
                                        "12345678:",
                                        "12345678/",
                                        "0.1234567/",
                                        "1.2345678901234567890x",
                                        "e",
                                        "E",
                                        "1.e",
                                        "--",
                                        "..",
                                        "-e1",
                                        "1ee1",
                                        "1E+-1",
                                        std::string("1\0", 2),
                                        std::string("\0", 1)};
  for (const int scale : {0, 2, 8, 18}) {
    ExpectError(bad, scale, kS, E::kMalformed);
    ExpectError(bad, scale, kU, E::kMalformed);
  }
}

TEST(Decimal, WhitespaceRejected) {
  ExpectError({" 1", "1 ", "1 .5", "1. 5", "\t1", "1\n", "1\r", " ", "- 1", "1e 5", "1 e5"}, 2, kS,
              E::kMalformed);
}

TEST(Decimal, NineteenPlusDigitsExactWhileInRange) {
  ExpectOk({{"9223372036854775807", 0, INT64_MAX},
            {"-9223372036854775807", 0, -INT64_MAX},
            {"9.223372036854775807", 18, INT64_MAX},
            {"-9.223372036854775807", 18, -INT64_MAX},
            {"92233720368.54775807", 8, INT64_MAX},
            {"9999999999999999990e-1", 0, 999999999999999999},
            {"00000000000009223372036854775807.000000000000", 0, INT64_MAX},
            {"1000000000000000000", 0, 1000000000000000000}});
  ExpectError({"9223372036854775808", "9999999999999999999", "10000000000000000000",
               "99999999999999999999999", "18446744073709551616", "18446744073709551615"},
              0, kS, E::kOverflow);
  ExpectError({"9.223372036854775808", "10", "92233720368547758070"}, 18, kS, E::kOverflow);
  ExpectError({"92233720368.54775808", "100000000000"}, 8, kU, E::kOverflow);
}

TEST(Decimal, ShortTextNearTheRangeLimit) {
  // 15 digits and up to 16 bytes (the SSE path) scaled past 10^18: the multiply is checked.
  ExpectOk({{"123456789012345", 3, 123456789012345000},
            {"123456789012345", 4, 1234567890123450000},
            {"-922337203685477.5", 4, -9223372036854775000},
            {"92233720368547.75", 5, 9223372036854775000},
            {"922337203685477", 4, 9223372036854770000}});
  ExpectError({"999999999999999", "922337203685478", "-922337203685478"}, 4, kS, E::kOverflow);
  ExpectError({"92233720368547.76"}, 1, kS, E::kTooManyDecimals);
  ExpectError({"92233720368547.76", "-92233720368547.76"}, 5, kS, E::kOverflow);
  ExpectError({"1.5", "0.5", "12345678901234.5"}, 0, kS, E::kTooManyDecimals);
}

TEST(Decimal, Int64MinIsOverflow) {
  // Decision: the range is symmetric, so -x of any result is representable.
  ExpectError({"-9223372036854775808", "-9223372036854775808.0"}, 0, kS, E::kOverflow);
  ExpectError({"-9.223372036854775808"}, 18, kS, E::kOverflow);
  ExpectError({"-922337203685477580.8e1"}, 0, kS, E::kOverflow);
}

TEST(Decimal, ExponentsExact) {
  ExpectOk({{"1e-8", 8, 1},
            {"1E-8", 10, 100},
            {"1.5E+3", 0, 1500},
            {"1.5e3", 2, 150000},
            {"123e-2", 2, 123},
            {"0.001e3", 0, 1},
            {"1E0", 0, 1},
            {"5.e1", 0, 50},
            {".5e1", 0, 5},
            {"2.50000e-1", 3, 250},
            {"9.223372036854775807e18", 0, INT64_MAX},
            {"9223372036854775807e-18", 18, INT64_MAX},
            {"1e18", 0, 1000000000000000000},
            {"1e-18", 18, 1},
            {"1e+0000000000000000000000000000001", 0, 10},
            {"100e-2", 0, 1}});
  ExpectError({"1e-9", "1.5e-8", "123e-10"}, 8, kS, E::kTooManyDecimals);
  ExpectError({"1e19", "9.223372036854775808e18", "1e10"}, 9, kS, E::kOverflow);
}

TEST(Decimal, AbsurdExponentsBounded) {
  ExpectError({"1e999999999", "1e99999999999999999999999999999999", "-1e999999999"}, 0, kS,
              E::kOverflow);
  ExpectError({"1e-999999999", "1e-99999999999999999999999999999999"}, 18, kS, E::kTooManyDecimals);
  ExpectOk({{"0e999999999", 0, 0},
            {"0e-999999999", 18, 0},
            {"0.000e99999999999999999999999999999", 5, 0}});
  // A very long exponent is consumed in linear time and saturates.
  std::string long_exp = "1e" + std::string(100000, '9');
  ExpectError({long_exp}, 0, kS, E::kOverflow);
  std::string long_neg_exp = "1e-" + std::string(100000, '9');
  ExpectError({long_neg_exp}, 0, kS, E::kTooManyDecimals);
  // A huge mantissa scaled down by a huge exponent is still exact.
  const std::string big_then_small = "1" + std::string(30, '0') + "e-30";
  ExpectOk({{big_then_small.c_str(), 0, 1}});
}

TEST(Decimal, BadScale) {
  for (const int scale :
       {-1, 19, 100, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()}) {
    int64_t m = 0;
    EXPECT_EQ(ParseExact("1", scale, kS, &m), E::kBadScale) << scale;
    EXPECT_EQ(ParseExact("", scale, kS, &m), E::kBadScale) << scale;  // before kEmpty
  }
}

TEST(Decimal, ErrorPrecedence) {
  int64_t m = 0;
  EXPECT_EQ(ParseExact("", 0, kU, &m), E::kEmpty);
  EXPECT_EQ(ParseExact("-1.234x", 2, kU, &m), E::kMalformed);      // malformed before sign
  EXPECT_EQ(ParseExact("-1.234", 2, kU, &m), E::kSignNotAllowed);  // sign before decimals
  EXPECT_EQ(ParseExact("-1e99", 2, kU, &m), E::kSignNotAllowed);   // sign before overflow
  // Not a multiple of 10^-scale and out of range: too many decimals wins.
  EXPECT_EQ(ParseExact("99999999999999999999.5", 0, kS, &m), E::kTooManyDecimals);
  EXPECT_EQ(ParseExact("9999999999999999999.5", 0, kS, &m), E::kTooManyDecimals);
}

TEST(Decimal, NeverReadsOutsideTheRange) {
  // A prefix of a longer buffer: the bytes after `size` must not be looked at.
  const char text[] = "1.59999999999999999999";
  for (size_t n = 1; n < sizeof(text) - 1; ++n) {
    int64_t m = 0;
    const E e = ParseDecimal(text, n, 18, kS, &m);
    if (n == 2) {
      EXPECT_EQ(e, E::kOk);  // "1."
      EXPECT_EQ(m, 1000000000000000000);
    } else if (n <= 20) {
      EXPECT_EQ(e, E::kOk) << n;
    } else {
      EXPECT_EQ(e, E::kTooManyDecimals) << n;
    }
  }
  int64_t m = 0;
  EXPECT_EQ(ParseDecimal("12345678901234567890", 8, 0, kS, &m), E::kOk);
  EXPECT_EQ(m, 12345678);
  EXPECT_EQ(ParseDecimal("123456789.0", 9, 0, kS, &m), E::kOk);
  EXPECT_EQ(m, 123456789);
  // Every length 1..40 from an exact-size heap buffer (ASan checks the loads).
  for (size_t n = 1; n <= 40; ++n) {
    std::string s(n, '1');
    if (n > 2) s[n / 2] = '.';
    const E e = ParseExact(s, 0, kS, &m);
    EXPECT_TRUE(e == E::kOk || e == E::kTooManyDecimals || e == E::kOverflow) << s;
  }
}

TEST(Decimal, FormatCanonical) {
  EXPECT_EQ(Fmt(0, 0), "0");
  EXPECT_EQ(Fmt(0, 8), "0");
  EXPECT_EQ(Fmt(5, 0), "5");
  EXPECT_EQ(Fmt(12300, 4), "1.23");
  EXPECT_EQ(Fmt(12300, 2), "123");
  EXPECT_EQ(Fmt(4325123, 2), "43251.23");
  EXPECT_EQ(Fmt(-5, 2), "-0.05");
  EXPECT_EQ(Fmt(1, 18), "0.000000000000000001");
  EXPECT_EQ(Fmt(-1, 18), "-0.000000000000000001");
  EXPECT_EQ(Fmt(INT64_MAX, 0), "9223372036854775807");
  EXPECT_EQ(Fmt(INT64_MAX, 18), "9.223372036854775807");
  EXPECT_EQ(Fmt(INT64_MIN, 0), "-9223372036854775808");
  EXPECT_EQ(Fmt(INT64_MIN, 18), "-9.223372036854775808");
  EXPECT_EQ(Fmt(INT64_MIN, 19), "");  // bad scale writes nothing
  EXPECT_EQ(Fmt(1, -1), "");
  EXPECT_EQ(Fmt(1000000000000000000, 18), "1");
  EXPECT_EQ(Fmt(-1000000000000000000, 17), "-10");
  EXPECT_EQ(Fmt(13708031150000000, 8), "137080311.5");
  static_assert(kMaxDecimalChars >= 21);
}

TEST(Decimal, FormatFixed) {
  EXPECT_EQ(FmtFixed(12300, 4), "1.2300");
  EXPECT_EQ(FmtFixed(-5, 2), "-0.05");
  EXPECT_EQ(FmtFixed(0, 2), "0.00");
  EXPECT_EQ(FmtFixed(0, 0), "0");
  EXPECT_EQ(FmtFixed(7, 0), "7");
  EXPECT_EQ(FmtFixed(619500000000, 8), "6195.00000000");
  EXPECT_EQ(FmtFixed(INT64_MIN, 18), "-9.223372036854775808");
  EXPECT_EQ(FmtFixed(-1, 18), "-0.000000000000000001");
  EXPECT_EQ(FmtFixed(1, 19), "");
}

TEST(Decimal, ObjectInterface) {
  Decimal d;
  EXPECT_EQ(d.mantissa(), 0);
  EXPECT_EQ(d.scale(), 0);
  ASSERT_EQ(Decimal::Parse("43251.23000000", 2, kU, &d), E::kOk);
  EXPECT_EQ(d.mantissa(), 4325123);
  EXPECT_EQ(d.scale(), 2);
  EXPECT_EQ(d.ToString(), "43251.23");
  char buf[kMaxDecimalChars];
  EXPECT_EQ(std::string_view(buf, d.Format(buf)), "43251.23");
  EXPECT_EQ(Decimal::Parse("x", 2, kU, &d), E::kMalformed);
  EXPECT_EQ(d.mantissa(), 4325123);  // untouched on error
  constexpr Decimal c = Decimal::FromMantissa(15, 1);
  static_assert(c.mantissa() == 15 && c.scale() == 1);
  static_assert(c == Decimal::FromMantissa(150, 2));
  static_assert(std::is_trivially_copyable_v<Decimal> && sizeof(Decimal) <= 16);
}

TEST(Decimal, CompareAcrossScales) {
  const Decimal a = Decimal::FromMantissa(150, 2);  // 1.50
  const Decimal b = Decimal::FromMantissa(15, 1);   // 1.5
  EXPECT_EQ(a, b);
  EXPECT_TRUE((a <=> b) == std::strong_ordering::equal);
  EXPECT_LT(Decimal::FromMantissa(149, 2), b);
  EXPECT_GT(Decimal::FromMantissa(151, 2), b);
  EXPECT_LT(Decimal::FromMantissa(-2, 0), Decimal::FromMantissa(-1, 18));
  EXPECT_NE(Decimal::FromMantissa(1, 18), Decimal::FromMantissa(0, 0));
  EXPECT_EQ(Decimal::FromMantissa(0, 18), Decimal::FromMantissa(0, 0));
  // Extremes: no overflow in the cross-scale multiply.
  EXPECT_GT(Decimal::FromMantissa(INT64_MAX, 0), Decimal::FromMantissa(INT64_MAX, 18));
  EXPECT_LT(Decimal::FromMantissa(INT64_MIN, 0), Decimal::FromMantissa(INT64_MIN, 18));
  EXPECT_LT(Decimal::FromMantissa(INT64_MIN, 18), Decimal::FromMantissa(INT64_MAX, 0));
  EXPECT_EQ(Decimal::FromMantissa(9, 0), Decimal::FromMantissa(9000000000000000000, 18));
  EXPECT_GT(Decimal::FromMantissa(10, 0), Decimal::FromMantissa(INT64_MAX, 18));
  EXPECT_LT(Decimal::FromMantissa(INT64_MAX, 5), Decimal::FromMantissa(INT64_MAX, 4));
}

TEST(Decimal, AddSubOverflowBoundaries) {
  const Decimal max = Decimal::FromMantissa(INT64_MAX, 2);
  const Decimal one = Decimal::FromMantissa(1, 2);
  const Decimal neg_max = Decimal::FromMantissa(-INT64_MAX, 2);
  Decimal r = Decimal::FromMantissa(42, 0);
  EXPECT_EQ(max.Add(one, &r), E::kOverflow);
  EXPECT_EQ(r.mantissa(), 42);
  EXPECT_EQ(neg_max.Sub(one, &r), E::kOverflow);  // would be INT64_MIN: outside the range
  EXPECT_EQ(neg_max.Add(Decimal::FromMantissa(-1, 2), &r), E::kOverflow);
  EXPECT_EQ(max.Sub(neg_max, &r), E::kOverflow);
  ASSERT_EQ(max.Sub(one, &r), E::kOk);
  EXPECT_EQ(r.mantissa(), INT64_MAX - 1);
  ASSERT_EQ(Decimal::FromMantissa(INT64_MAX - 1, 2).Add(one, &r), E::kOk);
  EXPECT_EQ(r.mantissa(), INT64_MAX);
  ASSERT_EQ(max.Add(neg_max, &r), E::kOk);
  EXPECT_EQ(r.mantissa(), 0);
  EXPECT_EQ(r.scale(), 2);
  ASSERT_EQ(neg_max.Add(Decimal::FromMantissa(0, 2), &r), E::kOk);
  EXPECT_EQ(r.mantissa(), -INT64_MAX);
  EXPECT_EQ(Decimal::FromMantissa(INT64_MIN, 2).Add(one, &r), E::kOk);
  EXPECT_EQ(r.mantissa(), INT64_MIN + 1);
}

TEST(Decimal, ArithmeticScaleMismatch) {
  Decimal r;
  EXPECT_EQ(Decimal::FromMantissa(1, 2).Add(Decimal::FromMantissa(1, 3), &r), E::kScaleMismatch);
  EXPECT_EQ(Decimal::FromMantissa(1, 2).Sub(Decimal::FromMantissa(1, 1), &r), E::kScaleMismatch);
  // Mismatch is reported even when the values are equal.
  EXPECT_EQ(Decimal::FromMantissa(10, 1).Sub(Decimal::FromMantissa(100, 2), &r), E::kScaleMismatch);
}

TEST(Decimal, Negate) {
  Decimal r;
  ASSERT_EQ(Decimal::FromMantissa(INT64_MAX, 3).Negate(&r), E::kOk);
  EXPECT_EQ(r.mantissa(), -INT64_MAX);
  EXPECT_EQ(r.scale(), 3);
  ASSERT_EQ(Decimal::FromMantissa(0, 3).Negate(&r), E::kOk);
  EXPECT_EQ(r.mantissa(), 0);
  EXPECT_EQ(Decimal::FromMantissa(INT64_MIN, 3).Negate(&r), E::kOverflow);
}

TEST(Decimal, RescaleExact) {
  int64_t out = 0;
  ASSERT_EQ(RescaleDecimal(4325123, 2, 8, &out), E::kOk);
  EXPECT_EQ(out, 4325123000000);
  ASSERT_EQ(RescaleDecimal(4325123000000, 8, 2, &out), E::kOk);
  EXPECT_EQ(out, 4325123);
  ASSERT_EQ(RescaleDecimal(-7, 0, 18, &out), E::kOk);
  EXPECT_EQ(out, -7000000000000000000);
  ASSERT_EQ(RescaleDecimal(INT64_MAX, 5, 5, &out), E::kOk);
  EXPECT_EQ(out, INT64_MAX);
  ASSERT_EQ(RescaleDecimal(-9000000000000000000, 18, 0, &out), E::kOk);
  EXPECT_EQ(out, -9);
  Decimal d;
  ASSERT_EQ(Decimal::FromMantissa(150, 2).Rescale(1, &d), E::kOk);
  EXPECT_EQ(d.mantissa(), 15);
  EXPECT_EQ(d.scale(), 1);
}

TEST(Decimal, RescaleLossyIsTooManyDecimals) {
  int64_t out = 99;
  EXPECT_EQ(RescaleDecimal(4325123, 2, 1, &out), E::kTooManyDecimals);
  EXPECT_EQ(RescaleDecimal(1, 18, 0, &out), E::kTooManyDecimals);
  EXPECT_EQ(RescaleDecimal(INT64_MIN, 18, 0, &out), E::kTooManyDecimals);
  EXPECT_EQ(RescaleDecimal(INT64_MAX, 1, 0, &out), E::kTooManyDecimals);
  EXPECT_EQ(out, 99);
  Decimal d = Decimal::FromMantissa(1, 0);
  EXPECT_EQ(Decimal::FromMantissa(155, 2).Rescale(1, &d), E::kTooManyDecimals);
  EXPECT_EQ(d.mantissa(), 1);
}

TEST(Decimal, RescaleOverflow) {
  int64_t out = 99;
  EXPECT_EQ(RescaleDecimal(10, 0, 18, &out), E::kOverflow);
  EXPECT_EQ(RescaleDecimal(-10, 0, 18, &out), E::kOverflow);
  EXPECT_EQ(RescaleDecimal(INT64_MAX, 0, 1, &out), E::kOverflow);
  EXPECT_EQ(RescaleDecimal(INT64_MIN, 4, 4, &out), E::kOverflow);  // symmetric range
  ASSERT_EQ(RescaleDecimal(9, 0, 18, &out), E::kOk);
  EXPECT_EQ(out, 9000000000000000000);
  EXPECT_EQ(RescaleDecimal(922337203685477581, 0, 1, &out), E::kOverflow);
  ASSERT_EQ(RescaleDecimal(922337203685477580, 0, 1, &out), E::kOk);
  EXPECT_EQ(out, 9223372036854775800);
}

TEST(Decimal, RescaleBadScale) {
  int64_t out = 0;
  EXPECT_EQ(RescaleDecimal(1, -1, 2, &out), E::kBadScale);
  EXPECT_EQ(RescaleDecimal(1, 2, 19, &out), E::kBadScale);
  EXPECT_EQ(RescaleDecimal(1, 19, 18, &out), E::kBadScale);
  Decimal d;
  EXPECT_EQ(Decimal::FromMantissa(1, 2).Rescale(-3, &d), E::kBadScale);
}

TEST(Decimal, NotionalOfExtremes) {
  const Decimal max0 = Decimal::FromMantissa(INT64_MAX, 0);
  const Decimal max18 = Decimal::FromMantissa(INT64_MAX, 18);
  const Decimal min18 = Decimal::FromMantissa(INT64_MIN, 18);
  EXPECT_EQ(FmtNotional(MultiplyNotional(max0, max0)), "85070591730234615847396907784232501249");
  EXPECT_EQ(FmtNotional(MultiplyNotional(max18, max18)), "85.070591730234615847396907784232501249");
  EXPECT_EQ(FmtNotional(MultiplyNotional(min18, min18)), "85.070591730234615865843651857942052864");
  EXPECT_EQ(FmtNotional(MultiplyNotional(min18, max0)), "-85070591730234615856.620279821087277056");
  EXPECT_EQ(FmtNotional(MultiplyNotional(Decimal::FromMantissa(1, 18), min18)),
            "-0.000000000000000009223372036854775808");
  EXPECT_EQ(FmtNotional(MultiplyNotional(Decimal::FromMantissa(0, 18), max18)), "0");
  EXPECT_EQ(
      FmtNotional(MultiplyNotional(Decimal::FromMantissa(-1, 18), Decimal::FromMantissa(1, 18))),
      "-0.000000000000000000000000000000000001");
  const Notional n = MultiplyNotional(4325123, 2, 150000, 8);  // 43251.23 x 0.0015
  EXPECT_EQ(n.scale, 10);
  EXPECT_EQ(FmtNotional(n), "64.876845");
  EXPECT_EQ(FmtNotional(Notional{1, 37}), "");  // bad scale writes nothing
  static_assert(kMaxNotionalChars >= 41);
}

TEST(Decimal, NotionalRescale) {
  int64_t out = 0;
  const Notional n = MultiplyNotional(4325123, 2, 150000, 8);  // 64.876845 at scale 10
  ASSERT_EQ(n.Rescale(6, &out), E::kOk);
  EXPECT_EQ(out, 64876845);
  ASSERT_EQ(n.Rescale(17, &out), E::kOk);
  EXPECT_EQ(out, 6487684500000000000);
  EXPECT_EQ(n.Rescale(18, &out), E::kOverflow);
  EXPECT_EQ(n.Rescale(5, &out), E::kTooManyDecimals);
  const Decimal max18 = Decimal::FromMantissa(INT64_MAX, 18);
  EXPECT_EQ(MultiplyNotional(max18, max18).Rescale(0, &out), E::kTooManyDecimals);
  EXPECT_EQ(MultiplyNotional(Decimal::FromMantissa(INT64_MAX, 0), Decimal::FromMantissa(2, 0))
                .Rescale(0, &out),
            E::kOverflow);
  // Exactly representable after dropping 36 zeros.
  const Decimal e18 = Decimal::FromMantissa(-1000000000000000000, 18);
  ASSERT_EQ(MultiplyNotional(e18, e18).Rescale(0, &out), E::kOk);
  EXPECT_EQ(out, 1);
  ASSERT_EQ(MultiplyNotional(e18, Decimal::FromMantissa(1000000000000000000, 18)).Rescale(0, &out),
            E::kOk);
  EXPECT_EQ(out, -1);
  EXPECT_EQ(n.Rescale(19, &out), E::kBadScale);
  EXPECT_EQ((Notional{1, 37}).Rescale(0, &out), E::kBadScale);
  EXPECT_EQ((Notional{static_cast<__int128>(INT64_MIN), 0}).Rescale(0, &out), E::kOverflow);
}

// ---------------------------------------------------------------------------------------------
// Property test against an arbitrary-precision reference.

using boost::multiprecision::cpp_int;

struct Expected {
  E error = E::kOk;
  int64_t mantissa = 0;
  std::string canonical;
};

Expected Err(E e) {
  Expected x;
  x.error = e;
  return x;
}

bool RefIsDigit(char c) { return c >= '0' && c <= '9'; }

// What ParseDecimal must return for `s`, computed independently: grammar by hand, value with
// cpp_int, canonical text from the exact integer.
Expected Reference(const std::string& s, int scale, Signedness sign) {
  Expected x;
  if (scale < 0 || scale > 18) return Err(E::kBadScale);
  if (s.empty()) return Err(E::kEmpty);
  size_t i = 0;
  bool neg = false;
  if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
  std::string int_digits;
  std::string frac_digits;
  while (i < s.size() && RefIsDigit(s[i])) int_digits += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && RefIsDigit(s[i])) frac_digits += s[i++];
  }
  if (int_digits.empty() && frac_digits.empty()) return Err(E::kMalformed);
  bool has_exp = false;
  bool exp_neg = false;
  std::string exp_digits;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    has_exp = true;
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) exp_neg = s[i++] == '-';
    while (i < s.size() && RefIsDigit(s[i])) exp_digits += s[i++];
    if (exp_digits.empty()) return Err(E::kMalformed);
  }
  if (i != s.size()) return Err(E::kMalformed);
  if (neg && sign == Signedness::kUnsigned) return Err(E::kSignNotAllowed);
  // Leading zeros stripped: cpp_int reads a leading '0' as octal.
  const std::string all_digits = int_digits + frac_digits;
  const size_t first = all_digits.find_first_not_of('0');
  const cpp_int n(first == std::string::npos ? std::string("0") : all_digits.substr(first));
  if (n == 0) {
    x.canonical = "0";
    return x;
  }
  const size_t nz = exp_digits.find_first_not_of('0');
  const std::string exp_sig = nz == std::string::npos ? "0" : exp_digits.substr(nz);
  // n has at most ~60 digits; an exponent beyond 10^6 decides the outcome by its sign alone.
  if (has_exp && exp_sig.size() > 6) return Err(exp_neg ? E::kTooManyDecimals : E::kOverflow);
  const int64_t exp = has_exp ? (exp_neg ? -1 : 1) * std::stoll(exp_sig) : 0;
  const int64_t k = exp + scale - static_cast<int64_t>(frac_digits.size());
  cpp_int v;
  if (k >= 0) {
    if (k > 80) return Err(E::kOverflow);
    v = n * boost::multiprecision::pow(cpp_int(10), static_cast<unsigned>(k));
  } else {
    if (-k > 80) return Err(E::kTooManyDecimals);
    const cpp_int d = boost::multiprecision::pow(cpp_int(10), static_cast<unsigned>(-k));
    if (n % d != 0) return Err(E::kTooManyDecimals);
    v = n / d;
  }
  if (v > cpp_int(INT64_MAX)) return Err(E::kOverflow);
  x.mantissa = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  std::string digits = v.str();
  if (static_cast<int>(digits.size()) <= scale) {
    digits = std::string(static_cast<size_t>(scale) + 1 - digits.size(), '0') + digits;
  }
  std::string int_text = digits.substr(0, digits.size() - static_cast<size_t>(scale));
  std::string frac_text = digits.substr(digits.size() - static_cast<size_t>(scale));
  while (!frac_text.empty() && frac_text.back() == '0') frac_text.pop_back();
  x.canonical = (neg ? "-" : "") + int_text + (frac_text.empty() ? "" : "." + frac_text);
  return x;
}

std::string RandomDigits(std::mt19937_64& rng, int count, int zero_percent) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    const bool zero = static_cast<int>(rng() % 100) < zero_percent;
    s += zero ? '0' : static_cast<char>('0' + rng() % 10);
  }
  return s;
}

std::string RandomDecimalText(std::mt19937_64& rng) {
  const auto pct = [&rng](int p) { return static_cast<int>(rng() % 100) < p; };
  if (pct(3)) {  // pure noise
    static constexpr char kAlphabet[] = "0123456789.-+eE x,\t\xd9\xa1";
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    return s;
  }
  std::string s;
  if (pct(20))
    s += '-';
  else if (pct(5))
    s += '+';
  const int zero_percent = pct(30) ? 80 : 10;
  const int int_count = pct(60) ? static_cast<int>(rng() % 11) : static_cast<int>(rng() % 26);
  if (pct(15)) s += std::string(rng() % 25, '0');  // leading zeros
  s += RandomDigits(rng, int_count, zero_percent);
  if (pct(75)) {
    s += '.';
    const int frac_count = pct(60) ? static_cast<int>(rng() % 11) : static_cast<int>(rng() % 26);
    s += RandomDigits(rng, frac_count, zero_percent);
    if (pct(30)) s += std::string(rng() % 12, '0');  // trailing zeros
  }
  if (pct(15)) {
    s += pct(50) ? 'e' : 'E';
    if (pct(40))
      s += '-';
    else if (pct(20))
      s += '+';
    if (pct(3)) {
      s += RandomDigits(rng, 9 + static_cast<int>(rng() % 20), 0);  // absurd
    } else if (!pct(3)) {
      s += RandomDigits(rng, 1 + static_cast<int>(rng() % 2), 20);
    }
  }
  if (pct(3) && !s.empty()) s.erase(rng() % s.size(), 1);
  if (pct(3)) {
    static constexpr char kJunk[] = " .-+eEx,\0\xff";
    s.insert(s.begin() + static_cast<std::ptrdiff_t>(rng() % (s.size() + 1)),
             kJunk[rng() % (sizeof(kJunk) - 1)]);
  }
  return s;
}

TEST(DecimalProperty, EveryLengthAndDotPosition) {
  // Lengths around the 8- and 16-byte loads and the 15-digit conversion, the '.' everywhere.
  const std::string digits = "9876543210987654321098765";
  int checked = 0;
  for (size_t len = 1; len <= 24; ++len) {
    for (size_t dot = 0; dot <= len; ++dot) {  // dot == len: no '.'
      for (const bool neg : {false, true}) {
        std::string s = digits.substr(0, len);
        if (dot < len) s[dot] = '.';
        if (neg) s = "-" + s;
        for (int scale = 0; scale <= 18; ++scale) {
          for (const std::string& t : {s, s + "000"}) {  // with trailing zeros beyond the scale
            const Expected want = Reference(t, scale, kS);
            int64_t got = 0;
            const E err = ParseExact(t, scale, kS, &got);
            ASSERT_EQ(err, want.error) << t << " @" << scale;
            if (err == E::kOk) {
              ASSERT_EQ(got, want.mantissa) << t << " @" << scale;
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 20000);
}

TEST(DecimalProperty, AgreesWithArbitraryPrecisionReference) {
#ifdef NZEZA_SANITIZED
  constexpr int kIterations = 500000;
#else
  constexpr int kIterations = 1000000;
#endif
  std::mt19937_64 rng(0x6e7a657a61ULL);  // fixed seed: failures reproduce
  int outcome_counts[8] = {};
  int failures = 0;
  for (int it = 0; it < kIterations && failures < 20; ++it) {
    const std::string s = RandomDecimalText(rng);
    int scale = static_cast<int>(rng() % 19);
    if (rng() % 100 < 2) scale = (rng() % 2) ? -1 : 19;
    const Signedness sign = (rng() % 2) ? kS : kU;
    const Expected want = Reference(s, scale, sign);
    int64_t got = 0;
    const E err = ParseExact(s, scale, sign, &got);
    ++outcome_counts[static_cast<int>(want.error)];
    if (err != want.error || (err == E::kOk && got != want.mantissa)) {
      ADD_FAILURE() << "'" << s << "' scale " << scale << (sign == kS ? " signed" : " unsigned")
                    << ": want " << DecimalErrorName(want.error) << " " << want.mantissa << ", got "
                    << DecimalErrorName(err) << " " << got;
      ++failures;
      continue;
    }
    if (err != E::kOk) continue;
    // Format -> parse round trips, and the canonical text is the reference's.
    const std::string canonical = Fmt(got, scale);
    if (canonical != want.canonical) {
      ADD_FAILURE() << "'" << s << "' scale " << scale << ": canonical " << canonical << " want "
                    << want.canonical;
      ++failures;
    }
    int64_t back = 0;
    EXPECT_EQ(ParseExact(canonical, scale, kS, &back), E::kOk) << canonical;
    EXPECT_EQ(back, got) << canonical;
    const std::string fixed = FmtFixed(got, scale);
    EXPECT_EQ(ParseExact(fixed, scale, kS, &back), E::kOk) << fixed;
    EXPECT_EQ(back, got) << fixed;
    // Rescale to 18 and back when it fits.
    int64_t wide = 0;
    const E re = RescaleDecimal(got, scale, 18, &wide);
    if (re == E::kOk) {
      ASSERT_EQ(RescaleDecimal(wide, 18, scale, &back), E::kOk);
      EXPECT_EQ(back, got);
    } else {
      EXPECT_EQ(re, E::kOverflow);
    }
  }
  EXPECT_EQ(failures, 0);
  // The generator must reach every outcome often enough for the test to mean something.
  const int min_count = kIterations / 200;
  for (const E e : {E::kOk, E::kMalformed, E::kTooManyDecimals, E::kOverflow, E::kSignNotAllowed,
                    E::kBadScale}) {
    EXPECT_GE(outcome_counts[static_cast<int>(e)], min_count) << DecimalErrorName(e);
  }
  EXPECT_GT(outcome_counts[static_cast<int>(E::kEmpty)], 0);
  std::printf(
      "outcomes: ok %d, empty %d, malformed %d, too many decimals %d, overflow %d, "
      "sign %d, bad scale %d\n",
      outcome_counts[0], outcome_counts[1], outcome_counts[2], outcome_counts[3], outcome_counts[4],
      outcome_counts[5], outcome_counts[6]);
}

}  // namespace
}  // namespace nzeza
