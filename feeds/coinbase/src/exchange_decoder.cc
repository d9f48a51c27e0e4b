// Coinbase Exchange ws-feed decoder. See decoder.h for the protocol decisions.
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "decoder_common.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/coinbase/subscribe.h"
#include "nzeza/feeds/common/level_scan.h"

namespace nzeza {
namespace coinbase_internal {
namespace {

enum class ExType : uint8_t {
  kNone = 0,  // not read (yet)
  kL2Update,
  kSnapshot,
  kTicker,
  kMatch,
  kSubscriptions,
  kHeartbeat,
  kError,
  kOther,
};

ExType ClassifyType(std::string_view t) noexcept {
  if (t == "l2update") return ExType::kL2Update;
  if (t == "ticker") return ExType::kTicker;
  if (t == "match" || t == "last_match") return ExType::kMatch;
  if (t == "snapshot") return ExType::kSnapshot;
  if (t == "heartbeat") return ExType::kHeartbeat;
  if (t == "subscriptions") return ExType::kSubscriptions;
  if (t == "error") return ExType::kError;
  return ExType::kOther;
}

bool ParseExSide(std::string_view s, Side* out) noexcept {
  if (s == "buy") {
    *out = Side::kBuy;
  } else if (s == "sell") {
    *out = Side::kSell;
  } else {
    return false;
  }
  return true;
}

// The members of one message, as views into the receive buffer. A view is meaningful only when
// its has_ flag is set; Reset() clears the flags and numbers alone (no per-message zeroing of the
// views).
struct ExFields {
  void Reset() noexcept {
    type = ExType::kNone;
    instrument = nullptr;
    staged_raw = false;
    trade_id = 0;
    sequence = 0;
    has = Has{};
  }
  ExType type = ExType::kNone;
  std::string_view product;
  std::string_view time;
  std::string_view best_bid, best_ask, best_bid_size, best_ask_size;
  std::string_view price, size, side;
  const FeedInstrument* instrument = nullptr;  // product, once read, when in the table
  bool staged_raw = false;                     // some levels are in raw_ (product came later)
  uint64_t trade_id = 0;
  uint64_t sequence = 0;
  struct Has {
    bool product, time, trade_id, sequence, changes, bids, asks, best_bid, best_ask, bid_size,
        ask_size, price, size, side;
  } has{};
};

class ExchangeDecoder final : public CoinbaseDecoderBase {
 public:
  ExchangeDecoder(SymbolTable table, CoinbaseDecoderOptions options)
      : CoinbaseDecoderBase(std::move(table), std::move(options)) {
    last_trade_id_.assign(table_.size(), 0);
  }

  Venue venue() const noexcept override { return Venue::kCoinbaseExchange; }

  std::vector<std::string> SubscribeFrames() const override {
    std::vector<std::string> ids = Products();
    std::vector<std::string> out;
    for (CoinbaseExchangeChannel c : options_.exchange_channels) {
      out.push_back(EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp::kSubscribe, c, ids));
    }
    return out;
  }

  std::vector<std::string> ResubscribeFrames(InstrumentId instrument) const override {
    const FeedInstrument* in = table_.FindId(instrument);
    if (in == nullptr) return {};
    CoinbaseExchangeChannel book = CoinbaseExchangeChannel::kLevel2;
    for (CoinbaseExchangeChannel c : options_.exchange_channels) {
      if (c == CoinbaseExchangeChannel::kLevel2Batch) book = c;
    }
    const std::vector<std::string> ids = {in->symbol};
    return {EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp::kUnsubscribe, book, ids),
            EncodeCoinbaseExchangeSubscribe(CoinbaseSubscribeOp::kSubscribe, book, ids)};
  }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                        MdSink& sink) noexcept override;

 private:
  std::vector<std::string> Products() const {
    std::vector<std::string> ids;
    for (const FeedInstrument& in : table_.all()) ids.push_back(in.symbol);
    return ids;
  }

  // Reads every member of the root object into f (levels into raw_).
  DecodeError ReadMembers(od::object& root, ExFields& f, const char** where) noexcept;
  // A snapshot as Coinbase writes it ({"type":"snapshot","product_id":"<known product>", then
  // "asks" and "bids" in either order and an optional plain "time", no escapes), read without
  // simdjson: fills f and bids_/asks_ as ReadMembers would and returns true. False for anything
  // else (not decided: the caller clears what was read and decodes the message in full).
  bool ReadSnapshotFast(const char* data, size_t size, ExFields& f) noexcept;
  DecodeError ReadLevels(od::value& v, bool triples, Side side, ExFields& f,
                         const char** where) noexcept;

  DecodeError Book(const ExFields& f, int64_t recv_ns, MdSink& sink, const char** where) noexcept;
  DecodeError Ticker(const ExFields& f, int64_t recv_ns, MdSink& sink, const char** where) noexcept;
  DecodeError Match(const ExFields& f, int64_t recv_ns, MdSink& sink, const char** where) noexcept;

  // A failed message: counted; a book message marks the book(s) it was for (decoder.h).
  DecodeError Failed(DecodeError e, const char* where, const ExFields& f, int64_t recv_ns,
                     MdSink& sink) noexcept;

  std::vector<uint64_t> last_trade_id_;  // per instrument, 0 = none yet
  ExFields fields_;                      // the message being decoded
};

DecodeError ExchangeDecoder::ReadLevels(od::value& v, bool triples, Side side, ExFields& f,
                                        const char** where) noexcept {
  auto levels_r = v.get_array();
  if (simdjson::error_code e = levels_r.error()) {
    *where = triples ? "changes: not an array" : "bids/asks: not an array";
    return JsonError(e, DecodeError::kMissingField);
  }
  // The product came first (as Coinbase sends it): parse at its scales right away. Otherwise
  // keep the texts (raw_) until the product is known, and for the rest of the message.
  const FeedInstrument* in = f.staged_raw ? nullptr : f.instrument;
  f.staged_raw = in == nullptr;
  for (auto item_r : Ref(levels_r)) {
    if (simdjson::error_code e = item_r.error()) {
      *where = "level";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    auto parts_r = Ref(item_r).get_array();
    if (simdjson::error_code e = parts_r.error()) {
      *where = "level: not an array";
      return JsonError(e, DecodeError::kMissingField);
    }
    od::array& parts = Ref(parts_r);
    std::string_view tok[3];
    size_t n = 0;
    const size_t want = triples ? 3 : 2;
    for (auto part_r : parts) {
      if (simdjson::error_code e = part_r.error()) {
        *where = "level entry";
        return JsonError(e, DecodeError::kMalformedJson);
      }
      od::value& part = Ref(part_r);
      if (n == want) {
        *where = "level: too many entries";
        return DecodeError::kBadValue;
      }
      if (!StringToken(part, &tok[n])) {
        *where = "level entry: not a plain string";
        return DecodeError::kMissingField;
      }
      ++n;
    }
    if (n != want) {
      *where = "level: too few entries";
      return DecodeError::kMissingField;
    }
    RawLevel r;
    if (triples) {
      if (!ParseExSide(tok[0], &r.side)) {
        *where = "changes: side";
        return DecodeError::kBadValue;
      }
      r.price = tok[1];
      r.size = tok[2];
    } else {
      r.side = side;
      r.price = tok[0];
      r.size = tok[1];
    }
    if (in != nullptr) {
      PriceLevel l;
      if (!ParsePrice(r.price, in->price_scale, &l.price)) {
        *where = "level price";
        return DecodeError::kBadNumber;
      }
      if (!ParseSize(r.size, in->size_scale, &l.size)) {
        *where = "level size";
        return DecodeError::kBadNumber;
      }
      std::vector<PriceLevel>& dst = r.side == Side::kBuy ? bids_ : asks_;
      dst.push_back(l);
    } else {
      raw_.push_back(r);
    }
    if (raw_.size() + bids_.size() + asks_.size() > options_.max_levels) {
      *where = "more levels than max_levels";
      return DecodeError::kTooLarge;
    }
  }
  return DecodeError::kOk;
}

DecodeError ExchangeDecoder::ReadMembers(od::object& root, ExFields& f,
                                         const char** where) noexcept {
  for (auto field_r : root) {
    if (simdjson::error_code e = field_r.error()) {
      *where = "member";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::field& field = Ref(field_r);
    const Key k(field);
    od::value& v = field.value();
    bool ok = true;
    DecodeError e = DecodeError::kOk;
    switch (k.first()) {
      case 't':
        if (k.Is("type")) {
          std::string_view t;
          ok = StringToken(v, &t);
          if (ok) f.type = ClassifyType(t);
          *where = "type";
        } else if (k.Is("time")) {
          ok = f.has.time = StringToken(v, &f.time);
          *where = "time";
        } else if (k.Is("trade_id")) {
          ok = f.has.trade_id = UintToken(v, &f.trade_id);
          *where = "trade_id";
          if (!ok) e = DecodeError::kBadNumber;
        }
        break;
      case 'p':
        if (k.Is("product_id")) {
          ok = f.has.product = StringToken(v, &f.product);
          if (ok) f.instrument = table_.Find(f.product);
          *where = "product_id";
        } else if (k.Is("price")) {
          ok = f.has.price = StringToken(v, &f.price);
          *where = "price";
        }
        break;
      case 'c':
        if (k.Is("changes")) {
          f.has.changes = true;
          e = ReadLevels(v, /*triples=*/true, Side::kBuy, f, where);
        }
        break;
      case 'b':
        if (k.Is("bids")) {
          f.has.bids = true;
          e = ReadLevels(v, /*triples=*/false, Side::kBuy, f, where);
        } else if (k.Is("best_bid")) {
          ok = f.has.best_bid = StringToken(v, &f.best_bid);
          *where = "best_bid";
        } else if (k.Is("best_ask")) {
          ok = f.has.best_ask = StringToken(v, &f.best_ask);
          *where = "best_ask";
        } else if (k.Is("best_bid_size")) {
          ok = f.has.bid_size = StringToken(v, &f.best_bid_size);
          *where = "best_bid_size";
        } else if (k.Is("best_ask_size")) {
          ok = f.has.ask_size = StringToken(v, &f.best_ask_size);
          *where = "best_ask_size";
        }
        break;
      case 'a':
        if (k.Is("asks")) {
          f.has.asks = true;
          e = ReadLevels(v, /*triples=*/false, Side::kSell, f, where);
        }
        break;
      case 's':
        if (k.Is("size")) {
          ok = f.has.size = StringToken(v, &f.size);
          *where = "size";
        } else if (k.Is("side")) {
          ok = f.has.side = StringToken(v, &f.side);
          *where = "side";
        } else if (k.Is("sequence")) {
          ok = f.has.sequence = UintToken(v, &f.sequence);
          *where = "sequence";
          if (!ok) e = DecodeError::kBadNumber;
        }
        break;
      default:
        break;
    }
    if (e != DecodeError::kOk) return e;
    if (!ok) return DecodeError::kMissingField;  // present, but not a plain string
  }
  if (!Ended()) {
    *where = "bytes after the message";
    return DecodeError::kMalformedJson;
  }
  return DecodeError::kOk;
}

bool ExchangeDecoder::ReadSnapshotFast(const char* data, size_t size, ExFields& f) noexcept {
  static constexpr std::string_view kPrefix = R"({"type":"snapshot","product_id":")";
  if (!options_.fast_snapshots || alloc_error_ || size > options_.max_message_bytes ||
      size < kPrefix.size() || std::memcmp(data, kPrefix.data(), kPrefix.size()) != 0) {
    return false;
  }
  const char* const end = data + size;
  const char* p = data + kPrefix.size();
  const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
  if (q == nullptr) return false;
  const FeedInstrument* in = table_.Find(std::string_view(p, static_cast<size_t>(q - p)));
  if (in == nullptr) return false;  // unknown, or not plain text: decided in full
  f.type = ExType::kSnapshot;
  f.product = std::string_view(p, static_cast<size_t>(q - p));
  f.has.product = true;
  f.instrument = in;
  p = q + 1;
  const size_t max_levels = options_.max_levels;
  for (;;) {
    using level_scan_internal::Expect;
    if ((q = Expect(p, end, '}')) != nullptr) break;
    if ((p = Expect(p, end, ',')) == nullptr || (p = Expect(p, end, '"')) == nullptr) {
      return false;
    }
    static constexpr std::string_view kAsks = R"(asks")", kBids = R"(bids")", kTime = R"(time")";
    const auto is = [&](std::string_view key) {
      return static_cast<size_t>(end - p) >= key.size() &&
             std::memcmp(p, key.data(), key.size()) == 0;
    };
    if (is(kAsks) || is(kBids)) {
      const bool bids = *p == 'b';
      bool& seen = bids ? f.has.bids : f.has.asks;
      if (seen) return false;  // a repeated member: decided in full
      seen = true;
      std::vector<PriceLevel>& dst = bids ? bids_ : asks_;
      if ((p = Expect(p + kAsks.size(), end, ':')) == nullptr) return false;
      p = ScanDecimalPairs(p, end, in->price_scale, in->size_scale, [&](const PriceLevel& l) {
        if (bids_.size() + asks_.size() >= max_levels) return false;
        dst.push_back(l);
        return true;
      });
      if (p == nullptr) return false;
    } else if (is(kTime) && !f.has.time) {
      if ((p = Expect(p + kTime.size(), end, ':')) == nullptr ||
          (p = Expect(p, end, '"')) == nullptr) {
        return false;
      }
      q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
      int64_t ns;
      if (q == nullptr || !ParseTime(std::string_view(p, static_cast<size_t>(q - p)), &ns)) {
        return false;  // (an escape or a bad time: decided in full)
      }
      f.time = std::string_view(p, static_cast<size_t>(q - p));
      f.has.time = true;
      p = q + 1;
    } else {
      return false;
    }
  }
  while (q < end && level_scan_internal::IsJsonSpace(*q)) ++q;
  return q == end && f.has.bids && f.has.asks;
}

DecodeError ExchangeDecoder::Failed(DecodeError e, const char* where, const ExFields& f,
                                    int64_t recv_ns, MdSink& sink) noexcept {
  size_t idx = kNoIndex;
  if (f.type == ExType::kL2Update || f.type == ExType::kSnapshot) {
    const FeedInstrument* in = f.instrument;
    if (in != nullptr) {
      idx = table_.IndexOf(in);
      ++cb_counters_.failed_book_messages;
      LoseBook(sink, idx, recv_ns, 0, 0);
    } else if (!f.has.product) {
      // A book update was lost and we cannot tell whose.
      ++cb_counters_.failed_book_messages;
      LoseAllBooks(sink, recv_ns, 0, 0);
    }
  }
  return Fail(e, where, idx);
}

DecodeError ExchangeDecoder::OnMessage(const char* data, size_t size, int64_t recv_ns,
                                       MdSink& sink) noexcept {
  ++counters_.messages;
  raw_.clear();
  bids_.clear();
  asks_.clear();
  ExFields& f = fields_;
  f.Reset();
  const char* where = "";
  // (Only a message that can be a snapshot in Coinbase's layout pays for the call.)
  if (size > 12 && data[9] == 's' && data[10] == 'n' && ReadSnapshotFast(data, size, f)) {
    ++cb_counters_.fast_snapshots;
  } else {
    if (!bids_.empty() || !asks_.empty() || f.has.product) {  // the scanner gave up half way
      bids_.clear();
      asks_.clear();
      f.Reset();
    }
    od::object root;
    if (DecodeError e = Start(data, size, &root); e != DecodeError::kOk) {
      return Fail(e, e == DecodeError::kTooLarge ? "exchange: message too large"
                                                 : "exchange: not a JSON object");
    }
    if (DecodeError e = ReadMembers(root, f, &where); e != DecodeError::kOk) {
      return Failed(e, where, f, recv_ns, sink);
    }
  }
  DecodeError e = DecodeError::kOk;
  switch (f.type) {
    case ExType::kL2Update:
    case ExType::kSnapshot:
      e = Book(f, recv_ns, sink, &where);
      break;
    case ExType::kTicker:
      e = Ticker(f, recv_ns, sink, &where);
      break;
    case ExType::kMatch:
      e = Match(f, recv_ns, sink, &where);
      break;
    case ExType::kSubscriptions:
      ++cb_counters_.subscriptions;
      return DecodeError::kOk;
    case ExType::kHeartbeat:
      ++cb_counters_.heartbeats;
      if (f.instrument != nullptr) Seen(table_.IndexOf(f.instrument), recv_ns);
      return DecodeError::kOk;
    case ExType::kError:
      return Fail(DecodeError::kVenueError, "exchange: error message");
    case ExType::kOther:
      return Fail(DecodeError::kUnknownType, "exchange: message type not decoded");
    case ExType::kNone:
      return Fail(DecodeError::kMissingField, "exchange: type");
  }
  if (e == DecodeError::kUnknownInstrument) return Fail(e, where);
  if (e == DecodeError::kSequence) return Fail(e, where);
  if (e != DecodeError::kOk) return Failed(e, where, f, recv_ns, sink);
  return DecodeError::kOk;
}

DecodeError ExchangeDecoder::Book(const ExFields& f, int64_t recv_ns, MdSink& sink,
                                  const char** where) noexcept {
  const bool snapshot = f.type == ExType::kSnapshot;
  if (!f.has.product) {
    *where = snapshot ? "snapshot: product_id" : "l2update: product_id";
    return DecodeError::kMissingField;
  }
  if (snapshot ? !(f.has.bids && f.has.asks) : !f.has.changes) {
    *where = snapshot ? "snapshot: bids/asks" : "l2update: changes";
    return DecodeError::kMissingField;
  }
  const FeedInstrument* in = f.instrument;
  if (in == nullptr) {
    *where = "exchange: product not in the table";
    return DecodeError::kUnknownInstrument;
  }
  const size_t idx = table_.IndexOf(in);
  int64_t exchange_ns = 0;
  if (f.has.time && !ParseTime(f.time, &exchange_ns)) {
    *where = "time";
    return DecodeError::kBadValue;
  }
  Seen(idx, recv_ns);
  if (!snapshot && sync_[idx] != BookSync::kLive) {
    if (sync_[idx] == BookSync::kResyncing) {
      ++counters_.dropped_before_snapshot;  // in flight before the new snapshot: expected
      return DecodeError::kOk;
    }
    *where = "l2update before its snapshot";
    return DecodeError::kSequence;
  }
  if (DecodeError e = ParseLevels(raw_.data(), raw_.data() + raw_.size(), *in, where);
      e != DecodeError::kOk) {
    return e;
  }
  ++icounters(idx).updates;
  EmitLevels(sink, Venue::kCoinbaseExchange, in->id, 0, exchange_ns, recv_ns, snapshot, 0,
             bids_.size(), 0, asks_.size());
  if (snapshot) SnapshotApplied(sink, idx, recv_ns);
  return DecodeError::kOk;
}

DecodeError ExchangeDecoder::Ticker(const ExFields& f, int64_t recv_ns, MdSink& sink,
                                    const char** where) noexcept {
  if (!f.has.product) {
    *where = "ticker: product_id";
    return DecodeError::kMissingField;
  }
  const FeedInstrument* in = f.instrument;
  if (in == nullptr) {
    *where = "exchange: product not in the table";
    return DecodeError::kUnknownInstrument;
  }
  MdBbo b;
  if ((f.has.best_bid && !ParsePrice(f.best_bid, in->price_scale, &b.bid_price)) ||
      (f.has.best_ask && !ParsePrice(f.best_ask, in->price_scale, &b.ask_price))) {
    *where = "ticker: best_bid/best_ask";
    return DecodeError::kBadNumber;
  }
  if ((f.has.bid_size && !ParseSize(f.best_bid_size, in->size_scale, &b.bid_size)) ||
      (f.has.ask_size && !ParseSize(f.best_ask_size, in->size_scale, &b.ask_size))) {
    *where = "ticker: best_bid_size/best_ask_size";
    return DecodeError::kBadNumber;
  }
  int64_t exchange_ns = 0;
  if (f.has.time && !ParseTime(f.time, &exchange_ns)) {
    *where = "time";
    return DecodeError::kBadValue;
  }
  const size_t idx = table_.IndexOf(in);
  Seen(idx, recv_ns);
  ++cb_counters_.tickers;
  if (!f.has.best_bid && !f.has.best_ask) return DecodeError::kOk;
  MdEvent ev = MdEvent::Bbo(Venue::kCoinbaseExchange, in->id, b);
  ev.venue_seq = f.sequence;
  ev.exchange_ns = exchange_ns;
  ev.times.recv_ns = recv_ns;
  ++counters_.bbos;
  EmitOne(sink, ev);
  return DecodeError::kOk;
}

DecodeError ExchangeDecoder::Match(const ExFields& f, int64_t recv_ns, MdSink& sink,
                                   const char** where) noexcept {
  if (!f.has.product || !f.has.trade_id || !f.has.price || !f.has.size || !f.has.side) {
    *where = "match: product_id/trade_id/price/size/side";
    return DecodeError::kMissingField;
  }
  const FeedInstrument* in = f.instrument;
  if (in == nullptr) {
    *where = "exchange: product not in the table";
    return DecodeError::kUnknownInstrument;
  }
  MdTrade t;
  Side maker;
  if (!ParseExSide(f.side, &maker)) {
    *where = "match: side";
    return DecodeError::kBadValue;
  }
  t.aggressor = Opposite(maker);  // Coinbase: "The side field indicates the maker order side."
  if (!ParsePrice(f.price, in->price_scale, &t.price) ||
      !ParseSize(f.size, in->size_scale, &t.size)) {
    *where = "match: price/size";
    return DecodeError::kBadNumber;
  }
  t.trade_id = f.trade_id;
  int64_t exchange_ns = 0;
  if (f.has.time && !ParseTime(f.time, &exchange_ns)) {
    *where = "time";
    return DecodeError::kBadValue;
  }
  const size_t idx = table_.IndexOf(in);
  Seen(idx, recv_ns);
  if (t.trade_id <= last_trade_id_[idx]) {
    *where = "match: trade_id not after the last one";
    return DecodeError::kSequence;
  }
  last_trade_id_[idx] = t.trade_id;
  MdEvent ev = MdEvent::Trade(Venue::kCoinbaseExchange, in->id, t);
  ev.venue_seq = f.sequence;
  ev.exchange_ns = exchange_ns;
  ev.times.recv_ns = recv_ns;
  ++counters_.trades;
  ++icounters(idx).trades;
  EmitOne(sink, ev);
  return DecodeError::kOk;
}

}  // namespace
}  // namespace coinbase_internal

std::unique_ptr<FeedDecoder> MakeCoinbaseExchangeDecoder(SymbolTable table,
                                                         CoinbaseDecoderOptions options) {
  return std::make_unique<coinbase_internal::ExchangeDecoder>(std::move(table), std::move(options));
}

}  // namespace nzeza
