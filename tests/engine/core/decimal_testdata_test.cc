// Every quoted decimal string in the venue recordings under ../shared/testdata (prices, sizes,
// volumes, 24h stats, funding rates, ...) parses exactly and formats back to the same value.
//
// The strings are found by a plain scan for JSON string literals whose whole content is
// "[-]digits[.digits]" (no JSON library is linked here); keys, ids with letters and timestamps do
// not match. A few matches are integers in string form (trade ids, counters), which are decimals
// too and must round-trip the same way.

#include <nzeza/core/decimal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace nzeza {
namespace {

std::string ReadFile(const std::string& relative) {
  const std::string path = std::string(NZEZA_TESTDATA_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whole content is [-]digits[.digits].
bool LooksDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  const size_t int_begin = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == int_begin) return false;
  if (i < s.size() && s[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == frac_begin) return false;
  }
  return i == s.size();
}

// The contents of every JSON string literal in `text` that looks like a decimal.
std::vector<std::string> ExtractDecimalStrings(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while ((i = text.find('"', i)) != std::string::npos) {
    size_t j = i + 1;
    while (j < text.size() && text[j] != '"' && text[j] != '\n') {
      j += text[j] == '\\' ? 2 : 1;
    }
    if (j >= text.size() || text[j] == '\n') {  // unterminated on this line: resynchronise
      i = j;
      continue;
    }
    std::string_view content(text.data() + i + 1, j - i - 1);
    if (LooksDecimal(content)) out.emplace_back(content);
    i = j + 1;
  }
  return out;
}

// The original text with trailing fractional zeros (and a bare trailing '.') removed, leading
// integer zeros removed (keeping one), and "-0" as "0": the canonical form of the same value.
std::string CanonicalOf(std::string s) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.erase(0, 1);
  }
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  const size_t first = s.find_first_not_of('0');
  if (first == std::string::npos) {
    s = "0";
  } else if (s[first] == '.') {
    s = "0" + s.substr(first);
  } else {
    s = s.substr(first);
  }
  if (neg && s != "0") s = "-" + s;
  return s;
}

int FractionDigits(std::string_view s) {
  const size_t dot = s.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(s.size() - dot - 1);
}

int SignificantFractionDigits(std::string_view s) {
  return FractionDigits(CanonicalOf(std::string(s)));
}

// The integer part (after any '-') is "0" or starts with a non-zero digit.
bool HasPlainIntegerPart(std::string_view s) {
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  const size_t int_len = std::min(s.find('.'), s.size());
  return s[0] != '0' || int_len == 1;
}

std::string Format(int64_t m, int scale) {
  char buf[kMaxDecimalChars];
  return std::string(buf, FormatDecimal(m, scale, buf));
}

struct FileCheck {
  const char* path;
  size_t min_strings;  // what a working scan finds, with margin; guards against a vacuous pass
};

// Checks every decimal string of one file; returns how many were checked.
size_t CheckFile(const FileCheck& file, size_t* beyond_max_scale) {
  const std::string text = ReadFile(file.path);
  EXPECT_FALSE(text.empty()) << "cannot read " << file.path;
  const std::vector<std::string> strings = ExtractDecimalStrings(text);
  EXPECT_GE(strings.size(), file.min_strings) << file.path;
  size_t failures = 0;
  for (const std::string& s : strings) {
    if (failures > 10) break;
    const Signedness sign = s[0] == '-' ? Signedness::kSigned : Signedness::kUnsigned;
    const int own_scale = FractionDigits(s);
    const int min_scale = SignificantFractionDigits(s);
    const std::string want = CanonicalOf(s);
    if (min_scale > kMaxDecimalScale) {
      // e.g. dYdX's nextFundingRate "0.00001351666666666667": more digits than any field holds.
      int64_t m = 0;
      EXPECT_EQ(ParseDecimal(s.data(), s.size(), kMaxDecimalScale, sign, &m),
                DecimalError::kTooManyDecimals)
          << s;
      ++*beyond_max_scale;
      continue;
    }
    // At the scale of its own digits (or 18 if it has more, all of them zeros), at the smallest
    // scale that holds it (Binance's "43251.23000000" in a scale-2 field), and at 18 where the
    // value fits.
    for (const int scale : {own_scale > kMaxDecimalScale ? kMaxDecimalScale : own_scale, min_scale,
                            kMaxDecimalScale}) {
      int64_t m = 0;
      const DecimalError e = ParseDecimal(s.data(), s.size(), scale, sign, &m);
      if (scale == kMaxDecimalScale && e == DecimalError::kOverflow) {
        // Too large for 18 decimals: confirm with the exact rescale of the smaller-scale value.
        int64_t small = 0;
        int64_t wide = 0;
        EXPECT_EQ(ParseDecimal(s.data(), s.size(), min_scale, sign, &small), DecimalError::kOk);
        EXPECT_EQ(RescaleDecimal(small, min_scale, kMaxDecimalScale, &wide),
                  DecimalError::kOverflow)
            << s;
        continue;
      }
      if (e != DecimalError::kOk) {
        ADD_FAILURE() << file.path << ": '" << s << "' @" << scale << ": " << DecimalErrorName(e);
        ++failures;
        continue;
      }
      const std::string got = Format(m, scale);
      if (got != want) {
        ADD_FAILURE() << file.path << ": '" << s << "' @" << scale << " formats as " << got
                      << ", want " << want;
        ++failures;
      }
      int64_t back = 0;
      EXPECT_EQ(ParseDecimal(got.data(), got.size(), scale, sign, &back), DecimalError::kOk);
      EXPECT_EQ(back, m) << s;
      // The fixed form reproduces the original text whenever it has exactly `scale` decimals.
      if (scale == own_scale && HasPlainIntegerPart(s) && !(m == 0 && s[0] == '-')) {
        char buf[kMaxDecimalChars];
        EXPECT_EQ(std::string_view(buf, FormatDecimalFixed(m, scale, buf)), s);
      }
    }
  }
  EXPECT_EQ(failures, 0u) << file.path;
  return strings.size();
}

TEST(DecimalTestdata, EveryPriceAndSizeRoundTrips) {
  // Counts found by this scan when the test was written: 1202, 9296, 27998, 19, 44.
  const FileCheck files[] = {
      {"binance/spot_stream_2021-10-12.txt", 1100},
      {"binance/spot_depth_snapshots_2021-10-12.txt", 9000},
      {"coinbase/exchange_feed_2021-04-17.part1.txt", 27000},
      {"coinbase/advanced_trade_doc_examples.jsonl", 15},
      {"dydx/indexer_messages_2024-08.jsonl", 40},
  };
  size_t total = 0;
  size_t beyond_max_scale = 0;
  for (const FileCheck& f : files) total += CheckFile(f, &beyond_max_scale);
  EXPECT_GT(total, 38000u);
  // Only dYdX's two nextFundingRate values carry more than 18 significant decimals.
  EXPECT_EQ(beyond_max_scale, 2u);
  std::printf("checked %zu decimal strings (%zu beyond scale 18)\n", total, beyond_max_scale);
}

TEST(DecimalTestdata, ScanFindsKnownFields) {
  // Spot checks that the scan sees the fields the feeds decode, with their exact values.
  const std::vector<std::string> binance =
      ExtractDecimalStrings(ReadFile("binance/spot_stream_2021-10-12.txt"));
  ASSERT_GE(binance.size(), 2u);
  EXPECT_EQ(binance[0], "0.35130000");  // first depth bid price
  EXPECT_EQ(binance[1], "6195.00000000");
  int64_t m = 0;
  ASSERT_EQ(ParseDecimal(binance[0].data(), binance[0].size(), 4, Signedness::kUnsigned, &m),
            DecimalError::kOk);
  EXPECT_EQ(m, 3513);
  const std::vector<std::string> adv =
      ExtractDecimalStrings(ReadFile("coinbase/advanced_trade_doc_examples.jsonl"));
  bool found = false;
  for (const std::string& s : adv) found |= s == "8038.07770938";  // best_ask_quantity
  EXPECT_TRUE(found);
  const std::vector<std::string> dydx =
      ExtractDecimalStrings(ReadFile("dydx/indexer_messages_2024-08.jsonl"));
  found = false;
  for (const std::string& s : dydx) found |= s == "-782.58326";  // priceChange24H
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace nzeza
