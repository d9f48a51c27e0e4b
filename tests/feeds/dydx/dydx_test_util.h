// Helpers shared by the dYdX decoder tests.
#ifndef NZEZA_TESTS_FEEDS_DYDX_DYDX_TEST_UTIL_H_
#define NZEZA_TESTS_FEEDS_DYDX_DYDX_TEST_UTIL_H_

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/book/order_book.h"
#include "nzeza/core/events.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/feeds/dydx/decoder.h"

namespace nzeza::testing {

// Scales chosen for the recorded messages: BTC-USD prices at 2 decimals (finer than its tick "1",
// because the recording's BTC-USD trades message carries a 22.87 liquidation print), sizes at its
// stepSize's 4; ETH-USD at its tickSize/stepSize (0.1, 0.001); the others from the prices seen.
inline std::vector<FeedInstrument> RecordedInstruments() {
  return {{"BTC-USD", 0, 2, 4},
          {"ETH-USD", 1, 1, 3},
          {"GRT-USD", 2, 4, 0},
          {"EGLD-USD", 3, 2, 0},
          {"AVAX-USD", 4, 2, 1}};
}

inline SymbolTable Table(std::vector<FeedInstrument> v = RecordedInstruments()) {
  absl::StatusOr<SymbolTable> t = SymbolTable::Create(v);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

inline std::unique_ptr<DydxDecoder> Decoder(DydxDecoderOptions o = {},
                                            std::vector<FeedInstrument> v = RecordedInstruments()) {
  return MakeDydxDecoder(Table(std::move(v)), o);
}

// Decodes one message from a padded copy (as the WebSocket client hands it over).
inline DecodeError Feed(FeedDecoder& d, std::string_view msg, MdSink& sink, int64_t recv_ns = 1) {
  std::string buf(msg);
  buf.append(kFeedPadding, '\0');
  return d.OnMessage(buf.data(), msg.size(), recv_ns, sink);
}

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

inline std::string RecordingPath() {
  return std::string(NZEZA_TESTDATA_DIR) + "/dydx/indexer_messages_2024-08.jsonl";
}

// Events of one type.
inline std::vector<MdEvent> OfType(const std::vector<MdEvent>& ev, MdType t) {
  std::vector<MdEvent> out;
  for (const MdEvent& e : ev) {
    if (e.type == t) out.push_back(e);
  }
  return out;
}

// All levels of the level events, in emission order, as (side, price, size).
struct Lv {
  Side side;
  int64_t price;
  int64_t size;
  bool operator==(const Lv&) const = default;
};
inline std::vector<Lv> LevelsOf(const std::vector<MdEvent>& ev) {
  std::vector<Lv> out;
  for (const MdEvent& e : ev) {
    if (e.type != MdType::kLevels) continue;
    for (const PriceLevel& l : e.levels.bids()) out.push_back({Side::kBuy, l.price, l.size});
    for (const PriceLevel& l : e.levels.asks()) out.push_back({Side::kSell, l.price, l.size});
  }
  return out;
}

inline std::vector<MdStatus> StatusesOf(const std::vector<MdEvent>& ev) {
  std::vector<MdStatus> out;
  for (const MdEvent& e : ev) {
    if (e.type == MdType::kStatus) out.push_back(e.status.code);
  }
  return out;
}

// A book's levels, best first, as (price, size) pairs.
inline std::vector<std::pair<int64_t, int64_t>> BidsOf(const OrderBook& b) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const PriceLevel& l : b.bids().levels()) out.emplace_back(l.price, l.size);
  return out;
}
inline std::vector<std::pair<int64_t, int64_t>> AsksOf(const OrderBook& b) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const PriceLevel& l : b.asks().levels()) out.emplace_back(l.price, l.size);
  return out;
}

// Applies every event for the book's instrument; fails the test on a refused event.
inline void ApplyAll(OrderBook& book, const std::vector<MdEvent>& ev) {
  for (const MdEvent& e : ev) {
    if (e.instrument != book.instrument()) continue;
    const ApplyResult r = book.Apply(e);
    EXPECT_TRUE(r.ok()) << BookErrorName(r.error);
  }
}

// A sink that counts without allocating (allocation tests).
class CountingSink final : public MdSink {
 public:
  void Push(const MdEvent& ev) noexcept override {
    ++n;
    last = ev;
  }
  uint64_t n = 0;
  MdEvent last;
};

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_FEEDS_DYDX_DYDX_TEST_UTIL_H_
