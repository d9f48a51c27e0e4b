// The seeded market model. See market_model.h.
#include "nzeza/venues/sim/market_model.h"

#include <algorithm>

namespace nzeza::sim {
namespace {

// floor(sqrt(v)) for v >= 0, exact.
int64_t ISqrt(int64_t v) noexcept {
  if (v <= 0) return 0;
  int64_t x = 1;
  while (x <= v / x) x <<= 1;   // x > sqrt(v)
  int64_t lo = x >> 1, hi = x;  // sqrt(v) in [lo, hi)
  while (hi - lo > 1) {
    const int64_t m = lo + (hi - lo) / 2;
    if (m <= v / m) {
      lo = m;
    } else {
      hi = m;
    }
  }
  return lo;
}

constexpr int64_t kBillion = 1'000'000'000;

}  // namespace

MarketModel::MarketModel(const MarketModelParams& params, uint64_t seed) : p_(params), rng_(seed) {
  p_.tick = std::max<int64_t>(p_.tick, 1);
  p_.lot = std::max<int64_t>(p_.lot, 1);
  p_.min_size = std::max(p_.min_size, p_.lot);
  p_.max_size = std::max(p_.max_size, p_.min_size);
  p_.step_ns = std::max<int64_t>(p_.step_ns, 1);
  p_.seed_levels = std::max<int64_t>(p_.seed_levels, 1);
  mid_milli_ = std::max(p_.start_price, 100 * p_.tick) * 1000;
  // sqrt(step seconds) in parts per 10^9: sqrt(step_ns x 10^9) / 10^9 x 10^9.
  const int64_t sqrt_step_ppb = ISqrt(std::min<int64_t>(p_.step_ns, 3600 * kBillion) * kBillion);
  // vol_bps / 10^4 x sqrt(step): parts per 10^9.
  step_sigma_ppb_ = p_.volatility_bps * sqrt_step_ppb / 10'000;
  const __int128 per_step =
      static_cast<__int128>(p_.orders_per_sec) * p_.step_ns;  // arrivals x 10^9 per step
  arrivals_per_step_ppb_ = static_cast<int64_t>(std::min<__int128>(per_step, 1'000'000 * kBillion));
  // Spacing: a tenth of the one-second move (mid x vol_bps / 10^4 / 10), in ticks, at least 1.
  const __int128 one_sec_move = static_cast<__int128>(p_.start_price) * p_.volatility_bps / 100'000;
  spacing_ = std::max<int64_t>(1, static_cast<int64_t>(one_sec_move / p_.tick)) * p_.tick;
}

int64_t MarketModel::RoundToTick(int64_t price) const noexcept {
  const int64_t r = (price + p_.tick / 2) / p_.tick * p_.tick;
  return std::max(r, p_.tick);
}

int64_t MarketModel::mid() const noexcept { return RoundToTick(mid_milli_ / 1000); }

int64_t MarketModel::RandomSize() noexcept {
  const int64_t lots_lo = (p_.min_size + p_.lot - 1) / p_.lot;
  const int64_t lots_hi = std::max(lots_lo, p_.max_size / p_.lot);
  return (lots_lo +
          static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(lots_hi - lots_lo + 1)))) *
         p_.lot;
}

std::vector<SeedOrder> MarketModel::SeedBook() {
  std::vector<SeedOrder> out;
  const int64_t m = mid();
  for (int64_t i = 1; i <= p_.seed_levels; ++i) {
    const int64_t bid = m - i * spacing_;
    if (bid > 0) out.push_back(SeedOrder{.side = Side::kBuy, .price = bid, .size = RandomSize()});
    out.push_back(SeedOrder{.side = Side::kSell, .price = m + i * spacing_, .size = RandomSize()});
  }
  return out;
}

int MarketModel::Step() noexcept {
  const __int128 sigma_milli = static_cast<__int128>(mid_milli_) * step_sigma_ppb_ / kBillion;
  const int64_t move = static_cast<int64_t>(sigma_milli);
  if (rng_.Next() & 1) {
    mid_milli_ += move;
  } else {
    mid_milli_ -= move;
  }
  mid_milli_ = std::max(mid_milli_, 100 * p_.tick * 1000);
  int arrivals = static_cast<int>(arrivals_per_step_ppb_ / kBillion);
  const int64_t frac = arrivals_per_step_ppb_ % kBillion;
  if (frac > 0 && static_cast<int64_t>(rng_.Below(kBillion)) < frac) ++arrivals;
  return arrivals;
}

ParticipantAction MarketModel::NextAction(const BookTop& top, size_t resting) noexcept {
  ParticipantAction a;
  const uint64_t r = rng_.Below(100);
  if (resting > 0 && (r < 30 || resting > 2 * kMaxRestingPerSide)) {
    a.kind = ParticipantAction::Kind::kCancel;
    for (size_t& idx : a.cancel_index) idx = static_cast<size_t>(rng_.Below(resting));
    return a;
  }
  a.kind = ParticipantAction::Kind::kPlace;
  a.side = (rng_.Next() & 1) ? Side::kBuy : Side::kSell;
  a.size = RandomSize();
  const int64_t m = mid();
  if (r < 30 + 14) {  // 20% of placements cross the spread
    const int64_t extra = static_cast<int64_t>(rng_.Below(3)) * spacing_;
    if (a.side == Side::kBuy) {
      a.price = (top.has_ask ? top.ask : m) + extra;
    } else {
      a.price = (top.has_bid ? top.bid : m) - extra;
    }
  } else {
    const uint64_t levels = static_cast<uint64_t>(p_.seed_levels);
    const int64_t k = 1 + static_cast<int64_t>(std::min(rng_.Below(levels), rng_.Below(levels)));
    const int64_t jitter =
        static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(spacing_ / p_.tick))) * p_.tick;
    a.price = a.side == Side::kBuy ? m - k * spacing_ + jitter : m + k * spacing_ - jitter;
  }
  a.price = RoundToTick(a.price);
  return a;
}

}  // namespace nzeza::sim
