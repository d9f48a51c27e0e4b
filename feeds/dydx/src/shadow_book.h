// ShadowSide: the dYdX decoder's light copy of one book side, for crossing detection and the
// uncross remedy (decoder.h). Per level: price, size and the logical offset (message order) that
// last set it. Internal to feeds/dydx.
//
// Layout as OrderBook's BookSide: a flat array sorted with the best level last (bids ascending,
// asks descending), so the top of the book, where dYdX updates cluster, moves the fewest bytes.
// Capacity fixed at construction; beyond it the side keeps an exact prefix of the venue's side
// and remembers the horizon (every level strictly better than the horizon is held; nothing at or
// beyond it is known), exactly like OrderBook's depth limit.
//
// Thread: single owner. Allocates: in the constructor only.
#ifndef NZEZA_FEEDS_DYDX_SRC_SHADOW_BOOK_H_
#define NZEZA_FEEDS_DYDX_SRC_SHADOW_BOOK_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "nzeza/core/events.h"

namespace nzeza::dydx_internal {

struct ShadowLevel {
  int64_t price = 0;
  int64_t size = 0;
  uint64_t offset = 0;
};

template <Side kSide>
class ShadowSide {
 public:
  static constexpr bool Better(int64_t a, int64_t b) noexcept {
    if constexpr (kSide == Side::kBuy) {
      return a > b;
    } else {
      return a < b;
    }
  }

  explicit ShadowSide(uint32_t capacity)
      : capacity_(capacity < 1 ? 1 : capacity), levels_(new ShadowLevel[capacity_]) {}

  void Clear() noexcept {
    size_ = 0;
    truncated_ = false;
    horizon_ = 0;
  }

  uint32_t size() const noexcept { return size_; }
  bool truncated() const noexcept { return truncated_; }
  int64_t horizon() const noexcept { return horizon_; }
  // The best level, nullptr when none is held.
  ShadowLevel* best() noexcept { return size_ != 0 ? &levels_[size_ - 1] : nullptr; }
  const ShadowLevel* best() const noexcept { return size_ != 0 ? &levels_[size_ - 1] : nullptr; }
  // Level of rank i (0 = best). Precondition: i < size().
  const ShadowLevel& operator[](uint32_t i) const noexcept { return levels_[size_ - 1 - i]; }

  // Replaces the side with `levels[0..n)` (anything with .price and .size; size-0 entries are
  // skipped) when they are given best first, as the indexer writes a snapshot: O(n), where n
  // Set() calls would move the whole array for each worse level. Keeps the best capacity()
  // levels (the rest set the horizon and are counted in *dropped). Returns false, changing
  // nothing, when the levels are not strictly best first; then the caller uses Set().
  template <typename L>
  bool LoadBestFirst(const L* levels, size_t n, uint64_t offset, uint64_t* dropped) noexcept {
    size_t live = 0;
    int64_t prev = 0;
    for (size_t j = 0; j < n; ++j) {
      if (levels[j].size == 0) continue;
      if (live != 0 && !Better(prev, levels[j].price)) return false;
      prev = levels[j].price;
      ++live;
    }
    Clear();
    const uint32_t keep = live < capacity_ ? static_cast<uint32_t>(live) : capacity_;
    uint32_t k = 0;
    for (size_t j = 0; j < n; ++j) {
      if (levels[j].size == 0) continue;
      if (k == keep) {
        Truncate(levels[j].price);
        *dropped += live - keep;
        break;
      }
      levels_[keep - 1 - k] = ShadowLevel{levels[j].price, levels[j].size, offset};
      ++k;
    }
    size_ = keep;
    return true;
  }

  // Removes the best level. Precondition: size() > 0.
  void PopBest() noexcept { --size_; }

  // Sets the level at `price` to `size` (0 deletes) with `offset`. Returns false when the level
  // was dropped at the depth limit (not tracked).
  bool Set(int64_t price, int64_t size, uint64_t offset) noexcept {
    if (truncated_ && !Better(price, horizon_)) return size == 0;
    // i: the number of held levels worse than `price` (its index in the best-last array).
    const uint32_t i = WorseCount(price);
    ShadowLevel* lv = levels_.get();
    if (i < size_ && lv[i].price == price) {
      if (size == 0) {
        std::memmove(lv + i, lv + i + 1, size_t{size_ - i - 1} * sizeof(ShadowLevel));
        --size_;
      } else {
        lv[i].size = size;
        lv[i].offset = offset;
      }
      return true;
    }
    if (size == 0) return true;
    uint32_t at = i;
    if (size_ == capacity_) {
      if (at == 0) {  // worse than every held level
        Truncate(price);
        return false;
      }
      Truncate(lv[0].price);  // evict the worst
      std::memmove(lv, lv + 1, size_t{size_ - 1} * sizeof(ShadowLevel));
      --size_;
      --at;
    }
    std::memmove(lv + at + 1, lv + at, size_t{size_ - at} * sizeof(ShadowLevel));
    lv[at] = ShadowLevel{price, size, offset};
    ++size_;
    return true;
  }

 private:
  // Held levels strictly worse than `price`: scans from the top (where updates cluster) for a
  // few levels, then binary-searches.
  uint32_t WorseCount(int64_t price) const noexcept {
    const ShadowLevel* lv = levels_.get();
    uint32_t hi = size_;
    // Linear from the best end: levels at index >= hi are better than or equal to `price`.
    for (int k = 0; k < 8 && hi > 0; ++k) {
      const int64_t p = lv[hi - 1].price;
      if (p == price) return hi - 1;
      if (Better(price, p)) return hi;  // p and everything below it is worse than `price`
      --hi;                             // p is better: `price` ranks below it
    }
    uint32_t lo = 0;
    while (lo < hi) {  // first index in [lo, hi) whose price is not worse than `price`
      const uint32_t mid = lo + (hi - lo) / 2;
      if (Better(price, lv[mid].price)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  void Truncate(int64_t price) noexcept {
    if (!truncated_ || Better(price, horizon_)) horizon_ = price;
    truncated_ = true;
  }

  uint32_t capacity_;
  uint32_t size_ = 0;
  bool truncated_ = false;
  int64_t horizon_ = 0;
  std::unique_ptr<ShadowLevel[]> levels_;
};

}  // namespace nzeza::dydx_internal

#endif  // NZEZA_FEEDS_DYDX_SRC_SHADOW_BOOK_H_
