// Text helpers. See protocol_util.h.
#include "nzeza/venues/sim/protocol_util.h"

#include <cstdio>

#include <nzeza/core/decimal.h>

namespace nzeza::sim {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, days since 1970-01-01).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

struct Broken {
  int64_t year;
  unsigned month, day, hour, minute, second;
  int64_t nanos;
};

Broken Break(int64_t unix_ns) noexcept {
  int64_t secs = unix_ns / kNsPerSec;
  int64_t nanos = unix_ns % kNsPerSec;
  if (nanos < 0) {
    nanos += kNsPerSec;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  Broken b{};
  CivilFromDays(days, &b.year, &b.month, &b.day);
  b.hour = static_cast<unsigned>(rem / 3600);
  b.minute = static_cast<unsigned>(rem % 3600 / 60);
  b.second = static_cast<unsigned>(rem % 60);
  b.nanos = nanos;
  return b;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) noexcept {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendRfc3339Nanos(std::string* out, int64_t unix_ns) {
  const Broken b = Break(unix_ns);
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u.%09lldZ",
                              static_cast<long long>(b.year), b.month, b.day, b.hour, b.minute,
                              b.second, static_cast<long long>(b.nanos));
  if (n > 0) out->append(buf, static_cast<size_t>(n));
}

std::string Rfc3339Nanos(int64_t unix_ns) {
  std::string s;
  AppendRfc3339Nanos(&s, unix_ns);
  return s;
}

void AppendGoTime(std::string* out, int64_t unix_ns, int64_t uptime_ns) {
  const Broken b = Break(unix_ns);
  if (uptime_ns < 0) uptime_ns = 0;
  char buf[96];
  const int n = std::snprintf(
      buf, sizeof(buf), "%04lld-%02u-%02u %02u:%02u:%02u.%09lld +0000 UTC m=+%lld.%09lld",
      static_cast<long long>(b.year), b.month, b.day, b.hour, b.minute, b.second,
      static_cast<long long>(b.nanos), static_cast<long long>(uptime_ns / kNsPerSec),
      static_cast<long long>(uptime_ns % kNsPerSec));
  if (n > 0) out->append(buf, static_cast<size_t>(n));
}

bool ParseRfc3339(std::string_view s, int64_t* unix_ns) {
  int64_t y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
  *unix_ns = secs * kNsPerSec + nanos;
  return true;
}

std::string UuidFromBits(uint64_t hi, uint64_t lo) {
  hi = (hi & ~0xf000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // variant 10xx
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return std::string(buf);
}

std::vector<std::string_view> SplitNonEmpty(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string DecimalText(int64_t mantissa, int scale) {
  char buf[kMaxDecimalChars];
  const size_t n = FormatDecimal(mantissa, scale, buf);
  return std::string(buf, n);
}

std::string DecimalText128(__int128 mantissa, int scale) {
  Notional n;
  n.mantissa = mantissa;
  n.scale = scale;
  char buf[kMaxNotionalChars];
  const size_t len = n.Format(buf);
  return std::string(buf, len);
}

}  // namespace nzeza::sim
