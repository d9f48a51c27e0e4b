#include "nzeza/venues/coinbase/order_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace nzeza::venues::coinbase {

void TrackedOrder::set_order_id(std::string_view id) noexcept {
  const size_t n = std::min(id.size(), sizeof(order_id));
  if (n != 0) std::memcpy(order_id, id.data(), n);
  order_id_len = static_cast<uint8_t>(n);
}

CoinbaseOrderTable::CoinbaseOrderTable(size_t max_orders)
    : max_orders_(std::max<size_t>(1, max_orders)) {
  const size_t slots = std::bit_ceil(2 * max_orders_);
  slots_ = std::make_unique<TrackedOrder[]>(slots);
  mask_ = slots - 1;
}

size_t CoinbaseOrderTable::Home(uint64_t id) const noexcept {
  // Client ids are sequential: mix so neighbours spread (splitmix64 finalizer).
  uint64_t x = id;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<size_t>(x) & mask_;
}

TrackedOrder* CoinbaseOrderTable::Insert(uint64_t id) noexcept {
  if (id == 0 || size_ >= max_orders_) return nullptr;
  for (size_t i = Home(id);; i = (i + 1) & mask_) {
    if (slots_[i].client_order_id == id) return nullptr;
    if (slots_[i].client_order_id == 0) {
      slots_[i] = TrackedOrder{};
      slots_[i].client_order_id = id;
      ++size_;
      return &slots_[i];
    }
  }
}

TrackedOrder* CoinbaseOrderTable::Find(uint64_t id) noexcept {
  if (id == 0) return nullptr;
  for (size_t i = Home(id);; i = (i + 1) & mask_) {
    if (slots_[i].client_order_id == id) return &slots_[i];
    if (slots_[i].client_order_id == 0) return nullptr;
  }
}

const TrackedOrder* CoinbaseOrderTable::Find(uint64_t id) const noexcept {
  return const_cast<CoinbaseOrderTable*>(this)->Find(id);
}

bool CoinbaseOrderTable::Erase(uint64_t id) noexcept {
  TrackedOrder* t = Find(id);
  if (t == nullptr) return false;
  size_t hole = static_cast<size_t>(t - slots_.get());
  slots_[hole].client_order_id = 0;
  --size_;
  // Backward shift: move later members of the probe run into the hole when their home allows.
  for (size_t i = (hole + 1) & mask_; slots_[i].client_order_id != 0; i = (i + 1) & mask_) {
    const size_t home = Home(slots_[i].client_order_id);
    // Can slot i move to `hole`? Yes unless home lies cyclically in (hole, i].
    const bool home_in_between =
        hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (!home_in_between) {
      slots_[hole] = slots_[i];
      slots_[i].client_order_id = 0;
      hole = i;
    }
  }
  return true;
}

}  // namespace nzeza::venues::coinbase
