// The Binance decoder does not allocate after warm-up: live depth diffs, bookTicker and aggTrade
// frames, and a gap -> buffering -> snapshot -> resync cycle, decoded and applied to books.
// (Own binary: it links the counting operator new.)
#include <cstdint>
#include <string>
#include <vector>

#include "../../common/counting_allocator.h"
#include "binance_test_util.h"
#include "gtest/gtest.h"
#include "nzeza/feeds/binance/decoder.h"

namespace nzeza {
namespace {

using namespace binance_test;  // NOLINT

std::string Diff(uint64_t U, uint64_t u, const std::string& bid, const std::string& ask) {
  return R"({"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512568,"s":"NKNUSDT","U":)" +
         std::to_string(U) + R"(,"u":)" + std::to_string(u) + R"(,"b":[[")" + bid +
         R"(","4265.00000000"],["0.34730000","106.00000000"]],"a":[[")" + ask +
         R"(","10968.00000000"]]}})";
}

TEST(BinanceDecoderAllocation, SteadyStateDecodeAndResyncDoNotAllocate) {
  auto dec = MakeBinanceDecoder(RecordingTable(), {});
  Books books(5000);
  BookSink sink(books);
  dec->OnOpen(1, sink);
  PopAll(*dec);
  const std::string snapshot =
      R"({"lastUpdateId":1000,"bids":[["0.35210000","672.00000000"],["0.35200000","1144.00000000"]],"asks":[["0.35260000","3199.00000000"]]})";
  const std::string resync_snapshot =
      R"({"lastUpdateId":5001,"bids":[["0.35210000","672.00000000"]],"asks":[["0.35260000","3199.00000000"],["0.35270000","1.00000000"]]})";
  // Everything the measured part feeds is built (and padded) beforehand.
  std::vector<Padded> frames;
  for (uint64_t i = 0; i < 2000; ++i) {
    const uint64_t U = 1001 + 2 * i;
    frames.emplace_back(
        Diff(U, U + 1, i % 2 ? "0.35170000" : "0.35180000", i % 3 ? "0.35290000" : "0.35300000"));
    if (i % 10 == 0) {
      frames.emplace_back(
          R"({"stream":"nknusdt@bookTicker","data":{"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}})");
      frames.emplace_back(
          R"({"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}})");
      frames.emplace_back(
          R"({"stream":"nknusdt@kline_1m","data":{"e":"kline","E":1,"s":"NKNUSDT","k":{}}})");
    }
  }
  // After them: a gap (5001 is skipped), diffs buffered, the snapshot that resyncs.
  std::vector<Padded> gap_frames;
  gap_frames.emplace_back(Diff(5002, 5003, "0.35170000", "0.35290000"));
  gap_frames.emplace_back(Diff(5004, 5004, "0.35180000", "0.35300000"));
  const Padded snap(snapshot);
  const Padded resync(resync_snapshot);

  // Warm-up: the snapshot and one of each frame kind.
  ASSERT_EQ(dec->OnSnapshot(kNkn, snap.data(), snap.size(), 2, sink), DecodeError::kOk);
  for (size_t i = 0; i < 4; ++i) {
    const DecodeError e = dec->OnMessage(frames[i].data(), frames[i].size(), 3, sink);
    ASSERT_TRUE(e == DecodeError::kOk || e == DecodeError::kUnknownType);
  }

  const uint64_t before = testing::AllocationCount();
  for (size_t i = 4; i < frames.size(); ++i) {
    (void)dec->OnMessage(frames[i].data(), frames[i].size(), 4, sink);
  }
  for (const Padded& f : gap_frames) (void)dec->OnMessage(f.data(), f.size(), 5, sink);
  FeedAction a;
  const bool asked = dec->PopAction(&a);
  const DecodeError se = dec->OnSnapshot(kNkn, resync.data(), resync.size(), 6, sink);
  const uint64_t after = testing::AllocationCount();

  EXPECT_EQ(after - before, 0u) << "allocations in steady state";
  EXPECT_TRUE(asked);
  EXPECT_EQ(se, DecodeError::kOk);
  EXPECT_EQ(dec->counters().decode_errors, 0u);
  EXPECT_EQ(dec->counters().gaps, 1u);
  EXPECT_EQ(dec->counters().resyncs, 2u);
  EXPECT_EQ(dec->counters().level_messages, 2u + 2000u + 2u);
  EXPECT_EQ(books.refused, 0u);
  EXPECT_EQ(books[kNkn].state(), BookState::kLive);
}

}  // namespace
}  // namespace nzeza
