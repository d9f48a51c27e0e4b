// Decimal parsing: nzeza's exact parser against the double routes a feed handler might use
// instead (std::from_chars or strtod, then rounding to the field's scale).
//
// Corpus: the first 4096 quoted decimal strings with a '.' (prices, sizes, volumes) of the
// Binance recordings (combined stream, then the REST depth snapshots) and the first 4096 of the
// Coinbase Exchange feed recording, from
// ../shared/testdata, loaded once at start. Every string is parsed into a scale-8 field, which
// holds all of them (at most 8 decimals, at most 9 integer digits). The *TrailingZeros cases use
// a scale-2 field and the Binance strings with 8 decimals of which at most 2 are significant
// ("6195.00000000"), the form Binance sends for every price and size.
//
// Each benchmark parses the whole corpus per iteration (items_per_second counts strings). Before
// timing, its output is checked against an exact reference parser written here (digit loop on
// __int128): the double routes report their mismatches as the `inexact` counter; nzeza must
// agree on every string or the benchmark fails.
//
// Run: nzeza_bench_core --benchmark_filter=ParsePrice

#include <nzeza/core/decimal.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

namespace nzeza {
namespace {

constexpr int kCorpusScale = 8;
constexpr int kTrailingZerosScale = 2;
constexpr size_t kStringsPerVenue = 4096;

struct Corpus {
  std::vector<std::string_view> views;  // into `text`
  std::vector<const char*> c_strings;   // into `text`, NUL-terminated
  std::vector<int64_t> expected;        // exact mantissas at the corpus scale
  std::string text;
};

std::string ReadFile(const std::string& relative) {
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) + "/" + relative, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exact reference: "[-]digits[.digits]" at `scale`, false if not representable. Independent of
// nzeza's parser on purpose.
bool ReferenceParse(std::string_view s, int scale, int64_t* out) {
  size_t i = 0;
  const bool neg = !s.empty() && s[0] == '-';
  if (neg) ++i;
  __int128 v = 0;
  int digits = 0;
  int frac = -1;  // fraction digits seen, -1 before '.'
  for (; i < s.size(); ++i) {
    if (s[i] == '.' && frac < 0) {
      frac = 0;
      continue;
    }
    if (!IsDigit(s[i])) return false;
    if (frac >= 0 && frac >= scale) {
      if (s[i] != '0') return false;
      continue;
    }
    if (++digits > 30) return false;
    v = v * 10 + (s[i] - '0');
    if (frac >= 0) ++frac;
  }
  if (digits == 0) return false;
  for (int k = frac < 0 ? 0 : frac; k < scale; ++k) v *= 10;
  if (v > INT64_MAX) return false;
  *out = static_cast<int64_t>(neg ? -v : v);
  return true;
}

// Quoted "[-]digits[.digits]" strings of a recording, in file order.
std::vector<std::string> DecimalStrings(const std::string& text, size_t limit) {
  std::vector<std::string> out;
  size_t i = 0;
  while (out.size() < limit && (i = text.find('"', i)) != std::string::npos) {
    const size_t j = text.find('"', i + 1);
    if (j == std::string::npos) break;
    const std::string_view s(text.data() + i + 1, j - i - 1);
    int64_t m;
    const size_t dot = s.find('.');
    if (!s.empty() && IsDigit(s[0]) && dot != std::string_view::npos &&
        ReferenceParse(s, kCorpusScale, &m)) {
      out.emplace_back(s);
    }
    i = j + 1;
  }
  return out;
}

Corpus MakeCorpus(const std::vector<std::string>& strings, int scale) {
  Corpus c;
  for (const std::string& s : strings) {
    c.text += s;
    c.text += '\0';
  }
  size_t offset = 0;
  for (const std::string& s : strings) {
    c.views.emplace_back(c.text.data() + offset, s.size());
    c.c_strings.push_back(c.text.data() + offset);
    int64_t m = 0;
    if (!ReferenceParse(s, scale, &m)) std::abort();  // the corpus is built to fit
    c.expected.push_back(m);
    offset += s.size() + 1;
  }
  return c;
}

const Corpus& PriceCorpus() {
  static const Corpus corpus = [] {
    std::vector<std::string> all =
        DecimalStrings(ReadFile("binance/spot_stream_2021-10-12.txt") +
                           ReadFile("binance/spot_depth_snapshots_2021-10-12.txt"),
                       kStringsPerVenue);
    const std::vector<std::string> coinbase =
        DecimalStrings(ReadFile("coinbase/exchange_feed_2021-04-17.part1.txt"), kStringsPerVenue);
    all.insert(all.end(), coinbase.begin(), coinbase.end());
    return MakeCorpus(all, kCorpusScale);
  }();
  return corpus;
}

// Binance strings with 8 decimals of which at most 2 are significant, for a scale-2 field.
const Corpus& TrailingZerosCorpus() {
  static const Corpus corpus = [] {
    const std::vector<std::string> binance =
        DecimalStrings(ReadFile("binance/spot_stream_2021-10-12.txt") +
                           ReadFile("binance/spot_depth_snapshots_2021-10-12.txt"),
                       ~size_t{0});
    std::vector<std::string> picked;
    for (const std::string& s : binance) {
      int64_t m;
      if (s.size() - s.find('.') == 9 && ReferenceParse(s, kTrailingZerosScale, &m)) {
        picked.push_back(s);
      }
    }
    return MakeCorpus(picked, kTrailingZerosScale);
  }();
  return corpus;
}

int64_t ParseNzeza(std::string_view s, const char*, int scale, bool* ok) {
  int64_t m = 0;
  *ok = ParseDecimal(s.data(), s.size(), scale, Signedness::kUnsigned, &m) == DecimalError::kOk;
  return m;
}

const double kPow10Double[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

int64_t ParseFromChars(std::string_view s, const char*, int scale, bool* ok) {
  double d = 0;
  *ok = std::from_chars(s.data(), s.data() + s.size(), d).ec == std::errc();
  return std::llround(d * kPow10Double[scale]);
}

int64_t ParseStrtod(std::string_view, const char* c_string, int scale, bool* ok) {
  char* end = nullptr;
  const double d = std::strtod(c_string, &end);
  *ok = end != c_string;
  return std::llround(d * kPow10Double[scale]);
}

using ParseFn = int64_t (*)(std::string_view, const char*, int, bool*);

enum class Route { kExact, kDouble };

template <ParseFn kParse>
void RunParse(benchmark::State& state, const Corpus& corpus, int scale, Route route) {
  const size_t n = corpus.views.size();
  if (n < 1000) {
    state.SkipWithError("corpus too small: is NZEZA_TESTDATA_DIR readable?");
    return;
  }
  // Check against the exact reference before timing.
  int64_t inexact = 0;
  for (size_t i = 0; i < n; ++i) {
    bool ok = false;
    const int64_t m = kParse(corpus.views[i], corpus.c_strings[i], scale, &ok);
    if (!ok || m != corpus.expected[i]) ++inexact;
  }
  if (route == Route::kExact && inexact != 0) {
    state.SkipWithError("nzeza disagrees with the exact reference");
    return;
  }
  for (auto _ : state) {
    int64_t sum = 0;
    int failures = 0;
    for (size_t i = 0; i < n; ++i) {
      bool ok;
      sum += kParse(corpus.views[i], corpus.c_strings[i], scale, &ok);
      failures += !ok;
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(failures);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["corpus"] = static_cast<double>(n);
  state.counters["scale"] = scale;
  state.counters["inexact"] = static_cast<double>(inexact);
}

void BM_ParsePriceNzeza(benchmark::State& state) {
  RunParse<ParseNzeza>(state, PriceCorpus(), kCorpusScale, Route::kExact);
}
void BM_ParsePriceFromChars(benchmark::State& state) {
  RunParse<ParseFromChars>(state, PriceCorpus(), kCorpusScale, Route::kDouble);
}
void BM_ParsePriceStrtod(benchmark::State& state) {
  RunParse<ParseStrtod>(state, PriceCorpus(), kCorpusScale, Route::kDouble);
}
void BM_ParsePriceNzezaTrailingZeros(benchmark::State& state) {
  RunParse<ParseNzeza>(state, TrailingZerosCorpus(), kTrailingZerosScale, Route::kExact);
}
void BM_ParsePriceFromCharsTrailingZeros(benchmark::State& state) {
  RunParse<ParseFromChars>(state, TrailingZerosCorpus(), kTrailingZerosScale, Route::kDouble);
}

BENCHMARK(BM_ParsePriceNzeza);
BENCHMARK(BM_ParsePriceFromChars);
BENCHMARK(BM_ParsePriceStrtod);
BENCHMARK(BM_ParsePriceNzezaTrailingZeros);
BENCHMARK(BM_ParsePriceFromCharsTrailingZeros);

}  // namespace
}  // namespace nzeza
