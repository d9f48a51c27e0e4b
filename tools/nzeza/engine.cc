#include "engine.h"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <cerrno>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <absl/base/thread_annotations.h>
#include <absl/strings/str_cat.h>
#include <absl/synchronization/mutex.h>
#include <nzeza/app/ops_server.h>
#include <nzeza/app/ops_token.h>
#include <nzeza/app/secrets.h>
#include <nzeza/app/summary.h>
#include <nzeza/book/book_set.h>
#include <nzeza/core/clock.h>
#include <nzeza/core/counter.h>
#include <nzeza/core/decimal.h>
#include <nzeza/core/runtime.h>
#include <nzeza/core/spsc_ring.h>
#include <nzeza/feeds/coinbase/decoder.h>
#include <nzeza/feeds/common/feed_session.h>
#include <nzeza/feeds/common/md_sink.h>
#include <nzeza/net/tls.h>
#include <nzeza/oms/client_order_id.h>
#include <nzeza/oms/order_manager.h>
#include <nzeza/oms/order_stage.h>
#include <nzeza/oms/recovered_orders.h>
#include <nzeza/oms/recovery.h>
#include <nzeza/risk/risk_stage.h>
#include <nzeza/signal/signal_stage.h>
#include <nzeza/signal/strategy.h>
#include <nzeza/venues/coinbase/gateway.h>
#include <nzeza/venues/coinbase/reconciler.h>
#include <nzeza/venues/sim/sim_venue.h>

namespace nzeza::app {
namespace {

namespace cb = ::nzeza::venues::coinbase;

// Risk reads two reject codes without depending on engine/oms.
static_assert(static_cast<uint16_t>(RiskCore::VenueRejectCode::kUnknownOrder) ==
              static_cast<uint16_t>(oms::VenueReject::kUnknownOrder));
static_assert(static_cast<uint16_t>(RiskCore::VenueRejectCode::kTooLateToCancel) ==
              static_cast<uint16_t>(oms::VenueReject::kTooLateToCancel));

constexpr size_t kMdRing = 1 << 14;

// The order manager's options: the live one and the journal replays' must agree (recycling).
oms::OrderManager::Options OmsOptions(const EngineConfig& cfg) {
  return {.max_orders = static_cast<size_t>(cfg.engine.order_table_capacity),
          .max_instruments = cfg.instruments.size() + 1};
}
constexpr size_t kRing = 1 << 12;
constexpr char kSimKeyName[] = "organizations/nzeza-embedded-sim/apiKeys/engine";

// An EC P-256 key pair for the embedded venue's one account: private PEM, public PEM.
absl::StatusOr<std::pair<std::string, std::string>> GenerateEcKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return absl::InternalError("cannot generate an EC P-256 key (OpenSSL)");
  auto pem = [&](bool priv) {
    std::string out;
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return out;
    const int ok = priv ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                        : PEM_write_bio_PUBKEY(bio, key);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (ok == 1 && n > 0) out.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  };
  std::pair<std::string, std::string> kp{pem(true), pem(false)};
  EVP_PKEY_free(key);
  if (kp.first.empty() || kp.second.empty()) {
    return absl::InternalError("cannot write the generated key as PEM (OpenSSL)");
  }
  return kp;
}

// The integer part of a decimal (the simulator's model takes whole basis points).
int64_t WholeUnits(Decimal d) {
  int64_t m = d.mantissa();
  for (int i = 0; i < d.scale(); ++i) m /= 10;
  return m;
}

std::string NotionalText(__int128 mantissa, int scale) {
  char buf[kMaxNotionalChars];
  return std::string(buf, Notional{mantissa, scale}.Format(buf));
}

// Copies the feed decoder's and session's plain counters into relaxed ones. Runs on the feed's
// worker right after it, so the copy never races the writer.
class FeedProbe final : public Stage {
 public:
  explicit FeedProbe(const FeedSession& feed) : feed_(feed) {}
  std::string_view name() const noexcept override { return "feed-probe"; }
  int Poll() noexcept override {
    const FeedCounters& c = feed_.decoder().counters();
    messages.Set(c.messages);
    decode_errors.Set(c.decode_errors);
    gaps.Set(c.gaps);
    return 0;
  }
  RelaxedCounter messages, decode_errors, gaps;

 private:
  const FeedSession& feed_;
};

class SignalProbe final : public Stage {
 public:
  explicit SignalProbe(const SignalStage& s) : s_(s) {}
  std::string_view name() const noexcept override { return "signal-probe"; }
  int Poll() noexcept override {
    const SignalCounters& c = s_.counters();
    book_views.Set(c.book_views);
    intents.Set(c.intents);
    md_events.Set(c.md_events);
    return 0;
  }
  RelaxedCounter book_views, intents, md_events;

 private:
  const SignalStage& s_;
};

class EngineImpl;

class Ops final : public OpsProvider {
 public:
  explicit Ops(EngineImpl& e) : e_(e) {}
  void WriteMetrics(MetricsWriter& out) override;
  std::string StatusJson() override;
  HealthState Health() override;
  absl::Status Kill(std::string_view reason) override;
  absl::Status Resume() override;

 private:
  EngineImpl& e_;
};

class EngineImpl final : public Engine {
 public:
  explicit EngineImpl(const EngineConfig& cfg, Logger* log)
      : cfg_(cfg),
        log_(log),
        clock_([] {
          absl::StatusOr<TscClock> c = TscClock::Calibrate();
          return c.ok() ? *c : TscClock::Fallback();
        }()),
        md_(kMdRing),
        risk_md_(kMdRing),
        intents_(kRing),
        cmds_(kRing),
        exec_to_risk_(kRing),
        exec_to_signal_(kRing),
        sink_(md_),
        oms_(OmsOptions(cfg)),
        ops_provider_(*this) {}

  absl::Status Init();
  absl::Status Start() override;
  RunSummary Snapshot() const override;
  absl::Status Shutdown(absl::Duration cancel_timeout) override;
  RunSummary Summary() const override;
  uint16_t ops_port() const override { return ops_ != nullptr ? ops_->port() : 0; }
  void LogEvents() override {
    BreakerEvent ev;
    while (breaker_events_.try_pop(ev)) {
      const std::string where =
          ev.instrument < cfg_.instruments.size() ? cfg_.instruments[ev.instrument].symbol : "-";
      Log(ev.to == BreakerState::kClosed ? LogLevel::kInfo : LogLevel::kWarn,
          absl::StrCat("breaker ", BreakerStateName(ev.from), " -> ", BreakerStateName(ev.to), ": ",
                       BreakerCauseName(ev.cause), " (instrument ", where, ", detail ", ev.detail,
                       ")"));
    }
  }

  void Log(LogLevel level, std::string_view text) const {
    if (log_ != nullptr) (void)log_->LogText(level, text);
  }

 private:
  friend class Ops;
  absl::Status StartSim(std::string* key_name, std::string* private_pem);
  absl::Status Recover(cb::CoinbaseCredentials& creds, const cb::CoinbaseInstruments& instruments,
                       const TlsClientOptions& tls);
  RunSummary Counts() const;

  EngineConfig cfg_;
  Logger* log_;
  TscClock clock_;
  std::unique_ptr<sim::SimVenue> sim_;
  std::string rest_host_, ws_host_, user_ws_host_, uri_host_;
  uint16_t rest_port_ = 0, ws_port_ = 0, user_ws_port_ = 0;

  SpscRing<MdEvent> md_, risk_md_;
  SpscRing<OrderIntent> intents_;
  SpscRing<OrderCmd> cmds_;
  SpscRing<ExecEvent> exec_to_risk_, exec_to_signal_;
  SpscRing<BreakerEvent> breaker_events_{1024};
  SpscRing<ExecEvent> refusals_{kRing};  // risk -> signal: refused intents
  RingSink<SpscRing<MdEvent>> sink_;

  std::unique_ptr<BookSet> books_;
  std::unique_ptr<RiskCore> risk_core_;
  oms::OrderManager oms_;
  std::unique_ptr<oms::Journal> journal_;
  std::string journal_dir_;  // where journal_ lives (this run's directory)
  std::unique_ptr<cb::CoinbaseGateway> gateway_;
  std::unique_ptr<cb::CoinbaseReconciler> reconciler_;
  std::unique_ptr<oms::SettleWorker> settle_;
  std::vector<std::string> still_working_;  // after Shutdown: orders not confirmed canceled
  // The last start-up reconciliation's findings, for /status (the ops thread reads them).
  mutable absl::Mutex reconcile_mu_;
  std::vector<std::string> reconcile_differences_ ABSL_GUARDED_BY(reconcile_mu_);
  std::vector<std::string> reconcile_foreign_ ABSL_GUARDED_BY(reconcile_mu_);
  std::unique_ptr<FeedSession> feed_;
  std::unique_ptr<FeedProbe> feed_probe_;
  std::unique_ptr<SignalStage> signal_;
  std::unique_ptr<SignalProbe> signal_probe_;
  std::unique_ptr<RiskStage> risk_;
  std::unique_ptr<oms::OrderStage> order_;
  std::vector<std::unique_ptr<Worker>> workers_;
  Ops ops_provider_;
  std::unique_ptr<OpsServer> ops_;
  int64_t started_ns_ = 0;
  int64_t stopped_ns_ = 0;
  bool shut_down_ = false;
  std::optional<sim::AccountView> venue_account_;
  // Shutdown's own kill (Counts() runs on the ops thread too).
  std::atomic<bool> shut_down_flag_{false};
  std::atomic<bool> shutdown_kill_{false};
  std::atomic<uint8_t> state_before_shutdown_{0};
};

absl::Status EngineImpl::StartSim(std::string* key_name, std::string* private_pem) {
  absl::StatusOr<std::pair<std::string, std::string>> kp = GenerateEcKey();
  if (!kp.ok()) return kp.status();
  sim::SimVenueOptions o;
  o.config.seed = cfg_.sim.seed;
  o.config.products.clear();
  for (const InstrumentConfig& in : cfg_.instruments) {
    sim::SimProductConfig p;
    p.product_id = in.symbol;
    p.price_increment = in.tick_size;
    p.base_increment = in.lot_size;
    p.base_min_size = in.lot_size;
    if (auto it = cfg_.sim.start_price.find(in.symbol); it != cfg_.sim.start_price.end()) {
      p.start_price = it->second;
    } else {
      p.start_price = "50000";
    }
    p.volatility_bps = WholeUnits(cfg_.sim.volatility_bps);
    p.participant_orders_per_sec = cfg_.sim.participant_orders_per_sec;
    o.config.products.push_back(p);
  }
  o.config.api_keys.push_back({.key_name = kSimKeyName, .public_key_pem = kp->second});
  o.config.maker_fee_bps = WholeUnits(cfg_.sim.maker_fee_bps);  // the sim takes whole bps
  o.config.taker_fee_bps = WholeUnits(cfg_.sim.taker_fee_bps);
  o.config.rest_rate_limit_per_sec = cfg_.sim.rate_limit_per_sec;
  o.config.model_step_ns = cfg_.sim.step_ms * 1'000'000;
  o.cert.cert_file = cfg_.sim.cert_file;
  o.cert.key_file = cfg_.sim.key_file;
  const SimFaults& f = cfg_.sim.faults;
  if (f.disconnect_every_s > 0) {
    o.faults.push_back({.fault = {.type = sim::FaultType::kDisconnect, .ms = 200},
                        .at_ms = f.disconnect_every_s * 1000,
                        .every_ms = f.disconnect_every_s * 1000});
  }
  if (f.stall_every_s > 0) {
    o.faults.push_back({.fault = {.type = sim::FaultType::kStall, .ms = f.stall_ms},
                        .at_ms = f.stall_every_s * 1000,
                        .every_ms = f.stall_every_s * 1000});
  }
  if (f.added_latency_ms > 0) {
    o.faults.push_back({.fault = {.type = sim::FaultType::kLatency, .ms = f.added_latency_ms}});
  }
  o.recurring = {.gap_every_n = f.gap_every_n,
                 .duplicate_every_n = f.duplicate_every_n,
                 .malformed_every_n = f.malformed_every_n,
                 .reject_every_n = f.reject_every_n};
  absl::StatusOr<std::unique_ptr<sim::SimVenue>> v = sim::SimVenue::Start(std::move(o));
  if (!v.ok()) return v.status();
  sim_ = std::move(*v);
  rest_host_ = ws_host_ = user_ws_host_ = "127.0.0.1";
  rest_port_ = sim_->rest_port();
  ws_port_ = user_ws_port_ = sim_->ws_port();
  uri_host_ = sim_->jwt_host();
  *key_name = kSimKeyName;
  *private_pem = std::move(kp->first);
  Log(LogLevel::kInfo, absl::StrCat("embedded simulated venue on 127.0.0.1: ws ", ws_port_,
                                    ", rest ", rest_port_, ", admin ", sim_->admin_port()));
  return absl::OkStatus();
}

absl::Status EngineImpl::Init() {
  if (cfg_.instruments.empty()) return absl::InvalidArgumentError("no instruments configured");
  // 1. The venue and the credentials.
  std::string key_name, private_pem;
  TlsClientOptions tls;
  if (cfg_.venue.kind == VenueKind::kSim && cfg_.sim.embedded) {
    if (absl::Status st = StartSim(&key_name, &private_pem); !st.ok()) return st;
    tls.ca_pem = sim_->ca_cert_pem();
  } else {
    absl::StatusOr<Credentials> c = LoadCredentials(cfg_.venue.credentials);
    if (!c.ok()) return c.status();
    key_name = c->key_name;
    private_pem = std::string(c->private_key.Reveal());
    rest_host_ = cfg_.venue.rest_host;
    rest_port_ = cfg_.venue.rest_port;
    ws_host_ = cfg_.venue.ws_host;
    ws_port_ = cfg_.venue.ws_port;
    user_ws_host_ = cfg_.venue.user_ws_host;
    user_ws_port_ = cfg_.venue.user_ws_port;
    // The JWT's uri names the REST host as requests address it: "api.coinbase.com" on 443,
    // "host:port" elsewhere (what nzeza-sim expects by default).
    uri_host_ = rest_port_ == 443 ? rest_host_ : absl::StrCat(rest_host_, ":", rest_port_);
    tls.ca_file = cfg_.venue.ca_file;
  }
  absl::StatusOr<cb::CoinbaseCredentials> creds =
      cb::CoinbaseCredentials::FromPem(key_name, private_pem);
  std::fill(private_pem.begin(), private_pem.end(), '\0');
  if (!creds.ok()) return creds.status();

  // 2. Instruments: dense ids in configuration order.
  std::vector<FeedInstrument> feed_instruments;
  cb::CoinbaseInstruments venue_instruments;
  std::vector<BookConfig> book_configs;
  for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const InstrumentConfig& in = cfg_.instruments[i];
    const InstrumentId id = static_cast<InstrumentId>(i);
    feed_instruments.push_back({in.symbol, id, in.price_scale, in.size_scale});
    if (absl::Status st = venue_instruments.Add({.id = id,
                                                 .product_id = in.symbol,
                                                 .price_scale = in.price_scale,
                                                 .size_scale = in.size_scale,
                                                 .fee_scale = cfg_.risk.instruments[i].fee_scale});
        !st.ok()) {
      return st;
    }
    book_configs.push_back({id, 1000});
  }
  absl::StatusOr<SymbolTable> table = SymbolTable::Create(feed_instruments);
  if (!table.ok()) return table.status();
  absl::StatusOr<BookSet> books = BookSet::Create(book_configs);
  if (!books.ok()) return books.status();
  books_ = std::make_unique<BookSet>(std::move(*books));

  // 3. Journal recovery and reconciliation, before anything can trade.
  if (absl::Status st = Recover(*creds, venue_instruments, tls); !st.ok()) return st;

  // 4. Order entry.
  cb::CoinbaseGatewayOptions go;
  go.rest_host = rest_host_;
  go.rest_port = rest_port_;
  go.ws_host = user_ws_host_;
  go.ws_port = user_ws_port_;
  go.tls = tls;
  go.uri_host = uri_host_;
  go.request_timeout = absl::Milliseconds(cfg_.venue.request_timeout_ms);
  absl::StatusOr<std::unique_ptr<cb::CoinbaseGateway>> gw =
      cb::CoinbaseGateway::Create(go, *creds, venue_instruments);
  if (!gw.ok()) return gw.status();
  gateway_ = std::move(*gw);
  if (absl::Status st = gateway_->Start(); !st.ok()) return st;
  {
    // No order before the private stream delivers: its fills would go unseen.
    oms::JournaledSink sink(journal_.get(), oms_);
    const int64_t deadline = MonotonicNanos() + 2 * absl::ToInt64Nanoseconds(go.connect_timeout);
    while (!gateway_->ready() && MonotonicNanos() < deadline) {
      if (gateway_->Poll(sink) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!gateway_->ready()) {
      return absl::UnavailableError(
          absl::StrCat("the user channel (", user_ws_host_, ":", user_ws_port_,
                       ") did not open and deliver within ",
                       absl::FormatDuration(2 * go.connect_timeout), ": not trading"));
    }
  }
  // Orders the journal left working are canceled before trading starts: risk then begins with
  // exactly the positions it was seeded with and no working order it does not know.
  oms::ClientOrderIdGenerator ids(WallClock::NowNanos(), oms_.max_client_order_id());
  absl::StatusOr<oms::RecoveredCancels> rc = oms::CancelRecoveredOrders(
      oms_, journal_.get(), *gateway_, ids, absl::Seconds(10), reconciler_.get());
  if (!rc.ok()) return rc.status();
  if (rc->open > 0) {
    Log(LogLevel::kInfo,
        absl::StrCat("canceled ", rc->canceled, " of ", rc->open, " orders recovered as open"));
  }

  // 5. Risk, seeded with the recovered positions; the stages.
  RiskConfig risk_cfg = cfg_.risk;
  risk_cfg.first_client_order_id = ids.peek();
  risk_core_ = std::make_unique<RiskCore>(risk_cfg);
  for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const oms::Position& p = oms_.position(static_cast<InstrumentId>(i));
    if (p.qty != 0 && !risk_core_->SeedPosition(static_cast<InstrumentId>(i), p.qty, p.cost)) {
      return absl::DataLossError(absl::StrCat("recovered position of ", cfg_.instruments[i].symbol,
                                              " is inconsistent (size and cost signs differ)"));
    }
  }
  // The trading day's realized PnL and fees survive a restart (max_daily_loss holds), rebuilt
  // from the journal's fills of today (reconciled and start-up cancel events included).
  {
    const int64_t mono = clock_.NowNanos();
    const int64_t wall = WallClock::NowNanos();
    risk_core_->SetWallClock(wall - mono, mono);
    if (journal_ != nullptr) {
      absl::StatusOr<oms::DayPnlReport> day = oms::ReplayDayPnl(
          journal_dir_, TradingDayStart(wall, risk_cfg.day_boundary_ns), OmsOptions(cfg_));
      if (!day.ok()) return day.status();
      for (size_t i = 0; i < cfg_.instruments.size() && i < day->instruments.size(); ++i) {
        const oms::DayPnl& d = day->instruments[i];
        if (d.fills == 0) continue;
        (void)risk_core_->SeedDayPnl(static_cast<InstrumentId>(i), d.realized, d.fees, mono);
      }
      if (day->fills_today + day->fills_earlier + day->fills_undated > 0) {
        Log(LogLevel::kInfo,
            absl::StrCat("trading day so far (from the journal): ", day->fills_today,
                         " fills today, ", day->fills_earlier, " before the day began, ",
                         day->fills_undated, " undated (counted as today)"));
      }
    }
  }
  absl::StatusOr<TlsContext> md_tls = MakeClientTlsContext(tls);
  if (!md_tls.ok()) return md_tls.status();
  FeedSessionOptions fo;
  fo.ws.host = ws_host_;
  fo.ws.port = ws_port_;
  fo.ws.tls_context = *md_tls;
  fo.ws.clock = &clock_;
  fo.name = "feed-decode";
  fo.sink_overruns = [this] { return sink_.overruns(); };
  fo.log = [this](std::string_view line) { Log(LogLevel::kWarn, line); };
  CoinbaseDecoderOptions dopts;
  dopts.channels = {CoinbaseChannel::kLevel2, CoinbaseChannel::kMarketTrades,
                    CoinbaseChannel::kHeartbeats};
  feed_ = std::make_unique<FeedSession>(fo, MakeCoinbaseAdvancedDecoder(*table, dopts), sink_);
  feed_probe_ = std::make_unique<FeedProbe>(*feed_);
  signal_ =
      std::make_unique<SignalStage>(*books_, md_, exec_to_signal_, intents_, &risk_md_, &clock_);
  for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
    absl::StatusOr<std::unique_ptr<Strategy>> s =
        MakeStrategy(MakeStrategyConfig(cfg_, i, static_cast<uint32_t>(i + 1)));
    if (!s.ok()) return s.status();
    if (absl::Status st = signal_->AddStrategy(std::move(*s), static_cast<InstrumentId>(i));
        !st.ok()) {
      return st;
    }
  }
  // Strategies start from the recovered positions (inventory skew, position limits).
  for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const int64_t qty = oms_.position(static_cast<InstrumentId>(i)).qty;
    if (absl::Status st = signal_->SeedPosition(static_cast<InstrumentId>(i), qty); !st.ok()) {
      return st;
    }
  }
  signal_probe_ = std::make_unique<SignalProbe>(*signal_);
  risk_ = std::make_unique<RiskStage>(*risk_core_, intents_, risk_md_, exec_to_risk_, cmds_,
                                      &breaker_events_, &clock_);
  risk_->SetRefusalsOut(&refusals_);
  signal_->SetRiskRefusals(&refusals_);
  order_ = std::make_unique<oms::OrderStage>(
      oms_, journal_.get(), *gateway_, cmds_, exec_to_risk_, exec_to_signal_, &clock_,
      oms::OrderStageOptions{.latency_budget_ns = cfg_.risk.breaker.latency_budget_ns,
                             .block_on_mismatch = cfg_.engine.block_on_reconcile_mismatch});
  // After a private-stream outage the order stage reconciles through this worker's thread
  // before risk's breaker lets trading resume.
  settle_ = std::make_unique<oms::SettleWorker>(
      *reconciler_, oms::SettleWorkerOptions{
                        .max_instruments = oms_.max_instruments(),
                        .log = [this](std::string_view line) { Log(LogLevel::kWarn, line); }});
  order_->SetSettleWorker(settle_.get());
  return absl::OkStatus();
}

absl::Status EngineImpl::Recover(cb::CoinbaseCredentials& creds,
                                 const cb::CoinbaseInstruments& instruments,
                                 const TlsClientOptions& tls) {
  // The reconciler serves the start-up pass, the settling of recovered cancels and the settle
  // passes after a private-stream outage, journal or not.
  cb::CoinbaseReconcilerOptions ro;
  ro.rest_host = rest_host_;
  ro.rest_port = rest_port_;
  ro.tls = tls;
  ro.uri_host = uri_host_;
  ro.unacked_grace = absl::Milliseconds(cfg_.reconcile.unacked_grace_ms);
  ro.cancel_foreign_orders = cfg_.reconcile.cancel_foreign_orders;
  absl::StatusOr<std::unique_ptr<cb::CoinbaseReconciler>> rec =
      cb::CoinbaseReconciler::Create(ro, creds, instruments);
  if (!rec.ok()) return rec.status();
  reconciler_ = std::move(*rec);
  if (cfg_.journal.enabled) {
    oms::JournalOptions jo = cfg_.journal.options;
    if (sim_ != nullptr) {
      // The embedded venue lives and dies with this process, so its orders and positions do too:
      // each run journals into its own directory under the configured one (kept for inspection),
      // rather than recovering state a fresh venue has never seen.
      if (mkdir(jo.dir.c_str(), 0750) != 0 && errno != EEXIST) {
        return absl::InternalError(absl::StrCat("cannot create journal directory ", jo.dir));
      }
      jo.dir = absl::StrCat(jo.dir, "/sim-", WallClock::NowNanos() / 1'000'000'000, "-", getpid());
    }
    oms::RecoveryReport report;
    absl::StatusOr<std::unique_ptr<oms::Journal>> j =
        oms::OpenAndRecover(jo, WallClock::NowNanos(), &oms_, &report);
    if (!j.ok()) return j.status();
    journal_ = std::move(*j);
    journal_dir_ = jo.dir;
    // Maps this run's record times (the order stage's monotonic clock) to wall time, for the
    // trading day's PnL after a restart.
    if (const oms::AppendResult a =
            journal_->AppendClockAnchor(WallClock::NowNanos(), clock_.NowNanos());
        a != oms::AppendResult::kOk) {
      return absl::InternalError(
          absl::StrCat("journal: cannot append the clock anchor: ", oms::AppendResultName(a)));
    }
    if (report.torn_tail) {
      Log(LogLevel::kWarn,
          absl::StrCat("journal: torn tail in ", report.tail_segment, " at ", report.tail_offset,
                       " (", report.tail_reason, "): truncated, never misread"));
    }
    size_t open = 0;
    oms_.ForEachOrder([&](const oms::Order& o) { open += oms::IsOpen(o.state) ? 1 : 0; });
    Log(LogLevel::kInfo, absl::StrCat("journal: ", report.records, " records in ", report.segments,
                                      " segments; ", oms_.size(), " orders, ", open, " open"));
  }
  // Always, an empty journal included: the venue may hold orders of ours the journal lacks.
  oms::JournaledSink sink(journal_.get(), oms_);
  absl::Status st = reconciler_->Reconcile(oms_, sink);
  const cb::ReconcileReport& rr = reconciler_->report();
  Log(LogLevel::kInfo,
      absl::StrCat("reconciliation with the venue: ", sink.events(), " events applied (venue open ",
                   rr.venue_open_orders, ", foreign ", rr.foreign_orders, ", acks ", rr.acks,
                   ", fills ", rr.fills, ", done ", rr.done, ", unknown ", rr.unknown, "); ",
                   st.ok() ? "ok" : st.ToString()));
  for (const std::string& line : rr.foreign) Log(LogLevel::kWarn, "reconcile: " + line);
  for (const std::string& line : rr.differences) {
    Log(LogLevel::kError, "reconcile mismatch: " + line);
  }
  {
    absl::MutexLock lock(&reconcile_mu_);
    reconcile_differences_ = rr.differences;
    reconcile_foreign_ = rr.foreign;
  }
  if (st.ok()) return st;
  if (absl::IsDataLoss(st) && !cfg_.engine.block_on_reconcile_mismatch) {
    Log(LogLevel::kError,
        "reconciliation mismatch reported; trading anyway "
        "(engine.block_on_reconcile_mismatch = false)");
    return absl::OkStatus();
  }
  return st;
}

absl::Status EngineImpl::Start() {
  if (absl::Status st = feed_->Start(); !st.ok()) return st;
  auto stage_of = [&](StageKind k) -> std::vector<Stage*> {
    switch (k) {
      case StageKind::kFeed:
        return {feed_.get(), feed_probe_.get()};
      case StageKind::kSignal:
        return {signal_.get(), signal_probe_.get()};
      case StageKind::kRisk:
        return {risk_.get()};
      case StageKind::kOrder:
        return {order_.get()};
    }
    return {};
  };
  for (const WorkerConfig& wc : cfg_.workers) {
    auto w = std::make_unique<Worker>(wc.options);
    for (StageKind k : wc.stages) {
      for (Stage* s : stage_of(k)) w->AddStage(s);
    }
    workers_.push_back(std::move(w));
  }
  started_ns_ = MonotonicNanos();
  if (settle_ != nullptr) settle_->Start();
  for (auto& w : workers_) {
    if (absl::Status st = w->Start(); !st.ok()) return st;
  }
  if (cfg_.ops.port != 0) {
    // /resume (and /kill unless kill_without_token) need the bearer token; only where it lives
    // is logged, never the token.
    absl::StatusOr<OpsToken> token = LoadOrCreateOpsToken(cfg_.ops);
    if (!token.ok()) return token.status();
    Log(LogLevel::kInfo, absl::StrCat("operations endpoint token: ", token->source,
                                      token->created ? " (created)" : ""));
    absl::StatusOr<std::unique_ptr<OpsServer>> ops =
        OpsServer::Start({.listen = cfg_.ops.listen,
                          .port = cfg_.ops.port,
                          .max_request_bytes = cfg_.ops.max_request_bytes,
                          .token = std::move(token->token),
                          .kill_without_token = cfg_.ops.kill_without_token},
                         &ops_provider_);
    if (!ops.ok()) return ops.status();
    ops_ = std::move(*ops);
  }
  return absl::OkStatus();
}

RunSummary EngineImpl::Counts() const {
  RunSummary s;
  s.duration_ns = (stopped_ns_ != 0 ? stopped_ns_ : MonotonicNanos()) - started_ns_;
  s.venue = cfg_.venue.kind == VenueKind::kSim ? "sim" : "coinbase";
  s.strategy = StrategyKindName(cfg_.strategy);
  if (feed_probe_ != nullptr) s.messages = feed_probe_->messages;
  if (signal_probe_ != nullptr) {
    s.books = signal_probe_->book_views;
    s.signals = signal_probe_->intents;
  }
  if (order_ != nullptr) {
    const oms::OrderStageCounters& o = order_->counters();
    s.orders = o.new_orders;
    s.cancels = o.cancels;
    s.fills = o.fills;
    s.rejects = o.rejects;
    s.venue_rejects = o.rejects;
  }
  if (risk_ != nullptr) {
    const RiskStageCounters& r = risk_->counters();
    s.rejects += r.refused;
    s.risk_refusals = r.refused;
    s.breaker_trips = r.breaker_trips;
    auto state = static_cast<BreakerState>(r.state.load());
    if (shut_down_flag_.load()) {
      state = static_cast<BreakerState>(state_before_shutdown_.load());
      if (shutdown_kill_.load() && s.breaker_trips > 0) --s.breaker_trips;
    }
    s.breaker_state = BreakerStateName(state);
    s.killed = state == BreakerState::kKilled;
  }
  return s;
}

RunSummary EngineImpl::Snapshot() const { return Counts(); }

absl::Status EngineImpl::Shutdown(absl::Duration cancel_timeout) {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  if (risk_ != nullptr && !workers_.empty()) {
    // Stop taking signals and cancel every working order: the kill switch does both. That kill
    // is the shutdown, not a trip: the summary reports the breaker as it was before it.
    const auto before = static_cast<BreakerState>(risk_->counters().state.load());
    state_before_shutdown_.store(static_cast<uint8_t>(before));
    shutdown_kill_.store(before != BreakerState::kKilled);
    shut_down_flag_.store(true);
    risk_->control().RequestKill();
    const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(cancel_timeout);
    while (risk_->counters().open_orders.load() != 0 && MonotonicNanos() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (risk_->counters().open_orders.load() != 0) {
      Log(LogLevel::kWarn, absl::StrCat(risk_->counters().open_orders.load(),
                                        " orders still working at shutdown (cancels sent)"));
    }
  }
  if (ops_ != nullptr) ops_->Stop();
  for (auto& w : workers_) w->Stop();
  if (settle_ != nullptr) settle_->Stop();
  stopped_ns_ = MonotonicNanos();
  // The stages have stopped: the order manager says what is still working at the venue (cancels
  // sent, none confirmed within the timeout). Listed, in the summary, and nzeza exits 3.
  if (order_ != nullptr) {
    char size[kMaxDecimalChars];
    oms_.ForEachOrder([&](const oms::Order& o) {
      if (!oms::IsOpen(o.state) || o.instrument >= cfg_.instruments.size()) return;
      const InstrumentConfig& in = cfg_.instruments[o.instrument];
      still_working_.push_back(absl::StrCat(
          "order ", o.client_order_id, " (",
          o.venue_order_id().empty() ? std::string("no venue id")
                                     : absl::StrCat("venue id ", std::string(o.venue_order_id())),
          ", ", in.symbol, " ", o.side == Side::kBuy ? "buy " : "sell ",
          std::string(size, FormatDecimal(o.leaves(), in.size_scale, size)), ", ",
          oms::OrderStateName(o.state), ")"));
    });
    for (const std::string& line : still_working_) {
      Log(LogLevel::kError, "still working at the venue after shutdown: " + line);
    }
  }
  // What the stages counted that the summary does not show, for the log.
  if (risk_ != nullptr) {
    std::string reasons;
    for (int r = 1; r < kNumRiskReasons; ++r) {
      if (const uint64_t n = risk_->counters().refused_by_reason[r]; n != 0) {
        absl::StrAppend(&reasons, " ", RiskReasonName(static_cast<RiskReason>(r)), "=", n);
      }
    }
    if (!reasons.empty()) Log(LogLevel::kInfo, "risk refusals:" + reasons);
  }
  if (feed_ != nullptr && signal_ != nullptr) {
    const FeedCounters& f = feed_->decoder().counters();
    const SignalCounters& sc = signal_->counters();
    Log(LogLevel::kInfo,
        absl::StrCat("feed: ", f.messages, " messages, ", f.decode_errors, " decode errors, ",
                     f.gaps, " gaps; books refused ", sc.book_refused, " events"));
  }
  if (order_ != nullptr) {
    const oms::OrderStageCounters& o = order_->counters();
    Log(LogLevel::kInfo,
        absl::StrCat("order stage: ", o.sent.load(), " sent, ", o.not_sent.load(), " not sent (",
                     o.oms_refused.load(), " refused by the order manager), ",
                     o.exec_anomalies.load(), " venue events the order manager ignored; ",
                     o.in_doubt.load(), " in doubt, ", o.exec_stream_losses.load(),
                     " execution-stream outages, ", o.settle_passes.load(), " settled; ",
                     oms_.recycled(), " finished orders recycled"));
  }
  if (feed_ != nullptr) feed_->Close();
  absl::Status st;
  if (journal_ != nullptr) st = journal_->Close();
  if (sim_ != nullptr) {
    // Give the venue a moment to publish the last cancels, then read our account there.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    absl::StatusOr<sim::AccountView> acct = sim_->Account(kSimKeyName);
    if (acct.ok()) venue_account_ = *acct;
    sim_->Stop();
  }
  return st;
}

RunSummary EngineImpl::Summary() const {
  RunSummary s = Counts();
  s.still_working = still_working_;
  char a[kMaxDecimalChars], b[kMaxDecimalChars];
  for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
    const InstrumentConfig& in = cfg_.instruments[i];
    const oms::Position& p = oms_.position(static_cast<InstrumentId>(i));
    PositionSummary ps;
    ps.instrument = in.symbol;
    ps.position = std::string(a, FormatDecimal(p.qty, in.size_scale, a));
    if (p.qty != 0) {
      const __int128 avg = p.cost / p.qty;  // price x size / size: at price scale
      ps.avg_price = std::string(b, FormatDecimal(static_cast<int64_t>(avg), in.price_scale, b));
    }
    const int nscale = in.price_scale + in.size_scale;
    ps.realized_pnl = NotionalText(p.realized, nscale);
    ps.fills = p.fills;
    if (risk_core_ != nullptr && i == 0 && cfg_.instruments.size() == 1) {
      ps.unrealized_pnl = NotionalText(risk_core_->unrealized_pnl(), cfg_.risk.notional_scale);
    }
    if (venue_account_.has_value()) {
      for (const sim::AccountView::Product& vp : venue_account_->products) {
        if (vp.product_id != in.symbol) continue;
        // The venue writes positions at its own scale; compare as numbers, print canonically.
        Decimal d;
        if (Decimal::Parse(vp.base_position, in.size_scale, Signedness::kSigned, &d) ==
            DecimalError::kOk) {
          ps.venue_position = std::string(b, FormatDecimal(d.mantissa(), in.size_scale, b));
        } else {
          ps.venue_position = vp.base_position;
        }
        ps.venue_open_orders = vp.open_orders;
        ps.venue_fills = vp.fills;
      }
    }
    s.positions.push_back(ps);
  }
  if (order_ != nullptr) {
    for (oms::LatencyStage st :
         {oms::LatencyStage::kDecode, oms::LatencyStage::kSignal, oms::LatencyStage::kRisk,
          oms::LatencyStage::kOrder, oms::LatencyStage::kTickToWrite,
          oms::LatencyStage::kTickToOrder, oms::LatencyStage::kAck}) {
      s.latency.push_back(StageLatencyFrom(oms::LatencyStageName(st), order_->latency(st)));
    }
  }
  return s;
}

void Ops::WriteMetrics(MetricsWriter& out) {
  const RunSummary s = e_.Counts();
  out.Counter("nzeza_md_messages_total", "Venue market-data messages decoded", s.messages);
  out.Counter("nzeza_signals_total", "Order intents emitted by strategies", s.signals);
  out.Counter("nzeza_orders_total", "Orders sent to the venue", s.orders);
  out.Counter("nzeza_cancels_total", "Cancels sent to the venue", s.cancels);
  out.Counter("nzeza_fills_total", "Fills received", s.fills);
  out.Counter("nzeza_rejects_total", "Rejects by risk or by the venue", s.rejects);
  out.Counter("nzeza_breaker_trips_total", "Circuit breaker trips", s.breaker_trips);
  if (e_.risk_ != nullptr) {
    out.GaugeInt("nzeza_breaker_state", "0 closed, 1 open, 2 half-open, 3 killed",
                 static_cast<int64_t>(e_.risk_->counters().state.load()));
    out.GaugeInt("nzeza_working_orders", "Orders working as risk counts them",
                 static_cast<int64_t>(e_.risk_->counters().open_orders.load()));
  }
}

std::string Ops::StatusJson() {
  const RunSummary s = e_.Counts();
  std::string out = absl::StrCat(R"({"venue":")", s.venue, R"(","breaker":")", s.breaker_state,
                                 R"(","messages":)", s.messages, R"(,"orders":)", s.orders,
                                 R"(,"fills":)", s.fills, R"(,"rejects":)", s.rejects);
  // Reconciliation: each difference the journal cannot explain, and the foreign orders.
  absl::MutexLock lock(&e_.reconcile_mu_);
  absl::StrAppend(&out, R"(,"reconcile":{"state":")",
                  e_.reconcile_differences_.empty() ? "ok" : "mismatch", R"(","differences":[)");
  for (size_t i = 0; i < e_.reconcile_differences_.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(&out, e_.reconcile_differences_[i]);
  }
  out += R"(],"foreign_orders":[)";
  for (size_t i = 0; i < e_.reconcile_foreign_.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(&out, e_.reconcile_foreign_[i]);
  }
  out += "]}}";
  return out;
}

HealthState Ops::Health() {
  const RunSummary s = e_.Counts();
  if (s.killed) return {.healthy = false, .reason = "kill switch engaged"};
  if (s.breaker_state != "closed")
    return {.healthy = false, .reason = "breaker " + s.breaker_state};
  return {.healthy = true, .reason = ""};
}

absl::Status Ops::Kill(std::string_view reason) {
  if (e_.risk_ == nullptr) return absl::FailedPreconditionError("engine not running");
  e_.Log(LogLevel::kWarn,
         "kill switch from the operations endpoint: " + std::string(reason.data(), reason.size()));
  e_.risk_->control().RequestKill();
  return absl::OkStatus();
}

absl::Status Ops::Resume() {
  if (e_.risk_ == nullptr) return absl::FailedPreconditionError("engine not running");
  e_.Log(LogLevel::kWarn, "resume from the operations endpoint");
  e_.risk_->control().RequestResume();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config, Logger* log) {
  auto e = std::make_unique<EngineImpl>(config, log);
  if (absl::Status st = e->Init(); !st.ok()) {
    (void)e->Shutdown(absl::ZeroDuration());
    return st;
  }
  return std::unique_ptr<Engine>(std::move(e));
}

}  // namespace nzeza::app
