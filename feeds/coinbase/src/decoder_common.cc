#include "decoder_common.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "nzeza/core/clock.h"

namespace nzeza {
namespace coinbase_internal {

CoinbaseDecoderBase::CoinbaseDecoderBase(SymbolTable table, CoinbaseDecoderOptions options)
    : FeedDecoder(std::move(table)),
      parser_(std::max<size_t>(options.max_message_bytes, 4096)),
      options_(std::move(options)) {
  options_.max_message_bytes = std::max<size_t>(options_.max_message_bytes, 4096);
  // Allocate once, here: iterate() never grows the parser (a larger message is kTooLarge).
  alloc_error_ = parser_.allocate(options_.max_message_bytes) != simdjson::SUCCESS;
  sync_.assign(table_.size(), BookSync::kNoBook);
  resync_due_.assign(table_.size(), 0);
  raw_.reserve(options_.reserve_levels);
  bids_.reserve(options_.reserve_levels);
  asks_.reserve(options_.reserve_levels);
}

int64_t CoinbaseDecoderBase::DecodedNs() const noexcept {
  return options_.clock != nullptr ? options_.clock->NowNanos() : MonotonicNanos();
}

DecodeError CoinbaseDecoderBase::Start(const char* data, size_t size, od::object* root) noexcept {
  if (size > options_.max_message_bytes || alloc_error_) return DecodeError::kTooLarge;
  tls_message_begin = data;
  tls_message_end = data + size;
  if (parser_.iterate(data, size, size + kFeedPadding).get(doc_)) {
    return DecodeError::kMalformedJson;
  }
  if (doc_.get_object().get(*root)) return DecodeError::kMalformedJson;
  return DecodeError::kOk;
}

bool CoinbaseDecoderBase::Ended() noexcept {
  const char* at = nullptr;
  return doc_.current_location().get(at) == simdjson::OUT_OF_BOUNDS;
}

void CoinbaseDecoderBase::OnOpen(int64_t now_ns, MdSink& sink) noexcept {
  (void)now_ns;
  (void)sink;
  // A new connection: the venue sends every snapshot again after the subscribe.
  std::fill(sync_.begin(), sync_.end(), BookSync::kNoBook);
}

void CoinbaseDecoderBase::OnClose(int64_t now_ns, MdSink& sink) noexcept {
  for (size_t i = 0; i < sync_.size(); ++i) {
    if (sync_[i] != BookSync::kNoBook) resync_due_[i] = 1;
    sync_[i] = BookSync::kNoBook;
  }
  EmitStatusAll(sink, MdStatus::kDisconnected, now_ns);
}

void CoinbaseDecoderBase::LoseBook(MdSink& sink, size_t idx, int64_t recv_ns, uint64_t expected,
                                   uint64_t received) noexcept {
  EmitStatus(sink, idx, MdStatus::kGap, recv_ns, expected, received);
  sync_[idx] = BookSync::kResyncing;
  resync_due_[idx] = 1;
  if (options_.on_gap == CoinbaseGapAction::kReconnect) {
    RequestAction(FeedActionType::kReconnect, table_.all()[idx].id);
  } else {
    RequestAction(FeedActionType::kResubscribe, table_.all()[idx].id);
  }
}

void CoinbaseDecoderBase::LoseAllBooks(MdSink& sink, int64_t recv_ns, uint64_t expected,
                                       uint64_t received) noexcept {
  for (size_t i = 0; i < sync_.size(); ++i) LoseBook(sink, i, recv_ns, expected, received);
}

void CoinbaseDecoderBase::SnapshotApplied(MdSink& sink, size_t idx, int64_t recv_ns) noexcept {
  sync_[idx] = BookSync::kLive;
  ++counters_.snapshots;
  if (resync_due_[idx] != 0) {
    resync_due_[idx] = 0;
    EmitStatus(sink, idx, MdStatus::kResynced, recv_ns);
  }
}

void CoinbaseDecoderBase::EmitLevels(MdSink& sink, Venue venue, InstrumentId id, uint64_t seq,
                                     int64_t exchange_ns, int64_t recv_ns, bool snapshot,
                                     size_t bid_begin, size_t bid_end, size_t ask_begin,
                                     size_t ask_end) noexcept {
  if (bid_begin == bid_end && ask_begin == ask_end && !snapshot) return;
  ++counters_.level_messages;
  const int64_t decoded_ns = DecodedNs();
  size_t bi = bid_begin;
  size_t ai = ask_begin;
  bool first = true;
  do {
    MdEvent e;
    e.type = MdType::kLevels;
    e.venue = venue;
    e.instrument = id;
    e.venue_seq = seq;
    e.exchange_ns = exchange_ns;
    e.times.recv_ns = recv_ns;
    e.times.decoded_ns = decoded_ns;
    uint8_t flags = snapshot ? kMdSnapshot : 0;
    if (first && snapshot) flags |= kMdSnapshotBegin;
    first = false;
    const size_t nb = std::min(bid_end - bi, kMaxLevelsPerEvent);
    const size_t na = std::min(ask_end - ai, kMaxLevelsPerEvent - nb);
    for (size_t k = 0; k < nb; ++k) e.levels.level[k] = bids_[bi + k];
    for (size_t k = 0; k < na; ++k) e.levels.level[nb + k] = asks_[ai + k];
    e.levels.num_bids = static_cast<uint8_t>(nb);
    e.levels.num_asks = static_cast<uint8_t>(na);
    bi += nb;
    ai += na;
    if (bi == bid_end && ai == ask_end) {
      flags |= kMdMessageEnd;
      if (snapshot) flags |= kMdSnapshotEnd;
    }
    e.flags = flags;
    Emit(sink, e);
  } while (bi != bid_end || ai != ask_end);
}

void CoinbaseDecoderBase::EmitOne(MdSink& sink, const MdEvent& event) noexcept {
  MdEvent ev = event;
  ev.flags |= kMdMessageEnd;
  ev.times.decoded_ns = DecodedNs();
  Emit(sink, ev);
}

DecodeError CoinbaseDecoderBase::ParseLevels(const RawLevel* begin, const RawLevel* end,
                                             const FeedInstrument& in,
                                             const char** where) noexcept {
  if (static_cast<size_t>(end - begin) > options_.max_levels) {
    *where = "more levels than max_levels";
    return DecodeError::kTooLarge;
  }
  for (const RawLevel* r = begin; r != end; ++r) {
    PriceLevel l;
    if (!ParsePrice(r->price, in.price_scale, &l.price)) {
      *where = "level price";
      return DecodeError::kBadNumber;
    }
    if (!ParseSize(r->size, in.size_scale, &l.size)) {
      *where = "level size";
      return DecodeError::kBadNumber;
    }
    (r->side == Side::kBuy ? bids_ : asks_).push_back(l);
  }
  return DecodeError::kOk;
}

namespace {

bool Digits2(const char* p, int* out) noexcept {
  const unsigned a = static_cast<unsigned>(p[0] - '0');
  const unsigned b = static_cast<unsigned>(p[1] - '0');
  if (a > 9 || b > 9) return false;
  *out = static_cast<int>(a * 10 + b);
  return true;
}

// "HH:MM:SS[.f{1,9}](Z|z|+00:00)" -> ns since midnight, with ParseIso8601Nanos's ranges.
bool TimeOfDay(std::string_view t, int64_t* out) noexcept {
  int h, m, sec;
  if (t.size() < 9 || !Digits2(t.data(), &h) || t[2] != ':' || !Digits2(t.data() + 3, &m) ||
      t[5] != ':' || !Digits2(t.data() + 6, &sec) || h > 23 || m > 59 || sec > 60) {
    return false;
  }
  size_t pos = 8;
  int64_t frac = 0;
  if (t[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (n == 9) return false;
      frac = frac * 10 + (t[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return false;
    static constexpr int64_t kScale[10] = {1,     100000000, 10000000, 1000000, 100000,
                                           10000, 1000,      100,      10,      1};
    frac *= kScale[n];
  }
  const std::string_view zone = t.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return false;
  *out = (int64_t{h} * 3600 + m * 60 + sec) * 1'000'000'000 + frac;
  return true;
}

}  // namespace

bool CoinbaseDecoderBase::ParseTime(std::string_view s, int64_t* unix_ns) noexcept {
  int64_t tod;
  if (day_ns_ >= 0 && s.size() >= 20 && (s[10] == 'T' || s[10] == 't') &&
      std::memcmp(s.data(), day_key_, sizeof(day_key_)) == 0) {
    if (!TimeOfDay(s.substr(11), &tod)) return false;
    *unix_ns = day_ns_ + tod;
    return true;
  }
  int64_t ns;
  if (!ParseIso8601Nanos(s, &ns)) return false;
  *unix_ns = ns;
  // Remember the day (never the last one ParseIso8601Nanos accepts, whose later times overflow).
  if (s.size() >= 20 && s.compare(0, 4, "2262") < 0 && TimeOfDay(s.substr(11), &tod)) {
    std::memcpy(day_key_, s.data(), sizeof(day_key_));
    day_ns_ = ns - tod;
  }
  return true;
}

}  // namespace coinbase_internal

const CoinbaseCounters* CoinbaseCountersOf(const FeedDecoder& decoder) noexcept {
  const auto* d = dynamic_cast<const coinbase_internal::CoinbaseDecoderBase*>(&decoder);
  return d != nullptr ? &d->coinbase_counters() : nullptr;
}

}  // namespace nzeza
