// The simulated exchange's WebSocket protocol (venues/sim/exchange.h, WsSession): Coinbase
// Advanced Trade frames for level2 (l2_data), market_trades, heartbeats and user, checked against
// the shapes of Coinbase's own documentation examples
// (../shared/testdata/coinbase/advanced_trade_doc_examples.jsonl), sequence_num per connection,
// the user channel's authentication and updates after a fill, and robustness to bad frames.
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "nzeza/venues/sim/exchange.h"
#include "sim_test_util.h"

namespace nzeza::sim {
namespace {

using testing::DocKey;
using testing::FreshKey;
using testing::RestJwt;
using testing::TestKey;
using testing::WsJwt;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr char kHost[] = "api.coinbase.com";

// One parsed message, read by JSON pointer ("/events/0/type").
struct Msg {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool ok = false;
  explicit Msg(const std::string& s) { ok = parser.parse(s).get(root) == simdjson::SUCCESS; }
  simdjson::dom::element At(std::string_view ptr) {
    simdjson::dom::element e;
    if (root.at_pointer(ptr).get(e)) ADD_FAILURE() << "no " << ptr;
    return e;
  }
  std::string Str(std::string_view ptr) {
    std::string_view v;
    if (root.at_pointer(ptr).get(v)) return "<not a string: " + std::string(ptr) + ">";
    return std::string(v);
  }
  int64_t Int(std::string_view ptr) {
    int64_t v = -1;
    EXPECT_EQ(root.at_pointer(ptr).get(v), simdjson::SUCCESS) << ptr;
    return v;
  }
  size_t Size(std::string_view ptr) {
    simdjson::dom::array a;
    if (root.at_pointer(ptr).get(a)) return SIZE_MAX;
    return a.size();
  }
  bool IsString(std::string_view ptr) {
    std::string_view v;
    return root.at_pointer(ptr).get(v) == simdjson::SUCCESS;
  }
  // The member names of the object at ptr.
  std::set<std::string> Keys(std::string_view ptr) {
    std::set<std::string> out;
    simdjson::dom::object o;
    if (root.at_pointer(ptr).get(o)) return out;
    for (auto kv : o) out.emplace(kv.key);
    return out;
  }
};

// Coinbase's documentation example for `channel` from the test data.
std::string DocExample(const std::string& channel) {
  std::ifstream f(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/advanced_trade_doc_examples.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    Msg m(line);
    if (m.ok && m.Str("/msg/channel") == channel) {
      simdjson::dom::element msg = m.At("/msg");
      return simdjson::minify(msg);
    }
  }
  return "";
}

SimConfig Config(const TestKey& a) {
  SimConfig c;
  c.seed = 3;
  c.rest_host = kHost;
  c.taker_fee_bps = 10;
  c.maker_fee_bps = 0;
  SimProductConfig p;
  p.start_price = "100.00";
  p.volatility_bps = 0;
  p.participant_orders_per_sec = 0;
  p.seed_levels = 3;
  p.base_min_size = "0.1";
  p.participant_max_size = "1";
  c.products = {p};
  SimProductConfig eth = p;
  eth.product_id = "ETH-USD";
  c.products.push_back(eth);
  c.api_keys = {SimApiKey{.key_name = a.name, .public_key_pem = a.public_pem}};
  return c;
}

class ExchangeWsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = DocKey();
    ASSERT_FALSE(a_.name.empty());
    auto ex = Exchange::Create(Config(a_));
    ASSERT_TRUE(ex.ok()) << ex.status();
    ex_ = std::move(*ex);
  }

  std::vector<std::string> Drain(WsSession& s) {
    std::vector<std::string> out;
    s.Drain(now_, &out);
    return out;
  }

  RestReply Order(std::string_view body) {
    now_ += 1'000'000;
    const char* path = "/api/v3/brokerage/orders";
    return ex_->HandleRest("POST", path, "Bearer " + RestJwt(a_, "POST", kHost, path, now_), body,
                           now_);
  }

  TestKey a_;
  std::unique_ptr<Exchange> ex_;
  int64_t now_ = kT0;
};

TEST_F(ExchangeWsTest, Level2SubscribeGivesSubscriptionsThenSnapshotShapedLikeTheDocs) {
  auto s = ex_->OpenSession();
  s->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})", now_);
  std::vector<std::string> frames = Drain(*s);
  ASSERT_EQ(frames.size(), 2u);
  Msg sub(frames[0]);
  ASSERT_TRUE(sub.ok) << frames[0];
  EXPECT_EQ(sub.Str("/channel"), "subscriptions");
  EXPECT_EQ(sub.Int("/sequence_num"), 0);
  EXPECT_EQ(sub.Str("/events/0/subscriptions/level2/0"), "BTC-USD");

  Msg snap(frames[1]);
  ASSERT_TRUE(snap.ok) << frames[1];
  Msg doc(DocExample("l2_data"));
  ASSERT_TRUE(doc.ok);
  // Same envelope, event and update members as Coinbase's example.
  EXPECT_EQ(snap.Keys(""), doc.Keys(""));
  EXPECT_EQ(snap.Keys("/events/0"), doc.Keys("/events/0"));
  EXPECT_EQ(snap.Keys("/events/0/updates/0"), doc.Keys("/events/0/updates/0"));
  EXPECT_EQ(snap.Str("/channel"), "l2_data");
  EXPECT_EQ(snap.Int("/sequence_num"), 1);
  EXPECT_EQ(snap.Str("/events/0/type"), "snapshot");
  EXPECT_EQ(snap.Str("/events/0/product_id"), "BTC-USD");
  // 3 seeded levels a side, prices and sizes as strings.
  ASSERT_EQ(snap.Size("/events/0/updates"), 6u);
  int bids = 0, offers = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string u = "/events/0/updates/" + std::to_string(i);
    bids += snap.Str(u + "/side") == "bid";
    offers += snap.Str(u + "/side") == "offer";
    EXPECT_TRUE(snap.IsString(u + "/price_level"));
    EXPECT_TRUE(snap.IsString(u + "/new_quantity"));
  }
  EXPECT_EQ(bids, 3);
  EXPECT_EQ(offers, 3);
  EXPECT_EQ(snap.Str("/events/0/updates/0/price_level"), "99.99");  // best bid first
}

TEST_F(ExchangeWsTest, UpdatesAreAbsoluteZeroDeletesAndSequencePerConnection) {
  auto s1 = ex_->OpenSession();
  auto s2 = ex_->OpenSession();
  s1->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})", now_);
  s1->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"market_trades"})",
                   now_);
  ASSERT_EQ(Drain(*s1).size(), 4u);  // subscriptions, snapshot, subscriptions, trades snapshot
  s2->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})", now_);
  ASSERT_EQ(Drain(*s2).size(), 2u);

  // Volatility 0: one-tick spacing around 100.00; the best offer is 100.01.
  ASSERT_EQ(ex_->Totals()[0].best_ask, 10001);
  RestReply placed = Order(R"({"client_order_id":"b1","product_id":"BTC-USD","side":"BUY",)"
                           R"("order_configuration":{"limit_limit_gtc":)"
                           R"({"base_size":"0.25","limit_price":"99.5"}}})");
  ASSERT_EQ(placed.status, 200);
  Msg created(placed.body);
  const std::string order_id = created.Str("/success_response/order_id");
  std::vector<std::string> f1 = Drain(*s1);
  ASSERT_EQ(f1.size(), 1u);
  Msg m(f1[0]);
  EXPECT_EQ(m.Int("/sequence_num"), 4);
  EXPECT_EQ(m.Str("/events/0/type"), "update");
  EXPECT_EQ(m.Str("/events/0/updates/0/side"), "bid");
  EXPECT_EQ(m.Str("/events/0/updates/0/price_level"), "99.5");
  EXPECT_EQ(m.Str("/events/0/updates/0/new_quantity"), "0.25");
  std::vector<std::string> f2 = Drain(*s2);
  ASSERT_EQ(f2.size(), 1u);
  EXPECT_EQ(Msg(f2[0]).Int("/sequence_num"), 2);  // s2's own numbering
  EXPECT_TRUE(Drain(*s1).empty());

  ASSERT_EQ(Order(R"({"client_order_id":"m1","product_id":"BTC-USD","side":"BUY",)"
                  R"("order_configuration":{"market_market_ioc":{"quote_size":"50"}}})")
                .status,
            200);
  std::vector<std::string> f3 = Drain(*s1);
  ASSERT_EQ(f3.size(), 2u);  // l2 update, market_trades update
  Msg l2(f3[0]);
  EXPECT_EQ(l2.Str("/channel"), "l2_data");
  EXPECT_EQ(l2.Int("/sequence_num"), 5);
  EXPECT_NE(f3[0].find(R"("side":"offer")"), std::string::npos);
  EXPECT_NE(f3[0].find(R"("price_level":"100.01")"), std::string::npos) << f3[0];
  Msg tr(f3[1]);
  EXPECT_EQ(tr.Str("/channel"), "market_trades");
  EXPECT_EQ(tr.Int("/sequence_num"), 6);
  EXPECT_EQ(tr.Str("/events/0/type"), "update");
  EXPECT_EQ(tr.Str("/events/0/trades/0/side"), "BUY");  // the taker's side
  EXPECT_EQ(tr.Str("/events/0/trades/0/product_id"), "BTC-USD");
  EXPECT_TRUE(tr.IsString("/events/0/trades/0/price"));
  EXPECT_TRUE(tr.IsString("/events/0/trades/0/size"));
  EXPECT_TRUE(tr.IsString("/events/0/trades/0/trade_id"));
  Msg doc(DocExample("market_trades"));
  ASSERT_TRUE(doc.ok);
  EXPECT_EQ(tr.Keys(""), doc.Keys(""));
  EXPECT_EQ(tr.Keys("/events/0/trades/0"), doc.Keys("/events/0/trades/0"));

  // Cancelling the only order at a level publishes it with "0".
  now_ += 1'000'000;
  const char* cancel = "/api/v3/brokerage/orders/batch_cancel";
  RestReply c =
      ex_->HandleRest("POST", cancel, "Bearer " + RestJwt(a_, "POST", kHost, cancel, now_),
                      "{\"order_ids\":[\"" + order_id + "\"]}", now_);
  ASSERT_EQ(c.status, 200) << c.body;
  std::vector<std::string> f4 = Drain(*s2);
  ASSERT_EQ(f4.size(), 2u);  // the market buy's update, then the cancel's
  EXPECT_NE(f4[1].find(R"("side":"bid")"), std::string::npos);
  EXPECT_NE(f4[1].find(R"("price_level":"99.5","new_quantity":"0")"), std::string::npos) << f4[1];
  EXPECT_EQ(Msg(f4[1]).Int("/sequence_num"), 4);
}

TEST_F(ExchangeWsTest, HeartbeatsEverySecondWithCounter) {
  auto s = ex_->OpenSession();
  s->OnClientText(R"({"type":"subscribe","channel":"heartbeats"})", now_);
  std::vector<std::string> f = Drain(*s);
  ASSERT_EQ(f.size(), 2u);  // subscriptions, first heartbeat
  Msg hb(f[1]);
  Msg doc(DocExample("heartbeats"));
  ASSERT_TRUE(doc.ok);
  EXPECT_EQ(hb.Keys(""), doc.Keys(""));
  EXPECT_EQ(hb.Keys("/events/0"), doc.Keys("/events/0"));
  EXPECT_EQ(hb.Str("/events/0/heartbeat_counter"), "1");
  EXPECT_EQ(hb.Int("/sequence_num"), 1);
  now_ += 500'000'000;
  EXPECT_TRUE(Drain(*s).empty());
  now_ += 500'000'000;
  f = Drain(*s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Msg(f[0]).Str("/events/0/heartbeat_counter"), "2");
  s->OnClientText(R"({"type":"unsubscribe","channel":"heartbeats"})", now_);
  now_ += 5'000'000'000;
  f = Drain(*s);
  ASSERT_EQ(f.size(), 1u);  // the subscriptions reply only
  EXPECT_EQ(Msg(f[0]).Str("/channel"), "subscriptions");
}

TEST_F(ExchangeWsTest, UserChannelNeedsJwtThenSnapshotAndUpdatesAfterAFill) {
  auto s = ex_->OpenSession();
  s->OnClientText(R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"]})", now_);
  std::vector<std::string> f = Drain(*s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Msg(f[0]).Str("/type"), "error") << f[0];
  // A token signed by another key under our key's name.
  s->OnClientText(R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":")" +
                      WsJwt(FreshKey(a_.name), now_) + "\"}",
                  now_);
  f = Drain(*s);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find("authentication failure"), std::string::npos) << f[0];

  // A resting order before subscribing: in the snapshot.
  ASSERT_EQ(Order(R"({"client_order_id":"r1","product_id":"BTC-USD","side":"BUY",)"
                  R"("order_configuration":{"limit_limit_gtc":)"
                  R"({"base_size":"0.1","limit_price":"99"}}})")
                .status,
            200);
  s->OnClientText(R"({"type":"subscribe","channel":"user","product_ids":["BTC-USD"],"jwt":")" +
                      WsJwt(a_, now_) + "\"}",
                  now_);
  f = Drain(*s);
  ASSERT_EQ(f.size(), 2u);
  Msg snap(f[1]);
  EXPECT_EQ(snap.Str("/channel"), "user");
  EXPECT_EQ(snap.Int("/sequence_num"), 1);  // errors are not numbered
  EXPECT_EQ(snap.Str("/events/0/type"), "snapshot");
  EXPECT_EQ(snap.Str("/events/0/orders/0/client_order_id"), "r1");
  EXPECT_EQ(snap.Str("/events/0/orders/0/status"), "OPEN");
  EXPECT_EQ(snap.Str("/events/0/orders/0/leaves_quantity"), "0.1");

  // A market buy of 0.3 against the seeded offers: an update per state change.
  RestReply r = Order(R"({"client_order_id":"t1","product_id":"BTC-USD","side":"BUY",)"
                      R"("order_configuration":{"market_market_ioc":{"base_size":"0.3"}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  f = Drain(*s);
  ASSERT_EQ(f.size(), 1u);
  Msg up(f[0]);
  EXPECT_EQ(up.Int("/sequence_num"), 2);
  EXPECT_EQ(up.Str("/events/0/type"), "update");
  const size_t n = up.Size("/events/0/orders");
  ASSERT_GE(n, 2u);
  ASSERT_NE(n, SIZE_MAX);
  const std::string last = "/events/0/orders/" + std::to_string(n - 1);
  for (const char* field :
       {"order_id", "client_order_id", "status", "cumulative_quantity", "leaves_quantity",
        "avg_price", "total_fees", "number_of_fills", "filled_value", "order_side", "product_id",
        "order_type", "creation_time"}) {
    EXPECT_TRUE(up.IsString(last + "/" + field)) << field << " in " << f[0];
  }
  EXPECT_EQ(up.Str(last + "/client_order_id"), "t1");
  EXPECT_EQ(up.Str(last + "/status"), "FILLED");
  EXPECT_EQ(up.Str(last + "/cumulative_quantity"), "0.3");
  EXPECT_EQ(up.Str(last + "/leaves_quantity"), "0");
  EXPECT_EQ(up.Str(last + "/order_side"), "BUY");
  EXPECT_EQ(up.Str(last + "/order_type"), "Market");
  EXPECT_EQ(up.Str(last + "/number_of_fills"), std::to_string(n - 1));
  EXPECT_EQ(up.Str("/events/0/orders/0/status"), "OPEN");
  // Orders of products not subscribed are filtered out.
  ASSERT_EQ(Order(R"({"client_order_id":"e1","product_id":"ETH-USD","side":"BUY",)"
                  R"("order_configuration":{"limit_limit_gtc":)"
                  R"({"base_size":"0.1","limit_price":"90"}}})")
                .status,
            200);
  EXPECT_TRUE(Drain(*s).empty());
}

TEST_F(ExchangeWsTest, BadFramesGetErrorsNeverACrash) {
  auto s = ex_->OpenSession();
  const std::vector<std::string> bad = {
      "",
      "{",
      "[]",
      "null",
      R"({"type":"subscribe"})",
      R"({"type":"subscribe","channel":"level2"})",
      R"({"type":"subscribe","channel":"level2","product_ids":"BTC-USD"})",
      R"({"type":"subscribe","channel":"level2","product_ids":[1]})",
      R"({"type":"subscribe","channel":"level2","product_ids":["NOPE-USD"]})",
      R"({"type":"subscribe","channel":"candles","product_ids":["BTC-USD"]})",
      R"({"type":"dance","channel":"level2","product_ids":["BTC-USD"]})",
      R"({"type":"subscribe","channel":"user","jwt":"a.b.c"})",
      R"({"type":7})",
      std::string(70'000, '{'),
  };
  for (const std::string& frame : bad) {
    s->OnClientText(frame, now_);
    std::vector<std::string> f = Drain(*s);
    ASSERT_EQ(f.size(), 1u) << frame.substr(0, 80);
    Msg e(f[0]);
    ASSERT_TRUE(e.ok) << f[0];
    EXPECT_EQ(e.Str("/type"), "error") << frame.substr(0, 80);
  }
  // Still works afterwards, and its numbering starts at 0 (errors are not numbered).
  s->OnClientText(R"({"type":"subscribe","channel":"level2","product_ids":["ETH-USD"]})", now_);
  std::vector<std::string> f = Drain(*s);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(Msg(f[0]).Int("/sequence_num"), 0);
}

TEST_F(ExchangeWsTest, ClosedSessionsUnregister) {
  auto s = ex_->OpenSession();
  s->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})", now_);
  s.reset();  // closing a session unregisters it; the exchange keeps publishing to the others
  auto s2 = ex_->OpenSession();
  s2->OnClientText(R"({"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"})", now_);
  ASSERT_EQ(Order(R"({"client_order_id":"x","product_id":"BTC-USD","side":"BUY",)"
                  R"("order_configuration":{"limit_limit_gtc":)"
                  R"({"base_size":"0.1","limit_price":"99"}}})")
                .status,
            200);
  ex_->Advance(now_ + 1'000'000'000);
  EXPECT_EQ(Drain(*s2).size(), 3u);
}

}  // namespace
}  // namespace nzeza::sim
