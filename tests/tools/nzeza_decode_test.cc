// nzeza-decode, run as a process on the testdata recordings and on bad input: the JSON summary's
// fields, and the exit status. And `nzeza-decode journal DIR` on a journal written here: one JSON
// line per record with every field the fault campaign (tools/chaos) reads, then the end line.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/core/events.h"
#include "nzeza/oms/journal.h"

namespace {

struct Result {
  int status = -1;
  std::string out;
};

Result RunTool(const std::string& args) {
  Result r;
  const std::string cmd = std::string(NZEZA_DECODE_BIN) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Data(const char* rel) { return std::string(NZEZA_TESTDATA_DIR) + "/" + rel; }

// The summary object of one instrument (the line holding its symbol).
std::string InstrumentLine(const std::string& out, const std::string& symbol) {
  const size_t p = out.find("{\"symbol\": \"" + symbol + "\"");
  if (p == std::string::npos) return {};
  return out.substr(p, out.find('}', p) - p + 1);
}

// The text of a JSON string field in `obj` ("" if absent).
std::string Str(const std::string& obj, const std::string& key) {
  const std::string k = "\"" + key + "\": \"";
  const size_t p = obj.find(k);
  if (p == std::string::npos) return {};
  return obj.substr(p + k.size(), obj.find('"', p + k.size()) - p - k.size());
}

long Num(const std::string& obj, const std::string& key) {
  const std::string k = "\"" + key + "\": ";
  const size_t p = obj.find(k);
  if (p == std::string::npos) return -1;
  return std::stol(obj.substr(p + k.size()));
}

bool Less(const std::string& a, const std::string& b) { return std::stod(a) < std::stod(b); }

TEST(NzezaDecode, BinanceRecordingWithItsSnapshots) {
  const Result r = RunTool("--strict " + Data("binance/spot_stream_2021-10-12.txt") + " " +
                           Data("binance/spot_depth_snapshots_2021-10-12.txt"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"venue\": \"binance\""), std::string::npos);
  EXPECT_EQ(Num(r.out, "gaps"), 0);
  EXPECT_EQ(Num(r.out, "decode_errors"), 0);
  EXPECT_EQ(Num(r.out, "rest_snapshots"), 4);
  for (const char* sym : {"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"}) {
    const std::string o = InstrumentLine(r.out, sym);
    ASSERT_FALSE(o.empty()) << sym << "\n" << r.out;
    EXPECT_EQ(Str(o, "book_state"), "live") << o;
    EXPECT_GT(Num(o, "updates"), 0) << o;
    EXPECT_GT(Num(o, "bid_levels"), 0) << o;
    EXPECT_GT(Num(o, "ask_levels"), 0) << o;
    EXPECT_EQ(Num(o, "crossed_messages"), 0) << o;
    EXPECT_TRUE(Less(Str(o, "best_bid"), Str(o, "best_ask"))) << o;
  }
  // Scales from the scan: Binance prints 8 decimals, trailing zeros carry no information.
  const long ps = Num(InstrumentLine(r.out, "NKNUSDT"), "price_scale");
  EXPECT_GE(ps, 4);
  EXPECT_LE(ps, 8);
}

TEST(NzezaDecode, CoinbaseExchangeRecording) {
  const Result r = RunTool("--strict " + Data("coinbase/exchange_feed_2021-04-17.part1.txt"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"venue\": \"coinbase-exchange\""), std::string::npos);
  EXPECT_EQ(Num(r.out, "client_frames"), 3);
  EXPECT_EQ(Num(r.out, "decode_errors"), 0);
  for (const char* sym : {"SKL-USD", "SKL-BTC", "BAND-GBP", "NMR-EUR", "BAND-BTC", "YFI-BTC",
                          "DASH-BTC", "NU-GBP", "CRV-EUR", "SKL-GBP"}) {
    const std::string o = InstrumentLine(r.out, sym);
    ASSERT_FALSE(o.empty()) << sym;
    EXPECT_EQ(Str(o, "book_state"), "live") << o;
    EXPECT_EQ(Num(o, "crossed_messages"), 0) << o;
  }
}

TEST(NzezaDecode, DydxMessagesAndAdvancedTradeExamples) {
  Result r = RunTool(Data("dydx/indexer_messages_2024-08.jsonl"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"venue\": \"dydx\""), std::string::npos);
  EXPECT_EQ(Num(r.out, "frames"), 8);
  // BTC-USD's scales come from v4_markets: tickSize "1", stepSize "0.0001".
  const std::string btc = InstrumentLine(r.out, "BTC-USD");
  EXPECT_EQ(Num(btc, "price_scale"), 0) << btc;
  EXPECT_EQ(Num(btc, "size_scale"), 4) << btc;
  // The file's BTC-USD v4_trades message also carries a LIQUIDATED trade at 22.87 (the source
  // test file borrowed it from another market): not a price at BTC-USD's tick of 1, so the
  // message is refused, and said so, rather than rounded.
  EXPECT_EQ(Num(btc, "decode_errors"), 1) << btc;
  EXPECT_EQ(Num(r.out, "decode_errors"), 1) << r.out;
  EXPECT_EQ(Str(InstrumentLine(r.out, "GRT-USD"), "best_bid"), "0.1547") << r.out;

  r = RunTool("--venue coinbase " + Data("coinbase/advanced_trade_doc_examples.jsonl"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_FALSE(InstrumentLine(r.out, "BTC-USD").empty()) << r.out;
  EXPECT_FALSE(InstrumentLine(r.out, "ETH-USD").empty()) << r.out;
  // Replayed as one connection the doc examples are not a stream: they all carry
  // sequence_num 0, so all but the first are duplicates; and one line is a client's subscribe
  // request, which no server sends.
  EXPECT_EQ(Num(r.out, "duplicates"), 3) << r.out;
  EXPECT_EQ(Num(r.out, "decode_errors"), 1) << r.out;
}

TEST(NzezaDecode, BadInputIsReportedNotCrashed) {
  EXPECT_EQ(RunTool("").status, 2);
  EXPECT_EQ(RunTool("/nonexistent/file").status, 2);
  EXPECT_EQ(RunTool("--venue nasdaq x").status, 2);
  EXPECT_EQ(RunTool("--depth 0 x").status, 2);
  EXPECT_EQ(RunTool("--price-scale 2 x").status, 2);  // both scales or neither

  const std::string path = ::testing::TempDir() + "/nzeza_decode_bad.txt";
  {
    std::ofstream f(path);
    f << "1.0: {\"stream\":\"x@depth\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"X\",\"U\":1,"
         "\"u\":2,\"b\":[[\"1.0\",\"2\"]],\"a\":[]}}\n";
    f << "2.0: {\"stream\":\"x@depth\",\"data\":{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":3,\n";
    f << "3.0: not json at all\n";
    f << "garbage line\n";
  }
  Result r = RunTool("--venue binance " + path);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(Num(r.out, "malformed_lines"), 1) << r.out;
  EXPECT_EQ(Num(r.out, "decode_errors"), 2) << r.out;
  // --strict: errors and a book that never became trusted fail the run.
  r = RunTool("--strict --venue binance " + path);
  EXPECT_EQ(r.status, 1) << r.out;
}

// The lines of a tool's output.
std::vector<std::string> Lines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// A fresh directory under the test's temporary directory.
std::string FreshDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Writes a journal with a new order, its venue order id, a fill and a cancel.
void WriteJournal(const std::string& dir) {
  nzeza::oms::RecoveryReport report;
  auto j = nzeza::oms::Journal::Open(
      nzeza::oms::JournalOptions{.dir = dir, .segment_bytes = 1u << 20}, 1'000,
      [](const nzeza::oms::JournalRecord&) {}, &report);
  ASSERT_TRUE(j.ok()) << j.status();
  nzeza::OrderCmd cmd;
  cmd.type = nzeza::CmdType::kNew;
  cmd.side = nzeza::Side::kSell;
  cmd.tif = nzeza::TimeInForce::kGtc;
  cmd.flags = nzeza::kOrderPostOnly;
  cmd.client_order_id = 30143637039874049ull;
  cmd.intent_id = 7;
  cmd.price = 5000084;
  cmd.size = 100000;
  ASSERT_EQ((*j)->AppendCmd(cmd, 10), nzeza::oms::AppendResult::kOk);
  ASSERT_EQ(
      (*j)->AppendVenueOrderId(cmd.client_order_id, "5d55ebe5-8bd8-48ee-867d-4c39959c1a28", 11),
      nzeza::oms::AppendResult::kOk);
  nzeza::ExecEvent fill;
  fill.type = nzeza::ExecType::kFill;
  fill.side = nzeza::Side::kSell;
  fill.liquidity = nzeza::Liquidity::kMaker;
  fill.client_order_id = cmd.client_order_id;
  fill.trade_id = 14111383455154863713ull;
  fill.last_price = 5000907;
  fill.last_size = 40000;
  fill.cum_size = 40000;
  fill.leaves_size = 60000;
  fill.fee = -3;
  ASSERT_EQ((*j)->AppendExec(fill, 12), nzeza::oms::AppendResult::kOk);
  nzeza::OrderCmd cancel;
  cancel.type = nzeza::CmdType::kCancel;
  cancel.origin = nzeza::CmdOrigin::kShutdown;
  cancel.client_order_id = cmd.client_order_id + 1;
  cancel.orig_client_order_id = cmd.client_order_id;
  ASSERT_EQ((*j)->AppendCmd(cancel, 13), nzeza::oms::AppendResult::kOk);
  ASSERT_TRUE((*j)->Close().ok());
}

TEST(NzezaDecodeJournal, PrintsEveryRecordWithItsFieldsThenTheEndLine) {
  const std::string dir = FreshDir("nzeza_decode_journal");
  WriteJournal(dir);
  const Result r = RunTool("journal " + dir);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0],
            "{\"seq\":1,\"ts_ns\":10,\"type\":\"cmd\",\"cmd\":\"new\",\"client_order_id\":"
            "30143637039874049,\"orig_client_order_id\":0,\"side\":\"sell\",\"order_type\":"
            "\"limit\",\"tif\":\"gtc\",\"flags\":1,\"origin\":\"strategy\",\"instrument\":0,"
            "\"strategy_id\":0,\"intent_id\":7,\"price\":5000084,\"size\":100000}");
  EXPECT_EQ(lines[1],
            "{\"seq\":2,\"ts_ns\":11,\"type\":\"venue_order_id\",\"client_order_id\":"
            "30143637039874049,\"venue_order_id\":\"5d55ebe5-8bd8-48ee-867d-4c39959c1a28\"}");
  EXPECT_EQ(lines[2],
            "{\"seq\":3,\"ts_ns\":12,\"type\":\"exec\",\"exec\":\"fill\",\"client_order_id\":"
            "30143637039874049,\"side\":\"sell\",\"request\":\"new\",\"liquidity\":\"maker\","
            "\"reject_code\":0,\"instrument\":0,\"strategy_id\":0,\"trade_id\":"
            "14111383455154863713,\"last_price\":5000907,\"last_size\":40000,\"cum_size\":40000,"
            "\"leaves_size\":60000,\"fee\":-3,\"venue_ns\":0,\"intent_id\":0}");
  EXPECT_NE(lines[3].find("\"cmd\":\"cancel\",\"client_order_id\":30143637039874050,"
                          "\"orig_client_order_id\":30143637039874049"),
            std::string::npos)
      << lines[3];
  EXPECT_NE(lines[3].find("\"origin\":\"shutdown\""), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4],
            "{\"type\":\"end\",\"records\":4,\"segments\":1,\"last_sequence\":4,"
            "\"torn_tail\":false,\"tail_reason\":\"\"}");
}

// A torn last record (a killed writer) is left out and reported in the end line; the journal
// is not modified (nzeza-decode may read a running engine's journal).
TEST(NzezaDecodeJournal, TornTailIsReportedAndLeftAlone) {
  const std::string dir = FreshDir("nzeza_decode_journal_torn");
  WriteJournal(dir);
  std::string segment;
  for (const auto& e : std::filesystem::directory_iterator(dir)) segment = e.path().string();
  ASSERT_FALSE(segment.empty());
  // The last record (the cancel) starts after the header and three records: damage its payload.
  const size_t last = nzeza::oms::kSegmentHeaderSize + 2 * (32 + sizeof(nzeza::OrderCmd)) +
                      (32 + sizeof(nzeza::oms::VenueOrderIdRecord));
  {
    std::fstream f(segment, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(last + 32 + 40));
    f.put('\x5a');
  }
  const auto size_before = std::filesystem::file_size(segment);
  const Result r = RunTool("journal " + dir);
  ASSERT_EQ(r.status, 0) << r.out;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_NE(lines[3].find("\"records\":3,"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find("\"torn_tail\":true"), std::string::npos) << lines[3];
  EXPECT_EQ(std::filesystem::file_size(segment), size_before);
  EXPECT_EQ(RunTool("journal " + dir).out, r.out);  // still there, read the same again
}

TEST(NzezaDecodeJournal, UsageAndMissingDirectoryExitTwo) {
  EXPECT_EQ(RunTool("journal").status, 2);
  EXPECT_EQ(RunTool("journal a b").status, 2);
  EXPECT_EQ(RunTool("journal /nonexistent/journal").status, 2);
}

}  // namespace
