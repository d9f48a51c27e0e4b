#include "nzeza/venues/coinbase/orders.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <nzeza/core/decimal.h>

#include "bounded_writer.h"

namespace nzeza::venues::coinbase {
namespace {

using oms::VenueReject;

bool NeedsEscape(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
}
bool HasCrLfNul(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == 0; });
}

template <size_t N>
uint8_t CopyTruncated(std::string_view s, char (&dst)[N]) noexcept {
  const size_t n = std::min(s.size(), N);
  if (n != 0) std::memcpy(dst, s.data(), n);
  return static_cast<uint8_t>(n);
}

bool Contains(std::string_view s, std::string_view needle) noexcept {
  return s.find(needle) != std::string_view::npos;
}

// One parser per thread, reused: no allocation after its first (largest) document.
simdjson::ondemand::parser& Parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

bool Is2xx(int status) noexcept { return status >= 200 && status < 300; }

// "UNKNOWN_FAILURE_REASON", "UNKNOWN_PREVIEW_FAILURE_REASON", "" carry no information.
bool Informative(std::string_view s) noexcept {
  return !s.empty() && !(s.substr(0, 8) == "UNKNOWN_" && Contains(s, "FAILURE_REASON"));
}

}  // namespace

const char* EncodeErrorName(EncodeError e) noexcept {
  switch (e) {
    case EncodeError::kOk:
      return "ok";
    case EncodeError::kBufferTooSmall:
      return "buffer too small";
    case EncodeError::kUnsupportedOrder:
      return "unsupported order";
    case EncodeError::kInvalidPrice:
      return "invalid price";
    case EncodeError::kInvalidSize:
      return "invalid size";
    case EncodeError::kBadArgument:
      return "bad argument";
  }
  return "unknown";
}

EncodeError EncodeCreateOrderBody(const OrderCmd& cmd, const CoinbaseInstrument& inst, char* out,
                                  size_t cap, size_t* len) noexcept {
  if (cmd.size <= 0) return EncodeError::kInvalidSize;
  const bool post_only = (cmd.flags & kOrderPostOnly) != 0;
  if ((cmd.flags & kOrderReduceOnly) != 0) return EncodeError::kUnsupportedOrder;  // spot
  std::string_view config;
  bool with_price = true;
  if (cmd.order_type == OrderType::kLimit) {
    if (cmd.price <= 0) return EncodeError::kInvalidPrice;
    switch (cmd.tif) {
      case TimeInForce::kGtc:
        config = "limit_limit_gtc";
        break;
      case TimeInForce::kIoc:
        config = "sor_limit_ioc";
        break;
      case TimeInForce::kFok:
        config = "limit_limit_fok";
        break;
      default:
        return EncodeError::kUnsupportedOrder;
    }
    if (post_only && cmd.tif != TimeInForce::kGtc) return EncodeError::kUnsupportedOrder;
  } else if (cmd.order_type == OrderType::kMarket) {
    if (cmd.tif != TimeInForce::kIoc || post_only) return EncodeError::kUnsupportedOrder;
    config = "market_market_ioc";
    with_price = false;
  } else {
    return EncodeError::kUnsupportedOrder;
  }
  BoundedWriter w(out, cap);
  w.Put("{\"client_order_id\":\"");
  w.PutInt(cmd.client_order_id);
  w.Put("\",\"product_id\":\"");
  w.Put(inst.product());
  w.Put(cmd.side == Side::kBuy ? "\",\"side\":\"BUY\",\"order_configuration\":{\""
                               : "\",\"side\":\"SELL\",\"order_configuration\":{\"");
  w.Put(config);
  w.Put("\":{\"base_size\":\"");
  w.PutDecimal(cmd.size, inst.size_scale);
  if (with_price) {
    w.Put("\",\"limit_price\":\"");
    w.PutDecimal(cmd.price, inst.price_scale);
  }
  w.Put("\"");
  if (cmd.tif == TimeInForce::kGtc && cmd.order_type == OrderType::kLimit) {
    w.Put(post_only ? ",\"post_only\":true" : ",\"post_only\":false");
  }
  w.Put("}}}");
  if (!w.ok()) return EncodeError::kBufferTooSmall;
  *len = w.size();
  return EncodeError::kOk;
}

EncodeError EncodeBatchCancelBody(std::span<const std::string_view> order_ids, char* out,
                                  size_t cap, size_t* len) noexcept {
  if (order_ids.empty() || order_ids.size() > kMaxCancelBatch) return EncodeError::kBadArgument;
  BoundedWriter w(out, cap);
  w.Put("{\"order_ids\":[");
  for (size_t i = 0; i < order_ids.size(); ++i) {
    if (order_ids[i].empty() || NeedsEscape(order_ids[i])) return EncodeError::kBadArgument;
    w.Put(i == 0 ? "\"" : ",\"");
    w.Put(order_ids[i]);
    w.Put("\"");
  }
  w.Put("]}");
  if (!w.ok()) return EncodeError::kBufferTooSmall;
  *len = w.size();
  return EncodeError::kOk;
}

EncodeError EncodeHttpRequest(std::string_view method, std::string_view path, std::string_view host,
                              std::string_view jwt, std::string_view body, char* out, size_t cap,
                              size_t* len) noexcept {
  if (path.empty() || path[0] != '/' || HasCrLfNul(path) || HasCrLfNul(host) || HasCrLfNul(jwt) ||
      method.empty() || HasCrLfNul(method) || Contains(path, " ")) {
    return EncodeError::kBadArgument;
  }
  BoundedWriter w(out, cap);
  w.Put(method);
  w.Put(" ");
  w.Put(path);
  w.Put(" HTTP/1.1\r\nHost: ");
  w.Put(host);
  w.Put("\r\nAuthorization: Bearer ");
  w.Put(jwt);
  if (!body.empty()) {
    w.Put("\r\nContent-Type: application/json\r\nContent-Length: ");
    w.PutInt(body.size());
  }
  w.Put("\r\n\r\n");
  w.Put(body);
  if (!w.ok()) return EncodeError::kBufferTooSmall;
  *len = w.size();
  return EncodeError::kOk;
}

VenueReject MapCoinbaseError(int http_status, std::string_view e) noexcept {
  if (http_status == 401) return VenueReject::kUnauthenticated;
  if (http_status == 403) return VenueReject::kPermissionDenied;
  if (http_status == 429) return VenueReject::kRateLimited;
  if (http_status >= 500) return VenueReject::kVenueUnavailable;
  if (Contains(e, "INSUFFICIENT_FUND")) return VenueReject::kInsufficientFunds;
  if (Contains(e, "POST_ONLY")) return VenueReject::kPostOnlyWouldCross;
  if (Contains(e, "UNAUTHENTICATED") || Contains(e, "UNAUTHORIZED")) {
    return VenueReject::kUnauthenticated;
  }
  if (Contains(e, "PERMISSION_DENIED")) return VenueReject::kPermissionDenied;
  if (Contains(e, "RATE_LIMIT") || Contains(e, "TOO_MANY")) return VenueReject::kRateLimited;
  if (Contains(e, "ORDER_ENTRY_DISABLED") || Contains(e, "CANCEL_ONLY") ||
      Contains(e, "UNAVAILABLE") || Contains(e, "INTERNAL")) {
    return VenueReject::kVenueUnavailable;
  }
  if (Contains(e, "UNKNOWN_CANCEL_ORDER") || Contains(e, "NOT_FOUND")) {
    return VenueReject::kUnknownOrder;
  }
  if (Contains(e, "PRICE")) return VenueReject::kInvalidPrice;
  if (Contains(e, "SIZE")) return VenueReject::kInvalidSize;
  if (Contains(e, "PRODUCT") || Contains(e, "INELIGIBLE_PAIR")) {
    return VenueReject::kUnknownInstrument;
  }
  if (Contains(e, "DUPLICATE_CLIENT_ORDER_ID")) return VenueReject::kDuplicateClientId;
  if (Contains(e, "INVALID_ARGUMENT") || Contains(e, "UNSUPPORTED_ORDER_CONFIGURATION") ||
      Contains(e, "INVALID_SIDE") || Contains(e, "INVALID_REQUEST")) {
    return VenueReject::kInvalidRequest;
  }
  if (http_status == 400 || http_status == 404) return VenueReject::kInvalidRequest;
  return VenueReject::kUnknown;
}

namespace {

// An HTTP error body {"error":..,"error_details":..,"message":..}; *text gets "error".
void DecodeHttpError(int status, const char* body, size_t n, VenueReject* reject,
                     std::string_view* text) noexcept {
  *text = {};
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (n > 0 && !Parser().iterate(body, n, n + simdjson::SIMDJSON_PADDING).get(doc) &&
      !doc.get_object().get(obj)) {
    for (auto field : obj) {
      std::string_view k;
      if (field.unescaped_key().get(k)) break;
      if (k == "error") {
        if (field.value().get_string().get(*text)) *text = {};
        break;
      }
    }
  }
  *reject = MapCoinbaseError(status, *text);
}

}  // namespace

DecodeError DecodeCreateOrderResponse(int http_status, const char* body, size_t n,
                                      CreateOrderResponse* out) noexcept {
  *out = CreateOrderResponse{};
  if (!Is2xx(http_status)) {
    std::string_view text;
    DecodeHttpError(http_status, body, n, &out->reject, &text);
    out->error_len = CopyTruncated(text, out->error);
    return DecodeError::kOk;
  }
  auto malformed = [out] {
    *out = CreateOrderResponse{};
    out->reject = VenueReject::kMalformedResponse;
    return DecodeError::kMalformed;
  };
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (Parser().iterate(body, n, n + simdjson::SIMDJSON_PADDING).get(doc) ||
      doc.get_object().get(root)) {
    return malformed();
  }
  bool have_success = false;
  std::string_view reasons[4];  // new_order_failure_reason, preview, error, failure_reason
  for (auto field : root) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return malformed();
    if (k == "success") {
      if (field.value().get_bool().get(out->success)) return malformed();
      have_success = true;
    } else if (k == "success_response" || k == "error_response") {
      simdjson::ondemand::object o;
      if (field.value().get_object().get(o)) continue;  // null
      const bool ok_part = k == "success_response";
      for (auto f : o) {
        std::string_view fk;
        std::string_view v;
        if (f.unescaped_key().get(fk)) return malformed();
        if (ok_part && fk == "order_id") {
          if (f.value().get_string().get(v) || v.size() > kMaxOrderIdBytes) return malformed();
          std::memcpy(out->order_id, v.data(), v.size());
          out->order_id_len = static_cast<uint8_t>(v.size());
        } else if (ok_part && fk == "client_order_id") {
          if (!f.value().get_string().get(v)) ParseClientOrderId(v, &out->client_order_id);
        } else if (!ok_part && fk == "new_order_failure_reason") {
          if (f.value().get_string().get(reasons[0])) reasons[0] = {};
        } else if (!ok_part && fk == "preview_failure_reason") {
          if (f.value().get_string().get(reasons[1])) reasons[1] = {};
        } else if (!ok_part && fk == "error") {
          if (f.value().get_string().get(reasons[2])) reasons[2] = {};
        }
      }
    } else if (k == "failure_reason") {
      if (field.value().get_string().get(reasons[3])) reasons[3] = {};
    }
  }
  if (!have_success) return malformed();
  if (out->success) {
    if (out->order_id_len == 0) return malformed();
    return DecodeError::kOk;
  }
  // The most specific informative reason that maps to something we know; else the first
  // informative one (as kUnknown).
  out->reject = VenueReject::kUnknown;
  std::string_view used;
  for (std::string_view r : reasons) {
    if (!Informative(r)) continue;
    if (used.empty()) used = r;
    const VenueReject m = MapCoinbaseError(http_status, r);
    if (m != VenueReject::kUnknown) {
      out->reject = m;
      used = r;
      break;
    }
  }
  out->error_len = CopyTruncated(used, out->error);
  return DecodeError::kOk;
}

DecodeError DecodeBatchCancelResponse(int http_status, const char* body, size_t n,
                                      BatchCancelResponse* out) noexcept {
  out->reject = VenueReject::kNone;
  out->count = 0;
  if (!Is2xx(http_status)) {
    std::string_view text;
    DecodeHttpError(http_status, body, n, &out->reject, &text);
    return DecodeError::kOk;
  }
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  simdjson::ondemand::array results;
  auto malformed = [out] {
    out->count = 0;
    out->reject = VenueReject::kMalformedResponse;
    return DecodeError::kMalformed;
  };
  if (Parser().iterate(body, n, n + simdjson::SIMDJSON_PADDING).get(doc) ||
      doc.get_object().get(root) || root.find_field_unordered("results").get_array().get(results)) {
    return malformed();
  }
  for (auto item : results) {
    simdjson::ondemand::object o;
    if (item.get_object().get(o)) return malformed();
    CancelResult r;
    bool have_id = false;
    for (auto f : o) {
      std::string_view k;
      std::string_view v;
      if (f.unescaped_key().get(k)) return malformed();
      if (k == "success") {
        if (f.value().get_bool().get(r.success)) return malformed();
      } else if (k == "failure_reason") {
        if (!f.value().get_string().get(v) && Informative(v)) {
          r.reject = MapCoinbaseError(http_status, v);
        }
      } else if (k == "order_id") {
        if (f.value().get_string().get(v) || v.size() > kMaxOrderIdBytes) return malformed();
        std::memcpy(r.order_id, v.data(), v.size());
        r.order_id_len = static_cast<uint8_t>(v.size());
        have_id = true;
      }
    }
    if (!have_id) return malformed();
    if (!r.success && r.reject == VenueReject::kNone) r.reject = VenueReject::kUnknown;
    if (r.success) r.reject = VenueReject::kNone;
    if (out->count < kMaxCancelBatch) out->results[out->count++] = r;
  }
  return DecodeError::kOk;
}

CoinbaseOrderStatus ParseOrderStatus(std::string_view s) noexcept {
  if (s == "OPEN") return CoinbaseOrderStatus::kOpen;
  if (s == "FILLED") return CoinbaseOrderStatus::kFilled;
  if (s == "CANCELLED") return CoinbaseOrderStatus::kCancelled;
  if (s == "PENDING") return CoinbaseOrderStatus::kPending;
  if (s == "CANCEL_QUEUED") return CoinbaseOrderStatus::kCancelQueued;
  if (s == "EXPIRED") return CoinbaseOrderStatus::kExpired;
  if (s == "FAILED") return CoinbaseOrderStatus::kFailed;
  return CoinbaseOrderStatus::kUnknown;
}

bool ParseClientOrderId(std::string_view s, uint64_t* id) noexcept {
  if (s.empty() || s.size() > 20 || s[0] == '0') return false;
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v == 0) return false;
  *id = v;
  return true;
}

namespace {

// Reads a string field (or a number, as its text) into *dst; null leaves it empty.
bool Text(simdjson::ondemand::value v, std::string* dst) {
  std::string_view s;
  if (!v.get_string().get(s)) {
    *dst = std::string(s);
    return true;
  }
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return false;
  if (t == simdjson::ondemand::json_type::null) return true;
  if (t != simdjson::ondemand::json_type::number) return false;
  s = v.raw_json_token();
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  *dst = std::string(s);
  return true;
}

}  // namespace

namespace {

// One order object of List Orders / Get Order. nullptr on success, else what is wrong.
const char* ReadVenueOrder(simdjson::ondemand::object o, VenueOrder* out) {
  VenueOrder& vo = *out;
  for (auto f : o) {
    std::string_view fk;
    simdjson::ondemand::value v;
    if (f.unescaped_key().get(fk) || f.value().get(v)) return "order field";
    std::string s;
    if (fk == "order_id") {
      if (!Text(v, &vo.order_id)) return "order_id";
    } else if (fk == "client_order_id") {
      if (!Text(v, &vo.client_order_id)) return "client_order_id";
    } else if (fk == "product_id") {
      if (!Text(v, &vo.product_id)) return "product_id";
    } else if (fk == "side") {
      if (!Text(v, &s)) return "side";
      vo.side = s == "SELL" ? Side::kSell : Side::kBuy;
    } else if (fk == "status") {
      if (!Text(v, &s)) return "status";
      vo.status = ParseOrderStatus(s);
    } else if (fk == "filled_size") {
      if (!Text(v, &vo.filled_size)) return "filled_size";
    } else if (fk == "average_filled_price") {
      if (!Text(v, &vo.average_filled_price)) return "average_filled_price";
    } else if (fk == "filled_value") {
      if (!Text(v, &vo.filled_value)) return "filled_value";
    } else if (fk == "total_fees") {
      if (!Text(v, &vo.total_fees)) return "total_fees";
    } else if (fk == "number_of_fills") {
      // A string in the reference ("2"), a number in some answers: accept both.
      int64_t nf = 0;
      if (!Text(v, &s)) return "number_of_fills";
      if (!s.empty()) {
        auto r = std::from_chars(s.data(), s.data() + s.size(), nf);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return "number_of_fills";
      }
      vo.number_of_fills = nf;
    }
  }
  if (vo.order_id.empty()) return "order without order_id";
  return nullptr;
}

}  // namespace

absl::StatusOr<ListOrdersPage> DecodeListOrders(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto bad = [](const char* why) {
    return absl::InvalidArgumentError(
        std::string("Coinbase list-orders response is not the documented shape: ") + why);
  };
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) return bad("not an object");
  ListOrdersPage page;
  for (auto field : root) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return bad("bad key");
    if (k == "has_next") {
      if (field.value().get_bool().get(page.has_next)) return bad("has_next");
    } else if (k == "cursor") {
      simdjson::ondemand::value v;
      if (field.value().get(v) || !Text(v, &page.cursor)) return bad("cursor");
    } else if (k == "orders") {
      simdjson::ondemand::array arr;
      if (field.value().get_array().get(arr)) return bad("orders is not an array");
      for (auto item : arr) {
        simdjson::ondemand::object o;
        if (item.get_object().get(o)) return bad("order is not an object");
        VenueOrder vo;
        if (const char* why = ReadVenueOrder(o, &vo)) return bad(why);
        page.orders.push_back(std::move(vo));
      }
    }
  }
  return page;
}

absl::StatusOr<VenueOrder> DecodeGetOrder(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto bad = [](const char* why) {
    return absl::InvalidArgumentError(
        std::string("Coinbase get-order response is not the documented shape: ") + why);
  };
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) return bad("not an object");
  for (auto field : root) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return bad("bad key");
    if (k != "order") continue;
    simdjson::ondemand::object o;
    if (field.value().get_object().get(o)) return bad("order is not an object");
    VenueOrder vo;
    if (const char* why = ReadVenueOrder(o, &vo)) return bad(why);
    return vo;
  }
  return bad("no order");
}

absl::StatusOr<ListFillsPage> DecodeListFills(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto bad = [](const char* why) {
    return absl::InvalidArgumentError(
        std::string("Coinbase list-fills response is not the documented shape: ") + why);
  };
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) return bad("not an object");
  ListFillsPage page;
  for (auto field : root) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return bad("bad key");
    if (k == "cursor") {
      simdjson::ondemand::value v;
      if (field.value().get(v) || !Text(v, &page.cursor)) return bad("cursor");
    } else if (k == "fills") {
      simdjson::ondemand::array arr;
      if (field.value().get_array().get(arr)) return bad("fills is not an array");
      for (auto item : arr) {
        simdjson::ondemand::object o;
        if (item.get_object().get(o)) return bad("fill is not an object");
        VenueFill vf;
        for (auto f : o) {
          std::string_view fk;
          simdjson::ondemand::value v;
          if (f.unescaped_key().get(fk) || f.value().get(v)) return bad("fill field");
          std::string s;
          bool ok = true;
          if (fk == "entry_id")
            ok = Text(v, &vf.entry_id);
          else if (fk == "trade_id")
            ok = Text(v, &vf.trade_id);
          else if (fk == "order_id")
            ok = Text(v, &vf.order_id);
          else if (fk == "product_id")
            ok = Text(v, &vf.product_id);
          else if (fk == "price")
            ok = Text(v, &vf.price);
          else if (fk == "size")
            ok = Text(v, &vf.size);
          else if (fk == "commission")
            ok = Text(v, &vf.commission);
          else if (fk == "side") {
            ok = Text(v, &s);
            vf.side = s == "SELL" ? Side::kSell : Side::kBuy;
          } else if (fk == "liquidity_indicator") {
            ok = Text(v, &s);
            vf.liquidity = s == "MAKER"   ? Liquidity::kMaker
                           : s == "TAKER" ? Liquidity::kTaker
                                          : Liquidity::kUnknown;
          } else if (fk == "size_in_quote") {
            ok = !v.get_bool().get(vf.size_in_quote);
          }
          if (!ok) return bad("fill field type");
        }
        if (vf.order_id.empty() || vf.trade_id.empty()) return bad("fill without ids");
        page.fills.push_back(std::move(vf));
      }
    }
  }
  return page;
}

}  // namespace nzeza::venues::coinbase
