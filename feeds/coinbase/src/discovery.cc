// DiscoverCoinbaseInstruments: the products and price/size texts of a recorded message (tooling,
// off the hot path; simdjson's DOM API, allocating freely).
#include <simdjson.h>

#include <string_view>

#include "nzeza/feeds/coinbase/decoder.h"

namespace nzeza {
namespace {

namespace dom = simdjson::dom;

std::string_view Str(dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get(s)) return {};
  return s;
}

void NoteIfSet(InstrumentDiscovery* out, std::string_view product, std::string_view price,
               std::string_view size) {
  if (!price.empty()) out->NotePrice(product, price);
  if (!size.empty()) out->NoteSize(product, size);
}

// [[p, s], ...] (offset 0) or [[side, p, s], ...] (offset 1).
void NoteLevels(InstrumentDiscovery* out, std::string_view product, dom::array levels,
                size_t offset) {
  for (dom::element l : levels) {
    dom::array a;
    if (l.get(a) || a.size() < offset + 2) continue;
    std::string_view p, s;
    if (a.at(offset).get(p) || a.at(offset + 1).get(s)) continue;
    NoteIfSet(out, product, p, s);
  }
}

void Exchange(dom::object o, std::string_view type, InstrumentDiscovery* out) {
  const std::string_view product = Str(o, "product_id");
  if (product.empty()) return;
  out->NoteSymbol(product);
  dom::array a;
  if (type == "snapshot") {
    if (!o["bids"].get(a)) NoteLevels(out, product, a, 0);
    if (!o["asks"].get(a)) NoteLevels(out, product, a, 0);
  } else if (type == "l2update") {
    if (!o["changes"].get(a)) NoteLevels(out, product, a, 1);
  } else if (type == "ticker") {
    NoteIfSet(out, product, Str(o, "best_bid"), Str(o, "best_bid_size"));
    NoteIfSet(out, product, Str(o, "best_ask"), Str(o, "best_ask_size"));
  } else if (type == "match" || type == "last_match") {
    NoteIfSet(out, product, Str(o, "price"), Str(o, "size"));
  }
}

void Advanced(dom::object o, std::string_view channel, InstrumentDiscovery* out) {
  dom::array events;
  if (o["events"].get(events)) return;
  for (dom::element e : events) {
    dom::object ev;
    if (e.get(ev)) continue;
    dom::array items;
    if (channel == "l2_data") {
      const std::string_view product = Str(ev, "product_id");
      if (product.empty() || ev["updates"].get(items)) continue;
      out->NoteSymbol(product);
      for (dom::element u : items) {
        dom::object uo;
        if (!u.get(uo)) NoteIfSet(out, product, Str(uo, "price_level"), Str(uo, "new_quantity"));
      }
    } else if (channel == "market_trades" || channel == "ticker" || channel == "ticker_batch") {
      const bool trades = channel == "market_trades";
      if (ev[trades ? "trades" : "tickers"].get(items)) continue;
      for (dom::element t : items) {
        dom::object to;
        if (t.get(to)) continue;
        const std::string_view product = Str(to, "product_id");
        if (product.empty()) continue;
        out->NoteSymbol(product);
        if (trades) {
          NoteIfSet(out, product, Str(to, "price"), Str(to, "size"));
        } else {
          NoteIfSet(out, product, Str(to, "best_bid"), Str(to, "best_bid_quantity"));
          NoteIfSet(out, product, Str(to, "best_ask"), Str(to, "best_ask_quantity"));
        }
      }
    }
  }
}

}  // namespace

void DiscoverCoinbaseInstruments(std::string_view message, InstrumentDiscovery* out) {
  if (out == nullptr) return;
  dom::parser parser;
  const simdjson::padded_string padded(message);
  dom::object o;
  if (parser.parse(padded).get(o)) return;
  const std::string_view channel = Str(o, "channel");
  if (!channel.empty()) {
    Advanced(o, channel, out);
  } else {
    Exchange(o, Str(o, "type"), out);
  }
}

}  // namespace nzeza
