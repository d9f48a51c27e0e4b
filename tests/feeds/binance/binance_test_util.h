// Helpers shared by the Binance feed tests: the instrument table of the recording, padded message
// buffers, the recording's files, and a book set fed from decoded events.
#ifndef NZEZA_TESTS_FEEDS_BINANCE_BINANCE_TEST_UTIL_H_
#define NZEZA_TESTS_FEEDS_BINANCE_BINANCE_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/instruments.h"
#include "nzeza/feeds/common/md_sink.h"

namespace nzeza::binance_test {

// Ids differ from table positions on purpose: a decoder that mixes them up fails.
inline constexpr InstrumentId kNkn = 100;
inline constexpr InstrumentId kBlz = 101;
inline constexpr InstrumentId kLrc = 102;
inline constexpr InstrumentId kRune = 103;

// The four symbols of ../shared/testdata/binance, 8 decimals for prices and sizes (what Binance
// prints).
inline SymbolTable RecordingTable() {
  std::vector<FeedInstrument> v = {{"NKNUSDT", kNkn, 8, 8},
                                   {"BLZETH", kBlz, 8, 8},
                                   {"LRCBTC", kLrc, 8, 8},
                                   {"RUNEEUR", kRune, 8, 8}};
  absl::StatusOr<SymbolTable> t = SymbolTable::Create(v);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

// A message with kFeedPadding readable bytes after it, as the WebSocket client delivers it. The
// padding is filled with `fill` (tests use bytes that would confuse a decoder reading past the
// end).
class Padded {
 public:
  explicit Padded(std::string_view msg, char fill = '9') : size_(msg.size()) {
    buf_.assign(msg.size() + kFeedPadding, fill);
    if (!msg.empty()) std::memcpy(buf_.data(), msg.data(), msg.size());
  }
  // The first `size` bytes of `msg`, with the rest of `msg` (and then `fill`) after them: a frame
  // cut short inside a buffer that holds more.
  static Padded Prefix(std::string_view msg, size_t size, char fill = '9') {
    Padded p(msg, fill);
    p.size_ = size;
    return p;
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return size_; }

 private:
  std::vector<char> buf_;
  size_t size_;
};

inline DecodeError Feed(FeedDecoder& d, std::string_view msg, int64_t recv_ns, MdSink& sink) {
  Padded p(msg);
  return d.OnMessage(p.data(), p.size(), recv_ns, sink);
}

inline DecodeError Snapshot(FeedDecoder& d, InstrumentId id, std::string_view body, int64_t recv_ns,
                            MdSink& sink) {
  Padded p(body);
  return d.OnSnapshot(id, p.data(), p.size(), recv_ns, sink);
}

inline std::vector<FeedAction> PopAll(FeedDecoder& d) {
  std::vector<FeedAction> out;
  FeedAction a;
  while (d.PopAction(&a)) out.push_back(a);
  return out;
}

inline std::string TestdataPath(std::string_view name) {
  return std::string(NZEZA_TESTDATA_DIR) + "/binance/" + std::string(name);
}

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// One recorded stream frame: "<recv unix ts>: <frame>".
struct StreamLine {
  std::string ts;  // as written (seconds with a fraction)
  std::string frame;
};

// The stream recording without its connect marker (line 1) and blank lines.
inline std::vector<StreamLine> ReadStream() {
  std::vector<StreamLine> out;
  const std::vector<std::string> lines = ReadLines(TestdataPath("spot_stream_2021-10-12.txt"));
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const size_t colon = lines[i].find(": ");
    EXPECT_NE(colon, std::string::npos) << lines[i];
    if (colon == std::string::npos) continue;
    out.push_back({lines[i].substr(0, colon), lines[i].substr(colon + 2)});
  }
  return out;
}

// One recorded REST snapshot: "<url> -> <recv ts>: <json>".
struct SnapshotLine {
  std::string url;
  std::string symbol;  // from the url's symbol= parameter
  std::string ts;
  std::string body;
};

inline std::vector<SnapshotLine> ReadSnapshots() {
  std::vector<SnapshotLine> out;
  for (const std::string& l : ReadLines(TestdataPath("spot_depth_snapshots_2021-10-12.txt"))) {
    if (l.empty()) continue;
    const size_t arrow = l.find(" -> ");
    const size_t colon = l.find(": ", arrow);
    EXPECT_NE(arrow, std::string::npos);
    EXPECT_NE(colon, std::string::npos);
    if (arrow == std::string::npos || colon == std::string::npos) continue;
    SnapshotLine s;
    s.url = l.substr(0, arrow);
    s.ts = l.substr(arrow + 4, colon - arrow - 4);
    s.body = l.substr(colon + 2);
    const size_t sym = s.url.find("symbol=");
    const size_t amp = s.url.find('&', sym);
    s.symbol = s.url.substr(sym + 7, amp - sym - 7);
    out.push_back(s);
  }
  return out;
}

// "1633998512.0633569" -> nanoseconds (exact, from the text).
inline int64_t TsToNanos(std::string_view ts) {
  const size_t dot = ts.find('.');
  int64_t sec = std::stoll(std::string(ts.substr(0, dot)));
  int64_t frac = 0;
  if (dot != std::string_view::npos) {
    std::string f(ts.substr(dot + 1));
    f.resize(9, '0');
    frac = std::stoll(f);
  }
  return sec * 1'000'000'000 + frac;
}

// ---------------------------------------------------------------------------------------------
// Hand parsers for the recorded text, independent of the decoder: string search, no JSON parser,
// no ParseDecimal. They know Binance's exact printing (8 decimals, no whitespace) and fail the
// test on anything else.

// "0.35130000" -> 35130000: Binance prints exactly 8 decimals; anything else fails the test.
inline int64_t Mantissa8(std::string_view s) {
  const size_t dot = s.find('.');
  EXPECT_NE(dot, std::string_view::npos) << s;
  EXPECT_EQ(s.size() - dot - 1, 8u) << s;
  std::string digits(s.substr(0, dot));
  digits += s.substr(dot + 1);
  return std::stoll(digits);
}

// "\"key\"" + tail (appended piecewise: GCC 12's -Wrestrict misfires on operator+ chains).
inline std::string Key(std::string_view key, std::string_view tail) {
  std::string k;
  k.push_back('"');
  k.append(key);
  k.push_back('"');
  k.append(tail);
  return k;
}

// The unsigned integer after `"key":` in `s`.
inline uint64_t IntField(std::string_view s, std::string_view key) {
  const std::string k = Key(key, ":");
  const size_t at = s.find(k);
  EXPECT_NE(at, std::string_view::npos) << key << " in " << s.substr(0, 200);
  size_t i = at + k.size();
  uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    v = v * 10 + static_cast<uint64_t>(s[i++] - '0');
  return v;
}

inline std::string StrField(std::string_view s, std::string_view key) {
  const std::string k = Key(key, ":\"");
  const size_t at = s.find(k);
  EXPECT_NE(at, std::string_view::npos) << key;
  const size_t b = at + k.size();
  return std::string(s.substr(b, s.find('"', b) - b));
}

// The [["p","q"],...] list after `"key":`.
inline std::vector<std::pair<int64_t, int64_t>> LevelList(std::string_view s,
                                                          std::string_view key) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const std::string k = Key(key, ":[");
  const size_t at = s.find(k);
  EXPECT_NE(at, std::string_view::npos) << key;
  size_t i = at + k.size();
  while (s[i] == '[') {
    const size_t p0 = i + 2;  // after ["
    const size_t p1 = s.find('"', p0);
    const size_t q0 = p1 + 3;  // after ","
    const size_t q1 = s.find('"', q0);
    out.emplace_back(Mantissa8(s.substr(p0, p1 - p0)), Mantissa8(s.substr(q0, q1 - q0)));
    i = q1 + 2;  // after "]
    if (s[i] == ',') ++i;
  }
  EXPECT_EQ(s[i], ']');
  return out;
}

// mantissa at 8 decimals -> Binance's text ("0.35130000").
inline std::string Format8(int64_t m) {
  std::string s = std::to_string(m);
  if (s.size() < 9) s.insert(0, 9 - s.size(), '0');
  s.insert(s.size() - 8, ".");
  return s;
}

// Books for the recording's instruments, fed with every event; counts what Apply refused.
struct Books {
  std::map<InstrumentId, std::unique_ptr<OrderBook>> books;
  uint64_t refused = 0;
  std::vector<std::string> refusals;

  explicit Books(uint32_t depth = 5000) {
    for (InstrumentId id : {kNkn, kBlz, kLrc, kRune}) {
      books[id] = std::make_unique<OrderBook>(id, depth);
    }
  }
  void Apply(const MdEvent& e) {
    auto it = books.find(e.instrument);
    ASSERT_NE(it, books.end()) << "event for instrument " << e.instrument;
    const ApplyResult r = it->second->Apply(e);
    if (!r.ok()) {
      ++refused;
      refusals.push_back(BookErrorName(r.error));
    }
  }
  void ApplyAll(const std::vector<MdEvent>& events) {
    for (const MdEvent& e : events) Apply(e);
  }
  OrderBook& operator[](InstrumentId id) { return *books.at(id); }
};

// A sink that applies every event to books as it arrives (no allocation per event).
class BookSink final : public MdSink {
 public:
  explicit BookSink(Books& books) : books_(books) {}
  void Push(const MdEvent& ev) noexcept override {
    ++events;
    if (ev.type == MdType::kStatus) ++status_events[static_cast<size_t>(ev.status.code)];
    books_.Apply(ev);
  }
  uint64_t events = 0;
  uint64_t status_events[16] = {};

 private:
  Books& books_;
};

}  // namespace nzeza::binance_test

#endif  // NZEZA_TESTS_FEEDS_BINANCE_BINANCE_TEST_UTIL_H_
