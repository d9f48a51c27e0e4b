// The simulated market's seeded model, per product: a random-walk mid and other participants'
// order flow around it. Integer arithmetic only, so a seed and a sequence of steps give the same
// mid and the same actions on every machine.
//
//   sim::MarketModel model(params, /*seed=*/42);
//   for (const sim::SeedOrder& o : model.SeedBook()) { /* rest o in the book */ }
//   int arrivals = model.Step();                          // one model_step_ns step
//   for (int i = 0; i < arrivals; ++i) {
//     sim::ParticipantAction a = model.NextAction(top, resting_participant_orders);
//   }
//
// The walk: each step the mid moves up or down (a fair coin) by sigma_step = mid x
// volatility_bps / 10^4 x sqrt(step seconds), so its variance grows by mid^2 x (vol_bps / 10^4)^2
// per second, i.e. volatility_bps per sqrt(second). The mid is kept at 1/1000 of a price mantissa
// unit and never falls below 100 ticks.
// The flow: arrivals are Bernoulli per step with mean participant_orders_per_sec x step seconds
// (several per step when that exceeds 1). An arrival cancels a resting participant order (30%,
// or always while more than kMaxRestingPerSide x 2 rest; the farthest from the mid of 4 drawn at
// random, so stale orders go first and the book follows the mid), crosses the spread (20% of the
// rest: a limit order at the opposite best plus 0..2 level spacings, so trades happen and resting
// quotes near the top get filled), or rests passively at the mid minus/plus 1..seed_levels
// spacings (skewed toward the top). The level spacing is a tenth of the one-second volatility,
// at least one tick; sizes are uniform in [base_min_size, participant_max_size] in lots.
//
// Thread: one thread per model. Allocates: SeedBook only.
#ifndef NZEZA_VENUES_SIM_MARKET_MODEL_H_
#define NZEZA_VENUES_SIM_MARKET_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nzeza/venues/sim/matching.h"
#include "nzeza/venues/sim/protocol_util.h"

namespace nzeza::sim {

struct MarketModelParams {
  int64_t start_price = 0;  // price mantissa
  int64_t tick = 1;         // price mantissa of price_increment
  int64_t lot = 1;          // size mantissa of base_increment
  int64_t min_size = 1;     // size mantissa of base_min_size (>= lot)
  int64_t max_size = 1;     // size mantissa of participant_max_size (>= min_size)
  int64_t volatility_bps = 0;
  int64_t orders_per_sec = 0;
  int64_t seed_levels = 0;
  int64_t step_ns = 1'000'000;
};

struct SeedOrder {
  Side side = Side::kBuy;
  int64_t price = 0;
  int64_t size = 0;
};

struct ParticipantAction {
  enum class Kind : uint8_t { kNone, kPlace, kCancel };
  Kind kind = Kind::kNone;
  Side side = Side::kBuy;
  int64_t price = 0;
  int64_t size = 0;
  // kCancel: kCancelCandidates random indices into the caller's list of resting participant
  // orders; the caller cancels the one farthest from the mid, so the book follows the mid.
  static constexpr int kCancelCandidates = 4;
  size_t cancel_index[kCancelCandidates] = {};
};

// What the model sees of the book when it decides.
struct BookTop {
  bool has_bid = false;
  bool has_ask = false;
  int64_t bid = 0;
  int64_t ask = 0;
};

class MarketModel {
 public:
  // Resting participant orders beyond this many per side (2x in all) are cancelled first.
  static constexpr size_t kMaxRestingPerSide = 400;

  MarketModel(const MarketModelParams& params, uint64_t seed);

  // The initial book: seed_levels levels per side around the start price, one spacing apart.
  std::vector<SeedOrder> SeedBook();

  // One step of model_step_ns: moves the mid; returns the number of participant arrivals.
  int Step() noexcept;

  // Decides one arrival's action given the book's top and how many participant orders rest.
  ParticipantAction NextAction(const BookTop& top, size_t resting) noexcept;

  // The mid rounded to a tick (price mantissa).
  int64_t mid() const noexcept;
  // The level spacing in price mantissa units (a multiple of the tick).
  int64_t spacing() const noexcept { return spacing_; }

 private:
  int64_t RandomSize() noexcept;
  int64_t RoundToTick(int64_t price) const noexcept;

  MarketModelParams p_;
  SplitMix64 rng_;
  int64_t mid_milli_ = 0;              // mid x 1000 (price mantissa units)
  int64_t step_sigma_ppb_ = 0;         // sigma per step as parts per 10^9 of the mid
  int64_t arrivals_per_step_ppb_ = 0;  // mean arrivals per step x 10^9
  int64_t spacing_ = 1;
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_MARKET_MODEL_H_
