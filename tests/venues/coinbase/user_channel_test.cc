#include "nzeza/venues/coinbase/user_channel.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../common/counting_allocator.h"
#include "absl/strings/str_cat.h"

namespace nzeza::venues::coinbase {
namespace {

using oms::VenueReject;

struct Collect : oms::ExecSink {
  void OnExec(const ExecEvent& ev) override { events.push_back(ev); }
  std::vector<ExecEvent> events;
};

class UserChannelTest : public ::testing::Test {
 protected:
  UserChannelTest() : table_(64), dec_(&instruments_, &table_) {
    EXPECT_TRUE(instruments_
                    .Add({.id = 7,
                          .product_id = "BTC-USD",
                          .price_scale = 2,
                          .size_scale = 8,
                          .fee_scale = 10})
                    .ok());
  }
  void Track(uint64_t id, int64_t size, Side side = Side::kBuy) {
    TrackedOrder* t = table_.Insert(id);
    ASSERT_NE(t, nullptr);
    t->instrument = 7;
    t->side = side;
    t->size = size;
    t->strategy_id = 3;
    t->intent_id = 99;
    t->sent_ns = 555;
  }
  // One user-channel message with one order update.
  static std::string Msg(int64_t seq, const std::string& type, const std::string& order) {
    return absl::StrCat(
        R"({"channel":"user","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z","sequence_num":)",
        seq, R"(,"events":[{"type":")", type, R"(","orders":[)", order, "]}]}");
  }
  static std::string Order(const std::string& cid, const std::string& status,
                           const std::string& cum, const std::string& leaves,
                           const std::string& value, const std::string& fees,
                           const std::string& avg = "0", const std::string& extra = "") {
    return absl::StrCat(R"({"order_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","client_order_id":")",
                        cid, R"(","cumulative_quantity":")", cum, R"(","leaves_quantity":")",
                        leaves, R"(","avg_price":")", avg, R"(","total_fees":")", fees,
                        R"(","filled_value":")", value, R"(","number_of_fills":"1","status":")",
                        status, R"(","product_id":"BTC-USD","order_side":"BUY",)",
                        R"("order_type":"Limit","cancel_reason":"","reject_reason":"")", extra,
                        "}");
  }
  DecodeError Feed(const std::string& msg) {
    simdjson::padded_string p(msg);
    return dec_.Decode(p.data(), p.size(), 1234, sink_);
  }

  CoinbaseInstruments instruments_;
  CoinbaseOrderTable table_;
  UserChannelDecoder dec_;
  Collect sink_;
};

TEST(UserChannelSubscribe, FrameIsExact) {
  char buf[kMaxSubscribeBytes];
  const size_t n = EncodeUserSubscribe("h.p.s", buf, sizeof(buf));
  EXPECT_EQ(std::string(buf, n), R"({"type":"subscribe","channel":"user","jwt":"h.p.s"})");
  EXPECT_EQ(EncodeUserSubscribe("h.p.s", buf, 20), 0u);
  EXPECT_EQ(EncodeUserSubscribe("a\"b", buf, sizeof(buf)), 0u);
}

TEST(UserChannelTime, Rfc3339) {
  EXPECT_EQ(ParseRfc3339Nanos("2023-02-09T20:33:57.609931463Z"), 1675974837609931463);
  EXPECT_EQ(ParseRfc3339Nanos("2024-03-01T01:59:59+02:00"), 1709251199000000000);
  EXPECT_EQ(ParseRfc3339Nanos("2023-02-09T20:33:57.6Z"), 1675974837600000000);
  EXPECT_EQ(ParseRfc3339Nanos("2023-02-09 20:33:57"), 0);
  EXPECT_EQ(ParseRfc3339Nanos("garbage"), 0);
}

TEST_F(UserChannelTest, AckPartialFillsExactPricesThenFilled) {
  Track(42, 100000);  // 0.001 BTC
  ASSERT_EQ(Feed(Msg(1, "snapshot", Order("42", "OPEN", "0", "0.001", "0", "0"))),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].type, ExecType::kAck);
  EXPECT_EQ(sink_.events[0].client_order_id, 42u);
  EXPECT_EQ(sink_.events[0].leaves_size, 100000);
  EXPECT_EQ(sink_.events[0].times.sent_ns, 555);
  EXPECT_EQ(sink_.events[0].times.recv_ns, 1234);
  EXPECT_EQ(sink_.events[0].venue_ns, 1675974837609931463);
  EXPECT_EQ(sink_.events[0].strategy_id, 3u);
  EXPECT_EQ(sink_.events[0].intent_id, 99u);
  // 0.0005 @ 43000.00, fee 0.0215
  ASSERT_EQ(Feed(Msg(2, "update", Order("42", "OPEN", "0.0005", "0.0005", "21.5", "0.0215"))),
            DecodeError::kOk);
  // 0.0005 @ 43000.01: filled_value 21.5 + 21.500005
  ASSERT_EQ(Feed(Msg(3, "update", Order("42", "FILLED", "0.001", "0", "43.000005", "0.043000005"))),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  const ExecEvent& f1 = sink_.events[1];
  EXPECT_EQ(f1.type, ExecType::kFill);
  EXPECT_EQ(f1.last_size, 50000);
  EXPECT_EQ(f1.last_price, 4300000);
  EXPECT_EQ(f1.cum_size, 50000);
  EXPECT_EQ(f1.leaves_size, 50000);
  EXPECT_EQ(f1.fee, 215000000);  // 0.0215 at scale 10
  const ExecEvent& f2 = sink_.events[2];
  EXPECT_EQ(f2.last_size, 50000);
  EXPECT_EQ(f2.last_price, 4300001);
  EXPECT_EQ(f2.cum_size, 100000);
  EXPECT_EQ(f2.leaves_size, 0);
  EXPECT_EQ(f2.fee, 215000050);
  EXPECT_NE(f1.trade_id, f2.trade_id);
  EXPECT_EQ(f2.trade_id, UserChannelTradeId("a1b2c3d4-e5f6-7890-abcd-ef1234567890", 100000));
  EXPECT_EQ(dec_.counters().inexact_prices, 0u);
  EXPECT_EQ(table_.Find(42), nullptr);  // done: left the table
  EXPECT_EQ(dec_.counters().gaps, 0u);
}

TEST_F(UserChannelTest, RepeatedUpdateYieldsNothingAndReplayKeepsTradeIds) {
  Track(42, 100000);
  const std::string partial = Order("42", "OPEN", "0.0005", "0.0005", "21.5", "0");
  ASSERT_EQ(Feed(Msg(1, "update", partial)), DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 2u);  // ack (first sight) + fill
  EXPECT_EQ(sink_.events[0].type, ExecType::kAck);
  const uint64_t id = sink_.events[1].trade_id;
  // The same update again (a reconnect's snapshot): no new event.
  dec_.ResetSequence();
  ASSERT_EQ(Feed(Msg(0, "snapshot", partial)), DecodeError::kOk);
  EXPECT_EQ(sink_.events.size(), 2u);
  // A decoder that lost its state (restart) emits the same trade id for it.
  CoinbaseOrderTable fresh(8);
  TrackedOrder* t = fresh.Insert(42);
  t->instrument = 7;
  t->size = 100000;
  t->acked = true;
  UserChannelDecoder other(&instruments_, &fresh);
  Collect c;
  simdjson::padded_string p(Msg(0, "snapshot", partial));
  ASSERT_EQ(other.Decode(p.data(), p.size(), 1, c), DecodeError::kOk);
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].trade_id, id);
  // An older update (cum went down) is ignored.
  ASSERT_EQ(Feed(Msg(1, "update", Order("42", "OPEN", "0.0002", "0.0008", "8.6", "0"))),
            DecodeError::kOk);
  EXPECT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(dec_.counters().stale_updates, 1u);
}

TEST_F(UserChannelTest, MergedFillsGiveTheNearestPriceAndAreCounted) {
  Track(42, 100000);
  ASSERT_EQ(Feed(Msg(1, "update", Order("42", "OPEN", "0", "0.001", "0", "0"))), DecodeError::kOk);
  // 0.0001 @ 100.00 + 0.0002 @ 100.01 merged into one update: value 0.01 + 0.020002 = 0.030002,
  // size 0.0003 -> 100.00666.. -> 100.01
  ASSERT_EQ(Feed(Msg(2, "update", Order("42", "OPEN", "0.0003", "0.0007", "0.030002", "0"))),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 2u);
  EXPECT_EQ(sink_.events[1].last_price, 10001);
  EXPECT_EQ(sink_.events[1].last_size, 30000);
  EXPECT_EQ(dec_.counters().inexact_prices, 1u);
}

TEST_F(UserChannelTest, CancelAfterPartialFillEmitsTheFillFirst) {
  Track(42, 100000, Side::kSell);
  ASSERT_EQ(Feed(Msg(1, "update", Order("42", "OPEN", "0", "0.001", "0", "0"))), DecodeError::kOk);
  ASSERT_EQ(Feed(Msg(2, "update", Order("42", "CANCELLED", "0.0004", "0", "17.2", "0.01"))),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[1].type, ExecType::kFill);
  EXPECT_EQ(sink_.events[1].side, Side::kSell);
  EXPECT_EQ(sink_.events[1].last_price, 4300000);
  EXPECT_EQ(sink_.events[2].type, ExecType::kCanceled);
  EXPECT_EQ(sink_.events[2].cum_size, 40000);
  EXPECT_EQ(sink_.events[2].leaves_size, 0);
  // Gone from the table: a later update for it counts as unknown.
  ASSERT_EQ(Feed(Msg(3, "update", Order("42", "CANCELLED", "0.0004", "0", "17.2", "0.01"))),
            DecodeError::kOk);
  EXPECT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(dec_.counters().unknown_orders, 1u);
}

TEST_F(UserChannelTest, ExpiredAndFailed) {
  Track(1, 100);
  Track(2, 100);
  ASSERT_EQ(Feed(Msg(1, "update", Order("1", "EXPIRED", "0", "0", "0", "0"))), DecodeError::kOk);
  ASSERT_EQ(Feed(Msg(2, "update",
                     Order("2", "FAILED", "0", "0", "0", "0", "0",
                           R"(,"reject_reason":"INSUFFICIENT_FUNDS")"))),
            DecodeError::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[0].type, ExecType::kAck);  // an EXPIRED order had been accepted
  EXPECT_EQ(sink_.events[1].type, ExecType::kExpired);
  EXPECT_EQ(sink_.events[2].type, ExecType::kReject);
  EXPECT_EQ(sink_.events[2].client_order_id, 2u);
  EXPECT_EQ(sink_.events[2].reject_code, static_cast<uint16_t>(VenueReject::kInsufficientFunds));
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(UserChannelTest, UnknownClientIdsAreCountedAndIgnored) {
  Track(42, 100);
  ASSERT_EQ(Feed(Msg(1, "update", Order("11111-000000-000001", "OPEN", "0", "1", "0", "0"))),
            DecodeError::kOk);
  ASSERT_EQ(Feed(Msg(2, "update", Order("43", "OPEN", "0", "1", "0", "0"))), DecodeError::kOk);
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(dec_.counters().unknown_orders, 2u);
}

TEST_F(UserChannelTest, SequenceGapsAreReported) {
  auto heartbeat = [](int seq) {
    return absl::StrCat(
        R"({"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z",)",
        R"("sequence_num":)", seq,
        R"(,"events":[{"current_time":"x","heartbeat_counter":"3049"}]})");
  };
  ASSERT_EQ(Feed(heartbeat(5)), DecodeError::kOk);
  ASSERT_EQ(Feed(heartbeat(6)), DecodeError::kOk);
  EXPECT_FALSE(dec_.gap_pending());
  ASSERT_EQ(Feed(heartbeat(8)), DecodeError::kOk);
  EXPECT_TRUE(dec_.gap_pending());
  EXPECT_EQ(dec_.counters().gaps, 1u);
  dec_.ClearGap();
  dec_.ResetSequence();  // reconnect: numbering restarts
  ASSERT_EQ(Feed(heartbeat(0)), DecodeError::kOk);
  EXPECT_FALSE(dec_.gap_pending());
  EXPECT_EQ(dec_.last_sequence(), 0);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(UserChannelTest, MalformedMessagesAreCounted) {
  EXPECT_EQ(Feed("not json"), DecodeError::kMalformed);
  EXPECT_EQ(Feed("[1,2]"), DecodeError::kMalformed);
  EXPECT_EQ(Feed(R"({"channel":"user","sequence_num":"x"})"), DecodeError::kMalformed);
  EXPECT_EQ(Feed(R"({"channel":"user","sequence_num":1,"events":[{"orders":{}}]})"),
            DecodeError::kMalformed);
  EXPECT_EQ(dec_.counters().malformed, 4u);
  EXPECT_EQ(Feed(R"({"type":"error","message":"authentication failure"})"), DecodeError::kOk);
  EXPECT_EQ(dec_.counters().errors, 1u);
}

TEST_F(UserChannelTest, DecodingDoesNotAllocateAfterWarmUp) {
  Track(42, 100000);
  std::vector<simdjson::padded_string> msgs;
  msgs.emplace_back(Msg(1, "update", Order("42", "OPEN", "0", "0.001", "0", "0")));
  msgs.emplace_back(Msg(2, "update", Order("42", "OPEN", "0.0005", "0.0005", "21.5", "0.01")));
  msgs.emplace_back(Msg(3, "update", Order("42", "FILLED", "0.001", "0", "43", "0.02")));
  sink_.events.reserve(16);
  Collect warm;
  // Warm-up: the parser sizes itself to the largest message (longer than every one below).
  simdjson::padded_string w(Msg(
      0, "update", Order("9", "OPEN", "0.00050000", "0.00050000", "21.50000000", "0.01000000")));
  ASSERT_EQ(dec_.Decode(w.data(), w.size(), 0, warm), DecodeError::kOk);
  const uint64_t before = nzeza::testing::AllocationCount();
  for (const auto& m : msgs) ASSERT_EQ(dec_.Decode(m.data(), m.size(), 1, sink_), DecodeError::kOk);
  EXPECT_EQ(nzeza::testing::AllocationCount(), before);
  EXPECT_EQ(sink_.events.size(), 3u);  // ack, fill, fill
}

TEST(CoinbaseOrderTableTest, InsertFindEraseUnderChurn) {
  CoinbaseOrderTable t(100);
  for (uint64_t i = 1; i <= 100; ++i) ASSERT_NE(t.Insert(i * 7919), nullptr);
  EXPECT_EQ(t.Insert(101 * 7919), nullptr);  // full
  EXPECT_EQ(t.Insert(7919), nullptr);        // present
  for (uint64_t i = 1; i <= 100; i += 2) ASSERT_TRUE(t.Erase(i * 7919));
  for (uint64_t i = 1; i <= 100; ++i) {
    EXPECT_EQ(t.Find(i * 7919) != nullptr, i % 2 == 0) << i;
  }
  for (uint64_t i = 1000; i < 1050; ++i) ASSERT_NE(t.Insert(i), nullptr);
  for (uint64_t i = 2; i <= 100; i += 2) EXPECT_NE(t.Find(i * 7919), nullptr);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_EQ(t.Find(0), nullptr);
}

}  // namespace
}  // namespace nzeza::venues::coinbase
