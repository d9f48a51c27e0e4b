// feeds/common: LevelBatcher, SymbolTable, text helpers, the level-array scanner,
// InstrumentDiscovery and the FeedDecoder base class (actions, staleness, counters).
#include <random>
#include <string>
#include <vector>

#include "../../common/counting_allocator.h"
#include "gtest/gtest.h"
#include "nzeza/feeds/common/discovery.h"
#include "nzeza/feeds/common/feed_decoder.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/level_scan.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/feeds/common/text.h"

namespace nzeza {
namespace {

TEST(LevelBatcher, SmallMessageIsOneEventWithMessageEnd) {
  LevelBatcher b(16);
  VectorSink sink;
  b.Begin(Venue::kBinance, 7, 42, 1000, 2000, /*snapshot=*/false);
  b.Add(Side::kSell, {105, 1});
  b.Add(Side::kBuy, {100, 2});
  b.Add(Side::kBuy, {99, 0});
  b.Commit(sink, 3000);
  ASSERT_EQ(sink.events.size(), 1u);
  const MdEvent& e = sink.events[0];
  EXPECT_EQ(e.type, MdType::kLevels);
  EXPECT_EQ(e.flags, kMdMessageEnd);
  EXPECT_EQ(e.instrument, 7u);
  EXPECT_EQ(e.venue_seq, 42u);
  EXPECT_EQ(e.exchange_ns, 1000);
  EXPECT_EQ(e.times.recv_ns, 2000);
  EXPECT_EQ(e.times.decoded_ns, 3000);
  ASSERT_EQ(e.levels.num_bids, 2);
  ASSERT_EQ(e.levels.num_asks, 1);
  EXPECT_EQ(e.levels.bids()[0].price, 100);
  EXPECT_EQ(e.levels.bids()[1].size, 0);
  EXPECT_EQ(e.levels.asks()[0].price, 105);
}

TEST(LevelBatcher, LargeSnapshotIsABracketedRunKeepingOrder) {
  LevelBatcher b(4);  // grows during warm-up
  VectorSink sink;
  b.Begin(Venue::kCoinbase, 1, 0, 0, 5, /*snapshot=*/true);
  for (int i = 0; i < 30; ++i) b.Add(Side::kBuy, {1000 - i, i + 1});
  for (int i = 0; i < 17; ++i) b.Add(Side::kSell, {1001 + i, i + 1});
  b.Commit(sink, 6);
  ASSERT_EQ(sink.events.size(), 5u);  // ceil(47 / 11)
  std::vector<PriceLevel> bids, asks;
  for (size_t k = 0; k < sink.events.size(); ++k) {
    const MdEvent& e = sink.events[k];
    EXPECT_TRUE(e.flags & kMdSnapshot);
    EXPECT_EQ((e.flags & kMdSnapshotBegin) != 0, k == 0);
    EXPECT_EQ((e.flags & kMdSnapshotEnd) != 0, k + 1 == sink.events.size());
    EXPECT_EQ((e.flags & kMdMessageEnd) != 0, k + 1 == sink.events.size());
    for (const PriceLevel& l : e.levels.bids()) bids.push_back(l);
    for (const PriceLevel& l : e.levels.asks()) asks.push_back(l);
  }
  ASSERT_EQ(bids.size(), 30u);
  ASSERT_EQ(asks.size(), 17u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(bids[i].price, 1000 - i);
  for (int i = 0; i < 17; ++i) EXPECT_EQ(asks[i].price, 1001 + i);
}

TEST(LevelBatcher, EmptySnapshotIsOneEventAndEmptyUpdateIsNothing) {
  LevelBatcher b;
  VectorSink sink;
  b.Begin(Venue::kDydx, 3, 0, 0, 0, /*snapshot=*/true);
  b.Commit(sink, 1);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].flags, kMdSnapshot | kMdSnapshotBegin | kMdSnapshotEnd | kMdMessageEnd);
  EXPECT_EQ(sink.events[0].levels.size(), 0u);
  b.Begin(Venue::kDydx, 3, 0, 0, 0, /*snapshot=*/false);
  b.Commit(sink, 1);
  EXPECT_EQ(sink.events.size(), 1u);
}

TEST(LevelBatcher, AbortEmitsNothingAndTheNextMessageIsClean) {
  LevelBatcher b;
  VectorSink sink;
  b.Begin(Venue::kBinance, 1, 1, 0, 0, false);
  b.Add(Side::kBuy, {1, 1});
  b.Abort();
  b.Begin(Venue::kBinance, 1, 2, 0, 0, false);
  b.Add(Side::kSell, {2, 2});
  b.Commit(sink, 0);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].levels.num_bids, 0);
  EXPECT_EQ(sink.events[0].levels.num_asks, 1);
  EXPECT_EQ(sink.events[0].venue_seq, 2u);
}

TEST(LevelBatcher, NoAllocationAfterWarmUp) {
  LevelBatcher b(64);
  std::vector<MdEvent> store;
  store.reserve(16);
  struct Sink : MdSink {
    std::vector<MdEvent>* v;
    void Push(const MdEvent& e) noexcept override { v->push_back(e); }
  } sink;
  sink.v = &store;
  const uint64_t before = nzeza::testing::AllocationCount();
  for (int round = 0; round < 100; ++round) {
    store.clear();
    b.Begin(Venue::kBinance, 1, 1, 0, 0, round % 2 == 0);
    for (int i = 0; i < 60; ++i) b.Add(i % 2 ? Side::kBuy : Side::kSell, {i + 1, i});
    b.Commit(sink, 0);
  }
  EXPECT_EQ(nzeza::testing::AllocationCount(), before);
}

// Regression: RingSink counted an overrun and dropped the event, and nothing downstream ever
// learned of it (the breaker's ring-overrun trip was fed by nobody). The next event that gets
// through now carries kMdRingOverrun, once.
TEST(RingSink, NextDeliveredEventCarriesTheOverrun) {
  SpscRing<MdEvent> ring(2);
  RingSink<SpscRing<MdEvent>> sink(ring, /*max_spins=*/4);
  auto ev = [](uint64_t seq) {
    MdEvent e = MdEvent::Levels(Venue::kSim, 0, seq);
    e.flags = kMdMessageEnd;
    return e;
  };
  sink.Push(ev(1));
  sink.Push(ev(2));
  EXPECT_EQ(sink.overruns(), 0u);
  sink.Push(ev(3));  // full: dropped
  sink.Push(ev(4));  // still full
  EXPECT_EQ(sink.overruns(), 2u);
  EXPECT_TRUE(sink.overrun_pending());
  MdEvent out;
  ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(out.flags & kMdRingOverrun, 0);
  sink.Push(ev(5));
  EXPECT_FALSE(sink.overrun_pending());
  sink.Push(ev(6));
  ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(out.venue_seq, 2u);
  ASSERT_TRUE(ring.try_pop(out));
  EXPECT_EQ(out.venue_seq, 5u);
  EXPECT_EQ(out.flags, kMdMessageEnd | kMdRingOverrun) << "the first event after the drops";
  EXPECT_TRUE(ring.empty());  // 6 found the ring full again
  EXPECT_EQ(sink.overruns(), 3u);
}

TEST(SymbolTable, FindsBySymbolAndIdAndRefusesBadTables) {
  std::vector<FeedInstrument> v = {{"BTC-USD", 4, 2, 8}, {"ETH-USD", 9, 2, 8}};
  auto t = SymbolTable::Create(v);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_NE(t->Find("ETH-USD"), nullptr);
  EXPECT_EQ(t->Find("ETH-USD")->id, 9u);
  EXPECT_EQ(t->IndexOf(t->Find("ETH-USD")), 1u);
  EXPECT_EQ(t->Find("eth-usd"), nullptr);
  EXPECT_EQ(t->Find(""), nullptr);
  EXPECT_EQ(t->FindId(4)->symbol, "BTC-USD");
  EXPECT_EQ(t->FindId(5), nullptr);

  std::vector<FeedInstrument> dup_symbol = {{"A", 1, 0, 0}, {"A", 2, 0, 0}};
  EXPECT_EQ(SymbolTable::Create(dup_symbol).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FeedInstrument> dup_id = {{"A", 1, 0, 0}, {"B", 1, 0, 0}};
  EXPECT_EQ(SymbolTable::Create(dup_id).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FeedInstrument> bad_scale = {{"A", 1, 19, 0}};
  EXPECT_EQ(SymbolTable::Create(bad_scale).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<FeedInstrument> empty = {{"", 1, 2, 2}};
  EXPECT_EQ(SymbolTable::Create(empty).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Text, Iso8601) {
  int64_t ns = -1;
  ASSERT_TRUE(ParseIso8601Nanos("1970-01-01T00:00:00Z", &ns));
  EXPECT_EQ(ns, 0);
  // date -u -d 2023-02-09T20:32:50Z +%s = 1675974770
  ASSERT_TRUE(ParseIso8601Nanos("2023-02-09T20:32:50.714964855Z", &ns));
  EXPECT_EQ(ns, 1675974770714964855LL);
  ASSERT_TRUE(ParseIso8601Nanos("2021-04-17T16:43:37.153979Z", &ns));
  EXPECT_EQ(ns, 1618677817153979000LL);  // date -u -d 2021-04-17T16:43:37Z +%s = 1618677817
  ASSERT_TRUE(ParseIso8601Nanos("2024-02-29T00:00:00.5+00:00", &ns));
  EXPECT_EQ(ns, 1709164800500000000LL);
  for (const char* bad :
       {"", "2023-02-09", "2023-02-09T20:32:50", "2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z",
        "2023-02-09T24:00:00Z", "2023-02-09T20:32:50.Z", "2023-02-09T20:32:50.1234567890Z",
        "2023-02-09T20:32:50+01:00", "2023-02-09 20:32:50Z", "1969-12-31T23:59:59Z",
        "2023-02-09T20:32:50Zjunk", "2300-01-01T00:00:00Z", "2023-0a-09T20:32:50Z"}) {
    EXPECT_FALSE(ParseIso8601Nanos(bad, &ns)) << bad;
  }
}

TEST(Text, U64AndFnv) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseU64("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ParseU64("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(ParseU64("18446744073709551616", &v));
  EXPECT_FALSE(ParseU64("", &v));
  EXPECT_FALSE(ParseU64("-1", &v));
  EXPECT_FALSE(ParseU64("12a", &v));
  // FNV-1a 64 reference values (http://www.isthe.com/chongo/tech/comp/fnv/).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(InstrumentDiscovery, SmallestExactScales) {
  EXPECT_EQ(InstrumentDiscovery::DecimalsOf("0.35130000"), 4);
  EXPECT_EQ(InstrumentDiscovery::DecimalsOf("12"), 0);
  EXPECT_EQ(InstrumentDiscovery::DecimalsOf("1.5e-3"), 4);
  EXPECT_EQ(InstrumentDiscovery::DecimalsOf("x"), -1);
  InstrumentDiscovery d;
  d.NotePrice("B", "1.25");
  d.NoteSize("B", "3");
  d.NotePrice("A", "0.001");
  d.NoteSize("B", "0.5");
  d.SetScales("C", 1, 4);
  d.NotePrice("C", "1.123456");  // metadata wins
  const std::vector<FeedInstrument> v = d.Build();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].symbol, "B");
  EXPECT_EQ(v[0].id, 0u);
  EXPECT_EQ(v[0].price_scale, 2);
  EXPECT_EQ(v[0].size_scale, 1);
  EXPECT_EQ(v[1].symbol, "A");
  EXPECT_EQ(v[1].price_scale, 3);
  EXPECT_EQ(v[2].price_scale, 1);
  EXPECT_EQ(v[2].size_scale, 4);
}

// A minimal decoder to exercise the base class.
class FakeDecoder final : public FeedDecoder {
 public:
  explicit FakeDecoder(SymbolTable t) : FeedDecoder(std::move(t)) {}
  Venue venue() const noexcept override { return Venue::kSim; }
  std::vector<std::string> SubscribeFrames() const override { return {"sub"}; }
  std::vector<std::string> ResubscribeFrames(InstrumentId) const override { return {}; }
  void OnOpen(int64_t, MdSink&) noexcept override {}
  void OnClose(int64_t now, MdSink& sink) noexcept override {
    EmitStatusAll(sink, MdStatus::kDisconnected, now);
  }
  // Message: a symbol; "!" fails.
  DecodeError OnMessage(const char* data, size_t size, int64_t recv_ns, MdSink&) noexcept override {
    ++counters_.messages;
    std::string_view s(data, size);
    if (s == "!") return Fail(DecodeError::kMalformedJson, "fake: bang");
    const FeedInstrument* in = table_.Find(s);
    if (in == nullptr) return Fail(DecodeError::kUnknownInstrument, "fake: symbol");
    Seen(table_.IndexOf(in), recv_ns);
    return DecodeError::kOk;
  }
  using FeedDecoder::RequestAction;
};

SymbolTable TwoInstruments() {
  std::vector<FeedInstrument> v = {{"A", 10, 2, 2}, {"B", 11, 2, 2}};
  return *SymbolTable::Create(v);
}

// ScanDecimalPairs over `text` followed by 16 bytes of `fill` (the padding it may read): the
// levels, and whether it took the text (and ended right after the array).
struct Scanned {
  bool ok = false;
  std::vector<PriceLevel> levels;
};
Scanned Scan(const std::string& text, int32_t price_scale = 2, int32_t size_scale = 3,
             char fill = '"', size_t stop_after = SIZE_MAX) {
  std::string buf = text + std::string(16, fill);
  const char* end = buf.data() + text.size();
  Scanned s;
  const char* after =
      ScanDecimalPairs(buf.data(), end, price_scale, size_scale, [&](const PriceLevel& l) {
        if (s.levels.size() == stop_after) return false;
        s.levels.push_back(l);
        return true;
      });
  s.ok = after == end;
  if (after != nullptr && after != end) ADD_FAILURE() << "stopped inside: " << text;
  return s;
}

TEST(ScanStringPairs, HandsOverPlainStringsInPlaceAndRefusesEscapes) {
  const std::string long_a(40, 'x');  // past several 16-byte loads
  const std::string text = "[[\"p q\",\"\"], [\"" + long_a + "\",\"7\"]]";
  const std::string buf = text + std::string(16, '"');
  std::vector<std::pair<std::string_view, std::string_view>> got;
  const char* after = ScanStringPairs(buf.data(), buf.data() + text.size(),
                                      [&](std::string_view a, std::string_view b) {
                                        got.emplace_back(a, b);
                                        return true;
                                      });
  EXPECT_EQ(after, buf.data() + text.size());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, "p q");
  EXPECT_EQ(got[0].second, "");
  EXPECT_EQ(got[1].first, long_a);
  EXPECT_EQ(got[1].first.data(), buf.data() + text.find(long_a));  // a view, not a copy
  for (const std::string& bad :
       {std::string(R"([["a\"b","c"]])"), std::string(R"([["a","b\\"]])"),
        "[[\"" + std::string(20, 'x') + "\\n\",\"c\"]]", "[[\"" + std::string(20, 'x')}) {
    const std::string b = bad + std::string(16, '"');
    EXPECT_EQ(ScanStringPairs(b.data(), b.data() + bad.size(),
                              [](std::string_view, std::string_view) { return true; }),
              nullptr)
        << bad;
  }
}

TEST(IsPrintableAscii, EveryByteValueAtEveryPosition) {
  // Long enough for the 16-byte loop and the byte tail; each position in turn holds the byte.
  std::string text(37, 'a');
  for (int b = 0; b < 256; ++b) {
    const bool printable = b >= 0x20 && b < 0x7f;
    for (size_t at = 0; at < text.size(); ++at) {
      std::string t = text;
      t[at] = static_cast<char>(b);
      ASSERT_EQ(IsPrintableAscii(t.data(), t.size()), printable) << b << " at " << at;
    }
  }
  EXPECT_TRUE(IsPrintableAscii("", 0));
}

TEST(ScanDecimalPairs, CompactAndSpacedArrays) {
  Scanned s = Scan(R"([["14.80","12.775"],["0.01","0"],["100000","123456.7"]])");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.levels.size(), 3u);
  EXPECT_EQ(s.levels[0].price, 1480);
  EXPECT_EQ(s.levels[0].size, 12775);
  EXPECT_EQ(s.levels[1].price, 1);
  EXPECT_EQ(s.levels[1].size, 0);
  EXPECT_EQ(s.levels[2].price, 10000000);
  EXPECT_EQ(s.levels[2].size, 123456700);
  s = Scan(" [ [ \"1.5\" ,\n\"2\" ]\t,\r\n[\"3\",\"4\"] ]");
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.levels.size(), 2u);
  EXPECT_EQ(s.levels[1].price, 300);
  EXPECT_TRUE(Scan("[]").ok);
  EXPECT_TRUE(Scan("[ ]").ok);
  EXPECT_TRUE(Scan("[]").levels.empty());
  // Past the 16-byte quote search: a 24-character size.
  s = Scan(R"([["1","12345678901234.5000000000"]])", 2, 3);
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.levels[0].size, 12345678901234500);
  // An exponent is a decimal the parser takes ("1e2" is 100 on every path).
  s = Scan(R"([["1e2","2"]])");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.levels[0].price, 10000);
}

TEST(ScanDecimalPairs, AnythingElseIsNotTaken) {
  for (const char* t : {
           R"([["1","2"],])",       // trailing comma
           R"([["1","2"])",         // unterminated
           R"([["1","2","3"]])",    // three entries
           R"([["1"]])",            // one
           R"([[]])",               // none
           R"([[1,"2"]])",          // a number, not a string
           R"([["1",2]])",          // the size a number
           R"([["1\u0030","2"]])",  // an escape (valid JSON, not taken)
           R"([["1\"","2"]])",      // an escaped quote
           R"([["0","2"]])",        // price not > 0
           R"([["-1","2"]])",       // negative
           R"([["1","-2"]])",       // negative size
           R"([["1.001","2"]])",    // beyond the price scale
           R"([["1","2.0001"]])",   // beyond the size scale
           R"([["", "2"]])",        // empty
           R"([[" 1","2"]])",       // a space inside the string
           R"({"1":"2"})",          // not an array
           R"([["1","2"]x])",       // junk
           R"([["1","2")",          // truncated
           R"([["1",)",             // truncated
           R"([[")",                // truncated
           R"([)",                  // truncated
           "",                      // nothing
       }) {
    EXPECT_FALSE(Scan(t).ok) << t;
  }
}

TEST(ScanDecimalPairs, NeverReadsAQuoteInThePaddingAsTheText) {
  // The closing quote lies past `end`: the 16-byte load sees it in the padding, the scan must not.
  for (char fill : {'"', '9', ']', '\0'}) {
    for (const char* t : {R"([["1","2)", R"([["1)", R"([["12345678901234)"}) {
      EXPECT_FALSE(Scan(t, 2, 3, fill).ok) << t << " fill " << int{fill};
    }
  }
}

TEST(ScanDecimalPairs, EmitCanStopTheScan) {
  EXPECT_TRUE(Scan(R"([["1","2"],["3","4"]])", 2, 3, '"', 2).ok);
  EXPECT_FALSE(Scan(R"([["1","2"],["3","4"]])", 2, 3, '"', 1).ok);
}

TEST(ScanDecimalPairs, AgreesWithParseDecimalOnRandomLevels) {
  std::mt19937_64 rng(7);
  const char kChars[] = "0123456789.-+e\" ,[]x";
  int taken = 0;
  for (int it = 0; it < 20000; ++it) {
    // Mostly plain decimals, some with a random byte changed.
    auto number = [&] {
      std::string n = std::to_string(rng() % 100000);
      if (rng() % 2) n += "." + std::to_string(rng() % 1000);
      if (rng() % 10 == 0) n[rng() % n.size()] = kChars[rng() % (sizeof(kChars) - 1)];
      return n;
    };
    const std::string p = number(), q = number();
    const std::string text = "[[\"" + p + "\",\"" + q + "\"]]";
    const Scanned s = Scan(text, 3, 3);
    int64_t want_p = 0, want_q = 0;
    const bool want =
        ParseDecimal(p.data(), p.size(), 3, Signedness::kUnsigned, &want_p) == DecimalError::kOk &&
        want_p > 0 &&
        ParseDecimal(q.data(), q.size(), 3, Signedness::kUnsigned, &want_q) == DecimalError::kOk &&
        p.find_first_of("\"\\") == std::string::npos &&
        q.find_first_of("\"\\") == std::string::npos;
    ASSERT_EQ(s.ok, want) << text;
    if (!want) continue;
    ++taken;
    ASSERT_EQ(s.levels.size(), 1u);
    EXPECT_EQ(s.levels[0].price, want_p) << text;
    EXPECT_EQ(s.levels[0].size, want_q) << text;
  }
  EXPECT_GT(taken, 10000);
}

TEST(FeedDecoder, ActionsCoalescePerTypeAndInstrument) {
  FakeDecoder d(TwoInstruments());
  d.RequestAction(FeedActionType::kFetchSnapshot, 10);
  d.RequestAction(FeedActionType::kFetchSnapshot, 10);
  d.RequestAction(FeedActionType::kResubscribe, 10);
  d.RequestAction(FeedActionType::kFetchSnapshot, 11);
  d.RequestAction(FeedActionType::kFetchSnapshot, 99);  // not in the table: ignored
  d.RequestAction(FeedActionType::kReconnect, 0);
  d.RequestAction(FeedActionType::kReconnect, 1);
  std::vector<FeedAction> got;
  FeedAction a;
  while (d.PopAction(&a)) got.push_back(a);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].type, FeedActionType::kFetchSnapshot);
  EXPECT_EQ(got[0].instrument, 10u);
  EXPECT_EQ(got[1].type, FeedActionType::kResubscribe);
  EXPECT_EQ(got[2].instrument, 11u);
  EXPECT_EQ(got[3].type, FeedActionType::kReconnect);
  // Once popped, the same request queues again.
  d.RequestAction(FeedActionType::kFetchSnapshot, 10);
  ASSERT_TRUE(d.PopAction(&a));
  EXPECT_EQ(a.instrument, 10u);
  EXPECT_FALSE(d.PopAction(&a));
}

TEST(FeedDecoder, ManyInterleavedRequestsNeverLoseOne) {
  FakeDecoder d(TwoInstruments());
  FeedAction a;
  for (int i = 0; i < 1000; ++i) {
    d.RequestAction(FeedActionType::kFetchSnapshot, 10);
    d.RequestAction(FeedActionType::kResubscribe, 11);
    ASSERT_TRUE(d.PopAction(&a));  // pop one, leave one pending
    ASSERT_EQ(a.type, FeedActionType::kFetchSnapshot) << i;
    ASSERT_TRUE(d.PopAction(&a));
    ASSERT_EQ(a.type, FeedActionType::kResubscribe) << i;
  }
  EXPECT_FALSE(d.PopAction(&a));
}

TEST(FeedDecoder, StaleOncePerSilenceAndErrorsCounted) {
  FakeDecoder d(TwoInstruments());
  VectorSink sink;
  const std::string a = "A", b = "B", bang = "!", z = "Z";
  ASSERT_EQ(d.OnMessage(a.data(), a.size(), 1'000, sink), DecodeError::kOk);
  ASSERT_EQ(d.OnMessage(b.data(), b.size(), 5'000, sink), DecodeError::kOk);
  EXPECT_EQ(d.CheckStale(3'000, 1'500, sink), 1);  // A is 2000 old
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].instrument, 10u);
  EXPECT_EQ(sink.events[0].status.code, MdStatus::kStale);
  EXPECT_EQ(sink.events[0].status.detail, 2'000);
  EXPECT_EQ(d.CheckStale(4'000, 1'500, sink), 0);  // once
  ASSERT_EQ(d.OnMessage(a.data(), a.size(), 10'000, sink), DecodeError::kOk);
  EXPECT_EQ(d.CheckStale(12'000, 1'500, sink), 2);  // A again (it was refreshed), and B
  EXPECT_EQ(d.counters().stale, 3u);

  EXPECT_EQ(d.OnMessage(bang.data(), bang.size(), 1, sink), DecodeError::kMalformedJson);
  EXPECT_EQ(d.OnMessage(z.data(), z.size(), 1, sink), DecodeError::kUnknownInstrument);
  EXPECT_EQ(d.counters().decode_errors, 1u);
  EXPECT_EQ(d.counters().unknown_instrument, 1u);
  EXPECT_EQ(d.last_error(), DecodeError::kUnknownInstrument);
  EXPECT_STREQ(d.last_error_where(), "fake: symbol");
  EXPECT_EQ(d.instrument_counters(10)->messages, 2u);
  EXPECT_EQ(d.instrument_counters(12), nullptr);

  sink.events.clear();
  d.OnClose(20'000, sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[1].status.code, MdStatus::kDisconnected);
  EXPECT_EQ(sink.events[1].instrument, 11u);
}

TEST(DecodeErrorName, EveryKindHasAName) {
  for (int k = 0; k <= static_cast<int>(DecodeError::kTooLarge); ++k) {
    EXPECT_STRNE(DecodeErrorName(static_cast<DecodeError>(k)), "unknown") << k;
  }
}

}  // namespace
}  // namespace nzeza
