#include "nzeza/feeds/dydx/subscribe.h"

namespace nzeza {
namespace {

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 0xf]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string Frame(std::string_view type, DydxChannel channel, std::string_view id,
                  const bool* batched) {
  std::string f;
  f.reserve(96 + id.size());
  f.append(R"({"type":)");
  AppendJsonString(&f, type);
  f.append(R"(,"channel":)");
  AppendJsonString(&f, DydxChannelName(channel));
  if (channel != DydxChannel::kMarkets) {
    f.append(R"(,"id":)");
    AppendJsonString(&f, id);
  }
  if (batched != nullptr) f.append(*batched ? R"(,"batched":true)" : R"(,"batched":false)");
  f.push_back('}');
  return f;
}

}  // namespace

std::string_view DydxChannelName(DydxChannel channel) noexcept {
  switch (channel) {
    case DydxChannel::kOrderbook:
      return "v4_orderbook";
    case DydxChannel::kTrades:
      return "v4_trades";
    case DydxChannel::kMarkets:
      return "v4_markets";
  }
  return "";
}

std::string DydxSubscribeFrame(DydxChannel channel, std::string_view id, bool batched) {
  return Frame("subscribe", channel, id, &batched);
}

std::string DydxUnsubscribeFrame(DydxChannel channel, std::string_view id) {
  return Frame("unsubscribe", channel, id, nullptr);
}

}  // namespace nzeza
