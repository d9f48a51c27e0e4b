// One product's limit order book for the simulated venue: price-time priority (better price
// first, FIFO within a price level), resting limit orders, taking liquidity up to a limit price
// or at any price (market), cancels. Prices and sizes are int64 mantissas at the product's scales;
// the book knows nothing of accounts, fees or JSON (exchange.cc does).
//
//   sim::MatchingBook book;
//   std::vector<sim::LevelUpdate> levels;
//   book.Add(/*id=*/1, /*owner=*/-1, sim::Side::kSell, /*price=*/5000000, /*size=*/100, &levels);
//   std::vector<sim::MatchFill> fills;
//   int64_t left = book.Take(sim::Side::kBuy, /*limit=*/5000000, /*size=*/40, &fills, &levels);
//   // fills[0]: maker 1, price 5000000, size 40; left == 0; the level now holds 60.
//
// Thread: not synchronised; one thread owns a book.
// Allocates: per order and per new price level (std::map / std::list nodes); control plane only.
#ifndef NZEZA_VENUES_SIM_MATCHING_H_
#define NZEZA_VENUES_SIM_MATCHING_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

namespace nzeza::sim {

enum class Side : uint8_t { kBuy = 0, kSell = 1 };

constexpr Side Opposite(Side s) noexcept { return s == Side::kBuy ? Side::kSell : Side::kBuy; }

// One execution against a resting (maker) order, at the maker's price.
struct MatchFill {
  uint64_t maker_id = 0;
  int32_t maker_owner = 0;
  int64_t price = 0;
  int64_t size = 0;
  int64_t maker_leaves = 0;  // what the maker has left after this fill (0: it left the book)
};

// A price level's new total size (absolute; 0: the level is gone), as level2 publishes it.
struct LevelUpdate {
  Side side = Side::kBuy;
  int64_t price = 0;
  int64_t size = 0;
};

// A resting order as the book keeps it.
struct RestingOrder {
  int32_t owner = 0;
  Side side = Side::kBuy;
  int64_t price = 0;
  int64_t leaves = 0;
  std::list<uint64_t>::iterator queue_pos = {};
};

class MatchingBook {
 public:
  // Take(): no price limit (a market order).
  static constexpr int64_t kNoLimit = -1;

  // Whether a `side` order limited at `price` would trade with a resting order now.
  bool WouldCross(Side side, int64_t price) const noexcept;

  // Takes liquidity for an incoming `side` order of `size`, best price first, FIFO within a level,
  // never beyond `limit_price` (kNoLimit: any price). Appends one MatchFill per maker touched and
  // the changed levels; returns the size left unfilled. Complexity: O(fills + levels touched).
  int64_t Take(Side side, int64_t limit_price, int64_t size, std::vector<MatchFill>* fills,
               std::vector<LevelUpdate>* levels);

  // Rests an order at the back of its price level's queue. False (nothing changed) when the id is
  // already in the book, size <= 0 or price <= 0. The caller takes liquidity first: resting an
  // order that crosses is allowed but leaves a crossed book.
  bool Add(uint64_t id, int32_t owner, Side side, int64_t price, int64_t size,
           std::vector<LevelUpdate>* levels);

  // Removes an order; returns its leaves (0: not in the book).
  int64_t Cancel(uint64_t id, std::vector<LevelUpdate>* levels);

  const RestingOrder* Find(uint64_t id) const;

  // Best bid / offer price; false when that side is empty.
  bool BestBid(int64_t* price) const noexcept;
  bool BestAsk(int64_t* price) const noexcept;

  // Total resting size at a price on a side (0: no level).
  int64_t LevelSize(Side side, int64_t price) const;

  // Up to `max_levels` levels of a side, best first, as (price, size).
  void Levels(Side side, size_t max_levels, std::vector<std::pair<int64_t, int64_t>>* out) const;

  // How much an incoming `side` order could take with at most `quote_budget` of notional
  // (price mantissa x size mantissa, at price scale + size scale), in multiples of `lot`, at any
  // price. Reads only. Used for market buys sized in quote.
  int64_t SizeForQuote(Side side, __int128 quote_budget, int64_t lot) const;

  // The notional (price x size mantissas) an incoming `side` order of `size` would trade at any
  // price, and how much of it the book holds (*available). Reads only.
  __int128 CostToTake(Side side, int64_t size, int64_t* available) const;

  size_t order_count() const noexcept { return orders_.size(); }
  size_t level_count(Side side) const noexcept {
    return side == Side::kBuy ? bids_.size() : asks_.size();
  }

 private:
  struct Level {
    int64_t total = 0;
    std::list<uint64_t> queue;  // order ids, oldest first
  };
  using BidMap = std::map<int64_t, Level, std::greater<int64_t>>;
  using AskMap = std::map<int64_t, Level, std::less<int64_t>>;

  template <typename MapT>
  int64_t TakeFrom(MapT& book, Side book_side, Side taker_side, int64_t limit_price, int64_t size,
                   std::vector<MatchFill>* fills, std::vector<LevelUpdate>* levels);

  BidMap bids_;
  AskMap asks_;
  absl::flat_hash_map<uint64_t, RestingOrder> orders_;
};

}  // namespace nzeza::sim

#endif  // NZEZA_VENUES_SIM_MATCHING_H_
