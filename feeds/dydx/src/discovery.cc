// DiscoverDydxInstruments: what an indexer message says about instruments (decoder.h). Off the hot
// path: a simdjson DOM parse per call.
#include <simdjson.h>

#include <string>
#include <string_view>

#include "nzeza/feeds/dydx/decoder.h"

namespace nzeza {
namespace {

namespace dom = simdjson::dom;

void NoteLevels(dom::element side, std::string_view symbol, InstrumentDiscovery* out) {
  dom::array levels;
  if (side.get_array().get(levels)) return;
  for (dom::element l : levels) {
    std::string_view px, sz;
    dom::array a;
    dom::object o;
    if (!l.get_array().get(a)) {
      if (a.size() < 2 || a.at(0).get_string().get(px) || a.at(1).get_string().get(sz)) continue;
    } else if (!l.get_object().get(o)) {
      if (o["price"].get_string().get(px) || o["size"].get_string().get(sz)) continue;
    } else {
      continue;
    }
    out->NotePrice(symbol, px);
    out->NoteSize(symbol, sz);
  }
}

void NoteBook(dom::element contents, std::string_view symbol, InstrumentDiscovery* out) {
  dom::object o;
  if (contents.get_object().get(o)) return;
  dom::element side;
  if (!o["bids"].get(side)) NoteLevels(side, symbol, out);
  if (!o["asks"].get(side)) NoteLevels(side, symbol, out);
}

void NoteTrades(dom::element contents, std::string_view symbol, InstrumentDiscovery* out) {
  dom::array trades;
  if (contents["trades"].get_array().get(trades)) return;
  for (dom::element t : trades) {
    std::string_view px, sz;
    if (!t["price"].get_string().get(px)) out->NotePrice(symbol, px);
    if (!t["size"].get_string().get(sz)) out->NoteSize(symbol, sz);
  }
}

// A market map ({TICKER: {tickSize, stepSize, ...}}): authoritative scales where both are given.
void NoteMarkets(dom::element map, InstrumentDiscovery* out) {
  dom::object markets;
  if (map.get_object().get(markets)) return;
  for (dom::key_value_pair kv : markets) {
    std::string_view tick, step;
    if (kv.value["tickSize"].get_string().get(tick) ||
        kv.value["stepSize"].get_string().get(step)) {
      continue;
    }
    const int32_t ps = InstrumentDiscovery::DecimalsOf(tick);
    const int32_t ss = InstrumentDiscovery::DecimalsOf(step);
    if (ps < 0 || ss < 0) continue;
    out->SetScales(kv.key, ps, ss);
  }
}

void NoteContents(std::string_view channel, std::string_view type, std::string_view id,
                  dom::element contents, InstrumentDiscovery* out) {
  if (channel == "v4_markets") {
    dom::object o;
    if (contents.get_object().get(o)) return;
    dom::element map;
    if (!o["markets"].get(map)) NoteMarkets(map, out);
    if (!o["trading"].get(map)) NoteMarkets(map, out);
    return;
  }
  if (id.empty()) return;
  if (channel == "v4_orderbook") {
    out->NoteSymbol(id);
    NoteBook(contents, id, out);
  } else if (channel == "v4_trades") {
    out->NoteSymbol(id);
    NoteTrades(contents, id, out);
  }
  (void)type;
}

}  // namespace

void DiscoverDydxInstruments(std::string_view message, InstrumentDiscovery* out) {
  dom::parser parser;
  const simdjson::padded_string padded(message);
  dom::element doc;
  if (parser.parse(padded).get(doc)) return;
  std::string_view type, channel, id;
  if (doc["type"].get_string().get(type)) return;
  if (doc["channel"].get_string().get(channel)) return;
  if (doc["id"].get_string().get(id)) id = {};
  dom::element contents;
  if (doc["contents"].get(contents)) return;
  if (type == "channel_batch_data") {
    dom::array items;
    if (contents.get_array().get(items)) return;
    for (dom::element item : items) NoteContents(channel, type, id, item, out);
  } else if (type == "subscribed" || type == "channel_data") {
    NoteContents(channel, type, id, contents, out);
  }
}

}  // namespace nzeza
