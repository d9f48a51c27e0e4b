#include "nzeza/venues/coinbase/user_channel.h"

#include <cstring>

#include <nzeza/core/decimal.h>

namespace nzeza::venues::coinbase {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* v) noexcept {
  if (pos + n > s.size()) return false;
  int x = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    x = x * 10 + (s[i] - '0');
  }
  *v = x;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int y, int m, int d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Exact decimal text -> mantissa; false on any error.
bool Dec(std::string_view s, int scale, int64_t* v) noexcept {
  return ParseDecimal(s.data(), s.size(), scale, Signedness::kUnsigned, v) == DecimalError::kOk;
}

}  // namespace

size_t EncodeSubscribe(std::string_view channel, std::string_view jwt, char* out,
                       size_t cap) noexcept {
  static constexpr std::string_view kPre = R"({"type":"subscribe","channel":")";
  static constexpr std::string_view kMid = R"(","jwt":")";
  static constexpr std::string_view kPost = "\"}";
  for (std::string_view text : {channel, jwt}) {
    for (char c : text) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return 0;
    }
  }
  const size_t n = kPre.size() + channel.size() + kMid.size() + jwt.size() + kPost.size();
  if (n > cap || jwt.empty() || channel.empty()) return 0;
  char* p = out;
  for (std::string_view part : {kPre, channel, kMid, jwt, kPost}) {
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
  return n;
}

size_t EncodeUserSubscribe(std::string_view jwt, char* out, size_t cap) noexcept {
  return EncodeSubscribe("user", jwt, out, cap);
}

int64_t ParseRfc3339Nanos(std::string_view s) noexcept {
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      se > 60) {
    return 0;
  }
  size_t i = 19;
  int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return 0;
    while (digits++ < 9) frac *= 10;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, &om)) {
      return 0;
    }
    offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return 0;
  }
  if (i != s.size()) return 0;
  const int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_s;
  return secs * 1000000000 + frac;
}

uint64_t UserChannelTradeId(std::string_view order_id, int64_t cum_size) noexcept {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (char c : order_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; ++i) {
    h ^= static_cast<uint64_t>(cum_size) >> (8 * i) & 0xff;
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

UserChannelDecoder::UserChannelDecoder(const CoinbaseInstruments* instruments,
                                       CoinbaseOrderTable* orders)
    : instruments_(instruments), orders_(orders) {}

DecodeError UserChannelDecoder::Decode(const char* data, size_t size, int64_t recv_ns,
                                       oms::ExecSink& sink) noexcept {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto malformed = [this] {
    ++counters_.malformed;
    return DecodeError::kMalformed;
  };
  if (parser_.iterate(data, size, size + simdjson::SIMDJSON_PADDING).get(doc) ||
      doc.get_object().get(root)) {
    return malformed();
  }
  ++counters_.messages;
  std::string_view channel;
  int64_t venue_ns = 0;
  for (auto field : root) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return malformed();
    if (k == "channel") {
      if (field.value().get_string().get(channel)) return malformed();
    } else if (k == "type") {
      std::string_view t;
      if (!field.value().get_string().get(t) && t == "error") ++counters_.errors;
    } else if (k == "timestamp") {
      std::string_view t;
      if (!field.value().get_string().get(t)) venue_ns = ParseRfc3339Nanos(t);
    } else if (k == "sequence_num") {
      int64_t seq;
      if (field.value().get_int64().get(seq)) return malformed();
      if (have_seq_ && seq != last_seq_ + 1) {
        ++counters_.gaps;
        gap_pending_ = true;
      }
      have_seq_ = true;
      last_seq_ = seq;
    } else if (k == "events") {
      if (channel != "user") continue;  // heartbeats, subscriptions: nothing for us
      simdjson::ondemand::array events;
      if (field.value().get_array().get(events)) return malformed();
      for (auto ev : events) {
        simdjson::ondemand::object eo;
        if (ev.get_object().get(eo)) return malformed();
        for (auto ef : eo) {
          std::string_view ek;
          if (ef.unescaped_key().get(ek)) return malformed();
          if (ek != "orders") continue;  // "type" (snapshot/update) and "positions"
          simdjson::ondemand::array orders;
          if (ef.value().get_array().get(orders)) return malformed();
          for (auto o : orders) {
            simdjson::ondemand::object oo;
            if (o.get_object().get(oo)) return malformed();
            if (!DecodeOrder(oo, recv_ns, venue_ns, sink)) return malformed();
          }
        }
      }
    }
  }
  return DecodeError::kOk;
}

bool UserChannelDecoder::DecodeOrder(simdjson::ondemand::object order, int64_t recv_ns,
                                     int64_t venue_ns, oms::ExecSink& sink) noexcept {
  ++counters_.order_updates;
  std::string_view order_id, client_id, status_text, cum_text, leaves_text, avg_text, fees_text,
      value_text, reject_text;
  for (auto f : order) {
    std::string_view k;
    if (f.unescaped_key().get(k)) return false;
    std::string_view* dst = nullptr;
    if (k == "order_id")
      dst = &order_id;
    else if (k == "client_order_id")
      dst = &client_id;
    else if (k == "status")
      dst = &status_text;
    else if (k == "cumulative_quantity")
      dst = &cum_text;
    else if (k == "leaves_quantity")
      dst = &leaves_text;
    else if (k == "avg_price")
      dst = &avg_text;
    else if (k == "total_fees")
      dst = &fees_text;
    else if (k == "filled_value")
      dst = &value_text;
    else if (k == "reject_reason")
      dst = &reject_text;
    if (dst != nullptr) {
      // Strings per the reference; a null is as good as absent.
      simdjson::ondemand::value v;
      if (f.value().get(v)) return false;
      if (v.get_string().get(*dst)) *dst = {};
    }
  }
  uint64_t cid = 0;
  TrackedOrder* t = ParseClientOrderId(client_id, &cid) ? orders_->Find(cid) : nullptr;
  const CoinbaseInstrument* inst = t != nullptr ? instruments_->Find(t->instrument) : nullptr;
  if (t == nullptr || inst == nullptr) {
    ++counters_.unknown_orders;
    return true;
  }
  if (t->order_id_len == 0 && !order_id.empty()) {
    t->set_order_id(order_id);
    sink.OnVenueOrderId(cid, t->order_id_view());
  }
  const CoinbaseOrderStatus status = ParseOrderStatus(status_text);

  ExecEvent base;
  base.side = t->side;
  base.instrument = t->instrument;
  base.strategy_id = t->strategy_id;
  base.client_order_id = t->client_order_id;
  base.intent_id = t->intent_id;
  base.venue_ns = venue_ns;
  base.times.sent_ns = t->sent_ns;
  base.times.recv_ns = recv_ns;

  int64_t cum = t->cum_size;
  if (!cum_text.empty() && !Dec(cum_text, inst->size_scale, &cum)) {
    ++counters_.bad_fields;
    cum = t->cum_size;
  }
  int64_t leaves = -1;
  if (!leaves_text.empty() && !Dec(leaves_text, inst->size_scale, &leaves)) {
    ++counters_.bad_fields;
    leaves = -1;
  }
  const bool terminal =
      status == CoinbaseOrderStatus::kFilled || status == CoinbaseOrderStatus::kCancelled ||
      status == CoinbaseOrderStatus::kExpired || status == CoinbaseOrderStatus::kFailed;
  if (leaves < 0) leaves = terminal ? 0 : (t->size > cum ? t->size - cum : 0);
  if (terminal) leaves = 0;
  base.cum_size = cum;
  base.leaves_size = leaves;

  if (!t->acked && status != CoinbaseOrderStatus::kPending &&
      status != CoinbaseOrderStatus::kFailed && status != CoinbaseOrderStatus::kUnknown) {
    ExecEvent ack = base;
    ack.type = ExecType::kAck;
    ack.cum_size = t->cum_size;
    ack.leaves_size = t->size > t->cum_size ? t->size - t->cum_size : leaves;
    t->acked = true;
    ++counters_.acks;
    sink.OnExec(ack);
  }

  if (cum < t->cum_size) {
    ++counters_.stale_updates;
    return true;  // an older update overtaken by a newer one: nothing new in it
  }
  if (cum > t->cum_size) {
    const int64_t delta = cum - t->cum_size;
    ExecEvent fill = base;
    fill.type = ExecType::kFill;
    fill.last_size = delta;
    const int notional_scale = inst->price_scale + inst->size_scale;
    int64_t value = 0;
    bool priced = false;
    if (!value_text.empty() && Dec(value_text, notional_scale, &value) &&
        value >= t->filled_value) {
      const int64_t dv = value - t->filled_value;
      fill.last_price = dv / delta;
      const int64_t rem = dv % delta;
      if (rem != 0) {
        if (2 * static_cast<__int128>(rem) >= delta) ++fill.last_price;
        ++counters_.inexact_prices;
      }
      t->filled_value = value;
      priced = true;
    }
    if (!priced) {
      int64_t avg = 0;
      if (!avg_text.empty() && Dec(avg_text, inst->price_scale, &avg)) {
        fill.last_price = avg;
      } else {
        ++counters_.bad_fields;
      }
      // Keep filled_value consistent for the next delta.
      t->filled_value += static_cast<int64_t>(static_cast<__int128>(fill.last_price) * delta);
    }
    int64_t fees = t->fees;
    if (!fees_text.empty() && !Dec(fees_text, inst->fee_scale, &fees)) {
      ++counters_.bad_fields;
      fees = t->fees;
    }
    fill.fee = fees - t->fees;
    t->fees = fees;
    fill.trade_id = UserChannelTradeId(t->order_id_view(), cum);
    t->cum_size = cum;
    ++counters_.fills;
    sink.OnExec(fill);
  }

  if (status == CoinbaseOrderStatus::kCancelled || status == CoinbaseOrderStatus::kExpired ||
      status == CoinbaseOrderStatus::kFailed) {
    ExecEvent done = base;
    done.cum_size = t->cum_size;
    done.leaves_size = 0;
    if (status == CoinbaseOrderStatus::kCancelled) {
      done.type = ExecType::kCanceled;
      ++counters_.canceled;
    } else if (status == CoinbaseOrderStatus::kExpired) {
      done.type = ExecType::kExpired;
      ++counters_.expired;
    } else {
      done.type = ExecType::kReject;
      oms::VenueReject r = MapCoinbaseError(200, reject_text);
      if (r == oms::VenueReject::kNone) r = oms::VenueReject::kUnknown;
      done.reject_code = static_cast<uint16_t>(r);
      ++counters_.rejected;
    }
    sink.OnExec(done);
  }
  if (terminal) orders_->Erase(cid);
  return true;
}

}  // namespace nzeza::venues::coinbase
