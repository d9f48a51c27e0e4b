#include "nzeza/feeds/common/feed_decoder.h"

#include <simdjson.h>

#include "nzeza/net/ws_client.h"

namespace nzeza {

static_assert(kFeedPadding >= simdjson::SIMDJSON_PADDING,
              "kFeedPadding must cover simdjson's padding");
static_assert(kFeedPadding <= kReceivePadding,
              "the WebSocket client must give decoders the padding they need");

const char* DecodeErrorName(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::kOk:
      return "ok";
    case DecodeError::kMalformedJson:
      return "malformed json";
    case DecodeError::kMissingField:
      return "missing field";
    case DecodeError::kBadNumber:
      return "bad number";
    case DecodeError::kBadValue:
      return "bad value";
    case DecodeError::kUnknownType:
      return "unknown message type";
    case DecodeError::kUnknownInstrument:
      return "unknown instrument";
    case DecodeError::kSequence:
      return "sequence";
    case DecodeError::kVenueError:
      return "venue error";
    case DecodeError::kTooLarge:
      return "too large";
  }
  return "unknown";
}

FeedDecoder::FeedDecoder(SymbolTable table) : table_(std::move(table)) {
  const size_t n = table_.size();
  per_instrument_.resize(n);
  last_seen_ns_.assign(n, 0);
  stale_marked_.assign(n, 0);
  actions_.reserve(4 * n + 4);
  action_flags_.assign(n, 0);
}

DecodeError FeedDecoder::OnSnapshot(InstrumentId, const char*, size_t, int64_t, MdSink&) noexcept {
  return Fail(DecodeError::kUnknownType, "this venue has no REST snapshots");
}

DecodeError FeedDecoder::Fail(DecodeError e, const char* where, size_t idx) noexcept {
  switch (e) {
    case DecodeError::kOk:
      return e;
    case DecodeError::kUnknownType:
      ++counters_.unknown_messages;
      break;
    case DecodeError::kUnknownInstrument:
      ++counters_.unknown_instrument;
      break;
    case DecodeError::kVenueError:
      ++counters_.venue_errors;
      break;
    case DecodeError::kSequence:
      ++counters_.duplicates;
      break;
    default:
      ++counters_.decode_errors;
      if (idx != kNoIndex && idx < per_instrument_.size()) ++per_instrument_[idx].decode_errors;
      break;
  }
  last_error_ = e;
  last_error_where_ = where;
  return e;
}

void FeedDecoder::Seen(size_t idx, int64_t recv_ns) noexcept {
  if (idx >= per_instrument_.size()) return;
  ++per_instrument_[idx].messages;
  last_seen_ns_[idx] = recv_ns;
  stale_marked_[idx] = 0;
}

int FeedDecoder::CheckStale(int64_t now_ns, int64_t budget_ns, MdSink& sink) noexcept {
  int n = 0;
  for (size_t i = 0; i < last_seen_ns_.size(); ++i) {
    if (stale_marked_[i] || last_seen_ns_[i] == 0) continue;
    const int64_t age = now_ns - last_seen_ns_[i];
    if (age <= budget_ns) continue;
    stale_marked_[i] = 1;
    MdStatusInfo info;
    info.code = MdStatus::kStale;
    info.detail = age;
    MdEvent ev = MdEvent::Status(venue(), table_.all()[i].id, info);
    ev.times.recv_ns = now_ns;
    Emit(sink, ev);
    ++counters_.stale;
    ++n;
  }
  return n;
}

void FeedDecoder::RequestAction(FeedActionType type, InstrumentId instrument) noexcept {
  const FeedInstrument* in = table_.FindId(instrument);
  const size_t idx = in != nullptr ? table_.IndexOf(in) : 0;
  const uint8_t bit = static_cast<uint8_t>(1u << static_cast<unsigned>(type));
  if (type == FeedActionType::kReconnect) {
    if (reconnect_pending_) return;
    reconnect_pending_ = true;
  } else {
    if (in == nullptr || (action_flags_[idx] & bit) != 0) return;
    action_flags_[idx] |= bit;
  }
  if (actions_.size() == actions_.capacity() && action_head_ > 0) {
    // Compact the consumed prefix (no allocation). At most one action per (type, instrument)
    // plus one reconnect is pending, and the capacity is larger than that.
    actions_.erase(actions_.begin(), actions_.begin() + static_cast<ptrdiff_t>(action_head_));
    action_head_ = 0;
  }
  actions_.push_back(FeedAction{type, instrument});
}

bool FeedDecoder::PopAction(FeedAction* out) noexcept {
  if (action_head_ == actions_.size()) {
    actions_.clear();
    action_head_ = 0;
    return false;
  }
  *out = actions_[action_head_++];
  if (out->type == FeedActionType::kReconnect) {
    reconnect_pending_ = false;
  } else if (const FeedInstrument* in = table_.FindId(out->instrument)) {
    action_flags_[table_.IndexOf(in)] &=
        static_cast<uint8_t>(~(1u << static_cast<unsigned>(out->type)));
  }
  if (action_head_ == actions_.size()) {
    actions_.clear();
    action_head_ = 0;
  }
  return true;
}

const InstrumentFeedCounters* FeedDecoder::instrument_counters(InstrumentId id) const noexcept {
  const FeedInstrument* in = table_.FindId(id);
  return in == nullptr ? nullptr : &per_instrument_[table_.IndexOf(in)];
}

void FeedDecoder::EmitStatus(MdSink& sink, size_t idx, MdStatus code, int64_t recv_ns,
                             uint64_t expected_seq, uint64_t received_seq) noexcept {
  if (idx >= per_instrument_.size()) return;
  MdStatusInfo info;
  info.code = code;
  info.expected_seq = expected_seq;
  info.received_seq = received_seq;
  MdEvent ev = MdEvent::Status(venue(), table_.all()[idx].id, info);
  ev.times.recv_ns = recv_ns;
  if (code == MdStatus::kGap) {
    ++counters_.gaps;
    ++per_instrument_[idx].gaps;
  } else if (code == MdStatus::kResynced) {
    ++counters_.resyncs;
    ++per_instrument_[idx].resyncs;
  }
  Emit(sink, ev);
}

void FeedDecoder::EmitStatusAll(MdSink& sink, MdStatus code, int64_t recv_ns) noexcept {
  for (size_t i = 0; i < per_instrument_.size(); ++i) EmitStatus(sink, i, code, recv_ns);
}

}  // namespace nzeza
