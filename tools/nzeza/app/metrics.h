// MetricsWriter: builds a Prometheus text exposition (format 0.0.4) for GET /metrics.
//
//   MetricsWriter w;
//   w.Counter("nzeza_orders_total", "Orders sent to the venue.", orders);
//   w.Counter("nzeza_rejects_total", "Orders the venue rejected.", n, {{"reason", "post_only"}});
//   w.Gauge("nzeza_position", "Position per instrument.", 0.01, {{"instrument", "BTC-USD"}});
//   w.Latency("nzeza_stage_latency_seconds", "Per-stage latency.", hist.Summarize(),
//             {{"stage", "risk"}});
//   std::string body = w.Finish();
//
// What it guarantees about the text:
// - One "# HELP" and one "# TYPE" line per metric family, and the samples of a family contiguous,
//   in the order families were first written, whatever order the calls come in.
// - Label values escaped (\\, \", \n); HELP text escaped (\\, \n).
// - Metric and label names checked ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':' and not
//   starting "__"); a sample with a bad name, or a family re-used with another type, is not
//   written and counted in errors() (a programming error the tests catch).
// - Values: integers exactly, doubles with 17 significant digits, NaN / +Inf / -Inf spelled as
//   Prometheus does.
// - Latency(): a summary from a LatencySummary in seconds, with quantile="0.5", "0.99", "0.999",
//   <name>_sum and <name>_count, plus a gauge family <name>_max (the exact maximum).
//
// Thread: one thread at a time. Allocates: yes (control plane).
#ifndef NZEZA_APP_METRICS_H_
#define NZEZA_APP_METRICS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nzeza/core/latency_histogram.h"

namespace nzeza::app {

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class MetricsWriter {
 public:
  enum class Type { kCounter, kGauge, kSummary };

  void Counter(std::string_view name, std::string_view help, uint64_t value,
               MetricLabels labels = {});
  void Gauge(std::string_view name, std::string_view help, double value, MetricLabels labels = {});
  void GaugeInt(std::string_view name, std::string_view help, int64_t value,
                MetricLabels labels = {});
  // A summary of nanosecond latencies exported in seconds (see the file comment).
  void Latency(std::string_view name, std::string_view help, const LatencySummary& s,
               MetricLabels labels = {});

  // The exposition text; the writer is empty afterwards.
  std::string Finish();
  // Samples refused (bad names, type clashes).
  int errors() const { return errors_; }

  static bool ValidMetricName(std::string_view name);
  static bool ValidLabelName(std::string_view name);
  // Appends `v` escaped for a label value.
  static void EscapeLabelValue(std::string_view v, std::string* out);

 private:
  struct Family {
    std::string name;
    Type type;
    std::string help;
    std::string samples;
  };
  Family* FamilyFor(std::string_view name, std::string_view help, Type type);
  // Appends one sample line `name{labels[,extra]} value`.
  bool Sample(Family* f, std::string_view sample_name, MetricLabels labels,
              std::string_view extra_label, std::string_view extra_value, std::string_view value);

  std::vector<Family> families_;
  int errors_ = 0;
};

// Prometheus' spelling of a double: shortest of %.17g, "NaN", "+Inf", "-Inf".
std::string FormatMetricValue(double v);

}  // namespace nzeza::app

#endif  // NZEZA_APP_METRICS_H_
