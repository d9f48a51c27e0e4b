// What the two Coinbase decoders share: zero-copy token helpers over simdjson On Demand, the
// per-instrument book synchronisation state, and the base class. Private to feeds/coinbase.
#ifndef NZEZA_FEEDS_COINBASE_SRC_DECODER_COMMON_H_
#define NZEZA_FEEDS_COINBASE_SRC_DECODER_COMMON_H_

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "nzeza/core/events.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza::coinbase_internal {

namespace od = simdjson::ondemand;

// The message being decoded on this thread (set by CoinbaseDecoderBase::Start). On malformed input
// (an unterminated string, say) simdjson on-demand's raw_json_token() can return a view running
// past the message (found by coinbase_decoder_fuzz); a token is only trusted within these bounds.
inline thread_local const char* tls_message_begin = nullptr;
inline thread_local const char* tls_message_end = nullptr;

inline bool InMessage(std::string_view t) noexcept {
  return t.data() >= tls_message_begin &&
         t.size() <= static_cast<size_t>(tls_message_end - t.data());
}

// A scalar token as simdjson gives it may carry the whitespace up to the next token.
inline std::string_view TrimRight(std::string_view t) noexcept {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t')) {
    t.remove_suffix(1);
  }
  return t;
}

// The content of a JSON string value, as a view into the input: no copy and no unescaping, so a
// value written with a backslash escape keeps its backslash and never equals a product, type,
// side, decimal or timestamp the decoder knows (it is refused by whatever reads it). False when
// the value is not a string. Does not consume the value (the enclosing iteration skips it).
inline bool StringToken(od::value& v, std::string_view* out) noexcept {
  const std::string_view raw = v.raw_json_token();
  if (!InMessage(raw)) return false;
  std::string_view t = TrimRight(raw);
  if (t.size() < 2 || t.front() != '"' || t.back() != '"') return false;
  *out = t.substr(1, t.size() - 2);
  return true;
}

// A non-negative integer written bare (12) or as a string ("12"). False otherwise.
inline bool UintToken(od::value& v, uint64_t* out) noexcept {
  const std::string_view raw = v.raw_json_token();
  if (!InMessage(raw)) return false;
  std::string_view t = TrimRight(raw);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
  return ParseU64(t, out);
}

// A member's key, compared in place with literals: no scan for its end, no copy. Is("type") holds
// exactly when the raw key is `type` (the literal has no quote, so a match needs the closing quote
// right after it). An escaped key never matches. Reads up to the literal's length past the key's
// start, within the input's padding at worst.
class Key {
 public:
  explicit Key(od::field& f) noexcept : raw_(f.key().raw()) {}
  template <size_t N>
  bool Is(const char (&literal)[N]) const noexcept {
    return std::memcmp(raw_, literal, N - 1) == 0 && raw_[N - 1] == '"';
  }
  char first() const noexcept { return raw_[0]; }

 private:
  const char* raw_;
};

// The value of an iteration result, by reference, once its error was checked: copying
// simdjson's iterator state out of its result costs a store-forwarding stall per member or element
// (measured in BM_CoinbaseL2Update_Nzeza).
template <typename T>
T& Ref(simdjson::simdjson_result<T>& r) noexcept {
  return const_cast<T&>(r.value_unsafe());
}

// A simdjson error as a DecodeError: a value of the wrong JSON type is `type_error`, anything else
// means the text is not (complete) JSON.
inline DecodeError JsonError(simdjson::error_code e, DecodeError type_error) noexcept {
  return e == simdjson::INCORRECT_TYPE ? type_error : DecodeError::kMalformedJson;
}

// A price/size text at `scale`; a price must also be > 0. `s` lies inside the message being
// decoded, which has kFeedPadding readable bytes after it (the OnMessage contract), so the
// padded parser may read 16 bytes from its start.
inline bool ParsePrice(std::string_view s, int32_t scale, int64_t* out) noexcept {
  return ParseDecimalPadded(s.data(), s.size(), scale, Signedness::kUnsigned, out) ==
             DecimalError::kOk &&
         *out > 0;
}
inline bool ParseSize(std::string_view s, int32_t scale, int64_t* out) noexcept {
  return ParseDecimalPadded(s.data(), s.size(), scale, Signedness::kUnsigned, out) ==
         DecimalError::kOk;
}

// One level as read from the message, before its product's scales are known.
struct RawLevel {
  std::string_view price;
  std::string_view size;
  Side side;
};

// Where an instrument's book stands on the current connection.
enum class BookSync : uint8_t {
  kNoBook = 0,     // no snapshot on this connection yet: an update is out of order
  kLive = 1,       // snapshot applied: updates flow
  kResyncing = 2,  // lost (gap / failed message); updates in flight are dropped until the snapshot
};

class CoinbaseDecoderBase : public FeedDecoder {
 public:
  CoinbaseDecoderBase(SymbolTable table, CoinbaseDecoderOptions options);

  const CoinbaseCounters& coinbase_counters() const noexcept { return cb_counters_; }

  void OnOpen(int64_t now_ns, MdSink& sink) noexcept override;
  void OnClose(int64_t now_ns, MdSink& sink) noexcept override;

 protected:
  int64_t DecodedNs() const noexcept;
  // Iterates `data` and yields the root object. Errors: kTooLarge, kMalformedJson.
  DecodeError Start(const char* data, size_t size, od::object* root) noexcept;
  // After the root object was iterated to its end: true when nothing but whitespace follows.
  bool Ended() noexcept;

  // The book at `idx` cannot be trusted: kGap{expected, received}, kResyncing, and the remedy
  // (resubscribe, or reconnect per options) is requested.
  void LoseBook(MdSink& sink, size_t idx, int64_t recv_ns, uint64_t expected,
                uint64_t received) noexcept;
  void LoseAllBooks(MdSink& sink, int64_t recv_ns, uint64_t expected, uint64_t received) noexcept;
  // A snapshot for `idx` was emitted: live again, and kResynced when it had been lost.
  void SnapshotApplied(MdSink& sink, size_t idx, int64_t recv_ns) noexcept;
  // Emits bids_[bid_begin, bid_end) and asks_[ask_begin, ask_end) of one message for one
  // instrument as LevelBatcher does (level_batcher.h): bids then asks, kMaxLevelsPerEvent a
  // event, a snapshot bracketed kMdSnapshotBegin ... kMdSnapshotEnd (an empty snapshot is one
  // event), kMdMessageEnd on the last; nothing for an update without levels. Counts the events.
  void EmitLevels(MdSink& sink, Venue venue, InstrumentId id, uint64_t seq, int64_t exchange_ns,
                  int64_t recv_ns, bool snapshot, size_t bid_begin, size_t bid_end,
                  size_t ask_begin, size_t ask_end) noexcept;
  // Emits one non-level event and counts it.
  void EmitOne(MdSink& sink, const MdEvent& event) noexcept;
  // Parses raw levels at the instrument's scales, appending to bids_ / asks_. Errors: kBadNumber
  // (with *where set), kTooLarge.
  DecodeError ParseLevels(const RawLevel* begin, const RawLevel* end, const FeedInstrument& in,
                          const char** where) noexcept;
  // ParseIso8601Nanos, with the day of the last timestamp remembered: venues stamp every message
  // with today's date, so only the time of day is parsed (same grammar, same result).
  bool ParseTime(std::string_view s, int64_t* unix_ns) noexcept;

  od::parser parser_;
  od::document doc_;
  CoinbaseDecoderOptions options_;
  std::vector<BookSync> sync_;
  std::vector<uint8_t> resync_due_;
  std::vector<RawLevel> raw_;
  std::vector<PriceLevel> bids_;  // parsed levels of the current message
  std::vector<PriceLevel> asks_;
  CoinbaseCounters cb_counters_;
  char day_key_[10] = {};     // "YYYY-MM-DD" of the last timestamp parsed in full
  int64_t day_ns_ = -1;       // its midnight in Unix ns; -1: none
  bool alloc_error_ = false;  // the parser could not be allocated: every message is kTooLarge
};

}  // namespace nzeza::coinbase_internal

#endif  // NZEZA_FEEDS_COINBASE_SRC_DECODER_COMMON_H_
