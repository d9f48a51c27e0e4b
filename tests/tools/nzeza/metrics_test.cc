#include "nzeza/app/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "prom_parse.h"

namespace nzeza::app {
namespace {

using nzeza::testing::ParseProm;
using nzeza::testing::PromParse;

TEST(MetricsWriter, CountersAndGaugesParseBack) {
  MetricsWriter w;
  w.Counter("nzeza_orders_total", "Orders sent.", 12345678901234ull, {{"venue", "sim"}});
  w.Gauge("nzeza_position", "Position.", -0.25, {{"instrument", "BTC-USD"}});
  w.GaugeInt("nzeza_breaker_open", "1 while the breaker is open.", 1);
  const std::string text = w.Finish();
  EXPECT_EQ(w.errors(), 0);
  PromParse p = ParseProm(text);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << text;
  EXPECT_EQ(p.types["nzeza_orders_total"], "counter");
  EXPECT_EQ(p.types["nzeza_position"], "gauge");
  EXPECT_EQ(p.help["nzeza_orders_total"], "Orders sent.");
  const nzeza::testing::PromSample* s = p.Find("nzeza_orders_total", {{"venue", "sim"}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 12345678901234.0);
  // The integer is written exactly, not through a double's %g.
  EXPECT_NE(text.find("nzeza_orders_total{venue=\"sim\"} 12345678901234\n"), std::string::npos)
      << text;
  ASSERT_NE(p.Find("nzeza_position", {{"instrument", "BTC-USD"}}), nullptr);
  EXPECT_EQ(p.Find("nzeza_position")->value, -0.25);
  EXPECT_EQ(p.Find("nzeza_breaker_open")->value, 1);
}

TEST(MetricsWriter, FamiliesStayContiguousWhateverTheCallOrder) {
  MetricsWriter w;
  w.Counter("a_total", "A.", 1, {{"x", "1"}});
  w.Counter("b_total", "B.", 2);
  w.Counter("a_total", "A.", 3, {{"x", "2"}});
  const std::string text = w.Finish();
  PromParse p = ParseProm(text);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << text;
  EXPECT_EQ(text,
            "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 3\n"
            "# HELP b_total B.\n# TYPE b_total counter\nb_total 2\n");
}

TEST(MetricsWriter, EscapesLabelValuesAndHelp) {
  MetricsWriter w;
  const std::string nasty = "a\"b\\c\nd";
  w.Gauge("g", "Help with \\ and\nnewline.", 1, {{"v", nasty}});
  const std::string text = w.Finish();
  EXPECT_NE(text.find("g{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP g Help with \\\\ and\\nnewline.\n"), std::string::npos) << text;
  PromParse p = ParseProm(text);
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(p.samples[0].labels["v"], nasty);  // round-trips
}

TEST(MetricsWriter, LatencySummaryInSeconds) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 1000; ++v) h.Record(v);  // 1..1000 ns
  MetricsWriter w;
  w.Latency("nzeza_stage_latency_seconds", "Stage latency.", h.Summarize(), {{"stage", "risk"}});
  w.Latency("nzeza_stage_latency_seconds", "Stage latency.", h.Summarize(), {{"stage", "feed"}});
  const std::string text = w.Finish();
  EXPECT_EQ(w.errors(), 0);
  PromParse p = ParseProm(text);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << text;
  EXPECT_EQ(p.types["nzeza_stage_latency_seconds"], "summary");
  EXPECT_EQ(p.types["nzeza_stage_latency_seconds_max"], "gauge");
  auto q = [&](const char* quantile) {
    const nzeza::testing::PromSample* s =
        p.Find("nzeza_stage_latency_seconds", {{"stage", "risk"}, {"quantile", quantile}});
    return s == nullptr ? -1.0 : s->value;
  };
  EXPECT_DOUBLE_EQ(q("0.5"), 500e-9);
  EXPECT_DOUBLE_EQ(q("0.99"), 990e-9);
  EXPECT_DOUBLE_EQ(q("0.999"), 999e-9);
  ASSERT_NE(p.Find("nzeza_stage_latency_seconds_count", {{"stage", "feed"}}), nullptr);
  EXPECT_EQ(p.Find("nzeza_stage_latency_seconds_count", {{"stage", "feed"}})->value, 1000);
  EXPECT_NEAR(p.Find("nzeza_stage_latency_seconds_sum", {{"stage", "risk"}})->value, 500500e-9,
              1e-15);
  EXPECT_DOUBLE_EQ(p.Find("nzeza_stage_latency_seconds_max", {{"stage", "risk"}})->value, 1e-6);
}

TEST(MetricsWriter, RefusesBadNamesAndTypeClashes) {
  MetricsWriter w;
  w.Counter("9bad", "x", 1);
  w.Counter("ok_total", "x", 1, {{"__reserved", "v"}});
  w.Counter("ok_total", "x", 1, {{"bad-label", "v"}});
  w.Counter("ok_total", "x", 1, {{"quantile", "v"}});
  w.Gauge("ok_total", "x", 1);  // was a counter
  w.Counter("fine_total", "x", 1);
  EXPECT_EQ(w.errors(), 5);
  const std::string text = w.Finish();
  PromParse p = ParseProm(text);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << text;
  EXPECT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(text.find("ok_total"), std::string::npos) << "a family without samples is omitted";
}

TEST(MetricsWriter, SpecialValues) {
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatMetricValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");  // shortest text that reads back exactly
  EXPECT_EQ(FormatMetricValue(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(std::strtod(FormatMetricValue(1.0 / 3).c_str(), nullptr), 1.0 / 3);
  EXPECT_EQ(FormatMetricValue(2), "2");
}

}  // namespace
}  // namespace nzeza::app
