// The Coinbase instrument table: the engine's InstrumentId <-> Coinbase product_id, and the
// decimal scales at which prices, sizes and fees of that product are fixed-point mantissas.
//
//   CoinbaseInstruments table;
//   table.Add({.id = 0, .product_id = "BTC-USD", .price_scale = 2, .size_scale = 8,
//              .fee_scale = 10});
//   const CoinbaseInstrument* btc = table.Find(0);              // encoders
//   const CoinbaseInstrument* same = table.FindProduct("BTC-USD");  // decoders
//
// Thread: filled at start (control plane), then read-only from any thread.
#ifndef NZEZA_VENUES_COINBASE_INSTRUMENTS_H_
#define NZEZA_VENUES_COINBASE_INSTRUMENTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nzeza/core/events.h>
#include "absl/status/status.h"

namespace nzeza::venues::coinbase {

inline constexpr size_t kMaxProductIdBytes = 32;
inline constexpr InstrumentId kMaxInstrumentId = 65536;  // ids index a dense table

struct CoinbaseInstrumentSpec {
  InstrumentId id = 0;
  std::string product_id{};  // "BTC-USD"
  int price_scale = 0;       // decimals of the price mantissa (quote_increment)
  int size_scale = 0;        // decimals of the size mantissa (base_increment)
  int fee_scale = 0;         // decimals of ExecEvent::fee (quote currency)
};

// One product, fixed-size (no heap), as the hot path reads it.
struct CoinbaseInstrument {
  InstrumentId id = 0;
  uint8_t product_id_len = 0;
  int8_t price_scale = 0;
  int8_t size_scale = 0;
  int8_t fee_scale = 0;
  char product_id[kMaxProductIdBytes] = {};
  std::string_view product() const noexcept { return {product_id, product_id_len}; }
};

class CoinbaseInstruments {
 public:
  // Errors (InvalidArgument): a product id that is empty, longer than 31 bytes or not
  // [A-Z0-9-]; a scale outside [0, 18]; price_scale + size_scale over 18 (filled values are
  // notionals at that scale); an id of 65536 or more; an id or product
  // already present.
  absl::Status Add(const CoinbaseInstrumentSpec& spec);

  // nullptr when unknown. Complexity: Find O(1); FindProduct O(n) over the (few) products, no
  // allocation.
  const CoinbaseInstrument* Find(InstrumentId id) const noexcept;
  const CoinbaseInstrument* FindProduct(std::string_view product_id) const noexcept;
  size_t size() const noexcept { return products_.size(); }
  const std::vector<CoinbaseInstrument>& all() const noexcept { return products_; }

 private:
  std::vector<CoinbaseInstrument> products_;
  std::vector<int32_t> by_id_;  // InstrumentId -> index into products_, -1 if none
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_INSTRUMENTS_H_
