// DiscoverBinanceInstruments: the symbols and decimal texts of a Binance message, for building an
// instrument table from a recording (control plane; simdjson DOM, allocates).
#include <simdjson.h>

#include <string_view>

#include "nzeza/feeds/binance/decoder.h"

namespace nzeza {
namespace {

namespace dom = simdjson::dom;

bool GetString(dom::object o, std::string_view key, std::string_view* out) {
  return o[key].get_string().get(*out) == simdjson::SUCCESS;
}

void NoteLevels(dom::object o, std::string_view key, std::string_view symbol,
                InstrumentDiscovery* out) {
  dom::array levels;
  if (o[key].get_array().get(levels) != simdjson::SUCCESS) return;
  for (dom::element l : levels) {
    dom::array pair;
    if (l.get_array().get(pair) != simdjson::SUCCESS) continue;
    std::string_view p;
    std::string_view q;
    if (pair.at(0).get_string().get(p) == simdjson::SUCCESS) out->NotePrice(symbol, p);
    if (pair.at(1).get_string().get(q) == simdjson::SUCCESS) out->NoteSize(symbol, q);
  }
}

}  // namespace

void DiscoverBinanceInstruments(std::string_view message, InstrumentDiscovery* out) {
  thread_local dom::parser parser;  // reused: a recording has many messages
  const simdjson::padded_string padded(message);
  dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return;
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return;
  std::string_view stream;
  const bool combined = GetString(obj, "stream", &stream);
  dom::object ev = obj;
  if (combined && obj["data"].get_object().get(ev) != simdjson::SUCCESS) return;
  std::string_view symbol;
  if (!GetString(ev, "s", &symbol) || symbol.empty()) return;
  std::string_view type;
  const bool has_type = GetString(ev, "e", &type);
  std::string_view b;
  const bool book_ticker =
      !has_type && (combined ? stream.ends_with("@bookTicker") : GetString(ev, "b", &b));
  if (has_type && type == "depthUpdate") {
    out->NoteSymbol(symbol);
    NoteLevels(ev, "b", symbol, out);
    NoteLevels(ev, "a", symbol, out);
  } else if (has_type && (type == "trade" || type == "aggTrade")) {
    out->NoteSymbol(symbol);
    std::string_view v;
    if (GetString(ev, "p", &v)) out->NotePrice(symbol, v);
    if (GetString(ev, "q", &v)) out->NoteSize(symbol, v);
  } else if (book_ticker) {
    out->NoteSymbol(symbol);
    std::string_view v;
    if (GetString(ev, "b", &v)) out->NotePrice(symbol, v);
    if (GetString(ev, "a", &v)) out->NotePrice(symbol, v);
    if (GetString(ev, "B", &v)) out->NoteSize(symbol, v);
    if (GetString(ev, "A", &v)) out->NoteSize(symbol, v);
  }
}

}  // namespace nzeza
