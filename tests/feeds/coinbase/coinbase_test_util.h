// Helpers shared by the Coinbase decoder tests: padded message buffers (with garbage after the
// message, as a reused receive buffer has), instrument tables, event filters, and a reader for the
// Exchange recording.
#ifndef NZEZA_TESTS_FEEDS_COINBASE_COINBASE_TEST_UTIL_H_
#define NZEZA_TESTS_FEEDS_COINBASE_COINBASE_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "nzeza/core/events.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/instruments.h"
#include "nzeza/feeds/common/md_sink.h"

namespace nzeza::testing {

// `msg` followed by kFeedPadding bytes of `fill` (a reused receive buffer holds old bytes there;
// '}' and digits are the nastiest for a JSON parser that would read past the end).
class Padded {
 public:
  explicit Padded(std::string_view msg, char fill = '}') : size_(msg.size()) {
    buf_.assign(msg);
    buf_.append(kFeedPadding, fill);
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return size_; }

 private:
  std::string buf_;
  size_t size_;
};

inline DecodeError Feed(FeedDecoder& d, std::string_view msg, MdSink& sink, int64_t recv_ns = 1,
                        char fill = '}') {
  Padded p(msg, fill);
  return d.OnMessage(p.data(), p.size(), recv_ns, sink);
}

inline SymbolTable Table(const std::vector<FeedInstrument>& v) {
  absl::StatusOr<SymbolTable> t = SymbolTable::Create(v);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

inline std::vector<MdEvent> OfType(const std::vector<MdEvent>& evs, MdType type) {
  std::vector<MdEvent> out;
  for (const MdEvent& e : evs) {
    if (e.type == type) out.push_back(e);
  }
  return out;
}

inline std::vector<MdEvent> WithStatus(const std::vector<MdEvent>& evs, MdStatus code) {
  std::vector<MdEvent> out;
  for (const MdEvent& e : evs) {
    if (e.type == MdType::kStatus && e.status.code == code) out.push_back(e);
  }
  return out;
}

// Market data (levels, trades, BBOs): what a failed message must never produce.
inline size_t DataEvents(const std::vector<MdEvent>& evs) {
  size_t n = 0;
  for (const MdEvent& e : evs) n += e.type != MdType::kStatus;
  return n;
}

// All levels of a run of level events (bids and asks in order), with their side.
struct SidedLevel {
  Side side;
  int64_t price;
  int64_t size;
  bool operator==(const SidedLevel&) const = default;
};
inline void PrintTo(const SidedLevel& l, std::ostream* os) {
  *os << (l.side == Side::kBuy ? "bid " : "ask ") << l.price << " x " << l.size;
}
inline std::vector<SidedLevel> LevelsOf(const std::vector<MdEvent>& evs) {
  std::vector<SidedLevel> out;
  for (const MdEvent& e : evs) {
    if (e.type != MdType::kLevels) continue;
    for (const PriceLevel& l : e.levels.bids()) out.push_back({Side::kBuy, l.price, l.size});
    for (const PriceLevel& l : e.levels.asks()) out.push_back({Side::kSell, l.price, l.size});
  }
  return out;
}

// One line of the Exchange recording: "<recv ts>: <frame>", or the "<-" (client frame) and
// "<->" (connect) lines that carry the URL first.
struct RecordedLine {
  enum Kind { kConnect, kClientFrame, kServerFrame } kind;
  double recv_ts = 0;
  std::string frame;
};

inline std::vector<RecordedLine> ReadExchangeRecording() {
  std::vector<RecordedLine> out;
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) +
                   "/coinbase/exchange_feed_2021-04-17.part1.txt");
  EXPECT_TRUE(in.good()) << "missing recording";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    RecordedLine r;
    std::string_view rest = line;
    if (rest.rfind("wss://", 0) == 0) {
      const size_t sp = rest.find(' ');
      rest.remove_prefix(sp + 1);
      if (rest.rfind("<->", 0) == 0) {
        r.kind = RecordedLine::kConnect;
        out.push_back(r);
        continue;
      }
      r.kind = RecordedLine::kClientFrame;
      rest.remove_prefix(3);  // "<- "
    } else {
      r.kind = RecordedLine::kServerFrame;
    }
    const size_t colon = rest.find(": ");
    r.recv_ts = std::stod(std::string(rest.substr(0, colon)));
    r.frame = std::string(rest.substr(colon + 2));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_FEEDS_COINBASE_COINBASE_TEST_UTIL_H_
