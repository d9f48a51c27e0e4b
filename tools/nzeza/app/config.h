// The nzeza engine's configuration: one TOML file, loaded and validated in one call, with errors
// that name the key path and the problem.
//
//   absl::StatusOr<nzeza::app::EngineConfig> cfg = nzeza::app::LoadEngineConfigFile("nzeza.toml");
//   if (!cfg.ok()) {
//     // e.g. "nzeza.toml:14: workers[1].stages: stage \"risk\" assigned twice (also in
//     workers[0])" std::cerr << cfg.status().message() << "\n"; return 2;
//   }
//   nzeza::RiskConfig risk = cfg->risk;             // ready for RiskCore (already Validate()d)
//   for (const nzeza::app::WorkerConfig& w : cfg->workers) { ... w.options, w.stages ... }
//
// With no file at all the engine runs DefaultEngineConfig(cpus): the embedded simulated venue on
// loopback, BTC-USD, the market maker, conservative risk limits, workers fitted to the cores.
//
// ## Semantics
// - A file is an overlay on DefaultEngineConfig(number of allowed cpus): every key is optional
//   unless stated otherwise, and an absent key keeps its default. Exception: [[instruments]]
//   replaces the default instrument list, and then the instrument-specific sizes that only make
//   sense for the default BTC-USD (strategy order_size / max_position, risk max_order_size /
//   max_long / max_short) must be given again (a size limit is never implied).
// - Every key the loader does not know is an error ("did you mean" when one is close).
// - Decimal values (prices, sizes, notionals, fees) are written as TOML strings ("0.01") or
//   integers and parsed exactly (nzeza::ParseDecimal); TOML floats are refused because they went
//   through binary floating point. A limit may be the string "none" where stated (kNoLimit).
// - Durations carry their unit in the key name (_ms, _us, _s) and are integers.
// - Errors: all problems found are reported in one InvalidArgument status, one per line, each as
//   "<source>[:<line>]: <key path>: <problem>", e.g.
//     nzeza.toml:7: risk.max_order_size: must be > 0
//     nzeza.toml:3: instruments[0].tick_size: "0.0x" is not a decimal (malformed)
//     nzeza.toml:20: workers[1].stages: stage "risk" assigned twice (also in workers[0])
//     nzeza.toml:2: enigne: unknown key (did you mean "engine"?)
//   A syntax error is reported with toml++'s description, line and column. Secrets never appear
//   in the file, so never in an error either.
//
// Thread: control plane. Allocates: yes.
#ifndef NZEZA_APP_CONFIG_H_
#define NZEZA_APP_CONFIG_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nzeza/app/log_level.h"
#include "nzeza/core/decimal.h"
#include "nzeza/core/runtime.h"
#include "nzeza/oms/journal.h"
#include "nzeza/risk/risk_config.h"
#include "nzeza/signal/book_imbalance_taker.h"
#include "nzeza/signal/market_maker.h"
#include "nzeza/signal/strategy.h"

namespace nzeza::app {

// [engine]
struct EngineSection {
  int64_t duration_s = 30;            // 0: run until SIGINT/SIGTERM
  int64_t status_interval_ms = 1000;  // one-line status period; 0: off
  std::string summary_json = {};      // write the final summary as JSON here ("" = don't)
  // After journal recovery, a mismatch with the venue's open orders / fills is always reported;
  // when true it also keeps the engine from trading until resolved.
  bool block_on_reconcile_mismatch = true;
  // How long shutdown waits for the venue to confirm the cancels of every working order before
  // it gives up, lists them and exits 3.
  int64_t shutdown_timeout_ms = 10'000;
  // Orders the order manager's table holds (live and recently finished; finished ones are
  // recycled). Rounded up to a power of two.
  int64_t order_table_capacity = 1 << 16;
};

enum class VenueKind : uint8_t { kSim = 0, kCoinbase = 1 };
std::string_view VenueKindName(VenueKind k) noexcept;  // "sim", "coinbase"

// [venue.credentials]: where the API key comes from. Never the key itself: the configuration
// file holds names of environment variables and of files (see secrets.h for the file rules).
struct CredentialsConfig {
  std::string key_name = {};         // the CDP key name, literally (it is not secret)
  std::string key_name_env = {};     // or: environment variable holding the key name
  std::string private_key_env = {};  // environment variable holding the EC private key PEM
  // A file holding the PEM, or Coinbase's downloaded JSON key file {"name", "privateKey"}.
  std::string key_file = {};
  // Whether any source was configured.
  bool configured() const {
    return !key_name.empty() || !key_name_env.empty() || !private_key_env.empty() ||
           !key_file.empty();
  }
};

// [venue]
struct VenueConfig {
  VenueKind kind = VenueKind::kSim;
  // Endpoints. For kind "sim" with [sim] embedded = true the ports are 0 (the embedded venue
  // listens on ephemeral loopback ports and the engine uses what it got).
  std::string rest_host = "127.0.0.1";
  uint16_t rest_port = 0;
  std::string ws_host = "127.0.0.1";  // market data
  uint16_t ws_port = 0;
  std::string user_ws_host = "127.0.0.1";  // authenticated user channel
  uint16_t user_ws_port = 0;
  // PEM bundle of CAs to trust instead of the system store (e.g. the sim's certificate).
  // Verification is never turned off.
  std::string ca_file = {};
  int64_t request_timeout_ms = 5000;
  CredentialsConfig credentials;
};

// [sim.faults]: fault injection of the simulated venue; 0 disables each.
struct SimFaults {
  int64_t disconnect_every_s = 0;  // drop the market-data connection this often
  int64_t stall_every_s = 0;       // stop publishing this often ...
  int64_t stall_ms = 0;            // ... for this long
  int64_t gap_every_n = 0;         // skip a sequence number every n messages
  int64_t duplicate_every_n = 0;   // send a message twice every n messages
  int64_t malformed_every_n = 0;   // send a malformed frame every n messages
  int64_t reject_every_n = 0;      // reject every n-th order
  int64_t added_latency_ms = 0;    // delay every order response by this much
};

// [sim] and [sim.instrument."SYM"]: plain values the engine maps onto the simulator's own
// configuration.
struct SimSettings {
  bool embedded = true;  // start the simulated venue inside the engine process
  uint64_t seed = 1;
  Decimal volatility_bps = Decimal::FromMantissa(3, 0);  // stddev of the mid per second, bps
  int64_t step_ms = 10;                                  // the market model's time step
  int64_t participant_orders_per_sec = 200;  // other participants' order rate per instrument
  int64_t participant_cancel_pct = 50;       // share of their orders later canceled, %
  Decimal maker_fee_bps = Decimal::FromMantissa(0, 0);  // signed: negative is a rebate
  Decimal taker_fee_bps = Decimal::FromMantissa(0, 0);
  int64_t rate_limit_per_sec = 30;  // order-entry requests per second before 429
  std::string cert_file = {};       // TLS certificate + key to serve; "" = generate at start
  std::string key_file = {};
  SimFaults faults;
  // Starting mid per symbol as canonical decimal text; absent = the sim's default.
  absl::flat_hash_map<std::string, std::string> start_price;
};

enum class StrategyKind : uint8_t { kMarketMaker = 0, kBookImbalanceTaker = 1 };
// "market_maker", "book_imbalance_taker" (the strategy registry's names).
std::string_view StrategyKindName(StrategyKind k) noexcept;

// [[instruments]]: one tradable instrument. Index in EngineConfig::instruments = InstrumentId.
struct InstrumentConfig {
  std::string symbol = {};     // venue product id, e.g. "BTC-USD"
  std::string tick_size = {};  // canonical decimal text, e.g. "0.01"
  std::string lot_size = {};   // e.g. "0.00000001"
  int price_scale = 0;         // decimals of tick_size (the smallest exact scale)
  int size_scale = 0;          // decimals of lot_size
  int64_t tick = 1;            // tick_size as a mantissa at price_scale (> 0)
  int64_t lot = 1;             // lot_size as a mantissa at size_scale (> 0)
  int depth = 10;              // book levels summed per side for BookView depth sizes

  // The strategy for this instrument, parameters resolved ([strategy] then
  // [strategy.instrument."SYM"]): as text for the strategy registry (MakeStrategyConfig) and
  // typed for whoever builds the strategy directly. Only the kind's struct is filled.
  absl::flat_hash_map<std::string, std::string> strategy_params;
  MarketMaker::Params market_maker = {};
  BookImbalanceTaker::Params book_imbalance_taker = {};

  InstrumentSpec Spec(InstrumentId id) const {
    return InstrumentSpec{
        .id = id, .price_scale = price_scale, .size_scale = size_scale, .tick = tick, .lot = lot};
  }
};

// The pipeline stages a worker may host.
enum class StageKind : uint8_t { kFeed = 0, kSignal = 1, kRisk = 2, kOrder = 3 };
inline constexpr int kStageCount = 4;
// "feed", "signal", "risk", "order".
std::string_view StageKindName(StageKind k) noexcept;

// [[workers]]: one worker thread and the stages it polls, in order.
struct WorkerConfig {
  WorkerOptions options;  // name, cpu (-1 = unpinned), wait, spin_rounds, park_timeout
  std::vector<StageKind> stages;
};

// [journal]
struct JournalConfig {
  bool enabled = true;
  oms::JournalOptions options{.dir = "nzeza-journal"};
};

// [ops]: the operations endpoint. POST /resume (and POST /kill unless kill_without_token) needs
// "Authorization: Bearer <token>"; where the token comes from is resolved by
// LoadOrCreateOpsToken (ops_token.h). The token itself never appears in the configuration file.
struct OpsConfig {
  std::string listen = "127.0.0.1";  // must be a loopback address
  uint16_t port = 9464;              // 0: no operations endpoint
  size_t max_request_bytes = 8192;   // request line + headers + body
  // A private file (mode 0600 or stricter) holding the token; created with a fresh random
  // token when it does not exist. Relative to the working directory. Ignored when token_env
  // is set (giving both is an error).
  std::string token_file = "nzeza-ops-token";
  std::string token_env = {};       // or: environment variable holding the token
  bool kill_without_token = false;  // true: POST /kill needs no token (anyone may stop trading)
};

// [reconcile]: reconciliation with the venue (at start and after every private-stream outage).
struct ReconcileConfig {
  // Open orders of our key that this engine never sent (placed by hand or by another program on
  // the same key): "report" leaves them alone, "cancel" cancels them. Reported either way.
  bool cancel_foreign_orders = false;
  // A sent-but-unacknowledged order the venue does not list is looked for again this long (the
  // venue lists new orders with a lag) before it counts as never placed.
  int64_t unacked_grace_ms = 3000;
};

// [log]
struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  std::string file = {};          // "" = stderr
  size_t queue_capacity = 16384;  // records buffered between producers and the logger thread
};

struct EngineConfig {
  std::string source = "<defaults>";  // where it was loaded from, for messages
  EngineSection engine;
  VenueConfig venue;
  SimSettings sim;
  std::vector<InstrumentConfig> instruments;
  StrategyKind strategy = StrategyKind::kMarketMaker;
  // Built from [risk], [risk.instrument."SYM"] and [breaker]; instruments[i] matches
  // EngineConfig::instruments[i] (scales, tick, lot filled in). Already passed Validate().
  RiskConfig risk;
  JournalConfig journal;
  std::vector<WorkerConfig> workers;
  OpsConfig ops;
  ReconcileConfig reconcile;
  LogConfig log;
};

// What the loader checks the [[workers]] CPU map against.
struct LoadOptions {
  // CPUs the process may use; empty = nzeza::AllowedCpus().
  std::vector<int> cpus = {};
};

// Parses and validates `toml_text`; `source_name` (e.g. the file name) prefixes every message.
// Errors: InvalidArgument listing every problem found (see the file comment).
absl::StatusOr<EngineConfig> LoadEngineConfig(std::string_view toml_text,
                                              std::string_view source_name,
                                              const LoadOptions& options = {});

// Reads `path` and calls LoadEngineConfig. Errors: NotFound / PermissionDenied / Internal for a
// file that cannot be read (the message names the path), else as LoadEngineConfig.
absl::StatusOr<EngineConfig> LoadEngineConfigFile(const std::string& path,
                                                  const LoadOptions& options = {});

// The configuration used without a file, fitted to `cpus` allowed CPUs numbered 0..cpus-1.
EngineConfig DefaultEngineConfig(int cpus);
// The same fitted to the given CPU ids (e.g. AllowedCpus()).
EngineConfig DefaultEngineConfig(std::span<const int> cpus);

// The default stage -> worker -> CPU map for the given CPU ids (ascending):
// - 1 cpu: one worker "engine" hosting feed, signal, risk, order; spin_yield; unpinned.
// - 2 cpus: "feed" [feed] and "trade" [signal, risk, order], both spin_yield, pinned to the two
//   cpus. Two threads that spin for a while and then yield never take more cores than exist,
//   and the yield leaves the control-plane threads (main, logger, ops) their turn; pure `spin`
//   would starve them.
// - 3 cpus: "feed" [feed] and "trade" [signal, risk, order], both spin, pinned to the last two
//   cpus; the first stays for the control plane and the kernel.
// - 4 cpus: one worker per stage, spin, pinned to the four cpus.
// - 5+ cpus: one worker per stage, spin, pinned to the last four cpus; the first stays free.
std::vector<WorkerConfig> DefaultWorkers(std::span<const int> cpus);
// The same for cpus numbered 0..cpus-1 (cpus < 1 counts as 1).
std::vector<WorkerConfig> DefaultWorkers(int cpus);

// The strategy registry's configuration for instruments[index] (MakeStrategy(...) accepts it:
// the loader checked). Precondition: index < config.instruments.size().
StrategyConfig MakeStrategyConfig(const EngineConfig& config, size_t index, uint32_t strategy_id);

}  // namespace nzeza::app

#endif  // NZEZA_APP_CONFIG_H_
