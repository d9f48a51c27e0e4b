#include "nzeza/feeds/binance/decoder.h"

// The Binance Spot decoder. Layout: message parsing (one pass over each JSON object with
// simdjson on-demand, strings and level lists taken in place in the canonical form, a general
// pass for anything else), then the semantics of each message kind, then Binance's book
// algorithm (buffering, snapshots, sequence checks). See decoder.h for the behaviour.
#include "nzeza/feeds/binance/decoder.h"

#include <immintrin.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "nzeza/core/decimal.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/level_scan.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr int64_t kNsPerMs = 1'000'000;
constexpr uint64_t kMaxMs = static_cast<uint64_t>(INT64_MAX / kNsPerMs);

// A level as text, pointing into the message (fast pass) or the parser's string buffer (general
// pass); valid until the next message.
struct RawLevel {
  std::string_view price;
  std::string_view size;
};

// What the message is, from "e" (or, for bookTicker, from the stream name or its fields).
enum class Kind : uint8_t { kNone, kDepth, kBookTicker, kTrade, kAggTrade };

// Field slots of an event, and what the one pass found in each.
enum Slot : uint8_t {
  kSlotEventTime,  // E
  kSlotSymbol,     // s
  kSlotFirstId,    // U
  kSlotLastId,     // u
  kSlotTradeId,    // t
  kSlotAggId,      // a (number: aggTrade)
  kSlotTradeTime,  // T
  kSlotPrice,      // p
  kSlotQty,        // q
  kSlotBidPx,      // b (string: bookTicker)
  kSlotBidQty,     // B
  kSlotAskPx,      // a (string: bookTicker)
  kSlotAskQty,     // A
  kSlotMaker,      // m
  kSlotBids,       // b (array: depthUpdate)
  kSlotAsks,       // a (array: depthUpdate)
  kNumSlots,
};

enum FieldState : uint8_t { kAbsent = 0, kPresent = 1, kWrongType = 2, kBadNum = 3 };

// Everything one pass over a message collects.
struct Msg {
  uint8_t st[kNumSlots] = {};
  Kind kind = Kind::kNone;
  bool has_data = false;  // the combined-stream wrapper's "data" object
  bool data_not_object = false;
  bool reply = false;        // "result" (reply to SUBSCRIBE ...)
  bool venue_error = false;  // "code" / "error"
  bool maker = false;
  // Values: read only where st[] says kPresent, so they are not cleared per message.
  uint64_t event_time;
  uint64_t first_id;
  uint64_t last_id;
  uint64_t trade_id;
  uint64_t agg_id;
  uint64_t trade_time;
  std::string_view stream;
  std::string_view symbol;
  std::string_view price;
  std::string_view qty;
  std::string_view bid_px;
  std::string_view bid_qty;
  std::string_view ask_px;
  std::string_view ask_qty;
  const char* where = "";
  // The fast pass met something outside the canonical form (an escape in a string, a level
  // that is not a pair of strings, ...): the message is parsed again by the general pass.
  bool need_general = false;

  bool Has(Slot s) const noexcept { return st[s] == kPresent; }
};

bool EndsWith(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

DecodeError FromSimdjson(error_code e) noexcept {
  return e == simdjson::CAPACITY ? DecodeError::kTooLarge : DecodeError::kMalformedJson;
}

bool IsNumberError(error_code e) noexcept {
  return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_ERROR ||
         e == simdjson::NUMBER_OUT_OF_RANGE;
}

// The first '"' or '\\' at or after `p`, 16 bytes at a time. Precondition: a '"' follows `p` in
// the document (p is inside a string simdjson's first stage has seen closed). The loads may read
// up to 15 bytes past that quote: inside the document or its kFeedPadding.
inline const char* FindQuoteOrEscape(const char* p) noexcept {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i escape = _mm_set1_epi8('\\');
  for (;;) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, escape))));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
}

// The text of a string value without unescaping it: from the raw string to its closing quote.
// False when the string holds a backslash (the general pass unescapes it).
inline bool RawText(const char* p, std::string_view* out) noexcept {
  const char* q = FindQuoteOrEscape(p);
  if (*q != '"') return false;
  *out = std::string_view(p, static_cast<size_t>(q - p));
  return true;
}

// Reads a string field. A value of another JSON type marks the slot kWrongType (not an error of
// the JSON itself); any other error is returned (the JSON is broken). The fast pass
// (`general` false) takes the text in place; the general pass unescapes it.
inline error_code ReadString(od::value& v, std::string_view* out, uint8_t* st, bool general,
                             bool* need_general) noexcept {
  error_code e;
  if (!general) {
    od::raw_json_string r;
    e = v.get_raw_json_string().get(r);
    if (e == simdjson::SUCCESS) {
      if (!RawText(r.raw(), out)) {
        *need_general = true;
        return e;
      }
      *st = kPresent;
      return e;
    }
  } else {
    std::string_view s;
    e = v.get_string().get(s);
    if (e == simdjson::SUCCESS) {
      *out = s;
      *st = kPresent;
      return e;
    }
  }
  if (e == simdjson::INCORRECT_TYPE) {
    *st = kWrongType;
    return simdjson::SUCCESS;
  }
  return e;
}

// Scans the canonical text of a level list, `[["price","qty"],...]` (JSON whitespace allowed),
// taking the strings in place (feeds/common/level_scan.h). False for anything else (escapes, other
// value types, pairs that are not pairs, more than `room` levels): the general pass decides what
// it is. `t` lies inside the message, which has kFeedPadding readable bytes after it.
bool ScanLevels(std::string_view t, std::vector<RawLevel>* out, size_t room) noexcept {
  const char* const end = t.data() + t.size();
  return ScanStringPairs(t.data(), end, [&](std::string_view price, std::string_view size) {
           if (out->size() >= room) return false;
           out->push_back(RawLevel{price, size});  // reserved: never allocates
           return true;
         }) != nullptr;
}

// Reads an unsigned integer field: kWrongType for a non-number, kBadNum for a number that is not
// a uint64 (negative, fractional, too large).
inline error_code ReadU64(od::value& v, uint64_t* out, uint8_t* st) noexcept {
  uint64_t x;
  const error_code e = v.get_uint64().get(x);
  if (e == simdjson::SUCCESS) {
    *out = x;
    *st = kPresent;
    return e;
  }
  if (!IsNumberError(e)) return e;
  od::json_type t;
  const error_code te = v.type().get(t);
  if (te != simdjson::SUCCESS) return te;
  *st = t == od::json_type::number ? kBadNum : kWrongType;
  return simdjson::SUCCESS;
}

inline error_code ReadBool(od::value& v, bool* out, uint8_t* st) noexcept {
  bool b;
  const error_code e = v.get_bool().get(b);
  if (e == simdjson::SUCCESS) {
    *out = b;
    *st = kPresent;
    return e;
  }
  if (e == simdjson::INCORRECT_TYPE) {
    *st = kWrongType;
    return simdjson::SUCCESS;
  }
  return e;
}

// One level's price and size at the instrument's scales; the price must be positive (a book
// refuses a level at price 0, which would lose the whole update downstream).
inline DecodeError ParseLevel(const FeedInstrument& in, const RawLevel& r, bool bid, PriceLevel* l,
                              const char** where) noexcept {
  if (ParseScaled(r.price, in.price_scale, &l->price) != DecimalError::kOk) {
    *where = bid ? "depth: bid price does not fit the price scale"
                 : "depth: ask price does not fit the price scale";
    return DecodeError::kBadNumber;
  }
  if (ParseScaled(r.size, in.size_scale, &l->size) != DecimalError::kOk) {
    *where = bid ? "depth: bid quantity does not fit the size scale"
                 : "depth: ask quantity does not fit the size scale";
    return DecodeError::kBadNumber;
  }
  if (l->price <= 0) {
    *where = "depth: price is zero";
    return DecodeError::kBadValue;
  }
  return DecodeError::kOk;
}

const char* SlotName(Kind k, Slot s) noexcept {
  switch (s) {
    case kSlotEventTime:
      return "E (event time)";
    case kSlotSymbol:
      return "s (symbol)";
    case kSlotFirstId:
      return "U (first update id)";
    case kSlotLastId:
      return k == Kind::kBookTicker ? "u (book update id)" : "u (final update id)";
    case kSlotTradeId:
      return "t (trade id)";
    case kSlotAggId:
      return "a (aggregate trade id)";
    case kSlotTradeTime:
      return "T (trade time)";
    case kSlotPrice:
      return "p (price)";
    case kSlotQty:
      return "q (quantity)";
    case kSlotBidPx:
      return "b (best bid price)";
    case kSlotBidQty:
      return "B (best bid quantity)";
    case kSlotAskPx:
      return "a (best ask price)";
    case kSlotAskQty:
      return "A (best ask quantity)";
    case kSlotMaker:
      return "m (buyer is maker)";
    case kSlotBids:
      return "b (bids)";
    case kSlotAsks:
      return "a (asks)";
    case kNumSlots:
      break;
  }
  return "?";
}

const char* KindName(Kind k) noexcept {
  switch (k) {
    case Kind::kDepth:
      return "depthUpdate";
    case Kind::kBookTicker:
      return "bookTicker";
    case Kind::kTrade:
      return "trade";
    case Kind::kAggTrade:
      return "aggTrade";
    case Kind::kNone:
      break;
  }
  return "event";
}

// Static "where" texts for the error of a required field, per message kind and slot.
struct WhereTable {
  // [kind][slot][missing=0 / bad number=1]
  char text[5][kNumSlots][2][64];
  WhereTable() {
    for (int k = 0; k < 5; ++k) {
      for (int s = 0; s < kNumSlots; ++s) {
        const Kind kind = static_cast<Kind>(k);
        const Slot slot = static_cast<Slot>(s);
        std::snprintf(text[k][s][0], sizeof(text[k][s][0]), "%s: %s missing or not of its type",
                      KindName(kind), SlotName(kind, slot));
        std::snprintf(text[k][s][1], sizeof(text[k][s][1]), "%s: %s is not a valid number",
                      KindName(kind), SlotName(kind, slot));
      }
    }
  }
};
const WhereTable& Wheres() {
  static const WhereTable t;
  return t;
}

class BinanceDecoderImpl final : public FeedDecoder {
 public:
  BinanceDecoderImpl(SymbolTable table, BinanceDecoderOptions options);

  Venue venue() const noexcept override { return Venue::kBinance; }
  std::vector<std::string> SubscribeFrames() const override;
  std::vector<std::string> ResubscribeFrames(InstrumentId) const override { return {}; }
  std::string SnapshotTarget(InstrumentId instrument) const override;

  void OnOpen(int64_t now_ns, MdSink& sink) noexcept override;
  void OnClose(int64_t now_ns, MdSink& sink) noexcept override;
  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                        MdSink& sink) noexcept override;
  DecodeError OnSnapshot(InstrumentId instrument, const char* data, size_t size, int64_t recv_ns,
                         MdSink& sink) noexcept override;
  void OnSnapshotFailed(InstrumentId instrument) noexcept override;

  const BinanceDecoderStats& stats() const noexcept { return stats_; }
  BinanceBookSync sync(InstrumentId id) const noexcept {
    const FeedInstrument* in = table_.FindId(id);
    return in == nullptr ? BinanceBookSync::kDisconnected : books_[table_.IndexOf(in)].sync;
  }

 private:
  struct Buffered {
    uint64_t first_id;
    uint64_t last_id;
    int64_t exchange_ns;
    int64_t recv_ns;
    uint32_t offset;  // into Book::levels: num_bids bids, then num_asks asks
    uint32_t num_bids;
    uint32_t num_asks;
  };
  struct Book {
    BinanceBookSync sync = BinanceBookSync::kDisconnected;
    uint64_t last_id = 0;  // kBridging: the snapshot's lastUpdateId; kLive: u of the last diff
    std::vector<Buffered> diffs;
    std::vector<PriceLevel> levels;
    void Clear() noexcept {
      diffs.clear();
      levels.clear();
    }
  };

  bool has_books() const noexcept { return options_.streams.depth != BinanceDepthSpeed::kNone; }
  int64_t Now() const noexcept {
    return options_.clock != nullptr ? options_.clock->NowNanos() : MonotonicNanos();
  }

  // One pass over the message: fills `m`. Returns kOk or the error (m->where says where).
  DecodeError Parse(const char* data, size_t size, Msg* m) noexcept;
  DecodeError Pass(od::document& doc, Msg* m, bool general) noexcept;
  DecodeError EventField(char key, od::value& v, Msg* m, bool general) noexcept;
  struct SnapshotFields {
    uint64_t last_update_id = 0;
    bool has_id = false;
    bool has_bids = false;
    bool has_asks = false;
    bool venue_error = false;
    bool need_general = false;
    const char* where = "";
  };
  DecodeError SnapshotPass(od::document& doc, bool general, SnapshotFields* sf) noexcept;
  // A snapshot body in Binance's own layout, read without simdjson: fills raw_bids_/raw_asks_
  // and *sf as SnapshotPass does and returns true. False for anything else (not decided: the
  // caller runs SnapshotPass, which starts afresh).
  bool ReadSnapshotFast(const char* data, size_t size, SnapshotFields* sf) noexcept;
  DecodeError ParseLevels(od::value& v, std::vector<RawLevel>* out, const char* where,
                          Msg* m) noexcept;

  DecodeError OnDepth(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  DecodeError OnBookTicker(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  DecodeError OnTrade(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;

  // Checks that every slot in `slots` is present; returns the first problem.
  DecodeError Require(const Msg& m, std::initializer_list<Slot> slots,
                      const char** where) const noexcept;
  // A depthUpdate of a known symbol failed: counts it and, unless it was old, treats the update
  // as lost (kGap + new snapshot for a synced book; a discarded buffer otherwise).
  DecodeError FailDiff(size_t idx, const Msg& m, DecodeError e, const char* where, int64_t recv_ns,
                       MdSink& sink) noexcept;
  // The book of `idx` lost its sequence: kGap{expected, received}, wait for a new snapshot.
  void Gap(size_t idx, uint64_t expected, uint64_t received, int64_t recv_ns,
           MdSink& sink) noexcept;
  // Records a sequence problem that is no duplicate (a gap, a snapshot too old): sets
  // last_error() without counting a duplicate.
  DecodeError NoteSequence(const char* where, size_t idx) noexcept {
    const DecodeError e = Fail(DecodeError::kSequence, where, idx);
    --counters_.duplicates;
    return e;
  }
  // Buffers a decoded-later diff (levels parsed from raw_bids_/raw_asks_).
  DecodeError Buffer(size_t idx, const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  // Parses raw_bids_/raw_asks_ into the batcher (already begun).
  DecodeError StageLevels(size_t idx, const char** where) noexcept;
  void CommitBatch(MdSink& sink, int64_t decoded_ns) noexcept;
  void EraseFront(Book& b, size_t n) noexcept;

  // The instrument of `symbol`; the last one found is checked first (a stream often repeats a
  // symbol), else the table's hash map.
  const FeedInstrument* FindSymbol(std::string_view symbol) noexcept {
    if (last_found_ != nullptr && symbol == last_found_->symbol) return last_found_;
    const FeedInstrument* in = table_.Find(symbol);
    if (in != nullptr) last_found_ = in;
    return in;
  }

  BinanceDecoderOptions options_;
  const FeedInstrument* last_found_ = nullptr;
  od::parser parser_;
  bool parser_ok_ = false;
  LevelBatcher batcher_;
  std::vector<RawLevel> raw_bids_;
  std::vector<RawLevel> raw_asks_;
  std::vector<Book> books_;
  BinanceDecoderStats stats_;
};

BinanceDecoderImpl::BinanceDecoderImpl(SymbolTable table, BinanceDecoderOptions options)
    : FeedDecoder(std::move(table)),
      options_(options),
      parser_(options.max_message_bytes),
      batcher_(std::max<size_t>(options.max_levels_per_message, 1)) {
  options_.max_levels_per_message = std::max<size_t>(options_.max_levels_per_message, 1);
  options_.max_buffered_diffs = std::max<size_t>(options_.max_buffered_diffs, 1);
  options_.max_buffered_levels =
      std::max(options_.max_buffered_levels, options_.max_levels_per_message);
  parser_ok_ = parser_.allocate(options_.max_message_bytes) == simdjson::SUCCESS;
  raw_bids_.reserve(options_.max_levels_per_message);
  raw_asks_.reserve(options_.max_levels_per_message);
  books_.resize(table_.size());
  if (has_books()) {
    for (Book& b : books_) {
      b.diffs.reserve(options_.max_buffered_diffs);
      b.levels.reserve(options_.max_buffered_levels);
    }
  }
  (void)Wheres();  // built once, here, not on the hot path
}

std::vector<std::string> BinanceDecoderImpl::SubscribeFrames() const {
  if (!options_.subscribe_on_open) return {};
  const std::vector<std::string> names = BinanceStreamNames(table_, options_.streams);
  if (names.empty()) return {};
  return {BinanceSubscribeFrame(names, 1)};
}

std::string BinanceDecoderImpl::SnapshotTarget(InstrumentId instrument) const {
  if (!has_books()) return {};
  const FeedInstrument* in = table_.FindId(instrument);
  if (in == nullptr) return {};
  return BinanceSnapshotTarget(in->symbol, options_.snapshot_limit);
}

void BinanceDecoderImpl::OnOpen(int64_t now_ns, MdSink& sink) noexcept {
  for (size_t i = 0; i < books_.size(); ++i) {
    Book& b = books_[i];
    b.Clear();
    b.last_id = 0;
    EmitStatus(sink, i, MdStatus::kConnected, now_ns);
    if (has_books()) {
      b.sync = BinanceBookSync::kAwaitingSnapshot;
      RequestAction(FeedActionType::kFetchSnapshot, table_.all()[i].id);
    }
  }
}

void BinanceDecoderImpl::OnClose(int64_t now_ns, MdSink& sink) noexcept {
  for (Book& b : books_) {
    b.Clear();
    b.sync = BinanceBookSync::kDisconnected;
  }
  EmitStatusAll(sink, MdStatus::kDisconnected, now_ns);
}

void BinanceDecoderImpl::OnSnapshotFailed(InstrumentId instrument) noexcept {
  const FeedInstrument* in = table_.FindId(instrument);
  if (in == nullptr) return;
  if (books_[table_.IndexOf(in)].sync == BinanceBookSync::kAwaitingSnapshot) {
    RequestAction(FeedActionType::kFetchSnapshot, instrument);
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

DecodeError BinanceDecoderImpl::ParseLevels(od::value& v, std::vector<RawLevel>* out,
                                            const char* where, Msg* m) noexcept {
  out->clear();
  od::array arr;
  error_code e = v.get_array().get(arr);
  if (e != simdjson::SUCCESS) {
    m->where = where;
    return e == simdjson::INCORRECT_TYPE ? DecodeError::kMissingField : FromSimdjson(e);
  }
  const size_t limit = options_.max_levels_per_message;
  for (auto item : arr) {
    od::value lv;
    if ((e = item.get(lv)) != simdjson::SUCCESS) {
      m->where = where;
      return FromSimdjson(e);
    }
    if (raw_bids_.size() + raw_asks_.size() >= limit) {
      m->where = "depth: more levels than max_levels_per_message";
      return DecodeError::kTooLarge;
    }
    od::array pair;
    if ((e = lv.get_array().get(pair)) != simdjson::SUCCESS) {
      m->where = where;
      return e == simdjson::INCORRECT_TYPE ? DecodeError::kMissingField : FromSimdjson(e);
    }
    RawLevel l;
    size_t n = 0;
    for (auto x : pair) {
      od::value xv;
      if ((e = x.get(xv)) != simdjson::SUCCESS) {
        m->where = where;
        return FromSimdjson(e);
      }
      if (n < 2) {
        std::string_view s;
        if ((e = xv.get_string().get(s)) != simdjson::SUCCESS) {
          m->where = where;
          return e == simdjson::INCORRECT_TYPE ? DecodeError::kMissingField : FromSimdjson(e);
        }
        (n == 0 ? l.price : l.size) = s;
      }
      ++n;
    }
    if (n < 2) {
      m->where = where;
      return DecodeError::kMissingField;
    }
    out->push_back(l);  // reserved for max_levels_per_message: never allocates
  }
  return DecodeError::kOk;
}

DecodeError BinanceDecoderImpl::EventField(char key, od::value& v, Msg* m, bool general) noexcept {
  error_code e = simdjson::SUCCESS;
  switch (key) {
    case 'e': {
      std::string_view type;
      uint8_t st = kAbsent;
      e = ReadString(v, &type, &st, general, &m->need_general);
      if (e != simdjson::SUCCESS || m->need_general) break;
      if (st != kPresent) {
        m->where = "event: e (event type) is not a string";
        return DecodeError::kMissingField;
      }
      if (type == "depthUpdate") {
        m->kind = Kind::kDepth;
      } else if (type == "aggTrade") {
        m->kind = Kind::kAggTrade;
      } else if (type == "trade") {
        m->kind = Kind::kTrade;
      } else {
        // kline, 24hrTicker, ...: not decoded. Stop here (nothing of it is needed).
        m->where = "unknown event type";
        return DecodeError::kUnknownType;
      }
      break;
    }
    case 'E':
      e = ReadU64(v, &m->event_time, &m->st[kSlotEventTime]);
      break;
    case 's':
      e = ReadString(v, &m->symbol, &m->st[kSlotSymbol], general, &m->need_general);
      break;
    case 'U':
      e = ReadU64(v, &m->first_id, &m->st[kSlotFirstId]);
      break;
    case 'u':
      e = ReadU64(v, &m->last_id, &m->st[kSlotLastId]);
      break;
    case 't':
      e = ReadU64(v, &m->trade_id, &m->st[kSlotTradeId]);
      break;
    case 'T':
      e = ReadU64(v, &m->trade_time, &m->st[kSlotTradeTime]);
      break;
    case 'p':
      e = ReadString(v, &m->price, &m->st[kSlotPrice], general, &m->need_general);
      break;
    case 'q':
      e = ReadString(v, &m->qty, &m->st[kSlotQty], general, &m->need_general);
      break;
    case 'B':
      e = ReadString(v, &m->bid_qty, &m->st[kSlotBidQty], general, &m->need_general);
      break;
    case 'A':
      e = ReadString(v, &m->ask_qty, &m->st[kSlotAskQty], general, &m->need_general);
      break;
    case 'm':
      e = ReadBool(v, &m->maker, &m->st[kSlotMaker]);
      break;
    case 'b':
    case 'a': {
      // depthUpdate: an array of levels; bookTicker: the best price (string); trade: an order
      // id, aggTrade ("a"): the aggregate trade id (numbers).
      const bool bid = key == 'b';
      od::json_type t;
      if ((e = v.type().get(t)) != simdjson::SUCCESS) break;
      if (t == od::json_type::array) {
        if (m->kind != Kind::kNone && m->kind != Kind::kDepth) break;  // not levels: skip
        std::vector<RawLevel>* out = bid ? &raw_bids_ : &raw_asks_;
        if (!general) {
          // The canonical form, scanned in place; anything else takes the general pass.
          out->clear();
          od::array arr;
          std::string_view text;
          if ((e = v.get_array().get(arr)) != simdjson::SUCCESS) break;
          if ((e = arr.raw_json().get(text)) != simdjson::SUCCESS) break;
          const size_t other = bid ? raw_asks_.size() : raw_bids_.size();
          if (!ScanLevels(text, out, options_.max_levels_per_message - other)) {
            m->need_general = true;
            break;
          }
        } else {
          const DecodeError d = ParseLevels(v, out,
                                            bid ? "depthUpdate: b (bids) is not [[price, qty], ..]"
                                                : "depthUpdate: a (asks) is not [[price, qty], ..]",
                                            m);
          if (d != DecodeError::kOk) return d;
        }
        m->st[bid ? kSlotBids : kSlotAsks] = kPresent;
      } else if (t == od::json_type::string) {
        e = bid ? ReadString(v, &m->bid_px, &m->st[kSlotBidPx], general, &m->need_general)
                : ReadString(v, &m->ask_px, &m->st[kSlotAskPx], general, &m->need_general);
      } else if (t == od::json_type::number && !bid) {
        e = ReadU64(v, &m->agg_id, &m->st[kSlotAggId]);
      }
      break;
    }
    default:
      break;  // M (ignore), f, l (first/last trade id of an aggTrade), anything new: skipped
  }
  if (e != simdjson::SUCCESS) {
    m->where = "malformed JSON";
    return FromSimdjson(e);
  }
  return DecodeError::kOk;
}

DecodeError BinanceDecoderImpl::Parse(const char* data, size_t size, Msg* m) noexcept {
  m->where = "malformed JSON";
  if (!parser_ok_) return DecodeError::kTooLarge;
  od::document doc;
  error_code e = parser_.iterate(data, size, size + kFeedPadding).get(doc);
  if (e != simdjson::SUCCESS) {
    if (e == simdjson::CAPACITY) m->where = "message larger than max_message_bytes";
    return FromSimdjson(e);
  }
  DecodeError d = Pass(doc, m, /*general=*/false);
  if (!m->need_general) return d;
  // Not in the canonical form: parse it again, unescaping strings and walking every level.
  doc.rewind();
  *m = Msg();
  m->where = "malformed JSON";
  return Pass(doc, m, /*general=*/true);
}

DecodeError BinanceDecoderImpl::Pass(od::document& doc, Msg* m, bool general) noexcept {
  raw_bids_.clear();
  raw_asks_.clear();
  error_code e;
  od::json_type top;
  if ((e = doc.type().get(top)) != simdjson::SUCCESS) return FromSimdjson(e);
  if (top == od::json_type::array) {
    m->where = "top-level array (an all-market stream)";
    return DecodeError::kUnknownType;
  }
  od::object obj;
  if ((e = doc.get_object().get(obj)) != simdjson::SUCCESS) {
    m->where = "not a JSON object";
    return FromSimdjson(e);
  }
  for (auto field : obj) {
    // By reference: copying a field (or value) costs a store-forwarding stall per copy.
    if ((e = field.error()) != simdjson::SUCCESS) return FromSimdjson(e);
    od::field& f = field.value_unsafe();
    const od::raw_json_string key = f.key();
    const char* k = key.raw();
    od::value& v = f.value();
    if (k[0] != '"' && k[1] == '"') {  // one-letter key: a bare event's field
      const DecodeError d = EventField(k[0], v, m, general);
      if (d != DecodeError::kOk || m->need_general) return d;
    } else if (key.unsafe_is_equal("data")) {
      od::json_type t;
      if ((e = v.type().get(t)) != simdjson::SUCCESS) return FromSimdjson(e);
      if (t == od::json_type::array) {
        m->where = "data is an array (an all-market stream)";
        return DecodeError::kUnknownType;
      }
      if (t != od::json_type::object) {
        m->data_not_object = true;
        continue;
      }
      od::object data_obj;
      if ((e = v.get_object().get(data_obj)) != simdjson::SUCCESS) return FromSimdjson(e);
      for (auto df : data_obj) {
        if ((e = df.error()) != simdjson::SUCCESS) return FromSimdjson(e);
        od::field& g = df.value_unsafe();
        const char* gk = g.key().raw();
        if (gk[0] != '"' && gk[1] == '"') {
          const DecodeError d = EventField(gk[0], g.value(), m, general);
          if (d != DecodeError::kOk || m->need_general) return d;
        }
      }
      m->has_data = true;
    } else if (key.unsafe_is_equal("stream")) {
      uint8_t st = kAbsent;
      if ((e = ReadString(v, &m->stream, &st, general, &m->need_general)) != simdjson::SUCCESS) {
        return FromSimdjson(e);
      }
      if (m->need_general) return DecodeError::kOk;
    } else if (key.unsafe_is_equal("result")) {
      m->reply = true;
    } else if (key.unsafe_is_equal("code") || key.unsafe_is_equal("error")) {
      m->venue_error = true;
    }
    // "id", "msg" and anything else: skipped.
  }
  // Nothing may follow the object.
  const char* rest;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    m->where = "trailing content after the JSON object";
    return DecodeError::kMalformedJson;
  }
  m->where = "";
  return DecodeError::kOk;
}

DecodeError BinanceDecoderImpl::Require(const Msg& m, std::initializer_list<Slot> slots,
                                        const char** where) const noexcept {
  const int k = static_cast<int>(m.kind);
  for (Slot s : slots) {
    if (m.st[s] == kPresent) continue;
    const bool bad_number = m.st[s] == kBadNum;
    *where = Wheres().text[k][s][bad_number ? 1 : 0];
    return bad_number ? DecodeError::kBadNumber : DecodeError::kMissingField;
  }
  return DecodeError::kOk;
}

// ---------------------------------------------------------------------------------------------
// Messages

DecodeError BinanceDecoderImpl::OnMessage(const char* data, size_t size, int64_t recv_ns,
                                          MdSink& sink) noexcept {
  ++counters_.messages;
  Msg m;
  const DecodeError pe = Parse(data, size, &m);
  if (pe != DecodeError::kOk) {
    if (m.kind == Kind::kDepth && m.Has(kSlotSymbol) && has_books()) {
      if (const FeedInstrument* in = FindSymbol(m.symbol)) {
        return FailDiff(table_.IndexOf(in), m, pe, m.where, recv_ns, sink);
      }
    }
    return Fail(pe, m.where);
  }
  if (m.venue_error) return Fail(DecodeError::kVenueError, "error reply from Binance");
  if (m.kind == Kind::kNone) {
    if (m.reply) {
      ++stats_.subscribe_replies;
      return DecodeError::kOk;
    }
    if (m.data_not_object) return Fail(DecodeError::kMissingField, "data is not an object");
    // bookTicker carries no "e": its stream name says what it is, or, bare, its fields do.
    const bool ticker_fields = m.Has(kSlotLastId) && m.Has(kSlotSymbol) && m.Has(kSlotBidPx) &&
                               m.Has(kSlotAskPx) && !m.Has(kSlotFirstId);
    if (m.has_data ? EndsWith(m.stream, "@bookTicker") : ticker_fields) {
      m.kind = Kind::kBookTicker;
    } else {
      return Fail(DecodeError::kUnknownType, "unknown event type");
    }
  }
  switch (m.kind) {
    case Kind::kDepth:
      return OnDepth(m, recv_ns, sink);
    case Kind::kBookTicker:
      return OnBookTicker(m, recv_ns, sink);
    case Kind::kTrade:
    case Kind::kAggTrade:
      return OnTrade(m, recv_ns, sink);
    case Kind::kNone:
      break;
  }
  return Fail(DecodeError::kUnknownType, "unknown event type");
}

DecodeError BinanceDecoderImpl::OnDepth(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  const char* where = "";
  if (!m.Has(kSlotSymbol)) {
    (void)Require(m, {kSlotSymbol}, &where);
    return Fail(DecodeError::kMissingField, where);
  }
  const FeedInstrument* in = FindSymbol(m.symbol);
  if (in == nullptr) {
    return Fail(DecodeError::kUnknownInstrument, "depthUpdate: symbol not in the table");
  }
  const size_t idx = table_.IndexOf(in);
  Seen(idx, recv_ns);
  if (!has_books())
    return Fail(DecodeError::kUnknownType, "depthUpdate: no depth stream asked for");
  DecodeError e =
      Require(m, {kSlotEventTime, kSlotFirstId, kSlotLastId, kSlotBids, kSlotAsks}, &where);
  if (e != DecodeError::kOk) return FailDiff(idx, m, e, where, recv_ns, sink);
  if (m.first_id > m.last_id) {
    return FailDiff(idx, m, DecodeError::kBadValue, "depthUpdate: U (first update id) > u", recv_ns,
                    sink);
  }
  if (m.event_time > kMaxMs) {
    return FailDiff(idx, m, DecodeError::kBadValue, "depthUpdate: E (event time) out of range",
                    recv_ns, sink);
  }
  Book& b = books_[idx];
  switch (b.sync) {
    case BinanceBookSync::kLive:
      if (m.last_id <= b.last_id) {
        return Fail(DecodeError::kSequence, "depthUpdate: old or duplicate u", idx);
      }
      if (m.first_id != b.last_id + 1) {
        Gap(idx, b.last_id + 1, m.first_id, recv_ns, sink);
        const DecodeError be = Buffer(idx, m, recv_ns, sink);
        if (be != DecodeError::kOk) return be;
        return NoteSequence("depthUpdate: gap (U != previous u + 1); resyncing", idx);
      }
      break;
    case BinanceBookSync::kBridging:
      if (m.last_id <= b.last_id) {  // older than the snapshot: Binance says drop it
        ++counters_.dropped_before_snapshot;
        return DecodeError::kOk;
      }
      if (m.first_id > b.last_id + 1) {  // the snapshot is older than this stream: rebuild
        Gap(idx, b.last_id + 1, m.first_id, recv_ns, sink);
        const DecodeError be = Buffer(idx, m, recv_ns, sink);
        if (be != DecodeError::kOk) return be;
        return NoteSequence("depthUpdate: first diff after the snapshot does not bridge it", idx);
      }
      break;
    case BinanceBookSync::kAwaitingSnapshot:
    case BinanceBookSync::kDisconnected:
      return Buffer(idx, m, recv_ns, sink);
  }
  // Apply: stage every level, then emit (all or nothing).
  const size_t n = raw_bids_.size() + raw_asks_.size();
  if (n <= kMaxLevelsPerEvent) {
    // The common case, one event: staged in place, exactly what LevelBatcher would emit for it
    // (nothing for a diff without levels), without its copies.
    if (n != 0) {
      MdEvent ev = MdEvent::Levels(Venue::kBinance, in->id, m.last_id);
      ev.flags = kMdMessageEnd;
      ev.exchange_ns = static_cast<int64_t>(m.event_time) * kNsPerMs;
      ev.times.recv_ns = recv_ns;
      PriceLevel* out = ev.levels.level;
      for (const RawLevel& r : raw_bids_) {
        if ((e = ParseLevel(*in, r, /*bid=*/true, out++, &where)) != DecodeError::kOk) {
          return FailDiff(idx, m, e, where, recv_ns, sink);
        }
      }
      for (const RawLevel& r : raw_asks_) {
        if ((e = ParseLevel(*in, r, /*bid=*/false, out++, &where)) != DecodeError::kOk) {
          return FailDiff(idx, m, e, where, recv_ns, sink);
        }
      }
      ev.levels.num_bids = static_cast<uint8_t>(raw_bids_.size());
      ev.levels.num_asks = static_cast<uint8_t>(raw_asks_.size());
      ev.times.decoded_ns = Now();
      Emit(sink, ev);
    }
  } else {
    batcher_.Begin(Venue::kBinance, in->id, m.last_id,
                   static_cast<int64_t>(m.event_time) * kNsPerMs, recv_ns, false);
    e = StageLevels(idx, &where);
    if (e != DecodeError::kOk) {
      batcher_.Abort();
      return FailDiff(idx, m, e, where, recv_ns, sink);
    }
    CommitBatch(sink, Now());
  }
  b.last_id = m.last_id;
  b.sync = BinanceBookSync::kLive;
  ++counters_.level_messages;
  ++icounters(idx).updates;
  return DecodeError::kOk;
}

DecodeError BinanceDecoderImpl::StageLevels(size_t idx, const char** where) noexcept {
  const FeedInstrument& in = table_.all()[idx];
  PriceLevel l;
  for (const RawLevel& r : raw_bids_) {
    const DecodeError e = ParseLevel(in, r, /*bid=*/true, &l, where);
    if (e != DecodeError::kOk) return e;
    batcher_.Add(Side::kBuy, l);  // reserved for max_levels_per_message per side: no allocation
  }
  for (const RawLevel& r : raw_asks_) {
    const DecodeError e = ParseLevel(in, r, /*bid=*/false, &l, where);
    if (e != DecodeError::kOk) return e;
    batcher_.Add(Side::kSell, l);
  }
  return DecodeError::kOk;
}

void BinanceDecoderImpl::CommitBatch(MdSink& sink, int64_t decoded_ns) noexcept {
  const size_t n = batcher_.num_bids() + batcher_.num_asks();
  counters_.events +=
      n == 0 ? (batcher_.snapshot() ? 1 : 0) : (n + kMaxLevelsPerEvent - 1) / kMaxLevelsPerEvent;
  batcher_.Commit(sink, decoded_ns);
}

DecodeError BinanceDecoderImpl::Buffer(size_t idx, const Msg& m, int64_t recv_ns,
                                       MdSink& sink) noexcept {
  Book& b = books_[idx];
  if (!b.diffs.empty()) {
    const Buffered& last = b.diffs.back();
    if (m.last_id <= last.last_id) {
      return Fail(DecodeError::kSequence, "depthUpdate: old or duplicate u (buffering)", idx);
    }
    if (m.first_id != last.last_id + 1) {
      // A diff is missing: what came before it can never be completed by a snapshot.
      ++stats_.buffer_holes;
      EmitStatus(sink, idx, MdStatus::kGap, recv_ns, last.last_id + 1, m.first_id);
      b.Clear();
    }
  }
  const size_t n = raw_bids_.size() + raw_asks_.size();
  if (b.diffs.size() == options_.max_buffered_diffs ||
      b.levels.size() + n > options_.max_buffered_levels) {
    // The snapshot is slow: give up on what is buffered and ask again. The snapshot in flight,
    // if any, is checked against what is buffered from here on.
    ++stats_.buffer_overflows;
    b.Clear();
    if (b.sync == BinanceBookSync::kAwaitingSnapshot) {
      RequestAction(FeedActionType::kFetchSnapshot, table_.all()[idx].id);
    }
  }
  const FeedInstrument& in = table_.all()[idx];
  Buffered d;
  d.first_id = m.first_id;
  d.last_id = m.last_id;
  d.exchange_ns = static_cast<int64_t>(m.event_time) * kNsPerMs;
  d.recv_ns = recv_ns;
  d.offset = static_cast<uint32_t>(b.levels.size());
  d.num_bids = static_cast<uint32_t>(raw_bids_.size());
  d.num_asks = static_cast<uint32_t>(raw_asks_.size());
  for (int side = 0; side < 2; ++side) {
    for (const RawLevel& r : side == 0 ? raw_bids_ : raw_asks_) {
      PriceLevel l;
      const char* where = "";
      const DecodeError err = ParseLevel(in, r, side == 0, &l, &where);
      if (err != DecodeError::kOk) {
        // The sequence now has a hole: nothing buffered so far can be completed.
        ++stats_.lost_updates;
        b.Clear();
        return Fail(err, where, idx);
      }
      b.levels.push_back(l);  // reserved: never allocates
    }
  }
  b.diffs.push_back(d);  // reserved: never allocates
  ++counters_.buffered;
  return DecodeError::kOk;
}

void BinanceDecoderImpl::Gap(size_t idx, uint64_t expected, uint64_t received, int64_t recv_ns,
                             MdSink& sink) noexcept {
  Book& b = books_[idx];
  EmitStatus(sink, idx, MdStatus::kGap, recv_ns, expected, received);
  b.Clear();
  b.sync = BinanceBookSync::kAwaitingSnapshot;
  RequestAction(FeedActionType::kFetchSnapshot, table_.all()[idx].id);
}

DecodeError BinanceDecoderImpl::FailDiff(size_t idx, const Msg& m, DecodeError e, const char* where,
                                         int64_t recv_ns, MdSink& sink) noexcept {
  Book& b = books_[idx];
  const bool have_u = m.Has(kSlotLastId);
  switch (b.sync) {
    case BinanceBookSync::kLive:
    case BinanceBookSync::kBridging:
      if (have_u && m.last_id <= b.last_id) break;  // an old diff: nothing lost
      ++stats_.lost_updates;
      Gap(idx, b.last_id + 1, m.Has(kSlotFirstId) ? m.first_id : 0, recv_ns, sink);
      break;
    case BinanceBookSync::kAwaitingSnapshot:
    case BinanceBookSync::kDisconnected:
      if (have_u && !b.diffs.empty() && m.last_id <= b.diffs.back().last_id) break;
      ++stats_.lost_updates;
      b.Clear();  // a hole in the buffered sequence
      break;
  }
  return Fail(e, where, idx);
}

DecodeError BinanceDecoderImpl::OnBookTicker(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  const char* where = "";
  DecodeError e = Require(m, {kSlotSymbol}, &where);
  if (e != DecodeError::kOk) return Fail(e, where);
  const FeedInstrument* in = FindSymbol(m.symbol);
  if (in == nullptr) {
    return Fail(DecodeError::kUnknownInstrument, "bookTicker: symbol not in the table");
  }
  const size_t idx = table_.IndexOf(in);
  Seen(idx, recv_ns);
  e = Require(m, {kSlotLastId, kSlotBidPx, kSlotBidQty, kSlotAskPx, kSlotAskQty}, &where);
  if (e != DecodeError::kOk) return Fail(e, where, idx);
  MdBbo bbo;
  if (ParseScaled(m.bid_px, in->price_scale, &bbo.bid_price) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "bookTicker: b (bid price) does not fit the scale", idx);
  }
  if (ParseScaled(m.bid_qty, in->size_scale, &bbo.bid_size) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "bookTicker: B (bid quantity) does not fit the scale",
                idx);
  }
  if (ParseScaled(m.ask_px, in->price_scale, &bbo.ask_price) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "bookTicker: a (ask price) does not fit the scale", idx);
  }
  if (ParseScaled(m.ask_qty, in->size_scale, &bbo.ask_size) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "bookTicker: A (ask quantity) does not fit the scale",
                idx);
  }
  MdEvent ev = MdEvent::Bbo(Venue::kBinance, in->id, bbo);
  ev.flags = kMdMessageEnd;
  ev.venue_seq = m.last_id;
  ev.times.recv_ns = recv_ns;
  ev.times.decoded_ns = Now();
  Emit(sink, ev);
  ++counters_.bbos;
  return DecodeError::kOk;
}

DecodeError BinanceDecoderImpl::OnTrade(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  const char* where = "";
  DecodeError e = Require(m, {kSlotSymbol}, &where);
  if (e != DecodeError::kOk) return Fail(e, where);
  const FeedInstrument* in = FindSymbol(m.symbol);
  if (in == nullptr) {
    return Fail(DecodeError::kUnknownInstrument, m.kind == Kind::kTrade
                                                     ? "trade: symbol not in the table"
                                                     : "aggTrade: symbol not in the table");
  }
  const size_t idx = table_.IndexOf(in);
  Seen(idx, recv_ns);
  const Slot id_slot = m.kind == Kind::kTrade ? kSlotTradeId : kSlotAggId;
  e = Require(m, {id_slot, kSlotPrice, kSlotQty, kSlotTradeTime, kSlotMaker}, &where);
  if (e != DecodeError::kOk) return Fail(e, where, idx);
  if (m.trade_time > kMaxMs) {
    return Fail(DecodeError::kBadValue, "trade: T (trade time) out of range", idx);
  }
  MdTrade t;
  if (ParseScaled(m.price, in->price_scale, &t.price) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "trade: p (price) does not fit the price scale", idx);
  }
  if (ParseScaled(m.qty, in->size_scale, &t.size) != DecimalError::kOk) {
    return Fail(DecodeError::kBadNumber, "trade: q (quantity) does not fit the size scale", idx);
  }
  t.trade_id = m.kind == Kind::kTrade ? m.trade_id : m.agg_id;
  // m: the buyer was the maker, so the seller was the aggressor.
  t.aggressor = m.maker ? Side::kSell : Side::kBuy;
  MdEvent ev = MdEvent::Trade(Venue::kBinance, in->id, t);
  ev.flags = kMdMessageEnd;
  ev.venue_seq = t.trade_id;
  ev.exchange_ns = static_cast<int64_t>(m.trade_time) * kNsPerMs;
  ev.times.recv_ns = recv_ns;
  ev.times.decoded_ns = Now();
  Emit(sink, ev);
  ++counters_.trades;
  ++icounters(idx).trades;
  return DecodeError::kOk;
}

// ---------------------------------------------------------------------------------------------
// REST snapshots

void BinanceDecoderImpl::EraseFront(Book& b, size_t n) noexcept {
  if (n == 0) return;
  if (n >= b.diffs.size()) {
    b.Clear();
    return;
  }
  const uint32_t off = b.diffs[n].offset;
  b.levels.erase(b.levels.begin(), b.levels.begin() + off);
  b.diffs.erase(b.diffs.begin(), b.diffs.begin() + static_cast<ptrdiff_t>(n));
  for (Buffered& d : b.diffs) d.offset -= off;
}

DecodeError BinanceDecoderImpl::SnapshotPass(od::document& doc, bool general,
                                             SnapshotFields* sf) noexcept {
  raw_bids_.clear();
  raw_asks_.clear();
  sf->where = "snapshot: malformed JSON";
  od::object obj;
  error_code e = doc.get_object().get(obj);
  if (e != simdjson::SUCCESS) {
    sf->where = "snapshot: not a JSON object";
    return FromSimdjson(e);
  }
  for (auto field : obj) {
    // By reference: copying a field (or value) costs a store-forwarding stall per copy.
    if ((e = field.error()) != simdjson::SUCCESS) return FromSimdjson(e);
    od::field& f = field.value_unsafe();
    const od::raw_json_string key = f.key();
    od::value& v = f.value();
    if (key.unsafe_is_equal("lastUpdateId")) {
      e = v.get_uint64().get(sf->last_update_id);
      if (e != simdjson::SUCCESS) {
        sf->where = "snapshot: lastUpdateId is not an unsigned integer";
        return IsNumberError(e) ? DecodeError::kBadNumber : FromSimdjson(e);
      }
      sf->has_id = true;
    } else if (key.unsafe_is_equal("bids") || key.unsafe_is_equal("asks")) {
      const bool bids = key.unsafe_is_equal("bids");
      std::vector<RawLevel>* out = bids ? &raw_bids_ : &raw_asks_;
      const char* where = bids ? "snapshot: bids is not [[price, qty], ..]"
                               : "snapshot: asks is not [[price, qty], ..]";
      if (!general) {
        od::array arr;
        std::string_view text;
        e = v.get_array().get(arr);
        if (e == simdjson::INCORRECT_TYPE) {
          sf->where = where;
          return DecodeError::kMissingField;
        }
        if (e != simdjson::SUCCESS || (e = arr.raw_json().get(text)) != simdjson::SUCCESS) {
          return FromSimdjson(e);
        }
        out->clear();
        const size_t other = bids ? raw_asks_.size() : raw_bids_.size();
        if (!ScanLevels(text, out, options_.max_levels_per_message - other)) {
          sf->need_general = true;
          return DecodeError::kOk;
        }
      } else {
        Msg m;
        const DecodeError d = ParseLevels(v, out, where, &m);
        if (d != DecodeError::kOk) {
          sf->where = m.where;
          return d;
        }
      }
      (bids ? sf->has_bids : sf->has_asks) = true;
    } else if (key.unsafe_is_equal("code") || key.unsafe_is_equal("msg")) {
      sf->venue_error = true;
    }
  }
  const char* rest;
  if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    sf->where = "snapshot: trailing content after the JSON object";
    return DecodeError::kMalformedJson;
  }
  sf->where = "";
  return DecodeError::kOk;
}

bool BinanceDecoderImpl::ReadSnapshotFast(const char* data, size_t size,
                                          SnapshotFields* sf) noexcept {
  using level_scan_internal::Expect;
  static constexpr std::string_view kPrefix = R"({"lastUpdateId":)";
  if (!options_.fast_snapshots || size > options_.max_message_bytes || size < kPrefix.size() ||
      std::memcmp(data, kPrefix.data(), kPrefix.size()) != 0) {
    return false;
  }
  // Printable ASCII only (one vectorized pass): then the body is valid UTF-8 and its strings hold
  // no control character, which simdjson's first stage checks for the general way; any other
  // body (a newline anywhere included) is for the general way to decide.
  if (!IsPrintableAscii(data, size)) return false;
  raw_bids_.clear();
  raw_asks_.clear();
  const char* const end = data + size;
  const char* p = data + kPrefix.size();
  const char* q = p;
  while (q < end && *q >= '0' && *q <= '9') ++q;
  // JSON has no leading zeros; a fraction or an exponent stops the digits and fails below.
  if ((q - p > 1 && *p == '0') ||
      !ParseU64(std::string_view(p, static_cast<size_t>(q - p)), &sf->last_update_id)) {
    return false;
  }
  sf->has_id = true;
  p = q;
  const size_t limit = options_.max_levels_per_message;
  for (;;) {
    if ((q = Expect(p, end, '}')) != nullptr) break;
    if ((p = Expect(p, end, ',')) == nullptr || (p = Expect(p, end, '"')) == nullptr ||
        static_cast<size_t>(end - p) < 5) {
      return false;
    }
    const bool bids = std::memcmp(p, "bids\"", 5) == 0;
    if (!bids && std::memcmp(p, "asks\"", 5) != 0) return false;
    bool& seen = bids ? sf->has_bids : sf->has_asks;
    if (seen) return false;  // a repeated member: decided in full
    seen = true;
    std::vector<RawLevel>* out = bids ? &raw_bids_ : &raw_asks_;
    if ((p = Expect(p + 5, end, ':')) == nullptr) return false;
    p = ScanStringPairs(p, end, [&](std::string_view price, std::string_view qty) {
      if (raw_bids_.size() + raw_asks_.size() >= limit) return false;
      out->push_back(RawLevel{price, qty});  // reserved: never allocates
      return true;
    });
    if (p == nullptr) return false;
  }
  while (q < end && level_scan_internal::IsJsonSpace(*q)) ++q;
  return q == end && sf->has_bids && sf->has_asks;
}

DecodeError BinanceDecoderImpl::OnSnapshot(InstrumentId instrument, const char* data, size_t size,
                                           int64_t recv_ns, MdSink& sink) noexcept {
  const FeedInstrument* in = table_.FindId(instrument);
  if (in == nullptr) {
    return Fail(DecodeError::kUnknownInstrument, "snapshot: instrument not in the table");
  }
  const size_t idx = table_.IndexOf(in);
  Book& b = books_[idx];
  if (b.sync != BinanceBookSync::kAwaitingSnapshot) {
    ++stats_.snapshots_ignored;
    return Fail(DecodeError::kSequence, "snapshot: the book is not waiting for one", idx);
  }
  // Until this one is used, the book still needs a snapshot.
  const auto fail = [&](DecodeError e, const char* where) {
    RequestAction(FeedActionType::kFetchSnapshot, instrument);
    return Fail(e, where, idx);
  };
  if (!parser_ok_) return fail(DecodeError::kTooLarge, "snapshot: parser not allocated");
  SnapshotFields sf;
  DecodeError pe = DecodeError::kOk;
  if (ReadSnapshotFast(data, size, &sf)) {
    ++stats_.fast_snapshots;
  } else {
    sf = SnapshotFields();
    od::document doc;
    const error_code e = parser_.iterate(data, size, size + kFeedPadding).get(doc);
    if (e != simdjson::SUCCESS) return fail(FromSimdjson(e), "snapshot: malformed JSON");
    pe = SnapshotPass(doc, /*general=*/false, &sf);
    if (sf.need_general) {
      doc.rewind();
      sf = SnapshotFields();
      pe = SnapshotPass(doc, /*general=*/true, &sf);
    }
  }
  if (pe != DecodeError::kOk) return fail(pe, sf.where);
  if (sf.venue_error && !sf.has_id) {
    RequestAction(FeedActionType::kFetchSnapshot, instrument);
    return Fail(DecodeError::kVenueError, "snapshot: error reply from Binance");
  }
  if (!sf.has_id) return fail(DecodeError::kMissingField, "snapshot: lastUpdateId missing");
  if (!sf.has_bids) return fail(DecodeError::kMissingField, "snapshot: bids missing");
  if (!sf.has_asks) return fail(DecodeError::kMissingField, "snapshot: asks missing");
  const uint64_t last_update_id = sf.last_update_id;

  // Binance's steps 4 and 5: drop what the snapshot already holds; the first diff kept must
  // bridge it, or the snapshot is older than the stream we have.
  size_t drop = 0;
  while (drop < b.diffs.size() && b.diffs[drop].last_id <= last_update_id) ++drop;
  if (!b.diffs.empty() && drop < b.diffs.size() && b.diffs[drop].first_id > last_update_id + 1) {
    counters_.dropped_before_snapshot += drop;
    EraseFront(b, drop);
    ++stats_.snapshots_too_old;
    RequestAction(FeedActionType::kFetchSnapshot, instrument);
    return NoteSequence("snapshot: too old (lastUpdateId + 1 < U of the first buffered diff)", idx);
  }
  // Stage the snapshot before touching the buffer, so that a bad number changes nothing.
  batcher_.Begin(Venue::kBinance, in->id, last_update_id, 0, recv_ns, true);
  const char* where = "";
  const DecodeError se = StageLevels(idx, &where);
  if (se != DecodeError::kOk) {
    batcher_.Abort();
    return fail(se, where);
  }
  counters_.dropped_before_snapshot += drop;
  EraseFront(b, drop);
  const int64_t now = Now();
  CommitBatch(sink, now);
  ++counters_.snapshots;
  ++counters_.level_messages;
  ++icounters(idx).updates;
  b.last_id = last_update_id;
  for (const Buffered& d : b.diffs) {
    batcher_.Begin(Venue::kBinance, in->id, d.last_id, d.exchange_ns, d.recv_ns, false);
    const PriceLevel* l = b.levels.data() + d.offset;
    for (uint32_t i = 0; i < d.num_bids; ++i) batcher_.Add(Side::kBuy, l[i]);
    for (uint32_t i = 0; i < d.num_asks; ++i) batcher_.Add(Side::kSell, l[d.num_bids + i]);
    CommitBatch(sink, now);
    ++counters_.level_messages;
    ++icounters(idx).updates;
    b.last_id = d.last_id;
  }
  b.sync = b.diffs.empty() ? BinanceBookSync::kBridging : BinanceBookSync::kLive;
  b.Clear();
  EmitStatus(sink, idx, MdStatus::kResynced, recv_ns);
  return DecodeError::kOk;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions

std::unique_ptr<FeedDecoder> MakeBinanceDecoder(SymbolTable table, BinanceDecoderOptions options) {
  return std::make_unique<BinanceDecoderImpl>(std::move(table), options);
}

std::string BinanceSnapshotTarget(std::string_view symbol, uint32_t limit) {
  std::string out = "/api/v3/depth?symbol=";
  out.append(symbol);
  out += "&limit=";
  out += std::to_string(limit);
  return out;
}

const char* BinanceBookSyncName(BinanceBookSync s) noexcept {
  switch (s) {
    case BinanceBookSync::kDisconnected:
      return "disconnected";
    case BinanceBookSync::kAwaitingSnapshot:
      return "awaiting snapshot";
    case BinanceBookSync::kBridging:
      return "bridging";
    case BinanceBookSync::kLive:
      return "live";
  }
  return "unknown";
}

const BinanceDecoderStats* GetBinanceDecoderStats(const FeedDecoder& decoder) noexcept {
  const auto* d = dynamic_cast<const BinanceDecoderImpl*>(&decoder);
  return d == nullptr ? nullptr : &d->stats();
}

BinanceBookSync GetBinanceBookSync(const FeedDecoder& decoder, InstrumentId instrument) noexcept {
  const auto* d = dynamic_cast<const BinanceDecoderImpl*>(&decoder);
  return d == nullptr ? BinanceBookSync::kDisconnected : d->sync(instrument);
}

}  // namespace nzeza
