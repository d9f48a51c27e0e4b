#include "nzeza/signal/signal_stage.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "nzeza/core/runtime.h"
#include "nzeza/risk/risk_engine.h"
#include "nzeza/signal/book_imbalance_taker.h"
#include "nzeza/signal/market_maker.h"

namespace nzeza {
namespace {

constexpr InstrumentId kId = 2;
constexpr InstrumentSpec kSpec{.id = kId, .price_scale = 2, .size_scale = 8, .tick = 1, .lot = 1};

// A BookSet with one book, the stage's rings, and the stage with one market maker.
struct Pipeline {
  explicit Pipeline(size_t intent_capacity = 64, size_t risk_capacity = 64,
                    SignalStageOptions options = {})
      : intents(intent_capacity), risk_md(risk_capacity) {
    const BookConfig configs[] = {BookConfig{.instrument = kId, .depth = 32}};
    books = std::make_unique<BookSet>(*BookSet::Create(configs));
    stage = std::make_unique<SignalStage>(*books, md, exec, intents, &risk_md, nullptr, options);
    auto mm = std::make_unique<MarketMaker>(9, kSpec,
                                            MarketMaker::Params{.order_size = 100,
                                                                .half_spread_ticks = 2,
                                                                .requote_ticks = 1,
                                                                .skew_ticks = 0,
                                                                .max_position = 1000,
                                                                .post_only = true});
    maker = mm.get();
    EXPECT_TRUE(stage->AddStrategy(std::move(mm), kId).ok());
  }

  void Push(const MdEvent& ev) { ASSERT_TRUE(md.try_push(ev)); }
  int64_t Run() {
    InlineRunner runner{stage.get()};
    return runner.RunUntilIdle();
  }
  std::vector<OrderIntent> TakeIntents() {
    std::vector<OrderIntent> out;
    OrderIntent i;
    while (intents.try_pop(i)) out.push_back(i);
    return out;
  }
  std::vector<MdEvent> TakeRisk() {
    std::vector<MdEvent> out;
    MdEvent e;
    while (risk_md.try_pop(e)) out.push_back(e);
    return out;
  }

  SpscRing<MdEvent> md{256};
  SpscRing<ExecEvent> exec{64};
  SpscRing<OrderIntent> intents;
  SpscRing<MdEvent> risk_md;
  std::unique_ptr<BookSet> books;
  std::unique_ptr<SignalStage> stage;
  MarketMaker* maker = nullptr;
};

MdEvent Snapshot(int64_t bid, int64_t ask, int64_t recv_ns) {
  MdEvent ev = MdEvent::Levels(Venue::kSim, kId, 1);
  ev.flags = kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd;
  EXPECT_TRUE(ev.levels.AddBid({bid, 500}));
  EXPECT_TRUE(ev.levels.AddAsk({ask, 500}));
  ev.times.recv_ns = recv_ns;
  ev.times.decoded_ns = recv_ns + 1;
  return ev;
}

MdEvent Update(Side side, int64_t price, int64_t size, uint8_t flags = kMdMessageEnd) {
  MdEvent ev = MdEvent::Levels(Venue::kSim, kId, 2);
  ev.flags = flags;
  EXPECT_TRUE(ev.levels.Add(side, {price, size}));
  return ev;
}

TEST(SignalStage, SnapshotMakesTheBookLiveAndTheMakerQuote) {
  Pipeline p;
  p.Push(Snapshot(10000, 10010, 777));
  EXPECT_GT(p.Run(), 0);
  const std::vector<OrderIntent> intents = p.TakeIntents();
  ASSERT_EQ(intents.size(), 2u);
  EXPECT_EQ(intents[0].side, Side::kBuy);
  EXPECT_EQ(intents[0].price, 10005 - 2);
  EXPECT_EQ(intents[1].price, 10005 + 2);
  EXPECT_EQ(intents[0].times.recv_ns, 777) << "the triggering message's timestamps travel on";
  EXPECT_EQ(intents[0].times.decoded_ns, 778);
  EXPECT_GT(intents[0].times.signal_ns, 0);
  EXPECT_EQ(p.stage->counters().intents, 2u);

  const std::vector<MdEvent> risk = p.TakeRisk();
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].type, MdType::kBbo);
  EXPECT_EQ(risk[0].bbo.bid_price, 10000);
  EXPECT_EQ(risk[0].bbo.ask_price, 10010);
}

TEST(SignalStage, StrategiesSeeTheBookOnlyAtMessageEnds) {
  Pipeline p;
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  p.TakeIntents();
  const uint64_t views = p.stage->counters().book_views;
  p.Push(Update(Side::kBuy, 10001, 5, /*flags=*/0));  // first half of a venue message
  p.Run();
  EXPECT_EQ(p.stage->counters().book_views, views) << "no decision on half a message";
  p.Push(Update(Side::kSell, 10009, 5));  // message end
  p.Run();
  EXPECT_EQ(p.stage->counters().book_views, views + 1);
}

TEST(SignalStage, GapStopsQuotingAndReachesRisk) {
  Pipeline p;
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  const std::vector<OrderIntent> quotes = p.TakeIntents();
  ASSERT_EQ(quotes.size(), 2u);
  for (uint64_t k = 0; k < 2; ++k) {  // the venue acks both quotes
    ExecEvent ack;
    ack.type = ExecType::kAck;
    ack.side = quotes[k].side;
    ack.instrument = kId;
    ack.strategy_id = 9;
    ack.client_order_id = 100 + k;
    ack.intent_id = quotes[k].intent_id;
    ASSERT_TRUE(p.exec.try_push(ack));
  }
  p.Run();
  p.TakeRisk();
  p.Push(
      MdEvent::Status(Venue::kSim, kId,
                      MdStatusInfo{.code = MdStatus::kGap, .expected_seq = 3, .received_seq = 5}));
  p.Run();
  const std::vector<OrderIntent> cancels = p.TakeIntents();
  ASSERT_EQ(cancels.size(), 2u) << "an untrusted book cancels the quotes";
  EXPECT_EQ(cancels[0].type, IntentType::kCancel);
  EXPECT_EQ(cancels[0].target_order_id, 100u);
  const std::vector<MdEvent> risk = p.TakeRisk();
  ASSERT_EQ(risk.size(), 1u);
  EXPECT_EQ(risk[0].status.code, MdStatus::kGap);

  // Incremental data while in the gap is refused by the book and reaches nobody.
  p.Push(Update(Side::kBuy, 10002, 7));
  p.Run();
  EXPECT_EQ(p.stage->counters().book_refused, 1u);
  EXPECT_TRUE(p.TakeIntents().empty());
}

TEST(SignalStage, CrossedBookIsReportedToRiskAndNotTraded) {
  Pipeline p;
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  p.TakeIntents();
  p.TakeRisk();
  p.Push(Update(Side::kBuy, 10020, 5));  // bid through the ask: crossed
  p.Run();
  bool saw_crossed = false;
  for (const MdEvent& e : p.TakeRisk()) {
    saw_crossed |= e.type == MdType::kStatus && e.status.code == MdStatus::kCrossed;
  }
  EXPECT_TRUE(saw_crossed);
  for (const OrderIntent& i : p.TakeIntents()) {
    EXPECT_NE(i.type, IntentType::kNew) << "no new order on a crossed book";
  }
}

// A venue message carried by two events (bids first, then asks): the first event alone crosses
// the book (the new bid is above the old ask), the second removes that ask. The venue's book was
// never crossed, so risk must see one BBO for the message and no kCrossed.
TEST(SignalStage, CrossingBetweenEventsOfOneMessageIsNotReported) {
  Pipeline p;
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  p.TakeIntents();
  p.TakeRisk();
  MdEvent bids = Update(Side::kBuy, 10015, 5, /*flags=*/0);
  MdEvent asks = Update(Side::kSell, 10010, 0);  // kMdMessageEnd
  ASSERT_TRUE(asks.levels.AddAsk({10020, 7}));
  p.Push(bids);
  p.Push(asks);
  p.Run();
  int bbos = 0;
  for (const MdEvent& e : p.TakeRisk()) {
    EXPECT_FALSE(e.type == MdType::kStatus &&
                 (e.status.code == MdStatus::kCrossed || e.status.code == MdStatus::kUncrossed));
    if (e.type == MdType::kBbo) {
      ++bbos;
      EXPECT_EQ(e.bbo.bid_price, 10015);
      EXPECT_EQ(e.bbo.ask_price, 10020);
    }
  }
  EXPECT_EQ(bbos, 1);
  EXPECT_FALSE(p.books->Find(kId)->crossed());
}

TEST(SignalStage, FullIntentRingIsCountedNotBlocking) {
  Pipeline p(/*intent_capacity=*/1);  // rounds up to 2
  MdEvent s = Snapshot(10000, 10010, 1);
  p.Push(s);
  p.Run();
  EXPECT_EQ(p.stage->counters().intents, 2u);
  // Requote both sides while nobody drains the ring: the new intents cannot all fit.
  p.TakeIntents();
  ASSERT_TRUE(p.intents.try_push(OrderIntent{}));
  ASSERT_TRUE(p.intents.try_push(OrderIntent{}));
  ExecEvent reject;
  reject.type = ExecType::kReject;
  reject.instrument = kId;
  reject.strategy_id = 9;
  reject.side = Side::kBuy;
  reject.intent_id = 1;
  ASSERT_TRUE(p.exec.try_push(reject));
  p.Push(Update(Side::kSell, 10009, 5));
  p.Run();
  EXPECT_GE(p.stage->counters().intent_overruns, 1u);
}

// Regression: risk saw only trades, status events and BBO changes, so a quiet top of book with
// deeper levels updating tripped "feed stale". Every venue message now reaches risk (at most one
// event per message): levels changing below the top keep the feed fresh; silence still trips.
TEST(SignalStage, LevelsChangingOnlyBelowTheTopKeepTheFeedFresh) {
  Pipeline p;
  RiskConfig cfg;
  cfg.notional_scale = 10;
  cfg.instruments.resize(kId + 1);
  cfg.breaker.stale_after_ns = 100'000'000;
  ASSERT_TRUE(cfg.Validate().ok());
  RiskCore risk(cfg);
  int64_t t = 1'000'000'000;
  auto to_risk = [&] {
    const std::vector<MdEvent> events = p.TakeRisk();
    for (const MdEvent& e : events) risk.OnMarketData(e, t);
    risk.Poll(t);
    return events;
  };
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  ASSERT_EQ(to_risk().size(), 1u);  // the BBO
  for (int i = 0; i < 20; ++i) {
    t += 60'000'000;  // 60 ms apart: longer than half the budget, shorter than it
    p.Push(Update(i % 2 == 0 ? Side::kBuy : Side::kSell, i % 2 == 0 ? 9990 : 10020, 3 + i));
    p.Run();
    const std::vector<MdEvent> events = to_risk();
    ASSERT_EQ(events.size(), 1u) << "one event per venue message, no more";
    EXPECT_EQ(events[0].type, MdType::kLevels);
    EXPECT_EQ(events[0].levels.size(), 0u);
    EXPECT_EQ(events[0].instrument, kId);
    ASSERT_EQ(risk.state(), BreakerState::kClosed) << "message " << i;
  }
  t += 100'000'001;  // nothing at all for longer than the budget
  risk.Poll(t);
  EXPECT_EQ(risk.state(), BreakerState::kOpen);
  BreakerEvent ev;
  ASSERT_TRUE(risk.PopBreakerEvent(&ev));
  EXPECT_EQ(ev.cause, BreakerCause::kFeedStale);
}

// Regression: a status event for risk (gap, resynced, crossed) was dropped when risk's ring was
// full. It now waits, in order, and nothing the ring refused is lost.
TEST(SignalStage, StatusEventsWaitForRoomOnRisksRingInsteadOfBeingDropped) {
  Pipeline p(/*intent_capacity=*/64, /*risk_capacity=*/2);
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  p.TakeRisk();
  p.TakeIntents();
  ASSERT_TRUE(p.risk_md.try_push(MdEvent{}));  // risk is behind: its ring is full
  ASSERT_TRUE(p.risk_md.try_push(MdEvent{}));
  p.Push(Update(Side::kBuy, 10001, 5));  // a BBO change
  p.Push(
      MdEvent::Status(Venue::kSim, kId,
                      MdStatusInfo{.code = MdStatus::kGap, .expected_seq = 3, .received_seq = 5}));
  p.Push(MdEvent::Status(Venue::kSim, kId, MdStatusInfo{.code = MdStatus::kStale}));
  p.Run();
  EXPECT_EQ(p.stage->counters().risk_md_held, 3u);
  std::vector<MdEvent> seen;
  for (int k = 0; k < 4; ++k) {
    for (const MdEvent& e : p.TakeRisk()) seen.push_back(e);
    p.Run();
  }
  ASSERT_EQ(seen.size(), 5u);  // the two fillers, then everything, in order
  EXPECT_EQ(seen[2].type, MdType::kBbo);
  EXPECT_EQ(seen[2].bbo.bid_price, 10001);
  EXPECT_EQ(seen[3].status.code, MdStatus::kGap);
  EXPECT_EQ(seen[4].status.code, MdStatus::kStale);
}

// While the events held for risk fill the local queue, the stage takes no more input: the feed's
// ring fills instead (and the feed applies its own bounded back-pressure). Nothing is lost.
TEST(SignalStage, HeldEventsForRiskBackPressureTheInput) {
  Pipeline p(/*intent_capacity=*/64, /*risk_capacity=*/2,
             SignalStageOptions{.risk_hold_capacity = 16});
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  p.TakeRisk();
  constexpr int kMessages = 60;
  for (int i = 0; i < kMessages; ++i) p.Push(Update(Side::kBuy, 9990, 1 + i));  // below the top
  (void)p.stage->Poll();
  (void)p.stage->Poll();
  EXPECT_GT(p.md.size(), 0u) << "input left waiting";
  EXPECT_GE(p.stage->counters().input_backpressure, 1u);
  int markers = 0;
  for (int k = 0; k < 200 && markers < kMessages; ++k) {
    markers += static_cast<int>(p.TakeRisk().size());
    (void)p.stage->Poll();
  }
  EXPECT_EQ(markers, kMessages) << "one per message, none dropped";
}

// Regression: an intent the full ring to risk refused was dropped (counted), leaving its strategy
// waiting forever for an answer. It now waits locally, in order, and the overrun reaches risk's
// breaker on the ring risk reads market data from.
TEST(SignalStage, FullIntentRingHoldsIntentsAndTellsRiskOfTheOverrun) {
  Pipeline p(/*intent_capacity=*/2);
  ASSERT_TRUE(p.intents.try_push(OrderIntent{}));  // risk is behind: the ring is full
  ASSERT_TRUE(p.intents.try_push(OrderIntent{}));
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  EXPECT_EQ(p.stage->counters().intent_overruns, 2u);
  EXPECT_EQ(p.maker->quote(Side::kBuy).state, MarketMaker::Quote::State::kPendingNew);
  EXPECT_EQ(p.maker->quote(Side::kSell).state, MarketMaker::Quote::State::kPendingNew);
  const std::vector<MdEvent> risk_events = p.TakeRisk();
  bool flagged = false;
  for (const MdEvent& e : risk_events) flagged |= (e.flags & kMdRingOverrun) != 0;
  EXPECT_TRUE(flagged);
  EXPECT_EQ(p.stage->counters().overruns_to_risk, 1u);

  RiskConfig cfg;
  cfg.instruments.resize(kId + 1);
  RiskCore risk(cfg);
  for (const MdEvent& e : risk_events) risk.OnMarketData(e, 1);
  EXPECT_EQ(risk.state(), BreakerState::kOpen);

  std::vector<OrderIntent> got = p.TakeIntents();  // risk catches up
  p.Run();
  for (const OrderIntent& i : p.TakeIntents()) got.push_back(i);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].side, Side::kBuy);
  EXPECT_EQ(got[2].price, 10003);
  EXPECT_EQ(got[3].side, Side::kSell);
  EXPECT_EQ(p.stage->counters().intents, 2u);
}

// The feed's RingSink dropped events: the next event it got through carries kMdRingOverrun, and
// the signal stage passes the news on to risk.
TEST(SignalStage, FeedOverrunFlagIsPassedOnToRisk) {
  Pipeline p;
  MdEvent s = Snapshot(10000, 10010, 1);
  s.flags |= kMdRingOverrun;
  p.Push(s);
  p.Run();
  EXPECT_EQ(p.stage->counters().feed_overruns, 1u);
  int flagged = 0;
  for (const MdEvent& e : p.TakeRisk()) flagged += (e.flags & kMdRingOverrun) != 0 ? 1 : 0;
  EXPECT_EQ(flagged, 1);
  p.Push(Update(Side::kBuy, 10001, 5));
  p.Run();
  for (const MdEvent& e : p.TakeRisk()) EXPECT_EQ(e.flags & kMdRingOverrun, 0) << "once";
}

// Recovery: the strategy of an instrument starts from the recovered position.
TEST(SignalStage, SeedPositionReachesTheInstrumentsStrategy) {
  Pipeline p;
  ASSERT_TRUE(p.stage->SeedPosition(kId, 1000).ok());  // at the maker's max_position
  EXPECT_EQ(p.maker->position(), 1000);
  EXPECT_TRUE(p.stage->SeedPosition(kId + 1, 5).ok()) << "no strategy there: nothing to do";
  p.Push(Snapshot(10000, 10010, 1));
  p.Run();
  const std::vector<OrderIntent> intents = p.TakeIntents();
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents[0].side, Side::kSell) << "no bid beyond max_position";

  ASSERT_TRUE(p.stage
                  ->AddStrategy(std::make_unique<BookImbalanceTaker>(
                                    10, kSpec, BookImbalanceTaker::Params{.order_size = 1}),
                                kId)
                  .ok());
  const absl::Status split = p.stage->SeedPosition(kId, 5);
  EXPECT_EQ(split.code(), absl::StatusCode::kFailedPrecondition) << split;
  EXPECT_TRUE(p.stage->SeedPosition(kId, 0).ok());
}

TEST(SignalStage, UnknownInstrumentIsRefusedAndCounted) {
  Pipeline p;
  MdEvent ev = Snapshot(10000, 10010, 1);
  ev.instrument = 7;
  p.Push(ev);
  p.Run();
  EXPECT_EQ(p.stage->counters().book_refused, 1u);
  EXPECT_TRUE(p.TakeIntents().empty());
  absl::Status added =
      p.stage->AddStrategy(std::make_unique<MarketMaker>(1, kSpec, MarketMaker::Params{}), 7);
  EXPECT_EQ(added.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nzeza
