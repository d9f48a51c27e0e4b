#include "nzeza/feeds/binance/subscribe.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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
  std::string out = absl::StrCat(R"({"method":")", method, R"(","params":[)");
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendJsonString(&out, streams[i]);
  }
  absl::StrAppend(&out, R"(],"id":)", id, "}");
  return out;
}

bool IsStreamByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@' || c == '_' || c == '!';
}

}  // namespace

std::vector<std::string> BinanceStreamNames(std::span<const std::string_view> symbols,
                                            const BinanceStreamOptions& options) {
  std::vector<std::string> lower;
  lower.reserve(symbols.size());
  for (std::string_view s : symbols) lower.push_back(Lower(s));
  std::vector<std::string> out;
  const auto add = [&](std::string_view suffix) {
    for (const std::string& s : lower) out.push_back(absl::StrCat(s, suffix));
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
    return absl::InvalidArgumentError(
        absl::StrCat("Binance combined stream: ", streams.size(),
                     " streams, more than Binance's limit of ", kBinanceMaxStreamsPerConnection,
                     " per connection; split them over several connections"));
  }
  std::string out = "/stream?streams=";
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::string& s = streams[i];
    if (s.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Binance combined stream: stream name ", i, " is empty"));
    }
    for (char c : s) {
      if (!IsStreamByte(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Binance combined stream: stream name \"", s,
                         "\" has a byte outside [a-z0-9@_!] (stream names are lower case)"));
      }
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
