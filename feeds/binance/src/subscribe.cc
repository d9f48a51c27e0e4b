#include "nzeza/feeds/binance/subscribe.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"

namespace nzeza {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string MethodFrame(std::string_view method, std::span<const std::string> streams,
                        uint64_t id) {
  std::string out = R"({"method":")";
  out.append(method);
  out += R"(","params":[)";
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendJsonString(&out, streams[i]);
  }
  out += R"(],"id":)";
  out += std::to_string(id);
  out += "}";
  return out;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "<symbol>@<kind>[@<option>]" with a lower-case symbol ("nknusdt@bookTicker"), or an
// all-market stream "!<kind>[@<option>]" ("!miniTicker@arr"). Stream kinds are camelCase.
bool IsStreamName(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  if (s[0] == '!') {
    i = 1;
  } else {
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    if (i == 0 || i == s.size() || s[i] != '@') return false;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (!IsLowerAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '@' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> BinanceStreamNames(std::span<const std::string_view> symbols,
                                            const BinanceStreamOptions& options) {
  std::vector<std::string> lower;
  lower.reserve(symbols.size());
  for (std::string_view s : symbols) lower.push_back(Lower(s));
  std::vector<std::string> out;
  const auto add = [&](std::string_view suffix) {
    for (const std::string& s : lower) out.push_back(s + std::string(suffix));
  };
  switch (options.depth) {
    case BinanceDepthSpeed::kNone:
      break;
    case BinanceDepthSpeed::k100ms:
      add("@depth@100ms");
      break;
    case BinanceDepthSpeed::k1000ms:
      add("@depth");
      break;
  }
  if (options.book_ticker) add("@bookTicker");
  if (options.trade) add("@trade");
  if (options.agg_trade) add("@aggTrade");
  return out;
}

std::vector<std::string> BinanceStreamNames(const SymbolTable& table,
                                            const BinanceStreamOptions& options) {
  std::vector<std::string_view> symbols;
  symbols.reserve(table.size());
  for (const FeedInstrument& i : table.all()) symbols.push_back(i.symbol);
  return BinanceStreamNames(symbols, options);
}

absl::StatusOr<std::string> BinanceCombinedStreamTarget(std::span<const std::string> streams) {
  if (streams.empty()) {
    return absl::InvalidArgumentError("Binance combined stream: no stream to subscribe to");
  }
  if (streams.size() > kBinanceMaxStreamsPerConnection) {
    return absl::InvalidArgumentError("Binance combined stream: " + std::to_string(streams.size()) +
                                      " streams, more than Binance's limit of " +
                                      std::to_string(kBinanceMaxStreamsPerConnection) +
                                      " per connection; split them over several connections");
  }
  std::string out = "/stream?streams=";
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::string& s = streams[i];
    if (s.empty()) {
      return absl::InvalidArgumentError("Binance combined stream: stream name " +
                                        std::to_string(i) + " is empty");
    }
    if (!IsStreamName(s)) {
      return absl::InvalidArgumentError(
          "Binance combined stream: \"" + s +
          "\" is not a stream name (<lower-case symbol>@<kind>, e.g. btcusdt@depth@100ms)");
    }
    if (i != 0) out.push_back('/');
    out += s;
  }
  return out;
}

std::string BinanceSubscribeFrame(std::span<const std::string> streams, uint64_t id) {
  return MethodFrame("SUBSCRIBE", streams, id);
}

std::string BinanceUnsubscribeFrame(std::span<const std::string> streams, uint64_t id) {
  return MethodFrame("UNSUBSCRIBE", streams, id);
}

}  // namespace nzeza
