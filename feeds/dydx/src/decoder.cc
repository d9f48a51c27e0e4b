// The dYdX v4 indexer decoder. See decoder.h for the protocol and the design decisions; this file
// says how.
//
// Parsing: simdjson on-demand, one pass over the root object. The indexer writes the envelope
// fields before `contents` (socks' helpers/message.ts: type, connection_id, message_id, id,
// channel, version, contents), so `contents` is normally parsed in the same pass, once type,
// channel and id are known. The order is not documented, so when `contents` comes first it is
// skipped and a second pass (document rewind) parses it. Every field is looked up by iterating
// the object, never with find_field (order-sensitive) or find_field_unordered (rescans).
// Strings (prices, sizes, tickers) are read raw, without unescaping: the bytes between the
// quotes, pointing into the caller's buffer. None of them legitimately holds an escape; one that
// does fails to parse as a number (kBadNumber) or to match a ticker (kUnknownInstrument).
//
// All or nothing: levels, trades and market records are staged while parsing; nothing reaches
// the sink (or the shadow books, or the market records) until the whole message has decoded and
// passed the sequence checks.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "nzeza/core/clock.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/text.h"
#include "nzeza/feeds/dydx/decoder.h"
#include "nzeza/feeds/dydx/subscribe.h"
#include "shadow_book.h"

namespace nzeza {

const char* DydxMarketStatusName(DydxMarketStatus s) noexcept {
  switch (s) {
    case DydxMarketStatus::kUnknown:
      return "UNKNOWN";
    case DydxMarketStatus::kActive:
      return "ACTIVE";
    case DydxMarketStatus::kPaused:
      return "PAUSED";
    case DydxMarketStatus::kCancelOnly:
      return "CANCEL_ONLY";
    case DydxMarketStatus::kPostOnly:
      return "POST_ONLY";
    case DydxMarketStatus::kInitializing:
      return "INITIALIZING";
    case DydxMarketStatus::kFinalSettlement:
      return "FINAL_SETTLEMENT";
  }
  return "UNKNOWN";
}

namespace {

namespace od = simdjson::ondemand;
using dydx_internal::ShadowLevel;
using dydx_internal::ShadowSide;

// Bits of a level's offset below the message id: the update's index inside a batch.
constexpr int kSubBits = 20;
constexpr uint32_t kMaxSub = (1u << kSubBits) - 1;

enum class MsgType : uint8_t {
  kNone,
  kConnected,
  kSubscribed,
  kUnsubscribed,
  kChannelData,
  kChannelBatchData,
  kError,
  kPong,
  kOther,
};

enum class Chan : uint8_t { kNone, kOrderbook, kTrades, kMarkets, kOther };

bool IsData(MsgType t) noexcept {
  return t == MsgType::kSubscribed || t == MsgType::kChannelData || t == MsgType::kChannelBatchData;
}

// A decode failure: the error and a static description of where.
struct Failure {
  DecodeError error = DecodeError::kOk;
  const char* where = "";
  bool failed() const noexcept { return error != DecodeError::kOk; }
};

constexpr Failure kOkay{};

Failure Fails(DecodeError e, const char* where) noexcept { return Failure{e, where}; }

// Maps a simdjson error to the decoder's: a value of the wrong JSON type is kMissingField (the
// field the message type requires is not there in the form it needs), a number out of range is
// kBadNumber, the parser's capacity is kTooLarge, anything else is malformed JSON.
DecodeError MapJsonError(simdjson::error_code e) noexcept {
  switch (e) {
    case simdjson::INCORRECT_TYPE:
    case simdjson::NO_SUCH_FIELD:
      return DecodeError::kMissingField;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return DecodeError::kBadNumber;
    case simdjson::CAPACITY:
      return DecodeError::kTooLarge;
    default:
      return DecodeError::kMalformedJson;
  }
}

Failure JsonFail(simdjson::error_code e, const char* where) noexcept {
  return Failure{MapJsonError(e), where};
}

// Equality with a literal: a length check and a fixed-size compare the compiler inlines
// (std::string_view's operator== goes through the out-of-line three-way compare).
template <size_t N>
inline bool Is(std::string_view s, const char (&lit)[N]) noexcept {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

// The message being decoded on this thread (set before iterating). On malformed input simdjson
// on-demand's raw_json_token() can return a view running past the message (found by fuzzing the
// Coinbase decoder, which uses the same technique); a token outside these bounds is refused.
thread_local const char* tls_message_begin = nullptr;
thread_local const char* tls_message_end = nullptr;

// The raw text of a JSON string value: the bytes between the quotes, escapes not processed, taken
// from the token's extent in simdjson's structural index (O(1), no scan, no copy). A value of any
// other JSON type is INCORRECT_TYPE.
simdjson::error_code RawText(od::value& v, std::string_view* out) noexcept {
  const std::string_view tok = v.raw_json_token();
  if (tok.data() < tls_message_begin ||
      tok.size() > static_cast<size_t>(tls_message_end - tok.data())) {
    return simdjson::TAPE_ERROR;  // malformed: reported like any other JSON error
  }
  // A string token is '"' ... '"', possibly followed by whitespace up to the next structural.
  size_t n = tok.size();
  while (n > 0 &&
         (tok[n - 1] == ' ' || tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == '\t')) {
    --n;
  }
  if (n < 2 || tok[0] != '"' || tok[n - 1] != '"') return simdjson::INCORRECT_TYPE;
  *out = std::string_view(tok.data() + 1, n - 2);
  return simdjson::SUCCESS;
}

// An unsigned integer written as a JSON number or as a decimal string ("clobPairId":"0").
Failure FlexibleU64(od::value& v, uint64_t* out, const char* where) noexcept {
  od::json_type t;
  if (auto e = v.type().get(t)) return JsonFail(e, where);
  if (t == od::json_type::string) {
    std::string_view s;
    if (auto e = RawText(v, &s)) return JsonFail(e, where);
    if (!ParseU64(s, out)) return Fails(DecodeError::kBadNumber, where);
    return kOkay;
  }
  if (auto e = v.get_uint64().get(*out)) return JsonFail(e, where);
  return kOkay;
}

Failure SmallInt(od::value& v, int32_t* out, const char* where) noexcept {
  int64_t x = 0;
  if (auto e = v.get_int64().get(x)) return JsonFail(e, where);
  if (x < -1000 || x > 1000) return Fails(DecodeError::kBadValue, where);
  *out = static_cast<int32_t>(x);
  return kOkay;
}

// A decimal at the smallest scale that holds it exactly ("0.00100" -> mantissa 1, scale 3).
DecimalError ParseMinScale(std::string_view s, Decimal* out) noexcept {
  int scale = 0;
  const size_t dot = s.find('.');
  if (s.find_first_of("eE") == std::string_view::npos) {
    if (dot != std::string_view::npos) {
      size_t e = s.size();
      while (e > dot + 1 && s[e - 1] == '0') --e;
      const size_t digits = e - dot - 1;
      if (digits > static_cast<size_t>(kMaxDecimalScale)) return DecimalError::kTooManyDecimals;
      scale = static_cast<int>(digits);
    }
  } else {
    for (scale = 0; scale <= kMaxDecimalScale; ++scale) {
      int64_t m = 0;
      const DecimalError e = ParseDecimal(s.data(), s.size(), scale, Signedness::kUnsigned, &m);
      if (e != DecimalError::kTooManyDecimals) break;
    }
    if (scale > kMaxDecimalScale) return DecimalError::kTooManyDecimals;
  }
  return Decimal::Parse(s, scale, Signedness::kUnsigned, out);
}

DydxMarketStatus StatusOf(std::string_view s) noexcept {
  if (Is(s, "ACTIVE")) return DydxMarketStatus::kActive;
  if (Is(s, "PAUSED")) return DydxMarketStatus::kPaused;
  if (Is(s, "CANCEL_ONLY")) return DydxMarketStatus::kCancelOnly;
  if (Is(s, "POST_ONLY")) return DydxMarketStatus::kPostOnly;
  if (Is(s, "INITIALIZING")) return DydxMarketStatus::kInitializing;
  if (Is(s, "FINAL_SETTLEMENT")) return DydxMarketStatus::kFinalSettlement;
  return DydxMarketStatus::kUnknown;
}

struct StagedLevel {
  int64_t price;
  int64_t size;
  uint32_t sub;  // index of the update inside a batch (0 otherwise)
};

struct RemedyLevel {
  Side side;
  int64_t price;
  int64_t size;
};

struct StagedTrade {
  MdTrade trade;
  int64_t exchange_ns;
};

// What the envelope of the current message said.
struct Msg {
  MsgType type = MsgType::kNone;
  Chan chan = Chan::kNone;
  bool has_id = false;
  size_t idx = static_cast<size_t>(-1);  // table index of `id`, kNoIndex when not in the table
  bool has_mid = false;
  uint64_t mid = 0;
  bool contents_seen = false;  // skipped in the first pass (came before type/channel/id)
  bool contents_done = false;
  uint32_t updates = 0;  // content objects parsed (a batch has several)
};

class DydxDecoderImpl final : public DydxDecoder {
 public:
  DydxDecoderImpl(SymbolTable table, DydxDecoderOptions options)
      : DydxDecoder(std::move(table)),
        opt_(Sanitize(options)),
        batcher_(size_t{opt_.max_levels} + 2 * size_t{opt_.shadow_depth} + 2) {
    parser_ok_ = parser_.allocate(opt_.max_message_bytes) == simdjson::SUCCESS;
    const size_t n = table_.size();
    sbids_.reserve(opt_.max_levels);
    sasks_.reserve(opt_.max_levels);
    remedy_.reserve(4 * size_t{opt_.shadow_depth} + 4);
    trades_.reserve(opt_.max_trades);
    books_.resize(n);
    if (opt_.uncross != DydxUncross::kOff) {
      shadow_bids_.reserve(n);
      shadow_asks_.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        shadow_bids_.emplace_back(opt_.shadow_depth);
        shadow_asks_.emplace_back(opt_.shadow_depth);
      }
    }
    markets_.resize(n);
    for (size_t i = 0; i < n; ++i) markets_[i].instrument = table_.all()[i].id;
    scratch_.resize(n);
    touched_flag_.assign(n, 0);
    touched_.reserve(n);
  }

  Venue venue() const noexcept override { return Venue::kDydx; }

  std::vector<std::string> SubscribeFrames() const override {
    std::vector<std::string> f;
    if (opt_.subscribe_markets) f.push_back(DydxSubscribeFrame(DydxChannel::kMarkets));
    for (const FeedInstrument& in : table_.all()) {
      f.push_back(DydxSubscribeFrame(DydxChannel::kOrderbook, in.symbol, opt_.batched));
      if (opt_.subscribe_trades) {
        f.push_back(DydxSubscribeFrame(DydxChannel::kTrades, in.symbol, opt_.batched));
      }
    }
    return f;
  }

  std::vector<std::string> ResubscribeFrames(InstrumentId instrument) const override {
    const FeedInstrument* in = table_.FindId(instrument);
    if (in == nullptr) return {};
    return {DydxUnsubscribeFrame(DydxChannel::kOrderbook, in->symbol),
            DydxSubscribeFrame(DydxChannel::kOrderbook, in->symbol, opt_.batched)};
  }

  void OnOpen(int64_t now_ns, MdSink& sink) noexcept override {
    (void)now_ns;
    (void)sink;
    have_mid_ = false;
    last_mid_ = 0;
    for (size_t i = 0; i < books_.size(); ++i) {
      books_[i].live = false;
      books_[i].has_snapshot = false;
      ClearShadow(i);
    }
  }

  void OnClose(int64_t now_ns, MdSink& sink) noexcept override {
    EmitStatusAll(sink, MdStatus::kDisconnected, now_ns);
    for (size_t i = 0; i < books_.size(); ++i) {
      books_[i].resync_pending = true;
      books_[i].live = false;
    }
  }

  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns,
                        MdSink& sink) noexcept override;

  const DydxMarketParams* market_params(std::string_view ticker) const noexcept override {
    const FeedInstrument* in = table_.Find(ticker);
    if (in == nullptr) return nullptr;
    const DydxMarketParams& m = markets_[table_.IndexOf(in)];
    return m.fields == 0 ? nullptr : &m;
  }
  const DydxMarketParams* market_params(InstrumentId instrument) const noexcept override {
    const FeedInstrument* in = table_.FindId(instrument);
    if (in == nullptr) return nullptr;
    const DydxMarketParams& m = markets_[table_.IndexOf(in)];
    return m.fields == 0 ? nullptr : &m;
  }
  const DydxCounters& dydx_counters() const noexcept override { return dc_; }
  const DydxDecoderOptions& options() const noexcept override { return opt_; }

 private:
  struct BookState {
    bool live = false;            // snapshot applied on this connection; updates flow
    bool resync_pending = false;  // after a gap or disconnect: kResynced follows the snapshot
    bool has_snapshot = false;
    uint64_t snapshot_mid = 0;
    uint64_t last_mid = 0;
  };

  static DydxDecoderOptions Sanitize(DydxDecoderOptions o) noexcept {
    o.max_levels = std::max<uint32_t>(o.max_levels, 1);
    o.shadow_depth = std::clamp<uint32_t>(o.shadow_depth, 1, 1u << 16);
    o.max_trades = std::max<uint32_t>(o.max_trades, 1);
    o.max_message_bytes = std::max<size_t>(o.max_message_bytes, 1024);
    return o;
  }

  int64_t Now() const noexcept {
    return opt_.clock != nullptr ? opt_.clock->NowNanos() : MonotonicNanos();
  }

  bool shadowing() const noexcept { return opt_.uncross != DydxUncross::kOff; }

  void ClearShadow(size_t i) noexcept {
    if (!shadowing()) return;
    shadow_bids_[i].Clear();
    shadow_asks_[i].Clear();
  }

  // ---- Parsing (stages; never emits) ----
  Failure Parse(const char* data, size_t size, Msg* m) noexcept;
  [[gnu::always_inline]] inline Failure Field(od::raw_json_string key, od::value& v, Msg* m,
                                              bool second_pass) noexcept;
  bool ReadyForContents(const Msg& m) const noexcept;
  Failure Contents(od::value& v, Msg* m) noexcept;
  Failure BookContent(od::value& v, Msg* m) noexcept;
  Failure Levels(od::value& v, Side side, uint32_t sub, const FeedInstrument& in) noexcept;
  Failure Trades(od::value& v, const Msg& m) noexcept;
  Failure MarketsContent(od::value& v, const Msg& m) noexcept;
  Failure MarketMap(od::value& v, bool full) noexcept;
  Failure MarketFields(od::object& o, DydxMarketParams* rec) noexcept;
  DydxMarketParams& Touch(size_t idx) noexcept;
  void ResetStaging() noexcept;

  // ---- Applying ----
  DecodeError Dispatch(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  DecodeError HandleFailure(const Failure& f, const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  void GapBook(size_t idx, uint64_t mid, int64_t recv_ns, MdSink& sink) noexcept;
  DecodeError ApplySnapshot(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  DecodeError ApplyUpdate(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  void Uncross(size_t idx) noexcept;
  void CommitLevels(const Msg& m, bool snapshot, int64_t recv_ns, MdSink& sink) noexcept;
  void EmitTrades(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept;
  void CommitMarkets(const Msg& m) noexcept;

  DydxDecoderOptions opt_;
  od::parser parser_;
  bool parser_ok_ = false;
  LevelBatcher batcher_;
  const char* end_ = nullptr;  // end of the current message (bounds the market-key scan)

  // Staging of the current message.
  std::vector<StagedLevel> sbids_;
  std::vector<StagedLevel> sasks_;
  std::vector<RemedyLevel> remedy_;
  std::vector<StagedTrade> trades_;
  std::vector<uint32_t> touched_;      // table indices of market records in scratch_
  std::vector<uint8_t> touched_flag_;  // by table index
  uint64_t markets_ignored_ = 0;       // this message's records for tickers not in the table

  // Per table index.
  std::vector<BookState> books_;
  std::vector<ShadowSide<Side::kBuy>> shadow_bids_;
  std::vector<ShadowSide<Side::kSell>> shadow_asks_;
  std::vector<DydxMarketParams> markets_;
  std::vector<DydxMarketParams> scratch_;

  // Per connection.
  bool have_mid_ = false;
  uint64_t last_mid_ = 0;
  // The last id looked up, to skip the hash for a run of one market's messages.
  size_t last_idx_ = static_cast<size_t>(-1);

  DydxCounters dc_;
};

// ---------------------------------------------------------------------------------------------
// Parsing

void DydxDecoderImpl::ResetStaging() noexcept {
  sbids_.clear();
  sasks_.clear();
  remedy_.clear();
  trades_.clear();
  for (const uint32_t i : touched_) touched_flag_[i] = 0;
  touched_.clear();
  markets_ignored_ = 0;
}

Failure DydxDecoderImpl::Parse(const char* data, size_t size, Msg* m) noexcept {
  ResetStaging();
  end_ = data + size;
  if (size > opt_.max_message_bytes || !parser_ok_) {
    return Fails(DecodeError::kTooLarge, "message larger than max_message_bytes (or no parser)");
  }
  od::document doc;
  tls_message_begin = data;
  tls_message_end = data + size;
  if (auto e = parser_.iterate(data, size, size + kFeedPadding).get(doc)) {
    return JsonFail(e, "not JSON");
  }
  for (int pass = 0; pass < 2; ++pass) {
    od::object root;
    if (doc.get_object().get(root) != simdjson::SUCCESS) {
      return Fails(DecodeError::kMalformedJson, "not a JSON object, or truncated");
    }
    for (auto fr : root) {
      if (auto e = fr.error()) return JsonFail(e, "malformed or truncated object");
      // A reference into the iterator's result, not a copy: GCC 12 builds the result with
      // narrow stores and copies it with one 16-byte load, a store-forwarding stall that cost
      // ~10% of a depth update (perf annotate).
      od::field& f = fr.value_unsafe();
      const Failure r = Field(f.key(), f.value(), m, pass == 1);
      if (r.failed()) return r;
    }
    const char* at = nullptr;
    if (doc.current_location().get(at) == simdjson::SUCCESS) {
      return Fails(DecodeError::kMalformedJson, "content after the JSON object");
    }
    if (pass == 1 || !m->contents_seen || m->contents_done || !ReadyForContents(*m)) break;
    // `contents` came before the envelope fields that say how to read it: read it again.
    doc.rewind();
  }
  return kOkay;
}

bool DydxDecoderImpl::ReadyForContents(const Msg& m) const noexcept {
  if (!IsData(m.type)) return false;
  switch (m.chan) {
    case Chan::kMarkets:
      return true;
    case Chan::kOrderbook:
    case Chan::kTrades:
      return m.has_id && m.idx != kNoIndex;
    default:
      return false;
  }
}

Failure DydxDecoderImpl::Field(od::raw_json_string key, od::value& v, Msg* m,
                               bool second_pass) noexcept {
  // Dispatch on the key's first byte, then compare the whole key (the keys nobody reads,
  // connection_id and version, cost a byte compare or two).
  const char k0 = *key.raw();
  if (k0 == 'c' && key == "contents") {
    if (second_pass || ReadyForContents(*m)) {
      if (m->contents_done) return Fails(DecodeError::kMalformedJson, "contents given twice");
      const Failure r = Contents(v, m);
      if (r.failed()) return r;
      m->contents_done = true;
    } else {
      m->contents_seen = true;
    }
    return kOkay;
  }
  if (second_pass) return kOkay;  // the envelope was read in the first pass
  if (k0 == 't' && key == "type") {
    std::string_view t;
    if (auto e = RawText(v, &t)) return JsonFail(e, "type");
    if (Is(t, "channel_data")) {
      m->type = MsgType::kChannelData;
    } else if (Is(t, "channel_batch_data")) {
      m->type = MsgType::kChannelBatchData;
    } else if (Is(t, "subscribed")) {
      m->type = MsgType::kSubscribed;
    } else if (Is(t, "connected")) {
      m->type = MsgType::kConnected;
    } else if (Is(t, "unsubscribed")) {
      m->type = MsgType::kUnsubscribed;
    } else if (Is(t, "error")) {
      m->type = MsgType::kError;
    } else if (Is(t, "pong")) {
      m->type = MsgType::kPong;
    } else {
      m->type = MsgType::kOther;
    }
  } else if (k0 == 'c' && key == "channel") {
    std::string_view c;
    if (auto e = RawText(v, &c)) return JsonFail(e, "channel");
    if (Is(c, "v4_orderbook")) {
      m->chan = Chan::kOrderbook;
    } else if (Is(c, "v4_trades")) {
      m->chan = Chan::kTrades;
    } else if (Is(c, "v4_markets")) {
      m->chan = Chan::kMarkets;
    } else {
      m->chan = Chan::kOther;
    }
  } else if (k0 == 'i' && key == "id") {
    // Tickers are strings; v4_markets may carry a non-ticker id, which is ignored.
    std::string_view id;
    if (auto e = RawText(v, &id)) {
      if (e == simdjson::INCORRECT_TYPE) return kOkay;
      return JsonFail(e, "id");
    }
    m->has_id = true;
    if (last_idx_ < table_.size() && table_.all()[last_idx_].symbol.size() == id.size() &&
        std::memcmp(table_.all()[last_idx_].symbol.data(), id.data(), id.size()) == 0) {
      m->idx = last_idx_;
    } else if (const FeedInstrument* in = table_.Find(id)) {
      m->idx = table_.IndexOf(in);
      last_idx_ = m->idx;
    } else {
      m->idx = kNoIndex;
    }
  } else if (k0 == 'm' && key == "message_id") {
    if (auto e = v.get_uint64().get(m->mid)) {
      // A number that is not a uint64 (negative, fractional, too large) is a bad number; any
      // other JSON type is a missing field.
      od::json_type t;
      if (v.type().get(t) == simdjson::SUCCESS && t == od::json_type::number) {
        return Fails(DecodeError::kBadNumber, "message_id");
      }
      return JsonFail(e, "message_id");
    }
    m->has_mid = true;
  }
  return kOkay;
}

Failure DydxDecoderImpl::Contents(od::value& v, Msg* m) noexcept {
  switch (m->chan) {
    case Chan::kOrderbook:
      if (m->type == MsgType::kChannelBatchData) {
        od::array arr;
        if (auto e = v.get_array().get(arr)) {
          return JsonFail(e, "v4_orderbook channel_batch_data: contents is not an array");
        }
        for (auto er : arr) {
          if (auto e = er.error()) return JsonFail(e, "v4_orderbook batch item");
          od::value& item = er.value_unsafe();
          const Failure r = BookContent(item, m);
          if (r.failed()) return r;
        }
        return kOkay;
      }
      return BookContent(v, m);
    case Chan::kTrades:
      if (m->type == MsgType::kChannelBatchData) {
        od::array arr;
        if (auto e = v.get_array().get(arr)) {
          return JsonFail(e, "v4_trades channel_batch_data: contents is not an array");
        }
        for (auto er : arr) {
          if (auto e = er.error()) return JsonFail(e, "v4_trades batch item");
          od::value& item = er.value_unsafe();
          const Failure r = Trades(item, *m);
          if (r.failed()) return r;
          ++m->updates;
        }
        return kOkay;
      }
      ++m->updates;
      return Trades(v, *m);
    case Chan::kMarkets:
      if (m->type == MsgType::kChannelBatchData) {
        od::array arr;
        if (auto e = v.get_array().get(arr)) {
          return JsonFail(e, "v4_markets channel_batch_data: contents is not an array");
        }
        for (auto er : arr) {
          if (auto e = er.error()) return JsonFail(e, "v4_markets batch item");
          od::value& item = er.value_unsafe();
          const Failure r = MarketsContent(item, *m);
          if (r.failed()) return r;
          ++m->updates;
        }
        return kOkay;
      }
      ++m->updates;
      return MarketsContent(v, *m);
    default:
      return kOkay;
  }
}

// One orderbook content object: {"bids":[...], "asks":[...]} (either may be absent).
Failure DydxDecoderImpl::BookContent(od::value& v, Msg* m) noexcept {
  if (m->updates > kMaxSub) return Fails(DecodeError::kTooLarge, "v4_orderbook: batch too long");
  const uint32_t sub = m->updates++;
  const FeedInstrument& in = table_.all()[m->idx];
  od::object o;
  if (auto e = v.get_object().get(o)) return JsonFail(e, "v4_orderbook: contents is not an object");
  for (auto fr : o) {
    if (auto e = fr.error()) return JsonFail(e, "v4_orderbook contents");
    od::field& f = fr.value_unsafe();
    const od::raw_json_string key = f.key();
    if (key == "bids") {
      const Failure r = Levels(f.value(), Side::kBuy, sub, in);
      if (r.failed()) return r;
    } else if (key == "asks") {
      const Failure r = Levels(f.value(), Side::kSell, sub, in);
      if (r.failed()) return r;
    }
  }
  return kOkay;
}

// A side's levels: [{"price":"p","size":"s"}, ...] (subscribed) or [["p","s"], ...]
// (channel_data). Either form is accepted in either message; an array level may carry more than
// two elements (the extra ones are ignored).
Failure DydxDecoderImpl::Levels(od::value& v, Side side, uint32_t sub,
                                const FeedInstrument& in) noexcept {
  std::vector<StagedLevel>& out = side == Side::kBuy ? sbids_ : sasks_;
  od::array arr;
  if (auto e = v.get_array().get(arr)) {
    return JsonFail(e, "v4_orderbook: bids/asks is not an array");
  }
  for (auto er : arr) {
    if (auto e = er.error()) return JsonFail(e, "v4_orderbook level");
    od::value& lv = er.value_unsafe();
    std::string_view px;
    std::string_view sz;
    bool have_px = false;
    bool have_sz = false;
    od::json_type t;
    if (auto e = lv.type().get(t)) return JsonFail(e, "v4_orderbook level");
    if (t == od::json_type::array) {
      od::array la;
      if (auto e = lv.get_array().get(la)) return JsonFail(e, "v4_orderbook level");
      int n = 0;
      for (auto xr : la) {
        if (auto e = xr.error()) return JsonFail(e, "v4_orderbook level");
        od::value& x = xr.value_unsafe();
        if (n == 0) {
          if (auto e = RawText(x, &px)) return JsonFail(e, "v4_orderbook level price");
          have_px = true;
        } else if (n == 1) {
          if (auto e = RawText(x, &sz)) return JsonFail(e, "v4_orderbook level size");
          have_sz = true;
        }
        ++n;
      }
    } else if (t == od::json_type::object) {
      od::object lo;
      if (auto e = lv.get_object().get(lo)) return JsonFail(e, "v4_orderbook level");
      for (auto fr : lo) {
        if (auto e = fr.error()) return JsonFail(e, "v4_orderbook level");
        od::field& f = fr.value_unsafe();
        const od::raw_json_string key = f.key();
        if (key == "price") {
          if (auto e = RawText(f.value(), &px)) {
            return JsonFail(e, "v4_orderbook level price");
          }
          have_px = true;
        } else if (key == "size") {
          if (auto e = RawText(f.value(), &sz)) return JsonFail(e, "v4_orderbook level size");
          have_sz = true;
        }
      }
    } else {
      return Fails(DecodeError::kMissingField, "v4_orderbook level is neither array nor object");
    }
    if (!have_px) return Fails(DecodeError::kMissingField, "v4_orderbook level price");
    if (!have_sz) return Fails(DecodeError::kMissingField, "v4_orderbook level size");
    StagedLevel l{0, 0, sub};
    if (ParseScaled(px, in.price_scale, &l.price) != DecimalError::kOk) {
      return Fails(DecodeError::kBadNumber, "v4_orderbook level price");
    }
    if (ParseScaled(sz, in.size_scale, &l.size) != DecimalError::kOk) {
      return Fails(DecodeError::kBadNumber, "v4_orderbook level size");
    }
    if (l.price <= 0) return Fails(DecodeError::kBadValue, "v4_orderbook level price is zero");
    if (out.size() >= opt_.max_levels) {
      return Fails(DecodeError::kTooLarge, "v4_orderbook: more levels than max_levels");
    }
    out.push_back(l);
  }
  return kOkay;
}

// {"trades":[{"id","side","size","price","createdAt","type"...}, ...]}
Failure DydxDecoderImpl::Trades(od::value& v, const Msg& m) noexcept {
  const FeedInstrument& in = table_.all()[m.idx];
  od::object o;
  if (auto e = v.get_object().get(o)) return JsonFail(e, "v4_trades: contents is not an object");
  bool have_trades = false;
  for (auto fr : o) {
    if (auto e = fr.error()) return JsonFail(e, "v4_trades contents");
    od::field& f = fr.value_unsafe();
    if (!(f.key() == "trades")) continue;
    have_trades = true;
    od::array arr;
    if (auto e = f.value().get_array().get(arr)) return JsonFail(e, "v4_trades: trades");
    for (auto tr : arr) {
      od::object to;
      if (auto e = std::move(tr).get_object().get(to)) return JsonFail(e, "v4_trades: trade");
      std::string_view id, side, size, price, created;
      bool have_side = false, have_size = false, have_price = false;
      bool have_id = false, have_created = false;
      for (auto tf : to) {
        if (auto e = tf.error()) return JsonFail(e, "v4_trades: trade");
        od::field& g = tf.value_unsafe();
        const od::raw_json_string key = g.key();
        if (key == "price") {
          if (auto e = RawText(g.value(), &price)) return JsonFail(e, "v4_trades: price");
          have_price = true;
        } else if (key == "size") {
          if (auto e = RawText(g.value(), &size)) return JsonFail(e, "v4_trades: size");
          have_size = true;
        } else if (key == "side") {
          if (auto e = RawText(g.value(), &side)) return JsonFail(e, "v4_trades: side");
          have_side = true;
        } else if (key == "id") {
          if (auto e = RawText(g.value(), &id)) return JsonFail(e, "v4_trades: id");
          have_id = true;
        } else if (key == "createdAt") {
          if (auto e = RawText(g.value(), &created)) {
            return JsonFail(e, "v4_trades: createdAt");
          }
          have_created = true;
        }
      }
      if (!have_price) return Fails(DecodeError::kMissingField, "v4_trades: price");
      if (!have_size) return Fails(DecodeError::kMissingField, "v4_trades: size");
      if (!have_side) return Fails(DecodeError::kMissingField, "v4_trades: side");
      StagedTrade st{};
      if (ParseScaled(price, in.price_scale, &st.trade.price) != DecimalError::kOk) {
        return Fails(DecodeError::kBadNumber, "v4_trades: price");
      }
      if (ParseScaled(size, in.size_scale, &st.trade.size) != DecimalError::kOk) {
        return Fails(DecodeError::kBadNumber, "v4_trades: size");
      }
      // The indexer's trade is the taker's fill (ender: generateTradeKafkaEventFromTakerOrderFill
      // is called for Liquidity.TAKER only), so `side` is the aggressor's side.
      if (Is(side, "BUY")) {
        st.trade.aggressor = Side::kBuy;
      } else if (Is(side, "SELL")) {
        st.trade.aggressor = Side::kSell;
      } else {
        return Fails(DecodeError::kBadValue, "v4_trades: side is not BUY or SELL");
      }
      // The id is the taker fill's eventId in hex (24 digits, wider than 64 bits): hashed.
      st.trade.trade_id = have_id ? Fnv1a64(id) : 0;
      st.exchange_ns = 0;
      if (have_created && !ParseIso8601Nanos(created, &st.exchange_ns)) {
        return Fails(DecodeError::kBadValue, "v4_trades: createdAt");
      }
      if (trades_.size() >= opt_.max_trades) {
        return Fails(DecodeError::kTooLarge, "v4_trades: more trades than max_trades");
      }
      trades_.push_back(st);
    }
  }
  if (!have_trades) return Fails(DecodeError::kMissingField, "v4_trades: trades");
  return kOkay;
}

DydxMarketParams& DydxDecoderImpl::Touch(size_t idx) noexcept {
  if (!touched_flag_[idx]) {
    touched_flag_[idx] = 1;
    touched_.push_back(static_cast<uint32_t>(idx));
    scratch_[idx] = markets_[idx];
  }
  return scratch_[idx];
}

// subscribed: {"markets":{TICKER:{...}}}; channel_data: {"trading":{TICKER:{...}},
// "oraclePrices":{TICKER:{...}}}.
Failure DydxDecoderImpl::MarketsContent(od::value& v, const Msg& m) noexcept {
  od::object o;
  if (auto e = v.get_object().get(o)) return JsonFail(e, "v4_markets: contents is not an object");
  bool have_markets = false;
  for (auto fr : o) {
    if (auto e = fr.error()) return JsonFail(e, "v4_markets contents");
    od::field& f = fr.value_unsafe();
    const od::raw_json_string key = f.key();
    if (key == "markets") {
      have_markets = true;
      const Failure r = MarketMap(f.value(), m.type == MsgType::kSubscribed);
      if (r.failed()) return r;
    } else if (key == "trading" || key == "oraclePrices") {
      const Failure r = MarketMap(f.value(), false);
      if (r.failed()) return r;
    }
  }
  if (m.type == MsgType::kSubscribed && !have_markets) {
    return Fails(DecodeError::kMissingField, "v4_markets subscribed: markets");
  }
  return kOkay;
}

Failure DydxDecoderImpl::MarketMap(od::value& v, bool full) noexcept {
  od::object o;
  if (auto e = v.get_object().get(o)) return JsonFail(e, "v4_markets: market map");
  for (auto fr : o) {
    if (auto e = fr.error()) return JsonFail(e, "v4_markets: market map");
    od::field& f = fr.value_unsafe();
    // The key is the ticker.
    const char* p = f.key().raw();
    const char* q = p;
    while (q < end_ && *q != '"') ++q;
    const FeedInstrument* in = table_.Find(std::string_view(p, static_cast<size_t>(q - p)));
    if (in == nullptr) {
      ++markets_ignored_;
      continue;  // the value is skipped by the iteration
    }
    od::object mo;
    if (auto e = f.value().get_object().get(mo)) return JsonFail(e, "v4_markets: market");
    DydxMarketParams& rec = Touch(table_.IndexOf(in));
    const Failure r = MarketFields(mo, &rec);
    if (r.failed()) return r;
    if (full && !rec.complete()) {
      return Fails(DecodeError::kMissingField, "v4_markets subscribed: a market lacks a parameter");
    }
  }
  return kOkay;
}

Failure DydxDecoderImpl::MarketFields(od::object& o, DydxMarketParams* rec) noexcept {
  for (auto fr : o) {
    if (auto e = fr.error()) return JsonFail(e, "v4_markets: market");
    od::field& f = fr.value_unsafe();
    const od::raw_json_string key = f.key();
    od::value v = f.value();
    if (key == "clobPairId") {
      uint64_t x = 0;
      const Failure r = FlexibleU64(v, &x, "v4_markets: clobPairId");
      if (r.failed()) return r;
      if (x > UINT32_MAX) return Fails(DecodeError::kBadValue, "v4_markets: clobPairId");
      rec->clob_pair_id = static_cast<uint32_t>(x);
      rec->fields |= DydxMarketParams::kClobPairId;
    } else if (key == "status") {
      std::string_view s;
      if (auto e = RawText(v, &s)) return JsonFail(e, "v4_markets: status");
      rec->status = StatusOf(s);
      rec->fields |= DydxMarketParams::kStatus;
    } else if (key == "tickSize" || key == "stepSize") {
      const bool tick = key == "tickSize";
      std::string_view s;
      if (auto e = RawText(v, &s)) return JsonFail(e, "v4_markets: tickSize/stepSize");
      Decimal d;
      if (ParseMinScale(s, &d) != DecimalError::kOk) {
        return Fails(DecodeError::kBadNumber, "v4_markets: tickSize/stepSize");
      }
      if (d.mantissa() <= 0) return Fails(DecodeError::kBadValue, "v4_markets: tickSize/stepSize");
      if (tick) {
        rec->tick_size = d;
        rec->fields |= DydxMarketParams::kTickSize;
      } else {
        rec->step_size = d;
        rec->fields |= DydxMarketParams::kStepSize;
      }
    } else if (key == "atomicResolution") {
      const Failure r = SmallInt(v, &rec->atomic_resolution, "v4_markets: atomicResolution");
      if (r.failed()) return r;
      rec->fields |= DydxMarketParams::kAtomicResolution;
    } else if (key == "quantumConversionExponent") {
      const Failure r =
          SmallInt(v, &rec->quantum_conversion_exponent, "v4_markets: quantumConversionExponent");
      if (r.failed()) return r;
      rec->fields |= DydxMarketParams::kQuantumConversionExponent;
    } else if (key == "stepBaseQuantums") {
      const Failure r = FlexibleU64(v, &rec->step_base_quantums, "v4_markets: stepBaseQuantums");
      if (r.failed()) return r;
      rec->fields |= DydxMarketParams::kStepBaseQuantums;
    } else if (key == "subticksPerTick") {
      const Failure r = FlexibleU64(v, &rec->subticks_per_tick, "v4_markets: subticksPerTick");
      if (r.failed()) return r;
      rec->fields |= DydxMarketParams::kSubticksPerTick;
    } else if (key == "oraclePrice" || key == "price") {
      // "oraclePrice" in market records and in the oraclePrices updates the indexer sends; the
      // docs' OraclePriceMarket interface names it "price".
      std::string_view s;
      if (auto e = RawText(v, &s)) return JsonFail(e, "v4_markets: oraclePrice");
      Decimal d;
      if (ParseMinScale(s, &d) != DecimalError::kOk) {
        return Fails(DecodeError::kBadNumber, "v4_markets: oraclePrice");
      }
      rec->oracle_price = d;
      rec->fields |= DydxMarketParams::kOraclePrice;
    } else if (key == "effectiveAt") {
      std::string_view s;
      if (auto e = RawText(v, &s)) return JsonFail(e, "v4_markets: effectiveAt");
      if (!ParseIso8601Nanos(s, &rec->oracle_effective_ns)) {
        return Fails(DecodeError::kBadValue, "v4_markets: effectiveAt");
      }
    }
  }
  return kOkay;
}

// ---------------------------------------------------------------------------------------------
// Applying

DecodeError DydxDecoderImpl::OnMessage(const char* data, size_t size, int64_t recv_ns,
                                       MdSink& sink) noexcept {
  ++counters_.messages;
  Msg m;
  const Failure f = Parse(data, size, &m);
  if (f.failed()) return HandleFailure(f, m, recv_ns, sink);
  return Dispatch(m, recv_ns, sink);
}

// A failed message. When it may have been an update of a live book (an orderbook message, or one
// whose channel or id is not known yet), that book's state is now unknowable: kGap + resubscribe.
DecodeError DydxDecoderImpl::HandleFailure(const Failure& f, const Msg& m, int64_t recv_ns,
                                           MdSink& sink) noexcept {
  const bool book_related = (m.type == MsgType::kNone || IsData(m.type)) &&
                            (m.chan == Chan::kNone || m.chan == Chan::kOrderbook);
  if (book_related) {
    if (m.has_id) {
      if (m.idx != kNoIndex) GapBook(m.idx, m.mid, recv_ns, sink);
    } else {
      ++dc_.unattributed_failures;
      for (size_t i = 0; i < books_.size(); ++i) GapBook(i, m.mid, recv_ns, sink);
    }
  }
  return Fail(f.error, f.where, m.has_id ? m.idx : kNoIndex);
}

void DydxDecoderImpl::GapBook(size_t idx, uint64_t mid, int64_t recv_ns, MdSink& sink) noexcept {
  BookState& b = books_[idx];
  if (!b.live) return;  // already waiting for a snapshot (or never had one)
  b.live = false;
  b.resync_pending = true;
  // No per-channel sequence exists: expected_seq stays 0, received_seq is the failed message's id
  // (0 when unknown).
  EmitStatus(sink, idx, MdStatus::kGap, recv_ns, 0, mid);
  RequestAction(FeedActionType::kResubscribe, table_.all()[idx].id);
}

DecodeError DydxDecoderImpl::Dispatch(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  switch (m.type) {
    case MsgType::kNone:
      return HandleFailure(Fails(DecodeError::kMissingField, "type"), m, recv_ns, sink);
    case MsgType::kConnected:
      ++dc_.connected;
      have_mid_ = true;
      last_mid_ = m.mid;
      return DecodeError::kOk;
    case MsgType::kPong:
      return DecodeError::kOk;
    case MsgType::kError:
      return Fail(DecodeError::kVenueError, "error message from the indexer");
    case MsgType::kOther:
      return Fail(DecodeError::kUnknownType, "unknown message type");
    default:
      break;
  }
  // subscribed, unsubscribed, channel_data, channel_batch_data.
  if (m.chan == Chan::kNone) {
    return HandleFailure(Fails(DecodeError::kMissingField, "channel"), m, recv_ns, sink);
  }
  if (m.chan == Chan::kOther) return Fail(DecodeError::kUnknownType, "unknown channel");
  if (m.chan != Chan::kMarkets) {
    if (!m.has_id) return HandleFailure(Fails(DecodeError::kMissingField, "id"), m, recv_ns, sink);
    if (m.idx == kNoIndex) return Fail(DecodeError::kUnknownInstrument, "id not in the table");
  }
  if (!m.has_mid) {
    return HandleFailure(Fails(DecodeError::kMissingField, "message_id"), m, recv_ns, sink);
  }
  if (IsData(m.type) && !m.contents_done) {
    return HandleFailure(Fails(DecodeError::kMissingField, "contents"), m, recv_ns, sink);
  }
  const size_t idx = m.chan == Chan::kMarkets ? kNoIndex : m.idx;
  if (m.type == MsgType::kSubscribed) {
    // Its id was reserved when the subscribe request arrived, before data messages that may
    // already be here: exempt from the connection-wide order (see decoder.h).
    if (!have_mid_ || m.mid > last_mid_) {
      have_mid_ = true;
      last_mid_ = m.mid;
    }
  } else {
    if (have_mid_ && m.mid <= last_mid_) {
      return Fail(DecodeError::kSequence, "message_id not above the last (duplicate or old)", idx);
    }
    if (have_mid_ && m.mid != last_mid_ + 1) ++dc_.message_id_holes;
    have_mid_ = true;
    last_mid_ = m.mid;
  }

  if (m.type == MsgType::kUnsubscribed) {
    ++dc_.unsubscribed;
    // Updates stop: a live book would silently go stale.
    if (m.chan == Chan::kOrderbook) GapBook(m.idx, m.mid, recv_ns, sink);
    return DecodeError::kOk;
  }
  if (m.type == MsgType::kChannelBatchData) {
    ++dc_.batches;
    dc_.batch_updates += m.updates;
  }
  switch (m.chan) {
    case Chan::kOrderbook:
      if (m.type == MsgType::kSubscribed) return ApplySnapshot(m, recv_ns, sink);
      return ApplyUpdate(m, recv_ns, sink);
    case Chan::kTrades:
      if (m.type == MsgType::kSubscribed) ++dc_.subscribed;
      Seen(m.idx, recv_ns);
      EmitTrades(m, recv_ns, sink);
      return DecodeError::kOk;
    case Chan::kMarkets:
      if (m.type == MsgType::kSubscribed) ++dc_.subscribed;
      CommitMarkets(m);
      return DecodeError::kOk;
    default:
      return DecodeError::kOk;
  }
}

DecodeError DydxDecoderImpl::ApplySnapshot(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  const size_t idx = m.idx;
  BookState& b = books_[idx];
  if (b.has_snapshot && m.mid <= b.snapshot_mid) {
    return Fail(DecodeError::kSequence, "v4_orderbook subscribed: not newer than the snapshot",
                idx);
  }
  if (shadowing()) {
    ShadowSide<Side::kBuy>& sb = shadow_bids_[idx];
    ShadowSide<Side::kSell>& sa = shadow_asks_[idx];
    const uint64_t offset = m.mid << kSubBits;
    if (!sb.LoadBestFirst(sbids_.data(), sbids_.size(), offset, &dc_.shadow_dropped)) {
      sb.Clear();
      for (const StagedLevel& l : sbids_) {
        if (l.size != 0 && !sb.Set(l.price, l.size, offset)) ++dc_.shadow_dropped;
      }
    }
    if (!sa.LoadBestFirst(sasks_.data(), sasks_.size(), offset, &dc_.shadow_dropped)) {
      sa.Clear();
      for (const StagedLevel& l : sasks_) {
        if (l.size != 0 && !sa.Set(l.price, l.size, offset)) ++dc_.shadow_dropped;
      }
    }
    Uncross(idx);
    // Every snapshot level has the same offset, so the remedy netted sizes at the top: apply what
    // it decided to the staged levels (size 0 ones are left out below).
    for (const RemedyLevel& r : remedy_) {
      std::vector<StagedLevel>& side = r.side == Side::kBuy ? sbids_ : sasks_;
      for (StagedLevel& l : side) {
        if (l.price == r.price) l.size = r.size;
      }
    }
    remedy_.clear();
  }
  CommitLevels(m, /*snapshot=*/true, recv_ns, sink);
  b.live = true;
  b.has_snapshot = true;
  b.snapshot_mid = m.mid;
  b.last_mid = m.mid;
  ++counters_.snapshots;
  ++dc_.subscribed;
  Seen(idx, recv_ns);
  if (b.resync_pending) {
    b.resync_pending = false;
    EmitStatus(sink, idx, MdStatus::kResynced, recv_ns, 0, m.mid);
  }
  return DecodeError::kOk;
}

DecodeError DydxDecoderImpl::ApplyUpdate(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  const size_t idx = m.idx;
  BookState& b = books_[idx];
  Seen(idx, recv_ns);
  if (!b.live) {
    // Before this connection's snapshot (or while waiting for a resubscription's): the snapshot
    // that follows already includes it.
    ++counters_.dropped_before_snapshot;
    return DecodeError::kOk;
  }
  if (shadowing()) {
    ShadowSide<Side::kBuy>& sb = shadow_bids_[idx];
    ShadowSide<Side::kSell>& sa = shadow_asks_[idx];
    const uint64_t base = m.mid << kSubBits;
    for (const StagedLevel& l : sbids_) {
      if (!sb.Set(l.price, l.size, base | l.sub)) ++dc_.shadow_dropped;
    }
    for (const StagedLevel& l : sasks_) {
      if (!sa.Set(l.price, l.size, base | l.sub)) ++dc_.shadow_dropped;
    }
    Uncross(idx);
  }
  CommitLevels(m, /*snapshot=*/false, recv_ns, sink);
  b.last_mid = m.mid;
  return DecodeError::kOk;
}

// The documented remedy (docs.dydx.exchange, "How to uncross the orderbook"): while the best bid
// is at or above the best ask, drop the side whose level is older by message offset; when both
// come from the same message, net their sizes. What it changes is recorded in remedy_.
void DydxDecoderImpl::Uncross(size_t idx) noexcept {
  ShadowSide<Side::kBuy>& sb = shadow_bids_[idx];
  ShadowSide<Side::kSell>& sa = shadow_asks_[idx];
  bool crossed = false;
  for (;;) {
    ShadowLevel* bid = sb.best();
    ShadowLevel* ask = sa.best();
    if (bid == nullptr || ask == nullptr) {
      // A side ran out of known levels while still crossing beyond the shadow's depth.
      if (crossed && ((bid == nullptr && sb.truncated()) || (ask == nullptr && sa.truncated()))) {
        ++dc_.uncross_incomplete;
      }
      break;
    }
    if (bid->price < ask->price) break;
    crossed = true;
    if (opt_.uncross != DydxUncross::kRemedy) break;
    if (bid->offset < ask->offset) {
      remedy_.push_back({Side::kBuy, bid->price, 0});
      sb.PopBest();
      ++dc_.uncross_deleted;
    } else if (bid->offset > ask->offset) {
      remedy_.push_back({Side::kSell, ask->price, 0});
      sa.PopBest();
      ++dc_.uncross_deleted;
    } else if (bid->size > ask->size) {
      bid->size -= ask->size;
      remedy_.push_back({Side::kBuy, bid->price, bid->size});
      remedy_.push_back({Side::kSell, ask->price, 0});
      sa.PopBest();
      ++dc_.uncross_reduced;
      ++dc_.uncross_deleted;
    } else if (bid->size < ask->size) {
      ask->size -= bid->size;
      remedy_.push_back({Side::kSell, ask->price, ask->size});
      remedy_.push_back({Side::kBuy, bid->price, 0});
      sb.PopBest();
      ++dc_.uncross_reduced;
      ++dc_.uncross_deleted;
    } else {
      remedy_.push_back({Side::kBuy, bid->price, 0});
      remedy_.push_back({Side::kSell, ask->price, 0});
      sb.PopBest();
      sa.PopBest();
      dc_.uncross_deleted += 2;
    }
  }
  if (crossed) ++dc_.crossed;
}

void DydxDecoderImpl::CommitLevels(const Msg& m, bool snapshot, int64_t recv_ns,
                                   MdSink& sink) noexcept {
  const FeedInstrument& in = table_.all()[m.idx];
  batcher_.Begin(Venue::kDydx, in.id, m.mid, /*exchange_ns=*/0, recv_ns, snapshot);
  size_t n = 0;
  for (const StagedLevel& l : sbids_) {
    if (snapshot && l.size == 0) continue;
    batcher_.Add(Side::kBuy, {l.price, l.size});
    ++n;
  }
  for (const StagedLevel& l : sasks_) {
    if (snapshot && l.size == 0) continue;
    batcher_.Add(Side::kSell, {l.price, l.size});
    ++n;
  }
  for (const RemedyLevel& r : remedy_) {
    batcher_.Add(r.side, {r.price, r.size});
    ++n;
  }
  if (n == 0 && !snapshot) return;
  batcher_.Commit(sink, Now());
  counters_.events += n == 0 ? 1 : (n + kMaxLevelsPerEvent - 1) / kMaxLevelsPerEvent;
  ++counters_.level_messages;
  ++icounters(m.idx).updates;
}

void DydxDecoderImpl::EmitTrades(const Msg& m, int64_t recv_ns, MdSink& sink) noexcept {
  if (trades_.empty()) return;
  const FeedInstrument& in = table_.all()[m.idx];
  const int64_t decoded = Now();
  // The subscribed reply carries recent history (the REST trades endpoint), not new trades.
  const uint8_t base = m.type == MsgType::kSubscribed ? kMdSnapshot : 0;
  for (size_t i = 0; i < trades_.size(); ++i) {
    MdEvent ev = MdEvent::Trade(Venue::kDydx, in.id, trades_[i].trade);
    ev.venue_seq = m.mid;
    ev.exchange_ns = trades_[i].exchange_ns;
    ev.times.recv_ns = recv_ns;
    ev.times.decoded_ns = decoded;
    ev.flags = static_cast<uint8_t>(base | (i + 1 == trades_.size() ? kMdMessageEnd : 0));
    Emit(sink, ev);
  }
  counters_.trades += trades_.size();
  icounters(m.idx).trades += trades_.size();
}

void DydxDecoderImpl::CommitMarkets(const Msg& m) noexcept {
  dc_.markets_ignored += markets_ignored_;
  for (const uint32_t i : touched_) {
    DydxMarketParams& rec = scratch_[i];
    const DydxMarketParams& old = markets_[i];
    const FeedInstrument& in = table_.all()[i];
    if ((rec.fields & DydxMarketParams::kTickSize) &&
        (!(old.fields & DydxMarketParams::kTickSize) || !(old.tick_size == rec.tick_size)) &&
        rec.tick_size.scale() > in.price_scale) {
      ++dc_.scale_conflicts;
    }
    if ((rec.fields & DydxMarketParams::kStepSize) &&
        (!(old.fields & DydxMarketParams::kStepSize) || !(old.step_size == rec.step_size)) &&
        rec.step_size.scale() > in.size_scale) {
      ++dc_.scale_conflicts;
    }
    rec.message_id = m.mid;
    ++rec.updates;
    markets_[i] = rec;
    ++dc_.market_updates;
  }
}

}  // namespace

std::unique_ptr<DydxDecoder> MakeDydxDecoder(SymbolTable table, DydxDecoderOptions options) {
  return std::make_unique<DydxDecoderImpl>(std::move(table), options);
}

}  // namespace nzeza
