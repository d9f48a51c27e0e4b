// Coinbase Advanced Trade market-data decoder. See decoder.h for the protocol decisions.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "decoder_common.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/coinbase/subscribe.h"

namespace nzeza {
namespace coinbase_internal {
namespace {

enum class AtChannel : uint8_t {
  kNone = 0,  // not read (yet)
  kL2Data,
  kMarketTrades,
  kTicker,  // ticker and ticker_batch
  kHeartbeats,
  kSubscriptions,
  kOther,
};

AtChannel ClassifyChannel(std::string_view c) noexcept {
  if (c == "l2_data") return AtChannel::kL2Data;
  if (c == "market_trades") return AtChannel::kMarketTrades;
  if (c == "ticker" || c == "ticker_batch") return AtChannel::kTicker;
  if (c == "heartbeats") return AtChannel::kHeartbeats;
  if (c == "subscriptions") return AtChannel::kSubscriptions;
  return AtChannel::kOther;
}

bool ParseBookSide(std::string_view s, Side* out) noexcept {
  if (s == "bid") {
    *out = Side::kBuy;
  } else if (s == "offer" || s == "ask") {
    *out = Side::kSell;
  } else {
    return false;
  }
  return true;
}

bool ParseTradeSide(std::string_view s, Side* out) noexcept {
  if (s == "BUY" || s == "buy") {
    *out = Side::kBuy;
  } else if (s == "SELL" || s == "sell") {
    *out = Side::kSell;
  } else {
    return false;
  }
  return true;
}

// One l2_data event, staged: its levels are bids_[bid_begin, bid_end), asks_[ask_begin, ask_end).
struct StagedBook {
  size_t idx;
  bool snapshot;
  size_t bid_begin, bid_end, ask_begin, ask_end;
};

struct StagedTrade {
  size_t idx;
  MdTrade trade;
  int64_t exchange_ns;  // 0: the envelope's timestamp
};

struct StagedBbo {
  size_t idx;
  MdBbo bbo;
};

class AdvancedDecoder final : public CoinbaseDecoderBase {
 public:
  AdvancedDecoder(SymbolTable table, CoinbaseDecoderOptions options)
      : CoinbaseDecoderBase(std::move(table), std::move(options)) {
    books_.reserve(64);
    trades_.reserve(256);
    bbos_.reserve(256);
    touched_.reserve(table_.size() + 1);
  }

  Venue venue() const noexcept override { return Venue::kCoinbase; }

  std::vector<std::string> SubscribeFrames() const override {
    std::vector<std::string> ids;
    for (const FeedInstrument& in : table_.all()) ids.push_back(in.symbol);
    std::vector<std::string> out;
    for (CoinbaseChannel c : options_.channels) {
      out.push_back(EncodeCoinbaseSubscribe(CoinbaseSubscribeOp::kSubscribe, c, ids, Jwt()));
    }
    return out;
  }

  std::vector<std::string> ResubscribeFrames(InstrumentId instrument) const override {
    const FeedInstrument* in = table_.FindId(instrument);
    if (in == nullptr) return {};
    const std::vector<std::string> ids = {in->symbol};
    return {EncodeCoinbaseSubscribe(CoinbaseSubscribeOp::kUnsubscribe, CoinbaseChannel::kLevel2,
                                    ids, Jwt()),
            EncodeCoinbaseSubscribe(CoinbaseSubscribeOp::kSubscribe, CoinbaseChannel::kLevel2, ids,
                                    Jwt())};
  }

  void OnOpen(int64_t now_ns, MdSink& sink) noexcept override {
    have_seq_ = false;
    CoinbaseDecoderBase::OnOpen(now_ns, sink);
  }
  void OnClose(int64_t now_ns, MdSink& sink) noexcept override {
    have_seq_ = false;
    CoinbaseDecoderBase::OnClose(now_ns, sink);
  }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                        MdSink& sink) noexcept override;

 private:
  std::string Jwt() const { return options_.jwt ? options_.jwt() : std::string(); }

  DecodeError ReadEnvelope(od::object& root, bool* events_later, const char** where) noexcept;
  DecodeError ReadEvents(od::value& v, const char** where) noexcept;
  DecodeError ReadBookEvent(od::object& ev, const char** where) noexcept;
  DecodeError ReadTradesEvent(od::object& ev, const char** where) noexcept;
  DecodeError ReadTickersEvent(od::object& ev, const char** where) noexcept;
  // Resolves a product; unknown ones are counted. nullptr when unknown.
  const FeedInstrument* Product(std::string_view symbol) noexcept;

  enum class SeqResult : uint8_t { kDuplicate, kNext, kGap };
  // Sequence check for a message whose number is known; a gap loses every book.
  SeqResult Sequence(MdSink& sink, int64_t recv_ns) noexcept;
  // Reads "events" if the channel is one whose events are decoded.
  DecodeError MaybeReadEvents(od::value& v, const char** where) noexcept;
  DecodeError Failed(DecodeError e, const char* where, const char* data, size_t size,
                     int64_t recv_ns, MdSink& sink) noexcept;
  // Reads a failed l2_data message again for its events' products only (into touched_). False
  // when that cannot be done for every event (the message is broken before its end).
  bool DiscoverBooks(const char* data, size_t size) noexcept;
  // Emits what was staged. Returns kSequence if an update came before its book's first snapshot.
  DecodeError Commit(int64_t recv_ns, MdSink& sink) noexcept;

  // Per connection.
  bool have_seq_ = false;
  uint64_t last_seq_ = 0;

  // Per message.
  AtChannel channel_ = AtChannel::kNone;
  bool has_seq_ = false;
  uint64_t seq_ = 0;
  std::string_view timestamp_;
  int64_t envelope_ns_ = 0;  // timestamp_ parsed (0 when absent)
  std::string_view type_;
  size_t current_ = kNoIndex;  // l2_data event being read: its instrument, once known
  size_t unknown_products_ = 0;
  std::vector<StagedBook> books_;
  std::vector<StagedTrade> trades_;
  std::vector<StagedBbo> bbos_;
  std::vector<size_t> touched_;  // DiscoverBooks: the instruments of a failed message's events
};

const FeedInstrument* AdvancedDecoder::Product(std::string_view symbol) noexcept {
  const FeedInstrument* in = table_.Find(symbol);
  if (in == nullptr) ++unknown_products_;
  return in;
}

DecodeError AdvancedDecoder::ReadBookEvent(od::object& ev, const char** where) noexcept {
  std::string_view type;
  std::string_view product;
  bool has_type = false, has_product = false, has_updates = false;
  const size_t raw_begin = raw_.size();
  const size_t bid_begin = bids_.size();
  const size_t ask_begin = asks_.size();
  const FeedInstrument* in = nullptr;  // the product, once read, when in the table
  current_ = kNoIndex;
  for (auto field_r : ev) {
    if (simdjson::error_code e = field_r.error()) {
      *where = "l2_data event member";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::field& field = Ref(field_r);
    const Key k(field);
    od::value& v = field.value();
    if (k.Is("updates")) {
      has_updates = true;
      od::array updates;
      if (simdjson::error_code e = v.get_array().get(updates)) {
        *where = "l2_data: updates not an array";
        return JsonError(e, DecodeError::kMissingField);
      }
      for (auto u_r : updates) {
        od::object uo;
        if (simdjson::error_code e = u_r.error()) {
          *where = "l2_data update";
          return JsonError(e, DecodeError::kMalformedJson);
        }
        od::value& u = Ref(u_r);
        if (simdjson::error_code e = u.get_object().get(uo)) {
          *where = "l2_data update: not an object";
          return JsonError(e, DecodeError::kMissingField);
        }
        std::string_view side;
        RawLevel r{};
        bool has_side = false, has_price = false, has_size = false;
        for (auto uf_r : uo) {
          if (simdjson::error_code e = uf_r.error()) {
            *where = "l2_data update member";
            return JsonError(e, DecodeError::kMalformedJson);
          }
          od::field& uf = Ref(uf_r);
          const Key uk(uf);
          od::value& uv = uf.value();
          bool ok = true;
          if (uk.Is("side")) {
            ok = has_side = StringToken(uv, &side);
          } else if (uk.Is("price_level")) {
            ok = has_price = StringToken(uv, &r.price);
          } else if (uk.Is("new_quantity")) {
            ok = has_size = StringToken(uv, &r.size);
          }
          if (!ok) {
            *where = "l2_data update: side/price_level/new_quantity not a plain string";
            return DecodeError::kMissingField;
          }
        }
        if (!has_side || !has_price || !has_size) {
          *where = "l2_data update: side/price_level/new_quantity";
          return DecodeError::kMissingField;
        }
        if (!ParseBookSide(side, &r.side)) {
          *where = "l2_data update: side";
          return DecodeError::kBadValue;
        }
        if (in != nullptr) {
          // The product came first (as documented): parse at its scales right away.
          PriceLevel l;
          if (!ParsePrice(r.price, in->price_scale, &l.price)) {
            *where = "l2_data update: price_level";
            return DecodeError::kBadNumber;
          }
          if (!ParseSize(r.size, in->size_scale, &l.size)) {
            *where = "l2_data update: new_quantity";
            return DecodeError::kBadNumber;
          }
          std::vector<PriceLevel>& dst = r.side == Side::kBuy ? bids_ : asks_;
          dst.push_back(l);
        } else {
          raw_.push_back(r);  // parsed once the product is known
        }
        if (raw_.size() + bids_.size() + asks_.size() > options_.max_levels) {
          *where = "more levels than max_levels";
          return DecodeError::kTooLarge;
        }
      }
    } else if (k.Is("product_id")) {
      if (!StringToken(v, &product)) {
        *where = "l2_data: product_id";
        return DecodeError::kMissingField;
      }
      has_product = true;
      in = table_.Find(product);
      if (in != nullptr) current_ = table_.IndexOf(in);
    } else if (k.Is("type")) {
      if (!StringToken(v, &type)) {
        *where = "l2_data: event type";
        return DecodeError::kMissingField;
      }
      has_type = true;
    }
  }
  if (!has_type || !has_product || !has_updates) {
    *where = "l2_data: type/product_id/updates";
    return DecodeError::kMissingField;
  }
  bool snapshot;
  if (type == "update") {
    snapshot = false;
  } else if (type == "snapshot") {
    snapshot = true;
  } else {
    *where = "l2_data: event type";
    return DecodeError::kBadValue;
  }
  if (in == nullptr) {  // not ours: skipped, counted
    ++unknown_products_;
    raw_.resize(raw_begin);
    return DecodeError::kOk;
  }
  const size_t idx = table_.IndexOf(in);
  StagedBook b{idx, snapshot, bid_begin, 0, ask_begin, 0};
  if (DecodeError e = ParseLevels(raw_.data() + raw_begin, raw_.data() + raw_.size(), *in, where);
      e != DecodeError::kOk) {
    return e;
  }
  b.bid_end = bids_.size();
  b.ask_end = asks_.size();
  raw_.resize(raw_begin);
  books_.push_back(b);
  current_ = kNoIndex;
  return DecodeError::kOk;
}

DecodeError AdvancedDecoder::ReadTradesEvent(od::object& ev, const char** where) noexcept {
  for (auto field_r : ev) {
    if (simdjson::error_code e = field_r.error()) {
      *where = "market_trades event member";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::field& field = Ref(field_r);
    if (!Key(field).Is("trades")) continue;
    od::array trades;
    if (simdjson::error_code e = field.value().get_array().get(trades)) {
      *where = "market_trades: trades not an array";
      return JsonError(e, DecodeError::kMissingField);
    }
    for (auto t_r : trades) {
      od::object to;
      if (simdjson::error_code e = t_r.error()) {
        *where = "market_trades trade";
        return JsonError(e, DecodeError::kMalformedJson);
      }
      od::value& t = Ref(t_r);
      if (simdjson::error_code e = t.get_object().get(to)) {
        *where = "market_trades trade: not an object";
        return JsonError(e, DecodeError::kMissingField);
      }
      std::string_view id, product, price, size, side, time;
      bool has_id = false, has_product = false, has_price = false, has_size = false,
           has_side = false, has_time = false;
      for (auto tf_r : to) {
        if (simdjson::error_code e = tf_r.error()) {
          *where = "market_trades trade member";
          return JsonError(e, DecodeError::kMalformedJson);
        }
        od::field& tf = Ref(tf_r);
        const Key k(tf);
        od::value& v = tf.value();
        bool ok = true;
        if (k.Is("trade_id")) {
          const std::string_view raw = v.raw_json_token();
          std::string_view tok = InMessage(raw) ? TrimRight(raw) : std::string_view();
          if (tok.size() >= 2 && tok.front() == '"') {
            ok = StringToken(v, &id);
          } else {
            id = tok;  // a bare number
            ok = !id.empty();
          }
          has_id = ok;
        } else if (k.Is("product_id")) {
          ok = has_product = StringToken(v, &product);
        } else if (k.Is("price")) {
          ok = has_price = StringToken(v, &price);
        } else if (k.Is("size")) {
          ok = has_size = StringToken(v, &size);
        } else if (k.Is("side")) {
          ok = has_side = StringToken(v, &side);
        } else if (k.Is("time")) {
          ok = has_time = StringToken(v, &time);
        }
        if (!ok) {
          *where = "market_trades trade: a member is not a plain string";
          return DecodeError::kMissingField;
        }
      }
      if (!has_id || !has_product || !has_price || !has_size || !has_side) {
        *where = "market_trades trade: trade_id/product_id/price/size/side";
        return DecodeError::kMissingField;
      }
      const FeedInstrument* in = Product(product);
      if (in == nullptr) continue;
      StagedTrade s{table_.IndexOf(in), MdTrade{}, 0};
      if (!ParseTradeSide(side, &s.trade.aggressor)) {  // the taker's side (decoder.h)
        *where = "market_trades trade: side";
        return DecodeError::kBadValue;
      }
      if (!ParsePrice(price, in->price_scale, &s.trade.price) ||
          !ParseSize(size, in->size_scale, &s.trade.size)) {
        *where = "market_trades trade: price/size";
        return DecodeError::kBadNumber;
      }
      if (has_time && !ParseTime(time, &s.exchange_ns)) {
        *where = "market_trades trade: time";
        return DecodeError::kBadValue;
      }
      if (!ParseU64(id, &s.trade.trade_id)) s.trade.trade_id = Fnv1a64(id);
      trades_.push_back(s);
    }
  }
  return DecodeError::kOk;
}

DecodeError AdvancedDecoder::ReadTickersEvent(od::object& ev, const char** where) noexcept {
  for (auto field_r : ev) {
    if (simdjson::error_code e = field_r.error()) {
      *where = "ticker event member";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::field& field = Ref(field_r);
    if (!Key(field).Is("tickers")) continue;
    od::array tickers;
    if (simdjson::error_code e = field.value().get_array().get(tickers)) {
      *where = "ticker: tickers not an array";
      return JsonError(e, DecodeError::kMissingField);
    }
    for (auto t_r : tickers) {
      od::object to;
      if (simdjson::error_code e = t_r.error()) {
        *where = "ticker entry";
        return JsonError(e, DecodeError::kMalformedJson);
      }
      od::value& t = Ref(t_r);
      if (simdjson::error_code e = t.get_object().get(to)) {
        *where = "ticker entry: not an object";
        return JsonError(e, DecodeError::kMissingField);
      }
      std::string_view product, bid, bid_qty, ask, ask_qty;
      bool has_product = false, has_bid = false, has_bid_qty = false, has_ask = false,
           has_ask_qty = false;
      for (auto tf_r : to) {
        if (simdjson::error_code e = tf_r.error()) {
          *where = "ticker entry member";
          return JsonError(e, DecodeError::kMalformedJson);
        }
        od::field& tf = Ref(tf_r);
        const Key k(tf);
        od::value& v = tf.value();
        bool ok = true;
        if (k.Is("product_id")) {
          ok = has_product = StringToken(v, &product);
        } else if (k.Is("best_bid")) {
          ok = has_bid = StringToken(v, &bid);
        } else if (k.Is("best_bid_quantity")) {
          ok = has_bid_qty = StringToken(v, &bid_qty);
        } else if (k.Is("best_ask")) {
          ok = has_ask = StringToken(v, &ask);
        } else if (k.Is("best_ask_quantity")) {
          ok = has_ask_qty = StringToken(v, &ask_qty);
        }
        if (!ok) {
          *where = "ticker entry: a member is not a plain string";
          return DecodeError::kMissingField;
        }
      }
      if (!has_product) {
        *where = "ticker entry: product_id";
        return DecodeError::kMissingField;
      }
      const FeedInstrument* in = Product(product);
      if (in == nullptr) continue;
      ++cb_counters_.tickers;
      if (!has_bid && !has_ask) continue;
      StagedBbo s{table_.IndexOf(in), MdBbo{}};
      if ((has_bid && !ParsePrice(bid, in->price_scale, &s.bbo.bid_price)) ||
          (has_ask && !ParsePrice(ask, in->price_scale, &s.bbo.ask_price)) ||
          (has_bid_qty && !ParseSize(bid_qty, in->size_scale, &s.bbo.bid_size)) ||
          (has_ask_qty && !ParseSize(ask_qty, in->size_scale, &s.bbo.ask_size))) {
        *where = "ticker entry: best_bid/best_ask/quantities";
        return DecodeError::kBadNumber;
      }
      bbos_.push_back(s);
    }
  }
  return DecodeError::kOk;
}

DecodeError AdvancedDecoder::ReadEvents(od::value& v, const char** where) noexcept {
  od::array events;
  if (simdjson::error_code e = v.get_array().get(events)) {
    *where = "events: not an array";
    return JsonError(e, DecodeError::kMissingField);
  }
  for (auto ev_r : events) {
    od::object eo;
    if (simdjson::error_code e = ev_r.error()) {
      *where = "event";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::value& ev = Ref(ev_r);
    if (simdjson::error_code e = ev.get_object().get(eo)) {
      *where = "event: not an object";
      return JsonError(e, DecodeError::kMissingField);
    }
    DecodeError e = DecodeError::kOk;
    switch (channel_) {
      case AtChannel::kL2Data:
        e = ReadBookEvent(eo, where);
        break;
      case AtChannel::kMarketTrades:
        e = ReadTradesEvent(eo, where);
        break;
      case AtChannel::kTicker:
        e = ReadTickersEvent(eo, where);
        break;
      default:
        break;  // nothing to read: the iteration skips the event
    }
    if (e != DecodeError::kOk) return e;
  }
  return DecodeError::kOk;
}

DecodeError AdvancedDecoder::ReadEnvelope(od::object& root, bool* events_later,
                                          const char** where) noexcept {
  for (auto field_r : root) {
    if (simdjson::error_code e = field_r.error()) {
      *where = "member";
      return JsonError(e, DecodeError::kMalformedJson);
    }
    od::field& field = Ref(field_r);
    const Key k(field);
    od::value& v = field.value();
    if (k.Is("channel")) {
      std::string_view c;
      if (!StringToken(v, &c)) {
        *where = "channel";
        return DecodeError::kMissingField;
      }
      channel_ = ClassifyChannel(c);
    } else if (k.Is("sequence_num")) {
      if (!UintToken(v, &seq_)) {
        *where = "sequence_num";
        return DecodeError::kBadNumber;
      }
      has_seq_ = true;
    } else if (k.Is("timestamp")) {
      if (!StringToken(v, &timestamp_)) {
        *where = "timestamp";
        return DecodeError::kMissingField;
      }
    } else if (k.Is("events")) {
      if (channel_ == AtChannel::kNone) {
        *events_later = true;  // read in a second pass, once the channel is known
      } else if (DecodeError e = MaybeReadEvents(v, where); e != DecodeError::kOk) {
        return e;
      }
    } else if (k.Is("type")) {
      if (!StringToken(v, &type_)) {
        *where = "type";
        return DecodeError::kMissingField;
      }
    }
  }
  if (!Ended()) {
    *where = "bytes after the message";
    return DecodeError::kMalformedJson;
  }
  return DecodeError::kOk;
}

AdvancedDecoder::SeqResult AdvancedDecoder::Sequence(MdSink& sink, int64_t recv_ns) noexcept {
  SeqResult r = SeqResult::kNext;
  if (have_seq_) {
    if (seq_ <= last_seq_) return SeqResult::kDuplicate;
    if (seq_ != last_seq_ + 1) {
      // Some message of some channel was lost: no book on this connection can be trusted.
      LoseAllBooks(sink, recv_ns, last_seq_ + 1, seq_);
      r = SeqResult::kGap;
    }
  }
  have_seq_ = true;
  last_seq_ = seq_;
  return r;
}

DecodeError AdvancedDecoder::MaybeReadEvents(od::value& v, const char** where) noexcept {
  switch (channel_) {
    case AtChannel::kL2Data:
    case AtChannel::kMarketTrades:
    case AtChannel::kTicker:
      return ReadEvents(v, where);
    default:
      return DecodeError::kOk;  // not decoded: the iteration skips the value
  }
}

bool AdvancedDecoder::DiscoverBooks(const char* data, size_t size) noexcept {
  touched_.clear();
  od::object root;
  if (Start(data, size, &root) != DecodeError::kOk) return false;
  bool saw_events = false;
  for (auto field_r : root) {
    if (field_r.error()) return false;
    od::field& field = Ref(field_r);
    if (!Key(field).Is("events")) continue;
    saw_events = true;
    auto events_r = field.value().get_array();
    if (events_r.error()) return false;
    for (auto ev_r : Ref(events_r)) {
      if (ev_r.error()) return false;
      auto eo_r = Ref(ev_r).get_object();
      if (eo_r.error()) return false;
      bool has_product = false;
      for (auto ef_r : Ref(eo_r)) {
        if (ef_r.error()) return false;
        od::field& ef = Ref(ef_r);
        if (!Key(ef).Is("product_id")) continue;
        std::string_view product;
        if (!StringToken(ef.value(), &product)) return false;
        has_product = true;
        if (const FeedInstrument* in = table_.Find(product)) {
          const size_t idx = table_.IndexOf(in);
          if (std::find(touched_.begin(), touched_.end(), idx) == touched_.end()) {
            touched_.push_back(idx);
          }
        }
      }
      if (!has_product) return false;
    }
  }
  return saw_events && Ended();
}

DecodeError AdvancedDecoder::Failed(DecodeError e, const char* where, const char* data, size_t size,
                                    int64_t recv_ns, MdSink& sink) noexcept {
  const size_t idx = current_;
  if (channel_ == AtChannel::kL2Data && has_seq_) {
    const SeqResult r = Sequence(sink, recv_ns);
    // The message consumed its number and it carried book updates: the books it was for are lost
    // (every book when they cannot all be named). A gap lost every book already.
    if (r == SeqResult::kNext) {
      ++cb_counters_.failed_book_messages;
      if (DiscoverBooks(data, size)) {
        for (size_t i : touched_) LoseBook(sink, i, recv_ns, seq_, seq_);
      } else {
        LoseAllBooks(sink, recv_ns, seq_, seq_);
      }
    } else if (r == SeqResult::kGap) {
      ++cb_counters_.failed_book_messages;
    }
  } else if (channel_ != AtChannel::kNone && has_seq_) {
    (void)Sequence(sink, recv_ns);  // nothing of a book was lost; the number is consumed
  }
  return Fail(e, where, idx);
}

DecodeError AdvancedDecoder::Commit(int64_t recv_ns, MdSink& sink) noexcept {
  DecodeError result = DecodeError::kOk;
  const int64_t envelope_ns = envelope_ns_;
  for (const StagedBook& b : books_) {
    const FeedInstrument& in = table_.all()[b.idx];
    Seen(b.idx, recv_ns);
    if (!b.snapshot && sync_[b.idx] != BookSync::kLive) {
      if (sync_[b.idx] == BookSync::kResyncing) {
        ++counters_.dropped_before_snapshot;  // in flight before the new snapshot: expected
      } else {
        result = Fail(DecodeError::kSequence, "l2_data update before its snapshot", b.idx);
      }
      continue;
    }
    ++icounters(b.idx).updates;
    EmitLevels(sink, Venue::kCoinbase, in.id, seq_, envelope_ns, recv_ns, b.snapshot, b.bid_begin,
               b.bid_end, b.ask_begin, b.ask_end);
    if (b.snapshot) SnapshotApplied(sink, b.idx, recv_ns);
  }
  for (const StagedTrade& t : trades_) {
    const FeedInstrument& in = table_.all()[t.idx];
    Seen(t.idx, recv_ns);
    MdEvent ev = MdEvent::Trade(Venue::kCoinbase, in.id, t.trade);
    ev.venue_seq = seq_;
    ev.exchange_ns = t.exchange_ns != 0 ? t.exchange_ns : envelope_ns;
    ev.times.recv_ns = recv_ns;
    ++counters_.trades;
    ++icounters(t.idx).trades;
    EmitOne(sink, ev);
  }
  for (const StagedBbo& b : bbos_) {
    const FeedInstrument& in = table_.all()[b.idx];
    Seen(b.idx, recv_ns);
    MdEvent ev = MdEvent::Bbo(Venue::kCoinbase, in.id, b.bbo);
    ev.venue_seq = seq_;
    ev.exchange_ns = envelope_ns;
    ev.times.recv_ns = recv_ns;
    ++counters_.bbos;
    EmitOne(sink, ev);
  }
  return result;
}

DecodeError AdvancedDecoder::OnMessage(const char* data, size_t size, int64_t recv_ns,
                                       MdSink& sink) noexcept {
  ++counters_.messages;
  channel_ = AtChannel::kNone;
  has_seq_ = false;
  seq_ = 0;
  timestamp_ = {};
  type_ = {};
  current_ = kNoIndex;
  unknown_products_ = 0;
  raw_.clear();
  books_.clear();
  bids_.clear();
  asks_.clear();
  trades_.clear();
  bbos_.clear();
  touched_.clear();

  od::object root;
  if (DecodeError e = Start(data, size, &root); e != DecodeError::kOk) {
    return Fail(e, e == DecodeError::kTooLarge ? "advanced: message too large"
                                               : "advanced: not a JSON object");
  }
  const char* where = "";
  bool events_later = false;
  if (DecodeError e = ReadEnvelope(root, &events_later, &where); e != DecodeError::kOk) {
    return Failed(e, where, data, size, recv_ns, sink);
  }
  if (channel_ == AtChannel::kNone) {
    if (type_ == "error") return Fail(DecodeError::kVenueError, "advanced: error message");
    if (!type_.empty()) return Fail(DecodeError::kUnknownType, "advanced: message type");
    return Fail(DecodeError::kMissingField, "advanced: channel");
  }
  if (events_later && channel_ != AtChannel::kHeartbeats && channel_ != AtChannel::kSubscriptions &&
      channel_ != AtChannel::kOther) {
    // "events" came before "channel": read the document again (rare; member order is free).
    if (parser_.iterate(data, size, size + kFeedPadding).get(doc_) || doc_.get_object().get(root)) {
      return Failed(DecodeError::kMalformedJson, "advanced: second pass", data, size, recv_ns,
                    sink);
    }
    for (auto field_r : root) {
      if (simdjson::error_code e = field_r.error()) {
        return Failed(JsonError(e, DecodeError::kMalformedJson), "member", data, size, recv_ns,
                      sink);
      }
      od::field& field = Ref(field_r);
      if (!Key(field).Is("events")) continue;
      if (DecodeError e = ReadEvents(field.value(), &where); e != DecodeError::kOk) {
        return Failed(e, where, data, size, recv_ns, sink);
      }
      break;
    }
  }
  if (!has_seq_)
    return Failed(DecodeError::kMissingField, "sequence_num", data, size, recv_ns, sink);
  envelope_ns_ = 0;
  if (!timestamp_.empty() && !ParseTime(timestamp_, &envelope_ns_)) {
    return Failed(DecodeError::kBadValue, "timestamp", data, size, recv_ns, sink);
  }
  if (Sequence(sink, recv_ns) == SeqResult::kDuplicate) {
    return Fail(DecodeError::kSequence, "advanced: sequence_num not above the last");
  }
  DecodeError result = DecodeError::kOk;
  switch (channel_) {
    case AtChannel::kL2Data:
    case AtChannel::kMarketTrades:
    case AtChannel::kTicker:
      result = Commit(recv_ns, sink);
      break;
    case AtChannel::kHeartbeats:
      ++cb_counters_.heartbeats;
      // Heartbeats prove the connection and its subscriptions alive: every book stays fresh.
      for (size_t i = 0; i < table_.size(); ++i) Seen(i, recv_ns);
      break;
    case AtChannel::kSubscriptions:
      ++cb_counters_.subscriptions;
      break;
    case AtChannel::kOther:
    case AtChannel::kNone:
      return Fail(DecodeError::kUnknownType, "advanced: channel not decoded");
  }
  if (unknown_products_ != 0) {
    counters_.unknown_instrument += unknown_products_ - 1;
    return Fail(DecodeError::kUnknownInstrument, "advanced: product not in the table");
  }
  return result;
}

}  // namespace
}  // namespace coinbase_internal

std::unique_ptr<FeedDecoder> MakeCoinbaseAdvancedDecoder(SymbolTable table,
                                                         CoinbaseDecoderOptions options) {
  return std::make_unique<coinbase_internal::AdvancedDecoder>(std::move(table), std::move(options));
}

}  // namespace nzeza
