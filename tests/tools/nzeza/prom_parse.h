// A strict line-by-line reader of the Prometheus text exposition format 0.0.4, for tests: it
// checks what a scraper relies on and returns the samples.
//
//   PromParse p = ParseProm(text);
//   ASSERT_TRUE(p.error.empty()) << p.error;
//   const PromSample* s = p.Find("nzeza_orders_total", {{"venue", "sim"}});
//
// Checked: every line ends with '\n'; "# HELP name text" and "# TYPE name type" appear at most
// once per family and TYPE before its samples; a family's samples are contiguous; sample names
// belong to the family (summary: name, name_sum, name_count); names match the grammar; label
// values are quoted with only \\, \" and \n escapes; values parse as floats (NaN, +Inf, -Inf);
// a summary's samples other than _sum/_count carry a quantile label.
#ifndef NZEZA_TESTS_TOOLS_NZEZA_PROM_PARSE_H_
#define NZEZA_TESTS_TOOLS_NZEZA_PROM_PARSE_H_

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nzeza::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromParse {
  std::string error;  // "" when the text is valid
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> help;
  std::vector<PromSample> samples;

  const PromSample* Find(std::string_view name,
                         const std::map<std::string, std::string>& labels = {}) const {
    for (const PromSample& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        match = match && it != s.labels.end() && it->second == v;
      }
      if (match) return &s;
    }
    return nullptr;
  }
};

inline bool PromNameOk(std::string_view n, bool colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

inline PromParse ParseProm(std::string_view text) {
  PromParse out;
  std::string current;  // the family whose samples are being read
  std::set<std::string> finished;
  size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    if (out.error.empty()) out.error = "line " + std::to_string(line_no) + ": " + why;
  };
  auto family_of = [&](const std::string& sample) -> std::string {
    if (out.types.count(sample)) return sample;
    for (std::string_view suffix : {"_sum", "_count"}) {
      if (sample.size() > suffix.size() &&
          sample.compare(sample.size() - suffix.size(), suffix.size(), suffix) == 0) {
        std::string base = sample.substr(0, sample.size() - suffix.size());
        auto it = out.types.find(base);
        if (it != out.types.end() && it->second == "summary") return base;
      }
    }
    return "";
  };
  auto enter = [&](const std::string& family) {
    if (family == current) return;
    if (finished.count(family)) fail("family " + family + " is not contiguous");
    if (!current.empty()) finished.insert(current);
    current = family;
  };
  if (!text.empty() && text.back() != '\n') {
    out.error = "text does not end with a newline";
    return out;
  }
  size_t pos = 0;
  while (pos < text.size() && out.error.empty()) {
    ++line_no;
    const size_t end = text.find('\n', pos);
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        const bool is_type = line[2] == 'T';
        const std::string rest = line.substr(7);
        const size_t sp = rest.find(' ');
        const std::string name = rest.substr(0, sp);
        const std::string value = sp == std::string::npos ? "" : rest.substr(sp + 1);
        if (!PromNameOk(name, true)) fail("bad metric name " + name);
        enter(name);
        auto& map = is_type ? out.types : out.help;
        if (map.count(name)) fail(std::string(is_type ? "TYPE" : "HELP") + " twice for " + name);
        if (is_type) {
          if (value != "counter" && value != "gauge" && value != "summary" &&
              value != "histogram" && value != "untyped") {
            fail("bad type " + value);
          }
          bool sampled = false;
          for (const PromSample& s : out.samples) sampled = sampled || family_of(s.name) == name;
          if (sampled) fail("TYPE after samples of " + name);
        }
        map[name] = value;
      }
      continue;  // other comments are allowed
    }
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!PromNameOk(s.name, true)) fail("bad sample name " + s.name);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          fail("label without '='");
          break;
        }
        std::string key = line.substr(i, eq - i);
        if (!PromNameOk(key, false)) fail("bad label name " + key);
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          fail("label value not quoted");
          break;
        }
        ++i;
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) break;
            if (line[i] == 'n') {
              value.push_back('\n');
            } else if (line[i] == '\\' || line[i] == '"') {
              value.push_back(line[i]);
            } else {
              fail("bad escape in label value");
            }
          } else {
            value.push_back(line[i]);
          }
          ++i;
        }
        if (i >= line.size()) {
          fail("unterminated label value");
          break;
        }
        ++i;  // closing quote
        if (s.labels.count(key)) fail("label twice: " + key);
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        fail("unterminated label set");
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no value");
      continue;
    }
    const std::string v = line.substr(i + 1);
    if (v == "NaN") {
      s.value = std::nan("");
    } else if (v == "+Inf") {
      s.value = INFINITY;
    } else if (v == "-Inf") {
      s.value = -INFINITY;
    } else {
      char* endp = nullptr;
      s.value = std::strtod(v.c_str(), &endp);
      if (v.empty() || *endp != '\0') fail("bad value '" + v + "'");
    }
    const std::string family = family_of(s.name);
    if (family.empty()) {
      fail("sample " + s.name + " without a TYPE");
    } else {
      enter(family);
      if (out.types[family] == "summary" && s.name == family && !s.labels.count("quantile")) {
        fail("summary sample without quantile");
      }
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace nzeza::testing

#endif  // NZEZA_TESTS_TOOLS_NZEZA_PROM_PARSE_H_
