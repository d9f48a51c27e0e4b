// Coinbase Advanced Trade REST order entry: request encoders into caller-provided buffers (no
// allocation) and response decoders (simdjson on-demand).
//
//   char body[kMaxBodyBytes], req[kMaxRequestBytes];
//   size_t body_len, req_len;
//   if (EncodeCreateOrderBody(cmd, *instrument, body, sizeof(body), &body_len) == EncodeError::kOk
//   &&
//       EncodeHttpRequest("POST", EndpointPath(CoinbaseEndpoint::kCreateOrder), "api.coinbase.com",
//                         jwt, {body, body_len}, req, sizeof(req), &req_len) == EncodeError::kOk) {
//     write(req, req_len);
//   }
//   CreateOrderResponse r;
//   DecodeCreateOrderResponse(http_status, resp_body, resp_len, &r);   // body padded
//   if (!r.success) reject(r.reject);
//
// Wire formats, from the Advanced Trade API reference (docs.cdp.coinbase.com/api-reference/
// advanced-trade-api/rest-api/orders/create-order, .../cancel-order, .../list-orders,
// .../list-fills):
//   POST /api/v3/brokerage/orders
//     {"client_order_id":"<our uint64>","product_id":"BTC-USD","side":"BUY"|"SELL",
//      "order_configuration":{"limit_limit_gtc":{"base_size":"0.001","limit_price":"43000.5",
//                                                 "post_only":false}}}
//     limit GTC -> limit_limit_gtc {base_size, limit_price, post_only}
//     limit IOC -> sor_limit_ioc {base_size, limit_price}
//     limit FOK -> limit_limit_fok {base_size, limit_price}
//     market IOC -> market_market_ioc {base_size}
//   -> {"success":true,"success_response":{"order_id":"<uuid>","product_id":..,"side":..,
//        "client_order_id":..},"order_configuration":{..}}
//   -> {"success":false,"failure_reason":..,"order_id":"","error_response":{"error":
//        "INSUFFICIENT_FUND","message":..,"error_details":..,"preview_failure_reason":..,
//        "new_order_failure_reason":..}}
//   POST /api/v3/brokerage/orders/batch_cancel {"order_ids":["<uuid>",...]}
//   -> {"results":[{"success":true,"failure_reason":"UNKNOWN_CANCEL_FAILURE_REASON",
//        "order_id":"<uuid>"}]}
//   HTTP errors (401, 403, 404, 429, 5xx): {"error":"UNAUTHENTICATED","error_details":..,
//     "message":..} (the body may also be empty or not JSON: then the status decides).
// Prices and sizes are written from the mantissas at the instrument's scales, canonical (no
// exponent, no trailing zeros): size 150000 at scale 8 -> "0.0015".
//
// Thread: all functions are pure. Allocates: encoders and the create/cancel decoders never; the
// list decoders (reconciliation, control plane) do.
#ifndef NZEZA_VENUES_COINBASE_ORDERS_H_
#define NZEZA_VENUES_COINBASE_ORDERS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nzeza/core/events.h>
#include <nzeza/oms/venue_reject.h>
#include "absl/status/statusor.h"
#include "nzeza/venues/coinbase/instruments.h"

namespace nzeza::venues::coinbase {

inline constexpr size_t kMaxBodyBytes = 512;
inline constexpr size_t kMaxRequestBytes = 2048;
inline constexpr size_t kMaxOrderIdBytes = 64;  // Coinbase order ids are 36-char UUIDs
inline constexpr size_t kMaxCancelBatch = 100;  // Coinbase's limit per batch_cancel
inline constexpr size_t kMaxErrorTextBytes = 64;

enum class EncodeError : uint8_t {
  kOk = 0,
  kBufferTooSmall = 1,
  kUnsupportedOrder = 2,  // no Coinbase order configuration for this type/tif/flags
  kInvalidPrice = 3,      // limit price <= 0
  kInvalidSize = 4,       // size <= 0
  kBadArgument = 5,       // empty batch, batch over 100, an id or header with bad characters
};

const char* EncodeErrorName(EncodeError e) noexcept;

// The create-order body for a kNew command. Errors: kUnsupportedOrder (post-only on anything but
// limit GTC, market with a tif other than IOC, reduce-only), kInvalidPrice, kInvalidSize,
// kBufferTooSmall. *len is written on kOk. Allocates: never.
[[nodiscard]] EncodeError EncodeCreateOrderBody(const OrderCmd& cmd, const CoinbaseInstrument& inst,
                                                char* out, size_t cap, size_t* len) noexcept;

// {"order_ids":["id",...]}. Errors: kBadArgument (no ids, more than 100, an empty id or one with
// characters that would need JSON escaping), kBufferTooSmall.
[[nodiscard]] EncodeError EncodeBatchCancelBody(std::span<const std::string_view> order_ids,
                                                char* out, size_t cap, size_t* len) noexcept;

// The complete HTTP/1.1 request:
//   METHOD path HTTP/1.1\r\nHost: host\r\nAuthorization: Bearer jwt\r\n
//   [Content-Type: application/json\r\nContent-Length: n\r\n]\r\nbody
// (the two body headers only when `body` is not empty). Errors: kBadArgument (CR, LF or NUL in
// path, host or jwt; a path not starting with '/'), kBufferTooSmall.
[[nodiscard]] EncodeError EncodeHttpRequest(std::string_view method, std::string_view path,
                                            std::string_view host, std::string_view jwt,
                                            std::string_view body, char* out, size_t cap,
                                            size_t* len) noexcept;

// Maps Coinbase's error strings (error_response.error, preview_failure_reason,
// new_order_failure_reason, an HTTP error's "error") and the HTTP status to a VenueReject:
// 401 -> kUnauthenticated, 403 -> kPermissionDenied, 429 -> kRateLimited, 5xx ->
// kVenueUnavailable; otherwise by the text (INSUFFICIENT_FUND* -> kInsufficientFunds, *POST_ONLY*
// -> kPostOnlyWouldCross, *PRICE* -> kInvalidPrice, *SIZE* -> kInvalidSize, *PRODUCT* /
// INELIGIBLE_PAIR -> kUnknownInstrument, ORDER_ENTRY_DISABLED / *CANCEL_ONLY* ->
// kVenueUnavailable, UNKNOWN_CANCEL_ORDER / NOT_FOUND -> kUnknownOrder, INVALID_ARGUMENT /
// UNSUPPORTED_ORDER_CONFIGURATION / INVALID_* -> kInvalidRequest), else kUnknown.
oms::VenueReject MapCoinbaseError(int http_status, std::string_view error) noexcept;

enum class DecodeError : uint8_t { kOk = 0, kMalformed = 1 };

struct CreateOrderResponse {
  bool success = false;
  oms::VenueReject reject = oms::VenueReject::kNone;
  uint8_t order_id_len = 0;
  uint8_t error_len = 0;
  uint64_t client_order_id = 0;  // success_response.client_order_id when it is our decimal id
  char order_id[kMaxOrderIdBytes] = {};
  char error[kMaxErrorTextBytes] = {};  // the venue's reason code, truncated (for the log)
  std::string_view order_id_view() const noexcept { return {order_id, order_id_len}; }
  std::string_view error_view() const noexcept { return {error, error_len}; }
};

// Decodes a create-order answer. `body` must have SIMDJSON_PADDING readable bytes after n (the
// HttpsClient's bodies do). A non-2xx status is a reject (its error shape decoded when present);
// a 2xx body that is not the documented shape is kMalformed with reject kMalformedResponse.
// Allocates: never (after the parser's first use).
[[nodiscard]] DecodeError DecodeCreateOrderResponse(int http_status, const char* body, size_t n,
                                                    CreateOrderResponse* out) noexcept;

struct CancelResult {
  bool success = false;
  oms::VenueReject reject = oms::VenueReject::kNone;
  uint8_t order_id_len = 0;
  char order_id[kMaxOrderIdBytes] = {};
  std::string_view order_id_view() const noexcept { return {order_id, order_id_len}; }
};

struct BatchCancelResponse {
  oms::VenueReject reject = oms::VenueReject::kNone;  // the whole request failed (HTTP error)
  uint32_t count = 0;
  CancelResult results[kMaxCancelBatch];
};

// Decodes a batch_cancel answer (padded body, as above). Results beyond 100 are dropped.
[[nodiscard]] DecodeError DecodeBatchCancelResponse(int http_status, const char* body, size_t n,
                                                    BatchCancelResponse* out) noexcept;

// Order status, as REST and the user channel spell it.
enum class CoinbaseOrderStatus : uint8_t {
  kUnknown = 0,
  kPending,
  kOpen,
  kFilled,
  kCancelQueued,
  kCancelled,
  kExpired,
  kFailed,
};
CoinbaseOrderStatus ParseOrderStatus(std::string_view s) noexcept;

// One order of GET /api/v3/brokerage/orders/historical/batch (reconciliation; text fields as
// sent, converted at the instrument's scales by the caller).
struct VenueOrder {
  std::string order_id{};
  std::string client_order_id{};  // as sent; ours are decimal uint64
  std::string product_id{};
  Side side = Side::kBuy;
  CoinbaseOrderStatus status = CoinbaseOrderStatus::kUnknown;
  std::string filled_size{};
  std::string average_filled_price{};
  std::string filled_value{};
  std::string total_fees{};
  int64_t number_of_fills = 0;
};
struct ListOrdersPage {
  std::vector<VenueOrder> orders{};
  bool has_next = false;
  std::string cursor{};
};

// One fill of GET /api/v3/brokerage/orders/historical/fills.
struct VenueFill {
  std::string entry_id{};
  std::string trade_id{};
  std::string order_id{};
  std::string product_id{};
  std::string price{};
  std::string size{};
  std::string commission{};
  Side side = Side::kBuy;
  Liquidity liquidity = Liquidity::kUnknown;
  bool size_in_quote = false;
};
struct ListFillsPage {
  std::vector<VenueFill> fills{};
  std::string cursor{};
};

// Errors: InvalidArgument for a body that is not the documented shape. Allocates.
absl::StatusOr<ListOrdersPage> DecodeListOrders(std::string_view body);
// GET /api/v3/brokerage/orders/historical/{order_id}: {"order":{...}} (the fields above).
absl::StatusOr<VenueOrder> DecodeGetOrder(std::string_view body);
absl::StatusOr<ListFillsPage> DecodeListFills(std::string_view body);

// Our client order id as Coinbase carries it (decimal text); false unless `s` is 1-20 digits
// that fit a uint64 and are not 0.
bool ParseClientOrderId(std::string_view s, uint64_t* id) noexcept;

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_ORDERS_H_
