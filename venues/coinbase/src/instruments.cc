#include "nzeza/venues/coinbase/instruments.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace nzeza::venues::coinbase {

absl::Status CoinbaseInstruments::Add(const CoinbaseInstrumentSpec& spec) {
  const std::string& p = spec.product_id;
  bool ok = !p.empty() && p.size() < kMaxProductIdBytes;
  for (char c : p) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Coinbase product id \"", p, "\" must be 1-31 characters of A-Z, 0-9 and '-'"));
  }
  auto bad = [](int s) { return s < 0 || s > 18; };
  if (bad(spec.price_scale) || bad(spec.size_scale) || bad(spec.fee_scale) ||
      spec.price_scale + spec.size_scale > 18) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Coinbase product ", p, ": scales must be in [0, 18] and price_scale + size_scale <= 18"));
  }
  if (spec.id >= kMaxInstrumentId) {
    return absl::InvalidArgumentError(
        absl::StrCat("Coinbase product ", p, ": instrument id ", spec.id, " is over 65535"));
  }
  if (Find(spec.id) != nullptr || FindProduct(p) != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("Coinbase product ", p, " or instrument id ", spec.id, " is already present"));
  }
  CoinbaseInstrument inst;
  inst.id = spec.id;
  inst.product_id_len = static_cast<uint8_t>(p.size());
  std::memcpy(inst.product_id, p.data(), p.size());
  inst.price_scale = static_cast<int8_t>(spec.price_scale);
  inst.size_scale = static_cast<int8_t>(spec.size_scale);
  inst.fee_scale = static_cast<int8_t>(spec.fee_scale);
  if (by_id_.size() <= spec.id) by_id_.resize(size_t{spec.id} + 1, -1);
  by_id_[spec.id] = static_cast<int32_t>(products_.size());
  products_.push_back(inst);
  return absl::OkStatus();
}

const CoinbaseInstrument* CoinbaseInstruments::Find(InstrumentId id) const noexcept {
  if (id >= by_id_.size() || by_id_[id] < 0) return nullptr;
  return &products_[static_cast<size_t>(by_id_[id])];
}

const CoinbaseInstrument* CoinbaseInstruments::FindProduct(
    std::string_view product_id) const noexcept {
  for (const CoinbaseInstrument& i : products_) {
    if (i.product() == product_id) return &i;
  }
  return nullptr;
}

}  // namespace nzeza::venues::coinbase
