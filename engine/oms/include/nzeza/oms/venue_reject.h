// VenueReject: why a venue refused an order or a cancel, venue-independent. Venue adapters map
// their own error strings onto it; it travels in ExecEvent::reject_code (kReject, kCancelReject).
//
//   ev.type = ExecType::kReject;
//   ev.reject_code = static_cast<uint16_t>(oms::VenueReject::kInsufficientFunds);
//   LOG(INFO) << oms::VenueRejectName(static_cast<oms::VenueReject>(ev.reject_code));
#ifndef NZEZA_OMS_VENUE_REJECT_H_
#define NZEZA_OMS_VENUE_REJECT_H_

#include <cstdint>

namespace nzeza::oms {

enum class VenueReject : uint16_t {
  kNone = 0,
  kUnknown = 1,             // an error the adapter does not recognise (the venue's text is logged)
  kInsufficientFunds = 2,   // balance / margin too low
  kInvalidPrice = 3,        // price off tick, out of the venue's band, non-positive
  kInvalidSize = 4,         // size off lot, below minimum, above maximum
  kPostOnlyWouldCross = 5,  // a post-only order would have taken liquidity
  kUnknownInstrument = 6,   // product unknown or not tradable
  kDuplicateClientId = 7,   // client order id already used
  kRateLimited = 8,         // the venue's rate limit (HTTP 429)
  kUnauthenticated = 9,     // bad, expired or wrong-key credentials (HTTP 401)
  kPermissionDenied = 10,   // the key lacks the permission (HTTP 403)
  kUnknownOrder = 11,       // cancel: no such order (or already done)
  kTooLateToCancel = 12,    // cancel: the order is already filled / done
  kVenueUnavailable = 13,   // 5xx, maintenance, cancel-only mode
  kTimeout = 14,            // no answer within the request timeout; the order's fate is unknown
  kMalformedResponse = 15,  // the venue's answer could not be decoded
  kInvalidRequest = 16,     // the venue says the request was malformed (a bug on our side)
  kOrderTableFull = 17,     // not sent: the order manager's table holds only live orders
};

// Stable lower_snake name ("insufficient_funds"); "unknown" outside the enum. Never null.
constexpr const char* VenueRejectName(VenueReject r) noexcept {
  switch (r) {
    case VenueReject::kNone:
      return "none";
    case VenueReject::kUnknown:
      return "unknown";
    case VenueReject::kInsufficientFunds:
      return "insufficient_funds";
    case VenueReject::kInvalidPrice:
      return "invalid_price";
    case VenueReject::kInvalidSize:
      return "invalid_size";
    case VenueReject::kPostOnlyWouldCross:
      return "post_only_would_cross";
    case VenueReject::kUnknownInstrument:
      return "unknown_instrument";
    case VenueReject::kDuplicateClientId:
      return "duplicate_client_id";
    case VenueReject::kRateLimited:
      return "rate_limited";
    case VenueReject::kUnauthenticated:
      return "unauthenticated";
    case VenueReject::kPermissionDenied:
      return "permission_denied";
    case VenueReject::kUnknownOrder:
      return "unknown_order";
    case VenueReject::kTooLateToCancel:
      return "too_late_to_cancel";
    case VenueReject::kVenueUnavailable:
      return "venue_unavailable";
    case VenueReject::kTimeout:
      return "timeout";
    case VenueReject::kMalformedResponse:
      return "malformed_response";
    case VenueReject::kInvalidRequest:
      return "invalid_request";
    case VenueReject::kOrderTableFull:
      return "order_table_full";
  }
  return "unknown";
}

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_VENUE_REJECT_H_
