#include "nzeza/app/metrics.h"

#include <cmath>
#include <cstdio>

namespace nzeza::app {
namespace {

bool NameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

void EscapeHelp(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::string_view TypeWord(MetricsWriter::Type t) {
  switch (t) {
    case MetricsWriter::Type::kCounter:
      return "counter";
    case MetricsWriter::Type::kGauge:
      return "gauge";
    case MetricsWriter::Type::kSummary:
      return "summary";
  }
  return "untyped";
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  // Shortest representation that reads back to the same double.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

bool MetricsWriter::ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/true)) return false;
  }
  return true;
}

bool MetricsWriter::ValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/false)) return false;
  }
  return true;
}

void MetricsWriter::EscapeLabelValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

MetricsWriter::Family* MetricsWriter::FamilyFor(std::string_view name, std::string_view help,
                                                Type type) {
  if (!ValidMetricName(name)) {
    ++errors_;
    return nullptr;
  }
  for (Family& f : families_) {
    if (f.name == name) {
      if (f.type != type) {
        ++errors_;
        return nullptr;
      }
      return &f;
    }
  }
  // A summary's samples <name>_sum / _count must not collide with another family.
  for (const Family& f : families_) {
    if (f.type == Type::kSummary && (name == f.name + "_sum" || name == f.name + "_count")) {
      ++errors_;
      return nullptr;
    }
  }
  families_.push_back(Family{std::string(name), type, std::string(help), {}});
  return &families_.back();
}

bool MetricsWriter::Sample(Family* f, std::string_view sample_name, MetricLabels labels,
                           std::string_view extra_label, std::string_view extra_value,
                           std::string_view value) {
  if (f == nullptr) return false;
  std::string line(sample_name);
  const bool any = labels.size() > 0 || !extra_label.empty();
  if (any) {
    line.push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!ValidLabelName(k) || k == "quantile") {
        ++errors_;
        return false;
      }
      if (!first) line.push_back(',');
      first = false;
      line.append(k);
      line.append("=\"");
      EscapeLabelValue(v, &line);
      line.push_back('"');
    }
    if (!extra_label.empty()) {
      if (!first) line.push_back(',');
      line.append(extra_label);
      line.append("=\"");
      EscapeLabelValue(extra_value, &line);
      line.push_back('"');
    }
    line.push_back('}');
  }
  line.push_back(' ');
  line.append(value);
  line.push_back('\n');
  f->samples.append(line);
  return true;
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, uint64_t value,
                            MetricLabels labels) {
  Sample(FamilyFor(name, help, Type::kCounter), name, labels, {}, {}, std::to_string(value));
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, double value,
                          MetricLabels labels) {
  Sample(FamilyFor(name, help, Type::kGauge), name, labels, {}, {}, FormatMetricValue(value));
}

void MetricsWriter::GaugeInt(std::string_view name, std::string_view help, int64_t value,
                             MetricLabels labels) {
  Sample(FamilyFor(name, help, Type::kGauge), name, labels, {}, {}, std::to_string(value));
}

void MetricsWriter::Latency(std::string_view name, std::string_view help, const LatencySummary& s,
                            MetricLabels labels) {
  Family* f = FamilyFor(name, help, Type::kSummary);
  if (f == nullptr) return;
  auto seconds = [](uint64_t ns) { return FormatMetricValue(static_cast<double>(ns) / 1e9); };
  if (!Sample(f, name, labels, "quantile", "0.5", seconds(s.p50))) return;
  Sample(f, name, labels, "quantile", "0.99", seconds(s.p99));
  Sample(f, name, labels, "quantile", "0.999", seconds(s.p999));
  const std::string n(name);
  Sample(f, n + "_sum", labels, {}, {},
         FormatMetricValue(s.mean * static_cast<double>(s.count) / 1e9));
  Sample(f, n + "_count", labels, {}, {}, std::to_string(s.count));
  std::string max_help(help);
  max_help.append(" Largest sample.");
  Sample(FamilyFor(n + "_max", max_help, Type::kGauge), n + "_max", labels, {}, {}, seconds(s.max));
}

std::string MetricsWriter::Finish() {
  std::string out;
  for (const Family& f : families_) {
    if (f.samples.empty()) continue;
    out.append("# HELP ");
    out.append(f.name);
    out.push_back(' ');
    EscapeHelp(f.help, &out);
    out.append("\n# TYPE ");
    out.append(f.name);
    out.push_back(' ');
    out.append(TypeWord(f.type));
    out.push_back('\n');
    out.append(f.samples);
  }
  families_.clear();
  return out;
}

}  // namespace nzeza::app
