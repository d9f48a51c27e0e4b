#include "nzeza/venues/coinbase/jwt_pool.h"

#include <utility>

namespace nzeza::venues::coinbase {

JwtPool::JwtPool(const JwtSigner* signer, std::string uri_host, JwtPoolOptions options)
    : signer_(signer), uri_host_(std::move(uri_host)), options_(options) {
  if (options_.tokens_per_endpoint == 0) options_.tokens_per_endpoint = 1;
  for (Ring& r : rings_) r.slots = std::make_unique<Slot[]>(options_.tokens_per_endpoint);
}

void JwtPool::DropOlderThan(Ring& r, int64_t now_unix_s, int64_t age_s) noexcept {
  while (r.count > 0 && now_unix_s - r.slots[r.head].minted_s > age_s) {
    r.head = (r.head + 1) % options_.tokens_per_endpoint;
    --r.count;
    ++counters_.expired;
  }
}

int JwtPool::Refill(int64_t now_unix_s, int max_mints) noexcept {
  for (Ring& r : rings_) DropOlderThan(r, now_unix_s, options_.refresh_age_s);
  int minted = 0;
  const size_t cap = options_.tokens_per_endpoint;
  while (minted < max_mints) {
    // The emptier endpoint first.
    size_t e = rings_[0].count <= rings_[1].count ? 0 : 1;
    Ring& r = rings_[e];
    if (r.count == cap) break;  // the emptier one is full: both are
    Slot& s = r.slots[(r.head + r.count) % cap];
    const auto ep = static_cast<CoinbaseEndpoint>(e);
    const size_t n = signer_->SignInto(EndpointMethod(ep), uri_host_, EndpointPath(ep), now_unix_s,
                                       s.token, sizeof(s.token));
    if (n == 0) {
      ++counters_.mint_failures;
      break;
    }
    s.len = static_cast<uint32_t>(n);
    s.minted_s = now_unix_s;
    ++r.count;
    ++minted;
    ++counters_.minted;
  }
  return minted;
}

std::string_view JwtPool::Take(CoinbaseEndpoint e, int64_t now_unix_s) noexcept {
  Ring& r = rings_[Index(e)];
  DropOlderThan(r, now_unix_s, options_.max_age_s);
  if (r.count == 0) {
    ++counters_.empty;
    return {};
  }
  const Slot& s = r.slots[r.head];
  r.head = (r.head + 1) % options_.tokens_per_endpoint;
  --r.count;
  ++counters_.taken;
  return std::string_view(s.token, s.len);
}

}  // namespace nzeza::venues::coinbase
