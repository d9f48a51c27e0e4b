#include "nzeza/capture/text_recording.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace nzeza {
namespace {

TEST(TextRecording, EveryLineForm) {
  RecordingLine r =
      ParseRecordingLine("wss://stream.binance.com:9443/stream?streams=a/b <-> 1633998511.159679");
  EXPECT_EQ(r.kind, RecordingLineKind::kConnect);
  EXPECT_EQ(r.url, "wss://stream.binance.com:9443/stream?streams=a/b");
  EXPECT_EQ(r.ts_ns, 1633998511159679000LL);

  r = ParseRecordingLine(
      "wss://ws-feed.pro.coinbase.com <- 1618677817.020616: {\"type\":\"subscribe\"}");
  EXPECT_EQ(r.kind, RecordingLineKind::kClientFrame);
  EXPECT_EQ(r.payload, "{\"type\":\"subscribe\"}");
  EXPECT_EQ(r.ts_ns, 1618677817020616000LL);

  r = ParseRecordingLine(
      "https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: "
      "{\"lastUpdateId\":1}\n");
  EXPECT_EQ(r.kind, RecordingLineKind::kRestResponse);
  EXPECT_EQ(QueryParam(r.url, "symbol"), "NKNUSDT");
  EXPECT_EQ(QueryParam(r.url, "limit"), "1000");
  EXPECT_EQ(QueryParam(r.url, "nope"), "");
  EXPECT_EQ(r.payload, "{\"lastUpdateId\":1}");

  r = ParseRecordingLine("1633998512.0633569: {\"stream\":\"x\"}");
  EXPECT_EQ(r.kind, RecordingLineKind::kFrame);
  EXPECT_EQ(r.ts_ns, 1633998512063356900LL);
  EXPECT_EQ(r.payload, "{\"stream\":\"x\"}");

  r = ParseRecordingLine("{\"type\":\"channel_data\"}");
  EXPECT_EQ(r.kind, RecordingLineKind::kFrame);
  EXPECT_EQ(r.ts_ns, 0);

  EXPECT_EQ(ParseRecordingLine("").kind, RecordingLineKind::kSkip);
  EXPECT_EQ(ParseRecordingLine("# comment").kind, RecordingLineKind::kSkip);
  EXPECT_EQ(ParseRecordingLine("16339x98512.06: {}").kind, RecordingLineKind::kMalformed);
  EXPECT_EQ(ParseRecordingLine("1633998512.06 {}").kind, RecordingLineKind::kMalformed);
  EXPECT_EQ(ParseRecordingLine("wss://x <=> 1").kind, RecordingLineKind::kMalformed);
  EXPECT_EQ(ParseRecordingLine("wss://x -> 1.: {}").kind, RecordingLineKind::kMalformed);
}

TEST(TextRecording, UnixSeconds) {
  int64_t ns = 0;
  EXPECT_TRUE(ParseUnixSecondsNanos("12", &ns));
  EXPECT_EQ(ns, 12'000'000'000);
  EXPECT_TRUE(ParseUnixSecondsNanos("1.0000000019", &ns));  // digits past ns are dropped
  EXPECT_EQ(ns, 1'000'000'001);
  EXPECT_FALSE(ParseUnixSecondsNanos("", &ns));
  EXPECT_FALSE(ParseUnixSecondsNanos(".5", &ns));
  EXPECT_FALSE(ParseUnixSecondsNanos("5.", &ns));
  EXPECT_FALSE(ParseUnixSecondsNanos("-5", &ns));
  EXPECT_FALSE(ParseUnixSecondsNanos("123456789012", &ns));  // beyond year 5000: not a ts
}

// Every line of the real recordings is a record of a known form.
TEST(TextRecording, TestdataRecordingsParse) {
  struct File {
    const char* path;
    int connects, client_frames, rest, frames;
  };
  const File files[] = {
      {"/binance/spot_stream_2021-10-12.txt", 1, 0, 0, -1},
      {"/binance/spot_depth_snapshots_2021-10-12.txt", 0, 0, 4, 0},
      {"/coinbase/exchange_feed_2021-04-17.part1.txt", 1, 3, 0, -1},
      {"/dydx/indexer_messages_2024-08.jsonl", 0, 0, 0, 8},
  };
  for (const File& f : files) {
    std::ifstream in(std::string(NZEZA_TESTDATA_DIR) + f.path);
    ASSERT_TRUE(in) << f.path;
    std::string line;
    int counts[6] = {};
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      const RecordingLine r = ParseRecordingLine(line);
      ASSERT_NE(r.kind, RecordingLineKind::kMalformed) << f.path << ":" << n;
      ++counts[static_cast<int>(r.kind)];
    }
    EXPECT_EQ(counts[static_cast<int>(RecordingLineKind::kConnect)], f.connects) << f.path;
    EXPECT_EQ(counts[static_cast<int>(RecordingLineKind::kClientFrame)], f.client_frames) << f.path;
    EXPECT_EQ(counts[static_cast<int>(RecordingLineKind::kRestResponse)], f.rest) << f.path;
    if (f.frames >= 0) {
      EXPECT_EQ(counts[static_cast<int>(RecordingLineKind::kFrame)], f.frames) << f.path;
    } else {
      EXPECT_GT(counts[static_cast<int>(RecordingLineKind::kFrame)], 100) << f.path;
    }
  }
}

}  // namespace
}  // namespace nzeza
