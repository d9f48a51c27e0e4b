// Small text helpers for the simulated venue's protocol: JSON string escaping, the timestamp
// formats Coinbase uses, id formatting and a seeded random generator.
//
//   std::string out;
//   sim::AppendJsonString(&out, "BTC-USD");          // "\"BTC-USD\""
//   sim::AppendRfc3339Nanos(&out, 1676'000'000'000'000'000);  // 2023-02-10T03:33:20.000000000Z
//
// Thread: pure functions; SplitMix64 is a value type.
#ifndef NZEZA_VENUES_SIM_PROTOCOL_UTIL_H_
#define NZEZA_VENUES_SIM_PROTOCOL_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <absl/strings/string_view.h>

namespace nzeza::sim {

namespace internal_cat {
inline void AppendOne(std::string* out, const char* s) { out->append(s); }
inline void AppendOne(std::string* out, const std::string& s) { out->append(s); }
inline void AppendOne(std::string* out, std::string_view s) { out->append(s); }
inline void AppendOne(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) void AppendOne(std::string* out, T v) {
  out->append(std::to_string(v));
}
}  // namespace internal_cat

// Appends / concatenates strings and integers. (Debian's Abseil has its own string_view, which
// absl::StrCat accepts and std::string_view is not, so the core uses these instead.)
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  (internal_cat::AppendOne(out, args), ...);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string s;
  Append(&s, args...);
  return s;
}

// Splits `s` at `sep`, dropping empty pieces.
std::vector<std::string_view> SplitNonEmpty(std::string_view s, char sep);

// Appends `s` as a JSON string literal (quotes, escapes for '"', '\\' and bytes < 0x20).
void AppendJsonString(std::string* out, std::string_view s);

// "2023-02-09T20:32:50.714964855Z" (UTC, nine fractional digits), as Coinbase's envelopes.
void AppendRfc3339Nanos(std::string* out, int64_t unix_ns);
std::string Rfc3339Nanos(int64_t unix_ns);

// Go's time.String() as the heartbeats' current_time: "2023-06-23 20:31:56.121961769 +0000 UTC
// m=+91717.525857105" (m=: seconds since the venue started, monotonic).
void AppendGoTime(std::string* out, int64_t unix_ns, int64_t uptime_ns);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" into unix ns. False if malformed.
bool ParseRfc3339(std::string_view s, int64_t* unix_ns);

// A UUID-shaped id (8-4-4-4-12 lower-case hex, version 4 and variant bits set) from 128 bits.
std::string UuidFromBits(uint64_t hi, uint64_t lo);

// The canonical decimal text of mantissa / 10^scale ("0.0012", "50000", "-3.5").
std::string DecimalText(int64_t mantissa, int scale);
// Same for a 128-bit mantissa (notional); scale in [0, 36].
std::string DecimalText128(__int128 mantissa, int scale);

// SplitMix64: a tiny, fast, seeded generator; the same seed gives the same sequence everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) noexcept : state_(seed) {}
  uint64_t Next() noexcept {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n > 0 (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  uint64_t Below(uint64_t n) noexcept {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_PROTOCOL_UTIL_H_
