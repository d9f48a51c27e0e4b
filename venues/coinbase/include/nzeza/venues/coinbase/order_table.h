// CoinbaseOrderTable: what the gateway and the user-channel decoder know of each working order
// (the venue's order id, the fills seen so far), in a fixed-capacity open-addressing table keyed
// by our client order id.
//
//   CoinbaseOrderTable table(1024);                 // allocates here only
//   TrackedOrder* o = table.Insert(cmd.client_order_id);   // on Send; nullptr when full
//   o->instrument = cmd.instrument; ...
//   if (TrackedOrder* t = table.Find(id)) { ... }
//   table.Erase(id);                                // when the order is done
//
// Thread: one owner (the order stage). Allocates: in the constructor only. Complexity: O(1)
// expected (linear probing, load kept <= 1/2, backward-shift deletion: no tombstones).
#ifndef NZEZA_VENUES_COINBASE_ORDER_TABLE_H_
#define NZEZA_VENUES_COINBASE_ORDER_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <nzeza/core/events.h>
#include "nzeza/venues/coinbase/orders.h"

namespace nzeza::venues::coinbase {

struct TrackedOrder {
  uint64_t client_order_id = 0;  // 0: empty slot
  uint64_t intent_id = 0;
  int64_t sent_ns = 0;
  int64_t size = 0;          // ordered size (size scale)
  int64_t cum_size = 0;      // filled so far (size scale)
  int64_t filled_value = 0;  // sum of price x size (price scale + size scale)
  int64_t fees = 0;          // fee scale
  InstrumentId instrument = 0;
  uint32_t strategy_id = 0;
  Side side = Side::kBuy;
  bool acked = false;
  // The create had no definite answer: a status query (the same create again: Coinbase answers a
  // repeated client_order_id with the original order) is due at resolve_at_ns.
  bool in_doubt = false;
  bool resolve_queued = false;  // in the gateway's in-doubt list
  bool cancel_wanted = false;   // a cancel waits for the venue's order id (not acked yet)
  uint8_t resolve_attempts = 0;
  int64_t resolve_at_ns = 0;
  OrderCmd create{};  // the create as sent (resent verbatim by the status query)
  uint8_t order_id_len = 0;
  char order_id[kMaxOrderIdBytes] = {};
  std::string_view order_id_view() const noexcept { return {order_id, order_id_len}; }
  void set_order_id(std::string_view id) noexcept;
};

class CoinbaseOrderTable {
 public:
  // Holds up to `max_orders` orders (the slot array is twice that, rounded to a power of two).
  explicit CoinbaseOrderTable(size_t max_orders);

  // A fresh entry for `id` (id != 0), or nullptr when `id` is present already or the table holds
  // max_orders. Allocates: never.
  TrackedOrder* Insert(uint64_t id) noexcept;
  TrackedOrder* Find(uint64_t id) noexcept;
  const TrackedOrder* Find(uint64_t id) const noexcept;
  bool Erase(uint64_t id) noexcept;
  size_t size() const noexcept { return size_; }
  size_t max_orders() const noexcept { return max_orders_; }
  // Visits every entry (table order). Thread: owner.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].client_order_id != 0) f(slots_[i]);
    }
  }

 private:
  size_t Home(uint64_t id) const noexcept;
  std::unique_ptr<TrackedOrder[]> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t max_orders_ = 0;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_ORDER_TABLE_H_
