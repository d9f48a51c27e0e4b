#include "nzeza/feeds/coinbase/subscribe.h"

#include <cstdio>

namespace nzeza {
namespace {

// Appends `s` as a JSON string (quotes included), escaping what JSON requires.
void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void AppendHead(std::string& out, CoinbaseSubscribeOp op, std::span<const std::string> ids) {
  out += op == CoinbaseSubscribeOp::kSubscribe ? R"({"type":"subscribe","product_ids":[)"
                                               : R"({"type":"unsubscribe","product_ids":[)";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendJsonString(out, ids[i]);
  }
  out.push_back(']');
}

}  // namespace

const char* CoinbaseChannelName(CoinbaseChannel c) noexcept {
  switch (c) {
    case CoinbaseChannel::kLevel2:
      return "level2";
    case CoinbaseChannel::kMarketTrades:
      return "market_trades";
    case CoinbaseChannel::kTicker:
      return "ticker";
    case CoinbaseChannel::kTickerBatch:
      return "ticker_batch";
    case CoinbaseChannel::kHeartbeats:
      return "heartbeats";
  }
  return "";
}

const char* CoinbaseExchangeChannelName(CoinbaseExchangeChannel c) noexcept {
  switch (c) {
    case CoinbaseExchangeChannel::kLevel2:
      return "level2";
    case CoinbaseExchangeChannel::kLevel2Batch:
      return "level2_batch";
    case CoinbaseExchangeChannel::kTicker:
      return "ticker";
    case CoinbaseExchangeChannel::kTickerBatch:
      return "ticker_batch";
    case CoinbaseExchangeChannel::kMatches:
      return "matches";
    case CoinbaseExchangeChannel::kHeartbeat:
      return "heartbeat";
  }
  return "";
}

std::string EncodeCoinbaseSubscribe(CoinbaseSubscribeOp op, CoinbaseChannel channel,
                                    std::span<const std::string> product_ids,
                                    std::string_view jwt) {
  std::string out;
  out.reserve(64 + 16 * product_ids.size() + jwt.size());
  AppendHead(out, op, product_ids);
  out += R"(,"channel":)";
  AppendJsonString(out, CoinbaseChannelName(channel));
  if (!jwt.empty()) {
    out += R"(,"jwt":)";
    AppendJsonString(out, jwt);
  }
  out.push_back('}');
  return out;
}

std::string EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp op, CoinbaseExchangeChannel channel,
                                            std::span<const std::string> product_ids) {
  std::string out;
  out.reserve(64 + 16 * product_ids.size());
  AppendHead(out, op, product_ids);
  out += R"(,"channels":[)";
  AppendJsonString(out, CoinbaseExchangeChannelName(channel));
  out += "]}";
  return out;
}

}  // namespace nzeza
