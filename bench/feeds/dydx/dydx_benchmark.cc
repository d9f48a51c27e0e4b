// Benchmarks of the dYdX indexer decoder: decode + book apply per message type, against a
// RapidJSON-based decoder (RapidJSON is what ccapi uses) and a simdjson DOM decoder of the same
// messages, in the same binary. Every contender parses prices and sizes exactly with
// nzeza::ParseDecimal at the instrument's scales, checks the message_id order, stages a message's
// levels in a LevelBatcher, stamps decoded_ns from the same TscClock and applies the events to an
// nzeza::OrderBook. Only ours also keeps the uncross shadow book (the documented remedy), and is
// measured with it; BM_DydxOrderbook_NzezaNoShadow shows what that costs.
//
// Messages:
// - Orderbook (channel_data, array levels): the recording's GRT-USD update
//   (../shared/testdata/dydx/indexer_messages_2024-08.jsonl line 4) and 63 updates in the same
//   envelope (same connection_id and version), one level each as the recorded ones are, over 18
//   bid and 18 ask prices around the recorded GRT-USD snapshot (line 3: 0.1547 / 0.155), sizes
//   from a small set including "0" (deletes), applied after that snapshot.
// - Snapshot (subscribed, object levels): the recording has only a one-level snapshot, so a
//   realistic one is built here: BTC-USD, 100 bids and 100 asks at consecutive ticks around the
//   recording's BTC-USD trade price (60397, tickSize 1), sizes with up to 4 decimals (stepSize
//   0.0001) drawn from a seeded generator, in the indexer's envelope (line 3's format).
// - Trades (channel_data v4_trades): the recording's AVAX-USD and BTC-USD trade messages (lines 1
//   and 2) alternating.
// Each stream is replayed with increasing message_ids (the decoders skip a repeated one): the
// messages stay in cache as a receive buffer does.
// Before timing, each benchmark runs every contender over its messages from the same state and
// checks that they emit the same levels / trades and leave equal books (SkipWithError if not).
//
//   build/<dir>/bench/feeds/dydx/nzeza_bench_feeds_dydx --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   (one command line)
#include <rapidjson/allocators.h>
#include <rapidjson/document.h>
#include <simdjson.h>

// RapidJSON's member iterators define operator== and != for const and non-const operands, which
// C++20's reversed candidates make ambiguous in clang's eyes (it picks the right one anyway).
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wambiguous-reversed-operator"
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "nzeza/book/order_book.h"
#include "nzeza/core/clock.h"
#include "nzeza/core/decimal.h"
#include "nzeza/feeds/common/level_batcher.h"
#include "nzeza/feeds/common/md_sink.h"
#include "nzeza/feeds/common/text.h"
#include "nzeza/feeds/dydx/decoder.h"

namespace nzeza {
namespace {

const TscClock& Clock() {
  static const TscClock clock = [] {
    absl::StatusOr<TscClock> c = TscClock::Calibrate();
    return c.ok() ? *c : TscClock::Fallback();
  }();
  return clock;
}

// Instruments: the recording's tickers at scales that hold every value.
std::vector<FeedInstrument> Instruments() {
  return {{"GRT-USD", 0, 4, 0}, {"BTC-USD", 1, 2, 4}, {"AVAX-USD", 2, 2, 1}};
}
SymbolTable Table() { return *SymbolTable::Create(Instruments()); }

// A message in a buffer with the padding the WebSocket client guarantees. Its message_id is
// written with kIdDigits fixed-width digits so a stream can replay it with a new, higher id each
// time (the decoders skip a repeated id), by copying the digits of a running counter in place.
constexpr size_t kIdDigits = 10;
struct Msg {
  std::string buf;
  size_t size = 0;
  size_t id_at = 0;  // offset of the message_id digits
  explicit Msg(std::string s) : buf(std::move(s)), size(buf.size()) {
    const size_t k = buf.find("\"message_id\":");
    id_at = k == std::string::npos ? 0 : k + 13;
    buf.append(kFeedPadding, '\0');
  }
  const char* data() const { return buf.data(); }
};

// Replays a few messages over and over with increasing message_ids. The messages stay in cache,
// as a receive buffer does; the id update (10 bytes copied, one increment) costs every contender
// the same.
class Stream {
 public:
  explicit Stream(std::vector<Msg> msgs) : msgs_(std::move(msgs)) {}
  const Msg& Next() {
    Msg& m = msgs_[i_];
    if (++i_ == msgs_.size()) i_ = 0;
    std::memcpy(m.buf.data() + m.id_at, digits_, kIdDigits);
    size_t k = kIdDigits - 1;
    while (digits_[k] == '9') digits_[k--] = '0';
    ++digits_[k];
    return m;
  }
  size_t size() const { return msgs_.size(); }
  // Starts again from the first message and id 1000000000 (a fresh connection's order).
  void Rewind() {
    i_ = 0;
    std::memcpy(digits_, "1000000000", kIdDigits);
  }

 private:
  std::vector<Msg> msgs_;
  size_t i_ = 0;
  char digits_[kIdDigits + 1] = "1000000000";
};

// Applies every event to the instrument's book and remembers what data came out (for the
// agreement check; recording is off while timing).
class BookSink final : public MdSink {
 public:
  BookSink() {
    for (const FeedInstrument& in : Instruments()) books.emplace_back(in.id, 1024);
  }
  void Push(const MdEvent& ev) noexcept override {
    (void)books[ev.instrument].Apply(ev);
    if (!record) return;
    if (ev.type == MdType::kLevels) {
      for (const PriceLevel& l : ev.levels.bids()) out.push_back({0, l.price, l.size, 0});
      for (const PriceLevel& l : ev.levels.asks()) out.push_back({1, l.price, l.size, 0});
    } else if (ev.type == MdType::kTrade) {
      out.push_back({2 + static_cast<int>(ev.trade.aggressor), ev.trade.price, ev.trade.size,
                     ev.trade.trade_id ^ static_cast<uint64_t>(ev.exchange_ns)});
    }
  }
  struct Item {
    int kind;
    int64_t a, b;
    uint64_t c;
    bool operator==(const Item&) const = default;
  };
  std::vector<OrderBook> books;
  std::vector<Item> out;
  bool record = false;
};

// ---------------------------------------------------------------------------------------------
// Messages

const std::string kConn = "86052893-19bc-46c9-a1af-e9f5ff4f6572";  // the recording's

std::string GrtSnapshot() {  // recording line 3
  return R"({"type":"subscribed","connection_id":"67838890-75de-4bf3-a638-d7bcdea5f245","message_id":7,"channel":"v4_orderbook","id":"GRT-USD","contents":{"bids":[{"price":"0.1547","size":"35520"}],"asks":[{"price":"0.155","size":"3220"}]}})";
}

std::vector<Msg> DepthMessages() {
  std::vector<Msg> v;
  // Recording line 4 (message_id widened to the fixed width).
  v.emplace_back(
      R"({"type":"channel_data","connection_id":"86052893-19bc-46c9-a1af-e9f5ff4f6572","message_id":1000005814,"id":"GRT-USD","channel":"v4_orderbook","version":"1.0.0","contents":{"bids":[["11.21","0"]]}})");
  static const char* kSizes[] = {"35520", "0", "3220", "120", "0", "98001", "7"};
  for (int i = 1; i < 64; ++i) {
    const bool bid = i % 2 == 0;
    const int k = (i * 7) % 18;
    char px[16];
    std::snprintf(px, sizeof px, "0.%04d", bid ? 1547 - k : 1550 + k);
    const char* sz = kSizes[(i * 5) % 7];
    v.emplace_back(R"({"type":"channel_data","connection_id":")" + kConn +
                   R"(","message_id":1000000000,"id":"GRT-USD","channel":"v4_orderbook",)"
                   R"("version":"1.0.0","contents":{")" +
                   (bid ? "bids" : "asks") + R"(":[[")" + px + R"(",")" + sz + R"("]]}})");
  }
  return v;
}

// BTC-USD, 100 levels a side.
std::string BtcSnapshot() {
  std::mt19937_64 rng(60397);
  auto size = [&] {
    const int units = std::uniform_int_distribution<int>(1, 250000)(rng);  // 0.0001 .. 25
    char b[24];
    std::snprintf(b, sizeof b, "%d.%04d", units / 10000, units % 10000);
    std::string s(b);
    while (s.back() == '0') s.pop_back();  // the indexer writes no trailing zeros
    if (s.back() == '.') s.pop_back();
    return s;
  };
  std::string bids, asks;
  for (int i = 0; i < 100; ++i) {
    if (i) bids += ",", asks += ",";
    bids += R"({"price":")" + std::to_string(60396 - i) + R"(","size":")" + size() + R"("})";
    asks += R"({"price":")" + std::to_string(60397 + i) + R"(","size":")" + size() + R"("})";
  }
  return R"({"type":"subscribed","connection_id":"3a2e4c0c-7579-4bf6-a570-e0979418bbe9","message_id":1000000000,"channel":"v4_orderbook","id":"BTC-USD","contents":{"bids":[)" +
         bids + R"(],"asks":[)" + asks + "]}}";
}

std::vector<Msg> TradeMessages() {
  const std::string avax =  // recording line 1, message_id replaced
      R"(,"id":"AVAX-USD","channel":"v4_trades","version":"2.1.0","contents":{"trades":[{"id":"0165e5e30000000200000002","size":"79.2","price":"25.22","side":"BUY","createdAt":"2024-08-22T23:59:58.855Z","type":"LIMIT"}]}})";
  const std::string btc =  // recording line 2, message_id replaced
      R"(,"id":"BTC-USD","channel":"v4_trades","version":"2.1.0","contents":{"trades":[{"id":"0165e5e40000000200000002","size":"0.002","price":"60397","side":"BUY","createdAt":"2024-08-22T23:59:59.851Z","type":"LIMIT"},{"id":"014f495a0000000200000005","side":"SELL","size":"3.9","price":"22.87","type":"LIQUIDATED","createdAt":"2024-08-04T07:34:50.628Z"}]}})";
  std::vector<Msg> v;
  for (int i = 0; i < 2; ++i) {
    v.emplace_back(
        R"({"type":"channel_data","connection_id":"3a2e4c0c-7579-4bf6-a570-e0979418bbe9","message_id":1000000000)" +
        (i % 2 ? btc : avax));
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The contenders. Both follow the same steps as ours: envelope (type, channel, id, message_id),
// table lookup, message_id order, levels or trades parsed exactly, staged, emitted, applied.

enum class Kind { kSnapshot, kUpdate, kTrades, kOther };

struct Staging {
  LevelBatcher batcher{4096};
  uint64_t last_mid = 0;
  struct Trade {
    MdTrade t;
    int64_t ns;
  };
  std::vector<Trade> trades = std::vector<Trade>(0);
  Staging() { trades.reserve(1024); }
};

bool ParsePx(std::string_view s, int scale, int64_t* out) {
  return ParseScaled(s, scale, out) == DecimalError::kOk;
}

// Emits a staged message: levels through the batcher, trades one by one.
void EmitTrades(Staging& st, const FeedInstrument& in, uint64_t mid, int64_t recv_ns,
                MdSink& sink) {
  const int64_t now = Clock().NowNanos();
  for (size_t i = 0; i < st.trades.size(); ++i) {
    MdEvent ev = MdEvent::Trade(Venue::kDydx, in.id, st.trades[i].t);
    ev.venue_seq = mid;
    ev.exchange_ns = st.trades[i].ns;
    ev.times.recv_ns = recv_ns;
    ev.times.decoded_ns = now;
    ev.flags = i + 1 == st.trades.size() ? kMdMessageEnd : 0;
    sink.Push(ev);
  }
}

class RapidJsonDydx {
 public:
  // Values and the parse stack both in pool allocators (rapidjson::Document's stack would malloc).
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;
  using Value = Document::ValueType;

  explicit RapidJsonDydx(SymbolTable t) : table_(std::move(t)) {}

  [[gnu::noinline]] bool Decode(const char* data, size_t size, int64_t recv_ns, MdSink& sink) {
    // The idiomatic allocation-free use: pool allocators over reused buffers.
    rapidjson::MemoryPoolAllocator<> values(value_buf_, sizeof value_buf_);
    rapidjson::MemoryPoolAllocator<> stack(stack_buf_, sizeof stack_buf_);
    Document d(&values, 1024, &stack);
    d.Parse(data, size);
    if (d.HasParseError() || !d.IsObject()) return false;
    auto str = [](const Value& v) { return std::string_view(v.GetString(), v.GetStringLength()); };
    auto type = d.FindMember("type");
    auto channel = d.FindMember("channel");
    auto id = d.FindMember("id");
    auto mid = d.FindMember("message_id");
    auto contents = d.FindMember("contents");
    if (type == d.MemberEnd() || !type->value.IsString() || channel == d.MemberEnd() ||
        !channel->value.IsString() || id == d.MemberEnd() || !id->value.IsString() ||
        mid == d.MemberEnd() || !mid->value.IsUint64() || contents == d.MemberEnd()) {
      return false;
    }
    const std::string_view t = str(type->value);
    const std::string_view c = str(channel->value);
    const FeedInstrument* in = table_.Find(str(id->value));
    if (in == nullptr) return false;
    const uint64_t m = mid->value.GetUint64();
    const bool subscribed = t == "subscribed";
    if (!subscribed) {
      if (m <= st_.last_mid) return false;
      st_.last_mid = m;
    }
    if (c == "v4_orderbook") {
      st_.batcher.Begin(Venue::kDydx, in->id, m, 0, recv_ns, subscribed);
      if (!contents->value.IsObject()) return Abort();
      for (auto& f : contents->value.GetObject()) {
        const std::string_view k = str(f.name);
        if (k != "bids" && k != "asks") continue;
        const Side side = k == "bids" ? Side::kBuy : Side::kSell;
        if (!f.value.IsArray()) return Abort();
        for (auto& l : f.value.GetArray()) {
          const Value* px;
          const Value* sz;
          if (l.IsArray()) {
            if (l.Size() < 2) return Abort();
            px = &l[0];
            sz = &l[1];
          } else if (l.IsObject()) {
            auto p = l.FindMember("price");
            auto s = l.FindMember("size");
            if (p == l.MemberEnd() || s == l.MemberEnd()) return Abort();
            px = &p->value;
            sz = &s->value;
          } else {
            return Abort();
          }
          if (!px->IsString() || !sz->IsString()) return Abort();
          PriceLevel lv;
          if (!ParsePx(str(*px), in->price_scale, &lv.price) ||
              !ParsePx(str(*sz), in->size_scale, &lv.size) || lv.price <= 0) {
            return Abort();
          }
          if (subscribed && lv.size == 0) continue;
          st_.batcher.Add(side, lv);
        }
      }
      st_.batcher.Commit(sink, Clock().NowNanos());
      return true;
    }
    if (c == "v4_trades") {
      st_.trades.clear();
      if (!contents->value.IsObject()) return false;
      auto tr = contents->value.FindMember("trades");
      if (tr == contents->value.MemberEnd() || !tr->value.IsArray()) return false;
      for (auto& x : tr->value.GetArray()) {
        if (!x.IsObject()) return false;
        auto p = x.FindMember("price");
        auto s = x.FindMember("size");
        auto sd = x.FindMember("side");
        auto i = x.FindMember("id");
        auto ca = x.FindMember("createdAt");
        if (p == x.MemberEnd() || s == x.MemberEnd() || sd == x.MemberEnd()) return false;
        if (!p->value.IsString() || !s->value.IsString() || !sd->value.IsString()) return false;
        Staging::Trade st{};
        if (!ParsePx(str(p->value), in->price_scale, &st.t.price) ||
            !ParsePx(str(s->value), in->size_scale, &st.t.size)) {
          return false;
        }
        const std::string_view side = str(sd->value);
        if (side == "BUY") {
          st.t.aggressor = Side::kBuy;
        } else if (side == "SELL") {
          st.t.aggressor = Side::kSell;
        } else {
          return false;
        }
        if (i != x.MemberEnd() && i->value.IsString()) st.t.trade_id = Fnv1a64(str(i->value));
        if (ca != x.MemberEnd() && ca->value.IsString() &&
            !ParseIso8601Nanos(str(ca->value), &st.ns)) {
          return false;
        }
        st_.trades.push_back(st);
      }
      EmitTrades(st_, *in, m, recv_ns, sink);
      return true;
    }
    return false;
  }
  void Reset() { st_.last_mid = 0; }

 private:
  bool Abort() {
    st_.batcher.Abort();
    return false;
  }
  SymbolTable table_;
  Staging st_;
  char value_buf_[1 << 16];
  char stack_buf_[1 << 14];
};

class SimdjsonDomDydx {
 public:
  explicit SimdjsonDomDydx(SymbolTable t) : table_(std::move(t)) {
    if (parser_.allocate(1 << 20) != simdjson::SUCCESS) std::abort();
  }

  [[gnu::noinline]] bool Decode(const char* data, size_t size, int64_t recv_ns, MdSink& sink) {
    namespace dom = simdjson::dom;
    dom::element doc;
    if (parser_.parse(data, size, false).get(doc)) return false;
    std::string_view t, c, id;
    uint64_t m = 0;
    dom::element contents;
    if (doc["type"].get_string().get(t) || doc["channel"].get_string().get(c) ||
        doc["id"].get_string().get(id) || doc["message_id"].get_uint64().get(m) ||
        doc["contents"].get(contents)) {
      return false;
    }
    const FeedInstrument* in = table_.Find(id);
    if (in == nullptr) return false;
    const bool subscribed = t == "subscribed";
    if (!subscribed) {
      if (m <= st_.last_mid) return false;
      st_.last_mid = m;
    }
    if (c == "v4_orderbook") {
      st_.batcher.Begin(Venue::kDydx, in->id, m, 0, recv_ns, subscribed);
      dom::object o;
      if (contents.get_object().get(o)) return Abort();
      for (dom::key_value_pair f : o) {
        if (f.key != "bids" && f.key != "asks") continue;
        const Side side = f.key == "bids" ? Side::kBuy : Side::kSell;
        dom::array arr;
        if (f.value.get_array().get(arr)) return Abort();
        for (dom::element l : arr) {
          std::string_view px, sz;
          dom::array la;
          dom::object lo;
          if (!l.get_array().get(la)) {
            if (la.size() < 2 || la.at(0).get_string().get(px) || la.at(1).get_string().get(sz)) {
              return Abort();
            }
          } else if (!l.get_object().get(lo)) {
            if (lo["price"].get_string().get(px) || lo["size"].get_string().get(sz)) {
              return Abort();
            }
          } else {
            return Abort();
          }
          PriceLevel lv;
          if (!ParsePx(px, in->price_scale, &lv.price) || !ParsePx(sz, in->size_scale, &lv.size) ||
              lv.price <= 0) {
            return Abort();
          }
          if (subscribed && lv.size == 0) continue;
          st_.batcher.Add(side, lv);
        }
      }
      st_.batcher.Commit(sink, Clock().NowNanos());
      return true;
    }
    if (c == "v4_trades") {
      st_.trades.clear();
      dom::array trades;
      if (contents["trades"].get_array().get(trades)) return false;
      for (dom::element x : trades) {
        std::string_view p, s, sd, i, ca;
        if (x["price"].get_string().get(p) || x["size"].get_string().get(s) ||
            x["side"].get_string().get(sd)) {
          return false;
        }
        Staging::Trade st{};
        if (!ParsePx(p, in->price_scale, &st.t.price) || !ParsePx(s, in->size_scale, &st.t.size)) {
          return false;
        }
        if (sd == "BUY") {
          st.t.aggressor = Side::kBuy;
        } else if (sd == "SELL") {
          st.t.aggressor = Side::kSell;
        } else {
          return false;
        }
        if (!x["id"].get_string().get(i)) st.t.trade_id = Fnv1a64(i);
        if (!x["createdAt"].get_string().get(ca) && !ParseIso8601Nanos(ca, &st.ns)) return false;
        st_.trades.push_back(st);
      }
      EmitTrades(st_, *in, m, recv_ns, sink);
      return true;
    }
    return false;
  }
  void Reset() { st_.last_mid = 0; }

 private:
  bool Abort() {
    st_.batcher.Abort();
    return false;
  }
  SymbolTable table_;
  simdjson::dom::parser parser_;
  Staging st_;
};

// Ours, behind the same small interface.
class Ours {
 public:
  explicit Ours(DydxUncross u = DydxUncross::kRemedy)
      : d_(MakeDydxDecoder(Table(), {.uncross = u, .clock = &Clock()})) {}
  [[gnu::noinline]] bool Decode(const char* data, size_t size, int64_t recv_ns, MdSink& sink) {
    return d_->OnMessage(data, size, recv_ns, sink) == DecodeError::kOk;
  }
  void Reset() {
    NullSink s;
    d_->OnOpen(0, s);
  }
  const DydxDecoder& decoder() const { return *d_; }

 private:
  struct NullSink final : MdSink {
    void Push(const MdEvent&) noexcept override {}
  };
  std::unique_ptr<DydxDecoder> d_;
};

// ---------------------------------------------------------------------------------------------
// The runs

// Runs `dec` from a fresh state over `prefix` (the book's snapshot), then `rounds` passes of
// `stream`; returns whether every message decoded, and what came out in sink->out.
template <typename D>
bool Reference(D& dec, const std::vector<Msg>& prefix, Stream& stream, size_t rounds,
               BookSink* sink) {
  dec.Reset();
  stream.Rewind();
  sink->record = false;
  for (const Msg& m : prefix) {
    if (!dec.Decode(m.data(), m.size, 1, *sink)) return false;
  }
  sink->record = true;
  for (size_t i = 0; i < rounds * stream.size(); ++i) {
    const Msg& m = stream.Next();
    if (!dec.Decode(m.data(), m.size, 1, *sink)) return false;
  }
  sink->record = false;
  return true;
}

bool SameBooks(const BookSink& a, const BookSink& b) {
  for (size_t i = 0; i < a.books.size(); ++i) {
    const OrderBook& x = a.books[i];
    const OrderBook& y = b.books[i];
    if (x.state() != y.state() || x.bids().size() != y.bids().size() ||
        x.asks().size() != y.asks().size()) {
      return false;
    }
    for (uint32_t k = 0; k < x.bids().size(); ++k) {
      if (x.bids()[k].price != y.bids()[k].price || x.bids()[k].size != y.bids()[k].size) {
        return false;
      }
    }
    for (uint32_t k = 0; k < x.asks().size(); ++k) {
      if (x.asks()[k].price != y.asks()[k].price || x.asks()[k].size != y.asks()[k].size) {
        return false;
      }
    }
  }
  return true;
}

// Checks `dec` against ours on the messages; false (with SkipWithError) on any difference.
template <typename D>
bool Agrees(benchmark::State& state, D& dec, const std::vector<Msg>& prefix, Stream& stream) {
  constexpr size_t kRounds = 4;
  Ours ours;
  BookSink a, b;
  if (!Reference(ours, prefix, stream, kRounds, &a)) {
    state.SkipWithError("our decoder refused a message");
    return false;
  }
  if (ours.decoder().dydx_counters().crossed != 0) {
    state.SkipWithError("the stream crosses the book: outputs would legitimately differ");
    return false;
  }
  if (!Reference(dec, prefix, stream, kRounds, &b)) {
    state.SkipWithError("the contender refused a message");
    return false;
  }
  if (a.out.empty() || a.out != b.out || !SameBooks(a, b)) {
    state.SkipWithError("the contender's output differs from ours");
    return false;
  }
  return true;
}

// Decodes and applies the stream's messages, one per iteration, after the book's snapshot.
template <typename D>
void Run(benchmark::State& state, D& dec, const std::vector<Msg>& prefix, Stream& stream) {
  if (!Agrees(state, dec, prefix, stream)) return;
  BookSink sink;
  dec.Reset();
  stream.Rewind();
  for (const Msg& m : prefix) (void)dec.Decode(m.data(), m.size, 1, sink);
  int64_t ok = 0;
  for (auto _ : state) {
    const Msg& m = stream.Next();
    ok += dec.Decode(m.data(), m.size, 2, sink);
  }
  if (ok != static_cast<int64_t>(state.iterations())) state.SkipWithError("refused a message");
  state.SetItemsProcessed(state.iterations());
}

template <typename D>
void RunOrderbook(benchmark::State& state, D& dec) {
  Stream stream(DepthMessages());
  Run(state, dec, {Msg(GrtSnapshot())}, stream);
}

template <typename D>
void RunSnapshot(benchmark::State& state, D& dec) {
  std::vector<Msg> one;
  one.emplace_back(BtcSnapshot());
  const size_t bytes = one[0].size;
  Stream stream(std::move(one));
  Run(state, dec, {}, stream);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

template <typename D>
void RunTrades(benchmark::State& state, D& dec) {
  Stream stream(TradeMessages());
  Run(state, dec, {}, stream);
}

void BM_DydxOrderbook_Nzeza(benchmark::State& state) {
  Ours d;
  RunOrderbook(state, d);
}
void BM_DydxOrderbook_NzezaNoShadow(benchmark::State& state) {
  Ours d(DydxUncross::kOff);
  RunOrderbook(state, d);
}
void BM_DydxOrderbook_RapidJson(benchmark::State& state) {
  auto d = std::make_unique<RapidJsonDydx>(Table());
  RunOrderbook(state, *d);
}
void BM_DydxOrderbook_SimdjsonDom(benchmark::State& state) {
  SimdjsonDomDydx d(Table());
  RunOrderbook(state, d);
}
void BM_DydxSnapshot_Nzeza(benchmark::State& state) {
  Ours d;
  RunSnapshot(state, d);
}
void BM_DydxSnapshot_RapidJson(benchmark::State& state) {
  auto d = std::make_unique<RapidJsonDydx>(Table());
  RunSnapshot(state, *d);
}
void BM_DydxSnapshot_SimdjsonDom(benchmark::State& state) {
  SimdjsonDomDydx d(Table());
  RunSnapshot(state, d);
}
void BM_DydxTrades_Nzeza(benchmark::State& state) {
  Ours d;
  RunTrades(state, d);
}
void BM_DydxTrades_RapidJson(benchmark::State& state) {
  auto d = std::make_unique<RapidJsonDydx>(Table());
  RunTrades(state, *d);
}
void BM_DydxTrades_SimdjsonDom(benchmark::State& state) {
  SimdjsonDomDydx d(Table());
  RunTrades(state, d);
}

BENCHMARK(BM_DydxOrderbook_Nzeza);
BENCHMARK(BM_DydxOrderbook_NzezaNoShadow);
BENCHMARK(BM_DydxOrderbook_RapidJson);
BENCHMARK(BM_DydxOrderbook_SimdjsonDom);
BENCHMARK(BM_DydxSnapshot_Nzeza);
BENCHMARK(BM_DydxSnapshot_RapidJson);
BENCHMARK(BM_DydxSnapshot_SimdjsonDom);
BENCHMARK(BM_DydxTrades_Nzeza);
BENCHMARK(BM_DydxTrades_RapidJson);
BENCHMARK(BM_DydxTrades_SimdjsonDom);

}  // namespace
}  // namespace nzeza
