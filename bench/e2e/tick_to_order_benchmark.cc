// End-to-end tick-to-order latency in one process: recorded simulated-venue market data (Coinbase
// Advanced Trade frames from venues/sim, seeded) through the real pipeline: feed decoder ->
// ring -> signal stage (books + the market maker) -> ring -> risk stage -> ring -> order stage
// (journal-free here) -> the order encoded and written to a socket. Latency is measured per order
// from the decode start of the market-data message that caused it (recv_ns, stamped just before
// the decoder runs) to the order handed to the socket: t2o_* when the write() of its batch has
// returned, t2w_* when that write() begins (the bytes complete, handed to the kernel call).
//
//   BM_TickToOrderFused: every stage on one thread (InlineRunner), the 2-core default.
//   BM_TickToOrderSplit: feed + signal on one worker, risk + order on another (spin-then-yield),
//                        one ring hop between cores.
// Both replay the same frames at the same pace (one per 20 us); each reports p50 / p99 / p99.9 /
// max tick-to-order (ns), orders, and frames/s as counters. The venue is answered locally (an
// immediate ack / cancel for each command) so the strategy keeps quoting at the rate a real venue
// would let it.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <nzeza/book/book_set.h>
#include <nzeza/core/clock.h>
#include <nzeza/core/decimal.h>
#include <nzeza/core/runtime.h>
#include <nzeza/core/spsc_ring.h>
#include <nzeza/feeds/coinbase/decoder.h>
#include <nzeza/feeds/common/md_sink.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/order_stage.h>
#include <nzeza/risk/risk_stage.h>
#include <nzeza/signal/signal_stage.h>
#include <nzeza/signal/strategy.h>
#include <nzeza/venues/sim/exchange.h>

namespace nzeza {
namespace {

const TscClock& Clock() {
  static const TscClock c = [] {
    absl::StatusOr<TscClock> t = TscClock::Calibrate();
    return t.ok() ? *t : TscClock::Fallback();
  }();
  return c;
}

struct Frames {
  int price_scale = 0;
  int size_scale = 0;
  std::vector<std::vector<char>> padded;
  std::vector<size_t> size;
};

// 60 s of the simulated venue's market (seeded), as the frames one level2 + market_trades
// subscriber receives.
const Frames& RecordedFrames() {
  static const Frames f = [] {
    Frames out;
    sim::SimConfig cfg;
    cfg.seed = 11;
    cfg.products[0].participant_orders_per_sec = 500;
    auto ex = sim::Exchange::Create(cfg);
    if (!ex.ok()) std::abort();
    out.price_scale = (*ex)->Totals()[0].price_scale;
    out.size_scale = (*ex)->Totals()[0].size_scale;
    std::unique_ptr<sim::WsSession> s = (*ex)->OpenSession();
    int64_t now = 1'700'000'000'000'000'000;
    s->OnClientText(R"({"type":"subscribe","channel":"level2","product_ids":["BTC-USD"]})", now);
    s->OnClientText(R"({"type":"subscribe","channel":"market_trades","product_ids":["BTC-USD"]})",
                    now);
    std::vector<std::string> frames;
    for (int step = 0; step < 60'000; ++step) {
      now += 1'000'000;
      (*ex)->Advance(now);
      s->Drain(now, &frames);
    }
    for (const std::string& fr : frames) {
      std::vector<char> p(fr.begin(), fr.end());
      p.resize(fr.size() + kFeedPadding, '\0');
      out.padded.push_back(std::move(p));
      out.size.push_back(fr.size());
    }
    return out;
  }();
  return f;
}

// The feed-decode stage without a socket: one recorded frame per Poll, stamped as received now,
// paced at one frame per kFrameIntervalNs (as a socket would deliver them) so that what is
// measured is the pipeline's latency, not a queue built by replaying faster than it drains.
constexpr int64_t kFrameIntervalNs = 20'000;

class ReplayFeed final : public Stage {
 public:
  ReplayFeed(const Frames& f, std::unique_ptr<FeedDecoder> dec, MdSink& sink)
      : f_(f), dec_(std::move(dec)), sink_(sink) {
    dec_->OnOpen(Clock().NowNanos(), sink_);
  }
  std::string_view name() const noexcept override { return "feed"; }
  int Poll() noexcept override {
    if (next_ == f_.padded.size()) return 0;
    const int64_t recv = Clock().NowNanos();
    if (start_ == 0) start_ = recv;
    if (recv < start_ + static_cast<int64_t>(next_) * kFrameIntervalNs) return 0;
    errors_ +=
        dec_->OnMessage(f_.padded[next_].data(), f_.size[next_], recv, sink_) != DecodeError::kOk;
    ++next_;
    done_.store(next_ == f_.padded.size(), std::memory_order_release);
    return 1;
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  uint64_t errors() const noexcept { return errors_; }

 private:
  const Frames& f_;
  std::unique_ptr<FeedDecoder> dec_;
  MdSink& sink_;
  size_t next_ = 0;
  int64_t start_ = 0;
  uint64_t errors_ = 0;
  std::atomic<bool> done_{false};
};

// Encodes each order as a Coinbase Advanced Trade create/cancel request (body and headers, into
// a fixed buffer), and writes a batch's requests to a socket in one write() at Flush; the venue's
// answer (ack / canceled) is produced locally on the next Poll. The socket's other end is drained
// in Poll, off the measured path.
class SocketGateway final : public oms::OrderGateway {
 public:
  SocketGateway() {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds_) != 0) std::abort();
    const int big = 4 << 20;
    setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    fcntl(fds_[0], F_SETFL, O_NONBLOCK);
    fcntl(fds_[1], F_SETFL, O_NONBLOCK);
  }
  ~SocketGateway() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  oms::SendStatus Send(const OrderCmd& cmd, int64_t) noexcept override {
    const size_t n = Encode(cmd);
    if (out_n_ + n > sizeof(out_)) return oms::SendStatus::kQueueFull;
    std::memcpy(out_ + out_n_, buf_, n);  // pipelined on the keep-alive connection
    out_n_ += n;
    if (pending_n_ == kPending) return oms::SendStatus::kSent;  // answered by nobody: rare
    ExecEvent& e = pending_[pending_n_++];
    e = ExecEvent{};
    e.type = cmd.type == CmdType::kNew ? ExecType::kAck : ExecType::kCanceled;
    e.side = cmd.side;
    e.instrument = cmd.instrument;
    e.strategy_id = cmd.strategy_id;
    e.client_order_id = cmd.type == CmdType::kNew ? cmd.client_order_id : cmd.orig_client_order_id;
    e.intent_id = cmd.intent_id;
    e.leaves_size = cmd.type == CmdType::kNew ? cmd.size : 0;
    e.times.sent_ns = cmd.times.sent_ns;
    return oms::SendStatus::kSent;
  }
  void Flush(int64_t) noexcept override {
    if (out_n_ != 0 && write(fds_[0], out_, out_n_) != static_cast<ssize_t>(out_n_)) ++short_;
    out_n_ = 0;
  }
  int Poll(oms::ExecSink& sink) noexcept override {
    char drain[65536];
    while (read(fds_[1], drain, sizeof(drain)) > 0) {
    }
    const int n = static_cast<int>(pending_n_);
    for (size_t i = 0; i < pending_n_; ++i) sink.OnExec(pending_[i]);
    pending_n_ = 0;
    return n;
  }
  bool TrackRecovered(const oms::Order&) noexcept override { return false; }  // no recovery here
  bool ready() const noexcept override { return true; }
  std::string_view name() const noexcept override { return "socket"; }

 private:
  size_t Put(size_t at, std::string_view s) noexcept {
    std::memcpy(buf_ + at, s.data(), s.size());
    return at + s.size();
  }
  size_t Encode(const OrderCmd& cmd) noexcept {
    char body[256];
    size_t b = 0;
    auto put = [&](std::string_view s) {
      std::memcpy(body + b, s.data(), s.size());
      b += s.size();
    };
    char num[kMaxDecimalChars];
    if (cmd.type == CmdType::kNew) {
      put(R"({"client_order_id":")");
      b += static_cast<size_t>(
          std::to_chars(body + b, body + sizeof(body), cmd.client_order_id).ptr - (body + b));
      put(R"(","product_id":"BTC-USD","side":")");
      put(cmd.side == Side::kBuy ? "BUY" : "SELL");
      put(R"(","order_configuration":{"limit_limit_gtc":{"base_size":")");
      put(std::string_view(num, FormatDecimal(cmd.size, size_scale_, num)));
      put(R"(","limit_price":")");
      put(std::string_view(num, FormatDecimal(cmd.price, price_scale_, num)));
      put(R"(","post_only":true}}})");
    } else {
      put(R"({"order_ids":[")");
      b += static_cast<size_t>(
          std::to_chars(body + b, body + sizeof(body), cmd.orig_client_order_id).ptr - (body + b));
      put(R"("]})");
    }
    size_t n = Put(0, cmd.type == CmdType::kNew ? "POST /api/v3/brokerage/orders HTTP/1.1\r\n"
                                                : "POST /api/v3/brokerage/orders/batch_cancel "
                                                  "HTTP/1.1\r\n");
    n = Put(n, "Host: api.coinbase.com\r\nAuthorization: Bearer ");
    n = Put(n, std::string_view(jwt_, sizeof(jwt_)));
    n = Put(n, "\r\nContent-Type: application/json\r\nContent-Length: ");
    n = static_cast<size_t>(std::to_chars(buf_ + n, buf_ + sizeof(buf_), b).ptr - buf_);
    n = Put(n, "\r\n\r\n");
    return Put(n, std::string_view(body, b));
  }

 public:
  int price_scale_ = 2;
  int size_scale_ = 8;

 private:
  static constexpr size_t kPending = 1024;
  int fds_[2] = {-1, -1};
  char buf_[2048];
  char out_[65536];
  size_t out_n_ = 0;
  uint64_t short_ = 0;
  char jwt_[420] = {};  // a pre-signed token's length (ES256 JWT): contents do not matter here
  ExecEvent pending_[kPending];
  size_t pending_n_ = 0;
};

struct Pipeline {
  explicit Pipeline(const Frames& f)
      : md(1 << 14),
        risk_md(1 << 14),
        intents(1 << 12),
        cmds(1 << 12),
        exec_to_risk(1 << 12),
        exec_to_signal(1 << 12),
        sink(md),
        books(*BookSet::Create(std::vector<BookConfig>{{0, 1000}})),
        risk_core(RiskCfg(f)),
        oms({.max_orders = 1 << 16, .max_instruments = 4}),
        feed(f, Decoder(f), sink),
        signal(books, md, exec_to_signal, intents, &risk_md, &Clock()),
        risk(risk_core, intents, risk_md, exec_to_risk, cmds, nullptr, &Clock()),
        order(oms, nullptr, gateway, cmds, exec_to_risk, exec_to_signal, &Clock()) {
    gateway.price_scale_ = f.price_scale;
    gateway.size_scale_ = f.size_scale;
    StrategyConfig sc;
    sc.type = "market_maker";
    sc.strategy_id = 1;
    sc.instrument = {0, f.price_scale, f.size_scale, 1, 1};
    sc.params = {{"order_size", "0.01"},
                 {"half_spread_ticks", "2"},
                 {"requote_ticks", "1"},
                 {"max_position", "1"}};
    auto s = MakeStrategy(sc);
    if (!s.ok() || !signal.AddStrategy(std::move(*s), 0).ok()) std::abort();
  }
  static std::unique_ptr<FeedDecoder> Decoder(const Frames& f) {
    const std::vector<FeedInstrument> in = {{"BTC-USD", 0, f.price_scale, f.size_scale}};
    return MakeCoinbaseAdvancedDecoder(*SymbolTable::Create(in));
  }
  static RiskConfig RiskCfg(const Frames& f) {
    RiskConfig c;
    c.notional_scale = f.price_scale + f.size_scale;
    InstrumentRisk& in = c.instruments.emplace_back();
    in.price_scale = f.price_scale;
    in.size_scale = f.size_scale;
    in.fee_scale = c.notional_scale;
    c.working_capacity = 1 << 16;
    return c;
  }

  SpscRing<MdEvent> md, risk_md;
  SpscRing<OrderIntent> intents;
  SpscRing<OrderCmd> cmds;
  SpscRing<ExecEvent> exec_to_risk, exec_to_signal;
  RingSink<SpscRing<MdEvent>> sink;
  BookSet books;
  RiskCore risk_core;
  oms::OrderManager oms;
  SocketGateway gateway;
  ReplayFeed feed;
  SignalStage signal;
  RiskStage risk;
  oms::OrderStage order;
};

void Report(benchmark::State& state, const Pipeline& p, int64_t wall_ns, size_t frames) {
  const LatencyHistogram& h = p.order.latency(oms::LatencyStage::kTickToOrder);
  if (h.count() == 0 || p.feed.errors() != 0) {
    state.SkipWithError("no orders, or decode errors: the pipeline did not run as intended");
    return;
  }
  state.counters["t2o_p50_ns"] = static_cast<double>(h.ValueAtPercentile(50));
  state.counters["t2o_p99_ns"] = static_cast<double>(h.ValueAtPercentile(99));
  state.counters["t2o_p999_ns"] = static_cast<double>(h.ValueAtPercentile(99.9));
  state.counters["t2o_max_ns"] = static_cast<double>(h.max());
  const LatencyHistogram& w = p.order.latency(oms::LatencyStage::kTickToWrite);
  state.counters["t2w_p50_ns"] = static_cast<double>(w.ValueAtPercentile(50));
  state.counters["t2w_p99_ns"] = static_cast<double>(w.ValueAtPercentile(99));
  state.counters["orders"] = static_cast<double>(h.count());
  state.counters["frames_per_s"] = static_cast<double>(frames) * 1e9 / static_cast<double>(wall_ns);
  for (oms::LatencyStage s : {oms::LatencyStage::kDecode, oms::LatencyStage::kSignal,
                              oms::LatencyStage::kRisk, oms::LatencyStage::kOrder}) {
    state.counters[std::string(oms::LatencyStageName(s)) + "_p50_ns"] =
        static_cast<double>(p.order.latency(s).ValueAtPercentile(50));
  }
}

void BM_TickToOrderFused(benchmark::State& state) {
  const Frames& f = RecordedFrames();
  for (auto _ : state) {
    state.PauseTiming();
    auto p = std::make_unique<Pipeline>(f);
    InlineRunner runner({&p->feed, &p->signal, &p->risk, &p->order});
    state.ResumeTiming();
    const int64_t t0 = Clock().NowNanos();
    while (!p->feed.done()) (void)runner.PollOnce();
    (void)runner.RunUntilIdle();
    const int64_t t1 = Clock().NowNanos();
    state.PauseTiming();
    Report(state, *p, t1 - t0, f.padded.size());
    state.ResumeTiming();
  }
}
BENCHMARK(BM_TickToOrderFused)->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_TickToOrderSplit(benchmark::State& state) {
  const Frames& f = RecordedFrames();
  for (auto _ : state) {
    state.PauseTiming();
    auto p = std::make_unique<Pipeline>(f);
    Worker a({.name = "feed+signal", .cpu = -1, .wait = WaitStrategy::kSpinYield});
    Worker b({.name = "risk+order", .cpu = -1, .wait = WaitStrategy::kSpinYield});
    a.AddStage(&p->feed);
    a.AddStage(&p->signal);
    b.AddStage(&p->risk);
    b.AddStage(&p->order);
    state.ResumeTiming();
    const int64_t t0 = Clock().NowNanos();
    if (!a.Start().ok() || !b.Start().ok()) {
      state.SkipWithError("cannot start workers");
      return;
    }
    while (!p->feed.done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Let the tail drain through both workers.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a.Stop();
    b.Stop();
    const int64_t t1 = Clock().NowNanos();
    state.PauseTiming();
    Report(state, *p, t1 - t0, f.padded.size());
    state.ResumeTiming();
  }
}
BENCHMARK(BM_TickToOrderSplit)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nzeza
