// Coinbase decode + book apply, per message type, three contenders in one binary:
//   _Nzeza       the feeds/coinbase decoders (simdjson On Demand, one forward pass, zero-copy
//                tokens)
//   _RapidJson   a RapidJSON DOM decoder of the same messages (what ccapi uses), given every
//                advantage: one Document whose value and parse-stack pools live in reused buffers
//                (no malloc per message), the same exact decimals (nzeza::ParseDecimal via
//                ParseScaled), the same SymbolTable, LevelBatcher and event semantics
//   _SimdjsonDom simdjson's DOM API (parser reused, padded input, no realloc), same semantics
// Each iteration decodes one message and applies what it emits to nzeza::OrderBook (items =
// messages). Before timing, every benchmark runs the three contenders over its whole message set
// and compares their event streams field by field (all but decoded_ns); a mismatch is
// SkipWithError.
//
// Messages (all from ../shared/testdata/coinbase/exchange_feed_2021-04-17.part1.txt):
//   L2Update     the recording's 5,395 Exchange l2update frames, books set up by its snapshots
//   Snapshot     its 10 snapshot frames (101..1,341 levels a side); besides the three
//                contenders, NzezaOnDemand is ours with the level-array scanner off (every
//                snapshot through simdjson On Demand)
//   Ticker       its 44 ticker frames
//   Match        its 34 match + 10 last_match frames, repeated 64 times with trade ids shifted
//                (+1,000,000 per copy) so that the per-product duplicate check lets every one
//                through; decoders are re-created (untimed) when the set wraps
//   AdvancedL2   no public Advanced Trade recording exists: the recording's l2update frames
//                converted to the documented l2_data shape (envelope with sequence_num, one
//                "update" event, updates {side bid/offer, event_time, price_level,
//                new_quantity}), after its snapshots converted to l2_data snapshots; decoders are
//                re-created (untimed) when the set wraps, since sequence_num must keep growing.
// BM_Coinbase{L2Update,AdvancedL2,Snapshot}_PairedNzezaRapidJson time ours and RapidJSON's in
// alternating blocks of 256 messages inside one benchmark and report the ratio
// (rapidjson_over_nzeza): on a shared, noisy machine the separate benchmarks' medians swing with
// other processes' load, the paired ratio much less. Every contender stamps
// MdEvent::times.decoded_ns from the same calibrated TscClock, as the engine does (the decoder's
// CoinbaseDecoderOptions::clock). The simdjson kernel compiled in is reported as the context
// "simdjson_kernel".
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "nzeza/book/order_book.h"
#include "nzeza/core/clock.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

// ---------------------------------------------------------------------------------------------
// Messages

const TscClock& Clock() {
  static const TscClock clock = [] {
    absl::StatusOr<TscClock> c = TscClock::Calibrate();
    return c.ok() ? *c : TscClock::Fallback();
  }();
  return clock;
}

class Padded {
 public:
  explicit Padded(std::string_view m) : size_(m.size()) {
    buf_.assign(m);
    buf_.append(kFeedPadding, ' ');
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return size_; }
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::string buf_;
  size_t size_;
};

enum class Protocol { kExchange, kAdvanced };

struct MessageSet {
  Protocol protocol = Protocol::kExchange;
  std::vector<Padded> setup;  // fed before timing (and after each reset)
  std::vector<Padded> msgs;   // timed, cyclically
  bool reset_on_wrap = false;
};

std::vector<std::string> RecordedFrames() {
  std::vector<std::string> out;
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) +
                   "/coinbase/exchange_feed_2021-04-17.part1.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("wss://", 0) == 0) continue;
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) out.push_back(line.substr(colon + 2));
  }
  return out;
}

std::string TypeOf(const rapidjson::Document& d) {
  return d.HasMember("type") ? d["type"].GetString() : "";
}

std::string Json(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

struct Recording {
  std::vector<std::string> products;  // order of first appearance
  std::vector<std::string> snapshots, l2updates, tickers, matches;
  std::vector<std::string> at_snapshots, at_updates;
  SymbolTable table;
};

// Scales per product: the most decimals any of its values carries (what its increments give).
int Decimals(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return 0;
  std::string_view f = s.substr(dot + 1);
  while (!f.empty() && f.back() == '0') f.remove_suffix(1);
  return static_cast<int>(f.size());
}

std::string AtLevel(std::string_view side, std::string_view time, const rapidjson::Value& px,
                    const rapidjson::Value& qty) {
  return std::string(R"({"side":")") + std::string(side) + R"(","event_time":")" +
         std::string(time) + R"(","price_level":")" + px.GetString() + R"(","new_quantity":")" +
         qty.GetString() + R"("})";
}

std::string AtEnvelope(uint64_t seq, std::string_view time, std::string_view type,
                       std::string_view product, const std::string& updates) {
  return std::string(R"({"channel":"l2_data","client_id":"","timestamp":")") + std::string(time) +
         R"(","sequence_num":)" + std::to_string(seq) + R"(,"events":[{"type":")" +
         std::string(type) + R"(","product_id":")" + std::string(product) + R"(","updates":[)" +
         updates + "]}]}";
}

const Recording& Rec() {
  static const Recording rec = [] {
    Recording r;
    std::map<std::string, std::pair<int, int>> scales;
    uint64_t at_seq = 0;
    for (const std::string& f : RecordedFrames()) {
      rapidjson::Document d;
      d.Parse(f.c_str());
      if (d.HasParseError() || !d.HasMember("product_id")) continue;
      const std::string type = TypeOf(d);
      const std::string p = d["product_id"].GetString();
      if (!scales.count(p)) r.products.push_back(p);
      auto& sc = scales[p];
      auto note = [&sc](const rapidjson::Value& px, const rapidjson::Value& qty) {
        sc.first = std::max(sc.first, Decimals(px.GetString()));
        sc.second = std::max(sc.second, Decimals(qty.GetString()));
      };
      const std::string time = "2021-04-17T16:43:37.075687Z";
      if (type == "snapshot") {
        r.snapshots.push_back(f);
        std::string ups;
        for (const auto& l : d["bids"].GetArray()) {
          note(l[0], l[1]);
          ups += (ups.empty() ? "" : ",") + AtLevel("bid", time, l[0], l[1]);
        }
        for (const auto& l : d["asks"].GetArray()) {
          note(l[0], l[1]);
          ups += (ups.empty() ? "" : ",") + AtLevel("offer", time, l[0], l[1]);
        }
        r.at_snapshots.push_back(AtEnvelope(at_seq++, time, "snapshot", p, ups));
      } else if (type == "l2update") {
        r.l2updates.push_back(f);
        const std::string t = d["time"].GetString();
        std::string ups;
        for (const auto& c : d["changes"].GetArray()) {
          note(c[1], c[2]);
          ups += (ups.empty() ? "" : ",") +
                 AtLevel(std::string(c[0].GetString()) == "buy" ? "bid" : "offer", t, c[1], c[2]);
        }
        r.at_updates.push_back(AtEnvelope(0, t, "update", p, ups));
      } else if (type == "ticker") {
        r.tickers.push_back(f);
        sc.first = std::max(
            {sc.first, Decimals(d["best_bid"].GetString()), Decimals(d["best_ask"].GetString())});
      } else if (type == "match" || type == "last_match") {
        r.matches.push_back(f);
        note(d["price"], d["size"]);
      }
    }
    // The updates' sequence numbers follow the snapshots'.
    for (std::string& u : r.at_updates) {
      const std::string key = R"("sequence_num":0,)";
      u.replace(u.find(key), key.size(), R"("sequence_num":)" + std::to_string(at_seq++) + ",");
    }
    std::vector<FeedInstrument> v;
    for (size_t i = 0; i < r.products.size(); ++i) {
      v.push_back({r.products[i], static_cast<InstrumentId>(i), scales[r.products[i]].first,
                   scales[r.products[i]].second});
    }
    r.table = *SymbolTable::Create(v);
    return r;
  }();
  return rec;
}

MessageSet Set(Protocol p, const std::vector<std::string>& setup,
               const std::vector<std::string>& msgs, bool reset_on_wrap) {
  MessageSet s;
  s.protocol = p;
  for (const std::string& m : setup) s.setup.emplace_back(m);
  for (const std::string& m : msgs) s.msgs.emplace_back(m);
  s.reset_on_wrap = reset_on_wrap;
  return s;
}

const MessageSet& L2UpdateSet() {
  static const MessageSet s = Set(Protocol::kExchange, Rec().snapshots, Rec().l2updates, false);
  return s;
}
const MessageSet& SnapshotSet() {
  static const MessageSet s = Set(Protocol::kExchange, {}, Rec().snapshots, false);
  return s;
}
const MessageSet& TickerSet() {
  static const MessageSet s = Set(Protocol::kExchange, {}, Rec().tickers, false);
  return s;
}
const MessageSet& MatchSet() {
  static const MessageSet s = [] {
    std::vector<std::string> msgs;
    for (int copy = 0; copy < 64; ++copy) {
      for (const std::string& m : Rec().matches) {
        rapidjson::Document d;
        d.Parse(m.c_str());
        d["trade_id"].SetUint64(d["trade_id"].GetUint64() + 1'000'000ull * copy);
        msgs.push_back(Json(d));
      }
    }
    return Set(Protocol::kExchange, {}, msgs, true);
  }();
  return s;
}
const MessageSet& AdvancedL2Set() {
  static const MessageSet s = Set(Protocol::kAdvanced, Rec().at_snapshots, Rec().at_updates, true);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Sinks

class BookSink final : public MdSink {
 public:
  BookSink() {
    for (size_t i = 0; i < Rec().products.size(); ++i) {
      books_.emplace_back(static_cast<InstrumentId>(i), 4096);
    }
  }
  void Push(const MdEvent& ev) noexcept override {
    if (ev.instrument < books_.size()) refused_ += !books_[ev.instrument].Apply(ev).ok();
  }
  uint64_t refused() const { return refused_; }

 private:
  std::vector<OrderBook> books_;
  uint64_t refused_ = 0;
};

class RecordingSink final : public MdSink {
 public:
  void Push(const MdEvent& ev) noexcept override {
    MdEvent e = ev;
    e.times.decoded_ns = 0;  // a clock reading: not compared
    events.push_back(e);
  }
  std::vector<MdEvent> events;
};

// ---------------------------------------------------------------------------------------------
// Contender 1: ours.

class Nzeza {
 public:
  explicit Nzeza(Protocol p, bool fast_snapshots = true) {
    CoinbaseDecoderOptions o;
    o.clock = &Clock();
    o.fast_snapshots = fast_snapshots;
    dec_ = p == Protocol::kExchange ? MakeCoinbaseExchangeDecoder(Rec().table, o)
                                    : MakeCoinbaseAdvancedDecoder(Rec().table, o);
    VectorSink unused;
    dec_->OnOpen(0, unused);
  }
  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink& sink) noexcept {
    return dec_->OnMessage(data, size, recv_ns, sink);
  }

 private:
  std::unique_ptr<FeedDecoder> dec_;
};

// Ours with every snapshot through simdjson On Demand (CoinbaseDecoderOptions::fast_snapshots off):
// what the level-array scanner gains.
class NzezaOnDemand : public Nzeza {
 public:
  explicit NzezaOnDemand(Protocol p) : Nzeza(p, /*fast_snapshots=*/false) {}
};

// ---------------------------------------------------------------------------------------------
// Shared semantics of the two comparison decoders (what ours does on valid input).

class Semantics {
 protected:
  explicit Semantics(Protocol p)
      : protocol_(p),
        live_(Rec().table.size(), 0),
        last_trade_(Rec().table.size(), 0),
        batcher_(4096) {}

  const FeedInstrument* Find(std::string_view product) { return Rec().table.Find(product); }

  static bool ExSide(std::string_view s, Side* out) {
    if (s == "buy") {
      *out = Side::kBuy;
    } else if (s == "sell") {
      *out = Side::kSell;
    } else {
      return false;
    }
    return true;
  }
  static bool AtSide(std::string_view s, Side* out) {
    if (s == "bid") {
      *out = Side::kBuy;
    } else if (s == "offer" || s == "ask") {
      *out = Side::kSell;
    } else {
      return false;
    }
    return true;
  }
  static bool Price(std::string_view s, const FeedInstrument& in, int64_t* out) {
    return ParseScaled(s, in.price_scale, out) == DecimalError::kOk && *out > 0;
  }
  static bool Size(std::string_view s, const FeedInstrument& in, int64_t* out) {
    return ParseScaled(s, in.size_scale, out) == DecimalError::kOk;
  }
  void EmitOne(MdSink& sink, MdEvent ev) {
    ev.flags |= kMdMessageEnd;
    ev.times.decoded_ns = Clock().NowNanos();
    sink.Push(ev);
  }

  Protocol protocol_;
  std::vector<uint8_t> live_;
  std::vector<uint64_t> last_trade_;
  LevelBatcher batcher_;
  bool have_seq_ = false;
  uint64_t last_seq_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Contender 2: RapidJSON DOM.

class RapidJson : Semantics {
 public:
  explicit RapidJson(Protocol p)
      : Semantics(p),
        value_buf_(new char[kValueBytes]),
        stack_buf_(new char[kStackBytes]),
        values_(value_buf_.get(), kValueBytes),
        stack_(stack_buf_.get(), kStackBytes) {}

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink& sink) noexcept {
    values_.Clear();
    stack_.Clear();
    Doc d(&values_, 1024, &stack_);
    d.Parse(data, size);
    if (d.HasParseError() || !d.IsObject()) return DecodeError::kMalformedJson;
    return protocol_ == Protocol::kExchange ? Exchange(d, recv_ns, sink)
                                            : Advanced(d, recv_ns, sink);
  }

 private:
  using Pool = rapidjson::MemoryPoolAllocator<>;
  using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
  using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Pool>;
  static constexpr size_t kValueBytes = size_t{4} << 20;
  static constexpr size_t kStackBytes = size_t{1} << 20;

  static bool Str(const Value& o, const char* key, std::string_view* out) {
    auto it = o.FindMember(key);
    if (it == o.MemberEnd() || !it->value.IsString()) return false;
    *out = std::string_view(it->value.GetString(), it->value.GetStringLength());
    return true;
  }
  static std::string_view Sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

  DecodeError Exchange(const Doc& d, int64_t recv_ns, MdSink& sink) {
    std::string_view type, product, time;
    if (!Str(d, "type", &type)) return DecodeError::kMissingField;
    const bool snapshot = type == "snapshot";
    if (type == "l2update" || snapshot) {
      if (!Str(d, "product_id", &product)) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      const size_t idx = Rec().table.IndexOf(in);
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      if (!snapshot && !live_[idx]) return DecodeError::kSequence;
      batcher_.Begin(Venue::kCoinbaseExchange, in->id, 0, ns, recv_ns, snapshot);
      auto level = [&](const Value& l, size_t first, Side side) {
        if (!l.IsArray() || l.Size() != first + 2) return false;
        for (rapidjson::SizeType k = 0; k < l.Size(); ++k) {
          if (!l[k].IsString()) return false;
        }
        if (first == 1 && !ExSide(Sv(l[0]), &side)) return false;
        PriceLevel pl;
        if (!Price(Sv(l[first]), *in, &pl.price) || !Size(Sv(l[first + 1]), *in, &pl.size)) {
          return false;
        }
        batcher_.Add(side, pl);
        return true;
      };
      if (snapshot) {
        auto b = d.FindMember("bids");
        auto a = d.FindMember("asks");
        if (b == d.MemberEnd() || a == d.MemberEnd() || !b->value.IsArray() ||
            !a->value.IsArray()) {
          batcher_.Abort();
          return DecodeError::kMissingField;
        }
        for (const Value& l : b->value.GetArray()) {
          if (!level(l, 0, Side::kBuy)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
        for (const Value& l : a->value.GetArray()) {
          if (!level(l, 0, Side::kSell)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
      } else {
        auto c = d.FindMember("changes");
        if (c == d.MemberEnd() || !c->value.IsArray()) return DecodeError::kMissingField;
        for (const Value& l : c->value.GetArray()) {
          if (!level(l, 1, Side::kBuy)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
      }
      batcher_.Commit(sink, Clock().NowNanos());
      if (snapshot) live_[idx] = 1;
      return DecodeError::kOk;
    }
    if (type == "ticker") {
      if (!Str(d, "product_id", &product)) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      MdBbo b;
      std::string_view s;
      bool any = false;
      if (Str(d, "best_bid", &s)) {
        any = true;
        if (!Price(s, *in, &b.bid_price)) return DecodeError::kBadNumber;
      }
      if (Str(d, "best_ask", &s)) {
        any = true;
        if (!Price(s, *in, &b.ask_price)) return DecodeError::kBadNumber;
      }
      if (Str(d, "best_bid_size", &s) && !Size(s, *in, &b.bid_size)) return DecodeError::kBadNumber;
      if (Str(d, "best_ask_size", &s) && !Size(s, *in, &b.ask_size)) return DecodeError::kBadNumber;
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      if (!any) return DecodeError::kOk;
      MdEvent ev = MdEvent::Bbo(Venue::kCoinbaseExchange, in->id, b);
      auto seq = d.FindMember("sequence");
      if (seq != d.MemberEnd() && seq->value.IsUint64()) ev.venue_seq = seq->value.GetUint64();
      ev.exchange_ns = ns;
      ev.times.recv_ns = recv_ns;
      EmitOne(sink, ev);
      return DecodeError::kOk;
    }
    if (type == "match" || type == "last_match") {
      std::string_view price, size, side;
      if (!Str(d, "product_id", &product) || !Str(d, "price", &price) || !Str(d, "size", &size) ||
          !Str(d, "side", &side)) {
        return DecodeError::kMissingField;
      }
      auto id = d.FindMember("trade_id");
      if (id == d.MemberEnd() || !id->value.IsUint64()) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      MdTrade t;
      Side maker;
      if (!ExSide(side, &maker)) return DecodeError::kBadValue;
      t.aggressor = Opposite(maker);
      if (!Price(price, *in, &t.price) || !Size(size, *in, &t.size)) return DecodeError::kBadNumber;
      t.trade_id = id->value.GetUint64();
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      const size_t idx = Rec().table.IndexOf(in);
      if (t.trade_id <= last_trade_[idx]) return DecodeError::kSequence;
      last_trade_[idx] = t.trade_id;
      MdEvent ev = MdEvent::Trade(Venue::kCoinbaseExchange, in->id, t);
      auto seq = d.FindMember("sequence");
      if (seq != d.MemberEnd() && seq->value.IsUint64()) ev.venue_seq = seq->value.GetUint64();
      ev.exchange_ns = ns;
      ev.times.recv_ns = recv_ns;
      EmitOne(sink, ev);
      return DecodeError::kOk;
    }
    return DecodeError::kUnknownType;
  }

  DecodeError Advanced(const Doc& d, int64_t recv_ns, MdSink& sink) {
    std::string_view channel, ts;
    if (!Str(d, "channel", &channel)) return DecodeError::kMissingField;
    auto sq = d.FindMember("sequence_num");
    if (sq == d.MemberEnd() || !sq->value.IsUint64()) return DecodeError::kMissingField;
    const uint64_t seq = sq->value.GetUint64();
    int64_t ns = 0;
    if (Str(d, "timestamp", &ts) && !ParseIso8601Nanos(ts, &ns)) return DecodeError::kBadValue;
    if (channel != "l2_data") return DecodeError::kUnknownType;
    auto evs = d.FindMember("events");
    if (evs == d.MemberEnd() || !evs->value.IsArray()) return DecodeError::kMissingField;
    if (have_seq_ && seq <= last_seq_) return DecodeError::kSequence;
    if (have_seq_ && seq != last_seq_ + 1) return DecodeError::kSequence;  // not in the bench
    // Validate and stage every event before emitting any (all or nothing).
    staged_.clear();
    levels_.clear();
    for (const Value& e : evs->value.GetArray()) {
      std::string_view type, product;
      if (!e.IsObject() || !Str(e, "type", &type) || !Str(e, "product_id", &product)) {
        return DecodeError::kMissingField;
      }
      auto ups = e.FindMember("updates");
      if (ups == e.MemberEnd() || !ups->value.IsArray()) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) continue;
      const size_t begin = levels_.size();
      for (const Value& u : ups->value.GetArray()) {
        std::string_view side, px, qty;
        if (!u.IsObject() || !Str(u, "side", &side) || !Str(u, "price_level", &px) ||
            !Str(u, "new_quantity", &qty)) {
          return DecodeError::kMissingField;
        }
        std::pair<Side, PriceLevel> l;
        if (!AtSide(side, &l.first)) return DecodeError::kBadValue;
        if (!Price(px, *in, &l.second.price) || !Size(qty, *in, &l.second.size)) {
          return DecodeError::kBadNumber;
        }
        levels_.push_back(l);
      }
      staged_.push_back({Rec().table.IndexOf(in), type == "snapshot", begin, levels_.size()});
    }
    have_seq_ = true;
    last_seq_ = seq;
    for (const Staged& s : staged_) {
      if (!s.snapshot && !live_[s.idx]) continue;
      batcher_.Begin(Venue::kCoinbase, Rec().table.all()[s.idx].id, seq, ns, recv_ns, s.snapshot);
      for (size_t i = s.begin; i < s.end; ++i) batcher_.Add(levels_[i].first, levels_[i].second);
      batcher_.Commit(sink, Clock().NowNanos());
      if (s.snapshot) live_[s.idx] = 1;
    }
    return DecodeError::kOk;
  }

  struct Staged {
    size_t idx;
    bool snapshot;
    size_t begin, end;
  };
  std::unique_ptr<char[]> value_buf_;
  std::unique_ptr<char[]> stack_buf_;
  Pool values_;
  Pool stack_;
  std::vector<Staged> staged_;
  std::vector<std::pair<Side, PriceLevel>> levels_;
};

// ---------------------------------------------------------------------------------------------
// Contender 3: simdjson DOM.

class SimdjsonDom : Semantics {
 public:
  explicit SimdjsonDom(Protocol p) : Semantics(p) {
    if (parser_.allocate(size_t{4} << 20) != simdjson::SUCCESS) std::abort();
  }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink& sink) noexcept {
    simdjson::dom::object o;
    if (parser_.parse(data, size, /*realloc_if_needed=*/false).get(o)) {
      return DecodeError::kMalformedJson;
    }
    return protocol_ == Protocol::kExchange ? Exchange(o, recv_ns, sink)
                                            : Advanced(o, recv_ns, sink);
  }

 private:
  using Obj = simdjson::dom::object;
  using Arr = simdjson::dom::array;
  static bool Str(Obj o, std::string_view key, std::string_view* out) {
    return o[key].get(*out) == simdjson::SUCCESS;
  }

  DecodeError Exchange(Obj d, int64_t recv_ns, MdSink& sink) {
    std::string_view type, product, time;
    if (!Str(d, "type", &type)) return DecodeError::kMissingField;
    const bool snapshot = type == "snapshot";
    if (type == "l2update" || snapshot) {
      if (!Str(d, "product_id", &product)) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      const size_t idx = Rec().table.IndexOf(in);
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      if (!snapshot && !live_[idx]) return DecodeError::kSequence;
      batcher_.Begin(Venue::kCoinbaseExchange, in->id, 0, ns, recv_ns, snapshot);
      auto level = [&](simdjson::dom::element el, size_t first, Side side) {
        Arr l;
        if (el.get(l) || l.size() != first + 2) return false;
        std::string_view parts[3];
        size_t n = 0;
        for (simdjson::dom::element p : l) {
          if (p.get(parts[n++])) return false;
        }
        if (first == 1 && !ExSide(parts[0], &side)) return false;
        PriceLevel pl;
        if (!Price(parts[first], *in, &pl.price) || !Size(parts[first + 1], *in, &pl.size)) {
          return false;
        }
        batcher_.Add(side, pl);
        return true;
      };
      if (snapshot) {
        Arr b, a;
        if (d["bids"].get(b) || d["asks"].get(a)) return DecodeError::kMissingField;
        for (simdjson::dom::element l : b) {
          if (!level(l, 0, Side::kBuy)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
        for (simdjson::dom::element l : a) {
          if (!level(l, 0, Side::kSell)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
      } else {
        Arr c;
        if (d["changes"].get(c)) return DecodeError::kMissingField;
        for (simdjson::dom::element l : c) {
          if (!level(l, 1, Side::kBuy)) {
            batcher_.Abort();
            return DecodeError::kBadNumber;
          }
        }
      }
      batcher_.Commit(sink, Clock().NowNanos());
      if (snapshot) live_[idx] = 1;
      return DecodeError::kOk;
    }
    if (type == "ticker") {
      if (!Str(d, "product_id", &product)) return DecodeError::kMissingField;
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      MdBbo b;
      std::string_view s;
      bool any = false;
      if (Str(d, "best_bid", &s)) {
        any = true;
        if (!Price(s, *in, &b.bid_price)) return DecodeError::kBadNumber;
      }
      if (Str(d, "best_ask", &s)) {
        any = true;
        if (!Price(s, *in, &b.ask_price)) return DecodeError::kBadNumber;
      }
      if (Str(d, "best_bid_size", &s) && !Size(s, *in, &b.bid_size)) return DecodeError::kBadNumber;
      if (Str(d, "best_ask_size", &s) && !Size(s, *in, &b.ask_size)) return DecodeError::kBadNumber;
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      if (!any) return DecodeError::kOk;
      MdEvent ev = MdEvent::Bbo(Venue::kCoinbaseExchange, in->id, b);
      uint64_t seq = 0;
      if (d["sequence"].get(seq) == simdjson::SUCCESS) ev.venue_seq = seq;
      ev.exchange_ns = ns;
      ev.times.recv_ns = recv_ns;
      EmitOne(sink, ev);
      return DecodeError::kOk;
    }
    if (type == "match" || type == "last_match") {
      std::string_view price, size, side;
      uint64_t id = 0;
      if (!Str(d, "product_id", &product) || !Str(d, "price", &price) || !Str(d, "size", &size) ||
          !Str(d, "side", &side) || d["trade_id"].get(id)) {
        return DecodeError::kMissingField;
      }
      const FeedInstrument* in = Find(product);
      if (in == nullptr) return DecodeError::kUnknownInstrument;
      MdTrade t;
      Side maker;
      if (!ExSide(side, &maker)) return DecodeError::kBadValue;
      t.aggressor = Opposite(maker);
      if (!Price(price, *in, &t.price) || !Size(size, *in, &t.size)) return DecodeError::kBadNumber;
      t.trade_id = id;
      int64_t ns = 0;
      if (Str(d, "time", &time) && !ParseIso8601Nanos(time, &ns)) return DecodeError::kBadValue;
      const size_t idx = Rec().table.IndexOf(in);
      if (t.trade_id <= last_trade_[idx]) return DecodeError::kSequence;
      last_trade_[idx] = t.trade_id;
      MdEvent ev = MdEvent::Trade(Venue::kCoinbaseExchange, in->id, t);
      uint64_t seq = 0;
      if (d["sequence"].get(seq) == simdjson::SUCCESS) ev.venue_seq = seq;
      ev.exchange_ns = ns;
      ev.times.recv_ns = recv_ns;
      EmitOne(sink, ev);
      return DecodeError::kOk;
    }
    return DecodeError::kUnknownType;
  }

  DecodeError Advanced(Obj d, int64_t recv_ns, MdSink& sink) {
    std::string_view channel, ts;
    uint64_t seq = 0;
    if (!Str(d, "channel", &channel)) return DecodeError::kMissingField;
    if (d["sequence_num"].get(seq)) return DecodeError::kMissingField;
    int64_t ns = 0;
    if (Str(d, "timestamp", &ts) && !ParseIso8601Nanos(ts, &ns)) return DecodeError::kBadValue;
    if (channel != "l2_data") return DecodeError::kUnknownType;
    Arr evs;
    if (d["events"].get(evs)) return DecodeError::kMissingField;
    if (have_seq_ && seq <= last_seq_) return DecodeError::kSequence;
    if (have_seq_ && seq != last_seq_ + 1) return DecodeError::kSequence;  // not in the bench
    staged_.clear();
    levels_.clear();
    for (simdjson::dom::element el : evs) {
      Obj e;
      std::string_view type, product;
      Arr ups;
      if (el.get(e) || !Str(e, "type", &type) || !Str(e, "product_id", &product) ||
          e["updates"].get(ups)) {
        return DecodeError::kMissingField;
      }
      const FeedInstrument* in = Find(product);
      if (in == nullptr) continue;
      const size_t begin = levels_.size();
      for (simdjson::dom::element ue : ups) {
        Obj u;
        std::string_view side, px, qty;
        if (ue.get(u) || !Str(u, "side", &side) || !Str(u, "price_level", &px) ||
            !Str(u, "new_quantity", &qty)) {
          return DecodeError::kMissingField;
        }
        std::pair<Side, PriceLevel> l;
        if (!AtSide(side, &l.first)) return DecodeError::kBadValue;
        if (!Price(px, *in, &l.second.price) || !Size(qty, *in, &l.second.size)) {
          return DecodeError::kBadNumber;
        }
        levels_.push_back(l);
      }
      staged_.push_back({Rec().table.IndexOf(in), type == "snapshot", begin, levels_.size()});
    }
    have_seq_ = true;
    last_seq_ = seq;
    for (const Staged& s : staged_) {
      if (!s.snapshot && !live_[s.idx]) continue;
      batcher_.Begin(Venue::kCoinbase, Rec().table.all()[s.idx].id, seq, ns, recv_ns, s.snapshot);
      for (size_t i = s.begin; i < s.end; ++i) batcher_.Add(levels_[i].first, levels_[i].second);
      batcher_.Commit(sink, Clock().NowNanos());
      if (s.snapshot) live_[s.idx] = 1;
    }
    return DecodeError::kOk;
  }

  struct Staged {
    size_t idx;
    bool snapshot;
    size_t begin, end;
  };
  simdjson::dom::parser parser_;
  std::vector<Staged> staged_;
  std::vector<std::pair<Side, PriceLevel>> levels_;
};

// ---------------------------------------------------------------------------------------------
// Harness

template <typename C>
std::vector<MdEvent> Events(const MessageSet& set, size_t* errors) {
  C dec(set.protocol);
  RecordingSink sink;
  int64_t t = 1;
  for (const Padded& m : set.setup)
    *errors += dec.OnMessage(m.data(), m.size(), t++, sink) != DecodeError::kOk;
  for (const Padded& m : set.msgs)
    *errors += dec.OnMessage(m.data(), m.size(), t++, sink) != DecodeError::kOk;
  return sink.events;
}

// Empty when the three contenders agree on every event of the set; else what differs.
std::string Disagreement(const MessageSet& set) {
  size_t e0 = 0, e1 = 0, e2 = 0, e3 = 0;
  const std::vector<MdEvent> a = Events<Nzeza>(set, &e0);
  const std::vector<MdEvent> b = Events<RapidJson>(set, &e1);
  const std::vector<MdEvent> c = Events<SimdjsonDom>(set, &e2);
  const std::vector<MdEvent> d = Events<NzezaOnDemand>(set, &e3);
  if (e0 != 0 || e1 != 0 || e2 != 0 || e3 != 0) {
    return "decode errors: nzeza " + std::to_string(e0) + ", rapidjson " + std::to_string(e1) +
           ", simdjson dom " + std::to_string(e2) + ", nzeza on demand " + std::to_string(e3);
  }
  if (a.empty()) return "no events";
  if (a.size() != b.size() || a.size() != c.size() || a.size() != d.size()) {
    return "event counts differ: " + std::to_string(a.size()) + " / " + std::to_string(b.size()) +
           " / " + std::to_string(c.size()) + " / " + std::to_string(d.size());
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameMarketData(a[i], b[i]) || !SameMarketData(a[i], c[i]) || !SameMarketData(a[i], d[i])) {
      return "event " + std::to_string(i) + " differs";
    }
  }
  return {};
}

template <typename C>
struct Pipeline {
  explicit Pipeline(const MessageSet& set)
      : dec(std::make_unique<C>(set.protocol)), sink(std::make_unique<BookSink>()) {
    for (const Padded& m : set.setup) (void)dec->OnMessage(m.data(), m.size(), 1, *sink);
  }
  std::unique_ptr<C> dec;
  std::unique_ptr<BookSink> sink;
};

template <typename C>
void Run(benchmark::State& state, const MessageSet& set) {
#if defined(NZEZA_SANITIZED)
  // RapidJSON 1.1.0 offsets a null pointer on every parse (internal/stack.h:117), which UBSan
  // stops: no comparison in a sanitized build.
  state.SkipWithError("sanitized build: RapidJSON has undefined behaviour; timings meaningless");
  return;
#endif
  static std::map<const MessageSet*, std::string> checked;  // once per message set
  if (!checked.count(&set)) checked[&set] = Disagreement(set);
  const std::string& disagreement = checked[&set];
  if (!disagreement.empty()) {
    state.SkipWithError(disagreement.c_str());
    return;
  }
  auto p = std::make_unique<Pipeline<C>>(set);
  size_t i = 0;
  uint64_t errors = 0;
  for (auto _ : state) {
    const Padded& m = set.msgs[i];
    errors += p->dec->OnMessage(m.data(), m.size(), 1, *p->sink) != DecodeError::kOk;
    if (++i == set.msgs.size()) {
      i = 0;
      if (set.reset_on_wrap) {
        state.PauseTiming();
        p = std::make_unique<Pipeline<C>>(set);
        state.ResumeTiming();
      }
    }
  }
  if (errors != 0) state.SkipWithError("decode errors while timing");
  if (p->sink->refused() != 0) state.SkipWithError("the book refused events");
  size_t bytes = 0;
  for (const Padded& m : set.msgs) bytes += m.size();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (bytes / set.msgs.size())));
  state.counters["msg_bytes_avg"] = static_cast<double>(bytes) / set.msgs.size();
}

// Ours and RapidJSON's on the same messages in alternating blocks of 256 within one benchmark, so
// that load from other processes (this machine is shared) hits both alike; the counters give each
// one's ns per message and the ratio (rapidjson_over_nzeza: how many times faster ours is).
template <typename C>
int64_t TimeBlock(std::unique_ptr<Pipeline<C>>& p, const MessageSet& set, size_t* i,
                  uint64_t* errors) {
  constexpr size_t kBlock = 256;
  int64_t elapsed = 0;
  int64_t t0 = Clock().NowNanos();
  for (size_t k = 0; k < kBlock; ++k) {
    const Padded& m = set.msgs[*i];
    *errors += p->dec->OnMessage(m.data(), m.size(), 1, *p->sink) != DecodeError::kOk;
    if (++*i == set.msgs.size()) {
      *i = 0;
      if (set.reset_on_wrap) {
        elapsed += Clock().NowNanos() - t0;
        p = std::make_unique<Pipeline<C>>(set);  // untimed
        t0 = Clock().NowNanos();
      }
    }
  }
  return elapsed + (Clock().NowNanos() - t0);
}

void Paired(benchmark::State& state, const MessageSet& set) {
#if defined(NZEZA_SANITIZED)
  state.SkipWithError("sanitized build: RapidJSON has undefined behaviour; timings meaningless");
  return;
#endif
  auto ours = std::make_unique<Pipeline<Nzeza>>(set);
  auto theirs = std::make_unique<Pipeline<RapidJson>>(set);
  size_t io = 0, it = 0;
  uint64_t errors = 0;
  int64_t t_ours = 0, t_theirs = 0;
  bool ours_first = true;
  for (auto _ : state) {
    if (ours_first) {
      t_ours += TimeBlock(ours, set, &io, &errors);
      t_theirs += TimeBlock(theirs, set, &it, &errors);
    } else {
      t_theirs += TimeBlock(theirs, set, &it, &errors);
      t_ours += TimeBlock(ours, set, &io, &errors);
    }
    ours_first = !ours_first;
  }
  if (errors != 0) state.SkipWithError("decode errors while timing");
  const double n = static_cast<double>(state.iterations()) * 256;
  state.counters["nzeza_ns_per_msg"] = static_cast<double>(t_ours) / n;
  state.counters["rapidjson_ns_per_msg"] = static_cast<double>(t_theirs) / n;
  state.counters["rapidjson_over_nzeza"] =
      t_ours > 0 ? static_cast<double>(t_theirs) / static_cast<double>(t_ours) : 0;
  state.SetItemsProcessed(static_cast<int64_t>(2 * n));
}

void BM_CoinbaseL2Update_PairedNzezaRapidJson(benchmark::State& state) {
  Paired(state, L2UpdateSet());
}
BENCHMARK(BM_CoinbaseL2Update_PairedNzezaRapidJson);
void BM_CoinbaseAdvancedL2_PairedNzezaRapidJson(benchmark::State& state) {
  Paired(state, AdvancedL2Set());
}
BENCHMARK(BM_CoinbaseAdvancedL2_PairedNzezaRapidJson);
void BM_CoinbaseSnapshot_PairedNzezaRapidJson(benchmark::State& state) {
  Paired(state, SnapshotSet());
}
BENCHMARK(BM_CoinbaseSnapshot_PairedNzezaRapidJson);

#define NZ_COINBASE_BENCH(Msg, SetFn, Contender)                                                   \
  void BM_Coinbase##Msg##_##Contender(benchmark::State& state) { Run<Contender>(state, SetFn()); } \
  BENCHMARK(BM_Coinbase##Msg##_##Contender)

NZ_COINBASE_BENCH(L2Update, L2UpdateSet, Nzeza);
NZ_COINBASE_BENCH(L2Update, L2UpdateSet, RapidJson);
NZ_COINBASE_BENCH(L2Update, L2UpdateSet, SimdjsonDom);
NZ_COINBASE_BENCH(AdvancedL2, AdvancedL2Set, Nzeza);
NZ_COINBASE_BENCH(AdvancedL2, AdvancedL2Set, RapidJson);
NZ_COINBASE_BENCH(AdvancedL2, AdvancedL2Set, SimdjsonDom);
NZ_COINBASE_BENCH(Snapshot, SnapshotSet, Nzeza);
NZ_COINBASE_BENCH(Snapshot, SnapshotSet, RapidJson);
NZ_COINBASE_BENCH(Snapshot, SnapshotSet, SimdjsonDom);
NZ_COINBASE_BENCH(Snapshot, SnapshotSet, NzezaOnDemand);
NZ_COINBASE_BENCH(Ticker, TickerSet, Nzeza);
NZ_COINBASE_BENCH(Ticker, TickerSet, RapidJson);
NZ_COINBASE_BENCH(Ticker, TickerSet, SimdjsonDom);
NZ_COINBASE_BENCH(Match, MatchSet, Nzeza);
NZ_COINBASE_BENCH(Match, MatchSet, RapidJson);
NZ_COINBASE_BENCH(Match, MatchSet, SimdjsonDom);

struct KernelContext {
  KernelContext() {
    benchmark::AddCustomContext("simdjson_kernel",
                                SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
  }
} kernel_context;

}  // namespace
}  // namespace nzeza
