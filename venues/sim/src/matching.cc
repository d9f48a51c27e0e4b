// Price-time-priority book. See matching.h.
#include "nzeza/venues/sim/matching.h"

#include <algorithm>
#include <iterator>

namespace nzeza::sim {

bool MatchingBook::WouldCross(Side side, int64_t price) const noexcept {
  int64_t best;
  if (side == Side::kBuy) return BestAsk(&best) && best <= price;
  return BestBid(&best) && best >= price;
}

bool MatchingBook::BestBid(int64_t* price) const noexcept {
  if (bids_.empty()) return false;
  *price = bids_.begin()->first;
  return true;
}

bool MatchingBook::BestAsk(int64_t* price) const noexcept {
  if (asks_.empty()) return false;
  *price = asks_.begin()->first;
  return true;
}

template <typename MapT>
int64_t MatchingBook::TakeFrom(MapT& book, Side book_side, Side taker_side, int64_t limit_price,
                               int64_t size, std::vector<MatchFill>* fills,
                               std::vector<LevelUpdate>* levels) {
  while (size > 0 && !book.empty()) {
    auto level_it = book.begin();
    const int64_t price = level_it->first;
    if (limit_price != kNoLimit) {
      if (taker_side == Side::kBuy && price > limit_price) break;
      if (taker_side == Side::kSell && price < limit_price) break;
    }
    Level& level = level_it->second;
    while (size > 0 && !level.queue.empty()) {
      const uint64_t maker_id = level.queue.front();
      auto order_it = orders_.find(maker_id);
      RestingOrder& maker = order_it->second;
      const int64_t qty = std::min(size, maker.leaves);
      maker.leaves -= qty;
      level.total -= qty;
      size -= qty;
      fills->push_back(MatchFill{.maker_id = maker_id,
                                 .maker_owner = maker.owner,
                                 .price = price,
                                 .size = qty,
                                 .maker_leaves = maker.leaves});
      if (maker.leaves == 0) {
        level.queue.pop_front();
        orders_.erase(order_it);
      }
    }
    levels->push_back(LevelUpdate{.side = book_side, .price = price, .size = level.total});
    if (level.queue.empty()) book.erase(level_it);
  }
  return size;
}

int64_t MatchingBook::Take(Side side, int64_t limit_price, int64_t size,
                           std::vector<MatchFill>* fills, std::vector<LevelUpdate>* levels) {
  if (size <= 0) return 0;
  if (side == Side::kBuy) {
    return TakeFrom(asks_, Side::kSell, side, limit_price, size, fills, levels);
  }
  return TakeFrom(bids_, Side::kBuy, side, limit_price, size, fills, levels);
}

bool MatchingBook::Add(uint64_t id, int32_t owner, Side side, int64_t price, int64_t size,
                       std::vector<LevelUpdate>* levels) {
  if (size <= 0 || price <= 0 || orders_.contains(id)) return false;
  Level* level = side == Side::kBuy ? &bids_[price] : &asks_[price];
  level->queue.push_back(id);
  level->total += size;
  orders_.emplace(id, RestingOrder{.owner = owner,
                                   .side = side,
                                   .price = price,
                                   .leaves = size,
                                   .queue_pos = std::prev(level->queue.end())});
  levels->push_back(LevelUpdate{.side = side, .price = price, .size = level->total});
  return true;
}

int64_t MatchingBook::Cancel(uint64_t id, std::vector<LevelUpdate>* levels) {
  auto it = orders_.find(id);
  if (it == orders_.end()) return 0;
  const RestingOrder o = it->second;
  orders_.erase(it);
  auto remove = [&](auto& book) {
    auto level_it = book.find(o.price);
    Level& level = level_it->second;
    level.queue.erase(o.queue_pos);
    level.total -= o.leaves;
    levels->push_back(LevelUpdate{.side = o.side, .price = o.price, .size = level.total});
    if (level.queue.empty()) book.erase(level_it);
  };
  if (o.side == Side::kBuy) {
    remove(bids_);
  } else {
    remove(asks_);
  }
  return o.leaves;
}

const RestingOrder* MatchingBook::Find(uint64_t id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

int64_t MatchingBook::LevelSize(Side side, int64_t price) const {
  if (side == Side::kBuy) {
    auto it = bids_.find(price);
    return it == bids_.end() ? 0 : it->second.total;
  }
  auto it = asks_.find(price);
  return it == asks_.end() ? 0 : it->second.total;
}

void MatchingBook::Levels(Side side, size_t max_levels,
                          std::vector<std::pair<int64_t, int64_t>>* out) const {
  auto copy = [&](const auto& book) {
    for (const auto& [price, level] : book) {
      if (out->size() >= max_levels) break;
      out->emplace_back(price, level.total);
    }
  };
  if (side == Side::kBuy) {
    copy(bids_);
  } else {
    copy(asks_);
  }
}

int64_t MatchingBook::SizeForQuote(Side side, __int128 quote_budget, int64_t lot) const {
  if (lot <= 0 || quote_budget <= 0) return 0;
  int64_t total = 0;
  auto walk = [&](const auto& book) {
    for (const auto& [price, level] : book) {
      const __int128 affordable = quote_budget / price;  // size mantissa at this price
      __int128 qty = std::min<__int128>(affordable, level.total);
      qty -= qty % lot;
      if (qty <= 0) break;
      total += static_cast<int64_t>(qty);
      quote_budget -= qty * price;
      if (qty < level.total) break;  // the budget ran out inside this level
    }
  };
  if (side == Side::kBuy) {
    walk(asks_);
  } else {
    walk(bids_);
  }
  return total;
}

__int128 MatchingBook::CostToTake(Side side, int64_t size, int64_t* available) const {
  __int128 cost = 0;
  int64_t got = 0;
  auto walk = [&](const auto& book) {
    for (const auto& [price, level] : book) {
      if (got >= size) break;
      const int64_t qty = std::min(size - got, level.total);
      got += qty;
      cost += static_cast<__int128>(qty) * price;
    }
  };
  if (side == Side::kBuy) {
    walk(asks_);
  } else {
    walk(bids_);
  }
  *available = got;
  return cost;
}

}  // namespace nzeza::sim
