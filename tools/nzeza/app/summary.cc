#include "nzeza/app/summary.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace nzeza::app {
namespace {

// Nanoseconds as microseconds with one decimal, for the tables.
std::string Micros(uint64_t ns) { return absl::StrFormat("%d.%d", ns / 1000, (ns % 1000) / 100); }

std::string Pad(std::string_view s, size_t width, bool right) {
  std::string out;
  if (s.size() < width && right) out.append(width - s.size(), ' ');
  out.append(s);
  if (s.size() < width && !right) out.append(width - s.size(), ' ');
  return out;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

StageLatency StageLatencyFrom(std::string stage, const LatencyHistogram& histogram) {
  const LatencySummary s = histogram.Summarize();
  StageLatency l;
  l.stage = std::move(stage);
  l.count = s.count;
  l.p50 = s.p50;
  l.p99 = s.p99;
  l.p999 = s.p999;
  l.max = s.max;
  return l;
}

std::string FormatSummaryText(const RunSummary& s) {
  std::string out;
  absl::StrAppendFormat(&out, "nzeza run summary: %d.%03d s, venue %s, strategy %s\n",
                        s.duration_ns / 1'000'000'000, (s.duration_ns / 1'000'000) % 1000,
                        s.venue.empty() ? "-" : s.venue, s.strategy.empty() ? "-" : s.strategy);
  const std::pair<const char*, uint64_t> counters[] = {
      {"messages", s.messages},        {"books", s.books},
      {"signals", s.signals},          {"orders", s.orders},
      {"cancels", s.cancels},          {"fills", s.fills},
      {"rejects", s.rejects},          {"  by risk", s.risk_refusals},
      {"  by venue", s.venue_rejects}, {"breaker trips", s.breaker_trips}};
  for (const auto& [name, value] : counters) {
    absl::StrAppendFormat(&out, "  %-14s %12d\n", name, value);
  }
  absl::StrAppendFormat(&out, "  %-14s %12s\n", "breaker", s.breaker_state);
  absl::StrAppendFormat(&out, "  %-14s %12s\n", "kill switch", s.killed ? "engaged" : "off");
  if (!s.still_working.empty()) {
    absl::StrAppendFormat(&out, "  %-14s %12d  (cancels not confirmed at shutdown)\n",
                          "still working", s.still_working.size());
    for (const std::string& line : s.still_working) absl::StrAppend(&out, "    ", line, "\n");
  }

  if (!s.positions.empty()) {
    const std::vector<std::string> head = {"instrument", "position",   "avg price",
                                           "realized",   "unrealized", "venue position"};
    std::vector<std::vector<std::string>> rows;
    for (const PositionSummary& p : s.positions) {
      rows.push_back({p.instrument, p.position, p.avg_price, p.realized_pnl, p.unrealized_pnl,
                      p.venue_position.empty() ? "-" : p.venue_position});
    }
    std::vector<size_t> w(head.size());
    for (size_t c = 0; c < head.size(); ++c) {
      w[c] = head[c].size();
      for (const auto& r : rows) w[c] = std::max(w[c], r[c].size());
    }
    out.append("\n  positions\n ");
    for (size_t c = 0; c < head.size(); ++c) {
      out.push_back(' ');
      out.append(Pad(head[c], w[c], c > 0));
    }
    out.push_back('\n');
    for (const auto& r : rows) {
      out.push_back(' ');
      for (size_t c = 0; c < r.size(); ++c) {
        out.push_back(' ');
        out.append(Pad(r[c], w[c], c > 0));
      }
      out.push_back('\n');
    }
  }
  if (!s.latency.empty()) {
    size_t sw = 5;
    for (const StageLatency& l : s.latency) sw = std::max(sw, l.stage.size());
    out.append("\n  latency (us)\n");
    absl::StrAppendFormat(&out, "  %s %10s %10s %10s %10s %12s\n", Pad("stage", sw, false), "p50",
                          "p99", "p99.9", "max", "count");
    for (const StageLatency& l : s.latency) {
      absl::StrAppendFormat(&out, "  %s %10s %10s %10s %10s %12d\n", Pad(l.stage, sw, false),
                            Micros(l.p50), Micros(l.p99), Micros(l.p999), Micros(l.max), l.count);
    }
  }
  return out;
}

std::string FormatSummaryJson(const RunSummary& s) {
  std::string out = "{";
  absl::StrAppendFormat(&out, "\"duration_s\":%d.%09d", s.duration_ns / 1'000'000'000,
                        s.duration_ns % 1'000'000'000);
  out.append(",\"venue\":");
  AppendJsonString(&out, s.venue);
  out.append(",\"strategy\":");
  AppendJsonString(&out, s.strategy);
  absl::StrAppendFormat(&out,
                        ",\"messages\":%d,\"books\":%d,\"signals\":%d,\"orders\":%d,\"cancels\":%d,"
                        "\"fills\":%d,\"rejects\":%d,\"risk_refusals\":%d,\"venue_rejects\":%d,"
                        "\"breaker_trips\":%d",
                        s.messages, s.books, s.signals, s.orders, s.cancels, s.fills, s.rejects,
                        s.risk_refusals, s.venue_rejects, s.breaker_trips);
  out.append(",\"breaker_state\":");
  AppendJsonString(&out, s.breaker_state);
  out.append(s.killed ? ",\"killed\":true" : ",\"killed\":false");
  out.append(",\"still_working\":[");
  for (size_t i = 0; i < s.still_working.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, s.still_working[i]);
  }
  out.append("]");
  out.append(",\"positions\":[");
  for (size_t i = 0; i < s.positions.size(); ++i) {
    const PositionSummary& p = s.positions[i];
    if (i > 0) out.push_back(',');
    out.append("{\"instrument\":");
    AppendJsonString(&out, p.instrument);
    out.append(",\"position\":");
    AppendJsonString(&out, p.position);
    out.append(",\"avg_price\":");
    AppendJsonString(&out, p.avg_price);
    out.append(",\"realized_pnl\":");
    AppendJsonString(&out, p.realized_pnl);
    out.append(",\"unrealized_pnl\":");
    AppendJsonString(&out, p.unrealized_pnl);
    absl::StrAppend(&out, ",\"fills\":", p.fills);
    if (!p.venue_position.empty()) {
      out.append(",\"venue_position\":");
      AppendJsonString(&out, p.venue_position);
    }
    if (p.venue_open_orders >= 0) {
      absl::StrAppend(&out, ",\"venue_open_orders\":", p.venue_open_orders);
    }
    if (p.venue_fills >= 0) absl::StrAppend(&out, ",\"venue_fills\":", p.venue_fills);
    out.push_back('}');
  }
  out.append("],\"latency_ns\":{");
  for (size_t i = 0; i < s.latency.size(); ++i) {
    const StageLatency& l = s.latency[i];
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, l.stage);
    absl::StrAppendFormat(&out, ":{\"p50\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d,\"count\":%d}",
                          l.p50, l.p99, l.p999, l.max, l.count);
  }
  out.append("}}\n");
  return out;
}

absl::Status WriteSummaryJson(const RunSummary& s, const std::string& path) {
  const std::string json = FormatSummaryJson(s);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrFormat("cannot write summary %s: %s", tmp, std::strerror(errno)));
  }
  size_t done = 0;
  while (done < json.size()) {
    const ssize_t w = ::write(fd, json.data() + done, json.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::InternalError(
          absl::StrFormat("cannot write summary %s: %s", tmp, std::strerror(err)));
    }
    done += static_cast<size_t>(w);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(
        absl::StrFormat("cannot write summary %s: %s", path, std::strerror(err)));
  }
  return absl::OkStatus();
}

std::string FormatStatusLine(const RunSummary& now, const RunSummary* previous) {
  std::string out = absl::StrFormat("t=%ds msgs=%d", now.duration_ns / 1'000'000'000, now.messages);
  const int64_t dt = previous != nullptr ? now.duration_ns - previous->duration_ns : 0;
  if (previous != nullptr && dt > 0 && now.messages >= previous->messages) {
    const uint64_t per_s = static_cast<uint64_t>(
        static_cast<__int128>(now.messages - previous->messages) * 1'000'000'000 / dt);
    absl::StrAppendFormat(&out, " (+%d/s)", per_s);
  }
  absl::StrAppendFormat(&out, " books=%d sig=%d ord=%d fill=%d rej=%d trips=%d breaker=%s",
                        now.books, now.signals, now.orders, now.fills, now.rejects,
                        now.breaker_trips, now.breaker_state);
  if (now.killed) out.append(" KILLED");
  for (const PositionSummary& p : now.positions) {
    absl::StrAppendFormat(&out, " %s pos=%s pnl=%s/%s", p.instrument, p.position, p.realized_pnl,
                          p.unrealized_pnl);
  }
  for (const StageLatency& l : now.latency) {
    if (l.stage == "tick_to_trade" && l.count > 0) {
      absl::StrAppendFormat(&out, " t2t_p99=%sus", Micros(l.p99));
    }
  }
  // One line, whatever the names contain.
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace nzeza::app
