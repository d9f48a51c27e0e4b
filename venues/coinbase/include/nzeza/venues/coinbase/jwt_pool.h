// JwtPool: single-use Coinbase JWTs minted ahead of time, so the order path does not sign.
//
//   JwtPool pool(&signer, "api.coinbase.com", JwtPoolOptions{});
//   pool.Refill(now_s, /*max_mints=*/1);          // order stage, when Poll() found nothing to do
//   std::string_view jwt = pool.Take(CoinbaseEndpoint::kCreateOrder, now_s);   // O(1)
//   if (jwt.empty()) { /* pool dry: sign inline (JwtSigner::SignInto) and count it */ }
//
// Why a pool, and why single use:
// - Coinbase says to generate a JWT for each request (docs.cdp.coinbase.com, "API Key
//   Authentication": "you must generate a different JWT for each API request"); a token carries a
//   random nonce so the venue can refuse a replay. So a token is handed out once and discarded.
// - The claims do not depend on the order: only sub, iss, nbf, exp and uri = "METHOD host/path",
//   and the uri is constant per endpoint (POST .../orders, POST .../orders/batch_cancel). A token
//   for an endpoint can therefore be minted before the order exists, off the critical path. An
//   ES256 signature costs tens of microseconds (BM_CoinbaseJwtSignES256), far more than encoding
//   the order (BM_CoinbaseEncodeNewOrder); taking a pooled token costs a copy.
// - A token is valid for 120 s from nbf. The pool never hands out a token older than max_age_s
//   (default 30 s), so every token it gives leaves more than a minute and a half for the request
//   to travel and for clock skew; Refill() replaces tokens older than refresh_age_s first.
// - Where minting runs: Refill() on the order stage's own thread when its Poll() is idle (one or
//   a few signatures per idle turn, bounded by max_mints). No second thread, no ring, no lock: on
//   a 2-core box a control thread would compete with the stages for a core anyway, and the order
//   stage is idle most of the time between orders. A burst that drains the pool falls back to
//   inline signing, counted (inline_signs in the gateway), never a failure.
//
// Thread: one owner thread (the order stage). Allocates: in the constructor only.
#ifndef NZEZA_VENUES_COINBASE_JWT_POOL_H_
#define NZEZA_VENUES_COINBASE_JWT_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "nzeza/venues/coinbase/jwt.h"

namespace nzeza::venues::coinbase {

// The REST endpoints the order path signs for.
enum class CoinbaseEndpoint : uint8_t { kCreateOrder = 0, kBatchCancel = 1 };
inline constexpr int kNumCoinbaseEndpoints = 2;

// "POST" and the path of an endpoint.
constexpr std::string_view EndpointMethod(CoinbaseEndpoint) noexcept { return "POST"; }
constexpr std::string_view EndpointPath(CoinbaseEndpoint e) noexcept {
  return e == CoinbaseEndpoint::kCreateOrder ? "/api/v3/brokerage/orders"
                                             : "/api/v3/brokerage/orders/batch_cancel";
}

struct JwtPoolOptions {
  size_t tokens_per_endpoint = 8;  // pool depth (a burst of this many orders signs nothing)
  int64_t max_age_s = 30;          // never hand out a token minted longer ago
  int64_t refresh_age_s = 20;      // Refill() replaces tokens minted longer ago
};

struct JwtPoolCounters {
  uint64_t minted = 0;
  uint64_t taken = 0;
  uint64_t empty = 0;          // Take() found no fresh token
  uint64_t expired = 0;        // tokens dropped unused for age
  uint64_t mint_failures = 0;  // the signer failed (OpenSSL)
};

class JwtPool {
 public:
  // `signer` must outlive the pool. `uri_host` is the host in the uri claim ("api.coinbase.com").
  JwtPool(const JwtSigner* signer, std::string uri_host, JwtPoolOptions options = {});

  // Drops tokens older than refresh_age_s and mints up to `max_mints` tokens into free slots,
  // the endpoint with fewer tokens first. Returns the number minted.
  // Thread: owner. Allocates: nothing of ours. Complexity: max_mints signatures.
  int Refill(int64_t now_unix_s, int max_mints) noexcept;

  // A token for `e` minted at most max_age_s ago (the oldest such), removed from the pool; an
  // empty view when there is none. The view stays valid until the next Refill().
  // Thread: owner. Allocates: never. Complexity: O(1) amortized.
  [[nodiscard]] std::string_view Take(CoinbaseEndpoint e, int64_t now_unix_s) noexcept;

  size_t available(CoinbaseEndpoint e) const noexcept { return rings_[Index(e)].count; }
  size_t capacity() const noexcept { return options_.tokens_per_endpoint; }
  const JwtPoolCounters& counters() const noexcept { return counters_; }

 private:
  struct Slot {
    char token[kMaxJwtBytes];
    uint32_t len = 0;
    int64_t minted_s = 0;
  };
  struct Ring {
    std::unique_ptr<Slot[]> slots;
    size_t head = 0;  // oldest
    size_t count = 0;
  };
  static constexpr size_t Index(CoinbaseEndpoint e) noexcept { return static_cast<size_t>(e); }
  void DropOlderThan(Ring& r, int64_t now_unix_s, int64_t age_s) noexcept;

  const JwtSigner* signer_;
  std::string uri_host_;
  JwtPoolOptions options_;
  Ring rings_[kNumCoinbaseEndpoints];
  JwtPoolCounters counters_;
};

}  // namespace nzeza::venues::coinbase

#endif  // NZEZA_VENUES_COINBASE_JWT_POOL_H_
