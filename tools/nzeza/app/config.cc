#include "nzeza/app/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nzeza/core/cpu.h"

// toml++ from Debian is a shared library built with exceptions: parse() throws toml::parse_error.
// It is caught right here; nothing escapes this file.
#include <toml++/toml.h>

namespace nzeza::app {

std::string_view LogLevelName(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LogLevelName(l)) return l;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("\"%s\" is not a log level (debug, info, warn, error)", name));
}

std::string_view VenueKindName(VenueKind k) noexcept {
  return k == VenueKind::kSim ? "sim" : "coinbase";
}

std::string_view StrategyKindName(StrategyKind k) noexcept {
  return k == StrategyKind::kMarketMaker ? "market_maker" : "book_imbalance_taker";
}

std::string_view StageKindName(StageKind k) noexcept {
  switch (k) {
    case StageKind::kFeed:
      return "feed";
    case StageKind::kSignal:
      return "signal";
    case StageKind::kRisk:
      return "risk";
    case StageKind::kOrder:
      return "order";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kNone = "none";

// absl::StrCat for std::string_view too (Debian's Abseil has its own absl::string_view).
inline void AppendOne(std::string& out, std::string_view s) { out.append(s); }
inline void AppendOne(std::string& out, const char* s) { out.append(s); }
inline void AppendOne(std::string& out, const std::string& s) { out.append(s); }
inline void AppendOne(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
template <typename T>
requires std::is_integral_v<T>
void AppendOne(std::string& out, T v) { out.append(std::to_string(v)); }
template <typename... Args>
void AppendAll(std::string& out, const Args&... args) {
  (AppendOne(out, args), ...);
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  AppendAll(out, args...);
  return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), for
// "did you mean".
size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// The closest candidate within a distance that still reads as a typo; "" if none.
std::string_view Closest(std::string_view key, const std::vector<std::string>& candidates) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  const std::string lower = absl::AsciiStrToLower(std::string(key));
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(lower, absl::AsciiStrToLower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, key.size() / 3));
  return best_d <= limit ? best : std::string_view();
}

std::string_view TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

// A TOML key as it appears in a path: bare when it can be, else quoted.
std::string QuoteKey(std::string_view key) { return Cat("\"", key, "\""); }

// Collects every problem; each names its key path (and line when known).
class Errors {
 public:
  explicit Errors(std::string source) : source_(std::move(source)) {}

  void Add(const toml::node* node, std::string_view path, std::string_view problem) {
    std::string msg;
    if (node != nullptr && node->source().begin.line > 0) {
      msg = absl::StrFormat("%s:%d: %s: %s", source_, node->source().begin.line, path, problem);
    } else {
      msg = absl::StrFormat("%s: %s: %s", source_, path, problem);
    }
    // A [risk] or [strategy] default applies to every instrument: report its problem once.
    if (seen_.insert(msg).second) list_.push_back(std::move(msg));
  }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  absl::Status ToStatus() const { return absl::InvalidArgumentError(absl::StrJoin(list_, "\n")); }

 private:
  std::string source_;
  std::vector<std::string> list_;
  absl::flat_hash_set<std::string> seen_;
};

// One TOML table being read: every key asked for is recorded as known, and Finish() reports the
// others as unknown with the closest known one.
class Section {
 public:
  Section(Errors* errors, const toml::table* table, std::string path)
      : errors_(errors), table_(table), path_(std::move(path)) {}

  bool present() const { return table_ != nullptr; }
  const std::string& path() const { return path_; }
  const toml::table* table() const { return table_; }

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : Cat(path_, ".", key);
  }

  // The node at `key` (nullptr when absent); marks the key known.
  const toml::node* Get(std::string_view key) {
    known_.emplace_back(key);
    if (table_ == nullptr) return nullptr;
    return table_->get(key);
  }

  void Error(const toml::node* node, std::string_view key, std::string_view problem) {
    errors_->Add(node, Path(key), problem);
  }

  void Finish(std::string_view hint_for_unknown = {}) {
    if (table_ == nullptr) return;
    for (auto&& [k, v] : *table_) {
      const std::string_view key = k.str();
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string problem = "unknown key";
      if (std::string_view close = Closest(key, known_); !close.empty()) {
        AppendAll(problem, " (did you mean \"", close, "\"?)");
      } else if (!hint_for_unknown.empty()) {
        AppendAll(problem, " (", hint_for_unknown, ")");
      }
      errors_->Add(&v, Path(key), problem);
    }
  }

  // Typed readers: each returns true when the key is present and valid (out written), false
  // when absent (out untouched) or invalid (error recorded).
  bool Int(std::string_view key, int64_t* out, int64_t min, int64_t max) {
    const toml::node* n = Get(key);
    return n != nullptr && IntNode(n, Path(key), out, min, max, /*allow_none=*/false);
  }
  bool IntOrNone(std::string_view key, int64_t* out, int64_t min, int64_t max) {
    const toml::node* n = Get(key);
    return n != nullptr && IntNode(n, Path(key), out, min, max, /*allow_none=*/true);
  }
  bool Bool(std::string_view key, bool* out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return false;
    if (const auto* b = n->as_boolean()) {
      *out = b->get();
      return true;
    }
    Error(n, key, Cat("expected true or false, got ", TypeName(*n)));
    return false;
  }
  bool String(std::string_view key, std::string* out, bool allow_empty = true) {
    const toml::node* n = Get(key);
    if (n == nullptr) return false;
    const auto* s = n->as_string();
    if (s == nullptr) {
      Error(n, key, Cat("expected a string, got ", TypeName(*n)));
      return false;
    }
    if (!allow_empty && s->get().empty()) {
      Error(n, key, "must not be empty");
      return false;
    }
    *out = s->get();
    return true;
  }
  template <typename E>
  bool Enum(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> choices,
            E* out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return false;
    const auto* s = n->as_string();
    std::vector<std::string> names;
    for (const auto& [name, value] : choices) {
      if (s != nullptr && s->get() == name) {
        *out = value;
        return true;
      }
      names.push_back(Cat("\"", name, "\""));
    }
    if (s == nullptr) {
      Error(n, key,
            Cat("expected a string (one of ", absl::StrJoin(names, ", "), "), got ", TypeName(*n)));
    } else {
      Error(n, key, Cat("\"", s->get(), "\" is not one of ", absl::StrJoin(names, ", ")));
    }
    return false;
  }
  const toml::table* Table(std::string_view key) {
    const toml::node* n = Get(key);
    if (n == nullptr) return nullptr;
    if (const toml::table* t = n->as_table()) return t;
    Error(n, key, Cat("expected a table, got ", TypeName(*n)));
    return nullptr;
  }

  // Typed parse of a node found elsewhere (layered lookups).
  bool IntNode(const toml::node* n, const std::string& path, int64_t* out, int64_t min, int64_t max,
               bool allow_none) {
    if (allow_none) {
      if (const auto* s = n->as_string(); s != nullptr && s->get() == kNone) {
        *out = kNoLimit;
        return true;
      }
    }
    const auto* i = n->as_integer();
    if (i == nullptr) {
      errors_->Add(
          n, path,
          Cat("expected an integer", allow_none ? " or \"none\"" : "", ", got ", TypeName(*n)));
      return false;
    }
    const int64_t v = i->get();
    if (v < min || v > max) {
      if (min == 1 && max == INT64_MAX) {
        errors_->Add(n, path, Cat("must be > 0 (got ", v, ")"));
      } else if (min == 0 && max == INT64_MAX) {
        errors_->Add(n, path, Cat("must be >= 0 (got ", v, ")"));
      } else {
        errors_->Add(n, path, Cat("must be in [", min, ", ", max, "] (got ", v, ")"));
      }
      return false;
    }
    *out = v;
    return true;
  }

 private:
  Errors* errors_;
  const toml::table* table_;
  std::string path_;
  std::vector<std::string> known_;
};

// The text of a decimal-valued node: a string or an integer. Floats are refused: their text is
// gone and their value went through binary floating point.
std::optional<std::string> DecimalText(Errors& errors, const toml::node* n,
                                       const std::string& path) {
  if (const auto* s = n->as_string()) return s->get();
  if (const auto* i = n->as_integer()) return Cat(i->get());
  if (n->is_floating_point()) {
    errors.Add(n, path, "a TOML float is inexact; write the decimal as a string (e.g. \"0.01\")");
    return std::nullopt;
  }
  errors.Add(n, path, Cat("expected a decimal string, got ", TypeName(*n)));
  return std::nullopt;
}

enum class Sign { kPositive, kNonNegative, kAny };

// Parses a decimal node exactly at `scale` into a mantissa. `scale_hint` says where the scale
// comes from, for the too-many-decimals message.
bool DecimalNode(Errors& errors, const toml::node* n, const std::string& path, int scale, Sign sign,
                 bool allow_none, std::string_view scale_hint, int64_t* out) {
  std::optional<std::string> text = DecimalText(errors, n, path);
  if (!text) return false;
  if (allow_none && *text == kNone) {
    *out = kNoLimit;
    return true;
  }
  int64_t m = 0;
  const DecimalError e =
      ParseDecimal(text->data(), text->size(), scale,
                   sign == Sign::kAny ? Signedness::kSigned : Signedness::kUnsigned, &m);
  switch (e) {
    case DecimalError::kOk:
      break;
    case DecimalError::kTooManyDecimals:
      errors.Add(n, path,
                 absl::StrFormat("\"%s\" has more than %d decimals%s%s", *text, scale,
                                 scale_hint.empty() ? "" : ": ", scale_hint));
      return false;
    case DecimalError::kSignNotAllowed:
      errors.Add(n, path, absl::StrFormat("\"%s\" must not be negative", *text));
      return false;
    case DecimalError::kOverflow:
      errors.Add(n, path, absl::StrFormat("\"%s\" is too large", *text));
      return false;
    default:
      errors.Add(n, path,
                 absl::StrFormat("\"%s\" is not a decimal%s (%s)", *text,
                                 allow_none ? " or \"none\"" : "", DecimalErrorName(e)));
      return false;
  }
  if (sign == Sign::kPositive && m <= 0) {
    errors.Add(n, path, absl::StrFormat("must be > 0 (got \"%s\")", *text));
    return false;
  }
  *out = m;
  return true;
}

std::string FormatMantissa(int64_t m, int scale) {
  char buf[kMaxDecimalChars];
  return std::string(buf, FormatDecimal(m, scale, buf));
}

// The smallest scale at which `text` parses exactly, and the mantissa there.
bool ParseIncrement(Errors& errors, const toml::node* n, const std::string& path, int* scale,
                    int64_t* mantissa) {
  std::optional<std::string> text = DecimalText(errors, n, path);
  if (!text) return false;
  DecimalError e = DecimalError::kOk;
  for (int s = 0; s <= kMaxDecimalScale; ++s) {
    int64_t m = 0;
    e = ParseDecimal(text->data(), text->size(), s, Signedness::kUnsigned, &m);
    if (e == DecimalError::kOk) {
      if (m <= 0) {
        errors.Add(n, path, absl::StrFormat("must be > 0 (got \"%s\")", *text));
        return false;
      }
      *scale = s;
      *mantissa = m;
      return true;
    }
    if (e != DecimalError::kTooManyDecimals) break;
  }
  if (e == DecimalError::kTooManyDecimals) {
    errors.Add(n, path,
               absl::StrFormat("\"%s\" has more than %d decimals", *text, kMaxDecimalScale));
  } else if (e == DecimalError::kSignNotAllowed) {
    errors.Add(n, path, absl::StrFormat("must be > 0 (got \"%s\")", *text));
  } else if (e == DecimalError::kOverflow) {
    errors.Add(n, path, absl::StrFormat("\"%s\" is too large", *text));
  } else {
    errors.Add(n, path,
               absl::StrFormat("\"%s\" is not a decimal (%s)", *text, DecimalErrorName(e)));
  }
  return false;
}

// A node looked up in a per-instrument table first, then in the section-wide defaults.
struct Layered {
  const toml::node* node = nullptr;
  std::string path;
};
Layered Lookup(Section& local, Section& global, std::string_view key) {
  // Both are asked so the key counts as known in either table.
  const toml::node* l = local.Get(key);
  const toml::node* g = global.Get(key);
  if (l != nullptr) return {l, local.Path(key)};
  if (g != nullptr) return {g, global.Path(key)};
  return {nullptr, global.Path(key)};
}

bool ValidEnvName(std::string_view s) {
  if (s.empty() || absl::ascii_isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsLoopbackLiteral(std::string_view a) {
  if (a == "localhost" || a == "::1" || a == "[::1]") return true;
  // 127.0.0.0/8 in dotted quad.
  int parts = 0;
  size_t i = 0;
  int first = -1;
  while (i <= a.size()) {
    size_t j = a.find('.', i);
    if (j == std::string_view::npos) j = a.size();
    std::string_view p = a.substr(i, j - i);
    if (p.empty() || p.size() > 3 ||
        !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    int v = 0;
    for (char c : p) v = v * 10 + (c - '0');
    if (v > 255) return false;
    if (first < 0) first = v;
    ++parts;
    i = j + 1;
  }
  return parts == 4 && first == 127;
}

// ---------------------------------------------------------------------------------------------
// Strategy parameters.

struct ParamSpec {
  enum Type { kSize, kInt, kBool };
  std::string_view key;
  Type type;
  int64_t min = 0;
  int64_t max = 0;
  bool required = false;             // no default: must be given
  bool instrument_specific = false;  // a size: its default only fits the default instrument
  std::string_view fallback = {};
  bool allow_zero = false;  // for sizes
};

const std::vector<ParamSpec>& ParamSpecs(StrategyKind kind) {
  static const std::vector<ParamSpec> kMm = {
      {.key = "order_size",
       .type = ParamSpec::kSize,
       .required = true,
       .instrument_specific = true},
      {.key = "half_spread_ticks",
       .type = ParamSpec::kInt,
       .min = 1,
       .max = 1'000'000,
       .fallback = "2"},
      {.key = "requote_ticks",
       .type = ParamSpec::kInt,
       .min = 1,
       .max = 1'000'000,
       .fallback = "1"},
      {.key = "skew_ticks", .type = ParamSpec::kInt, .min = 0, .max = 1'000'000, .fallback = "0"},
      {.key = "max_position",
       .type = ParamSpec::kSize,
       .required = true,
       .instrument_specific = true,
       .allow_zero = true},
      {.key = "post_only", .type = ParamSpec::kBool, .fallback = "true"},
  };
  static const std::vector<ParamSpec> kTaker = {
      {.key = "order_size",
       .type = ParamSpec::kSize,
       .required = true,
       .instrument_specific = true},
      {.key = "threshold_bp", .type = ParamSpec::kInt, .min = 1, .max = 10'000, .fallback = "6000"},
      {.key = "cooldown_ms",
       .type = ParamSpec::kInt,
       .min = 0,
       .max = 86'400'000,
       .fallback = "100"},
      {.key = "max_position",
       .type = ParamSpec::kSize,
       .required = true,
       .instrument_specific = true,
       .allow_zero = true},
      {.key = "slippage_ticks",
       .type = ParamSpec::kInt,
       .min = 0,
       .max = 1'000'000,
       .fallback = "0"},
  };
  return kind == StrategyKind::kMarketMaker ? kMm : kTaker;
}

int64_t ParamInt(const absl::flat_hash_map<std::string, std::string>& p, std::string_view key) {
  auto it = p.find(std::string(key));
  int64_t v = 0;
  if (it != p.end()) {
    (void)ParseDecimal(it->second.data(), it->second.size(), 0, Signedness::kSigned, &v);
  }
  return v;
}

void FillTypedParams(StrategyKind kind, InstrumentConfig& inst) {
  const auto& p = inst.strategy_params;
  auto size = [&](std::string_view key) {
    int64_t v = 0;
    auto it = p.find(std::string(key));
    if (it != p.end()) {
      (void)ParseDecimal(it->second.data(), it->second.size(), inst.size_scale,
                         Signedness::kUnsigned, &v);
    }
    return v;
  };
  if (kind == StrategyKind::kMarketMaker) {
    MarketMaker::Params& m = inst.market_maker;
    m.order_size = size("order_size");
    m.half_spread_ticks = ParamInt(p, "half_spread_ticks");
    m.requote_ticks = ParamInt(p, "requote_ticks");
    m.skew_ticks = ParamInt(p, "skew_ticks");
    m.max_position = size("max_position");
    auto it = p.find("post_only");
    m.post_only = it == p.end() || it->second == "true";
  } else {
    BookImbalanceTaker::Params& t = inst.book_imbalance_taker;
    t.order_size = size("order_size");
    t.threshold_bp = ParamInt(p, "threshold_bp");
    t.cooldown_ns = ParamInt(p, "cooldown_ms") * 1'000'000;
    t.max_position = size("max_position");
    t.slippage_ticks = ParamInt(p, "slippage_ticks");
  }
}

// ---------------------------------------------------------------------------------------------
// The loader.

class Loader {
 public:
  Loader(std::string source, std::vector<int> cpus)
      : errors_(source), cpus_(std::move(cpus)), cfg_(DefaultEngineConfig(cpus_)) {
    cfg_.source = std::move(source);
  }

  absl::StatusOr<EngineConfig> Load(const toml::table& root) {
    Section top(&errors_, &root, "");
    const EngineConfig defaults = cfg_;

    Section engine(&errors_, top.Table("engine"), "engine");
    ReadEngine(engine);
    Section venue(&errors_, top.Table("venue"), "venue");
    ReadVenue(venue);

    const toml::node* instruments = top.Get("instruments");
    instruments_given_ = instruments != nullptr;
    if (instruments_given_) ReadInstruments(instruments);

    Section sim(&errors_, top.Table("sim"), "sim");
    ReadSim(sim);
    Section strategy(&errors_, top.Table("strategy"), "strategy");
    ReadStrategy(strategy, defaults);
    Section risk(&errors_, top.Table("risk"), "risk");
    ReadRisk(risk, defaults);
    Section breaker(&errors_, top.Table("breaker"), "breaker");
    ReadBreaker(breaker);
    Section journal(&errors_, top.Table("journal"), "journal");
    ReadJournal(journal);
    if (const toml::node* w = top.Get("workers")) ReadWorkers(w);
    Section ops(&errors_, top.Table("ops"), "ops");
    ReadOps(ops);
    Section reconcile(&errors_, top.Table("reconcile"), "reconcile");
    ReadReconcile(reconcile);
    Section log(&errors_, top.Table("log"), "log");
    ReadLog(log);
    top.Finish();

    if (errors_.empty()) CrossCheck();
    if (!errors_.empty()) return errors_.ToStatus();
    return std::move(cfg_);
  }

 private:
  void ReadEngine(Section& s) {
    s.Int("duration_s", &cfg_.engine.duration_s, 0, 10'000'000);
    s.Int("status_interval_ms", &cfg_.engine.status_interval_ms, 0, 3'600'000);
    s.String("summary_json", &cfg_.engine.summary_json);
    s.Bool("block_on_reconcile_mismatch", &cfg_.engine.block_on_reconcile_mismatch);
    s.Int("shutdown_timeout_ms", &cfg_.engine.shutdown_timeout_ms, 0, 600'000);
    s.Int("order_table_capacity", &cfg_.engine.order_table_capacity, 16, int64_t{1} << 22);
    s.Finish();
  }

  void ReadHostPort(Section& s, std::string_view host_key, std::string_view port_key,
                    std::string* host, uint16_t* port) {
    s.String(host_key, host, /*allow_empty=*/false);
    int64_t p = 0;
    if (s.Int(port_key, &p, 0, 65535)) *port = static_cast<uint16_t>(p);
  }

  void ReadVenue(Section& s) {
    VenueConfig& v = cfg_.venue;
    VenueKind kind = v.kind;
    if (s.Enum<VenueKind>("kind", {{"sim", VenueKind::kSim}, {"coinbase", VenueKind::kCoinbase}},
                          &kind) &&
        kind == VenueKind::kCoinbase) {
      // Coinbase Advanced Trade production endpoints.
      v.rest_host = "api.coinbase.com";
      v.rest_port = 443;
      v.ws_host = "advanced-trade-ws.coinbase.com";
      v.ws_port = 443;
      v.user_ws_host = "advanced-trade-ws-user.coinbase.com";
      v.user_ws_port = 443;
    }
    v.kind = kind;
    ReadHostPort(s, "rest_host", "rest_port", &v.rest_host, &v.rest_port);
    ReadHostPort(s, "ws_host", "ws_port", &v.ws_host, &v.ws_port);
    ReadHostPort(s, "user_ws_host", "user_ws_port", &v.user_ws_host, &v.user_ws_port);
    s.String("ca_file", &v.ca_file);
    s.Int("request_timeout_ms", &v.request_timeout_ms, 1, 600'000);

    Section c(&errors_, s.Table("credentials"), "venue.credentials");
    CredentialsConfig& cred = v.credentials;
    c.String("key_name", &cred.key_name, false);
    for (std::string_view key : {"key_name_env", "private_key_env"}) {
      std::string* out = key == "key_name_env" ? &cred.key_name_env : &cred.private_key_env;
      const toml::node* n = c.table() != nullptr ? c.table()->get(key) : nullptr;
      if (c.String(key, out, false) && !ValidEnvName(*out)) {
        c.Error(n, key,
                absl::StrFormat(
                    "\"%s\" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)", *out));
      }
    }
    c.String("key_file", &cred.key_file, false);
    // A secret pasted into the file: refuse it without echoing it.
    for (std::string_view key : {"private_key", "api_secret", "secret", "privateKey"}) {
      if (c.table() != nullptr) {
        if (const toml::node* n = c.table()->get(key)) {
          c.Get(key);  // reported here, not again as unknown
          c.Error(n, key,
                  "secrets are never read from the configuration file; put the key in a file "
                  "(key_file, mode 0600) or an environment variable (private_key_env)");
        }
      }
    }
    c.Finish();
    s.Finish();
  }

  void ReadInstruments(const toml::node* node) {
    const toml::array* arr = node->as_array();
    if (arr == nullptr || !arr->is_array_of_tables()) {
      errors_.Add(node, "instruments",
                  Cat("expected an array of tables ([[instruments]]), got ", TypeName(*node)));
      return;
    }
    if (arr->empty()) {
      errors_.Add(node, "instruments", "at least one instrument is required");
      return;
    }
    cfg_.instruments.clear();
    for (size_t i = 0; i < arr->size(); ++i) {
      Section s(&errors_, arr->get(i)->as_table(), Cat("instruments[", i, "]"));
      InstrumentConfig inst;
      if (s.String("symbol", &inst.symbol, false)) {
        const toml::node* n = s.table()->get("symbol");
        if (std::any_of(inst.symbol.begin(), inst.symbol.end(), [](char c) {
              return absl::ascii_isspace(static_cast<unsigned char>(c));
            })) {
          s.Error(n, "symbol", absl::StrFormat("\"%s\" contains whitespace", inst.symbol));
        }
        for (size_t j = 0; j < cfg_.instruments.size(); ++j) {
          if (cfg_.instruments[j].symbol == inst.symbol) {
            s.Error(n, "symbol",
                    absl::StrFormat("\"%s\" is already instruments[%d]", inst.symbol, j));
          }
        }
      } else if (s.Get("symbol") == nullptr) {
        s.Error(s.table(), "symbol", "required");
      }
      for (std::string_view key : {"tick_size", "lot_size"}) {
        const bool tick = key == "tick_size";
        const toml::node* n = s.Get(key);
        if (n == nullptr) {
          s.Error(s.table(), key, "required");
          continue;
        }
        int scale = 0;
        int64_t m = 0;
        if (ParseIncrement(errors_, n, s.Path(key), &scale, &m)) {
          (tick ? inst.price_scale : inst.size_scale) = scale;
          (tick ? inst.tick : inst.lot) = m;
          (tick ? inst.tick_size : inst.lot_size) = FormatMantissa(m, scale);
        }
      }
      int64_t depth = inst.depth;
      if (s.Int("depth", &depth, 1, 1000)) inst.depth = static_cast<int>(depth);
      s.Finish();
      cfg_.instruments.push_back(std::move(inst));
    }
  }

  // The index of `symbol`, or -1 with an error at `node`.
  int FindSymbol(const toml::node* node, const std::string& path, std::string_view symbol) {
    for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
      if (cfg_.instruments[i].symbol == symbol) return static_cast<int>(i);
    }
    std::vector<std::string> names;
    for (const InstrumentConfig& i : cfg_.instruments) names.push_back(i.symbol);
    std::string problem = absl::StrFormat("\"%s\" is not a configured instrument", symbol);
    if (std::string_view close = Closest(symbol, names); !close.empty()) {
      AppendAll(problem, " (did you mean \"", close, "\"?)");
    } else {
      AppendAll(problem, " (instruments: ", absl::StrJoin(names, ", "), ")");
    }
    errors_.Add(node, path, problem);
    return -1;
  }

  // Per-instrument override tables under `parent`.instrument: one Section per instrument
  // (absent ones have a null table).
  std::vector<Section> InstrumentTables(Section& parent) {
    std::vector<Section> out;
    for (const InstrumentConfig& inst : cfg_.instruments) {
      out.emplace_back(&errors_, nullptr,
                       Cat(parent.path(), ".instrument.", QuoteKey(inst.symbol)));
    }
    const toml::table* t = parent.Table("instrument");
    if (t == nullptr) return out;
    for (auto&& [k, v] : *t) {
      const std::string path = Cat(parent.path(), ".instrument.", QuoteKey(k.str()));
      const int idx = FindSymbol(&v, path, k.str());
      if (idx < 0) continue;
      if (const toml::table* sub = v.as_table()) {
        out[idx] = Section(&errors_, sub, path);
      } else {
        errors_.Add(&v, path, Cat("expected a table, got ", TypeName(v)));
      }
    }
    return out;
  }

  void ReadSim(Section& s) {
    SimSettings& sim = cfg_.sim;
    s.Bool("embedded", &sim.embedded);
    int64_t seed = 0;
    if (s.Int("seed", &seed, 0, INT64_MAX)) sim.seed = static_cast<uint64_t>(seed);
    auto decimal = [&](std::string_view key, Sign sign, Decimal* out) {
      if (const toml::node* n = s.Get(key)) {
        int64_t m = 0;
        if (DecimalNode(errors_, n, s.Path(key), 4, sign, false, "basis points have at most 4",
                        &m)) {
          *out = Decimal::FromMantissa(m, 4);
        }
      }
    };
    decimal("volatility_bps", Sign::kNonNegative, &sim.volatility_bps);
    decimal("maker_fee_bps", Sign::kAny, &sim.maker_fee_bps);
    decimal("taker_fee_bps", Sign::kAny, &sim.taker_fee_bps);
    s.Int("step_ms", &sim.step_ms, 1, 60'000);
    s.Int("participant_orders_per_sec", &sim.participant_orders_per_sec, 0, 1'000'000);
    s.Int("participant_cancel_pct", &sim.participant_cancel_pct, 0, 100);
    s.Int("rate_limit_per_sec", &sim.rate_limit_per_sec, 1, 1'000'000);
    s.String("cert_file", &sim.cert_file);
    s.String("key_file", &sim.key_file);
    if (sim.cert_file.empty() != sim.key_file.empty()) {
      s.Error(s.Get(sim.cert_file.empty() ? "key_file" : "cert_file"),
              sim.cert_file.empty() ? "cert_file" : "key_file",
              "cert_file and key_file go together (both, or neither to generate a certificate)");
    }

    Section f(&errors_, s.Table("faults"), "sim.faults");
    SimFaults& x = sim.faults;
    f.Int("disconnect_every_s", &x.disconnect_every_s, 0, 86'400);
    f.Int("stall_every_s", &x.stall_every_s, 0, 86'400);
    f.Int("stall_ms", &x.stall_ms, 0, 600'000);
    f.Int("gap_every_n", &x.gap_every_n, 0, INT64_MAX);
    f.Int("duplicate_every_n", &x.duplicate_every_n, 0, INT64_MAX);
    f.Int("malformed_every_n", &x.malformed_every_n, 0, INT64_MAX);
    f.Int("reject_every_n", &x.reject_every_n, 0, INT64_MAX);
    f.Int("added_latency_ms", &x.added_latency_ms, 0, 60'000);
    if ((x.stall_every_s == 0) != (x.stall_ms == 0)) {
      f.Error(f.Get("stall_ms"), "stall_ms", "stall_every_s and stall_ms go together");
    }
    f.Finish();

    std::vector<Section> per = InstrumentTables(s);
    for (size_t i = 0; i < per.size(); ++i) {
      if (const toml::node* n = per[i].Get("start_price")) {
        int64_t m = 0;
        const InstrumentConfig& inst = cfg_.instruments[i];
        if (DecimalNode(errors_, n, per[i].Path("start_price"), inst.price_scale, Sign::kPositive,
                        false, Cat("tick_size is ", inst.tick_size), &m)) {
          if (m % inst.tick != 0) {
            per[i].Error(n, "start_price",
                         absl::StrFormat("%s is not a multiple of tick_size %s",
                                         FormatMantissa(m, inst.price_scale), inst.tick_size));
          } else {
            sim.start_price[inst.symbol] = FormatMantissa(m, inst.price_scale);
          }
        }
      }
      per[i].Finish();
    }
    if (instruments_given_) {
      // Start prices of default instruments that are gone must not linger.
      absl::flat_hash_map<std::string, std::string> kept;
      for (const InstrumentConfig& inst : cfg_.instruments) {
        if (auto it = sim.start_price.find(inst.symbol); it != sim.start_price.end()) {
          kept.insert(*it);
        }
      }
      sim.start_price = std::move(kept);
    }
    s.Finish();
  }

  void ReadStrategy(Section& s, const EngineConfig& defaults) {
    StrategyKind kind = cfg_.strategy;
    s.Enum<StrategyKind>("kind",
                         {{"market_maker", StrategyKind::kMarketMaker},
                          {"book_imbalance_taker", StrategyKind::kBookImbalanceTaker}},
                         &kind);
    cfg_.strategy = kind;
    // The default instrument's sizes only carry over while that instrument and kind remain.
    const bool keep_default_sizes = !instruments_given_ && kind == defaults.strategy;
    const std::vector<ParamSpec>& specs = ParamSpecs(kind);
    const std::vector<ParamSpec>& other =
        ParamSpecs(kind == StrategyKind::kMarketMaker ? StrategyKind::kBookImbalanceTaker
                                                      : StrategyKind::kMarketMaker);
    std::vector<Section> per = InstrumentTables(s);
    for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
      InstrumentConfig& inst = cfg_.instruments[i];
      absl::flat_hash_map<std::string, std::string> params;
      for (const ParamSpec& spec : specs) {
        Layered l = Lookup(per[i], s, spec.key);
        if (l.node == nullptr) {
          if (spec.instrument_specific && keep_default_sizes) {
            params[std::string(spec.key)] =
                defaults.instruments[0].strategy_params.at(std::string(spec.key));
          } else if (spec.required) {
            errors_.Add(s.table(), s.Path(spec.key),
                        absl::StrFormat("required by %s (for instruments[%d] \"%s\")",
                                        StrategyKindName(kind), i, inst.symbol));
          } else {
            params[std::string(spec.key)] = std::string(spec.fallback);
          }
          continue;
        }
        switch (spec.type) {
          case ParamSpec::kSize: {
            int64_t m = 0;
            if (DecimalNode(errors_, l.node, l.path, inst.size_scale,
                            spec.allow_zero ? Sign::kNonNegative : Sign::kPositive, false,
                            absl::StrFormat("instruments[%d] \"%s\" lot_size is %s", i, inst.symbol,
                                            inst.lot_size),
                            &m)) {
              if (m % inst.lot != 0) {
                errors_.Add(l.node, l.path,
                            absl::StrFormat("%s is not a multiple of instruments[%d] \"%s\" "
                                            "lot_size %s",
                                            FormatMantissa(m, inst.size_scale), i, inst.symbol,
                                            inst.lot_size));
              }
              params[std::string(spec.key)] = FormatMantissa(m, inst.size_scale);
            }
            break;
          }
          case ParamSpec::kInt: {
            int64_t v = 0;
            if (s.IntNode(l.node, l.path, &v, spec.min, spec.max, false)) {
              params[std::string(spec.key)] = Cat(v);
            }
            break;
          }
          case ParamSpec::kBool: {
            if (const auto* b = l.node->as_boolean()) {
              params[std::string(spec.key)] = b->get() ? "true" : "false";
            } else {
              errors_.Add(l.node, l.path, Cat("expected true or false, got ", TypeName(*l.node)));
            }
            break;
          }
        }
      }
      inst.strategy_params = std::move(params);
      inst.market_maker = {};
      inst.book_imbalance_taker = {};
      FillTypedParams(kind, inst);
    }
    const std::string hint = Cat("not a parameter of ", StrategyKindName(kind));
    auto finish = [&](Section& sec) {
      // Name the other kind when the key belongs to it: the usual mistake after changing kind.
      if (sec.table() != nullptr) {
        for (auto&& [k, v] : *sec.table()) {
          for (const ParamSpec& o : other) {
            const bool ours = std::any_of(specs.begin(), specs.end(),
                                          [&](const ParamSpec& p) { return p.key == o.key; });
            if (!ours && o.key == k.str()) {
              sec.Get(k.str());
              errors_.Add(&v, sec.Path(k.str()),
                          absl::StrFormat("a parameter of %s, not of %s (kind = \"%s\")",
                                          StrategyKindName(kind == StrategyKind::kMarketMaker
                                                               ? StrategyKind::kBookImbalanceTaker
                                                               : StrategyKind::kMarketMaker),
                                          StrategyKindName(kind), StrategyKindName(kind)));
            }
          }
        }
      }
      sec.Finish(hint);
    };
    for (Section& p : per) finish(p);
    finish(s);
  }

  // The per-instrument limits: [risk.instrument."SYM"] over [risk] over the defaults.
  void ReadInstrumentRisk(Section& local, Section& global, size_t i, const EngineConfig& defaults,
                          int notional_scale, InstrumentRisk* r) {
    const InstrumentConfig& inst = cfg_.instruments[i];
    r->price_scale = inst.price_scale;
    r->size_scale = inst.size_scale;
    r->tick_size = inst.tick;
    r->lot_size = inst.lot;
    const std::string size_hint =
        absl::StrFormat("instruments[%d] \"%s\" lot_size is %s", i, inst.symbol, inst.lot_size);

    auto size_limit = [&](std::string_view key, int64_t* out, bool required) {
      Layered l = Lookup(local, global, key);
      if (l.node == nullptr) {
        if (required && instruments_given_) {
          errors_.Add(global.table(), l.path,
                      absl::StrFormat("required for instruments[%d] \"%s\" (a size limit is never "
                                      "implied; \"none\" disables it)",
                                      i, inst.symbol));
        }
        return;
      }
      DecimalNode(errors_, l.node, l.path, inst.size_scale, Sign::kPositive, true, size_hint, out);
    };
    auto notional_limit = [&](std::string_view key, int64_t* out) {
      Layered l = Lookup(local, global, key);
      if (l.node == nullptr) return;
      DecimalNode(errors_, l.node, l.path, notional_scale, Sign::kPositive, true,
                  Cat("risk.notional_scale is ", notional_scale), out);
    };
    auto int_limit = [&](std::string_view key, int64_t* out, int64_t min) {
      Layered l = Lookup(local, global, key);
      if (l.node == nullptr) return;
      global.IntNode(l.node, l.path, out, min, INT64_MAX, true);
    };

    size_limit("max_order_size", &r->max_order_size, true);
    size_limit("max_long", &r->max_long, true);
    size_limit("max_short", &r->max_short, true);
    notional_limit("max_order_notional", &r->max_order_notional);
    int_limit("max_open_orders", &r->max_open_orders, 1);
    int_limit("collar_bps", &r->collar_bps, 1);
    int_limit("collar_ticks", &r->collar_ticks, 1);
    {
      Layered l = Lookup(local, global, "collar_reference");
      if (l.node != nullptr) {
        const auto* s = l.node->as_string();
        const std::string v = s != nullptr ? s->get() : "";
        if (v == "mid") {
          r->collar_reference = CollarReference::kMid;
        } else if (v == "last_trade") {
          r->collar_reference = CollarReference::kLastTrade;
        } else if (v == "venue_band") {
          // RiskCore can collar against a venue band, but nothing in this process feeds one:
          // the Coinbase feed publishes no price band, so every order would be refused.
          errors_.Add(l.node, l.path,
                      "\"venue_band\" is not supported: nothing feeds a venue price band (the "
                      "Coinbase feed publishes none), so every order would be refused with "
                      "no_reference_price; use \"mid\" or \"last_trade\" with collar_bps / "
                      "collar_ticks");
        } else if (s == nullptr) {
          errors_.Add(l.node, l.path, Cat("expected a string, got ", TypeName(*l.node)));
        } else {
          errors_.Add(l.node, l.path,
                      absl::StrFormat("\"%s\" is not one of \"mid\", \"last_trade\"", v));
        }
      }
    }
    {
      Layered l = Lookup(local, global, "allow_market_orders");
      if (l.node != nullptr) {
        if (const auto* b = l.node->as_boolean()) {
          r->allow_market_orders = b->get();
        } else {
          errors_.Add(l.node, l.path, Cat("expected true or false, got ", TypeName(*l.node)));
        }
      }
    }
    {
      Layered l = Lookup(local, global, "fee_scale");
      int64_t v = 0;
      if (l.node != nullptr && global.IntNode(l.node, l.path, &v, 0, kMaxDecimalScale, false)) {
        r->fee_scale = static_cast<int>(v);
      }
    }
    (void)defaults;
  }

  void ReadRisk(Section& s, const EngineConfig& defaults) {
    RiskConfig& risk = cfg_.risk;
    // The notional scale must hold price x size of every instrument exactly.
    int auto_scale = 10;
    for (const InstrumentConfig& inst : cfg_.instruments) {
      auto_scale = std::max(auto_scale, inst.price_scale + inst.size_scale);
    }
    int64_t ns = auto_scale;
    if (const toml::node* n = s.Get("notional_scale")) {
      if (s.IntNode(n, s.Path("notional_scale"), &ns, 0, kMaxDecimalScale, false) &&
          ns < auto_scale) {
        s.Error(n, "notional_scale",
                absl::StrFormat("must be >= price scale + size scale of every instrument (%d)",
                                auto_scale));
        ns = auto_scale;
      }
    }
    risk.notional_scale = static_cast<int>(ns);
    auto notional = [&](std::string_view key, int64_t* out) {
      if (const toml::node* n = s.Get(key)) {
        DecimalNode(errors_, n, s.Path(key), risk.notional_scale, Sign::kPositive, true,
                    Cat("risk.notional_scale is ", risk.notional_scale), out);
      }
    };
    // Defaults were written at the default scale: rescale them (exact: the scale only grows).
    for (int64_t* v : {&risk.max_gross_notional, &risk.capital, &risk.max_daily_loss}) {
      if (*v != kNoLimit) {
        int64_t out = kNoLimit;
        if (RescaleDecimal(*v, defaults.risk.notional_scale, risk.notional_scale, &out) ==
            DecimalError::kOk) {
          *v = out;
        }
      }
    }
    notional("max_gross_notional", &risk.max_gross_notional);
    notional("capital", &risk.capital);
    notional("max_daily_loss", &risk.max_daily_loss);
    s.IntOrNone("max_open_orders_total", &risk.max_open_orders_total, 1, INT64_MAX);
    s.IntOrNone("throttle_max_msgs", &risk.throttle_max_msgs, 1, 1 << 20);
    int64_t ms = risk.throttle_window_ns / 1'000'000;
    if (s.Int("throttle_window_ms", &ms, 1, 3'600'000)) risk.throttle_window_ns = ms * 1'000'000;
    ms = risk.duplicate_window_ns / 1'000'000;
    if (s.Int("duplicate_window_ms", &ms, 0, 3'600'000)) {
      risk.duplicate_window_ns = ms * 1'000'000;
    }
    s.Bool("self_match_prevention", &risk.self_match_prevention);
    {
      // The trading day's start, "HH:MM" UTC: max_daily_loss counts from it.
      std::string v;
      const toml::node* n = s.Get("day_boundary_utc");
      if (n != nullptr && s.String("day_boundary_utc", &v)) {
        auto digit = [&](size_t i) {
          return absl::ascii_isdigit(static_cast<unsigned char>(v[i]));
        };
        const bool shaped =
            v.size() == 5 && v[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
        const int hh = shaped ? (v[0] - '0') * 10 + (v[1] - '0') : -1;
        const int mm = shaped ? (v[3] - '0') * 10 + (v[4] - '0') : -1;
        if (!shaped || hh > 23 || mm > 59) {
          s.Error(n, "day_boundary_utc",
                  absl::StrFormat("\"%s\" is not a time of day \"HH:MM\" (UTC, \"00:00\" to "
                                  "\"23:59\")",
                                  v));
        } else {
          risk.day_boundary_ns = (int64_t{hh} * 60 + mm) * 60'000'000'000;
        }
      }
    }
    int64_t cap = risk.working_capacity;
    if (s.Int("working_capacity", &cap, 1, 1 << 22))
      risk.working_capacity = static_cast<int32_t>(cap);

    std::vector<Section> per = InstrumentTables(s);
    std::vector<InstrumentRisk> instruments;
    for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
      InstrumentRisk r = !instruments_given_ && i < defaults.risk.instruments.size()
                             ? defaults.risk.instruments[i]
                             : GenericInstrumentRisk();
      if (!instruments_given_ && r.max_order_notional != kNoLimit) {
        int64_t out = kNoLimit;
        if (RescaleDecimal(r.max_order_notional, defaults.risk.notional_scale, risk.notional_scale,
                           &out) == DecimalError::kOk) {
          r.max_order_notional = out;
        }
      }
      ReadInstrumentRisk(per[i], s, i, defaults, risk.notional_scale, &r);
      instruments.push_back(r);
    }
    risk.instruments = std::move(instruments);
    for (Section& p : per) p.Finish();
    s.Finish();
  }

  static InstrumentRisk GenericInstrumentRisk() {
    InstrumentRisk r;
    r.collar_reference = CollarReference::kMid;
    r.collar_bps = 500;
    r.max_open_orders = 10;
    r.allow_market_orders = false;
    return r;
  }

  void ReadBreaker(Section& s) {
    BreakerConfig& b = cfg_.risk.breaker;
    auto dur = [&](std::string_view key, int64_t* ns, int64_t unit, int64_t max, bool none) {
      const toml::node* n = s.Get(key);
      if (n == nullptr) return;
      int64_t v = 0;
      if (s.IntNode(n, s.Path(key), &v, 0, max, none)) *ns = v == kNoLimit ? kNoLimit : v * unit;
    };
    dur("stale_after_ms", &b.stale_after_ns, 1'000'000, 3'600'000, true);
    s.Bool("trip_on_stale_status", &b.trip_on_stale_status);
    s.Bool("trip_on_gap", &b.trip_on_gap);
    dur("gap_grace_ms", &b.gap_grace_ns, 1'000'000, 3'600'000, false);
    s.Bool("trip_on_crossed", &b.trip_on_crossed);
    s.Bool("trip_on_ring_overrun", &b.trip_on_ring_overrun);
    s.IntOrNone("reject_burst_count", &b.reject_burst_count, 1, INT64_MAX);
    dur("reject_burst_window_ms", &b.reject_burst_window_ns, 1'000'000, 3'600'000, false);
    s.IntOrNone("price_move_bps", &b.price_move_bps, 1, INT64_MAX);
    dur("price_move_window_ms", &b.price_move_window_ns, 1'000'000, 3'600'000, false);
    dur("latency_budget_us", &b.latency_budget_ns, 1'000, 60'000'000, true);
    dur("cooldown_ms", &b.cooldown_ns, 1'000'000, 86'400'000, false);
    s.Int("probe_orders", &b.probe_orders, 0, 1'000'000);
    s.Bool("allow_reducing_when_open", &b.allow_reducing_when_open);
    s.Finish();
  }

  void ReadJournal(Section& s) {
    JournalConfig& j = cfg_.journal;
    s.Bool("enabled", &j.enabled);
    s.String("dir", &j.options.dir, false);
    int64_t bytes = 0;
    if (s.Int("segment_bytes", &bytes, 4096, int64_t{1} << 40)) j.options.segment_bytes = bytes;
    s.Enum<oms::FsyncPolicy>("fsync",
                             {{"every_record", oms::FsyncPolicy::kEveryRecord},
                              {"interval", oms::FsyncPolicy::kInterval},
                              {"never", oms::FsyncPolicy::kNever}},
                             &j.options.fsync);
    int64_t ms = 0;
    if (s.Int("interval_ms", &ms, 1, 60'000)) j.options.fsync_interval_ns = ms * 1'000'000;
    s.Finish();
  }

  void ReadWorkers(const toml::node* node) {
    const toml::array* arr = node->as_array();
    if (arr == nullptr || !arr->is_array_of_tables() || arr->empty()) {
      errors_.Add(node, "workers",
                  arr != nullptr && arr->empty()
                      ? "at least one worker is required"
                      : Cat("expected an array of tables ([[workers]]), got ", TypeName(*node)));
      return;
    }
    std::vector<WorkerConfig> workers;
    int owner[kStageCount] = {-1, -1, -1, -1};
    for (size_t i = 0; i < arr->size(); ++i) {
      Section s(&errors_, arr->get(i)->as_table(), Cat("workers[", i, "]"));
      WorkerConfig w;
      w.options.name = Cat("worker", i);
      if (s.String("name", &w.options.name, false)) {
        for (size_t j = 0; j < workers.size(); ++j) {
          if (workers[j].options.name == w.options.name) {
            s.Error(
                s.table()->get("name"), "name",
                absl::StrFormat("\"%s\" is already the name of workers[%d]", w.options.name, j));
          }
        }
      }
      const toml::node* st = s.Get("stages");
      if (st == nullptr) {
        s.Error(s.table(), "stages",
                "required (a list of \"feed\", \"signal\", \"risk\", \"order\")");
      } else if (const toml::array* sa = st->as_array(); sa == nullptr || sa->empty()) {
        s.Error(st, "stages", "expected a non-empty list of stage names");
      } else {
        for (size_t k = 0; k < sa->size(); ++k) {
          const toml::node* e = sa->get(k);
          const auto* name = e->as_string();
          int stage = -1;
          for (int x = 0; x < kStageCount && name != nullptr; ++x) {
            if (name->get() == StageKindName(static_cast<StageKind>(x))) stage = x;
          }
          if (stage < 0) {
            s.Error(e, "stages",
                    name != nullptr
                        ? absl::StrFormat("\"%s\" is not a stage (feed, signal, risk, order)",
                                          name->get())
                        : Cat("expected stage names, got ", TypeName(*e)));
            continue;
          }
          if (owner[stage] >= 0) {
            s.Error(
                e, "stages",
                owner[stage] == static_cast<int>(i)
                    ? absl::StrFormat("stage \"%s\" assigned twice (listed twice here)",
                                      StageKindName(static_cast<StageKind>(stage)))
                    : absl::StrFormat("stage \"%s\" assigned twice (also in workers[%d])",
                                      StageKindName(static_cast<StageKind>(stage)), owner[stage]));
            continue;
          }
          owner[stage] = static_cast<int>(i);
          w.stages.push_back(static_cast<StageKind>(stage));
        }
      }
      int64_t cpu = -1;
      if (s.Int("cpu", &cpu, -1, 4095)) {
        if (cpu >= 0 && std::find(cpus_.begin(), cpus_.end(), cpu) == cpus_.end()) {
          s.Error(s.table()->get("cpu"), "cpu",
                  absl::StrFormat("cpu %d is not available to this process (allowed: %s)", cpu,
                                  absl::StrJoin(cpus_, ",")));
        }
        w.options.cpu = static_cast<int>(cpu);
      }
      s.Enum<WaitStrategy>("wait",
                           {{"spin", WaitStrategy::kSpin},
                            {"spin_yield", WaitStrategy::kSpinYield},
                            {"block", WaitStrategy::kBlock}},
                           &w.options.wait);
      int64_t rounds = 0;
      if (s.Int("spin_rounds", &rounds, 0, 1'000'000'000)) {
        w.options.spin_rounds = static_cast<uint32_t>(rounds);
      }
      int64_t park_us = 0;
      if (s.Int("park_timeout_us", &park_us, 1, 1'000'000)) {
        w.options.park_timeout = absl::Microseconds(park_us);
      }
      s.Finish();
      workers.push_back(std::move(w));
    }
    for (int x = 0; x < kStageCount; ++x) {
      if (owner[x] < 0) {
        errors_.Add(node, "workers",
                    absl::StrFormat("stage \"%s\" is not assigned to any worker",
                                    StageKindName(static_cast<StageKind>(x))));
      }
    }
    // Never more spinning threads than cores, and never two spinners on one core.
    int spinning = 0;
    for (size_t i = 0; i < workers.size(); ++i) {
      const WorkerOptions& o = workers[i].options;
      if (o.wait != WaitStrategy::kSpin) continue;
      ++spinning;
      if (o.cpu < 0) continue;
      for (size_t j = 0; j < i; ++j) {
        if (workers[j].options.cpu == o.cpu) {
          errors_.Add(arr->get(i), Cat("workers[", i, "].cpu"),
                      absl::StrFormat("cpu %d is also used by workers[%d]; a spinning worker "
                                      "needs a core of its own",
                                      o.cpu, j));
        }
      }
    }
    if (spinning > static_cast<int>(cpus_.size())) {
      errors_.Add(node, "workers",
                  absl::StrFormat("%d workers wait by \"spin\" but only %d cpus are available; "
                                  "use \"spin_yield\" or \"block\" for some",
                                  spinning, cpus_.size()));
    }
    cfg_.workers = std::move(workers);
  }

  void ReadOps(Section& s) {
    OpsConfig& o = cfg_.ops;
    if (s.String("listen", &o.listen, false) && !IsLoopbackLiteral(o.listen)) {
      s.Error(s.table()->get("listen"), "listen",
              absl::StrFormat("\"%s\" is not a loopback address; the operations endpoint only "
                              "listens on 127.0.0.1, ::1 or localhost",
                              o.listen));
    }
    int64_t port = 0;
    if (s.Int("port", &port, 0, 65535)) o.port = static_cast<uint16_t>(port);
    int64_t max = 0;
    if (s.Int("max_request_bytes", &max, 512, 1 << 20)) o.max_request_bytes = max;
    const bool file_given = s.String("token_file", &o.token_file, false);
    if (s.String("token_env", &o.token_env, false) && !ValidEnvName(o.token_env)) {
      s.Error(s.table()->get("token_env"), "token_env",
              absl::StrFormat("\"%s\" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
                              o.token_env));
    }
    if (file_given && !o.token_env.empty()) {
      s.Error(s.table()->get("token_env"), "token_env",
              "set either token_file or token_env, not both");
    }
    s.Bool("kill_without_token", &o.kill_without_token);
    // A token pasted into the file: refuse it without echoing it.
    for (std::string_view key : {"token", "bearer_token", "secret"}) {
      if (s.table() != nullptr) {
        if (const toml::node* n = s.table()->get(key)) {
          s.Get(key);  // reported here, not again as unknown
          s.Error(n, key,
                  "the token is never read from the configuration file; put it in a file "
                  "(token_file, mode 0600) or an environment variable (token_env)");
        }
      }
    }
    s.Finish();
  }

  void ReadReconcile(Section& s) {
    ReconcileConfig& r = cfg_.reconcile;
    s.Enum<bool>("foreign_orders", {{"report", false}, {"cancel", true}}, &r.cancel_foreign_orders);
    s.Int("unacked_grace_ms", &r.unacked_grace_ms, 0, 600'000);
    s.Finish();
  }

  void ReadLog(Section& s) {
    LogConfig& l = cfg_.log;
    s.Enum<LogLevel>("level",
                     {{"debug", LogLevel::kDebug},
                      {"info", LogLevel::kInfo},
                      {"warn", LogLevel::kWarn},
                      {"error", LogLevel::kError}},
                     &l.level);
    s.String("file", &l.file);
    int64_t cap = 0;
    if (s.Int("queue_capacity", &cap, 1024, 1 << 24)) l.queue_capacity = cap;
    s.Finish();
  }

  void CrossCheck() {
    const VenueConfig& v = cfg_.venue;
    const CredentialsConfig& c = v.credentials;
    if (!c.key_file.empty() && !c.private_key_env.empty()) {
      errors_.Add(nullptr, "venue.credentials", "set either key_file or private_key_env, not both");
    }
    if (!c.key_name.empty() && !c.key_name_env.empty()) {
      errors_.Add(nullptr, "venue.credentials", "set either key_name or key_name_env, not both");
    }
    if (v.kind == VenueKind::kCoinbase) {
      if (c.key_file.empty() && c.private_key_env.empty()) {
        errors_.Add(nullptr, "venue.credentials",
                    "kind \"coinbase\" needs a private key: key_file or private_key_env");
      }
      if (!c.private_key_env.empty() && c.key_name.empty() && c.key_name_env.empty()) {
        errors_.Add(nullptr, "venue.credentials",
                    "with private_key_env, give the key name too (key_name or key_name_env)");
      }
      for (auto [host, port, key] : {std::tuple{v.rest_host, v.rest_port, "rest_port"},
                                     std::tuple{v.ws_host, v.ws_port, "ws_port"},
                                     std::tuple{v.user_ws_host, v.user_ws_port, "user_ws_port"}}) {
        (void)host;
        if (port == 0) errors_.Add(nullptr, Cat("venue.", key), "must be > 0");
      }
    } else if (!cfg_.sim.embedded) {
      if (v.rest_port == 0 || v.ws_port == 0) {
        errors_.Add(nullptr, "venue",
                    "an external simulator ([sim] embedded = false) needs rest_port and ws_port");
      }
    }
    if (cfg_.journal.enabled && cfg_.journal.options.dir.empty()) {
      errors_.Add(nullptr, "journal.dir", "must not be empty");
    }
    // What the risk stage will check anyway, caught at start with a path.
    if (absl::Status s = cfg_.risk.Validate(); !s.ok()) {
      errors_.Add(nullptr, "risk", Cat("invalid limits: ", s.message()));
    }
    for (size_t i = 0; i < cfg_.instruments.size(); ++i) {
      absl::StatusOr<std::unique_ptr<Strategy>> st = MakeStrategy(MakeStrategyConfig(cfg_, i, 1));
      if (!st.ok()) {
        errors_.Add(nullptr, "strategy",
                    absl::StrFormat("instruments[%d] \"%s\": %s", i, cfg_.instruments[i].symbol,
                                    st.status().message()));
      }
    }
  }

  Errors errors_;
  std::vector<int> cpus_;
  EngineConfig cfg_;
  bool instruments_given_ = false;
};

}  // namespace

std::vector<WorkerConfig> DefaultWorkers(std::span<const int> cpus_in) {
  std::vector<int> cpus(cpus_in.begin(), cpus_in.end());
  std::sort(cpus.begin(), cpus.end());
  if (cpus.empty()) cpus.push_back(0);
  const size_t n = cpus.size();
  auto worker = [](std::string name, int cpu, WaitStrategy wait, std::vector<StageKind> stages) {
    WorkerConfig w;
    w.options.name = std::move(name);
    w.options.cpu = cpu;
    w.options.wait = wait;
    w.stages = std::move(stages);
    return w;
  };
  std::vector<WorkerConfig> out;
  if (n == 1) {
    out.push_back(
        worker("engine", -1, WaitStrategy::kSpinYield,
               {StageKind::kFeed, StageKind::kSignal, StageKind::kRisk, StageKind::kOrder}));
  } else if (n == 2 || n == 3) {
    const WaitStrategy wait = n == 2 ? WaitStrategy::kSpinYield : WaitStrategy::kSpin;
    out.push_back(worker("feed", cpus[n - 2], wait, {StageKind::kFeed}));
    out.push_back(worker("trade", cpus[n - 1], wait,
                         {StageKind::kSignal, StageKind::kRisk, StageKind::kOrder}));
  } else {
    const size_t first = n - 4;
    for (int s = 0; s < kStageCount; ++s) {
      const StageKind k = static_cast<StageKind>(s);
      out.push_back(
          worker(std::string(StageKindName(k)), cpus[first + s], WaitStrategy::kSpin, {k}));
    }
  }
  return out;
}

std::vector<WorkerConfig> DefaultWorkers(int cpus) {
  std::vector<int> ids;
  for (int i = 0; i < std::max(cpus, 1); ++i) ids.push_back(i);
  return DefaultWorkers(ids);
}

EngineConfig DefaultEngineConfig(std::span<const int> cpus) {
  EngineConfig c;
  InstrumentConfig btc;
  btc.symbol = "BTC-USD";
  btc.tick_size = "0.01";
  btc.lot_size = "0.00000001";
  btc.price_scale = 2;
  btc.size_scale = 8;
  btc.tick = 1;
  btc.lot = 1;
  btc.depth = 10;
  // Quotes $2 either side of the microprice and requotes when the target moved $1: tight enough
  // to be filled in the simulated market, slow enough to stay well inside the venue's (and the
  // risk throttle's) message rate.
  btc.strategy_params = {{"order_size", "0.001"},  {"half_spread_ticks", "200"},
                         {"requote_ticks", "100"}, {"skew_ticks", "10"},
                         {"max_position", "0.01"}, {"post_only", "true"}};
  FillTypedParams(StrategyKind::kMarketMaker, btc);
  c.instruments.push_back(btc);
  c.strategy = StrategyKind::kMarketMaker;

  RiskConfig& r = c.risk;
  r.notional_scale = 10;
  InstrumentRisk ir;
  ir.price_scale = 2;
  ir.size_scale = 8;
  ir.fee_scale = 10;
  ir.tick_size = 1;
  ir.lot_size = 1;
  ir.max_order_size = 1'000'000;             // 0.01 BTC
  ir.max_order_notional = 2'000'0000000000;  // 2000 USD at scale 10
  ir.collar_reference = CollarReference::kMid;
  ir.collar_bps = 500;
  ir.max_long = 5'000'000;  // 0.05 BTC
  ir.max_short = 5'000'000;
  ir.max_open_orders = 10;
  ir.allow_market_orders = false;
  r.instruments.push_back(ir);
  r.max_gross_notional = 50'000'0000000000;  // 50 000 USD
  r.capital = 100'000'0000000000;            // 100 000 USD
  r.max_open_orders_total = 50;
  // Below the venue's own limit (Coinbase Advanced Trade private REST: 30 requests/s; the simulated
  // venue enforces the same), so the engine throttles itself instead of collecting 429 rejects.
  r.throttle_max_msgs = 25;
  r.throttle_window_ns = 1'000'000'000;
  r.duplicate_window_ns = 0;
  r.self_match_prevention = true;
  r.max_daily_loss = 1'000'0000000000;  // 1000 USD
  r.working_capacity = 4096;

  BreakerConfig& b = r.breaker;
  b.stale_after_ns = 5'000'000'000;
  b.reject_burst_count = 10;
  b.reject_burst_window_ns = 1'000'000'000;
  b.price_move_bps = 500;
  b.price_move_window_ns = 1'000'000'000;
  b.cooldown_ns = 5'000'000'000;

  c.workers = DefaultWorkers(cpus);
  return c;
}

EngineConfig DefaultEngineConfig(int cpus) {
  std::vector<int> ids;
  for (int i = 0; i < std::max(cpus, 1); ++i) ids.push_back(i);
  return DefaultEngineConfig(ids);
}

StrategyConfig MakeStrategyConfig(const EngineConfig& config, size_t index, uint32_t strategy_id) {
  const InstrumentConfig& inst = config.instruments[index];
  StrategyConfig s;
  s.type = std::string(StrategyKindName(config.strategy));
  s.strategy_id = strategy_id;
  s.instrument = inst.Spec(static_cast<InstrumentId>(index));
  for (const auto& [k, v] : inst.strategy_params) s.params[k] = v;
  return s;
}

absl::StatusOr<EngineConfig> LoadEngineConfig(std::string_view toml_text,
                                              std::string_view source_name,
                                              const LoadOptions& options) {
  std::vector<int> cpus = options.cpus.empty() ? AllowedCpus() : options.cpus;
  if (cpus.empty()) cpus.push_back(0);
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: TOML syntax error: %s",
                                                      source_name, e.source().begin.line,
                                                      e.source().begin.column, e.description()));
  }
  Loader loader{std::string(source_name), std::move(cpus)};
  return loader.Load(root);
}

absl::StatusOr<EngineConfig> LoadEngineConfigFile(const std::string& path,
                                                  const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::string msg = absl::StrFormat("cannot read configuration %s: %s", path, std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InternalError(msg);
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::InternalError(Cat("error reading configuration ", path));
  return LoadEngineConfig(text, path, options);
}

}  // namespace nzeza::app
