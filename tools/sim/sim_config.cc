#include "sim_config.h"

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"

namespace nzeza::sim {
namespace {

absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

const char* TypeName(const toml::node& n) {
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
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// A decimal string as the venue publishes them: digits, at most one '.', digits after it.
bool IsDecimal(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digits && s.back() != '.';
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  absl::Status Error(std::string_view key, std::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", Av(key), ": ", Av(problem)));
  }

  // Every key of `t` must be in `known`.
  absl::Status OnlyKnown(const toml::table& t, std::string_view prefix,
                         std::initializer_list<std::string_view> known) const {
    for (auto&& [k, v] : t) {
      bool ok = false;
      for (std::string_view n : known) ok = ok || k.str() == n;
      if (!ok) {
        std::string list;
        for (std::string_view n : known) absl::StrAppend(&list, list.empty() ? "" : ", ", Av(n));
        return Error(absl::StrCat(Av(prefix), Av(k.str())),
                     absl::StrCat("unknown key (expected one of: ", list, ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Int(const toml::table& t, std::string_view prefix, std::string_view key, int64_t min,
                   int64_t max, int64_t* out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return absl::OkStatus();
    const std::string name = absl::StrCat(Av(prefix), Av(key));
    if (!n->is_integer()) {
      return Error(name, absl::StrCat("expected an integer, got ", TypeName(*n)));
    }
    const int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      return Error(name, absl::StrCat("must be between ", min, " and ", max, ", got ", v));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Str(const toml::table& t, std::string_view prefix, std::string_view key,
                   std::string* out, bool non_empty = false) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return absl::OkStatus();
    const std::string name = absl::StrCat(Av(prefix), Av(key));
    if (!n->is_string()) return Error(name, absl::StrCat("expected a string, got ", TypeName(*n)));
    std::string v = n->as_string()->get();
    if (non_empty && v.empty()) return Error(name, "must not be empty");
    *out = std::move(v);
    return absl::OkStatus();
  }

  absl::Status Dec(const toml::table& t, std::string_view prefix, std::string_view key,
                   std::string* out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return absl::OkStatus();
    const std::string name = absl::StrCat(Av(prefix), Av(key));
    if (!n->is_string()) {
      return Error(name, absl::StrCat("expected a decimal string like \"0.01\", got ", TypeName(*n),
                                      n->is_floating_point() ? " (floats lose precision)" : ""));
    }
    const std::string& v = n->as_string()->get();
    if (!IsDecimal(v)) {
      return Error(name, absl::StrCat("\"", v, "\" is not a non-negative decimal like \"0.01\""));
    }
    *out = v;
    return absl::OkStatus();
  }

  // A sub-table (nullptr when absent).
  absl::StatusOr<const toml::table*> Table(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return Error(key, absl::StrCat("expected a table, got ", TypeName(*n)));
    return n->as_table();
  }

  // An array of tables ([[key]]); nullptr when absent.
  absl::StatusOr<const toml::array*> Tables(const toml::table& t, std::string_view key,
                                            std::string_view prefix) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return static_cast<const toml::array*>(nullptr);
    const std::string name = absl::StrCat(Av(prefix), Av(key));
    if (!n->is_array()) {
      return Error(name, absl::StrCat("expected an array of tables ([[", Av(key), "]]), got ",
                                      TypeName(*n)));
    }
    const toml::array* a = n->as_array();
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_table()) {
        return Error(absl::StrCat(name, "[", i, "]"),
                     absl::StrCat("expected a table, got ", TypeName((*a)[i])));
      }
    }
    return a;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

absl::StatusOr<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read \"", path, "\""));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Resolve(const std::string& config_path, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const size_t slash = config_path.rfind('/');
  if (slash == std::string::npos) return path;
  return config_path.substr(0, slash + 1) + path;
}

constexpr int64_t kMaxI = std::numeric_limits<int64_t>::max();

absl::Status ReadTop(const Reader& r, const toml::table& t, SimVenueOptions* o) {
  if (absl::Status s = r.OnlyKnown(
          t, "",
          {"seed", "maker_fee_bps", "taker_fee_bps", "rest_rate_limit_per_sec",
           "heartbeat_interval_ms", "model_step_us", "server", "products", "api_keys", "faults"});
      !s.ok()) {
    return s;
  }
  SimConfig& c = o->config;
  int64_t seed = static_cast<int64_t>(c.seed);
  int64_t hb_ms = c.heartbeat_interval_ns / 1'000'000;
  int64_t step_us = c.model_step_ns / 1000;
  for (absl::Status s :
       {r.Int(t, "", "seed", 0, kMaxI, &seed),
        r.Int(t, "", "maker_fee_bps", -10'000, 10'000, &c.maker_fee_bps),
        r.Int(t, "", "taker_fee_bps", -10'000, 10'000, &c.taker_fee_bps),
        r.Int(t, "", "rest_rate_limit_per_sec", 1, 1'000'000, &c.rest_rate_limit_per_sec),
        r.Int(t, "", "heartbeat_interval_ms", 1, 3'600'000, &hb_ms),
        r.Int(t, "", "model_step_us", 1, 1'000'000, &step_us)}) {
    if (!s.ok()) return s;
  }
  c.seed = static_cast<uint64_t>(seed);
  c.heartbeat_interval_ns = hb_ms * 1'000'000;
  c.model_step_ns = step_us * 1000;
  return absl::OkStatus();
}

absl::Status ReadServer(const Reader& r, const toml::table& t, SimVenueOptions* o) {
  if (absl::Status s = r.OnlyKnown(t, "server.",
                                   {"ws_port", "rest_port", "admin_port", "cert_file", "key_file",
                                    "cert_out", "jwt_host", "tick_us", "bind_address"});
      !s.ok()) {
    return s;
  }
  int64_t ws = o->ws_port, rest = o->rest_port, admin = o->admin_port;
  int64_t tick_us = o->tick_ns / 1000;
  std::string cert_file, key_file;
  for (absl::Status s : {r.Int(t, "server.", "ws_port", 0, 65535, &ws),
                         r.Int(t, "server.", "rest_port", 0, 65535, &rest),
                         r.Int(t, "server.", "admin_port", 0, 65535, &admin),
                         r.Int(t, "server.", "tick_us", 10, 1'000'000, &tick_us),
                         r.Str(t, "server.", "cert_file", &cert_file, true),
                         r.Str(t, "server.", "key_file", &key_file, true),
                         r.Str(t, "server.", "cert_out", &o->ca_out_path, true),
                         r.Str(t, "server.", "jwt_host", &o->jwt_host),
                         r.Str(t, "server.", "bind_address", &o->bind_address, true)}) {
    if (!s.ok()) return s;
  }
  if (cert_file.empty() != key_file.empty()) {
    return r.Error(cert_file.empty() ? "server.cert_file" : "server.key_file",
                   "cert_file and key_file go together (or neither, to generate a certificate)");
  }
  o->cert.cert_file = Resolve(r.file(), cert_file);
  o->cert.key_file = Resolve(r.file(), key_file);
  o->ca_out_path = Resolve(r.file(), o->ca_out_path);
  o->ws_port = static_cast<uint16_t>(ws);
  o->rest_port = static_cast<uint16_t>(rest);
  o->admin_port = static_cast<uint16_t>(admin);
  o->tick_ns = tick_us * 1000;
  return absl::OkStatus();
}

absl::Status ReadProducts(const Reader& r, const toml::array& a, SimVenueOptions* o) {
  o->config.products.clear();
  if (a.empty()) return r.Error("products", "at least one [[products]] table is needed");
  for (size_t i = 0; i < a.size(); ++i) {
    const toml::table& t = *a[i].as_table();
    const std::string p = absl::StrCat("products[", i, "].");
    if (absl::Status s =
            r.OnlyKnown(t, p,
                        {"product_id", "price_increment", "base_increment", "base_min_size",
                         "base_max_size", "start_price", "volatility_bps",
                         "participant_orders_per_sec", "seed_levels", "participant_max_size"});
        !s.ok()) {
      return s;
    }
    SimProductConfig pc;
    for (absl::Status s :
         {r.Str(t, p, "product_id", &pc.product_id, true),
          r.Dec(t, p, "price_increment", &pc.price_increment),
          r.Dec(t, p, "base_increment", &pc.base_increment),
          r.Dec(t, p, "base_min_size", &pc.base_min_size),
          r.Dec(t, p, "base_max_size", &pc.base_max_size),
          r.Dec(t, p, "start_price", &pc.start_price),
          r.Dec(t, p, "participant_max_size", &pc.participant_max_size),
          r.Int(t, p, "volatility_bps", 0, 10'000, &pc.volatility_bps),
          r.Int(t, p, "participant_orders_per_sec", 0, 1'000'000, &pc.participant_orders_per_sec),
          r.Int(t, p, "seed_levels", 0, 100'000, &pc.seed_levels)}) {
      if (!s.ok()) return s;
    }
    if (t.get("product_id") == nullptr) return r.Error(p + "product_id", "missing");
    for (const SimProductConfig& prev : o->config.products) {
      if (prev.product_id == pc.product_id) {
        return r.Error(p + "product_id", absl::StrCat("duplicate product \"", pc.product_id, "\""));
      }
    }
    o->config.products.push_back(std::move(pc));
  }
  return absl::OkStatus();
}

absl::Status ReadKeys(const Reader& r, const toml::array& a, SimVenueOptions* o) {
  for (size_t i = 0; i < a.size(); ++i) {
    const toml::table& t = *a[i].as_table();
    const std::string p = absl::StrCat("api_keys[", i, "].");
    if (absl::Status s = r.OnlyKnown(
            t, p,
            {"key_name", "public_key_file", "public_key_pem", "quote_balance", "base_balance"});
        !s.ok()) {
      return s;
    }
    SimApiKey k;
    std::string file;
    for (absl::Status s :
         {r.Str(t, p, "key_name", &k.key_name, true), r.Str(t, p, "public_key_file", &file, true),
          r.Str(t, p, "public_key_pem", &k.public_key_pem, true),
          r.Dec(t, p, "quote_balance", &k.quote_balance),
          r.Dec(t, p, "base_balance", &k.base_balance)}) {
      if (!s.ok()) return s;
    }
    if (k.key_name.empty()) return r.Error(p + "key_name", "missing");
    if (file.empty() == k.public_key_pem.empty()) {
      return r.Error(p + "public_key_file",
                     "give exactly one of public_key_file and public_key_pem");
    }
    if (!file.empty()) {
      absl::StatusOr<std::string> pem = ReadText(Resolve(r.file(), file));
      if (!pem.ok()) {
        return r.Error(p + "public_key_file", std::string(pem.status().message()));
      }
      k.public_key_pem = std::move(*pem);
    }
    if (k.public_key_pem.find("-----BEGIN") == std::string::npos) {
      return r.Error(p + (file.empty() ? "public_key_pem" : "public_key_file"),
                     "not a PEM key (no -----BEGIN line)");
    }
    for (const SimApiKey& prev : o->config.api_keys) {
      if (prev.key_name == k.key_name) {
        return r.Error(p + "key_name", absl::StrCat("duplicate key \"", k.key_name, "\""));
      }
    }
    o->config.api_keys.push_back(std::move(k));
  }
  return absl::OkStatus();
}

absl::Status ReadFaults(const Reader& r, const toml::table& t, SimVenueOptions* o) {
  if (absl::Status s =
          r.OnlyKnown(t, "faults.",
                      {"latency_ms", "list_lag_ms", "reject_next_orders", "schedule", "gap_every_n",
                       "duplicate_every_n", "malformed_every_n", "reject_every_n"});
      !s.ok()) {
    return s;
  }
  int64_t latency = 0, list_lag = 0, reject = 0;
  RecurringFaults& every = o->recurring;
  constexpr int64_t kMaxN = 1'000'000'000;
  for (absl::Status s :
       {r.Int(t, "faults.", "latency_ms", 0, 3'600'000, &latency),
        r.Int(t, "faults.", "list_lag_ms", 0, 3'600'000, &list_lag),
        r.Int(t, "faults.", "reject_next_orders", 0, kMaxN, &reject),
        r.Int(t, "faults.", "gap_every_n", 0, kMaxN, &every.gap_every_n),
        r.Int(t, "faults.", "duplicate_every_n", 0, kMaxN, &every.duplicate_every_n),
        r.Int(t, "faults.", "malformed_every_n", 0, kMaxN, &every.malformed_every_n),
        r.Int(t, "faults.", "reject_every_n", 0, kMaxN, &every.reject_every_n)}) {
    if (!s.ok()) return s;
  }
  if (latency > 0) o->faults.push_back({.fault = {.type = FaultType::kLatency, .ms = latency}});
  if (reject > 0) o->faults.push_back({.fault = {.type = FaultType::kReject, .count = reject}});
  if (list_lag > 0) {
    o->faults.push_back({.fault = {.type = FaultType::kListLag, .ms = list_lag}});
  }
  absl::StatusOr<const toml::array*> sched = r.Tables(t, "schedule", "faults.");
  if (!sched.ok()) return sched.status();
  if (*sched == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < (*sched)->size(); ++i) {
    const toml::table& f = *(**sched)[i].as_table();
    const std::string p = absl::StrCat("faults.schedule[", i, "].");
    if (absl::Status s = r.OnlyKnown(f, p, {"type", "at_ms", "every_ms", "ms", "count", "key"});
        !s.ok()) {
      return s;
    }
    ScheduledFault sf;
    std::string type;
    for (absl::Status s :
         {r.Str(f, p, "type", &type, true), r.Int(f, p, "at_ms", 0, kMaxI / 1'000'000, &sf.at_ms),
          r.Int(f, p, "every_ms", 0, kMaxI / 1'000'000, &sf.every_ms),
          r.Int(f, p, "ms", 0, 3'600'000, &sf.fault.ms),
          r.Int(f, p, "count", 0, 1'000'000'000, &sf.fault.count),
          r.Str(f, p, "key", &sf.fault.key)}) {
      if (!s.ok()) return s;
    }
    if (type.empty()) return r.Error(p + "type", "missing");
    absl::StatusOr<FaultType> ft = ParseFaultType(type);
    if (!ft.ok()) {
      return r.Error(p + "type",
                     absl::StrCat("unknown fault \"", type, "\" (one of ", FaultTypeNames(), ")"));
    }
    sf.fault.type = *ft;
    o->faults.push_back(sf);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SimVenueOptions> LoadSimConfigFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the configuration file"));
  }
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.source().begin.line, ":",
                                                   e.source().begin.column,
                                                   ": TOML syntax: ", Av(e.description())));
  }
  const Reader r(path);
  SimVenueOptions o;
  if (absl::Status s = ReadTop(r, root, &o); !s.ok()) return s;
  absl::StatusOr<const toml::table*> server = r.Table(root, "server");
  if (!server.ok()) return server.status();
  if (*server != nullptr) {
    if (absl::Status s = ReadServer(r, **server, &o); !s.ok()) return s;
  }
  absl::StatusOr<const toml::array*> products = r.Tables(root, "products", "");
  if (!products.ok()) return products.status();
  if (*products != nullptr) {
    if (absl::Status s = ReadProducts(r, **products, &o); !s.ok()) return s;
  }
  absl::StatusOr<const toml::array*> keys = r.Tables(root, "api_keys", "");
  if (!keys.ok()) return keys.status();
  if (*keys != nullptr) {
    if (absl::Status s = ReadKeys(r, **keys, &o); !s.ok()) return s;
  }
  absl::StatusOr<const toml::table*> faults = r.Table(root, "faults");
  if (!faults.ok()) return faults.status();
  if (*faults != nullptr) {
    if (absl::Status s = ReadFaults(r, **faults, &o); !s.ok()) return s;
  }
  return o;
}

}  // namespace nzeza::sim
