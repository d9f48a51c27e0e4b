// Positions and PnL per instrument, in fixed point.
//
//   Position p;                         // price scale 2, size scale 8 (set by the caller)
//   p.ApplyFill(Side::kBuy, 100'00, 1'00000000, /*fee=*/5);
//   p.ApplyFill(Side::kSell, 110'00, 40000000, 2);
//   __int128 upnl = p.UnrealizedPnl(/*mark=*/105'00);   // at price_scale + size_scale
//
// Quantities are signed size mantissas (long > 0). Cost basis, realized and unrealized PnL are
// 128-bit at the notional scale (price_scale + size_scale), so price x size never overflows and no
// double is involved. Closing part of a position removes cost * closed / qty (truncated toward
// zero); the remainder stays in the open cost basis, so realized + open cost is conserved exactly
// and the rounding is at most one notional unit per closing fill. Fees are summed at the quote
// scale the venue reports (ExecEvent::fee); realized PnL is gross of fees.
#ifndef NZEZA_OMS_POSITIONS_H_
#define NZEZA_OMS_POSITIONS_H_

#include <cstdint>

#include <nzeza/core/events.h>

namespace nzeza::oms {

// Thread: owned by the order stage. Allocates: never. Complexity: O(1) per call.
struct Position {
  int64_t qty = 0;        // signed size mantissa
  __int128 cost = 0;      // sum of price * signed size of the open quantity (notional scale)
  __int128 realized = 0;  // realized PnL, notional scale, gross of fees
  int64_t fees = 0;       // fee mantissa, quote scale (negative = rebates)
  int64_t bought = 0;     // total size bought
  int64_t sold = 0;       // total size sold
  uint64_t fills = 0;

  // Applies one fill of `size` (> 0) at `price`.
  void ApplyFill(Side side, int64_t price, int64_t size, int64_t fee) noexcept {
    const int64_t s = side == Side::kBuy ? size : -size;
    (side == Side::kBuy ? bought : sold) += size;
    fees += fee;
    ++fills;
    int64_t rest = s;
    if (qty != 0 && ((qty > 0) != (s > 0))) {
      const int64_t abs_q = qty > 0 ? qty : -qty;
      const int64_t abs_s = s > 0 ? s : -s;
      const int64_t closed = (qty > 0 ? 1 : -1) * (abs_s < abs_q ? abs_s : abs_q);
      // cost * closed / qty without overflowing 128 bits: split cost into quotient and remainder.
      const __int128 cost_removed =
          closed == qty ? cost : (cost / qty) * closed + (cost % qty) * closed / qty;
      realized += static_cast<__int128>(price) * closed - cost_removed;
      cost -= cost_removed;
      qty -= closed;
      rest = s + closed;
    }
    if (rest != 0) {
      qty += rest;
      cost += static_cast<__int128>(price) * rest;
    }
  }

  // Mark-to-market PnL of the open quantity at `mark` (notional scale).
  __int128 UnrealizedPnl(int64_t mark) const noexcept {
    return static_cast<__int128>(mark) * qty - cost;
  }

  // Average entry price of the open quantity, truncated toward zero (price scale); 0 when flat.
  // A report value: PnL never goes through it.
  int64_t AveragePrice() const noexcept { return qty == 0 ? 0 : static_cast<int64_t>(cost / qty); }

  friend bool operator==(const Position&, const Position&) = default;
};

}  // namespace nzeza::oms

#endif  // NZEZA_OMS_POSITIONS_H_
