#include "nzeza/capture/text_recording.h"

namespace nzeza {
namespace {

std::string_view Trim(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

bool ParseUnixSecondsNanos(std::string_view s, int64_t* ns) noexcept {
  if (s.empty()) return false;
  int64_t secs = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] != '.'; ++i) {
    if (s[i] < '0' || s[i] > '9' || i >= 11) return false;
    secs = secs * 10 + (s[i] - '0');
  }
  if (i == 0) return false;
  int64_t frac = 0;
  int digits = 0;
  if (i < s.size()) {
    ++i;  // '.'
    if (i == s.size()) return false;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      if (digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
    }
  }
  for (; digits < 9; ++digits) frac *= 10;
  *ns = secs * 1'000'000'000 + frac;
  return true;
}

RecordingLine ParseRecordingLine(std::string_view line) noexcept {
  RecordingLine r;
  line = Trim(line);
  if (line.empty() || line.front() == '#') return r;
  if (line.front() == '{' || line.front() == '[') {
    r.kind = RecordingLineKind::kFrame;
    r.payload = line;
    return r;
  }
  r.kind = RecordingLineKind::kMalformed;
  // URL forms: "<url> <-> <ts>", "<url> <- <ts>: <frame>", "<url> -> <ts>: <body>".
  const size_t sp = line.find(' ');
  if (sp != std::string_view::npos && line.find("://") < sp) {
    const std::string_view url = line.substr(0, sp);
    std::string_view rest = line.substr(sp + 1);
    RecordingLineKind kind;
    if (rest.substr(0, 4) == "<-> ") {
      kind = RecordingLineKind::kConnect;
      rest.remove_prefix(4);
    } else if (rest.substr(0, 3) == "<- ") {
      kind = RecordingLineKind::kClientFrame;
      rest.remove_prefix(3);
    } else if (rest.substr(0, 3) == "-> ") {
      kind = RecordingLineKind::kRestResponse;
      rest.remove_prefix(3);
    } else {
      return r;
    }
    r.url = url;
    if (kind == RecordingLineKind::kConnect) {
      if (!ParseUnixSecondsNanos(rest, &r.ts_ns)) return r;
      r.kind = kind;
      return r;
    }
    const size_t colon = rest.find(": ");
    if (colon == std::string_view::npos ||
        !ParseUnixSecondsNanos(rest.substr(0, colon), &r.ts_ns)) {
      return r;
    }
    r.payload = rest.substr(colon + 2);
    r.kind = kind;
    return r;
  }
  // "<ts>: <frame>"
  const size_t colon = line.find(": ");
  if (colon == std::string_view::npos || !ParseUnixSecondsNanos(line.substr(0, colon), &r.ts_ns)) {
    return r;
  }
  r.payload = line.substr(colon + 2);
  r.kind = RecordingLineKind::kFrame;
  return r;
}

std::string_view QueryParam(std::string_view url, std::string_view key) noexcept {
  const size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = url.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos && kv.substr(0, eq) == key) return kv.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace nzeza
