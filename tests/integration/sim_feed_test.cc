// Two independent implementations of Coinbase Advanced Trade checked against each other: the
// simulated venue's WebSocket frames (venues/sim) decoded by the engine's feed decoder
// (feeds/coinbase) into a book (engine/book). Every frame must decode, sequence numbers must run
// without gaps, and the decoded book's top must equal the venue's own book at every checkpoint.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nzeza/book/book_set.h>
#include <nzeza/feeds/coinbase/decoder.h>
#include <nzeza/feeds/common/md_sink.h>
#include <nzeza/venues/sim/exchange.h>

namespace nzeza {
namespace {

TEST(SimFeed, EveryFrameDecodesAndTheDecodedBookMatchesTheVenue) {
  sim::SimConfig cfg;
  cfg.seed = 7;
  cfg.products[0].participant_orders_per_sec = 400;
  absl::StatusOr<std::unique_ptr<sim::Exchange>> ex = sim::Exchange::Create(cfg);
  ASSERT_TRUE(ex.ok()) << ex.status();
  const std::vector<sim::ProductTotals> t0 = (*ex)->Totals();
  ASSERT_EQ(t0.size(), 1u);

  const std::vector<FeedInstrument> instruments = {
      {"BTC-USD", 0, t0[0].price_scale, t0[0].size_scale}};
  absl::StatusOr<SymbolTable> table = SymbolTable::Create(instruments);
  ASSERT_TRUE(table.ok()) << table.status();
  CoinbaseDecoderOptions opts;
  opts.channels = {CoinbaseChannel::kLevel2, CoinbaseChannel::kMarketTrades,
                   CoinbaseChannel::kHeartbeats};
  std::unique_ptr<FeedDecoder> dec = MakeCoinbaseAdvancedDecoder(*table, opts);
  const BookConfig books_cfg[] = {{0, 5000}};
  absl::StatusOr<BookSet> books = BookSet::Create(books_cfg);
  ASSERT_TRUE(books.ok());

  std::unique_ptr<sim::WsSession> session = (*ex)->OpenSession();
  int64_t now = 1'700'000'000'000'000'000;
  VectorSink sink;
  dec->OnOpen(now, sink);
  for (const std::string& f : dec->SubscribeFrames()) session->OnClientText(f, now);

  std::vector<std::string> frames;
  std::vector<char> buf;
  uint64_t decoded = 0, trades = 0, checkpoints = 0;
  for (int step = 0; step < 20'000; ++step) {  // 20 s of venue time in 1 ms steps
    now += 1'000'000;
    (*ex)->Advance(now);
    frames.clear();
    session->Drain(now, &frames);
    for (const std::string& f : frames) {
      buf.assign(f.begin(), f.end());
      buf.resize(f.size() + kFeedPadding, '\0');
      const DecodeError e = dec->OnMessage(buf.data(), f.size(), now, sink);
      ASSERT_EQ(e, DecodeError::kOk) << DecodeErrorName(e) << " in: " << f.substr(0, 300);
      ++decoded;
    }
    for (const MdEvent& ev : sink.events) {
      if (ev.type == MdType::kTrade) ++trades;
      if (ev.type == MdType::kStatus) {
        ASSERT_NE(ev.status.code, MdStatus::kGap) << "sequence gap at step " << step;
      }
      const ApplyResult r = books->Apply(ev);
      ASSERT_TRUE(r.ok()) << BookErrorName(r.error);
    }
    sink.events.clear();
    if (step % 500 == 499) {
      const OrderBook* b = books->Find(0);
      ASSERT_EQ(b->state(), BookState::kLive);
      const sim::ProductTotals t = (*ex)->Totals()[0];
      ASSERT_NE(b->best_bid(), nullptr);
      ASSERT_NE(b->best_ask(), nullptr);
      EXPECT_EQ(b->best_bid()->price, t.best_bid) << "step " << step;
      EXPECT_EQ(b->best_ask()->price, t.best_ask) << "step " << step;
      EXPECT_EQ(b->Validate(), BookInvariant::kOk);
      ++checkpoints;
    }
  }
  EXPECT_EQ(checkpoints, 40u);
  EXPECT_GT(decoded, 1000u);
  EXPECT_GT(trades, 100u);  // the market trades, so quotes would get filled
  EXPECT_EQ(dec->counters().decode_errors, 0u);
}

}  // namespace
}  // namespace nzeza
