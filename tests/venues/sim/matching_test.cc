// The simulated venue's price-time-priority book (venues/sim/matching.h).
#include "nzeza/venues/sim/matching.h"

#include <vector>

#include <gtest/gtest.h>

namespace nzeza::sim {
namespace {

class MatchingBookTest : public ::testing::Test {
 protected:
  std::vector<MatchFill> fills_;
  std::vector<LevelUpdate> levels_;
  MatchingBook book_;
};

TEST_F(MatchingBookTest, FifoWithinALevel) {
  ASSERT_TRUE(book_.Add(1, 7, Side::kSell, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 8, Side::kSell, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(3, 9, Side::kSell, 100, 5, &levels_));
  EXPECT_EQ(book_.Take(Side::kBuy, 100, 7, &fills_, &levels_), 0);
  ASSERT_EQ(fills_.size(), 2u);
  EXPECT_EQ(fills_[0].maker_id, 1u);
  EXPECT_EQ(fills_[0].size, 5);
  EXPECT_EQ(fills_[0].maker_leaves, 0);
  EXPECT_EQ(fills_[1].maker_id, 2u);
  EXPECT_EQ(fills_[1].size, 2);
  EXPECT_EQ(fills_[1].maker_leaves, 3);
  EXPECT_EQ(fills_[1].maker_owner, 8);
  EXPECT_EQ(book_.LevelSize(Side::kSell, 100), 8);
  EXPECT_EQ(book_.Find(1), nullptr);
  ASSERT_NE(book_.Find(2), nullptr);
  EXPECT_EQ(book_.Find(2)->leaves, 3);
  // The last level update says the level's new absolute size.
  ASSERT_FALSE(levels_.empty());
  EXPECT_EQ(levels_.back().side, Side::kSell);
  EXPECT_EQ(levels_.back().price, 100);
  EXPECT_EQ(levels_.back().size, 8);
}

TEST_F(MatchingBookTest, BetterPriceFirstAndLimitRespected) {
  ASSERT_TRUE(book_.Add(1, 0, Side::kSell, 102, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 0, Side::kSell, 101, 5, &levels_));
  ASSERT_TRUE(book_.Add(3, 0, Side::kSell, 103, 5, &levels_));
  // Limit 102: takes 101 then 102, never 103; 2 left over.
  EXPECT_EQ(book_.Take(Side::kBuy, 102, 12, &fills_, &levels_), 2);
  ASSERT_EQ(fills_.size(), 2u);
  EXPECT_EQ(fills_[0].price, 101);
  EXPECT_EQ(fills_[1].price, 102);
  int64_t ask = 0;
  ASSERT_TRUE(book_.BestAsk(&ask));
  EXPECT_EQ(ask, 103);
  EXPECT_EQ(book_.level_count(Side::kSell), 1u);
}

TEST_F(MatchingBookTest, SellTakesBestBidFirstAndMarketHasNoLimit) {
  ASSERT_TRUE(book_.Add(1, 0, Side::kBuy, 99, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 0, Side::kBuy, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(3, 0, Side::kBuy, 90, 5, &levels_));
  EXPECT_EQ(book_.Take(Side::kSell, MatchingBook::kNoLimit, 20, &fills_, &levels_), 5);
  ASSERT_EQ(fills_.size(), 3u);
  EXPECT_EQ(fills_[0].price, 100);
  EXPECT_EQ(fills_[1].price, 99);
  EXPECT_EQ(fills_[2].price, 90);
  int64_t bid = 0;
  EXPECT_FALSE(book_.BestBid(&bid));
  EXPECT_EQ(book_.order_count(), 0u);
}

TEST_F(MatchingBookTest, CancelRemovesFromQueueAndEmptyLevel) {
  ASSERT_TRUE(book_.Add(1, 0, Side::kBuy, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 0, Side::kBuy, 100, 6, &levels_));
  ASSERT_TRUE(book_.Add(3, 0, Side::kBuy, 100, 7, &levels_));
  EXPECT_EQ(book_.Cancel(2, &levels_), 6);
  EXPECT_EQ(book_.Cancel(2, &levels_), 0);  // gone already
  EXPECT_EQ(book_.LevelSize(Side::kBuy, 100), 12);
  // FIFO kept: 1 then 3.
  EXPECT_EQ(book_.Take(Side::kSell, 100, 8, &fills_, &levels_), 0);
  ASSERT_EQ(fills_.size(), 2u);
  EXPECT_EQ(fills_[0].maker_id, 1u);
  EXPECT_EQ(fills_[1].maker_id, 3u);
  EXPECT_EQ(book_.Cancel(3, &levels_), 4);
  EXPECT_EQ(book_.level_count(Side::kBuy), 0u);
  EXPECT_EQ(levels_.back().size, 0);
}

TEST_F(MatchingBookTest, RefusesBadAdds) {
  EXPECT_TRUE(book_.Add(1, 0, Side::kBuy, 100, 5, &levels_));
  EXPECT_FALSE(book_.Add(1, 0, Side::kBuy, 101, 5, &levels_));  // duplicate id
  EXPECT_FALSE(book_.Add(2, 0, Side::kBuy, 100, 0, &levels_));
  EXPECT_FALSE(book_.Add(3, 0, Side::kBuy, 0, 5, &levels_));
  EXPECT_EQ(book_.order_count(), 1u);
}

TEST_F(MatchingBookTest, WouldCross) {
  ASSERT_TRUE(book_.Add(1, 0, Side::kBuy, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 0, Side::kSell, 105, 5, &levels_));
  EXPECT_TRUE(book_.WouldCross(Side::kBuy, 105));
  EXPECT_FALSE(book_.WouldCross(Side::kBuy, 104));
  EXPECT_TRUE(book_.WouldCross(Side::kSell, 100));
  EXPECT_FALSE(book_.WouldCross(Side::kSell, 101));
}

TEST_F(MatchingBookTest, QuoteBudgetAndCost) {
  ASSERT_TRUE(book_.Add(1, 0, Side::kSell, 100, 5, &levels_));
  ASSERT_TRUE(book_.Add(2, 0, Side::kSell, 200, 5, &levels_));
  // 5 x 100 + 2 x 200 = 900 with budget 999 (lot 1); lot 2 rounds the second level down to 2.
  EXPECT_EQ(book_.SizeForQuote(Side::kBuy, 999, 1), 7);
  EXPECT_EQ(book_.SizeForQuote(Side::kBuy, 999, 2), 4);  // 4 at 100, then 0 affordable lots
  int64_t available = 0;
  EXPECT_EQ(book_.CostToTake(Side::kBuy, 7, &available), 900);
  EXPECT_EQ(available, 7);
  EXPECT_EQ(book_.CostToTake(Side::kBuy, 20, &available), 1500);
  EXPECT_EQ(available, 10);
}

}  // namespace
}  // namespace nzeza::sim
