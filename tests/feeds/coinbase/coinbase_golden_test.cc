// Golden tests on data nobody on this project wrote:
// - Coinbase Exchange: every frame of the real recording
//   ../shared/testdata/coinbase/exchange_feed_2021-04-17.part1.txt decodes with no error; applied
//   to nzeza::OrderBook, no book is ever crossed or invalid after any message, and every product's
//   final book equals a reference built in this test straight from the raw lines (Boost.JSON for
//   the JSON, a few lines of digit arithmetic for the decimals, std::map for the book): no code of
//   the decoder, of simdjson or of nzeza's decimal parser is involved in the reference. (Boost.JSON
//   rather than RapidJSON: RapidJSON 1.1.0 has undefined behaviour on every parse, stack.h:117,
//   which UBSan stops.)
//   Scales come from a pre-scan of the recording in this test (the most decimals any price / size
//   of the product carries, trailing zeros ignored): the recording is from 2021 and the products'
//   increments of that day are not at hand; a pre-scan is the smallest scale that represents every
//   value exactly, which is what an increment guarantees. Never from the decoder.
// - Coinbase Advanced Trade: every example of advanced_trade_doc_examples.jsonl (Coinbase's
//   documentation) decodes to the events the example describes; the client subscribe example is
//   equivalent (same JSON value) to what EncodeCoinbaseSubscribe produces.
#include <boost/json.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON, in this one translation unit

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "coinbase_test_util.h"
#include "nzeza/book/order_book.h"
#include "nzeza/feeds/coinbase/decoder.h"
#include "nzeza/feeds/coinbase/subscribe.h"

namespace nzeza {
namespace {

using testing::Feed;
using testing::RecordedLine;

// Significant fractional digits of a plain decimal text ("0.55300000" -> 3, "12" -> 0).
int Decimals(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return 0;
  std::string_view frac = s.substr(dot + 1);
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  return static_cast<int>(frac.size());
}

// value * 10^scale for a plain non-negative decimal text with at most `scale` significant
// decimals (the pre-scan guarantees it).
int64_t Scaled(std::string_view s, int scale) {
  int64_t v = 0;
  int frac = -1;
  for (char c : s) {
    if (c == '.') {
      frac = 0;
      continue;
    }
    EXPECT_TRUE(c >= '0' && c <= '9') << s;
    if (frac >= 0) {
      if (frac == scale) {
        EXPECT_EQ(c, '0') << s;
        continue;
      }
      ++frac;
    }
    v = v * 10 + (c - '0');
  }
  for (int f = frac < 0 ? 0 : frac; f < scale; ++f) v *= 10;
  return v;
}

std::string Str(const boost::json::value& v) {
  EXPECT_TRUE(v.is_string());
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

struct Scales {
  int price = 0;
  int size = 0;
};

struct RefBook {
  std::map<int64_t, int64_t> bids, asks;
};

TEST(CoinbaseGolden, ExchangeRecordingDecodesWithoutErrorsAndMatchesAReferenceBook) {
  const std::vector<RecordedLine> lines = testing::ReadExchangeRecording();
  ASSERT_EQ(lines.size(), 5500u);

  // Pass 1 (reference side): scales per product.
  std::vector<std::string> order;
  std::map<std::string, Scales> scales;
  std::vector<boost::json::object> docs;
  size_t frames = 0;
  for (const RecordedLine& l : lines) {
    if (l.kind != RecordedLine::kServerFrame) continue;
    ++frames;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(l.frame, ec);
    ASSERT_FALSE(ec) << l.frame;
    ASSERT_TRUE(v.is_object()) << l.frame;
    const boost::json::object& d = docs.emplace_back(std::move(v.as_object()));
    const std::string type = Str(d.at("type"));
    if (!d.contains("product_id")) continue;
    const std::string p = Str(d.at("product_id"));
    if (!scales.count(p)) order.push_back(p);
    Scales& s = scales[p];
    auto note = [&s](const boost::json::value& price, const boost::json::value& size) {
      s.price = std::max(s.price, Decimals(Str(price)));
      s.size = std::max(s.size, Decimals(Str(size)));
    };
    if (type == "snapshot") {
      for (const auto& lv : d.at("bids").as_array()) note(lv.at(0), lv.at(1));
      for (const auto& lv : d.at("asks").as_array()) note(lv.at(0), lv.at(1));
    } else if (type == "l2update") {
      for (const auto& c : d.at("changes").as_array()) note(c.at(1), c.at(2));
    } else if (type == "match" || type == "last_match") {
      note(d.at("price"), d.at("size"));
    } else if (type == "ticker") {
      s.price =
          std::max({s.price, Decimals(Str(d.at("best_bid"))), Decimals(Str(d.at("best_ask")))});
    }
  }
  ASSERT_EQ(order.size(), 10u);

  // The reference books.
  std::map<std::string, RefBook> ref;
  size_t ref_updates = 0;
  for (const boost::json::object& d : docs) {
    const std::string type = Str(d.at("type"));
    if (type != "snapshot" && type != "l2update") continue;
    const std::string p = Str(d.at("product_id"));
    const Scales s = scales[p];
    RefBook& b = ref[p];
    auto set = [](std::map<int64_t, int64_t>& side, int64_t px, int64_t sz) {
      if (sz == 0) {
        side.erase(px);
      } else {
        side[px] = sz;
      }
    };
    if (type == "snapshot") {
      b = RefBook{};
      for (const auto& lv : d.at("bids").as_array()) {
        set(b.bids, Scaled(Str(lv.at(0)), s.price), Scaled(Str(lv.at(1)), s.size));
      }
      for (const auto& lv : d.at("asks").as_array()) {
        set(b.asks, Scaled(Str(lv.at(0)), s.price), Scaled(Str(lv.at(1)), s.size));
      }
    } else {
      ++ref_updates;
      for (const auto& c : d.at("changes").as_array()) {
        set(Str(c.at(0)) == "buy" ? b.bids : b.asks, Scaled(Str(c.at(1)), s.price),
            Scaled(Str(c.at(2)), s.size));
      }
    }
  }
  EXPECT_EQ(ref_updates, 5395u);

  // The decoder, on the same frames, into nzeza::OrderBook.
  std::vector<FeedInstrument> instruments;
  for (size_t i = 0; i < order.size(); ++i) {
    instruments.push_back(
        {order[i], static_cast<InstrumentId>(i), scales[order[i]].price, scales[order[i]].size});
  }
  auto dec = MakeCoinbaseExchangeDecoder(testing::Table(instruments), {});
  std::vector<OrderBook> books;
  for (size_t i = 0; i < order.size(); ++i) books.emplace_back(static_cast<InstrumentId>(i), 8192);
  VectorSink sink;
  dec->OnOpen(0, sink);
  size_t checked = 0, trades = 0, bbos = 0;
  for (const RecordedLine& l : lines) {
    if (l.kind != RecordedLine::kServerFrame) continue;
    sink.events.clear();
    const DecodeError e = Feed(*dec, l.frame, sink, static_cast<int64_t>(l.recv_ts * 1e9));
    ASSERT_EQ(e, DecodeError::kOk) << DecodeErrorName(e) << " at " << dec->last_error_where()
                                   << ": " << l.frame.substr(0, 200);
    for (const MdEvent& ev : sink.events) {
      ASSERT_LT(ev.instrument, books.size());
      OrderBook& book = books[ev.instrument];
      const ApplyResult r = book.Apply(ev);
      ASSERT_TRUE(r.ok()) << BookErrorName(r.error) << ": " << l.frame.substr(0, 200);
      trades += ev.type == MdType::kTrade;
      bbos += ev.type == MdType::kBbo;
      if (ev.type == MdType::kLevels && (ev.flags & kMdMessageEnd) != 0) {
        ++checked;
        ASSERT_FALSE(book.crossed()) << order[ev.instrument] << " crossed after " << l.frame;
        ASSERT_EQ(book.Validate(), BookInvariant::kOk) << l.frame.substr(0, 200);
        ASSERT_EQ(book.state(), BookState::kLive);
      }
    }
  }
  EXPECT_EQ(checked, 5395u + 10u);
  EXPECT_EQ(trades, 44u);  // 34 match + 10 last_match
  EXPECT_EQ(bbos, 44u);
  EXPECT_EQ(dec->counters().messages, frames);
  EXPECT_EQ(dec->counters().decode_errors, 0u);
  EXPECT_EQ(dec->counters().duplicates, 0u);
  EXPECT_EQ(dec->counters().gaps, 0u);
  EXPECT_EQ(dec->counters().snapshots, 10u);
  EXPECT_EQ(CoinbaseCountersOf(*dec)->subscriptions, 3u);

  for (size_t i = 0; i < order.size(); ++i) {
    const RefBook& r = ref[order[i]];
    const OrderBook& b = books[i];
    SCOPED_TRACE(order[i]);
    ASSERT_FALSE(r.bids.empty());
    ASSERT_FALSE(r.asks.empty());
    ASSERT_NE(b.best_bid(), nullptr);
    ASSERT_NE(b.best_ask(), nullptr);
    EXPECT_EQ(b.best_bid()->price, r.bids.rbegin()->first);
    EXPECT_EQ(b.best_bid()->size, r.bids.rbegin()->second);
    EXPECT_EQ(b.best_ask()->price, r.asks.begin()->first);
    EXPECT_EQ(b.best_ask()->size, r.asks.begin()->second);
    EXPECT_LT(r.bids.rbegin()->first, r.asks.begin()->first);
    // And every level, both sides.
    ASSERT_EQ(b.bids().size(), r.bids.size());
    ASSERT_EQ(b.asks().size(), r.asks.size());
    auto rb = r.bids.rbegin();
    for (const PriceLevel& l : b.bids().levels()) {
      EXPECT_EQ(l.price, rb->first);
      EXPECT_EQ(l.size, rb->second);
      ++rb;
    }
    auto ra = r.asks.begin();
    for (const PriceLevel& l : b.asks().levels()) {
      EXPECT_EQ(l.price, ra->first);
      EXPECT_EQ(l.size, ra->second);
      ++ra;
    }
    EXPECT_EQ(b.dropped(), 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// Advanced Trade documentation examples.

TEST(CoinbaseGolden, AdvancedTradeDocExamplesDecode) {
  std::ifstream in(std::string(NZEZA_TESTDATA_DIR) + "/coinbase/advanced_trade_doc_examples.jsonl");
  ASSERT_TRUE(in.good());
  // Scales as Coinbase lists them: BTC-USD and ETH-USD quote_increment 0.01, base_increment
  // 0.00000001.
  const SymbolTable table = testing::Table({{"BTC-USD", 1, 2, 8}, {"ETH-USD", 2, 2, 8}});
  std::string line;
  int examples = 0, heartbeats = 0, snapshots = 0, tickers = 0, trades = 0, subscribes = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++examples;
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    ASSERT_TRUE(doc.is_object() && doc.as_object().contains("msg")) << line;
    const boost::json::object& msg = doc.at("msg").as_object();
    const std::string text = boost::json::serialize(msg);  // members in the file's order
    SCOPED_TRACE(text);
    if (msg.contains("type") && Str(msg.at("type")) == "subscribe") {
      // A client frame: ours must be the same JSON value.
      ++subscribes;
      std::vector<std::string> ids;
      for (const auto& id : msg.at("product_ids").as_array()) ids.push_back(Str(id));
      ASSERT_EQ(Str(msg.at("channel")), "market_trades");
      const std::string ours = EncodeCoinbaseSubscribe(
          CoinbaseSubscribeOp::kSubscribe, CoinbaseChannel::kMarketTrades, ids, Str(msg.at("jwt")));
      const boost::json::value mine = boost::json::parse(ours, ec);
      ASSERT_FALSE(ec) << ours;
      EXPECT_EQ(mine, boost::json::value(msg)) << ours;
      continue;
    }
    auto dec = MakeCoinbaseAdvancedDecoder(table, {});
    VectorSink sink;
    dec->OnOpen(0, sink);
    ASSERT_EQ(Feed(*dec, text, sink, 42), DecodeError::kOk) << dec->last_error_where();
    const std::string channel = Str(msg.at("channel"));
    if (channel == "heartbeats") {
      ++heartbeats;
      EXPECT_TRUE(sink.events.empty());
      EXPECT_EQ(CoinbaseCountersOf(*dec)->heartbeats, 1u);
    } else if (channel == "l2_data") {
      ++snapshots;
      // BTC-USD bids 21921.73 x 0.06317902 and 21921.3 x 0.02, a whole snapshot.
      ASSERT_EQ(sink.events.size(), 1u);
      const MdEvent& e = sink.events[0];
      EXPECT_EQ(e.instrument, 1u);
      EXPECT_EQ(e.flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
      EXPECT_EQ(e.venue_seq, 0u);
      EXPECT_EQ(e.exchange_ns, 1675974770714964855);  // 2023-02-09T20:32:50.714964855Z
      ASSERT_EQ(e.levels.num_bids, 2);
      ASSERT_EQ(e.levels.num_asks, 0);
      EXPECT_EQ(e.levels.level[0].price, 2192173);
      EXPECT_EQ(e.levels.level[0].size, 6317902);
      EXPECT_EQ(e.levels.level[1].price, 2192130);
      EXPECT_EQ(e.levels.level[1].size, 2000000);
      OrderBook book(1, 8);
      ASSERT_TRUE(book.Apply(e).ok());
      EXPECT_EQ(book.state(), BookState::kLive);
    } else if (channel == "ticker") {
      ++tickers;
      // best_bid 21931.98 x 8000.21, best_ask 21933.98 x 8038.07770938.
      ASSERT_EQ(sink.events.size(), 1u);
      const MdEvent& e = sink.events[0];
      EXPECT_EQ(e.type, MdType::kBbo);
      EXPECT_EQ(e.instrument, 1u);
      EXPECT_EQ(e.bbo.bid_price, 2193198);
      EXPECT_EQ(e.bbo.bid_size, 800021000000);
      EXPECT_EQ(e.bbo.ask_price, 2193398);
      EXPECT_EQ(e.bbo.ask_size, 803807770938);
      EXPECT_EQ(e.exchange_ns, 1675974637167359596);  // 2023-02-09T20:30:37.167359596Z
    } else if (channel == "market_trades") {
      ++trades;
      // ETH-USD 0.3 @ 1260.01, side BUY (the taker bought), trade_id "000000000".
      ASSERT_EQ(sink.events.size(), 1u);
      const MdEvent& e = sink.events[0];
      EXPECT_EQ(e.type, MdType::kTrade);
      EXPECT_EQ(e.instrument, 2u);
      EXPECT_EQ(e.trade.price, 126001);
      EXPECT_EQ(e.trade.size, 30000000);
      EXPECT_EQ(e.trade.aggressor, Side::kBuy);
      EXPECT_EQ(e.trade.trade_id, 0u);
      EXPECT_EQ(e.exchange_ns, 1565815347265000000);  // 2019-08-14T20:42:27.265Z
    } else {
      ADD_FAILURE() << "an example this test does not know: " << channel;
    }
    EXPECT_EQ(dec->counters().decode_errors, 0u);
  }
  EXPECT_EQ(examples, 5);
  EXPECT_EQ(heartbeats + snapshots + tickers + trades + subscribes, 5);
}

}  // namespace
}  // namespace nzeza
