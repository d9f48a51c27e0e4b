#include <memory>

#include "gtest/gtest.h"
#include "nzeza/signal/book_imbalance_taker.h"
#include "nzeza/signal/market_maker.h"
#include "nzeza/signal/strategy.h"

namespace nzeza {
namespace {

// BTC-USD-like: price scale 2 (tick 0.01), size scale 8 (lot 0.00000001).
constexpr InstrumentSpec kSpec{.id = 3, .price_scale = 2, .size_scale = 8, .tick = 1, .lot = 1};

StrategyConfig MmConfig() {
  return StrategyConfig{.type = "market_maker",
                        .strategy_id = 7,
                        .instrument = kSpec,
                        .params = {{"order_size", "0.01"},
                                   {"half_spread_ticks", "5"},
                                   {"requote_ticks", "3"},
                                   {"skew_ticks", "2"},
                                   {"max_position", "0.02"}}};
}

BookView Book(int64_t bid, int64_t bid_size, int64_t ask, int64_t ask_size, bool tradable = true) {
  BookView v;
  v.instrument = kSpec.id;
  v.bid_price = bid;
  v.bid_size = bid_size;
  v.ask_price = ask;
  v.ask_size = ask_size;
  v.bid_depth_size = bid_size;
  v.ask_depth_size = ask_size;
  v.tradable = tradable;
  return v;
}

ExecEvent Exec(ExecType type, const OrderIntent& i, uint64_t client_id) {
  ExecEvent e;
  e.type = type;
  e.side = i.side;
  e.instrument = i.instrument;
  e.strategy_id = i.strategy_id;
  e.client_order_id = client_id;
  e.intent_id = i.intent_id;
  return e;
}

std::unique_ptr<MarketMaker> MakeMm() {
  absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(MmConfig());
  EXPECT_TRUE(s.ok()) << s.status();
  return std::unique_ptr<MarketMaker>(static_cast<MarketMaker*>(s->release()));
}

TEST(StrategyRegistry, BuildsEveryRegisteredStrategy) {
  EXPECT_EQ(StrategyNames().size(), 2u);
  EXPECT_TRUE(MakeStrategy(MmConfig()).ok());
  StrategyConfig taker{
      .type = "book_imbalance_taker",
      .strategy_id = 8,
      .instrument = kSpec,
      .params = {{"order_size", "0.01"}, {"threshold_bp", "6000"}, {"max_position", "0.05"}}};
  absl::StatusOr<std::unique_ptr<Strategy>> t = MakeStrategy(taker);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->name(), "book_imbalance_taker");
}

TEST(StrategyRegistry, UnknownTypeListsKnownOnes) {
  StrategyConfig c = MmConfig();
  c.type = "market_taker";
  absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("market_maker"), std::string_view::npos);
}

TEST(StrategyRegistry, BadParametersNameTheKey) {
  StrategyConfig c = MmConfig();
  c.params["order_size"] = "0.000000001";  // 9 decimals at size scale 8
  absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("\"order_size\""), std::string_view::npos) << s.status();

  c = MmConfig();
  c.params.erase("half_spread_ticks");
  s = MakeStrategy(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("\"half_spread_ticks\": missing"), std::string_view::npos);

  c = MmConfig();
  c.params["half_sprad_ticks"] = "4";  // misspelt
  s = MakeStrategy(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("unknown parameter(s) half_sprad_ticks"),
            std::string_view::npos)
      << s.status();

  c = MmConfig();
  c.params["post_only"] = "yes";
  EXPECT_FALSE(MakeStrategy(c).ok());
  c = MmConfig();
  c.params["requote_ticks"] = "0";
  EXPECT_FALSE(MakeStrategy(c).ok());
}

TEST(StrategyRegistry, OrderSizeMustBeWholeLots) {
  for (const char* type : {"market_maker", "book_imbalance_taker"}) {
    StrategyConfig c = MmConfig();
    c.type = type;
    if (c.type == "book_imbalance_taker") {
      c.params = {{"order_size", "0.01"}, {"threshold_bp", "6000"}, {"max_position", "0.05"}};
    }
    c.instrument.lot = 300'000;  // 0.003: 0.01 is not a whole number of lots
    absl::StatusOr<std::unique_ptr<Strategy>> s = MakeStrategy(c);
    ASSERT_FALSE(s.ok()) << type;
    EXPECT_NE(s.status().message().find("whole number of lots"), std::string_view::npos)
        << s.status();
    c.instrument.lot = 250'000;  // 0.0025: 0.01 is 4 lots
    EXPECT_TRUE(MakeStrategy(c).ok()) << type;
    c.instrument.tick = 0;
    EXPECT_FALSE(MakeStrategy(c).ok()) << type;
  }
}

TEST(MarketMaker, QuotesAroundMicroprice) {
  auto mm = MakeMm();
  IntentSink out;
  // bid 100.00 x 3, ask 100.10 x 1: microprice = (10000*1 + 10010*3)/4 = 10007.5 -> 10007.
  mm->OnBook(Book(10000, 3, 10010, 1), out);
  EXPECT_EQ(mm->fair(), 10007);
  ASSERT_EQ(out.intents().size(), 2u);
  const OrderIntent& bid = out.intents()[0];
  const OrderIntent& ask = out.intents()[1];
  EXPECT_EQ(bid.type, IntentType::kNew);
  EXPECT_EQ(bid.side, Side::kBuy);
  EXPECT_EQ(bid.price, 10002);
  EXPECT_EQ(ask.side, Side::kSell);
  EXPECT_EQ(ask.price, 10012);
  EXPECT_EQ(bid.size, 1'000'000);  // 0.01 at scale 8
  EXPECT_EQ(bid.flags & kOrderPostOnly, kOrderPostOnly);
  EXPECT_EQ(bid.strategy_id, 7u);
  EXPECT_EQ(bid.instrument, kSpec.id);
  // Nothing more while the orders are pending.
  out.Clear();
  mm->OnBook(Book(10000, 3, 10010, 1), out);
  EXPECT_TRUE(out.intents().empty());
}

TEST(MarketMaker, PostOnlyNeverCrossesTheSpread) {
  auto mm = MakeMm();
  IntentSink out;
  // A 1-tick market with a huge bid queue: microprice at the ask; the bid target would still be
  // 5 ticks below fair, but the ask target must stay above the best bid.
  mm->OnBook(Book(10000, 1'000'000, 10001, 1), out);
  ASSERT_EQ(out.intents().size(), 2u);
  EXPECT_LT(out.intents()[0].price, 10001);
  EXPECT_GT(out.intents()[1].price, 10000);
}

TEST(MarketMaker, RequotesOnlyBeyondThreshold) {
  auto mm = MakeMm();
  IntentSink out;
  mm->OnBook(Book(10000, 1, 10010, 1), out);  // fair 10005: bid 10000, ask 10010
  ASSERT_EQ(out.intents().size(), 2u);
  const OrderIntent bid = out.intents()[0];
  const OrderIntent ask = out.intents()[1];
  mm->OnExec(Exec(ExecType::kAck, bid, 101), out);
  mm->OnExec(Exec(ExecType::kAck, ask, 102), out);
  EXPECT_EQ(mm->quote(Side::kBuy).state, MarketMaker::Quote::State::kLive);

  out.Clear();
  mm->OnBook(Book(10002, 1, 10012, 1), out);  // fair +2 ticks: below the 3-tick threshold
  EXPECT_TRUE(out.intents().empty());

  mm->OnBook(Book(10003, 1, 10013, 1), out);  // fair +3 ticks: requote both
  ASSERT_EQ(out.intents().size(), 2u);
  EXPECT_EQ(out.intents()[0].type, IntentType::kCancel);
  EXPECT_EQ(out.intents()[0].target_order_id, 101u);
  EXPECT_EQ(out.intents()[1].target_order_id, 102u);
  const OrderIntent cancel_bid = out.intents()[0];

  out.Clear();
  ExecEvent canceled = Exec(ExecType::kCanceled, cancel_bid, 101);
  canceled.intent_id = bid.intent_id;
  mm->OnExec(canceled, out);
  EXPECT_EQ(mm->quote(Side::kBuy).state, MarketMaker::Quote::State::kNone);
  mm->OnBook(Book(10003, 1, 10013, 1), out);  // a new bid at the new level
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].type, IntentType::kNew);
  EXPECT_EQ(out.intents()[0].price, 10003);
}

TEST(MarketMaker, SkewsByInventoryAndStopsAtPositionLimit) {
  auto mm = MakeMm();
  IntentSink out;
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  const OrderIntent bid = out.intents()[0];
  ExecEvent fill = Exec(ExecType::kFill, bid, 201);
  fill.last_price = 10000;
  fill.last_size = 1'000'000;
  fill.leaves_size = 0;
  mm->OnExec(fill, out);
  EXPECT_EQ(mm->position(), 1'000'000);
  EXPECT_EQ(mm->quote(Side::kBuy).state, MarketMaker::Quote::State::kNone);

  // Long one order_size: fair moves down by skew_ticks (2).
  out.Clear();
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  EXPECT_EQ(mm->fair(), 10005 - 2);
  ASSERT_EQ(out.intents().size(), 1u);  // a new bid; the ask is still pending
  EXPECT_EQ(out.intents()[0].price, 10003 - 5);

  // Fill that bid too: long 0.02 = max_position, so no new bid may go out.
  ExecEvent fill2 = Exec(ExecType::kFill, out.intents()[0], 202);
  fill2.last_size = 1'000'000;
  mm->OnExec(fill2, out);
  EXPECT_EQ(mm->position(), 2'000'000);
  out.Clear();
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  for (const OrderIntent& i : out.intents()) EXPECT_NE(i.side, Side::kBuy) << "bid at the limit";
}

TEST(MarketMaker, CancelsEverythingOnAnUntradableBook) {
  auto mm = MakeMm();
  IntentSink out;
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  mm->OnExec(Exec(ExecType::kAck, out.intents()[0], 1), out);
  mm->OnExec(Exec(ExecType::kAck, out.intents()[1], 2), out);
  out.Clear();
  mm->OnBook(Book(10000, 1, 10010, 1, /*tradable=*/false), out);
  ASSERT_EQ(out.intents().size(), 2u);
  EXPECT_EQ(out.intents()[0].type, IntentType::kCancel);
  EXPECT_EQ(out.intents()[1].type, IntentType::kCancel);
  out.Clear();
  mm->OnBook(Book(10000, 1, 10010, 1, /*tradable=*/false), out);
  EXPECT_TRUE(out.intents().empty()) << "cancels go out once";
}

TEST(MarketMaker, RejectFreesTheSideAndLateEventsAreIgnored) {
  auto mm = MakeMm();
  IntentSink out;
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  const OrderIntent bid = out.intents()[0];
  mm->OnExec(Exec(ExecType::kReject, bid, 9), out);
  EXPECT_EQ(mm->quote(Side::kBuy).state, MarketMaker::Quote::State::kNone);
  // A fill for an order we no longer track still counts toward position.
  ExecEvent late = Exec(ExecType::kFill, bid, 9);
  late.intent_id = 999;
  late.last_size = 5;
  mm->OnExec(late, out);
  EXPECT_EQ(mm->position(), 5);
}

TEST(MarketMaker, ARejectedSideWaitsOutTheBackoffBeforeQuotingAgain) {
  auto mm = MakeMm();
  IntentSink out;
  BookView b = Book(10000, 1, 10010, 1);
  b.now_ns = 1'000'000'000;
  mm->OnBook(b, out);
  ASSERT_EQ(out.intents().size(), 2u);
  const OrderIntent bid = out.intents()[0];
  ASSERT_EQ(bid.side, Side::kBuy);
  mm->OnExec(Exec(ExecType::kReject, bid, 9), out);  // e.g. the risk throttle
  out.Clear();
  b.now_ns += 50'000'000;  // within the 100 ms back-off: no new bid
  mm->OnBook(b, out);
  EXPECT_TRUE(out.intents().empty());
  b.now_ns += 60'000'000;  // past it: the bid comes back
  mm->OnBook(b, out);
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].type, IntentType::kNew);
  EXPECT_EQ(out.intents()[0].side, Side::kBuy);
}

TEST(BookImbalanceTaker, FiresAtThresholdWithCooldownAndLimit) {
  BookImbalanceTaker t(8, kSpec,
                       BookImbalanceTaker::Params{.order_size = 10,
                                                  .threshold_bp = 6000,
                                                  .cooldown_ns = 1'000'000,
                                                  .max_position = 15,
                                                  .slippage_ticks = 1});
  IntentSink out;
  BookView v = Book(10000, 79, 10010, 21);  // imbalance (79-21)/100 = 5800 bp: below
  EXPECT_EQ(BookImbalanceTaker::ImbalanceBp(v), 5800);
  t.OnBook(v, out);
  EXPECT_TRUE(out.intents().empty());
  v = Book(10000, 80, 10010, 20);  // exactly 6000 bp: fires
  t.OnBook(v, out);
  ASSERT_EQ(out.intents().size(), 1u);
  const OrderIntent buy = out.intents()[0];
  EXPECT_EQ(buy.side, Side::kBuy);
  EXPECT_EQ(buy.tif, TimeInForce::kIoc);
  EXPECT_EQ(buy.price, 10011);  // ask + 1 tick
  EXPECT_TRUE(t.in_flight());
  out.Clear();
  t.OnBook(v, out);
  EXPECT_TRUE(out.intents().empty()) << "one order in flight at a time";

  ExecEvent fill = Exec(ExecType::kFill, buy, 5);
  fill.last_size = 10;
  fill.leaves_size = 0;
  t.OnExec(fill, out);
  EXPECT_FALSE(t.in_flight());
  EXPECT_EQ(t.position(), 10);
  v.now_ns = 500'000;  // inside the cooldown
  t.OnBook(v, out);
  EXPECT_TRUE(out.intents().empty());
  v.now_ns = 2'000'000;  // after the cooldown, but 10 + 10 > max_position 15
  t.OnBook(v, out);
  EXPECT_TRUE(out.intents().empty());
  v = Book(10000, 20, 10010, 80);  // leaning the other way: sell allowed
  v.now_ns = 3'000'000;
  t.OnBook(v, out);
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].side, Side::kSell);
  EXPECT_EQ(out.intents()[0].price, 9999);
}

// Regression: after a restart strategies started flat whatever the journal recovered, so the
// maker skewed for no inventory and could quote past max_position.
TEST(MarketMaker, SeededPositionSkewsAndLimitsFromTheFirstBook) {
  auto mm = MakeMm();
  mm->SeedPosition(1'000'000);  // long one order_size
  EXPECT_EQ(mm->position(), 1'000'000);
  IntentSink out;
  mm->OnBook(Book(10000, 1, 10010, 1), out);
  EXPECT_EQ(mm->fair(), 10005 - 2) << "skewed by the recovered inventory";

  auto full = MakeMm();
  full->SeedPosition(2'000'000);  // at max_position 0.02
  out.Clear();
  full->OnBook(Book(10000, 1, 10010, 1), out);
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].side, Side::kSell) << "no bid beyond the limit";

  auto short_mm = MakeMm();
  short_mm->SeedPosition(-2'000'000);
  out.Clear();
  short_mm->OnBook(Book(10000, 1, 10010, 1), out);
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].side, Side::kBuy);
}

TEST(BookImbalanceTaker, SeededPositionCountsTowardMaxPosition) {
  BookImbalanceTaker t(8, kSpec,
                       BookImbalanceTaker::Params{.order_size = 10,
                                                  .threshold_bp = 6000,
                                                  .cooldown_ns = 0,
                                                  .max_position = 15,
                                                  .slippage_ticks = 0});
  t.SeedPosition(10);
  EXPECT_EQ(t.position(), 10);
  IntentSink out;
  t.OnBook(Book(10000, 80, 10010, 20), out);  // buy signal, but 10 + 10 > 15
  EXPECT_TRUE(out.intents().empty());
  t.OnBook(Book(10000, 20, 10010, 80), out);  // sell: 10 - 10 >= -15
  ASSERT_EQ(out.intents().size(), 1u);
  EXPECT_EQ(out.intents()[0].side, Side::kSell);
}

TEST(IntentSink, RefusesBeyondCapacity) {
  IntentSink out;
  for (size_t i = 0; i < IntentSink::kCapacity; ++i) EXPECT_TRUE(out.Emit(OrderIntent{}));
  EXPECT_FALSE(out.Emit(OrderIntent{}));
  EXPECT_EQ(out.dropped(), 1u);
  out.Clear();
  EXPECT_TRUE(out.intents().empty());
}

}  // namespace
}  // namespace nzeza
