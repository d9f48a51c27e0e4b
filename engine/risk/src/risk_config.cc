#include <nzeza/risk/risk_config.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace nzeza {
namespace {

absl::Status Bad(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status Positive(const std::string& field, int64_t v) {
  if (v > 0) return absl::OkStatus();
  return Bad(field, absl::StrCat("must be > 0 (got ", v, ")"));
}

absl::Status NonNegative(const std::string& field, int64_t v) {
  if (v >= 0) return absl::OkStatus();
  return Bad(field, absl::StrCat("must be >= 0 or kNoLimit (got ", v, ")"));
}

#define NZ_RETURN_IF_ERROR(expr)             \
  do {                                       \
    absl::Status _nz_status = (expr);        \
    if (!_nz_status.ok()) return _nz_status; \
  } while (0)

}  // namespace

absl::Status RiskConfig::Validate() const {
  if (notional_scale < 0 || notional_scale > 30) {
    return Bad("notional_scale", absl::StrCat("must be in [0, 30] (got ", notional_scale, ")"));
  }
  if (instruments.empty()) return Bad("instruments", "at least one instrument is required");
  for (size_t i = 0; i < instruments.size(); ++i) {
    const InstrumentRisk& in = instruments[i];
    const std::string p = absl::StrCat("instruments[", i, "].");
    if (in.price_scale < 0 || in.price_scale > 18) {
      return Bad(p + "price_scale", absl::StrCat("must be in [0, 18] (got ", in.price_scale, ")"));
    }
    if (in.size_scale < 0 || in.size_scale > 18) {
      return Bad(p + "size_scale", absl::StrCat("must be in [0, 18] (got ", in.size_scale, ")"));
    }
    if (in.price_scale + in.size_scale > notional_scale) {
      return Bad(p + "price_scale",
                 absl::StrCat("price_scale + size_scale (", in.price_scale + in.size_scale,
                              ") exceeds notional_scale (", notional_scale,
                              "): notionals would not convert exactly"));
    }
    if (in.fee_scale < 0 || in.fee_scale > notional_scale) {
      return Bad(p + "fee_scale", absl::StrCat("must be in [0, notional_scale=", notional_scale,
                                               "] (got ", in.fee_scale, ")"));
    }
    NZ_RETURN_IF_ERROR(Positive(p + "tick_size", in.tick_size));
    NZ_RETURN_IF_ERROR(Positive(p + "lot_size", in.lot_size));
    NZ_RETURN_IF_ERROR(Positive(p + "max_order_size", in.max_order_size));
    NZ_RETURN_IF_ERROR(Positive(p + "max_order_notional", in.max_order_notional));
    NZ_RETURN_IF_ERROR(NonNegative(p + "collar_bps", in.collar_bps));
    NZ_RETURN_IF_ERROR(NonNegative(p + "collar_ticks", in.collar_ticks));
    NZ_RETURN_IF_ERROR(NonNegative(p + "max_long", in.max_long));
    NZ_RETURN_IF_ERROR(NonNegative(p + "max_short", in.max_short));
    NZ_RETURN_IF_ERROR(NonNegative(p + "max_open_orders", in.max_open_orders));
  }
  NZ_RETURN_IF_ERROR(NonNegative("max_gross_notional", max_gross_notional));
  NZ_RETURN_IF_ERROR(NonNegative("capital", capital));
  NZ_RETURN_IF_ERROR(NonNegative("max_open_orders_total", max_open_orders_total));
  if (throttle_max_msgs != kNoLimit && (throttle_max_msgs < 1 || throttle_max_msgs > (1 << 20))) {
    return Bad("throttle_max_msgs",
               absl::StrCat("must be in [1, 1048576] or kNoLimit (got ", throttle_max_msgs, ")"));
  }
  NZ_RETURN_IF_ERROR(Positive("throttle_window_ns", throttle_window_ns));
  NZ_RETURN_IF_ERROR(NonNegative("duplicate_window_ns", duplicate_window_ns));
  NZ_RETURN_IF_ERROR(Positive("max_daily_loss", max_daily_loss));
  if (day_boundary_ns < 0 || day_boundary_ns >= kNanosPerDay) {
    return Bad(
        "day_boundary_ns",
        absl::StrCat("must be in [0, 86400e9) ns after UTC midnight (got ", day_boundary_ns, ")"));
  }
  if (working_capacity < 1 || working_capacity > (1 << 22)) {
    return Bad("working_capacity",
               absl::StrCat("must be in [1, 4194304] (got ", working_capacity, ")"));
  }
  if (first_client_order_id == 0) {
    return Bad("first_client_order_id",
               "must be > 0 (0 marks an empty slot; recover it from the "
               "OMS journal)");
  }
  const BreakerConfig& b = breaker;
  NZ_RETURN_IF_ERROR(Positive("breaker.stale_after_ns", b.stale_after_ns));
  NZ_RETURN_IF_ERROR(NonNegative("breaker.gap_grace_ns", b.gap_grace_ns));
  if (b.reject_burst_count != kNoLimit &&
      (b.reject_burst_count < 1 || b.reject_burst_count > (1 << 16))) {
    return Bad("breaker.reject_burst_count",
               absl::StrCat("must be in [1, 65536] or kNoLimit (got ", b.reject_burst_count, ")"));
  }
  NZ_RETURN_IF_ERROR(Positive("breaker.reject_burst_window_ns", b.reject_burst_window_ns));
  NZ_RETURN_IF_ERROR(Positive("breaker.price_move_bps", b.price_move_bps));
  NZ_RETURN_IF_ERROR(Positive("breaker.price_move_window_ns", b.price_move_window_ns));
  NZ_RETURN_IF_ERROR(Positive("breaker.latency_budget_ns", b.latency_budget_ns));
  NZ_RETURN_IF_ERROR(NonNegative("breaker.cooldown_ns", b.cooldown_ns));
  if (b.probe_orders < 1 || b.probe_orders > (1 << 20)) {
    return Bad("breaker.probe_orders",
               absl::StrCat("must be in [1, 1048576] (got ", b.probe_orders, ")"));
  }
  return absl::OkStatus();
}

}  // namespace nzeza
