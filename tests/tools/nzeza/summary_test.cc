#include "nzeza/app/summary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "simdjson.h"

namespace nzeza::app {
namespace {

RunSummary Sample() {
  RunSummary s;
  s.duration_ns = 30'250'000'000;
  s.venue = "sim";
  s.strategy = "market_maker";
  s.messages = 123456;
  s.books = 120000;
  s.signals = 800;
  s.orders = 700;
  s.cancels = 650;
  s.fills = 42;
  s.rejects = 3;
  s.risk_refusals = 2;
  s.venue_rejects = 1;
  s.breaker_trips = 1;
  s.breaker_state = "half_open";
  s.killed = false;
  s.positions.push_back({.instrument = "BTC-USD",
                         .position = "-0.002",
                         .avg_price = "50123.45",
                         .realized_pnl = "1.25",
                         .unrealized_pnl = "-0.4",
                         .fills = 7,
                         .venue_position = "-0.002",
                         .venue_open_orders = 0,
                         .venue_fills = 7});
  s.positions.push_back({.instrument = "ETH \"quoted\"\n",
                         .position = "0",
                         .avg_price = "0",
                         .realized_pnl = "0",
                         .unrealized_pnl = "0"});
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v * 100);
  s.latency.push_back(StageLatencyFrom("feed", h));
  s.latency.push_back(
      {.stage = "risk", .count = 5, .p50 = 100, .p99 = 200, .p999 = 300, .max = 400});
  return s;
}

TEST(Summary, StageLatencyFromHistogram) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);
  StageLatency l = StageLatencyFrom("signal", h);
  EXPECT_EQ(l.stage, "signal");
  EXPECT_EQ(l.count, 1000u);
  EXPECT_EQ(l.p50, 500u);  // exact below 2048 ns
  EXPECT_EQ(l.p99, 990u);
  EXPECT_EQ(l.p999, 999u);
  EXPECT_EQ(l.max, 1000u);
}

TEST(Summary, JsonParsesWithEveryField) {
  const RunSummary s = Sample();
  const std::string json = FormatSummaryJson(s);
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  simdjson::ondemand::object root;
  ASSERT_EQ(doc.get_object().get(root), simdjson::SUCCESS);

  double duration = 0;
  ASSERT_EQ(root["duration_s"].get_double().get(duration), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(duration, 30.25);
  std::string_view sv;
  ASSERT_EQ(root["venue"].get_string().get(sv), simdjson::SUCCESS);
  EXPECT_EQ(sv, "sim");
  ASSERT_EQ(root["strategy"].get_string().get(sv), simdjson::SUCCESS);
  EXPECT_EQ(sv, "market_maker");
  const std::pair<const char*, uint64_t> counters[] = {
      {"messages", 123456}, {"books", 120000},   {"signals", 800}, {"orders", 700},
      {"cancels", 650},     {"fills", 42},       {"rejects", 3},   {"risk_refusals", 2},
      {"venue_rejects", 1}, {"breaker_trips", 1}};
  for (const auto& [name, want] : counters) {
    uint64_t v = 0;
    ASSERT_EQ(root[name].get_uint64().get(v), simdjson::SUCCESS) << name;
    EXPECT_EQ(v, want) << name;
  }
  ASSERT_EQ(root["breaker_state"].get_string().get(sv), simdjson::SUCCESS);
  EXPECT_EQ(sv, "half_open");
  bool killed = true;
  ASSERT_EQ(root["killed"].get_bool().get(killed), simdjson::SUCCESS);
  EXPECT_FALSE(killed);

  simdjson::ondemand::array positions;
  ASSERT_EQ(root["positions"].get_array().get(positions), simdjson::SUCCESS);
  size_t i = 0;
  for (auto p : positions) {
    simdjson::ondemand::object o;
    ASSERT_EQ(p.get_object().get(o), simdjson::SUCCESS);
    const PositionSummary& want = s.positions[i];
    const std::pair<const char*, const std::string*> fields[] = {
        {"instrument", &want.instrument},
        {"position", &want.position},
        {"avg_price", &want.avg_price},
        {"realized_pnl", &want.realized_pnl},
        {"unrealized_pnl", &want.unrealized_pnl}};
    for (const auto& [name, value] : fields) {
      ASSERT_EQ(o[name].get_string().get(sv), simdjson::SUCCESS) << name;
      EXPECT_EQ(sv, *value) << name;  // escaping round-trips (quotes, newline)
    }
    uint64_t fills = 0;
    ASSERT_EQ(o["fills"].get(fills), simdjson::SUCCESS);
    EXPECT_EQ(fills, want.fills);
    // The venue's view only where it is known.
    int64_t venue_fills = -1;
    const bool has_venue = o["venue_fills"].get(venue_fills) == simdjson::SUCCESS;
    EXPECT_EQ(has_venue, want.venue_fills >= 0);
    if (has_venue) {
      EXPECT_EQ(venue_fills, want.venue_fills);
    }
    ++i;
  }
  EXPECT_EQ(i, 2u);

  simdjson::ondemand::object latency;
  ASSERT_EQ(root["latency_ns"].get_object().get(latency), simdjson::SUCCESS);
  size_t stages = 0;
  for (auto field : latency) {
    std::string_view key;
    ASSERT_EQ(field.unescaped_key().get(key), simdjson::SUCCESS);
    const StageLatency& want = s.latency[stages];
    EXPECT_EQ(key, want.stage);
    simdjson::ondemand::object o;
    ASSERT_EQ(field.value().get_object().get(o), simdjson::SUCCESS);
    const std::pair<const char*, uint64_t> q[] = {{"p50", want.p50},
                                                  {"p99", want.p99},
                                                  {"p999", want.p999},
                                                  {"max", want.max},
                                                  {"count", want.count}};
    for (const auto& [name, value] : q) {
      uint64_t v = 0;
      ASSERT_EQ(o[name].get_uint64().get(v), simdjson::SUCCESS) << name;
      EXPECT_EQ(v, value) << key << "." << name;
    }
    ++stages;
  }
  EXPECT_EQ(stages, 2u);
  // Within the histogram's bucket (1/1024) of the exact median.
  EXPECT_GE(s.latency[0].p50, 50'000u);
  EXPECT_LE(s.latency[0].p50, 50'000u + 50'000u / 1024);
}

TEST(Summary, EmptySummaryIsValidJson) {
  const std::string json = FormatSummaryJson(RunSummary{});
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
  simdjson::ondemand::array a;
  ASSERT_EQ(doc["positions"].get_array().get(a), simdjson::SUCCESS);
  size_t n = 0;
  ASSERT_EQ(a.count_elements().get(n), simdjson::SUCCESS);
  EXPECT_EQ(n, 0u);
}

TEST(Summary, TextHasCountersPositionsAndLatency) {
  const std::string t = FormatSummaryText(Sample());
  for (std::string_view want :
       {"30.250 s", "messages", "123456", "fills", "breaker trips", "half_open", "BTC-USD",
        "-0.002", "50123.45", "latency (us)", "p99.9", "feed", "50.0", "risk"}) {
    EXPECT_NE(t.find(want), std::string::npos) << want << "\n" << t;
  }
}

TEST(Summary, StatusLineWithRates) {
  RunSummary prev = Sample();
  RunSummary now = Sample();
  prev.duration_ns = 10'000'000'000;
  now.duration_ns = 11'000'000'000;
  prev.messages = 1000;
  now.messages = 1851;
  now.latency.push_back({.stage = "tick_to_trade",
                         .count = 10,
                         .p50 = 5000,
                         .p99 = 14'250,
                         .p999 = 20'000,
                         .max = 30'000});
  const std::string line = FormatStatusLine(now, &prev);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  for (std::string_view want : {"t=11s", "msgs=1851", "(+851/s)", "fill=42", "rej=3", "trips=1",
                                "breaker=half_open", "BTC-USD pos=-0.002", "t2t_p99=14.2us"}) {
    EXPECT_NE(line.find(want), std::string::npos) << want << "\n" << line;
  }
  EXPECT_EQ(FormatStatusLine(now, nullptr).find("/s)"), std::string::npos);
}

TEST(Summary, WriteJsonFile) {
  char dir[] = "/tmp/nzeza_summary_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/summary.json";
  ASSERT_TRUE(WriteSummaryJson(Sample(), path).ok());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), FormatSummaryJson(Sample()));
  unlink(path.c_str());
  absl::Status bad = WriteSummaryJson(Sample(), std::string(dir) + "/missing/summary.json");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.message()).find("missing/summary.json"), std::string::npos);
  rmdir(dir);
}

}  // namespace
}  // namespace nzeza::app
