#include "nzeza/venues/coinbase/jwt_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "../../common/counting_allocator.h"
#include "coinbase_test_keys.h"

namespace nzeza::venues::coinbase {
namespace {

constexpr int64_t kNow = 1700000000;

class JwtPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = nzeza::testing::LoadCoinbaseTestKeys();
    absl::StatusOr<CoinbaseCredentials> c =
        CoinbaseCredentials::FromPem(keys_.key_name, keys_.ec_pem);
    ASSERT_TRUE(c.ok()) << c.status();
    signer_ = std::make_unique<JwtSigner>(*c);
    public_pem_ = *c->PublicKeyPem();
  }
  nzeza::testing::CoinbaseTestKeys keys_;
  std::unique_ptr<JwtSigner> signer_;
  std::string public_pem_;
};

TEST_F(JwtPoolTest, TokensAreSingleUseAndCarryTheEndpointUri) {
  JwtPool pool(signer_.get(), "api.coinbase.com", {.tokens_per_endpoint = 4});
  EXPECT_EQ(pool.Refill(kNow, 100), 8);  // 4 per endpoint, then full
  EXPECT_EQ(pool.Refill(kNow, 100), 0);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const std::string t(pool.Take(CoinbaseEndpoint::kCreateOrder, kNow + 1));
    ASSERT_FALSE(t.empty());
    EXPECT_TRUE(seen.insert(t).second) << "a token was handed out twice";
    EXPECT_TRUE(
        VerifyCoinbaseJwt(t, public_pem_, "POST api.coinbase.com/api/v3/brokerage/orders", kNow + 1)
            .ok());
  }
  EXPECT_TRUE(pool.Take(CoinbaseEndpoint::kCreateOrder, kNow + 1).empty());
  EXPECT_EQ(pool.counters().empty, 1u);
  const std::string cancel(pool.Take(CoinbaseEndpoint::kBatchCancel, kNow + 1));
  EXPECT_TRUE(VerifyCoinbaseJwt(cancel, public_pem_,
                                "POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel",
                                kNow + 1)
                  .ok());
  EXPECT_EQ(pool.available(CoinbaseEndpoint::kBatchCancel), 3u);
}

TEST_F(JwtPoolTest, RefillIsBoundedAndFillsTheEmptierEndpointFirst) {
  JwtPool pool(signer_.get(), "api.coinbase.com", {.tokens_per_endpoint = 4});
  EXPECT_EQ(pool.Refill(kNow, 1), 1);
  EXPECT_EQ(pool.Refill(kNow, 1), 1);
  EXPECT_EQ(pool.available(CoinbaseEndpoint::kCreateOrder), 1u);
  EXPECT_EQ(pool.available(CoinbaseEndpoint::kBatchCancel), 1u);
  EXPECT_EQ(pool.counters().minted, 2u);
}

TEST_F(JwtPoolTest, StaleTokensAreNeverHandedOut) {
  JwtPool pool(signer_.get(), "api.coinbase.com",
               {.tokens_per_endpoint = 2, .max_age_s = 30, .refresh_age_s = 20});
  ASSERT_EQ(pool.Refill(kNow, 4), 4);
  // 31 s later every token is too old for Take, even without a Refill.
  EXPECT_TRUE(pool.Take(CoinbaseEndpoint::kCreateOrder, kNow + 31).empty());
  EXPECT_EQ(pool.counters().expired, 2u);
  // A Refill after refresh_age replaces old tokens (the 2 cancel ones) with fresh ones.
  ASSERT_EQ(pool.Refill(kNow + 31, 4), 4);
  EXPECT_EQ(pool.counters().expired, 4u);
  // 21 s later: still fresh enough for Take, but Refill replaces them.
  EXPECT_EQ(pool.Refill(kNow + 31, 4), 0);
  ASSERT_EQ(pool.Refill(kNow + 52, 1), 1);
  EXPECT_EQ(pool.counters().expired, 8u);
  const std::string t(pool.Take(CoinbaseEndpoint::kCreateOrder, kNow + 60));
  ASSERT_FALSE(t.empty());
  absl::StatusOr<CoinbaseJwtClaims> c = VerifyCoinbaseJwt(t, public_pem_, std::nullopt, kNow + 60);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->nbf, kNow + 52);
  EXPECT_GE(c->exp - (kNow + 60), 90);  // more than a minute and a half left when handed out
}

TEST_F(JwtPoolTest, TakeDoesNotAllocate) {
  JwtPool pool(signer_.get(), "api.coinbase.com", {.tokens_per_endpoint = 8});
  pool.Refill(kNow, 16);
  const uint64_t before = nzeza::testing::AllocationCount();
  size_t total = 0;
  for (int i = 0; i < 8; ++i) total += pool.Take(CoinbaseEndpoint::kCreateOrder, kNow).size();
  total += pool.Take(CoinbaseEndpoint::kCreateOrder, kNow).size();  // empty
  EXPECT_EQ(nzeza::testing::AllocationCount(), before);
  EXPECT_GT(total, 8u * 300u);
}

}  // namespace
}  // namespace nzeza::venues::coinbase
