// Binance Spot decode + book apply, per message type, on the real recording
// (../shared/testdata/binance): nzeza's decoder (simdjson on-demand, one pass per object) against
// the same decoder written on RapidJSON (rapidjson::Document::Parse, what ccapi uses) and on
// simdjson's DOM API. Every contender does the same work per message: parse, find the fields,
// look the symbol up, check the U/u sequence (depth), parse every decimal exactly with
// nzeza::ParseDecimal at the instrument's scales, stage the levels in a LevelBatcher, stamp the
// decode time, and apply the events to an nzeza::OrderBook. Before timing, each benchmark checks
// that its contender emits exactly the events nzeza's decoder emits (SkipWithError otherwise).
//
//   BM_BinanceDepth_*       NKNUSDT depthUpdate diffs (the 149 that apply on the recorded
//                           snapshot), replayed in 64 passes with U/u shifted so that each pass
//                           continues the sequence; the book stays live throughout
//   BM_BinanceBookTicker_*  the 84 bookTicker frames (3 symbols)
//   BM_BinanceAggTrade_*    the 2 aggTrade frames
//   BM_BinanceSnapshot_*    the NKNUSDT REST depth snapshot (OnSnapshot), one body per iteration
// items_processed = messages; one iteration = one message.
//
// Run: nzeza_bench_feeds_binance --benchmark_repetitions=5
//        --benchmark_enable_random_interleaving=true
#include <rapidjson/document.h>
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "nzeza/book/order_book.h"
#include "nzeza/core/clock.h"
#include "nzeza/feeds/binance/decoder.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

constexpr std::string_view kKernel = SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
constexpr int kDepthPasses = 64;

// Every contender stamps times.decoded_ns from the same calibrated TSC clock (what the engine
// gives a decoder in production).
const TscClock& Clock() {
  static const TscClock c = [] {
    absl::StatusOr<TscClock> t = TscClock::Calibrate();
    return t.ok() ? *t : TscClock::Fallback();
  }();
  return c;
}

// ---------------------------------------------------------------------------------------------
// Data

std::vector<std::string> Lines(const char* name) {
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) + "/binance/" + name);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

uint64_t Field(std::string_view s, std::string_view key) {
  const size_t at = s.find(key);
  if (at == std::string_view::npos) return 0;
  uint64_t v = 0;
  for (size_t i = at + key.size(); i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  return v;
}

// Replaces the number after `key` with `v`.
std::string Replace(std::string s, std::string_view key, uint64_t v) {
  const size_t at = s.find(key) + key.size();
  size_t end = at;
  while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
  s.replace(at, end - at, std::to_string(v));
  return s;
}

class Padded {
 public:
  explicit Padded(std::string_view s) : buf_(s.size() + kFeedPadding, ' '), size_(s.size()) {
    std::memcpy(buf_.data(), s.data(), s.size());
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return size_; }

 private:
  std::vector<char> buf_;
  size_t size_;
};

struct Recording {
  SymbolTable table;
  std::string nkn_snapshot;
  uint64_t nkn_lid = 0;
  std::vector<Padded> depth;  // kDepthPasses passes of the NKNUSDT diffs, sequence continued
  size_t depth_pass = 0;      // diffs per pass
  std::vector<Padded> book_ticker;
  std::vector<Padded> agg_trade;
  std::string error;
};

const Recording& Rec() {
  static const Recording r = [] {
    Recording rec;
    std::vector<FeedInstrument> v = {
        {"NKNUSDT", 0, 8, 8}, {"BLZETH", 1, 8, 8}, {"LRCBTC", 2, 8, 8}, {"RUNEEUR", 3, 8, 8}};
    rec.table = *SymbolTable::Create(v);
    for (const std::string& l : Lines("spot_depth_snapshots_2021-10-12.txt")) {
      if (l.find("symbol=NKNUSDT") == std::string::npos) continue;
      rec.nkn_snapshot = l.substr(l.find(": ") + 2);
      rec.nkn_lid = Field(rec.nkn_snapshot, "\"lastUpdateId\":");
    }
    std::vector<std::string> diffs;
    const std::vector<std::string> lines = Lines("spot_stream_2021-10-12.txt");
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string f = lines[i].substr(lines[i].find(": ") + 2);
      if (f.find("nknusdt@depth") != std::string::npos && Field(f, "\"u\":") > rec.nkn_lid) {
        diffs.push_back(f);
      } else if (f.find("@bookTicker\"") != std::string::npos) {
        rec.book_ticker.emplace_back(f);
      } else if (f.find("@aggTrade\"") != std::string::npos) {
        rec.agg_trade.emplace_back(f);
      }
    }
    if (diffs.empty() || rec.book_ticker.empty() || rec.agg_trade.empty()) {
      rec.error = "recording not found: is NZEZA_TESTDATA_DIR readable?";
      return rec;
    }
    const uint64_t first_U = Field(diffs.front(), "\"U\":");
    const uint64_t span = Field(diffs.back(), "\"u\":") - first_U + 1;
    rec.depth_pass = diffs.size();
    for (int k = 0; k < kDepthPasses; ++k) {
      for (const std::string& d : diffs) {
        const uint64_t shift = span * static_cast<uint64_t>(k);
        std::string s = Replace(d, "\"U\":", Field(d, "\"U\":") + shift);
        s = Replace(s, "\"u\":", Field(d, "\"u\":") + shift);
        rec.depth.emplace_back(s);
      }
    }
    return rec;
  }();
  return r;
}

// ---------------------------------------------------------------------------------------------
// The sink: applies every event to its instrument's book (ids are table positions here).

class ApplySink final : public MdSink {
 public:
  ApplySink() {
    for (InstrumentId id = 0; id < 4; ++id) books.push_back(std::make_unique<OrderBook>(id, 5000));
  }
  void Push(const MdEvent& ev) noexcept override {
    const ApplyResult r = books[ev.instrument]->Apply(ev);
    refused += r.ok() ? 0 : 1;
    if (record) events.push_back(ev);
  }
  std::vector<std::unique_ptr<OrderBook>> books;
  uint64_t refused = 0;
  bool record = false;
  std::vector<MdEvent> events;
};

bool SameEvents(const std::vector<MdEvent>& a, const std::vector<MdEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameMarketData(a[i], b[i])) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The competitors' shared second half: what a message holds, found by the JSON library; the
// semantics (symbol, sequence, exact decimals, staging, events) are the same code for both.

struct RawLevel {
  std::string_view price;
  std::string_view size;
};

enum class Kind : uint8_t { kNone, kDepth, kBookTicker, kAggTrade, kOther };

struct Fields {
  Kind kind = Kind::kNone;
  std::string_view stream, symbol, p, q, b, B, a, A;
  uint64_t E = 0, U = 0, u = 0, T = 0, agg_id = 0;
  bool m = false;
  bool ok = true;
};

class Semantics {
 public:
  explicit Semantics(const SymbolTable& t) : table_(t), batcher_(1024), last_u_(t.size(), 0) {
    bids_.reserve(1024);
    asks_.reserve(1024);
  }
  void SetLive(InstrumentId id, uint64_t u) { last_u_[id] = u; }
  std::vector<RawLevel>& bids() { return bids_; }
  std::vector<RawLevel>& asks() { return asks_; }

  // A REST depth snapshot of instrument `id` whose levels are in bids()/asks(): one snapshot run
  // (venue_seq = lastUpdateId), then the book is live at that id.
  DecodeError FinishSnapshot(InstrumentId id, uint64_t last_update_id, bool ok, int64_t recv_ns,
                             MdSink& sink) {
    const FeedInstrument* in = table_.FindId(id);
    if (!ok || in == nullptr) return DecodeError::kMissingField;
    batcher_.Begin(Venue::kBinance, in->id, last_update_id, 0, recv_ns, true);
    if (!AddLevels(*in)) return DecodeError::kBadNumber;
    batcher_.Commit(sink, Clock().NowNanos());
    last_u_[in->id] = last_update_id;
    return DecodeError::kOk;
  }

  DecodeError Finish(Fields& f, int64_t recv_ns, MdSink& sink) {
    if (!f.ok) return DecodeError::kMissingField;
    if (f.kind == Kind::kNone && f.stream.ends_with("@bookTicker")) f.kind = Kind::kBookTicker;
    const FeedInstrument* in = table_.Find(f.symbol);
    if (in == nullptr) return DecodeError::kUnknownInstrument;
    switch (f.kind) {
      case Kind::kDepth: {
        uint64_t& last = last_u_[in->id];
        if (f.u <= last) return DecodeError::kSequence;
        if (f.U != last + 1) return DecodeError::kSequence;
        batcher_.Begin(Venue::kBinance, in->id, f.u, static_cast<int64_t>(f.E) * 1'000'000, recv_ns,
                       false);
        if (!AddLevels(*in)) return DecodeError::kBadNumber;
        batcher_.Commit(sink, Clock().NowNanos());
        last = f.u;
        return DecodeError::kOk;
      }
      case Kind::kBookTicker: {
        MdBbo bbo;
        if (ParseScaled(f.b, in->price_scale, &bbo.bid_price) != DecimalError::kOk ||
            ParseScaled(f.B, in->size_scale, &bbo.bid_size) != DecimalError::kOk ||
            ParseScaled(f.a, in->price_scale, &bbo.ask_price) != DecimalError::kOk ||
            ParseScaled(f.A, in->size_scale, &bbo.ask_size) != DecimalError::kOk) {
          return DecodeError::kBadNumber;
        }
        MdEvent ev = MdEvent::Bbo(Venue::kBinance, in->id, bbo);
        ev.flags = kMdMessageEnd;
        ev.venue_seq = f.u;
        ev.times.recv_ns = recv_ns;
        ev.times.decoded_ns = Clock().NowNanos();
        sink.Push(ev);
        return DecodeError::kOk;
      }
      case Kind::kAggTrade: {
        MdTrade t;
        if (ParseScaled(f.p, in->price_scale, &t.price) != DecimalError::kOk ||
            ParseScaled(f.q, in->size_scale, &t.size) != DecimalError::kOk) {
          return DecodeError::kBadNumber;
        }
        t.trade_id = f.agg_id;
        t.aggressor = f.m ? Side::kSell : Side::kBuy;
        MdEvent ev = MdEvent::Trade(Venue::kBinance, in->id, t);
        ev.flags = kMdMessageEnd;
        ev.venue_seq = t.trade_id;
        ev.exchange_ns = static_cast<int64_t>(f.T) * 1'000'000;
        ev.times.recv_ns = recv_ns;
        ev.times.decoded_ns = Clock().NowNanos();
        sink.Push(ev);
        return DecodeError::kOk;
      }
      default:
        return DecodeError::kUnknownType;
    }
  }

 private:
  // bids() then asks() into the batcher at the instrument's scales; on a bad number the batch is
  // aborted and false returned.
  bool AddLevels(const FeedInstrument& in) {
    for (int side = 0; side < 2; ++side) {
      for (const RawLevel& r : side == 0 ? bids_ : asks_) {
        PriceLevel l;
        if (ParseScaled(r.price, in.price_scale, &l.price) != DecimalError::kOk ||
            ParseScaled(r.size, in.size_scale, &l.size) != DecimalError::kOk || l.price <= 0) {
          batcher_.Abort();
          return false;
        }
        batcher_.Add(side == 0 ? Side::kBuy : Side::kSell, l);
      }
    }
    return true;
  }

  const SymbolTable& table_;
  LevelBatcher batcher_;
  std::vector<uint64_t> last_u_;
  std::vector<RawLevel> bids_;
  std::vector<RawLevel> asks_;
};

Kind KindOf(std::string_view e) {
  if (e == "depthUpdate") return Kind::kDepth;
  if (e == "aggTrade") return Kind::kAggTrade;
  return Kind::kOther;
}

// ---------------------------------------------------------------------------------------------
// RapidJSON: Document::Parse into a reused memory pool (no malloc per message: the fastest way to
// use it), then one pass over each object's members.

class RapidJsonDecoder {
 public:
  explicit RapidJsonDecoder(const SymbolTable& t)
      : sem_(t), value_buf_(new char[kValueBuf]), parse_buf_(new char[kParseBuf]) {}
  Semantics& semantics() { return sem_; }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink& sink) {
    return Parsed(data, size, [&](const auto& doc, Fields& f) {
      Visit(doc, f);
      return sem_.Finish(f, recv_ns, sink);
    });
  }

  DecodeError OnSnapshot(InstrumentId id, const char* data, size_t size, int64_t recv_ns,
                         MdSink& sink) {
    return Parsed(data, size,
                  [&](const auto& doc, Fields& f) { return Snapshot(doc, f, id, recv_ns, sink); });
  }

 private:
  static constexpr size_t kValueBuf = 1 << 21;  // a 5,000-level snapshot fits
  static constexpr size_t kParseBuf = 1 << 12;

  // Parses into the reused pools and hands the document (an object) on with the levels cleared.
  template <typename Then>
  DecodeError Parsed(const char* data, size_t size, Then&& then) {
    rapidjson::MemoryPoolAllocator<> values(value_buf_.get(), kValueBuf);
    rapidjson::MemoryPoolAllocator<> stack(parse_buf_.get(), kParseBuf);
    Doc doc(&values, kParseBuf, &stack);
    doc.Parse(data, size);
    if (doc.HasParseError() || !doc.IsObject()) return DecodeError::kMalformedJson;
    Fields f;
    sem_.bids().clear();
    sem_.asks().clear();
    return then(doc, f);
  }

  template <typename D>
  DecodeError Snapshot(const D& doc, Fields& f, InstrumentId id, int64_t recv_ns, MdSink& sink) {
    auto id_it = doc.FindMember("lastUpdateId");
    auto b = doc.FindMember("bids");
    auto a = doc.FindMember("asks");
    if (id_it == doc.MemberEnd() || !id_it->value.IsUint64() || b == doc.MemberEnd() ||
        !b->value.IsArray() || a == doc.MemberEnd() || !a->value.IsArray()) {
      return DecodeError::kMissingField;
    }
    Levels(b->value, &sem_.bids(), f);
    Levels(a->value, &sem_.asks(), f);
    return sem_.FinishSnapshot(id, id_it->value.GetUint64(), f.ok, recv_ns, sink);
  }

 private:
  using Value = rapidjson::Value;
  // The parse stack from a pool too (rapidjson::Document would malloc it per document).
  using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                         rapidjson::MemoryPoolAllocator<>>;

  static std::string_view Str(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

  void Levels(const Value& v, std::vector<RawLevel>* out, Fields& f) {
    for (const Value& l : v.GetArray()) {
      if (!l.IsArray() || l.Size() < 2 || !l[0].IsString() || !l[1].IsString()) {
        f.ok = false;
        return;
      }
      out->push_back({Str(l[0]), Str(l[1])});
    }
  }

  void Visit(const Value& o, Fields& f) {
    for (const auto& m : o.GetObject()) {
      const char* k = m.name.GetString();
      const Value& v = m.value;
      if (m.name.GetStringLength() != 1) {
        if (std::strcmp(k, "data") == 0 && v.IsObject()) {
          Visit(v, f);
        } else if (std::strcmp(k, "stream") == 0 && v.IsString()) {
          f.stream = Str(v);
        }
        continue;
      }
      switch (k[0]) {
        case 'e':
          if (v.IsString()) f.kind = KindOf(Str(v));
          break;
        case 'E':
          if (v.IsUint64()) f.E = v.GetUint64();
          break;
        case 's':
          if (v.IsString()) f.symbol = Str(v);
          break;
        case 'U':
          if (v.IsUint64()) f.U = v.GetUint64();
          break;
        case 'u':
          if (v.IsUint64()) f.u = v.GetUint64();
          break;
        case 'T':
          if (v.IsUint64()) f.T = v.GetUint64();
          break;
        case 'p':
          if (v.IsString()) f.p = Str(v);
          break;
        case 'q':
          if (v.IsString()) f.q = Str(v);
          break;
        case 'B':
          if (v.IsString()) f.B = Str(v);
          break;
        case 'A':
          if (v.IsString()) f.A = Str(v);
          break;
        case 'm':
          if (v.IsBool()) f.m = v.GetBool();
          break;
        case 'b':
          if (v.IsArray()) {
            Levels(v, &sem_.bids(), f);
          } else if (v.IsString()) {
            f.b = Str(v);
          }
          break;
        case 'a':
          if (v.IsArray()) {
            Levels(v, &sem_.asks(), f);
          } else if (v.IsString()) {
            f.a = Str(v);
          } else if (v.IsUint64()) {
            f.agg_id = v.GetUint64();
          }
          break;
        default:
          break;
      }
    }
  }

  Semantics sem_;
  std::unique_ptr<char[]> value_buf_;
  std::unique_ptr<char[]> parse_buf_;
};

// ---------------------------------------------------------------------------------------------
// simdjson DOM: a reused dom::parser (padded input, no copy), then one pass over each object.

class SimdjsonDomDecoder {
 public:
  explicit SimdjsonDomDecoder(const SymbolTable& t) : sem_(t) {
    allocated_ = parser_.allocate(1 << 20) == simdjson::SUCCESS;
  }
  Semantics& semantics() { return sem_; }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink& sink) {
    simdjson::dom::element root;
    if (!allocated_) return DecodeError::kTooLarge;
    if (parser_.parse(data, size, false).get(root) != simdjson::SUCCESS) {
      return DecodeError::kMalformedJson;
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return DecodeError::kMalformedJson;
    Fields f;
    sem_.bids().clear();
    sem_.asks().clear();
    Visit(obj, f);
    return sem_.Finish(f, recv_ns, sink);
  }

 private:
 public:
  DecodeError OnSnapshot(InstrumentId id, const char* data, size_t size, int64_t recv_ns,
                         MdSink& sink) {
    simdjson::dom::element root;
    if (!allocated_) return DecodeError::kTooLarge;
    if (parser_.parse(data, size, false).get(root) != simdjson::SUCCESS) {
      return DecodeError::kMalformedJson;
    }
    simdjson::dom::object obj;
    uint64_t last_update_id = 0;
    simdjson::dom::element b, a;
    if (root.get_object().get(obj) != simdjson::SUCCESS ||
        obj["lastUpdateId"].get(last_update_id) != simdjson::SUCCESS ||
        obj["bids"].get(b) != simdjson::SUCCESS || obj["asks"].get(a) != simdjson::SUCCESS) {
      return DecodeError::kMissingField;
    }
    Fields f;
    sem_.bids().clear();
    sem_.asks().clear();
    Levels(b, &sem_.bids(), f);
    Levels(a, &sem_.asks(), f);
    return sem_.FinishSnapshot(id, last_update_id, f.ok, recv_ns, sink);
  }

 private:
  using Element = simdjson::dom::element;

  void Levels(Element v, std::vector<RawLevel>* out, Fields& f) {
    simdjson::dom::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) {
      f.ok = false;
      return;
    }
    for (Element l : arr) {
      simdjson::dom::array pair;
      std::string_view px;
      std::string_view sz;
      if (l.get_array().get(pair) != simdjson::SUCCESS || pair.size() < 2 ||
          pair.at(0).get_string().get(px) != simdjson::SUCCESS ||
          pair.at(1).get_string().get(sz) != simdjson::SUCCESS) {
        f.ok = false;
        return;
      }
      out->push_back({px, sz});
    }
  }

  void Visit(simdjson::dom::object o, Fields& f) {
    for (simdjson::dom::key_value_pair kv : o) {
      const std::string_view k = kv.key;
      Element v = kv.value;
      if (k.size() != 1) {
        simdjson::dom::object data;
        if (k == "data" && v.get_object().get(data) == simdjson::SUCCESS) {
          Visit(data, f);
        } else if (k == "stream") {
          if (v.get_string().get(f.stream)) f.ok = false;
        }
        continue;
      }
      const simdjson::dom::element_type t = v.type();
      switch (k[0]) {
        case 'e': {
          std::string_view e;
          if (v.get_string().get(e) == simdjson::SUCCESS) f.kind = KindOf(e);
          break;
        }
        case 'E':
          if (v.get_uint64().get(f.E)) f.ok = false;
          break;
        case 's':
          if (v.get_string().get(f.symbol)) f.ok = false;
          break;
        case 'U':
          if (v.get_uint64().get(f.U)) f.ok = false;
          break;
        case 'u':
          if (v.get_uint64().get(f.u)) f.ok = false;
          break;
        case 'T':
          if (v.get_uint64().get(f.T)) f.ok = false;
          break;
        case 'p':
          if (v.get_string().get(f.p)) f.ok = false;
          break;
        case 'q':
          if (v.get_string().get(f.q)) f.ok = false;
          break;
        case 'B':
          if (v.get_string().get(f.B)) f.ok = false;
          break;
        case 'A':
          if (v.get_string().get(f.A)) f.ok = false;
          break;
        case 'm':
          if (v.get_bool().get(f.m)) f.ok = false;
          break;
        case 'b':
          if (t == simdjson::dom::element_type::ARRAY) {
            Levels(v, &sem_.bids(), f);
          } else {
            if (v.get_string().get(f.b)) f.ok = false;
          }
          break;
        case 'a':
          if (t == simdjson::dom::element_type::ARRAY) {
            Levels(v, &sem_.asks(), f);
          } else if (t == simdjson::dom::element_type::STRING) {
            if (v.get_string().get(f.a)) f.ok = false;
          } else {
            if (v.get_uint64().get(f.agg_id)) f.ok = false;
          }
          break;
        default:
          break;
      }
    }
  }

  Semantics sem_;
  simdjson::dom::parser parser_;
  bool allocated_ = false;
};

// ---------------------------------------------------------------------------------------------
// Contenders behind one shape: Open() makes the NKNUSDT book live on the recorded snapshot (and
// resets the sequence), Decode() handles one message.

struct Nzeza {
  std::unique_ptr<FeedDecoder> dec;
  explicit Nzeza(const SymbolTable& t) : dec(MakeBinanceDecoder(t, Options())) {}
  static BinanceDecoderOptions Options() {
    BinanceDecoderOptions o;
    o.clock = &Clock();
    return o;
  }
  bool Open(ApplySink& sink) {
    dec->OnClose(0, sink);
    dec->OnOpen(0, sink);
    FeedAction a;
    while (dec->PopAction(&a)) {
    }
    const Padded s(Rec().nkn_snapshot);
    return dec->OnSnapshot(0, s.data(), s.size(), 0, sink) == DecodeError::kOk;
  }
  DecodeError Decode(const Padded& m, ApplySink& sink) {
    return dec->OnMessage(m.data(), m.size(), 1, sink);
  }
};

// The competitors take the book from nzeza's snapshot events (not timed), then the sequence.
template <typename D>
struct Competitor {
  D dec;
  Nzeza snapshotter;
  explicit Competitor(const SymbolTable& t) : dec(t), snapshotter(t) {}
  bool Open(ApplySink& sink) {
    const bool rec = sink.record;
    sink.record = false;
    const bool ok = snapshotter.Open(sink);
    sink.record = rec;
    dec.semantics().SetLive(0, Rec().nkn_lid);
    return ok;
  }
  DecodeError Decode(const Padded& m, ApplySink& sink) {
    return dec.OnMessage(m.data(), m.size(), 1, sink);
  }
};

// The events the contender emits for `msgs`, after Open().
template <typename C>
std::vector<MdEvent> Output(const std::vector<Padded>& msgs, size_t n, bool& ok) {
  C c(Rec().table);
  ApplySink sink;
  ok = c.Open(sink);
  sink.record = true;
  for (size_t i = 0; i < n; ++i) ok = ok && c.Decode(msgs[i], sink) == DecodeError::kOk;
  ok = ok && sink.refused == 0;
  return sink.events;
}

template <typename C>
void Run(benchmark::State& state, const std::vector<Padded>& msgs, size_t check_n,
         bool reopen_at_wrap) {
  const Recording& rec = Rec();
  if (!rec.error.empty()) {
    state.SkipWithError(rec.error.c_str());
    return;
  }
  bool ok_ref = false;
  bool ok = false;
  const std::vector<MdEvent> want = Output<Nzeza>(msgs, check_n, ok_ref);
  const std::vector<MdEvent> got = Output<C>(msgs, check_n, ok);
  if (!ok_ref || !ok || want.empty() || !SameEvents(want, got)) {
    state.SkipWithError("the contender's events differ from nzeza's decoder (or it failed)");
    return;
  }
  C c(rec.table);
  ApplySink sink;
  if (!c.Open(sink)) {
    state.SkipWithError("snapshot failed");
    return;
  }
  size_t i = 0;
  uint64_t errors = 0;
  for (auto _ : state) {
    errors += c.Decode(msgs[i], sink) != DecodeError::kOk;
    if (++i == msgs.size()) {
      i = 0;
      if (reopen_at_wrap) {
        state.PauseTiming();
        (void)c.Open(sink);
        state.ResumeTiming();
      }
    }
  }
  if (errors != 0 || sink.refused != 0) state.SkipWithError("errors while timing");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(std::string("simdjson kernel ") + std::string(kKernel));
}

void BM_BinanceDepth_Nzeza(benchmark::State& s) {
  Run<Nzeza>(s, Rec().depth, Rec().depth_pass, true);
}
void BM_BinanceDepth_RapidJson(benchmark::State& s) {
  Run<Competitor<RapidJsonDecoder>>(s, Rec().depth, Rec().depth_pass, true);
}
void BM_BinanceDepth_SimdjsonDom(benchmark::State& s) {
  Run<Competitor<SimdjsonDomDecoder>>(s, Rec().depth, Rec().depth_pass, true);
}
void BM_BinanceBookTicker_Nzeza(benchmark::State& s) {
  Run<Nzeza>(s, Rec().book_ticker, Rec().book_ticker.size(), false);
}
void BM_BinanceBookTicker_RapidJson(benchmark::State& s) {
  Run<Competitor<RapidJsonDecoder>>(s, Rec().book_ticker, Rec().book_ticker.size(), false);
}
void BM_BinanceBookTicker_SimdjsonDom(benchmark::State& s) {
  Run<Competitor<SimdjsonDomDecoder>>(s, Rec().book_ticker, Rec().book_ticker.size(), false);
}
void BM_BinanceAggTrade_Nzeza(benchmark::State& s) {
  Run<Nzeza>(s, Rec().agg_trade, Rec().agg_trade.size(), false);
}
void BM_BinanceAggTrade_RapidJson(benchmark::State& s) {
  Run<Competitor<RapidJsonDecoder>>(s, Rec().agg_trade, Rec().agg_trade.size(), false);
}
void BM_BinanceAggTrade_SimdjsonDom(benchmark::State& s) {
  Run<Competitor<SimdjsonDomDecoder>>(s, Rec().agg_trade, Rec().agg_trade.size(), false);
}

BENCHMARK(BM_BinanceDepth_Nzeza);
BENCHMARK(BM_BinanceDepth_RapidJson);
BENCHMARK(BM_BinanceDepth_SimdjsonDom);
BENCHMARK(BM_BinanceBookTicker_Nzeza);
BENCHMARK(BM_BinanceBookTicker_RapidJson);
BENCHMARK(BM_BinanceBookTicker_SimdjsonDom);
BENCHMARK(BM_BinanceAggTrade_Nzeza);
BENCHMARK(BM_BinanceAggTrade_RapidJson);
BENCHMARK(BM_BinanceAggTrade_SimdjsonDom);

// The NKNUSDT REST depth snapshot (OnSnapshot: parse, exact decimals, the snapshot run into the
// book). nzeza's decoder must be waiting for a snapshot, so each iteration first closes and reopens
// it, untimed; the competitors take the body as it is. Checked first: the same level events.
template <typename Take>
void SnapshotRun(benchmark::State& state, Take&& take) {
  const Recording& rec = Rec();
  if (!rec.error.empty()) {
    state.SkipWithError(rec.error.c_str());
    return;
  }
  const Padded body(rec.nkn_snapshot);
  ApplySink sink;
  uint64_t errors = 0;
  for (auto _ : state) errors += take(body, sink, state) != DecodeError::kOk;
  if (errors != 0 || sink.refused != 0) state.SkipWithError("errors while timing");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.SetLabel(std::string("simdjson kernel ") + std::string(kKernel));
}

DecodeError NzezaSnapshot(FeedDecoder& dec, const Padded& body, ApplySink& sink) {
  dec.OnClose(0, sink);
  dec.OnOpen(0, sink);
  FeedAction a;
  while (dec.PopAction(&a)) {
  }
  return dec.OnSnapshot(0, body.data(), body.size(), 1, sink);
}

// The level events each contender emits for the snapshot must be nzeza's.
template <typename D>
bool SnapshotAgrees() {
  const Padded body(Rec().nkn_snapshot);
  ApplySink want, got;
  want.record = got.record = true;
  std::unique_ptr<FeedDecoder> dec = MakeBinanceDecoder(Rec().table, Nzeza::Options());
  D other(Rec().table);
  if (NzezaSnapshot(*dec, body, want) != DecodeError::kOk ||
      other.OnSnapshot(0, body.data(), body.size(), 1, got) != DecodeError::kOk) {
    return false;
  }
  std::vector<MdEvent> a, b;
  for (const MdEvent& e : want.events) {
    if (e.type == MdType::kLevels) a.push_back(e);
  }
  for (const MdEvent& e : got.events) {
    if (e.type == MdType::kLevels) b.push_back(e);
  }
  return a.size() > 1 && SameEvents(a, b);
}

void BM_BinanceSnapshot_Nzeza(benchmark::State& s) {
  std::unique_ptr<FeedDecoder> dec = MakeBinanceDecoder(Rec().table, Nzeza::Options());
  SnapshotRun(s, [&](const Padded& body, ApplySink& sink, benchmark::State& st) {
    st.PauseTiming();
    dec->OnClose(0, sink);
    dec->OnOpen(0, sink);
    FeedAction a;
    while (dec->PopAction(&a)) {
    }
    st.ResumeTiming();
    return dec->OnSnapshot(0, body.data(), body.size(), 1, sink);
  });
}
template <typename D>
void BinanceSnapshotOf(benchmark::State& s) {
  if (!SnapshotAgrees<D>()) {
    s.SkipWithError("the contender's snapshot events differ from nzeza's decoder (or it failed)");
    return;
  }
  D dec(Rec().table);
  SnapshotRun(s, [&](const Padded& body, ApplySink& sink, benchmark::State&) {
    return dec.OnSnapshot(0, body.data(), body.size(), 1, sink);
  });
}
void BM_BinanceSnapshot_RapidJson(benchmark::State& s) { BinanceSnapshotOf<RapidJsonDecoder>(s); }
void BM_BinanceSnapshot_SimdjsonDom(benchmark::State& s) {
  BinanceSnapshotOf<SimdjsonDomDecoder>(s);
}
BENCHMARK(BM_BinanceSnapshot_Nzeza);
BENCHMARK(BM_BinanceSnapshot_RapidJson);
BENCHMARK(BM_BinanceSnapshot_SimdjsonDom);

}  // namespace
}  // namespace nzeza
